//! The functions of `ava_toolchain.ava3`: `keygen`, `encode`,
//! `encode_tree` (the application layer, `ava3_app`, as the command),
//! `verify` and `inspect` (the format core), and the records they return.

use std::path::PathBuf;

use ava3_app::batch::TreeParams;
use ava3_app::encode::{check_block_size, EncodeSettings, SigningProblem, Target};
use ava3_app::Failure;
use ava3_format::{
    Check, DecodeOptions, PayloadKind, ReadAt, Report, Result as CoreResult, Sealed, Unverifiable,
};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use crate::errors;
use crate::interrupt::interruptible;
use crate::key::{self, Key};
use crate::source::{Cursor, Source};

/// What `inspect` read from a header (no key needed; not authenticated).
#[derive(Debug)]
#[pyclass(module = "ava_toolchain.ava3", frozen, get_all)]
pub struct HeaderInfo {
    format_version: u16,
    payload_kind: &'static str,
    block_size: u32,
    plaintext_size: u64,
    blocks: u64,
    key_id: String,
    file_size: u64,
    expected_file_size: u64,
    /// `complete`, `truncated` or `trailing data`, by size only.
    size_check: &'static str,
    /// The model name and version the header records (version 2; not
    /// authenticated here).
    model_name: Option<String>,
    model_version: Option<u64>,
    /// The signer ids the signature section lists (not verified here).
    signers: Vec<String>,
}

#[pymethods]
impl HeaderInfo {
    fn __repr__(&self) -> String {
        format!(
            "HeaderInfo(payload_kind='{}', plaintext_size={}, block_size={}, key_id='{}', size_check='{}')",
            self.payload_kind, self.plaintext_size, self.block_size, self.key_id, self.size_check
        )
    }
}

/// What a successful `verify` established.
#[derive(Debug)]
#[pyclass(module = "ava_toolchain.ava3", frozen, get_all)]
pub struct VerifyReport {
    name: String,
    /// The level reached: `keyless`, `signed`, `keyed`, `keyed+signed`,
    /// `deep` or `deep+signed` (the core's `Level`, as the CLI says it).
    level: &'static str,
    format_version: u16,
    payload_kind: &'static str,
    plaintext_size: u64,
    key_id: String,
    keyless_sha256: String,
    /// The recorded plaintext SHA-256 (keyed and deep only).
    plaintext_sha256: Option<String>,
    /// What the first plaintext bytes look like (keyed and deep only).
    content: Option<&'static str>,
    /// The trusted signer whose signature verified (with `signers=`).
    signer: Option<String>,
    /// The model name and version the file records (version 2).
    model_name: Option<String>,
    model_version: Option<u64>,
}

#[pymethods]
impl VerifyReport {
    fn __repr__(&self) -> String {
        format!(
            "VerifyReport(name='{}', level='{}', payload_kind='{}', plaintext_size={})",
            self.name, self.level, self.payload_kind, self.plaintext_size
        )
    }
}

/// What `encode` wrote.
#[derive(Debug)]
#[pyclass(module = "ava_toolchain.ava3", frozen, get_all)]
pub struct EncodeResult {
    output: PathBuf,
    size: u64,
    payload_kind: &'static str,
    block_size: u32,
    key_id: String,
    format_version: u16,
    plaintext_sha256: String,
    output_keyless_sha256: String,
    /// The model name and version recorded (with `name=`,
    /// `model_version=`).
    model_name: Option<String>,
    model_version: Option<u64>,
    /// The signer id of each `sign=` key, in order.
    signers: Vec<String>,
}

#[pymethods]
impl EncodeResult {
    fn __repr__(&self) -> String {
        format!(
            "EncodeResult(output='{}', size={}, payload_kind='{}')",
            self.output.display(),
            self.size,
            self.payload_kind
        )
    }
}

/// One model of a tree encode: `encoded` or `up-to-date`, with its
/// manifest entry.
#[derive(Debug)]
#[pyclass(module = "ava_toolchain.ava3", frozen, get_all)]
pub struct TreeEntry {
    status: &'static str,
    /// Relative to the input folder, `/`-separated.
    source: String,
    output: PathBuf,
    size: u64,
    payload_kind: String,
    key_id: String,
    plaintext_sha256: String,
    output_keyless_sha256: String,
    output_sha256: Option<String>,
}

