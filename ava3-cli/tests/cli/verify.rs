//! `ava3 verify`: keyless, keyed and deep checks, `--require`, exit statuses,
//! payload kinds, and `verify -c MANIFEST`.

use std::fs;
use std::process::Command as StdCommand;

use predicates::prelude::*;

use crate::{sample_gguf, sha256_hex, shard, Env};

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
