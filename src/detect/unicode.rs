//! Hidden Unicode: text that a human reader does not see but a model does.
//!
//! Kinds: `BIDI_CONTROL` (embeddings, overrides, isolates), `ZERO_WIDTH` (zero-width spaces and
//! joiners, word joiner, invisible operators, a BOM that does not start a text or line),
//! `TAG_CHARACTERS` (U+E0000–E007F, often an invisible ASCII message) and `CONFUSABLE` (a word or
//! host mixing Latin with Cyrillic/Greek look-alikes, per Unicode TR39 skeletons).
//!
//! Legitimate uses are not reported: ZWJ inside emoji sequences, ZWJ/ZWNJ/ZWSP between letters
//! of scripts that need them (Arabic, Persian, Indic, Thai, ...), subdivision-flag tag sequences,
//! a BOM at the start of the text or of a line, a word joiner between punctuation, and whole
//! words written in Greek or Cyrillic.
//!
//! ASCII text is skipped eight bytes at a time; only non-ASCII characters are decoded.

use unicode_script::{Script, UnicodeScript};

use super::{next_non_ascii, DetectorId, Hit, TextDetector};

pub const BIDI_CONTROL: &str = "BIDI_CONTROL";
pub const ZERO_WIDTH: &str = "ZERO_WIDTH";
pub const TAG_CHARACTERS: &str = "TAG_CHARACTERS";
pub const CONFUSABLE: &str = "CONFUSABLE";

/// Characters shown around a hidden run in previews.
const CONTEXT_CHARS: usize = 12;

#[derive(Debug, Default, Clone)]
pub struct UnicodeDetector;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Class {
    Bidi,
    ZeroWidth,
    Tag,
    GreekCyrillic,
    Other,
}

#[inline]
fn classify(c: char) -> Class {
    match c as u32 {
        0x202A..=0x202E | 0x2066..=0x2069 => Class::Bidi,
        0x200B..=0x200D | 0x2060..=0x2064 | 0xFEFF | 0x180E => Class::ZeroWidth,
        0xE0000..=0xE007F => Class::Tag,
        0x0370..=0x03FF | 0x0400..=0x052F | 0x1F00..=0x1FFF => Class::GreekCyrillic,
        _ => Class::Other,
    }
}

/// A run of adjacent hidden characters of one kind.
struct Run {
    kind: &'static str,
    start: usize,
    end: usize,
}

impl TextDetector for UnicodeDetector {
    fn id(&self) -> DetectorId {
        DetectorId::Unicode
    }

    fn scan(&self, text: &str, out: &mut Vec<Hit>) {
        let bytes = text.as_bytes();
        let mut run: Option<Run> = None;
        let mut i = next_non_ascii(bytes, 0);
        while i < bytes.len() {
            if run.as_ref().is_some_and(|r| r.end != i) {
                emit_run(text, run.take(), out);
            }
            // `i` is always on a char boundary: we only step by whole chars or to an ASCII byte.
            let Some(c) = text[i..].chars().next() else {
                break;
            };
            let next = i + c.len_utf8();
            match classify(c) {
                Class::Other => {}
                Class::GreekCyrillic => {
                    emit_run(text, run.take(), out);
                    let (ws, we) = word_around(text, i);
                    if let Some(hit) = confusable_word(text, ws, we) {
                        out.push(hit);
                    }
                    i = next_non_ascii(bytes, we.max(next));
                    continue;
                }
                Class::Tag => {
                    emit_run(text, run.take(), out);
                    let end = tag_run_end(text, i);
                    if !is_flag_sequence(text, i, end) {
                        out.push(tag_hit(text, i, end));
                    }
                    i = next_non_ascii(bytes, end);
                    continue;
                }
                class => {
                    let kind = if class == Class::Bidi {
                        BIDI_CONTROL
                    } else {
                        ZERO_WIDTH
                    };
                    let legit = kind == ZERO_WIDTH && zero_width_is_legit(text, i, c, next);
                    if legit {
                        emit_run(text, run.take(), out);
                    } else {
                        match &mut run {
                            Some(r) if r.kind == kind && r.end == i => r.end = next,
                            _ => {
                                emit_run(text, run.take(), out);
                                run = Some(Run {
                                    kind,
                                    start: i,
                                    end: next,
                                });
                            }
                        }
                    }
                }
            }
            i = next_non_ascii(bytes, next);
        }
        emit_run(text, run, out);
    }
}

