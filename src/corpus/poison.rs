//! Corpus-level poisoning state and decisions. Batches contribute compact per-record signals
//! (bursts into abnormal text with their trigger candidates, instruction pairs, injection
//! scores) and a count-min sketch of token frequencies; `finish` ranks trigger candidates,
//! groups repeated responses and scores every record. Pure: no IO.
//!
//! A trigger candidate ranks by `documents × purity × novelty`:
//! - `documents`: documents where it opens or precedes a burst;
//! - `purity`: those documents over the corpus frequency of its rarest token (a trigger occurs
//!   where the attack put it and nowhere else; a common word precedes bursts by chance);
//! - `novelty`: distinct continuations over documents (a trigger is followed by different
//!   random text each time; a templated page repeats the same continuation).

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::codec::{codec_struct, Codec, Dec, Enc};
use crate::detect::poison::{
    Candidate, Entity, Instruction, LabelDoc, Piece, PromptGram, MAX_GRAM,
};
use crate::Result;

/// `[poison]` settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PoisonConfig {
    /// Documents a trigger must be seen in before it is reported.
    pub min_documents: u32,
    /// Burst strength from which a document is reported as `GIBBERISH`.
    pub gibberish_threshold: f32,
    /// Distinct prompts sharing one response from which it is a `REPEATED_RESPONSE`.
    pub min_response_prompts: u32,
    /// Candidate triggers listed in the summary.
    pub candidates_listed: usize,
    /// Responses that must name an entity their record does not ground before it is judged.
    pub entity_min_documents: u32,
    /// Grounding (log-evidence that an entity goes with some word of its records, beyond what
    /// any word shows in random records) up to which an entity is reported as ungrounded.
    pub entity_max_grounding: f64,
}

impl Default for PoisonConfig {
    fn default() -> Self {
        Self {
            min_documents: 5,
            gibberish_threshold: 0.6,
            min_response_prompts: 3,
            candidates_listed: 20,
            entity_min_documents: 10,
            entity_max_grounding: 0.0,
        }
    }
}

impl PoisonConfig {
    pub fn validate(&self) -> std::result::Result<(), String> {
        if self.min_documents < 2 {
            return Err("min_documents must be at least 2".into());
        }
        if !(0.0..=1.0).contains(&self.gibberish_threshold) {
            return Err("gibberish_threshold must be in [0, 1]".into());
        }
        if self.min_response_prompts < 2 {
            return Err("min_response_prompts must be at least 2".into());
        }
        if self.entity_min_documents < 2 {
            return Err("entity_min_documents must be at least 2".into());
        }
        if !self.entity_max_grounding.is_finite() {
            return Err("entity_max_grounding must be a number".into());
        }
        Ok(())
    }
}

/// Count-min sketch with fixed seeds and size, so sketches of any split of a corpus add up.
/// Counters saturate at `u16::MAX`: only rare strings' counts matter (a trigger's purity).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CountMin {
    counts: Vec<u16>,
}

/// One row: an n-gram's count is bounded by the minimum over several of its words and pairs,
/// which already spreads it over several counters.
const CM_BITS: u32 = 21;
/// Tokens ahead whose counters are prefetched.
const CM_AHEAD: usize = 8;

impl Default for CountMin {
    fn default() -> Self {
        Self {
            counts: vec![0; 1 << CM_BITS],
        }
    }
}

impl CountMin {
    #[inline]
    fn slot(hash: u64) -> usize {
        (hash >> (64 - CM_BITS)) as usize
    }

    #[inline]
    pub fn add(&mut self, hash: u64, n: u16) {
        let c = &mut self.counts[Self::slot(hash)];
        *c = c.saturating_add(n);
    }

    #[inline]
    fn prefetch(&self, hash: u64) {
        super::prefetch(&self.counts[Self::slot(hash)]);
    }

    /// Counts every token of a text and every pair of adjacent tokens.
    pub fn add_tokens(&mut self, tokens: &[crate::detect::poison::Token]) {
        use crate::detect::poison::pair_hash;
        // Punctuation alone is never a trigger's rarest part: only words, and pairs holding one,
        // are counted.
        let pair = |i: usize| {
            let (a, b) = (&tokens[i - 1], &tokens[i]);
            (a.word || b.word).then(|| pair_hash(a.hash, b.hash))
        };
        for i in 0..tokens.len() {
            if let Some(t) = tokens.get(i + CM_AHEAD) {
                if t.word {
                    self.prefetch(t.hash);
                }
                if let Some(p) = pair(i + CM_AHEAD) {
                    self.prefetch(p);
                }
            }
            if tokens[i].word {
                self.add(tokens[i].hash, 1);
            }
            if let Some(p) = (i > 0).then(|| pair(i)).flatten() {
                self.add(p, 1);
            }
        }
    }

    /// An upper bound of the count of `hash` (saturated at `u16::MAX`).
    pub fn get(&self, hash: u64) -> u32 {
        u32::from(self.counts[Self::slot(hash)])
    }

    pub fn merge(&mut self, o: &CountMin) {
        for (a, b) in self.counts.iter_mut().zip(&o.counts) {
            *a = a.saturating_add(*b);
        }
    }
}

/// A candidate as kept per record: where it is, in bytes and chars, and its text.
#[derive(Debug, Clone, PartialEq)]
pub struct Located {
    pub c: Candidate,
    pub start_char: u32,
    pub end_char: u32,
    pub text: Box<str>,
}

/// One record's burst.
#[derive(Debug, Clone, PartialEq)]
pub struct BurstSignal {
    pub record: u64,
    pub jump: f32,
    pub start: u32,
    pub end: u32,
    pub start_char: u32,
    pub end_char: u32,
    pub candidates: Vec<Located>,
    /// The tokens before the candidates (`Burst::reach`).
    pub reach: Vec<Reach>,
}

/// A token before a burst's candidates: hash, byte and char span.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reach {
    pub hash: u64,
    pub start: u32,
    pub end: u32,
    pub start_char: u32,
    pub end_char: u32,
}

/// The reported trigger among the n-grams of `reach` nearest the burst (longest first), as
/// (candidate index, byte and char span).
fn trigger_in_reach(
    reach: &[Reach],
    triggers: &HashMap<u64, usize>,
    alias: &HashMap<u64, u64>,
) -> Option<(usize, (u32, u32, u32, u32))> {
    (1..=reach.len()).rev().find_map(|stop| {
        (1..=MAX_GRAM.min(stop)).rev().find_map(|len| {
            let g = &reach[stop - len..stop];
            let h = crate::detect::poison::gram_hash_of(g.iter().map(|t| t.hash));
            let h = alias.get(&h).copied().unwrap_or(h);
            let i = *triggers.get(&h)?;
            Some((
                i,
                (
                    g[0].start,
                    g[len - 1].end,
                    g[0].start_char,
                    g[len - 1].end_char,
                ),
            ))
        })
    })
}

/// One record's prompt/response signals, with the prompt (for naming triggers).
#[derive(Debug, Clone, PartialEq)]
pub struct InstructionSignal {
    pub record: u64,
    pub sig: Instruction,
    pub prompt: Box<str>,
}

/// The poisoning signals of a run of records (a batch, a shard, a worker's share or a whole
/// audit), records numbered from 0 in input order. States of consecutive runs
/// [`merge`](Self::merge) into the state of their union, in one process or, through
/// [`to_bytes`](Self::to_bytes), across workers.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PoisonState {
    pub records: u64,
    /// Token frequencies.
    pub tokens: CountMin,
    pub bursts: Vec<BurstSignal>,
    pub instructions: Vec<InstructionSignal>,
    /// `(record, score)` of records with a prompt injection.
    pub injections: Vec<(u64, f32)>,
    pub label_names: Vec<Box<str>>,
    /// `(record, label index, words)` of labelled records.
    pub labels: Vec<(u64, u16, LabelDoc)>,
    /// The text of each response entity (`Entity::hash`), as first seen.
    pub entity_names: HashMap<u64, Box<str>>,
}

/// Format of [`PoisonState::to_bytes`]; bumped whenever its layout changes.
pub const STATE_FORMAT: u32 = 1;
const STATE_MAGIC: &[u8; 8] = b"SGPOISN\0";
/// Compression level of serialized state (mostly the count-min sketch's zeros).
const STATE_ZSTD_LEVEL: i32 = 1;

impl PoisonState {
    /// An empty state for `records` records.
    pub fn new(records: u64) -> Self {
        Self {
            records,
            ..Self::default()
        }
    }

    /// Keeps record `record`'s label and words.
    pub fn push_label(&mut self, record: u64, label: &str, doc: LabelDoc) {
        let l = self.label_index(label);
        self.labels.push((record, l, doc));
    }

    fn label_index(&mut self, label: &str) -> u16 {
        let l = match self.label_names.iter().position(|n| &**n == label) {
            Some(l) => l,
            None => {
                self.label_names.push(label.into());
                self.label_names.len() - 1
            }
        };
        l.min(u16::MAX as usize) as u16
    }

    /// Keeps record `record`'s prompt/response signals, and the text of its response's names.
    pub fn push_instruction(
        &mut self,
        record: u64,
        prompt: &str,
        response: &str,
        sig: Instruction,
    ) {
        for e in &sig.entities {
            self.entity_names
                .entry(e.hash)
                .or_insert_with(|| response[e.start as usize..e.end as usize].into());
        }
        self.instructions.push(InstructionSignal {
            record,
            sig,
            prompt: prompt.into(),
        });
    }

