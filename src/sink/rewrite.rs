//! Writes a transformed copy of a shard in its own format: Parquet, Arrow IPC file or stream,
//! JSONL (plain, gzip, zstd). Every column, the schema (with its metadata) and the row order are
//! kept; only what the [`Rewriter`] changes (values of the text column, rows left out) differs.
//! The copy is staged under a hidden name and renamed into place when whole; the input is only
//! read.

use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Read, Write};
use std::path::Path;

use arrow::array::RecordBatch;
use arrow::ipc::reader::{FileReader, StreamReader};
use arrow::ipc::writer::{FileWriter, StreamWriter};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression as PqCompression, ZstdLevel};
use parquet::file::properties::WriterProperties;

use super::Staged;
use crate::source::{Compression, Format, Shard};
use crate::{Error, Location, Result};

/// What becomes of one JSONL record in the copy.
pub enum Record {
    Keep,
    Drop,
    /// Kept with this text in its text field.
    Text(String),
}

/// What changes in the copy. Rows are numbered as the audit numbers them: 0-based within the
/// shard, and for JSONL among the lines that are JSON objects.
pub trait Rewriter {
    /// One batch of an Arrow-backed shard (Parquet, IPC), all columns, starting at `first_row`.
    fn batch(&mut self, batch: RecordBatch, shard: &str, first_row: u64) -> Result<RecordBatch>;
    /// One JSONL record, row `row`, with its text field when that is a string.
    fn record(&mut self, row: u64, text: Option<&str>) -> Record;
    /// The whole shard was read, `rows` rows; an error discards the copy.
    fn finish(&mut self, _shard: &str, _rows: u64) -> Result<()> {
        Ok(())
    }
}

/// What the copy dropped.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct RewriteNotes {
    /// JSONL lines that were not valid UTF-8 or a JSON object: left out, never copied unchanged.
    pub dropped_lines: Vec<u64>,
}

fn shard_err(shard: &Shard, message: impl std::fmt::Display) -> Error {
    Error::Shard {
        shard: shard.name.clone(),
        location: Location::Shard,
        message: message.to_string(),
    }
}

