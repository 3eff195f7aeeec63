//! Whole-file streaming decode of arbitrary bytes under the vector key.
//! Released plaintext comes in whole blocks, never beyond the announced
//! length; a file that decodes completely is exactly what an honest encoder
//! writes for that plaintext with that salt (so no byte of it was forged).
#![no_main]

use std::io::{Read, Write};

use ava3_format::{DecodeOptions, Decoder, EncodeOptions, Encoder, Error};
use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let key = common::key();
    let opts = DecodeOptions { parallel: data.len() % 2 == 0 };
    let mut d = match Decoder::with_options(data, std::slice::from_ref(&key), &opts) {
        Ok(d) => d,
        Err(e) => return common::assert_documented(&e),
    };
    let header = d.header().clone();
    let bs = header.block_size() as usize;
    let mut out = Vec::new();
    let mut buf = vec![0u8; 50_000];
    let result = loop {
        match d.read(&mut buf) {
            Ok(0) => break Ok(()),
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(e) => break Err(Error::from_io(e)),
        }
    };
    assert!(out.len() as u64 <= header.plaintext_len());
    match result {
        Err(e) => {
            common::assert_documented(&e);
            // Released plaintext ends on a block boundary, or is all of it
            // (when a trailer check fails after the final short block).
            assert!(
                out.len() % bs == 0 || out.len() as u64 == header.plaintext_len(),
                "a failed decode releases whole blocks only"
            );
        }
        Ok(()) => {
            assert_eq!(out.len() as u64, header.plaintext_len());
            let eo = EncodeOptions {
                block_size: header.block_size(),
                payload_kind: header.payload_kind(),
                threads: 1,
                ..Default::default()
            };
            let mut enc = Encoder::new_with_salt_for_test_vectors(
                Vec::new(),
                &key,
                out.len() as u64,
                &eo,
                *header.salt(),
            )
            .unwrap();
            enc.write_all(&out).unwrap();
            let (again, _) = enc.finish().unwrap();
            assert_eq!(again, data, "a decodable file is an honest encoding");
        }
    }
});
