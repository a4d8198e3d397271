"""Peer comparison on a labelled PII corpus: shardguard vs datatrove's PIIFormatter and Presidio's
pattern recognizers, on the same text, one core each. Installs the peers itself into a venv.

    python benches/compare_pii.py [PARQUET] [--bin target/release/shardguard] [--venv DIR]

PARQUET defaults to ../shared/data/pii/dev.parquet. Prints, per tool, text throughput (MB/s of
text on one core: the peers' own calls in CPU time, span bookkeeping for scoring excluded;
shardguard's whole single-threaded audit, Parquet in and outputs written, on the text repeated so
start-up does not dominate) and overlap F1 for the kinds each tool covers, then the speed ratios.
The labelled set is PII-dense (every record holds several values); the same speeds are measured
again on ordinary text (`--speed-corpus`, default ../shared/data/poison/pretrain.parquet, when
present), where most records hold none. Presidio runs its regex recognizers directly (no spaCy model: the NER
recognizers are not pattern-based and need a model download).
"""

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PEERS = ["datatrove==0.*", "presidio-analyzer==2.*", "pyarrow"]

PEER_CODE = r'''
import json, sys, time
import pyarrow.parquet as pq

def load(path, limit_mb):
    docs = [d or "" for d in pq.read_table(path, columns=["text"]).column("text").to_pylist()]
    if limit_mb:
        out, n = [], 0
        for d in docs:
            if n > limit_mb * 1e6:
                break
            out.append(d)
            n += len(d.encode())
        docs = out
    return docs, sum(len(d.encode()) for d in docs) / 1e6

from datatrove.pipeline.formatters.pii import PIIFormatter
from presidio_analyzer.predefined_recognizers import (
    EmailRecognizer, CreditCardRecognizer, UsSsnRecognizer, IbanRecognizer, IpRecognizer,
    PhoneRecognizer, CryptoRecognizer)
formatter = PIIFormatter()
recs = [EmailRecognizer(), CreditCardRecognizer(), UsSsnRecognizer(), IbanRecognizer(),
        IpRecognizer(), CryptoRecognizer()]
try:
    recs.append(PhoneRecognizer())
except Exception:
    pass
names = {"EMAIL_ADDRESS": "EMAIL", "CREDIT_CARD": "CREDIT_CARD", "US_SSN": "US_SSN",
         "IBAN_CODE": "IBAN", "IP_ADDRESS": "IP_ADDRESS", "CRYPTO": "CRYPTO", "PHONE_NUMBER": "PHONE"}

def datatrove(docs):
    # Timed: its own call (it replaces, it does not report spans).
    t0 = time.process_time()
    for d in docs:
        formatter.format(d)
    seconds = time.process_time() - t0
    # Untimed: the spans it replaced, recovered with its own regexes and validators.
    preds = []
    for d in docs:
        p = []
        for label, r in [("EMAIL", formatter.emails_replacer), ("IP_ADDRESS", formatter.ip_replacer)]:
            for m in r.regex.finditer(d):
                if r.validator is None or r.validator(m.group(0)):
                    p.append((label, len(d[:m.start()].encode()), len(d[:m.end()].encode())))
        preds.append(p)
    return seconds, preds

def presidio(docs):
    t0 = time.process_time()
    results = [[res for r in recs for res in (r.analyze(d, entities=r.supported_entities,
                                                         nlp_artifacts=None) or [])] for d in docs]
    seconds = time.process_time() - t0
    preds = [[(names[res.entity_type], len(d[:res.start].encode()), len(d[:res.end].encode()))
              for res in rs if res.entity_type in names] for d, rs in zip(docs, results)]
    return seconds, preds

out = {"labelled": {}, "speed": {}}
docs, mb = load(sys.argv[1], 0)
for name, run in [("datatrove", datatrove), ("presidio", presidio)]:
    seconds, preds = run(docs)
    out["labelled"][name] = {"seconds": seconds, "mb": mb, "preds": preds}
if len(sys.argv) > 2:
    # Presidio is slow: it reads the first few MB of the speed corpus only.
    for name, run, limit in [("datatrove", datatrove, 0), ("presidio", presidio, 2)]:
        docs, mb = load(sys.argv[2], limit)
        seconds, _ = run(docs)
        out["speed"][name] = {"seconds": seconds, "mb": mb}
json.dump(out, sys.stdout)
'''


def f1(preds, docs, labels):
    res = {}
    for lab in labels:
        tp_p = n_p = tp_g = n_g = 0
        for p, d in zip(preds, docs):
            gold = [(s["start_byte"], s["end_byte"]) for s in d["spans"] if s["label"] == lab]
            mine = [(s, e) for l, s, e in p if l == lab]
            n_p += len(mine)
            n_g += len(gold)
            tp_p += sum(any(s < ge and gs < e for gs, ge in gold) for s, e in mine)
            tp_g += sum(any(s < ge and gs < e for s, e in mine) for gs, ge in gold)
        pr = tp_p / n_p if n_p else 0.0
        rc = tp_g / n_g if n_g else 0.0
        res[lab] = 2 * pr * rc / (pr + rc) if pr + rc else 0.0
    return res


