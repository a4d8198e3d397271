"""Scores the label model on label attacks drawn afresh, not on the dev set's own draw.

    python benches/score_fresh_labels.py [PARQUET] [--bin target/release/shardguard] [--seed S ...]
        [--min-flip R] [--min-copy R]

PARQUET defaults to ../shared/data/poison/labelled.parquet; only its clean records are used. Per
seed, 110 labels are flipped at random and 110 records get a near-copy (one word replaced) under
another label, as in `tests/python/test_poison.py`; the audit (`poison,dedup`) runs on the result
and the recall of each kind at 1 % false-positive rate on clean records is printed. With
`--min-flip` / `--min-copy`, exits 1 when a seed's recall falls below the bound.
"""

import argparse
import os
import random
import sys
import tempfile
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from _audit import recall_at, run_audit, verdict

ROOT = Path(__file__).resolve().parent.parent


def corpus(base, seed):
    rng = random.Random(seed)
    rows = [dict(r, poison="") for r in base]
    labels = sorted({r["label"] for r in rows})
    picks = rng.sample(range(len(rows)), 220)
    for i in picks[:110]:
        rows[i] = dict(rows[i], label=rng.choice([l for l in labels if l != rows[i]["label"]]), poison="flip")
    for i in picks[110:]:
        words = rows[i]["text"].split(" ")
        words[rng.randrange(len(words))] = rng.choice(words)
        other = rng.choice([l for l in labels if l != rows[i]["label"]])
        rows.append({"text": " ".join(words), "label": other, "poison": "copy"})
    return rows


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("parquet", nargs="?", default=str(ROOT.parent / "shared/data/poison/labelled.parquet"))
    ap.add_argument("--bin", default=os.environ.get("SHARDGUARD_BIN", str(ROOT / "target/release/shardguard")))
    ap.add_argument("--seed", type=int, action="append", default=None)
    ap.add_argument("--min-flip", type=float, default=0.0)
    ap.add_argument("--min-copy", type=float, default=0.0)
    args = ap.parse_args()
    t = pq.read_table(args.parquet, columns=["text", "label", "attack_type"]).to_pylist()
    base = [{"text": r["text"], "label": r["label"]} for r in t if r["attack_type"] == "clean"]
    print(f"{'seed':>5} {'flip R@1%':>10} {'copy R@1%':>10}")
    failed = []
    for seed in args.seed or [11, 12, 13]:
        rows = corpus(base, seed)
        with tempfile.TemporaryDirectory() as d:
            path = Path(d, "corpus.parquet")
            pq.write_table(pa.Table.from_pylist(rows), path)
            _, rec, _ = run_audit(args.bin, str(path), "poison,dedup", None, "records", ["poison_score"],
                                  ["--label-column", "label"])
        scores = [s or 0.0 for s in rec.column("poison_score").to_pylist()]
        got = []
        for kind in ("flip", "copy"):
            kept = [(s, r["poison"] == kind) for s, r in zip(scores, rows) if r["poison"] in ("", kind)]
            got.append(recall_at([s for s, _ in kept], [p for _, p in kept], 0.01))
        print(f"{seed:>5} {got[0]:>10.3f} {got[1]:>10.3f}")
        for kind, r, bound in (("flip", got[0], args.min_flip), ("copy", got[1], args.min_copy)):
            if r < bound:
                failed.append(f"seed {seed}: {kind} recall {r:.3f} < {bound}")
    return verdict(failed)


if __name__ == "__main__":
    sys.exit(main())
