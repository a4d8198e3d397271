"""shardguard: audit LLM training data before a model sees it.

>>> import shardguard
>>> result = shardguard.audit(["datasets-sample/"])        # doctest: +SKIP
>>> result.findings.group_by("kind").aggregate([("row", "count")])  # doctest: +SKIP

Per-batch use (pipelines, Ray ``map_batches``, Spark ``mapInArrow``)::

    auditor = shardguard.Auditor(detectors=["unicode"], text_column="text")
    findings = auditor.scan(batch)            # pyarrow Table of findings

Deduplication across workers: each sketches its part, the states merge in input order::

    state = auditor.sketch(part_a, shard="a.parquet").merge(auditor.sketch(part_b, shard="b.parquet"))
    clusters = state.clusters()               # shard, row, dup_cluster, dup_keep, kept_shard, ...

Is a model leaking training PII? Index the training data once, check its outputs::

    index = shardguard.build_index(["train/"], key=key_hex)
    leaks = index.check(outputs)              # MEMORIZED_PII, VERBATIM_SPAN (and the PII found)
"""

from __future__ import annotations

import html
import json
import os
from pathlib import Path
from typing import Any, Iterable, Optional, Sequence, Union

import pyarrow as pa
import pyarrow.parquet as pq

from shardguard import _shardguard
from shardguard.exceptions import (
    ConfigError,
    InputError,
    OutputError,
    SchemaError,
    ShardError,
    ShardguardError,
)

__version__: str = _shardguard.__version__
AVAILABLE_DETECTORS: list[str] = list(_shardguard.AVAILABLE_DETECTORS)

DedupState = _shardguard.DedupState
ScoreState = _shardguard.ScoreState

__all__ = [
    "Auditor",
    "DedupState",
    "ScoreState",
    "ScoreResult",
    "Index",
    "build_index",
    "AuditResult",
    "audit",
    "AVAILABLE_DETECTORS",
    "ShardguardError",
    "SchemaError",
    "ShardError",
    "InputError",
    "ConfigError",
    "OutputError",
]

PathLike = Union[str, "os.PathLike[str]"]


def _arrow_input(data: Any) -> Any:
    """Anything with the Arrow PyCapsule interface passes through untouched (zero copy)."""
    if hasattr(data, "__arrow_c_stream__") or hasattr(data, "__arrow_c_array__"):
        return data
    if hasattr(data, "arrow") and callable(data.arrow):  # older duckdb relations
        return data.arrow()
    try:
        import pandas as pd  # noqa: PLC0415

        if isinstance(data, pd.DataFrame):
            return pa.Table.from_pandas(data, preserve_index=False)
    except ImportError:
        pass
    raise TypeError(
        "expected Arrow data (pyarrow Table/RecordBatch/RecordBatchReader, polars DataFrame, "
        f"duckdb relation, pandas DataFrame), got {type(data).__name__}"
    )


