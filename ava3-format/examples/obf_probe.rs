//! Probe of the per-block AES-CTR + obfuscation pass, best of 30 runs over
//! 512 blocks of 64 KiB (32 MiB), from a source that is cold (a 32 MiB
//! buffer) or hot (1 MiB, as the encoder's chunks are):
//!
//! - AES-CTR alone (`apply_keystream_b2b`), the floor without obfuscation;
//! - the encoder's pass: the block's keystream, then one gather that XORs
//!   it, shuffles and XORs the pad;
//! - the alternative: keystream, a sequential XOR of the plaintext, then the
//!   shuffle.
//!
//! `cargo run --release -p ava3-format --example obf_probe`

use std::time::Instant;

use ava3_format::bench_internals::Obfuscator;
use ctr::cipher::{KeyIvInit, StreamCipher};
fn ctr_at(i: usize) -> ctr::Ctr64BE<aes::Aes256> {
    let mut iv = [0u8; 16];
    iv[..8].copy_from_slice(&(i as u64).to_be_bytes());
    ctr::Ctr64BE::<aes::Aes256>::new(&[1u8; 32].into(), &iv.into())
}
fn main() {
    const BS: usize = 65536;
    let big = vec![5u8; 32 << 20];
    let small = vec![5u8; 1 << 20];
    let mut out = vec![0u8; 1 << 20];
    let mut scratch = vec![0u8; BS];
    let zeros = vec![0u8; BS];
    let obf = Obfuscator::new(&[3u8; 32], BS);
    for (name, src) in [("cold 32 MiB source", &big), ("hot 1 MiB source", &small)] {
        let mut best = [f64::MAX; 3];
        let n = 512;
        for _ in 0..30 {
            let t = Instant::now();
            for i in 0..n {
                let p = &src[(i * BS) % src.len()..][..BS];
                let at = (i * BS) % out.len();
                ctr_at(i).apply_keystream_b2b(p, &mut out[at..at + BS]);
            }
            best[0] = best[0].min(t.elapsed().as_secs_f64());
            let t = Instant::now();
            for i in 0..n {
                let p = &src[(i * BS) % src.len()..][..BS];
                let at = (i * BS) % out.len();
                ctr_at(i).write_keystream(&mut scratch);
                obf.apply(p, &scratch, &mut out[at..at + BS]);
            }
            best[1] = best[1].min(t.elapsed().as_secs_f64());
            let t = Instant::now();
            for i in 0..n {
                let p = &src[(i * BS) % src.len()..][..BS];
                let at = (i * BS) % out.len();
                ctr_at(i).write_keystream(&mut scratch);
                for (s, x) in scratch.iter_mut().zip(p) {
                    *s ^= x;
                }
                obf.apply(&scratch, &zeros, &mut out[at..at + BS]);
            }
            best[2] = best[2].min(t.elapsed().as_secs_f64());
        }
        println!("{name}: AES b2b only {:.2} ms | keystream + fused gather {:.2} ms | keystream, sequential XOR, shuffle {:.2} ms (32 MiB)", best[0]*1e3, best[1]*1e3, best[2]*1e3);
    }
}
