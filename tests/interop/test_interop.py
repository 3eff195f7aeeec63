"""Checks the independent Python implementation (ava3_ref.py, written from the
spec) against every test vector, the Rust encoder's output against it, and the
publisher signatures against tools that exist: OpenSSL's Ed25519 and the
`cryptography` package."""

import hashlib
import os
import pathlib
import struct
import subprocess
import sys

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

sys.path.insert(0, str(pathlib.Path(__file__).parent))
import ava3_ref  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[2]
VECTORS = sorted((ROOT / "testdata" / "vectors").iterdir())


# The vectors' signing keys (spec appendix A): RFC 8032 seeds.
SEED_A = bytes(range(0x40, 0x60))
SEED_B = bytes(range(0x60, 0x80))


def public(seed):
    return Ed25519PrivateKey.from_private_bytes(seed).public_key().public_bytes_raw()


SEED_OF = {ava3_ref.signer_id(public(s)): s for s in (SEED_A, SEED_B)}


def parse(path):
    """The vector's lines (the last of a repeated name) and its bytes; every
    `require-signer:` line (appendix A: each adds a trusted key) is kept in
    fields["signers"]."""
    raw = path.read_bytes()
    head, body = raw.split(b"\n\n", 1)
    lines = [line.split(": ", 1) for line in head.decode().splitlines()]
    fields = dict(lines)
    fields["signers"] = [bytes.fromhex(v) for k, v in lines if k == "require-signer"]
    return fields, body


def require(fields):
    return ava3_ref.Require(
        signers=fields["signers"],
        name=fields["require-name"].encode() if "require-name" in fields else None,
        min_version=int(fields["require-min-version"]) if "require-min-version" in fields else None,
    )


@pytest.mark.parametrize("path", VECTORS, ids=[p.name for p in VECTORS])
def test_vector_decodes_as_expected(path):
    fields, body = parse(path)
    key = bytes.fromhex(fields["key"])
    released = hashlib.sha256()
    try:
        ava3_ref.decode(body, [key], released.update, require(fields))
        outcome, block = "success", None
    except ava3_ref.Failure as f:
        outcome, block = f.outcome, f.block
    assert outcome == fields["expect"]
    assert released.hexdigest() == fields["payload"]
    if "block" in fields:
        assert block == int(fields["block"])


@pytest.mark.parametrize("path", [p for p in VECTORS if p.name.startswith("success")],
                         ids=lambda p: p.name)
def test_success_vectors_reencode_byte_for_byte(path):
    fields, body = parse(path)
    key = bytes.fromhex(fields["key"])
    plaintext = bytearray()
    ava3_ref.decode(body, [key], plaintext.extend)
    bs = int.from_bytes(body[16:20], "little")
    hd = ava3_ref.read_header(ava3_ref.Reader(body))[1]
    signers = []
    if hd["c"]:
        _, section = ava3_ref.signature_parts(body)
        signers = [SEED_OF[sid] for sid, _ in section]
    again = ava3_ref.encode(key, bytes(plaintext), body[32:64], bs, body[20],
                            hd["name"], hd["version"], signers)
    assert again == body


SIGNED = [p for p in VECTORS if "require-signer" in parse(p)[0]]


@pytest.mark.parametrize("path", SIGNED, ids=[p.name for p in SIGNED])
def test_signed_vector_verifies_with_the_public_key_only(path):
    """Spec 7.5: no master key, the vector's outcome all the same."""
    fields, body = parse(path)
    try:
        ava3_ref.verify_signed(body, require(fields))
        outcome = "success"
    except ava3_ref.Failure as f:
        outcome = f.outcome
    assert outcome == fields["expect"]


