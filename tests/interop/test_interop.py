"""Checks the independent Python implementation (ava3_ref.py, written from the
spec) against every test vector, and the Rust encoder's output against it."""

import hashlib
import os
import pathlib
import struct
import subprocess
import sys

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).parent))
import ava3_ref  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[2]
VECTORS = sorted((ROOT / "testdata" / "vectors").iterdir())


def parse(path):
    raw = path.read_bytes()
    head, body = raw.split(b"\n\n", 1)
    fields = dict(line.split(": ", 1) for line in head.decode().splitlines())
    return fields, body


@pytest.mark.parametrize("path", VECTORS, ids=[p.name for p in VECTORS])
def test_vector_decodes_as_expected(path):
    fields, body = parse(path)
    key = bytes.fromhex(fields["key"])
    released = hashlib.sha256()
    try:
        ava3_ref.decode(body, [key], released.update)
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
    again = ava3_ref.encode(key, bytes(plaintext), body[32:64], bs, body[20])
    assert again == body


@pytest.mark.parametrize("path", [p for p in VECTORS if p.name.startswith("success")],
                         ids=lambda p: p.name)
def test_success_plaintext_is_the_seed_counter_stream(path):
    """Spec appendix A: SHA-256(seed || le64(counter)) blocks, cut to P bytes,
    bytes 0..8 set to GGUF 03 00 00 00 when the payload kind is 2."""
    fields, body = parse(path)
    length = int.from_bytes(body[24:32], "little")
    seed = fields["seed"].encode()
    stream = b"".join(hashlib.sha256(seed + struct.pack("<Q", i)).digest()
                      for i in range((length + 31) // 32))[:length]
    if body[20] == 2 and length >= 8:
        stream = b"GGUF\x03\0\0\0" + stream[8:]
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
