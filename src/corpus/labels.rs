//! How well a record's own label fits its words, judged two ways that never use the record's own
//! label: a softmax regression over TF-IDF weighted words and word pairs, fitted by averaged
//! stochastic gradient descent on all folds but the record's own (cross-fitting), and the labels
//! of its nearest records (the ones sharing its rarer words: sibling packages, one project's
//! parts). A label flipped at random is one both give little probability; an ambiguous record
//! (two sections that share topics) keeps some. Pure: no IO.

use rayon::prelude::*;

use crate::detect::poison::Piece;
use crate::hash::{xorshift, HashMap64};

/// Folds of the cross-fitting: each record is judged by a model fitted on the other folds.
const FOLDS: usize = 5;
/// Passes over the training records.
const EPOCHS: usize = 7;
/// Learning rate, constant: the fitted weights are the mean of every step's weights (averaged
/// stochastic gradient descent), which settles where a constant rate's last step only wanders.
const RATE: f32 = 2.0;
/// Nearest records whose labels a record's is compared with.
const NEIGHBOURS: usize = 50;
/// Features shared by more than one record in `RARE_SHARE` (at least `RARE_MIN`, at most
/// `RARE_MAX` records) do not make records neighbours: a family shares rare words, a section
/// common ones.
const RARE_SHARE: usize = 100;
const RARE_MIN: u32 = 20;
const RARE_MAX: u32 = 200;
/// The weight, in summed similarity, of the labels' overall shares mixed into a record's
/// neighbours' labels (a record with few or distant neighbours leans on the prior).
const PRIOR_WEIGHT: f64 = 0.3;
/// The weight of the neighbours in the geometric mean of the two judgements.
const NEIGHBOUR_WEIGHT: f64 = 0.35;

/// A record for the model: its label, distinct words and distinct word pairs.
pub struct LabelledFeatures<'a> {
    pub label: usize,
    /// Whether the model may learn from the record (one carrying a found trigger may not: its
    /// label is the attacker's), and whether it may be another record's neighbour. Every record
    /// is scored.
    pub trusted: bool,
    pub words: &'a [Piece],
    pub pairs: &'a [u64],
}

impl LabelledFeatures<'_> {
    fn features(&self) -> impl Iterator<Item = u64> + '_ {
        self.words
            .iter()
            .map(|w| w.hash)
            .chain(self.pairs.iter().copied())
    }
}

