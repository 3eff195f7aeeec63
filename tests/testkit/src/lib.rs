//! The AVA3 test kit: what the tests of several crates share, in one
//! crate instead of source files included across crates.
//!
//! Dev-only: it is a dev-dependency of the tests (and the home of the
//! `gen-vectors` binary), it is never published or shipped, and it turns on
//! `ava3-format`'s `test-vectors` feature (fixed-salt encoders, which reuse
//! every subkey with the salt). Never depend on it from a shipped crate.
//!
//! - [`vectors`]: the test-vector generator, every case of
//!   `testdata/vectors/` (spec appendix A); run it with
//!   `cargo run -p ava3-testkit --bin gen-vectors -- testdata/vectors`.
//! - [`corpus`]: the adversarial corpus of mutated files, run through the
//!   core and through the C ABI.
//! - [`plaintext`]: the deterministic sample plaintexts of appendix A.
//! - [`verify`]: a whole file through the core's one verification entry.

pub mod corpus;
pub mod plaintext;
pub mod vectors;

use ava3_format::{Check, DecodeOptions, MasterKey, Policy, Report, Sealed};

/// Verifies the whole file `input` through the core's one entry
/// (`Sealed::verify`), with `keys` (none: keyless) and no requirement.
pub fn verify(
    mut input: &[u8],
    keys: &[&MasterKey],
    deep: bool,
    opts: &DecodeOptions,
) -> ava3_format::Result<Report> {
    let check = Check {
        keys,
        policy: &Policy::NONE,
        deep,
    };
    Sealed::read(&mut input)?.verify(input, &check, opts)
}
