#!/usr/bin/env bash
# The whole AVA3 test suite. README.md's test command; .ci/run calls it.
#
#   bash tests/run-all.sh
#
# Installs what it needs (Rust crates from crates.io, Python packages from
# PyPI into tests/.work/venv) and runs: format and lint checks, every Rust
# test (unit, property, vectors, CLI processes, C ABI guards), the
# independent Python implementation against the vectors and the CLI, the C
# ABI tests (warnings as errors, ASan/UBSan, valgrind), the cbindgen header
# check, the device path (tests/device.sh: every Android and iOS target,
# the packages, ARM64 under qemu with and without the crypto extensions,
# the C ABI under 5.10 and 6.1 kernels), the real-runtime tests and a
# short run of every fuzz target.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
WORK=$ROOT/tests/.work
mkdir -p "$WORK"
export CARGO_TERM_COLOR=${CARGO_TERM_COLOR:-never}

step() { printf '\n==== %s ====\n' "$*"; }
SECONDS=0

step "rustfmt"
cargo fmt --all -- --check

step "clippy (warnings are errors)"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "rustdoc (warnings are errors)"
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --locked --quiet

step "API guard: no fixed-salt encoder without the test-vectors feature"
# tests/api-guard uses ava3-format as a shipped build does; it must not compile.
if guard=$(cargo check --locked --quiet --manifest-path tests/api-guard/Cargo.toml --target-dir target/api-guard 2>&1); then
  echo "FAIL: a crate without the test-vectors feature can build a fixed-salt encoder"
  exit 1
fi
grep -q 'no function or associated item named `new_with_salt_for_test_vectors`' <<<"$guard" || {
  echo "$guard"
  exit 1
}
echo "ok: Encoder::new_with_salt_for_test_vectors exists only with the test-vectors feature"

step "build the release binary and library"
cargo build --release --locked -p ava3-cli
export AVA3_BIN=$ROOT/target/release/ava3

step "cargo test (workspace)"
cargo test --workspace --locked

step "Python venv for the interop and runtime tests"
if [ ! -x "$WORK/venv/bin/python" ]; then
  python3 -m venv "$WORK/venv"
fi
"$WORK/venv/bin/pip" install --quiet --disable-pip-version-check -r tests/requirements.txt

step "independent Python implementation (from the spec) against vectors and CLI"
"$WORK/venv/bin/python" -m pytest -q tests/interop

if [ -x tests/ffi.sh ]; then
  step "C ABI: C tests, sanitizers, valgrind, header"
  bash tests/ffi.sh
fi

step "device path: Android/iOS builds and packages, ARM64 under qemu, 5.10 and 6.1 kernels"
bash tests/device.sh

if [ -x tests/runtimes.sh ]; then
  step "real runtimes"
  bash tests/runtimes.sh
fi

step "llama.cpp for real: the example against its headers and a real libllama"
bash tests/llama-cpp.sh

step "integration examples (compile what can be, run the JNI glue)"
bash examples/check.sh

if [ -x tests/fuzz-smoke.sh ]; then
  step "fuzz targets, briefly"
  bash tests/fuzz-smoke.sh
fi

step "done in ${SECONDS}s"
echo "all suites passed"
