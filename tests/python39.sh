#!/usr/bin/env bash
# The oldest CPython the abi3 wheel claims (3.9): Debian bullseye's 3.9.2,
# from the machine's own Debian mirror (a private apt lists folder, no
# system change), unpacked into the cache once, with a venv holding pytest
# and numpy. Then the wheel in $1 is installed there and the package's
# pytest suite runs against it.
#   bash tests/python39.sh [WHEEL]
# (tests/python-package.sh passes the suite's wheel; without one, the
# wheel is built as tests/python-env.sh does.)
set -euo pipefail
cd "$(dirname "$0")/.."
WHEEL=${1:-}
if [ -z "$WHEEL" ]; then
  . tests/python-env.sh
  ava3_wheel
  WHEEL=$AVA3_WHEEL
fi
D=${AVA3_CACHE:-$HOME/.cache/ava3}/python3.9-bullseye
export LD_LIBRARY_PATH=$D/root/usr/lib/x86_64-linux-gnu:$D/root/lib/x86_64-linux-gnu
if [ ! -f "$D/.complete" ]; then
  rm -rf "$D"
  mkdir -p "$D/lists/partial" "$D/archives/partial" "$D/root" "$D/debs"
  uri=$(apt-get indextargets --format '$(REPO_URI)' | grep -m1 -E '/debian/$')
  echo "deb [arch=amd64] $uri bullseye main" > "$D/sources.list"
  A=(-o "Dir::Etc::SourceList=$D/sources.list" -o Dir::Etc::SourceParts=/dev/null
    -o "Dir::State::Lists=$D/lists" -o "Dir::Cache::Archives=$D/archives" -o APT::Architecture=amd64)
  apt-get "${A[@]}" update -qq 2>/dev/null
  # The interpreter and the libraries bookworm no longer has (OpenSSL 1.1,
  # libffi 7, libmpdec 3); the rest of its libraries are bookworm's.
  (cd "$D/debs" && apt-get "${A[@]}" download -qq python3.9-minimal libpython3.9-minimal \
    libpython3.9-stdlib python3.9 python3.9-venv python3-distutils=3.9.2-1 python3-lib2to3=3.9.2-1 \
    libssl1.1 libffi7 libmpdec3 2>/dev/null)
  for f in "$D"/debs/*.deb; do dpkg-deb -x "$f" "$D/root"; done
  "$D/root/usr/bin/python3.9" -m venv --without-pip "$D/venv"
  python3 -m pip download -q --disable-pip-version-check --no-deps -d "$D/debs" "pip<25"
  pip_whl=$(ls "$D"/debs/pip-*.whl)
  "$D/venv/bin/python" "$pip_whl/pip" install -q --disable-pip-version-check --no-index "$pip_whl"
  "$D/venv/bin/pip" install -q --disable-pip-version-check -r ava3-python/tests/requirements.txt
  touch "$D/.complete"
fi
"$D/venv/bin/python" -c 'import sys; assert sys.version_info[:2] == (3, 9), sys.version'
"$D/venv/bin/pip" install -q --disable-pip-version-check --force-reinstall --no-deps "$WHEEL"
echo "the wheel on $("$D/venv/bin/python" -c 'import sys; print("CPython", sys.version.split()[0])')"
(cd ava3-python/tests && "$D/venv/bin/python" -m pytest -q -p no:cacheprovider .)
