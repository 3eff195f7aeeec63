//! Keyless verification of arbitrary bytes: never panics; success means the
//! structure fits the input exactly; errors are documented kinds.
#![no_main]

use ava3_format::{Check, DecodeOptions, Sealed};
use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let mut input = data;
    let opts = DecodeOptions { parallel: false };
    match Sealed::read(&mut input).and_then(|s| s.verify(input, &Check::KEYLESS, &opts)) {
        Ok(report) => assert_eq!(report.layout().file_len(), data.len() as u64),
        Err(e) => common::assert_documented(&e),
    }
});
