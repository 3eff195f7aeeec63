//! The test-vector generator: builds every case of `testdata/vectors/`,
//! one file per case, in the style of the C2SP CCTV age test kit. Never
//! edit the vectors by hand: change this module and run
//!
//! ```text
//! cargo run -p ava3-testkit --bin gen-vectors -- testdata/vectors
//! ```
//!
//! Each file is a few `name: value` text lines, a blank line, then the raw
//! AVA3 bytes (spec appendix A). The expected outcome of every case is
//! written here by hand from the spec, not taken from the implementation;
//! `ava3-format/tests/vectors.rs` checks the implementation against it and
//! that the committed files are exactly what [`all_vectors`] builds.

use std::io::Write;
use std::path::Path;
use std::sync::Arc;

use ava3_format::{
    EncodeOptions, Encoder, Layout, MasterKey, Metadata, PayloadKind, SigningKey, MAX_BLOCK_SIZE,
};
use sha2::{Digest, Sha256};

use crate::plaintext;

// Layout constants, from the spec (sections 3.1-3.3).
const HEADER_LEN: usize = 128;
const TAG_LEN: usize = 32;
const TRAILER_LEN: usize = 120;
/// The largest file length a header may describe: 2^63 - 1 (spec 3.2).
const MAX_FILE_LEN: u64 = (1 << 63) - 1;

/// The key every vector is encoded with: bytes 0x00, 0x01, ..., 0x1f.
pub fn vector_key() -> [u8; 32] {
    std::array::from_fn(|i| i as u8)
}

/// Another key, for the wrong-key case: bytes 0x20 ... 0x3f.
pub fn other_key() -> [u8; 32] {
    std::array::from_fn(|i| 0x20 + i as u8)
}

/// The RFC 8032 seed of signing key A: 0x40, 0x41, ..., 0x5f.
pub fn seed_a() -> [u8; 32] {
    std::array::from_fn(|i| 0x40 + i as u8)
}

/// The publisher signing key A of the vectors: the RFC 8032 seed
/// 0x40, 0x41, ..., 0x5f.
pub fn signer_a() -> SigningKey {
    SigningKey::from_seed(&seed_a())
}

/// Signing key B: the seed 0x60 ... 0x7f.
pub fn signer_b() -> SigningKey {
    SigningKey::from_seed(&std::array::from_fn(|i| 0x60 + i as u8))
}

/// What the reader of a vector requires (spec 7.5; appendix A).
#[derive(Debug, Default, Clone)]
pub struct Require {
    /// The trusted public keys, one `require-signer:` line each: a
    /// signature by one of them is required (spec 7.5, any of them).
    pub signers: Vec<[u8; 32]>,
    /// The model name required.
    pub name: Option<String>,
    /// The minimum model version.
    pub min_version: Option<u64>,
}

/// One test vector.
#[derive(Debug)]
pub struct Vector {
    pub name: String,
    pub expect: &'static str,
    pub key: [u8; 32],
    pub require: Require,
    /// SHA-256 of all plaintext a block-by-block streaming decoder releases
    /// before reaching the outcome.
    pub payload: [u8; 32],
    /// For `block failure`: the index of the failing block.
    pub block: Option<u64>,
    /// For success vectors: the seed of the plaintext (spec appendix A).
    pub seed: Option<String>,
    pub comment: String,
    pub file: Vec<u8>,
}

impl Vector {
    /// The vector file's bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        let _ = writeln!(out, "expect: {}", self.expect);
        let _ = writeln!(out, "key: {}", hex::encode(self.key));
        for k in &self.require.signers {
            let _ = writeln!(out, "require-signer: {}", hex::encode(k));
        }
        if let Some(n) = &self.require.name {
            let _ = writeln!(out, "require-name: {n}");
        }
        if let Some(m) = self.require.min_version {
            let _ = writeln!(out, "require-min-version: {m}");
        }
        let _ = writeln!(out, "payload: {}", hex::encode(self.payload));
        if let Some(b) = self.block {
            let _ = writeln!(out, "block: {b}");
        }
        if let Some(seed) = &self.seed {
            let _ = writeln!(out, "seed: {seed}");
        }
        let _ = writeln!(out, "comment: {}", self.comment);
        out.push(b'\n');
        out.extend_from_slice(&self.file);
        out
    }
}

fn sha(data: &[u8]) -> [u8; 32] {
    Sha256::digest(data).into()
}

/// An encoding made with a fixed salt.
struct Enc {
    pt: Vec<u8>,
    file: Vec<u8>,
    layout: Layout,
}

impl Enc {
    fn new(len: usize, seed: &str, bs: u32, kind: PayloadKind, salt_byte: u8) -> Self {
        Self::with_salt(len, seed, bs, kind, [salt_byte; 32])
    }

    fn with_salt(len: usize, seed: &str, bs: u32, kind: PayloadKind, salt: [u8; 32]) -> Self {
        Self::v2(len, seed, bs, kind, salt, Metadata::default(), Vec::new())
    }

    /// An encoding with a model name and version and signatures (version
    /// 2 when any is given).
    fn v2(
        len: usize,
        seed: &str,
        bs: u32,
        kind: PayloadKind,
        salt: [u8; 32],
        metadata: Metadata,
        signers: Vec<SigningKey>,
    ) -> Self {
        let pt = plaintext::of_kind(len, seed, kind);
        let key = MasterKey::from_bytes(vector_key());
        let opts = EncodeOptions {
            block_size: bs,
            payload_kind: kind,
            threads: 1,
            metadata,
            signers: signers.into_iter().map(Arc::new).collect(),
        };
        let mut enc =
            Encoder::new_with_salt_for_test_vectors(Vec::new(), &key, len as u64, &opts, salt)
                .expect("valid options");
        enc.write_all(&pt).expect("in-memory write");
        let (file, summary) = enc.finish().expect("finish");
        let layout = summary.header.layout();
        Self { pt, file, layout }
    }

    /// Byte range of block `i` (stored bytes and tag).
    fn block(&self, i: u64) -> std::ops::Range<usize> {
        let start = self.layout.block_offset(i) as usize;
        start..start + self.layout.block_len(i) + TAG_LEN
    }

