//! The unit loop of the byte shuffle with a byte-table instruction: SSSE3
//! `pshufb` on x86_64, NEON `tbl` (`vqtbl1q_u8`, its twin) on aarch64.
//!
//! Justified by `cargo bench -p ava3-format --bench throughput`
//! (`primitives/shuffle_xor_scalar` against `primitives/shuffle_xor`, see
//! BENCHMARKS.md) on x86_64 and by instruction counts under qemu on aarch64:
//! the scalar rotation of a 16-byte unit by a variable byte count costs more
//! than the rest of the shuffle together. The result is identical to the
//! scalar path, which stays the reference and is used on other
//! architectures (32-bit ARM among them); `tests::simd_matches_scalar`
//! checks every rotation, and fails on x86_64 and aarch64 if no SIMD path
//! ran. Each unsafe block only loads or stores 16 bytes through a pointer
//! taken from a bounds-checked 16-byte slice.
#![allow(unsafe_code)]

/// `FWD[r][k] = (k + r) mod 16`: output byte k takes input byte k + r.
#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
static FWD: [[u8; 16]; 16] = masks(false);
/// `INV[r][k] = (k - r) mod 16`: the inverse rotation.
#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
static INV: [[u8; 16]; 16] = masks(true);

#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
const fn masks(inverse: bool) -> [[u8; 16]; 16] {
    let mut m = [[0u8; 16]; 16];
    let mut r = 0;
    while r < 16 {
        let mut k = 0;
        while k < 16 {
            m[r][k] = if inverse {
                (k + 16 - r) % 16
            } else {
                (k + r) % 16
            } as u8;
            k += 1;
        }
        r += 1;
    }
    m
}

/// Runs the unit loop of `Shuffle::forward_xor` with SIMD when the CPU
/// allows; returns false when the caller must run the scalar loop.
pub(super) fn forward_units(
    sigma: &[u32],
    rho: &[u8],
    src: &[u8],
    pad: &[u8],
    dst: &mut [u8],
) -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        if !std::is_x86_feature_detected!("ssse3") {
            return false;
        }
        // SAFETY: the CPU supports SSSE3 (checked just above).
        unsafe { x86::forward(sigma, rho, src, pad, dst, &FWD) };
        true
    }
    #[cfg(target_arch = "aarch64")]
    {
        // NEON is part of the aarch64 baseline: no run-time check.
        arm::forward(sigma, rho, src, pad, dst, &FWD);
        true
    }
    #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
    {
        let _ = (sigma, rho, src, pad, dst);
        false
    }
}

/// Runs the unit loop of `Shuffle::inverse_xor` with SIMD when the CPU
/// allows; returns false when the caller must run the scalar loop.
pub(super) fn inverse_units(
    sigma: &[u32],
    rho: &[u8],
    src: &[u8],
    ks: &[u8],
    pad: &[u8],
    dst: &mut [u8],
) -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        if !std::is_x86_feature_detected!("ssse3") {
            return false;
        }
        // SAFETY: the CPU supports SSSE3 (checked just above).
        unsafe { x86::inverse(sigma, rho, src, ks, pad, dst, &INV) };
        true
    }
    #[cfg(target_arch = "aarch64")]
    {
        arm::inverse(sigma, rho, src, ks, pad, dst, &INV);
        true
    }
    #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
    {
        let _ = (sigma, rho, src, ks, pad, dst);
        false
    }
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::{
        __m128i, _mm_loadu_si128, _mm_shuffle_epi8, _mm_storeu_si128, _mm_xor_si128,
    };

    const UNIT: usize = 16;

    #[inline(always)]
    fn load(b: &[u8]) -> __m128i {
        let b: &[u8; UNIT] = b.try_into().unwrap_or(&[0; UNIT]);
        // SAFETY: `b` is exactly 16 readable bytes; loadu needs no alignment.
        unsafe { _mm_loadu_si128(b.as_ptr().cast::<__m128i>()) }
    }

    #[inline(always)]
    fn store(b: &mut [u8], v: __m128i) {
        if let Ok(b) = <&mut [u8; UNIT]>::try_from(b) {
            // SAFETY: `b` is exactly 16 writable bytes; storeu needs no alignment.
            unsafe { _mm_storeu_si128(b.as_mut_ptr().cast::<__m128i>(), v) }
        }
    }

    /// `dst[j] = rot(src[sigma[j]]) ^ pad[j]`.
    #[target_feature(enable = "ssse3")]
    pub(super) fn forward(
        sigma: &[u32],
        rho: &[u8],
        src: &[u8],
        pad: &[u8],
        dst: &mut [u8],
        masks: &[[u8; 16]; 16],
    ) {
        let m = sigma.len();
        let pads = pad[..m * UNIT].chunks_exact(UNIT);
        for (j, ((&s, &r), p)) in sigma.iter().zip(rho).zip(pads).enumerate() {
            let s = s as usize * UNIT;
            let j = j * UNIT;
            let mask = load(&masks[usize::from(r & 15)]);
            let v = _mm_shuffle_epi8(load(&src[s..s + UNIT]), mask);
            store(&mut dst[j..j + UNIT], _mm_xor_si128(v, load(p)));
        }
    }

    /// `dst[sigma[j]] = rot(src[j] ^ pad[j]) ^ ks[sigma[j]]`.
    #[target_feature(enable = "ssse3")]
    pub(super) fn inverse(
        sigma: &[u32],
        rho: &[u8],
        src: &[u8],
        ks: &[u8],
        pad: &[u8],
        dst: &mut [u8],
        masks: &[[u8; 16]; 16],
    ) {
        let m = sigma.len();
        let pads = pad[..m * UNIT].chunks_exact(UNIT);
        for (j, ((&s, &r), p)) in sigma.iter().zip(rho).zip(pads).enumerate() {
            let s = s as usize * UNIT;
            let j = j * UNIT;
            let mask = load(&masks[usize::from(r & 15)]);
            let v = _mm_xor_si128(load(&src[j..j + UNIT]), load(p));
            let v = _mm_xor_si128(_mm_shuffle_epi8(v, mask), load(&ks[s..s + UNIT]));
            store(&mut dst[s..s + UNIT], v);
        }
    }
}

