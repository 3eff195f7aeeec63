//! Help, completions, the man page, the team manual's command lines, and the
//! messages every command prints: usage errors, usual mistakes, escaped file
//! names.

use std::fs;

use assert_cmd::Command;
use predicates::prelude::*;

use crate::{ava3_bin, no_temp_files, sample_gguf, set_mode, shard, tflite_like, Env};

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
