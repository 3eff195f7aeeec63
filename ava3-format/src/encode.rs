//! The streaming encoder (spec 8.1): plaintext in through [`Write`], AVA3
//! bytes out, blocks sealed in batches, optionally on all cores.

use std::fmt;
use std::io::{self, Read, Write};
use std::sync::Arc;

use rayon::prelude::*;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::cipher::{FileCipher, KeylessHasher};
use crate::error::{Error, Result};
use crate::header::{Header, Layout, Metadata, Trailer, DEFAULT_BLOCK_SIZE, TAG_LEN};
use crate::keys::{random_salt, MasterKey, SALT_LEN};
use crate::kind::PayloadKind;
use crate::signature::{signed_message, SignatureSection, SigningKey};

/// Bytes of plaintext processed per batch: the blocks of one batch are
/// sealed (or opened) in parallel, so a streaming encoder or decoder holds
/// a batch or two in memory whatever the file size.
pub(crate) const BATCH_BYTES: usize = 1 << 20;

/// Options of an encode.
#[derive(Clone, Debug)]
pub struct EncodeOptions {
    /// Block size, a power of two from 4 KiB to 16 MiB (default 64 KiB).
    pub block_size: u32,
    /// Payload kind recorded in the header.
    pub payload_kind: PayloadKind,
    /// Threads that seal blocks (the output is byte-identical for every
    /// value): 1 seals on the calling thread; any other value seals on the
    /// current rayon pool, whose size the caller chooses
    /// (`ThreadPool::install`), and [`crate::encode_at()`] runs that many
    /// lanes (0: one per thread of the current rayon pool).
    pub threads: usize,
    /// The model name and version to record (version 2, spec 3.6).
    pub metadata: Metadata,
    /// Publisher keys that sign the file (version 2, spec 5.6), at most 16.
    pub signers: Vec<Arc<SigningKey>>,
}

impl EncodeOptions {
    /// Whether blocks are sealed on the rayon pool.
    pub(crate) fn parallel(&self) -> bool {
        self.threads != 1
    }

    /// The lanes of [`crate::encode_at()`].
    pub(crate) fn lanes(&self) -> usize {
        match self.threads {
            0 => rayon::current_num_threads(),
            n => n,
        }
    }
}

impl Default for EncodeOptions {
    fn default() -> Self {
        Self {
            block_size: DEFAULT_BLOCK_SIZE,
            payload_kind: PayloadKind::Unknown,
            threads: 0,
            metadata: Metadata::default(),
            signers: Vec::new(),
        }
    }
}

/// What an encode produced.
#[derive(Clone, Debug)]
pub struct EncodeSummary {
    /// The header written.
    pub header: Header,
    /// SHA-256 of the plaintext (recorded, encrypted, in the trailer).
    pub plaintext_sha256: [u8; 32],
    /// The keyless SHA-256 recorded in the trailer.
    pub keyless_sha256: [u8; 32],
    /// Total bytes written.
    pub file_len: u64,
}

pub(crate) fn batch_blocks(block_size: u64) -> usize {
    (BATCH_BYTES / block_size as usize).max(1)
}

/// Derives the file's keys and builds its header (spec 4 and 5.1): the
/// cipher, the header and the header's bytes, MAC included.
pub(crate) fn start(
    key: &MasterKey,
    plaintext_len: u64,
    options: &EncodeOptions,
    salt: [u8; SALT_LEN],
) -> Result<(FileCipher, Header, Vec<u8>)> {
    let signatures = crate::signature::signer_count(&options.signers)?;
    let mut header = Header::for_encoder(
        options.block_size,
        plaintext_len,
        options.payload_kind,
        salt,
        key.key_id(),
        options.metadata.clone(),
        signatures,
    )
    .map_err(|e| match e {
        Error::InvalidParameter(_) => e,
        _ => Error::InvalidParameter("block size or plaintext length out of range"),
    })?;
    let cipher = FileCipher::new(key, &salt, header.layout());
    header.mac = cipher.header_mac(&header.to_bytes());
    let bytes = header.to_bytes();
    Ok((cipher, header, bytes))
}

