//! `ava3 keygen -o KEYFILE`, and `ava3 keygen --signing -o KEYFILE` (a
//! publisher's Ed25519 key pair: KEYFILE and KEYFILE.pub).

use ava3_app::keys::{create_key_file, create_signing_key_file, public_key_path};

use crate::args::KeygenArgs;
use crate::error::CliResult;
use crate::report::emit;

/// `ava3 keygen`.
pub fn run(a: &KeygenArgs) -> CliResult<()> {
    if a.signing {
        let key = create_signing_key_file(&a.output)?;
        let public = public_key_path(&a.output);
        if a.json {
            emit(&crate::report::json(&serde_json::json!({
                "status": "created",
                "output": a.output.display().to_string(),
                "public_key": public.display().to_string(),
                "signer_id": key.signer_id().to_hex(),
            })))?;
        } else {
            emit(&format!(
                "signer id {} written to {} (secret, keep it off devices) and {} (public, for verifiers)",
                key.signer_id(),
                a.output.display(),
                public.display()
            ))?;
        }
        return Ok(());
    }
    let key = create_key_file(&a.output)?;
    if a.json {
        emit(&crate::report::json(&serde_json::json!({
            "status": "created",
            "output": a.output.display().to_string(),
            "key_id": key.key_id().to_hex(),
        })))?;
    } else {
        emit(&format!(
            "key id {} written to {}",
            key.key_id(),
            a.output.display()
        ))?;
    }
    Ok(())
}
