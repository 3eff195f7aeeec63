//! Per-file cryptography: subkeys, header and trailer MACs, sealing and
//! opening one block (spec sections 5, 6 and 7).
//!
//! A [`FileCipher`] is immutable once built, so one instance serves every
//! thread of a parallel encode or decode and every concurrent `read_at`.
//!
//! Key material stays where it was built: each expanded AES key and the
//! HMAC state of `K_mac` live in one heap allocation per file, wiped on
//! drop, and every block uses them by reference (no per-block copy of a key
//! schedule). What the cryptographic crates still copy into their own
//! frames while they work (an HMAC state cloned per MAC, AES round keys
//! broadcast per batch with VAES) is overwritten as soon as the operation
//! returns ([`scrubbed`]): `ava3-decoder-ffi/tests/c/heap_test.c` searches
//! every thread's stack for it.

use std::fmt;

use aes::Aes256Enc;
use ctr::cipher::{InnerIvInit, StreamCipher, StreamCipherCoreWrapper};
use hmac::digest::KeyInit;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use crate::error::{Error, HeaderProblem, Result, TrailerProblem};
use crate::header::{
    Header, Layout, Trailer, HEADER_LEN, HEADER_MAC_INPUT_LEN, TAG_LEN, TRAILER_KEYLESS_INPUT_LEN,
    TRAILER_MAC_INPUT_LEN,
};
use crate::keys::{scrubbed, scrubbed_deep, MasterKey, SALT_LEN};
use crate::obfuscation::{scramble_pad, Shuffle};
use crate::stream::select_key;

type HmacSha256 = Hmac<Sha256>;
/// AES-256-CTR with the spec's counter blocks (6.4), over a borrowed key
/// schedule ([`AesKey::ctr`]). The spec counts with the whole 128-bit
/// block; this flavor increments its low 64 bits only, which is the same
/// stream here: every use starts with the low 64 bits at `domain << 32`
/// (domain 0 or 1) or 0 and runs for fewer than 2^32 AES blocks, so the low
/// half never wraps (checked against the 128-bit flavor in
/// `tests::ctr_flavor_is_the_spec_counter`). The 64-bit flavor is the one
/// the `ctr` crate runs fastest.
pub(crate) type Ctr<'k> = ctr::Ctr64BE<&'k Aes256Enc>;

/// One expanded AES-256 key (the encryption schedule: all CTR needs), in
/// its own heap allocation, wiped on drop. Built once per file and subkey;
/// every AES-CTR stream borrows it, so no block copies the schedule.
pub(crate) struct AesKey(Box<Aes256Enc>);

impl AesKey {
    /// Expands `key`; the stack the expansion used is overwritten.
    pub(crate) fn new(key: &[u8; 32]) -> Self {
        Self(scrubbed(|| {
            Box::new(<Aes256Enc as KeyInit>::new(key.into()))
        }))
    }

    /// AES-256-CTR under this key from the counter block `iv`.
    pub(crate) fn ctr(&self, iv: &[u8; 16]) -> Ctr<'_> {
        StreamCipherCoreWrapper::from_core(ctr::CtrCore::inner_iv_init(&*self.0, iv.into()))
    }
}

/// MAC domain labels (spec 5).
pub(crate) const LABEL_HEADER: &[u8] = b"AVA3-v1-header";
pub(crate) const LABEL_BLOCK: &[u8] = b"AVA3-v1-block";
pub(crate) const LABEL_TRAILER: &[u8] = b"AVA3-v1-trailer";
pub(crate) const LABEL_KEYLESS: &[u8] = b"AVA3-v1-keyless";

/// Counter-block domains (spec 6.4).
const DOMAIN_BLOCK: u32 = 0;
const DOMAIN_DIGEST: u32 = 1;

/// The initial AES-CTR counter block for `index` in `domain` (spec 6.4):
/// index (u64 BE) || domain (u32 BE) || 0 (u32 BE).
pub(crate) fn counter_block(index: u64, domain: u32) -> [u8; 16] {
    let mut iv = [0u8; 16];
    iv[..8].copy_from_slice(&index.to_be_bytes());
    iv[8..12].copy_from_slice(&domain.to_be_bytes());
    iv
}

