//! What the commands print. Each command's results are typed records
//! (serde: the JSON fields the README documents, never renamed), and one
//! printer, [`Print::print`], writes a record as the [`OutputMode`] says:
//! its human line(s) on standard output, or one JSON object on one line
//! (`--json`). A run over several files ends with a [`Summary`] line on
//! standard error.

pub(crate) use ava3_app::display::printable;
use std::io::Write;

use ava3_app::inspect::Inspection;
use ava3_format::{Level, Outcome, PayloadKind};
use serde::{Serialize, Serializer};

use crate::error::{CliResult, Failure, Kind};

/// Prints one line on stdout, control characters escaped
/// (`ava3_app::display::printable`).
/// A closed pipe (`ava3 verify ... | head`) comes back as an error that
/// `main` ends the process on quietly, with status 0.
pub(crate) fn emit(line: &str) -> std::io::Result<()> {
    let line = printable(line);
    let mut out = std::io::stdout().lock();
    writeln!(out, "{line}").and_then(|_| out.flush())
}

/// One JSON document on one line, made by serde_json and safe to print on
/// a terminal: serde_json escapes the C0 controls, and DEL and the C1
/// controls (legal in JSON, but a terminal acts on them) are written as
/// `\u007f` and `\u0080`..`\u009f` too. They can only stand inside a
/// string there, so the document means the same. A path that is not UTF-8
/// appears with U+FFFD for each byte sequence that is not.
///
/// The records printed here are plain structs of strings, numbers and
/// enums of names, which serde_json always serialises; should one ever
/// fail, the command fails with it (exit 2) rather than print `{}` or
/// nothing.
pub(crate) fn json<T: Serialize + ?Sized>(value: &T) -> CliResult<String> {
    let text = serde_json::to_string(value).map_err(|e| {
        Failure::new(
            Kind::Io,
            format!("cannot write the JSON record on standard output: {e}"),
        )
    })?;
    if !text.chars().any(char::is_control) {
        return Ok(text);
    }
    let mut out = String::with_capacity(text.len() + 12);
    for c in text.chars() {
        if c.is_control() {
            out.push_str(&format!("\\u{:04x}", c as u32));
        } else {
            out.push(c);
        }
    }
    Ok(out)
}

/// Lowercase hex of a digest.
pub(crate) fn hex32(d: &[u8; 32]) -> String {
    hex::encode(d)
}

/// How a command prints its results: `--json`, `-q`, or neither.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OutputMode {
    /// A human line per result on standard output, and the summary of a
    /// run over several files on standard error.
    Human,
    /// `-q`: no progress bar, and only what each record and summary says
    /// it prints under `-q` (failures, some summaries).
    Quiet,
    /// `--json` (`-q` or not): one JSON object per result on standard
    /// output, no progress bar, no summary.
    Json,
}

impl OutputMode {
    /// The mode of the `--json` and `-q` flags (`--json` wins).
    pub(crate) fn of(json: bool, quiet: bool) -> Self {
        if json {
            Self::Json
        } else if quiet {
            Self::Quiet
        } else {
            Self::Human
        }
    }

    /// True when no progress bar is drawn (`-q`, `--json`): standard
    /// error then holds only warnings, errors and summaries.
    pub(crate) fn no_progress(self) -> bool {
        self != Self::Human
    }
}

/// A result a command prints: a record whose JSON object is its serde
/// serialisation and whose human form is [`Print::human`].
pub(crate) trait Print: Serialize {
    /// The human lines of the result on standard output (`quiet`: under
    /// `-q`); none prints nothing.
    fn human(&self, quiet: bool) -> Vec<String>;

    /// A failure the run goes on after, printed on standard error as
    /// `ava3: error: ...` in every mode (after the record).
    fn error(&self) -> Option<String> {
        None
    }

    /// The one printer of a record: its JSON object or its human lines,
    /// as `mode` says, then its [`Print::error`].
    fn print(&self, mode: OutputMode) -> CliResult<()> {
        match mode {
            OutputMode::Json => emit(&json(self)?)?,
            OutputMode::Human | OutputMode::Quiet => {
                for line in self.human(mode == OutputMode::Quiet) {
                    emit(&line)?;
                }
            }
        }
        if let Some(e) = self.error() {
            error_line(&e);
        }
        Ok(())
    }
}

