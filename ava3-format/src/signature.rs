//! Publisher signatures and what a reader requires of a file (spec 5.6,
//! 5.7 and 7.5): Ed25519 signing and public keys, signer ids, the signed
//! message, the signature section after the trailer, and the [`Policy`] of
//! a reader (trusted signers, expected model name, minimum version).
//!
//! The curve arithmetic is `ed25519-dalek`'s (RFC 8032 PureEdDSA, verified
//! with `verify_strict`); key files are PKCS#8 and SubjectPublicKeyInfo PEM,
//! as OpenSSL writes and reads them.

use std::fmt;

use ed25519_dalek::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey};
use ed25519_dalek::Signer as _;
use rand::rngs::OsRng;
use rand::TryRngCore;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::error::{Error, Result, SignatureProblem};
use crate::header::{Header, TRAILER_LEN};

/// The 8 bytes a signature section starts with.
pub(crate) const SECTION_MAGIC: [u8; 8] = *b"AVA3-SIG";
/// One entry of the signature section: signer id (16) and signature (64).
pub(crate) const ENTRY_LEN: usize = 16 + 64;
/// Most signatures a file may carry.
pub const MAX_SIGNATURES: u8 = 16;
/// Domain label of the signed message (spec 5.6).
pub(crate) const LABEL_SIGNATURE: &[u8] = b"AVA3-v2-signature";
/// Domain label of the signer id (spec 5.6).
pub(crate) const LABEL_SIGNER: &[u8] = b"AVA3-v2-signer";
/// Length of a signer id.
pub(crate) const SIGNER_ID_LEN: usize = 16;

/// Length of the signature section of a file with `count` signatures.
pub(crate) fn section_len(count: u8) -> u64 {
    if count == 0 {
        0
    } else {
        (SECTION_MAGIC.len() + usize::from(count) * ENTRY_LEN) as u64
    }
}

/// The number of signatures an encoder given `signers` writes (spec 8.1):
/// at most 16, and no two keys with the same signer id (a reader refuses
/// a section that lists a signer twice, spec 3.5).
pub(crate) fn signer_count<K: std::ops::Deref<Target = SigningKey>>(signers: &[K]) -> Result<u8> {
    let count = u8::try_from(signers.len())
        .map_err(|_| Error::InvalidParameter("at most 16 signatures"))?;
    if count > MAX_SIGNATURES {
        return Err(Error::InvalidParameter("at most 16 signatures"));
    }
    for (j, key) in signers.iter().enumerate() {
        let id = key.signer_id();
        if signers[..j].iter().any(|other| other.signer_id() == id) {
            return Err(Error::InvalidParameter(
                "the same signing key (signer id) is given twice",
            ));
        }
    }
    Ok(count)
}

/// The public fingerprint of a signing key:
/// `SHA-256("AVA3-v2-signer" || public key)[..16]`, shown as 32 hex digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SignerId(pub(crate) [u8; SIGNER_ID_LEN]);

impl SignerId {
    /// The 16 bytes of the id.
    pub fn as_bytes(&self) -> &[u8; SIGNER_ID_LEN] {
        &self.0
    }

    /// The id as 32 lowercase hex digits.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }
}

impl fmt::Display for SignerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for SignerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SignerId({})", self.to_hex())
    }
}

/// An Ed25519 signing key of a publisher. Not `Clone`; the secret is wiped
/// on drop; `Debug` shows only the signer id.
pub struct SigningKey(ed25519_dalek::SigningKey);

impl SigningKey {
    /// Draws a new signing key from the operating system's RNG.
    pub fn generate() -> Result<Self> {
        let mut seed = Zeroizing::new([0u8; 32]);
        OsRng
            .try_fill_bytes(seed.as_mut_slice())
            .map_err(|e| Error::Io(std::io::Error::other(e)))?;
        Ok(Self::from_seed(&seed))
    }

    /// The key whose RFC 8032 32-byte secret (seed) is `seed`.
    pub fn from_seed(seed: &[u8; 32]) -> Self {
        Self(ed25519_dalek::SigningKey::from_bytes(seed))
    }

    /// Parses a PKCS#8 PEM private key (`-----BEGIN PRIVATE KEY-----`, as
    /// `ava3 keygen --signing` and `openssl genpkey -algorithm ed25519`
    /// write it). The error never quotes the text.
    pub fn from_pem(text: &str) -> Result<Self> {
        ed25519_dalek::SigningKey::from_pkcs8_pem(text.trim())
            .map(Self)
            .map_err(|_| {
                Error::InvalidParameter("not an Ed25519 PKCS#8 PEM private key (BEGIN PRIVATE KEY)")
            })
    }

