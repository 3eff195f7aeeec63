"""The AVA3 Python API, for build scripts and for runtimes on desktop.

Functions: :func:`keygen`, :func:`encode` (one model), :func:`encode_tree`
(a folder, with its manifest), :func:`verify`, :func:`inspect` (no key),
:func:`open` (a :class:`Reader`: random access, no plaintext on disk).
Keys: :class:`Key`, :class:`KeyRing`. Results: :class:`EncodeResult`,
:class:`TreeReport`, :class:`VerifyReport`, :class:`HeaderInfo`. Failures:
the exceptions of :mod:`ava_toolchain.errors` (one per outcome of the
spec, all under ``Ava3Error``), also importable from here; I/O errors are
Python's own ``OSError`` subclasses; Ctrl-C stops a long call with
``KeyboardInterrupt`` and leaves no partial output (a tree keeps what it
completed).

Encode and check::

    from ava_toolchain import ava3

    key = ava3.Key.from_file("dev.key")
    ava3.encode("model.amg", "model.amg.ava3", key=key)
    ava3.encode_tree("models/", "encoded/", key=key)   # with the manifest
    ava3.verify("model.amg.ava3", keys=key, deep=True)
    ava3.inspect("model.amg.ava3").key_id              # no key needed

Read a protected model, never writing plaintext to disk::

    with ava3.open("model.amg.ava3", keys=key) as r:
        buf = bytearray(r.size)
        r.readinto(buf)              # straight into the buffer, all cores
        r.read_at(4096, bytearray(65536))   # from any thread at once

All crypto and I/O is the Rust core; every call releases the GIL. Errors
are the exceptions of :mod:`ava_toolchain.errors`.
"""

import io
import os
from typing import Any, Iterable, Iterator, Optional, Union

from . import errors
from ._native import (
    EncodeResult,
    HeaderInfo,
    Key,
    NativeReader,
    TreeEntry,
    TreeReport,
    VerifyReport,
)
from ._native import encode as _encode
from ._native import encode_tree as _encode_tree
from ._native import inspect as _inspect
from ._native import keygen as _keygen
from ._native import verify as _verify
from .errors import (  # noqa: F401  (the exceptions, here too)
    Ava3Error,
    BatchFailure,
    BlockFailure,
    HeaderFailure,
    IntegrityFailure,
    BadSignature,
    UnknownSigner,
    Unsigned,
    NameMismatch,
    Rollback,
    InvalidInput,
    NotAva3,
    TrailerFailure,
    TrailingData,
    Truncated,
    UnsupportedVersion,
    UsageError,
    WrongKey,
)

__all__ = [
    "Key",
    "KeyRing",
    "Reader",
    "open",
    "keygen",
    "encode",
    "encode_tree",
    "verify",
    "inspect",
    "EncodeResult",
    "HeaderInfo",
    "TreeEntry",
    "TreeReport",
    "VerifyReport",
]

PathLike = Union[str, os.PathLike[str]]
#: Trusted publisher keys: a public key as bytes (32 raw bytes, or PEM or
#: hex text), the path of a public key file, or an iterable of them.
Signers = Union[bytes, PathLike, Iterable[Union[bytes, PathLike]]]
#: A writable contiguous buffer: bytearray, memoryview, mmap, numpy array.
WritableBuffer = Any
#: A path, an open binary file, a descriptor or a bytes-like object.
Source = Any


class KeyRing:
    """Keys by key id: a file is opened with the key whose id it records."""

    def __init__(self, keys: Iterable[Key] = ()) -> None:
        self._keys: "dict[str, Key]" = {}
        for k in keys:
            self.add(k)

    @classmethod
    def from_files(cls, *paths: PathLike) -> "KeyRing":
        """The keys of these key files."""
        return cls(Key.from_file(p) for p in paths)

    def add(self, key: Key) -> None:
        if not isinstance(key, Key):
            raise TypeError("a KeyRing holds Key objects")
        self._keys[key.key_id] = key

    def __getitem__(self, key_id: str) -> Key:
        return self._keys[key_id.lower()]

    def __contains__(self, key_id: object) -> bool:
        return isinstance(key_id, str) and key_id.lower() in self._keys

    def __iter__(self) -> Iterator[Key]:
        return iter(self._keys.values())

    def __len__(self) -> int:
        return len(self._keys)

    @property
    def key_ids(self) -> "list[str]":
        return list(self._keys)

    def __repr__(self) -> str:
        return f"KeyRing(key_ids={self.key_ids!r})"


