//! Personal data with validators: `EMAIL` (public-suffix TLD, reserved domains and `git@host:`
//! remotes excluded), `CREDIT_CARD` (Luhn + network prefix and length), `US_SSN` (area, group and
//! serial rules), `IBAN` (country length + mod 97), `IP_ADDRESS` (IPv4/IPv6 parsed; loopback,
//! unspecified, netmasks and version strings excluded), `MAC_ADDRESS`, `CRYPTO` (Base58Check,
//! bech32/bech32m, EIP-55) and `PHONE` (numbering plans of the configured regions).
//!
//! Each family is found from a cheap byte gate (`@`, a digit after a boundary, two capitals and two
//! digits, `:`/`-`), then checked; only candidates reach the validators.

mod crypto;
pub mod phone;
pub mod validate;

use std::net::Ipv6Addr;

use super::{digit_run_starts, DetectorId, Hit, TextDetector};

pub const EMAIL: &str = "EMAIL";
pub const CREDIT_CARD: &str = "CREDIT_CARD";
pub const US_SSN: &str = "US_SSN";
pub const IBAN: &str = "IBAN";
pub const IP_ADDRESS: &str = "IP_ADDRESS";
pub const MAC_ADDRESS: &str = "MAC_ADDRESS";
pub const CRYPTO: &str = "CRYPTO";
pub const PHONE: &str = "PHONE";

/// Kinds in priority order: where two candidates overlap, the earlier kind wins.
pub const KINDS: [&str; 8] = [
    IBAN,
    EMAIL,
    CRYPTO,
    CREDIT_CARD,
    US_SSN,
    MAC_ADDRESS,
    IP_ADDRESS,
    PHONE,
];

#[derive(Debug, Clone)]
pub struct PiiDetector {
    phone_regions: Vec<String>,
}

impl Default for PiiDetector {
    fn default() -> Self {
        Self::new(&phone::DEFAULT_REGIONS).expect("default regions are valid")
    }
}

impl PiiDetector {
    /// A detector reading national phone formats of `phone_regions` (ISO 3166 alpha-2 codes).
    pub fn new<S: AsRef<str>>(phone_regions: &[S]) -> Result<Self, String> {
        Ok(Self {
            phone_regions: phone::parse_regions(phone_regions)?,
        })
    }
}

impl TextDetector for PiiDetector {
    fn id(&self) -> DetectorId {
        DetectorId::Pii
    }

    fn scan(&self, text: &str, out: &mut Vec<Hit>) {
        thread_local! {
            static RUNS: std::cell::RefCell<Vec<usize>> = const { std::cell::RefCell::new(Vec::new()) };
        }
        RUNS.with_borrow_mut(|runs| self.scan_with(text, runs, out));
    }
}

impl PiiDetector {
    fn scan_with(&self, text: &str, runs: &mut Vec<usize>, out: &mut Vec<Hit>) {
        let b = text.as_bytes();
        let first = out.len();
        runs.clear();
        digit_run_starts(b, runs);
        let mut found: Vec<Hit> = Vec::new();
        ibans(text, b, runs, &mut found);
        emails(text, b, &mut found);
        numbers(text, b, runs, &mut found);
        separated(text, b, &mut found);
        ipv4s(text, b, runs, &mut found);
        crypto::cryptos(text, b, runs, &mut found);
        let mut phones = Vec::new();
        phone::phones(text, b, runs, &self.phone_regions, &found, &mut phones);
        found.append(&mut phones);
        if found.is_empty() {
            return;
        }
        found.sort_by_key(|h| KINDS.iter().position(|k| *k == h.kind));
        // In priority order, keep a hit only if it overlaps nothing kept before it.
        for h in found {
            if !out[first..]
                .iter()
                .any(|k| h.start < k.end && k.start < h.end)
            {
                out.push(h);
            }
        }
        out[first..].sort_by_key(|h| h.start);
    }
}

