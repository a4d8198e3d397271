//! Memorization state: every occurrence of every PII or secret value, and sampled token windows,
//! kept as flat lists split by hash prefix into [`PARTITIONS`] partitions. Counting is exact: a
//! partition is sorted and swept on its own, so the audit can spill partitions to disk (as
//! [`encode_values`]/[`encode_windows`] bytes) and still count each one in memory, one at a time.
//! Pure: no IO.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::detect::window::DEFAULT_WINDOW_TOKENS;
use crate::{Error, Result};

/// Partitions of the value and window lists (by the top bits of their hash).
pub const PARTITIONS: usize = 64;

/// `[memorization]` settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MemoConfig {
    /// Words per window (contexts before PII, repeated spans).
    pub window_tokens: usize,
    /// One window in 2^`sample_bits` (chosen by hash, so a window is sampled everywhere or
    /// nowhere) is counted for the share of text in repeated windows.
    pub sample_bits: u32,
}

impl Default for MemoConfig {
    fn default() -> Self {
        Self {
            window_tokens: DEFAULT_WINDOW_TOKENS,
            sample_bits: 4,
        }
    }
}

impl MemoConfig {
    pub fn validate(&self) -> std::result::Result<(), String> {
        if !(8..=1000).contains(&self.window_tokens) {
            return Err(format!(
                "window_tokens is {}; it must be within 8..=1000",
                self.window_tokens
            ));
        }
        if self.sample_bits > 16 {
            return Err(format!(
                "sample_bits is {}; it must be at most 16",
                self.sample_bits
            ));
        }
        Ok(())
    }

    /// Share of windows sampled for coverage.
    pub fn sampling_rate(&self) -> f64 {
        1.0 / f64::from(1u32 << self.sample_bits)
    }

    /// Whether window `hash` is in the coverage sample.
    #[inline]
    pub fn sampled(&self, hash: u64) -> bool {
        hash & ((1u64 << self.sample_bits) - 1) == 0
    }
}

/// One occurrence of a PII or secret value in one record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValueOcc {
    /// Keyed hash of the normalized value.
    pub hash: u128,
    /// Record index: within its batch until [`MemoState::append`], then in the whole audit.
    pub record: u64,
    pub kind: &'static str,
    /// Hash of the window of words just before the value; 0 when fewer words precede it.
    pub context: u64,
    pub start_byte: u64,
    pub end_byte: u64,
    pub start_char: u64,
    pub end_char: u64,
    /// What the report may show of the value (masked unless revealing was asked for).
    pub preview: String,
}

/// Window flags.
pub const SAMPLED: u8 = 1;
/// The window just before a PII value.
pub const CONTEXT: u8 = 2;
/// The record holds PII.
pub const PII_DOC: u8 = 4;

/// One token window of one record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WindowOcc {
    pub hash: u64,
    pub record: u64,
    pub flags: u8,
}

/// What one batch contributes (records numbered within the batch).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MemoBatch {
    pub records: u64,
    pub values: Vec<ValueOcc>,
    pub windows: Vec<WindowOcc>,
}

#[inline]
fn part_of(top: u64) -> usize {
    (top >> (64 - PARTITIONS.trailing_zeros())) as usize
}

/// Occurrences of a whole audit, by partition. `append` in input order.
#[derive(Debug, Clone, PartialEq)]
pub struct MemoState {
    pub records: u64,
    pub values: Vec<Vec<ValueOcc>>,
    pub windows: Vec<Vec<WindowOcc>>,
    /// Windows ever appended (held or taken).
    pub window_occurrences: u64,
    bytes: usize,
}

impl Default for MemoState {
    fn default() -> Self {
        Self {
            records: 0,
            values: vec![Vec::new(); PARTITIONS],
            windows: vec![Vec::new(); PARTITIONS],
            window_occurrences: 0,
            bytes: 0,
        }
    }
}

impl MemoState {
    /// Adds a batch whose records follow those already added.
    pub fn append(&mut self, b: MemoBatch) {
        let base = self.records;
        for mut v in b.values {
            v.record += base;
            self.bytes += std::mem::size_of::<ValueOcc>() + v.preview.len();
            self.values[part_of((v.hash >> 64) as u64)].push(v);
        }
        self.window_occurrences += b.windows.len() as u64;
        for mut w in b.windows {
            w.record += base;
            self.bytes += std::mem::size_of::<WindowOcc>();
            self.windows[part_of(w.hash)].push(w);
        }
        self.records += b.records;
    }

