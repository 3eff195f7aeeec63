//! Publisher signatures across commands: `keygen --signing`, `encode --sign`,
//! `verify --signer`, `rekey --sign`, and signed batch manifests.

use std::fs;

use predicates::prelude::*;

use crate::{openssl_verifies, sample_gguf, shard, Env, OTHER_KEY_HEX};

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
    assert!(openssl_verifies(
        &env,
        "pub.key.pub",
        b"AVA3-manifest-v1\0",
        &fs::read(&manifest).unwrap(),
        &env.path("out/ava3-manifest.json.sig")
    ));
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
