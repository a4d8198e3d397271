//! Pure per-text scans: no state, no IO. Each detector reads one text value and appends [`Hit`]s.

pub mod dedup;
pub mod injection;
pub mod memorization;
pub mod outlier;
pub mod pii;
pub mod poison;
pub mod secret;
pub mod unicode;
pub mod window;

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The detector families of the output contract, in the order of the `records.parquet` columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DetectorId {
    Pii,
    Secret,
    Unicode,
    Dedup,
    Poison,
    Outlier,
    Memorization,
}

impl DetectorId {
    pub const ALL: [DetectorId; 7] = [
        DetectorId::Pii,
        DetectorId::Secret,
        DetectorId::Unicode,
        DetectorId::Dedup,
        DetectorId::Poison,
        DetectorId::Outlier,
        DetectorId::Memorization,
    ];

    /// Detectors this build can run.
    pub const AVAILABLE: [DetectorId; 7] = DetectorId::ALL;

    pub fn as_str(self) -> &'static str {
        match self {
            DetectorId::Pii => "pii",
            DetectorId::Secret => "secret",
            DetectorId::Unicode => "unicode",
            DetectorId::Dedup => "dedup",
            DetectorId::Poison => "poison",
            DetectorId::Outlier => "outlier",
            DetectorId::Memorization => "memorization",
        }
    }

    pub fn index(self) -> usize {
        self as usize
    }

    pub fn is_available(self) -> bool {
        Self::AVAILABLE.contains(&self)
    }
}

impl fmt::Display for DetectorId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for DetectorId {
    type Err = crate::Error;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim().to_ascii_lowercase();
        let id = DetectorId::ALL
            .into_iter()
            .find(|d| d.as_str() == s)
            .ok_or_else(|| {
                crate::Error::Config(format!(
                    "unknown detector '{s}' (known: {})",
                    names(&DetectorId::ALL)
                ))
            })?;
        if !id.is_available() {
            return Err(crate::Error::Config(format!(
                "detector '{s}' is not available in this version (available: {})",
                names(&DetectorId::AVAILABLE)
            )));
        }
        Ok(id)
    }
}

/// Every kind the available detectors can report, with its detector.
pub const KINDS: &[(DetectorId, &str)] = &[
    (DetectorId::Pii, pii::EMAIL),
    (DetectorId::Pii, pii::CREDIT_CARD),
    (DetectorId::Pii, pii::US_SSN),
    (DetectorId::Pii, pii::IBAN),
    (DetectorId::Pii, pii::IP_ADDRESS),
    (DetectorId::Pii, pii::MAC_ADDRESS),
    (DetectorId::Pii, pii::PHONE),
    (DetectorId::Pii, pii::CRYPTO),
    (DetectorId::Secret, secret::AWS_ACCESS_KEY_ID),
    (DetectorId::Secret, secret::GITHUB_TOKEN),
    (DetectorId::Secret, secret::SLACK_TOKEN),
    (DetectorId::Secret, secret::STRIPE_KEY),
    (DetectorId::Secret, secret::GOOGLE_API_KEY),
    (DetectorId::Secret, secret::JWT),
    (DetectorId::Secret, secret::PRIVATE_KEY),
    (DetectorId::Secret, secret::AWS_SECRET_KEY),
    (DetectorId::Secret, secret::PASSWORD),
    (DetectorId::Unicode, unicode::BIDI_CONTROL),
    (DetectorId::Unicode, unicode::ZERO_WIDTH),
    (DetectorId::Unicode, unicode::TAG_CHARACTERS),
    (DetectorId::Unicode, unicode::CONFUSABLE),
    (DetectorId::Dedup, dedup::EXACT_DUPLICATE),
    (DetectorId::Dedup, dedup::NEAR_DUPLICATE),
    (DetectorId::Dedup, dedup::REPEATED_PASSAGE),
    (DetectorId::Poison, poison::GIBBERISH),
    (DetectorId::Poison, poison::TRIGGER_BURST),
    (DetectorId::Poison, poison::REPEATED_RESPONSE),
    (DetectorId::Poison, poison::LABEL_CONFLICT),
    (DetectorId::Poison, poison::UNGROUNDED_ENTITY),
    (DetectorId::Poison, injection::PROMPT_INJECTION),
    (DetectorId::Outlier, outlier::OUTLIER),
    (DetectorId::Memorization, memorization::REPEATED_CONTEXT),
    (DetectorId::Memorization, memorization::MEMORIZED_PII),
    (DetectorId::Memorization, memorization::VERBATIM_SPAN),
];

