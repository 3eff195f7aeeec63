#!/usr/bin/env python3
"""Runs every ```python block of README.md as written, twice in a row, in
the folder given (which holds what the README's examples name:
release.key, model.amg, models/), with the Python that runs this script.

    python tests/readme_python.py WORKDIR
"""

import pathlib
import re
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]


def main() -> int:
    workdir = pathlib.Path(sys.argv[1])
    readme = (ROOT / "README.md").read_text()
    blocks = re.findall(r"^```python\n(.*?)^```", readme, re.S | re.M)
    if not blocks:
        print("FAIL: no python block in README.md")
        return 1
    for n, code in enumerate(blocks, 1):
        for attempt in (1, 2):
            done = subprocess.run([sys.executable, "-c", code], cwd=workdir, capture_output=True, text=True)
            if done.returncode != 0:
                print(f"FAIL: README python block {n}, run {attempt}:\n{code}\n{done.stderr}")
                return 1
    print(f"README python blocks: {len(blocks)} ran twice each, as written")
    return 0


if __name__ == "__main__":
    sys.exit(main())
