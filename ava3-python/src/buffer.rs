//! The unsafe corner of the Python package, and all of it: Python's buffer
//! protocol (decoded bytes written straight into a caller's `bytearray`,
//! `memoryview`, `mmap` or numpy array, and a bytes-like source read in
//! place) and a caller's file descriptor borrowed just long enough to
//! duplicate it. Each unsafe block states why it is sound.
//!
//! PyO3's own buffer wrapper exists only for the stable ABI of CPython 3.11
//! and later; the wheel is built for the stable ABI of 3.9, so the two
//! functions are declared here. `PyObject_GetBuffer` and `PyBuffer_Release`
//! are exported by every CPython 3 (and part of the stable ABI from 3.11),
//! and `Py_buffer`'s layout has not changed since Python 3.3.
#![allow(unsafe_code)]

use std::ffi::{c_char, c_int, c_void};
use std::mem::MaybeUninit;
use std::os::fd::{BorrowedFd, OwnedFd};

use pyo3::ffi::{PyObject, Py_ssize_t};
use pyo3::prelude::*;

/// `Py_buffer` (Include/pybuffer.h).
#[repr(C)]
struct RawBuffer {
    buf: *mut c_void,
    obj: *mut PyObject,
    len: Py_ssize_t,
    itemsize: Py_ssize_t,
    readonly: c_int,
    ndim: c_int,
    format: *mut c_char,
    shape: *mut Py_ssize_t,
    strides: *mut Py_ssize_t,
    suboffsets: *mut Py_ssize_t,
    internal: *mut c_void,
}

extern "C" {
    fn PyObject_GetBuffer(obj: *mut PyObject, view: *mut RawBuffer, flags: c_int) -> c_int;
    fn PyBuffer_Release(view: *mut RawBuffer);
}

/// `PyBUF_SIMPLE`: contiguous bytes, no shape.
const PYBUF_SIMPLE: c_int = 0;
/// `PyBUF_WRITABLE`.
const PYBUF_WRITABLE: c_int = 0x0001;

/// A buffer exported by a Python object: its memory stays where it is and
/// the object alive (a `bytearray` refuses to resize) until this is
/// dropped.
pub struct Exported {
    raw: RawBuffer,
}

// SAFETY: the export is a pointer, a length and a reference to the owner,
// valid from any thread until released; it is released with the GIL held
// (`Drop`). The memory is read (a source) or written (a destination) by
// Rust while the GIL is released, as `io.FileIO.readinto` does: a Python
// thread that changes the same object at the same time gets torn bytes (a
// source then fails authentication), never a dangling pointer, because the
// export keeps the memory in place.
unsafe impl Send for Exported {}
// SAFETY: as above; through `&Exported` the memory is only read.
unsafe impl Sync for Exported {}

impl Exported {
    fn get(obj: &Bound<'_, PyAny>, flags: c_int) -> PyResult<Self> {
        let mut raw = MaybeUninit::<RawBuffer>::zeroed();
        // SAFETY: `obj` is a live object (the GIL is held and `obj` holds
        // a reference); `raw` is writable storage with Py_buffer's layout,
        // which the call fills on success.
        let r = unsafe { PyObject_GetBuffer(obj.as_ptr(), raw.as_mut_ptr(), flags) };
        if r != 0 {
            return Err(PyErr::fetch(obj.py()));
        }
        // SAFETY: a successful call filled the struct.
        let raw = unsafe { raw.assume_init() };
        Ok(Self { raw })
    }

    /// A writable, contiguous buffer (`bytearray`, a writable
    /// `memoryview`, `mmap`, a C-contiguous numpy array), or the
    /// exporter's `BufferError` / `TypeError`.
    pub fn writable(obj: &Bound<'_, PyAny>) -> PyResult<Self> {
        Self::get(obj, PYBUF_SIMPLE | PYBUF_WRITABLE)
    }

    /// A contiguous buffer to read (`bytes`, `bytearray`, `memoryview`,
    /// `mmap`, a numpy array).
    pub fn readable(obj: &Bound<'_, PyAny>) -> PyResult<Self> {
        Self::get(obj, PYBUF_SIMPLE)
    }

    pub fn len(&self) -> usize {
        usize::try_from(self.raw.len).unwrap_or(0)
    }

    pub fn as_slice(&self) -> &[u8] {
        if self.raw.buf.is_null() || self.len() == 0 {
            return &[];
        }
        // SAFETY: a contiguous export of `len` bytes at `buf`, kept in
        // place until `self` is dropped (see the `Send` note).
        unsafe { std::slice::from_raw_parts(self.raw.buf.cast::<u8>(), self.len()) }
    }

    /// The bytes, to write (a buffer exported with `writable`).
    pub fn as_mut_slice(&mut self) -> &mut [u8] {
        if self.raw.buf.is_null() || self.len() == 0 || self.raw.readonly != 0 {
            return &mut [];
        }
        // SAFETY: a writable contiguous export of `len` bytes at `buf`,
        // kept in place until `self` is dropped; `&mut self` makes this
        // the only Rust view of it.
        unsafe { std::slice::from_raw_parts_mut(self.raw.buf.cast::<u8>(), self.len()) }
    }
}

impl Drop for Exported {
    fn drop(&mut self) {
        Python::attach(|_py| {
            // SAFETY: releasing, once and with the GIL held, the export
            // made in `get`.
            unsafe { PyBuffer_Release(&mut self.raw) }
        });
    }
}

/// A duplicate of the caller's descriptor `fd`, owned by us: reads by
/// offset through it leave the caller's file position alone.
pub fn duplicate_fd(fd: c_int) -> std::io::Result<OwnedFd> {
    if fd < 0 {
        return Err(std::io::Error::from_raw_os_error(libc_ebadf()));
    }
    // SAFETY: the borrow lives only for the `dup` on the next line, made
    // while the GIL is held and the caller's file object (or its number)
    // is in hand; a number that is not open makes `dup` fail with EBADF.
    let borrowed = unsafe { BorrowedFd::borrow_raw(fd) };
    borrowed.try_clone_to_owned()
}

/// EBADF, the same on Linux, Android, macOS and iOS.
fn libc_ebadf() -> i32 {
    9
}
