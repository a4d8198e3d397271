//! Python bindings (`shardguard._shardguard`): thin conversions around the core. The public
//! Python API lives in `python/shardguard/`.

use std::sync::Arc;

use arrow::array::{AsArray, RecordBatch};
use pyo3::create_exception;
use pyo3::exceptions::{PyException, PyTypeError};
use pyo3::prelude::*;
use pyo3_arrow::input::AnyRecordBatch;
use pyo3_arrow::PyTable;
use rayon::prelude::*;

use crate::audit::{self, AuditOptions, NoProgress, OnShardError};
use crate::corpus::dedup::DedupIndex;
use crate::corpus::outlier::OutlierState;
use crate::corpus::poison::PoisonState;
use crate::corpus::scores::ScoreState;
use crate::detect::dedup::DedupConfig;
use crate::detect::DetectorId;
use crate::finalize::poison_outputs;
use crate::hash::{Key, KeySource};
use crate::rules::RulesConfig;
use crate::scan::{ScanConfig, Scanner};
use crate::schema::{findings_schema, pii_values_schema, records_schema};
use crate::sink::{DirSink, MemorySink};
use crate::source::{OnBadLine, ReadOptions};
use crate::text::{text_array, TextColumn};
use crate::Error;

create_exception!(
    _shardguard,
    ShardguardError,
    PyException,
    "Base of every shardguard error."
);
create_exception!(
    _shardguard,
    SchemaError,
    ShardguardError,
    "The data lacks a needed column or has the wrong type."
);
create_exception!(
    _shardguard,
    ShardError,
    ShardguardError,
    "A shard is corrupt, truncated or not in the format it claims."
);
create_exception!(
    _shardguard,
    InputError,
    ShardguardError,
    "The inputs name nothing that can be read."
);
create_exception!(
    _shardguard,
    ConfigError,
    ShardguardError,
    "An option is invalid."
);
create_exception!(
    _shardguard,
    OutputError,
    ShardguardError,
    "Outputs could not be written."
);

fn to_py(e: Error) -> PyErr {
    let msg = e.to_string();
    match e {
        Error::Schema { .. } => SchemaError::new_err(msg),
        Error::Shard { .. } => ShardError::new_err(msg),
        Error::NoInput(_) | Error::Io { .. } => InputError::new_err(msg),
        Error::Config(_) => ConfigError::new_err(msg),
        Error::Output { .. } => OutputError::new_err(msg),
    }
}

fn policy(name: &str) -> PyResult<(OnShardError, OnBadLine)> {
    match name {
        "skip" => Ok((OnShardError::Skip, OnBadLine::Skip)),
        "fail" => Ok((OnShardError::Fail, OnBadLine::Fail)),
        other => Err(ConfigError::new_err(format!(
            "policy must be 'skip' or 'fail', not '{other}'"
        ))),
    }
}

/// The core auditor: configuration, key and worker pool.
#[pyclass(frozen, module = "shardguard._shardguard")]
struct _Auditor {
    scanner: Arc<Scanner>,
    opts: AuditOptions,
    key_hex: String,
    key_source: KeySource,
    pool: Option<Arc<rayon::ThreadPool>>,
}

impl _Auditor {
    fn install<T: Send>(&self, f: impl FnOnce() -> T + Send) -> T {
        match &self.pool {
            Some(p) => p.install(f),
            None => f(),
        }
    }

    fn key(&self) -> Result<Key, Error> {
        Ok(Key::from_hex(&self.key_hex)?.with_source(self.key_source))
    }
}

fn table(
    py: Python<'_>,
    batches: Vec<RecordBatch>,
    schema: arrow::datatypes::SchemaRef,
) -> PyResult<Py<PyAny>> {
    Ok(PyTable::try_new(batches, schema)?
        .into_pyarrow(py)?
        .unbind())
}

