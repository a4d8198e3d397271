//! The `shardguard` command line.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use clap::{Parser, Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use shardguard::audit::{self, AuditOptions, CountName, OnShardError, Progress, Summary};
use shardguard::detect::DetectorId;
use shardguard::hash::Key;
use shardguard::scan::ScanConfig;
use shardguard::sink::DirSink;
use shardguard::source::{OnBadLine, ReadOptions};
use shardguard::Error;

// Every batch allocates and frees decode buffers of megabytes; with mimalloc told never to
// purge freed memory, they are reused warm instead of being returned to the kernel and faulted
// (zeroed) back in for the next batch. Peak memory is unchanged: it is what the largest batches
// in flight need.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `mi_option_purge_delay` in mimalloc's `mi_option_e` (v2 and v3 alike).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

fn keep_freed_memory() {
    // SAFETY: sets a process-wide allocator option; mimalloc reads options at any time.
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, -1) }
}

const AFTER_HELP: &str = "\
Examples:
  shardguard audit datasets-sample/ --out audit-out
  shardguard audit 'shards/*.parquet' --out out --text-column content --id-column url
  shardguard audit data/ --out out --quiet --fail-on 'unicode>0'    # gate a CI job
  shardguard audit data.jsonl.zst --out out --json | jq .kinds

Exit codes:
  0  the audit ran and no --fail-on condition matched
  1  a --fail-on condition matched (outputs are written)
  2  usage error, unreadable input, or a shard failed (outputs for the rest are written)";

#[derive(Parser)]
#[command(
    name = "shardguard",
    version,
    about = "Audit LLM training data shards before a model sees them"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Scan shards and write findings.parquet, records.parquet and summary.json.
    #[command(after_help = AFTER_HELP)]
    Audit(AuditArgs),
    /// Write copies of shards with every finding replaced (same format, columns and row order).
    #[command(after_help = REDACT_HELP)]
    Redact(RedactArgs),
}

const REDACT_HELP: &str = "\
Examples:
  shardguard redact datasets-sample/ --out redacted
  shardguard redact 'shards/*.parquet' --out clean --mode pseudonym --key-file key.hex
  shardguard redact data.jsonl.zst --out clean --config rules.toml --mode mask

Modes:
  tag        <EMAIL>, <PHONE>, ...
  mask       letters and digits replaced by '*', punctuation kept
  pseudonym  a keyed, consistent stand-in of the same shape (same value -> same stand-in)

Each input is written under --out at its path relative to the input given. Inputs are never
modified. JSONL lines that are not valid JSON are left out of the copy (and listed).";

#[derive(Parser)]
struct RedactArgs {
    /// Parquet, Arrow IPC or JSONL(.gz|.zst) files, directories (searched recursively) or globs.
    #[arg(required = true, value_name = "INPUT")]
    inputs: Vec<String>,

    /// Output directory (created if needed).
    #[arg(long, short, value_name = "DIR")]
    out: PathBuf,

    /// How findings are replaced.
    #[arg(long, default_value = "tag", value_name = "tag|mask|pseudonym")]
    mode: String,

    /// Column holding the text to redact.
    #[arg(long, default_value = "text", value_name = "NAME")]
    text_column: String,

    /// Detectors whose findings are replaced, comma-separated.
    #[arg(
        long,
        value_delimiter = ',',
        value_name = "LIST",
        default_value = "pii,secret"
    )]
    detectors: Vec<String>,

    /// Rules file (TOML): kinds, phone regions, allowlists, custom patterns.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,

    /// Hex key for pseudonyms (else $SHARDGUARD_KEY, else a random per-run key).
    #[arg(long, value_name = "FILE")]
    key_file: Option<PathBuf>,

    /// Rows per batch.
    #[arg(long, default_value_t = shardguard::source::DEFAULT_BATCH_SIZE, value_name = "ROWS")]
    batch_size: usize,

    /// Worker threads [default: all cores].
    #[arg(long, short = 'j', value_name = "N")]
    threads: Option<usize>,

    /// Print the counts as JSON to stdout.
    #[arg(long)]
    json: bool,
}

