//! Corpus-level results turned into output rows: duplicate findings, the `records` columns they
//! fill (`dup_cluster`, `dup_keep`, `dedup_count`, `flags`) and the summary's duplicate section.
//! Pure: record batches and clusters in, record batches out.

use std::collections::BTreeMap;
use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, BooleanArray, Int64Array, ListArray, ListBuilder, RecordBatch, StringArray,
    StringBuilder,
};
use serde::Serialize;

use crate::corpus::dedup::Clusters;
use crate::corpus::CorpusStats;
use crate::detect::dedup::{EXACT_DUPLICATE, NEAR_DUPLICATE, REPEATED_PASSAGE};
use crate::detect::{DetectorId, Hit};
use crate::hash::Key;
use crate::schema::{count_column, FindingsBuilder, Located};

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
    let dedup_count: Int64Array = range.clone().map(|g| Some(count[g])).collect();
    let old_flags = b
        .column_by_name("flags")
        .and_then(|c| c.as_any().downcast_ref::<ListArray>())
        .expect("records flags");
    let mut flags = ListBuilder::new(StringBuilder::new());
    for (i, g) in range.enumerate() {
        let mut f: Vec<String> = {
            let v = old_flags.value(i);
            let v = v
                .as_any()
                .downcast_ref::<StringArray>()
                .expect("utf8 flags");
            v.iter().flatten().map(str::to_string).collect()
        };
        stats.observe_more(!f.is_empty(), DetectorId::Dedup, &kinds[g]);
        f.extend(kinds[g].iter().map(|k| k.to_string()));
        f.sort_unstable();
        f.dedup();
        for k in &f {
            flags.values().append_value(k);
        }
        flags.append(true);
    }
    let schema = b.schema();
    let dedup_col = count_column(DetectorId::Dedup);
    let cols: Vec<ArrayRef> = schema
        .fields()
        .iter()
        .zip(b.columns())
        .map(|(f, c)| match f.name().as_str() {
            "dup_cluster" => Arc::new(cluster.clone()) as ArrayRef,
            "dup_keep" => Arc::new(keep.clone()) as ArrayRef,
            "flags" => Arc::new(flags.finish_cloned()) as ArrayRef,
            n if n == dedup_col => Arc::new(dedup_count.clone()) as ArrayRef,
            _ => c.clone(),
        })
        .collect();
    RecordBatch::try_new(schema, cols).expect("same schema")
}
