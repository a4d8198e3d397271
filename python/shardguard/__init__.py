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

__all__ = [
    "Auditor",
    "DedupState",
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
    ) -> "AuditResult":
        """Audits Parquet / Arrow IPC / JSONL files, directories or globs.

        With ``out``, writes ``findings.parquet``, ``records.parquet`` and ``summary.json`` there
        (atomically) and the result reads them lazily; without, results stay in memory. With
        ``filtered_out`` (needs the ``dedup`` detector), also writes every shard there, in its own
        format, with only the records dedup keeps (``records`` column ``dup_keep``); what was
        written is in ``summary["filtered"]``.
        """
        if isinstance(paths, (str, os.PathLike)):
            paths = [paths]
        inputs = [os.fspath(p) for p in paths]
        findings, records, summary = self._inner.audit(
            inputs,
            None if out is None else os.fspath(out),
            None if filtered_out is None else os.fspath(filtered_out),
        )
        return AuditResult(json.loads(summary), findings, records, None if out is None else Path(out))

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


class AuditResult:
    """What an audit found: ``findings`` and ``records`` (pyarrow Tables) and ``summary`` (dict)."""

    def __init__(self, summary: dict, findings: Optional[pa.Table], records: Optional[pa.Table], out: Optional[Path]):
        self.summary = summary
        self.out = out
        self._findings = findings
        self._records = records

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
