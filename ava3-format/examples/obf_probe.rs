//! Probe of the per-block AES-CTR + obfuscation pass, best of 30 runs over
//! 512 blocks of 64 KiB (32 MiB), from a source that is cold (a 32 MiB
//! buffer) or hot (1 MiB, as the encoder's chunks are):
//!
//! - AES-CTR alone (`apply_keystream_b2b`), the floor without obfuscation;
//! - the encoder's pass: the block's keystream into a scratch block, the
//!   plaintext XORed into it in order, then the shuffle + pad XOR from it.
//!
//! `cargo run --release -p ava3-format --example obf_probe`

use std::time::Instant;

use ava3_format::bench_internals::Obfuscator;
use ctr::cipher::{KeyIvInit, StreamCipher};

const BS: usize = 65536;

fn ctr_at(i: usize) -> ctr::Ctr64BE<aes::Aes256> {
    let mut iv = [0u8; 16];
    iv[..8].copy_from_slice(&(i as u64).to_be_bytes());
    ctr::Ctr64BE::<aes::Aes256>::new(&[1u8; 32].into(), &iv.into())
}

fn main() {
    let big = vec![5u8; 32 << 20];
    let small = vec![5u8; 1 << 20];
    let mut out = vec![0u8; 1 << 20];
    let mut scratch = vec![0u8; BS];
    let obf = Obfuscator::new(&[3u8; 32], BS);
    for (name, src) in [("cold 32 MiB source", &big), ("hot 1 MiB source", &small)] {
        let mut best = [f64::MAX; 2];
        for _ in 0..30 {
            let t = Instant::now();
            for i in 0..512 {
                let p = &src[(i * BS) % src.len()..][..BS];
                let at = (i * BS) % out.len();
                ctr_at(i).apply_keystream_b2b(p, &mut out[at..at + BS]);
            }
            best[0] = best[0].min(t.elapsed().as_secs_f64());
            let t = Instant::now();
            for i in 0..512 {
                let p = &src[(i * BS) % src.len()..][..BS];
                let at = (i * BS) % out.len();
                ctr_at(i).write_keystream(&mut scratch);
                obf.apply(p, &mut scratch, &mut out[at..at + BS]);
            }
            best[1] = best[1].min(t.elapsed().as_secs_f64());
        }
        println!(
            "{name}: AES-CTR alone {:.2} ms, the encoder's AES-CTR + obfuscation {:.2} ms (+{:.2} ms) per 32 MiB",
            best[0] * 1e3,
            best[1] * 1e3,
            (best[1] - best[0]) * 1e3
        );
    }
}
