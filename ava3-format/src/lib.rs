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

// Unsafe code is denied everywhere but `obfuscation::simd` (SSSE3 shuffle).
#![deny(unsafe_code)]
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

mod cipher;
pub mod decode;
pub mod encode;
pub mod encode_at;
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
pub use encode_at::{encode_at, SequentialSink, WriteAt};
pub use error::{Error, HeaderProblem, Outcome, Result, TrailerProblem};
pub use header::{Header, Layout, DEFAULT_BLOCK_SIZE, MAX_BLOCK_SIZE, MIN_BLOCK_SIZE};
pub use keys::{KeyId, MasterKey};
pub use kind::{detect_kind, Content, PayloadKind};
pub use random_access::{read_header_at, FileRange, RandomAccessReader, ReadAt};
pub use stream::select_key;
pub use verify::{verify_keyed, verify_keyless, Level, Report};

/// Internals exposed for the benchmarks only; not a stable API.
#[doc(hidden)]
pub mod bench_internals {
    use crate::obfuscation::{scramble_pad, Shuffle};
    use zeroize::Zeroizing;

    /// The two obfuscation layers of one file, as the encoder applies them.
    #[allow(missing_debug_implementations)]
    pub struct Obfuscator {
        pad: Zeroizing<Vec<u8>>,
        shuffle: Shuffle,
    }

    impl Obfuscator {
        /// Derives the pad and the permutation for blocks of `block_size`.
        pub fn new(key: &[u8; 32], block_size: usize) -> Self {
            Self {
                pad: scramble_pad(key, block_size),
                shuffle: Shuffle::new(key, block_size),
            }
        }

        /// As the encoder seals a block of `data` given its keystream `ks`
        /// (consumed: the ciphertext is left in it): XORs `data` into `ks`,
        /// shuffles and scrambles into `out`, with the SIMD unit loop where
        /// the CPU has one.
        pub fn apply(&self, data: &[u8], ks: &mut [u8], out: &mut [u8]) {
            self.shuffle.forward_xor(data, ks, &self.pad, out);
        }

        /// The same with the portable unit loop.
        pub fn apply_scalar(&self, data: &[u8], ks: &mut [u8], out: &mut [u8]) {
            for (k, s) in ks.iter_mut().zip(data) {
                *k ^= s;
            }
            self.shuffle.forward_units_scalar(ks, &self.pad, out);
        }

        /// As the decoder opens a block: unscrambles and unshuffles `stored`
        /// into `out` and XORs the keystream `ks` (SIMD unit loop where the
        /// CPU has one).
        pub fn unapply(&self, stored: &[u8], ks: &[u8], out: &mut [u8]) {
            self.shuffle.inverse_xor(stored, ks, &self.pad, out);
        }

        /// The same with the portable unit loop (whole 16-byte units only).
        pub fn unapply_scalar(&self, stored: &[u8], ks: &[u8], out: &mut [u8]) {
            self.shuffle
                .inverse_units_scalar(stored, ks, &self.pad, out);
        }
    }
}
