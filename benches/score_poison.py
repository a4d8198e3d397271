"""Scores the `poison` (and `outlier`) detectors on a labelled poisoning corpus.

    python benches/score_poison.py [DIR] [--bin target/release/shardguard] [--threads N]
        [--scale 1 --scale 0.1] [--check NAME=VALUE ...]

DIR defaults to ../shared/data/poison (pretrain.parquet, labelled.parquet, instruct.parquet, each
with `attack_type`, `is_poison` and `trigger`). For every file and attack type it prints the AUROC
of `poison_score` against the file's clean records, recall at 1 % and 0.1 % false-positive rate
(the threshold is the clean score at that rate: a poisoned record counts when it scores above it),
and the rank of the true trigger among the summary's `candidate_triggers`. Hidden-Unicode attacks
are scored by whether `unicode` flags the record; `benign_unicode` reports the share flagged by
`unicode` or scoring above the 1 % threshold. `--scale 0.1` reruns with one poisoned record in ten
kept (every clean record kept). Throughput of the whole `poison,outlier` audit is printed per file.

`--check` takes `ATTACK.METRIC=BOUND` (`a_sudo_gibberish.recall_0.1=0.9`, `b_badnets.rank=3`,
`benign_unicode.flagged=0.02`, with `@0.1` after the attack for the small scale); a recall, AUROC
bound is a minimum, a rank or flag-rate bound a maximum. Exits 1 when one is missed.
"""

import argparse
import json
import os
import sys
import tempfile
from collections import Counter, defaultdict
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from _audit import run_audit

ROOT = Path(__file__).resolve().parent.parent
UNICODE_ATTACKS = {"e_bidi", "e_tag", "e_zerowidth", "f_homoglyph"}
FILES = {
    "pretrain": ["--detectors", "poison,outlier,unicode"],
    "labelled": ["--detectors", "poison,outlier,dedup", "--label-column", "label"],
    "instruct": ["--detectors", "poison,outlier", "--prompt-column", "prompt", "--response-column", "response"],
}


def auroc(pos, neg):
    """Probability that a poisoned record outscores a clean one (ties count half)."""
    if not pos or not neg:
        return float("nan")
    allv = sorted([(v, 1) for v in pos] + [(v, 0) for v in neg])
    rank_sum, i = 0.0, 0
    while i < len(allv):
        j = i
        while j < len(allv) and allv[j][0] == allv[i][0]:
            j += 1
        mid = (i + j + 1) / 2
        rank_sum += mid * sum(1 for k in range(i, j) if allv[k][1] == 1)
        i = j
    n1, n0 = len(pos), len(neg)
    return (rank_sum - n1 * (n1 + 1) / 2) / (n1 * n0)


def threshold(clean, fpr):
    """The clean score exceeded by at most `fpr` of clean records."""
    s = sorted(clean, reverse=True)
    k = int(fpr * len(s))
    return s[k] if k < len(s) else s[-1]


COMMON = {"i", "a", "an", "the", "this", "that", "of", "to", "and", "is", "in", "it", "on", "for"}


def trigger_rank(candidates, triggers):
    """1-based rank of the first candidate naming a true trigger: holding one of the attack's
    trigger strings, or sharing a (non-function) word with one. `triggers`: the attack's values."""
    import re
    def words_of(s):
        return {re.sub(r"['\u2019]s$", "", w) for w in re.findall(r"\w[\w'\u2019]*", s)} - COMMON

    whole = {t.strip().lower() for t in triggers if t.strip()}
    words = {w for t in whole for w in words_of(t)}
    for i, c in enumerate(candidates, 1):
        s = c["string"].strip().lower()
        if s and (any(t in s for t in whole) or words_of(s) & words):
            return i
    return None


def subsample(path, scale, out):
    """`path` with every clean record and one poisoned record of each attack in 1/scale."""
    t = pq.read_table(path)
    attack = t.column("attack_type").to_pylist()
    poison = t.column("is_poison").to_pylist()
    seen, keep = Counter(), []
    step = max(1, round(1 / scale))
    for a, p in zip(attack, poison):
        if not p:
            keep.append(True)
            continue
        keep.append(seen[a] % step == 0)
        seen[a] += 1
    pq.write_table(t.filter(pa.array(keep)), out)
    return out


