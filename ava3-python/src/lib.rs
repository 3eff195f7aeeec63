//! `ava_toolchain._native`: the Rust side of the Python package.
//!
//! - `run_cli` runs the very `ava3` command (`ava3_cli::run_from`), not a
//!   second implementation, so `python -m ava_toolchain.ava3_encoder ...`
//!   and `ava3 ...` take the same flags, print the same output and exit
//!   with the same statuses.
//! - `ops`: `keygen`, `encode`, `encode_tree` (the application layer's
//!   code, `ava3_app`, which the command runs too), `verify`, `inspect`.
//! - `reader`: the random-access reader behind `ava_toolchain.ava3.open`.
//! - `interrupt`: long calls (encode, encode_tree, verify) that Ctrl-C
//!   stops, leaving nothing behind.
//! - `key`: the `Key` object; `source`: paths, files, descriptors and
//!   bytes-like objects as sources; `errors`: core errors as the Python
//!   exceptions of `ava_toolchain.errors`.
//! - `buffer`: the only unsafe code (Python's buffer protocol, borrowing a
//!   descriptor to duplicate it).
//!
//! Every call that does crypto or I/O releases the GIL.

#![deny(unsafe_code)]

mod buffer;
mod errors;
mod interrupt;
mod key;
mod ops;
mod reader;
mod source;

use pyo3::prelude::*;

/// Runs the `ava3` command with `argv` (`argv[0]` is the program name) and
/// returns its exit status. The GIL is released for the whole run. The
/// arguments are taken as the operating system gave them to Python (a file
/// name that is not UTF-8 comes back as its bytes, as `os.fsencode` does).
#[pyfunction]
fn run_cli(py: Python<'_>, argv: Vec<std::ffi::OsString>) -> u8 {
    py.detach(|| ava3_cli::run_from(argv))
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(run_cli, m)?)?;
    m.add_function(wrap_pyfunction!(ops::keygen, m)?)?;
    m.add_function(wrap_pyfunction!(ops::encode, m)?)?;
    m.add_function(wrap_pyfunction!(ops::encode_tree, m)?)?;
    m.add_function(wrap_pyfunction!(ops::verify, m)?)?;
    m.add_function(wrap_pyfunction!(ops::inspect, m)?)?;
    m.add_class::<key::Key>()?;
    m.add_class::<reader::NativeReader>()?;
    m.add_class::<ops::HeaderInfo>()?;
    m.add_class::<ops::VerifyReport>()?;
    m.add_class::<ops::EncodeResult>()?;
    m.add_class::<ops::TreeEntry>()?;
    m.add_class::<ops::TreeReport>()?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    // The core's outcome table, (code, class name, spec name) per outcome:
    // `ava_toolchain.errors` has a class of each name (a test proves it).
    let outcomes: Vec<(u32, &str, &str)> = ava3_format::Outcome::ALL
        .iter()
        .map(|o| (o.code(), o.type_name(), o.as_str()))
        .collect();
    m.add("OUTCOMES", outcomes)?;
    Ok(())
}
