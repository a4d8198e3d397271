//! Phone numbers: a strict shape gate over digit runs, context rules, then validation against the
//! real numbering plans of libphonenumber (the `phonenumber` crate).
//!
//! A candidate is an optional `+`, then digit groups joined by single spaces, hyphens or dots, with
//! at most one parenthesised group. It is rejected when a word just before it names another kind
//! of number (order, ticket, invoice, ISBN, amount…) or a currency or unit follows it, when it is a
//! dotted quad, or when it is a bare 10/13-digit number in the range of Unix epochs (2000–2035).
//! International numbers (`+CC` or `00CC`) must be valid numbers. National numbers must be valid in
//! one of the configured regions *and* written as that region writes them: the digits equal the
//! national format (trunk prefix included) and the grouping is the national one or none at all.
//! Weak shapes — bare digits, dotted groups — also need a phone word nearby (`tel`, `call`,
//! `whatsapp`, `Mobil`, `☎`…) or to stand alone as a delimited field.

use std::collections::HashMap;
use std::sync::{LazyLock, OnceLock};

use phonenumber::metadata::{Metadata, DATABASE};
use regex::{Regex, RegexBuilder};

use super::{hit, left_ok, PHONE};
use crate::detect::Hit;

/// Regions whose national formats are recognized when none are configured.
pub const DEFAULT_REGIONS: [&str; 7] = ["US", "GB", "DE", "FR", "IN", "BR", "JP"];

/// Checks region codes (ISO 3166 alpha-2, case-insensitive) and returns them upper-cased.
pub fn parse_regions<S: AsRef<str>>(names: &[S]) -> Result<Vec<String>, String> {
    names
        .iter()
        .map(|n| {
            let id = n.as_ref().trim().to_ascii_uppercase();
            PLANS
                .by_region
                .contains_key(id.as_str())
                .then_some(id)
                .ok_or_else(|| format!("unknown phone region {:?}", n.as_ref()))
        })
        .collect()
}

/// One region of libphonenumber's metadata, its patterns compiled once.
struct RegionPlan {
    id: String,
    code: u16,
    national_prefix: Option<String>,
    leading_digits: Option<Regex>,
    general: Regex,
    /// Any number type (fixed line, mobile, toll free…): a valid number matches one.
    typed: Regex,
    formats: Vec<FormatPlan>,
}

#[derive(Clone)]
struct FormatPlan {
    leading: Option<Regex>,
    pattern: Regex,
    format: String,
    np_rule: Option<String>,
}

/// Every region's metadata, each compiled on first use (a process reading US numbers compiles
/// the +1 regions only).
struct Plans {
    by_region: HashMap<&'static str, (&'static Metadata, OnceLock<Option<RegionPlan>>)>,
    /// Region ids per calling code, the main country first.
    by_code: HashMap<u16, Vec<&'static str>>,
}

fn compile(pattern: &str, anchored: bool) -> Option<Regex> {
    let p = if anchored {
        format!("^(?:{pattern})$")
    } else {
        format!("^(?:{pattern})")
    };
    RegexBuilder::new(&p)
        .ignore_whitespace(true)
        .unicode(false)
        .build()
        .ok()
}

fn region_plan(m: &Metadata) -> Option<RegionPlan> {
    let d = m.descriptors();
    let typed: Vec<&str> = [
        d.fixed_line(),
        d.mobile(),
        d.toll_free(),
        d.premium_rate(),
        d.shared_cost(),
        d.personal_number(),
        d.voip(),
        d.pager(),
        d.uan(),
        d.voicemail(),
    ]
    .into_iter()
    .flatten()
    .map(|x| x.national_number().as_str())
    .filter(|p| !p.is_empty() && *p != "NA")
    .collect();
    let formats = m
        .formats()
        .iter()
        .filter_map(|f| {
            Some(FormatPlan {
                leading: match f.leading_digits().last() {
                    Some(l) => Some(compile(l.as_str(), false)?),
                    None => None,
                },
                pattern: compile(f.pattern().as_str(), true)?,
                format: f.format().to_string(),
                np_rule: f.national_prefix().map(str::to_string),
            })
        })
        .collect();
    Some(RegionPlan {
        id: m.id().to_string(),
        code: m.country_code(),
        national_prefix: m.national_prefix().map(str::to_string),
        leading_digits: match m.leading_digits() {
            Some(l) => Some(compile(l.as_str(), false)?),
            None => None,
        },
        general: compile(d.general().national_number().as_str(), true)?,
        typed: compile(&typed.join("|"), true)?,
        formats,
    })
}

