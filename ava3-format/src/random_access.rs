//! Random access (spec 8.3): any plaintext range, reading only the header,
//! the trailer and the blocks that cover it. `read_at` takes `&self` and is
//! safe to call from many threads at once.

use std::fmt;
use std::io;

use rayon::prelude::*;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use crate::cipher::FileCipher;
use crate::error::{Error, Result};
use crate::header::{Header, Layout, Trailer, TAG_LEN, TRAILER_LEN};
use crate::io::ReadAt;
use crate::keys::MasterKey;
use crate::sealed::{Sealed, Unlocked};
use crate::signature::{signed_message, Policy, SignerId};

/// Authenticated random access to the plaintext of an AVA3 file.
pub struct RandomAccessReader<S> {
    source: S,
    header: Header,
    cipher: FileCipher,
    plaintext_sha256: [u8; 32],
    keyless_sha256: [u8; 32],
    /// The tags the trusted signer signed, when a signature is required:
    /// every block read must carry its signed tag (spec 8.3 step 4).
    signed_tags: Option<Vec<[u8; TAG_LEN]>>,
    signer: Option<SignerId>,
}

impl<S> fmt::Debug for RandomAccessReader<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RandomAccessReader")
            .field("header", &self.header)
            .finish_non_exhaustive()
    }
}

impl Unlocked {
    /// The random-access reader of this file, read from `source` (the
    /// whole file). Checks the file length against the header (truncated or
    /// trailing data) and authenticates the trailer (spec 8.3 steps 2 and
    /// 3), so the plaintext length and the recorded digest are trustworthy
    /// before any block is read.
    pub fn random_access<S: ReadAt>(self, source: S) -> Result<RandomAccessReader<S>> {
        let layout = *self.layout();
        let size = source.size()?;
        if size < layout.file_len() {
            return Err(Error::truncated(format!(
                "the file has {size} bytes, its header announces {}",
                layout.file_len()
            )));
        }
        if size > layout.file_len() {
            return Err(Error::TrailingData);
        }
        let mut t = [0u8; TRAILER_LEN];
        source.read_exact_at(&mut t, layout.trailer_offset())?;
        let trailer = Trailer::parse(&t, &layout)?;
        let (sealed, cipher, policy) = self.into_parts();
        let plaintext_sha256 = cipher.open_trailer(&sealed.header().mac, &trailer)?;
        let (signed_tags, signer) = check_signatures(&source, &sealed, &policy, &t)?;
        Ok(RandomAccessReader {
            source,
            header: sealed.header().clone(),
            cipher,
            plaintext_sha256,
            keyless_sha256: trailer.keyless_sha256,
            signed_tags,
            signer,
        })
    }
}

/// Spec 8.3 step 3b: the signature section, and when `policy` requires a
/// signature, every tag of the file (32 bytes per block, read in parallel)
/// and the signatures over their digest. Returns the signed tags.
#[allow(clippy::type_complexity)]
fn check_signatures<S: ReadAt>(
    source: &S,
    sealed: &Sealed,
    policy: &Policy,
    trailer: &[u8; TRAILER_LEN],
) -> Result<(Option<Vec<[u8; TAG_LEN]>>, Option<SignerId>)> {
    let layout = sealed.layout();
    let Some(section) = sealed.signature_section(source)? else {
        return Ok((None, None));
    };
    if !policy.requires_signature() {
        return Ok((None, None));
    }
    let n = usize::try_from(layout.block_count())
        .map_err(|_| Error::InvalidParameter("too many blocks for this platform"))?;
    let mut tags = vec![[0u8; TAG_LEN]; n];
    tags.par_chunks_mut(1024)
        .enumerate()
        .try_for_each(|(c, chunk)| {
            for (k, tag) in chunk.iter_mut().enumerate() {
                let index = (c * 1024 + k) as u64;
                source.read_exact_at(tag, layout.tag_offset(index))?;
            }
            Ok::<_, io::Error>(())
        })?;
    let mut h = Sha256::new();
    for t in &tags {
        h.update(t);
    }
    let digest: [u8; 32] = h.finalize().into();
    let message = signed_message(sealed.raw(), trailer, &digest);
    let signer = policy.check_signatures(&section, &message)?;
    Ok((Some(tags), signer))
}

