//! The `FILE*` of `ava3_decoder_fopen`: stdio callbacks over a
//! [`FileCookie`] (glibc's `fopencookie`, bionic's and Apple's `funopen`),
//! the cookie's stdio buffer handed to `setvbuf`, and `errno` for a block
//! that fails authentication. Each unsafe block states why it is sound.
#![allow(unsafe_code)]

use std::ffi::{c_char, c_int, c_void};

use crate::boundary::boundary;
use crate::handle::FileCookie;
use crate::ptr::{bytes_mut, free_box};

fn cookie<'a>(c: *mut c_void) -> Option<&'a mut FileCookie> {
    // SAFETY: stdio passes back the cookie given to fopencookie/funopen,
    // a live `Box<FileCookie>` until the close callback; stdio calls the
    // callbacks of one FILE serially (under its lock).
    unsafe { c.cast::<FileCookie>().as_mut() }
}

/// Sets this thread's `errno`, which stdio reports after a failed callback.
/// Each C library names its accessor differently: glibc and musl
/// `__errno_location`, bionic `__errno`, Apple `__error`.
#[cfg(target_os = "linux")]
fn set_errno(e: c_int) {
    // SAFETY: __errno_location returns this thread's errno, always writable.
    unsafe { *libc::__errno_location() = e };
}

#[cfg(target_os = "android")]
fn set_errno(e: c_int) {
    // SAFETY: bionic's __errno returns this thread's errno, always writable.
    unsafe { *libc::__errno() = e };
}

#[cfg(target_vendor = "apple")]
fn set_errno(e: c_int) {
    // SAFETY: __error returns this thread's errno, always writable.
    unsafe { *libc::__error() = e };
}

#[cfg(not(any(target_os = "linux", target_os = "android", target_vendor = "apple")))]
fn set_errno(_e: c_int) {}

fn read_into(c: *mut c_void, buf: *mut c_char, size: usize) -> isize {
    boundary(|| {
        let Some(ck) = cookie(c) else { return -1 };
        let Ok(out) = bytes_mut(buf.cast::<u8>(), size) else {
            return -1;
        };
        match ck.read(out) {
            Ok(n) => n as isize,
            Err(e) => {
                out.fill(0);
                set_errno(if e.is_bad_file() {
                    libc::EBADMSG
                } else {
                    libc::EIO
                });
                -1
            }
        }
    })
}

/// After fopencookie/funopen: frees the cookie if no FILE was made, else
/// hands the cookie's stdio buffer to `setvbuf`. Returns `file`.
#[cfg(any(
    all(target_os = "linux", target_env = "gnu"),
    target_os = "android",
    target_vendor = "apple"
))]
fn attach_cookie(file: *mut libc::FILE, raw: *mut FileCookie) -> *mut libc::FILE {
    if file.is_null() {
        free_box(raw);
        return file;
    }
    // SAFETY: `raw` is the live cookie the FILE now owns; it is freed only
    // by the close callback, which cannot run before the caller has `file`.
    let buf = unsafe { &mut (*raw).stdio_buffer };
    if !buf.is_empty() {
        // SAFETY: the buffer lives in the cookie until the close callback,
        // the last thing stdio does with the FILE; `file` is unused so far.
        unsafe {
            libc::setvbuf(
                file,
                buf.as_mut_ptr().cast::<c_char>(),
                libc::_IOFBF,
                buf.len(),
            )
        };
    }
    file
}

