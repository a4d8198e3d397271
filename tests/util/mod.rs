//! A small harness that runs the real `shardguard` binary in a scratch directory.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;

use arrow::array::{ArrayRef, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use parquet::arrow::ArrowWriter;

pub const KEY: &str = "00112233445566778899aabbccddeeff";

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl From<Output> for Run {
    fn from(o: Output) -> Self {
        Run {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }
}

/// Runs `shardguard` with `args`, a fixed key, in `cwd`.
pub fn shardguard(cwd: &Path, args: &[&str]) -> Run {
    Command::new(env!("CARGO_BIN_EXE_shardguard"))
        .args(args)
        .current_dir(cwd)
        .env("SHARDGUARD_KEY", KEY)
        .output()
        .expect("run shardguard")
        .into()
}

pub fn summary(out: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(out.join("summary.json")).expect("summary.json"))
        .expect("valid json")
}

pub fn read_parquet(path: &Path) -> Vec<RecordBatch> {
    let f = std::fs::File::open(path).expect("open parquet");
    parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(f)
        .expect("parquet")
        .build()
        .expect("reader")
        .map(|b| b.expect("batch"))
        .collect()
}

pub fn rows(path: &Path) -> usize {
    read_parquet(path).iter().map(|b| b.num_rows()).sum()
}

/// Strings of one column of a Parquet file.
pub fn strings(path: &Path, column: &str) -> Vec<Option<String>> {
    read_parquet(path)
        .iter()
        .flat_map(|b| {
            let a = b.column_by_name(column).expect("column");
            let a = a.as_any().downcast_ref::<StringArray>().expect("utf8");
            a.iter().map(|v| v.map(str::to_owned)).collect::<Vec<_>>()
        })
        .collect()
}

/// Names of the entries of `dir`, sorted.
pub fn file_names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// Integers of one column of a Parquet file.
pub fn i64s(path: &Path, column: &str) -> Vec<Option<i64>> {
    read_parquet(path)
        .iter()
        .flat_map(|b| {
            let a = b.column_by_name(column).expect("column");
            let a = a
                .as_any()
                .downcast_ref::<arrow::array::Int64Array>()
                .expect("int64");
            a.iter().collect::<Vec<_>>()
        })
        .collect()
}

/// The `shards[]` entry of a summary whose name ends with `name`.
pub fn shard_entry(summary: &serde_json::Value, name: &str) -> serde_json::Value {
    summary["shards"]
        .as_array()
        .expect("shards")
        .iter()
        .find(|x| x["shard"].as_str().is_some_and(|s| s.ends_with(name)))
        .expect("shard listed")
        .clone()
}

/// Writes a Parquet shard with an `id` and a `text` column.
pub fn write_texts(path: &Path, texts: &[Option<&str>]) {
    let ids: Vec<String> = (0..texts.len()).map(|i| format!("doc-{i}")).collect();
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Utf8, false),
        Field::new("text", DataType::Utf8, true),
    ]));
    let cols: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from(ids)),
        Arc::new(StringArray::from(texts.to_vec())),
    ];
    let batch = RecordBatch::try_new(schema.clone(), cols).expect("batch");
    let mut w = ArrowWriter::try_new(std::fs::File::create(path).expect("create"), schema, None)
        .expect("writer");
    w.write(&batch).expect("write");
    w.close().expect("close");
}

/// `n` words drawn from a 5,000-word vocabulary by a fixed generator.
pub fn words(n: usize, seed: u64) -> Vec<String> {
    let mut s = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    (0..n)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            format!("w{}", s % 5000)
        })
        .collect()
}
