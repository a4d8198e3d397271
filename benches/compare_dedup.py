"""Peer comparison on a labelled near-duplicate corpus: shardguard's `dedup` vs datasketch's
MinHashLSH, on the same file, one core each. Installs datasketch itself into a venv.

    python benches/compare_dedup.py [PARQUET] [--bin target/release/shardguard] [--venv DIR]

PARQUET defaults to ../shared/data/dedup/dev.parquet. datasketch runs the usual recipe: MinHash
with 128 permutations over word 5-grams, MinHashLSH at threshold 0.8, every document queried
against the documents before it, clusters as connected components, the first of each kept. Both
are scored by benches/score_dedup.py's measures (pair precision/recall/F1, clusters left with
exactly one kept copy, recall per edit). Speed: MB of text per CPU-second (datasketch: hashing
and LSH in process CPU time, Parquet read excluded; shardguard: its whole single-threaded audit,
Parquet in and outputs written, as timed by the audit itself).
"""

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PEERS = ["datasketch==1.*", "pyarrow"]

PEER_CODE = r'''
import json, re, sys, time
import pyarrow.parquet as pq
from datasketch import MinHash, MinHashLSH
docs = [d or "" for d in pq.read_table(sys.argv[1], columns=["text"]).column("text").to_pylist()]
word = re.compile(r"\w+")
t0 = time.process_time()
lsh = MinHashLSH(threshold=0.8, num_perm=128)
parent = list(range(len(docs)))
def find(x):
    while parent[x] != x:
        parent[x] = parent[parent[x]]
        x = parent[x]
    return x
for i, d in enumerate(docs):
    w = word.findall(d.lower())
    m = MinHash(num_perm=128)
    m.update_batch([" ".join(w[j:j + 5]).encode() for j in range(max(1, len(w) - 4))])
    for j in lsh.query(m):
        a, b = find(i), find(j)
        if a != b:
            parent[max(a, b)] = min(a, b)
    lsh.insert(i, m)
seconds = time.process_time() - t0
roots = [find(i) for i in range(len(docs))]
json.dump({"seconds": seconds, "roots": roots}, sys.stdout)
'''


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("parquet", nargs="?", default=str(ROOT.parent / "shared/data/dedup/dev.parquet"))
    ap.add_argument("--bin", default=os.environ.get("SHARDGUARD_BIN", str(ROOT / "target/release/shardguard")))
    ap.add_argument("--venv", default=str(ROOT / ".venv-peers"))
    args = ap.parse_args()

    import pyarrow.parquet as pq
    sys.path.insert(0, str(ROOT / "benches"))
    from _audit import ensure_venv, run_audit
    from score_dedup import score

    gold = pq.read_table(args.parquet, columns=["cluster_id", "edit"]).to_pylist()
    summary, rec, _, peak = run_audit(args.bin, args.parquet, "dedup", 1, "records",
                                      ["row", "dup_cluster", "dup_keep"], peak_memory=True)
    mb = summary["text_bytes"] / 1e6
    row = rec.column("row").to_pylist()
    results = {"shardguard": (summary["elapsed_seconds"], score(
        gold, dict(zip(row, rec.column("dup_cluster").to_pylist())),
        dict(zip(row, rec.column("dup_keep").to_pylist()))))}

    py = ensure_venv(Path(args.venv), PEERS)
    r = subprocess.run([str(py), "-c", PEER_CODE, args.parquet], capture_output=True, text=True)
    if r.returncode != 0:
        print(r.stderr, file=sys.stderr)
        return 1
    peer = json.loads(r.stdout)
    roots = peer["roots"]
    size = {}
    for x in roots:
        size[x] = size.get(x, 0) + 1
    results["datasketch"] = (peer["seconds"], score(
        gold, {i: (x if size[x] > 1 else None) for i, x in enumerate(roots)},
        {i: roots[i] == i for i in range(len(roots))}))

    edits = sorted(results["shardguard"][1]["total"])
    print(f"text {mb:.1f} MB, one core each; shardguard peak memory {peak / 2**20:.0f} MiB\n")
    print(f"{'tool':<11} {'MB/s':>7} {'P':>6} {'R':>6} {'F1':>6} {'1kept':>6}  "
          + " ".join(f"{e[:6]:>6}" for e in edits))
    for name, (sec, s) in results.items():
        cells = " ".join(f"{s['found'][e] / s['total'][e]:6.3f}" for e in edits)
        print(f"{name:<11} {mb / sec:7.2f} {s['precision']:6.3f} {s['recall']:6.3f} {s['f1']:6.3f} "
              f"{s['one_kept']:6.3f}  {cells}")
    print(f"\nshardguard is {results['datasketch'][0] / results['shardguard'][0]:.1f}x faster than datasketch")
    return 0


if __name__ == "__main__":
    sys.exit(main())