/// Every region of the metadata, compiled on first use.
/// Every region of the metadata, indexed on first use; patterns compiled per region by [`plan`].
static PLANS: LazyLock<Plans> = LazyLock::new(|| {
    let mut by_region = HashMap::new();
    let mut by_code: HashMap<u16, Vec<&'static str>> = HashMap::new();
    for m in DATABASE.iter() {
        by_code.entry(m.country_code()).or_default().push(m.id());
        by_region.insert(m.id(), (m, OnceLock::new()));
    }
    // Main country first, so shared codes (+1, +7, +44…) resolve as libphonenumber does.
    for ids in by_code.values_mut() {
        ids.sort_by_key(|id| (!by_region[id].0.is_main_country_for_code(), *id));
    }
    Plans { by_region, by_code }
});

/// A region's compiled plan. Regions sharing a code without formats of their own are formatted
/// like the main country.
fn plan(id: &str) -> Option<&'static RegionPlan> {
    let (m, cell) = PLANS.by_region.get(id)?;
    cell.get_or_init(|| {
        let mut p = region_plan(m)?;
        if p.formats.is_empty() {
            let main = PLANS.by_code.get(&p.code).and_then(|ids| ids.first());
            if let Some(main) = main.filter(|main| **main != id).and_then(|main| plan(main)) {
                p.formats = main.formats.clone();
            }
        }
        Some(p)
    })
    .as_ref()
}

impl RegionPlan {
    fn valid(&self, nsn: &str) -> bool {
        self.general.is_match(nsn) && self.typed.is_match(nsn)
    }

    /// The national format of a valid national significant number, as libphonenumber writes it.
    fn national_format(&self, nsn: &str) -> Option<String> {
        let f = self.formats.iter().find(|f| {
            f.leading.as_ref().is_none_or(|l| l.is_match(nsn)) && f.pattern.is_match(nsn)
        })?;
        let caps = f.pattern.captures(nsn)?;
        let mut first = true;
        let mut out = String::with_capacity(nsn.len() + 8);
        let mut rest = f.format.as_str();
        while let Some(i) = rest.find('$') {
            out.push_str(&rest[..i]);
            let n = rest[i + 1..].bytes().take_while(u8::is_ascii_digit).count();
            let g: usize = rest[i + 1..i + 1 + n].parse().ok()?;
            let text = caps.get(g).map_or("", |m| m.as_str());
            match (&f.np_rule, first) {
                (Some(rule), true) => out.push_str(
                    &rule
                        .replace("$NP", self.national_prefix.as_deref().unwrap_or(""))
                        .replace("$FG", text),
                ),
                _ => out.push_str(text),
            }
            first = false;
            rest = &rest[i + 1 + n..];
        }
        out.push_str(rest);
        Some(out)
    }
}

/// The region of a national significant number among those sharing its calling code.
fn region_for_code(code: u16, nsn: &str) -> Option<&'static RegionPlan> {
    let ids = PLANS.by_code.get(&code)?;
    let regions = ids.iter().filter_map(|id| plan(id));
    let mut valid = None;
    for r in regions {
        if r.leading_digits.as_ref().is_some_and(|l| l.is_match(nsn)) {
            return r.valid(nsn).then_some(r);
        }
        if valid.is_none() && r.valid(nsn) {
            valid = Some(r);
        }
    }
    valid
}

