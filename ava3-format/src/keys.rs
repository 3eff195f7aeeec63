//! Master keys, key ids and the per-file subkeys derived with HKDF-SHA256.
//!
//! Spec section 4 ("Keys"). No type here prints key bytes in `Debug`, and
//! every buffer that holds key material is wiped on drop.

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

    /// Copies a key from a slice, which must be exactly 32 bytes long.
    pub fn from_slice(bytes: &[u8]) -> Result<Self> {
        let arr: [u8; MASTER_KEY_LEN] = bytes
            .try_into()
            .map_err(|_| Error::InvalidParameter("a master key is exactly 32 bytes"))?;
        Ok(Self::from_bytes(arr))
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
        let mut bytes = Zeroizing::new([0u8; MASTER_KEY_LEN]);
        hex::decode_to_slice(text, bytes.as_mut_slice())
            .map_err(|_| Error::InvalidParameter("a hex master key has only 0-9, a-f, A-F"))?;
        Ok(Self::from_bytes(*bytes))
    }

    /// Draws a new key from the operating system's RNG.
    pub fn generate() -> Result<Self> {
        let mut bytes = [0u8; MASTER_KEY_LEN];
        OsRng
            .try_fill_bytes(&mut bytes)
            .map_err(|e| Error::Io(std::io::Error::other(e)))?;
        Ok(Self::from_bytes(bytes))
    }

    /// The key as 64 lowercase hex digits, in a buffer wiped on drop
    /// (for writing key files).
    pub fn to_hex(&self) -> Zeroizing<String> {
        Zeroizing::new(hex::encode(self.bytes))
    }

    /// The public key id of this key (spec 4.1).
    pub fn key_id(&self) -> KeyId {
        let hk = Hkdf::<Sha256>::new(None, &self.bytes);
        let mut id = [0u8; KEY_ID_LEN];
        // KEY_ID_LEN is far below HKDF's 255 * 32 byte limit.
        if hk.expand(INFO_KEY_ID, &mut id).is_err() {
            unreachable_hkdf();
        }
        KeyId(id)
    }

    /// Derives `K_mac` alone (spec 4.2): the only subkey a reader derives
    /// before the header MAC has been checked (spec 7.1 step 6).
    pub(crate) fn derive_mac(&self, salt: &[u8; SALT_LEN]) -> Zeroizing<[u8; 32]> {
        self.subkey(salt, INFO_MAC)
    }

    /// Derives the four per-file subkeys for `salt` (spec 4.2).
    pub(crate) fn derive(&self, salt: &[u8; SALT_LEN]) -> FileKeys {
        FileKeys {
            enc: *self.subkey(salt, INFO_ENC),
            mac: *self.subkey(salt, INFO_MAC),
            scramble: *self.subkey(salt, INFO_SCRAMBLE),
            shuffle: *self.subkey(salt, INFO_SHUFFLE),
        }
    }

    /// One 32-byte HKDF-SHA256 subkey: extract with `salt`, expand `info`.
    /// The HKDF state (an HMAC keyed with the PRK) is wiped on drop.
    fn subkey(&self, salt: &[u8; SALT_LEN], info: &[u8]) -> Zeroizing<[u8; 32]> {
        let hk = Hkdf::<Sha256>::new(Some(salt), &self.bytes);
        let mut out = Zeroizing::new([0u8; 32]);
        if hk.expand(info, out.as_mut_slice()).is_err() {
            unreachable_hkdf();
        }
        out
    }
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
