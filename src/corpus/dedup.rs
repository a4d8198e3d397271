//! The corpus-wide duplicate index: sketches of every record in input order, then clusters.
//!
//! Candidates come from three keys, each grouped by sorting (the same shuffle-by-key an engine
//! would do across machines): the exact hash, the LSH band keys of the MinHash signature, and
//! the sampled shingles (anchors) shared by a few documents. Every candidate pair is verified —
//! estimated Jaccard, or containment of the smaller document in the larger — before it joins a
//! cluster; clusters grow around centers in input order (see [`DedupIndex::cluster`]), and the
//! center, the first record of each, is kept.
//!
//! The anchors are most of an index's size (they grow with the text, not the record count).
//! Their postings are grouped one part at a time ([`ANCHOR_PARTS`], by the anchor's top bits),
//! so an audit can move them out of the index ([`DedupIndex::take_postings`]), keep them on
//! disk, and hand each part back when clustering ([`DedupIndex::cluster_with`]): the clusters
//! are the same. Pure: no IO.

use crate::detect::dedup::{is_line, jaccard, DedupConfig, Passage, Shingle, Sketch};
use crate::{Error, Result};
use rayon::prelude::*;

/// Containment is trusted only over at least this many informative anchors; below it the
/// signature's Jaccard alone decides.
const MIN_ANCHORS: usize = 4;

/// Lines are evidence only in a document whose lines hold at most this many shingles on average
/// (words, with word shingles; estimated from its informative anchors): a light edit leaves most
/// such lines whole.
const MAX_LINE_SHINGLES: u64 = 16;

/// A match this close (Jaccard or containment) also needs to keep the lines of the smaller
/// document (see `DedupConfig::lines`); a weaker one needs one side's differences to be new
/// text (see `DedupConfig::novelty`) or this share of the smaller one's lines.
const SURE: f64 = 0.9;

/// Anchor postings are grouped in this many parts, by the anchor's top bits: each part is
/// sorted and swept on its own.
pub const ANCHOR_PARTS: usize = 16;

/// An anchor and the record (index in input order) that holds it.
pub type Posting = (u64, u32);

/// A packed pair of records and the number of informative anchors they share.
type PairCount = (u64, u32);

/// What the informative anchors (those in at most `boilerplate_docs` documents) say.
struct AnchorCounts {
    /// Per record: how many sampled shingles it holds.
    held: Vec<u32>,
    /// Per record: how many of those no other record holds, exact copies of it aside.
    own: Vec<u32>,
    /// Every pair of records sharing a sampled shingle, with how many they share, sorted by
    /// packed pair.
    shared: Vec<PairCount>,
    /// Per record: how many lines it holds.
    lines: Vec<u32>,
    /// Every pair of records sharing a line, with how many, sorted by packed pair.
    shared_lines: Vec<PairCount>,
}

fn part_of(anchor: u64) -> usize {
    (anchor >> 60) as usize
}

/// Appends `postings` to `out` in the spill format (12 bytes each, little-endian).
pub fn encode_postings(postings: &[Posting], out: &mut Vec<u8>) {
    out.reserve(postings.len() * 12);
    for &(a, d) in postings {
        out.extend_from_slice(&a.to_le_bytes());
        out.extend_from_slice(&d.to_le_bytes());
    }
}

/// Appends the postings of `bytes` (from [`encode_postings`]) to `out`.
pub fn decode_postings(bytes: &[u8], out: &mut Vec<Posting>) -> Result<()> {
    if bytes.len() % 12 != 0 {
        return Err(Error::Config("truncated dedup spill".into()));
    }
    out.extend(bytes.chunks_exact(12).map(|c| {
        let (a, d) = c.split_at(8);
        (
            u64::from_le_bytes(a.try_into().unwrap_or_default()),
            u32::from_le_bytes(d.try_into().unwrap_or_default()),
        )
    }));
    Ok(())
}

/// How one record relates to its cluster.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DupInfo {
    /// Index (in input order) of the cluster's kept record.
    pub kept: u32,
    pub exact: bool,
    pub jaccard: f64,
    pub containment: f64,
}

/// What a sketch depends on: two indexes merge only when these agree.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SketchSettings {
    pub shingle: Shingle,
    pub permutations: usize,
    pub anchor_bits: u32,
    pub max_anchors: usize,
    pub min_passage_bytes: usize,
}

impl From<&DedupConfig> for SketchSettings {
    fn from(c: &DedupConfig) -> Self {
        Self {
            shingle: c.shingle,
            permutations: c.permutations,
            anchor_bits: c.anchor_bits,
            max_anchors: c.max_anchors,
            min_passage_bytes: c.min_passage_bytes,
        }
    }
}

