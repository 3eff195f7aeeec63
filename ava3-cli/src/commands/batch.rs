//! `ava3 encode DIR --batch -o OUTDIR`: the tree encode of
//! `ava3_app::batch`, one line (or JSON object) per file, then a summary.

use ava3_app::batch::{encode_tree, TreeFile, TreeParams};
use ava3_app::display::printable;

use crate::args::EncodeArgs;
use crate::commands::encode::settings;
use crate::error::{CliResult, Failure};
use crate::keys::require_one_key;
use crate::report::{emit, EncodeRecord};

/// Prints one line (or JSON object) per encoded or current file, in walk
/// order; returns the counts (encoded, up to date).
fn report_each(files: &[TreeFile], json: bool, quiet: bool) -> CliResult<(usize, usize)> {
    let mut counts = (0usize, 0usize);
    for f in files {
        let entry = &f.entry;
        if f.status == "encoded" {
            counts.0 += 1;
        } else {
            counts.1 += 1;
        }
        if json {
            let r = EncodeRecord {
                status: f.status,
                source: entry.source.clone(),
                output: f.output.display().to_string(),
                size: Some(entry.size),
                plaintext_sha256: Some(entry.plaintext_sha256.clone()),
                output_keyless_sha256: Some(entry.output_keyless_sha256.clone()),
                key_id: Some(entry.key_id.clone()),
                payload_kind: Some(entry.payload_kind.clone()),
                format_version: Some(entry.format_version),
                error: None,
            };
            emit(&r.to_json())?;
        } else if !quiet {
            emit(&format!(
                "{} {} -> {}",
                f.status,
                entry.source,
                f.output.display()
            ))?;
        }
    }
    Ok(counts)
}

/// `ava3 encode DIR --batch -o OUTDIR`.
pub fn run(a: &EncodeArgs) -> CliResult<()> {
    let settings = settings(a)?;
    let key = &require_one_key(&a.keys.key_files)?;
    let out_root = a
        .output
        .clone()
        .ok_or_else(|| Failure::usage("--batch needs an output folder: -o OUTDIR"))?;
    let params = TreeParams {
        root: &a.input,
        out_root: &out_root,
        manifest: a.manifest.as_deref(),
        settings,
        jobs: a.jobs,
    };
    let run = encode_tree(&params, key)?;
    let (json, quiet) = (a.json, a.quiet);
    for (rel, reason) in &run.skipped {
        if json {
            emit(&EncodeRecord::bare("skipped", rel, Some(reason.to_string())).to_json())?;
        } else if !quiet {
            emit(&format!("skipped ({reason}) {rel}"))?;
        }
    }
    let counts = report_each(&run.files, json, quiet)?;
    for (rel, f) in &run.failures {
        if json {
            emit(&EncodeRecord::bare("failed", rel, Some(f.message.clone())).to_json())?;
        }
        eprintln!(
            "ava3: error: {}",
            printable(&format!("{rel}: {}", f.message))
        );
    }
    if !json && !quiet {
        eprintln!(
            "ava3: {} encoded, {} up to date, {} skipped, {} failed; manifest {}",
            counts.0,
            counts.1,
            run.skipped.len(),
            run.failures.len(),
            printable(&run.manifest.display().to_string())
        );
    }
    match run.failure() {
        None => Ok(()),
        Some(f) => Err(f),
    }
}
