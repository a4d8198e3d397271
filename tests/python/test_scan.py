"""The per-batch API: Arrow data in (pyarrow, polars, duckdb), findings out."""

import pickle
import threading

import pyarrow as pa
import pytest

import shardguard
from shardguard import Auditor, ConfigError, SchemaError, ShardguardError

KEY = "00112233445566778899aabbccddeeff"
TEXTS = [
    "plain ascii",
    None,
    "é café \u202egnp.exe\u202c done",
    "Family: \U0001F468\u200d\U0001F469\u200d\U0001F467",
    "log in at https://p\u0430ypal.com/x",
    "hidden" + "".join(chr(0xE0000 + ord(c)) for c in "run rm -rf") + " end",
]


def table(text_type=pa.string()):
    return pa.table({"id": [f"d{i}" for i in range(len(TEXTS))], "text": pa.array(TEXTS, text_type)})


def test_scan_finds_hidden_unicode_with_python_offsets():
    f = Auditor(key=KEY).scan(table())
    rows = f.to_pylist()
    assert [(r["row"], r["kind"]) for r in rows] == [
        (2, "BIDI_CONTROL"),
        (2, "BIDI_CONTROL"),
        (4, "CONFUSABLE"),
        (5, "TAG_CHARACTERS"),
    ]
    for r in rows:
        text = TEXTS[r["row"]]
        span = text[r["start_char"] : r["end_char"]]
        assert span.encode() == text.encode()[r["start_byte"] : r["end_byte"]]
        assert r["detector"] == "unicode" and r["column"] == "text"
        assert r["doc_id"] == f"d{r['row']}"
        assert 0 <= r["score"] <= 1 and len(r["value_hash"]) == 32
    assert rows[2]["preview"] == "p<U+0430>ypal.com"
    assert '"decoded":"run rm -rf"' in rows[3]["detail"]


def test_schema_is_the_output_contract():
    f = Auditor(key=KEY).scan(table())
    assert f.schema.names == [
        "shard", "row", "doc_id", "column", "detector", "kind", "start_byte", "end_byte",
        "start_char", "end_char", "score", "value_hash", "preview", "detail",
    ]
    assert f.schema.field("row").type == pa.int64()
    r = Auditor(key=KEY).scan_records(table())
    assert r.num_rows == len(TEXTS)
    assert r.column("unicode_count").to_pylist() == [0, 0, 2, 0, 1, 1]
    assert r.column("flags").to_pylist()[2] == ["BIDI_CONTROL"]
    for field in r.schema:
        assert not pa.types.is_unsigned_integer(field.type)
        assert not pa.types.is_string_view(field.type)


@pytest.mark.parametrize("text_type", [pa.string(), pa.large_string(), pa.string_view()])
def test_every_string_layout_gives_the_same_findings(text_type):
    base = Auditor(key=KEY).scan(table())
    assert Auditor(key=KEY).scan(table(text_type)).equals(base)


def test_record_batch_reader_and_dictionary_inputs():
    a = Auditor(key=KEY)
    base = a.scan(table())
    t = table()
    assert a.scan(t.to_batches()[0]).equals(base)
    assert a.scan(pa.RecordBatchReader.from_batches(t.schema, t.to_batches(max_chunksize=2))).equals(base)
    d = t.set_column(1, "text", pa.compute.dictionary_encode(t.column("text")))
    assert a.scan(d).equals(base)


def test_shard_and_first_row_label_partitions():
    f = Auditor(key=KEY).scan(table(), shard="part-7", first_row=1000)
    assert set(f.column("shard").to_pylist()) == {"part-7"}
    assert f.column("row").to_pylist()[0] == 1002


def test_polars_input():
    pl = pytest.importorskip("polars")
    df = pl.DataFrame({"id": [f"d{i}" for i in range(len(TEXTS))], "text": TEXTS})
    assert Auditor(key=KEY).scan(df).equals(Auditor(key=KEY).scan(table()))


def test_duckdb_input():
    duckdb = pytest.importorskip("duckdb")
    t = table()  # noqa: F841  (read by duckdb's replacement scan)
    rel = duckdb.sql("select * from t order by id")
    assert Auditor(key=KEY).scan(rel).equals(Auditor(key=KEY).scan(table()))


def test_zero_copy_in():
    t = table()
    arr = t.column("text").chunks[0]
    assert shardguard._shardguard._text_buffer_address(t, "text") == arr.buffers()[2].address


def test_pickled_auditor_hashes_the_same():
    a = Auditor(detectors=["unicode"], text_column="text")  # random key, drawn once
    b = pickle.loads(pickle.dumps(a))
    assert b.detectors == ["unicode"]
    assert a.scan(table()).column("value_hash").equals(b.scan(table()).column("value_hash"))
    c = Auditor()  # another random key
    assert not a.scan(table()).column("value_hash").equals(c.scan(table()).column("value_hash"))


def test_missing_text_column_lists_string_columns():
    t = pa.table({"body": ["x"], "n": [1]})
    with pytest.raises(SchemaError, match="'body'") as e:
        Auditor().scan(t)
    assert isinstance(e.value, ShardguardError)
    with pytest.raises(SchemaError, match="Int64"):
        Auditor(text_column="n").scan(t)


def test_bad_options_raise_config_errors():
    with pytest.raises(ConfigError, match="unknown detector"):
        Auditor(detectors=["nope"])
    with pytest.raises(ConfigError, match="key"):
        Auditor(key="abc")
    with pytest.raises(ConfigError):
        Auditor(on_bad_line="ignore")
    with pytest.raises(TypeError, match="Arrow data"):
        Auditor().scan([1, 2, 3])


def test_scan_releases_the_gil():
    big = pa.table({"text": ["word " * 2000 + "\u202e"] * 4000})  # ~40 MB
    a = Auditor(key=KEY, threads=1)
    done = threading.Event()
    ticks = 0

    def run():
        a.scan(big)
        done.set()

    th = threading.Thread(target=run)
    th.start()
    while not done.is_set():
        ticks += 1
    th.join()
    assert ticks > 1000, "the main thread could not run while scanning"