def openssl_verifies(tmp_path, pk, message, signature):
    pem = Ed25519PublicKey.from_public_bytes(pk).public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    (tmp_path / "pub.pem").write_bytes(pem)
    (tmp_path / "m.bin").write_bytes(message)
    (tmp_path / "sig.bin").write_bytes(signature)
    r = subprocess.run(["openssl", "pkeyutl", "-verify", "-pubin", "-inkey",
                        str(tmp_path / "pub.pem"), "-rawin", "-in", str(tmp_path / "m.bin"),
                        "-sigfile", str(tmp_path / "sig.bin")], capture_output=True, text=True)
    return r.returncode == 0 and "Signature Verified Successfully" in r.stdout


@pytest.mark.parametrize("name", ["success_v2_signed", "success_v2_two_signers",
                                  "success_v2_signed_empty"])
def test_openssl_and_cryptography_verify_the_signatures(tmp_path, name):
    """Spec 5.6: a standard Ed25519 signature over M, which an outside tool
    checks once the message is extracted."""
    _, body = parse(ROOT / "testdata" / "vectors" / name)
    message, section = ava3_ref.signature_parts(body)
    assert section
    for sid, sig in section:
        pk = public(SEED_OF[sid])
        assert openssl_verifies(tmp_path, pk, message, sig)
        Ed25519PublicKey.from_public_bytes(pk).verify(sig, message)
        flipped = bytes([sig[0] ^ 1]) + sig[1:]
        assert not openssl_verifies(tmp_path, pk, message, flipped)
        assert not openssl_verifies(tmp_path, pk, message + b"x", sig)


@pytest.mark.parametrize("path", [p for p in VECTORS if p.name.startswith("success")],
                         ids=lambda p: p.name)