/// The Arrow data a method was given (anything with the Arrow PyCapsule interface).
fn arrow_input(data: &Bound<'_, PyAny>, method: &str) -> PyResult<AnyRecordBatch> {
    data.extract().map_err(|_| {
        PyTypeError::new_err(format!(
            "{method}() takes Arrow data (pyarrow Table/RecordBatch/RecordBatchReader, polars, duckdb, ... with __arrow_c_stream__), not {}",
            data.get_type().name().map(|n| n.to_string()).unwrap_or_default()
        ))
    })
}

/// Every batch of `reader` with the row its first record is, counting from `first_row`; a
/// batch that fails to import is an error naming the row it would have started at.
fn numbered_batches(
    reader: impl IntoIterator<Item = Result<RecordBatch, arrow::error::ArrowError>>,
    shard: &str,
    first_row: i64,
) -> Result<Vec<(i64, RecordBatch)>, Error> {
    let mut batches = Vec::new();
    let mut row = first_row;
    for b in reader {
        let b = b.map_err(|e| Error::shard(shard, crate::Location::Row(row), e))?;
        let n = b.num_rows() as i64;
        batches.push((row, b));
        row += n;
    }
    Ok(batches)
}

/// `(findings, records, pii_values, summary_json)`; the tables are `None` when written to a
/// directory (`pii_values` also when memorization did not run).
type AuditOutput = (
    Option<Py<PyAny>>,
    Option<Py<PyAny>>,
    Option<Py<PyAny>>,
    String,
);

