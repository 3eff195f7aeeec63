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
        let (signed_tags, signer) =
            check_signatures(&source, &sealed, &policy, &t, TAGS_KEPT_IN_ONE_PASS)?;
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

/// Tags read and hashed at a time at open (256 KiB of tags).
const TAG_CHUNK: usize = 8192;

/// Up to this many tags (2 MiB, a 4 GiB file of 64 KiB blocks) are kept
/// as they are hashed; a file with more is hashed twice: once with bounded
/// memory to check the signature, then, only if it verified, read again
/// into a table allocated fallibly. So a forged size (a sparse file whose
/// header announces terabytes) costs bounded memory before its signature
/// fails, and never aborts the process.
const TAGS_KEPT_IN_ONE_PASS: usize = 1 << 16;

/// Spec 8.3 step 3b: the signature section, and when `policy` requires a
/// signature, every tag of the file (32 bytes per block, read in chunks
/// in parallel, hashed in order) and the signatures over their digest.
/// Returns the signed tags.
#[allow(clippy::type_complexity)]
fn check_signatures<S: ReadAt>(
    source: &S,
    sealed: &Sealed,
    policy: &Policy,
    trailer: &[u8; TRAILER_LEN],
    kept_in_one_pass: usize,
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
    let verify = |digest: &[u8; 32]| {
        policy.check_signatures(&section, &signed_message(sealed.raw(), trailer, digest))
    };
    if n <= kept_in_one_pass {
        let mut tags = tag_table(n)?;
        let digest = hash_tags(source, &layout, n, Some(&mut tags))?;
        let signer = verify(&digest)?;
        return Ok((Some(tags), signer));
    }
    let digest = hash_tags(source, &layout, n, None)?;
    let signer = verify(&digest)?;
    let mut tags = tag_table(n)?;
    if hash_tags(source, &layout, n, Some(&mut tags))? != digest {
        // The tags changed between the two passes: the table is not the
        // one whose signature verified.
        return Err(Error::BadSignature(
            crate::error::SignatureProblem::Invalid {
                signer: signer.unwrap_or(SignerId([0; 16])),
            },
        ));
    }
    Ok((Some(tags), signer))
}

/// An empty table for `n` tags, allocated fallibly.
fn tag_table(n: usize) -> Result<Vec<[u8; TAG_LEN]>> {
    let mut tags = Vec::new();
    tags.try_reserve_exact(n)
        .map_err(|_| Error::OutOfMemory("the table of the signed block tags"))?;
    Ok(tags)
}

/// SHA-256 over the `n` tags of the file in order, read `TAG_CHUNK` at a
/// time (each chunk in parallel); appends them to `keep` when given.
fn hash_tags<S: ReadAt>(
    source: &S,
    layout: &Layout,
    n: usize,
    mut keep: Option<&mut Vec<[u8; TAG_LEN]>>,
) -> Result<[u8; 32]> {
    let mut chunk = vec![[0u8; TAG_LEN]; n.min(TAG_CHUNK)];
    let mut h = Sha256::new();
    let mut start = 0usize;
    while start < n {
        let len = (n - start).min(TAG_CHUNK);
        chunk[..len]
            .par_chunks_mut(1024)
            .enumerate()
            .try_for_each(|(c, part)| {
                for (k, tag) in part.iter_mut().enumerate() {
                    let index = (start + c * 1024 + k) as u64;
                    source.read_exact_at(tag, layout.tag_offset(index))?;
                }
                Ok::<_, io::Error>(())
            })?;
        for t in &chunk[..len] {
            h.update(t);
        }
        if let Some(keep) = keep.as_deref_mut() {
            keep.extend_from_slice(&chunk[..len]);
        }
        start += len;
    }
    Ok(h.finalize().into())
}

impl<S: ReadAt> RandomAccessReader<S> {
    /// The trusted signer whose signature verified at open (only when the
    /// policy required one).
    pub fn signer(&self) -> Option<SignerId> {
        self.signer
    }
}

