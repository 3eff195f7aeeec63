#!/usr/bin/env bash
# C ABI tests: the C program of ava3-decoder-ffi/tests/c against every
# vector, built with warnings as errors, again under ASan/UBSan, and run
# under valgrind on a sample (no leak, no invalid access).
set -euo pipefail
cd "$(dirname "$0")/.."
WORK=tests/.work
mkdir -p "$WORK"
# The same packages as every other release build of the suite: built
# alone, the library's dependencies can resolve other features (syn's, when
# this was written), and cargo would build a second variant and rewrite
# target/release's library while other suites link and load it.
cargo build --release --locked -p ava3-cli -p ava3-decoder-ffi
LIB=target/release
SRC=ava3-decoder-ffi/tests/c/ava3_test.c
INC=ava3-decoder-ffi/include
CFLAGS=(-std=c11 -Wall -Wextra -Wpedantic -Werror -g -I "$INC")
LIBS=(-L "$LIB" -lava3_decoder -lcrypto -lpthread)

echo "-- gcc -Wall -Wextra -Wpedantic -Werror"
gcc "${CFLAGS[@]}" -O2 "$SRC" "${LIBS[@]}" -o "$WORK/ava3_test"
LD_LIBRARY_PATH=$LIB "$WORK/ava3_test" testdata/vectors

echo "-- -fsanitize=address,undefined"
gcc "${CFLAGS[@]}" -O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all \
  "$SRC" "${LIBS[@]}" -o "$WORK/ava3_test_asan"
# Rust's own threads keep their stacks until exit; leaks are checked by valgrind below.
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
  LD_LIBRARY_PATH=$LIB "$WORK/ava3_test_asan" testdata/vectors

# valgrind runs a sample (every success vector and every third other one:
# each kind of failure path at least once; ASan/UBSan above ran them all).
SAMPLE=$WORK/vectors-sample
rm -rf "$SAMPLE" && mkdir -p "$SAMPLE"
# (The C program's order rule needs forged_block_keyless_recomputed; the
# listing is sorted bytewise, whatever the locale.)
LC_ALL=C ls testdata/vectors | awk '/^success/ || /^forged_block_keyless_recomputed$/ || NR % 3 == 0' |
  while read -r v; do
    ln -s "$PWD/testdata/vectors/$v" "$SAMPLE/$v"
  done
echo "-- valgrind (memcheck), $(ls "$SAMPLE" | wc -l) of $(ls testdata/vectors | wc -l) vectors"
LD_LIBRARY_PATH=$LIB valgrind --quiet --error-exitcode=3 --leak-check=full \
  --errors-for-leak-kinds=definite,indirect --show-leak-kinds=definite,indirect \
  "$WORK/ava3_test" "$SAMPLE" "$(ls "$SAMPLE" | wc -l)"

echo "-- heap and thread stacks: no key material left after free, no large allocation for a forged header (own allocator hooks, so no sanitizer)"
gcc "${CFLAGS[@]}" -O2 ava3-decoder-ffi/tests/c/heap_test.c "${LIBS[@]}" -o "$WORK/heap_test"
LD_LIBRARY_PATH=$LIB "$WORK/heap_test" testdata/vectors/success_bs4096_258_blocks

echo "-- the guide's compile-and-link lines (ava3-decoder-ffi/README.md): shared with a run path (no LD_LIBRARY_PATH), static"
cat >"$WORK/link_app.c" <<'C'
#include <stdio.h>
#include <string.h>
#include "ava3.h"
int main(void) {
    char msg[128];
    ava3_result_message(AVA3_RESULT_ROLLBACK, msg, sizeof msg);
    return strstr(msg, "rollback") ? 0 : 1;
}
C
readelf -d "$LIB/libava3_decoder.so" | grep -q 'SONAME.*\[libava3_decoder.so\]' ||
  { echo "FAIL: libava3_decoder.so has no SONAME libava3_decoder.so"; exit 1; }
cc "$WORK/link_app.c" -I ava3-decoder-ffi/include -L "$LIB" -lava3_decoder \
  -Wl,-rpath,"$PWD/$LIB" -o "$WORK/link_shared"
env -u LD_LIBRARY_PATH "$WORK/link_shared"
readelf -d "$WORK/link_shared" | grep -q 'NEEDED.*\[libava3_decoder.so\]'
cc "$WORK/link_app.c" -I ava3-decoder-ffi/include "$LIB/libava3_decoder.a" -lpthread -ldl -lm -o "$WORK/link_static"
"$WORK/link_static"
if ldd "$WORK/link_static" | grep -q ava3; then echo "FAIL: the static link needs libava3_decoder.so"; exit 1; fi
echo "ok: shared (SONAME, run path) and static links"
