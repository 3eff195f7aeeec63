//! Deterministic sample plaintexts (spec appendix A): SHA-256 in counter
//! mode over a text seed, and the same stream made to fit a payload kind.
//! The test vectors are built from them; any test can rebuild a vector's
//! plaintext from its `seed:` line.

use ava3_format::{Content, PayloadKind};
use sha2::{Digest, Sha256};

/// SHA-256 in counter mode over `seed` (`SHA-256(seed || le64(i))` for
/// `i` = 0, 1, ...), cut to `len` bytes.
pub fn counter_stream(len: usize, seed: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(len + 32);
    let mut i = 0u64;
    while out.len() < len {
        let mut h = Sha256::new();
        h.update(seed.as_bytes());
        h.update(i.to_le_bytes());
        out.extend_from_slice(&h.finalize());
        i += 1;
    }
    out.truncate(len);
    out
}

/// The plaintext of a vector of payload kind `kind` (spec appendix A): the
/// counter stream of `seed`, then, when it has at least 8 bytes, bytes
/// 0..8 set to `GGUF` 03 00 00 00 for kind 2 (GGUF) and bytes 4..8 set to
/// `TFL3` for kind 3 (LiteRT), so that the content fits its kind
/// (appendix B); kinds 0 and 1 keep the stream (a raw MLC shard).
///
/// # Panics
///
/// When the content still does not fit `kind`: choose another seed.
pub fn of_kind(len: usize, seed: &str, kind: PayloadKind) -> Vec<u8> {
    let mut pt = counter_stream(len, seed);
    if len >= 8 {
        match kind {
            PayloadKind::Gguf => pt[..8].copy_from_slice(b"GGUF\x03\0\0\0"),
            PayloadKind::LiteRt => pt[4..8].copy_from_slice(b"TFL3"),
            _ => {}
        }
    }
    let head = &pt[..len.min(Content::SNIFF_LEN)];
    assert!(
        Content::sniff(head).fits(kind),
        "the plaintext of seed {seed} does not fit payload kind {kind}: choose another seed"
    );
    pt
}
