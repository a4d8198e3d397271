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
// in flight need. Nor does the process use transparent huge pages: mimalloc marks its first
// arena for them before `main` runs, and the kernel then zeroes each page whole (2 MiB) at first
// touch and, when free memory is fragmented, compacts memory to find one. That cost an audit of
// the pretraining set 0.5-1.5 s of system time on top of 1.8 s of work, varying run to run.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `mi_option_purge_delay` in mimalloc's `mi_option_e` (v2 and v3 alike).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

fn tune_memory() {
    // SAFETY: sets a process-wide allocator option; mimalloc reads options at any time.
    unsafe {
        libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, -1);
    }
    // SAFETY: PR_SET_THP_DISABLE takes plain integers and only sets a flag of this process.
    #[cfg(target_os = "linux")]
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
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
    /// Build a training-data index: keyed hashes of PII values with their counts and of every
    /// token window (no raw values, no text).
    #[command(after_help = INDEX_HELP)]
    Index(IndexArgs),
    /// Check model outputs against a training index: MEMORIZED_PII and VERBATIM_SPAN findings.
    #[command(after_help = INDEX_HELP)]
    Check(CheckArgs),
}

const INDEX_HELP: &str = "\
Examples:
  openssl rand -hex 32 > key.hex
  shardguard index train/ --out train.sgindex --key-file key.hex
  shardguard check --index train.sgindex outputs.jsonl --out leak --key-file key.hex \\
      --fail-on 'MEMORIZED_PII>0'

Both need the same secret key (--key-file or SHARDGUARD_KEY): the index holds only keyed
hashes, useless without it.";

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

/// Options shared by `audit`, `index` and `check`: what to read and how.
#[derive(clap::Args)]
struct ReadArgs {
    /// Column holding the text to audit.
    #[arg(long, default_value = "text", value_name = "NAME")]
    text_column: String,
    /// Column identifying each record [default: `id` or `doc_id` when present].
    #[arg(long, value_name = "NAME")]
    id_column: Option<String>,
    /// Rules file (TOML): kinds to report, phone regions, allowlists, custom patterns.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Worker threads [default: all cores].
    #[arg(long, short = 'j', value_name = "N")]
    threads: Option<usize>,
    /// Rows per batch.
    #[arg(long, default_value_t = shardguard::source::DEFAULT_BATCH_SIZE, value_name = "ROWS")]
    batch_size: usize,
    /// A shard that cannot be read: skip it (reported, exit 2) or stop.
    #[arg(long, value_enum, default_value = "skip")]
    on_shard_error: Policy,
    /// A JSONL line that is not valid UTF-8 or JSON: skip it (reported) or fail the shard.
    #[arg(long, value_enum, default_value = "skip")]
    on_bad_line: Policy,
    /// Hex key for value_hash and token windows (else $SHARDGUARD_KEY).
    #[arg(long, value_name = "FILE")]
    key_file: Option<PathBuf>,
    /// No progress bar and no summary on stderr.
    #[arg(long, short)]
    quiet: bool,
    /// Print the summary as JSON to stdout.
    #[arg(long)]
    json: bool,
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
    /// Column holding a class label (used by label-aware detectors).
    #[arg(long, value_name = "NAME")]
    label_column: Option<String>,
    /// Instruction data: the column holding prompts (with --response-column).
    #[arg(long, value_name = "NAME", requires = "response_column")]
    prompt_column: Option<String>,
    /// Instruction data: the column holding responses (with --prompt-column).
    #[arg(long, value_name = "NAME", requires = "prompt_column")]
    response_column: Option<String>,
    /// Detectors to run, comma-separated [default: all available].
    #[arg(long, value_delimiter = ',', value_name = "LIST")]
    detectors: Vec<String>,
    /// Exit with code 1 when a count exceeds a limit, e.g. `unicode>0`, `BIDI_CONTROL>=1`,
    /// `any>10`, `failed_shards>0`. Repeat or comma-separate.
    #[arg(long, value_delimiter = ',', value_name = "EXPR")]
    fail_on: Vec<String>,
    /// Put raw found values in `preview` instead of masked ones.
    #[arg(long)]
    reveal: bool,
    /// Memorization state held in memory before the rest spills to disk, in MiB.
    #[arg(long, value_name = "MIB")]
    memory_limit: Option<usize>,
    #[command(flatten)]
    read: ReadArgs,
}

