#!/usr/bin/env bash
# Build (once) a Debian trixie chroot with the Debian `swiftlang` package, used by
# examples/ios/test/run.sh to compile Ava3Model.swift on Linux.
# Cache: ${AVA3_DEVICE_CACHE:-~/.cache/ava3-device}/swift-trixie-<swiftlang version>/
# swiftlang plus libc6-dev (gcc only recommends it; swiftc needs the C headers).
# Idempotent (a second run installs nothing) and locked against concurrent runs.
# Needs root (debootstrap, chroot) and deb.debian.org. Prints the chroot path on stdout.
set -euo pipefail
CACHE="${AVA3_DEVICE_CACHE:-$HOME/.cache/ava3-device}"
MIRROR="${AVA3_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
mkdir -p "$CACHE"
exec 9>"$CACHE/swift-trixie.lock"
flock 9

existing() { for d in "$CACHE"/swift-trixie-*/; do echo "$d"; done | while read -r d; do
  [ -f "$d/.ava3-complete" ] && echo "${d%/}"; done | sort -V | tail -1; }

d="$(existing || true)"
if [ -n "$d" ]; then echo "$d"; exit 0; fi

command -v debootstrap >/dev/null || { echo "setup-toolchain: debootstrap not installed (apt-get install debootstrap)" >&2; exit 1; }
[ "$(id -u)" = 0 ] || { echo "setup-toolchain: needs root (debootstrap/chroot)" >&2; exit 1; }

stage="$CACHE/swift-trixie.staging"
rm -rf "$stage"
t0=$(date +%s)
debootstrap --variant=minbase trixie "$stage" "$MIRROR" >&2
t1=$(date +%s)
chroot "$stage" env DEBIAN_FRONTEND=noninteractive apt-get update >&2
chroot "$stage" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends swiftlang libc6-dev >&2
t2=$(date +%s)
# shellcheck disable=SC2016
ver="$(chroot "$stage" dpkg-query -W -f='${Version}' swiftlang)"
chroot "$stage" apt-get clean >&2
dest="$CACHE/swift-trixie-$ver"
rm -rf "$dest"; mv "$stage" "$dest"
printf 'swiftlang %s\ndebootstrap %ss\napt-get install %ss\n' "$ver" "$((t1-t0))" "$((t2-t1))" > "$dest/.ava3-complete"
echo "setup-toolchain: swiftlang $ver in $dest (debootstrap $((t1-t0))s, swiftlang $((t2-t1))s, $(du -sh "$dest" | cut -f1))" >&2
echo "$dest"
