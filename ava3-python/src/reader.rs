//! The native side of `ava_toolchain.ava3.Reader`: authenticated random
//! access to a protected model, from many Python threads at once, the GIL
//! released around every read.

use std::sync::{Arc, RwLock};

use ava3_format::{RandomAccessReader, Result as CoreResult, Sealed};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use crate::buffer::Exported;
use crate::errors;
use crate::key;
use crate::source::Source;

type Reader = RandomAccessReader<Source>;

/// Reads `out.len()` bytes (fewer at the end) at `offset`: the core's
/// range read (whole blocks on all cores, the edges alone; `out` wiped on
/// failure), the same as the C ABI's.
fn read_range(r: &Reader, out: &mut [u8], offset: u64) -> CoreResult<usize> {
    r.read_at(out, offset)
}

/// An open protected model (`ava_toolchain.ava3.open` wraps it in a
/// `Reader`, an `io.RawIOBase`).
#[derive(Debug)]
#[pyclass(module = "ava_toolchain._native", frozen)]
pub struct NativeReader {
    reader: RwLock<Option<Arc<Reader>>>,
    name: String,
}

impl NativeReader {
    fn get(&self) -> PyResult<Arc<Reader>> {
        self.reader
            .read()
            .ok()
            .and_then(|r| r.clone())
            .ok_or_else(|| PyValueError::new_err("I/O operation on a closed AVA3 reader"))
    }
}

#[pymethods]
impl NativeReader {
    /// Opens `source` with the key ring `keys`: reads and authenticates the
    /// header, checks the file's length and authenticates the trailer, so
    /// the size and the recorded digest are trustworthy before any block
    /// is read (spec 8.3).
    #[new]
    #[pyo3(signature = (source, keys, *, signers=None, name=None, min_version=None))]
    fn new(
        py: Python<'_>,
        source: &Bound<'_, PyAny>,
        keys: &Bound<'_, PyAny>,
        signers: Option<&Bound<'_, PyAny>>,
        name: Option<String>,
        min_version: Option<u64>,
    ) -> PyResult<Self> {
        let ring = key::ring(Some(keys))?;
        let policy = key::policy(signers, name, min_version)?;
        let (source, name) = Source::from_py(source)?;
        let reader = py
            .detach(|| -> CoreResult<Reader> {
                Sealed::read_at(&source)?
                    .unlock(&ring.keys(), &policy)?
                    .random_access(source)
            })
            .map_err(|e| errors::core_error(py, &name, e))?;
        Ok(Self {
            reader: RwLock::new(Some(Arc::new(reader))),
            name,
        })
    }

    /// Reads plaintext at `offset` into `buffer` (any writable contiguous
    /// buffer); returns the bytes read, 0 at or past the end.
    fn read_at(&self, py: Python<'_>, offset: u64, buffer: &Bound<'_, PyAny>) -> PyResult<usize> {
        let r = self.get()?;
        let mut out = Exported::writable(buffer)?;
        let slice = out.as_mut_slice();
        py.detach(|| read_range(&r, slice, offset))
            .map_err(|e| errors::core_error(py, &self.name, e))
    }

    /// The whole plaintext in a sealed, read-only memfd; returns its
    /// descriptor (the caller closes it). Linux and Android.
    fn to_memfd(&self, py: Python<'_>) -> PyResult<i32> {
        let r = self.get()?;
        #[cfg(any(target_os = "linux", target_os = "android"))]
        {
            use std::os::fd::IntoRawFd;
            let file = py
                .detach(|| r.decode_to_memfd())
                .map_err(|e| errors::core_error(py, &self.name, e))?;
            Ok(file.into_raw_fd())
        }
        #[cfg(not(any(target_os = "linux", target_os = "android")))]
        {
            let _ = (py, r);
            Err(pyo3::exceptions::PyNotImplementedError::new_err(
                "to_memfd needs Linux or Android",
            ))
        }
    }

    /// Closes the reader (reads in flight on other threads finish first).
    fn close(&self) {
        if let Ok(mut r) = self.reader.write() {
            *r = None;
        }
    }

    #[getter]
    fn closed(&self) -> bool {
        self.reader.read().map_or(true, |r| r.is_none())
    }

    #[getter]
    fn name(&self) -> &str {
        &self.name
    }

    #[getter]
    fn size(&self) -> PyResult<u64> {
        Ok(self.get()?.len())
    }

    #[getter]
    fn payload_kind(&self) -> PyResult<&'static str> {
        Ok(self.get()?.header().payload_kind().as_str())
    }

    #[getter]
    fn block_size(&self) -> PyResult<u32> {
        Ok(self.get()?.header().block_size())
    }

    #[getter]
    fn format_version(&self) -> PyResult<u16> {
        Ok(self.get()?.header().version())
    }

    #[getter]
    fn key_id(&self) -> PyResult<String> {
        Ok(self.get()?.header().key_id().to_hex())
    }

    #[getter]
    fn plaintext_sha256(&self) -> PyResult<String> {
        Ok(hex::encode(self.get()?.recorded_plaintext_sha256()))
    }

    #[getter]
    fn keyless_sha256(&self) -> PyResult<String> {
        Ok(hex::encode(self.get()?.keyless_sha256()))
    }
}
