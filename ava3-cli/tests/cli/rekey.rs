//! `ava3 rekey`: one file or a whole folder, with its manifest, moved to a
//! new key.

use std::fs;

use predicates::prelude::*;

use crate::{no_temp_files, sample_gguf, sha256_hex, Env};

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
