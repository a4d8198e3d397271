//! The per-batch call shared by the CLI, the Python API and distributed engines:
//! one Arrow `RecordBatch` in, findings and per-record rows out. Pure: no IO.

use arrow::array::{Array, ArrayRef, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Schema};

use std::sync::Arc;

use crate::corpus::dedup::DedupIndex;
use crate::corpus::index::TrainingIndex;
use crate::corpus::memo::MemoBatch;
use crate::corpus::outlier::OutlierState;
use crate::corpus::poison::{BurstSignal, Located as Cand, PoisonState, Reach};
use crate::corpus::CorpusStats;
use crate::detect::dedup;
use crate::detect::memorization::{self, Seeds, Valued, Windows};
use crate::detect::outlier;
use crate::detect::{injection, poison};
use crate::detect::{
    pii::PiiDetector, secret::SecretDetector, unicode::UnicodeDetector, DetectorId, Hit,
    TextDetector,
};
use crate::hash::Key;
use crate::rules::{Allowlist, CustomDetector, RulesConfig};
use crate::schema::{FindingsBuilder, Located, RecordRow, RecordsBuilder};
use crate::text::{is_text_type, text_array, CharOffsets, TextColumn};
use crate::{Error, Result};

/// Id columns tried, in order, when none is named.
pub const DEFAULT_ID_COLUMNS: [&str; 2] = ["id", "doc_id"];

/// What to scan and how to report it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ScanConfig {
    pub text_column: String,
    /// `None`: the first of [`DEFAULT_ID_COLUMNS`] present, if any.
    pub id_column: Option<String>,
    pub label_column: Option<String>,
    /// Instruction data: the prompt and response columns (both or neither).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt_column: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_column: Option<String>,
    pub detectors: Vec<DetectorId>,
    /// Put raw values in `preview` instead of masked ones.
    pub reveal: bool,
    /// Kinds, phone regions, allowlists and custom rules.
    #[serde(default)]
    pub rules: RulesConfig,
}

impl Default for ScanConfig {
    fn default() -> Self {
        Self {
            text_column: "text".into(),
            id_column: None,
            label_column: None,
            prompt_column: None,
            response_column: None,
            detectors: DetectorId::AVAILABLE.to_vec(),
            reveal: false,
            rules: RulesConfig::default(),
        }
    }
}

/// Columns of one input schema resolved against a [`ScanConfig`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Columns {
    pub text: String,
    pub id: Option<String>,
    pub label: Option<String>,
    /// Prompt and response columns of instruction data.
    pub instruction: Option<(String, String)>,
}

impl Columns {
    /// Names of the columns to read, for projection.
    pub fn names(&self) -> Vec<&str> {
        let mut v = vec![self.text.as_str()];
        v.extend(self.id.as_deref());
        v.extend(self.label.as_deref());
        if let Some((p, r)) = &self.instruction {
            v.extend([p.as_str(), r.as_str()]);
        }
        v.dedup();
        v
    }
}

/// Result of scanning one batch.
pub struct BatchResult {
    pub findings: RecordBatch,
    pub records: RecordBatch,
    pub stats: CorpusStats,
    /// Duplicate sketches of the batch's records, when `dedup` runs.
    pub dedup: Option<DedupIndex>,
    /// PII values and token windows of the batch's records, when `memorization` counts them.
    pub memo: Option<MemoBatch>,
    /// Poisoning signals of the batch's records, when `poison` runs.
    pub poison: Option<PoisonState>,
    /// Per-record statistics (`None` without text), when `outlier` runs.
    pub outlier: Option<OutlierState>,
}

/// Configured detectors plus the hashing key. Cheap to share across threads.
pub struct Scanner {
    config: ScanConfig,
    key: Key,
    detectors: Vec<Box<dyn TextDetector>>,
    /// Kinds reported; `None`: all.
    kinds: Option<Vec<&'static str>>,
    allow: Allowlist,
    sketching: bool,
    poisoning: bool,
    outliers: bool,
    /// Which windows `memorization` collects (`None`: it does not run or checks an index).
    memo: Option<Windows>,
    /// The training index model outputs are checked against.
    index: Option<Arc<TrainingIndex>>,
    seeds: Seeds,
}

