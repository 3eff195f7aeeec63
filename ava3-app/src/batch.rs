//! A tree of models into AVA3 (what `ava3 encode DIR --batch -o OUTDIR`
//! and Python's `encode_tree` run): every `.amm`, `.amg`, `.amr` below a
//! folder, in parallel on one pool, resumable through a journal, each
//! output named only once complete, with the release manifest (and its
//! signature when signing keys are given) written whatever failed.

use std::collections::HashMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use ava3_format::{MasterKey, RandomAccessReader};
use rayon::prelude::*;

use crate::encode::{encode_file, EncodeSettings, Target};
use crate::error::{AppResult, Failure, Kind, EXIT_BAD_FILE};
use crate::manifest::{
    relative, relative_to_manifest, sign_manifest, Entry, Manifest, SourceStat, MANIFEST_NAME,
};
use crate::output::{file_id, remove_stale_temporaries, AtomicFile, FileId};
use crate::progress::{batch_bar, files_label};

const MODEL_EXTENSIONS: [&str; 3] = ["amm", "amg", "amr"];

fn is_model(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| MODEL_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
}

/// One file of the batch.
struct Job {
    source: PathBuf,
    /// What the walk saw at `source` (device, inode): the encode opens
    /// only that file.
    id: FileId,
    /// Its size as the walk saw it (for the progress bar).
    len: u64,
    output: PathBuf,
    rel: String,
}

/// The earlier run's entry for this job's output, if it is still current:
/// the source is the very file that was encoded (device, inode, change time
/// and size as recorded), and the output authenticates under `key` with the
/// recorded length and keyless digest. Modification times are not trusted:
/// `cp -p` and `touch -r` set them back.
fn up_to_date(
    job: &Job,
    key: &MasterKey,
    settings: &EncodeSettings,
    previous: &Entry,
) -> Option<Entry> {
    let src = std::fs::symlink_metadata(&job.source).ok()?;
    if !src.is_file() || file_id(&src) != job.id {
        return None;
    }
    if previous.source_stat != Some(SourceStat::of(&src)) || previous.size != src.len() {
        return None;
    }
    // Signed by exactly this run's keys, with this run's model version:
    // otherwise it is re-encoded (a run with --sign signs what an earlier
    // unsigned run made).
    let mut policy = ava3_format::Policy::default();
    for k in &settings.signers {
        policy.trust(k.public_key());
    }
    let reader = RandomAccessReader::open(File::open(&job.output).ok()?, &[key], &policy).ok()?;
    let header = reader.header();
    if usize::from(header.signature_count()) != settings.signers.len()
        || header.metadata().version != settings.metadata.version
        || header.metadata().name != settings.metadata.name
    {
        return None;
    }
    if reader.len() != src.len()
        || hex::encode(reader.keyless_sha256()) != previous.output_keyless_sha256
    {
        return None;
    }
    // The entry carried into the new (signed) manifest is rebuilt from the
    // output itself, authenticated under the key (and the signature): an
    // earlier manifest or journal is trusted for nothing but "which file".
    let output_sha256 = {
        use sha2::{Digest, Sha256};
        use std::io::Read;
        let mut h = Sha256::new();
        let mut f = File::open(&job.output).ok()?;
        let mut buf = vec![0u8; 1 << 20];
        loop {
            match f.read(&mut buf).ok()? {
                0 => break,
                n => h.update(&buf[..n]),
            }
        }
        hex::encode(h.finalize())
    };
    // Exactly this run's keys, each of whose signatures verified (every
    // signature by a trusted key must): no id the run did not verify is
    // listed.
    let signers = if header.signature_count() > 0 {
        ava3_format::Sealed::read_at(reader.source())
            .and_then(|s| s.signer_ids(reader.source()))
            .ok()?
    } else {
        Vec::new()
    };
    let mut ours: Vec<_> = settings.signers.iter().map(|k| k.signer_id()).collect();
    let mut theirs = signers.clone();
    ours.sort_by_key(|s| *s.as_bytes());
    theirs.sort_by_key(|s| *s.as_bytes());
    if ours != theirs {
        return None;
    }
    Some(Entry {
        source: previous.source.clone(),
        size: reader.len(),
        plaintext_sha256: hex::encode(reader.recorded_plaintext_sha256()),
        output: previous.output.clone(),
        output_sha256: Some(output_sha256),
        output_keyless_sha256: hex::encode(reader.keyless_sha256()),
        key_id: header.key_id().to_hex(),
        payload_kind: header.payload_kind().as_str().to_string(),
        format_version: header.version(),
        source_stat: Some(SourceStat::of(&src)),
        signers: signers.iter().map(|s| s.to_hex()).collect(),
        model_version: header.metadata().version,
    })
}

