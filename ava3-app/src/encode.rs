//! One model into AVA3: a regular file (its size known: encoded on
//! several lanes by offset, or streamed through a shared pool in a batch),
//! or a stream read whole (standard input, a FIFO), into a file named only
//! once complete and synced, or into standard output. The payload kind is
//! decided once here, from the caller's choice, the name and the content.

use std::fs::File;
use std::io::{self, BufWriter, Read, Write};
use std::path::Path;
use std::time::SystemTime;

use std::sync::Arc;

use ava3_format::{
    encode_at, Content, EncodeOptions, EncodeSummary, Encoder, Error, MasterKey, Metadata,
    PayloadKind, SequentialSink, SigningKey, WriteAt,
};
use indicatif::ProgressBar;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::display::{printable, shown};
use crate::error::{AppResult, Failure};
use crate::output::{
    binary_stdout, check_destination, file_id, is_broken_pipe, is_dash, AtomicFile, FileId,
    Sha256Writer,
};
use crate::progress::bytes_bar;

/// Settings shared by single and batch encodes.
#[derive(Clone, Debug)]
pub struct EncodeSettings {
    /// The payload kind; `None` decides it from the extension, else the
    /// content.
    pub kind: Option<PayloadKind>,
    pub allow_mismatch: bool,
    pub block_size: u32,
    pub force: bool,
    pub quiet: bool,
    /// Encode a file on this many threads by offset (`encode_at`), or, when
    /// `None`, stream it through the shared rayon pool (`--batch`, where
    /// files and blocks share the pool).
    pub lanes: Option<usize>,
    /// The model name and version to record.
    pub metadata: Metadata,
    /// The publisher keys that sign each output.
    pub signers: Vec<Arc<SigningKey>>,
    /// Stops the encode at its next read once tripped (no output left).
    pub cancel: crate::Cancel,
    /// A bar shared by several files (a batch's) that counts this file's
    /// bytes too, instead of a bar of its own.
    pub progress: Option<ProgressBar>,
    /// How the front end names the options its messages point to.
    pub names: &'static crate::names::Names,
}

/// Why an encode's signing settings are refused, whatever the input (each
/// front end names its own flag or argument).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SigningProblem {
    /// A model name for a tree: every file would get the same name.
    NameForTree,
    /// A model name that is empty or longer than 255 bytes.
    NameLength,
    /// More signing keys than a file has room for (16).
    TooManySigners,
}

impl EncodeSettings {
    /// What is wrong with the name, version and signing keys for a
    /// one-file encode (`tree` false) or a tree, if anything.
    pub fn signing_problem(&self, tree: bool) -> Option<SigningProblem> {
        let name = self.metadata.name.as_deref();
        if tree && name.is_some() {
            Some(SigningProblem::NameForTree)
        } else if name.is_some_and(|n| n.is_empty() || n.len() > ava3_format::MAX_NAME_LEN) {
            Some(SigningProblem::NameLength)
        } else if self.signers.len() > usize::from(ava3_format::MAX_SIGNATURES) {
            Some(SigningProblem::TooManySigners)
        } else {
            None
        }
    }
}

/// Refuses a block size that breaks the rule; `what` names it (the flag,
/// or the parameter of the Python API).
pub fn check_block_size(block_size: u32, what: &str) -> AppResult<()> {
    if ava3_format::block_size_is_valid(block_size) {
        Ok(())
    } else {
        Err(Failure::usage(format!(
            "{what} {block_size} is not {}",
            ava3_format::BLOCK_SIZE_RULE
        )))
    }
}

/// Decides the payload kind from the flag, the name and the first bytes,
/// refusing AVA3 input and content that does not fit the container.
pub fn decide_kind(
    path: Option<&Path>,
    head: &[u8],
    chosen: Option<PayloadKind>,
    allow_mismatch: bool,
    names: &crate::names::Names,
) -> AppResult<PayloadKind> {
    let content = Content::sniff(head);
    if content == Content::Ava3 {
        return Err(Failure::bad(
            "the input is already an AVA3 file; refusing to encode it again",
        ));
    }
    // The caller's choice; else the extension; else the content, sniffed
    // once above.
    let kind = chosen.unwrap_or_else(|| {
        path.and_then(PayloadKind::from_extension)
            .unwrap_or_else(|| content.kind())
    });
    if !content.fits(kind) {
        if !allow_mismatch {
            return Err(Failure::bad(format!(
                "the payload kind is {kind} but the bytes look like {}; use {} to encode it anyway",
                content.describe(),
                names.allow_mismatch
            )));
        }
        // Encoded as asked, but said: `verify` checks the same thing.
        eprintln!(
            "ava3: warning: {}the payload kind is {kind} but the bytes look like {}: encoded as \
             asked; a keyed verify reports `kind mismatch` for it unless given {}",
            path.map(|p| format!("{}: ", printable(&p.display().to_string())))
                .unwrap_or_default(),
            content.describe(),
            names.allow_mismatch
        );
    }
    Ok(kind)
}