impl Scanner {
    pub fn new(config: ScanConfig, key: Key) -> Result<Self> {
        if config.detectors.is_empty() {
            return Err(Error::Config("no detector selected".into()));
        }
        let rules = &config.rules;
        let mut detectors: Vec<Box<dyn TextDetector>> = Vec::new();
        for d in &config.detectors {
            match d {
                DetectorId::Unicode => detectors.push(Box::new(UnicodeDetector)),
                DetectorId::Pii => detectors.push(Box::new(match &rules.phone_regions {
                    Some(r) => PiiDetector::new(r).map_err(Error::Config)?,
                    None => PiiDetector::default(),
                })),
                DetectorId::Secret => detectors.push(Box::new(SecretDetector)),
                // Sketched per record in `scan` (its settings are checked below).
                DetectorId::Dedup => {}
                // Collected per record in `scan` from the values found.
                DetectorId::Memorization => {}
                // Injections per text (from the shared tokens in `scan`), bursts and
                // instruction signals collected in `scan`.
                DetectorId::Poison => {}
                DetectorId::Outlier => {}
            }
        }
        // Checked whatever the detectors: `sketch` uses them too.
        rules
            .dedup
            .validate()
            .map_err(|m| Error::Config(format!("dedup: {m}")))?;
        rules
            .memorization
            .validate()
            .map_err(|m| Error::Config(format!("memorization: {m}")))?;
        rules
            .poison
            .validate()
            .map_err(|m| Error::Config(format!("poison: {m}")))?;
        if config.prompt_column.is_some() != config.response_column.is_some() {
            return Err(Error::Config(
                "instruction data needs both a prompt and a response column".into(),
            ));
        }
        let mut known: Vec<&'static str> = crate::detect::KINDS.iter().map(|(_, k)| *k).collect();
        if !rules.rules.is_empty() {
            let custom = CustomDetector::new(&rules.rules)?;
            known.extend(custom.kinds());
            detectors.push(Box::new(custom));
        }
        let kinds = match &rules.kinds {
            None => None,
            Some(names) => Some(
                names
                    .iter()
                    .map(|n| {
                        known
                            .iter()
                            .find(|k| k.eq_ignore_ascii_case(n.trim()))
                            .copied()
                            .ok_or_else(|| {
                                Error::Config(format!(
                                    "unknown kind {n:?}; known kinds: {}",
                                    known.join(", ")
                                ))
                            })
                    })
                    .collect::<Result<Vec<_>>>()?,
            ),
        };
        let allow = Allowlist::new(&rules.allow);
        Ok(Self {
            sketching: config.detectors.contains(&DetectorId::Dedup),
            poisoning: config.detectors.contains(&DetectorId::Poison),
            outliers: config.detectors.contains(&DetectorId::Outlier),
            memo: config
                .detectors
                .contains(&DetectorId::Memorization)
                .then_some(Windows::Sampled),
            index: None,
            seeds: Seeds::new(&key),
            config,
            key,
            detectors,
            kinds,
            allow,
        })
    }

    /// Every reported hit in `text`, after the kind filter and the allowlist, ordered by span.
    pub fn hits(&self, text: &str, hits: &mut Vec<Hit>) {
        let mut tokens = Vec::new();
        if self.poisoning {
            poison::tokenize(text, &mut tokens);
        }
        self.hits_with(text, &tokens, hits)
    }

    /// [`Scanner::hits`] given the text's tokens (needed when `poison` runs).
    fn hits_with(&self, text: &str, tokens: &[poison::Token], hits: &mut Vec<Hit>) {
        hits.clear();
        for d in &self.detectors {
            d.scan(text, hits);
        }
        if self.poisoning {
            injection::scan(text, tokens, hits);
        }
        if let Some(kinds) = &self.kinds {
            hits.retain(|h| kinds.contains(&h.kind));
        }
        if !self.allow.is_empty() {
            hits.retain(|h| !self.allow.allows(&text[h.start..h.end], h));
        }
        hits.sort_by(|a, b| (a.start, a.end, a.kind).cmp(&(b.start, b.end, b.kind)));
    }

    /// Collects every token window (to build a training index) instead of a sample.
    pub fn collect_all_windows(mut self) -> Self {
        self.memo = Some(Windows::All);
        self
    }

    /// Checks every record against a training index (model outputs): `memorization` then
    /// reports `MEMORIZED_PII` and `VERBATIM_SPAN` instead of collecting counts.
    pub fn check_against(mut self, index: Arc<TrainingIndex>) -> Result<Self> {
        index.check_key(&self.key)?;
        if index.header().window_tokens != self.config.rules.memorization.window_tokens {
            // The index decides the window; the config's only matters when collecting.
            self.config.rules.memorization.window_tokens = index.header().window_tokens;
        }
        self.memo = None;
        self.index = Some(index);
        Ok(self)
    }

