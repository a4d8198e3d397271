//! Where results go. The audit hands every batch result to a [`Sink`]; only sinks touch the disk.
//! [`DirSink`] writes `findings.parquet`, `records.parquet` and `summary.json` under temporary
//! names and renames them into place only when the audit completed.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use arrow::array::RecordBatch;
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;
use parquet::schema::types::ColumnPath;

use crate::audit::Summary;
use crate::schema::{findings_schema, pii_values_schema, records_schema};
use crate::{Error, Result};

pub mod rewrite;

pub const FINDINGS_FILE: &str = "findings.parquet";
pub const RECORDS_FILE: &str = "records.parquet";
pub const SUMMARY_FILE: &str = "summary.json";
pub const PII_VALUES_FILE: &str = "pii_values.parquet";

/// Output columns with few distinct values, dictionary-encoded.
const DICTIONARY_COLUMNS: &[&str] = &[
    "shard",
    "column",
    "detector",
    "kind",
    "first_shard",
    "risk",
    "flags.list.item",
];

/// Rows per row group of the output tables.
const OUTPUT_ROW_GROUP_ROWS: usize = 128 * 1024;

pub trait Sink: Send {
    fn findings(&mut self, batch: &RecordBatch) -> Result<()>;
    fn records(&mut self, batch: &RecordBatch) -> Result<()>;
    /// Distinct PII values with their counts, when `memorization` ran.
    fn pii_values(&mut self, _batch: &RecordBatch) -> Result<()> {
        Ok(())
    }
    /// Called once, after every batch, when the audit completed.
    fn finish(&mut self, summary: &Summary) -> Result<()>;
    /// The directory outputs go to, which input expansion must not read back.
    fn output_dir(&self) -> Option<&Path> {
        None
    }
}

/// Keeps everything in memory (notebooks, tests).
#[derive(Default)]
pub struct MemorySink {
    pub findings: Vec<RecordBatch>,
    pub records: Vec<RecordBatch>,
    pub pii_values: Vec<RecordBatch>,
    pub summary: Option<Summary>,
}

/// Keeps only the summary (building an index: the counts are what is wanted).
#[derive(Default)]
pub struct NullSink;

impl Sink for NullSink {
    fn findings(&mut self, _: &RecordBatch) -> Result<()> {
        Ok(())
    }
    fn records(&mut self, _: &RecordBatch) -> Result<()> {
        Ok(())
    }
    fn finish(&mut self, _: &Summary) -> Result<()> {
        Ok(())
    }
}

impl Sink for MemorySink {
    fn findings(&mut self, batch: &RecordBatch) -> Result<()> {
        if batch.num_rows() > 0 {
            self.findings.push(batch.clone());
        }
        Ok(())
    }
    fn records(&mut self, batch: &RecordBatch) -> Result<()> {
        if batch.num_rows() > 0 {
            self.records.push(batch.clone());
        }
        Ok(())
    }
    fn pii_values(&mut self, batch: &RecordBatch) -> Result<()> {
        self.pii_values.push(batch.clone());
        Ok(())
    }
    fn finish(&mut self, summary: &Summary) -> Result<()> {
        self.summary = Some(summary.clone());
        Ok(())
    }
}

/// A file written under a hidden temporary name, renamed into place on commit, removed if dropped
/// uncommitted.
struct Staged {
    tmp: PathBuf,
    dest: PathBuf,
    committed: bool,
}

impl Staged {
    fn new(dir: &Path, name: &str) -> Self {
        Self {
            tmp: dir.join(format!(".{name}.partial-{}", std::process::id())),
            dest: dir.join(name),
            committed: false,
        }
    }

