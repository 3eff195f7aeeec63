//! The two obfuscation layers: the XOR scramble pad and the keyed byte
//! shuffle (spec 6.2 and 6.3).
//!
//! These layers add no cryptographic strength: confidentiality rests on
//! AES-256-CTR and integrity on HMAC-SHA256. They only make a file useless to
//! someone who extracted the AES key alone. Both are built from an AES-256-CTR
//! keystream under their own HKDF subkey; nothing here is a new primitive.
//!
//! Their keys (`K_scramble`, `K_shuffle`) are expanded once each, on the
//! heap ([`AesKey`]), and each table is built inside [`scrubbed_deep`], so that
//! neither a key schedule nor keystream is left on the stack.

use ctr::cipher::StreamCipher;
use zeroize::Zeroizing;

use crate::cipher::{AesKey, Ctr};
use crate::keys::scrubbed_deep;

mod simd;

/// Size of a shuffle unit in bytes.
pub(crate) const UNIT: usize = 16;

/// A deterministic byte stream: AES-256-CTR keystream under `key` starting at
/// the 16-byte counter block `iv` (spec 6.1). Its buffer of keystream is
/// wiped on drop.
pub(crate) struct Prg<'k> {
    ctr: Ctr<'k>,
    buf: Zeroizing<[u8; 4096]>,
    pos: usize,
}

impl<'k> Prg<'k> {
    pub(crate) fn new(key: &'k AesKey, iv: &[u8; 16]) -> Self {
        Self {
            ctr: key.ctr(iv),
            buf: Zeroizing::new([0; 4096]),
            pos: 4096,
        }
    }

    fn next_byte(&mut self) -> u8 {
        if self.pos == self.buf.len() {
            self.ctr.write_keystream(self.buf.as_mut_slice());
            self.pos = 0;
        }
        let b = self.buf[self.pos];
        self.pos += 1;
        b
    }

    /// The next 4 keystream bytes as a little-endian u32.
    pub(crate) fn next_u32(&mut self) -> u32 {
        u32::from_le_bytes([
            self.next_byte(),
            self.next_byte(),
            self.next_byte(),
            self.next_byte(),
        ])
    }

    /// A uniform integer in `0..n` (n >= 1) by rejection sampling (spec 6.1).
    pub(crate) fn uniform(&mut self, n: u32) -> u32 {
        let n64 = u64::from(n);
        let zone = (1u64 << 32) - ((1u64 << 32) % n64);
        loop {
            let x = u64::from(self.next_u32());
            if x < zone {
                // x % n < n <= u32::MAX
                return (x % n64) as u32;
            }
        }
    }
}

/// The XOR pad of a file: `block_size` keystream bytes under the scramble key.
pub(crate) fn scramble_pad(key: &[u8; 32], block_size: usize) -> Zeroizing<Vec<u8>> {
    let aes = AesKey::new(key);
    let mut pad = Zeroizing::new(vec![0u8; block_size]);
    scrubbed_deep(|| aes.ctr(&[0u8; 16]).write_keystream(&mut pad));
    pad
}

/// The keyed permutation of the bytes of a block of one length (spec 6.3).
pub(crate) struct Shuffle {
    len: usize,
    /// sigma: output unit j takes input unit `sigma[j]`.
    sigma: Zeroizing<Vec<u32>>,
    /// rho: rotation (in bytes) applied to each unit.
    rho: Zeroizing<Vec<u8>>,
    /// tau: rotation of the tail (the last `len % 16` bytes).
    tau: usize,
}

impl Shuffle {
    /// Derives the permutation for blocks of `len` bytes (`len >= 1`).
    pub(crate) fn new(key: &[u8; 32], len: usize) -> Self {
        let aes = AesKey::new(key);
        scrubbed_deep(|| Self::derive(&aes, len))
    }

    fn derive(key: &AesKey, len: usize) -> Self {
        let mut iv = [0u8; 16];
        iv[..8].copy_from_slice(&(len as u64).to_be_bytes());
        let mut prg = Prg::new(key, &iv);
        let m = len / UNIT;
        let t = len % UNIT;
        // m <= 2^20, so every index fits in u32.
        let mut sigma: Zeroizing<Vec<u32>> = Zeroizing::new((0..m as u32).collect());
        for j in (1..m).rev() {
            let r = prg.uniform(j as u32 + 1) as usize;
            sigma.swap(j, r);
        }
        let rho: Zeroizing<Vec<u8>> =
            Zeroizing::new((0..m).map(|_| prg.uniform(UNIT as u32) as u8).collect());
        let tau = if t >= 2 {
            prg.uniform(t as u32) as usize
        } else {
            0
        };
        Self {
            len,
            sigma,
            rho,
            tau,
        }
    }

