//! Credentials whose provider format makes them certain: `AWS_ACCESS_KEY_ID`, `GITHUB_TOKEN`
//! (classic tokens with their CRC32 check, fine-grained `github_pat_`), `SLACK_TOKEN` (tokens and
//! webhook URLs),
//! `STRIPE_KEY` (live secret and restricted keys), `GOOGLE_API_KEY`, `JWT` (a header that decodes
//! to JSON with `alg`) and `PRIVATE_KEY` (the whole PEM block; public keys and certificates are not
//! secrets). Each is found from its literal prefix with `memmem`, then checked.

use memchr::memmem;

use super::{DetectorId, Hit, TextDetector};

pub const AWS_ACCESS_KEY_ID: &str = "AWS_ACCESS_KEY_ID";
pub const GITHUB_TOKEN: &str = "GITHUB_TOKEN";
pub const SLACK_TOKEN: &str = "SLACK_TOKEN";
pub const STRIPE_KEY: &str = "STRIPE_KEY";
pub const GOOGLE_API_KEY: &str = "GOOGLE_API_KEY";
pub const JWT: &str = "JWT";
pub const PRIVATE_KEY: &str = "PRIVATE_KEY";
pub const AWS_SECRET_KEY: &str = "AWS_SECRET_KEY";
pub const PASSWORD: &str = "PASSWORD";

mod assign;

#[derive(Debug, Default, Clone)]
pub struct SecretDetector;

fn is_token(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b'-'
}

/// End of the run of bytes satisfying `f` from `i`.
fn run_end(b: &[u8], i: usize, f: impl Fn(u8) -> bool) -> usize {
    b[i..]
        .iter()
        .position(|&c| !f(c))
        .map_or(b.len(), |p| i + p)
}

fn starts_token(b: &[u8], i: usize) -> bool {
    i == 0 || !is_token(b[i - 1])
}

fn secret(
    kind: &'static str,
    start: usize,
    end: usize,
    text: &str,
    keep: usize,
    detail: &str,
) -> Hit {
    let v = &text[start..end];
    let keep = keep.min(v.len());
    Hit {
        detector: DetectorId::Secret,
        kind,
        start,
        end,
        score: 0.95,
        preview: format!("{}***({} chars)", &v[..keep], v.chars().count()),
        detail: Some(format!("{{\"validator\":\"{detail}\"}}")),
        norm: None,
    }
}

const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// Classic GitHub tokens end in the base62 CRC32 of their 30 random characters.
fn github_checksum_ok(body: &[u8]) -> bool {
    if body.len() != 36 {
        return false;
    }
    let mut crc = crc32(&body[..30]);
    let mut enc = [b'0'; 6];
    for slot in enc.iter_mut().rev() {
        *slot = BASE62[(crc % 62) as usize];
        crc /= 62;
    }
    enc == body[30..]
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

fn base64url_decode(s: &[u8]) -> Option<Vec<u8>> {
    let val = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'-' | b'+' => 62,
            b'_' | b'/' => 63,
            _ => return None,
        } as u32)
    };
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let mut acc = 0u32;
    let mut bits = 0;
    for &c in s.iter().take_while(|&&c| c != b'=') {
        acc = (acc << 6) | val(c)?;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    Some(out)
}

/// Provider prefixes and `://`, found case-sensitively in one SIMD-prefiltered pass.
const PREFIXES: [&str; 16] = [
    "AKIA",
    "ASIA",
    "ghp_",
    "gho_",
    "ghu_",
    "ghs_",
    "ghr_",
    "github_pat_",
    "xox",
    "hooks.slack.com/services/",
    "sk_live_",
    "rk_live_",
    "AIza",
    "eyJ",
    "-----BEGIN ",
    "://",
];

/// Names of credentials in assignments, in any case.
const NAMES: [&str; 5] = ["password", "passwd", "pwd", "secret", "pass"];

fn automaton(patterns: &[&str], any_case: bool) -> aho_corasick::AhoCorasick {
    aho_corasick::AhoCorasick::builder()
        .ascii_case_insensitive(any_case)
        .match_kind(aho_corasick::MatchKind::LeftmostLongest)
        .build(patterns)
        .expect("literal patterns")
}

static PREFIX_GATE: std::sync::LazyLock<aho_corasick::AhoCorasick> =
    std::sync::LazyLock::new(|| automaton(&PREFIXES, false));
static NAME_GATE: std::sync::LazyLock<aho_corasick::AhoCorasick> =
    std::sync::LazyLock::new(|| automaton(&NAMES, true));

impl TextDetector for SecretDetector {
    fn id(&self) -> DetectorId {
        DetectorId::Secret
    }

