//! The decoder behind the C handle, in safe Rust: opening, key selection,
//! sequential and random-access reads, block streaming, whole-model decodes
//! and the block cache of the `FILE*` adapter.

use std::fs::File;
use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use ava3_format::{
    Error, Header, MasterKey, Policy, PublicKey, RandomAccessReader, ReadAt, Sealed,
};
use zeroize::{Zeroize, Zeroizing};

use crate::ptr::BorrowedBytes;
use crate::result::Ava3Result;

/// Where the encoded bytes come from.
#[derive(Debug)]
pub enum Source {
    /// A file, or a window of one (a model inside an APK).
    File(ava3_format::FileRange),
    /// Caller memory that stays valid until the decoder and every `FILE*`
    /// made from it are closed.
    Borrowed(BorrowedBytes),
}

impl ReadAt for Source {
    fn read_exact_at(&self, buf: &mut [u8], offset: u64) -> io::Result<()> {
        match self {
            Self::File(f) => f.read_exact_at(buf, offset),
            Self::Borrowed(b) => b.as_slice().read_exact_at(buf, offset),
        }
    }
    fn size(&self) -> io::Result<u64> {
        match self {
            Self::File(f) => f.size(),
            Self::Borrowed(b) => Ok(b.as_slice().len() as u64),
        }
    }
}

/// The reader once a key was set.
pub type Reader = RandomAccessReader<Arc<Source>>;

/// Counters of the `FILE*` block cache.
#[derive(Debug, Default)]
pub struct CacheCounters {
    pub hits: AtomicU64,
    pub misses: AtomicU64,
    pub bytes_decrypted: AtomicU64,
}

/// No block failed.
pub(crate) const NO_BLOCK: u64 = u64::MAX;

/// The state behind an `Ava3Decoder*`: the header read at open, the
/// requirements gathered before `set_key`, and, once `set_key` unlocked the
/// file under the key and those requirements (the core's
/// `Sealed::unlock`), the reader. The unlock fixes both: afterwards
/// `set_key`, `trust_signer`, `require_name` and `require_min_version`
/// are refused (`RequirementsLocked`) and change nothing, so that no
/// caller can believe a requirement reaches a reader it cannot reach. A
/// refused key leaves the decoder as it was, ready for another.
#[derive(Debug)]
pub struct DecoderState {
    source: Arc<Source>,
    /// The header, read once at open; `set_key` unlocks it.
    sealed: Sealed,
    reader: Option<Arc<Reader>>,
    /// What the device requires: trusted signers, name, minimum version.
    policy: Policy,
    pos: u64,
    failed_block: Arc<AtomicU64>,
    cache: Arc<CacheCounters>,
}

/// What `stream` needs for its whole duration, owned: its callback may
/// call back into the decoder, and nothing it does can free the reader in
/// use.
#[derive(Debug)]
pub struct StreamParts {
    reader: Arc<Reader>,
    failed_block: Arc<AtomicU64>,
}

impl DecoderState {
    /// Reads and checks the header; no key yet.
    pub fn open(source: Source) -> Result<Self, Error> {
        let sealed = Sealed::read_at(&source)?;
        Ok(Self {
            source: Arc::new(source),
            sealed,
            reader: None,
            policy: Policy::default(),
            pos: 0,
            failed_block: Arc::new(AtomicU64::new(NO_BLOCK)),
            cache: Arc::new(CacheCounters::default()),
        })
    }

    pub fn open_path(path: &std::path::Path) -> Result<Self, Error> {
        let f = File::open(path)?;
        Self::open(Source::File(ava3_format::FileRange::whole(f)?))
    }

    pub fn header(&self) -> &Header {
        self.sealed.header()
    }

    /// `RequirementsLocked` once `set_key` unlocked the file.
    fn check_not_unlocked(&self) -> Result<(), Ava3Result> {
        if self.reader.is_some() {
            Err(Ava3Result::RequirementsLocked)
        } else {
            Ok(())
        }
    }

