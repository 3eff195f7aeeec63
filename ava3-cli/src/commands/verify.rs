//! `ava3 verify PATH...`: keyless without a key, keyed (every tag) with one,
//! deep (full decode) with `--deep`; optionally against a batch manifest.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use ava3_app::manifest::Manifest;
use ava3_app::output::is_dash;
use ava3_format::{
    check_manifest_path, verify_manifest, Check, DecodeOptions, Error, Level, ManifestPaths,
    MasterKey, Outcome, Policy, Report, Sealed, Unverifiable,
};

use crate::args::{RequireArg, VerifyArgs};
use crate::error::{self, CliResult, Failure, Kind, EXIT_BAD_FILE};
use crate::keys::{load_keys, policy_of};
use crate::report::{
    hex32, ManifestCheck, OutputMode, Print, Summary, VerifyOutcome, VerifyRecord, VerifyStatus,
    VerifySummary,
};

/// A verify, checked: the keys, the policy and the level they reach (the
/// inputs of the core's [`Check`]), the files or the manifest to check.
#[derive(Debug)]
pub(crate) struct VerifyRequest {
    /// Files and folders; empty with a manifest: every file it lists.
    pub(crate) paths: Vec<PathBuf>,
    /// The key ring (empty: keyless, or signed with `--signer`).
    pub(crate) keys: Vec<MasterKey>,
    /// `--signer`, `--name`, `--min-version`.
    pub(crate) policy: Policy,
    /// Decode everything (`--deep`, `--require deep`).
    pub(crate) deep: bool,
    /// What a file that passes has been checked to (decided by the core
    /// from the three above, and at least `--require`).
    pub(crate) level: Level,
    /// `-c MANIFEST`.
    pub(crate) manifest: Option<PathBuf>,
    pub(crate) ignore_missing: bool,
    pub(crate) allow_mismatch: bool,
    /// The checked `-j`.
    pub(crate) threads: usize,
    /// Say on standard error that only a keyless check is made (no key, no
    /// `--signer`, not `-q`).
    pub(crate) keyless_note: bool,
    pub(crate) mode: OutputMode,
}

impl VerifyRequest {
    /// The request of the flags: the keys, the policy, the level against
    /// `--require`, `-j` (the order of their errors).
    pub(crate) fn from_args(a: &VerifyArgs) -> CliResult<Self> {
        let keys = load_keys(&a.keys.key_files)?;
        let policy = policy_of(&a.trust)?;
        let deep = a.deep || a.require == Some(RequireArg::Deep);
        let level = {
            let ring: Vec<&MasterKey> = keys.iter().collect();
            let check = Check {
                keys: &ring,
                policy: &policy,
                deep,
            };
            level_of(a.require, &check)?
        };
        Ok(Self {
            paths: a.paths.clone(),
            deep,
            level,
            manifest: a.manifest.clone(),
            ignore_missing: a.ignore_missing,
            allow_mismatch: a.allow_mismatch,
            threads: ava3_app::threads(a.jobs)?,
            keyless_note: keys.is_empty() && !policy.requires_signature() && !a.quiet,
            mode: OutputMode::of(a.json, a.quiet),
            keys,
            policy,
        })
    }

    /// The core's check of this request, with `ring` (its keys, borrowed).
    fn check<'a>(&'a self, ring: &'a [&'a MasterKey]) -> Check<'a> {
        Check {
            keys: ring,
            policy: &self.policy,
            deep: self.deep,
        }
    }
}

/// Expands folders into the `*.ava3` files below them, sorted.
fn collect(paths: &[PathBuf]) -> CliResult<Vec<PathBuf>> {
    let mut files = Vec::new();
    for p in paths {
        if p.is_dir() {
            for e in walkdir::WalkDir::new(p).sort_by_file_name() {
                let e =
                    e.map_err(|e| Failure::usage(format!("cannot list {}: {e}", p.display())))?;
                if e.file_type().is_file() && e.path().extension().is_some_and(|x| x == "ava3") {
                    files.push(e.path().to_path_buf());
                }
            }
        } else {
            files.push(p.clone());
        }
    }
    Ok(files)
}

