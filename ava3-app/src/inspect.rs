//! What a file's header says, read without a key (not authenticated), and
//! how its size compares with what it announces: `ava3 inspect` and
//! Python's `inspect`.

use ava3_format::Sealed;
use serde::Serialize;

/// What a header says, read without a key (not authenticated), and how
/// the file's size compares with what it announces.
#[derive(Debug, Serialize)]
pub struct Inspection {
    pub path: String,
    pub format_version: u16,
    pub payload_kind: &'static str,
    pub block_size: u32,
    pub plaintext_size: u64,
    pub blocks: u64,
    pub key_id: String,
    pub salt: String,
    /// The model name recorded (version 2; authenticated only by a keyed
    /// or signed verify).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model_name: Option<String>,
    /// The model version recorded (version 2).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model_version: Option<u64>,
    /// The signer ids the signature section lists (not verified here).
    pub signers: Vec<String>,
    pub file_size: u64,
    pub expected_file_size: u64,
    /// `complete`, `truncated` or `trailing data` (by size only).
    pub size_check: &'static str,
}

impl Inspection {
    /// The inspection of a file named `path` whose header is `sealed` and
    /// whose size is `size`.
    pub fn of(path: String, sealed: &Sealed, size: u64, signers: Vec<String>) -> Self {
        let header = sealed.header();
        let layout = header.layout();
        let expected = layout.file_len();
        Self {
            path,
            format_version: header.version(),
            payload_kind: header.payload_kind().as_str(),
            block_size: header.block_size(),
            plaintext_size: header.plaintext_len(),
            blocks: layout.block_count(),
            key_id: header.key_id().to_hex(),
            salt: hex::encode(header.salt()),
            model_name: header.metadata().name.clone(),
            model_version: header.metadata().version,
            signers,
            file_size: size,
            expected_file_size: expected,
            size_check: match size.cmp(&expected) {
                std::cmp::Ordering::Equal => "complete",
                std::cmp::Ordering::Less => "truncated",
                std::cmp::Ordering::Greater => "trailing data",
            },
        }
    }
}
