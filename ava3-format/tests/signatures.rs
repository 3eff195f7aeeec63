//! Publisher signatures, model binding and rollback through the public API
//! (spec 5.6, 7.5, 8.3): every encoder writes the same signed bytes, every
//! reader enforces the same policy, and a file made with the master key
//! alone is refused wherever a signer is required.

use std::io::Read;
use std::sync::Arc;

use ava3_format::{
    encode_at, encode_to_vec, Check, DecodeOptions, EncodeOptions, Error, MasterKey, Metadata,
    Outcome, Policy, RandomAccessReader, Sealed, SigningKey,
};

fn key() -> MasterKey {
    MasterKey::from_bytes([3; 32])
}

fn publisher() -> SigningKey {
    SigningKey::from_seed(&[0x11; 32])
}

fn options(signers: Vec<SigningKey>, version: u64) -> EncodeOptions {
    EncodeOptions {
        block_size: 4096,
        metadata: Metadata {
            name: Some("assistant-1b".into()),
            version: Some(version),
        },
        signers: signers.into_iter().map(Arc::new).collect(),
        ..Default::default()
    }
}

fn plaintext(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 131 % 251) as u8).collect()
}

fn trusting(k: &SigningKey) -> Policy {
    let mut p = Policy::default();
    p.trust(k.public_key());
    p
}

fn open<'a>(file: &'a [u8], policy: &Policy) -> Result<RandomAccessReader<&'a [u8]>, Error> {
    let k = key();
    Sealed::read_at(&file)?
        .unlock(&[&k], policy)?
        .random_access(file)
}

/// The plaintext in order: the streaming decoder, or under a signature
/// requirement the random-access reader's stream (checked at open).
fn stream(file: &[u8], policy: &Policy) -> Result<Vec<u8>, Error> {
    let mut out = Vec::new();
    if policy.requires_signature() {
        let ra = open(file, policy)?;
        ra.reader().read_to_end(&mut out).map_err(Error::from_io)?;
        return Ok(out);
    }
    let mut input = file;
    let mut d = Sealed::read(&mut input)?
        .unlock(&[&key()], policy)?
        .decoder(input, &DecodeOptions::default());
    d.read_to_end(&mut out).map_err(Error::from_io)?;
    Ok(out)
}

fn public_only(file: &[u8], policy: &Policy) -> Result<(), Error> {
    let mut input = file;
    let check = Check {
        keys: &[],
        policy,
        deep: false,
    };
    Sealed::read(&mut input)?
        .verify(input, &check, &DecodeOptions::default())
        .map(|_| ())
}

#[test]
fn a_signed_file_reads_everywhere_and_reports_its_signer() {
    let pt = plaintext(200_000);
    let (file, summary) = encode_to_vec(&key(), &pt, &options(vec![publisher()], 5)).unwrap();
    assert_eq!(summary.header.version(), 2);
    assert_eq!(summary.file_len, file.len() as u64);
    let mut policy = trusting(&publisher());
    policy.expect_name("assistant-1b").require_min_version(5);
    assert_eq!(stream(&file, &policy).unwrap(), pt);
    let ra = open(&file, &policy).unwrap();
    assert_eq!(ra.signer(), Some(publisher().signer_id()));
    let mut out = vec![0u8; pt.len()];
    ra.decode_all_into(&mut out).unwrap();
    assert_eq!(out, pt);
    public_only(&file, &policy).unwrap();
    let h = ra.header();
    assert_eq!(h.metadata().name.as_deref(), Some("assistant-1b"));
    assert_eq!((h.metadata().version, h.signature_count()), (Some(5), 1));
}

#[test]
fn the_positional_encoder_writes_the_same_signed_bytes() {
    // Ed25519 signatures are deterministic, so two encoders given the same
    // salt write the same file; with a random salt the lengths agree and
    // both verify.
    let pt = plaintext(300_001);
    let opts = options(vec![publisher(), SigningKey::from_seed(&[0x22; 32])], 9);
    let (a, _) = encode_to_vec(&key(), &pt, &opts).unwrap();
    let dest = tempfile::tempfile().unwrap();
    let summary = encode_at(&pt[..], &dest, &key(), pt.len() as u64, &opts, &|_| {}).unwrap();
    let mut b = Vec::new();
    (&dest).read_to_end(&mut b).unwrap();
    assert_eq!(
        (a.len() as u64, b.len() as u64),
        (summary.file_len, summary.file_len)
    );
    for file in [&a, &b] {
        assert_eq!(stream(file, &trusting(&publisher())).unwrap(), pt);
        assert_eq!(
            stream(file, &trusting(&SigningKey::from_seed(&[0x22; 32]))).unwrap(),
            pt
        );
    }
}

#[test]
fn an_unsigned_or_foreign_file_is_refused_where_a_signer_is_required() {
    let pt = plaintext(50_000);
    let policy = trusting(&publisher());
    // A master-key holder re-encodes the model without a signature...
    let (unsigned, _) = encode_to_vec(&key(), &pt, &EncodeOptions::default()).unwrap();
    // ...or signs it with a key of their own.
    let mallory = SigningKey::from_seed(&[0x66; 32]);
    let (foreign, _) = encode_to_vec(&key(), &pt, &options(vec![mallory], 99)).unwrap();
    for (file, outcome) in [
        (&unsigned, Outcome::Unsigned),
        (&foreign, Outcome::UnknownSigner),
    ] {
        assert_eq!(stream(file, &policy).unwrap_err().outcome(), outcome);
        assert_eq!(open(file, &policy).unwrap_err().outcome(), outcome);
        assert_eq!(public_only(file, &policy).unwrap_err().outcome(), outcome);
        // Without a requirement both read, as version 1 files always did.
        assert_eq!(stream(file, &Policy::default()).unwrap(), pt);
    }
}

