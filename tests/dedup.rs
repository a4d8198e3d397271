//! The real binary deduplicating across shards: clusters in records.parquet and copies that keep
//! only the first record of each cluster (`--filtered-out`).

mod util;

use std::fs;
use std::path::Path;

use util::*;

/// Three documents and their copies spread over a Parquet and a JSONL shard.
fn corpus(dir: &Path) -> (Vec<String>, Vec<String>) {
    let a = words(400, 1);
    let b = words(400, 2);
    let c = words(400, 3);
    let mut a_edit = a.clone();
    for i in (0..a_edit.len()).step_by(50) {
        a_edit[i] = "changed".into();
    }
    let first = vec![
        a.join(" "),
        b.join(" "),
        a.join(" ").to_uppercase(),
        words(400, 4).join(" "),
    ];
    let second = vec![
        a_edit.join(" "),
        c.join(" "),
        b.join("  "),
        [words(150, 9), c.clone()].concat().join(" "),
    ];
    let texts: Vec<Option<&str>> = first.iter().map(|t| Some(t.as_str())).collect();
    write_texts(&dir.join("first.parquet"), &texts);
    let jsonl: String = second
        .iter()
        .enumerate()
        .map(|(i, t)| format!("{{\"id\": \"j{i}\", \"text\": \"{t}\", \"n\": {i}}}\n"))
        .collect();
    fs::write(dir.join("second.jsonl"), jsonl).unwrap();
    (first, second)
}

#[test]
fn filtered_copies_keep_the_first_record_of_each_cluster_across_shards() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    fs::create_dir(&data).unwrap();
    let (first, second) = corpus(&data);
    let out = dir.path().join("out");
    let kept_dir = dir.path().join("kept");
    let r = shardguard(
        dir.path(),
        &[
            "audit",
            "data",
            "--out",
            out.to_str().unwrap(),
            "--detectors",
            "dedup",
            "--filtered-out",
            kept_dir.to_str().unwrap(),
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let s = summary(&out);
    // Kept: a, b, d (first shard); c (second). Dropped: A (exact), a edited, b re-spaced,
    // c embedded.
    assert_eq!(s["filtered"]["kept"], 4, "{}", s["filtered"]);
    assert_eq!(s["filtered"]["dropped"], 4);
    let keep = read_parquet(&out.join("records.parquet"));
    let kept_flags: usize = keep
        .iter()
        .map(|b| {
            let k = b.column_by_name("dup_keep").unwrap();
            let k = k
                .as_any()
                .downcast_ref::<arrow::array::BooleanArray>()
                .unwrap();
            k.true_count()
        })
        .sum();
    assert_eq!(kept_flags, 4);

    let copy = kept_dir.join("data/first.parquet");
    assert_eq!(
        strings(&copy, "text"),
        [&first[0], &first[1], &first[3]]
            .map(|t| Some(t.to_string()))
            .to_vec()
    );
    assert_eq!(
        strings(&copy, "id"),
        ["doc-0", "doc-1", "doc-3"]
            .map(|t| Some(t.to_string()))
            .to_vec()
    );
    let lines: Vec<serde_json::Value> = fs::read_to_string(kept_dir.join("data/second.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["id"], "j1");
    assert_eq!(lines[0]["n"], 1);
    assert_eq!(lines[0]["text"], second[1]);

    // The filtered copies hold no duplicates any more.
    let again = dir.path().join("again");
    let r = shardguard(
        dir.path(),
        &[
            "audit",
            "kept",
            "--out",
            again.to_str().unwrap(),
            "--detectors",
            "dedup",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let s = summary(&again);
    assert_eq!(s["records"], 4);
    assert_eq!(s["detectors"]["dedup"]["findings"].as_u64().unwrap_or(0), 0);
}

#[test]
fn filtered_copies_need_the_dedup_detector() {
    let dir = tempfile::tempdir().unwrap();
    corpus(dir.path());
    let r = shardguard(
        dir.path(),
        &[
            "audit",
            "first.parquet",
            "--out",
            "out",
            "--detectors",
            "pii",
            "--filtered-out",
            "kept",
        ],
    );
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("dedup"), "{}", r.stderr);
    assert!(!dir.path().join("kept").exists());
}

#[test]
fn clusters_are_the_same_when_anchors_spill_to_disk() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    fs::create_dir(&data).unwrap();
    corpus(&data);
    let run = |name: &str, extra: &[&str]| {
        let out = dir.path().join(name);
        let mut args = vec![
            "audit",
            "data",
            "--out",
            out.to_str().unwrap(),
            "--detectors",
            "dedup",
            "--quiet",
        ];
        args.extend_from_slice(extra);
        let r = shardguard(dir.path(), &args);
        assert_eq!(r.code, 0, "{}", r.stderr);
        out
    };
    let held = run("held", &[]);
    let spilled = run("spilled", &["--memory-limit", "0", "--threads", "2"]);
    assert_eq!(summary(&held)["dedup"]["spilled_bytes"], 0);
    assert!(
        summary(&spilled)["dedup"]["spilled_bytes"]
            .as_u64()
            .unwrap()
            > 0
    );
    let (h, s) = (
        held.join("records.parquet"),
        spilled.join("records.parquet"),
    );
    let clusters = i64s(&h, "dup_cluster");
    assert_eq!(clusters.iter().flatten().count(), 7, "{clusters:?}");
    assert_eq!(clusters, i64s(&s, "dup_cluster"));
    assert_eq!(strings(&h, "doc_id"), strings(&s, "doc_id"));
    assert_eq!(
        strings(&held.join("findings.parquet"), "detail"),
        strings(&spilled.join("findings.parquet"), "detail")
    );
    // The spill directory is gone: only the outputs are left.
    assert_eq!(
        file_names(&spilled),
        ["findings.parquet", "records.parquet", "summary.json"]
    );
}
