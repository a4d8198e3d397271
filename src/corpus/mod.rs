//! Mergeable corpus state: built from many batches, on many threads or machines, combined with
//! [`CorpusStats::merge`]. Pure: no IO.

pub(crate) mod codec;
pub mod dedup;
mod dedup_arrow;
pub mod index;
pub mod labels;
pub mod memo;
pub mod outlier;
pub mod poison;
pub mod scores;

pub use dedup_arrow::STATE_FORMAT as DEDUP_STATE_FORMAT;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::detect::{DetectorId, Hit};
use crate::Result;

/// Hints the CPU to load the cache line holding `r`.
#[inline]
pub(crate) fn prefetch<T>(r: &T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch is a hint that never faults, whatever the address.
    unsafe {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        _mm_prefetch::<_MM_HINT_T0>((r as *const T).cast::<i8>());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = r;
}

/// Findings and records counted for one kind (or one detector).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Count {
    /// Number of findings.
    pub findings: u64,
    /// Number of records with at least one finding.
    pub records: u64,
}

impl Count {
    fn add(&mut self, o: Count) {
        self.findings += o.findings;
        self.records += o.records;
    }
}

/// Counts of what was scanned and found. `merge` is associative and commutative, so any
/// split of the corpus into batches gives the same totals.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CorpusStats {
    pub records: u64,
    pub null_texts: u64,
    pub text_bytes: u64,
    /// Records with at least one finding.
    pub records_flagged: u64,
    pub by_detector: BTreeMap<DetectorId, Count>,
    pub by_kind: BTreeMap<String, Count>,
}

impl CorpusStats {
    /// Accounts for one record and its hits.
    pub fn observe(&mut self, text: Option<&str>, hits: &[Hit]) {
        self.records += 1;
        match text {
            None => self.null_texts += 1,
            Some(t) => self.text_bytes += t.len() as u64,
        }
        self.records_flagged += u64::from(!hits.is_empty());
        let mut seen_det: Vec<DetectorId> = Vec::new();
        let mut seen_kind: Vec<&str> = Vec::new();
        for h in hits {
            let first_det = !seen_det.contains(&h.detector);
            let first_kind = !seen_kind.contains(&h.kind);
            self.by_detector.entry(h.detector).or_default().add(Count {
                findings: 1,
                records: first_det as u64,
            });
            self.by_kind
                .entry(h.kind.to_string())
                .or_default()
                .add(Count {
                    findings: 1,
                    records: first_kind as u64,
                });
            if first_det {
                seen_det.push(h.detector);
            }
            if first_kind {
                seen_kind.push(h.kind);
            }
        }
    }

    /// Accounts for more findings of `detector` in a record already observed, one kind per
    /// finding; `flagged` says whether the record had findings before.
    pub fn observe_more(&mut self, flagged: bool, detector: DetectorId, kinds: &[&str]) {
        if kinds.is_empty() {
            return;
        }
        self.records_flagged += u64::from(!flagged);
        self.by_detector.entry(detector).or_default().add(Count {
            findings: kinds.len() as u64,
            records: 1,
        });
        for (i, k) in kinds.iter().enumerate() {
            let c = self.by_kind.entry(k.to_string()).or_default();
            c.findings += 1;
            c.records += u64::from(!kinds[..i].contains(k));
        }
    }

    pub fn merge(&mut self, other: &CorpusStats) {
        self.records += other.records;
        self.null_texts += other.null_texts;
        self.text_bytes += other.text_bytes;
        self.records_flagged += other.records_flagged;
        for (d, c) in &other.by_detector {
            self.by_detector.entry(*d).or_default().add(*c);
        }
        for (k, c) in &other.by_kind {
            self.by_kind.entry(k.clone()).or_default().add(*c);
        }
    }

    pub fn findings(&self) -> u64 {
        self.by_detector.values().map(|c| c.findings).sum()
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        serde_json::from_slice(bytes)
            .map_err(|e| crate::Error::Config(format!("not a shardguard corpus state: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::{unicode::UnicodeDetector, TextDetector};
    use proptest::prelude::*;

    fn stats_of(texts: &[Option<String>]) -> CorpusStats {
        let mut s = CorpusStats::default();
        for t in texts {
            let mut hits = vec![];
            if let Some(t) = t {
                UnicodeDetector.scan(t, &mut hits);
            }
            s.observe(t.as_deref(), &hits);
        }
        s
    }

    proptest! {
        #[test]
        fn merge_of_halves_equals_whole(
            texts in proptest::collection::vec(
                proptest::option::of("[a-z \u{200B}\u{202E}\u{0430}]{0,12}"), 0..40),
            cut in 0usize..40,
        ) {
            let cut = cut.min(texts.len());
            let mut a = stats_of(&texts[..cut]);
            let b = stats_of(&texts[cut..]);
            a.merge(&b);
            prop_assert_eq!(&a, &stats_of(&texts));
            prop_assert_eq!(CorpusStats::from_bytes(&a.to_bytes()).unwrap(), a);
        }
    }
}