/// The signature section of a file once its trailer is built (spec 5.6):
/// empty without signers.
pub(crate) fn sign(
    options: &EncodeOptions,
    header: &[u8],
    trailer: &Trailer,
    tags_sha256: &[u8; 32],
) -> Vec<u8> {
    if options.signers.is_empty() {
        return Vec::new();
    }
    let message = signed_message(header, &trailer.to_bytes(), tags_sha256);
    let keys: Vec<&SigningKey> = options.signers.iter().map(|k| &**k).collect();
    SignatureSection::sign_refs(&keys, &message).to_bytes()
}

/// A streaming encoder. Write exactly the declared number of plaintext bytes,
/// then call [`Encoder::finish`]: without it the output has no final block
/// and no trailer, and every decoder rejects it.
pub struct Encoder<W: Write> {
    inner: W,
    cipher: FileCipher,
    header: Header,
    header_bytes: Vec<u8>,
    options: EncodeOptions,
    /// Plaintext of the current batch: `pending[..filled]`.
    pending: Zeroizing<Vec<u8>>,
    filled: usize,
    /// Sealed output of the current batch.
    out: Vec<u8>,
    /// Sealed output not yet written (written while the next batch is sealed).
    unwritten: Vec<u8>,
    batch_bytes: usize,
    next_index: u64,
    received: u64,
    plaintext: Sha256,
    keyless: KeylessHasher,
    parallel: bool,
    poisoned: bool,
}

impl<W: Write> fmt::Debug for Encoder<W> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Encoder")
            .field("header", &self.header)
            .field("next_index", &self.next_index)
            .field("received", &self.received)
            .finish_non_exhaustive()
    }
}

impl<W: Write + Send> Encoder<W> {
    /// Starts an encode of exactly `plaintext_len` bytes with a fresh random
    /// salt, and writes the header.
    pub fn new(
        inner: W,
        key: &MasterKey,
        plaintext_len: u64,
        options: &EncodeOptions,
    ) -> Result<Self> {
        Self::build(inner, key, plaintext_len, options, random_salt()?)
    }

    /// Like [`Encoder::new`] with a caller-chosen salt. Only for test
    /// vectors (cargo feature `test-vectors`): reusing a salt with the same
    /// key reuses every subkey.
    #[cfg(any(test, feature = "test-vectors"))]
    pub fn new_with_salt_for_test_vectors(
        inner: W,
        key: &MasterKey,
        plaintext_len: u64,
        options: &EncodeOptions,
        salt: [u8; SALT_LEN],
    ) -> Result<Self> {
        Self::build(inner, key, plaintext_len, options, salt)
    }

    fn build(
        mut inner: W,
        key: &MasterKey,
        plaintext_len: u64,
        options: &EncodeOptions,
        salt: [u8; SALT_LEN],
    ) -> Result<Self> {
        let (cipher, header, bytes) = start(key, plaintext_len, options, salt)?;
        inner.write_all(&bytes)?;
        let batch_bytes =
            batch_blocks(cipher.layout().block_size()) * cipher.layout().block_size() as usize;
        Ok(Self {
            inner,
            cipher,
            pending: Zeroizing::new(vec![0u8; batch_bytes]),
            filled: 0,
            out: Vec::new(),
            unwritten: Vec::new(),
            batch_bytes,
            next_index: 0,
            received: 0,
            plaintext: Sha256::new(),
            keyless: KeylessHasher::new(&bytes),
            parallel: options.parallel(),
            poisoned: false,
            header,
            header_bytes: bytes,
            options: options.clone(),
        })
    }

    /// The header this encoder wrote.
    pub fn header(&self) -> &Header {
        &self.header
    }

    fn check_usable(&self) -> Result<()> {
        if self.poisoned {
            Err(Error::InvalidParameter(
                "the encoder failed earlier and cannot continue",
            ))
        } else {
            Ok(())
        }
    }