    /// Approximate memory held, in bytes.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// Takes partition `p` out, leaving it empty.
    pub fn take(&mut self, p: usize) -> (Vec<ValueOcc>, Vec<WindowOcc>) {
        let v = std::mem::take(&mut self.values[p]);
        let w = std::mem::take(&mut self.windows[p]);
        self.bytes = self.bytes.saturating_sub(
            v.iter()
                .map(|v| std::mem::size_of::<ValueOcc>() + v.preview.len())
                .sum::<usize>()
                + w.len() * std::mem::size_of::<WindowOcc>(),
        );
        (v, w)
    }
}

/// Appends `values` to `out` in the spill format (little-endian, length-prefixed strings).
pub fn encode_values(values: &[ValueOcc], out: &mut Vec<u8>) {
    for v in values {
        out.extend_from_slice(&v.hash.to_le_bytes());
        for x in [
            v.record,
            v.context,
            v.start_byte,
            v.end_byte,
            v.start_char,
            v.end_char,
        ] {
            out.extend_from_slice(&x.to_le_bytes());
        }
        for s in [v.kind, v.preview.as_str()] {
            out.extend_from_slice(&(s.len() as u32).to_le_bytes());
            out.extend_from_slice(s.as_bytes());
        }
    }
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        if self.0.len() < n {
            return Err(Error::Config("truncated memorization spill".into()));
        }
        let (a, b) = self.0.split_at(n);
        self.0 = b;
        Ok(a)
    }
    fn u64(&mut self) -> Result<u64> {
        Ok(u64::from_le_bytes(self.take(8)?.try_into().expect("8")))
    }
    fn str(&mut self) -> Result<&'a str> {
        let n = u32::from_le_bytes(self.take(4)?.try_into().expect("4")) as usize;
        std::str::from_utf8(self.take(n)?)
            .map_err(|_| Error::Config("corrupt memorization spill".into()))
    }
}

/// Reads what [`encode_values`] wrote.
pub fn decode_values(bytes: &[u8], out: &mut Vec<ValueOcc>) -> Result<()> {
    let mut r = Reader(bytes);
    while !r.0.is_empty() {
        let hash = u128::from_le_bytes(r.take(16)?.try_into().expect("16"));
        let [record, context, start_byte, end_byte, start_char, end_char] =
            [r.u64()?, r.u64()?, r.u64()?, r.u64()?, r.u64()?, r.u64()?];
        let kind = crate::rules::intern(r.str()?);
        let preview = r.str()?.to_string();
        out.push(ValueOcc {
            hash,
            record,
            kind,
            context,
            start_byte,
            end_byte,
            start_char,
            end_char,
            preview,
        });
    }
    Ok(())
}

/// Appends `windows` to `out` in the spill format.
pub fn encode_windows(windows: &[WindowOcc], out: &mut Vec<u8>) {
    for w in windows {
        out.extend_from_slice(&w.hash.to_le_bytes());
        out.extend_from_slice(&w.record.to_le_bytes());
        out.push(w.flags);
    }
}

/// Reads what [`encode_windows`] wrote.
pub fn decode_windows(bytes: &[u8], out: &mut Vec<WindowOcc>) -> Result<()> {
    if bytes.len() % 17 != 0 {
        return Err(Error::Config("truncated memorization spill".into()));
    }
    out.extend(bytes.chunks_exact(17).map(|c| WindowOcc {
        hash: u64::from_le_bytes(c[..8].try_into().expect("8")),
        record: u64::from_le_bytes(c[8..16].try_into().expect("8")),
        flags: c[16],
    }));
    Ok(())
}

/// The share of text in windows repeated across documents, from the sampled windows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Coverage {
    /// Documents with at least one sampled window.
    pub documents: u64,
    pub sampled_windows: u64,
    pub repeated_windows: u64,
    /// `repeated_windows / sampled_windows`.
    pub repeated_share: f64,
    /// Half-width of a 95 % interval. Windows are sampled by hash, and the windows of one
    /// document are repeated or not together, so the variance is that of a ratio estimate over
    /// documents (cluster sampling), not the binomial one.
    pub error_95: f64,
}

impl Coverage {
    /// From per-document `(sampled, repeated)` counts.
    fn of(docs: impl Iterator<Item = (u32, u32)> + Clone) -> Self {
        let (mut d, mut n, mut r) = (0u64, 0u64, 0u64);
        for (s, k) in docs.clone().filter(|&(s, _)| s > 0) {
            d += 1;
            n += u64::from(s);
            r += u64::from(k);
        }
        let mut c = Coverage {
            documents: d,
            sampled_windows: n,
            repeated_windows: r,
            ..Coverage::default()
        };
        if n > 0 {
            let p = r as f64 / n as f64;
            c.repeated_share = p;
            if d > 1 {
                let ss: f64 = docs
                    .filter(|&(s, _)| s > 0)
                    .map(|(s, k)| (f64::from(k) - p * f64::from(s)).powi(2))
                    .sum();
                let var = d as f64 / (d as f64 - 1.0) * ss / (n as f64).powi(2);
                c.error_95 = 1.96 * var.sqrt();
            }
        }
        c
    }
}