/// The summary of a run over several files: one line on standard error.
pub(crate) trait Summary {
    /// The line (without `ava3: `) in `mode`, or none.
    fn line(&self, mode: OutputMode) -> Option<String>;

    /// Prints [`Summary::line`], control characters escaped.
    fn print(&self, mode: OutputMode) {
        if let Some(line) = self.line(mode) {
            eprintln!("ava3: {}", printable(&line));
        }
    }
}

/// `ava3: error: MESSAGE` on standard error, for a failure the run goes on
/// after (the run's own failure is printed by `run_from`).
pub(crate) fn error_line(message: &str) {
    eprintln!("ava3: error: {}", printable(message));
}

/// Serialises a verification level by its stable name (`keyed+signed`).
fn level_name<S: Serializer>(level: &Level, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(level.as_str())
}

/// Serialises a payload kind by its name (`gguf`).
fn kind_name<S: Serializer>(kind: &PayloadKind, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(kind.as_str())
}

/// What an encode did with one file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum EncodeStatus {
    Encoded,
    UpToDate,
    /// Not a model (the walk of a batch left it out).
    Skipped,
    Failed,
}

impl EncodeStatus {
    /// The name (as serialised).
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Encoded => "encoded",
            Self::UpToDate => "up-to-date",
            Self::Skipped => "skipped",
            Self::Failed => "failed",
        }
    }

    /// The status of a tree file (`ava3_app::batch::TreeFile::status`).
    pub(crate) fn of_tree(status: &str) -> CliResult<Self> {
        match status {
            "encoded" => Ok(Self::Encoded),
            "up-to-date" => Ok(Self::UpToDate),
            other => Err(Failure::new(
                Kind::Usage,
                format!("internal error (please report it): a batch file is {other:?}"),
            )),
        }
    }
}

/// One file of an encode (single or batch).
#[derive(Debug, Serialize)]
pub(crate) struct EncodeRecord {
    pub(crate) status: EncodeStatus,
    pub(crate) source: String,
    pub(crate) output: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) size: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) plaintext_sha256: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) output_keyless_sha256: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) key_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) payload_kind: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) format_version: Option<u16>,
    /// For `skipped`, the reason; for `failed`, the error.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) error: Option<String>,
    /// The model name recorded (`--name`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) model_name: Option<String>,
    /// The model version recorded (`--model-version`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) model_version: Option<u64>,
    /// The signer id of each `--sign` key, in order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) signers: Vec<String>,
    /// The human line of a one-file encode (with the digests), not the
    /// shorter one of a batch.
    #[serde(skip)]
    pub(crate) one_file: bool,
}

impl EncodeRecord {
    /// A record of a batch with no file details (skipped or failed files).
    pub(crate) fn bare(status: EncodeStatus, source: &str, error: String) -> Self {
        Self {
            status,
            source: source.to_string(),
            output: String::new(),
            size: None,
            plaintext_sha256: None,
            output_keyless_sha256: None,
            key_id: None,
            payload_kind: None,
            format_version: None,
            error: Some(error),
            model_name: None,
            model_version: None,
            signers: Vec::new(),
            one_file: false,
        }
    }
}

impl Print for EncodeRecord {
    /// Nothing under `-q`; a failed file only on standard error.
    fn human(&self, quiet: bool) -> Vec<String> {
        let unknown = || "?".to_string();
        let line = match self.status {
            _ if quiet => return Vec::new(),
            EncodeStatus::Failed => return Vec::new(),
            EncodeStatus::Skipped => format!(
                "skipped ({}) {}",
                self.error.as_deref().unwrap_or(""),
                self.source
            ),
            EncodeStatus::Encoded if self.one_file => {
                let mut line = format!(
                    "encoded {} -> {} ({} bytes, {}, key id {}, plaintext sha256 {}",
                    self.source,
                    self.output,
                    self.size.unwrap_or(0),
                    self.payload_kind.clone().unwrap_or_else(unknown),
                    self.key_id.clone().unwrap_or_else(unknown),
                    self.plaintext_sha256.clone().unwrap_or_else(unknown),
                );
                if !self.signers.is_empty() {
                    line.push_str(&format!(", signed by {}", self.signers.join(", ")));
                }
                if let Some(n) = &self.model_name {
                    line.push_str(&format!(", model {}", printable(n)));
                }
                if let Some(v) = self.model_version {
                    line.push_str(&format!(", version {v}"));
                }
                line.push(')');
                line
            }
            status => format!("{} {} -> {}", status.as_str(), self.source, self.output),
        };
        vec![line]
    }

