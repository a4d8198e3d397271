//! Throughput of each detector and of the per-batch scan, in bytes of text per second on one
//! core, next to the cost of decoding the same Parquet text column.
//!
//!     cargo bench --bench detect [-- --quick]
//!
//! Corpora: ../shared/data/poison/pretrain.parquet when present (or $SHARDGUARD_BENCH_PARQUET),
//! else the bundled datasets-sample shard; plus the PII-dense test fixture; for `dedup`,
//! ../shared/data/dedup/dev.parquet when present, else its fixture subset; for `memorization`,
//! the first corpus split in two (an index of one half, the other half checked against it).

use std::fs::File;
use std::hint::black_box;
use std::path::PathBuf;

use arrow::array::RecordBatch;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::arrow::ProjectionMask;

use shardguard::corpus::dedup::DedupIndex;
use shardguard::detect::dedup::{sketch, DedupConfig, Scratch};
use shardguard::detect::pii::PiiDetector;
use shardguard::detect::secret::SecretDetector;
use shardguard::detect::unicode::UnicodeDetector;
use shardguard::detect::{DetectorId, TextDetector};
use shardguard::hash::Key;
use shardguard::scan::{ScanConfig, Scanner};
use shardguard::text::{text_array, TextColumn};

fn corpus() -> PathBuf {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let candidates = [
        std::env::var("SHARDGUARD_BENCH_PARQUET")
            .map(PathBuf::from)
            .ok(),
        Some(root.join("../shared/data/poison/pretrain.parquet")),
        Some(root.join("datasets-sample/synthetic/web-mix.parquet")),
    ];
    candidates
        .into_iter()
        .flatten()
        .find(|p| p.exists())
        .expect("a bench corpus")
}

fn read(path: &PathBuf) -> Vec<RecordBatch> {
    let b = ParquetRecordBatchReaderBuilder::try_new(File::open(path).unwrap()).unwrap();
    let idx = b.schema().index_of("text").unwrap();
    let mask = ProjectionMask::roots(b.parquet_schema(), [idx]);
    b.with_projection(mask)
        .with_batch_size(8192)
        .build()
        .unwrap()
        .map(|r| r.unwrap())
        .collect()
}

fn texts_of(batches: &[RecordBatch]) -> Vec<String> {
    batches
        .iter()
        .flat_map(|b| {
            let a = text_array(b.column(0)).unwrap();
            let t = TextColumn::new(a.as_ref()).unwrap();
            (0..t.len())
                .filter_map(|i| t.get(i).map(str::to_owned))
                .collect::<Vec<_>>()
        })
        .collect()
}

fn bench_detectors(c: &mut Criterion, name: &str, texts: &[String]) {
    let bytes: u64 = texts.iter().map(|t| t.len() as u64).sum();
    let mut g = c.benchmark_group(name);
    g.throughput(Throughput::Bytes(bytes));
    g.sample_size(10);
    let detectors: [(&str, Box<dyn TextDetector>); 3] = [
        ("unicode", Box::new(UnicodeDetector)),
        ("pii", Box::new(PiiDetector::default())),
        ("secret", Box::new(SecretDetector)),
    ];
    for (label, d) in &detectors {
        g.bench_function(*label, |b| {
            let mut hits = Vec::new();
            b.iter(|| {
                let mut n = 0;
                for t in texts {
                    hits.clear();
                    d.scan(black_box(t), &mut hits);
                    n += hits.len();
                }
                n
            })
        });
    }
    g.finish();
}

