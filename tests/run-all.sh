#!/usr/bin/env bash
# The whole AVA3 test suite. README.md's test command; .ci/run calls it.
#
#   bash tests/run-all.sh            (SERIAL=1 runs the suites one by one)
#
# 1. In order, each stopping the run on failure: format, clippy and rustdoc
#    with warnings as errors, the API guard, the release build of the CLI
#    and the C ABI library, and every Rust test (unit, property, vectors,
#    adversarial corpus, CLI processes, C ABI guards), then the long CLI
#    cases (a model over 4 GiB, inputs changing during an encode) against
#    the release build.
# 2. In parallel, each with its log in tests/.work/logs/: the independent
#    Python implementation against the vectors and the CLI; the C ABI tests
#    (warnings as errors, ASan/UBSan, valgrind on a sample, heap scan,
#    cbindgen header); the device path (every Android and iOS target, the
#    packages, ARM64 under qemu with and without the crypto extensions, the
#    C ABI under 5.10 and 6.1 kernels); the real runtimes; a real libllama;
#    the integration examples; a short run of every fuzz target; the Python
#    package (wheel built and installed, the manual's command lines, the
#    CLI's process tests against its entry point). A summary
#    line per suite and the log tail of any that failed close the run.
#
# Installs what it needs: crates from crates.io, Python packages from PyPI
# into a virtualenv, Debian packages for the device path. What is expensive
# to make is kept outside the checkout, keyed by version, in
# ~/.cache/ava3 (the virtualenv, cargo-fuzz), ~/.cache/ava3-device and
# ~/.cache/ava3-llama (see README.md for what a fresh machine pays once).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
WORK=$ROOT/tests/.work
LOGS=$WORK/logs
CACHE=${AVA3_CACHE:-$HOME/.cache/ava3}
mkdir -p "$WORK" "$LOGS" "$CACHE"
export CARGO_TERM_COLOR=${CARGO_TERM_COLOR:-never}
# A fresh clone builds into the shared cargo target folders of the cache, so
# that the dependencies (the bulk of a cold build) compile once per machine
# and toolchain; cargo rebuilds whatever changed. An existing target/ (a
# developer's) is left as it is.
for t in target fuzz/target; do
  if [ ! -e "$t" ]; then
    mkdir -p "$CACHE/${t//\//-}"
    ln -s "$CACHE/${t//\//-}" "$t"
  fi
done

step() { printf '\n==== %s (at %ss) ====\n' "$*" "$SECONDS"; }
SECONDS=0

# The device path's installs (Debian packages, Rust targets: network and
# disk work, a few minutes on a fresh machine, nothing when present) start
# now, beside the serial part's compiling; tests/device.sh takes the same
# lock, so it waits for them and then finds nothing missing (or reports
# what failed).
DEVICE_LOCK=${AVA3_DEVICE_CACHE:-$HOME/.cache/ava3-device}/install.lock
mkdir -p "$(dirname "$DEVICE_LOCK")"
(flock "$DEVICE_LOCK" bash tests/device/install.sh >"$LOGS/device-install.log" 2>&1 || true) &

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
cargo build --release --locked -p ava3-cli -p ava3-decoder-ffi
export AVA3_BIN=$ROOT/target/release/ava3

step "cargo test (workspace)"
cargo test --workspace --locked

step "long CLI cases against the release build (a model over 4 GiB, inputs changing mid-encode)"
cargo test --release --locked -p ava3-cli --test faults -- --ignored

step "Python virtualenv (cached, keyed by tests/requirements.txt)"
VENV=$CACHE/venv-$(sha256sum tests/requirements.txt | cut -c1-16)
if [ ! -x "$VENV/bin/python" ] || [ ! -f "$VENV/.complete" ]; then
  rm -rf "$VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check -r tests/requirements.txt
  touch "$VENV/.complete"
fi
ln -sfn "$VENV" "$WORK/venv"
echo "ok: $VENV"

# ---- independent suites, in parallel ----
suites=(
  "interop|$WORK/venv/bin/python -m pytest -q -p no:cacheprovider tests/interop"
  "c-abi|bash tests/ffi.sh"
  "device|bash tests/device.sh"
  "runtimes|bash tests/runtimes.sh"
  "llama-cpp|bash tests/llama-cpp.sh"
  "examples|bash examples/check.sh"
  "fuzz-smoke|bash tests/fuzz-smoke.sh"
  "python-pkg|bash tests/python-package.sh"
)
step "${#suites[@]} independent suites ($([ -n "${SERIAL:-}" ] && echo one by one || echo in parallel)); logs in tests/.work/logs/"
run_suite() {
  local name=$1 cmd=$2
  local t0=$SECONDS
  if bash -c "$cmd" >"$LOGS/$name.log" 2>&1; then
    echo "$((SECONDS - t0))" >"$LOGS/$name.ok"
  else
    echo "$((SECONDS - t0))" >"$LOGS/$name.failed"
  fi
}
for s in "${suites[@]}"; do
  name=${s%%|*}
  rm -f "$LOGS/$name".{ok,failed,log}
  if [ -n "${SERIAL:-}" ]; then
    run_suite "$name" "${s#*|}"
  else
    run_suite "$name" "${s#*|}" &
  fi
done
wait
passed=0 failed=0
for s in "${suites[@]}"; do
  name=${s%%|*}
  if [ -f "$LOGS/$name.ok" ]; then
    passed=$((passed + 1))
    printf 'PASS %-11s %4ss  %s\n' "$name" "$(cat "$LOGS/$name.ok")" "$(grep -E 'passed|ok:' "$LOGS/$name.log" | tail -1)"
  else
    failed=$((failed + 1))
    printf 'FAIL %-11s %4ss  (tests/.work/logs/%s.log)\n' "$name" "$(cat "$LOGS/$name.failed" 2>/dev/null || echo '?')" "$name"
  fi
done
for s in "${suites[@]}"; do
  name=${s%%|*}
  if [ ! -f "$LOGS/$name.ok" ]; then
    printf '\n---- last lines of %s.log ----\n' "$name"
    tail -40 "$LOGS/$name.log"
  fi
done

step "done in ${SECONDS}s"
echo "suites: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
echo "all suites passed"
