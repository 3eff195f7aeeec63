"""Fixtures of the package tests. They run against the installed wheel:
tests/python-package.sh installs it and runs pytest from this folder,
which holds no copy of the package."""

import os
import pathlib
import random

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
TESTDATA = ROOT / "testdata"


@pytest.fixture(scope="session")
def ava3():
    from ava_toolchain import ava3 as module

    # The installed package, not the source tree.
    assert "site-packages" in module.__file__, module.__file__
    return module


@pytest.fixture(scope="session")
def dev_key(ava3, tmp_path_factory):
    path = tmp_path_factory.mktemp("keys") / "dev.key"
    path.write_bytes((TESTDATA / "keys" / "dev.key").read_bytes())
    path.chmod(0o600)
    return ava3.Key.from_file(path)


@pytest.fixture(scope="session")
def samples():
    return {
        "gguf": TESTDATA / "samples" / "tiny-llama.amg",
        "litert": TESTDATA / "samples" / "tiny-fc.amr",
    }


@pytest.fixture(scope="session")
def big(tmp_path_factory, ava3, dev_key):
    """A 3 MiB + 123 byte model (48 blocks and a short one) and its
    encoding with 64 KiB blocks."""
    d = tmp_path_factory.mktemp("big")
    data = random.Random(7).randbytes(3 * 1024 * 1024 + 123)
    src = d / "model.amm"
    src.write_bytes(data)
    dst = d / "model.amm.ava3"
    ava3.encode(src, dst, key=dev_key, kind="mlc")
    return data, dst


def parse_vector(path):
    raw = path.read_bytes()
    head, body = raw.split(b"\n\n", 1)
    pairs = [line.split(": ", 1) for line in head.decode().splitlines()]
    fields = dict(pairs)
    # require-signer may repeat: each line trusts one more key (appendix A).
    fields["require-signers"] = [v for k, v in pairs if k == "require-signer"]
    return fields, body


VECTORS = sorted((TESTDATA / "vectors").iterdir())
