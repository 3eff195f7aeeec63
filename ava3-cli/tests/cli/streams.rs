//! Standard input and output in every command: `-`, `--json`, and a closed
//! pipe on standard output.

use std::fs;
use std::process::{Command as StdCommand, Stdio};

use predicates::prelude::*;

use crate::{ava3_bin, sample_gguf, shard, Env};

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