    /// The key as PKCS#8 PEM, in a buffer wiped on drop: the 32-byte
    /// secret alone (RFC 8410 version 1, as `openssl genpkey` writes it;
    /// OpenSSL 3.0 cannot read the version 2 form with the public key).
    pub fn to_pem(&self) -> Result<Zeroizing<String>> {
        let mut bytes = ed25519_dalek::pkcs8::KeypairBytes {
            secret_key: self.0.to_bytes(),
            public_key: None,
        };
        let pem = bytes.to_pkcs8_pem(Default::default());
        zeroize::Zeroize::zeroize(&mut bytes.secret_key);
        let pem = pem.map_err(|_| Error::InvalidParameter("the signing key cannot be encoded"))?;
        Ok(Zeroizing::new(pem.as_str().to_owned()))
    }

    /// The public key.
    pub fn public_key(&self) -> PublicKey {
        PublicKey(self.0.verifying_key())
    }

    /// The signer id of the public key.
    pub fn signer_id(&self) -> SignerId {
        self.public_key().signer_id()
    }

    pub(crate) fn sign(&self, message: &[u8]) -> [u8; 64] {
        self.0.sign(message).to_bytes()
    }

    /// A detached Ed25519 signature over `message` as it is (for files
    /// beside AVA3 files, such as a batch manifest; a file's own signature
    /// is over the message of spec 5.6, which begins with its label).
    pub fn sign_detached(&self, message: &[u8]) -> [u8; 64] {
        self.sign(message)
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("signer_id", &self.signer_id())
            .finish_non_exhaustive()
    }
}

/// An Ed25519 public key that a reader trusts.
#[derive(Clone, PartialEq, Eq)]
pub struct PublicKey(ed25519_dalek::VerifyingKey);

impl PublicKey {
    /// The key from its 32 bytes (RFC 8032 encoding). Refuses what can
    /// never be a publisher's key (spec 2): bytes that decode to no point,
    /// a non-canonical encoding (a y coordinate of p or more, or the sign
    /// bit set on x = 0), and a point of small order (the identity and the
    /// seven other torsion points, under which anyone can forge a
    /// signature that lax verifiers accept).
    pub fn from_bytes(bytes: &[u8; 32]) -> Result<Self> {
        let key = ed25519_dalek::VerifyingKey::from_bytes(bytes)
            .map_err(|_| Error::InvalidParameter("not an Ed25519 public key"))?;
        Self::checked(key)
    }

    /// `key` if it is a canonical encoding of a point of large order.
    fn checked(key: ed25519_dalek::VerifyingKey) -> Result<Self> {
        if key.to_edwards().compress().to_bytes() != key.to_bytes() {
            return Err(Error::InvalidParameter(
                "not an Ed25519 public key (non-canonical encoding)",
            ));
        }
        if key.is_weak() {
            return Err(Error::InvalidParameter(
                "not a usable Ed25519 public key (a point of small order: anyone could sign for it)",
            ));
        }
        Ok(Self(key))
    }

    /// Parses a public key given as SubjectPublicKeyInfo PEM
    /// (`-----BEGIN PUBLIC KEY-----`), as 64 hex digits, or as its 32 raw
    /// bytes.
    pub fn parse(bytes: &[u8]) -> Result<Self> {
        if let Ok(raw) = <&[u8; 32]>::try_from(bytes) {
            return Self::from_bytes(raw);
        }
        let text = std::str::from_utf8(bytes)
            .map_err(|_| Error::InvalidParameter("not an Ed25519 public key"))?
            .trim_matches(|c: char| c.is_ascii_whitespace());
        if text.starts_with("-----BEGIN") {
            let key = ed25519_dalek::VerifyingKey::from_public_key_pem(text).map_err(|_| {
                Error::InvalidParameter(
                    "not an Ed25519 SubjectPublicKeyInfo PEM (BEGIN PUBLIC KEY)",
                )
            })?;
            return Self::checked(key);
        }
        let mut raw = [0u8; 32];
        hex::decode_to_slice(text, &mut raw)
            .map_err(|_| Error::InvalidParameter("not an Ed25519 public key"))?;
        Self::from_bytes(&raw)
    }

    /// The key as SubjectPublicKeyInfo PEM (what `openssl pkey -pubin` reads).
    pub fn to_pem(&self) -> String {
        self.0
            .to_public_key_pem(Default::default())
            .unwrap_or_default()
    }

    /// The 32 bytes of the key.
    pub fn to_bytes(&self) -> [u8; 32] {
        self.0.to_bytes()
    }

