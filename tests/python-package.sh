#!/usr/bin/env bash
# The Python package: `pip install ./ava3-python` (maturin as the
# PEP 517 backend, one abi3 wheel) into a virtualenv, then
#   1. the team manual's command lines, verbatim, with AVA3_KEY_FILE;
#   2. the Python API (ava3-python/tests, pytest) against the installed
#      wheel, run from that folder, which holds no copy of the package; the
#      type stubs against the extension (mypy stubtest, mypy --strict);
#      and the same wheel on CPython 3.9 (tests/python39.sh);
#   3. the CLI's whole process suite (ava3-cli/tests/cli.rs) and its golden
#      transcripts against the wheel's `ava3` script, which runs the same
#      Rust program through ava_toolchain._native.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
# Outside the checkout, and readable by every user: one of the CLI tests runs
# the command as an unprivileged user, who must be able to read the script.
VENV=${AVA3_PKG_VENV:-/var/tmp/ava3-pkg-venv}
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
fi
# One wheel build at a time: maturin stages the extension at a fixed path
# of the shared target folder, and tests/runtimes.sh builds it too.
mkdir -p target
flock target/.ava3-wheel.lock \
  "$VENV/bin/pip" install --quiet --disable-pip-version-check --force-reinstall --no-deps ./ava3-python
"$VENV/bin/pip" install --quiet --disable-pip-version-check -r ava3-python/tests/requirements.txt
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

(cd ava3-python/tests && "$VENV/bin/python" -m pytest -q -p no:cacheprovider .)
# The type stubs match the extension as built (mypy's stubtest imports it),
# and the package type-checks strictly.
(cd /tmp && "$VENV/bin/python" -m mypy.stubtest --ignore-disjoint-bases ava_toolchain &&
  "$VENV/bin/python" -m mypy --strict --no-incremental -p ava_toolchain)

# The same abi3 wheel on CPython 3.9, the oldest it claims.
flock target/.ava3-wheel.lock \
  "$VENV/bin/pip" wheel --quiet --disable-pip-version-check --no-deps -w "$W/wheel" ./ava3-python
bash tests/python39.sh "$(ls "$W"/wheel/*.whl)"

AVA3_TEST_BIN=$VENV/bin/ava3 cargo test --locked -q -p ava3-cli --test cli --test transcripts --test trust --test first_hour
