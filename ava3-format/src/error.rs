//! Errors of the format core.
//!
//! Every error a decoder can report is listed here, with the [`Outcome`]
//! category it belongs to. The categories are the ones the specification and
//! the test vectors use (`expect:` lines); their names never change.
//! No error carries key material or plaintext.

use std::fmt;
use std::io;

use crate::keys::KeyId;
use crate::signature::SignerId;

/// Result type of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What is wrong with a header, for [`Error::CorruptHeader`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum HeaderProblem {
    /// The header-length field is not the one this version defines.
    HeaderLength(u16),
    /// A reserved byte is not zero.
    ReservedNonZero,
    /// The block size is outside the allowed range or not a power of two.
    BlockSize(u32),
    /// The payload-kind byte has no meaning in this version.
    PayloadKind(u8),
    /// The plaintext length would make the file larger than 2^63 - 1 bytes.
    PlaintextLength(u64),
    /// The signature count of a version 2 header is above 16.
    SignatureCount(u8),
    /// The extension records of a version 2 header are malformed: an
    /// unknown or repeated record, a bad length, a name that is not UTF-8.
    Extension(&'static str),
    /// The header MAC does not match (the header was altered, or the key
    /// id matches but the key does not, which HKDF makes negligible).
    Mac,
}

impl fmt::Display for HeaderProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::HeaderLength(n) => write!(f, "header length {n} is not valid for its version"),
            Self::SignatureCount(n) => write!(f, "signature count {n} is above 16"),
            Self::Extension(what) => write!(f, "header extension: {what}"),
            Self::ReservedNonZero => f.write_str("a reserved header byte is not zero"),
            Self::BlockSize(n) => write!(
                f,
                "block size {n} is not a power of two between 4096 and 16777216"
            ),
            Self::PayloadKind(k) => write!(f, "unknown payload kind {k}"),
            Self::PlaintextLength(n) => write!(f, "plaintext length {n} is out of range"),
            Self::Mac => f.write_str("header authentication failed"),
        }
    }
}

/// What is wrong with a trailer, for [`Error::CorruptTrailer`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TrailerProblem {
    /// The trailer does not start with `AVA3-END`.
    Magic,
    /// The block count or the plaintext length disagree with the header.
    Fields,
    /// The trailer MAC does not match.
    Mac,
}

impl fmt::Display for TrailerProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Magic => f.write_str("trailer magic is wrong"),
            Self::Fields => f.write_str("trailer fields disagree with the header"),
            Self::Mac => f.write_str("trailer authentication failed"),
        }
    }
}

/// What is wrong with a signature, for [`Error::BadSignature`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SignatureProblem {
    /// The signature section does not start with `AVA3-SIG`.
    Magic,
    /// The signature by this trusted signer does not verify.
    Invalid {
        /// The signer whose signature failed.
        signer: SignerId,
    },
}

impl fmt::Display for SignatureProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Magic => f.write_str("the signature section is malformed"),
            Self::Invalid { signer } => {
                write!(
                    f,
                    "the signature by trusted signer {signer} does not verify"
                )
            }
        }
    }
}

/// The outcome categories of the specification (section "Outcomes"), as used
/// by the `expect:` line of the test vectors.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Outcome {
    /// The file decoded and every check passed.
    Success,
    /// The input does not start with the AVA3 magic.
    NotAva3,
    /// The format version is neither 1 nor 2.
    UnsupportedVersion,
    /// A header field is invalid, a flag is unknown, or the header MAC fails.
    HeaderFailure,
    /// The key id in the header is not the supplied key's.
    WrongKey,
    /// A block tag does not verify.
    BlockFailure,
    /// The input ends before the structure the header announces.
    Truncated,
    /// The trailer is malformed or its MAC fails.
    TrailerFailure,
    /// Bytes follow the trailer.
    TrailingData,
    /// The keyless SHA-256 recorded in the file does not match the stored bytes,
    /// or a recomputed plaintext SHA-256 does not match the recorded one.
    IntegrityFailure,
    /// A signature by a trusted signer does not verify, or the signature
    /// section is malformed.
    BadSignature,
    /// A signature is required and none of the file's signers is trusted.
    UnknownSigner,
    /// A signature is required and the file carries none.
    Unsigned,
    /// The file's authenticated model name is not the one required.
    NameMismatch,
    /// The file's authenticated model version is below the minimum.
    Rollback,
    /// An I/O error or a misuse of the API (not a property of the file).
    Other,
}

