//! The corpus-wide duplicate index: sketches of every record in input order, then clusters.
//!
//! Candidates come from three keys, each grouped by sorting (the same shuffle-by-key an engine
//! would do across machines): the exact hash, the LSH band keys of the MinHash signature, and
//! the sampled shingles (anchors) shared by a few documents. Every candidate pair is verified —
//! estimated Jaccard, or containment of the smaller document in the larger — before it joins a
//! cluster; clusters are the connected components, and the first record of each is kept.

use std::collections::HashMap;

use crate::detect::dedup::{jaccard, mix, shared, DedupConfig, Passage, Sketch};

/// An anchor in more documents than this is boilerplate (licence text, includes): it neither
/// proposes candidates nor counts toward containment.
const MAX_ANCHOR_DOCS: usize = 64;
/// Containment is trusted only over at least this many informative anchors.
const MIN_ANCHORS: usize = 6;

/// How one record relates to its cluster.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DupInfo {
    /// Index (in input order) of the cluster's kept record.
    pub kept: u32,
    pub exact: bool,
    pub jaccard: f64,
    pub containment: f64,
}

/// Sketches of records in input order.
#[derive(Debug, Clone, Default)]
pub struct DedupIndex {
    k: usize,
    /// False for records without a sketch (null or blank text): never duplicates.
    present: Vec<bool>,
    exact: Vec<u128>,
    minhash: Vec<u32>,
    anchor_offsets: Vec<usize>,
    anchors: Vec<u64>,
    passage_offsets: Vec<usize>,
    passages: Vec<Passage>,
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
}

/// Informative anchors of each document, sorted.
struct Informative {
    offsets: Vec<usize>,
    anchors: Vec<u64>,
}

impl Informative {
    /// From (document, anchor) pairs sorted by document then anchor.
    fn new(n: usize, by_doc: Vec<(u32, u64)>) -> Self {
        let mut offsets = vec![0usize; n + 1];
        for &(d, _) in &by_doc {
            offsets[d as usize + 1] += 1;
        }
        for i in 0..n {
            offsets[i + 1] += offsets[i];
        }
        Self {
            offsets,
            anchors: by_doc.into_iter().map(|(_, a)| a).collect(),
        }
    }

    fn of(&self, d: u32) -> &[u64] {
        &self.anchors[self.offsets[d as usize]..self.offsets[d as usize + 1]]
    }
}

struct UnionFind(Vec<u32>);

impl UnionFind {
    fn find(&mut self, mut x: u32) -> u32 {
        while self.0[x as usize] != x {
            let p = self.0[x as usize];
            self.0[x as usize] = self.0[p as usize];
            x = p;
        }
        x
    }
    /// The smaller index becomes the root, so a root is its component's first record.
    fn union(&mut self, a: u32, b: u32) {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra != rb {
            let (lo, hi) = (ra.min(rb), ra.max(rb));
            self.0[hi as usize] = lo;
        }
    }
}

impl DedupIndex {
    pub fn len(&self) -> usize {
        self.exact.len()
    }

    pub fn is_empty(&self) -> bool {
        self.exact.is_empty()
    }

    /// Appends one record's sketch (records must be pushed in input order); every sketch of
    /// one index has the same signature length `k`.
    pub fn push(&mut self, k: usize, s: Option<&Sketch>) {
        if self.anchor_offsets.is_empty() {
            self.k = k;
            self.anchor_offsets.push(0);
            self.passage_offsets.push(0);
        }
        assert_eq!(k, self.k, "one signature length per index");
        self.present.push(s.is_some());
        match s {
            Some(s) => {
                self.exact.push(s.exact);
                self.minhash.extend_from_slice(&s.minhash);
                self.anchors.extend_from_slice(&s.anchors);
                self.passages.extend_from_slice(&s.passages);
            }
            // Never compared (see `present`): placeholders keep the layout.
            None => {
                self.exact.push(0);
                self.minhash.resize(self.minhash.len() + k, 0);
            }
        }
        self.anchor_offsets.push(self.anchors.len());
        self.passage_offsets.push(self.passages.len());
    }

    /// Appends every record of `other` after those of `self`.
    pub fn append(&mut self, other: &DedupIndex) {
        if other.is_empty() {
            return;
        }
        if self.anchor_offsets.is_empty() {
            *self = other.clone();
            return;
        }
        assert_eq!(other.k, self.k, "one signature length per index");
        let (a0, p0) = (self.anchors.len(), self.passages.len());
        self.present.extend_from_slice(&other.present);
        self.exact.extend_from_slice(&other.exact);
        self.minhash.extend_from_slice(&other.minhash);
        self.anchors.extend_from_slice(&other.anchors);
        self.anchor_offsets
            .extend(other.anchor_offsets[1..].iter().map(|o| o + a0));
        self.passages.extend_from_slice(&other.passages);
        self.passage_offsets
            .extend(other.passage_offsets[1..].iter().map(|o| o + p0));
    }

    fn sig(&self, i: u32) -> &[u32] {
        let i = i as usize;
        &self.minhash[i * self.k..(i + 1) * self.k]
    }

    fn anchors_of(&self, i: u32) -> &[u64] {
        let i = i as usize;
        &self.anchors[self.anchor_offsets[i]..self.anchor_offsets[i + 1]]
    }

