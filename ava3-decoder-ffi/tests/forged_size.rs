//! A master-key holder's forged size, through the C ABI: a signed file
//! whose header (MAC'd under the master key, so genuine to `set_key`)
//! announces far more plaintext than was ever stored, at 4 KiB blocks, the
//! file extended sparse to the announced length so that the length check
//! passes, with a valid trailer and a signature section naming the trusted
//! signer, but a bad signature. The keyed open authenticates the header
//! and the trailer, then must hash every tag (zeros, in the hole) before
//! the signature fails. It must end in AVA3_RESULT_BAD_SIGNATURE (or
//! AVA3_RESULT_OUT_OF_MEMORY), never an abort, and the tag pass must cost
//! bounded memory whatever the claimed size: here, less than
//! `MAX_GROWTH_MIB` of peak resident memory where the whole tag table is
//! `CLAIM / 4096 * 32` bytes (32 MiB for the default 4 GiB).
//!
//! The file is made with the real encoder over `CLAIM` zero bytes (a valid
//! trailer needs the whole encode), keeping only the header, the trailer
//! and the signature section. The open runs in a child process (this test
//! binary again) so that its peak resident memory is its own: Linux's
//! `VmHWM`, reset through `/proc/self/clear_refs` just before `set_key`.
//!
//! `AVA3_FORGED_CLAIM_GIB` overrides the claimed size (whole GiB).

// The exports are `unsafe extern "C" fn`s: this test calls them as C does.
#![allow(unsafe_code)]

use std::fs::File;
use std::io::{self, Read, Write};
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::process::Command;
use std::ptr::null_mut;
use std::sync::Arc;
use std::time::Instant;

use ava3_decoder::*;
use ava3_format::{EncodeOptions, Encoder, MasterKey, Metadata, SigningKey};

const KEY: [u8; 32] = [0x42; 32];
const SEED: [u8; 32] = [0x17; 32];
const BLOCK: u32 = 4096;
/// Claimed plaintext: 4 GiB is 1 Mi tags (32 MiB of tags), past any table
/// a reader may keep in one pass for a file that has not verified yet.
const CLAIM_GIB: u64 = 4;
/// Peak resident growth allowed for the whole keyed open.
const MAX_GROWTH_MIB: u64 = 8;
const CHILD_ENV: &str = "AVA3_FORGED_FILE";

/// Keeps the first and the last `KEEP` bytes written; counts the rest.
struct HeadAndTail {
    head: Vec<u8>,
    tail: Vec<u8>,
    /// File offset of `tail[0]`.
    tail_start: u64,
    written: u64,
}

const KEEP: usize = 1 << 16;

impl Write for HeadAndTail {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let room = KEEP.saturating_sub(self.head.len()).min(buf.len());
        self.head.extend_from_slice(&buf[..room]);
        self.tail.extend_from_slice(buf);
        if self.tail.len() > 2 * KEEP {
            let drop = self.tail.len() - KEEP;
            self.tail.drain(..drop);
            self.tail_start += drop as u64;
        }
        self.written += buf.len() as u64;
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Zeros, `left` of them.
struct Zeros {
    left: u64,
}

impl Read for Zeros {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = (buf.len() as u64).min(self.left) as usize;
        buf[..n].fill(0);
        self.left -= n as u64;
        Ok(n)
    }
}

/// Writes the forged file at `path`: the real header and trailer of an
/// encode of `claim` zero bytes, a hole where blocks and tags would be, and
/// the signature section with one signature byte flipped.
fn forge(path: &Path, claim: u64) {
    let key = MasterKey::from_bytes(KEY);
    let opts = EncodeOptions {
        block_size: BLOCK,
        metadata: Metadata {
            name: Some("forged-size".into()),
            version: Some(1),
        },
        signers: vec![Arc::new(SigningKey::from_seed(&SEED))],
        ..EncodeOptions::default()
    };
    let sink = HeadAndTail {
        head: Vec::new(),
        tail: Vec::new(),
        tail_start: 0,
        written: 0,
    };
    let t = Instant::now();
    let mut enc = Encoder::new(sink, &key, claim, &opts).expect("encoder");
    enc.write_from(&mut Zeros { left: claim }).expect("encode");
    let (sink, summary) = enc.finish().expect("finish");
    let layout = summary.header.layout();
    eprintln!(
        "forged: encoded {} GiB of zeros in {:.1} s; file {} bytes, {} tags",
        claim >> 30,
        t.elapsed().as_secs_f64(),
        layout.file_len(),
        layout.block_count()
    );
    assert_eq!(sink.written, layout.file_len());
    let header_len = layout.header_len() as usize;
    assert!(header_len <= sink.head.len());
    let trailer = layout.trailer_offset();
    assert!(
        trailer >= sink.tail_start,
        "the tail kept holds the trailer"
    );
    let mut end = sink.tail[(trailer - sink.tail_start) as usize..].to_vec();
    assert_eq!(end.len() as u64, layout.file_len() - trailer);
    assert!(layout.signatures_len() > 0);
    *end.last_mut().expect("a signature") ^= 1;

    let f = File::create(path).expect("create");
    f.write_all_at(&sink.head[..header_len], 0).expect("header");
    f.set_len(layout.file_len()).expect("extend sparse");
    f.write_all_at(&end, trailer)
        .expect("trailer and signatures");
}

