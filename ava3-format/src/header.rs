//! The fixed 128-byte header, the 120-byte trailer and the file layout
//! arithmetic (spec sections 3, 5 and 7).

use crate::error::{Error, HeaderProblem, Result, TrailerProblem};
use crate::keys::{KeyId, KEY_ID_LEN, SALT_LEN};
use crate::kind::PayloadKind;

/// The 8 magic bytes every AVA3 file starts with.
pub(crate) const MAGIC: [u8; 8] = [0x89, b'A', b'V', b'A', b'3', 0x0D, 0x0A, 0x1A];
/// The format version this crate reads and writes.
pub(crate) const VERSION: u16 = 1;
/// Length of a version 1 header.
pub(crate) const HEADER_LEN: usize = 128;
/// Bytes of the header covered by the header MAC.
pub(crate) const HEADER_MAC_INPUT_LEN: usize = 96;
/// Length of every MAC and tag.
pub(crate) const TAG_LEN: usize = 32;
/// Length of the trailer.
pub(crate) const TRAILER_LEN: usize = 120;
/// The 8 bytes a trailer starts with.
pub(crate) const TRAILER_MAGIC: [u8; 8] = *b"AVA3-END";
/// Bytes of the trailer covered by the trailer MAC.
pub(crate) const TRAILER_MAC_INPUT_LEN: usize = 56;
/// Bytes of the trailer covered by the keyless digest.
pub(crate) const TRAILER_KEYLESS_INPUT_LEN: usize = 88;
/// Smallest allowed block size.
pub const MIN_BLOCK_SIZE: u32 = 1 << 12;
/// Largest allowed block size.
pub const MAX_BLOCK_SIZE: u32 = 1 << 24;
/// Default block size (64 KiB).
pub const DEFAULT_BLOCK_SIZE: u32 = 1 << 16;
/// Largest total file length a valid header may describe.
pub(crate) const MAX_FILE_LEN: u64 = i64::MAX as u64;

/// The rule a block size must follow, in words (for messages and help).
pub const BLOCK_SIZE_RULE: &str = "a power of two from 4096 to 16777216 (4 KiB to 16 MiB)";

/// Returns true when `bs` is an allowed block size ([`BLOCK_SIZE_RULE`]).
pub fn block_size_is_valid(bs: u32) -> bool {
    bs.is_power_of_two() && (MIN_BLOCK_SIZE..=MAX_BLOCK_SIZE).contains(&bs)
}

/// Sizes and offsets of a file, derived from block size and plaintext length
/// (spec 3.2). Constructed only through [`Layout::new`], which range-checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Layout {
    block_size: u64,
    plaintext_len: u64,
    block_count: u64,
}

impl Layout {
    /// Computes the layout, or fails when the block size is invalid or the
    /// file would exceed 2^63 - 1 bytes (spec 3.2).
    pub fn new(block_size: u32, plaintext_len: u64) -> Result<Self> {
        if !block_size_is_valid(block_size) {
            return Err(Error::CorruptHeader(HeaderProblem::BlockSize(block_size)));
        }
        let bs = u64::from(block_size);
        let block_count = plaintext_len.div_ceil(bs).max(1);
        let layout = Self {
            block_size: bs,
            plaintext_len,
            block_count,
        };
        let total = (HEADER_LEN as u64)
            .checked_add(plaintext_len)
            .and_then(|t| t.checked_add(block_count.checked_mul(TAG_LEN as u64)?))
            .and_then(|t| t.checked_add(TRAILER_LEN as u64));
        match total {
            Some(t) if t <= MAX_FILE_LEN => Ok(layout),
            _ => Err(Error::CorruptHeader(HeaderProblem::PlaintextLength(
                plaintext_len,
            ))),
        }
    }

