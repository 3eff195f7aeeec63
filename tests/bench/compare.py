#!/usr/bin/env python3
"""Whole-process comparison of `ava3` against the anchors of the same run:
`rage` (age encryption, installed from crates.io into tests/.work/tools) and
`openssl dgst -sha256`. Wall time (median of N runs, and the fastest run,
file in the page cache)
and peak RSS of each process (from wait4). Ratios are computed against the
anchor measured in the same run, since these machines are shared and noisy.

    python3 tests/bench/compare.py [--size-mib 1024] [--runs 5] [--rss-sizes 256,2048]

Prints a Markdown table for BENCHMARKS.md. Needs a release build of ava3
(`cargo build --release -p ava3-cli`).
"""

import argparse
import os
import pathlib
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[2]
AVA3 = ROOT / "target" / "release" / "ava3"
TOOLS = ROOT / "tests" / ".work" / "tools" / "bin"


def run(cmd, env=None, stdout=subprocess.DEVNULL):
    """Runs cmd, returns (wall seconds, peak RSS in MiB)."""
    start = time.perf_counter()
    p = subprocess.Popen(cmd, env=env, stdout=stdout, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(p.pid, 0)
    wall = time.perf_counter() - start
    err = p.stderr.read().decode(errors="replace")
    p.stderr.close()
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"command failed: {' '.join(map(str, cmd))}\n{err}")
    return wall, usage.ru_maxrss / 1024


def measure(cmd, runs, env=None, outputs=()):
    """Median wall time and max RSS over `runs`. Before each run the outputs
    are removed and dirty pages written back (`sync`), so that no run pays
    for the previous one's writeback or file deletion."""
    results = []
    for _ in range(runs):
        for o in outputs:
            pathlib.Path(o).unlink(missing_ok=True)
        os.sync()
        results.append(run(cmd, env))
    return statistics.median(r[0] for r in results), max(r[1] for r in results)


SAMPLES = []


def measure_pair(cmd, anchor, runs, env, outputs=()):
    """Alternates anchor and ava3 runs so that both see the same machine.
    Every sample is kept for the table of runs."""
    mine, theirs = [], []
    for _ in range(runs):
        theirs.append(measure(anchor, 1, None, outputs))
        mine.append(measure(cmd, 1, env, outputs))
    SAMPLES.append(([x[0] for x in mine], [x[0] for x in theirs]))
    med = lambda xs: (statistics.median(x[0] for x in xs), max(x[1] for x in xs))
    return med(mine), med(theirs)


def make_input(path, mib):
    """Incompressible-looking data, written once."""
    chunk = os.urandom(1 << 20)
    with open(path, "wb") as f:
        for i in range(mib):
            f.write(chunk[i % 251:] + chunk[: i % 251])


def warm(path):
    with open(path, "rb") as f:
        while f.read(8 << 20):
            pass