#[derive(Clone, Copy, ValueEnum)]
enum Policy {
    Skip,
    Fail,
}

#[derive(Parser)]
struct AuditArgs {
    /// Parquet, Arrow IPC or JSONL(.gz|.zst) files, directories (searched recursively) or globs.
    #[arg(required = true, value_name = "INPUT")]
    inputs: Vec<String>,
    /// Output directory (created if needed).
    #[arg(long, short, value_name = "DIR")]
    out: PathBuf,
    /// Also write every shard, in its own format, with only the records dedup keeps (the first
    /// copy of each duplicate cluster) under DIR.
    #[arg(long, value_name = "DIR")]
    filtered_out: Option<PathBuf>,
    /// Column holding the text to audit.
    #[arg(long, default_value = "text", value_name = "NAME")]
    text_column: String,
    /// Column identifying each record [default: `id` or `doc_id` when present].
    #[arg(long, value_name = "NAME")]
    id_column: Option<String>,
    /// Column holding a class label (used by label-aware detectors).
    #[arg(long, value_name = "NAME")]
    label_column: Option<String>,
    /// Rules file (TOML): kinds to report, phone regions, allowlists, custom patterns.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,

    /// Detectors to run, comma-separated [default: all available].
    #[arg(long, value_delimiter = ',', value_name = "LIST")]
    detectors: Vec<String>,
    /// Worker threads [default: all cores].
    #[arg(long, short = 'j', value_name = "N")]
    threads: Option<usize>,
    /// Exit with code 1 when a count exceeds a limit, e.g. `unicode>0`, `BIDI_CONTROL>=1`,
    /// `any>10`, `failed_shards>0`. Repeat or comma-separate.
    #[arg(long, value_delimiter = ',', value_name = "EXPR")]
    fail_on: Vec<String>,
    /// Rows per batch.
    #[arg(long, default_value_t = shardguard::source::DEFAULT_BATCH_SIZE, value_name = "ROWS")]
    batch_size: usize,
    /// A shard that cannot be read: skip it (reported, exit 2) or stop the audit.
    #[arg(long, value_enum, default_value = "skip")]
    on_shard_error: Policy,
    /// A JSONL line that is not valid UTF-8 or JSON: skip it (reported) or fail the shard.
    #[arg(long, value_enum, default_value = "skip")]
    on_bad_line: Policy,
    /// Hex key for value_hash (else $SHARDGUARD_KEY, else a random per-run key).
    #[arg(long, value_name = "FILE")]
    key_file: Option<PathBuf>,
    /// Put raw found values in `preview` instead of masked ones.
    #[arg(long)]
    reveal: bool,
    /// No progress bar and no summary on stderr.
    #[arg(long, short)]
    quiet: bool,
    /// Print summary.json to stdout.
    #[arg(long)]
    json: bool,
}

/// `NAME>N` or `NAME>=N`.
struct FailOn {
    name: CountName,
    at_least: u64,
    text: String,
}

impl FailOn {
    fn parse(s: &str) -> Result<Self, Error> {
        let bad = || {
            Error::Config(format!(
                "bad --fail-on '{s}': expected NAME>N or NAME>=N (NAME: a detector, a kind, any, failed_shards)"
            ))
        };
        let (name, at_least) = if let Some((n, v)) = s.split_once(">=") {
            (n, v.trim().parse::<u64>().map_err(|_| bad())?)
        } else if let Some((n, v)) = s.split_once('>') {
            (n, v.trim().parse::<u64>().map_err(|_| bad())? + 1)
        } else {
            return Err(bad());
        };
        let name = CountName::parse(name).ok_or_else(bad)?;
        Ok(FailOn {
            name,
            at_least,
            text: s.to_string(),
        })
    }

    fn matches(&self, summary: &Summary) -> bool {
        summary.count(&self.name) >= self.at_least
    }
}

