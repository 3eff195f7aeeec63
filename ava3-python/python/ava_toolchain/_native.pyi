"""Type stubs of the Rust extension ``ava_toolchain._native``."""

import os
from typing import Iterable, List, Optional, Tuple, Union, final

__all__ = [
    "run_cli", "keygen", "encode", "encode_tree", "verify", "inspect", "Key", "NativeReader",
    "HeaderInfo", "VerifyReport", "EncodeResult", "TreeEntry", "TreeReport", "__version__",
    "OUTCOMES",
]
__version__: str
OUTCOMES: List[Tuple[int, str, str]]

_Path = Union[str, "os.PathLike[str]"]
_Keys = Union["Key", Iterable["Key"]]

def run_cli(argv: List[str]) -> int: ...

@final
class Key:
    @staticmethod
    def generate() -> "Key": ...
    @staticmethod
    def from_hex(hex: str) -> "Key": ...
    @staticmethod
    def from_file(path: _Path) -> "Key": ...
    @property
    def key_id(self) -> str: ...

@final
class HeaderInfo:
    format_version: int
    payload_kind: str
    block_size: int
    plaintext_size: int
    blocks: int
    key_id: str
    file_size: int
    expected_file_size: int
    size_check: str
    model_name: Optional[str]
    model_version: Optional[int]
    signers: List[str]

@final
class VerifyReport:
    name: str
    level: str
    format_version: int
    payload_kind: str
    plaintext_size: int
    key_id: str
    keyless_sha256: str
    plaintext_sha256: Optional[str]
    content: Optional[str]
    signer: Optional[str]
    model_name: Optional[str]
    model_version: Optional[int]

@final
class EncodeResult:
    output: str
    size: int
    payload_kind: str
    block_size: int
    key_id: str
    format_version: int
    plaintext_sha256: str
    output_keyless_sha256: str
    model_name: Optional[str]
    model_version: Optional[int]
    signers: List[str]

@final
class TreeEntry:
    status: str
    source: str
    output: str
    size: int
    payload_kind: str
    key_id: str
    plaintext_sha256: str
    output_keyless_sha256: str
    output_sha256: Optional[str]

@final
class TreeReport:
    manifest: str
    files: List[TreeEntry]
    skipped: List[Tuple[str, str]]
    failed: List[Tuple[str, str]]

@final
class NativeReader:
    def __new__(
        cls,
        source: object,
        keys: _Keys,
        *,
        signers: Optional[object] = ...,
        name: Optional[str] = ...,
        min_version: Optional[int] = ...,
    ) -> "NativeReader": ...
    def read_at(self, offset: int, buffer: object) -> int: ...
    def to_memfd(self) -> int: ...
    def close(self) -> None: ...
    closed: bool
    name: str
    size: int
    payload_kind: str
    block_size: int
    format_version: int
    key_id: str
    plaintext_sha256: str
    keyless_sha256: str

def keygen(path: _Path) -> Key: ...
def encode(
    src: _Path,
    dst: _Path,
    *,
    key: Key,
    kind: Optional[str] = ...,
    block_size: int = ...,
    force: bool = ...,
    allow_mismatch: bool = ...,
    threads: Optional[int] = ...,
    sign: Optional[object] = ...,
    name: Optional[str] = ...,
    model_version: Optional[int] = ...,
) -> EncodeResult: ...
def encode_tree(
    src_dir: _Path,
    dst_dir: _Path,
    *,
    key: Key,
    manifest: Optional[_Path] = ...,
    kind: Optional[str] = ...,
    block_size: int = ...,
    force: bool = ...,
    allow_mismatch: bool = ...,
    threads: Optional[int] = ...,
    sign: Optional[object] = ...,
    model_version: Optional[int] = ...,
) -> TreeReport: ...
def verify(
    source: object,
    *,
    keys: Optional[_Keys] = ...,
    deep: bool = ...,
    signers: Optional[object] = ...,
    name: Optional[str] = ...,
    min_version: Optional[int] = ...,
) -> VerifyReport: ...
def inspect(source: object) -> HeaderInfo: ...
