//! Key files: master keys (64 hex digits, mode 0600), publisher signing
//! keys (PKCS#8 PEM) and trusted public keys (SPKI PEM), read and written.
//! Key material never appears in messages: every path that names a key
//! file goes through [`crate::display::shown`].

use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};

use ava3_format::{MasterKey, PublicKey, SigningKey};
use zeroize::Zeroizing;

use crate::display::{printable, shown};
use crate::error::{AppResult, Failure};

/// Reads one key file: 64 hex digits, optional surrounding white space.
/// Warns on stderr when the file is readable by group or others.
pub fn read_key_file(path: &Path) -> AppResult<MasterKey> {
    let (key, open_mode) = load_key_file(path, &crate::names::CLI)?;
    if let Some(mode) = open_mode {
        eprintln!(
            "ava3: warning: {}",
            printable(&key_file_warning(path, mode))
        );
    }
    Ok(key)
}

/// The warning for a key file that group or others can access.
pub fn key_file_warning(path: &Path, mode: u32) -> String {
    format!(
        "key file {} is accessible by others (mode {mode:o}); chmod 600 it",
        shown(path)
    )
}

/// Reads one key file, and its permission bits when group or others can
/// access it (which the caller warns about, each in its own way).
pub fn load_key_file(
    path: &Path,
    names: &crate::names::Names,
) -> AppResult<(MasterKey, Option<u32>)> {
    let bytes = Zeroizing::new(std::fs::read(path).map_err(|e| {
        if crate::display::looks_like_key_material(&path.as_os_str().to_string_lossy()) {
            // Never echo it: a key pasted where a path belongs is a secret.
            Failure::usage(
                "a key was given where the path of a key file was expected (the value is not shown); \
                 put the key in a file (mode 0600) and name the file, or use AVA3_KEY",
            )
        } else {
            Failure::io_error(format!("cannot read key file {}: {e}", shown(path)), &e)
        }
    })?);
    let open_mode = open_mode(path);
    let not_a_key = || {
        let what = if bytes.starts_with(b"-----BEGIN") {
            format!(" (it holds a PEM key: {})", names.publisher_keys)
        } else {
            String::new()
        };
        Failure::usage(format!(
            "key file {} is not a key{what}: it must hold exactly 64 hexadecimal digits as text \
             (a raw 32-byte key is not accepted; `ava3 keygen` writes one)",
            shown(path)
        ))
    };
    let text = std::str::from_utf8(&bytes).map_err(|_| not_a_key())?;
    let key = MasterKey::from_hex(text).map_err(|_| not_a_key())?;
    Ok((key, open_mode))
}

/// The permission bits of a file that group or others can access.
#[cfg(unix)]
fn open_mode(path: &Path) -> Option<u32> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path).ok()?.permissions().mode();
    (mode & 0o077 != 0).then_some(mode & 0o777)
}

#[cfg(not(unix))]
fn open_mode(_path: &Path) -> Option<u32> {
    None
}

/// Reads publisher signing keys (PKCS#8 PEM, `ava3 keygen --signing`),
/// warning when a file is readable by group or others. The key text never
/// appears in a message.
pub fn load_signing_keys(files: &[PathBuf]) -> AppResult<Vec<std::sync::Arc<SigningKey>>> {
    files
        .iter()
        .map(|path| {
            let bytes = Zeroizing::new(std::fs::read(path).map_err(|e| {
                Failure::io_error(format!("cannot read signing key file {}: {e}", shown(path)), &e)
            })?);
            let key = std::str::from_utf8(&bytes)
                .ok()
                .and_then(|t| SigningKey::from_pem(t).ok())
                .ok_or_else(|| {
                    Failure::usage(format!(
                        "{} is not a signing key: it must be an Ed25519 PKCS#8 PEM private key \
                         (`ava3 keygen --signing` writes one)",
                        shown(path)
                    ))
                })?;
            if let Some(mode) = open_mode(path) {
                eprintln!(
                    "ava3: warning: signing key {} is accessible by others (mode {mode:o}); chmod 600 it",
                    shown(path)
                );
            }
            Ok(std::sync::Arc::new(key))
        })
        .collect()
}

