//! Master keys, key ids and the per-file subkeys derived with HKDF-SHA256.
//!
//! Spec section 4 ("Keys"). No type here prints key bytes in `Debug`, and
//! every buffer that holds key material is wiped on drop. Derived subkeys
//! are written straight into wiped heap buffers, never returned by value,
//! and the stack the derivation used is overwritten before it returns
//! ([`scrubbed`]): HKDF keeps its last output block in a local it does not
//! wipe.

use std::fmt;

use hkdf::Hkdf;
use rand::rngs::OsRng;
use rand::TryRngCore;
use sha2::Sha256;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::error::{Error, Result};

/// Length of a master key in bytes.
pub(crate) const MASTER_KEY_LEN: usize = 32;
/// Length of a key id in bytes.
pub(crate) const KEY_ID_LEN: usize = 16;
/// Length of the per-file salt in bytes.
pub(crate) const SALT_LEN: usize = 32;

/// HKDF `info` labels (spec 4.2). Each subkey is 32 bytes.
pub(crate) const INFO_ENC: &[u8] = b"AVA3-v1 enc";
pub(crate) const INFO_MAC: &[u8] = b"AVA3-v1 mac";
pub(crate) const INFO_SCRAMBLE: &[u8] = b"AVA3-v1 scramble";
pub(crate) const INFO_SHUFFLE: &[u8] = b"AVA3-v1 shuffle";
pub(crate) const INFO_KEY_ID: &[u8] = b"AVA3-v1 key-id";

/// A 256-bit master key. Not `Clone`; wiped on drop; `Debug` shows only the key id.
#[derive(Zeroize, ZeroizeOnDrop)]
pub struct MasterKey {
    bytes: [u8; MASTER_KEY_LEN],
}

impl MasterKey {
    /// Wraps 32 key bytes.
    pub fn from_bytes(bytes: [u8; MASTER_KEY_LEN]) -> Self {
        Self { bytes }
    }

    /// Copies a key from a slice, which must be exactly 32 bytes long
    /// (straight into the key: no unwiped copy on the way).
    pub fn from_slice(bytes: &[u8]) -> Result<Self> {
        if bytes.len() != MASTER_KEY_LEN {
            return Err(Error::InvalidParameter("a master key is exactly 32 bytes"));
        }
        let mut key = Self::from_bytes([0; MASTER_KEY_LEN]);
        key.bytes.copy_from_slice(bytes);
        Ok(key)
    }

    /// Parses 64 hexadecimal digits; surrounding ASCII white space (space,
    /// tab, LF, FF, CR) is ignored, and nothing else (spec appendix C).
    pub fn from_hex(text: &str) -> Result<Self> {
        let text = text.trim_matches(|c: char| c.is_ascii_whitespace());
        if text.len() != 2 * MASTER_KEY_LEN {
            return Err(Error::InvalidParameter(
                "a hex master key is exactly 64 hexadecimal digits",
            ));
        }
        let mut key = Self::from_bytes([0; MASTER_KEY_LEN]);
        hex::decode_to_slice(text, &mut key.bytes)
            .map_err(|_| Error::InvalidParameter("a hex master key has only 0-9, a-f, A-F"))?;
        Ok(key)
    }

    /// Draws a new key from the operating system's RNG.
    pub fn generate() -> Result<Self> {
        let mut key = Self::from_bytes([0; MASTER_KEY_LEN]);
        OsRng
            .try_fill_bytes(&mut key.bytes)
            .map_err(|e| Error::Io(std::io::Error::other(e)))?;
        Ok(key)
    }

    /// The key as 64 lowercase hex digits, in a buffer wiped on drop
    /// (for writing key files). The key is passed by reference: an array
    /// passed by value would leave an unwiped copy on the stack.
    pub fn to_hex(&self) -> Zeroizing<String> {
        Zeroizing::new(hex::encode(self.bytes.as_slice()))
    }

    /// The public key id of this key (spec 4.1).
    pub fn key_id(&self) -> KeyId {
        let mut id = [0u8; KEY_ID_LEN];
        scrubbed(|| {
            let hk = Hkdf::<Sha256>::new(None, &self.bytes);
            // KEY_ID_LEN is far below HKDF's 255 * 32 byte limit.
            if hk.expand(INFO_KEY_ID, &mut id).is_err() {
                unreachable_hkdf();
            }
        });
        KeyId(id)
    }

