//! The adversarial corpus (`ava3_testkit::corpus`) through the core: each
//! case ends in a documented error (never success) in the streaming
//! decoder, keyed and keyless verify and random access, releases only
//! authentic plaintext, and ends (a hang guard, not a speed target).

use ava3_testkit::verify;
use std::io::Read;
use std::time::{Duration, Instant};

use ava3_format::{DecodeOptions, Decoder, Error, Outcome, RandomAccessReader};
use ava3_testkit::corpus::{corpus, encode, key, plaintext, Case};

#[test]
fn every_mutation_fails_with_a_documented_error_and_releases_only_authentic_plaintext() {
    let pt = plaintext();
    let good = encode(1);
    assert_eq!(ava3_format::decode_to_vec(&key(), &good).unwrap(), pt);
    let cases = corpus();
    assert!(cases.len() > 1500, "{} cases", cases.len());
    let mut outcomes = std::collections::BTreeMap::new();
    for Case(name, bytes) in &cases {
        let start = Instant::now();
        for parallel in [false, true] {
            let opts = DecodeOptions { parallel };
            let mut released = Vec::new();
            let r = (|| {
                let mut d =
                    Decoder::open(&bytes[..], &[&key()], &ava3_format::Policy::NONE, &opts)?;
                let mut buf = [0u8; 1000];
                loop {
                    let n = d.read(&mut buf).map_err(Error::from_io)?;
                    if n == 0 {
                        return Ok::<(), Error>(());
                    }
                    released.extend_from_slice(&buf[..n]);
                }
            })();
            let e = r.expect_err(name);
            assert_ne!(e.outcome(), Outcome::Other, "{name}: {e:?}");
            assert!(
                pt.starts_with(&released),
                "{name}: released bytes that are not the plaintext"
            );
            *outcomes.entry(e.outcome().as_str()).or_insert(0) += 1;
            // Keyed verify and random access agree that the file is bad.
            let v = verify(&bytes[..], &[&key()], false, &opts);
            assert!(v.is_err(), "{name}: keyed verify accepted it");
            let ra = RandomAccessReader::open(&bytes[..], &[&key()], &ava3_format::Policy::NONE)
                .and_then(|r| {
                    let mut all = vec![0u8; r.len() as usize];
                    r.decode_all_into(&mut all).map(|_| all)
                });
            if name.starts_with("keyless digest") {
                assert_eq!(ra.expect(name), pt, "{name}");
            } else {
                assert!(ra.is_err(), "{name}: random access accepted it");
            }
            // Keyless verification catches every change of the stored bytes
            // (it does not check the key).
            let k = verify(&bytes[..], &[], false, &opts);
            assert!(k.is_err(), "{name}: keyless verify accepted it");
        }
        // A hang guard, not a speed target (speed is BENCHMARKS.md's): no
        // case may loop or blow up. A case takes milliseconds natively and
        // up to seconds under qemu without the crypto instructions on a
        // loaded machine, where a 2-second bound failed.
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "{name}: no end in sight"
        );
    }
    // The corpus reaches every outcome a decoder can report.
    for o in [
        "not ava3",
        "unsupported version",
        "header failure",
        "block failure",
        "truncated",
        "trailer failure",
        "trailing data",
        "integrity failure",
    ] {
        assert!(
            outcomes.contains_key(o),
            "no case produced {o}: {outcomes:?}"
        );
    }
}