#[pymethods]
impl _Auditor {
    #[new]
    #[pyo3(signature = (*, detectors, text_column, id_column, label_column, reveal, key_hex, key_is_user, threads, batch_size, on_shard_error, on_bad_line, rules_json, prompt_column=None, response_column=None))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        detectors: Vec<String>,
        text_column: String,
        id_column: Option<String>,
        label_column: Option<String>,
        reveal: bool,
        key_hex: String,
        key_is_user: bool,
        threads: Option<usize>,
        batch_size: usize,
        on_shard_error: &str,
        on_bad_line: &str,
        rules_json: &str,
        prompt_column: Option<String>,
        response_column: Option<String>,
    ) -> PyResult<Self> {
        let rules: RulesConfig = serde_json::from_str(rules_json)
            .map_err(|e| ConfigError::new_err(format!("rules: {e}")))?;
        let detectors = detectors
            .iter()
            .map(|d| d.parse::<DetectorId>())
            .collect::<Result<Vec<_>, _>>()
            .map_err(to_py)?;
        if batch_size == 0 {
            return Err(ConfigError::new_err("batch_size must be at least 1"));
        }
        let key_source = if key_is_user {
            KeySource::User
        } else {
            KeySource::RandomPerRun
        };
        let key = Key::from_hex(&key_hex)
            .map_err(to_py)?
            .with_source(key_source);
        let scan = ScanConfig {
            text_column,
            id_column,
            label_column,
            prompt_column,
            response_column,
            detectors,
            reveal,
            rules,
        };
        let opts = AuditOptions {
            scan: scan.clone(),
            read: ReadOptions {
                batch_size,
                on_bad_line: policy(on_bad_line)?.1,
            },
            on_shard_error: policy(on_shard_error)?.0,
            ..AuditOptions::default()
        };
        let pool = match threads {
            None => None,
            Some(0) => return Err(ConfigError::new_err("threads must be at least 1")),
            Some(n) => Some(Arc::new(
                rayon::ThreadPoolBuilder::new()
                    .num_threads(n)
                    .build()
                    .map_err(|e| ConfigError::new_err(e.to_string()))?,
            )),
        };
        Ok(Self {
            scanner: Arc::new(Scanner::new(scan, key).map_err(to_py)?),
            opts,
            key_hex,
            key_source,
            pool,
        })
    }

    /// Scans Arrow data (anything with `__arrow_c_stream__` / `__arrow_c_array__`).
    /// Returns `(findings, records)` as pyarrow Tables.
    #[pyo3(signature = (data, *, shard, first_row))]
    fn scan(
        &self,
        py: Python<'_>,
        data: &Bound<'_, PyAny>,
        shard: String,
        first_row: i64,
    ) -> PyResult<(Py<PyAny>, Py<PyAny>)> {
        self.scan_with(py, &self.scanner, data, "scan", &shard, first_row)
    }

    /// The duplicate sketches of Arrow data, as a mergeable `DedupState`.
    #[pyo3(signature = (data, *, shard, first_row))]
    fn sketch(
        &self,
        py: Python<'_>,
        data: &Bound<'_, PyAny>,
        shard: String,
        first_row: i64,
    ) -> PyResult<PyDedupState> {
        let input = arrow_input(data, "sketch")?;
        let parts = self.per_batch(
            py,
            &self.scanner,
            input,
            &shard,
            first_row,
            |row, b, cols| self.scanner.sketch(&shard, row, b, cols),
        )?;
        let index = py
            .detach(|| -> Result<_, Error> {
                let mut index = DedupIndex::default();
                for p in &parts {
                    index.append(p)?;
                }
                Ok(index)
            })
            .map_err(to_py)?;
        Ok(PyDedupState { index })
    }

    /// The poison and outlier state of Arrow data, with its records' rows, as a mergeable
    /// `ScoreState`.
    #[pyo3(signature = (data, *, shard, first_row))]
    fn score_sketch(
        &self,
        py: Python<'_>,
        data: &Bound<'_, PyAny>,
        shard: String,
        first_row: i64,
    ) -> PyResult<PyScoreState> {
        let on = |d| self.opts.scan.detectors.contains(&d);
        if !on(DetectorId::Poison) && !on(DetectorId::Outlier) {
            return Err(ConfigError::new_err(
                "a score state needs the poison or outlier detector",
            ));
        }
        let input = arrow_input(data, "score_sketch")?;
        let parts = self.per_batch(
            py,
            &self.scanner,
            input,
            &shard,
            first_row,
            |row, b, cols| self.scanner.scan(&shard, row, b, cols),
        )?;
        let mut state = ScoreState {
            poison: on(DetectorId::Poison).then(PoisonState::default),
            outlier: on(DetectorId::Outlier).then(OutlierState::default),
            ..ScoreState::default()
        };
        for p in parts {
            state
                .merge(ScoreState {
                    rows: vec![p.records],
                    stats: p.stats,
                    poison: p.poison,
                    outlier: p.outlier,
                })
                .map_err(to_py)?;
        }
        Ok(PyScoreState { state })
    }

    /// Finishes a (merged) score state: `(findings, records, summary_json)`. With `dedup` (the
    /// dedup state of the same records in the same order), label conflicts are looked for among
    /// its duplicates.
    #[pyo3(signature = (state, dedup=None))]
    fn finish_scores(
        &self,
        py: Python<'_>,
        state: &PyScoreState,
        dedup: Option<&PyDedupState>,
    ) -> PyResult<(Py<PyAny>, Py<PyAny>, String)> {
        let s = &state.state;
        let clusters = match dedup {
            Some(d) => Some(self.clusters_of(py, &d.index, s)?),
            None => None,
        };
        let out = py.detach(|| {
            let held: Vec<(usize, RecordBatch)> = s.rows.iter().map(|b| (0, b.clone())).collect();
            let mut stats = [s.stats.clone()];
            let out = self.install(|| {
                poison_outputs(
                    s.poison.clone(),
                    s.outlier.clone(),
                    clusters.as_ref(),
                    &held,
                    &self.opts.scan,
                    &mut stats,
                )
            });
            let summary = serde_json::json!({
                "records": s.len(),
                "poison": out.poison,
                "outliers": out.outliers,
            });
            (out.findings, out.records, summary.to_string())
        });
        Ok((
            table(py, vec![out.0], findings_schema())?,
            table(py, out.1, records_schema())?,
            out.2,
        ))
    }

    /// Arrow data with every finding in the text column replaced (`mode`: tag, mask, pseudonym);
    /// every other column, the schema and the row order kept. Returns a pyarrow Table.
    #[pyo3(signature = (data, *, mode, shard))]
    fn redact(
        &self,
        py: Python<'_>,
        data: &Bound<'_, PyAny>,
        mode: &str,
        shard: String,
    ) -> PyResult<(Py<PyAny>, String)> {
        let mode: crate::redact::RedactMode = mode.parse().map_err(to_py)?;
        let reader = arrow_input(data, "redact")?.into_reader()?;
        let schema = reader.schema();
        self.scanner
            .resolve_columns(&schema, &shard)
            .map_err(to_py)?;
        let redactor = crate::redact::Redactor::new(self.scanner.clone(), mode);
        let result = py.detach(|| -> Result<_, Error> {
            let batches = numbered_batches(reader, &shard, 0)?;
            let parts = self.install(|| {
                batches
                    .par_iter()
                    .map(|(_, b)| {
                        let mut c = crate::redact::RedactCounts::default();
                        redactor.redact_batch(b, &shard, &mut c).map(|b| (b, c))
                    })
                    .collect::<Result<Vec<_>, _>>()
            })?;
            let mut counts = crate::redact::RedactCounts::default();
            let mut out = Vec::with_capacity(parts.len());
            for (b, c) in parts {
                counts.merge(&c);
                out.push(b);
            }
            Ok((out, counts))
        });
        let (batches, counts) = result.map_err(to_py)?;
        let json =
            serde_json::to_string(&counts).map_err(|e| ConfigError::new_err(e.to_string()))?;
        Ok((table(py, batches, schema)?, json))
    }

    /// Audits files, directories or globs. With `out`, writes the output files there and returns
    /// `(None, None, None, summary_json)`; without, returns the tables. With `filtered_out`, also
    /// writes the shards with only the records dedup keeps there. With `index`, checks every
    /// record against that training index (model outputs).
    #[pyo3(signature = (inputs, out=None, filtered_out=None, index=None, memory_limit=None))]
    fn audit(
        &self,
        py: Python<'_>,
        inputs: Vec<String>,
        out: Option<std::path::PathBuf>,
        filtered_out: Option<std::path::PathBuf>,
        index: Option<&PyIndex>,
        memory_limit: Option<usize>,
    ) -> PyResult<AuditOutput> {
        let key = self.key().map_err(to_py)?;
        let mut opts = self.opts.clone();
        opts.filtered_out = filtered_out;
        opts.memory_limit = memory_limit;
        if let Some(i) = index {
            self.require_user_key("checking against an index")?;
            opts.check_index = Some(i.index.clone());
            opts.scan.detectors = audit::CHECK_DETECTORS.to_vec();
        }
        match out {
            Some(dir) => {
                let summary = py
                    .detach(|| {
                        let mut sink = DirSink::create(&dir)?;
                        self.install(|| audit::run(&inputs, &opts, key, &mut sink, &NoProgress))
                    })
                    .map_err(to_py)?;
                Ok((
                    None,
                    None,
                    None,
                    serde_json::to_string(&summary).unwrap_or_default(),
                ))
            }
            None => {
                let mut sink = MemorySink::default();
                let summary = py
                    .detach(|| {
                        self.install(|| audit::run(&inputs, &opts, key, &mut sink, &NoProgress))
                    })
                    .map_err(to_py)?;
                let pii_values = if summary.memorization.is_some() {
                    Some(table(py, sink.pii_values, pii_values_schema())?)
                } else {
                    None
                };
                Ok((
                    Some(table(py, sink.findings, findings_schema())?),
                    Some(table(py, sink.records, records_schema())?),
                    pii_values,
                    serde_json::to_string(&summary).unwrap_or_default(),
                ))
            }
        }
    }

    /// The training index of files, directories or globs (needs a user key).
    #[pyo3(signature = (inputs, *, fp_rate, capacity=None, memory_limit=None))]
    fn build_index(
        &self,
        py: Python<'_>,
        inputs: Vec<String>,
        fp_rate: f64,
        capacity: Option<u64>,
        memory_limit: Option<usize>,
    ) -> PyResult<(PyIndex, String)> {
        self.require_user_key("an index")?;
        let key = self.key().map_err(to_py)?;
        let mut opts = self.opts.clone();
        opts.memory_limit = memory_limit;
        let io = audit::IndexOptions { fp_rate, capacity };
        let (index, summary) = py
            .detach(|| self.install(|| audit::build_index(&inputs, &opts, key, &NoProgress, io)))
            .map_err(to_py)?;
        Ok((
            PyIndex {
                index: Arc::new(index),
            },
            serde_json::to_string(&summary).unwrap_or_default(),
        ))
    }

    /// Findings of Arrow data (model outputs) checked against a training index: PII and
    /// secrets, `MEMORIZED_PII` and `VERBATIM_SPAN`. Returns `(findings, records)`.
    #[pyo3(signature = (data, index, *, shard, first_row))]
    fn check(
        &self,
        py: Python<'_>,
        data: &Bound<'_, PyAny>,
        index: &PyIndex,
        shard: String,
        first_row: i64,
    ) -> PyResult<(Py<PyAny>, Py<PyAny>)> {
        self.require_user_key("checking against an index")?;
        let mut scan = self.opts.scan.clone();
        scan.detectors = audit::CHECK_DETECTORS.to_vec();
        let scanner = Scanner::new(scan, self.key().map_err(to_py)?)
            .and_then(|s| s.check_against(index.index.clone()))
            .map_err(to_py)?;
        self.scan_with(py, &scanner, data, "check", &shard, first_row)
    }
}

