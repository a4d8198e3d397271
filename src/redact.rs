//! Redaction: every finding of a [`Scanner`] replaced in the text, every other column and the row
//! order kept. Pure: batches and strings in, batches and strings out.
//!
//! Modes: `tag` (`<EMAIL>`), `mask` (letters and digits become `*`, punctuation stays) and
//! `pseudonym` (a keyed, consistent stand-in of the same shape: the same value gives the same
//! stand-in across rows, shards and runs that share the key). A pseudonym is never one the
//! scanner would report, so it cannot be mistaken for a real value.

use std::collections::BTreeMap;
use std::io::Read;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, RecordBatch, StringArray};
use arrow::compute::cast;

use crate::detect::{pii, secret, Hit};
use crate::scan::Scanner;
use crate::text::{text_array, TextColumn};
use crate::{Error, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RedactMode {
    #[default]
    Tag,
    Mask,
    Pseudonym,
}

impl std::str::FromStr for RedactMode {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "tag" => Ok(Self::Tag),
            "mask" => Ok(Self::Mask),
            "pseudonym" => Ok(Self::Pseudonym),
            other => Err(Error::Config(format!(
                "unknown redaction mode {other:?} (tag, mask, pseudonym)"
            ))),
        }
    }
}

/// Replacements made, per kind.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct RedactCounts {
    pub records: u64,
    pub records_changed: u64,
    pub replaced: u64,
    pub kinds: BTreeMap<String, u64>,
}

impl RedactCounts {
    pub fn merge(&mut self, o: &RedactCounts) {
        self.records += o.records;
        self.records_changed += o.records_changed;
        self.replaced += o.replaced;
        for (k, v) in &o.kinds {
            *self.kinds.entry(k.clone()).or_default() += v;
        }
    }
}

pub struct Redactor {
    scanner: Arc<Scanner>,
    mode: RedactMode,
}

impl Redactor {
    pub fn new(scanner: Arc<Scanner>, mode: RedactMode) -> Self {
        Self { scanner, mode }
    }

    pub fn scanner(&self) -> &Scanner {
        &self.scanner
    }

    pub fn mode(&self) -> RedactMode {
        self.mode
    }

    /// The text with every finding replaced, or `None` when nothing was found.
    pub fn redact_str(
        &self,
        text: &str,
        hits: &mut Vec<Hit>,
        counts: &mut RedactCounts,
    ) -> Option<String> {
        counts.records += 1;
        self.scanner.hits(text, hits);
        if hits.is_empty() {
            return None;
        }
        // Overlapping findings are replaced once, as the first of them.
        let mut spans: Vec<(usize, usize, &Hit)> = Vec::with_capacity(hits.len());
        for h in hits.iter() {
            match spans.last_mut() {
                Some(last) if h.start < last.1 => last.1 = last.1.max(h.end),
                _ => spans.push((h.start, h.end, h)),
            }
        }
        let mut out = String::with_capacity(text.len());
        let mut at = 0;
        for (s, e, h) in spans {
            out.push_str(&text[at..s]);
            let r = self.replacement(&text[s..e], h, tail(&out, 64), head(&text[e..], 32));
            out.push_str(&r);
            *counts.kinds.entry(h.kind.to_string()).or_default() += 1;
            counts.replaced += 1;
            at = e;
        }
        out.push_str(&text[at..]);
        counts.records_changed += 1;
        Some(out)
    }

    /// The stand-in for `raw`; `before` and `after` are the text around it (pseudonyms are
    /// checked in context).
    fn replacement(&self, raw: &str, h: &Hit, before: &str, after: &str) -> String {
        match self.mode {
            RedactMode::Tag => format!("<{}>", h.kind),
            RedactMode::Mask => raw
                .chars()
                .map(|c| if c.is_alphanumeric() { '*' } else { c })
                .collect(),
            RedactMode::Pseudonym => pseudonym(&self.scanner, raw, h, before, after),
        }
    }

