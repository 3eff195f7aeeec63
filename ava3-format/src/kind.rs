//! Payload kinds and content sniffing (spec 3.1, field `payload kind`, and
//! appendix B).

use std::fmt;
use std::path::Path;

use crate::header::MAGIC;

/// What a protected file holds. Recorded in the header, readable without a key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PayloadKind {
    /// Not recorded or not recognised.
    Unknown,
    /// An MLC-LLM / TVM piece (`.amm`): weight shard, JSON, library.
    Mlc,
    /// A GGUF model for llama.cpp (`.amg`).
    Gguf,
    /// A LiteRT / TFLite / MediaPipe model (`.amr`).
    LiteRt,
}

impl PayloadKind {
    /// The header code of this kind.
    pub fn code(self) -> u8 {
        match self {
            Self::Unknown => 0,
            Self::Mlc => 1,
            Self::Gguf => 2,
            Self::LiteRt => 3,
        }
    }

    /// The kind for a header code, if version 1 defines it.
    pub fn from_code(code: u8) -> Option<Self> {
        Some(match code {
            0 => Self::Unknown,
            1 => Self::Mlc,
            2 => Self::Gguf,
            3 => Self::LiteRt,
            _ => return None,
        })
    }

    /// Stable lowercase name (`unknown`, `mlc`, `gguf`, `litert`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unknown => "unknown",
            Self::Mlc => "mlc",
            Self::Gguf => "gguf",
            Self::LiteRt => "litert",
        }
    }

    /// Parses a name produced by [`PayloadKind::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "unknown" => Self::Unknown,
            "mlc" => Self::Mlc,
            "gguf" => Self::Gguf,
            "litert" => Self::LiteRt,
            _ => return None,
        })
    }

    /// The kind an AVA container extension stands for (`amm`, `amg`, `amr`).
    pub fn from_extension(path: &Path) -> Option<Self> {
        match path.extension()?.to_str()?.to_ascii_lowercase().as_str() {
            "amm" => Some(Self::Mlc),
            "amg" => Some(Self::Gguf),
            "amr" => Some(Self::LiteRt),
            _ => None,
        }
    }
}

impl fmt::Display for PayloadKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the first bytes of a file look like.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Content {
    /// `GGUF` magic.
    Gguf,
    /// A TFLite flatbuffer (`TFL3` at offset 4).
    TfLite,
    /// A LiteRT-LM bundle (`LITERTLM`).
    LiteRtLm,
    /// A zip archive (MediaPipe `.task` bundles are zip files).
    Zip,
    /// An ELF object or library.
    Elf,
    /// A tar archive.
    Tar,
    /// JSON text.
    Json,
    /// Already an AVA3 file.
    Ava3,
    /// Nothing to go by (an empty file).
    Empty,
    /// None of the above (raw weight shards look like this).
    Unrecognised,
}

impl Content {
    /// How many leading bytes [`Content::sniff`] looks at.
    pub const SNIFF_LEN: usize = 512;

    /// Classifies the first bytes of a file (up to [`Content::SNIFF_LEN`]).
    pub fn sniff(head: &[u8]) -> Self {
        if head.is_empty() {
            Self::Empty
        } else if head.starts_with(&MAGIC) {
            Self::Ava3
        } else if head.starts_with(b"GGUF") {
            Self::Gguf
        } else if head.len() >= 8 && &head[4..8] == b"TFL3" {
            Self::TfLite
        } else if head.starts_with(b"LITERTLM") {
            Self::LiteRtLm
        } else if head.starts_with(b"PK\x03\x04") || head.starts_with(b"PK\x05\x06") {
            Self::Zip
        } else if head.starts_with(b"\x7fELF") {
            Self::Elf
        } else if head.len() >= 262 && &head[257..262] == b"ustar" {
            Self::Tar
        } else if matches!(
            head.iter().find(|b| !b.is_ascii_whitespace()),
            Some(b'{') | Some(b'[')
        ) {
            Self::Json
        } else {
            Self::Unrecognised
        }
    }

