//! `ava3 verify PATH...`: keyless without a key, keyed (every tag) with one,
//! deep (full decode) with `--deep`; optionally against a batch manifest.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use ava3_format::{
    check_manifest_path, verify_manifest, Check, DecodeOptions, Error, Level, ManifestPaths,
    MasterKey, Policy, Report, Sealed, Unverifiable,
};

use crate::args::{RequireArg, VerifyArgs};
use crate::error::{self, CliResult, Failure, EXIT_BAD_FILE};
use crate::keys::{load_keys, policy_of};
use crate::report::{emit, hex32, VerifyRecord};
use ava3_app::manifest::Manifest;
use ava3_app::output::is_dash;

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

/// A failure and its outcome name (the spec's, or `kind mismatch`, `other`).
type Checked = Result<Report, (Failure, &'static str)>;

fn check_one(path: &Path, listed_only: bool, allow_mismatch: bool, check: &Check<'_>) -> Checked {
    let cannot_open = |e: std::io::Error| {
        (
            Failure::io_error(
                format!("cannot open {}: {e}", ava3_app::display::shown(path)),
                &e,
            ),
            "other",
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
            let name = e.outcome().as_str();
            (Failure::from_core(path.display(), e), name)
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
            return Err((f, "kind mismatch"));
        }
    }
    Ok(report)
}

/// The check the flags ask for and the level a file passing it reaches
/// (the core decides; this only names the flags), refused early when it
/// cannot be made or falls short of `--require`.
fn check_of<'a>(
    a: &VerifyArgs,
    keys: &'a [&'a MasterKey],
    policy: &'a Policy,
) -> CliResult<(Check<'a>, Level)> {
    let deep = a.deep || a.require == Some(RequireArg::Deep);
    if a.require == Some(RequireArg::Signed) && !policy.requires_signature() {
        return Err(Failure::usage(
            "a signed check is required (--require signed / AVA3_VERIFY_REQUIRE) but no trusted \
             public key was given: give --signer PUBKEY (or AVA3_SIGNER_FILE)",
        ));
    }
    let check = Check { keys, policy, deep };
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
    if matches!(a.require, Some(RequireArg::Keyed | RequireArg::Deep)) && !level.is_keyed() {
        return Err(Failure::usage(format!(
            "a keyed check is required (--require / AVA3_VERIFY_REQUIRE) but no key was given: give {}",
            crate::keys::KEY_SOURCES
        )));
    }
    Ok((check, level))
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
    level: &'static str,
    result: &Checked,
    manifest: Option<Option<&Listed>>,
) -> (VerifyRecord, u8) {
    let mut rec = VerifyRecord {
        path: path.display().to_string(),
        level,
        ..Default::default()
    };
    let r = match result {
        Err((f, name)) => {
            rec.status = "failed";
            rec.outcome = name;
            rec.error = Some(f.message.clone());
            return (rec, f.code());
        }
        Ok(r) => r,
    };
    rec.status = "ok";
    rec.outcome = "success";
    rec.payload_kind = Some(r.header.payload_kind().as_str().to_string());
    rec.plaintext_size = Some(r.header.plaintext_len());
    rec.block_size = Some(r.header.block_size());
    rec.key_id = Some(r.header.key_id().to_hex());
    rec.keyless_sha256 = Some(hex32(&r.keyless_sha256));
    rec.plaintext_sha256 = r.plaintext_sha256.as_ref().map(hex32);
    rec.model_name = r.header.metadata().name.clone();
    rec.model_version = r.header.metadata().version;
    rec.signer = r.signer.map(|s| s.to_hex());
    let Some(listed) = manifest else {
        return (rec, 0);
    };
    let matches = listed.is_some_and(|l| {
        l.keyless_sha256 == hex32(&r.keyless_sha256)
            && r.plaintext_sha256
                .is_none_or(|d| l.plaintext_sha256 == hex32(&d))
    });
    rec.manifest = Some(match (listed, matches) {
        (None, _) => "extra",
        (Some(_), true) => "match",
        (Some(_), false) => "changed",
    });
    if matches {
        return (rec, 0);
    }
    rec.status = "failed";
    rec.outcome = "integrity failure";
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
pub fn run(a: &VerifyArgs) -> CliResult<()> {
    let keys = load_keys(&a.keys.key_files)?;
    let policy = policy_of(&a.trust)?;
    let ring: Vec<&MasterKey> = keys.iter().collect();
    let (check, level) = check_of(a, &ring, &policy)?;
    let level = level.as_str();
    if keys.is_empty() && !policy.requires_signature() && !a.quiet {
        eprintln!(
            "ava3: note: no key given: keyless check only (structure and keyless SHA-256, which \
             detects corruption but not tampering); give a key for a keyed check"
        );
    }
    let mut expected = match &a.manifest {
        Some(m) => Some(expected_outputs(m, &policy, a.paths.is_empty())?),
        None => None,
    };
    let listed_only = a.paths.is_empty();
    // Collect: the paths given, or every output the manifest lists.
    let files = match (&expected, a.paths.is_empty()) {
        (Some(listed), true) => listed
            .values()
            .map(|l| l.path.clone())
            .filter(|p| p.exists())
            .collect(),
        _ => collect(&a.paths)?,
    };
    // Check and report, file by file.
    let pool = ava3_app::thread_pool(a.jobs)?;
    let (mut worst, mut ok, mut failed) = (0u8, 0usize, 0usize);
    for path in &files {
        let result = pool.install(|| check_one(path, listed_only, a.allow_mismatch, &check));
        let canon = path.canonicalize().unwrap_or_else(|_| path.clone());
        let listed = expected.as_mut().map(|e| e.remove(&canon));
        let (rec, code) = record_of(path, level, &result, listed.as_ref().map(Option::as_ref));
        worst = error::worst(worst, code);
        if code == 0 {
            ok += 1;
        } else {
            failed += 1;
        }
        print_record(&rec, a.json, a.quiet)?;
    }
    // What the manifest lists and is not there.
    let mut missing = 0usize;
    for listed in expected.into_iter().flat_map(BTreeMap::into_values) {
        missing += 1;
        if a.ignore_missing {
            continue;
        }
        let rec = VerifyRecord {
            path: listed.output.clone(),
            status: "failed",
            level,
            outcome: "other",
            error: Some(format!(
                "{}: listed in the manifest but missing",
                listed.output
            )),
            manifest: Some("missing"),
            ..Default::default()
        };
        failed += 1;
        worst = error::worst(worst, EXIT_BAD_FILE);
        print_record(&rec, a.json, a.quiet)?;
    }
    if !a.json {
        let ignored = if a.ignore_missing && missing > 0 {
            format!(", {missing} listed but missing (ignored)")
        } else {
            String::new()
        };
        eprintln!("ava3: {ok} ok, {failed} failed{ignored} ({level} check)");
    }
    if files.is_empty() && failed == 0 {
        return Err(Failure::usage("no .ava3 file found"));
    }
    match worst {
        0 => Ok(()),
        code => Err(Failure::with_code(
            code,
            format!("{failed} of {} files failed verification", ok + failed),
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

fn print_record(rec: &VerifyRecord, json: bool, quiet: bool) -> std::io::Result<()> {
    if json {
        emit(&rec.to_json())?;
    } else if rec.status == "ok" {
        if !quiet {
            // Say in words what was and was not checked.
            let level = match rec.level {
                "keyless" => "keyless: corruption only, authenticity NOT checked",
                "signed" => "signed: publisher signature, no key",
                other => other,
            };
            let mut line = format!(
                "OK ({level}) {}: {} bytes of {}, key id {}, keyless sha256 {}",
                rec.path,
                rec.plaintext_size.unwrap_or(0),
                rec.payload_kind.as_deref().unwrap_or("?"),
                rec.key_id.as_deref().unwrap_or("?"),
                rec.keyless_sha256.as_deref().unwrap_or("?"),
            );
            if let Some(s) = &rec.signer {
                line.push_str(&format!(", signer {s}"));
            }
            if let Some(n) = &rec.model_name {
                line.push_str(&format!(", model {}", ava3_app::display::printable(n)));
            }
            if let Some(v) = rec.model_version {
                line.push_str(&format!(", version {v}"));
            }
            if let Some(p) = &rec.plaintext_sha256 {
                // Keyed: the value the encoder recorded (authenticated, not
                // recomputed); deep: recomputed from the decoded model.
                if rec.level.starts_with("deep") {
                    line.push_str(&format!(", plaintext sha256 {p} (recomputed)"));
                } else {
                    line.push_str(&format!(
                        ", recorded plaintext sha256 {p} (not recomputed: --deep checks it)"
                    ));
                }
            }
            emit(&line)?;
        }
    } else {
        emit(&format!(
            "FAILED ({}) {}",
            rec.level,
            rec.error.as_deref().unwrap_or("")
        ))?;
    }
    Ok(())
}