/// Per record: sampled windows, those repeated in other documents, whether it holds PII.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct RecordWindows {
    sampled: u32,
    repeated: u32,
    pii: bool,
}

/// Window results of the whole audit.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WindowCounts {
    pub all: Coverage,
    pub pii_documents: Coverage,
    /// Documents holding each context window found in two or more documents.
    pub repeated_contexts: HashMap<u64, u64>,
    records: Vec<RecordWindows>,
}

impl WindowCounts {
    /// Counts for `records` records (0: only the repeated contexts are wanted).
    pub fn new(records: u64) -> Self {
        Self {
            records: vec![RecordWindows::default(); records as usize],
            ..Self::default()
        }
    }

    /// Counts one partition's windows (sorted here).
    pub fn sweep(&mut self, windows: &mut [WindowOcc]) {
        windows.sort_unstable_by_key(|w| (w.hash, w.record));
        for group in windows.chunk_by(|a, b| a.hash == b.hash) {
            let mut docs = 0u64;
            let mut last = None;
            let mut context = false;
            for w in group {
                docs += u64::from(last != Some(w.record));
                last = Some(w.record);
                context |= w.flags & CONTEXT != 0;
            }
            let repeated = docs >= 2;
            if context && repeated {
                self.repeated_contexts.insert(group[0].hash, docs);
            }
            let mut last = None;
            for w in group.iter().filter(|w| w.flags & SAMPLED != 0) {
                if last == Some(w.record) {
                    continue;
                }
                last = Some(w.record);
                if let Some(r) = self.records.get_mut(w.record as usize) {
                    r.sampled += 1;
                    r.repeated += u32::from(repeated);
                    r.pii |= w.flags & PII_DOC != 0;
                }
            }
        }
    }

    pub fn finish(&mut self) {
        let rs = &self.records;
        self.all = Coverage::of(rs.iter().map(|r| (r.sampled, r.repeated)));
        self.pii_documents =
            Coverage::of(rs.iter().filter(|r| r.pii).map(|r| (r.sampled, r.repeated)));
    }
}

/// One distinct value of the corpus.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValueRow {
    pub hash: u128,
    pub kind: &'static str,
    pub preview: String,
    pub occurrences: u64,
    pub documents: u64,
    /// Distinct near-duplicate clusters among its documents (a unique document is its own).
    pub clusters: Option<u64>,
    pub first_record: u64,
}

/// The risk band of a value seen `occurrences` times.
pub fn risk_band(occurrences: u64) -> &'static str {
    match occurrences {
        0 | 1 => "1",
        2..=9 => "2-9",
        10..=99 => "10-99",
        _ => "100+",
    }
}

/// A record's risk in [0, 1] from the largest repetition count of its PII (value occurrences
/// or documents sharing the context before a value): log10(count) / 2, so 1 → 0, 10 → 0.5,
/// 100 or more → 1.
pub fn risk_score(count: u64) -> f64 {
    ((count.max(1) as f64).log10() / 2.0).min(1.0)
}

/// A value whose preceding window recurs in other documents.
#[derive(Debug, Clone, PartialEq)]
pub struct ContextHit {
    pub occ: ValueOcc,
    pub context_documents: u64,
    pub value_occurrences: u64,
    pub value_documents: u64,
}

/// One partition's distinct values (by hash) and context hits (by record and offset).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PartitionCounts {
    pub rows: Vec<ValueRow>,
    pub contexts: Vec<ContextHit>,
}

/// What the value sweep keeps across partitions: per record, the largest repetition count of its
/// PII (0: no PII). Each partition's values and context hits are returned to be written out, so
/// memory holds one partition at a time.
#[derive(Debug, Clone, Default)]
pub struct ValueCounts {
    pub record_count: Vec<u64>,
}

impl ValueCounts {
    pub fn new(records: u64) -> Self {
        Self {
            record_count: vec![0; records as usize],
        }
    }

