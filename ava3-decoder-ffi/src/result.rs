//! The result codes of every exported function. Their numbers never change:
//! new codes are only ever appended.

use ava3_format::{Error, Outcome};

/// Result of every `ava3_*` function that can fail.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ava3Result {
    /// Success.
    Ok = 0,
    /// A required pointer argument was NULL.
    NullParameter = 1,
    /// An argument is invalid (a key that is not 32 bytes, a buffer of the
    /// wrong size, no key set yet, ...).
    InvalidParameter = 2,
    /// The input is not an AVA3 file.
    NotAva3 = 3,
    /// The file uses a format version this library does not read.
    UnsupportedVersion = 4,
    /// The header is invalid or fails authentication.
    HeaderFailure = 5,
    /// The key's id is not the one the file was encoded with.
    WrongKey = 6,
    /// A block failed authentication; `ava3_decoder_failed_block` tells which.
    BlockFailure = 7,
    /// The file is shorter than its header announces.
    Truncated = 8,
    /// The trailer is invalid or fails authentication.
    TrailerFailure = 9,
    /// Bytes follow the end of the file.
    TrailingData = 10,
    /// A recomputed digest does not match.
    IntegrityFailure = 11,
    /// An operating-system I/O error.
    Io = 12,
    /// Not supported on this platform (memfd outside Linux/Android).
    Unsupported = 13,
    /// A Rust panic was caught at the boundary (a bug: please report it).
    Panic = 14,
    /// The streaming callback asked to stop.
    Cancelled = 15,
    /// Memory for a requested buffer could not be allocated.
    OutOfMemory = 16,
    /// A signature by a trusted key does not verify, or the signature
    /// section is malformed.
    BadSignature = 17,
    /// A signature is required and none of the file's signers is trusted.
    UnknownSigner = 18,
    /// A signature is required and the file carries none.
    Unsigned = 19,
    /// The file's authenticated model name is not the one required.
    NameMismatch = 20,
    /// The file's authenticated model version is below the minimum.
    Rollback = 21,
    /// `ava3_decoder_set_key`, `_trust_signer`, `_require_name` or
    /// `_require_min_version` after a successful `set_key`, which fixed
    /// the key and the requirements; nothing was changed.
    RequirementsLocked = 22,
}

impl Ava3Result {
    /// A fixed description of the code (no file or key details).
    pub fn message(self) -> &'static str {
        match self {
            Self::Ok => "success",
            Self::NullParameter => "a required pointer argument is NULL",
            Self::InvalidParameter => "an argument is invalid",
            Self::NotAva3 => "not an AVA3 file",
            Self::UnsupportedVersion => "unsupported AVA3 format version",
            Self::HeaderFailure => "the AVA3 header is invalid or failed authentication",
            Self::WrongKey => "wrong key: the file was encoded with another key id",
            Self::BlockFailure => "a block failed authentication",
            Self::Truncated => "the file is truncated",
            Self::TrailerFailure => "the AVA3 trailer is invalid or failed authentication",
            Self::TrailingData => "trailing data after the end of the AVA3 file",
            Self::IntegrityFailure => "integrity digest mismatch",
            Self::Io => "I/O error",
            Self::Unsupported => "not supported on this platform",
            Self::Panic => "internal error (panic caught at the C boundary)",
            Self::Cancelled => "cancelled by the callback",
            Self::OutOfMemory => "out of memory",
            Self::BadSignature => "bad signature: a trusted signer's signature does not verify",
            Self::UnknownSigner => "unknown signer: the file is not signed by a trusted key",
            Self::Unsigned => "unsigned: a signature is required and the file has none",
            Self::NameMismatch => "name mismatch: the file holds another model",
            Self::Rollback => "rollback: the file's model version is below the minimum",
            Self::RequirementsLocked => {
                "requirements locked: the key and requirements are fixed once set_key succeeded; set requirements before the key"
            }
        }
    }

    /// The code for a numeric value, if it is one.
    pub fn from_u32(v: u32) -> Option<Self> {
        ALL.iter().copied().find(|r| *r as u32 == v)
    }
}

/// Every code, in numeric order.
pub const ALL: [Ava3Result; 23] = [
    Ava3Result::Ok,
    Ava3Result::NullParameter,
    Ava3Result::InvalidParameter,
    Ava3Result::NotAva3,
    Ava3Result::UnsupportedVersion,
    Ava3Result::HeaderFailure,
    Ava3Result::WrongKey,
    Ava3Result::BlockFailure,
    Ava3Result::Truncated,
    Ava3Result::TrailerFailure,
    Ava3Result::TrailingData,
    Ava3Result::IntegrityFailure,
    Ava3Result::Io,
    Ava3Result::Unsupported,
    Ava3Result::Panic,
    Ava3Result::Cancelled,
    Ava3Result::OutOfMemory,
    Ava3Result::BadSignature,
    Ava3Result::UnknownSigner,
    Ava3Result::Unsigned,
    Ava3Result::NameMismatch,
    Ava3Result::Rollback,
    Ava3Result::RequirementsLocked,
];

/// A core error's code: the number of its outcome ([`Outcome::code`], the
/// one table), except `other`, which the C ABI tells apart (I/O, out of
/// memory, invalid parameter).
impl From<&Error> for Ava3Result {
    fn from(e: &Error) -> Self {
        match (e.outcome(), e) {
            (Outcome::Other, Error::Io(_)) => Self::Io,
            (Outcome::Other, Error::OutOfMemory(_)) => Self::OutOfMemory,
            (o, _) => Self::from_u32(o.code()).unwrap_or(Self::InvalidParameter),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_never_change() {
        // These numbers are the ABI. Never edit this table: append.
        let expected = [
            (Ava3Result::Ok, 0),
            (Ava3Result::NullParameter, 1),
            (Ava3Result::InvalidParameter, 2),
            (Ava3Result::NotAva3, 3),
            (Ava3Result::UnsupportedVersion, 4),
            (Ava3Result::HeaderFailure, 5),
            (Ava3Result::WrongKey, 6),
            (Ava3Result::BlockFailure, 7),
            (Ava3Result::Truncated, 8),
            (Ava3Result::TrailerFailure, 9),
            (Ava3Result::TrailingData, 10),
            (Ava3Result::IntegrityFailure, 11),
            (Ava3Result::Io, 12),
            (Ava3Result::Unsupported, 13),
            (Ava3Result::Panic, 14),
            (Ava3Result::Cancelled, 15),
            (Ava3Result::OutOfMemory, 16),
            (Ava3Result::BadSignature, 17),
            (Ava3Result::UnknownSigner, 18),
            (Ava3Result::Unsigned, 19),
            (Ava3Result::NameMismatch, 20),
            (Ava3Result::Rollback, 21),
            (Ava3Result::RequirementsLocked, 22),
        ];
        for (r, n) in expected {
            assert_eq!(r as u32, n);
            assert_eq!(Ava3Result::from_u32(n), Some(r));
        }
        assert_eq!(ALL.len(), expected.len());
        assert_eq!(Ava3Result::from_u32(23), None);
    }

    /// The C codes of the file outcomes are the core's outcome table: the
    /// same number, the same name.
    #[test]
    fn every_outcome_is_the_result_of_its_code_and_name() {
        for o in Outcome::ALL {
            let r = Ava3Result::from_u32(o.code()).expect("a code for every outcome");
            let expected = match o {
                Outcome::Success => "Ok",
                Outcome::Other => "InvalidParameter",
                o => o.type_name(),
            };
            assert_eq!(format!("{r:?}"), expected, "{o:?}");
        }
    }
}
