#!/usr/bin/env bash
# Checks a folder release/dist.sh built, from outside, as a user and a
# release manager would:
#
#   bash release/check.sh OUT [PUBLIC_KEY]      (default OUT.signer.pub)
#
# 1. contents: four wheels with their platform tags, four binaries, the
#    device packages, the header, SHA256SUMS and its signature;
# 2. the signature and every checksum: `ava3 checksums -c --signer`,
#    `openssl pkeyutl -verify -rawin` over the labelled message (spec E.4),
#    and `sha256sum -c`;
# 3. the wheels' metadata (`twine check --strict`), and `auditwheel show`
#    on the manylinux ones: manylinux_2_17 (2014), no library from outside;
# 4. the Linux binaries: static (no NEEDED entry), run here (x86_64) and
#    under qemu-aarch64: an encode, a keyed verify and a decode round trip;
# 5. the macOS wheels and binaries, read without a Mac (not run: there is
#    none here): Mach-O architecture, minimum macOS at or below the wheel's
#    tag, imports only from /usr/lib, the extension's PyInit__native
#    exported, an arm64 code signature present;
# 6. the aarch64 wheel's own tests on Debian's arm64 CPython 3.11 under
#    qemu-aarch64 (release/python-arm64.sh);
# 7. `cargo publish --dry-run -p ava3-format -p ava3-app -p ava3-cli`: the
#    crates package and build as crates.io would have them (the crates.io
#    index: a registry; publishing several crates in one command needs
#    cargo 1.90 or later, only here).
#
# A folder signed with the development key (it holds DEVELOPMENT-SIGNATURE)
# fails the check unless AVA3_ACCEPT_DEVELOPMENT_SIGNATURE=1: it is not a
# release. PUBLIC_KEY must come from the publisher, not from the folder's
# own run: OUT.signer.pub, the default, only proves the folder is what that
# run signed.
#
# Prerequisites: what release/dist.sh installs (its PyPI tools, the rustup
# targets), qemu-aarch64 and binutils' readelf (tests/device/install.sh),
# rustup's llvm-tools (for llvm-objdump and llvm-nm), openssl, and a Debian
# host for the arm64 CPython (apt-get download, dpkg-deb).
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=$(readlink -f "$1")
PUB=${2:-$OUT.signer.pub}
VERSION=$(sed -n '/^\[workspace.package\]/,/^\[/s/^version = "\(.*\)"/\1/p' Cargo.toml)
CACHE=${AVA3_DIST_CACHE:-$HOME/.cache/ava3-dist}
TOOLS=$CACHE/tools-$(sha256sum < release/tools.txt | cut -c1-12)
[ -x "$TOOLS/bin/twine" ] || { echo "check: run release/dist.sh first (its tools: $TOOLS)" >&2; exit 2; }
rustup component list --installed | grep -q '^llvm-tools' || rustup component add llvm-tools
LLVM=$(rustc --print sysroot)/lib/rustlib/x86_64-unknown-linux-gnu/bin
W=$PWD/tests/.work/release-check
rm -rf "$W" && mkdir -p "$W"
ok=0
failed=0
pass() {
  ok=$((ok + 1))
  echo "ok: $*"
}
fail() {
  failed=$((failed + 1))
  echo "FAIL: $*"
}
check() { # DESCRIPTION COMMAND...
  local what=$1
  shift
  if "$@" > "$W/last.log" 2>&1; then pass "$what"; else
    fail "$what"
    tail -n 5 "$W/last.log"
  fi
}

echo "-- 1. contents of $OUT"
WHEEL_TAGS=(manylinux2014_x86_64.manylinux_2_17_x86_64 manylinux2014_aarch64.manylinux_2_17_aarch64
  macosx_11_0_arm64 macosx_10_12_x86_64)
for tag in "${WHEEL_TAGS[@]}"; do
  check "wheel $tag" test -f "$OUT/wheels/ava_toolchain-$VERSION-cp39-abi3-$tag.whl"
done
BINS=(x86_64-unknown-linux-musl aarch64-unknown-linux-musl aarch64-apple-darwin x86_64-apple-darwin)
for t in "${BINS[@]}"; do
  check "binary ava3-$VERSION-$t" test -x "$OUT/bin/ava3-$VERSION-$t"