impl SketchSettings {
    /// `cfg` with these sketch settings (its thresholds kept): how an index is clustered.
    pub fn apply_to(&self, cfg: &mut DedupConfig) {
        cfg.shingle = self.shingle;
        cfg.permutations = self.permutations;
        cfg.anchor_bits = self.anchor_bits;
        cfg.max_anchors = self.max_anchors;
        cfg.min_passage_bytes = self.min_passage_bytes;
    }
}

/// Consecutive records of one shard: record `start` onwards is row `first_row` onwards of
/// `shards[shard]`, up to the next run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Run {
    pub shard: u32,
    pub first_row: i64,
    pub start: u32,
}

/// Sketches of records in input order, with where each came from. Built per batch, appended in
/// input order (on one machine, or after shipping as Arrow with [`DedupIndex::to_bytes`]).
#[derive(Debug, Clone, Default)]
pub struct DedupIndex {
    /// Set by the first sketch pushed or index appended.
    settings: Option<SketchSettings>,
    pub(crate) k: usize,
    pub(crate) shards: Vec<String>,
    pub(crate) runs: Vec<Run>,
    /// False for records without a sketch (null or blank text): never duplicates.
    pub(crate) present: Vec<bool>,
    pub(crate) exact: Vec<u128>,
    pub(crate) minhash: Vec<u32>,
    pub(crate) anchor_offsets: Vec<usize>,
    pub(crate) anchors: Vec<u64>,
    pub(crate) passage_offsets: Vec<usize>,
    pub(crate) passages: Vec<Passage>,
    /// Anchors moved out by [`DedupIndex::take_postings`]: the index alone no longer holds
    /// every sketch, so it cannot be exported or appended to another.
    pub(crate) postings_taken: bool,
}

/// The outcome: per record, `None` when unique.
#[derive(Debug, Clone, Default)]
pub struct Clusters {
    pub info: Vec<Option<DupInfo>>,
    /// Repeated passages per record (record index, passage), in input order; the first
    /// occurrence of a passage is not listed.
    pub repeated: Vec<(u32, Passage)>,
}

impl Clusters {
    pub fn is_kept(&self, i: usize) -> bool {
        self.info[i].is_none_or(|d| d.kept as usize == i)
    }

    /// The kept copy of record `r` when it is a duplicate.
    pub fn kept_of(&self, r: u64) -> Option<u64> {
        let d = self.info.get(usize::try_from(r).ok()?).copied().flatten()?;
        Some(u64::from(d.kept))
    }
}

/// A verified pair `a < b`: `b` may join `a`'s cluster.
#[derive(Debug, Clone, Copy)]
struct Edge {
    a: u32,
    b: u32,
    jaccard: f64,
    containment: f64,
}

impl Edge {
    fn score(&self) -> f64 {
        self.jaccard.max(self.containment)
    }
}

/// Each distinct packed pair of `pairs` with how often it occurs, sorted.
fn pair_counts(mut pairs: Vec<u64>) -> Vec<PairCount> {
    pairs.par_sort_unstable();
    pairs
        .chunk_by(|x, y| x == y)
        .map(|g| (g[0], g.len() as u32))
        .collect()
}

/// The count of `pair` in `counts` (from [`pair_counts`]); 0 when absent.
fn count_of(counts: &[PairCount], pair: u64) -> u32 {
    counts
        .binary_search_by_key(&pair, |&(q, _)| q)
        .map_or(0, |i| counts[i].1)
}

fn pack(a: u32, b: u32) -> u64 {
    (u64::from(a.min(b)) << 32) | u64::from(a.max(b))
}

fn unpack(p: u64) -> (u32, u32) {
    ((p >> 32) as u32, p as u32)
}

impl DedupIndex {
    pub fn len(&self) -> usize {
        self.exact.len()
    }

    pub fn is_empty(&self) -> bool {
        self.exact.is_empty()
    }

    /// An empty index for sketches made with `cfg`.
    pub fn new(cfg: &DedupConfig) -> Self {
        let mut idx = Self::default();
        idx.init(SketchSettings::from(cfg));
        idx
    }

    pub(crate) fn init(&mut self, settings: SketchSettings) {
        self.k = settings.permutations;
        self.settings = Some(settings);
        self.anchor_offsets = vec![0];
        self.passage_offsets = vec![0];
    }

    pub fn settings(&self) -> Option<&SketchSettings> {
        self.settings.as_ref()
    }

    /// The records pushed next are rows `first_row`, `first_row + 1`, … of `shard`.
    pub fn begin(&mut self, shard: &str, first_row: i64) {
        let shard = self.intern(shard);
        let start = self.len() as u32;
        if self.runs.last().is_some_and(|r| r.start == start) {
            self.runs.pop();
        }
        self.runs.push(Run {
            shard,
            first_row,
            start,
        });
    }