fn names(ids: &[DetectorId]) -> String {
    ids.iter()
        .map(|d| d.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// One finding inside one text value, as a detector reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    pub detector: DetectorId,
    /// Finding kind, e.g. `BIDI_CONTROL`.
    pub kind: &'static str,
    /// UTF-8 byte span in the text (`start..end`, on char boundaries).
    pub start: usize,
    pub end: usize,
    /// Confidence / severity in `[0, 1]`.
    pub score: f64,
    /// What is safe to show of the value (masked for PII).
    pub preview: String,
    /// Small JSON object with detector-specific evidence.
    pub detail: Option<String>,
    /// The value normalized for `value_hash` (card digits, lower-cased e-mail, ...); the raw span
    /// when `None`.
    pub norm: Option<String>,
}

/// A scan over one text value. Implementations must be pure: same text, same hits.
pub trait TextDetector: Send + Sync {
    fn id(&self) -> DetectorId;
    /// Appends hits for `text` to `out`, ordered by `start`.
    fn scan(&self, text: &str, out: &mut Vec<Hit>);
}

/// `(kind, matched text)` for every hit of `d` in `text` (tests).
#[cfg(test)]
pub(crate) fn spans<'t>(d: &dyn TextDetector, text: &'t str) -> Vec<(&'static str, &'t str)> {
    let mut out = vec![];
    d.scan(text, &mut out);
    out.iter()
        .map(|h| (h.kind, &text[h.start..h.end]))
        .collect()
}

