//! Per-record duplicate sketches: pure, one pass over the text, nothing shared between records.
//!
//! A [`Sketch`] holds what the corpus-level dedup index needs and nothing else:
//! - `exact`: xxh3-128 of the text normalized (Unicode NFC, lower case, whitespace runs folded);
//! - `minhash`: a one-permutation MinHash signature (one hash per shingle, `K` bins, empty bins
//!   filled from the next full one) for Jaccard similarity and LSH bands;
//! - `anchors`: the shingle hashes whose low bits are zero — a content-defined sample (the same
//!   shingle is sampled in every document that has it), which estimates containment, so a
//!   document truncated from or embedded in another is found even when their Jaccard is low;
//! - `paragraphs`: hashes and byte spans of blank-line-separated passages, for repeated passages.
//!
//! Every hash is xxh3 with fixed seeds: sketches built on different machines compare.

use unicode_normalization::UnicodeNormalization;

pub const EXACT_DUPLICATE: &str = "EXACT_DUPLICATE";
pub const NEAR_DUPLICATE: &str = "NEAR_DUPLICATE";
pub const REPEATED_PASSAGE: &str = "REPEATED_PASSAGE";
use xxhash_rust::xxh3::{xxh3_128, xxh3_64_with_seed};

/// What a shingle is made of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase", tag = "unit", content = "n")]
pub enum Shingle {
    /// `n` consecutive words (runs of letters and digits, compared in lower case).
    Words(usize),
    /// `n` consecutive characters of the normalized text.
    Chars(usize),
}

/// How documents are sketched and when two count as duplicates.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DedupConfig {
    pub shingle: Shingle,
    /// MinHash signature length (bins of the one-permutation hash).
    pub permutations: usize,
    /// LSH bands; `permutations / bands` rows each.
    pub bands: usize,
    /// Two documents are near-duplicates at this estimated Jaccard similarity or above…
    pub jaccard: f64,
    /// …or when this share of the smaller one's sampled shingles is in the larger one.
    pub containment: f64,
    /// One shingle in `2^anchor_bits` is sampled for containment.
    pub anchor_bits: u32,
    /// At most this many sampled shingles per document (the smallest hashes are kept).
    pub max_anchors: usize,
    /// A passage shorter than this many bytes is never reported as repeated.
    pub min_passage_bytes: usize,
}

impl Default for DedupConfig {
    fn default() -> Self {
        Self {
            shingle: Shingle::Words(2),
            permutations: 128,
            bands: 32,
            jaccard: 0.6,
            containment: 0.9,
            anchor_bits: 2,
            max_anchors: 4096,
            min_passage_bytes: 80,
        }
    }
}

impl DedupConfig {
    pub fn validate(&self) -> Result<(), String> {
        let n = match self.shingle {
            Shingle::Words(n) | Shingle::Chars(n) => n,
        };
        if n == 0 || n > 64 {
            return Err(format!("shingle size must be 1..=64, got {n}"));
        }
        if self.permutations == 0
            || self.bands == 0
            || self.permutations % self.bands != 0
            || self.permutations > 4096
        {
            return Err(format!(
                "permutations ({}) must be a multiple of bands ({}) and at most 4096",
                self.permutations, self.bands
            ));
        }
        for (name, v) in [("jaccard", self.jaccard), ("containment", self.containment)] {
            if !(0.0..=1.0).contains(&v) || v == 0.0 {
                return Err(format!("{name} threshold must be in (0, 1], got {v}"));
            }
        }
        if self.anchor_bits > 16 {
            return Err(format!(
                "anchor_bits must be at most 16, got {}",
                self.anchor_bits
            ));
        }
        Ok(())
    }
}

/// A passage of one record: hash of its normalized text and its byte span.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Passage {
    pub hash: u64,
    /// Byte span.
    pub start: u32,
    pub end: u32,
    /// The same span in chars.
    pub start_char: u32,
    pub end_char: u32,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sketch {
    pub exact: u128,
    pub minhash: Vec<u32>,
    /// Sorted, distinct.
    pub anchors: Vec<u64>,
    pub passages: Vec<Passage>,
}

const SHINGLE_SEED: u64 = 0x5348_4152_4447_5244; // "SHARDGRD"
const PASSAGE_SEED: u64 = 0x7061_7373_6167_6573; // "passages"

/// Finalizer of MurmurHash3: spreads a 64-bit value over all bits.
#[inline]
pub fn mix(mut h: u64) -> u64 {
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^ (h >> 33)
}

/// Reusable buffers so sketching allocates nothing per record beyond the sketch itself.
#[derive(Default)]
pub struct Scratch {
    norm: String,
    tokens: Vec<u64>,
    shingles: Vec<u64>,
    char_starts: Vec<usize>,
}