fn emit_run(text: &str, run: Option<Run>, out: &mut Vec<Hit>) {
    let Some(r) = run else { return };
    let n = text[r.start..r.end].chars().count();
    let score = if r.kind == BIDI_CONTROL {
        0.9
    } else {
        // A lone zero-width char may be an editing accident; long runs carry hidden data.
        (0.55 + 0.05 * n as f64).min(0.95)
    };
    let codepoints: Vec<String> = {
        let mut cps: Vec<u32> = text[r.start..r.end].chars().map(|c| c as u32).collect();
        cps.sort_unstable();
        cps.dedup();
        cps.iter().map(|c| format!("\"U+{c:04X}\"")).collect()
    };
    out.push(Hit {
        detector: DetectorId::Unicode,
        kind: r.kind,
        start: r.start,
        end: r.end,
        score,
        preview: preview(text, r.start, r.end),
        detail: Some(format!(
            "{{\"chars\":{n},\"codepoints\":[{}]}}",
            codepoints.join(",")
        )),
        norm: None,
    });
}

fn prev_char(text: &str, i: usize) -> Option<char> {
    text[..i].chars().next_back()
}

fn next_char(text: &str, i: usize) -> Option<char> {
    text[i..].chars().next()
}

/// Scripts whose orthography uses ZWJ / ZWNJ (and, for the South-East Asian ones, ZWSP as a
/// word separator).
fn uses_joiners(c: char) -> bool {
    matches!(
        c.script(),
        Script::Arabic
            | Script::Syriac
            | Script::Nko
            | Script::Mongolian
            | Script::Hebrew
            | Script::Thaana
            | Script::Devanagari
            | Script::Bengali
            | Script::Gurmukhi
            | Script::Gujarati
            | Script::Oriya
            | Script::Tamil
            | Script::Telugu
            | Script::Kannada
            | Script::Malayalam
            | Script::Sinhala
            | Script::Thai
            | Script::Lao
            | Script::Khmer
            | Script::Myanmar
            | Script::Tibetan
            | Script::Han
            | Script::Hiragana
            | Script::Katakana
    )
}

/// Pictographs, dingbats and their modifiers: the members of emoji ZWJ sequences.
fn is_emoji_part(c: char) -> bool {
    matches!(c as u32,
        0x1F000..=0x1FAFF | 0x2600..=0x27BF | 0x2300..=0x23FF | 0x2B00..=0x2BFF
        | 0x2190..=0x21FF | 0xFE0F | 0x20E3 | 0x00A9 | 0x00AE | 0x203C | 0x2049
        | 0x2122 | 0x2139 | 0x3030 | 0x303D | 0x3297 | 0x3299 | 0xE0020..=0xE007F)
}

fn zero_width_is_legit(text: &str, i: usize, c: char, next: usize) -> bool {
    let prev = prev_char(text, i);
    let after = next_char(text, next);
    match c {
        // BOM opening the text, or a concatenated file / line.
        '\u{FEFF}' => prev.is_none_or(char::is_whitespace),
        // ZWJ inside emoji sequences, ZWJ/ZWNJ inside words of scripts that need them.
        '\u{200D}' | '\u{200C}' | '\u{200B}' => match (prev, after) {
            (Some(p), Some(a)) => {
                (c == '\u{200D}' && is_emoji_part(p) && is_emoji_part(a))
                    || (uses_joiners(p) && (uses_joiners(a) || is_mark(a)))
            }
            _ => false,
        },
        // A word joiner keeping punctuation together ("->", "...") is typography.
        '\u{2060}' => {
            !prev.is_some_and(char::is_alphanumeric) && !after.is_some_and(char::is_alphanumeric)
        }
        _ => false,
    }
}

