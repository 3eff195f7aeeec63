//! The keys a command was given: `--key-file`, `AVA3_KEY_FILE`,
//! `AVA3_KEY`, and the trust flags (the files themselves are read by
//! `ava3_app::keys`). Key material never appears in messages.

use std::path::{Path, PathBuf};

use ava3_app::keys::{load_public_keys, read_key_file};
use ava3_format::{MasterKey, Policy};
use zeroize::Zeroizing;

use crate::error::{CliResult, Failure};

/// Where the keys came from, for messages.
pub(crate) const KEY_SOURCES: &str =
    "--key-file PATH, AVA3_KEY_FILE=PATH or AVA3_KEY=<64 hex digits>";

/// The key ring from the command line or the environment; empty if none.
pub(crate) fn load_keys(files: &[PathBuf]) -> CliResult<Vec<MasterKey>> {
    if !files.is_empty() {
        return files.iter().map(|p| read_key_file(p)).collect();
    }
    if let Some(path) = std::env::var_os("AVA3_KEY_FILE").filter(|p| !p.is_empty()) {
        return Ok(vec![
            read_key_file(Path::new(&path)).map_err(|f| f.context("AVA3_KEY_FILE"))?
        ]);
    }
    if let Some(hex) = std::env::var_os("AVA3_KEY") {
        let hex = Zeroizing::new(hex.to_string_lossy().into_owned());
        return Ok(vec![MasterKey::from_hex(&hex).map_err(|_| {
            Failure::usage("AVA3_KEY is not a key: it must hold exactly 64 hexadecimal digits")
        })?]);
    }
    Ok(Vec::new())
}

/// The key ring, or a usage error naming the three sources.
pub(crate) fn require_keys(files: &[PathBuf], what: &str) -> CliResult<Vec<MasterKey>> {
    let keys = load_keys(files)?;
    if keys.is_empty() {
        return Err(Failure::usage(format!(
            "{what} needs a key: give {KEY_SOURCES}"
        )));
    }
    Ok(keys)
}

/// The one key an encode uses. A key ring picks a key by the id a file
/// records; an encode has no file to pick by, so more than one
/// `--key-file` is refused rather than all but the first dropped.
pub(crate) fn require_one_key(files: &[PathBuf]) -> CliResult<MasterKey> {
    if files.len() > 1 {
        return Err(Failure::usage(format!(
            "encode takes one key, and {} --key-file were given (a key ring is for verify, decode and rekey)",
            files.len()
        )));
    }
    let mut keys = require_keys(files, "encode")?;
    Ok(keys.swap_remove(0))
}

/// The reader policy of `--signer`, `--name` and `--min-version`.
pub(crate) fn policy_of(t: &crate::args::TrustArgs) -> CliResult<Policy> {
    let mut p = Policy::default();
    for k in load_public_keys(&t.signers)? {
        p.trust(k);
    }
    if let Some(n) = &t.name {
        p.expect_name(n);
    }
    if let Some(v) = t.min_version {
        p.require_min_version(v);
    }
    Ok(p)
}
