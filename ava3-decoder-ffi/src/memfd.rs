//! The sealed anonymous memory file of `ava3_decoder_decode_to_memfd`
//! (Linux and Android): creation, a shared mapping to decode into, the
//! seals and the read-only descriptor handed out. Each unsafe block states
//! why it is sound.
#![allow(unsafe_code)]

use std::ffi::{c_int, c_void};
use std::fs::File;
use std::io;

use ava3_format::{Error, RandomAccessReader, ReadAt};

/// Decodes the whole plaintext of `reader` into a new memfd, on all cores
/// straight into its pages, seals it against every change and returns the
/// descriptor to hand out (read-only wherever `/proc` allows it: see `seal_read_only` for
/// why). The Rust side of `ava3_decoder_decode_to_memfd`,
/// and of the Python package's `Reader.to_memfd`. On failure the memfd is
/// wiped and closed.
pub fn decode_to_memfd<S: ReadAt + Sync>(reader: &RandomAccessReader<S>) -> Result<File, Error> {
    let size = reader.len();
    let len = usize::try_from(size)
        .map_err(|_| Error::InvalidParameter("the plaintext does not fit in memory"))?;
    let file = memfd()?;
    file.set_len(size)?;
    {
        let mut map = Mapping::new(&file, len)?;
        reader.decode_all_into(map.as_mut_slice())?;
    }
    Ok(seal_read_only(file)?)
}

/// A sealed-able anonymous memory file.
fn memfd() -> io::Result<File> {
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
fn seal_read_only(file: File) -> io::Result<File> {
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
struct Mapping {
    ptr: *mut c_void,
    len: usize,
}

impl Mapping {
    fn new(file: &File, len: usize) -> io::Result<Self> {
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

    fn as_mut_slice(&mut self) -> &mut [u8] {
        if self.ptr.is_null() {
            return &mut [];
        }
        // SAFETY: a live private-to-us mapping of `len` writable bytes; the
        // memfd has no other user until it is returned.
        unsafe { std::slice::from_raw_parts_mut(self.ptr.cast::<u8>(), self.len) }
    }
}

impl Drop for Mapping {
    fn drop(&mut self) {
        if !self.ptr.is_null() {
            // SAFETY: unmapping exactly the mapping made in `new`.
            unsafe { libc::munmap(self.ptr, self.len) };
        }
    }
}

/// Gives a descriptor to C.
pub(crate) fn into_raw_fd(file: File) -> c_int {
    use std::os::fd::IntoRawFd;
    file.into_raw_fd()
}
