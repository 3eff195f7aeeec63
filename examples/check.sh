#!/usr/bin/env bash
# Compiles what can be compiled here and runs what can be run:
# - the TfLite C example, -fsyntax-only against a stub of the LiteRT C API
#   declarations it uses (no registry package ships LiteRT's C headers:
#   ai-edge-litert 2.3.0's wheel has none); the llama.cpp example is built
#   against llama.cpp's real headers and run by tests/llama-cpp.sh;
# - the Android JNI glue against the JDK's jni.h, run with the Java class
#   the .aar ships (packaging/android/java) on a real encoded model (memfd,
#   wrong key) by examples/android/test/Ava3Smoke.java.
# Kotlin and Swift are not compiled (no toolchains here).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
INC=$ROOT/ava3-decoder-ffi/include
LIB=$ROOT/target/release
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
cargo build --release --locked -q -p ava3-cli -p ava3-decoder-ffi
for f in examples/litert/tflite_model_create.c; do
  gcc -std=c11 -Wall -Wextra -Werror -fsyntax-only -I "$INC" -I examples/stubs "$f"
  echo "compiled (syntax, against stubs): $f"
done
JDK=$(dirname "$(dirname "$(readlink -f "$(command -v javac)")")")
gcc -std=c11 -Wall -Wextra -Werror -shared -fPIC -I "$INC" -I "$JDK/include" -I "$JDK/include/linux" \
  examples/android/ava3_jni.c -L "$LIB" -lava3_decoder -o "$W/libava3_jni.so"
javac -d "$W" ava3-decoder-ffi/packaging/android/java/com/ava/ava3/Ava3Model.java examples/android/test/Ava3Smoke.java
AVA3_KEY_FILE=testdata/keys/dev.key "$LIB/ava3" encode -q testdata/samples/tiny-llama.amg -o "$W/m.amg.ava3"
SUM=$(sha256sum testdata/samples/tiny-llama.amg | cut -d' ' -f1)
LD_LIBRARY_PATH=$LIB:$W java -Djava.library.path="$LIB:$W" -cp "$W" Ava3Smoke "$W/m.amg.ava3" \
  "$(tr -d '\n' < testdata/keys/dev.key)" "$SUM" "host glue, shipped Java class"
