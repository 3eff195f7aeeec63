//! What a new user meets in a first hour that used to pass silently or
//! say too little: a batch with nothing to encode, the output folder given
//! as the input, `ava3` alone, a mistyped command or flag.

use std::fs;
use std::path::PathBuf;

use assert_cmd::Command;
use predicates::prelude::*;
use tempfile::TempDir;

fn ava3_bin() -> PathBuf {
    std::env::var_os("AVA3_TEST_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| assert_cmd::cargo::cargo_bin("ava3"))
}

fn cmd(dir: &TempDir) -> Command {
    let mut c = Command::new(ava3_bin());
    c.current_dir(dir.path())
        .env_remove("AVA3_KEY")
        .env_remove("AVA3_SIGNING_KEY_FILE")
        .env("AVA3_KEY_FILE", dir.path().join("dev.key"));
    c
}

fn folder() -> TempDir {
    let dir = TempDir::new().unwrap();
    let key = dir.path().join("dev.key");
    fs::write(
        &key,
        "7dcd0d969bfb71a480cd1c075878464dc9678de1ed782c2da25b6683d31322ed\n",
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(&key, fs::Permissions::from_mode(0o600)).unwrap();
    dir
}

/// `encode models/ --batch -o models/` encoded nothing and exited 0 with an
/// empty manifest, and so did an input folder without a model: a release
/// step "passed" and only a later `verify -c` failed.
#[test]
fn a_batch_with_nothing_to_encode_is_an_error() {
    let dir = folder();
    fs::create_dir_all(dir.path().join("models")).unwrap();
    fs::write(dir.path().join("models/m.amg"), b"GGUF\x03\0\0\0 weights").unwrap();
    cmd(&dir)
        .args(["encode", "models", "--batch", "-o", "models"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "the output folder is the input folder",
        ));
    assert!(!dir.path().join("models/ava3-manifest.json").exists());
    fs::create_dir_all(dir.path().join("empty")).unwrap();
    fs::write(dir.path().join("empty/readme.txt"), b"no model here").unwrap();
    cmd(&dir)
        .args(["encode", "empty", "--batch", "-o", "out"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "no .amm, .amg or .amr file below empty (1 other entries skipped)",
        ));
    assert!(
        !dir.path().join("out").exists(),
        "no output folder, no empty manifest"
    );
    // A folder with a model still encodes.
    cmd(&dir)
        .args(["encode", "models", "--batch", "-o", "out", "-q"])
        .assert()
        .success();
    assert!(dir.path().join("out/ava3-manifest.json").exists());
}

/// `ava3` alone listed no command; a mistyped command or flag lost clap's
/// "did you mean" in the one-line error.
#[test]
fn ava3_alone_lists_the_commands_and_typos_get_a_suggestion() {
    let dir = folder();
    cmd(&dir)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("Commands:").and(predicate::str::contains("encode")));
    cmd(&dir)
        .arg("encdoe")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("'encode'").and(predicate::str::contains("similar")));
    cmd(&dir)
        .args(["verify", "--requre", "keyed", "x.ava3"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "a similar argument exists: '--require'",
        ));
}

/// `ava3 manpage` wrote only the top page, which refers to `ava3-encode(1)`
/// and the other per-command pages.
#[test]
fn manpage_dir_writes_a_page_per_command() {
    let dir = folder();
    fs::create_dir_all(dir.path().join("man")).unwrap();
    cmd(&dir)
        .args(["manpage", "--dir", "man"])
        .assert()
        .success();
    for page in [
        "ava3",
        "ava3-encode",
        "ava3-verify",
        "ava3-inspect",
        "ava3-decode",
        "ava3-keygen",
        "ava3-rekey",
    ] {
        let text = fs::read_to_string(dir.path().join(format!("man/{page}.1"))).unwrap();
        assert!(
            text.starts_with(".ie") || text.contains(".TH"),
            "{page}: {text}"
        );
    }
}