    /// Unlocks the file under `key` and the requirements given so far
    /// (spec 8.3 steps 1-4: key id, header MAC, name, version, file
    /// length, trailer, signature over every tag). The key bytes are
    /// copied into a buffer that is wiped when dropped. A refused key
    /// changes nothing.
    pub fn set_key(&mut self, key: &[u8]) -> Result<(), Ava3Result> {
        self.check_not_unlocked()?;
        let key = MasterKey::from_slice(key).map_err(|e| Ava3Result::from(&e))?;
        let reader = self
            .sealed
            .unlock(&[&key], &self.policy)
            .and_then(|u| u.random_access(self.source.clone()))
            .map_err(|e| Ava3Result::from(&e))?;
        self.reader = Some(Arc::new(reader));
        self.pos = 0;
        Ok(())
    }

    /// Trusts a publisher key (32 bytes, PEM or hex text): a valid
    /// signature by a trusted key is then required. Only before `set_key`.
    pub fn trust_signer(&mut self, key: &[u8]) -> Result<(), Ava3Result> {
        self.check_not_unlocked()?;
        let key = PublicKey::parse(key).map_err(|e| Ava3Result::from(&e))?;
        self.policy.trust(key);
        Ok(())
    }

    /// Requires the authenticated model name `name`. Only before `set_key`.
    pub fn require_name(&mut self, name: &str) -> Result<(), Ava3Result> {
        self.check_not_unlocked()?;
        self.policy.expect_name(name);
        Ok(())
    }

    /// Requires at least model version `min`. Only before `set_key`.
    pub fn require_min_version(&mut self, min: u64) -> Result<(), Ava3Result> {
        self.check_not_unlocked()?;
        self.policy.require_min_version(min);
        Ok(())
    }

    /// The reader, or `InvalidParameter` before `set_key`.
    pub fn reader(&self) -> Result<&Arc<Reader>, Ava3Result> {
        self.reader.as_ref().ok_or(Ava3Result::InvalidParameter)
    }

    pub fn cache_counters(&self) -> &Arc<CacheCounters> {
        &self.cache
    }

    pub fn failed_block(&self) -> u64 {
        self.failed_block.load(Ordering::Relaxed)
    }

    /// Maps an error to its code and remembers a failing block index.
    pub fn fail(&self, e: &Error) -> Ava3Result {
        fail(&self.failed_block, e)
    }

    /// Random access; on failure `buf` is wiped.
    pub fn read_at(&self, buf: &mut [u8], offset: u64) -> Result<usize, Ava3Result> {
        let r = self.reader()?;
        r.read_at(buf, offset).map_err(|e| {
            buf.zeroize();
            self.fail(&e)
        })
    }

    /// Sequential read from the current position.
    pub fn read(&mut self, buf: &mut [u8]) -> Result<usize, Ava3Result> {
        let n = self.read_at(buf, self.pos)?;
        self.pos += n as u64;
        Ok(n)
    }

    pub fn seek(&mut self, pos: u64) -> Result<(), Ava3Result> {
        self.reader()?;
        self.pos = pos;
        Ok(())
    }

    /// What [`stream`] needs, owned (so that the decoder may be borrowed
    /// again, even mutably, by the callback).
    pub fn stream_parts(&self) -> Result<StreamParts, Ava3Result> {
        Ok(StreamParts {
            reader: self.reader()?.clone(),
            failed_block: self.failed_block.clone(),
        })
    }

    /// Decodes the whole plaintext into `out` (exactly its length), blocks
    /// in parallel. On failure `out` is wiped.
    pub fn decode_into(&self, out: &mut [u8]) -> Result<(), Ava3Result> {
        let r = self.reader()?;
        if out.len() as u64 != r.len() {
            return Err(Ava3Result::InvalidParameter);
        }
        r.decode_all_into(out).map_err(|e| self.fail(&e))
    }
}

/// Maps an error to its code and remembers a failing block index in
/// `failed_block`.
fn fail(failed_block: &AtomicU64, e: &Error) -> Ava3Result {
    if let Error::BlockAuth { index } = e {
        failed_block.store(*index, Ordering::Relaxed);
    }
    Ava3Result::from(e)
}

