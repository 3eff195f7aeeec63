//! Writing outputs safely: a temporary file in the destination folder,
//! synced, then renamed over the destination. A failed or interrupted run
//! leaves no partial output and never damages an existing one.

use std::fs::File;
use std::io::{self, BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::thread::JoinHandle;

use ava3_format::WriteAt;

use tempfile::NamedTempFile;

use crate::error::{AppResult, Failure};

/// True when `path` means standard input or output.
pub fn is_dash(path: &Path) -> bool {
    path.as_os_str() == "-"
}

/// Refuses when `output` exists (without `force`) or is the same file as `input`.
pub fn check_destination(
    input: Option<&Path>,
    output: &Path,
    force: bool,
    names: &crate::names::Names,
) -> AppResult<()> {
    if let Some(input) = input {
        if same_file(input, output) {
            return Err(Failure::usage(format!(
                "input and output are the same file: {}",
                output.display()
            )));
        }
    }
    if output.is_dir() {
        return Err(Failure::usage(format!(
            "{} is a folder: {}",
            output.display(),
            names.output_in_folder
        )));
    }
    if !force && output.exists() {
        return Err(Failure::usage(format!(
            "{} exists: {}",
            output.display(),
            names.force
        )));
    }
    Ok(())
}

/// A file's device and inode: what makes it the same file whatever path
/// reaches it.
pub type FileId = (u64, u64);

/// The id of the file `meta` describes.
#[cfg(unix)]
pub fn file_id(meta: &std::fs::Metadata) -> FileId {
    use std::os::unix::fs::MetadataExt;
    (meta.dev(), meta.ino())
}

#[cfg(unix)]
fn same_file(a: &Path, b: &Path) -> bool {
    match (std::fs::metadata(a), std::fs::metadata(b)) {
        (Ok(x), Ok(y)) => file_id(&x) == file_id(&y),
        _ => false,
    }
}

#[cfg(not(unix))]
fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(x), Ok(y)) => x == y,
        _ => false,
    }
}

/// Removes temporary files that an earlier run killed while writing `dest`
/// left beside it (`.NAME.XXXXXX.tmp`). Returns how many were removed.
pub fn remove_stale_temporaries(dest: &Path) -> usize {
    let (Some(dir), Some(name)) = (dest.parent(), dest.file_name()) else {
        return 0;
    };
    let prefix = format!(".{}.", name.to_string_lossy());
    let Ok(entries) = std::fs::read_dir(if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    }) else {
        return 0;
    };
    let mut removed = 0;
    for e in entries.flatten() {
        let n = e.file_name().to_string_lossy().into_owned();
        if n.starts_with(&prefix) && n.ends_with(".tmp") && std::fs::remove_file(e.path()).is_ok() {
            removed += 1;
        }
    }
    removed
}

/// The file being written before it gets the destination's name.
enum Temp {
    /// A hidden `.NAME.XXXXXX.tmp` beside the destination, renamed into
    /// place (listed in [`LIVE`] so that a signal removes it).
    Named(NamedTempFile),
    /// Linux: an `O_TMPFILE` in the destination's folder, which has no name
    /// until it is linked in complete: a crash, `SIGKILL` or power loss
    /// leaves nothing behind. Used for plaintext where the filesystem
    /// supports it.
    #[cfg(any(target_os = "linux", target_os = "android"))]
    Unnamed { file: File, dir: PathBuf },
}

impl Temp {
    fn as_file(&self) -> &File {
        match self {
            Temp::Named(t) => t.as_file(),
            #[cfg(any(target_os = "linux", target_os = "android"))]
            Temp::Unnamed { file, .. } => file,
        }
    }
}

/// Opens an unnamed file in `dir` (mode 0600 less the umask), or `None`
/// where the kernel or the filesystem has no `O_TMPFILE`.
#[cfg(any(target_os = "linux", target_os = "android"))]
fn unnamed_in(dir: &Path) -> Option<File> {
    use rustix::fs::{Mode, OFlags};
    let flags = OFlags::TMPFILE | OFlags::RDWR | OFlags::CLOEXEC;
    rustix::fs::open(dir, flags, Mode::from_raw_mode(0o600))
        .ok()
        .map(File::from)
}