impl<S: ReadAt> RandomAccessReader<S> {
    /// The one path in one call: [`Sealed::read_at`], [`Sealed::unlock`]
    /// with `keys` and `policy`, [`Unlocked::random_access`].
    pub fn open(source: S, keys: &[&MasterKey], policy: &Policy) -> Result<Self> {
        Sealed::read_at(&source)?
            .unlock(keys, policy)?
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
    /// than `buf.len()` only at the end of the plaintext). The whole blocks
    /// inside the range are decoded in parallel on the current rayon pool,
    /// the partial ones at its edges alone. On failure the bytes of `buf`
    /// that the read covers are wiped: nothing partial is returned. Every
    /// front end's range read is this one (the C ABI's `read_at`, the
    /// Python reader's `read_at` and `readinto`).
    pub fn read_at(&self, buf: &mut [u8], offset: u64) -> Result<usize> {
        let len = self.len();
        if offset >= len || buf.is_empty() {
            return Ok(0);
        }
        let n = buf
            .len()
            .min(usize::try_from(len - offset).unwrap_or(usize::MAX));
        let out = &mut buf[..n];
        let result = self.read_span(out, offset);
        if result.is_err() {
            zeroize::Zeroize::zeroize(out);
        }
        result.map(|()| n)
    }

    /// Fills `out` (inside the plaintext) from `offset`: the edges block by
    /// block, the whole blocks between them in parallel.
    fn read_span(&self, out: &mut [u8], offset: u64) -> Result<()> {
        let bs = self.layout().block_size();
        let n = out.len();
        let head = usize::try_from((bs - offset % bs) % bs)
            .unwrap_or(usize::MAX)
            .min(n);
        self.read_blocks_one_by_one(&mut out[..head], offset)?;
        let pos = offset + head as u64;
        let rest = &mut out[head..];
        let whole = if pos + rest.len() as u64 == self.len() {
            rest.len()
        } else {
            rest.len() - rest.len() % bs as usize
        };
        if whole as u64 > bs {
            self.decode_blocks_into(pos / bs, &mut rest[..whole])?;
        } else {
            self.read_blocks_one_by_one(&mut rest[..whole], pos)?;
        }
        self.read_blocks_one_by_one(&mut rest[whole..], pos + whole as u64)
    }

    /// Fills `out` (inside the plaintext) from `offset`, one block at a
    /// time on this thread.
    fn read_blocks_one_by_one(&self, out: &mut [u8], offset: u64) -> Result<()> {
        let layout = *self.layout();
        let bs = layout.block_size();
        let n = out.len();
        let mut done = 0usize;
        let mut scratch: Option<Zeroizing<Vec<u8>>> = None;
        while done < n {
            let pos = offset + done as u64;
            let index = pos / bs;
            let within = (pos - index * bs) as usize;
            let blen = layout.block_len(index);
            let take = (blen - within).min(n - done);
            if within == 0 && take == blen {
                self.read_block(index, &mut out[done..done + blen])?;
            } else {
                let s = scratch.get_or_insert_with(|| Zeroizing::new(vec![0u8; bs as usize]));
                self.read_block(index, &mut s[..blen])?;
                out[done..done + take].copy_from_slice(&s[within..within + take]);
            }
            done += take;
        }
        Ok(())
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

impl<S: ReadAt> RandomAccessReader<S> {
    /// The plaintext as a stream from offset 0 (`Read` and `Seek`), decoded
    /// a batch of blocks at a time in parallel on the current rayon pool.
    /// Every block is authenticated (and, under a signature requirement,
    /// compared with its signed tag) before a byte of it is returned; the
    /// signature itself was checked at open. This is how a signed file is
    /// streamed: nothing is released before the signature verified.
    pub fn reader(&self) -> PlaintextReader<'_, S> {
        PlaintextReader {
            ra: self,
            pos: 0,
            buf: Zeroizing::new(Vec::new()),
            buf_start: 0,
            buf_len: 0,
        }
    }
}

/// The plaintext of a [`RandomAccessReader`] read in order, from
/// [`RandomAccessReader::reader`]. Its buffer (one batch of blocks, about
/// 1 MiB) is wiped when dropped.
pub struct PlaintextReader<'a, S> {
    ra: &'a RandomAccessReader<S>,
    pos: u64,
    buf: Zeroizing<Vec<u8>>,
    /// Plaintext offset of `buf[0]`.
    buf_start: u64,
    /// Valid bytes in `buf`.
    buf_len: usize,
}

impl<S> fmt::Debug for PlaintextReader<'_, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PlaintextReader")
            .field("pos", &self.pos)
            .finish_non_exhaustive()
    }
}

impl<S: ReadAt> PlaintextReader<'_, S> {
    /// Decodes the batch of blocks that holds `self.pos`.
    fn fill(&mut self) -> Result<()> {
        let layout = *self.ra.layout();
        let bs = layout.block_size();
        let first = self.pos / bs;
        let blocks = crate::encode::batch_blocks(bs) as u64;
        let start = first * bs;
        let len = (blocks * bs).min(layout.plaintext_len() - start) as usize;
        self.buf_len = 0;
        self.buf.resize(len, 0);
        self.ra.decode_blocks_into(first, &mut self.buf[..len])?;
        self.buf_start = start;
        self.buf_len = len;
        Ok(())
    }
}

