//! Per-record duplicate sketches: pure, one pass over the text, nothing shared between records.
//!
//! A [`Sketch`] holds what the corpus-level dedup index needs and nothing else:
//! - `exact`: xxh3-128 of the text normalized (Unicode NFC, lower case, whitespace runs folded);
//! - `minhash`: a one-permutation MinHash signature (one hash per shingle, `K` bins, empty bins
//!   filled from the next full one) for Jaccard similarity and LSH bands;
//! - `anchors`: the shingle hashes whose low bits are zero — a content-defined sample (the same
//!   shingle is sampled in every document that has it), which estimates containment, so a
//!   document truncated from or embedded in another is found even when their Jaccard is low —
//!   and the hashes of the document's lines, told apart by one bit ([`LINE`]): a copy keeps most
//!   of its lines, two pages of one template differ on every line;
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
    /// …or when this share of the smaller one's informative sampled shingles is in the larger.
    pub containment: f64,
    /// A match below 0.9 (by both measures) also needs this share of one document's differing
    /// informative shingles to be its own (in no other document but its exact copies): an
    /// edited copy differs by new text, while two instances of one template (the `beta` and
    /// the plain page of one command) differ by phrases that recur across the corpus. 0 turns
    /// the check off.
    pub novelty: f64,
    /// A match at 0.9 or above keeps at least this share of the smaller document's informative
    /// lines (16 bytes or more, in at most `boilerplate_docs` documents), when they are
    /// evidence (four or more, short enough that a light edit leaves most whole): a copy,
    /// truncated or embedded or lightly edited, keeps most lines, while two pages of one
    /// template (a command's `beta` page and its plain page) share their words but differ on
    /// nearly every line. 0 turns the check off.
    pub lines: f64,
    /// A sampled shingle found in more documents than this is boilerplate (licence text,
    /// templates, a page hosting many snippets): it neither proposes nor supports a match.
    pub boilerplate_docs: usize,
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
            jaccard: 0.7,
            containment: 0.5,
            novelty: 0.15,
            lines: 0.4,
            boilerplate_docs: 10,
            anchor_bits: 1,
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
        for (name, v) in [("novelty", self.novelty), ("lines", self.lines)] {
            if !(0.0..=1.0).contains(&v) {
                return Err(format!("{name} must be in [0, 1], got {v}"));
            }
        }
        if self.boilerplate_docs < 2 {
            return Err(format!(
                "boilerplate_docs must be at least 2, got {}",
                self.boilerplate_docs
            ));
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
    /// Sampled shingles and lines ([`LINE`] set); sorted, distinct.
    pub anchors: Vec<u64>,
    pub passages: Vec<Passage>,
}

const SHINGLE_SEED: u64 = 0x5348_4152_4447_5244; // "SHARDGRD"
const PASSAGE_SEED: u64 = 0x7061_7373_6167_6573; // "passages"
const LINE_SEED: u64 = 0x6c69_6e65_7368_6173; // "lineshas"

/// The bit that marks an anchor as the hash of a line. Sampled shingles never have it: it is
/// the lowest of the bits their sampling requires to be zero, and cleared when none is.
pub const LINE: u64 = 1 << 16;

/// Lines shorter than this (normalized) are not sampled: braces, markup, single words — in
/// every other document, they say nothing of derivation.
const MIN_LINE_BYTES: usize = 16;

/// Whether `anchor` is the hash of a line rather than a sampled shingle.
#[inline]
pub fn is_line(anchor: u64) -> bool {
    anchor & LINE != 0
}

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
    norm: Vec<u8>,
    breaks: Vec<Break>,
    line_ends: Vec<usize>,
    tokens: Vec<u64>,
    shingles: Vec<u64>,
    char_starts: Vec<usize>,
}

/// A blank line between two passages: where the text before it ends and the text after it
/// starts, in the original text and in the normalized one.
#[derive(Debug, Clone, Copy)]
struct Break {
    end: usize,
    start: usize,
    norm_end: usize,
}

