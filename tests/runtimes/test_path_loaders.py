"""Runtimes that take only a path load a protected model by the path of the
decoder's sealed memfd, /proc/self/fd/N:

- MediaPipe Tasks: ImageClassifier with BaseOptions(model_asset_path=...)
  on a bare TFLite classifier (uint8 image input, no TFLite metadata, so
  nothing is downloaded and no metadata writer is needed); the
  classification through the memfd's path equals the one through the
  plaintext file's path, and both equal LiteRT's scores for the model.
- LiteRT: ai_edge_litert Interpreter(model_path=...) on tiny-fc.amr;
  outputs bit-identical to the plaintext model's, loaded by its own path.
- TVM's ffi.ModuleLoadFromFile, the function tvm4j's Module.load calls:
  it picks the loader from the file name's extension, so /proc/self/fd/N
  itself is refused ("Failed to get file format") and a symlink named *.so
  that points at it loads (the pattern examples/README.md gives).

MediaPipe and LiteRT memory-map the file they are given; their tests check
that the runtime really mapped the memfd (a shared read-only mapping of its inode in
/proc/self/maps), so the model is read from the sealed memory, not copied
through a file. llama.cpp by path with mmap on is the C program
runtimes/llama_path.c, run by tests/llama-cpp.sh with the real libllama.

Run by tests/runtimes.sh (with test_runtimes.py); a missing package fails
the test with its name.
"""

import importlib
import os
import pathlib

import numpy as np
import pytest

from ava_toolchain import ava3

from runtime_helpers import (  # noqa: F401
    DEV_KEY, KEY, KEY_FILE, ROOT, encode, invoke_all, need, no_plaintext_files)


class MemfdPath:
    """The plaintext of an .ava3 file in the decoder's sealed memfd; `path`
    is /proc/self/fd/N, valid while the descriptor is open (the `with`
    block: the runtime must be done with the model before it ends)."""

    def __init__(self, enc):
        with ava3.open(enc, keys=DEV_KEY) as d:
            self.fd = d.to_memfd()
        self.path = f"/proc/self/fd/{self.fd}"

    def __enter__(self):
        assert os.readlink(self.path).startswith("/memfd:ava3-model")
        return self

    def __exit__(self, *exc):
        os.close(self.fd)

    def mapped(self):
        """True if this process has a shared read-only mapping of the memfd
        (as a runtime's mmap of the path makes)."""
        ino = os.fstat(self.fd).st_ino
        for line in pathlib.Path("/proc/self/maps").read_text().splitlines():
            f = line.split(maxsplit=5)
            if len(f) == 6 and f[1] == "r--s" and int(f[4]) == ino and f[5].startswith("/memfd:"):
                return True
        return False


# ---------------------------------------------------------------- MediaPipe

H, W, CLASSES = 8, 8, 4


def classifier_tflite():
    """A bare TFLite image classifier, deterministic: image uint8[1,8,8,3]
    (scale 1/255) -> DEQUANTIZE -> FULLY_CONNECTED(W[4,192], b[4]) ->
    scores float32[1,4]. A uint8 image input needs no normalization
    metadata, so MediaPipe's ImageClassifier takes it as it is (categories
    are then named by index only). Built with the TFLite schema's object
    API that the mediapipe wheel ships."""
    flatbuffers = need("flatbuffers")
    s = need("mediapipe.tasks.metadata.schema_py_generated")
    rng = np.random.default_rng(24)
    weights = (rng.standard_normal((CLASSES, H * W * 3)) * 0.05).astype(np.float32)
    bias = rng.standard_normal(CLASSES).astype(np.float32)

    def buffer(data=None):
        b = s.BufferT()
        if data is not None:
            b.data = np.frombuffer(data.tobytes(), dtype=np.uint8)
        return b

    def tensor(name, shape, kind, buf, quant=None):
        t = s.TensorT()
        t.name, t.shape, t.type, t.buffer = name, list(shape), kind, buf
        if quant:
            t.quantization = s.QuantizationParametersT()
            t.quantization.scale, t.quantization.zeroPoint = [quant[0]], [quant[1]]
        return t

    def operator(code, inputs, outputs):
        o = s.OperatorT()
        o.opcodeIndex, o.inputs, o.outputs = code, inputs, outputs
        return o

    def opcode(code):
        c = s.OperatorCodeT()
        c.builtinCode = c.deprecatedBuiltinCode = code
        c.version = 1
        return c

    g = s.SubGraphT()
    g.name = "main"
    g.tensors = [
        tensor("image", [1, H, W, 3], s.TensorType.UINT8, 1, (1 / 255, 0)),
        tensor("pixels", [1, H, W, 3], s.TensorType.FLOAT32, 2),
        tensor("W", [CLASSES, H * W * 3], s.TensorType.FLOAT32, 3),
        tensor("b", [CLASSES], s.TensorType.FLOAT32, 4),
        tensor("scores", [1, CLASSES], s.TensorType.FLOAT32, 5),
    ]
    g.inputs, g.outputs = [0], [4]
    g.operators = [operator(0, [0], [1]), operator(1, [1, 2, 3], [4])]
    m = s.ModelT()
    m.version = 3
    m.description = "ava3 tiny image classifier (uint8 input, no metadata)"
    m.operatorCodes = [opcode(s.BuiltinOperator.DEQUANTIZE), opcode(s.BuiltinOperator.FULLY_CONNECTED)]
    m.subgraphs = [g]
    m.buffers = [buffer(), buffer(), buffer(), buffer(weights), buffer(bias), buffer()]
    b = flatbuffers.Builder(0)
    b.Finish(m.Pack(b), file_identifier=b"TFL3")
    return bytes(b.Output())