    /// A short human description, for error messages.
    pub fn describe(self) -> &'static str {
        match self {
            Self::Gguf => "a GGUF model",
            Self::TfLite => "a TFLite/LiteRT flatbuffer",
            Self::LiteRtLm => "a LiteRT-LM bundle",
            Self::Zip => "a zip archive",
            Self::Elf => "an ELF library",
            Self::Tar => "a tar archive",
            Self::Json => "JSON text",
            Self::Ava3 => "an AVA3 file",
            Self::Empty => "an empty file",
            Self::Unrecognised => "unrecognised binary data",
        }
    }

    /// The payload kind this content suggests on its own.
    pub fn kind(self) -> PayloadKind {
        match self {
            Self::Gguf => PayloadKind::Gguf,
            Self::TfLite | Self::LiteRtLm => PayloadKind::LiteRt,
            Self::Elf | Self::Tar | Self::Json => PayloadKind::Mlc,
            Self::Zip | Self::Ava3 | Self::Empty | Self::Unrecognised => PayloadKind::Unknown,
        }
    }

    /// Whether this content is acceptable for a file of `kind`: a GGUF
    /// container must hold GGUF; a LiteRT container a flatbuffer, a LiteRT-LM
    /// bundle or a `.task` zip; an MLC container any MLC piece (raw shards have
    /// no magic). Nothing may already be AVA3.
    pub fn fits(self, kind: PayloadKind) -> bool {
        match (self, kind) {
            (Self::Ava3, _) => false,
            (_, PayloadKind::Unknown) => true,
            (Self::Gguf, PayloadKind::Gguf) => true,
            (Self::TfLite | Self::LiteRtLm | Self::Zip, PayloadKind::LiteRt) => true,
            (Self::Gguf | Self::TfLite | Self::LiteRtLm, PayloadKind::Mlc) => false,
            (_, PayloadKind::Mlc) => true,
            _ => false,
        }
    }
}

/// Decides the payload kind of a file from its name and first bytes.
/// The extension wins when present; otherwise the content decides.
pub fn detect_kind(path: Option<&Path>, head: &[u8]) -> PayloadKind {
    path.and_then(PayloadKind::from_extension)
        .unwrap_or_else(|| Content::sniff(head).kind())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_known_magics() {
        assert_eq!(Content::sniff(b"GGUF\x03\0\0\0"), Content::Gguf);
        assert_eq!(Content::sniff(b"\x1c\0\0\0TFL3\0\0"), Content::TfLite);
        assert_eq!(Content::sniff(b"LITERTLM\x01"), Content::LiteRtLm);
        assert_eq!(Content::sniff(b"PK\x03\x04rest"), Content::Zip);
        assert_eq!(Content::sniff(b"\x7fELF\x02\x01"), Content::Elf);
        assert_eq!(Content::sniff(b"  \n{\"a\":1}"), Content::Json);
        assert_eq!(Content::sniff(&MAGIC), Content::Ava3);
        assert_eq!(Content::sniff(b""), Content::Empty);
        assert_eq!(Content::sniff(&[0u8; 100]), Content::Unrecognised);
        let mut tar = vec![0u8; 512];
        tar[257..262].copy_from_slice(b"ustar");
        assert_eq!(Content::sniff(&tar), Content::Tar);
    }

    #[test]
    fn containers_accept_only_their_content() {
        assert!(Content::Gguf.fits(PayloadKind::Gguf));
        assert!(!Content::Zip.fits(PayloadKind::Gguf));
        assert!(Content::Zip.fits(PayloadKind::LiteRt));
        assert!(!Content::Gguf.fits(PayloadKind::LiteRt));
        assert!(Content::Unrecognised.fits(PayloadKind::Mlc));
        assert!(!Content::Ava3.fits(PayloadKind::Mlc));
        assert!(!Content::Ava3.fits(PayloadKind::Unknown));
    }

    #[test]
    fn codes_round_trip() {
        for k in [
            PayloadKind::Unknown,
            PayloadKind::Mlc,
            PayloadKind::Gguf,
            PayloadKind::LiteRt,
        ] {
            assert_eq!(PayloadKind::from_code(k.code()), Some(k));
            assert_eq!(PayloadKind::parse(k.as_str()), Some(k));
        }
        assert_eq!(PayloadKind::from_code(4), None);
        assert_eq!(
            detect_kind(Some(Path::new("x/model.AMG")), b""),
            PayloadKind::Gguf
        );
        assert_eq!(detect_kind(None, b"GGUF"), PayloadKind::Gguf);
    }
}
