//! The output contract: `findings` and `records` tables (Spark-safe types only) and their builders.

use std::sync::{Arc, LazyLock};

use arrow::array::{
    ArrayRef, BooleanBuilder, Float64Builder, Int64Builder, ListBuilder, RecordBatch, StringBuilder,
};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};

use crate::detect::{DetectorId, Hit};

/// Version of the table and summary layouts; bumped on any incompatible change.
pub const OUTPUT_VERSION: u32 = 2;

static FINDINGS: LazyLock<SchemaRef> = LazyLock::new(|| {
    Arc::new(Schema::new(vec![
        Field::new("shard", DataType::Utf8, false),
        Field::new("row", DataType::Int64, false),
        Field::new("doc_id", DataType::Utf8, true),
        Field::new("column", DataType::Utf8, false),
        Field::new("detector", DataType::Utf8, false),
        Field::new("kind", DataType::Utf8, false),
        Field::new("start_byte", DataType::Int64, true),
        Field::new("end_byte", DataType::Int64, true),
        Field::new("start_char", DataType::Int64, true),
        Field::new("end_char", DataType::Int64, true),
        Field::new("score", DataType::Float64, false),
        Field::new("value_hash", DataType::Utf8, true),
        Field::new("preview", DataType::Utf8, true),
        Field::new("detail", DataType::Utf8, true),
    ]))
});

static RECORDS: LazyLock<SchemaRef> = LazyLock::new(|| {
    let mut fields = vec![
        Field::new("shard", DataType::Utf8, false),
        Field::new("row", DataType::Int64, false),
        Field::new("doc_id", DataType::Utf8, true),
    ];
    fields.extend(
        DetectorId::ALL
            .iter()
            .map(|d| Field::new(count_column(*d), DataType::Int64, false)),
    );
    fields.extend([
        Field::new("dup_cluster", DataType::Int64, true),
        Field::new("dup_keep", DataType::Boolean, false),
        Field::new("poison_score", DataType::Float64, true),
        Field::new("outlier_score", DataType::Float64, true),
        Field::new("memorization_risk", DataType::Float64, true),
        Field::new(
            "flags",
            DataType::List(Arc::new(Field::new("item", DataType::Utf8, true))),
            false,
        ),
    ]);
    Arc::new(Schema::new(fields))
});

/// Schema of `findings.parquet`.
pub fn findings_schema() -> SchemaRef {
    FINDINGS.clone()
}

/// Schema of `records.parquet`.
pub fn records_schema() -> SchemaRef {
    RECORDS.clone()
}

/// Name of the per-detector count column in `records`, e.g. `unicode_count`.
pub fn count_column(d: DetectorId) -> String {
    format!("{}_count", d.as_str())
}

/// A finding located in a shard: a [`Hit`] plus where it is and its char offsets.
pub struct Located<'a> {
    pub row: i64,
    pub doc_id: Option<&'a str>,
    pub hit: &'a Hit,
    pub start_char: usize,
    pub end_char: usize,
    pub value_hash: Option<String>,
    pub preview: &'a str,
}

pub struct FindingsBuilder {
    shard: StringBuilder,
    row: Int64Builder,
    doc_id: StringBuilder,
    column: StringBuilder,
    detector: StringBuilder,
    kind: StringBuilder,
    start_byte: Int64Builder,
    end_byte: Int64Builder,
    start_char: Int64Builder,
    end_char: Int64Builder,
    score: Float64Builder,
    value_hash: StringBuilder,
    preview: StringBuilder,
    detail: StringBuilder,
}

impl Default for FindingsBuilder {
    fn default() -> Self {
        Self {
            shard: StringBuilder::new(),
            row: Int64Builder::new(),
            doc_id: StringBuilder::new(),
            column: StringBuilder::new(),
            detector: StringBuilder::new(),
            kind: StringBuilder::new(),
            start_byte: Int64Builder::new(),
            end_byte: Int64Builder::new(),
            start_char: Int64Builder::new(),
            end_char: Int64Builder::new(),
            score: Float64Builder::new(),
            value_hash: StringBuilder::new(),
            preview: StringBuilder::new(),
            detail: StringBuilder::new(),
        }
    }
}