class Auditor:
    r"""A configured audit: which detectors, which columns, which key.

    Cheap to pickle, so Ray and Spark can ship it to workers; every copy hashes values with the
    same key, so ``value_hash`` matches across workers.

    Args:
        detectors: detector names (default: every available one, see ``AVAILABLE_DETECTORS``).
        text_column: column holding the text.
        id_column: column identifying records (default: ``id`` or ``doc_id`` when present).
        label_column: column holding a class label, for label-aware detectors.
        prompt_column, response_column: instruction data's prompt and response columns (both or
            neither), for repeated responses and the prompt phrases that trigger them.
        reveal: put raw found values in ``preview`` instead of masked ones.
        key: hex key (>= 32 hex digits) for ``value_hash``; default ``$SHARDGUARD_KEY``, else a
            random key drawn once for this auditor.
        threads: worker threads (default: all cores).
        batch_size: rows per batch when reading files.
        on_shard_error: ``"skip"`` (report unreadable shards, audit the rest) or ``"fail"``.
        on_bad_line: ``"skip"`` (report bad JSONL lines) or ``"fail"`` (fail that shard).
        config: a rules file (TOML, as for ``shardguard audit --config``); the keywords below
            override its entries.
        kinds: kinds to report (default: every kind of the selected detectors).
        phone_regions: regions whose national phone formats are read (ISO 3166 alpha-2).
        allow_values: values never reported (case-insensitive).
        allow_domains: e-mail and URL domains never reported (subdomains included).
        rules: custom patterns, each ``{"name": "EMPLOYEE_ID", "pattern": r"EMP-\d{6}"}`` with
            optional ``"validator"`` (``"luhn"`` or ``"mod97"``) and ``"score"``.
    """

    def __init__(
        self,
        detectors: Optional[Sequence[str]] = None,
        text_column: str = "text",
        id_column: Optional[str] = None,
        label_column: Optional[str] = None,
        *,
        prompt_column: Optional[str] = None,
        response_column: Optional[str] = None,
        reveal: bool = False,
        key: Optional[str] = None,
        threads: Optional[int] = None,
        batch_size: int = 8192,
        on_shard_error: str = "skip",
        on_bad_line: str = "skip",
        config: Optional[PathLike] = None,
        kinds: Optional[Sequence[str]] = None,
        phone_regions: Optional[Sequence[str]] = None,
        allow_values: Optional[Sequence[str]] = None,
        allow_domains: Optional[Sequence[str]] = None,
        rules: Optional[Sequence[dict]] = None,
    ) -> None:
        if isinstance(detectors, str):
            detectors = [d for d in detectors.split(",") if d.strip()]
        env_key = os.environ.get("SHARDGUARD_KEY", "").strip()
        key_is_user = key is not None or bool(env_key)
        key_hex = key if key is not None else (env_key or _shardguard.random_key_hex())
        self._config = dict(
            detectors=list(detectors) if detectors is not None else list(AVAILABLE_DETECTORS),
            text_column=text_column,
            id_column=id_column,
            label_column=label_column,
            prompt_column=prompt_column,
            response_column=response_column,
            reveal=bool(reveal),
            key_hex=key_hex,
            key_is_user=key_is_user,
            threads=threads,
            batch_size=batch_size,
            on_shard_error=on_shard_error,
            on_bad_line=on_bad_line,
            rules_json=_rules_json(config, kinds, phone_regions, allow_values, allow_domains, rules),
        )
        self._inner = _shardguard._Auditor(**self._config)

    @property
    def detectors(self) -> list[str]:
        return list(self._config["detectors"])

    @property
    def text_column(self) -> str:
        return self._config["text_column"]

    def scan(self, data: Any, *, shard: str = "<memory>", first_row: int = 0) -> pa.Table:
        """Findings in ``data`` (one Arrow batch, table or stream) as a pyarrow Table.

        ``shard`` and ``first_row`` label the rows, so per-partition calls in Ray or Spark
        produce the same keys a file audit would.
        """
        return self._inner.scan(_arrow_input(data), shard=shard, first_row=first_row)[0]

    def scan_records(self, data: Any, *, shard: str = "<memory>", first_row: int = 0) -> pa.Table:
        """One row per input record: counts per detector and the kinds found (``flags``)."""
        return self._inner.scan(_arrow_input(data), shard=shard, first_row=first_row)[1]

    def sketch(self, data: Any, *, shard: str = "<memory>", first_row: int = 0) -> "DedupState":
        """The duplicate sketches of ``data`` as a mergeable :class:`DedupState`.

        Workers sketch their partitions (labelled by ``shard`` and ``first_row``); the states
        ship as bytes (``to_bytes``, or pickle) and ``merge`` in input order; ``clusters()`` on
        the merged state equals what one audit of all the data finds. ``band_keys()`` gives the
        LSH keys as a table for an engine to shuffle by instead.
        """
        return self._inner.sketch(_arrow_input(data), shard=shard, first_row=first_row)

    def score_sketch(self, data: Any, *, shard: str = "<memory>", first_row: int = 0) -> "ScoreState":
        """The ``poison`` and ``outlier`` models of ``data`` as a mergeable :class:`ScoreState`.

        Those detectors judge each record against the whole corpus, so per-batch calls cannot
        score on their own: workers sketch their partitions (labelled by ``shard`` and
        ``first_row``), the states ship as bytes (``to_bytes``, or pickle) and ``merge`` in
        input order, and :meth:`finish_scores` on the merged state gives what one audit of all
        the data gives.
        """
        return self._inner.score_sketch(_arrow_input(data), shard=shard, first_row=first_row)

    def finish_scores(self, state: "ScoreState", *, dedup: Optional["DedupState"] = None) -> "ScoreResult":
        """Findings, ``records`` (with ``poison_score`` / ``outlier_score``) and the poison and
        outlier summary of a merged :class:`ScoreState`. With ``dedup`` (the
        :meth:`sketch` state of the same records, merged in the same order), near-duplicates
        with different labels are reported too (``LABEL_CONFLICT``)."""
        findings, records, summary = self._inner.finish_scores(state, dedup)
        return ScoreResult(findings, records, json.loads(summary))

    def redact(self, data: Any, mode: str = "tag", *, shard: str = "<memory>") -> pa.Table:
        """``data`` with every finding in the text column replaced, as a pyarrow Table.

        ``mode``: ``"tag"`` (``<EMAIL>``), ``"mask"`` (letters and digits become ``*``) or
        ``"pseudonym"`` (a stand-in of the same shape, the same for equal values under this
        auditor's key). Every other column, the schema and the row order are kept. The counts of
        the last call are in :attr:`last_redaction`.
        """
        table, counts = self._inner.redact(_arrow_input(data), mode=mode, shard=shard)
        self.last_redaction = json.loads(counts)
        return table

    def audit(
        self,
        paths: Union[PathLike, Iterable[PathLike]],
        out: Optional[PathLike] = None,
        *,
        filtered_out: Optional[PathLike] = None,
        memory_limit: Optional[int] = None,
    ) -> "AuditResult":
        """Audits Parquet / Arrow IPC / JSONL files, directories or globs.

        With ``out``, writes ``findings.parquet``, ``records.parquet``, ``pii_values.parquet``
        (with ``memorization``) and ``summary.json`` there (atomically) and the result reads them
        lazily; without, results stay in memory. With ``filtered_out`` (needs the ``dedup``
        detector), also writes every shard there, in its own format, with only the records dedup
        keeps (``records`` column ``dup_keep``); what was written is in ``summary["filtered"]``.
        ``memory_limit`` (bytes) bounds the memorization state held in memory; the rest spills to
        disk.
        """
        return self._audit(paths, out, filtered_out=filtered_out, memory_limit=memory_limit)

    def _audit(self, paths, out, *, filtered_out=None, memory_limit=None, index=None) -> "AuditResult":
        inputs = _inputs(paths)
        findings, records, pii_values, summary = self._inner.audit(
            inputs,
            None if out is None else os.fspath(out),
            None if filtered_out is None else os.fspath(filtered_out),
            index,
            memory_limit,
        )
        return AuditResult(json.loads(summary), findings, records, None if out is None else Path(out), pii_values)

    def build_index(
        self,
        paths: Union[PathLike, Iterable[PathLike]],
        *,
        fp_rate: float = 1e-6,
        capacity: Optional[int] = None,
        memory_limit: Optional[int] = None,
    ) -> "Index":
        """The training index of ``paths`` (see :func:`build_index`); needs a user key."""
        inner, summary = self._inner.build_index(
            _inputs(paths), fp_rate=fp_rate, capacity=capacity, memory_limit=memory_limit
        )
        index = Index(inner, self)
        index.summary = json.loads(summary)
        return index

    def __getstate__(self) -> dict:
        return dict(self._config)

    def __setstate__(self, state: dict) -> None:
        self._config = dict(state)
        self._inner = _shardguard._Auditor(**self._config)

    def __repr__(self) -> str:
        c = self._config
        return (
            f"Auditor(detectors={c['detectors']!r}, text_column={c['text_column']!r}, "
            f"id_column={c['id_column']!r}, key={'user' if c['key_is_user'] else 'random'})"
        )


