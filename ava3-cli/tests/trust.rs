//! Where the command decides trust. Each test is a finding of the
//! second outside review, reproduced with the real `ava3` binary on real
//! files: a signing oracle in `rekey`, plaintext before the signature, key
//! text echoed, a manifest read twice, a previous manifest trusted, JSON
//! that is not JSON, manifest paths that leave the release, weak trust
//! anchors.

use std::fs;
use std::io::Write;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use assert_cmd::Command;
use predicates::prelude::PredicateBooleanExt;
use tempfile::TempDir;

const KEY_HEX: &str = "7dcd0d969bfb71a480cd1c075878464dc9678de1ed782c2da25b6683d31322ed";
const NEW_KEY_HEX: &str = "0000000000000000000000000000000000000000000000000000000000000001";

fn ava3_bin() -> PathBuf {
    std::env::var_os("AVA3_TEST_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| assert_cmd::cargo::cargo_bin("ava3"))
}

fn model(len: usize, seed: u32) -> Vec<u8> {
    let mut v: Vec<u8> = (0..len as u32)
        .map(|i| (i.wrapping_add(seed)).wrapping_mul(2654435761) as u8)
        .collect();
    v[..8].copy_from_slice(b"GGUF\x03\0\0\0");
    v
}

/// A folder with the development key (`dev.key`), a new key (`new.key`)
/// and two publisher key pairs: `pub.key` (the publisher) and
/// `mallory.key` (someone else).
struct Release {
    dir: TempDir,
}

impl Release {
    fn new() -> Self {
        let r = Self {
            dir: TempDir::new().unwrap(),
        };
        r.key("dev.key", KEY_HEX);
        r.key("new.key", NEW_KEY_HEX);
        for k in ["pub.key", "mallory.key"] {
            r.cmd()
                .args(["keygen", "--signing", "-o", k])
                .assert()
                .success();
        }
        r
    }
    fn path(&self, p: &str) -> PathBuf {
        self.dir.path().join(p)
    }
    fn write(&self, p: &str, data: &[u8]) {
        let path = self.path(p);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, data).unwrap();
    }
    fn key(&self, name: &str, hex: &str) {
        self.write(name, format!("{hex}\n").as_bytes());
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(self.path(name), fs::Permissions::from_mode(0o600)).unwrap();
    }
    fn cmd(&self) -> Command {
        let mut c = Command::new(ava3_bin());
        c.current_dir(self.dir.path())
            .env_remove("AVA3_KEY")
            .env_remove("AVA3_KEY_FILE")
            .env_remove("AVA3_SIGNER_FILE")
            .env_remove("AVA3_SIGNING_KEY_FILE")
            .env_remove("AVA3_VERIFY_REQUIRE")
            .timeout(Duration::from_secs(60));
        c
    }
    fn keyed(&self) -> Command {
        let mut c = self.cmd();
        c.env("AVA3_KEY_FILE", self.path("dev.key"));
        c
    }
    /// `rel/`: two models batch-encoded and signed by the publisher at
    /// model version 8, with a signed manifest.
    fn signed_release(&self) {
        self.write("in/a.amg", &model(70_000, 1));
        self.write("in/sub/b.amg", &model(9_000, 2));
        self.keyed()
            .args(["encode", "in", "--batch", "-o", "rel", "-q"])
            .args(["--sign", "pub.key", "--model-version", "8"])
            .assert()
            .success();
    }
    /// A model encoded with the master key alone, as a thief of the master
    /// key would: named `assistant`, version 99, unsigned.
    fn plant(&self, out: &str) {
        self.write("evil.amg", &model(5_000, 666));
        self.keyed()
            .args(["encode", "-q", "evil.amg", "-o", out])
            .args(["--name", "assistant", "--model-version", "99"])
            .assert()
            .success();
    }
    /// `rekey INPUT --new-key-file new.key --sign pub.key -o OUT` with the
    /// development key as the old one.
    fn rekey_signed(&self, input: &str, out: &str) -> Command {
        let mut c = self.keyed();
        c.args([
            "rekey",
            input,
            "--new-key-file",
            "new.key",
            "--sign",
            "pub.key",
        ])
        .args(["-o", out]);
        c
    }
    fn manifest(&self, p: &str) -> serde_json::Value {
        serde_json::from_slice(&fs::read(self.path(p)).unwrap()).unwrap()
    }
}

