//! Core errors and command failures as the exceptions of
//! `ava_toolchain.errors`: one class per outcome of the spec (section 7.4),
//! all under `Ava3Error`, with the outcome name, the `ava3` exit status and,
//! where there is one, the failing block or the file's key id.

use ava3_app::error::{Failure, Kind, EXIT_BAD_FILE, EXIT_NO_KEY, EXIT_USAGE};
use ava3_format::{Error, Outcome};
use pyo3::exceptions::{PyKeyboardInterrupt, PyOSError};
use pyo3::prelude::*;
use pyo3::types::PyDict;

/// The exception class of an outcome: the outcome's own name (the core's
/// one table, `Outcome::type_name`), `UsageError` for `other`.
fn class_of(outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::Success | Outcome::Other => "UsageError",
        o => o.type_name(),
    }
}

/// Builds `ava_toolchain.errors.<class>(message, **attrs)`.
fn raise(
    py: Python<'_>,
    class: &str,
    message: String,
    outcome: Option<Outcome>,
    code: u8,
    index: Option<u64>,
    key_id: Option<String>,
) -> PyErr {
    let build = || -> PyResult<PyErr> {
        let cls = py.import("ava_toolchain.errors")?.getattr(class)?;
        let kwargs = PyDict::new(py);
        kwargs.set_item("outcome", outcome.map(Outcome::as_str))?;
        kwargs.set_item("code", code)?;
        kwargs.set_item("index", index)?;
        kwargs.set_item("key_id", key_id)?;
        Ok(PyErr::from_value(cls.call((message,), Some(&kwargs))?))
    };
    build().unwrap_or_else(|e| e)
}

/// A core error: I/O errors as Python's own `OSError` subclasses
/// (`FileNotFoundError`, ...), the rest by outcome.
pub fn core_error(py: Python<'_>, context: &str, e: Error) -> PyErr {
    let outcome = e.outcome();
    let message = if context.is_empty() {
        e.to_string()
    } else {
        format!("{context}: {e}")
    };
    let (index, key_id) = match &e {
        Error::BlockAuth { index } => (Some(*index), None),
        Error::WrongKey { file, .. } => (None, Some(file.to_hex())),
        _ => (None, None),
    };
    let code = match outcome {
        Outcome::WrongKey => EXIT_NO_KEY,
        Outcome::Other => EXIT_USAGE,
        _ => EXIT_BAD_FILE,
    };
    match e {
        Error::Io(io) => io.into(),
        Error::OutOfMemory(_) => pyo3::exceptions::PyMemoryError::new_err(message),
        _ => raise(
            py,
            class_of(outcome),
            message,
            (outcome != Outcome::Other).then_some(outcome),
            code,
            index,
            key_id,
        ),
    }
}

/// A failure of an application-layer operation, by its kind: by outcome
/// when it is a core error about a file; a file that cannot be opened,
/// read, written or created as Python's own `OSError` subclass for its
/// errno (`FileNotFoundError`, `FileExistsError`, `PermissionError`...,
/// as the core's I/O errors), with the message and `code` 2;
/// `KeyboardInterrupt` when cancelled; else `InvalidInput` (exit status 1:
/// the input cannot be encoded as asked), `WrongKey` (3) or `UsageError`
/// (2: usage or key).
pub fn failure(py: Python<'_>, f: Failure) -> PyErr {
    let code = f.code();
    let class = match (f.outcome, f.kind) {
        (Some(o), _) => class_of(o),
        (None, Kind::Io) => {
            let e = match f.os_error {
                Some(errno) => PyOSError::new_err((errno, f.message)),
                None => PyOSError::new_err(f.message),
            };
            let _ = e.value(py).setattr("code", code);
            return e;
        }
        (None, Kind::Interrupted) => return PyKeyboardInterrupt::new_err(f.message),
        (None, Kind::BadFile) => "InvalidInput",
        (None, Kind::NoKey) => "WrongKey",
        (None, _) => "UsageError",
    };
    raise(py, class, f.message, f.outcome, code, f.block, None)
}