#[test]
fn an_older_version_is_refused_where_a_minimum_is_set() {
    let pt = plaintext(10_000);
    let (v4, _) = encode_to_vec(&key(), &pt, &options(vec![publisher()], 4)).unwrap();
    let mut policy = trusting(&publisher());
    policy.require_min_version(5);
    assert_eq!(open(&v4, &policy).unwrap_err().outcome(), Outcome::Rollback);
    assert_eq!(
        stream(&v4, &policy).unwrap_err().outcome(),
        Outcome::Rollback
    );
    assert_eq!(
        public_only(&v4, &policy).unwrap_err().outcome(),
        Outcome::Rollback
    );
    let mut named = trusting(&publisher());
    named.expect_name("assistant-3b");
    assert_eq!(
        open(&v4, &named).unwrap_err().outcome(),
        Outcome::NameMismatch
    );
}

/// A source whose bytes can change under an open reader (a file replaced
/// on disk, a hostile storage layer).
struct Swappable(std::sync::RwLock<Vec<u8>>);

impl ava3_format::ReadAt for Swappable {
    fn read_exact_at(&self, buf: &mut [u8], offset: u64) -> std::io::Result<()> {
        self.0.read().unwrap().as_slice().read_exact_at(buf, offset)
    }
    fn size(&self) -> std::io::Result<u64> {
        Ok(self.0.read().unwrap().len() as u64)
    }
}

#[test]
fn a_random_access_reader_refuses_a_block_the_publisher_did_not_sign() {
    use ava3_format::ReadAt as _;
    // The attacker holds the master key: with the same salt they make a
    // block with a valid tag (here: an encoding of other plaintext whose
    // header equals the genuine one, via the test-vector encoder).
    let pt = plaintext(4096 * 6);
    let opts = options(vec![publisher()], 1);
    let encode = |data: &[u8]| {
        let mut e = ava3_format::Encoder::new_with_salt_for_test_vectors(
            Vec::new(),
            &key(),
            data.len() as u64,
            &opts,
            [5; 32],
        )
        .unwrap();
        std::io::Write::write_all(&mut e, data).unwrap();
        e.finish().unwrap().0
    };
    let file = encode(&pt);
    let mut other = pt.clone();
    other[2 * 4096] ^= 1;
    let forged = encode(&other);
    let policy = trusting(&publisher());
    let layout = *open(&file, &policy).unwrap().layout();
    let r = layout.block_offset(2) as usize..layout.block_offset(3) as usize;
    let mut spliced = file.clone();
    spliced[r.clone()].copy_from_slice(&forged[r]);
    // Read whole, the signature over the tags fails at open.
    assert_eq!(
        open(&spliced, &policy).unwrap_err().outcome(),
        Outcome::BadSignature
    );
    // Without a signer required, the spliced block's tag is valid under
    // K_mac: a version 1 reader would accept it.
    let ra = open(&spliced, &Policy::default()).unwrap();
    let mut buf = vec![0u8; 4096];
    ra.read_at(&mut buf, 2 * 4096).unwrap();
    assert_eq!(buf, other[2 * 4096..3 * 4096]);
    // Swapped under a reader that checked the signature at open: block 2
    // no longer carries its signed tag and is refused; block 0 still reads.
    let source = Swappable(std::sync::RwLock::new(file.clone()));
    let ra = Sealed::read_at(&source)
        .and_then(|s| s.unlock(&[&key()], &policy))
        .and_then(|u| u.random_access(&source))
        .unwrap();
    *source.0.write().unwrap() = spliced;
    assert!(source.size().unwrap() > 0);
    assert!(matches!(
        ra.read_at(&mut buf, 2 * 4096),
        Err(Error::BlockAuth { index: 2 })
    ));
    ra.read_at(&mut buf, 0).unwrap();
    assert_eq!(buf, pt[..4096]);
}

/// A streaming decoder never releases plaintext before
/// the signature is checked; a master-key holder's forgery (a block
/// re-sealed, the rest signed) gives out nothing.
#[test]
fn a_streaming_decoder_releases_nothing_under_a_signature_requirement() {
    let pt = plaintext(200_000);
    let (file, _) = encode_to_vec(&key(), &pt, &options(vec![publisher()], 1)).unwrap();
    let policy = trusting(&publisher());
    let mut input = &file[..];
    let unlocked = Sealed::read(&mut input)
        .unwrap()
        .unlock(&[&key()], &policy)
        .unwrap();
    let mut d = unlocked.decoder(input, &DecodeOptions::default());
    let mut buf = vec![0u8; 1 << 20];
    assert!(d.read(&mut buf).is_err());
    assert!(buf.iter().all(|&b| b == 0), "plaintext was released");
    // The random-access stream checks the signature at open, then streams
    // and seeks.
    use std::io::{Seek, SeekFrom};
    let ra = open(&file, &policy).unwrap();
    let mut r = ra.reader();
    r.seek(SeekFrom::Start(150_000)).unwrap();
    let mut tail = Vec::new();
    r.read_to_end(&mut tail).unwrap();
    assert_eq!(tail, pt[150_000..]);
}

#[test]
fn a_name_or_version_without_a_signer_needs_the_key() {
    let (file, _) = encode_to_vec(&key(), b"x", &options(vec![], 1)).unwrap();
    let mut p = Policy::default();
    p.expect_name("assistant-1b");
    assert_eq!(
        public_only(&file, &p).unwrap_err().outcome(),
        Outcome::Other
    );
    assert_eq!(stream(&file, &p).unwrap(), b"x");
}
