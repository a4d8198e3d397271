//! Per-document statistics for outlier scoring: one pass over the bytes, one over the tokens, and
//! one fast (LZ4) compression for the compression ratio. The corpus scores them in `corpus::outlier`.

use super::poison::Token;

pub const OUTLIER: &str = "OUTLIER";

/// Names of the features, in the order of [`features`].
pub const FEATURES: [&str; 10] = [
    "log_length",
    "mean_word_length",
    "symbol_ratio",
    "digit_ratio",
    "upper_ratio",
    "non_ascii_ratio",
    "char_entropy",
    "duplicate_line_fraction",
    "top_bigram_fraction",
    "compression_ratio",
];

pub type Features = [f32; FEATURES.len()];

/// Reused buffers.
#[derive(Default)]
pub struct Scratch {
    lines: Vec<u64>,
    bigrams: Vec<(u64, u32)>,
    out: Vec<u8>,
    table: Counter,
    /// LZ4's match table, cleared per document instead of allocated anew.
    lz4: Option<lz4_flex::block::CompressTable>,
}

/// Open-addressing counts of hashes, reused across documents.
#[derive(Default)]
struct Counter {
    /// `(hash + 1, count, payload)`; 0 marks an empty slot.
    slots: Vec<(u64, u32, u32)>,
}

impl Counter {
    /// Distinct keys, and the largest count with the payload of its key.
    fn count(&mut self, keys: impl ExactSizeIterator<Item = (u64, u32)>) -> (usize, (u32, u32)) {
        let size = (keys.len() * 2).next_power_of_two().max(16);
        self.slots.clear();
        self.slots.resize(size, (0, 0, 0));
        let mask = size - 1;
        let (mut distinct, mut best) = (0, (0u32, 0u32));
        for (h, payload) in keys {
            let k = h | 1;
            let mut i = (h >> 7) as usize & mask;
            loop {
                let slot = &mut self.slots[i];
                if slot.0 == 0 {
                    *slot = (k, 1, payload);
                    distinct += 1;
                    if best.0 == 0 {
                        best = (1, payload);
                    }
                    break;
                }
                if slot.0 == k {
                    slot.1 += 1;
                    if slot.1 > best.0 {
                        best = (slot.1, slot.2);
                    }
                    break;
                }
                i = (i + 1) & mask;
            }
        }
        (distinct, best)
    }
}

/// The compression ratio is measured on at most this much of a document (its start).
const COMPRESS_PREFIX: usize = 4 << 10;

/// How often each byte value occurs in `b`. Four tables filled in turn, then summed: a run of
/// one byte (spaces, indentation) would otherwise make every increment wait for the last.
fn byte_histogram(b: &[u8]) -> [u32; 256] {
    let mut h = [[0u32; 256]; 4];
    let mut quads = b.chunks_exact(4);
    for q in quads.by_ref() {
        h[0][q[0] as usize] += 1;
        h[1][q[1] as usize] += 1;
        h[2][q[2] as usize] += 1;
        h[3][q[3] as usize] += 1;
    }
    for &c in quads.remainder() {
        h[0][c as usize] += 1;
    }
    std::array::from_fn(|i| h[0][i] + h[1][i] + h[2][i] + h[3][i])
}