    fn intern(&mut self, shard: &str) -> u32 {
        (match self.shards.iter().rposition(|s| s == shard) {
            Some(i) => i,
            None => {
                self.shards.push(shard.to_string());
                self.shards.len() - 1
            }
        }) as u32
    }

    /// Appends the next record's sketch (`None`: null or blank text, never a duplicate). The
    /// index must come from [`DedupIndex::new`] with the settings the sketch was made with.
    pub fn push(&mut self, s: Option<&Sketch>) {
        assert!(self.settings.is_some(), "DedupIndex::new before push");
        if self.runs.is_empty() {
            self.begin("", 0);
        }
        self.present.push(s.is_some());
        match s {
            Some(s) => {
                debug_assert_eq!(s.minhash.len(), self.k);
                self.exact.push(s.exact);
                self.minhash.extend_from_slice(&s.minhash);
                self.anchors.extend_from_slice(&s.anchors);
                self.passages.extend_from_slice(&s.passages);
            }
            // Never compared (see `present`): placeholders keep the layout.
            None => {
                self.exact.push(0);
                self.minhash.resize(self.minhash.len() + self.k, 0);
            }
        }
        self.anchor_offsets.push(self.anchors.len());
        self.passage_offsets.push(self.passages.len());
    }

    /// Appends every record of `other` after those of `self`: merging the states of two parts
    /// of a corpus gives the state of the whole. Fails when they were sketched differently.
    pub fn append(&mut self, other: &DedupIndex) -> Result<()> {
        let Some(theirs) = &other.settings else {
            return Ok(());
        };
        if other.postings_taken {
            return Err(Error::Config(
                "cannot merge a dedup state whose anchors were moved out".into(),
            ));
        }
        match &self.settings {
            None => self.init(theirs.clone()),
            Some(mine) if mine != theirs => {
                return Err(Error::Config(format!(
                    "cannot merge dedup states sketched with different settings: {} and {}",
                    serde_json::to_string(mine).unwrap_or_default(),
                    serde_json::to_string(theirs).unwrap_or_default()
                )))
            }
            Some(_) => {}
        }
        let (r0, a0, p0) = (self.len() as u32, self.anchors.len(), self.passages.len());
        if self.runs.last().is_some_and(|r| r.start == r0) {
            self.runs.pop();
        }
        for run in &other.runs {
            let shard = self.intern(&other.shards[run.shard as usize]);
            self.runs.push(Run {
                shard,
                first_row: run.first_row,
                start: r0 + run.start,
            });
        }
        self.present.extend_from_slice(&other.present);
        self.exact.extend_from_slice(&other.exact);
        self.minhash.extend_from_slice(&other.minhash);
        self.anchors.extend_from_slice(&other.anchors);
        self.anchor_offsets
            .extend(other.anchor_offsets[1..].iter().map(|o| o + a0));
        self.passages.extend_from_slice(&other.passages);
        self.passage_offsets
            .extend(other.passage_offsets[1..].iter().map(|o| o + p0));
        Ok(())
    }

    /// Shard and row of record `i`.
    pub fn location(&self, i: usize) -> (&str, i64) {
        let r = self.runs.partition_point(|r| r.start as usize <= i) - 1;
        let run = self.runs[r];
        (
            &self.shards[run.shard as usize],
            run.first_row + (i - run.start as usize) as i64,
        )
    }

    pub(crate) fn sig(&self, i: u32) -> &[u32] {
        let i = i as usize;
        &self.minhash[i * self.k..(i + 1) * self.k]
    }

    fn anchors_of(&self, i: u32) -> &[u64] {
        let i = i as usize;
        &self.anchors[self.anchor_offsets[i]..self.anchor_offsets[i + 1]]
    }

    /// Bytes of anchors held in memory: the part of the index that grows with the text.
    pub fn anchor_bytes(&self) -> usize {
        self.anchors.len() * std::mem::size_of::<u64>()
    }

    /// Moves every anchor held in memory out of the index, as postings by part (records keep
    /// their place; later pushes add anchors again). Give the parts back to
    /// [`DedupIndex::cluster_with`]; meanwhile the index cannot be exported or appended.
    pub fn take_postings(&mut self) -> Vec<Vec<Posting>> {
        let mut parts = vec![Vec::new(); ANCHOR_PARTS];
        for i in 0..self.len() as u32 {
            for &a in self.anchors_of(i) {
                parts[part_of(a)].push((a, i));
            }
        }
        self.anchors = Vec::new();
        self.anchor_offsets.iter_mut().for_each(|o| *o = 0);
        self.postings_taken = true;
        parts
    }