impl<S: ReadAt> RandomAccessReader<S> {
    /// The trusted signer whose signature verified at open (only when the
    /// policy required one).
    pub fn signer(&self) -> Option<SignerId> {
        self.signer
    }
}

impl<S: ReadAt> RandomAccessReader<S> {
    /// Opens `source` with one key.
    pub fn open(source: S, key: &MasterKey) -> Result<Self> {
        Self::open_with_keys(source, std::slice::from_ref(key))
    }

    /// Opens `source`, picking the key by key id. Authenticates the header,
    /// checks the file length against it (truncated or trailing data) and
    /// authenticates the trailer, so the plaintext length and the recorded
    /// digest are trustworthy before any block is read.
    pub fn open_with_keys(source: S, keys: &[MasterKey]) -> Result<Self> {
        Self::open_with_policy(source, keys, &Policy::default())
    }

    /// Opens `source` like [`RandomAccessReader::open_with_keys`] and
    /// requires what `policy` says: name and version, and, with trusted
    /// signers, a valid signature over every tag (read at open: 32 bytes
    /// per block), each block's tag then compared with the signed one.
    pub fn open_with_policy(source: S, keys: &[MasterKey], policy: &Policy) -> Result<Self> {
        Sealed::read_at(&source)?
            .unlock_with(keys, policy)?
            .random_access(source)
    }

    /// The authenticated header.
    pub fn header(&self) -> &Header {
        &self.header
    }

    /// The layout; its plaintext length is authenticated.
    pub fn layout(&self) -> &Layout {
        self.cipher.layout()
    }

    /// The plaintext length (authenticated).
    pub fn len(&self) -> u64 {
        self.layout().plaintext_len()
    }

    /// True for an empty plaintext.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The plaintext SHA-256 recorded by the encoder (authenticated).
    pub fn recorded_plaintext_sha256(&self) -> [u8; 32] {
        self.plaintext_sha256
    }

    /// The keyless SHA-256 recorded in the trailer (not recomputed here).
    pub fn keyless_sha256(&self) -> [u8; 32] {
        self.keyless_sha256
    }

    /// The source.
    pub fn source(&self) -> &S {
        &self.source
    }

    /// Reads, authenticates and decrypts block `index` into `out`
    /// (`block_len(index)` bytes). The stored bytes are read into this
    /// thread's scratch buffer (ciphertext: reused, not wiped).
    pub fn read_block(&self, index: u64, out: &mut [u8]) -> Result<()> {
        thread_local! {
            // Not a `const` initializer: clippy's missing_const_for_thread_local
            // misreads one in release builds (it asks for `const` when it is).
            static STORED: std::cell::RefCell<Vec<u8>> = std::cell::RefCell::new(Vec::with_capacity(0));
        }
        let layout = self.layout();
        let len = layout.block_len(index);
        STORED.with_borrow_mut(|stored| {
            stored.resize(len + TAG_LEN, 0);
            self.source
                .read_exact_at(stored, layout.block_offset(index))
                .map_err(|e| {
                    if e.kind() == io::ErrorKind::UnexpectedEof {
                        Error::truncated(format!("the source ends inside block {index}"))
                    } else {
                        Error::Io(e)
                    }
                })?;
            if let Some(tags) = &self.signed_tags {
                // The tag must be the one the publisher signed: a holder of
                // the master key can mint valid tags, not signed ones.
                let signed = tags.get(index as usize).ok_or(Error::BlockAuth { index })?;
                if !bool::from(signed.ct_eq(&stored[len..])) {
                    return Err(Error::BlockAuth { index });
                }
            }
            self.cipher.open_block(index, stored, &mut out[..len])?;
            Ok(())
        })
    }

