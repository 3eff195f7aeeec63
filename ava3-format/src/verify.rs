//! Verification without decoding (spec 5.5, 7.4 and 7.6): keyless (structure and
//! keyless SHA-256, no key), keyed (every tag and the trailer MAC, no
//! decryption but the first block) and deep (a full decode that recomputes
//! the plaintext SHA-256).

use std::fmt;
use std::io::Read;

use rayon::prelude::*;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use crate::cipher::{sha256, KeylessHasher};
use crate::decode::{DecodeOptions, Decoder};
use crate::error::{Error, Result};
use crate::header::{Header, Layout, TAG_LEN};
use crate::keys::MasterKey;
use crate::kind::Content;
use crate::sealed::{Sealed, Unlocked};
use crate::signature::{Policy, SignerId};
use crate::stream::{Batch, FileEnd, StoredReader};

/// The level a verification reached, one name per level for every front
/// end (the CLI's lines and JSON, Python's `VerifyReport.level`):
///
/// | level          | name           | what it proves                                              |
/// |----------------|----------------|-------------------------------------------------------------|
/// | `Keyless`      | `keyless`      | structure and keyless SHA-256: no transfer corruption       |
/// | `Signed`       | `signed`       | keyless, and a trusted publisher's signature (public keys)  |
/// | `Keyed`        | `keyed`        | every MAC and tag under the key                             |
/// | `KeyedSigned`  | `keyed+signed` | keyed, and a trusted publisher's signature                  |
/// | `Deep`         | `deep`         | keyed, and the plaintext SHA-256 recomputed by a decode     |
/// | `DeepSigned`   | `deep+signed`  | deep, and a trusted publisher's signature                   |
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Level {
    /// Structure and keyless SHA-256: no transfer corruption.
    Keyless,
    /// Keyless, and a valid signature by a trusted publisher key over the
    /// header, trailer and tags; no master key needed.
    Signed,
    /// Every MAC and tag checked with the key: decoding yields exactly the
    /// bytes whose SHA-256 is recorded.
    Keyed,
    /// Keyed, and a valid signature by a trusted publisher key.
    KeyedSigned,
    /// Keyed, and the plaintext SHA-256 recomputed from a full decode.
    Deep,
    /// Deep, and a valid signature by a trusted publisher key.
    DeepSigned,
}

impl Level {
    /// The level of a check with or without a key, `deep` or not, and a
    /// required signature or not.
    pub(crate) fn of(keyed: bool, deep: bool, signed: bool) -> Self {
        match (keyed, deep, signed) {
            (false, _, false) => Self::Keyless,
            (false, _, true) => Self::Signed,
            (true, false, false) => Self::Keyed,
            (true, false, true) => Self::KeyedSigned,
            (true, true, false) => Self::Deep,
            (true, true, true) => Self::DeepSigned,
        }
    }

    /// The stable name (see the table above).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Keyless => "keyless",
            Self::Signed => "signed",
            Self::Keyed => "keyed",
            Self::KeyedSigned => "keyed+signed",
            Self::Deep => "deep",
            Self::DeepSigned => "deep+signed",
        }
    }

    /// Whether the master key checked every MAC and tag.
    pub fn is_keyed(self) -> bool {
        !matches!(self, Self::Keyless | Self::Signed)
    }

    /// Whether the plaintext SHA-256 was recomputed.
    pub fn is_deep(self) -> bool {
        matches!(self, Self::Deep | Self::DeepSigned)
    }

    /// Whether a trusted publisher's signature verified.
    pub fn is_signed(self) -> bool {
        matches!(self, Self::Signed | Self::KeyedSigned | Self::DeepSigned)
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a verification is asked to check (spec 7.4-7.6): the master keys
/// it may use (none: keyless, or signed with trusted signers), what it
/// requires of the file (trusted signers, a model name, a minimum
/// version), and whether to decode everything.
#[derive(Clone, Copy, Debug)]
pub struct Check<'a> {
    /// The key ring; the key is picked by the header's key id.
    pub keys: &'a [&'a MasterKey],
    /// What the file must satisfy.
    pub policy: &'a Policy,
    /// Decode everything and recompute the plaintext SHA-256 (needs a key).
    pub deep: bool,
}