def test_success_plaintext_is_the_seed_counter_stream(path):
    """Spec appendix A: SHA-256(seed || le64(counter)) blocks, cut to P bytes,
    bytes 0..8 set to GGUF 03 00 00 00 when the payload kind is 2, bytes 4..8
    to TFL3 when it is 3."""
    fields, body = parse(path)
    length = int.from_bytes(body[24:32], "little")
    seed = fields["seed"].encode()
    stream = b"".join(hashlib.sha256(seed + struct.pack("<Q", i)).digest()
                      for i in range((length + 31) // 32))[:length]
    if body[20] == 2 and length >= 8:
        stream = b"GGUF\x03\0\0\0" + stream[8:]
    if body[20] == 3 and length >= 8:
        stream = stream[:4] + b"TFL3" + stream[8:]
    assert hashlib.sha256(stream).hexdigest() == fields["payload"]


KEY = bytes(range(32))


def cli_with_key(tmp_path):
    """The ava3 binary and a key file holding KEY."""
    exe = os.environ.get("AVA3_BIN")
    if not exe:
        pytest.fail("AVA3_BIN is not set: the test script must point it at the built ava3 binary")
    (tmp_path / "k").write_text(KEY.hex() + "\n")
    os.chmod(tmp_path / "k", 0o600)
    return exe, KEY


def publisher_key(exe, tmp_path):
    """`ava3 keygen --signing` into tmp_path/publisher.key; the raw Ed25519
    public key of its .pub file."""
    subprocess.run([exe, "keygen", "--signing", "-o", str(tmp_path / "publisher.key")],
                   check=True, capture_output=True)
    return serialization.load_pem_public_key(
        (tmp_path / "publisher.key.pub").read_bytes()).public_bytes_raw()


def test_rust_cli_output_decodes_in_python(tmp_path):
    exe, key = cli_with_key(tmp_path)
    model = tmp_path / "m.amm"
    data = os.urandom(300_001)
    model.write_bytes(data)
    subprocess.run([exe, "encode", "--quiet", "--key-file", str(tmp_path / "k"), str(model)],
                   check=True)
    out = bytearray()
    digest = ava3_ref.decode((tmp_path / "m.amm.ava3").read_bytes(), [key], out.extend)
    assert bytes(out) == data
    assert digest == hashlib.sha256(data).digest()


def test_python_output_decodes_in_rust_cli(tmp_path):
    exe, key = cli_with_key(tmp_path)
    data = os.urandom(200_000)
    (tmp_path / "p.ava3").write_bytes(ava3_ref.encode(key, data, os.urandom(32), 4096, 1))
    subprocess.run([exe, "decode", "--quiet", "--key-file", str(tmp_path / "k"),
                    str(tmp_path / "p.ava3"), "-o", str(tmp_path / "p.out")], check=True)
    assert (tmp_path / "p.out").read_bytes() == data


def test_rust_cli_signature_and_public_key_file_verify_in_openssl(tmp_path):
    """`ava3 keygen --signing` writes PEM that OpenSSL reads; `ava3 encode
    --sign` writes a signature OpenSSL and this implementation accept."""
    exe, key = cli_with_key(tmp_path)
    subprocess.run([exe, "keygen", "--signing", "-o", str(tmp_path / "pub.key")], check=True,
                   capture_output=True)
    pub_pem = (tmp_path / "pub.key.pub").read_bytes()
    # OpenSSL reads both key files.
    subprocess.run(["openssl", "pkey", "-in", str(tmp_path / "pub.key"), "-noout"], check=True)
    der = subprocess.run(["openssl", "pkey", "-pubin", "-in", str(tmp_path / "pub.key.pub"),
                          "-outform", "DER"], check=True, capture_output=True).stdout
    pk = der[-32:]
    assert serialization.load_pem_public_key(pub_pem).public_bytes_raw() == pk
    model = tmp_path / "m.amm"
    data = os.urandom(150_001)
    model.write_bytes(data)
    subprocess.run([exe, "encode", "--quiet", "--key-file", str(tmp_path / "k"),
                    "--sign", str(tmp_path / "pub.key"), "--name", "m", "--model-version", "7",
                    str(model)], check=True)
    body = (tmp_path / "m.amm.ava3").read_bytes()
    message, section = ava3_ref.signature_parts(body)
    assert [sid for sid, _ in section] == [ava3_ref.signer_id(pk)]
    assert openssl_verifies(tmp_path, pk, message, section[0][1])
    ava3_ref.verify_signed(body, ava3_ref.Require([pk], b"m", 7))
    out = bytearray()
    ava3_ref.decode(body, [key], out.extend, ava3_ref.Require([pk], b"m", 7))
    assert bytes(out) == data


def test_python_signed_output_verifies_in_rust_cli(tmp_path):
    """A file signed by this implementation passes `ava3 verify --signer`
    with no master key, and is refused under another signer."""
    exe, key = cli_with_key(tmp_path)
    data = os.urandom(70_000)
    (tmp_path / "p.ava3").write_bytes(ava3_ref.encode(key, data, os.urandom(32), 4096, 1,
                                                      b"py-model", 3, [SEED_A]))
    pem = Ed25519PublicKey.from_public_bytes(public(SEED_A)).public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    (tmp_path / "a.pub").write_bytes(pem)
    (tmp_path / "b.pub").write_bytes(Ed25519PublicKey.from_public_bytes(public(SEED_B)).public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    env = {k: v for k, v in os.environ.items() if not k.startswith("AVA3_")}
    ok = subprocess.run([exe, "verify", "--signer", str(tmp_path / "a.pub"), "--name",
                         "py-model", "--min-version", "3", str(tmp_path / "p.ava3")],
                        capture_output=True, text=True, env=env)
    assert ok.returncode == 0, ok.stderr
    bad = subprocess.run([exe, "verify", "--signer", str(tmp_path / "b.pub"),
                          str(tmp_path / "p.ava3")], capture_output=True, text=True, env=env)
    assert bad.returncode == 1 and "unknown signer" in bad.stdout, bad.stdout + bad.stderr


def test_strict_verification_refuses_what_openssl_accepts(tmp_path):
    """Spec 2: R = identity, S = k*a mod L satisfies the cofactorless
    equation; OpenSSL and `cryptography` accept it, the strict verifier of
    the spec (and every ava3 reader: vector signature_small_order_r) does
    not. A genuine signature passes both."""
    _, body = parse(ROOT / "testdata" / "vectors" / "signature_small_order_r")
    message, [(sid, sig)] = ava3_ref.signature_parts(body)
    pk = public(SEED_OF[sid])
    assert sig[:32] == bytes([1]) + bytes(31)
    assert openssl_verifies(tmp_path, pk, message, sig)
    Ed25519PublicKey.from_public_bytes(pk).verify(sig, message)
    assert not ava3_ref.ed25519_verify(pk, message, sig)
    good = Ed25519PrivateKey.from_private_bytes(SEED_A).sign(message)
    assert ava3_ref.ed25519_verify(pk, message, good)
    # S >= L (S + L, the same S modulo L) is refused by all.
    s = (int.from_bytes(good[32:], "little") + ava3_ref.ED_L).to_bytes(32, "little")
    assert not ava3_ref.ed25519_verify(pk, message, good[:32] + s)


SMALL_ORDER_KEYS = [
    "0100000000000000000000000000000000000000000000000000000000000000",
    "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    "0000000000000000000000000000000000000000000000000000000000000000",
    "0000000000000000000000000000000000000000000000000000000000000080",
    "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
    "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
]


@pytest.mark.parametrize("hexkey", SMALL_ORDER_KEYS + [
    # Non-canonical: y = p + 1 (the identity), y = p + 3.
    "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    "f0ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
])
def test_untrustworthy_keys_are_refused_before_the_file_is_read(hexkey):
    """Spec 2 and 7.5: a small-order or non-canonical key is never trusted
    (outcome `other`, a caller error), so the identity key's forgery
    R = identity, S = 0, valid for every message, is never reached."""
    pk = bytes.fromhex(hexkey)
    assert not ava3_ref.public_key_ok(pk)
    _, body = parse(ROOT / "testdata" / "vectors" / "success_v2_signed")
    with pytest.raises(ava3_ref.Failure) as e:
        ava3_ref.verify_signed(body, ava3_ref.Require([pk]))
    assert e.value.outcome == "other"
    with pytest.raises(ava3_ref.Failure) as e:
        ava3_ref.decode(body, [KEY], lambda b: None, ava3_ref.Require([pk]))
    assert e.value.outcome == "other"
    if hexkey == SMALL_ORDER_KEYS[0]:
        forged = bytes([1]) + bytes(63)
        assert not ava3_ref.ed25519_verify(pk, b"any message", forged)


def test_a_requirement_without_authentication_is_a_caller_error():
    """Spec 7.5: a name or minimum version with neither a key nor a trusted
    signer is refused before the file is read."""
    for req in (ava3_ref.Require(name=b"ava3-test-model"), ava3_ref.Require(min_version=1)):
        with pytest.raises(ava3_ref.Failure) as e:
            ava3_ref.verify_signed(b"", req)
        assert e.value.outcome == "other"


def test_manifest_paths():
    """Spec appendix E: which `output` paths a reader opens."""
    for path in ("a.ava3", "sub/b.amm.ava3", "..x/y"):
        assert ava3_ref.manifest_path_ok(path, signed=False)
    assert ava3_ref.manifest_path_ok("../out/a.ava3", signed=True)
    for path in ("", "/etc/passwd", "../a", "a/../../b", "a//b", "./a", "C:x", "a\\b"):
        assert not ava3_ref.manifest_path_ok(path, signed=False), path
    assert not ava3_ref.manifest_path_ok("/abs/a", signed=True)


def test_rust_cli_signed_manifest_verifies_in_python_and_openssl(tmp_path):
    """Spec appendix E: `ava3 encode --batch --sign` writes
    ava3-manifest.json and ava3-manifest.json.sig, one Ed25519 signature
    over "AVA3-manifest-v1" || 00 || the manifest's bytes, which this
    implementation and OpenSSL verify with the public key."""
    import json
    exe, _ = cli_with_key(tmp_path)
    pk = publisher_key(exe, tmp_path)
    src = tmp_path / "models"
    src.mkdir()
    (src / "a.amm").write_bytes(os.urandom(5000))
    (src / "b.amm").write_bytes(os.urandom(70_000))
    out = tmp_path / "out"
    subprocess.run([exe, "encode", "--quiet", "--key-file", str(tmp_path / "k"), str(src),
                    "--batch", "--sign", str(tmp_path / "publisher.key"), "-o", str(out)],
                   check=True)
    manifest = (out / "ava3-manifest.json").read_bytes()
    sig = (out / "ava3-manifest.json.sig").read_bytes()
    assert len(sig) == 64
    assert ava3_ref.verify_manifest(manifest, sig, [pk]) == ava3_ref.signer_id(pk)
    with pytest.raises(ava3_ref.Failure) as e:
        ava3_ref.verify_manifest(manifest + b" ", sig, [pk])
    assert e.value.outcome == "unknown signer"
    # Domain separation: not a signature over the bare bytes.
    assert not ava3_ref.ed25519_verify(pk, manifest, sig)
    assert openssl_verifies(tmp_path, pk, ava3_ref.manifest_message(manifest), sig)
    parsed = json.loads(manifest)
    assert parsed["manifest_version"] == 1
    for entry in parsed["files"]:
        assert ava3_ref.manifest_path_ok(entry["output"], signed=True)
        body = (out / entry["output"]).read_bytes()
        if "output_sha256" in entry:
            assert hashlib.sha256(body).hexdigest() == entry["output_sha256"]
        assert entry["signers"] == [ava3_ref.signer_id(pk).hex()]
        ava3_ref.verify_signed(body, ava3_ref.Require([pk]))


def test_rust_cli_signed_checksums_verify_in_python_and_openssl(tmp_path):
    """Spec appendix E.4: `ava3 checksums DIR --sign` writes SHA256SUMS (in
    sha256sum's format, sorted, every file below DIR) and SHA256SUMS.sig,
    one Ed25519 signature over "AVA3-checksums-v1" || 00 || the list's
    bytes, which this implementation and OpenSSL verify; the manifest's
    label does not verify it, and the list parses as E.4 says."""
    exe, _ = cli_with_key(tmp_path)
    pk = publisher_key(exe, tmp_path)
    rel = tmp_path / "rel"
    (rel / "wheels").mkdir(parents=True)
    files = {"wheels/a b.whl": os.urandom(3000), "ava3.h": b"/* header */\n", "bin/ava3": os.urandom(100)}
    for name, body in files.items():
        (rel / name).parent.mkdir(parents=True, exist_ok=True)
        (rel / name).write_bytes(body)
    subprocess.run([exe, "checksums", str(rel), "--sign", str(tmp_path / "publisher.key"), "--quiet"], check=True)
    listing = (rel / "SHA256SUMS").read_bytes()
    sig = (rel / "SHA256SUMS.sig").read_bytes()
    assert len(sig) == 64
    assert ava3_ref.verify_checksums(listing, sig, [pk]) == ava3_ref.signer_id(pk)
    assert not ava3_ref.ed25519_verify(pk, ava3_ref.manifest_message(listing), sig)
    assert openssl_verifies(tmp_path, pk, ava3_ref.CHECKSUMS_LABEL + listing, sig)
    entries = ava3_ref.parse_checksums(listing)
    assert [p for _, p in entries] == sorted(files, key=lambda p: p.encode())
    for digest, path in entries:
        assert hashlib.sha256(files[path]).digest() == digest
    with pytest.raises(ava3_ref.Failure) as e:
        ava3_ref.verify_checksums(listing + b"\n", sig, [pk])
    assert e.value.outcome == "unknown signer"
    for bad in (b"", listing.replace(b"\n", b"\r\n"), listing[:-1], listing + listing.splitlines(True)[0]):
        with pytest.raises(ValueError):
            ava3_ref.parse_checksums(bad)