    /// Clusters every record.
    ///
    /// Candidates: documents sharing an informative anchor (one in at most
    /// `cfg.boilerplate_docs` documents; anchors in more are licence text, templates or a shared
    /// host page and say nothing about derivation) and documents sharing an LSH band key. A
    /// candidate pair is verified: signature Jaccard ≥ `cfg.jaccard`, or ≥ `cfg.containment` of
    /// the smaller document's informative anchors found in the larger. At [`SURE`] or above, a
    /// pair also needs `cfg.lines` of the smaller one's informative lines in the other: a copy
    /// keeps most lines whole, two pages made from one template share their words but differ
    /// on nearly every line. Below it by both measures, a pair needs `cfg.novelty` of one
    /// side's informative anchors that the other lacks to be that side's own (an edited copy's
    /// differences are new text, two pages of one template differ by phrases found in other
    /// pages too), or [`SURE`] of the smaller one's lines in the other (a copy with its
    /// paragraphs shuffled, whose few sampled shingles fell short).
    ///
    /// Clusters are built around centers, in input order, not as connected components (which
    /// chain unrelated documents through a series of look-alikes): a record joins the most
    /// similar earlier record that is a center, and is a center itself when there is none. Then
    /// each member moves to the center it is most like, later ones included (a copy met before
    /// its original, such as a document embedded in a page that also hosts other documents,
    /// first joins whatever it met). An exact copy always joins the cluster of its first copy.
    /// A cluster's kept record is its first member in input order.
    pub fn cluster(&self, cfg: &DedupConfig) -> Clusters {
        match self.cluster_with(cfg, |_| Ok(Vec::new())) {
            Ok(c) => c,
            Err(_) => unreachable!("no postings to read"),
        }
    }

