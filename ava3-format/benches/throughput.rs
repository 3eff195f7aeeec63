//! Throughput of the core next to its primitives, in one run:
//! raw AES-256-CTR, raw HMAC-SHA256, the two together (the cost floor of any
//! AES-CTR + HMAC format), the obfuscation layers alone, and the core's
//! encode (streaming, and by offset into a file as the CLI does) / decode /
//! keyed verify, on one core and on all cores.
//!
//! `cargo bench -p ava3-format --bench throughput`

use ava3_testkit::verify;
use std::hint::black_box;
use std::io::Read;

use aes::Aes256;
use ava3_format::bench_internals::Obfuscator;
use ava3_format::{
    encode_at, DecodeOptions, Decoder, EncodeOptions, Encoder, MasterKey, PayloadKind, Policy,
};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use ctr::cipher::{KeyIvInit, StreamCipher};
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

const LEN: usize = 32 << 20;
const BS: usize = 1 << 16;

fn data() -> Vec<u8> {
    (0..LEN)
        .map(|i| (i as u32).wrapping_mul(2654435761) as u8)
        .collect()
}

/// Encodes into `out` (cleared first; its capacity is reused, so the
/// measurement does not include page faults of a fresh output buffer).
fn encode(key: &MasterKey, pt: &[u8], parallel: bool, out: &mut Vec<u8>) {
    out.clear();
    let opts = EncodeOptions {
        block_size: BS as u32,
        payload_kind: PayloadKind::Unknown,
        threads: if parallel { 0 } else { 1 },
        ..Default::default()
    };
    let mut enc = Encoder::new(out, key, pt.len() as u64, &opts).unwrap();
    std::io::Write::write_all(&mut enc, pt).unwrap();
    enc.finish().unwrap();
}

fn decode(key: &MasterKey, file: &[u8], parallel: bool, out: &mut [u8]) {
    let mut d = Decoder::open(file, &[key], &Policy::NONE, &DecodeOptions { parallel }).unwrap();
    d.read_exact(out).unwrap();
    assert_eq!(d.read(&mut [0u8; 1]).unwrap(), 0);
}

/// A `Vec` that hashes what is written to it.
struct HashingVec<'a>(&'a mut Vec<u8>, Sha256);

impl std::io::Write for HashingVec<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        sha2::Digest::update(&mut self.1, buf);
        self.0.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Block `i`'s place in the reused batch buffer.
fn window(out: &mut [u8], i: usize) -> &mut [u8] {
    let at = (i * BS) % out.len();
    &mut out[at..at + BS]
}

/// AES-256-CTR as the core runs it (the 64-bit counter flavor, see
/// `cipher::Ctr`), for block `i`.
fn ctr_at(i: usize) -> ctr::Ctr64BE<Aes256> {
    let mut iv = [0u8; 16];
    iv[..8].copy_from_slice(&(i as u64).to_be_bytes());
    ctr::Ctr64BE::<Aes256>::new(&[1u8; 32].into(), &iv.into())
}

fn primitives(c: &mut Criterion) {
    let pt = data();
    let mut g = c.benchmark_group("primitives");
    g.throughput(Throughput::Bytes(LEN as u64));
    g.sample_size(10);
    let mut buf = pt.clone();
    g.bench_function("aes256ctr", |b| {
        b.iter(|| {
            let mut c = ctr::Ctr64BE::<Aes256>::new(&[1u8; 32].into(), &[0u8; 16].into());
            c.apply_keystream(&mut buf);
        })
    });
    g.bench_function("hmac_sha256", |b| {
        b.iter(|| {
            let mut m = <Hmac<Sha256> as KeyInit>::new_from_slice(&[2u8; 32]).unwrap();
            m.update(&pt);
            black_box(m.finalize());
        })
    });
    // The machine's own ceiling for 2-core scaling: two independent
    // HMAC-SHA256 halves on two threads (compare with hmac_sha256).
    let pool2 = rayon::ThreadPoolBuilder::new()
        .num_threads(2)
        .build()
        .unwrap();
    g.bench_function("hmac_sha256_halves_on_2_threads", |b| {
        b.iter(|| {
            let (x, y) = pt.split_at(LEN / 2);
            let h = |d: &[u8]| {
                let mut m = <Hmac<Sha256> as KeyInit>::new_from_slice(&[2u8; 32]).unwrap();
                m.update(d);
                black_box(m.finalize());
            };
            pool2.install(|| rayon::join(|| h(x), || h(y)));
        })
    });
    g.bench_function("aes256ctr_plus_hmac_sha256", |b| {
        b.iter(|| {
            let mut c = ctr::Ctr64BE::<Aes256>::new(&[1u8; 32].into(), &[0u8; 16].into());
            c.apply_keystream(&mut buf);
            let mut m = <Hmac<Sha256> as KeyInit>::new_from_slice(&[2u8; 32]).unwrap();
            m.update(&buf);
            black_box(m.finalize());
        })
    });
    // The obfuscation layers as the encoder runs them: the AES-CTR keystream
    // of each 64 KiB block is written into a scratch block, then one pass
    // XORs it into the plaintext, shuffles and XORs the pad into the
    // encoder's batch buffer. Their cost is the difference with AES-CTR
    // alone, block by block, into that buffer.
    // The encoder's batch: 1 MiB.
    let mut out = vec![0u8; 1 << 20];
    let mut scratch = vec![0u8; BS];
    let obf = Obfuscator::new(&[3u8; 32], BS);
    g.bench_function("aes256ctr_block_by_block", |b| {
        b.iter(|| {
            for (i, p) in pt.chunks(BS).enumerate() {
                let o = window(&mut out, i);
                ctr_at(i).apply_keystream_b2b(p, o);
            }
        })
    });
    g.bench_function("aes256ctr_then_shuffle_xor", |b| {
        b.iter(|| {
            for (i, p) in pt.chunks(BS).enumerate() {
                let o = window(&mut out, i);
                ctr_at(i).write_keystream(&mut scratch);
                obf.apply(p, &mut scratch, o);
            }
        })
    });
    g.bench_function("aes256ctr_then_shuffle_xor_scalar", |b| {
        b.iter(|| {
            for (i, p) in pt.chunks(BS).enumerate() {
                let o = window(&mut out, i);
                ctr_at(i).write_keystream(&mut scratch);
                obf.apply_scalar(p, &mut scratch, o);
            }
        })
    });
    g.finish();
}

