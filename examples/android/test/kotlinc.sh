#!/usr/bin/env bash
# Installs the Kotlin compiler once and prints its home (KOTLIN_HOME, with
# bin/kotlinc and lib/kotlin-stdlib.jar):
#
#   kotlinc.sh          -> $AVA3_DEVICE_CACHE/kotlin-<version>
#
# The compiler is the npm registry's package kotlin-compiler (JetBrains' own
# JVM distribution, the same files as their kotlin-compiler-<version>.zip;
# Debian bookworm's `kotlin` is 1.3.31). Pinned: version and SHA-512 of the
# tarball. Downloaded once (89.6 MB tarball, 3-9 s here; 94 MB unpacked)
# into AVA3_DEVICE_CACHE (default ~/.cache/ava3-device), outside the
# checkout, under a lock (tests/device.sh and examples/check.sh may run at
# once); npm's own cache is a temporary folder, removed afterwards. A second
# run installs nothing.
#
# Exit 77, with the reason on stderr, when the compiler cannot be had here
# (no npm, the registry unreachable, a JDK it does not run on): the caller
# skips the Kotlin step and says why. A tarball that is not the pinned one
# is an error (exit 1), not a skip.
set -euo pipefail
VERSION=${AVA3_KOTLIN_VERSION:-2.4.20}
# The registry's "integrity" of kotlin-compiler-2.4.20.tgz (npm view kotlin-compiler@2.4.20 dist.integrity).
PINNED_SHA512=IF5IVM7LpPhA/ntHQQpaVt1yxpaaQovtEVYLyqWMuaLr0XelLPPm7/sM6HLhtcRjjjoSsK7I7lP2kzYJkMy73w==
CACHE=${AVA3_DEVICE_CACHE:-$HOME/.cache/ava3-device}
KH=$CACHE/kotlin-$VERSION
skip() { echo "kotlinc $VERSION: $*" >&2; exit 77; }

if [ ! -f "$KH/.ava3-installed" ]; then
  command -v npm > /dev/null || skip "no npm on this machine (the compiler comes from the npm registry's kotlin-compiler)"
  mkdir -p "$CACHE"
  exec 9> "$CACHE/kotlin.lock"
  flock 9
  if [ ! -f "$KH/.ava3-installed" ]; then # (installed by another run while this one waited)
    tmp=$(mktemp -d "$CACHE/kotlin-$VERSION.tmp.XXXXXX")
    trap 'rm -rf "$tmp"' EXIT
    t0=$(date +%s.%N)
    if ! (cd "$tmp" && npm pack --loglevel=error --cache "$tmp/npm-cache" "kotlin-compiler@$VERSION") > "$tmp/npm.out" 2>&1; then
      skip "npm pack kotlin-compiler@$VERSION failed: $(grep -m 3 'npm error' "$tmp/npm.out" | grep -v 'complete log' | tr '\n' ' ')"
    fi
    tgz=$tmp/kotlin-compiler-$VERSION.tgz
    [ -f "$tgz" ] || skip "npm pack gave no $(basename "$tgz"): $(tail -n 3 "$tmp/npm.out" | tr '\n' ' ')"
    got=$(openssl dgst -sha512 -binary "$tgz" | base64 -w0)
    if [ "$VERSION" = 2.4.20 ] && [ "$got" != "$PINNED_SHA512" ]; then
      echo "kotlinc.sh: kotlin-compiler-$VERSION.tgz is not the pinned tarball (sha512-$got)" >&2
      exit 1
    fi
    size=$(stat -c %s "$tgz")
    tar -xzf "$tgz" -C "$tmp"
    [ -x "$tmp/package/bin/kotlinc" ] && [ -f "$tmp/package/lib/kotlin-compiler.jar" ] ||
      skip "the npm package has no JVM compiler (bin/kotlinc, lib/kotlin-compiler.jar)"
    rm -rf "$KH"
    mv "$tmp/package" "$KH"
    touch "$KH/.ava3-installed"
    awk -v v="$VERSION" -v kh="$KH" -v b="$size" -v t0="$t0" -v t1="$(date +%s.%N)" -v u="$(du -sh "$KH" | cut -f1)" \
      'BEGIN { printf "kotlinc %s: installed once into %s (download %.1f MB, %.1f s; %s unpacked)\n", v, kh, b / 1e6, t1 - t0, u }' >&2
  fi
fi

# Runs on this JDK? (Kotlin 2.x's compiler needs Java 8 or later.) Asked
# once per JDK (the answer costs a compiler start, seconds here).
jdk=$(java -version 2>&1 | head -n 1)
ok=$KH/.ava3-runs-on-$(printf '%s %s' "$(readlink -f "$(command -v java)")" "$jdk" | sha256sum | cut -c1-16)
if [ ! -f "$ok" ]; then
  if ! v=$("$KH/bin/kotlinc" -version 2>&1); then
    skip "does not run on this JDK ($jdk): $(tail -n 2 <<<"$v" | tr '\n' ' ')"
  fi
  grep -q "kotlinc-jvm $VERSION" <<<"$v" || skip "unexpected kotlinc -version: $v"
  touch "$ok"
fi
echo "$KH"
