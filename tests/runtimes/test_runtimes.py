"""Protected models load in the real runtimes, with no plaintext file:

- GGUF: gguf.GGUFReader (llama.cpp's own Python reader) over the memfd and
  over a numpy buffer that the reader fills; every tensor and metadata
  value equal.
- llama.cpp FILE* path: a C GGUF reader through ava3_decoder_fopen.
- LiteRT: ai_edge_litert Interpreter(model_content=...) from the decoded
  model; outputs identical to the unencrypted model on fixed inputs.
- TVM: a compiled module loaded from a memfd; MLC-style weight shards
  (params_shard_*.bin + tensor-cache.json) encoded, then loaded through a
  tensor-cache loader registered in TVM that decrypts each shard with
  read_at; equal to TVM's own loader on the plaintext shards.

Models are encoded and read with the installed `ava_toolchain` package
(the wheel of ava3-python), the C FILE* path with libava3_decoder. Run by
tests/runtimes.sh, which builds the library and installs the wheel and the
packages (tests/requirements.txt). A missing package fails the test with
its name.
"""

import importlib
import json
import os
import pathlib
import subprocess

import numpy as np
import pytest

from ava_toolchain import ava3

from runtime_helpers import (  # noqa: F401
    DEV_KEY, KEY, KEY_FILE, ROOT, encode, invoke_all, need, no_plaintext_files)


# ---------------------------------------------------------------- GGUF


def gguf_snapshot(reader):
    fields = {}
    for name, f in reader.fields.items():
        fields[name] = [bytes(p) for p in f.parts]
    tensors = {t.name: (t.tensor_type, tuple(t.shape), np.array(t.data).tobytes()) for t in reader.tensors}
    return fields, tensors


def test_gguf_reader_over_memfd_and_buffer(tmp_path):
    gguf = need("gguf")
    src = ROOT / "testdata" / "samples" / "tiny-llama.amg"
    enc = encode(src, tmp_path / "tiny-llama.amg.ava3")
    expected = gguf_snapshot(gguf.GGUFReader(str(src)))
    assert len(expected[1]) == 10 and "ava3.test.marker" in expected[0]

    d = ava3.open(enc, keys=DEV_KEY)
    assert d.payload_kind == "gguf"
    # 1. memfd: the reader opens /proc/self/fd/N and maps it.
    fd = d.to_memfd()
    try:
        got = gguf_snapshot(gguf.GGUFReader(f"/proc/self/fd/{fd}"))
    finally:
        os.close(fd)
    assert got == expected
    # 2. a numpy buffer the reader decodes into (no copy), handed to
    #    GGUFReader in place of its own memory map (it maps a path with
    #    np.memmap).
    arr = np.empty(d.size, dtype=np.uint8)
    assert d.readinto(arr) == d.size
    d.close()
    reader_mod = importlib.import_module("gguf.gguf_reader")
    real_memmap = reader_mod.np.memmap
    try:
        reader_mod.np.memmap = lambda path, mode="r": arr
        got = gguf_snapshot(gguf.GGUFReader("in-memory"))
    finally:
        reader_mod.np.memmap = real_memmap
    assert got == expected
    arr.fill(0)
    del arr, got
    no_plaintext_files(tmp_path, src.read_bytes())


def test_llama_cpp_file_pointer_path(tmp_path):
    src = ROOT / "testdata" / "samples" / "tiny-llama.amg"
    enc = encode(src, tmp_path / "m.amg.ava3")
    exe = tmp_path / "gguf_fileptr"
    subprocess.run(["gcc", "-std=c11", "-O2", "-Wall", "-Wextra", "-Werror",
                    "-I", str(ROOT / "ava3-decoder-ffi" / "include"),
                    str(ROOT / "tests" / "runtimes" / "gguf_fileptr.c"),
                    "-L", str(ROOT / "target" / "release"), "-lava3_decoder", "-o", str(exe)], check=True)
    out = subprocess.run([str(exe), str(enc), KEY.hex(), str(src)], capture_output=True, text=True,
                         env=dict(os.environ, LD_LIBRARY_PATH=str(ROOT / "target" / "release")))
    print(out.stdout)
    assert out.returncode == 0, out.stderr
    assert "gguf-fileptr: 1 passed, 0 failed" in out.stdout
    assert "10 tensors" in out.stdout


# ---------------------------------------------------------------- LiteRT


def run_tflite(model_bytes, inputs):
    interp_mod = need("ai_edge_litert.interpreter")
    return invoke_all(interp_mod.Interpreter(model_content=model_bytes), inputs)


def test_litert_interpreter_from_aligned_buffer(tmp_path):
    src = ROOT / "testdata" / "samples" / "tiny-fc.amr"
    enc = encode(src, tmp_path / "tiny-fc.amr.ava3")
    rng = np.random.default_rng(1)
    inputs = [rng.standard_normal((1, 8)).astype(np.float32) for _ in range(5)]
    expected = run_tflite(src.read_bytes(), inputs)
    with ava3.open(enc, keys=DEV_KEY) as d:
        assert d.payload_kind == "litert"
        got = run_tflite(d.read(), inputs)
    for e, g in zip(expected, got):
        assert np.array_equal(e, g)
    # The model computes what it says: z = x W^T + b + c (float32 tolerance).
    assert expected[0].shape == (1, 16)
    no_plaintext_files(tmp_path, src.read_bytes())