impl Outcome {
    /// The stable name used in test vectors and machine-readable output.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Success => "success",
            Self::NotAva3 => "not ava3",
            Self::UnsupportedVersion => "unsupported version",
            Self::HeaderFailure => "header failure",
            Self::WrongKey => "wrong key",
            Self::BlockFailure => "block failure",
            Self::Truncated => "truncated",
            Self::TrailerFailure => "trailer failure",
            Self::TrailingData => "trailing data",
            Self::IntegrityFailure => "integrity failure",
            Self::BadSignature => "bad signature",
            Self::UnknownSigner => "unknown signer",
            Self::Unsigned => "unsigned",
            Self::NameMismatch => "name mismatch",
            Self::Rollback => "rollback",
            Self::Other => "other",
        }
    }

    /// Every outcome, in the order of their codes.
    pub const ALL: [Outcome; 16] = [
        Self::Success,
        Self::Other,
        Self::NotAva3,
        Self::UnsupportedVersion,
        Self::HeaderFailure,
        Self::WrongKey,
        Self::BlockFailure,
        Self::Truncated,
        Self::TrailerFailure,
        Self::TrailingData,
        Self::IntegrityFailure,
        Self::BadSignature,
        Self::UnknownSigner,
        Self::Unsigned,
        Self::NameMismatch,
        Self::Rollback,
    ];

    /// The outcome's stable number, the one table every front end derives
    /// from: the C ABI's `AVA3_RESULT_*` code of the same name (0 success,
    /// 2 for `other`, whose C codes are finer: invalid parameter, I/O, out
    /// of memory), and the Python exception class of the same name
    /// (`ava_toolchain.errors.NotAva3`, ...). Never changed; new outcomes
    /// are appended.
    pub const fn code(self) -> u32 {
        match self {
            Self::Success => 0,
            Self::Other => 2,
            Self::NotAva3 => 3,
            Self::UnsupportedVersion => 4,
            Self::HeaderFailure => 5,
            Self::WrongKey => 6,
            Self::BlockFailure => 7,
            Self::Truncated => 8,
            Self::TrailerFailure => 9,
            Self::TrailingData => 10,
            Self::IntegrityFailure => 11,
            Self::BadSignature => 17,
            Self::UnknownSigner => 18,
            Self::Unsigned => 19,
            Self::NameMismatch => 20,
            Self::Rollback => 21,
        }
    }

    /// The outcome's name in code (`NotAva3`): the C ABI's result and the
    /// Python exception class are spelled so.
    pub fn type_name(self) -> &'static str {
        match self {
            Self::Success => "Success",
            Self::Other => "Other",
            Self::NotAva3 => "NotAva3",
            Self::UnsupportedVersion => "UnsupportedVersion",
            Self::HeaderFailure => "HeaderFailure",
            Self::WrongKey => "WrongKey",
            Self::BlockFailure => "BlockFailure",
            Self::Truncated => "Truncated",
            Self::TrailerFailure => "TrailerFailure",
            Self::TrailingData => "TrailingData",
            Self::IntegrityFailure => "IntegrityFailure",
            Self::BadSignature => "BadSignature",
            Self::UnknownSigner => "UnknownSigner",
            Self::Unsigned => "Unsigned",
            Self::NameMismatch => "NameMismatch",
            Self::Rollback => "Rollback",
        }
    }

    /// Parses a name produced by [`Outcome::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "success" => Self::Success,
            "not ava3" => Self::NotAva3,
            "unsupported version" => Self::UnsupportedVersion,
            "header failure" => Self::HeaderFailure,
            "wrong key" => Self::WrongKey,
            "block failure" => Self::BlockFailure,
            "truncated" => Self::Truncated,
            "trailer failure" => Self::TrailerFailure,
            "trailing data" => Self::TrailingData,
            "integrity failure" => Self::IntegrityFailure,
            "bad signature" => Self::BadSignature,
            "unknown signer" => Self::UnknownSigner,
            "unsigned" => Self::Unsigned,
            "name mismatch" => Self::NameMismatch,
            "rollback" => Self::Rollback,
            "other" => Self::Other,
            _ => return None,
        })
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An error of the AVA3 core.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The input does not start with the AVA3 magic.
    #[error("not an AVA3 file ({0})")]
    NotAva3(&'static str),
    /// The file uses a format version this reader does not implement.
    #[error("unsupported AVA3 format version {0} (this reader implements versions 1 and 2)")]
    UnsupportedVersion(u16),
    /// The header sets flags this reader does not know.
    #[error("unsupported header flags {0:#010x} (versions 1 and 2 define none)")]
    UnsupportedFlags(u32),
    /// A header field is invalid or the header MAC fails.
    #[error("corrupt header: {0}")]
    CorruptHeader(HeaderProblem),
    /// The file was encoded under another master key.
    #[error("wrong key (file encoded with key id {file}, you supplied {supplied})")]
    WrongKey {
        /// The key id recorded in the file.
        file: KeyId,
        /// The key id(s) of the key(s) supplied, comma-separated.
        supplied: String,
    },
    /// A block failed authentication: it was altered, moved, or comes from
    /// another file.
    #[error("block {index} failed authentication")]
    BlockAuth {
        /// Zero-based index of the block.
        index: u64,
    },
    /// The input ended early.
    #[error("truncated: {0}")]
    Truncated(String),
    /// The trailer is malformed or fails authentication.
    #[error("corrupt trailer: {0}")]
    CorruptTrailer(TrailerProblem),
    /// Bytes follow the end of the AVA3 structure.
    #[error("trailing data after the end of the AVA3 file")]
    TrailingData,
    /// The keyless SHA-256 recorded in the file does not match its bytes.
    #[error("keyless integrity digest mismatch: the file was corrupted")]
    KeylessDigestMismatch,
    /// The plaintext SHA-256 recomputed in deep mode differs from the recorded one.
    #[error("plaintext SHA-256 mismatch: recorded {recorded}, computed {computed}")]
    PlaintextDigestMismatch {
        /// Hex digest recorded by the encoder.
        recorded: String,
        /// Hex digest of the decoded bytes.
        computed: String,
    },
    /// A signature by a trusted signer does not verify, or the signature
    /// section is malformed.
    #[error("bad signature: {0}")]
    BadSignature(SignatureProblem),
    /// A signature is required and none of the file's signers is trusted.
    #[error("unknown signer: the file is signed by {found}, none of them trusted")]
    UnknownSigner {
        /// Signer ids of the file's signatures, comma-separated.
        found: String,
    },
    /// A signature is required and the file carries none.
    #[error("unsigned: the file carries no signature, and one by a trusted signer is required")]
    Unsigned,
    /// The authenticated model name is not the required one.
    #[error("name mismatch: the file holds model {}, {expected:?} is required", found.as_ref().map_or_else(|| "without a name".to_string(), |n| format!("{n:?}")))]
    NameMismatch {
        /// The name required.
        expected: String,
        /// The name the file carries, if any.
        found: Option<String>,
    },
    /// The authenticated model version is below the minimum.
    #[error("rollback: the file holds model version {}, at least {minimum} is required", found.map_or_else(|| "none (0)".to_string(), |v| v.to_string()))]
    Rollback {
        /// The minimum version required.
        minimum: u64,
        /// The version the file carries, if any.
        found: Option<u64>,
    },
    /// The encoder received more or fewer bytes than it was told to expect.
    #[error("input length changed: expected {expected} bytes, got {actual}")]
    LengthMismatch {
        /// Declared plaintext length.
        expected: u64,
        /// Bytes actually supplied (a lower bound when too many were given).
        actual: u64,
    },
    /// A parameter given to the API is invalid (not a property of a file).
    #[error("invalid parameter: {0}")]
    InvalidParameter(&'static str),
    /// A verification was asked for what it cannot check, whatever the
    /// file (decided before any file is read).
    #[error("{0}")]
    Unverifiable(#[from] crate::verify::Unverifiable),
    /// A buffer whose size a file decides could not be allocated (every
    /// such allocation is fallible: a forged size is an error, never an
    /// abort).
    #[error("out of memory: {0}")]
    OutOfMemory(&'static str),
    /// An I/O error from the underlying reader or writer.
    #[error("I/O error: {0}")]
    Io(#[from] io::Error),
}

impl Error {
    /// The specification's outcome category of this error.
    pub fn outcome(&self) -> Outcome {
        match self {
            Self::NotAva3(_) => Outcome::NotAva3,
            Self::UnsupportedVersion(_) => Outcome::UnsupportedVersion,
            Self::UnsupportedFlags(_) | Self::CorruptHeader(_) => Outcome::HeaderFailure,
            Self::WrongKey { .. } => Outcome::WrongKey,
            Self::BlockAuth { .. } => Outcome::BlockFailure,
            Self::Truncated(_) => Outcome::Truncated,
            Self::CorruptTrailer(_) => Outcome::TrailerFailure,
            Self::TrailingData => Outcome::TrailingData,
            Self::KeylessDigestMismatch | Self::PlaintextDigestMismatch { .. } => {
                Outcome::IntegrityFailure
            }
            Self::BadSignature(_) => Outcome::BadSignature,
            Self::UnknownSigner { .. } => Outcome::UnknownSigner,
            Self::Unsigned => Outcome::Unsigned,
            Self::NameMismatch { .. } => Outcome::NameMismatch,
            Self::Rollback { .. } => Outcome::Rollback,
            Self::LengthMismatch { .. }
            | Self::InvalidParameter(_)
            | Self::Unverifiable(_)
            | Self::OutOfMemory(_)
            | Self::Io(_) => Outcome::Other,
        }
    }

    /// True when the error is a property of the file (it is bad), false for
    /// I/O problems and API misuse.
    pub fn is_bad_file(&self) -> bool {
        self.outcome() != Outcome::Other
    }

    pub(crate) fn truncated(what: impl Into<String>) -> Self {
        Self::Truncated(what.into())
    }

    /// Converts this error into an [`io::Error`] whose inner error is this one,
    /// for `Read`/`Write` implementations. [`Error::from_io`] undoes it.
    pub fn into_io(self) -> io::Error {
        match self {
            Self::Io(e) => e,
            other => {
                let kind = match other.outcome() {
                    Outcome::Truncated => io::ErrorKind::UnexpectedEof,
                    Outcome::Other => io::ErrorKind::InvalidInput,
                    _ => io::ErrorKind::InvalidData,
                };
                io::Error::new(kind, other)
            }
        }
    }

    /// Recovers an [`Error`] wrapped by [`Error::into_io`]; other I/O errors
    /// become [`Error::Io`].
    pub fn from_io(e: io::Error) -> Self {
        if e.get_ref().is_some_and(|inner| inner.is::<Error>()) {
            match e.into_inner().map(|b| b.downcast::<Error>()) {
                Some(Ok(inner)) => *inner,
                // Unreachable by the check above; keep a typed error anyway.
                _ => Self::InvalidParameter("unrecognised wrapped error"),
            }
        } else {
            Self::Io(e)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_outcome_table_is_consistent() {
        let mut codes = std::collections::HashSet::new();
        for o in Outcome::ALL {
            assert!(codes.insert(o.code()), "{o:?}: code {} twice", o.code());
            assert_eq!(Outcome::parse(o.as_str()), Some(o));
            assert_eq!(format!("{o:?}"), o.type_name());
        }
        let sorted: Vec<u32> = Outcome::ALL.iter().map(|o| o.code()).collect();
        assert!(sorted.windows(2).all(|w| w[0] < w[1]), "{sorted:?}");
    }
}
