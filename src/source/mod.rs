//! Inputs: finding shards (files, directories, globs), planning them into independently readable
//! units (a Parquet row group, a whole JSONL or Arrow file), and streaming Arrow batches out of them.

mod ipc;
mod jsonl;
mod parquet;

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use arrow::array::RecordBatch;
use arrow::datatypes::Schema;

use crate::scan::{Columns, Scanner};
use crate::{Error, Location, Result};

pub use jsonl::BadLine;

/// Rows per batch unless told otherwise.
pub const DEFAULT_BATCH_SIZE: usize = 8192;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    None,
    Gzip,
    Zstd,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Parquet,
    ArrowFile,
    ArrowStream,
    Jsonl(Compression),
}

impl Format {
    /// `parquet`, `arrow`, `arrows`, `jsonl`, `jsonl.gz`, `jsonl.zst`.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Parquet => "parquet",
            Format::ArrowFile => "arrow",
            Format::ArrowStream => "arrows",
            Format::Jsonl(Compression::None) => "jsonl",
            Format::Jsonl(Compression::Gzip) => "jsonl.gz",
            Format::Jsonl(Compression::Zstd) => "jsonl.zst",
        }
    }
}

impl serde::Serialize for Format {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// One input file.
#[derive(Debug, Clone)]
pub struct Shard {
    pub path: PathBuf,
    /// The name reported in outputs: the path as given, or joined under the directory given.
    pub name: String,
    pub format: Format,
    pub size: u64,
}

/// What to do with a bad record or line inside an otherwise readable shard.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OnBadLine {
    /// Skip it, count it and report it in the summary.
    #[default]
    Skip,
    /// Fail the shard at that line.
    Fail,
}

#[derive(Debug, Clone, Copy)]
pub struct ReadOptions {
    pub batch_size: usize,
    pub on_bad_line: OnBadLine,
}

impl Default for ReadOptions {
    fn default() -> Self {
        Self {
            batch_size: DEFAULT_BATCH_SIZE,
            on_bad_line: OnBadLine::Skip,
        }
    }
}

/// Expands files, directories (recursively, sorted) and globs into shards, in input order.
/// Directories under `skip_dir` (the audit's own output directory) are not searched.
pub fn expand(inputs: &[String], skip_dir: Option<&Path>) -> Result<Vec<Shard>> {
    let skip = skip_dir.and_then(|d| d.canonicalize().ok());
    if inputs.is_empty() {
        return Err(Error::NoInput("no input given".into()));
    }
    let mut shards = Vec::new();
    for input in inputs {
        let path = Path::new(input);
        if path.is_dir() {
            let mut files = Vec::new();
            walk(path, skip.as_deref(), &mut files).map_err(|e| Error::io(path, e))?;
            files.sort();
            let before = shards.len();
            for f in files {
                if let Some(format) = format_from_name(&f) {
                    shards.push(shard(f, format)?);
                }
            }
            if shards.len() == before {
                return Err(Error::NoInput(format!(
                    "{input}: no supported files in directory (.parquet, .arrow, .arrows, .feather, .ipc, .jsonl, .json, .ndjson, optionally .gz/.zst)"
                )));
            }
        } else if path.exists() {
            let format = match format_from_name(path) {
                Some(f) => f,
                None => sniff(path)?,
            };
            shards.push(shard(path.to_path_buf(), format)?);
        } else if input.contains(['*', '?', '[']) {
            let paths =
                glob::glob(input).map_err(|e| Error::Config(format!("bad glob '{input}': {e}")))?;
            let mut matched: Vec<PathBuf> = paths
                .filter_map(|p| p.ok())
                .filter(|p| p.is_file())
                .collect();
            matched.sort();
            let before = shards.len();
            for f in matched {
                if let Some(format) = format_from_name(&f) {
                    shards.push(shard(f, format)?);
                }
            }
            if shards.len() == before {
                return Err(Error::NoInput(format!(
                    "{input}: the pattern matches no supported file"
                )));
            }
        } else {
            return Err(Error::io(
                path,
                std::io::Error::new(std::io::ErrorKind::NotFound, "no such file or directory"),
            ));
        }
    }
    Ok(shards)
}

fn shard(path: PathBuf, format: Format) -> Result<Shard> {
    let size = std::fs::metadata(&path)
        .map_err(|e| Error::io(&path, e))?
        .len();
    Ok(Shard {
        name: path.to_string_lossy().into_owned(),
        path,
        format,
        size,
    })
}

fn walk(dir: &Path, skip: Option<&Path>, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    if skip.is_some() && dir.canonicalize().ok().as_deref() == skip {
        return Ok(());
    }
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name();
        if name.to_string_lossy().starts_with('.') {
            continue; // hidden files and our own partial outputs
        }
        let p = entry.path();
        if entry.file_type()?.is_dir() {
            walk(&p, skip, out)?;
        } else {
            out.push(p);
        }
    }
    Ok(())
}