/// The normalized form used for exact duplicates: NFC, lower case, whitespace runs as one space,
/// no leading or trailing whitespace.
pub fn normalize_into(text: &str, out: &mut String) {
    out.clear();
    let mut space = false;
    let mut push = |c: char, out: &mut String| {
        if c.is_whitespace() {
            space = !out.is_empty();
        } else {
            if space {
                out.push(' ');
                space = false;
            }
            if c.is_ascii() {
                out.push(c.to_ascii_lowercase());
            } else {
                out.extend(c.to_lowercase());
            }
        }
    };
    if text.is_ascii() {
        text.chars().for_each(|c| push(c, out));
    } else {
        text.nfc().for_each(|c| push(c, out));
    }
}

/// Sketches one text; `None` when it is empty or only whitespace (nothing to duplicate).
pub fn sketch(text: &str, cfg: &DedupConfig, scratch: &mut Scratch) -> Option<Sketch> {
    normalize_into(text, &mut scratch.norm);
    if scratch.norm.is_empty() {
        return None;
    }
    let exact = xxh3_128(scratch.norm.as_bytes());
    scratch.shingles.clear();
    match cfg.shingle {
        Shingle::Words(n) => {
            word_hashes(scratch.norm.as_bytes(), &mut scratch.tokens);
            let t = &scratch.tokens;
            if !t.is_empty() {
                let windows = t.len().saturating_sub(n) + 1;
                for w in 0..windows {
                    let h = t[w..(w + n).min(t.len())]
                        .iter()
                        .fold(SHINGLE_SEED, |acc, &x| mix(acc ^ x));
                    scratch.shingles.push(h);
                }
            }
        }
        Shingle::Chars(n) => {
            let b = scratch.norm.as_bytes();
            let starts = &mut scratch.char_starts;
            starts.clear();
            starts.extend((0..b.len()).filter(|&i| (b[i] as i8) >= -0x40));
            let windows = starts.len().saturating_sub(n) + usize::from(!starts.is_empty());
            for w in 0..windows {
                let end = starts.get(w + n).copied().unwrap_or(b.len());
                scratch
                    .shingles
                    .push(xxh3_64_with_seed(&b[starts[w]..end], SHINGLE_SEED));
            }
        }
    }
    Some(Sketch {
        exact,
        minhash: one_permutation(&scratch.shingles, cfg.permutations),
        anchors: anchors(&scratch.shingles, cfg.anchor_bits, cfg.max_anchors),
        passages: passages(text, cfg.min_passage_bytes, &mut scratch.norm),
    })
}

/// Hashes of the words of an already lower-cased text: runs of ASCII letters and digits, or of
/// non-ASCII bytes (letters of other scripts).
fn word_hashes(b: &[u8], out: &mut Vec<u64>) {
    out.clear();
    let word = |c: u8| c.is_ascii_alphanumeric() || c >= 0x80;
    let mut i = 0;
    while i < b.len() {
        if !word(b[i]) {
            i += 1;
            continue;
        }
        let s = i;
        while i < b.len() && word(b[i]) {
            i += 1;
        }
        out.push(xxh3_64_with_seed(&b[s..i], SHINGLE_SEED));
    }
}

/// One-permutation MinHash with densification: each shingle lands in one of `k` bins by its high
/// bits and keeps the minimum of its low 32 bits; an empty bin borrows (re-hashed) from the next
/// full bin to its right, so two documents fill the same empty bins the same way.
fn one_permutation(shingles: &[u64], k: usize) -> Vec<u32> {
    let mut sig = vec![u32::MAX; k];
    let mut full = vec![false; k];
    for &s in shingles {
        let h = mix(s);
        let bin = (((h >> 32) * k as u64) >> 32) as usize;
        let v = h as u32;
        if v <= sig[bin] {
            sig[bin] = v;
            full[bin] = true;
        }
    }
    if shingles.is_empty() || full.iter().all(|&f| f) {
        return sig;
    }
    let filled = sig.clone();
    for i in 0..k {
        if full[i] {
            continue;
        }
        let mut j = (i + 1) % k;
        let mut steps = 1u64;
        while !full[j] {
            j = (j + 1) % k;
            steps += 1;
        }
        sig[i] = mix(u64::from(filled[j]) ^ (steps << 32)) as u32;
    }
    sig
}

fn anchors(shingles: &[u64], bits: u32, max: usize) -> Vec<u64> {
    let mask = (1u64 << bits) - 1;
    let mut a: Vec<u64> = shingles
        .iter()
        .map(|&s| mix(s ^ 0xa5a5_a5a5_a5a5_a5a5))
        .filter(|h| h & mask == 0)
        .collect();
    a.sort_unstable();
    a.dedup();
    a.truncate(max);
    a
}