/// Words that, just before a number, say it is something else.
const NOT_PHONE_WORDS: &[&str] = &[
    "order",
    "ticket",
    "pid",
    "id",
    "invoice",
    "inv",
    "receipt",
    "tracking",
    "isbn",
    "ref",
    "reference",
    "no",
    "nr",
    "amount",
    "total",
    "price",
    "cost",
    "paid",
    "usd",
    "eur",
    "jpy",
    "gbp",
    "inr",
    "brl",
    "sku",
    "serial",
    "acct",
    "account",
    "zip",
    "postal",
    "build",
    "version",
    "v",
    "port",
    "txn",
    "transaction",
    "batch",
    "lot",
    "row",
    "case",
    "issue",
    "pr",
    "commit",
    "epoch",
    "ts",
    "timestamp",
    "created",
    "size",
    "bytes",
];

/// Words that announce a phone number within a few words.
const PHONE_WORDS: &[&str] = &[
    "phone",
    "tel",
    "telephone",
    "call",
    "mobile",
    "mobil",
    "mob",
    "cell",
    "fax",
    "contact",
    "reach",
    "whatsapp",
    "hotline",
    "sms",
    "text",
    "dial",
    "ring",
    "telefon",
    "téléphone",
    "tél",
    "portable",
    "handy",
    "celular",
    "telefone",
    "office",
    "home",
    "work",
    "ph",
];

/// Phone words in scripts without spaces, and symbols.
const PHONE_MARKS: &[&str] = &["電話", "携帯", "☎", "📞", "📱"];

/// What follows an amount or a measurement.
const UNITS_AFTER: &[&str] = &[
    "usd", "eur", "jpy", "gbp", "inr", "brl", "chf", "cad", "aud", "cny", "ms", "s", "sec", "kb",
    "mb", "gb", "bytes",
];

struct Candidate {
    start: usize,
    end: usize,
    /// Digit-group lengths as written.
    groups: Vec<usize>,
    digits: String,
    plus: bool,
    paren: bool,
    dotted: bool,
    dashed: bool,
}

impl Candidate {
    /// `+CC…`, or `00CC …` in groups (the international call prefix of most of the world).
    fn international(&self) -> bool {
        self.plus || (self.digits.starts_with("00") && self.groups.len() > 1 && self.groups[0] <= 4)
    }
}

fn candidate(b: &[u8], start: usize) -> Option<Candidate> {
    let mut c = Candidate {
        start,
        end: start,
        groups: Vec::with_capacity(6),
        digits: String::with_capacity(16),
        plus: false,
        paren: false,
        dotted: false,
        dashed: false,
    };
    let mut j = start;
    if b[j] == b'+' {
        c.plus = true;
        j += 1;
    }
    let mut last_end = j;
    loop {
        let open = b.get(j) == Some(&b'(') && !c.paren;
        let g = if open { j + 1 } else { j };
        let mut k = g;
        while k < b.len() && b[k].is_ascii_digit() && k - g < 15 {
            k += 1;
        }
        let closed = !open || b.get(k) == Some(&b')');
        if k == g || !closed || c.digits.len() + (k - g) > 15 {
            if c.groups.is_empty() {
                return None;
            }
            break;
        }
        c.paren |= open;
        c.groups.push(k - g);
        c.digits.push_str(std::str::from_utf8(&b[g..k]).ok()?);
        j = if open { k + 1 } else { k };
        last_end = j;
        // One separator, or none after a closing parenthesis, then the next group.
        let sep = b
            .get(j)
            .copied()
            .filter(|s| matches!(s, b' ' | b'-' | b'.'));
        let next = j + usize::from(sep.is_some());
        let more = b
            .get(next)
            .is_some_and(|&n| n.is_ascii_digit() || (n == b'(' && !c.paren));
        if !more || (sep.is_none() && !open) || c.groups.len() == 6 {
            break;
        }
        c.dotted |= sep == Some(b'.');
        c.dashed |= sep == Some(b'-');
        j = next;
    }
    c.end = last_end;
    Some(c)
}

