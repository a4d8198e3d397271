"""Peak memory of memorization counting with many distinct values, with and without spilling.

    python benches/memo_scale.py [--bin target/release/shardguard] [--records 200000] [--per-record 10]
        [--threads 1] [--limits 0,64,16]

Writes a Parquet shard of `records` records holding `per-record` random, distinct e-mail
addresses each, audits it with `--detectors pii,memorization` under each `--memory-limit` (MiB;
0 = the default), checks that every value is counted once, and prints wall time, peak resident
memory and the bytes spilled.
"""

import argparse
import json
import random
import sys
import tempfile
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from _audit import run_audit

ROOT = Path(__file__).resolve().parent.parent


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", default=str(ROOT / "target" / "release" / "shardguard"))
    ap.add_argument("--records", type=int, default=200_000)
    ap.add_argument("--per-record", type=int, default=10)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--limits", default="0,64,16")
    a = ap.parse_args()
    r = random.Random(1)
    docs = [
        f"Contact list {i}: "
        + " ".join(f"user{i}.{k}.{r.randrange(10**6)}@mail{k % 7}.com" for k in range(a.per_record))
        + " end."
        for i in range(a.records)
    ]
    expected = a.records * a.per_record
    failed = False
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "scale.parquet"
        pq.write_table(pa.table({"text": docs}), path)
        mb = sum(len(d) for d in docs) / 1e6
        print(f"{a.records} records, {mb:.1f} MB of text, {expected} distinct values; {a.threads} thread(s)")
        for lim in [int(x) for x in a.limits.split(",")]:
            extra = ["--memory-limit", str(lim)] if lim else []
            summary, _, wall, peak = run_audit(a.bin, str(path), "pii,memorization", a.threads, "pii_values",
                                               ["kind"], extra, peak_memory=True)
            m = summary["memorization"]
            ok = m["values"] == expected and m["occurrences"] == expected
            failed |= not ok
            print(f"  memory limit {str(lim) + ' MiB' if lim else 'default':>12}: {wall:6.2f} s, "
                  f"peak {peak / 2**20:6.0f} MiB, spilled {m['spilled_bytes'] / 2**20:6.0f} MiB, "
                  f"values {m['values']}{'' if ok else '  WRONG COUNT'}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