fn is_mark(c: char) -> bool {
    c.script() == Script::Inherited
}

fn tag_run_end(text: &str, start: usize) -> usize {
    text[start..]
        .char_indices()
        .find(|&(_, c)| !(0xE0000..=0xE007F).contains(&(c as u32)))
        .map_or(text.len(), |(o, _)| start + o)
}

/// U+1F3F4 WAVING BLACK FLAG, tag letters/digits, U+E007F CANCEL TAG (e.g. the flag of England).
fn is_flag_sequence(text: &str, start: usize, end: usize) -> bool {
    let tags: Vec<u32> = text[start..end].chars().map(|c| c as u32).collect();
    prev_char(text, start) == Some('\u{1F3F4}')
        && tags.len() >= 2
        && tags.last() == Some(&0xE007F)
        && tags[..tags.len() - 1]
            .iter()
            .all(|&t| matches!(t, 0xE0030..=0xE0039 | 0xE0061..=0xE007A))
}

fn tag_hit(text: &str, start: usize, end: usize) -> Hit {
    // Tag characters mirror ASCII: decode the invisible message for the report.
    let decoded: String = text[start..end]
        .chars()
        .filter_map(|c| {
            char::from_u32(c as u32 - 0xE0000).filter(|d| d.is_ascii_graphic() || *d == ' ')
        })
        .collect();
    let n = text[start..end].chars().count();
    Hit {
        detector: DetectorId::Unicode,
        kind: TAG_CHARACTERS,
        start,
        end,
        score: if n >= 3 { 0.95 } else { 0.7 },
        preview: preview(text, start, end),
        detail: Some(format!(
            "{{\"chars\":{n},\"decoded\":{}}}",
            serde_json::Value::String(decoded)
        )),
        norm: None,
    }
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || is_mark(c) || matches!(c, '.' | '-' | '_')
}

/// Byte span of the word (or dotted/hyphenated host) containing byte `i`.
fn word_around(text: &str, i: usize) -> (usize, usize) {
    let start = text[..i]
        .char_indices()
        .rev()
        .take_while(|&(_, c)| is_word_char(c))
        .last()
        .map_or(i, |(o, _)| o);
    let end = text[i..]
        .char_indices()
        .find(|&(_, c)| !is_word_char(c))
        .map_or(text.len(), |(o, _)| i + o);
    // Trim separators at the edges ("end of sentence." → "sentence").
    let w = &text[start..end];
    let trimmed_start = start + (w.len() - w.trim_start_matches(['.', '-', '_']).len());
    let trimmed_end = end - (w.len() - w.trim_end_matches(['.', '-', '_']).len());
    (trimmed_start, trimmed_end.max(trimmed_start))
}

#[derive(Default, Clone, Copy)]
struct LabelScripts {
    latin: bool,
    greek_cyrillic: bool,
    /// A Greek/Cyrillic letter whose TR39 skeleton is a Latin letter or digit.
    latin_lookalike: bool,
    /// Every Greek/Cyrillic letter has a Latin skeleton (the label could pass for Latin).
    all_lookalike: bool,
}

fn label_scripts(label: &str) -> LabelScripts {
    let mut s = LabelScripts {
        all_lookalike: true,
        ..Default::default()
    };
    for c in label.chars() {
        match c.script() {
            Script::Latin => s.latin = true,
            Script::Greek | Script::Cyrillic => {
                s.greek_cyrillic = true;
                let mut buf = [0u8; 4];
                // The skeleton may be a Latin letter outside ASCII (τ → ᴛ, κ → ĸ) or carry a mark
                // (η → n̩): what matters is that it reads as Latin.
                let looks_latin = unicode_security::skeleton(c.encode_utf8(&mut buf))
                    .next()
                    .is_some_and(|k| k.is_ascii_alphanumeric() || k.script() == Script::Latin);
                s.latin_lookalike |= looks_latin;
                s.all_lookalike &= looks_latin;
            }
            _ => {}
        }
    }
    s
}

