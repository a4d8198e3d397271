"""Runs the shardguard binary on one file for the scoring scripts beside this one."""

import json
import subprocess
import tempfile
import time
from pathlib import Path

import pyarrow.parquet as pq


def run_audit(binary: str, parquet: str, detectors: str, threads, table: str, columns: list, extra=()):
    """Audits `parquet`; returns (summary dict, the `table` output with `columns`, wall seconds)."""
    with tempfile.TemporaryDirectory() as out:
        cmd = [binary, "audit", parquet, "--out", out, "--quiet", "--detectors", detectors]
        if threads:
            cmd += ["--threads", str(threads)]
        cmd += list(extra)
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True)
        wall = time.perf_counter() - t0
        summary = json.loads(Path(out, "summary.json").read_text())
        return summary, pq.read_table(Path(out, f"{table}.parquet"), columns=columns), wall
