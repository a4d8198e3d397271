"""Poison and outlier state built per partition, shipped as bytes and merged, finishes into what
one audit of the whole finds: the path Ray Data and Spark workers take."""

import pickle
import random
from functools import reduce

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import shardguard
from shardguard import Auditor, ConfigError, ScoreState

from test_poison import clean, gibberish, vocabulary

KEY = "00112233445566778899aabbccddeeff"


def partitions(table, cuts):
    bounds = [0, *cuts, table.num_rows]
    return [(bounds[i], table.slice(bounds[i], bounds[i + 1] - bounds[i])) for i in range(len(bounds) - 1)]


def worker_states(auditor, table, shard, cuts, method):
    """Each partition sketched as a worker would, pickled there and back."""
    return [
        pickle.loads(pickle.dumps(getattr(auditor, method)(part, shard=shard, first_row=first)))
        for first, part in partitions(table, cuts)
    ]


def poison_findings(findings):
    t = findings.filter(pa.compute.is_in(findings["detector"], pa.array(["poison", "outlier"])))
    cols = ["shard", "row", "column", "kind", "start_byte", "end_byte", "start_char", "score", "detail"]
    return sorted(tuple(r[c] for c in cols) for r in t.to_pylist())


def test_merged_worker_states_finish_into_the_audit_of_the_whole(fixtures, tmp_path):
    rng = random.Random(3)
    texts = [r["text"] for r in clean(fixtures, "pretrain", ["text"])][:1500]
    vocab = vocabulary(texts, rng)
    trigger = "<" + "".join(rng.choice("QWXZJKVq") for _ in range(7)) + ">"
    for i in rng.sample(range(len(texts)), 40):
        texts[i] = f"{texts[i][:300]} {trigger} {gibberish(vocab, rng, 200)}"
    path = tmp_path / "corpus.parquet"
    table = pa.table({"text": texts})
    pq.write_table(table, path, row_group_size=400)
    auditor = Auditor(detectors=["poison", "outlier", "unicode"], key=KEY)
    whole = auditor.audit(path)

    states = worker_states(auditor, table, str(path), [500, 501, 1100], "score_sketch")
    merged = reduce(ScoreState.merge, states)
    assert len(merged) == len(texts)
    got = auditor.finish_scores(ScoreState(merged.to_bytes()))

    assert got.summary["poison"]["candidate_triggers"] == whole.summary["poison"]["candidate_triggers"]
    assert got.summary["poison"]["candidate_triggers"][0]["string"] == trigger
    assert got.summary["outliers"] == whole.summary["outliers"]
    for col in ("shard", "row", "poison_score", "outlier_score", "flags", "unicode_count", "poison_count"):
        assert got.records[col].to_pylist() == whole.records[col].to_pylist(), col
    assert poison_findings(got.findings) == poison_findings(whole.findings)
    assert sum(s > 0.9 for s in got.records["poison_score"].to_pylist()) >= 38


def test_label_conflicts_need_the_dedup_state_of_the_same_records(fixtures, tmp_path):
    rng = random.Random(8)
    rows = clean(fixtures, "labelled", ["text", "label"])[:1200]
    labels = sorted({r["label"] for r in rows})
    for i in rng.sample(range(len(rows)), 30):
        other = rng.choice([l for l in labels if l != rows[i]["label"]])
        rows.append({"text": rows[i]["text"] + " ok", "label": other})
    path = tmp_path / "labelled.parquet"
    table = pa.Table.from_pylist(rows)
    pq.write_table(table, path)
    auditor = Auditor(detectors=["poison", "dedup"], label_column="label", key=KEY)
    whole = auditor.audit(path)

    cuts = [600]
    scores = reduce(ScoreState.merge, worker_states(auditor, table, str(path), cuts, "score_sketch"))
    dedup = reduce(shardguard.DedupState.merge, worker_states(auditor, table, str(path), cuts, "sketch"))
    got = auditor.finish_scores(scores, dedup=dedup)
    assert got.records["poison_score"].to_pylist() == whole.records["poison_score"].to_pylist()
    assert poison_findings(got.findings) == poison_findings(whole.findings)
    conflicts = [r for r in poison_findings(got.findings) if r[3] == "LABEL_CONFLICT"]
    assert len(conflicts) >= 20

    # Without dedup there are no conflicts to report; a dedup state of other records is refused.
    alone = auditor.finish_scores(scores)
    assert not [r for r in poison_findings(alone.findings) if r[3] == "LABEL_CONFLICT"]
    with pytest.raises(ConfigError, match="does not hold the score state's records"):
        auditor.finish_scores(scores, dedup=auditor.sketch(table.slice(1)))


def test_bad_score_states_are_typed_errors(fixtures):
    table = pa.table({"text": ["a plain sentence here.", "another one, fine."]})
    with pytest.raises(ConfigError, match="needs the poison or outlier detector"):
        Auditor(detectors=["pii"], key=KEY).score_sketch(table)
    with pytest.raises(ConfigError, match="not a shardguard score state"):
        ScoreState(b"garbage bytes here")
    good = Auditor(detectors=["poison", "outlier"], key=KEY).score_sketch(table)
    with pytest.raises(ConfigError, match="not a shardguard"):
        ScoreState(good.to_bytes()[:-7])
    other = Auditor(detectors=["outlier"], key=KEY).score_sketch(table)
    with pytest.raises(ConfigError, match="different detectors"):
        good.merge(other)
    assert len(ScoreState().merge(good)) == 2
    assert "2 records" in repr(good)
