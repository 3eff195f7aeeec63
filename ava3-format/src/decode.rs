//! The streaming decoder (spec 8.2): AVA3 bytes in through any [`Read`],
//! authenticated plaintext out through [`Read`], with [`Seek`] when the input
//! can seek. Holds two batches of blocks in memory whatever the file size:
//! the one being decoded and the one read ahead.

use std::fmt;
use std::io::{self, Read, Seek, SeekFrom};

use rayon::prelude::*;
use zeroize::{Zeroize, Zeroizing};

use crate::cipher::{FileCipher, KeylessHasher};
use crate::error::{Error, Result};
use crate::header::{Header, Layout, TAG_LEN};
use crate::keys::MasterKey;
use crate::sealed::{Sealed, Unlocked};
use crate::signature::{Policy, SignerId};
use crate::stream::{Batch, FileEnd, StoredReader};

/// Options of a decode or verify.
#[derive(Clone, Debug)]
pub struct DecodeOptions {
    /// Process the blocks of a batch on the current rayon pool.
    pub parallel: bool,
}

impl Default for DecodeOptions {
    fn default() -> Self {
        Self { parallel: true }
    }
}

/// A streaming decoder. Every byte it returns belongs to a block whose tag
/// was verified. Reading to the end also checks the trailer, the keyless
/// digest and the end of input; a caller that needs the whole file must read
/// until `read` returns 0 (or call [`Decoder::finish`]).
pub struct Decoder<R> {
    stored: StoredReader<R>,
    header: Header,
    raw: Vec<u8>,
    policy: Policy,
    signer: Option<SignerId>,
    cipher: FileCipher,
    plain: Zeroizing<Vec<u8>>,
    /// Valid bytes in `plain`.
    plain_len: usize,
    plain_pos: usize,
    /// Bytes of plaintext in one batch.
    batch_bytes: usize,
    /// Plaintext offset of `plain[0]`.
    plain_offset: u64,
    pending_error: Option<Error>,
    keyless: Option<KeylessHasher>,
    recorded_sha256: Option<[u8; 32]>,
    recorded_keyless: Option<[u8; 32]>,
    at_end: bool,
    parallel: bool,
}

impl<R> fmt::Debug for Decoder<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Decoder")
            .field("header", &self.header)
            .field("next_index", &self.stored.next_index)
            .finish_non_exhaustive()
    }
}

/// Why a streaming decoder refuses a signature requirement.
const SIGNED_NEEDS_RANDOM_ACCESS: &str =
    "a required signature is checked before any plaintext is released, which a streaming \
     decoder cannot do: open the file with RandomAccessReader (a seekable source) and read \
     its plaintext with reader()";

impl Unlocked {
    /// The streaming decoder of this file, reading the blocks from `rest`:
    /// the input just after the header (where [`Sealed::read`] left it).
    ///
    /// When the policy requires a signature, the decoder releases nothing:
    /// its first read fails (`Error::InvalidParameter`), since the
    /// signature covers every tag and can only be checked at the end of a
    /// stream (spec 7.3). A signed file is read through
    /// [`crate::RandomAccessReader::reader`], which checks the signature at
    /// open.
    pub fn decoder<R: Read + Send>(self, rest: R, options: &DecodeOptions) -> Decoder<R> {
        let refuse = self.policy().requires_signature();
        let mut d = self.verifying_decoder(rest, options);
        if refuse {
            d.pending_error = Some(Error::InvalidParameter(SIGNED_NEEDS_RANDOM_ACCESS));
        }
        d
    }

    /// The streaming decoder for a verification, which releases no
    /// plaintext to anyone and checks a required signature at the end.
    pub(crate) fn verifying_decoder<R: Read + Send>(
        self,
        rest: R,
        options: &DecodeOptions,
    ) -> Decoder<R> {
        let (sealed, cipher, policy) = self.into_parts();
        let layout = *cipher.layout();
        Decoder {
            stored: StoredReader::new(rest, layout, options.parallel),
            header: sealed.header().clone(),
            raw: sealed.raw().to_vec(),
            policy,
            signer: None,
            cipher,
            plain: Zeroizing::new(Vec::new()),
            plain_len: 0,
            plain_pos: 0,
            batch_bytes: crate::encode::batch_blocks(layout.block_size())
                * layout.block_size() as usize,
            plain_offset: 0,
            pending_error: None,
            keyless: Some(KeylessHasher::new(sealed.raw())),
            recorded_sha256: None,
            recorded_keyless: None,
            at_end: false,
            parallel: options.parallel,
        }
    }
}

impl<R: Read + Send> Decoder<R> {
    /// The one path in one call: [`Sealed::read`], [`Sealed::unlock`] with
    /// `keys` and `policy`, [`Unlocked::decoder`].
    pub fn open(
        mut input: R,
        keys: &[&MasterKey],
        policy: &Policy,
        options: &DecodeOptions,
    ) -> Result<Self> {
        let unlocked = Sealed::read(&mut input)?.unlock(keys, policy)?;
        Ok(unlocked.decoder(input, options))
    }

