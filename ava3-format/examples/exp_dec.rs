use ava3_format::*;
use std::io::Write;
fn main() {
    let parallel = std::env::args().nth(1).as_deref() == Some("par");
    let len = 256usize << 20;
    let pt: Vec<u8> = vec![7u8; len];
    let key = MasterKey::from_bytes([1; 32]);
    let opts = EncodeOptions {
        parallel,
        ..Default::default()
    };
    let threads: usize = std::env::args()
        .nth(2)
        .map(|s| s.parse().unwrap())
        .unwrap_or(1);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap();
    let t = std::time::Instant::now();
    for _ in 0..4 {
        pool.install(|| {
            let mut e = Encoder::new(std::io::sink(), &key, len as u64, &opts).unwrap();
            e.write_all(&pt).unwrap();
            e.finish().unwrap();
        });
    }
    eprintln!("encode {:?}", t.elapsed() / 4);
    let file = pool.install(|| {
        let mut e = Encoder::new(Vec::new(), &key, len as u64, &opts).unwrap();
        e.write_all(&pt).unwrap();
        e.finish().unwrap().0
    });
    let mut sink = vec![
        0u8;
        std::env::args()
            .nth(3)
            .map(|s| s.parse().unwrap())
            .unwrap_or(1usize << 22)
    ];
    let t = std::time::Instant::now();
    for _ in 0..4 {
        pool.install(|| {
            let mut d = Decoder::with_options(
                &file[..],
                std::slice::from_ref(&key),
                &DecodeOptions { parallel },
            )
            .unwrap();
            while std::io::Read::read(&mut d, &mut sink).unwrap() > 0 {}
        });
    }
    eprintln!("decode {:?}", t.elapsed() / 4);
}