/// What the walk of the input folder found.
struct Walk {
    /// The models to encode, in a stable order.
    jobs: Vec<Job>,
    /// Everything else, with the reason it is not encoded.
    skipped: Vec<(String, &'static str)>,
    /// Folders (or entries) that could not be read: reported as failures,
    /// while the rest of the tree is encoded.
    unreadable: Vec<(String, Failure)>,
}

/// Walks `root` in a stable order, never into the output folder and never
/// through a link: a link (to a file or a folder) is listed as skipped,
/// because following one would let whoever can write the tree choose what
/// gets encoded (a key file, say).
fn collect(root: &Path, out_root: &Path) -> Walk {
    let out_canon = out_root.canonicalize().ok();
    let mut walk = Walk {
        jobs: Vec::new(),
        skipped: Vec::new(),
        unreadable: Vec::new(),
    };
    for entry in walkdir::WalkDir::new(root)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| out_canon.as_deref() != e.path().canonicalize().ok().as_deref())
    {
        let entry = match entry {
            Ok(e) => e,
            Err(e) => {
                let at = e.path().unwrap_or(root);
                let rel = relative(at, root);
                let why = e
                    .io_error()
                    .map(|io| io.to_string())
                    .unwrap_or_else(|| e.to_string());
                let f = Failure::usage(format!("cannot read the folder: {why}"));
                walk.unreadable
                    .push((if rel.is_empty() { ".".into() } else { rel }, f));
                continue;
            }
        };
        let path = entry.path().to_path_buf();
        let rel = relative(&path, root);
        let kind = entry.file_type();
        if kind.is_dir() {
            continue;
        }
        if kind.is_symlink() {
            walk.skipped.push((rel, "a link: links are not followed"));
            continue;
        }
        if !kind.is_file() {
            walk.skipped.push((rel, "not a regular file"));
            continue;
        }
        if !is_model(&path) {
            walk.skipped.push((rel, "not .amm/.amg/.amr"));
            continue;
        }
        let meta = match entry.metadata() {
            Ok(m) => m,
            Err(e) => {
                let f = Failure::new(Kind::Io, format!("cannot read it: {e}"));
                walk.unreadable.push((rel, f));
                continue;
            }
        };
        let mut out = out_root
            .join(path.strip_prefix(root).unwrap_or(&path))
            .into_os_string();
        out.push(".ava3");
        walk.jobs.push(Job {
            source: path,
            id: file_id(&meta),
            len: meta.len(),
            output: PathBuf::from(out),
            rel,
        });
    }
    walk
}

/// What every job of a run shares.
struct Context<'a> {
    key: &'a MasterKey,
    /// The settings of each file's encode.
    per_file: EncodeSettings,
    /// `--force`: re-encode and replace whatever is there.
    force: bool,
    manifest_dir: &'a Path,
    /// What earlier runs wrote, by output path relative to the manifest.
    previous: &'a HashMap<String, Previous>,
    journal: &'a Mutex<File>,
}

/// An earlier run's entry for an output, and whether it may make that
/// output count as up to date.
struct Previous {
    entry: Entry,
    /// Unsigned runs: always. With `--sign`: only an entry of a manifest
    /// whose signature verifies under this run's keys (over the bytes then
    /// parsed); never a journal's line, which anyone who can write the
    /// output folder could have written.
    vouched: bool,
}

