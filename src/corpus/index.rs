//! The training-data index: what a model's outputs are checked against. It holds the keyed hash
//! of every PII and secret value with its counts, and a seeded Bloom filter of the keyed hashes
//! of every token window of the training text. No raw value, no text: without the key, nothing
//! in it can be tested. Versioned, mergeable (indexes of disjoint shards built with the same
//! capacity), pure: bytes in and out, no IO.

use fastbloom::BloomFilter;
use serde::{Deserialize, Serialize};

use crate::corpus::memo::ValueRow;
use crate::hash::Key;
use crate::{Error, Result};

/// Version of the index file layout.
pub const INDEX_FORMAT: u32 = 1;
const MAGIC: &[u8; 8] = b"SGINDEX\0";
/// The Bloom filter's crate and version: its bit layout is part of the format.
const BLOOM_IMPL: &str = "fastbloom 0.17.0";
/// What the key check hashes: equal checks mean equal keys, and it reveals nothing of the key.
const KEY_CHECK: &[u8] = b"shardguard index key check v1";

/// The index's header, stored as JSON at the front of the file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IndexHeader {
    pub format: u32,
    pub shardguard_version: String,
    pub bloom_impl: String,
    pub window_tokens: usize,
    /// The false-positive rate asked for, per window looked up.
    pub fp_rate: f64,
    /// Windows the filter was sized for.
    pub capacity: u64,
    /// The false-positive rate expected with the windows actually stored.
    pub expected_fp_rate: f64,
    pub bloom_bits: u64,
    pub bloom_hashes: u32,
    /// Distinct windows stored.
    pub windows: u64,
    /// Distinct PII and secret values stored.
    pub values: u64,
    pub records: u64,
    pub text_bytes: u64,
    /// Keyed hash of a fixed string: tells whether a key is the one the index was built with.
    pub key_check: String,
    /// Kind names the values refer to by position.
    pub kinds: Vec<String>,
}

/// One training value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IndexValue {
    pub hash: u128,
    pub kind: &'static str,
    pub occurrences: u64,
    pub documents: u64,
}

#[derive(Clone)]
pub struct TrainingIndex {
    header: IndexHeader,
    /// Sorted by hash.
    values: Vec<IndexValue>,
    bloom: BloomFilter,
}

impl std::fmt::Debug for TrainingIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TrainingIndex")
            .field("header", &self.header)
            .finish()
    }
}

/// Builds an index: size it, add windows (in any order, repeats allowed), then finish.
pub struct IndexBuilder {
    header: IndexHeader,
    bloom: BloomFilter,
}

impl IndexBuilder {
    /// A filter sized for `capacity` windows at `fp_rate` per lookup.
    pub fn new(key: &Key, window_tokens: usize, fp_rate: f64, capacity: u64) -> Result<Self> {
        if !(fp_rate > 0.0 && fp_rate < 0.5) {
            return Err(Error::Config(format!(
                "the false-positive rate is {fp_rate}; it must be within (0, 0.5)"
            )));
        }
        let bloom = BloomFilter::with_false_pos(fp_rate)
            .seed(&0)
            .expected_items(capacity.max(1) as usize);
        Ok(Self {
            header: IndexHeader {
                format: INDEX_FORMAT,
                shardguard_version: env!("CARGO_PKG_VERSION").into(),
                bloom_impl: BLOOM_IMPL.into(),
                window_tokens,
                fp_rate,
                capacity: capacity.max(1),
                expected_fp_rate: 0.0,
                bloom_bits: bloom.num_bits() as u64,
                bloom_hashes: bloom.num_hashes(),
                windows: 0,
                values: 0,
                records: 0,
                text_bytes: 0,
                key_check: key.hash_hex(KEY_CHECK),
                kinds: Vec::new(),
            },
            bloom,
        })
    }

    /// Adds distinct window hashes (the caller removes repeats, so `windows` counts right).
    /// The words of the window a few ahead are requested early, so the random writes overlap.
    pub fn add_windows(&mut self, distinct: &[u64]) {
        let k = self.bloom.num_hashes();
        for (i, &h) in distinct.iter().enumerate() {
            if let Some(&next) = distinct.get(i + 8) {
                prefetch_probes(&self.bloom, next, k);
            }
            self.bloom.insert_hash(h);
        }
        self.header.windows += distinct.len() as u64;
    }