/// Why a [`Check`] cannot be made, whatever the file: decided before any
/// file is read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Unverifiable {
    /// A deep verification decodes the model, which needs a key.
    #[error("a deep verification decodes the model, which needs a key")]
    DeepNeedsKey,
    /// A required model name or minimum version with neither a key nor a
    /// trusted signer: nothing would authenticate what the header says.
    #[error(
        "a required model name or minimum version needs something that authenticates it: \
         a key or a trusted signer"
    )]
    RequirementUnauthenticated,
}

impl Check<'static> {
    /// Keyless verification: no key, no requirement.
    pub const KEYLESS: Check<'static> = Check {
        keys: &[],
        policy: &Policy::NONE,
        deep: false,
    };
}

impl Check<'_> {
    /// The level a file that passes this check reaches, or why the check
    /// cannot be made at all.
    pub fn level(&self) -> std::result::Result<Level, Unverifiable> {
        let keyed = !self.keys.is_empty();
        let signed = self.policy.requires_signature();
        if self.deep && !keyed {
            return Err(Unverifiable::DeepNeedsKey);
        }
        if !keyed && !signed && !self.policy.is_empty() {
            return Err(Unverifiable::RequirementUnauthenticated);
        }
        Ok(Level::of(keyed, self.deep, signed))
    }
}

/// What a successful verification established.
#[derive(Clone, Debug)]
pub struct Report {
    /// Level reached.
    pub level: Level,
    /// The header.
    pub header: Header,
    /// The keyless SHA-256 recorded in (and matching) the file.
    pub keyless_sha256: [u8; 32],
    /// The plaintext SHA-256 recorded by the encoder (keyed and deep only).
    pub plaintext_sha256: Option<[u8; 32]>,
    /// What the first plaintext bytes look like (keyed and deep only).
    pub content: Option<Content>,
    /// The trusted signer whose signature verified (when the policy
    /// required one).
    pub signer: Option<SignerId>,
}

impl Report {
    /// The layout of the verified file.
    pub fn layout(&self) -> Layout {
        self.header.layout()
    }
}

impl Sealed {
    /// Verifies this file, the blocks read from `rest` (the input just
    /// after the header), as `check` asks: with no key, keyless (spec 7.4,
    /// last paragraph) or, with trusted signers, signed (spec 7.5); with a
    /// key, keyed or deep (spec 7.4). The requirements come right after the
    /// header, before any block (spec 7.6). The report names the level
    /// reached, the one [`Check::level`] announced.
    pub fn verify<R: Read + Send>(
        self,
        rest: R,
        check: &Check<'_>,
        options: &DecodeOptions,
    ) -> Result<Report> {
        check.level().map_err(Error::Unverifiable)?;
        if check.keys.is_empty() {
            self.verify_signed(rest, check.policy, options)
        } else {
            self.unlock(check.keys, check.policy)?
                .verify(rest, check.deep, options)
        }
    }

    /// Keyless verification that also proves authenticity with public keys
    /// only (spec 7.5): with trusted signers in `policy`, the file must
    /// carry a valid signature by one of them over its header, trailer and
    /// tags; the keyless digest ties every stored byte to the trailer.
    ///
    /// The checks run in the one order of spec 7.6, as in keyed
    /// verification: the model name, the minimum version and whether the
    /// file is signed come right after the header, before any block. Here
    /// the header is not yet authenticated, so they can only refuse the
    /// file; it is accepted only once the signature over that very header
    /// verified. A name or minimum version without a trusted signer is a
    /// caller error (`Error::InvalidParameter`, outcome `other`), refused
    /// before anything else: nothing would authenticate them.
    fn verify_signed<R: Read + Send>(
        self,
        rest: R,
        policy: &Policy,
        options: &DecodeOptions,
    ) -> Result<Report> {
        policy.check_binding(self.header())?;
        policy.check_signed(self.header())?;
        let layout = self.layout();
        let mut stored = StoredReader::new(rest, layout, options.parallel);
        let mut keyless = KeylessHasher::new(self.raw());
        while let Some(batch) = stored.next_batch()? {
            let leaves = leaves_of(&mut stored, &batch, options)?;
            for (k, leaf) in leaves.iter().enumerate() {
                let block = stored.block(&batch, k);
                keyless.push(leaf, &block[block.len() - TAG_LEN..]);
            }
            if let Some(e) = batch.truncated {
                return Err(e);
            }
        }
        let end = stored.finish(
            FileEnd {
                header: self.header(),
                raw: self.raw(),
                cipher: None,
                policy,
            },
            Some(keyless),
        )?;
        Ok(Report {
            level: Level::of(false, false, policy.requires_signature()),
            header: self.header().clone(),
            keyless_sha256: end.trailer.keyless_sha256,
            plaintext_sha256: None,
            content: None,
            signer: end.signer,
        })
    }
}