#[inline]
fn is_alnum(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

fn hit(
    kind: &'static str,
    start: usize,
    end: usize,
    score: f64,
    norm: String,
    preview: String,
    detail: String,
) -> Hit {
    Hit {
        detector: DetectorId::Pii,
        kind,
        start,
        end,
        score,
        preview,
        detail: Some(detail),
        norm: Some(norm),
    }
}

// ---------------------------------------------------------------- e-mail

fn is_local(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'%' | b'+' | b'-')
}

fn is_domain(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'.' | b'-')
}

/// Domains reserved for documentation and testing (RFC 2606, RFC 6761).
fn reserved_domain(domain: &str) -> bool {
    let tld = domain.rsplit('.').next().unwrap_or("");
    if matches!(tld, "test" | "invalid" | "localhost" | "example" | "local") {
        return true;
    }
    let labels: Vec<&str> = domain.split('.').collect();
    // example.com / example.net / example.org and any subdomain of them.
    labels.len() >= 2
        && labels[labels.len() - 2] == "example"
        && matches!(tld, "com" | "net" | "org")
}

fn emails(text: &str, b: &[u8], out: &mut Vec<Hit>) {
    for at in memchr::memchr_iter(b'@', b) {
        let mut s = at;
        while s > 0 && is_local(b[s - 1]) {
            s -= 1;
        }
        while s < at && matches!(b[s], b'.' | b'-' | b'+') {
            s += 1;
        }
        let mut e = at + 1;
        while e < b.len() && is_domain(b[e]) {
            e += 1;
        }
        while e > at + 1 && matches!(b[e - 1], b'.' | b'-') {
            e -= 1;
        }
        if s == at || e <= at + 1 || b[at - 1] == b'.' || text[s..at].contains("..") {
            continue;
        }
        // `git@github.com:org/repo`: an SSH remote, not a mailbox.
        if e < b.len() && b[e] == b':' {
            continue;
        }
        let domain = text[at + 1..e].to_ascii_lowercase();
        let labels_ok = domain.split('.').count() >= 2
            && domain
                .split('.')
                .all(|l| !l.is_empty() && !l.starts_with('-') && !l.ends_with('-'));
        if !labels_ok || reserved_domain(&domain) {
            continue;
        }
        let registrable = psl::domain(domain.as_bytes())
            .filter(|d| d.suffix().is_known() && d.as_bytes().len() > d.suffix().as_bytes().len());
        let Some(reg) = registrable else { continue };
        let suffix = std::str::from_utf8(reg.suffix().as_bytes())
            .unwrap_or("")
            .to_string();
        let local = &text[s..at];
        let preview = format!("{}***@{}****.{}", &local[..1], &domain[..1], suffix);
        let norm = format!("{}@{}", local.to_ascii_lowercase(), domain);
        out.push(hit(
            EMAIL,
            s,
            e,
            0.9,
            norm,
            preview,
            format!("{{\"validator\":\"public_suffix\",\"suffix\":\"{suffix}\"}}"),
        ));
    }
}

// ---------------------------------------------------------------- digit groups: cards, SSNs

/// A run of digit groups joined by one consistent separator (space or hyphen), on the stack: only
/// the first 20 digits and 8 group lengths are kept, more than any card or SSN has.
struct Digits {
    start: usize,
    end: usize,
    n: usize,
    buf: [u8; 20],
    n_groups: usize,
    group_buf: [usize; 8],
    sep: Option<u8>,
}

impl Digits {
    /// The digits (the first 20 of a longer run).
    fn digits(&self) -> &[u8] {
        &self.buf[..self.n.min(20)]
    }

    /// The group lengths, or `None` beyond 8 groups.
    fn groups(&self) -> Option<&[usize]> {
        self.group_buf.get(..self.n_groups)
    }
}

fn left_ok(b: &[u8], i: usize) -> bool {
    i == 0
        || !(is_alnum(b[i - 1])
            || matches!(b[i - 1], b'.' | b'-' | b'+' | b'$' | b'#' | b'/' | b'*'))
}

