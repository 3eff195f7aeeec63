//! `ava3 verify PATH...`: keyless without a key, keyed (every tag) with one,
//! deep (full decode) with `--deep`; optionally against a batch manifest.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use ava3_format::{verify_keyed, verify_keyless, DecodeOptions, Error, Level, MasterKey, Report};

use crate::args::{RequireArg, VerifyArgs};
use crate::error::{self, CliResult, Failure, EXIT_BAD_FILE};
use crate::keys::load_keys;
use crate::manifest::Manifest;
use crate::output::is_dash;
use crate::report::{emit, hex32, VerifyRecord};

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

fn check_one(path: &Path, keys: &[MasterKey], deep: bool) -> Checked {
    let file: Box<dyn Read + Send> = if is_dash(path) {
        Box::new(std::io::BufReader::with_capacity(1 << 20, std::io::stdin()))
    } else {
        Box::new(File::open(path).map_err(|e| {
            (
                Failure::usage(format!("cannot open {}: {e}", path.display())),
                "other",
            )
        })?)
    };
    let opts = DecodeOptions { parallel: true };
    let report = if keys.is_empty() {
        verify_keyless(file, &opts)
    } else {
        verify_keyed(file, keys, deep, &opts)
    }
    .map_err(|e: Error| {
        let name = e.outcome().as_str();
        (Failure::from_core(path.display(), e), name)
    })?;
    if let Some(content) = report.content {
        let kind = report.header.payload_kind();
        if !content.fits(kind) {
            let f = Failure::bad(format!(
                "{}: the header says the payload is {kind} but it decodes to {}",
                path.display(),
                content.describe()
            ));
            return Err((f, "kind mismatch"));
        }
    }
    Ok(report)
}

/// `ava3 verify`.
pub fn run(a: &VerifyArgs) -> CliResult<()> {
    let keys = load_keys(&a.keys.key_files)?;
    let deep = a.deep || a.require == Some(RequireArg::Deep);
    if deep && keys.is_empty() {
        return Err(Failure::usage(format!(
            "--deep needs a key: give {}",
            crate::keys::KEY_SOURCES
        )));
    }
    if a.require >= Some(RequireArg::Keyed) && keys.is_empty() {
        return Err(Failure::usage(format!(
            "a keyed check is required (--require / AVA3_VERIFY_REQUIRE) but no key was given: give {}",
            crate::keys::KEY_SOURCES
        )));
    }
    let level = if keys.is_empty() {
        Level::Keyless
    } else if deep {
        Level::Deep
    } else {
        Level::Keyed
    };
    if keys.is_empty() && !a.quiet {
        eprintln!(
            "ava3: note: no key given: keyless check only (structure and keyless SHA-256, which \
             detects corruption but not tampering); give a key for a keyed check"
        );
    }
    let files = collect(&a.paths)?;
    let manifest = match &a.manifest {
        Some(m) => Some((m.clone(), Manifest::load(m)?)),
        None => None,
    };
    // Manifest entries by canonical output path.
    let mut expected: BTreeMap<PathBuf, (String, String, String)> = BTreeMap::new();
    if let Some((mpath, m)) = &manifest {
        for e in &m.files {
            let p = Manifest::output_path(mpath, e);
            let key = p.canonicalize().unwrap_or(p);
            expected.insert(
                key,
                (
                    e.output.clone(),
                    e.output_keyless_sha256.clone(),
                    e.plaintext_sha256.clone(),
                ),
            );
        }
    }

    let pool = crate::thread_pool(a.jobs)?;
    let mut worst = 0u8;
    let mut ok = 0usize;
    let mut failed = 0usize;
    for path in &files {
        let result = pool.install(|| check_one(path, &keys, deep));
        let mut rec = VerifyRecord {
            path: path.display().to_string(),
            level: level.as_str(),
            ..Default::default()
        };
        let canon = path.canonicalize().unwrap_or_else(|_| path.clone());
        let listed = expected.remove(&canon);
        match &result {
            Ok(r) => {
                rec.status = "ok";
                rec.outcome = "success";
                rec.payload_kind = Some(r.header.payload_kind().as_str().to_string());
                rec.plaintext_size = Some(r.header.plaintext_len());
                rec.block_size = Some(r.header.block_size());
                rec.key_id = Some(r.header.key_id().to_hex());
                rec.keyless_sha256 = Some(hex32(&r.keyless_sha256));
                rec.plaintext_sha256 = r.plaintext_sha256.as_ref().map(hex32);
                if manifest.is_some() {
                    rec.manifest = Some(match &listed {
                        None => "extra",
                        Some((_, keyless, plain)) => {
                            let keyless_ok = *keyless == hex32(&r.keyless_sha256);
                            let plain_ok = r
                                .plaintext_sha256
                                .map(|d| *plain == hex32(&d))
                                .unwrap_or(true);
                            if keyless_ok && plain_ok {
                                "match"
                            } else {
                                "changed"
                            }
                        }
                    });
                    if rec.manifest != Some("match") {
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
                        worst = error::worst(worst, EXIT_BAD_FILE);
                    }
                }
            }
            Err((f, name)) => {
                rec.status = "failed";
                rec.outcome = name;
                rec.error = Some(f.message.clone());
                worst = error::worst(worst, f.code);
            }
        }
        if rec.status == "ok" {
            ok += 1;
        } else {
            failed += 1;
        }
        print_record(&rec, a.json, a.quiet)?;
    }
    for (_, (output, _, _)) in expected {
        let rec = VerifyRecord {
            path: output.clone(),
            status: "failed",
            level: level.as_str(),
            outcome: "other",
            error: Some(format!("{output}: listed in the manifest but missing")),
            manifest: Some("missing"),
            ..Default::default()
        };
        failed += 1;
        worst = error::worst(worst, EXIT_BAD_FILE);
        print_record(&rec, a.json, a.quiet)?;
    }
    if !a.json {
        eprintln!("ava3: {ok} ok, {failed} failed ({} check)", level.as_str());
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

fn print_record(rec: &VerifyRecord, json: bool, quiet: bool) -> std::io::Result<()> {
    if json {
        emit(&rec.to_json())?;
    } else if rec.status == "ok" {
        if !quiet {
            // Say in words what was and was not checked.
            let level = match rec.level {
                "keyless" => "keyless: corruption only, authenticity NOT checked",
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
            if let Some(p) = &rec.plaintext_sha256 {
                // Keyed: the value the encoder recorded (authenticated, not
                // recomputed); deep: recomputed from the decoded model.
                if rec.level == "deep" {
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