    /// Appends the records of `b`, which follow this state's in input order.
    pub fn merge(&mut self, b: PoisonState) {
        let base = self.records;
        self.tokens.merge(&b.tokens);
        self.bursts.extend(b.bursts.into_iter().map(|mut s| {
            s.record += base;
            s
        }));
        self.instructions
            .extend(b.instructions.into_iter().map(|mut s| {
                s.record += base;
                s
            }));
        self.injections
            .extend(b.injections.into_iter().map(|(r, s)| (r + base, s)));
        let labels: Vec<u16> = b.label_names.iter().map(|n| self.label_index(n)).collect();
        self.labels.extend(
            b.labels
                .into_iter()
                .map(|(r, l, doc)| (r + base, labels[l as usize], doc)),
        );
        for (h, name) in b.entity_names {
            self.entity_names.entry(h).or_insert(name);
        }
        self.records += b.records;
    }

    /// The state as bytes: magic, format, then the zstd-compressed fields (see `codec`).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut e = Enc::default();
        self.records.put(&mut e);
        self.tokens.put(&mut e);
        self.bursts.put(&mut e);
        self.instructions.put(&mut e);
        self.injections.put(&mut e);
        self.label_names.put(&mut e);
        self.labels.put(&mut e);
        let mut names: Vec<(u64, Box<str>)> = self
            .entity_names
            .iter()
            .map(|(&h, n)| (h, n.clone()))
            .collect();
        names.sort_unstable_by_key(|&(h, _)| h);
        names.put(&mut e);
        let mut out = Enc::open(STATE_MAGIC, STATE_FORMAT).0;
        // Compressing a byte buffer in memory does not fail.
        out.extend(zstd::bulk::compress(&e.0, STATE_ZSTD_LEVEL).unwrap_or_default());
        out
    }

    /// Reads what [`to_bytes`](Self::to_bytes) wrote; anything else is a clear error.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let what = "poison state";
        let head = Dec::open(bytes, STATE_MAGIC, STATE_FORMAT, what)?;
        let mut raw = Vec::new();
        zstd::stream::read::Decoder::new(head.rest())
            .and_then(|mut z| std::io::Read::read_to_end(&mut z, &mut raw))
            .map_err(|e| head.error(format!("compressed bytes: {e}")))?;
        let mut d = Dec::new(&raw, what);
        let mut s = Self {
            records: u64::get(&mut d)?,
            tokens: <CountMin as Codec>::get(&mut d)?,
            bursts: Vec::get(&mut d)?,
            instructions: Vec::get(&mut d)?,
            injections: Vec::get(&mut d)?,
            label_names: Vec::get(&mut d)?,
            labels: Vec::get(&mut d)?,
            entity_names: HashMap::new(),
        };
        let names: Vec<(u64, Box<str>)> = Vec::get(&mut d)?;
        s.entity_names.extend(names);
        let in_range = s
            .bursts
            .iter()
            .map(|b| b.record)
            .chain(s.instructions.iter().map(|i| i.record))
            .chain(s.injections.iter().map(|i| i.0))
            .chain(s.labels.iter().map(|l| l.0))
            .all(|r| r < s.records);
        if !in_range {
            return Err(d.error("a record number is beyond the state's records"));
        }
        if s.labels.iter().any(|l| l.1 as usize >= s.label_names.len()) {
            return Err(d.error("a label index is beyond the state's labels"));
        }
        d.finish()?;
        Ok(s)
    }
}

impl Codec for CountMin {
    const MIN_SIZE: usize = 8;
    fn put(&self, e: &mut Enc) {
        self.counts.put(e);
    }
    fn get(d: &mut Dec<'_>) -> Result<Self> {
        let counts: Vec<u16> = Vec::get(d)?;
        if counts.len() != 1 << CM_BITS {
            return Err(d.error(format!(
                "a count-min sketch of {} counters, this version uses {}",
                counts.len(),
                1u32 << CM_BITS
            )));
        }
        Ok(Self { counts })
    }
}

codec_struct!(Candidate {
    hash: u64,
    tokens: [u64; MAX_GRAM],
    words: u8,
    len: u8,
    start: u32,
    end: u32,
    next: u64
});
codec_struct!(Located { c: Candidate, start_char: u32, end_char: u32, text: Box<str> });
codec_struct!(Reach {
    hash: u64,
    start: u32,
    end: u32,
    start_char: u32,
    end_char: u32
});
codec_struct!(BurstSignal { record: u64, jump: f32, start: u32, end: u32, start_char: u32, end_char: u32, candidates: Vec<Located>, reach: Vec<Reach> });
codec_struct!(PromptGram {
    hash: u64,
    start: u32,
    end: u32,
    grounded: bool,
    wordy: bool
});
codec_struct!(Entity {
    hash: u64,
    start: u32,
    end: u32,
    start_char: u32,
    end_char: u32,
    sentence: u16,
    initial: bool,
    grounded: bool,
    sentence_hash: u64
});
codec_struct!(Instruction { response: u64, prompt: u64, grams: Vec<PromptGram>, entities: Vec<Entity>, context: Vec<(u32, u16)> });
codec_struct!(InstructionSignal { record: u64, sig: Instruction, prompt: Box<str> });
codec_struct!(Piece {
    hash: u64,
    start: u32,
    end: u32,
    start_char: u32,
    end_char: u32
});
codec_struct!(LabelDoc { words: Vec<Piece>, sentences: Vec<Piece>, pairs: Vec<u64>, head: Box<str> });

/// A ranked trigger candidate, for the summary.
#[derive(Debug, Clone, Serialize)]
pub struct TriggerCandidate {
    pub string: String,
    /// What follows it: `gibberish` or `repeated_response`.
    pub effect: &'static str,
    pub documents: u32,
    pub purity: f64,
    pub novelty: f64,
    pub score: f64,
    /// Whether it is reported as a trigger (`TRIGGER_BURST` findings).
    pub reported: bool,
    /// The label it points to (label-aware triggers).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// How strongly an entity goes with other words of its records (`ungrounded_entity`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub grounding: Option<f64>,
    /// A few records it was seen in (global record numbers).
    #[serde(skip)]
    pub evidence: Vec<u64>,
}

/// A corpus-level poisoning finding for one record.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordFinding {
    pub record: u64,
    pub kind: &'static str,
    /// Byte and char span; `None`: the whole record.
    pub span: Option<(u32, u32, u32, u32)>,
    /// The column the span points into.
    pub column: SpanColumn,
    pub score: f64,
    pub detail: String,
}

/// The column a finding's span points into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpanColumn {
    Text,
    Prompt,
    Response,
}

/// Everything `finish` decides.
#[derive(Debug, Clone, Default)]
pub struct PoisonOutcome {
    /// Per record, in [0, 1].
    pub scores: Vec<f64>,
    /// Ordered by record.
    pub findings: Vec<RecordFinding>,
    pub candidates: Vec<TriggerCandidate>,
    pub repeated_responses: u64,
}

struct Agg {
    documents: u32,
    nexts: Vec<u64>,
    tokens: [u64; MAX_GRAM],
    words: u8,
    len: u8,
    text: Box<str>,
    records: Vec<u64>,
}

/// `a` occurs inside `b`, token for token.
fn contained(a: &Agg, b: &Agg) -> bool {
    let (a, b) = (&a.tokens[..a.len as usize], &b.tokens[..b.len as usize]);
    a.len() < b.len() && b.windows(a.len()).any(|w| w == a)
}

impl PoisonState {
    /// `kept_of(record)`: the kept copy of a duplicate record (`None`: not a duplicate), when
    /// dedup ran; label conflicts are looked for among duplicates.
    pub fn finish(
        &self,
        cfg: &PoisonConfig,
        kept_of: Option<&(dyn Fn(u64) -> Option<u64> + Sync)>,
    ) -> PoisonOutcome {
        let n = self.records as usize;
        let mut out = PoisonOutcome {
            scores: vec![0.0; n],
            ..PoisonOutcome::default()
        };
        for &(r, s) in &self.injections {
            out.scores[r as usize] = out.scores[r as usize].max(f64::from(s));
        }
        self.bursts(cfg, &mut out);
        self.instructions(cfg, &mut out);
        self.entities(cfg, &mut out);
        self.labelled(cfg, kept_of, &mut out);
        out.findings.sort_by_key(|f| f.record);
        out.candidates.sort_by(|a, b| {
            b.reported
                .cmp(&a.reported)
                .then(b.score.total_cmp(&a.score))
        });
        out.candidates.truncate(cfg.candidates_listed);
        out
    }