    /// [`DedupIndex::cluster`] of an index whose anchors were moved out: `taken(p)` gives back
    /// the postings of part `p` taken by every [`DedupIndex::take_postings`] (in any order).
    pub fn cluster_with(
        &self,
        cfg: &DedupConfig,
        taken: impl FnMut(usize) -> Result<Vec<Posting>>,
    ) -> Result<Clusters> {
        let n = self.len();
        let AnchorCounts {
            held: informative,
            own,
            shared: shared_counts,
            lines,
            shared_lines,
        } = self.informative(cfg.boilerplate_docs, taken)?;
        let lsh = self.band_candidates(cfg.bands);
        // Pairs sharing an informative anchor are all in `shared_counts`: any other shares none.
        let shared = |a: u32, b: u32| count_of(&shared_counts, pack(a, b)) as usize;
        // Both measures over informative anchors, so shared boilerplate makes no two documents
        // alike; a document with too few of them falls back on the signature's Jaccard.
        let measure = |a: u32, b: u32, s: usize| {
            let (na, nb) = (
                informative[a as usize] as usize,
                informative[b as usize] as usize,
            );
            let small = na.min(nb);
            if small < MIN_ANCHORS {
                return (jaccard(self.sig(a), self.sig(b)), 0.0);
            }
            let union = na + nb - s;
            (s as f64 / union as f64, s as f64 / small as f64)
        };
        // The share of the informative lines of the one with fewer that the other has too;
        // none (no evidence) when it has fewer than MIN_ANCHORS or long lines, which a light
        // edit rewrites anyway (a paragraph per line).
        let line_share = |a: u32, b: u32| {
            let x = if lines[a as usize] <= lines[b as usize] {
                a
            } else {
                b
            } as usize;
            let shingles = u64::from(informative[x]) << cfg.anchor_bits;
            if (lines[x] as usize) < MIN_ANCHORS
                || shingles > MAX_LINE_SHINGLES * u64::from(lines[x])
            {
                return None;
            }
            let s = count_of(&shared_lines, pack(a, b));
            Some(f64::from(s) / f64::from(lines[x]))
        };
        // The share of `x`'s informative anchors missing from a document it shares `s` with
        // that are `x`'s own.
        let novelty = |x: u32, s: usize| {
            let x = x as usize;
            let differ = (informative[x] as usize).saturating_sub(s);
            f64::from(own[x]) / differ.max(1) as f64
        };
        // Every candidate once: pairs sharing anchors (with their count) and LSH pairs that
        // share none; verified in parallel.
        let mut candidates: Vec<(u64, u32)> = shared_counts.clone();
        let mut i = 0;
        for &p in &lsh {
            while i < shared_counts.len() && shared_counts[i].0 < p {
                i += 1;
            }
            if shared_counts.get(i).is_none_or(|&(q, _)| q != p) {
                candidates.push((p, 0));
            }
        }
        drop(lsh);
        let mut edges: Vec<Edge> = candidates
            .par_iter()
            .filter_map(|&(p, c)| {
                let (a, b) = unpack(p);
                let (jaccard, containment) = measure(a, b, c as usize);
                let near = jaccard >= cfg.jaccard || containment >= cfg.containment;
                // A close match is judged by the lines it keeps; a weaker one by whether its
                // differences are new text, unless it keeps nearly every line (paragraphs
                // shuffled, a few shingles sampled).
                let derived = if jaccard.max(containment) >= SURE {
                    line_share(a, b).is_none_or(|s| s >= cfg.lines)
                } else {
                    novelty(a, c as usize).max(novelty(b, c as usize)) >= cfg.novelty
                        || line_share(a, b).is_some_and(|s| s >= SURE)
                };
                (near && derived).then_some(Edge {
                    a,
                    b,
                    jaccard,
                    containment,
                })
            })
            .collect();
        drop(candidates);
        edges.par_sort_unstable_by_key(|e| (e.b, e.a));

        // The first record of each exact group.
        let mut first: Vec<u32> = (0..n as u32).collect();
        let mut by_exact: Vec<u32> = (0..n as u32)
            .filter(|&i| self.present[i as usize])
            .collect();
        by_exact.sort_unstable_by_key(|&i| (self.exact[i as usize], i));
        for g in by_exact.chunk_by(|x, y| self.exact[*x as usize] == self.exact[*y as usize]) {
            for &i in g {
                first[i as usize] = g[0];
            }
        }

        let mut center: Vec<u32> = (0..n as u32).collect();
        let mut via: Vec<Option<Edge>> = vec![None; n];
        let mut e = 0;
        for b in 0..n as u32 {
            let start = e;
            while e < edges.len() && edges[e].b == b {
                e += 1;
            }
            let f = first[b as usize];
            if f != b {
                center[b as usize] = center[f as usize];
                continue;
            }
            let best = edges[start..e]
                .iter()
                .filter(|x| center[x.a as usize] == x.a)
                .max_by(|x, y| x.score().total_cmp(&y.score()).then(y.a.cmp(&x.a)));
            if let Some(x) = best {
                center[b as usize] = x.a;
                via[b as usize] = Some(*x);
            }
        }
        // Second look: a member moves to the center it is most like, later centers included. A
        // copy met before its original (a document embedded in a page that hosts other copies
        // too) joined whatever it met first; its original, coming later, became a center.
        let is_center = |i: u32| center[i as usize] == i;
        let movable = |i: u32| !is_center(i) && first[i as usize] == i;
        // (member, center, edge) for every edge between a member and a center.
        let mut around: Vec<(u32, u32, Edge)> = edges
            .iter()
            .flat_map(|x| [(x.a, x.b, *x), (x.b, x.a, *x)])
            .filter(|&(m, c, _)| movable(m) && is_center(c))
            .collect();
        around.par_sort_unstable_by_key(|x| x.0);
        for g in around.chunk_by(|x, y| x.0 == y.0) {
            let m = g[0].0 as usize;
            let now = via[m].map_or(0.0, |x| x.score());
            let best = g
                .iter()
                .max_by(|x, y| x.2.score().total_cmp(&y.2.score()).then(y.1.cmp(&x.1)));
            if let Some(&(_, c, x)) = best.filter(|x| x.2.score() > now) {
                center[m] = c;
                via[m] = Some(x);
            }
        }
        for b in 0..n {
            let f = first[b] as usize;
            if f != b {
                center[b] = center[f];
            }
        }

        let mut size = vec![0u32; n];
        // The kept record of a cluster: its first member in input order.
        let mut kept: Vec<u32> = (0..n as u32).collect();
        for (i, &c) in center.iter().enumerate() {
            size[c as usize] += 1;
            kept[c as usize] = kept[c as usize].min(i as u32);
        }
        let info = (0..n)
            .map(|i| {
                let c = center[i];
                let k = kept[c as usize];
                (size[c as usize] > 1).then(|| {
                    let exact = self.exact[i] == self.exact[k as usize];
                    let (jaccard, containment) = match via[i] {
                        _ if k as usize == i || exact => (1.0, 1.0),
                        Some(x)
                            if (x.a == k && x.b == i as u32) || (x.b == k && x.a == i as u32) =>
                        {
                            (x.jaccard, x.containment)
                        }
                        _ => measure(k.min(i as u32), k.max(i as u32), shared(k, i as u32)),
                    };
                    DupInfo {
                        kept: k,
                        exact,
                        jaccard,
                        containment,
                    }
                })
            })
            .collect::<Vec<_>>();
        let repeated = self.repeated_passages(&info);
        Ok(Clusters { info, repeated })
    }