def _inputs(paths: Union[PathLike, Iterable[PathLike]]) -> list[str]:
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    return [os.fspath(p) for p in paths]


class Index:
    """A training-data index: the keyed hash of every PII and secret value with its counts, and a
    Bloom filter of every token window. It holds no raw value and no text; checking needs the key
    it was built with (that of the auditor given, or passed to :meth:`load`).

    ``check(data)`` finds, in model outputs, ``MEMORIZED_PII`` (a value the training data holds,
    with its training count) and ``VERBATIM_SPAN`` (a run of training windows). Indexes of
    disjoint training shards built with the same ``capacity`` merge into the index of the whole.
    """

    def __init__(self, inner: Any, auditor: "Auditor"):
        self._inner = inner
        self._auditor = auditor
        self.summary: Optional[dict] = None

    @property
    def header(self) -> dict:
        """Format, window length, filter size and false-positive rates, counts."""
        return json.loads(self._inner.header_json())

    def check(self, data: Any, *, shard: str = "<memory>", first_row: int = 0) -> pa.Table:
        """Findings in Arrow data (model outputs): PII and secrets, ``MEMORIZED_PII`` and
        ``VERBATIM_SPAN``, as a pyarrow Table keyed like an audit's."""
        return self._auditor._inner.check(_arrow_input(data), self._inner, shard=shard, first_row=first_row)[0]

    def check_files(self, paths: Union[PathLike, Iterable[PathLike]], out: Optional[PathLike] = None) -> "AuditResult":
        """Checks files of model outputs, written (with ``out``) as ``shardguard check`` writes them."""
        return self._auditor._audit(paths, out, index=self._inner)

    def merge(self, other: "Index") -> "Index":
        """This index and ``other``'s together (disjoint training data, same key and capacity)."""
        return Index(self._inner.merge(other._inner), self._auditor)

    def to_bytes(self) -> bytes:
        return self._inner.to_bytes()

    def save(self, path: PathLike) -> None:
        """Writes the index to ``path`` atomically (a temporary file renamed into place)."""
        path = Path(path)
        tmp = path.with_name(f".{path.name}.partial-{os.getpid()}")
        try:
            tmp.write_bytes(self.to_bytes())
            os.replace(tmp, path)
        finally:
            if tmp.exists():
                tmp.unlink()

    @classmethod
    def from_bytes(cls, data: bytes, *, key: Optional[str] = None, **options: Any) -> "Index":
        return cls(_shardguard._Index(bytes(data)), Auditor(key=key, **options))

    @classmethod
    def load(cls, path: PathLike, *, key: Optional[str] = None, **options: Any) -> "Index":
        """Reads an index written by :meth:`save` or ``shardguard index``."""
        return cls.from_bytes(Path(path).read_bytes(), key=key, **options)

    def __getstate__(self) -> dict:
        return {"index": self.to_bytes(), "auditor": self._auditor.__getstate__()}

    def __setstate__(self, state: dict) -> None:
        self._inner = _shardguard._Index(state["index"])
        self._auditor = Auditor.__new__(Auditor)
        self._auditor.__setstate__(state["auditor"])
        self.summary = None

    def __repr__(self) -> str:
        h = self.header
        return (
            f"Index({h['values']} values, {h['windows']} windows of {h['window_tokens']} words, "
            f"{h['bloom_bits'] // 8 / 1e6:.1f} MB filter at fp-rate {h['fp_rate']:g})"
        )


