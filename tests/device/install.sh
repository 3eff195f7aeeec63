#!/usr/bin/env bash
# Installs what tests/device.sh needs, from Debian's packages and rustup;
# quick when everything is there. Root, as on this project's machines.
#  - cross C toolchain and libraries for aarch64 (and arm64 multiarch for
#    OpenSSL, which the C ABI test program uses for SHA-256);
#  - qemu-user (ARM64 programs) and qemu-system-arm (the kernel VMs), the
#    7.2 of Debian bookworm: tests/device/insn_count.c is a plugin for its
#    plugin API (version 1);
#  - clang, lld, llvm (Android link without the NDK, lipo);
#  - Rust targets, rust-src (Android libunwind, -Zbuild-std for the iOS
#    simulators, whose std rustup does not serve here) and llvm-tools.
set -euo pipefail
pkgs=(gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user qemu-system-arm clang lld llvm cpio
  libc6:arm64 libssl-dev:arm64)
if ! dpkg --print-foreign-architectures | grep -qx arm64; then
  dpkg --add-architecture arm64
fi
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "apt: installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
case $(qemu-aarch64 --version | head -1) in
  *"version 7."*) ;;
  *) echo "install: tests/device needs qemu 7.x (Debian bookworm's): $(qemu-aarch64 --version | head -1)" >&2; exit 2 ;;
esac
installed=$(rustup target list --installed)
for t in aarch64-linux-android armv7-linux-androideabi x86_64-linux-android aarch64-apple-ios aarch64-unknown-linux-gnu; do
  grep -qx "$t" <<<"$installed" || rustup target add "$t"
done
comps=$(rustup component list --installed)
grep -q '^rust-src' <<<"$comps" || rustup component add rust-src
grep -q '^llvm-tools' <<<"$comps" || rustup component add llvm-tools
rustup component list --installed --toolchain nightly | grep -q '^rust-src' ||
  rustup component add rust-src --toolchain nightly
