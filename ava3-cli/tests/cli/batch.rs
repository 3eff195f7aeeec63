//! `ava3 encode --batch` and its manifest: skipped and failed files, resume,
//! `--force`, link races, and `verify --manifest`.

use std::ffi::OsStr;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command as StdCommand, Stdio};

use predicates::prelude::*;

use crate::{
    ava3_bin, no_temp_files, run_tool, sample_gguf, sha256_hex, shard, tflite_like, walk, Env,
};

#[test]
fn batch_with_good_and_bad_files_then_resume() {
    let env = Env::new();
    env.write("in/a.amg", &sample_gguf());
    env.write("in/sub/b.amr", &tflite_like(90_000));
    env.write("in/sub/deeper/c.amm", &shard(150_000));
    env.write("in/bad.amg", b"this is not gguf");
    env.write("in/readme.md", b"# docs");
    let out = env
        .keyed()
        .args(["encode", "in", "--batch", "-o", "out", "-j", "2", "--json"])
        .assert()
        .code(1)
        .get_output()
        .clone();
    let stdout = String::from_utf8(out.stdout).unwrap();
    let records: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let status = |src: &str| {
        records
            .iter()
            .find(|r| r["source"] == src)
            .map(|r| r["status"].as_str().unwrap().to_string())
    };
    assert_eq!(status("a.amg").as_deref(), Some("encoded"));
    assert_eq!(status("sub/b.amr").as_deref(), Some("encoded"));
    assert_eq!(status("sub/deeper/c.amm").as_deref(), Some("encoded"));
    assert_eq!(status("bad.amg").as_deref(), Some("failed"));
    assert_eq!(status("readme.md").as_deref(), Some("skipped"));
    assert!(env.path("out/sub/deeper/c.amm.ava3").is_file());
    assert!(!env.path("out/bad.amg.ava3").exists());

    // The manifest has the documented fields.
    let m: serde_json::Value =
        serde_json::from_slice(&fs::read(env.path("out/ava3-manifest.json")).unwrap()).unwrap();
    let files = m["files"].as_array().unwrap();
    assert_eq!(files.len(), 3);
    for key in [
        "source",
        "size",
        "plaintext_sha256",
        "output",
        "output_keyless_sha256",
        "key_id",
        "payload_kind",
        "format_version",
    ] {
        assert!(files[0].get(key).is_some(), "manifest field {key}");
    }

    // Fix the bad file and rerun: the others are up to date, only it is encoded.
    fs::remove_file(env.path("in/bad.amg")).unwrap();
    let before = fs::read(env.path("out/a.amg.ava3")).unwrap();
    let out = env
        .keyed()
        .args(["encode", "in", "--batch", "-o", "out", "--json"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    assert_eq!(text.matches("\"up-to-date\"").count(), 3, "{text}");
    assert_eq!(fs::read(env.path("out/a.amg.ava3")).unwrap(), before);

    // --force re-encodes everything.
    env.keyed()
        .args(["encode", "in", "--batch", "-o", "out", "--force", "-q"])
        .assert()
        .success();
    assert_ne!(fs::read(env.path("out/a.amg.ava3")).unwrap(), before);

    // verify --manifest: all match; then one changed, one extra, one missing.
    env.keyed()
        .args(["verify", "out", "--manifest", "out/ava3-manifest.json"])
        .assert()
        .success();
    env.keyed()
        .args([
            "encode",
            "in/a.amg",
            "-o",
            "out/a.amg.ava3",
            "--force",
            "-q",
        ])
        .assert()
        .success();
    fs::copy(env.path("out/a.amg.ava3"), env.path("out/extra.amg.ava3")).unwrap();
    fs::remove_file(env.path("out/sub/b.amr.ava3")).unwrap();
    let out = env
        .keyed()
        .args([
            "verify",
            "out",
            "--manifest",
            "out/ava3-manifest.json",
            "--json",
        ])
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    assert!(text.contains("\"manifest\":\"changed\""), "{text}");
    assert!(text.contains("\"manifest\":\"extra\""), "{text}");
    assert!(text.contains("\"manifest\":\"missing\""), "{text}");
    assert!(text.contains("\"manifest\":\"match\""), "{text}");
    no_temp_files(env.dir.path());
}

/// A batch lists what it does not encode, with the reason
/// (links to files and folders, which are never followed; FIFOs; other
/// files), and reports an unreadable folder as a failure while it encodes
/// the rest of the tree. The CLI runs as an unprivileged user (root can
/// read any folder).
#[cfg(target_os = "linux")]
#[test]
fn batch_lists_what_it_skips_and_goes_on_past_an_unreadable_folder() {
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &Path, m: u32| fs::set_permissions(p, fs::Permissions::from_mode(m)).unwrap();
    let env = Env::new();
    env.write("in/a.amm", &shard(3000));
    env.write("in/locked/b.amm", &shard(3000));
    env.write("in/notes.txt", b"hello");
    env.write("elsewhere/c.amm", &shard(3000));
    std::os::unix::fs::symlink("../elsewhere", env.path("in/dirlink")).unwrap();
    std::os::unix::fs::symlink(env.path("dev.key"), env.path("in/key.amm")).unwrap();
    run_tool("mkfifo", &[env.path("in/pipe.amg").as_os_str()]);
    fs::create_dir(env.path("out")).unwrap();
    // Readable (and out/ writable) by the unprivileged user, but locked/.
    mode(env.dir.path(), 0o755);
    mode(&env.path("out"), 0o777);
    mode(&env.path("dev.key"), 0o644);
    mode(&env.path("in/locked"), 0o000);
    let uid = StdCommand::new("id").arg("-u").output().unwrap().stdout;
    let mut cmd = if String::from_utf8_lossy(&uid).trim() == "0" {
        let mut c = StdCommand::new("setpriv");
        c.args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(ava3_bin());
        c
    } else {
        StdCommand::new(ava3_bin())
    };
    let out = cmd
        .current_dir(env.dir.path())
        .env_remove("AVA3_KEY")
        .env("AVA3_KEY_FILE", env.path("dev.key"))
        .args(["encode", "in", "--batch", "-o", "out", "--json"])
        .output()
        .unwrap();
    mode(&env.path("in/locked"), 0o755);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stdout}\n{stderr}");
    let records: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let status_of = |source: &str| {
        let r = records
            .iter()
            .find(|r| r["source"] == source)
            .unwrap_or_else(|| panic!("no record for {source}: {stdout}"));
        (
            r["status"].as_str().unwrap().to_string(),
            r["error"].as_str().unwrap_or("").to_string(),
        )
    };
    assert_eq!(status_of("a.amm").0, "encoded");
    assert_eq!(
        status_of("dirlink"),
        ("skipped".into(), "a link: links are not followed".into())
    );
    assert_eq!(
        status_of("key.amm"),
        ("skipped".into(), "a link: links are not followed".into())
    );
    assert_eq!(
        status_of("pipe.amg"),
        ("skipped".into(), "not a regular file".into())
    );
    assert_eq!(
        status_of("notes.txt"),
        ("skipped".into(), "not .amm/.amg/.amr".into())
    );
    let (st, err) = status_of("locked");
    assert_eq!(st, "failed");
    assert!(err.contains("cannot read the folder"), "{err}");
    assert!(
        stderr.contains("locked: cannot read the folder"),
        "{stderr}"
    );
    assert!(env.path("out/a.amm.ava3").exists());
    assert!(!env.path("out/key.amm.ava3").exists() && !env.path("out/dirlink").exists());
    // The human lines say the same.
    let human = env
        .keyed()
        .args(["encode", "in", "--batch", "-o", "out2"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&human.stdout);
    assert!(
        text.contains("skipped (a link: links are not followed) key.amm"),
        "{text}"
    );
    assert!(
        text.contains("skipped (not a regular file) pipe.amg"),
        "{text}"
    );
}

/// A batch replaces or skips only outputs its manifest
/// lists (anything else needs --force), and "up to date" is not fooled by a
/// same-size source whose times were set back (`cp -p`, `touch -r`).
#[cfg(unix)]
#[test]
fn batch_trusts_only_its_manifest_and_not_modification_times() {
    let env = Env::new();
    env.write("in/a.amm", &shard(70_000));
    env.write("in/b.amm", &shard(80_000));
    // An unrelated file where b's output would go.
    env.write("out/b.amm.ava3", b"somebody else's file");
    env.keyed()
        .args(["encode", "in", "--batch", "-o", "out", "-q"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no earlier batch wrote it"));
    assert_eq!(
        fs::read(env.path("out/b.amm.ava3")).unwrap(),
        b"somebody else's file"
    );
    env.keyed()
        .args(["encode", "in", "--batch", "-o", "out", "-q", "--force"])
        .assert()
        .success();
    env.keyed().args(["verify", "out", "-q"]).assert().success();
    let digest_of = |name: &str| -> String {
        let m: serde_json::Value =
            serde_json::from_str(&fs::read_to_string(env.path("out/ava3-manifest.json")).unwrap())
                .unwrap();
        m["files"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["source"] == name)
            .unwrap()["plaintext_sha256"]
            .as_str()
            .unwrap()
            .to_string()
    };
    // A second run: everything is up to date.
    let again = env
        .keyed()
        .args(["encode", "in", "--batch", "-o", "out", "--json"])
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&again.stdout)
            .matches("\"up-to-date\"")
            .count(),
        2
    );
    // cp -p: same size, other bytes, the old times.
    let mut other = shard(70_000);
    other[100] ^= 0xff;
    env.write("new-a.amm", &other);
    std::thread::sleep(std::time::Duration::from_millis(20));
    run_tool(
        "touch",
        &[
            OsStr::new("-r"),
            env.path("in/a.amm").as_ref(),
            env.path("new-a.amm").as_ref(),
        ],
    );
    run_tool(
        "cp",
        &[
            OsStr::new("-p"),
            env.path("new-a.amm").as_ref(),
            env.path("in/a.amm").as_ref(),
        ],
    );
    env.keyed()
        .args(["encode", "in", "--batch", "-o", "out", "-q"])
        .assert()
        .success();
    assert_eq!(
        digest_of("a.amm"),
        sha256_hex(&other),
        "cp -p kept the old output"
    );
    // touch -r after an in-place rewrite of the same size.
    let mut third = shard(80_000);
    third[5] ^= 1;
    let stamp = env.path("stamp");
    fs::write(&stamp, b"").unwrap();
    run_tool(
        "touch",
        &[
            OsStr::new("-r"),
            env.path("in/b.amm").as_ref(),
            stamp.as_ref(),
        ],
    );
    fs::write(env.path("in/b.amm"), &third).unwrap();
    run_tool(
        "touch",
        &[
            OsStr::new("-r"),
            stamp.as_ref(),
            env.path("in/b.amm").as_ref(),
        ],
    );
    env.keyed()
        .args(["encode", "in", "--batch", "-o", "out", "-q"])
        .assert()
        .success();
    assert_eq!(
        digest_of("b.amm"),
        sha256_hex(&third),
        "touch -r kept the old output"
    );
    env.keyed()
        .args([
            "verify",
            "--deep",
            "out",
            "--manifest",
            "out/ava3-manifest.json",
            "-q",
        ])
        .assert()
        .success();
}

#[test]
fn batch_resumes_after_being_killed() {
    let env = Env::new();
    for i in 0..12 {
        env.write(&format!("in/m{i:02}.amm"), &shard(6 << 20));
    }
    let mut child = StdCommand::new(ava3_bin())
        .current_dir(env.dir.path())
        .env("AVA3_KEY_FILE", env.path("dev.key"))
        .args(["encode", "in", "--batch", "-o", "out", "-j", "1", "-q"])
        .spawn()
        .unwrap();
    // Kill it once some, but not all, outputs exist.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let done = fs::read_dir(env.path("out"))
            .map(|d| {
                d.filter(|e| {
                    e.as_ref()
                        .unwrap()
                        .path()
                        .extension()
                        .is_some_and(|x| x == "ava3")
                })
                .count()
            })
            .unwrap_or(0);
        if done >= 2 || std::time::Instant::now() > deadline {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    // Every output present is complete and verifies.
    let present: Vec<PathBuf> = walk(&env.path("out"))
        .into_iter()
        .filter(|p| p.extension().is_some_and(|x| x == "ava3"))
        .collect();
    assert!(!present.is_empty());
    assert!(
        present.len() < 12,
        "the batch finished before it was killed"
    );
    for p in &present {
        env.keyed().arg("verify").arg(p).assert().success();
    }
    // SIGKILL may leave the temporary file of the output being written
    // (hidden, ciphertext only); the rerun removes it.
    // The rerun finishes the rest and skips what is done.
    let out = env
        .keyed()
        .args(["encode", "in", "--batch", "-o", "out", "--json"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    assert_eq!(
        text.matches("\"up-to-date\"").count(),
        present.len(),
        "{text}"
    );
    env.keyed().args(["verify", "out", "-q"]).assert().success();
    no_temp_files(&env.path("out"));
}

/// A model swapped for a link to the key file after the
/// batch walked the folder is refused; the key reaches no output and no
/// manifest entry.
#[cfg(unix)]
#[test]
fn batch_refuses_a_link_swapped_in_after_the_walk() {
    let env = Env::new();
    // a.amm first and large (sparse), so that the walk is long over when
    // b.amm's turn comes on the one lane.
    env.sparse("models/a.amm", 256 << 20);
    env.write("models/b.amm", &shard(70_000));
    let child = env.spawn_keyed(
        &["encode", "models", "--batch", "-o", "enc", "-j", "1", "-q"],
        Stdio::piped(),
    );
    // a.amm's temporary output exists: the walk is done.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !fs::read_dir(env.path("enc")).is_ok_and(|d| {
        d.flatten()
            .any(|e| e.file_name().to_string_lossy().starts_with(".a.amm.ava3"))
    }) {
        assert!(
            std::time::Instant::now() < deadline,
            "batch never started a.amm"
        );
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    fs::remove_file(env.path("models/b.amm")).unwrap();
    std::os::unix::fs::symlink(env.path("dev.key"), env.path("models/b.amm")).unwrap();
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("not the file the folder walk found"),
        "{stderr}"
    );
    assert!(!env.path("enc/b.amm.ava3").exists());
    let manifest = fs::read_to_string(env.path("enc/ava3-manifest.json")).unwrap();
    assert!(
        manifest.contains("a.amm") && !manifest.contains("b.amm"),
        "{manifest}"
    );
}

/// A manifest written outside the output folder lists
/// each output relative to its own folder, and `verify --manifest` finds
/// every file from any working directory.
#[test]
fn a_manifest_outside_the_output_folder_resolves_from_its_own_folder() {
    let env = Env::new();
    env.write("in/a.amm", &shard(70_000));
    env.write("in/sub/b.amm", &shard(5_000));
    fs::create_dir_all(env.path("release/meta")).unwrap();
    env.keyed()
        .args(["encode", "in", "--batch", "-o", "out", "-q"])
        .args(["--manifest", "release/meta/m.json"])
        .assert()
        .success();
    let m: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(env.path("release/meta/m.json")).unwrap())
            .unwrap();
    let mut outputs: Vec<&str> = m["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["output"].as_str().unwrap())
        .collect();
    outputs.sort();
    assert_eq!(
        outputs,
        ["../../out/a.amm.ava3", "../../out/sub/b.amm.ava3"]
    );
    // From the project folder, from the manifest's folder, with absolute paths.
    let abs_out = env.path("out");
    let abs_manifest = env.path("release/meta/m.json");
    for (cwd, out, manifest) in [
        (env.path(""), "out".into(), "release/meta/m.json".into()),
        (
            env.path("release/meta"),
            "../../out".into(),
            "m.json".into(),
        ),
        (env.path("in/sub"), abs_out.clone(), abs_manifest.clone()),
    ] as [(PathBuf, PathBuf, PathBuf); 3]
    {
        let done = env
            .keyed()
            .current_dir(&cwd)
            .arg("verify")
            .arg(&out)
            .arg("--manifest")
            .arg(&manifest)
            .arg("--json")
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&done.stdout);
        assert!(done.status.success(), "from {}: {text}", cwd.display());
        assert_eq!(text.matches("\"manifest\":\"match\"").count(), 2, "{text}");
    }
    // A file removed is missing, from the manifest's folder too.
    fs::remove_file(env.path("out/sub/b.amm.ava3")).unwrap();
    env.keyed()
        .current_dir(env.path("release/meta"))
        .args(["verify", "../../out", "--manifest", "m.json", "--json"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("\"manifest\":\"missing\""));
}
