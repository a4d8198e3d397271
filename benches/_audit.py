"""Helpers of the scripts beside this one: run the shardguard binary on one file, and make the
venv a peer comparison installs its tools into."""

import json
import os
import subprocess
import tempfile
import time
from pathlib import Path

import pyarrow.parquet as pq


def run_audit(binary: str, parquet: str, detectors: str, threads, table: str, columns: list, extra=(),
              peak_memory=False):
    """Audits `parquet`; returns (summary dict, the `table` output with `columns`, wall seconds),
    and with `peak_memory` also the audit process's peak resident memory in bytes."""
    with tempfile.TemporaryDirectory() as out:
        cmd = [binary, "audit", parquet, "--out", out, "--quiet"]
        if detectors:
            cmd += ["--detectors", detectors]
        if threads:
            cmd += ["--threads", str(threads)]
        cmd += list(extra)
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        if os.waitstatus_to_exitcode(status) != 0:
            raise subprocess.CalledProcessError(os.waitstatus_to_exitcode(status), cmd)
        summary = json.loads(Path(out, "summary.json").read_text())
        table = pq.read_table(Path(out, f"{table}.parquet"), columns=columns)
        if peak_memory:
            return summary, table, wall, usage.ru_maxrss * 1024
        return summary, table, wall


def ensure_venv(venv: Path, packages: list) -> Path:
    """Creates `venv` if needed and installs `packages` into it; returns its python."""
    import sys

    py = venv / "bin" / "python"
    if not py.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run([str(py), "-m", "pip", "install", "-q", *packages], check=True)
    return py


def recall_at(scores, poisoned, fpr):
    """Share of poisoned records scoring above the clean score exceeded by `fpr` of clean ones."""
    clean = sorted((s for s, p in zip(scores, poisoned) if not p), reverse=True)
    thr = clean[int(fpr * len(clean))]
    pos = [s for s, p in zip(scores, poisoned) if p]
    return sum(1 for s in pos if s > thr) / len(pos)


def verdict(failed: list) -> int:
    """Prints each missed threshold in `failed` to stderr; the exit code: 1 when any."""
    import sys

    for f in failed:
        print("FAIL:", f, file=sys.stderr)
    return 1 if failed else 0