/// SHA-256 of `data`.
pub(crate) fn sha256(data: &[u8]) -> [u8; 32] {
    Sha256::digest(data).into()
}

thread_local! {
    /// Per-thread scratch block: the AES-CTR keystream of the block being
    /// sealed or opened. Reused without wiping between blocks, wiped when
    /// the thread exits.
    static SCRATCH: std::cell::RefCell<Zeroizing<Vec<u8>>> =
        std::cell::RefCell::new(Zeroizing::new(Vec::new()));
}

/// Runs `f` on the first `len` keystream bytes of `ctr`, written into this
/// thread's scratch block.
fn with_keystream<T>(mut ctr: Ctr<'_>, len: usize, f: impl FnOnce(&mut [u8]) -> T) -> T {
    SCRATCH.with_borrow_mut(|scratch| {
        if scratch.len() < len {
            scratch.resize(len, 0);
        }
        let ks = &mut scratch[..len];
        ctr.write_keystream(ks);
        f(ks)
    })
}

/// HMAC-SHA256 keyed with one file's `K_mac`. The HMAC state (the inner
/// and outer SHA-256 midstates of the key, as good as the key itself) is
/// wiped on drop: `hmac` and `sha2` are built with their `zeroize` feature
/// (`tests::key_states_are_wiped_on_drop` checks it at compile time). It
/// lives on the heap, never moved with the [`FileCipher`].
struct MacKey(HmacSha256);

impl MacKey {
    /// Keys an HMAC on the heap; the stack the keying used is overwritten.
    fn new(k_mac: &[u8; 32]) -> Box<Self> {
        scrubbed(|| Box::new(Self::keyed(k_mac)))
    }

    /// Keys an HMAC where it is returned: inside [`scrubbed`] only.
    fn keyed(k_mac: &[u8; 32]) -> Self {
        match <HmacSha256 as KeyInit>::new_from_slice(k_mac) {
            Ok(m) => Self(m),
            // HMAC accepts keys of any length.
            Err(_) => unreachable!("HMAC takes any key length"),
        }
    }

    /// HMAC over `label || parts...`. Works on a copy of the keyed state on
    /// the stack: call it inside [`scrubbed`].
    fn mac_over(&self, label: &[u8], parts: &[&[u8]]) -> [u8; 32] {
        let mut m = self.0.clone();
        m.update(label);
        for p in parts {
            m.update(p);
        }
        m.finalize().into_bytes().into()
    }

    /// The header MAC over the first 96 header bytes and the extension
    /// records after the fixed 128 (spec 5.1).
    fn header_mac(&self, header: &[u8]) -> [u8; 32] {
        self.mac_over(
            LABEL_HEADER,
            &[&header[..HEADER_MAC_INPUT_LEN], &header[HEADER_LEN..]],
        )
    }

    /// Checks the header MAC in constant time (spec 7.1 step 6). Inside
    /// [`scrubbed`] only.
    fn check_header(&self, header: &[u8]) -> Result<()> {
        let expected = self.header_mac(header);
        if bool::from(expected.ct_eq(&header[HEADER_MAC_INPUT_LEN..HEADER_LEN])) {
            Ok(())
        } else {
            Err(Error::CorruptHeader(HeaderProblem::Mac))
        }
    }
}

/// Everything needed to seal or open the blocks of one file. The key
/// material is behind pointers (a move copies no key byte) and wiped on
/// drop; the public operations run in [`scrubbed`].
pub(crate) struct FileCipher {
    layout: Layout,
    /// `K_enc`, expanded once.
    enc: AesKey,
    mac: Box<MacKey>,
    pad: Zeroizing<Vec<u8>>,
    full: Shuffle,
    last: Option<Shuffle>,
}

impl fmt::Debug for FileCipher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FileCipher")
            .field("layout", &self.layout)
            .finish_non_exhaustive()
    }
}

