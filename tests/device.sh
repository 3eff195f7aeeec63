#!/usr/bin/env bash
# The device path: what phones and glasses run, built and run here.
#
#   bash tests/device.sh          (run by tests/run-all.sh)
#
# 1. Lints the core and the C ABI for each device platform (clippy,
#    warnings as errors), builds the C ABI for every device target
#    (Android arm64-v8a, armeabi-v7a, x86_64; iOS device and simulators)
#    and packages them (.aar, jniLibs, .xcframework,
#    Package.swift): ava3-decoder-ffi/packaging/package.sh, checked by
#    device/check_packages.py; the .aar's x86_64 libraries and its Java
#    classes then run the C ABI test program and the JVM test of every
#    public method of com.ava.ava3.Ava3Model
#    (examples/android/test/Ava3Smoke.java) here, on glibc with a small
#    bionic shim (device/bionic_shim.c), and the Kotlin example
#    examples/android/Ava3Load.kt, compiled by kotlinc (npm's
#    kotlin-compiler, cached in AVA3_DEVICE_CACHE/kotlin-<version>); the
#    iOS Swift handle examples/ios/Ava3Model.swift, compiled by swiftc
#    through the .xcframework's module map and run against the host library
#    (opt-in: AVA3_SWIFT=1 or a cached toolchain, examples/ios/test/run.sh).
# 2. ARM64 under qemu-aarch64: the Rust tests of ava3-format and
#    ava3-decoder-ffi (release builds) and the C ABI test program (every vector, every entry
#    point, read_at from 8 threads), once on a CPU with the ARMv8 AES and
#    SHA-2 instructions and once with them hidden from the crypto crates'
#    run-time detection (device/no_crypto_hwcap.c); the instruction-count
#    plugin (device/insn_count.c) proves which path ran.
# 3. Kernels that phones have: the C ABI test program (on a sample of the
#    vectors: the kernel is what is tested there) as PID 1 of an ARM64
#    VM (qemu-system-aarch64) under Debian's 5.10 (bullseye; Android 12-13
#    GKI) and 6.1 (bookworm; Android 14 GKI) kernels; under 5.10 it also
#    shows that the kernel refuses a shared mapping of a write-sealed
#    writable memfd, the rule the decoder's read-only descriptor meets.
#    Then device/memfd_path.c: what a runtime that takes only a path does
#    with /proc/self/fd/N of the decoder's memfd (llama.cpp's fopen + mmap
#    with MAP_POPULATE and fragments unmapped, LiteRT's and MediaPipe's
#    open + mmap), every byte checked, the seals holding through the path.
#
# Device builds and downloaded kernels live outside the checkout, in
# AVA3_DEVICE_CACHE (default ~/.cache/ava3-device), so a second run on the
# same machine rebuilds only what changed; the host's build is the
# checkout's own, in target/ (tests/target-dirs.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
W=$ROOT/tests/.work/device
export AVA3_DEVICE_CACHE=${AVA3_DEVICE_CACHE:-$HOME/.cache/ava3-device}
CACHE=$AVA3_DEVICE_CACHE
export CARGO_TARGET_DIR=$CACHE/target
export CARGO_TERM_COLOR=${CARGO_TERM_COLOR:-never}
mkdir -p "$W" "$CACHE"
ok=0
pass() { ok=$((ok + 1)); echo "ok: $*"; }
# Each step's start: wall seconds so far, and CPU seconds of everything
# this script has run so far (user + system of its children, from `times`).
# (`times` runs in this shell, not in a subshell, which would count nothing.)
cpu() {
  times > "$W/.times"
  sed -n 2p "$W/.times" | awk '{ split($1, u, "m"); split($2, s, "m"); printf "%d", u[1] * 60 + u[2] + s[1] * 60 + s[2] }'
}
step() {
  cpu > "$W/.cpu"
  printf '\n---- device: %s (at %ds, CPU %ss) ----\n' "$*" "$SECONDS" "$(cat "$W/.cpu")"
}
SECONDS=0

