//! The byte sources and destinations the encoders and readers work on:
//! [`ReadAt`] (read by offset from many threads: slices, files, a window of
//! a file), [`WriteAt`] (write by offset from many threads: files) and
//! [`SequentialSink`] (a stream seen as a [`WriteAt`] written in order).
//! Streams in the other places are plain [`std::io::Read`] and
//! [`std::io::Write`].

use std::fs::File;
use std::io::{self, Write};
use std::sync::{Arc, Mutex, PoisonError};

/// A byte source that can be read at any offset through a shared reference.
pub trait ReadAt: Send + Sync {
    /// Fills `buf` with the bytes at `offset`, or fails with
    /// `UnexpectedEof` when the source is shorter.
    fn read_exact_at(&self, buf: &mut [u8], offset: u64) -> io::Result<()>;
    /// The total length of the source.
    fn size(&self) -> io::Result<u64>;
}

impl ReadAt for [u8] {
    fn read_exact_at(&self, buf: &mut [u8], offset: u64) -> io::Result<()> {
        let start = usize::try_from(offset).ok().filter(|&s| s <= self.len());
        match start.and_then(|s| self.get(s..s.checked_add(buf.len())?)) {
            Some(src) => {
                buf.copy_from_slice(src);
                Ok(())
            }
            None => Err(io::ErrorKind::UnexpectedEof.into()),
        }
    }
    fn size(&self) -> io::Result<u64> {
        Ok(self.len() as u64)
    }
}

impl ReadAt for Vec<u8> {
    fn read_exact_at(&self, buf: &mut [u8], offset: u64) -> io::Result<()> {
        self.as_slice().read_exact_at(buf, offset)
    }
    fn size(&self) -> io::Result<u64> {
        Ok(self.len() as u64)
    }
}

impl<T: ReadAt + ?Sized> ReadAt for &T {
    fn read_exact_at(&self, buf: &mut [u8], offset: u64) -> io::Result<()> {
        (**self).read_exact_at(buf, offset)
    }
    fn size(&self) -> io::Result<u64> {
        (**self).size()
    }
}

impl<T: ReadAt + ?Sized> ReadAt for Arc<T> {
    fn read_exact_at(&self, buf: &mut [u8], offset: u64) -> io::Result<()> {
        (**self).read_exact_at(buf, offset)
    }
    fn size(&self) -> io::Result<u64> {
        (**self).size()
    }
}

/// A window `[offset, offset + len)` of a file, for a model stored inside
/// another file (an APK asset, say).
#[derive(Debug)]
pub struct FileRange {
    file: File,
    offset: u64,
    len: u64,
}

impl FileRange {
    /// The whole of `file`.
    pub fn whole(file: File) -> io::Result<Self> {
        let len = file.metadata()?.len();
        Ok(Self {
            file,
            offset: 0,
            len,
        })
    }

    /// A window of `file`.
    pub fn new(file: File, offset: u64, len: u64) -> Self {
        Self { file, offset, len }
    }
}

#[cfg(unix)]
fn pread_exact(file: &File, buf: &mut [u8], offset: u64) -> io::Result<()> {
    std::os::unix::fs::FileExt::read_exact_at(file, buf, offset)
}

#[cfg(windows)]
fn pread_exact(file: &File, mut buf: &mut [u8], mut offset: u64) -> io::Result<()> {
    use std::os::windows::fs::FileExt;
    while !buf.is_empty() {
        match file.seek_read(buf, offset) {
            Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
            Ok(n) => {
                buf = &mut buf[n..];
                offset += n as u64;
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

impl ReadAt for FileRange {
    fn read_exact_at(&self, buf: &mut [u8], offset: u64) -> io::Result<()> {
        // The window's end is checked here; the file may be longer.
        offset
            .checked_add(buf.len() as u64)
            .filter(|&end| end <= self.len)
            .ok_or(io::ErrorKind::UnexpectedEof)?;
        pread_exact(&self.file, buf, self.offset + offset)
    }
    fn size(&self) -> io::Result<u64> {
        Ok(self.len)
    }
}

impl ReadAt for File {
    fn read_exact_at(&self, buf: &mut [u8], offset: u64) -> io::Result<()> {
        pread_exact(self, buf, offset)
    }
    fn size(&self) -> io::Result<u64> {
        Ok(self.metadata()?.len())
    }
}

/// A destination written by offset, from several threads at once.
pub trait WriteAt: Send + Sync {
    /// Writes all of `buf` at `offset`.
    fn write_all_at(&self, buf: &[u8], offset: u64) -> io::Result<()>;

    /// True when writes must come in file order (a stream). Files take
    /// them in any order, which lets lanes write as soon as they can.
    fn in_order(&self) -> bool {
        false
    }
}

impl WriteAt for File {
    #[cfg(unix)]
    fn write_all_at(&self, buf: &[u8], offset: u64) -> io::Result<()> {
        std::os::unix::fs::FileExt::write_all_at(self, buf, offset)
    }

    #[cfg(windows)]
    fn write_all_at(&self, mut buf: &[u8], mut offset: u64) -> io::Result<()> {
        use std::os::windows::fs::FileExt;
        while !buf.is_empty() {
            match self.seek_write(buf, offset) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => {
                    buf = &buf[n..];
                    offset += n as u64;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }
}

impl<T: WriteAt + ?Sized> WriteAt for &T {
    fn write_all_at(&self, buf: &[u8], offset: u64) -> io::Result<()> {
        (**self).write_all_at(buf, offset)
    }
    fn in_order(&self) -> bool {
        (**self).in_order()
    }
}

/// A stream (standard output, a pipe) as a [`WriteAt`] for [`crate::encode_at()`],
/// which writes in file order: every write must start where the previous
/// one ended, or it fails.
#[derive(Debug)]
pub struct SequentialSink<W> {
    inner: Mutex<(W, u64)>,
}

impl<W: Write + Send> SequentialSink<W> {
    /// Wraps `inner`, positioned at offset 0 of the encoding.
    pub fn new(inner: W) -> Self {
        Self {
            inner: Mutex::new((inner, 0)),
        }
    }

    /// The stream back (not flushed).
    pub fn into_inner(self) -> W {
        self.inner
            .into_inner()
            .unwrap_or_else(PoisonError::into_inner)
            .0
    }
}

impl<W: Write + Send> WriteAt for SequentialSink<W> {
    fn write_all_at(&self, buf: &[u8], offset: u64) -> io::Result<()> {
        let mut g = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        if offset != g.1 {
            return Err(io::Error::other("out-of-order write to a stream"));
        }
        g.0.write_all(buf)?;
        g.1 += buf.len() as u64;
        Ok(())
    }
    fn in_order(&self) -> bool {
        true
    }
}