/// The leaf digests of the complete blocks of the current batch, computed
/// while the next batch is read.
fn leaves_of<R: Read + Send>(
    stored: &mut StoredReader<R>,
    batch: &Batch,
    options: &DecodeOptions,
) -> Result<Vec<[u8; 32]>> {
    let layout = stored.layout;
    let slot = stored.slot();
    let (first, complete, parallel) = (batch.first, batch.complete, options.parallel);
    stored.process(move |data| {
        let body = |(k, chunk): (usize, &[u8])| {
            let len = layout.block_len(first + k as u64);
            sha256(&chunk[..len])
        };
        if parallel {
            data.par_chunks(slot)
                .take(complete)
                .enumerate()
                .map(body)
                .collect()
        } else {
            data.chunks(slot)
                .take(complete)
                .enumerate()
                .map(body)
                .collect()
        }
    })
}

impl Unlocked {
    /// Keyed verification of this file, the blocks read from `rest` (the
    /// input just after the header): every tag, the trailer MAC and the
    /// keyless digest in one SHA-256 pass over the stored bytes, decrypting
    /// only the first block to report what the payload looks like. With
    /// `deep`, a full decode that recomputes the plaintext SHA-256 and
    /// compares it with `D` last (spec 7.3 step 6).
    pub(crate) fn verify<R: Read + Send>(
        self,
        rest: R,
        deep: bool,
        options: &DecodeOptions,
    ) -> Result<Report> {
        if deep {
            return verify_deep(self.verifying_decoder(rest, options));
        }
        let layout = *self.layout();
        let cipher = self.cipher();
        let mut stored = StoredReader::new(rest, layout, options.parallel);
        let mut keyless = KeylessHasher::new(self.raw());
        let mut content = None;
        while let Some(batch) = stored.next_batch()? {
            if batch.first == 0 && batch.complete > 0 {
                let block = stored.block(&batch, 0);
                let len = block.len() - TAG_LEN;
                let mut head = Zeroizing::new(vec![0u8; len]);
                cipher.open_block(0, block, &mut head)?;
                content = Some(Content::sniff(&head[..len.min(Content::SNIFF_LEN)]));
            }
            let leaves = leaves_of(&mut stored, &batch, options)?;
            for (k, leaf) in leaves.iter().enumerate() {
                let index = batch.first + k as u64;
                let block = stored.block(&batch, k);
                let tag = &block[block.len() - TAG_LEN..];
                if !bool::from(cipher.block_tag(index, leaf).ct_eq(tag)) {
                    return Err(Error::BlockAuth { index });
                }
                keyless.push(leaf, tag);
            }
            if let Some(e) = batch.truncated {
                return Err(e);
            }
        }
        let end = stored.finish(
            FileEnd {
                header: self.header(),
                raw: self.raw(),
                cipher: Some(cipher),
                policy: self.policy(),
            },
            Some(keyless),
        )?;
        Ok(Report {
            level: Level::of(true, false, self.policy().requires_signature()),
            header: self.header().clone(),
            keyless_sha256: end.trailer.keyless_sha256,
            plaintext_sha256: end.digest,
            content,
            signer: end.signer,
        })
    }
}