/// A failure and its outcome (the spec's, or `kind mismatch`).
type Checked = Result<Report, (Failure, VerifyOutcome)>;

fn check_one(path: &Path, listed_only: bool, allow_mismatch: bool, check: &Check<'_>) -> Checked {
    let cannot_open = |e: std::io::Error| {
        (
            Failure::io_error(
                format!("cannot open {}: {e}", ava3_app::display::shown(path)),
                &e,
            ),
            VerifyOutcome::Spec(Outcome::Other),
        )
    };
    let file: Box<dyn Read + Send> = if is_dash(path) {
        Box::new(std::io::BufReader::with_capacity(1 << 20, std::io::stdin()))
    } else if listed_only {
        // A regular file only, not through a link (two entries must not
        // be one file).
        Box::new(ava3_app::manifest::open_regular(path, false).map_err(cannot_open)?)
    } else {
        Box::new(File::open(path).map_err(cannot_open)?)
    };
    let opts = DecodeOptions { parallel: true };
    let mut file = file;
    let report = Sealed::read(&mut file)
        .and_then(|sealed| sealed.verify(file, check, &opts))
        .map_err(|e: Error| {
            let outcome = VerifyOutcome::Spec(e.outcome());
            (Failure::from_core(path.display(), e), outcome)
        })?;
    if let Some(content) = report.content.filter(|_| !allow_mismatch) {
        let kind = report.header.payload_kind();
        if !content.fits(kind) {
            let f = Failure::bad(format!(
                "{}: the header says the payload is {kind} but it decodes to {} (--allow-mismatch \
                 accepts a file encoded so on purpose)",
                path.display(),
                content.describe()
            ));
            return Err((f, VerifyOutcome::KindMismatch));
        }
    }
    Ok(report)
}

/// The level a file passing `check` reaches (the core decides; this only
/// names the flags), refused early when the check cannot be made or falls
/// short of `require`.
fn level_of(require: Option<RequireArg>, check: &Check<'_>) -> CliResult<Level> {
    if require == Some(RequireArg::Signed) && !check.policy.requires_signature() {
        return Err(Failure::usage(
            "a signed check is required (--require signed / AVA3_VERIFY_REQUIRE) but no trusted \
             public key was given: give --signer PUBKEY (or AVA3_SIGNER_FILE)",
        ));
    }
    let level = check.level().map_err(|u| match u {
        Unverifiable::RequirementUnauthenticated => Failure::usage(
            "--name and --min-version need something that authenticates them: a key, or --signer",
        ),
        Unverifiable::DeepNeedsKey => Failure::usage(format!(
            "--deep needs a key: give {}",
            crate::keys::KEY_SOURCES
        )),
        other => Failure::usage(other.to_string()),
    })?;
    if matches!(require, Some(RequireArg::Keyed | RequireArg::Deep)) && !level.is_keyed() {
        return Err(Failure::usage(format!(
            "a keyed check is required (--require / AVA3_VERIFY_REQUIRE) but no key was given: give {}",
            crate::keys::KEY_SOURCES
        )));
    }
    Ok(level)
}

/// What the manifest says of one output.
struct Listed {
    /// Where it is: the manifest's folder joined with `output`.
    path: PathBuf,
    output: String,
    keyless_sha256: String,
    plaintext_sha256: String,
}

