//! Orchestration: expand inputs, plan shards, scan their units in parallel (rayon), hand results
//! to the sink in input order, and summarize. Output order does not depend on the thread count.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use rayon::prelude::*;
use serde::Serialize;

use crate::corpus::dedup::{self, DedupIndex};
use crate::corpus::index::{IndexBuilder, TrainingIndex};
use crate::corpus::memo::{self, MemoState, ValueCounts, ValueOcc, WindowCounts, WindowOcc};
use crate::corpus::outlier::OutlierState;
use crate::corpus::poison::PoisonState;
use crate::corpus::{CorpusStats, Count};
use crate::detect::DetectorId;
use crate::finalize::{
    dedup_outputs, poison_outputs, DedupSummary, MemoFinalizer, MemoSummary, OutlierSummary,
    PoisonSummary,
};
use crate::hash::{Key, KeySource};
use crate::scan::{BatchResult, ScanConfig, Scanner};
use crate::schema::OUTPUT_VERSION;
use crate::sink::Sink;
use crate::source::{self, BadLine, Format, Planned, ReadOptions, Shard, Unit};
use crate::{Error, Result};

/// What to do when a shard cannot be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OnShardError {
    /// Report it in the summary and audit the rest.
    #[default]
    Skip,
    /// Stop the audit; no outputs are committed.
    Fail,
}

#[derive(Debug, Clone, Default)]
pub struct AuditOptions {
    pub scan: ScanConfig,
    pub read: ReadOptions,
    pub on_shard_error: OnShardError,
    /// Write a copy of every shard with only the records dedup keeps under this directory.
    pub filtered_out: Option<std::path::PathBuf>,
    /// Bytes of memorization state held in memory before the rest is written to disk
    /// (`None`: [`DEFAULT_MEMORY_LIMIT`]).
    pub memory_limit: Option<usize>,
    /// Check every record against this training index (model outputs).
    pub check_index: Option<Arc<TrainingIndex>>,
}

/// What checking model outputs against a training index runs: the values it looks up and the
/// lookup itself.
pub const CHECK_DETECTORS: [DetectorId; 3] = [
    DetectorId::Pii,
    DetectorId::Secret,
    DetectorId::Memorization,
];

/// Memorization state held in memory before it spills to disk.
pub const DEFAULT_MEMORY_LIMIT: usize = 2 << 30;

/// How a training index is sized.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct IndexOptions {
    /// False-positive rate per window looked up.
    pub fp_rate: f64,
    /// Windows the filter is sized for (`None`: the windows of the inputs). Indexes merge only
    /// when their filters have the same size: give them the same capacity.
    pub capacity: Option<u64>,
}

