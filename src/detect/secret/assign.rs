//! Credentials given by name: `password = "…"`, `DB_PASSWORD: …`, `"client_secret": "…"`,
//! `AWS_SECRET_ACCESS_KEY=…` and the password of a URL (`postgres://user:pass@host`). The span is
//! the value only. Placeholders, references and code are not credentials: `${VAR}`, `<your-password>`,
//! `********`, `REPLACE_ME`, `process.env.PASSWORD`, `get_password()`, bare variable names.

use super::{secret, Hit, AWS_SECRET_KEY, PASSWORD};

fn is_key(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.')
}

/// Whole-word words that stand in for a value rather than being one.
const PLACEHOLDER_WORDS: &[&str] = &[
    "password",
    "passwd",
    "secret",
    "null",
    "none",
    "nil",
    "true",
    "false",
    "undefined",
    "empty",
    "string",
    "required",
    "optional",
    "todo",
    "tbd",
    "changeit",
    "value",
    "hidden",
];

/// Fragments that mark a template, a reference or an example.
const PLACEHOLDER_PARTS: &[&str] = &[
    "your",
    "example",
    "changeme",
    "change_me",
    "change-me",
    "replace",
    "placeholder",
    "redacted",
    "dummy",
    "process.env",
    "environ",
    "getenv",
    "env[",
    "env(",
    "secret(",
    "xxx",
    "***",
    "...",
];

const NOT_CREDENTIAL_SUFFIXES: &[&str] = &[
    "version", "versions", "name", "id", "ids", "file", "path", "dir", "url", "uri", "length",
    "len", "policy", "type", "field", "env", "var", "prompt", "stdin", "ref", "arn", "store",
    "mode", "count", "label", "manager", "rotation", "expiry", "expires", "hint", "c", "h", "rs",
    "py", "go", "js", "md", "txt",
];

/// Whether `v` stands in for a credential rather than being one. `line` is the rest of the line
/// from an unquoted value's start (`None` when the value was quoted).
pub(super) fn is_placeholder(v: &str, line: Option<&str>) -> bool {
    let lower = v.to_ascii_lowercase();
    let first = v.as_bytes().first().copied().unwrap_or(b'$');
    let template_start = matches!(first, b'$' | b'<' | b'{') || v.starts_with("%(");
    let code_start = line.is_some() && matches!(first, b'%' | b'[' | b'(' | b'@' | b'#');
    if v.chars().count() < 6
        || template_start
        || code_start
        || v.contains("{{")
        || PLACEHOLDER_WORDS.contains(&lower.as_str())
        || PLACEHOLDER_PARTS.iter().any(|p| lower.contains(p))
    {
        return true;
    }
    // A metavariable (`PVK_PASSWORD`, `SECRET_NAME`), a path, or a value that names itself.
    let metavar = v.len() > 1
        && v.bytes()
            .all(|c| c.is_ascii_uppercase() || c == b'_' || c.is_ascii_digit())
        && v.bytes().any(|c| c.is_ascii_uppercase())
        && v.contains('_');
    if metavar
        || v.starts_with('/')
        || v.starts_with("./")
        || v.starts_with("~/")
        || ["password", "passwd", "secret"]
            .iter()
            .any(|w| lower.contains(w))
    {
        return true;
    }
    let mut chars = lower.chars();
    let c0 = chars.next().unwrap_or(' ');
    if chars.all(|c| c == c0) {
        return true;
    }
    let Some(line) = line else {
        return false;
    };
    // Unquoted code: a variable, a dotted path, a call or an index closed on the same line.
    let ident = |s: &str| {
        !s.is_empty()
            && s.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_')
            && !s.as_bytes()[0].is_ascii_digit()
    };
    let no_digit = !v.bytes().any(|c| c.is_ascii_digit());
    (ident(v) && no_digit)
        || (v.contains('.') && v.split('.').all(ident))
        || v.find(['(', '[']).is_some_and(|p| {
            let close = if v.as_bytes()[p] == b'(' { ')' } else { ']' };
            p > 0 && v[..p].split('.').all(ident) && line[p..].contains(close)
        })
}

