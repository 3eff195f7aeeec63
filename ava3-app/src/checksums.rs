//! A release's checksum list: `SHA256SUMS` in `sha256sum`'s format (one
//! line per file, `HEX  PATH`), written for every file below a folder, and
//! its detached signature `SHA256SUMS.sig` (spec appendix E.4: Ed25519
//! under the label `"AVA3-checksums-v1" || 0x00`, one signature per key).
//!
//! The check reads the list once, verifies the signature over those bytes
//! when trusted keys are given, and only then parses them; each listed path
//! is relative, `/`-separated, with no `..` and no link in it (E.3's rule
//! for an unsigned manifest, signed or not), resolved from the list's
//! folder, and opened as a regular file only.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use ava3_format::{check_manifest_path, ManifestPaths, Policy, SignerId, SigningKey};
use sha2::{Digest, Sha256};

use crate::display::shown;
use crate::error::{AppResult, Failure};
use crate::manifest::open_regular;
use crate::output::AtomicFile;

/// The list's file name in a release folder.
pub const CHECKSUMS_FILE: &str = "SHA256SUMS";

/// The list's detached signature: `LIST.sig`.
pub fn signature_path(list: &Path) -> PathBuf {
    let mut p = list.as_os_str().to_owned();
    p.push(".sig");
    p.into()
}

/// SHA-256 of a regular file's bytes, read in 1 MiB pieces (a FIFO or a
/// device is refused, never read: it could block or never end).
pub fn file_sha256(path: &Path) -> AppResult<[u8; 32]> {
    let mut f = open_regular(path, true)
        .map_err(|e| Failure::io_error(format!("cannot open {}: {e}", shown(path)), &e))?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f
            .read(&mut buf)
            .map_err(|e| Failure::io_error(format!("cannot read {}: {e}", shown(path)), &e))?;
        if n == 0 {
            return Ok(h.finalize().into());
        }
        h.update(&buf[..n]);
    }
}

/// Every regular file below `dir`, as sorted `/`-separated relative paths,
/// but the list and its signature at the top.
fn files_below(dir: &Path) -> AppResult<Vec<String>> {
    fn walk(root: &Path, rel: &str, out: &mut Vec<String>) -> AppResult<()> {
        let here = if rel.is_empty() {
            root.to_path_buf()
        } else {
            root.join(rel)
        };
        let entries = std::fs::read_dir(&here)
            .map_err(|e| Failure::io_error(format!("cannot list {}: {e}", shown(&here)), &e))?;
        for entry in entries {
            let entry = entry.map_err(|e| Failure::io(shown(&here), e))?;
            let name = entry.file_name().into_string().map_err(|n| {
                Failure::usage(format!(
                    "{}: a file name that is not UTF-8",
                    shown(&here.join(n))
                ))
            })?;
            let path = if rel.is_empty() {
                name
            } else {
                format!("{rel}/{name}")
            };
            let kind = entry
                .file_type()
                .map_err(|e| Failure::io(shown(&entry.path()), e))?;
            if kind.is_dir() {
                walk(root, &path, out)?;
            } else if kind.is_file() {
                out.push(path);
            } else {
                // Shipped but not listed would be unchecked: refused.
                return Err(Failure::usage(format!(
                    "{}: a link or a special file cannot be listed",
                    shown(&entry.path())
                )));
            }
        }
        Ok(())
    }
    let mut out = Vec::new();
    walk(dir, "", &mut out)?;
    let sig = format!("{CHECKSUMS_FILE}.sig");
    out.retain(|p| *p != CHECKSUMS_FILE && *p != sig);
    out.sort();
    Ok(out)
}

/// Writes `DIR/SHA256SUMS` for every file below `dir` and, with signing
/// keys, `DIR/SHA256SUMS.sig` (without, a signature left by an earlier run
/// is removed: it no longer matches). Returns the list's path and the
/// number of files it lists.
pub fn write(dir: &Path, signers: &[Arc<SigningKey>]) -> AppResult<(PathBuf, usize)> {
    let files = files_below(dir)?;
    if files.is_empty() {
        return Err(Failure::usage(format!("{}: no file to list", shown(dir))));
    }
    let mut text = String::new();
    for f in &files {
        if f.contains(['\n', '\r', '\\']) {
            return Err(Failure::usage(format!(
                "{}: a name with a line break, a CR or a backslash cannot be listed",
                shown(&dir.join(f))
            )));
        }
        text.push_str(&hex::encode(file_sha256(&dir.join(f))?));
        text.push_str("  ");
        text.push_str(f);
        text.push('\n');
    }
    let list = dir.join(CHECKSUMS_FILE);
    write_atomically(&list, text.as_bytes())?;
    let sig = signature_path(&list);
    if signers.is_empty() {
        let _ = std::fs::remove_file(&sig);
    } else {
        let keys: Vec<&SigningKey> = signers.iter().map(|k| k.as_ref()).collect();
        let sigs = ava3_format::sign_checksums(text.as_bytes(), &keys)
            .map_err(|e| Failure::from_core(list.display(), e))?;
        write_atomically(&sig, &sigs)?;
    }
    Ok((list, files.len()))
}

