#!/usr/bin/env bash
# llama.cpp for real (run by tests/run-all.sh): the llama.cpp that
# llama-cpp-python 0.3.36 vendors, from its sdist on PyPI.
# 1. examples/llama_cpp/load_ava3.c compiles against its real headers;
# 2. libllama (CPU, unoptimised: a tiny model needs no speed) is built once
#    and kept outside the checkout, keyed by that version (a fresh machine
#    pays about 1 minute on 2 cores, plus a 77 MB download);
# 3. end to end: a complete tiny llama model (runtimes/make_llama_model.py)
#    loads through the example's FILE* path with logits bit-identical to the
#    plain model's; a wrong key and a flipped byte load nothing
#    (runtimes/llama_e2e.c);
# 4. by path, as runtimes that take only a path load: the decoder's sealed
#    memfd as /proc/self/fd/N with mmap on, logits bit-identical, the
#    mapping shared and read-only (runtimes/llama_path.c).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
V=0.3.36
CACHE=${AVA3_LLAMA_CACHE:-$HOME/.cache/ava3-llama}/$V
W=$ROOT/tests/.work/llama
. tests/python-env.sh
ava3_venv
PY=$AVA3_VENV/bin/python
mkdir -p "$W" "$CACHE"
if [ ! -f "$CACHE/src/vendor/llama.cpp/include/llama.h" ]; then
  rm -rf "$CACHE/src" "$CACHE/dl"
  "$PY" -m pip download --quiet --disable-pip-version-check --no-deps --no-binary llama-cpp-python \
    "llama-cpp-python==$V" -d "$CACHE/dl"
  mkdir -p "$CACHE/src"
  tar -xzf "$CACHE/dl/llama_cpp_python-$V.tar.gz" -C "$CACHE/src" --strip-components=1
  rm -rf "$CACHE/dl"
fi
SRC=$CACHE/src/vendor/llama.cpp
INC=(-I ava3-decoder-ffi/include -I "$SRC/include" -I "$SRC/ggml/include")
gcc -std=c11 -Wall -Wextra -Werror -fsyntax-only "${INC[@]}" examples/llama_cpp/load_ava3.c
echo "compiled against llama.cpp $V's headers: examples/llama_cpp/load_ava3.c"

LIB=$CACHE/build/bin
if [ ! -f "$LIB/libllama.so" ]; then
  if [ ! -x "$CACHE/tools/bin/cmake" ]; then
    python3 -m venv "$CACHE/tools"
    "$CACHE/tools/bin/pip" install --quiet --disable-pip-version-check cmake ninja
  fi
  "$CACHE/tools/bin/cmake" -S "$SRC" -B "$CACHE/build" -G Ninja -DCMAKE_MAKE_PROGRAM="$CACHE/tools/bin/ninja" \
    -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_FLAGS_DEBUG=-O0 -DCMAKE_CXX_FLAGS_DEBUG=-O0 -DBUILD_SHARED_LIBS=ON \
    -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TOOLS=OFF -DLLAMA_BUILD_SERVER=OFF \
    -DLLAMA_BUILD_COMMON=OFF -DLLAMA_CURL=OFF -DLLAMA_OPENSSL=OFF -DGGML_OPENMP=OFF -DGGML_NATIVE=OFF > "$W/cmake.log"
  "$CACHE/tools/bin/cmake" --build "$CACHE/build" --target llama -j "$(nproc)" > "$W/build.log"
fi

cargo build --release --locked -q -p ava3-cli -p ava3-decoder-ffi
R=$ROOT/target/release
gcc -std=c11 -Wall -Wextra -Werror -O1 "${INC[@]}" examples/llama_cpp/load_ava3.c tests/runtimes/llama_e2e.c \
  -L "$R" -lava3_decoder -L "$LIB" -lllama -lggml -lggml-base -Wl,-rpath,"$R:$LIB" -o "$W/llama_e2e"
"$PY" tests/runtimes/make_llama_model.py "$W/tiny.gguf"
AVA3_KEY_FILE=testdata/keys/dev.key "$R/ava3" encode -q --force "$W/tiny.gguf" -o "$W/tiny.amg.ava3" 2>/dev/null
"$PY" - "$W" <<'PY'
import sys
w = sys.argv[1]
b = bytearray(open(f"{w}/tiny.amg.ava3", "rb").read())
b[128 + 3 * (65536 + 32) + 100] ^= 1  # one byte of the fourth block
open(f"{w}/tampered.amg.ava3", "wb").write(b)
PY
"$W/llama_e2e" "$W/tiny.gguf" "$W/tiny.amg.ava3" "$W/tampered.amg.ava3" "$(tr -d '\n' < testdata/keys/dev.key)" 2> "$W/llama.log" ||
  { cat "$W/llama.log"; exit 1; }
# 4. by path: the decoder's sealed memfd as /proc/self/fd/N, mmap on (runtimes/llama_path.c).
gcc -std=c11 -Wall -Wextra -Werror -O1 "${INC[@]}" tests/runtimes/llama_path.c \
  -L "$R" -lava3_decoder -L "$LIB" -lllama -lggml -lggml-base -Wl,-rpath,"$R:$LIB" -o "$W/llama_path"
"$W/llama_path" "$W/tiny.gguf" "$W/tiny.amg.ava3" "$(tr -d '\n' < testdata/keys/dev.key)" 2> "$W/llama_path.log" ||
  { cat "$W/llama_path.log"; exit 1; }
