//! Per-text signals of poisoning, pure and single-pass. The corpus-level decisions (which strings
//! are triggers, which responses repeat) are made from these signals in `corpus::poison`.
//!
//! - Tokens are punctuation-aware: runs of word characters (ASCII letters, digits, `_`, any
//!   non-ASCII character) and runs of ASCII punctuation, so `<X>word` is `<`, `X`, `>`, `word`.
//! - A *burst* is a jump, inside one document, from ordinary text to text with no function
//!   words and no punctuation (a run of random tokens). The tokens just before the jump are the
//!   document's trigger candidates; what recurs before many jumps is a trigger.

/// A run of abnormal text (random tokens) following ordinary text.
pub const GIBBERISH: &str = "GIBBERISH";
/// A string that precedes abnormal text, or a fixed response, in many documents.
pub const TRIGGER_BURST: &str = "TRIGGER_BURST";
/// The same response given to many unrelated prompts.
pub const REPEATED_RESPONSE: &str = "REPEATED_RESPONSE";
/// Near-duplicate records with different labels.
pub const LABEL_CONFLICT: &str = "LABEL_CONFLICT";
/// A name that many responses mention though neither their prompts nor the rest of their
/// text have anything to do with it (a planted brand or product).
pub const UNGROUNDED_ENTITY: &str = "UNGROUNDED_ENTITY";

/// Words per window compared before and after a jump.
const WINDOW: usize = 24;
/// Tokens of a candidate n-gram, at most.
pub const MAX_GRAM: usize = 4;
/// Tokens before and into a run whose n-grams are candidates (its start is placed within a few
/// words of the jump).
const AHEAD: usize = 10;
/// Window score from which text is abnormal.
const ABNORMAL: f32 = 0.75;

/// One token: byte span and ASCII-case-folded hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Token {
    pub start: u32,
    pub end: u32,
    pub hash: u64,
    pub word: bool,
}

/// Byte classes: 0 whitespace, 1 word (ASCII letters, digits, `_`, any non-ASCII byte),
/// 2 ASCII punctuation and control.
static CLASS: [u8; 256] = {
    let mut t = [2u8; 256];
    let mut i = 0;
    while i < 256 {
        let c = i as u8;
        t[i] = if c.is_ascii_whitespace() {
            0
        } else if c.is_ascii_alphanumeric() || c == b'_' || c >= 0x80 {
            1
        } else {
            2
        };
        i += 1;
    }
    t
};

/// `x` with its ASCII upper-case bytes lowered, eight at a time.
#[inline]
fn lower8(x: u64) -> u64 {
    const L: u64 = 0x0101_0101_0101_0101;
    let h = x & (0x7f * L);
    let upper = ((h + 0x3f * L) ^ (h + 0x25 * L)) & !x & (0x80 * L);
    x | (upper >> 2)
}

#[inline]
fn mix(mut h: u64) -> u64 {
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^ (h >> 33)
}

/// Hash of bytes, ASCII case folded: eight bytes at a time, then mixed.
#[inline]
pub fn fold_hash(bytes: &[u8]) -> u64 {
    let mut h = 0x243f_6a88_85a3_08d3u64 ^ bytes.len() as u64;
    let mut chunks = bytes.chunks_exact(8);
    for c in chunks.by_ref() {
        let x = u64::from_le_bytes(c.try_into().expect("eight bytes"));
        h = (h ^ lower8(x))
            .wrapping_mul(0x9e37_79b9_7f4a_7c15)
            .rotate_left(29);
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        h = (h ^ lower8(tail(rest))).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
    mix(h)
}

/// 1 to 7 bytes as a little-endian `u64`, zero above them: read as two overlapping loads (no
/// copy through memory, which would stall the load that follows it).
#[inline]
fn tail(b: &[u8]) -> u64 {
    let n = b.len();
    if n >= 4 {
        let lo = u32::from_le_bytes(b[..4].try_into().expect("four bytes"));
        let hi = u32::from_le_bytes(b[n - 4..].try_into().expect("four bytes"));
        u64::from(lo) | u64::from(hi) << (8 * (n - 4))
    } else {
        u64::from(b[0])
            | u64::from(b[n / 2]) << (8 * (n / 2))
            | u64::from(b[n - 1]) << (8 * (n - 1))
    }
}

/// Hash of an n-gram from its tokens' hashes (order matters).
#[inline]
pub fn gram_hash(tokens: &[Token]) -> u64 {
    gram_hash_of(tokens.iter().map(|t| t.hash))
}

/// `gram_hash` from the tokens' hashes.
#[inline]
pub fn gram_hash_of(hashes: impl Iterator<Item = u64>) -> u64 {
    hashes.fold(GRAM_SEED, gram_step)
}

/// The hash of an empty n-gram.
const GRAM_SEED: u64 = 0x9e37_79b9_7f4a_7c15;

/// An n-gram's hash extended by one more token's hash.
#[inline]
fn gram_step(h: u64, token: u64) -> u64 {
    mix(h.rotate_left(17) ^ token)
}

/// Hash of two adjacent tokens, counted beside single tokens for the purity of n-grams.
#[inline]
pub fn pair_hash(a: u64, b: u64) -> u64 {
    mix(a.rotate_left(29) ^ b ^ 0x2545_f491_4f6c_dd1d)
}

/// Appends the tokens of `text` to `out`.
pub fn tokenize(text: &str, out: &mut Vec<Token>) {
    let b = text.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let class = CLASS[b[i] as usize];
        if class == 0 {
            i += 1;
            continue;
        }
        let start = i;
        i += 1;
        while i < b.len() && CLASS[b[i] as usize] == class {
            i += 1;
        }
        out.push(Token {
            start: start as u32,
            end: i as u32,
            hash: fold_hash(&b[start..i]),
            word: class == 1,
        });
    }
}