fn right_ok(b: &[u8], e: usize) -> bool {
    if e >= b.len() {
        return true;
    }
    let c = b[e];
    if is_alnum(c) || matches!(c, b'-' | b'*') {
        return false;
    }
    // "1234.56": a decimal goes on. A comma is a field separator as often as a thousands one, and
    // the lengths and checksums below reject grouped amounts.
    !(c == b'.' && b.get(e + 1).is_some_and(u8::is_ascii_digit))
}

fn digit_groups(b: &[u8], start: usize) -> Digits {
    let mut d = Digits {
        start,
        end: start,
        n: 0,
        buf: [0; 20],
        n_groups: 0,
        group_buf: [0; 8],
        sep: None,
    };
    let mut i = start;
    loop {
        let g = i;
        while i < b.len() && b[i].is_ascii_digit() {
            if d.n < 20 {
                d.buf[d.n] = b[i];
            }
            d.n += 1;
            i += 1;
        }
        if let Some(slot) = d.group_buf.get_mut(d.n_groups) {
            *slot = i - g;
        }
        d.n_groups += 1;
        d.end = i;
        if d.n > 19 {
            break;
        }
        match (b.get(i), b.get(i + 1)) {
            (Some(&s @ (b' ' | b'-')), Some(n))
                if n.is_ascii_digit() && d.sep.is_none_or(|x| x == s) =>
            {
                d.sep = Some(s);
                i += 1;
            }
            _ => break,
        }
    }
    d
}

fn card_layout(groups: &[usize]) -> bool {
    match groups {
        [_] => true,
        [4, 6, 5] | [4, 6, 4] => true,
        [init @ .., last] => init.iter().all(|&g| g == 4) && (1..=4).contains(last),
        [] => false,
    }
}

fn mask_digits(text: &str, keep_last: usize) -> String {
    let total = text.bytes().filter(u8::is_ascii_digit).count();
    let mut seen = 0;
    text.chars()
        .map(|c| {
            if c.is_ascii_digit() {
                seen += 1;
                if seen > total - keep_last.min(total) {
                    c
                } else {
                    '*'
                }
            } else {
                c
            }
        })
        .collect()
}

fn numbers(text: &str, b: &[u8], runs: &[usize], out: &mut Vec<Hit>) {
    let mut done = 0;
    for &i in runs {
        if i < done || !left_ok(b, i) {
            continue;
        }
        let d = digit_groups(b, i);
        done = d.end;
        if !right_ok(b, d.end) {
            continue;
        }
        let span = &text[d.start..d.end];
        let n = d.n;
        if (12..=19).contains(&n)
            && d.groups().is_some_and(card_layout)
            && validate::luhn(d.digits())
        {
            if let Some(network) = validate::card_network(d.digits()) {
                out.push(hit(
                    CREDIT_CARD,
                    d.start,
                    d.end,
                    0.95,
                    String::from_utf8_lossy(d.digits()).into_owned(),
                    mask_digits(span, 4),
                    format!("{{\"validator\":\"luhn\",\"network\":\"{network}\"}}"),
                ));
                continue;
            }
        }
        // Nine bare digits are an SSN only as a delimited field or after an SSN label; a test
        // sequence like 123456789 never is.
        let ssn_layout = match d.groups() {
            Some([3, 2, 4]) => true,
            Some([9]) => {
                !is_progression(d.digits())
                    && (delimited_field(b, d.start, d.end) || ssn_label_before(text, d.start))
            }
            _ => false,
        };
        if n == 9 && ssn_layout && validate::ssn(d.digits()) {
            let score = if d.sep.is_some() { 0.9 } else { 0.6 };
            out.push(hit(
                US_SSN,
                d.start,
                d.end,
                score,
                String::from_utf8_lossy(d.digits()).into_owned(),
                mask_digits(span, 4),
                "{\"validator\":\"ssn_rules\"}".into(),
            ));
        }
    }
}

