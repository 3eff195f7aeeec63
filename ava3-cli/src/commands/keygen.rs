//! `ava3 keygen -o KEYFILE`, and `ava3 keygen --signing -o KEYFILE` (a
//! publisher's Ed25519 key pair: KEYFILE and KEYFILE.pub).

use std::fs::OpenOptions;
use std::io::Write;
use std::path::Path;

use ava3_format::{MasterKey, SigningKey};

use crate::args::KeygenArgs;
use crate::error::{CliResult, Failure};
use crate::output::is_dash;
use crate::report::emit;

/// A new key from the OS RNG, written as 64 hex digits to a new file
/// with mode 0600 (an existing file is never replaced). The key is
/// returned for its id.
pub fn create_key_file(output: &Path) -> CliResult<MasterKey> {
    refuse_stdout(output)?;
    let key = MasterKey::generate().map_err(|e| Failure::usage(format!("no random key: {e}")))?;
    let hex = key.to_hex();
    write_new(output, 0o600, &[hex.as_bytes(), b"\n"])?;
    Ok(key)
}

/// A key is never written to standard output.
fn refuse_stdout(output: &Path) -> CliResult<()> {
    if is_dash(output) {
        return Err(Failure::usage(
            "a key is never written to standard output (terminals, logs and pipes keep it): -o needs a file",
        ));
    }
    Ok(())
}

/// Writes a new file (never replacing one) with `mode`, synced.
fn write_new(path: &Path, mode: u32, parts: &[&[u8]]) -> CliResult<()> {
    let mut opts = OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, mode);
    #[cfg(not(unix))]
    let _ = mode;
    let mut f = opts.open(path).map_err(|e| {
        Failure::usage(format!(
            "cannot create key file {} (an existing key is never overwritten): {e}",
            path.display()
        ))
    })?;
    parts
        .iter()
        .try_for_each(|p| f.write_all(p))
        .and_then(|_| f.sync_all())
        .map_err(|e| {
            let _ = std::fs::remove_file(path);
            Failure::usage(format!("cannot write {}: {e}", path.display()))
        })
}

/// The public key file beside a signing key file: `PATH.pub`.
pub fn public_key_path(output: &Path) -> std::path::PathBuf {
    let mut p = output.as_os_str().to_owned();
    p.push(".pub");
    p.into()
}

/// A new Ed25519 signing key, as PKCS#8 PEM in a new file of mode 0600,
/// and its public key as SubjectPublicKeyInfo PEM in `output.pub` (0644).
/// Neither file may exist; when the second cannot be written, the first is
/// removed.
pub fn create_signing_key_file(output: &Path) -> CliResult<SigningKey> {
    refuse_stdout(output)?;
    let public = public_key_path(output);
    if public.exists() {
        return Err(Failure::usage(format!(
            "cannot create {}: it exists (an existing key is never overwritten)",
            public.display()
        )));
    }
    let key = SigningKey::generate().map_err(|e| Failure::usage(format!("no random key: {e}")))?;
    let pem = key
        .to_pem()
        .map_err(|e| Failure::usage(format!("cannot encode the key: {e}")))?;
    write_new(output, 0o600, &[pem.as_bytes()])?;
    if let Err(f) = write_new(&public, 0o644, &[key.public_key().to_pem().as_bytes()]) {
        let _ = std::fs::remove_file(output);
        return Err(f);
    }
    Ok(key)
}

/// `ava3 keygen`.
pub fn run(a: &KeygenArgs) -> CliResult<()> {
    if a.signing {
        let key = create_signing_key_file(&a.output)?;
        let public = public_key_path(&a.output);
        if a.json {
            emit(&crate::report::json(&serde_json::json!({
                "status": "created",
                "output": a.output.display().to_string(),
                "public_key": public.display().to_string(),
                "signer_id": key.signer_id().to_hex(),
            })))?;
        } else {
            emit(&format!(
                "signer id {} written to {} (secret, keep it off devices) and {} (public, for verifiers)",
                key.signer_id(),
                a.output.display(),
                public.display()
            ))?;
        }
        return Ok(());
    }
    let key = create_key_file(&a.output)?;
    if a.json {
        emit(&crate::report::json(&serde_json::json!({
            "status": "created",
            "output": a.output.display().to_string(),
            "key_id": key.key_id().to_hex(),
        })))?;
    } else {
        emit(&format!(
            "key id {} written to {}",
            key.key_id(),
            a.output.display()
        ))?;
    }
    Ok(())
}