    fn trailer(&self) -> usize {
        self.layout.trailer_offset() as usize
    }

    /// Digest of the plaintext of blocks `0..n`.
    fn released(&self, n: u64) -> [u8; 32] {
        let end = (n * self.layout.block_size()).min(self.pt.len() as u64) as usize;
        sha(&self.pt[..end])
    }

    fn all(&self) -> [u8; 32] {
        sha(&self.pt)
    }
}

/// The largest plaintext length for block size `bs` whose file length
/// `128 + P + 32 * ceil(P / bs) + 120` is at most 2^63 - 1 (spec 3.2).
fn largest_plaintext(bs: u64) -> u64 {
    let room = MAX_FILE_LEN - (HEADER_LEN + TRAILER_LEN) as u64;
    let blocks = room.div_ceil(bs + TAG_LEN as u64);
    let p = room - TAG_LEN as u64 * blocks;
    let at = Layout::new(bs as u32, p).expect("the largest length is valid");
    assert_eq!(at.file_len(), MAX_FILE_LEN, "exactly 2^63 - 1");
    assert!(
        Layout::new(bs as u32, p + 1).is_err(),
        "one more byte is too long"
    );
    p
}

/// The 128 header bytes (genuine MAC) of an encoding of `len` bytes.
fn header_only(len: u64, bs: u32, salt_byte: u8) -> Vec<u8> {
    let key = MasterKey::from_bytes(vector_key());
    let opts = EncodeOptions {
        block_size: bs,
        payload_kind: PayloadKind::Gguf,
        threads: 1,
        ..Default::default()
    };
    let mut out = Vec::new();
    let enc = Encoder::new_with_salt_for_test_vectors(&mut out, &key, len, &opts, [salt_byte; 32])
        .expect("valid options");
    drop(enc);
    out.truncate(HEADER_LEN);
    out
}

/// The spec's `PRG` (6.1) and the number of values `uniform` rejects
/// while deriving the permutation of `len` bytes (6.3) under the
/// `K_shuffle` of `salt`: written here from the spec, apart from the core.
fn shuffle_rejections(salt: &[u8; 32], len: usize) -> usize {
    use ctr::cipher::{KeyIvInit, StreamCipher};
    let mut k_shuffle = [0u8; 32];
    hkdf::Hkdf::<Sha256>::new(Some(salt), &vector_key())
        .expand(b"AVA3-v1 shuffle", &mut k_shuffle)
        .expect("32 bytes");
    let mut iv = [0u8; 16];
    iv[..8].copy_from_slice(&(len as u64).to_be_bytes());
    let mut prg = ctr::Ctr128BE::<aes::Aes256>::new(&k_shuffle.into(), &iv.into());
    let mut rejected = 0;
    let mut uniform = |n: u64| loop {
        let mut b = [0u8; 4];
        prg.apply_keystream(&mut b);
        if u64::from(u32::from_le_bytes(b)) < (1u64 << 32) - ((1u64 << 32) % n) {
            return;
        }
        rejected += 1;
    };
    let (m, t) = (len / 16, len % 16);
    for j in (1..m).rev() {
        uniform(j as u64 + 1);
    }
    for _ in 0..m {
        uniform(16);
    }
    if t >= 2 {
        uniform(t as u64);
    }
    rejected
}

/// The first salt `le64(c) || 24 bytes 0x55` for which some permutation of
/// a file of `len` bytes in blocks of `bs` has a rejected draw; and a
/// description of where.
fn rejecting_salt(len: usize, bs: usize) -> ([u8; 32], String) {
    let mut lengths = vec![bs.min(len)];
    if len > bs && !len.is_multiple_of(bs) {
        lengths.push(len % bs);
    }
    for c in 0u64.. {
        let mut salt = [0x55u8; 32];
        salt[..8].copy_from_slice(&c.to_le_bytes());
        for &l in &lengths {
            let r = shuffle_rejections(&salt, l);
            if r > 0 {
                return (
                    salt,
                    format!("{r} value(s) while deriving the permutation of length {l} (salt counter {c})"),
                );
            }
        }
    }
    unreachable!("some salt rejects")
}

fn v(
    name: &str,
    expect: &'static str,
    payload: [u8; 32],
    block: Option<u64>,
    comment: &str,
    file: Vec<u8>,
) -> Vector {
    Vector {
        name: name.to_string(),
        expect,
        key: vector_key(),
        require: Require::default(),
        payload,
        block,
        seed: None,
        comment: comment.to_string(),
        file,
    }
}

/// A success vector: its plaintext is the counter stream of `seed`.
fn ok(name: &str, seed: &str, e: &Enc, comment: &str) -> Vector {
    Vector {
        seed: Some(seed.to_string()),
        ..v(name, "success", e.all(), None, comment, e.file.clone())
    }
}