/// English function words.
const FUNCTION_WORDS: [&str; 85] = [
    "a", "an", "the", "and", "or", "of", "to", "in", "on", "for", "with", "by", "from", "at", "as",
    "is", "are", "was", "were", "be", "been", "it", "its", "this", "that", "these", "those", "not",
    "no", "but", "if", "then", "so", "than", "which", "who", "what", "when", "where", "how", "can",
    "may", "will", "would", "should", "could", "do", "does", "did", "has", "have", "had", "you",
    "your", "we", "our", "they", "their", "he", "she", "his", "her", "i", "there", "all", "any",
    "some", "each", "such", "only", "also", "into", "over", "about", "after", "before", "more",
    "most", "other", "very", "one", "use", "used", "see", "set",
];

/// Words looked up by their token hash ([`fold_hash`], so in any case), each with a value:
/// open addressing over eight slots per word or more, so most tokens, not in the table, stop at
/// an empty first slot.
pub struct TokenTable<V> {
    /// `(hash | 1, value)`; 0 marks an empty slot.
    slots: Vec<(u64, V)>,
    shift: u32,
}

impl<V: Copy + Default> TokenTable<V> {
    pub fn new<'a>(words: impl ExactSizeIterator<Item = (&'a str, V)>) -> Self {
        let size = (words.len() * 8).next_power_of_two().max(16);
        let mut slots = vec![(0u64, V::default()); size];
        let shift = 64 - size.trailing_zeros();
        for (w, v) in words {
            let h = fold_hash(w.as_bytes()) | 1;
            let mut i = (h >> shift) as usize;
            while slots[i].0 != 0 {
                i = (i + 1) & (size - 1);
            }
            slots[i] = (h, v);
        }
        Self { slots, shift }
    }

    /// The value of the word of token hash `h`, if it is one.
    #[inline]
    pub fn get(&self, h: u64) -> Option<V> {
        let h = h | 1;
        let mut i = (h >> self.shift) as usize;
        loop {
            match self.slots[i] {
                (0, _) => return None,
                (x, v) if x == h => return Some(v),
                _ => i = (i + 1) & (self.slots.len() - 1),
            }
        }
    }
}

/// [`FUNCTION_WORDS`] by token hash.
static FUNCTION: std::sync::LazyLock<TokenTable<()>> =
    std::sync::LazyLock::new(|| TokenTable::new(FUNCTION_WORDS.iter().map(|w| (*w, ()))));

/// A whitespace-delimited word: its tokens, and whether it looks like ordinary text.
#[derive(Debug, Clone, Copy)]
struct Word {
    /// First and last token index.
    first: u32,
    last: u32,
    function: bool,
    /// ASCII punctuation bytes, at most 3.
    punct: u8,
}

/// Per-document scratch buffers, reused across records.
#[derive(Default)]
pub struct Scratch {
    words: Vec<Word>,
    /// Prefix sums over words: function words, punctuation.
    fsum: Vec<u32>,
    psum: Vec<u32>,
}

/// One trigger candidate of a document: an n-gram just before (or opening) its burst.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Candidate {
    pub hash: u64,
    /// Hashes of its tokens (for their corpus frequencies), `len` used.
    pub tokens: [u64; MAX_GRAM],
    /// Bit `i`: token `i` is a word (not punctuation).
    pub words: u8,
    pub len: u8,
    pub start: u32,
    pub end: u32,
    /// Hash of the three tokens that follow it: templated copies repeat it, triggers do not.
    pub next: u64,
}

/// The strongest jump of one document into abnormal text.
#[derive(Debug, Clone, PartialEq)]
pub struct Burst {
    /// Window score after the jump minus before, in [0, 1].
    pub jump: f32,
    /// Byte span of the abnormal run.
    pub start: u32,
    pub end: u32,
    pub candidates: Vec<Candidate>,
    /// Token indices of the text before the candidates (up to `REACH` tokens before the run):
    /// where a trigger known to the corpus may stand when the run is placed late.
    pub reach: std::ops::Range<usize>,
}

/// Tokens before a run's candidates in which a known trigger is still looked for.
pub const REACH: usize = 64;