/// The copy of one shard holding only the records dedup keeps.
#[derive(Debug, Clone, Serialize)]
pub struct FilteredShard {
    pub shard: String,
    pub output: Option<std::path::PathBuf>,
    pub kept: u64,
    pub dropped: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// The `--filtered-out` copies.
#[derive(Debug, Clone, Serialize)]
pub struct FilteredSummary {
    pub dir: std::path::PathBuf,
    pub kept: u64,
    pub dropped: u64,
    pub shards: Vec<FilteredShard>,
}

/// Progress reported from the core; front ends decide how to show it.
pub trait Progress: Sync {
    /// Total on-disk bytes and shard count, once planning is done.
    fn start(&self, _total_bytes: u64, _shards: usize) {}
    /// Records and text bytes scanned since the last call.
    fn scanned(&self, _records: u64, _text_bytes: u64) {}
    /// On-disk bytes of units completed since the last call.
    fn completed(&self, _bytes: u64) {}
}

pub struct NoProgress;
impl Progress for NoProgress {}

/// Lines skipped per shard that are listed by number in the summary (the count is always exact).
const BAD_LINES_LISTED: usize = 20;

#[derive(Debug, Clone, Serialize)]
pub struct ShardSummary {
    pub shard: String,
    pub format: Format,
    pub bytes: u64,
    /// `ok`, `partial` (some units failed after others were audited) or `failed`.
    pub status: &'static str,
    pub records: u64,
    pub text_bytes: u64,
    pub findings: u64,
    pub kinds: BTreeMap<String, u64>,
    pub skipped_lines: u64,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub bad_lines: Vec<BadLine>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct FailedShard {
    pub shard: String,
    pub category: &'static str,
    pub error: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub shardguard_version: &'static str,
    pub output_version: u32,
    pub inputs: Vec<String>,
    pub config: ScanConfig,
    /// Whether `value_hash` used a user key (stable across runs) or a random per-run key.
    pub key: KeySource,
    pub started_unix: f64,
    pub elapsed_seconds: f64,
    pub shards_total: usize,
    pub shards_failed: usize,
    pub records: u64,
    pub text_bytes: u64,
    pub null_texts: u64,
    pub findings: u64,
    pub records_flagged: u64,
    pub detectors: BTreeMap<String, Count>,
    pub kinds: BTreeMap<String, Count>,
    pub shards: Vec<ShardSummary>,
    pub failed_shards: Vec<FailedShard>,
    /// Duplicate rate, cluster sizes and the largest clusters, when `dedup` ran.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dedup: Option<DedupSummary>,
    /// The shards copied with only the kept records, with `filtered_out`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filtered: Option<FilteredSummary>,
    /// PII repetition, repeated contexts and repeated text, when `memorization` counted them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub memorization: Option<MemoSummary>,
    /// Candidate triggers and poisoning counts, when `poison` ran.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub poison: Option<PoisonSummary>,
    /// The most unusual records, when `outlier` ran.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outliers: Option<OutlierSummary>,
}

/// What a count names: every finding, failed shards, one detector or one kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CountName {
    Findings,
    FailedShards,
    Detector(crate::detect::DetectorId),
    Kind(&'static str),
}

impl CountName {
    /// Parses `any`/`findings`, `failed_shards`, a detector or a kind name (case-insensitive).
    pub fn parse(name: &str) -> Option<Self> {
        let n = name.trim().to_ascii_lowercase();
        match n.as_str() {
            "any" | "findings" => return Some(CountName::Findings),
            "failed_shards" => return Some(CountName::FailedShards),
            _ => {}
        }
        if let Some(d) = crate::detect::DetectorId::ALL
            .iter()
            .find(|d| d.as_str() == n)
        {
            return Some(CountName::Detector(*d));
        }
        crate::detect::KINDS
            .iter()
            .find(|(_, k)| k.eq_ignore_ascii_case(&n))
            .map(|(_, k)| CountName::Kind(k))
    }
}

impl Summary {
    /// The count a [`CountName`] names (0 when nothing of it was found).
    pub fn count(&self, name: &CountName) -> u64 {
        let findings = |c: Option<&Count>| c.map_or(0, |c| c.findings);
        match name {
            CountName::Findings => self.findings,
            CountName::FailedShards => self.shards_failed as u64,
            CountName::Detector(d) => findings(self.detectors.get(d.as_str())),
            CountName::Kind(k) => findings(self.kinds.get(*k)),
        }
    }
}

#[derive(Default)]
struct ShardState {
    stats: CorpusStats,
    units_failed: usize,
    units_total: usize,
    errors: Vec<Error>,
    bad_lines: Vec<BadLine>,
    skipped_lines: u64,
}

/// What pass 1 accumulates, fed batches in input order by whichever unit's thread holds the
/// turn ([`Ordered`]).
struct Pass1<'a> {
    sink: &'a mut dyn Sink,
    states: Vec<ShardState>,
    dedup: DedupIndex,
    memo: MemoState,
    poison: PoisonState,
    outlier: OutlierState,
    spill: Spill,
    /// Records waiting for corpus-wide results, in input order, with their shard.
    held: Vec<(usize, arrow::array::RecordBatch)>,
    hold: bool,
    memory_limit: usize,
    fail_fast: bool,
    /// The first error that stops the audit (a sink or spill failure, or a shard with
    /// `fail_fast`); later batches are dropped.
    fatal: Option<Error>,
}

impl Pass1<'_> {
    fn batch(&mut self, shard: usize, b: BatchResult) {
        if self.fatal.is_none() {
            if let Err(e) = self.try_batch(shard, b) {
                self.fatal = Some(e);
            }
        }
    }

