"""ctypes binding of libava3_decoder for the runtime tests (the same C ABI an
app uses; see ava3-decoder-ffi/include/ava3.h)."""

import ctypes
import os
import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[2]
LIB_PATH = os.environ.get("AVA3_LIB", str(ROOT / "target" / "release" / "libava3_decoder.so"))


class Ava3Error(Exception):
    def __init__(self, code, what):
        msg = ctypes.create_string_buffer(256)
        lib.ava3_result_message(code, msg, 256)
        super().__init__(f"{what}: {msg.value.decode()} ({code})")
        self.code = code


class CacheStats(ctypes.Structure):
    _fields_ = [("hits", ctypes.c_uint64), ("misses", ctypes.c_uint64), ("bytes_decrypted", ctypes.c_uint64)]


lib = ctypes.CDLL(LIB_PATH)
P = ctypes.c_void_p
lib.ava3_result_message.argtypes = [ctypes.c_uint32, ctypes.c_char_p, ctypes.c_size_t]
lib.ava3_decoder_open_path.argtypes = [ctypes.c_char_p, ctypes.POINTER(P)]
lib.ava3_decoder_open_buffer.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.POINTER(P)]
lib.ava3_decoder_set_key.argtypes = [P, ctypes.c_char_p, ctypes.c_size_t]
lib.ava3_decoder_payload_kind.argtypes = [P, ctypes.POINTER(ctypes.c_uint32)]
lib.ava3_decoder_plaintext_size.argtypes = [P, ctypes.POINTER(ctypes.c_uint64)]
lib.ava3_decoder_read_at.argtypes = [P, ctypes.c_uint64, ctypes.c_void_p, ctypes.c_size_t, ctypes.POINTER(ctypes.c_size_t)]
lib.ava3_decoder_decode_aligned.argtypes = [P, ctypes.POINTER(P)]
lib.ava3_decoder_decode_to_memfd.argtypes = [P, ctypes.POINTER(ctypes.c_int)]
lib.ava3_decoder_cache_stats.argtypes = [P, ctypes.POINTER(CacheStats)]
lib.ava3_buffer_data.argtypes = [P]
lib.ava3_buffer_data.restype = ctypes.c_void_p
lib.ava3_buffer_len.argtypes = [P]
lib.ava3_buffer_len.restype = ctypes.c_size_t
lib.ava3_buffer_free.argtypes = [P]
lib.ava3_decoder_free.argtypes = [P]
for f in ("open_path", "open_buffer", "set_key", "payload_kind", "plaintext_size", "read_at",
          "decode_aligned", "decode_to_memfd", "cache_stats"):
    getattr(lib, "ava3_decoder_" + f).restype = ctypes.c_uint32


def check(code, what):
    if code != 0:
        raise Ava3Error(code, what)


class Buffer:
    """A page-aligned plaintext buffer owned by the library."""

    def __init__(self, handle):
        self.handle = handle

    @property
    def address(self):
        return lib.ava3_buffer_data(self.handle)

    def __len__(self):
        return lib.ava3_buffer_len(self.handle)

    def view(self):
        """A writable-free memoryview over the library's memory (no copy)."""
        return memoryview((ctypes.c_ubyte * len(self)).from_address(self.address)).cast("B")

    def close(self):
        lib.ava3_buffer_free(self.handle)
        self.handle = None


class Decoder:
    def __init__(self, path=None, data=None):
        h = P()
        if path is not None:
            check(lib.ava3_decoder_open_path(str(path).encode(), ctypes.byref(h)), f"open {path}")
        else:
            self._data = data  # the library borrows it: keep it alive
            check(lib.ava3_decoder_open_buffer(data, len(data), ctypes.byref(h)), "open buffer")
        self.h = h

    def set_key(self, key: bytes):
        check(lib.ava3_decoder_set_key(self.h, key, len(key)), "set key")

    @property
    def payload_kind(self):
        k = ctypes.c_uint32()
        check(lib.ava3_decoder_payload_kind(self.h, ctypes.byref(k)), "payload kind")
        return k.value

    @property
    def size(self):
        n = ctypes.c_uint64()
        check(lib.ava3_decoder_plaintext_size(self.h, ctypes.byref(n)), "size")
        return n.value

    def read_at(self, offset, length):
        buf = ctypes.create_string_buffer(length)
        got = ctypes.c_size_t()
        check(lib.ava3_decoder_read_at(self.h, offset, buf, length, ctypes.byref(got)), "read_at")
        return buf.raw[: got.value]

    def read_into(self, offset, target):
        """read_at straight into a writable buffer (numpy array, bytearray)."""
        view = memoryview(target).cast("B")
        addr = ctypes.addressof(ctypes.c_char.from_buffer(view))
        got = ctypes.c_size_t()
        check(lib.ava3_decoder_read_at(self.h, offset, addr, len(view), ctypes.byref(got)), "read_at")
        return got.value

    def decode_aligned(self):
        b = P()
        check(lib.ava3_decoder_decode_aligned(self.h, ctypes.byref(b)), "decode aligned")
        return Buffer(b)

    def memfd(self):
        fd = ctypes.c_int(-1)
        check(lib.ava3_decoder_decode_to_memfd(self.h, ctypes.byref(fd)), "memfd")
        return fd.value

    def close(self):
        lib.ava3_decoder_free(self.h)
        self.h = None
