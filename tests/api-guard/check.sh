#!/usr/bin/env bash
# The API guard (run by tests/run-all.sh): Encoder::new_with_salt_for_test_vectors
# exists only with ava3-format's `test-vectors` feature.
#   1. src/main.rs calls it, with ava3-format as a shipped build has it (no
#      feature): `cargo check` must fail, and every error rustc reports must
#      be E0599 (no such associated item) on that very name. Read from
#      --message-format=json (error codes and spans, not rustc's wording).
#   2. Positive control: the same crate with its `test-vectors` feature
#      (ava3-format's) must compile, so the guard cannot pass because the
#      crate broke in some other way (a renamed type, a stale Cargo.lock).
#
# The crate is checked from a copy in tests/.work/api-guard, with the
# workspace's Cargo.lock: the same versions as the workspace, and no lock
# file of its own to keep up with ava3-format's dependencies.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
ITEM=new_with_salt_for_test_vectors
G=$ROOT/tests/.work/api-guard
rm -rf "$G"
mkdir -p "$G"
cp -r tests/api-guard/src "$G/"
cp Cargo.lock "$G/Cargo.lock"
sed "s|path = \"../../ava3-format\"|path = \"$ROOT/ava3-format\"|" tests/api-guard/Cargo.toml >"$G/Cargo.toml"
grep -q "path = \"$ROOT/ava3-format\"" "$G/Cargo.toml"
CHECK=(cargo check --quiet --message-format=json --manifest-path "$G/Cargo.toml" --target-dir "$ROOT/target/api-guard")
OUT=$G/out
mkdir -p "$OUT"

# Prints the rendered errors of a JSON message stream; with an item name,
# exits 0 only if there is at least one error and every one is E0599 on it.
errors() {
  python3 -c '
import json, sys
item = sys.argv[1] if len(sys.argv) > 1 else None
errors = []
for line in sys.stdin:
    try:
        m = json.loads(line)
    except ValueError:
        continue
    d = m.get("message") if m.get("reason") == "compiler-message" else None
    # (rustc closes with an "aborting due to ..." error that has no span)
    if d and d["level"] == "error" and d["spans"]:
        errors.append(d)

def on_item(d):
    return any(
        t["text"][t["highlight_start"] - 1 : t["highlight_end"] - 1] == item
        for s in d["spans"] if s["is_primary"] for t in s["text"])

for d in errors:
    sys.stdout.write(d["rendered"])
if item is not None:
    sys.exit(0 if errors and all((d.get("code") or {}).get("code") == "E0599" and on_item(d) for d in errors) else 1)
' "$@"
}

if "${CHECK[@]}" >"$OUT/shipped.json" 2>"$OUT/shipped.err"; then
  echo "FAIL: a crate without the test-vectors feature can build a fixed-salt encoder"
  exit 1
fi
if ! errors "$ITEM" <"$OUT/shipped.json" >"$OUT/shipped.txt"; then
  cat "$OUT/shipped.txt" "$OUT/shipped.err"
  echo "FAIL: without the test-vectors feature, the guard crate fails for another reason than E0599 on $ITEM (above)"
  exit 1
fi
if ! "${CHECK[@]}" --features test-vectors >"$OUT/control.json" 2>"$OUT/control.err"; then
  errors <"$OUT/control.json" || true
  cat "$OUT/control.err"
  echo "FAIL: the positive control (the guard crate with the test-vectors feature) does not compile"
  exit 1
fi
echo "ok: Encoder::$ITEM exists only with the test-vectors feature (E0599 without it; compiles with it)"