    /// Seals the pending plaintext (whole blocks, or the final block) into
    /// `out` while the previous batch's output is written and the plaintext
    /// is hashed; the new output waits in `unwritten`.
    fn flush_batch(&mut self) -> Result<()> {
        self.seal_batch(None)
    }

    /// Seals `external` (a whole batch from the caller's buffer, sealed
    /// without copying) or else the pending plaintext.
    fn seal_batch(&mut self, external: Option<&[u8]>) -> Result<()> {
        let layout = *self.cipher.layout();
        let bs = layout.block_size() as usize;
        let first = self.next_index;
        let filled = external.map_or(self.filled, <[u8]>::len);
        let n_blocks = filled.div_ceil(bs).max(1);
        let out_len = filled + n_blocks * TAG_LEN;
        self.out.resize(out_len, 0);
        let Self {
            inner,
            cipher,
            pending,
            out,
            unwritten,
            plaintext,
            parallel,
            ..
        } = self;
        let pending = match external {
            Some(batch) => batch,
            None => &pending[..filled],
        };
        let out = &mut out[..out_len];
        let cipher = &*cipher;
        let seal =
            |(k, (o, p)): (usize, (&mut [u8], &[u8]))| cipher.seal_block(first + k as u64, p, o);
        let mut side = || -> io::Result<()> {
            plaintext.update(pending);
            inner.write_all(unwritten)
        };
        let (written, leaves): (io::Result<()>, Vec<[u8; 32]>) = if filled == 0 {
            // Only the empty final block of an empty plaintext.
            (side(), vec![cipher.seal_block(first, &[], out)])
        } else if *parallel {
            rayon::join(side, || {
                out.par_chunks_mut(bs + TAG_LEN)
                    .zip(pending.par_chunks(bs))
                    .enumerate()
                    .map(seal)
                    .collect()
            })
        } else {
            let leaves = out
                .chunks_mut(bs + TAG_LEN)
                .zip(pending.chunks(bs))
                .enumerate()
                .map(seal)
                .collect();
            (side(), leaves)
        };
        written?;
        for (leaf, chunk) in leaves.iter().zip(self.out.chunks(bs + TAG_LEN)) {
            self.keyless.push(leaf, &chunk[chunk.len() - TAG_LEN..]);
        }
        self.next_index += n_blocks as u64;
        self.filled = 0;
        std::mem::swap(&mut self.out, &mut self.unwritten);
        Ok(())
    }

    fn remaining(&self) -> u64 {
        self.cipher.layout().plaintext_len() - self.received
    }

    fn accept(&mut self, mut buf: &[u8]) -> Result<usize> {
        self.check_usable()?;
        let total = buf.len();
        if total as u64 > self.remaining() {
            self.poisoned = true;
            return Err(Error::LengthMismatch {
                expected: self.cipher.layout().plaintext_len(),
                actual: self.received + total as u64,
            });
        }
        while !buf.is_empty() {
            if self.filled == 0 && buf.len() >= self.batch_bytes {
                // A whole batch in the caller's buffer: seal it in place.
                let (batch, rest) = buf.split_at(self.batch_bytes);
                self.received += batch.len() as u64;
                if let Err(e) = self.seal_batch(Some(batch)) {
                    self.poisoned = true;
                    return Err(e);
                }
                buf = rest;
                continue;
            }
            let take = (self.batch_bytes - self.filled).min(buf.len());
            self.pending[self.filled..self.filled + take].copy_from_slice(&buf[..take]);
            self.filled += take;
            buf = &buf[take..];
            self.received += take as u64;
            self.flush_if_full()?;
        }
        Ok(total)
    }

    fn flush_if_full(&mut self) -> Result<()> {
        if self.filled == self.batch_bytes {
            if let Err(e) = self.flush_batch() {
                self.poisoned = true;
                return Err(e);
            }
        }
        Ok(())
    }

