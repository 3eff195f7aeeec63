//! # ava3-format
//!
//! The AVA3 model protection format (versions 1 and 2), as specified in
//! `spec/AVA3-ENCODING-SPEC.md`: a 128-byte authenticated header (in
//! version 2 followed by a model name and version), the model
//! cut into blocks (64 KiB by default) that are byte-shuffled, XOR-scrambled,
//! AES-256-CTR encrypted and tagged with HMAC-SHA256, and a 120-byte trailer
//! that carries the encrypted plaintext SHA-256 and a keyless SHA-256 over
//! the stored bytes; in version 2, Ed25519 publisher signatures after it.
//!
//! Data flows one way: bytes in, blocks, bytes out.
//!
//! A file goes through the crate along one path: keys, then encode; or
//! open (no key), unlock (key ring), read. The whole public API, each item
//! reachable by exactly one path, the crate root:
//!
//! **Keys**
//! - [`MasterKey`]: a 256-bit key (from bytes, hex, or the OS RNG), wiped on
//!   drop, never printed.
//! - [`KeyId`]: the public 16-byte fingerprint of a master key.
//! - [`SigningKey`], [`PublicKey`]: a publisher's Ed25519 key pair (PEM
//!   key files), for signed version 2 files; [`SignerId`]: the public
//!   16-byte fingerprint of a public key.
//!
//! **Encode** (plaintext in, AVA3 out)
//! - [`Encoder`]: a streaming encoder (`Write` in, any `Write` out); call
//!   `finish`.
//! - [`encode_at()`]: encodes a source read by offset into a destination
//!   written by offset, on several lanes.
//! - [`encode_to_vec`]: a whole plaintext in memory to a whole file in memory.
//! - [`EncodeOptions`]: block size, payload kind and threads, honoured by
//!   every encoder.
//! - [`EncodeSummary`]: the header written and the digests recorded.
//!
//! **Open, unlock, read**: one path, `Sealed::read` (or `read_at`), then
//! `Sealed::unlock(keys, policy)`, then a reader; the two readers differ
//! only by I/O.
//! - [`Sealed`]: a file's header read and validated, no key needed (key id,
//!   payload kind, sizes, signer ids).
//! - [`Unlocked`]: the header authenticated under the key ring's key (keys
//!   are borrowed: `&[&MasterKey]`), with the requirements of a [`Policy`]
//!   fixed at that moment; every reader below is built from it.
//! - [`Policy`]: what a reader requires of a file: trusted signers, a
//!   model name, a minimum version.
//! - [`Header`]: the fields of a header, read-only; [`Metadata`]: the
//!   model name and version a version 2 header records.
//! - [`Layout`]: sizes and offsets of a file's blocks and trailer.
//! - [`Decoder`] (`Unlocked::decoder`): the streaming reader (`Read`, and
//!   `Seek` over a seekable input); it releases nothing when a signature
//!   is required, since a stream can check it only at its end.
//! - [`RandomAccessReader`] (`Unlocked::random_access`): authenticated
//!   `read_at` from many threads, whole blocks in parallel;
//!   [`PlaintextReader`] (`RandomAccessReader::reader`): its plaintext in
//!   order (`Read`, `Seek`), the way a signed file is streamed;
//!   `RandomAccessReader::decode_to_memfd` (Linux, Android): the whole
//!   plaintext in a sealed memory file, for path-only loaders.
//! - [`DecodeOptions`]: whether the readers use the rayon pool.
//! - [`decode_to_vec`]: the same path for a whole file in memory.
//! - [`Check`]: what a verification checks (keys, requirements, depth);
//!   [`Sealed::verify`] runs it, the one verification entry;
//!   [`Unverifiable`]: a check that cannot be made whatever the file.
//! - [`Report`]: what a verification established; [`Level`]: the level it
//!   reached, one name per level for every front end (`keyless`, `signed`,
//!   `keyed`, `keyed+signed`, `deep`, `deep+signed`).
//!
//! **Bytes in and out**
//! - [`ReadAt`]: a source read by offset through a shared reference.
//! - [`WriteAt`]: a destination written by offset from several threads.
//! - [`FileRange`]: a window of a file (a model inside an APK, say).
//! - [`SequentialSink`]: a stream seen as a [`WriteAt`] written in order.
//!
//! **Release manifests**
//! - [`sign_manifest`], [`verify_manifest`], [`MANIFEST_SIGNATURE_LABEL`]:
//!   the detached, labelled signature of a release manifest's bytes;
//!   [`sign_checksums`], [`verify_checksums`], [`CHECKSUMS_SIGNATURE_LABEL`]:
//!   the same for a release's `SHA256SUMS`.
//! - [`check_manifest_path`], [`ManifestPaths`]: which paths a manifest
//!   may list.
//!
//! **Payload**
//! - [`PayloadKind`]: what the header says the model is (MLC, GGUF, LiteRT).
//! - [`Content`]: what the first bytes of a file look like.
//! - [`detect_kind`]: the kind from a file name and its first bytes.
//!
//! **Failures**
//! - [`Error`]: every failure, each mapping to one outcome of the spec.
//! - [`Outcome`]: the spec's outcome names (section 7.4).
//! - [`HeaderProblem`], [`TrailerProblem`], [`SignatureProblem`]: which
//!   check of a header, trailer or signature failed.
//! - [`Result`]: `std::result::Result` with [`Error`].
//!
//! **Parameters**
//! - [`DEFAULT_BLOCK_SIZE`], [`MIN_BLOCK_SIZE`], [`MAX_BLOCK_SIZE`]: 64
//!   KiB, 4 KiB, 16 MiB.
//! - [`block_size_is_valid`], [`BLOCK_SIZE_RULE`]: the block-size rule, as
//!   a test and in words.
//! - [`MAX_NAME_LEN`], [`MAX_SIGNATURES`]: 255 bytes of model name, 16
//!   signatures.
//!
//! The crypto lives in `keys` (HKDF), `cipher` (one file's MACs, sealing
//! and opening one block) and `obfuscation` (scramble pad and shuffle);
//! `stream` reads the stored structure from any [`std::io::Read`]; none of
//! them is public.
//!
//! ```
//! use ava3_format::{encode_to_vec, decode_to_vec, EncodeOptions, MasterKey};
//! let key = MasterKey::from_bytes([7; 32]);
//! let (file, _) = encode_to_vec(&key, b"weights", &EncodeOptions::default()).unwrap();
//! assert_eq!(decode_to_vec(&key, &file).unwrap(), b"weights");
//! ```

