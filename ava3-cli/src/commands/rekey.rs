//! `ava3 rekey FILE --new-key-file NEW -o OUT`: decode under the old key
//! ring and encode under the new key in one streaming pass; the plaintext
//! exists only in memory, a batch or two (1 MiB each) at a time.
//! `ava3 rekey DIR -o OUTDIR`: every `.ava3` file below DIR (links are not
//! followed), and DIR's batch manifest rewritten for the new files into
//! OUTDIR: key rotation for a whole release.

use std::fs::File;
use std::io::{BufWriter, Write};

use std::path::{Path, PathBuf};

use ava3_format::{
    verify_manifest, EncodeOptions, EncodeSummary, Encoder, Header, MasterKey, Outcome, Policy,
    Sealed,
};
use sha2::{Digest, Sha256};

use crate::args::RekeyArgs;
use crate::commands::decode::{pump, refuse_json_with_stdout};
use crate::error::{CliResult, Failure, Kind};
use crate::keys::require_keys;
use crate::report::{
    error_line, hex32, DecodeRecord, DecodeStatus, OutputMode, Print, RekeySummary, Summary,
};
use ava3_app::keys::read_key_file;
use ava3_app::manifest::{relative, Entry, Manifest, MANIFEST_NAME};
use ava3_app::output::Sha256Writer;
use ava3_app::output::{binary_stdout, check_destination, is_dash, AtomicFile};
use ava3_app::progress::{batch_bar, bytes_bar, files_label};

/// How the new files are signed, and what an input must carry to be
/// re-signed: a rotation must never turn a file that a master-key holder
/// planted into a publisher-signed one.
#[derive(Debug)]
pub(crate) struct Signing {
    /// The keys that sign the new files (`--sign`; never from the
    /// environment).
    pub(crate) signers: Vec<std::sync::Arc<ava3_format::SigningKey>>,
    /// What a re-signed input must carry: a valid signature by one of
    /// these keys (`--signer`, by default the public halves of `--sign`).
    pub(crate) trusted: Policy,
    /// `--sign-unsigned-input`: an input without any signature is signed
    /// anyway (a bad or foreign signature never is).
    pub(crate) sign_unsigned: bool,
    /// `--drop-signatures`: a signed input is written unsigned.
    pub(crate) drop_signatures: bool,
}

impl Signing {
    fn of(a: &RekeyArgs) -> CliResult<Self> {
        let signers = ava3_app::keys::load_signing_keys(&a.sign)?;
        // Built here from rekey's own flags: unlike verify and decode,
        // rekey reads no trusted key from the environment, since what it
        // trusts decides what it signs.
        let mut trusted = crate::keys::policy_of(&crate::args::TrustArgs {
            signers: a.signers.clone(),
            name: a.name.clone(),
            min_version: a.min_version,
        })?;
        if a.signers.is_empty() {
            for k in &signers {
                trusted.trust(k.public_key());
            }
        }
        Ok(Self {
            signers,
            trusted,
            sign_unsigned: a.sign_unsigned_input,
            drop_signatures: a.drop_signatures,
        })
    }

    /// What the input `header` must satisfy to be rekeyed.
    fn policy_for(&self, header: &Header, path: &Path) -> CliResult<Policy> {
        if self.signers.is_empty() {
            if header.signature_count() > 0 && !self.drop_signatures {
                return Err(Failure::usage(format!(
                    "{} is signed, and a new key changes what the signature covers: give --sign KEY \
                     to re-sign it, or --drop-signatures to write it unsigned",
                    path.display()
                )));
            }
            return Ok(self.trusted.clone());
        }
        if header.signature_count() == 0 && self.sign_unsigned {
            // Name and version still required; no signature.
            let mut p = Policy::default();
            if let Some(n) = self.trusted.name() {
                p.expect_name(n);
            }
            if let Some(v) = self.trusted.minimum_version() {
                p.require_min_version(v);
            }
            return Ok(p);
        }
        Ok(self.trusted.clone())
    }
}

/// Says why an input is not re-signed, in the words of the rule.
fn refusal(path: &Path, e: ava3_format::Error) -> Failure {
    let f = Failure::from_core(path.display(), e);
    let why = match f.outcome {
        Some(Outcome::Unsigned) => {
            "rekey --sign re-signs only files signed by a trusted key; this one carries no \
             signature, so whoever holds the old master key could have written it. Give \
             --sign-unsigned-input only if you know where it comes from"
        }
        Some(Outcome::UnknownSigner | Outcome::BadSignature) => {
            "rekey --sign re-signs only files whose signature by a trusted key (--signer, by \
             default the --sign keys' public halves) verifies"
        }
        _ => return f,
    };
    let mut f = f;
    f.message = format!("{}: {why}", f.message);
    f
}

