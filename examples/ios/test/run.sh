#!/usr/bin/env bash
# Compiles examples/ios/Ava3Model.swift (the iOS handle, unchanged) with
# examples/ios/test/main.swift by a real Swift compiler on Linux, against the
# host libava3_decoder through the XCFramework's own module.modulemap and
# ava3.h (`import Ava3`), and runs it on files the ava3 CLI makes here:
#
#   run.sh [HOST_DIR [WORK [HEADERS_DIR]]]
#
# HOST_DIR: the host release build with `ava3` and libava3_decoder.so (default
# ${CARGO_TARGET_DIR:-target}/release, built here by cargo); WORK: scratch
# folder (default tests/.work/ios-swift); HEADERS_DIR: the Headers/ folder of
# an Ava3.xcframework slice (tests/device.sh passes the one package.sh built);
# by default the same two files package.sh copies there
# (ava3-decoder-ffi/include/ava3.h, ava3-decoder-ffi/packaging/ios/module.modulemap).
#
# The compiler: Debian trixie's swiftlang in a minbase trixie chroot built once
# by setup-toolchain.sh in $AVA3_DEVICE_CACHE/swift-trixie-<version> (measured
# here: 577-582 MB download, 51-58 s, 2.6 GB on disk). Opt-in: used when that
# cache exists, installed first when AVA3_SWIFT=1; otherwise exit 77 with the
# reason (the caller reports a skip). Needs root (chroot). The handle is
# compiled twice, -warnings-as-errors: alone in the Swift 6 language mode (as
# an Xcode 16 app may build it), and with main.swift in Swift 5 mode, linked
# with the host library and run (about 5 s here). Any compile error or failed
# check is an error.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../../.." && pwd)
CACHE=${AVA3_DEVICE_CACHE:-$HOME/.cache/ava3-device}
skip() { echo "ios/test/run.sh: SKIP ($*)" >&2; exit 77; }

[ "$(id -u)" = 0 ] || skip "the Swift toolchain runs in a chroot: needs root"
TC=""
for d in "$CACHE"/swift-trixie-*/; do [ -f "$d/.ava3-complete" ] && TC=${d%/}; done
if [ -z "$TC" ]; then
  [ "${AVA3_SWIFT:-0}" = 1 ] ||
    skip "no Swift toolchain in $CACHE/swift-trixie-*; AVA3_SWIFT=1 installs it (Debian trixie swiftlang: ~577 MB download, ~1 min, 2.6 GB)"
  command -v debootstrap >/dev/null || skip "AVA3_SWIFT=1 but debootstrap is not installed (apt-get install debootstrap)"
  TC=$(bash "$HERE/setup-toolchain.sh")
fi

if [ $# -ge 1 ]; then
  HOST=$1
else
  (cd "$ROOT" && cargo build --quiet --release --locked -p ava3-decoder-ffi -p ava3-cli)
  HOST=${CARGO_TARGET_DIR:-$ROOT/target}/release
fi
W=${2:-$ROOT/tests/.work/ios-swift}
HEADERS=${3:-}
AVA3=$HOST/ava3
rm -rf "$W" && mkdir -p "$W/files" "$W/module" "$W/lib"

# The module: the XCFramework's Headers/ as shipped (module.modulemap + ava3.h), nothing added.
if [ -n "$HEADERS" ]; then
  cp "$HEADERS/module.modulemap" "$HEADERS/ava3.h" "$W/module/"
else
  cp "$ROOT/ava3-decoder-ffi/packaging/ios/module.modulemap" "$ROOT/ava3-decoder-ffi/include/ava3.h" "$W/module/"
fi
cmp "$W/module/ava3.h" "$ROOT/ava3-decoder-ffi/include/ava3.h"
cmp "$W/module/module.modulemap" "$ROOT/ava3-decoder-ffi/packaging/ios/module.modulemap"
cp "$HOST/libava3_decoder.so" "$W/lib/"

# The files: as examples/android/test/run.sh makes them.
F=$W/files
MODEL=$ROOT/testdata/samples/tiny-llama.amg
OFFSET=1004
KEY=$ROOT/testdata/keys/dev.key
bash "$ROOT/examples/test-files.sh" "$AVA3" "$F"
KEYID=$("$AVA3" inspect --json "$F/plain.ava3" | python3 -c 'import json,sys; print(json.load(sys.stdin)["key_id"])')
SHA=$(sha256sum "$MODEL" | cut -d' ' -f1)

# Into the chroot: a private copy under its /tmp (removed afterwards), /proc
# mounted in a private mount namespace (gone when it ends).
IN=$(mktemp -d "$TC/tmp/ava3-swift.XXXXXX")
trap 'rm -rf "$IN"' EXIT
cp -r "$W/module" "$W/lib" "$F" "$IN/"
mkdir "$IN/src"
cp "$ROOT/examples/ios/Ava3Model.swift" "$HERE/main.swift" "$IN/src/"
J=/tmp/$(basename "$IN")
inchroot() { # COMMAND... run in the chroot, with a clean environment and /proc (Swift's CommandLine reads it)
  # shellcheck disable=SC2016
  unshare --mount --fork bash -c 'mount -t proc proc "$1/proc" && shift && exec chroot "$@"' _ "$TC" "$TC" \
    env -i PATH=/usr/bin:/bin HOME=/tmp LC_ALL=C.UTF-8 "$@"
}
t0=$(date +%s.%N)
# shellcheck disable=SC2016
inchroot bash -c '
    set -e
    cd "$1"
    # The handle alone in the Swift 6 language mode (strict concurrency), as an Xcode 16 app may build it.
    swiftc -swift-version 6 -parse-as-library -warnings-as-errors -emit-library -static -module-name Ava3Handle \
      -I module src/Ava3Model.swift -o libAva3Handle.a
    # The handle with the test driver (Swift 5 mode), linked with the host library.
    swiftc -warnings-as-errors -O -module-name Ava3Test -I module -L lib -lava3_decoder \
      src/Ava3Model.swift src/main.swift -o ava3_swift_test
  ' _ "$J"
t1=$(date +%s.%N)
inchroot LD_LIBRARY_PATH="$J/lib" "$J/ava3_swift_test" "$J/files" "$(tr -d '\n' < "$KEY")" "$KEYID" "$SHA" "$OFFSET"
t2=$(date +%s.%N)
cp "$IN/ava3_swift_test" "$W/"
awk -v v="$(basename "$TC")" -v c="$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')" \
  -v r="$(awk -v a="$t1" -v b="$t2" 'BEGIN { print b - a }')" \
  'BEGIN { printf "%s: compiled Ava3Model.swift (Swift 6 mode) and it + main.swift (Swift 5) in %.1f s, ran it in %.1f s\n", v, c, r }'
