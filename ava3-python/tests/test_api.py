"""The Python API of ava_toolchain (ava_toolchain.ava3), through the
installed wheel: keys, encode, encode_tree, verify, inspect, open() and its
reader, every outcome of the spec as its exception."""

import hashlib
import io
import json
import mmap
import os
import pickle
import stat
import sys
import threading
import time

import numpy as np
import pytest

from conftest import VECTORS, parse_vector

OUTCOME_CLASS = {
    "not ava3": "NotAva3",
    "unsupported version": "UnsupportedVersion",
    "header failure": "HeaderFailure",
    "wrong key": "WrongKey",
    "block failure": "BlockFailure",
    "truncated": "Truncated",
    "trailer failure": "TrailerFailure",
    "trailing data": "TrailingData",
    "integrity failure": "IntegrityFailure",
    "bad signature": "BadSignature",
    "unknown signer": "UnknownSigner",
    "unsigned": "Unsigned",
    "name mismatch": "NameMismatch",
    "rollback": "Rollback",
}


def sha(b):
    return hashlib.sha256(b).hexdigest()


# ---- keys ----------------------------------------------------------------


def test_keygen_writes_a_private_key_file_and_never_replaces_one(ava3, tmp_path):
    path = tmp_path / "release.key"
    key = ava3.keygen(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(path.read_text().strip()) == 64
    assert ava3.Key.from_file(path).key_id == key.key_id
    before = path.read_bytes()
    with pytest.raises(FileExistsError) as e:
        ava3.keygen(path)
    assert e.value.code == 2 and "never overwritten" in str(e.value)
    assert path.read_bytes() == before


def test_a_key_is_never_shown_or_pickled(ava3, dev_key):
    hex_key = (
        "7dcd0d969bfb71a480cd1c075878464dc9678de1ed782c2da25b6683d31322ed"
    )
    k = ava3.Key.from_hex(hex_key)
    assert k == dev_key and hash(k) == hash(dev_key)
    for text in (repr(k), str(k), repr(ava3.KeyRing([k]))):
        assert hex_key not in text and k.key_id in text
    with pytest.raises(TypeError):
        pickle.dumps(k)
    with pytest.raises(ava3.UsageError) as e:
        ava3.Key.from_hex(hex_key[:-1] + "x")
    assert hex_key[:20] not in str(e.value)


def test_key_text_given_as_a_path_is_never_shown(ava3, tmp_path, big):
    """A PEM private key or a key's hex given where the
    path of a key file belongs (Key.from_file, signers=) is never echoed."""
    hex_key = "7dcd0d969bfb71a480cd1c075878464dc9678de1ed782c2da25b6683d31322ed"
    pem = (
        "-----BEGIN PRIVATE KEY-----\n"
        "MC4CAQAwBQYDK2VwBCIEIEBBQkNERUZHSElKS0xNTk9QUVJTVFVWV1hZWltcXV5f\n"
        "-----END PRIVATE KEY-----\n"
    )
    body = pem.splitlines()[1]
    _, path = big
    calls = [
        lambda s: ava3.Key.from_file(s),
        lambda s: ava3.verify(path, signers=s),
        lambda s: ava3.verify(path, signers=[s]),
        lambda s: ava3.open(path, keys=ava3.Key.from_hex(hex_key), signers=[s]),
    ]
    for secret in (pem, hex_key, " " + hex_key + "\n"):
        for call in calls:
            with pytest.raises(Exception) as e:
                call(secret)
            text = str(e.value) + repr(e.value)
            for needle in (body, hex_key[:32], hex_key[32:], "PRIVATE KEY"):
                assert needle not in text, text
    # The private key's own bytes given as a signer are refused by name.
    with pytest.raises(ValueError) as e:
        ava3.verify(path, signers=pem.encode())
    assert "signing (private) key" in str(e.value) and body not in str(e.value)


def test_a_key_file_others_can_read_warns(ava3, tmp_path):
    path = tmp_path / "open.key"
    ava3.keygen(path)
    path.chmod(0o644)
    with pytest.warns(UserWarning, match="accessible by others"):
        ava3.Key.from_file(path)


def test_key_ring_by_key_id(ava3, dev_key, tmp_path, big):
    other = ava3.keygen(tmp_path / "other.key")
    ring = ava3.KeyRing([other, dev_key])
    assert len(ring) == 2 and dev_key.key_id in ring
    assert ring[dev_key.key_id.upper()] == dev_key
    assert set(ring.key_ids) == {dev_key.key_id, other.key_id}
    data, path = big
    with ava3.open(path, keys=ring) as r:
        assert r.key_id == dev_key.key_id
    with pytest.raises(ava3.WrongKey) as e:
        ava3.open(path, keys=ava3.KeyRing([other]))
    assert e.value.key_id == dev_key.key_id and e.value.code == 3
    with pytest.raises(TypeError):
        ava3.open(path, keys=["not a key"])


# ---- encode, verify, inspect ---------------------------------------------


@pytest.mark.parametrize("kind", ["gguf", "litert"])
def test_encode_detects_the_kind_and_round_trips(ava3, dev_key, samples, tmp_path, kind):
    src = samples[kind]
    dst = tmp_path / (src.name + ".ava3")
    result = ava3.encode(src, dst, key=dev_key)
    plain = src.read_bytes()
    assert result.payload_kind == kind and result.size == len(plain)
    assert result.plaintext_sha256 == sha(plain)
    assert result.key_id == dev_key.key_id and result.format_version == 1
    info = ava3.inspect(dst)
    assert (info.payload_kind, info.plaintext_size, info.size_check) == (kind, len(plain), "complete")
    assert info.file_size == dst.stat().st_size == info.expected_file_size
    report = ava3.verify(dst)
    assert report.level == "keyless" and report.plaintext_sha256 is None
    assert report.keyless_sha256 == result.output_keyless_sha256
    deep = ava3.verify(dst, keys=dev_key, deep=True)
    assert deep.level == "deep" and deep.plaintext_sha256 == sha(plain)
    with ava3.open(dst, keys=dev_key) as r:
        assert r.read() == plain
        assert r.payload_kind == kind and r.plaintext_sha256 == sha(plain)


def test_encode_is_the_commands_encode(ava3, dev_key, samples, tmp_path):
    """Same bytes but the salt: the file the CLI writes and the one the API
    writes have the same header fields and decode to the same model."""
    import subprocess

    src = samples["gguf"]
    a = tmp_path / "api.ava3"
    b = tmp_path / "cli.ava3"
    ava3.encode(src, a, key=dev_key, block_size=8192)
    env = dict(os.environ, AVA3_KEY=dev_key_hex())
    ava3_bin = os.path.join(os.path.dirname(sys.executable), "ava3")
    out = subprocess.run(
        [ava3_bin, "encode", str(src), "-o", str(b), "--block-size", "8192", "--json"],
        env=env, check=True, capture_output=True, text=True,
    ).stdout
    record = json.loads(out)
    ia, ib = ava3.inspect(a), ava3.inspect(b)
    assert (ia.payload_kind, ia.block_size, ia.plaintext_size, ia.file_size) == (
        ib.payload_kind, ib.block_size, ib.plaintext_size, ib.file_size)
    assert record["plaintext_sha256"] == ava3.verify(a, keys=dev_key).plaintext_sha256


def dev_key_hex():
    import pathlib

    return (pathlib.Path(__file__).resolve().parents[2] / "testdata/keys/dev.key").read_text().strip()


def test_encode_refuses_without_leaving_anything(ava3, dev_key, samples, tmp_path, big):
    _, encoded = big
    # AVA3 input, a mismatching kind, a missing input, an existing output.
    cases = [
        (encoded, tmp_path / "again.ava3", {}, ava3.InvalidInput, 1),
        (samples["litert"], tmp_path / "kind.ava3", {"kind": "gguf"}, ava3.InvalidInput, 1),
        (tmp_path / "missing.amg", tmp_path / "missing.ava3", {}, FileNotFoundError, 2),
        (samples["gguf"], tmp_path / "no" / "folder.ava3", {}, FileNotFoundError, 2),
        (samples["gguf"], tmp_path / "blocks.ava3", {"block_size": 1000}, ava3.UsageError, 2),
    ]
    for src, dst, kw, cls, code in cases:
        with pytest.raises(cls) as e:
            ava3.encode(src, dst, key=dev_key, **kw)
        assert e.value.code == code, (src, e.value)
        assert not dst.exists()
    with pytest.raises(ValueError):
        ava3.encode(samples["gguf"], tmp_path / "k.ava3", key=dev_key, kind="onnx")
    assert sorted(p.name for p in tmp_path.iterdir()) == []
    existing = tmp_path / "existing.ava3"
    existing.write_bytes(b"keep me")
    with pytest.raises(ava3.UsageError, match="exists"):
        ava3.encode(samples["gguf"], existing, key=dev_key)
    assert existing.read_bytes() == b"keep me"
    ava3.encode(samples["gguf"], existing, key=dev_key, force=True)
    assert ava3.inspect(existing).payload_kind == "gguf"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["existing.ava3"]


def test_encode_tree_with_manifest_resumes_and_reports(ava3, dev_key, samples, tmp_path):
    src = tmp_path / "models"
    (src / "llm").mkdir(parents=True)
    (src / "llm" / "a.amg").write_bytes(samples["gguf"].read_bytes())
    (src / "b.amr").write_bytes(samples["litert"].read_bytes())
    (src / "notes.txt").write_text("not a model")
    out = tmp_path / "encoded"
    report = ava3.encode_tree(src, out, key=dev_key)
    assert [(f.status, f.source) for f in report.files] == [
        ("encoded", "b.amr"), ("encoded", "llm/a.amg")]
    assert report.skipped == [("notes.txt", "not .amm/.amg/.amr")]
    assert report.failed == []
    manifest = json.loads((out / "ava3-manifest.json").read_text())
    assert str(report.manifest) == str(out / "ava3-manifest.json")
    listed = {e["source"]: e for e in manifest["files"]}
    for f in report.files:
        e = listed[f.source]
        assert f.output_sha256 == e["output_sha256"] == sha(open(f.output, "rb").read())
        assert e["plaintext_sha256"] == f.plaintext_sha256
    again = ava3.encode_tree(src, out, key=dev_key)
    assert [f.status for f in again.files] == ["up-to-date", "up-to-date"]
    # A file that cannot be encoded: the rest still is, the manifest is
    # written, and BatchFailure carries the report.
    (src / "c.amg").write_bytes((out / "b.amr.ava3").read_bytes())
    with pytest.raises(ava3.BatchFailure) as e:
        ava3.encode_tree(src, out, key=dev_key)
    assert e.value.code == 1
    assert [p for p, _ in e.value.report.failed] == ["c.amg"]
    assert "already an AVA3 file" in e.value.report.failed[0][1]
    assert len(json.loads((out / "ava3-manifest.json").read_text())["files"]) == 2
    assert not (out / "c.amg.ava3").exists()


def test_verify_needs_a_key_for_deep(ava3, big):
    _, path = big
    with pytest.raises(ava3.UsageError):
        ava3.verify(path, deep=True)


# ---- every outcome of the spec -------------------------------------------

# What a random-access reader reports (spec 8.3): it checks the length and
# the trailer at open and does not recompute the keyless digest.
RANDOM_ACCESS = {
    "block_deleted": "truncated",
    "final_block_only_tag": "truncated",
    "final_block_twice": "trailing data",
    "header_from_other_file": "trailer failure",
}


@pytest.mark.parametrize("path", VECTORS, ids=[p.name for p in VECTORS])
def test_every_vector_raises_its_outcome(ava3, path):
    fields, body = parse_vector(path)
    # What the vector's reader requires (spec 7.5).
    req = dict(
        signers=[bytes.fromhex(k) for k in fields["require-signers"]] or None,
        name=fields.get("require-name"),
        min_version=int(fields["require-min-version"]) if "require-min-version" in fields else None,
    )
    key = ava3.Key.from_hex(fields["key"])
    expect = fields["expect"]
    # The streaming check (deep verification) reports the spec's outcome.
    if expect == "success":
        report = ava3.verify(body, keys=key, deep=True, **req)
        assert report.plaintext_sha256 == fields["payload"]
        assert (report.signer is not None) == (req["signers"] is not None)
    else:
        with pytest.raises(getattr(ava3, OUTCOME_CLASS[expect])) as e:
            ava3.verify(body, keys=key, deep=True, **req)
        assert e.value.outcome == expect
        assert isinstance(e.value, ava3.Ava3Error)
        if "block" in fields:
            assert e.value.index == int(fields["block"])
    # The reader: outcome as spec 8.3 says, and never a partial result.
    ra = RANDOM_ACCESS.get(path.name, "success" if expect == "integrity failure" else expect)
    if req["signers"] is not None:
        # With the public key only, the same outcome (spec 7.5).
        if expect == "success":
            assert ava3.verify(body, **req).level == "signed"
        else:
            with pytest.raises(getattr(ava3, OUTCOME_CLASS[expect])):
                ava3.verify(body, **req)
    if ra == "success":
        with ava3.open(body, keys=key, **req) as r:
            assert sha(r.read()) == (fields["payload"] if expect == "success" else r.plaintext_sha256)
        return
    buf = bytearray(b"\xaa" * 4 * 65536)
    with pytest.raises(getattr(ava3, OUTCOME_CLASS[ra])) as e:
        with ava3.open(body, keys=key, **req) as r:
            r.readinto(buf)
    assert e.value.outcome == ra
    if ra == "block failure":
        assert e.value.index == int(fields["block"])
    # Nothing of a failed read reaches the caller: the buffer is wiped or
    # untouched.
    assert set(buf) <= {0, 0xAA}


# ---- the reader ------------------------------------------------------------


def test_reader_is_a_raw_io_with_seek_and_tell(ava3, dev_key, big):
    data, path = big
    with ava3.open(str(path), keys=dev_key) as r:
        assert isinstance(r, io.RawIOBase) and r.readable() and r.seekable()
        assert r.size == len(data) and r.block_size == 65536 and r.payload_kind == "mlc"
        assert r.read(10) == data[:10] and r.tell() == 10
        assert r.seek(-5, io.SEEK_END) == len(data) - 5
        assert r.read() == data[-5:] and r.read(3) == b""
        r.seek(65530)
        assert r.read(20) == data[65530:65550]
        r.seek(len(data) + 10)
        assert r.read(4) == b""
        r.seek(100)
        assert io.BufferedReader(r).read(70000) == data[100:70100]
    assert r.closed
    with pytest.raises(ValueError):
        r.read(1)
    with pytest.raises(ValueError):
        r.read_at(0, bytearray(1))


def test_readinto_writes_straight_into_numpy_memoryview_and_mmap(ava3, dev_key, big):
    data, path = big
    with ava3.open(path, keys=dev_key) as r:
        # A view into the middle of a bigger array: what readinto writes
        # lands in the array's own memory (no copy made on the way).
        whole = np.zeros(len(data) + 64, dtype=np.uint8)
        assert r.readinto(whole[32:32 + len(data)]) == len(data)
        assert whole[32:32 + len(data)].tobytes() == data
        assert not whole[:32].any() and not whole[-32:].any()
        # Other dtypes: bytes count, as for a file.
        f32 = np.empty(1000, dtype=np.float32)
        assert r.read_at(8, f32) == 4000 and f32.tobytes() == data[8:4008]
        mv = memoryview(bytearray(200000))
        assert r.read_at(65000, mv[1000:]) == 199000
        assert bytes(mv[1000:]) == data[65000:264000]
        m = mmap.mmap(-1, 131072)
        assert r.read_at(len(data) - 1000, m) == 1000 and m[:1000] == data[-1000:]
        with pytest.raises(BufferError):
            r.read_at(0, b"read-only bytes")
        with pytest.raises((BufferError, ValueError)):
            r.read_at(0, np.zeros((8, 8), dtype=np.uint8)[:, ::2])


def test_read_at_from_many_threads(ava3, dev_key, big):
    data, path = big
    errors = []
    with ava3.open(path, keys=dev_key) as r:
        def work(seed):
            import random

            rng = random.Random(seed)
            buf = bytearray(300000)
            for _ in range(60):
                off = rng.randrange(0, len(data))
                n = rng.randrange(1, len(buf))
                got = r.read_at(off, memoryview(buf)[:n])
                if bytes(buf[:got]) != data[off:off + n]:
                    errors.append((off, n))
        threads = [threading.Thread(target=work, args=(s,)) for s in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert errors == []


def test_reads_release_the_gil(ava3, dev_key, tmp_path):
    """While one thread decodes 128 MiB, another runs Python code: with the
    GIL held through the call it could run for at most a switch interval."""
    src = tmp_path / "large.amm"
    src.write_bytes(np.random.default_rng(1).integers(0, 256, 128 << 20, dtype=np.uint8).tobytes())
    dst = tmp_path / "large.amm.ava3"
    ava3.encode(src, dst, key=dev_key, kind="mlc")
    old = sys.getswitchinterval()
    sys.setswitchinterval(0.001)
    try:
        with ava3.open(dst, keys=dev_key) as r:
            buf = bytearray(r.size)
            inside = threading.Event()
            done = threading.Event()

            def read():
                inside.set()
                r.readinto(buf)
                done.set()

            t = threading.Thread(target=read)
            t.start()
            inside.wait()
            ran = 0.0
            while not done.is_set():
                t0 = time.perf_counter()
                sum(range(200))
                ran += time.perf_counter() - t0
            t.join()
        assert buf == src.read_bytes()
        assert ran > 0.02, f"Python ran {ran * 1000:.1f} ms beside a 128 MiB decode"
    finally:
        sys.setswitchinterval(old)


def test_sources_paths_files_descriptors_and_buffers(ava3, dev_key, big):
    import pathlib

    data, path = big
    raw = path.read_bytes()
    with open(path, "rb") as f:
        f.seek(7)
        fd = os.open(path, os.O_RDONLY)
        try:
            for source in (path, str(path), pathlib.Path(path), f, fd, raw,
                           bytearray(raw), memoryview(raw), np.frombuffer(raw, dtype=np.uint8),
                           io.BytesIO(raw)):
                with ava3.open(source, keys=dev_key) as r:
                    assert r.read_at(1000, bytearray(10)) == 10
                    assert sha(r.read()) == sha(data), type(source)
                assert ava3.inspect(source).plaintext_size == len(data)
                assert ava3.verify(source, keys=dev_key).level == "keyed"
            # The caller's file position and descriptor are left alone.
            assert f.tell() == 7
            os.fstat(fd)
        finally:
            os.close(fd)
    with pytest.raises(TypeError):
        ava3.open(12.5, keys=dev_key)
    with pytest.raises(FileNotFoundError):
        ava3.open(path.with_name("missing.ava3"), keys=dev_key)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="memfd is Linux and Android")
def test_to_memfd_is_sealed_read_only_plaintext(ava3, dev_key, big):
    data, path = big
    with ava3.open(path, keys=dev_key) as r:
        fd = r.to_memfd()
    try:
        with open(f"/proc/self/fd/{fd}", "rb") as f:
            assert f.read() == data
        m = mmap.mmap(fd, 0, mmap.MAP_SHARED, mmap.PROT_READ)
        assert m[:100] == data[:100]
        m.close()
        with pytest.raises(OSError):
            os.write(fd, b"x")
        import fcntl

        seals = fcntl.fcntl(fd, fcntl.F_GET_SEALS)
        for seal in (fcntl.F_SEAL_WRITE, fcntl.F_SEAL_GROW, fcntl.F_SEAL_SHRINK, fcntl.F_SEAL_SEAL):
            assert seals & seal
    finally:
        os.close(fd)


# ---- publisher signatures ----------------------------------------


def test_a_signed_model_is_checked_with_the_public_key(ava3, tmp_path):
    """The manual's encoder signs (`--sign`); the API checks the signature
    with the public key alone, and a device-side `open` requires it."""
    import subprocess

    cli = [sys.executable, "-m", "ava_toolchain.ava3_encoder"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("AVA3_")}
    subprocess.run(cli + ["keygen", "--signing", "-o", str(tmp_path / "pub.key")],
                   check=True, capture_output=True, env=env)
    data = os.urandom(150_000)
    (tmp_path / "m.amm").write_bytes(data)
    key_file = tmp_path / "dev.key"
    key_file.write_text("7dcd0d969bfb71a480cd1c075878464dc9678de1ed782c2da25b6683d31322ed\n")
    key_file.chmod(0o600)
    key = ava3.Key.from_file(key_file)
    subprocess.run(cli + ["encode", "-q", "--key-file", str(key_file), "--sign",
                          str(tmp_path / "pub.key"), "--name", "m", "--model-version", "4",
                          str(tmp_path / "m.amm")], check=True, env=env)
    signed = tmp_path / "m.amm.ava3"
    pub = tmp_path / "pub.key.pub"
    report = ava3.verify(signed, signers=pub, name="m", min_version=4)
    assert (report.level, report.model_name, report.model_version) == ("signed", "m", 4)
    assert report.signer is not None and len(report.signer) == 32
    with ava3.open(signed, keys=key, signers=[pub.read_bytes()], name="m") as r:
        assert r.read() == data
    with pytest.raises(ava3.Rollback):
        ava3.open(signed, keys=key, signers=pub, min_version=5)
    # A master-key holder's re-encode, unsigned: refused where a signer is required.
    ava3.encode(tmp_path / "m.amm", tmp_path / "forged.ava3", key=key)
    with pytest.raises(ava3.Unsigned):
        ava3.open(tmp_path / "forged.ava3", keys=key, signers=pub)
    with pytest.raises(ava3.Unsigned):
        ava3.verify(tmp_path / "forged.ava3", signers=pub)
    with pytest.raises(ava3.UsageError):
        ava3.verify(signed, name="m")
    with pytest.raises(ValueError):
        ava3.verify(signed, signers=b"not a key")


def test_running_the_command_in_process_gives_ctrl_c_back_to_python(tmp_path, samples):
    """The command run inside a Python process (the manual's entry point's
    main(), or run_cli) owns SIGINT only while it runs: afterwards Ctrl-C is
    Python's KeyboardInterrupt again, not an exit with status 130."""
    import subprocess

    model = tmp_path / "m.amg"
    model.write_bytes(samples["gguf"].read_bytes())
    script = f"""
import os, signal, time
from ava_toolchain._native import run_cli
assert run_cli(["ava3", "inspect", "--json", {str(model)!r}]) == 1  # not an AVA3 file
try:
    os.kill(os.getpid(), signal.SIGINT)
    time.sleep(2)
    print("no KeyboardInterrupt")
except KeyboardInterrupt:
    print("KeyboardInterrupt")
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, (done.returncode, done.stderr)
    assert done.stdout.strip().endswith("KeyboardInterrupt"), done.stdout


@pytest.mark.parametrize("call", ["encode", "encode_tree", "verify"])
def test_ctrl_c_stops_a_long_call_and_leaves_nothing(tmp_path, call):
    """Ctrl-C (SIGINT) during encode, encode_tree or verify of a large model
    raises KeyboardInterrupt as soon as the work notices (each read checks),
    and leaves no output and no temporary file. The latency is printed; the
    bound asserted is generous (the full call takes several times longer)."""
    import subprocess

    src = tmp_path / "in"
    src.mkdir()
    model = src / "big.amg"
    with open(model, "wb") as f:
        block = (b"GGUF" + bytes(range(256)) * 4096)[: 1 << 20]
        for _ in range(768):
            f.write(block)
    out = tmp_path / "out"
    out.mkdir()
    key_path = tmp_path / "dev.key"
    testdata = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "testdata")
    with open(os.path.join(testdata, "keys", "dev.key"), "rb") as f:
        key_path.write_bytes(f.read())
    key_path.chmod(0o600)
    encoded = tmp_path / "enc.ava3"
    if call == "verify":
        subprocess.run(
            [sys.executable, "-c", f"""
from ava_toolchain import ava3
ava3.encode({str(model)!r}, {str(encoded)!r}, key=ava3.Key.from_file({str(key_path)!r}))
"""],
            check=True,
            timeout=300,
        )
    invocation = {
        "encode": f"ava3.encode({str(model)!r}, {str(out / 'big.amg.ava3')!r}, key=key, threads=1)",
        "encode_tree": f"ava3.encode_tree({str(src)!r}, {str(out)!r}, key=key, threads=1)",
        "verify": f"ava3.verify({str(encoded)!r}, keys=key, deep=True)",
    }[call]
    script = f"""
import os, signal, threading, time
# A job started in the background of a non-interactive shell (the suite's
# parallel part) inherits SIGINT ignored, and Python then leaves it so:
# give SIGINT back its Ctrl-C meaning, as an interactive session has it.
signal.signal(signal.SIGINT, signal.default_int_handler)
from ava_toolchain import ava3
key = ava3.Key.from_file({str(key_path)!r})
sent = []
def interrupt():
    time.sleep(0.25)
    sent.append(time.monotonic())
    os.kill(os.getpid(), signal.SIGINT)
threading.Thread(target=interrupt, daemon=True).start()
try:
    {invocation}
    print("finished")
except KeyboardInterrupt:
    print("KeyboardInterrupt after %.3f s" % (time.monotonic() - sent[0]))
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, (done.returncode, done.stderr)
    line = done.stdout.strip()
    print(f"{call}: {line}")
    assert line.startswith("KeyboardInterrupt after"), line
    assert float(line.split()[2]) < 2.0, line
    assert sorted(p.name for p in out.iterdir()) == [], "output or temporary left"


def test_the_exception_classes_are_the_core_outcome_table(ava3):
    """One outcome table (the core's Outcome: code, name): every outcome of
    the spec but success and other has its exception class of that name,
    exported by ava_toolchain.errors and ava_toolchain.ava3, and raised with
    that outcome name; the C ABI's result codes are proven against the same
    table in ava3-decoder-ffi (result.rs)."""
    from ava_toolchain import _native, errors

    names = {name for _, name, _ in _native.OUTCOMES}
    assert {"NotAva3", "BlockFailure", "Rollback", "Unsigned"} <= names
    for code, name, spec in _native.OUTCOMES:
        if name in ("Success", "Other"):
            continue
        cls = getattr(errors, name)
        assert issubclass(cls, errors.Ava3Error), name
        assert name in errors.__all__, name
        assert getattr(ava3, name) is cls, name
        assert 3 <= code <= 21 and spec.replace(" ", "").lower() == name.lower().replace("ava3", "ava3"), (code, name, spec)
    classes = {
        n for n in errors.__all__ if isinstance(getattr(errors, n), type) and n not in
        ("Ava3Error", "InvalidInput", "UsageError", "BatchFailure")
    }
    assert classes == names - {"Success", "Other"}


def test_encode_and_encode_tree_sign_and_inspect_shows_it(ava3, dev_key, samples, tmp_path):
    """sign=, name= and model_version= do what --sign, --name and
    --model-version do: the output verifies under the public key alone with
    the name and version required, encode_tree signs the manifest, and
    inspect shows the name, the version and the signer ids."""
    import subprocess

    pub = tmp_path / "publisher.key.pub"
    subprocess.run(
        [sys.executable, "-m", "ava_toolchain.ava3_encoder", "keygen", "--signing", "-o",
         str(tmp_path / "publisher.key")],
        check=True, capture_output=True,
    )
    signing = tmp_path / "publisher.key"
    out = tmp_path / "m.amg.ava3"
    done = ava3.encode(samples["gguf"], out, key=dev_key, sign=signing, name="tiny", model_version=7)
    assert done.model_name == "tiny" and done.model_version == 7 and len(done.signers) == 1
    r = ava3.verify(out, signers=pub, name="tiny", min_version=7)
    assert r.level == "signed" and r.signer == done.signers[0]
    with pytest.raises(ava3.Rollback):
        ava3.verify(out, signers=pub, min_version=8)
    info = ava3.inspect(out)
    assert (info.model_name, info.model_version, info.signers) == ("tiny", 7, done.signers)
    src = tmp_path / "models"
    src.mkdir()
    (src / "a.amg").write_bytes(samples["gguf"].read_bytes())
    tree = ava3.encode_tree(src, tmp_path / "enc", key=dev_key, sign=[signing], model_version=3)
    assert (tmp_path / "enc" / "ava3-manifest.json.sig").stat().st_size == 64
    assert ava3.verify(tree.files[0].output, keys=dev_key, signers=pub).level == "keyed+signed"
    with pytest.raises(ava3.UsageError, match="not a signing key"):
        ava3.encode(samples["gguf"], tmp_path / "x.ava3", key=dev_key, sign=pub)
    assert not (tmp_path / "x.ava3").exists()


def test_messages_name_python_arguments_and_help_reads_well(ava3, dev_key, samples, tmp_path):
    """A refusal points to the Python argument that fixes it, not to the
    command's flag; help(ava3) leads with the functions, leaves the
    exceptions to ava_toolchain.errors, and shows clean type hints."""
    import pydoc

    out = tmp_path / "m.ava3"
    out.write_bytes(b"keep")
    with pytest.raises(ava3.UsageError, match=r"force=True") as e:
        ava3.encode(samples["gguf"], out, key=dev_key)
    assert "--" not in str(e.value)
    with pytest.raises(ava3.InvalidInput, match=r"allow_mismatch=True"):
        ava3.encode(samples["litert"], tmp_path / "k.ava3", key=dev_key, kind="gguf")
    with pytest.raises(ava3.UsageError, match=r"encode_tree\(\)"):
        ava3.encode(tmp_path, tmp_path / "dir.ava3", key=dev_key)
    pem = tmp_path / "publisher.key"
    pem.write_text("-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIA==\n-----END PRIVATE KEY-----\n")
    pem.chmod(0o600)
    with pytest.raises(ava3.UsageError, match=r"sign= or signers="):
        ava3.Key.from_file(pem)
    doc = pydoc.render_doc(ava3, renderer=pydoc.plaintext)
    assert "ForwardRef" not in doc
    assert len(doc.splitlines()) < 800, len(doc.splitlines())
    assert doc.index("Functions: ") < doc.index("CLASSES")


def test_ctrl_c_stops_an_encode_of_a_fifo_with_no_writer(tmp_path, dev_key):
    """A FIFO with no writer given to encode: the open does not block (the
    file is then refused as not a regular file), so nothing hangs where
    Ctrl-C could not reach."""
    import subprocess

    fifo = tmp_path / "model.amg"
    os.mkfifo(fifo)
    key_path = tmp_path / "dev.key"
    testdata = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "testdata")
    with open(os.path.join(testdata, "keys", "dev.key"), "rb") as f:
        key_path.write_bytes(f.read())
    key_path.chmod(0o600)
    script = f"""
from ava_toolchain import ava3
try:
    ava3.encode({str(fifo)!r}, {str(tmp_path / 'out.ava3')!r}, key=ava3.Key.from_file({str(key_path)!r}))
    print("encoded")
except ava3.UsageError as e:
    print("refused:", e)
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("refused:") and "not a regular file" in done.stdout, done.stdout
    assert not (tmp_path / "out.ava3").exists()