fn bench(c: &mut Criterion) {
    let path = corpus();
    let batches = read(&path);
    let texts = texts_of(&batches);
    let bytes: u64 = texts.iter().map(|t| t.len() as u64).sum();
    eprintln!(
        "corpus {} : {} texts, {:.1} MB",
        path.display(),
        texts.len(),
        bytes as f64 / 1e6
    );
    bench_detectors(c, "corpus", &texts);
    let pii = texts_of(&read(
        &PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/pii-dev.parquet"),
    ));
    bench_detectors(c, "pii_dense", &pii);

    let mut g = c.benchmark_group("pipeline");
    g.throughput(Throughput::Bytes(bytes));
    g.sample_size(10);
    let configs = [
        (
            "batch_scan_pii_secret",
            vec![DetectorId::Pii, DetectorId::Secret],
        ),
        ("batch_scan_all_detectors", DetectorId::AVAILABLE.to_vec()),
    ];
    for (label, detectors) in configs {
        let config = ScanConfig {
            detectors,
            ..ScanConfig::default()
        };
        let key = Key::from_hex("000102030405060708090a0b0c0d0e0f").unwrap();
        let scanner = Scanner::new(config, key).unwrap();
        let cols = scanner
            .resolve_columns(&batches[0].schema(), "bench")
            .unwrap();
        g.bench_function(label, |b| {
            b.iter(|| {
                batches
                    .iter()
                    .map(|batch| {
                        scanner
                            .scan("bench", 0, batch, &cols)
                            .unwrap()
                            .findings
                            .num_rows()
                    })
                    .sum::<usize>()
            })
        });
    }
    g.bench_function("parquet_decode_text", |b| b.iter(|| read(&path).len()));
    g.finish();
}

/// Sketching every record, and clustering the whole corpus from its sketches.
fn bench_dedup(c: &mut Criterion) {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let path = [
        root.join("../shared/data/dedup/dev.parquet"),
        root.join("tests/fixtures/dedup-dev.parquet"),
    ]
    .into_iter()
    .find(|p| p.exists())
    .expect("a dedup corpus");
    let texts = texts_of(&read(&path));
    let bytes: u64 = texts.iter().map(|t| t.len() as u64).sum();
    eprintln!(
        "dedup corpus {} : {:.1} MB",
        path.display(),
        bytes as f64 / 1e6
    );
    let cfg = DedupConfig::default();
    let index = |texts: &[String]| {
        let mut scratch = Scratch::default();
        let mut idx = DedupIndex::new(&cfg);
        for t in texts {
            idx.push(sketch(t, &cfg, &mut scratch).as_ref());
        }
        idx
    };
    let mut g = c.benchmark_group("dedup");
    g.throughput(Throughput::Bytes(bytes));
    g.sample_size(10);
    g.bench_function("sketch", |b| b.iter(|| index(black_box(&texts)).len()));
    let idx = index(&texts);
    g.bench_function("cluster", |b| b.iter(|| idx.cluster(&cfg).info.len()));
    g.finish();
}

/// Token windows of every record (what an index stores and a check looks up), and checking
/// held-out text against an index of the other half of the corpus.
fn bench_memorization(c: &mut Criterion) {
    use shardguard::corpus::index::IndexBuilder;
    use shardguard::detect::memorization::{check, Seeds};
    use shardguard::detect::window::{tokenize, windows, DEFAULT_WINDOW_TOKENS as W};
    let texts = texts_of(&read(&corpus()));
    let (train, held): (Vec<_>, Vec<_>) = texts.chunks(2).map(|p| (&p[0], p.get(1))).unzip();
    let held: Vec<&String> = held.into_iter().flatten().collect();
    let key = Key::from_hex("000102030405060708090a0b0c0d0e0f").unwrap();
    let seeds = Seeds::new(&key);
    let mut tokens = Vec::new();
    let mut hashes = Vec::new();
    for t in &train {
        tokenize(t, seeds.token, &mut tokens);
        windows(&tokens, W, seeds.window, |_, h| hashes.push(h));
    }
    hashes.sort_unstable();
    hashes.dedup();
    let mut b = IndexBuilder::new(&key, W, 1e-6, hashes.len() as u64).unwrap();
    b.add_windows(&hashes);
    let index = b.finish(Vec::new(), train.len() as u64, 0);
    let bytes: u64 = held.iter().map(|t| t.len() as u64).sum();
    let mut g = c.benchmark_group("memorization");
    g.throughput(Throughput::Bytes(bytes));
    g.sample_size(10);
    g.bench_function("windows", |b| {
        b.iter(|| {
            let mut n = 0u64;
            for t in &held {
                tokenize(t, seeds.token, &mut tokens);
                windows(&tokens, W, seeds.window, |_, h| n ^= h);
            }
            n
        })
    });
    g.bench_function("check", |b| {
        b.iter(|| {
            let mut out = Vec::new();
            for t in &held {
                check(t, &[], &index, seeds, &mut tokens, &mut hashes, &mut out);
            }
            out.len()
        })
    });
    g.finish();
}

criterion_group!(benches, bench, bench_dedup, bench_memorization);
criterion_main!(benches);