    /// Reads plaintext at `offset` into `buf`; returns the bytes read (fewer
    /// than `buf.len()` only at the end of the plaintext). No byte of a block
    /// that fails authentication is written to `buf`.
    pub fn read_at(&self, buf: &mut [u8], offset: u64) -> Result<usize> {
        let layout = *self.layout();
        let len = layout.plaintext_len();
        if offset >= len || buf.is_empty() {
            return Ok(0);
        }
        let n = buf
            .len()
            .min((len - offset).min(usize::MAX as u64) as usize);
        let bs = layout.block_size();
        let mut done = 0usize;
        let mut scratch: Option<Zeroizing<Vec<u8>>> = None;
        while done < n {
            let pos = offset + done as u64;
            let index = pos / bs;
            let within = (pos - index * bs) as usize;
            let blen = layout.block_len(index);
            let take = (blen - within).min(n - done);
            if within == 0 && take == blen {
                self.read_block(index, &mut buf[done..done + blen])?;
            } else {
                let s = scratch.get_or_insert_with(|| Zeroizing::new(vec![0u8; bs as usize]));
                self.read_block(index, &mut s[..blen])?;
                buf[done..done + take].copy_from_slice(&s[within..within + take]);
            }
            done += take;
        }
        Ok(n)
    }

    /// Fills `buf` from `offset`, failing when the plaintext is shorter.
    /// (Both take their arguments in the order of [`ReadAt`] and of
    /// `std::os::unix::fs::FileExt`: the buffer, then the offset.)
    pub fn read_exact_at(&self, buf: &mut [u8], offset: u64) -> Result<()> {
        let n = self.read_at(buf, offset)?;
        if n == buf.len() {
            Ok(())
        } else {
            Err(Error::InvalidParameter(
                "read past the end of the plaintext",
            ))
        }
    }

    /// Decodes the whole plaintext into `out` (exactly `len()` bytes), blocks
    /// in parallel on the current rayon pool. On failure `out` is wiped.
    pub fn decode_all_into(&self, out: &mut [u8]) -> Result<()> {
        if out.len() as u64 != self.len() {
            return Err(Error::InvalidParameter(
                "the output buffer must be exactly the plaintext length",
            ));
        }
        self.decode_blocks_into(0, out)
    }

    /// Decodes the blocks from `first` on that `out` covers (whole blocks,
    /// the final one possibly short) into `out`, in parallel on the current
    /// rayon pool. On failure `out` is wiped and the lowest failing block
    /// is reported, whatever the thread timing.
    pub fn decode_blocks_into(&self, first: u64, out: &mut [u8]) -> Result<()> {
        let layout = *self.layout();
        let start = layout.plaintext_offset(first);
        let fits = first < layout.block_count()
            && start
                .checked_add(out.len() as u64)
                .is_some_and(|end| end <= layout.plaintext_len())
            && ((out.len() as u64).is_multiple_of(layout.block_size())
                || start + out.len() as u64 == layout.plaintext_len());
        if !fits {
            return Err(Error::InvalidParameter(
                "the output must cover whole blocks of the plaintext",
            ));
        }
        let first_failure = if out.is_empty() {
            self.read_block(first, out).err().map(|e| (0, e))
        } else {
            out.par_chunks_mut(layout.block_size() as usize)
                .enumerate()
                .filter_map(|(k, chunk)| {
                    self.read_block(first + k as u64, chunk)
                        .err()
                        .map(|e| (k, e))
                })
                .min_by_key(|(k, _)| *k)
        };
        match first_failure {
            None => Ok(()),
            Some((_, e)) => {
                zeroize::Zeroize::zeroize(out);
                Err(e)
            }
        }
    }
}