    fn try_batch(&mut self, shard: usize, b: BatchResult) -> Result<()> {
        self.sink.findings(&b.findings)?;
        self.states[shard].stats.merge(&b.stats);
        if let Some(d) = &b.dedup {
            self.dedup.append(d)?;
        }
        if let Some(m) = b.memo {
            self.memo.append(m);
        }
        if self.memo.bytes() + self.dedup.anchor_bytes() > self.memory_limit {
            self.spill.write(&mut self.memo, &mut self.dedup)?;
        }
        if let Some(p) = b.poison {
            self.poison.merge(p);
        }
        if let Some(o) = b.outlier {
            self.outlier.merge(o);
        }
        if self.hold {
            self.held.push((shard, b.records));
        } else {
            self.sink.records(&b.records)?;
        }
        Ok(())
    }

    fn unit_end(&mut self, shard: usize, bad_lines: Vec<BadLine>, error: Option<Error>) {
        let st = &mut self.states[shard];
        st.skipped_lines += bad_lines.len() as u64;
        let room = BAD_LINES_LISTED.saturating_sub(st.bad_lines.len());
        st.bad_lines.extend(bad_lines.into_iter().take(room));
        if let Some(e) = error {
            if self.fail_fast {
                self.fatal.get_or_insert(e);
            } else {
                st.units_failed += 1;
                st.errors.push(e);
            }
        }
    }
}

/// A unit that finished reading before its turn came: its batches, kept until then.
struct Waiting {
    shard: usize,
    batches: Vec<Result<BatchResult>>,
    bad_lines: Vec<BadLine>,
    error: Option<Error>,
}

/// Hands units' batches to [`Pass1`] in input order while units are read in parallel. The unit
/// whose turn it is streams its batches as they are scanned (so a huge unit never sits in
/// memory); a unit ahead of its turn keeps its own until the turn reaches it. No unit ever waits
/// for another, so a thread pool of any size makes progress.
struct Ordered<'a> {
    turn: AtomicUsize,
    inner: Mutex<(Pass1<'a>, std::collections::BTreeMap<usize, Waiting>)>,
}

/// Batches of one unit, up to and including the first failed scan; a scan error is the unit's
/// error only if reading itself went fine.
struct UnitBatches {
    scan_failed: bool,
    error: Option<Error>,
}

impl UnitBatches {
    fn take(&mut self, pass: &mut Pass1<'_>, shard: usize, r: Result<BatchResult>) {
        match r {
            Ok(b) if !self.scan_failed => pass.batch(shard, b),
            Err(e) if !self.scan_failed => {
                self.scan_failed = true;
                self.error.get_or_insert(e);
            }
            _ => {}
        }
    }
}

impl Ordered<'_> {
    fn is_turn(&self, unit: usize) -> bool {
        self.turn.load(Ordering::Acquire) == unit
    }

    /// Ends the unit whose turn it is and passes the turn on, through the units that finished
    /// early.
    fn advance(
        &self,
        pass: &mut Pass1<'_>,
        waiting: &mut std::collections::BTreeMap<usize, Waiting>,
    ) {
        let mut next = self.turn.load(Ordering::Acquire) + 1;
        while let Some(w) = waiting.remove(&next) {
            let mut ub = UnitBatches {
                scan_failed: false,
                error: None,
            };
            for r in w.batches {
                ub.take(pass, w.shard, r);
            }
            pass.unit_end(w.shard, w.bad_lines, w.error.or(ub.error));
            next += 1;
        }
        self.turn.store(next, Ordering::Release);
    }
}