impl _Auditor {
    /// The duplicate clusters of `dedup`, which must hold the records of `scores` in order.
    fn clusters_of(
        &self,
        py: Python<'_>,
        dedup: &DedupIndex,
        scores: &ScoreState,
    ) -> PyResult<crate::corpus::dedup::Clusters> {
        let mut at = 0;
        for b in &scores.rows {
            let (shards, rows) = (
                b.column(0).as_string::<i32>(),
                b.column(1).as_primitive::<arrow::datatypes::Int64Type>(),
            );
            for i in 0..b.num_rows() {
                if at >= dedup.len() || dedup.location(at) != (shards.value(i), rows.value(i)) {
                    return Err(ConfigError::new_err(format!(
                        "the dedup state does not hold the score state's records in order: \
                         record {at} is {}:{} in the score state",
                        shards.value(i),
                        rows.value(i)
                    )));
                }
                at += 1;
            }
        }
        if at != dedup.len() {
            return Err(ConfigError::new_err(format!(
                "the dedup state holds {} records, the score state {at}",
                dedup.len()
            )));
        }
        let mut cfg = self.opts.scan.rules.dedup.clone();
        if let Some(s) = dedup.settings() {
            s.apply_to(&mut cfg);
        }
        Ok(py.detach(|| self.install(|| dedup.cluster(&cfg))))
    }