// Unsafe code is denied everywhere but `obfuscation::simd` (the SSSE3 and
// NEON shuffles, which a benchmark justifies: BENCHMARKS.md section 1).
#![deny(unsafe_code)]
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

mod cipher;
mod decode;
mod encode;
mod encode_at;
mod error;
mod header;
mod io;
mod keys;
mod kind;
mod manifest;
#[cfg(any(target_os = "linux", target_os = "android"))]
mod memfd;
mod obfuscation;
mod random_access;
mod sealed;
mod signature;
mod stream;
mod verify;

pub use decode::{decode_to_vec, DecodeOptions, Decoder};
pub use encode::{encode_to_vec, EncodeOptions, EncodeSummary, Encoder};
pub use encode_at::encode_at;
pub use error::{Error, HeaderProblem, Outcome, Result, SignatureProblem, TrailerProblem};
pub use header::{
    block_size_is_valid, Header, Layout, Metadata, BLOCK_SIZE_RULE, DEFAULT_BLOCK_SIZE,
    MAX_BLOCK_SIZE, MAX_NAME_LEN, MIN_BLOCK_SIZE,
};
pub use io::{FileRange, ReadAt, SequentialSink, WriteAt};
pub use keys::{KeyId, MasterKey};
pub use kind::{detect_kind, Content, PayloadKind};
pub use manifest::{
    check_manifest_path, sign_checksums, sign_manifest, verify_checksums, verify_manifest,
    ManifestPaths, CHECKSUMS_SIGNATURE_LABEL, MANIFEST_SIGNATURE_LABEL,
};
pub use random_access::{PlaintextReader, RandomAccessReader};
pub use sealed::{Sealed, Unlocked};
pub use signature::{Policy, PublicKey, SignerId, SigningKey, MAX_SIGNATURES};
pub use verify::{Check, Level, Report, Unverifiable};

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
