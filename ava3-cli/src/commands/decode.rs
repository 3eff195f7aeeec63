//! `ava3 decode FILE -o OUT`: a streaming decode to a private file or to
//! standard output.

use std::fs::File;
use std::io::{self, BufReader, Read, Write};
use std::path::{Path, PathBuf};

use ava3_format::{DecodeOptions, Decoder, Error, Header, MasterKey, Policy, Sealed};
use zeroize::Zeroizing;

use crate::args::DecodeArgs;
use crate::error::{CliResult, Failure};
use crate::keys::{policy_of, require_keys};
use crate::report::{DecodeRecord, DecodeStatus, OutputMode, Print};
use ava3_app::output::{binary_stdout, check_destination, is_broken_pipe, is_dash, AtomicFile};
use ava3_app::progress::bytes_bar;

/// Reads a whole plaintext stream (a decoder) into `w` in batch-sized
/// chunks (decoded straight into the chunk buffer, which is wiped on drop).
pub(crate) fn pump(
    dec: &mut dyn Read,
    w: &mut dyn Write,
    input: &Path,
    bar: &indicatif::ProgressBar,
) -> Result<(), Failure> {
    let mut buf = Zeroizing::new(vec![0u8; 8 << 20]);
    loop {
        let n = dec
            .read(&mut buf)
            .map_err(|e| Failure::from_core(input.display(), Error::from_io(e)))?;
        if n == 0 {
            return Ok(());
        }
        bar.inc(n as u64);
        w.write_all(&buf[..n]).map_err(|e| {
            if is_broken_pipe(&e) {
                Failure::stdout_closed()
            } else {
                Failure::io_error(format!("cannot write: {e}"), &e)
            }
        })?;
    }
}

/// A file, or standard input for `-`.
pub(crate) fn open_input(input: &Path) -> CliResult<Box<dyn Read + Send>> {
    if is_dash(input) {
        Ok(Box::new(io::stdin()))
    } else {
        let f = File::open(input).map_err(|e| {
            Failure::io_error(
                format!("cannot open {}: {e}", ava3_app::display::shown(input)),
                &e,
            )
        })?;
        Ok(Box::new(f))
    }
}

/// `--json` prints its record on standard output, which `-o -` fills with
/// the model: the two cannot go together.
pub(crate) fn refuse_json_with_stdout(json: bool, output: &Path) -> CliResult<()> {
    if json && is_dash(output) {
        return Err(Failure::usage(
            "--json prints to standard output, which -o - fills with binary data: give -o FILE",
        ));
    }
    Ok(())
}

/// The input as a file that can be read by offset, for a decode under a
/// signature requirement: a path, or standard input redirected from a
/// regular file. A pipe or a terminal cannot be: the signature covers every
/// tag and is checked before the first plaintext byte leaves (spec 7.3).
fn seekable_input(input: &Path) -> CliResult<File> {
    let refuse = || {
        Failure::usage(format!(
            "{}: with --signer the signature is checked before any plaintext is written, which \
             needs an input that can seek: give the file's path (or redirect standard input from \
             the file) instead of a pipe",
            input.display()
        ))
    };
    let file = if is_dash(input) {
        use std::os::fd::AsFd;
        let fd = io::stdin()
            .as_fd()
            .try_clone_to_owned()
            .map_err(|_| refuse())?;
        File::from(fd)
    } else {
        File::open(input).map_err(|e| {
            Failure::io_error(
                format!("cannot open {}: {e}", ava3_app::display::shown(input)),
                &e,
            )
        })?
    };
    match file.metadata() {
        Ok(m) if m.is_file() => Ok(file),
        _ => Err(refuse()),
    }
}