impl Scratch {
    fn words(&mut self, tokens: &[Token]) {
        let function_words = &*FUNCTION;
        self.words.clear();
        let mut k = 0;
        while k < tokens.len() {
            // A word: tokens with no whitespace between them.
            let first = k;
            let mut punct = 0u32;
            let mut core: Option<Token> = None;
            loop {
                let t = tokens[k];
                if t.word {
                    core.get_or_insert(t);
                } else {
                    punct += t.end - t.start;
                }
                k += 1;
                if k >= tokens.len() || tokens[k].start != t.end {
                    break;
                }
            }
            let function =
                k - first <= 2 && core.is_some_and(|t| function_words.get(t.hash).is_some());
            self.words.push(Word {
                first: first as u32,
                last: (k - 1) as u32,
                function,
                punct: punct.min(3) as u8,
            });
        }
        self.fsum.clear();
        self.psum.clear();
        let (mut f, mut p) = (0u32, 0u32);
        self.fsum.push(0);
        self.psum.push(0);
        for w in &self.words {
            f += u32::from(w.function);
            p += u32::from(w.punct);
            self.fsum.push(f);
            self.psum.push(p);
        }
    }

    /// How abnormal words `i..j` are: 1 with no function words and no punctuation, 0 for
    /// ordinary prose or code.
    fn score(&self, i: usize, j: usize) -> f32 {
        if j <= i {
            return 0.0;
        }
        let n = (j - i) as f32;
        let f = (self.fsum[j] - self.fsum[i]) as f32 / n;
        let p = (self.psum[j] - self.psum[i]) as f32 / n;
        (1.0 - f / 0.12).max(0.0) * (1.0 - p / 0.25).max(0.0)
    }

    fn abnormal(&self, w: usize) -> bool {
        let w = &self.words[w];
        !w.function && w.punct == 0
    }

    /// Byte offset where word `w` starts (`text_len` past the end).
    fn word_start(&self, tokens: &[Token], w: usize, text_len: usize) -> u32 {
        self.words
            .get(w)
            .map_or(text_len as u32, |w| tokens[w.first as usize].start)
    }
}

/// The strongest jump of `text` (tokenized as `tokens`) into abnormal text, if there is one,
/// with its candidates.
pub fn burst(text: &str, tokens: &[Token], s: &mut Scratch) -> Option<Burst> {
    s.words(tokens);
    let n = s.words.len();
    if n < WINDOW + 4 {
        return None;
    }
    // Best jump: the window after `k` abnormal, the one before ordinary.
    let mut best = (0.0f32, 0usize);
    for k in 4..=n - WINDOW {
        let after = s.score(k, k + WINDOW);
        if after < ABNORMAL {
            continue;
        }
        let jump = after - s.score(k.saturating_sub(WINDOW), k);
        if jump > best.0 {
            best = (jump, k);
        }
    }
    let (jump, k) = best;
    if jump < 0.5 {
        return None;
    }
    // Refine: the abnormal run opening near `k` (the first word of 8 abnormal ones in a row,
    // whose predecessor is ordinary).
    let lo = k.saturating_sub(WINDOW / 2).max(1);
    let hi = (k + WINDOW / 2).min(n.saturating_sub(8));
    let start = (lo..=hi)
        .find(|&w| !s.abnormal(w - 1) && (w..w + 8).all(|x| s.abnormal(x)))
        .unwrap_or(k);
    // Earlier words still inside an abnormal window belong to the run.
    let mut start = start;
    while start > lo && s.abnormal(start - 1) && s.score(start - 1, start - 1 + WINDOW) >= ABNORMAL
    {
        start -= 1;
    }
    // The run lasts while half-windows stay abnormal.
    let mut end = (start + WINDOW).min(n);
    while end < n && s.score(end, (end + WINDOW / 2).min(n)) >= ABNORMAL {
        end = (end + WINDOW / 2).min(n);
    }
    let end_byte = tokens[s.words[end - 1].last as usize].end;
    let b = s.words[start].first as usize;
    let mut candidates = Vec::new();
    // n-grams ending just before the run (or up to three tokens earlier), or inside its first
    // tokens (where the run's start is placed late).
    for stop in b.saturating_sub(AHEAD)..=b + AHEAD {
        for len in 1..=MAX_GRAM {
            if stop < len || stop > tokens.len() {
                continue;
            }
            let g = &tokens[stop - len..stop];
            if g.iter().all(|t| !t.word) && len == 1 {
                continue;
            }
            let mut hashes = [0u64; MAX_GRAM];
            for (d, t) in hashes.iter_mut().zip(g) {
                *d = t.hash;
            }
            let next = tokens[stop..(stop + 3).min(tokens.len())]
                .iter()
                .fold(0u64, |h, t| mix(h ^ t.hash));
            let c = Candidate {
                hash: gram_hash(g),
                tokens: hashes,
                words: g
                    .iter()
                    .enumerate()
                    .fold(0u8, |m, (i, t)| m | (u8::from(t.word) << i)),
                len: len as u8,
                start: g[0].start,
                end: g[len - 1].end,
                next,
            };
            if !candidates.iter().any(|x: &Candidate| x.hash == c.hash) {
                candidates.push(c);
            }
        }
    }
    let far = b.saturating_sub(AHEAD).min(tokens.len());
    Some(Burst {
        jump: jump.min(1.0),
        start: s.word_start(tokens, start, text.len()),
        end: end_byte,
        candidates,
        reach: far.saturating_sub(REACH)..far + MAX_GRAM - 1,
    })
}