/// Digits or bytes that step by a constant (123456789, 00:00:00…, 12:34:56:78:9a:bc).
fn is_progression(v: &[u8]) -> bool {
    v.len() > 2
        && v.windows(2)
            .all(|w| w[1].wrapping_sub(w[0]) == v[1].wrapping_sub(v[0]))
}

fn delimited_field(b: &[u8], s: usize, e: usize) -> bool {
    let delim = |c: Option<&u8>| c.is_none_or(|c| matches!(c, b',' | b'\t' | b'|' | b';' | b'\n'));
    delim(s.checked_sub(1).and_then(|i| b.get(i))) && delim(b.get(e))
}

fn ssn_label_before(text: &str, s: usize) -> bool {
    let from = s.saturating_sub(32);
    let from = (from..s).find(|&i| text.is_char_boundary(i)).unwrap_or(s);
    let before = text[from..s].to_ascii_lowercase();
    before.contains("ssn") || before.contains("social security") || before.contains("ss#")
}

// ---------------------------------------------------------------- IBAN

fn ibans(text: &str, b: &[u8], runs: &[usize], out: &mut Vec<Hit>) {
    let mut done = 0;
    // An IBAN is two capitals then check digits: look just before each digit run.
    for &r in runs {
        if r < 2 || r - 2 < done || r + 2 > b.len() {
            continue;
        }
        let i = r - 2;
        let head = b[i].is_ascii_uppercase()
            && b[i + 1].is_ascii_uppercase()
            && b[i + 3].is_ascii_digit()
            && (i == 0 || !is_alnum(b[i - 1]));
        if !head {
            continue;
        }
        let Some(len) = validate::iban_length(&b[i..i + 2]) else {
            continue;
        };
        // Compact or printed in groups of four separated by single spaces.
        let mut compact = Vec::with_capacity(len);
        let mut j = i;
        while j < b.len() && compact.len() < len {
            let c = b[j];
            if c.is_ascii_alphanumeric() {
                compact.push(c.to_ascii_uppercase());
                j += 1;
            } else if c == b' '
                && compact.len() % 4 == 0
                && b.get(j + 1).is_some_and(u8::is_ascii_alphanumeric)
            {
                j += 1;
            } else {
                break;
            }
        }
        if compact.len() == len
            && (j >= b.len() || !is_alnum(b[j]))
            && validate::iban_mod97(&compact)
        {
            let span = &text[i..j];
            let masked: String = span
                .chars()
                .enumerate()
                .map(|(k, c)| {
                    if k < 2 || !c.is_ascii_alphanumeric() || k + 4 >= span.len() {
                        c
                    } else {
                        '*'
                    }
                })
                .collect();
            out.push(hit(
                IBAN,
                i,
                j,
                0.95,
                String::from_utf8_lossy(&compact).into_owned(),
                masked,
                "{\"validator\":\"mod97\"}".into(),
            ));
            done = j;
        }
    }
}

// ---------------------------------------------------------------- IP addresses

/// Words that make a dotted quad a version number rather than an address.
const VERSION_WORDS: &[&str] = &[
    "version",
    "ver",
    "v",
    "rv",
    "release",
    "build",
    "driver",
    "firmware",
    "installed",
    "upgraded",
    "update",
    "kernel",
    "patch",
    "package",
    "rev",
];

fn version_context(text: &str, start: usize) -> bool {
    let from = text[..start]
        .char_indices()
        .rev()
        .nth(24)
        .map_or(0, |(i, _)| i);
    let before = text[from..start].to_ascii_lowercase();
    // The nearest word, with only spacing, quotes, `:` or `=` between it and the number:
    // `v1.2.3.4`, `VERSION="1.2.3.4"`, `version: 1.2.3.4` (not `user:pass@1.2.3.4`).
    let gap = before
        .bytes()
        .rev()
        .take_while(|c| matches!(c, b' ' | b'\t' | b':' | b'=' | b'"' | b'\'' | b'('))
        .count();
    let head = &before[..before.len() - gap];
    let word = head
        .rsplit(|c: char| !c.is_ascii_alphabetic())
        .next()
        .unwrap_or("");
    !word.is_empty() && (VERSION_WORDS.contains(&word) || word.ends_with("version"))
}