/// Calls `f(offset, plaintext)` for every block in order; the block buffer
/// is wiped afterwards. `f` returns false to stop. Works on its own
/// references only (`parts`): `f` may call into the decoder it came from.
pub fn stream(parts: StreamParts, mut f: impl FnMut(u64, &[u8]) -> bool) -> Result<(), Ava3Result> {
    let r = &parts.reader;
    let layout = *r.layout();
    let mut block = Zeroizing::new(vec![0u8; layout.block_size() as usize]);
    for i in 0..layout.block_count() {
        let len = layout.block_len(i);
        r.read_block(i, &mut block[..len])
            .map_err(|e| fail(&parts.failed_block, &e))?;
        if !f(layout.plaintext_offset(i), &block[..len]) {
            return Err(Ava3Result::Cancelled);
        }
    }
    Ok(())
}

/// A page-aligned buffer owned by the library, wiped when freed.
#[derive(Debug)]
pub struct AlignedBuffer {
    storage: Zeroizing<Vec<u8>>,
    offset: usize,
    len: usize,
}

/// Alignment of [`AlignedBuffer`] data (a page, enough for every runtime).
pub(crate) const BUFFER_ALIGN: usize = 4096;

impl AlignedBuffer {
    pub fn new(len: usize) -> Result<Self, Ava3Result> {
        let cap = len
            .checked_add(BUFFER_ALIGN)
            .ok_or(Ava3Result::InvalidParameter)?;
        let mut storage = Vec::new();
        storage
            .try_reserve_exact(cap)
            .map_err(|_| Ava3Result::OutOfMemory)?;
        storage.resize(cap, 0);
        let addr = storage.as_ptr() as usize;
        let offset = (BUFFER_ALIGN - addr % BUFFER_ALIGN) % BUFFER_ALIGN;
        Ok(Self {
            storage: Zeroizing::new(storage),
            offset,
            len,
        })
    }
    pub fn as_slice(&self) -> &[u8] {
        &self.storage[self.offset..self.offset + self.len]
    }
    pub fn as_mut_slice(&mut self) -> &mut [u8] {
        &mut self.storage[self.offset..self.offset + self.len]
    }
}

/// Decodes everything into a new page-aligned buffer.
pub fn decode_aligned(d: &DecoderState) -> Result<AlignedBuffer, Ava3Result> {
    let len = usize::try_from(d.reader()?.len()).map_err(|_| Ava3Result::InvalidParameter)?;
    let mut buf = AlignedBuffer::new(len)?;
    d.decode_into(buf.as_mut_slice())?;
    Ok(buf)
}

/// Fewest blocks the `FILE*` adapter keeps decoded.
pub(crate) const CACHE_BLOCKS: usize = 8;

/// The largest stdio buffer `ava3_decoder_fopen` accepts (256 MiB): the
/// block cache grows with it, and more buffer buys nothing on a device.
pub(crate) const MAX_STDIO_BUFFER: usize = 256 << 20;

/// The state behind a `FILE*`: position and a small LRU of decoded blocks
/// (tensors are read out of order).
pub struct FileCookie {
    reader: Arc<Reader>,
    pos: u64,
    /// (block index, plaintext, last use), most recent use wins.
    cache: Vec<(u64, Zeroizing<Vec<u8>>, u64)>,
    /// Blocks the cache holds: 8, or what one stdio buffer spans plus 2.
    capacity: usize,
    tick: u64,
    counters: Arc<CacheCounters>,
    failed: Arc<AtomicU64>,
    /// The stdio buffer handed to `setvbuf`; wiped when the FILE is closed.
    pub stdio_buffer: Zeroizing<Vec<u8>>,
}

impl std::fmt::Debug for FileCookie {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileCookie")
            .field("pos", &self.pos)
            .finish_non_exhaustive()
    }
}

impl FileCookie {
    /// `buffer_size` above [`MAX_STDIO_BUFFER`] is an invalid argument; a
    /// buffer that cannot be allocated is `OutOfMemory`, never an abort.
    pub fn new(d: &DecoderState, buffer_size: usize) -> Result<Self, Ava3Result> {
        let bs = d.header().block_size() as usize;
        if buffer_size > MAX_STDIO_BUFFER {
            return Err(Ava3Result::InvalidParameter);
        }
        let mut stdio_buffer = Vec::new();
        stdio_buffer
            .try_reserve_exact(buffer_size)
            .map_err(|_| Ava3Result::OutOfMemory)?;
        stdio_buffer.resize(buffer_size, 0);
        Ok(Self {
            reader: d.reader()?.clone(),
            pos: 0,
            cache: Vec::new(),
            capacity: CACHE_BLOCKS.max(buffer_size / bs + 2),
            tick: 0,
            counters: d.cache_counters().clone(),
            failed: d.failed_block.clone(),
            stdio_buffer: Zeroizing::new(stdio_buffer),
        })
    }