step "install what is missing"
# The lock is tests/run-all.sh's, which starts the same installs early.
flock "$CACHE/install.lock" bash tests/device/install.sh

step "clippy for every device platform (warnings are errors)"
# The code's target conditions are by architecture (x86_64, aarch64, other)
# or by system (Linux, Android, Apple, other), never both at once: these
# three targets and the host's (tests/run-all.sh's clippy) reach every
# branch; x86_64 Android and aarch64 Linux would repeat them. (A condition
# on both would need its target here.)
for t in aarch64-linux-android armv7-linux-androideabi aarch64-apple-ios; do
  cargo clippy --quiet --release --locked --target "$t" -p ava3-format -p ava3-decoder-ffi -- -D warnings
  pass "clippy $t"
done

step "packages: .aar, jniLibs, static libraries, .xcframework, Package.swift"
bash ava3-decoder-ffi/packaging/package.sh "$W/packages" | tail -n 3
python3 tests/device/check_packages.py "$W/packages"
pass "packages"

step "build what the runs need: host and aarch64 libraries, test binaries, C programs, kernels"
# No bionic here: device/bionic_shim.c supplies bionic's few own symbols and
# semantics, so that the libraries linked without the NDK (relocations,
# libunwind, imports, exports) and the aar's Java class are exercised.
S=$W/aar-x86_64
rm -rf "$S" && mkdir -p "$S/lib" "$S/aar"
(cd "$S/aar" && python3 -m zipfile -e "$W"/packages/android/ava3-decoder-*.aar .)
cp "$S"/aar/jni/x86_64/*.so "$S/lib/"
ln -s /lib/x86_64-linux-gnu/libc.so.6 "$S/lib/libc.so"
ln -s /lib/x86_64-linux-gnu/libc.so.6 "$S/lib/libdl.so"
ln -s /lib/x86_64-linux-gnu/libm.so.6 "$S/lib/libm.so"
gcc -O2 -shared -fPIC -Wall -Wextra -Werror tests/device/bionic_shim.c -o "$S/bionic_shim.so" -ldl
# The host's build is the checkout's own (tests/run-all.sh makes the same
# one): built once, not once more in the device cache.
. tests/target-dirs.sh
ava3_target_dirs "$ROOT"
CARGO_TARGET_DIR=$ROOT/target cargo build --quiet --release --locked -p ava3-decoder-ffi -p ava3-cli
HOST=$ROOT/target/release
gcc -std=c11 -O2 -I ava3-decoder-ffi/include ava3-decoder-ffi/tests/c/ava3_test.c -L "$HOST" -lava3_decoder \
  -lcrypto -lpthread -o "$S/ava3_test"
SHIM=(env BIONIC_SHIM_LIB="$S/lib/libava3_decoder.so" LD_PRELOAD="$S/bionic_shim.so" LD_LIBRARY_PATH="$S/lib")

export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=aarch64-linux-gnu-gcc
# No -L/QEMU_LD_PREFIX: the arm64 multiarch libc (installed for OpenSSL) is
# the one the programs load; mixing it with the cross package's loader
# under -L hangs in pthread_create.
unset QEMU_LD_PREFIX
aarch64-linux-gnu-gcc -O2 -shared -fPIC -Wall -Wextra -Werror tests/device/no_crypto_hwcap.c -o "$W/no_crypto_hwcap.so" -ldl
gcc -O2 -shared -fPIC -Wall -Wextra -Werror tests/device/insn_count.c -o "$W/libinsn_count.so"
NOCRYPTO=(-E "LD_PRELOAD=$W/no_crypto_hwcap.so")
COUNT=(-plugin "$W/libinsn_count.so" -d plugin)
# The Rust test binaries of ava3-format and ava3-decoder-ffi for aarch64,
# each with its package's folder (run below as cargo would: from that
# folder, with CARGO_MANIFEST_DIR set). Release builds: optimised code is
# what devices run (the host runs the same tests with debug assertions),
# and under qemu they take half the CPU of debug builds (30 s, not 58 s,
# per CPU variant).
cargo test --quiet --release --locked --target aarch64-unknown-linux-gnu -p ava3-format -p ava3-decoder-ffi --no-run \
  --message-format=json-render-diagnostics |
  python3 -c '
import json, os, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m.get("executable") and m["profile"]["test"]:
        print(os.path.dirname(m["manifest_path"]), m["executable"])
' > "$W/aarch64-tests.txt"
[ -s "$W/aarch64-tests.txt" ] || { echo "FAIL: no aarch64 test binary"; exit 1; }

cargo build --quiet --release --locked --target aarch64-unknown-linux-gnu -p ava3-decoder-ffi
LIB=$CARGO_TARGET_DIR/aarch64-unknown-linux-gnu/release
CFLAGS=(-std=c11 -Wall -Wextra -Wpedantic -Werror -O2 -I ava3-decoder-ffi/include)
SRC=ava3-decoder-ffi/tests/c/ava3_test.c
# Dynamic (so that LD_PRELOAD reaches OpenSSL and the library alike) for
# qemu-user; static for the VM, which has nothing else.
aarch64-linux-gnu-gcc "${CFLAGS[@]}" "$SRC" -L "$LIB" -lava3_decoder -L /usr/lib/aarch64-linux-gnu -lcrypto -lpthread \
  -Wl,-rpath,"$LIB" -o "$W/ava3_test"
aarch64-linux-gnu-gcc "${CFLAGS[@]}" -static "$SRC" "$LIB/libava3_decoder.a" /usr/lib/aarch64-linux-gnu/libcrypto.a \
  -lpthread -ldl -lm -o "$W/ava3_test_static" 2> >(grep -v -e 'statically linked applications' -e 'in function' >&2)

kernel() { # Debian SUITE -> path of its arm64 kernel Image, downloaded once
  local suite=$1 dir=$CACHE/kernels/$1
  if ! ls "$dir"/vmlinuz-* >/dev/null 2>&1; then
    mkdir -p "$dir/lists/partial" "$dir/archives/partial"
    # The machine's own Debian mirror, with the suite asked for.
    local uri
    uri=$(apt-get indextargets --format '$(REPO_URI)' | grep -m1 -E '/debian/$')
    echo "deb [arch=arm64] $uri $suite main" > "$dir/sources.list"
    local A=(-o "Dir::Etc::SourceList=$dir/sources.list" -o Dir::Etc::SourceParts=/dev/null
      -o "Dir::State::Lists=$dir/lists" -o "Dir::Cache::Archives=$dir/archives" -o APT::Architecture=arm64)
    apt-get "${A[@]}" update -qq
    local pkg
    # Captured first: `| head -1` could end apt-cache with SIGPIPE, which
    # pipefail would turn into a failure of the whole step.
    local deps
    deps=$(apt-cache "${A[@]}" depends linux-image-arm64)
    pkg=$(sed -n 's/.*Depends: \(linux-image-[0-9].*\)/\1/p' <<<"$deps" | sed -n 1p)
    (cd "$dir" && apt-get "${A[@]}" download -qq "$pkg" 2>/dev/null && dpkg-deb --fsys-tarfile "$pkg"_*.deb |
      tar -x --wildcards --strip-components=2 './boot/vmlinuz-*' && rm -f "$pkg"_*.deb)
  fi
  local images=("$dir"/vmlinuz-*)
  echo "${images[0]}"
}
declare -A KERNEL
for suite in bullseye bookworm; do KERNEL[$suite]=$(kernel "$suite"); done
aarch64-linux-gnu-gcc -std=c11 -Wall -Wextra -Werror -O2 -static tests/device/vm_init.c -o "$W/vm_init"
rm -rf "$W/initramfs"
mkdir -p "$W/initramfs/vectors"
cp "$W/vm_init" "$W/initramfs/init"
cp "$W/ava3_test_static" "$W/initramfs/ava3_test"
# The VMs test the kernel (memfd and its seals, mmap, threads, the fd
# window): a sample of the vectors is enough there, every success vector and
# every third other one, as valgrind's in tests/ffi.sh (each kind of failure
# at least once); the whole set runs on aarch64 under qemu-aarch64 above, on
# both CPUs. This halves each VM's test run.
# (The C program's order rule needs forged_block_keyless_recomputed; the
# listing is sorted bytewise, whatever the locale.)
LC_ALL=C ls testdata/vectors | awk '/^success/ || /^forged_block_keyless_recomputed$/ || NR % 3 == 0' |
  while read -r v; do
    cp "testdata/vectors/$v" "$W/initramfs/vectors/"
  done
ls "$W/initramfs/vectors" | wc -l | tr -d ' ' > "$W/initramfs/min_vectors"
# What a runtime that takes only a path does with the memfd (llama.cpp's
# mmap, LiteRT's and MediaPipe's open + mmap), under these kernels:
# device/memfd_path.c on the sample GGUF, encoded with the dev key.
aarch64-linux-gnu-gcc "${CFLAGS[@]}" -static tests/device/memfd_path.c "$LIB/libava3_decoder.a" -lpthread -ldl -lm \
  -o "$W/initramfs/memfd_path" 2> >(grep -v -e 'statically linked applications' -e 'in function' >&2)
cp testdata/samples/tiny-llama.amg "$W/initramfs/model.plain"
AVA3_KEY_FILE=testdata/keys/dev.key "$HOST/ava3" encode -q --force testdata/samples/tiny-llama.amg -o "$W/initramfs/model.ava3"
tr -d '[:space:]' < testdata/keys/dev.key > "$W/initramfs/key"
(cd "$W/initramfs" && find . | cpio -o -H newc --quiet | gzip -1 > ../initramfs.cpio.gz)

# ---- the runs: each prints its own "ok:" lines and fails on its own ----

# (Each run is called on the left of `||`, where bash turns `set -e` off for
# the whole function: every check in a run returns its failure itself.)
run_android_ios() {
  timeout 900 "${SHIM[@]}" "$S/ava3_test" testdata/vectors > "$RUNS/android-c.log" 2>&1 || {
    tail -20 "$RUNS/android-c.log"
    return 1
  }
  tail -n 1 "$RUNS/android-c.log"
  echo "ok: C ABI test program against the aar's x86_64 libava3_decoder.so"
  # Every public method of com.ava.ava3.Ava3Model (requirements met and
  # refused, metadata, readAt, decodeTo, memfd, open at an offset in a
  # descriptor, close) on files the CLI encodes and signs here.
  timeout 900 bash examples/android/test/run.sh "$HOST/ava3" "$S/aar/classes.jar" "$S/jvm" \
    "the aar's x86_64 libraries and classes.jar" "${SHIM[@]}" java -Djava.library.path="$S/lib" || return 1
  echo "ok: the aar's classes.jar and JNI glue under the JVM"
  # Kotlin, as Android apps are written: examples/android/Ava3Load.kt (open
  # with Requirements().trustSigner().requireName().requireMinVersion(), use {},
  # decodeTo into a direct ByteBuffer, readAt, memfd as /proc/self/fd/N, each
  # checked by SHA-256; refusals by Ava3Exception.code(), rollback = 21),
  # compiled by a real kotlinc (-Werror) against the aar's classes.jar and run
  # with its x86_64 libraries on the files run.sh made. The compiler is npm's
  # kotlin-compiler 2.4.20, installed once by examples/android/test/kotlinc.sh
  # (pinned SHA-512; 89.6 MB download, 3-9 s; 94 MB unpacked in
  # $AVA3_DEVICE_CACHE/kotlin-2.4.20, under a lock); compiling takes 5-17 s
  # here, running under 1 s. When the compiler cannot be had here (no npm, registry
  # unreachable, a JDK it does not run on) the step says why and is skipped
  # (exit 77); a compile error or a failed check fails the suite.
  local rc=0
  timeout 900 bash examples/android/test/kotlin.sh "$S/aar/classes.jar" "$S/jvm" "the aar's x86_64 libraries and classes.jar" \
    "${SHIM[@]}" java -Djava.library.path="$S/lib" || rc=$?
  case $rc in
    0) echo "ok: Kotlin (kotlinc) against the aar's classes.jar, run with its libraries" ;;
    77) echo "SKIP: the Kotlin example (no Kotlin compiler here; the reason is above)" ;;
    *) return "$rc" ;;
  esac
  # The iOS Swift handle examples/ios/Ava3Model.swift, as shipped, with
  # examples/ios/test/main.swift, compiled by swiftc (Debian trixie's
  # swiftlang 6.0, -warnings-as-errors) with `import Ava3` from the Headers/
  # (module.modulemap, ava3.h) of the .xcframework built above, linked with
  # the host libava3_decoder.so and run on files the CLI encodes and signs:
  # every reader and metadata, requirements met (trusted signer as PEM, raw
  # and hex; name; minimum version) and refused with their codes (rollback
  # 21, name, signer, unsigned, wrong key), a changed block, open at an
  # offset in a descriptor. Not Xcode, the iOS SDK or a device. Opt-in: the
  # toolchain (a trixie chroot: ~580 MB download, ~1 min, 2.6 GB) is used
  # when $AVA3_DEVICE_CACHE/swift-trixie-* exists and installed when
  # AVA3_SWIFT=1 (examples/ios/test/setup-toolchain.sh); otherwise SKIP.
  rc=0
  timeout 900 bash examples/ios/test/run.sh "$HOST" "$W/ios-swift" "$W/packages/ios/Ava3.xcframework/ios-arm64_x86_64-simulator/Headers" ||
    rc=$?
  case $rc in
    0) echo "ok: Swift (swiftc) Ava3Model.swift through the xcframework's module.modulemap, against the host library" ;;
    77) echo "SKIP: the iOS Swift handle (no Swift toolchain here; the reason is above)" ;;
    *) return "$rc" ;;
  esac
}

# ARM64 under qemu-aarch64, once on a CPU with the ARMv8 AES and SHA-2
# instructions and once with them hidden (device/no_crypto_hwcap.c).
run_rust_aarch64() { # crypto|no-crypto
  local cpu=$1 extra=() dir exe
  [ "$cpu" = no-crypto ] && extra=("${NOCRYPTO[@]}")
  while read -r dir exe; do
    (cd "$dir" && CARGO_MANIFEST_DIR=$dir timeout 900 qemu-aarch64 -cpu max "${extra[@]}" "$exe" -q) 2>&1 |
      grep -E '^test result|FAILED|panicked' | sed "s/^/[$cpu] /"
    [ "${PIPESTATUS[0]}" = 0 ] || { echo "FAIL: $(basename "$exe") on aarch64, $cpu"; return 1; }
  done < "$W/aarch64-tests.txt"
  echo "ok: Rust tests of ava3-format and ava3-decoder-ffi on aarch64, $cpu"
}

run_c_aarch64() { # crypto|no-crypto; the instruction-count plugin proves which path ran
  local cpu=$1 extra=() aes sha
  [ "$cpu" = no-crypto ] && extra=("${NOCRYPTO[@]}")
  timeout 900 qemu-aarch64 -cpu max "${extra[@]}" "${COUNT[@]}" "$W/ava3_test" testdata/vectors > "$W/c-$cpu.log" 2>&1 || {
    tail -20 "$W/c-$cpu.log"
    return 1
  }
  grep -E 'c-abi:|insn-count' "$W/c-$cpu.log" | sed "s/^/[$cpu] /"
  read -r aes sha < <(sed -n 's/.*insn-count: total [0-9]* aes \([0-9]*\) sha256 \([0-9]*\).*/\1 \2/p' "$W/c-$cpu.log")
  if [ "$cpu" = crypto ]; then
    [ "$aes" -gt 0 ] && [ "$sha" -gt 0 ] || { echo "FAIL: no ARMv8 AES/SHA-256 instruction ran"; return 1; }
  else
    [ "$aes" -eq 0 ] && [ "$sha" -eq 0 ] || { echo "FAIL: ARMv8 crypto ran on a CPU without it"; return 1; }
  fi
  echo "ok: C ABI test program on aarch64, $cpu (aes=$aes sha256=$sha instructions executed)"
}

