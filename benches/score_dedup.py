"""Scores the `dedup` detector on a labelled near-duplicate corpus.

    python benches/score_dedup.py [PARQUET] [--bin target/release/shardguard] [--threads N] [--config F]
        [--min-precision P] [--min-recall R] [--min-one-kept F]
        [--min-edit-recall EDIT=R ...]

PARQUET defaults to ../shared/data/dedup/dev.parquet (columns doc_id, text, cluster_id, edit).
Documents sharing `cluster_id` are duplicates. Prints pair precision/recall/F1 over same-cluster
pairs, the share of true clusters (2+ documents) left with exactly one kept copy, recall per
`edit` kind (a copy counts as found when it lands in the same predicted cluster as its cluster's
`base`), and throughput. With thresholds, exits 1 when one is missed.
"""

import argparse
import os
import sys
from collections import Counter, defaultdict
from itertools import combinations
from pathlib import Path

import pyarrow.parquet as pq

from _audit import run_audit, verdict

ROOT = Path(__file__).resolve().parent.parent


def pairs_of(groups):
    out = set()
    for members in groups.values():
        out.update(combinations(sorted(members), 2))
    return out


def score(gold, pred_cluster, keep):
    """Pair precision/recall/F1, the share of true clusters with exactly one kept copy, and per
    `edit` kind how many copies landed in their base's predicted cluster. `gold`: rows of
    {cluster_id, edit}; `pred_cluster`: row -> predicted cluster (None: unique); `keep`: row -> bool."""
    true_groups = defaultdict(list)
    for i, g in enumerate(gold):
        true_groups[g["cluster_id"]].append(i)
    pred_groups = defaultdict(list)
    for i, c in pred_cluster.items():
        if c is not None:
            pred_groups[c].append(i)
    gold_pairs = pairs_of(true_groups)
    pred_pairs = pairs_of(pred_groups)
    tp = len(gold_pairs & pred_pairs)
    p = tp / len(pred_pairs) if pred_pairs else 1.0
    r = tp / len(gold_pairs) if gold_pairs else 1.0
    multi = [m for m in true_groups.values() if len(m) > 1]
    one_kept = sum(1 for m in multi if sum(1 for i in m if keep[i]) == 1) / max(1, len(multi))
    base = {g["cluster_id"]: i for i, g in enumerate(gold) if g["edit"] == "base"}
    found, total = Counter(), Counter()
    for i, g in enumerate(gold):
        if g["edit"] == "base" or g["cluster_id"] not in base:
            continue
        total[g["edit"]] += 1
        b = base[g["cluster_id"]]
        if pred_cluster[i] is not None and pred_cluster[i] == pred_cluster[b]:
            found[g["edit"]] += 1
    return {"precision": p, "recall": r, "f1": 2 * p * r / (p + r) if p + r else 0.0,
            "gold_pairs": len(gold_pairs), "pred_pairs": len(pred_pairs), "one_kept": one_kept,
            "clusters": len(multi), "found": found, "total": total}


def print_score(s):
    print(f"pairs: gold {s['gold_pairs']} predicted {s['pred_pairs']}  P {s['precision']:.4f}  "
          f"R {s['recall']:.4f}  F1 {s['f1']:.4f}")
    print(f"clusters with exactly one kept copy: {s['one_kept']:.4f} of {s['clusters']}")
    print(f"{'edit':16} {'n':>5} {'recall':>7}")
    for e in sorted(s["total"]):
        print(f"{e:16} {s['total'][e]:5} {s['found'][e] / s['total'][e]:7.3f}")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("parquet", nargs="?", default=str(ROOT.parent / "shared/data/dedup/dev.parquet"))
    ap.add_argument("--bin", default=os.environ.get("SHARDGUARD_BIN", str(ROOT / "target/release/shardguard")))
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--config", default=None, help="a shardguard TOML config ([dedup] table)")
    ap.add_argument("--min-precision", type=float, default=None)
    ap.add_argument("--min-recall", type=float, default=None)
    ap.add_argument("--min-one-kept", type=float, default=None)
    ap.add_argument("--min-edit-recall", action="append", default=[], metavar="EDIT=R")
    args = ap.parse_args()

    gold = pq.read_table(args.parquet, columns=["cluster_id", "edit"]).to_pylist()
    summary, rec, wall, peak = run_audit(
        args.bin, args.parquet, "dedup", args.threads, "records", ["row", "dup_cluster", "dup_keep"],
        ["--config", args.config] if args.config else [], peak_memory=True,
    )
    row = rec.column("row").to_pylist()
    pred_cluster = dict(zip(row, rec.column("dup_cluster").to_pylist()))
    keep = dict(zip(row, rec.column("dup_keep").to_pylist()))
    s = score(gold, pred_cluster, keep)
    p, r, one_kept, found, total = s["precision"], s["recall"], s["one_kept"], s["found"], s["total"]
    print_score(s)
    mb = summary["text_bytes"] / 1e6
    d = summary.get("dedup", {})
    print(f"duplicate rate {d.get('duplicate_rate', 0):.4f}, clusters {d.get('clusters')}, "
          f"repeated passages {d.get('repeated_passages')}")
    print(f"text {mb:.1f} MB; audit {summary['elapsed_seconds']:.3f}s in-process "
          f"({mb / summary['elapsed_seconds']:.1f} MB/s), {wall:.3f}s process wall, "
          f"peak memory {peak / 2**20:.0f} MiB")

    failed = []
    if args.min_precision is not None and p < args.min_precision:
        failed.append(f"pair precision {p:.4f} < {args.min_precision}")
    if args.min_recall is not None and r < args.min_recall:
        failed.append(f"pair recall {r:.4f} < {args.min_recall}")
    if args.min_one_kept is not None and one_kept < args.min_one_kept:
        failed.append(f"one kept {one_kept:.4f} < {args.min_one_kept}")
    for spec in args.min_edit_recall:
        edits, _, v = spec.rpartition("=")
        for e in edits.split(","):
            rec_e = found[e] / total[e] if total[e] else 0.0
            if rec_e < float(v):
                failed.append(f"{e} recall {rec_e:.3f} < {v}")
    return verdict(failed)


if __name__ == "__main__":
    sys.exit(main())