/// `rekey --sign` re-signs only what a trusted key signed. A file
/// planted beside a signed release (and listed in its manifest) is not
/// turned into a publisher-signed one during the rotation.
#[test]
fn rekey_never_signs_a_planted_file() {
    let r = Release::new();
    r.signed_release();
    r.plant("rel/planted.amg.ava3");
    // Listed in the manifest too: its signature no longer verifies.
    let mut m = r.manifest("rel/ava3-manifest.json");
    let mut entry = m["files"][0].clone();
    entry["output"] = "planted.amg.ava3".into();
    m["files"].as_array_mut().unwrap().push(entry);
    r.write("rel/ava3-manifest.json", m.to_string().as_bytes());
    let out = r.rekey_signed("rel", "rot").output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("ava3-manifest.json"), "{err}");
    assert!(!r.path("rot/planted.amg.ava3").exists());
    assert!(!r.path("rot/ava3-manifest.json").exists());
}

/// The manifest untouched, a file alone planted:
/// every genuine file is rotated, the planted one refused, and the new
/// manifest lists only what was re-signed. One file is refused unless the
/// risk is named; a file signed by another key never is re-signed.
#[test]
fn rekey_re_signs_only_what_a_trusted_key_signed() {
    let r = Release::new();
    r.signed_release();
    r.plant("rel/planted.amg.ava3");
    let out = r.rekey_signed("rel", "rot2").output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("planted.amg.ava3") && err.contains("unsigned"),
        "{err}"
    );
    assert!(!r.path("rot2/planted.amg.ava3").exists());
    let m = r.manifest("rot2/ava3-manifest.json");
    assert_eq!(m["files"].as_array().unwrap().len(), 2);
    r.cmd()
        .args(["verify", "-q", "-c", "rot2/ava3-manifest.json"])
        .args(["--signer", "pub.key.pub", "--min-version", "8"])
        .assert()
        .success();

    // One file: refused unless the risk is named.
    r.keyed()
        .args(["rekey", "rel/planted.amg.ava3", "--new-key-file", "new.key"])
        .args(["--sign", "pub.key", "-o", "one.ava3"])
        .assert()
        .code(1)
        .stderr(predicates::str::contains("--sign-unsigned-input"));
    assert!(!r.path("one.ava3").exists());
    r.keyed()
        .args(["rekey", "rel/planted.amg.ava3", "--new-key-file", "new.key"])
        .args([
            "--sign",
            "pub.key",
            "--sign-unsigned-input",
            "-o",
            "one.ava3",
            "-q",
        ])
        .assert()
        .success();

    // Signed by someone else: never re-signed, flag or not.
    r.keyed()
        .args([
            "encode",
            "-q",
            "evil.amg",
            "-o",
            "mallory.ava3",
            "--sign",
            "mallory.key",
        ])
        .assert()
        .success();
    for extra in [&[][..], &["--sign-unsigned-input"][..]] {
        r.keyed()
            .args(["rekey", "mallory.ava3", "--new-key-file", "new.key"])
            .args(["--sign", "pub.key", "-o", "m2.ava3"])
            .args(extra)
            .assert()
            .code(1)
            .stderr(predicates::str::contains("unknown signer"));
    }
    assert!(!r.path("m2.ava3").exists());
}

/// The environment never switches signing on in `rekey`.
#[test]
fn rekey_takes_no_signing_key_from_the_environment() {
    let r = Release::new();
    r.signed_release();
    r.keyed()
        .env("AVA3_SIGNING_KEY_FILE", r.path("pub.key"))
        .args([
            "rekey",
            "rel/a.amg.ava3",
            "--new-key-file",
            "new.key",
            "-o",
            "x.ava3",
        ])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("give --sign KEY"));
    r.plant("planted.ava3");
    r.keyed()
        .env("AVA3_SIGNING_KEY_FILE", r.path("pub.key"))
        .args([
            "rekey",
            "planted.ava3",
            "--new-key-file",
            "new.key",
            "-o",
            "y.ava3",
            "-q",
        ])
        .assert()
        .success();
    // Written unsigned: the publisher's key never touched it.
    r.cmd()
        .args(["verify", "y.ava3", "--signer", "pub.key.pub"])
        .assert()
        .code(1)
        .stdout(predicates::str::contains("unsigned"));
}