    /// Clusters every record.
    pub fn cluster(&self, cfg: &DedupConfig) -> Clusters {
        let n = self.len();
        let mut uf = UnionFind((0..n as u32).collect());
        // Exact: the same normalized text.
        let mut by_exact: Vec<u32> = (0..n as u32)
            .filter(|&i| self.present[i as usize])
            .collect();
        by_exact.sort_by_key(|&i| (self.exact[i as usize], i));
        for w in by_exact.windows(2) {
            if self.exact[w[0] as usize] == self.exact[w[1] as usize] {
                uf.union(w[0], w[1]);
            }
        }
        // Anchors: which documents share each informative sampled shingle; an anchor in many
        // documents is boilerplate and ignored, by candidates and by verification alike.
        let mut postings: Vec<(u64, u32)> = Vec::with_capacity(self.anchors.len());
        for i in 0..n as u32 {
            postings.extend(self.anchors_of(i).iter().map(|&a| (a, i)));
        }
        postings.sort_unstable();
        let mut by_doc: Vec<(u32, u64)> = Vec::new();
        let mut pair_counts: HashMap<(u32, u32), u32> = HashMap::new();
        for group in postings.chunk_by(|x, y| x.0 == y.0) {
            if group.len() > MAX_ANCHOR_DOCS {
                continue;
            }
            by_doc.extend(group.iter().map(|&(a, d)| (d, a)));
            for (x, &(_, a)) in group.iter().enumerate() {
                for &(_, b) in &group[x + 1..] {
                    if a != b {
                        *pair_counts.entry((a.min(b), a.max(b))).or_default() += 1;
                    }
                }
            }
        }
        drop(postings);
        by_doc.sort_unstable();
        let informative = Informative::new(n, by_doc);
        // Every candidate is verified the same way: Jaccard or containment over informative
        // anchors; documents too short to have enough of them fall back on the signature.
        let similar = |a: u32, b: u32, shared_n: Option<usize>| {
            let (na, nb) = (informative.of(a).len(), informative.of(b).len());
            if na.min(nb) < MIN_ANCHORS {
                return jaccard(self.sig(a), self.sig(b)) >= cfg.jaccard;
            }
            let s = shared_n.unwrap_or_else(|| shared(informative.of(a), informative.of(b)));
            let j = s as f64 / (na + nb - s) as f64;
            let c = s as f64 / na.min(nb) as f64;
            j >= cfg.jaccard || c >= cfg.containment
        };
        let mut pairs: Vec<(u32, u32)> = pair_counts
            .into_iter()
            .filter(|&((a, b), c)| similar(a, b, Some(c as usize)))
            .map(|(p, _)| p)
            .collect();
        // LSH: documents agreeing on every row of a band are candidates; within a bucket each
        // document is checked against the bucket's first and its predecessor.
        let rows = self.k / cfg.bands;
        let mut keys: Vec<(u64, u32)> = Vec::with_capacity(n);
        for band in 0..cfg.bands {
            keys.clear();
            for i in (0..n as u32).filter(|&i| self.present[i as usize]) {
                let part = &self.sig(i)[band * rows..(band + 1) * rows];
                let key = part.iter().fold(band as u64, |h, &v| mix(h ^ u64::from(v)));
                keys.push((key, i));
            }
            keys.sort_unstable();
            for group in keys.chunk_by(|x, y| x.0 == y.0) {
                for x in 1..group.len() {
                    let d = group[x].1;
                    let mut check = |c: u32| {
                        if similar(c, d, None) {
                            pairs.push((c, d));
                        }
                    };
                    check(group[0].1);
                    if x > 1 {
                        check(group[x - 1].1);
                    }
                }
            }
        }
        pairs.sort_unstable();
        pairs.dedup();
        for (a, b) in pairs {
            uf.union(a, b);
        }

        let mut size = vec![0u32; n];
        let roots: Vec<u32> = (0..n as u32).map(|i| uf.find(i)).collect();
        for &r in &roots {
            size[r as usize] += 1;
        }
        let info = (0..n as u32)
            .map(|i| {
                let r = roots[i as usize];
                (size[r as usize] > 1).then(|| {
                    let c = shared(self.anchors_of(i), self.anchors_of(r));
                    let small = self.anchors_of(i).len().min(self.anchors_of(r).len());
                    DupInfo {
                        kept: r,
                        exact: self.exact[i as usize] == self.exact[r as usize],
                        jaccard: jaccard(self.sig(i), self.sig(r)),
                        containment: if small == 0 {
                            0.0
                        } else {
                            c as f64 / small as f64
                        },
                    }
                })
            })
            .collect::<Vec<_>>();
        let repeated = self.repeated_passages(&info);
        Clusters { info, repeated }
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
        let mut idx = DedupIndex::default();
        let mut scratch = Scratch::default();
        for t in texts {
            idx.push(cfg.permutations, sketch(t, &cfg, &mut scratch).as_ref());
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
    fn appending_halves_equals_indexing_the_whole() {
        let texts = corpus();
        let whole = index(&texts);
        for cut in 0..=texts.len() {
            let mut a = index(&texts[..cut]);
            a.append(&index(&texts[cut..]));
            let cfg = DedupConfig::default();
            let (x, y) = (a.cluster(&cfg), whole.cluster(&cfg));
            assert_eq!(x.info, y.info, "cut {cut}");
            assert_eq!(x.repeated, y.repeated, "cut {cut}");
        }
    }
}