def shardguard_seconds(binary, parquet, target_mb=40):
    """Seconds of a whole single-threaded `pii,secret` audit per pass over `parquet` (MB of its
    text), on the text repeated to about `target_mb` so start-up does not dominate."""
    import tempfile

    import pyarrow as pa
    import pyarrow.parquet as pq

    from _audit import run_audit
    t = pq.read_table(parquet, columns=["text"])
    mb = sum(len((d or "").encode()) for d in t.column("text").to_pylist()) / 1e6
    reps = max(1, round(target_mb / max(mb, 1e-6)))
    with tempfile.TemporaryDirectory() as tmp:
        big = Path(tmp) / "repeated.parquet"
        pq.write_table(pa.concat_tables([t] * reps), big)
        summary, _, _ = run_audit(binary, str(big), "pii,secret", 1, "findings", ["row"])
    return summary["elapsed_seconds"] / reps, mb


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("parquet", nargs="?", default=str(ROOT.parent / "shared/data/pii/dev.parquet"))
    ap.add_argument("--speed-corpus", default=str(ROOT.parent / "shared/data/poison/pretrain.parquet"),
                    help="ordinary text (few PII) timed as well; skipped when missing")
    ap.add_argument("--bin", default=os.environ.get("SHARDGUARD_BIN", str(ROOT / "target/release/shardguard")))
    ap.add_argument("--venv", default=str(ROOT / ".venv-peers"))
    args = ap.parse_args()

    import pyarrow.parquet as pq
    docs = pq.read_table(args.parquet, columns=["text", "spans"]).to_pylist()
    mb = sum(len((d["text"] or "").encode()) for d in docs) / 1e6

    sys.path.insert(0, str(ROOT / "benches"))
    from _audit import ensure_venv, run_audit
    summary, f, _ = run_audit(args.bin, args.parquet, "pii,secret", 1, "findings",
                              ["row", "kind", "start_byte", "end_byte"])
    sg = [[] for _ in docs]
    for row, kind, s, e in zip(*(f.column(c).to_pylist() for c in ["row", "kind", "start_byte", "end_byte"])):
        sg[row].append((kind, s, e))
    seconds, _ = shardguard_seconds(args.bin, args.parquet)
    tools = {"shardguard": {"seconds": seconds, "mb": mb, "preds": sg}}
    speed_corpus = args.speed_corpus if Path(args.speed_corpus).exists() else None

    py = ensure_venv(Path(args.venv), PEERS)
    r = subprocess.run([str(py), "-c", PEER_CODE, args.parquet, *([speed_corpus] if speed_corpus else [])],
                       capture_output=True, text=True)
    if r.returncode != 0:
        print(r.stderr, file=sys.stderr)
        return 1
    peers = json.loads(r.stdout)
    tools.update(peers["labelled"])

    labels = ["EMAIL", "PHONE", "CREDIT_CARD", "US_SSN", "IBAN", "IP_ADDRESS", "CRYPTO"]
    print(f"labelled text {mb:.2f} MB (PII-dense), one core each\n")
    print(f"{'tool':<12} {'MB/s':>9}  " + " ".join(f"{l[:11]:>11}" for l in labels))
    for name, t in tools.items():
        scores = f1(t["preds"], docs, labels)
        covered = {l for p in t["preds"] for l, _, _ in p}
        cells = " ".join(f"{scores[l]:11.3f}" if l in covered else f"{'-':>11}" for l in labels)
        print(f"{name:<12} {t['mb'] / t['seconds']:9.2f}  {cells}")
    print()
    rate = {name: t["mb"] / t["seconds"] for name, t in tools.items()}
    for name in rate:
        if name != "shardguard":
            print(f"PII-dense text: shardguard is {rate['shardguard'] / rate[name]:.1f}x faster than {name}")
    if speed_corpus:
        seconds, smb = shardguard_seconds(args.bin, speed_corpus, target_mb=250)
        rate = {"shardguard": smb / seconds}
        rate.update({name: t["mb"] / t["seconds"] for name, t in peers["speed"].items()})
        print(f"\nordinary text ({Path(speed_corpus).name}, {smb:.1f} MB; Presidio on its first "
              f"{peers['speed']['presidio']['mb']:.1f} MB), one core each:")
        for name, v in rate.items():
            print(f"{name:<12} {v:9.2f} MB/s")
        for name in rate:
            if name != "shardguard":
                print(f"ordinary text: shardguard is {rate['shardguard'] / rate[name]:.1f}x faster than {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
