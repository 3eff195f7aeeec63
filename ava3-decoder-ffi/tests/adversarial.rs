//! The adversarial corpus of `ava3_testkit::corpus` (`tests/testkit/`)
//! through the C ABI: every entry point refuses every mutation with a
//! documented code, writes no output on failure and wipes the caller's
//! buffer.

// The exports are `unsafe extern "C" fn`s: these tests call them as C does.
#![allow(unsafe_code)]

use std::ptr::null_mut;

use ava3_decoder::*;
use ava3_testkit::corpus;

const KEY: [u8; 32] = [0x42; 32];

#[test]
fn the_c_abi_refuses_every_mutation() {
    // SAFETY: every pointer passed to the C ABI here is NULL (which each
    // function documents and refuses) or points to live memory of the
    // stated length, and every handle is used only between its open and
    // its single free: the contract of each `# Safety` section.
    unsafe {
        let cases = corpus::corpus();
        let mut codes = std::collections::BTreeSet::new();
        for corpus::Case(name, bytes) in &cases {
            let keyless_only = name.starts_with("keyless digest");
            let mut d = null_mut();
            let mut r = ava3_decoder_open_buffer(bytes.as_ptr(), bytes.len(), &mut d);
            if r == Ava3Result::Ok {
                r = ava3_decoder_set_key(d, KEY.as_ptr(), 32);
            }
            let mut buf = null_mut();
            if r == Ava3Result::Ok {
                r = ava3_decoder_decode_aligned(d, &mut buf);
            }
            if keyless_only {
                assert_eq!(r, Ava3Result::Ok, "{name}");
            } else {
                assert!(
                    !matches!(
                        r,
                        Ava3Result::Ok | Ava3Result::Panic | Ava3Result::NullParameter
                    ),
                    "{name}: {r:?}"
                );
                assert!(buf.is_null(), "{name}: an output on failure");
                codes.insert(r as u32);
            }
            ava3_buffer_free(buf);
            // read_at over everything: on failure the buffer is wiped and no
            // count is reported.
            let mut size = 0u64;
            if ava3_decoder_plaintext_size(d, &mut size) == Ava3Result::Ok {
                let mut out = vec![0xEEu8; size as usize];
                let mut n = usize::MAX;
                let r = ava3_decoder_read_at(d, 0, out.as_mut_ptr(), out.len(), &mut n);
                if r != Ava3Result::Ok {
                    assert_eq!(n, usize::MAX, "{name}");
                    assert!(out.iter().all(|&b| b == 0), "{name}: buffer not wiped");
                }
            }
            ava3_decoder_free(d);
        }
        for code in [
            Ava3Result::NotAva3,
            Ava3Result::UnsupportedVersion,
            Ava3Result::HeaderFailure,
            Ava3Result::BlockFailure,
            Ava3Result::Truncated,
            Ava3Result::TrailerFailure,
            Ava3Result::TrailingData,
            Ava3Result::WrongKey,
        ] {
            assert!(codes.contains(&(code as u32)), "no case gave {code:?}");
        }
    }
}