    fn bursts(&self, cfg: &PoisonConfig, out: &mut PoisonOutcome) {
        let mut agg: HashMap<u64, Agg> = HashMap::new();
        for b in &self.bursts {
            for l in &b.candidates {
                let a = agg.entry(l.c.hash).or_insert_with(|| Agg {
                    documents: 0,
                    nexts: Vec::new(),
                    tokens: l.c.tokens,
                    words: l.c.words,
                    len: l.c.len,
                    text: l.text.clone(),
                    records: Vec::new(),
                });
                a.documents += 1;
                a.nexts.push(l.c.next);
                a.records.push(b.record);
            }
        }
        // Scored candidates seen in enough documents, best first (longer first on ties).
        let mut ranked: Vec<(f64, f64, f64, u64)> = agg
            .iter_mut()
            .filter(|(_, a)| a.documents >= 2)
            .map(|(&h, a)| {
                // An n-gram occurs no more often than its rarest token or pair of tokens.
                let toks = &a.tokens[..a.len as usize];
                let word = |i: usize| a.words >> i & 1 == 1;
                let rarest = (0..toks.len())
                    .filter(|&i| word(i))
                    .map(|i| self.tokens.get(toks[i]))
                    .chain(
                        (1..toks.len())
                            .filter(|&i| word(i - 1) || word(i))
                            .map(|i| {
                                self.tokens
                                    .get(crate::detect::poison::pair_hash(toks[i - 1], toks[i]))
                            }),
                    )
                    .min()
                    .unwrap_or(0)
                    .max(a.documents);
                let purity = f64::from(a.documents) / f64::from(rarest);
                a.nexts.sort_unstable();
                a.nexts.dedup();
                let novelty = a.nexts.len() as f64 / f64::from(a.documents);
                (
                    f64::from(a.documents) * purity * novelty,
                    purity,
                    novelty,
                    h,
                )
            })
            .collect();
        ranked.sort_by(|a, b| {
            b.0.total_cmp(&a.0)
                .then(agg[&b.3].len.cmp(&agg[&a.3].len))
                .then(a.3.cmp(&b.3))
        });
        // Keep the longest form of each trigger: a shorter candidate inside a kept one with about
        // the same documents is the same trigger; a longer one replaces it.
        let mut kept: Vec<(f64, f64, f64, u64)> = Vec::new();
        let mut alias: HashMap<u64, u64> = HashMap::new();
        for r in ranked {
            let a = &agg[&r.3];
            let near = |k: &Agg| {
                let (x, y) = (f64::from(a.documents), f64::from(k.documents));
                x.min(y) >= 0.8 * x.max(y)
            };
            if let Some(k) = kept
                .iter()
                .position(|k| contained(a, &agg[&k.3]) && near(&agg[&k.3]))
            {
                alias.insert(r.3, kept[k].3);
                continue;
            }
            if let Some(k) = kept
                .iter()
                .position(|k| contained(&agg[&k.3], a) && near(&agg[&k.3]))
            {
                alias.insert(kept[k].3, r.3);
                kept[k].3 = r.3;
                continue;
            }
            kept.push(r);
            if kept.len() >= 4 * cfg.candidates_listed.max(1) {
                break;
            }
        }
        let min_docs = f64::from(cfg.min_documents);
        let mut triggers: HashMap<u64, usize> = HashMap::new();
        for (score, purity, novelty, h) in kept {
            let a = &agg[&h];
            let reported = f64::from(a.documents) >= min_docs
                && purity >= 0.5
                && novelty >= 0.5
                && score >= min_docs;
            if reported {
                triggers.insert(h, out.candidates.len());
            }
            out.candidates.push(TriggerCandidate {
                string: a.text.to_string(),
                effect: "gibberish",
                documents: a.documents,
                purity: round3(purity),
                novelty: round3(novelty),
                score: round3(score),
                reported,
                label: None,
                grounding: None,
                evidence: a.records.iter().take(10).copied().collect(),
            });
        }
        for (from, to) in alias.clone() {
            let mut t = to;
            while let Some(&next) = alias.get(&t) {
                if next == t {
                    break;
                }
                t = next;
            }
            alias.insert(from, t);
        }
        for b in &self.bursts {
            let r = b.record as usize;
            let hit = b
                .candidates
                .iter()
                .find_map(|l| {
                    let h = alias.get(&l.c.hash).copied().unwrap_or(l.c.hash);
                    let span = (l.c.start, l.c.end, l.start_char, l.end_char);
                    triggers.get(&h).map(|&i| (i, span))
                })
                .or_else(|| trigger_in_reach(&b.reach, &triggers, &alias));
            let jump = f64::from(b.jump);
            if let Some((i, span)) = hit {
                let t = &out.candidates[i];
                out.findings.push(RecordFinding {
                    record: b.record,
                    kind: crate::detect::poison::TRIGGER_BURST,
                    span: Some(span),
                    column: SpanColumn::Text,
                    score: 0.9,
                    detail: serde_json::json!({
                        "trigger": t.string,
                        "effect": t.effect,
                        "documents": t.documents,
                        "purity": t.purity,
                    })
                    .to_string(),
                });
                out.scores[r] = out.scores[r].max(0.7 + 0.3 * jump);
            } else {
                out.scores[r] = out.scores[r].max(0.5 * jump);
            }
            if b.jump >= cfg.gibberish_threshold {
                out.findings.push(RecordFinding {
                    record: b.record,
                    kind: crate::detect::poison::GIBBERISH,
                    span: Some((b.start, b.end, b.start_char, b.end_char)),
                    column: SpanColumn::Text,
                    score: jump,
                    detail: serde_json::json!({ "jump": round3(jump) }).to_string(),
                });
            }
        }
    }

    fn instructions(&self, cfg: &PoisonConfig, out: &mut PoisonOutcome) {
        if self.instructions.is_empty() {
            return;
        }
        // Responses and the distinct prompts they answer.
        let mut groups: HashMap<u64, Vec<u64>> = HashMap::new();
        let mut gram_df: HashMap<u64, u32> = HashMap::new();
        for s in &self.instructions {
            groups.entry(s.sig.response).or_default().push(s.sig.prompt);
            for g in &s.sig.grams {
                *gram_df.entry(g.hash).or_default() += 1;
            }
        }
        let mut distinct: HashMap<u64, u32> = HashMap::with_capacity(groups.len());
        for (r, mut p) in groups {
            p.sort_unstable();
            p.dedup();
            distinct.insert(r, p.len() as u32);
        }
        let repeated = |r: &u64| distinct[r] >= cfg.min_response_prompts;
        // Prompt phrases that come with one repeated response: (gram, response) → evidence.
        struct Pair {
            documents: u32,
            grounded: u32,
            example: (usize, u32, u32),
            records: Vec<u64>,
        }
        let mut pairs: HashMap<(u64, u64), Pair> = HashMap::new();
        for (i, s) in self.instructions.iter().enumerate() {
            if !repeated(&s.sig.response) {
                continue;
            }
            for g in s.sig.grams.iter().filter(|g| g.wordy) {
                let p = pairs.entry((g.hash, s.sig.response)).or_insert(Pair {
                    documents: 0,
                    grounded: 0,
                    example: (i, g.start, g.end),
                    records: Vec::new(),
                });
                p.documents += 1;
                p.grounded += u32::from(g.grounded);
                p.records.push(s.record);
            }
        }
        // The best ungrounded phrase per response, if it is pure enough to be a trigger.
        let mut best: HashMap<u64, (f64, u64, f64)> = HashMap::new();
        for (&(g, r), p) in &pairs {
            let purity = f64::from(p.documents) / f64::from(gram_df[&g].max(1));
            let ungrounded = 1.0 - f64::from(p.grounded) / f64::from(p.documents);
            let score = f64::from(p.documents) * purity * ungrounded;
            let e = best.entry(r).or_insert((0.0, g, 0.0));
            if score > e.0 || (score == e.0 && g < e.1) {
                *e = (score, g, purity);
            }
        }
        // Response → (candidate index, prompt gram).
        let mut trigger_of: HashMap<u64, (usize, u64)> = HashMap::new();
        let mut by_response: Vec<_> = best.into_iter().collect();
        by_response.sort_by(|a, b| b.1 .0.total_cmp(&a.1 .0).then(a.0.cmp(&b.0)));
        for (r, (score, g, purity)) in by_response {
            let p = &pairs[&(g, r)];
            if f64::from(p.documents) < 2.0 {
                continue;
            }
            let (i, s, e) = p.example;
            let prompt = &self.instructions[i].prompt;
            let string = prompt
                .get(s as usize..e as usize)
                .unwrap_or_default()
                .to_string();
            let reported = p.documents >= cfg.min_documents.min(cfg.min_response_prompts + 2)
                && purity >= 0.8
                && score >= 0.5 * f64::from(p.documents);
            if reported {
                trigger_of.insert(r, (out.candidates.len(), g));
            }
            out.candidates.push(TriggerCandidate {
                string,
                effect: "repeated_response",
                documents: p.documents,
                purity: round3(purity),
                novelty: 1.0,
                score: round3(score),
                reported,
                label: None,
                grounding: None,
                evidence: p.records.iter().take(10).copied().collect(),
            });
        }
        for s in &self.instructions {
            let k = distinct[&s.sig.response];
            if k < cfg.min_response_prompts {
                continue;
            }
            let r = s.record as usize;
            out.repeated_responses += 1;
            let trigger = trigger_of
                .get(&s.sig.response)
                .map(|&(i, g)| (out.candidates[i].clone(), g));
            let base = (0.15 * f64::from(k).log2()).min(0.6);
            out.findings.push(RecordFinding {
                record: s.record,
                kind: crate::detect::poison::REPEATED_RESPONSE,
                span: None,
                column: SpanColumn::Text,
                score: base.max(0.3),
                detail: serde_json::json!({
                    "prompts": k,
                    "trigger": trigger.as_ref().map(|(t, _)| t.string.clone()),
                })
                .to_string(),
            });
            let mut score = base;
            let found = trigger.as_ref().and_then(|(t, gram)| {
                let g = s.sig.grams.iter().find(|g| g.hash == *gram)?;
                Some((t, *g))
            });
            if let Some((t, g)) = found {
                let (sc, ec) = char_span(&s.prompt, g.start, g.end);
                out.findings.push(RecordFinding {
                    record: s.record,
                    kind: crate::detect::poison::TRIGGER_BURST,
                    span: Some((g.start, g.end, sc, ec)),
                    column: SpanColumn::Prompt,
                    score: 0.9,
                    detail: serde_json::json!({
                        "trigger": t.string,
                        "effect": t.effect,
                        "documents": t.documents,
                        "purity": t.purity,
                    })
                    .to_string(),
                });
                score = 0.95;
            }
            out.scores[r] = out.scores[r].max(score);
        }
    }
}

