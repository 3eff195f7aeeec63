//! A fixed amount of work for instruction counting under qemu
//! (tests/bench/arm64-insns.sh), where times mean nothing: the counts of two
//! modes differ by exactly the work one adds.
//!
//!     insn_probe MODE MIB
//!
//! - `setup`: make MIB MiB of plaintext and encode it (64 KiB blocks);
//! - `decode`: `setup`, then decode it all (one thread: RAYON_NUM_THREADS=1);
//! - `unshuffle-simd` / `unshuffle-portable`: derive one file's pad and
//!   permutation, then run the decoder's unscramble + unshuffle over MIB MiB
//!   of 64 KiB blocks with the SIMD (NEON, SSSE3) or the portable unit loop;
//! - `unshuffle-none`: derive them only.
use ava3_format::bench_internals::Obfuscator;
use ava3_format::{decode_to_vec, encode_to_vec, EncodeOptions, MasterKey};

const BLOCK: usize = 65536;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (mode, mib) = match args.as_slice() {
        [_, m, n] => (m.as_str(), n.parse::<usize>().expect("MIB is a number")),
        _ => {
            eprintln!("usage: insn_probe setup|decode|unshuffle-simd|unshuffle-portable|unshuffle-none MIB");
            std::process::exit(2);
        }
    };
    let len = mib << 20;
    match mode {
        "setup" | "decode" => {
            let key = MasterKey::from_bytes([7; 32]);
            let plain: Vec<u8> = (0..len).map(|i| (i * 31 % 251) as u8).collect();
            let opts = EncodeOptions {
                threads: 1,
                ..EncodeOptions::default()
            };
            let (file, _) = encode_to_vec(&key, &plain, &opts).expect("encode");
            if mode == "decode" {
                let back = decode_to_vec(&key, &file).expect("decode");
                assert!(back == plain, "round trip");
            }
            println!("{mode}: {} bytes", plain.len());
        }
        "unshuffle-simd" | "unshuffle-portable" | "unshuffle-none" => {
            let obf = Obfuscator::new(&[9; 32], BLOCK);
            let stored: Vec<u8> = (0..BLOCK).map(|i| (i * 13 % 256) as u8).collect();
            let ks = vec![0x5a; BLOCK];
            let mut out = vec![0u8; BLOCK];
            let mut sum = 0u64;
            for _ in 0..(len / BLOCK) {
                match mode {
                    "unshuffle-simd" => obf.unapply(&stored, &ks, &mut out),
                    "unshuffle-portable" => obf.unapply_scalar(&stored, &ks, &mut out),
                    _ => {}
                }
                sum += u64::from(std::hint::black_box(&out)[BLOCK / 2]);
            }
            println!("{mode}: {} bytes (check {sum})", len);
        }
        _ => {
            eprintln!("insn_probe: unknown mode {mode}");
            std::process::exit(2);
        }
    }
}
