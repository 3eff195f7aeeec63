//! The header (128 bytes, and in version 2 the extension records after
//! them), the 120-byte trailer and the file layout arithmetic (spec
//! sections 3, 5 and 7).

use crate::error::{Error, HeaderProblem, Result, TrailerProblem};
use crate::keys::{KeyId, KEY_ID_LEN, SALT_LEN};
use crate::kind::PayloadKind;
use crate::signature::{section_len, MAX_SIGNATURES};

/// The 8 magic bytes every AVA3 file starts with.
pub(crate) const MAGIC: [u8; 8] = [0x89, b'A', b'V', b'A', b'3', 0x0D, 0x0A, 0x1A];
/// Version 1: no extension records, no signatures.
pub(crate) const VERSION_1: u16 = 1;
/// Version 2: extension records (model name and version) and signatures.
pub(crate) const VERSION_2: u16 = 2;
/// Length of the fixed part of a header (all of a version 1 header).
pub(crate) const HEADER_LEN: usize = 128;
/// Largest header a version 2 file may have: the fixed part, a name
/// record of 255 bytes and a version record (128 + (3 + 255) + (3 + 8),
/// spec 3.1).
pub(crate) const MAX_HEADER_LEN: usize = HEADER_LEN + (3 + MAX_NAME_LEN) + (3 + 8);
/// Extension record: model name (UTF-8, 1 to 255 bytes).
pub(crate) const RECORD_NAME: u8 = 1;
/// Extension record: model version (`le64`).
pub(crate) const RECORD_VERSION: u8 = 2;
/// Longest model name, in bytes.
pub const MAX_NAME_LEN: usize = 255;
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
    header_len: u64,
    signatures_len: u64,
}

impl Layout {
    /// Computes the layout of a version 1 file, or fails when the block
    /// size is invalid or the file would exceed 2^63 - 1 bytes (spec 3.2).
    pub fn new(block_size: u32, plaintext_len: u64) -> Result<Self> {
        Self::with_sections(block_size, plaintext_len, HEADER_LEN, 0)
    }

    /// The layout of a file whose header is `header_len` bytes and which
    /// carries `signatures` signatures (version 2, spec 3.2).
    pub(crate) fn with_sections(
        block_size: u32,
        plaintext_len: u64,
        header_len: usize,
        signatures: u8,
    ) -> Result<Self> {
        if !block_size_is_valid(block_size) {
            return Err(Error::CorruptHeader(HeaderProblem::BlockSize(block_size)));
        }
        let bs = u64::from(block_size);
        let block_count = plaintext_len.div_ceil(bs).max(1);
        let layout = Self {
            block_size: bs,
            plaintext_len,
            block_count,
            header_len: header_len as u64,
            signatures_len: section_len(signatures),
        };
        let total = (header_len as u64)
            .checked_add(plaintext_len)
            .and_then(|t| t.checked_add(block_count.checked_mul(TAG_LEN as u64)?))
            .and_then(|t| t.checked_add(TRAILER_LEN as u64 + layout.signatures_len));
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
    /// Length of the header, extension records included.
    pub fn header_len(&self) -> u64 {
        self.header_len
    }
    /// Offset in the file of the stored bytes of block `index`.
    pub fn block_offset(&self, index: u64) -> u64 {
        self.header_len + index * (self.block_size + TAG_LEN as u64)
    }
    /// Offset in the file of the tag of block `index`.
    pub fn tag_offset(&self, index: u64) -> u64 {
        self.block_offset(index) + self.block_len(index) as u64
    }
    /// Offset in the file of the trailer.
    pub fn trailer_offset(&self) -> u64 {
        self.header_len + self.plaintext_len + self.block_count * TAG_LEN as u64
    }
    /// Offset in the file of the signature section (the end of the file
    /// when there is none).
    pub fn signatures_offset(&self) -> u64 {
        self.trailer_offset() + TRAILER_LEN as u64
    }
    /// Length of the signature section (0 without signatures).
    pub fn signatures_len(&self) -> u64 {
        self.signatures_len
    }
    /// Total length of the file.
    pub fn file_len(&self) -> u64 {
        self.signatures_offset() + self.signatures_len
    }
    /// Plaintext offset of the first byte of block `index`.
    pub fn plaintext_offset(&self, index: u64) -> u64 {
        index * self.block_size
    }
}

/// The model a file says it holds (spec 3.6): an authenticated name and
/// version, recorded in the extension records of a version 2 header.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Metadata {
    /// The model name (UTF-8, 1 to 255 bytes).
    pub name: Option<String>,
    /// The model version (a number that grows with each release).
    pub version: Option<u64>,
}

