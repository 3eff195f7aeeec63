"""LiteRT's C API, end to end in C: examples/litert/litert_load.c (driven by
litert_e2e.c) decrypts a protected .amr.ava3 with libava3_decoder into the
page-aligned buffer, hands it in place to LiteRtCreateModelFromBuffer and runs
it as a CompiledModel on the CPU, linked with the real libLiteRt.so of the
installed ai-edge-litert wheel (which ships no headers: the example declares
what it uses in examples/litert/litert_c_api.h).

- Its outputs equal, bit for bit, those of the ai_edge_litert Python
  Interpreter on the plaintext model for the same inputs (both run the
  float32 graph through the same XNNPACK CPU kernels).
- A flipped byte in a block (AVA3_RESULT_BLOCK_FAILURE, 7) and a wrong key
  (AVA3_RESULT_WRONG_KEY, 6) load nothing: the program exits with that code
  and writes no output. A protected file that is not a LiteRT model gets the
  example's own code (LOAD_ERR_MODEL, 102) after LiteRT refused it.

The model is tests/runtimes/make_tflite.py's; it is encoded by the `ava3`
binary (AVA3_BIN) with AVA3_KEY_FILE=testdata/keys/dev.key. Run by
tests/runtimes.sh.
"""

import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
KEY_FILE = ROOT / "testdata" / "keys" / "dev.key"
KEY_HEX = KEY_FILE.read_text().strip()
BIN = pathlib.Path(os.environ.get("AVA3_BIN", ROOT / "target" / "release" / "ava3"))
LIB_DIR = pathlib.Path(os.environ.get("AVA3_LIB", ROOT / "target" / "release" / "libava3_decoder.so")).parent
IN_COUNT, OUT_COUNT = 8, 16  # x[1,8] -> z[1,16]
BLOCK_FAILURE, WRONG_KEY = 7, 6  # Ava3Result
LOAD_ERR_MODEL = 102  # examples/litert/litert_load.c


def litert_dir():
    try:
        import ai_edge_litert
    except ImportError as e:
        pytest.fail(f"ai-edge-litert is missing ({e}); tests/runtimes.sh installs it")
    d = pathlib.Path(ai_edge_litert.__file__).parent
    assert (d / "libLiteRt.so").is_file(), f"no libLiteRt.so in {d}"
    return d


@pytest.fixture(scope="module")
def exe(tmp_path_factory):
    out = tmp_path_factory.mktemp("build") / "litert_e2e"
    lit = litert_dir()
    subprocess.run(["gcc", "-std=c11", "-O2", "-Wall", "-Wextra", "-Werror",
                    "-I", str(ROOT / "ava3-decoder-ffi" / "include"),
                    str(ROOT / "examples" / "litert" / "litert_load.c"),
                    str(ROOT / "tests" / "runtimes" / "litert_e2e.c"),
                    "-L", str(LIB_DIR), "-lava3_decoder", str(lit / "libLiteRt.so"),
                    f"-Wl,-rpath,{LIB_DIR}:{lit}", "-o", str(out)], check=True)
    return out


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    plain = tmp_path_factory.mktemp("plain") / "tiny-fc.amr"
    subprocess.run([sys.executable, str(ROOT / "tests" / "runtimes" / "make_tflite.py"), str(plain)], check=True)
    enc = tmp_path_factory.mktemp("enc") / "tiny-fc.amr.ava3"
    subprocess.run([str(BIN), "encode", "-q", "--force", str(plain), "-o", str(enc)], check=True,
                   env=dict(os.environ, AVA3_KEY_FILE=str(KEY_FILE)))
    return plain, enc


def run(exe, model, key_hex, inputs, out):
    inp = out.with_suffix(".in.f32")
    inputs.astype(np.float32).tofile(inp)
    return subprocess.run([str(exe), str(model), key_hex, str(IN_COUNT), str(OUT_COUNT), str(inp), str(out)],
                          capture_output=True, text=True)


def interpreter_outputs(model_bytes, inputs):
    from ai_edge_litert.interpreter import Interpreter
    it = Interpreter(model_content=model_bytes)
    it.allocate_tensors()
    i, o = it.get_input_details()[0], it.get_output_details()[0]
    assert tuple(i["shape"]) == (1, IN_COUNT) and tuple(o["shape"]) == (1, OUT_COUNT)
    outs = []
    for x in inputs:
        it.set_tensor(i["index"], x.reshape(1, IN_COUNT))
        it.invoke()
        outs.append(it.get_tensor(o["index"]).reshape(OUT_COUNT).copy())
    return np.stack(outs)


def inputs():
    return np.random.default_rng(3).standard_normal((6, IN_COUNT)).astype(np.float32)


def test_compiled_model_outputs_equal_the_interpreters(exe, models, tmp_path):
    plain, enc = models
    x = inputs()
    r = run(exe, enc, KEY_HEX, x, tmp_path / "out.f32")
    print(r.stdout, r.stderr)
    assert r.returncode == 0, r.stderr
    assert "6 runs, 8 -> 16 float32" in r.stdout
    got = np.fromfile(tmp_path / "out.f32", dtype=np.float32).reshape(len(x), OUT_COUNT)
    expected = interpreter_outputs(plain.read_bytes(), x)
    assert np.array_equal(got, expected)
    # Not a constant: the model computes something from its input.
    assert not np.array_equal(got[0], got[1])
    for p in tmp_path.iterdir():
        assert p.read_bytes() != plain.read_bytes(), f"plaintext written to {p}"


def test_tampered_block_loads_nothing(exe, models, tmp_path):
    _, enc = models
    b = bytearray(enc.read_bytes())
    b[len(b) // 2] ^= 1  # the model (1312 bytes) is one block: this byte is in its ciphertext
    bad = tmp_path / "tampered.amr.ava3"
    bad.write_bytes(bytes(b))
    r = run(exe, bad, KEY_HEX, inputs(), tmp_path / "out.f32")
    assert r.returncode == BLOCK_FAILURE, (r.returncode, r.stderr)
    assert f"load failed: {BLOCK_FAILURE}" in r.stderr
    assert not (tmp_path / "out.f32").exists()


def test_wrong_key_loads_nothing(exe, models, tmp_path):
    _, enc = models
    wrong = bytes(a ^ 0x5A for a in bytes.fromhex(KEY_HEX)).hex()
    r = run(exe, enc, wrong, inputs(), tmp_path / "out.f32")
    assert r.returncode == WRONG_KEY, (r.returncode, r.stderr)
    assert f"load failed: {WRONG_KEY}" in r.stderr
    assert not (tmp_path / "out.f32").exists()


def test_not_a_model_is_refused_by_litert(exe, tmp_path):
    junk = tmp_path / "junk.amr"
    junk.write_bytes(np.random.default_rng(5).integers(0, 256, 3000, dtype=np.uint8).tobytes())
    enc = tmp_path / "junk.amr.ava3"
    subprocess.run([str(BIN), "encode", "-q", "--force", "--allow-mismatch", str(junk), "-o", str(enc)],
                   check=True, capture_output=True, env=dict(os.environ, AVA3_KEY_FILE=str(KEY_FILE)))
    r = run(exe, enc, KEY_HEX, inputs(), tmp_path / "out.f32")
    assert r.returncode == LOAD_ERR_MODEL, (r.returncode, r.stderr)
    assert "LiteRtCreateModelFromBuffer failed" in r.stderr
    assert not (tmp_path / "out.f32").exists()
