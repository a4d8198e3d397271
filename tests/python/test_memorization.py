"""Memorization from Python: exact PII repetition counts, the training index (built, saved,
merged, pickled) and the check of model outputs against it."""

import pickle
import random

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import shardguard
from shardguard import ConfigError

KEY = "00112233445566778899aabbccddeeff"


def words(n, seed):
    r = random.Random(str(seed))
    return " ".join(f"w{r.randrange(5000)}" for _ in range(n))


def email(i):
    return f"someone.{i}@outlook.com"


def training(tmp_path):
    """Two shards: value 0 once, value 1 five times, value 2 twelve times, over both shards."""
    docs = []
    for i, n in enumerate([1, 5, 12]):
        for k in range(n):
            docs.append(f"{words(40, (i, k))} mail {email(i)} {words(20, (i, k, 1))}")
    random.Random(3).shuffle(docs)
    half = len(docs) // 2
    paths = []
    for name, part in [("a", docs[:half]), ("b", docs[half:])]:
        p = tmp_path / f"{name}.parquet"
        pq.write_table(pa.table({"text": part}), p)
        paths.append(str(p))
    return paths, docs


def test_audit_counts_every_value_exactly(tmp_path):
    paths, docs = training(tmp_path)
    r = shardguard.audit(paths, detectors=["pii", "memorization"], key=KEY)
    v = r.pii_values.sort_by("occurrences").to_pylist()
    assert [(x["occurrences"], x["documents"], x["risk"]) for x in v] == [
        (1, 1, "1"),
        (5, 5, "2-9"),
        (12, 12, "10-99"),
    ]
    assert all("*" in x["preview"] and "outlook" not in x["preview"] for x in v)
    risk = r.records.column("memorization_risk").to_pylist()
    assert len(risk) == len(docs) and all(x is not None for x in risk)
    assert max(risk) == pytest.approx(0.5 * 1.0791812, rel=1e-6)  # log10(12) / 2
    assert r.summary["memorization"]["values"] == 3
    # Written to a directory, the same table comes back.
    out = shardguard.audit(paths, tmp_path / "out", detectors=["pii", "memorization"], key=KEY)
    assert out.pii_values.sort_by("occurrences").to_pylist() == v
    assert shardguard.audit(paths, detectors=["pii"], key=KEY).pii_values is None


def test_index_needs_a_user_key(tmp_path, monkeypatch):
    monkeypatch.delenv("SHARDGUARD_KEY", raising=False)
    paths, _ = training(tmp_path)
    with pytest.raises(ConfigError, match="key"):
        shardguard.build_index(paths)


def test_check_finds_memorized_values_and_copied_spans(tmp_path):
    paths, docs = training(tmp_path)
    index = shardguard.build_index(paths, key=KEY, capacity=50_000)
    h = index.header
    assert h["values"] == 3 and h["window_tokens"] == 50 and h["fp_rate"] == 1e-6
    copied = " ".join(docs[0].split()[:52])
    outputs = pa.table(
        {
            "text": [
                f"Write to {email(2)} for details.",
                f"As I recall: {copied}.",
                f"{words(80, 'fresh')} and {email(99)}",
            ]
        }
    )
    f = index.check(outputs).to_pylist()
    memorized = [(x["row"], x["kind"]) for x in f if x["detector"] == "memorization"]
    assert (0, "MEMORIZED_PII") in memorized
    assert (1, "VERBATIM_SPAN") in memorized
    assert not [m for m in memorized if m[0] == 2]
    detail = next(x["detail"] for x in f if x["kind"] == "MEMORIZED_PII" and x["row"] == 0)
    assert '"training_occurrences":12' in detail

    # Indexes of the two shards, merged, check the same as the index of both.
    merged = shardguard.build_index(paths[:1], key=KEY, capacity=50_000).merge(
        shardguard.build_index(paths[1:], key=KEY, capacity=50_000)
    )
    assert merged.check(outputs).to_pylist() == f
    # Saved, loaded and pickled indexes check the same.
    index.save(tmp_path / "train.sgindex")
    loaded = shardguard.Index.load(tmp_path / "train.sgindex", key=KEY)
    assert loaded.check(outputs).to_pylist() == f
    assert pickle.loads(pickle.dumps(index)).check(outputs).to_pylist() == f
    # Another key cannot use it.
    other = shardguard.Index.load(tmp_path / "train.sgindex", key="ff" * 16)
    with pytest.raises(ConfigError, match="key"):
        other.check(outputs)
    # Sizes differ: no merge.
    with pytest.raises(ConfigError, match="capacity"):
        index.merge(shardguard.build_index(paths[:1], key=KEY))
    # Files of outputs, written as the CLI writes them.
    pq.write_table(outputs, tmp_path / "outputs.parquet")
    r = index.check_files([str(tmp_path / "outputs.parquet")], tmp_path / "leak")
    assert r.summary["kinds"]["MEMORIZED_PII"]["findings"] >= 1
    assert (tmp_path / "leak" / "findings.parquet").exists()