class ScoreResult:
    """What a finished :class:`ScoreState` found: ``findings`` and ``records`` (pyarrow Tables,
    the columns of an audit's) and ``summary`` (dict: ``records``, ``poison``, ``outliers``)."""

    def __init__(self, findings: pa.Table, records: pa.Table, summary: dict):
        self.findings = findings
        self.records = records
        self.summary = summary

    def __repr__(self) -> str:
        return f"<ScoreResult {self.summary['records']} records, {self.findings.num_rows} findings>"


class AuditResult:
    """What an audit found: ``findings``, ``records`` and ``pii_values`` (pyarrow Tables) and
    ``summary`` (dict)."""

    def __init__(
        self,
        summary: dict,
        findings: Optional[pa.Table],
        records: Optional[pa.Table],
        out: Optional[Path],
        pii_values: Optional[pa.Table] = None,
    ):
        self.summary = summary
        self.out = out
        self._findings = findings
        self._records = records
        self._pii_values = pii_values

    def _table(self, name: str) -> pa.Table:
        """The in-memory table, or the one written to ``out``, read on first use."""
        attr = f"_{name}"
        if getattr(self, attr) is None:
            assert self.out is not None
            setattr(self, attr, pq.read_table(self.out / f"{name}.parquet"))
        return getattr(self, attr)

    @property
    def findings(self) -> pa.Table:
        return self._table("findings")

    @property
    def records(self) -> pa.Table:
        return self._table("records")

    @property
    def pii_values(self) -> Optional[pa.Table]:
        """One row per distinct PII or secret value (keyed hash, kind, masked preview,
        occurrences, documents, clusters, first seen, risk band); ``None`` when the
        ``memorization`` detector did not run."""
        if "memorization" not in self.summary:
            return None
        return self._table("pii_values")

    @property
    def failed_shards(self) -> list[dict]:
        return list(self.summary.get("failed_shards", []))

    def __repr__(self) -> str:
        s = self.summary
        kinds = ", ".join(f"{k}={v['findings']}" for k, v in s.get("kinds", {}).items()) or "none"
        return (
            f"<AuditResult {s['records']} records, {s['shards_total']} shards "
            f"({s['shards_failed']} failed), {s['findings']} findings: {kinds}>"
        )

    def _repr_html_(self) -> str:
        s = self.summary
        e = html.escape
        rows = "".join(
            f"<tr><td>{e(k)}</td><td style='text-align:right'>{v['findings']}</td>"
            f"<td style='text-align:right'>{v['records']}</td></tr>"
            for k, v in s.get("kinds", {}).items()
        ) or "<tr><td colspan=3>no findings</td></tr>"
        examples = ""
        f = self.findings
        if f.num_rows:
            ex = f.slice(0, 5).select(["shard", "row", "kind", "preview"]).to_pylist()
            examples = "<h4>Examples</h4><table><tr><th>shard</th><th>row</th><th>kind</th><th>preview</th></tr>" + "".join(
                f"<tr><td>{e(str(r['shard']))}</td><td>{r['row']}</td><td>{e(r['kind'])}</td>"
                f"<td><code>{e(str(r['preview']))}</code></td></tr>"
                for r in ex
            ) + "</table>"
        failed = "".join(f"<li>{e(x['error'])}</li>" for x in self.failed_shards)
        failed = f"<h4>Failed shards</h4><ul>{failed}</ul>" if failed else ""
        return (
            f"<div><b>shardguard audit</b>: {s['records']} records, "
            f"{s['text_bytes'] / 1e6:.2f} MB of text, {s['shards_total']} shards, "
            f"{s['findings']} findings in {s['records_flagged']} records "
            f"({s['elapsed_seconds']:.2f}s)"
            f"<table><tr><th>kind</th><th>findings</th><th>records</th></tr>{rows}</table>"
            f"{examples}{failed}</div>"
        )


