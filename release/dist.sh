#!/usr/bin/env bash
# Builds everything AVA3 ships into one folder, from this checkout:
#
#   bash release/dist.sh [OUT]        (default release/out/ava3-VERSION)
#
# OUT/
#   wheels/   ava_toolchain-VERSION-cp39-abi3-*.whl: manylinux2014 x86_64 and
#             aarch64, macOS arm64 (11.0+) and x86_64 (10.12+), cross-built
#             here with maturin and zig (no Apple SDK: nothing links more
#             than libSystem)
#   bin/      ava3-VERSION-<target>: Linux x86_64 and aarch64 static (musl,
#             any distribution), macOS arm64 and x86_64
#   device/   the Android .aar, jniLibs and static libraries, the iOS
#             .xcframework and Package.swift (ava3-decoder-ffi/packaging)
#   include/  ava3.h, the C header
#   SHA256SUMS, SHA256SUMS.sig   every file above, signed with the
#             publisher key (spec appendix E.4)
#
# The signing key: AVA3_RELEASE_SIGNING_KEY (a path, from `ava3 keygen
# --signing`, with its .pub beside it). Without it a development key in the
# cache signs, the output says so, and the folder holds a listed and signed
# DEVELOPMENT-SIGNATURE file, which release/check.sh refuses unless told:
# such a folder is for testing, not for shipping. OUT, when given, must be
# empty or an earlier output (it is replaced).
#
# Prerequisites, checked first (each missing one named, with how it is
# had): Python 3 with venv; rustup targets (added: rustup's own server);
# the aarch64 cross gcc, qemu and what the device packages need
# (tests/device/install.sh: Debian packages, as root); and the pinned
# PyPI tools of release/tools.txt, installed once into AVA3_DIST_CACHE (default
# ~/.cache/ava3-dist): maturin, ziglang, cargo-zigbuild, auditwheel,
# twine. Builds go to AVA3_DIST_CACHE/target, outside the checkout. A fresh
# machine pays once: about 140 MB of tools (zig is 98 MB), four rustup
# targets, and the cold builds; see BENCHMARKS.md section 16.
#
# release/check.sh OUT checks the folder (auditwheel, the aarch64 wheel's
# tests under qemu, the binaries run, Mach-O headers, the signature).
set -euo pipefail
# OUT is taken from where the command was given, then resolved.
OUT_ARG=${1:-}
[ -n "$OUT_ARG" ] && OUT_ARG=$(realpath -m "$OUT_ARG")
cd "$(dirname "$0")/.."
ROOT=$PWD
VERSION=$(sed -n '/^\[workspace.package\]/,/^\[/s/^version = "\(.*\)"/\1/p' Cargo.toml)
OUT=${OUT_ARG:-$ROOT/release/out/ava3-$VERSION}
# The folder is replaced: only when it is empty or an earlier output.
if [ -e "$OUT" ] && [ -n "$(ls -A "$OUT" 2>/dev/null)" ] && [ ! -f "$OUT/SHA256SUMS" ]; then
  echo "dist: $OUT exists and is not an earlier release folder (no SHA256SUMS): not replacing it" >&2
  exit 2
fi
CACHE=${AVA3_DIST_CACHE:-$HOME/.cache/ava3-dist}
export CARGO_TARGET_DIR=$CACHE/target
export CARGO_TERM_COLOR=${CARGO_TERM_COLOR:-never}
SECONDS=0
n=0
STEPS=7
step() {
  n=$((n + 1))
  printf '\n[%d/%d] %s (at %ds)\n' "$n" "$STEPS" "$*" "$SECONDS"
}

step "prerequisites"
# The tools, pinned; their folder is named after the pins, so a change of
# a pin installs anew beside the old one.
# (release/tools.txt: the pins; release/check.sh finds the same folder.)
PINS=$(tr '\n' ' ' < release/tools.txt)
TOOLS=$CACHE/tools-$(sha256sum < release/tools.txt | cut -c1-12)
if [ ! -x "$TOOLS/bin/maturin" ]; then
  echo "installing $PINS into $TOOLS (about 140 MB from PyPI, once)"
  rm -rf "$TOOLS"
  python3 -m venv "$TOOLS"
  # shellcheck disable=SC2086
  "$TOOLS/bin/pip" install --quiet --disable-pip-version-check $PINS
fi
export PATH=$TOOLS/bin:$PATH
TARGETS=(x86_64-unknown-linux-gnu aarch64-unknown-linux-gnu x86_64-unknown-linux-musl aarch64-unknown-linux-musl
  x86_64-apple-darwin aarch64-apple-darwin)
