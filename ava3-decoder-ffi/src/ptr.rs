//! The C pointers the exports receive, turned into Rust references once
//! checked: the two handles (`Ava3Decoder`, owned by the caller between
//! `open` and `free`; `Ava3Buffer`, owned between `decode_aligned` and
//! `ava3_buffer_free`), borrowed caller memory, strings, output parameters
//! and file descriptors. Each unsafe block states why it is sound; the
//! contract each C caller must keep (valid, aligned, live pointers of the
//! stated length) is in the `# Safety` section of every export and in
//! `include/ava3.h`.
#![allow(unsafe_code)]

use std::ffi::{c_char, c_int, CStr};
use std::fs::File;
use std::io;

use crate::exports::{Ava3Buffer, Ava3Decoder};
use crate::handle::{AlignedBuffer, DecoderState};
use crate::result::Ava3Result;

/// The decoder behind a `const Ava3Decoder *` (shared: calls on it may run
/// concurrently).
pub(crate) fn decoder<'a>(d: *const Ava3Decoder) -> Result<&'a DecoderState, Ava3Result> {
    as_ref(d).map(|d| &d.inner)
}

/// The decoder behind an `Ava3Decoder *` (exclusive for the call).
pub(crate) fn decoder_mut<'a>(d: *mut Ava3Decoder) -> Result<&'a mut DecoderState, Ava3Result> {
    as_mut(d).map(|d| &mut d.inner)
}

/// Hands a new decoder to the caller through `out`, who owns it until
/// `ava3_decoder_free`.
pub(crate) fn give_decoder(
    out: *mut *mut Ava3Decoder,
    inner: DecoderState,
) -> Result<(), Ava3Result> {
    if out.is_null() {
        return Err(Ava3Result::NullParameter);
    }
    write(out, Box::into_raw(Box::new(Ava3Decoder { inner })))
}

/// Takes back and drops (wiping its keys and caches) a decoder from
/// `give_decoder`; NULL is a no-op.
pub(crate) fn free_decoder(d: *mut Ava3Decoder) {
    free_box(d)
}

/// The buffer behind a `const Ava3Buffer *`, or `None` for NULL.
pub(crate) fn buffer<'a>(b: *const Ava3Buffer) -> Option<&'a AlignedBuffer> {
    as_ref(b).ok().map(|b| &b.inner)
}

/// Hands a new buffer to the caller, who owns it until `ava3_buffer_free`.
pub(crate) fn give_buffer(
    out: *mut *mut Ava3Buffer,
    inner: AlignedBuffer,
) -> Result<(), Ava3Result> {
    if out.is_null() {
        return Err(Ava3Result::NullParameter);
    }
    write(out, Box::into_raw(Box::new(Ava3Buffer { inner })))
}

/// Takes back, wipes and drops a buffer from `give_buffer`; NULL is a no-op.
pub(crate) fn free_buffer(b: *mut Ava3Buffer) {
    free_box(b)
}

/// A NULL-checked shared reference from a C pointer.
fn as_ref<'a, T>(p: *const T) -> Result<&'a T, Ava3Result> {
    // SAFETY: the C contract says a non-NULL pointer points to a live,
    // aligned `T` (a handle this library returned and has not freed).
    unsafe { p.as_ref() }.ok_or(Ava3Result::NullParameter)
}

/// A NULL-checked exclusive reference from a C pointer.
fn as_mut<'a, T>(p: *mut T) -> Result<&'a mut T, Ava3Result> {
    // SAFETY: as `as_ref`; the header documents that functions taking a
    // non-const handle must not run concurrently on the same handle.
    unsafe { p.as_mut() }.ok_or(Ava3Result::NullParameter)
}

/// Bytes from a C pointer and length. NULL is allowed only with length 0;
/// no object is larger than `PTRDIFF_MAX`, so a longer length is invalid.
pub(crate) fn bytes<'a>(p: *const u8, len: usize) -> Result<&'a [u8], Ava3Result> {
    if len > isize::MAX as usize {
        return Err(Ava3Result::InvalidParameter);
    }
    if p.is_null() {
        return if len == 0 {
            Ok(&[])
        } else {
            Err(Ava3Result::NullParameter)
        };
    }
    // SAFETY: the C contract says `p` points to `len` readable bytes that
    // stay valid and unmodified for the duration of the call.
    Ok(unsafe { std::slice::from_raw_parts(p, len) })
}

