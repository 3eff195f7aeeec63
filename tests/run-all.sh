#!/usr/bin/env bash
# The whole AVA3 test suite. README.md's test command; .ci/run calls it.
#
#   bash tests/run-all.sh            (SERIAL=1 runs everything one by one)
#
# 1. In order, each stopping the run on failure: format, clippy and rustdoc
#    with warnings as errors, the API guard (tests/api-guard/check.sh), the
#    release build of the CLI and the C ABI library, and every Rust test
#    (unit, property, vectors, adversarial corpus, CLI processes, C ABI
#    guards).
# 2. Beside it from the start, as they need nothing from it: the device
#    path (every Android and iOS target, the packages, ARM64 under qemu with
#    and without the crypto extensions, the C ABI under 5.10 and 6.1
#    kernels), the longest suite; and the Python preparation
#    (tests/python-env.sh): the one virtualenv, and the wheel, built once
#    for the whole run.
# 3. Then, in parallel: the long CLI cases (a model over 4 GiB, inputs
#    changing during an encode) against the release build; the
#    independent Python implementation against the vectors and the CLI;
#    the C ABI tests (warnings as errors, ASan/UBSan, valgrind on a sample,
#    heap scan, cbindgen header); the real runtimes; a real libllama; the
#    integration examples; a short run of every fuzz target; the Python
#    package (the manual's command lines, its pytest suite, stubs, CPython
#    3.9, the CLI's process tests against its entry point); the cheap part
#    of a release (tests/release.sh: one version everywhere, the static
#    binary, a signed folder checked three ways).
# Each job of 2 and 3 has its log in tests/.work/logs/ (every line stamped
# with the seconds since the job started). The run ends with the time of
# each step, a line per suite (wall and CPU seconds), the log tail of any
# that failed, and the CPU time of the whole run.
#
# Installs what it needs: crates from crates.io, Python packages from PyPI
# into a virtualenv, Debian packages for the device path. What is expensive
# to make is kept outside the checkout, keyed by version, in
# ~/.cache/ava3 (the virtualenv, cargo-fuzz; see tests/python-env.sh for
# where the virtualenv goes when run as root), ~/.cache/ava3-device and
# ~/.cache/ava3-llama (see README.md for what a fresh machine pays once).
set -euo pipefail
# The signal tests (the CLI's, the Python package's Ctrl-C) need SIGINT
# and SIGQUIT handled by default; a shell that starts a command in the
# background without job control ignores them for it, and ignored signals
# are inherited. So: back to the defaults, for this script and (in
# start_job) for each job it starts in the background. (Only SIGINT's bit
# tells: bash itself always ignores SIGQUIT, its commands get it back.)
# Once only (AVA3_SIGNALS_RESET), and only where env can do it.
if [ -z "${AVA3_SIGNALS_RESET:-}" ] &&
  (( 0x$(awk '/^SigIgn:/ { print $2 }' /proc/$$/status) & 0x2 )) &&
  env --default-signal=INT true 2>/dev/null; then
  export AVA3_SIGNALS_RESET=1
  exec env --default-signal=INT,QUIT bash "$0" "$@"
fi
cd "$(dirname "$0")/.."
ROOT=$PWD
WORK=$ROOT/tests/.work
LOGS=$WORK/logs
mkdir -p "$WORK" "$LOGS"
# One run per checkout at a time: two would share tests/.work (logs, the
# wheel, the device path's files) and each other's CPU, and the figures of
# both would be wrong. A second run waits for the first. (The jobs started
# below do not get the lock's descriptor: nothing they leave behind could
# hold it.)
exec 8>"$WORK/.run-all.lock"
if ! flock -n 8; then
  echo "another tests/run-all.sh is running in this checkout: waiting for it to end"
  flock 8
fi
export CARGO_TERM_COLOR=${CARGO_TERM_COLOR:-never}
# A fresh clone builds into the shared cargo target folders of the cache.
. tests/target-dirs.sh
ava3_target_dirs "$ROOT"
. tests/python-env.sh

