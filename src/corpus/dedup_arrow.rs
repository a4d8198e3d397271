//! The dedup index as Arrow: one row per record (shard, row, exact hash, MinHash signature,
//! sampled shingles, passages), so a state can be written, shipped between workers and merged,
//! and LSH band keys as a table an engine can shuffle by. Signed types only (Spark-safe): hash
//! bits are stored as the same bits in `int64`/`int32`. Pure: bytes in, bytes out.

use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, FixedSizeBinaryArray, Float64Array, Int32Array,
    Int64Array, ListArray, RecordBatch, StringArray, StructArray,
};
use arrow::buffer::OffsetBuffer;
use arrow::datatypes::{DataType, Field, Fields, Int32Type, Int64Type, Schema, SchemaRef};

use super::dedup::{Clusters, DedupIndex, SketchSettings};
use crate::detect::dedup::{mix, Passage};
use crate::{Error, Result};

/// Version of the state layout below; bumped on any change.
pub const STATE_FORMAT: &str = "2";
const FORMAT_KEY: &str = "shardguard.dedup.format";
const SETTINGS_KEY: &str = "shardguard.dedup.settings";

fn bad(m: impl std::fmt::Display) -> Error {
    Error::Config(format!("not a shardguard dedup state: {m}"))
}

fn passage_fields() -> Fields {
    ["hash", "start_byte", "end_byte", "start_char", "end_char"]
        .into_iter()
        .map(|n| Field::new(n, DataType::Int64, false))
        .collect()
}

fn schema(settings: &SketchSettings) -> SchemaRef {
    let item = |t: DataType| Arc::new(Field::new("item", t, false));
    let meta = [
        (FORMAT_KEY.to_string(), STATE_FORMAT.to_string()),
        (
            SETTINGS_KEY.to_string(),
            serde_json::to_string(settings).unwrap_or_default(),
        ),
    ];
    Arc::new(
        Schema::new(vec![
            Field::new("shard", DataType::Utf8, false),
            Field::new("row", DataType::Int64, false),
            // Null: a null or blank text, never a duplicate.
            Field::new("exact", DataType::FixedSizeBinary(16), true),
            Field::new("minhash", DataType::List(item(DataType::Int32)), true),
            Field::new("anchors", DataType::List(item(DataType::Int64)), false),
            Field::new(
                "passages",
                DataType::List(item(DataType::Struct(passage_fields()))),
                false,
            ),
        ])
        .with_metadata(meta.into_iter().collect()),
    )
}

fn offsets(o: &[usize]) -> OffsetBuffer<i32> {
    OffsetBuffer::new(o.iter().map(|&x| x as i32).collect::<Vec<_>>().into())
}

impl DedupIndex {
    /// Every record as one Arrow row (see the module docs); an empty index, or one whose
    /// anchors were moved out ([`DedupIndex::take_postings`]), gives `None`.
    pub fn to_arrow(&self) -> Option<RecordBatch> {
        if self.postings_taken {
            return None;
        }
        let settings = self.settings()?;
        let n = self.len();
        let (shards, rows): (Vec<&str>, Vec<i64>) = (0..n).map(|i| self.location(i)).unzip();
        let exact = FixedSizeBinaryArray::try_from_sparse_iter_with_size(
            (0..n).map(|i| self.present[i].then(|| self.exact[i].to_le_bytes())),
            16,
        )
        .ok()?;
        let sig = Int32Array::from_iter_values(self.minhash.iter().map(|&v| v as i32));
        let sig_offsets: Vec<usize> = (0..=n).map(|i| i * self.k).collect();
        let minhash = ListArray::new(
            Arc::new(Field::new("item", DataType::Int32, false)),
            offsets(&sig_offsets),
            Arc::new(sig),
            Some(self.present.clone().into()),
        );
        let anchors = ListArray::new(
            Arc::new(Field::new("item", DataType::Int64, false)),
            offsets(&self.anchor_offsets),
            Arc::new(Int64Array::from_iter_values(
                self.anchors.iter().map(|&a| a as i64),
            )),
            None,
        );
        let col = |f: fn(&Passage) -> i64| -> ArrayRef {
            Arc::new(Int64Array::from_iter_values(self.passages.iter().map(f)))
        };
        let parts = StructArray::new(
            passage_fields(),
            vec![
                col(|p| p.hash as i64),
                col(|p| i64::from(p.start)),
                col(|p| i64::from(p.end)),
                col(|p| i64::from(p.start_char)),
                col(|p| i64::from(p.end_char)),
            ],
            None,
        );
        let passages = ListArray::new(
            Arc::new(Field::new(
                "item",
                DataType::Struct(passage_fields()),
                false,
            )),
            offsets(&self.passage_offsets),
            Arc::new(parts),
            None,
        );
        RecordBatch::try_new(
            schema(settings),
            vec![
                Arc::new(StringArray::from(shards)),
                Arc::new(Int64Array::from(rows)),
                Arc::new(exact),
                Arc::new(minhash),
                Arc::new(anchors),
                Arc::new(passages),
            ],
        )
        .ok()
    }