    /// Counts of the informative anchors (in at most `max_docs` documents). One part of the
    /// postings at a time: `taken(p)` and the anchors still held.
    fn informative(
        &self,
        max_docs: usize,
        mut taken: impl FnMut(usize) -> Result<Vec<Posting>>,
    ) -> Result<AnchorCounts> {
        let n = self.len();
        let mut counts = vec![0u32; n];
        let mut own = vec![0u32; n];
        let mut lines = vec![0u32; n];
        let mut pairs: Vec<u64> = Vec::new();
        let mut line_pairs: Vec<u64> = Vec::new();
        // A document's anchors are sorted, so its anchors of each part follow one another:
        // one cursor per document walks them once over all parts.
        let mut cursor: Vec<usize> = self.anchor_offsets[..n].to_vec();
        for part in 0..ANCHOR_PARTS {
            let mut postings = taken(part)?;
            for (i, at) in cursor.iter_mut().enumerate() {
                let (start, end) = (*at, self.anchor_offsets[i + 1]);
                while *at < end && part_of(self.anchors[*at]) == part {
                    *at += 1;
                }
                postings.extend(self.anchors[start..*at].iter().map(|&a| (a, i as u32)));
            }
            postings.par_sort_unstable();
            for group in postings.chunk_by(|x, y| x.0 == y.0) {
                if group.len() > max_docs {
                    continue;
                }
                if is_line(group[0].0) {
                    for (x, &(_, a)) in group.iter().enumerate() {
                        lines[a as usize] += 1;
                        line_pairs.extend(group[x + 1..].iter().map(|&(_, b)| pack(a, b)));
                    }
                    continue;
                }
                let exact = self.exact[group[0].1 as usize];
                if group.iter().all(|&(_, d)| self.exact[d as usize] == exact) {
                    group.iter().for_each(|&(_, d)| own[d as usize] += 1);
                }
                for (x, &(_, a)) in group.iter().enumerate() {
                    counts[a as usize] += 1;
                    pairs.extend(group[x + 1..].iter().map(|&(_, b)| pack(a, b)));
                }
            }
        }
        debug_assert!(
            (0..n).all(|i| cursor[i] == self.anchor_offsets[i + 1]),
            "anchors of a document are sorted"
        );
        Ok(AnchorCounts {
            held: counts,
            own,
            shared: pair_counts(pairs),
            lines,
            shared_lines: pair_counts(line_pairs),
        })
    }

    /// Pairs sharing an LSH band key (all rows of one band of the signature equal): within a
    /// bucket, each document with the bucket's first and with its predecessor. Sorted, distinct.
    fn band_candidates(&self, bands: usize) -> Vec<u64> {
        let n = self.len();
        let rows = self.k / bands;
        let mut pairs: Vec<u64> = (0..bands)
            .into_par_iter()
            .flat_map_iter(|band| {
                let mut keys: Vec<(u64, u32)> = (0..n as u32)
                    .filter(|&i| self.present[i as usize])
                    .map(|i| (self.band_key(i, band, rows), i))
                    .collect();
                keys.sort_unstable();
                let mut pairs = Vec::new();
                for group in keys.chunk_by(|x, y| x.0 == y.0) {
                    for x in 1..group.len() {
                        pairs.push(pack(group[0].1, group[x].1));
                        if x > 1 {
                            pairs.push(pack(group[x - 1].1, group[x].1));
                        }
                    }
                }
                pairs
            })
            .collect();
        pairs.par_sort_unstable();
        pairs.dedup();
        pairs
    }

