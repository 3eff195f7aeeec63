#!/usr/bin/env bash
# The files the device-side tests (the Android JVM test, the Kotlin
# example, the Swift test) read, made by the CLI, in DIR:
#
#   bash examples/test-files.sh AVA3 DIR
#
#   dev.key        the development key (mode 0600)
#   signer.key(.pub), other.key(.pub)   two publisher key pairs
#   plain.ava3     the sample model, unsigned
#   signed.ava3    4 KiB blocks, signed by signer.key, name assistant-3b, version 7
#   named.ava3     the same name and version, unsigned
#   model.plain    the plaintext
#   flipped.ava3   plain.ava3 with one ciphertext byte changed (its block fails)
#   container.bin  plain.ava3 at offset 1004 inside a bigger file (a model in an APK)
set -euo pipefail
AVA3=$1 DIR=$2
ROOT=$(cd "$(dirname "$0")/.." && pwd)
MODEL=$ROOT/testdata/samples/tiny-llama.amg
mkdir -p "$DIR"
install -m 600 "$ROOT/testdata/keys/dev.key" "$DIR/dev.key"
rm -f "$DIR"/signer.key* "$DIR"/other.key*
"$AVA3" keygen --signing -o "$DIR/signer.key" > /dev/null
"$AVA3" keygen --signing -o "$DIR/other.key" > /dev/null
E=("$AVA3" encode -q --force --key-file "$DIR/dev.key")
"${E[@]}" "$MODEL" -o "$DIR/plain.ava3"
"${E[@]}" "$MODEL" --block-size 4096 --sign "$DIR/signer.key" --name assistant-3b --model-version 7 -o "$DIR/signed.ava3"
"${E[@]}" "$MODEL" --block-size 4096 --name assistant-3b --model-version 7 -o "$DIR/named.ava3"
cp "$MODEL" "$DIR/model.plain"
python3 - "$DIR" 1004 <<'PY'
import os, sys
w, off = sys.argv[1], int(sys.argv[2])
data = bytearray(open(os.path.join(w, "plain.ava3"), "rb").read())
# A byte of a block's ciphertext, in the middle of the file: the key and the
# trailer still check, reading that block fails.
data[len(data) // 2] ^= 0x40
open(os.path.join(w, "flipped.ava3"), "wb").write(data)
# plain.ava3 inside a bigger file at an offset, as a model stored in an APK.
inner = open(os.path.join(w, "plain.ava3"), "rb").read()
open(os.path.join(w, "container.bin"), "wb").write(b"PK\x03\x04" + os.urandom(off - 4) + inner + os.urandom(333))
PY