    fn error(&self) -> Option<String> {
        (self.status == EncodeStatus::Failed)
            .then(|| format!("{}: {}", self.source, self.error.as_deref().unwrap_or("")))
    }
}

/// The end of `encode --batch`: what it did, and where the manifest is.
#[derive(Debug)]
pub(crate) struct BatchSummary {
    pub(crate) encoded: usize,
    pub(crate) up_to_date: usize,
    pub(crate) skipped: usize,
    pub(crate) failed: usize,
    pub(crate) manifest: String,
}

impl Summary for BatchSummary {
    /// Not under `-q` or `--json`.
    fn line(&self, mode: OutputMode) -> Option<String> {
        (mode == OutputMode::Human).then(|| {
            format!(
                "{} encoded, {} up to date, {} skipped, {} failed; manifest {}",
                self.encoded, self.up_to_date, self.skipped, self.failed, self.manifest
            )
        })
    }
}

/// Whether a file passed `verify`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum VerifyStatus {
    Ok,
    Failed,
}

/// The outcome of one file of `verify`: the specification's outcome, or a
/// kind mismatch (the content is not what its header records).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum VerifyOutcome {
    Spec(Outcome),
    KindMismatch,
}

impl VerifyOutcome {
    /// The name: the spec's (`success`, `block failure`, `other`...) or
    /// `kind mismatch`.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Spec(o) => o.as_str(),
            Self::KindMismatch => "kind mismatch",
        }
    }
}

impl Serialize for VerifyOutcome {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// How a file compares with the manifest `verify -c` checks against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum ManifestCheck {
    /// Listed, and the same file.
    Match,
    /// Listed, and not the same file.
    Changed,
    /// Not listed.
    Extra,
    /// Listed, and not there.
    Missing,
}

/// One file of a verify.
#[derive(Debug, Serialize)]
pub(crate) struct VerifyRecord {
    pub(crate) path: String,
    pub(crate) status: VerifyStatus,
    /// What was checked: `keyless`, `signed`, `keyed` or `deep`
    /// (`keyed+signed`, `deep+signed` with --signer).
    #[serde(serialize_with = "level_name")]
    pub(crate) level: Level,
    pub(crate) outcome: VerifyOutcome,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) payload_kind: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) plaintext_size: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) block_size: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) key_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) keyless_sha256: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) plaintext_sha256: Option<String>,
    /// The model name the file records (authenticated at this level).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) model_name: Option<String>,
    /// The model version the file records.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) model_version: Option<u64>,
    /// The trusted signer whose signature verified (with --signer).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) signer: Option<String>,
    /// With --manifest: how the file compares with its entry.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) manifest: Option<ManifestCheck>,
    /// The file could not be read (missing, unreadable): nothing was
    /// checked, so no level is claimed in the human line.
    #[serde(skip)]
    pub(crate) unread: bool,
}

impl VerifyRecord {
    /// A failed file, with no file details.
    pub(crate) fn failed(
        path: String,
        level: Level,
        outcome: VerifyOutcome,
        error: String,
    ) -> Self {
        Self {
            path,
            status: VerifyStatus::Failed,
            level,
            outcome,
            error: Some(error),
            payload_kind: None,
            plaintext_size: None,
            block_size: None,
            key_id: None,
            keyless_sha256: None,
            plaintext_sha256: None,
            model_name: None,
            model_version: None,
            signer: None,
            manifest: None,
            unread: false,
        }
    }
}

impl Print for VerifyRecord {
    /// A failure always; a file that passed not under `-q`.
    fn human(&self, quiet: bool) -> Vec<String> {
        match self.status {
            VerifyStatus::Failed if self.unread => vec![format!(
                "ERROR (not checked) {}",
                self.error.as_deref().unwrap_or("")
            )],
            VerifyStatus::Failed => vec![format!(
                "FAILED ({}) {}",
                self.level.as_str(),
                self.error.as_deref().unwrap_or("")
            )],
            VerifyStatus::Ok if quiet => Vec::new(),
            VerifyStatus::Ok => vec![self.passed_line()],
        }
    }
}

