//! Verification without decoding (spec 5.5, 7.4 and 7.6): keyless (structure and
//! keyless SHA-256, no key), keyed (every tag and the trailer MAC, no
//! decryption but the first block) and deep (a full decode that recomputes
//! the plaintext SHA-256).

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

/// The level a verification reached.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Level {
    /// Structure and keyless SHA-256: no transfer corruption.
    Keyless,
    /// Every MAC and tag checked with the key: decoding yields exactly the
    /// bytes whose SHA-256 is recorded.
    Keyed,
    /// Keyed, and the plaintext SHA-256 recomputed from a full decode.
    Deep,
}

impl Level {
    /// Stable name: `keyless`, `keyed`, `deep`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Keyless => "keyless",
            Self::Keyed => "keyed",
            Self::Deep => "deep",
        }
    }

    /// The one name of what a check proves, for every front end (the
    /// CLI's JSON and lines, Python's `VerifyReport.level`): this level,
    /// and with a publisher signature required and checked, `signed`
    /// (public keys only: keyless structure plus the signature),
    /// `keyed+signed` or `deep+signed`.
    pub fn name(self, signed: bool) -> &'static str {
        match (self, signed) {
            (Self::Keyless, true) => "signed",
            (Self::Keyed, true) => "keyed+signed",
            (Self::Deep, true) => "deep+signed",
            (l, false) => l.as_str(),
        }
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

/// Keyless verification: structure, lengths, and the keyless SHA-256 over
/// the stored bytes. Proves the file is the one the encoder wrote, unless
/// someone recomputed the digest on purpose; proves nothing about who wrote it.
pub fn verify_keyless<R: Read + Send>(mut input: R, options: &DecodeOptions) -> Result<Report> {
    Sealed::read(&mut input)?.verify_keyless(input, options)
}

impl Sealed {
    /// Keyless verification of this file (spec 7.4, last paragraph), the
    /// blocks read from `rest`: the input just after the header.
    pub fn verify_keyless<R: Read + Send>(
        self,
        rest: R,
        options: &DecodeOptions,
    ) -> Result<Report> {
        self.verify_signed(rest, &Policy::default(), options)
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
    pub fn verify_signed<R: Read + Send>(
        self,
        rest: R,
        policy: &Policy,
        options: &DecodeOptions,
    ) -> Result<Report> {
        if !policy.requires_signature() && !policy.is_empty() {
            return Err(Error::InvalidParameter(
                "a required name or minimum version needs a key or a trusted signer",
            ));
        }
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
            level: Level::Keyless,
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

/// Keyed verification: the header MAC, every block tag, the trailer MAC and
/// the keyless digest, in one SHA-256 pass over the stored bytes; only the
/// first block is decrypted, to report what the payload looks like.
/// With `deep`, decodes everything and recomputes the plaintext SHA-256.
pub fn verify_keyed<R: Read + Send>(
    mut input: R,
    keys: &[MasterKey],
    deep: bool,
    options: &DecodeOptions,
) -> Result<Report> {
    Sealed::read(&mut input)?
        .unlock(keys)?
        .verify(input, deep, options)
}

impl Unlocked {
    /// Keyed verification of this file, the blocks read from `rest` (the
    /// input just after the header): every tag, the trailer MAC and the
    /// keyless digest in one SHA-256 pass over the stored bytes, decrypting
    /// only the first block to report what the payload looks like. With
    /// `deep`, a full decode that recomputes the plaintext SHA-256 and
    /// compares it with `D` last (spec 7.3 step 6).
    pub fn verify<R: Read + Send>(
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
            level: Level::Keyed,
            header: self.header().clone(),
            keyless_sha256: end.trailer.keyless_sha256,
            plaintext_sha256: end.digest,
            content,
            signer: end.signer,
        })
    }
}

fn verify_deep<R: Read + Send>(mut dec: Decoder<R>) -> Result<Report> {
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
        level: Level::Deep,
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
            let e = sealed
                .verify_signed(&[][..], &policy, &DecodeOptions::default())
                .unwrap_err();
            assert!(matches!(e, Error::InvalidParameter(_)), "{e:?}");
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
            .unlock_with(&[MasterKey::from_bytes([7; 32])], &policy)
            .unwrap_err();
        assert_eq!(signed.outcome(), Outcome::Rollback);
        assert_eq!(keyed.outcome(), Outcome::Rollback);
    }
}