def classify(model_path, images, while_loaded=lambda: None):
    """MediaPipe ImageClassifier from BaseOptions(model_asset_path=...):
    [(category index, score), ...] per image, all categories, best first;
    `while_loaded` is called while the classifier holds the model."""
    mp = need("mediapipe")
    from mediapipe.tasks.python import BaseOptions, vision

    options = vision.ImageClassifierOptions(base_options=BaseOptions(model_asset_path=model_path))
    out = []
    with vision.ImageClassifier.create_from_options(options) as classifier:
        while_loaded()
        for img in images:
            result = classifier.classify(mp.Image(image_format=mp.ImageFormat.SRGB, data=img))
            assert len(result.classifications) == 1
            out.append([(c.index, c.score) for c in result.classifications[0].categories])
    return out


def test_mediapipe_image_classifier_model_asset_path(tmp_path):
    plain_dir, shipped = tmp_path / "plain", tmp_path / "shipped"
    plain_dir.mkdir()
    shipped.mkdir()
    model = classifier_tflite()
    assert model[4:8] == b"TFL3"
    src = plain_dir / "classifier.amr"
    src.write_bytes(model)
    enc = encode(src, shipped / "classifier.amr.ava3")
    rng = np.random.default_rng(3)
    images = [np.ascontiguousarray(rng.integers(0, 256, (H, W, 3), dtype=np.uint8)) for _ in range(4)]

    expected = classify(str(src), images)
    with ava3.open(enc, keys=DEV_KEY) as d:
        assert d.payload_kind == "litert"
    with MemfdPath(enc) as m:

        def memfd_mapped():
            assert m.mapped(), "MediaPipe did not map the memfd"

        got = classify(m.path, images, memfd_mapped)
    assert got == expected

    # The result is the model's: every category, scores equal to LiteRT's
    # on the same image (MediaPipe feeds the 8x8 image as it is).
    interp = need("ai_edge_litert.interpreter").Interpreter(model_content=model)
    interp.allocate_tensors()
    for img, cats in zip(images, expected):
        assert sorted(i for i, _ in cats) == list(range(CLASSES))
        interp.set_tensor(interp.get_input_details()[0]["index"], img[None])
        interp.invoke()
        scores = interp.get_tensor(interp.get_output_details()[0]["index"])[0]
        np.testing.assert_allclose([s for _, s in sorted(cats)], scores, rtol=1e-5, atol=1e-6)
        assert [i for i, _ in cats] == list(np.argsort(-scores, kind="stable"))
    no_plaintext_files(shipped, model)


# ---------------------------------------------------------------- LiteRT


def test_litert_interpreter_model_path(tmp_path):
    interp_mod = need("ai_edge_litert.interpreter")
    src = ROOT / "testdata" / "samples" / "tiny-fc.amr"
    enc = encode(src, tmp_path / "tiny-fc.amr.ava3")
    rng = np.random.default_rng(2)
    inputs = [rng.standard_normal((1, 8)).astype(np.float32) for _ in range(5)]

    def run(it):
        return invoke_all(it, inputs)

    expected = run(interp_mod.Interpreter(model_path=str(src)))
    with MemfdPath(enc) as m:
        it = interp_mod.Interpreter(model_path=m.path)
        assert m.mapped(), "LiteRT did not map the memfd"
        got = run(it)
        del it
    assert len(got) == len(expected) and expected[0].shape == (1, 16)
    for e, g in zip(expected, got):
        assert np.array_equal(e, g)
    no_plaintext_files(tmp_path, src.read_bytes())


# ---------------------------------------------------------------- TVM (tvm4j)


def test_tvm_module_load_from_file_path(tmp_path):
    tvm = need("tvm")
    tvm_ffi = need("tvm_ffi")
    from tvm import te

    n = 32
    a = te.placeholder((n,), name="A", dtype="float32")
    b = te.placeholder((n,), name="B", dtype="float32")
    c = te.compute((n,), lambda i: a[i] * 2.0 - b[i], name="C")
    build = tmp_path / "build"
    build.mkdir()
    plain_so = build / "axmy.so"
    tvm.compile(te.create_prim_func([a, b, c]), target="llvm").export_library(str(plain_so))
    model = tmp_path / "axmy.amm"
    model.write_bytes(plain_so.read_bytes())
    enc = encode(model, tmp_path / "axmy.amm.ava3")
    x = np.arange(n, dtype=np.float32)
    y = np.full(n, 0.5, dtype=np.float32)

    def run(module):
        out = tvm.runtime.tensor(np.zeros(n, dtype=np.float32))
        module["main"](tvm.runtime.tensor(x), tvm.runtime.tensor(y), out)
        return out.numpy()

    load_from_file = tvm_ffi.get_global_func("ffi.ModuleLoadFromFile")
    expected = run(load_from_file(str(plain_so)))
    link = tmp_path / "model-memfd.so"
    with MemfdPath(enc) as m:
        with pytest.raises(Exception, match="file format"):
            load_from_file(m.path)
        link.symlink_to(m.path)
        try:
            got = run(load_from_file(str(link)))
        finally:
            link.unlink()
    assert np.array_equal(got, expected) and np.array_equal(expected, x * 2 - y)
