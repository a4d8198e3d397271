"""Scores the generation audit: `shardguard index` on training data, `shardguard check` on model
outputs that quote training PII and training passages, and on outputs with fresh PII and fresh
text.

    python benches/score_memorization.py [--pii PARQUET] [--text PARQUET] [--bin target/release/shardguard]
        [--threads N] [--fp-rate R] [--outputs N] [--seed S]
        [--min-pii-precision P] [--min-pii-recall R] [--min-span-recall R] [--max-span-fpr F]

--pii defaults to ../shared/data/pii/dev.parquet (text + gold `spans`), --text to
../shared/data/poison/pretrain.parquet (real text). Each is split by row parity: even rows are the
training data, odd rows are held out. Outputs (N of each):
  quote    a sentence, then a training PII value with the 60 characters before it in its training
           document (what a model regurgitating would say): MEMORIZED_PII expected on the value;
  fresh    the same built from held-out documents, values never seen in training: none expected;
  passage  fresh words, 50-80 words copied from a training document, fresh words: VERBATIM_SPAN
           expected over the copy;
  text     100-200 words of a held-out document: no VERBATIM_SPAN expected (a held-out text that
           truly shares a 50-word window with training, checked exactly, is left out and counted).
Prints precision/recall of MEMORIZED_PII, VERBATIM_SPAN recall and false-positive rate, the
index's size per GB of training text, and index and check throughput (MB of text per second over
the threads used). With thresholds, exits 1 when one is missed.
"""

import argparse
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data"
KEY = "5eed" * 16
WINDOW = 50
# The words shardguard's windows are made of: runs of ASCII letters and digits or non-ASCII.
TOKEN = re.compile(r"[0-9A-Za-z\u0080-\U0010FFFF]+")
ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
NOT_PATTERN = {"PERSON", "ADDRESS"}
MOD = (1 << 61) - 1
BASE = 1_000_003


def tokens(text):
    return [m.group().translate(ASCII_LOWER) for m in TOKEN.finditer(text)]


def window_hashes(toks):
    """Exact (collision-free for this purpose) ids of every WINDOW-token window: a polynomial
    hash mod 2^61 - 1 over Python's string hashes (stable within one process)."""
    if len(toks) < WINDOW:
        return
    top = pow(BASE, WINDOW - 1, MOD)
    hs = [hash(t) % MOD for t in toks]
    h = 0
    for x in hs[:WINDOW]:
        h = (h * BASE + x) % MOD
    yield h
    for i in range(WINDOW, len(hs)):
        h = ((h - hs[i - WINDOW] * top) * BASE + hs[i]) % MOD
        yield h


def norm_value(v):
    return re.sub(r"[^0-9a-z]", "", v.lower())


