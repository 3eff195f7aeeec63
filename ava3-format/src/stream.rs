//! Reading the stored structure of a file from any [`Read`]: header, batches
//! of stored blocks, trailer and end of input, with the truncation and
//! trailing-data rules of spec section 7. Shared by the streaming decoder and
//! the verifiers.

use std::io::{self, Read};

use zeroize::Zeroizing;

use crate::encode::batch_blocks;
use crate::error::{Error, Result};
use subtle::ConstantTimeEq;

use crate::cipher::{FileCipher, KeylessHasher};
use crate::header::{Header, Layout, Trailer, TAG_LEN, TRAILER_LEN};
use crate::keys::MasterKey;
use crate::signature::{signed_message, Policy, SignatureSection, SignerId};

/// Reads until `buf` is full or the input ends; returns the bytes read.
pub(crate) fn read_full<R: Read + ?Sized>(r: &mut R, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// Picks the key whose id the header records (spec 7.1 step 5).
pub(crate) fn select_key<'k>(header: &Header, keys: &[&'k MasterKey]) -> Result<&'k MasterKey> {
    if keys.is_empty() {
        return Err(Error::InvalidParameter("no key supplied"));
    }
    keys.iter()
        .copied()
        .find(|k| k.key_id() == header.key_id)
        .ok_or_else(|| Error::WrongKey {
            file: header.key_id,
            supplied: keys
                .iter()
                .map(|k| k.key_id().to_hex())
                .collect::<Vec<_>>()
                .join(", "),
        })
}

/// What [`StoredReader::finish`] needs to know of the file.
pub(crate) struct FileEnd<'a> {
    /// The header (parsed; authenticated when `cipher` is given).
    pub(crate) header: &'a Header,
    /// The header's bytes.
    pub(crate) raw: &'a [u8],
    /// The file's cipher, when unlocked.
    pub(crate) cipher: Option<&'a FileCipher>,
    /// What the reader requires.
    pub(crate) policy: &'a Policy,
}

/// What the end of a file established.
pub(crate) struct End {
    /// The trailer.
    pub(crate) trailer: Trailer,
    /// The recorded plaintext SHA-256 `D`, when unlocked.
    pub(crate) digest: Option<[u8; 32]>,
    /// The trusted signer whose signature verified, when one is required.
    pub(crate) signer: Option<SignerId>,
}

/// One batch of stored blocks read from the input.
#[derive(Debug)]
pub(crate) struct Batch {
    /// Index of the first block.
    pub(crate) first: u64,
    /// Number of complete blocks (stored bytes and tag) in the buffer.
    pub(crate) complete: usize,
    /// The input ended inside this batch.
    pub(crate) truncated: Option<Error>,
}

/// Reads the blocks and the trailer of a file whose header was read. With
/// `parallel`, the next batch is read while the current one is processed
/// ([`StoredReader::process`]), so I/O overlaps the hashing and decryption.
pub(crate) struct StoredReader<R> {
    pub(crate) inner: R,
    pub(crate) layout: Layout,
    /// Index of the next block to read from `inner`.
    pub(crate) next_index: u64,
    /// The current batch.
    pub(crate) buf: Zeroizing<Vec<u8>>,
    /// The batch read ahead, if any, and its buffer.
    ahead: Option<Batch>,
    spare: Zeroizing<Vec<u8>>,
    batch: usize,
    parallel: bool,
}

/// Reads up to `batch` blocks starting at `first` into `buf`.
fn read_batch<R: Read>(
    inner: &mut R,
    layout: &Layout,
    first: u64,
    batch: usize,
    buf: &mut Vec<u8>,
) -> Result<Option<Batch>> {
    let left = layout.block_count() - first;
    if left == 0 {
        return Ok(None);
    }
    let slot = layout.block_size() as usize + TAG_LEN;
    let count = (batch as u64).min(left) as usize;
    let last = first + count as u64 - 1;
    let want = (count - 1) * slot + layout.block_len(last) + TAG_LEN;
    let got = if buf.len() >= want {
        read_full(inner, &mut buf[..want])?
    } else {
        // The buffer grows as bytes arrive (doubling from 64 KiB), so a
        // forged 128-byte header that announces 16 MiB blocks costs memory
        // for the bytes that exist, not for the ones it claims.
        let mut got = 0;
        while got < want {
            let target = want.min((got * 2).max(1 << 16));
            if buf.len() < target {
                buf.resize(target, 0);
            }
            let n = read_full(inner, &mut buf[got..target])?;
            got += n;
            if got < target {
                break;
            }
        }
        got
    };
    let (complete, truncated) = if got == want {
        (count, None)
    } else {
        let complete = got / slot;
        let at = first + complete as u64;
        let e = Error::truncated(format!(
            "the input ends inside block {at} of {}",
            layout.block_count()
        ));
        (complete, Some(e))
    };
    Ok(Some(Batch {
        first,
        complete,
        truncated,
    }))
}

impl<R: Read + Send> StoredReader<R> {
    pub(crate) fn new(inner: R, layout: Layout, parallel: bool) -> Self {
        let batch = batch_blocks(layout.block_size());
        Self {
            inner,
            layout,
            next_index: 0,
            buf: Zeroizing::new(Vec::new()),
            ahead: None,
            spare: Zeroizing::new(Vec::new()),
            batch,
            parallel,
        }
    }

