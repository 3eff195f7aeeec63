//! `ava3 checksums DIR [--sign KEY]`: a release folder's `SHA256SUMS` (and
//! its signature); `ava3 checksums -c SHA256SUMS [--signer PUB]`: its check.

use std::path::PathBuf;
use std::sync::Arc;

use ava3_app::checksums::{self, FileCheck};
use ava3_app::keys::{load_public_keys, load_signing_keys};
use ava3_format::{Policy, SigningKey};

use crate::args::ChecksumsArgs;
use crate::error::{CliResult, Failure};

use crate::report::{ChecksumFile, ChecksumsRecord, OutputMode, Print};

/// Write a folder's list, or check a list.
#[derive(Debug)]
pub(crate) enum ChecksumsRequest {
    Write {
        folder: PathBuf,
        signers: Vec<Arc<SigningKey>>,
        mode: OutputMode,
    },
    Check {
        list: PathBuf,
        trust: Policy,
        mode: OutputMode,
    },
}

impl ChecksumsRequest {
    /// The request of the flags: keys loaded before any work.
    pub(crate) fn from_args(a: &ChecksumsArgs) -> CliResult<Self> {
        let mode = OutputMode::of(a.json, a.quiet);
        Ok(match (&a.folder, &a.check) {
            (Some(folder), None) => Self::Write {
                folder: folder.clone(),
                signers: load_signing_keys(&a.sign)?,
                mode,
            },
            (None, Some(list)) => {
                let mut trust = Policy::default();
                for k in load_public_keys(&a.signers)? {
                    trust.trust(k);
                }
                Self::Check {
                    list: list.clone(),
                    trust,
                    mode,
                }
            }
            _ => return Err(Failure::usage("give a folder, or -c SHA256SUMS")),
        })
    }
}

/// `ava3 checksums`: exit 1 when a listed file is missing or differs.
pub(crate) fn run(req: ChecksumsRequest) -> CliResult<()> {
    match req {
        ChecksumsRequest::Write {
            folder,
            signers,
            mode,
        } => {
            let (list, files) = checksums::write(&folder, &signers)?;
            ChecksumsRecord::Written {
                list: list.display().to_string(),
                files,
                signed: !signers.is_empty(),
            }
            .print(mode)
        }
        ChecksumsRequest::Check { list, trust, mode } => {
            let c = checksums::check(&list, &trust)?;
            let ok = c.all_ok();
            let files = c
                .files
                .into_iter()
                .map(|(path, found)| {
                    let (status, detail) = match found {
                        FileCheck::Ok => ("ok", None),
                        FileCheck::Mismatch => ("mismatch", None),
                        FileCheck::Missing(why) => ("missing", Some(why)),
                        FileCheck::RefusedPath(why) => ("refused", Some(why.to_string())),
                    };
                    ChecksumFile {
                        path,
                        status,
                        detail,
                    }
                })
                .collect();
            ChecksumsRecord::Checked {
                list: list.display().to_string(),
                signer: c.signer.map(|s| s.to_hex()),
                files,
                ok,
            }
            .print(mode)?;
            if ok {
                Ok(())
            } else {
                Err(Failure::bad(format!(
                    "{}: files missing or changed",
                    list.display()
                )))
            }
        }
    }
}
