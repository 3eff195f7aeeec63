#!/usr/bin/env bash
# Builds what an app consumes, from this checkout:
#
#   bash ava3-decoder-ffi/packaging/package.sh [OUT]      (default target/packages)
#
# OUT/android/
#   ava3-decoder-VERSION.aar   AndroidManifest.xml, classes.jar (com.ava.ava3.Ava3Model and
#                              Ava3Exception, from android/java), proguard.txt (keeps them for
#                              R8), jni/<abi>/libava3_decoder.so + libava3_jni.so (the JNI glue,
#                              android/jni/ava3_jni.c)
#   jniLibs/<abi>/*.so         the same libraries, for a Gradle module's src/main/jniLibs
#   static/<abi>/libava3_decoder.a, include/ava3.h   for native runtimes linking statically
# OUT/ios/
#   Ava3.xcframework           ios-arm64 and ios-arm64_x86_64-simulator slices of the
#                              static library, Headers/ (ava3.h, module.modulemap: `import Ava3`)
#   Package.swift              a Swift package whose binary target is that XCFramework
#
# Android shared libraries: with ANDROID_NDK_HOME set, linked by the NDK's
# clang for arm64-v8a, armeabi-v7a and x86_64 (API 24). Without it (as on
# this project's machines) arm64-v8a and x86_64 are linked by
# android/ndkless/link.sh, and armeabi-v7a ships as a static library only.
# iOS: static libraries need no Apple linker; the simulator slices are built
# with nightly's -Zbuild-std where rustup has no prebuilt std for them.
# Device builds go to a target directory outside the checkout
# (AVA3_DEVICE_CACHE, default ~/.cache/ava3-device), reused across clones.
#
# Prerequisites (checked first, each missing one named with how to get it;
# tests/device/install.sh installs them all on Debian): the rustup targets
# aarch64-linux-android, x86_64-linux-android, armv7-linux-androideabi,
# aarch64-apple-ios; a nightly toolchain with the rust-src component (the
# simulator slices); the llvm-tools component (llvm-strip, llvm-ar); a JDK
# (javac, jar); clang and lld (the NDK-less Android link); llvm-lipo
# (Debian's llvm package).
#
# The libraries are built with the workspace's `dist` profile, what
# release/dist.sh ships: the release profile without debug info (which the
# packages strip anyway).
#
# Time and space: about 3 minutes on a 2-core machine the first time (six
# builds of the library, two of them with std built from source), under a
# minute when nothing changed; about 1.4 GB in the cache folder.
# Each step prints a line as it starts.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
cd "$ROOT"
OUT=$(mkdir -p "${1:-target/packages}" && cd "${1:-target/packages}" && pwd)
CACHE=${AVA3_DEVICE_CACHE:-$HOME/.cache/ava3-device}
export CARGO_TARGET_DIR=$CACHE/target
# llvm-strip and llvm-ar from the Rust toolchain (rustup component llvm-tools)
# read the bitcode that Rust's std objects carry; Debian's LLVM 14 cannot.
# llvm-lipo is Debian's (only under its versioned directory).
PATH=$(rustc --print sysroot)/lib/rustlib/x86_64-unknown-linux-gnu/bin:$PATH
for d in /usr/lib/llvm-*/bin; do [ -d "$d" ] && PATH=$PATH:$d; done
VERSION=$(awk -F'"' '/^version = / { print $2; exit }' Cargo.toml)

# What is missing, all at once, before anything is built.
missing=()
installed_targets=$(rustup target list --installed 2>/dev/null || true)
for t in aarch64-linux-android x86_64-linux-android armv7-linux-androideabi aarch64-apple-ios; do
  grep -qx "$t" <<<"$installed_targets" || missing+=("rust target $t (rustup target add $t)")
done
rustup run nightly rustc --version >/dev/null 2>&1 || missing+=("a nightly toolchain (rustup toolchain install nightly)")
[ -d "$(rustup run nightly rustc --print sysroot 2>/dev/null)/lib/rustlib/src/rust/library" ] ||
  missing+=("rust-src for nightly (rustup component add rust-src --toolchain nightly)")
for tool in llvm-strip llvm-ar; do
  command -v "$tool" >/dev/null || missing+=("$tool (rustup component add llvm-tools)")
done
for tool in javac jar; do command -v "$tool" >/dev/null || missing+=("$tool (a JDK, e.g. apt install default-jdk-headless)"); done
command -v llvm-lipo >/dev/null || missing+=("llvm-lipo (apt install llvm)")
if [ -z "${ANDROID_NDK_HOME:-}" ]; then
  command -v clang >/dev/null || missing+=("clang (apt install clang), or set ANDROID_NDK_HOME")
  command -v ld.lld >/dev/null || missing+=("lld (apt install lld), or set ANDROID_NDK_HOME")
fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "package: missing prerequisites (tests/device/install.sh installs them all on Debian):" >&2
  printf '  - %s\n' "${missing[@]}" >&2
  exit 2
fi
step=0
progress() { step=$((step + 1)); echo "package: [$step/8] $* (at ${SECONDS}s)" >&2; }
HEADER=ava3-decoder-ffi/include/ava3.h
rm -rf "$OUT/android" "$OUT/ios"
mkdir -p "$OUT/android" "$OUT/ios"

staticlib() { # RUST_TARGET [cargo args...] -> path of libava3_decoder.a
  local t=$1
  shift
  cargo "$@" rustc --quiet --profile dist --locked --target "$t" -p ava3-decoder-ffi --lib --crate-type staticlib
  echo "$CARGO_TARGET_DIR/$t/dist/libava3_decoder.a"
}

