//! A generated adversarial corpus over a small real encoding: every
//! single-bit flip of the header, of a tag and of sampled block bytes;
//! truncation at every block boundary and at sampled offsets; blocks
//! swapped, duplicated, dropped and spliced from another file under the same
//! key; trailing garbage; header fields at extreme values; an empty file and
//! a file of only the magic. Each case must end in a documented error (never
//! success), release only authentic plaintext, and take bounded time and
//! memory: `ava3-format/tests/adversarial.rs` runs it through the core and
//! `ava3-decoder-ffi/tests/adversarial.rs` through the C ABI. This module
//! only builds the cases.

use std::io::Write;

use ava3_format::{EncodeOptions, Encoder, Layout, MasterKey, PayloadKind};

// From the spec (sections 3.1 and 3.2).
const MAGIC: [u8; 8] = *b"\x89AVA3\r\n\x1a";
const TAG_LEN: usize = 32;

const BS: u32 = 4096;
const LEN: usize = 3 * 4096 + 700;

/// The master key of the corpus: 32 bytes 0x42.
pub fn key() -> MasterKey {
    MasterKey::from_bytes([0x42; 32])
}

/// The plaintext every case is made from: 3 full blocks of 4096 bytes
/// and a final block of 700.
pub fn plaintext() -> Vec<u8> {
    (0..LEN).map(|i| (i * 7 + i / 13) as u8).collect()
}

/// The genuine encoding of [`plaintext`] under [`key`] (payload kind MLC,
/// blocks of 4096 bytes), with the salt of 32 bytes `salt`.
pub fn encode(salt: u8) -> Vec<u8> {
    let opts = EncodeOptions {
        block_size: BS,
        payload_kind: PayloadKind::Mlc,
        threads: 1,
        ..Default::default()
    };
    let mut e =
        Encoder::new_with_salt_for_test_vectors(Vec::new(), &key(), LEN as u64, &opts, [salt; 32])
            .unwrap();
    e.write_all(&plaintext()).unwrap();
    e.finish().unwrap().0
}

/// One case: a name and the bytes.
#[derive(Debug)]
pub struct Case(pub String, pub Vec<u8>);

/// The corpus: every case, built from [`encode`]`(1)` (and `encode(2)`
/// for the splice), in a fixed order.
pub fn corpus() -> Vec<Case> {
    let good = encode(1);
    let other = encode(2);
    let layout = Layout::new(BS, LEN as u64).unwrap();
    let block = |i: u64| {
        let s = layout.block_offset(i) as usize;
        s..s + layout.block_len(i) + TAG_LEN
    };
    let mut cases = Vec::new();
    let flip = |at: usize, bit: u8| {
        let mut b = good.clone();
        b[at] ^= 1 << bit;
        b
    };
    for at in 0..128 {
        for bit in 0..8 {
            cases.push(Case(format!("header byte {at} bit {bit}"), flip(at, bit)));
        }
    }
    let tag1 = block(1).end - TAG_LEN;
    for at in tag1..tag1 + TAG_LEN {
        for bit in 0..8 {
            cases.push(Case(
                format!("tag of block 1, byte {at} bit {bit}"),
                flip(at, bit),
            ));
        }
    }
    for i in 0..layout.block_count() {
        let r = block(i);
        for (k, at) in (r.start..r.end - TAG_LEN).step_by(97).enumerate() {
            cases.push(Case(
                format!("block {i} byte {at}"),
                flip(at, (k % 8) as u8),
            ));
        }
    }
    let t = layout.trailer_offset() as usize;
    for at in (t..good.len()).step_by(3) {
        // The last 32 bytes are the keyless digest, which random access
        // does not read (spec 8.3).
        let what = if at >= t + 88 {
            "keyless digest"
        } else {
            "trailer"
        };
        cases.push(Case(format!("{what} byte {at}"), flip(at, (at % 8) as u8)));
    }
    // Truncation at every block boundary and at sampled offsets.
    for i in 0..=layout.block_count() {
        let at = layout.block_offset(i) as usize;
        cases.push(Case(
            format!("cut at boundary {i}"),
            good[..at.min(good.len() - 1)].to_vec(),
        ));
    }
    for at in (0..good.len()).step_by(211) {
        cases.push(Case(format!("cut at {at}"), good[..at].to_vec()));
    }
    cases.push(Case(
        "cut last byte".into(),
        good[..good.len() - 1].to_vec(),
    ));
    // Block surgery.
    let (b0, b1, b2) = (block(0), block(1), block(2));
    let mut swapped = good.clone();
    swapped[b1.clone()].copy_from_slice(&good[b2.clone()]);
    swapped[b2.clone()].copy_from_slice(&good[b1.clone()]);
    cases.push(Case("blocks 1 and 2 swapped".into(), swapped));
    let mut dup = good.clone();
    dup[b2.clone()].copy_from_slice(&good[b0.clone()]);
    cases.push(Case("block 0 duplicated over 2".into(), dup));
    let mut dropped = good.clone();
    dropped.drain(b1.clone());
    cases.push(Case("block 1 dropped".into(), dropped));
    let mut spliced = good.clone();
    spliced[b1.clone()].copy_from_slice(&other[b1.clone()]);
    cases.push(Case("block 1 spliced from another file".into(), spliced));
    let mut extra = good.clone();
    extra.splice(b2.end..b2.end, good[b2.clone()].iter().copied());
    cases.push(Case("block 2 inserted twice".into(), extra));
    for n in [1usize, 31, 32, 4096, 100_000] {
        let mut g = good.clone();
        g.extend(std::iter::repeat_n(0xA5u8, n));
        cases.push(Case(format!("{n} trailing bytes"), g));
    }
    // Extreme header fields (the MAC fails too, but the range checks must
    // come first and allocate nothing).
    let set = |off: usize, bytes: &[u8]| {
        let mut g = good.clone();
        g[off..off + bytes.len()].copy_from_slice(bytes);
        g
    };
    for (name, off, bytes) in [
        ("block size 0", 16, 0u32.to_le_bytes().to_vec()),
        ("block size 2^31", 16, (1u32 << 31).to_le_bytes().to_vec()),
        ("block size u32::MAX", 16, u32::MAX.to_le_bytes().to_vec()),
        ("length u64::MAX", 24, u64::MAX.to_le_bytes().to_vec()),
        ("length 2^63", 24, (1u64 << 63).to_le_bytes().to_vec()),
        ("length 2^32", 24, (1u64 << 32).to_le_bytes().to_vec()),
        (
            "length 2^62 (beyond the file)",
            24,
            (1u64 << 62).to_le_bytes().to_vec(),
        ),
        (
            "length beyond the file by one",
            24,
            (LEN as u64 + 1).to_le_bytes().to_vec(),
        ),
        ("header length 0xffff", 10, 0xffffu16.to_le_bytes().to_vec()),
        ("version 0xffff", 8, 0xffffu16.to_le_bytes().to_vec()),
    ] {
        cases.push(Case(name.into(), set(off, &bytes)));
    }
    cases.push(Case("empty file".into(), Vec::new()));
    cases.push(Case("only the magic".into(), MAGIC.to_vec()));
    cases.push(Case("magic and version".into(), good[..10].to_vec()));
    cases.push(Case("header only".into(), good[..128].to_vec()));
    cases
}
