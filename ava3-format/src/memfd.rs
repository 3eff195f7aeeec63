//! The whole plaintext in a sealed anonymous memory file (Linux and
//! Android), for loaders that take only a path or a descriptor: MediaPipe's
//! `setModelPath("/proc/self/fd/N")`, tvm4j's `loadFromFile`, LiteRT's
//! `LiteRtCreateModelFromFd`, llama.cpp's mmap loader. Safe code only:
//! rustix makes the system calls, and the plaintext reaches the memory file
//! through positioned writes of whole decoded chunks.

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;

use rayon::prelude::*;
use rustix::fs::{fcntl_add_seals, memfd_create, MemfdFlags, SealFlags};
use zeroize::Zeroizing;

use crate::error::{Error, Result};
use crate::io::ReadAt;
use crate::random_access::RandomAccessReader;

/// The plaintext decoded per task: whole blocks, about 4 MiB.
const CHUNK: u64 = 4 << 20;

impl<S: ReadAt + Sync> RandomAccessReader<S> {
    /// Decodes the whole plaintext into a new memory file (`memfd`), on the
    /// current rayon pool, seals it against every change and returns the
    /// descriptor to hand out: read-only wherever `/proc` allows it (see
    /// below). On failure the memory file is emptied (its pages freed) and
    /// closed, the lowest failing block reported, and the chunk buffers
    /// wiped.
    ///
    /// Why a read-only descriptor: before Linux 6.7 (every Android GKI
    /// kernel in the field: 5.10, 5.15, 6.1, 6.6), `mmap(PROT_READ,
    /// MAP_SHARED)` of a memfd sealed with `F_SEAL_WRITE` fails with EPERM
    /// when the descriptor was opened for writing, as `memfd_create`'s is;
    /// LiteRT and llama.cpp map exactly so. A descriptor reopened read-only
    /// through `/proc/self/fd` maps on every kernel, and cannot write
    /// either. Without `/proc` (a sandbox), the writable descriptor is
    /// sealed with `F_SEAL_FUTURE_WRITE` (Linux 5.1+), which old kernels
    /// also let a reader map read-only and shared; plain `F_SEAL_WRITE` on
    /// older kernels.
    pub fn decode_to_memfd(&self) -> Result<File> {
        let layout = *self.layout();
        let file = File::from(memfd_create(
            c"ava3-model",
            MemfdFlags::CLOEXEC | MemfdFlags::ALLOW_SEALING,
        )?);
        file.set_len(layout.plaintext_len())?;
        let per_chunk = (CHUNK / layout.block_size()).max(1);
        let chunk_len = per_chunk * layout.block_size();
        let chunks = layout.block_count().div_ceil(per_chunk);
        let buffer = || Zeroizing::new(Vec::new());
        let first_failure = (0..chunks)
            .into_par_iter()
            .map_init(buffer, |buf: &mut Zeroizing<Vec<u8>>, c| {
                let first = c * per_chunk;
                let start = layout.plaintext_offset(first);
                let len = chunk_len.min(layout.plaintext_len() - start) as usize;
                if buf.len() < len {
                    buf.resize(len, 0);
                }
                self.decode_blocks_into(first, &mut buf[..len])
                    .and_then(|()| Ok(file.write_all_at(&buf[..len], start)?))
                    .err()
                    .map(|e| (c, e))
            })
            .flatten()
            .min_by_key(|(c, _)| *c);
        if let Some((_, e)) = first_failure {
            // Truncating frees the pages that held plaintext.
            let _ = file.set_len(0);
            return Err(e);
        }
        Ok(seal_read_only(file)?)
    }
}

/// Seals a memfd against every change and returns the descriptor to hand
/// out: a read-only one wherever `/proc` allows it.
fn seal_read_only(file: File) -> io::Result<File> {
    use std::os::fd::AsRawFd;
    let rest = SealFlags::GROW | SealFlags::SHRINK | SealFlags::SEAL;
    // Reopened before sealing: sealing needs the writable descriptor, and
    // the seals belong to the memory, so they hold for the new one too.
    let path = format!("/proc/self/fd/{}", file.as_raw_fd());
    match File::open(&path) {
        Ok(read_only) => {
            fcntl_add_seals(&file, SealFlags::WRITE | rest)?;
            Ok(read_only)
        }
        Err(_) => {
            match fcntl_add_seals(&file, SealFlags::FUTURE_WRITE | rest) {
                Err(e) if e == rustix::io::Errno::INVAL => {
                    fcntl_add_seals(&file, SealFlags::WRITE | rest)?
                }
                other => other?,
            }
            Ok(file)
        }
    }
}

impl From<rustix::io::Errno> for Error {
    fn from(e: rustix::io::Errno) -> Self {
        Self::Io(e.into())
    }
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;
    use crate::{encode_to_vec, EncodeOptions, MasterKey, Policy};

    fn file(len: usize) -> (MasterKey, Vec<u8>, Vec<u8>) {
        let key = MasterKey::from_bytes([9; 32]);
        let pt: Vec<u8> = (0..len).map(|i| (i * 7 % 251) as u8).collect();
        let opts = EncodeOptions {
            block_size: 4096,
            ..EncodeOptions::default()
        };
        let (f, _) = encode_to_vec(&key, &pt, &opts).unwrap();
        (key, pt, f)
    }

    #[test]
    fn the_memfd_holds_the_plaintext_sealed_and_read_only() {
        // Three chunks and a short last block.
        for len in [0, 1, 9 << 20 | 123] {
            let (key, pt, f) = file(len);
            let r = RandomAccessReader::open(&f[..], &[&key], &Policy::NONE).unwrap();
            let mut m = r.decode_to_memfd().unwrap();
            let mut got = Vec::new();
            m.read_to_end(&mut got).unwrap();
            assert!(got == pt, "{len} bytes");
            let seals = rustix::fs::fcntl_get_seals(&m).unwrap();
            assert!(seals.contains(SealFlags::SEAL | SealFlags::GROW | SealFlags::SHRINK));
            assert!(seals.intersects(SealFlags::WRITE | SealFlags::FUTURE_WRITE));
            assert!(m.write_all_at(b"x", 0).is_err(), "the descriptor writes");
        }
    }

    #[test]
    fn a_bad_block_gives_the_lowest_failing_block_and_no_file() {
        let (key, _, mut f) = file(9 << 20);
        let layout = *RandomAccessReader::open(&f[..], &[&key], &Policy::NONE)
            .unwrap()
            .layout();
        for b in [2000u64, 1500, 3] {
            f[layout.tag_offset(b) as usize] ^= 1;
        }
        let r = RandomAccessReader::open(&f[..], &[&key], &Policy::NONE).unwrap();
        for _ in 0..5 {
            let e = r.decode_to_memfd().unwrap_err();
            assert!(matches!(e, Error::BlockAuth { index: 3 }), "{e:?}");
        }
    }
}
