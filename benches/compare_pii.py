"""Peer comparison on a labelled PII corpus: shardguard vs datatrove's PIIFormatter and Presidio's
pattern recognizers, on the same text, one core each. Installs the peers itself into a venv.

    python benches/compare_pii.py [PARQUET] [--bin target/release/shardguard] [--venv DIR]

PARQUET defaults to ../shared/data/pii/dev.parquet. Prints, per tool, text throughput (MB/s of
text on one core: the peers' detection calls in CPU time; shardguard's whole single-threaded audit,
Parquet in and outputs written, on the text repeated to ~40 MB so start-up does not dominate) and
overlap F1 for the kinds each tool covers, then the speed ratios. Presidio runs its regex recognizers directly (no spaCy model: the NER
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
docs = pq.read_table(sys.argv[1], columns=["text"]).column("text").to_pylist()
docs = [d or "" for d in docs]
out = {}

# datatrove: e-mails and IPv4 (replacement only; spans recovered by matching its regexes).
from datatrove.pipeline.formatters.pii import PIIFormatter
f = PIIFormatter()
reps = [("EMAIL", f.emails_replacer), ("IP_ADDRESS", f.ip_replacer)]
t0 = time.process_time()
preds = []
for d in docs:
    p = []
    for label, r in reps:
        for m in r.regex.finditer(d):
            if r.validator is None or r.validator(m.group(0)):
                p.append((label, len(d[:m.start()].encode()), len(d[:m.end()].encode())))
    preds.append(p)
out["datatrove"] = {"seconds": time.process_time() - t0, "preds": preds}

from presidio_analyzer.predefined_recognizers import (
    EmailRecognizer, CreditCardRecognizer, UsSsnRecognizer, IbanRecognizer, IpRecognizer,
    PhoneRecognizer, CryptoRecognizer)
recs = [EmailRecognizer(), CreditCardRecognizer(), UsSsnRecognizer(), IbanRecognizer(),
        IpRecognizer(), CryptoRecognizer()]
names = {"EMAIL_ADDRESS": "EMAIL", "CREDIT_CARD": "CREDIT_CARD", "US_SSN": "US_SSN",
         "IBAN_CODE": "IBAN", "IP_ADDRESS": "IP_ADDRESS", "CRYPTO": "CRYPTO", "PHONE_NUMBER": "PHONE"}
try:
    recs.append(PhoneRecognizer())
except Exception:
    pass
t0 = time.process_time()
preds = []
for d in docs:
    p = []
    for r in recs:
        for res in r.analyze(d, entities=r.supported_entities, nlp_artifacts=None) or []:
            lab = names.get(res.entity_type)
            if lab:
                p.append((lab, len(d[:res.start].encode()), len(d[:res.end].encode())))
    preds.append(p)
out["presidio"] = {"seconds": time.process_time() - t0, "preds": preds}
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


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("parquet", nargs="?", default=str(ROOT.parent / "shared/data/pii/dev.parquet"))
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
    # Speed on the text repeated until start-up (libphonenumber's metadata, thread pool) is noise.
    import tempfile
    import pyarrow as pa
    import pyarrow.parquet as pq2
    reps = max(1, int(40 / max(mb, 1e-6)))
    with tempfile.TemporaryDirectory() as tmp:
        big = Path(tmp) / "repeated.parquet"
        t = pq2.read_table(args.parquet, columns=["text"])
        pq2.write_table(pa.concat_tables([t] * reps), big)
        big_summary, _, _ = run_audit(args.bin, str(big), "pii,secret", 1, "findings", ["row"])
    sg_seconds = big_summary["elapsed_seconds"] / reps
    tools = {"shardguard": {"seconds": sg_seconds, "preds": sg}}

    py = ensure_venv(Path(args.venv), PEERS)
    r = subprocess.run([str(py), "-c", PEER_CODE, args.parquet], capture_output=True, text=True)
    if r.returncode != 0:
        print(r.stderr, file=sys.stderr)
        return 1
    tools.update(json.loads(r.stdout))

    labels = ["EMAIL", "PHONE", "CREDIT_CARD", "US_SSN", "IBAN", "IP_ADDRESS", "CRYPTO"]
    print(f"text {mb:.2f} MB, one core each\n")
    print(f"{'tool':<12} {'MB/s':>9}  " + " ".join(f"{l[:11]:>11}" for l in labels))
    scores = {}
    for name, t in tools.items():
        scores[name] = f1(t["preds"], docs, labels)
        covered = {l for p in t["preds"] for l, _, _ in p}
        cells = " ".join(f"{scores[name][l]:11.3f}" if l in covered else f"{'-':>11}" for l in labels)
        print(f"{name:<12} {mb / t['seconds']:9.2f}  {cells}")
    base = tools["shardguard"]["seconds"]
    print()
    for name, t in tools.items():
        if name != "shardguard":
            print(f"shardguard is {t['seconds'] / base:.1f}x faster than {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