    /// The cache slot to (re)use for a new block: a free one, else the
    /// least recently used.
    fn victim(&mut self) -> usize {
        if self.cache.len() < self.capacity {
            let bs = self.reader.layout().block_size() as usize;
            self.cache
                .push((u64::MAX, Zeroizing::new(vec![0u8; bs]), 0));
            return self.cache.len() - 1;
        }
        self.cache
            .iter()
            .enumerate()
            .min_by_key(|(_, (_, _, used))| *used)
            .map(|(k, _)| k)
            .unwrap_or(0)
    }

    fn lookup(&mut self, index: u64) -> Option<usize> {
        self.tick += 1;
        let k = self.cache.iter().position(|(i, _, _)| *i == index)?;
        self.cache[k].2 = self.tick;
        self.counters.hits.fetch_add(1, Ordering::Relaxed);
        Some(k)
    }

    /// The cache slot holding block `index`, decrypting it on a miss.
    fn block(&mut self, index: u64) -> Result<usize, Error> {
        if let Some(k) = self.lookup(index) {
            return Ok(k);
        }
        self.counters.misses.fetch_add(1, Ordering::Relaxed);
        let len = self.reader.layout().block_len(index);
        let slot = self.victim();
        self.cache[slot].0 = u64::MAX;
        self.reader
            .read_block(index, &mut self.cache[slot].1[..len])?;
        self.counters
            .bytes_decrypted
            .fetch_add(len as u64, Ordering::Relaxed);
        self.cache[slot].0 = index;
        self.cache[slot].2 = self.tick;
        Ok(slot)
    }

    /// Fills `buf` with the whole blocks it covers from the position (a
    /// block boundary): cached blocks are copied, the others decrypted in
    /// parallel straight into `buf` and then cached, so that the next
    /// `fseek` + refill of the stdio buffer (which re-reads the region after
    /// a tensor) finds them. Returns the bytes written (0 when the position
    /// is not on a block boundary or fewer than 2 blocks fit).
    fn read_whole_blocks(&mut self, buf: &mut [u8]) -> Result<usize, Error> {
        let layout = *self.reader.layout();
        let bs = layout.block_size();
        if !self.pos.is_multiple_of(bs) {
            return Ok(0);
        }
        let first = self.pos / bs;
        // After an fseek past the end there is nothing to read (not a
        // wrapped, huge `avail`).
        let avail = self.reader.len().saturating_sub(self.pos);
        let n_blocks = (buf.len() as u64).min(avail) / bs;
        if n_blocks < 2 {
            return Ok(0);
        }
        let bytes = (n_blocks * bs) as usize;
        let mut missing = Vec::new();
        for (k, chunk) in buf[..bytes].chunks_mut(bs as usize).enumerate() {
            match self.lookup(first + k as u64) {
                Some(slot) => chunk.copy_from_slice(&self.cache[slot].1[..bs as usize]),
                None => missing.push(k),
            }
        }
        // Each run of consecutive missing blocks is one parallel decode by
        // the core, straight into `buf`.
        let mut run_start = 0;
        while run_start < missing.len() {
            let mut run_end = run_start + 1;
            while run_end < missing.len() && missing[run_end] == missing[run_end - 1] + 1 {
                run_end += 1;
            }
            let (k0, k1) = (missing[run_start], missing[run_end - 1] + 1);
            let range = k0 * bs as usize..k1 * bs as usize;
            if let Err(e) = self
                .reader
                .decode_blocks_into(first + k0 as u64, &mut buf[range])
            {
                buf[..bytes].zeroize();
                return Err(e);
            }
            run_start = run_end;
        }
        let decoded = missing.len() as u64;
        self.counters.misses.fetch_add(decoded, Ordering::Relaxed);
        self.counters
            .bytes_decrypted
            .fetch_add(decoded * bs, Ordering::Relaxed);
        // Cache the tail of what was decoded (the most likely to be re-read).
        let keep = missing.len().saturating_sub(self.capacity);
        for &k in &missing[keep..] {
            let slot = self.victim();
            let start = k * bs as usize;
            self.cache[slot].1[..bs as usize].copy_from_slice(&buf[start..start + bs as usize]);
            self.cache[slot].0 = first + k as u64;
            self.tick += 1;
            self.cache[slot].2 = self.tick;
        }
        self.pos += bytes as u64;
        Ok(bytes)
    }

