# Sourced by tests/run-all.sh, tests/device.sh and tests/python-env.sh.
#
# ava3_target_dirs ROOT: a checkout without target/ (a fresh clone) builds
# into the shared cargo target folders of the cache, so that the
# dependencies (the bulk of a cold build) compile once per machine and
# toolchain; cargo rebuilds whatever changed. An existing target/ (a
# developer's) is left as it is. Whichever script a fresh clone runs
# first makes the links, so that none of them leaves a real target/ that
# would keep the others from the cache.
ava3_target_dirs() {
  local root=$1 cache=${AVA3_CACHE:-$HOME/.cache/ava3} t
  for t in target fuzz/target; do
    if [ ! -e "$root/$t" ]; then
      mkdir -p "$cache/${t//\//-}"
      # (Another script may have made it meanwhile.)
      ln -s "$cache/${t//\//-}" "$root/$t" 2>/dev/null || [ -e "$root/$t" ]
    fi
  done
}