    /// `f(first row, batch, columns)` of every batch of `input` (columns resolved by `scanner`),
    /// batches in parallel, the GIL released.
    fn per_batch<T: Send>(
        &self,
        py: Python<'_>,
        scanner: &Scanner,
        input: AnyRecordBatch,
        shard: &str,
        first_row: i64,
        f: impl Fn(i64, &RecordBatch, &crate::scan::Columns) -> Result<T, Error> + Sync,
    ) -> PyResult<Vec<T>> {
        let reader = input.into_reader()?;
        let cols = scanner
            .resolve_columns(&reader.schema(), shard)
            .map_err(to_py)?;
        py.detach(|| -> Result<_, Error> {
            let batches = numbered_batches(reader, shard, first_row)?;
            self.install(|| {
                batches
                    .par_iter()
                    .map(|(row, b)| f(*row, b, &cols))
                    .collect::<Result<Vec<_>, _>>()
            })
        })
        .map_err(to_py)
    }

    /// `(findings, records)` of Arrow data scanned by `scanner`, batches in parallel, the GIL
    /// released.
    fn scan_with(
        &self,
        py: Python<'_>,
        scanner: &Scanner,
        data: &Bound<'_, PyAny>,
        method: &str,
        shard: &str,
        first_row: i64,
    ) -> PyResult<(Py<PyAny>, Py<PyAny>)> {
        let input = arrow_input(data, method)?;
        let results = self.per_batch(py, scanner, input, shard, first_row, |row, b, cols| {
            scanner.scan(shard, row, b, cols)
        })?;
        let (findings, records): (Vec<_>, Vec<_>) =
            results.into_iter().map(|r| (r.findings, r.records)).unzip();
        Ok((
            table(py, findings, findings_schema())?,
            table(py, records, records_schema())?,
        ))
    }