done
check "Android .aar" test -f "$OUT/device/android/ava3-decoder-$VERSION.aar"
check "iOS .xcframework and Package.swift" test -f "$OUT/device/ios/Package.swift" -a -d "$OUT/device/ios/Ava3.xcframework"
check "the C header" cmp -s "$OUT/include/ava3.h" ava3-decoder-ffi/include/ava3.h
check "SHA256SUMS and its signature" test -s "$OUT/SHA256SUMS" -a -s "$OUT/SHA256SUMS.sig"
if [ -f "$OUT/DEVELOPMENT-SIGNATURE" ]; then
  if [ "${AVA3_ACCEPT_DEVELOPMENT_SIGNATURE:-}" = 1 ]; then
    echo "NOTE: signed with a development key (DEVELOPMENT-SIGNATURE): accepted as asked, not a release"
  else
    fail "signed with a development key (DEVELOPMENT-SIGNATURE): not a release (AVA3_ACCEPT_DEVELOPMENT_SIGNATURE=1 to check it anyway)"
  fi
fi
listed=$(wc -l < "$OUT/SHA256SUMS")
files=$(cd "$OUT" && find . -type f ! -name SHA256SUMS ! -name SHA256SUMS.sig | wc -l)
check "SHA256SUMS lists every file ($listed of $files)" test "$listed" = "$files"

echo "-- 2. the signature and the checksums"
AVA3=$OUT/bin/ava3-$VERSION-x86_64-unknown-linux-musl
check "ava3 checksums -c --signer (the shipped binary)" "$AVA3" checksums -c "$OUT/SHA256SUMS" --signer "$PUB" -q
{
  printf 'AVA3-checksums-v1\0'
  cat "$OUT/SHA256SUMS"
} > "$W/sums.msg"
check "openssl pkeyutl -verify -rawin" openssl pkeyutl -verify -pubin -inkey "$PUB" -rawin -in "$W/sums.msg" \
  -sigfile "$OUT/SHA256SUMS.sig"
check "sha256sum -c" sh -c "cd '$OUT' && sha256sum --quiet -c SHA256SUMS"
cp -r "$OUT" "$W/tampered"
printf 'x' >> "$W/tampered/include/ava3.h"
if "$AVA3" checksums -c "$W/tampered/SHA256SUMS" --signer "$PUB" -q > "$W/last.log" 2>&1; then
  fail "a changed file fails the check"
else pass "a changed file fails the check"; fi