/// Writes `shard` rewritten by `rw` to `dest` (parent directories created).
pub fn rewrite_shard(
    shard: &Shard,
    dest: &Path,
    text_column: &str,
    batch_size: usize,
    rw: &mut dyn Rewriter,
) -> Result<RewriteNotes> {
    if let (Ok(a), Ok(b)) = (shard.path.canonicalize(), dest.canonicalize()) {
        if a == b {
            return Err(Error::Config(format!(
                "{}: refusing to overwrite an input",
                dest.display()
            )));
        }
    }
    let dir = dest.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| Error::output(dir, e))?;
    let name = dest
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut staged = Staged::new(dir, &name);
    let open = || File::open(&shard.path).map_err(|e| Error::io(&shard.path, e));
    let create = || File::create(&staged.tmp).map_err(|e| Error::output(&staged.tmp, e));
    let out_err = |e: &dyn std::fmt::Display| Error::Output {
        path: dest.to_path_buf(),
        message: e.to_string(),
    };
    let mut notes = RewriteNotes::default();
    let mut rows = 0u64;
    match shard.format {
        Format::Parquet => {
            let builder = ParquetRecordBatchReaderBuilder::try_new(open()?)
                .map_err(|e| shard_err(shard, e))?;
            let rows_per_group = builder
                .metadata()
                .row_groups()
                .first()
                .map_or(1 << 20, |g| g.num_rows().max(1) as usize);
            let schema = builder.schema().clone();
            let reader = builder
                .with_batch_size(batch_size)
                .build()
                .map_err(|e| shard_err(shard, e))?;
            let props = WriterProperties::builder()
                .set_compression(PqCompression::ZSTD(ZstdLevel::default()))
                .set_max_row_group_row_count(Some(rows_per_group))
                .build();
            let mut w =
                ArrowWriter::try_new(create()?, schema, Some(props)).map_err(|e| out_err(&e))?;
            for b in reader {
                let b = b.map_err(|e| shard_err(shard, e))?;
                let n = b.num_rows() as u64;
                w.write(&rw.batch(b, &shard.name, rows)?)
                    .map_err(|e| out_err(&e))?;
                rows += n;
            }
            w.close().map_err(|e| out_err(&e))?;
        }
        Format::ArrowFile => {
            let reader = FileReader::try_new(open()?, None).map_err(|e| shard_err(shard, e))?;
            let mut w =
                FileWriter::try_new(create()?, &reader.schema()).map_err(|e| out_err(&e))?;
            for b in reader {
                let b = b.map_err(|e| shard_err(shard, e))?;
                let n = b.num_rows() as u64;
                w.write(&rw.batch(b, &shard.name, rows)?)
                    .map_err(|e| out_err(&e))?;
                rows += n;
            }
            w.finish().map_err(|e| out_err(&e))?;
        }
        Format::ArrowStream => {
            let reader = StreamReader::try_new(BufReader::new(open()?), None)
                .map_err(|e| shard_err(shard, e))?;
            let mut w =
                StreamWriter::try_new(create()?, &reader.schema()).map_err(|e| out_err(&e))?;
            for b in reader {
                let b = b.map_err(|e| shard_err(shard, e))?;
                let n = b.num_rows() as u64;
                w.write(&rw.batch(b, &shard.name, rows)?)
                    .map_err(|e| out_err(&e))?;
                rows += n;
            }
            w.finish().map_err(|e| out_err(&e))?;
        }
        Format::Jsonl(c) => {
            let input: Box<dyn Read> = match c {
                Compression::None => Box::new(open()?),
                Compression::Gzip => Box::new(flate2::read::MultiGzDecoder::new(open()?)),
                Compression::Zstd => {
                    Box::new(zstd::Decoder::new(open()?).map_err(|e| shard_err(shard, e))?)
                }
            };
            let file = BufWriter::new(create()?);
            let mut output: Box<dyn Write> = match c {
                Compression::None => Box::new(file),
                Compression::Gzip => Box::new(flate2::write::GzEncoder::new(
                    file,
                    flate2::Compression::default(),
                )),
                Compression::Zstd => Box::new(
                    zstd::Encoder::new(file, 3)
                        .map_err(|e| out_err(&e))?
                        .auto_finish(),
                ),
            };
            let mut lines = BufReader::new(input);
            let mut buf = Vec::new();
            let mut line_no = 0u64;
            loop {
                buf.clear();
                let n = lines
                    .read_until(b'\n', &mut buf)
                    .map_err(|e| shard_err(shard, format!("line {}: {e}", line_no + 1)))?;
                if n == 0 {
                    break;
                }
                line_no += 1;
                let body = buf.strip_suffix(b"\n").unwrap_or(&buf);
                let body = body.strip_suffix(b"\r").unwrap_or(body);
                if body.iter().all(u8::is_ascii_whitespace) {
                    continue;
                }
                let parsed = std::str::from_utf8(body)
                    .ok()
                    .and_then(|s| serde_json::from_str::<serde_json::Value>(s).ok())
                    .filter(serde_json::Value::is_object);
                let Some(mut v) = parsed else {
                    notes.dropped_lines.push(line_no);
                    continue;
                };
                let text = match v.get(text_column) {
                    Some(serde_json::Value::String(t)) => Some(t.as_str()),
                    _ => None,
                };
                let action = rw.record(rows, text);
                rows += 1;
                match action {
                    Record::Keep => {}
                    Record::Drop => continue,
                    Record::Text(new) => {
                        v[text_column] = serde_json::Value::String(new);
                    }
                }
                serde_json::to_writer(&mut output, &v).map_err(|e| out_err(&e))?;
                output.write_all(b"\n").map_err(|e| out_err(&e))?;
            }
            output.flush().map_err(|e| out_err(&e))?;
            drop(output);
        }
    }
    rw.finish(&shard.name, rows)?;
    staged.commit()?;
    Ok(notes)
}

/// How one shard's redacted copy went.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ShardReport {
    pub shard: String,
    pub output: std::path::PathBuf,
    pub dropped_lines: Vec<u64>,
    pub error: Option<String>,
}

/// Redaction of a set of shards.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct RedactReport {
    pub mode: crate::redact::RedactMode,
    pub counts: crate::redact::RedactCounts,
    pub shards: Vec<ShardReport>,
}

