//! `ava3 inspect`: a file's header read without a key, and exit 1 for a cut
//! or non-AVA3 file.

use std::fs;

use predicates::prelude::*;

use crate::{tflite_like, Env};

#[test]
fn inspect_needs_no_key() {
    let env = Env::new();
    env.write("m.amr", &tflite_like(200_000));
    env.keyed()
        .args(["encode", "m.amr", "--block-size", "4096"])
        .assert()
        .success();
    env.cmd()
        .args(["inspect", "m.amr.ava3"])
        .assert()
        .success()
        .stdout(
            predicate::str::contains("payload kind:    litert")
                .and(predicate::str::contains("block size:      4096"))
                .and(predicate::str::contains("blocks:          49"))
                .and(predicate::str::contains("complete")),
        );
    let f = fs::read(env.path("m.amr.ava3")).unwrap();
    env.write("cut.ava3", &f[..1000]);
    env.cmd().args(["inspect", "cut.ava3"]).assert().code(1);
    env.cmd().args(["inspect", "m.amr"]).assert().code(1);
    env.keyed()
        .args(["encode", "m.amr", "--block-size", "1000", "-o", "x"])
        .assert()
        .code(2);
}
