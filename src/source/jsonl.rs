//! JSON Lines (plain, gzip, zstd): dolma/datatrove-style rows. Lines are validated as UTF-8 and
//! decoded in chunks by `arrow-json`; a chunk that fails is re-decoded line by line so a bad line
//! is reported by number and skipped (or fails the shard), without losing its neighbours.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::sync::Arc;

use arrow::array::RecordBatch;
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use arrow::json::reader::ReaderBuilder;

use super::{Compression, Format, OnBadLine, ReadOptions, Shard, SourceBatch, UnitNotes};
use crate::{Error, Location, Result};

/// Flush a chunk to the decoder once it holds this many bytes, whatever the row count.
const CHUNK_BYTES: usize = 32 << 20;
/// Lines examined to find the first valid record for the schema.
const SCHEMA_PROBE_LINES: u64 = 1000;

/// A line skipped under [`OnBadLine::Skip`].
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct BadLine {
    /// 1-based line number in the (decompressed) file.
    pub line: u64,
    pub reason: String,
}

fn lines(shard: &Shard) -> Result<Box<dyn BufRead>> {
    let file = File::open(&shard.path).map_err(|e| Error::io(&shard.path, e))?;
    let c = match shard.format {
        Format::Jsonl(c) => c,
        _ => Compression::None,
    };
    let inner: Box<dyn Read> = match c {
        Compression::None => Box::new(file),
        Compression::Gzip => Box::new(flate2::read::MultiGzDecoder::new(BufReader::new(file))),
        Compression::Zstd => Box::new(zstd::stream::read::Decoder::new(file).map_err(|e| {
            Error::shard(
                &shard.name,
                Location::Shard,
                format!("bad zstd stream: {e}"),
            )
        })?),
    };
    Ok(Box::new(BufReader::with_capacity(1 << 20, inner)))
}

fn json_type(v: &serde_json::Value) -> DataType {
    use serde_json::Value as V;
    match v {
        V::Null | V::String(_) => DataType::Utf8,
        V::Bool(_) => DataType::Boolean,
        V::Number(n) if n.is_i64() || n.is_u64() => DataType::Int64,
        V::Number(_) => DataType::Float64,
        V::Array(_) => DataType::List(Arc::new(Field::new("item", DataType::Null, true))),
        V::Object(_) => DataType::Struct(Default::default()),
    }
}

/// Schema of the shard's columns, taken from its first valid record.
pub(super) fn schema(shard: &Shard) -> Result<Schema> {
    let mut r = lines(shard)?;
    let mut buf = Vec::new();
    let mut line = 0u64;
    let mut last_problem = String::from("no records");
    while line < SCHEMA_PROBE_LINES {
        buf.clear();
        let n = r.read_until(b'\n', &mut buf).map_err(|e| {
            Error::shard(
                &shard.name,
                Location::Line(line + 1),
                format!("read error: {e}"),
            )
        })?;
        if n == 0 {
            break;
        }
        line += 1;
        if buf.trim_ascii().is_empty() {
            continue;
        }
        match serde_json::from_slice::<serde_json::Value>(&buf) {
            Ok(serde_json::Value::Object(map)) => {
                let fields: Vec<Field> = map
                    .iter()
                    .map(|(k, v)| Field::new(k, json_type(v), true))
                    .collect();
                return Ok(Schema::new(fields));
            }
            Ok(_) => last_problem = format!("line {line} is not a JSON object"),
            Err(e) => last_problem = format!("line {line}: {e}"),
        }
    }
    Err(Error::shard(
        &shard.name,
        Location::Shard,
        format!("no JSON object record found ({last_problem})"),
    ))
}

struct Chunk {
    bytes: Vec<u8>,
    lines: Vec<u64>,
}