/// Format from the file name, `None` when the extension is not one we read.
pub fn format_from_name(path: &Path) -> Option<Format> {
    let name = path.file_name()?.to_string_lossy().to_ascii_lowercase();
    let (stem, compression) = if let Some(s) = name.strip_suffix(".gz") {
        (s, Compression::Gzip)
    } else if let Some(s) = name
        .strip_suffix(".zst")
        .or_else(|| name.strip_suffix(".zstd"))
    {
        (s, Compression::Zstd)
    } else {
        (name.as_str(), Compression::None)
    };
    let ext = stem.rsplit_once('.')?.1;
    match (ext, compression) {
        ("parquet" | "pq", Compression::None) => Some(Format::Parquet),
        ("arrow" | "feather" | "ipc", Compression::None) => Some(Format::ArrowFile),
        ("arrows", Compression::None) => Some(Format::ArrowStream),
        ("jsonl" | "json" | "ndjson", c) => Some(Format::Jsonl(c)),
        _ => None,
    }
}

/// Format of an explicitly named file without a known extension, from its first bytes.
fn sniff(path: &Path) -> Result<Format> {
    let mut head = [0u8; 8];
    let n = File::open(path)
        .and_then(|mut f| f.read(&mut head))
        .map_err(|e| Error::io(path, e))?;
    let head = &head[..n];
    let name = path.to_string_lossy();
    match head {
        [b'P', b'A', b'R', b'1', ..] => Ok(Format::Parquet),
        [b'A', b'R', b'R', b'O', b'W', b'1', ..] => Ok(Format::ArrowFile),
        [0xff, 0xff, 0xff, 0xff, ..] => Ok(Format::ArrowStream),
        [0x1f, 0x8b, ..] => Ok(Format::Jsonl(Compression::Gzip)),
        [0x28, 0xb5, 0x2f, 0xfd, ..] => Ok(Format::Jsonl(Compression::Zstd)),
        [b'{', ..] => Ok(Format::Jsonl(Compression::None)),
        _ => Err(Error::shard(
            name,
            Location::Shard,
            "unsupported format: not Parquet, Arrow IPC or JSONL",
        )),
    }
}

/// An independently readable piece of a shard.
#[derive(Debug, Clone)]
pub struct Unit {
    /// Index into the shard list.
    pub shard: usize,
    pub part: Part,
    /// On-disk bytes this unit covers (for progress).
    pub bytes: u64,
}

#[derive(Debug, Clone)]
pub enum Part {
    /// A whole file read front to back.
    Whole,
    /// Rows `skip..skip + take` of one Parquet row group.
    RowGroup {
        index: usize,
        first_row: i64,
        skip: usize,
        take: usize,
    },
}

/// A shard opened and checked: its columns resolved and its units known.
pub struct Planned {
    pub columns: Columns,
    pub units: Vec<Unit>,
    pub(crate) parquet: Option<parquet::ParquetPlan>,
}

/// Opens a shard, validates its schema against the scanner's configuration and splits it.
pub fn plan(index: usize, shard: &Shard, scanner: &Scanner) -> Result<Planned> {
    if shard.size == 0 {
        return Err(Error::shard(
            &shard.name,
            Location::Shard,
            "empty file (0 bytes)",
        ));
    }
    match shard.format {
        Format::Parquet => parquet::plan(index, shard, scanner),
        Format::ArrowFile | Format::ArrowStream => {
            let schema = ipc::schema(shard)?;
            whole(index, shard, scanner, &schema)
        }
        Format::Jsonl(_) => {
            let schema = jsonl::schema(shard)?;
            whole(index, shard, scanner, &schema)
        }
    }
}

fn whole(index: usize, shard: &Shard, scanner: &Scanner, schema: &Schema) -> Result<Planned> {
    Ok(Planned {
        columns: scanner.resolve_columns(schema, &shard.name)?,
        units: vec![Unit {
            shard: index,
            part: Part::Whole,
            bytes: shard.size,
        }],
        parquet: None,
    })
}

/// A batch read from a unit: `first_row` is the shard-level index of its first row.
pub struct SourceBatch {
    pub first_row: i64,
    pub batch: RecordBatch,
}

/// What a unit yields besides batches: lines skipped under [`OnBadLine::Skip`].
#[derive(Debug, Default, Clone)]
pub struct UnitNotes {
    pub bad_lines: Vec<BadLine>,
}

/// Reads every batch of `unit`, calling `f` for each. Stops at the first error, after `f` has
/// seen every batch before it, so nothing already read is lost.
pub fn read_unit(
    shard: &Shard,
    planned: &Planned,
    unit: &Unit,
    opts: &ReadOptions,
    f: &mut dyn FnMut(SourceBatch) -> Result<()>,
) -> Result<UnitNotes> {
    let cols = planned.columns.names();
    match (&unit.part, shard.format) {
        (
            Part::RowGroup {
                index,
                first_row,
                skip,
                take,
            },
            Format::Parquet,
        ) => {
            let plan = planned.parquet.as_ref().ok_or_else(|| {
                Error::shard(
                    &shard.name,
                    Location::RowGroup(*index),
                    "row group without a plan",
                )
            })?;
            parquet::read_row_group(shard, plan, *index, *first_row, (*skip, *take), opts, f)?;
            Ok(UnitNotes::default())
        }
        (_, Format::ArrowFile | Format::ArrowStream) => {
            ipc::read(shard, &cols, opts, f)?;
            Ok(UnitNotes::default())
        }
        (_, Format::Jsonl(_)) => jsonl::read(shard, &cols, opts, f),
        (Part::Whole, Format::Parquet) => Err(Error::shard(
            &shard.name,
            Location::Shard,
            "a Parquet shard is read by row group",
        )),
    }
}
