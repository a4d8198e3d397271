//! Corpus-level results turned into output rows: duplicate and memorization findings, the
//! `records` columns they fill (`dup_cluster`, `dup_keep`, `memorization_risk`, counts, `flags`),
//! the `pii_values` table and the summary's sections.
//! Pure: record batches and clusters in, record batches out.

use std::collections::BTreeMap;
use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, BooleanArray, Float64Array, Int64Array, ListArray, ListBuilder, RecordBatch,
    StringArray, StringBuilder,
};
use serde::Serialize;

use crate::corpus::dedup::Clusters;
use crate::corpus::memo::{
    risk_band, risk_score, Coverage, MemoConfig, PartitionCounts, ValueCounts, ValueRow,
    WindowCounts,
};
use crate::corpus::outlier::{Deviation, OutlierState};
use crate::corpus::poison::{PoisonState, SpanColumn, TriggerCandidate};
use crate::corpus::CorpusStats;
use crate::detect::dedup::{EXACT_DUPLICATE, NEAR_DUPLICATE, REPEATED_PASSAGE};
use crate::detect::memorization::REPEATED_CONTEXT;
use crate::detect::{DetectorId, Hit};
use crate::hash::{hex128, Key};
use crate::scan::ScanConfig;
use crate::schema::{count_column, FindingsBuilder, Located, PiiValuesBuilder};

/// The summary's duplicate section.
#[derive(Debug, Clone, Default, Serialize)]
pub struct DedupSummary {
    pub records: u64,
    /// Records that are a copy of an earlier one (not kept).
    pub duplicates: u64,
    pub duplicate_rate: f64,
    pub exact_duplicates: u64,
    pub near_duplicates: u64,
    /// Clusters of two or more records.
    pub clusters: u64,
    /// Cluster count by size band.
    pub cluster_sizes: BTreeMap<String, u64>,
    pub largest_clusters: Vec<ClusterSummary>,
    pub repeated_passages: u64,
    /// Bytes of anchor postings written to disk past `--memory-limit`.
    pub spilled_bytes: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct ClusterSummary {
    pub cluster: i64,
    pub size: u64,
    pub kept_shard: String,
    pub kept_row: i64,
}

fn size_band(n: u64) -> &'static str {
    match n {
        0..=2 => "2",
        3 => "3",
        4 => "4",
        5..=9 => "5-9",
        10..=99 => "10-99",
        _ => "100+",
    }
}

/// Where each record (in input order) came from, read from the `records` batches once.
struct Locations<'a> {
    /// Per batch: shard index, `shard`, `row` and `doc_id` columns.
    batches: Vec<(usize, &'a StringArray, &'a Int64Array, &'a StringArray)>,
    /// Global index of each batch's first record.
    starts: Vec<usize>,
}

impl<'a> Locations<'a> {
    fn new(records: &'a [(usize, RecordBatch)]) -> Self {
        let mut starts = Vec::with_capacity(records.len());
        let mut batches = Vec::with_capacity(records.len());
        let mut n = 0;
        for (shard, b) in records {
            starts.push(n);
            n += b.num_rows();
            let col = |name: &str| b.column_by_name(name).expect("records schema");
            batches.push((
                *shard,
                col("shard")
                    .as_any()
                    .downcast_ref::<StringArray>()
                    .expect("utf8"),
                col("row")
                    .as_any()
                    .downcast_ref::<Int64Array>()
                    .expect("int64"),
                col("doc_id")
                    .as_any()
                    .downcast_ref::<StringArray>()
                    .expect("utf8"),
            ));
        }
        Self { batches, starts }
    }

    /// (shard index, shard name, row, doc id) of global record `g`.
    fn get(&self, g: usize) -> (usize, &'a str, i64, Option<&'a str>) {
        let bi = self.starts.partition_point(|&s| s <= g) - 1;
        let (shard, names, rows, ids) = self.batches[bi];
        let i = g - self.starts[bi];
        let id = (!ids.is_null(i)).then(|| ids.value(i));
        (shard, names.value(i), rows.value(i), id)
    }
}

