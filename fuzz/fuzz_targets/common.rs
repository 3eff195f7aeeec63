//! Shared by the fuzz targets: the key of the test vectors (so that seeds
//! made from them decode) and the outcome check.
#![allow(dead_code)]

use ava3_format::{Error, MasterKey, Outcome};

/// The vector key: bytes 0x00..0x1f (testdata/vectors, spec appendix A).
pub fn key() -> MasterKey {
    MasterKey::from_bytes(std::array::from_fn(|i| i as u8))
}

/// Every error on a file is one of the documented outcomes, never `Other`
/// (which is for I/O and API misuse).
pub fn assert_documented(e: &Error) {
    assert!(e.outcome() != Outcome::Other, "undocumented error kind: {e:?}");
}
