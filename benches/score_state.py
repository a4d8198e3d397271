"""Size and cost of the mergeable poison/outlier state (`ScoreState`) on the poisoning dev sets.

    python benches/score_state.py [DIR] [--parts N]

DIR defaults to ../shared/data/poison. Each file is sketched in N parts (as N workers would), the
states go through bytes and merge in order, and the merged state is finished; printed: bytes of
state per record and the time of each step. Timings mean something only with the package built
in release mode (`maturin develop --release`).
"""

import argparse
import time
from pathlib import Path

import pyarrow.parquet as pq

import shardguard

ROOT = Path(__file__).resolve().parent.parent
FILES = {
    "pretrain": {},
    "labelled": {"label_column": "label"},
    "instruct": {"prompt_column": "prompt", "response_column": "response"},
}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir", nargs="?", default=str(ROOT.parent / "shared" / "data" / "poison"))
    ap.add_argument("--parts", type=int, default=2)
    args = ap.parse_args()
    for name, kw in FILES.items():
        path = Path(args.dir, f"{name}.parquet")
        if not path.exists():
            continue
        table = pq.read_table(path)
        auditor = shardguard.Auditor(detectors=["poison", "outlier"], threads=1, **kw)
        n = table.num_rows
        cuts = [n * i // args.parts for i in range(args.parts + 1)]
        t0 = time.perf_counter()
        states = [
            auditor.score_sketch(table.slice(a, b - a), shard=str(path), first_row=a)
            for a, b in zip(cuts, cuts[1:])
        ]
        t1 = time.perf_counter()
        blobs = [s.to_bytes() for s in states]
        t2 = time.perf_counter()
        merged = shardguard.ScoreState()
        for b in blobs:
            merged = merged.merge(shardguard.ScoreState(b))
        t3 = time.perf_counter()
        result = auditor.finish_scores(merged)
        t4 = time.perf_counter()
        size = sum(len(b) for b in blobs)
        print(
            f"{name}: {n} records in {args.parts} parts, state {size / 1e6:.1f} MB ({size / n:.0f} B/record); "
            f"sketch {t1 - t0:.2f}s, to_bytes {t2 - t1:.2f}s, from_bytes+merge {t3 - t2:.2f}s, "
            f"finish {t4 - t3:.2f}s; {result.findings.num_rows} findings"
        )


if __name__ == "__main__":
    main()
