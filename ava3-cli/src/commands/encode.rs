//! `ava3 encode FILE`: one file (or standard input) into AVA3, through
//! `ava3_app::encode`; this module turns the flags into settings and
//! prints the result.

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};

use ava3_app::encode::{check_block_size, encode_file, encode_stream, EncodeSettings, Target};
use ava3_app::keys::load_signing_keys;
use ava3_app::output::is_dash;
use ava3_format::Metadata;

use crate::args::EncodeArgs;
use crate::error::{CliResult, Failure};
use crate::keys::require_one_key;
use crate::report::{emit, hex32, EncodeRecord};

/// The settings of `encode` (and `--batch`) flags, checked before any
/// work.
pub fn settings(a: &EncodeArgs) -> CliResult<EncodeSettings> {
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
    let signers = load_signing_keys(&a.sign.sign)?;
    if signers.len() > usize::from(ava3_format::MAX_SIGNATURES) {
        return Err(Failure::usage("at most 16 --sign keys"));
    }
    Ok(EncodeSettings {
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
        quiet: a.quiet || a.json,
        // encode_at's lanes are its own threads: no rayon pool needed.
        lanes: Some(ava3_app::threads(a.jobs)?),
    })
}

/// Whether `path` is something other than a regular file or a folder.
fn is_stream(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| !m.is_file() && !m.is_dir())
}

/// `ava3 encode FILE [-o OUT]`.
pub fn run(a: &EncodeArgs) -> CliResult<()> {
    let settings = settings(a)?;
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
        ava3_app::thread_pool(a.jobs)?
            .install(|| encode_stream(&mut io::stdin().lock(), None, &output, key, &settings))
    } else if is_stream(&a.input) {
        // `<(cat model.amg)`, a FIFO: its size says nothing; read it to its
        // end like standard input, never take it as empty.
        let mut f = File::open(&a.input).map_err(|e| {
            Failure::io_error(
                format!("cannot open {}: {e}", ava3_app::display::shown(&a.input)),
                &e,
            )
        })?;
        ava3_app::thread_pool(a.jobs)?
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
