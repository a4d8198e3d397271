"""Scores the `pii` (and, when available, `secret`) detectors on a labelled PII corpus.

    python benches/score_pii.py [PARQUET] [--bin target/release/shardguard] [--threads N]
        [--min LABEL=F1 ...] [--min-exact LABEL=F1 ...] [--min-pr LABEL=X ...] [--max-negative F]

PARQUET defaults to ../shared/data/pii/dev.parquet (columns doc_id, text, spans, negatives; spans
and negatives hold {start_byte, end_byte, label, value}). A prediction is correct when it overlaps
a gold span of the same label (exact-span figures beside it); secret kinds are pooled as SECRET;
PERSON and ADDRESS are not scored. Prints per-label precision/recall/F1 and, per hard-negative
kind, the share of negatives hit by any prediction. With thresholds, exits 1 when one is missed.
"""

import argparse
import os
import sys
from collections import defaultdict
from pathlib import Path

import pyarrow.parquet as pq

from _audit import run_audit

ROOT = Path(__file__).resolve().parent.parent
SECRETS = {"AWS_ACCESS_KEY_ID", "AWS_SECRET_KEY", "GITHUB_TOKEN", "SLACK_TOKEN", "STRIPE_KEY",
           "GOOGLE_API_KEY", "PRIVATE_KEY", "JWT", "PASSWORD"}
UNSCORED = {"PERSON", "ADDRESS"}


def pooled(label: str) -> str:
    return "SECRET" if label in SECRETS else label


def overlaps(a, b) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("parquet", nargs="?", default=str(ROOT.parent / "shared/data/pii/dev.parquet"))
    ap.add_argument("--bin", default=os.environ.get("SHARDGUARD_BIN", str(ROOT / "target/release/shardguard")))
    ap.add_argument("--threads", type=int)
    ap.add_argument("--detectors", default="pii,secret")
    ap.add_argument("--min", action="append", default=[], metavar="LABEL=F1",
                    help="minimum overlap F1 for a label (repeatable)")
    ap.add_argument("--min-exact", action="append", default=[], metavar="LABEL=F1",
                    help="minimum exact-span F1 for a label (repeatable)")
    ap.add_argument("--min-pr", action="append", default=[], metavar="LABEL=X",
                    help="minimum overlap precision and recall for a label (repeatable)")
    ap.add_argument("--max-negative", type=float, help="maximum hit rate on every hard-negative kind")
    args = ap.parse_args()

    docs = pq.read_table(args.parquet, columns=["spans", "negatives"]).to_pylist()
    summary, f, wall = run_audit(args.bin, args.parquet, args.detectors, args.threads, "findings",
                                 ["row", "kind", "start_byte", "end_byte"])
    preds = defaultdict(list)
    for row, kind, s, e in zip(*(f.column(c).to_pylist() for c in ["row", "kind", "start_byte", "end_byte"])):
        preds[row].append((pooled(kind), (s, e)))

    stats = defaultdict(lambda: defaultdict(int))  # label -> counters
    neg_total, neg_hit = defaultdict(int), defaultdict(int)
    for row, d in enumerate(docs):
        gold = [(pooled(s["label"]), (s["start_byte"], s["end_byte"])) for s in d["spans"] if s["label"] not in UNSCORED]
        p = preds.get(row, [])
        for lab, span in p:
            st = stats[lab]
            st["pred"] += 1
            st["tp_pred"] += any(g == lab and overlaps(span, gs) for g, gs in gold)
            st["tp_pred_exact"] += any(g == lab and span == gs for g, gs in gold)
        for lab, span in gold:
            st = stats[lab]
            st["gold"] += 1
            st["tp_gold"] += any(l == lab and overlaps(span, ps) for l, ps in p)
            st["tp_gold_exact"] += any(l == lab and span == ps for l, ps in p)
        for n in d["negatives"]:
            neg_total[n["label"]] += 1
            neg_hit[n["label"]] += any(overlaps((n["start_byte"], n["end_byte"]), ps) for _, ps in p)

    def prf(tp_p, pred, tp_g, gold):
        pr = tp_p / pred if pred else 0.0
        rc = tp_g / gold if gold else 0.0
        return pr, rc, (2 * pr * rc / (pr + rc) if pr + rc else 0.0)

    f1s, exact_f1s, prs = {}, {}, {}
    print(f"{'label':<14} {'gold':>5} {'pred':>5}  {'P':>6} {'R':>6} {'F1':>6}   exact: {'P':>6} {'R':>6} {'F1':>6}")
    for lab in sorted(stats):
        st = stats[lab]
        p, r, f1 = prf(st["tp_pred"], st["pred"], st["tp_gold"], st["gold"])
        pe, re_, fe = prf(st["tp_pred_exact"], st["pred"], st["tp_gold_exact"], st["gold"])
        f1s[lab] = f1
        exact_f1s[lab] = fe
        prs[lab] = min(p, r)
        print(f"{lab:<14} {st['gold']:>5} {st['pred']:>5}  {p:6.3f} {r:6.3f} {f1:6.3f}          {pe:6.3f} {re_:6.3f} {fe:6.3f}")
    print(f"\n{'hard negative':<22} {'n':>5} {'hit':>5} {'rate':>6}")
    worst = 0.0
    for lab in sorted(neg_total):
        rate = neg_hit[lab] / neg_total[lab]
        worst = max(worst, rate)
        print(f"{lab:<22} {neg_total[lab]:>5} {neg_hit[lab]:>5} {rate:6.3f}")
    mb = summary["text_bytes"] / 1e6
    print(f"\ntext {mb:.2f} MB; audit {summary['elapsed_seconds']:.3f}s in-process, {wall:.3f}s process wall")

    ok = True
    for opt, got, what in [(args.min, f1s, "F1"), (args.min_exact, exact_f1s, "exact-span F1"),
                           (args.min_pr, prs, "min(P, R)")]:
        for m in opt:
            lab, _, v = m.partition("=")
            if got.get(lab, 0.0) < float(v):
                print(f"FAILED: {lab} {what} {got.get(lab, 0.0):.3f} < {v}", file=sys.stderr)
                ok = False
    if args.max_negative is not None and worst > args.max_negative:
        print(f"FAILED: a hard-negative kind is hit {worst:.3f} > {args.max_negative}", file=sys.stderr)
        ok = False
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