echo "-- 3. wheel metadata and manylinux"
check "twine check --strict" "$TOOLS/bin/twine" check --strict "$OUT"/wheels/*.whl
for arch in x86_64 aarch64; do
  whl=$(ls "$OUT"/wheels/*manylinux2014_"$arch"*.whl)
  # (auditwheel wraps its lines: joined first.)
  if "$TOOLS/bin/auditwheel" show "$whl" > "$W/aw-$arch.txt" 2>&1 &&
    tr '\n' ' ' < "$W/aw-$arch.txt" | grep -q "consistent with the following platform tag: \"manylinux_2_17_$arch\"" &&
    ! tr '\n' ' ' < "$W/aw-$arch.txt" | grep -q "external shared libraries are required"; then
    pass "auditwheel show: $arch is manylinux_2_17 (2014), nothing from outside the wheel"
  else
    fail "auditwheel show $arch"
    cat "$W/aw-$arch.txt"
  fi
done

echo "-- 4. the Linux binaries"
roundtrip() { # RUNNER... : encode, verify (keyed), decode the sample GGUF
  local d=$W/rt-$RANDOM
  mkdir -p "$d"
  AVA3_KEY_FILE=testdata/keys/dev.key "$@" encode -q testdata/samples/tiny-llama.amg -o "$d/m.ava3" &&
    AVA3_KEY_FILE=testdata/keys/dev.key "$@" verify -q --deep "$d/m.ava3" &&
    AVA3_KEY_FILE=testdata/keys/dev.key "$@" decode "$d/m.ava3" -o "$d/m.amg" &&
    cmp -s "$d/m.amg" testdata/samples/tiny-llama.amg
}
static() { # FILE MACHINE: an ELF for MACHINE with no NEEDED entry
  readelf -h "$1" | grep -q "Machine: *$2" || { echo "$1: not an ELF for $2"; return 1; }
  readelf -d "$1" > "$W/dyn.txt" 2>&1 || return 1
  ! grep -q NEEDED "$W/dyn.txt"
}
check "x86_64-unknown-linux-musl: static (an x86-64 ELF, no NEEDED entry)" static \
  "$OUT/bin/ava3-$VERSION-x86_64-unknown-linux-musl" "Advanced Micro Devices X86-64"
check "aarch64-unknown-linux-musl: static (an AArch64 ELF, no NEEDED entry)" static \
  "$OUT/bin/ava3-$VERSION-aarch64-unknown-linux-musl" AArch64
check "x86_64 musl: a round trip" roundtrip "$OUT/bin/ava3-$VERSION-x86_64-unknown-linux-musl"
check "aarch64 musl under qemu-aarch64: a round trip" roundtrip qemu-aarch64 -cpu max \
  "$OUT/bin/ava3-$VERSION-aarch64-unknown-linux-musl"

echo "-- 5. macOS, read without a Mac (nothing here runs it)"
macho() { # FILE ARCH MINOS
  local f=$1 arch=$2 minos=$3 h
  h=$("$LLVM/llvm-objdump" --macho --private-headers "$f")
  grep -qE "MH_MAGIC_64 +$arch " <<<"$h" || { echo "$f: not a $arch Mach-O"; return 1; }
  local got
  got=$(awk '/LC_BUILD_VERSION/{f=1} f && /minos/{print $2; exit}' <<<"$h")
  [ -n "$got" ] || got=$(awk '/LC_VERSION_MIN_MACOSX/{f=1} f && /version/{print $2; exit}' <<<"$h")
  [ -n "$got" ] || { echo "$f: no minimum macOS version recorded"; return 1; }
  [ "$(printf '%s\n%s\n' "$got" "$minos" | sort -V | tail -n 1)" = "$minos" ] ||
    { echo "$f: minimum macOS $got, above $minos"; return 1; }
  # Imports: only the system's /usr/lib (the first line of a dylib is its own id).
  "$LLVM/llvm-objdump" --macho --dylibs-used "$f" | tail -n +2 | grep -v "@rpath/ava_toolchain._native" |
    awk '{print $1}' | grep -v '^/usr/lib/' && { echo "$f: a library from outside /usr/lib"; return 1; }
  if [ "$arch" = ARM64 ]; then grep -q LC_CODE_SIGNATURE <<<"$h" || { echo "$f: no code signature"; return 1; }; fi
  echo "$f: $arch, minimum macOS $got"
}
for spec in "macosx_11_0_arm64 ARM64 11.0" "macosx_10_12_x86_64 X86_64 10.12"; do
  read -r tag arch minos <<<"$spec"
  d=$W/mac-$tag
  mkdir -p "$d"
  (cd "$d" && python3 -m zipfile -e "$OUT/wheels/ava_toolchain-$VERSION-cp39-abi3-$tag.whl" .)
  check "wheel $tag: Mach-O $arch, macOS $minos+, /usr/lib imports only" macho "$d/ava_toolchain/_native.abi3.so" \
    "$arch" "$minos"
  check "wheel $tag: exports _PyInit__native" sh -c \
    "'$LLVM/llvm-nm' --extern-only --defined-only '$d/ava_toolchain/_native.abi3.so' | grep -q ' T _PyInit__native$'"
done
check "ava3 arm64 (macOS): Mach-O ARM64, macOS 11.0+" macho "$OUT/bin/ava3-$VERSION-aarch64-apple-darwin" ARM64 11.0
check "ava3 x86_64 (macOS): Mach-O X86_64, macOS 10.12+" macho "$OUT/bin/ava3-$VERSION-x86_64-apple-darwin" X86_64 10.12

echo "-- 6. the aarch64 wheel's tests on arm64 CPython under qemu"
if bash release/python-arm64.sh "$(ls "$OUT"/wheels/*manylinux2014_aarch64*.whl)" > "$W/python-arm64.log" 2>&1; then
  pass "aarch64 wheel: $(grep -E '^[0-9]+ passed' "$W/python-arm64.log" | tail -n 1)"
else
  fail "aarch64 wheel's tests under qemu (log: $W/python-arm64.log)"
  tail -n 15 "$W/python-arm64.log"
fi

echo "-- 7. cargo publish --dry-run"
if cargo publish --dry-run --locked -p ava3-format -p ava3-app -p ava3-cli > "$W/publish.log" 2>&1; then
  pass "cargo publish --dry-run -p ava3-format -p ava3-app -p ava3-cli"
else
  fail "cargo publish --dry-run (log: $W/publish.log)"
  tail -n 15 "$W/publish.log"
fi

printf '\nrelease check: %d passed, %d failed\n' "$ok" "$failed"
[ "$failed" = 0 ]