    /// `batch` with the scanner's text column redacted; every other column is the same array.
    pub fn redact_batch(
        &self,
        batch: &RecordBatch,
        shard: &str,
        counts: &mut RedactCounts,
    ) -> Result<RecordBatch> {
        let cols = self.scanner.resolve_columns(&batch.schema(), shard)?;
        let idx = batch
            .schema()
            .index_of(&cols.text)
            .map_err(|e| Error::Schema {
                shard: shard.into(),
                message: e.to_string(),
            })?;
        let original = batch.column(idx);
        let strings = text_array(original).map_err(|m| Error::Schema {
            shard: shard.into(),
            message: m,
        })?;
        let text = TextColumn::new(strings.as_ref()).ok_or_else(|| Error::Schema {
            shard: shard.into(),
            message: format!("column {:?} is not a string column", cols.text),
        })?;
        let mut hits = Vec::new();
        let mut changed = false;
        let redacted: StringArray = (0..text.len())
            .map(|i| {
                text.get(i)
                    .map(|t| match self.redact_str(t, &mut hits, counts) {
                        Some(r) => {
                            changed = true;
                            r
                        }
                        None => t.to_string(),
                    })
            })
            .collect();
        if !changed {
            return Ok(batch.clone());
        }
        let new: ArrayRef = cast(&redacted, original.data_type()).map_err(|e| Error::Schema {
            shard: shard.into(),
            message: format!("column {:?}: {e}", cols.text),
        })?;
        let mut columns = batch.columns().to_vec();
        columns[idx] = new;
        RecordBatch::try_new(batch.schema(), columns).map_err(|e| Error::Schema {
            shard: shard.into(),
            message: e.to_string(),
        })
    }
}

/// A keyed stand-in with the shape of `raw`: digits stay digits, letters stay letters of the same
/// case, everything else stays; e-mails move to `example.com`. A stand-in the scanner would still
/// report (a card that happens to pass Luhn, a valid phone number) is drawn again, and after a
/// few draws the tag is used. The check reads the stand-in between `before` and `after`, the
/// text around it, since context decides some kinds (a bare number in a CSV field is a phone). Credentials found by their name (`password = …`) take a
/// placeholder (`redacted-1f3a9c0e`): whatever stands after the name would be found again.
fn pseudonym(scanner: &Scanner, raw: &str, h: &Hit, before: &str, after: &str) -> String {
    let seed = format!("{}\u{0}{}", h.kind, h.norm.as_deref().unwrap_or(raw));
    let mut stream = scanner.key().stream(seed.as_bytes());
    let mut next = || {
        let mut b = [0u8; 1];
        let _ = stream.read(&mut b);
        b[0]
    };
    if matches!(h.kind, secret::PASSWORD | secret::AWS_SECRET_KEY) {
        let hex: String = (0..4).map(|_| format!("{:02x}", next())).collect();
        return format!("redacted-{hex}");
    }
    let (body, domain) = match (h.kind, raw.rsplit_once('@')) {
        (pii::EMAIL, Some((local, _))) => (local, "@example.com"),
        _ => (raw, ""),
    };
    let mut hits = Vec::new();
    let mut probe = String::with_capacity(before.len() + raw.len() + after.len() + 16);
    for _ in 0..16 {
        let mut out: String = body
            .chars()
            .map(|c| match c {
                '0'..='9' => char::from(b'0' + next() % 10),
                'a'..='z' => char::from(b'a' + next() % 26),
                'A'..='Z' => char::from(b'A' + next() % 26),
                c => c,
            })
            .collect();
        out.push_str(domain);
        // Area numbers 900–999 are never issued: an SSN stand-in is never a real one.
        if h.kind == pii::US_SSN {
            if let Some(p) = out.find(|c: char| c.is_ascii_digit()) {
                out.replace_range(p..p + 1, "9");
            }
        }
        probe.clear();
        probe.push_str(before);
        probe.push_str(&out);
        probe.push_str(after);
        scanner.hits(&probe, &mut hits);
        let (s, e) = (before.len(), before.len() + out.len());
        if !hits.iter().any(|x| x.start < e && s < x.end) {
            return out;
        }
    }
    format!("<{}>", h.kind)
}

/// The last `n` bytes of `s` or fewer, on a character boundary.
fn tail(s: &str, n: usize) -> &str {
    let mut i = s.len().saturating_sub(n);
    while !s.is_char_boundary(i) {
        i += 1;
    }
    &s[i..]
}

