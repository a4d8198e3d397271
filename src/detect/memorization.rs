//! Memorization, per record: what the corpus-wide counts need (each PII value with the window
//! of words before it, and sampled windows) and, against a training index, which PII and which
//! spans of a model output are training data. Pure: no IO.

use crate::corpus::index::TrainingIndex;
use crate::corpus::memo::{
    risk_band, MemoBatch, MemoConfig, ValueOcc, WindowOcc, CONTEXT, PII_DOC, SAMPLED,
};
use crate::detect::window::{self, Token};
use crate::detect::{DetectorId, Hit};

/// A PII value whose preceding window of words recurs in other documents.
pub const REPEATED_CONTEXT: &str = "REPEATED_CONTEXT";
/// A PII value of a model output that is in the training data.
pub const MEMORIZED_PII: &str = "MEMORIZED_PII";
/// A span of a model output made of training windows.
pub const VERBATIM_SPAN: &str = "VERBATIM_SPAN";

/// Seeds of the token and window hashes, derived from the key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Seeds {
    pub token: u64,
    pub window: u64,
}

impl Seeds {
    pub fn new(key: &crate::hash::Key) -> Self {
        Self {
            token: key.seed64("memorization tokens"),
            window: key.seed64("memorization windows"),
        }
    }
}

/// One PII hit of a record with its keyed hash and char span.
pub struct Valued<'a> {
    pub hit: &'a Hit,
    pub hash: u128,
    pub start_char: usize,
    pub end_char: usize,
    pub preview: &'a str,
}

/// Whether a hit is a value the model could repeat (PII, secrets, custom rules).
pub fn is_value(h: &Hit) -> bool {
    matches!(h.detector, DetectorId::Pii | DetectorId::Secret)
}

/// How windows are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Windows {
    /// The coverage sample and the contexts before values (an audit).
    Sampled,
    /// Every window (building an index).
    All,
}

/// Adds record `record`'s values and windows to `batch`.
#[allow(clippy::too_many_arguments)]
pub fn collect(
    text: &str,
    values: &[Valued<'_>],
    record: u64,
    cfg: &MemoConfig,
    seeds: Seeds,
    mode: Windows,
    tokens: &mut Vec<Token>,
    batch: &mut MemoBatch,
) {
    window::tokenize(text, seeds.token, tokens);
    let w = cfg.window_tokens;
    let pii = if values.is_empty() { 0 } else { PII_DOC };
    for v in values {
        let before = window::tokens_before(tokens, v.hit.start);
        let context = before
            .checked_sub(w)
            .and_then(|i| window::window_at(tokens, i, w, seeds.window))
            .unwrap_or(0);
        if context != 0 && mode == Windows::Sampled {
            batch.windows.push(WindowOcc {
                hash: context,
                record,
                flags: CONTEXT | pii,
            });
        }
        batch.values.push(ValueOcc {
            hash: v.hash,
            record,
            kind: v.hit.kind,
            context,
            start_byte: v.hit.start as u64,
            end_byte: v.hit.end as u64,
            start_char: v.start_char as u64,
            end_char: v.end_char as u64,
            preview: v.preview.to_string(),
        });
    }
    window::windows(tokens, w, seeds.window, |_, h| {
        let sampled = cfg.sampled(h);
        if sampled || mode == Windows::All {
            batch.windows.push(WindowOcc {
                hash: h,
                record,
                flags: if sampled { SAMPLED | pii } else { pii },
            });
        }
    });
}

/// Findings of a model output against a training index: `MEMORIZED_PII` for each value the
/// training data holds, `VERBATIM_SPAN` for each maximal run of training windows.
/// Windows looked up ahead of the one tested (see [`check`]).
const PREFETCH_AHEAD: usize = 8;

pub fn check(
    text: &str,
    values: &[Valued<'_>],
    index: &TrainingIndex,
    seeds: Seeds,
    tokens: &mut Vec<Token>,
    hashes: &mut Vec<u64>,
    out: &mut Vec<Hit>,
) {
    for v in values {
        if let Some(t) = index.value(v.hash) {
            let detail = serde_json::json!({
                "value_kind": v.hit.kind,
                "training_occurrences": t.occurrences,
                "training_documents": t.documents,
                "risk": risk_band(t.occurrences),
            });
            out.push(Hit {
                detector: DetectorId::Memorization,
                kind: MEMORIZED_PII,
                start: v.hit.start,
                end: v.hit.end,
                score: 1.0,
                preview: v.hit.preview.clone(),
                detail: Some(detail.to_string()),
                norm: v.hit.norm.clone(),
            });
        }
    }
    let w = index.header().window_tokens;
    window::tokenize(text, seeds.token, tokens);
    hashes.clear();
    window::windows(tokens, w, seeds.window, |_, h| hashes.push(h));
    // Runs of consecutive windows found: (first window, last window). Lookups are random
    // reads of a large filter: the words of a window a few ahead are requested early — its
    // first two bits, or all of them inside a run, where the next windows are likely found too.
    let mut run: Option<(usize, usize)> = None;
    let mut runs = Vec::new();
    for (i, &h) in hashes.iter().enumerate() {
        if let Some(&next) = hashes.get(i + PREFETCH_AHEAD) {
            let in_run = run.is_some_and(|(_, e)| e + 1 == i);
            index.prefetch_window(next, if in_run { u32::MAX } else { 2 });
        }
        if index.has_window(h) {
            run = match run {
                Some((s, e)) if e + 1 == i => Some((s, i)),
                other => {
                    runs.extend(other);
                    Some((i, i))
                }
            };
        }
    }
    runs.extend(run);
    for (s, e) in runs {
        let (start, end) = (tokens[s].start, tokens[e + w - 1].end);
        let detail = serde_json::json!({ "windows": e - s + 1, "tokens": e - s + w });
        out.push(Hit {
            detector: DetectorId::Memorization,
            kind: VERBATIM_SPAN,
            start,
            end,
            score: 1.0,
            preview: String::new(),
            detail: Some(detail.to_string()),
            norm: None,
        });
    }
}