/// What earlier runs wrote, by output path (relative to the manifest's
/// folder, as recorded): the manifest, and the journal of a run that was
/// killed before it could write its manifest (one JSON entry per line,
/// appended as each output is committed; a torn last line is ignored).
fn previous_outputs(
    manifest_path: &Path,
    journal_path: &Path,
    signers: &[std::sync::Arc<ava3_format::SigningKey>],
) -> AppResult<HashMap<String, Previous>> {
    let mut previous = HashMap::new();
    if manifest_path.exists() {
        let bytes = Manifest::read_bytes(manifest_path)?;
        let vouched = signers.is_empty() || {
            let mut trust = ava3_format::Policy::default();
            for k in signers {
                trust.trust(k.public_key());
            }
            Manifest::read_signature(manifest_path)
                .ok()
                .flatten()
                .is_some_and(|sig| ava3_format::verify_manifest(&bytes, &sig, &trust).is_ok())
        };
        for entry in Manifest::parse(&bytes, manifest_path)?.files {
            previous.insert(entry.output.clone(), Previous { entry, vouched });
        }
    }
    if let Ok(text) = std::fs::read_to_string(journal_path) {
        for entry in text
            .lines()
            .filter_map(|l| serde_json::from_str::<Entry>(l).ok())
        {
            let vouched = signers.is_empty();
            previous.insert(entry.output.clone(), Previous { entry, vouched });
        }
    }
    Ok(previous)
}

/// One model of the walk: skipped as up to date, refused, or encoded,
/// journaled and given its name.
fn encode_job(job: &Job, ctx: &Context<'_>) -> AppResult<(Entry, &'static str)> {
    // A run killed part-way may have left a temporary file.
    remove_stale_temporaries(&job.output);
    // Only what an earlier batch wrote (its manifest lists
    // it) may be skipped as current or replaced; any other
    // file at an output path needs --force.
    let listed = ctx
        .previous
        .get(&relative_to_manifest(&job.output, ctx.manifest_dir))
        .filter(|p| p.entry.source == job.rel);
    if !ctx.force {
        let current = listed
            .filter(|p| p.vouched)
            .and_then(|p| up_to_date(job, ctx.key, &ctx.per_file, &p.entry));
        if let Some(entry) = current {
            return Ok((entry, "up-to-date"));
        }
        if listed.is_none() && std::fs::symlink_metadata(&job.output).is_ok() {
            return Err(Failure::usage(format!(
                "{} exists and no earlier batch wrote it (it is not in the manifest): \
                 use --force to replace it",
                job.output.display()
            )));
        }
    }
    let stat = std::fs::symlink_metadata(&job.source)
        .ok()
        .filter(|m| file_id(m) == job.id)
        .map(|m| SourceStat::of(&m));
    if let Some(dir) = job.output.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| Failure::io_error(format!("cannot create {}: {e}", dir.display()), &e))?;
    }
    // --force re-encodes; otherwise an output the manifest
    // lists is replaced when it is not current.
    let s = EncodeSettings {
        force: true,
        ..ctx.per_file.clone()
    };
    let mut encoded = encode_file(
        &job.source,
        Some(job.id),
        Target::File(&job.output),
        ctx.key,
        &s,
    )?;
    let summary = &encoded.summary;
    let entry = Entry {
        source: job.rel.clone(),
        size: encoded.size,
        plaintext_sha256: hex::encode(summary.plaintext_sha256),
        output: relative_to_manifest(&job.output, ctx.manifest_dir),
        output_sha256: encoded.output_sha256.as_ref().map(hex::encode),
        output_keyless_sha256: hex::encode(summary.keyless_sha256),
        key_id: summary.header.key_id().to_hex(),
        payload_kind: summary.header.payload_kind().as_str().to_string(),
        format_version: summary.header.version(),
        source_stat: stat,
        signers: ctx
            .per_file
            .signers
            .iter()
            .map(|k| k.signer_id().to_hex())
            .collect(),
        model_version: summary.header.metadata().version,
    };
    // Journaled before the output gets its name: a run
    // killed in between leaves a journal line whose output
    // is missing or stale (re-encoded next time), never an
    // output that no manifest or journal lists (which the
    // next run would refuse to replace).
    if let (Ok(mut j), Ok(line)) = (ctx.journal.lock(), serde_json::to_string(&entry)) {
        use std::io::Write;
        let _ = writeln!(j, "{line}").and_then(|_| j.sync_data());
    }
    encoded.commit()?;
    Ok((entry, "encoded"))
}