fn shm_or_tmp() -> std::path::PathBuf {
    let shm = std::path::Path::new("/dev/shm");
    if shm.is_dir() {
        shm.to_path_buf()
    } else {
        std::env::temp_dir()
    }
}

fn core(c: &mut Criterion) {
    let key = MasterKey::from_bytes([9; 32]);
    let pt = data();
    let mut file = Vec::new();
    encode(&key, &pt, false, &mut file);
    let mut out = vec![0u8; LEN];
    let mut sealed = Vec::with_capacity(file.len());
    for threads in [1usize, 2] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        // One core: the sequential path. Two: the rayon path on 2 threads.
        let parallel = threads > 1;
        let mut g = c.benchmark_group(format!("core_{threads}_thread"));
        g.throughput(Throughput::Bytes(LEN as u64));
        g.sample_size(10);
        g.bench_function("encode", |b| {
            b.iter(|| pool.install(|| encode(&key, &pt, parallel, &mut sealed)))
        });
        // What the CLI's batch does to record each output's plain SHA-256
        // in the manifest: the same encode, hashing the bytes it writes.
        g.bench_function("encode_hashing_its_output", |b| {
            b.iter(|| {
                pool.install(|| {
                    let mut w = HashingVec(&mut sealed, <Sha256 as sha2::Digest>::new());
                    w.0.clear();
                    let opts = EncodeOptions {
                        block_size: BS as u32,
                        payload_kind: PayloadKind::Unknown,
                        threads: if parallel { 0 } else { 1 },
                        ..Default::default()
                    };
                    let mut enc = Encoder::new(&mut w, &key, pt.len() as u64, &opts).unwrap();
                    std::io::Write::write_all(&mut enc, &pt).unwrap();
                    enc.finish().unwrap();
                    black_box(sha2::Digest::finalize(w.1))
                })
            })
        });
        // The CLI's single-file path: lanes reading by offset from memory and
        // writing by offset into a file in memory (tmpfs where there is one).
        g.bench_function("encode_at_into_file", |b| {
            let dest = tempfile::tempfile_in(shm_or_tmp()).unwrap();
            let opts = EncodeOptions {
                block_size: BS as u32,
                payload_kind: PayloadKind::Unknown,
                threads,
                ..Default::default()
            };
            b.iter(|| encode_at(&pt[..], &dest, &key, LEN as u64, &opts, &|_| {}).unwrap())
        });
        g.bench_function("decode", |b| {
            b.iter(|| pool.install(|| decode(&key, &file, parallel, &mut out)))
        });
        g.bench_function("verify_keyed", |b| {
            b.iter(|| {
                pool.install(|| {
                    verify(&file[..], &[&key], false, &DecodeOptions { parallel }).unwrap()
                })
            })
        });
        g.finish();
    }
}

/// What a forged 128-byte header costs a keyed reader
/// (right key id, wrong MAC, the largest block size and a 1 TiB model),
/// next to a genuine header of the same shape (same run), whose unlock
/// builds the 16 MiB pad and shuffle tables before the trailer is read.
fn forged_header(c: &mut Criterion) {
    let key = MasterKey::from_bytes([9; 32]);
    let keys: &[&MasterKey] = &[&key];
    let opts = EncodeOptions {
        block_size: 1 << 24,
        payload_kind: PayloadKind::Gguf,
        threads: 1,
        ..Default::default()
    };
    // A genuine header of a 1 TiB model: the encoder writes it first.
    let mut genuine = Vec::new();
    let mut enc = Encoder::new(&mut genuine, &key, 1 << 40, &opts).unwrap();
    std::io::Write::flush(&mut enc).unwrap();
    drop(enc);
    genuine.truncate(128);
    let mut forged = genuine.clone();
    forged[127] ^= 1;
    let dec = DecodeOptions { parallel: false };
    let mut g = c.benchmark_group("forged_header_16MiB_blocks");
    g.bench_function("verify_keyed_forged", |b| {
        b.iter(|| {
            let e = verify(&forged[..], keys, false, &dec).unwrap_err();
            black_box(e)
        })
    });
    g.bench_function("verify_keyed_genuine_header_then_truncated", |b| {
        b.iter(|| {
            let e = verify(&genuine[..], keys, false, &dec).unwrap_err();
            black_box(e)
        })
    });
    g.finish();
}

criterion_group!(benches, primitives, core, forged_header);
criterion_main!(benches);