    fn scan(&self, text: &str, out: &mut Vec<Hit>) {
        let b = text.as_bytes();
        let mut hits = Vec::new();
        let prefixes = PREFIX_GATE
            .find_iter(b)
            .map(|m| (m.start(), m.end(), PREFIXES[m.pattern().as_usize()]));
        for (i, end, gate) in prefixes {
            match gate {
                "AKIA" | "ASIA" => aws_key_id(text, i, &mut hits),
                "ghp_" | "gho_" | "ghu_" | "ghs_" | "ghr_" => github(text, i, &mut hits),
                "github_pat_" => {
                    let e = run_end(b, i + 11, |c| c.is_ascii_alphanumeric() || c == b'_');
                    if starts_token(b, i) && e - i >= 60 {
                        hits.push(secret(GITHUB_TOKEN, i, e, text, 11, "github_pat_format"));
                    }
                }
                "xox" => slack(text, i, &mut hits),
                "hooks.slack.com/services/" => slack_webhook(text, i, &mut hits),
                "sk_live_" | "rk_live_" => {
                    let e = run_end(b, i + 8, |c| c.is_ascii_alphanumeric());
                    if starts_token(b, i) && e - i >= 8 + 24 && (e == b.len() || !is_token(b[e])) {
                        hits.push(secret(STRIPE_KEY, i, e, text, 8, "stripe_format"));
                    }
                }
                "AIza" => {
                    let e = run_end(b, i + 4, is_token);
                    if starts_token(b, i) && e - i == 39 {
                        hits.push(secret(GOOGLE_API_KEY, i, e, text, 4, "google_key_format"));
                    }
                }
                "eyJ" => jwt(text, i, &mut hits),
                "-----BEGIN " => pem(text, i, &mut hits),
                "://" => assign::url_credentials(text, i, &mut hits),
                _ => debug_assert!(end > i, "{gate}"),
            }
        }
        assign::assignments(text, &NAME_GATE, &mut hits);
        // Where a provider format and a `name = value` assignment cover the same value, the
        // provider's kind is kept.
        hits.sort_by_key(|h| (h.start, matches!(h.kind, PASSWORD | AWS_SECRET_KEY)));
        hits.dedup_by(|a, b| a.start < b.end && b.start < a.end);
        out.extend(hits);
    }
}

fn aws_key_id(text: &str, i: usize, hits: &mut Vec<Hit>) {
    let b = text.as_bytes();
    let e = i + 20;
    let ok = e <= b.len()
        && starts_token(b, i)
        && (e == b.len() || !is_token(b[e]))
        && b[i + 4..e]
            .iter()
            .all(|c| c.is_ascii_uppercase() || (b'2'..=b'7').contains(c))
        && !text[i..e].ends_with("EXAMPLE");
    if ok {
        hits.push(secret(
            AWS_ACCESS_KEY_ID,
            i,
            e,
            text,
            4,
            "aws_key_id_format",
        ));
    }
}

fn github(text: &str, i: usize, hits: &mut Vec<Hit>) {
    let b = text.as_bytes();
    let e = run_end(b, i + 4, |c| c.is_ascii_alphanumeric());
    if starts_token(b, i) && (e == b.len() || !is_token(b[e])) && github_checksum_ok(&b[i + 4..e]) {
        hits.push(secret(GITHUB_TOKEN, i, e, text, 4, "crc32"));
    }
}

fn slack(text: &str, i: usize, hits: &mut Vec<Hit>) {
    let b = text.as_bytes();
    let ok_kind = b.get(i + 3).is_some_and(|c| b"baprs".contains(c)) && b.get(i + 4) == Some(&b'-');
    if !ok_kind || !starts_token(b, i) {
        return;
    }
    let e = run_end(b, i + 5, |c| c.is_ascii_alphanumeric() || c == b'-');
    let parts: Vec<&[u8]> = b[i + 5..e].split(|&c| c == b'-').collect();
    let numeric = parts
        .iter()
        .filter(|p| p.len() >= 8 && p.iter().all(u8::is_ascii_digit))
        .count();
    if parts.len() >= 3 && numeric >= 2 && e - i >= 30 {
        hits.push(secret(SLACK_TOKEN, i, e, text, 5, "slack_format"));
    }
}

/// Incoming webhooks carry their secret in the URL.
fn slack_webhook(text: &str, i: usize, hits: &mut Vec<Hit>) {
    let b = text.as_bytes();
    let start = if i >= 8 && &b[i - 8..i] == b"https://" {
        i - 8
    } else {
        i
    };
    let e = run_end(b, i + 25, |c| c.is_ascii_alphanumeric() || c == b'/');
    let parts = b[i + 25..e]
        .split(|&c| c == b'/')
        .filter(|p| !p.is_empty())
        .count();
    if parts >= 3 && e - i >= 25 + 40 {
        hits.push(secret(SLACK_TOKEN, start, e, text, 32, "slack_webhook"));
    }
}