fn right_ok(b: &[u8], e: usize) -> bool {
    match b.get(e) {
        None => true,
        Some(&c)
            if c.is_ascii_alphanumeric()
                || matches!(c, b'-' | b'*' | b'%' | b'/' | b'@' | b'_') =>
        {
            false
        }
        Some(b'.' | b':') => !b.get(e + 1).is_some_and(u8::is_ascii_digit),
        _ => true,
    }
}

/// The same line, up to `n` bytes before `s`.
fn line_before(text: &str, s: usize, n: usize) -> &str {
    let mut from = s.saturating_sub(n);
    while !text.is_char_boundary(from) {
        from += 1;
    }
    let w = &text[from..s];
    w.rsplit('\n').next().unwrap_or(w)
}

/// Word spans (letters only) of `s`, without `<TAG>`-style placeholders.
fn words(s: &str) -> impl Iterator<Item = (usize, &str)> {
    s.split(|c: char| !c.is_alphabetic())
        .map(move |w| (w.as_ptr() as usize - s.as_ptr() as usize, w))
        .filter(move |(at, w)| !(w.is_empty() || (*at > 0 && s.as_bytes()[at - 1] == b'<')))
}

fn one_of(w: &str, list: &[&str]) -> bool {
    list.iter().any(|x| x.eq_ignore_ascii_case(w))
}

fn negative_before(before: &str) -> bool {
    let tail = before.trim_end_matches(|c: char| !c.is_alphanumeric());
    if tail.ends_with(|c: char| c.is_ascii_digit()) {
        return false;
    }
    let last = tail
        .rsplit(|c: char| !c.is_alphabetic())
        .next()
        .unwrap_or("");
    one_of(last, NOT_PHONE_WORDS)
}

fn phone_word_before(before: &str) -> bool {
    if PHONE_MARKS.iter().any(|m| before.contains(m)) {
        return true;
    }
    // `M: `, `T: `, `F: `… as in signatures.
    let t = before.trim_end();
    if let Some(head) = t.strip_suffix(':') {
        let mut rev = head.chars().rev();
        if rev
            .next()
            .is_some_and(|c| "mtpfchwo".contains(c.to_ascii_lowercase()))
            && rev.next().is_none_or(|c| !c.is_alphanumeric())
        {
            return true;
        }
    }
    words(before).any(|(at, w)| before.len() - (at + w.len()) <= 25 && one_of(w, PHONE_WORDS))
}

fn unit_after(text: &str, e: usize) -> bool {
    let rest = &text.as_bytes()[e..];
    let rest = rest.strip_prefix(b" ").unwrap_or(rest);
    if rest.first().is_some_and(|c| matches!(c, b'%' | b'$')) {
        return true;
    }
    if ["€", "£", "¥", "₹"]
        .iter()
        .any(|s| rest.starts_with(s.as_bytes()))
    {
        return true;
    }
    let n = rest.iter().take_while(|c| c.is_ascii_alphabetic()).count();
    n > 0
        && UNITS_AFTER
            .iter()
            .any(|u| rest[..n].eq_ignore_ascii_case(u.as_bytes()))
}

/// A field of a delimited row: a separator on one side at least, a line end or the text's end at
/// most on the other. A number alone on its line is more often a table entry.
fn delimited(b: &[u8], s: usize, e: usize) -> bool {
    let field = |c: Option<&u8>| c.is_some_and(|c| matches!(c, b',' | b'\t' | b';'));
    let edge = |c: Option<&u8>| c.is_none_or(|c| matches!(c, b'\n' | b'\r'));
    let (l, r) = (s.checked_sub(1).and_then(|i| b.get(i)), b.get(e));
    (field(l) || edge(l)) && (field(r) || edge(r)) && (field(l) || field(r))
}

