//! `ava3 keygen`: a private key file that is never overwritten.

use std::fs;

use predicates::prelude::*;

use crate::Env;

#[test]
fn keygen_writes_a_private_key_and_never_overwrites() {
    let env = Env::new();
    env.cmd()
        .args(["keygen", "-o", "new.key"])
        .assert()
        .success()
        .stdout(predicate::str::contains("key id"));
    let text = fs::read_to_string(env.path("new.key")).unwrap();
    assert_eq!(text.trim().len(), 64);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(env.path("new.key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    env.cmd().args(["keygen", "-o", "new.key"]).assert().code(2);
    assert_eq!(fs::read_to_string(env.path("new.key")).unwrap(), text);
}