    /// Size of one stored block slot (stored bytes and tag).
    pub(crate) fn slot(&self) -> usize {
        self.layout.block_size() as usize + TAG_LEN
    }

    /// Blocks not yet handed out by `next_batch`.
    pub(crate) fn blocks_left(&self) -> u64 {
        self.layout.block_count() - self.next_index
    }

    /// Forgets any read-ahead and continues at block `index` (after the
    /// caller moved `inner` there).
    pub(crate) fn reposition(&mut self, index: u64) {
        self.ahead = None;
        self.next_index = index;
    }

    /// Makes the next batch current in `self.buf`; `None` once every block
    /// was handed out.
    pub(crate) fn next_batch(&mut self) -> Result<Option<Batch>> {
        let batch = match self.ahead.take() {
            Some(b) => {
                std::mem::swap(&mut self.buf, &mut self.spare);
                Some(b)
            }
            None if self.blocks_left() == 0 => None,
            None => read_batch(
                &mut self.inner,
                &self.layout,
                self.next_index,
                self.batch,
                &mut self.buf,
            )?,
        };
        if let Some(b) = &batch {
            self.next_index = b.first + b.complete as u64;
            if b.truncated.is_some() {
                // Nothing more can be read.
                self.next_index = self.layout.block_count();
            }
        }
        Ok(batch)
    }

    /// Runs `work` on the current batch while the next batch is read into
    /// the spare buffer (on another thread when parallel). Read-ahead stops
    /// after the last block, so the trailer is read only by `read_trailer`.
    pub(crate) fn process<T: Send>(&mut self, work: impl FnOnce(&[u8]) -> T + Send) -> Result<T> {
        if !(self.parallel && self.blocks_left() > 0) {
            return Ok(work(&self.buf));
        }
        let Self {
            inner,
            layout,
            next_index,
            buf,
            spare,
            batch,
            ..
        } = self;
        let (out, ahead) = rayon::join(
            || work(buf),
            || read_batch(inner, layout, *next_index, *batch, spare),
        );
        self.ahead = ahead?;
        Ok(out)
    }

    /// The stored bytes and tag of block `k` of the current batch.
    pub(crate) fn block(&self, batch: &Batch, k: usize) -> &[u8] {
        let start = k * self.slot();
        let len = self.layout.block_len(batch.first + k as u64) + TAG_LEN;
        &self.buf[start..start + len]
    }

    /// Reads and parses the trailer (spec 7.3 step 1).
    fn read_trailer(&mut self) -> Result<Trailer> {
        let mut raw = [0u8; TRAILER_LEN];
        let n = read_full(&mut self.inner, &mut raw)?;
        if n < TRAILER_LEN {
            return Err(Error::truncated(if n == 0 {
                "the input ends before the trailer".to_string()
            } else {
                format!("the input ends inside the trailer, after {n} of 120 bytes")
            }));
        }
        Trailer::parse(&raw, &self.layout)
    }

    /// The end of a file once its last block was read (spec 7.3 steps 1-4,
    /// in order): the trailer, its MAC when the file is unlocked, the
    /// keyless digest when it was computed, the signature section and the
    /// signatures `policy` requires (spec 7.5), then the end of input.
    pub(crate) fn finish(
        &mut self,
        file: FileEnd<'_>,
        keyless: Option<KeylessHasher>,
    ) -> Result<End> {
        let trailer = self.read_trailer()?;
        let digest = match file.cipher {
            Some(cipher) => Some(cipher.open_trailer(&file.header.mac, &trailer)?),
            None => None,
        };
        let mut tags = None;
        if let Some(h) = keyless {
            let computed = h.finish(&trailer.to_bytes());
            if !bool::from(computed.keyless.ct_eq(&trailer.keyless_sha256)) {
                return Err(Error::KeylessDigestMismatch);
            }
            tags = Some(computed.tags);
        }
        let mut signer = None;
        let count = file.header.signature_count();
        if count > 0 {
            let mut raw = vec![0u8; self.layout.signatures_len() as usize];
            let n = read_full(&mut self.inner, &mut raw)?;
            if n < raw.len() {
                return Err(Error::truncated(format!(
                    "the input ends inside the signature section, after {n} of {} bytes",
                    raw.len()
                )));
            }
            let section = SignatureSection::parse(&raw, count)?;
            if file.policy.requires_signature() {
                let tags = tags.ok_or(Error::InvalidParameter(
                    "a signature cannot be checked after a seek",
                ))?;
                let message = signed_message(file.raw, &trailer.to_bytes(), &tags);
                signer = file.policy.check_signatures(&section, &message)?;
            }
        }
        self.expect_eof()?;
        Ok(End {
            trailer,
            digest,
            signer,
        })
    }

    /// Fails with [`Error::TrailingData`] unless the input is at its end.
    fn expect_eof(&mut self) -> Result<()> {
        let mut one = [0u8; 1];
        if read_full(&mut self.inner, &mut one)? == 0 {
            Ok(())
        } else {
            Err(Error::TrailingData)
        }
    }
}
