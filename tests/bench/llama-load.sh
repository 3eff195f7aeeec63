#!/usr/bin/env bash
# Decrypt-at-load against a plaintext load, with real llama.cpp (the one
# llama-cpp-python 0.3.36 vendors, built optimised once and cached beside
# the suite's debug build): load plus a first evaluation of 8 tokens, and
# peak RSS, for each way in (tests/bench/llama_load.c), each run a fresh
# process, the paths alternating, page cache warm.
#
#   bash tests/bench/llama-load.sh [ROUNDS [CPUS]]   (default 7, every core)
#
# CPUS (a taskset list, e.g. 0) pins every run to those cores: the
# plaintext read is one thread's copy, decryption uses every core it has,
# so the ratios move with the core count.
#
# The model: tests/runtimes/make_llama_model.py --embd 1024 --ff 4096
# --layers 10 --f16 (336 MB, random weights), encoded with the dev key.
# Prints the median and minimum of each path and its ratio to the plaintext
# read (no mmap), in the same run, and checks that every path gives the
# same first logit.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
ROUNDS=${1:-7}
PIN=()
[ -n "${2:-}" ] && PIN=(taskset -c "$2")
V=0.3.36
CACHE=${AVA3_LLAMA_CACHE:-$HOME/.cache/ava3-llama}/$V
W=$ROOT/tests/.work/bench-llama
mkdir -p "$W"
. tests/python-env.sh
ava3_venv
PY=$AVA3_VENV/bin/python

# The sources and the cmake/ninja tools: tests/llama-cpp.sh's cache.
[ -f "$CACHE/src/vendor/llama.cpp/include/llama.h" ] || {
  echo "llama-load: run tests/llama-cpp.sh once first (it fetches llama.cpp $V)" >&2
  exit 1
}
SRC=$CACHE/src/vendor/llama.cpp
LIB=$CACHE/build-release/bin
if [ ! -f "$LIB/libllama.so" ]; then
  echo "llama-load: building an optimised libllama $V once (a few minutes on 2 cores)" >&2
  "$CACHE/tools/bin/cmake" -S "$SRC" -B "$CACHE/build-release" -G Ninja -DCMAKE_MAKE_PROGRAM="$CACHE/tools/bin/ninja" \
    -DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=ON -DGGML_NATIVE=ON \
    -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TOOLS=OFF -DLLAMA_BUILD_SERVER=OFF \
    -DLLAMA_BUILD_COMMON=OFF -DLLAMA_CURL=OFF -DLLAMA_OPENSSL=OFF -DGGML_OPENMP=OFF > "$W/cmake.log"
  "$CACHE/tools/bin/cmake" --build "$CACHE/build-release" --target llama -j "$(nproc)" > "$W/build.log"
fi

cargo build --release --locked -q -p ava3-cli -p ava3-decoder-ffi
R=$ROOT/target/release
gcc -std=c11 -O2 -Wall -Wextra -Werror -I ava3-decoder-ffi/include -I "$SRC/include" -I "$SRC/ggml/include" \
  tests/bench/llama_load.c examples/llama_cpp/load_ava3.c -L "$R" -lava3_decoder -L "$LIB" -lllama -lggml -lggml-base \
  -Wl,-rpath,"$R:$LIB" -o "$W/llama_load"

M=$W/model.gguf
if [ ! -f "$M" ]; then
  "$PY" tests/runtimes/make_llama_model.py "$M.tmp" --embd 1024 --ff 4096 --layers 10 --f16
  mv "$M.tmp" "$M"
fi
if [ ! -f "$M.ava3" ] || [ "$M.ava3" -ot "$R/ava3" ]; then
  AVA3_KEY_FILE=testdata/keys/dev.key "$R/ava3" encode -q --force "$M" -o "$M.ava3"
fi
KEY=$(tr -d '[:space:]' < testdata/keys/dev.key)
cat "$M" "$M.ava3" > /dev/null # page cache warm

MODES=(plain-mmap plain-read fileptr memfd memfd-read decode)
: > "$W/runs.txt"
for _ in $(seq "$ROUNDS"); do
  for mode in "${MODES[@]}"; do
    file=$M.ava3
    case $mode in plain-*) file=$M ;; esac
    "${PIN[@]}" "$W/llama_load" "$mode" "$file" "$KEY" >> "$W/runs.txt"
  done
done
cores=$(nproc)
[ -n "${2:-}" ] && cores="$(taskset -c "$2" nproc) (taskset -c $2) of $(nproc)"
echo "llama.cpp $V (Release, native), $(basename "$M") $(($(stat -c %s "$M") / 1000000)) MB, $ROUNDS rounds," \
  "$cores cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
"$PY" - "$W/runs.txt" "${MODES[@]}" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
modes = sys.argv[2:]
by = {m: [r for r in rows if r[0] == m] for m in modes}
base = statistics.median(float(r[1]) for r in by["plain-read"])
base_rss = max(int(r[2]) for r in by["plain-read"])
logits = {r[3] for r in rows if r[0] != "decode"}
print(f"{'path':<12} {'median ms':>10} {'min ms':>8} {'x plain-read':>13} {'peak RSS MiB':>13} {'over plain-read':>16}")
for m in modes:
    t = [float(r[1]) for r in by[m]]
    rss = max(int(r[2]) for r in by[m])
    print(f"{m:<12} {statistics.median(t):>10.1f} {min(t):>8.1f} {statistics.median(t) / base:>13.2f}"
          f" {rss / 1024:>13.1f} {(rss - base_rss) / 1024:>+16.1f}")
print("first logit, every path:", "same" if len(logits) == 1 else f"DIFFERENT {sorted(logits)}")
sys.exit(0 if len(logits) == 1 else 1)
PY