impl FindingsBuilder {
    pub fn append(&mut self, shard: &str, column: &str, f: &Located<'_>) {
        let h = f.hit;
        self.shard.append_value(shard);
        self.row.append_value(f.row);
        self.doc_id.append_option(f.doc_id);
        self.column.append_value(column);
        self.detector.append_value(h.detector.as_str());
        self.kind.append_value(h.kind);
        self.start_byte.append_value(h.start as i64);
        self.end_byte.append_value(h.end as i64);
        self.start_char.append_value(f.start_char as i64);
        self.end_char.append_value(f.end_char as i64);
        self.score.append_value(h.score.clamp(0.0, 1.0));
        self.value_hash.append_option(f.value_hash.as_deref());
        self.preview.append_value(f.preview);
        self.detail.append_option(h.detail.as_deref());
    }

    /// A finding about a whole record: no span, no value hash, no preview.
    pub fn append_record(
        &mut self,
        shard: &str,
        column: &str,
        row: i64,
        doc_id: Option<&str>,
        h: &Hit,
    ) {
        self.shard.append_value(shard);
        self.row.append_value(row);
        self.doc_id.append_option(doc_id);
        self.column.append_value(column);
        self.detector.append_value(h.detector.as_str());
        self.kind.append_value(h.kind);
        for b in [
            &mut self.start_byte,
            &mut self.end_byte,
            &mut self.start_char,
            &mut self.end_char,
        ] {
            b.append_null();
        }
        self.score.append_value(h.score.clamp(0.0, 1.0));
        self.value_hash.append_null();
        self.preview.append_null();
        self.detail.append_option(h.detail.as_deref());
    }

    pub fn finish(mut self) -> RecordBatch {
        let cols: Vec<ArrayRef> = vec![
            Arc::new(self.shard.finish()),
            Arc::new(self.row.finish()),
            Arc::new(self.doc_id.finish()),
            Arc::new(self.column.finish()),
            Arc::new(self.detector.finish()),
            Arc::new(self.kind.finish()),
            Arc::new(self.start_byte.finish()),
            Arc::new(self.end_byte.finish()),
            Arc::new(self.start_char.finish()),
            Arc::new(self.end_char.finish()),
            Arc::new(self.score.finish()),
            Arc::new(self.value_hash.finish()),
            Arc::new(self.preview.finish()),
            Arc::new(self.detail.finish()),
        ];
        RecordBatch::try_new(findings_schema(), cols).expect("findings columns match the schema")
    }
}

/// Per-record summary, one per input row.
pub struct RecordRow<'a> {
    pub row: i64,
    pub doc_id: Option<&'a str>,
    pub counts: [i64; DetectorId::ALL.len()],
    /// Distinct kinds found, sorted.
    pub flags: &'a [&'static str],
}

pub struct RecordsBuilder {
    shard: StringBuilder,
    row: Int64Builder,
    doc_id: StringBuilder,
    counts: Vec<Int64Builder>,
    dup_cluster: Int64Builder,
    dup_keep: BooleanBuilder,
    poison_score: Float64Builder,
    outlier_score: Float64Builder,
    memorization_risk: Float64Builder,
    flags: ListBuilder<StringBuilder>,
}

impl RecordsBuilder {
    pub fn with_capacity(n: usize) -> Self {
        Self {
            shard: StringBuilder::with_capacity(n, n * 16),
            row: Int64Builder::with_capacity(n),
            doc_id: StringBuilder::with_capacity(n, n * 8),
            counts: DetectorId::ALL
                .iter()
                .map(|_| Int64Builder::with_capacity(n))
                .collect(),
            dup_cluster: Int64Builder::with_capacity(n),
            dup_keep: BooleanBuilder::with_capacity(n),
            poison_score: Float64Builder::with_capacity(n),
            outlier_score: Float64Builder::with_capacity(n),
            memorization_risk: Float64Builder::with_capacity(n),
            flags: ListBuilder::new(StringBuilder::new()),
        }
    }