fn is_netmask(o: &[u8; 4]) -> bool {
    let v = u32::from_be_bytes(*o);
    o[0] == 255 && v.leading_ones() + v.trailing_zeros() == 32
}

fn ipv4s(text: &str, b: &[u8], runs: &[usize], out: &mut Vec<Hit>) {
    let mut done = 0;
    for &i in runs {
        if i < done || (i > 0 && (is_alnum(b[i - 1]) || b[i - 1] == b'.')) {
            continue;
        }
        let mut octets = [0u8; 4];
        let mut j = i;
        let mut ok = true;
        for (k, o) in octets.iter_mut().enumerate() {
            let s = j;
            let mut v = 0u32;
            while j < b.len() && b[j].is_ascii_digit() && j - s < 4 {
                v = v * 10 + u32::from(b[j] - b'0');
                j += 1;
            }
            if j == s || j - s > 3 || v > 255 {
                ok = false;
                break;
            }
            *o = v as u8;
            if k < 3 {
                if b.get(j) != Some(&b'.') {
                    ok = false;
                    break;
                }
                j += 1;
            }
        }
        let boundary = j >= b.len()
            || !(is_alnum(b[j]) || (b[j] == b'.' && b.get(j + 1).is_some_and(u8::is_ascii_digit)));
        if ok && boundary {
            // 0.0.0.0/8 ("this network"), loopback, netmasks.
            let excluded = octets[0] == 0 || octets[0] == 127 || is_netmask(&octets);
            if !excluded && !version_context(text, i) {
                out.push(hit(
                    IP_ADDRESS,
                    i,
                    j,
                    0.8,
                    format!("{}.{}.{}.{}", octets[0], octets[1], octets[2], octets[3]),
                    format!("{}.{}.*.*", octets[0], octets[1]),
                    "{\"validator\":\"ipv4\"}".into(),
                ));
            }
            done = j;
        }
    }
}

/// Separators of IPv6 and MAC addresses (`:`, `-`, `.`), found in one pass and handed to each
/// family with its own "already covered up to" mark.
fn separated(text: &str, b: &[u8], out: &mut Vec<Hit>) {
    let (mut mac_done, mut ipv6_done) = (0, 0);
    for p in memchr::memchr3_iter(b':', b'-', b'.', b) {
        match b[p] {
            b'.' => cisco_mac(text, b, p, out),
            b':' => {
                mac(text, b, p, &mut mac_done, out);
                if p >= ipv6_done {
                    ipv6(text, b, p, &mut ipv6_done, out);
                }
            }
            _ => mac(text, b, p, &mut mac_done, out),
        }
    }
}

fn ipv6(text: &str, b: &[u8], p: usize, after: &mut usize, out: &mut Vec<Hit>) {
    let mut s = p;
    while s > 0 && (b[s - 1].is_ascii_hexdigit() || b[s - 1] == b':') {
        s -= 1;
    }
    let mut e = p;
    while e < b.len() && (b[e].is_ascii_hexdigit() || b[e] == b':') {
        e += 1;
    }
    *after = e;
    if (s > 0 && (is_alnum(b[s - 1]) || b[s - 1] == b'.'))
        || (e < b.len() && is_alnum(b[e]))
        || (b.get(e) == Some(&b'.') && b.get(e + 1).is_some_and(u8::is_ascii_digit))
    {
        return;
    }
    let cand = &text[s..e];
    if cand.bytes().filter(|&c| c == b':').count() < 2 {
        return;
    }
    let Ok(addr) = cand.parse::<Ipv6Addr>() else {
        return;
    };
    if addr.is_loopback() || addr.is_unspecified() {
        return;
    }
    // `::1:8080`: loopback with a port, not an address.
    let without_port = cand.rsplit_once(':').map(|(a, _)| a.parse::<Ipv6Addr>());
    if let Some(Ok(a)) = without_port {
        if cand.contains("::") && (a.is_loopback() || a.is_unspecified()) {
            return;
        }
    }
    let first = cand.split(':').next().unwrap_or("");
    out.push(hit(
        IP_ADDRESS,
        s,
        e,
        0.8,
        addr.to_string(),
        format!("{first}:****"),
        "{\"validator\":\"ipv6\"}".into(),
    ));
}