/// A decode, checked: the key ring, what the file must satisfy, where the
/// plaintext goes.
#[derive(Debug)]
pub(crate) struct DecodeRequest {
    /// The AVA3 file, or `-` for standard input.
    pub(crate) input: PathBuf,
    /// The plaintext file, or `-` for standard output (then no record).
    pub(crate) output: PathBuf,
    pub(crate) force: bool,
    /// The checked `-j`.
    pub(crate) threads: usize,
    /// At least one key.
    pub(crate) keys: Vec<MasterKey>,
    /// `--signer`, `--name`, `--min-version`.
    pub(crate) policy: Policy,
    pub(crate) mode: OutputMode,
}

impl DecodeRequest {
    /// The request of the flags: `--json` with `-o -`, the keys, the
    /// policy, `-j` (the order of their errors).
    pub(crate) fn from_args(a: &DecodeArgs) -> CliResult<Self> {
        refuse_json_with_stdout(a.json, &a.output)?;
        let keys = require_keys(&a.keys.key_files, "decode")?;
        let policy = policy_of(&a.trust)?;
        Ok(Self {
            input: a.input.clone(),
            output: a.output.clone(),
            force: a.force,
            threads: ava3_app::threads(a.jobs)?,
            keys,
            policy,
            mode: OutputMode::of(a.json, a.quiet),
        })
    }
}

/// `ava3 decode`.
pub(crate) fn run(req: DecodeRequest) -> CliResult<()> {
    // Refuse a terminal before anything is decoded or drawn.
    let stdout = if is_dash(&req.output) {
        Some(binary_stdout()?)
    } else {
        let input_path = (!is_dash(&req.input)).then_some(req.input.as_path());
        check_destination(input_path, &req.output, req.force, &ava3_app::names::CLI)?;
        None
    };
    let ring: Vec<&MasterKey> = req.keys.iter().collect();
    let pool = ava3_app::thread_pool(Some(req.threads))?;
    pool.install(|| {
        if req.policy.requires_signature() {
            // The signature (header, trailer, every tag) is checked at open;
            // each block is then compared with its signed tag as it is read.
            let file = seekable_input(&req.input)?;
            let ra = Sealed::read_at(&file)
                .and_then(|s| s.unlock(&ring, &req.policy))
                .and_then(|u| u.random_access(file))
                .map_err(|e| Failure::from_core(req.input.display(), e))?;
            let header = ra.header().clone();
            return deliver(&req, stdout, &mut ra.reader(), &header);
        }
        let input = open_input(&req.input)?;
        let mut dec = Decoder::open(
            BufReader::with_capacity(1 << 16, input),
            &ring,
            &req.policy,
            &DecodeOptions { parallel: true },
        )
        .map_err(|e| Failure::from_core(req.input.display(), e))?;
        let header = dec.header().clone();
        deliver(&req, stdout, &mut dec, &header)
    })
}

/// Writes the plaintext of `dec` to standard output or to the private
/// output file (named only once complete and checked), then the result.
fn deliver(
    req: &DecodeRequest,
    stdout: Option<io::Stdout>,
    dec: &mut dyn Read,
    header: &Header,
) -> CliResult<()> {
    let bar = bytes_bar(header.plaintext_len(), req.mode.no_progress(), "decoding");
    if let Some(stdout) = stdout {
        let mut w = io::BufWriter::with_capacity(1 << 20, stdout.lock());
        pump(dec, &mut w, &req.input, &bar)?;
        w.flush()?;
        bar.finish_and_clear();
        return Ok(());
    }
    // The plaintext goes to a private temporary file (unnamed on Linux)
    // that gets its name only if every check passes.
    let mut out = AtomicFile::create_private(&req.output)?;
    pump(dec, out.writer(), &req.input, &bar)?;
    out.commit(req.force)?;
    bar.finish_and_clear();
    DecodeRecord {
        status: DecodeStatus::Decoded,
        source: req.input.display().to_string(),
        output: req.output.display().to_string(),
        size: header.plaintext_len(),
        key_id: header.key_id().to_hex(),
        payload_kind: header.payload_kind(),
        previous_key_id: None,
        output_keyless_sha256: None,
        relative: None,
    }
    .print(req.mode)
}
