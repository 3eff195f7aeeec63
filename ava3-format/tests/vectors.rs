//! Runs every vector of `testdata/vectors/` through the streaming decoder
//! (block by block and in parallel batches), the random-access reader and
//! keyed verification, and checks that the committed vectors are exactly
//! what the generator (`ava3_testkit::vectors`) produces.

use std::io::Read;
use std::path::PathBuf;

use ava3_format::{
    Check, DecodeOptions, Decoder, Error, MasterKey, Outcome, Policy, PublicKey,
    RandomAccessReader, Sealed,
};
use ava3_testkit::vectors;
use sha2::{Digest, Sha256};

struct Case {
    name: String,
    expect: Outcome,
    key: [u8; 32],
    payload: [u8; 32],
    block: Option<u64>,
    seed: Option<String>,
    policy: Policy,
    file: Vec<u8>,
}

fn vectors_dir() -> PathBuf {
    manifest_dir().join("../testdata/vectors")
}

fn parse(name: &str, bytes: &[u8]) -> Case {
    let split = bytes
        .windows(2)
        .position(|w| w == b"\n\n")
        .expect("blank line");
    let head = std::str::from_utf8(&bytes[..split]).expect("utf-8 header");
    let mut case = Case {
        name: name.to_string(),
        expect: Outcome::Other,
        key: [0; 32],
        payload: [0; 32],
        block: None,
        seed: None,
        policy: Policy::default(),
        file: bytes[split + 2..].to_vec(),
    };
    for line in head.lines() {
        let (k, v) = line.split_once(": ").expect("name: value");
        match k {
            "expect" => case.expect = Outcome::parse(v).expect("known outcome"),
            "key" => hex::decode_to_slice(v, &mut case.key).expect("hex key"),
            "payload" => hex::decode_to_slice(v, &mut case.payload).expect("hex payload"),
            "block" => case.block = Some(v.parse().expect("block index")),
            "seed" => case.seed = Some(v.to_string()),
            "require-signer" => {
                case.policy
                    .trust(PublicKey::parse(v.as_bytes()).expect("public key"));
            }
            "require-name" => {
                case.policy.expect_name(v);
            }
            "require-min-version" => {
                case.policy.require_min_version(v.parse().expect("version"));
            }
            "comment" => {}
            other => panic!("unknown vector line {other}"),
        }
    }
    case
}

fn load() -> Vec<Case> {
    let mut cases: Vec<Case> = std::fs::read_dir(vectors_dir())
        .expect("testdata/vectors exists")
        .map(|e| {
            let p = e.expect("entry").path();
            let name = p.file_name().unwrap().to_string_lossy().to_string();
            parse(&name, &std::fs::read(&p).expect("read vector"))
        })
        .collect();
    cases.sort_by(|a, b| a.name.cmp(&b.name));
    cases
}

/// Decodes like a streaming consumer; returns the digest of what was
/// released and the outcome.
fn stream(case: &Case, parallel: bool, read_size: usize) -> ([u8; 32], Result<(), Error>) {
    let key = MasterKey::from_bytes(case.key);
    let mut released = Sha256::new();
    let opts = DecodeOptions { parallel };
    let r = (|| {
        let mut d = Decoder::open(&case.file[..], &[&key], &case.policy, &opts)?;
        let mut buf = vec![0u8; read_size];
        loop {
            let n = d.read(&mut buf).map_err(Error::from_io)?;
            if n == 0 {
                return Ok(());
            }
            released.update(&buf[..n]);
        }
    })();
    (released.finalize().into(), r)
}

fn outcome(r: &Result<(), Error>) -> Outcome {
    match r {
        Ok(()) => Outcome::Success,
        Err(e) => e.outcome(),
    }
}

#[test]
fn there_are_enough_vectors() {
    let cases = load();
    let negative = cases
        .iter()
        .filter(|c| c.expect != Outcome::Success)
        .count();
    assert!(cases.len() >= 40, "{} vectors", cases.len());
    assert!(negative >= 20);
}

