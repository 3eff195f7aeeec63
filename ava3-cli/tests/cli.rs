//! The real `ava3` binary, run as a process, on real files: every command,
//! every exit status, every key source, batches, resume, --force,
//! stdin/stdout, and the command lines of the team manual.

use std::ffi::OsStr;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command as StdCommand, Stdio};

use assert_cmd::Command;
use predicates::prelude::*;
use tempfile::TempDir;

const KEY_HEX: &str = "7dcd0d969bfb71a480cd1c075878464dc9678de1ed782c2da25b6683d31322ed";
const OTHER_KEY_HEX: &str = "0000000000000000000000000000000000000000000000000000000000000001";

/// The `ava3` under test: this crate's binary, or another entry point of
/// the same program given in `AVA3_TEST_BIN` (the Python package's `ava3`
/// script: tests/python-package.sh runs this whole file against it).
fn ava3_bin() -> PathBuf {
    std::env::var_os("AVA3_TEST_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| assert_cmd::cargo::cargo_bin("ava3"))
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn sample_gguf() -> Vec<u8> {
    fs::read(repo().join("testdata/samples/tiny-llama.amg")).unwrap()
}

fn tflite_like(len: usize) -> Vec<u8> {
    let mut v: Vec<u8> = (0..len).map(|i| (i * 7 % 251) as u8).collect();
    v[4..8].copy_from_slice(b"TFL3");
    v
}

fn shard(len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u32).wrapping_mul(2654435761) as u8)
        .collect()
}

struct Env {
    dir: TempDir,
}

impl Env {
    fn new() -> Self {
        let e = Self {
            dir: TempDir::new().unwrap(),
        };
        e.write_key("dev.key", KEY_HEX);
        e.write_key("other.key", OTHER_KEY_HEX);
        e
    }
    fn path(&self, p: &str) -> PathBuf {
        self.dir.path().join(p)
    }
    fn write(&self, p: &str, data: &[u8]) -> PathBuf {
        let path = self.path(p);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(&path, data).unwrap();
        path
    }
    fn write_key(&self, name: &str, hex: &str) {
        let p = self.write(name, format!("{hex}\n").as_bytes());
        set_mode(&p, 0o600);
    }
    /// A folder with a sparse 256 MiB model `big/m.amm` and its encoding
    /// `m.amm.ava3`: long enough to decode that a test can act mid-write.
    fn with_big_model() -> Self {
        let env = Self::new();
        env.sparse("big/m.amm", 256 << 20);
        env.keyed()
            .args(["encode", "-q", "big/m.amm", "-o", "m.amm.ava3"])
            .assert()
            .success();
        env
    }
    /// A folder `in/` with two models (`a.amm`, `sub/b.amg`) batch-encoded
    /// with the development key into `out`, with its manifest.
    fn with_release(out: &str) -> Self {
        let env = Self::new();
        env.write("in/a.amm", &shard(70_000));
        env.write("in/sub/b.amg", &sample_gguf());
        env.keyed()
            .args(["encode", "in", "--batch", "-o", out, "-q"])
            .assert()
            .success();
        env
    }
    /// `ava3` in this folder with no key in the environment.
    fn cmd(&self) -> Command {
        let mut c = Command::new(ava3_bin());
        c.current_dir(self.dir.path())
            .env_remove("AVA3_KEY")
            .env_remove("AVA3_KEY_FILE")
            .env_remove("AVA3_SIGNER_FILE")
            .env_remove("AVA3_SIGNING_KEY_FILE")
            .env_remove("AVA3_VERIFY_REQUIRE");
        c
    }
    /// `ava3` with AVA3_KEY_FILE=dev.key.
    fn keyed(&self) -> Command {
        let mut c = self.cmd();
        c.env("AVA3_KEY_FILE", self.path("dev.key"));
        c
    }
    /// A sparse file of `len` zero bytes (large inputs that cost no disk).
    fn sparse(&self, p: &str, len: u64) {
        self.write(p, b"");
        fs::File::options()
            .write(true)
            .open(self.path(p))
            .unwrap()
            .set_len(len)
            .unwrap();
    }
    /// The keyed `ava3` as a running process, to race or signal.
    fn spawn_keyed(&self, args: &[&str], stderr: Stdio) -> std::process::Child {
        StdCommand::new(ava3_bin())
            .current_dir(self.dir.path())
            .env_remove("AVA3_KEY")
            .env("AVA3_KEY_FILE", self.path("dev.key"))
            .args(args)
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .unwrap()
    }
}

/// Runs a coreutils program that must succeed (`cp -p`, `touch -r`).
fn run_tool(program: &str, args: &[&OsStr]) {
    assert!(
        StdCommand::new(program)
            .args(args)
            .status()
            .unwrap()
            .success(),
        "{program} {args:?}"
    );
}

/// SHA-256 of `data` in lowercase hex, by coreutils' `sha256sum`.
fn sha256_hex(data: &[u8]) -> String {
    let out = StdCommand::new("sha256sum")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            use std::io::Write;
            c.stdin.take().unwrap().write_all(data)?;
            c.wait_with_output()
        })
        .unwrap();
    String::from_utf8(out.stdout).unwrap()[..64].to_string()
}

#[cfg(unix)]
fn set_mode(p: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(p, fs::Permissions::from_mode(mode)).unwrap();
}

