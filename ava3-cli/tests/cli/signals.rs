//! Signals and `SIGKILL` during encode, batch, decode and rekey leave no
//! temporary file and no plaintext.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command as StdCommand, Stdio};

use crate::{no_temp_files, walk, Env};

/// SIGINT, SIGTERM and SIGHUP during encode,
/// batch, decode and rekey remove the temporary file before the process
/// exits: no partial output, no partial plaintext.
#[cfg(unix)]
#[test]
fn signals_leave_no_temporary_file() {
    let env = Env::with_big_model();
    let decode: &[&str] = &["decode", "m.amm.ava3", "-o", "out/plain.amm"];
    let encode: &[&str] = &["encode", "big/m.amm", "-o", "out/m.amm.ava3"];
    let rekey: &[&str] = &[
        "rekey",
        "m.amm.ava3",
        "--new-key-file",
        "other.key",
        "-o",
        "out/r.ava3",
    ];
    let batch: &[&str] = &["encode", "big", "--batch", "-o", "out", "-j", "1"];
    let runs = [
        ("INT", decode),
        ("TERM", decode),
        ("HUP", decode),
        ("TERM", encode),
        ("HUP", rekey),
        ("INT", batch),
    ];
    for (sig, args) in runs {
        let _ = fs::remove_dir_all(env.path("out"));
        fs::create_dir_all(env.path("out")).unwrap();
        let mut child = env.spawn_keyed(&[args, &["-q"]].concat(), Stdio::piped());
        wait_until_writing(&mut child, &env.path("out"), args);
        if args[0] == "decode" {
            // Plaintext is written to an unnamed file: nothing is named yet.
            let named = walk(&env.path("out"));
            assert!(named.is_empty(), "decode named {named:?} while writing");
        }
        let pid = child.id().to_string();
        assert!(StdCommand::new("kill")
            .args([&format!("-{sig}"), &pid])
            .status()
            .unwrap()
            .success());
        let done = child.wait_with_output().unwrap();
        let status = done.status;
        let stderr = String::from_utf8_lossy(&done.stderr);
        // The shell's status for a death by that signal, and a word why.
        let (code, word) = match sig {
            "INT" => (130, "ava3: interrupted"),
            "TERM" => (143, "ava3: terminated"),
            _ => (129, "ava3: hung up"),
        };
        assert_eq!(status.code(), Some(code), "{sig} {args:?}: {stderr}");
        assert!(stderr.contains(word), "{sig} {args:?}: {stderr:?}");
        let left: Vec<_> = walk(&env.path("out"));
        assert!(
            left.iter().all(|p| !p.to_string_lossy().ends_with(".tmp")),
            "{sig} {args:?} left {left:?}"
        );
        assert!(
            !env.path("out/plain.amm").exists(),
            "{sig}: partial plaintext"
        );
    }
}

/// Waits until `child` has a file open for writing in `dir`: a named
/// temporary file, or (Linux, for plaintext) an unnamed `O_TMPFILE` one,
/// which `/proc/PID/fd` shows as `DIR/#INODE (deleted)`.
fn wait_until_writing(child: &mut std::process::Child, dir: &Path, what: &[&str]) {
    let dir = dir.canonicalize().unwrap();
    let fds = PathBuf::from(format!("/proc/{}/fd", child.id()));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let open_in_dir = fs::read_dir(&fds).into_iter().flatten().flatten().any(|e| {
            fs::read_link(e.path()).is_ok_and(|target| {
                target.parent() == Some(dir.as_path())
                    && fs::metadata(e.path()).is_ok_and(|m| m.len() > 0)
            })
        });
        if open_in_dir {
            return;
        }
        assert!(
            child.try_wait().unwrap().is_none(),
            "{what:?} ended before the signal"
        );
        assert!(std::time::Instant::now() < deadline, "{what:?} never wrote");
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
}

/// On Linux a decode writes its plaintext to an unnamed
/// file (`O_TMPFILE`) linked in only once complete, so even `SIGKILL`,
/// which no handler sees, leaves no plaintext at all; an existing output
/// replaced with `--force` stays whole until the new one is complete.
#[cfg(target_os = "linux")]
#[test]
fn a_killed_decode_leaves_no_plaintext_file() {
    let env = Env::with_big_model();
    for force in [false, true] {
        let _ = fs::remove_dir_all(env.path("out"));
        fs::create_dir_all(env.path("out")).unwrap();
        if force {
            env.write("out/plain.amm", b"the previous model");
        }
        let mut args = vec!["decode", "-q", "m.amm.ava3", "-o", "out/plain.amm"];
        if force {
            args.push("--force");
        }
        let mut child = env.spawn_keyed(&args, Stdio::null());
        wait_until_writing(&mut child, &env.path("out"), &args);
        assert!(StdCommand::new("kill")
            .args(["-KILL", &child.id().to_string()])
            .status()
            .unwrap()
            .success());
        assert!(!child.wait().unwrap().success());
        let left = walk(&env.path("out"));
        if force {
            assert_eq!(left, [env.path("out/plain.amm")], "force: {left:?}");
            assert_eq!(
                fs::read(env.path("out/plain.amm")).unwrap(),
                b"the previous model"
            );
        } else {
            assert!(left.is_empty(), "SIGKILL left {left:?}");
        }
    }
    // Uninterrupted, the same decode links its output in, 0600.
    env.keyed()
        .args([
            "decode",
            "-q",
            "m.amm.ava3",
            "-o",
            "out/plain.amm",
            "--force",
        ])
        .assert()
        .success();
    let meta = fs::metadata(env.path("out/plain.amm")).unwrap();
    assert_eq!(meta.len(), 256 << 20);
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    no_temp_files(&env.path("out"));
}
