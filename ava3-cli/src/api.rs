//! The command's operations as functions, for a second front end (the
//! Python package's `ava_toolchain.ava3`): the very code `ava3 keygen`,
//! `ava3 encode FILE` and `ava3 encode DIR --batch` run, with the same
//! checks, atomic outputs and manifest, minus the printing. Each returns a
//! [`Failure`]: the message `ava3` prints, its exit status and, for a core
//! error about a file, the spec's outcome.

use std::path::Path;

use ava3_format::{EncodeSummary, MasterKey, PayloadKind};

use crate::args::KindArg;
use crate::commands::batch::{self, TreeParams};
use crate::commands::encode::{self as encode_cmd, EncodeSettings, Target};
use crate::commands::keygen;

pub use crate::commands::batch::{TreeFile, TreeRun};
pub use crate::commands::inspect::Inspection;
pub use crate::error::{Failure, EXIT_BAD_FILE, EXIT_NO_KEY, EXIT_USAGE};
pub use crate::manifest::{Entry, MANIFEST_NAME};

/// The settings of an encode (the flags of `ava3 encode`).
#[derive(Debug, Clone)]
pub struct EncodeParams {
    /// The payload kind (`--kind`); `None` decides it from the extension,
    /// else the content.
    pub kind: Option<PayloadKind>,
    /// `--allow-mismatch`.
    pub allow_mismatch: bool,
    /// `--block-size`.
    pub block_size: u32,
    /// `--force`.
    pub force: bool,
    /// `-j` (default one per core).
    pub jobs: Option<usize>,
    /// `--name` and `--model-version`.
    pub metadata: ava3_format::Metadata,
    /// `--sign`: the publisher keys that sign each output.
    pub signers: Vec<std::sync::Arc<ava3_format::SigningKey>>,
}

impl Default for EncodeParams {
    fn default() -> Self {
        Self {
            kind: None,
            allow_mismatch: false,
            block_size: ava3_format::DEFAULT_BLOCK_SIZE,
            force: false,
            jobs: None,
            metadata: Default::default(),
            signers: Vec::new(),
        }
    }
}

impl EncodeParams {
    fn settings(&self, lanes: Option<usize>) -> Result<EncodeSettings, Failure> {
        encode_cmd::check_block_size(self.block_size, "block_size")?;
        Ok(EncodeSettings {
            kind: match self.kind {
                None => KindArg::Auto,
                Some(PayloadKind::Mlc) => KindArg::Mlc,
                Some(PayloadKind::Gguf) => KindArg::Gguf,
                Some(PayloadKind::LiteRt) => KindArg::Litert,
                Some(_) => KindArg::Unknown,
            },
            allow_mismatch: self.allow_mismatch,
            block_size: self.block_size,
            force: self.force,
            quiet: true,
            lanes,
            metadata: self.metadata.clone(),
            signers: self.signers.clone(),
        })
    }
}

/// `ava3 keygen -o PATH`: a new key in a new file (mode 0600).
pub fn keygen(path: &Path) -> Result<MasterKey, Failure> {
    keygen::create_key_file(path)
}

pub use crate::keys::{key_file_warning, public_key_of, shown as shown_key_path};

/// Reads a key file as `--key-file` does, with the permission bits when
/// group or others can access it (the caller warns).
pub fn read_key_file(path: &Path) -> Result<(MasterKey, Option<u32>), Failure> {
    crate::keys::load_key_file(path)
}

/// What `ava3 encode FILE -o OUT` wrote: the header, the digests, the
/// plaintext size.
#[derive(Debug)]
pub struct EncodedFile {
    pub summary: EncodeSummary,
    pub size: u64,
}

/// `ava3 encode INPUT -o OUTPUT`: a regular file into a new AVA3 file,
/// named only once complete and synced.
pub fn encode(
    input: &Path,
    output: &Path,
    key: &MasterKey,
    p: &EncodeParams,
) -> Result<EncodedFile, Failure> {
    let settings = p.settings(Some(crate::threads(p.jobs)?))?;
    let mut encoded = encode_cmd::encode_file(input, None, Target::File(output), key, &settings)?;
    encoded.commit()?;
    Ok(EncodedFile {
        summary: encoded.summary,
        size: encoded.size,
    })
}

/// `ava3 encode INPUT --batch -o OUTPUT [--manifest M]`: every model below
/// `input`, with the manifest. A run where some files failed returns
/// `Ok` with them in [`TreeRun::failures`] (and [`TreeRun::failure`]), as
/// the command goes on past them.
pub fn encode_tree(
    input: &Path,
    output: &Path,
    manifest: Option<&Path>,
    key: &MasterKey,
    p: &EncodeParams,
) -> Result<TreeRun, Failure> {
    let params = TreeParams {
        root: input,
        out_root: output,
        manifest,
        settings: p.settings(None)?,
        jobs: p.jobs,
    };
    batch::encode_tree(&params, key)
}
