//! `ava3 keygen -o KEYFILE`, and `ava3 keygen --signing -o KEYFILE` (a
//! publisher's Ed25519 key pair: KEYFILE and KEYFILE.pub).

use std::path::PathBuf;

use ava3_app::keys::{create_key_file, create_signing_key_file, public_key_path};

use crate::args::KeygenArgs;
use crate::error::CliResult;
use crate::report::{KeygenRecord, KeygenStatus, OutputMode, Print};

/// What `keygen` is asked to create. (`-o -` is refused by
/// `ava3_app::keys`, which creates the file: a key never goes to standard
/// output, whoever asks.)
#[derive(Debug)]
pub(crate) struct KeygenRequest {
    /// The key file to create.
    pub(crate) output: PathBuf,
    /// A publisher signing key (and `output.pub`) instead of a master key.
    pub(crate) signing: bool,
    pub(crate) mode: OutputMode,
}

impl KeygenRequest {
    /// The request of the flags (nothing to check before the work).
    pub(crate) fn from_args(a: &KeygenArgs) -> CliResult<Self> {
        Ok(Self {
            output: a.output.clone(),
            signing: a.signing,
            mode: OutputMode::of(a.json, false),
        })
    }
}

/// `ava3 keygen`.
pub(crate) fn run(req: KeygenRequest) -> CliResult<()> {
    let output = req.output.display().to_string();
    let record = if req.signing {
        let key = create_signing_key_file(&req.output)?;
        KeygenRecord::Signing {
            output,
            public_key: public_key_path(&req.output).display().to_string(),
            signer_id: key.signer_id().to_hex(),
            status: KeygenStatus::Created,
        }
    } else {
        let key = create_key_file(&req.output)?;
        KeygenRecord::Master {
            key_id: key.key_id().to_hex(),
            output,
            status: KeygenStatus::Created,
        }
    };
    record.print(req.mode)
}