    /// The signer id (spec 5.6).
    pub fn signer_id(&self) -> SignerId {
        let mut h = Sha256::new();
        h.update(LABEL_SIGNER);
        h.update(self.0.as_bytes());
        let d: [u8; 32] = h.finalize().into();
        let mut id = [0u8; SIGNER_ID_LEN];
        id.copy_from_slice(&d[..SIGNER_ID_LEN]);
        SignerId(id)
    }

    /// Checks a detached signature made by [`SigningKey::sign_detached`].
    pub fn verify_detached(&self, message: &[u8], signature: &[u8; 64]) -> bool {
        self.verifies(message, signature)
    }

    fn verifies(&self, message: &[u8], signature: &[u8; 64]) -> bool {
        let sig = ed25519_dalek::Signature::from_bytes(signature);
        self.0.verify_strict(message, &sig).is_ok()
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({})", self.signer_id())
    }
}

/// The message a publisher signs (spec 5.6):
/// `"AVA3-v2-signature" || header || trailer || SHA-256(tag_0 || ... || tag_{n-1})`.
pub(crate) fn signed_message(
    header: &[u8],
    trailer: &[u8; TRAILER_LEN],
    tags_sha256: &[u8; 32],
) -> Vec<u8> {
    let mut m = Vec::with_capacity(LABEL_SIGNATURE.len() + header.len() + TRAILER_LEN + 32);
    m.extend_from_slice(LABEL_SIGNATURE);
    m.extend_from_slice(header);
    m.extend_from_slice(trailer);
    m.extend_from_slice(tags_sha256);
    m
}

/// The signature section of a file (spec 3.5).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct SignatureSection {
    pub(crate) entries: Vec<(SignerId, [u8; 64])>,
}

impl SignatureSection {
    /// Signs `message` with each key, in order.
    #[cfg(test)]
    pub(crate) fn sign(signers: &[SigningKey], message: &[u8]) -> Self {
        Self::sign_refs(&signers.iter().collect::<Vec<_>>(), message)
    }

    /// Signs `message` with each key, in order.
    pub(crate) fn sign_refs(signers: &[&SigningKey], message: &[u8]) -> Self {
        Self {
            entries: signers
                .iter()
                .map(|k| (k.signer_id(), k.sign(message)))
                .collect(),
        }
    }

    pub(crate) fn to_bytes(&self) -> Vec<u8> {
        let mut b = Vec::with_capacity(SECTION_MAGIC.len() + self.entries.len() * ENTRY_LEN);
        b.extend_from_slice(&SECTION_MAGIC);
        for (id, sig) in &self.entries {
            b.extend_from_slice(&id.0);
            b.extend_from_slice(sig);
        }
        b
    }

    /// Parses the section of `section_len(count)` bytes: its magic, then
    /// no signer id listed twice (spec 3.5; both **bad signature**, whether
    /// or not a signature is required).
    pub(crate) fn parse(b: &[u8], count: u8) -> Result<Self> {
        if count == 0 || b.len() as u64 != section_len(count) || b[..8] != SECTION_MAGIC {
            return Err(Error::BadSignature(SignatureProblem::Magic));
        }
        let entries: Vec<(SignerId, [u8; 64])> = b[8..]
            .chunks_exact(ENTRY_LEN)
            .map(|e| {
                let mut id = [0u8; SIGNER_ID_LEN];
                id.copy_from_slice(&e[..SIGNER_ID_LEN]);
                let mut sig = [0u8; 64];
                sig.copy_from_slice(&e[SIGNER_ID_LEN..]);
                (SignerId(id), sig)
            })
            .collect();
        for (j, (id, _)) in entries.iter().enumerate() {
            if entries[..j].iter().any(|(other, _)| other == id) {
                // Spec 3.5: one entry per signer. (No `SignatureProblem`
                // of its own yet: a malformed section, as a wrong magic.)
                return Err(Error::BadSignature(SignatureProblem::Magic));
            }
        }
        Ok(Self { entries })
    }

    /// The signer ids, in order.
    pub(crate) fn signer_ids(&self) -> Vec<SignerId> {
        self.entries.iter().map(|(id, _)| *id).collect()
    }
}

/// What a reader requires of a file beyond its own integrity: signatures by
/// trusted publishers, a model name and a minimum model version (spec 7.5).
/// The default requires nothing (every reader of version 1 files).
#[derive(Clone, Debug, Default)]
pub struct Policy {
    signers: Vec<PublicKey>,
    name: Option<String>,
    min_version: Option<u64>,
}