    /// Counts one partition's values (sorted here). `cluster` maps a record to its duplicate
    /// cluster, when dedup ran; `windows` are the swept window counts.
    pub fn sweep(
        &mut self,
        values: &mut [ValueOcc],
        cluster: Option<&dyn Fn(u64) -> u64>,
        windows: &WindowCounts,
    ) -> PartitionCounts {
        values.sort_unstable_by_key(|v| (v.hash, v.record, v.start_byte));
        let mut out = PartitionCounts::default();
        let mut clusters: Vec<u64> = Vec::new();
        for group in values.chunk_by(|a, b| a.hash == b.hash) {
            let occurrences = group.len() as u64;
            let mut documents = 0u64;
            let mut last = None;
            for v in group {
                documents += u64::from(last != Some(v.record));
                last = Some(v.record);
            }
            let clusters = cluster.map(|f| {
                clusters.clear();
                clusters.extend(group.iter().map(|v| f(v.record)));
                clusters.sort_unstable();
                clusters.dedup();
                clusters.len() as u64
            });
            out.rows.push(ValueRow {
                hash: group[0].hash,
                kind: group[0].kind,
                preview: group[0].preview.clone(),
                occurrences,
                documents,
                clusters,
                first_record: group[0].record,
            });
            for v in group {
                let ctx = windows
                    .repeated_contexts
                    .get(&v.context)
                    .copied()
                    .filter(|_| v.context != 0);
                let count = occurrences.max(ctx.unwrap_or(0));
                if let Some(c) = self.record_count.get_mut(v.record as usize) {
                    *c = (*c).max(count);
                }
                if let Some(context_documents) = ctx {
                    out.contexts.push(ContextHit {
                        occ: v.clone(),
                        context_documents,
                        value_occurrences: occurrences,
                        value_documents: documents,
                    });
                }
            }
        }
        out.contexts
            .sort_unstable_by_key(|c| (c.occ.record, c.occ.start_byte, c.occ.hash));
        out
    }
}

/// Counts a whole in-memory state (no spill): windows, per-record counts and every
/// partition's values in partition order.
pub fn count(
    mut state: MemoState,
    cluster: Option<&dyn Fn(u64) -> u64>,
) -> (WindowCounts, ValueCounts, Vec<PartitionCounts>) {
    let mut w = WindowCounts::new(state.records);
    for p in state.windows.iter_mut() {
        w.sweep(p);
    }
    w.finish();
    let mut v = ValueCounts::new(state.records);
    let parts = state
        .values
        .iter_mut()
        .map(|p| v.sweep(p, cluster, &w))
        .collect();
    (w, v, parts)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn occ(hash: u128, record: u64, context: u64) -> ValueOcc {
        ValueOcc {
            hash,
            record,
            kind: "EMAIL",
            context,
            start_byte: 0,
            end_byte: 3,
            start_char: 0,
            end_char: 3,
            preview: "a*b".into(),
        }
    }

    #[test]
    fn counts_occurrences_documents_and_contexts() {
        let mut s = MemoState::default();
        let h = 7u128 << 100;
        s.append(MemoBatch {
            records: 3,
            values: vec![occ(h, 0, 0), occ(h, 0, 0), occ(h, 2, 55), occ(9, 1, 0)],
            windows: vec![
                WindowOcc {
                    hash: 55,
                    record: 2,
                    flags: CONTEXT | PII_DOC,
                },
                WindowOcc {
                    hash: 55,
                    record: 1,
                    flags: SAMPLED,
                },
            ],
        });
        s.append(MemoBatch {
            records: 1,
            values: vec![occ(9, 0, 0)],
            windows: vec![],
        });
        let (w, v, parts) = count(s, None);
        assert_eq!(w.all.sampled_windows, 1);
        assert_eq!(w.all.repeated_windows, 1);
        assert_eq!(w.repeated_contexts.get(&55), Some(&2));
        let rows: Vec<&ValueRow> = parts.iter().flat_map(|p| &p.rows).collect();
        assert!(
            rows.windows(2).all(|r| r[0].hash < r[1].hash),
            "ordered by hash"
        );
        let row = |hash| *rows.iter().find(|r| r.hash == hash).unwrap();
        assert_eq!((row(h).occurrences, row(h).documents), (3, 2));
        assert_eq!((row(9).occurrences, row(9).documents), (2, 2));
        assert_eq!(row(9).first_record, 1);
        assert_eq!(parts.iter().map(|p| p.contexts.len()).sum::<usize>(), 1);
        assert_eq!(v.record_count, vec![3, 2, 3, 2]);
        assert_eq!(risk_band(1), "1");
        assert_eq!(risk_band(100), "100+");
        assert_eq!(risk_score(100), 1.0);
    }

    #[test]
    fn spill_format_round_trips() {
        let vs = vec![occ(1u128 << 90, 5, 3), occ(2, 6, 0)];
        let mut b = vec![];
        encode_values(&vs, &mut b);
        let mut back = vec![];
        decode_values(&b, &mut back).unwrap();
        assert_eq!(back, vs);
        assert!(decode_values(&b[..b.len() - 1], &mut vec![]).is_err());
        let ws = vec![WindowOcc {
            hash: 3,
            record: 4,
            flags: 5,
        }];
        let mut b = vec![];
        encode_windows(&ws, &mut b);
        let mut back = vec![];
        decode_windows(&b, &mut back).unwrap();
        assert_eq!(back, ws);
    }
}
