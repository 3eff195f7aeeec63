//! Random-access reads at arbitrary offsets and lengths over arbitrary
//! bytes: any range served equals the same slice of a full decode.
#![no_main]

use ava3_format::RandomAccessReader;
use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

fuzz_target!(|input: &[u8]| {
    if input.len() < 12 {
        return;
    }
    let offset = u64::from_le_bytes(input[..8].try_into().unwrap());
    let len = u32::from_le_bytes(input[8..12].try_into().unwrap()) as usize % (1 << 20);
    let file = &input[12..];
    let r = match RandomAccessReader::open(file, &[&common::key()], &ava3_format::Policy::NONE) {
        Ok(r) => r,
        Err(e) => return common::assert_documented(&e),
    };
    let size = r.len();
    let offset = if size == 0 { offset } else { offset % (size + 10) };
    let mut buf = vec![0u8; len];
    match r.read_at(&mut buf, offset) {
        Ok(n) => {
            let expected = size.saturating_sub(offset).min(len as u64) as usize;
            assert_eq!(n, expected);
            if n > 0 && size <= (16 << 20) {
                // Other blocks may be bad; the range read must match
                // whenever the whole file decodes.
                let mut all = vec![0u8; size as usize];
                if r.decode_all_into(&mut all).is_ok() {
                    assert_eq!(&buf[..n], &all[offset as usize..offset as usize + n]);
                }
            }
        }
        Err(e) => common::assert_documented(&e),
    }
});