/// `CONFUSABLE` when a label mixes Latin with Latin-looking Greek/Cyrillic letters ("pаypal"),
/// or a host pairs Latin labels with a label spelled entirely in look-alikes ("аррӏе.com").
fn confusable_word(text: &str, start: usize, end: usize) -> Option<Hit> {
    let word = &text[start..end];
    let labels: Vec<LabelScripts> = word
        .split(['.', '-', '_'])
        .filter(|l| !l.is_empty())
        .map(label_scripts)
        .collect();
    let mixed_label = labels
        .iter()
        .any(|l| l.latin && l.greek_cyrillic && l.latin_lookalike);
    let is_host = word.contains('.') && labels.len() >= 2;
    let spoofed_label = is_host
        && labels.iter().any(|l| l.latin && !l.greek_cyrillic)
        && labels
            .iter()
            .any(|l| !l.latin && l.greek_cyrillic && l.all_lookalike);
    if !(mixed_label || spoofed_label) {
        return None;
    }
    let skeleton: String = unicode_security::skeleton(word).collect();
    let mut scripts: Vec<&str> = word
        .chars()
        .filter_map(|c| match c.script() {
            Script::Latin => Some("Latin"),
            Script::Greek => Some("Greek"),
            Script::Cyrillic => Some("Cyrillic"),
            _ => None,
        })
        .collect();
    scripts.sort_unstable();
    scripts.dedup();
    Some(Hit {
        detector: DetectorId::Unicode,
        kind: CONFUSABLE,
        start,
        end,
        score: if is_host { 0.9 } else { 0.8 },
        preview: escape_non_latin(word),
        detail: Some(format!(
            "{{\"looks_like\":{},\"scripts\":{}}}",
            serde_json::Value::String(skeleton),
            serde_json::to_string(&scripts).unwrap_or_default()
        )),
        norm: None,
    })
}

/// `pаypal` → `p<U+0430>ypal`: the look-alikes made visible.
fn escape_non_latin(word: &str) -> String {
    let mut s = String::with_capacity(word.len() + 8);
    for c in word.chars() {
        if matches!(c.script(), Script::Greek | Script::Cyrillic) {
            s.push_str(&format!("<U+{:04X}>", c as u32));
        } else {
            s.push(c);
        }
    }
    s
}