/// Byte classes for the normalizing scan: ASCII whitespace, a byte of a word (ASCII letter or
/// digit, or any non-ASCII byte: letters of other scripts), other ASCII (punctuation).
const SPACE: u8 = 1;
const WORD: u8 = 2;
const HIGH: u8 = 4;
static CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut c = 0;
    while c < 256 {
        let b = c as u8;
        t[c] = if matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c) {
            SPACE
        } else if b.is_ascii_alphanumeric() {
            WORD
        } else if b >= 0x80 {
            WORD | HIGH
        } else {
            0
        };
        c += 1;
    }
    t
};

/// The non-ASCII char at byte `i` when it is whitespace, as its length in bytes.
fn unicode_space_at(text: &str, i: usize) -> Option<usize> {
    let c = text[i..].chars().next()?;
    c.is_whitespace().then(|| c.len_utf8())
}

/// The normalized form used for exact duplicates: NFC, lower case, whitespace runs as one space,
/// no leading or trailing whitespace. One pass: ASCII words are lower-cased byte by byte, a word
/// with other characters is composed (NFC) and lower-cased on its own — whitespace never
/// composes, so this equals normalizing the whole text. Blank lines (a whitespace run with two
/// or more newlines) are recorded in `breaks`, and where each line ends in the normalized text
/// in `line_ends`. With `tokens`, the hashes of the words of the normalized text (see
/// [`word_hashes`]) are appended while each piece is still in cache.
fn normalize(
    text: &str,
    out: &mut Vec<u8>,
    breaks: &mut Vec<Break>,
    line_ends: &mut Vec<usize>,
    mut tokens: Option<&mut Vec<u64>>,
) {
    use unicode_normalization::{is_nfc_quick, IsNormalized};
    out.clear();
    breaks.clear();
    line_ends.clear();
    if let Some(t) = tokens.as_deref_mut() {
        t.clear();
    }
    let b = text.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let space_start = i;
        let mut newlines = 0;
        while i < b.len() {
            let c = b[i];
            if CLASS[c as usize] & SPACE != 0 {
                newlines += usize::from(c == b'\n');
                i += 1;
            } else if let Some(n) = (c >= 0x80).then(|| unicode_space_at(text, i)).flatten() {
                i += n;
            } else {
                break;
            }
        }
        if i == b.len() {
            break;
        }
        if !out.is_empty() {
            if newlines >= 1 {
                line_ends.push(out.len());
            }
            if newlines >= 2 {
                breaks.push(Break {
                    end: space_start,
                    start: i,
                    norm_end: out.len(),
                });
            }
            out.push(b' ');
        }
        let word = i;
        let mut ascii = true;
        while i < b.len() {
            let class = CLASS[b[i] as usize];
            if class & (SPACE | HIGH) == 0 {
                i += 1;
                continue;
            }
            if class & SPACE != 0 {
                break;
            }
            let c = text[i..].chars().next().expect("at a char boundary");
            if c.is_whitespace() {
                break;
            }
            ascii = false;
            i += c.len_utf8();
        }
        let w = &text[word..i];
        let piece = out.len();
        if ascii {
            out.extend(w.bytes().map(|c| c.to_ascii_lowercase()));
        } else {
            let mut buf = [0u8; 4];
            let mut push = |c: char| {
                for l in c.to_lowercase() {
                    out.extend_from_slice(l.encode_utf8(&mut buf).as_bytes());
                }
            };
            if is_nfc_quick(w.chars()) == IsNormalized::Yes {
                w.chars().for_each(&mut push);
            } else {
                w.nfc().for_each(&mut push);
            }
        }
        if let Some(t) = tokens.as_deref_mut() {
            // Words never span whitespace, so the piece's words are words of the whole text.
            word_hashes(out, piece, t);
        }
    }
}