/// Gives the unnamed `file` the name `dest` (failing if `dest` exists):
/// through `/proc/self/fd`, else `AT_EMPTY_PATH` (which needs
/// `CAP_DAC_READ_SEARCH`).
#[cfg(any(target_os = "linux", target_os = "android"))]
fn link_unnamed(file: &File, dest: &Path) -> io::Result<()> {
    use rustix::fs::{linkat, AtFlags, CWD};
    use std::os::fd::AsRawFd;
    let proc_path = format!("/proc/self/fd/{}", file.as_raw_fd());
    match linkat(CWD, proc_path.as_str(), CWD, dest, AtFlags::SYMLINK_FOLLOW) {
        Ok(()) => Ok(()),
        Err(e) if e == rustix::io::Errno::EXIST => Err(e.into()),
        Err(_) => Ok(linkat(file, "", CWD, dest, AtFlags::EMPTY_PATH)?),
    }
}

/// Bytes written between two background writebacks.
const WRITEBACK_EVERY: u64 = 64 << 20;

/// The temporary file, with writeback started in the background every
/// `WRITEBACK_EVERY` bytes (`fdatasync` on a second handle, in a helper
/// thread), so that the final `fsync` before the rename has little left to
/// flush and the disk works while the encoder computes. Written either as a
/// stream ([`Write`]) or by offset from several threads ([`WriteAt`]).
pub struct SyncingFile {
    file: Temp,
    since: AtomicU64,
    inflight: Mutex<Option<JoinHandle<io::Result<()>>>>,
}

impl std::fmt::Debug for SyncingFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SyncingFile").finish_non_exhaustive()
    }
}

impl SyncingFile {
    fn wrote(&self, n: usize) {
        let before = self.since.fetch_add(n as u64, Ordering::Relaxed);
        if before + n as u64 >= WRITEBACK_EVERY {
            self.start_writeback();
        }
    }

    fn start_writeback(&self) {
        let mut inflight = self.inflight.lock().unwrap_or_else(PoisonError::into_inner);
        if inflight.as_ref().is_some_and(|h| !h.is_finished()) {
            return;
        }
        if let Some(h) = inflight.take() {
            // An error here shows again in the final fsync.
            let _ = h.join();
        }
        if let Ok(clone) = self.file.as_file().try_clone() {
            *inflight = Some(std::thread::spawn(move || clone.sync_data()));
            self.since.store(0, Ordering::Relaxed);
        }
    }

    fn finish(self) -> io::Result<Temp> {
        let inflight = self
            .inflight
            .into_inner()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(h) = inflight {
            h.join()
                .map_err(|_| io::Error::other("writeback thread failed"))??;
        }
        self.file.as_file().sync_all()?;
        Ok(self.file)
    }
}

impl Write for SyncingFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.file.as_file().write(buf)?;
        self.wrote(n);
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.file.as_file().flush()
    }
}

impl WriteAt for SyncingFile {
    fn write_all_at(&self, buf: &[u8], offset: u64) -> io::Result<()> {
        self.file.as_file().write_all_at(buf, offset)?;
        self.wrote(buf.len());
        Ok(())
    }
}

/// The temporary files being written now, removed by [`remove_live`] when a
/// signal ends the process (the stack does not unwind then). A path stays
/// listed after an error has already removed its file; removing it again
/// does nothing.
static LIVE: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

fn live() -> std::sync::MutexGuard<'static, Vec<PathBuf>> {
    LIVE.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Removes every temporary file still being written; returns how many.
/// Called on SIGINT, SIGTERM and SIGHUP just before the process exits, so
/// that an interrupted encode, batch, decode or rekey leaves no partial
/// output and no plaintext behind.
pub fn remove_live() -> usize {
    let paths = std::mem::take(&mut *live());
    paths
        .iter()
        .filter(|p| std::fs::remove_file(p).is_ok())
        .count()
}

