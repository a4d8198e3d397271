//! Outlier scores from per-document statistics: robust z-scores (median and MAD per feature) and
//! the Mahalanobis distance of those z-scores under their (winsorized) covariance. Pure: no IO.

use ndarray::{Array1, Array2, Axis};
use serde::Serialize;

use super::codec::{Codec, Dec, Enc};
use crate::detect::outlier::{Features, FEATURES};
use crate::Result;

/// z-scores are clipped to this before the covariance is estimated (outliers must not shape
/// the metric that finds them)...
const WINSOR: f64 = 4.0;
/// ...and to this when a record is scored.
const CLIP: f64 = 30.0;

/// Per-record features of a run of records (a batch, a worker's share or a whole audit), in
/// input order; states of consecutive runs [`merge`](Self::merge) into their union's.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OutlierState {
    pub rows: Vec<Features>,
    /// Records with no text: not scored.
    pub missing: Vec<bool>,
}

/// Format of [`OutlierState::to_bytes`]; bumped whenever its layout changes.
pub const STATE_FORMAT: u32 = 1;
const STATE_MAGIC: &[u8; 8] = b"SGOUTLR\0";

impl OutlierState {
    pub fn push(&mut self, row: Option<Features>) {
        self.missing.push(row.is_none());
        self.rows.push(row.unwrap_or_default());
    }

    /// Appends the records of `b`, which follow this state's in input order.
    pub fn merge(&mut self, b: OutlierState) {
        self.rows.extend(b.rows);
        self.missing.extend(b.missing);
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The state as bytes: magic, format, then the rows and which are missing (see `codec`).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut e = Enc::open(STATE_MAGIC, STATE_FORMAT);
        self.rows.put(&mut e);
        self.missing.put(&mut e);
        e.0
    }

    /// Reads what [`to_bytes`](Self::to_bytes) wrote; anything else is a clear error.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let mut d = Dec::open(bytes, STATE_MAGIC, STATE_FORMAT, "outlier state")?;
        let s = Self {
            rows: Vec::get(&mut d)?,
            missing: Vec::get(&mut d)?,
        };
        if s.rows.len() != s.missing.len() {
            return Err(d.error("features and missing flags differ in length"));
        }
        d.finish()?;
        Ok(s)
    }
}

/// The feature that pulled a record out the most.
#[derive(Debug, Clone, Serialize)]
pub struct Deviation {
    pub feature: &'static str,
    pub z: f64,
}

#[derive(Debug, Clone, Default)]
pub struct OutlierOutcome {
    /// Per record, in [0, 1]; `None` without text.
    pub scores: Vec<Option<f64>>,
    /// Squared Mahalanobis distance per record.
    pub distance: Vec<f64>,
    /// Per record, the features with the largest robust |z|, largest first.
    pub top: Vec<[Deviation; 2]>,
}

/// `P(X <= x)` for a chi-square variable with `k` (even) degrees of freedom.
fn chi2_cdf_even(x: f64, k: usize) -> f64 {
    let h = x / 2.0;
    let mut term = 1.0;
    let mut sum = 1.0;
    for i in 1..k / 2 {
        term *= h / i as f64;
        sum += term;
    }
    (1.0 - (-h).exp() * sum).clamp(0.0, 1.0)
}

/// Inverse of a small symmetric positive-definite matrix (Gauss-Jordan with partial pivoting).
fn invert(m: &Array2<f64>) -> Option<Array2<f64>> {
    let d = m.nrows();
    let mut a = m.clone();
    let mut inv = Array2::<f64>::eye(d);
    for c in 0..d {
        let p = (c..d).max_by(|&i, &j| a[[i, c]].abs().total_cmp(&a[[j, c]].abs()))?;
        if a[[p, c]].abs() < 1e-12 {
            return None;
        }
        for k in 0..d {
            a.swap([c, k], [p, k]);
            inv.swap([c, k], [p, k]);
        }
        let pivot = a[[c, c]];
        for k in 0..d {
            a[[c, k]] /= pivot;
            inv[[c, k]] /= pivot;
        }
        for r in 0..d {
            if r != c {
                let f = a[[r, c]];
                if f != 0.0 {
                    for k in 0..d {
                        a[[r, k]] -= f * a[[c, k]];
                        inv[[r, k]] -= f * inv[[c, k]];
                    }
                }
            }
        }
    }
    Some(inv)
}

fn median(v: &mut [f64]) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    let mid = v.len() / 2;
    let (_, m, _) = v.select_nth_unstable_by(mid, |a, b| a.total_cmp(b));
    *m
}

