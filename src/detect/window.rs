//! Token windows: the unit of verbatim memorization. A text is read as words (runs of ASCII
//! letters and digits, or of non-ASCII bytes), ASCII case folded, punctuation and whitespace
//! ignored; every run of `w` consecutive words gets a keyed 64-bit hash. Equal windows hash
//! equally whatever the spacing, case or punctuation around them, in any shard, on any machine
//! holding the same key. Pure: no IO.

use crate::detect::dedup::mix;

/// Words per window: the extraction length of Carlini et al. (a 50-token context).
pub const DEFAULT_WINDOW_TOKENS: usize = 50;

/// One word of a text: its byte span and hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Token {
    pub start: usize,
    pub end: usize,
    pub hash: u64,
}

/// The words of `text` into `out` (cleared first). `seed` keys the hashes.
pub fn tokenize(text: &str, seed: u64, out: &mut Vec<Token>) {
    out.clear();
    let b = text.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if !is_word(b[i]) {
            i += 1;
            continue;
        }
        let s = i;
        let mut h: u64 = seed ^ 0xcbf2_9ce4_8422_2325;
        while i < b.len() && is_word(b[i]) {
            h = (h ^ u64::from(b[i].to_ascii_lowercase())).wrapping_mul(0x0100_0000_01b3);
            i += 1;
        }
        out.push(Token {
            start: s,
            end: i,
            hash: mix(h),
        });
    }
}

#[inline]
fn is_word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b >= 0x80
}

/// Multiplier of the polynomial rolling hash (odd, so invertible mod 2^64).
const BASE: u64 = 0x9e37_79b9_7f4a_7c15;

/// The hash of every window of `w` consecutive tokens, in order: `f(i, hash)` for the window
/// starting at token `i`. Rolling: one multiply-add per token.
pub fn windows(tokens: &[Token], w: usize, seed: u64, mut f: impl FnMut(usize, u64)) {
    if w == 0 || tokens.len() < w {
        return;
    }
    // BASE^(w-1): the weight of the token leaving the window.
    let top = (1..w).fold(1u64, |p, _| p.wrapping_mul(BASE));
    let mut h = 0u64;
    for t in &tokens[..w] {
        h = h.wrapping_mul(BASE).wrapping_add(t.hash);
    }
    f(0, finish(h, seed));
    for i in 1..=tokens.len() - w {
        h = h
            .wrapping_sub(tokens[i - 1].hash.wrapping_mul(top))
            .wrapping_mul(BASE)
            .wrapping_add(tokens[i + w - 1].hash);
        f(i, finish(h, seed));
    }
}

/// The hash of the window `tokens[i..i + w]` on its own (what [`windows`] gives at `i`).
pub fn window_at(tokens: &[Token], i: usize, w: usize, seed: u64) -> Option<u64> {
    let ts = tokens.get(i..i.checked_add(w)?)?;
    if w == 0 {
        return None;
    }
    let h = ts
        .iter()
        .fold(0u64, |h, t| h.wrapping_mul(BASE).wrapping_add(t.hash));
    Some(finish(h, seed))
}

#[inline]
fn finish(h: u64, seed: u64) -> u64 {
    // Never 0, which callers may use as "no window".
    mix(h ^ seed).max(1)
}

/// Number of tokens that end at or before byte `pos` (tokens are in order).
pub fn tokens_before(tokens: &[Token], pos: usize) -> usize {
    tokens.partition_point(|t| t.end <= pos)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(text: &str, w: usize) -> Vec<u64> {
        let mut t = vec![];
        tokenize(text, 7, &mut t);
        let mut v = vec![];
        windows(&t, w, 9, |i, h| {
            assert_eq!(window_at(&t, i, w, 9), Some(h));
            v.push(h)
        });
        v
    }

    #[test]
    fn windows_ignore_case_spacing_and_punctuation() {
        assert_eq!(
            all("The cat, sat on   the MAT.", 3),
            all("the cat sat on the mat", 3)
        );
        assert_eq!(all("a b c d", 2).len(), 3);
        assert!(all("a b", 3).is_empty());
        let v = all("a b a b a", 2);
        assert_eq!(v[0], v[2]);
        assert_ne!(v[0], v[1]);
    }

    #[test]
    fn seeds_change_every_hash() {
        let mut t = vec![];
        tokenize("one two three", 1, &mut t);
        let mut u = vec![];
        tokenize("one two three", 2, &mut u);
        assert_ne!(t[0].hash, u[0].hash);
        assert_ne!(window_at(&t, 0, 3, 5), window_at(&t, 0, 3, 6));
    }

    #[test]
    fn tokens_before_counts_whole_tokens() {
        let mut t = vec![];
        tokenize("ab cd ef", 0, &mut t);
        assert_eq!(
            (
                tokens_before(&t, 0),
                tokens_before(&t, 5),
                tokens_before(&t, 6)
            ),
            (0, 2, 2)
        );
        assert_eq!(&"ab cd ef"[t[2].start..t[2].end], "ef");
    }
}