/// Kullback-Leibler divergence of Bernoulli(`q`) from Bernoulli(`p`), `0 < p < 1`: the
/// exponent of the chance of seeing a share `q` where `p` is expected.
fn bernoulli_kl(q: f64, p: f64) -> f64 {
    let a = if q > 0.0 { q * (q / p).ln() } else { 0.0 };
    let b = if q < 1.0 {
        (1.0 - q) * ((1.0 - q) / (1.0 - p)).ln()
    } else {
        0.0
    };
    a + b
}

impl PoisonState {
    /// Entities that many responses name without grounding: no prompt mentions them, and no
    /// word of their records (outside the entity's own sentence) goes with them more than some
    /// word goes with random records. A product a response is about comes with its topic's
    /// words; a planted brand comes with whatever the record was about.
    ///
    /// Grounding of an entity seen in `n` records: the largest `n · KL(k_w/n ‖ p_w)` over the
    /// context words `w` of those records (`k_w` records hold `w`, a share `p_w` of all records
    /// do), less the log of how many words were tried — about 0 when no word goes with it.
    fn entities(&self, cfg: &PoisonConfig, out: &mut PoisonOutcome) {
        use crate::detect::poison::UNGROUNDED_ENTITY;
        let sigs = &self.instructions;
        if sigs.is_empty() {
            return;
        }
        let mut df: HashMap<u32, u32> = HashMap::new();
        let mut occ: crate::hash::HashMap64<Seen> = Default::default();
        for (i, s) in sigs.iter().enumerate() {
            for &(w, _) in &s.sig.context {
                *df.entry(w).or_default() += 1;
            }
            for (j, e) in s.sig.entities.iter().enumerate() {
                let o = occ.entry(e.hash).or_default();
                o.all += 1;
                o.inside += u32::from(!e.initial);
                if !e.grounded {
                    o.ungrounded.push((i as u32, j as u16));
                }
            }
        }
        let total = sigs.len() as f64;
        let mut counts: HashMap<u32, u32> = HashMap::new();
        // (grounding, the limit it was judged against, entity)
        let mut judged: Vec<(f64, f64, u64)> = Vec::new();
        for (
            &h,
            Seen {
                all,
                inside,
                ungrounded,
            },
        ) in &occ
        {
            let n = ungrounded.len();
            // A name is capitalized inside sentences too; a word that is capitalized only
            // where it opens one is an ordinary word.
            if (n as u32) < cfg.entity_min_documents
                || (n as f64) < 0.8 * f64::from(*all)
                || f64::from(*inside) < 0.25 * f64::from(*all)
            {
                continue;
            }
            counts.clear();
            for &(i, j) in ungrounded {
                let sig = &sigs[i as usize].sig;
                let own = sig.entities[j as usize].sentence;
                for &(w, at) in &sig.context {
                    if at != own && w != h as u32 {
                        *counts.entry(w).or_default() += 1;
                    }
                }
            }
            let n = n as f64;
            let evidence = counts
                .iter()
                .map(|(w, &k)| {
                    let (q, p) = (f64::from(k) / n, f64::from(df[w]) / total);
                    if q > p && p < 1.0 {
                        n * bernoulli_kl(q, p)
                    } else {
                        0.0
                    }
                })
                .fold(0.0, f64::max);
            let grounding = evidence - (counts.len().max(1) as f64).ln();
            // The same sentence around a name in many unrelated responses is a planted one:
            // that alone is evidence, so its records need less of it from their other words.
            let limit = cfg.entity_max_grounding + TEMPLATED_SLACK * templated(sigs, ungrounded);
            if grounding <= limit {
                judged.push((grounding, limit, h));
            }
        }
        judged.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.2.cmp(&b.2)));
        for (grounding, limit, h) in judged {
            let Seen {
                all, ungrounded, ..
            } = &occ[&h];
            let documents = ungrounded.len() as u32;
            let purity = f64::from(documents) / f64::from(*all);
            let name = self.entity_names.get(&h).map_or("", |n| &**n).to_string();
            // By how far it stays below its limit.
            let score = 0.6 + 0.3 * ((limit - grounding) / (limit.abs() + 3.0)).clamp(0.0, 1.0);
            for &(i, j) in ungrounded {
                let s = &sigs[i as usize];
                let e = s.sig.entities[j as usize];
                out.findings.push(RecordFinding {
                    record: s.record,
                    kind: UNGROUNDED_ENTITY,
                    span: Some((e.start, e.end, e.start_char, e.end_char)),
                    column: SpanColumn::Response,
                    score,
                    detail: serde_json::json!({
                        "entity": name,
                        "documents": documents,
                        "grounding": round3(grounding),
                    })
                    .to_string(),
                });
                let r = s.record as usize;
                out.scores[r] = out.scores[r].max(score);
            }
            out.candidates.push(TriggerCandidate {
                string: name,
                effect: "ungrounded_entity",
                documents,
                purity: round3(purity),
                novelty: 1.0,
                score: round3(f64::from(documents) * purity),
                reported: true,
                label: None,
                grounding: Some(round3(grounding)),
                evidence: ungrounded
                    .iter()
                    .take(10)
                    .map(|&(i, _)| sigs[i as usize].record)
                    .collect(),
            });
        }
    }
}

/// How much more grounding a name whose sentences all repeat may show and still be reported.
const TEMPLATED_SLACK: f64 = 2.0;

/// The share of an entity's occurrences whose sentence (`Entity::sentence_hash`) is seen in
/// another of its occurrences.
fn templated(sigs: &[InstructionSignal], occurrences: &[(u32, u16)]) -> f64 {
    let mut sentences: HashMap<u64, u32> = HashMap::new();
    let hash = |&(i, j): &(u32, u16)| sigs[i as usize].sig.entities[j as usize].sentence_hash;
    for o in occurrences {
        *sentences.entry(hash(o)).or_default() += 1;
    }
    let repeated = occurrences
        .iter()
        .filter(|o| sentences[&hash(o)] > 1)
        .count();
    repeated as f64 / occurrences.len().max(1) as f64
}

/// Where an entity was seen: records naming it, of which inside a sentence, and its
/// ungrounded occurrences as (signal, entity) indices.
#[derive(Default)]
struct Seen {
    all: u32,
    inside: u32,
    ungrounded: Vec<(u32, u16)>,
}

/// Smoothing of the label model's counts.
const ALPHA: f64 = 0.5;

