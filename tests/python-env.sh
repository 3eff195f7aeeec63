# The suite's one Python virtualenv and its one wheel. Sourced, not run, by
# tests/run-all.sh, fast.sh, python-package.sh, python39.sh, runtimes.sh
# and llama-cpp.sh:
#
#   ava3_venv   the virtualenv with tests/requirements.txt (which includes
#               ava3-python/tests/requirements.txt), made once per machine,
#               Python version and requirements, outside the checkout, and
#               never changed afterwards but for the wheel below; sets and
#               exports AVA3_VENV; tests/.work/venv links to it.
#   ava3_wheel  ava3_venv, then the wheel of ./ava3-python (pip's PEP 517
#               build, maturin as the backend) built into tests/.work/wheel
#               and installed into the virtualenv; sets and exports
#               AVA3_WHEEL. tests/run-all.sh builds it once, before its
#               parallel suites, which find AVA3_WHEEL set and use that
#               wheel; a script run alone builds it itself.
#
# Where: $AVA3_CACHE (default ~/.cache/ava3)/venv-<python>-<hash of the two
# requirements files>. Run as root, the CLI's process suite runs the
# wheel's `ava3` script as uid 65534 (tests/python-package.sh), who must be
# able to reach it: when that user cannot enter the cache folder (root's
# home is usually closed), the virtualenv is kept in /var/tmp/ava3-venvs-0
# instead (root's own folder, checked).

AVA3_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

ava3_venv_home() {
  local home=${AVA3_CACHE:-$HOME/.cache/ava3}
  mkdir -p "$home"
  if [ "$(id -u)" = 0 ] && ! setpriv --reuid=65534 --regid=65534 --clear-groups test -x "$home" 2>/dev/null; then
    home=/var/tmp/ava3-venvs-0
    [ -e "$home" ] || mkdir -m 755 "$home"
    # /var/tmp is everyone's: use the folder only if it is root's own and
    # no one else can write to it.
    if [ -L "$home" ] || [ "$(stat -c %u "$home")" != 0 ] || [ -n "$(find "$home" -maxdepth 0 -perm /022)" ]; then
      echo "$home is not root's own folder, or others can write to it: not using it" >&2
      return 1
    fi
  fi
  echo "$home"
}

ava3_venv() {
  if [ -n "${AVA3_VENV:-}" ] && [ -f "$AVA3_VENV/.complete" ]; then
    return 0
  fi
  local py=${AVA3_PYTHON:-python3} home key
  home=$(ava3_venv_home)
  key=$("$py" -c 'import platform; print(platform.python_implementation().lower() + platform.python_version())')
  key=$key-$(cat "$AVA3_ROOT/tests/requirements.txt" "$AVA3_ROOT/ava3-python/tests/requirements.txt" | sha256sum | cut -c1-16)
  AVA3_VENV=$home/venv-$key
  # One maker at a time (scripts run alone, side by side, wait here).
  (
    set -e
    flock 9
    if [ ! -f "$AVA3_VENV/.complete" ]; then
      echo "making the virtualenv $AVA3_VENV (once per machine, Python version and requirements)"
      rm -rf "$AVA3_VENV"
      umask 022
      "$py" -m venv "$AVA3_VENV"
      "$AVA3_VENV/bin/pip" install --quiet --disable-pip-version-check -r "$AVA3_ROOT/tests/requirements.txt"
      touch "$AVA3_VENV/.complete"
    fi
  ) 9>"$home/venv.lock"
  mkdir -p "$AVA3_ROOT/tests/.work"
  # (An earlier driver made a real virtualenv there.)
  if [ -d "$AVA3_ROOT/tests/.work/venv" ] && [ ! -L "$AVA3_ROOT/tests/.work/venv" ]; then
    rm -rf "$AVA3_ROOT/tests/.work/venv"
  fi
  ln -sfn "$AVA3_VENV" "$AVA3_ROOT/tests/.work/venv"
  export AVA3_VENV
}

ava3_wheel() {
  ava3_venv
  if [ -n "${AVA3_WHEEL:-}" ] && [ -f "$AVA3_WHEEL" ]; then
    return 0
  fi
  local dir=$AVA3_ROOT/tests/.work/wheel
  # The workspace's target folder: the wheel shares the release build's
  # dependencies (a cold wheel compiles 19 crates of its own, not all of
  # them; cargo's lock takes turns with tests/run-all.sh's steps, which
  # start it beside them).
  . "$AVA3_ROOT/tests/target-dirs.sh"
  ava3_target_dirs "$AVA3_ROOT"
  # One build at a time: maturin stages the extension at a fixed path of
  # that folder, which fresh clones share (tests/run-all.sh).
  (
    set -e
    flock 9
    umask 022
    rm -rf "$dir"
    cd "$AVA3_ROOT" || exit 1
    CARGO_TARGET_DIR=$AVA3_ROOT/target \
      "$AVA3_VENV/bin/pip" wheel --quiet --disable-pip-version-check --no-deps -w "$dir" ./ava3-python
    "$AVA3_VENV/bin/pip" install --quiet --disable-pip-version-check --force-reinstall --no-deps "$dir"/*.whl
  ) 9>"$AVA3_ROOT/target/.ava3-wheel.lock"
  AVA3_WHEEL=$(echo "$dir"/*.whl)
  [ -f "$AVA3_WHEEL" ] || { echo "no wheel (or more than one) in $dir" >&2; return 1; }
  echo "wheel: $AVA3_WHEEL, installed in $AVA3_VENV"
  export AVA3_WHEEL
}