/// What a tree encode is asked to do (the flags of `encode --batch`).
#[derive(Debug)]
pub struct TreeParams<'a> {
    /// The folder walked.
    pub root: &'a Path,
    /// The output folder (created if missing).
    pub out_root: &'a Path,
    /// The manifest (default: `out_root/ava3-manifest.json`).
    pub manifest: Option<&'a Path>,
    pub settings: EncodeSettings,
    /// Threads of the shared pool (`-j`; default one per core).
    pub jobs: Option<usize>,
}

/// One model of the tree that is encoded and current.
#[derive(Debug)]
pub struct TreeFile {
    /// `encoded` or `up-to-date`.
    pub status: &'static str,
    /// Its output path.
    pub output: PathBuf,
    /// Its manifest entry.
    pub entry: Entry,
}

/// What a tree encode did. The manifest is written whatever failed.
#[derive(Debug)]
pub struct TreeRun {
    /// The models encoded or current, in walk order.
    pub files: Vec<TreeFile>,
    /// What the walk left out (by relative path), with the reason.
    pub skipped: Vec<(String, &'static str)>,
    /// What failed (by relative path): models and unreadable folders.
    pub failures: Vec<(String, Failure)>,
    /// Models and unreadable folders tried.
    pub tried: usize,
    pub manifest: PathBuf,
}

impl TreeRun {
    /// The run's failure, if anything failed: the worst status, and at
    /// least "a file is bad".
    pub fn failure(&self) -> Option<Failure> {
        let code = self.failures.iter().map(|(_, f)| f.code()).max()?;
        Some(Failure::with_code(
            code.max(EXIT_BAD_FILE),
            format!(
                "{} of {} files or folders failed",
                self.failures.len(),
                self.tried
            ),
        ))
    }
}

/// Encodes every model below `p.root` into `p.out_root` on a shared pool,
/// skipping what an earlier run made that is still current, and writes the
/// manifest. Prints nothing but the progress bar (unless quiet).
pub fn encode_tree(p: &TreeParams<'_>, key: &MasterKey) -> AppResult<TreeRun> {
    let settings = p.settings.clone();
    let root = p.root;
    if !root.is_dir() {
        return Err(Failure::usage(format!(
            "a tree encode needs a folder, and {} is not one",
            root.display()
        )));
    }
    let out_root = p.out_root;
    if out_root.canonicalize().ok() == root.canonicalize().ok() {
        return Err(Failure::usage(format!(
            "the output folder is the input folder ({}): {}",
            root.display(),
            settings.names.other_output_folder
        )));
    }
    let Walk {
        jobs,
        skipped,
        unreadable,
    } = collect(root, out_root);
    if jobs.is_empty() && unreadable.is_empty() {
        // Nothing to encode is a mistake (a wrong folder, a wrong -o), not a
        // release: no empty manifest is written that a later check trusts.
        return Err(Failure::usage(format!(
            "no .amm, .amg or .amr file below {}{}",
            root.display(),
            if skipped.is_empty() {
                String::new()
            } else {
                format!(" ({} other entries skipped)", skipped.len())
            }
        )));
    }
    std::fs::create_dir_all(out_root)
        .map_err(|e| Failure::io_error(format!("cannot create {}: {e}", out_root.display()), &e))?;
    let manifest_path = p
        .manifest
        .map(Path::to_path_buf)
        .unwrap_or_else(|| out_root.join(MANIFEST_NAME));
    let manifest_dir = manifest_path
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."));

    let journal_path = manifest_dir.join(format!(".{MANIFEST_NAME}.journal"));
    let previous = previous_outputs(&manifest_path, &journal_path, &p.settings.signers)?;
    let journal = Mutex::new(
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&journal_path)
            .map_err(|e| {
                Failure::io_error(format!("cannot write {}: {e}", journal_path.display()), &e)
            })?,
    );

