//! The C ABI driven from Rust over arbitrary bytes: open_buffer, set_key,
//! decode_aligned, read_at and stream agree with the core, return only
//! documented codes, and never panic across the boundary.

// The exports are `unsafe extern "C" fn`s: these tests call them as C does.
#![allow(unsafe_code)]
#![no_main]

use std::ptr::null_mut;

use ava3_decoder::*;
use ava3_format::RandomAccessReader;
use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

extern "C" fn count(user: *mut std::ffi::c_void, _off: u64, _d: *const u8, len: usize) -> i32 {
    let total = user.cast::<usize>();
    // SAFETY: `user` is the `&mut usize` this target passes to
    // ava3_decoder_stream, live for the whole call.
    if let Some(t) = unsafe { total.as_mut() } {
        *t += len;
    }
    0
}

fuzz_target!(|data: &[u8]| {
    // SAFETY: every pointer passed is NULL or live memory of the stated
    // length, and the decoder is used only between its open and its free.
    unsafe { check(data) }
});

unsafe fn check(data: &[u8]) {
    let key: Vec<u8> = (0u8..32).collect();
    let mut d = null_mut();
    let r = ava3_decoder_open_buffer(data.as_ptr(), data.len(), &mut d);
    assert_ne!(r, Ava3Result::Panic);
    if r != Ava3Result::Ok {
        assert!(d.is_null());
        return;
    }
    let r = ava3_decoder_set_key(d, key.as_ptr(), 32);
    let core = RandomAccessReader::open(data, &[&common::key()], &ava3_format::Policy::NONE);
    assert_eq!(r == Ava3Result::Ok, core.is_ok());
    if r == Ava3Result::Ok {
        let core = core.unwrap();
        let mut b = null_mut();
        let r = ava3_decoder_decode_aligned(d, &mut b);
        let mut all = vec![0u8; core.len() as usize];
        let cr = core.decode_all_into(&mut all);
        assert_eq!(r == Ava3Result::Ok, cr.is_ok());
        if r == Ava3Result::Ok {
            assert_eq!(ava3_buffer_len(b), all.len());
        }
        ava3_buffer_free(b);
        let mut n = 0usize;
        let mut buf = vec![0u8; 4096];
        let r = ava3_decoder_read_at(d, 100, buf.as_mut_ptr(), buf.len(), &mut n);
        assert_ne!(r, Ava3Result::Panic);
        let mut total = 0usize;
        let r = ava3_decoder_stream(d, Some(count), (&mut total as *mut usize).cast());
        assert_ne!(r, Ava3Result::Panic);
        if r == Ava3Result::Ok {
            assert_eq!(total as u64, core.len());
        }
    }
    ava3_decoder_free(d);
}