impl FileCipher {
    /// For an encoder: derives the subkeys for `salt` and precomputes the
    /// pad and the shuffles.
    pub(crate) fn new(key: &MasterKey, salt: &[u8; SALT_LEN], layout: Layout) -> Self {
        Self::build(key, salt, layout)
    }

    /// For a reader: the key whose id the header records (spec 7.1 step
    /// 5), then the header MAC (step 6) under `K_mac` alone; only a header
    /// that authenticates gets the other subkeys derived and the pad and
    /// shuffles built (tens of MiB for large blocks). A forged header
    /// costs a handful of HMAC-SHA256 computations and no allocation: its
    /// `K_mac` and HMAC state live on a stack that is then overwritten.
    pub(crate) fn unlock(header: &Header, raw: &[u8], keys: &[&MasterKey]) -> Result<Self> {
        let key = select_key(header, keys)?;
        let layout = header.layout();
        scrubbed(|| {
            let mut k_mac = Zeroizing::new([0u8; 32]);
            key.derive_mac(&header.salt, &mut k_mac);
            MacKey::keyed(&k_mac).check_header(raw)
        })?;
        Ok(Self::build(key, &header.salt, layout))
    }

    fn build(key: &MasterKey, salt: &[u8; SALT_LEN], layout: Layout) -> Self {
        let keys = key.derive(salt);
        let bs = layout.block_size() as usize;
        let final_len = layout.final_block_len();
        Self {
            layout,
            enc: AesKey::new(&keys.enc),
            mac: MacKey::new(&keys.mac),
            pad: scramble_pad(&keys.scramble, bs),
            full: Shuffle::new(&keys.shuffle, bs),
            last: (final_len != bs && final_len > 0)
                .then(|| Shuffle::new(&keys.shuffle, final_len)),
        }
    }

    pub(crate) fn layout(&self) -> &Layout {
        &self.layout
    }

    fn shuffle_for(&self, len: usize) -> Option<&Shuffle> {
        if len == self.full.len() {
            Some(&self.full)
        } else {
            self.last.as_ref().filter(|s| s.len() == len)
        }
    }