fn write_atomically(path: &Path, bytes: &[u8]) -> AppResult<()> {
    let mut file = AtomicFile::create(path)?;
    {
        use std::io::Write;
        file.writer()
            .write_all(bytes)
            .map_err(|e| Failure::io(path.display(), e))?;
    }
    file.commit(true)
}

/// The entries of a list (spec E.4): each line exactly 64 hex digits, a
/// space, a space or `*`, the path, then LF (no CR, a final LF); at least
/// one line; no path twice.
fn parse(bytes: &[u8]) -> Result<Vec<([u8; 32], String)>, String> {
    let text = std::str::from_utf8(bytes).map_err(|_| "not UTF-8 text".to_string())?;
    if text.is_empty() {
        return Err("an empty list".into());
    }
    if !text.ends_with('\n') || text.contains('\r') {
        return Err("lines must end with LF, the last one too, and hold no CR".into());
    }
    let mut out: Vec<([u8; 32], String)> = Vec::new();
    for (n, line) in text[..text.len() - 1].split('\n').enumerate() {
        let bad = || format!("line {}: not `SHA256  PATH`", n + 1);
        let b = line.as_bytes();
        if b.len() < 67 || b[64] != b' ' || (b[65] != b' ' && b[65] != b'*') {
            return Err(bad());
        }
        let mut digest = [0u8; 32];
        hex::decode_to_slice(&line[..64], &mut digest).map_err(|_| bad())?;
        let path = &line[66..];
        if out.iter().any(|(_, p)| p == path) {
            return Err(format!("line {}: {path} is listed twice", n + 1));
        }
        out.push((digest, path.to_string()));
    }
    Ok(out)
}

/// Refuses a listed path any component of which is a symbolic link (the
/// writer lists none): a link could point outside the folder.
fn no_link_below(base: &Path, path: &str) -> Result<(), &'static str> {
    let mut here = base.to_path_buf();
    for part in path.split('/') {
        here.push(part);
        if std::fs::symlink_metadata(&here).is_ok_and(|m| m.file_type().is_symlink()) {
            return Err("a symbolic link");
        }
    }
    Ok(())
}

/// What the check of one listed file found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FileCheck {
    /// Its SHA-256 is the listed one.
    Ok,
    /// Its SHA-256 is another.
    Mismatch,
    /// It is not there (or cannot be read: the message says why).
    Missing(String),
    /// The listed path is refused (E.3): the reason.
    RefusedPath(&'static str),
}

/// The check of a whole list.
#[derive(Clone, Debug)]
pub struct ListCheck {
    /// The trusted key whose signature verified; `None` when no key was
    /// given (the list is then only what the files are checked against).
    pub signer: Option<SignerId>,
    /// Each listed path and what its check found, in the list's order.
    pub files: Vec<(String, FileCheck)>,
}

impl ListCheck {
    /// Every listed file is there and matches.
    pub fn all_ok(&self) -> bool {
        self.files.iter().all(|(_, c)| *c == FileCheck::Ok)
    }
}