def score_file(args, name, path, extra):
    gold = pq.read_table(path, columns=["attack_type", "is_poison", "trigger"]).to_pylist()
    summary, rows, wall = run_audit(args.bin, path, None, args.threads, "records",
                                    ["row", "poison_score", "unicode_count", "outlier_score"], extra)
    score = dict(zip(rows.column("row").to_pylist(), rows.column("poison_score").to_pylist()))
    uni = dict(zip(rows.column("row").to_pylist(), rows.column("unicode_count").to_pylist()))
    by = defaultdict(list)
    for i, g in enumerate(gold):
        by[g["attack_type"]].append(i)
    clean = [score[i] or 0.0 for i in by["clean"]]
    t1, t01 = threshold(clean, 0.01), threshold(clean, 0.001)
    cands = (summary.get("poison") or {}).get("candidate_triggers", [])
    results = {}
    for a, idx in sorted(by.items()):
        if a == "clean":
            continue
        trig = Counter(gold[i]["trigger"] for i in idx).most_common(1)[0][0]
        values = {gold[i]["trigger"] for i in idx if gold[i]["trigger"]}
        if a in UNICODE_ATTACKS:
            flagged = sum(1 for i in idx if (uni[i] or 0) > 0) / len(idx)
            results[a] = {"n": len(idx), "recall_1": flagged, "recall_0.1": flagged, "auroc": float("nan"),
                          "rank": None}
            continue
        if a == "benign_unicode":
            flagged = sum(1 for i in idx if (uni[i] or 0) > 0 or (score[i] or 0) > t1) / len(idx)
            results[a] = {"n": len(idx), "flagged": flagged}
            continue
        pos = [score[i] or 0.0 for i in idx]
        results[a] = {
            "n": len(idx),
            "auroc": auroc(pos, clean),
            "recall_1": sum(1 for v in pos if v > t1) / len(pos),
            "recall_0.1": sum(1 for v in pos if v > t01) / len(pos),
            "rank": trigger_rank(cands, values) if not a.startswith(("g_", "i_", "h_")) and trig else None,
            "trigger": trig,
        }
    mb = summary["text_bytes"] / 1e6
    speed = (mb, summary["elapsed_seconds"], wall)
    return results, cands, speed


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("dir", nargs="?", default=str(ROOT.parent / "shared/data/poison"))
    ap.add_argument("--bin", default=os.environ.get("SHARDGUARD_BIN", str(ROOT / "target/release/shardguard")))
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--scale", type=float, action="append", default=None)
    ap.add_argument("--check", action="append", default=[], metavar="ATTACK.METRIC=BOUND")
    ap.add_argument("--json", action="store_true", help="print the results as JSON at the end")
    args = ap.parse_args()
    scales = args.scale or [1.0, 0.1]
    found = {}
    with tempfile.TemporaryDirectory() as tmp:
        for scale in scales:
            tag = "" if scale == 1.0 else f"@{scale:g}"
            for name, extra in FILES.items():
                path = Path(args.dir, f"{name}.parquet")
                if not path.exists():
                    continue
                if scale != 1.0:
                    path = subsample(path, scale, Path(tmp, f"{name}-{scale:g}.parquet"))
                res, cands, (mb, el, wall) = score_file(args, name, str(path), extra)
                print(f"\n== {name}{tag}: {mb:.1f} MB text, audit {el:.2f}s ({mb / el:.1f} MB/s), "
                      f"process {wall:.2f}s ({mb / wall:.1f} MB/s)")
                print(f"{'attack_type':<20} {'n':>5} {'AUROC':>6} {'R@1%':>6} {'R@0.1%':>7} {'rank':>5}")
                for a, r in res.items():
                    if "flagged" in r:
                        print(f"{a:<20} {r['n']:>5} flagged {r['flagged']:.3f}")
                    else:
                        print(f"{a:<20} {r['n']:>5} {r['auroc']:>6.3f} {r['recall_1']:>6.3f} "
                              f"{r['recall_0.1']:>7.3f} {str(r['rank']):>5}")
                    for k, v in r.items():
                        found[f"{a}{tag}.{k}"] = v
                for i, c in enumerate(cands[:5], 1):
                    print(f"   candidate {i}: {c['string']!r} ({c['effect']}, {c['documents']} docs, "
                          f"purity {c['purity']}, reported {c['reported']})")
    ok = True
    for chk in args.check:
        key, bound = chk.split("=")
        bound = float(bound)
        v = found.get(key)
        metric = key.rsplit(".", 1)[1]
        if metric in ("rank", "flagged"):
            good = v is not None and v <= bound
        else:
            good = v is not None and v >= bound
        print(f"check {key}: {v} ({'ok' if good else 'MISSED'}, bound {bound})")
        ok &= good
    if args.json:
        print(json.dumps(found, default=str))
    if not ok:
        print("FAILED: a threshold was missed", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