installed=$(rustup target list --installed)
for t in "${TARGETS[@]}"; do
  grep -qx "$t" <<<"$installed" || rustup target add "$t"
done
# The aarch64 linker and the device packages' prerequisites.
if ! command -v aarch64-linux-gnu-gcc >/dev/null || ! command -v qemu-aarch64 >/dev/null; then
  echo "installing the Debian packages of the device path (tests/device/install.sh)"
  mkdir -p "$HOME/.cache/ava3-device"
  flock "$HOME/.cache/ava3-device/install.lock" bash tests/device/install.sh
fi
for tool in aarch64-linux-gnu-gcc openssl sha256sum; do
  command -v "$tool" >/dev/null || {
    echo "dist: $tool is missing (Debian: gcc-aarch64-linux-gnu, openssl, coreutils)" >&2
    exit 1
  }
done
rm -rf "$OUT"
mkdir -p "$OUT/wheels" "$OUT/bin" "$OUT/include"

step "Python wheels (abi3, CPython 3.9+): manylinux2014 x86_64 and aarch64, macOS arm64 and x86_64"
for t in x86_64-unknown-linux-gnu aarch64-unknown-linux-gnu aarch64-apple-darwin x86_64-apple-darwin; do
  compat=()
  case $t in *linux*) compat=(--compatibility manylinux2014) ;; esac
  echo "  $t"
  maturin build --quiet -m ava3-python/Cargo.toml --profile dist --zig "${compat[@]}" --target "$t" \
    --out "$OUT/wheels" > "$CACHE/maturin.log" 2>&1 || {
    cat "$CACHE/maturin.log"
    echo "dist: the $t wheel failed" >&2
    exit 1
  }
done

step "the ava3 binaries: Linux x86_64 and aarch64 (static, musl), macOS arm64 and x86_64"
export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_MUSL_LINKER=aarch64-linux-gnu-gcc
for t in x86_64-unknown-linux-musl aarch64-unknown-linux-musl; do
  echo "  $t"
  cargo build --quiet --locked -p ava3-cli --profile dist --target "$t"
  cp "$CARGO_TARGET_DIR/$t/dist/ava3" "$OUT/bin/ava3-$VERSION-$t"
done
# rustc's own minimum macOS versions (zig's default would be newer).
for t in aarch64-apple-darwin x86_64-apple-darwin; do
  echo "  $t"
  min=11.0
  [ "$t" = x86_64-apple-darwin ] && min=10.12
  MACOSX_DEPLOYMENT_TARGET=$min cargo zigbuild --quiet --locked -p ava3-cli --profile dist --target "$t"
  cp "$CARGO_TARGET_DIR/$t/dist/ava3" "$OUT/bin/ava3-$VERSION-$t"
done

step "device packages: Android .aar, jniLibs, static libraries; iOS .xcframework, Package.swift"
bash ava3-decoder-ffi/packaging/package.sh "$OUT/device" | tail -n 2

step "the C header"
cp ava3-decoder-ffi/include/ava3.h "$OUT/include/"

step "SHA256SUMS, signed"
AVA3=$OUT/bin/ava3-$VERSION-x86_64-unknown-linux-musl
KEY=${AVA3_RELEASE_SIGNING_KEY:-}
if [ -z "$KEY" ]; then
  KEY=$CACHE/development-signing.key
  [ -f "$KEY" ] || "$AVA3" keygen --signing -o "$KEY" > /dev/null
  # Inside the folder, listed and signed: a development folder says so.
  printf '%s\n' "This folder was signed with a development key ($KEY), not the" \
    "publisher's: it is for testing, not for shipping." > "$OUT/DEVELOPMENT-SIGNATURE"
  echo "  DEVELOPMENT SIGNATURE: no AVA3_RELEASE_SIGNING_KEY; signed with $KEY (not for shipping)"
fi
[ -f "$KEY.pub" ] || { echo "dist: $KEY.pub (the public key beside the signing key) is missing" >&2; exit 2; }
"$AVA3" checksums "$OUT" --sign "$KEY"
cp "$KEY.pub" "$OUT.signer.pub"

step "done"
(cd "$OUT" && find . -type f | sort | sed 's|^\./|  |')
echo "dist: $OUT ($(du -sh "$OUT" | cut -f1), ${SECONDS}s); the publisher's public key: $OUT.signer.pub"
echo "check it: bash release/check.sh $OUT"