#[derive(Parser)]
struct IndexArgs {
    /// Training shards: Parquet, Arrow IPC or JSONL(.gz|.zst) files, directories or globs.
    #[arg(required = true, value_name = "INPUT")]
    inputs: Vec<String>,
    /// The index file to write.
    #[arg(long, short, value_name = "INDEX")]
    out: PathBuf,
    /// False-positive rate of the window filter, per window looked up.
    #[arg(long, default_value_t = 1e-6, value_name = "RATE")]
    fp_rate: f64,
    /// Windows the filter is sized for [default: the windows of the inputs]. Indexes merge only
    /// when built with the same capacity and rate.
    #[arg(long, value_name = "N")]
    capacity: Option<u64>,
    /// State held in memory before the rest spills to disk, in MiB.
    #[arg(long, value_name = "MIB")]
    memory_limit: Option<usize>,
    #[command(flatten)]
    read: ReadArgs,
}

#[derive(Parser)]
struct CheckArgs {
    /// The training index (`shardguard index`).
    #[arg(long, value_name = "INDEX")]
    index: PathBuf,
    /// Model outputs: Parquet, Arrow IPC or JSONL(.gz|.zst) files, directories or globs.
    #[arg(required = true, value_name = "OUTPUTS")]
    inputs: Vec<String>,
    /// Output directory (created if needed).
    #[arg(long, short, value_name = "DIR")]
    out: PathBuf,
    /// Exit with code 1 when a count exceeds a limit, e.g. `MEMORIZED_PII>0`.
    #[arg(long, value_delimiter = ',', value_name = "EXPR")]
    fail_on: Vec<String>,
    /// Put raw found values in `preview` instead of masked ones.
    #[arg(long)]
    reveal: bool,
    #[command(flatten)]
    read: ReadArgs,
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

fn parse_fail_on(exprs: &[String]) -> Result<Vec<FailOn>, Error> {
    exprs
        .iter()
        .filter(|s| !s.trim().is_empty())
        .map(|s| FailOn::parse(s))
        .collect()
}

/// Audit options from the shared arguments (detectors, reveal and the rest left default).
fn options(r: &ReadArgs, detectors: Vec<DetectorId>) -> Result<AuditOptions, Error> {
    if r.batch_size == 0 {
        return Err(Error::Config("--batch-size must be at least 1".into()));
    }
    Ok(AuditOptions {
        scan: ScanConfig {
            text_column: r.text_column.clone(),
            id_column: r.id_column.clone(),
            detectors,
            rules: match &r.config {
                Some(p) => shardguard::rules::RulesConfig::from_toml_file(p)?,
                None => Default::default(),
            },
            ..ScanConfig::default()
        },
        read: ReadOptions {
            batch_size: r.batch_size,
            on_bad_line: policy(r.on_bad_line).1,
        },
        on_shard_error: policy(r.on_shard_error).0,
        ..AuditOptions::default()
    })
}

fn pool(threads: Option<usize>) -> Result<rayon::ThreadPool, Error> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads.unwrap_or(0))
        .build()
        .map_err(|e| Error::Config(format!("cannot start worker threads: {e}")))
}

fn progress(quiet: bool) -> Bar {
    let show_bar = !quiet && std::io::stderr().is_terminal();
    Bar {
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
    }
}

fn print_json<T: serde::Serialize>(v: &T) {
    let mut out = std::io::stdout().lock();
    let json = serde_json::to_string_pretty(v).unwrap_or_default();
    // A closed pipe (`| head`) is not an error worth reporting.
    let _ = writeln!(out, "{json}");
}

