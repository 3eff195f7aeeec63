//! Loading master keys: key files, `AVA3_KEY_FILE`, `AVA3_KEY`.
//! Key material never appears in messages.

use std::path::{Path, PathBuf};

use ava3_format::{MasterKey, Policy, PublicKey, SigningKey};
use zeroize::Zeroizing;

use crate::error::{CliResult, Failure};

/// Where the keys came from, for messages.
pub const KEY_SOURCES: &str = "--key-file PATH, AVA3_KEY_FILE=PATH or AVA3_KEY=<64 hex digits>";

/// How a key-file argument (a path) appears in a message: the path, or,
/// when the value looks like key material (PEM armour, a line break, a
/// long run of hex digits), a note that it is not shown. Every message of
/// every command and of the Python API that names a key, signing-key or
/// public-key file goes through here.
pub fn shown(path: &Path) -> String {
    if looks_like_key_material(&path.as_os_str().to_string_lossy()) {
        "(a value that looks like key material, not a file name: not shown)".to_string()
    } else {
        crate::report::printable(&path.display().to_string()).into_owned()
    }
}

/// Reads one key file: 64 hex digits, optional surrounding white space.
/// Warns on stderr when the file is readable by group or others.
pub fn read_key_file(path: &Path) -> CliResult<MasterKey> {
    let (key, open_mode) = load_key_file(path)?;
    if let Some(mode) = open_mode {
        eprintln!(
            "ava3: warning: {}",
            crate::report::printable(&key_file_warning(path, mode))
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
pub fn load_key_file(path: &Path) -> CliResult<(MasterKey, Option<u32>)> {
    let bytes = Zeroizing::new(std::fs::read(path).map_err(|e| {
        if looks_like_key_material(&path.as_os_str().to_string_lossy()) {
            // Never echo it: a key pasted where a path belongs is a secret.
            Failure::usage(
                "a key was given where the path of a key file was expected (the value is not shown); \
                 put the key in a file (mode 0600) and name the file, or use AVA3_KEY",
            )
        } else {
            Failure::usage(format!("cannot read key file {}: {e}", shown(path)))
        }
    })?);
    let open_mode = open_mode(path);
    let not_a_key = || {
        let what = if bytes.starts_with(b"-----BEGIN") {
            " (it holds a PEM key: a publisher key goes to --sign or --signer)"
        } else {
            ""
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

/// A "path" that is most likely a key pasted where its file belongs: PEM
/// armour, a line break (no key file name has one), the base64 of an
/// Ed25519 PKCS#8 key (the body line of a signing key file holds the whole
/// seed), a run of 32 or more hex digits (a master key, a seed, a public
/// key in hex, or part of one), or a run of 40 or more base64 characters
/// without a `/`, `.`, `-` or `_` (no file name looks so).
pub fn looks_like_key_material(s: &str) -> bool {
    const PKCS8_ED25519: [&str; 3] = ["MC4CAQAwBQYDK2Vw", "MFECAQEwBQYDK2Vw", "MFMCAQEwBQYDK2Vw"];
    if s.contains("-----")
        || s.contains('\n')
        || s.contains('\r')
        || PKCS8_ED25519.iter().any(|p| s.contains(p))
    {
        return true;
    }
    let (mut hex, mut b64) = (0usize, 0usize);
    for b in s.bytes() {
        hex = if b.is_ascii_hexdigit() { hex + 1 } else { 0 };
        b64 = if b.is_ascii_alphanumeric() || b == b'+' || b == b'=' {
            b64 + 1
        } else {
            0
        };
        if hex >= 32 || b64 >= 40 {
            return true;
        }
    }
    false
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

/// The key ring from the command line or the environment; empty if none.
pub fn load_keys(files: &[PathBuf]) -> CliResult<Vec<MasterKey>> {
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
pub fn require_keys(files: &[PathBuf], what: &str) -> CliResult<Vec<MasterKey>> {
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
pub fn require_one_key(files: &[PathBuf]) -> CliResult<MasterKey> {
    if files.len() > 1 {
        return Err(Failure::usage(format!(
            "encode takes one key, and {} --key-file were given (a key ring is for verify, decode and rekey)",
            files.len()
        )));
    }
    let mut keys = require_keys(files, "encode")?;
    Ok(keys.swap_remove(0))
}

/// Reads publisher signing keys (PKCS#8 PEM, `ava3 keygen --signing`),
/// warning when a file is readable by group or others. The key text never
/// appears in a message.
pub fn load_signing_keys(files: &[PathBuf]) -> CliResult<Vec<std::sync::Arc<SigningKey>>> {
    files
        .iter()
        .map(|path| {
            let bytes = Zeroizing::new(std::fs::read(path).map_err(|e| {
                Failure::usage(format!("cannot read signing key file {}: {e}", shown(path)))
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
pub fn load_public_keys(files: &[PathBuf]) -> CliResult<Vec<PublicKey>> {
    files
        .iter()
        .map(|path| {
            let bytes = Zeroizing::new(std::fs::read(path).map_err(|e| {
                Failure::usage(format!("cannot read public key file {}: {e}", shown(path)))
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

/// The reader policy of `--signer`, `--name` and `--min-version`.
pub fn policy_of(t: &crate::args::TrustArgs) -> CliResult<Policy> {
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