    /// Derives `K_mac` alone (spec 4.2) into `k_mac`: the only subkey a
    /// reader derives before the header MAC has been checked (spec 7.1
    /// step 6). Inside [`scrubbed`] only (with the check that uses it).
    pub(crate) fn derive_mac(&self, salt: &[u8; SALT_LEN], k_mac: &mut [u8; 32]) {
        self.expand(salt, &mut [(INFO_MAC, k_mac)]);
    }

    /// Derives the four per-file subkeys for `salt` (spec 4.2), on the heap.
    pub(crate) fn derive(&self, salt: &[u8; SALT_LEN]) -> Box<FileKeys> {
        let mut keys = Box::new(FileKeys {
            enc: [0; 32],
            mac: [0; 32],
            scramble: [0; 32],
            shuffle: [0; 32],
        });
        let FileKeys {
            enc,
            mac,
            scramble,
            shuffle,
        } = &mut *keys;
        scrubbed(|| {
            self.expand(
                salt,
                &mut [
                    (INFO_ENC, enc),
                    (INFO_MAC, mac),
                    (INFO_SCRAMBLE, scramble),
                    (INFO_SHUFFLE, shuffle),
                ],
            )
        });
        keys
    }

    /// HKDF-SHA256 (spec 4.2): one extract with `salt`, then each 32-byte
    /// subkey expanded from its `info` into its buffer. The HKDF state (an
    /// HMAC keyed with the PRK) is wiped on drop, not its last output block
    /// (the last subkey): inside [`scrubbed`] only.
    fn expand(&self, salt: &[u8; SALT_LEN], subkeys: &mut [(&[u8], &mut [u8; 32])]) {
        let hk = Hkdf::<Sha256>::new(Some(salt), &self.bytes);
        for (info, out) in subkeys.iter_mut() {
            if hk.expand(info, out.as_mut_slice()).is_err() {
                unreachable_hkdf();
            }
        }
    }
}

/// Bytes of stack that [`scrubbed`] overwrites below its caller. The work
/// it wraps was measured to touch at most 3.2 KiB of stack (the AES-CTR
/// keystream and HMAC tag of one block, on x86_64 with VAES, the deepest
/// AES backend); HKDF and keying an HMAC or expanding an AES key, under
/// 2 KiB. It runs for every block, so it is kept close to that: 8 KiB cost
/// the encoder 5 % of its throughput with 4 KiB blocks, this 1 %.
/// `ava3-decoder-ffi/tests/c/heap_test.c` checks that no key material is
/// left on any thread's stack.
const SCRUB_LEN: usize = 4 << 10;
/// The same for [`scrubbed_deep`]: the pad and the shuffle tables (7.2 KiB
/// measured: the PRG's 4 KiB buffer is on the stack) and the keystream
/// of the plaintext digest (4.3 KiB).
const SCRUB_DEEP_LEN: usize = 32 << 10;

/// Runs `f` in a frame of its own, then overwrites the stack it used.
///
/// Key material that the crates this one builds on copy into their locals
/// (HKDF's last output block, an HMAC state being cloned or finalized, an
/// AES key schedule being expanded or, with VAES, broadcast for a batch)
/// outlives their frames: nothing wipes a dead frame. `f` runs below this
/// call, and a zeroed buffer of [`SCRUB_LEN`] bytes is then laid over the
/// same addresses. Whatever `f` returns must hold no key material by value
/// (a `Box` of it is fine).
#[inline(always)]
pub(crate) fn scrubbed<T>(f: impl FnOnce() -> T) -> T {
    let out = run_below(f);
    scrub_stack::<SCRUB_LEN>();
    out
}

/// [`scrubbed`] over [`SCRUB_DEEP_LEN`] bytes, for deeper work done once
/// per file.
#[inline(always)]
pub(crate) fn scrubbed_deep<T>(f: impl FnOnce() -> T) -> T {
    let out = run_below(f);
    scrub_stack::<SCRUB_DEEP_LEN>();
    out
}

#[inline(never)]
fn run_below<T>(f: impl FnOnce() -> T) -> T {
    f()
}