/// Reads trusted public keys (SubjectPublicKeyInfo PEM, or 64 hex digits).
pub fn load_public_keys(files: &[PathBuf]) -> AppResult<Vec<PublicKey>> {
    files
        .iter()
        .map(|path| {
            let bytes = Zeroizing::new(std::fs::read(path).map_err(|e| {
                Failure::io_error(
                    format!("cannot read public key file {}: {e}", shown(path)),
                    &e,
                )
            })?);
            public_key_of(&bytes).map_err(|why| Failure::usage(format!("{} {why}", shown(path))))
        })
        .collect()
}

/// A trusted public key from a file's bytes, or why they are not one: a
/// signing (private) key, a master key file (64 hex digits named like a
/// key file is still a master key: refused by its look, since any 32
/// bytes may decode to a curve point), or not a key.
pub fn public_key_of(bytes: &[u8]) -> Result<PublicKey, &'static str> {
    if bytes.starts_with(b"-----BEGIN PRIVATE KEY") {
        return Err(
            "is a signing (private) key: give its public key (the .pub file beside \
                    it), which is all a verifier needs",
        );
    }
    let text = std::str::from_utf8(bytes).unwrap_or("").trim();
    if !text.starts_with("-----BEGIN") && MasterKey::from_hex(text).is_ok() {
        // A master key and a hex public key look alike (64 hex digits);
        // `ava3 keygen` writes master keys so, `keygen --signing` writes
        // public keys as PEM. A hex public key must say so: `ed25519:HEX`.
        return Err(
            "holds 64 hex digits, the form of a master key file: a trusted signer is a \
                    public key file (PEM, as `ava3 keygen --signing` writes PATH.pub)",
        );
    }
    PublicKey::parse(bytes).map_err(|_| {
        "is not an Ed25519 public key (PEM BEGIN PUBLIC KEY), or is a weak one (small order)"
    })
}

/// A new key from the OS RNG, written as 64 hex digits to a new file
/// with mode 0600 (an existing file is never replaced). The key is
/// returned for its id.
pub fn create_key_file(output: &Path) -> AppResult<MasterKey> {
    refuse_stdout(output)?;
    let key = MasterKey::generate().map_err(|e| Failure::usage(format!("no random key: {e}")))?;
    let hex = key.to_hex();
    write_new(output, 0o600, &[hex.as_bytes(), b"\n"])?;
    Ok(key)
}

/// A key is never written to standard output.
fn refuse_stdout(output: &Path) -> AppResult<()> {
    if crate::output::is_dash(output) {
        return Err(Failure::usage(
            "a key is never written to standard output (terminals, logs and pipes keep it): -o needs a file",
        ));
    }
    Ok(())
}

/// Writes a new file (never replacing one) with `mode`, synced.
fn write_new(path: &Path, mode: u32, parts: &[&[u8]]) -> AppResult<()> {
    let mut opts = OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, mode);
    #[cfg(not(unix))]
    let _ = mode;
    let mut f = opts.open(path).map_err(|e| {
        Failure::io_error(
            format!(
                "cannot create key file {} (an existing key is never overwritten): {e}",
                path.display()
            ),
            &e,
        )
    })?;
    parts
        .iter()
        .try_for_each(|p| f.write_all(p))
        .and_then(|_| f.sync_all())
        .map_err(|e| {
            let _ = std::fs::remove_file(path);
            Failure::io_error(format!("cannot write {}: {e}", path.display()), &e)
        })
}

/// The public key file beside a signing key file: `PATH.pub`.
pub fn public_key_path(output: &Path) -> PathBuf {
    let mut p = output.as_os_str().to_owned();
    p.push(".pub");
    p.into()
}

/// A new Ed25519 signing key, as PKCS#8 PEM in a new file of mode 0600,
/// and its public key as SubjectPublicKeyInfo PEM in `output.pub` (0644).
/// Neither file may exist; when the second cannot be written, the first is
/// removed.
pub fn create_signing_key_file(output: &Path) -> AppResult<SigningKey> {
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