impl Policy {
    /// The policy that requires nothing (a `const`, for [`crate::Check`]).
    pub const NONE: Policy = Policy {
        signers: Vec::new(),
        name: None,
        min_version: None,
    };

    /// Trusts `key`: from then on a file must carry a valid signature by
    /// one of the trusted keys.
    pub fn trust(&mut self, key: PublicKey) -> &mut Self {
        if !self.signers.contains(&key) {
            self.signers.push(key);
        }
        self
    }

    /// Requires the file's authenticated model name to be `name`.
    pub fn expect_name(&mut self, name: &str) -> &mut Self {
        self.name = Some(name.to_owned());
        self
    }

    /// Requires the file's authenticated model version to be at least
    /// `version` (a file without a version has version 0).
    pub fn require_min_version(&mut self, version: u64) -> &mut Self {
        self.min_version = Some(version);
        self
    }

    /// The trusted keys.
    pub fn signers(&self) -> &[PublicKey] {
        &self.signers
    }

    /// The required name, if any.
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// The minimum version, if any.
    pub fn minimum_version(&self) -> Option<u64> {
        self.min_version
    }

    /// True when a signature by a trusted key is required.
    pub fn requires_signature(&self) -> bool {
        !self.signers.is_empty()
    }

    /// True when the policy requires nothing.
    pub fn is_empty(&self) -> bool {
        self.signers.is_empty() && self.name.is_none() && self.min_version.is_none()
    }

    /// Name and version of an authenticated header (spec 7.5 steps 1 and 2).
    pub(crate) fn check_binding(&self, header: &Header) -> Result<()> {
        let meta = header.metadata();
        if let Some(want) = &self.name {
            if meta.name.as_deref() != Some(want.as_str()) {
                return Err(Error::NameMismatch {
                    expected: want.clone(),
                    found: meta.name.clone(),
                });
            }
        }
        if let Some(min) = self.min_version {
            let found = meta.version.unwrap_or(0);
            if found < min {
                return Err(Error::Rollback {
                    minimum: min,
                    found: meta.version,
                });
            }
        }
        Ok(())
    }

    /// Unsigned files, when a signature is required (spec 7.5 step 3).
    pub(crate) fn check_signed(&self, header: &Header) -> Result<()> {
        if self.requires_signature() && header.signature_count() == 0 {
            return Err(Error::Unsigned);
        }
        Ok(())
    }