pub struct DedupOutputs {
    pub findings: RecordBatch,
    /// The input batches with the duplicate columns filled, same order.
    pub records: Vec<RecordBatch>,
    pub summary: DedupSummary,
}

/// Builds duplicate findings and fills the records' duplicate columns. `records` are the
/// audit's `records` batches in input order with the shard index each came from; `stats` are
/// per-shard counts, updated with the new findings.
pub fn dedup_outputs(
    clusters: &Clusters,
    records: &[(usize, RecordBatch)],
    column: &str,
    key: &Key,
    stats: &mut [CorpusStats],
) -> DedupOutputs {
    let loc = Locations::new(records);
    let n = clusters.info.len();
    let mut findings = FindingsBuilder::default();
    // Per record: count of dedup findings and their kinds (one entry per finding).
    let mut count = vec![0i64; n];
    let mut kinds: Vec<Vec<&'static str>> = vec![Vec::new(); n];
    let mut sizes: BTreeMap<u32, u64> = BTreeMap::new();
    let mut summary = DedupSummary {
        records: n as u64,
        ..DedupSummary::default()
    };
    for info in clusters.info.iter().flatten() {
        *sizes.entry(info.kept).or_default() += 1;
    }
    for (g, info) in clusters.info.iter().enumerate() {
        let Some(d) = info.filter(|d| d.kept as usize != g) else {
            continue;
        };
        let (_, kshard, krow, _) = loc.get(d.kept as usize);
        let (_, shard, row, doc_id) = loc.get(g);
        let kind = if d.exact {
            summary.exact_duplicates += 1;
            EXACT_DUPLICATE
        } else {
            summary.near_duplicates += 1;
            NEAR_DUPLICATE
        };
        let detail = serde_json::json!({
            "cluster": d.kept,
            "kept_shard": kshard,
            "kept_row": krow,
            "jaccard": (d.jaccard * 1000.0).round() / 1000.0,
            "containment": (d.containment * 1000.0).round() / 1000.0,
        });
        let hit = Hit {
            detector: DetectorId::Dedup,
            kind,
            start: 0,
            end: 0,
            score: if d.exact {
                1.0
            } else {
                d.jaccard.max(d.containment)
            },
            preview: String::new(),
            detail: Some(detail.to_string()),
            norm: None,
        };
        findings.append_record(shard, column, row, doc_id, &hit);
        count[g] += 1;
        kinds[g].push(kind);
    }
    for (g, p) in &clusters.repeated {
        let g = *g as usize;
        let (_, shard, row, doc_id) = loc.get(g);
        let hit = Hit {
            detector: DetectorId::Dedup,
            kind: REPEATED_PASSAGE,
            start: p.start as usize,
            end: p.end as usize,
            score: 0.5,
            preview: String::new(),
            detail: None,
            norm: None,
        };
        findings.append(
            shard,
            column,
            &Located {
                row,
                doc_id,
                hit: &hit,
                start_char: p.start_char as usize,
                end_char: p.end_char as usize,
                value_hash: Some(key.hash_hex(&p.hash.to_le_bytes())),
                preview: "",
            },
        );
        count[g] += 1;
        kinds[g].push(REPEATED_PASSAGE);
        summary.repeated_passages += 1;
    }
    summary.duplicates = summary.exact_duplicates + summary.near_duplicates;
    summary.duplicate_rate = if n == 0 {
        0.0
    } else {
        summary.duplicates as f64 / n as f64
    };
    summary.clusters = sizes.len() as u64;
    for &s in sizes.values() {
        *summary
            .cluster_sizes
            .entry(size_band(s).to_string())
            .or_default() += 1;
    }
    let mut largest: Vec<(u64, u32)> = sizes.iter().map(|(&k, &s)| (s, k)).collect();
    largest.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    summary.largest_clusters = largest
        .iter()
        .take(10)
        .map(|&(size, k)| {
            let (_, shard, row, _) = loc.get(k as usize);
            ClusterSummary {
                cluster: i64::from(k),
                size,
                kept_shard: shard.to_string(),
                kept_row: row,
            }
        })
        .collect();

    let mut out = Vec::with_capacity(records.len());
    let mut g = 0;
    for (shard, b) in records {
        let rows = b.num_rows();
        let range = g..g + rows;
        let patched = patch_records(
            b,
            clusters,
            range.clone(),
            &count,
            &kinds,
            &mut stats[*shard],
        );
        out.push(patched);
        g += rows;
    }
    DedupOutputs {
        findings: findings.finish(),
        records: out,
        summary,
    }
}

