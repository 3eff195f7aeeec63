//! `ava_toolchain._native`: the Rust side of the Python package. It runs the
//! very `ava3` command (`ava3_cli::run_from`), not a second implementation,
//! so `python -m ava_toolchain.ava3_encoder ...` and `ava3 ...` take the same
//! flags, print the same output and exit with the same statuses.

#![forbid(unsafe_code)]

use pyo3::prelude::*;

/// Runs the `ava3` command with `argv` (`argv[0]` is the program name) and
/// returns its exit status. The GIL is released for the whole run.
#[pyfunction]
fn run_cli(py: Python<'_>, argv: Vec<String>) -> u8 {
    py.detach(|| ava3_cli::run_from(argv))
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(run_cli, m)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
