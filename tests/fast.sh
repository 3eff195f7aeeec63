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
# the vectors and the CLI (in a small virtualenv of its own: pytest and
# cryptography, kept in ~/.cache/ava3).
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
SECONDS=0
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked --quiet -- -D warnings
cargo build --release --locked --quiet -p ava3-cli
cargo test --workspace --locked --quiet
VENV=$CACHE/venv-fast
if [ ! -x "$VENV/bin/python" ] || [ ! -f "$VENV/.complete" ]; then
  rm -rf "$VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "pytest>=8" "cryptography>=42"
  touch "$VENV/.complete"
fi
AVA3_BIN=$PWD/target/release/ava3 "$VENV/bin/python" -m pytest -q -p no:cacheprovider tests/interop
echo "fast tier passed in ${SECONDS}s"
