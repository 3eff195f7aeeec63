//! The Rust core's own decode throughput on a file, the baseline for the C
//! ABI figures measured by tests/bench/ffi_bench.c in the same run.
//!
//!     core_decode FILE.ava3 KEYFILE RUNS
use std::time::Instant;

use ava3_format::{FileRange, MasterKey, RandomAccessReader};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let key = MasterKey::from_hex(&std::fs::read_to_string(&args[2]).unwrap()).unwrap();
    let runs: usize = args[3].parse().unwrap();
    let mut best = f64::MAX;
    let mut times = Vec::new();
    for _ in 0..runs {
        let f = std::fs::File::open(&args[1]).unwrap();
        let t = Instant::now();
        let r = RandomAccessReader::open(
            FileRange::whole(f).unwrap(),
            &[&key],
            &ava3_format::Policy::NONE,
        )
        .unwrap();
        let mut out = vec![0u8; r.len() as usize];
        r.decode_all_into(&mut out).unwrap();
        let s = t.elapsed().as_secs_f64();
        std::hint::black_box(&out);
        best = best.min(s);
        times.push(s);
    }
    times.sort_by(f64::total_cmp);
    println!(
        "core decode_all_into (all cores): median {:.3} s (best {:.3})",
        times[times.len() / 2],
        best
    );
    // One thread, 4 MiB read_at calls in order: the baseline of the
    // sequential C paths (read_at loop, FILE*).
    let mut seq = Vec::new();
    for _ in 0..runs {
        let f = std::fs::File::open(&args[1]).unwrap();
        let t = Instant::now();
        let r = RandomAccessReader::open(
            FileRange::whole(f).unwrap(),
            &[&key],
            &ava3_format::Policy::NONE,
        )
        .unwrap();
        let mut out = vec![0u8; r.len() as usize];
        let mut off = 0usize;
        while off < out.len() {
            let end = (off + (4 << 20)).min(out.len());
            off += r.read_at(&mut out[off..end], off as u64).unwrap();
        }
        std::hint::black_box(&out);
        seq.push(t.elapsed().as_secs_f64());
    }
    seq.sort_by(f64::total_cmp);
    println!(
        "core read_at 4 MiB chunks (one thread): median {:.3} s",
        seq[seq.len() / 2]
    );
}