// ---------------------------------------------------------------- MAC addresses

fn mac(text: &str, b: &[u8], p: usize, done: &mut usize, out: &mut Vec<Hit>) {
    // The first separator of a MAC sits two hex digits in.
    if p < 2 || p - 2 < *done || p + 15 > b.len() {
        return;
    }
    let i = p - 2;
    let sep = b[p];
    let shaped = (0..6)
        .all(|k| b[i + 3 * k].is_ascii_hexdigit() && b[i + 3 * k + 1].is_ascii_hexdigit())
        && (0..5).all(|k| b[i + 3 * k + 2] == sep);
    if !shaped {
        return;
    }
    let e = i + 17;
    let bounded = (i == 0 || !(is_alnum(b[i - 1]) || b[i - 1] == sep))
        && (e >= b.len()
            || !(is_alnum(b[e])
                || (b[e] == sep && b.get(e + 1).is_some_and(u8::is_ascii_hexdigit))));
    let octets: Vec<u8> = (0..6)
        .map(|k| {
            let h = |c: u8| (c as char).to_digit(16).unwrap_or(0) as u8;
            h(b[i + 3 * k]) * 16 + h(b[i + 3 * k + 1])
        })
        .collect();
    // Placeholders: 00:00:00:00:00:00, ff:ff:…, 01:02:03:04:05:06, 12:34:56:78:9a:bc.
    if bounded && !is_progression(&octets) {
        let span = &text[i..e];
        let norm: String = span
            .chars()
            .filter(char::is_ascii_hexdigit)
            .collect::<String>()
            .to_ascii_lowercase();
        let s = sep as char;
        out.push(hit(
            MAC_ADDRESS,
            i,
            e,
            0.85,
            norm,
            format!("{}{s}**{s}**{s}**", &span[..8]),
            "{\"validator\":\"mac\"}".into(),
        ));
        *done = e;
    }
}