impl VerifyRecord {
    /// The line of a file that passed, saying in words what was and was
    /// not checked.
    fn passed_line(&self) -> String {
        let level = match self.level {
            Level::Keyless => "keyless: corruption only, authenticity NOT checked",
            Level::Signed => "signed: publisher signature, no key",
            other => other.as_str(),
        };
        let mut line = format!(
            "OK ({level}) {}: {} bytes of {}, key id {}, keyless sha256 {}",
            self.path,
            self.plaintext_size.unwrap_or(0),
            self.payload_kind.as_deref().unwrap_or("?"),
            self.key_id.as_deref().unwrap_or("?"),
            self.keyless_sha256.as_deref().unwrap_or("?"),
        );
        if let Some(s) = &self.signer {
            line.push_str(&format!(", signer {s}"));
        }
        if let Some(n) = &self.model_name {
            line.push_str(&format!(", model {}", printable(n)));
        }
        if let Some(v) = self.model_version {
            line.push_str(&format!(", version {v}"));
        }
        if let Some(p) = &self.plaintext_sha256 {
            // Keyed: the value the encoder recorded (authenticated, not
            // recomputed); deep: recomputed from the decoded model.
            if matches!(self.level, Level::Deep | Level::DeepSigned) {
                line.push_str(&format!(", plaintext sha256 {p} (recomputed)"));
            } else {
                line.push_str(&format!(
                    ", recorded plaintext sha256 {p} (not recomputed: --deep checks it)"
                ));
            }
        }
        line
    }
}

/// The end of `verify`: the counts and the level checked.
#[derive(Debug)]
pub(crate) struct VerifySummary {
    pub(crate) ok: usize,
    /// Files checked that failed.
    pub(crate) failed: usize,
    /// Files that could not be read (not checked).
    pub(crate) unread: usize,
    /// Files the manifest lists that are missing, under
    /// `--ignore-missing` (otherwise they are failures).
    pub(crate) ignored_missing: usize,
    pub(crate) level: Level,
}

impl Summary for VerifySummary {
    /// Also under `-q`; not with `--json`.
    fn line(&self, mode: OutputMode) -> Option<String> {
        if mode == OutputMode::Json {
            return None;
        }
        let ignored = if self.ignored_missing > 0 {
            format!(", {} listed but missing (ignored)", self.ignored_missing)
        } else {
            String::new()
        };
        let unread = if self.unread > 0 {
            format!(", {} could not be read", self.unread)
        } else {
            String::new()
        };
        Some(format!(
            "{} ok, {} failed{unread}{ignored} ({} check)",
            self.ok,
            self.failed,
            self.level.as_str()
        ))
    }
}

/// What `decode` or `rekey` did with a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum DecodeStatus {
    Decoded,
    Rekeyed,
}

/// The one record of `decode --json` and `rekey --json` (per file for a
/// folder).
#[derive(Debug, Serialize)]
pub(crate) struct DecodeRecord {
    pub(crate) status: DecodeStatus,
    pub(crate) source: String,
    pub(crate) output: String,
    /// Plaintext bytes.
    pub(crate) size: u64,
    /// The key id of the output (rekey: the new key) or of the input.
    pub(crate) key_id: String,
    #[serde(serialize_with = "kind_name")]
    pub(crate) payload_kind: PayloadKind,
    /// rekey: the key id the input was encoded with.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) previous_key_id: Option<String>,
    /// rekey: the keyless SHA-256 of the new file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) output_keyless_sha256: Option<String>,
    /// rekey of a folder: the file's path below it, which its human line
    /// names it by.
    #[serde(skip)]
    pub(crate) relative: Option<String>,
}

impl Print for DecodeRecord {
    /// Nothing under `-q`.
    fn human(&self, quiet: bool) -> Vec<String> {
        if quiet {
            return Vec::new();
        }
        let line = match (self.status, &self.relative) {
            (DecodeStatus::Decoded, _) => format!(
                "decoded {} -> {} ({} bytes)",
                self.source, self.output, self.size
            ),
            (DecodeStatus::Rekeyed, Some(rel)) => format!("rekeyed {rel} -> {}", self.output),
            (DecodeStatus::Rekeyed, None) => format!(
                "rekeyed {} (key id {}) -> {} (key id {})",
                self.source,
                self.previous_key_id.as_deref().unwrap_or("?"),
                self.output,
                self.key_id
            ),
        };
        vec![line]
    }
}

/// The end of `rekey` of a folder.
#[derive(Debug)]
pub(crate) struct RekeySummary {
    pub(crate) rekeyed: usize,
    pub(crate) failed: usize,
    /// The new key's id.
    pub(crate) key_id: String,
}