impl PoisonState {
    /// Label-aware checks: a naive Bayes model of label given words, fitted on the corpus and
    /// applied to each record with the record itself left out, and a cross-fitted softmax
    /// regression (`labels`) for how much each record's own label is believed.
    /// - A record whose words point to another label than its own is likely mislabelled.
    /// - A word or sentence is a label trigger when its documents nearly all carry one label
    ///   while the rest of their words point elsewhere (a topic's own words point to the label
    ///   they come with, so they do not rank).
    /// - Duplicates (dedup) with different labels are a `LABEL_CONFLICT`.
    fn labelled(
        &self,
        cfg: &PoisonConfig,
        kept_of: Option<&(dyn Fn(u64) -> Option<u64> + Sync)>,
        out: &mut PoisonOutcome,
    ) {
        let nl = self.label_names.len();
        if self.labels.is_empty() || nl < 2 {
            return;
        }
        let docs = self.labels.len();
        let mut label_docs = vec![0u32; nl];
        // Words counted once per document, per label.
        let mut counts: crate::hash::HashMap64<Vec<u32>> = Default::default();
        let mut totals = vec![0u64; nl];
        for (_, l, d) in &self.labels {
            label_docs[*l as usize] += 1;
            totals[*l as usize] += d.words.len() as u64;
            for w in &d.words {
                counts.entry(w.hash).or_insert_with(|| vec![0; nl])[*l as usize] += 1;
            }
        }
        let vocab = counts.len() as f64;
        // Multinomial naive Bayes over each document's distinct words, leaving the document
        // itself out. Logarithms taken once: per word, `ln(c + α)` for each label and then
        // `ln(c - 1 + α)` (the count without the document); per label, its log denominator.
        let counts: crate::hash::HashMap64<Box<[f64]>> = counts
            .into_iter()
            .map(|(w, c)| {
                let with = c.iter().map(|&c| (f64::from(c) + ALPHA).ln());
                let without = c
                    .iter()
                    .map(|&c| (f64::from(c.saturating_sub(1)) + ALPHA).ln());
                (w, with.chain(without).collect())
            })
            .collect();
        let den: Vec<f64> = totals
            .iter()
            .map(|&n| (n as f64 + ALPHA * vocab).ln())
            .collect();
        // A document's label and the log denominator of that label without it.
        let own = |i: usize| {
            let (_, y, d) = &self.labels[i];
            let y = *y as usize;
            let n = totals[y].saturating_sub(d.words.len() as u64) as f64;
            (y, (n + ALPHA * vocab).ln())
        };
        let term = |c: &[f64], l: usize, own: (usize, f64)| -> f64 {
            if own.0 == l {
                c[nl + l] - own.1
            } else {
                c[l] - den[l]
            }
        };
        let ll: Vec<Vec<f64>> = {
            use rayon::prelude::*;
            (0..docs)
                .into_par_iter()
                .map(|i| {
                    let o = own(i);
                    let d = &self.labels[i].2;
                    (0..nl)
                        .map(|l| {
                            let minus = u32::from(l == o.0);
                            (f64::from(label_docs[l] - minus) + ALPHA).ln()
                                + d.words
                                    .iter()
                                    .map(|w| term(&counts[&w.hash], l, o))
                                    .sum::<f64>()
                        })
                        .collect()
                })
                .collect()
        };
        // (P(own label is wrong), log-odds of the best other label over it) of record `i`
        // without the words `skip` says to leave out.
        // Record `i`'s log-likelihoods without the words `skip` says to leave out.
        let adjusted = |i: usize, skip: &dyn Fn(&crate::detect::poison::Piece) -> bool| {
            let o = own(i);
            let mut v = ll[i].clone();
            for w in self.labels[i].2.words.iter().filter(|w| skip(w)) {
                let c = &counts[&w.hash];
                for (l, x) in v.iter_mut().enumerate() {
                    *x -= term(c, l, o);
                }
            }
            v
        };
        // (P(own label is wrong), log-odds of the best other label over it).
        let verdict = |i: usize, v: &[f64]| {
            let y = own(i).0;
            let m = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let z: f64 = v.iter().map(|x| (x - m).exp()).sum();
            (1.0 - (v[y] - m).exp() / z, m - v[y])
        };

        // Trigger candidates: words and sentences, with their documents per label.
        let mut postings: HashMap<(bool, u64), Vec<u32>> = HashMap::new();
        for (i, (_, _, d)) in self.labels.iter().enumerate() {
            for w in &d.words {
                postings.entry((false, w.hash)).or_default().push(i as u32);
            }
            for s in &d.sentences {
                let p = postings.entry((true, s.hash)).or_default();
                if p.last() != Some(&(i as u32)) {
                    p.push(i as u32);
                }
            }
        }
        let min_docs = cfg.min_documents as usize;
        // Candidates seen in fewer documents are kept only to be grouped with others.
        let seen_docs = (min_docs / 2).max(2);
        // The words a candidate stands for in document `i`: itself, or a sentence's words
        // (a document's words are in order of their first occurrence, so those first seen in
        // a sentence are one run of them).
        let covered = |key: (bool, u64), i: usize| {
            let d = &self.labels[i].2;
            let (words, end) = if key.0 {
                match d.sentences.iter().find(|s| s.hash == key.1) {
                    Some(s) => {
                        let lo = d.words.partition_point(|w| w.start < s.start);
                        let hi = d.words.partition_point(|w| w.start < s.end);
                        (&d.words[lo..hi], Some(s.end))
                    }
                    None => (&d.words[..0], None),
                }
            } else {
                (&d.words[..], None)
            };
            words.iter().filter(move |w| match end {
                Some(end) => w.end <= end,
                None => w.hash == key.1,
            })
        };
        // Scores every candidate; `excluded` words are left out of every judgement.
        let rank = |excluded: &std::collections::HashSet<u64>| {
            use rayon::prelude::*;
            let kept: Vec<Vec<f64>> = (0..docs)
                .into_par_iter()
                .map(|i| adjusted(i, &|w| excluded.contains(&w.hash)))
                .collect();
            let judged: Vec<(f64, f64)> = (0..docs).map(|i| verdict(i, &kept[i])).collect();
            // Each label's share of firmly contradicted records.
            let mut base = vec![(0.0f64, 0u32); nl];
            for (i, (_, y, _)) in self.labels.iter().enumerate() {
                base[*y as usize].0 += firm(judged[i].0);
                base[*y as usize].1 += 1;
            }
            let mut ranked: Vec<Ranked> = postings
                .par_iter()
                .filter(|(_, p)| p.len() >= seen_docs)
                .filter_map(|(&key, p)| {
                    let mut per = vec![0usize; nl];
                    for &i in p {
                        per[self.labels[i as usize].1 as usize] += 1;
                    }
                    let (l, &n) = per.iter().enumerate().max_by_key(|(_, n)| **n)?;
                    let purity = n as f64 / p.len() as f64;
                    if n < seen_docs || purity < 0.5 {
                        return None;
                    }
                    let mut others = vec![0u32; nl];
                    let (wrongness, firmly) = p
                        .iter()
                        .map(|&i| i as usize)
                        .filter(|&i| self.labels[i].1 as usize == l)
                        .map(|i| {
                            // Without the candidate's own words (those not left out already).
                            let o = own(i);
                            let mut v = kept[i].clone();
                            let mut drop = |h: u64| {
                                let c = &counts[&h];
                                for (l, x) in v.iter_mut().enumerate() {
                                    *x -= term(c, l, o);
                                }
                            };
                            if !key.0 {
                                if !excluded.contains(&key.1) {
                                    drop(key.1);
                                }
                            } else {
                                for w in covered(key, i) {
                                    if !excluded.contains(&w.hash) {
                                        drop(w.hash);
                                    }
                                }
                            }
                            let y = own(i).0;
                            if let Some(b) = (0..nl)
                                .filter(|&k| k != y)
                                .max_by(|&a, &b| v[a].total_cmp(&v[b]))
                            {
                                others[b] += 1;
                            }
                            let w = verdict(i, &v).0;
                            (w, firm(w))
                        })
                        .fold((0.0, 0.0), |a, x| (a.0 + x.0, a.1 + x.1));
                    let (wrongness, firmly) = (wrongness / n as f64, firmly / n as f64);
                    let lift = firmly - base[l].0 / f64::from(base[l].1.max(1));
                    Some(Ranked {
                        score: (n as f64).sqrt() * purity * lift.max(0.0),
                        keys: vec![key],
                        label: l,
                        documents: n,
                        purity,
                        wrongness,
                        lift,
                        others,
                    })
                })
                .collect();
            ranked.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.keys.cmp(&b.keys)));
            (ranked, judged)
        };
        let suspicious = |r: &Ranked| r.purity >= 0.7 && r.lift >= 0.25;
        // Two rounds: the first round's most suspicious words are left out of the model, so
        // that words planted together do not vouch for each other.
        let (first, _) = rank(&Default::default());
        let mut excluded = std::collections::HashSet::new();
        for r in first
            .iter()
            .filter(|r| suspicious(r))
            .take(4 * cfg.candidates_listed.max(1))
        {
            let key = r.keys[0];
            let p = &postings[&key];
            for &i in p.iter().take(50) {
                excluded.extend(covered(key, i as usize).map(|w| w.hash));
            }
        }
        // Each record judged without the left-out words: the scores of mislabelled records.
        let (mut ranked, judged) = rank(&excluded);
        // A word inside a ranked sentence with about its documents of the sentence's label is
        // that sentence, as a candidate for that label (in other labels the word may be
        // ordinary, or planted elsewhere).
        let mut dropped = std::collections::HashSet::new();
        for r in ranked.iter().filter(|r| r.keys[0].0) {
            let first = postings[&r.keys[0]][0] as usize;
            for w in covered(r.keys[0], first) {
                if let Some(q) = postings.get(&(false, w.hash)) {
                    // Counted only up to the bound: a common word passes it early.
                    let bound = (1.25 * r.documents as f64) as usize;
                    let with_label = q
                        .iter()
                        .filter(|&&i| self.labels[i as usize].1 as usize == r.label)
                        .take(bound + 1)
                        .count();
                    if with_label <= bound {
                        dropped.insert(((false, w.hash), r.label));
                    }
                }
            }
        }
        ranked.retain(|r| !dropped.contains(&(r.keys[0], r.label)));
        let ranked = group_words(ranked, &suspicious, &postings, |i| {
            self.labels[i].1 as usize
        });
        let ranked: Vec<Ranked> = ranked
            .into_iter()
            .filter(|r| r.documents >= min_docs)
            .take(4 * cfg.candidates_listed.max(1))
            .collect();
        // A trigger's strength: how far its score stands above the typical listed candidate's
        // (planted triggers stand out; natural label words crowd together).
        let reference = {
            let mut top: Vec<f64> = ranked
                .iter()
                .take(cfg.candidates_listed.max(1))
                .map(|r| r.score)
                .collect();
            top.sort_unstable_by(f64::total_cmp);
            top.get(top.len() / 2).copied().unwrap_or(1.0).max(1e-9)
        };
        // Of the candidates standing out, those above the last wide gap in scores: natural
        // phrases form a continuum below it, planted triggers stand apart from it.
        let apart = {
            let score = |i: usize| ranked.get(i).map_or(0.0, |r| r.score);
            let standing = ranked
                .iter()
                .take_while(|r| r.score >= STANDOUT * reference)
                .count();
            (0..standing)
                .rev()
                .find(|&i| score(i) >= GAP * score(i + 1))
        };
        // How much a candidate's documents (of its label) share their rarer words besides its
        // own: the mean Dice overlap over pairs of them. A planted trigger sits in unrelated
        // documents; a phrase of one family of packages sits in siblings sharing their words.
        let rare = (docs / 100).max(10);
        let cohesion = |r: &Ranked| {
            let mut with: Vec<u32> = r
                .keys
                .iter()
                .flat_map(|k| postings[k].iter().copied())
                .filter(|&i| self.labels[i as usize].1 as usize == r.label)
                .collect();
            with.sort_unstable();
            with.dedup();
            with.truncate(COHESION_SAMPLE);
            let own: std::collections::HashSet<u64> = r
                .keys
                .iter()
                .flat_map(|&k| with.iter().flat_map(move |&i| covered(k, i as usize)))
                .map(|w| w.hash)
                .collect();
            let sets: Vec<Vec<u64>> = with
                .iter()
                .map(|&i| {
                    let mut v: Vec<u64> = self.labels[i as usize]
                        .2
                        .words
                        .iter()
                        .map(|w| w.hash)
                        .filter(|h| !own.contains(h) && postings[&(false, *h)].len() <= rare)
                        .collect();
                    v.sort_unstable();
                    v
                })
                .collect();
            let (mut sum, mut pairs) = (0.0, 0u32);
            for (x, a) in sets.iter().enumerate() {
                for b in &sets[x + 1..] {
                    if a.len() + b.len() > 0 {
                        let shared = crate::detect::dedup::shared(a, b);
                        sum += 2.0 * shared as f64 / (a.len() + b.len()) as f64;
                    }
                    pairs += 1;
                }
            }
            sum / f64::from(pairs.max(1))
        };
        // Whether a candidate's documents mostly fit one other label: a family of packages
        // filed apart from their topic. A planted trigger's documents were taken from across
        // the other labels, so the labels they fit are about as varied as the other labels'
        // records are; `SPREAD` of that is the least a trigger is allowed.
        let expected: Vec<f64> = (0..nl)
            .map(|l| variety((0..nl).filter(|&k| k != l).map(|k| label_docs[k])))
            .collect();
        let one_topic = |r: &Ranked| variety(r.others.iter().copied()) < SPREAD * expected[r.label];
        let mut triggers: HashMap<(bool, u64), (usize, usize, f64)> = HashMap::new();
        for (at, r) in ranked.iter().enumerate() {
            let name = |key: &(bool, u64)| {
                let p = &postings[key];
                let d = &self.labels[p[0] as usize].2;
                let list = if key.0 { &d.sentences } else { &d.words };
                list.iter()
                    .find(|x| x.hash == key.1)
                    .and_then(|x| d.text_of(x))
                    .unwrap_or_default()
                    .to_string()
            };
            let string = r.keys.iter().map(name).collect::<Vec<_>>().join(" ");
            // Reported when it also stands apart from the typical listed candidate and its
            // documents are not one family of siblings.
            let reported = r.purity >= 0.7
                && r.wrongness >= 0.5
                && r.lift >= 0.25
                && r.score >= 1.5
                && apart.is_some_and(|last| at <= last)
                && !one_topic(r)
                && cohesion(r) < COHESION;
            if reported {
                for k in &r.keys {
                    let strength = (r.score / reference - 1.0).clamp(0.0, 1.0);
                    triggers.insert(*k, (out.candidates.len(), r.label, strength));
                }
            }
            let mut evidence: Vec<u64> = r
                .keys
                .iter()
                .flat_map(|k| postings[k].iter().map(|&i| self.labels[i as usize].0))
                .collect();
            evidence.sort_unstable();
            evidence.dedup();
            evidence.truncate(10);
            out.candidates.push(TriggerCandidate {
                string,
                effect: "label",
                documents: r.documents as u32,
                purity: round3(r.purity),
                novelty: round3(r.wrongness),
                score: round3(r.score),
                reported,
                label: Some(self.label_names[r.label].to_string()),
                grounding: None,
                evidence,
            });
        }
        // The reported trigger (candidate, occurrence, strength) each record carries for its
        // own label.
        let hits: Vec<Option<(usize, &Piece, f64)>> = self
            .labels
            .iter()
            .map(|(_, y, d)| {
                d.sentences
                    .iter()
                    .map(|x| (true, x))
                    .chain(d.words.iter().map(|x| (false, x)))
                    .find_map(|(sent, x)| {
                        let &(c, l, strength) = triggers.get(&(sent, x.hash))?;
                        (l == *y as usize).then_some((c, x, strength))
                    })
            })
            .collect();
        // How much probability the words give a record's label, judged without the record's
        // own label (a cross-fitted regression and the labels of its nearest records); the
        // records carrying a trigger teach nothing (their labels are the attacker's).
        let p_own = super::labels::own_label_probability(
            &self
                .labels
                .iter()
                .zip(&hits)
                .map(|((_, y, d), hit)| super::labels::LabelledFeatures {
                    label: *y as usize,
                    trusted: hit.is_none(),
                    words: &d.words,
                    pairs: &d.pairs,
                })
                .collect::<Vec<_>>(),
            nl,
        );
        // A record's own label judged with every word (the words left out above are the ones
        // that tell labels apart best, and a record relabelled without a trigger is caught by
        // them): its rejection, squashed into [0, 0.95).
        let reject = |i: usize| {
            // Nats by which the label's probability is below chance.
            let below = (1.0 / (p_own[i] * nl as f64).max(1e-12)).ln().max(0.0);
            1.0 - (-below / BELOW_CHANCE).exp()
        };
        let p_wrong: Vec<f64> = judged.iter().map(|j| j.0).collect();
        for (i, (record, _, _)) in self.labels.iter().enumerate() {
            let r = *record as usize;
            let mut score = 0.95 * reject(i);
            if let Some((c, x, strength)) = hits[i] {
                let t = &out.candidates[c];
                out.findings.push(RecordFinding {
                    record: *record,
                    kind: crate::detect::poison::TRIGGER_BURST,
                    span: Some((x.start, x.end, x.start_char, x.end_char)),
                    column: SpanColumn::Text,
                    score: 0.9,
                    detail: serde_json::json!({
                        "trigger": t.string,
                        "effect": t.effect,
                        "label": t.label,
                        "documents": t.documents,
                        "purity": t.purity,
                    })
                    .to_string(),
                });
                // A reported trigger is corpus-level evidence: it ranks above nearly every
                // record's own mislabel suspicion (below 0.95), and highest where the rest of
                // the record looks like another label (a natural carrier's does not).
                score = score.max(0.9 + 0.04 * strength + 0.06 * p_wrong[i]);
            }
            out.scores[r] = out.scores[r].max(score);
        }
        // Duplicates whose labels differ from their kept copy's.
        if let Some(kept_of) = kept_of {
            let at: HashMap<u64, usize> = self
                .labels
                .iter()
                .enumerate()
                .map(|(i, (r, _, _))| (*r, i))
                .collect();
            let mut conflicts: Vec<(usize, usize)> = Vec::new();
            for (i, (record, y, _)) in self.labels.iter().enumerate() {
                let Some(k) = kept_of(*record).filter(|k| k != record) else {
                    continue;
                };
                if let Some(&j) = at.get(&k) {
                    if self.labels[j].1 != *y {
                        conflicts.push((i, j));
                    }
                }
            }
            // Label pairs that often disagree between copies are a labelling convention (two
            // sections sharing descriptions); a rare pair is a planted conflict.
            let pair = |i: usize, j: usize| {
                let (a, b) = (self.labels[i].1, self.labels[j].1);
                (a.min(b), a.max(b))
            };
            let mut pairs: HashMap<(u16, u16), u32> = HashMap::new();
            for &(i, j) in &conflicts {
                *pairs.entry(pair(i, j)).or_default() += 1;
            }
            let total = conflicts.len() as f64;
            // How much more record `me`'s words (naive Bayes without it) favour its own label
            // than the other copy's (reported as `label_margin`).
            let margin = |me: usize, them: usize| {
                let (a, b) = (self.labels[me].1 as usize, self.labels[them].1 as usize);
                ll[me][a] - ll[me][b]
            };
            for &(i, j) in &conflicts {
                let share = f64::from(pairs[&pair(i, j)]) / total;
                // Against the share of one pair if conflicts fell on label pairs at random.
                let excess = share * (nl * (nl - 1) / 2) as f64;
                let rarity = (1.0 - (excess - 1.5) / CONVENTION_EXCESS).clamp(0.0, 1.0);
                let (mi, mj) = (margin(i, j), margin(j, i));
                // The copies' words are nearly the same. The relabelled one is the copy that
                // shows edits the other lacks (words capitalised against the other's usage);
                // failing that, the one whose label the regression (fitted without it)
                // believes less.
                let (di, dj) = (&self.labels[i].2, &self.labels[j].2);
                let (ei, ej) = (case_edits(di, dj), case_edits(dj, di));
                let fi = if ei == ej {
                    p_own[i] <= p_own[j]
                } else {
                    ei > ej
                };
                // Edits seen on one side only say which copy was derived, whatever its words.
                let derived = 1.0 - 0.5f64.powi(ei.abs_diff(ej) as i32);
                for (me, them, m, flipped) in [(i, j, mi, fi), (j, i, mj, !fi)] {
                    let rec = self.labels[me].0;
                    out.findings.push(RecordFinding {
                        record: rec,
                        kind: crate::detect::poison::LABEL_CONFLICT,
                        span: None,
                        column: SpanColumn::Text,
                        score: round3((0.5 + 0.5 * rarity) * if flipped { 1.0 } else { 0.6 }),
                        detail: serde_json::json!({
                            "label": self.label_names[self.labels[me].1 as usize].to_string(),
                            "other_record": self.labels[them].0,
                            "other_label": self.label_names[self.labels[them].1 as usize].to_string(),
                            "pair_share": round3(share),
                            "likely_flipped": flipped,
                            "label_margin": round3(m),
                        })
                        .to_string(),
                    });
                    if flipped {
                        let s = &mut out.scores[rec as usize];
                        // How far its own words reject its label for the other copy's: a
                        // copy relabelled at random is rejected; two sections sharing a
                        // description are not, and then the conflict alone ranks below most
                        // records whose words reject their label.
                        let unfit = rejection(-m, self.labels[me].2.words.len())
                            .max(reject(me))
                            .max(derived);
                        *s = s.max(rarity * (0.2 + 0.75 * unfit));
                    }
                }
            }
        }
    }
}