fn status_kib(field: &str) -> u64 {
    let s = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    s.lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("{field} in /proc/self/status"))
}

/// The child: opens the forged file, trusts the signer, sets the key and
/// prints the result and its peak resident growth during `set_key`.
#[test]
fn child_open_forged() {
    let Some(path) = std::env::var_os(CHILD_ENV) else {
        return; // only run as the child of `a_forged_size_costs_bounded_memory`
    };
    let public = SigningKey::from_seed(&SEED).public_key().to_bytes();
    let path = std::ffi::CString::new(path.into_encoded_bytes()).expect("path");
    // SAFETY: every pointer passed is a live, NUL-terminated string or
    // live memory of the stated length, and the decoder is used only
    // between its open and its single free.
    unsafe {
        let mut d = null_mut();
        assert_eq!(
            ava3_decoder_open_path(path.as_ptr(), &mut d),
            Ava3Result::Ok
        );
        assert_eq!(
            ava3_decoder_trust_signer(d, public.as_ptr(), public.len()),
            Ava3Result::Ok
        );
        // Start the rayon pool first: its threads are not the tag pass.
        rayon::broadcast(|_| ());
        let before = status_kib("VmRSS:");
        // "5" resets the peak resident size to the current one (Linux 4.0+).
        let reset = std::fs::write("/proc/self/clear_refs", "5").is_ok();
        let t = Instant::now();
        let r = ava3_decoder_set_key(d, KEY.as_ptr(), KEY.len());
        let secs = t.elapsed().as_secs_f64();
        let peak = status_kib("VmHWM:");
        ava3_decoder_free(d);
        println!(
            "AVA3-CHILD result={} growth_kib={} reset={} set_key_s={secs:.2}",
            r as u32,
            peak.saturating_sub(before),
            reset
        );
    }
}

#[test]
// Measures a child process's resident memory: under qemu-user (the device
// suite's ARM64 run) that is the emulator's, and encoding gigabytes there
// takes minutes; the bound is a property of the portable Rust code.
#[cfg_attr(
    not(target_arch = "x86_64"),
    ignore = "a child's RSS under an emulator is the emulator's"
)]
fn a_forged_size_costs_bounded_memory() {
    let gib: u64 = std::env::var("AVA3_FORGED_CLAIM_GIB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(CLAIM_GIB);
    // On tmpfs, reading a hole maps the zero page and allocates nothing (on
    // ext4 each tag read fills a page of cache: 4 GiB here, and seconds).
    let shm = Path::new("/dev/shm");
    let dir = if shm.is_dir() {
        tempfile::tempdir_in(shm)
    } else {
        tempfile::tempdir()
    }
    .expect("tempdir");
    let path = dir.path().join("forged.ava3");
    forge(&path, gib << 30);
    let out = Command::new(std::env::current_exe().expect("test binary"))
        .args([
            "--exact",
            "child_open_forged",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, &path)
        .output()
        .expect("run the child");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "the child did not exit cleanly ({}): {stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let line = stdout
        .lines()
        .find_map(|l| l.split_once("AVA3-CHILD ").map(|(_, r)| r.to_string()))
        .unwrap_or_else(|| panic!("no report from the child: {stdout}"));
    eprintln!("forged: {line}");
    let field = |k: &str| -> String {
        line.split_whitespace()
            .find_map(|kv| kv.strip_prefix(k).and_then(|v| v.strip_prefix('=')))
            .unwrap_or_else(|| panic!("{k} in {line}"))
            .to_string()
    };
    let result: u32 = field("result").parse().expect("result");
    assert!(
        result == Ava3Result::BadSignature as u32 || result == Ava3Result::OutOfMemory as u32,
        "set_key on the forged file: {:?}, want BadSignature (or OutOfMemory)",
        Ava3Result::from_u32(result)
    );
    let growth_kib: u64 = field("growth_kib").parse().expect("growth");
    let tags_mib = ((gib << 30) / u64::from(BLOCK) * 32) >> 20;
    assert!(
        growth_kib < MAX_GROWTH_MIB << 10,
        "the keyed open of a forged {gib} GiB claim grew the peak resident size by {growth_kib} KiB \
         (limit {MAX_GROWTH_MIB} MiB; the whole tag table is {tags_mib} MiB)"
    );
}
