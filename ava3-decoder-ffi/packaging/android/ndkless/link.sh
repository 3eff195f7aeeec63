#!/usr/bin/env bash
# Links libava3_decoder.so and libava3_jni.so for an Android ABI WITHOUT the
# NDK, from the Rust static library, with Debian's clang and lld:
#
#   link.sh RUST_TARGET LIBAVA3_DECODER_A OUT_DIR
#
# The NDK is not in any package registry this project can reach, so what it
# would provide is made here from what is:
# - libunwind.a: LLVM's libunwind from the Rust toolchain's own rust-src
#   (the unwinder Rust's Android std expects), compiled with clang for the
#   target; glibc's headers of the same architecture stand in for bionic's
#   (only standard types and dl_iterate_phdr's struct are used, and the
#   errno accessor is bionic's, see bionic_errno.h);
# - crtbegin_so.o: crt_so.c (__dso_handle and __cxa_finalize on dlclose);
# - libc.so, libdl.so, libm.so, liblog.so: stub libraries carrying only the
#   sonames and the names of the symbols the library takes from bionic, so
#   that the output records DT_NEEDED exactly as an NDK link would.
# Supported here: aarch64-linux-android (arm64-v8a) and x86_64-linux-android
# (the emulator). 32-bit ARM needs bionic's EHABI unwinder (NDK only).
# With the NDK, package.sh links with the NDK's clang instead and this
# script is not used.
set -euo pipefail
TARGET=$1 STATIC=$2 OUT=$3
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../../../.." && pwd)
API=24
case $TARGET in
  aarch64-linux-android) CT=aarch64-linux-android$API; SYS=(-isystem /usr/aarch64-linux-gnu/include) ;;
  x86_64-linux-android) CT=x86_64-linux-android$API; SYS=(-isystem /usr/include/x86_64-linux-gnu -isystem /usr/include) ;;
  *) echo "link.sh: $TARGET needs the NDK (set ANDROID_NDK_HOME)" >&2; exit 2 ;;
esac
CLANG=${CLANG:-clang-14}
W=$OUT/.ndkless
rm -rf "$W"
mkdir -p "$W/stubs" "$OUT"
CC=("$CLANG" "--target=$CT" -fPIC -O2)

# libunwind from rust-src (installed by tests/device.sh: rustup component add rust-src).
UW=$(rustc --print sysroot)/lib/rustlib/src/rust/src/llvm-project/libunwind
UWF=(-fno-exceptions -fno-rtti -funwind-tables -fvisibility=hidden -D_LIBUNWIND_IS_NATIVE_ONLY
  -D_LIBUNWIND_HAS_NO_THREADS -DNDEBUG -include "$HERE/bionic_errno.h" -I "$UW/include" "${SYS[@]}")
for f in libunwind.cpp; do "${CC[@]}" "${UWF[@]}" -std=c++17 -nostdinc++ -c "$UW/src/$f" -o "$W/${f%.*}.o"; done
for f in UnwindLevel1.c UnwindLevel1-gcc-ext.c; do "${CC[@]}" "${UWF[@]}" -std=c99 -c "$UW/src/$f" -o "$W/${f%.*}.o"; done
for f in UnwindRegistersRestore.S UnwindRegistersSave.S; do "${CC[@]}" -I "$UW/include" -c "$UW/src/$f" -o "$W/${f%.*}.o"; done
llvm-ar rcs "$W/libunwind.a" "$W"/Unwind*.o "$W/libunwind.o"
"${CC[@]}" -c "$HERE/crt_so.c" -o "$W/crt_so.o"

LINK=("${CC[@]}" -fuse-ld=lld -shared -nostdlib -Wl,--gc-sections -Wl,-z,relro,-z,now -Wl,-z,noexecstack
  -Wl,--build-id=sha1 -Wl,--hash-style=both -Wl,-z,max-page-size=16384)
OBJS=("$W/crt_so.o" -Wl,--whole-archive "$STATIC" -Wl,--no-whole-archive "$W/libunwind.a")
printf '{ global: ava3_*; local: *; };\n' > "$W/exports.map"

# Pass 1: what the library takes from the system.
"${LINK[@]}" -o "$W/pass1.so" "${OBJS[@]}" -Wl,--version-script="$W/exports.map" \
  -Wl,--unresolved-symbols=ignore-all
llvm-nm -D --undefined-only "$W/pass1.so" | awk '{print $NF}' | sed 's/@.*//' | sort -u > "$W/imports.txt"

# Stubs: each symbol in the library bionic exports it from.
for lib in c dl m log; do : > "$W/stubs/$lib.c"; done
while read -r sym; do
  case $sym in
    dl*|__cxa_finalize_dl) lib=dl ;;
    __android_log*) lib=log ;;
    sqrt*|pow*|exp*|log|log2*|log10*|fmod*|floor*|ceil*|trunc*|round*|cbrt*|sin*|cos*|tan*) lib=m ;;
    *) lib=c ;;
  esac
  case $sym in
    stderr|stdout|stdin|environ|__stack_chk_guard|__progname) echo "void *$sym;" ;;
    *) echo "void $sym(void) {}" ;;
  esac >> "$W/stubs/$lib.c"
done < "$W/imports.txt"
for lib in c dl m log; do
  "${CC[@]}" -fno-builtin -w -shared -nostdlib -fuse-ld=lld -Wl,-soname,lib$lib.so "$W/stubs/$lib.c" -o "$W/stubs/lib$lib.so"
done

# Pass 2: the real link, nothing left unresolved.
"${LINK[@]}" -o "$OUT/libava3_decoder.so" -Wl,-soname,libava3_decoder.so "${OBJS[@]}" \
  -Wl,--version-script="$W/exports.map" -Wl,--no-undefined -L "$W/stubs" -Wl,--as-needed -lc -ldl -lm -llog

# The JNI glue (packaging/android/jni/ava3_jni.c): JNI calls go through the
# JNIEnv table, so it needs nothing from libc.
JDK=$(dirname "$(dirname "$(readlink -f "$(command -v javac)")")")
"${CC[@]}" -fno-stack-protector -I "$ROOT/ava3-decoder-ffi/include" -I "$JDK/include" -I "$JDK/include/linux" \
  "${SYS[@]}" -c "$HERE/../jni/ava3_jni.c" -o "$W/ava3_jni.o"
"${LINK[@]}" -o "$OUT/libava3_jni.so" -Wl,-soname,libava3_jni.so "$W/crt_so.o" "$W/ava3_jni.o" \
  -Wl,--no-undefined -L "$OUT" -L "$W/stubs" -lava3_decoder -lc
rm -rf "$W"