impl<S: ReadAt> io::Read for PlaintextReader<'_, S> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if self.pos >= self.ra.len() || out.is_empty() {
            return Ok(0);
        }
        let end = self.buf_start + self.buf_len as u64;
        if self.pos < self.buf_start || self.pos >= end {
            self.fill().map_err(Error::into_io)?;
        }
        let within = (self.pos - self.buf_start) as usize;
        let n = out.len().min(self.buf_len - within);
        out[..n].copy_from_slice(&self.buf[within..within + n]);
        self.pos += n as u64;
        Ok(n)
    }
}

impl<S: ReadAt> io::Seek for PlaintextReader<'_, S> {
    fn seek(&mut self, to: io::SeekFrom) -> io::Result<u64> {
        let len = self.ra.len();
        let target = match to {
            io::SeekFrom::Start(p) => Some(p),
            io::SeekFrom::End(d) => len.checked_add_signed(d),
            io::SeekFrom::Current(d) => self.pos.checked_add_signed(d),
        }
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "seek before the start"))?;
        self.pos = target;
        Ok(target)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{encode_to_vec, EncodeOptions, SigningKey};
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A file whose tag of block 3 changes after `flip_after` reads of it.
    struct Changing {
        file: Vec<u8>,
        tag3: u64,
        reads_of_tag3: AtomicUsize,
        flip_after: usize,
    }

    impl ReadAt for Changing {
        fn read_exact_at(&self, buf: &mut [u8], offset: u64) -> io::Result<()> {
            self.file.read_exact_at(buf, offset)?;
            if offset == self.tag3 && buf.len() == TAG_LEN {
                let seen = self.reads_of_tag3.fetch_add(1, Ordering::SeqCst);
                if seen >= self.flip_after {
                    buf[0] ^= 1;
                }
            }
            Ok(())
        }
        fn size(&self) -> io::Result<u64> {
            Ok(self.file.len() as u64)
        }
    }

    fn signed_file() -> (MasterKey, Policy, Vec<u8>) {
        let key = MasterKey::from_bytes([3; 32]);
        let signer = SigningKey::from_seed(&[4; 32]);
        let mut policy = Policy::default();
        policy.trust(signer.public_key());
        let opts = EncodeOptions {
            block_size: 4096,
            signers: vec![std::sync::Arc::new(signer)],
            ..EncodeOptions::default()
        };
        let (file, _) = encode_to_vec(&key, &vec![7u8; 40_000], &opts).unwrap();
        (key, policy, file)
    }

    fn check(source: &Changing, key: &MasterKey, policy: &Policy, limit: usize) -> Result<usize> {
        let sealed = Sealed::read_at(source)?;
        let layout = sealed.layout();
        sealed.unlock(&[key], policy)?;
        let mut t = [0u8; TRAILER_LEN];
        source.read_exact_at(&mut t, layout.trailer_offset())?;
        let (tags, _) = check_signatures(source, &sealed, policy, &t, limit)?;
        Ok(tags.map_or(0, |t| t.len()))
    }

    /// Past the one-pass limit the tags are hashed twice,
    /// the table kept only after the signature verified, and a tag that
    /// changes between the passes is refused.
    #[test]
    fn a_large_file_is_checked_before_its_tag_table_is_kept() {
        let (key, policy, file) = signed_file();
        let layout = Sealed::read_at(&file[..]).unwrap().layout();
        let tag3 = layout.tag_offset(3);
        let src = |flip_after| Changing {
            file: file.clone(),
            tag3,
            reads_of_tag3: AtomicUsize::new(0),
            flip_after,
        };
        // Both paths keep all 10 tags.
        assert_eq!(check(&src(usize::MAX), &key, &policy, 1 << 19).unwrap(), 10);
        let two = src(usize::MAX);
        assert_eq!(check(&two, &key, &policy, 4).unwrap(), 10);
        assert_eq!(two.reads_of_tag3.load(Ordering::SeqCst), 2, "two passes");
        // Changed before the first pass: the signature fails, one pass only.
        let bad = src(0);
        assert!(matches!(
            check(&bad, &key, &policy, 4),
            Err(Error::BadSignature(_))
        ));
        assert_eq!(bad.reads_of_tag3.load(Ordering::SeqCst), 1);
        // Changed between the passes.
        assert!(matches!(
            check(&src(1), &key, &policy, 4),
            Err(Error::BadSignature(_))
        ));
    }
}