# ---- Android ---------------------------------------------------------------
A=$OUT/android
mkdir -p "$A/include" "$A/stage/jni"
cp "$HEADER" "$A/include/"
for pair in arm64-v8a:aarch64-linux-android x86_64:x86_64-linux-android armeabi-v7a:armv7-linux-androideabi; do
  abi=${pair%%:*} t=${pair#*:}
  progress "Android $abi: the library for $t"
  lib=$(staticlib "$t")
  mkdir -p "$A/static/$abi"
  llvm-strip --strip-debug -o "$A/static/$abi/libava3_decoder.a" "$lib"
  so=$A/jniLibs/$abi
  if [ -n "${ANDROID_NDK_HOME:-}" ]; then
    case $abi in arm64-v8a) cc=aarch64-linux-android24-clang ;; x86_64) cc=x86_64-linux-android24-clang ;;
      armeabi-v7a) cc=armv7a-linux-androideabi24-clang ;; esac
    cc=$ANDROID_NDK_HOME/toolchains/llvm/prebuilt/linux-x86_64/bin/$cc
    mkdir -p "$so"
    "$cc" -shared -o "$so/libava3_decoder.so" -Wl,-soname,libava3_decoder.so -Wl,--whole-archive "$lib" \
      -Wl,--no-whole-archive -Wl,--gc-sections -Wl,-z,max-page-size=16384 \
      -Wl,--version-script=<(printf '{ global: ava3_*; local: *; };\n') -llog -ldl -lm
    "$cc" -shared -fPIC -o "$so/libava3_jni.so" -Wl,-soname,libava3_jni.so -I ava3-decoder-ffi/include \
      "$HERE/android/jni/ava3_jni.c" -L "$so" -lava3_decoder
  elif [ "$abi" != armeabi-v7a ]; then
    bash "$HERE/android/ndkless/link.sh" "$t" "$lib" "$so"
  else
    echo "package: $abi: static library only (its shared library needs the NDK: set ANDROID_NDK_HOME)" >&2
    continue
  fi
  for f in "$so"/*.so; do llvm-strip --strip-debug "$f"; done
  mkdir -p "$A/stage/jni/$abi"
  cp "$so"/*.so "$A/stage/jni/$abi/"
done
progress "Android: classes.jar and the .aar"
J=$(mktemp -d)
javac --release 8 -Xlint:-options -Werror -d "$J" "$HERE"/android/java/com/ava/ava3/*.java
(cd "$J" && jar --create --file "$A/stage/classes.jar" com)
rm -rf "$J"
cp "$HERE/android/AndroidManifest.xml" "$HERE/android/proguard.txt" "$A/stage/"
: > "$A/stage/R.txt"
(cd "$A/stage" && python3 -m zipfile -c "$A/ava3-decoder-$VERSION.aar" AndroidManifest.xml classes.jar proguard.txt R.txt jni)
rm -rf "$A/stage"

# ---- iOS -------------------------------------------------------------------
I=$OUT/ios
X=$I/Ava3.xcframework
export IPHONEOS_DEPLOYMENT_TARGET=13.0
progress "iOS: the device library (aarch64-apple-ios)"
dev=$(staticlib aarch64-apple-ios)
# rustup here has no prebuilt std for the simulators: build it from rust-src.
progress "iOS: the arm64 simulator library (std built from source)"
sim_arm=$(staticlib aarch64-apple-ios-sim +nightly -Zbuild-std=std,panic_unwind)
progress "iOS: the x86_64 simulator library (std built from source)"
sim_x86=$(staticlib x86_64-apple-ios +nightly -Zbuild-std=std,panic_unwind)
progress "iOS: Ava3.xcframework and Package.swift"
for slice in ios-arm64 ios-arm64_x86_64-simulator; do
  mkdir -p "$X/$slice/Headers"
  cp "$HEADER" "$HERE/ios/module.modulemap" "$X/$slice/Headers/"
done
llvm-strip --strip-debug -o "$X/ios-arm64/libava3_decoder.a" "$dev"
S=$(mktemp -d)
llvm-strip --strip-debug -o "$S/arm64.a" "$sim_arm"
llvm-strip --strip-debug -o "$S/x86_64.a" "$sim_x86"
llvm-lipo -create "$S/arm64.a" "$S/x86_64.a" -output "$X/ios-arm64_x86_64-simulator/libava3_decoder.a"
rm -rf "$S"
python3 - "$X/Info.plist" <<'PY'
import plistlib, sys
def slice(ident, archs, variant=None):
    d = {"LibraryIdentifier": ident, "LibraryPath": "libava3_decoder.a", "HeadersPath": "Headers",
         "SupportedArchitectures": archs, "SupportedPlatform": "ios"}
    if variant:
        d["SupportedPlatformVariant"] = variant
    return d
info = {"AvailableLibraries": [slice("ios-arm64", ["arm64"]),
                               slice("ios-arm64_x86_64-simulator", ["arm64", "x86_64"], "simulator")],
        "CFBundlePackageType": "XFWK", "XCFrameworkFormatVersion": "1.0"}
with open(sys.argv[1], "wb") as f:
    plistlib.dump(info, f)
PY
cp "$HERE/ios/Package.swift" "$I/"
echo "packages in $OUT:"
(cd "$OUT" && find . -type f | sort | sed 's/^/  /')