    /// The number of bytes this permutation applies to.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// The unit loop of [`Shuffle::forward_xor`] in portable code: the
    /// reference for the SIMD path.
    pub(crate) fn forward_units_scalar(&self, src: &[u8], pad: &[u8], dst: &mut [u8]) {
        let m = self.sigma.len();
        for (((out, &s), &r), p) in dst[..m * UNIT]
            .chunks_exact_mut(UNIT)
            .zip(self.sigma.iter())
            .zip(self.rho.iter())
            .zip(pad[..m * UNIT].chunks_exact(UNIT))
        {
            let s = s as usize * UNIT;
            let u = load_unit(&src[s..s + UNIT]).rotate_right(8 * u32::from(r)) ^ load_unit(p);
            out.copy_from_slice(&u.to_le_bytes());
        }
    }

    /// The unit loop of [`Shuffle::inverse_xor`] in portable code.
    pub(crate) fn inverse_units_scalar(&self, src: &[u8], ks: &[u8], pad: &[u8], dst: &mut [u8]) {
        let m = self.sigma.len();
        for (((inp, &s), &r), p) in src[..m * UNIT]
            .chunks_exact(UNIT)
            .zip(self.sigma.iter())
            .zip(self.rho.iter())
            .zip(pad[..m * UNIT].chunks_exact(UNIT))
        {
            let s = s as usize * UNIT;
            let u = (load_unit(inp) ^ load_unit(p)).rotate_left(8 * u32::from(r))
                ^ load_unit(&ks[s..s + UNIT]);
            dst[s..s + UNIT].copy_from_slice(&u.to_le_bytes());
        }
    }

    /// Encrypts `src` with the AES-CTR keystream `ks`, shuffles the result
    /// into `dst` and XORs it with `pad` (spec 6.5 steps 1-3): `ks ^= src`
    /// in place (the ciphertext), then `dst[16j + k] = ks[16 sigma(j) +
    /// (k + rho(j)) mod 16] ^ pad[16j + k]`, and the tail of `ks` rotated
    /// left by tau, then XORed. `src`, `ks` and `dst` are `len` bytes; `pad`
    /// at least `len`. The XOR runs in order over `src`, which may be cold
    /// in memory, so that the gather reads only the cache-hot `ks`
    /// (gathering straight from a cold `src` measured 1.6x slower,
    /// `examples/obf_probe.rs`).
    pub(crate) fn forward_xor(&self, src: &[u8], ks: &mut [u8], pad: &[u8], dst: &mut [u8]) {
        for (k, s) in ks[..self.len].iter_mut().zip(&src[..self.len]) {
            *k ^= s;
        }
        let ct = &ks[..self.len];
        let m = self.sigma.len();
        if !simd::forward_units(&self.sigma, &self.rho, ct, pad, dst) {
            self.forward_units_scalar(ct, pad, dst);
        }
        let t = self.len - m * UNIT;
        let (ct_t, dst_t) = (&ct[m * UNIT..], &mut dst[m * UNIT..self.len]);
        for k in 0..t {
            dst_t[k] = ct_t[(k + self.tau) % t] ^ pad[m * UNIT + k];
        }
    }

    /// The inverse of [`Shuffle::forward_xor`]: XORs `src` with `pad`,
    /// unshuffles into `dst` and XORs the keystream `ks` (spec 6.6 steps 2-3).
    pub(crate) fn inverse_xor(&self, src: &[u8], ks: &[u8], pad: &[u8], dst: &mut [u8]) {
        let m = self.sigma.len();
        if !simd::inverse_units(&self.sigma, &self.rho, src, ks, pad, dst) {
            self.inverse_units_scalar(src, ks, pad, dst);
        }
        let t = self.len - m * UNIT;
        let (src_t, ks_t) = (&src[m * UNIT..self.len], &ks[m * UNIT..self.len]);
        let dst_t = &mut dst[m * UNIT..self.len];
        for k in 0..t {
            let to = (k + self.tau) % t;
            dst_t[to] = src_t[k] ^ pad[m * UNIT + k] ^ ks_t[to];
        }
    }
}