    /// Whether `scan` collects memorization state ([`BatchResult::memo`]).
    pub fn collects_memo(&self) -> bool {
        self.memo.is_some()
    }

    pub fn config(&self) -> &ScanConfig {
        &self.config
    }

    pub fn key(&self) -> &Key {
        &self.key
    }

    /// Checks `schema` and picks the columns to read. `shard` names the input in errors.
    pub fn resolve_columns(&self, schema: &Schema, shard: &str) -> Result<Columns> {
        let c = &self.config;
        let text = match schema.field_with_name(&c.text_column) {
            Ok(f) if is_text_type(f.data_type()) => f.name().clone(),
            Ok(f) => {
                return Err(Error::schema(
                    shard,
                    format!(
                        "text column '{}' has type {}, not a string type; string columns: {}",
                        c.text_column,
                        f.data_type(),
                        string_columns(schema)
                    ),
                ))
            }
            Err(_) => {
                return Err(Error::schema(
                    shard,
                    format!(
                        "no text column '{}'; string columns: {} (choose one with --text-column)",
                        c.text_column,
                        string_columns(schema)
                    ),
                ))
            }
        };
        let id = match &c.id_column {
            Some(name) => {
                let f = schema
                    .field_with_name(name)
                    .map_err(|_| Error::schema(shard, format!("no id column '{name}'")))?;
                check_scalar(f.data_type(), shard, "id", name)?;
                Some(name.clone())
            }
            None => DEFAULT_ID_COLUMNS
                .iter()
                .find(|n| {
                    schema
                        .field_with_name(n)
                        .is_ok_and(|f| check_scalar(f.data_type(), shard, "id", n).is_ok())
                })
                .map(|n| n.to_string()),
        };
        let label = match &c.label_column {
            Some(name) => {
                let f = schema
                    .field_with_name(name)
                    .map_err(|_| Error::schema(shard, format!("no label column '{name}'")))?;
                check_scalar(f.data_type(), shard, "label", name)?;
                Some(name.clone())
            }
            None => None,
        };
        let string_column = |name: &str, role: &str| -> Result<String> {
            match schema.field_with_name(name) {
                Ok(f) if is_text_type(f.data_type()) => Ok(name.to_string()),
                Ok(f) => Err(Error::schema(
                    shard,
                    format!(
                        "{role} column '{name}' has type {}, not a string type",
                        f.data_type()
                    ),
                )),
                Err(_) => Err(Error::schema(
                    shard,
                    format!(
                        "no {role} column '{name}'; string columns: {}",
                        string_columns(schema)
                    ),
                )),
            }
        };
        let instruction = match (&c.prompt_column, &c.response_column) {
            (Some(p), Some(r)) => {
                Some((string_column(p, "prompt")?, string_column(r, "response")?))
            }
            _ => None,
        };
        Ok(Columns {
            text,
            id,
            label,
            instruction,
        })
    }