    /// Passages seen before (in input order) in a record that is kept: the duplicates' own
    /// passages are covered by their duplicate finding.
    fn repeated_passages(&self, info: &[Option<DupInfo>]) -> Vec<(u32, Passage)> {
        let total = self.passages.len().max(1);
        let mut seen = fastbloom::BloomFilter::with_false_pos(1e-4)
            .seed(&0x7368_6172_6467_7264u128)
            .expected_items(total);
        let mut out = Vec::new();
        for (i, d) in info.iter().enumerate() {
            let kept = d.is_none_or(|d| d.kept as usize == i);
            let ps = &self.passages[self.passage_offsets[i]..self.passage_offsets[i + 1]];
            for p in ps {
                if seen.insert(&p.hash) && kept {
                    out.push((i as u32, *p));
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::dedup::{random_words, sketch, Scratch};

    fn words(n: usize, seed: u64) -> Vec<String> {
        random_words(n, seed, 50_000)
    }

    fn index(texts: &[String]) -> DedupIndex {
        let cfg = DedupConfig::default();
        let mut idx = DedupIndex::new(&cfg);
        let mut scratch = Scratch::default();
        for (i, t) in texts.iter().enumerate() {
            // Two shards, so runs and locations are exercised.
            if i == 0 || i == 3 {
                idx.begin(if i == 0 { "a" } else { "b" }, i as i64 * 10);
            }
            idx.push(sketch(t, &cfg, &mut scratch).as_ref());
        }
        idx
    }

    fn corpus() -> Vec<String> {
        let base = words(600, 1);
        let mut near = base.clone();
        for i in (0..near.len()).step_by(40) {
            near[i] = format!("edit{i}");
        }
        let embedded = [words(300, 7), base.clone(), words(300, 8)].concat();
        vec![
            base.join(" "),
            words(600, 2).join(" "),
            base.join("  ").to_uppercase(),
            near.join(" "),
            String::new(),
            embedded.join(" "),
            "   ".into(),
            words(600, 3).join(" "),
        ]
    }

    #[test]
    fn copies_cluster_on_the_first_and_strangers_stay_alone() {
        let c = index(&corpus()).cluster(&DedupConfig::default());
        let kept: Vec<Option<u32>> = c.info.iter().map(|d| d.map(|d| d.kept)).collect();
        assert_eq!(
            kept,
            [Some(0), None, Some(0), Some(0), None, Some(0), None, None]
        );
        assert!(c.info[2].unwrap().exact && !c.info[3].unwrap().exact);
        assert!(c.info[5].unwrap().containment > 0.9);
        assert!((0..8).all(|i| c.is_kept(i) != [2, 3, 5].contains(&i)));
    }

    #[test]
    fn a_copy_met_before_its_original_ends_with_the_original() {
        // One host page embeds two different documents; the second embedding comes before
        // the document it embeds. It first joins the other embedding (they share the host),
        // then moves to its original, which it contains whole.
        let host = words(3000, 11);
        let (x1, x2) = (words(400, 12), words(400, 13));
        let embed = |x: &[String]| [&host[..1500], x, &host[1500..]].concat().join(" ");
        let texts = [
            embed(&x1),
            words(600, 14).join(" "),
            embed(&x2),
            x2.join(" "),
        ];
        let c = index(&texts).cluster(&DedupConfig::default());
        let kept: Vec<Option<u32>> = c.info.iter().map(|d| d.map(|d| d.kept)).collect();
        assert_eq!(kept, [None, None, Some(2), Some(2)]);
        assert!(c.info[3].unwrap().containment > 0.9);
    }

    #[test]
    fn an_edited_copy_joins_and_a_page_of_the_same_template_does_not() {
        // Pages `a` and `b` share a template (`common`) and differ by phrases that recur in
        // other pages (`c` holds `a`'s, `d` holds `b`'s); `e` is `a` with a quarter of its
        // words replaced. `a` and `b` overlap about as much as `a` and `e`.
        let (common, pa, pb) = (words(400, 21), words(300, 22), words(300, 23));
        let page = |own: &[String]| {
            let mut out = Vec::new();
            for (i, chunk) in common.chunks(50).enumerate() {
                out.extend_from_slice(chunk);
                out.extend_from_slice(own.get(i * 50..(i * 50 + 50).min(own.len())).unwrap_or(&[]));
            }
            out
        };
        let (a, b) = (page(&pa), page(&pb));
        let mut e = a.clone();
        for (i, w) in e.iter_mut().enumerate().filter(|(i, _)| i % 4 == 1) {
            *w = format!("fresh{i}");
        }
        let texts = [
            a.join(" "),
            b.join(" "),
            [pa, words(1200, 24)].concat().join(" "),
            [pb, words(1200, 25)].concat().join(" "),
            e.join(" "),
        ];
        let idx = index(&texts);
        let kept = |c: &Clusters| -> Vec<Option<u32>> {
            c.info.iter().map(|d| d.map(|d| d.kept)).collect()
        };
        let checked = idx.cluster(&DedupConfig::default());
        assert_eq!(kept(&checked), [Some(0), None, None, None, Some(0)]);
        let c = checked.info[4].expect("the edited copy is a duplicate");
        assert!(
            c.containment < 0.8,
            "an edit this heavy is a weak match: {c:?}"
        );
        // Without the check, the other page of the template joins too.
        let unchecked = DedupConfig {
            novelty: 0.0,
            ..DedupConfig::default()
        };
        assert_eq!(kept(&idx.cluster(&unchecked))[1], Some(0));
    }

    #[test]
    fn a_page_that_differs_on_every_line_is_not_a_copy() {
        // `sibling` is `page` with a word put before every line, as a command's `beta` page is
        // its plain page with a marker on every line: nearly every shingle of `page` is in it.
        let lines: Vec<String> = (0..40).map(|i| words(12, 40 + i).join(" ")).collect();
        let page = lines.join("\n");
        let sibling = lines
            .iter()
            .map(|l| format!("beta {l}"))
            .collect::<Vec<_>>()
            .join("\n");
        let truncated = lines[..30].join("\n");
        // One word in every third line replaced: most lines are kept whole.
        let edited = lines
            .iter()
            .enumerate()
            .map(|(i, l)| {
                if i % 3 == 0 {
                    l.replacen(' ', " fresh ", 1)
                } else {
                    l.clone()
                }
            })
            .collect::<Vec<_>>()
            .join("\n");
        let idx = index(&[page, sibling, truncated, edited]);
        let c = idx.cluster(&DedupConfig::default());
        let kept: Vec<Option<u32>> = c.info.iter().map(|d| d.map(|d| d.kept)).collect();
        assert_eq!(kept, [Some(0), None, Some(0), Some(0)]);
        // By shingles alone, the sibling is as close as the copies.
        let blind = DedupConfig {
            lines: 0.0,
            ..DedupConfig::default()
        };
        let d = idx.cluster(&blind).info[1].expect("joins without the line check");
        assert!(d.containment >= SURE, "{d:?}");

        // Lines of a paragraph each say nothing: one word changed in every line is a light
        // edit still.
        let paragraphs: Vec<String> = (0..6).map(|i| words(80, 90 + i).join(" ")).collect();
        let edited = paragraphs
            .iter()
            .map(|l| l.replacen(' ', " fresh ", 1))
            .collect::<Vec<_>>();
        let idx = index(&[paragraphs.join("\n"), edited.join("\n")]);
        assert!(idx.cluster(&DedupConfig::default()).info[1].is_some());
    }

    #[test]
    fn a_copy_with_its_paragraphs_shuffled_keeps_its_lines() {
        // Eight one-line paragraphs; the copy has them in another order. The shingles across
        // paragraphs differ, and other documents hold those of both orders, so neither side's
        // differences are its own: only the lines show that the copy is one.
        let paras: Vec<Vec<String>> = (0..8).map(|i| words(5, 70 + i)).collect();
        let order = [3, 0, 6, 1, 7, 2, 5, 4];
        let page = paras.iter().map(|p| p.join(" ")).collect::<Vec<_>>();
        let shuffled = order.iter().map(|&i| page[i].clone()).collect::<Vec<_>>();
        // The words on both sides of each paragraph break, with other text between.
        let joins = |ps: &[String], seed: u64| {
            ps.windows(2)
                .enumerate()
                .map(|(k, w)| {
                    let last = w[0].rsplit(' ').next().unwrap_or_default();
                    let first = w[1].split(' ').next().unwrap_or_default();
                    format!("{last} {first} {}", words(6, seed + k as u64).join(" "))
                })
                .collect::<Vec<_>>()
                .join("\n")
        };
        let texts = [
            page.join("\n\n"),
            joins(&page, 200),
            joins(&shuffled, 300),
            shuffled.join("\n\n"),
        ];
        let idx = index(&texts);
        let c = idx.cluster(&DedupConfig::default());
        let d = c.info[3].expect("the shuffled copy is a duplicate");
        assert_eq!(d.kept, 0);
        assert!(d.containment.max(d.jaccard) < SURE, "{d:?}");
        assert!(c.info[1].is_none() && c.info[2].is_none());
    }

    #[test]
    fn appending_halves_equals_indexing_the_whole() {
        let texts = corpus();
        let whole = index(&texts);
        for cut in 0..=texts.len() {
            let mut a = index(&texts[..cut]);
            a.append(&index(&texts[cut..])).unwrap();
            let cfg = DedupConfig::default();
            let (x, y) = (a.cluster(&cfg), whole.cluster(&cfg));
            assert_eq!(x.info, y.info, "cut {cut}");
            assert_eq!(x.repeated, y.repeated, "cut {cut}");
        }
    }

    #[test]
    fn clusters_are_the_same_with_anchors_moved_out() {
        let texts = corpus();
        let cfg = DedupConfig::default();
        let whole = index(&texts).cluster(&cfg);
        for cut in 0..=texts.len() {
            let mut a = index(&texts[..cut]);
            let mut parts = a.take_postings();
            assert_eq!(a.anchor_bytes(), 0);
            a.append(&index(&texts[cut..])).unwrap();
            // Moved out once more, then the earlier parts given back through the spill format.
            let later = a.take_postings();
            for (p, more) in parts.iter_mut().enumerate() {
                let mut bytes = Vec::new();
                encode_postings(&later[p], &mut bytes);
                decode_postings(&bytes, more).unwrap();
            }
            let x = a.cluster_with(&cfg, |p| Ok(parts[p].clone())).unwrap();
            assert_eq!(x.info, whole.info, "cut {cut}");
            assert_eq!(x.repeated, whole.repeated, "cut {cut}");
            // What was moved out cannot be exported or merged without it.
            assert!(a.to_arrow().is_none());
            assert!(DedupIndex::new(&cfg).append(&a).is_err());
        }
        assert!(decode_postings(&[0; 13], &mut Vec::new()).is_err());
    }
}
