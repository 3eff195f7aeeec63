//! `ava3 encode FILE`: one file (or standard input) into AVA3, through
//! `ava3_app::encode`; this module turns the flags into a request (the
//! app's `EncodeSettings`, the key, the output) and prints the result.

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};

use ava3_app::encode::{
    check_block_size, encode_file, encode_stream, EncodeSettings, SigningProblem, Target,
};
use ava3_app::keys::load_signing_keys;
use ava3_app::output::is_dash;
use ava3_format::{MasterKey, Metadata};

use crate::args::EncodeArgs;
use crate::error::{CliResult, Failure};
use crate::keys::require_one_key;
use crate::report::{hex32, EncodeRecord, EncodeStatus, OutputMode, Print};

/// The settings of `encode` (and `--batch`) flags, checked before any
/// work.
pub(crate) fn settings(a: &EncodeArgs) -> CliResult<EncodeSettings> {
    check_block_size(a.block_size, "--block-size")?;
    let signers = load_signing_keys(&a.sign.sign)?;
    let settings = EncodeSettings {
        progress: None,
        names: &ava3_app::names::CLI,
        metadata: Metadata {
            name: a.sign.name.clone(),
            version: a.sign.model_version,
        },
        signers,
        // The command's cancellation is the process's: a signal ends it
        // and removes the temporary outputs (see `RunScope`).
        cancel: Default::default(),
        kind: a.kind.chosen(),
        allow_mismatch: a.allow_mismatch,
        block_size: a.block_size,
        force: a.force,
        quiet: OutputMode::of(a.json, a.quiet).no_progress(),
        // encode_at's lanes are its own threads: no rayon pool needed.
        lanes: Some(ava3_app::threads(a.jobs)?),
    };
    // ava3-app judges the signing settings; this names the flags.
    let message = match settings.signing_problem(a.batch) {
        None => return Ok(settings),
        Some(SigningProblem::NameForTree) => {
            "--name names one model: it is not for --batch (each file would get the same name)"
        }
        Some(SigningProblem::NameLength) => "--name is 1 to 255 bytes",
        Some(_) => "at most 16 --sign keys",
    };
    Err(Failure::usage(message))
}

/// A one-file encode, checked: the settings, the one key, where the output
/// goes.
#[derive(Debug)]
pub(crate) struct EncodeRequest {
    /// The model file, or `-` for standard input.
    pub(crate) input: PathBuf,
    /// `-o`; by default INPUT.ava3, or standard output (`-`) for
    /// standard input.
    pub(crate) output: PathBuf,
    pub(crate) key: MasterKey,
    /// Its `lanes` are the checked `-j` (also the size of the pool that
    /// streams a pipe).
    pub(crate) settings: EncodeSettings,
    /// How the result prints; `Quiet` when the output is standard output,
    /// which carries the file itself.
    pub(crate) mode: OutputMode,
}

impl EncodeRequest {
    /// The request of the flags: the settings, then the key (the order of
    /// their errors).
    pub(crate) fn from_args(a: &EncodeArgs) -> CliResult<Self> {
        let settings = settings(a)?;
        let key = require_one_key(&a.keys.key_files)?;
        let output: PathBuf = match &a.output {
            Some(o) => o.clone(),
            None if is_dash(&a.input) => PathBuf::from("-"),
            None => {
                let mut name = a.input.as_os_str().to_owned();
                name.push(".ava3");
                PathBuf::from(name)
            }
        };
        let mode = if is_dash(&output) {
            OutputMode::Quiet
        } else {
            OutputMode::of(a.json, a.quiet)
        };
        Ok(Self {
            input: a.input.clone(),
            output,
            key,
            settings,
            mode,
        })
    }
}

/// Whether `path` is something other than a regular file or a folder.
fn is_stream(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| !m.is_file() && !m.is_dir())
}

/// `ava3 encode FILE [-o OUT]`.
pub(crate) fn run(req: EncodeRequest) -> CliResult<()> {
    let EncodeRequest {
        input,
        output,
        key,
        settings,
        mode,
    } = &req;
    let encoded = if is_dash(input) {
        // A stream goes through the streaming encoder, which seals its
        // batches on a rayon pool of -j threads.
        ava3_app::thread_pool(settings.lanes)?
            .install(|| encode_stream(&mut io::stdin().lock(), None, output, key, settings))
    } else if is_stream(input) {
        // `<(cat model.amg)`, a FIFO: its size says nothing; read it to its
        // end like standard input, never take it as empty.
        let mut f = File::open(input).map_err(|e| {
            Failure::io_error(
                format!("cannot open {}: {e}", ava3_app::display::shown(input)),
                &e,
            )
        })?;
        ava3_app::thread_pool(settings.lanes)?
            .install(|| encode_stream(&mut f, Some(input), output, key, settings))
    } else if is_dash(output) {
        encode_file(input, None, Target::Stdout, key, settings).map(|e| (e.summary, e.size))
    } else {
        encode_file(input, None, Target::File(output), key, settings).and_then(|mut e| {
            e.commit()?;
            Ok((e.summary, e.size))
        })
    };
    let (summary, size) = encoded?;
    EncodeRecord {
        status: EncodeStatus::Encoded,
        source: input.display().to_string(),
        output: output.display().to_string(),
        size: Some(size),
        plaintext_sha256: Some(hex32(&summary.plaintext_sha256)),
        output_keyless_sha256: Some(hex32(&summary.keyless_sha256)),
        key_id: Some(summary.header.key_id().to_hex()),
        payload_kind: Some(summary.header.payload_kind().as_str().to_string()),
        format_version: Some(summary.header.version()),
        error: None,
        model_name: summary.header.metadata().name.clone(),
        model_version: summary.header.metadata().version,
        signers: settings
            .signers
            .iter()
            .map(|k| k.signer_id().to_hex())
            .collect(),
        one_file: true,
    }
    .print(*mode)
}