/// Who may read an output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// `.ava3` files and manifests: created with mode 0666 less the umask,
    /// like any file a command writes.
    Public,
    /// Decoded plaintext: 0600, and a file it replaces (`--force`) never
    /// becomes more readable than it was.
    Private,
}

/// A file being written: a temporary file beside the destination.
pub struct AtomicFile {
    tmp: BufWriter<SyncingFile>,
    dest: PathBuf,
    access: Access,
}

impl std::fmt::Debug for AtomicFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AtomicFile")
            .field("dest", &self.dest)
            .finish_non_exhaustive()
    }
}

impl AtomicFile {
    /// Creates the temporary file of a public output in the destination's
    /// folder.
    pub fn create(dest: &Path) -> AppResult<Self> {
        Self::create_with(dest, Access::Public)
    }

    /// Creates the temporary file of a plaintext output: 0600 from its
    /// first byte.
    pub fn create_private(dest: &Path) -> AppResult<Self> {
        Self::create_with(dest, Access::Private)
    }

    fn create_with(dest: &Path, access: Access) -> AppResult<Self> {
        let dir = match dest.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let name = dest
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "output".to_string());
        #[cfg(any(target_os = "linux", target_os = "android"))]
        let unnamed = match access {
            Access::Private => unnamed_in(&dir),
            Access::Public => None,
        };
        #[cfg(not(any(target_os = "linux", target_os = "android")))]
        let unnamed: Option<File> = None;
        let tmp = match unnamed {
            #[cfg(any(target_os = "linux", target_os = "android"))]
            Some(file) => Temp::Unnamed { file, dir },
            _ => Temp::Named(named_temp(&dir, &name, access)?),
        };
        Ok(Self {
            tmp: BufWriter::with_capacity(
                1 << 20,
                SyncingFile {
                    file: tmp,
                    since: AtomicU64::new(0),
                    inflight: Mutex::new(None),
                },
            ),
            dest: dest.to_path_buf(),
            access,
        })
    }

    /// The writer, for a stream.
    pub fn writer(&mut self) -> &mut BufWriter<SyncingFile> {
        &mut self.tmp
    }

    /// The file, for writes by offset (nothing may be buffered in
    /// [`AtomicFile::writer`] meanwhile).
    pub fn positional(&self) -> &SyncingFile {
        self.tmp.get_ref()
    }

    /// Flushes, syncs and renames into place (replacing an existing file
    /// only when `force`).
    pub fn commit(self, force: bool) -> AppResult<()> {
        let dest = self.dest;
        let tmp = self
            .tmp
            .into_inner()
            .map_err(|e| {
                Failure::io_error(
                    format!("cannot write {}: {}", dest.display(), e.error()),
                    e.error(),
                )
            })?
            .finish()
            .map_err(|e| Failure::io_error(format!("cannot write {}: {e}", dest.display()), &e))?;
        if self.access == Access::Private {
            restrict_to_existing(tmp.as_file(), &dest);
        }
        let created =
            |e: io::Error| Failure::io_error(format!("cannot create {}: {e}", dest.display()), &e);
        match tmp {
            Temp::Named(tmp) => persist(tmp, &dest, force).map_err(created)?,
            #[cfg(any(target_os = "linux", target_os = "android"))]
            Temp::Unnamed { file, dir } => {
                if !force {
                    link_unnamed(&file, &dest).map_err(created)?;
                } else {
                    // Linked complete under a hidden name, then renamed over
                    // the destination: at no time is a partial file named.
                    let name = dest.file_name().map(|n| n.to_string_lossy().into_owned());
                    let hidden = tempfile::Builder::new()
                        .prefix(&format!(".{}.", name.as_deref().unwrap_or("output")))
                        .suffix(".tmp")
                        .make_in(&dir, |p| link_unnamed(&file, p))
                        .map_err(created)?;
                    live().push(hidden.path().to_path_buf());
                    persist(hidden, &dest, true).map_err(created)?;
                }
            }
        }
        sync_parent(&dest);
        Ok(())
    }
}

