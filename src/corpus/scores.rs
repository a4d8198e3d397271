//! The record-level corpus models (`poison`, `outlier`) of a run of records, together with those
//! records' rows (the `records` table as the per-batch scan made them) and counts, so that a
//! state built per batch on many workers, shipped as bytes and merged in input order, finishes
//! into the same findings, scores and summary as one audit of the whole. Pure: no IO.

use arrow::array::RecordBatch;

use super::codec::{bad, Dec, Enc};
use super::outlier::OutlierState;
use super::poison::PoisonState;
use super::CorpusStats;
use crate::{Error, Result};

#[derive(Debug, Clone, Default)]
pub struct ScoreState {
    /// The records' rows, in input order (`records` schema).
    pub rows: Vec<RecordBatch>,
    /// What the per-batch scan counted of them.
    pub stats: CorpusStats,
    pub poison: Option<PoisonState>,
    pub outlier: Option<OutlierState>,
}

/// Format of [`ScoreState::to_bytes`]; bumped whenever its layout changes.
pub const STATE_FORMAT: u32 = 1;
const STATE_MAGIC: &[u8; 8] = b"SGSCORE\0";
const WHAT: &str = "score state";

impl ScoreState {
    /// Records covered.
    pub fn len(&self) -> usize {
        self.rows.iter().map(|b| b.num_rows()).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Appends the records of `b`, which follow this state's in input order. States built with
    /// different detectors do not merge (an empty state merges with any).
    pub fn merge(&mut self, b: ScoreState) -> Result<()> {
        if b.rows.is_empty() && b.poison.is_none() && b.outlier.is_none() {
            return Ok(());
        }
        if self.rows.is_empty() && self.poison.is_none() && self.outlier.is_none() {
            *self = b;
            return Ok(());
        }
        if self.poison.is_some() != b.poison.is_some()
            || self.outlier.is_some() != b.outlier.is_some()
        {
            return Err(Error::Config(
                "these score states were built with different detectors".into(),
            ));
        }
        if let (Some(a), Some(p)) = (&mut self.poison, b.poison) {
            a.merge(p);
        }
        if let (Some(a), Some(o)) = (&mut self.outlier, b.outlier) {
            a.merge(o);
        }
        self.stats.merge(&b.stats);
        self.rows.extend(b.rows);
        Ok(())
    }

    /// The state as bytes: magic, format, then the counts, poison and outlier state (each as
    /// its own `to_bytes`, empty when absent) and the rows as an Arrow IPC stream.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut e = Enc::open(STATE_MAGIC, STATE_FORMAT);
        for part in [
            self.stats.to_bytes(),
            self.poison.as_ref().map_or_else(Vec::new, |p| p.to_bytes()),
            self.outlier
                .as_ref()
                .map_or_else(Vec::new, |o| o.to_bytes()),
            rows_ipc(&self.rows),
        ] {
            e.bytes(&part);
        }
        e.0
    }

    /// Reads what [`to_bytes`](Self::to_bytes) wrote; anything else is a clear error.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let mut d = Dec::open(bytes, STATE_MAGIC, STATE_FORMAT, WHAT)?;
        let (stats, poison, outlier, rows) = (d.bytes()?, d.bytes()?, d.bytes()?, d.bytes()?);
        let s = Self {
            stats: CorpusStats::from_bytes(stats)?,
            poison: (!poison.is_empty())
                .then(|| PoisonState::from_bytes(poison))
                .transpose()?,
            outlier: (!outlier.is_empty())
                .then(|| OutlierState::from_bytes(outlier))
                .transpose()?,
            rows: rows_from_ipc(rows)?,
        };
        d.finish()?;
        let n = s.len();
        if s.poison.as_ref().is_some_and(|p| p.records as usize != n)
            || s.outlier.as_ref().is_some_and(|o| o.len() != n)
        {
            return Err(bad(WHAT, "its models and rows count different records"));
        }
        Ok(s)
    }
}

fn rows_ipc(rows: &[RecordBatch]) -> Vec<u8> {
    let mut out = Vec::new();
    let schema = crate::schema::records_schema();
    // Writing Arrow to memory fails only on a batch of another schema, which the scan never makes.
    if let Ok(mut w) = arrow::ipc::writer::StreamWriter::try_new(&mut out, &schema) {
        let ok = rows
            .iter()
            .try_for_each(|b| w.write(b))
            .and_then(|_| w.finish());
        if ok.is_err() {
            out.clear();
        }
    }
    out
}

