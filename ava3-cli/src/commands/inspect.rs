//! `ava3 inspect FILE`: the header, without a key.

use std::fs::File;
use std::io;

use ava3_app::inspect::Inspection;
use ava3_format::{ReadAt, Sealed};

use crate::args::InspectArgs;
use crate::error::{CliResult, Failure};
use ava3_app::output::is_dash;

use crate::report::{emit, printable};

/// `ava3 inspect`.
pub fn run(a: &InspectArgs) -> CliResult<()> {
    let (sealed, size, signers) = if is_dash(&a.file) {
        // Standard input: the header, then the rest counted (not kept).
        let mut stdin = io::stdin().lock();
        let sealed =
            Sealed::read(&mut stdin).map_err(|e| Failure::from_core("standard input", e))?;
        let rest =
            io::copy(&mut stdin, &mut io::sink()).map_err(|e| Failure::io("standard input", e))?;
        // Standard input is not kept: the signer ids are not shown.
        let count = usize::from(sealed.header().signature_count());
        (
            sealed.clone(),
            sealed.layout().header_len() + rest,
            vec!["?".to_string(); count],
        )
    } else {
        let file = File::open(&a.file).map_err(|e| {
            Failure::io_error(
                format!("cannot open {}: {e}", ava3_app::display::shown(&a.file)),
                &e,
            )
        })?;
        let sealed = Sealed::read_at(&file).map_err(|e| Failure::from_core(a.file.display(), e))?;
        let size = file.size().map_err(|e| Failure::io(a.file.display(), e))?;
        let signers = if size == sealed.layout().file_len() {
            sealed
                .signer_ids(&file)
                .map_err(|e| Failure::from_core(a.file.display(), e))?
                .iter()
                .map(|s| s.to_hex())
                .collect()
        } else {
            Vec::new()
        };
        (sealed, size, signers)
    };
    let i = Inspection::of(a.file.display().to_string(), &sealed, size, signers);
    if a.json {
        emit(&crate::report::json(&i))?;
    } else {
        emit(&format!("file:            {}", i.path))?;
        emit(&format!("format version:  {}", i.format_version))?;
        emit(&format!("payload kind:    {}", i.payload_kind))?;
        emit(&format!("block size:      {} bytes", i.block_size))?;
        emit(&format!("plaintext size:  {} bytes", i.plaintext_size))?;
        emit(&format!("blocks:          {}", i.blocks))?;
        emit(&format!("key id:          {}", i.key_id))?;
        emit(&format!("salt:            {}", i.salt))?;
        if let Some(n) = &i.model_name {
            emit(&format!("model name:      {}", printable(n)))?;
        }
        if let Some(v) = i.model_version {
            emit(&format!("model version:   {v}"))?;
        }
        emit(&format!(
            "signatures:      {}",
            if i.signers.is_empty() {
                "none (unsigned)".to_string()
            } else {
                format!(
                    "{} by signer id {} (not verified: verify --signer checks them)",
                    i.signers.len(),
                    i.signers.join(", ")
                )
            }
        ))?;
        emit(&format!(
            "file size:       {} bytes ({}; {} expected)",
            i.file_size, i.size_check, i.expected_file_size
        ))?;
    }
    if i.size_check != "complete" {
        return Err(Failure::bad(format!(
            "{}: {} ({} bytes, the header announces {})",
            i.path, i.size_check, i.file_size, i.expected_file_size
        )));
    }
    Ok(())
}