/// The first bytes of a file, for sniffing (the file position moves past
/// them; the caller feeds them to the encoder first).
fn read_head(file: &File) -> io::Result<Vec<u8>> {
    let mut head = Vec::with_capacity(Content::SNIFF_LEN);
    file.take(Content::SNIFF_LEN as u64)
        .read_to_end(&mut head)?;
    Ok(head)
}

fn stamp(meta: &std::fs::Metadata) -> (u64, Option<SystemTime>) {
    (meta.len(), meta.modified().ok())
}

fn encoding_error(input: &Path, e: Error) -> Failure {
    match e {
        Error::LengthMismatch { .. } => Failure::bad(format!(
            "{}: the input changed while it was being encoded ({e}); nothing was written",
            input.display()
        )),
        other => Failure::from_core(input.display(), other),
    }
}

/// An input file opened for encoding.
struct Input {
    file: File,
    len: u64,
    before: (u64, Option<SystemTime>),
    /// The first bytes, already read (the file position is past them).
    head: Vec<u8>,
    kind: PayloadKind,
}

/// Opens a file that a folder walk found as `expect`: without following a
/// link in its last component and non-blocking (a FIFO swapped in cannot
/// hang the run), and only if it is still that very regular file. Whatever
/// was swapped in along the path since the walk (a link to a key file,
/// another file, a FIFO) is refused rather than encoded.
#[cfg(unix)]
fn open_walked(input: &Path, expect: FileId) -> AppResult<File> {
    use std::os::unix::fs::OpenOptionsExt;
    let changed = || {
        Failure::bad(format!(
            "{}: not the file the folder walk found (a link or another file was put in its place); not encoded",
            input.display()
        ))
    };
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(input)
        .map_err(|e| {
            if e.raw_os_error() == Some(libc::ELOOP) {
                changed()
            } else {
                Failure::io_error(format!("cannot open {}: {e}", shown(input)), &e)
            }
        })?;
    let meta = file
        .metadata()
        .map_err(|e| Failure::io_error(format!("cannot read {}: {e}", shown(input)), &e))?;
    if !meta.is_file() || file_id(&meta) != expect {
        return Err(changed());
    }
    Ok(file)
}

/// Opens `path` for reading without blocking in the open itself: a FIFO
/// with no writer would otherwise hold the call (and a caller's
/// cancellation) forever before the regular-file check refuses it.
/// `O_NONBLOCK` changes nothing for a regular file's reads.
fn open_nonblocking(path: &Path) -> io::Result<File> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::custom_flags(&mut options, libc::O_NONBLOCK);
    options.open(path)
}

impl Input {
    /// Opens `input` (as the folder walk saw it, when `walked` is given),
    /// refuses a folder, sniffs and decides the payload kind.
    fn open(input: &Path, s: &EncodeSettings, walked: Option<FileId>) -> AppResult<Self> {
        let file = match walked {
            #[cfg(unix)]
            Some(id) => open_walked(input, id)?,
            _ => open_nonblocking(input)
                .map_err(|e| Failure::io_error(format!("cannot open {}: {e}", shown(input)), &e))?,
        };
        let meta = file
            .metadata()
            .map_err(|e| Failure::io_error(format!("cannot read {}: {e}", shown(input)), &e))?;
        if meta.is_dir() {
            return Err(Failure::usage(format!(
                "{} is a folder: {}",
                input.display(),
                s.names.tree
            )));
        }
        if !meta.is_file() {
            // Its length is not its content's: never encode it by length.
            return Err(Failure::usage(format!(
                "{} is not a regular file",
                input.display()
            )));
        }
        let head = read_head(&file).map_err(|e| Failure::io(input.display(), e))?;
        let kind = decide_kind(Some(input), &head, s.kind, s.allow_mismatch, s.names)
            .map_err(|f| f.context(input.display()))?;
        Ok(Self {
            file,
            len: meta.len(),
            before: stamp(&meta),
            head,
            kind,
        })
    }

