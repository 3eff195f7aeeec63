"""MLC-LLM / TVM: load AVA3-protected weight shards without plaintext files.

MLC-LLM ships weights as params_shard_*.bin plus tensor-cache.json and loads
them with the TVM global `vm.builtin.tensor_cache.load(dir, device_type,
device_id)`. Register `install()` before the engine's first load: it replaces
that global with a loader that opens each `params_shard_N.bin.ava3` through
libava3_decoder and decrypts each record with `ava3_decoder_read_at`
straight into the tensor's host memory, then hands it to TVM's tensor cache.
tensor-cache.json stays plaintext (it holds names, shapes and offsets only).

Run here: tests/runtimes/test_runtimes.py uses this module with the
apache-tvm wheel (0.27) and checks every tensor against TVM's own loader.
"""

import json
import pathlib

import numpy as np


def install(tvm, open_decoder):
    """Replaces vm.builtin.tensor_cache.load; returns the previous loader.

    `open_decoder(path)` returns an object with `.size` and
    `.read_into(offset, numpy_array)` whose key is already set (for example
    tests/runtimes/ava3_ffi.Decoder).
    """
    update = tvm.get_global_func("vm.builtin.tensor_cache.update")
    previous = tvm.get_global_func("vm.builtin.tensor_cache.load")

    def load(cache_path, device_type, device_id):
        folder = pathlib.Path(cache_path)
        meta = json.loads((folder / "tensor-cache.json").read_text())
        for shard in meta["records"]:
            d = open_decoder(folder / (shard["dataPath"] + ".ava3"))
            try:
                if d.size != shard["nbytes"]:
                    raise ValueError(f"{shard['dataPath']}: size {d.size}, expected {shard['nbytes']}")
                for r in shard["records"]:
                    host = np.empty(r["shape"], dtype=r["dtype"])
                    if d.read_into(r["byteOffset"], host) != r["nbytes"]:
                        raise ValueError(f"{r['name']}: short read")
                    update(r["name"], tvm.runtime.tensor(host, device=tvm.runtime.device(device_type, device_id)), True)
                    host.fill(0)
            finally:
                d.close()

    register = getattr(tvm, "register_global_func", None) or getattr(tvm, "register_func")
    register("vm.builtin.tensor_cache.load", load, override=True)
    return previous