    pub fn append(&mut self, shard: &str, r: &RecordRow<'_>) {
        self.shard.append_value(shard);
        self.row.append_value(r.row);
        self.doc_id.append_option(r.doc_id);
        for (b, c) in self.counts.iter_mut().zip(r.counts) {
            b.append_value(c);
        }
        // Filled by the corpus-level detectors when they run; until then: unique, kept, unscored.
        self.dup_cluster.append_null();
        self.dup_keep.append_value(true);
        self.poison_score.append_null();
        self.outlier_score.append_null();
        self.memorization_risk.append_null();
        for k in r.flags {
            self.flags.values().append_value(k);
        }
        self.flags.append(true);
    }

    pub fn finish(mut self) -> RecordBatch {
        let mut cols: Vec<ArrayRef> = vec![
            Arc::new(self.shard.finish()),
            Arc::new(self.row.finish()),
            Arc::new(self.doc_id.finish()),
        ];
        cols.extend(
            self.counts
                .iter_mut()
                .map(|b| Arc::new(b.finish()) as ArrayRef),
        );
        cols.push(Arc::new(self.dup_cluster.finish()));
        cols.push(Arc::new(self.dup_keep.finish()));
        cols.push(Arc::new(self.poison_score.finish()));
        cols.push(Arc::new(self.outlier_score.finish()));
        cols.push(Arc::new(self.memorization_risk.finish()));
        cols.push(Arc::new(self.flags.finish()));
        RecordBatch::try_new(records_schema(), cols).expect("records columns match the schema")
    }
}

static PII_VALUES: LazyLock<SchemaRef> = LazyLock::new(|| {
    Arc::new(Schema::new(vec![
        Field::new("value_hash", DataType::Utf8, false),
        Field::new("kind", DataType::Utf8, false),
        Field::new("preview", DataType::Utf8, true),
        Field::new("occurrences", DataType::Int64, false),
        Field::new("documents", DataType::Int64, false),
        Field::new("clusters", DataType::Int64, true),
        Field::new("first_shard", DataType::Utf8, false),
        Field::new("first_row", DataType::Int64, false),
        Field::new("first_doc_id", DataType::Utf8, true),
        Field::new("risk", DataType::Utf8, false),
    ]))
});

/// Schema of `pii_values.parquet`: one row per distinct PII or secret value.
pub fn pii_values_schema() -> SchemaRef {
    PII_VALUES.clone()
}

#[derive(Default)]
pub struct PiiValuesBuilder {
    value_hash: StringBuilder,
    kind: StringBuilder,
    preview: StringBuilder,
    occurrences: Int64Builder,
    documents: Int64Builder,
    clusters: Int64Builder,
    first_shard: StringBuilder,
    first_row: Int64Builder,
    first_doc_id: StringBuilder,
    risk: StringBuilder,
}

impl PiiValuesBuilder {
    pub fn append(
        &mut self,
        v: &crate::corpus::memo::ValueRow,
        shard: &str,
        row: i64,
        doc_id: Option<&str>,
    ) {
        self.value_hash.append_value(crate::hash::hex128(v.hash));
        self.kind.append_value(v.kind);
        self.preview.append_value(&v.preview);
        self.occurrences.append_value(v.occurrences as i64);
        self.documents.append_value(v.documents as i64);
        self.clusters.append_option(v.clusters.map(|c| c as i64));
        self.first_shard.append_value(shard);
        self.first_row.append_value(row);
        self.first_doc_id.append_option(doc_id);
        self.risk
            .append_value(crate::corpus::memo::risk_band(v.occurrences));
    }

    pub fn finish(mut self) -> RecordBatch {
        let cols: Vec<ArrayRef> = vec![
            Arc::new(self.value_hash.finish()),
            Arc::new(self.kind.finish()),
            Arc::new(self.preview.finish()),
            Arc::new(self.occurrences.finish()),
            Arc::new(self.documents.finish()),
            Arc::new(self.clusters.finish()),
            Arc::new(self.first_shard.finish()),
            Arc::new(self.first_row.finish()),
            Arc::new(self.first_doc_id.finish()),
            Arc::new(self.risk.finish()),
        ];
        RecordBatch::try_new(pii_values_schema(), cols).expect("pii_values columns match")
    }
}