fn verify_deep<R: Read + Send>(mut dec: Decoder<R>) -> Result<Report> {
    let signed = dec.requires_signature();
    let header = dec.header().clone();
    let mut hasher = Sha256::new();
    let mut buf = Zeroizing::new(vec![0u8; 1 << 20]);
    let mut head = Vec::new();
    loop {
        let n = dec.read(&mut buf).map_err(Error::from_io)?;
        if n == 0 {
            break;
        }
        if head.len() < Content::SNIFF_LEN {
            let take = (Content::SNIFF_LEN - head.len()).min(n);
            head.extend_from_slice(&buf[..take]);
        }
        hasher.update(&buf[..n]);
    }
    let recorded = dec
        .recorded_plaintext_sha256()
        .ok_or(Error::InvalidParameter("decoder ended without a trailer"))?;
    let computed: [u8; 32] = hasher.finalize().into();
    if !bool::from(computed.ct_eq(&recorded)) {
        return Err(Error::PlaintextDigestMismatch {
            recorded: hex::encode(recorded),
            computed: hex::encode(computed),
        });
    }
    let keyless = dec.keyless_sha256().unwrap_or_default();
    Ok(Report {
        level: Level::of(true, true, signed),
        header,
        keyless_sha256: keyless,
        plaintext_sha256: Some(recorded),
        content: Some(Content::sniff(&head)),
        signer: dec.signer(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encode::{encode_to_vec, EncodeOptions};
    use crate::error::Outcome;
    use crate::header::Metadata;
    use crate::signature::SigningKey;
    use std::sync::Arc;

    fn signed_file() -> (Vec<u8>, SigningKey) {
        let key = MasterKey::from_bytes([7; 32]);
        let signer = SigningKey::from_seed(&[8; 32]);
        let options = EncodeOptions {
            block_size: 4096,
            metadata: Metadata {
                name: Some("m".into()),
                version: Some(3),
            },
            signers: vec![Arc::new(SigningKey::from_seed(&[8; 32]))],
            ..Default::default()
        };
        (
            encode_to_vec(&key, &[5u8; 10_000], &options).unwrap().0,
            signer,
        )
    }

    /// Spec 7.5: a name or a minimum version that nothing authenticates is
    /// a caller error, refused before the blocks are read.
    #[test]
    fn a_requirement_without_authentication_is_refused() {
        let (file, _) = signed_file();
        for policy in [
            Policy::default().expect_name("m").clone(),
            Policy::default().require_min_version(1).clone(),
        ] {
            let mut input = &file[..];
            let sealed = Sealed::read(&mut input).unwrap();
            // The rest of the input is not even read: an empty one will do.
            let check = Check {
                keys: &[],
                policy: &policy,
                deep: false,
            };
            let e = sealed
                .verify(&[][..], &check, &DecodeOptions::default())
                .unwrap_err();
            assert!(
                matches!(
                    e,
                    Error::Unverifiable(Unverifiable::RequirementUnauthenticated)
                ),
                "{e:?}"
            );
            assert_eq!(e.outcome(), Outcome::Other);
        }
    }

    /// Spec 7.6: the requirements come right after the header in signed
    /// verification as in keyed verification, before a damaged block.
    #[test]
    fn requirements_come_before_the_blocks_in_every_mode() {
        let (mut file, signer) = signed_file();
        let at = {
            let mut input = &file[..];
            Sealed::read(&mut input).unwrap().layout().tag_offset(1) as usize
        };
        file[at] ^= 1;
        let mut policy = Policy::default();
        policy.trust(signer.public_key()).require_min_version(4);
        let mut input = &file[..];
        let sealed = Sealed::read(&mut input).unwrap();
        let signed = sealed
            .clone()
            .verify_signed(input, &policy, &DecodeOptions::default())
            .unwrap_err();
        let keyed = sealed
            .unlock(&[&MasterKey::from_bytes([7; 32])], &policy)
            .unwrap_err();
        assert_eq!(signed.outcome(), Outcome::Rollback);
        assert_eq!(keyed.outcome(), Outcome::Rollback);
    }
}
