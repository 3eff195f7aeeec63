#!/usr/bin/env bash
# The Python package: the wheel of ./ava3-python (`pip wheel`/`pip install`,
# maturin as the PEP 517 backend, one abi3 wheel), installed in the suite's
# virtualenv (tests/python-env.sh: built once per run by tests/run-all.sh,
# or here when this script runs alone), then
#   1. the team manual's command lines, verbatim, with AVA3_KEY_FILE;
#   2. the Python API (ava3-python/tests, pytest) against the installed
#      wheel, run from that folder, which holds no copy of the package; the
#      type stubs against the extension (mypy stubtest, mypy --strict);
#      and the same wheel on CPython 3.9 (tests/python39.sh);
#   3. the CLI's whole process suite (ava3-cli/tests/cli) and its golden
#      transcripts against the wheel's `ava3` script, which runs the same
#      Rust program through ava_toolchain._native.
set -euo pipefail
cd "$(dirname "$0")/.."
. tests/python-env.sh
ava3_wheel
VENV=$AVA3_VENV
"$VENV/bin/python" -c "import ava_toolchain, sys; print('ava_toolchain', ava_toolchain.__version__, 'on Python', sys.version.split()[0])"

W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
cp testdata/samples/tiny-llama.amg "$W/model.amg"
cp testdata/samples/tiny-fc.amr "$W/model.amr"
head -c 70000 /dev/urandom > "$W/model.amm"
mkdir -p "$W/models/llm"
cp "$W/model.amm" "$W/models/shard.amm"
cp "$W/model.amg" "$W/models/llm/model.amg"
cp testdata/keys/dev.key "$W/release.key"
chmod 600 "$W/release.key"
export AVA3_KEY_FILE=$W/release.key
ok=0
run() { # the manual's line, as written
  echo "\$ $*"
  (cd "$W" && "$@")
  ok=$((ok + 1))
}
PATH=$VENV/bin:$PATH
run python -m ava_toolchain.ava3_encoder encode model.amm -o model.amm.ava3
run python -m ava_toolchain.ava3_encoder encode model.amg -o model.amg.ava3
run python -m ava_toolchain.ava3_encoder encode model.amr -o model.amr.ava3
run python -m ava_toolchain.ava3_encoder encode models/ --batch -o encoded/
run python -m ava_toolchain.ava3_encoder verify model.amm.ava3
# The same program: statuses and the script on the PATH.
(cd "$W" && ava3 verify encoded/ --manifest encoded/ava3-manifest.json --require keyed -q)
set +e
(cd "$W" && python -m ava_toolchain.ava3_encoder verify missing.ava3 -q 2>/dev/null)
status=$?
set -e
[ "$status" -eq 2 ] || { echo "FAIL: verify of a missing file exited $status, not 2"; exit 1; }
ok=$((ok + 2))
echo "manual lines: $ok passed, 0 failed"

# Every Python block of README.md, as written, twice in a row, in the same
# folder (release.key, model.amg, models/).
"$VENV/bin/python" tests/readme_python.py "$W"

(cd ava3-python/tests && "$VENV/bin/python" -m pytest -q -p no:cacheprovider .)
# The type stubs match the extension as built (mypy's stubtest imports it),
# and the package type-checks strictly.
(cd /tmp && "$VENV/bin/python" -m mypy.stubtest --ignore-disjoint-bases ava_toolchain &&
  "$VENV/bin/python" -m mypy --strict --no-incremental -p ava_toolchain)

# The same abi3 wheel on CPython 3.9, the oldest it claims.
bash tests/python39.sh "$AVA3_WHEEL"

# --workspace (with --test, only ava3-cli has these targets): the features
# are unified as in `cargo test --workspace`, so these are the test binaries
# that command built; `-p ava3-cli` would build a second variant of
# ava3-format and of the CLI tests.
AVA3_TEST_BIN=$VENV/bin/ava3 cargo test --workspace --locked -q --test cli --test transcripts --test trust --test first_hour
