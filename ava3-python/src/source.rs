//! Where a protected file is read from: a path, an open file or
//! descriptor (duplicated, read by offset: the caller's position is left
//! alone), or a bytes-like object read in place.

use std::fs::File;
use std::io::{self, Read};
use std::path::PathBuf;

use ava3_format::ReadAt;
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyInt, PyString};

use crate::buffer::{duplicate_fd, Exported};

/// A protected file's bytes.
pub enum Source {
    File(File),
    Memory(Exported),
}

impl Source {
    /// `source` as the API takes it, and a name for messages.
    pub fn from_py(source: &Bound<'_, PyAny>) -> PyResult<(Self, String)> {
        if source.is_instance_of::<PyString>() || source.hasattr("__fspath__")? {
            let path: PathBuf = source.extract()?;
            let file = File::open(&path).map_err(|e| {
                PyErr::from(io::Error::new(
                    e.kind(),
                    format!("cannot open {}: {e}", path.display()),
                ))
            })?;
            return Ok((Self::File(file), path.display().to_string()));
        }
        // An in-memory file (io.BytesIO) has a fileno that fails: its
        // buffer is read in place instead.
        if source.hasattr("getbuffer")? {
            if let Ok(view) = source.call_method0("getbuffer") {
                return Ok((
                    Self::Memory(Exported::readable(&view)?),
                    "the bytes-like source".into(),
                ));
            }
        }
        if source.is_instance_of::<PyInt>() || source.hasattr("fileno")? {
            let fd: i32 = if source.is_instance_of::<PyInt>() {
                source.extract()?
            } else {
                source.call_method0("fileno")?.extract()?
            };
            let owned = duplicate_fd(fd)?;
            let name = source
                .getattr("name")
                .ok()
                .and_then(|n| n.extract::<String>().ok())
                .unwrap_or_else(|| format!("descriptor {fd}"));
            return Ok((Self::File(File::from(owned)), name));
        }
        match Exported::readable(source) {
            Ok(buf) => Ok((Self::Memory(buf), "the bytes-like source".to_string())),
            Err(_) => Err(PyTypeError::new_err(format!(
                "source must be a path, an open file, a file descriptor or a bytes-like object, not {}",
                source.get_type().name().map(|n| n.to_string()).unwrap_or_default()
            ))),
        }
    }
}

impl ReadAt for Source {
    fn read_exact_at(&self, buf: &mut [u8], offset: u64) -> io::Result<()> {
        match self {
            Self::File(f) => f.read_exact_at(buf, offset),
            Self::Memory(m) => {
                let data = m.as_slice();
                let start = usize::try_from(offset).map_err(|_| io::ErrorKind::UnexpectedEof)?;
                let end = start
                    .checked_add(buf.len())
                    .filter(|&e| e <= data.len())
                    .ok_or(io::ErrorKind::UnexpectedEof)?;
                buf.copy_from_slice(&data[start..end]);
                Ok(())
            }
        }
    }

    fn size(&self) -> io::Result<u64> {
        match self {
            Self::File(f) => f.size(),
            Self::Memory(m) => Ok(m.len() as u64),
        }
    }
}

/// A source read in order from the start, by offset (for the streaming
/// verifiers).
pub struct Cursor<'a> {
    source: &'a Source,
    pos: u64,
    size: u64,
}

impl<'a> Cursor<'a> {
    pub fn new(source: &'a Source) -> io::Result<Self> {
        Ok(Self {
            source,
            pos: 0,
            size: source.size()?,
        })
    }
}

impl Read for Cursor<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let left = self.size.saturating_sub(self.pos);
        let n = buf.len().min(usize::try_from(left).unwrap_or(usize::MAX));
        self.source.read_exact_at(&mut buf[..n], self.pos)?;
        self.pos += n as u64;
        Ok(n)
    }
}