/// A writable buffer from a C pointer and length. NULL only with length 0;
/// longer than `PTRDIFF_MAX` is invalid.
pub(crate) fn bytes_mut<'a>(p: *mut u8, len: usize) -> Result<&'a mut [u8], Ava3Result> {
    if len > isize::MAX as usize {
        return Err(Ava3Result::InvalidParameter);
    }
    if p.is_null() {
        return if len == 0 {
            Ok(&mut [])
        } else {
            Err(Ava3Result::NullParameter)
        };
    }
    // SAFETY: the C contract says `p` points to `len` writable bytes that no
    // one else accesses during the call.
    Ok(unsafe { std::slice::from_raw_parts_mut(p, len) })
}

/// A NUL-terminated string from C.
pub(crate) fn c_str<'a>(p: *const c_char) -> Result<&'a CStr, Ava3Result> {
    if p.is_null() {
        return Err(Ava3Result::NullParameter);
    }
    // SAFETY: the C contract says `p` is a NUL-terminated string valid for
    // the call.
    Ok(unsafe { CStr::from_ptr(p) })
}

/// Writes an output parameter. Callers check NULL first (so that nothing
/// is computed for a call that cannot report its result).
pub(crate) fn write<T>(p: *mut T, value: T) -> Result<(), Ava3Result> {
    if p.is_null() {
        return Err(Ava3Result::NullParameter);
    }
    // SAFETY: non-NULL, and the C contract says it points to writable,
    // aligned storage for a `T`.
    unsafe { p.write(value) };
    Ok(())
}

/// Takes back a box made by `Box::into_raw`; NULL is a no-op.
pub(crate) fn free_box<T>(p: *mut T) {
    if !p.is_null() {
        // SAFETY: `p` came from `Box::into_raw` in this library and the C
        // contract says it is freed once.
        drop(unsafe { Box::from_raw(p) });
    }
}

/// Caller memory the decoder reads from (`ava3_decoder_open_buffer`).
#[derive(Debug)]
pub struct BorrowedBytes {
    ptr: *const u8,
    len: usize,
}

// SAFETY: the bytes are only read, and the C contract says they stay valid
// and unchanged until the decoder and every FILE* made from it are closed,
// from whichever thread.
unsafe impl Send for BorrowedBytes {}
// SAFETY: as above; shared reads of immutable memory are thread-safe.
unsafe impl Sync for BorrowedBytes {}

impl BorrowedBytes {
    pub(crate) fn new(ptr: *const u8, len: usize) -> Result<Self, Ava3Result> {
        if len > isize::MAX as usize {
            return Err(Ava3Result::InvalidParameter);
        }
        if ptr.is_null() && len > 0 {
            return Err(Ava3Result::NullParameter);
        }
        Ok(Self { ptr, len })
    }

    pub(crate) fn as_slice(&self) -> &[u8] {
        if self.ptr.is_null() {
            return &[];
        }
        // SAFETY: see the `Send`/`Sync` impls: valid for the handle's life.
        unsafe { std::slice::from_raw_parts(self.ptr, self.len) }
    }
}

/// A `File` for a duplicate of `fd` (the caller keeps its own).
#[cfg(unix)]
pub(crate) fn dup_fd(fd: c_int) -> io::Result<File> {
    use std::os::fd::{BorrowedFd, OwnedFd};
    if fd < 0 {
        return Err(io::ErrorKind::InvalidInput.into());
    }
    // SAFETY: the C contract says `fd` is an open descriptor for the call;
    // it is only borrowed to duplicate it.
    let borrowed = unsafe { BorrowedFd::borrow_raw(fd) };
    let owned: OwnedFd = borrowed.try_clone_to_owned()?;
    Ok(File::from(owned))
}