fn rows_from_ipc(bytes: &[u8]) -> Result<Vec<RecordBatch>> {
    let arrow = |e: arrow::error::ArrowError| bad(WHAT, format!("rows: {e}"));
    let reader = arrow::ipc::reader::StreamReader::try_new(bytes, None).map_err(arrow)?;
    if reader.schema() != crate::schema::records_schema() {
        return Err(bad(WHAT, "its rows are not records rows"));
    }
    reader.map(|b| b.map_err(arrow)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::DetectorId;
    use crate::hash::Key;
    use crate::scan::{ScanConfig, Scanner};
    use arrow::array::StringArray;
    use proptest::prelude::*;
    use std::sync::Arc;

    fn scanner() -> Scanner {
        let cfg = ScanConfig {
            label_column: Some("label".into()),
            detectors: vec![DetectorId::Poison, DetectorId::Outlier, DetectorId::Unicode],
            ..ScanConfig::default()
        };
        Scanner::new(
            cfg,
            Key::from_hex("000102030405060708090a0b0c0d0e0f").unwrap(),
        )
        .unwrap()
    }

    /// The state of `texts` (with labels) scanned as one batch of `shard` from `first_row`.
    fn state_of(
        s: &Scanner,
        texts: &[(Option<String>, String)],
        shard: &str,
        first_row: i64,
    ) -> ScoreState {
        let text: StringArray = texts.iter().map(|t| t.0.as_deref()).collect();
        let label: StringArray = texts.iter().map(|t| Some(t.1.as_str())).collect();
        let batch = RecordBatch::try_from_iter([
            ("text", Arc::new(text) as _),
            ("label", Arc::new(label) as _),
        ])
        .unwrap();
        let cols = s.resolve_columns(&batch.schema(), shard).unwrap();
        let r = s.scan(shard, first_row, &batch, &cols).unwrap();
        ScoreState {
            rows: vec![r.records],
            stats: r.stats,
            poison: r.poison,
            outlier: r.outlier,
        }
    }

    fn text() -> impl Strategy<Value = (Option<String>, String)> {
        (
            proptest::option::weighted(
                0.9,
                "(Zorblat |cf |the |cat |sat |on |mat |Qx7vW9 |kjh#@! |\u{200B}|\\. ){0,40}",
            ),
            "(pos|neg|mixed)",
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]
        #[test]
        fn merged_states_of_two_halves_equal_the_state_of_the_whole(
            texts in proptest::collection::vec(text(), 1..60),
            cut in 0usize..60,
        ) {
            let s = scanner();
            let cut = cut.min(texts.len());
            let whole = state_of(&s, &texts, "a.parquet", 0);
            let a = ScoreState::from_bytes(&state_of(&s, &texts[..cut], "a.parquet", 0).to_bytes()).unwrap();
            let b = ScoreState::from_bytes(&state_of(&s, &texts[cut..], "a.parquet", cut as i64).to_bytes()).unwrap();
            let mut merged = ScoreState::default();
            merged.merge(a).unwrap();
            merged.merge(b).unwrap();
            prop_assert_eq!(merged.len(), texts.len());
            prop_assert_eq!(&merged.poison, &whole.poison);
            prop_assert_eq!(&merged.outlier, &whole.outlier);
            prop_assert_eq!(&merged.stats, &whole.stats);
            let rows = |s: &ScoreState| arrow::compute::concat_batches(&crate::schema::records_schema(), &s.rows).unwrap();
            prop_assert_eq!(rows(&merged), rows(&whole));
        }
    }

    #[test]
    fn damaged_or_foreign_bytes_are_clear_errors() {
        let s = scanner();
        let texts: Vec<_> = (0..20)
            .map(|i| {
                (
                    Some(format!("record {i} says cf then kjh#@! qqq")),
                    "pos".to_string(),
                )
            })
            .collect();
        let st = state_of(&s, &texts, "a.parquet", 0);
        let bytes = st.to_bytes();
        let back = ScoreState::from_bytes(&bytes).unwrap();
        assert_eq!(back.poison, st.poison);
        for cut in [0, 5, 12, 40, bytes.len() / 2, bytes.len() - 1] {
            let e = ScoreState::from_bytes(&bytes[..cut])
                .unwrap_err()
                .to_string();
            assert!(e.contains("not a shardguard"), "{cut}: {e}");
        }
        let mut wrong = bytes.clone();
        wrong[8] = 99;
        let e = ScoreState::from_bytes(&wrong).unwrap_err().to_string();
        assert!(e.contains("format 99"), "{e}");
        // A state of other detectors does not merge.
        let mut other = st.clone();
        other.outlier = None;
        let mut m = st.clone();
        assert!(m.merge(other).is_err());
        // Poison state bytes are not score state bytes, and the reverse.
        let p = st.poison.as_ref().unwrap().to_bytes();
        assert!(ScoreState::from_bytes(&p).is_err());
        assert!(PoisonState::from_bytes(&bytes).is_err());
        let mut flipped = p.clone();
        let last = flipped.len() - 1;
        flipped[last] ^= 0xff;
        assert!(PoisonState::from_bytes(&flipped).is_err());
    }
}
