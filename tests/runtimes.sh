#!/usr/bin/env bash
# Real runtimes load protected models (tests/runtimes/): GGUF reader, the
# llama.cpp FILE* path in C, LiteRT, TVM (test_runtimes.py); LiteRT's own
# C API in C against the wheel's libLiteRt.so (test_litert_c.py); the
# native MLC/TVM tensor-cache loader against TVM's runtime
# (test_mlc_native.py); MediaPipe Tasks, LiteRT and TVM by the memfd's
# path (test_path_loaders.py). Python reads the models through the
# installed ava_toolchain wheel (the suite's virtualenv and wheel,
# tests/python-env.sh), the C programs through libava3_decoder.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked -q -p ava3-cli -p ava3-decoder-ffi
. tests/python-env.sh
ava3_wheel
export AVA3_BIN=$PWD/target/release/ava3 AVA3_LIB=$PWD/target/release/libava3_decoder.so
cd tests/runtimes
"$AVA3_VENV/bin/python" -m pytest -q -p no:cacheprovider . 2>&1 || exit 1