    fn require_user_key(&self, what: &str) -> PyResult<()> {
        if self.key_source == KeySource::User {
            Ok(())
        } else {
            Err(ConfigError::new_err(format!(
                "{what} needs a secret key: pass key=... (hex, at least 32 digits) or set \
                 SHARDGUARD_KEY; use the same key to build and to check"
            )))
        }
    }
}

/// A training-data index: keyed hashes of PII values with their counts and a Bloom filter of
/// token windows. Holds no key: checking needs the auditor's.
#[pyclass(frozen, module = "shardguard._shardguard", name = "_Index")]
struct PyIndex {
    index: Arc<crate::corpus::index::TrainingIndex>,
}

#[pymethods]
impl PyIndex {
    /// An index read from `data` (what `to_bytes` wrote).
    #[new]
    fn new(py: Python<'_>, data: Vec<u8>) -> PyResult<Self> {
        let index = py
            .detach(|| crate::corpus::index::TrainingIndex::from_bytes(&data))
            .map_err(to_py)?;
        Ok(Self {
            index: Arc::new(index),
        })
    }

    fn to_bytes<'py>(&self, py: Python<'py>) -> Bound<'py, pyo3::types::PyBytes> {
        let bytes = py.detach(|| self.index.to_bytes());
        pyo3::types::PyBytes::new(py, &bytes)
    }

    /// The header (sizes, false-positive rates, counts) as JSON.
    fn header_json(&self) -> String {
        serde_json::to_string(self.index.header()).unwrap_or_default()
    }

    /// This index and `other`'s (disjoint training data, same key and capacity) together.
    fn merge(&self, py: Python<'_>, other: &PyIndex) -> PyResult<Self> {
        py.detach(|| {
            let mut index = (*self.index).clone();
            index.merge(&other.index).map(|_| Self {
                index: Arc::new(index),
            })
        })
        .map_err(to_py)
    }

    fn __reduce__<'py>(
        slf: &Bound<'py, Self>,
    ) -> PyResult<(Bound<'py, PyAny>, (Bound<'py, pyo3::types::PyBytes>,))> {
        let py = slf.py();
        let bytes = slf.get().to_bytes(py);
        Ok((slf.get_type().into_any(), (bytes,)))
    }
}

/// Mergeable duplicate state: the sketches of many records with where each came from.
#[pyclass(frozen, module = "shardguard._shardguard", name = "DedupState")]
struct PyDedupState {
    index: DedupIndex,
}

fn record_batch(py: Python<'_>, b: RecordBatch) -> PyResult<Py<PyAny>> {
    let schema = b.schema();
    table(py, vec![b], schema)
}

#[pymethods]
impl PyDedupState {
    /// An empty state, or one read from `data` (what `to_bytes` wrote).
    #[new]
    #[pyo3(signature = (data=None))]
    fn new(py: Python<'_>, data: Option<Vec<u8>>) -> PyResult<Self> {
        let data = data.unwrap_or_default();
        let index = py.detach(|| DedupIndex::from_bytes(&data)).map_err(to_py)?;
        Ok(Self { index })
    }