#: Master keys: a Key, a KeyRing, or an iterable of Key.
Keys = Union[Key, KeyRing, Iterable[Key]]


class Reader(io.RawIOBase):
    """A protected model opened for reading: an ``io.RawIOBase`` over the
    plaintext (``readinto``, ``read``, ``seek``, ``tell``), with
    ``read_at`` safe from many threads at once, and the authenticated
    header's properties. Every block is authenticated before a byte of it
    reaches the caller; on a failure nothing of the read is returned
    (the buffer is wiped) and the exception names the block.
    """

    def __init__(self, native: NativeReader) -> None:
        super().__init__()
        self._native = native
        self._pos = 0

    # io.RawIOBase
    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def readinto(self, buffer: WritableBuffer) -> int:
        """Reads into ``buffer`` (a ``bytearray``, writable ``memoryview``,
        ``mmap`` or C-contiguous numpy array) with no extra copy; returns
        the bytes read (0 at the end)."""
        n = self._native.read_at(self._pos, buffer)
        self._pos += n
        return n

    def readall(self) -> bytes:
        buf = bytearray(max(0, self.size - self._pos))
        n = self.readinto(buf)
        return bytes(buf[:n]) if n != len(buf) else bytes(buf)

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if self.closed:
            raise ValueError("I/O operation on a closed AVA3 reader")
        if whence == io.SEEK_SET:
            pos = offset
        elif whence == io.SEEK_CUR:
            pos = self._pos + offset
        elif whence == io.SEEK_END:
            pos = self.size + offset
        else:
            raise ValueError(f"invalid whence {whence}")
        if pos < 0:
            raise ValueError(f"negative seek position {pos}")
        self._pos = pos
        return pos

    def tell(self) -> int:
        if self.closed:
            raise ValueError("I/O operation on a closed AVA3 reader")
        return self._pos

    def close(self) -> None:
        if not self.closed:
            self._native.close()
        super().close()

    # AVA3
    def read_at(self, offset: int, buffer: WritableBuffer) -> int:
        """Reads the plaintext at ``offset`` into ``buffer``; returns the
        bytes read (fewer only at the end). Safe from several threads at
        once; the position of ``readinto`` is not used or moved."""
        return self._native.read_at(offset, buffer)

    def to_memfd(self) -> int:
        """The whole plaintext in a sealed, read-only anonymous memory file
        (Linux and Android), for loaders that take only a path or a
        descriptor: open ``/proc/self/fd/N``. Returns the descriptor; the
        caller closes it (``os.close``)."""
        return self._native.to_memfd()

    @property
    def name(self) -> str:
        return self._native.name

    @property
    def size(self) -> int:
        """Plaintext bytes."""
        return self._native.size

    @property
    def payload_kind(self) -> str:
        """``mlc``, ``gguf``, ``litert`` or ``unknown``."""
        return self._native.payload_kind

    @property
    def block_size(self) -> int:
        return self._native.block_size

    @property
    def format_version(self) -> int:
        return self._native.format_version

    @property
    def key_id(self) -> str:
        return self._native.key_id

    @property
    def plaintext_sha256(self) -> str:
        """The plaintext SHA-256 the encoder recorded (authenticated)."""
        return self._native.plaintext_sha256

    @property
    def keyless_sha256(self) -> str:
        return self._native.keyless_sha256

    def __repr__(self) -> str:
        state = "closed" if self.closed else f"size={self.size}"
        return f"<ava3.Reader {self.name!r} {state}>"


def open(  # noqa: A001 (like io.open)
    source: Source,
    *,
    keys: Keys,
    signers: Optional[Signers] = None,
    name: Optional[str] = None,
    min_version: Optional[int] = None,
) -> Reader:
    """Opens a protected model: ``source`` is a path, an open binary file
    or a descriptor (duplicated and read by offset: its position is left
    alone), or a bytes-like object (read in place; a ``bytearray`` cannot
    be resized while the reader is open). The header and the trailer are
    authenticated here, before any block is read.

    ``signers`` (a public key as ``bytes``, or the path of a ``.pub`` file,
    or several) requires a valid publisher signature by one of them: every
    tag is read and the signature checked here, and each block read must
    carry its signed tag. ``name`` and ``min_version`` require the
    authenticated model name and a minimum model version (``NameMismatch``,
    ``Rollback``)."""
    return Reader(NativeReader(source, keys, signers=signers, name=name, min_version=min_version))


