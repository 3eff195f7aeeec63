"""AVA3 model protection for build scripts.

``python -m ava_toolchain.ava3_encoder ...`` is the ``ava3`` command (the
same Rust program: same flags, output, JSON and exit statuses); the wheel
also puts ``ava3`` on the PATH.
"""

from ._native import __version__

__all__ = ["__version__"]