    /// The index, with `values` (distinct, any order) and what the training text was.
    pub fn finish(
        mut self,
        mut values: Vec<ValueRow>,
        records: u64,
        text_bytes: u64,
    ) -> TrainingIndex {
        values.sort_unstable_by_key(|v| v.hash);
        let values: Vec<IndexValue> = values
            .into_iter()
            .map(|v| IndexValue {
                hash: v.hash,
                kind: v.kind,
                occurrences: v.occurrences,
                documents: v.documents,
            })
            .collect();
        self.header.values = values.len() as u64;
        self.header.records = records;
        self.header.text_bytes = text_bytes;
        let mut index = TrainingIndex {
            header: self.header,
            values,
            bloom: self.bloom,
        };
        index.refresh();
        index
    }
}

impl TrainingIndex {
    pub fn header(&self) -> &IndexHeader {
        &self.header
    }

    fn refresh(&mut self) {
        self.header.expected_fp_rate = self
            .bloom
            .expected_false_pos(self.header.windows.max(1) as usize);
        let mut kinds: Vec<String> = self.values.iter().map(|v| v.kind.to_string()).collect();
        kinds.sort_unstable();
        kinds.dedup();
        self.header.kinds = kinds;
    }

    /// Errors unless `key` is the key the index was built with.
    pub fn check_key(&self, key: &Key) -> Result<()> {
        if key.hash_hex(KEY_CHECK) != self.header.key_check {
            return Err(Error::Config(
                "the key is not the one this index was built with (give the same --key-file or \
                 SHARDGUARD_KEY)"
                    .into(),
            ));
        }
        Ok(())
    }

    /// The training counts of the value with keyed hash `hash`.
    pub fn value(&self, hash: u128) -> Option<&IndexValue> {
        self.values
            .binary_search_by_key(&hash, |v| v.hash)
            .ok()
            .map(|i| &self.values[i])
    }

    /// Whether the window with keyed hash `hash` is (probably) in the training text.
    #[inline]
    pub fn has_window(&self, hash: u64) -> bool {
        self.bloom.contains_hash(hash)
    }

    /// Asks the CPU to start loading the filter words window `hash` tests (the first `probes`
    /// of its bits), so lookups a few windows ahead overlap their cache misses. Only a hint:
    /// lookups are right whatever it loads.
    #[inline]
    pub fn prefetch_window(&self, hash: u64, probes: u32) {
        prefetch_probes(&self.bloom, hash, probes.min(self.header.bloom_hashes));
    }

    pub fn values(&self) -> &[IndexValue] {
        &self.values
    }

    /// Adds the index of other (disjoint) training data: windows united, value counts summed.
    pub fn merge(&mut self, other: &TrainingIndex) -> Result<()> {
        let (a, b) = (&self.header, &other.header);
        if a.key_check != b.key_check {
            return Err(Error::Config(
                "the indexes were built with different keys".into(),
            ));
        }
        if (a.format, a.window_tokens, &a.bloom_impl) != (b.format, b.window_tokens, &b.bloom_impl)
        {
            return Err(Error::Config(format!(
                "the indexes differ in format or window: {} words vs {}",
                a.window_tokens, b.window_tokens
            )));
        }
        if (a.bloom_bits, a.bloom_hashes) != (b.bloom_bits, b.bloom_hashes) {
            return Err(Error::Config(format!(
                "the indexes' filters differ in size ({} bits, {} hashes vs {} bits, {} hashes): \
                 build both with the same --capacity and --fp-rate",
                a.bloom_bits, a.bloom_hashes, b.bloom_bits, b.bloom_hashes
            )));
        }
        self.bloom.union(&other.bloom);
        let mut merged = Vec::with_capacity(self.values.len() + other.values.len());
        let (mut i, mut j) = (0, 0);
        let (x, y) = (&self.values, &other.values);
        while i < x.len() || j < y.len() {
            match (x.get(i), y.get(j)) {
                (Some(p), Some(q)) if p.hash == q.hash => {
                    merged.push(IndexValue {
                        occurrences: p.occurrences + q.occurrences,
                        documents: p.documents + q.documents,
                        ..*p
                    });
                    i += 1;
                    j += 1;
                }
                (Some(p), Some(q)) if p.hash < q.hash => {
                    merged.push(*p);
                    i += 1;
                }
                (Some(p), None) => {
                    merged.push(*p);
                    i += 1;
                }
                (_, Some(q)) => {
                    merged.push(*q);
                    j += 1;
                }
                (None, None) => unreachable!("loop condition"),
            }
        }
        self.values = merged;
        // Windows found in both are counted twice: an upper bound, as the filter cannot tell.
        self.header.windows += b.windows;
        self.header.values = self.values.len() as u64;
        self.header.records += b.records;
        self.header.text_bytes += b.text_bytes;
        self.refresh();
        Ok(())
    }