/// `0123.4567.89ab`: three dot-separated groups of four hex digits, at least one a letter so
/// that dotted numbers are not taken.
fn cisco_mac(text: &str, b: &[u8], p: usize, out: &mut Vec<Hit>) {
    if p < 4 || p + 10 > b.len() {
        return;
    }
    let i = p - 4;
    let e = i + 14;
    let shaped = b[p + 5] == b'.'
        && (0..3).all(|k| {
            b[i + 5 * k..i + 5 * k + 4]
                .iter()
                .all(u8::is_ascii_hexdigit)
        });
    if !shaped || !b[i..e].iter().any(u8::is_ascii_alphabetic) {
        return;
    }
    let bounded = (i == 0 || !(is_alnum(b[i - 1]) || b[i - 1] == b'.'))
        && (e >= b.len()
            || !(is_alnum(b[e])
                || (b[e] == b'.' && b.get(e + 1).is_some_and(u8::is_ascii_alphanumeric))));
    if bounded {
        let span = &text[i..e];
        let norm = span.replace('.', "").to_ascii_lowercase();
        out.push(hit(
            MAC_ADDRESS,
            i,
            e,
            0.8,
            norm,
            format!("{}.****.****", &span[..4]),
            "{\"validator\":\"mac\"}".into(),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(text: &str) -> Vec<(&'static str, &str)> {
        crate::detect::spans(&PiiDetector::default(), text)
    }

    #[test]
    fn phones_in_national_and_international_forms() {
        for (t, v) in [
            ("Call me at (212) 736-5000 today", "(212) 736-5000"),
            ("Tel: 1-212-736-5000.", "1-212-736-5000"),
            ("Rathaus +49 30 901820 (Zentrale)", "+49 30 901820"),
            ("Accueil : +33 1 42 76 40 40", "+33 1 42 76 40 40"),
            ("代表 03-3581-3111 まで", "03-3581-3111"),
            ("name,phone\nAda,2127365000\n", "2127365000"),
            ("whatsapp me 212.736.5000 anytime", "212.736.5000"),
            ("Ada Byron\nM: 212.736.5000\n", "212.736.5000"),
            ("Tel: +1.212.736.5000", "+1.212.736.5000"),
        ] {
            assert_eq!(found(t), [(PHONE, v)], "{t}");
        }
    }

    #[test]
    fn phone_shaped_numbers_that_are_not_phones() {
        for t in [
            "order 2127365000 shipped",
            "ticket (212) 736-5000",
            "amount 212 736 5000 USD",
            "see 212.736.5000 in the table",
            "epoch,1700000000,ok",
            "served from 192.168.1.1 now",
            "call 555-0100 999-1234-5678-9999",
            "(212) 736-50001",
            "phone: 1234567890",
            "Decimal('+35236450.6')",
            "<Buffer 01 02 03 04 05>",
            "IEEE Std 1800-2017 keywords",
            "failed tests: 571 612 1056",
            "<PHONE>,1757858551,Ada",
        ] {
            assert!(
                found(t).iter().all(|(k, _)| *k != PHONE),
                "{t}: {:?}",
                found(t)
            );
        }
    }

    #[test]
    fn phone_values_hash_as_e164() {
        let mut hits = Vec::new();
        PiiDetector::default().scan("Tel (212) 736-5000 or +1 212 736 5000", &mut hits);
        let norms: Vec<_> = hits.iter().map(|h| h.norm.clone().unwrap()).collect();
        assert_eq!(norms, ["+12127365000", "+12127365000"]);
        assert!(PiiDetector::new(&["XX"]).is_err());
    }

    #[test]
    fn crypto_addresses_need_their_checksums() {
        for v in [
            "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa",
            "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy",
            "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4",
            "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
            "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed",
        ] {
            assert_eq!(found(&format!("send to {v}.")), [(CRYPTO, v)], "{v}");
        }
        for v in [
            "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNb",
            "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t5",
            "0x5AAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
        ] {
            assert!(found(&format!("send to {v}.")).is_empty(), "{v}");
        }
    }

    #[test]
    fn emails_need_a_real_suffix_and_no_reserved_domain() {
        assert_eq!(
            found("mail jane.doe+x@gmail.com."),
            [(EMAIL, "jane.doe+x@gmail.com")]
        );
        assert_eq!(
            found("a@b.co.uk, c@yahoo.com.br"),
            [(EMAIL, "a@b.co.uk"), (EMAIL, "c@yahoo.com.br")]
        );
        assert!(found("alice@example.com bob@x.test c@d.invalid").is_empty());
        assert!(found("git@github.com:org/repo.git root@build-01 pi@raspberrypi").is_empty());
    }

    #[test]
    fn cards_need_luhn_and_a_network() {
        assert_eq!(
            found("card 4111 1111 1111 1111 ok"),
            [(CREDIT_CARD, "4111 1111 1111 1111")]
        );
        assert_eq!(
            found("amex 3782-822463-10005"),
            [(CREDIT_CARD, "3782-822463-10005")]
        );
        assert_eq!(
            found("mc 2221000000000009,"),
            [(CREDIT_CARD, "2221000000000009")]
        );
        assert!(
            found("4111 1111 1111 1112 and XXXX-XXXX-XXXX-1405 and 9111111111111111").is_empty()
        );
        assert!(found("price 4111111111111111.50").is_empty());
    }

    #[test]
    fn ssns_follow_the_rules() {
        assert_eq!(found("ssn 123-45-6789"), [(US_SSN, "123-45-6789")]);
        assert_eq!(found("ssn 123 45 6789"), [(US_SSN, "123 45 6789")]);
        assert_eq!(
            found("a,123-45-6789,5423264166960161,6108.65"),
            [(US_SSN, "123-45-6789"), (CREDIT_CARD, "5423264166960161")]
        );
        assert!(found("000-12-3456 666-12-3456 912-12-3456 123-00-4567 123-45-0000").is_empty());
        assert!(found("id 123-456-7890 and 12-345-6789").is_empty());
        assert_eq!(found("x,234567891,y"), [(US_SSN, "234567891")]);
        assert_eq!(found("SSN: 234567891"), [(US_SSN, "234567891")]);
        assert!(found("ticket 234567891 and ,123456789,").is_empty());
    }

    #[test]
    fn ibans_need_country_length_and_mod97() {
        assert_eq!(
            found("pay DE89 3704 0044 0532 0130 00 now"),
            [(IBAN, "DE89 3704 0044 0532 0130 00")]
        );
        assert_eq!(
            found("GB82WEST12345698765432"),
            [(IBAN, "GB82WEST12345698765432")]
        );
        assert!(found("DE89 3704 0044 0532 0130 01").is_empty());
    }

    #[test]
    fn ip_addresses_without_loopback_netmasks_or_versions() {
        assert_eq!(
            found("postgres://megan44:pw@207.249.170.128:5432/db"),
            [(IP_ADDRESS, "207.249.170.128")]
        );
        assert_eq!(
            found("host 192.168.1.20:80"),
            [(IP_ADDRESS, "192.168.1.20")]
        );
        assert_eq!(
            found("v6 2001:db8::8a2e:370:7334."),
            [(IP_ADDRESS, "2001:db8::8a2e:370:7334")]
        );
        assert!(found("127.0.0.1 0.0.0.0 0.19.2.1 ::1 255.255.255.0 mask").is_empty());
        assert!(found("version 8.16.20.20, driver 9.14.2.13, v1.2.3.4, rv:1.9.7.20").is_empty());
        assert!(found("listening on ::1:8080 now").is_empty());
        assert!(found("at 12:30:45 on 1.2.3.4.5").is_empty());
    }

    #[test]
    fn macs_in_cisco_form() {
        assert_eq!(
            found("to f19e.3358.ede6 via"),
            [(MAC_ADDRESS, "f19e.3358.ede6")]
        );
        assert!(found("1234.5678.9012 and 1.2.3").is_empty());
        assert!(found("00:00:00:00:00:00 12:34:56:78:9a:bc ff-ff-ff-ff-ff-ff").is_empty());
    }

    #[test]
    fn macs_in_colon_and_dash_forms() {
        assert_eq!(
            found("mac 00:1A:2b:3c:4D:5e."),
            [(MAC_ADDRESS, "00:1A:2b:3c:4D:5e")]
        );
        assert_eq!(
            found("to 1A-AF-C9-BE-39-26 via"),
            [(MAC_ADDRESS, "1A-AF-C9-BE-39-26")]
        );
    }

    #[test]
    fn previews_mask_values() {
        let mut out = vec![];
        PiiDetector::default().scan(
            "x jsmith@gmail.com 4111-1111-1111-1111 123-45-6789",
            &mut out,
        );
        let p: Vec<&str> = out.iter().map(|h| h.preview.as_str()).collect();
        assert_eq!(p, ["j***@g****.com", "****-****-****-1111", "***-**-6789"]);
        assert_eq!(out[1].norm.as_deref(), Some("4111111111111111"));
    }
}