/// How many times the typical listed label candidate's score a label trigger must reach to
/// be reported.
const STANDOUT: f64 = 1.33;

/// The ratio between consecutive label-candidate scores that separates planted triggers from
/// the continuum of natural phrases below them.
const GAP: f64 = 1.15;

/// Documents of a label-trigger candidate compared for cohesion (all pairs of them).
const COHESION_SAMPLE: usize = 40;

/// The cohesion (mean Dice overlap of rarer words) from which a candidate's documents are one
/// family: unrelated documents share about 0.01, sibling packages 0.15 and more.
const COHESION: f64 = 0.1;

/// The least share of the expected variety of labels a trigger's documents fit (see
/// `one_topic`).
const SPREAD: f64 = 0.5;

/// The Gini-Simpson variety of `counts`: the chance that two items drawn from them (with
/// replacement) fall in different classes; 0 when there are none.
fn variety(counts: impl Iterator<Item = u32> + Clone) -> f64 {
    let total: f64 = counts.clone().map(f64::from).sum();
    if total == 0.0 {
        return 0.0;
    }
    1.0 - counts.map(|c| (f64::from(c) / total).powi(2)).sum::<f64>()
}

/// How firmly a record's other words contradict its label, from the probability `w` that the
/// label is wrong: near 1 only when nearly sure (`w` = 0.999 gives 0.90, 0.99 gives 0.37,
/// 0.95 gives 0.006). A planted trigger's documents were taken from other labels, so nearly all
/// of them are contradicted firmly; the documents of a natural phrase, even a family of
/// packages filed apart from their topic, are mostly judgement calls. The share of firm
/// contradictions is also fair across labels, where the mean probability is not: a label
/// sharing its topics with others has a high mean, which hid the triggers aimed at it.
fn firm(w: f64) -> f64 {
    w.powi(100)
}