struct Redacting<'a> {
    redactor: &'a crate::redact::Redactor,
    counts: crate::redact::RedactCounts,
    hits: Vec<crate::detect::Hit>,
}

impl Rewriter for Redacting<'_> {
    fn batch(&mut self, batch: RecordBatch, shard: &str, _first_row: u64) -> Result<RecordBatch> {
        self.redactor.redact_batch(&batch, shard, &mut self.counts)
    }
    fn record(&mut self, _row: u64, text: Option<&str>) -> Record {
        match text.and_then(|t| {
            self.redactor
                .redact_str(t, &mut self.hits, &mut self.counts)
        }) {
            Some(t) => Record::Text(t),
            None => Record::Keep,
        }
    }
}

/// Keeps the rows whose flag is set: `keep[row]`, one flag per row of the shard.
pub struct KeepRows<'a> {
    pub keep: &'a [bool],
}

impl KeepRows<'_> {
    fn mismatch(shard: &str, rows: u64, flags: usize) -> Error {
        Error::Shard {
            shard: shard.to_string(),
            location: Location::Shard,
            message: format!(
                "has {rows}+ rows now but {flags} when audited (changed since?); no filtered copy"
            ),
        }
    }
}

impl Rewriter for KeepRows<'_> {
    fn batch(&mut self, batch: RecordBatch, shard: &str, first_row: u64) -> Result<RecordBatch> {
        let (start, n) = (first_row as usize, batch.num_rows());
        let flags = self
            .keep
            .get(start..start + n)
            .ok_or_else(|| Self::mismatch(shard, first_row + n as u64, self.keep.len()))?;
        let mask = arrow::array::BooleanArray::from(flags.to_vec());
        arrow::compute::filter_record_batch(&batch, &mask).map_err(|e| Error::Shard {
            shard: shard.to_string(),
            location: Location::Row(first_row as i64),
            message: e.to_string(),
        })
    }
    fn record(&mut self, row: u64, _text: Option<&str>) -> Record {
        match self.keep.get(row as usize) {
            Some(true) => Record::Keep,
            // Rows past the audited ones fail in `finish`.
            _ => Record::Drop,
        }
    }
    fn finish(&mut self, shard: &str, rows: u64) -> Result<()> {
        if rows as usize == self.keep.len() {
            Ok(())
        } else {
            Err(Self::mismatch(shard, rows, self.keep.len()))
        }
    }
}

/// Where a shard's copy goes: its name (the path as given) made relative, under `out`.
pub fn output_path(out: &Path, shard: &Shard) -> std::path::PathBuf {
    let rel: std::path::PathBuf = Path::new(&shard.name)
        .components()
        .filter(|c| matches!(c, std::path::Component::Normal(_)))
        .collect();
    out.join(rel)
}

/// Redacted copies of `shards` under `out`, shards in parallel on the current rayon pool. A shard
/// that fails is reported and leaves no file; the others are written.
pub fn redact_shards(
    redactor: &crate::redact::Redactor,
    shards: &[Shard],
    out: &Path,
    batch_size: usize,
) -> RedactReport {
    use rayon::prelude::*;
    let text_column = redactor.scanner().config().text_column.clone();
    let results: Vec<(ShardReport, crate::redact::RedactCounts)> = shards
        .par_iter()
        .map(|shard| {
            let dest = output_path(out, shard);
            let mut rw = Redacting {
                redactor,
                counts: Default::default(),
                hits: Vec::new(),
            };
            let r = rewrite_shard(shard, &dest, &text_column, batch_size, &mut rw);
            let (dropped_lines, error) = match r {
                Ok(n) => (n.dropped_lines, None),
                Err(e) => (Vec::new(), Some(e.to_string())),
            };
            let counts = if error.is_none() {
                rw.counts
            } else {
                Default::default()
            };
            (
                ShardReport {
                    shard: shard.name.clone(),
                    output: dest,
                    dropped_lines,
                    error,
                },
                counts,
            )
        })
        .collect();
    let mut report = RedactReport {
        mode: redactor.mode(),
        ..Default::default()
    };
    for (s, c) in results {
        report.counts.merge(&c);
        report.shards.push(s);
    }
    report
}
