//! `ava3 rekey FILE --new-key-file NEW -o OUT`: decode under the old key
//! ring and encode under the new key in one streaming pass; the plaintext
//! exists only in memory, a batch or two (1 MiB each) at a time.

use std::fs::File;
use std::io::{BufWriter, Write};

use ava3_format::{Decoder, EncodeOptions, Encoder};

use crate::args::RekeyArgs;
use crate::commands::decode::{pump, refuse_json_with_stdout};
use crate::error::{CliResult, Failure};
use crate::keys::{read_key_file, require_keys};
use crate::output::{binary_stdout, check_destination, is_dash, AtomicFile};
use crate::progress::bytes_bar;
use crate::report::{emit, hex32, DecodeRecord};

/// `ava3 rekey`.
pub fn run(a: &RekeyArgs) -> CliResult<()> {
    refuse_json_with_stdout(a.json, &a.output)?;
    let keys = require_keys(&a.keys.key_files, "rekey (for the current key)")?;
    let new_key = read_key_file(&a.new_key_file)?;
    let stdout = if is_dash(&a.output) {
        Some(binary_stdout()?)
    } else {
        check_destination(Some(&a.input), &a.output, a.force)?;
        None
    };
    let input = File::open(&a.input)
        .map_err(|e| Failure::usage(format!("cannot open {}: {e}", a.input.display())))?;
    let pool = crate::thread_pool(a.jobs)?;
    pool.install(|| {
        let mut dec = Decoder::new_with_keys(input, &keys)
            .map_err(|e| Failure::from_core(a.input.display(), e))?;
        let header = dec.header().clone();
        let opts = EncodeOptions {
            block_size: header.block_size(),
            payload_kind: header.payload_kind(),
            threads: 0,
        };
        let bar = bytes_bar(header.plaintext_len(), a.quiet || a.json, "rekeying");
        // Encodes into `w`; fails unless the plaintext decoded is the one
        // the old file recorded.
        let mut rekey_into = |w: &mut (dyn Write + Send)| {
            let mut enc = Encoder::new(w, &new_key, header.plaintext_len(), &opts)
                .map_err(|e| Failure::from_core(a.output.display(), e))?;
            pump(&mut dec, &mut enc, &a.input, &bar)?;
            let recorded = dec.recorded_plaintext_sha256().ok_or_else(|| {
                Failure::bad(format!("{}: no trailer was read", a.input.display()))
            })?;
            let (_, summary) = enc
                .finish()
                .map_err(|e| Failure::from_core(a.output.display(), e))?;
            if summary.plaintext_sha256 != recorded {
                return Err(Failure::bad(format!(
                    "{}: the decoded plaintext does not match its recorded SHA-256",
                    a.input.display()
                )));
            }
            Ok(summary)
        };
        let summary = match stdout {
            Some(stdout) => {
                let mut w = BufWriter::with_capacity(1 << 20, stdout);
                rekey_into(&mut w)?;
                w.flush()?;
                bar.finish_and_clear();
                return Ok(());
            }
            None => {
                let mut out = AtomicFile::create(&a.output)?;
                let summary = rekey_into(out.writer())?;
                out.commit(a.force)?;
                summary
            }
        };
        bar.finish_and_clear();
        if a.json {
            emit(
                &DecodeRecord {
                    status: "rekeyed",
                    source: a.input.display().to_string(),
                    output: a.output.display().to_string(),
                    size: header.plaintext_len(),
                    key_id: new_key.key_id().to_hex(),
                    payload_kind: header.payload_kind().as_str(),
                    previous_key_id: Some(header.key_id().to_hex()),
                    output_keyless_sha256: Some(hex32(&summary.keyless_sha256)),
                }
                .to_json(),
            )?;
        } else if !a.quiet {
            emit(&format!(
                "rekeyed {} (key id {}) -> {} (key id {})",
                a.input.display(),
                header.key_id(),
                a.output.display(),
                new_key.key_id()
            ))?;
        }
        Ok(())
    })
}
