//! `ava3 keygen -o KEYFILE`.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::Path;

use ava3_format::MasterKey;

use crate::args::KeygenArgs;
use crate::error::{CliResult, Failure};
use crate::output::is_dash;
use crate::report::emit;

/// A new key from the OS RNG, written as 64 hex digits to a new file
/// with mode 0600 (an existing file is never replaced). The key is
/// returned for its id.
pub fn create_key_file(output: &Path) -> CliResult<MasterKey> {
    if is_dash(output) {
        return Err(Failure::usage(
            "a key is never written to standard output (terminals, logs and pipes keep it): -o needs a file",
        ));
    }
    let key = MasterKey::generate().map_err(|e| Failure::usage(format!("no random key: {e}")))?;
    let mut opts = OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    let mut f = opts.open(output).map_err(|e| {
        Failure::usage(format!(
            "cannot create key file {} (an existing key is never overwritten): {e}",
            output.display()
        ))
    })?;
    let hex = key.to_hex();
    f.write_all(hex.as_bytes())
        .and_then(|_| f.write_all(b"\n"))
        .and_then(|_| f.sync_all())
        .map_err(|e| Failure::usage(format!("cannot write {}: {e}", output.display())))?;
    Ok(key)
}

/// `ava3 keygen`.
pub fn run(a: &KeygenArgs) -> CliResult<()> {
    let key = create_key_file(&a.output)?;
    if a.json {
        emit(
            &serde_json::json!({
                "status": "created",
                "output": a.output.display().to_string(),
                "key_id": key.key_id().to_hex(),
            })
            .to_string(),
        )?;
    } else {
        emit(&format!(
            "key id {} written to {}",
            key.key_id(),
            a.output.display()
        ))?;
    }
    Ok(())
}