#[cfg(target_arch = "aarch64")]
mod arm {
    use std::arch::aarch64::{uint8x16_t, veorq_u8, vld1q_u8, vqtbl1q_u8, vst1q_u8};

    const UNIT: usize = 16;

    #[inline(always)]
    fn load(b: &[u8]) -> uint8x16_t {
        let b: &[u8; UNIT] = b.try_into().unwrap_or(&[0; UNIT]);
        // SAFETY: `b` is exactly 16 readable bytes; vld1q_u8 needs no
        // alignment, and NEON is in the aarch64 baseline.
        unsafe { vld1q_u8(b.as_ptr()) }
    }

    #[inline(always)]
    fn store(b: &mut [u8], v: uint8x16_t) {
        if let Ok(b) = <&mut [u8; UNIT]>::try_from(b) {
            // SAFETY: `b` is exactly 16 writable bytes; vst1q_u8 needs no
            // alignment.
            unsafe { vst1q_u8(b.as_mut_ptr(), v) }
        }
    }

    /// `dst[j] = rot(src[sigma[j]]) ^ pad[j]`; `tbl` with an index below 16
    /// picks that byte, as `pshufb` does.
    pub(super) fn forward(
        sigma: &[u32],
        rho: &[u8],
        src: &[u8],
        pad: &[u8],
        dst: &mut [u8],
        masks: &[[u8; 16]; 16],
    ) {
        let m = sigma.len();
        let pads = pad[..m * UNIT].chunks_exact(UNIT);
        for (j, ((&s, &r), p)) in sigma.iter().zip(rho).zip(pads).enumerate() {
            let s = s as usize * UNIT;
            let j = j * UNIT;
            let mask = load(&masks[usize::from(r & 15)]);
            // SAFETY: register-only NEON operations (baseline on aarch64).
            let v = unsafe { veorq_u8(vqtbl1q_u8(load(&src[s..s + UNIT]), mask), load(p)) };
            store(&mut dst[j..j + UNIT], v);
        }
    }

    /// `dst[sigma[j]] = rot(src[j] ^ pad[j]) ^ ks[sigma[j]]`.
    pub(super) fn inverse(
        sigma: &[u32],
        rho: &[u8],
        src: &[u8],
        ks: &[u8],
        pad: &[u8],
        dst: &mut [u8],
        masks: &[[u8; 16]; 16],
    ) {
        let m = sigma.len();
        let pads = pad[..m * UNIT].chunks_exact(UNIT);
        for (j, ((&s, &r), p)) in sigma.iter().zip(rho).zip(pads).enumerate() {
            let s = s as usize * UNIT;
            let j = j * UNIT;
            let mask = load(&masks[usize::from(r & 15)]);
            // SAFETY: register-only NEON operations (baseline on aarch64).
            let v = unsafe {
                let v = veorq_u8(load(&src[j..j + UNIT]), load(p));
                veorq_u8(vqtbl1q_u8(v, mask), load(&ks[s..s + UNIT]))
            };
            store(&mut dst[s..s + UNIT], v);
        }
    }
}
