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
MODEL=$ROOT/testdata/samples/tiny-llama.amg
KEY=$ROOT/testdata/keys/dev.key
install -m 600 "$KEY" "$W/dev.key"
"$AVA3" keygen --signing -o "$W/signer.key" > /dev/null
"$AVA3" keygen --signing -o "$W/other.key" > /dev/null
E=("$AVA3" encode -q --force --key-file "$W/dev.key")
"${E[@]}" "$MODEL" -o "$W/plain.ava3"
"${E[@]}" "$MODEL" --block-size 4096 --sign "$W/signer.key" --name assistant-3b --model-version 7 -o "$W/signed.ava3"
"${E[@]}" "$MODEL" --block-size 4096 --name assistant-3b --model-version 7 -o "$W/named.ava3"
cp "$MODEL" "$W/model.plain"
python3 - "$W" <<'PY'
import os, sys
w = sys.argv[1]
data = bytearray(open(os.path.join(w, "plain.ava3"), "rb").read())
# A byte of a block's ciphertext, in the middle of the file: the key and the
# trailer still check, reading that block fails.
data[len(data) // 2] ^= 0x40
open(os.path.join(w, "flipped.ava3"), "wb").write(data)
# plain.ava3 inside a bigger file at an offset, as a model stored in an APK.
inner = open(os.path.join(w, "plain.ava3"), "rb").read()
open(os.path.join(w, "container.bin"), "wb").write(b"PK\x03\x04" + os.urandom(1000) + inner + os.urandom(333))
PY
javac -cp "$CLASSES" -d "$W" "$HERE/Ava3Smoke.java"
KEYID=$("$AVA3" inspect --json "$W/plain.ava3" | python3 -c 'import json,sys; print(json.load(sys.stdin)["key_id"])')
"$@" --add-opens java.base/java.io=ALL-UNNAMED -cp "$CLASSES:$W" Ava3Smoke "$W" "$(tr -d '\n' < "$KEY")" "$KEYID" \
  1004 "$LABEL"