/// Every `KEY <sep> value` whose key names a credential. An assignment needs a separator, so the
/// scan starts from the rare `=`/`:` bytes and reads the key before each; `names` (a credential
/// name in any case) then runs over that key alone, never over the whole text.
pub(super) fn assignments(text: &str, names: &aho_corasick::AhoCorasick, hits: &mut Vec<Hit>) {
    let b = text.as_bytes();
    for sep in memchr::memchr2_iter(b'=', b':', b) {
        let mut ke = sep;
        while ke > 0 && matches!(b[ke - 1], b' ' | b'\t') {
            ke -= 1;
        }
        if ke > 0 && matches!(b[ke - 1], b'"' | b'\'') {
            ke -= 1;
        }
        let mut ks = ke;
        while ks > 0 && is_key(b[ks - 1]) {
            ks -= 1;
        }
        if ks == ke {
            continue;
        }
        let before = hits.len();
        for m in names.find_iter(&b[ks..ke]) {
            assignment(text, ks + m.start(), ks + m.end(), hits);
            if hits.len() > before {
                break;
            }
        }
    }
}

/// `KEY <sep> value` around a keyword found at `kw..kw_end`.
fn assignment(text: &str, kw: usize, kw_end: usize, hits: &mut Vec<Hit>) {
    let b = text.as_bytes();
    let mut ks = kw;
    while ks > 0 && is_key(b[ks - 1]) {
        ks -= 1;
    }
    let mut ke = kw_end;
    while ke < b.len() && is_key(b[ke]) {
        ke += 1;
    }
    if !(b[ks].is_ascii_alphabetic() || b[ks] == b'_') {
        return;
    }
    let key = text[ks..ke].to_ascii_lowercase();
    let word = key[kw - ks..kw_end - ks].to_string();
    // Short keywords only as a whole component: `pass`, `db_pass`, not `bypass` or `passport`.
    if matches!(word.as_str(), "pass" | "pwd")
        && !key.split(['_', '-', '.']).any(|part| part == word)
    {
        return;
    }
    // `secret_version=`, `password_file:`: settings about a credential, not one.
    let last = key.rsplit(['_', '-', '.']).next().unwrap_or("");
    if NOT_CREDENTIAL_SUFFIXES.contains(&last) {
        return;
    }
    let mut j = ke;
    let key_quote = ks
        .checked_sub(1)
        .map(|i| b[i])
        .filter(|c| matches!(c, b'"' | b'\''));
    if let Some(q) = key_quote {
        if b.get(j) != Some(&q) {
            return;
        }
        j += 1;
    }
    while j < b.len() && matches!(b[j], b' ' | b'\t') {
        j += 1;
    }
    let sep_len = match (b.get(j), b.get(j + 1)) {
        (Some(b'='), Some(b'=' | b'~')) | (Some(b'!'), _) => return,
        (Some(b':'), Some(b'=')) | (Some(b'='), Some(b'>')) => 2,
        (Some(b'=' | b':'), _) => 1,
        _ => return,
    };
    j += sep_len;
    // `key:value` with nothing between is a path, a time or a C location, not YAML.
    if b[j - 1] == b':' && !matches!(b.get(j), Some(b' ' | b'\t' | b'"' | b'\'')) {
        return;
    }
    while j < b.len() && matches!(b[j], b' ' | b'\t') {
        j += 1;
    }
    let Some((vs, ve, quoted)) = value_at(b, j) else {
        return;
    };
    let v = &text[vs..ve];
    let line = (!quoted).then(|| text[vs..].split('\n').next().unwrap_or(""));
    if is_placeholder(v, line) {
        return;
    }
    let aws = key.contains("secret_access_key") || (key.contains("aws") && key.contains("secret"));
    if aws {
        let shaped = v.len() == 40
            && v.bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'/' || c == b'+');
        if shaped && !v.contains("EXAMPLE") {
            hits.push(secret(
                AWS_SECRET_KEY,
                vs,
                ve,
                text,
                0,
                "aws_secret_assignment",
            ));
        }
        return;
    }
    hits.push(secret(PASSWORD, vs, ve, text, 0, "assignment"));
}

/// The value starting at `j`: inside matching quotes on the same line, or up to white space.
fn value_at(b: &[u8], j: usize) -> Option<(usize, usize, bool)> {
    let q = *b.get(j)?;
    if matches!(q, b'"' | b'\'' | b'`') {
        let len = b[j + 1..].iter().position(|&c| c == q || c == b'\n')?;
        return (b[j + 1 + len] == q && len > 0).then_some((j + 1, j + 1 + len, true));
    }
    let mut e = j;
    while e < b.len() && !b[e].is_ascii_whitespace() {
        e += 1;
    }
    loop {
        let v = &b[j..e];
        let unbalanced = |o: u8, c: u8| {
            v.last() == Some(&c)
                && v.iter().filter(|&&x| x == o).count() < v.iter().filter(|&&x| x == c).count()
        };
        if e > j
            && (matches!(b[e - 1], b',' | b';' | b':')
                || unbalanced(b'(', b')')
                || unbalanced(b'[', b']')
                || unbalanced(b'{', b'}'))
        {
            e -= 1;
        } else {
            break;
        }
    }
    (e > j).then_some((j, e, false))
}