def keygen(path: PathLike) -> Key:
    """``ava3 keygen -o PATH``: a new key in a new file (mode 0600; an
    existing file is never replaced)."""
    return _keygen(path)


def encode(
    src: PathLike,
    dst: PathLike,
    *,
    key: Key,
    kind: Optional[str] = None,
    block_size: int = 65536,
    force: bool = False,
    allow_mismatch: bool = False,
    threads: Optional[int] = None,
    sign: Union[PathLike, Iterable[PathLike], None] = None,
    name: Optional[str] = None,
    model_version: Optional[int] = None,
) -> EncodeResult:
    """``ava3 encode SRC -o DST``: the same checks (kind from the extension
    or the content, AVA3 input refused, an existing ``dst`` kept unless
    ``force``) and the same atomic output: ``dst`` appears only complete.
    ``sign`` (``--sign``): the path of a publisher's signing key file
    (``ava3 keygen --signing``), or several, each signing the output;
    ``name`` and ``model_version`` (``--name``, ``--model-version``) are
    recorded in the authenticated header for readers to require."""
    return _encode(
        src,
        dst,
        key=key,
        kind=kind,
        block_size=block_size,
        force=force,
        allow_mismatch=allow_mismatch,
        threads=threads,
        sign=sign,
        name=name,
        model_version=model_version,
    )


def encode_tree(
    src_dir: PathLike,
    dst_dir: PathLike,
    *,
    key: Key,
    manifest: Optional[PathLike] = None,
    kind: Optional[str] = None,
    block_size: int = 65536,
    force: bool = False,
    allow_mismatch: bool = False,
    threads: Optional[int] = None,
    sign: Union[PathLike, Iterable[PathLike], None] = None,
    model_version: Optional[int] = None,
) -> TreeReport:
    """``ava3 encode SRC_DIR --batch -o DST_DIR``: every ``.amm``, ``.amg``
    and ``.amr`` below ``src_dir``, in parallel, skipping current outputs
    of an earlier run, with the manifest (``dst_dir/ava3-manifest.json``
    unless ``manifest``). When some files fail, the others are still
    encoded, the manifest written, and :class:`BatchFailure` raised with
    the report. ``sign`` signs every output and the manifest
    (``MANIFEST.sig``); ``model_version`` is recorded in each."""
    report = _encode_tree(
        src_dir,
        dst_dir,
        key=key,
        manifest=manifest,
        kind=kind,
        block_size=block_size,
        force=force,
        allow_mismatch=allow_mismatch,
        threads=threads,
        sign=sign,
        model_version=model_version,
    )
    if report.failed:
        first = report.failed[0]
        raise errors.BatchFailure(
            f"{len(report.failed)} of {len(report.failed) + len(report.files)} "
            f"{'file or folder' if len(report.failed) == 1 else 'files or folders'} failed "
            f"(first: {first[0]}: {first[1]})",
            code=1,
            report=report,
        )
    return report


def verify(
    source: Source,
    *,
    keys: Optional[Keys] = None,
    deep: bool = False,
    signers: Optional[Signers] = None,
    name: Optional[str] = None,
    min_version: Optional[int] = None,
) -> VerifyReport:
    """``ava3 verify``: keyless without keys (structure and keyless
    SHA-256: corruption, not tampering), keyed with them (every MAC and
    tag), ``deep`` also decodes everything and recomputes the plaintext
    SHA-256. ``signers`` (``ava3 verify --signer``) requires a valid
    publisher signature, and with no keys checks it with the public key
    alone; ``name`` and ``min_version`` as in :func:`open`. Raises the
    outcome's exception when the file is bad."""
    return _verify(
        source, keys=keys, deep=deep, signers=signers, name=name, min_version=min_version
    )


def inspect(source: Source) -> HeaderInfo:
    """``ava3 inspect``: the header, read without a key (not
    authenticated)."""
    return _inspect(source)
