//! Header parsing, through the public entry point (`Sealed::read`): a header
//! that parses says exactly what its bytes say (spec 3.1, read here from
//! the bytes themselves; version 1, or version 2 with its records and
//! signature count), describes a file of at most 2^63 - 1 bytes, and every
//! rejection is a documented outcome.
#![no_main]

use ava3_format::Sealed;
use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    match Sealed::read(&mut &data[..]) {
        Ok(sealed) => {
            let h = sealed.header();
            let le32 = |o: usize| u32::from_le_bytes(data[o..o + 4].try_into().unwrap());
            let le64 = |o: usize| u64::from_le_bytes(data[o..o + 8].try_into().unwrap());
            assert_eq!(&data[..8], b"\x89AVA3\r\n\x1a");
            let v2 = h.version() == 2;
            assert!(v2 || h.version() == 1);
            let header_len = usize::from(u16::from_le_bytes([data[10], data[11]]));
            assert_eq!(h.layout().header_len() as usize, header_len);
            assert!(if v2 {
                (128..=397).contains(&header_len)
            } else {
                header_len == 128
            });
            // Version 2 carries a record or a signature (spec 3.6).
            assert!(!v2 || header_len > 128 || h.signature_count() > 0);
            assert_eq!(h.signature_count(), if v2 { data[21] } else { 0 });
            assert!(h.signature_count() <= 16);
            if let Some(n) = &h.metadata().name {
                assert!(!n.is_empty() && n.len() <= 255);
            }
            assert_eq!(h.block_size(), le32(16));
            assert_eq!(u32::from(h.payload_kind().code()), u32::from(data[20]));
            assert_eq!(h.plaintext_len(), le64(24));
            assert_eq!(h.salt()[..], data[32..64]);
            assert_eq!(h.key_id().as_bytes()[..], data[64..80]);
            assert_eq!(le32(12), 0, "no flag in versions 1 and 2");
            let reserved = if v2 { 22 } else { 21 };
            assert!(data[reserved..24]
                .iter()
                .chain(&data[80..96])
                .all(|&b| b == 0));
            let layout = h.layout();
            assert!(layout.file_len() <= (1 << 63) - 1);
            assert!(layout.block_count() >= 1);
        }
        Err(e) => common::assert_documented(&e),
    }
});
