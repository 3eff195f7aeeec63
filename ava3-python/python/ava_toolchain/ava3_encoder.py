"""``python -m ava_toolchain.ava3_encoder``: the ``ava3`` command.

The team manual's command lines work as written, for example::

    python -m ava_toolchain.ava3_encoder encode model.amg -o model.amg.ava3
    python -m ava_toolchain.ava3_encoder encode models/ --batch -o encoded/
    python -m ava_toolchain.ava3_encoder verify model.amm.ava3

with the key in ``AVA3_KEY_FILE`` or ``AVA3_KEY``.
"""

import sys

from ._native import run_cli


def main() -> None:
    """Runs ``ava3`` with this process's arguments and exits with its status."""
    sys.stdout.flush()
    sys.stderr.flush()
    sys.exit(run_cli(["ava3"] + sys.argv[1:]))


if __name__ == "__main__":
    main()