    /// The index as bytes: magic, header length, JSON header, values, filter words.
    pub fn to_bytes(&self) -> Vec<u8> {
        let header = serde_json::to_vec(&self.header).expect("header serializes");
        let words: Vec<u64> = self.bloom.iter().collect();
        let mut out =
            Vec::with_capacity(16 + header.len() + self.values.len() * 34 + words.len() * 8);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&(header.len() as u64).to_le_bytes());
        out.extend_from_slice(&header);
        for v in &self.values {
            let kind = self
                .header
                .kinds
                .binary_search_by(|k| k.as_str().cmp(v.kind))
                .unwrap_or(0) as u16;
            out.extend_from_slice(&v.hash.to_le_bytes());
            out.extend_from_slice(&v.occurrences.to_le_bytes());
            out.extend_from_slice(&v.documents.to_le_bytes());
            out.extend_from_slice(&kind.to_le_bytes());
        }
        out.extend_from_slice(&(words.len() as u64).to_le_bytes());
        for w in words {
            out.extend_from_slice(&w.to_le_bytes());
        }
        out
    }

    /// Reads what [`to_bytes`](Self::to_bytes) wrote; anything else is a clear error.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let bad = |m: &str| Error::Config(format!("not a shardguard index: {m}"));
        if bytes.len() < 16 || &bytes[..8] != MAGIC {
            return Err(bad("wrong magic bytes"));
        }
        let hlen = u64::from_le_bytes(bytes[8..16].try_into().expect("8")) as usize;
        let rest = &bytes[16..];
        if rest.len() < hlen {
            return Err(bad("truncated header"));
        }
        let header: IndexHeader =
            serde_json::from_slice(&rest[..hlen]).map_err(|e| bad(&format!("header: {e}")))?;
        if header.format != INDEX_FORMAT || header.bloom_impl != BLOOM_IMPL {
            return Err(bad(&format!(
                "format {} ({}), this version reads format {INDEX_FORMAT} ({BLOOM_IMPL})",
                header.format, header.bloom_impl
            )));
        }
        let kinds: Vec<&'static str> = header
            .kinds
            .iter()
            .map(|k| crate::rules::intern(k))
            .collect();
        let mut rest = &rest[hlen..];
        let n = header.values as usize;
        if rest.len() < n.saturating_mul(34) + 8 {
            return Err(bad("truncated values"));
        }
        let mut values = Vec::with_capacity(n);
        for c in rest[..n * 34].chunks_exact(34) {
            let kind = u16::from_le_bytes(c[32..34].try_into().expect("2")) as usize;
            values.push(IndexValue {
                hash: u128::from_le_bytes(c[..16].try_into().expect("16")),
                occurrences: u64::from_le_bytes(c[16..24].try_into().expect("8")),
                documents: u64::from_le_bytes(c[24..32].try_into().expect("8")),
                kind: kinds
                    .get(kind)
                    .copied()
                    .ok_or_else(|| bad("kind out of range"))?,
            });
        }
        rest = &rest[n * 34..];
        let nw = u64::from_le_bytes(rest[..8].try_into().expect("8")) as usize;
        rest = &rest[8..];
        if rest.len() != nw.saturating_mul(8) || (nw as u64) * 64 != header.bloom_bits {
            return Err(bad("filter length does not match its header"));
        }
        let words: Vec<u64> = rest
            .chunks_exact(8)
            .map(|c| u64::from_le_bytes(c.try_into().expect("8")))
            .collect();
        let bloom = BloomFilter::from_vec(words)
            .seed(&0)
            .hashes(header.bloom_hashes);
        if !values.windows(2).all(|w| w[0].hash < w[1].hash) {
            return Err(bad("values out of order"));
        }
        Ok(Self {
            header,
            values,
            bloom,
        })
    }
}

