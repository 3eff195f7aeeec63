"""AVA3 model protection for build scripts.

- ``python -m ava_toolchain.ava3_encoder ...`` is the ``ava3`` command (the
  same Rust program: same flags, output, JSON and exit statuses); the wheel
  also puts ``ava3`` on the PATH.
- :mod:`ava_toolchain.ava3` is the Python API: ``encode``, ``encode_tree``,
  ``verify``, ``inspect``, ``keygen``, ``open`` (a reader), ``Key``.
- :mod:`ava_toolchain.errors` holds the exceptions, one per outcome of the
  spec.
"""

from ._native import __version__

__all__ = ["__version__"]
