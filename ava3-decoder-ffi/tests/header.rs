//! `include/ava3.h` is what cbindgen generates from the sources today, with
//! version macros equal to Cargo.toml's version. Regenerate with
//! `AVA3_BLESS=1 cargo test -p ava3-decoder-ffi --test header`.

fn generate() -> String {
    let dir = manifest_dir();
    let mut config = cbindgen::Config::from_file(dir.join("cbindgen.toml")).expect("cbindgen.toml");
    let (major, minor, patch) = (
        env!("CARGO_PKG_VERSION_MAJOR"),
        env!("CARGO_PKG_VERSION_MINOR"),
        env!("CARGO_PKG_VERSION_PATCH"),
    );
    config.after_includes = Some(format!(
        "\n#define AVA3_VERSION_MAJOR {major}\n#define AVA3_VERSION_MINOR {minor}\n#define AVA3_VERSION_PATCH {patch}\n#define AVA3_VERSION_STRING \"{major}.{minor}.{patch}\"\n\n/* Payload kinds of ava3_decoder_payload_kind. */\n#define AVA3_PAYLOAD_UNKNOWN 0\n#define AVA3_PAYLOAD_MLC 1\n#define AVA3_PAYLOAD_GGUF 2\n#define AVA3_PAYLOAD_LITERT 3\n"
    ));
    let mut out = Vec::new();
    cbindgen::Builder::new()
        .with_crate(dir)
        .with_config(config)
        .generate()
        .expect("cbindgen runs")
        .write(&mut out);
    String::from_utf8(out).expect("utf-8")
}

#[test]
fn header_is_current() {
    let path = manifest_dir().join("include/ava3.h");
    let fresh = generate();
    if std::env::var_os("AVA3_BLESS").is_some() {
        std::fs::write(&path, &fresh).expect("write the header");
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == fresh,
        "include/ava3.h is stale: run AVA3_BLESS=1 cargo test -p ava3-decoder-ffi --test header"
    );
    assert!(fresh.contains(&format!(
        "#define AVA3_VERSION_STRING \"{}\"",
        env!("CARGO_PKG_VERSION")
    )));
}

/// This package's folder as cargo gives it when the test runs: a binary
/// reused from a shared target folder may have been compiled in another
/// checkout (since removed), whose path `env!` would still name.
fn manifest_dir() -> std::path::PathBuf {
    let dir = std::env::var_os("CARGO_MANIFEST_DIR");
    dir.map_or_else(|| env!("CARGO_MANIFEST_DIR").into(), Into::into)
}
