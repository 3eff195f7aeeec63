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

/// One JSON document on one line, made by serde_json and safe to print on
/// a terminal: serde_json escapes the C0 controls, and DEL and the C1
/// controls (legal in JSON, but a terminal acts on them) are written as
/// `\u007f` and `\u0080`..`\u009f` too. They can only stand inside a
/// string there, so the document means the same. A path that is not UTF-8
/// appears with U+FFFD for each byte sequence that is not.
pub fn json<T: Serialize + ?Sized>(value: &T) -> String {
    let text = serde_json::to_string(value).unwrap_or_else(|_| "{}".to_string());
    if !text.chars().any(char::is_control) {
        return text;
    }
    let mut out = String::with_capacity(text.len() + 12);
    for c in text.chars() {
        if c.is_control() {
            out.push_str(&format!("\\u{:04x}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
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
        json(self)
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
        json(self)
    }
}

#[cfg(test)]
mod tests {
    use super::{json, printable};

    /// Every control character, DEL and the C1 range
    /// included, gives JSON that parses back to the same string and holds
    /// no raw control character.
    #[test]
    fn json_escapes_every_control_character_and_stays_json() {
        let all: String = (0u32..0x100)
            .filter_map(char::from_u32)
            .chain(['\u{2028}', '\u{fffd}'])
            .collect();
        let text = json(&serde_json::json!({ "name": all }));
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
        json(self)
    }
}