/// The manifest's entries by resolved output path. The manifest is read
/// once: with trusted keys its signature is checked over the very bytes
/// then parsed (a file swapped in between cannot pass). Its paths must be
/// relative; one that leaves the manifest's folder (`..`) is refused unless
/// the manifest is signed or the files to check were named (`opens`
/// false: entries are then only compared, never opened).
fn expected_outputs(
    manifest: &Path,
    policy: &Policy,
    opens: bool,
) -> CliResult<BTreeMap<PathBuf, Listed>> {
    let bytes = Manifest::read_bytes(manifest)?;
    let signed = policy.requires_signature();
    if signed {
        check_manifest_signature(manifest, &bytes, policy)?;
    }
    let m = Manifest::parse(&bytes, manifest)?;
    let rule = if signed || !opens {
        ManifestPaths::Signed
    } else {
        ManifestPaths::Unsigned
    };
    let mut listed = BTreeMap::new();
    for e in &m.files {
        check_manifest_path(&e.output, rule).map_err(|why| {
            Failure::bad(format!(
                "manifest {} lists {:?}, which is refused: {why}",
                manifest.display(),
                e.output
            ))
        })?;
        let p = Manifest::output_path(manifest, e);
        let resolved = p.canonicalize().unwrap_or_else(|_| p.clone());
        if let Some(other) = listed.get(&resolved) {
            let other: &Listed = other;
            return Err(Failure::bad(format!(
                "manifest {} lists {:?} and {:?}, which are one file here ({}): a file of the \
                 release was replaced by a link",
                manifest.display(),
                other.output,
                e.output,
                resolved.display()
            )));
        }
        listed.insert(
            resolved,
            Listed {
                path: p,
                output: e.output.clone(),
                keyless_sha256: e.output_keyless_sha256.clone(),
                plaintext_sha256: e.plaintext_sha256.clone(),
            },
        );
    }
    Ok(listed)
}

/// The record of one checked file, compared with its manifest entry when
/// there is a manifest; returns the record and its exit status.
fn record_of(
    path: &Path,
    level: Level,
    result: &Checked,
    manifest: Option<Option<&Listed>>,
) -> (VerifyRecord, u8) {
    let r = match result {
        Err((f, outcome)) => {
            let rec = VerifyRecord {
                unread: f.kind == Kind::Io,
                ..VerifyRecord::failed(
                    path.display().to_string(),
                    level,
                    *outcome,
                    f.message.clone(),
                )
            };
            return (rec, f.code());
        }
        Ok(r) => r,
    };
    let mut rec = VerifyRecord {
        path: path.display().to_string(),
        status: VerifyStatus::Ok,
        level,
        outcome: VerifyOutcome::Spec(Outcome::Success),
        error: None,
        payload_kind: Some(r.header.payload_kind().as_str().to_string()),
        plaintext_size: Some(r.header.plaintext_len()),
        block_size: Some(r.header.block_size()),
        key_id: Some(r.header.key_id().to_hex()),
        keyless_sha256: Some(hex32(&r.keyless_sha256)),
        plaintext_sha256: r.plaintext_sha256.as_ref().map(hex32),
        model_name: r.header.metadata().name.clone(),
        model_version: r.header.metadata().version,
        signer: r.signer.map(|s| s.to_hex()),
        manifest: None,
        unread: false,
    };
    let Some(listed) = manifest else {
        return (rec, 0);
    };
    let matches = listed.is_some_and(|l| {
        l.keyless_sha256 == hex32(&r.keyless_sha256)
            && r.plaintext_sha256
                .is_none_or(|d| l.plaintext_sha256 == hex32(&d))
    });
    rec.manifest = Some(match (listed, matches) {
        (None, _) => ManifestCheck::Extra,
        (Some(_), true) => ManifestCheck::Match,
        (Some(_), false) => ManifestCheck::Changed,
    });
    if matches {
        return (rec, 0);
    }
    rec.status = VerifyStatus::Failed;
    rec.outcome = VerifyOutcome::Spec(Outcome::IntegrityFailure);
    rec.error = Some(format!(
        "{}: {} the manifest",
        path.display(),
        if listed.is_none() {
            "not in"
        } else {
            "differs from"
        }
    ));
    (rec, EXIT_BAD_FILE)
}