struct Bar {
    bar: Option<ProgressBar>,
    records: AtomicU64,
    text_bytes: AtomicU64,
    t0: Instant,
}

impl Progress for Bar {
    fn start(&self, total: u64, shards: usize) {
        if let Some(b) = &self.bar {
            b.set_length(total);
            b.set_prefix(format!("{shards} shards"));
        }
    }
    fn scanned(&self, records: u64, text_bytes: u64) {
        let r = self.records.fetch_add(records, Ordering::Relaxed) + records;
        let t = self.text_bytes.fetch_add(text_bytes, Ordering::Relaxed) + text_bytes;
        if let Some(b) = &self.bar {
            let s = self.t0.elapsed().as_secs_f64().max(1e-3);
            b.set_message(format!(
                "{r} rec {:.0} rec/s {:.1} MB/s",
                r as f64 / s,
                t as f64 / 1e6 / s
            ));
        }
    }
    fn completed(&self, bytes: u64) {
        if let Some(b) = &self.bar {
            b.inc(bytes);
        }
    }
}

fn policy(p: Policy) -> (OnShardError, OnBadLine) {
    match p {
        Policy::Skip => (OnShardError::Skip, OnBadLine::Skip),
        Policy::Fail => (OnShardError::Fail, OnBadLine::Fail),
    }
}