/// Reads unit number `me` on this thread and scans its batches on the pool as they arrive, with
/// at most a few scans per thread in flight; scanned batches go to `ordered` in read order.
#[allow(clippy::too_many_arguments)]
fn process_unit(
    me: usize,
    shard: &Shard,
    planned: &Planned,
    unit: &Unit,
    scanner: &Scanner,
    read: &ReadOptions,
    progress: &dyn Progress,
    ordered: &Ordered<'_>,
) {
    type Slot = Mutex<Option<Result<BatchResult>>>;
    let slots: Mutex<std::collections::VecDeque<Arc<Slot>>> = Mutex::new(Default::default());
    let in_flight = AtomicUsize::new(0);
    let limit = rayon::current_num_threads() * 2;
    let mut ub = UnitBatches {
        scan_failed: false,
        error: None,
    };
    // When it is this unit's turn: hands over the scanned batches at the front, in order.
    let drain = |ub: &mut UnitBatches| {
        if !ordered.is_turn(me) {
            return;
        }
        let mut inner = lock(&ordered.inner);
        let mut slots = lock(&slots);
        while let Some(r) = slots.front().and_then(|s| lock(s).take()) {
            slots.pop_front();
            ub.take(&mut inner.0, unit.shard, r);
        }
    };
    let res = rayon::scope(|s| {
        source::read_unit(shard, planned, unit, read, &mut |sb| {
            drain(&mut ub);
            // Scans in flight, and with the turn, batches scanned but not handed over.
            let busy = || {
                let queued = if ordered.is_turn(me) {
                    lock(&slots).len()
                } else {
                    0
                };
                in_flight.load(Ordering::Acquire).max(queued) >= limit
            };
            while busy() {
                // Help with the queued scans instead of blocking (a one-thread pool must).
                if rayon::yield_now() != Some(rayon::Yield::Executed) {
                    std::thread::yield_now();
                }
                drain(&mut ub);
            }
            let slot: Arc<Slot> = Arc::new(Mutex::new(None));
            lock(&slots).push_back(slot.clone());
            in_flight.fetch_add(1, Ordering::AcqRel);
            let in_flight = &in_flight;
            s.spawn(move |_| {
                let r = scanner.scan(&shard.name, sb.first_row, &sb.batch, &planned.columns);
                if let Ok(r) = &r {
                    progress.scanned(r.stats.records, r.stats.text_bytes);
                }
                *lock(&slot) = Some(r);
                in_flight.fetch_sub(1, Ordering::AcqRel);
            });
            Ok(())
        })
    });
    progress.completed(unit.bytes);
    let (bad_lines, read_error) = match res {
        Ok(notes) => (notes.bad_lines, None),
        Err(e) => (Vec::new(), Some(e)),
    };
    // Every scan is done (the scope waited): hand everything over now, or leave it waiting.
    let mut guard = lock(&ordered.inner);
    let (pass, waiting) = &mut *guard;
    let rest: Vec<Result<BatchResult>> = lock(&slots)
        .drain(..)
        .filter_map(|s| lock(&s).take())
        .collect();
    if ordered.is_turn(me) {
        for r in rest {
            ub.take(pass, unit.shard, r);
        }
        pass.unit_end(unit.shard, bad_lines, read_error.or(ub.error));
        ordered.advance(pass, waiting);
    } else {
        waiting.insert(
            me,
            Waiting {
                shard: unit.shard,
                batches: rest,
                bad_lines,
                error: read_error,
            },
        );
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Audits `inputs` (files, directories, globs) into `sink`, on the current rayon pool.
pub fn run(
    inputs: &[String],
    opts: &AuditOptions,
    key: Key,
    sink: &mut dyn Sink,
    progress: &dyn Progress,
) -> Result<Summary> {
    run_with(inputs, opts, key, sink, progress, None).map(|(s, _)| s)
}

/// Builds the training index of `inputs`: every PII and secret value with its counts and every
/// token window. The summary counts what was read.
pub fn build_index(
    inputs: &[String],
    opts: &AuditOptions,
    key: Key,
    progress: &dyn Progress,
    index: IndexOptions,
) -> Result<(TrainingIndex, Summary)> {
    let mut opts = opts.clone();
    opts.check_index = None;
    opts.filtered_out = None;
    let d = &mut opts.scan.detectors;
    d.retain(|d| matches!(d, DetectorId::Pii | DetectorId::Secret));
    d.push(DetectorId::Memorization);
    let (summary, built) = run_with(
        inputs,
        &opts,
        key,
        &mut crate::sink::NullSink,
        progress,
        Some(index),
    )?;
    Ok((built.expect("an index was asked for"), summary))
}

/// Corpus state written to disk past the memory limit (memorization values and windows, dedup
/// anchor postings), one file per list and partition, in a temporary directory removed when
/// dropped.
struct Spill {
    base: Option<std::path::PathBuf>,
    dir: Option<tempfile::TempDir>,
    /// Bytes written for memorization and for dedup.
    memo_bytes: u64,
    dedup_bytes: u64,
}

impl Spill {
    /// Moves the memorization lists and the dedup anchors out of memory, onto the end of their
    /// files.
    fn write(&mut self, memo: &mut MemoState, dedup: &mut DedupIndex) -> Result<()> {
        let mut buf = Vec::new();
        for p in 0..memo::PARTITIONS {
            let (v, w) = memo.take(p);
            buf.clear();
            memo::encode_values(&v, &mut buf);
            self.memo_bytes += self.append("values", p, &buf)?;
            buf.clear();
            memo::encode_windows(&w, &mut buf);
            self.memo_bytes += self.append("windows", p, &buf)?;
        }
        if dedup.anchor_bytes() > 0 {
            for (p, part) in dedup.take_postings().iter().enumerate() {
                buf.clear();
                dedup::encode_postings(part, &mut buf);
                self.dedup_bytes += self.append("anchors", p, &buf)?;
            }
        }
        Ok(())
    }

    fn dir(&mut self) -> Result<std::path::PathBuf> {
        if let Some(d) = &self.dir {
            return Ok(d.path().to_path_buf());
        }
        let b = tempfile::Builder::new()
            .prefix(".shardguard-spill-")
            .clone();
        let d = match &self.base {
            Some(base) => b.tempdir_in(base),
            None => b.tempdir(),
        }
        .map_err(|e| Error::output(self.base.as_deref().unwrap_or(std::path::Path::new(".")), e))?;
        Ok(self.dir.insert(d).path().to_path_buf())
    }

    /// Appends `bytes` to list `name`'s partition `p`; returns how many were written.
    fn append(&mut self, name: &str, p: usize, bytes: &[u8]) -> Result<u64> {
        use std::io::Write;
        if bytes.is_empty() {
            return Ok(0);
        }
        let path = self.dir()?.join(format!("{name}-{p:02}"));
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .and_then(|mut f| f.write_all(bytes))
            .map_err(|e| Error::output(&path, e))?;
        Ok(bytes.len() as u64)
    }

    fn read(&self, name: &str, p: usize) -> Result<Vec<u8>> {
        let Some(d) = &self.dir else {
            return Ok(Vec::new());
        };
        let path = d.path().join(format!("{name}-{p:02}"));
        match std::fs::read(&path) {
            Ok(b) => Ok(b),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
            Err(e) => Err(Error::io(&path, e)),
        }
    }

    /// Partition `p`'s windows: on disk, then in memory (taken out of `state`).
    fn windows(&self, state: &mut MemoState, p: usize) -> Result<Vec<WindowOcc>> {
        let mut out = Vec::new();
        memo::decode_windows(&self.read("windows", p)?, &mut out)?;
        out.append(&mut state.windows[p]);
        Ok(out)
    }

    fn values(&self, state: &mut MemoState, p: usize) -> Result<Vec<ValueOcc>> {
        let mut out = Vec::new();
        memo::decode_values(&self.read("values", p)?, &mut out)?;
        out.append(&mut state.values[p]);
        Ok(out)
    }

    /// Part `p` of the dedup anchor postings on disk.
    fn postings(&self, p: usize) -> Result<Vec<dedup::Posting>> {
        let mut out = Vec::new();
        dedup::decode_postings(&self.read("anchors", p)?, &mut out)?;
        Ok(out)
    }
}

fn run_with(
    inputs: &[String],
    opts: &AuditOptions,
    key: Key,
    sink: &mut dyn Sink,
    progress: &dyn Progress,
    index_opts: Option<IndexOptions>,
) -> Result<(Summary, Option<TrainingIndex>)> {
    let started = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64());
    let t0 = Instant::now();
    let key_source = key.source();
    let dedup = opts.scan.detectors.contains(&DetectorId::Dedup);
    if opts.filtered_out.is_some() && !dedup {
        return Err(Error::Config(
            "a filtered copy keeps the records dedup keeps: add the dedup detector".into(),
        ));
    }
    let shards = source::expand(inputs, sink.output_dir())?;
    let mut scanner = Scanner::new(opts.scan.clone(), key)?;
    if index_opts.is_some() {
        scanner = scanner.collect_all_windows();
    }
    if let Some(idx) = &opts.check_index {
        scanner = scanner.check_against(idx.clone())?;
    }
    let memo_on = scanner.collects_memo();
    let detectors = &opts.scan.detectors;
    let poison_on = detectors.contains(&DetectorId::Poison) && index_opts.is_none();
    let outlier_on = detectors.contains(&DetectorId::Outlier) && index_opts.is_none();
    // Records wait for the corpus-wide results of dedup, memorization, poison and outlier.
    let hold = dedup || (memo_on && index_opts.is_none()) || poison_on || outlier_on;
    let memo = MemoState::default();
    let spill = Spill {
        base: sink.output_dir().map(|p| p.to_path_buf()),
        dir: None,
        memo_bytes: 0,
        dedup_bytes: 0,
    };
    let memory_limit = opts.memory_limit.unwrap_or(DEFAULT_MEMORY_LIMIT);

    let plans: Vec<Result<Arc<Planned>>> = shards
        .par_iter()
        .enumerate()
        .map(|(i, s)| source::plan(i, s, &scanner).map(Arc::new))
        .collect();
    let mut states: Vec<ShardState> = shards.iter().map(|_| ShardState::default()).collect();
    let mut units: Vec<(Arc<Planned>, Unit)> = Vec::new();
    for (i, p) in plans.into_iter().enumerate() {
        match p {
            Ok(p) => {
                states[i].units_total = p.units.len();
                units.extend(p.units.iter().map(|u| (p.clone(), u.clone())));
            }
            Err(e) if opts.on_shard_error == OnShardError::Fail => return Err(e),
            Err(e) => states[i].errors.push(e),
        }
    }
    progress.start(units.iter().map(|(_, u)| u.bytes).sum(), shards.len());

    let ordered = Ordered {
        turn: AtomicUsize::new(0),
        inner: Mutex::new((
            Pass1 {
                sink,
                states,
                dedup: DedupIndex::default(),
                memo,
                poison: PoisonState::default(),
                outlier: OutlierState::default(),
                spill,
                held: Vec::new(),
                hold,
                memory_limit,
                fail_fast: opts.on_shard_error == OnShardError::Fail,
                fatal: None,
            },
            Default::default(),
        )),
    };
    // Windows of a few units per thread, read in parallel and handed over in order.
    let window = (rayon::current_num_threads() * 2).max(1);
    for (k, w) in units.chunks(window).enumerate() {
        let base = k * window;
        ordered.turn.store(base, Ordering::Release);
        w.par_iter().enumerate().for_each(|(i, (p, u))| {
            process_unit(
                base + i,
                &shards[u.shard],
                p,
                u,
                &scanner,
                &opts.read,
                progress,
                &ordered,
            )
        });
        if let Some(e) = lock(&ordered.inner).0.fatal.take() {
            return Err(e);
        }
    }
    let Pass1 {
        sink,
        mut states,
        dedup: index,
        mut memo,
        poison,
        outlier,
        spill,
        mut held,
        ..
    } = ordered
        .inner
        .into_inner()
        .unwrap_or_else(|e| e.into_inner())
        .0;

    let mut dedup_summary = None;
    let mut filtered = None;
    let mut clusters = None;
    if dedup {
        let cl = index.cluster_with(&opts.scan.rules.dedup, |p| spill.postings(p))?;
        drop(index);
        let clusters = clusters.insert(cl);
        if let Some(dir) = &opts.filtered_out {
            let mut keep: Vec<Vec<bool>> = vec![Vec::new(); shards.len()];
            let mut i = 0;
            for (shard, records) in &held {
                keep[*shard].extend((0..records.num_rows()).map(|r| clusters.is_kept(i + r)));
                i += records.num_rows();
            }
            filtered = Some(write_filtered(&shards, &states, &keep, dir, opts));
        }
        let out = with_stats(&mut states, |stats| {
            dedup_outputs(
                clusters,
                &held,
                &opts.scan.text_column,
                scanner.key(),
                stats,
            )
        });
        sink.findings(&out.findings)?;
        replace_records(&mut held, out.records);
        dedup_summary = Some(DedupSummary {
            spilled_bytes: spill.dedup_bytes,
            ..out.summary
        });
    }

    let mut memo_summary = None;
    let mut built = None;
    if memo_on {
        let cfg = &opts.scan.rules.memorization;
        if let Some(io) = index_opts {
            let capacity = io.capacity.unwrap_or(memo.window_occurrences);
            let mut b = IndexBuilder::new(scanner.key(), cfg.window_tokens, io.fp_rate, capacity)?;
            let mut values = ValueCounts::new(0);
            let mut rows = Vec::new();
            let none = WindowCounts::default();
            for p in 0..memo::PARTITIONS {
                let mut hashes: Vec<u64> = spill
                    .windows(&mut memo, p)?
                    .iter()
                    .map(|w| w.hash)
                    .collect();
                hashes.par_sort_unstable();
                hashes.dedup();
                b.add_windows(&hashes);
                rows.extend(
                    values
                        .sweep(&mut spill.values(&mut memo, p)?, None, &none)
                        .rows,
                );
            }
            let total: CorpusStats = states.iter().fold(CorpusStats::default(), |mut t, s| {
                t.merge(&s.stats);
                t
            });
            built = Some(b.finish(rows, total.records, total.text_bytes));
        } else {
            let mut windows = WindowCounts::new(memo.records);
            for p in 0..memo::PARTITIONS {
                windows.sweep(&mut spill.windows(&mut memo, p)?);
            }
            windows.finish();
            let mut values = ValueCounts::new(memo.records);
            let cluster_of = |r: u64| {
                clusters
                    .as_ref()
                    .and_then(|c| c.info.get(r as usize).copied().flatten())
                    .map_or(r, |d| u64::from(d.kept))
            };
            let cluster_of: Option<&dyn Fn(u64) -> u64> = clusters
                .as_ref()
                .map(|_| &cluster_of as &dyn Fn(u64) -> u64);
            let mut fin = MemoFinalizer::new(&held, &opts.scan.text_column, cfg);
            for p in 0..memo::PARTITIONS {
                let part = values.sweep(&mut spill.values(&mut memo, p)?, cluster_of, &windows);
                let (findings, table) = fin.partition(&part);
                sink.findings(&findings)?;
                sink.pii_values(&table)?;
            }
            let (records, summary) =
                with_stats(&mut states, |stats| fin.finish(&values, &windows, stats));
            replace_records(&mut held, records);
            let mut s = summary;
            s.spilled_bytes = spill.memo_bytes;
            memo_summary = Some(s);
        }
    }
    let mut poison_summary = None;
    let mut outlier_summary = None;
    if poison_on || outlier_on {
        let out = with_stats(&mut states, |stats| {
            poison_outputs(
                poison_on.then_some(poison),
                outlier_on.then_some(outlier),
                clusters.as_ref(),
                &held,
                &opts.scan,
                stats,
            )
        });
        sink.findings(&out.findings)?;
        replace_records(&mut held, out.records);
        poison_summary = out.poison;
        outlier_summary = out.outliers;
    }
    drop(clusters);
    for (_, r) in &held {
        sink.records(r)?;
    }

    let mut total = CorpusStats::default();
    let mut shard_summaries = Vec::with_capacity(shards.len());
    let mut failed = Vec::new();
    for (s, st) in shards.iter().zip(&states) {
        total.merge(&st.stats);
        let status = if st.errors.is_empty() {
            "ok"
        } else if st.units_total > st.units_failed {
            "partial"
        } else {
            "failed"
        };
        for e in &st.errors {
            failed.push(FailedShard {
                shard: s.name.clone(),
                category: e.category(),
                error: e.to_string(),
            });
        }
        shard_summaries.push(ShardSummary {
            shard: s.name.clone(),
            format: s.format,
            bytes: s.size,
            status,
            records: st.stats.records,
            text_bytes: st.stats.text_bytes,
            findings: st.stats.findings(),
            kinds: st
                .stats
                .by_kind
                .iter()
                .map(|(k, c)| (k.clone(), c.findings))
                .collect(),
            skipped_lines: st.skipped_lines,
            bad_lines: st.bad_lines.clone(),
            errors: st.errors.iter().map(|e| e.to_string()).collect(),
        });
    }
    let summary = Summary {
        shardguard_version: env!("CARGO_PKG_VERSION"),
        output_version: OUTPUT_VERSION,
        inputs: inputs.to_vec(),
        config: opts.scan.clone(),
        key: key_source,
        started_unix: started,
        elapsed_seconds: t0.elapsed().as_secs_f64(),
        shards_total: shards.len(),
        shards_failed: states.iter().filter(|s| !s.errors.is_empty()).count(),
        records: total.records,
        text_bytes: total.text_bytes,
        null_texts: total.null_texts,
        findings: total.findings(),
        records_flagged: total.records_flagged,
        detectors: total
            .by_detector
            .iter()
            .map(|(d, c)| (d.as_str().to_string(), *c))
            .collect(),
        kinds: total.by_kind.clone(),
        shards: shard_summaries,
        failed_shards: failed,
        dedup: dedup_summary,
        filtered,
        memorization: memo_summary,
        poison: poison_summary,
        outliers: outlier_summary,
    };
    sink.finish(&summary)?;
    Ok((summary, built))
}

/// Runs `f` on the per-shard counts (which corpus-level findings add to).
fn with_stats<R>(states: &mut [ShardState], f: impl FnOnce(&mut [CorpusStats]) -> R) -> R {
    let mut stats: Vec<CorpusStats> = states.iter().map(|s| s.stats.clone()).collect();
    let r = f(&mut stats);
    for (st, s) in states.iter_mut().zip(stats) {
        st.stats = s;
    }
    r
}

/// The held records batches replaced by their updated versions, in order.
fn replace_records(
    held: &mut [(usize, arrow::array::RecordBatch)],
    records: Vec<arrow::array::RecordBatch>,
) {
    for (h, r) in held.iter_mut().zip(records) {
        h.1 = r;
    }
}

/// Copies every shard audited whole with only its kept records (`keep[shard][row]`), shards in
/// parallel; a shard that was not audited whole, or fails to copy, is listed with why.
fn write_filtered(
    shards: &[Shard],
    states: &[ShardState],
    keep: &[Vec<bool>],
    dir: &std::path::Path,
    opts: &AuditOptions,
) -> FilteredSummary {
    use crate::sink::rewrite::{output_path, rewrite_shard, KeepRows};
    let copies: Vec<FilteredShard> = shards
        .par_iter()
        .zip(states)
        .zip(keep)
        .map(|((shard, st), keep)| {
            let kept = keep.iter().filter(|&&k| k).count() as u64;
            let mut f = FilteredShard {
                shard: shard.name.clone(),
                output: None,
                kept,
                dropped: keep.len() as u64 - kept,
                error: None,
            };
            if !st.errors.is_empty() {
                f.error = Some("not audited whole: no filtered copy".into());
                return f;
            }
            let dest = output_path(dir, shard);
            let text = &opts.scan.text_column;
            match rewrite_shard(
                shard,
                &dest,
                text,
                opts.read.batch_size,
                &mut KeepRows { keep },
            ) {
                Ok(_) => f.output = Some(dest),
                Err(e) => f.error = Some(e.to_string()),
            }
            f
        })
        .collect();
    FilteredSummary {
        dir: dir.to_path_buf(),
        kept: copies
            .iter()
            .filter(|c| c.output.is_some())
            .map(|c| c.kept)
            .sum(),
        dropped: copies
            .iter()
            .filter(|c| c.output.is_some())
            .map(|c| c.dropped)
            .sum(),
        shards: copies,
    }
}