#[inline(always)]
fn load_unit(b: &[u8]) -> u128 {
    let mut a = [0u8; UNIT];
    a.copy_from_slice(b);
    u128::from_le_bytes(a)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shuffle_is_a_permutation_for_every_small_length() {
        let key = [42u8; 32];
        for len in 1..300 {
            let s = Shuffle::new(&key, len);
            // Feed distinct markers (u16 indices split in two passes).
            let src: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
            let zero = vec![0u8; len];
            let pad: Vec<u8> = (0..len).map(|i| (i * 7 % 256) as u8).collect();
            let ks: Vec<u8> = (0..len).map(|i| (i * 29 % 253) as u8).collect();
            let mut dst = vec![0u8; len];
            s.forward_xor(&src, &mut zero.clone(), &zero, &mut dst);
            let mut back = vec![0u8; len];
            s.inverse_xor(&dst, &zero, &zero, &mut back);
            assert_eq!(back, src, "len {len}");
            // With a pad: the XOR is applied after the permutation.
            let mut padded = vec![0u8; len];
            s.forward_xor(&src, &mut zero.clone(), &pad, &mut padded);
            for k in 0..len {
                assert_eq!(padded[k], dst[k] ^ pad[k]);
            }
            s.inverse_xor(&padded, &zero, &pad, &mut back);
            assert_eq!(back, src, "len {len} with pad");
            // With a keystream: applied before the permutation, so it
            // equals shuffling `src ^ ks`.
            let xored: Vec<u8> = src.iter().zip(&ks).map(|(a, b)| a ^ b).collect();
            let mut via_xored = vec![0u8; len];
            s.forward_xor(&xored, &mut zero.clone(), &pad, &mut via_xored);
            let mut with_ks = vec![0u8; len];
            s.forward_xor(&src, &mut ks.clone(), &pad, &mut with_ks);
            assert_eq!(with_ks, via_xored, "len {len} with keystream");
            s.inverse_xor(&with_ks, &ks, &pad, &mut back);
            assert_eq!(back, src, "len {len} with keystream and pad");
            let mut a = src.clone();
            let mut b = dst.clone();
            a.sort_unstable();
            b.sort_unstable();
            assert_eq!(a, b, "same multiset, len {len}");
        }
    }

    #[test]
    fn shuffle_moves_bytes_of_a_full_block() {
        let s = Shuffle::new(&[1u8; 32], 65536);
        let src: Vec<u8> = (0..65536u32).map(|i| (i / 256) as u8).collect();
        let mut dst = vec![0u8; 65536];
        s.forward_xor(&src, &mut [0u8; 65536], &[0u8; 65536], &mut dst);
        let moved = src.iter().zip(&dst).filter(|(a, b)| a != b).count();
        assert!(moved > 60000, "only {moved} bytes moved");
        let fixed_units = s
            .sigma
            .iter()
            .enumerate()
            .filter(|(j, &v)| *j as u32 == v)
            .count();
        assert!(fixed_units < 20);
    }

    /// The SIMD path and the scalar reference agree for every rotation.
    #[test]
    fn simd_matches_scalar() {
        for len in [16usize, 4096, 4096 + 7, 65536] {
            let s = Shuffle::new(&[len as u8; 32], len);
            let src: Vec<u8> = (0..len).map(|i| (i * 131 % 251) as u8).collect();
            let pad: Vec<u8> = (0..len).map(|i| (i * 17 % 253) as u8).collect();
            let ks: Vec<u8> = (0..len).map(|i| (i * 61 % 247) as u8).collect();
            let m = len / UNIT;
            let mut fast = vec![0u8; len];
            let used = simd::forward_units(&s.sigma, &s.rho, &src, &pad, &mut fast);
            // Both architectures with a SIMD path must take it (SSSE3 is on
            // every x86_64 CPU this runs on; NEON is aarch64's baseline):
            // a test that compares nothing must not pass.
            if cfg!(any(target_arch = "x86_64", target_arch = "aarch64")) {
                assert!(used, "no SIMD path ran on this architecture");
            }
            let mut slow = vec![0u8; len];
            s.forward_units_scalar(&src, &pad, &mut slow);
            if used {
                assert_eq!(fast[..m * UNIT], slow[..m * UNIT], "forward, len {len}");
                // The inverse with a keystream gives `src ^ ks`.
                let want: Vec<u8> = src.iter().zip(&ks).map(|(a, b)| a ^ b).collect();
                let mut back = vec![0u8; len];
                assert!(simd::inverse_units(
                    &s.sigma, &s.rho, &fast, &ks, &pad, &mut back
                ));
                assert_eq!(back[..m * UNIT], want[..m * UNIT], "inverse, len {len}");
                let mut back2 = vec![0u8; len];
                s.inverse_units_scalar(&fast, &ks, &pad, &mut back2);
                assert_eq!(back2[..m * UNIT], want[..m * UNIT]);
            }
            assert!(s.rho.contains(&15) || len < 4096);
        }
    }

    #[test]
    fn uniform_stays_in_range() {
        let key = AesKey::new(&[0; 32]);
        let mut p = Prg::new(&key, &[0; 16]);
        for n in [1u32, 2, 3, 7, 16, 1000, u32::MAX] {
            for _ in 0..100 {
                assert!(p.uniform(n) < n);
            }
        }
    }
}