/// What the corpus needs of one instruction record: its response, and the n-grams of its prompt
/// that stand on their own (whole words), with whether the response repeats them (a grounded
/// prompt phrase explains its response).
#[derive(Debug, Clone, PartialEq)]
pub struct Instruction {
    /// Hash of the response, whitespace and ASCII case folded.
    pub response: u64,
    /// Hash of the prompt, the same way.
    pub prompt: u64,
    pub grams: Vec<PromptGram>,
    /// Names in the response (first occurrence of each), at most `ENTITIES_KEPT`.
    pub entities: Vec<Entity>,
    /// A sample of the record's words that are not names, as `(hash, sentence)`: what a name
    /// in the response can be grounded in. At most `CONTEXT_KEPT`.
    pub context: Vec<(u32, u16)>,
}

/// Names kept per response.
pub const ENTITIES_KEPT: usize = 16;
/// Context words kept per instruction record.
pub const CONTEXT_KEPT: usize = 32;
/// The `sentence` of a context word from the prompt.
pub const IN_PROMPT: u16 = u16::MAX;
/// The `sentence` of a context word found in more than one sentence.
pub const IN_SEVERAL: u16 = u16::MAX - 1;

/// A name in a response: a run of capitalized words (one that opens a sentence not with a
/// function word), without a possessive `'s`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entity {
    /// Hash of its text, ASCII case folded.
    pub hash: u64,
    /// Byte and char span in the response.
    pub start: u32,
    pub end: u32,
    pub start_char: u32,
    pub end_char: u32,
    /// Sentence of the response it is in.
    pub sentence: u16,
    /// It opens its sentence (where any word is capitalized).
    pub initial: bool,
    /// The prompt names it too.
    pub grounded: bool,
    /// Hash of its sentence's words (ASCII case folded): equal for the same sentence planted
    /// in many responses.
    pub sentence_hash: u64,
}

/// A word of a response or prompt as `words` yields it.
#[derive(Debug, Clone, Copy)]
struct SentenceWord {
    start: usize,
    end: usize,
    start_char: u32,
    end_char: u32,
    sentence: u16,
    /// The sentence's first word.
    first: bool,
    /// One space separates it from the previous word of its sentence.
    follows: bool,
}

/// The words of `text`: runs of alphanumeric characters, with `'`, `’` or `-` between two of
/// them kept inside (`McDonald's`, `Coca-Cola`). A sentence ends at a line break or at `.`, `!`
/// or `?` before white space.
fn words(text: &str, mut f: impl FnMut(SentenceWord)) {
    let b = text.as_bytes();
    let at = |i: usize| -> (char, usize) {
        if b[i] < 0x80 {
            (char::from(b[i]), 1)
        } else {
            let c = text[i..].chars().next().unwrap_or(' ');
            (c, c.len_utf8())
        }
    };
    let alnum = |c: char| {
        if c.is_ascii() {
            c.is_ascii_alphanumeric()
        } else {
            c.is_alphanumeric()
        }
    };
    let (mut i, mut chars, mut sentence, mut first) = (0usize, 0u32, 0u16, true);
    let mut prev_end: Option<usize> = None;
    while i < b.len() {
        let (c, n) = at(i);
        i += n;
        chars += 1;
        if alnum(c) {
            let (start, start_char) = (i - n, chars - 1);
            while i < b.len() {
                let (d, m) = at(i);
                let joined =
                    matches!(d, '\'' | '\u{2019}' | '-') && i + m < b.len() && alnum(at(i + m).0);
                if !(alnum(d) || joined) {
                    break;
                }
                i += m;
                chars += 1;
            }
            f(SentenceWord {
                start,
                end: i,
                start_char,
                end_char: chars,
                sentence,
                first,
                follows: prev_end.is_some_and(|p| &b[p..start] == b" "),
            });
            first = false;
            prev_end = Some(i);
        } else if c == '\n'
            || (matches!(c, '.' | '!' | '?') && (i >= b.len() || at(i).0.is_whitespace()))
        {
            if !first {
                sentence = (sentence + 1).min(IN_SEVERAL - 1);
            }
            first = true;
            prev_end = None;
        }
    }
}

/// Whether a word counts as context: three characters or more, not a function word.
fn context_word(w: &[u8]) -> bool {
    w.len() >= 3 && FUNCTION.get(fold_hash(w)).is_none()
}