fn patch_records(
    b: &RecordBatch,
    clusters: &Clusters,
    range: std::ops::Range<usize>,
    count: &[i64],
    kinds: &[Vec<&'static str>],
    stats: &mut CorpusStats,
) -> RecordBatch {
    let cluster: Int64Array = range
        .clone()
        .map(|g| clusters.info[g].map(|d| i64::from(d.kept)))
        .collect();
    let keep: BooleanArray = range.clone().map(|g| Some(clusters.is_kept(g))).collect();
    add_findings(
        b,
        DetectorId::Dedup,
        &count[range.clone()],
        &kinds[range],
        stats,
        &[
            ("dup_cluster", Arc::new(cluster)),
            ("dup_keep", Arc::new(keep)),
        ],
    )
}

/// `b` with `detector`'s findings added: its count column set to `count`, `kinds` (one entry
/// per finding, per row) merged into `flags` and `stats`, and the `columns` given replaced.
fn add_findings(
    b: &RecordBatch,
    detector: DetectorId,
    count: &[i64],
    kinds: &[Vec<&'static str>],
    stats: &mut CorpusStats,
    columns: &[(&str, ArrayRef)],
) -> RecordBatch {
    let old_flags = b
        .column_by_name("flags")
        .and_then(|c| c.as_any().downcast_ref::<ListArray>())
        .expect("records flags");
    let mut flags = ListBuilder::new(StringBuilder::new());
    for (i, kinds) in kinds.iter().enumerate() {
        let mut f: Vec<String> = {
            let v = old_flags.value(i);
            let v = v
                .as_any()
                .downcast_ref::<StringArray>()
                .expect("utf8 flags");
            v.iter().flatten().map(str::to_string).collect()
        };
        stats.observe_more(!f.is_empty(), detector, kinds);
        f.extend(kinds.iter().map(|k| k.to_string()));
        f.sort_unstable();
        f.dedup();
        for k in &f {
            flags.values().append_value(k);
        }
        flags.append(true);
    }
    let schema = b.schema();
    let count_col = count_column(detector);
    // Added to what the per-batch scan already counted for the detector.
    let before = b
        .column_by_name(&count_col)
        .and_then(|c| c.as_any().downcast_ref::<Int64Array>());
    let count: ArrayRef = Arc::new(Int64Array::from_iter_values(
        count
            .iter()
            .enumerate()
            .map(|(i, c)| c + before.map_or(0, |a| a.value(i))),
    ));
    let flags: ArrayRef = Arc::new(flags.finish());
    let cols: Vec<ArrayRef> = schema
        .fields()
        .iter()
        .zip(b.columns())
        .map(|(f, c)| match f.name().as_str() {
            "flags" => flags.clone(),
            n if n == count_col => count.clone(),
            n => columns
                .iter()
                .find(|(name, _)| *name == n)
                .map_or_else(|| c.clone(), |(_, a)| a.clone()),
        })
        .collect();
    RecordBatch::try_new(schema, cols).expect("same schema")
}

/// One of the most repeated values, for the summary.
#[derive(Debug, Clone, Serialize)]
pub struct RiskyValue {
    pub value_hash: String,
    pub kind: &'static str,
    pub preview: String,
    pub occurrences: u64,
    pub documents: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub clusters: Option<u64>,
    pub risk: &'static str,
    pub first_shard: String,
    pub first_row: i64,
}

/// The share of text in repeated windows, overall and in documents holding PII.
#[derive(Debug, Clone, Serialize)]
pub struct CoverageSummary {
    pub window_tokens: usize,
    pub sampling_rate: f64,
    pub all_documents: Coverage,
    pub pii_documents: Coverage,
}

/// The summary's memorization section.
#[derive(Debug, Clone, Serialize)]
pub struct MemoSummary {
    /// Distinct PII and secret values.
    pub values: u64,
    pub occurrences: u64,
    /// Distinct values by risk band (occurrences: 1, 2-9, 10-99, 100+).
    pub values_by_risk: BTreeMap<&'static str, u64>,
    /// Records holding PII, by the risk band of their most repeated value.
    pub records_by_risk: BTreeMap<&'static str, u64>,
    pub repeated_contexts: u64,
    pub riskiest: Vec<RiskyValue>,
    pub repeated_text: CoverageSummary,
    /// Bytes of state written to disk because it outgrew the memory limit.
    pub spilled_bytes: u64,
}

/// Values listed in the summary.
const RISKIEST: usize = 20;

/// Turns the swept memorization counts into output rows, one partition at a time: each
/// partition's `REPEATED_CONTEXT` findings and `pii_values` rows are returned to be written at
/// once, and only the summary's counts and the riskiest values are kept.
pub struct MemoFinalizer<'a> {
    loc: Locations<'a>,
    records: &'a [(usize, RecordBatch)],
    column: &'a str,
    window_tokens: usize,
    sampling_rate: f64,
    count: Vec<i64>,
    kinds: Vec<Vec<&'static str>>,
    top: Vec<ValueRow>,
    values: u64,
    occurrences: u64,
    values_by_risk: BTreeMap<&'static str, u64>,
    contexts: u64,
}

impl<'a> MemoFinalizer<'a> {
    /// `records` are the held `records` batches in input order, with their shard index.
    pub fn new(records: &'a [(usize, RecordBatch)], column: &'a str, cfg: &MemoConfig) -> Self {
        let n: usize = records.iter().map(|(_, b)| b.num_rows()).sum();
        Self {
            loc: Locations::new(records),
            records,
            column,
            window_tokens: cfg.window_tokens,
            sampling_rate: cfg.sampling_rate(),
            count: vec![0; n],
            kinds: vec![Vec::new(); n],
            top: Vec::new(),
            values: 0,
            occurrences: 0,
            values_by_risk: BTreeMap::new(),
            contexts: 0,
        }
    }

    /// One partition's `(findings, pii_values)` batches.
    pub fn partition(&mut self, part: &PartitionCounts) -> (RecordBatch, RecordBatch) {
        let mut findings = FindingsBuilder::default();
        for c in &part.contexts {
            let g = c.occ.record as usize;
            let (_, shard, row, doc_id) = self.loc.get(g);
            let hit = Hit {
                detector: DetectorId::Memorization,
                kind: REPEATED_CONTEXT,
                start: c.occ.start_byte as usize,
                end: c.occ.end_byte as usize,
                score: risk_score(c.context_documents.max(c.value_occurrences)),
                preview: String::new(),
                detail: Some(
                    serde_json::json!({
                        "value_kind": c.occ.kind,
                        "context_documents": c.context_documents,
                        "context_tokens": self.window_tokens,
                        "value_occurrences": c.value_occurrences,
                        "value_documents": c.value_documents,
                    })
                    .to_string(),
                ),
                norm: None,
            };
            findings.append(
                shard,
                self.column,
                &Located {
                    row,
                    doc_id,
                    hit: &hit,
                    start_char: c.occ.start_char as usize,
                    end_char: c.occ.end_char as usize,
                    value_hash: Some(hex128(c.occ.hash)),
                    preview: &c.occ.preview,
                },
            );
            self.count[g] += 1;
            self.kinds[g].push(REPEATED_CONTEXT);
            self.contexts += 1;
        }
        let mut table = PiiValuesBuilder::default();
        for r in &part.rows {
            let (_, shard, row, doc_id) = self.loc.get(r.first_record as usize);
            table.append(r, shard, row, doc_id);
            *self
                .values_by_risk
                .entry(risk_band(r.occurrences))
                .or_default() += 1;
            self.occurrences += r.occurrences;
            self.values += 1;
        }
        self.top.extend(part.rows.iter().cloned());
        self.top.sort_by(|a, b| {
            (b.documents, b.occurrences, a.first_record, a.hash).cmp(&(
                a.documents,
                a.occurrences,
                b.first_record,
                b.hash,
            ))
        });
        self.top.truncate(RISKIEST);
        (findings.finish(), table.finish())
    }

    /// The records with their memorization columns filled (and `stats` updated with the new
    /// findings), and the summary section. `values` holds each record's largest count.
    pub fn finish(
        self,
        values: &ValueCounts,
        windows: &WindowCounts,
        stats: &mut [CorpusStats],
    ) -> (Vec<RecordBatch>, MemoSummary) {
        let riskiest = self
            .top
            .iter()
            .map(|r| {
                let (_, shard, row, _) = self.loc.get(r.first_record as usize);
                RiskyValue {
                    value_hash: hex128(r.hash),
                    kind: r.kind,
                    preview: r.preview.clone(),
                    occurrences: r.occurrences,
                    documents: r.documents,
                    clusters: r.clusters,
                    risk: risk_band(r.occurrences),
                    first_shard: shard.to_string(),
                    first_row: row,
                }
            })
            .collect();
        let mut records_by_risk: BTreeMap<&'static str, u64> = BTreeMap::new();
        for &c in values.record_count.iter().filter(|&&c| c > 0) {
            *records_by_risk.entry(risk_band(c)).or_default() += 1;
        }
        let mut out = Vec::with_capacity(self.records.len());
        let mut g = 0;
        for (shard, b) in self.records {
            let range = g..g + b.num_rows();
            let risk: Float64Array = values.record_count[range.clone()]
                .iter()
                .map(|&c| (c > 0).then(|| risk_score(c)))
                .collect();
            out.push(add_findings(
                b,
                DetectorId::Memorization,
                &self.count[range.clone()],
                &self.kinds[range.clone()],
                &mut stats[*shard],
                &[("memorization_risk", Arc::new(risk))],
            ));
            g = range.end;
        }
        let summary = MemoSummary {
            values: self.values,
            occurrences: self.occurrences,
            values_by_risk: self.values_by_risk,
            records_by_risk,
            repeated_contexts: self.contexts,
            riskiest,
            repeated_text: CoverageSummary {
                window_tokens: self.window_tokens,
                sampling_rate: self.sampling_rate,
                all_documents: windows.all,
                pii_documents: windows.pii_documents,
            },
            spilled_bytes: 0,
        };
        (out, summary)
    }
}

/// A candidate trigger as the summary lists it, with where it was seen.
#[derive(Debug, Clone, Serialize)]
pub struct TriggerSummary {
    #[serde(flatten)]
    pub candidate: TriggerCandidate,
    /// A few records it was seen in.
    pub evidence_rows: Vec<RowRef>,
}

#[derive(Debug, Clone, Serialize)]
pub struct RowRef {
    pub shard: String,
    pub row: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub doc_id: Option<String>,
}

/// The summary's poisoning section.
#[derive(Debug, Clone, Default, Serialize)]
pub struct PoisonSummary {
    pub candidate_triggers: Vec<TriggerSummary>,
    pub gibberish: u64,
    pub trigger_bursts: u64,
    pub repeated_responses: u64,
    pub prompt_injections: u64,
}

/// One of the most unusual records.
#[derive(Debug, Clone, Serialize)]
pub struct OutlierRecord {
    #[serde(flatten)]
    pub at: RowRef,
    pub score: f64,
    pub distance: f64,
    pub deviations: [Deviation; 2],
}

/// The summary's outlier section.
#[derive(Debug, Clone, Default, Serialize)]
pub struct OutlierSummary {
    pub features: Vec<&'static str>,
    pub reported: u64,
    pub top: Vec<OutlierRecord>,
}

pub struct PoisonOutputs {
    pub findings: RecordBatch,
    pub records: Vec<RecordBatch>,
    pub poison: Option<PoisonSummary>,
    pub outliers: Option<OutlierSummary>,
}

/// Outliers listed in the summary, and the most reported as findings (a share of the records).
const OUTLIERS_LISTED: usize = 20;
const OUTLIERS_REPORTED: f64 = 0.001;
/// Outlier score from which a record may be reported.
const OUTLIER_SCORE: f64 = 0.999_999;

/// Finishes the poison and outlier models (in parallel), builds their findings and fills
/// `poison_score` / `outlier_score` of `records` (every record the models saw, in order).
/// Label conflicts are looked for among duplicates when dedup ran (`clusters`).
pub fn poison_outputs(
    poison: Option<PoisonState>,
    outlier: Option<OutlierState>,
    clusters: Option<&Clusters>,
    records: &[(usize, RecordBatch)],
    scan: &ScanConfig,
    stats: &mut [CorpusStats],
) -> PoisonOutputs {
    let kept_of = |r: u64| clusters.and_then(|c| c.kept_of(r));
    let kept_of: Option<&(dyn Fn(u64) -> Option<u64> + Sync)> = clusters.map(|_| &kept_of as _);
    let (poison, outlier) = rayon::join(
        || poison.map(|p| p.finish(&scan.rules.poison, kept_of)),
        || outlier.map(|o| o.finish()),
    );
    let (poison, outlier) = (poison.as_ref(), outlier.as_ref());
    let column = scan.text_column.as_str();
    let prompt_column = scan.prompt_column.as_deref();
    let response_column = scan.response_column.as_deref();
    let loc = Locations::new(records);
    let n: usize = records.iter().map(|(_, b)| b.num_rows()).sum();
    let row_ref = |g: u64| {
        let (_, shard, row, doc_id) = loc.get(g as usize);
        RowRef {
            shard: shard.to_string(),
            row,
            doc_id: doc_id.map(str::to_string),
        }
    };
    let mut findings = FindingsBuilder::default();
    let mut pcount = vec![0i64; n];
    let mut pkinds: Vec<Vec<&'static str>> = vec![Vec::new(); n];
    let mut psummary = None;
    if let Some(p) = poison {
        let mut s = PoisonSummary::default();
        for f in &p.findings {
            let g = f.record as usize;
            let (_, shard, row, doc_id) = loc.get(g);
            let (start, end, sc, ec) = f.span.unwrap_or((0, 0, 0, 0));
            let hit = Hit {
                detector: DetectorId::Poison,
                kind: f.kind,
                start: start as usize,
                end: end as usize,
                score: f.score,
                preview: String::new(),
                detail: Some(f.detail.clone()),
                norm: None,
            };
            let col = match f.column {
                SpanColumn::Text => column,
                SpanColumn::Prompt => prompt_column.unwrap_or(column),
                SpanColumn::Response => response_column.unwrap_or(column),
            };
            if f.span.is_some() {
                findings.append(
                    shard,
                    col,
                    &Located {
                        row,
                        doc_id,
                        hit: &hit,
                        start_char: sc as usize,
                        end_char: ec as usize,
                        value_hash: None,
                        preview: "",
                    },
                );
            } else {
                findings.append_record(shard, col, row, doc_id, &hit);
            }
            pcount[g] += 1;
            pkinds[g].push(f.kind);
            match f.kind {
                crate::detect::poison::GIBBERISH => s.gibberish += 1,
                crate::detect::poison::TRIGGER_BURST => s.trigger_bursts += 1,
                _ => {}
            }
        }
        s.repeated_responses = p.repeated_responses;
        s.candidate_triggers = p
            .candidates
            .iter()
            .map(|c| TriggerSummary {
                candidate: c.clone(),
                evidence_rows: c.evidence.iter().map(|&g| row_ref(g)).collect(),
            })
            .collect();
        s.prompt_injections = stats
            .iter()
            .map(|st| {
                st.by_kind
                    .get(crate::detect::injection::PROMPT_INJECTION)
                    .map_or(0, |c| c.findings)
            })
            .sum();
        psummary = Some(s);
    }
    let mut ocount = vec![0i64; n];
    let mut okinds: Vec<Vec<&'static str>> = vec![Vec::new(); n];
    let mut osummary = None;
    if let Some(o) = outlier {
        let mut order: Vec<usize> = (0..n).filter(|&g| o.scores[g].is_some()).collect();
        order.sort_by(|&a, &b| o.distance[b].total_cmp(&o.distance[a]).then(a.cmp(&b)));
        let cap = ((n as f64 * OUTLIERS_REPORTED).ceil() as usize).max(1);
        let mut reported = 0u64;
        for &g in order.iter().take(cap) {
            if o.scores[g].unwrap_or(0.0) < OUTLIER_SCORE {
                break;
            }
            let (_, shard, row, doc_id) = loc.get(g);
            let hit = Hit {
                detector: DetectorId::Outlier,
                kind: crate::detect::outlier::OUTLIER,
                start: 0,
                end: 0,
                score: o.scores[g].unwrap_or(0.0),
                preview: String::new(),
                detail: Some(
                    serde_json::json!({
                        "distance": (o.distance[g] * 10.0).round() / 10.0,
                        "deviations": o.top[g],
                    })
                    .to_string(),
                ),
                norm: None,
            };
            findings.append_record(shard, column, row, doc_id, &hit);
            ocount[g] += 1;
            okinds[g].push(crate::detect::outlier::OUTLIER);
            reported += 1;
        }
        osummary = Some(OutlierSummary {
            features: crate::detect::outlier::FEATURES.to_vec(),
            reported,
            top: order
                .iter()
                .take(OUTLIERS_LISTED)
                .map(|&g| OutlierRecord {
                    at: row_ref(g as u64),
                    score: o.scores[g].unwrap_or(0.0),
                    distance: (o.distance[g] * 10.0).round() / 10.0,
                    deviations: o.top[g].clone(),
                })
                .collect(),
        });
    }
    let mut out = Vec::with_capacity(records.len());
    let mut g = 0;
    for (shard, b) in records {
        let range = g..g + b.num_rows();
        let mut b = b.clone();
        if let Some(p) = poison {
            let scores: Float64Array = p.scores[range.clone()].iter().map(|&s| Some(s)).collect();
            b = add_findings(
                &b,
                DetectorId::Poison,
                &pcount[range.clone()],
                &pkinds[range.clone()],
                &mut stats[*shard],
                &[("poison_score", Arc::new(scores))],
            );
        }
        if let Some(o) = outlier {
            let scores: Float64Array = o.scores[range.clone()].iter().copied().collect();
            b = add_findings(
                &b,
                DetectorId::Outlier,
                &ocount[range.clone()],
                &okinds[range.clone()],
                &mut stats[*shard],
                &[("outlier_score", Arc::new(scores))],
            );
        }
        out.push(b);
        g = range.end;
    }
    PoisonOutputs {
        findings: findings.finish(),
        records: out,
        poison: psummary,
        outliers: osummary,
    }
}