# ---------------------------------------------------------------- TVM


def test_tvm_module_from_memfd(tmp_path):
    tvm = need("tvm")
    from tvm import te

    n = 64
    a = te.placeholder((n,), name="A", dtype="float32")
    b = te.placeholder((n,), name="B", dtype="float32")
    c = te.compute((n,), lambda i: a[i] * 3.0 + b[i], name="C")
    lib = tvm.compile(te.create_prim_func([a, b, c]), target="llvm")
    build = tmp_path / "build"
    build.mkdir()
    plain_so = build / "axpy.so"
    lib.export_library(str(plain_so))
    model = tmp_path / "axpy.amm"
    model.write_bytes(plain_so.read_bytes())
    enc = encode(model, tmp_path / "axpy.amm.ava3")
    x = np.arange(n, dtype=np.float32)
    y = np.ones(n, dtype=np.float32)

    def run(module):
        out = tvm.runtime.tensor(np.zeros(n, dtype=np.float32))
        module["main"](tvm.runtime.tensor(x), tvm.runtime.tensor(y), out)
        return out.numpy()

    expected = run(tvm.runtime.load_module(str(plain_so)))
    d = ava3.open(enc, keys=DEV_KEY)
    fd = d.to_memfd()
    # TVM picks the loader from the file name's extension, and
    # tvm.runtime.load_module resolves links; so the module is loaded with
    # tvm_ffi.load_module through a symlink named *.so that points at the
    # memfd (the link holds no data; the plaintext stays in the memfd).
    link = tmp_path / "axpy-memfd.so"
    link.symlink_to(f"/proc/self/fd/{fd}")
    try:
        got = run(need("tvm_ffi").load_module(str(link)))
    finally:
        link.unlink()
        os.close(fd)
        d.close()
    assert np.array_equal(got, expected)
    assert np.array_equal(expected, x * 3 + y)


def write_tensor_cache(folder, params, shard_bytes=300_000):
    """Writes params the way MLC-LLM ships weights: raw params_shard_N.bin
    files and a tensor-cache.json describing every record."""
    records, shard, entries, idx = [], bytearray(), [], 0

    def flush():
        nonlocal shard, entries, idx
        if entries:
            name = f"params_shard_{idx}.bin"
            (folder / name).write_bytes(bytes(shard))
            records.append({"dataPath": name, "format": "raw-shard", "nbytes": len(shard), "records": entries})
            shard, entries, idx = bytearray(), [], idx + 1

    for name, arr in params.items():
        raw = arr.tobytes()
        if shard and len(shard) + len(raw) > shard_bytes:
            flush()
        entries.append({"name": name, "shape": list(arr.shape), "dtype": str(arr.dtype),
                        "format": "raw", "nbytes": len(raw), "byteOffset": len(shard)})
        shard += raw
    flush()
    (folder / "tensor-cache.json").write_text(json.dumps({"metadata": {}, "records": records}))


def test_tvm_tensor_cache_shards_through_read_at(tmp_path):
    tvm = need("tvm")
    rng = np.random.default_rng(3)
    params = {f"layer{i}.weight": rng.standard_normal((128, 256)).astype("float32") for i in range(6)}
    params["embed"] = rng.standard_normal((100, 16)).astype("float16")
    plain = tmp_path / "plain"
    plain.mkdir()
    write_tensor_cache(plain, params)
    shards = sorted(plain.glob("params_shard_*.bin"))
    assert len(shards) >= 3

    # TVM's own loader on the plaintext folder is the reference (and shows
    # the folder is a valid tensor cache).
    load = tvm.get_global_func("vm.builtin.tensor_cache.load")
    get = tvm.get_global_func("vm.builtin.tensor_cache.get")
    clear = tvm.get_global_func("vm.builtin.tensor_cache.clear", allow_missing=True)
    update = tvm.get_global_func("vm.builtin.tensor_cache.update")
    load(str(plain), 1, 0)
    expected = {name: get(name).numpy().copy() for name in params}
    for name, arr in params.items():
        assert np.array_equal(expected[name], arr)
    if clear:
        clear()

    # Ship: encrypted shards, plaintext JSON (it holds no weights).
    shipped = tmp_path / "shipped"
    shipped.mkdir()
    (shipped / "tensor-cache.json").write_text((plain / "tensor-cache.json").read_text())
    for s in shards:
        encode(s, shipped / (s.name + ".ava3"))

    # The override an app registers before MLC's first load
    # (examples/mlc/ava3_tensor_cache.py): each shard is opened with
    # ava_toolchain and each record decrypted with read_at straight into
    # the tensor's host memory.
    import sys
    sys.path.insert(0, str(ROOT / "examples" / "mlc"))
    import ava3_tensor_cache

    previous = ava3_tensor_cache.install(tvm, DEV_KEY)
    register = getattr(tvm, "register_global_func", None) or getattr(tvm, "register_func")
    try:
        if clear:
            clear()
        tvm.get_global_func("vm.builtin.tensor_cache.load")(str(shipped), 1, 0)
        for name in params:
            assert np.array_equal(get(name).numpy(), expected[name]), name
    finally:
        register("vm.builtin.tensor_cache.load", previous, override=True)
    for s in shards:
        no_plaintext_files(shipped, s.read_bytes())