fn close_cookie(c: *mut c_void) -> c_int {
    boundary(|| {
        free_box(c.cast::<FileCookie>());
        0
    })
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
mod hooks {
    use super::*;

    /// glibc's `cookie_io_functions_t` (`<stdio.h>`, _GNU_SOURCE).
    #[repr(C)]
    struct CookieIoFunctions {
        read: Option<extern "C" fn(*mut c_void, *mut c_char, usize) -> isize>,
        write: Option<extern "C" fn(*mut c_void, *const c_char, usize) -> isize>,
        seek: Option<extern "C" fn(*mut c_void, *mut i64, c_int) -> c_int>,
        close: Option<extern "C" fn(*mut c_void) -> c_int>,
    }

    extern "C" {
        fn fopencookie(
            cookie: *mut c_void,
            mode: *const c_char,
            funcs: CookieIoFunctions,
        ) -> *mut libc::FILE;
    }

    extern "C" fn read_fn(c: *mut c_void, buf: *mut c_char, size: usize) -> isize {
        read_into(c, buf, size)
    }

    extern "C" fn seek_fn(c: *mut c_void, pos: *mut i64, whence: c_int) -> c_int {
        boundary(|| {
            let Some(ck) = cookie(c) else { return -1 };
            if pos.is_null() {
                return -1;
            }
            // SAFETY: glibc passes a valid pointer to the requested offset.
            let off = unsafe { *pos };
            match ck.seek(off, whence) {
                Some(new) => {
                    // SAFETY: as above; glibc reads the new offset back.
                    unsafe { *pos = new as i64 };
                    0
                }
                None => {
                    set_errno(libc::EINVAL);
                    -1
                }
            }
        })
    }

    extern "C" fn close_fn(c: *mut c_void) -> c_int {
        close_cookie(c)
    }

    /// Opens a read-only FILE* over the cookie, with its stdio buffer.
    pub(crate) fn open(ck: Box<FileCookie>) -> *mut libc::FILE {
        let funcs = CookieIoFunctions {
            read: Some(read_fn),
            write: None,
            seek: Some(seek_fn),
            close: Some(close_fn),
        };
        let raw = Box::into_raw(ck);
        // SAFETY: `raw` is a live cookie owned by the FILE from here on
        // (freed by close_fn); the mode string is a valid C string.
        let file = unsafe { fopencookie(raw.cast::<c_void>(), c"rb".as_ptr(), funcs) };
        attach_cookie(file, raw)
    }
}

#[cfg(any(target_os = "android", target_vendor = "apple"))]
mod hooks {
    //! bionic and Apple libc: `funopen`, in every bionic API level
    //! (`fopencookie` came to bionic only with API 32). Compiled for the
    //! Android and iOS targets by `tests/device.sh`; run on devices only.
    use super::*;

    extern "C" {
        fn funopen(
            cookie: *const c_void,
            readfn: Option<extern "C" fn(*mut c_void, *mut c_char, c_int) -> c_int>,
            writefn: Option<extern "C" fn(*mut c_void, *const c_char, c_int) -> c_int>,
            seekfn: Option<extern "C" fn(*mut c_void, libc::off_t, c_int) -> libc::off_t>,
            closefn: Option<extern "C" fn(*mut c_void) -> c_int>,
        ) -> *mut libc::FILE;
    }

    extern "C" fn read_fn(c: *mut c_void, buf: *mut c_char, size: c_int) -> c_int {
        read_into(c, buf, size.max(0) as usize) as c_int
    }

    /// `fpos_t` is `off_t`: 64 bits on Apple and on 64-bit Android, 32 on
    /// 32-bit Android (armv7), where a position past 2 GiB - 1 fails with
    /// EOVERFLOW rather than wrapping (`funopen64` needs API 24).
    extern "C" fn seek_fn(c: *mut c_void, off: libc::off_t, whence: c_int) -> libc::off_t {
        boundary(|| {
            #[allow(clippy::useless_conversion)] // i32 -> i64 on 32-bit Android
            let off = i64::from(off);
            let Some(new) = cookie(c).and_then(|ck| ck.seek(off, whence)) else {
                set_errno(libc::EINVAL);
                return -1;
            };
            libc::off_t::try_from(new).unwrap_or_else(|_| {
                set_errno(libc::EOVERFLOW);
                -1
            })
        })
    }

    extern "C" fn close_fn(c: *mut c_void) -> c_int {
        close_cookie(c)
    }

    pub(crate) fn open(ck: Box<FileCookie>) -> *mut libc::FILE {
        let raw = Box::into_raw(ck);
        // SAFETY: as in the glibc version: the FILE owns the cookie.
        let file = unsafe {
            funopen(
                raw.cast::<c_void>(),
                Some(read_fn),
                None,
                Some(seek_fn),
                Some(close_fn),
            )
        };
        attach_cookie(file, raw)
    }
}

/// Opens the `FILE*`, or NULL where no stdio hook exists.
pub(crate) fn open_file(ck: Box<FileCookie>) -> *mut libc::FILE {
    #[cfg(any(
        all(target_os = "linux", target_env = "gnu"),
        target_os = "android",
        target_vendor = "apple"
    ))]
    {
        hooks::open(ck)
    }
    #[cfg(not(any(
        all(target_os = "linux", target_env = "gnu"),
        target_os = "android",
        target_vendor = "apple"
    )))]
    {
        drop(ck);
        std::ptr::null_mut()
    }
}