def _rules_json(config, kinds, phone_regions, allow_values, allow_domains, rules) -> str:
    """The rules file merged with keyword overrides, as the JSON the core reads."""
    merged: dict = json.loads(_shardguard.load_rules_json(str(config))) if config is not None else {}
    if kinds is not None:
        merged["kinds"] = [kinds] if isinstance(kinds, str) else list(kinds)
    if phone_regions is not None:
        merged["phone_regions"] = [phone_regions] if isinstance(phone_regions, str) else list(phone_regions)
    allow = merged.setdefault("allow", {})
    if allow_values is not None:
        allow["values"] = list(allow_values)
    if allow_domains is not None:
        allow["domains"] = list(allow_domains)
    if rules is not None:
        merged["rules"] = [dict(r) for r in rules]
    return json.dumps(merged)


def audit(
    paths: Union[PathLike, Iterable[PathLike]],
    out: Optional[PathLike] = None,
    *,
    filtered_out: Optional[PathLike] = None,
    **options: Any,
) -> AuditResult:
    """Audits files, directories or globs with an :class:`Auditor` built from ``options``."""
    return Auditor(**options).audit(paths, out, filtered_out=filtered_out)


def build_index(
    paths: Union[PathLike, Iterable[PathLike]],
    *,
    key: Optional[str] = None,
    fp_rate: float = 1e-6,
    capacity: Optional[int] = None,
    memory_limit: Optional[int] = None,
    **options: Any,
) -> Index:
    """The training index of ``paths``: what ``shardguard index`` builds.

    ``key`` (hex, or ``$SHARDGUARD_KEY``) is required: the index holds only hashes keyed by it.
    ``fp_rate`` is the filter's false-positive rate per window looked up; ``capacity`` the
    windows it is sized for (default: those of ``paths``) — give indexes that will be merged the
    same capacity. ``options`` are :class:`Auditor` options (``text_column``, ``id_column``...).
    """
    return Auditor(key=key, **options).build_index(
        paths, fp_rate=fp_rate, capacity=capacity, memory_limit=memory_limit
    )
