"""The native MLC/TVM loader (examples/mlc/ava3_tensor_cache.cc) in TVM.

Weights are written by TVM's own tooling (tvm.contrib.tvmjs.dump_tensor_cache:
params_shard_N.bin + tensor-cache.json, raw and f32-to-bf16 records, an
out-of-band shard, a record larger than one 8 MiB read piece), each shard is
encoded with the `ava3` CLI, the loader is compiled with g++ against the
apache-tvm / apache-tvm-ffi wheels and libava3_decoder, then loaded into a
child Python (ctypes.CDLL, RTLD_GLOBAL, after `import tvm`) that calls
ava3_mlc_register, so the override of vm.builtin.tensor_cache.load never
reaches this process. The child checks:

- every tensor equals, byte for byte (dtype, shape, bytes), what TVM's own
  loader gives for the plaintext shards, through tensor_cache.get and
  through MLC's param_array_from_cache("param", -1);
- a tampered shard and a wrong key raise a ValueError naming the shard and
  the ava3 result code, not the key, and add nothing to the cache (an entry
  present before stays as it was);
- a changed tensor-cache.json (tensor-cache.json is not authenticated)
  cannot reach outside the folder (a dataPath with "../") or make the loader
  write past a tensor (a negative dimension, a sub-byte dtype whose packed
  size is not the record's, a shape whose size overflows): each is a
  ValueError, checked before anything is allocated or read, and adds
  nothing;
- ava3_mlc_unregister puts TVM's loader back.

Run: cd tests/runtimes && AVA3_BIN=.../ava3 AVA3_LIB=.../libava3_decoder.so
python -m pytest -q -p no:cacheprovider test_mlc_native.py
"""

import ctypes
import json
import os
import pathlib
import shutil
import subprocess
import sys
import time

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[2]
KEY_FILE = ROOT / "testdata" / "keys" / "dev.key"
SOURCE = ROOT / "examples" / "mlc" / "ava3_tensor_cache.cc"
AVA3_BIN = pathlib.Path(os.environ.get("AVA3_BIN", ROOT / "target" / "release" / "ava3"))
AVA3_LIB = pathlib.Path(os.environ.get("AVA3_LIB", ROOT / "target" / "release" / "libava3_decoder.so"))


def build_loader(out):
    """g++ against the wheels' headers and libraries; no extra defines."""
    import tvm
    import tvm_ffi
    tvm_lib = pathlib.Path(tvm.__file__).parent / "lib"
    ffi_dir = pathlib.Path(tvm_ffi.__file__).parent
    lib_dirs = [tvm_lib, ffi_dir / "lib", AVA3_LIB.parent]
    cmd = ["g++", "-std=c++17", "-O2", "-fPIC", "-shared", "-fvisibility=hidden",
           "-Wall", "-Wextra", "-Werror", str(SOURCE),
           f"-I{ffi_dir / 'include'}", f"-I{ROOT / 'ava3-decoder-ffi' / 'include'}",
           *[f"-L{d}" for d in lib_dirs], *[f"-Wl,-rpath,{d}" for d in lib_dirs],
           "-Wl,--no-as-needed", "-ltvm_runtime", "-ltvm_ffi", "-lava3_decoder", "-lpthread",
           "-Wl,--no-undefined", "-o", str(out)]
    r = subprocess.run(cmd, capture_output=True, text=True)
    assert r.returncode == 0, f"{' '.join(cmd)}\n{r.stderr}"
    return out


def make_params():
    rng = np.random.default_rng(24)
    return {
        "param_0": rng.standard_normal((512, 512)).astype("float32"),   # 1 MiB: own shard
        "param_1": rng.standard_normal((300, 700)).astype("float32"),   # f32-to-bf16
        "param_2": rng.standard_normal((64, 100)).astype("float16"),
        "param_3": rng.integers(-128, 127, (1000,), dtype="int8"),
        "param_4": rng.integers(0, 2**32 - 1, (17, 3), dtype="uint32"),
        "param_5": rng.standard_normal((2304, 1024)).astype("float32"),  # 9 MiB: own shard, 2 pieces
        "param_6": rng.standard_normal((33,)).astype("float32"),         # f32-to-bf16, odd length
        "param_7": rng.standard_normal((3, 5, 7)).astype("float64"),
    }