    /// The options of this file's encode on `threads` threads (0: the
    /// current rayon pool).
    fn options(&self, s: &EncodeSettings, threads: usize) -> EncodeOptions {
        EncodeOptions {
            block_size: s.block_size,
            payload_kind: self.kind,
            threads,
            metadata: s.metadata.clone(),
            signers: s.signers.clone(),
        }
    }

    /// Encodes the file by offset on `lanes` threads into `dest`.
    fn encode_at<W: WriteAt + ?Sized>(
        &self,
        dest: &W,
        key: &MasterKey,
        s: &EncodeSettings,
        lanes: usize,
        bar: &ProgressBar,
    ) -> Result<EncodeSummary, Error> {
        let progress = |n| bar.inc(n);
        encode_at(
            &s.cancel.guard(&self.file),
            dest,
            key,
            self.len,
            &self.options(s, lanes),
            &progress,
        )
    }

    /// Streams the rest of the file (after the sniffed head) into `enc`.
    fn stream_into<W: Write + Send>(
        &self,
        mut enc: Encoder<W>,
        bar: &ProgressBar,
        cancel: &crate::Cancel,
    ) -> Result<(W, EncodeSummary), Error> {
        enc.write_all(&self.head).map_err(Error::from_io)?;
        let mut reader = bar.wrap_read(cancel.guard(&self.file));
        enc.write_from(&mut reader)?;
        enc.finish()
    }

    /// Fails when the file's length or modification time changed since it
    /// was opened.
    fn check_unchanged(&self, path: &Path, outcome: &str) -> AppResult<()> {
        let after = std::fs::metadata(path)
            .map(|m| stamp(&m))
            .map_err(|e| Failure::io_error(format!("cannot read {}: {e}", shown(path)), &e))?;
        if after != self.before {
            return Err(Failure::bad(format!(
                "{}: the input changed while it was being encoded; {outcome}",
                path.display()
            )));
        }
        Ok(())
    }
}

/// What an encode of one file produced. A file output is complete and
/// synced but has no name until [`Encoded::commit`].
pub struct Encoded {
    pub summary: EncodeSummary,
    /// Plaintext bytes.
    pub size: u64,
    /// SHA-256 of the AVA3 file's own bytes, when it was written as a
    /// stream (`--batch`): what `sha256sum` or a CDN reports for it.
    pub output_sha256: Option<[u8; 32]>,
    /// The output file waiting for its name, and whether it may replace
    /// an existing file.
    pending: Option<(AtomicFile, bool)>,
}

impl std::fmt::Debug for Encoded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Encoded")
            .field("summary", &self.summary)
            .field("size", &self.size)
            .finish_non_exhaustive()
    }
}

impl Encoded {
    /// Gives a file output its name (standard output has nothing to do).
    pub fn commit(&mut self) -> AppResult<()> {
        match self.pending.take() {
            Some((out, force)) => out.commit(force),
            None => Ok(()),
        }
    }
}

/// Where an encode goes: a file, written atomically (with `-j` lanes by
/// offset, or streamed through the shared pool when `lanes` is `None`, as
/// `--batch` does), or standard output, written in order by the lanes (the
/// length is known, so nothing is held in memory).
#[derive(Debug, Clone, Copy)]
pub enum Target<'a> {
    File(&'a Path),
    Stdout,
}

/// Encodes one regular file into `target`. Used by `encode` and `--batch`
/// (which passes the id its walk saw, which it opens again without following links). Stops at the
/// next read once `s.cancel` is tripped, leaving no output.
pub fn encode_file(
    input: &Path,
    walked: Option<FileId>,
    target: Target<'_>,
    key: &MasterKey,
    s: &EncodeSettings,
) -> AppResult<Encoded> {
    s.cancel.check()?;
    encode_file_uncancelled(input, walked, target, key, s).map_err(|f| s.cancel.or_interrupted(f))
}

