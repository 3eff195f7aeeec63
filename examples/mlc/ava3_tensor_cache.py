"""MLC-LLM / TVM: load AVA3-protected weight shards without plaintext files.

MLC-LLM ships weights as params_shard_*.bin plus tensor-cache.json and loads
them with the TVM global `vm.builtin.tensor_cache.load(dir, device_type,
device_id)`. Register `install()` before the engine's first load: it replaces
that global with a loader that opens each `params_shard_N.bin.ava3` with the
`ava_toolchain` package (`pip install ./ava3-python`) and decrypts each
record with `Reader.read_at` straight into the tensor's host memory (no
copy on the way), then hands it to TVM's tensor cache. tensor-cache.json
stays plaintext (it holds names, shapes and offsets only). This module is
the reference; on a device use the native twin, ava3_tensor_cache.cc
(`ava3_mlc_register(key)`, through the C ABI's `ava3_decoder_read_at`; its
header says how an Android or iOS app registers it).

Run here: tests/runtimes/test_runtimes.py uses this module with the
apache-tvm wheel (0.27) and checks every tensor against TVM's own loader;
tests/runtimes/test_mlc_native.py does the same for the native loader.
"""

import json
import pathlib

import numpy as np
from ava_toolchain import ava3


def install(tvm, keys):
    """Replaces vm.builtin.tensor_cache.load; returns the previous loader.

    `keys` is an `ava3.Key`, an `ava3.KeyRing` or a list of keys: each shard
    is opened with the key whose id it records.
    """
    update = tvm.get_global_func("vm.builtin.tensor_cache.update")
    previous = tvm.get_global_func("vm.builtin.tensor_cache.load")

    def load(cache_path, device_type, device_id):
        folder = pathlib.Path(cache_path)
        meta = json.loads((folder / "tensor-cache.json").read_text())
        for shard in meta["records"]:
            with ava3.open(folder / (shard["dataPath"] + ".ava3"), keys=keys) as d:
                if d.size != shard["nbytes"]:
                    raise ValueError(f"{shard['dataPath']}: size {d.size}, expected {shard['nbytes']}")
                for r in shard["records"]:
                    host = np.empty(r["shape"], dtype=r["dtype"])
                    if d.read_at(r["byteOffset"], host) != r["nbytes"]:
                        raise ValueError(f"{r['name']}: short read")
                    update(r["name"], tvm.runtime.tensor(host, device=tvm.runtime.device(device_type, device_id)), True)
                    host.fill(0)

    register = getattr(tvm, "register_global_func", None) or getattr(tvm, "register_func")
    register("vm.builtin.tensor_cache.load", load, override=True)
    return previous
