//! What publisher signatures cost (spec 5.6, 8.3), each next to its
//! unsigned baseline in the same run:
//!
//! - `open_1gib/*`: opening a 1 GiB model (64 KiB blocks) from a file for
//!   random access, as a device loader does: header, length, trailer, and
//!   with a trusted signer also every tag (16384 reads of 32 bytes) and the
//!   Ed25519 verification over their digest;
//! - `encode_64mib/*`: a streaming encode, unsigned and signed (the tag
//!   digest rides on the keyless hash; one Ed25519 signature at the end);
//! - `verify_signed_64mib` against `verify_keyless_64mib`: a release check
//!   with only the public key, against the keyless check it extends.
//!
//! `cargo bench -p ava3-format --bench signatures`

use std::hint::black_box;
use std::io::Write;
use std::sync::Arc;

use ava3_format::{
    Check, DecodeOptions, EncodeOptions, Encoder, MasterKey, Metadata, Policy, RandomAccessReader,
    Sealed, SigningKey,
};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

fn options(signed: bool) -> EncodeOptions {
    EncodeOptions {
        metadata: Metadata {
            name: signed.then(|| "bench-model".to_string()),
            version: signed.then_some(1),
        },
        signers: if signed {
            vec![Arc::new(SigningKey::from_seed(&[9; 32]))]
        } else {
            Vec::new()
        },
        ..Default::default()
    }
}

/// Encodes `len` bytes of a fixed pattern into a new temporary file.
fn encode_file(len: usize, signed: bool) -> tempfile::NamedTempFile {
    let key = MasterKey::from_bytes([1; 32]);
    let file = tempfile::NamedTempFile::new().expect("temp file");
    let out = std::io::BufWriter::with_capacity(1 << 20, file.reopen().expect("reopen"));
    let mut enc = Encoder::new(out, &key, len as u64, &options(signed)).expect("encoder");
    let chunk: Vec<u8> = (0..1 << 20).map(|i| (i * 7 % 251) as u8).collect();
    let mut left = len;
    while left > 0 {
        let n = left.min(chunk.len());
        enc.write_all(&chunk[..n]).expect("write");
        left -= n;
    }
    let (mut w, _) = enc.finish().expect("finish");
    w.flush().expect("flush");
    file
}

fn open(c: &mut Criterion) {
    let key = MasterKey::from_bytes([1; 32]);
    let unsigned = encode_file(1 << 30, false);
    let signed = encode_file(1 << 30, true);
    let mut trust = Policy::default();
    trust.trust(SigningKey::from_seed(&[9; 32]).public_key());
    let mut g = c.benchmark_group("open_1gib");
    g.sample_size(20);
    g.bench_function("unsigned", |b| {
        b.iter(|| {
            let f = std::fs::File::open(unsigned.path()).expect("open");
            black_box(RandomAccessReader::open(f, &[&key], &Policy::NONE).expect("reader"));
        })
    });
    g.bench_function("signed_not_required", |b| {
        b.iter(|| {
            let f = std::fs::File::open(signed.path()).expect("open");
            black_box(RandomAccessReader::open(f, &[&key], &Policy::NONE).expect("reader"));
        })
    });
    g.bench_function("signed_required", |b| {
        b.iter(|| {
            let f = std::fs::File::open(signed.path()).expect("open");
            let r = RandomAccessReader::open(f, &[&key], &trust);
            black_box(r.expect("reader"));
        })
    });
    g.finish();
}

fn encode_and_verify(c: &mut Criterion) {
    const LEN: usize = 64 << 20;
    let key = MasterKey::from_bytes([1; 32]);
    let pt: Vec<u8> = (0..LEN).map(|i| (i * 13 % 251) as u8).collect();
    let mut g = c.benchmark_group("encode_64mib");
    g.throughput(Throughput::Bytes(LEN as u64));
    g.sample_size(10);
    for signed in [false, true] {
        let opts = options(signed);
        let mut out = Vec::with_capacity(LEN + (1 << 20));
        g.bench_function(if signed { "signed" } else { "unsigned" }, |b| {
            b.iter(|| {
                out.clear();
                let mut enc = Encoder::new(&mut out, &key, LEN as u64, &opts).expect("encoder");
                enc.write_all(&pt).expect("write");
                black_box(enc.finish().expect("finish"));
            })
        });
    }
    g.finish();
    let signed = std::fs::read(encode_file(LEN, true).path()).expect("read");
    let mut trust = Policy::default();
    trust.trust(SigningKey::from_seed(&[9; 32]).public_key());
    let mut g = c.benchmark_group("verify_64mib");
    g.throughput(Throughput::Bytes(LEN as u64));
    g.sample_size(10);
    let opts = DecodeOptions::default();
    g.bench_function("keyless", |b| {
        b.iter(|| {
            let mut input = &signed[..];
            let s = Sealed::read(&mut input).expect("header");
            black_box(s.verify(input, &Check::KEYLESS, &opts).expect("keyless"));
        })
    });
    g.bench_function("signed_public_key_only", |b| {
        b.iter(|| {
            let mut input = &signed[..];
            let s = Sealed::read(&mut input).expect("header");
            let check = Check {
                keys: &[],
                policy: &trust,
                deep: false,
            };
            black_box(s.verify(input, &check, &opts).expect("signed"));
        })
    });
    g.finish();
}

criterion_group!(benches, open, encode_and_verify);
criterion_main!(benches);
