//! The batch manifest: one entry per encoded file (JSON, documented in the
//! README).

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{AppResult, Failure};

/// Default manifest file name in the output folder.
pub const MANIFEST_NAME: &str = "ava3-manifest.json";

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Manifest {
    /// Version of this manifest layout (1).
    pub manifest_version: u32,
    /// The tool that wrote it.
    pub tool: String,
    pub files: Vec<Entry>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Entry {
    /// Source path, relative to the batch input folder, `/`-separated.
    pub source: String,
    /// Source size in bytes.
    pub size: u64,
    /// SHA-256 of the source (the plaintext).
    pub plaintext_sha256: String,
    /// Output path, relative to the manifest's folder, `/`-separated.
    pub output: String,
    /// SHA-256 of the output file's bytes (what `sha256sum`, a CDN or a
    /// store reports). Absent in manifests of earlier versions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_sha256: Option<String>,
    /// The keyless SHA-256 recorded in the output (checkable without a key).
    pub output_keyless_sha256: String,
    /// Key id of the key used.
    pub key_id: String,
    /// `mlc`, `gguf`, `litert` or `unknown`.
    pub payload_kind: String,
    /// AVA3 format version.
    pub format_version: u16,
    /// The source file as it was encoded (device, inode, change time): what
    /// "up to date" compares. Absent in manifests of earlier versions (their
    /// entries are re-encoded once).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_stat: Option<SourceStat>,
    /// Signer ids of the publisher signatures in the output (format
    /// version 2). Absent when unsigned.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub signers: Vec<String>,
    /// The model version recorded in the output (format version 2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_version: Option<u64>,
}

/// What identifies a source file's content without reading it: its device
/// and inode, and its change time, which every write, `chmod`, `cp -p` and
/// `touch -r` moves and no user can set back (unlike the modification time).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub struct SourceStat {
    pub device: u64,
    pub inode: u64,
    /// Change time in nanoseconds since the epoch.
    pub ctime_ns: i64,
}

impl SourceStat {
    #[cfg(unix)]
    pub fn of(meta: &std::fs::Metadata) -> Self {
        use std::os::unix::fs::MetadataExt;
        let (device, inode) = crate::output::file_id(meta);
        Self {
            device,
            inode,
            ctime_ns: meta
                .ctime()
                .saturating_mul(1_000_000_000)
                .saturating_add(meta.ctime_nsec()),
        }
    }
}

impl Manifest {
    pub fn new(files: Vec<Entry>) -> Self {
        Self {
            manifest_version: 1,
            tool: format!("ava3 {}", env!("CARGO_PKG_VERSION")),
            files,
        }
    }

    /// Reads a manifest's bytes, once, at most 256 MiB. The user names it,
    /// so a pipe will do (`verify -c <(...)`); the files it names are held
    /// to stricter rules.
    pub fn read_bytes(path: &Path) -> AppResult<Vec<u8>> {
        read_limited(path, 256 << 20, false).map_err(|e| {
            Failure::io_error(
                format!("cannot read manifest {}: {e}", crate::display::shown(path)),
                &e,
            )
        })
    }

    /// The bytes of a manifest's signature file, `None` when there is none
    /// (nothing at that path, not even a dangling link); read as a regular
    /// file of at most 1024 bytes (16 signatures).
    pub fn read_signature(manifest: &Path) -> AppResult<Option<Vec<u8>>> {
        let path = manifest_signature_path(manifest);
        if let Err(e) = std::fs::symlink_metadata(&path) {
            if e.kind() == std::io::ErrorKind::NotFound {
                return Ok(None);
            }
        }
        read_limited(&path, 1024, true)
            .map(Some)
            .map_err(|e| Failure::bad(format!("cannot read {}: {e}", crate::display::shown(&path))))
    }

    /// Parses a manifest's bytes (read once: the bytes whose signature was
    /// checked are the bytes parsed); `path` names it in messages.
    pub fn parse(bytes: &[u8], path: &Path) -> AppResult<Self> {
        let m: Self = serde_json::from_slice(bytes).map_err(|e| {
            Failure::usage(format!("manifest {} is not valid: {e}", path.display()))
        })?;
        let mut seen = std::collections::HashSet::new();
        if let Some(e) = m.files.iter().find(|e| !seen.insert(e.output.as_str())) {
            return Err(Failure::bad(format!(
                "manifest {} lists {:?} twice",
                path.display(),
                e.output
            )));
        }
        if m.manifest_version != 1 {
            return Err(Failure::usage(format!(
                "manifest {} has manifest_version {}: this ava3 reads version 1",
                path.display(),
                m.manifest_version
            )));
        }
        Ok(m)
    }