/// Passages separated by blank lines, hashed over their normalized text; short ones skipped.
fn passages(text: &str, min_bytes: usize, buf: &mut String) -> Vec<Passage> {
    let mut out = Vec::new();
    let b = text.as_bytes();
    let mut start = 0;
    let mut chars = crate::text::CharOffsets::new(text);
    let mut push = |s: usize, e: usize, buf: &mut String| {
        let p = &text[s..e];
        let trimmed_start = s + (p.len() - p.trim_start().len());
        let trimmed_end = s + p.trim_end().len();
        if trimmed_end > trimmed_start && trimmed_end - trimmed_start >= min_bytes {
            normalize_into(&text[trimmed_start..trimmed_end], buf);
            out.push(Passage {
                hash: xxh3_64_with_seed(buf.as_bytes(), PASSAGE_SEED),
                start: trimmed_start as u32,
                end: trimmed_end as u32,
                start_char: chars.at(trimmed_start) as u32,
                end_char: chars.at(trimmed_end) as u32,
            });
        }
    };
    let mut i = 0;
    while let Some(p) = memchr::memchr(b'\n', &b[i..]) {
        let nl = i + p;
        // A blank line: only spaces or tabs up to the next newline.
        let mut j = nl + 1;
        while j < b.len() && matches!(b[j], b' ' | b'\t' | b'\r') {
            j += 1;
        }
        if j < b.len() && b[j] == b'\n' {
            push(start, nl, buf);
            while j < b.len() && matches!(b[j], b' ' | b'\t' | b'\r' | b'\n') {
                j += 1;
            }
            start = j;
        }
        i = j.max(nl + 1);
        if i >= b.len() {
            break;
        }
    }
    if start < b.len() {
        push(start, b.len(), buf);
    }
    out
}

/// Estimated Jaccard similarity: the share of signature positions that agree.
pub fn jaccard(a: &[u32], b: &[u32]) -> f64 {
    if a.is_empty() || a.len() != b.len() {
        return 0.0;
    }
    let same = a.iter().zip(b).filter(|(x, y)| x == y).count();
    same as f64 / a.len() as f64
}

/// Number of values two sorted, distinct lists share.
pub fn shared(a: &[u64], b: &[u64]) -> usize {
    let (mut i, mut j, mut n) = (0, 0, 0);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                n += 1;
                i += 1;
                j += 1;
            }
        }
    }
    n
}

/// `n` pseudo-random words `w0`…`w{vocab-1}` drawn from `seed` (test corpora).
#[cfg(test)]
pub(crate) fn random_words(n: usize, seed: u64, vocab: u64) -> Vec<String> {
    let mut s = seed;
    (0..n)
        .map(|_| {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            format!("w{}", (s >> 40) % vocab)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sk(t: &str) -> Sketch {
        sketch(t, &DedupConfig::default(), &mut Scratch::default()).unwrap()
    }

    fn words(n: usize, seed: u64) -> String {
        random_words(n, seed, 5000).join(" ")
    }

    #[test]
    fn exact_hash_ignores_case_whitespace_and_composition() {
        let a = sk("Caf\u{e9}  au\tLAIT\n");
        let b = sk("  cafe\u{301} au lait");
        assert_eq!(a.exact, b.exact);
        assert_ne!(a.exact, sk("cafe au lait").exact);
    }

    #[test]
    fn jaccard_estimate_tracks_overlap() {
        let base = words(2000, 1);
        let same = sk(&base);
        assert_eq!(jaccard(&same.minhash, &sk(&base).minhash), 1.0);
        let other = sk(&words(2000, 2));
        assert!(jaccard(&same.minhash, &other.minhash) < 0.1);
        // Half the words replaced: bigram Jaccard is far below 0.5.
        let half: String = base
            .split(' ')
            .enumerate()
            .map(|(i, w)| {
                if i % 2 == 0 {
                    w.to_string()
                } else {
                    format!("x{i}")
                }
            })
            .collect::<Vec<_>>()
            .join(" ");
        assert!(jaccard(&same.minhash, &sk(&half).minhash) < 0.2);
    }

    #[test]
    fn anchors_measure_containment() {
        let part = words(1500, 3);
        let whole = format!("{} {} {}", words(3000, 4), part, words(3000, 5));
        let (p, w) = (sk(&part), sk(&whole));
        let c = shared(&p.anchors, &w.anchors) as f64 / p.anchors.len() as f64;
        assert!(c > 0.95, "containment {c}");
        assert!(jaccard(&p.minhash, &w.minhash) < 0.35);
    }

    #[test]
    fn passages_are_spans_of_blank_line_separated_text() {
        let long = "x".repeat(100);
        let t = format!("short\n\n  {long}  \n \n\n{long} y\n");
        let p = sk(&t).passages;
        assert_eq!(p.len(), 2);
        assert_eq!(&t[p[0].start as usize..p[0].end as usize], long);
        assert_eq!(
            &t[p[1].start as usize..p[1].end as usize],
            format!("{long} y")
        );
    }

    #[test]
    fn empty_texts_have_no_sketch_and_tiny_ones_do() {
        let cfg = DedupConfig::default();
        assert!(sketch(" \n\t", &cfg, &mut Scratch::default()).is_none());
        assert_eq!(sk("one").minhash.len(), 128);
        assert_eq!(sk("one").minhash, sk("ONE").minhash);
    }

    #[test]
    fn config_is_checked() {
        let bad = DedupConfig {
            bands: 30,
            ..DedupConfig::default()
        };
        assert!(bad.validate().is_err());
        assert!(DedupConfig::default().validate().is_ok());
    }
}