/// The first `n` bytes of `s` or fewer, on a character boundary.
fn head(s: &str, n: usize) -> &str {
    let mut i = n.min(s.len());
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    &s[..i]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::DetectorId;
    use crate::hash::Key;
    use crate::scan::ScanConfig;
    use arrow::array::{Int64Array, LargeStringArray};
    use arrow::datatypes::{DataType, Field, Schema};

    fn redactor(mode: RedactMode) -> Redactor {
        let config = ScanConfig {
            detectors: vec![DetectorId::Pii, DetectorId::Secret],
            ..ScanConfig::default()
        };
        let key = Key::from_hex("000102030405060708090a0b0c0d0e0f").unwrap();
        Redactor::new(Arc::new(Scanner::new(config, key).unwrap()), mode)
    }

    const TEXT: &str = "Mail jo.doe@corp-mail.com or call (212) 736-5000; card 4111 1111 1111 1111, \
                        SSN 123-45-6789, IBAN DE89 3704 0044 0532 0130 00, db_password = \"Kst4QQiQtG9\".";

    fn rescan(r: &Redactor, t: &str) -> Vec<&'static str> {
        let mut hits = Vec::new();
        r.scanner().hits(t, &mut hits);
        hits.iter().map(|h| h.kind).collect()
    }

    #[test]
    fn every_mode_leaves_nothing_to_find() {
        for mode in [RedactMode::Tag, RedactMode::Mask, RedactMode::Pseudonym] {
            let r = redactor(mode);
            let mut counts = RedactCounts::default();
            let out = r.redact_str(TEXT, &mut Vec::new(), &mut counts).unwrap();
            assert_eq!(counts.replaced, 6, "{mode:?}: {out}");
            assert!(
                rescan(&r, &out).is_empty(),
                "{mode:?}: {out} -> {:?}",
                rescan(&r, &out)
            );
            assert!(
                !out.contains("jo.doe") && !out.contains("736-5000") && !out.contains("Kst4QQ")
            );
        }
        let tagged = redactor(RedactMode::Tag)
            .redact_str(TEXT, &mut Vec::new(), &mut RedactCounts::default())
            .unwrap();
        assert!(
            tagged.starts_with("Mail <EMAIL> or call <PHONE>; card <CREDIT_CARD>,"),
            "{tagged}"
        );
    }

    #[test]
    fn pseudonyms_are_consistent_and_keep_the_shape() {
        let r = redactor(RedactMode::Pseudonym);
        let mut c = RedactCounts::default();
        let a = r
            .redact_str("call (212) 736-5000 now", &mut Vec::new(), &mut c)
            .unwrap();
        let b = r
            .redact_str("or (212) 736-5000.", &mut Vec::new(), &mut c)
            .unwrap();
        let p = &a[5..19];
        assert!(b.contains(p), "{a} / {b}");
        assert_eq!(p.len(), "(212) 736-5000".len());
        assert!(
            p.starts_with('(') && p.as_bytes()[4] == b')' && p.as_bytes()[9] == b'-',
            "{p}"
        );
        let other = r.redact_str("call (646) 555-0100 now", &mut Vec::new(), &mut c);
        assert_ne!(other.as_deref(), Some(a.as_str()));
    }

    #[test]
    fn batches_keep_schema_other_columns_and_nulls() {
        let schema = Arc::new(Schema::new(vec![
            Field::new("id", DataType::Int64, false),
            Field::new("text", DataType::LargeUtf8, true),
        ]));
        let ids: ArrayRef = Arc::new(Int64Array::from(vec![7, 8, 9]));
        let texts: ArrayRef = Arc::new(LargeStringArray::from(vec![
            Some(TEXT),
            None,
            Some("clean"),
        ]));
        let batch = RecordBatch::try_new(schema.clone(), vec![ids.clone(), texts]).unwrap();
        let mut counts = RedactCounts::default();
        let out = redactor(RedactMode::Tag)
            .redact_batch(&batch, "s", &mut counts)
            .unwrap();
        assert_eq!(out.schema(), schema);
        assert!(Arc::ptr_eq(out.column(0), &ids));
        let t = out
            .column(1)
            .as_any()
            .downcast_ref::<LargeStringArray>()
            .unwrap();
        assert!(t.value(0).contains("<EMAIL>") && t.is_null(1) && t.value(2) == "clean");
        assert_eq!((counts.records, counts.records_changed), (2, 1));
    }
}