# Kernels that phones have: the static C test program as PID 1 of an ARM64 VM.
run_vm() { # bullseye|bookworm
  local suite=$1 img=${KERNEL[$1]} log=$W/vm-$1.log
  # -nic none: the VM needs no network, and without it qemu would look for
  # the NIC's option ROM (efi-virtio.rom, a package qemu only recommends).
  timeout 900 qemu-system-aarch64 -M virt -cpu max -smp 2 -m 1024 -nographic -no-reboot -nic none \
    -kernel "$img" -initrd "$W/initramfs.cpio.gz" -append "console=ttyAMA0 panic=-1 quiet rdinit=/init" \
    < /dev/null > "$log" 2>&1 || true
  # (|| true: with pipefail a log without these lines would end the run
  # here, before it says why.)
  grep -E 'memfd probe|c-abi:|memfd-path:|ava3-vm:' "$log" | sed "s/^/[$suite] /" || true
  grep -q 'ava3-vm: test exit status 0' "$log" && grep -qE 'c-abi: [0-9]+ passed, 0 failed' "$log" &&
    grep -q 'ava3-vm: memfd-path exit status 0' "$log" && grep -qE 'memfd-path: [0-9]+ passed, 0 failed' "$log" || {
    tail -30 "$log"
    echo "FAIL: C ABI tests or memfd_path in the $suite kernel VM"
    return 1
  }
  if [ "$suite" = bullseye ]; then
    grep -q 'EPERM (before 6.7)' "$log" || { echo "FAIL: the 5.10 VM did not show the pre-6.7 memfd rule"; return 1; }
  fi
  echo "ok: C ABI test program and memfd_path as PID 1 under $(basename "$img")"
}