    /// Block size in bytes.
    pub fn block_size(&self) -> u64 {
        self.block_size
    }
    /// Plaintext length in bytes.
    pub fn plaintext_len(&self) -> u64 {
        self.plaintext_len
    }
    /// Number of blocks (at least 1: an empty plaintext has one empty block).
    pub fn block_count(&self) -> u64 {
        self.block_count
    }
    /// Index of the final block.
    pub fn last_index(&self) -> u64 {
        self.block_count - 1
    }
    /// Plaintext (and stored) length of block `index`, without its tag.
    pub fn block_len(&self, index: u64) -> usize {
        let len = if index + 1 < self.block_count {
            self.block_size
        } else {
            self.plaintext_len - self.last_index() * self.block_size
        };
        // At most MAX_BLOCK_SIZE, so it fits any usize of 32 bits or more.
        len as usize
    }
    /// Length of the final block.
    pub fn final_block_len(&self) -> usize {
        self.block_len(self.last_index())
    }
    /// Offset in the file of the stored bytes of block `index`.
    pub fn block_offset(&self, index: u64) -> u64 {
        HEADER_LEN as u64 + index * (self.block_size + TAG_LEN as u64)
    }
    /// Offset in the file of the trailer.
    pub fn trailer_offset(&self) -> u64 {
        HEADER_LEN as u64 + self.plaintext_len + self.block_count * TAG_LEN as u64
    }
    /// Total length of the file.
    pub fn file_len(&self) -> u64 {
        self.trailer_offset() + TRAILER_LEN as u64
    }
    /// Plaintext offset of the first byte of block `index`.
    pub fn plaintext_offset(&self, index: u64) -> u64 {
        index * self.block_size
    }
}

/// A parsed header (spec 3.1): what a file says about itself before any
/// key is given. Every field was validated by the parser (7.1 steps 1-4);
/// the MAC is checked when the file is unlocked ([`crate::Sealed::unlock`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Header {
    pub(crate) layout: Layout,
    pub(crate) payload_kind: PayloadKind,
    pub(crate) salt: [u8; SALT_LEN],
    pub(crate) key_id: KeyId,
    pub(crate) mac: [u8; TAG_LEN],
}

impl Header {
    /// The format version (1: the only one this crate reads and writes).
    pub fn version(&self) -> u16 {
        VERSION
    }

    /// The block size in bytes.
    pub fn block_size(&self) -> u32 {
        self.layout.block_size() as u32
    }

    /// The plaintext length in bytes.
    pub fn plaintext_len(&self) -> u64 {
        self.layout.plaintext_len()
    }

    /// What the plaintext is, as the encoder recorded it.
    pub fn payload_kind(&self) -> PayloadKind {
        self.payload_kind
    }

    /// The id of the master key the file was encoded with.
    pub fn key_id(&self) -> KeyId {
        self.key_id
    }

    /// The per-file random salt (public: it only makes the subkeys unique).
    pub fn salt(&self) -> &[u8; SALT_LEN] {
        &self.salt
    }

    /// Sizes and offsets of the file.
    pub fn layout(&self) -> Layout {
        self.layout
    }

    /// Serializes the 96 bytes covered by the MAC, followed by the MAC.
    pub(crate) fn to_bytes(&self) -> [u8; HEADER_LEN] {
        let mut b = [0u8; HEADER_LEN];
        b[0..8].copy_from_slice(&MAGIC);
        b[8..10].copy_from_slice(&VERSION.to_le_bytes());
        b[10..12].copy_from_slice(&(HEADER_LEN as u16).to_le_bytes());
        // 12..16 flags: none in version 1
        b[16..20].copy_from_slice(&self.block_size().to_le_bytes());
        b[20] = self.payload_kind.code();
        // 21..24 reserved, zero
        b[24..32].copy_from_slice(&self.plaintext_len().to_le_bytes());
        b[32..64].copy_from_slice(&self.salt);
        b[64..80].copy_from_slice(&self.key_id.0);
        // 80..96 reserved, zero
        b[96..128].copy_from_slice(&self.mac);
        b
    }

    /// Checks the magic and version from the first bytes of a file
    /// (spec 7.1 steps 1 and 2). `prefix` may be shorter than a header.
    pub(crate) fn check_prefix(prefix: &[u8]) -> Result<()> {
        if prefix.is_empty() {
            return Err(Error::NotAva3("the input is empty"));
        }
        let n = prefix.len().min(MAGIC.len());
        if prefix[..n] != MAGIC[..n] {
            return Err(Error::NotAva3("the AVA3 magic bytes are missing"));
        }
        if prefix.len() < 10 {
            return Err(Error::truncated(format!(
                "the input ends inside the header, after {} bytes",
                prefix.len()
            )));
        }
        let version = u16::from_le_bytes([prefix[8], prefix[9]]);
        if version != VERSION {
            return Err(Error::UnsupportedVersion(version));
        }
        if prefix.len() < HEADER_LEN {
            return Err(Error::truncated(format!(
                "the input ends inside the header, after {} bytes",
                prefix.len()
            )));
        }
        Ok(())
    }

