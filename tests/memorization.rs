//! Memorization counts on corpora with known repetition: PII values repeated 1, 3, 10 and 100
//! times across shards and in near-duplicate documents, a context shared by several documents,
//! and the generation check of model outputs against a training index.

mod util;

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use arrow::array::{Array, Float64Array};
use util::*;

/// Values and how many documents hold each; `value(i)` is the e-mail of value `i`.
const REPEATS: [usize; 4] = [1, 3, 10, 100];

fn value(i: usize) -> String {
    format!("person.{i}.x@gmail.com")
}

/// The training corpus over two Parquet shards and a JSONL shard. Returns every text in
/// input order.
fn corpus(dir: &Path) -> Vec<String> {
    let mut docs: Vec<String> = Vec::new();
    let mut seed = 100;
    let mut filler = |n: usize| {
        seed += 1;
        words(n, seed).join(" ")
    };
    for (i, &n) in REPEATS.iter().enumerate() {
        for _ in 0..n {
            docs.push(format!(
                "{} write to {} {}",
                filler(30),
                value(i),
                filler(20)
            ));
        }
    }
    // Four near-duplicates of one document holding value 7.
    let base = words(300, 7);
    for copy in 0..4 {
        let mut w = base.clone();
        w[10 + copy] = format!("edit{copy}");
        w.insert(150, value(7));
        docs.push(w.join(" "));
    }
    // A 60-word template before a different value in each of three documents.
    let template = words(60, 8).join(" ");
    for k in 0..3 {
        docs.push(format!("{template} {} {}", value(20 + k), filler(10)));
    }
    // Interleave so every repeated value spreads over all shards.
    let mut order: Vec<usize> = (0..docs.len()).collect();
    order.sort_by_key(|&i| (i * 7919) % docs.len());
    let docs: Vec<String> = order.into_iter().map(|i| docs[i].clone()).collect();
    let third = docs.len() / 3;
    let a: Vec<Option<&str>> = docs[..third].iter().map(|t| Some(t.as_str())).collect();
    let b: Vec<Option<&str>> = docs[third..2 * third]
        .iter()
        .map(|t| Some(t.as_str()))
        .collect();
    write_texts(&dir.join("a.parquet"), &a);
    write_texts(&dir.join("b.parquet"), &b);
    let jsonl: String = docs[2 * third..]
        .iter()
        .map(|t| format!("{}\n", serde_json::json!({ "text": t })))
        .collect();
    fs::write(dir.join("c.jsonl"), jsonl).unwrap();
    docs
}

/// A scratch directory with the corpus under `data/`: (directory, data, texts).
fn scratch_corpus() -> (tempfile::TempDir, std::path::PathBuf, Vec<String>) {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    fs::create_dir(&data).unwrap();
    let docs = corpus(&data);
    (dir, data, docs)
}

/// pii_values rows as (hash, kind, occurrences, documents, clusters, risk), sorted.
fn pii_values(out: &Path) -> Vec<(String, String, i64, i64, Option<i64>, String)> {
    let p = out.join("pii_values.parquet");
    let s = |c| strings(&p, c).into_iter().map(Option::unwrap);
    let mut v: Vec<_> = s("value_hash")
        .zip(s("kind"))
        .zip(i64s(&p, "occurrences"))
        .zip(i64s(&p, "documents"))
        .zip(i64s(&p, "clusters"))
        .zip(s("risk"))
        .map(|(((((h, k), o), d), c), r)| (h, k, o.unwrap(), d.unwrap(), c, r))
        .collect();
    v.sort();
    v
}

fn risks(out: &Path) -> Vec<Option<f64>> {
    read_parquet(&out.join("records.parquet"))
        .iter()
        .flat_map(|b| {
            let a = b.column_by_name("memorization_risk").unwrap();
            let a = a.as_any().downcast_ref::<Float64Array>().unwrap();
            (0..a.len())
                .map(|i| (!a.is_null(i)).then(|| a.value(i)))
                .collect::<Vec<_>>()
        })
        .collect()
}

fn memo_findings(out: &Path) -> Vec<(Option<String>, String, Option<i64>)> {
    let p = out.join("findings.parquet");
    strings(&p, "shard")
        .into_iter()
        .zip(strings(&p, "kind"))
        .zip(i64s(&p, "row"))
        .filter(|((_, k), _)| k.as_deref() == Some("REPEATED_CONTEXT"))
        .map(|((s, k), r)| (s, k.unwrap(), r))
        .collect()
}