/// Sketches one text; `None` when it is empty or only whitespace (nothing to duplicate).
pub fn sketch(text: &str, cfg: &DedupConfig, scratch: &mut Scratch) -> Option<Sketch> {
    let words = match cfg.shingle {
        Shingle::Words(_) => Some(&mut scratch.tokens),
        Shingle::Chars(_) => None,
    };
    normalize(
        text,
        &mut scratch.norm,
        &mut scratch.breaks,
        &mut scratch.line_ends,
        words,
    );
    if scratch.norm.is_empty() {
        return None;
    }
    let norm = &scratch.norm;
    let exact = xxh3_128(norm);
    scratch.shingles.clear();
    match cfg.shingle {
        Shingle::Words(n) => {
            // Word hashes are already mixed: a shingle combines them in order and mixes once.
            let t = &scratch.tokens;
            if !t.is_empty() {
                let windows = t.len().saturating_sub(n) + 1;
                scratch.shingles.extend((0..windows).map(|w| {
                    mix(t[w..(w + n).min(t.len())]
                        .iter()
                        .fold(SHINGLE_SEED, |acc, &x| acc.rotate_left(23) ^ x))
                }));
            }
        }
        Shingle::Chars(n) => {
            let starts = &mut scratch.char_starts;
            starts.clear();
            starts.extend((0..norm.len()).filter(|&i| (norm[i] as i8) >= -0x40));
            let windows = starts.len().saturating_sub(n) + usize::from(!starts.is_empty());
            scratch.shingles.extend((0..windows).map(|w| {
                let end = starts.get(w + n).copied().unwrap_or(norm.len());
                word_hash(norm, starts[w], end)
            }));
        }
    }
    Some(Sketch {
        exact,
        minhash: one_permutation(&scratch.shingles, cfg.permutations),
        anchors: anchors(
            &scratch.shingles,
            norm,
            &scratch.line_ends,
            cfg.anchor_bits,
            cfg.max_anchors,
        ),
        passages: passages(text, norm, &scratch.breaks, cfg.min_passage_bytes),
    })
}