impl OutlierState {
    pub fn finish(&self) -> OutlierOutcome {
        let n = self.rows.len();
        let d = FEATURES.len();
        let present: Vec<usize> = (0..n).filter(|&i| !self.missing[i]).collect();
        let mut out = OutlierOutcome {
            scores: vec![None; n],
            distance: vec![0.0; n],
            top: (0..n)
                .map(|_| {
                    [0, 1].map(|i| Deviation {
                        feature: FEATURES[i],
                        z: 0.0,
                    })
                })
                .collect(),
        };
        if present.len() < 8 {
            return out;
        }
        let mut x = Array2::<f64>::zeros((present.len(), d));
        for (r, &i) in present.iter().enumerate() {
            for (c, &v) in self.rows[i].iter().enumerate() {
                x[[r, c]] = f64::from(v);
            }
        }
        // Robust standardization per feature.
        for mut col in x.axis_iter_mut(Axis(1)) {
            let mut v = col.to_vec();
            let med = median(&mut v);
            for e in v.iter_mut() {
                *e = (*e - med).abs();
            }
            let mut mad = 1.4826 * median(&mut v);
            if mad < 1e-9 {
                // Most values equal: the mean deviation keeps the rest measurable.
                mad = (v.iter().sum::<f64>() / v.len() as f64).max(1e-3);
            }
            col.mapv_inplace(|e| ((e - med) / mad).clamp(-CLIP, CLIP));
        }
        let w = x.mapv(|e| e.clamp(-WINSOR, WINSOR));
        let mean: Array1<f64> = w.mean_axis(Axis(0)).expect("rows");
        let centered = &w - &mean;
        let mut cov = centered.t().dot(&centered) / (present.len() as f64 - 1.0);
        for i in 0..d {
            cov[[i, i]] += 1e-3;
        }
        let inv = invert(&cov).unwrap_or_else(|| Array2::eye(d));
        let centered = &x - &mean;
        let md = (&centered.dot(&inv) * &centered).sum_axis(Axis(1));
        for (r, &i) in present.iter().enumerate() {
            let d2 = md[r].max(0.0);
            out.distance[i] = d2;
            out.scores[i] = Some(chi2_cdf_even(d2, d + d % 2));
            let z = x.row(r);
            let mut idx: Vec<usize> = (0..d).collect();
            idx.sort_by(|&a, &b| z[b].abs().total_cmp(&z[a].abs()));
            out.top[i] = [idx[0], idx[1]].map(|k| Deviation {
                feature: FEATURES[k],
                z: (z[k] * 100.0).round() / 100.0,
            });
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_odd_record_out_scores_highest() {
        let mut s = OutlierState::default();
        let mut rows = Vec::new();
        for i in 0..200 {
            let j = (i % 7) as f32 * 0.01;
            rows.push(Some([
                10.0 + j,
                4.5 + j,
                0.05 + j,
                0.02,
                0.1 + j,
                0.0,
                4.2 + j,
                0.0,
                0.01,
                0.4 + j,
            ]));
        }
        rows.push(Some([10.0, 4.5, 0.05, 0.9, 0.1, 0.0, 2.0, 0.0, 0.01, 0.1]));
        rows.push(None);
        let cut = rows.len() / 3;
        let mut tail = OutlierState::default();
        for (i, r) in rows.into_iter().enumerate() {
            if i < cut {
                s.push(r)
            } else {
                tail.push(r)
            }
        }
        // Halves merged through bytes are the state of the whole.
        let mut s = OutlierState::from_bytes(&s.to_bytes()).unwrap();
        s.merge(OutlierState::from_bytes(&tail.to_bytes()).unwrap());
        assert_eq!(s.len(), 202);
        let bytes = s.to_bytes();
        assert!(OutlierState::from_bytes(&bytes[..bytes.len() - 1]).is_err());
        assert!(OutlierState::from_bytes(b"SGPOISN\0\x01\0\0\0").is_err());
        let o = s.finish();
        let best = (0..o.scores.len())
            .max_by(|&a, &b| o.distance[a].total_cmp(&o.distance[b]))
            .unwrap();
        assert_eq!(best, 200);
        assert!(o.scores[200].unwrap() > 0.999);
        assert_eq!(o.scores[201], None);
        assert_eq!(o.top[200][0].feature, "digit_ratio");
        assert!(o.scores[3].unwrap() < 0.99);
    }

    #[test]
    fn inverse_times_matrix_is_identity() {
        let m = ndarray::arr2(&[[4.0, 1.0, 0.5], [1.0, 3.0, 0.2], [0.5, 0.2, 2.0]]);
        let i = invert(&m).unwrap();
        let p = m.dot(&i);
        for r in 0..3 {
            for c in 0..3 {
                assert!((p[[r, c]] - f64::from(u8::from(r == c))).abs() < 1e-9);
            }
        }
    }
}