/// `decode --signer -o -` writes nothing of a file whose signature
/// fails, and refuses an input that cannot seek before reading it.
#[test]
fn decode_under_a_signer_writes_nothing_before_the_signature() {
    let r = Release::new();
    r.write("m.amg", &model(300_000, 3));
    r.keyed()
        .args([
            "encode",
            "-q",
            "m.amg",
            "-o",
            "mallory.ava3",
            "--sign",
            "mallory.key",
        ])
        .assert()
        .success();
    let out = r
        .keyed()
        .args([
            "decode",
            "mallory.ava3",
            "--signer",
            "pub.key.pub",
            "-o",
            "-",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty(), "{} bytes released", out.stdout.len());
    // A pipe cannot seek: refused before anything is read.
    let mut child = std::process::Command::new(ava3_bin())
        .current_dir(r.path(""))
        .env("AVA3_KEY_FILE", r.path("dev.key"))
        .args(["decode", "-", "--signer", "mallory.key.pub", "-o", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let data = fs::read(r.path("mallory.ava3")).unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let feeder = std::thread::spawn(move || {
        let _ = stdin.write_all(&data);
    });
    let out = child.wait_with_output().unwrap();
    feeder.join().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    assert!(String::from_utf8_lossy(&out.stderr).contains("can seek"));
    // The genuine signer, from a redirected file: decodes.
    let out = std::process::Command::new(ava3_bin())
        .current_dir(r.path(""))
        .env("AVA3_KEY_FILE", r.path("dev.key"))
        .args(["decode", "-", "--signer", "mallory.key.pub", "-o", "-"])
        .stdin(fs::File::open(r.path("mallory.ava3")).unwrap())
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert_eq!(out.stdout, model(300_000, 3));
}

/// No argument or variable that names a key file is ever printed
/// when it holds key material: every key-file argument of every command,
/// and every such variable, given a PEM private key and a 64-hex key.
#[test]
fn key_text_given_where_a_key_file_belongs_is_never_printed() {
    let r = Release::new();
    r.write("m.amg", &model(5_000, 4));
    r.keyed()
        .args(["encode", "-q", "m.amg", "-o", "m.ava3"])
        .assert()
        .success();
    let pem = fs::read_to_string(r.path("pub.key")).unwrap();
    let body = pem.lines().nth(1).unwrap().to_string();
    // The armoured file, its base64 body line alone (which holds the whole
    // seed), and a master key's hex.
    let secrets = [
        pem.clone(),
        body.clone(),
        KEY_HEX.to_string(),
        format!("  {KEY_HEX}\n"),
    ];
    let flagged: &[(&[&str], &str)] = &[
        (
            &["encode", "-q", "m.amg", "-o", "s.ava3", "--sign"],
            "encode --sign",
        ),
        (
            &["encode", "-q", "m.amg", "-o", "s.ava3", "--key-file"],
            "encode --key-file",
        ),
        (&["verify", "m.ava3", "--signer"], "verify --signer"),
        (&["verify", "m.ava3", "--key-file"], "verify --key-file"),
        (
            &["decode", "m.ava3", "-o", "d", "--signer"],
            "decode --signer",
        ),
        (
            &["decode", "m.ava3", "-o", "d", "--key-file"],
            "decode --key-file",
        ),
        (
            &[
                "rekey",
                "m.ava3",
                "-o",
                "r",
                "--new-key-file",
                "new.key",
                "--sign",
            ],
            "rekey --sign",
        ),
        (
            &[
                "rekey",
                "m.ava3",
                "-o",
                "r",
                "--new-key-file",
                "new.key",
                "--key-file",
            ],
            "rekey --key-file",
        ),
        (
            &[
                "rekey",
                "m.ava3",
                "-o",
                "r",
                "--sign",
                "pub.key",
                "--new-key-file",
            ],
            "rekey --new-key-file",
        ),
        (
            &[
                "rekey",
                "m.ava3",
                "-o",
                "r",
                "--new-key-file",
                "new.key",
                "--sign",
                "pub.key",
                "--signer",
            ],
            "rekey --signer",
        ),
    ];
    let envs: &[(&[&str], &str)] = &[
        (
            &["encode", "-q", "m.amg", "-o", "s.ava3"],
            "AVA3_SIGNING_KEY_FILE",
        ),
        (&["verify", "m.ava3"], "AVA3_SIGNER_FILE"),
        (&["decode", "m.ava3", "-o", "d"], "AVA3_SIGNER_FILE"),
        (&["verify", "m.ava3"], "AVA3_KEY_FILE"),
    ];
    let check = |what: &str, out: std::process::Output| {
        let all = [out.stdout, out.stderr].concat();
        let text = String::from_utf8_lossy(&all);
        assert!(!out.status.success(), "{what}: {text}");
        for needle in [body.as_str(), &KEY_HEX[..32], &KEY_HEX[32..], "PRIVATE KEY"] {
            assert!(!text.contains(needle), "{what} printed key text: {text}");
        }
    };
    let mut checked = 0;
    for secret in &secrets {
        for (args, what) in flagged {
            let (flag, rest) = args.split_last().unwrap();
            // --flag=VALUE and --flag VALUE.
            let out = r
                .keyed()
                .args(rest)
                .arg(format!("{flag}={secret}"))
                .output()
                .unwrap();
            check(what, out);
            let out = r.keyed().args(rest).arg(flag).arg(secret).output().unwrap();
            check(what, out);
            checked += 2;
        }
        for (args, var) in envs {
            let mut c = if *var == "AVA3_KEY_FILE" {
                r.cmd()
            } else {
                r.keyed()
            };
            check(var, c.args(*args).env(var, secret).output().unwrap());
            checked += 1;
        }
    }
    assert_eq!(checked, 4 * (2 * flagged.len() + envs.len()));
}

/// `verify -c MANIFEST --signer` reads the manifest once and checks
/// and parses the same bytes: a manifest that can be read only once (a
/// FIFO) verifies, where reading it twice would block.
#[test]
fn a_signed_manifest_is_read_once() {
    let r = Release::new();
    r.signed_release();
    let bytes = fs::read(r.path("rel/ava3-manifest.json")).unwrap();
    fs::rename(r.path("rel/ava3-manifest.json"), r.path("rel/saved.json")).unwrap();
    let fifo = r.path("rel/ava3-manifest.json");
    assert!(std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    let writer = std::thread::spawn(move || {
        let mut f = fs::OpenOptions::new().write(true).open(fifo).unwrap();
        f.write_all(&bytes).unwrap();
    });
    r.cmd()
        .args([
            "verify",
            "-q",
            "-c",
            "rel/ava3-manifest.json",
            "--signer",
            "pub.key.pub",
        ])
        .timeout(Duration::from_secs(20))
        .assert()
        .success();
    writer.join().unwrap();
}

/// The signature file holds Ed25519
/// signatures over "AVA3-manifest-v1" NUL and the manifest, which OpenSSL
/// checks; the raw manifest bytes' signature (the old scheme) is refused.
#[test]
fn the_manifest_signature_is_labelled_and_openssl_checks_it() {
    let r = Release::new();
    r.signed_release();
    let mut msg = b"AVA3-manifest-v1\0".to_vec();
    msg.extend(fs::read(r.path("rel/ava3-manifest.json")).unwrap());
    r.write("msg", &msg);
    let ok = std::process::Command::new("openssl")
        .current_dir(r.path(""))
        .args([
            "pkeyutl",
            "-verify",
            "-pubin",
            "-inkey",
            "pub.key.pub",
            "-rawin",
        ])
        .args(["-in", "msg", "-sigfile", "rel/ava3-manifest.json.sig"])
        .output()
        .unwrap();
    assert!(ok.status.success(), "{ok:?}");
    // A signature over the bare bytes (what a plain `openssl pkeyutl -sign`
    // of the manifest makes) is not a manifest signature.
    let raw = std::process::Command::new("openssl")
        .current_dir(r.path(""))
        .args(["pkeyutl", "-sign", "-inkey", "pub.key", "-rawin"])
        .args([
            "-in",
            "rel/ava3-manifest.json",
            "-out",
            "rel/ava3-manifest.json.sig",
        ])
        .output()
        .unwrap();
    assert!(raw.status.success(), "{raw:?}");
    r.cmd()
        .args([
            "verify",
            "-q",
            "-c",
            "rel/ava3-manifest.json",
            "--signer",
            "pub.key.pub",
        ])
        .assert()
        .code(1)
        .stderr(predicates::str::contains("bad signature"));
}

/// `encode --batch --sign` rebuilds what it carries over from the
/// output files; values edited into the previous manifest are not signed.
#[test]
fn a_rerun_does_not_sign_what_the_old_manifest_claims() {
    let r = Release::new();
    r.signed_release();
    let genuine = r.manifest("rel/ava3-manifest.json");
    let mut m = genuine.clone();
    for e in m["files"].as_array_mut().unwrap() {
        e["plaintext_sha256"] = "00".repeat(32).into();
        e["payload_kind"] = "mlc".into();
        e["model_version"] = 12345.into();
        e["output_sha256"] = "11".repeat(32).into();
    }
    r.write("rel/ava3-manifest.json", m.to_string().as_bytes());
    // The edited manifest is not the run's (its signature fails): nothing
    // in it counts, every output is made again, and what gets signed is
    // what the files are.
    r.keyed()
        .args(["encode", "in", "--batch", "-o", "rel", "-q", "--json"])
        .args(["--sign", "pub.key", "--model-version", "8"])
        .assert()
        .success()
        .stdout(predicates::str::contains("up-to-date").not());
    let again = r.manifest("rel/ava3-manifest.json");
    let key = |v: &serde_json::Value| {
        let mut files = v["files"].as_array().unwrap().clone();
        files.sort_by_key(|e| e["output"].as_str().unwrap().to_string());
        files
            .iter()
            .map(|e| {
                [
                    "source",
                    "size",
                    "plaintext_sha256",
                    "payload_kind",
                    "model_version",
                ]
                .map(|k| e[k].clone())
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(key(&again), key(&genuine));
    // A manifest the run signed makes its outputs up to date, each entry
    // rebuilt from its file (the same values).
    let before = r.manifest("rel/ava3-manifest.json");
    r.keyed()
        .args(["encode", "in", "--batch", "-o", "rel", "-q", "--json"])
        .args(["--sign", "pub.key", "--model-version", "8"])
        .assert()
        .success()
        .stdout(predicates::str::contains("\"status\":\"encoded\"").not());
    assert_eq!(
        r.manifest("rel/ava3-manifest.json")["files"],
        before["files"]
    );
}

/// `--json` is JSON whatever a name or a path holds: DEL, the C1
/// controls, every C0 control, a path that is not UTF-8.
#[test]
fn json_output_is_json_for_every_control_character() {
    use std::os::unix::ffi::OsStrExt;
    let r = Release::new();
    r.write("m.amg", &model(5_000, 5));
    let names: Vec<String> = (1u32..0x20)
        .chain([0x7f, 0x85, 0x9b])
        .map(|c| format!("model{}x", char::from_u32(c).unwrap()))
        .collect();
    for (i, name) in names.iter().enumerate() {
        let out = format!("j{i}.ava3");
        r.keyed()
            .args(["encode", "-q", "m.amg", "-o", &out, "--name", name])
            .assert()
            .success();
        for args in [&["inspect", "--json"][..], &["verify", "--json"][..]] {
            let got = r.cmd().args(args).arg(&out).output().unwrap();
            assert!(got.status.success(), "{args:?} {got:?}");
            let v: serde_json::Value = serde_json::from_slice(&got.stdout)
                .unwrap_or_else(|e| panic!("{args:?} {name:?}: {e}: {:?}", got.stdout));
            assert_eq!(v["model_name"].as_str(), Some(name.as_str()), "{args:?}");
            assert!(!got
                .stdout
                .iter()
                .any(|&b| b == 0x7f || (b < 0x20 && b != b'\n')));
        }
    }
    // A file name that is not UTF-8 appears with U+FFFD.
    let odd = std::ffi::OsStr::from_bytes(b"m\xff\x85.ava3");
    fs::copy(r.path("j0.ava3"), r.path("").join(odd)).unwrap();
    let got = r
        .cmd()
        .args(["verify", "--json"])
        .arg(odd)
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&got.stdout).unwrap();
    assert_eq!(v["path"].as_str(), Some("m\u{fffd}\u{fffd}.ava3"));
}

/// A manifest no trusted key signed lists only files of its
/// release: an absolute path or a `..` escape is refused, and a FIFO entry
/// is refused without blocking.
#[test]
fn an_unsigned_manifest_opens_only_regular_files_of_its_release() {
    let r = Release::new();
    r.signed_release();
    let genuine = r.manifest("rel/ava3-manifest.json");
    for bad in ["/etc/hostname", "../../../etc/passwd", "sub/../../x.ava3"] {
        let mut m = genuine.clone();
        m["files"][0]["output"] = bad.into();
        r.write("rel/ava3-manifest.json", m.to_string().as_bytes());
        r.keyed()
            .args(["verify", "-c", "rel/ava3-manifest.json"])
            .assert()
            .code(1)
            .stderr(predicates::str::contains("refused"));
    }
    let mut m = genuine.clone();
    m["files"][0]["output"] = "fifo.ava3".into();
    r.write("rel/ava3-manifest.json", m.to_string().as_bytes());
    assert!(std::process::Command::new("mkfifo")
        .arg(r.path("rel/fifo.ava3"))
        .status()
        .unwrap()
        .success());
    r.keyed()
        .args(["verify", "-c", "rel/ava3-manifest.json"])
        .timeout(Duration::from_secs(20))
        .assert()
        .code(2)
        .stdout(predicates::str::contains("not a regular file"));
}

/// A master key file, and the identity point,
/// are refused as trusted signers when given, not only when a file fails.
#[test]
fn weak_or_mistaken_trust_anchors_are_refused_when_given() {
    let r = Release::new();
    r.write("m.amg", &model(5_000, 6));
    r.keyed()
        .args(["encode", "-q", "m.amg", "-o", "m.ava3", "--sign", "pub.key"])
        .assert()
        .success();
    r.cmd()
        .args(["verify", "m.ava3", "--signer", "dev.key"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("master key"));
    // The identity point (y = 1) as an SPKI PEM.
    let mut der = hex_bytes("302a300506032b6570032100");
    let mut identity = [0u8; 32];
    identity[0] = 1;
    der.extend_from_slice(&identity);
    let pem = format!(
        "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n",
        base64(&der)
    );
    r.write("identity.pub", pem.as_bytes());
    r.cmd()
        .args(["verify", "m.ava3", "--signer", "identity.pub"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("weak"));
}

fn hex_bytes(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn base64(data: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for c in data.chunks(3) {
        let n = c
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &b)| n | (b as u32) << (16 - 8 * i));
        for i in 0..4 {
            if i <= c.len() {
                out.push(T[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// A listed file replaced by
/// a link to another listed file (or a folder link that makes two entries
/// one file) made `verify -c --signer` check one file for both and pass.
#[test]
fn a_listed_file_replaced_by_a_link_fails_the_release_check() {
    let r = Release::new();
    r.signed_release();
    fs::copy(r.path("rel/sub/b.amg.ava3"), r.path("rel/b.amg.ava3")).unwrap();
    fs::remove_file(r.path("rel/a.amg.ava3")).unwrap();
    std::os::unix::fs::symlink("b.amg.ava3", r.path("rel/a.amg.ava3")).unwrap();
    let mut m = r.manifest("rel/ava3-manifest.json");
    // Only the link matters here: list b at the top too (a signed manifest
    // would have to be the publisher's, so this one is checked unsigned).
    let mut b = m["files"][1].clone();
    b["output"] = "b.amg.ava3".into();
    m["files"].as_array_mut().unwrap().push(b);
    r.write("rel/ava3-manifest.json", m.to_string().as_bytes());
    r.keyed()
        .args(["verify", "-q", "-c", "rel/ava3-manifest.json"])
        .assert()
        .code(1)
        .stderr(predicates::str::contains("replaced by a link"));
}

/// A folder rekey re-signed a manifest whose files
/// had been swapped (each a genuine signed file, at the other's path).
#[test]
fn a_folder_rekey_refuses_a_file_that_is_not_the_one_listed() {
    let r = Release::new();
    r.signed_release();
    fs::copy(r.path("rel/sub/b.amg.ava3"), r.path("rel/a.amg.ava3")).unwrap();
    r.rekey_signed("rel", "rot")
        .arg("-q")
        .assert()
        .code(1)
        .stderr(predicates::str::contains(
            "not the file the release manifest lists",
        ));
    assert!(!r.path("rot/a.amg.ava3").exists());
    let m = r.manifest("rot/ava3-manifest.json");
    assert_eq!(m["files"].as_array().unwrap().len(), 1);
}

/// `AVA3_SIGNER_FILE` replaced rekey's trust set, so
/// a file signed by someone else came out signed by the publisher.
#[test]
fn rekey_takes_no_trusted_key_from_the_environment() {
    let r = Release::new();
    r.write("m.amg", &model(5_000, 7));
    r.keyed()
        .args([
            "encode",
            "-q",
            "m.amg",
            "-o",
            "m.ava3",
            "--sign",
            "mallory.key",
        ])
        .assert()
        .success();
    r.keyed()
        .env("AVA3_SIGNER_FILE", r.path("mallory.key.pub"))
        .args([
            "rekey",
            "m.ava3",
            "--new-key-file",
            "new.key",
            "--sign",
            "pub.key",
        ])
        .args(["-o", "out.ava3"])
        .assert()
        .code(1)
        .stderr(predicates::str::contains("unknown signer"));
    assert!(!r.path("out.ava3").exists());
}

/// A re-run of `encode --batch --sign` took "up to
/// date" from an edited manifest (an older signed output put back, its
/// digest written into the manifest) and signed the stale output as
/// current. A manifest this run's keys did not sign vouches for nothing.
#[test]
fn a_signed_batch_rerun_trusts_only_a_manifest_it_signed() {
    let r = Release::new();
    let sign = ["--sign", "pub.key", "--model-version", "8"];
    r.write("in/a.amg", &model(5_000, 1));
    r.keyed()
        .args(["encode", "in", "--batch", "-o", "rel", "-q"])
        .args(sign)
        .assert()
        .success();
    let v1 = fs::read(r.path("rel/a.amg.ava3")).unwrap();
    let v1_entry = r.manifest("rel/ava3-manifest.json")["files"][0].clone();
    r.write("in/a.amg", &model(5_000, 2));
    r.keyed()
        .args(["encode", "in", "--batch", "-o", "rel", "-q"])
        .args(sign)
        .assert()
        .success();
    // Put the old output back and make the (now unsigned) manifest say so.
    r.write("rel/a.amg.ava3", &v1);
    let mut m = r.manifest("rel/ava3-manifest.json");
    m["files"][0]["output_keyless_sha256"] = v1_entry["output_keyless_sha256"].clone();
    r.write("rel/ava3-manifest.json", m.to_string().as_bytes());
    r.keyed()
        .args(["encode", "in", "--batch", "-o", "rel", "--json"])
        .args(sign)
        .assert()
        .success()
        .stdout(predicates::str::contains("\"status\":\"encoded\""));
    let out = r
        .keyed()
        .args(["decode", "rel/a.amg.ava3", "-o", "-"])
        .output()
        .unwrap();
    assert_eq!(out.stdout, model(5_000, 2), "the stale output was kept");
}

/// A FIFO (or a device) where the manifest's
/// signature file belongs blocked `verify -c --signer` forever.
#[test]
fn a_signature_file_that_is_not_a_regular_file_is_refused() {
    let r = Release::new();
    r.signed_release();
    fs::remove_file(r.path("rel/ava3-manifest.json.sig")).unwrap();
    assert!(std::process::Command::new("mkfifo")
        .arg(r.path("rel/ava3-manifest.json.sig"))
        .status()
        .unwrap()
        .success());
    r.cmd()
        .args([
            "verify",
            "-q",
            "-c",
            "rel/ava3-manifest.json",
            "--signer",
            "pub.key.pub",
        ])
        .timeout(Duration::from_secs(20))
        .assert()
        .code(1)
        .stderr(predicates::str::contains("not a regular file"));
}