/// `scheme://user:password@host`: the password of the URL's user-info.
pub(super) fn url_credentials(text: &str, i: usize, hits: &mut Vec<Hit>) {
    let b = text.as_bytes();
    let scheme_len = b[..i]
        .iter()
        .rev()
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'.' | b'-'))
        .count();
    if scheme_len == 0 {
        return;
    }
    let start = i + 3;
    let auth_end = b[start..]
        .iter()
        .position(|&c| {
            matches!(c, b'/' | b'?' | b'#' | b'"' | b'\'' | b'<' | b'>') || c.is_ascii_whitespace()
        })
        .map_or(b.len(), |p| start + p);
    let Some(at) = b[start..auth_end]
        .iter()
        .rposition(|&c| c == b'@')
        .map(|p| start + p)
    else {
        return;
    };
    let Some(colon) = b[start..at]
        .iter()
        .position(|&c| c == b':')
        .map(|p| start + p)
    else {
        return;
    };
    if colon == start {
        return;
    }
    let (vs, ve) = (colon + 1, at);
    if ve > vs && !is_placeholder(&text[vs..ve], None) {
        hits.push(secret(PASSWORD, vs, ve, text, 0, "url_credentials"));
    }
}

#[cfg(test)]
mod tests {
    use crate::detect::secret::{SecretDetector, AWS_SECRET_KEY, PASSWORD};

    fn found(text: &str) -> Vec<(&'static str, &str)> {
        crate::detect::spans(&SecretDetector, text)
    }

    #[test]
    fn passwords_by_name_with_the_value_as_span() {
        for (t, v) in [
            ("DB_PASSWORD = \"Kst4QQiQtG\"\n", "Kst4QQiQtG"),
            ("  db_password: 'Leader!513',\n", "Leader!513"),
            ("db_password: T*)dSkF@L9)!p5o\n", "T*)dSkF@L9)!p5o"),
            ("{\"client_secret\": \"q8Zr1vLw0pXc\"}", "q8Zr1vLw0pXc"),
            ("export PGPASSWORD=w5eLVNjnza1d\n", "w5eLVNjnza1d"),
            (
                "  db_password: pLn3IKuPtmg(eERx_CtS\n",
                "pLn3IKuPtmg(eERx_CtS",
            ),
            ("db_password = \"(5w7bThxMyKzGKlk63\"", "(5w7bThxMyKzGKlk63"),
            ("export DB_PASSWORD=\"%2(*B#UfhV\"", "%2(*B#UfhV"),
            (
                "DATABASE_URL=postgres://app:N5cAnfqTvZ@10.1.2.3:5432/db",
                "N5cAnfqTvZ",
            ),
        ] {
            assert_eq!(found(t), [(PASSWORD, v)], "{t}");
        }
    }

    #[test]
    fn placeholders_references_and_code_are_not_passwords() {
        for t in [
            "password = ${DB_PASSWORD}",
            "password = <your-password>",
            "PASSWORD = \"********\"",
            "password = REPLACE_ME",
            "password = process.env.PASSWORD",
            "password = config.db.password",
            "password = get_password()",
            "password = pwd",
            "if password == \"hunter22\":",
            "passwd = fallback_getpass(prompt, stream)",
            "password = self._users[auth]",
            "def read(self, name, pwd=None):",
            "secret: (required) The name",
            "cvs://:pserver:anoncvs@sources.redhat.com",
            "  - 118_arm_pass_all.dpatch: Regenerated.",
            "Forgot your password: click here",
            "the bypass: abc123def",
            "postgres://user:${PASS}@db/x",
            "https://example.org/a:b@c",
        ] {
            assert!(found(t).is_empty(), "{t}: {:?}", found(t));
        }
    }

    #[test]
    fn aws_secret_keys_by_name() {
        let k = "kqWL8wPhStiAFlmfvTHQ8QsN9KygB/QWx7PPD3/k";
        assert_eq!(
            found(&format!("AWS_SECRET_ACCESS_KEY = \"{k}\"\n")),
            [(AWS_SECRET_KEY, k)]
        );
        assert!(
            found("aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY").is_empty()
        );
    }
}