    /// `read` of the FILE: up to `buf.len()` bytes at the position.
    /// On failure `buf` is wiped and the position is where it was: nothing
    /// partial is returned, and a read after `clearerr` starts over.
    pub fn read(&mut self, buf: &mut [u8]) -> Result<usize, Error> {
        if buf.is_empty() {
            return Ok(0);
        }
        let start = self.pos;
        self.read_span(buf).inspect_err(|e| {
            self.pos = start;
            buf.zeroize();
            if let Error::BlockAuth { index } = e {
                self.failed.store(*index, Ordering::Relaxed);
            }
        })
    }

    /// The partial block up to the next block boundary through the cache,
    /// then the whole blocks in parallel straight into `buf`, then what is
    /// left block by block through the cache. (stdio's refills and a GGUF
    /// tensor's reads start anywhere, almost never at a block boundary:
    /// without the first step, all of such a read would be decoded block
    /// by block on one thread.)
    fn read_span(&mut self, buf: &mut [u8]) -> Result<usize, Error> {
        let len = self.reader.len();
        let bs = self.reader.layout().block_size();
        let mut done = 0;
        if self.pos < len && !self.pos.is_multiple_of(bs) {
            done += self.copy_from_block(buf)?;
        }
        done += self.read_whole_blocks(&mut buf[done..])?;
        while done < buf.len() && self.pos < len {
            done += self.copy_from_block(&mut buf[done..])?;
        }
        Ok(done)
    }

    /// Copies from the block at the position (through the cache) to the
    /// end of that block or of `out`; returns the bytes copied.
    fn copy_from_block(&mut self, out: &mut [u8]) -> Result<usize, Error> {
        let bs = self.reader.layout().block_size();
        let index = self.pos / bs;
        let within = (self.pos - index * bs) as usize;
        let slot = self.block(index)?;
        let blen = self.reader.layout().block_len(index);
        let take = (blen - within).min(out.len());
        out[..take].copy_from_slice(&self.cache[slot].1[within..within + take]);
        self.pos += take as u64;
        Ok(take)
    }

