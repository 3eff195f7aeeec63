#!/usr/bin/env bash
# Runs Ava3Smoke.java (every public method of com.ava.ava3.Ava3Model) on the
# host JVM, against files the ava3 CLI encodes here:
#
#   run.sh AVA3_CLI CLASSES WORK LABEL JAVA_COMMAND...
#
# CLASSES: the classes.jar of the .aar (or a folder with the compiled
# class); JAVA_COMMAND: how to start java with libava3_decoder.so and
# libava3_jni.so on the library path (tests/device.sh: the .aar's own
# x86_64 libraries under tests/device/bionic_shim.c; examples/check.sh: the
# host build). Run by both.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../../.." && pwd)
AVA3=$1 CLASSES=$2 W=$3 LABEL=$4
shift 4
rm -rf "$W" && mkdir -p "$W"
KEY=$ROOT/testdata/keys/dev.key
bash "$ROOT/examples/test-files.sh" "$AVA3" "$W"
javac -cp "$CLASSES" -d "$W" "$HERE/Ava3Smoke.java"
KEYID=$("$AVA3" inspect --json "$W/plain.ava3" | python3 -c 'import json,sys; print(json.load(sys.stdin)["key_id"])')
"$@" --add-opens java.base/java.io=ALL-UNNAMED -cp "$CLASSES:$W" Ava3Smoke "$W" "$(tr -d '\n' < "$KEY")" "$KEYID" \
  1004 "$LABEL"