/// Index of the first byte `>= 0x80` at or after `from`, or `bytes.len()`.
/// Word-at-a-time so ASCII-heavy text is skipped at memory speed.
#[inline]
pub fn next_non_ascii(bytes: &[u8], from: usize) -> usize {
    const HI: u64 = 0x8080_8080_8080_8080;
    let mut i = from;
    while i + 8 <= bytes.len() {
        let mut w = [0u8; 8];
        w.copy_from_slice(&bytes[i..i + 8]);
        let m = u64::from_le_bytes(w) & HI;
        if m != 0 {
            return i + (m.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while i < bytes.len() && bytes[i] < 0x80 {
        i += 1;
    }
    i
}

/// Start of every maximal run of ASCII digits, found 64 bytes at a time: each block becomes a
/// bit mask of its digits, and a start is a digit bit whose predecessor bit is clear.
pub fn digit_run_starts(bytes: &[u8], out: &mut Vec<usize>) {
    /// Digit flags as bytes (a compare loop that vectorizes), packed eight at a time into bits
    /// by one multiplication. `block` is at most 64 bytes.
    #[inline]
    fn mask(block: &[u8]) -> u64 {
        let mut flags = [0u8; 64];
        for (f, &c) in flags.iter_mut().zip(block) {
            *f = u8::from(c.wrapping_sub(b'0') < 10);
        }
        let mut m = 0u64;
        for (k, w) in flags.chunks_exact(8).enumerate() {
            let mut x = [0u8; 8];
            x.copy_from_slice(w);
            m |= (u64::from_le_bytes(x).wrapping_mul(0x0102_0408_1020_4080) >> 56) << (8 * k);
        }
        m
    }
    let mut prev = 0u64;
    let mut push = |base: usize, m: u64, prev: u64| {
        let mut s = m & !((m << 1) | prev);
        while s != 0 {
            out.push(base + s.trailing_zeros() as usize);
            s &= s - 1;
        }
    };
    let mut blocks = bytes.chunks_exact(64);
    for (n, block) in blocks.by_ref().enumerate() {
        let m = mask(block);
        if m != 0 {
            push(n * 64, m, prev);
        }
        prev = m >> 63;
    }
    let rest = blocks.remainder();
    if !rest.is_empty() {
        push(bytes.len() - rest.len(), mask(rest), prev);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digit_run_starts_match_a_naive_scan() {
        let mut seed = 7u64;
        for len in [
            0usize, 1, 7, 8, 9, 15, 16, 17, 63, 64, 65, 100, 127, 128, 129, 1000,
        ] {
            let text: Vec<u8> = (0..len)
                .map(|_| {
                    seed = seed
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    [b'0', b'9', b'5', b'a', b'/', b':', b' ', 0xC3, 0xB0, 0xB9]
                        [(seed >> 33) as usize % 10]
                })
                .collect();
            let naive: Vec<usize> = (0..text.len())
                .filter(|&i| text[i].is_ascii_digit() && (i == 0 || !text[i - 1].is_ascii_digit()))
                .collect();
            let mut got = vec![];
            digit_run_starts(&text, &mut got);
            assert_eq!(got, naive, "len {len}");
        }
    }

    #[test]
    fn next_non_ascii_finds_every_position() {
        let s = "abcdefghijklmnopé qrstuvwxyz😀";
        let b = s.as_bytes();
        let expect: Vec<usize> = (0..b.len()).filter(|&i| b[i] >= 0x80).collect();
        let mut got = vec![];
        let mut i = next_non_ascii(b, 0);
        while i < b.len() {
            got.push(i);
            i = next_non_ascii(b, i + 1);
        }
        assert_eq!(got, expect);
    }

    #[test]
    fn detector_names_parse() {
        assert_eq!(
            "Unicode".parse::<DetectorId>().unwrap(),
            DetectorId::Unicode
        );
        assert!("bogus".parse::<DetectorId>().is_err());
    }
}

#[cfg(test)]
mod properties {
    use super::{pii::PiiDetector, secret::SecretDetector, unicode::UnicodeDetector, TextDetector};
    use proptest::prelude::*;

    /// Text mixing the bytes every detector gates on with multi-byte characters.
    fn texty() -> impl Strategy<Value = String> {
        proptest::collection::vec(
            prop_oneof![
                Just("4111 1111 1111 1111".to_string()),
                Just("a@gmail.com".to_string()),
                Just("DE89 3704 0044 0532 0130 00".to_string()),
                Just("10.0.0.1".to_string()),
                Just("fe80::1".to_string()),
                Just("00:1a:2b:3c:4d:5e".to_string()),
                Just("p\u{0430}ypal.com".to_string()),
                Just("\u{202E}\u{200B}\u{E0041}\u{1F3F4}\u{FEFF}".to_string()),
                "[0-9a-zA-Z@:.\\- ,()+#/]{0,12}",
                "\\PC{0,6}",
            ],
            0..12,
        )
        .prop_map(|parts| parts.concat())
    }

    proptest! {
        #[test]
        fn hits_are_ordered_char_aligned_spans(text in texty()) {
            for d in [&UnicodeDetector as &dyn TextDetector, &PiiDetector::default(), &SecretDetector] {
                let mut hits = Vec::new();
                d.scan(&text, &mut hits);
                for (i, h) in hits.iter().enumerate() {
                    prop_assert!(h.start < h.end && h.end <= text.len());
                    prop_assert!(text.is_char_boundary(h.start) && text.is_char_boundary(h.end));
                    prop_assert!((0.0..=1.0).contains(&h.score));
                    if i > 0 {
                        prop_assert!(hits[i - 1].start <= h.start);
                    }
                }
            }
        }
    }
}