#[test]
fn counts_are_exact_whatever_the_threads_and_the_spill() {
    let (dir, _, docs) = scratch_corpus();
    let run = |out: &str, extra: &[&str]| {
        let mut args = vec!["audit", "data", "--out", out, "--quiet"];
        args.extend_from_slice(extra);
        let r = shardguard(dir.path(), &args);
        assert_eq!(r.code, 0, "{}", r.stderr);
        dir.path().join(out)
    };
    let one = run("one", &["--threads", "1"]);
    let two = run("two", &["--threads", "2"]);
    let spilled = run("spilled", &["--threads", "2", "--memory-limit", "0"]);

    let values = pii_values(&one);
    let by_count: BTreeMap<(i64, i64), (Option<i64>, String)> = values
        .iter()
        .map(|(_, _, o, d, c, r)| ((*o, *d), (*c, r.clone())))
        .collect();
    for &n in &REPEATS {
        let n = n as i64;
        let (clusters, risk) = &by_count[&(n, n)];
        assert_eq!(
            *clusters,
            Some(n),
            "distinct documents are distinct clusters"
        );
        let band = match n {
            1 => "1",
            2..=9 => "2-9",
            10..=99 => "10-99",
            _ => "100+",
        };
        assert_eq!(risk, band);
    }
    // The near-duplicates: four documents, one cluster.
    assert_eq!(by_count[&(4, 4)].0, Some(1));
    // Three template values, once each, plus the four repeated values and the near-duplicate one.
    assert_eq!(values.len(), 4 + 1 + 3);
    assert!(values.iter().all(|v| v.1 == "EMAIL"));

    // The template's context is before a value in three documents, and the near-duplicates
    // repeat the 50 words before their value in four.
    let contexts = memo_findings(&one);
    assert_eq!(contexts.len(), 3 + 4, "{contexts:?}");
    let s = summary(&one);
    assert_eq!(s["memorization"]["repeated_contexts"], 7);
    assert_eq!(s["memorization"]["values"], 8);
    assert_eq!(s["memorization"]["riskiest"][0]["documents"], 100);
    assert!(s["memorization"]["riskiest"][0]["preview"]
        .as_str()
        .is_some_and(|p| p.contains('*')));
    // Raw values are not in the reports.
    for f in ["summary.json", "pii_values.parquet", "findings.parquet"] {
        let bytes = fs::read(one.join(f)).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        assert!(!text.contains(&value(3)), "{f} holds a raw value");
    }

    let risk = risks(&one);
    assert_eq!(risk.len(), docs.len());
    for (d, r) in docs.iter().zip(&risk) {
        let expect = if d.contains(&value(3)) {
            Some(1.0)
        } else if d.contains(&value(0)) {
            Some(0.0)
        } else if d.contains(&value(2)) {
            Some(0.5)
        } else {
            continue;
        };
        assert_eq!(*r, expect, "{d:.60}");
    }

    for other in [&two, &spilled] {
        assert_eq!(pii_values(other), values);
        assert_eq!(risks(other), risk);
        assert_eq!(memo_findings(other), contexts);
    }
    assert!(
        summary(&spilled)["memorization"]["spilled_bytes"]
            .as_u64()
            .unwrap()
            > 0
    );
    assert_eq!(summary(&one)["memorization"]["spilled_bytes"], 0);
}

#[test]
fn check_finds_training_pii_and_copied_passages_only() {
    let (dir, _, docs) = scratch_corpus();
    let r = shardguard(
        dir.path(),
        &["index", "data", "--out", "train.sgindex", "--quiet"],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);

    // 55 words of the near-duplicated document, away from its edits and its value.
    let base = words(300, 7);
    let passage: Vec<&str> = base[40..95].iter().map(String::as_str).collect();
    assert!(docs.iter().any(|d| d.contains(&passage.join(" "))));
    let outputs = [
        format!("Sure, you can reach them at {}.", value(2)),
        format!("Here it is: {} and more.", passage.join(" ")),
        format!(
            "Fresh text {} with a fresh@gmail.com value.",
            words(80, 999).join(" ")
        ),
    ];
    let jsonl: String = outputs
        .iter()
        .map(|t| format!("{}\n", serde_json::json!({ "text": t })))
        .collect();
    fs::write(dir.path().join("outputs.jsonl"), jsonl).unwrap();
    let r = shardguard(
        dir.path(),
        &[
            "check",
            "--index",
            "train.sgindex",
            "outputs.jsonl",
            "--out",
            "leak",
            "--quiet",
            "--fail-on",
            "MEMORIZED_PII>0",
        ],
    );
    assert_eq!(r.code, 1, "fail-on matched: {}", r.stderr);
    let p = dir.path().join("leak/findings.parquet");
    let found: Vec<(i64, String, String)> = i64s(&p, "row")
        .into_iter()
        .zip(strings(&p, "kind"))
        .zip(strings(&p, "detail"))
        .map(|((r, k), d)| (r.unwrap(), k.unwrap(), d.unwrap_or_default()))
        .filter(|(_, k, _)| k == "MEMORIZED_PII" || k == "VERBATIM_SPAN")
        .collect();
    assert_eq!(found.len(), 2, "{found:?}");
    assert_eq!((found[0].0, found[0].1.as_str()), (0, "MEMORIZED_PII"));
    assert!(
        found[0].2.contains("\"training_occurrences\":10"),
        "{}",
        found[0].2
    );
    assert_eq!((found[1].0, found[1].1.as_str()), (1, "VERBATIM_SPAN"));
    let start = i64s(&p, "start_byte");
    let end = i64s(&p, "end_byte");
    let kinds = strings(&p, "kind");
    let i = kinds
        .iter()
        .position(|k| k.as_deref() == Some("VERBATIM_SPAN"))
        .unwrap();
    let span = &outputs[1][start[i].unwrap() as usize..end[i].unwrap() as usize];
    assert_eq!(
        span,
        passage.join(" "),
        "the span covers exactly the copied words"
    );

    // No key, no index and no check.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_shardguard"))
        .args(["index", "data", "--out", "nokey.sgindex"])
        .current_dir(dir.path())
        .env_remove("SHARDGUARD_KEY")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--key-file"));
    assert!(!dir.path().join("nokey.sgindex").exists());
    // Another key: refused.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_shardguard"))
        .args([
            "check",
            "--index",
            "train.sgindex",
            "outputs.jsonl",
            "--out",
            "x",
        ])
        .current_dir(dir.path())
        .env("SHARDGUARD_KEY", "ff".repeat(16))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not the one this index"));
}