    fn commit(&mut self) -> Result<()> {
        std::fs::rename(&self.tmp, &self.dest).map_err(|e| Error::output(&self.dest, e))?;
        self.committed = true;
        Ok(())
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

struct TableFile {
    staged: Staged,
    writer: Option<ArrowWriter<File>>,
}

impl TableFile {
    fn create(dir: &Path, name: &str, schema: arrow::datatypes::SchemaRef) -> Result<Self> {
        let staged = Staged::new(dir, name);
        let file = File::create(&staged.tmp).map_err(|e| Error::output(&staged.tmp, e))?;
        let mut props = WriterProperties::builder()
            .set_compression(Compression::ZSTD(ZstdLevel::default()))
            .set_created_by(format!("shardguard {}", env!("CARGO_PKG_VERSION")))
            // A row group is buffered whole before it is written: keep it to tens of MB.
            .set_max_row_group_row_count(Some(OUTPUT_ROW_GROUP_ROWS))
            // Hashes, previews, offsets and details are nearly all distinct: dictionaries only
            // cost time there. The few columns that repeat keep theirs.
            .set_dictionary_enabled(false);
        for c in DICTIONARY_COLUMNS {
            props = props.set_column_dictionary_enabled(ColumnPath::from(*c), true);
        }
        let props = props.build();
        let writer = ArrowWriter::try_new(file, schema, Some(props))
            .map_err(|e| Error::output(&staged.dest, e))?;
        Ok(Self {
            staged,
            writer: Some(writer),
        })
    }

    fn write(&mut self, batch: &RecordBatch) -> Result<()> {
        if batch.num_rows() == 0 {
            return Ok(());
        }
        match &mut self.writer {
            Some(w) => w
                .write(batch)
                .map_err(|e| Error::output(&self.staged.dest, e)),
            None => Err(Error::output(&self.staged.dest, "already closed")),
        }
    }

    fn close(&mut self) -> Result<()> {
        if let Some(w) = self.writer.take() {
            w.close().map_err(|e| Error::output(&self.staged.dest, e))?;
        }
        Ok(())
    }
}

/// Writes the audit's output files into a directory.
pub struct DirSink {
    dir: PathBuf,
    findings: TableFile,
    records: TableFile,
    pii_values: Option<TableFile>,
}

impl DirSink {
    pub fn create(dir: impl AsRef<Path>) -> Result<Self> {
        let dir = dir.as_ref().to_path_buf();
        std::fs::create_dir_all(&dir).map_err(|e| Error::output(&dir, e))?;
        Ok(Self {
            findings: TableFile::create(&dir, FINDINGS_FILE, findings_schema())?,
            records: TableFile::create(&dir, RECORDS_FILE, records_schema())?,
            pii_values: None,
            dir,
        })
    }
}

impl Sink for DirSink {
    fn findings(&mut self, batch: &RecordBatch) -> Result<()> {
        self.findings.write(batch)
    }

    fn records(&mut self, batch: &RecordBatch) -> Result<()> {
        self.records.write(batch)
    }

    fn pii_values(&mut self, batch: &RecordBatch) -> Result<()> {
        let t = match &mut self.pii_values {
            Some(t) => t,
            None => self.pii_values.insert(TableFile::create(
                &self.dir,
                PII_VALUES_FILE,
                pii_values_schema(),
            )?),
        };
        t.write(batch)
    }

    fn finish(&mut self, summary: &Summary) -> Result<()> {
        self.findings.close()?;
        self.records.close()?;
        if let Some(t) = &mut self.pii_values {
            t.close()?;
        }
        let mut staged = Staged::new(&self.dir, SUMMARY_FILE);
        let json =
            serde_json::to_vec_pretty(summary).map_err(|e| Error::output(&staged.dest, e))?;
        File::create(&staged.tmp)
            .and_then(|mut f| f.write_all(&json).and_then(|_| f.sync_all()))
            .map_err(|e| Error::output(&staged.tmp, e))?;
        // Tables first, summary last: a summary.json on disk means the tables beside it are whole.
        self.findings.staged.commit()?;
        self.records.staged.commit()?;
        if let Some(t) = &mut self.pii_values {
            t.staged.commit()?;
        }
        staged.commit()
    }

    fn output_dir(&self) -> Option<&Path> {
        Some(&self.dir)
    }
}

/// Writes `bytes` to `path` under a temporary name beside it, synced, then renamed into place.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&dir).map_err(|e| Error::output(&dir, e))?;
    let name = path
        .file_name()
        .ok_or_else(|| Error::output(path, "not a file name"))?
        .to_string_lossy()
        .into_owned();
    let mut staged = Staged::new(&dir, &name);
    File::create(&staged.tmp)
        .and_then(|mut f| f.write_all(bytes).and_then(|_| f.sync_all()))
        .map_err(|e| Error::output(&staged.tmp, e))?;
    staged.commit()
}
