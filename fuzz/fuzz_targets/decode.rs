//! Whole-file streaming decode of arbitrary bytes under the vector key.
//! Released plaintext comes in whole blocks, never beyond the announced
//! length; a file that decodes completely is exactly what an honest encoder
//! writes for that plaintext with that salt, name and version, up to its
//! signature section (so no byte of it was forged; the signatures are only
//! checked under a trusted key, which this target does not give).
#![no_main]

use std::io::{Read, Write};

use ava3_format::{
    Check, DecodeOptions, Decoder, EncodeOptions, Encoder, Error, Outcome, Policy, Sealed,
    SigningKey,
};
use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let key = common::key();
    let opts = DecodeOptions {
        parallel: data.len() % 2 == 0,
    };
    let mut d = match Decoder::open(data, &[&key], &ava3_format::Policy::NONE, &opts) {
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
            // A streaming decode does not compare the plaintext with the
            // recorded digest D; deep verification does (spec 7.3 step 7).
            // A key holder can re-seal a block under the file's own salt
            // (vector forged_block_keyless_recomputed): such a file decodes,
            // is refused by deep verification, and by a required signature.
            let check = Check {
                keys: &[&key],
                policy: &Policy::NONE,
                deep: true,
            };
            let mut input = data;
            match Sealed::read(&mut input).and_then(|s| s.verify(input, &check, &opts)) {
                Ok(_) => {}
                Err(e) if e.outcome() == Outcome::IntegrityFailure => return,
                Err(e) => panic!("a file that decodes fails deep verification: {e}"),
            }
            // The same header needs the same records and signature count;
            // the signatures are not checked without a trusted key, so any
            // signer of that count gives the bytes before the section.
            let eo = EncodeOptions {
                block_size: header.block_size(),
                payload_kind: header.payload_kind(),
                threads: 1,
                metadata: header.metadata().clone(),
                signers: (0..header.signature_count())
                    .map(|i| std::sync::Arc::new(SigningKey::from_seed(&[i; 32])))
                    .collect(),
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
            let end = header.layout().signatures_offset() as usize;
            assert_eq!(again.len(), data.len());
            assert_eq!(
                again[..end],
                data[..end],
                "a decodable file is an honest encoding"
            );
            if header.signature_count() > 0 {
                assert_eq!(&data[end..end + 8], b"AVA3-SIG");
            }
        }
    }
});