/// Decodes `input` (its path named `path` in messages) under `keys` and
/// encodes it under `new_key` into `w`, signed as `signing` says. The input
/// is read through the random-access reader, so a signature it must carry
/// is checked before any block is decoded, and every block is compared
/// with its signed tag. Fails unless the plaintext decoded is the one the
/// old file recorded. Returns the old header and the new file's summary.
#[allow(clippy::too_many_arguments)]
fn rekey_stream(
    input: File,
    path: &Path,
    keys: &[MasterKey],
    new_key: &MasterKey,
    signing: &Signing,
    listed: Option<&Entry>,
    w: &mut (dyn Write + Send),
    quiet: bool,
) -> CliResult<(Header, EncodeSummary)> {
    let sealed = Sealed::read_at(&input).map_err(|e| Failure::from_core(path.display(), e))?;
    let policy = signing.policy_for(sealed.header(), path)?;
    let ra = sealed
        .unlock(&keys.iter().collect::<Vec<_>>(), &policy)
        .and_then(|u| u.random_access(input))
        .map_err(|e| refusal(path, e))?;
    let header = ra.header().clone();
    if let Some(e) = listed {
        // The file must be the one the (verified) manifest lists: a file
        // swapped for another genuine one, or for an older release of
        // itself, is not carried into a manifest signed anew.
        let same = e.output_keyless_sha256 == hex32(&ra.keyless_sha256())
            && e.plaintext_sha256 == hex32(&ra.recorded_plaintext_sha256())
            && e.size == header.plaintext_len()
            && e.model_version == header.metadata().version;
        if !same {
            return Err(Failure::bad(format!(
                "{}: not the file the release manifest lists (its digests or version differ): \
                 not rekeyed",
                path.display()
            )));
        }
    }
    let bar = bytes_bar(header.plaintext_len(), quiet, "rekeying");
    let opts = EncodeOptions {
        block_size: header.block_size(),
        payload_kind: header.payload_kind(),
        threads: 0,
        // The model name and version stay; the signatures are made anew.
        metadata: header.metadata().clone(),
        signers: signing.signers.clone(),
    };
    let mut enc = Encoder::new(w, new_key, header.plaintext_len(), &opts)
        .map_err(|e| Failure::from_core(path.display(), e))?;
    pump(&mut ra.reader(), &mut enc, path, &bar)?;
    let (_, summary) = enc
        .finish()
        .map_err(|e| Failure::from_core(path.display(), e))?;
    if summary.plaintext_sha256 != ra.recorded_plaintext_sha256() {
        return Err(Failure::bad(format!(
            "{}: the decoded plaintext does not match its recorded SHA-256",
            path.display()
        )));
    }
    bar.finish_and_clear();
    Ok((header, summary))
}

/// The record of one rekeyed file; `relative`, for a file of a folder,
/// its path below the folder.
fn rekeyed_record(
    source: &Path,
    output: &Path,
    old: &Header,
    new_key: &MasterKey,
    summary: &EncodeSummary,
    relative: Option<String>,
) -> DecodeRecord {
    DecodeRecord {
        status: DecodeStatus::Rekeyed,
        source: source.display().to_string(),
        output: output.display().to_string(),
        size: old.plaintext_len(),
        key_id: new_key.key_id().to_hex(),
        payload_kind: old.payload_kind(),
        previous_key_id: Some(old.key_id().to_hex()),
        output_keyless_sha256: Some(hex32(&summary.keyless_sha256)),
        relative,
    }
}

