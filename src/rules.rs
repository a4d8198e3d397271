//! User rules: which kinds to report, phone regions, allowlisted values and domains, and custom
//! patterns with optional validators. Read from TOML (`--config`) or built from Python keywords
//! (as JSON); applied by the [`Scanner`](crate::scan::Scanner) to every detector's hits.
//!
//! ```toml
//! kinds = ["EMAIL", "PHONE", "CREDIT_CARD", "EMPLOYEE_ID"]   # default: every kind
//! phone_regions = ["US", "GB", "NL"]
//!
//! [allow]
//! values = ["support@acme.com"]      # exact values (case-insensitive), never reported
//! domains = ["acme.com"]             # e-mails and URLs at these domains or their subdomains
//!
//! [[rules]]
//! name = "EMPLOYEE_ID"
//! pattern = '\bEMP-\d{6}\b'
//!
//! [[rules]]
//! name = "LOYALTY_CARD"
//! pattern = '\b\d{16}\b'
//! validator = "luhn"                 # or "mod97"
//! ```

use std::path::Path;

use regex::Regex;
use serde::{Deserialize, Serialize};

use crate::detect::pii::validate;
use crate::detect::{DetectorId, Hit, TextDetector};
use crate::{Error, Result};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RulesConfig {
    /// Kinds to report; `None` reports every kind of the selected detectors.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kinds: Option<Vec<String>>,
    /// Regions whose national phone formats are read (ISO 3166 alpha-2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone_regions: Option<Vec<String>>,
    #[serde(default)]
    pub allow: Allow,
    #[serde(default)]
    pub rules: Vec<CustomRule>,
    /// `[dedup]`: shingles and thresholds of the duplicate detector.
    #[serde(default)]
    pub dedup: crate::detect::dedup::DedupConfig,
    /// `[memorization]`: window length and coverage sampling.
    #[serde(default)]
    pub memorization: crate::corpus::memo::MemoConfig,
    /// `[poison]`: trigger and repeated-response thresholds.
    #[serde(default)]
    pub poison: crate::corpus::poison::PoisonConfig,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Allow {
    #[serde(default)]
    pub values: Vec<String>,
    #[serde(default)]
    pub domains: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CustomRule {
    /// The kind reported, e.g. `EMPLOYEE_ID` (upper-case letters, digits and `_`).
    pub name: String,
    /// A regular expression (Rust `regex` syntax); the whole match is the value.
    pub pattern: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validator: Option<Validator>,
    /// Confidence reported for matches, in [0, 1].
    #[serde(default = "default_score")]
    pub score: f64,
}

fn default_score() -> f64 {
    0.8
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Validator {
    /// The digits of the match pass the Luhn check (cards, IMEIs, many national ids).
    Luhn,
    /// The match, read as an IBAN-style string, passes ISO 7064 mod 97-10.
    Mod97,
}

impl RulesConfig {
    pub fn from_toml(text: &str, origin: &str) -> Result<Self> {
        toml::from_str(text).map_err(|e| Error::Config(format!("{origin}: {e}")))
    }

    pub fn from_toml_file(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::Io {
            path: path.to_path_buf(),
            source: e,
        })?;
        Self::from_toml(&text, &path.display().to_string())
    }

    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

/// Kinds are `&'static str` throughout: each distinct custom name is stored once per process.
pub(crate) fn intern(name: &str) -> &'static str {
    static NAMES: std::sync::Mutex<Vec<&'static str>> = std::sync::Mutex::new(Vec::new());
    let mut names = NAMES.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(n) = names.iter().find(|n| **n == name) {
        return n;
    }
    let n: &'static str = Box::leak(name.to_string().into_boxed_str());
    names.push(n);
    n
}

/// Custom patterns as one detector; each match is checked by its rule's validator.
pub struct CustomDetector {
    rules: Vec<(CustomRule, Regex, &'static str)>,
}

impl CustomDetector {
    pub fn new(rules: &[CustomRule]) -> Result<Self> {
        let mut out = Vec::with_capacity(rules.len());
        for r in rules {
            let ok_name = !r.name.is_empty()
                && r.name
                    .bytes()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == b'_');
            if !ok_name {
                return Err(Error::Config(format!(
                    "rule name {:?}: use upper-case letters, digits and '_'",
                    r.name
                )));
            }
            if !(0.0..=1.0).contains(&r.score) {
                return Err(Error::Config(format!(
                    "rule {}: score must be in [0, 1]",
                    r.name
                )));
            }
            let re = Regex::new(&r.pattern)
                .map_err(|e| Error::Config(format!("rule {}: {e}", r.name)))?;
            out.push((r.clone(), re, intern(&r.name)));
        }
        Ok(Self { rules: out })
    }

    pub fn kinds(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.rules.iter().map(|(_, _, k)| *k)
    }
}

fn validated(v: Option<Validator>, value: &str) -> bool {
    match v {
        None => true,
        Some(Validator::Luhn) => {
            let d: Vec<u8> = value.bytes().filter(u8::is_ascii_digit).collect();
            d.len() >= 2 && validate::luhn(&d)
        }
        Some(Validator::Mod97) => {
            let c: Vec<u8> = value
                .bytes()
                .filter(u8::is_ascii_alphanumeric)
                .map(|c| c.to_ascii_uppercase())
                .collect();
            c.len() >= 5 && validate::iban_mod97(&c)
        }
    }
}

impl TextDetector for CustomDetector {
    fn id(&self) -> DetectorId {
        DetectorId::Pii
    }

    fn scan(&self, text: &str, out: &mut Vec<Hit>) {
        let first = out.len();
        for (rule, re, kind) in &self.rules {
            for m in re.find_iter(text) {
                if m.is_empty() || !validated(rule.validator, m.as_str()) {
                    continue;
                }
                let n = m.as_str().chars().count();
                out.push(Hit {
                    detector: DetectorId::Pii,
                    kind,
                    start: m.start(),
                    end: m.end(),
                    score: rule.score,
                    preview: format!("<{kind}:{n} chars>"),
                    detail: Some(format!("{{\"rule\":\"{kind}\"}}")),
                    norm: None,
                });
            }
        }
        out[first..].sort_by_key(|h| h.start);
    }
}

/// Hits the user allowed: listed values, and e-mails or URLs at listed domains.
pub struct Allowlist {
    values: Vec<String>,
    domains: Vec<String>,
}

impl Allowlist {
    pub fn new(allow: &Allow) -> Self {
        Self {
            values: allow
                .values
                .iter()
                .map(|v| v.trim().to_lowercase())
                .collect(),
            domains: allow
                .domains
                .iter()
                .map(|d| d.trim().trim_start_matches('.').to_ascii_lowercase())
                .collect(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty() && self.domains.is_empty()
    }

    pub fn allows(&self, raw: &str, hit: &Hit) -> bool {
        let raw_l = raw.to_lowercase();
        if self
            .values
            .iter()
            .any(|v| *v == raw_l || hit.norm.as_deref() == Some(v.as_str()))
        {
            return true;
        }
        let host = match raw_l.rsplit_once('@') {
            Some((_, h)) => h,
            None => raw_l.split_once("://").map_or("", |(_, rest)| {
                rest.split(['/', ':', '?']).next().unwrap_or("")
            }),
        };
        !host.is_empty()
            && self.domains.iter().any(|d| {
                host == d
                    || host
                        .strip_suffix(d.as_str())
                        .is_some_and(|p| p.ends_with('.'))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toml_round_trip_and_unknown_keys_rejected() {
        let c = RulesConfig::from_toml(
            "kinds = [\"EMAIL\"]\nphone_regions = [\"nl\"]\n[allow]\ndomains = [\"acme.com\"]\n\
             [[rules]]\nname = \"EMP_ID\"\npattern = 'EMP-\\d{6}'\nvalidator = \"luhn\"\n",
            "t",
        )
        .unwrap();
        assert_eq!(c.kinds.as_deref(), Some(&["EMAIL".to_string()][..]));
        assert_eq!(c.rules[0].validator, Some(Validator::Luhn));
        assert_eq!(c.rules[0].score, 0.8);
        let e = RulesConfig::from_toml("kind = [\"EMAIL\"]", "cfg.toml").unwrap_err();
        assert!(e.to_string().contains("cfg.toml"), "{e}");
    }

    #[test]
    fn custom_rules_with_validators() {
        let rules = vec![
            CustomRule {
                name: "LOYALTY".into(),
                pattern: r"\b\d{16}\b".into(),
                validator: Some(Validator::Luhn),
                score: 0.7,
            },
            CustomRule {
                name: "EMP_ID".into(),
                pattern: r"\bEMP-\d{6}\b".into(),
                validator: None,
                score: 0.9,
            },
        ];
        let d = CustomDetector::new(&rules).unwrap();
        let found =
            crate::detect::spans(&d, "card 4111111111111111 / 4111111111111112, EMP-123456");
        assert_eq!(
            found,
            [("LOYALTY", "4111111111111111"), ("EMP_ID", "EMP-123456")]
        );
        let bad = CustomRule {
            name: "bad name".into(),
            ..rules[1].clone()
        };
        assert!(CustomDetector::new(&[bad]).is_err());
    }

    #[test]
    fn allowlist_values_and_domains() {
        let a = Allowlist::new(&Allow {
            values: vec!["Ops@Corp.io".into()],
            domains: vec!["acme.com".into()],
        });
        let h = |norm: Option<&str>| Hit {
            detector: DetectorId::Pii,
            kind: "EMAIL",
            start: 0,
            end: 1,
            score: 1.0,
            preview: String::new(),
            detail: None,
            norm: norm.map(str::to_string),
        };
        assert!(a.allows("ops@corp.io", &h(None)));
        assert!(a.allows("jo@mail.acme.com", &h(None)));
        assert!(a.allows("https://acme.com/x", &h(None)));
        assert!(!a.allows("jo@notacme.com", &h(None)));
    }
}
