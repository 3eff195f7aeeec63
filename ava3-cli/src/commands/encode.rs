//! `ava3 encode FILE`: one file (or standard input) into AVA3.

use std::fs::File;
use std::io::{self, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use std::sync::Arc;

use ava3_format::{
    encode_at, Content, EncodeOptions, EncodeSummary, Encoder, Error, MasterKey, Metadata,
    PayloadKind, SequentialSink, SigningKey, WriteAt,
};
use indicatif::ProgressBar;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::args::{EncodeArgs, KindArg};
use crate::error::{CliResult, Failure};
use crate::keys::require_one_key;
use crate::output::{
    binary_stdout, check_destination, file_id, is_broken_pipe, is_dash, AtomicFile, FileId,
};
use crate::progress::bytes_bar;
use crate::report::{emit, hex32, EncodeRecord};

/// Settings shared by single and batch encodes.
#[derive(Clone, Debug)]
pub struct EncodeSettings {
    pub kind: KindArg,
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
}

impl EncodeSettings {
    pub fn from_args(a: &EncodeArgs) -> CliResult<Self> {
        check_block_size(a.block_size, "--block-size")?;
        if a.batch && a.sign.name.is_some() {
            return Err(Failure::usage(
                "--name names one model: it is not for --batch (each file would get the same name)",
            ));
        }
        if let Some(n) = &a.sign.name {
            if n.is_empty() || n.len() > ava3_format::MAX_NAME_LEN {
                return Err(Failure::usage("--name is 1 to 255 bytes"));
            }
        }
        let signers = crate::keys::load_signing_keys(&a.sign.sign)?;
        if signers.len() > usize::from(ava3_format::MAX_SIGNATURES) {
            return Err(Failure::usage("at most 16 --sign keys"));
        }
        Ok(Self {
            metadata: Metadata {
                name: a.sign.name.clone(),
                version: a.sign.model_version,
            },
            signers,
            kind: a.kind,
            allow_mismatch: a.allow_mismatch,
            block_size: a.block_size,
            force: a.force,
            quiet: a.quiet || a.json,
            // encode_at's lanes are its own threads: no rayon pool needed.
            lanes: Some(crate::threads(a.jobs)?),
        })
    }
}

/// Refuses a block size that breaks the rule; `what` names it (the flag,
/// or the parameter of the Python API).
pub fn check_block_size(block_size: u32, what: &str) -> CliResult<()> {
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
    arg: KindArg,
    allow_mismatch: bool,
) -> CliResult<PayloadKind> {
    let content = Content::sniff(head);
    if content == Content::Ava3 {
        return Err(Failure::bad(
            "the input is already an AVA3 file; refusing to encode it again",
        ));
    }
    let kind = match arg {
        // The extension wins; else the content, sniffed once above.
        KindArg::Auto => path
            .and_then(PayloadKind::from_extension)
            .unwrap_or_else(|| content.kind()),
        KindArg::Mlc => PayloadKind::Mlc,
        KindArg::Gguf => PayloadKind::Gguf,
        KindArg::Litert => PayloadKind::LiteRt,
        KindArg::Unknown => PayloadKind::Unknown,
    };
    if !content.fits(kind) {
        if !allow_mismatch {
            return Err(Failure::bad(format!(
                "the payload kind is {kind} but the bytes look like {}; use --allow-mismatch to encode it anyway",
                content.describe()
            )));
        }
        // Encoded as asked, but said: `verify` checks the same thing.
        eprintln!(
            "ava3: warning: {}the payload kind is {kind} but the bytes look like {}: encoded as \
             asked; `ava3 verify` with a key reports `kind mismatch` for it unless given \
             --allow-mismatch",
            path.map(|p| format!("{}: ", crate::report::printable(&p.display().to_string())))
                .unwrap_or_default(),
            content.describe()
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
fn open_walked(input: &Path, expect: FileId) -> CliResult<File> {
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
                Failure::usage(format!("cannot open {}: {e}", crate::keys::shown(input)))
            }
        })?;
    let meta = file
        .metadata()
        .map_err(|e| Failure::usage(format!("cannot read {}: {e}", crate::keys::shown(input))))?;
    if !meta.is_file() || file_id(&meta) != expect {
        return Err(changed());
    }
    Ok(file)
}

impl Input {
    /// Opens `input` (as the folder walk saw it, when `walked` is given),
    /// refuses a folder, sniffs and decides the payload kind.
    fn open(input: &Path, s: &EncodeSettings, walked: Option<FileId>) -> CliResult<Self> {
        let file = match walked {
            #[cfg(unix)]
            Some(id) => open_walked(input, id)?,
            _ => File::open(input).map_err(|e| {
                Failure::usage(format!("cannot open {}: {e}", crate::keys::shown(input)))
            })?,
        };
        let meta = file.metadata().map_err(|e| {
            Failure::usage(format!("cannot read {}: {e}", crate::keys::shown(input)))
        })?;
        if meta.is_dir() {
            return Err(Failure::usage(format!(
                "{} is a folder: use --batch -o OUTDIR",
                input.display()
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
        let kind = decide_kind(Some(input), &head, s.kind, s.allow_mismatch)
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
            &self.file,
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
    ) -> Result<(W, EncodeSummary), Error> {
        enc.write_all(&self.head).map_err(Error::from_io)?;
        let mut reader = bar.wrap_read(&self.file);
        enc.write_from(&mut reader)?;
        enc.finish()
    }

    /// Fails when the file's length or modification time changed since it
    /// was opened.
    fn check_unchanged(&self, path: &Path, outcome: &str) -> CliResult<()> {
        let after = std::fs::metadata(path).map(|m| stamp(&m)).map_err(|e| {
            Failure::usage(format!("cannot read {}: {e}", crate::keys::shown(path)))
        })?;
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

impl Encoded {
    /// Gives a file output its name (standard output has nothing to do).
    pub fn commit(&mut self) -> CliResult<()> {
        match self.pending.take() {
            Some((out, force)) => out.commit(force),
            None => Ok(()),
        }
    }
}

/// A writer that hashes what goes through it.
pub struct Sha256Writer<W> {
    pub inner: W,
    pub sha: Sha256,
}

impl<W: Write> Write for Sha256Writer<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.sha.update(&buf[..n]);
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
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
/// (which passes the id its walk saw, see [`open_walked`]).
pub fn encode_file(
    input: &Path,
    walked: Option<FileId>,
    target: Target<'_>,
    key: &MasterKey,
    s: &EncodeSettings,
) -> CliResult<Encoded> {
    let src = Input::open(input, s, walked)?;
    let bar = bytes_bar(src.len, s.quiet, &format!("encoding {}", input.display()));
    let mut output_sha256 = None;
    let mut pending = None;
    let summary = match target {
        Target::File(output) => {
            check_destination(Some(input), output, s.force)?;
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
                        .stream_into(enc, &bar)
                        .map_err(|e| encoding_error(input, e))?;
                    output_sha256 = Some(w.sha.finalize().into());
                    summary
                }
            };
            bar.finish_and_clear();
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
            bar.finish_and_clear();
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
fn encode_stream(
    source: &mut dyn Read,
    path: Option<&Path>,
    output: &Path,
    key: &MasterKey,
    s: &EncodeSettings,
) -> CliResult<(EncodeSummary, u64)> {
    let mut data: Zeroizing<Vec<u8>> = Zeroizing::new(Vec::new());
    source.read_to_end(&mut data).map_err(|e| {
        let what = path.map_or("standard input".to_string(), |p| p.display().to_string());
        Failure::usage(format!("cannot read {what}: {e}"))
    })?;
    let head = &data[..data.len().min(Content::SNIFF_LEN)];
    let kind = decide_kind(path, head, s.kind, s.allow_mismatch)?;
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
        check_destination(None, output, s.force)?;
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

/// Whether `path` is something other than a regular file or a folder.
fn is_stream(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| !m.is_file() && !m.is_dir())
}

/// `ava3 encode FILE [-o OUT]`.
pub fn run(a: &EncodeArgs) -> CliResult<()> {
    let settings = EncodeSettings::from_args(a)?;
    let key = &require_one_key(&a.keys.key_files)?;
    let output: PathBuf = match &a.output {
        Some(o) => o.clone(),
        None if is_dash(&a.input) => PathBuf::from("-"),
        None => {
            let mut name = a.input.as_os_str().to_owned();
            name.push(".ava3");
            PathBuf::from(name)
        }
    };
    let encoded = if is_dash(&a.input) {
        // A stream goes through the streaming encoder, which seals its
        // batches on a rayon pool of -j threads.
        crate::thread_pool(a.jobs)?
            .install(|| encode_stream(&mut io::stdin().lock(), None, &output, key, &settings))
    } else if is_stream(&a.input) {
        // `<(cat model.amg)`, a FIFO: its size says nothing; read it to its
        // end like standard input, never take it as empty.
        let mut f = File::open(&a.input).map_err(|e| {
            Failure::usage(format!("cannot open {}: {e}", crate::keys::shown(&a.input)))
        })?;
        crate::thread_pool(a.jobs)?
            .install(|| encode_stream(&mut f, Some(&a.input), &output, key, &settings))
    } else if is_dash(&output) {
        encode_file(&a.input, None, Target::Stdout, key, &settings).map(|e| (e.summary, e.size))
    } else {
        encode_file(&a.input, None, Target::File(&output), key, &settings).and_then(|mut e| {
            e.commit()?;
            Ok((e.summary, e.size))
        })
    };
    let (summary, size) = encoded?;
    let record = EncodeRecord {
        status: "encoded",
        source: a.input.display().to_string(),
        output: output.display().to_string(),
        size: Some(size),
        plaintext_sha256: Some(hex32(&summary.plaintext_sha256)),
        output_keyless_sha256: Some(hex32(&summary.keyless_sha256)),
        key_id: Some(summary.header.key_id().to_hex()),
        payload_kind: Some(summary.header.payload_kind().as_str().to_string()),
        format_version: Some(summary.header.version()),
        error: None,
    };
    if is_dash(&output) {
        // Standard output carries the file itself.
    } else if a.json {
        emit(&record.to_json())?;
    } else if !a.quiet {
        emit(&format!(
            "encoded {} -> {} ({} bytes, {}, key id {}, plaintext sha256 {})",
            record.source,
            record.output,
            size,
            summary.header.payload_kind(),
            summary.header.key_id(),
            hex32(&summary.plaintext_sha256)
        ))?;
    }
    Ok(())
}
