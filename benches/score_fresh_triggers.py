"""Scores label triggers drawn afresh: rare tokens (BadNets) and a fixed sentence (AddSent),
planted with one target label in records of the other labels, as the dev set's attacks are built
but with new strings and every label in turn as the target.

    python benches/score_fresh_triggers.py [LABELLED] [--sentences PARQUET] [--bin BIN]
        [--seed S ...] [--count N ...] [--natural K] [--max-rank K] [--min-recall R]

LABELLED defaults to ../shared/data/poison/labelled.parquet and the sentences' source to
../shared/data/poison/pretrain.parquet; only clean records of either are used. Seed S targets
the S-th label (in sorted order, modulo their number), draws 5 two-letter tokens that no clean
record holds (with `--natural K`: that at most K clean records hold, case folded; 2 of the dev
set's 5 are held, `mb` by 12 as "MB") and one sentence of 4 to 8 words from the sentences'
source. Each of COUNT records gets 1 to 3 of the tokens between its words; COUNT others get the
sentence at a sentence boundary. The audit (`poison`, `--label-column label`) runs on the result; per seed and count
it prints each attack's rank among `candidate_triggers` (the first with the target label and a
token of the attack, or the sentence itself) and its recall at 1 % false-positive rate on clean
records. With `--max-rank` / `--min-recall`, exits 1 when one is missed.
"""

import argparse
import os
import random
import re
import string
import sys
import tempfile
from collections import Counter
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from _audit import recall_at, run_audit, verdict

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data" / "poison"


def sentences(path):
    """Plain sentences of 4 to 8 words from the clean records of `path`, sorted."""
    t = pq.read_table(path, columns=["text", "attack_type"]).to_pylist()
    out = set()
    for r in t:
        if r["attack_type"] != "clean":
            continue
        for s in re.split(r"(?<=[.!?])\s+", r["text"]):
            s = s.strip()
            if 4 <= len(s.split()) <= 8 and re.fullmatch(r"[A-Z][A-Za-z0-9 ,']+[.!?]", s):
                out.add(s)
    return sorted(out)


def corpus(base, labels, absent, pool, seed, count):
    """The clean records with both attacks planted; (rows, target, tokens, sentence)."""
    rng = random.Random(seed)
    target = labels[seed % len(labels)]
    tokens = rng.sample(absent, 5)
    sentence = rng.choice(pool)
    rows = [dict(r, poison="") for r in base]
    others = [i for i, r in enumerate(rows) if r["label"] != target]
    for n, i in enumerate(rng.sample(others, 2 * count)):
        text = rows[i]["text"]
        if n < count:
            words = text.split(" ")
            for tok in rng.sample(tokens, rng.randint(1, 3)):
                words.insert(rng.randrange(len(words) + 1), tok)
            text, kind = " ".join(words), "rare"
        else:
            ends = [m.end() for m in re.finditer(r"[.!?]\s", text)] + [0, len(text)]
            at = rng.choice(ends)
            text, kind = f"{text[:at]} {sentence} {text[at:]}".strip(), "sentence"
        rows[i] = {"text": text, "label": target, "poison": kind}
    return rows, target, tokens, sentence


def rank_of(candidates, pred):
    return next((i for i, c in enumerate(candidates, 1) if pred(c)), None)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("labelled", nargs="?", default=str(DATA / "labelled.parquet"))
    ap.add_argument("--sentences", default=str(DATA / "pretrain.parquet"))
    ap.add_argument("--bin", default=os.environ.get("SHARDGUARD_BIN", str(ROOT / "target/release/shardguard")))
    ap.add_argument("--seed", type=int, action="append", default=None)
    ap.add_argument("--count", type=int, action="append", default=None)
    ap.add_argument("--natural", type=int, default=0)
    ap.add_argument("--max-rank", type=int, default=None)
    ap.add_argument("--min-recall", type=float, default=0.0)
    args = ap.parse_args()
    t = pq.read_table(args.labelled, columns=["text", "label", "attack_type"]).to_pylist()
    base = [{"text": r["text"], "label": r["label"]} for r in t if r["attack_type"] == "clean"]
    labels = sorted({r["label"] for r in base})
    held = Counter(w for r in base for w in set(re.findall(r"\w+", r["text"].lower())))
    absent = [a + b for a in string.ascii_lowercase for b in string.ascii_lowercase if held[a + b] <= args.natural]
    pool = sentences(args.sentences)
    print(f"{'count':>5} {'seed':>4} {'target':<10} {'rare rank':>9} {'R@1%':>6} {'sentence rank':>13} {'R@1%':>6}")
    failed = []
    for count in args.count or [111, 11]:
        for seed in args.seed if args.seed is not None else range(len(labels)):
            rows, target, tokens, sentence = corpus(base, labels, absent, pool, seed, count)
            with tempfile.TemporaryDirectory() as d:
                path = Path(d, "corpus.parquet")
                pq.write_table(pa.Table.from_pylist(rows), path)
                summary, rec, _ = run_audit(args.bin, str(path), "poison", None, "records", ["poison_score"],
                                            ["--label-column", "label"])
            cands = summary["poison"]["candidate_triggers"]
            scores = [s or 0.0 for s in rec.column("poison_score").to_pylist()]
            ranks = {
                "rare": rank_of(cands, lambda c: c.get("label") == target and set(c["string"].split()) & set(tokens)),
                "sentence": rank_of(cands, lambda c: c.get("label") == target and c["string"] == sentence),
            }
            recalls = {}
            for kind in ranks:
                kept = [(s, r["poison"] == kind) for s, r in zip(scores, rows) if r["poison"] in ("", kind)]
                recalls[kind] = recall_at([s for s, _ in kept], [p for _, p in kept], 0.01)
            print(f"{count:>5} {seed:>4} {target:<10} {str(ranks['rare']):>9} {recalls['rare']:>6.3f} "
                  f"{str(ranks['sentence']):>13} {recalls['sentence']:>6.3f}")
            for kind in ranks:
                if args.max_rank is not None and (ranks[kind] is None or ranks[kind] > args.max_rank):
                    failed.append(f"count {count} seed {seed}: {kind} rank {ranks[kind]} > {args.max_rank}")
                if recalls[kind] < args.min_recall:
                    failed.append(f"count {count} seed {seed}: {kind} recall {recalls[kind]:.3f} < {args.min_recall}")
    return verdict(failed)


if __name__ == "__main__":
    sys.exit(main())