/// A hidden `.NAME.XXXXXX.tmp` in `dir`, listed in [`LIVE`].
fn named_temp(dir: &Path, name: &str, access: Access) -> AppResult<NamedTempFile> {
    let prefix = format!(".{name}.");
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix).suffix(".tmp");
    #[cfg(unix)]
    builder.permissions(create_mode(access));
    #[cfg(not(unix))]
    let _ = access;
    let tmp = builder
        .tempfile_in(dir)
        .map_err(|e| cannot_create_in(dir, &e))?;
    live().push(tmp.path().to_path_buf());
    Ok(tmp)
}

/// Why no file could be made in the output folder `dir`, naming the folder
/// the user gave (never the hidden temporary file's name).
fn cannot_create_in(dir: &Path, e: &io::Error) -> Failure {
    if e.kind() == io::ErrorKind::NotFound {
        return Failure::io_error(
            format!("the output folder {} does not exist", dir.display()),
            e,
        );
    }
    // The OS's words alone: tempfile's message also names its file.
    let why = e
        .raw_os_error()
        .map(|c| io::Error::from_raw_os_error(c).to_string())
        .unwrap_or_else(|| e.kind().to_string());
    Failure::io_error(
        format!("cannot create a file in {}: {why}", dir.display()),
        e,
    )
}

/// Renames a named temporary file to `dest` (refusing an existing `dest`
/// unless `force`) and takes it off [`LIVE`].
fn persist<F>(tmp: NamedTempFile<F>, dest: &Path, force: bool) -> io::Result<()> {
    let tmp_path = tmp.path().to_path_buf();
    let persisted = if force {
        tmp.persist(dest).map(|_| ())
    } else {
        tmp.persist_noclobber(dest).map(|_| ())
    };
    live().retain(|p| *p != tmp_path);
    persisted.map_err(|e| e.error)
}

/// The mode a temporary file is created with; the kernel takes the umask
/// off it (so a public output honours the umask, and a private one is 0600
/// or less).
#[cfg(unix)]
fn create_mode(access: Access) -> std::fs::Permissions {
    use std::os::unix::fs::PermissionsExt;
    std::fs::Permissions::from_mode(match access {
        Access::Public => 0o666,
        Access::Private => 0o600,
    })
}

/// A private output replacing `dest` keeps no more access than `dest` had.
#[cfg(unix)]
fn restrict_to_existing(f: &File, dest: &Path) {
    use std::os::unix::fs::PermissionsExt;
    if let Ok(old) = std::fs::metadata(dest) {
        let mode = 0o600 & old.permissions().mode();
        let _ = f.set_permissions(std::fs::Permissions::from_mode(mode));
    }
}

#[cfg(not(unix))]
fn restrict_to_existing(_f: &File, _dest: &Path) {}

/// Syncs the folder so that the rename itself is durable.
fn sync_parent(dest: &Path) {
    if let Some(dir) = dest.parent().filter(|p| !p.as_os_str().is_empty()) {
        if let Ok(d) = File::open(dir) {
            let _ = d.sync_all();
        }
    }
}

/// Standard output for binary data; refuses a terminal.
pub fn binary_stdout() -> AppResult<io::Stdout> {
    let out = io::stdout();
    if out.is_terminal() {
        return Err(Failure::usage(
            "refusing to write binary data to a terminal: redirect it or use -o FILE",
        ));
    }
    Ok(out)
}

/// True for the error of a write to a closed pipe (the reader went away:
/// not an error of ours).
pub fn is_broken_pipe(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::BrokenPipe
}

/// A writer that hashes what goes through it.
pub struct Sha256Writer<W> {
    pub inner: W,
    pub sha: sha2::Sha256,
}

impl<W> std::fmt::Debug for Sha256Writer<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sha256Writer").finish_non_exhaustive()
    }
}

impl<W: Write> Write for Sha256Writer<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        sha2::Digest::update(&mut self.sha, &buf[..n]);
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}
