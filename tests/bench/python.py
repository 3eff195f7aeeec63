"""The Python package against the C ABI and the ava3 binary, in one run.
Run by tests/bench/python.sh, which builds and
installs everything:

1. decode a SIZE MiB model into a preallocated numpy buffer:
   `ava3.open(...).readinto(buf)` against the C ABI's
   `ava3_decoder_decode_to_buffer` (called once through ctypes, which adds
   nothing measurable to a single call); both time open, key check and the
   decode, each into a fresh buffer (page faults included in both);
2. encode the same plaintext: `ava3.encode()` in a Python process, and the
   manual's `python -m ava_toolchain.ava3_encoder encode`, against the
   `ava3` binary, each as a whole process.

The runs alternate (in a different order each round), so a noisy
neighbour hits every side; medians are reported, and the ratios against
the baseline of the same run. The files live in /dev/shm where there is
one, so that the outputs' fsync and the disk's writeback (the same for
every path) do not drown the difference.
"""

import ctypes
import os
import statistics
import subprocess
import sys
import time

import numpy as np
from ava_toolchain import ava3

model, keyfile, plain, lib_path, ava3_bin, runs = sys.argv[1:7]
runs = int(runs)
key = ava3.Key.from_file(keyfile)
raw_key = bytes.fromhex(open(keyfile).read().strip())

lib = ctypes.CDLL(lib_path)
P = ctypes.c_void_p
lib.ava3_decoder_open_path.argtypes = [ctypes.c_char_p, ctypes.POINTER(P)]
lib.ava3_decoder_set_key.argtypes = [P, ctypes.c_char_p, ctypes.c_size_t]
lib.ava3_decoder_plaintext_size.argtypes = [P, ctypes.POINTER(ctypes.c_uint64)]
lib.ava3_decoder_decode_to_buffer.argtypes = [P, ctypes.c_void_p, ctypes.c_size_t]
lib.ava3_decoder_free.argtypes = [P]


def c_decode():
    t0 = time.perf_counter()
    d = P()
    assert lib.ava3_decoder_open_path(model.encode(), ctypes.byref(d)) == 0
    assert lib.ava3_decoder_set_key(d, raw_key, 32) == 0
    n = ctypes.c_uint64()
    assert lib.ava3_decoder_plaintext_size(d, ctypes.byref(n)) == 0
    buf = np.empty(n.value, dtype=np.uint8)
    assert lib.ava3_decoder_decode_to_buffer(d, buf.ctypes.data, n.value) == 0
    lib.ava3_decoder_free(d)
    return time.perf_counter() - t0, buf


def py_decode():
    t0 = time.perf_counter()
    with ava3.open(model, keys=key) as r:
        buf = np.empty(r.size, dtype=np.uint8)
        assert r.readinto(buf) == r.size
    return time.perf_counter() - t0, buf


def whole_process(argv, env):
    t0 = time.perf_counter()
    subprocess.run(argv, check=True, env=env)
    return time.perf_counter() - t0


# AVA3_BENCH_RUNS_ENCODE: more rounds for the encodes, whose whole-process
# times vary more (default: the same as the decodes).
enc_runs = int(os.environ.get("AVA3_BENCH_RUNS_ENCODE", runs))
size_mib = os.path.getsize(plain) >> 20
print(f"model: {size_mib} MiB, {runs} runs, {os.cpu_count()} cores, Python {sys.version.split()[0]}")
c_times, py_times = [], []
first = None
for i in range(runs):
    pair = (("c", c_decode, c_times), ("py", py_decode, py_times))
    for name, f, out in pair[i % 2:] + pair[:i % 2]:
        t, buf = f()
        out.append(t)
        if first is None:
            first = buf
        elif i == 0:
            assert np.array_equal(first, buf), "the two paths decoded different bytes"
        del buf
first = None

out_dir = os.path.dirname(model)
env = dict(os.environ, AVA3_KEY_FILE=keyfile)
enc = {"bin": [], "api": [], "module": []}
for i in range(enc_runs):
    cases = (
        ("bin", [ava3_bin, "encode", "-q", "--force", plain, "-o", f"{out_dir}/bin.ava3"]),
        ("api", [sys.executable, "-c",
                 "import sys; from ava_toolchain import ava3; "
                 "ava3.encode(sys.argv[1], sys.argv[2], key=ava3.Key.from_file(sys.argv[3]), force=True)",
                 plain, f"{out_dir}/api.ava3", keyfile]),
        ("module", [sys.executable, "-m", "ava_toolchain.ava3_encoder", "encode", "-q", "--force",
                    plain, "-o", f"{out_dir}/module.ava3"]),
    )
    # A different order each round, so no path always runs first.
    for name, argv in cases[i % 3:] + cases[:i % 3]:
        enc[name].append(whole_process(argv, env))
for name in enc:
    os.unlink(f"{out_dir}/{name}.ava3")


def med(xs):
    return statistics.median(xs)


c, py = med(c_times), med(py_times)
print("| path | median (s) | vs baseline |")
print("|---|---:|---:|")
print(f"| C ABI `ava3_decoder_decode_to_buffer` (baseline) | {c:.3f} | |")
print(f"| Python `Reader.readinto` into numpy | {py:.3f} | {100 * (py / c - 1):+.1f} % |")
b = med(enc["bin"])
print(f"| `ava3 encode` binary (baseline; {enc_runs} runs) | {b:.3f} | |")
print(f"| Python `ava3.encode()` (whole process) | {med(enc['api']):.3f} | {100 * (med(enc['api']) / b - 1):+.1f} % |")
print(f"| `python -m ava_toolchain.ava3_encoder encode` | {med(enc['module']):.3f} | {100 * (med(enc['module']) / b - 1):+.1f} % |")
print("fastest (s):", {k: round(min(v), 3) for k, v in {"c": c_times, "py": py_times, **enc}.items()})
print("all runs (s):", {k: [round(x, 3) for x in v] for k, v in {"c": c_times, "py": py_times, **enc}.items()})
