//! The pointer guards of the C ABI, driven from Rust: NULL everywhere,
//! wrong sizes, calls before a key, the wrong key, outputs untouched on
//! failure, NULL-safe frees.

// The exports are `unsafe extern "C" fn`s: these tests call them as C does.
#![allow(unsafe_code)]

use std::ffi::CString;
use std::ptr::{null, null_mut};

use ava3_decoder::*;
use ava3_format::{encode_to_vec, EncodeOptions, MasterKey};

fn sample() -> (Vec<u8>, Vec<u8>) {
    let pt: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    let (file, _) = encode_to_vec(
        &MasterKey::from_bytes([4; 32]),
        &pt,
        &EncodeOptions::default(),
    )
    .unwrap();
    (pt, file)
}

fn open(file: &[u8]) -> *mut Ava3Decoder {
    // SAFETY: every pointer passed to the C ABI here is NULL (which each
    // function documents and refuses) or points to live memory of the
    // stated length, and every handle is used only between its open and
    // its single free: the contract of each `# Safety` section.
    unsafe {
        let mut d = null_mut();
        assert_eq!(
            ava3_decoder_open_buffer(file.as_ptr(), file.len(), &mut d),
            Ava3Result::Ok
        );
        assert!(!d.is_null());
        d
    }
}

#[test]
fn null_pointers_are_refused_everywhere() {
    // SAFETY: every pointer passed to the C ABI here is NULL (which each
    // function documents and refuses) or points to live memory of the
    // stated length, and every handle is used only between its open and
    // its single free: the contract of each `# Safety` section.
    unsafe {
        let (_, file) = sample();
        let d = open(&file);
        let mut n = 0usize;
        let mut u = 0u64;
        let mut k = 0u32;
        let mut buf = [0u8; 16];
        assert_eq!(
            ava3_decoder_open_path(null(), &mut null_mut()),
            Ava3Result::NullParameter
        );
        let path = CString::new("/nonexistent").unwrap();
        assert_eq!(
            ava3_decoder_open_path(path.as_ptr(), null_mut()),
            Ava3Result::NullParameter
        );
        assert_eq!(
            ava3_decoder_open_buffer(null(), 5, &mut null_mut()),
            Ava3Result::NullParameter
        );
        assert_eq!(
            ava3_decoder_key_id(null(), buf.as_mut_ptr(), 16),
            Ava3Result::NullParameter
        );
        assert_eq!(
            ava3_decoder_key_id(d, null_mut(), 16),
            Ava3Result::NullParameter
        );
        assert_eq!(
            ava3_decoder_payload_kind(d, null_mut()),
            Ava3Result::NullParameter
        );
        assert_eq!(
            ava3_decoder_block_size(null(), &mut k),
            Ava3Result::NullParameter
        );
        assert_eq!(
            ava3_decoder_set_key(d, null(), 32),
            Ava3Result::NullParameter
        );
        assert_eq!(
            ava3_decoder_plaintext_size(d, null_mut()),
            Ava3Result::NullParameter
        );
        assert_eq!(
            ava3_decoder_read_at(d, 0, null_mut(), 10, &mut n),
            Ava3Result::NullParameter
        );
        assert_eq!(
            ava3_decoder_read_at(d, 0, buf.as_mut_ptr(), 10, null_mut()),
            Ava3Result::NullParameter
        );
        assert_eq!(
            ava3_decoder_read(null_mut(), buf.as_mut_ptr(), 10, &mut n),
            Ava3Result::NullParameter
        );
        assert_eq!(
            ava3_decoder_stream(d, None, null_mut()),
            Ava3Result::NullParameter
        );
        assert_eq!(
            ava3_decoder_decode_aligned(d, null_mut()),
            Ava3Result::NullParameter
        );
        assert_eq!(
            ava3_decoder_decode_to_memfd(d, null_mut()),
            Ava3Result::NullParameter
        );
        assert_eq!(
            ava3_decoder_fopen(d, 0, null_mut()),
            Ava3Result::NullParameter
        );
        assert_eq!(
            ava3_decoder_failed_block(d, null_mut()),
            Ava3Result::NullParameter
        );
        assert_eq!(
            ava3_decoder_cache_stats(null(), null_mut()),
            Ava3Result::NullParameter
        );
        let _ = (&mut u, &mut n);
        ava3_decoder_free(null_mut());
        ava3_buffer_free(null_mut());
        ava3_decoder_free(d);
    }
}

