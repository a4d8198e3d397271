"""Dedup from Python: mergeable states built per batch equal one audit of all the data, states
ship as bytes and pickles, and filtered copies keep the first record of each cluster."""

import pickle
import random

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import shardguard
from shardguard import Auditor, ConfigError, DedupState

KEY = "00112233445566778899aabbccddeeff"


def words(n, seed):
    r = random.Random(seed)
    return [f"w{r.randrange(5000)}" for _ in range(n)]


def corpus():
    """Twelve texts: three originals, each copied (exactly, re-cased, edited), strangers, a blank."""
    texts = []
    for s in range(3):
        base = words(300, s)
        edited = list(base)
        edited[::40] = ["edit"] * len(edited[::40])
        texts += [" ".join(base), " ".join(base).upper(), " ".join(edited)]
    texts += [" ".join(words(300, 10)), "   ", " ".join(words(300, 11))]
    random.Random(5).shuffle(texts)
    return pa.table({"id": [f"d{i}" for i in range(len(texts))], "text": texts})


def test_merged_states_of_parts_equal_the_audit_of_the_whole(tmp_path):
    t = corpus()
    path = tmp_path / "c.parquet"
    pq.write_table(t, path)
    auditor = Auditor(detectors=["dedup"], key=KEY)
    records = auditor.audit([str(path)]).records.sort_by("row")

    a, b = t.slice(0, 5), t.slice(5)
    state = auditor.sketch(a, shard=str(path)).merge(auditor.sketch(b, shard=str(path), first_row=5))
    assert len(state) == t.num_rows
    c = state.clusters()
    assert c.column("row").to_pylist() == list(range(t.num_rows))
    assert c.column("dup_keep").to_pylist() == records.column("dup_keep").to_pylist()
    assert c.column("dup_cluster").to_pylist() == records.column("dup_cluster").to_pylist()
    # Three clusters of three: six records are dropped.
    assert c.column("dup_keep").to_pylist().count(False) == 6
    kept = {(s, r) for s, r in zip(c.column("kept_shard").to_pylist(), c.column("kept_row").to_pylist()) if r is not None}
    assert len(kept) == 3

    # Shipped as bytes or pickled, the state is the same.
    back = DedupState(state.to_bytes())
    assert back.to_bytes() == state.to_bytes()
    assert pickle.loads(pickle.dumps(state)).to_bytes() == state.to_bytes()
    assert back.clusters().equals(c)

    # Band keys: every present record once per band; copies share keys.
    keys = state.band_keys()
    assert keys.num_rows == (t.num_rows - 1) * 32
    assert set(keys.column_names) == {"band", "key", "shard", "row"}
    sig = state.to_arrow()
    assert sig.column("exact").null_count == 1


def test_states_sketched_differently_refuse_to_merge(tmp_path):
    cfg = tmp_path / "rules.toml"
    cfg.write_text("[dedup]\npermutations = 64\nbands = 16\n")
    t = corpus()
    a = Auditor(detectors=["dedup"], key=KEY).sketch(t)
    b = Auditor(detectors=["dedup"], key=KEY, config=cfg).sketch(t)
    with pytest.raises(ConfigError, match="different settings"):
        a.merge(b)
    with pytest.raises(ConfigError, match="not a shardguard dedup state"):
        DedupState(b"garbage")
    assert len(DedupState()) == 0


def test_filtered_out_writes_only_kept_records(tmp_path):
    t = corpus()
    path = tmp_path / "data" / "c.parquet"
    path.parent.mkdir()
    pq.write_table(t, path)
    out = tmp_path / "kept"
    res = shardguard.audit([str(path)], detectors=["dedup"], key=KEY, filtered_out=out)
    assert res.summary["filtered"]["kept"] == 6
    copies = list(out.rglob("*.parquet"))
    assert len(copies) == 1
    kept = pq.read_table(copies[0])
    assert kept.schema == t.schema
    keep = res.records.sort_by("row").column("dup_keep").to_pylist()
    assert kept.column("id").to_pylist() == [i for i, k in zip(t.column("id").to_pylist(), keep) if k]
    with pytest.raises(ConfigError, match="dedup"):
        shardguard.audit([str(path)], detectors=["pii"], key=KEY, filtered_out=tmp_path / "x")


def test_pages_of_one_template_differing_on_every_line_stay_apart():
    """A page and its sibling with a marker word on every line share nearly every shingle but no
    line: apart by default, one cluster when clustering ignores lines."""
    lines = [" ".join(words(12, 100 + i)) for i in range(40)]
    page = "\n".join(lines)
    sibling = "\n".join("beta " + l for l in lines)
    copy = "\n".join(lines[:30])
    t = pa.table({"id": ["page", "sibling", "copy"], "text": [page, sibling, copy]})
    state = Auditor(detectors=["dedup"], key=KEY).sketch(t)
    assert state.clusters().column("dup_cluster").to_pylist() == [0, None, 0]
    assert state.clusters(lines=0.0).column("dup_cluster").to_pylist() == [0, 0, 0]
    with pytest.raises(ConfigError, match="lines"):
        state.clusters(lines=2.0)