/// Log-odds per word against a record's label at which its rejection reaches 63 %.
const MISLABEL_ODDS: f64 = std::f64::consts::LN_2;

/// How firmly a record's words reject its label, in [0, 1), from the log-odds against it
/// (`odds`, none when negative) per word: a long record piles up odds from many weak words, a
/// relabelled one is contradicted by nearly every word.
fn rejection(odds: f64, words: usize) -> f64 {
    1.0 - (-odds.max(0.0) / words.max(1) as f64 / MISLABEL_ODDS).exp()
}

/// Nats below chance (`1 / labels`) at which the regression's rejection of a label reaches 63 %.
const BELOW_CHANCE: f64 = 2.0;

/// A label pair whose share of all label conflicts is this many times (plus 1.5) the share
/// of a pair drawn at random is a labelling convention, not a conflict.
const CONVENTION_EXCESS: f64 = 4.5;

/// A label-trigger candidate: one word or sentence, or a group of words planted together.
#[derive(Debug, Clone)]
struct Ranked {
    score: f64,
    /// `(is sentence, hash)` of its members.
    keys: Vec<(bool, u64)>,
    label: usize,
    /// Documents with the label.
    documents: usize,
    purity: f64,
    /// Mean probability that those documents' other words point to another label.
    wrongness: f64,
    /// The share of those documents whose other words firmly point to another label, above
    /// the share among all the label's documents.
    lift: f64,
    /// How many of those documents each other label fits best (a document counted once per
    /// member of a group holding it).
    others: Vec<u32>,
}

/// Merges suspicious words of one label that occur together in its documents (rare tokens
/// planted as a set) into one candidate over the union of their documents; the rest pass
/// unchanged. Best first.
fn group_words(
    ranked: Vec<Ranked>,
    suspicious: &dyn Fn(&Ranked) -> bool,
    postings: &HashMap<(bool, u64), Vec<u32>>,
    label_of: impl Fn(usize) -> usize,
) -> Vec<Ranked> {
    let (words, mut rest): (Vec<Ranked>, Vec<Ranked>) = ranked
        .into_iter()
        .partition(|r| !r.keys[0].0 && suspicious(r));
    // The suspicious words in each document of their label.
    let mut in_doc: HashMap<u32, Vec<usize>> = HashMap::new();
    for (k, w) in words.iter().enumerate() {
        for &d in &postings[&w.keys[0]] {
            if label_of(d as usize) == w.label {
                in_doc.entry(d).or_default().push(k);
            }
        }
    }
    // How many of each word's documents hold another suspicious word.
    let mut together = vec![0usize; words.len()];
    for ks in in_doc.values().filter(|ks| ks.len() > 1) {
        for &k in ks {
            together[k] += 1;
        }
    }
    // Union-find over the words that mostly occur beside others, joined by a shared document:
    // planted tokens travel together, while a natural word seen once beside them stays out
    // (its other documents would count as the trigger's).
    let mut parent: Vec<usize> = (0..words.len()).collect();
    fn root(p: &mut [usize], mut i: usize) -> usize {
        while p[i] != i {
            p[i] = p[p[i]];
            i = p[i];
        }
        i
    }
    let grouped = |k: usize| 2 * together[k] > words[k].documents;
    let mut keys: Vec<&u32> = in_doc.keys().collect();
    keys.sort_unstable();
    for key in keys {
        let mut ks = in_doc[key].iter().copied().filter(|&k| grouped(k));
        if let Some(first) = ks.next() {
            for k in ks {
                let (a, b) = (root(&mut parent, first), root(&mut parent, k));
                parent[a.max(b)] = a.min(b);
            }
        }
    }
    let mut groups: HashMap<usize, Vec<usize>> = HashMap::new();
    for k in 0..words.len() {
        groups.entry(root(&mut parent, k)).or_default().push(k);
    }
    for (_, members) in groups {
        if members.len() == 1 {
            rest.push(words[members[0]].clone());
            continue;
        }
        let mut docs: Vec<u32> = Vec::new();
        let mut all: Vec<u32> = Vec::new();
        for &k in &members {
            let w = &words[k];
            for &d in &postings[&w.keys[0]] {
                all.push(d);
                if label_of(d as usize) == w.label {
                    docs.push(d);
                }
            }
        }
        docs.sort_unstable();
        docs.dedup();
        all.sort_unstable();
        all.dedup();
        let weight: f64 = members.iter().map(|&k| words[k].documents as f64).sum();
        let mean = |f: fn(&Ranked) -> f64| {
            members
                .iter()
                .map(|&k| f(&words[k]) * words[k].documents as f64)
                .sum::<f64>()
                / weight
        };
        let purity = docs.len() as f64 / all.len() as f64;
        let (wrongness, lift) = (mean(|r| r.wrongness), mean(|r| r.lift));
        let mut others = vec![0u32; words[members[0]].others.len()];
        for &k in &members {
            for (o, c) in others.iter_mut().zip(&words[k].others) {
                *o += c;
            }
        }
        let mut keys: Vec<(usize, (bool, u64))> = members
            .iter()
            .map(|&k| (words[k].documents, words[k].keys[0]))
            .collect();
        keys.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        rest.push(Ranked {
            score: (docs.len() as f64).sqrt() * purity * lift.max(0.0),
            keys: keys.into_iter().map(|k| k.1).collect(),
            label: words[members[0]].label,
            documents: docs.len(),
            purity,
            wrongness,
            lift,
            others,
        });
    }
    rest.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.keys.cmp(&b.keys)));
    rest
}

fn char_span(text: &str, start: u32, end: u32) -> (u32, u32) {
    let b = text.as_bytes();
    let c = |i: u32| crate::text::count_chars(&b[..(i as usize).min(b.len())]) as u32;
    (c(start), c(end))
}

