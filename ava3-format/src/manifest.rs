//! The release manifest's detached signature and the rule for the paths a
//! manifest lists (spec, "Release manifest and its signature").
//!
//! A manifest is the publisher's list of the files of a release (JSON,
//! written by `ava3 encode --batch`). Its signature file `MANIFEST.sig`
//! holds one or more 64-byte Ed25519 signatures, each over
//! `"AVA3-manifest-v1" || 0x00 || manifest bytes`: the label keeps a
//! manifest signature from ever being taken for a file signature (whose
//! message starts with `"AVA3-v2-signature"`) and the other way round.
//!
//! The check and the parse must see the same bytes: [`verify_manifest`]
//! takes the bytes read once, and the caller parses those very bytes.
//!
//! A release's checksum list (`SHA256SUMS`, in `sha256sum`'s format) is
//! signed the same way under its own label, `"AVA3-checksums-v1" || 0x00`
//! ([`sign_checksums`], [`verify_checksums`]; spec appendix E.4): neither
//! document's signature can be taken for the other's.

use crate::error::{Error, Result, SignatureProblem};
use crate::signature::{Policy, SignerId, SigningKey};

/// The domain label of a manifest signature, NUL included.
pub const MANIFEST_SIGNATURE_LABEL: &[u8] = b"AVA3-manifest-v1\0";

/// The domain label of a checksum list's signature, NUL included.
pub const CHECKSUMS_SIGNATURE_LABEL: &[u8] = b"AVA3-checksums-v1\0";

/// The signed message: the label, then the document's bytes.
fn labelled(label: &[u8], document: &[u8]) -> Vec<u8> {
    let mut m = Vec::with_capacity(label.len() + document.len());
    m.extend_from_slice(label);
    m.extend_from_slice(document);
    m
}

/// The bytes of `MANIFEST.sig` for `manifest`: one signature per key, in
/// order. Fails on two keys with the same signer id.
pub fn sign_manifest(manifest: &[u8], signers: &[&SigningKey]) -> Result<Vec<u8>> {
    sign_labelled(MANIFEST_SIGNATURE_LABEL, manifest, signers)
}

/// The bytes of `SHA256SUMS.sig` for a checksum list: one signature per
/// key, in order, under [`CHECKSUMS_SIGNATURE_LABEL`].
pub fn sign_checksums(checksums: &[u8], signers: &[&SigningKey]) -> Result<Vec<u8>> {
    sign_labelled(CHECKSUMS_SIGNATURE_LABEL, checksums, signers)
}

/// Checks `signatures` (the bytes of `SHA256SUMS.sig`) over `checksums`
/// (the bytes the caller then parses), as [`verify_manifest`] does a
/// manifest's, under [`CHECKSUMS_SIGNATURE_LABEL`].
pub fn verify_checksums(checksums: &[u8], signatures: &[u8], policy: &Policy) -> Result<SignerId> {
    verify_labelled(CHECKSUMS_SIGNATURE_LABEL, checksums, signatures, policy)
}

fn sign_labelled(label: &[u8], document: &[u8], signers: &[&SigningKey]) -> Result<Vec<u8>> {
    if signers.is_empty() {
        return Err(Error::InvalidParameter("a detached signature needs a key"));
    }
    for (i, k) in signers.iter().enumerate() {
        if signers[..i].iter().any(|o| o.signer_id() == k.signer_id()) {
            return Err(Error::InvalidParameter(
                "the same signing key is given twice",
            ));
        }
    }
    let message = labelled(label, document);
    Ok(signers
        .iter()
        .flat_map(|k| k.sign_detached(&message))
        .collect())
}

/// Checks `signatures` (the bytes of `MANIFEST.sig`) over `manifest` (the
/// bytes the caller then parses) against the trusted keys of `policy`:
/// the first trusted key one of the signatures verifies under. A policy
/// without trusted keys is a caller error; a file that is not a whole
/// number of signatures is a bad signature; no signature by a trusted key
/// is an unknown signer.
pub fn verify_manifest(manifest: &[u8], signatures: &[u8], policy: &Policy) -> Result<SignerId> {
    verify_labelled(MANIFEST_SIGNATURE_LABEL, manifest, signatures, policy)
}