/// The bits the filter tests for `hash`: fastbloom 0.17's multiply-shift index of the hash,
/// then of each double hash (`h1 = rotl(h1, 5) + h2`, `h2 = h1 * 0x517c_c1b7_2722_0a95`). A
/// test checks this against the filter itself.
fn probe_bits(hash: u64, num_bits: usize, probes: u32) -> impl Iterator<Item = usize> {
    let at = move |h: u64| ((u128::from(h) * num_bits as u128) >> 64) as usize;
    let h2 = hash.wrapping_mul(0x517c_c1b7_2722_0a95);
    let mut h1 = hash;
    (0..probes).map(move |i| {
        if i > 0 {
            h1 = h1.rotate_left(5).wrapping_add(h2);
        }
        at(h1)
    })
}

/// Asks the CPU to load the words holding the first `probes` bits `bloom` tests for `hash`.
#[inline]
fn prefetch_probes(bloom: &BloomFilter, hash: u64, probes: u32) {
    let words = bloom.as_slice();
    for bit in probe_bits(hash, bloom.num_bits(), probes) {
        if let Some(w) = words.get(bit / 64) {
            super::prefetch(w);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> Key {
        Key::from_hex("000102030405060708090a0b0c0d0e0f").unwrap()
    }

    fn row(hash: u128, n: u64) -> ValueRow {
        ValueRow {
            hash,
            kind: "EMAIL",
            preview: String::new(),
            occurrences: n,
            documents: n,
            clusters: None,
            first_record: 0,
        }
    }

    fn build(windows: &[u64], values: Vec<ValueRow>) -> TrainingIndex {
        let mut b = IndexBuilder::new(&key(), 50, 1e-6, 1000).unwrap();
        b.add_windows(windows);
        b.finish(values, 2, 10)
    }

    #[test]
    fn round_trips_and_merges() {
        let a = build(&[11, 12], vec![row(5, 1), row(7, 2)]);
        let b = build(&[13], vec![row(7, 3), row(9, 1)]);
        let mut m = TrainingIndex::from_bytes(&a.to_bytes()).unwrap();
        assert_eq!(m.header(), a.header());
        assert_eq!(m.values(), a.values());
        assert!(m.has_window(11) && !m.has_window(13));
        m.merge(&b).unwrap();
        assert!(m.has_window(13) && m.has_window(12));
        assert_eq!(m.value(7).unwrap().occurrences, 5);
        assert_eq!(m.values().len(), 3);
        assert_eq!(m.header().records, 4);
        assert!(m.value(6).is_none());
        m.check_key(&key()).unwrap();
        let other = Key::from_hex("ff0102030405060708090a0b0c0d0e0f").unwrap();
        assert!(m.check_key(&other).is_err());
        let small = IndexBuilder::new(&key(), 50, 1e-6, 10)
            .unwrap()
            .finish(vec![], 0, 0);
        assert!(m
            .merge(&small)
            .unwrap_err()
            .to_string()
            .contains("--capacity"));
    }

    #[test]
    fn prefetched_bits_are_the_bits_the_filter_sets() {
        let b = IndexBuilder::new(&key(), 50, 1e-4, 100).unwrap();
        let (bits, k) = (b.bloom.num_bits(), b.bloom.num_hashes());
        for h in [1u64, 0xdead_beef, u64::MAX / 3] {
            let mut one = BloomFilter::with_num_bits(bits).seed(&0).hashes(k);
            one.insert_hash(h);
            let mut set: Vec<usize> = one
                .iter()
                .enumerate()
                .flat_map(|(i, w)| {
                    (0..64)
                        .filter(move |b| w >> b & 1 == 1)
                        .map(move |b| i * 64 + b)
                })
                .collect();
            let mut ours: Vec<usize> = probe_bits(h, bits, k).collect();
            set.sort_unstable();
            ours.sort_unstable();
            ours.dedup();
            assert_eq!(ours, set);
        }
    }

    #[test]
    fn bad_bytes_are_refused() {
        let a = build(&[1], vec![row(5, 1)]).to_bytes();
        assert!(TrainingIndex::from_bytes(b"nope").is_err());
        assert!(TrainingIndex::from_bytes(&a[..a.len() - 3]).is_err());
        assert!(IndexBuilder::new(&key(), 50, 0.0, 10).is_err());
    }
}