    /// Parses and validates a header, without its MAC (spec 7.1 steps 1-4).
    /// `bytes` holds what the input has, up to [`HEADER_LEN`] bytes.
    pub(crate) fn parse(bytes: &[u8]) -> Result<Self> {
        Self::check_prefix(bytes)?;
        let b = &bytes[..HEADER_LEN];
        let u16_at = |o: usize| u16::from_le_bytes([b[o], b[o + 1]]);
        let u32_at = |o: usize| u32::from_le_bytes([b[o], b[o + 1], b[o + 2], b[o + 3]]);
        let header_len = u16_at(10);
        if usize::from(header_len) != HEADER_LEN {
            return Err(Error::CorruptHeader(HeaderProblem::HeaderLength(
                header_len,
            )));
        }
        let flags = u32_at(12);
        if flags != 0 {
            return Err(Error::UnsupportedFlags(flags));
        }
        if b[21..24].iter().chain(&b[80..96]).any(|&x| x != 0) {
            return Err(Error::CorruptHeader(HeaderProblem::ReservedNonZero));
        }
        let block_size = u32_at(16);
        if !block_size_is_valid(block_size) {
            return Err(Error::CorruptHeader(HeaderProblem::BlockSize(block_size)));
        }
        let payload_kind = PayloadKind::from_code(b[20])
            .ok_or(Error::CorruptHeader(HeaderProblem::PayloadKind(b[20])))?;
        let mut len8 = [0u8; 8];
        len8.copy_from_slice(&b[24..32]);
        let plaintext_len = u64::from_le_bytes(len8);
        let layout = Layout::new(block_size, plaintext_len)?;
        let mut salt = [0u8; SALT_LEN];
        salt.copy_from_slice(&b[32..64]);
        let mut key_id = [0u8; KEY_ID_LEN];
        key_id.copy_from_slice(&b[64..80]);
        let mut mac = [0u8; TAG_LEN];
        mac.copy_from_slice(&b[96..128]);
        Ok(Self {
            layout,
            payload_kind,
            salt,
            key_id: KeyId(key_id),
            mac,
        })
    }
}

/// A parsed trailer (spec 3.3).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Trailer {
    /// Number of blocks.
    pub(crate) block_count: u64,
    /// Plaintext length.
    pub(crate) plaintext_len: u64,
    /// The plaintext SHA-256, encrypted under the file's encryption key.
    pub(crate) encrypted_plaintext_sha256: [u8; 32],
    /// HMAC-SHA256 over the header MAC and the first 56 trailer bytes.
    pub(crate) mac: [u8; TAG_LEN],
    /// SHA-256 of the stored bytes (the keyless digest).
    pub(crate) keyless_sha256: [u8; 32],
}

impl Trailer {
    /// Serializes the trailer.
    pub(crate) fn to_bytes(&self) -> [u8; TRAILER_LEN] {
        let mut b = [0u8; TRAILER_LEN];
        b[0..8].copy_from_slice(&TRAILER_MAGIC);
        b[8..16].copy_from_slice(&self.block_count.to_le_bytes());
        b[16..24].copy_from_slice(&self.plaintext_len.to_le_bytes());
        b[24..56].copy_from_slice(&self.encrypted_plaintext_sha256);
        b[56..88].copy_from_slice(&self.mac);
        b[88..120].copy_from_slice(&self.keyless_sha256);
        b
    }