def ensure_rage():
    rage = TOOLS / "rage"
    if not rage.exists():
        subprocess.run(["cargo", "install", "--locked", "--root", str(TOOLS.parent), "rage"], check=True)
    return rage, TOOLS / "rage-keygen"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--size-mib", type=int, default=1024)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--rss-sizes", default="256,2048")
    ap.add_argument("--dir", default=None, help="working folder (default: a temp folder)")
    a = ap.parse_args()
    if not AVA3.exists():
        sys.exit("build first: cargo build --release -p ava3-cli")
    rage, rage_keygen = ensure_rage()
    work = pathlib.Path(a.dir or tempfile.mkdtemp(prefix="ava3-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    key = work / "bench.key"
    if key.exists():
        key.unlink()
    subprocess.run([AVA3, "keygen", "-o", key], check=True, stdout=subprocess.DEVNULL)
    env = dict(os.environ, AVA3_KEY_FILE=str(key))
    identity = work / "age.key"
    if not identity.exists():
        subprocess.run([rage_keygen, "-o", identity], check=True, stderr=subprocess.DEVNULL)
    recipient = next(
        line.split(": ", 1)[1] for line in identity.read_text().splitlines() if "public key" in line
    )

    src = work / f"model-{a.size_mib}.amm"
    if not src.exists():
        make_input(src, a.size_mib)
    enc = work / "model.amm.ava3"
    age = work / "model.age"
    warm(src)
    rows = []

    def row(name, cmd, anchor_name, anchor_cmd, target, outputs=(), cmd_env=None):
        (t, rss), (t_anchor, rss_anchor) = measure_pair(cmd, anchor_cmd, a.runs, cmd_env or env, outputs)
        rows.append((name, t, rss, anchor_name, t_anchor, rss_anchor, t / t_anchor, target))

    # Encode with the output thrown away: the work of the tools alone, with
    # no output pages to allocate or write back.
    row("ava3 encode -o - > /dev/null", [AVA3, "encode", src, "-o", "-", "-q"],
        "rage -e -o /dev/null", [rage, "-e", "-r", recipient, "-o", "/dev/null", src], 0.8)
    # Encode: ava3 (computes the plaintext SHA-256 too, and fsyncs its
    # output before renaming it into place) vs rage encrypt (no fsync).
    row("ava3 encode", [AVA3, "encode", src, "-o", enc, "-q"],
        "rage -e", [rage, "-e", "-r", recipient, "-o", age, src], 0.8, outputs=(enc, age))
    # Context for the row above: rage followed by `sync`, which makes its
    # output as durable as ava3's (ava3 fsyncs only its own file).
    row("ava3 encode", [AVA3, "encode", src, "-o", enc, "-q"],
        "rage -e, then sync", ["sh", "-c", f'"{rage}" -e -r {recipient} -o "{age}" "{src}" && sync'],
        0.8, outputs=(enc, age))
    # The same with both outputs in memory (tmpfs): no disk writeback, so
    # fsync costs nothing and the row shows the work of the tools themselves.
    shm = pathlib.Path("/dev/shm")
    if shm.is_dir() and shutil.disk_usage(shm).free > 3 * (a.size_mib << 20):
        enc_m, age_m = shm / "ava3-bench.ava3", shm / "ava3-bench.age"
        row("ava3 encode, output on tmpfs", [AVA3, "encode", src, "-o", enc_m, "-q"],
            "rage -e, output on tmpfs", [rage, "-e", "-r", recipient, "-o", age_m, src], 0.8,
            outputs=(enc_m, age_m))
        enc_m.unlink(missing_ok=True)
        age_m.unlink(missing_ok=True)
    subprocess.run([AVA3, "encode", src, "-o", enc, "-q", "--force"], env=env, check=True)
    subprocess.run([rage, "-e", "-r", recipient, "-o", age, src], check=True)
    warm(enc)
    warm(age)
    row("ava3 verify (keyed)", [AVA3, "verify", "-q", enc],
        "rage -d", [rage, "-d", "-i", identity, "-o", "/dev/null", age], 0.45)
    row("ava3 decode > /dev/null", [AVA3, "decode", "-q", enc, "-o", "-"],
        "rage -d", [rage, "-d", "-i", identity, "-o", "/dev/null", age], 0.45)
    keyless_env = dict(os.environ)
    keyless_env.pop("AVA3_KEY_FILE", None)
    row("ava3 verify (keyless)", [AVA3, "verify", "-q", enc],
        "openssl dgst -sha256", ["openssl", "dgst", "-sha256", enc], 0.6, cmd_env=keyless_env)

    print(f"\nMachine: {platform.machine()}, {os.cpu_count()} cores, {platform.platform()}")
    print(f"Input: {a.size_mib} MiB in the page cache; ava3 and its anchor alternate, {a.runs} runs each,")
    print("outputs removed and `sync` before every run; median wall time, peak RSS the max over runs.\n")
    print("| command | wall (s) | peak RSS (MiB) | anchor | anchor wall (s) | ratio of medians | ratio of fastest runs | target |")
    print("|---|---:|---:|---|---:|---:|---:|---:|")
    for (name, t, rss, an, ta, _ra, ratio, target), (mine, theirs) in zip(rows, SAMPLES):
        ok = "ok" if ratio <= target else "MISSED"
        print(f"| {name} | {t:.3f} | {rss:.0f} | {an} | {ta:.3f} | {ratio:.2f} | {min(mine) / min(theirs):.2f} | <= {target} {ok} |")
    print("\nEvery run, in order (ava3 / anchor, seconds):\n")
    for r, (mine, theirs) in zip(rows, SAMPLES):
        name, anchor_name = r[0], r[3]
        pairs = ", ".join(f"{m:.2f}/{t:.2f}" for m, t in zip(mine, theirs))
        print(f"- {name} vs {anchor_name}: {pairs}")

    sizes = [int(s) for s in a.rss_sizes.split(",") if s]
    if sizes:
        print("\nPeak RSS by input size (MiB):\n")
        print("| input | encode | verify (keyed) | decode > /dev/null |")
        print("|---:|---:|---:|---:|")
        for mib in sizes:
            p = work / f"rss-{mib}.amm"
            if not p.exists():
                make_input(p, mib)
            e = work / f"rss-{mib}.amm.ava3"
            _, r1 = run([AVA3, "encode", p, "-o", e, "--force", "-q"], env)
            _, r2 = run([AVA3, "verify", "-q", e], env)
            _, r3 = run([AVA3, "decode", "-q", e, "-o", "-"], env)
            print(f"| {mib} | {r1:.0f} | {r2:.0f} | {r3:.0f} |")
            p.unlink()
            e.unlink()
    if not a.dir:
        shutil.rmtree(work)


if __name__ == "__main__":
    main()
