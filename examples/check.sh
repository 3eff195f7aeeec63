#!/usr/bin/env bash
# Compiles what can be compiled here and runs what can be run:
# - the LiteRT C example (examples/litert/litert_load.c), compiled against
#   litert_c_api.h, its declarations of LiteRT's C API (no registry package
#   ships LiteRT's C headers: ai-edge-litert 2.3.0's wheel has none); linked
#   with the wheel's libLiteRt.so and run by tests/runtimes/test_litert_c.py.
#   The llama.cpp example is built against llama.cpp's real headers and run
#   by tests/llama-cpp.sh;
# - the Android JNI glue the .aar ships (packaging/android/jni/ava3_jni.c)
#   against the JDK's jni.h, run with the Java classes the .aar ships
#   (packaging/android/java) by examples/android/test/run.sh: every public
#   method of com.ava.ava3.Ava3Model on models the CLI encodes and signs;
#   then examples/android/Ava3Load.kt, compiled by a real kotlinc against
#   the same classes and run (examples/android/test/kotlin.sh).
# Swift is not compiled (no toolchain here).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
INC=$ROOT/ava3-decoder-ffi/include
LIB=$ROOT/target/release
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
cargo build --release --locked -q -p ava3-cli -p ava3-decoder-ffi
gcc -std=c11 -Wall -Wextra -Werror -c -I "$INC" examples/litert/litert_load.c -o "$W/litert_load.o"
echo "compiled (run by tests/runtimes/test_litert_c.py): examples/litert/litert_load.c"
JDK=$(dirname "$(dirname "$(readlink -f "$(command -v javac)")")")
gcc -std=c11 -Wall -Wextra -Werror -shared -fPIC -I "$INC" -I "$JDK/include" -I "$JDK/include/linux" \
  ava3-decoder-ffi/packaging/android/jni/ava3_jni.c -L "$LIB" -lava3_decoder -o "$W/libava3_jni.so"
mkdir -p "$W/classes"
javac --release 8 -Xlint:-options -Werror -d "$W/classes" ava3-decoder-ffi/packaging/android/java/com/ava/ava3/*.java
bash examples/android/test/run.sh "$LIB/ava3" "$W/classes" "$W/jvm" "host glue, shipped Java classes" \
  env LD_LIBRARY_PATH="$LIB:$W" java -Djava.library.path="$LIB:$W"
# Kotlin: examples/android/Ava3Load.kt, compiled by kotlinc (npm's
# kotlin-compiler, installed once into ~/.cache/ava3-device/kotlin-<version>
# by examples/android/test/kotlinc.sh) against the same classes, run on the
# files run.sh prepared. Skipped, saying why, only when the compiler cannot
# be installed here (exit 77).
rc=0
bash examples/android/test/kotlin.sh "$W/classes" "$W/jvm" "host glue, shipped Java classes" \
  env LD_LIBRARY_PATH="$LIB:$W" java -Djava.library.path="$LIB:$W" || rc=$?
case $rc in
  0) ;;
  77) echo "SKIP: Kotlin example (no Kotlin compiler here; the reason is above)" ;;
  *) exit "$rc" ;;
esac