/// Zeroes `N` bytes of stack below the caller's frame. Safe code: the
/// zeroed buffer escapes into `black_box`, so the stores cannot be
/// optimized away.
#[inline(never)]
fn scrub_stack<const N: usize>() {
    let mut area = [0u8; N];
    std::hint::black_box(&mut area);
}

#[cold]
fn unreachable_hkdf() {
    // HKDF-SHA256 only fails for outputs longer than 8160 bytes; every
    // output here is 16 or 32 bytes. Reaching this is a bug in this crate.
    unreachable!("HKDF output length within bounds")
}

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MasterKey")
            .field("key_id", &self.key_id())
            .finish_non_exhaustive()
    }
}

/// The per-file subkeys. Wiped on drop; never printed.
#[derive(Zeroize, ZeroizeOnDrop)]
pub(crate) struct FileKeys {
    pub(crate) enc: [u8; 32],
    pub(crate) mac: [u8; 32],
    pub(crate) scramble: [u8; 32],
    pub(crate) shuffle: [u8; 32],
}

impl fmt::Debug for FileKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("FileKeys(..)")
    }
}

/// The public fingerprint of a master key: 16 bytes of HKDF output that
/// reveal nothing about the key. Displayed as 32 lowercase hex digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyId(pub(crate) [u8; KEY_ID_LEN]);

impl KeyId {
    /// The 16 bytes of the id.
    pub fn as_bytes(&self) -> &[u8; KEY_ID_LEN] {
        &self.0
    }

    /// The id as 32 lowercase hex digits.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyId({})", self.to_hex())
    }
}

/// Draws a fresh per-file salt from the operating system's RNG.
pub(crate) fn random_salt() -> Result<[u8; SALT_LEN]> {
    let mut salt = [0u8; SALT_LEN];
    OsRng
        .try_fill_bytes(&mut salt)
        .map_err(|e| Error::Io(std::io::Error::other(e)))?;
    Ok(salt)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_key_bytes() {
        let key = MasterKey::from_bytes([0xAB; 32]);
        let shown = format!("{key:?}");
        assert!(!shown.to_lowercase().contains("abab"), "{shown}");
        assert!(shown.contains(&key.key_id().to_hex()));
        let fk = key.derive(&[0; 32]);
        assert_eq!(format!("{fk:?}"), "FileKeys(..)");
    }

    #[test]
    fn key_id_depends_on_key_only() {
        let a = MasterKey::from_bytes([1; 32]);
        let b = MasterKey::from_bytes([2; 32]);
        assert_ne!(a.key_id(), b.key_id());
        assert_eq!(a.key_id(), MasterKey::from_bytes([1; 32]).key_id());
    }

    #[test]
    fn subkeys_are_distinct_and_salt_dependent() {
        let k = MasterKey::from_bytes([7; 32]);
        let f1 = k.derive(&[0; 32]);
        let f2 = k.derive(&[1; 32]);
        let all = [f1.enc, f1.mac, f1.scramble, f1.shuffle, f2.enc];
        for i in 0..all.len() {
            for j in i + 1..all.len() {
                assert_ne!(all[i], all[j]);
            }
        }
    }

    #[test]
    fn hex_round_trip_and_errors() {
        let k = MasterKey::from_bytes([0x5a; 32]);
        let back = MasterKey::from_hex(&k.to_hex()).unwrap();
        assert_eq!(back.bytes, k.bytes);
        assert!(MasterKey::from_hex("00").is_err());
        // Appendix C: ASCII white space around the digits, nothing else.
        let hex = k.to_hex();
        let padded = format!(" \t\r\n{}\n\x0c", hex.as_str());
        assert_eq!(MasterKey::from_hex(&padded).unwrap().key_id(), k.key_id());
        assert!(MasterKey::from_hex(&format!("\u{a0}{}", hex.as_str())).is_err());
        assert!(MasterKey::from_hex(&format!("{}\x0b", hex.as_str())).is_err());
        assert!(MasterKey::from_hex(&"zz".repeat(32)).is_err());
        let e = MasterKey::from_hex(&"zz".repeat(32))
            .unwrap_err()
            .to_string();
        assert!(!e.contains("zz"), "error must not echo key text: {e}");
    }
}