    /// Reads back what [`DedupIndex::to_arrow`] wrote, checking its layout and version.
    pub fn from_arrow(batch: &RecordBatch) -> Result<Self> {
        let meta = batch.schema_ref().metadata();
        match meta.get(FORMAT_KEY) {
            Some(v) if v == STATE_FORMAT => {}
            Some(v) => {
                return Err(bad(format!(
                    "format {v}, this version reads {STATE_FORMAT}"
                )))
            }
            None => return Err(bad("no format version in the schema metadata")),
        }
        let settings: SketchSettings = meta
            .get(SETTINGS_KEY)
            .and_then(|s| serde_json::from_str(s).ok())
            .ok_or_else(|| bad("no sketch settings"))?;
        let column = |name: &str| {
            batch
                .column_by_name(name)
                .ok_or_else(|| bad(format!("no {name} column")))
        };
        let shards = column("shard")?
            .as_string_opt::<i32>()
            .ok_or_else(|| bad("shard is not utf8"))?;
        let rows = column("row")?
            .as_primitive_opt::<Int64Type>()
            .ok_or_else(|| bad("row is not int64"))?;
        let exact = column("exact")?
            .as_fixed_size_binary_opt()
            .filter(|a| a.value_length() == 16)
            .ok_or_else(|| bad("exact is not 16-byte binary"))?;
        let list = |name: &str| -> Result<&ListArray> {
            column(name)?
                .as_list_opt::<i32>()
                .ok_or_else(|| bad(format!("{name} is not a list")))
        };
        let (minhash, anchors, passages) = (list("minhash")?, list("anchors")?, list("passages")?);
        let sig = minhash
            .values()
            .as_primitive_opt::<Int32Type>()
            .ok_or_else(|| bad("minhash values are not int32"))?;
        let anchor_values = anchors
            .values()
            .as_primitive_opt::<Int64Type>()
            .ok_or_else(|| bad("anchors are not int64"))?;
        let parts = passages
            .values()
            .as_struct_opt()
            .ok_or_else(|| bad("passages are not structs"))?;
        let part = |i: usize| {
            parts
                .column(i)
                .as_primitive_opt::<Int64Type>()
                .ok_or_else(|| bad("passage fields are not int64"))
        };
        let (ph, ps, pe, pcs, pce) = (part(0)?, part(1)?, part(2)?, part(3)?, part(4)?);
        let k = settings.permutations;
        let mut idx = DedupIndex::default();
        idx.init(settings);
        let mut current: Option<(&str, i64)> = None;
        for i in 0..batch.num_rows() {
            let (shard, row) = (shards.value(i), rows.value(i));
            if current.is_none_or(|(s, r)| s != shard || r + 1 != row) {
                idx.begin(shard, row);
            }
            current = Some((shard, row));
            let present = exact.is_valid(i);
            idx.present.push(present);
            if present {
                let (a, b) = (
                    minhash.value_offsets()[i] as usize,
                    minhash.value_offsets()[i + 1] as usize,
                );
                if b - a != k {
                    return Err(bad(format!(
                        "row {i}: signature of {} values, expected {k}",
                        b - a
                    )));
                }
                idx.exact
                    .push(u128::from_le_bytes(exact.value(i).try_into().map_err(bad)?));
                idx.minhash
                    .extend(sig.values()[a..b].iter().map(|&v| v as u32));
            } else {
                idx.exact.push(0);
                idx.minhash.resize(idx.minhash.len() + k, 0);
            }
            let (a, b) = (
                anchors.value_offsets()[i] as usize,
                anchors.value_offsets()[i + 1] as usize,
            );
            let row_anchors = &anchor_values.values()[a..b];
            if row_anchors.windows(2).any(|w| w[0] as u64 >= w[1] as u64) {
                return Err(bad(format!("row {i}: anchors are not sorted and distinct")));
            }
            idx.anchors.extend(row_anchors.iter().map(|&v| v as u64));
            idx.anchor_offsets.push(idx.anchors.len());
            let (a, b) = (
                passages.value_offsets()[i] as usize,
                passages.value_offsets()[i + 1] as usize,
            );
            let span =
                |v: i64| u32::try_from(v).map_err(|_| bad(format!("row {i}: passage span {v}")));
            for j in a..b {
                idx.passages.push(Passage {
                    hash: ph.value(j) as u64,
                    start: span(ps.value(j))?,
                    end: span(pe.value(j))?,
                    start_char: span(pcs.value(j))?,
                    end_char: span(pce.value(j))?,
                });
            }
            idx.passage_offsets.push(idx.passages.len());
        }
        Ok(idx)
    }