/// [`encode_file`], whatever the cancel token says.
fn encode_file_uncancelled(
    input: &Path,
    walked: Option<FileId>,
    target: Target<'_>,
    key: &MasterKey,
    s: &EncodeSettings,
) -> AppResult<Encoded> {
    let src = Input::open(input, s, walked)?;
    let own_bar = s.progress.is_none();
    let bar = match &s.progress {
        Some(shared) => shared.clone(),
        None => bytes_bar(src.len, s.quiet, &input.display().to_string()),
    };
    let mut output_sha256 = None;
    let mut pending = None;
    let summary = match target {
        Target::File(output) => {
            check_destination(Some(input), output, s.force, s.names)?;
            let mut out = AtomicFile::create(output)?;
            let summary = match s.lanes {
                Some(lanes) => src
                    .encode_at(out.positional(), key, s, lanes, &bar)
                    .map_err(|e| encoding_error(input, e))?,
                None => {
                    let w = Sha256Writer {
                        inner: out.writer(),
                        sha: Sha256::new(),
                    };
                    let enc = Encoder::new(w, key, src.len, &src.options(s, 0))
                        .map_err(|e| Failure::from_core(output.display(), e))?;
                    let (w, summary) = src
                        .stream_into(enc, &bar, &s.cancel)
                        .map_err(|e| encoding_error(input, e))?;
                    output_sha256 = Some(w.sha.finalize().into());
                    summary
                }
            };
            if own_bar {
                bar.finish_and_clear();
            }
            src.check_unchanged(input, "nothing was written")?;
            pending = Some((out, s.force));
            summary
        }
        Target::Stdout => {
            let sink = SequentialSink::new(BufWriter::with_capacity(1 << 20, binary_stdout()?));
            let to_stdout = |e: Error| match e {
                Error::Io(e) if is_broken_pipe(&e) => Failure::stdout_closed(),
                e => encoding_error(input, e),
            };
            let lanes = s.lanes.unwrap_or_else(|| crate::threads(None).unwrap_or(1));
            let summary = src
                .encode_at(&sink, key, s, lanes, &bar)
                .map_err(to_stdout)?;
            sink.into_inner()
                .flush()
                .map_err(|e| to_stdout(Error::Io(e)))?;
            if own_bar {
                bar.finish_and_clear();
            }
            src.check_unchanged(input, "the output is not valid")?;
            summary
        }
    };
    Ok(Encoded {
        summary,
        size: src.len,
        output_sha256,
        pending,
    })
}

/// A stream with no length up front (standard input, a FIFO, a process
/// substitution, a character device), read whole, to a file or standard
/// output. `path` names it for messages and for the kind by extension.
pub fn encode_stream(
    source: &mut dyn Read,
    path: Option<&Path>,
    output: &Path,
    key: &MasterKey,
    s: &EncodeSettings,
) -> AppResult<(EncodeSummary, u64)> {
    let mut data: Zeroizing<Vec<u8>> = Zeroizing::new(Vec::new());
    source.read_to_end(&mut data).map_err(|e| {
        let what = path.map_or("standard input".to_string(), |p| p.display().to_string());
        Failure::io_error(format!("cannot read {what}: {e}"), &e)
    })?;
    let head = &data[..data.len().min(Content::SNIFF_LEN)];
    let kind = decide_kind(path, head, s.kind, s.allow_mismatch, s.names)?;
    let opts = EncodeOptions {
        block_size: s.block_size,
        payload_kind: kind,
        threads: 0,
        metadata: s.metadata.clone(),
        signers: s.signers.clone(),
    };
    let encode_into = |w: BufWriter<io::Stdout>| -> Result<EncodeSummary, Error> {
        let mut enc = Encoder::new(w, key, data.len() as u64, &opts)?;
        enc.write_all(&data).map_err(Error::from_io)?;
        let (mut w, summary) = enc.finish()?;
        w.flush()?;
        Ok(summary)
    };
    if is_dash(output) {
        let stdout = binary_stdout()?;
        match encode_into(BufWriter::with_capacity(1 << 20, stdout)) {
            Ok(summary) => Ok((summary, data.len() as u64)),
            Err(Error::Io(e)) if is_broken_pipe(&e) => Err(Failure::stdout_closed()),
            Err(e) => Err(Failure::from_core("standard output", e)),
        }
    } else {
        check_destination(None, output, s.force, s.names)?;
        let mut out = AtomicFile::create(output)?;
        let mut enc = Encoder::new(out.writer(), key, data.len() as u64, &opts)
            .map_err(|e| Failure::from_core(output.display(), e))?;
        enc.write_all(&data)
            .map_err(|e| Failure::io(output.display(), e))?;
        let (_, summary) = enc
            .finish()
            .map_err(|e| Failure::from_core(output.display(), e))?;
        out.commit(s.force)?;
        Ok((summary, data.len() as u64))
    }
}