#[test]
fn nothing_is_readable_before_the_key_and_the_wrong_key_is_named() {
    // SAFETY: every pointer passed to the C ABI here is NULL (which each
    // function documents and refuses) or points to live memory of the
    // stated length, and every handle is used only between its open and
    // its single free: the contract of each `# Safety` section.
    unsafe {
        let (pt, file) = sample();
        let d = open(&file);
        let mut size = 77u64;
        let mut n = 5usize;
        let mut buf = [9u8; 64];
        // Before the key: header fields only.
        let mut kind = 9u32;
        assert_eq!(ava3_decoder_payload_kind(d, &mut kind), Ava3Result::Ok);
        assert_eq!(kind, 0);
        assert_eq!(
            ava3_decoder_plaintext_size(d, &mut size),
            Ava3Result::InvalidParameter
        );
        assert_eq!(size, 77, "outputs are written only on success");
        assert_eq!(
            ava3_decoder_read_at(d, 0, buf.as_mut_ptr(), 64, &mut n),
            Ava3Result::InvalidParameter
        );
        assert_eq!(n, 5);
        // Wrong sizes and the wrong key.
        assert_eq!(
            ava3_decoder_set_key(d, [4u8; 31].as_ptr(), 31),
            Ava3Result::InvalidParameter
        );
        assert_eq!(
            ava3_decoder_set_key(d, [5u8; 32].as_ptr(), 32),
            Ava3Result::WrongKey
        );
        let mut id = [0u8; 16];
        assert_eq!(
            ava3_decoder_key_id(d, id.as_mut_ptr(), 15),
            Ava3Result::InvalidParameter
        );
        assert_eq!(ava3_decoder_key_id(d, id.as_mut_ptr(), 16), Ava3Result::Ok);
        assert_eq!(id, *MasterKey::from_bytes([4; 32]).key_id().as_bytes());
        // The right key.
        assert_eq!(
            ava3_decoder_set_key(d, [4u8; 32].as_ptr(), 32),
            Ava3Result::Ok
        );
        assert_eq!(ava3_decoder_plaintext_size(d, &mut size), Ava3Result::Ok);
        assert_eq!(size, pt.len() as u64);
        assert_eq!(
            ava3_decoder_read_at(d, 1000, buf.as_mut_ptr(), 64, &mut n),
            Ava3Result::Ok
        );
        assert_eq!((n, &buf[..]), (64, &pt[1000..1064]));
        // Past the end: zero bytes, not an error.
        assert_eq!(
            ava3_decoder_read_at(d, size + 10, buf.as_mut_ptr(), 64, &mut n),
            Ava3Result::Ok
        );
        assert_eq!(n, 0);
        // A caller buffer of the wrong size is refused.
        let mut out = vec![0u8; pt.len() - 1];
        assert_eq!(
            ava3_decoder_decode_to_buffer(d, out.as_mut_ptr(), out.len()),
            Ava3Result::InvalidParameter
        );
        ava3_decoder_free(d);
    }
}

#[test]
fn a_failing_block_wipes_the_output_and_reports_its_index() {
    // SAFETY: every pointer passed to the C ABI here is NULL (which each
    // function documents and refuses) or points to live memory of the
    // stated length, and every handle is used only between its open and
    // its single free: the contract of each `# Safety` section.
    unsafe {
        let (_, mut file) = sample();
        // Corrupt block 2 (64 KiB blocks: offset 128 + 2 * (65536 + 32) + 10).
        file[128 + 2 * 65568 + 10] ^= 1;
        let d = open(&file);
        assert_eq!(
            ava3_decoder_set_key(d, [4u8; 32].as_ptr(), 32),
            Ava3Result::Ok
        );
        let mut out = vec![0u8; 200_000];
        assert_eq!(
            ava3_decoder_decode_to_buffer(d, out.as_mut_ptr(), out.len()),
            Ava3Result::BlockFailure
        );
        assert!(out.iter().all(|&b| b == 0), "the partial output is wiped");
        let mut idx = 0u64;
        assert_eq!(ava3_decoder_failed_block(d, &mut idx), Ava3Result::Ok);
        assert_eq!(idx, 2);
        // read_at across the bad block: nothing reported, buffer wiped.
        let mut buf = vec![7u8; 100_000];
        let mut n = 123usize;
        assert_eq!(
            ava3_decoder_read_at(d, 60_000, buf.as_mut_ptr(), buf.len(), &mut n),
            Ava3Result::BlockFailure
        );
        assert_eq!(n, 123);
        assert!(buf.iter().all(|&b| b == 0));
        // Blocks before it still read.
        assert_eq!(
            ava3_decoder_read_at(d, 0, buf.as_mut_ptr(), 1000, &mut n),
            Ava3Result::Ok
        );
        ava3_decoder_free(d);
    }
}

#[test]
fn messages_for_every_code() {
    // SAFETY: every pointer passed to the C ABI here is NULL (which each
    // function documents and refuses) or points to live memory of the
    // stated length, and every handle is used only between its open and
    // its single free: the contract of each `# Safety` section.
    unsafe {
        for r in result::ALL {
            let mut buf = [0i8; 256];
            let n = ava3_result_message(r as u32, buf.as_mut_ptr().cast(), buf.len());
            assert!(n > 0 && n < 256);
            assert_eq!(buf[n], 0);
        }
        let mut buf = [1i8; 4];
        assert!(ava3_result_message(9999, buf.as_mut_ptr().cast(), 4) > 3);
        assert_eq!(buf[3], 0);
    }
}
