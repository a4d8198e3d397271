//! Per-document statistics for outlier scoring, one pass over the bytes (plus one fast
//! compression for the compression ratio). The corpus scores them in `corpus::outlier`.

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
pub struct Scratch {
    lines: Vec<u64>,
    bigrams: Vec<u64>,
    compressor: Option<zstd::bulk::Compressor<'static>>,
    out: Vec<u8>,
}

impl Default for Scratch {
    fn default() -> Self {
        Self {
            lines: Vec::new(),
            bigrams: Vec::new(),
            compressor: zstd::bulk::Compressor::new(1).ok(),
            out: Vec::new(),
        }
    }
}

/// Compressed bytes are measured on at most this much of a document.
const COMPRESS_PREFIX: usize = 64 << 10;

pub fn features(text: &str, s: &mut Scratch) -> Features {
    let b = text.as_bytes();
    let n = b.len().max(1) as f32;
    let mut hist = [0u32; 256];
    for &c in b {
        hist[c as usize] += 1;
    }
    let count = |f: fn(u8) -> bool| -> u32 {
        (0..=255u8)
            .filter(|&c| f(c))
            .map(|c| hist[c as usize])
            .sum()
    };
    let upper = count(|c| c.is_ascii_uppercase());
    let lower = count(|c| c.is_ascii_lowercase());
    let digits = count(|c| c.is_ascii_digit());
    let punct = count(|c| c.is_ascii_punctuation());
    let non_ascii = count(|c| c >= 0x80);
    let space = count(|c| c.is_ascii_whitespace());
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
    for line in text.lines() {
        let l = line.trim();
        if !l.is_empty() {
            s.lines.push(xxhash_rust::xxh3::xxh3_64(l.as_bytes()));
        }
    }
    let nlines = s.lines.len();
    s.lines.sort_unstable();
    let distinct = {
        let mut d = s.lines.clone();
        d.dedup();
        d.len()
    };
    let dup_lines = if nlines == 0 {
        0.0
    } else {
        (nlines - distinct) as f32 / nlines as f32
    };

    // Words: mean length and the share of word characters in the most frequent bigram.
    s.bigrams.clear();
    let mut words = 0u32;
    let mut word_bytes = 0u32;
    let mut prev: Option<(u64, u32)> = None;
    let mut lens: Vec<(u64, u32)> = Vec::new();
    for w in text.split_ascii_whitespace() {
        words += 1;
        word_bytes += w.len() as u32;
        let h = xxhash_rust::xxh3::xxh3_64(w.as_bytes());
        if let Some((p, pl)) = prev {
            let g = p.rotate_left(21) ^ h;
            s.bigrams.push(g);
            lens.push((g, pl + w.len() as u32));
        }
        prev = Some((h, w.len() as u32));
    }
    let top_bigram = if s.bigrams.len() < 2 || word_bytes == 0 {
        0.0
    } else {
        s.bigrams.sort_unstable();
        let (mut best, mut run, mut best_h) = (0u32, 0u32, 0u64);
        for i in 0..s.bigrams.len() {
            run = if i > 0 && s.bigrams[i] == s.bigrams[i - 1] {
                run + 1
            } else {
                1
            };
            if run > best {
                best = run;
                best_h = s.bigrams[i];
            }
        }
        if best < 2 {
            0.0
        } else {
            let len = lens.iter().find(|(g, _)| *g == best_h).map_or(0, |x| x.1);
            (best * len) as f32 / word_bytes as f32
        }
    };
    let compression = match &mut s.compressor {
        Some(c) if !b.is_empty() => {
            let src = &b[..b.len().min(COMPRESS_PREFIX)];
            s.out.clear();
            s.out.reserve(zstd::zstd_safe::compress_bound(src.len()));
            match c.compress_to_buffer(src, &mut s.out) {
                Ok(k) => k as f32 / src.len() as f32,
                Err(_) => 1.0,
            }
        }
        _ => 1.0,
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
