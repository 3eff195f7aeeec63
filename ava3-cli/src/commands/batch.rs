//! `ava3 encode DIR --batch -o OUTDIR`: the tree encode of
//! `ava3_app::batch`, one line (or JSON object) per file, then a summary.

use std::path::PathBuf;

use ava3_app::batch::{encode_tree, TreeParams};
use ava3_app::encode::EncodeSettings;
use ava3_format::MasterKey;

use crate::args::EncodeArgs;
use crate::commands::encode::settings;
use crate::error::{CliResult, Failure};
use crate::keys::require_one_key;
use crate::report::{BatchSummary, EncodeRecord, EncodeStatus, OutputMode, Print, Summary};

/// A tree encode, checked: the settings, the one key, the output folder.
#[derive(Debug)]
pub(crate) struct BatchRequest {
    /// The folder walked.
    pub(crate) root: PathBuf,
    /// The output folder (`-o`, required).
    pub(crate) out_root: PathBuf,
    /// `--manifest` (default: OUT_ROOT/ava3-manifest.json).
    pub(crate) manifest: Option<PathBuf>,
    pub(crate) key: MasterKey,
    /// Its `lanes` are the checked `-j`: the size of the shared pool.
    pub(crate) settings: EncodeSettings,
    pub(crate) mode: OutputMode,
}

impl BatchRequest {
    /// The request of the flags: the settings, the key, then the output
    /// folder (the order of their errors).
    pub(crate) fn from_args(a: &EncodeArgs) -> CliResult<Self> {
        let settings = settings(a)?;
        let key = require_one_key(&a.keys.key_files)?;
        let out_root = a
            .output
            .clone()
            .ok_or_else(|| Failure::usage("--batch needs an output folder: -o OUTDIR"))?;
        Ok(Self {
            root: a.input.clone(),
            out_root,
            manifest: a.manifest.clone(),
            key,
            settings,
            mode: OutputMode::of(a.json, a.quiet),
        })
    }
}

/// `ava3 encode DIR --batch -o OUTDIR`: a record per file in the order
/// skipped, encoded or current (walk order), failed; then the summary.
pub(crate) fn run(req: BatchRequest) -> CliResult<()> {
    let params = TreeParams {
        root: &req.root,
        out_root: &req.out_root,
        manifest: req.manifest.as_deref(),
        jobs: req.settings.lanes,
        settings: req.settings,
    };
    let run = encode_tree(&params, &req.key)?;
    let mode = req.mode;
    for (rel, reason) in &run.skipped {
        EncodeRecord::bare(EncodeStatus::Skipped, rel, reason.to_string()).print(mode)?;
    }
    let (mut encoded, mut up_to_date) = (0usize, 0usize);
    for f in &run.files {
        let status = EncodeStatus::of_tree(f.status)?;
        if status == EncodeStatus::Encoded {
            encoded += 1;
        } else {
            up_to_date += 1;
        }
        let entry = &f.entry;
        EncodeRecord {
            status,
            source: entry.source.clone(),
            output: f.output.display().to_string(),
            size: Some(entry.size),
            plaintext_sha256: Some(entry.plaintext_sha256.clone()),
            output_keyless_sha256: Some(entry.output_keyless_sha256.clone()),
            key_id: Some(entry.key_id.clone()),
            payload_kind: Some(entry.payload_kind.clone()),
            format_version: Some(entry.format_version),
            error: None,
            model_name: None,
            model_version: None,
            signers: Vec::new(),
            one_file: false,
        }
        .print(mode)?;
    }
    for (rel, f) in &run.failures {
        EncodeRecord::bare(EncodeStatus::Failed, rel, f.message.clone()).print(mode)?;
    }
    BatchSummary {
        encoded,
        up_to_date,
        skipped: run.skipped.len(),
        failed: run.failures.len(),
        manifest: run.manifest.display().to_string(),
    }
    .print(mode);
    match run.failure() {
        None => Ok(()),
        Some(f) => Err(f),
    }
}