impl Summary for RekeySummary {
    /// Also under `-q`; not with `--json`.
    fn line(&self, mode: OutputMode) -> Option<String> {
        (mode != OutputMode::Json).then(|| {
            format!(
                "{} rekeyed to key id {}, {} failed",
                self.rekeyed, self.key_id, self.failed
            )
        })
    }
}

/// The header `inspect` shows (the application layer's record; its JSON
/// fields are its serde fields).
impl Print for Inspection {
    fn human(&self, _quiet: bool) -> Vec<String> {
        let mut lines = vec![
            format!("file:            {}", self.path),
            format!("format version:  {}", self.format_version),
            format!("payload kind:    {}", self.payload_kind),
            format!("block size:      {} bytes", self.block_size),
            format!("plaintext size:  {} bytes", self.plaintext_size),
            format!("blocks:          {}", self.blocks),
            format!("key id:          {}", self.key_id),
            format!("salt:            {}", self.salt),
        ];
        if let Some(n) = &self.model_name {
            lines.push(format!("model name:      {}", printable(n)));
        }
        if let Some(v) = self.model_version {
            lines.push(format!("model version:   {v}"));
        }
        lines.push(format!(
            "signatures:      {}",
            if self.signers.is_empty() {
                "none (unsigned)".to_string()
            } else {
                format!(
                    "{} by signer id {} (not verified: verify --signer checks them)",
                    self.signers.len(),
                    self.signers.join(", ")
                )
            }
        ));
        lines.push(format!(
            "file size:       {} bytes ({}; {} expected)",
            self.file_size, self.size_check, self.expected_file_size
        ));
        lines
    }
}

/// What `keygen` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum KeygenStatus {
    Created,
}

/// The key `keygen` created. The fields are in the alphabetical order that
/// `keygen --json` has always printed them in.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub(crate) enum KeygenRecord {
    /// A master key file.
    Master {
        key_id: String,
        output: String,
        status: KeygenStatus,
    },
    /// A publisher signing key file and its public key beside it.
    Signing {
        output: String,
        public_key: String,
        signer_id: String,
        status: KeygenStatus,
    },
}

impl Print for KeygenRecord {
    fn human(&self, _quiet: bool) -> Vec<String> {
        vec![match self {
            Self::Master { key_id, output, .. } => format!("key id {key_id} written to {output}"),
            Self::Signing {
                output,
                public_key,
                signer_id,
                ..
            } => format!(
                "signer id {signer_id} written to {output} (secret, keep it off devices) and \
                 {public_key} (public, for verifiers)"
            ),
        }]
    }
}

/// What `ava3 checksums` did or found.
#[derive(Debug, Serialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub(crate) enum ChecksumsRecord {
    /// SHA256SUMS written (and signed).
    Written {
        list: String,
        files: usize,
        signed: bool,
    },
    /// SHA256SUMS checked.
    Checked {
        list: String,
        /// The trusted signer whose signature verified; none when no
        /// --signer was given.
        signer: Option<String>,
        files: Vec<ChecksumFile>,
        ok: bool,
    },
}

/// One listed file's check.
#[derive(Debug, Serialize)]
pub(crate) struct ChecksumFile {
    pub(crate) path: String,
    /// `ok`, `mismatch`, `missing` or `refused`.
    pub(crate) status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) detail: Option<String>,
}