fn verify_labelled(
    label: &[u8],
    document: &[u8],
    signatures: &[u8],
    policy: &Policy,
) -> Result<SignerId> {
    if !policy.requires_signature() {
        return Err(Error::InvalidParameter(
            "a detached signature is checked against trusted keys, and none was given",
        ));
    }
    if signatures.is_empty() {
        return Err(Error::Unsigned);
    }
    if !signatures.len().is_multiple_of(64) {
        return Err(Error::BadSignature(SignatureProblem::Magic));
    }
    let message = labelled(label, document);
    for sig in signatures.chunks_exact(64) {
        let mut s = [0u8; 64];
        s.copy_from_slice(sig);
        if let Some(k) = policy
            .signers()
            .iter()
            .find(|k| k.verify_detached(&message, &s))
        {
            return Ok(k.signer_id());
        }
    }
    Err(Error::UnknownSigner {
        found: format!(
            "{} signature(s), none by a trusted key",
            signatures.len() / 64
        ),
    })
}

/// How a path a manifest lists may be used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ManifestPaths {
    /// The manifest's signature verified under a trusted key: its entries
    /// are the publisher's, `..` components included.
    Signed,
    /// Nothing vouches for the manifest: an entry that leaves the
    /// manifest's folder (`..`) is refused.
    Unsigned,
}

/// Checks one `output` path of a manifest (spec: relative, `/`-separated,
/// no empty or `.` component, no absolute path, no `..` unless the
/// manifest is signed). Returns the reason a path is refused.
pub fn check_manifest_path(
    path: &str,
    trust: ManifestPaths,
) -> std::result::Result<(), &'static str> {
    if path.is_empty() {
        return Err("an empty path");
    }
    if path.starts_with('/') || path.contains('\\') || path.contains('\0') {
        return Err("an absolute path, or one with a backslash or a NUL");
    }
    if path.len() >= 2 && path.as_bytes()[1] == b':' {
        return Err("an absolute path");
    }
    for part in path.split('/') {
        match part {
            "" | "." => return Err("an empty or '.' component"),
            ".." if trust == ManifestPaths::Unsigned => {
                return Err("a '..' component in a manifest no trusted key signed")
            }
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signs_a_labelled_message_that_a_plain_signature_over_the_bytes_is_not() {
        let k = SigningKey::from_seed(&[9; 32]);
        let mut trust = Policy::default();
        trust.trust(k.public_key());
        let m = br#"{"manifest_version":1}"#;
        let sig = sign_manifest(m, &[&k]).unwrap();
        assert_eq!(verify_manifest(m, &sig, &trust).unwrap(), k.signer_id());
        // The raw bytes' signature (the old, unlabelled scheme) is refused.
        let raw = k.sign_detached(m);
        assert!(matches!(
            verify_manifest(m, &raw, &trust),
            Err(Error::UnknownSigner { .. })
        ));
        // One byte changed.
        assert!(verify_manifest(br#"{"manifest_version":2}"#, &sig, &trust).is_err());
        // Not whole signatures, none, and no trusted key.
        assert!(matches!(
            verify_manifest(m, &sig[..63], &trust),
            Err(Error::BadSignature(_))
        ));
        assert!(matches!(
            verify_manifest(m, &[], &trust),
            Err(Error::Unsigned)
        ));
        assert!(matches!(
            verify_manifest(m, &sig, &Policy::default()),
            Err(Error::InvalidParameter(_))
        ));
        assert!(sign_manifest(m, &[&k, &k]).is_err());
    }

    #[test]
    fn any_trusted_signature_of_several_will_do() {
        let (a, b) = (
            SigningKey::from_seed(&[1; 32]),
            SigningKey::from_seed(&[2; 32]),
        );
        let m = b"release";
        let sig = sign_manifest(m, &[&a, &b]).unwrap();
        let mut trust_b = Policy::default();
        trust_b.trust(b.public_key());
        assert_eq!(verify_manifest(m, &sig, &trust_b).unwrap(), b.signer_id());
    }

    #[test]
    fn paths() {
        use ManifestPaths::*;
        for ok in ["a.ava3", "sub/b.amm.ava3", "..x/y"] {
            assert_eq!(check_manifest_path(ok, Unsigned), Ok(()), "{ok}");
        }
        assert_eq!(check_manifest_path("../../out/a", Signed), Ok(()));
        for bad in [
            "",
            "/etc/passwd",
            "../../../etc/passwd",
            "a/../../b",
            "a//b",
            "./a",
            "C:\\x",
            "a\\..\\b",
        ] {
            assert!(check_manifest_path(bad, Unsigned).is_err(), "{bad}");
        }
        assert!(check_manifest_path("/etc/passwd", Signed).is_err());
    }
}
