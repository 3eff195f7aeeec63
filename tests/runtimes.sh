#!/usr/bin/env bash
# Real runtimes load protected models (tests/runtimes/test_runtimes.py):
# GGUF reader, the llama.cpp FILE* path in C, LiteRT, TVM. Python reads the
# models through the installed ava_toolchain wheel (pip install ./ava3-python
# into the suite's virtualenv), the C program through libava3_decoder.
set -euo pipefail
cd "$(dirname "$0")/.."
WORK=tests/.work
cargo build --release --locked -q -p ava3-cli -p ava3-decoder-ffi
if [ ! -x "$WORK/venv/bin/python" ]; then
  python3 -m venv "$WORK/venv"
fi
"$WORK/venv/bin/pip" install --quiet --disable-pip-version-check -r tests/requirements.txt
# One wheel build at a time (tests/python-package.sh builds it too).
mkdir -p target
flock target/.ava3-wheel.lock \
  "$WORK/venv/bin/pip" install --quiet --disable-pip-version-check --force-reinstall --no-deps ./ava3-python
export AVA3_BIN=$PWD/target/release/ava3 AVA3_LIB=$PWD/target/release/libava3_decoder.so
cd tests/runtimes
../.work/venv/bin/python -m pytest -q -p no:cacheprovider . 2>&1 || exit 1