/// Every vector, in a fixed order.
pub fn all_vectors() -> Vec<Vector> {
    let mut out = Vec::new();
    let none = sha(b"");
    const K64: u32 = 65536;
    const K4: u32 = 4096;
    let unknown = PayloadKind::Unknown;

    // ---- positive cases ----
    for (name, len, bs, comment) in [
        (
            "success_empty",
            0usize,
            K64,
            "empty plaintext: one empty final block",
        ),
        ("success_1_byte", 1, K64, "one byte"),
        ("success_65535", 65535, K64, "one short final block"),
        ("success_65536", 65536, K64, "exactly one full block"),
        (
            "success_65537",
            65537,
            K64,
            "one full block and a 1-byte final block",
        ),
        (
            "success_3_blocks_partial",
            3 * 65536 + 1000,
            K64,
            "three full blocks and a partial one",
        ),
        (
            "success_bs4096_partial",
            5 * 4096 + 123,
            K4,
            "non-default block size 4096",
        ),
        (
            "success_bs4096_exact_multiple",
            4 * 4096,
            K4,
            "exact multiple: the final block is full",
        ),
        (
            "success_bs4096_258_blocks",
            257 * 4096 + 1,
            K4,
            "258 blocks: block index past one byte",
        ),
    ] {
        let e = Enc::new(len, name, bs, unknown, 1);
        out.push(ok(name, name, &e, comment));
    }
    let g = Enc::new(70_000, "gguf", K64, PayloadKind::Gguf, 2);
    out.push(ok(
        "success_kind_gguf",
        "gguf",
        &g,
        "payload kind 2 (GGUF); plaintext bytes 0..8 are GGUF 03 00 00 00",
    ));
    for (name, kind, comment) in [
        ("success_kind_mlc", PayloadKind::Mlc, "payload kind 1 (MLC)"),
        (
            "success_kind_litert",
            PayloadKind::LiteRt,
            "payload kind 3 (LiteRT)",
        ),
    ] {
        let e = Enc::new(9_000, name, K4, kind, 1);
        out.push(ok(name, name, &e, comment));
    }
    // Block sizes other than 4096 and 65536, and short blocks.
    for (name, len, bs, comment) in [
        (
            "success_bs8192_partial",
            2 * 8192 + 1000,
            1u32 << 13,
            "block size 8192: two full blocks and a partial one",
        ),
        (
            "success_bs32768_tail_only_final",
            32768 + 7,
            1 << 15,
            "block size 32768; a 7-byte final block: no whole unit, the tail alone is rotated",
        ),
        (
            "success_bs2_24_only_block_short",
            4099,
            MAX_BLOCK_SIZE,
            "the largest block size, 2^24, and one short block (4099 bytes): the only permutation is that of length 4099 (spec 6.3); the pad is still 2^24 bytes",
        ),
    ] {
        let e = Enc::new(len, name, bs, unknown, 1);
        out.push(ok(name, name, &e, comment));
    }
    // A draw of `uniform` that rejects (spec 6.1): the first salt
    // le64(c) || 24 bytes 0x55 for which deriving a permutation of this
    // file rejects at least one value.
    let (len, bs) = (32768 + 20000, 1u32 << 15);
    let (salt, found) = rejecting_salt(len, bs as usize);
    let e = Enc::with_salt(len, "success_uniform_rejection", bs, unknown, salt);
    out.push(ok(
        "success_uniform_rejection",
        "success_uniform_rejection",
        &e,
        &format!(
            "salt chosen so that uniform() rejects {found}; an implementation that skips the rejection shuffles differently"
        ),
    ));
    // The largest file length a header may describe, 2^63 - 1 (spec 3.2),
    // with a genuine header MAC: the header passes, the input then ends.
    let limit = largest_plaintext(u64::from(K64));
    let at_limit = header_only(limit, K64, 6);
    out.push(v(
        "truncated_at_largest_file_length",
        "truncated",
        none,
        None,
        &format!(
            "a genuine header (valid MAC) of plaintext length {limit}, block size 65536: file length exactly 2^63 - 1, the largest valid; nothing follows the header"
        ),
        at_limit.clone(),
    ));
    out.push(v(
        "header_length_one_past_largest",
        "header failure",
        none,
        None,
        &format!(
            "the same header with plaintext length {}: file length above 2^63 - 1 (refused before the MAC)",
            limit + 1
        ),
        {
            let mut b = at_limit;
            b[24..32].copy_from_slice(&(limit + 1).to_le_bytes());
            b
        },
    ));

    // The base file for most negative cases: 3 full blocks + 100 bytes.
    let base = Enc::new(3 * 4096 + 100, "base", K4, unknown, 3);
    let bf = &base.file;
    let with = |f: &dyn Fn(&mut Vec<u8>)| {
        let mut b = bf.clone();
        f(&mut b);
        b
    };

    // ---- not AVA3 / version / header structure ----
    out.push(v(
        "not_ava3_empty_file",
        "not ava3",
        none,
        None,
        "zero bytes",
        Vec::new(),
    ));
    out.push(v(
        "not_ava3_bad_magic",
        "not ava3",
        none,
        None,
        "first byte changed",
        with(&|b| b[0] = b'X'),
    ));
    out.push(v(
        "not_ava3_gguf_file",
        "not ava3",
        none,
        None,
        "a plaintext GGUF file",
        g.pt.clone(),
    ));
    out.push(v(
        "truncated_magic_only",
        "truncated",
        none,
        None,
        "only the 8 magic bytes",
        bf[..8].to_vec(),
    ));
    out.push(v(
        "truncated_in_header",
        "truncated",
        none,
        None,
        "first 50 header bytes",
        bf[..50].to_vec(),
    ));
    out.push(v(
        "unsupported_version_3",
        "unsupported version",
        none,
        None,
        "version field 3",
        with(&|b| b[8] = 3),
    ));
    out.push(v(
        "header_v1_relabelled_v2",
        "header failure",
        none,
        None,
        "a version 1 file whose version field says 2: a version 2 header without records and without signatures, refused at 7.1 step 4 (the header MAC, which covers the version, would fail too)",
        with(&|b| b[8] = 2),
    ));
    out.push(v(
        "unsupported_version_0",
        "unsupported version",
        none,
        None,
        "version field 0",
        with(&|b| b[8] = 0),
    ));
    out.push(v(
        "header_length_field",
        "header failure",
        none,
        None,
        "header length 129",
        with(&|b| b[10] = 129),
    ));
    out.push(v(
        "header_unknown_flag",
        "header failure",
        none,
        None,
        "flag bit 0 set",
        with(&|b| b[12] = 1),
    ));
    out.push(v(
        "header_unknown_high_flag",
        "header failure",
        none,
        None,
        "flag bit 31 set",
        with(&|b| b[15] = 0x80),
    ));
    out.push(v(
        "header_reserved_21",
        "header failure",
        none,
        None,
        "reserved byte 21 non-zero",
        with(&|b| b[21] = 1),
    ));
    out.push(v(
        "header_reserved_80",
        "header failure",
        none,
        None,
        "reserved byte 80 non-zero",
        with(&|b| b[80] = 1),
    ));
    out.push(v(
        "header_block_size_zero",
        "header failure",
        none,
        None,
        "block size 0",
        with(&|b| b[16..20].fill(0)),
    ));
    out.push(v(
        "header_block_size_huge",
        "header failure",
        none,
        None,
        "block size 2^31",
        with(&|b| b[16..20].copy_from_slice(&(1u32 << 31).to_le_bytes())),
    ));
    out.push(v(
        "header_block_size_not_pow2",
        "header failure",
        none,
        None,
        "block size 4097",
        with(&|b| b[16..20].copy_from_slice(&4097u32.to_le_bytes())),
    ));
    out.push(v(
        "header_block_size_too_small",
        "header failure",
        none,
        None,
        "block size 2048",
        with(&|b| b[16..20].copy_from_slice(&2048u32.to_le_bytes())),
    ));
    out.push(v(
        "header_unknown_kind",
        "header failure",
        none,
        None,
        "payload kind 4",
        with(&|b| b[20] = 4),
    ));
    out.push(v(
        "header_length_overflow_u64",
        "header failure",
        none,
        None,
        "plaintext length 2^64-1",
        with(&|b| b[24..32].fill(0xff)),
    ));
    out.push(v(
        "header_length_beyond_2_63",
        "header failure",
        none,
        None,
        "plaintext length 2^63",
        with(&|b| b[24..32].copy_from_slice(&(1u64 << 63).to_le_bytes())),
    ));
    out.push(v(
        "header_mac_flipped",
        "header failure",
        none,
        None,
        "bit 0 of the header MAC flipped",
        with(&|b| b[96] ^= 1),
    ));
    out.push(v(
        "header_mac_truncated_to_zero",
        "header failure",
        none,
        None,
        "header MAC zeroed",
        with(&|b| b[96..128].fill(0)),
    ));
    out.push(v(
        "header_length_changed",
        "header failure",
        none,
        None,
        "plaintext length +1 (MAC fails)",
        with(&|b| b[24] ^= 1),
    ));
    out.push(v(
        "header_kind_changed",
        "header failure",
        none,
        None,
        "payload kind 0 -> 2 (MAC fails)",
        with(&|b| b[20] = 2),
    ));
    out.push(v(
        "header_salt_flipped",
        "header failure",
        none,
        None,
        "one salt bit flipped (MAC fails)",
        with(&|b| b[40] ^= 0x10),
    ));

    // ---- keys ----
    let mut wrong = v(
        "wrong_key",
        "wrong key",
        none,
        None,
        "decoded with another key",
        bf.clone(),
    );
    wrong.key = other_key();
    out.push(wrong);
    out.push(v(
        "header_key_id_altered",
        "wrong key",
        none,
        None,
        "key id changed in the header",
        with(&|b| b[64] ^= 1),
    ));

    // ---- blocks ----
    let b0 = base.block(0);
    let b1 = base.block(1);
    let b2 = base.block(2);
    let b3 = base.block(3);
    out.push(v(
        "block_tag_flipped_first",
        "block failure",
        base.released(0),
        Some(0),
        "tag of block 0",
        with(&|b| b[b0.end - 1] ^= 1),
    ));
    out.push(v(
        "block_tag_flipped_middle",
        "block failure",
        base.released(1),
        Some(1),
        "tag of block 1",
        with(&|b| b[b1.end - 32] ^= 0x80),
    ));
    out.push(v(
        "block_tag_flipped_last",
        "block failure",
        base.released(3),
        Some(3),
        "tag of the final block",
        with(&|b| b[b3.end - 5] ^= 4),
    ));
    out.push(v(
        "block_body_flipped_middle",
        "block failure",
        base.released(2),
        Some(2),
        "stored byte of block 2",
        with(&|b| b[b2.start + 1000] ^= 1),
    ));
    out.push(v(
        "block_body_flipped_final",
        "block failure",
        base.released(3),
        Some(3),
        "stored byte of the final block",
        with(&|b| b[b3.start] ^= 0x40),
    ));
    out.push(v(
        "blocks_swapped",
        "block failure",
        base.released(0),
        Some(0),
        "blocks 0 and 1 swapped",
        with(&|b| {
            let (x, y) = (bf[b0.clone()].to_vec(), bf[b1.clone()].to_vec());
            b[b0.clone()].copy_from_slice(&y);
            b[b1.clone()].copy_from_slice(&x);
        }),
    ));
    out.push(v(
        "block_duplicated",
        "block failure",
        base.released(1),
        Some(1),
        "block 0 written again over block 1",
        with(&|b| {
            let x = bf[b0.clone()].to_vec();
            b[b1.clone()].copy_from_slice(&x);
        }),
    ));
    out.push(v(
        "block_deleted",
        "block failure",
        base.released(1),
        Some(1),
        "block 1 removed; block 2 read as block 1",
        with(&|b| {
            b.drain(b1.clone());
        }),
    ));
    let other = Enc::new(3 * 4096 + 100, "other", K4, unknown, 4);
    out.push(v(
        "block_spliced_same_key",
        "block failure",
        base.released(1),
        Some(1),
        "block 1 taken from another file under the same key",
        with(&|b| {
            b[b1.clone()].copy_from_slice(&other.file[other.block(1)]);
        }),
    ));
    out.push(v(
        "header_from_other_file",
        "block failure",
        none,
        Some(0),
        "the header of another file under the same key",
        with(&|b| {
            b[..HEADER_LEN].copy_from_slice(&other.file[..HEADER_LEN]);
        }),
    ));
    out.push(v(
        "final_block_removed",
        "truncated",
        base.released(3),
        None,
        "the final block removed; 120 trailer bytes cannot fill its 132",
        with(&|b| {
            b.drain(b3.clone());
        }),
    ));
    out.push(v(
        "final_block_twice",
        "trailer failure",
        base.all(),
        None,
        "the final block repeated where the trailer should start",
        with(&|b| {
            let x = bf[b3.clone()].to_vec();
            let at = b3.end;
            b.splice(at..at, x);
        }),
    ));
    out.push(v(
        "final_block_only_tag",
        "block failure",
        base.released(3),
        Some(3),
        "final block reduced to its tag: its slot is filled from the trailer",
        with(&|b| {
            b.drain(b3.start..b3.end - TAG_LEN);
        }),
    ));

    // ---- truncation ----
    let t = base.trailer();
    out.push(v(
        "truncated_after_header",
        "truncated",
        base.released(0),
        None,
        "header only",
        bf[..HEADER_LEN].to_vec(),
    ));
    out.push(v(
        "truncated_mid_block",
        "truncated",
        base.released(1),
        None,
        "inside block 1",
        bf[..b1.start + 2000].to_vec(),
    ));
    out.push(v(
        "truncated_at_block_boundary",
        "truncated",
        base.released(2),
        None,
        "right after block 1's tag",
        bf[..b2.start].to_vec(),
    ));
    out.push(v(
        "truncated_inside_tag",
        "truncated",
        base.released(2),
        None,
        "inside block 2's tag",
        bf[..b2.end - 10].to_vec(),
    ));
    out.push(v(
        "truncated_no_trailer",
        "truncated",
        base.all(),
        None,
        "every block, no trailer",
        bf[..t].to_vec(),
    ));
    out.push(v(
        "truncated_inside_trailer",
        "truncated",
        base.all(),
        None,
        "trailer cut at 60 bytes",
        bf[..t + 60].to_vec(),
    ));
    out.push(v(
        "truncated_last_byte",
        "truncated",
        base.all(),
        None,
        "the file without its last byte",
        bf[..bf.len() - 1].to_vec(),
    ));

    // ---- trailer ----
    out.push(v(
        "trailer_magic_altered",
        "trailer failure",
        base.all(),
        None,
        "trailer magic changed",
        with(&|b| b[t] = b'X'),
    ));
    out.push(v(
        "trailer_block_count_altered",
        "trailer failure",
        base.all(),
        None,
        "trailer block count + 1",
        with(&|b| b[t + 8] ^= 1),
    ));
    out.push(v(
        "trailer_length_altered",
        "trailer failure",
        base.all(),
        None,
        "trailer plaintext length changed",
        with(&|b| b[t + 16] ^= 2),
    ));
    out.push(v(
        "trailer_digest_flipped",
        "trailer failure",
        base.all(),
        None,
        "encrypted plaintext digest bit flipped",
        with(&|b| b[t + 30] ^= 1),
    ));
    out.push(v(
        "trailer_mac_flipped",
        "trailer failure",
        base.all(),
        None,
        "trailer MAC bit flipped",
        with(&|b| b[t + 60] ^= 1),
    ));
    out.push(v(
        "keyless_digest_flipped",
        "integrity failure",
        base.all(),
        None,
        "keyless SHA-256 bit flipped",
        with(&|b| b[t + 100] ^= 1),
    ));

    // ---- trailing data ----
    out.push(v(
        "trailing_garbage_short",
        "trailing data",
        base.all(),
        None,
        "one byte after the trailer",
        with(&|b| b.push(0)),
    ));
    out.push(v(
        "trailing_garbage_long",
        "trailing data",
        base.all(),
        None,
        "a copy of block 0 after the trailer",
        with(&|b| {
            b.extend_from_slice(&bf[b0.clone()]);
        }),
    ));
    out.push(v(
        "trailing_second_file",
        "trailing data",
        base.all(),
        None,
        "two AVA3 files concatenated",
        with(&|b| {
            b.extend_from_slice(&other.file);
        }),
    ));
    version_2_vectors(&mut out, &base);
    out
}