pub(super) fn read(
    shard: &Shard,
    cols: &[&str],
    opts: &ReadOptions,
    f: &mut dyn FnMut(SourceBatch) -> Result<()>,
) -> Result<UnitNotes> {
    let schema: SchemaRef = Arc::new(Schema::new(
        cols.iter()
            .map(|c| Field::new(*c, DataType::Utf8, true))
            .collect::<Vec<_>>(),
    ));
    let mut notes = UnitNotes::default();
    let mut r = lines(shard)?;
    let mut chunk = Chunk {
        bytes: Vec::new(),
        lines: Vec::new(),
    };
    let mut row = 0i64;
    let mut line_no = 0u64;
    let mut line = Vec::new();
    let result = loop {
        line.clear();
        match r.read_until(b'\n', &mut line) {
            Ok(0) => break Ok(()),
            Ok(_) => {}
            Err(e) => {
                break Err(Error::shard(
                    &shard.name,
                    Location::Line(line_no + 1),
                    format!("read error (truncated or corrupt file?): {e}"),
                ))
            }
        }
        line_no += 1;
        if line.trim_ascii().is_empty() {
            continue;
        }
        if let Err(e) = std::str::from_utf8(&line) {
            let reason = format!("invalid UTF-8 at byte {}", e.valid_up_to());
            if let Err(e) = bad_line(shard, opts, &mut notes, line_no, reason) {
                break Err(e);
            }
            continue;
        }
        chunk.bytes.extend_from_slice(&line);
        if line.last() != Some(&b'\n') {
            chunk.bytes.push(b'\n');
        }
        chunk.lines.push(line_no);
        if chunk.lines.len() >= opts.batch_size || chunk.bytes.len() >= CHUNK_BYTES {
            if let Err(e) = flush(shard, &schema, &mut chunk, opts, &mut notes, &mut row, f) {
                break Err(e);
            }
        }
    };
    // Whatever was read before an error is still delivered.
    let flushed = flush(shard, &schema, &mut chunk, opts, &mut notes, &mut row, f);
    result.and(flushed).map(|_| notes)
}

fn bad_line(
    shard: &Shard,
    opts: &ReadOptions,
    notes: &mut UnitNotes,
    line: u64,
    reason: String,
) -> Result<()> {
    match opts.on_bad_line {
        OnBadLine::Skip => {
            notes.bad_lines.push(BadLine { line, reason });
            Ok(())
        }
        OnBadLine::Fail => Err(Error::shard(&shard.name, Location::Line(line), reason)),
    }
}

fn decode(schema: &SchemaRef, rows: usize, buf: &[u8]) -> Result<Option<RecordBatch>, String> {
    let mut dec = ReaderBuilder::new(schema.clone())
        .with_batch_size(rows + 1)
        .with_coerce_primitive(true)
        .build_decoder()
        .map_err(|e| e.to_string())?;
    let mut off = 0;
    while off < buf.len() {
        let n = dec.decode(&buf[off..]).map_err(|e| e.to_string())?;
        if n == 0 {
            break;
        }
        off += n;
    }
    dec.flush().map_err(|e| e.to_string())
}

fn flush(
    shard: &Shard,
    schema: &SchemaRef,
    chunk: &mut Chunk,
    opts: &ReadOptions,
    notes: &mut UnitNotes,
    row: &mut i64,
    f: &mut dyn FnMut(SourceBatch) -> Result<()>,
) -> Result<()> {
    if chunk.lines.is_empty() {
        return Ok(());
    }
    let batch =
        match decode(schema, chunk.lines.len(), &chunk.bytes) {
            Ok(b) => b,
            Err(_) => {
                // Slow path: find the bad lines one by one and keep the good ones.
                let mut good = Vec::new();
                let mut start = 0;
                for &line in &chunk.lines {
                    let end = start
                        + memchr::memchr(b'\n', &chunk.bytes[start..])
                            .map_or(chunk.bytes.len() - start, |p| p + 1);
                    match decode(schema, 1, &chunk.bytes[start..end]) {
                        Ok(Some(b)) => good.push(b),
                        Ok(None) => {}
                        Err(reason) => bad_line(shard, opts, notes, line, reason)?,
                    }
                    start = end;
                }
                if good.is_empty() {
                    None
                } else {
                    Some(arrow::compute::concat_batches(schema, &good).map_err(|e| {
                        Error::shard(&shard.name, Location::Line(chunk.lines[0]), e)
                    })?)
                }
            }
        };
    chunk.bytes.clear();
    chunk.lines.clear();
    if let Some(batch) = batch {
        let n = batch.num_rows() as i64;
        f(SourceBatch {
            first_row: *row,
            batch,
        })?;
        *row += n;
    }
    Ok(())
}