/// Reports an audit (or a check) and turns it into an exit code.
fn conclude(
    summary: &Summary,
    r: &ReadArgs,
    fail_on: &[FailOn],
    out: &std::path::Path,
) -> ExitCode {
    if r.json {
        print_json(summary);
    }
    let matched: Vec<&FailOn> = fail_on.iter().filter(|f| f.matches(summary)).collect();
    if !r.quiet {
        report(summary, out);
        for f in &matched {
            eprintln!("fail-on matched: {}", f.text);
        }
    }
    let copy_failed = summary
        .filtered
        .as_ref()
        .is_some_and(|f| f.shards.iter().any(|s| s.error.is_some()));
    if summary.shards_failed > 0 || copy_failed {
        ExitCode::from(2)
    } else if !matched.is_empty() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// Audits (or checks) `inputs` into `out` on the requested threads and concludes.
fn audit_into(
    inputs: &[String],
    opts: &AuditOptions,
    key: Key,
    r: &ReadArgs,
    fail_on: &[FailOn],
    out: &std::path::Path,
) -> Result<ExitCode, Error> {
    let progress = progress(r.quiet);
    let mut sink = DirSink::create(out)?;
    let summary =
        pool(r.threads)?.install(|| audit::run(inputs, opts, key, &mut sink, &progress))?;
    if let Some(b) = &progress.bar {
        b.finish_and_clear();
    }
    Ok(conclude(&summary, r, fail_on, out))
}

fn audit_cmd(a: AuditArgs) -> Result<ExitCode, Error> {
    let fail_on = parse_fail_on(&a.fail_on)?;
    let detectors = if a.detectors.is_empty() {
        DetectorId::AVAILABLE.to_vec()
    } else {
        a.detectors
            .iter()
            .map(|d| d.parse())
            .collect::<Result<Vec<DetectorId>, _>>()?
    };
    let key = Key::resolve(a.read.key_file.as_deref())?;
    let mut opts = options(&a.read, detectors)?;
    opts.scan.label_column = a.label_column;
    opts.scan.prompt_column = a.prompt_column;
    opts.scan.response_column = a.response_column;
    opts.scan.reveal = a.reveal;
    opts.filtered_out = a.filtered_out;
    opts.memory_limit = a.memory_limit.map(|m| m << 20);
    audit_into(&a.inputs, &opts, key, &a.read, &fail_on, &a.out)
}

fn index_cmd(a: IndexArgs) -> Result<ExitCode, Error> {
    let key = Key::require(a.read.key_file.as_deref(), "an index")?;
    let mut opts = options(&a.read, vec![DetectorId::Pii, DetectorId::Secret])?;
    opts.memory_limit = a.memory_limit.map(|m| m << 20);
    let index_opts = audit::IndexOptions {
        fp_rate: a.fp_rate,
        capacity: a.capacity,
    };
    let progress = progress(a.read.quiet);
    let (index, summary) = pool(a.read.threads)?
        .install(|| audit::build_index(&a.inputs, &opts, key, &progress, index_opts))?;
    if let Some(b) = &progress.bar {
        b.finish_and_clear();
    }
    let bytes = index.to_bytes();
    shardguard::sink::write_atomic(&a.out, &bytes)?;
    let h = index.header();
    if a.read.json {
        print_json(&serde_json::json!({
            "index": a.out,
            "bytes": bytes.len(),
            "header": h,
            "summary": summary,
        }));
    }
    if !a.read.quiet {
        eprintln!(
            "indexed {} records ({:.2} MB of text) in {} shards in {:.2}s",
            summary.records,
            summary.text_bytes as f64 / 1e6,
            summary.shards_total,
            summary.elapsed_seconds
        );
        eprintln!(
            "  {} distinct PII/secret values, {} distinct {}-word windows",
            h.values, h.windows, h.window_tokens
        );
        eprintln!(
            "  filter: {} bits, {} hashes, sized for {} windows at fp-rate {:e}; expected {:.2e}",
            h.bloom_bits, h.bloom_hashes, h.capacity, h.fp_rate, h.expected_fp_rate
        );
        eprintln!(
            "  {} written: {:.2} MB ({:.1} MB per GB of text)",
            a.out.display(),
            bytes.len() as f64 / 1e6,
            bytes.len() as f64 / (summary.text_bytes.max(1) as f64 / 1e9) / 1e6
        );
        for f in &summary.failed_shards {
            eprintln!("error: {}", f.error);
        }
    }
    Ok(if summary.shards_failed > 0 {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}

fn check_cmd(a: CheckArgs) -> Result<ExitCode, Error> {
    let fail_on = parse_fail_on(&a.fail_on)?;
    let key = Key::require(a.read.key_file.as_deref(), "checking against an index")?;
    let bytes = std::fs::read(&a.index).map_err(|e| Error::io(&a.index, e))?;
    let index = shardguard::corpus::index::TrainingIndex::from_bytes(&bytes)
        .map_err(|e| Error::Config(format!("{}: {e}", a.index.display())))?;
    let mut opts = options(&a.read, audit::CHECK_DETECTORS.to_vec())?;
    opts.scan.reveal = a.reveal;
    opts.check_index = Some(std::sync::Arc::new(index));
    audit_into(&a.inputs, &opts, key, &a.read, &fail_on, &a.out)
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
    if let Some(m) = &s.memorization {
        let t = &m.repeated_text;
        let _ = writeln!(
            e,
            "memorization: {} distinct PII values ({} occurrences) by risk {:?}; {} with a \
             repeated {}-word context; repeated windows cover {:.1}% ±{:.1}% of text ({:.1}% in \
             PII documents)",
            m.values,
            m.occurrences,
            m.values_by_risk,
            m.repeated_contexts,
            t.window_tokens,
            100.0 * t.all_documents.repeated_share,
            100.0 * t.all_documents.error_95,
            100.0 * t.pii_documents.repeated_share,
        );
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
    tune_memory();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Audit(a) => audit_cmd(a),
        Command::Redact(a) => redact_cmd(a),
        Command::Index(a) => index_cmd(a),
        Command::Check(a) => check_cmd(a),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}