    /// The state as bytes (an Arrow IPC stream; see `to_arrow`).
    fn to_bytes<'py>(&self, py: Python<'py>) -> Bound<'py, pyo3::types::PyBytes> {
        let bytes = py.detach(|| self.index.to_bytes());
        pyo3::types::PyBytes::new(py, &bytes)
    }

    /// This state's records followed by `other`'s; fails on states sketched differently.
    fn merge(&self, py: Python<'_>, other: &PyDedupState) -> PyResult<Self> {
        py.detach(|| {
            let mut index = self.index.clone();
            index.append(&other.index).map(|_| Self { index })
        })
        .map_err(to_py)
    }

    fn __len__(&self) -> usize {
        self.index.len()
    }

    /// One row per record: shard, row, exact hash, MinHash signature, sampled shingles,
    /// passages.
    fn to_arrow(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        match self.index.to_arrow() {
            Some(b) => record_batch(py, b),
            None => Err(ConfigError::new_err("an empty dedup state has no table")),
        }
    }

    /// LSH band keys (band, key, shard, row) to shuffle by (band, key) across workers.
    #[pyo3(signature = (bands=None))]
    fn band_keys(&self, py: Python<'_>, bands: Option<usize>) -> PyResult<Py<PyAny>> {
        let bands = bands.unwrap_or(DedupConfig::default().bands);
        let k = self.index.settings().map_or(0, |s| s.permutations);
        if bands == 0 || (k > 0 && k % bands != 0) {
            return Err(ConfigError::new_err(format!(
                "bands must divide the signature length {k}"
            )));
        }
        let b = py.detach(|| self.index.band_keys(bands));
        record_batch(py, b)
    }

    /// Clusters every record; thresholds default to the `[dedup]` defaults, the sketch
    /// settings are the state's own. Returns a pyarrow Table.
    #[pyo3(signature = (*, jaccard=None, containment=None, novelty=None, lines=None, bands=None, boilerplate_docs=None))]
    #[allow(clippy::too_many_arguments)]
    fn clusters(
        &self,
        py: Python<'_>,
        jaccard: Option<f64>,
        containment: Option<f64>,
        novelty: Option<f64>,
        lines: Option<f64>,
        bands: Option<usize>,
        boilerplate_docs: Option<usize>,
    ) -> PyResult<Py<PyAny>> {
        let d = DedupConfig::default();
        let mut cfg = DedupConfig {
            jaccard: jaccard.unwrap_or(d.jaccard),
            containment: containment.unwrap_or(d.containment),
            novelty: novelty.unwrap_or(d.novelty),
            lines: lines.unwrap_or(d.lines),
            bands: bands.unwrap_or(d.bands),
            boilerplate_docs: boilerplate_docs.unwrap_or(d.boilerplate_docs),
            ..d
        };
        if let Some(s) = self.index.settings() {
            s.apply_to(&mut cfg);
        }
        cfg.validate()
            .map_err(|m| ConfigError::new_err(format!("dedup: {m}")))?;
        let b = py.detach(|| {
            let c = self.index.cluster(&cfg);
            self.index.clusters_arrow(&c)
        });
        record_batch(py, b)
    }

    fn __reduce__<'py>(
        slf: &Bound<'py, Self>,
    ) -> PyResult<(Bound<'py, PyAny>, (Bound<'py, pyo3::types::PyBytes>,))> {
        let py = slf.py();
        let bytes = slf.get().to_bytes(py);
        Ok((slf.get_type().into_any(), (bytes,)))
    }

    fn __repr__(&self) -> String {
        format!("DedupState({} records)", self.index.len())
    }
}

/// Mergeable poison and outlier state: the models of many records with their rows.
#[pyclass(frozen, module = "shardguard._shardguard", name = "ScoreState")]
struct PyScoreState {
    state: ScoreState,
}

#[pymethods]
impl PyScoreState {
    /// An empty state, or one read from `data` (what `to_bytes` wrote).
    #[new]
    #[pyo3(signature = (data=None))]
    fn new(py: Python<'_>, data: Option<Vec<u8>>) -> PyResult<Self> {
        let state = match data {
            Some(d) => py.detach(|| ScoreState::from_bytes(&d)).map_err(to_py)?,
            None => ScoreState::default(),
        };
        Ok(Self { state })
    }

