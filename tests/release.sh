#!/usr/bin/env bash
# The cheap part of a release, run by every suite (tests/run-all.sh); the
# whole of it is `bash release/dist.sh` then `bash release/check.sh OUT`
# (README, "Releases"), timed in BENCHMARKS.md section 16.
#
# 1. one version: the workspace's, the Python package's (maturin takes it
#    from Cargo.toml: pyproject.toml must not set its own), the C header's
#    macros, and a CHANGELOG.md entry for it;
# 2. the static x86_64 `ava3` (musl, the dist profile, release/dist.sh's
#    target folder, so a later dist reuses it): no NEEDED entry, and a
#    round trip (encode, verify --deep, decode);
# 3. a folder signed as a release's is with that binary (`ava3 checksums
#    DIR --sign`), then checked three ways: `ava3 checksums -c --signer`,
#    `openssl pkeyutl -verify -rawin` over the labelled message, and
#    `sha256sum -c`; a changed file and a changed list fail.
set -euo pipefail
cd "$(dirname "$0")/.."
CACHE=${AVA3_DIST_CACHE:-$HOME/.cache/ava3-dist}
W=$PWD/tests/.work/release
rm -rf "$W" && mkdir -p "$W"
ok=0
pass() {
  ok=$((ok + 1))
  echo "ok: $*"
}
die() {
  echo "FAIL: $*"
  exit 1
}

VERSION=$(sed -n '/^\[workspace.package\]/,/^\[/s/^version = "\(.*\)"/\1/p' Cargo.toml)
[ -n "$VERSION" ] || die "no [workspace.package] version in Cargo.toml"
grep -q '^dynamic = \["version"\]' ava3-python/pyproject.toml && ! grep -q '^version *=' ava3-python/pyproject.toml ||
  die "ava3-python/pyproject.toml must take its version from Cargo.toml (dynamic)"
IFS=. read -r major minor patch <<<"$VERSION"
grep -q "#define AVA3_VERSION_MAJOR $major$" ava3-decoder-ffi/include/ava3.h &&
  grep -q "#define AVA3_VERSION_MINOR $minor$" ava3-decoder-ffi/include/ava3.h &&
  grep -q "#define AVA3_VERSION_PATCH $patch$" ava3-decoder-ffi/include/ava3.h || die "ava3.h's version is not $VERSION"
grep -q "^## $VERSION" CHANGELOG.md || die "CHANGELOG.md has no entry for $VERSION"
pass "one version, $VERSION: Cargo.toml, the wheel (from Cargo.toml), ava3.h, CHANGELOG.md"

T=x86_64-unknown-linux-musl
rustup target list --installed | grep -qx "$T" || rustup target add "$T"
CARGO_TARGET_DIR=$CACHE/target cargo build --quiet --locked -p ava3-cli --profile dist --target "$T"
AVA3=$CACHE/target/$T/dist/ava3
readelf -h "$AVA3" | grep -q 'Machine: *Advanced Micro Devices X86-64' || die "the musl ava3 is not an x86-64 ELF"
readelf -d "$AVA3" > "$W/dyn.txt" 2>&1 || die "readelf -d failed"
grep -q NEEDED "$W/dyn.txt" && die "the musl ava3 is not static"
export AVA3_KEY_FILE=$PWD/testdata/keys/dev.key
"$AVA3" encode -q testdata/samples/tiny-llama.amg -o "$W/m.ava3"
"$AVA3" verify -q --deep "$W/m.ava3" 2> "$W/verify.log" || { cat "$W/verify.log"; die "verify --deep"; }
"$AVA3" decode -q "$W/m.ava3" -o "$W/m.amg"
cmp -s "$W/m.amg" testdata/samples/tiny-llama.amg || die "the round trip changed the model"
unset AVA3_KEY_FILE
pass "static x86_64 ava3 (musl, $(($(stat -c %s "$AVA3") / 1048576)) MiB): no NEEDED entry; encode, verify --deep, decode"

R=$W/rel
mkdir -p "$R/wheels" "$R/include"
cp ava3-decoder-ffi/include/ava3.h "$R/include/"
cp "$AVA3" "$R/ava3"
head -c 100000 /dev/urandom > "$R/wheels/not-a-wheel.whl"
"$AVA3" keygen --signing -o "$W/publisher.key" > /dev/null
"$AVA3" checksums "$R" --sign "$W/publisher.key" > /dev/null
"$AVA3" checksums -c "$R/SHA256SUMS" --signer "$W/publisher.key.pub" -q || die "ava3 checksums -c"
{
  printf 'AVA3-checksums-v1\0'
  cat "$R/SHA256SUMS"
} > "$W/sums.msg"
openssl pkeyutl -verify -pubin -inkey "$W/publisher.key.pub" -rawin -in "$W/sums.msg" -sigfile "$R/SHA256SUMS.sig" \
  > /dev/null || die "openssl pkeyutl -verify"
(cd "$R" && sha256sum --quiet -c SHA256SUMS) || die "sha256sum -c"
pass "a signed folder (3 files): ava3 checksums -c, openssl pkeyutl -rawin, sha256sum -c"

printf 'x' >> "$R/include/ava3.h"
"$AVA3" checksums -c "$R/SHA256SUMS" --signer "$W/publisher.key.pub" -q > /dev/null 2>&1 && die "a changed file passed"
cp ava3-decoder-ffi/include/ava3.h "$R/include/"
sed -i 's/  ava3$/  ava4/' "$R/SHA256SUMS"
"$AVA3" checksums -c "$R/SHA256SUMS" --signer "$W/publisher.key.pub" -q > /dev/null 2>&1 && die "a changed list passed"
pass "a changed file and a changed list fail"
echo "release: $ok passed, 0 failed"
