//! Golden transcripts of the human output (trycmd, as rage does): each
//! `tests/cmd/*.md` runs its commands in a copy of its `.in/` folder, with
//! the development key in `AVA3_KEY`, and compares what they print (stdout
//! and stderr) and their exit status. `[..]` elides random salts and keys.
//! To refresh after a deliberate change: `TRYCMD=overwrite cargo test -p
//! ava3-cli --test transcripts`, then read the diff.

#[test]
fn transcripts() {
    // A checkout's file modes follow the umask: give the key file the
    // usual 0644, whose warning the transcript shows.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(
            "tests/cmd/session.in/other.key",
            std::fs::Permissions::from_mode(0o644),
        )
        .unwrap();
    }
    let cases = trycmd::TestCases::new();
    // Another entry point of the same program (the Python package's `ava3`
    // script, tests/python-package.sh) runs the same transcripts.
    if let Some(bin) = std::env::var_os("AVA3_TEST_BIN") {
        cases.register_bin("ava3", std::path::PathBuf::from(bin));
    }
    cases
        .env(
            "AVA3_KEY",
            "7dcd0d969bfb71a480cd1c075878464dc9678de1ed782c2da25b6683d31322ed",
        )
        // An empty AVA3_KEY_FILE counts as none (keys.rs).
        .env("AVA3_KEY_FILE", "")
        .case("tests/cmd/*.md");
}
