#!/usr/bin/env bash
# The fast tier: everything that needs no cross toolchain, emulator, runtime
# build or wheel. For a contributor between edits; the full suite
# (tests/run-all.sh, what CI runs) is still the one that decides.
#
#   bash tests/fast.sh
#
# rustfmt, clippy (warnings are errors), every Rust test of the workspace
# (unit, property, vectors, adversarial corpus, CLI processes, C ABI
# guards), and the independent Python implementation of the spec against
# the vectors and the CLI (in the suite's virtualenv, tests/python-env.sh,
# made once per machine; no wheel).
set -euo pipefail
cd "$(dirname "$0")/.."
CACHE=${AVA3_CACHE:-$HOME/.cache/ava3}
mkdir -p "$CACHE"
for t in target; do
  if [ ! -e "$t" ]; then
    mkdir -p "$CACHE/$t"
    ln -s "$CACHE/$t" "$t"
  fi
done
. tests/python-env.sh
SECONDS=0
timed() { # runs "$@" and says how long it took
  local t0=$SECONDS
  "$@"
  printf -- '-- %ss: %s\n' $((SECONDS - t0)) "$*"
}
timed cargo fmt --all -- --check
timed cargo clippy --workspace --all-targets --locked --quiet -- -D warnings
timed cargo build --release --locked --quiet -p ava3-cli
timed cargo test --workspace --locked --quiet
timed ava3_venv
AVA3_BIN=$PWD/target/release/ava3 timed "$AVA3_VENV/bin/python" -m pytest -q -p no:cacheprovider tests/interop
echo "fast tier passed in ${SECONDS}s"
