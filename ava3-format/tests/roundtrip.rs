//! Round trips over random sizes and block sizes; parallel == sequential;
//! every `read_at` range equals the same slice of the plaintext; seeking.

use ava3_testkit::verify;
use std::io::{Read, Seek, SeekFrom, Write};

use ava3_format::{
    decode_to_vec, DecodeOptions, Decoder, EncodeOptions, Encoder, Level, MasterKey, PayloadKind,
    RandomAccessReader,
};
use proptest::prelude::*;

fn key() -> MasterKey {
    MasterKey::from_bytes([0x11; 32])
}

fn encode_with(pt: &[u8], bs: u32, parallel: bool, salt: [u8; 32]) -> Vec<u8> {
    let opts = EncodeOptions {
        block_size: bs,
        payload_kind: PayloadKind::Unknown,
        threads: if parallel { 0 } else { 1 },
        ..Default::default()
    };
    let mut enc =
        Encoder::new_with_salt_for_test_vectors(Vec::new(), &key(), pt.len() as u64, &opts, salt)
            .unwrap();
    // Write in uneven pieces to exercise the buffering.
    for piece in pt.chunks(7777) {
        enc.write_all(piece).unwrap();
    }
    enc.finish().unwrap().0
}

fn plaintext(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| {
            (i as u32)
                .wrapping_mul(2654435761)
                .rotate_left(seed as u32 % 32) as u8
                ^ seed
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn round_trip_random_sizes(len in 0usize..300_000, bs_log in 12u32..=16, seed: u8) {
        let pt = plaintext(len, seed);
        let file = encode_with(&pt, 1 << bs_log, true, [seed; 32]);
        prop_assert_eq!(decode_to_vec(&key(), &file).unwrap(), pt.clone());
        // Sequential output is byte-identical to the parallel one.
        prop_assert_eq!(encode_with(&pt, 1 << bs_log, false, [seed; 32]), file.clone());
        // Sequential decode gives the same plaintext.
        let mut d = Decoder::open(&file[..], &[&key()], &ava3_format::Policy::NONE, &DecodeOptions { parallel: false }).unwrap();
        let mut out = Vec::new();
        d.read_to_end(&mut out).unwrap();
        prop_assert_eq!(&out, &pt);
        let keyed = verify(&file[..], &[&key()], false, &DecodeOptions::default()).unwrap();
        let keyless = verify(&file[..], &[], false, &DecodeOptions::default()).unwrap();
        prop_assert_eq!(keyed.keyless_sha256, keyless.keyless_sha256);
        prop_assert_eq!(keyed.level, Level::Keyed);
    }

    #[test]
    fn read_at_matches_slices(len in 1usize..200_000, a in any::<u32>(), b in any::<u32>(), seed: u8) {
        let pt = plaintext(len, seed);
        let file = encode_with(&pt, 4096, true, [seed; 32]);
        let r = RandomAccessReader::open(file, &[&key()], &ava3_format::Policy::NONE).unwrap();
        prop_assert_eq!(r.len(), len as u64);
        let start = a as usize % len;
        let want = b as usize % (len - start + 100);
        let mut buf = vec![0u8; want];
        let n = r.read_at(&mut buf, start as u64).unwrap();
        let end = (start + want).min(len);
        prop_assert_eq!(n, end - start);
        prop_assert_eq!(&buf[..n], &pt[start..end]);
    }

    #[test]
    fn seek_then_read_matches(len in 1usize..100_000, a in any::<u32>(), seed: u8) {
        let pt = plaintext(len, seed);
        let file = encode_with(&pt, 4096, true, [seed; 32]);
        let mut d = Decoder::open(std::io::Cursor::new(file), &[&key()], &ava3_format::Policy::NONE, &Default::default()).unwrap();
        let start = a as usize % len;
        prop_assert_eq!(d.seek(SeekFrom::Start(start as u64)).unwrap(), start as u64);
        let mut out = Vec::new();
        d.read_to_end(&mut out).unwrap();
        prop_assert_eq!(&out[..], &pt[start..]);
        let back = d.seek(SeekFrom::End(-(len.min(10) as i64))).unwrap();
        prop_assert_eq!(back, (len - len.min(10)) as u64);
        let mut tail = Vec::new();
        d.read_to_end(&mut tail).unwrap();
        prop_assert_eq!(&tail[..], &pt[len - len.min(10)..]);
    }
}

#[test]
fn edge_sizes_round_trip() {
    for len in [0usize, 1, 65535, 65536, 65537, 3 * 65536, 3 * 65536 + 5] {
        let pt = plaintext(len, 3);
        let file = encode_with(&pt, 65536, true, [1; 32]);
        assert_eq!(decode_to_vec(&key(), &file).unwrap(), pt, "len {len}");
        let r = RandomAccessReader::open(&file[..], &[&key()], &ava3_format::Policy::NONE).unwrap();
        let mut all = vec![0u8; len];
        r.decode_all_into(&mut all).unwrap();
        assert_eq!(all, pt);
    }
}

#[test]
fn every_encode_uses_a_fresh_salt() {
    let pt = plaintext(1000, 1);
    let (a, _) = ava3_format::encode_to_vec(&key(), &pt, &EncodeOptions::default()).unwrap();
    let (b, _) = ava3_format::encode_to_vec(&key(), &pt, &EncodeOptions::default()).unwrap();
    assert_ne!(a[32..64], b[32..64]);
    assert_ne!(a, b);
}

#[test]
fn encoder_rejects_wrong_lengths() {
    let opts = EncodeOptions::default();
    let mut enc = Encoder::new(Vec::new(), &key(), 10, &opts).unwrap();
    enc.write_all(b"12345").unwrap();
    let err = enc.finish().unwrap_err();
    assert!(matches!(
        err,
        ava3_format::Error::LengthMismatch {
            expected: 10,
            actual: 5
        }
    ));
    let mut enc = Encoder::new(Vec::new(), &key(), 3, &opts).unwrap();
    assert!(enc.write_all(b"12345").is_err());
}

#[test]
fn file_backed_random_access_from_threads() {
    let pt = plaintext(1_000_000, 9);
    let file = encode_with(&pt, 65536, true, [2; 32]);
    let mut tmp = tempfile::tempfile().unwrap();
    tmp.write_all(&file).unwrap();
    tmp.seek(SeekFrom::Start(0)).unwrap();
    let r = RandomAccessReader::open(tmp, &[&key()], &ava3_format::Policy::NONE).unwrap();
    std::thread::scope(|s| {
        for t in 0..8u64 {
            let (r, pt) = (&r, &pt);
            s.spawn(move || {
                for i in 0..50u64 {
                    let off = (t * 104_729 + i * 79_193) % pt.len() as u64;
                    let mut buf = vec![0u8; 100_000];
                    let n = r.read_at(&mut buf, off).unwrap();
                    assert_eq!(&buf[..n], &pt[off as usize..off as usize + n]);
                }
            });
        }
    });
}