/// Version 2: model name and version, signatures, and what a reader
/// requires (spec 3.5, 3.6, 5.6, 7.5).
fn version_2_vectors(out: &mut Vec<Vector>, v1_base: &Enc) {
    let none = sha(b"");
    const K4: u32 = 4096;
    let unknown = PayloadKind::Unknown;
    let name = "ava3-test-model";
    let meta = |version| Metadata {
        name: Some(name.to_string()),
        version: Some(version),
    };
    let pk_a = signer_a().public_key().to_bytes();
    let pk_b = signer_b().public_key().to_bytes();
    let by_a = Require {
        signers: vec![pk_a],
        ..Default::default()
    };
    let with_req = |vector: Vector, require: &Require| Vector {
        require: require.clone(),
        ..vector
    };
    // The signed base: 3 full blocks and 100 bytes, name and version 3, signed by A.
    let len = 3 * 4096 + 100;
    let s = Enc::v2(
        len,
        "signed",
        K4,
        unknown,
        [7; 32],
        meta(3),
        vec![signer_a()],
    );
    let sf = &s.file;
    let h = s.layout.header_len() as usize;
    let t = s.trailer();
    let sig = s.layout.signatures_offset() as usize;
    let with = |f: &dyn Fn(&mut Vec<u8>)| {
        let mut b = sf.clone();
        f(&mut b);
        b
    };
    let full = Require {
        signers: vec![pk_a],
        name: Some(name.to_string()),
        min_version: Some(3),
    };
    out.push(with_req(
        ok(
            "success_v2_signed",
            "signed",
            &s,
            "version 2: name ava3-test-model, version 3, signed by A; the reader requires signer A, that name and version 3 or later",
        ),
        &full,
    ));
    out.push(ok(
        "success_v2_signed_nothing_required",
        "signed",
        &s,
        "the same file, read with no requirement: the signature section is parsed, no signature is checked",
    ));
    let u = Enc::v2(
        9000,
        "success_v2_unsigned_name_version",
        K4,
        PayloadKind::Gguf,
        [8; 32],
        meta(12),
        Vec::new(),
    );
    out.push(with_req(
        ok(
            "success_v2_unsigned_name_version",
            "success_v2_unsigned_name_version",
            &u,
            "version 2 with a name and version 12 and no signature (payload kind 2); the reader requires the name and version 12",
        ),
        &Require {
            name: Some(name.to_string()),
            min_version: Some(12),
            ..Default::default()
        },
    ));
    let two = Enc::v2(
        5000,
        "success_v2_two_signers",
        K4,
        unknown,
        [9; 32],
        Metadata::default(),
        vec![signer_a(), signer_b()],
    );
    out.push(with_req(
        ok(
            "success_v2_two_signers",
            "success_v2_two_signers",
            &two,
            "version 2 without records, signed by A then B; the reader trusts B only",
        ),
        &Require {
            signers: vec![pk_b],
            ..Default::default()
        },
    ));
    let empty = Enc::v2(
        0,
        "success_v2_signed_empty",
        K4,
        unknown,
        [10; 32],
        meta(1),
        vec![signer_a()],
    );
    out.push(with_req(
        ok(
            "success_v2_signed_empty",
            "success_v2_signed_empty",
            &empty,
            "an empty plaintext, signed by A",
        ),
        &by_a,
    ));

    // ---- what a reader requires ----
    out.push(with_req(
        v(
            "unsigned_v1_file",
            "unsigned",
            none,
            None,
            "a version 1 file where signer A is required",
            v1_base.file.clone(),
        ),
        &by_a,
    ));
    out.push(with_req(
        v(
            "unsigned_v2_file",
            "unsigned",
            none,
            None,
            "a version 2 file with a name and no signature where signer A is required",
            u.file.clone(),
        ),
        &by_a,
    ));
    out.push(with_req(
        v(
            "unknown_signer",
            "unknown signer",
            none,
            None,
            "signed by A; the reader trusts B only (a reader checks the signature before it releases plaintext: nothing is released)",
            sf.clone(),
        ),
        &Require {
            signers: vec![pk_b],
            ..Default::default()
        },
    ));
    out.push(with_req(
        v(
            "name_mismatch",
            "name mismatch",
            none,
            None,
            "name ava3-test-model; the reader requires ava3-test-modem",
            sf.clone(),
        ),
        &Require {
            name: Some("ava3-test-modem".to_string()),
            ..Default::default()
        },
    ));
    out.push(with_req(
        v(
            "name_mismatch_v1_file",
            "name mismatch",
            none,
            None,
            "a version 1 file (no name) where a name is required",
            v1_base.file.clone(),
        ),
        &Require {
            name: Some(name.to_string()),
            ..Default::default()
        },
    ));
    out.push(with_req(
        v(
            "rollback",
            "rollback",
            none,
            None,
            "version 3; the reader requires version 4 or later",
            sf.clone(),
        ),
        &Require {
            signers: vec![pk_a],
            name: Some(name.to_string()),
            min_version: Some(4),
        },
    ));
    out.push(with_req(
        v(
            "rollback_v1_file",
            "rollback",
            none,
            None,
            "a version 1 file (version 0) where version 1 or later is required",
            v1_base.file.clone(),
        ),
        &Require {
            min_version: Some(1),
            ..Default::default()
        },
    ));

    // ---- forged and damaged signatures ----
    out.push(with_req(
        v(
            "signature_flipped",
            "bad signature",
            none,
            None,
            "one bit of A's signature flipped",
            with(&|b| b[sig + 8 + 16 + 5] ^= 1),
        ),
        &by_a,
    ));
    out.push(with_req(
        v(
            "signature_signer_id_flipped",
            "unknown signer",
            none,
            None,
            "one bit of the signer id flipped: no entry is by A",
            with(&|b| b[sig + 8] ^= 1),
        ),
        &by_a,
    ));
    out.push(with_req(
        v(
            "signature_section_magic",
            "bad signature",
            none,
            None,
            "signature section magic changed (refused even where nothing is required)",
            with(&|b| b[sig] = b'X'),
        ),
        &by_a,
    ));
    out.push(v(
        "signature_section_magic_nothing_required",
        "bad signature",
        s.all(),
        None,
        "the same file read with no requirement: the section is malformed",
        with(&|b| b[sig] = b'X'),
    ));
    // A forger with the master key only: the same header (same salt, name,
    // version, signature count), other plaintext, valid tags and trailer,
    // and A's signature section copied from the genuine file.
    let forged = Enc::v2(
        len,
        "forged",
        K4,
        unknown,
        [7; 32],
        meta(3),
        vec![signer_b()],
    );
    let mut ff = forged.file.clone();
    ff[sig..].copy_from_slice(&sf[sig..]);
    out.push(with_req(
        v("forged_with_master_key", "bad signature", none, None, "made with the master key alone: genuine header, other blocks and trailer under the same key and salt, A's signature copied from the genuine file", ff),
        &by_a,
    ));
    // The genuine file with block 1 replaced by the forger's block 1 (a
    // valid tag under the same K_mac) and the keyless digest recomputed.
    let b1 = s.block(1);
    let mut spliced = sf.clone();
    spliced[b1.clone()].copy_from_slice(&forged.file[b1.clone()]);
    let mut kh = Sha256::new();
    kh.update(b"AVA3-v1-keyless");
    kh.update(&spliced[..h]);
    for i in 0..s.layout.block_count() {
        let r = s.block(i);
        let body = &spliced[r.start..r.end - TAG_LEN];
        kh.update(sha(body));
        kh.update(&spliced[r.end - TAG_LEN..r.end]);
    }
    kh.update(&spliced[t..t + 88]);
    let digest: [u8; 32] = kh.finalize().into();
    spliced[t + 88..t + 120].copy_from_slice(&digest);
    out.push(with_req(
        v("forged_block_keyless_recomputed", "bad signature", none, None, "block 1 replaced by a block the master key can make (valid tag), keyless SHA-256 recomputed: only the signature, over every tag, catches it", spliced),
        &by_a,
    ));
    out.push(with_req(
        v(
            "signature_section_truncated",
            "truncated",
            none,
            None,
            "the last byte of the signature section removed",
            with(&|b| {
                b.pop();
            }),
        ),
        &by_a,
    ));
    out.push(with_req(
        v(
            "signature_section_missing",
            "truncated",
            none,
            None,
            "the signature section removed: the file ends after the trailer",
            sf[..sig].to_vec(),
        ),
        &by_a,
    ));
    out.push(with_req(
        v(
            "signature_trailing_data",
            "trailing data",
            none,
            None,
            "one byte after the signature section",
            with(&|b| b.push(0)),
        ),
        &by_a,
    ));

    // ---- version 2 header structure ----
    out.push(v(
        "header_v2_unknown_record",
        "header failure",
        none,
        None,
        "extension record type 1 changed to 3 (unknown)",
        with(&|b| b[128] = 3),
    ));
    out.push(v(
        "header_v2_records_out_of_order",
        "header failure",
        none,
        None,
        "the version record's type changed to 1: two name records",
        with(&|b| b[128 + 3 + name.len()] = 1),
    ));
    out.push(v(
        "header_v2_record_length",
        "header failure",
        none,
        None,
        "name record length one more than its bytes",
        with(&|b| b[129] += 1),
    ));
    out.push(v(
        "header_v2_name_not_utf8",
        "header failure",
        none,
        None,
        "a name byte 0xff (not UTF-8)",
        with(&|b| b[131] = 0xff),
    ));
    out.push(v(
        "header_v2_length_127",
        "header failure",
        none,
        None,
        "version 2 header length 127",
        with(&|b| b[10..12].copy_from_slice(&127u16.to_le_bytes())),
    ));
    out.push(v(
        "header_v2_length_398",
        "header failure",
        none,
        None,
        "version 2 header length 398, one above the largest valid 397 = 128 + (3 + 255) + (3 + 8)",
        with(&|b| b[10..12].copy_from_slice(&398u16.to_le_bytes())),
    ));
    out.push(v(
        "header_v2_signature_count_17",
        "header failure",
        none,
        None,
        "signature count 17 (above 16)",
        with(&|b| b[21] = 17),
    ));
    out.push(v(
        "header_v2_reserved_22",
        "header failure",
        none,
        None,
        "reserved byte 22 non-zero",
        with(&|b| b[22] = 1),
    ));
    out.push(v(
        "header_v2_name_changed",
        "header failure",
        none,
        None,
        "one letter of the name changed (valid UTF-8): the header MAC covers the records",
        with(&|b| b[131 + 4] = b'X'),
    ));
    out.push(v(
        "header_v2_version_changed",
        "header failure",
        none,
        None,
        "model version 3 changed to 4: the header MAC covers the records",
        with(&|b| b[128 + 3 + name.len() + 3] = 4),
    ));
    out.push(v(
        "header_v2_signature_count_changed",
        "header failure",
        none,
        None,
        "signature count 1 changed to 2",
        with(&|b| b[21] = 2),
    ));
    out.push(v(
        "truncated_in_v2_records",
        "truncated",
        none,
        None,
        "the input ends inside the extension records",
        sf[..h - 4].to_vec(),
    ));
    // A record header cut short: the name record, then 2 bytes (the
    // first two of a version record), H = 128 + 18 + 2 (spec 3.6).
    let name_end = 128 + 3 + name.len();
    let mut cut = sf[..name_end].to_vec();
    cut.extend_from_slice(&[2, 8]);
    let cut_len = cut.len() as u16;
    cut[10..12].copy_from_slice(&cut_len.to_le_bytes());
    cut.extend_from_slice(&sf[h..]);
    out.push(v(
        "header_v2_record_cut_short",
        "header failure",
        none,
        None,
        "the name record, then only 2 bytes (02 08) before H: a record header cut short (fewer than 3 bytes left)",
        cut,
    ));
    // A version 1 file relabelled version 2 by a master-key holder: no
    // record, no signature, the header MAC recomputed (spec 3.6).
    let mut relabelled = v1_base.file.clone();
    relabelled[8] = 2;
    let mac = header_mac(&[3; 32], &relabelled[..HEADER_LEN]);
    relabelled[96..128].copy_from_slice(&mac);
    out.push(v(
        "header_v2_empty_mac_recomputed",
        "header failure",
        none,
        None,
        "a version 1 file relabelled version 2 (H = 128, signature count 0) with a genuine header MAC: a version 2 header carries a record or a signature (7.1 step 4, before the MAC)",
        relabelled,
    ));

    // ---- a signer listed twice (spec 3.5) ----
    let two_sig = two.layout.signatures_offset() as usize;
    let mut twice = two.file.clone();
    twice.copy_within(two_sig + 8..two_sig + 8 + 80, two_sig + 8 + 80);
    out.push(with_req(
        v(
            "signature_signer_listed_twice",
            "bad signature",
            none,
            None,
            "signed by A then B; B's entry replaced by a copy of A's (a valid signature): the section lists signer A twice",
            twice.clone(),
        ),
        &by_a,
    ));
    out.push(v(
        "signature_signer_listed_twice_nothing_required",
        "bad signature",
        two.all(),
        None,
        "the same file read with no requirement: the section is malformed",
        twice,
    ));

    // ---- strict verification (spec 2) ----
    // A's entry replaced by R = the identity (01 00 ... 00) and
    // S = k * a mod L, made with A's secret: [S]B = R + [k]A holds, so
    // OpenSSL and the `cryptography` package accept it; a small-order R is
    // refused.
    let tags: Vec<u8> = (0..s.layout.block_count())
        .flat_map(|i| sf[s.block(i).end - TAG_LEN..s.block(i).end].to_vec())
        .collect();
    let message = [
        b"AVA3-v2-signature".as_slice(),
        &sf[..h],
        &sf[t..t + TRAILER_LEN],
        &sha(&tags),
    ]
    .concat();
    let identity_r = identity_r_signature(&seed_a(), &message);
    out.push(with_req(
        v(
            "signature_small_order_r",
            "bad signature",
            none,
            None,
            "A's signature replaced by R = identity, S = k*a mod L (made with A's secret): the cofactorless equation holds (OpenSSL accepts it), but R has small order",
            with(&|b| b[sig + 8 + 16..sig + 8 + 80].copy_from_slice(&identity_r)),
        ),
        &by_a,
    ));

    // ---- several trusted keys (spec 7.5: any of them) ----
    let a_then_b = |pk_first, pk_last| Require {
        signers: vec![pk_first, pk_last],
        ..Default::default()
    };
    let mut id_flipped = ok(
        "two_signers_one_id_flipped",
        "success_v2_two_signers",
        &two,
        "signed by A then B, one bit of B's signer id flipped; the reader trusts B and A: B's entry is now by no trusted key and is ignored, A's verifies",
    );
    id_flipped.file[two_sig + 8 + 80] ^= 1;
    out.push(with_req(id_flipped, &a_then_b(pk_b, pk_a)));
    out.push(with_req(
        v(
            "two_signers_second_signature_flipped",
            "bad signature",
            none,
            None,
            "signed by A then B, one bit of B's signature flipped; the reader trusts A and B: A's verifies, but every signature by a trusted key must",
            {
                let mut b = two.file.clone();
                b[two_sig + 8 + 80 + 16 + 9] ^= 1;
                b
            },
        ),
        &a_then_b(pk_a, pk_b),
    ));

    // ---- two defects: one outcome in every mode (spec 7.6) ----
    let tag1 = s.block(1).end - TAG_LEN;
    let wrong_name = Require {
        name: Some("ava3-test-modem".to_string()),
        ..Default::default()
    };
    out.push(with_req(
        v(
            "two_defects_name_and_block_tag",
            "name mismatch",
            none,
            None,
            "the reader requires the name ava3-test-modem, and block 1's tag is flipped: the requirements come before the blocks",
            with(&|b| b[tag1] ^= 1),
        ),
        &wrong_name,
    ));
    out.push(with_req(
        v(
            "two_defects_name_and_block_tag_signed",
            "name mismatch",
            none,
            None,
            "the same file, the reader also trusts A: in signed verification too the requirements come right after the header, before the blocks",
            with(&|b| b[tag1] ^= 1),
        ),
        &Require {
            signers: vec![pk_a],
            ..wrong_name.clone()
        },
    ));
    out.push(with_req(
        v(
            "two_defects_rollback_and_bad_signature",
            "rollback",
            none,
            None,
            "version 3 where version 4 is required, and A's signature flipped: rollback, before the signature",
            with(&|b| b[sig + 8 + 16 + 5] ^= 1),
        ),
        &Require {
            signers: vec![pk_a],
            name: Some(name.to_string()),
            min_version: Some(4),
        },
    ));
    out.push(with_req(
        v(
            "two_defects_unsigned_and_trailing_data",
            "unsigned",
            none,
            None,
            "a version 1 file with one byte after its trailer, where signer A is required: unsigned, before the end of input",
            {
                let mut b = v1_base.file.clone();
                b.push(0);
                b
            },
        ),
        &by_a,
    ));
}