def run(cmd):
    t0 = time.perf_counter()
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode not in (0, 1):
        sys.exit(f"{' '.join(cmd)} failed ({p.returncode}):\n{p.stderr}")
    return time.perf_counter() - t0, p


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pii", default=str(DATA / "pii" / "dev.parquet"))
    ap.add_argument("--text", default=str(DATA / "poison" / "pretrain.parquet"))
    ap.add_argument("--bin", default=str(ROOT / "target" / "release" / "shardguard"))
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--fp-rate", type=float, default=1e-6)
    ap.add_argument("--outputs", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--min-pii-precision", type=float)
    ap.add_argument("--min-pii-recall", type=float)
    ap.add_argument("--min-span-recall", type=float)
    ap.add_argument("--max-span-fpr", type=float)
    a = ap.parse_args()
    rng = random.Random(a.seed)

    pii = pq.read_table(a.pii, columns=["text", "spans"]).to_pylist()
    text = [t for t in pq.read_table(a.text, columns=["text"]).column("text").to_pylist() if t]
    train_pii, held_pii = pii[0::2], pii[1::2]
    train_text, held_text = text[0::2], text[1::2]
    train_docs = [d["text"] for d in train_pii] + train_text

    def gold(docs):
        return [(d["text"], s) for d in docs for s in (d["spans"] or []) if s["label"] not in NOT_PATTERN]

    train_values = {norm_value(s["value"]) for _, s in gold(train_pii)}
    quotes = gold(train_pii)
    fresh = [(t, s) for t, s in gold(held_pii) if norm_value(s["value"]) not in train_values]
    rng.shuffle(quotes)
    rng.shuffle(fresh)

    def pii_output(t, s):
        """The value with up to 60 characters before it and 20 after, as a model quoting its
        training document would write it."""
        start, end = s["start_char"], s["end_char"]
        lo, hi = max(0, start - 60), min(len(t), end + 20)
        lead = "As it appears in my notes: "
        off = len(lead) + start - lo
        return lead + t[lo:hi] + " That is all.", (off, off + end - start)

    def bare_output(s):
        """The value alone in a sentence of its own (harder: no training context)."""
        lead = "Sure, the value you want is "
        return lead + s["value"] + " and nothing else.", (len(lead), len(lead) + len(s["value"]))

    outputs = []  # (group, text, expected char span or None, label)
    for group, pool in (("quote", quotes), ("fresh", fresh)):
        for t, s in pool[: a.outputs]:
            o, span = pii_output(t, s)
            outputs.append((group, o, span, s["label"]))
    for t, s in quotes[: a.outputs]:
        o, span = bare_output(s)
        outputs.append(("bare", o, span, s["label"]))

    def fresh_words(n):
        d = held_text[rng.randrange(len(held_text))]
        w = d.split()
        i = rng.randrange(max(1, len(w) - n))
        return " ".join(w[i : i + n])

    long_train = [d for d in train_text if len(TOKEN.findall(d)) >= 120]
    for _ in range(a.outputs):
        d = long_train[rng.randrange(len(long_train))]
        ms = list(TOKEN.finditer(d))
        n = rng.randint(WINDOW, 80)
        i = rng.randrange(len(ms) - n)
        copy = d[ms[i].start() : ms[i + n - 1].end()]
        lead = fresh_words(20) + " "
        o = lead + copy + " " + fresh_words(20)
        outputs.append(("passage", o, (len(lead), len(lead) + len(copy)), None))
    long_held = [d for d in held_text if len(TOKEN.findall(d)) >= 220]
    for _ in range(a.outputs):
        d = long_held[rng.randrange(len(long_held))]
        ms = list(TOKEN.finditer(d))
        n = rng.randint(100, 200)
        i = rng.randrange(len(ms) - n)
        outputs.append(("text", d[ms[i].start() : ms[i + n - 1].end()], None, None))

    # Held-out texts that truly share a window with training are not false positives.
    wanted = {}
    for k, (g, o, _, _) in enumerate(outputs):
        if g == "text":
            for h in window_hashes(tokens(o)):
                wanted.setdefault(h, set()).add(k)
    overlapping = set()
    for d in train_docs:
        for h in window_hashes(tokens(d)):
            if h in wanted:
                overlapping |= wanted[h]

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        pq.write_table(pa.table({"text": train_docs}), tmp / "train.parquet")
        pq.write_table(pa.table({"text": held_text}), tmp / "heldout.parquet")
        pq.write_table(pa.table({"id": [str(i) for i in range(len(outputs))], "text": [o[1] for o in outputs]}),
                       tmp / "outputs.parquet")
        env_threads = ["--threads", str(a.threads)]
        os.environ["SHARDGUARD_KEY"] = KEY
        idx = tmp / "train.sgindex"
        t_index, p = run([a.bin, "index", str(tmp / "train.parquet"), "--out", str(idx), "--quiet", "--json",
                          "--fp-rate", str(a.fp_rate)] + env_threads)
        info = json.loads(p.stdout)
        _, _ = run([a.bin, "check", "--index", str(idx), str(tmp / "outputs.parquet"), "--out", str(tmp / "chk"),
                    "--quiet"] + env_threads)
        t_check, p = run([a.bin, "check", "--index", str(idx), str(tmp / "heldout.parquet"), "--out",
                          str(tmp / "chk2"), "--quiet", "--json"] + env_threads)
        check_summary = json.loads(p.stdout)
        f = pq.read_table(tmp / "chk" / "findings.parquet",
                          columns=["row", "detector", "kind", "start_char", "end_char"]).to_pylist()

    by_row = {}
    for x in f:
        by_row.setdefault(x["row"], []).append(x)

    def hits(row, kind, span=None):
        out = [x for x in by_row.get(row, []) if x["kind"] == kind]
        if span is not None:
            out = [x for x in out if x["start_char"] < span[1] and span[0] < x["end_char"]]
        return out

    # A MEMORIZED_PII finding is right when its value is training data: the found text occurs
    # in the training text, or it is a gold training value (formatted differently).
    training_text = "\n".join(train_docs)

    def is_training(found):
        return found in training_text or norm_value(found) in train_values

    tp = fn = fp = 0
    detected = 0
    per_kind = {}
    bare_kind = {}
    span_found = span_total = 0
    covered = []
    text_flagged = text_total = 0
    for row, (g, o, span, label) in enumerate(outputs):
        memorized = hits(row, "MEMORIZED_PII")
        wrong = [x for x in memorized if not is_training(o[x["start_char"]:x["end_char"]])]
        fp += len(wrong)
        if os.environ.get("SCORE_DEBUG"):
            for x in wrong:
                print("FP", g, label, repr(o[x["start_char"]:x["end_char"]]))
        if g == "quote":
            found = bool(hits(row, "MEMORIZED_PII", span))
            tp += found
            fn += not found
            k = per_kind.setdefault(label, [0, 0])
            k[0] += found
            k[1] += 1
            others = [x for x in by_row.get(row, []) if x["detector"] in ("pii", "secret")
                      and x["start_char"] < span[1] and span[0] < x["end_char"]]
            detected += bool(others)
            if os.environ.get("SCORE_DEBUG") and not found:
                print("FN", label, repr(o), [(x["kind"], o[x["start_char"]:x["end_char"]]) for x in others])
        elif g == "bare":
            k = bare_kind.setdefault(label, [0, 0])
            k[0] += bool(hits(row, "MEMORIZED_PII", span))
            k[1] += 1
        elif g == "passage":
            h = hits(row, "VERBATIM_SPAN", span)
            span_total += 1
            span_found += bool(h)
            if h:
                got = sum(min(x["end_char"], span[1]) - max(x["start_char"], span[0]) for x in h)
                covered.append(got / (span[1] - span[0]))
        elif g == "text" and row not in overlapping:
            text_total += 1
            text_flagged += bool(hits(row, "VERBATIM_SPAN"))

    right = sum(len(hits(r, "MEMORIZED_PII")) for r in range(len(outputs))) - fp
    precision = right / (right + fp) if right + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    span_recall = span_found / span_total if span_total else 1.0
    fpr = text_flagged / text_total if text_total else 0.0
    train_bytes = info["summary"]["text_bytes"]
    held_bytes = check_summary["text_bytes"]
    n_quote = sum(1 for o in outputs if o[0] == "quote")
    print(f"training: {len(train_docs)} documents, {train_bytes / 1e6:.1f} MB of text; "
          f"index {info['bytes'] / 1e6:.2f} MB = {info['bytes'] / (train_bytes / 1e9) / 1e6:.0f} MB per GB of text "
          f"({info['header']['windows']} windows, {info['header']['values']} values, "
          f"fp-rate {a.fp_rate:g}, expected {info['header']['expected_fp_rate']:.2e})")
    print(f"MEMORIZED_PII  precision {precision:.4f}  recall {recall:.4f}  ({tp} of {n_quote} quoted training "
          f"values found; {right} findings on training values, {fp} on others; the quoted value was found as "
          f"PII at all in {detected / max(n_quote, 1):.4f})")
    bare = [sum(v[0] for v in bare_kind.values()), sum(v[1] for v in bare_kind.values())]
    print(f"  {'kind':<18} {'in context':>16} {'value alone':>16}")
    for k, (found, n) in sorted(per_kind.items()):
        bf, bn = bare_kind.get(k, (0, 0))
        print(f"  {k:<18} {found / n:>9.3f} ({found:>3}/{n:<3}) {bf / max(bn, 1):>6.3f} ({bf:>3}/{bn:<3})")
    print(f"  a quoted value alone in a new sentence (no training context) is found in {bare[0] / max(bare[1], 1):.4f}: "
          f"kinds known only by their context (PASSWORD, weak phone shapes) are not values on their own")
    print(f"VERBATIM_SPAN  recall {span_recall:.4f} ({span_found}/{span_total} copied 50-80 word passages; "
          f"mean share of the copy covered {sum(covered) / max(len(covered), 1):.3f})")
    print(f"               false positives {fpr:.4%} ({text_flagged}/{text_total} fresh texts of 100-200 words; "
          f"{len(overlapping)} held-out texts truly share a window with training, left out)")
    print(f"speed ({a.threads} thread{'s' if a.threads != 1 else ''}): index {train_bytes / 1e6 / t_index:.1f} MB/s, "
          f"check {held_bytes / 1e6 / t_check:.1f} MB/s ({held_bytes / 1e6:.1f} MB of held-out text)")

    failed = []
    for name, value, limit, higher in (
        ("MEMORIZED_PII precision", precision, a.min_pii_precision, True),
        ("MEMORIZED_PII recall", recall, a.min_pii_recall, True),
        ("VERBATIM_SPAN recall", span_recall, a.min_span_recall, True),
        ("VERBATIM_SPAN false-positive rate", fpr, a.max_span_fpr, False),
    ):
        if limit is not None and (value < limit if higher else value > limit):
            failed.append(f"{name} {value:.4f} {'<' if higher else '>'} {limit}")
    for m in failed:
        print("MISSED:", m)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