    /// Parses a trailer and checks its magic and fields against `layout`
    /// (spec 7.3 step 1). The MAC and the keyless digest are checked elsewhere.
    pub(crate) fn parse(b: &[u8; TRAILER_LEN], layout: &Layout) -> Result<Self> {
        if b[0..8] != TRAILER_MAGIC {
            return Err(Error::CorruptTrailer(TrailerProblem::Magic));
        }
        let u64_at = |o: usize| {
            let mut x = [0u8; 8];
            x.copy_from_slice(&b[o..o + 8]);
            u64::from_le_bytes(x)
        };
        let block_count = u64_at(8);
        let plaintext_len = u64_at(16);
        if block_count != layout.block_count() || plaintext_len != layout.plaintext_len() {
            return Err(Error::CorruptTrailer(TrailerProblem::Fields));
        }
        let mut t = Self {
            block_count,
            plaintext_len,
            encrypted_plaintext_sha256: [0; 32],
            mac: [0; 32],
            keyless_sha256: [0; 32],
        };
        t.encrypted_plaintext_sha256.copy_from_slice(&b[24..56]);
        t.mac.copy_from_slice(&b[56..88]);
        t.keyless_sha256.copy_from_slice(&b[88..120]);
        Ok(t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Outcome;

    fn sample() -> Header {
        Header {
            layout: Layout::new(DEFAULT_BLOCK_SIZE, 1_000_000).unwrap(),
            payload_kind: PayloadKind::Gguf,
            salt: [3; 32],
            key_id: KeyId([9; 16]),
            mac: [7; 32],
        }
    }

    #[test]
    fn header_round_trip() {
        let h = sample();
        assert_eq!(Header::parse(&h.to_bytes()).unwrap(), h);
    }

    #[test]
    fn header_rejections_are_typed() {
        let good = sample().to_bytes();
        let with = |f: &dyn Fn(&mut [u8; HEADER_LEN])| {
            let mut b = good;
            f(&mut b);
            Header::parse(&b).unwrap_err()
        };
        assert_eq!(with(&|b| b[0] = 0).outcome(), Outcome::NotAva3);
        assert!(matches!(with(&|b| b[8] = 2), Error::UnsupportedVersion(2)));
        assert!(matches!(
            with(&|b| b[10] = 0),
            Error::CorruptHeader(HeaderProblem::HeaderLength(0))
        ));
        assert!(matches!(
            with(&|b| b[15] = 0x80),
            Error::UnsupportedFlags(0x8000_0000)
        ));
        assert!(matches!(
            with(&|b| b[22] = 1),
            Error::CorruptHeader(HeaderProblem::ReservedNonZero)
        ));
        assert!(matches!(
            with(&|b| b[95] = 1),
            Error::CorruptHeader(HeaderProblem::ReservedNonZero)
        ));
        assert!(matches!(
            with(&|b| b[16..20].fill(0)),
            Error::CorruptHeader(HeaderProblem::BlockSize(0))
        ));
        assert!(matches!(
            with(&|b| b[16..20].fill(0xff)),
            Error::CorruptHeader(HeaderProblem::BlockSize(_))
        ));
        assert!(matches!(
            with(&|b| b[20] = 4),
            Error::CorruptHeader(HeaderProblem::PayloadKind(4))
        ));
        assert!(matches!(
            with(&|b| b[24..32].fill(0xff)),
            Error::CorruptHeader(HeaderProblem::PlaintextLength(_))
        ));
        assert_eq!(
            Header::parse(&good[..50]).unwrap_err().outcome(),
            Outcome::Truncated
        );
        assert_eq!(
            Header::parse(&good[..3]).unwrap_err().outcome(),
            Outcome::Truncated
        );
        assert_eq!(Header::parse(&[]).unwrap_err().outcome(), Outcome::NotAva3);
    }

    #[test]
    fn layout_edges() {
        let l = Layout::new(4096, 0).unwrap();
        assert_eq!((l.block_count(), l.final_block_len()), (1, 0));
        assert_eq!(l.file_len(), 128 + 32 + 120);
        let l = Layout::new(4096, 4096 * 3).unwrap();
        assert_eq!((l.block_count(), l.final_block_len()), (3, 4096));
        let l = Layout::new(4096, 4096 * 3 + 1).unwrap();
        assert_eq!((l.block_count(), l.final_block_len()), (4, 1));
        assert_eq!(l.block_offset(3), 128 + 3 * (4096 + 32));
        // Files beyond 1 TiB, and beyond 2^32 blocks, are representable.
        let big = (1u64 << 32) * 4096 + 17;
        let l = Layout::new(4096, big).unwrap();
        assert_eq!(l.block_count(), (1 << 32) + 1);
        assert_eq!(l.final_block_len(), 17);
        assert_eq!(l.trailer_offset(), 128 + big + l.block_count() * 32);
        // The largest plaintext that fits, and one byte more.
        let bs = 1u64 << 24;
        let mut lo = 0u64;
        let mut hi = MAX_FILE_LEN;
        while lo < hi {
            let mid = lo + (hi - lo).div_ceil(2);
            if Layout::new(1 << 24, mid).is_ok() {
                lo = mid
            } else {
                hi = mid - 1
            }
        }
        assert!(Layout::new(1 << 24, lo).unwrap().file_len() <= MAX_FILE_LEN);
        assert!(Layout::new(1 << 24, lo + 1).is_err());
        assert!(lo > MAX_FILE_LEN - MAX_FILE_LEN / bs * 40);
        assert!(Layout::new(4096, u64::MAX).is_err());
    }
}
