//! Every kind of bad input gets a clear error naming the file (and row group or line); the other
//! shards are still audited and their results written.

mod util;

use std::fs;
use std::io::Write;
use std::path::Path;

use util::*;

fn sample_parquet() -> Vec<u8> {
    fs::read(root().join("datasets-sample/synthetic/web-mix.parquet")).unwrap()
}

/// A folder with one good shard (1,200 records) and `name` holding `bytes`.
fn folder_with(name: &str, bytes: &[u8]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir(dir.path().join("in")).unwrap();
    fs::write(dir.path().join("in/good.parquet"), sample_parquet()).unwrap();
    fs::write(dir.path().join("in").join(name), bytes).unwrap();
    dir
}

/// Audits `in/` and checks: exit 2, the good shard audited, the bad one listed with `reason`.
fn assert_reported(dir: &Path, bad: &str, reason: &str) -> serde_json::Value {
    let r = shardguard(dir, &["audit", "in", "--out", "out"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains(bad) && r.stderr.contains(reason),
        "stderr: {}",
        r.stderr
    );
    let s = summary(&dir.join("out"));
    assert_eq!(s["shards_failed"], 1);
    let failed = &s["failed_shards"][0];
    assert!(failed["shard"].as_str().unwrap().ends_with(bad));
    assert!(
        failed["error"].as_str().unwrap().contains(reason),
        "{failed}"
    );
    assert!(
        s["records"].as_u64().unwrap() >= 1200,
        "the good shard was audited"
    );
    assert!(rows(&dir.join("out/records.parquet")) >= 1200);
    s
}

#[test]
fn truncated_parquet() {
    let bytes = sample_parquet();
    let dir = folder_with("cut.parquet", &bytes[..bytes.len() / 2]);
    assert_reported(dir.path(), "cut.parquet", "truncated Parquet file");
}

#[test]
fn corrupt_parquet_row_group() {
    let mut bytes = sample_parquet();
    // Scribble over the data pages, keep header magic and footer intact.
    for b in &mut bytes[100..60_000] {
        *b = 0xA5;
    }
    let dir = folder_with("corrupt.parquet", &bytes);
    let s = assert_reported(dir.path(), "corrupt.parquet", "row group 0");
    // Row groups after the damage are still audited.
    let shard = shard_entry(&s, "corrupt.parquet");
    assert_eq!(shard["status"], "partial", "{shard}");
    assert!(shard["records"].as_u64().unwrap() > 0);
}

#[test]
fn text_file_named_parquet() {
    let dir = folder_with("notes.parquet", b"this is just text, not parquet at all\n");
    assert_reported(dir.path(), "notes.parquet", "not a Parquet file");
}

#[test]
fn empty_file() {
    let dir = folder_with("empty.jsonl", b"");
    assert_reported(dir.path(), "empty.jsonl", "empty file");
}

#[test]
fn missing_text_column_lists_string_columns() {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir(dir.path().join("in")).unwrap();
    fs::write(dir.path().join("in/good.parquet"), sample_parquet()).unwrap();
    let r = shardguard(
        dir.path(),
        &["audit", "in", "--out", "out", "--text-column", "body"],
    );
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("no text column 'body'")
            && r.stderr.contains("'id'")
            && r.stderr.contains("'text'"),
        "{}",
        r.stderr
    );
}

#[test]
fn non_string_text_column() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(
        dir.path().join("a.jsonl"),
        "{\"text\": 5, \"body\": \"x\"}\n",
    )
    .unwrap();
    let r = shardguard(dir.path(), &["audit", "a.jsonl", "--out", "out"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("Int64") && r.stderr.contains("'body'"),
        "{}",
        r.stderr
    );
}

