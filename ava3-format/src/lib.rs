//! # ava3-format
//!
//! The AVA3 v1 model protection format, as specified in
//! `spec/AVA3-ENCODING-SPEC.md`: a 128-byte authenticated header, the model
//! cut into blocks (64 KiB by default) that are byte-shuffled, XOR-scrambled,
//! AES-256-CTR encrypted and tagged with HMAC-SHA256, and a 120-byte trailer
//! that carries the encrypted plaintext SHA-256 and a keyless SHA-256 over
//! the stored bytes.
//!
//! Data flows one way: bytes in, blocks, bytes out.
//!
//! | module | what it holds |
//! |---|---|
//! | [`header`] | header, trailer and layout arithmetic |
//! | [`keys`] | master keys, key ids, HKDF subkeys |
//! | `cipher` | one file's crypto: MACs, sealing and opening a block |
//! | `obfuscation` | the XOR scramble pad and the byte shuffle |
//! | [`encode`] | the streaming encoder |
//! | [`decode`] | the streaming decoder (`Read` + `Seek`) |
//! | [`random_access`] | `read_at` from many threads |
//! | [`verify`] | keyless, keyed and deep verification |
//! | [`kind`] | payload kinds and content sniffing |
//!
//! ```
//! use ava3_format::{encode_to_vec, decode_to_vec, EncodeOptions, MasterKey};
//! let key = MasterKey::from_bytes([7; 32]);
//! let (file, _) = encode_to_vec(&key, b"weights", &EncodeOptions::default()).unwrap();
//! assert_eq!(decode_to_vec(&key, &file).unwrap(), b"weights");
//! ```

#![forbid(unsafe_code)]
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

mod cipher;
pub mod decode;
pub mod encode;
pub mod error;
pub mod header;
pub mod keys;
pub mod kind;
mod obfuscation;
pub mod random_access;
mod stream;
pub mod verify;

pub use decode::{decode_to_vec, DecodeOptions, Decoder};
pub use encode::{encode_to_vec, EncodeOptions, EncodeSummary, Encoder};
pub use error::{Error, HeaderProblem, Outcome, Result, TrailerProblem};
pub use header::{Header, Layout, DEFAULT_BLOCK_SIZE, MAX_BLOCK_SIZE, MIN_BLOCK_SIZE};
pub use keys::{KeyId, MasterKey};
pub use kind::{detect_kind, Content, PayloadKind};
pub use random_access::{read_header_at, FileRange, RandomAccessReader, ReadAt};
pub use stream::select_key;
pub use verify::{verify_keyed, verify_keyless, Level, Report};
