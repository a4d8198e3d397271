//! Parquet: footer read once per shard, then each row group is its own unit, read with column
//! projection in batches so memory follows the batch size, not the file size.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};

use parquet::arrow::arrow_reader::{
    ArrowReaderMetadata, ArrowReaderOptions, ParquetRecordBatchReaderBuilder, RowSelection,
    RowSelector,
};
use parquet::arrow::ProjectionMask;

use super::{Part, Planned, ReadOptions, Shard, SourceBatch, Unit};
use crate::scan::Scanner;
use crate::{Error, Location, Result};

/// Row groups larger than this (compressed) are read as several row ranges in parallel.
const SPLIT_BYTES: u64 = 16 << 20;

pub(crate) struct ParquetPlan {
    metadata: ArrowReaderMetadata,
    projection: Vec<usize>,
}

fn open(shard: &Shard) -> Result<File> {
    File::open(&shard.path).map_err(|e| Error::io(&shard.path, e))
}

pub(super) fn plan(index: usize, shard: &Shard, scanner: &Scanner) -> Result<Planned> {
    let mut file = open(shard)?;
    check_magic(&mut file, shard)?;
    let metadata = ArrowReaderMetadata::load(&file, ArrowReaderOptions::new()).map_err(|e| {
        Error::shard(
            &shard.name,
            Location::Shard,
            format!("unreadable Parquet footer: {e}"),
        )
    })?;
    let schema = metadata.schema().clone();
    let columns = scanner.resolve_columns(&schema, &shard.name)?;
    let metadata = text_as_views(metadata, &columns.text);
    let projection = columns
        .names()
        .iter()
        .filter_map(|n| schema.index_of(n).ok())
        .collect();
    let mut first_row = 0i64;
    let mut units = Vec::new();
    for (g, rg) in metadata.metadata().row_groups().iter().enumerate() {
        // Big row groups are split into row ranges so they decode on several threads; the split
        // depends only on the file, so outputs do not depend on the thread count.
        let rows = rg.num_rows().max(0) as usize;
        let bytes = rg.compressed_size().max(0) as u64;
        let pieces = (bytes.div_ceil(SPLIT_BYTES) as usize).clamp(1, rows.max(1));
        let per = rows.div_ceil(pieces).max(1);
        for (k, skip) in (0..rows.max(1)).step_by(per).enumerate() {
            let take = per.min(rows - skip.min(rows));
            units.push(Unit {
                shard: index,
                part: Part::RowGroup {
                    index: g,
                    first_row: first_row + skip as i64,
                    skip,
                    take,
                },
                bytes: if k + 1 == pieces {
                    bytes - (pieces as u64 - 1) * (bytes / pieces as u64)
                } else {
                    bytes / pieces as u64
                },
            });
        }
        first_row += rows as i64;
    }
    Ok(Planned {
        columns,
        units,
        parquet: Some(ParquetPlan {
            metadata,
            projection,
        }),
    })
}

fn check_magic(file: &mut File, shard: &Shard) -> Result<()> {
    let bad = |m: &str| Error::shard(&shard.name, Location::Shard, m);
    let mut head = [0u8; 4];
    let mut tail = [0u8; 4];
    let ok = file.read_exact(&mut head).is_ok()
        && file.seek(SeekFrom::End(-4)).is_ok()
        && file.read_exact(&mut tail).is_ok();
    if !ok || &head != b"PAR1" {
        return Err(bad("not a Parquet file (no PAR1 magic at the start)"));
    }
    if &tail != b"PAR1" {
        return Err(bad("truncated Parquet file (no PAR1 magic at the end)"));
    }
    file.seek(SeekFrom::Start(0))
        .map_err(|e| Error::io(&shard.path, e))?;
    Ok(())
}

/// The same metadata, reading the text column as `Utf8View`: its values then stay in the
/// decompressed pages instead of being copied into one buffer grown (and zeroed) per batch.
/// Anything the reader refuses keeps the file's own types.
fn text_as_views(metadata: ArrowReaderMetadata, text: &str) -> ArrowReaderMetadata {
    use arrow::datatypes::{DataType, Field, Schema};
    use std::sync::Arc;
    let schema = metadata.schema();
    let is_text = |f: &Field| {
        f.name() == text && matches!(f.data_type(), DataType::Utf8 | DataType::LargeUtf8)
    };
    if !schema.fields().iter().any(|f| is_text(f)) {
        return metadata;
    }
    let fields: Vec<Field> = schema
        .fields()
        .iter()
        .map(|f| {
            if is_text(f) {
                f.as_ref().clone().with_data_type(DataType::Utf8View)
            } else {
                f.as_ref().clone()
            }
        })
        .collect();
    let views = Arc::new(Schema::new_with_metadata(fields, schema.metadata().clone()));
    let options = ArrowReaderOptions::new().with_schema(views);
    ArrowReaderMetadata::try_new(metadata.metadata().clone(), options).unwrap_or(metadata)
}

/// Decoded bytes of the read columns per batch, at most (roughly): long texts make small
/// batches, so decode buffers stay cache- and allocator-friendly instead of growing to the size
/// of a whole row group.
const BATCH_BYTES: u64 = 8 << 20;

/// How many rows of row group `group` hold about `bytes` of the projected columns, decoded.
fn rows_for_bytes(plan: &ParquetPlan, group: usize, bytes: u64) -> usize {
    let rg = plan.metadata.metadata().row_group(group);
    let schema = plan.metadata.schema();
    let names: Vec<&str> = plan
        .projection
        .iter()
        .map(|&i| schema.field(i).name().as_str())
        .collect();
    let size: i64 = rg
        .columns()
        .iter()
        .filter(|c| {
            c.column_path()
                .parts()
                .first()
                .is_some_and(|p| names.contains(&p.as_str()))
        })
        .map(|c| c.uncompressed_size().max(0))
        .sum();
    let rows = rg.num_rows().max(1) as u64;
    if size <= 0 {
        return usize::MAX;
    }
    (rows * bytes / size as u64).clamp(1, usize::MAX as u64) as usize
}

pub(super) fn read_row_group(
    shard: &Shard,
    plan: &ParquetPlan,
    group: usize,
    first_row: i64,
    (skip, take): (usize, usize),
    opts: &ReadOptions,
    f: &mut dyn FnMut(SourceBatch) -> Result<()>,
) -> Result<()> {
    let err = |e: &dyn std::fmt::Display| Error::shard(&shard.name, Location::RowGroup(group), e);
    let batch_size = opts
        .batch_size
        .min(rows_for_bytes(plan, group, BATCH_BYTES));
    let file = open(shard)?;
    let builder = ParquetRecordBatchReaderBuilder::new_with_metadata(file, plan.metadata.clone());
    let mask = ProjectionMask::roots(builder.parquet_schema(), plan.projection.iter().copied());
    let reader = builder
        .with_row_groups(vec![group])
        .with_row_selection(RowSelection::from(vec![
            RowSelector::skip(skip),
            RowSelector::select(take),
        ]))
        .with_projection(mask)
        .with_batch_size(batch_size)
        .build()
        .map_err(|e| err(&e))?;
    let mut row = first_row;
    for batch in reader {
        let batch = batch.map_err(|e| err(&e))?;
        let n = batch.num_rows() as i64;
        f(SourceBatch {
            first_row: row,
            batch,
        })?;
        row += n;
    }
    Ok(())
}