    /// `seek` of the FILE; returns the new position.
    pub fn seek(&mut self, offset: i64, whence: i32) -> Option<u64> {
        let base = match whence {
            libc::SEEK_SET => 0,
            libc::SEEK_CUR => self.pos,
            libc::SEEK_END => self.reader.len(),
            _ => return None,
        };
        let new = base.checked_add_signed(offset)?;
        if new > i64::MAX as u64 {
            return None;
        }
        self.pos = new;
        Some(new)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ava3_format::{encode_to_vec, EncodeOptions};

    #[test]
    fn a_stream_keeps_its_reader_while_the_decoder_changes_under_it() {
        let key = MasterKey::from_bytes([7; 32]);
        let pt: Vec<u8> = (0..3 * 4096 + 100u32).map(|i| (i % 253) as u8).collect();
        let opts = EncodeOptions {
            block_size: 4096,
            ..EncodeOptions::default()
        };
        let (file, _) = encode_to_vec(&key, &pt, &opts).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.ava3");
        std::fs::write(&path, &file).unwrap();
        let mut d = DecoderState::open_path(&path).unwrap();
        d.set_key(&[7; 32]).unwrap();
        let mut out = Vec::new();
        let mut refused = 0;
        // The callback borrows the decoder mutably: it compiles only
        // because the stream holds no reference to the decoder.
        stream(d.stream_parts().unwrap(), |offset, data| {
            if offset == 0 {
                // Unlocked: the key and the requirements are fixed.
                if d.set_key(&[7; 32]) == Err(Ava3Result::RequirementsLocked)
                    && d.require_min_version(9) == Err(Ava3Result::RequirementsLocked)
                {
                    refused += 1;
                }
                // What no C caller can do: drop the decoder's reader. The
                // stream reads on with its own.
                d.reader = None;
            }
            out.extend_from_slice(data);
            true
        })
        .unwrap();
        assert_eq!(refused, 1);
        assert_eq!(out, pt);
    }

    /// A decoder over `pt` encoded in 4 KiB blocks, with the key set.
    fn opened(pt: &[u8], dir: &tempfile::TempDir) -> DecoderState {
        let key = MasterKey::from_bytes([7; 32]);
        let opts = EncodeOptions {
            block_size: 4096,
            ..EncodeOptions::default()
        };
        let (file, _) = encode_to_vec(&key, pt, &opts).unwrap();
        let path = dir.path().join("f.ava3");
        std::fs::write(&path, &file).unwrap();
        let mut d = DecoderState::open_path(&path).unwrap();
        d.set_key(&[7; 32]).unwrap();
        d
    }

    #[test]
    fn file_reads_that_start_inside_a_block_return_the_plaintext_and_decode_each_block_once() {
        let pt: Vec<u8> = (0..40 * 4096 + 333u32)
            .map(|i| (i * 31 % 251) as u8)
            .collect();
        let dir = tempfile::tempdir().unwrap();
        let d = opened(&pt, &dir);
        // (start, length): inside a block with whole blocks after it, up to
        // the end, a block boundary, shorter than a block, across one
        // boundary only.
        for (start, len) in [
            (100, 9 * 4096),
            (4095, 30 * 4096),
            (5000, pt.len()),
            (8192, 4096),
            (7, 10),
            (4000, 200),
        ] {
            let mut ck = FileCookie::new(&d, 0).unwrap();
            ck.seek(start as i64, libc::SEEK_SET).unwrap();
            let mut out = vec![0u8; len];
            let n = ck.read(&mut out).unwrap();
            let want = &pt[start..(start + len).min(pt.len())];
            assert_eq!(&out[..n], want, "read of {len} at {start}");
        }
        // One long read from inside block 0: each block decoded once (the
        // head through the cache, the rest straight into the buffer).
        let before = d.cache_counters().bytes_decrypted.load(Ordering::Relaxed);
        let mut ck = FileCookie::new(&d, 0).unwrap();
        ck.seek(100, libc::SEEK_SET).unwrap();
        let mut out = vec![0u8; pt.len() - 100];
        assert_eq!(ck.read(&mut out).unwrap(), pt.len() - 100);
        let decrypted = d.cache_counters().bytes_decrypted.load(Ordering::Relaxed) - before;
        assert_eq!(decrypted, pt.len() as u64);
    }

    #[test]
    fn a_file_read_over_a_bad_block_fails_names_it_and_returns_nothing() {
        let pt: Vec<u8> = (0..20 * 4096u32).map(|i| (i % 249) as u8).collect();
        let dir = tempfile::tempdir().unwrap();
        let d = opened(&pt, &dir);
        let path = dir.path().join("f.ava3");
        let mut file = std::fs::read(&path).unwrap();
        let at = d.reader().unwrap().layout().block_offset(12) as usize;
        file[at + 5] ^= 1;
        std::fs::write(&path, &file).unwrap();
        let mut ck = FileCookie::new(&d, 0).unwrap();
        ck.seek(100, libc::SEEK_SET).unwrap();
        let mut out = vec![0u8; 16 * 4096];
        assert!(matches!(
            ck.read(&mut out),
            Err(Error::BlockAuth { index: 12 })
        ));
        assert_eq!(d.failed_block(), 12);
        assert!(
            out.iter().all(|&b| b == 0),
            "a failed read wipes what it covered"
        );
        // The position did not move: a read that ends before the bad block
        // returns the plaintext from where it was.
        assert_eq!(ck.seek(0, libc::SEEK_CUR), Some(100));
        let mut short = vec![0u8; 4096];
        assert_eq!(ck.read(&mut short).unwrap(), 4096);
        assert_eq!(short, pt[100..100 + 4096]);
        assert_eq!(ck.read(&mut []).unwrap(), 0);
    }
}
