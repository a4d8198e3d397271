//! Arrow IPC, file (`ARROW1` magic, random access) and stream formats.

use std::fs::File;
use std::io::{BufReader, Read};

use arrow::datatypes::Schema;
use arrow::ipc::reader::{FileReader, StreamReader};

use super::{ReadOptions, Shard, SourceBatch};
use crate::{Error, Location, Result};

fn is_file_format(shard: &Shard) -> Result<bool> {
    let mut head = [0u8; 6];
    let mut f = File::open(&shard.path).map_err(|e| Error::io(&shard.path, e))?;
    Ok(f.read_exact(&mut head).is_ok() && &head == b"ARROW1")
}

type Batches =
    Box<dyn Iterator<Item = Result<arrow::array::RecordBatch, arrow::error::ArrowError>>>;

fn open(shard: &Shard, projection: Option<Vec<usize>>) -> Result<(Schema, Batches)> {
    let err = |e: arrow::error::ArrowError| {
        Error::shard(
            &shard.name,
            Location::Shard,
            format!("unreadable Arrow IPC: {e}"),
        )
    };
    let file = File::open(&shard.path).map_err(|e| Error::io(&shard.path, e))?;
    if is_file_format(shard)? {
        let r = FileReader::try_new(file, projection).map_err(err)?;
        Ok(((*r.schema()).clone(), Box::new(r)))
    } else {
        let r = StreamReader::try_new(BufReader::new(file), projection).map_err(err)?;
        Ok(((*r.schema()).clone(), Box::new(r)))
    }
}

pub(super) fn schema(shard: &Shard) -> Result<Schema> {
    open(shard, None).map(|(s, _)| s)
}

pub(super) fn read(
    shard: &Shard,
    cols: &[&str],
    opts: &ReadOptions,
    f: &mut dyn FnMut(SourceBatch) -> Result<()>,
) -> Result<()> {
    let full = schema(shard)?;
    let projection = cols.iter().filter_map(|c| full.index_of(c).ok()).collect();
    let (_, batches) = open(shard, Some(projection))?;
    let mut row = 0i64;
    for (i, batch) in batches.enumerate() {
        let batch = batch.map_err(|e| {
            Error::shard(
                &shard.name,
                Location::Row(row),
                format!("unreadable Arrow IPC batch {i}: {e}"),
            )
        })?;
        // Writers choose batch sizes; slice (zero-copy) so memory follows ours.
        let mut offset = 0;
        while offset < batch.num_rows() {
            let len = opts.batch_size.min(batch.num_rows() - offset);
            f(SourceBatch {
                first_row: row,
                batch: batch.slice(offset, len),
            })?;
            row += len as i64;
            offset += len;
        }
    }
    Ok(())
}