/// `ava3 verify`: collect the files (from the paths, or from the manifest
/// alone, as `sha256sum -c` does), check each, report each, then the
/// summary and the worst exit status.
pub(crate) fn run(req: VerifyRequest) -> CliResult<()> {
    let ring: Vec<&MasterKey> = req.keys.iter().collect();
    let check = req.check(&ring);
    let (level, mode) = (req.level, req.mode);
    if req.keyless_note {
        eprintln!(
            "ava3: note: no key given: keyless check only (structure and keyless SHA-256, which \
             detects corruption but not tampering); give a key for a keyed check"
        );
    }
    let listed_only = req.paths.is_empty();
    let mut expected = match &req.manifest {
        Some(m) => Some(expected_outputs(m, &req.policy, listed_only)?),
        None => None,
    };
    // Collect: the paths given, or every output the manifest lists.
    let files = match (&expected, listed_only) {
        (Some(listed), true) => listed
            .values()
            .map(|l| l.path.clone())
            .filter(|p| p.exists())
            .collect(),
        _ => collect(&req.paths)?,
    };
    // Check and report, file by file.
    let pool = ava3_app::thread_pool(Some(req.threads))?;
    let (mut worst, mut ok, mut failed, mut unread) = (0u8, 0usize, 0usize, 0usize);
    for path in &files {
        let result = pool.install(|| check_one(path, listed_only, req.allow_mismatch, &check));
        let canon = path.canonicalize().unwrap_or_else(|_| path.clone());
        let listed = expected.as_mut().map(|e| e.remove(&canon));
        let (rec, code) = record_of(path, level, &result, listed.as_ref().map(Option::as_ref));
        worst = error::worst(worst, code);
        if code == 0 {
            ok += 1;
        } else if rec.unread {
            unread += 1;
        } else {
            failed += 1;
        }
        rec.print(mode)?;
    }
    // What the manifest lists and is not there.
    let mut missing = 0usize;
    for listed in expected.into_iter().flat_map(BTreeMap::into_values) {
        missing += 1;
        if req.ignore_missing {
            continue;
        }
        let rec = VerifyRecord {
            manifest: Some(ManifestCheck::Missing),
            ..VerifyRecord::failed(
                listed.output.clone(),
                level,
                VerifyOutcome::Spec(Outcome::Other),
                format!("{}: listed in the manifest but missing", listed.output),
            )
        };
        failed += 1;
        worst = error::worst(worst, EXIT_BAD_FILE);
        rec.print(mode)?;
    }
    VerifySummary {
        ok,
        failed,
        unread,
        ignored_missing: if req.ignore_missing { missing } else { 0 },
        level,
    }
    .print(mode);
    if files.is_empty() && failed == 0 {
        return Err(Failure::usage("no .ava3 file found"));
    }
    let total = ok + failed + unread;
    match (worst, unread) {
        (0, _) => Ok(()),
        (code, 0) => Err(Failure::with_code(
            code,
            format!("{failed} of {total} files failed verification"),
        )),
        (code, _) if failed == 0 => Err(Failure::with_code(
            code,
            format!("{unread} of {total} files could not be read"),
        )),
        (code, _) => Err(Failure::with_code(
            code,
            format!("{failed} of {total} files failed verification, {unread} could not be read"),
        )),
    }
}

/// With trusted keys, a manifest must carry a detached signature
/// (`MANIFEST.sig`, written by `encode --batch --sign`) by one of them over
/// `bytes`, the manifest as read (spec: release manifest): then the list of
/// files and digests is the publisher's.
fn check_manifest_signature(manifest: &Path, bytes: &[u8], policy: &Policy) -> CliResult<()> {
    let sig_path = ava3_app::manifest::manifest_signature_path(manifest);
    let unsigned = || {
        Failure::bad(format!(
            "unsigned: {} has no signature {} (encode --batch --sign writes it), and --signer requires one",
            manifest.display(),
            sig_path.display()
        ))
    };
    let sigs = Manifest::read_signature(manifest)?.ok_or_else(unsigned)?;
    match verify_manifest(bytes, &sigs, policy) {
        Ok(_) => Ok(()),
        Err(Error::Unsigned) => Err(unsigned()),
        Err(_) => Err(Failure::bad(format!(
            "bad signature: no signature in {} verifies over {} under a trusted key; the manifest \
             was changed or signed by someone else",
            sig_path.display(),
            manifest.display()
        ))),
    }
}