    /// AES-CTR under `K_enc` from the counter block of `index` in `domain`.
    fn ctr(&self, index: u64, domain: u32) -> Ctr<'_> {
        self.enc.ctr(&counter_block(index, domain))
    }

    /// HMAC over `label || parts...` (inside [`scrubbed`] only).
    fn mac_over(&self, label: &[u8], parts: &[&[u8]]) -> [u8; 32] {
        self.mac.mac_over(label, parts)
    }

    /// The header MAC (spec 5.1).
    pub(crate) fn header_mac(&self, header: &[u8]) -> [u8; 32] {
        scrubbed(|| self.mac.header_mac(header))
    }

    /// The tag of block `index` whose stored bytes hash to `leaf` (spec 5.2).
    pub(crate) fn block_tag(&self, index: u64, leaf: &[u8; 32]) -> [u8; 32] {
        scrubbed(|| self.block_tag_in(index, leaf))
    }

    /// [`FileCipher::block_tag`], inside [`scrubbed`] only.
    fn block_tag_in(&self, index: u64, leaf: &[u8; 32]) -> [u8; 32] {
        let is_final = [u8::from(index == self.layout.last_index())];
        self.mac_over(LABEL_BLOCK, &[&index.to_be_bytes(), &is_final, leaf])
    }

    /// Encrypts, shuffles and scrambles one block and appends its tag
    /// (spec 6.5). `out` is `plaintext.len() + 32` bytes. Returns the leaf
    /// digest of the stored bytes.
    pub(crate) fn seal_block(&self, index: u64, plaintext: &[u8], out: &mut [u8]) -> [u8; 32] {
        scrubbed(|| self.seal_block_in(index, plaintext, out))
    }

    fn seal_block_in(&self, index: u64, plaintext: &[u8], out: &mut [u8]) -> [u8; 32] {
        let len = plaintext.len();
        debug_assert_eq!(len, self.layout.block_len(index));
        let (body, tag) = out.split_at_mut(len);
        if let Some(s) = self.shuffle_for(len) {
            // The block's AES-CTR keystream into this thread's scratch
            // block; the plaintext is XORed into it, then shuffled into
            // `body` and XORed with the pad.
            with_keystream(self.ctr(index, DOMAIN_BLOCK), len, |ks| {
                s.forward_xor(plaintext, ks, &self.pad, body);
            });
        }
        let leaf = sha256(body);
        tag.copy_from_slice(&self.block_tag_in(index, &leaf));
        leaf
    }

    /// Authenticates one stored block (stored bytes followed by the tag) in
    /// constant time, without decrypting it. Returns its leaf digest.
    /// Inside [`scrubbed`] only.
    fn check_block_in(&self, index: u64, stored: &[u8]) -> Result<[u8; 32]> {
        let len = stored.len() - TAG_LEN;
        let leaf = sha256(&stored[..len]);
        let expected = self.block_tag_in(index, &leaf);
        if bool::from(expected.ct_eq(&stored[len..])) {
            Ok(leaf)
        } else {
            Err(Error::BlockAuth { index })
        }
    }

    /// Authenticates block `index` (stored bytes followed by the tag), then
    /// decrypts it into `out` (`stored.len() - 32` bytes). On failure nothing
    /// is decrypted and `out` is untouched.
    pub(crate) fn open_block(&self, index: u64, stored: &[u8], out: &mut [u8]) -> Result<[u8; 32]> {
        scrubbed(|| self.open_block_in(index, stored, out))
    }

    fn open_block_in(&self, index: u64, stored: &[u8], out: &mut [u8]) -> Result<[u8; 32]> {
        let leaf = self.check_block_in(index, stored)?;
        let len = stored.len() - TAG_LEN;
        if let Some(s) = self.shuffle_for(len) {
            with_keystream(self.ctr(index, DOMAIN_BLOCK), len, |ks| {
                s.inverse_xor(&stored[..len], ks, &self.pad, &mut out[..len]);
            });
        }
        Ok(leaf)
    }

    /// Encrypts (or decrypts) the recorded plaintext digest (spec 5.3).
    pub(crate) fn crypt_digest(&self, digest: &[u8; 32]) -> [u8; 32] {
        let mut d = *digest;
        scrubbed_deep(|| self.ctr(0, DOMAIN_DIGEST).apply_keystream(&mut d));
        d
    }

    /// The trailer MAC (spec 5.3).
    pub(crate) fn trailer_mac(&self, header_mac: &[u8; 32], trailer: &[u8]) -> [u8; 32] {
        scrubbed(|| {
            self.mac_over(
                LABEL_TRAILER,
                &[header_mac, &trailer[..TRAILER_MAC_INPUT_LEN]],
            )
        })
    }

    /// Builds the trailer once every block is sealed.
    pub(crate) fn make_trailer(
        &self,
        header: &Header,
        plaintext_sha256: &[u8; 32],
        keyless: KeylessHasher,
    ) -> (Trailer, [u8; 32]) {
        let mut t = Trailer {
            block_count: self.layout.block_count(),
            plaintext_len: self.layout.plaintext_len(),
            encrypted_plaintext_sha256: self.crypt_digest(plaintext_sha256),
            mac: [0; 32],
            keyless_sha256: [0; 32],
        };
        t.mac = self.trailer_mac(&header.mac, &t.to_bytes());
        let digests = keyless.finish(&t.to_bytes());
        t.keyless_sha256 = digests.keyless;
        (t, digests.tags)
    }

    /// Checks the trailer MAC and returns the decrypted plaintext SHA-256.
    pub(crate) fn open_trailer(&self, header_mac: &[u8; 32], t: &Trailer) -> Result<[u8; 32]> {
        let expected = self.trailer_mac(header_mac, &t.to_bytes());
        if !bool::from(expected.ct_eq(&t.mac)) {
            return Err(Error::CorruptTrailer(TrailerProblem::Mac));
        }
        Ok(self.crypt_digest(&t.encrypted_plaintext_sha256))
    }
}