fn audit_cmd(a: AuditArgs) -> Result<ExitCode, Error> {
    let fail_on = a
        .fail_on
        .iter()
        .filter(|s| !s.trim().is_empty())
        .map(|s| FailOn::parse(s))
        .collect::<Result<Vec<_>, _>>()?;
    let detectors = if a.detectors.is_empty() {
        DetectorId::AVAILABLE.to_vec()
    } else {
        a.detectors
            .iter()
            .map(|d| d.parse())
            .collect::<Result<Vec<DetectorId>, _>>()?
    };
    if a.batch_size == 0 {
        return Err(Error::Config("--batch-size must be at least 1".into()));
    }
    let key = Key::resolve(a.key_file.as_deref())?;
    let opts = AuditOptions {
        scan: ScanConfig {
            text_column: a.text_column,
            id_column: a.id_column,
            label_column: a.label_column,
            detectors,
            reveal: a.reveal,
            rules: match &a.config {
                Some(p) => shardguard::rules::RulesConfig::from_toml_file(p)?,
                None => Default::default(),
            },
        },
        read: ReadOptions {
            batch_size: a.batch_size,
            on_bad_line: policy(a.on_bad_line).1,
        },
        on_shard_error: policy(a.on_shard_error).0,
        filtered_out: a.filtered_out,
    };
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(a.threads.unwrap_or(0))
        .build()
        .map_err(|e| Error::Config(format!("cannot start worker threads: {e}")))?;
    let show_bar = !a.quiet && std::io::stderr().is_terminal();
    let progress = Bar {
        bar: show_bar.then(|| {
            let b = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr());
            b.set_style(
                ProgressStyle::with_template(
                    "{prefix} {elapsed_precise} [{bar:30}] {bytes}/{total_bytes} {msg} ETA {eta}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            b
        }),
        records: AtomicU64::new(0),
        text_bytes: AtomicU64::new(0),
        t0: Instant::now(),
    };
    let mut sink = DirSink::create(&a.out)?;
    let summary = pool.install(|| audit::run(&a.inputs, &opts, key, &mut sink, &progress))?;
    if let Some(b) = &progress.bar {
        b.finish_and_clear();
    }
    if a.json {
        let mut out = std::io::stdout().lock();
        let json = serde_json::to_string_pretty(&summary).unwrap_or_default();
        // A closed pipe (`| head`) is not an error worth reporting.
        let _ = writeln!(out, "{json}");
    }
    let matched: Vec<&FailOn> = fail_on.iter().filter(|f| f.matches(&summary)).collect();
    if !a.quiet {
        report(&summary, &a.out);
        for f in &matched {
            eprintln!("fail-on matched: {}", f.text);
        }
    }
    let copy_failed = summary
        .filtered
        .as_ref()
        .is_some_and(|f| f.shards.iter().any(|s| s.error.is_some()));
    Ok(if summary.shards_failed > 0 || copy_failed {
        ExitCode::from(2)
    } else if !matched.is_empty() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn report(s: &Summary, out: &std::path::Path) {
    let mut e = std::io::stderr().lock();
    let _ = writeln!(
        e,
        "audited {} records ({:.2} MB of text) in {} shards in {:.2}s: {} findings in {} records",
        s.records,
        s.text_bytes as f64 / 1e6,
        s.shards_total,
        s.elapsed_seconds,
        s.findings,
        s.records_flagged
    );
    for (k, c) in &s.kinds {
        let _ = writeln!(
            e,
            "  {k:<16} {:>8} findings in {:>8} records",
            c.findings, c.records
        );
    }
    for f in &s.failed_shards {
        let _ = writeln!(e, "error: {}", f.error);
    }
    for sh in s.shards.iter().filter(|sh| sh.skipped_lines > 0) {
        let _ = writeln!(
            e,
            "warning: {}: skipped {} bad lines",
            sh.shard, sh.skipped_lines
        );
    }
    if let Some(f) = &s.filtered {
        let _ = writeln!(
            e,
            "filtered copies in {}: {} records kept, {} duplicates left out",
            f.dir.display(),
            f.kept,
            f.dropped
        );
        for sh in f.shards.iter() {
            if let Some(err) = &sh.error {
                let _ = writeln!(e, "error: filtered copy of {}: {err}", sh.shard);
            }
        }
    }
    let _ = writeln!(e, "outputs in {}", out.display());
}

fn redact_cmd(a: RedactArgs) -> Result<ExitCode, Error> {
    use shardguard::redact::{RedactMode, Redactor};
    let mode: RedactMode = a.mode.parse()?;
    let detectors = a
        .detectors
        .iter()
        .map(|d| d.parse())
        .collect::<Result<Vec<DetectorId>, _>>()?;
    if a.batch_size == 0 {
        return Err(Error::Config("--batch-size must be at least 1".into()));
    }
    let scan = ScanConfig {
        text_column: a.text_column.clone(),
        detectors,
        rules: match &a.config {
            Some(p) => shardguard::rules::RulesConfig::from_toml_file(p)?,
            None => Default::default(),
        },
        ..ScanConfig::default()
    };
    let key = Key::resolve(a.key_file.as_deref())?;
    let scanner = std::sync::Arc::new(shardguard::scan::Scanner::new(scan, key)?);
    let redactor = Redactor::new(scanner, mode);
    let shards = shardguard::source::expand(&a.inputs, Some(&a.out))?;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(a.threads.unwrap_or(0))
        .build()
        .map_err(|e| Error::Config(e.to_string()))?;
    let report = pool.install(|| {
        shardguard::sink::rewrite::redact_shards(&redactor, &shards, &a.out, a.batch_size)
    });
    let failed = report.shards.iter().filter(|s| s.error.is_some()).count();
    if a.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&report).unwrap_or_default()
        );
    } else {
        for s in &report.shards {
            match &s.error {
                Some(e) => eprintln!("error: {e}"),
                None if !s.dropped_lines.is_empty() => eprintln!(
                    "{}: {} invalid JSONL line(s) left out: {:?}",
                    s.shard,
                    s.dropped_lines.len(),
                    s.dropped_lines
                ),
                None => {}
            }
        }
        let c = &report.counts;
        eprintln!(
            "redacted {} shard(s) into {}: {} value(s) replaced in {} of {} records",
            shards.len() - failed,
            a.out.display(),
            c.replaced,
            c.records_changed,
            c.records
        );
        for (k, n) in &c.kinds {
            eprintln!("  {k:<18} {n:>8}");
        }
    }
    Ok(if failed > 0 {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}

fn main() -> ExitCode {
    keep_freed_memory();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Audit(a) => audit_cmd(a),
        Command::Redact(a) => redact_cmd(a),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}
