//! `Key`: a master key held in Rust memory (wiped when the object goes),
//! never printed, never pickled; and the key rings the functions take.

use std::path::PathBuf;
use std::sync::Arc;

use ava3_format::MasterKey;
use pyo3::exceptions::{PyTypeError, PyUserWarning};
use pyo3::prelude::*;

use crate::errors;

/// A 256-bit AVA3 master key. Its ``repr`` shows only the key id; it
/// cannot be pickled or copied into Python bytes.
#[derive(Debug)]
#[pyclass(module = "ava_toolchain.ava3", frozen)]
pub struct Key {
    /// Shared, never copied: a key ring handed to the core borrows it.
    key: Arc<MasterKey>,
}

impl Key {
    /// The key itself, shared (for a ring that outlives the Python call's
    /// borrow of this object, on another thread).
    pub fn shared(&self) -> Arc<MasterKey> {
        self.key.clone()
    }

    pub fn master(&self) -> &MasterKey {
        &self.key
    }

    pub fn wrap(key: MasterKey) -> Self {
        Self { key: Arc::new(key) }
    }
}

/// The keys a call was given, shared with their `Key` objects (no copy of
/// their bytes); [`Ring::keys`] lends them to the core.
#[derive(Debug, Default)]
pub struct Ring(Vec<Arc<MasterKey>>);

impl Ring {
    /// The key ring as the core takes it.
    pub fn keys(&self) -> Vec<&MasterKey> {
        self.0.iter().map(|k| &**k).collect()
    }
}

#[pymethods]
impl Key {
    /// A new key from the operating system's random number generator.
    #[staticmethod]
    fn generate(py: Python<'_>) -> PyResult<Self> {
        MasterKey::generate()
            .map(Self::wrap)
            .map_err(|e| errors::core_error(py, "", e))
    }

    /// A key from 64 hexadecimal digits (white space around them allowed).
    /// The text is never shown in an error.
    #[staticmethod]
    fn from_hex(py: Python<'_>, hex: &str) -> PyResult<Self> {
        MasterKey::from_hex(hex).map(Self::wrap).map_err(|_| {
            errors::failure(
                py,
                ava3_app::Failure::usage(
                    "not a key: a key is exactly 64 hexadecimal digits (the value is not shown)",
                ),
            )
        })
    }

    /// A key file as ``ava3`` reads it (64 hex digits as text, as ``ava3
    /// keygen`` writes). A file that group or others can read gives a
    /// ``UserWarning``.
    #[staticmethod]
    fn from_file(py: Python<'_>, path: PathBuf) -> PyResult<Self> {
        let (key, open_mode) = ava3_app::keys::load_key_file(&path, &ava3_app::names::PYTHON)
            .map_err(|f| errors::failure(py, f))?;
        if let Some(mode) = open_mode {
            let msg = ava3_app::keys::key_file_warning(&path, mode);
            PyErr::warn(
                py,
                &py.get_type::<PyUserWarning>(),
                &std::ffi::CString::new(msg).unwrap_or_default(),
                1,
            )?;
        }
        Ok(Self::wrap(key))
    }

    /// The key id: the public 16-byte fingerprint that files record, as
    /// 32 hex digits.
    #[getter]
    fn key_id(&self) -> String {
        self.key.key_id().to_hex()
    }

    fn __repr__(&self) -> String {
        format!("Key(key_id='{}')", self.key.key_id().to_hex())
    }

    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        other
            .cast::<Key>()
            .is_ok_and(|o| o.get().key.key_id() == self.key.key_id())
    }

    fn __hash__(&self) -> u64 {
        let id = self.key.key_id();
        let b = id.as_bytes();
        u64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]])
    }

    fn __reduce__(&self) -> PyResult<()> {
        Err(PyTypeError::new_err("an AVA3 key is not pickled"))
    }
}