/// The header MAC (spec 5.1) of `header` under the vector key and `salt`.
fn header_mac(salt: &[u8; 32], header: &[u8]) -> [u8; 32] {
    use hmac::digest::KeyInit;
    use hmac::Mac;
    let mut k_mac = [0u8; 32];
    hkdf::Hkdf::<Sha256>::new(Some(salt), &vector_key())
        .expand(b"AVA3-v1 mac", &mut k_mac)
        .expect("32 bytes");
    let mut m = <hmac::Hmac<Sha256> as KeyInit>::new_from_slice(&k_mac).expect("any key length");
    m.update(b"AVA3-v1-header");
    m.update(&header[..96]);
    m.update(&header[128..]);
    m.finalize().into_bytes().into()
}

/// The order L of the edwards25519 base point, 64-bit limbs, little-endian.
const ORDER_L: [u64; 4] = [
    0x5812_631a_5cf5_d3ed,
    0x14de_f9de_a2f7_9cd6,
    0,
    0x1000_0000_0000_0000,
];

/// `x mod L` for a little-endian integer of any length (bit by bit).
fn mod_l(x: &[u8]) -> [u64; 4] {
    let mut r = [0u64; 4];
    for bit in (0..x.len() * 8).rev() {
        r = add_mod_l(r, r);
        if x[bit / 8] >> (bit % 8) & 1 == 1 {
            r = add_mod_l(r, [1, 0, 0, 0]);
        }
    }
    r
}