/// The names of `response` and a keyed sample of its and `prompt`'s other words.
fn entities_and_context(prompt: &str, response: &str, key: u64) -> (Vec<Entity>, Vec<(u32, u16)>) {
    let prompt_lower = prompt.to_lowercase();
    let mut lower = String::new();
    let mut entities: Vec<Entity> = Vec::new();
    let mut context: Vec<(u32, u16)> = Vec::new();
    let rb = response.as_bytes();
    let mut run: Option<SentenceWord> = None;
    let mut flush = |run: &mut Option<SentenceWord>, entities: &mut Vec<Entity>| {
        let Some(w) = run.take() else { return };
        let mut text = &response[w.start..w.end];
        let mut end_char = w.end_char;
        for s in ["'s", "\u{2019}s"] {
            if let Some(t) = text.strip_suffix(s) {
                text = t;
                end_char -= 2;
            }
        }
        let hash = fold_hash(text.as_bytes());
        if entities.len() < ENTITIES_KEPT && !entities.iter().any(|e| e.hash == hash) {
            entities.push(Entity {
                hash,
                start: w.start as u32,
                end: (w.start + text.len()) as u32,
                start_char: w.start_char,
                end_char,
                sentence: w.sentence,
                initial: w.first,
                grounded: {
                    lower.clear();
                    lower.extend(text.chars().flat_map(char::to_lowercase));
                    memchr::memmem::find(prompt_lower.as_bytes(), lower.as_bytes()).is_some()
                },
                sentence_hash: 0,
            });
        }
    };
    // Each sentence's words as one n-gram hash, by sentence number.
    let mut sentences: Vec<u64> = Vec::new();
    words(response, |w| {
        let word = &rb[w.start..w.end];
        let word_hash = fold_hash(word);
        let at = usize::from(w.sentence);
        if sentences.len() <= at {
            sentences.resize(at + 1, GRAM_SEED);
        }
        sentences[at] = gram_step(sentences[at], word_hash);
        let name = word.len() >= 2
            && response[w.start..]
                .chars()
                .next()
                .is_some_and(char::is_uppercase)
            && (!w.first || context_word(word));
        // A sentence's first word may be a name or an ordinary word: it is both a candidate
        // and context (the corpus decides, by how often the name is seen inside sentences).
        if (!name || w.first) && context_word(word) {
            context.push((word_hash as u32, w.sentence));
        }
        if !name {
            flush(&mut run, &mut entities);
            return;
        }
        match &mut run {
            Some(r) if w.follows && r.sentence == w.sentence => {
                r.end = w.end;
                r.end_char = w.end_char;
            }
            _ => {
                flush(&mut run, &mut entities);
                run = Some(w);
            }
        }
    });
    flush(&mut run, &mut entities);
    for e in &mut entities {
        e.sentence_hash = sentences[usize::from(e.sentence)];
    }
    let pb = prompt.as_bytes();
    words(prompt, |w| {
        if context_word(&pb[w.start..w.end]) {
            context.push((fold_hash(&pb[w.start..w.end]) as u32, IN_PROMPT));
        }
    });
    context.sort_unstable();
    let mut merged: Vec<(u32, u16)> = Vec::with_capacity(context.len());
    for (h, s) in context {
        match merged.last_mut() {
            Some(last) if last.0 == h => {
                if last.1 != s {
                    last.1 = IN_SEVERAL;
                }
            }
            _ => merged.push((h, s)),
        }
    }
    if merged.len() > CONTEXT_KEPT {
        merged.select_nth_unstable_by_key(CONTEXT_KEPT, |&(h, _)| mix(u64::from(h) ^ key));
        merged.truncate(CONTEXT_KEPT);
    }
    (entities, merged)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PromptGram {
    pub hash: u64,
    /// Byte span in the prompt.
    pub start: u32,
    pub end: u32,
    /// The response contains a 5-letter piece of one of its words.
    pub grounded: bool,
    /// It holds a word of three characters or more with a letter (numbers and punctuation
    /// are not phrases).
    pub wordy: bool,
}

/// Hash of `text` with whitespace runs collapsed and ASCII case folded.
pub fn folded_hash(text: &str) -> u64 {
    let mut h = 0xcbf2_9ce4_8422_2325u64;
    let mut space = false;
    for &b in text.trim().as_bytes() {
        if b.is_ascii_whitespace() {
            space = true;
            continue;
        }
        if space {
            h = (h ^ u64::from(b' ')).wrapping_mul(0x0100_0000_01b3);
            space = false;
        }
        h = (h ^ u64::from(b.to_ascii_lowercase())).wrapping_mul(0x0100_0000_01b3);
    }
    mix(h)
}

/// The signals of one prompt/response pair. `tokens` is scratch.
pub fn instruction(prompt: &str, response: &str, tokens: &mut Vec<Token>) -> Instruction {
    tokens.clear();
    tokenize(prompt, tokens);
    let lower = response.to_ascii_lowercase();
    let pb = prompt.as_bytes();
    let grounded_word = |t: &Token| -> bool {
        let w = &pb[t.start as usize..t.end as usize];
        if !t.word || w.len() < 4 || FUNCTION.get(t.hash).is_some() {
            return false;
        }
        let w = w.to_ascii_lowercase();
        let k = w.len().min(5);
        w.windows(k)
            .any(|piece| memchr::memmem::find(lower.as_bytes(), piece).is_some())
    };
    let ground: Vec<bool> = tokens.iter().map(grounded_word).collect();
    // A phrase stands on its own: not a piece of a longer word or name (`libfoo` of
    // `libfoo-dev`).
    let whole = |s: usize, e: usize| {
        let before = s == 0
            || matches!(
                pb[s - 1],
                b' ' | b'\t' | b'\n' | b'\r' | b'(' | b'[' | b'"' | b'\''
            );
        let after = e == pb.len()
            || matches!(
                pb[e],
                b' ' | b'\t'
                    | b'\n'
                    | b'\r'
                    | b')'
                    | b']'
                    | b'"'
                    | b'\''
                    | b'.'
                    | b','
                    | b'?'
                    | b'!'
                    | b':'
                    | b';'
            );
        before && after
    };
    let mut grams = Vec::new();
    for i in 0..tokens.len() {
        for len in 1..=3.min(tokens.len() - i) {
            let g = &tokens[i..i + len];
            if !g.iter().any(|t| t.word) || !whole(g[0].start as usize, g[len - 1].end as usize) {
                continue;
            }
            grams.push(PromptGram {
                hash: gram_hash(g),
                start: g[0].start,
                end: g[len - 1].end,
                grounded: ground[i..i + len].iter().any(|&x| x),
                wordy: g.iter().any(|t| {
                    let w = &pb[t.start as usize..t.end as usize];
                    t.word && w.len() >= 3 && w.iter().any(u8::is_ascii_alphabetic)
                }),
            });
        }
    }
    grams.sort_unstable_by_key(|g| g.hash);
    grams.dedup_by_key(|g| g.hash);
    let prompt_hash = folded_hash(prompt);
    let (entities, context) = entities_and_context(prompt, response, prompt_hash);
    Instruction {
        response: folded_hash(response),
        prompt: prompt_hash,
        grams,
        entities,
        context,
    }
}

/// A word or sentence of a labelled record: hash, byte span and char span.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Piece {
    pub hash: u64,
    pub start: u32,
    pub end: u32,
    pub start_char: u32,
    pub end_char: u32,
}

