#!/usr/bin/env bash
# Instructions per byte of an ARM64 decode, counted under qemu-aarch64 with
# tests/device/insn_count.c (qemu's run times are not performance and are
# never quoted). Each figure is the difference of two runs that differ by
# exactly the work measured, divided by its bytes:
#   decode          = (decode - setup) / bytes, with and without the ARMv8
#                     AES and SHA-2 instructions (device/no_crypto_hwcap.c)
#   unshuffle       = (unshuffle-X - unshuffle-none) / bytes, NEON and portable
#
#   bash tests/bench/arm64-insns.sh [MIB]     (default 16; needs tests/device/install.sh)
set -euo pipefail
cd "$(dirname "$0")/../.."
MIB=${1:-16}
W=tests/.work/device
mkdir -p "$W"
export CARGO_TARGET_DIR=${AVA3_DEVICE_CACHE:-$HOME/.cache/ava3-device}/target
export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=aarch64-linux-gnu-gcc
cargo build --quiet --release --locked --target aarch64-unknown-linux-gnu -p ava3-format --example insn_probe
P=$CARGO_TARGET_DIR/aarch64-unknown-linux-gnu/release/examples/insn_probe
gcc -O2 -shared -fPIC tests/device/insn_count.c -o "$W/libinsn_count.so"
aarch64-linux-gnu-gcc -O2 -shared -fPIC tests/device/no_crypto_hwcap.c -o "$W/no_crypto_hwcap.so" -ldl
count() { # extra qemu args... -- MODE -> total instructions
  local args=()
  while [ "$1" != -- ]; do args+=("$1"); shift; done
  RAYON_NUM_THREADS=1 qemu-aarch64 -cpu max "${args[@]}" -plugin "$W/libinsn_count.so" -d plugin "$P" "$2" "$MIB" 2>&1 |
    sed -n 's/.*insn-count: total \([0-9]*\).*/\1/p'
}
bytes=$((MIB << 20))
per() { python3 -c "print(f'{($1 - $2) / $bytes:.2f}')"; }
setup=$(count -- setup)
hw=$(count -- decode)
setup_sw=$(count -E LD_PRELOAD="$W/no_crypto_hwcap.so" -- setup)
sw=$(count -E LD_PRELOAD="$W/no_crypto_hwcap.so" -- decode)
none=$(count -- unshuffle-none)
neon=$(count -- unshuffle-simd)
port=$(count -- unshuffle-portable)
echo "ARM64 instructions per byte ($MIB MiB, 64 KiB blocks, one thread, qemu-aarch64 -cpu max)"
echo "  decode, ARMv8 AES + SHA-256 instructions : $(per "$hw" "$setup")"
echo "  decode, portable AES + SHA-256            : $(per "$sw" "$setup_sw")"
echo "  unscramble + unshuffle, NEON tbl          : $(per "$neon" "$none")"
echo "  unscramble + unshuffle, portable loop     : $(per "$port" "$none")"
echo "  decode with the portable shuffle (derived): $(python3 -c "print(f'{(($hw - $setup) + ($port - $neon)) / $bytes:.2f}')")"