fn looks_like_epoch(c: &Candidate) -> bool {
    if c.groups.len() != 1 || c.plus {
        return false;
    }
    let v: u64 = c.digits.parse().unwrap_or(0);
    match c.digits.len() {
        10 => (946_684_800..=2_051_222_400).contains(&v),
        13 => (946_684_800_000..=2_051_222_400_000).contains(&v),
        _ => false,
    }
}

/// Groups that count (`01 02 03 04 05`), digits that step (`1234567890`), a year range
/// (`1800-2017`), a date (`2023-01-15`, `15.01.2023`) or a decimal (`+35236450.6`, two groups
/// joined by a dot).
fn counting(c: &Candidate) -> bool {
    let mut at = 0;
    let values: Vec<u64> = c
        .groups
        .iter()
        .map(|&g| {
            let v = c.digits[at..at + g].parse().unwrap_or(0);
            at += g;
            v
        })
        .collect();
    let year = |v: u64| (1800..=2099).contains(&v);
    let digits = c.digits.as_bytes();
    (values.len() >= 3 && values.windows(2).all(|w| w[1] == w[0] + 1))
        || (digits.len() >= 7
            && digits
                .windows(2)
                .all(|w| (w[1] + 10 - w[0]) % 10 == (digits[1] + 10 - digits[0]) % 10))
        || (c.dotted && c.groups.len() == 2)
        || (c.groups == [4, 4] && year(values[0]) && year(values[1]))
        || (!c.plus && date(&c.groups, &values))
}

fn date(groups: &[usize], v: &[u64]) -> bool {
    let year = |v: u64| (1800..=2099).contains(&v);
    let month = |v: u64| (1..=12).contains(&v);
    let day = |v: u64| (1..=31).contains(&v);
    match groups {
        [4, 2, 2, ..] => year(v[0]) && month(v[1]) && day(v[2]),
        [2, 2, 4, ..] => year(v[2]) && ((month(v[1]) && day(v[0])) || (month(v[0]) && day(v[1]))),
        _ => false,
    }
}

fn digit_groups(s: &str) -> Vec<usize> {
    s.split(|c: char| !c.is_ascii_digit())
        .filter(|g| !g.is_empty())
        .map(str::len)
        .collect()
}

/// A validated number: E.164 form, region, and whether it was written in its canonical grouping.
struct Valid {
    e164: String,
    region: &'static str,
    canon: bool,
    /// The region writes its groups apart with spaces only (FR `01 42 76 40 40`, not US).
    spaced: bool,
}

fn validate(c: &Candidate, regions: &[String]) -> Option<Valid> {
    if c.international() {
        let d = if c.plus {
            &c.digits[..]
        } else {
            &c.digits[2..]
        };
        for cc_len in 1..=3.min(d.len()) {
            let Ok(code) = d[..cc_len].parse::<u16>() else {
                continue;
            };
            if !PLANS.by_code.contains_key(&code) {
                continue;
            }
            let r = region_for_code(code, &d[cc_len..])?;
            return Some(Valid {
                e164: format!("+{d}"),
                region: &r.id,
                canon: true,
                spaced: true,
            });
        }
        return None;
    }
    let mut best = None;
    for id in regions {
        let Some(home) = plan(id) else {
            continue;
        };
        let np = home.national_prefix.as_deref().unwrap_or("");
        // With or without the trunk prefix, as the region's numbers allow.
        let stripped = (!np.is_empty())
            .then(|| c.digits.strip_prefix(np))
            .flatten();
        for (nsn, prefixed) in [(stripped, true), (Some(c.digits.as_str()), false)] {
            let Some(nsn) = nsn else { continue };
            let Some(r) = region_for_code(home.code, nsn) else {
                continue;
            };
            let Some(national) = r.national_format(nsn) else {
                continue;
            };
            let fg = digit_groups(&national);
            let fd: String = national.chars().filter(char::is_ascii_digit).collect();
            let bare = c.groups.len() == 1;
            let canon = if c.digits == fd {
                bare || c.groups == fg
            } else if prefixed && fd == nsn {
                // A trunk prefix the national format leaves out: 1 (415) 555-0100, 1-415-555-0100.
                bare || c.groups[1..] == fg[..] || c.groups == [np.len(), fd.len()]
            } else {
                continue;
            };
            let spaced = national
                .trim_matches(|c: char| !c.is_ascii_digit())
                .chars()
                .all(|c| c.is_ascii_digit() || c == ' ');
            let v = Valid {
                e164: format!("+{}{nsn}", r.code),
                region: &r.id,
                canon,
                spaced,
            };
            if canon {
                return Some(v);
            }
            best.get_or_insert(v);
        }
    }
    best
}

