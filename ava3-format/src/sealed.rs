//! Opening a file in two steps, as every reader does (spec 7.1):
//!
//! 1. [`Sealed`]: the header read and validated, no key needed. It tells the
//!    key id (which key to fetch), the payload kind (which runtime to start)
//!    and the sizes; keyless verification needs nothing more.
//! 2. [`Unlocked`]: the header authenticated under the key ring's key for
//!    that id (only `K_mac` is derived before the header MAC passes), with
//!    the file's subkeys, and the requirements ([`Policy`]: trusted signers,
//!    model name, minimum version) fixed with the key. The two readers,
//!    which differ only by I/O, are built from it: the streaming decoder
//!    ([`Unlocked::decoder`]) and the random-access reader
//!    ([`Unlocked::random_access`]). Verification ([`Sealed::verify`],
//!    with a [`crate::Check`]) unlocks the same way when given a key.
//!
//! ```
//! use ava3_format::{encode_to_vec, EncodeOptions, MasterKey, Sealed};
//! let key = MasterKey::from_bytes([7; 32]);
//! let (file, _) = encode_to_vec(&key, b"weights", &EncodeOptions::default()).unwrap();
//! let mut input = &file[..];
//! let sealed = Sealed::read(&mut input).unwrap();
//! assert_eq!(sealed.header().key_id(), key.key_id());
//! let unlocked = sealed.unlock(&[&key], &Default::default()).unwrap();
//! let plain = std::io::read_to_string(unlocked.decoder(input, &Default::default())).unwrap();
//! assert_eq!(plain, "weights");
//! ```

use std::fmt;
use std::io::Read;

use crate::cipher::FileCipher;
use crate::error::Result;
use crate::header::{Header, Layout, HEADER_LEN};
use crate::io::ReadAt;
use crate::keys::MasterKey;
use crate::signature::{Policy, SignatureSection, SignerId};
use crate::stream::read_full;

/// A file whose header was read and validated but not authenticated
/// (spec 7.1 steps 1-4).
#[derive(Clone)]
pub struct Sealed {
    header: Header,
    raw: Vec<u8>,
}

impl fmt::Debug for Sealed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sealed")
            .field("header", &self.header)
            .finish()
    }
}

impl Sealed {
    /// Reads the header from the start of `input`, which is left just after
    /// it, where the blocks begin.
    pub fn read<R: Read + ?Sized>(input: &mut R) -> Result<Self> {
        let mut raw = vec![0u8; HEADER_LEN];
        let n = read_full(input, &mut raw)?;
        raw.truncate(n);
        if n == HEADER_LEN {
            Header::check_prefix(&raw)?;
            let len = Header::announced_len(&raw)?;
            raw.resize(len, 0);
            let m = read_full(input, &mut raw[HEADER_LEN..])?;
            raw.truncate(HEADER_LEN + m);
        }
        let header = Header::parse(&raw)?;
        Ok(Self { header, raw })
    }

    /// Reads the header of a source read by offset.
    pub fn read_at<S: ReadAt + ?Sized>(source: &S) -> Result<Self> {
        let size = source.size()?;
        let n = size.min(HEADER_LEN as u64) as usize;
        let mut raw = vec![0u8; n];
        source.read_exact_at(&mut raw, 0)?;
        if n == HEADER_LEN {
            Header::check_prefix(&raw)?;
            let len = (Header::announced_len(&raw)? as u64).min(size) as usize;
            raw.resize(len, 0);
            source.read_exact_at(&mut raw[HEADER_LEN..], HEADER_LEN as u64)?;
        }
        let header = Header::parse(&raw)?;
        Ok(Self { header, raw })
    }

    /// The signer ids the signature section of `source` (the whole file)
    /// lists, in order; not verified (a [`crate::Policy`] with trusted keys
    /// verifies). Empty for a file without signatures.
    pub fn signer_ids<S: ReadAt + ?Sized>(&self, source: &S) -> Result<Vec<SignerId>> {
        Ok(self
            .signature_section(source)?
            .map(|s| s.signer_ids())
            .unwrap_or_default())
    }

    /// Reads and parses the signature section of `source` (the whole
    /// file): `None` for a file without signatures (spec 3.5).
    pub(crate) fn signature_section<S: ReadAt + ?Sized>(
        &self,
        source: &S,
    ) -> Result<Option<SignatureSection>> {
        let layout = self.layout();
        let count = self.header.signature_count();
        if count == 0 {
            return Ok(None);
        }
        let mut raw = vec![0u8; layout.signatures_len() as usize];
        source
            .read_exact_at(&mut raw, layout.signatures_offset())
            .map_err(|e| {
                if e.kind() == std::io::ErrorKind::UnexpectedEof {
                    crate::error::Error::truncated("the input ends before its signature section")
                } else {
                    e.into()
                }
            })?;
        SignatureSection::parse(&raw, count).map(Some)
    }

    /// The header as read (not yet authenticated).
    pub fn header(&self) -> &Header {
        &self.header
    }

    /// The layout the header describes.
    pub fn layout(&self) -> Layout {
        self.header.layout()
    }

    /// The header's bytes (128, and the extension records of version 2).
    pub(crate) fn raw(&self) -> &[u8] {
        &self.raw
    }

    /// Picks the key whose id the header records and authenticates the
    /// header with it (spec 7.1 steps 5 and 6); only then are the other
    /// subkeys derived and the pad and shuffles built. A forged header costs
    /// a few HMAC computations and allocates nothing. Then applies `policy`
    /// to the authenticated header (spec 7.1 step 7): the model name, the
    /// minimum version, and whether the file is signed when a signature is
    /// required. The keys and the requirements are fixed here: every reader
    /// built from the result checks the signature the policy requires, and
    /// nothing can change them afterwards.
    pub fn unlock(&self, keys: &[&MasterKey], policy: &Policy) -> Result<Unlocked> {
        let cipher = FileCipher::unlock(&self.header, &self.raw, keys)?;
        policy.check_binding(&self.header)?;
        policy.check_signed(&self.header)?;
        Ok(Unlocked {
            sealed: self.clone(),
            cipher,
            policy: policy.clone(),
        })
    }
}

/// A file whose header authenticated under a key: everything needed to
/// open its blocks and trailer.
pub struct Unlocked {
    sealed: Sealed,
    cipher: FileCipher,
    policy: Policy,
}

impl fmt::Debug for Unlocked {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Unlocked")
            .field("header", &self.sealed.header)
            .finish_non_exhaustive()
    }
}

impl Unlocked {
    /// The authenticated header.
    pub fn header(&self) -> &Header {
        &self.sealed.header
    }

    /// The layout (authenticated).
    pub fn layout(&self) -> &Layout {
        self.cipher.layout()
    }

    /// What the readers built from this file require of it.
    pub(crate) fn policy(&self) -> &Policy {
        &self.policy
    }

    pub(crate) fn raw(&self) -> &[u8] {
        self.sealed.raw()
    }

    pub(crate) fn cipher(&self) -> &FileCipher {
        &self.cipher
    }

    /// The header, the cipher and the policy, for the readers built from
    /// this file.
    pub(crate) fn into_parts(self) -> (Sealed, FileCipher, Policy) {
        (self.sealed, self.cipher, self.policy)
    }
}