    /// Whether the policy this decoder was made under requires a
    /// signature (then checked at the end, for a verification only).
    pub(crate) fn requires_signature(&self) -> bool {
        self.policy.requires_signature()
    }

    /// The authenticated header.
    pub fn header(&self) -> &Header {
        &self.header
    }

    /// The layout (block size, plaintext length, block count).
    pub fn layout(&self) -> &Layout {
        self.cipher.layout()
    }

    /// The plaintext SHA-256 recorded by the encoder; known once the
    /// trailer was read and authenticated (after the last block).
    pub fn recorded_plaintext_sha256(&self) -> Option<[u8; 32]> {
        self.recorded_sha256
    }

    /// The keyless SHA-256 recorded in the trailer, once read to the end.
    pub fn keyless_sha256(&self) -> Option<[u8; 32]> {
        self.recorded_keyless
    }

    /// The trusted signer whose signature verified, once read to the end
    /// (only when the policy requires a signature).
    pub fn signer(&self) -> Option<SignerId> {
        self.signer
    }

    /// Decodes the next batch into `target` (at least one batch of
    /// plaintext long) and returns the bytes released: only blocks before
    /// the first failure, which becomes `pending_error`. Bytes of `target`
    /// past the released ones are wiped.
    fn decode_next(&mut self, target: &mut [u8]) -> Result<usize> {
        let Some(batch) = self.stored.next_batch()? else {
            self.finish_stream()?;
            return Ok(0);
        };
        let layout = *self.layout();
        self.plain_offset = layout.plaintext_offset(batch.first);
        let sizes: usize = (0..batch.complete)
            .map(|k| layout.block_len(batch.first + k as u64))
            .sum();
        let (cipher, parallel) = (&self.cipher, self.parallel);
        let (first, complete) = (batch.first, batch.complete);
        let plain = &mut target[..sizes];
        let results = self
            .stored
            .process(|stored| open_blocks(cipher, first, complete, stored, plain, parallel))?;
        let released = self.release(batch, results);
        target[released..sizes].zeroize();
        Ok(released)
    }

    /// Feeds the keyless digest with the good blocks, records the first
    /// failure, runs the end-of-stream checks after the last block; returns
    /// the plaintext bytes that may be released.
    fn release(&mut self, batch: Batch, results: Vec<Result<[u8; 32]>>) -> usize {
        let mut good = 0usize;
        for (k, r) in results.into_iter().enumerate() {
            match r {
                Ok(leaf) => {
                    if let Some(h) = self.keyless.as_mut() {
                        // The current batch is still in `stored.buf` (the
                        // read-ahead went to the spare buffer).
                        let block = self.stored.block(&batch, k);
                        h.push(&leaf, &block[block.len() - TAG_LEN..]);
                    }
                    good += 1;
                }
                Err(e) => {
                    self.pending_error = Some(e);
                    break;
                }
            }
        }
        if self.pending_error.is_none() {
            if let Some(e) = batch.truncated {
                self.pending_error = Some(e);
            } else if self.stored.blocks_left() == 0 {
                if let Err(e) = self.finish_stream() {
                    self.pending_error = Some(e);
                }
            }
        }
        (0..good)
            .map(|k| self.layout().block_len(batch.first + k as u64))
            .sum()
    }

    /// Decodes the next batch into `self.plain`.
    fn fill(&mut self) -> Result<()> {
        let mut plain = std::mem::take(&mut self.plain);
        if plain.len() < self.batch_bytes {
            // Allocated once; reused without wiping between batches (it is
            // overwritten); `Zeroizing` wipes it when the decoder is dropped.
            plain.resize(self.batch_bytes, 0);
        }
        let r = self.decode_next(&mut plain);
        self.plain = plain;
        self.plain_pos = 0;
        self.plain_len = *r.as_ref().unwrap_or(&0);
        r.map(|_| ())
    }

    /// Trailer, keyless digest and end-of-input checks (spec 7.3).
    fn finish_stream(&mut self) -> Result<()> {
        if self.at_end {
            return Ok(());
        }
        self.at_end = true;
        let keyless = self.keyless.take();
        let end = self.stored.finish(
            FileEnd {
                header: &self.header,
                raw: &self.raw,
                cipher: Some(&self.cipher),
                policy: &self.policy,
            },
            keyless,
        )?;
        self.recorded_sha256 = end.digest;
        self.recorded_keyless = Some(end.trailer.keyless_sha256);
        self.signer = end.signer;
        Ok(())
    }