#[test]
fn invalid_utf8_and_bad_json_lines_are_skipped_by_number() {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir(dir.path().join("in")).unwrap();
    let mut body = Vec::new();
    body.extend_from_slice(b"{\"id\": 1, \"text\": \"ok \xe2\x80\xae\"}\n");
    body.extend_from_slice(b"{\"id\": 2, \"text\": \"bad \xff\xfe bytes\"}\n");
    body.extend_from_slice(b"\n");
    body.extend_from_slice(b"{\"id\": 3, \"text\": \"broken json\n");
    body.extend_from_slice(b"{\"id\": 4, \"text\": \"fine\"}\n");
    fs::write(dir.path().join("in/a.jsonl"), &body).unwrap();
    let r = shardguard(dir.path(), &["audit", "in", "--out", "out"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains("skipped 2 bad lines"), "{}", r.stderr);
    let s = summary(&dir.path().join("out"));
    assert_eq!(s["records"], 2);
    let lines: Vec<u64> = s["shards"][0]["bad_lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["line"].as_u64().unwrap())
        .collect();
    assert_eq!(lines, [2, 4]);
    assert!(s["shards"][0]["bad_lines"][0]["reason"]
        .as_str()
        .unwrap()
        .contains("invalid UTF-8"));
    assert_eq!(
        strings(&dir.path().join("out/findings.parquet"), "doc_id"),
        [Some("1".into())]
    );

    // Failing the shard instead names the line.
    let r = shardguard(
        dir.path(),
        &["audit", "in", "--out", "out2", "--on-bad-line", "fail"],
    );
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("a.jsonl, line 2: invalid UTF-8"),
        "{}",
        r.stderr
    );
    // The record before the bad line is not lost.
    assert_eq!(summary(&dir.path().join("out2"))["records"], 1);
}

#[test]
fn zero_row_shard_is_fine() {
    let dir = tempfile::tempdir().unwrap();
    write_texts(&dir.path().join("z.parquet"), &[]);
    let r = shardguard(dir.path(), &["audit", "z.parquet", "--out", "out", "-q"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let s = summary(&dir.path().join("out"));
    assert_eq!(s["records"], 0);
    assert_eq!(rows(&dir.path().join("out/records.parquet")), 0);
}

#[test]
fn null_texts_are_counted_not_scanned() {
    let dir = tempfile::tempdir().unwrap();
    write_texts(
        &dir.path().join("n.parquet"),
        &[None, None, Some("a\u{200B}b")],
    );
    let r = shardguard(dir.path(), &["audit", "n.parquet", "--out", "out", "-q"]);
    assert_eq!(r.code, 0);
    let s = summary(&dir.path().join("out"));
    assert_eq!(
        (
            s["records"].as_u64(),
            s["null_texts"].as_u64(),
            s["findings"].as_u64()
        ),
        (Some(3), Some(2), Some(1))
    );
}

#[test]
fn a_single_50_mb_record() {
    use arrow::array::Array;
    let dir = tempfile::tempdir().unwrap();
    let mut text = "lorem ipsum dolor sit amet ".repeat(50 * 1024 * 1024 / 27);
    let start = text.len();
    text.push_str("\u{202E}tail");
    write_texts(&dir.path().join("big.parquet"), &[Some(&text)]);
    // And as JSONL, compressed with zstd.
    let line = format!(
        "{{\"id\":\"big\",\"text\":{}}}\n",
        serde_json::Value::String(text.clone())
    );
    let z = zstd::encode_all(line.as_bytes(), 1).unwrap();
    fs::write(dir.path().join("big.jsonl.zst"), z).unwrap();
    let r = shardguard(
        dir.path(),
        &[
            "audit",
            "big.parquet",
            "big.jsonl.zst",
            "--out",
            "out",
            "-q",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let b = read_parquet(&dir.path().join("out/findings.parquet"));
    let found: Vec<(String, Option<i64>)> = b
        .iter()
        .flat_map(|b| {
            let kind = b.column_by_name("kind").unwrap();
            let kind = kind
                .as_any()
                .downcast_ref::<arrow::array::StringArray>()
                .unwrap();
            let start = b.column_by_name("start_byte").unwrap();
            let start = start
                .as_any()
                .downcast_ref::<arrow::array::Int64Array>()
                .unwrap();
            (0..b.num_rows())
                .map(|i| {
                    let s = (!start.is_null(i)).then(|| start.value(i));
                    (kind.value(i).to_string(), s)
                })
                .collect::<Vec<_>>()
        })
        .collect();
    // The bidi control in each copy, and the second copy is the first one again.
    let bidi = ("BIDI_CONTROL".to_string(), Some(start as i64));
    let dup = ("EXACT_DUPLICATE".to_string(), None);
    assert_eq!(found, [bidi.clone(), bidi, dup]);
}

#[test]
fn truncated_gzip_keeps_what_was_read() {
    let dir = tempfile::tempdir().unwrap();
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    for i in 0..20_000 {
        writeln!(
            enc,
            "{{\"id\": {i}, \"text\": \"record {i} with a\u{200B}b hidden char, {}\"}}",
            "pad ".repeat(20)
        )
        .unwrap();
    }
    let gz = enc.finish().unwrap();
    let dir_in = dir.path().join("in");
    fs::create_dir(&dir_in).unwrap();
    fs::write(dir_in.join("good.parquet"), sample_parquet()).unwrap();
    fs::write(dir_in.join("cut.jsonl.gz"), &gz[..gz.len() / 2]).unwrap();
    let s = assert_reported(dir.path(), "cut.jsonl.gz", "line");
    let cut = shard_entry(&s, "cut.jsonl.gz");
    assert!(cut["records"].as_u64().unwrap() > 1000, "{cut}");
}

#[test]
fn directory_without_supported_files() {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir(dir.path().join("in")).unwrap();
    fs::write(dir.path().join("in/readme.txt"), "hello").unwrap();
    let r = shardguard(dir.path(), &["audit", "in", "--out", "out"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("in: no supported files"), "{}", r.stderr);
    assert!(!dir.path().join("out/summary.json").exists());
}

#[test]
fn missing_input_path() {
    let dir = tempfile::tempdir().unwrap();
    let r = shardguard(dir.path(), &["audit", "nope.parquet", "--out", "out"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("nope.parquet: no such file"),
        "{}",
        r.stderr
    );
}

#[test]
fn failing_the_audit_commits_no_outputs() {
    let bytes = sample_parquet();
    let dir = folder_with("cut.parquet", &bytes[..bytes.len() / 2]);
    let r = shardguard(
        dir.path(),
        &["audit", "in", "--out", "out", "--on-shard-error", "fail"],
    );
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("cut.parquet"), "{}", r.stderr);
    let left: Vec<_> = fs::read_dir(dir.path().join("out")).unwrap().collect();
    assert!(left.is_empty(), "no final or partial files: {left:?}");
}
