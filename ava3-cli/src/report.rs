//! What the commands print: one line per file on stdout, or one JSON object
//! per line with `--json`. The JSON fields are documented in the README and
//! never renamed.

use std::io::Write;

use serde::Serialize;

/// `s` with every control character (C0, DEL, C1) written as an escape
/// (`\n`, `\t`, `\r`, `\x1b`, `\u{9b}`), so that a crafted file name
/// cannot move the cursor, recolour or retitle the user's terminal. JSON
/// output is unchanged by it: serde already escapes control characters.
pub fn printable(s: &str) -> std::borrow::Cow<'_, str> {
    if !s.chars().any(char::is_control) {
        return s.into();
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x80 && c.is_control() => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c if c.is_control() => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    out.into()
}

/// Prints one line on stdout, control characters escaped ([`printable`]).
/// A closed pipe (`ava3 verify ... | head`) comes back as an error that
/// `main` ends the process on quietly, with status 0.
pub fn emit(line: &str) -> std::io::Result<()> {
    let line = printable(line);
    let mut out = std::io::stdout().lock();
    writeln!(out, "{line}").and_then(|_| out.flush())
}

/// Lowercase hex of a digest.
pub fn hex32(d: &[u8; 32]) -> String {
    hex::encode(d)
}

/// One file of an encode (single or batch).
#[derive(Debug, Serialize)]
pub struct EncodeRecord {
    /// `encoded`, `up-to-date`, `skipped` (not a model) or `failed`.
    pub status: &'static str,
    pub source: String,
    pub output: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plaintext_sha256: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output_keyless_sha256: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payload_kind: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub format_version: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl EncodeRecord {
    /// A record with no file details (skipped or failed files).
    pub fn bare(status: &'static str, source: &str, error: Option<String>) -> Self {
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
            error,
        }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| "{}".to_string())
    }
}

/// One file of a verify.
#[derive(Debug, Default, Serialize)]
pub struct VerifyRecord {
    pub path: String,
    /// `ok` or `failed`.
    pub status: &'static str,
    /// `keyless`, `signed`, `keyed` or `deep` (`keyed+signed`,
    /// `deep+signed` with --signer): what was checked.
    pub level: &'static str,
    /// The specification's outcome name (`success`, `block failure`, ...).
    pub outcome: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payload_kind: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plaintext_size: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub block_size: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub keyless_sha256: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plaintext_sha256: Option<String>,
    /// The model name the file records (authenticated at this level).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model_name: Option<String>,
    /// The model version the file records.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model_version: Option<u64>,
    /// The trusted signer whose signature verified (with --signer).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signer: Option<String>,
    /// With --manifest: `match`, `changed`, `extra` or `missing`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub manifest: Option<&'static str>,
}

impl VerifyRecord {
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| "{}".to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::printable;

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
}

/// The one record of `decode --json` and `rekey --json`.
#[derive(Debug, Serialize)]
pub struct DecodeRecord {
    /// `decoded` or `rekeyed`.
    pub status: &'static str,
    pub source: String,
    pub output: String,
    /// Plaintext bytes.
    pub size: u64,
    /// The key id of the output (rekey: the new key) or of the input.
    pub key_id: String,
    pub payload_kind: &'static str,
    /// rekey: the key id the input was encoded with.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous_key_id: Option<String>,
    /// rekey: the keyless SHA-256 of the new file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output_keyless_sha256: Option<String>,
}

impl DecodeRecord {
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}
