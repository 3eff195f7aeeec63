#!/usr/bin/env bash
# Runs every fuzz target briefly (FUZZ_SECONDS each, default 20) on a seed
# corpus made from testdata/vectors, so that a regression shows in CI. A
# longer run: FUZZ_SECONDS=600 bash tests/fuzz-smoke.sh
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
SECONDS_EACH=${FUZZ_SECONDS:-20}
# cargo-fuzz is built once per version, outside the checkout.
FUZZ_VERSION=0.13.2
TOOLS=${AVA3_CACHE:-$HOME/.cache/ava3}/cargo-fuzz-$FUZZ_VERSION
export PATH=$TOOLS/bin:$PATH
if ! cargo fuzz --version 2>/dev/null | grep -q "$FUZZ_VERSION"; then
  # A debug build: it only drives cargo (25 s of CPU, not 46 s).
  cargo install --debug --locked --root "$TOOLS" --version "$FUZZ_VERSION" cargo-fuzz
fi
# Seeds: the AVA3 bytes of every vector (after the blank line), plus the
# fuzz/regressions/ files kept from earlier findings.
python3 - <<'PY'
import pathlib
root = pathlib.Path(".")
targets = ["header", "decode", "read_at", "keyless", "ffi"]
for t in targets:
    d = root / "fuzz" / "corpus" / t
    d.mkdir(parents=True, exist_ok=True)
    for v in sorted((root / "testdata" / "vectors").iterdir()):
        body = v.read_bytes().split(b"\n\n", 1)[1]
        if t == "read_at":
            body = (1000).to_bytes(8, "little") + (70000).to_bytes(4, "little") + body
        (d / v.name).write_bytes(body)
    reg = root / "fuzz" / "regressions" / t
    if reg.is_dir():
        for f in reg.iterdir():
            (d / ("regression-" + f.name)).write_bytes(f.read_bytes())
PY
cd fuzz
for t in header decode read_at keyless ffi; do
  echo "-- fuzz $t for ${SECONDS_EACH}s"
  log=../tests/.work/fuzz-$t.log
  if ! cargo +nightly fuzz run "$t" "corpus/$t" -- \
      -max_total_time="$SECONDS_EACH" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 >"$log" 2>&1; then
    grep -vE "^\s+Compiling" "$log" | tail -40 >&2
    echo "fuzz target $t failed: a finding is in fuzz/artifacts/$t (add it to fuzz/regressions/$t once fixed)" >&2
    exit 1
  fi
  grep -E "^Done|stat::number_of_executed_units|stat::peak_rss_mb" "$log" || true
done