fn no_temp_files(dir: &Path) {
    for e in walk(dir) {
        let name = e.file_name().unwrap().to_string_lossy().to_string();
        assert!(
            !name.ends_with(".tmp"),
            "leftover temporary file {}",
            e.display()
        );
    }
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[test]
fn manual_command_lines_work_as_written() {
    let env = Env::new();
    env.write("model.amm", &shard(300_000));
    env.write("model.amg", &sample_gguf());
    env.write("model.amr", &tflite_like(100_000));
    env.write("models/a/one.amg", &sample_gguf());
    env.write("models/two.amr", &tflite_like(5000));
    env.write("models/notes.txt", b"not a model");
    for line in [
        "encode model.amm -o model.amm.ava3",
        "encode model.amg -o model.amg.ava3",
        "encode model.amr -o model.amr.ava3",
        "encode models/ --batch -o encoded/",
        "verify model.amm.ava3",
    ] {
        env.keyed().args(line.split(' ')).assert().success();
    }
    assert!(env.path("encoded/a/one.amg.ava3").is_file());
    assert!(env.path("encoded/two.amr.ava3").is_file());
    assert!(!env.path("encoded/notes.txt.ava3").exists());
    assert!(env.path("encoded/ava3-manifest.json").is_file());
    // And what went in comes out.
    env.keyed()
        .args(["decode", "model.amr.ava3", "-o", "back.amr"])
        .assert()
        .success();
    assert_eq!(
        fs::read(env.path("back.amr")).unwrap(),
        tflite_like(100_000)
    );
}

#[test]
fn every_key_source_works_and_missing_key_is_a_usage_error() {
    let env = Env::new();
    env.write("m.amm", &shard(70_000));
    // No key at all: encode names the three sources, exit 2.
    env.cmd().args(["encode", "m.amm"]).assert().code(2).stderr(
        predicate::str::contains("--key-file")
            .and(predicate::str::contains("AVA3_KEY_FILE"))
            .and(predicate::str::contains("AVA3_KEY")),
    );
    assert!(!env.path("m.amm.ava3").exists());
    // --key-file
    env.cmd()
        .args(["encode", "m.amm", "--key-file", "dev.key", "-o", "a.ava3"])
        .assert()
        .success();
    // AVA3_KEY_FILE
    env.keyed()
        .args(["encode", "m.amm", "-o", "b.ava3"])
        .assert()
        .success();
    // AVA3_KEY (hex)
    env.cmd()
        .env("AVA3_KEY", KEY_HEX)
        .args(["encode", "m.amm", "-o", "c.ava3"])
        .assert()
        .success();
    // All three under the same key id, all decodable with any source.
    for f in ["a.ava3", "b.ava3", "c.ava3"] {
        env.cmd()
            .env("AVA3_KEY", KEY_HEX)
            .args(["verify", f, "--json"])
            .assert()
            .success()
            .stdout(predicate::str::contains("\"level\":\"keyed\""));
    }
    // --key-file wins over the environment.
    env.cmd()
        .env("AVA3_KEY", OTHER_KEY_HEX)
        .args(["verify", "a.ava3", "--key-file", "dev.key"])
        .assert()
        .success();
    // A key ring picks the right key by id.
    env.cmd()
        .args([
            "verify",
            "a.ava3",
            "--key-file",
            "other.key",
            "--key-file",
            "dev.key",
        ])
        .assert()
        .success();
    // A malformed key is exit 2 and the message does not echo it.
    env.write("bad.key", b"zz-not-a-key-zz");
    env.cmd()
        .args(["encode", "m.amm", "--key-file", "bad.key", "-o", "d.ava3"])
        .assert()
        .code(2)
        .stderr(
            predicate::str::contains("64 hexadecimal digits")
                .and(predicate::str::contains("zz-not").not()),
        );
    env.cmd()
        .env("AVA3_KEY", "1234")
        .args(["encode", "m.amm", "-o", "d.ava3"])
        .assert()
        .code(2);
}

#[test]
fn open_key_file_permissions_warn() {
    let env = Env::new();
    env.write("m.amm", &shard(1000));
    set_mode(&env.path("dev.key"), 0o644);
    env.keyed()
        .args(["encode", "m.amm"])
        .assert()
        .success()
        .stderr(predicate::str::contains("warning").and(predicate::str::contains("chmod 600")));
}

#[test]
fn wrong_key_is_reported_with_both_key_ids_and_exit_3() {
    let env = Env::new();
    env.write("m.amg", &sample_gguf());
    env.keyed().args(["encode", "m.amg"]).assert().success();
    env.cmd()
        .args(["verify", "m.amg.ava3", "--key-file", "other.key"])
        .assert()
        .code(3)
        .stdout(predicate::str::contains(
            "wrong key (file encoded with key id",
        ))
        .stdout(predicate::str::contains("you supplied"));
    env.cmd()
        .args([
            "decode",
            "m.amg.ava3",
            "--key-file",
            "other.key",
            "-o",
            "x.amg",
        ])
        .assert()
        .code(3)
        .stderr(predicate::str::contains("wrong key"));
    // inspect and rekey say the same; a tampered file next to a file whose
    // key is missing is the worse outcome (1), a missing file worse still (2).
    env.cmd()
        .args(["rekey", "m.amg.ava3", "--key-file", "other.key"])
        .args(["--new-key-file", "dev.key", "-o", "r.ava3"])
        .assert()
        .code(3);
    let mut bad = fs::read(env.path("m.amg.ava3")).unwrap();
    bad[300] ^= 1;
    env.write("bad.amg.ava3", &bad);
    env.keyed()
        .args(["encode", "m.amg", "-o", "other.amg.ava3"])
        .env("AVA3_KEY_FILE", env.path("other.key"))
        .assert()
        .success();
    env.keyed()
        .args(["verify", "m.amg.ava3", "other.amg.ava3", "-q"])
        .assert()
        .code(3);
    env.keyed()
        .args(["verify", "bad.amg.ava3", "other.amg.ava3", "-q"])
        .assert()
        .code(1);
    env.keyed()
        .args([
            "verify",
            "bad.amg.ava3",
            "other.amg.ava3",
            "missing.ava3",
            "-q",
        ])
        .assert()
        .code(2);
    assert!(!env.path("x.amg").exists());
    no_temp_files(env.dir.path());
}

#[test]
fn verify_levels_and_exit_statuses() {
    let env = Env::new();
    env.write("m.amg", &sample_gguf());
    env.keyed()
        .args(["encode", "m.amg", "-q"])
        .assert()
        .success();
    // Keyless without a key, and it says so.
    env.cmd()
        .args(["verify", "m.amg.ava3"])
        .assert()
        .success()
        .stderr(predicate::str::contains("keyless check only"))
        .stdout(predicate::str::contains(
            "OK (keyless: corruption only, authenticity NOT checked)",
        ));
    // Keyed reports the plaintext digest.
    let digest = sha256_hex(&sample_gguf());
    env.keyed()
        .args(["verify", "m.amg.ava3"])
        .assert()
        .success()
        .stdout(
            predicate::str::contains("OK (keyed)").and(predicate::str::contains(format!(
                "recorded plaintext sha256 {digest} (not recomputed: --deep checks it)"
            ))),
        );
    env.keyed()
        .args(["verify", "--deep", "m.amg.ava3"])
        .assert()
        .success()
        .stdout(
            predicate::str::contains("OK (deep)").and(predicate::str::contains(format!(
                "plaintext sha256 {digest} (recomputed)"
            ))),
        );
    // A release check can demand a level; a missing key
    // is then an error (exit 2), by flag or by environment.
    for require in [
        vec!["verify", "--require", "keyed", "m.amg.ava3"],
        vec!["verify", "--require", "deep", "m.amg.ava3"],
    ] {
        env.cmd()
            .args(&require)
            .assert()
            .code(2)
            .stdout(predicate::str::contains("OK").not())
            .stderr(
                predicate::str::contains("no key was given")
                    .or(predicate::str::contains("needs a key")),
            );
    }
    env.cmd()
        .env("AVA3_VERIFY_REQUIRE", "keyed")
        .args(["verify", "m.amg.ava3"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("a keyed check is required"));
    env.keyed()
        .env("AVA3_VERIFY_REQUIRE", "keyed")
        .args(["verify", "m.amg.ava3"])
        .assert()
        .success()
        .stdout(predicate::str::contains("OK (keyed)"));
    env.keyed()
        .args(["verify", "--require", "deep", "m.amg.ava3"])
        .assert()
        .success()
        .stdout(predicate::str::contains("OK (deep)"));
    env.cmd()
        .args(["verify", "--require", "keyless", "m.amg.ava3"])
        .assert()
        .success();
    // --deep without a key is a usage error.
    env.cmd()
        .args(["verify", "--deep", "m.amg.ava3"])
        .assert()
        .code(2);
    // A flipped byte in a block: keyless and keyed both fail with exit 1.
    let mut bad = fs::read(env.path("m.amg.ava3")).unwrap();
    bad[5000] ^= 1;
    env.write("bad.amg.ava3", &bad);
    env.cmd()
        .args(["verify", "bad.amg.ava3", "--json"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains(
            "\"outcome\":\"integrity failure\"",
        ));
    env.keyed()
        .args(["verify", "bad.amg.ava3", "--json"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("\"outcome\":\"block failure\""));
    // Truncated.
    let good = fs::read(env.path("m.amg.ava3")).unwrap();
    env.write("short.amg.ava3", &good[..good.len() - 7]);
    env.keyed()
        .args(["verify", "short.amg.ava3", "--json"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("\"outcome\":\"truncated\""));
    // Not AVA3 at all.
    env.keyed()
        .args(["verify", "m.amg"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("not an AVA3 file"));
    // A missing file is an I/O problem: exit 2.
    env.keyed().args(["verify", "nope.ava3"]).assert().code(2);
    // A folder: every .ava3 below it; one bad file fails the run.
    env.keyed()
        .args(["verify", "."])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("OK (keyed)").and(predicate::str::contains("FAILED")));
}

#[test]
fn verify_checks_the_payload_kind_against_the_content() {
    let env = Env::new();
    // A shard forced into a GGUF container.
    env.write("fake.amg", &shard(10_000));
    env.keyed()
        .args(["encode", "fake.amg", "--allow-mismatch"])
        .assert()
        .success();
    env.keyed()
        .args(["verify", "fake.amg.ava3"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("header says the payload is gguf"));
}

#[test]
fn encode_refuses_mismatched_content_and_ava3_input() {
    let env = Env::new();
    env.write("not-gguf.amg", b"{\"this\": \"is json\"}");
    env.keyed()
        .args(["encode", "not-gguf.amg"])
        .assert()
        .code(1)
        .stderr(
            predicate::str::contains("JSON text").and(predicate::str::contains("--allow-mismatch")),
        );
    env.write("not-tflite.amr", &sample_gguf());
    env.keyed()
        .args(["encode", "not-tflite.amr"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("a GGUF model"));
    env.write("ok.amm", &shard(100));
    env.keyed().args(["encode", "ok.amm"]).assert().success();
    env.keyed()
        .args(["encode", "ok.amm.ava3", "-o", "twice.ava3"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("already an AVA3 file"));
    assert!(!env.path("not-gguf.amg.ava3").exists());
    assert!(!env.path("twice.ava3").exists());
    no_temp_files(env.dir.path());
}

#[test]
fn existing_outputs_need_force_and_same_file_is_refused() {
    let env = Env::new();
    env.write("m.amm", &shard(5000));
    env.keyed().args(["encode", "m.amm"]).assert().success();
    let first = fs::read(env.path("m.amm.ava3")).unwrap();
    env.keyed()
        .args(["encode", "m.amm"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--force"));
    assert_eq!(
        fs::read(env.path("m.amm.ava3")).unwrap(),
        first,
        "unchanged"
    );
    env.keyed()
        .args(["encode", "m.amm", "--force"])
        .assert()
        .success();
    assert_ne!(
        fs::read(env.path("m.amm.ava3")).unwrap(),
        first,
        "fresh salt"
    );
    env.keyed()
        .args(["encode", "m.amm", "-o", "m.amm", "--force"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("same file"));
    assert_eq!(fs::read(env.path("m.amm")).unwrap(), shard(5000));
    env.keyed()
        .args(["decode", "m.amm.ava3", "-o", "m.amm"])
        .assert()
        .code(2);
}

#[test]
fn stdin_and_stdout() {
    let env = Env::new();
    let data = sample_gguf();
    // stdin -> stdout, then stdout -> stdin.
    let enc = env
        .keyed()
        .args(["encode", "-", "--kind", "gguf"])
        .write_stdin(data.clone())
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    assert!(enc.starts_with(b"\x89AVA3"));
    let dec = env
        .keyed()
        .args(["decode", "-", "-o", "-"])
        .write_stdin(enc.clone())
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    assert_eq!(dec, data);
    // stdin -> file, auto kind from content.
    env.keyed()
        .args(["encode", "-", "-o", "piped.ava3"])
        .write_stdin(data.clone())
        .assert()
        .success();
    env.cmd()
        .args(["inspect", "piped.ava3", "--json"])
        .assert()
        .success()
        .stdout(predicate::str::contains("\"payload_kind\":\"gguf\""));
    // A closed pipe on stdout is not an error.
    let big = env.write("big.amm", &shard(3 << 20));
    env.keyed().args(["encode", "big.amm"]).assert().success();
    assert_closed_stdout_is_not_an_error(&env, &["decode", "big.amm.ava3", "-o", "-"]);
    let _ = big;
}

/// A batch lists what it does not encode, with the reason
/// (links to files and folders, which are never followed; FIFOs; other
/// files), and reports an unreadable folder as a failure while it encodes
/// the rest of the tree. The CLI runs as an unprivileged user (root can
/// read any folder).
#[cfg(target_os = "linux")]
#[test]
fn batch_lists_what_it_skips_and_goes_on_past_an_unreadable_folder() {
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &Path, m: u32| fs::set_permissions(p, fs::Permissions::from_mode(m)).unwrap();
    let env = Env::new();
    env.write("in/a.amm", &shard(3000));
    env.write("in/locked/b.amm", &shard(3000));
    env.write("in/notes.txt", b"hello");
    env.write("elsewhere/c.amm", &shard(3000));
    std::os::unix::fs::symlink("../elsewhere", env.path("in/dirlink")).unwrap();
    std::os::unix::fs::symlink(env.path("dev.key"), env.path("in/key.amm")).unwrap();
    run_tool("mkfifo", &[env.path("in/pipe.amg").as_os_str()]);
    fs::create_dir(env.path("out")).unwrap();
    // Readable (and out/ writable) by the unprivileged user, but locked/.
    mode(env.dir.path(), 0o755);
    mode(&env.path("out"), 0o777);
    mode(&env.path("dev.key"), 0o644);
    mode(&env.path("in/locked"), 0o000);
    let uid = StdCommand::new("id").arg("-u").output().unwrap().stdout;
    let mut cmd = if String::from_utf8_lossy(&uid).trim() == "0" {
        let mut c = StdCommand::new("setpriv");
        c.args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(ava3_bin());
        c
    } else {
        StdCommand::new(ava3_bin())
    };
    let out = cmd
        .current_dir(env.dir.path())
        .env_remove("AVA3_KEY")
        .env("AVA3_KEY_FILE", env.path("dev.key"))
        .args(["encode", "in", "--batch", "-o", "out", "--json"])
        .output()
        .unwrap();
    mode(&env.path("in/locked"), 0o755);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stdout}\n{stderr}");
    let records: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let status_of = |source: &str| {
        let r = records
            .iter()
            .find(|r| r["source"] == source)
            .unwrap_or_else(|| panic!("no record for {source}: {stdout}"));
        (
            r["status"].as_str().unwrap().to_string(),
            r["error"].as_str().unwrap_or("").to_string(),
        )
    };
    assert_eq!(status_of("a.amm").0, "encoded");
    assert_eq!(
        status_of("dirlink"),
        ("skipped".into(), "a link: links are not followed".into())
    );
    assert_eq!(
        status_of("key.amm"),
        ("skipped".into(), "a link: links are not followed".into())
    );
    assert_eq!(
        status_of("pipe.amg"),
        ("skipped".into(), "not a regular file".into())
    );
    assert_eq!(
        status_of("notes.txt"),
        ("skipped".into(), "not .amm/.amg/.amr".into())
    );
    let (st, err) = status_of("locked");
    assert_eq!(st, "failed");
    assert!(err.contains("cannot read the folder"), "{err}");
    assert!(
        stderr.contains("locked: cannot read the folder"),
        "{stderr}"
    );
    assert!(env.path("out/a.amm.ava3").exists());
    assert!(!env.path("out/key.amm.ava3").exists() && !env.path("out/dirlink").exists());
    // The human lines say the same.
    let human = env
        .keyed()
        .args(["encode", "in", "--batch", "-o", "out2"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&human.stdout);
    assert!(
        text.contains("skipped (a link: links are not followed) key.amm"),
        "{text}"
    );
    assert!(
        text.contains("skipped (not a regular file) pipe.amg"),
        "{text}"
    );
}

/// A release check in the manner of `sha256sum -c`: `verify -c
/// MANIFEST` alone checks every file the manifest lists, `--ignore-missing`
/// lets absent ones pass, and the manifest records each output's plain
/// SHA-256, which standard tools reproduce.
#[test]
fn verify_c_checks_a_release_set_like_sha256sum() {
    let env = Env::with_release("out");
    let m: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(env.path("out/ava3-manifest.json")).unwrap())
            .unwrap();
    for e in m["files"].as_array().unwrap() {
        let out = env.path("out").join(e["output"].as_str().unwrap());
        assert_eq!(
            e["output_sha256"],
            sha256_hex(&fs::read(out).unwrap()),
            "{e}"
        );
    }
    // sha256sum agrees with the manifest, from the manifest's folder.
    let sums: String = m["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            format!(
                "{}  {}\n",
                e["output_sha256"].as_str().unwrap(),
                e["output"].as_str().unwrap()
            )
        })
        .collect();
    env.write("out/SHA256SUMS", sums.as_bytes());
    let check = StdCommand::new("sha256sum")
        .args(["-c", "SHA256SUMS"])
        .current_dir(env.path("out"))
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stdout)
    );
    // -c alone: every listed file, keyed.
    env.keyed()
        .args([
            "verify",
            "-c",
            "out/ava3-manifest.json",
            "--require",
            "keyed",
            "--json",
        ])
        .assert()
        .success()
        .stdout(predicate::str::contains("\"manifest\":\"match\"").count(2));
    fs::remove_file(env.path("out/sub/b.amg.ava3")).unwrap();
    env.keyed()
        .args(["verify", "-c", "out/ava3-manifest.json"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains(
            "listed in the manifest but missing",
        ));
    env.keyed()
        .args([
            "verify",
            "--check",
            "out/ava3-manifest.json",
            "--ignore-missing",
        ])
        .assert()
        .success()
        .stderr(predicate::str::contains("1 listed but missing (ignored)"));
    // --ignore-missing means nothing without a manifest.
    env.keyed()
        .args(["verify", "out", "--ignore-missing"])
        .assert()
        .code(2);
}

/// Key rotation for a whole release: `rekey DIR -o OUTDIR`
/// rekeys every `.ava3` file and rewrites the batch manifest for the new
/// files, which then pass `verify -c` under the new key only.
#[test]
fn rekey_of_a_folder_rewrites_its_manifest() {
    let env = Env::with_release("enc");
    env.keyed()
        .args(["rekey", "enc", "--new-key-file", "other.key", "-o", "rot"])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "rekeyed sub/b.amg.ava3 -> rot/sub/b.amg.ava3",
        ));
    let m: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(env.path("rot/ava3-manifest.json")).unwrap())
            .unwrap();
    let old: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(env.path("enc/ava3-manifest.json")).unwrap())
            .unwrap();
    for (e, o) in m["files"]
        .as_array()
        .unwrap()
        .iter()
        .zip(old["files"].as_array().unwrap())
    {
        assert_eq!(e["source"], o["source"]);
        assert_eq!(e["plaintext_sha256"], o["plaintext_sha256"]);
        assert_ne!(e["key_id"], o["key_id"]);
        assert_ne!(e["output_keyless_sha256"], o["output_keyless_sha256"]);
        let bytes = fs::read(env.path("rot").join(e["output"].as_str().unwrap())).unwrap();
        assert_eq!(e["output_sha256"], sha256_hex(&bytes));
    }
    env.cmd()
        .args([
            "verify",
            "-c",
            "rot/ava3-manifest.json",
            "--key-file",
            "other.key",
            "-q",
        ])
        .assert()
        .success();
    env.keyed()
        .args(["verify", "-c", "rot/ava3-manifest.json", "-q"])
        .assert()
        .code(3);
    // Into itself, or again without --force: refused.
    env.keyed()
        .args(["rekey", "enc", "--new-key-file", "other.key", "-o", "enc"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "the output folder is the input folder",
        ));
    env.keyed()
        .args([
            "rekey",
            "enc",
            "--new-key-file",
            "other.key",
            "-o",
            "rot",
            "-q",
        ])
        .assert()
        .code(2);
}

/// Shell completions and a man page generated from the flags.
#[test]
fn completions_and_man_page_come_from_the_flags() {
    let env = Env::new();
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        env.cmd()
            .args(["completions", shell])
            .assert()
            .success()
            .stdout(predicate::str::contains("rekey"))
            .stdout(predicate::str::contains("ignore-missing"));
    }
    env.cmd()
        .arg("manpage")
        .assert()
        .success()
        .stdout(predicate::str::starts_with(".ie"))
        .stdout(predicate::str::contains(".TH ava3 1"))
        .stdout(predicate::str::contains("verify"));
    env.cmd().args(["completions", "tcsh"]).assert().code(2);
}

/// The messages of a first hour's usual mistakes name what the
/// user gave and say what is expected.
#[test]
fn usual_mistakes_get_messages_that_say_what_to_do() {
    let env = Env::new();
    env.write("m.amm", &shard(5000));
    let fails = |args: &[&str], says: &str| {
        let out = env.keyed().args(args).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(says), "{args:?}: {err}");
        assert!(
            !err.contains(".tmp"),
            "{args:?} names a temporary file: {err}"
        );
        assert_eq!(err.lines().count(), 1, "{err}");
    };
    fails(
        &["encode", "m.amm", "-o", "nodir/m.ava3"],
        "the output folder nodir does not exist",
    );
    fs::create_dir(env.path("folder")).unwrap();
    fails(
        &["encode", "m.amm", "-o", "folder"],
        "folder is a folder: give the output file's name",
    );
    fails(
        &["encode", "m.amm", "-o", "folder", "--force"],
        "folder is a folder",
    );
    let raw = env.write("raw.key", &[7u8; 32]);
    set_mode(&raw, 0o600);
    fails(
        &["encode", "m.amm", "--key-file", "raw.key"],
        "must hold exactly 64 hexadecimal digits as text (a raw 32-byte key is not accepted",
    );
    fails(
        &[
            "encode",
            "m.amm",
            "--key-file",
            "dev.key",
            "--key-file",
            "other.key",
        ],
        "encode takes one key, and 2 --key-file were given",
    );
    assert!(!env.path("m.amm.ava3").exists());
    no_temp_files(env.dir.path());
}

/// Usage errors from the flag parser follow the one-line rule of
/// every other error, name what is wrong and point at the right --help.
#[test]
fn usage_errors_are_one_line_with_a_help_hint() {
    let env = Env::new();
    for (args, says) in [
        (
            &["encode", "--bogus", "x"][..],
            "unexpected argument '--bogus'",
        ),
        (&["verify"], "required arguments were not provided: <PATHS>"),
        (
            &["encode", "a.amm", "--block-size", "xyz"],
            "invalid value 'xyz'",
        ),
        (&["frob"], "unrecognized subcommand 'frob'"),
    ] {
        let out = env.cmd().args(args).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(err.starts_with("ava3: error: "), "{err}");
        assert!(err.contains(says), "{args:?}: {err}");
        let help = if args[0] == "frob" {
            "'ava3 --help'".to_string()
        } else {
            format!("'ava3 {} --help'", args[0])
        };
        assert!(err.contains(&help), "{err}");
    }
    env.cmd()
        .arg("--help")
        .assert()
        .success()
        .stdout(predicate::str::contains("Exit status: 0 success"));
    // Each command's -q says what it does for that command.
    for (cmd, says) in [
        ("encode", "with --batch, also"),
        ("verify", "failures and the summary only"),
        ("decode", "No progress bar and no result line"),
    ] {
        let help = env.cmd().args([cmd, "--help"]).output().unwrap();
        let text = String::from_utf8_lossy(&help.stdout);
        assert!(text.contains(says), "{cmd}: {text}");
        if cmd != "verify" {
            assert!(!text.contains("summary for verify"), "{cmd}: {text}");
        }
    }
}

/// `-` and `--json` mean the same in every command, or are
/// refused with a clear error: nothing writes a file named `-`, and no
/// `--json` prints plain text.
#[test]
fn dash_and_json_mean_the_same_in_every_command() {
    let env = Env::new();
    let data = sample_gguf();
    env.write("m.amg", &data);
    env.keyed()
        .args(["encode", "m.amg", "-q"])
        .assert()
        .success();
    // keygen never writes a key to standard output.
    env.cmd()
        .args(["keygen", "-o", "-"])
        .assert()
        .code(2)
        .stdout("")
        .stderr(predicate::str::contains("never written to standard output"));
    // rekey -o - streams the new file to standard output.
    let rekeyed = env
        .keyed()
        .args([
            "rekey",
            "m.amg.ava3",
            "--new-key-file",
            "other.key",
            "-o",
            "-",
        ])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    assert!(rekeyed.starts_with(b"\x89AVA3"));
    env.write("r.ava3", &rekeyed);
    let back = env
        .cmd()
        .args(["decode", "r.ava3", "--key-file", "other.key", "-o", "-"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    assert_eq!(back, data);
    assert!(!env.path("-").exists(), "a file named - was written");
    // --json: one object from decode, rekey and keygen; refused with -o -.
    let json_of = |args: &[&str]| -> serde_json::Value {
        let out = env.keyed().args(args).output().unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{args:?}: {e}"))
    };
    let d = json_of(&["decode", "m.amg.ava3", "-o", "d.amg", "--json"]);
    assert_eq!(d["status"], "decoded");
    assert_eq!(d["size"], data.len());
    assert_eq!(d["payload_kind"], "gguf");
    let r = json_of(&[
        "rekey",
        "m.amg.ava3",
        "--new-key-file",
        "other.key",
        "-o",
        "r2.ava3",
        "--json",
    ]);
    assert_eq!(r["status"], "rekeyed");
    assert_ne!(r["key_id"], r["previous_key_id"]);
    let k = json_of(&["keygen", "-o", "new.key", "--json"]);
    assert_eq!(k["key_id"].as_str().unwrap().len(), 32);
    for args in [
        &["decode", "m.amg.ava3", "-o", "-", "--json"][..],
        &[
            "rekey",
            "m.amg.ava3",
            "--new-key-file",
            "other.key",
            "-o",
            "-",
            "--json",
        ],
    ] {
        env.keyed()
            .args(args)
            .assert()
            .code(2)
            .stdout("")
            .stderr(predicate::str::contains("--json prints to standard output"));
    }
    // verify - and inspect - read standard input.
    let file = fs::read(env.path("m.amg.ava3")).unwrap();
    env.keyed()
        .args(["verify", "-"])
        .write_stdin(file.clone())
        .assert()
        .success()
        .stdout(predicate::str::contains("OK (keyed) -"));
    env.cmd()
        .args(["inspect", "-", "--json"])
        .write_stdin(file.clone())
        .assert()
        .success()
        .stdout(predicate::str::contains("\"size_check\":\"complete\""));
    env.cmd()
        .args(["inspect", "-"])
        .write_stdin(file[..file.len() - 1].to_vec())
        .assert()
        .code(1)
        .stderr(predicate::str::contains("truncated"));
}

/// On a terminal, decode refuses before it decodes anything or
/// draws a progress bar (a real pseudo-terminal, through `script`).
#[cfg(target_os = "linux")]
#[test]
fn decode_to_a_terminal_is_refused_before_any_output() {
    let env = Env::new();
    env.write("big.amm", &shard(3 << 20));
    env.keyed()
        .args(["encode", "big.amm", "-q"])
        .assert()
        .success();
    let bin = ava3_bin();
    let out = StdCommand::new("script")
        .args(["-qec"])
        .arg(format!("{} decode big.amm.ava3 -o -", bin.display()))
        .arg("/dev/null")
        .current_dir(env.dir.path())
        .env("AVA3_KEY_FILE", env.path("dev.key"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(
        text.contains("refusing to write binary data to a terminal"),
        "{text}"
    );
    assert!(
        !text.contains("decoding"),
        "a progress bar was drawn: {text}"
    );
}

/// Runs `ava3 ARGS` with the key, closes its standard output at once, and
/// checks that it ends with exit 0 and nothing on stderr.
fn assert_closed_stdout_is_not_an_error(env: &Env, args: &[&str]) {
    let mut child = StdCommand::new(ava3_bin())
        .current_dir(env.dir.path())
        .env("AVA3_KEY_FILE", env.path("dev.key"))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{args:?}: {stderr}");
    assert!(stderr.is_empty(), "{args:?}: {stderr}");
}

#[test]
fn a_file_encodes_to_standard_output_and_a_closed_pipe_is_not_an_error() {
    let env = Env::new();
    let data = shard(3 << 20);
    env.write("big.amm", &data);
    let enc = env
        .keyed()
        .args(["encode", "big.amm", "-o", "-"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    env.write("out.ava3", &enc);
    env.keyed()
        .args(["verify", "--deep", "out.ava3"])
        .assert()
        .success();
    let dec = env
        .keyed()
        .args(["decode", "out.ava3", "-o", "-"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    assert!(dec == data, "decoded bytes differ");
    assert_closed_stdout_is_not_an_error(&env, &["encode", "big.amm", "-o", "-"]);
}

#[test]
fn inspect_needs_no_key() {
    let env = Env::new();
    env.write("m.amr", &tflite_like(200_000));
    env.keyed()
        .args(["encode", "m.amr", "--block-size", "4096"])
        .assert()
        .success();
    env.cmd()
        .args(["inspect", "m.amr.ava3"])
        .assert()
        .success()
        .stdout(
            predicate::str::contains("payload kind:    litert")
                .and(predicate::str::contains("block size:      4096"))
                .and(predicate::str::contains("blocks:          49"))
                .and(predicate::str::contains("complete")),
        );
    let f = fs::read(env.path("m.amr.ava3")).unwrap();
    env.write("cut.ava3", &f[..1000]);
    env.cmd().args(["inspect", "cut.ava3"]).assert().code(1);
    env.cmd().args(["inspect", "m.amr"]).assert().code(1);
    env.keyed()
        .args(["encode", "m.amr", "--block-size", "1000", "-o", "x"])
        .assert()
        .code(2);
}

#[test]
fn keygen_writes_a_private_key_and_never_overwrites() {
    let env = Env::new();
    env.cmd()
        .args(["keygen", "-o", "new.key"])
        .assert()
        .success()
        .stdout(predicate::str::contains("key id"));
    let text = fs::read_to_string(env.path("new.key")).unwrap();
    assert_eq!(text.trim().len(), 64);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(env.path("new.key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    env.cmd().args(["keygen", "-o", "new.key"]).assert().code(2);
    assert_eq!(fs::read_to_string(env.path("new.key")).unwrap(), text);
}

#[test]
fn rekey_streams_to_a_new_key() {
    let env = Env::new();
    env.write("m.amg", &sample_gguf());
    env.keyed().args(["encode", "m.amg"]).assert().success();
    env.cmd()
        .args(["keygen", "-o", "new.key"])
        .assert()
        .success();
    env.keyed()
        .args([
            "rekey",
            "m.amg.ava3",
            "--new-key-file",
            "new.key",
            "-o",
            "re.ava3",
        ])
        .assert()
        .success();
    env.cmd()
        .args(["verify", "re.ava3", "--key-file", "dev.key"])
        .assert()
        .code(3)
        .stdout(predicate::str::contains("wrong key"));
    env.cmd()
        .args([
            "decode",
            "re.ava3",
            "--key-file",
            "new.key",
            "-o",
            "back.amg",
        ])
        .assert()
        .success();
    assert_eq!(fs::read(env.path("back.amg")).unwrap(), sample_gguf());
    // A corrupted input leaves no output.
    let mut bad = fs::read(env.path("m.amg.ava3")).unwrap();
    bad[200_000] ^= 4;
    env.write("bad.ava3", &bad);
    env.keyed()
        .args([
            "rekey",
            "bad.ava3",
            "--new-key-file",
            "new.key",
            "-o",
            "re2.ava3",
        ])
        .assert()
        .code(1);
    assert!(!env.path("re2.ava3").exists());
    no_temp_files(env.dir.path());
}

#[test]
fn decode_of_a_bad_file_leaves_no_plaintext() {
    let env = Env::new();
    env.write("m.amm", &shard(1_000_000));
    env.keyed().args(["encode", "m.amm"]).assert().success();
    let mut f = fs::read(env.path("m.amm.ava3")).unwrap();
    let n = f.len();
    f[n - 200] ^= 1; // the final block
    env.write("bad.ava3", &f);
    env.keyed()
        .args(["decode", "bad.ava3", "-o", "out.amm"])
        .assert()
        .code(1)
        .stderr(predicate::str::starts_with("ava3: error: "))
        .stderr(predicate::str::contains("block 15 failed authentication"));
    assert!(!env.path("out.amm").exists());
    no_temp_files(env.dir.path());
    // Errors are one line.
    let out = env
        .keyed()
        .args(["decode", "bad.ava3", "-o", "out.amm"])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stderr).lines().count(), 1);
}

#[test]
fn batch_with_good_and_bad_files_then_resume() {
    let env = Env::new();
    env.write("in/a.amg", &sample_gguf());
    env.write("in/sub/b.amr", &tflite_like(90_000));
    env.write("in/sub/deeper/c.amm", &shard(150_000));
    env.write("in/bad.amg", b"this is not gguf");
    env.write("in/readme.md", b"# docs");
    let out = env
        .keyed()
        .args(["encode", "in", "--batch", "-o", "out", "-j", "2", "--json"])
        .assert()
        .code(1)
        .get_output()
        .clone();
    let stdout = String::from_utf8(out.stdout).unwrap();
    let records: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let status = |src: &str| {
        records
            .iter()
            .find(|r| r["source"] == src)
            .map(|r| r["status"].as_str().unwrap().to_string())
    };
    assert_eq!(status("a.amg").as_deref(), Some("encoded"));
    assert_eq!(status("sub/b.amr").as_deref(), Some("encoded"));
    assert_eq!(status("sub/deeper/c.amm").as_deref(), Some("encoded"));
    assert_eq!(status("bad.amg").as_deref(), Some("failed"));
    assert_eq!(status("readme.md").as_deref(), Some("skipped"));
    assert!(env.path("out/sub/deeper/c.amm.ava3").is_file());
    assert!(!env.path("out/bad.amg.ava3").exists());

    // The manifest has the documented fields.
    let m: serde_json::Value =
        serde_json::from_slice(&fs::read(env.path("out/ava3-manifest.json")).unwrap()).unwrap();
    let files = m["files"].as_array().unwrap();
    assert_eq!(files.len(), 3);
    for key in [
        "source",
        "size",
        "plaintext_sha256",
        "output",
        "output_keyless_sha256",
        "key_id",
        "payload_kind",
        "format_version",
    ] {
        assert!(files[0].get(key).is_some(), "manifest field {key}");
    }

    // Fix the bad file and rerun: the others are up to date, only it is encoded.
    fs::remove_file(env.path("in/bad.amg")).unwrap();
    let before = fs::read(env.path("out/a.amg.ava3")).unwrap();
    let out = env
        .keyed()
        .args(["encode", "in", "--batch", "-o", "out", "--json"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    assert_eq!(text.matches("\"up-to-date\"").count(), 3, "{text}");
    assert_eq!(fs::read(env.path("out/a.amg.ava3")).unwrap(), before);

    // --force re-encodes everything.
    env.keyed()
        .args(["encode", "in", "--batch", "-o", "out", "--force", "-q"])
        .assert()
        .success();
    assert_ne!(fs::read(env.path("out/a.amg.ava3")).unwrap(), before);

    // verify --manifest: all match; then one changed, one extra, one missing.
    env.keyed()
        .args(["verify", "out", "--manifest", "out/ava3-manifest.json"])
        .assert()
        .success();
    env.keyed()
        .args([
            "encode",
            "in/a.amg",
            "-o",
            "out/a.amg.ava3",
            "--force",
            "-q",
        ])
        .assert()
        .success();
    fs::copy(env.path("out/a.amg.ava3"), env.path("out/extra.amg.ava3")).unwrap();
    fs::remove_file(env.path("out/sub/b.amr.ava3")).unwrap();
    let out = env
        .keyed()
        .args([
            "verify",
            "out",
            "--manifest",
            "out/ava3-manifest.json",
            "--json",
        ])
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    assert!(text.contains("\"manifest\":\"changed\""), "{text}");
    assert!(text.contains("\"manifest\":\"extra\""), "{text}");
    assert!(text.contains("\"manifest\":\"missing\""), "{text}");
    assert!(text.contains("\"manifest\":\"match\""), "{text}");
    no_temp_files(env.dir.path());
}

#[test]
fn batch_resumes_after_being_killed() {
    let env = Env::new();
    for i in 0..12 {
        env.write(&format!("in/m{i:02}.amm"), &shard(6 << 20));
    }
    let mut child = StdCommand::new(ava3_bin())
        .current_dir(env.dir.path())
        .env("AVA3_KEY_FILE", env.path("dev.key"))
        .args(["encode", "in", "--batch", "-o", "out", "-j", "1", "-q"])
        .spawn()
        .unwrap();
    // Kill it once some, but not all, outputs exist.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let done = fs::read_dir(env.path("out"))
            .map(|d| {
                d.filter(|e| {
                    e.as_ref()
                        .unwrap()
                        .path()
                        .extension()
                        .is_some_and(|x| x == "ava3")
                })
                .count()
            })
            .unwrap_or(0);
        if done >= 2 || std::time::Instant::now() > deadline {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    // Every output present is complete and verifies.
    let present: Vec<PathBuf> = walk(&env.path("out"))
        .into_iter()
        .filter(|p| p.extension().is_some_and(|x| x == "ava3"))
        .collect();
    assert!(!present.is_empty());
    assert!(
        present.len() < 12,
        "the batch finished before it was killed"
    );
    for p in &present {
        env.keyed().arg("verify").arg(p).assert().success();
    }
    // SIGKILL may leave the temporary file of the output being written
    // (hidden, ciphertext only); the rerun removes it.
    // The rerun finishes the rest and skips what is done.
    let out = env
        .keyed()
        .args(["encode", "in", "--batch", "-o", "out", "--json"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    assert_eq!(
        text.matches("\"up-to-date\"").count(),
        present.len(),
        "{text}"
    );
    env.keyed().args(["verify", "out", "-q"]).assert().success();
    no_temp_files(&env.path("out"));
}

/// A key pasted where a key file's path belongs is never
/// echoed, through --key-file or AVA3_KEY_FILE.
#[test]
fn a_key_given_as_a_path_is_never_echoed() {
    let env = Env::new();
    env.write("m.amm", &shard(70_000));
    let no_key = || {
        predicate::str::contains(KEY_HEX)
            .not()
            .and(predicate::str::contains(&KEY_HEX[..32]).not())
            .and(predicate::str::contains(
                "a key was given where the path of a key file was expected",
            ))
    };
    env.cmd()
        .args(["encode", "m.amm", "--key-file", KEY_HEX, "-o", "a.ava3"])
        .assert()
        .code(2)
        .stderr(no_key());
    env.cmd()
        .env("AVA3_KEY_FILE", format!(" {KEY_HEX}\n"))
        .args(["encode", "m.amm", "-o", "b.ava3"])
        .assert()
        .code(2)
        .stderr(no_key());
    assert!(!env.path("a.ava3").exists() && !env.path("b.ava3").exists());
    // An ordinary missing path is still named.
    env.cmd()
        .args(["encode", "m.amm", "--key-file", "missing.key"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("missing.key"));
}

/// A file name with control characters cannot write
/// escape sequences to the terminal; human output shows them escaped.
#[test]
fn control_characters_in_file_names_are_escaped() {
    let env = Env::new();
    let name = "evil\x1b]0;owned\x07\x1b[31mred.amm";
    env.write(&format!("in/{name}"), &shard(70_000));
    let raw = |out: &std::process::Output| {
        let all = [out.stdout.as_slice(), out.stderr.as_slice()].concat();
        assert!(
            !all.iter().any(|&b| b == 0x1b || b == 0x07),
            "raw control bytes in: {}",
            String::from_utf8_lossy(&all)
        );
        String::from_utf8_lossy(&all).into_owned()
    };
    let single = env
        .keyed()
        .args(["encode", &format!("in/{name}"), "-o", "one.ava3"])
        .output()
        .unwrap();
    assert!(single.status.success());
    raw(&single);
    // A missing file with such a name: the error line is escaped too.
    let missing = env
        .keyed()
        .args(["verify", "nope\x1b[2J.ava3"])
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(2));
    assert!(raw(&missing).contains("nope\\x1b[2J.ava3"));
    let batch = env
        .keyed()
        .args(["encode", "in", "--batch", "-o", "out"])
        .output()
        .unwrap();
    assert!(batch.status.success());
    assert!(raw(&batch).contains("evil\\x1b]0;owned\\x07\\x1b[31mred.amm"));
    let verify = env.keyed().args(["verify", "out"]).output().unwrap();
    assert!(verify.status.success());
    raw(&verify);
    // JSON keeps its own (standard) escaping.
    let json = env
        .keyed()
        .args(["verify", "out", "--json"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&json.stdout).contains("evil\\u001b]0;owned\\u0007"));
}

/// A FIFO (as `<(cat model.amg)` gives) is read to its
/// end like standard input, never encoded as an empty model.
#[cfg(unix)]
#[test]
fn a_fifo_input_is_read_to_its_end() {
    let env = Env::new();
    let model = sample_gguf();
    let fifo = env.path("pipe.amg");
    assert!(StdCommand::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    let writer = {
        let (fifo, model) = (fifo.clone(), model.clone());
        std::thread::spawn(move || fs::write(fifo, model).unwrap())
    };
    env.keyed()
        .args(["encode", "pipe.amg", "-o", "p.ava3"])
        .assert()
        .success()
        .stdout(predicate::str::contains(format!(
            "({} bytes, gguf",
            model.len()
        )));
    writer.join().unwrap();
    env.keyed()
        .args(["decode", "p.ava3", "-o", "back.amg"])
        .assert()
        .success();
    assert_eq!(fs::read(env.path("back.amg")).unwrap(), model);
}

/// A model swapped for a link to the key file after the
/// batch walked the folder is refused; the key reaches no output and no
/// manifest entry.
#[cfg(unix)]
#[test]
fn batch_refuses_a_link_swapped_in_after_the_walk() {
    let env = Env::new();
    // a.amm first and large (sparse), so that the walk is long over when
    // b.amm's turn comes on the one lane.
    env.sparse("models/a.amm", 256 << 20);
    env.write("models/b.amm", &shard(70_000));
    let child = env.spawn_keyed(
        &["encode", "models", "--batch", "-o", "enc", "-j", "1", "-q"],
        Stdio::piped(),
    );
    // a.amm's temporary output exists: the walk is done.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !fs::read_dir(env.path("enc")).is_ok_and(|d| {
        d.flatten()
            .any(|e| e.file_name().to_string_lossy().starts_with(".a.amm.ava3"))
    }) {
        assert!(
            std::time::Instant::now() < deadline,
            "batch never started a.amm"
        );
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    fs::remove_file(env.path("models/b.amm")).unwrap();
    std::os::unix::fs::symlink(env.path("dev.key"), env.path("models/b.amm")).unwrap();
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("not the file the folder walk found"),
        "{stderr}"
    );
    assert!(!env.path("enc/b.amm.ava3").exists());
    let manifest = fs::read_to_string(env.path("enc/ava3-manifest.json")).unwrap();
    assert!(
        manifest.contains("a.amm") && !manifest.contains("b.amm"),
        "{manifest}"
    );
}

/// Decoded plaintext is 0600 whatever the umask,
/// and a file it replaces never becomes more readable; `.ava3` outputs
/// honour the umask.
#[cfg(unix)]
#[test]
fn decoded_plaintext_is_private_and_ava3_outputs_honour_the_umask() {
    use std::os::unix::fs::PermissionsExt;
    let env = Env::new();
    env.write("m.amg", &sample_gguf());
    let ava3 = ava3_bin();
    let with_umask = |mask: &str, args: &str| {
        let st = StdCommand::new("sh")
            .current_dir(env.dir.path())
            .env("AVA3_KEY_FILE", env.path("dev.key"))
            .env("AVA3", &ava3)
            .arg("-c")
            .arg(format!("umask {mask} && exec \"$AVA3\" {args}"))
            .status()
            .unwrap();
        assert!(st.success(), "{args}");
    };
    let mode = |p: &str| fs::metadata(env.path(p)).unwrap().permissions().mode() & 0o777;
    with_umask("027", "encode -q m.amg -o m.amg.ava3");
    assert_eq!(mode("m.amg.ava3"), 0o640);
    with_umask("000", "decode -q m.amg.ava3 -o plain.amg");
    assert_eq!(mode("plain.amg"), 0o600);
    env.write("open.amg", b"old");
    set_mode(&env.path("open.amg"), 0o644);
    with_umask("000", "decode -q --force m.amg.ava3 -o open.amg");
    assert_eq!(mode("open.amg"), 0o600);
    env.write("locked.amg", b"old");
    set_mode(&env.path("locked.amg"), 0o400);
    with_umask("000", "decode -q --force m.amg.ava3 -o locked.amg");
    assert_eq!(mode("locked.amg"), 0o400);
    assert_eq!(fs::read(env.path("locked.amg")).unwrap(), sample_gguf());
}

/// SIGINT, SIGTERM and SIGHUP during encode,
/// batch, decode and rekey remove the temporary file before the process
/// exits: no partial output, no partial plaintext.
#[cfg(unix)]
#[test]
fn signals_leave_no_temporary_file() {
    let env = Env::with_big_model();
    let decode: &[&str] = &["decode", "m.amm.ava3", "-o", "out/plain.amm"];
    let encode: &[&str] = &["encode", "big/m.amm", "-o", "out/m.amm.ava3"];
    let rekey: &[&str] = &[
        "rekey",
        "m.amm.ava3",
        "--new-key-file",
        "other.key",
        "-o",
        "out/r.ava3",
    ];
    let batch: &[&str] = &["encode", "big", "--batch", "-o", "out", "-j", "1"];
    let runs = [
        ("INT", decode),
        ("TERM", decode),
        ("HUP", decode),
        ("TERM", encode),
        ("HUP", rekey),
        ("INT", batch),
    ];
    for (sig, args) in runs {
        let _ = fs::remove_dir_all(env.path("out"));
        fs::create_dir_all(env.path("out")).unwrap();
        let mut child = env.spawn_keyed(&[args, &["-q"]].concat(), Stdio::null());
        wait_until_writing(&mut child, &env.path("out"), args);
        if args[0] == "decode" {
            // Plaintext is written to an unnamed file: nothing is named yet.
            let named = walk(&env.path("out"));
            assert!(named.is_empty(), "decode named {named:?} while writing");
        }
        let pid = child.id().to_string();
        assert!(StdCommand::new("kill")
            .args([&format!("-{sig}"), &pid])
            .status()
            .unwrap()
            .success());
        let status = child.wait().unwrap();
        assert!(!status.success(), "{sig} {args:?}");
        let left: Vec<_> = walk(&env.path("out"));
        assert!(
            left.iter().all(|p| !p.to_string_lossy().ends_with(".tmp")),
            "{sig} {args:?} left {left:?}"
        );
        assert!(
            !env.path("out/plain.amm").exists(),
            "{sig}: partial plaintext"
        );
    }
}

/// Waits until `child` has a file open for writing in `dir`: a named
/// temporary file, or (Linux, for plaintext) an unnamed `O_TMPFILE` one,
/// which `/proc/PID/fd` shows as `DIR/#INODE (deleted)`.
fn wait_until_writing(child: &mut std::process::Child, dir: &Path, what: &[&str]) {
    let dir = dir.canonicalize().unwrap();
    let fds = PathBuf::from(format!("/proc/{}/fd", child.id()));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let open_in_dir = fs::read_dir(&fds).into_iter().flatten().flatten().any(|e| {
            fs::read_link(e.path()).is_ok_and(|target| {
                target.parent() == Some(dir.as_path())
                    && fs::metadata(e.path()).is_ok_and(|m| m.len() > 0)
            })
        });
        if open_in_dir {
            return;
        }
        assert!(
            child.try_wait().unwrap().is_none(),
            "{what:?} ended before the signal"
        );
        assert!(std::time::Instant::now() < deadline, "{what:?} never wrote");
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
}

/// On Linux a decode writes its plaintext to an unnamed
/// file (`O_TMPFILE`) linked in only once complete, so even `SIGKILL`,
/// which no handler sees, leaves no plaintext at all; an existing output
/// replaced with `--force` stays whole until the new one is complete.
#[cfg(target_os = "linux")]
#[test]
fn a_killed_decode_leaves_no_plaintext_file() {
    let env = Env::with_big_model();
    for force in [false, true] {
        let _ = fs::remove_dir_all(env.path("out"));
        fs::create_dir_all(env.path("out")).unwrap();
        if force {
            env.write("out/plain.amm", b"the previous model");
        }
        let mut args = vec!["decode", "-q", "m.amm.ava3", "-o", "out/plain.amm"];
        if force {
            args.push("--force");
        }
        let mut child = env.spawn_keyed(&args, Stdio::null());
        wait_until_writing(&mut child, &env.path("out"), &args);
        assert!(StdCommand::new("kill")
            .args(["-KILL", &child.id().to_string()])
            .status()
            .unwrap()
            .success());
        assert!(!child.wait().unwrap().success());
        let left = walk(&env.path("out"));
        if force {
            assert_eq!(left, [env.path("out/plain.amm")], "force: {left:?}");
            assert_eq!(
                fs::read(env.path("out/plain.amm")).unwrap(),
                b"the previous model"
            );
        } else {
            assert!(left.is_empty(), "SIGKILL left {left:?}");
        }
    }
    // Uninterrupted, the same decode links its output in, 0600.
    env.keyed()
        .args([
            "decode",
            "-q",
            "m.amm.ava3",
            "-o",
            "out/plain.amm",
            "--force",
        ])
        .assert()
        .success();
    let meta = fs::metadata(env.path("out/plain.amm")).unwrap();
    assert_eq!(meta.len(), 256 << 20);
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    no_temp_files(&env.path("out"));
}

/// A batch replaces or skips only outputs its manifest
/// lists (anything else needs --force), and "up to date" is not fooled by a
/// same-size source whose times were set back (`cp -p`, `touch -r`).
#[cfg(unix)]
#[test]
fn batch_trusts_only_its_manifest_and_not_modification_times() {
    let env = Env::new();
    env.write("in/a.amm", &shard(70_000));
    env.write("in/b.amm", &shard(80_000));
    // An unrelated file where b's output would go.
    env.write("out/b.amm.ava3", b"somebody else's file");
    env.keyed()
        .args(["encode", "in", "--batch", "-o", "out", "-q"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no earlier batch wrote it"));
    assert_eq!(
        fs::read(env.path("out/b.amm.ava3")).unwrap(),
        b"somebody else's file"
    );
    env.keyed()
        .args(["encode", "in", "--batch", "-o", "out", "-q", "--force"])
        .assert()
        .success();
    env.keyed().args(["verify", "out", "-q"]).assert().success();
    let digest_of = |name: &str| -> String {
        let m: serde_json::Value =
            serde_json::from_str(&fs::read_to_string(env.path("out/ava3-manifest.json")).unwrap())
                .unwrap();
        m["files"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["source"] == name)
            .unwrap()["plaintext_sha256"]
            .as_str()
            .unwrap()
            .to_string()
    };
    // A second run: everything is up to date.
    let again = env
        .keyed()
        .args(["encode", "in", "--batch", "-o", "out", "--json"])
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&again.stdout)
            .matches("\"up-to-date\"")
            .count(),
        2
    );
    // cp -p: same size, other bytes, the old times.
    let mut other = shard(70_000);
    other[100] ^= 0xff;
    env.write("new-a.amm", &other);
    std::thread::sleep(std::time::Duration::from_millis(20));
    run_tool(
        "touch",
        &[
            OsStr::new("-r"),
            env.path("in/a.amm").as_ref(),
            env.path("new-a.amm").as_ref(),
        ],
    );
    run_tool(
        "cp",
        &[
            OsStr::new("-p"),
            env.path("new-a.amm").as_ref(),
            env.path("in/a.amm").as_ref(),
        ],
    );
    env.keyed()
        .args(["encode", "in", "--batch", "-o", "out", "-q"])
        .assert()
        .success();
    assert_eq!(
        digest_of("a.amm"),
        sha256_hex(&other),
        "cp -p kept the old output"
    );
    // touch -r after an in-place rewrite of the same size.
    let mut third = shard(80_000);
    third[5] ^= 1;
    let stamp = env.path("stamp");
    fs::write(&stamp, b"").unwrap();
    run_tool(
        "touch",
        &[
            OsStr::new("-r"),
            env.path("in/b.amm").as_ref(),
            stamp.as_ref(),
        ],
    );
    fs::write(env.path("in/b.amm"), &third).unwrap();
    run_tool(
        "touch",
        &[
            OsStr::new("-r"),
            stamp.as_ref(),
            env.path("in/b.amm").as_ref(),
        ],
    );
    env.keyed()
        .args(["encode", "in", "--batch", "-o", "out", "-q"])
        .assert()
        .success();
    assert_eq!(
        digest_of("b.amm"),
        sha256_hex(&third),
        "touch -r kept the old output"
    );
    env.keyed()
        .args([
            "verify",
            "--deep",
            "out",
            "--manifest",
            "out/ava3-manifest.json",
            "-q",
        ])
        .assert()
        .success();
}

/// A manifest written outside the output folder lists
/// each output relative to its own folder, and `verify --manifest` finds
/// every file from any working directory.
#[test]
fn a_manifest_outside_the_output_folder_resolves_from_its_own_folder() {
    let env = Env::new();
    env.write("in/a.amm", &shard(70_000));
    env.write("in/sub/b.amm", &shard(5_000));
    fs::create_dir_all(env.path("release/meta")).unwrap();
    env.keyed()
        .args(["encode", "in", "--batch", "-o", "out", "-q"])
        .args(["--manifest", "release/meta/m.json"])
        .assert()
        .success();
    let m: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(env.path("release/meta/m.json")).unwrap())
            .unwrap();
    let mut outputs: Vec<&str> = m["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["output"].as_str().unwrap())
        .collect();
    outputs.sort();
    assert_eq!(
        outputs,
        ["../../out/a.amm.ava3", "../../out/sub/b.amm.ava3"]
    );
    // From the project folder, from the manifest's folder, with absolute paths.
    let abs_out = env.path("out");
    let abs_manifest = env.path("release/meta/m.json");
    for (cwd, out, manifest) in [
        (env.path(""), "out".into(), "release/meta/m.json".into()),
        (
            env.path("release/meta"),
            "../../out".into(),
            "m.json".into(),
        ),
        (env.path("in/sub"), abs_out.clone(), abs_manifest.clone()),
    ] as [(PathBuf, PathBuf, PathBuf); 3]
    {
        let done = env
            .keyed()
            .current_dir(&cwd)
            .arg("verify")
            .arg(&out)
            .arg("--manifest")
            .arg(&manifest)
            .arg("--json")
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&done.stdout);
        assert!(done.status.success(), "from {}: {text}", cwd.display());
        assert_eq!(text.matches("\"manifest\":\"match\"").count(), 2, "{text}");
    }
    // A file removed is missing, from the manifest's folder too.
    fs::remove_file(env.path("out/sub/b.amm.ava3")).unwrap();
    env.keyed()
        .current_dir(env.path("release/meta"))
        .args(["verify", "../../out", "--manifest", "m.json", "--json"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("\"manifest\":\"missing\""));
}

#[test]
fn help_has_an_example_for_every_command() {
    for cmd in ["encode", "verify", "inspect", "decode", "keygen", "rekey"] {
        Command::new(ava3_bin())
            .args([cmd, "--help"])
            .assert()
            .success()
            .stdout(predicate::str::contains("Example"));
    }
    Command::new(ava3_bin())
        .arg("--help")
        .assert()
        .success()
        .stdout(predicate::str::contains("Exit status"));
    Command::new(ava3_bin()).args(["encode"]).assert().code(2);
    Command::new(ava3_bin())
        .args(["frobnicate"])
        .assert()
        .code(2);
}

/// Publisher signatures through real processes: a key pair from
/// keygen, signed encodes, public-key-only verification, and a forgery made
/// with the master key alone refused wherever a signer is required.
#[test]
fn signed_releases_verify_with_the_public_key_only() {
    let env = Env::new();
    env.cmd()
        .args(["keygen", "--signing", "-o", "pub.key"])
        .assert()
        .success()
        .stdout(predicate::str::contains("signer id"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &str| fs::metadata(env.path(p)).unwrap().permissions().mode() & 0o777;
        assert_eq!((mode("pub.key"), mode("pub.key.pub")), (0o600, 0o644));
    }
    assert!(fs::read_to_string(env.path("pub.key.pub"))
        .unwrap()
        .starts_with("-----BEGIN PUBLIC KEY-----"));
    // Never overwrites either file.
    env.cmd()
        .args(["keygen", "--signing", "-o", "pub.key"])
        .assert()
        .code(2);
    env.cmd()
        .args(["keygen", "--signing", "-o", "mallory.key"])
        .assert()
        .success();
    env.write("m.amg", &sample_gguf());
    env.keyed()
        .args([
            "encode",
            "-q",
            "m.amg",
            "--sign",
            "pub.key",
            "--name",
            "assistant",
            "--model-version",
            "7",
        ])
        .assert()
        .success();
    // No master key: the signature proves the file is the publisher's.
    env.cmd()
        .args([
            "verify",
            "--signer",
            "pub.key.pub",
            "--name",
            "assistant",
            "--min-version",
            "7",
            "m.amg.ava3",
        ])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "OK (signed: publisher signature, no key)",
        ))
        .stdout(predicate::str::contains("model assistant, version 7"));
    env.cmd()
        .args(["inspect", "m.amg.ava3"])
        .assert()
        .success()
        .stdout(predicate::str::contains("model name:      assistant"))
        .stdout(predicate::str::contains("model version:   7"))
        .stdout(predicate::str::contains("signatures:      1 by signer id"));
    // What a master-key holder can make: an unsigned re-encode, or one
    // signed with their own key. Both pass a keyed check, neither passes
    // where the publisher's signature is required.
    env.keyed()
        .args([
            "encode",
            "-q",
            "m.amg",
            "-o",
            "unsigned.ava3",
            "--name",
            "assistant",
            "--model-version",
            "9",
        ])
        .assert()
        .success();
    env.keyed()
        .args([
            "encode",
            "-q",
            "m.amg",
            "-o",
            "forged.ava3",
            "--sign",
            "mallory.key",
            "--model-version",
            "9",
        ])
        .assert()
        .success();
    env.keyed()
        .args(["verify", "-q", "unsigned.ava3", "forged.ava3"])
        .assert()
        .success();
    for (file, outcome) in [
        ("unsigned.ava3", "unsigned"),
        ("forged.ava3", "unknown signer"),
    ] {
        for keyed in [false, true] {
            let mut c = if keyed { env.keyed() } else { env.cmd() };
            c.args(["verify", "--signer", "pub.key.pub", file, "--json"])
                .assert()
                .code(1)
                .stdout(predicate::str::contains(format!(
                    "\"outcome\":\"{outcome}\""
                )));
        }
        env.keyed()
            .args([
                "decode",
                "-q",
                "--signer",
                "pub.key.pub",
                file,
                "-o",
                "out.amg",
            ])
            .assert()
            .code(1);
        assert!(!env.path("out.amg").exists(), "no plaintext left behind");
    }
    // Rollback and another model's name.
    env.cmd()
        .args([
            "verify",
            "--signer",
            "pub.key.pub",
            "--min-version",
            "8",
            "m.amg.ava3",
        ])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("rollback"));
    env.keyed()
        .args(["verify", "--name", "other-model", "m.amg.ava3"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("name mismatch"));
    // A release check that asks for a signed check without a trusted key,
    // or for a name without anything that authenticates it, is a usage error.
    env.cmd()
        .args(["verify", "--require", "signed", "m.amg.ava3"])
        .assert()
        .code(2);
    env.cmd()
        .args(["verify", "--name", "assistant", "m.amg.ava3"])
        .assert()
        .code(2);
    env.cmd()
        .env("AVA3_VERIFY_REQUIRE", "signed")
        .env("AVA3_SIGNER_FILE", env.path("pub.key.pub"))
        .args(["verify", "-q", "m.amg.ava3"])
        .assert()
        .success();
    // A private key given where a public key belongs is refused by name.
    env.cmd()
        .args(["verify", "--signer", "pub.key", "m.amg.ava3"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("signing (private) key"));
    // The signing key from the environment, as a build job gets it.
    env.keyed()
        .env("AVA3_SIGNING_KEY_FILE", env.path("pub.key"))
        .args(["encode", "-q", "m.amg", "-o", "env.ava3"])
        .assert()
        .success();
    env.cmd()
        .args(["verify", "-q", "--signer", "pub.key.pub", "env.ava3"])
        .assert()
        .success();
    // Rekey: a signed input needs --sign (re-signed) or --drop-signatures.
    env.write_key("new.key", OTHER_KEY_HEX);
    env.keyed()
        .args([
            "rekey",
            "-q",
            "m.amg.ava3",
            "--new-key-file",
            "new.key",
            "-o",
            "r.ava3",
        ])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--sign KEY to re-sign"));
    assert!(!env.path("r.ava3").exists());
    env.keyed()
        .args([
            "rekey",
            "-q",
            "m.amg.ava3",
            "--new-key-file",
            "new.key",
            "--sign",
            "pub.key",
            "-o",
            "r.ava3",
        ])
        .assert()
        .success();
    env.cmd()
        .args([
            "verify",
            "-q",
            "--signer",
            "pub.key.pub",
            "--name",
            "assistant",
            "--min-version",
            "7",
            "r.ava3",
        ])
        .assert()
        .success();
}

/// A signed batch: every output signed, and a detached signature of the
/// manifest that OpenSSL checks and `verify -c --signer` requires, so a
/// whole release set (every file present, none extra, each digest right)
/// is checked with the public key only.
#[test]
fn a_signed_batch_manifest_checks_the_whole_release_with_the_public_key() {
    let env = Env::new();
    env.cmd()
        .args(["keygen", "--signing", "-o", "pub.key"])
        .assert()
        .success();
    env.write("in/a.amm", &shard(70_000));
    env.write("in/sub/b.amg", &sample_gguf());
    env.keyed()
        .args([
            "encode",
            "in",
            "--batch",
            "-o",
            "out",
            "-q",
            "--sign",
            "pub.key",
            "--model-version",
            "3",
        ])
        .assert()
        .success();
    let manifest = env.path("out/ava3-manifest.json");
    assert_eq!(
        fs::read(env.path("out/ava3-manifest.json.sig"))
            .unwrap()
            .len(),
        64
    );
    // The signed message is the label, a NUL, then the manifest's bytes.
    let mut message = b"AVA3-manifest-v1\0".to_vec();
    message.extend(fs::read(&manifest).unwrap());
    let message = env.write("manifest.msg", &message);
    run_tool(
        "openssl",
        &[
            "pkeyutl".as_ref(),
            "-verify".as_ref(),
            "-pubin".as_ref(),
            "-inkey".as_ref(),
            env.path("pub.key.pub").as_os_str(),
            "-rawin".as_ref(),
            "-in".as_ref(),
            message.as_os_str(),
            "-sigfile".as_ref(),
            env.path("out/ava3-manifest.json.sig").as_os_str(),
        ],
    );
    env.cmd()
        .args([
            "verify",
            "-c",
            "out/ava3-manifest.json",
            "--signer",
            "pub.key.pub",
            "-q",
        ])
        .assert()
        .success();
    // A second run is up to date: signed by the same key, same version.
    env.keyed()
        .args([
            "encode",
            "in",
            "--batch",
            "-o",
            "out",
            "--sign",
            "pub.key",
            "--model-version",
            "3",
        ])
        .assert()
        .success()
        .stderr(predicate::str::contains("0 encoded, 2 up to date"));
    // An extra file, even one validly signed, fails the set.
    fs::copy(env.path("out/a.amm.ava3"), env.path("out/extra.amm.ava3")).unwrap();
    env.cmd()
        .args([
            "verify",
            "-c",
            "out/ava3-manifest.json",
            "--signer",
            "pub.key.pub",
            "out",
        ])
        .assert()
        .code(1);
    fs::remove_file(env.path("out/extra.amm.ava3")).unwrap();
    // A manifest edited after signing is refused before any file is read.
    let text = fs::read_to_string(&manifest).unwrap();
    fs::write(
        &manifest,
        text.replace("\"format_version\": 2", "\"format_version\": 1"),
    )
    .unwrap();
    env.cmd()
        .args([
            "verify",
            "-c",
            "out/ava3-manifest.json",
            "--signer",
            "pub.key.pub",
        ])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("bad signature"));
    // Without its signature file the manifest is unsigned.
    fs::remove_file(env.path("out/ava3-manifest.json.sig")).unwrap();
    env.cmd()
        .args([
            "verify",
            "-c",
            "out/ava3-manifest.json",
            "--signer",
            "pub.key.pub",
        ])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("unsigned"));
    // --name names one model: refused with --batch.
    env.keyed()
        .args(["encode", "in", "--batch", "-o", "out2", "--name", "x"])
        .assert()
        .code(2);
}