/// `ava3 rekey DIR -o OUTDIR`.
fn run_folder(req: &RekeyRequest) -> CliResult<()> {
    let RekeyRequest {
        input: root,
        output: out_root,
        force,
        keys,
        new_key,
        signing,
        mode,
        ..
    } = req;
    let (force, mode) = (*force, *mode);
    if is_dash(out_root) || out_root.is_file() {
        return Err(Failure::usage(
            "rekey of a folder needs an output folder: -o OUTDIR",
        ));
    }
    std::fs::create_dir_all(out_root)
        .map_err(|e| Failure::io_error(format!("cannot create {}: {e}", out_root.display()), &e))?;
    if root.canonicalize().ok() == out_root.canonicalize().ok() {
        return Err(Failure::usage(
            "the output folder is the input folder: rekey into another folder",
        ));
    }
    let mut manifest = old_manifest(root, signing)?;
    let mut files = Vec::new();
    for e in walkdir::WalkDir::new(root).sort_by_file_name() {
        let e = e.map_err(|e| Failure::usage(format!("cannot list {}: {e}", root.display())))?;
        if e.file_type().is_file() && e.path().extension().is_some_and(|x| x == "ava3") {
            files.push(e.path().to_path_buf());
        }
    }
    if files.is_empty() {
        return Err(Failure::usage(format!(
            "no .ava3 file below {}",
            root.display()
        )));
    }
    let pool = ava3_app::thread_pool(Some(req.threads))?;
    // A byte bar (the stored sizes of the files), labelled with the files
    // done.
    let sizes: Vec<u64> = files
        .iter()
        .map(|p| std::fs::metadata(p).map_or(0, |m| m.len()))
        .collect();
    let bar = batch_bar(sizes.iter().sum(), files.len(), mode.no_progress());
    let mut failures = Vec::new();
    for (n, (path, size)) in files.iter().zip(&sizes).enumerate() {
        let rel = relative(path, root);
        let dest = out_root.join(&rel);
        let done = pool.install(|| -> CliResult<(Header, EncodeSummary, [u8; 32])> {
            check_destination(Some(path), &dest, force, &ava3_app::names::CLI)?;
            if let Some(dir) = dest.parent() {
                std::fs::create_dir_all(dir).map_err(|e| {
                    Failure::io_error(format!("cannot create {}: {e}", dir.display()), &e)
                })?;
            }
            let input = File::open(path).map_err(|e| {
                Failure::io_error(
                    format!("cannot open {}: {e}", ava3_app::display::shown(path)),
                    &e,
                )
            })?;
            let mut out = AtomicFile::create(&dest)?;
            let mut w = Sha256Writer {
                inner: out.writer(),
                sha: Sha256::new(),
            };
            let listed = manifest
                .as_ref()
                .and_then(|(m, _)| m.files.iter().find(|e| e.output == rel));
            let (header, summary) =
                rekey_stream(input, path, keys, new_key, signing, listed, &mut w, true)?;
            let sha: [u8; 32] = w.sha.finalize().into();
            out.commit(force)?;
            Ok((header, summary, sha))
        });
        bar.inc(*size);
        bar.set_message(files_label(n + 1, files.len()));
        match done {
            Ok((old, summary, sha)) => {
                if let Some((m, kept)) = manifest.as_mut() {
                    for e in m.files.iter_mut().filter(|e| e.output == rel) {
                        kept.push(e.output.clone());
                        e.plaintext_sha256 = hex32(&summary.plaintext_sha256);
                        e.model_version = old.metadata().version;
                        e.key_id = new_key.key_id().to_hex();
                        e.output_keyless_sha256 = hex32(&summary.keyless_sha256);
                        e.output_sha256 = Some(hex32(&sha));
                        e.format_version = summary.header.version();
                        e.signers = signing
                            .signers
                            .iter()
                            .map(|k| k.signer_id().to_hex())
                            .collect();
                    }
                }
                rekeyed_record(path, &dest, &old, new_key, &summary, Some(rel)).print(mode)?;
            }
            Err(f) => {
                error_line(&f.message);
                failures.push(f);
            }
        }
    }
    bar.finish_and_clear();
    if let Some((m, kept)) = manifest {
        // Outputs keep their paths relative to the manifest's folder. Only
        // the entries of files rekeyed (and so re-signed) now are carried.
        let files = m
            .files
            .into_iter()
            .filter(|e| kept.contains(&e.output))
            .collect();
        let path = out_root.join(MANIFEST_NAME);
        let mut file = AtomicFile::create(&path)?;
        serde_json::to_writer_pretty(file.writer(), &Manifest::new(files))
            .map_err(|e| Failure::new(Kind::Io, format!("cannot write {}: {e}", path.display())))?;
        file.commit(true)?;
        ava3_app::manifest::sign_manifest(&path, &signing.signers)?;
    }
    RekeySummary {
        rekeyed: files.len() - failures.len(),
        failed: failures.len(),
        key_id: new_key.key_id().to_hex(),
    }
    .print(mode);
    match failures
        .iter()
        .map(|f| f.code())
        .reduce(crate::error::worst)
    {
        None => Ok(()),
        Some(code) => Err(Failure::with_code(
            code,
            format!("{} of {} files failed", failures.len(), files.len()),
        )),
    }
}