impl Metadata {
    /// True when neither a name nor a version is recorded.
    pub fn is_empty(&self) -> bool {
        self.name.is_none() && self.version.is_none()
    }

    /// Checks a name an encoder is asked to record.
    pub(crate) fn check(&self) -> Result<()> {
        if let Some(n) = &self.name {
            if n.is_empty() || n.len() > MAX_NAME_LEN {
                return Err(Error::InvalidParameter(
                    "a model name is 1 to 255 bytes of UTF-8",
                ));
            }
        }
        Ok(())
    }

    /// The extension records (spec 3.6), in ascending type order.
    fn to_records(&self) -> Vec<u8> {
        let mut b = Vec::new();
        if let Some(n) = &self.name {
            b.push(RECORD_NAME);
            b.extend_from_slice(&(n.len() as u16).to_le_bytes());
            b.extend_from_slice(n.as_bytes());
        }
        if let Some(v) = self.version {
            b.push(RECORD_VERSION);
            b.extend_from_slice(&8u16.to_le_bytes());
            b.extend_from_slice(&v.to_le_bytes());
        }
        b
    }

    /// Parses the extension records (spec 7.1 step 4).
    fn parse_records(mut b: &[u8]) -> Result<Self> {
        let bad = |what| Error::CorruptHeader(HeaderProblem::Extension(what));
        let mut meta = Self::default();
        let mut last = 0u8;
        while !b.is_empty() {
            if b.len() < 3 {
                return Err(bad("a record is cut short"));
            }
            let (kind, len) = (b[0], usize::from(u16::from_le_bytes([b[1], b[2]])));
            let value = b.get(3..3 + len).ok_or(bad("a record is cut short"))?;
            if kind <= last {
                return Err(bad("records out of order or repeated"));
            }
            last = kind;
            match kind {
                RECORD_NAME => {
                    if len == 0 || len > MAX_NAME_LEN {
                        return Err(bad("a model name is 1 to 255 bytes"));
                    }
                    let name = std::str::from_utf8(value)
                        .map_err(|_| bad("the model name is not UTF-8"))?;
                    meta.name = Some(name.to_owned());
                }
                RECORD_VERSION => {
                    let v: [u8; 8] = value
                        .try_into()
                        .map_err(|_| bad("a model version is 8 bytes"))?;
                    meta.version = Some(u64::from_le_bytes(v));
                }
                _ => return Err(bad("unknown record type")),
            }
            b = &b[3 + len..];
        }
        Ok(meta)
    }
}

/// A parsed header (spec 3.1): what a file says about itself before any
/// key is given. Every field was validated by the parser (7.1 steps 1-4);
/// the MAC is checked when the file is unlocked ([`crate::Sealed::unlock`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Header {
    pub(crate) version: u16,
    pub(crate) layout: Layout,
    pub(crate) payload_kind: PayloadKind,
    pub(crate) salt: [u8; SALT_LEN],
    pub(crate) key_id: KeyId,
    pub(crate) mac: [u8; TAG_LEN],
    pub(crate) metadata: Metadata,
    pub(crate) signature_count: u8,
}

impl Header {
    /// The format version: 1, or 2 for a file with a name, a version or
    /// signatures.
    pub fn version(&self) -> u16 {
        self.version
    }

    /// The model name and version the file records (authenticated once
    /// the file is unlocked, or once its signature is verified).
    pub fn metadata(&self) -> &Metadata {
        &self.metadata
    }