    let pool = crate::thread_pool(p.jobs)?;
    let bar = batch_bar(jobs.iter().map(|j| j.len).sum(), jobs.len(), settings.quiet);
    let done = std::sync::atomic::AtomicUsize::new(0);
    let failures: Mutex<Vec<(String, Failure)>> = Mutex::new(Vec::new());
    let ctx = Context {
        key,
        per_file: EncodeSettings {
            quiet: true,
            lanes: None,
            // Each file's bytes move the batch's bar as they are read.
            progress: Some(bar.clone()),
            ..settings.clone()
        },
        force: settings.force,
        manifest_dir: &manifest_dir,
        previous: &previous,
        journal: &journal,
    };
    let entries: Vec<Option<(Entry, &'static str)>> = pool.install(|| {
        jobs.par_iter()
            .map(|job| {
                let result = ctx
                    .per_file
                    .cancel
                    .check()
                    .and_then(|()| encode_job(job, &ctx));
                if matches!(result, Ok((_, status)) if status != "encoded") {
                    // Up to date: nothing was read, its bytes count as done.
                    bar.inc(job.len);
                }
                let n = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
                bar.set_message(files_label(n, jobs.len()));
                match result {
                    Ok((mut entry, status)) => {
                        entry.output = relative_to_manifest(&job.output, &manifest_dir);
                        Some((entry, status))
                    }
                    Err(f) => {
                        if let Ok(mut v) = failures.lock() {
                            v.push((job.rel.clone(), f));
                        }
                        None
                    }
                }
            })
            .collect()
    });
    bar.finish_and_clear();
    // Cancelled: what was encoded stays (named, and in the journal for the
    // next run); no manifest is written for a run that did not finish, and
    // an empty journal goes.
    if settings.cancel.is_cancelled() {
        drop(journal);
        if std::fs::metadata(&journal_path).is_ok_and(|m| m.len() == 0) {
            let _ = std::fs::remove_file(&journal_path);
        }
        return Err(Failure::interrupted());
    }

    let files: Vec<TreeFile> = jobs
        .iter()
        .zip(entries)
        .filter_map(|(job, e)| {
            e.map(|(entry, status)| TreeFile {
                status,
                output: job.output.clone(),
                entry,
            })
        })
        .collect();
    let mut failures = failures.into_inner().unwrap_or_default();
    // Failures in walk order, whatever the thread timing.
    failures.sort_by(|a, b| a.0.cmp(&b.0));
    let tried = jobs.len() + unreadable.len();
    failures.extend(unreadable);

    // The manifest lists every output present and current, this run's and
    // earlier runs'.
    let manifest = Manifest::new(files.iter().map(|f| f.entry.clone()).collect());
    let mut file = AtomicFile::create(&manifest_path)?;
    serde_json::to_writer_pretty(file.writer(), &manifest).map_err(|e| {
        let message = format!("cannot write {}: {e}", manifest_path.display());
        match e.io_error_kind() {
            Some(_) => Failure::io_error(message, &std::io::Error::from(e)),
            None => Failure::new(Kind::Io, message),
        }
    })?;
    file.commit(true)?;
    sign_manifest(&manifest_path, &settings.signers)?;
    // The manifest now holds what the journal recorded.
    drop(journal);
    let _ = std::fs::remove_file(&journal_path);
    Ok(TreeRun {
        files,
        skipped,
        failures,
        tried,
        manifest: manifest_path,
    })
}