    /// The signatures (spec 7.5 steps 4 and 5): at least one entry by a
    /// trusted key, and every such entry valid. Returns the first trusted
    /// signer, or `None` when no signature is required.
    pub(crate) fn check_signatures(
        &self,
        section: &SignatureSection,
        message: &[u8],
    ) -> Result<Option<SignerId>> {
        if !self.requires_signature() {
            return Ok(None);
        }
        let mut first = None;
        for (id, sig) in &section.entries {
            let Some(key) = self.signers.iter().find(|k| k.signer_id() == *id) else {
                continue;
            };
            if !key.verifies(message, sig) {
                return Err(Error::BadSignature(SignatureProblem::Invalid {
                    signer: *id,
                }));
            }
            first.get_or_insert(*id);
        }
        first.map(Some).ok_or_else(|| Error::UnknownSigner {
            found: section
                .signer_ids()
                .iter()
                .map(SignerId::to_hex)
                .collect::<Vec<_>>()
                .join(", "),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc8032_test_1() {
        // RFC 8032 section 7.1, TEST 1: the empty message.
        let seed: [u8; 32] =
            hex::decode("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
                .unwrap()
                .try_into()
                .unwrap();
        let k = SigningKey::from_seed(&seed);
        assert_eq!(
            hex::encode(k.public_key().to_bytes()),
            "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
        );
        assert_eq!(
            hex::encode(k.sign(b"")),
            "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155\
             5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"
        );
    }

    #[test]
    fn pem_round_trips_and_debug_hides_the_secret() {
        let k = SigningKey::from_seed(&[0x42; 32]);
        let pem = k.to_pem().unwrap();
        assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----"));
        assert_eq!(
            SigningKey::from_pem(&pem).unwrap().signer_id(),
            k.signer_id()
        );
        let pub_pem = k.public_key().to_pem();
        assert!(pub_pem.starts_with("-----BEGIN PUBLIC KEY-----"));
        let p = PublicKey::parse(pub_pem.as_bytes()).unwrap();
        assert_eq!(p, k.public_key());
        assert_eq!(PublicKey::parse(&p.to_bytes()).unwrap(), p);
        assert_eq!(
            PublicKey::parse(hex::encode(p.to_bytes()).as_bytes()).unwrap(),
            p
        );
        let shown = format!("{k:?}");
        assert!(!shown.contains("4242"), "{shown}");
        let e = SigningKey::from_pem("-----BEGIN PRIVATE KEY-----\nzz\n").unwrap_err();
        assert!(!e.to_string().contains("zz"));
    }

    #[test]
    fn small_order_and_non_canonical_public_keys_are_refused() {
        // The eight points of small order (the identity, the point of order
        // 2, the two of order 4, the four of order 8), then the identity
        // with the sign bit set on x = 0 (non-canonical as well).
        let small = [
            "0100000000000000000000000000000000000000000000000000000000000000",
            "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
            "0000000000000000000000000000000000000000000000000000000000000000",
            "0000000000000000000000000000000000000000000000000000000000000080",
            "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
            "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85",
            "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
            "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa",
            "0100000000000000000000000000000000000000000000000000000000000080",
        ];
        // Non-canonical: y = p + 1 (the identity) and y = p + 3 (a point of
        // large order whose canonical encoding is 03 00 ... 00).
        let non_canonical = [
            "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
            "f0ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
        ];
        for h in small.iter().chain(&non_canonical) {
            let raw: [u8; 32] = hex::decode(h).unwrap().try_into().unwrap();
            for e in [
                PublicKey::from_bytes(&raw).unwrap_err(),
                PublicKey::parse(h.as_bytes()).unwrap_err(),
                PublicKey::parse(&raw).unwrap_err(),
            ] {
                assert!(matches!(e, Error::InvalidParameter(_)), "{h}: {e:?}");
            }
        }
        // The same y = 3 point, canonically encoded, is a valid key.
        let mut three = [0u8; 32];
        three[0] = 3;
        assert!(PublicKey::from_bytes(&three).is_ok());
        // A small-order key given as PEM is refused too.
        let identity_spki = "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEAAQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n-----END PUBLIC KEY-----\n";
        assert!(matches!(
            PublicKey::parse(identity_spki.as_bytes()),
            Err(Error::InvalidParameter(_))
        ));
    }

    #[test]
    fn a_signer_is_listed_once() {
        let a = SigningKey::from_seed(&[1; 32]);
        let b = SigningKey::from_seed(&[2; 32]);
        assert_eq!(signer_count(&[&a, &b]).unwrap(), 2);
        assert!(matches!(
            signer_count(&[&a, &b, &a]),
            Err(Error::InvalidParameter(_))
        ));
        let many: Vec<SigningKey> = (0..17u8).map(|i| SigningKey::from_seed(&[i; 32])).collect();
        assert!(signer_count(&many.iter().collect::<Vec<_>>()).is_err());
        // A section listing A twice is malformed, whatever is required.
        let mut twice = SignatureSection::sign(std::slice::from_ref(&a), b"m");
        twice.entries.push(twice.entries[0]);
        assert!(matches!(
            SignatureSection::parse(&twice.to_bytes(), 2),
            Err(Error::BadSignature(SignatureProblem::Magic))
        ));
        let ok = SignatureSection::sign_refs(&[&a, &b], b"m");
        assert_eq!(SignatureSection::parse(&ok.to_bytes(), 2).unwrap(), ok);
        assert!(SignatureSection::parse(&[], 0).is_err());
    }

    #[test]
    fn policy_checks_signatures() {
        let a = SigningKey::from_seed(&[1; 32]);
        let b = SigningKey::from_seed(&[2; 32]);
        let msg = b"message";
        let section = SignatureSection::sign(std::slice::from_ref(&a), msg);
        let parsed = SignatureSection::parse(&section.to_bytes(), 1).unwrap();
        assert_eq!(parsed, section);
        let mut p = Policy::default();
        assert_eq!(p.check_signatures(&section, msg).unwrap(), None);
        p.trust(b.public_key());
        assert!(matches!(
            p.check_signatures(&section, msg),
            Err(Error::UnknownSigner { .. })
        ));
        p.trust(a.public_key());
        assert_eq!(
            p.check_signatures(&section, msg).unwrap(),
            Some(a.signer_id())
        );
        assert!(matches!(
            p.check_signatures(&section, b"other"),
            Err(Error::BadSignature(SignatureProblem::Invalid { .. }))
        ));
        let mut bad = section.to_bytes();
        bad[0] ^= 1;
        assert!(matches!(
            SignatureSection::parse(&bad, 1),
            Err(Error::BadSignature(SignatureProblem::Magic))
        ));
    }
}