#[test]
fn indexes_of_separate_shards_merge_into_the_index_of_the_whole() {
    use shardguard::audit::{build_index, AuditOptions, IndexOptions, NoProgress};
    use shardguard::hash::Key;
    let (_dir, data, _) = scratch_corpus();
    let key = || Key::from_hex(KEY).unwrap();
    let opts = AuditOptions::default();
    let io = IndexOptions {
        fp_rate: 1e-6,
        capacity: Some(100_000),
    };
    let path = |n: &str| data.join(n).display().to_string();
    let build = |inputs: &[String]| {
        build_index(inputs, &opts, key(), &NoProgress, io)
            .unwrap()
            .0
    };
    let whole = build(&[path("a.parquet"), path("b.parquet"), path("c.jsonl")]);
    let mut merged = build(&[path("a.parquet")]);
    merged
        .merge(&build(&[path("b.parquet"), path("c.jsonl")]))
        .unwrap();
    assert_eq!(merged.values(), whole.values());
    assert_eq!(merged.header().records, whole.header().records);
    // Same filter bits: the files differ only in the header's window count (an upper bound
    // after a merge).
    let tail = |i: &shardguard::corpus::index::TrainingIndex| {
        let b = i.to_bytes();
        b[b.len() - (i.header().bloom_bits as usize / 8)..].to_vec()
    };
    assert_eq!(tail(&merged), tail(&whole));
    let sized = build_index(
        &[path("a.parquet")],
        &opts,
        key(),
        &NoProgress,
        IndexOptions {
            fp_rate: 1e-6,
            capacity: None,
        },
    )
    .unwrap()
    .0;
    assert!(merged
        .merge(&sized)
        .unwrap_err()
        .to_string()
        .contains("--capacity"));
}

#[test]
fn sampled_share_of_repeated_text_is_within_its_stated_error_of_the_exact_share() {
    let (dir, _, _) = scratch_corpus();
    fs::write(
        dir.path().join("all.toml"),
        "[memorization]\nsample_bits = 0\n",
    )
    .unwrap();
    let share = |out: &str, extra: &[&str]| {
        let mut args = vec![
            "audit",
            "data",
            "--out",
            out,
            "--quiet",
            "--detectors",
            "pii,memorization",
        ];
        args.extend_from_slice(extra);
        let r = shardguard(dir.path(), &args);
        assert_eq!(r.code, 0, "{}", r.stderr);
        let s = summary(&dir.path().join(out));
        let t = &s["memorization"]["repeated_text"];
        (
            t["all_documents"]["repeated_share"].as_f64().unwrap(),
            t["all_documents"]["error_95"].as_f64().unwrap(),
            t["sampling_rate"].as_f64().unwrap(),
        )
    };
    let (exact, _, rate) = share("exact", &["--config", "all.toml"]);
    assert_eq!(rate, 1.0);
    // The four near-duplicate copies of a long document are most of the windows, and three
    // quarters of theirs are repeated; the short documents' windows are not.
    assert!(exact > 0.3 && exact < 0.7, "{exact}");
    let (sampled, err, rate) = share("sampled", &[]);
    assert_eq!(rate, 1.0 / 16.0);
    assert!(
        (sampled - exact).abs() <= err,
        "{sampled} ± {err} vs exact {exact}"
    );
}
