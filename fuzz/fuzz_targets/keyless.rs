//! Keyless verification of arbitrary bytes: never panics; success means the
//! structure fits the input exactly; errors are documented kinds.
#![no_main]

use ava3_format::{verify_keyless, DecodeOptions};
use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    match verify_keyless(data, &DecodeOptions { parallel: false }) {
        Ok(report) => assert_eq!(report.layout().file_len(), data.len() as u64),
        Err(e) => common::assert_documented(&e),
    }
});