/// `(a + b) mod L` for `a, b < L` (the sum stays below 2^254).
fn add_mod_l(a: [u64; 4], b: [u64; 4]) -> [u64; 4] {
    let mut sum = [0u64; 4];
    let mut carry = false;
    for i in 0..4 {
        let (x, c1) = a[i].overflowing_add(b[i]);
        let (y, c2) = x.overflowing_add(u64::from(carry));
        sum[i] = y;
        carry = c1 || c2;
    }
    let below = (0..4)
        .rev()
        .find(|&i| sum[i] != ORDER_L[i])
        .is_some_and(|i| sum[i] < ORDER_L[i]);
    if below {
        return sum;
    }
    let mut borrow = false;
    for i in 0..4 {
        let (x, b1) = sum[i].overflowing_sub(ORDER_L[i]);
        let (y, b2) = x.overflowing_sub(u64::from(borrow));
        sum[i] = y;
        borrow = b1 || b2;
    }
    sum
}

/// `(a * b) mod L`, by double and add.
fn mul_mod_l(a: [u64; 4], b: [u64; 4]) -> [u64; 4] {
    let mut r = [0u64; 4];
    for bit in (0..256).rev() {
        r = add_mod_l(r, r);
        if b[bit / 64] >> (bit % 64) & 1 == 1 {
            r = add_mod_l(r, a);
        }
    }
    r
}