/// Computes, in one pass over the blocks, the keyless digest (spec 5.4):
/// `SHA-256("AVA3-v1-keyless" || header || (leaf_i || tag_i)... || trailer[0..88])`,
/// and the tag digest a signature covers (spec 5.6):
/// `SHA-256(tag_0 || ... || tag_{n-1})`.
#[derive(Clone)]
pub(crate) struct KeylessHasher {
    keyless: Sha256,
    tags: Sha256,
}

/// The two digests of [`KeylessHasher`].
pub(crate) struct Digests {
    pub(crate) keyless: [u8; 32],
    pub(crate) tags: [u8; 32],
}

impl KeylessHasher {
    pub(crate) fn new(header: &[u8]) -> Self {
        let mut h = Sha256::new();
        h.update(LABEL_KEYLESS);
        h.update(header);
        Self {
            keyless: h,
            tags: Sha256::new(),
        }
    }

    pub(crate) fn push(&mut self, leaf: &[u8; 32], tag: &[u8]) {
        self.keyless.update(leaf);
        self.keyless.update(tag);
        self.tags.update(tag);
    }

    pub(crate) fn finish(mut self, trailer: &[u8]) -> Digests {
        self.keyless.update(&trailer[..TRAILER_KEYLESS_INPUT_LEN]);
        Digests {
            keyless: self.keyless.finalize().into(),
            tags: self.tags.finalize().into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ctr::cipher::KeyIvInit;

    fn cipher(len: u64) -> FileCipher {
        FileCipher::new(
            &MasterKey::from_bytes([5; 32]),
            &[6; 32],
            Layout::new(4096, len).unwrap(),
        )
    }

    #[test]
    fn seal_open_round_trip_full_and_final_blocks() {
        let c = cipher(4096 * 2 + 100);
        for (index, len) in [(0u64, 4096usize), (1, 4096), (2, 100)] {
            let pt: Vec<u8> = (0..len).map(|i| (i * 31 % 256) as u8).collect();
            let mut stored = vec![0u8; len + 32];
            let leaf = c.seal_block(index, &pt, &mut stored);
            assert_ne!(&stored[..len], &pt[..]);
            let mut out = vec![0u8; len];
            assert_eq!(c.open_block(index, &stored, &mut out).unwrap(), leaf);
            assert_eq!(out, pt);
            // The same bytes at another index fail.
            let other = if index == 0 { 1 } else { 0 };
            assert!(matches!(
                c.open_block(other, &stored, &mut out),
                Err(Error::BlockAuth { index: i }) if i == other
            ));
        }
    }

    #[test]
    fn counter_ranges_never_overlap() {
        // Block i uses counters [i*2^64 .. i*2^64 + 2^20) within domain 0: the
        // top 64 bits are the index, so no two blocks or domains share one.
        assert_eq!(counter_block(1, 0)[..8], 1u64.to_be_bytes());
        assert_eq!(counter_block(u64::MAX, 0)[..8], [0xff; 8]);
        assert_ne!(counter_block(0, 0), counter_block(0, 1));
        assert_eq!(counter_block(0, 1)[8..12], [0, 0, 0, 1]);
    }

    #[test]
    fn largest_block_index_seals() {
        // Spec 3.2 bounds the index below 2^51; the arithmetic handles any u64.
        let c = FileCipher::new(
            &MasterKey::from_bytes([5; 32]),
            &[6; 32],
            Layout::new(4096, (1 << 40) * 4096 + 1).unwrap(),
        );
        let idx = c.layout().last_index();
        assert_eq!(idx, 1 << 40);
        let mut out = [0u8; 33];
        c.seal_block(idx, &[0x42], &mut out);
        let mut back = [0u8; 1];
        c.open_block(idx, &out, &mut back).unwrap();
        assert_eq!(back, [0x42]);
    }

    /// The 64-bit counter flavor gives the spec's 128-bit counter stream
    /// for every starting block the format uses, over 2^20 AES blocks (a
    /// 16 MiB block), and the two differ only once the low half would wrap.
    #[test]
    fn ctr_flavor_is_the_spec_counter() {
        let key = [7u8; 32];
        let starts = [
            counter_block(0, DOMAIN_BLOCK),
            counter_block(u64::MAX, DOMAIN_BLOCK),
            counter_block(3, DOMAIN_DIGEST),
            [0u8; 16],
        ];
        let mut a = vec![0u8; 16 << 20];
        let mut b = vec![0u8; 16 << 20];
        let aes = AesKey::new(&key);
        for iv in starts {
            aes.ctr(&iv).write_keystream(&mut a);
            ctr::Ctr128BE::<aes::Aes256>::new(&key.into(), &iv.into()).write_keystream(&mut b);
            assert!(a == b, "iv {iv:02x?}");
        }
        let mut wrap = [0xffu8; 16];
        wrap[0] = 0;
        let (mut x, mut y) = ([0u8; 32], [0u8; 32]);
        aes.ctr(&wrap).write_keystream(&mut x);
        ctr::Ctr128BE::<aes::Aes256>::new(&key.into(), &wrap.into()).write_keystream(&mut y);
        assert_eq!(x[..16], y[..16]);
        assert_ne!(x[16..], y[16..], "the flavors differ past a low-half wrap");
    }

    /// Every type that holds key material of a file wipes itself on drop
    ///. An HMAC (`MacKey`, and the PRK state inside
    /// HKDF) is two SHA-256 midstates of the key plus a block buffer: the
    /// midstate type and the buffered hasher must wipe themselves; so must
    /// the AES key schedule of each `AesKey` (a CTR instance only borrows
    /// it). A build without the `zeroize` features of `sha2`, `hmac` and
    /// `aes` fails here; `tests/ffi.sh` checks the freed heap and every
    /// thread's stack of the C ABI for the bytes.
    #[test]
    fn key_states_are_wiped_on_drop() {
        fn wiped<T: zeroize::ZeroizeOnDrop>() {}
        wiped::<sha2::block_api::Sha256VarCore>();
        wiped::<Sha256>();
        wiped::<Aes256Enc>();
        wiped::<crate::keys::FileKeys>();
        wiped::<MasterKey>();
    }

    /// `unlock` refuses a forged header (right key id, wrong MAC) as a
    /// header failure and unlocks the same header with its true MAC. (That
    /// the refusal comes before the 16 MiB tables are built is measured
    /// where allocations can be counted: `tests/c/heap_test.c`, and the
    /// `forged_header` benchmark.)
    #[test]
    fn unlock_checks_the_header_mac() {
        let key = MasterKey::from_bytes([5; 32]);
        let mut header = Header::for_encoder(
            crate::header::MAX_BLOCK_SIZE,
            1 << 40,
            crate::kind::PayloadKind::Gguf,
            [1; 32],
            key.key_id(),
            Default::default(),
            0,
        )
        .unwrap();
        header.mac = [0xAA; 32];
        let raw = header.to_bytes();
        let err = FileCipher::unlock(&header, &raw, &[&key]).unwrap_err();
        assert!(
            matches!(err, Error::CorruptHeader(HeaderProblem::Mac)),
            "{err}"
        );
        // With the right MAC the same header unlocks (and builds the tables).
        let mut good = header.clone();
        let mut k_mac = [0u8; 32];
        key.derive_mac(&header.salt, &mut k_mac);
        good.mac = MacKey::new(&k_mac).header_mac(&raw);
        let c = FileCipher::unlock(&good, &good.to_bytes(), &[&key]).unwrap();
        assert_eq!(c.pad.len(), crate::header::MAX_BLOCK_SIZE as usize);
    }

    #[test]
    fn digest_encryption_round_trips() {
        let c = cipher(1);
        let d = [9u8; 32];
        assert_ne!(c.crypt_digest(&d), d);
        assert_eq!(c.crypt_digest(&c.crypt_digest(&d)), d);
    }
}
