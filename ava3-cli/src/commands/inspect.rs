//! `ava3 inspect FILE`: the header, without a key.

use std::fs::File;
use std::io;
use std::path::PathBuf;

use ava3_app::inspect::Inspection;
use ava3_app::output::is_dash;
use ava3_format::{ReadAt, Sealed};

use crate::args::InspectArgs;
use crate::error::{CliResult, Failure};
use crate::report::{OutputMode, Print};

/// The file `inspect` reads, and how it prints what it finds.
#[derive(Debug)]
pub(crate) struct InspectRequest {
    /// The AVA3 file, or `-` for standard input.
    pub(crate) file: PathBuf,
    pub(crate) mode: OutputMode,
}

impl InspectRequest {
    /// The request of the flags (nothing to check before the work).
    pub(crate) fn from_args(a: &InspectArgs) -> CliResult<Self> {
        Ok(Self {
            file: a.file.clone(),
            mode: OutputMode::of(a.json, false),
        })
    }
}

/// `ava3 inspect`: the header, printed whole even when the file's size is
/// not the one it announces (then a failure, exit 1).
pub(crate) fn run(req: InspectRequest) -> CliResult<()> {
    let file = &req.file;
    let (sealed, size, signers) = if is_dash(file) {
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
        let f = File::open(file).map_err(|e| {
            Failure::io_error(
                format!("cannot open {}: {e}", ava3_app::display::shown(file)),
                &e,
            )
        })?;
        let sealed = Sealed::read_at(&f).map_err(|e| Failure::from_core(file.display(), e))?;
        let size = f.size().map_err(|e| Failure::io(file.display(), e))?;
        let signers = if size == sealed.layout().file_len() {
            sealed
                .signer_ids(&f)
                .map_err(|e| Failure::from_core(file.display(), e))?
                .iter()
                .map(|s| s.to_hex())
                .collect()
        } else {
            Vec::new()
        };
        (sealed, size, signers)
    };
    let i = Inspection::of(file.display().to_string(), &sealed, size, signers);
    i.print(req.mode)?;
    // `size_check` names this comparison (complete, truncated, trailing data).
    if i.file_size != i.expected_file_size {
        return Err(Failure::bad(format!(
            "{}: {} ({} bytes, the header announces {})",
            i.path, i.size_check, i.file_size, i.expected_file_size
        )));
    }
    Ok(())
}