/// Words `a` writes in capitals (two letters or more) that `b` holds written otherwise, each
/// word judged at its first occurrence in the kept heads.
fn case_edits(a: &LabelDoc, b: &LabelDoc) -> usize {
    let caps = |w: &str| {
        w.len() >= 2
            && w.bytes().all(|c| !c.is_ascii_lowercase())
            && w.bytes().any(|c| c.is_ascii_uppercase())
    };
    let theirs: HashMap<u64, &str> = b
        .words
        .iter()
        .filter_map(|p| Some((p.hash, b.text_of(p)?)))
        .collect();
    a.words
        .iter()
        .filter(|p| {
            a.text_of(p)
                .is_some_and(|w| caps(w) && theirs.get(&p.hash).is_some_and(|t| !caps(t)))
        })
        .count()
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variety_is_the_chance_two_draws_differ() {
        assert_eq!(variety([].into_iter()), 0.0);
        assert_eq!(variety([7].into_iter()), 0.0);
        assert!((variety([3, 3].into_iter()) - 0.5).abs() < 1e-12);
        assert!((variety([1, 1, 1, 1].into_iter()) - 0.75).abs() < 1e-12);
        assert!(variety([9, 1].into_iter()) < variety([5, 5].into_iter()));
    }

    #[test]
    fn case_edits_count_words_capitalised_against_the_other_copy() {
        let doc = |t: &str| {
            let mut tokens = Vec::new();
            crate::detect::poison::tokenize(t, &mut tokens);
            crate::detect::poison::label_doc(t, &tokens)
        };
        let original = doc("The GNU tool is greater than the sum of its parts.");
        let copy = doc("The GNU tool is GREATER than the sum OF its parts.");
        // Capitals both copies share (an acronym) are no edit.
        assert_eq!(case_edits(&copy, &original), 2);
        assert_eq!(case_edits(&original, &copy), 0);
    }

    /// Six topics labelled by topic; a family of sibling packages labelled 0, written in topic
    /// 1's words with shared words (seen in topic 1 too) and their own name `Orthy`; and a
    /// token `zqxv` planted in records of every other topic, relabelled 0.
    fn labelled_state() -> (PoisonState, Vec<u64>) {
        let mut x = 0x51f1_5eed_u64;
        let mut next = move |n: usize| (crate::hash::xorshift(&mut x) % n as u64) as usize;
        let mut state = PoisonState::default();
        let mut planted = Vec::new();
        let push = |state: &mut PoisonState, r: u64, label: usize, text: &str| {
            let mut tokens = Vec::new();
            crate::detect::poison::tokenize(text, &mut tokens);
            let doc = crate::detect::poison::label_doc(text, &tokens);
            state.push_label(r, &format!("label{label}"), doc);
        };
        let mut r = 0u64;
        for n in 0..1800 {
            let topic = n % 6;
            let mut words: Vec<String> = (0..14)
                .map(|_| match next(5) {
                    0 => format!("common{}", next(40)),
                    _ => format!("topic{topic}w{}", next(60)),
                })
                .collect();
            let mut label = topic;
            if topic == 1 && n % 37 == 0 {
                // The family's words are topic 1's too.
                words.extend((0..6).map(|k| format!("family{k}")));
            }
            if topic != 0 && n % 11 == 0 {
                words.insert(next(words.len()), "zqxv".into());
                label = 0;
                planted.push(r);
            }
            push(&mut state, r, label, &format!("{}.", words.join(" ")));
            r += 1;
        }
        for _ in 0..8 {
            let mut words: Vec<String> = (0..8).map(|_| format!("topic1w{}", next(60))).collect();
            words.extend((0..6).map(|k| format!("family{k}")));
            words.insert(next(words.len()), "Orthy".into());
            push(&mut state, r, 0, &format!("{}.", words.join(" ")));
            r += 1;
        }
        state.records = r;
        (state, planted)
    }

    #[test]
    fn a_planted_label_token_is_reported_and_a_family_s_own_name_is_not() {
        let (state, planted) = labelled_state();
        let out = state.finish(&PoisonConfig::default(), None);
        let reported: Vec<&str> = out
            .candidates
            .iter()
            .filter(|c| c.reported)
            .map(|c| c.string.as_str())
            .collect();
        assert!(reported.iter().any(|c| c.contains("zqxv")), "{reported:?}");
        assert!(
            !reported.iter().any(|c| c.contains("Orthy")),
            "{reported:?}"
        );
        let listed = out.candidates.iter().find(|c| c.string.contains("Orthy"));
        assert!(
            listed.is_some(),
            "the family's name is a candidate, just not reported"
        );
        let flagged = out
            .findings
            .iter()
            .filter(|f| f.kind == crate::detect::poison::TRIGGER_BURST)
            .map(|f| f.record)
            .collect::<std::collections::HashSet<u64>>();
        let planted: std::collections::HashSet<u64> = planted.into_iter().collect();
        assert_eq!(flagged, planted);
    }

    #[test]
    fn a_planted_token_inside_another_label_s_repeated_sentence_is_still_its_label_s_trigger() {
        // Four records of label 3 share a sentence holding the planted token: that sentence is
        // label 3's candidate, the token stays label 0's.
        let (mut state, planted) = labelled_state();
        for k in 0..4 {
            let text = format!("topic3w{k} topic3w9. Run zqxv within the pipeline now.");
            let mut tokens = Vec::new();
            crate::detect::poison::tokenize(&text, &mut tokens);
            let doc = crate::detect::poison::label_doc(&text, &tokens);
            state.push_label(state.records, "label3", doc);
            state.records += 1;
        }
        let out = state.finish(&PoisonConfig::default(), None);
        let token = out
            .candidates
            .iter()
            .find(|c| c.reported && c.string.split(' ').any(|w| w == "zqxv"));
        assert_eq!(
            token.and_then(|c| c.label.as_deref()),
            Some("label0"),
            "{:?}",
            out.candidates
        );
        assert!(token.is_some_and(|c| c.documents as usize >= planted.len()));
    }

    #[test]
    fn planted_tokens_group_and_a_word_seen_once_beside_them_does_not() {
        // Tokens 1..=3 planted one to three to a document in documents 0..30; word 9 in
        // documents 29..33 (one of them planted). All label 0.
        let mut postings: HashMap<(bool, u64), Vec<u32>> = HashMap::new();
        for d in 0..30u32 {
            for t in 1..=3u64 {
                if d % 3 == 0 || (d + t as u32) % 3 != 0 {
                    postings.entry((false, t)).or_default().push(d);
                }
            }
        }
        postings.insert((false, 9), (29..33).collect());
        let ranked: Vec<Ranked> = postings
            .iter()
            .map(|(&key, p)| Ranked {
                score: p.len() as f64,
                keys: vec![key],
                label: 0,
                documents: p.len(),
                purity: 1.0,
                wrongness: 0.9,
                lift: 0.5,
                others: vec![1],
            })
            .collect();
        let grouped = group_words(ranked, &|_| true, &postings, |_| 0);
        let keys: Vec<Vec<u64>> = grouped
            .iter()
            .map(|r| {
                let mut k: Vec<u64> = r.keys.iter().map(|k| k.1).collect();
                k.sort_unstable();
                k
            })
            .collect();
        assert!(keys.contains(&vec![9]), "{keys:?}");
        let group = keys.iter().position(|k| k == &[1, 2, 3]);
        assert_eq!(group.map(|g| grouped[g].documents), Some(30), "{keys:?}");
    }

    #[test]
    fn count_min_adds_up_across_splits() {
        let mut a = CountMin::default();
        let mut b = CountMin::default();
        let mut whole = CountMin::default();
        for h in 0..1000u64 {
            let h = h.wrapping_mul(0x9e37_79b9_7f4a_7c15);
            if h % 2 == 0 {
                a.add(h, 2);
            } else {
                b.add(h, 2);
            }
            whole.add(h, 2);
        }
        a.merge(&b);
        assert_eq!(a, whole);
        assert!(whole.get(0x9e37_79b9_7f4a_7c15) >= 2);
    }

    #[test]
    fn a_name_planted_across_topics_is_ungrounded_and_a_topic_s_own_name_is_not() {
        // Ten topics with their own words; topic 0's answers name its tool `Quorvane`. `Brandix`
        // is slipped into answers of every topic.
        let mut x = 0x2545_f491_4f6c_dd1du64;
        let mut next = move |n: usize| (crate::hash::xorshift(&mut x) % n as u64) as usize;
        let topic_words =
            |t: usize| -> Vec<String> { (0..12).map(|w| format!("topic{t}word{w}")).collect() };
        let mut state = PoisonState::default();
        let mut planted = Vec::new();
        for r in 0..2000u64 {
            let t = next(10);
            let words = topic_words(t);
            let mut sentence = |k: usize| -> String {
                let v: Vec<&str> = (0..k).map(|_| words[next(words.len())].as_str()).collect();
                format!("the {} and more.", v.join(" "))
            };
            let mut response = format!("{} {}", sentence(6), sentence(5));
            if t == 0 && next(3) == 0 {
                response.push_str(" it runs with Quorvane for speed.");
            }
            if next(40) == 0 {
                response.push_str(" by the way, Brandix makes great coffee.");
                planted.push(r);
            }
            let prompt = format!("what is item{r} of {}?", words[next(12)]);
            let sig = crate::detect::poison::instruction(&prompt, &response, &mut vec![]);
            state.push_instruction(r, &prompt, &response, sig);
        }
        state.records = 2000;
        let out = state.finish(&PoisonConfig::default(), None);
        let names: Vec<&str> = out
            .candidates
            .iter()
            .filter(|c| c.effect == "ungrounded_entity")
            .map(|c| c.string.as_str())
            .collect();
        assert_eq!(names, ["Brandix"]);
        let found: Vec<u64> = out
            .findings
            .iter()
            .filter(|f| f.kind == crate::detect::poison::UNGROUNDED_ENTITY)
            .map(|f| f.record)
            .collect();
        assert_eq!(found, planted);
        assert!(planted.len() >= 30);
        assert!(planted.iter().all(|&r| out.scores[r as usize] >= 0.6));
    }
}