    fn to_bytes<'py>(&self, py: Python<'py>) -> Bound<'py, pyo3::types::PyBytes> {
        let bytes = py.detach(|| self.state.to_bytes());
        pyo3::types::PyBytes::new(py, &bytes)
    }

    /// This state's records followed by `other`'s; fails on states of different detectors.
    fn merge(&self, py: Python<'_>, other: &PyScoreState) -> PyResult<Self> {
        py.detach(|| {
            let mut state = self.state.clone();
            state.merge(other.state.clone()).map(|_| Self { state })
        })
        .map_err(to_py)
    }

    fn __len__(&self) -> usize {
        self.state.len()
    }

    fn __reduce__<'py>(
        slf: &Bound<'py, Self>,
    ) -> PyResult<(Bound<'py, PyAny>, (Bound<'py, pyo3::types::PyBytes>,))> {
        let py = slf.py();
        let bytes = slf.get().to_bytes(py);
        Ok((slf.get_type().into_any(), (bytes,)))
    }

    fn __repr__(&self) -> String {
        let s = &self.state;
        let models: Vec<&str> = [
            ("poison", s.poison.is_some()),
            ("outlier", s.outlier.is_some()),
        ]
        .iter()
        .filter(|m| m.1)
        .map(|m| m.0)
        .collect();
        format!("ScoreState({} records, {})", s.len(), models.join(" + "))
    }
}

/// A fresh random key (hex).
#[pyfunction]
fn random_key_hex() -> PyResult<String> {
    Key::random_hex().map_err(to_py)
}

/// Rules read from a TOML file, as JSON (merged with keyword arguments on the Python side).
#[pyfunction]
fn load_rules_json(path: std::path::PathBuf) -> PyResult<String> {
    let rules = RulesConfig::from_toml_file(&path).map_err(to_py)?;
    serde_json::to_string(&rules).map_err(|e| ConfigError::new_err(e.to_string()))
}

/// Address of the first byte of `column`'s values buffer as Rust sees it (zero-copy checks).
#[pyfunction]
fn _text_buffer_address(data: &Bound<'_, PyAny>, column: &str) -> PyResult<usize> {
    let input: AnyRecordBatch = data.extract()?;
    let mut reader = input.into_reader()?;
    let batch = reader
        .next()
        .ok_or_else(|| SchemaError::new_err("no batch"))?
        .map_err(|e| ShardError::new_err(e.to_string()))?;
    let col = batch
        .column_by_name(column)
        .ok_or_else(|| SchemaError::new_err(format!("no column '{column}'")))?;
    let arr = text_array(col).map_err(SchemaError::new_err)?;
    TextColumn::new(arr.as_ref())
        .map(|t| t.values_address())
        .ok_or_else(|| SchemaError::new_err("not a string column"))
}

#[pymodule]
fn _shardguard(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add_class::<_Auditor>()?;
    m.add_class::<PyDedupState>()?;
    m.add_class::<PyScoreState>()?;
    m.add_class::<PyIndex>()?;
    m.add_function(wrap_pyfunction!(random_key_hex, m)?)?;
    m.add_function(wrap_pyfunction!(load_rules_json, m)?)?;
    m.add_function(wrap_pyfunction!(_text_buffer_address, m)?)?;
    m.add("ShardguardError", py.get_type::<ShardguardError>())?;
    m.add("SchemaError", py.get_type::<SchemaError>())?;
    m.add("ShardError", py.get_type::<ShardError>())?;
    m.add("InputError", py.get_type::<InputError>())?;
    m.add("ConfigError", py.get_type::<ConfigError>())?;
    m.add("OutputError", py.get_type::<OutputError>())?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add(
        "AVAILABLE_DETECTORS",
        DetectorId::AVAILABLE
            .iter()
            .map(|d| d.as_str())
            .collect::<Vec<_>>(),
    )?;
    Ok(())
}