fn jwt(text: &str, i: usize, hits: &mut Vec<Hit>) {
    let b = text.as_bytes();
    if !starts_token(b, i) {
        return;
    }
    let seg = |s: usize| {
        run_end(b, s, |c| {
            c.is_ascii_alphanumeric() || c == b'-' || c == b'_'
        })
    };
    let h_end = seg(i);
    if b.get(h_end) != Some(&b'.') {
        return;
    }
    let p_end = seg(h_end + 1);
    if b.get(p_end) != Some(&b'.') || p_end - h_end < 4 {
        return;
    }
    let s_end = seg(p_end + 1);
    let header = base64url_decode(&b[i..h_end])
        .and_then(|h| serde_json::from_slice::<serde_json::Value>(&h).ok());
    if s_end - p_end > 8 && header.is_some_and(|h| h.get("alg").is_some()) {
        hits.push(secret(JWT, i, s_end, text, 3, "jwt_header"));
    }
}

/// The whole PEM block of a private key; public keys and certificates are not secrets.
fn pem(text: &str, i: usize, hits: &mut Vec<Hit>) {
    let b = text.as_bytes();
    let Some(line_end) = memmem::find(&b[i + 11..], b"-----").map(|p| i + 11 + p) else {
        return;
    };
    let label = &text[i + 11..line_end];
    if !label.ends_with("PRIVATE KEY") && !label.ends_with("PRIVATE KEY BLOCK") {
        return;
    }
    let end_marker = format!("-----END {label}-----");
    if let Some(p) = memmem::find(&b[line_end..], end_marker.as_bytes()) {
        let e = line_end + p + end_marker.len();
        let mut h = secret(PRIVATE_KEY, i, e, text, 0, "pem_block");
        h.preview = format!("-----BEGIN {label}----- … ({} bytes)", e - i);
        hits.push(h);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(text: &str) -> Vec<(&'static str, &str)> {
        crate::detect::spans(&SecretDetector, text)
    }

    fn ghp(random: &str) -> String {
        let mut crc = crc32(random.as_bytes());
        let mut enc = [b'0'; 6];
        for slot in enc.iter_mut().rev() {
            *slot = BASE62[(crc % 62) as usize];
            crc /= 62;
        }
        format!("ghp_{random}{}", String::from_utf8_lossy(&enc))
    }

    #[test]
    fn provider_tokens() {
        let t = ghp("abcdefghijklmnopqrstuvwxyz0123");
        assert_eq!(found(&format!("token={t}\n")), [(GITHUB_TOKEN, t.as_str())]);
        let bad = format!("{}x", &t[..t.len() - 1]);
        assert!(found(&bad).is_empty(), "checksum");
        assert_eq!(
            found("id AKIAQWERTYUIOPASDFGH."),
            [(AWS_ACCESS_KEY_ID, "AKIAQWERTYUIOPASDFGH")]
        );
        assert!(found("AKIAIOSFODNN7EXAMPLE").is_empty());
        let s = "xoxb-863119929426-280092166398-bLTM4kzPwgthXG3yxReyqzL0";
        assert_eq!(found(s), [(SLACK_TOKEN, s)]);
        let w = "https://hooks.slack.com/services/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";
        assert_eq!(found(&format!("url: {w}\n")), [(SLACK_TOKEN, w)]);
        let k = "sk_live_nDuEgMLA9WHszJpMNpS5wwiN";
        assert_eq!(found(&format!("'{k}'")), [(STRIPE_KEY, k)]);
        let g = "AIzaSyDdI0hCZtE6vySjMm-WEfRq3CPzqKqqsHI";
        assert_eq!(found(g), [(GOOGLE_API_KEY, g)]);
    }

    #[test]
    fn jwt_needs_a_json_header() {
        let j = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U";
        assert_eq!(found(&format!("Bearer {j} x")), [(JWT, j)]);
        assert!(found("eyJzb21lIjoidGhpbmcifQ.eyJhIjoxfQ.c2lnbmF0dXJlcw").is_empty());
    }

    #[test]
    fn private_keys_but_not_public_material() {
        let k = "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIB\n-----END EC PRIVATE KEY-----";
        assert_eq!(found(&format!("x\n{k}\ny")), [(PRIVATE_KEY, k)]);
        assert!(found("-----BEGIN PUBLIC KEY-----\nMFkw\n-----END PUBLIC KEY-----").is_empty());
        assert!(found("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----").is_empty());
    }
}