    /// The number of publisher signatures after the trailer.
    pub fn signature_count(&self) -> u8 {
        self.signature_count
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

    /// A header for an encoder: version 1 when `metadata` is empty and
    /// `signatures` is 0, else version 2 with the extension records.
    pub(crate) fn for_encoder(
        block_size: u32,
        plaintext_len: u64,
        payload_kind: PayloadKind,
        salt: [u8; SALT_LEN],
        key_id: KeyId,
        metadata: Metadata,
        signatures: u8,
    ) -> Result<Self> {
        metadata.check()?;
        if signatures > MAX_SIGNATURES {
            return Err(Error::InvalidParameter("at most 16 signatures"));
        }
        let v2 = !metadata.is_empty() || signatures > 0;
        let header_len = HEADER_LEN + metadata.to_records().len();
        let layout = Layout::with_sections(block_size, plaintext_len, header_len, signatures)?;
        Ok(Self {
            version: if v2 { VERSION_2 } else { VERSION_1 },
            layout,
            payload_kind,
            salt,
            key_id,
            mac: [0; 32],
            metadata,
            signature_count: signatures,
        })
    }

    /// Serializes the header: the fixed 128 bytes (the MAC at 96..128),
    /// then the extension records of a version 2 header.
    pub(crate) fn to_bytes(&self) -> Vec<u8> {
        let mut b = vec![0u8; HEADER_LEN];
        b[0..8].copy_from_slice(&MAGIC);
        b[8..10].copy_from_slice(&self.version.to_le_bytes());
        b[10..12].copy_from_slice(&(self.layout.header_len() as u16).to_le_bytes());
        // 12..16 flags: none in versions 1 and 2
        b[16..20].copy_from_slice(&self.block_size().to_le_bytes());
        b[20] = self.payload_kind.code();
        // 21: signature count (version 2); 22..24 reserved, zero
        b[21] = self.signature_count;
        b[24..32].copy_from_slice(&self.plaintext_len().to_le_bytes());
        b[32..64].copy_from_slice(&self.salt);
        b[64..80].copy_from_slice(&self.key_id.0);
        // 80..96 reserved, zero
        b[96..128].copy_from_slice(&self.mac);
        if self.version == VERSION_2 {
            b.extend_from_slice(&self.metadata.to_records());
        }
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
        if version != VERSION_1 && version != VERSION_2 {
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

    /// The total header length announced by the fixed part `prefix` (at
    /// least 128 bytes, magic and version checked): 128 for version 1, the
    /// header-length field for version 2 (spec 7.1 step 4, first check).
    pub(crate) fn announced_len(prefix: &[u8]) -> Result<usize> {
        let version = u16::from_le_bytes([prefix[8], prefix[9]]);
        let header_len = u16::from_le_bytes([prefix[10], prefix[11]]);
        let len = usize::from(header_len);
        let ok = if version == VERSION_1 {
            len == HEADER_LEN
        } else {
            (HEADER_LEN..=MAX_HEADER_LEN).contains(&len)
        };
        if ok {
            Ok(len)
        } else {
            Err(Error::CorruptHeader(HeaderProblem::HeaderLength(
                header_len,
            )))
        }
    }

    /// Parses and validates a header, without its MAC (spec 7.1 steps 1-4).
    /// `bytes` holds what the input has, up to the header's length.
    pub(crate) fn parse(bytes: &[u8]) -> Result<Self> {
        Self::check_prefix(bytes)?;
        let header_len = Self::announced_len(bytes)?;
        if bytes.len() < header_len {
            return Err(Error::truncated(format!(
                "the input ends inside the header, after {} of {header_len} bytes",
                bytes.len()
            )));
        }
        let b = &bytes[..HEADER_LEN];
        let version = u16::from_le_bytes([b[8], b[9]]);
        let u32_at = |o: usize| u32::from_le_bytes([b[o], b[o + 1], b[o + 2], b[o + 3]]);
        let flags = u32_at(12);
        if flags != 0 {
            return Err(Error::UnsupportedFlags(flags));
        }
        let reserved_from = if version == VERSION_2 { 22 } else { 21 };
        if b[reserved_from..24]
            .iter()
            .chain(&b[80..96])
            .any(|&x| x != 0)
        {
            return Err(Error::CorruptHeader(HeaderProblem::ReservedNonZero));
        }
        let signature_count = if version == VERSION_2 { b[21] } else { 0 };
        let block_size = u32_at(16);
        if !block_size_is_valid(block_size) {
            return Err(Error::CorruptHeader(HeaderProblem::BlockSize(block_size)));
        }
        let payload_kind = PayloadKind::from_code(b[20])
            .ok_or(Error::CorruptHeader(HeaderProblem::PayloadKind(b[20])))?;
        let mut len8 = [0u8; 8];
        len8.copy_from_slice(&b[24..32]);
        let plaintext_len = u64::from_le_bytes(len8);
        if signature_count > MAX_SIGNATURES {
            return Err(Error::CorruptHeader(HeaderProblem::SignatureCount(
                signature_count,
            )));
        }
        let layout = Layout::with_sections(block_size, plaintext_len, header_len, signature_count)?;
        let metadata = Metadata::parse_records(&bytes[HEADER_LEN..header_len])?;
        if version == VERSION_2 && metadata.is_empty() && signature_count == 0 {
            // No encoder writes it, and a master-key holder could relabel a
            // version 1 file into it (spec 3.6).
            return Err(Error::CorruptHeader(HeaderProblem::Extension(
                "a version 2 header carries a record or a signature",
            )));
        }
        let mut salt = [0u8; SALT_LEN];
        salt.copy_from_slice(&b[32..64]);
        let mut key_id = [0u8; KEY_ID_LEN];
        key_id.copy_from_slice(&b[64..80]);
        let mut mac = [0u8; TAG_LEN];
        mac.copy_from_slice(&b[96..128]);
        Ok(Self {
            version,
            layout,
            payload_kind,
            salt,
            key_id: KeyId(key_id),
            mac,
            metadata,
            signature_count,
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
            version: VERSION_1,
            layout: Layout::new(DEFAULT_BLOCK_SIZE, 1_000_000).unwrap(),
            payload_kind: PayloadKind::Gguf,
            salt: [3; 32],
            key_id: KeyId([9; 16]),
            mac: [7; 32],
            metadata: Metadata::default(),
            signature_count: 0,
        }
    }

    #[test]
    fn header_round_trip() {
        let h = sample();
        assert_eq!(Header::parse(&h.to_bytes()).unwrap(), h);
    }

    fn sample_v2() -> Header {
        let meta = Metadata {
            name: Some("assistant-3b".into()),
            version: Some(7),
        };
        Header::for_encoder(
            4096,
            5000,
            PayloadKind::Gguf,
            [3; 32],
            KeyId([9; 16]),
            meta,
            2,
        )
        .unwrap()
    }

    #[test]
    fn v2_header_round_trip_and_layout() {
        let h = sample_v2();
        let b = h.to_bytes();
        assert_eq!(b.len(), 128 + 3 + 12 + 3 + 8);
        assert_eq!((b[8], b[10], b[21]), (2, b.len() as u8, 2));
        assert_eq!(Header::parse(&b).unwrap(), h);
        let l = h.layout();
        assert_eq!(l.block_offset(0), b.len() as u64);
        assert_eq!(l.signatures_len(), 8 + 2 * 80);
        assert_eq!(l.file_len(), b.len() as u64 + 5000 + 2 * 32 + 120 + 168);
        // Without name, version and signatures an encoder writes version 1.
        let v1 = Header::for_encoder(
            4096,
            1,
            PayloadKind::Unknown,
            [3; 32],
            KeyId([9; 16]),
            Metadata::default(),
            0,
        )
        .unwrap();
        assert_eq!((v1.version(), v1.to_bytes().len()), (1, 128));
    }

    #[test]
    fn v2_header_rejections_are_typed() {
        let good = sample_v2().to_bytes();
        let with = |f: &dyn Fn(&mut Vec<u8>)| {
            let mut b = good.clone();
            f(&mut b);
            Header::parse(&b).unwrap_err()
        };
        let ext = |e: Error| matches!(e, Error::CorruptHeader(HeaderProblem::Extension(_)));
        assert_eq!(
            Header::parse(&good[..good.len() - 1])
                .unwrap_err()
                .outcome(),
            Outcome::Truncated
        );
        assert!(matches!(
            with(&|b| b[10..12].copy_from_slice(&127u16.to_le_bytes())),
            Error::CorruptHeader(HeaderProblem::HeaderLength(127))
        ));
        assert!(matches!(
            with(&|b| b[10..12].copy_from_slice(&398u16.to_le_bytes())),
            Error::CorruptHeader(HeaderProblem::HeaderLength(398))
        ));
        assert!(matches!(
            with(&|b| b[21] = 17),
            Error::CorruptHeader(HeaderProblem::SignatureCount(17))
        ));
        assert!(matches!(
            with(&|b| b[22] = 1),
            Error::CorruptHeader(HeaderProblem::ReservedNonZero)
        ));
        assert!(ext(with(&|b| b[128] = 3)));
        assert!(ext(with(&|b| b[143] = 1)));
        assert!(ext(with(&|b| b[131] = 0xff)));
        assert!(ext(with(&|b| b[129] = 0)));
        // A header length that cuts the last record.
        assert!(ext(with(&|b| {
            b.pop();
            let l = b.len() as u16;
            b[10..12].copy_from_slice(&l.to_le_bytes());
        })));
        // A record header cut short: 2 bytes left after the last record.
        assert!(ext(with(&|b| {
            b.extend_from_slice(&[2, 8]);
            let l = b.len() as u16;
            b[10..12].copy_from_slice(&l.to_le_bytes());
        })));
        // Version 1 keeps byte 21 reserved and the length at 128.
        let mut v1 = sample().to_bytes();
        v1[21] = 1;
        assert!(matches!(
            Header::parse(&v1),
            Err(Error::CorruptHeader(HeaderProblem::ReservedNonZero))
        ));
    }

    #[test]
    fn v2_header_bounds() {
        // The largest version 2 header: a 255-byte name and a version.
        let meta = Metadata {
            name: Some("n".repeat(MAX_NAME_LEN)),
            version: Some(u64::MAX),
        };
        let h = Header::for_encoder(4096, 1, PayloadKind::Mlc, [3; 32], KeyId([9; 16]), meta, 0)
            .unwrap();
        let b = h.to_bytes();
        assert_eq!((b.len(), MAX_HEADER_LEN), (397, 397));
        assert_eq!(Header::parse(&b).unwrap(), h);
        // Signatures alone, no record: H = 128, c >= 1.
        let signed_only = Header::for_encoder(
            4096,
            1,
            PayloadKind::Mlc,
            [3; 32],
            KeyId([9; 16]),
            Metadata::default(),
            1,
        )
        .unwrap();
        let mut b = signed_only.to_bytes();
        assert_eq!((b.len(), b[8], b[21]), (128, 2, 1));
        assert_eq!(Header::parse(&b).unwrap(), signed_only);
        // Version 2 without a record and without a signature: what a
        // version 1 file relabelled version 2 looks like. Refused before
        // the MAC.
        b[21] = 0;
        assert!(matches!(
            Header::parse(&b),
            Err(Error::CorruptHeader(HeaderProblem::Extension(_)))
        ));
        let mut v1 = sample().to_bytes();
        v1[8] = 2;
        assert_eq!(
            Header::parse(&v1).unwrap_err().outcome(),
            Outcome::HeaderFailure
        );
    }

    #[test]
    fn header_rejections_are_typed() {
        let good = sample().to_bytes();
        let with = |f: &dyn Fn(&mut Vec<u8>)| {
            let mut b = good.clone();
            f(&mut b);
            Header::parse(&b).unwrap_err()
        };
        assert_eq!(with(&|b| b[0] = 0).outcome(), Outcome::NotAva3);
        assert!(matches!(with(&|b| b[8] = 3), Error::UnsupportedVersion(3)));
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
