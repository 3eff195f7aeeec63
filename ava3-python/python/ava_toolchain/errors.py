"""The exceptions of ``ava_toolchain``: one per outcome of the AVA3 spec
(section 7.4), all under :class:`Ava3Error`.

Every exception carries:

- ``outcome``: the spec's outcome name (``"block failure"``, ...), or
  ``None`` when the failure is not a property of a file;
- ``code``: the exit status ``ava3`` gives for the same failure (1 a bad
  file, 2 usage, key or I/O, 3 no key for the file);
- ``index``: the failing block (``BlockFailure``), else ``None``;
- ``key_id``: the key id the file records (``WrongKey``), else ``None``.

I/O errors are Python's own ``OSError`` subclasses (``FileNotFoundError``,
``FileExistsError``, ...), with ``code`` 2 where the toolchain made them. No exception carries key material or
plaintext.
"""

from typing import Any, Optional

__all__ = [
    "Ava3Error",
    "NotAva3",
    "UnsupportedVersion",
    "HeaderFailure",
    "WrongKey",
    "BlockFailure",
    "Truncated",
    "TrailerFailure",
    "TrailingData",
    "IntegrityFailure",
    "BadSignature",
    "UnknownSigner",
    "Unsigned",
    "NameMismatch",
    "Rollback",
    "InvalidInput",
    "UsageError",
    "BatchFailure",
]


class Ava3Error(Exception):
    """Base of every AVA3 failure."""

    def __init__(
        self,
        message: str,
        *,
        outcome: Optional[str] = None,
        code: int = 2,
        index: Optional[int] = None,
        key_id: Optional[str] = None,
        report: Any = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.outcome = outcome
        self.code = code
        self.index = index
        self.key_id = key_id
        self.report = report


class NotAva3(Ava3Error):
    """The input does not start with the AVA3 magic."""


class UnsupportedVersion(Ava3Error):
    """The file uses a format version this reader does not implement."""


class HeaderFailure(Ava3Error):
    """A header field is invalid, a flag unknown, or the header MAC fails."""


class WrongKey(Ava3Error):
    """No key given has the key id the file records (``key_id``)."""


class BlockFailure(Ava3Error):
    """Block ``index`` failed authentication: altered, moved or foreign."""


class Truncated(Ava3Error):
    """The input ends before the structure its header announces."""


class TrailerFailure(Ava3Error):
    """The trailer is malformed or its MAC fails."""


class TrailingData(Ava3Error):
    """Bytes follow the trailer."""


class IntegrityFailure(Ava3Error):
    """A recorded digest does not match (keyless SHA-256, or the plaintext
    SHA-256 recomputed by a deep verification)."""


class BadSignature(Ava3Error):
    """A signature by a trusted key does not verify, or the signature section
    is malformed."""


class UnknownSigner(Ava3Error):
    """A signature is required and none of the file's signers is trusted."""


class Unsigned(Ava3Error):
    """A signature is required and the file carries none."""


class NameMismatch(Ava3Error):
    """The file's authenticated model name is not the one required."""


class Rollback(Ava3Error):
    """The file's authenticated model version is below the minimum required."""


class InvalidInput(Ava3Error, ValueError):
    """The input cannot be encoded as asked: already AVA3, content that
    does not fit the payload kind, or a file that changed while it was read
    (``ava3`` exits 1)."""


class UsageError(Ava3Error, ValueError):
    """A usage or key problem: a bad argument, an output that exists, a
    missing key (``ava3`` exits 2). A file that cannot be opened, read,
    written or created is Python's own ``OSError`` subclass instead
    (``FileNotFoundError``, ``PermissionError``, ...), with ``code`` 2."""


class BatchFailure(Ava3Error):
    """Some files of an ``encode_tree`` failed; the others were encoded and
    the manifest written. ``report`` is the run's ``TreeReport`` and
    ``report.failed`` lists ``(path, message)``."""