    /// Reads everything from `reader` straight into the batch buffer (no
    /// intermediate copy); once a batch is full, the next one is read while
    /// it is sealed. Fails with [`Error::LengthMismatch`] when the reader has
    /// more bytes than declared (fewer is reported by `finish`).
    pub fn write_from<R: Read + Send>(&mut self, reader: &mut R) -> Result<u64> {
        self.check_usable()?;
        let start = self.received;
        let mut next: Zeroizing<Vec<u8>> = Zeroizing::new(Vec::new());
        loop {
            let remaining = self.remaining().min(usize::MAX as u64) as usize;
            if self.filled == self.batch_bytes && remaining > 0 {
                // Seal the full batch while the next one is read.
                let want = remaining.min(self.batch_bytes);
                if next.len() < self.batch_bytes {
                    next.resize(self.batch_bytes, 0);
                }
                let current = std::mem::take(&mut self.pending);
                let (sealed, got) = rayon::join(
                    || self.seal_batch(Some(&current[..])),
                    || crate::stream::read_full(reader, &mut next[..want]),
                );
                self.pending = current;
                std::mem::swap(&mut self.pending, &mut next);
                if let Err(e) = sealed {
                    self.poisoned = true;
                    return Err(e);
                }
                let got = got?;
                self.filled = got;
                self.received += got as u64;
                if got < want {
                    // The input ended early; `finish` reports it.
                    return Ok(self.received - start);
                }
                continue;
            }
            if self.filled == self.batch_bytes {
                self.flush_if_full()?;
                continue;
            }
            let room = (self.batch_bytes - self.filled).min(remaining);
            if room == 0 {
                // Everything declared arrived: the reader must be at its end.
                let mut probe = [0u8; 1];
                if crate::stream::read_full(reader, &mut probe)? > 0 {
                    self.poisoned = true;
                    return Err(Error::LengthMismatch {
                        expected: self.cipher.layout().plaintext_len(),
                        actual: self.received + 1,
                    });
                }
                return Ok(self.received - start);
            }
            let got = match reader.read(&mut self.pending[self.filled..self.filled + room]) {
                Ok(0) => return Ok(self.received - start),
                Ok(k) => k,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e.into()),
            };
            self.filled += got;
            self.received += got as u64;
        }
    }

    /// Seals the final block, writes the trailer and returns the writer.
    /// Fails with [`Error::LengthMismatch`] when fewer bytes than declared
    /// were written.
    pub fn finish(mut self) -> Result<(W, EncodeSummary)> {
        self.check_usable()?;
        let layout = *self.cipher.layout();
        if self.received != layout.plaintext_len() {
            return Err(Error::LengthMismatch {
                expected: layout.plaintext_len(),
                actual: self.received,
            });
        }
        if self.next_index < layout.block_count() {
            self.flush_batch()?;
        }
        self.inner.write_all(&self.unwritten)?;
        let digest: [u8; 32] = self.plaintext.clone().finalize().into();
        let (trailer, tags) = self
            .cipher
            .make_trailer(&self.header, &digest, self.keyless.clone());
        self.inner.write_all(&trailer.to_bytes())?;
        let section = sign(&self.options, &self.header_bytes, &trailer, &tags);
        self.inner.write_all(&section)?;
        self.inner.flush()?;
        let summary = EncodeSummary {
            header: self.header.clone(),
            plaintext_sha256: digest,
            keyless_sha256: trailer.keyless_sha256,
            file_len: layout.file_len(),
        };
        Ok((self.inner, summary))
    }
}

impl<W: Write + Send> Write for Encoder<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.accept(buf).map_err(Error::into_io)
    }

    /// Flushes the underlying writer; pending plaintext stays buffered until
    /// a batch is full or [`Encoder::finish`] is called.
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Encodes all of `plaintext` into a new vector.
pub fn encode_to_vec(
    key: &MasterKey,
    plaintext: &[u8],
    options: &EncodeOptions,
) -> Result<(Vec<u8>, EncodeSummary)> {
    let layout = Layout::new(options.block_size, plaintext.len() as u64)
        .map_err(|_| Error::InvalidParameter("block size out of range"))?;
    let mut enc = Encoder::new(
        Vec::with_capacity(layout.file_len() as usize),
        key,
        plaintext.len() as u64,
        options,
    )?;
    enc.accept(plaintext)?;
    enc.finish()
}
