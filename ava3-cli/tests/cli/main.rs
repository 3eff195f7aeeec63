//! The real `ava3` binary, run as a process, on real files: every command,
//! every exit status, every key source, batches, resume, --force,
//! stdin/stdout, and the command lines of the team manual.
//!
//! One test binary, `cli`, with one module per command or concern (the
//! tests of `ava3 encode` in `encode.rs`, of `verify` in `verify.rs`, and
//! so on); this file holds what they share: the keys, the sample models,
//! and `Env`, a scratch folder with the `ava3` under test.

mod batch;
mod checksums;
mod decode;
mod encode;
mod inspect;
mod keygen;
mod keys;
mod rekey;
mod signals;
mod signing;
mod streams;
mod usage;
mod verify;

use std::ffi::OsStr;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command as StdCommand, Stdio};

use assert_cmd::Command;
use tempfile::TempDir;

const KEY_HEX: &str = "7dcd0d969bfb71a480cd1c075878464dc9678de1ed782c2da25b6683d31322ed";
const OTHER_KEY_HEX: &str = "0000000000000000000000000000000000000000000000000000000000000001";

/// The `ava3` under test: this crate's binary, or another entry point of
/// the same program given in `AVA3_TEST_BIN` (the Python package's `ava3`
/// script: tests/python-package.sh runs this whole suite against it).
fn ava3_bin() -> PathBuf {
    std::env::var_os("AVA3_TEST_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| assert_cmd::cargo::cargo_bin("ava3"))
}

fn repo() -> PathBuf {
    manifest_dir().join("..")
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

/// Whether OpenSSL alone verifies `signature` (one Ed25519 signature) by
/// the PEM public key `public_key` over `label || bytes`: the check the
/// spec gives for detached signatures (appendix E), with no ava3 code.
fn openssl_verifies(
    env: &Env,
    public_key: &str,
    label: &[u8],
    bytes: &[u8],
    signature: &Path,
) -> bool {
    let mut message = label.to_vec();
    message.extend(bytes);
    let message = env.write("openssl.msg", &message);
    StdCommand::new("openssl")
        .args(["pkeyutl", "-verify", "-pubin", "-inkey"])
        .arg(env.path(public_key))
        .args(["-rawin", "-in"])
        .arg(&message)
        .arg("-sigfile")
        .arg(signature)
        .output()
        .unwrap()
        .status
        .success()
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

/// This package's folder as cargo gives it when the test runs: a binary
/// reused from a shared target folder may have been compiled in another
/// checkout (since removed), whose path `env!` would still name.
fn manifest_dir() -> PathBuf {
    let dir = std::env::var_os("CARGO_MANIFEST_DIR");
    dir.map_or_else(|| env!("CARGO_MANIFEST_DIR").into(), Into::into)
}