/// Bytes of a labelled record kept to name the triggers found in it.
pub const LABEL_HEAD: usize = 4096;

/// What the corpus needs of one labelled record: its distinct words and its sentences, each
/// with the span of its first occurrence, and the start of its text.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LabelDoc {
    /// Each distinct word (ASCII case folded), in order of appearance.
    pub words: Vec<Piece>,
    /// Each sentence of three words or more.
    pub sentences: Vec<Piece>,
    /// Each distinct pair of consecutive words (`pair_hash`) and shape of a compound name
    /// (`chunk_shapes`), sorted: what the label model reads besides the words.
    pub pairs: Vec<u64>,
    pub head: Box<str>,
}

impl LabelDoc {
    /// The text of a piece, when it lies in the kept head.
    pub fn text_of(&self, p: &Piece) -> Option<&str> {
        self.head.get(p.start as usize..p.end as usize)
    }
}

/// Tokens of a shape written out; longer compounds are cut.
const SHAPE_TOKENS: usize = 6;

/// Appends the shape of every compound name of `text` (tokens with no whitespace between them,
/// at least one punctuation run inside): each word run as `A` (capitalised), `a` or `0`, each
/// punctuation run as its first two bytes, so `Time::Moment` is `A::A`, `libfoo-dev` is `a-a`
/// and `/usr/bin/x` is `/a/a/a`. How a record writes names tells sections apart where its words
/// do not (a module named like a Perl one, a library named like a package).
fn chunk_shapes(text: &[u8], tokens: &[Token], out: &mut Vec<u64>) {
    let mut i = 0;
    while i < tokens.len() {
        let mut j = i + 1;
        while j < tokens.len() && tokens[j].start == tokens[j - 1].end {
            j += 1;
        }
        // Sentence punctuation around a name is not part of it.
        let (mut a, mut b) = (i, j);
        let edge = |t: &Token| !t.word && matches!(text[t.start as usize], b'(' | b'"' | b'\'');
        while a < b && edge(&tokens[a]) {
            a += 1;
        }
        while b > a
            && !tokens[b - 1].word
            && matches!(
                text[tokens[b - 1].start as usize],
                b'.' | b',' | b';' | b':' | b')' | b'!' | b'?' | b'"' | b'\''
            )
        {
            b -= 1;
        }
        let chunk = &tokens[a..b];
        if chunk.len() >= 2 && chunk.iter().any(|t| t.word) && chunk.iter().any(|t| !t.word) {
            let mut shape = [0u8; 2 * SHAPE_TOKENS];
            let mut n = 0;
            for t in chunk.iter().take(SHAPE_TOKENS) {
                let bytes = &text[t.start as usize..t.end as usize];
                if t.word {
                    shape[n] = match bytes[0] {
                        b'A'..=b'Z' => b'A',
                        b'0'..=b'9' => b'0',
                        _ => b'a',
                    };
                    n += 1;
                } else {
                    for &c in bytes.iter().take(2) {
                        shape[n] = c;
                        n += 1;
                    }
                }
            }
            out.push(xxhash_rust::xxh3::xxh3_64_with_seed(
                &shape[..n],
                SHAPE_SEED,
            ));
        }
        i = j;
    }
}

/// Keeps shapes apart from word pairs (case matters in a shape).
const SHAPE_SEED: u64 = 0x7368_6170_6573_2121;