#[test]
fn streaming_decoder_matches_every_vector() {
    for case in load() {
        if case.policy.requires_signature() {
            // Spec 7.3: no plaintext before the signature verified, which a
            // stream cannot do; the random-access reader's stream does
            // (random_access_agrees_with_vectors).
            // A file that fails a requirement of the header (name,
            // version, unsigned) is refused at unlock as that; any other
            // is refused at the first read.
            let (payload, r) = stream(&case, true, 10_000);
            assert!(
                r.is_err()
                    && (case.expect != Outcome::Success
                        || matches!(r, Err(Error::InvalidParameter(_)))),
                "{}: a streaming decoder under a signature requirement gave {r:?}",
                case.name
            );
            assert_eq!(
                payload,
                <[u8; 32]>::from(Sha256::digest(b"")),
                "{}",
                case.name
            );
            continue;
        }
        // Small reads go through the decoder's batch buffer; reads of a
        // batch or more are decoded straight into the caller's buffer.
        for (parallel, read_size) in [(false, 10_000), (true, 10_000), (true, 8 << 20)] {
            let (payload, r) = stream(&case, parallel, read_size);
            assert_eq!(
                outcome(&r),
                case.expect,
                "{} (parallel {parallel}): {r:?}",
                case.name
            );
            assert_eq!(payload, case.payload, "{}: released plaintext", case.name);
            if let Some(b) = case.block {
                assert!(
                    matches!(r, Err(Error::BlockAuth { index }) if index == b),
                    "{}: {r:?}",
                    case.name
                );
            }
        }
    }
}

#[test]
fn keyed_verify_matches_every_vector() {
    for case in load() {
        for deep in [false, true] {
            let key = MasterKey::from_bytes(case.key);
            let mut input = &case.file[..];
            let check = Check {
                keys: &[&key],
                policy: &case.policy,
                deep,
            };
            let r = Sealed::read(&mut input)
                .and_then(|s| s.verify(input, &check, &DecodeOptions::default()))
                .map(|_| ());
            assert_eq!(
                outcome(&r),
                case.expect,
                "{} (deep {deep}): {r:?}",
                case.name
            );
        }
    }
}

/// With only the public key (no master key), a release check reaches the
/// outcome of every vector that requires a signer (spec 7.5): the keyless
/// digest ties the stored bytes to the trailer, the signature ties the
/// header, the trailer and every tag to the publisher.
#[test]
fn public_key_verify_matches_every_signed_vector() {
    let mut checked = 0;
    for case in load().iter().filter(|c| c.policy.requires_signature()) {
        let mut input = &case.file[..];
        let check = Check {
            keys: &[],
            policy: &case.policy,
            deep: false,
        };
        let r = Sealed::read(&mut input)
            .and_then(|s| s.verify(input, &check, &DecodeOptions::default()))
            .map(|_| ());
        assert_eq!(outcome(&r), case.expect, "{}: {r:?}", case.name);
        checked += 1;
    }
    assert!(checked >= 10, "{checked} signed vectors");
}