SECONDS=0
STEP='' STEP_T0=0 STEP_TIMES=()
step_end() {
  if [ -n "$STEP" ]; then
    STEP_TIMES+=("$(printf '%5ss  %s' $((SECONDS - STEP_T0)) "$STEP")")
  fi
  STEP=
}
step() {
  step_end
  STEP=$*
  STEP_T0=$SECONDS
  printf '\n==== %s (at %ss) ====\n' "$*" "$SECONDS"
}

# ---- jobs: the suites and the Python preparation ----
# run_job NAME CMD: CMD's output, each line stamped with the seconds since
# the job started, in logs/NAME.log; then logs/NAME.ok or NAME.failed with
# "WALL CPU" (seconds; CPU: user + system of everything the job ran).
children_cpu() { # sets CPU: the CPU seconds of this shell's finished children
  # (in the shell itself: $(times) would show a fresh fork's)
  local f=$LOGS/.times.$BASHPID
  times >"$f"
  CPU=$(awk 'NR == 2 { split($1, u, /[ms]/); split($2, s, /[ms]/); printf "%d", u[1] * 60 + u[2] + s[1] * 60 + s[2] }' "$f")
  rm -f "$f"
}
stamp() {
  local t0=$SECONDS line
  while IFS= read -r line || [ -n "$line" ]; do
    printf '%4ds %s\n' $((SECONDS - t0)) "$line"
  done
}
run_job() {
  local name=$1 cmd=$2 t0=$SECONDS rc
  rm -f "$LOGS/$name".{ok,failed}
  set +e
  bash -c "$cmd" 2>&1 | stamp >"$LOGS/$name.log"
  rc=${PIPESTATUS[0]}
  set -e
  children_cpu
  echo "$((SECONDS - t0)) $CPU" >"$LOGS/$name.$([ "$rc" -eq 0 ] && echo ok || echo failed)"
  return "$rc"
}
export -f children_cpu stamp run_job
export LOGS
# In the background, each job in a session of its own: a run that stops
# early ends every process the job started (cargo, qemu, ...), and only
# those.
JOBS=()
start_job() { # NAME CMD; sets JOB to its process id
  setsid -w env --default-signal=INT,QUIT bash -c 'run_job "$@"' _ "$1" "$2" 8>&- &
  JOB=$!
  JOBS+=("$JOB")
}
stop_jobs() {
  local sid
  for sid in "${JOBS[@]}"; do
    pkill -TERM -s "$sid" 2>/dev/null || true
  done
}
trap stop_jobs EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

PYTHON_PREP="set -euo pipefail; . tests/python-env.sh; ava3_wheel"
suites=(
  "device|bash tests/device.sh"
  "fuzz-smoke|bash tests/fuzz-smoke.sh"
  "c-abi|bash tests/ffi.sh"
  "python-pkg|bash tests/python-package.sh"
  "runtimes|bash tests/runtimes.sh"
  "cli-long|cd ava3-cli && CARGO_BIN_EXE_ava3=\"\$AVA3_BIN\" \"\$AVA3_FAULTS_TEST\" --ignored"
  "llama-cpp|bash tests/llama-cpp.sh"
  "examples|bash examples/check.sh"
  "interop|\"\$AVA3_VENV/bin/python\" -m pytest -q -p no:cacheprovider tests/interop"
  "release|bash tests/release.sh"
)
for s in "${suites[@]}" "python|"; do
  rm -f "$LOGS/${s%%|*}".{ok,failed,log}
done
rm -f "$LOGS/device-install.log" # (an earlier driver's)

if [ -z "${SERIAL:-}" ]; then
  # The device path needs nothing from the steps below (its cross-builds
  # have their own target folder; its host build is the release step's,
  # which cargo's lock lets it share; its installs take the lock
  # tests/device.sh takes) and is the longest suite: it starts now. So does
  # the Python preparation (the virtualenv, then the wheel, built in
  # target/ beside the steps, taking turns with them at cargo's lock).
  start_job device "bash tests/device.sh"
  DEVICE_JOB=$JOB
  start_job python "$PYTHON_PREP"
  PYTHON_JOB=$JOB
  echo "started beside the steps below: device, python (logs in tests/.work/logs/)"
fi

step "rustfmt"
cargo fmt --all -- --check

step "clippy (warnings are errors)"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "rustdoc (warnings are errors)"
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --locked --quiet