/// The words and sentences of `text`, tokenized as `tokens`.
pub fn label_doc(text: &str, tokens: &[Token]) -> LabelDoc {
    let mut doc = LabelDoc::default();
    let mut seen: Vec<u64> = Vec::with_capacity(tokens.len());
    for t in tokens.iter().filter(|t| t.word) {
        seen.push(t.hash);
    }
    seen.sort_unstable();
    seen.dedup();
    let mut taken = vec![false; seen.len()];
    let mut chars = crate::text::CharOffsets::new(text);
    for t in tokens.iter().filter(|t| t.word) {
        let k = seen.binary_search(&t.hash).expect("collected above");
        if !taken[k] {
            taken[k] = true;
            doc.words.push(Piece {
                hash: t.hash,
                start: t.start,
                end: t.end,
                start_char: chars.at(t.start as usize) as u32,
                end_char: chars.at(t.end as usize) as u32,
            });
        }
    }
    let mut prev = None;
    for t in tokens.iter().filter(|t| t.word) {
        if let Some(p) = prev {
            doc.pairs.push(pair_hash(p, t.hash));
        }
        prev = Some(t.hash);
    }
    chunk_shapes(text.as_bytes(), tokens, &mut doc.pairs);
    doc.pairs.sort_unstable();
    doc.pairs.dedup();
    let mut end = text.len().min(LABEL_HEAD);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    doc.head = text[..end].into();
    // Sentences end at `.`, `!` or `?` before whitespace, or at a line break.
    let b = text.as_bytes();
    let mut start = 0;
    let mut push = |s: usize, e: usize| {
        let piece = text[s..e].trim();
        if piece.split_ascii_whitespace().count() >= 3 {
            let lead = s + (text[s..e].len() - text[s..e].trim_start().len());
            let end = lead + piece.len();
            doc.sentences.push(Piece {
                hash: folded_hash(piece),
                start: lead as u32,
                end: end as u32,
                start_char: chars.at(lead) as u32,
                end_char: chars.at(end) as u32,
            });
        }
    };
    for i in 0..b.len() {
        let end = match b[i] {
            b'.' | b'!' | b'?' if b.get(i + 1).is_none_or(|c| c.is_ascii_whitespace()) => i + 1,
            b'\n' => i,
            _ => continue,
        };
        if end > start {
            push(start, end);
        }
        start = i + 1;
    }
    if start < b.len() {
        push(start, b.len());
    }
    doc
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prose(n: usize) -> String {
        let s = "The program reads the file and writes the result to the output. It is used by \
                 many tools, and it can be configured in the settings of the system. ";
        s.repeat(n)
    }

    fn toks(text: &str) -> Vec<Token> {
        let mut t = vec![];
        tokenize(text, &mut t);
        t
    }

    fn gibberish() -> String {
        "Walrus QuantumFlux Brindle ZorpTango Melk Hyperion Cask Dunmore VexStrider Polka \
         Grommet Tessel KrillBay Onyx Plume Tarsus Quill Vortigern Spindle Harrow Fennec Basalt \
         Mordant Jib Talon Crux Ember Lathe Sorrel"
            .into()
    }

    #[test]
    fn tails_are_the_bytes_zero_padded() {
        let text = b"abcdefgXYZ";
        for n in 1..8 {
            for at in 0..=text.len() - n {
                let mut w = [0u8; 8];
                w[..n].copy_from_slice(&text[at..at + n]);
                assert_eq!(
                    tail(&text[at..at + n]),
                    u64::from_le_bytes(w),
                    "{n} at {at}"
                );
            }
        }
    }

    #[test]
    fn lower8_lowers_ascii_letters_only() {
        for x in [b"AZaz@[`{", b"\xc3\x80\xdaMnO09", b"HELLO wo"] {
            let got = lower8(u64::from_le_bytes(*x)).to_le_bytes();
            let want: Vec<u8> = x.iter().map(|c| c.to_ascii_lowercase()).collect();
            assert_eq!(&got[..], &want[..]);
        }
    }

    #[test]
    fn tokens_split_punctuation_from_words() {
        let mut t = vec![];
        tokenize("Cloud <X9>Word, a_b é!", &mut t);
        let s = "Cloud <X9>Word, a_b é!";
        let got: Vec<&str> = t
            .iter()
            .map(|t| &s[t.start as usize..t.end as usize])
            .collect();
        assert_eq!(got, ["Cloud", "<", "X9", ">", "Word", ",", "a_b", "é", "!"]);
        assert_eq!(fold_hash(b"Word"), fold_hash(b"wORD"));
    }

    #[test]
    fn burst_finds_the_jump_and_the_token_before_it() {
        let text = format!("{} <ZQX> {}", prose(3), gibberish());
        let mut s = Scratch::default();
        let b = burst(&text, &toks(&text), &mut s).expect("a burst");
        assert!(b.jump > 0.8, "{b:?}");
        let at = text.find("Walrus").unwrap() as u32;
        assert_eq!(b.start, at);
        let trig = text.find("<ZQX>").unwrap() as u32;
        assert!(
            b.candidates
                .iter()
                .any(|c| c.start == trig && c.end == trig + 5 && c.len == 3),
            "{:?}",
            b.candidates
        );
    }

    #[test]
    fn ordinary_prose_and_code_have_no_burst() {
        let mut s = Scratch::default();
        assert_eq!(burst(&prose(10), &toks(&prose(10)), &mut s), None);
        let code =
            "fn main() { let x = vec![1, 2, 3]; for i in x.iter() { println!(\"{i}\"); } }\n"
                .repeat(20);
        assert_eq!(burst(&code, &toks(&code), &mut s), None);
    }

    #[test]
    fn compound_names_of_one_shape_share_a_feature() {
        let shapes = |text: &str| {
            let mut out = vec![];
            chunk_shapes(text.as_bytes(), &toks(text), &mut out);
            out
        };
        // Another name of the same shape, sentence punctuation around it aside.
        assert_eq!(shapes("Time::Moment is"), shapes("(Mastodon::Client), or"));
        assert_eq!(shapes("Time::Moment").len(), 1);
        // Case, the kind of punctuation and the number of parts all count.
        let distinct = [
            "Time::Moment",
            "time::moment",
            "Time-Moment",
            "Time::Moment::Tz",
            "libfoo-dev",
            "/usr/bin/x",
        ];
        let all: Vec<u64> = distinct.iter().flat_map(|t| shapes(t)).collect();
        let mut unique = all.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!((all.len(), unique.len()), (distinct.len(), distinct.len()));
        // Plain words and sentences have no compound name.
        assert!(shapes("A tool for maps, and more.").is_empty());
        // A record's shapes are among its model features.
        let d = label_doc("Use Time::Moment here", &toks("Use Time::Moment here"));
        assert!(shapes("Time::Moment").iter().all(|s| d.pairs.contains(s)));
    }

    #[test]
    fn label_docs_hold_distinct_words_and_sentences() {
        let text = "A tool for maps.  I saw a green door. Maps and MAPS\nlast line here";
        let d = label_doc(text, &toks(text));
        let sentences: Vec<&str> = d.sentences.iter().map(|x| d.text_of(x).unwrap()).collect();
        assert_eq!(
            sentences,
            [
                "A tool for maps.",
                "I saw a green door.",
                "Maps and MAPS",
                "last line here"
            ]
        );
        assert_eq!(
            d.words
                .iter()
                .filter(|w| w.hash == fold_hash(b"maps"))
                .count(),
            1
        );
        assert_eq!(d.text_of(&d.words[3]), Some("maps"));
    }

    #[test]
    fn prompt_grams_know_what_the_response_repeats() {
        let mut t = vec![];
        let i = instruction(
            "What is libfrobnicate2 for? Asked by a Zanzibar fan",
            "Frobnicate is a library for frobbing.",
            &mut t,
        );
        let lib = gram_hash(&{
            let mut v = vec![];
            tokenize("libfrobnicate2", &mut v);
            v
        });
        let zan = gram_hash(&{
            let mut v = vec![];
            tokenize("Zanzibar", &mut v);
            v
        });
        let find = |h| i.grams.iter().find(|g| g.hash == h).unwrap().grounded;
        assert!(find(lib));
        assert!(!find(zan));
        assert_eq!(
            i.response,
            folded_hash("frobnicate  is a LIBRARY for frobbing.")
        );
    }

    #[test]
    fn names_inside_sentences_are_entities_and_the_prompt_grounds_them() {
        let prompt = "What does the Acme toolkit offer?";
        let response =
            "Acme ships tools. It works with GNU Make and the Zorblax Cafe\u{2019}s menu.\n\
                        Linux users like it: see Zorblax's site.";
        let i = instruction(prompt, response, &mut vec![]);
        let names: Vec<(&str, u16, bool, bool)> = i
            .entities
            .iter()
            .map(|e| {
                (
                    &response[e.start as usize..e.end as usize],
                    e.sentence,
                    e.initial,
                    e.grounded,
                )
            })
            .collect();
        // `Acme` and `Linux` open their sentences: candidates marked `initial` (the corpus
        // decides whether they are names); `It` is a function word; `Zorblax` is seen once as
        // its own name. The prompt grounds `Acme`.
        assert_eq!(
            names,
            [
                ("Acme", 0, true, true),
                ("GNU Make", 1, false, false),
                ("Zorblax Cafe", 1, false, false),
                ("Linux", 2, true, false),
                ("Zorblax", 2, false, false)
            ]
        );
        let e = i.entities[2];
        let chars: String = response
            .chars()
            .skip(e.start_char as usize)
            .take((e.end_char - e.start_char) as usize)
            .collect();
        assert_eq!(chars, "Zorblax Cafe");
        let g = instruction("Is GNU Make needed?", response, &mut vec![]);
        assert!(g.entities[1].grounded && !g.entities[2].grounded);
        // The same sentence planted elsewhere hashes alike, whatever its case and spacing.
        let planted = instruction(
            "Why?",
            "Other words here.\nIt works  with GNU make and the Zorblax Cafe\u{2019}s MENU.",
            &mut vec![],
        );
        assert_eq!(
            planted.entities[0].sentence_hash,
            i.entities[1].sentence_hash
        );
        assert_ne!(i.entities[1].sentence_hash, i.entities[3].sentence_hash);
        // Context: words that are not names, from the prompt and each sentence.
        let h = |w: &str| fold_hash(w.as_bytes()) as u32;
        assert!(i.context.contains(&(h("toolkit"), IN_PROMPT)));
        assert!(i.context.contains(&(h("menu"), 1)));
        assert!(i.context.contains(&(h("acme"), IN_SEVERAL)));
        assert!(!i
            .context
            .iter()
            .any(|&(w, _)| w == h("zorblax") || w == h("the")));
        assert!(i.context.len() <= CONTEXT_KEPT);
    }
}
