//! Key sources (`--key-file`, `AVA3_KEY_FILE`, `AVA3_KEY`), key file
//! permissions, a wrong key (exit 3) and key text never echoed.

use std::fs;

use predicates::prelude::*;

use crate::{no_temp_files, sample_gguf, set_mode, shard, Env, KEY_HEX, OTHER_KEY_HEX};

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