/// `encode --allow-mismatch` exited 0 silently, and the file then failed
/// every keyed `verify` with no flag to accept it.
#[test]
fn allow_mismatch_is_said_at_encode_and_accepted_by_verify() {
    let dir = folder();
    fs::write(dir.path().join("m.amg"), vec![7u8; 5000]).unwrap();
    cmd(&dir)
        .args(["encode", "m.amg", "-o", "m.ava3", "--allow-mismatch", "-q"])
        .assert()
        .success()
        .stderr(predicate::str::contains("warning").and(predicate::str::contains("kind mismatch")));
    cmd(&dir)
        .args(["verify", "m.ava3"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("--allow-mismatch"));
    cmd(&dir)
        .args(["verify", "-q", "m.ava3", "--allow-mismatch"])
        .assert()
        .success();
}

/// `verify nosuch.ava3` said `FAILED (keyed)` and "1 of 1 files failed
/// verification", as if the file had been checked and found bad: a file
/// that cannot be read is an error, not a check, and exits 2.
#[test]
fn verify_of_a_missing_file_does_not_claim_a_check() {
    let dir = folder();
    cmd(&dir)
        .args(["verify", "nosuch.ava3"])
        .assert()
        .code(2)
        .stdout(
            predicate::str::contains("ERROR (not checked)")
                .and(predicate::str::contains("FAILED").not()),
        )
        .stderr(
            predicate::str::contains("1 could not be read")
                .and(predicate::str::contains("1 of 1 files could not be read")),
        );
}

/// A signed encode's success line named neither the signer, nor the model
/// name and version it recorded; its JSON now has them too.
#[test]
fn a_signed_encode_says_who_signed_and_what_it_recorded() {
    let dir = folder();
    fs::write(dir.path().join("m.amg"), b"GGUF\x03\0\0\0 weights").unwrap();
    cmd(&dir)
        .args(["keygen", "--signing", "-o", "publisher.key"])
        .assert()
        .success();
    let out = cmd(&dir)
        .args([
            "encode",
            "m.amg",
            "--sign",
            "publisher.key",
            "--name",
            "tiny",
        ])
        .args(["--model-version", "3"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let line = String::from_utf8(out).unwrap();
    let id = {
        let o = cmd(&dir)
            .args(["inspect", "--json", "m.amg.ava3"])
            .output()
            .unwrap();
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        v["signers"][0].as_str().unwrap().to_string()
    };
    assert!(
        line.contains(&format!("signed by {id}, model tiny, version 3")),
        "{line}"
    );
    let o = cmd(&dir)
        .args([
            "encode",
            "m.amg",
            "-o",
            "j.ava3",
            "--json",
            "--sign",
            "publisher.key",
        ])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["signers"][0], id.as_str());
}

/// `encode -` without `-o` writes to standard output; the help said the
/// default was INPUT.ava3 without the exception.
#[test]
fn encode_help_says_where_standard_input_goes() {
    let dir = folder();
    cmd(&dir)
        .args(["encode", "--help"])
        .assert()
        .success()
        .stdout(predicate::str::contains("standard output when INPUT is -"));
}

/// The JSON of `verify` names every level as the README documents them
/// (`keyless`, `signed`, `keyed`, `keyed+signed`, `deep`, `deep+signed`)
/// and carries the documented fields of a signed file.
#[test]
fn verify_json_levels_and_fields_are_the_documented_ones() {
    let dir = folder();
    fs::write(dir.path().join("m.amg"), b"GGUF\x03\0\0\0 weights").unwrap();
    cmd(&dir)
        .args(["keygen", "--signing", "-o", "publisher.key"])
        .assert()
        .success();
    cmd(&dir)
        .args([
            "encode",
            "m.amg",
            "--sign",
            "publisher.key",
            "--name",
            "tiny",
        ])
        .args(["--model-version", "3", "-q"])
        .assert()
        .success();
    let readme = fs::read_to_string(manifest_dir().join("../README.md")).unwrap();
    let cases: [(&[&str], &str); 6] = [
        (&["--no-key"], "keyless"),
        (&["--no-key", "--signer", "publisher.key.pub"], "signed"),
        (&[], "keyed"),
        (&["--signer", "publisher.key.pub"], "keyed+signed"),
        (&["--deep"], "deep"),
        (&["--deep", "--signer", "publisher.key.pub"], "deep+signed"),
    ];
    for (flags, level) in cases {
        let mut c = cmd(&dir);
        if flags.first() == Some(&"--no-key") {
            c.env_remove("AVA3_KEY_FILE");
        }
        let flags: Vec<&str> = flags.iter().copied().filter(|f| *f != "--no-key").collect();
        let o = c
            .args(["verify", "--json", "m.amg.ava3"])
            .args(&flags)
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "{level}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(v["level"], level, "{v}");
        assert!(
            readme.contains(&format!("`{level}`")),
            "README does not document {level}"
        );
        assert_eq!(v["model_name"], "tiny");
        assert_eq!(v["model_version"], 3);
        for field in [
            "path",
            "status",
            "outcome",
            "payload_kind",
            "key_id",
            "keyless_sha256",
        ] {
            assert!(v.get(field).is_some(), "{level}: no {field} in {v}");
            assert!(
                readme.contains(&format!("`{field}`")),
                "README does not document {field}"
            );
        }
        assert_eq!(v.get("signer").is_some(), level.contains("signed"), "{v}");
    }
}

/// This package's folder as cargo gives it when the test runs: a binary
/// reused from a shared target folder may have been compiled in another
/// checkout (since removed), whose path `env!` would still name.
fn manifest_dir() -> PathBuf {
    let dir = std::env::var_os("CARGO_MANIFEST_DIR");
    dir.map_or_else(|| env!("CARGO_MANIFEST_DIR").into(), Into::into)
}