/// Checks the list at `list`: its signature under `trust`'s keys when it
/// has any (refused: no `.sig`, a bad one, or none by a trusted key), then
/// every file it lists, from the list's folder. A list that E.4 does not
/// allow (a line that is not `HEX  PATH` or `HEX *PATH`, CR, no final LF,
/// a path twice, no line) is invalid; a path with `..` or a link is
/// refused, signed or not.
pub fn check(list: &Path, trust: &Policy) -> AppResult<ListCheck> {
    let read = |path: &Path| -> std::io::Result<Vec<u8>> {
        let mut bytes = Vec::new();
        open_regular(path, true)?.read_to_end(&mut bytes)?;
        Ok(bytes)
    };
    let bytes = read(list)
        .map_err(|e| Failure::io_error(format!("cannot read {}: {e}", shown(list)), &e))?;
    let signer = if trust.requires_signature() {
        let sig_path = signature_path(list);
        let sigs = match read(&sig_path) {
            Ok(s) => s,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => {
                return Err(Failure::io_error(
                    format!("cannot read {}: {e}", shown(&sig_path)),
                    &e,
                ))
            }
        };
        Some(
            ava3_format::verify_checksums(&bytes, &sigs, trust)
                .map_err(|e| Failure::from_core(list.display(), e))?,
        )
    } else {
        None
    };
    let entries = parse(&bytes).map_err(|why| Failure::bad(format!("{}: {why}", shown(list))))?;
    let base = list.parent().unwrap_or(Path::new("."));
    let files = entries
        .into_iter()
        .map(|(want, path)| {
            // Every path stays inside the folder, signed or not: the writer
            // never lists `..` or a link, so a checker refuses both.
            let result = match check_manifest_path(&path, ManifestPaths::Unsigned)
                .and_then(|()| no_link_below(base, &path))
            {
                Err(why) => FileCheck::RefusedPath(why),
                Ok(()) => match file_sha256(&base.join(&path)) {
                    Ok(got) if got == want => FileCheck::Ok,
                    Ok(_) => FileCheck::Mismatch,
                    Err(f) => FileCheck::Missing(f.message),
                },
            };
            (path, result)
        })
        .collect();
    Ok(ListCheck { signer, files })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn release(dir: &Path) {
        std::fs::create_dir_all(dir.join("wheels")).unwrap();
        std::fs::write(dir.join("wheels/a.whl"), b"wheel").unwrap();
        std::fs::write(dir.join("ava3.h"), b"header").unwrap();
    }

    #[test]
    fn a_signed_list_checks_and_a_changed_file_or_list_does_not() {
        let dir = tempfile::tempdir().unwrap();
        release(dir.path());
        let key = Arc::new(SigningKey::from_seed(&[5; 32]));
        let (list, n) = write(dir.path(), std::slice::from_ref(&key)).unwrap();
        assert_eq!(n, 2);
        let text = std::fs::read_to_string(&list).unwrap();
        assert!(
            text.ends_with("  ava3.h\n") || text.contains("  ava3.h\n"),
            "{text}"
        );
        assert!(text.contains("  wheels/a.whl\n"), "{text}");
        let mut trust = Policy::default();
        trust.trust(key.public_key());
        let c = check(&list, &trust).unwrap();
        assert_eq!(c.signer, Some(key.signer_id()));
        assert!(c.all_ok(), "{c:?}");

        std::fs::write(dir.path().join("ava3.h"), b"changed").unwrap();
        let c = check(&list, &trust).unwrap();
        assert!(!c.all_ok());
        assert!(c.files.contains(&("ava3.h".into(), FileCheck::Mismatch)));

        // A list changed after signing is refused before any file is read.
        std::fs::write(&list, text.replace("ava3.h", "ava3.H")).unwrap();
        assert!(check(&list, &trust).is_err());
        // Another key's signature is an unknown signer.
        let mut other = Policy::default();
        other.trust(SigningKey::from_seed(&[6; 32]).public_key());
        std::fs::write(&list, &text).unwrap();
        assert!(check(&list, &other).is_err());
    }

    #[test]
    fn a_manifest_signature_is_not_a_checksums_signature() {
        let dir = tempfile::tempdir().unwrap();
        release(dir.path());
        let key = SigningKey::from_seed(&[5; 32]);
        let (list, _) = write(dir.path(), &[]).unwrap();
        assert!(!signature_path(&list).exists());
        let bytes = std::fs::read(&list).unwrap();
        let manifest_sig = ava3_format::sign_manifest(&bytes, &[&key]).unwrap();
        std::fs::write(signature_path(&list), manifest_sig).unwrap();
        let mut trust = Policy::default();
        trust.trust(key.public_key());
        assert!(check(&list, &trust).is_err());
    }

    #[test]
    fn a_list_may_not_leave_its_folder_or_bend_the_format() {
        let dir = tempfile::tempdir().unwrap();
        let inner = dir.path().join("inner");
        std::fs::create_dir(&inner).unwrap();
        std::fs::write(dir.path().join("outside"), b"x").unwrap();
        let digest = hex::encode(file_sha256(&dir.path().join("outside")).unwrap());
        let list = inner.join(CHECKSUMS_FILE);
        std::fs::write(&list, format!("{digest}  ../outside\n")).unwrap();
        let c = check(&list, &Policy::default()).unwrap();
        assert!(matches!(c.files[0].1, FileCheck::RefusedPath(_)), "{c:?}");
        for bad in [
            "not a checksum line\n".to_string(),
            String::new(),
            format!("{digest}  ok\r\n"),
            format!("{digest}  ok"),
            format!("{digest}  ok\n{digest}  ok\n"),
            format!("{digest} ok\n"),
        ] {
            std::fs::write(&list, &bad).unwrap();
            assert!(check(&list, &Policy::default()).is_err(), "{bad:?}");
        }
        // A name with two spaces, in binary mode: one entry.
        std::fs::write(inner.join("a  b"), b"x").unwrap();
        std::fs::write(&list, format!("{digest} *a  b\n")).unwrap();
        let c = check(&list, &Policy::default()).unwrap();
        assert_eq!(c.files, vec![("a  b".to_string(), FileCheck::Ok)]);
        // A link inside the folder to a file outside it is refused, and
        // the writer refuses to list one.
        std::os::unix::fs::symlink(dir.path().join("outside"), inner.join("link")).unwrap();
        std::fs::write(&list, format!("{digest}  link\n")).unwrap();
        let c = check(&list, &Policy::default()).unwrap();
        assert!(matches!(c.files[0].1, FileCheck::RefusedPath(_)), "{c:?}");
        assert!(write(&inner, &[]).is_err());
    }
}
