#!/usr/bin/env bash
# The aarch64 Linux wheel, installed and tested on Debian's arm64 CPython
# 3.11 under qemu-aarch64 (user mode):
#
#   bash release/python-arm64.sh WHEEL
#
# Debian bookworm's arm64 python3.11 and the libraries it loads are
# downloaded once from the machine's own Debian mirror (a private apt lists
# folder: nothing is installed on the system) and unpacked into
# AVA3_DIST_CACHE/python3.11-arm64/root. The wheel, pytest and numpy are
# installed for that interpreter by the host's pip (--platform
# manylinux2014_aarch64) into a folder of their own. The package's own
# tests (ava3-python/tests) then run there. There is no binfmt handler
# here, so `python` is a wrapper that runs the arm64 interpreter under
# qemu-aarch64 with argv[0] kept (-0): sys.executable is the wrapper, and
# the tests' child interpreters and the `ava3` entry point run the same way.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT_DIR=$PWD
WHEEL=$(readlink -f "$1")
CACHE=${AVA3_DIST_CACHE:-$HOME/.cache/ava3-dist}
D=$CACHE/python3.11-arm64
R=$D/root
if [ ! -f "$D/.complete" ]; then
  rm -rf "$D"
  mkdir -p "$D/lists/partial" "$D/archives/partial" "$R" "$D/debs"
  uri=$(apt-get indextargets --format '$(REPO_URI)' | grep -m1 -E '/debian/$')
  echo "deb [arch=arm64] $uri bookworm main" > "$D/sources.list"
  # An empty package status of its own: the versions the host has
  # installed (some arm64 libraries, from security updates) must not pick
  # what is downloaded from this list.
  : > "$D/status"
  A=(-o "Dir::Etc::SourceList=$D/sources.list" -o Dir::Etc::SourceParts=/dev/null -o "Dir::State::status=$D/status"
    -o "Dir::State::Lists=$D/lists" -o "Dir::Cache::Archives=$D/archives" -o APT::Architecture=arm64)
  apt-get "${A[@]}" update -qq 2>/dev/null
  (cd "$D/debs" && apt-get "${A[@]}" download -qq python3.11-minimal libpython3.11-minimal libpython3.11-stdlib \
    libc6 libgcc-s1 libstdc++6 libssl3 libffi8 libexpat1 zlib1g libbz2-1.0 liblzma5 libsqlite3-0 libncursesw6 \
    libtinfo6 libreadline8 libuuid1 libcrypt1 libdb5.3 libnsl2 libtirpc3 libgssapi-krb5-2 libkrb5-3 libk5crypto3 \
    libkrb5support0 libcom-err2 libkeyutils1 media-types 2>/dev/null)
  for deb in "$D"/debs/*.deb; do dpkg-deb -x "$deb" "$R"; done
  rm -rf "$D/debs" "$D/archives"
  touch "$D/.complete"
fi

W=$ROOT_DIR/tests/.work/python-arm64
rm -rf "$W" && mkdir -p "$W/bin"
# The wheel and what the tests need, for CPython 3.11 on aarch64.
python3 -m pip install --quiet --disable-pip-version-check --target "$W/site-packages" --platform manylinux2014_aarch64 \
  --python-version 3.11 --implementation cp --abi cp311 --only-binary=:all: "$WHEEL" "pytest>=8" "numpy>=1.26"
cat > "$W/bin/python" <<EOF
#!/bin/sh
PYTHONPATH='$W/site-packages' exec qemu-aarch64 -cpu max -L '$R' -0 "\$0" '$R/usr/bin/python3.11' "\$@"
EOF
cat > "$W/bin/ava3" <<EOF
#!$W/bin/python
import sys
from ava_toolchain.ava3_encoder import main
sys.exit(main())
EOF
chmod +x "$W/bin/python" "$W/bin/ava3"
"$W/bin/python" -c 'import platform, sys, ava_toolchain.ava3 as a; print("arm64 python", sys.version.split()[0], platform.machine(), "ava_toolchain", a.__name__)'
cd ava3-python/tests
"$W/bin/python" -m pytest -q -p no:cacheprovider