/// A 64-bit hash of `b[s..e]`, eight bytes at a time (a short tail is read as one word of
/// `b` when `b` extends past it, then masked).
#[inline]
fn word_hash(b: &[u8], s: usize, e: usize) -> u64 {
    let load = |i: usize| u64::from_le_bytes(b[i..i + 8].try_into().expect("eight bytes"));
    let mut h = SHINGLE_SEED ^ ((e - s) as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    let mut i = s;
    while i + 8 <= e {
        h = mix(h ^ load(i));
        i += 8;
    }
    if i < e {
        let rest = e - i;
        let tail = if i + 8 <= b.len() {
            load(i) & (u64::MAX >> (8 * (8 - rest)))
        } else {
            let mut buf = [0u8; 8];
            buf[..rest].copy_from_slice(&b[i..e]);
            u64::from_le_bytes(buf)
        };
        h = mix(h ^ tail);
    }
    h
}

/// Appends the hashes of the words of `b[from..]`, a normalized text: runs of ASCII letters and
/// digits, or of non-ASCII bytes (letters of other scripts).
fn word_hashes(b: &[u8], from: usize, out: &mut Vec<u64>) {
    let mut i = from;
    while i < b.len() {
        if CLASS[b[i] as usize] & WORD == 0 {
            i += 1;
            continue;
        }
        let s = i;
        while i < b.len() && CLASS[b[i] as usize] & WORD != 0 {
            i += 1;
        }
        out.push(word_hash(b, s, i));
    }
}

/// One-permutation MinHash with densification: each shingle hash (already mixed) lands in one
/// of `k` bins by its high bits and keeps the minimum of its low 32 bits; an empty bin borrows
/// (re-hashed) from the next full bin to its right, so two documents fill the same empty bins
/// the same way.
fn one_permutation(shingles: &[u64], k: usize) -> Vec<u32> {
    let mut sig = vec![u32::MAX; k];
    let mut full = vec![false; k];
    for &h in shingles {
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

/// The shingles whose hash has `bits` zero bits at a position the signature does not use to
/// pick a bin (a content-defined sample, the same in every document), and the hashes of the
/// lines of `norm` (ending at `line_ends` and at its end, [`MIN_LINE_BYTES`] or longer) with
/// [`LINE`] set; at most `max` of each, the smallest.
fn anchors(shingles: &[u64], norm: &[u8], line_ends: &[usize], bits: u32, max: usize) -> Vec<u64> {
    let mask = ((1u64 << bits) - 1) << 16;
    let mut a: Vec<u64> = shingles
        .iter()
        .filter(|&&h| h & mask == 0)
        .map(|&h| h & !LINE)
        .collect();
    a.sort_unstable();
    a.dedup();
    a.truncate(max);
    let mut start = 0;
    let mut lines: Vec<u64> = line_ends
        .iter()
        .chain(std::iter::once(&norm.len()))
        .filter_map(|&end| {
            let line = &norm[start..end];
            start = end + 1;
            (line.len() >= MIN_LINE_BYTES).then(|| xxh3_64_with_seed(line, LINE_SEED) | LINE)
        })
        .collect();
    lines.sort_unstable();
    lines.dedup();
    lines.truncate(max);
    merge_sorted(&a, &lines)
}

/// The values of two sorted lists with no value in common, sorted.
fn merge_sorted(a: &[u64], b: &[u64]) -> Vec<u64> {
    let mut out = Vec::with_capacity(a.len() + b.len());
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        if a[i] < b[j] {
            out.push(a[i]);
            i += 1;
        } else {
            out.push(b[j]);
            j += 1;
        }
    }
    out.extend_from_slice(&a[i..]);
    out.extend_from_slice(&b[j..]);
    out
}

/// Passages separated by blank lines, hashed over their normalized text; short ones skipped.
fn passages(text: &str, norm: &[u8], breaks: &[Break], min_bytes: usize) -> Vec<Passage> {
    let b = text.as_bytes();
    let first = b.len() - text.trim_start().len();
    let last = text.trim_end().len();
    let mut chars = crate::text::CharOffsets::new(text);
    let mut out = Vec::new();
    let (mut start, mut norm_start) = (first, 0);
    let ends = breaks
        .iter()
        .map(|k| (k.end, k.norm_end, k.start, k.norm_end + 1))
        .chain(std::iter::once((last, norm.len(), last, norm.len())));
    for (end, norm_end, next, next_norm) in ends {
        if end - start >= min_bytes {
            out.push(Passage {
                hash: xxh3_64_with_seed(&norm[norm_start..norm_end], PASSAGE_SEED),
                start: start as u32,
                end: end as u32,
                start_char: chars.at(start) as u32,
                end_char: chars.at(end) as u32,
            });
        }
        (start, norm_start) = (next, next_norm);
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
    fn lines_are_anchors_of_their_own_kind() {
        let lines_of =
            |t: &str| -> Vec<u64> { sk(t).anchors.into_iter().filter(|&a| is_line(a)).collect() };
        let t =
            "The first line of the text\n}\nand  the SECOND line, longer\n\nthe third line is here";
        let s = sk(t);
        // Three lines long enough to count; the brace is not.
        assert_eq!(lines_of(t).len(), 3);
        assert!(
            s.anchors.windows(2).all(|w| w[0] < w[1]),
            "sorted, distinct"
        );
        // Case and spaces within a line do not change it; moving a line break changes the
        // lines on both sides of it, while the shingles stay the same.
        assert_eq!(
            lines_of("the first LINE of the text\n}\nand the second line,   longer\nthe third line is here"),
            lines_of(t)
        );
        let moved =
            "The first line of the text }\nand the SECOND line, longer\n\nthe third line is here";
        assert_eq!(lines_of(moved).len(), 3);
        assert_eq!(shared(&lines_of(moved), &lines_of(t)), 2);
        let shingles =
            |t: &str| -> Vec<u64> { sk(t).anchors.into_iter().filter(|&a| !is_line(a)).collect() };
        assert_eq!(shingles(moved), shingles(t));
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