    /// Scans one batch whose first row is row `first_row` of `shard`.
    pub fn scan(
        &self,
        shard: &str,
        first_row: i64,
        batch: &RecordBatch,
        cols: &Columns,
    ) -> Result<BatchResult> {
        let bad = |m: String| Error::schema(shard, m);
        let text = text_values(batch, cols, shard)?;
        let text = TextColumn::new(text.as_ref()).ok_or_else(|| not_text(shard, cols))?;
        let ids = match &cols.id {
            Some(name) => Some(id_strings(batch, name).map_err(bad)?),
            None => None,
        };
        let ids = match &ids {
            Some(a) => Some(
                a.as_any()
                    .downcast_ref::<StringArray>()
                    .ok_or_else(|| bad("id column is not Utf8 after the cast".into()))?,
            ),
            None => None,
        };

        let n = batch.num_rows();
        let mut findings = FindingsBuilder::default();
        let mut records = RecordsBuilder::with_capacity(n);
        let mut stats = CorpusStats::default();
        let mut hits: Vec<Hit> = Vec::new();
        let mut flags: Vec<&'static str> = Vec::new();
        let cfg = &self.config.rules.dedup;
        let mut dedup = self.sketching.then(|| {
            let mut idx = DedupIndex::new(cfg);
            idx.begin(shard, first_row);
            idx
        });
        let mut scratch = dedup::Scratch::default();
        let mut memo = self.memo.map(|_| MemoBatch {
            records: n as u64,
            ..MemoBatch::default()
        });
        let mut tokens = Vec::new();
        let mut window_hashes = Vec::new();
        let mut poison_batch = self.poisoning.then(|| PoisonState::new(n as u64));
        let mut pscratch = poison::Scratch::default();
        let mut ptokens = Vec::new();
        let mut itokens = Vec::new();
        let instr_arrays = match (&cols.instruction, self.poisoning) {
            (Some((p, r)), true) => Some((
                column_values(batch, p, "prompt", shard)?,
                column_values(batch, r, "response", shard)?,
            )),
            _ => None,
        };
        let instr = match &instr_arrays {
            Some((p, r)) => Some((
                TextColumn::new(p.as_ref()).ok_or_else(|| not_text(shard, cols))?,
                TextColumn::new(r.as_ref()).ok_or_else(|| not_text(shard, cols))?,
            )),
            None => None,
        };
        let labels = match (&cols.label, self.poisoning) {
            (Some(name), true) => Some(id_strings(batch, name).map_err(bad)?),
            _ => None,
        };
        let labels = match &labels {
            Some(a) => Some(
                a.as_any()
                    .downcast_ref::<StringArray>()
                    .ok_or_else(|| bad("label column is not Utf8 after the cast".into()))?,
            ),
            None => None,
        };
        let mut outlier_rows = self.outliers.then(OutlierState::default);
        let mut oscratch = self.outliers.then(outlier::Scratch::default);
        // Per hit: keyed hash, char span.
        let mut located: Vec<(u128, usize, usize)> = Vec::new();
        for i in 0..n {
            let row = first_row + i as i64;
            let doc_id = ids.and_then(|a| (!a.is_null(i)).then(|| a.value(i)));
            let value = text.get(i);
            hits.clear();
            flags.clear();
            let mut counts = [0i64; DetectorId::ALL.len()];
            // Tokens shared by the poison and outlier statistics.
            if let (Some(t), true) = (value, self.poisoning || self.outliers) {
                ptokens.clear();
                poison::tokenize(t, &mut ptokens);
            }
            if let Some(t) = value {
                self.hits_with(t, &ptokens, &mut hits);
                let mut offsets = CharOffsets::new(t);
                located.clear();
                for h in &hits {
                    let raw = &t[h.start..h.end];
                    let hash = self
                        .key
                        .hash128(h.norm.as_deref().unwrap_or(raw).as_bytes());
                    located.push((hash, offsets.at(h.start), offsets.at(h.end)));
                }
                if self.memo.is_some() || self.index.is_some() {
                    let valued: Vec<Valued<'_>> = hits
                        .iter()
                        .zip(&located)
                        .filter(|(h, _)| memorization::is_value(h))
                        .map(|(h, &(hash, start_char, end_char))| Valued {
                            hit: h,
                            hash,
                            start_char,
                            end_char,
                            preview: if self.config.reveal {
                                &t[h.start..h.end]
                            } else {
                                &h.preview
                            },
                        })
                        .collect();
                    let mut more = Vec::new();
                    match (&mut memo, self.memo, &self.index) {
                        (Some(batch), Some(mode), _) => memorization::collect(
                            t,
                            &valued,
                            i as u64,
                            &self.config.rules.memorization,
                            self.seeds,
                            mode,
                            &mut tokens,
                            batch,
                        ),
                        (_, _, Some(index)) => memorization::check(
                            t,
                            &valued,
                            index,
                            self.seeds,
                            &mut tokens,
                            &mut window_hashes,
                            &mut more,
                        ),
                        _ => {}
                    }
                    drop(valued);
                    for h in more {
                        let raw = &t[h.start..h.end];
                        let hash = self
                            .key
                            .hash128(h.norm.as_deref().unwrap_or(raw).as_bytes());
                        located.push((hash, offsets.at(h.start), offsets.at(h.end)));
                        hits.push(h);
                    }
                }
                for (h, &(hash, start_char, end_char)) in hits.iter().zip(&located) {
                    counts[h.detector.index()] += 1;
                    if !flags.contains(&h.kind) {
                        flags.push(h.kind);
                    }
                    let raw = &t[h.start..h.end];
                    findings.append(
                        shard,
                        &cols.text,
                        &Located {
                            row,
                            doc_id,
                            hit: h,
                            start_char,
                            end_char,
                            value_hash: Some(crate::hash::hex128(hash)),
                            preview: if self.config.reveal { raw } else { &h.preview },
                        },
                    );
                }
                flags.sort_unstable();
            }
            if let Some(index) = &mut dedup {
                let sketch = value.and_then(|t| dedup::sketch(t, cfg, &mut scratch));
                index.push(sketch.as_ref());
            }
            if let Some(pb) = &mut poison_batch {
                let i = i as u64;
                if let Some(t) = value {
                    if let Some(b) = poison::burst(t, &ptokens, &mut pscratch) {
                        pb.bursts.push(burst_signal(t, &ptokens, i, b));
                    }
                    pb.tokens.add_tokens(&ptokens);
                }
                let inj = hits
                    .iter()
                    .filter(|h| h.kind == injection::PROMPT_INJECTION)
                    .map(|h| h.score as f32)
                    .fold(0.0f32, f32::max);
                if inj > 0.0 {
                    pb.injections.push((i, inj));
                }
                if let (Some(l), Some(t)) = (labels, value) {
                    if !l.is_null(i as usize) {
                        pb.push_label(i, l.value(i as usize), poison::label_doc(t, &ptokens));
                    }
                }
                if let Some((p, r)) = &instr {
                    if let (Some(p), Some(r)) = (p.get(i as usize), r.get(i as usize)) {
                        let sig = poison::instruction(p, r, &mut itokens);
                        pb.push_instruction(i, truncate(p, PROMPT_KEPT), r, sig);
                    }
                }
            }
            if let (Some(rows), Some(sc)) = (&mut outlier_rows, &mut oscratch) {
                rows.push(value.map(|t| outlier::features(t, &ptokens, sc)));
            }
            stats.observe(value, &hits);
            records.append(
                shard,
                &RecordRow {
                    row,
                    doc_id,
                    counts,
                    flags: &flags,
                },
            );
        }
        Ok(BatchResult {
            findings: findings.finish(),
            records: records.finish(),
            stats,
            dedup,
            memo,
            poison: poison_batch,
            outlier: outlier_rows,
        })
    }
}