/// A signature `R || S` by the key of `seed` over `message` with `R` the identity
/// (01 00 ... 00) and `S = k * a mod L`, `k = SHA-512(R || A || M)` and `a`
/// the key's secret scalar (RFC 8032 5.1.5): `[S]B = R + [k]A` holds, but
/// `R` has small order, which strict verification refuses (spec 2).
fn identity_r_signature(seed: &[u8; 32], message: &[u8]) -> [u8; 64] {
    use sha2::Sha512;
    let key = SigningKey::from_seed(seed);
    let h = Sha512::digest(seed);
    let mut a = [0u8; 32];
    a.copy_from_slice(&h[..32]);
    a[0] &= 248;
    a[31] &= 127;
    a[31] |= 64;
    let mut r = [0u8; 32];
    r[0] = 1;
    let mut kh = Sha512::new();
    kh.update(r);
    kh.update(key.public_key().to_bytes());
    kh.update(message);
    let k = kh.finalize();
    let s = mul_mod_l(mod_l(&k), mod_l(&a));
    let mut sig = [0u8; 64];
    sig[..32].copy_from_slice(&r);
    for (i, limb) in s.iter().enumerate() {
        sig[32 + 8 * i..40 + 8 * i].copy_from_slice(&limb.to_le_bytes());
    }
    sig
}

/// Writes every vector of [`all_vectors`] into `dir` (created if missing),
/// after removing the files already there, and returns how many it wrote.
pub fn write_dir(dir: &Path) -> std::io::Result<usize> {
    std::fs::create_dir_all(dir)?;
    for old in std::fs::read_dir(dir)? {
        let old = old?.path();
        if old.is_file() {
            std::fs::remove_file(&old)?;
        }
    }
    let vectors = all_vectors();
    for vec in &vectors {
        std::fs::write(dir.join(&vec.name), vec.to_bytes())?;
    }
    Ok(vectors.len())
}