def encode(src, dst):
    env = dict(os.environ, AVA3_KEY_FILE=str(KEY_FILE))
    r = subprocess.run([str(AVA3_BIN), "encode", "--kind", "mlc", "-j", "1", "-f", str(src), "-o", str(dst)],
                       capture_output=True, text=True, env=env)
    assert r.returncode == 0, r.stderr


def test_native_tensor_cache_loader(tmp_path):
    from tvm.contrib import tvmjs

    plain = tmp_path / "plain"
    tvmjs.dump_tensor_cache(make_params(), str(plain), shard_cap_mb=1, show_progress=False,
                            encode_format={"param_1": "f32-to-bf16", "param_6": "f32-to-bf16", "*": "raw"})
    meta = json.loads((plain / "tensor-cache.json").read_text())
    shards = [s["dataPath"] for s in meta["records"]]
    formats = {r["format"] for s in meta["records"] for r in s["records"]}
    assert len(shards) >= 3 and formats == {"raw", "f32-to-bf16"}, meta

    shipped = tmp_path / "shipped"
    shipped.mkdir()
    shutil.copy(plain / "tensor-cache.json", shipped)
    for s in shards:
        encode(plain / s, shipped / (s + ".ava3"))
    tampered = tmp_path / "tampered"
    shutil.copytree(shipped, tampered)
    victim = tampered / (shards[1] + ".ava3")
    data = bytearray(victim.read_bytes())
    data[len(data) // 2] ^= 0x01
    victim.write_bytes(bytes(data))

    forged = {}

    def forge(tag, change):
        folder = tmp_path / f"forged-{tag}"
        shutil.copytree(shipped, folder)
        m = json.loads((folder / "tensor-cache.json").read_text())
        change(m)
        (folder / "tensor-cache.json").write_text(json.dumps(m))
        forged[tag] = str(folder)

    def record(m, name):
        return next(r for s in m["records"] for r in s["records"] if r["name"] == name)

    # The first shard, named through the folder beside it: it exists, and
    # the loader before this check read it.
    forge("outside", lambda m: m["records"][0].update(dataPath="../shipped/" + m["records"][0]["dataPath"]))
    forge("negative", lambda m: record(m, "param_3").update(shape=[-1, 1000]))
    forge("subbyte", lambda m: record(m, "param_3").update(dtype="int4"))
    forge("overflow", lambda m: record(m, "param_3").update(shape=[2**40, 2**40]))

    so = build_loader(tmp_path / "libava3_mlc.so")
    args = {"so": str(so), "plain": str(plain), "shipped": str(shipped), "tampered": str(tampered),
            "forged": forged, "key": KEY_FILE.read_text().strip()}
    before = sorted(p.name for p in shipped.iterdir())
    r = subprocess.run([sys.executable, __file__, "child", json.dumps(args)],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout + r.stderr
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert sorted(p.name for p in shipped.iterdir()) == before  # nothing written next to the shards

    names = out["names"]
    assert len(names) == 8
    assert out["register"] == 0
    assert out["replaced"], "vm.builtin.tensor_cache.load was not overridden"
    assert out["mismatch"] == [], out["mismatch"]
    assert out["param_array_from_cache"] == len(names)
    assert out["param_array_mismatch"] == []

    shard1 = shards[1] + ".ava3"
    kind, msg = out["tampered"]
    assert kind == "ValueError" and shard1 in msg and "ava3 result 7 " in msg, msg
    assert out["after_tampered"] == [] and out["sentinel_kept"]

    for tag in forged:
        kind, msg = out[f"forged_{tag}"]
        want = "is not a file name" if tag == "outside" else "does not fit"
        assert kind == "ValueError" and want in msg, (tag, kind, msg)
        assert out[f"after_forged_{tag}"] == [] and out[f"sentinel_kept_forged_{tag}"], tag

    kind, msg = out["wrong_key"]
    assert kind == "ValueError" and shards[0] + ".ava3" in msg and "ava3 result 6 " in msg, msg
    assert out["after_wrong_key"] == [] and out["sentinel_kept_wrong_key"]
    for key in (args["key"], out["wrong_key_hex"]):
        assert key.lower() not in (out["tampered"][1] + out["wrong_key"][1]).lower()

    assert out["unregister"] == 0 and out["restored"] and out["restored_mismatch"] == []
    print(f"\nload of {out['mib']:.1f} MiB in {len(shards)} shards: TVM plaintext "
          f"{out['tvm_seconds'] * 1000:.1f} ms, ava3 native {out['ava3_seconds'] * 1000:.1f} ms")


def child(args):
    """Runs in a fresh interpreter: the override stays out of pytest's process."""
    import tvm

    def g(name):
        return tvm.get_global_func(name)

    get, clear, update = g("vm.builtin.tensor_cache.get"), g("vm.builtin.tensor_cache.clear"), \
        g("vm.builtin.tensor_cache.update")
    plain, shipped, tampered = args["plain"], args["shipped"], args["tampered"]
    meta = json.loads(pathlib.Path(plain, "tensor-cache.json").read_text())
    names = [r["name"] for s in meta["records"] for r in s["records"]]
    out = {"names": names}

    def snapshot(t):
        a = t.numpy()
        return str(t.dtype), tuple(t.shape), a.tobytes()

    def diff(expected, got):
        return [n for n in expected if got.get(n) != expected[n]]

    original = g("vm.builtin.tensor_cache.load")
    clear()
    t0 = time.perf_counter()
    original(plain, 1, 0)
    out["tvm_seconds"] = time.perf_counter() - t0
    expected = {n: snapshot(get(n)) for n in names}
    out["mib"] = sum(len(v[2]) for v in expected.values()) / 2**20
    clear()

    lib = ctypes.CDLL(args["so"], mode=ctypes.RTLD_GLOBAL)
    lib.ava3_mlc_register.argtypes = [ctypes.c_char_p]
    key = bytes.fromhex(args["key"])
    out["register"] = lib.ava3_mlc_register(key)
    load = g("vm.builtin.tensor_cache.load")
    out["replaced"] = not load.same_as(original)

    t0 = time.perf_counter()
    load(shipped, 1, 0)
    out["ava3_seconds"] = time.perf_counter() - t0
    out["mismatch"] = diff(expected, {n: snapshot(get(n)) for n in names})
    params = g("vm.builtin.param_array_from_cache")("param", -1)  # what MLC-LLM calls next
    out["param_array_from_cache"] = len(params)
    out["param_array_mismatch"] = [f"param_{i}" for i, p in enumerate(params)
                                   if snapshot(p) != expected[f"param_{i}"]]
    clear()

    sentinel = tvm.runtime.tensor(np.arange(4, dtype="int32"))

    def failing(folder, tag):
        clear()
        update("sentinel", sentinel, True)
        try:
            load(folder, 1, 0)
            out[tag] = ["no error", ""]
        except Exception as e:  # noqa: BLE001 - the kind is checked by the parent
            out[tag] = [type(e).__name__, str(e)]
        left = [n for n in names if get(n) is not None]
        kept = get("sentinel")
        kept = kept is not None and kept.numpy().tolist() == [0, 1, 2, 3]
        clear()
        return left, kept

    out["after_tampered"], out["sentinel_kept"] = failing(tampered, "tampered")
    for tag, folder in args["forged"].items():
        out[f"after_forged_{tag}"], out[f"sentinel_kept_forged_{tag}"] = failing(folder, f"forged_{tag}")
    wrong = os.urandom(32)
    out["wrong_key_hex"] = wrong.hex()
    assert lib.ava3_mlc_register(wrong) == 0
    out["after_wrong_key"], out["sentinel_kept_wrong_key"] = failing(shipped, "wrong_key")

    out["unregister"] = lib.ava3_mlc_unregister()
    g("vm.builtin.tensor_cache.load")(plain, 1, 0)
    out["restored"] = True
    out["restored_mismatch"] = diff(expected, {n: snapshot(get(n)) for n in names})
    clear()
    print(json.dumps(out))


if __name__ == "__main__" and len(sys.argv) == 3 and sys.argv[1] == "child":
    child(json.loads(sys.argv[2]))
