"""Scores the `unicode` detector on a labelled poisoning corpus.

    python benches/score_unicode.py [PARQUET] [--bin target/release/shardguard] [--min-recall R]
        [--max-benign F] [--max-clean F]

PARQUET defaults to ../shared/data/poison/pretrain.parquet (columns doc_id, text, attack_type).
Prints recall per hidden-Unicode attack type, the share of `benign_unicode` and `clean` records
flagged, and the audit's throughput. With thresholds, exits 1 when one is missed.
"""

import argparse
import os
import sys
from collections import Counter
from pathlib import Path

import pyarrow.parquet as pq

from _audit import run_audit

ROOT = Path(__file__).resolve().parent.parent
ATTACKS = ["e_bidi", "e_tag", "e_zerowidth", "f_homoglyph"]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("parquet", nargs="?", default=str(ROOT.parent / "shared/data/poison/pretrain.parquet"))
    ap.add_argument("--bin", default=os.environ.get("SHARDGUARD_BIN", str(ROOT / "target/release/shardguard")))
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--min-recall", type=float, default=None)
    ap.add_argument("--max-benign", type=float, default=None)
    ap.add_argument("--max-clean", type=float, default=None)
    args = ap.parse_args()

    table = pq.read_table(args.parquet, columns=["attack_type"])
    attack = table.column("attack_type").to_pylist()
    summary, rows, wall = run_audit(args.bin, args.parquet, "unicode", args.threads, "records", ["row", "unicode_count"])
    flagged = {r for r, c in zip(rows.column("row").to_pylist(), rows.column("unicode_count").to_pylist()) if c > 0}

    totals = Counter(attack)
    hits = Counter(a for i, a in enumerate(attack) if i in flagged)
    ok = True
    print(f"{'attack_type':<16} {'records':>8} {'flagged':>8} {'rate':>7}")
    for a in ATTACKS + ["benign_unicode", "clean"]:
        rate = hits[a] / totals[a] if totals[a] else float("nan")
        print(f"{a:<16} {totals[a]:>8} {hits[a]:>8} {rate:>7.3f}")
        if a in ATTACKS and args.min_recall is not None and rate < args.min_recall:
            ok = False
        if a == "benign_unicode" and args.max_benign is not None and rate > args.max_benign:
            ok = False
        if a == "clean" and args.max_clean is not None and rate > args.max_clean:
            ok = False
    mb = summary["text_bytes"] / 1e6
    print(f"text {mb:.1f} MB, {summary['records']} records; audit {summary['elapsed_seconds']:.3f}s "
          f"({mb / summary['elapsed_seconds']:.0f} MB/s in-process), process wall {wall:.3f}s "
          f"({mb / wall:.0f} MB/s end to end)")
    if not ok:
        print("FAILED: a threshold was missed", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