/// Bytes of a prompt kept to name the triggers found in it.
const PROMPT_KEPT: usize = 1024;

fn truncate(s: &str, max: usize) -> &str {
    let mut end = s.len().min(max);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// A burst with char offsets and candidate strings, as the corpus keeps it.
fn burst_signal(
    text: &str,
    tokens: &[poison::Token],
    record: u64,
    b: poison::Burst,
) -> BurstSignal {
    let mut chars = CharOffsets::new(text);
    let reach = tokens[b.reach.start..b.reach.end.min(tokens.len())]
        .iter()
        .map(|t| Reach {
            hash: t.hash,
            start: t.start,
            end: t.end,
            start_char: chars.at(t.start as usize) as u32,
            end_char: chars.at(t.end as usize) as u32,
        })
        .collect();
    let candidates = b
        .candidates
        .iter()
        .map(|c| Cand {
            c: *c,
            start_char: chars.at(c.start as usize) as u32,
            end_char: chars.at(c.end as usize) as u32,
            text: truncate(&text[c.start as usize..c.end as usize], 64).into(),
        })
        .collect();
    BurstSignal {
        record,
        jump: b.jump,
        start: b.start,
        end: b.end,
        start_char: chars.at(b.start as usize) as u32,
        end_char: chars.at(b.end as usize) as u32,
        candidates,
        reach,
    }
}

impl Scanner {
    /// Only the duplicate sketches of one batch (whatever the detectors): the per-batch call
    /// that builds a mergeable dedup state on a worker.
    pub fn sketch(
        &self,
        shard: &str,
        first_row: i64,
        batch: &RecordBatch,
        cols: &Columns,
    ) -> Result<DedupIndex> {
        let text = text_values(batch, cols, shard)?;
        let text = TextColumn::new(text.as_ref()).ok_or_else(|| not_text(shard, cols))?;
        let cfg = &self.config.rules.dedup;
        let mut idx = DedupIndex::new(cfg);
        idx.begin(shard, first_row);
        let mut scratch = dedup::Scratch::default();
        for i in 0..batch.num_rows() {
            let sketch = text
                .get(i)
                .and_then(|t| dedup::sketch(t, cfg, &mut scratch));
            idx.push(sketch.as_ref());
        }
        Ok(idx)
    }
}

/// A named string column of `batch` (dictionaries decoded); `role` names it in errors.
fn column_values(batch: &RecordBatch, name: &str, role: &str, shard: &str) -> Result<ArrayRef> {
    let col = batch
        .column_by_name(name)
        .ok_or_else(|| Error::schema(shard, format!("no {role} column '{name}'")))?;
    text_array(col).map_err(|m| Error::schema(shard, format!("{role} column '{name}' {m}")))
}

/// The text column of `batch` as a string array (dictionaries decoded).
fn text_values(batch: &RecordBatch, cols: &Columns, shard: &str) -> Result<ArrayRef> {
    let text = batch
        .column_by_name(&cols.text)
        .ok_or_else(|| Error::schema(shard, format!("no text column '{}'", cols.text)))?;
    text_array(text).map_err(|m| Error::schema(shard, format!("text column '{}' {m}", cols.text)))
}

fn not_text(shard: &str, cols: &Columns) -> Error {
    Error::schema(
        shard,
        format!("text column '{}' is not a string column", cols.text),
    )
}

fn string_columns(schema: &Schema) -> String {
    let names: Vec<String> = schema
        .fields()
        .iter()
        .filter(|f| is_text_type(f.data_type()))
        .map(|f| format!("'{}'", f.name()))
        .collect();
    if names.is_empty() {
        "none".into()
    } else {
        names.join(", ")
    }
}

fn check_scalar(dt: &DataType, shard: &str, role: &str, name: &str) -> Result<()> {
    let ok = is_text_type(dt) || dt.is_integer() || matches!(dt, DataType::Boolean);
    if ok {
        Ok(())
    } else {
        Err(Error::schema(
            shard,
            format!("{role} column '{name}' has type {dt}; expected a string or integer"),
        ))
    }
}

/// The id column as Utf8, whatever its string or integer type.
fn id_strings(batch: &RecordBatch, name: &str) -> Result<ArrayRef, String> {
    let col = batch
        .column_by_name(name)
        .ok_or_else(|| format!("no id column '{name}'"))?;
    if col.data_type() == &DataType::Utf8 {
        return Ok(col.clone());
    }
    arrow::compute::cast(col, &DataType::Utf8).map_err(|e| format!("id column '{name}': {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{Int64Array, LargeStringArray};
    use arrow::datatypes::Field;
    use std::sync::Arc;

    fn key() -> Key {
        Key::from_hex("000102030405060708090a0b0c0d0e0f").unwrap()
    }

    #[test]
    fn scan_reports_rows_offsets_and_records() {
        let texts = LargeStringArray::from(vec![Some("ok"), None, Some("é x\u{202E}y")]);
        let ids = Int64Array::from(vec![10, 11, 12]);
        let schema = Arc::new(Schema::new(vec![
            Field::new("text", DataType::LargeUtf8, true),
            Field::new("id", DataType::Int64, false),
        ]));
        let batch =
            RecordBatch::try_new(schema.clone(), vec![Arc::new(texts), Arc::new(ids)]).unwrap();
        let s = Scanner::new(ScanConfig::default(), key()).unwrap();
        let cols = s.resolve_columns(&schema, "mem").unwrap();
        assert_eq!(cols.id.as_deref(), Some("id"));
        let r = s.scan("mem", 100, &batch, &cols).unwrap();
        assert_eq!(r.findings.num_rows(), 1);
        assert_eq!(r.records.num_rows(), 3);
        let f = &r.findings;
        let i64col = |n: &str| {
            f.column_by_name(n)
                .unwrap()
                .as_any()
                .downcast_ref::<Int64Array>()
                .unwrap()
                .value(0)
        };
        assert_eq!(i64col("row"), 102);
        assert_eq!((i64col("start_byte"), i64col("end_byte")), (4, 7));
        assert_eq!((i64col("start_char"), i64col("end_char")), (3, 4));
        assert_eq!(r.stats.records, 3);
        assert_eq!(r.stats.null_texts, 1);
    }

    #[test]
    fn missing_text_column_lists_string_columns() {
        let schema = Schema::new(vec![
            Field::new("body", DataType::Utf8, true),
            Field::new("n", DataType::Int64, true),
        ]);
        let s = Scanner::new(ScanConfig::default(), key()).unwrap();
        let e = s
            .resolve_columns(&schema, "a.parquet")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("a.parquet") && e.contains("'body'") && !e.contains("'n'"),
            "{e}"
        );
        let schema = Schema::new(vec![Field::new("text", DataType::Int64, true)]);
        let e = s.resolve_columns(&schema, "b").unwrap_err().to_string();
        assert!(e.contains("Int64"), "{e}");
    }
}
