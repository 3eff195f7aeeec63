#!/usr/bin/env bash
# Compiles examples/android/Ava3Load.kt with a real Kotlin compiler against
# the shipped classes and runs it on the host JVM, on the files run.sh
# prepared (run.sh first, with the same WORK):
#
#   kotlin.sh CLASSES WORK LABEL JAVA_COMMAND...
#
# CLASSES and JAVA_COMMAND as for run.sh (tests/device.sh: the .aar's
# classes.jar and its own x86_64 libraries under the bionic shim;
# examples/check.sh: the host build). The program loads a signed model as an
# app does (Requirements().trustSigner().requireName().requireMinVersion(),
# use {}, decodeTo into a direct ByteBuffer, readAt from 4 threads, memfd as
# /proc/self/fd/N) and compares each with the plaintext's SHA-256, then the
# refusals by Ava3Exception.code() (ROLLBACK 21, UNKNOWN_SIGNER, UNSIGNED,
# NAME_MISMATCH, WRONG_KEY, BLOCK_FAILURE, NOT_AVA3).
#
# The compiler: kotlinc.sh installs it once (npm's kotlin-compiler 2.4.20:
# an 89.6 MB download, 3-9 s here; 94 MB in $AVA3_DEVICE_CACHE/kotlin-2.4.20);
# compiling Ava3Load.kt then takes 5-17 s on this machine's 2 shared cores
# (mostly the JVM-hosted compiler's start-up), running it under 1 s. Exit 77 (the caller reports a skip) with
# the reason when the compiler cannot be installed here; any failure of the
# compilation or of the program is an error.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
CLASSES=$1 W=$2 LABEL=$3
shift 3
rc=0
KH=$(bash "$HERE/kotlinc.sh") || rc=$?
case $rc in
  0) ;;
  77) exit 77 ;; # (kotlinc.sh said why)
  *) exit "$rc" ;;
esac
OUT=$W/kotlin
rm -rf "$OUT" && mkdir -p "$OUT"
t0=$(date +%s.%N)
# -Werror: a deprecation or nullability warning against the shipped class fails too.
"$KH/bin/kotlinc" -Werror -jvm-target 1.8 -cp "$CLASSES" -d "$OUT" "$HERE/../Ava3Load.kt"
t1=$(date +%s.%N)
SHA=$(sha256sum "$W/model.plain" | cut -d' ' -f1)
"$@" --add-opens java.base/java.io=ALL-UNNAMED -cp "$CLASSES:$OUT:$KH/lib/kotlin-stdlib.jar" Ava3LoadKt \
  "$W" "$(tr -d '\n' < "$W/dev.key")" "$SHA" "$LABEL"
t2=$(date +%s.%N)
awk -v v="$(basename "$KH")" -v c="$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')" \
  -v r="$(awk -v a="$t1" -v b="$t2" 'BEGIN { print b - a }')" \
  'BEGIN { printf "%s: compiled Ava3Load.kt in %.1f s, ran it in %.1f s\n", v, c, r }'