/// The release manifest of the folder being rekeyed, if it has one, and an
/// empty list of the entries carried so far. Under `--sign` its signature
/// is checked (over the bytes then parsed, read once) before anything in it
/// is used: a manifest no trusted key signed is refused, unless
/// `--sign-unsigned-input` and it carries no signature file at all.
fn old_manifest(root: &Path, signing: &Signing) -> CliResult<Option<(Manifest, Vec<String>)>> {
    let path = root.join(MANIFEST_NAME);
    if !path.exists() {
        return Ok(None);
    }
    let bytes = std::fs::read(&path).map_err(|e| {
        Failure::io_error(
            format!(
                "cannot read manifest {}: {e}",
                ava3_app::display::shown(&path)
            ),
            &e,
        )
    })?;
    if !signing.signers.is_empty() {
        let sig_path = ava3_app::manifest::manifest_signature_path(&path);
        match std::fs::read(&sig_path) {
            Ok(sigs) => {
                verify_manifest(&bytes, &sigs, &signing.trusted).map_err(|e| refusal(&path, e))?;
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && signing.sign_unsigned => {}
            Err(_) => {
                return Err(refusal(&path, ava3_format::Error::Unsigned));
            }
        }
    }
    Ok(Some((Manifest::parse(&bytes, &path)?, Vec::new())))
}

/// A rekey, checked: the old key ring, the new key, how the new files are
/// signed, where they go.
#[derive(Debug)]
pub(crate) struct RekeyRequest {
    /// The AVA3 file, or a folder of them.
    pub(crate) input: PathBuf,
    /// The new file, `-` for standard output (then no record), or the
    /// output folder.
    pub(crate) output: PathBuf,
    pub(crate) force: bool,
    /// The checked `-j`.
    pub(crate) threads: usize,
    /// The current keys (at least one).
    pub(crate) keys: Vec<MasterKey>,
    pub(crate) new_key: MasterKey,
    pub(crate) signing: Signing,
    pub(crate) mode: OutputMode,
}

impl RekeyRequest {
    /// The request of the flags: `--json` with `-o -`, the current keys,
    /// the new key, the signing keys and trusted keys, `-j` (the order of
    /// their errors).
    pub(crate) fn from_args(a: &RekeyArgs) -> CliResult<Self> {
        refuse_json_with_stdout(a.json, &a.output)?;
        let keys = require_keys(&a.keys.key_files, "rekey (for the current key)")?;
        let new_key = read_key_file(&a.new_key_file)?;
        let signing = Signing::of(a)?;
        Ok(Self {
            input: a.input.clone(),
            output: a.output.clone(),
            force: a.force,
            threads: ava3_app::threads(a.jobs)?,
            keys,
            new_key,
            signing,
            mode: OutputMode::of(a.json, a.quiet),
        })
    }
}

/// `ava3 rekey`: a folder, or one file.
pub(crate) fn run(req: RekeyRequest) -> CliResult<()> {
    if req.input.is_dir() {
        return run_folder(&req);
    }
    let RekeyRequest {
        input,
        output,
        force,
        keys,
        new_key,
        signing,
        mode,
        ..
    } = &req;
    let stdout = if is_dash(output) {
        Some(binary_stdout()?)
    } else {
        check_destination(Some(input), output, *force, &ava3_app::names::CLI)?;
        None
    };
    let file = File::open(input).map_err(|e| {
        Failure::io_error(
            format!("cannot open {}: {e}", ava3_app::display::shown(input)),
            &e,
        )
    })?;
    let pool = ava3_app::thread_pool(Some(req.threads))?;
    pool.install(|| {
        let quiet = mode.no_progress();
        let (header, summary) = match stdout {
            Some(stdout) => {
                let mut w = BufWriter::with_capacity(1 << 20, stdout);
                rekey_stream(file, input, keys, new_key, signing, None, &mut w, quiet)?;
                w.flush()?;
                return Ok(());
            }
            None => {
                let mut out = AtomicFile::create(output)?;
                let done = rekey_stream(
                    file,
                    input,
                    keys,
                    new_key,
                    signing,
                    None,
                    out.writer(),
                    quiet,
                )?;
                out.commit(*force)?;
                done
            }
        };
        rekeyed_record(input, output, &header, new_key, &summary, None).print(*mode)
    })
}