    /// Resolves an entry's output path.
    pub fn output_path(manifest: &Path, entry: &Entry) -> PathBuf {
        let base = manifest.parent().unwrap_or(Path::new("."));
        base.join(&entry.output)
    }
}

/// Opens a regular file for reading without blocking (a FIFO would) and
/// checks it on the open descriptor; with `follow_links` false, a link is
/// refused too. The files a manifest names and its signature file are
/// opened so.
pub fn open_regular(path: &Path, follow_links: bool) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        let nofollow = if follow_links { 0 } else { libc::O_NOFOLLOW };
        options.custom_flags(libc::O_NONBLOCK | nofollow);
    }
    let file = options.open(path)?;
    if !file.metadata()?.is_file() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "not a regular file",
        ));
    }
    Ok(file)
}

/// Reads at most `max` bytes of a file; with `regular_only`, of a regular
/// file only ([`open_regular`]).
fn read_limited(path: &Path, max: u64, regular_only: bool) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let file = if regular_only {
        open_regular(path, true)?
    } else {
        std::fs::File::open(path)?
    };
    let meta = file.metadata()?;
    let invalid =
        |what: &str| std::io::Error::new(std::io::ErrorKind::InvalidInput, what.to_string());
    if meta.is_dir() {
        return Err(invalid("not a regular file"));
    }
    if regular_only && meta.len() > max {
        return Err(invalid(&format!("larger than {max} bytes")));
    }
    let mut bytes = Vec::new();
    file.take(max + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > max {
        return Err(invalid(&format!("larger than {max} bytes")));
    }
    Ok(bytes)
}

/// Where an output lies as seen from the manifest's folder: `/`-separated,
/// with `..` when the manifest is outside the output folder (`--manifest
/// elsewhere/m.json`). Both are resolved (links, `.`, `..`) first, so that
/// `verify --manifest` finds the file again from the manifest's folder
/// whatever the working directory.
pub fn relative_to_manifest(output: &Path, manifest_dir: &Path) -> String {
    let base = resolve(manifest_dir);
    let target = resolve(output);
    let common = base
        .components()
        .zip(target.components())
        .take_while(|(a, b)| a == b)
        .count();
    let ups = base.components().count() - common;
    let mut parts: Vec<String> = vec!["..".to_string(); ups];
    parts.extend(
        target
            .components()
            .skip(common)
            .map(|c| c.as_os_str().to_string_lossy().into_owned()),
    );
    parts.join("/")
}

/// `p` made absolute and resolved as far as it exists (an output may not
/// exist yet; its folder does).
fn resolve(p: &Path) -> PathBuf {
    let p = if p.as_os_str().is_empty() {
        Path::new(".")
    } else {
        p
    };
    if let Ok(c) = p.canonicalize() {
        return c;
    }
    match (p.parent(), p.file_name()) {
        (Some(dir), Some(name)) => resolve(dir).join(name),
        _ => std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf()),
    }
}

/// A path relative to `base` with `/` separators, when it is below `base`.
pub fn relative(path: &Path, base: &Path) -> String {
    let rel = path.strip_prefix(base).unwrap_or(path);
    rel.components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

/// The detached signature of a manifest: `MANIFEST.sig`.
pub fn manifest_signature_path(manifest: &Path) -> PathBuf {
    let mut p = manifest.as_os_str().to_owned();
    p.push(".sig");
    p.into()
}

/// Writes `MANIFEST.sig`: the Ed25519 signatures by each signing key, 64
/// bytes each, in `--sign` order, of `"AVA3-manifest-v1" || 0x00 ||` the
/// manifest's bytes (one key: a plain signature file that `openssl pkeyutl
/// -verify -rawin` checks over that message). Without
/// signing keys a signature left by an earlier run is removed, since it no
/// longer matches.
pub fn sign_manifest(
    manifest: &Path,
    signers: &[std::sync::Arc<ava3_format::SigningKey>],
) -> AppResult<()> {
    let sig_path = manifest_signature_path(manifest);
    if signers.is_empty() {
        let _ = std::fs::remove_file(&sig_path);
        return Ok(());
    }
    let bytes = std::fs::read(manifest).map_err(|e| {
        Failure::io_error(
            format!("cannot read {}: {e}", crate::display::shown(manifest)),
            &e,
        )
    })?;
    let keys: Vec<&ava3_format::SigningKey> = signers.iter().map(|k| k.as_ref()).collect();
    let sigs = ava3_format::sign_manifest(&bytes, &keys)
        .map_err(|e| Failure::from_core(manifest.display(), e))?;
    let mut file = crate::output::AtomicFile::create(&sig_path)?;
    {
        use std::io::Write;
        file.writer()
            .write_all(&sigs)
            .map_err(|e| Failure::io(sig_path.display(), e))?;
    }
    file.commit(true)
}