pub(super) fn phones(
    text: &str,
    b: &[u8],
    runs: &[usize],
    regions: &[String],
    taken: &[Hit],
    out: &mut Vec<Hit>,
) {
    let mut done = 0;
    for &r in runs {
        let s = if r > 0 && matches!(b[r - 1], b'+' | b'(') {
            r - 1
        } else {
            r
        };
        if s < done || !enough_digits(b, r) || !phone_left_ok(b, s) {
            continue;
        }
        let Some(c) = candidate(b, s) else { continue };
        done = c.end;
        let n = c.digits.len();
        if !(7..=15).contains(&n) || !right_ok(b, c.end) {
            continue;
        }
        if taken.iter().any(|h| c.start < h.end && h.start < c.end) {
            continue;
        }
        let dotted_quad = c.dotted && c.groups.len() == 4 && c.groups.iter().all(|&g| g <= 3);
        if dotted_quad || counting(&c) || unit_after(text, c.end) {
            continue;
        }
        let before = line_before(text, c.start, 40);
        if negative_before(before) {
            continue;
        }
        let context = phone_word_before(before);
        if looks_like_epoch(&c) && !context {
            continue;
        }
        let shaped = c.plus || c.paren || (c.groups.len() > 1 && !c.dotted);
        let weak_ok = context || delimited(b, c.start, c.end);
        if !shaped && !weak_ok {
            continue;
        }
        let Some(Valid {
            e164,
            region,
            canon,
            spaced,
        }) = validate(&c, regions)
        else {
            continue;
        };
        if !c.international() {
            let strong =
                c.paren || (canon && c.groups.len() > 1 && !c.dotted && (c.dashed || spaced));
            if (!canon && c.groups.len() > 1) || (!strong && !weak_ok) {
                continue;
            }
        }
        let span = &text[c.start..c.end];
        out.push(hit(
            PHONE,
            c.start,
            c.end,
            if context || c.plus { 0.9 } else { 0.75 },
            e164,
            super::mask_digits(span, 2),
            format!("{{\"validator\":\"numbering_plan\",\"region\":\"{region}\"}}"),
        ));
    }
}

/// Cheap pre-check before building a candidate: seven digits among the next phone-like bytes.
fn enough_digits(b: &[u8], r: usize) -> bool {
    let mut n = 0;
    for &c in b[r..].iter().take(24) {
        match c {
            b'0'..=b'9' => n += 1,
            b' ' | b'-' | b'.' | b'(' | b')' => {}
            _ => break,
        }
        if n == 7 {
            return true;
        }
    }
    false
}

fn phone_left_ok(b: &[u8], s: usize) -> bool {
    if s == 0 {
        return true;
    }
    let p = b[s - 1];
    left_ok(b, s) && !matches!(p, b':' | b'&' | b'=' | b'\\' | b'@' | b'(' | b'+')
}