/// The statistics of `text`, tokenized as `tokens` (see [`crate::detect::poison::tokenize`]).
pub fn features(text: &str, tokens: &[Token], s: &mut Scratch) -> Features {
    let b = text.as_bytes();
    let n = b.len().max(1) as f32;
    let hist = byte_histogram(b);
    let count = |r: std::ops::RangeInclusive<u8>| -> u32 { r.map(|c| hist[c as usize]).sum() };
    let upper = count(b'A'..=b'Z');
    let lower = count(b'a'..=b'z');
    let digits = count(b'0'..=b'9');
    let punct = count(b'!'..=b'/') + count(b':'..=b'@') + count(b'['..=b'`') + count(b'{'..=b'~');
    let non_ascii = count(0x80..=0xff);
    let space = hist[b' ' as usize] + count(b'\t'..=b'\r');
    let entropy: f32 = hist
        .iter()
        .filter(|&&k| k > 0)
        .map(|&k| {
            let p = k as f32 / n;
            -p * p.log2()
        })
        .sum();

    // Lines: share of non-empty lines repeating an earlier one.
    s.lines.clear();
    let mut start = 0;
    for end in memchr::memchr_iter(b'\n', b).chain(std::iter::once(b.len())) {
        let l = b[start..end].trim_ascii();
        if !l.is_empty() {
            s.lines.push(xxhash_rust::xxh3::xxh3_64(l));
        }
        start = end + 1;
    }
    let nlines = s.lines.len();
    let (distinct, _) = s.table.count(s.lines.iter().map(|&h| (h, 0)));
    let dup_lines = if nlines == 0 {
        0.0
    } else {
        (nlines - distinct) as f32 / nlines as f32
    };

    // Words: mean length, and the share of word bytes in the most frequent word bigram.
    s.bigrams.clear();
    let mut words = 0u32;
    let mut word_bytes = 0u32;
    let mut prev: Option<&Token> = None;
    for t in tokens.iter().filter(|t| t.word) {
        words += 1;
        word_bytes += t.end - t.start;
        if let Some(p) = prev {
            s.bigrams.push((
                p.hash.rotate_left(21) ^ t.hash,
                p.end - p.start + t.end - t.start,
            ));
        }
        prev = Some(t);
    }
    let top_bigram = if s.bigrams.len() < 2 || word_bytes == 0 {
        0.0
    } else {
        let (_, (best, best_len)) = s.table.count(s.bigrams.iter().copied());
        if best < 2 {
            0.0
        } else {
            (best * best_len) as f32 / word_bytes as f32
        }
    };
    let compression = if b.is_empty() {
        1.0
    } else {
        let src = &b[..b.len().min(COMPRESS_PREFIX)];
        s.out
            .resize(lz4_flex::block::get_maximum_output_size(src.len()), 0);
        let table = s
            .lz4
            .get_or_insert_with(lz4_flex::block::CompressTable::small);
        match lz4_flex::block::compress_into_with_table(src, &mut s.out, table) {
            Ok(k) => k as f32 / src.len() as f32,
            Err(_) => 1.0,
        }
    };
    let letters = (upper + lower).max(1) as f32;
    let visible = (b.len() as u32 - space).max(1) as f32;
    [
        (b.len() as f32 + 1.0).log2(),
        if words == 0 {
            0.0
        } else {
            word_bytes as f32 / words as f32
        },
        punct as f32 / visible,
        digits as f32 / visible,
        upper as f32 / letters,
        non_ascii as f32 / n,
        entropy,
        dup_lines,
        top_bigram,
        compression,
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn features_measure_what_they_name() {
        let mut s = Scratch::default();
        let features = |t: &str, s: &mut Scratch| {
            let mut toks = vec![];
            crate::detect::poison::tokenize(t, &mut toks);
            super::features(t, &toks, s)
        };
        let prose = "The cat sat on the mat. The dog ran in the park.\nA line.\nA line.\n";
        let f = features(prose, &mut s);
        assert!((f[7] - 1.0 / 3.0).abs() < 1e-6, "{f:?}");
        assert!(f[1] > 2.5 && f[1] < 5.0);
        assert_eq!(f[3], 0.0);
        let digits = features("1234 5678 9012 3456", &mut s);
        assert!(digits[3] > 0.99);
        let rep = features(&"spam spam ".repeat(200), &mut s);
        assert!(rep[9] < 0.1, "repetitive text compresses: {rep:?}");
        assert!(rep[8] > 0.9);
        let empty = features("", &mut s);
        assert!(empty.iter().all(|x| x.is_finite()));
    }
}
