//! The real binary on the bundled sample and on every kind of bad input.

mod util;

use std::fs;

use util::*;

#[test]
fn audits_the_sample_folder() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let r = shardguard(
        &root(),
        &["audit", "datasets-sample", "--out", out.to_str().unwrap()],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let s = summary(&out);
    assert_eq!(s["shards_total"], 7);
    assert_eq!(s["shards_failed"], 0);
    assert_eq!(s["records"], 2030);
    assert_eq!(s["key"], "user");
    for kind in ["BIDI_CONTROL", "ZERO_WIDTH", "TAG_CHARACTERS", "CONFUSABLE"] {
        assert!(s["kinds"][kind]["findings"].as_u64().unwrap() > 0, "{kind}");
    }
    assert_eq!(rows(&out.join("records.parquet")), 2030);
    assert_eq!(
        rows(&out.join("findings.parquet")) as u64,
        s["findings"].as_u64().unwrap()
    );
    assert!(r.stderr.contains("audited 2030 records"), "{}", r.stderr);
    // Only the final files: no partial outputs left behind.
    assert_eq!(
        file_names(&out),
        [
            "findings.parquet",
            "pii_values.parquet",
            "records.parquet",
            "summary.json"
        ]
    );
}

#[test]
fn findings_are_identical_whatever_the_thread_count() {
    let dir = tempfile::tempdir().unwrap();
    let mut bytes = Vec::new();
    for t in ["1", "2", "4"] {
        let out = dir.path().join(format!("out{t}"));
        let r = shardguard(
            &root(),
            &[
                "audit",
                "datasets-sample",
                "--out",
                out.to_str().unwrap(),
                "--threads",
                t,
                "--batch-size",
                "64",
                "-q",
            ],
        );
        assert_eq!(r.code, 0, "{}", r.stderr);
        bytes.push((
            fs::read(out.join("findings.parquet")).unwrap(),
            fs::read(out.join("records.parquet")).unwrap(),
        ));
    }
    assert!(bytes.windows(2).all(|w| w[0] == w[1]));
}

#[test]
fn previews_are_masked_and_hashes_keyed() {
    let dir = tempfile::tempdir().unwrap();
    let shard = dir.path().join("a.parquet");
    write_texts(
        &shard,
        &[
            Some("pay at p\u{0430}ypal.com now"),
            None,
            Some("x\u{200B}y"),
        ],
    );
    let out = dir.path().join("out");
    let r = shardguard(dir.path(), &["audit", "a.parquet", "--out", "out", "-q"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let previews = strings(&out.join("findings.parquet"), "preview");
    assert_eq!(
        previews,
        [
            Some("p<U+0430>ypal.com".to_string()),
            Some("x|<U+200B>|y".to_string())
        ]
    );
    assert_eq!(
        strings(&out.join("findings.parquet"), "shard")[0].as_deref(),
        Some("a.parquet")
    );
    let ids = strings(&out.join("findings.parquet"), "doc_id");
    assert_eq!(ids, [Some("doc-0".into()), Some("doc-2".into())]);
    let s = summary(&out);
    assert_eq!(s["null_texts"], 1);
    assert_eq!(s["records"], 3);
}

#[test]
fn fail_on_sets_the_exit_code() {
    let dir = tempfile::tempdir().unwrap();
    write_texts(&dir.path().join("a.parquet"), &[Some("a\u{202E}b")]);
    let run = |expr: &str| {
        shardguard(
            dir.path(),
            &["audit", "a.parquet", "--out", "o", "-q", "--fail-on", expr],
        )
    };
    assert_eq!(run("unicode>0").code, 1);
    assert_eq!(run("BIDI_CONTROL>=1").code, 1);
    assert_eq!(run("bidi_control>1").code, 0);
    assert_eq!(run("ZERO_WIDTH>0").code, 0);
    assert_eq!(run("any>5,failed_shards>0").code, 0);
    let bad = run("unicode");
    assert_eq!(bad.code, 2);
    assert!(bad.stderr.contains("--fail-on"), "{}", bad.stderr);
    assert_eq!(run("nonsense>0").code, 2);
}

#[test]
fn json_summary_on_stdout() {
    let dir = tempfile::tempdir().unwrap();
    write_texts(&dir.path().join("a.parquet"), &[Some("a\u{2066}b")]);
    let r = shardguard(
        dir.path(),
        &["audit", "a.parquet", "--out", "o", "--json", "-q"],
    );
    assert_eq!(r.code, 0);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["kinds"]["BIDI_CONTROL"]["findings"], 1);
    assert_eq!(v["output_version"], 2);
}

#[test]
fn help_documents_examples_and_exit_codes() {
    let r = shardguard(&root(), &["audit", "--help"]);
    assert_eq!(r.code, 0);
    assert!(r.stdout.contains("Examples:") && r.stdout.contains("Exit codes:"));
    assert!(r.stdout.contains("--fail-on") && r.stdout.contains("--text-column"));
    let r = shardguard(&root(), &["audit"]);
    assert_eq!(r.code, 2, "usage error");
}

#[test]
fn unknown_or_unavailable_detectors_are_usage_errors() {
    let r = shardguard(
        &root(),
        &[
            "audit",
            "datasets-sample",
            "--out",
            "/nonexistent/x",
            "--detectors",
            "bogus",
        ],
    );
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("unknown detector 'bogus'"),
        "{}",
        r.stderr
    );
}

#[test]
fn accepts_globs_and_keeps_input_names() {
    let dir = tempfile::tempdir().unwrap();
    for n in ["b.parquet", "a.parquet"] {
        write_texts(&dir.path().join(n), &[Some(&format!("{n} \u{202E}"))]);
    }
    let r = shardguard(dir.path(), &["audit", "*.parquet", "--out", "o", "-q"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let shards = strings(&dir.path().join("o/findings.parquet"), "shard");
    assert_eq!(shards, [Some("a.parquet".into()), Some("b.parquet".into())]);
}

#[test]
fn output_inside_the_input_folder_is_not_read_back() {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir(dir.path().join("data")).unwrap();
    write_texts(&dir.path().join("data/a.parquet"), &[Some("x\u{202E}")]);
    for _ in 0..2 {
        let r = shardguard(dir.path(), &["audit", "data", "--out", "data/audit", "-q"]);
        assert_eq!(r.code, 0, "{}", r.stderr);
        assert_eq!(summary(&dir.path().join("data/audit"))["shards_total"], 1);
    }
}