step "the runs, at once"
RUNS=$W/runs
rm -rf "$RUNS" && mkdir -p "$RUNS"
declare -A PID
names=(android-ios rust-aarch64-crypto rust-aarch64-no-crypto c-aarch64-crypto c-aarch64-no-crypto vm-bullseye vm-bookworm)
for name in "${names[@]}"; do
  case $name in
    android-ios) cmd=(run_android_ios) ;;
    rust-aarch64-*) cmd=(run_rust_aarch64 "${name#rust-aarch64-}") ;;
    c-aarch64-*) cmd=(run_c_aarch64 "${name#c-aarch64-}") ;;
    vm-*) cmd=(run_vm "${name#vm-}") ;;
  esac
  (
    start=$SECONDS
    rc=0
    "${cmd[@]}" || rc=$?
    echo "($((SECONDS - start))s)"
    exit "$rc"
  ) > "$RUNS/$name.log" 2>&1 &
  PID[$name]=$!
done
failed=0
for name in "${names[@]}"; do
  rc=0
  wait "${PID[$name]}" || rc=$?
  printf '\n-- %s --\n' "$name"
  cat "$RUNS/$name.log"
  if [ "$rc" = 0 ]; then
    ok=$((ok + $(grep -c '^ok: ' "$RUNS/$name.log")))
  else
    echo "FAIL: $name (exit $rc; log $RUNS/$name.log)"
    failed=$((failed + 1))
  fi
done

cpu > "$W/.cpu"
printf '\ndevice: %d passed, %d failed (%ds, CPU %ss)\n' "$ok" "$failed" "$SECONDS" "$(cat "$W/.cpu")"
[ "$failed" = 0 ]