/// A few characters either side of `start..end` with the hidden characters spelled out.
fn preview(text: &str, start: usize, end: usize) -> String {
    let before: String = {
        let mut v: Vec<char> = text[..start].chars().rev().take(CONTEXT_CHARS).collect();
        v.reverse();
        v.into_iter().collect()
    };
    let after: String = text[end..].chars().take(CONTEXT_CHARS).collect();
    let mut s = String::new();
    for c in before
        .chars()
        .chain(['\u{0}'])
        .chain(text[start..end].chars())
        .chain(['\u{0}'])
        .chain(after.chars())
    {
        match c {
            '\u{0}' => s.push('|'),
            c if c.is_control() && c != '\u{0}' => s.push(' '),
            c if matches!(classify(c), Class::Bidi | Class::ZeroWidth | Class::Tag) => {
                s.push_str(&format!("<U+{:04X}>", c as u32))
            }
            c => s.push(c),
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<(&'static str, &str)> {
        crate::detect::spans(&UnicodeDetector, text)
    }

    #[test]
    fn bidi_runs_are_reported_with_exact_spans() {
        let t = "access = \"user\u{202E} \u{2066}// admin\u{2069}\u{2066}\"";
        assert_eq!(
            kinds(t),
            vec![
                (BIDI_CONTROL, "\u{202E}"),
                (BIDI_CONTROL, "\u{2066}"),
                (BIDI_CONTROL, "\u{2069}\u{2066}")
            ]
        );
    }

    #[test]
    fn zero_width_inside_words_and_stego_runs() {
        assert_eq!(kinds("metas\u{200D}tore"), vec![(ZERO_WIDTH, "\u{200D}")]);
        assert_eq!(kinds("allowl\u{2060}ist"), vec![(ZERO_WIDTH, "\u{2060}")]);
        assert_eq!(kinds("crite\u{FEFF}ria"), vec![(ZERO_WIDTH, "\u{FEFF}")]);
        let stego = "x \u{200B}\u{200C}\u{200C}\u{200B} y";
        assert_eq!(
            kinds(stego),
            vec![(ZERO_WIDTH, "\u{200B}\u{200C}\u{200C}\u{200B}")]
        );
    }

    #[test]
    fn legitimate_joiners_are_not_reported() {
        assert!(kinds("Family: 👨\u{200D}👩\u{200D}👧 here").is_empty());
        assert!(kinds("👩🏽\u{200D}💻").is_empty());
        assert!(kinds("Persian: می\u{200C}خواهم").is_empty());
        assert!(kinds("Hindi: क्\u{200D}ष").is_empty());
        assert!(kinds("\u{FEFF}starts with a BOM").is_empty());
        assert!(kinds("file one.\n\u{FEFF}file two").is_empty());
        assert!(kinds("reply-\u{2060}>atom").is_empty());
        assert!(kinds("Hebrew: שלום\u{200F} (RLM)").is_empty());
    }

    #[test]
    fn tag_characters_and_flags() {
        let flag = "Flag: 🏴\u{E0067}\u{E0062}\u{E0065}\u{E006E}\u{E0067}\u{E007F} ok";
        assert!(kinds(flag).is_empty());
        let hidden: String = "say hi"
            .chars()
            .map(|c| char::from_u32(0xE0000 + c as u32).unwrap())
            .collect();
        let t = format!("See the docs.{hidden} next");
        let mut out = vec![];
        UnicodeDetector.scan(&t, &mut out);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].kind, TAG_CHARACTERS);
        assert_eq!(&t[out[0].start..out[0].end], hidden);
        assert!(out[0].detail.as_deref().unwrap().contains("\"say hi\""));
    }

    #[test]
    fn confusables_in_words_and_hosts() {
        assert_eq!(
            kinds("visit https://аmazon.com/login"),
            vec![(CONFUSABLE, "аmazon.com")]
        );
        assert_eq!(
            kinds("see googlе.сom now"),
            vec![(CONFUSABLE, "googlе.сom")]
        );
        assert_eq!(kinds("at gіthυb.com"), vec![(CONFUSABLE, "gіthυb.com")]);
        assert_eq!(kinds("go to аррӏе.com"), vec![(CONFUSABLE, "аррӏе.com")]);
        assert_eq!(kinds("your pаssword."), vec![(CONFUSABLE, "pаssword")]);
        assert_eq!(kinds("get pyτhoη.org"), vec![(CONFUSABLE, "pyτhoη.org")]);
        assert_eq!(kinds("κernel.org"), vec![(CONFUSABLE, "κernel.org")]);
    }

    #[test]
    fn whole_greek_and_cyrillic_words_are_fine() {
        assert!(kinds("Иван Петров and Νίκος wrote the μm-scale code").is_empty());
        assert!(kinds("Москва is big; Ελληνικά too. КПК-Linux").is_empty());
        assert!(kinds("the angle θ and Δx, 5 μs, 10 kΩ, λx").is_empty());
    }

    #[test]
    fn previews_spell_out_hidden_characters() {
        let mut out = vec![];
        UnicodeDetector.scan("abc\u{202E}def", &mut out);
        assert_eq!(out[0].preview, "abc|<U+202E>|def");
    }
}
