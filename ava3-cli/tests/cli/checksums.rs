//! `ava3 checksums`: a release folder's SHA256SUMS, its signature under the
//! checksums label (spec appendix E.4), and its check, as `sha256sum -c`
//! and `openssl pkeyutl -verify -rawin` see them too.

use super::*;

/// A release folder `rel/` (a file and one in a subfolder), a publisher
/// key `pub.key` (+ `.pub`), and `rel/SHA256SUMS` signed with it.
fn signed_release() -> Env {
    let env = Env::new();
    env.write("rel/ava3.h", b"/* header */\n");
    env.write("rel/wheels/ava_toolchain.whl", &shard(5000));
    env.cmd()
        .args(["keygen", "--signing", "-o", "pub.key"])
        .assert()
        .success();
    env.cmd()
        .args(["checksums", "rel", "--sign", "pub.key"])
        .assert()
        .success()
        .stdout(predicates::str::contains("2 files listed, signed"));
    env
}

/// `ava3 checksums -c rel/SHA256SUMS --signer SIGNER`.
fn check_with(env: &Env, signer: &str) -> assert_cmd::assert::Assert {
    env.cmd()
        .args(["checksums", "-c", "rel/SHA256SUMS", "--signer", signer])
        .assert()
}

#[test]
fn a_signed_list_checks_with_ava3_sha256sum_and_openssl() {
    let env = signed_release();
    let list = fs::read_to_string(env.path("rel/SHA256SUMS")).unwrap();
    assert_eq!(
        list,
        format!(
            "{}  ava3.h\n{}  wheels/ava_toolchain.whl\n",
            sha256_hex(b"/* header */\n"),
            sha256_hex(&shard(5000))
        )
    );
    check_with(&env, "pub.key.pub")
        .success()
        .stdout(predicates::str::contains("2 of 2 files match"));
    run_tool(
        "sh",
        &[
            "-c".as_ref(),
            "cd \"$0\" && sha256sum --quiet -c SHA256SUMS".as_ref(),
            env.path("rel").as_os_str(),
        ],
    );
    assert!(openssl_verifies(
        &env,
        "pub.key.pub",
        b"AVA3-checksums-v1\0",
        list.as_bytes(),
        &env.path("rel/SHA256SUMS.sig")
    ));
}

#[test]
fn a_changed_file_a_changed_list_or_another_signer_fails() {
    let env = signed_release();
    env.write("rel/ava3.h", b"/* changed */\n");
    check_with(&env, "pub.key.pub")
        .code(1)
        .stdout(predicates::str::contains("ava3.h: MISMATCH"));
    env.write("rel/ava3.h", b"/* header */\n");
    fs::remove_file(env.path("rel/wheels/ava_toolchain.whl")).unwrap();
    check_with(&env, "pub.key.pub")
        .code(1)
        .stdout(predicates::str::contains(
            "wheels/ava_toolchain.whl: MISSING",
        ));

    // The list itself changed after signing: refused before any file.
    let list = fs::read_to_string(env.path("rel/SHA256SUMS")).unwrap();
    env.write(
        "rel/SHA256SUMS",
        list.replace("ava3.h", "ava3.H").as_bytes(),
    );
    check_with(&env, "pub.key.pub")
        .code(1)
        .stdout(predicates::str::is_empty());
    env.write("rel/SHA256SUMS", list.as_bytes());

    // Another publisher's key, and no signature at all.
    env.cmd()
        .args(["keygen", "--signing", "-o", "other.sign"])
        .assert()
        .success();
    check_with(&env, "other.sign.pub").code(1);
    fs::remove_file(env.path("rel/SHA256SUMS.sig")).unwrap();
    check_with(&env, "pub.key.pub")
        .code(1)
        .stdout(predicates::str::is_empty());
}

#[test]
fn a_manifest_signature_over_the_same_bytes_is_not_accepted() {
    let env = signed_release();
    // What `encode --batch --sign` would write for a manifest with these
    // bytes: the manifest label, not the checksums label.
    let list = fs::read(env.path("rel/SHA256SUMS")).unwrap();
    let sig = fs::read(env.path("rel/SHA256SUMS.sig")).unwrap();
    env.write("m.json", &list);
    check_with(&env, "pub.key.pub").success();
    assert!(
        !openssl_verifies(
            &env,
            "pub.key.pub",
            b"AVA3-manifest-v1\0",
            &list,
            &env.path("rel/SHA256SUMS.sig")
        ),
        "the checksums signature verified as a manifest's"
    );
    assert_eq!(sig.len(), 64);
}