    fn read_inner(&mut self, buf: &mut [u8]) -> Result<usize> {
        loop {
            if self.plain_pos < self.plain_len {
                let n = buf.len().min(self.plain_len - self.plain_pos);
                buf[..n].copy_from_slice(&self.plain[self.plain_pos..self.plain_pos + n]);
                self.plain_pos += n;
                return Ok(n);
            }
            if let Some(e) = self.pending_error.take() {
                // Keep failing on later calls.
                self.pending_error = Some(Error::InvalidParameter(
                    "the decoder already reported an error",
                ));
                return Err(e);
            }
            if self.at_end || buf.is_empty() {
                return Ok(0);
            }
            if buf.len() >= self.batch_bytes {
                // A large read: decode straight into the caller's buffer.
                self.plain_len = 0;
                self.plain_pos = 0;
                let n = self.decode_next(buf)?;
                self.plain_offset += n as u64;
                if n > 0 {
                    return Ok(n);
                }
            } else {
                self.fill()?;
            }
        }
    }

    /// Reads the rest of the input to the end, returning the plaintext
    /// SHA-256 recorded in the file once every check passed.
    pub fn finish(mut self) -> Result<[u8; 32]> {
        let mut sink = Zeroizing::new(vec![0u8; 1 << 16]);
        while self.read_inner(&mut sink)? > 0 {}
        self.recorded_sha256.ok_or(Error::InvalidParameter(
            "the decoder was positioned by a seek",
        ))
    }
}

impl<R: Read + Send> Read for Decoder<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.read_inner(buf).map_err(Error::into_io)
    }
}

impl<R: Read + Seek + Send> Seek for Decoder<R> {
    /// Seeks in the plaintext. The length is authenticated by the header, so
    /// seeking from the end is safe; the blocks read after a seek are
    /// authenticated as usual, but the keyless digest is no longer computed.
    /// A decoder whose policy requires a signature does not seek (the
    /// signature covers every tag): use [`crate::RandomAccessReader`].
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        if self.policy.requires_signature() {
            return Err(Error::InvalidParameter(
                "a decoder that requires a signature cannot seek; use the random-access reader",
            )
            .into_io());
        }
        let len = self.layout().plaintext_len();
        let cur = self.plain_offset + self.plain_pos as u64;
        let target = match pos {
            SeekFrom::Start(p) => Some(p),
            SeekFrom::End(d) => len.checked_add_signed(d),
            SeekFrom::Current(d) => cur.checked_add_signed(d),
        }
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "seek before the start"))?;
        if target >= self.plain_offset && target < self.plain_offset + self.plain_len as u64 {
            self.plain_pos = (target - self.plain_offset) as usize;
            return Ok(target);
        }
        self.keyless = None;
        self.plain_len = 0;
        self.plain_pos = 0;
        self.pending_error = None;
        let layout = *self.layout();
        if target >= len {
            self.plain_offset = target;
            self.at_end = true;
            return Ok(target);
        }
        let index = target / layout.block_size();
        self.stored
            .inner
            .seek(SeekFrom::Start(layout.block_offset(index)))?;
        self.stored.reposition(index);
        self.at_end = false;
        self.fill().map_err(Error::into_io)?;
        let skip = (target - self.plain_offset) as usize;
        self.plain_pos = skip.min(self.plain_len);
        Ok(target)
    }
}

/// Authenticates and decrypts `complete` blocks from `stored` (slots of
/// block size + 32 bytes) into `plain`; one result per block, in order.
fn open_blocks(
    cipher: &FileCipher,
    first: u64,
    complete: usize,
    stored: &[u8],
    plain: &mut [u8],
    parallel: bool,
) -> Vec<Result<[u8; 32]>> {
    let bs = cipher.layout().block_size() as usize;
    let slot = bs + TAG_LEN;
    let open = |(k, (s, p)): (usize, (&[u8], &mut [u8]))| {
        let len = p.len();
        cipher.open_block(first + k as u64, &s[..len + TAG_LEN], p)
    };
    if plain.is_empty() {
        // The single empty block of an empty plaintext (or none at all when
        // the input ended inside it).
        (0..complete)
            .map(|k| cipher.open_block(first + k as u64, &stored[..TAG_LEN], &mut []))
            .collect()
    } else if parallel {
        stored
            .par_chunks(slot)
            .zip(plain.par_chunks_mut(bs))
            .enumerate()
            .map(open)
            .collect()
    } else {
        stored
            .chunks(slot)
            .zip(plain.chunks_mut(bs))
            .enumerate()
            .map(open)
            .collect()
    }
}

/// Decodes a whole AVA3 file held in memory.
pub fn decode_to_vec(key: &MasterKey, file: &[u8]) -> Result<Vec<u8>> {
    let mut d = Decoder::open(file, &[key], &Policy::NONE, &DecodeOptions::default())?;
    let mut out = Vec::with_capacity(d.layout().plaintext_len().min(1 << 30) as usize);
    d.read_to_end(&mut out).map_err(Error::from_io)?;
    Ok(out)
}
