"""One 64 MiB range read, three ways, in one run (alternating rounds):
the C ABI's `ava3_decoder_read_at` of a given library (before and after a
change: give two libraries), the Python package's `Reader.read_at`, and the
core's whole decode of the same bytes (`ava3_decoder_decode_to_buffer`, the
floor). The model lives in /dev/shm; best of N per round, rounds alternate.

    python tests/bench/read_at.py LIB.so [OTHER_LIB.so] [--mib 64] [--runs 15] [--rounds 3]

Needs `ava3` on PATH (to encode) and, for the Python side, the
ava_toolchain package installed in this interpreter.
"""

import argparse
import ctypes
import os
import subprocess
import tempfile
import time

KEY = bytes.fromhex("7dcd0d969bfb71a480cd1c075878464dc9678de1ed782c2da25b6683d31322ed")


def c_reader(lib_path, path, size):
    lib = ctypes.CDLL(lib_path)
    lib.ava3_decoder_open_path.argtypes = [ctypes.c_char_p, ctypes.POINTER(ctypes.c_void_p)]
    lib.ava3_decoder_set_key.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t]
    lib.ava3_decoder_read_at.argtypes = [ctypes.c_void_p, ctypes.c_uint64, ctypes.c_void_p,
                                         ctypes.c_size_t, ctypes.POINTER(ctypes.c_size_t)]
    lib.ava3_decoder_decode_to_buffer.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t]
    d = ctypes.c_void_p()
    assert lib.ava3_decoder_open_path(path.encode(), ctypes.byref(d)) == 0
    assert lib.ava3_decoder_set_key(d, KEY, 32) == 0
    buf = (ctypes.c_uint8 * size)()
    got = ctypes.c_size_t()

    def read_at():
        assert lib.ava3_decoder_read_at(d, 0, buf, size, ctypes.byref(got)) == 0 and got.value == size

    def decode():
        assert lib.ava3_decoder_decode_to_buffer(d, buf, size) == 0

    return read_at, decode


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("libs", nargs="+")
    ap.add_argument("--mib", type=int, default=64)
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--rounds", type=int, default=3)
    a = ap.parse_args()
    size = a.mib << 20
    where = "/dev/shm" if os.path.isdir("/dev/shm") else None
    with tempfile.TemporaryDirectory(dir=where) as tmp:
        plain, enc, key = (os.path.join(tmp, n) for n in ("m.bin", "m.bin.ava3", "k.key"))
        with open(plain, "wb") as f:
            f.write(os.urandom(size))
        with open(key, "w") as f:
            f.write(KEY.hex() + "\n")
        os.chmod(key, 0o600)
        subprocess.run(["ava3", "encode", "-q", "--kind", "unknown", plain, "-o", enc, "--key-file", key], check=True)
        sides = {}
        for i, lib in enumerate(a.libs):
            read_at, decode = c_reader(lib, enc, size)
            sides[f"C read_at [{i}] {os.path.basename(os.path.dirname(os.path.dirname(lib)))}"] = read_at
            if i == len(a.libs) - 1:
                sides["C decode_to_buffer (floor)"] = decode
        try:
            from ava_toolchain import ava3
            r = ava3.open(enc, keys=ava3.Key.from_file(key))
            pbuf = bytearray(size)
            sides["Python Reader.read_at"] = lambda: r.read_at(0, pbuf)
        except ImportError:
            pass
        best = {k: [] for k in sides}
        for rnd in range(a.rounds):
            order = list(sides) if rnd % 2 == 0 else list(reversed(list(sides)))
            for k in order:
                times = []
                for _ in range(a.runs):
                    t = time.perf_counter()
                    sides[k]()
                    times.append(time.perf_counter() - t)
                best[k].append(min(times) * 1000)
        for k, v in best.items():
            print(f"{k:45s} best per round: " + ", ".join(f"{x:.1f}" for x in v) + f" ms; best {min(v):.1f} ms")


if __name__ == "__main__":
    main()
