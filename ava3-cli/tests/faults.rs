//! Faults on a build machine: a full disk (a 1 MiB tmpfs mounted for the
//! test; the suite runs as root), a full standard output, an input that
//! changes while it is encoded, a corrupted input in the adversarial corpus
//! through the CLI, and a model over 4 GiB.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command as StdCommand, Stdio};

use assert_cmd::Command;
use predicates::prelude::*;
use tempfile::TempDir;

const KEY_HEX: &str = "7dcd0d969bfb71a480cd1c075878464dc9678de1ed782c2da25b6683d31322ed";

fn ava3(dir: &Path) -> Command {
    let mut c = Command::cargo_bin("ava3").unwrap();
    c.current_dir(dir)
        .env_remove("AVA3_KEY_FILE")
        .env("AVA3_KEY", KEY_HEX);
    c
}

fn data(len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u32).wrapping_mul(2654435761) as u8)
        .collect()
}

/// A small tmpfs, unmounted on drop.
struct SmallFs(PathBuf);

impl SmallFs {
    fn mount(dir: &Path, size: &str) -> Self {
        let p = dir.join("small");
        fs::create_dir_all(&p).unwrap();
        let ok = StdCommand::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(&p)
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        assert!(
            ok,
            "cannot mount a tmpfs for the disk-full test (the suite must run as root)"
        );
        Self(p)
    }
}

impl Drop for SmallFs {
    fn drop(&mut self) {
        let _ = StdCommand::new("umount").arg(&self.0).status();
    }
}

