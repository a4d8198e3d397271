//! `shardguard redact` end to end: the copies keep every other column, the schema and the row
//! order; re-auditing them finds nothing; the inputs are untouched. And `--config` rules.

mod util;

use std::collections::HashSet;
use std::path::Path;

use arrow::array::{Array, RecordBatch, StringArray};
use util::{read_parquet, root, shardguard, summary};

/// The sample folder and the PII fixture, copied so the inputs can be checked byte for byte.
fn inputs(dir: &Path) -> std::path::PathBuf {
    let data = dir.join("data");
    for (from, to) in [
        ("datasets-sample/synthetic", "synthetic"),
        ("datasets-sample/real-web", "real-web"),
    ] {
        let dest = data.join(to);
        std::fs::create_dir_all(&dest).unwrap();
        for e in std::fs::read_dir(root().join(from)).unwrap() {
            let p = e.unwrap().path();
            std::fs::copy(&p, dest.join(p.file_name().unwrap())).unwrap();
        }
    }
    std::fs::copy(
        root().join("tests/fixtures/pii-dev.parquet"),
        data.join("pii.parquet"),
    )
    .unwrap();
    data
}

fn digest(dir: &Path) -> Vec<(String, String)> {
    let mut v: Vec<_> = walk(dir)
        .into_iter()
        .map(|p| {
            (
                p.display().to_string(),
                blake3::hash(&std::fs::read(&p).unwrap())
                    .to_hex()
                    .to_string(),
            )
        })
        .collect();
    v.sort();
    v
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = vec![];
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

fn hashes(out: &Path) -> HashSet<String> {
    let mut s = HashSet::new();
    for b in read_parquet(&out.join("findings.parquet")) {
        let h = b.column_by_name("value_hash").unwrap();
        let h = h.as_any().downcast_ref::<StringArray>().unwrap();
        s.extend(h.iter().flatten().map(str::to_string));
    }
    s
}

fn concat(batches: &[RecordBatch]) -> RecordBatch {
    arrow::compute::concat_batches(&batches[0].schema(), batches).unwrap()
}

#[test]
fn redacted_copies_keep_everything_else_and_hold_nothing_to_find() {
    let tmp = tempfile::tempdir().unwrap();
    let data = inputs(tmp.path());
    let before = digest(&data);
    let audit = |input: &str, out: &str| {
        let r = shardguard(
            tmp.path(),
            &[
                "audit",
                input,
                "--out",
                out,
                "--detectors",
                "pii,secret",
                "-q",
            ],
        );
        assert_eq!(r.code, 0, "{}", r.stderr);
        summary(&tmp.path().join(out))
    };
    let original = audit("data", "audit-original");
    assert!(original["findings"].as_u64().unwrap() > 7000);
    let original_hashes = hashes(&tmp.path().join("audit-original"));

    for mode in ["tag", "mask", "pseudonym"] {
        let out = format!("red-{mode}");
        let r = shardguard(
            tmp.path(),
            &["redact", "data", "--out", &out, "--mode", mode],
        );
        assert_eq!(r.code, 0, "{mode}: {}", r.stderr);
        assert!(r.stderr.contains("value(s) replaced"), "{}", r.stderr);
        // Same files, same formats.
        let copies = walk(&tmp.path().join(&out).join("data"));
        assert_eq!(copies.len(), walk(&data).len(), "{mode}");

        let again = audit(&format!("{out}/data"), &format!("audit-{mode}"));
        assert_eq!(again["records"], original["records"], "{mode}: row count");
        let found = hashes(&tmp.path().join(format!("audit-{mode}")));
        assert!(
            found.is_disjoint(&original_hashes),
            "{mode}: an original value survived"
        );
        assert_eq!(again["findings"], 0, "{mode}: {:?}", again["kinds"]);

        // Parquet copy: same schema, same non-text columns, same row order.
        let a = concat(&read_parquet(&data.join("pii.parquet")));
        let b = concat(&read_parquet(
            &tmp.path().join(&out).join("data/pii.parquet"),
        ));
        assert_eq!(a.schema(), b.schema(), "{mode}");
        assert_eq!(a.num_rows(), b.num_rows());
        for (i, f) in a.schema().fields().iter().enumerate() {
            if f.name() != "text" {
                assert_eq!(a.column(i), b.column(i), "{mode}: column {}", f.name());
            }
        }
        let (ta, tb) = (
            a.column_by_name("text").unwrap(),
            b.column_by_name("text").unwrap(),
        );
        let ta = ta.as_any().downcast_ref::<StringArray>().unwrap();
        let tb = tb.as_any().downcast_ref::<StringArray>().unwrap();
        let changed = (0..ta.len())
            .filter(|&i| ta.value(i) != tb.value(i))
            .count();
        assert!(changed > 1000, "{mode}: {changed}");
    }
    assert_eq!(digest(&data), before, "inputs are never modified");
}

#[test]
fn pseudonyms_are_stable_across_runs_with_one_key() {
    let tmp = tempfile::tempdir().unwrap();
    let data = inputs(tmp.path());
    let f = data.join("pii.parquet");
    let f = f.to_str().unwrap();
    for out in ["p1", "p2"] {
        let r = shardguard(
            tmp.path(),
            &["redact", f, "--out", out, "--mode", "pseudonym"],
        );
        assert_eq!(r.code, 0, "{}", r.stderr);
    }
    let name = |o: &str| walk(&tmp.path().join(o)).pop().unwrap();
    assert_eq!(
        std::fs::read(name("p1")).unwrap(),
        std::fs::read(name("p2")).unwrap()
    );
}

#[test]
fn redact_refuses_bad_modes_and_reports_bad_jsonl_lines() {
    let tmp = tempfile::tempdir().unwrap();
    let r = shardguard(
        tmp.path(),
        &["redact", "x.jsonl", "--out", "o", "--mode", "blur"],
    );
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("tag, mask, pseudonym"), "{}", r.stderr);
    std::fs::write(
        tmp.path().join("x.jsonl"),
        "{\"text\": \"mail jo@corp-mail.com\", \"b\": 1}\nnot json jo@corp-mail.com\n{\"b\": 2, \"text\": null}\n",
    )
    .unwrap();
    let r = shardguard(tmp.path(), &["redact", "x.jsonl", "--out", "o"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains("left out: [2]"), "{}", r.stderr);
    let out = std::fs::read_to_string(tmp.path().join("o/x.jsonl")).unwrap();
    assert_eq!(
        out,
        "{\"text\":\"mail <EMAIL>\",\"b\":1}\n{\"b\":2,\"text\":null}\n"
    );
}

#[test]
fn config_file_selects_kinds_allows_domains_and_adds_rules() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(
        tmp.path().join("rules.toml"),
        "kinds = [\"EMAIL\", \"EMPLOYEE_ID\"]\n[allow]\ndomains = [\"acme.com\"]\n\
         [[rules]]\nname = \"EMPLOYEE_ID\"\npattern = '\\bEMP-\\d{6}\\b'\n",
    )
    .unwrap();
    let rows =
        "{\"text\": \"jo@acme.com, ann@corp-mail.com, EMP-123456, card 4111 1111 1111 1111\"}\n";
    std::fs::write(tmp.path().join("d.jsonl"), rows).unwrap();
    let r = shardguard(
        tmp.path(),
        &[
            "audit",
            "d.jsonl",
            "--out",
            "o",
            "--config",
            "rules.toml",
            "-q",
            "--reveal",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let s = summary(&tmp.path().join("o"));
    assert_eq!(s["kinds"]["EMAIL"]["findings"], 1, "{s}");
    assert_eq!(s["kinds"]["EMPLOYEE_ID"]["findings"], 1, "{s}");
    assert!(s["kinds"].get("CREDIT_CARD").is_none(), "{s}");

    std::fs::write(
        tmp.path().join("bad.toml"),
        "kinds = [\"EMAIL\", \"NOPE\"]\n",
    )
    .unwrap();
    let r = shardguard(
        tmp.path(),
        &["audit", "d.jsonl", "--out", "o2", "--config", "bad.toml"],
    );
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("unknown kind \"NOPE\""), "{}", r.stderr);
}
