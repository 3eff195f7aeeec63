#!/usr/bin/env bash
# C ABI throughput against the Rust core, in one run, on a SIZE_MIB model:
#   bash tests/bench/ffi.sh [SIZE_MIB] [RUNS]
set -euo pipefail
cd "$(dirname "$0")/../.."
SIZE=${1:-1024}
RUNS=${2:-5}
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
cargo build --release -q -p ava3-cli -p ava3-decoder-ffi --examples
target/release/ava3 keygen -o "$W/k" >/dev/null
head -c $((SIZE << 20)) /dev/urandom > "$W/m.amm"
AVA3_KEY_FILE=$W/k target/release/ava3 encode -q "$W/m.amm" -o "$W/m.ava3"
rm "$W/m.amm"
gcc -O2 -std=c11 -I ava3-decoder-ffi/include tests/bench/ffi_bench.c -L target/release -lava3_decoder -o "$W/ffi_bench"
cat "$W/m.ava3" > /dev/null
echo "model: $SIZE MiB, $RUNS runs, $(nproc) cores"
target/release/examples/core_decode "$W/m.ava3" "$W/k" "$RUNS"
LD_LIBRARY_PATH=target/release "$W/ffi_bench" "$W/m.ava3" "$(tr -d '\n' < "$W/k")" "$RUNS"
