//! `ava3 encode` of one file: content that does not match its extension, AVA3
//! input, `--force`, and a FIFO as the input.

use std::fs;
use std::process::Command as StdCommand;

use predicates::prelude::*;

use crate::{no_temp_files, sample_gguf, shard, Env};

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