fn entries(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn disk_full_during_encode_leaves_nothing_and_exits_2() {
    let tmp = TempDir::new().unwrap();
    let small = SmallFs::mount(tmp.path(), "1m");
    fs::write(tmp.path().join("big.amm"), data(3 << 20)).unwrap();
    // A file that fits, written before: it must survive.
    fs::write(small.0.join("keep.ava3"), b"earlier output").unwrap();
    ava3(tmp.path())
        .args(["encode", "big.amm", "-o"])
        .arg(small.0.join("big.amm.ava3"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("No space left").or(predicate::str::contains("space")));
    assert_eq!(
        entries(&small.0),
        vec!["keep.ava3".to_string()],
        "no partial output, no temporary file"
    );
    assert_eq!(
        fs::read(small.0.join("keep.ava3")).unwrap(),
        b"earlier output"
    );

    // A batch where the disk fills part-way: the files that fit are
    // complete, the others are reported, the exit status says so.
    let models = tmp.path().join("models");
    fs::create_dir_all(&models).unwrap();
    for i in 0..6 {
        fs::write(models.join(format!("m{i}.amm")), data(300_000 + i)).unwrap();
    }
    fs::remove_file(small.0.join("keep.ava3")).unwrap();
    let out = small.0.join("out");
    let assert = ava3(tmp.path())
        .args(["encode", "models", "--batch", "-j", "1", "-o"])
        .arg(&out)
        .assert()
        .code(2);
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).to_string();
    assert!(stderr.contains("failed"), "{stderr}");
    for name in entries(&out) {
        assert!(!name.ends_with(".tmp"), "temporary file left: {name}");
        if name.ends_with(".ava3") {
            ava3(tmp.path())
                .arg("verify")
                .arg(out.join(&name))
                .assert()
                .success();
        }
    }
}

#[test]
fn a_full_standard_output_is_an_error() {
    let tmp = TempDir::new().unwrap();
    fs::write(tmp.path().join("m.amm"), data(200_000)).unwrap();
    let full = fs::File::create("/dev/full").expect("/dev/full");
    let status = StdCommand::new(assert_cmd::cargo::cargo_bin("ava3"))
        .current_dir(tmp.path())
        .env("AVA3_KEY", KEY_HEX)
        .args(["encode", "m.amm", "-o", "-"])
        .stdout(Stdio::from(full))
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    assert_eq!(
        status.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
    assert!(String::from_utf8_lossy(&status.stderr).starts_with("ava3: error: "));
}

/// Starts `ava3 encode` of a 384 MiB model, applies `change` to the input
/// once the encode has created its temporary output, and checks that the
/// encode fails with exit 1, says so, and leaves nothing behind.
fn change_input_during_encode(change: impl FnOnce(&Path)) {
    let tmp = TempDir::new().unwrap();
    let input = tmp.path().join("changing.amm");
    fs::write(&input, data(384 << 20)).unwrap();
    let child = StdCommand::new(assert_cmd::cargo::cargo_bin("ava3"))
        .current_dir(tmp.path())
        .env("AVA3_KEY", KEY_HEX)
        .args(["encode", "changing.amm", "-o", "out.ava3", "-j", "1"])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !entries(tmp.path()).iter().any(|n| n.ends_with(".tmp")) {
        assert!(
            std::time::Instant::now() < deadline,
            "the encode never started"
        );
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    change(&input);
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("changed while it was being encoded"),
        "{stderr}"
    );
    assert!(!tmp.path().join("out.ava3").exists());
    assert!(!entries(tmp.path()).iter().any(|n| n.ends_with(".tmp")));
}

// The two input-change races encode 384 MiB, the 4 GiB case 4 GiB: run
// them against a release ava3, by hand with `cargo test --release -p
// ava3-cli --test faults -- --ignored`. (tests/run-all.sh runs this test
// binary of its dev build directly, with CARGO_BIN_EXE_ava3 naming its
// release ava3; under `cargo test`, cargo's own value of that variable
// wins.) The same check is fast and
// in-process in ava3-format's encode_at tests (a source shorter or longer
// than declared).
#[test]
#[ignore = "384 MiB: run with --release -- --ignored (tests/run-all.sh does, against its release ava3)"]
fn an_input_that_grows_while_encoding_is_detected() {
    change_input_during_encode(|input| {
        use std::io::Write;
        fs::OpenOptions::new()
            .append(true)
            .open(input)
            .unwrap()
            .write_all(b"more")
            .unwrap();
    });
}

#[test]
#[ignore = "384 MiB: run with --release -- --ignored (tests/run-all.sh does, against its release ava3)"]
fn an_input_that_shrinks_while_encoding_is_detected() {
    change_input_during_encode(|input| {
        fs::OpenOptions::new()
            .write(true)
            .open(input)
            .unwrap()
            .set_len(1 << 20)
            .unwrap();
    });
}

#[test]
fn corrupted_files_through_the_cli() {
    // A sample of the adversarial corpus: every header bit of one byte, a
    // tag, a block byte, cuts, trailing data; keyless and keyed verify and
    // decode all fail (exit 1, or 3 for a changed key id) and leave no
    // output.
    let tmp = TempDir::new().unwrap();
    fs::write(tmp.path().join("m.amm"), data(3 * 65536 + 900)).unwrap();
    ava3(tmp.path())
        .args(["encode", "m.amm"])
        .assert()
        .success();
    let good = fs::read(tmp.path().join("m.amm.ava3")).unwrap();
    let mut cases: Vec<(String, Vec<u8>)> = Vec::new();
    for bit in 0..8 {
        for at in [0usize, 8, 16, 24, 40, 70, 100] {
            let mut b = good.clone();
            b[at] ^= 1 << bit;
            cases.push((format!("header {at}:{bit}"), b));
        }
    }
    for at in [
        128 + 65536 + 3,
        128 + 10,
        good.len() - 130,
        good.len() - 60,
        good.len() - 1,
    ] {
        let mut b = good.clone();
        b[at] ^= 0x10;
        cases.push((format!("byte {at}"), b));
    }
    for at in [0usize, 5, 127, 128, 65536, good.len() - 120, good.len() - 1] {
        cases.push((format!("cut {at}"), good[..at].to_vec()));
    }
    let mut long = good.clone();
    long.extend_from_slice(b"junk");
    cases.push(("trailing".into(), long));
    for (name, bytes) in cases {
        fs::write(tmp.path().join("bad.ava3"), &bytes).unwrap();
        let no_key = ava3(tmp.path())
            .env_remove("AVA3_KEY")
            .args(["verify", "bad.ava3"])
            .output()
            .unwrap();
        assert_eq!(no_key.status.code(), Some(1), "keyless {name}");
        // A changed key id (header bytes 64..80) names a key nobody gave:
        // exit 3, like any file whose key is missing.
        let keyed = if name.starts_with("header 70:") { 3 } else { 1 };
        ava3(tmp.path())
            .args(["verify", "bad.ava3"])
            .assert()
            .code(keyed);
        ava3(tmp.path())
            .args(["decode", "bad.ava3", "-o", "out.amm", "--force"])
            .assert()
            .code(keyed);
        assert!(
            !tmp.path().join("out.amm").exists(),
            "{name}: plaintext left"
        );
    }
}

#[test]
#[ignore = "4 GiB: run with --release -- --ignored (tests/run-all.sh does, against its release ava3)"]
fn a_model_over_4_gib() {
    // A sparse 4 GiB + 1 MiB + 7 model, encoded to tmpfs with 16 MiB blocks:
    // plaintext offsets and lengths past 2^32 are right.
    let shm = Path::new("/dev/shm");
    let tmp = TempDir::new().unwrap();
    let out_dir = TempDir::new_in(shm).expect("/dev/shm for a 4 GiB output");
    let input = tmp.path().join("sparse.amm");
    let len: u64 = (4u64 << 30) + (1 << 20) + 7;
    let f = fs::File::create(&input).unwrap();
    f.set_len(len).unwrap();
    use std::os::unix::fs::FileExt;
    f.write_all_at(b"start", 0).unwrap();
    f.write_all_at(b"past four GiB", 1u64 << 32).unwrap();
    f.write_all_at(b"end", len - 3).unwrap();
    drop(f);
    let enc = out_dir.path().join("sparse.amm.ava3");
    ava3(tmp.path())
        .args([
            "encode",
            "-q",
            "--block-size",
            "16777216",
            "sparse.amm",
            "-o",
        ])
        .arg(&enc)
        .assert()
        .success();
    let insp = ava3(tmp.path())
        .args(["inspect", "--json"])
        .arg(&enc)
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&insp.stdout).unwrap();
    assert_eq!(v["plaintext_size"], len);
    assert_eq!(v["blocks"], len.div_ceil(1 << 24));
    assert_eq!(v["size_check"], "complete");
    let r = ava3_format::RandomAccessReader::open(
        fs::File::open(&enc).unwrap(),
        &[&ava3_format::MasterKey::from_hex(KEY_HEX).unwrap()],
        &ava3_format::Policy::NONE,
    )
    .unwrap();
    assert_eq!(r.len(), len);
    let mut buf = [0u8; 13];
    r.read_exact_at(&mut buf, 1u64 << 32).unwrap();
    assert_eq!(&buf, b"past four GiB");
    let mut tail = [0u8; 10];
    assert_eq!(r.read_at(&mut tail, len - 10).unwrap(), 10);
    assert_eq!(&tail[7..], b"end");
    r.read_exact_at(&mut buf[..5], 0).unwrap();
    assert_eq!(&buf[..5], b"start");
    ava3(tmp.path()).arg("verify").arg(&enc).assert().success();
}