#[test]
fn random_access_agrees_with_vectors() {
    // A random-access reader checks the file length against the header up
    // front and does not read the keyless digest: it reports the same
    // outcome except that it releases nothing on truncation, and a
    // corrupted keyless digest alone does not stop it (spec 8.3).
    for case in load() {
        let key = MasterKey::from_bytes(case.key);
        let r = RandomAccessReader::open(&case.file[..], &[&key], &case.policy).and_then(|ra| {
            let mut out = vec![0u8; ra.len() as usize];
            ra.decode_all_into(&mut out)?;
            assert_eq!(
                Sha256::digest(&out).as_slice(),
                case.payload,
                "{}",
                case.name
            );
            // The same plaintext in order through its stream.
            let mut streamed = Vec::new();
            Read::read_to_end(&mut ra.reader(), &mut streamed).map_err(Error::from_io)?;
            assert!(streamed == out, "{}: reader() differs", case.name);
            Ok(())
        });
        let got = outcome(&r);
        let ok = match case.expect {
            Outcome::IntegrityFailure => got == Outcome::Success,
            // A structure that does not fit the announced length.
            Outcome::BlockFailure
                if case.name == "block_deleted" || case.name == "final_block_only_tag" =>
            {
                got == Outcome::Truncated
            }
            Outcome::TrailerFailure if case.name == "final_block_twice" => {
                got == Outcome::TrailingData
            }
            // The trailer MAC binds the header: read at open, it fails first.
            Outcome::BlockFailure if case.name == "header_from_other_file" => {
                got == Outcome::TrailerFailure
            }
            e => got == e,
        };
        assert!(
            ok,
            "{}: expected {}, random access gave {r:?}",
            case.name, case.expect
        );
    }
}

/// Spec appendix A: the plaintext of a success vector is the SHA-256
/// counter stream of its `seed`, cut to the header's plaintext length (the
/// first 8 bytes `GGUF` 03 00 00 00 for payload kind 2, bytes 4..8 `TFL3`
/// for payload kind 3). Rebuilt here from that text alone, it hashes to the
/// vector's `payload`, and its content fits its payload kind (appendix B).
#[test]
fn success_plaintexts_are_what_appendix_a_says() {
    use sha2::{Digest, Sha256};
    let mut checked = 0;
    for case in load().iter().filter(|c| c.expect == Outcome::Success) {
        let seed = case
            .seed
            .as_deref()
            .unwrap_or_else(|| panic!("{}: no seed", case.name));
        let len = u64::from_le_bytes(case.file[24..32].try_into().unwrap()) as usize;
        let mut pt = Vec::new();
        for counter in 0u64.. {
            if pt.len() >= len {
                break;
            }
            let mut h = Sha256::new();
            h.update(seed.as_bytes());
            h.update(counter.to_le_bytes());
            pt.extend_from_slice(&h.finalize());
        }
        pt.truncate(len);
        if case.file[20] == 2 && len >= 8 {
            pt[..8].copy_from_slice(b"GGUF\x03\0\0\0");
        }
        if case.file[20] == 3 && len >= 8 {
            pt[4..8].copy_from_slice(b"TFL3");
        }
        let kind = ava3_format::PayloadKind::from_code(case.file[20]).unwrap();
        let head = &pt[..len.min(ava3_format::Content::SNIFF_LEN)];
        assert!(
            ava3_format::Content::sniff(head).fits(kind),
            "{}: the plaintext does not fit payload kind {kind}",
            case.name
        );
        let digest: [u8; 32] = Sha256::digest(&pt).into();
        assert_eq!(digest, case.payload, "{}", case.name);
        checked += 1;
    }
    assert!(checked >= 15, "{checked} success vectors");
}

#[test]
fn committed_vectors_are_what_the_generator_writes() {
    let dir = vectors_dir();
    let generated = vectors::all_vectors();
    let on_disk = std::fs::read_dir(&dir).unwrap().count();
    assert_eq!(
        on_disk,
        generated.len(),
        "vector count: regenerate with `cargo run -p ava3-testkit --bin gen-vectors -- testdata/vectors`"
    );
    for v in generated {
        let disk = std::fs::read(dir.join(&v.name)).unwrap_or_default();
        assert!(
            disk == v.to_bytes(),
            "{} differs from the generator: run `cargo run -p ava3-testkit --bin gen-vectors -- testdata/vectors`",
            v.name
        );
    }
}

/// This package's folder as cargo gives it when the test runs: a binary
/// reused from a shared target folder may have been compiled in another
/// checkout (since removed), whose path `env!` would still name.
fn manifest_dir() -> PathBuf {
    let dir = std::env::var_os("CARGO_MANIFEST_DIR");
    dir.map_or_else(|| env!("CARGO_MANIFEST_DIR").into(), Into::into)
}