impl Print for ChecksumsRecord {
    fn human(&self, quiet: bool) -> Vec<String> {
        match self {
            Self::Written { .. } if quiet => Vec::new(),
            Self::Written {
                list,
                files,
                signed,
            } => vec![format!(
                "{list}: {files} files listed{}",
                if *signed { ", signed" } else { "" }
            )],
            Self::Checked {
                list,
                signer,
                files,
                ok,
            } => {
                let mut lines: Vec<String> = files
                    .iter()
                    .filter(|f| !quiet || f.status != "ok")
                    .map(|f| match &f.detail {
                        Some(d) => format!("{}: {} ({d})", f.path, f.status.to_uppercase()),
                        None => format!("{}: {}", f.path, f.status.to_uppercase()),
                    })
                    .collect();
                if !quiet {
                    let bad = files.iter().filter(|f| f.status != "ok").count();
                    lines.push(format!(
                        "{list}: {}, {} of {} files {}",
                        match signer {
                            Some(s) => format!("signed by {s}"),
                            None => "signature not checked (no --signer)".to_string(),
                        },
                        if *ok { files.len() } else { bad },
                        files.len(),
                        if *ok { "match" } else { "failed" }
                    ));
                }
                lines
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use ava3_format::Outcome;

    use super::{
        json, printable, DecodeStatus, EncodeStatus, KeygenRecord, KeygenStatus, ManifestCheck,
        VerifyOutcome, VerifyStatus,
    };
    use crate::error::Kind;

    /// Every control character, DEL and the C1 range
    /// included, gives JSON that parses back to the same string and holds
    /// no raw control character.
    #[test]
    fn json_escapes_every_control_character_and_stays_json() {
        let all: String = (0u32..0x100)
            .filter_map(char::from_u32)
            .chain(['\u{2028}', '\u{fffd}'])
            .collect();
        let text = json(&serde_json::json!({ "name": all })).unwrap();
        assert!(!text.chars().any(char::is_control), "{text}");
        assert_eq!(printable(&text), text, "emit leaves it as it is");
        let back: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(back["name"].as_str().unwrap(), all);
    }

    #[test]
    fn control_characters_are_escaped_and_the_rest_kept() {
        assert_eq!(printable("plain/ünïcode.amg"), "plain/ünïcode.amg");
        assert_eq!(
            printable("a\x1b[31mred\nb\tc\rd\u{7f}e\u{9b}f"),
            "a\\x1b[31mred\\nb\\tc\\rd\\x7fe\\u{9b}f"
        );
        assert!(!printable("\x07\x1b]0;title\x07")
            .chars()
            .any(char::is_control));
    }

    /// The JSON of `v`, which must serialise.
    fn text<T: serde::Serialize>(v: T) -> String {
        json(&v).unwrap()
    }

    /// Each status serialises to the name the README documents (and, for
    /// an encode, the one its human line shows).
    #[test]
    fn statuses_serialise_to_their_names() {
        for s in [
            EncodeStatus::Encoded,
            EncodeStatus::UpToDate,
            EncodeStatus::Skipped,
            EncodeStatus::Failed,
        ] {
            assert_eq!(text(s), format!("\"{}\"", s.as_str()));
        }
        let names = [
            (text(EncodeStatus::UpToDate), "up-to-date"),
            (text(VerifyStatus::Ok), "ok"),
            (text(VerifyStatus::Failed), "failed"),
            (text(DecodeStatus::Decoded), "decoded"),
            (text(DecodeStatus::Rekeyed), "rekeyed"),
            (text(KeygenStatus::Created), "created"),
            (text(ManifestCheck::Match), "match"),
            (text(ManifestCheck::Changed), "changed"),
            (text(ManifestCheck::Extra), "extra"),
            (text(ManifestCheck::Missing), "missing"),
            (text(VerifyOutcome::KindMismatch), "kind mismatch"),
            (text(VerifyOutcome::Spec(Outcome::Success)), "success"),
            (text(VerifyOutcome::Spec(Outcome::Other)), "other"),
        ];
        for (got, name) in names {
            assert_eq!(got, format!("\"{name}\""));
        }
    }

    /// `keygen --json` keeps the field order it has always had (the
    /// alphabetical one of the `serde_json::json!` map it was made from).
    #[test]
    fn keygen_records_keep_their_field_order() {
        let master = KeygenRecord::Master {
            key_id: "k".into(),
            output: "o".into(),
            status: KeygenStatus::Created,
        };
        assert_eq!(
            text(&master),
            r#"{"key_id":"k","output":"o","status":"created"}"#
        );
        let signing = KeygenRecord::Signing {
            output: "o".into(),
            public_key: "o.pub".into(),
            signer_id: "s".into(),
            status: KeygenStatus::Created,
        };
        assert_eq!(
            text(&signing),
            r#"{"output":"o","public_key":"o.pub","signer_id":"s","status":"created"}"#
        );
    }

    /// A record that does not serialise is a failure (exit 2), never `{}`
    /// or nothing on standard output.
    #[test]
    fn a_serialisation_error_is_a_failure() {
        let not_json = BTreeMap::from([((1u8, 2u8), 0u8)]); // keys must be strings
        let f = json(&not_json).unwrap_err();
        assert_eq!(f.kind, Kind::Io);
        assert_eq!(f.code(), 2);
        assert!(f.message.contains("JSON"), "{}", f.message);
    }
}
