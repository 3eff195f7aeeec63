//! Header parsing: parse, re-serialize, compare. A header that parses is
//! canonical: serializing it gives back the same 128 bytes.
#![no_main]

use ava3_format::header::{Header, HEADER_LEN};
use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    match Header::parse(data) {
        Ok(h) => {
            let bytes = h.to_bytes();
            assert_eq!(&bytes[..], &data[..HEADER_LEN]);
            assert_eq!(Header::parse(&bytes).unwrap(), h);
            let layout = h.layout().unwrap();
            assert!(layout.file_len() <= ava3_format::header::MAX_FILE_LEN);
            assert!(layout.block_count() >= 1);
        }
        Err(e) => common::assert_documented(&e),
    }
});
