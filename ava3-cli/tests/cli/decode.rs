//! `ava3 decode`: no plaintext from a bad file, no binary data to a terminal,
//! and private file modes for plaintext.

use std::fs;
use std::process::Command as StdCommand;

use predicates::prelude::*;

use crate::{ava3_bin, no_temp_files, sample_gguf, set_mode, shard, Env};

#[test]
fn decode_of_a_bad_file_leaves_no_plaintext() {
    let env = Env::new();
    env.write("m.amm", &shard(1_000_000));
    env.keyed().args(["encode", "m.amm"]).assert().success();
    let mut f = fs::read(env.path("m.amm.ava3")).unwrap();
    let n = f.len();
    f[n - 200] ^= 1; // the final block
    env.write("bad.ava3", &f);
    env.keyed()
        .args(["decode", "bad.ava3", "-o", "out.amm"])
        .assert()
        .code(1)
        .stderr(predicate::str::starts_with("ava3: error: "))
        .stderr(predicate::str::contains("block 15 failed authentication"));
    assert!(!env.path("out.amm").exists());
    no_temp_files(env.dir.path());
    // Errors are one line.
    let out = env
        .keyed()
        .args(["decode", "bad.ava3", "-o", "out.amm"])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stderr).lines().count(), 1);
}

/// On a terminal, decode refuses before it decodes anything or
/// draws a progress bar (a real pseudo-terminal, through `script`).
#[cfg(target_os = "linux")]
#[test]
fn decode_to_a_terminal_is_refused_before_any_output() {
    let env = Env::new();
    env.write("big.amm", &shard(3 << 20));
    env.keyed()
        .args(["encode", "big.amm", "-q"])
        .assert()
        .success();
    let bin = ava3_bin();
    let out = StdCommand::new("script")
        .args(["-qec"])
        .arg(format!("{} decode big.amm.ava3 -o -", bin.display()))
        .arg("/dev/null")
        .current_dir(env.dir.path())
        .env("AVA3_KEY_FILE", env.path("dev.key"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(
        text.contains("refusing to write binary data to a terminal"),
        "{text}"
    );
    assert!(
        !text.contains("decoding"),
        "a progress bar was drawn: {text}"
    );
}

/// Decoded plaintext is 0600 whatever the umask,
/// and a file it replaces never becomes more readable; `.ava3` outputs
/// honour the umask.
#[cfg(unix)]
#[test]
fn decoded_plaintext_is_private_and_ava3_outputs_honour_the_umask() {
    use std::os::unix::fs::PermissionsExt;
    let env = Env::new();
    env.write("m.amg", &sample_gguf());
    let ava3 = ava3_bin();
    let with_umask = |mask: &str, args: &str| {
        let st = StdCommand::new("sh")
            .current_dir(env.dir.path())
            .env("AVA3_KEY_FILE", env.path("dev.key"))
            .env("AVA3", &ava3)
            .arg("-c")
            .arg(format!("umask {mask} && exec \"$AVA3\" {args}"))
            .status()
            .unwrap();
        assert!(st.success(), "{args}");
    };
    let mode = |p: &str| fs::metadata(env.path(p)).unwrap().permissions().mode() & 0o777;
    with_umask("027", "encode -q m.amg -o m.amg.ava3");
    assert_eq!(mode("m.amg.ava3"), 0o640);
    with_umask("000", "decode -q m.amg.ava3 -o plain.amg");
    assert_eq!(mode("plain.amg"), 0o600);
    env.write("open.amg", b"old");
    set_mode(&env.path("open.amg"), 0o644);
    with_umask("000", "decode -q --force m.amg.ava3 -o open.amg");
    assert_eq!(mode("open.amg"), 0o600);
    env.write("locked.amg", b"old");
    set_mode(&env.path("locked.amg"), 0o400);
    with_umask("000", "decode -q --force m.amg.ava3 -o locked.amg");
    assert_eq!(mode("locked.amg"), 0o400);
    assert_eq!(fs::read(env.path("locked.amg")).unwrap(), sample_gguf());
}