    /// The index as bytes: an Arrow IPC stream of [`DedupIndex::to_arrow`].
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        if let Some(batch) = self.to_arrow() {
            if let Ok(mut w) = arrow::ipc::writer::StreamWriter::try_new(&mut out, &batch.schema())
            {
                let ok = w.write(&batch).and_then(|_| w.finish());
                if ok.is_err() {
                    out.clear();
                }
            }
        }
        out
    }

    /// Reads [`DedupIndex::to_bytes`]; empty bytes are an empty index.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        if bytes.is_empty() {
            return Ok(Self::default());
        }
        let reader = arrow::ipc::reader::StreamReader::try_new(bytes, None).map_err(bad)?;
        let mut idx = DedupIndex::default();
        for b in reader {
            idx.append(&Self::from_arrow(&b.map_err(bad)?)?)?;
        }
        Ok(idx)
    }

    /// LSH band keys, one row per (present record, band): `band`, `key` (the band's rows of the
    /// signature hashed, seeded), `shard`, `row`. Records sharing a (band, key) are candidates;
    /// an engine finds them by shuffling on those two columns.
    pub fn band_keys(&self, bands: usize) -> RecordBatch {
        let rows_per_band = self.k / bands.max(1);
        let (mut band, mut key, mut shard, mut row) = (vec![], vec![], vec![], vec![]);
        for i in 0..self.len() {
            if !self.present[i] {
                continue;
            }
            let (s, r) = self.location(i);
            for b in 0..bands {
                band.push(b as i32);
                key.push(self.band_key(i as u32, b, rows_per_band) as i64);
                shard.push(s);
                row.push(r);
            }
        }
        RecordBatch::try_new(
            Arc::new(Schema::new(vec![
                Field::new("band", DataType::Int32, false),
                Field::new("key", DataType::Int64, false),
                Field::new("shard", DataType::Utf8, false),
                Field::new("row", DataType::Int64, false),
            ])),
            vec![
                Arc::new(Int32Array::from(band)),
                Arc::new(Int64Array::from(key)),
                Arc::new(StringArray::from(shard)),
                Arc::new(Int64Array::from(row)),
            ],
        )
        .expect("band key columns")
    }

    /// Each record's cluster as a table: `shard`, `row`, `dup_cluster` (the kept record's index
    /// in this index; null when unique), `dup_keep`, `kept_shard`, `kept_row`, `exact`,
    /// `jaccard`, `containment` (null when unique).
    pub fn clusters_arrow(&self, c: &Clusters) -> RecordBatch {
        let n = self.len();
        let loc: Vec<(&str, i64)> = (0..n).map(|i| self.location(i)).collect();
        let info = &c.info;
        let kept = |i: usize| info[i].map(|d| loc[d.kept as usize]);
        let f64s = |f: fn(&super::dedup::DupInfo) -> f64| -> ArrayRef {
            Arc::new(
                info.iter()
                    .map(|d| d.as_ref().map(f))
                    .collect::<Float64Array>(),
            )
        };
        RecordBatch::try_new(
            Arc::new(Schema::new(vec![
                Field::new("shard", DataType::Utf8, false),
                Field::new("row", DataType::Int64, false),
                Field::new("dup_cluster", DataType::Int64, true),
                Field::new("dup_keep", DataType::Boolean, false),
                Field::new("kept_shard", DataType::Utf8, true),
                Field::new("kept_row", DataType::Int64, true),
                Field::new("exact", DataType::Boolean, true),
                Field::new("jaccard", DataType::Float64, true),
                Field::new("containment", DataType::Float64, true),
            ])),
            vec![
                Arc::new(StringArray::from_iter_values(loc.iter().map(|l| l.0))),
                Arc::new(Int64Array::from_iter_values(loc.iter().map(|l| l.1))),
                Arc::new(
                    info.iter()
                        .map(|d| d.map(|d| i64::from(d.kept)))
                        .collect::<Int64Array>(),
                ),
                Arc::new((0..n).map(|i| Some(c.is_kept(i))).collect::<BooleanArray>()),
                Arc::new(
                    (0..n)
                        .map(|i| kept(i).map(|k| k.0))
                        .collect::<StringArray>(),
                ),
                Arc::new((0..n).map(|i| kept(i).map(|k| k.1)).collect::<Int64Array>()),
                Arc::new(
                    info.iter()
                        .map(|d| d.map(|d| d.exact))
                        .collect::<BooleanArray>(),
                ),
                f64s(|d| d.jaccard),
                f64s(|d| d.containment),
            ],
        )
        .expect("cluster columns")
    }

    pub(crate) fn band_key(&self, i: u32, band: usize, rows: usize) -> u64 {
        let part = &self.sig(i)[band * rows..(band + 1) * rows];
        part.iter().fold(mix(band as u64 ^ 0x6261_6e64), |h, &v| {
            mix(h ^ u64::from(v))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::dedup::{random_words, sketch, DedupConfig, Scratch};
    use proptest::prelude::*;

    fn index(texts: &[String], shard: &str, first_row: i64) -> DedupIndex {
        let cfg = DedupConfig::default();
        let mut idx = DedupIndex::new(&cfg);
        let mut scratch = Scratch::default();
        idx.begin(shard, first_row);
        for t in texts {
            idx.push(sketch(t, &cfg, &mut scratch).as_ref());
        }
        idx
    }

    fn texts(seeds: &[u8]) -> Vec<String> {
        // Seeds repeat, so some texts are copies; 0 is a blank text.
        seeds
            .iter()
            .map(|&s| match s {
                0 => "  ".to_string(),
                s => random_words(120, u64::from(s), 400).join(" "),
            })
            .collect()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]
        #[test]
        fn merged_states_of_two_halves_equal_the_state_of_the_whole(
            seeds in proptest::collection::vec(0u8..6, 1..14),
            cut in 0usize..14,
        ) {
            let t = texts(&seeds);
            let cut = cut.min(t.len());
            let whole = {
                let mut w = index(&t[..cut], "a.parquet", 0);
                w.begin("b.jsonl", 0);
                let rest = index(&t[cut..], "b.jsonl", 0);
                w.append(&rest).unwrap();
                w
            };
            // Each half sketched on its own, shipped as bytes, merged.
            let a = DedupIndex::from_bytes(&index(&t[..cut], "a.parquet", 0).to_bytes()).unwrap();
            let b = DedupIndex::from_bytes(&index(&t[cut..], "b.jsonl", 0).to_bytes()).unwrap();
            let mut merged = DedupIndex::default();
            merged.append(&a).unwrap();
            merged.append(&b).unwrap();
            prop_assert_eq!(merged.to_arrow(), whole.to_arrow());
            let cfg = DedupConfig::default();
            let (x, y) = (merged.cluster(&cfg), whole.cluster(&cfg));
            prop_assert_eq!(&x.info, &y.info);
            prop_assert_eq!(&x.repeated, &y.repeated);
            prop_assert_eq!(merged.clusters_arrow(&x), whole.clusters_arrow(&y));
            for i in 0..t.len() {
                let want = if i < cut { ("a.parquet", i as i64) } else { ("b.jsonl", (i - cut) as i64) };
                prop_assert_eq!(merged.location(i), want);
            }
        }
    }

    #[test]
    fn states_sketched_differently_do_not_merge() {
        let t = texts(&[1, 2]);
        let mut a = index(&t, "a", 0);
        let cfg = DedupConfig {
            permutations: 64,
            bands: 16,
            ..DedupConfig::default()
        };
        let mut b = DedupIndex::new(&cfg);
        b.begin("b", 0);
        b.push(sketch(&t[0], &cfg, &mut Scratch::default()).as_ref());
        let e = a.append(&b).unwrap_err().to_string();
        assert!(e.contains("different settings"), "{e}");
        assert_eq!(a.len(), 2);
    }

    #[test]
    fn bad_bytes_are_a_clear_error() {
        let e = DedupIndex::from_bytes(b"not arrow")
            .unwrap_err()
            .to_string();
        assert!(e.contains("not a shardguard dedup state"), "{e}");
        let ok = index(&texts(&[1, 0, 1]), "s", 5);
        let back = DedupIndex::from_bytes(&ok.to_bytes()).unwrap();
        assert_eq!(back.location(2), ("s", 7));
        let keys = back.band_keys(32);
        // Two present records, 32 bands each; the copies share every key.
        assert_eq!(keys.num_rows(), 64);
        let k = keys.column(1).as_primitive::<Int64Type>();
        assert_eq!(k.values()[..32], k.values()[32..]);
        // Anchors out of order would be lost by clustering: refused.
        let mut shuffled = ok.clone();
        let (a, b) = (shuffled.anchor_offsets[0], shuffled.anchor_offsets[1]);
        assert!(b - a > 1);
        shuffled.anchors[a..b].reverse();
        let e = DedupIndex::from_bytes(&shuffled.to_bytes())
            .unwrap_err()
            .to_string();
        assert!(e.contains("row 0: anchors are not sorted"), "{e}");
    }
}