/// The keys of `keys`: a `Key`, or any iterable of them (a `KeyRing`, a
/// list). `None` is an empty ring.
pub fn ring(keys: Option<&Bound<'_, PyAny>>) -> PyResult<Ring> {
    let Some(keys) = keys.filter(|k| !k.is_none()) else {
        return Ok(Ring::default());
    };
    if let Ok(k) = keys.cast::<Key>() {
        return Ok(Ring(vec![k.get().shared()]));
    }
    let mut out = Vec::new();
    for item in keys.try_iter().map_err(|_| {
        PyTypeError::new_err("keys must be a Key, a KeyRing or an iterable of Key objects")
    })? {
        let item = item?;
        let k = item
            .cast::<Key>()
            .map_err(|_| PyTypeError::new_err("every key of a key ring must be a Key"))?;
        out.push(k.get().shared());
    }
    Ok(Ring(out))
}

/// The one key an encode takes.
pub fn one<'py>(key: &Bound<'py, PyAny>) -> PyResult<Bound<'py, Key>> {
    key.cast::<Key>()
        .cloned()
        .map_err(|_| PyTypeError::new_err("key must be a Key (Key.from_file, Key.from_hex)"))
}

/// What a reader requires, from `signers=`, `name=` and `min_version=`
/// (spec 7.5). Each signer is `bytes` (the 32 raw bytes of an Ed25519
/// public key, or its PEM or hex text) or a path (`str` or `os.PathLike`)
/// of a public key file (`ava3 keygen --signing` writes `PATH.pub`); one
/// signer or an iterable of them. Trusting a key requires its signature.
pub fn policy(
    signers: Option<&Bound<'_, PyAny>>,
    name: Option<String>,
    min_version: Option<u64>,
) -> PyResult<ava3_format::Policy> {
    use pyo3::types::{PyBytes, PyString};
    let mut p = ava3_format::Policy::default();
    let one = |item: &Bound<'_, PyAny>| -> PyResult<ava3_format::PublicKey> {
        let bytes: Vec<u8> = if let Ok(b) = item.cast::<PyBytes>() {
            b.as_bytes().to_vec()
        } else {
            let path: PathBuf = item.extract().map_err(|_| {
                PyTypeError::new_err(
                    "a signer is bytes (a public key) or the path of a public key file",
                )
            })?;
            let bytes = std::fs::read(&path).map_err(|e| {
                pyo3::exceptions::PyOSError::new_err(format!(
                    "cannot read public key file {}: {e}",
                    ava3_app::display::shown(&path)
                ))
            })?;
            // A file is judged as the command line judges --signer.
            return ava3_app::keys::public_key_of(&bytes).map_err(|why| {
                pyo3::exceptions::PyValueError::new_err(format!(
                    "{} {why}",
                    ava3_app::display::shown(&path)
                ))
            });
        };
        if bytes.starts_with(b"-----BEGIN PRIVATE KEY") {
            return Err(pyo3::exceptions::PyValueError::new_err(
                "a signing (private) key was given as a signer: give its public key (the .pub \
                 file beside it), which is all a verifier needs (the value is not shown)",
            ));
        }
        ava3_format::PublicKey::parse(&bytes).map_err(|_| {
            pyo3::exceptions::PyValueError::new_err(
                "not an Ed25519 public key (32 bytes, PEM BEGIN PUBLIC KEY, or 64 hex digits), \
                 or a weak one (small order); the value is not shown",
            )
        })
    };
    if let Some(s) = signers.filter(|s| !s.is_none()) {
        let single = s.cast::<PyBytes>().is_ok()
            || s.cast::<PyString>().is_ok()
            || s.hasattr("__fspath__")?;
        if single {
            p.trust(one(s)?);
        } else {
            for item in s.try_iter()? {
                p.trust(one(&item?)?);
            }
        }
    }
    if let Some(n) = name {
        p.expect_name(&n);
    }
    if let Some(v) = min_version {
        p.require_min_version(v);
    }
    Ok(p)
}