step "API guard: no fixed-salt encoder without the test-vectors feature"
bash tests/api-guard/check.sh

step "build the release binary and library"
cargo build --release --locked -p ava3-cli -p ava3-decoder-ffi
export AVA3_BIN=$ROOT/target/release/ava3

step "cargo test (workspace)"
# The long CLI cases (tests/faults.rs, ignored by default) run among the
# suites below, straight from this build's test binary, against the
# release ava3 (assert_cmd's cargo_bin reads CARGO_BIN_EXE_ava3): the
# binary does the work, the test binary only drives it, so it needs no
# release build of its own (which compiled every dependency a second time).
AVA3_FAULTS_TEST=$(cargo test --workspace --locked --no-run --message-format=json-render-diagnostics |
  python3 -c 'import json, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] == "faults" and m.get("executable"):
        print(m["executable"])')
[ -x "$AVA3_FAULTS_TEST" ] || { echo "no test binary for ava3-cli's tests/faults.rs"; exit 1; }
export AVA3_FAULTS_TEST
cargo test --workspace --locked

step "Python: the virtualenv and the wheel (tests/python-env.sh; log in tests/.work/logs/python.log)"
if [ -n "${SERIAL:-}" ]; then
  (run_job python "$PYTHON_PREP") 8>&- || true
else
  wait "$PYTHON_JOB" || true
  JOBS=("$DEVICE_JOB")
fi
if [ ! -f "$LOGS/python.ok" ]; then
  tail -40 "$LOGS/python.log"
  echo "FAIL: the Python virtualenv or the wheel (tests/.work/logs/python.log)"
  exit 1
fi
ava3_venv
AVA3_WHEEL=$(echo "$WORK"/wheel/*.whl)
export AVA3_WHEEL
echo "ok: $AVA3_VENV, $AVA3_WHEEL"

# ---- the other suites, in parallel (the device path already runs) ----
step "${#suites[@]} suites ($([ -n "${SERIAL:-}" ] && echo one by one || echo in parallel)); logs in tests/.work/logs/"
for s in "${suites[@]}"; do
  name=${s%%|*}
  if [ -n "${SERIAL:-}" ]; then
    (run_job "$name" "${s#*|}") 8>&- || true
  elif [ "$name" != device ]; then
    start_job "$name" "${s#*|}"
  fi
done
for pid in "${JOBS[@]}"; do
  wait "$pid" || true
done
JOBS=()
step_end

printf '\nsteps (wall seconds):\n'
printf '%s\n' "${STEP_TIMES[@]}"
read -r wall cpu <"$LOGS/python.ok"
printf '%5ss  (Python: the virtualenv and the wheel, %s; CPU %ss)\n' "$wall" \
  "$([ -n "${SERIAL:-}" ] && echo 'in the step above' || echo 'in the background from 0s')" "$cpu"
printf '\nsuites (wall and CPU seconds%s):\n' \
  "$([ -n "${SERIAL:-}" ] && echo '' || echo '; the device path started at 0s, the others after the steps')"
passed=0 failed=0
for s in "${suites[@]}"; do
  name=${s%%|*}
  if [ -f "$LOGS/$name.ok" ]; then
    passed=$((passed + 1))
    read -r wall cpu <"$LOGS/$name.ok"
    printf 'PASS %-11s %4ss  cpu %4ss  %s\n' "$name" "$wall" "$cpu" \
      "$(grep -E 'passed|ok:' "$LOGS/$name.log" | tail -1 | sed -E 's/^ *[0-9]+s //')"
  else
    failed=$((failed + 1))
    read -r wall cpu <"$LOGS/$name.failed" 2>/dev/null || wall='?' cpu='?'
    printf 'FAIL %-11s %4ss  cpu %4ss  (tests/.work/logs/%s.log)\n' "$name" "$wall" "$cpu" "$name"
  fi
done
for s in "${suites[@]}"; do
  name=${s%%|*}
  if [ ! -f "$LOGS/$name.ok" ]; then
    printf '\n---- last lines of %s.log ----\n' "$name"
    tail -40 "$LOGS/$name.log"
  fi
done

children_cpu
step "done in ${SECONDS}s (CPU ${CPU}s, $(nproc) cores)"
STEP=
echo "suites: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
echo "all suites passed"
