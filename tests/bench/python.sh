#!/usr/bin/env bash
# The Python package against the C ABI and the ava3 binary, in
# one run, on a SIZE_MIB model (tests/bench/python.py says what is timed):
#   bash tests/bench/python.sh [SIZE_MIB] [RUNS]     (default 1024 MiB, 7 runs)
set -euo pipefail
cd "$(dirname "$0")/../.."
SIZE=${1:-1024}
RUNS=${2:-7}
VENV=${AVA3_BENCH_VENV:-$HOME/.cache/ava3/bench-venv}
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
"$VENV/bin/pip" install --quiet --disable-pip-version-check numpy
mkdir -p target
flock target/.ava3-wheel.lock \
  "$VENV/bin/pip" install --quiet --disable-pip-version-check --force-reinstall --no-deps ./ava3-python
cargo build --release -q --locked -p ava3-cli -p ava3-decoder-ffi
# In memory (tmpfs) where there is one: the outputs' fsync and the disk's
# writeback are the same for every path and only add noise.
W=$(mktemp -d -p "${AVA3_BENCH_DIR:-$([ -d /dev/shm ] && echo /dev/shm || echo /tmp)}")
trap 'rm -rf "$W"' EXIT
target/release/ava3 keygen -o "$W/k" >/dev/null
head -c $((SIZE << 20)) /dev/urandom > "$W/m.amm"
AVA3_KEY_FILE=$W/k target/release/ava3 encode -q "$W/m.amm" -o "$W/m.ava3"
cat "$W/m.ava3" "$W/m.amm" > /dev/null
"$VENV/bin/python" tests/bench/python.py "$W/m.ava3" "$W/k" "$W/m.amm" \
  "$PWD/target/release/libava3_decoder.so" "$PWD/target/release/ava3" "$RUNS"