/// For every record, the probability its words give its own label: the weighted geometric mean
/// of the cross-fitted regression's and its neighbours' labels'.
pub fn own_label_probability(docs: &[LabelledFeatures<'_>], labels: usize) -> Vec<f64> {
    let n = docs.len();
    if n < FOLDS || labels < 2 {
        return vec![1.0; n];
    }
    let space = Tfidf::new(docs);
    let fitted = regression(&space, docs, labels);
    let near = neighbour_share(&space, docs, labels);
    fitted
        .iter()
        .zip(near)
        .map(|(&p, q)| {
            ((1.0 - NEIGHBOUR_WEIGHT) * p.max(1e-12).ln() + NEIGHBOUR_WEIGHT * q.max(1e-12).ln())
                .exp()
        })
        .collect()
}

/// Every record's features as (index, weight), TF-IDF weighted, unit length. Indexes run from
/// the most frequent feature down: the weights most updates touch share cache lines, and the
/// rarer features are a suffix of the index.
struct Tfidf {
    rows: Vec<Vec<(u32, f32)>>,
    /// Records holding each feature.
    df: Vec<u32>,
}

impl Tfidf {
    fn new(docs: &[LabelledFeatures<'_>]) -> Self {
        let n = docs.len();
        // Document frequencies; a feature of one record only cannot carry anything across
        // records.
        let mut counts: HashMap64<u32> = HashMap64::default();
        for d in docs {
            for f in d.features() {
                *counts.entry(f).or_default() += 1;
            }
        }
        let mut kept: Vec<(u64, u32)> = counts
            .iter()
            .filter(|(_, &c)| c >= 2)
            .map(|(&f, &c)| (f, c))
            .collect();
        kept.sort_unstable_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        drop(counts);
        let mut index: HashMap64<u32> = HashMap64::default();
        let mut idf = Vec::with_capacity(kept.len());
        let mut df = Vec::with_capacity(kept.len());
        for (f, c) in kept {
            index.insert(f, idf.len() as u32);
            idf.push((((1 + n) as f32) / (1 + c) as f32).ln() + 1.0);
            df.push(c);
        }
        let rows = docs
            .par_iter()
            .map(|d| {
                let mut r: Vec<(u32, f32)> = d
                    .features()
                    .filter_map(|f| index.get(&f).map(|&i| (i, idf[i as usize])))
                    .collect();
                let norm = r.iter().map(|x| x.1 * x.1).sum::<f32>().sqrt().max(1e-12);
                for x in &mut r {
                    x.1 /= norm;
                }
                r
            })
            .collect();
        Self { rows, df }
    }

    fn width(&self) -> usize {
        self.df.len()
    }
}

/// For every record, the probability the regression fitted without its fold gives its label.
fn regression(space: &Tfidf, docs: &[LabelledFeatures<'_>], labels: usize) -> Vec<f64> {
    let n = docs.len();
    let rows = &space.rows;
    let fits: Vec<Vec<(usize, f64)>> = (0..FOLDS)
        .into_par_iter()
        .map(|fold| {
            let train: Vec<usize> = (0..n)
                .filter(|&i| i % FOLDS != fold && docs[i].trusted)
                .collect();
            let m = Softmax::fit(rows, docs, &train, space.width(), labels, fold as u64);
            (0..n)
                .filter(|i| i % FOLDS == fold)
                .map(|i| (i, f64::from(m.probabilities(&rows[i])[docs[i].label])))
                .collect()
        })
        .collect();
    let mut out = vec![1.0; n];
    for (i, p) in fits.into_iter().flatten() {
        out[i] = p;
    }
    out
}

/// For every record, the share of its label among the labels of its `NEIGHBOURS` most similar
/// trusted records (cosine over the rarer features, each neighbour weighted by its
/// similarity), smoothed toward the labels' overall shares.
fn neighbour_share(space: &Tfidf, docs: &[LabelledFeatures<'_>], labels: usize) -> Vec<f64> {
    let n = docs.len();
    let cap = ((n / RARE_SHARE) as u32).clamp(RARE_MIN, RARE_MAX);
    // Features are indexed from the most frequent down: the rarer ones are a suffix.
    let first = space.df.partition_point(|&c| c > cap);
    // Postings of the rarer features over trusted records.
    let mut postings: Vec<Vec<(u32, f32)>> = vec![Vec::new(); space.width() - first];
    for (j, (d, row)) in docs.iter().zip(&space.rows).enumerate() {
        if d.trusted {
            for &(f, v) in row.iter().filter(|x| x.0 as usize >= first) {
                postings[f as usize - first].push((j as u32, v));
            }
        }
    }
    let mut prior = vec![0.0f64; labels];
    for d in docs.iter().filter(|d| d.trusted) {
        prior[d.label] += 1.0;
    }
    let total: f64 = prior.iter().sum::<f64>().max(1.0);
    (0..n)
        .into_par_iter()
        .map_init(
            || (vec![0f32; n], Vec::<u32>::new()),
            |(sim, touched), i| {
                for &(f, v) in space.rows[i].iter().filter(|x| x.0 as usize >= first) {
                    for &(j, w) in &postings[f as usize - first] {
                        if j as usize != i {
                            if sim[j as usize] == 0.0 {
                                touched.push(j);
                            }
                            sim[j as usize] += v * w;
                        }
                    }
                }
                if touched.len() > NEIGHBOURS {
                    touched.select_nth_unstable_by(NEIGHBOURS - 1, |a, b| {
                        sim[*b as usize].total_cmp(&sim[*a as usize])
                    });
                }
                let (mut own, mut all) = (0.0f64, 0.0f64);
                for &j in touched.iter().take(NEIGHBOURS) {
                    let s = f64::from(sim[j as usize]);
                    all += s;
                    if docs[j as usize].label == docs[i].label {
                        own += s;
                    }
                }
                for &j in touched.iter() {
                    sim[j as usize] = 0.0;
                }
                touched.clear();
                (own + PRIOR_WEIGHT * prior[docs[i].label] / total) / (all + PRIOR_WEIGHT)
            },
        )
        .collect()
}

struct Softmax {
    /// `labels` weights per feature, then the biases.
    w: Vec<f32>,
    labels: usize,
    width: usize,
}

impl Softmax {
    fn fit(
        rows: &[Vec<(u32, f32)>],
        docs: &[LabelledFeatures<'_>],
        train: &[usize],
        width: usize,
        labels: usize,
        seed: u64,
    ) -> Self {
        // Per feature (the biases last, as a feature of value 1), its `labels` weights and then
        // their mean over all steps, side by side: an update touches one stretch of memory. An
        // update at step t counts (T - t) / T times in the mean.
        let stride = 2 * labels;
        let mut wm = vec![0.0f32; (width + 1) * stride];
        let mut order = train.to_vec();
        let mut x = 0x9e37_79b9_7f4a_7c15u64 ^ seed.wrapping_mul(0xff51_afd7_ed55_8ccd);
        let mut p = vec![0.0f32; labels];
        let total = (EPOCHS * order.len()) as f32;
        let mut t = 0f32;
        for _ in 0..EPOCHS {
            // Fisher-Yates with a fixed xorshift: the same fit on every run.
            for i in (1..order.len()).rev() {
                order.swap(i, (xorshift(&mut x) % (i as u64 + 1)) as usize);
            }
            for (k, &i) in order.iter().enumerate() {
                scores(&wm, stride, width, &rows[i], &mut p);
                softmax(&mut p);
                p[docs[i].label] -= 1.0;
                let share = RATE * (total - t) / total;
                t += 1.0;
                // While this record's weights are updated, the next record's are fetched: the
                // fit waits on memory (weights of features met at random) more than it computes.
                let mut ahead = order.get(k + 1).map_or(&[][..], |&j| &rows[j][..]).iter();
                let features = rows[i].iter().map(|&(f, v)| (f as usize * stride, v));
                for (at, v) in features.chain([(width * stride, 1.0)]) {
                    if let Some(&(f, _)) = ahead.next() {
                        prefetch_weights(&wm[f as usize * stride..][..stride]);
                    }
                    let (w, mean) = wm[at..][..stride].split_at_mut(labels);
                    for ((w, u), g) in w.iter_mut().zip(mean).zip(&p) {
                        *w -= RATE * g * v;
                        *u -= share * g * v;
                    }
                }
            }
        }
        // The means, moved down in place to `labels` per feature.
        for at in 0..(width + 1) * labels {
            wm[at] = wm[at / labels * stride + labels + at % labels];
        }
        wm.truncate((width + 1) * labels);
        wm.shrink_to_fit();
        Self {
            w: wm,
            labels,
            width,
        }
    }

    fn probabilities(&self, row: &[(u32, f32)]) -> Vec<f32> {
        let mut p = vec![0.0; self.labels];
        scores(&self.w, self.labels, self.width, row, &mut p);
        softmax(&mut p);
        p
    }
}

/// The scores of `row` under weights laid out `stride` apart per feature, the first
/// `out.len()` of each being the weights (the biases after the `width` features).
fn scores(w: &[f32], stride: usize, width: usize, row: &[(u32, f32)], out: &mut [f32]) {
    out.copy_from_slice(&w[width * stride..][..out.len()]);
    for (f, v) in row {
        let w = &w[*f as usize * stride..][..out.len()];
        for (o, w) in out.iter_mut().zip(w) {
            *o += w * v;
        }
    }
}

/// Fetches the cache lines holding a feature's weights (at most two).
#[inline]
fn prefetch_weights(w: &[f32]) {
    if let (Some(first), Some(last)) = (w.first(), w.last()) {
        super::prefetch(first);
        super::prefetch(last);
    }
}

fn softmax(z: &mut [f32]) {
    let max = z.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut sum = 0.0;
    for v in z.iter_mut() {
        *v = (*v - max).exp();
        sum += *v;
    }
    for v in z.iter_mut() {
        *v /= sum;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn piece(hash: u64) -> Piece {
        Piece {
            hash,
            start: 0,
            end: 0,
            start_char: 0,
            end_char: 0,
        }
    }

    /// Three labels, each with its own words and a few shared ones; records 7 and 100 carry
    /// label 0 with label 1's and label 2's words. Then `planted` records with label 0, label
    /// 1's words and a trigger word: an attack.
    fn corpus(planted: u64) -> (Vec<Vec<Piece>>, Vec<usize>) {
        let mut x = 7u64;
        let mut next = move |n: u64| xorshift(&mut x) % n;
        let mut feats = Vec::new();
        let mut labels = Vec::new();
        for r in 0..300 + planted {
            let y = if r < 300 { (r % 3) as usize } else { 1 };
            let mut words: Vec<u64> = (0..12)
                .map(|_| {
                    if next(4) == 0 {
                        1000 + next(10)
                    } else {
                        100 * y as u64 + next(30)
                    }
                })
                .collect();
            if r >= 300 {
                words.push(5000);
            }
            words.sort_unstable();
            words.dedup();
            feats.push(words.into_iter().map(piece).collect());
            labels.push(match r {
                7 | 100 => 0,
                r if r >= 300 => 0,
                _ => y,
            });
        }
        (feats, labels)
    }

    fn docs<'a>(
        feats: &'a [Vec<Piece>],
        labels: &[usize],
        trusted: impl Fn(usize) -> bool,
    ) -> Vec<LabelledFeatures<'a>> {
        feats
            .iter()
            .zip(labels)
            .enumerate()
            .map(|(i, (f, &label))| LabelledFeatures {
                label,
                trusted: trusted(i),
                words: f,
                pairs: &[],
            })
            .collect()
    }

    #[test]
    fn a_record_whose_words_belong_to_another_label_gets_little_probability() {
        let (feats, labels) = corpus(0);
        let docs = docs(&feats, &labels, |_| true);
        let p = own_label_probability(&docs, 3);
        assert!(p[7] < 0.2 && p[100] < 0.2, "{} {}", p[7], p[100]);
        let clean: Vec<f64> = (0..300)
            .filter(|&i| i != 7 && i != 100)
            .map(|i| p[i])
            .collect();
        assert!(clean.iter().filter(|&&q| q > 0.5).count() as f64 >= 0.95 * clean.len() as f64);
        // Deterministic.
        assert_eq!(p, own_label_probability(&docs, 3));
    }

    #[test]
    fn records_carrying_a_trigger_do_not_teach_the_model() {
        // Sixty planted records teach "label 1's words mean label 0" when trusted: the flipped
        // record 7 then looks plausible. Left out of training, they are still scored.
        let (feats, labels) = corpus(60);
        let learnt = own_label_probability(&docs(&feats, &labels, |_| true), 3);
        let p = own_label_probability(&docs(&feats, &labels, |i| i < 300), 3);
        assert!(p[7] < 0.2 && p[7] < learnt[7], "{} vs {}", p[7], learnt[7]);
        assert!(p[300..].iter().all(|&q| q < 0.5), "{:?}", &p[300..]);
    }

    /// Sixty families of six records, each family sharing four rare words and one label, all
    /// drawing their other words from one common pool.
    fn families() -> (Vec<Vec<Piece>>, Vec<usize>) {
        let mut x = 11u64;
        let mut feats = Vec::new();
        let mut labels = Vec::new();
        for f in 0..60u64 {
            for _ in 0..6 {
                let mut words: Vec<u64> = (0..4).map(|k| 10_000 + 10 * f + k).collect();
                words.extend((0..8).map(|_| xorshift(&mut x) % 50));
                words.sort_unstable();
                words.dedup();
                feats.push(words.into_iter().map(piece).collect());
                labels.push((f % 3) as usize);
            }
        }
        (feats, labels)
    }

    #[test]
    fn a_record_whose_family_carries_another_label_gets_a_small_neighbour_share() {
        let (feats, mut labels) = families();
        labels[0] = 1;
        let docs = docs(&feats, &labels, |_| true);
        let q = neighbour_share(&Tfidf::new(&docs), &docs, 3);
        assert!(q[0] < 0.1, "{}", q[0]);
        assert!(q[1..6].iter().all(|&s| s > 0.6), "{:?}", &q[1..6]);
        assert!(q[6..].iter().all(|&s| s > 0.9));
    }

    #[test]
    fn untrusted_records_are_nobody_s_neighbours() {
        // Five of family 1 relabelled by an attacker: trusted, they make the sixth look
        // relabelled; untrusted, its share falls back to its label's overall share.
        let (feats, mut labels) = families();
        for l in &mut labels[7..12] {
            *l = 2;
        }
        let share = |trusted: &dyn Fn(usize) -> bool| {
            let docs = docs(&feats, &labels, trusted);
            neighbour_share(&Tfidf::new(&docs), &docs, 3)[6]
        };
        let (learnt, kept) = (share(&|_| true), share(&|i| !(7..12).contains(&i)));
        assert!(learnt < 0.1, "{learnt}");
        assert!((kept - 1.0 / 3.0).abs() < 0.05, "{kept}");
    }
}