#[pymethods]
impl TreeEntry {
    fn __repr__(&self) -> String {
        format!(
            "TreeEntry(status='{}', source='{}', output='{}')",
            self.status,
            self.source,
            self.output.display()
        )
    }
}

/// What `encode_tree` did.
#[derive(Debug)]
#[pyclass(module = "ava_toolchain.ava3", frozen, get_all)]
pub struct TreeReport {
    manifest: PathBuf,
    files: Vec<Py<TreeEntry>>,
    /// `(path, reason)` of what the walk left out.
    skipped: Vec<(String, &'static str)>,
    /// `(path, message)` of what failed.
    failed: Vec<(String, String)>,
}

#[pymethods]
impl TreeReport {
    fn __repr__(&self) -> String {
        format!(
            "TreeReport(manifest='{}', files={}, skipped={}, failed={})",
            self.manifest.display(),
            self.files.len(),
            self.skipped.len(),
            self.failed.len()
        )
    }
}

/// What `sign=`, `name=` and `model_version=` ask of an encode.
#[derive(Debug, Default)]
struct Signing {
    sign: Vec<PathBuf>,
    name: Option<String>,
    model_version: Option<u64>,
}

impl Signing {
    /// `sign=`: one path or an iterable of paths of signing key files
    /// (`ava3 keygen --signing`).
    fn of(
        sign: Option<&Bound<'_, PyAny>>,
        name: Option<String>,
        model_version: Option<u64>,
    ) -> PyResult<Self> {
        let sign = match sign.filter(|s| !s.is_none()) {
            None => Vec::new(),
            Some(s) => match s.extract::<PathBuf>() {
                Ok(one) => vec![one],
                Err(_) => s
                    .try_iter()
                    .and_then(|it| it.map(|i| i?.extract::<PathBuf>()).collect())
                    .map_err(|_| {
                        PyValueError::new_err(
                            "sign= is the path of a signing key file (ava3 keygen --signing), \
                             or a list of them",
                        )
                    })?,
            },
        };
        Ok(Self {
            sign,
            name,
            model_version,
        })
    }
}

/// The settings of an encode from the Python arguments (`lanes`: the
/// threads of a one-file encode; `None` for a tree, which shares a pool).
#[allow(clippy::too_many_arguments)]
fn settings(
    py: Python<'_>,
    kind: Option<&str>,
    block_size: u32,
    force: bool,
    allow_mismatch: bool,
    lanes: Option<usize>,
    signing: Signing,
) -> PyResult<EncodeSettings> {
    let kind = match kind {
        None | Some("auto") => None,
        Some(k) => Some(PayloadKind::parse(k).ok_or_else(|| {
            PyValueError::new_err(format!(
                "kind must be None, 'mlc', 'gguf', 'litert' or 'unknown', not {k:?}"
            ))
        })?),
    };
    check_block_size(block_size, "block_size").map_err(|f| errors::failure(py, f))?;
    let signers =
        ava3_app::keys::load_signing_keys(&signing.sign).map_err(|f| errors::failure(py, f))?;
    let s = EncodeSettings {
        progress: None,
        names: &ava3_app::names::PYTHON,
        kind,
        allow_mismatch,
        block_size,
        force,
        quiet: true,
        lanes,
        metadata: ava3_format::Metadata {
            name: signing.name,
            version: signing.model_version,
        },
        signers,
        cancel: Default::default(),
    };
    let message = match s.signing_problem(lanes.is_none()) {
        None => return Ok(s),
        Some(SigningProblem::NameForTree) => {
            "name= names one model: it is not for encode_tree (each file would get the same name)"
        }
        Some(SigningProblem::NameLength) => "name= is 1 to 255 bytes",
        Some(_) => "sign= takes at most 16 signing keys",
    };
    Err(errors::failure(py, Failure::usage(message)))
}

/// `ava3 keygen -o PATH`: a new key from the OS RNG in a new file (mode
/// 0600; an existing file is never replaced). Returns the key.
#[pyfunction]
pub fn keygen(py: Python<'_>, path: PathBuf) -> PyResult<Key> {
    py.detach(|| ava3_app::keys::create_key_file(&path))
        .map(Key::wrap)
        .map_err(|f| errors::failure(py, f))
}

/// `ava3 encode SRC -o DST`.
#[pyfunction]
#[pyo3(signature = (src, dst, *, key, kind=None, block_size=65536, force=false, allow_mismatch=false, threads=None, sign=None, name=None, model_version=None))]
#[allow(clippy::too_many_arguments)]
pub fn encode(
    py: Python<'_>,
    src: PathBuf,
    dst: PathBuf,
    key: &Bound<'_, PyAny>,
    kind: Option<&str>,
    block_size: u32,
    force: bool,
    allow_mismatch: bool,
    threads: Option<usize>,
    sign: Option<&Bound<'_, PyAny>>,
    name: Option<String>,
    model_version: Option<u64>,
) -> PyResult<EncodeResult> {
    let key = key::one(key)?;
    let lanes = ava3_app::threads(threads).map_err(|f| errors::failure(py, f))?;
    let signing = Signing::of(sign, name, model_version)?;
    let s = settings(
        py,
        kind,
        block_size,
        force,
        allow_mismatch,
        Some(lanes),
        signing,
    )?;
    let signer_ids = s.signers.iter().map(|k| k.signer_id().to_hex()).collect();
    let master = key.get().master();
    let done = interruptible(py, |cancel| {
        let s = EncodeSettings {
            cancel: cancel.clone(),
            ..s
        };
        let mut e = ava3_app::encode::encode_file(&src, None, Target::File(&dst), master, &s)?;
        cancel.check()?;
        e.commit()?;
        Ok::<_, Failure>(e)
    })?
    .map_err(|f| errors::failure(py, f))?;
    let h = &done.summary.header;
    Ok(EncodeResult {
        output: dst,
        size: done.size,
        payload_kind: h.payload_kind().as_str(),
        block_size: h.block_size(),
        key_id: h.key_id().to_hex(),
        format_version: h.version(),
        plaintext_sha256: hex::encode(done.summary.plaintext_sha256),
        output_keyless_sha256: hex::encode(done.summary.keyless_sha256),
        model_name: h.metadata().name.clone(),
        model_version: h.metadata().version,
        signers: signer_ids,
    })
}

/// `ava3 encode SRC_DIR --batch -o DST_DIR`.
#[pyfunction]
#[pyo3(signature = (src_dir, dst_dir, *, key, manifest=None, kind=None, block_size=65536, force=false, allow_mismatch=false, threads=None, sign=None, model_version=None))]
#[allow(clippy::too_many_arguments)]
pub fn encode_tree(
    py: Python<'_>,
    src_dir: PathBuf,
    dst_dir: PathBuf,
    key: &Bound<'_, PyAny>,
    manifest: Option<PathBuf>,
    kind: Option<&str>,
    block_size: u32,
    force: bool,
    allow_mismatch: bool,
    threads: Option<usize>,
    sign: Option<&Bound<'_, PyAny>>,
    model_version: Option<u64>,
) -> PyResult<TreeReport> {
    let key = key::one(key)?;
    let signing = Signing::of(sign, None, model_version)?;
    let s = settings(py, kind, block_size, force, allow_mismatch, None, signing)?;
    let master = key.get().master();
    let run = interruptible(py, |cancel| {
        let p = TreeParams {
            root: &src_dir,
            out_root: &dst_dir,
            manifest: manifest.as_deref(),
            settings: EncodeSettings {
                cancel: cancel.clone(),
                ..s
            },
            jobs: threads,
        };
        ava3_app::batch::encode_tree(&p, master)
    })?
    .map_err(|f| errors::failure(py, f))?;
    let files = run
        .files
        .into_iter()
        .map(|f| {
            let e = f.entry;
            Py::new(
                py,
                TreeEntry {
                    status: f.status,
                    source: e.source,
                    output: f.output,
                    size: e.size,
                    payload_kind: e.payload_kind,
                    key_id: e.key_id,
                    plaintext_sha256: e.plaintext_sha256,
                    output_keyless_sha256: e.output_keyless_sha256,
                    output_sha256: e.output_sha256,
                },
            )
        })
        .collect::<PyResult<_>>()?;
    Ok(TreeReport {
        manifest: run.manifest,
        files,
        skipped: run.skipped,
        failed: run
            .failures
            .into_iter()
            .map(|(rel, f)| (rel, f.message))
            .collect(),
    })
}

/// `ava3 verify`: keyless with no keys, keyed with them, `deep` decodes
/// everything and recomputes the plaintext SHA-256.
#[pyfunction]
#[pyo3(signature = (source, *, keys=None, deep=false, signers=None, name=None, min_version=None))]
pub fn verify(
    py: Python<'_>,
    source: &Bound<'_, PyAny>,
    keys: Option<&Bound<'_, PyAny>>,
    deep: bool,
    signers: Option<&Bound<'_, PyAny>>,
    name: Option<String>,
    min_version: Option<u64>,
) -> PyResult<VerifyReport> {
    let ring = key::ring(keys)?;
    let policy = key::policy(signers, name, min_version)?;
    let keys = ring.keys();
    let check = Check {
        keys: &keys,
        policy: &policy,
        deep,
    };
    // The core decides what can be checked; this names the arguments.
    if let Err(u) = check.level() {
        let message = match u {
            Unverifiable::RequirementUnauthenticated => {
                "name= and min_version= need something that authenticates them: keys= or signers="
                    .to_string()
            }
            Unverifiable::DeepNeedsKey => "a deep verification needs a key: give keys=".to_string(),
            other => other.to_string(),
        };
        return Err(errors::failure(py, Failure::usage(message)));
    }
    let (source, name) = Source::from_py(source)?;
    let report = interruptible(py, |cancel| -> CoreResult<Report> {
        let mut input = cancel.guard(Cursor::new(&source)?);
        Sealed::read(&mut input)?.verify(input, &check, &DecodeOptions::default())
    })?
    .map_err(|e| errors::core_error(py, &name, e))?;
    let h = &report.header;
    Ok(VerifyReport {
        name,
        level: report.level.as_str(),
        format_version: h.version(),
        payload_kind: h.payload_kind().as_str(),
        plaintext_size: h.plaintext_len(),
        key_id: h.key_id().to_hex(),
        keyless_sha256: hex::encode(report.keyless_sha256),
        plaintext_sha256: report.plaintext_sha256.map(hex::encode),
        content: report.content.map(|c| c.describe()),
        signer: report.signer.map(|s| s.to_hex()),
        model_name: h.metadata().name.clone(),
        model_version: h.metadata().version,
    })
}

/// `ava3 inspect`: the header, without a key.
#[pyfunction]
pub fn inspect(py: Python<'_>, source: &Bound<'_, PyAny>) -> PyResult<HeaderInfo> {
    let (source, name) = Source::from_py(source)?;
    let (sealed, size, signers) = py
        .detach(|| -> CoreResult<(Sealed, u64, Vec<String>)> {
            let sealed = Sealed::read_at(&source)?;
            let size = source.size()?;
            let signers = if size == sealed.layout().file_len() {
                sealed
                    .signer_ids(&source)?
                    .iter()
                    .map(|s| s.to_hex())
                    .collect()
            } else {
                Vec::new()
            };
            Ok((sealed, size, signers))
        })
        .map_err(|e| errors::core_error(py, &name, e))?;
    let i = ava3_app::inspect::Inspection::of(name, &sealed, size, signers);
    Ok(HeaderInfo {
        format_version: i.format_version,
        payload_kind: i.payload_kind,
        block_size: i.block_size,
        plaintext_size: i.plaintext_size,
        blocks: i.blocks,
        key_id: i.key_id,
        file_size: i.file_size,
        expected_file_size: i.expected_file_size,
        size_check: i.size_check,
        model_name: i.model_name,
        model_version: i.model_version,
        signers: i.signers,
    })
}
