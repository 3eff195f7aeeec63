//! The two obfuscation layers: the XOR scramble pad and the keyed byte
//! shuffle (spec 6.2 and 6.3).
//!
//! These layers add no cryptographic strength: confidentiality rests on
//! AES-256-CTR and integrity on HMAC-SHA256. They only make a file useless to
//! someone who extracted the AES key alone. Both are built from an AES-256-CTR
//! keystream under their own HKDF subkey; nothing here is a new primitive.

use aes::Aes256;
use ctr::cipher::{KeyIvInit, StreamCipher};
use zeroize::Zeroizing;

type Ctr = ctr::Ctr128BE<Aes256>;

/// Size of a shuffle unit in bytes.
pub(crate) const UNIT: usize = 16;

/// A deterministic byte stream: AES-256-CTR keystream under `key` starting at
/// the 16-byte counter block `iv` (spec 6.1).
pub(crate) struct Prg {
    ctr: Ctr,
    buf: Zeroizing<[u8; 4096]>,
    pos: usize,
}

impl Prg {
    pub(crate) fn new(key: &[u8; 32], iv: &[u8; 16]) -> Self {
        Self {
            ctr: Ctr::new(key.into(), iv.into()),
            buf: Zeroizing::new([0; 4096]),
            pos: 4096,
        }
    }

    fn next_byte(&mut self) -> u8 {
        if self.pos == self.buf.len() {
            self.buf.fill(0);
            self.ctr.apply_keystream(self.buf.as_mut_slice());
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
    let mut pad = Zeroizing::new(vec![0u8; block_size]);
    let mut ctr = Ctr::new(key.into(), &[0u8; 16].into());
    ctr.apply_keystream(&mut pad);
    pad
}

/// XORs `data` with the first `data.len()` bytes of `pad`.
#[inline]
pub(crate) fn xor_pad(data: &mut [u8], pad: &[u8]) {
    let pad = &pad[..data.len()];
    let mut d = data.chunks_exact_mut(8);
    let mut p = pad.chunks_exact(8);
    for (dc, pc) in (&mut d).zip(&mut p) {
        let x = u64::from_ne_bytes(dc.try_into().unwrap_or([0; 8]))
            ^ u64::from_ne_bytes(pc.try_into().unwrap_or([0; 8]));
        dc.copy_from_slice(&x.to_ne_bytes());
    }
    for (db, pb) in d.into_remainder().iter_mut().zip(p.remainder()) {
        *db ^= pb;
    }
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

    /// `dst[16j + k] = src[16 sigma(j) + (k + rho(j)) mod 16]`, and the tail
    /// rotated left by tau. `src` and `dst` are `len` bytes.
    pub(crate) fn forward(&self, src: &[u8], dst: &mut [u8]) {
        let m = self.sigma.len();
        for ((out, &s), &r) in dst[..m * UNIT]
            .chunks_exact_mut(UNIT)
            .zip(self.sigma.iter())
            .zip(self.rho.iter())
        {
            let s = s as usize * UNIT;
            let u = load_unit(&src[s..s + UNIT]);
            out.copy_from_slice(&u.rotate_right(8 * u32::from(r)).to_le_bytes());
        }
        let t = self.len - m * UNIT;
        let (src_t, dst_t) = (&src[m * UNIT..self.len], &mut dst[m * UNIT..self.len]);
        for k in 0..t {
            dst_t[k] = src_t[(k + self.tau) % t];
        }
    }

    /// The inverse of [`Shuffle::forward`].
    pub(crate) fn inverse(&self, src: &[u8], dst: &mut [u8]) {
        let m = self.sigma.len();
        for ((inp, &s), &r) in src[..m * UNIT]
            .chunks_exact(UNIT)
            .zip(self.sigma.iter())
            .zip(self.rho.iter())
        {
            let s = s as usize * UNIT;
            let u = load_unit(inp);
            dst[s..s + UNIT].copy_from_slice(&u.rotate_left(8 * u32::from(r)).to_le_bytes());
        }
        let t = self.len - m * UNIT;
        let (src_t, dst_t) = (&src[m * UNIT..self.len], &mut dst[m * UNIT..self.len]);
        for k in 0..t {
            dst_t[(k + self.tau) % t] = src_t[k];
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
            let mut dst = vec![0u8; len];
            s.forward(&src, &mut dst);
            let mut back = vec![0u8; len];
            s.inverse(&dst, &mut back);
            assert_eq!(back, src, "len {len}");
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
        s.forward(&src, &mut dst);
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

    #[test]
    fn uniform_stays_in_range() {
        let mut p = Prg::new(&[0; 32], &[0; 16]);
        for n in [1u32, 2, 3, 7, 16, 1000, u32::MAX] {
            for _ in 0..100 {
                assert!(p.uniform(n) < n);
            }
        }
    }

    #[test]
    fn xor_pad_is_an_involution() {
        let pad: Vec<u8> = (0..100u8).collect();
        let orig: Vec<u8> = (0..37u8).map(|x| x.wrapping_mul(7)).collect();
        let mut d = orig.clone();
        xor_pad(&mut d, &pad);
        assert_ne!(d, orig);
        assert_eq!(d[3], orig[3] ^ 3);
        xor_pad(&mut d, &pad);
        assert_eq!(d, orig);
    }
}
