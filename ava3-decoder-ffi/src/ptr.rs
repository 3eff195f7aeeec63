//! Every unsafe operation of the crate: raw pointers from C, handle boxes,
//! borrowed caller memory, file descriptors, `memfd` and the `FILE*`
//! adapter. Each unsafe block states why it is sound. The contract each C
//! caller must keep (valid, aligned, live pointers of the stated length) is
//! written in `include/ava3.h` next to every function.
#![allow(unsafe_code)]

use std::ffi::{c_char, c_int, c_void, CStr};
use std::fs::File;
use std::io;

use crate::result::Ava3Result;

/// A NULL-checked shared reference from a C pointer.
pub(crate) fn as_ref<'a, T>(p: *const T) -> Result<&'a T, Ava3Result> {
    // SAFETY: the C contract says a non-NULL pointer points to a live,
    // aligned `T` (a handle this library returned and has not freed).
    unsafe { p.as_ref() }.ok_or(Ava3Result::NullParameter)
}

/// A NULL-checked exclusive reference from a C pointer.
pub(crate) fn as_mut<'a, T>(p: *mut T) -> Result<&'a mut T, Ava3Result> {
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

/// Takes back a handle made by `Box::into_raw`; NULL is a no-op.
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

/// A sealed-able anonymous memory file (Linux, Android).
#[cfg(any(target_os = "linux", target_os = "android"))]
pub(crate) fn memfd() -> io::Result<File> {
    use std::os::fd::FromRawFd;
    let name = c"ava3-model";
    // SAFETY: `name` is a valid C string; memfd_create has no other inputs.
    let fd = unsafe {
        libc::syscall(
            libc::SYS_memfd_create,
            name.as_ptr(),
            libc::MFD_CLOEXEC | libc::MFD_ALLOW_SEALING,
        )
    };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: the syscall returned a new descriptor that nothing else owns.
    Ok(unsafe { File::from_raw_fd(fd as c_int) })
}

/// Seals a memfd against every change and returns the descriptor to hand
/// out: a read-only one wherever `/proc` allows it.
///
/// Why read-only: before Linux 6.7 (every Android GKI kernel in the field:
/// 5.10, 5.15, 6.1, 6.6), `mmap(PROT_READ, MAP_SHARED)` of a memfd sealed
/// with `F_SEAL_WRITE` fails with EPERM when the descriptor was opened for
/// writing, as `memfd_create`'s is; LiteRT's `LiteRtCreateModelFromFd` and
/// llama.cpp's mmap loader map exactly so. A descriptor reopened read-only
/// through `/proc/self/fd` maps on every kernel, and cannot write either.
/// Without `/proc` (a sandbox), the writable descriptor is sealed with
/// `F_SEAL_FUTURE_WRITE` (Linux 5.1+) instead, which old kernels also let a
/// reader map read-only and shared; plain `F_SEAL_WRITE` on older kernels.
#[cfg(any(target_os = "linux", target_os = "android"))]
pub(crate) fn seal_read_only(file: File) -> io::Result<File> {
    use std::os::fd::AsRawFd;
    let rest = libc::F_SEAL_GROW | libc::F_SEAL_SHRINK | libc::F_SEAL_SEAL;
    let add_seals = |seals: c_int| {
        // SAFETY: fcntl on a descriptor we own, with integer arguments only.
        let r = unsafe { libc::fcntl(file.as_raw_fd(), libc::F_ADD_SEALS, seals) };
        if r < 0 {
            Err(io::Error::last_os_error())
        } else {
            Ok(())
        }
    };
    // Reopened before sealing: sealing needs the writable descriptor, and
    // the seals belong to the memory, so they hold for the new one too.
    let path = format!("/proc/self/fd/{}", file.as_raw_fd());
    match File::open(&path) {
        Ok(read_only) => {
            add_seals(libc::F_SEAL_WRITE | rest)?;
            Ok(read_only)
        }
        Err(_) => {
            match add_seals(libc::F_SEAL_FUTURE_WRITE | rest) {
                Err(e) if e.raw_os_error() == Some(libc::EINVAL) => {
                    add_seals(libc::F_SEAL_WRITE | rest)?
                }
                other => other?,
            }
            Ok(file)
        }
    }
}

/// A shared writable mapping of the first `len` bytes of `file`, unmapped
/// on drop.
#[cfg(any(target_os = "linux", target_os = "android"))]
pub(crate) struct Mapping {
    ptr: *mut c_void,
    len: usize,
}

#[cfg(any(target_os = "linux", target_os = "android"))]
impl Mapping {
    pub(crate) fn new(file: &File, len: usize) -> io::Result<Self> {
        use std::os::fd::AsRawFd;
        if len == 0 {
            return Ok(Self {
                ptr: std::ptr::null_mut(),
                len,
            });
        }
        // SAFETY: mapping a descriptor we own, `len` bytes that the file has
        // (the caller sized it); the kernel picks the address.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED,
                file.as_raw_fd(),
                0,
            )
        };
        if ptr == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        Ok(Self { ptr, len })
    }

    pub(crate) fn as_mut_slice(&mut self) -> &mut [u8] {
        if self.ptr.is_null() {
            return &mut [];
        }
        // SAFETY: a live private-to-us mapping of `len` writable bytes; the
        // memfd has no other user until it is returned.
        unsafe { std::slice::from_raw_parts_mut(self.ptr.cast::<u8>(), self.len) }
    }
}

#[cfg(any(target_os = "linux", target_os = "android"))]
impl Drop for Mapping {
    fn drop(&mut self) {
        if !self.ptr.is_null() {
            // SAFETY: unmapping exactly the mapping made in `new`.
            unsafe { libc::munmap(self.ptr, self.len) };
        }
    }
}

/// Gives a descriptor to C.
#[cfg(any(target_os = "linux", target_os = "android"))]
pub(crate) fn into_raw_fd(file: File) -> c_int {
    use std::os::fd::IntoRawFd;
    file.into_raw_fd()
}

// ---- FILE* adapter -------------------------------------------------------

use crate::handle::FileCookie;

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
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
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
    }));
    result.unwrap_or(-1)
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
    free_box(c.cast::<FileCookie>());
    0
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
mod stdio {
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
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
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
        }));
        r.unwrap_or(-1)
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
mod stdio {
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
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
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
        }));
        r.unwrap_or(-1)
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
        stdio::open(ck)
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
