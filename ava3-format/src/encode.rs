//! The streaming encoder (spec 8.1): plaintext in through [`Write`], AVA3
//! bytes out, blocks sealed in batches, optionally on all cores.

use std::fmt;
use std::io::{self, Read, Write};

use rayon::prelude::*;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::cipher::{FileCipher, KeylessHasher};
use crate::error::{Error, Result};
use crate::header::{Header, Layout, DEFAULT_BLOCK_SIZE, TAG_LEN, VERSION};
use crate::keys::{random_salt, MasterKey, SALT_LEN};
use crate::kind::PayloadKind;

/// Bytes of plaintext processed per batch: blocks of one batch are sealed in
/// parallel, and a streaming encoder or decoder holds one batch in memory.
pub const BATCH_BYTES: usize = 4 << 20;

/// Options of an encode.
#[derive(Clone, Debug)]
pub struct EncodeOptions {
    /// Block size, a power of two from 4 KiB to 16 MiB (default 64 KiB).
    pub block_size: u32,
    /// Payload kind recorded in the header.
    pub payload_kind: PayloadKind,
    /// Seal the blocks of a batch on the current rayon pool (output is
    /// byte-identical either way).
    pub parallel: bool,
}

impl Default for EncodeOptions {
    fn default() -> Self {
        Self {
            block_size: DEFAULT_BLOCK_SIZE,
            payload_kind: PayloadKind::Unknown,
            parallel: true,
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

/// A streaming encoder. Write exactly the declared number of plaintext bytes,
/// then call [`Encoder::finish`]: without it the output has no final block
/// and no trailer, and every decoder rejects it.
pub struct Encoder<W: Write> {
    inner: W,
    cipher: FileCipher,
    header: Header,
    pending: Zeroizing<Vec<u8>>,
    out: Vec<u8>,
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

impl<W: Write> Encoder<W> {
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
    /// vectors: reusing a salt with the same key reuses every subkey.
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
        let layout = Layout::new(options.block_size, plaintext_len)
            .map_err(|_| Error::InvalidParameter("block size or plaintext length out of range"))?;
        let cipher = FileCipher::new(key, &salt, layout);
        let mut header = Header {
            version: VERSION,
            flags: 0,
            block_size: options.block_size,
            payload_kind: options.payload_kind,
            plaintext_len,
            salt,
            key_id: key.key_id(),
            mac: [0; 32],
        };
        let unsigned = header.to_bytes();
        header.mac = cipher.header_mac(&unsigned);
        let bytes = header.to_bytes();
        inner.write_all(&bytes)?;
        let bs = layout.block_size() as usize;
        let batch_bytes = if options.parallel {
            batch_blocks(layout.block_size()) * bs
        } else {
            bs
        };
        Ok(Self {
            inner,
            cipher,
            pending: Zeroizing::new(Vec::with_capacity(batch_bytes)),
            out: Vec::new(),
            batch_bytes,
            next_index: 0,
            received: 0,
            plaintext: Sha256::new(),
            keyless: KeylessHasher::new(&bytes),
            parallel: options.parallel,
            poisoned: false,
            header,
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

    /// Seals the pending plaintext (whole blocks, or the final block) and
    /// writes it out.
    fn flush_batch(&mut self) -> Result<()> {
        let layout = *self.cipher.layout();
        let bs = layout.block_size() as usize;
        let first = self.next_index;
        let n_blocks = if self.pending.is_empty() {
            // Only the empty final block of an empty plaintext.
            1
        } else {
            self.pending.len().div_ceil(bs)
        };
        let out_len = self.pending.len() + n_blocks * TAG_LEN;
        self.out.clear();
        self.out.resize(out_len, 0);
        let cipher = &self.cipher;
        let pending = &self.pending;
        let out = &mut self.out;
        let hasher = &mut self.plaintext;
        let seal =
            |(k, (o, p)): (usize, (&mut [u8], &[u8]))| cipher.seal_block(first + k as u64, p, o);
        let leaves: Vec<[u8; 32]> = if self.pending.is_empty() {
            vec![cipher.seal_block(first, &[], out)]
        } else if self.parallel {
            let (_, leaves) = rayon::join(
                || hasher.update(pending.as_slice()),
                || {
                    out.par_chunks_mut(bs + TAG_LEN)
                        .zip(pending.par_chunks(bs))
                        .enumerate()
                        .map(seal)
                        .collect()
                },
            );
            leaves
        } else {
            hasher.update(pending.as_slice());
            out.chunks_mut(bs + TAG_LEN)
                .zip(pending.chunks(bs))
                .enumerate()
                .map(seal)
                .collect()
        };
        for (leaf, chunk) in leaves.iter().zip(self.out.chunks(bs + TAG_LEN)) {
            self.keyless.push(leaf, &chunk[chunk.len() - TAG_LEN..]);
        }
        self.next_index += n_blocks as u64;
        self.pending.clear();
        self.inner.write_all(&self.out)?;
        Ok(())
    }

    fn accept(&mut self, mut buf: &[u8]) -> Result<usize> {
        self.check_usable()?;
        let total = buf.len();
        let declared = self.cipher.layout().plaintext_len();
        if self.received + total as u64 > declared {
            self.poisoned = true;
            return Err(Error::LengthMismatch {
                expected: declared,
                actual: self.received + total as u64,
            });
        }
        while !buf.is_empty() {
            let room = self.batch_bytes - self.pending.len();
            let take = room.min(buf.len());
            self.pending.extend_from_slice(&buf[..take]);
            buf = &buf[take..];
            self.received += take as u64;
            if self.pending.len() == self.batch_bytes {
                if let Err(e) = self.flush_batch() {
                    self.poisoned = true;
                    return Err(e);
                }
            }
        }
        Ok(total)
    }

    /// Copies everything from `reader` into the encoder.
    pub fn write_from<R: Read>(&mut self, reader: &mut R) -> Result<u64> {
        let mut buf = Zeroizing::new(vec![0u8; 1 << 20]);
        let mut n = 0u64;
        loop {
            let got = match reader.read(&mut buf) {
                Ok(0) => return Ok(n),
                Ok(k) => k,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e.into()),
            };
            self.accept(&buf[..got])?;
            n += got as u64;
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
        let digest: [u8; 32] = self.plaintext.clone().finalize().into();
        let trailer = self
            .cipher
            .make_trailer(&self.header, &digest, self.keyless.clone());
        self.inner.write_all(&trailer.to_bytes())?;
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

impl<W: Write> Write for Encoder<W> {
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
