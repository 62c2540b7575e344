//! Import throughput on one Asterisk Master.csv, three ways, in one run:
//! parse only; parse and compute every caller id's 24 h metrics; and the
//! durable import into a fresh SQLite log (what `dialguard import` does).
//!
//! Run: bench/import.sh (generates the file, runs this and the DuckDB peer).

use std::fs::File;
use std::io::BufReader;
use std::path::PathBuf;
use std::time::Instant;

use dialguard_core::Event;
use dialguard_core::metrics::{Ledger, MetricsConfig, Window};
use dialguard_formats::{Format, Options};

/// As the binary runs: see `dialguard_core::huge_pages`.
#[global_allocator]
static ALLOCATOR: dialguard_core::huge_pages::HugePages<mimalloc::MiMalloc> =
    dialguard_core::huge_pages::HugePages::new(mimalloc::MiMalloc);

fn open(path: &PathBuf) -> BufReader<File> {
    BufReader::with_capacity(1 << 20, File::open(path).expect("the bench file opens"))
}

fn parse_only(path: &PathBuf) -> u64 {
    let mut events = 0u64;
    dialguard_formats::read(Format::Asterisk, open(path), &Options::default(), &mut |item| {
        if item.is_ok() {
            events += 1;
        }
    })
    .expect("the bench file parses");
    events
}

/// Parse and fold every call into the metrics ledger, then compute each
/// caller id's 24 h figures. `workers` > 0 splits and converts blocks of
/// the file on that many extra threads while this one cuts and folds.
fn parse_and_metrics(path: &PathBuf, workers: usize) -> (u64, usize) {
    let mut ledger = Ledger::new(MetricsConfig::default());
    let mut events = 0u64;
    dialguard_formats::read_parallel(
        Format::Asterisk,
        open(path),
        &Options::default(),
        workers,
        &mut |item| {
            if let Ok(Event::Call(call)) = item {
                ledger.apply_call(&call);
                events += 1;
            }
        },
    )
    .expect("the bench file parses");
    let now = ledger.latest().expect("the file has calls");
    let numbers = ledger.owned_numbers();
    let mut attempts = 0u64;
    for n in &numbers {
        attempts += u64::from(ledger.window_metrics(*n, now, Window::Day).attempts);
    }
    std::hint::black_box(attempts);
    (events, numbers.len())
}

/// The real `dialguard import` into a fresh database, end to end.
fn durable(path: &PathBuf, db: &PathBuf) -> u64 {
    remove_db(db);
    let binary = std::env::current_exe()
        .expect("own path")
        .with_file_name("../dialguard");
    let out = std::process::Command::new(binary)
        .arg("--db")
        .arg(db)
        .args(["import", "--format", "asterisk", "--output", "json"])
        .arg(path)
        .output()
        .expect("dialguard runs: build it first with cargo build --release");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).expect("a JSON summary");
    summary["accepted"].as_u64().expect("a count")
}

fn remove_db(db: &std::path::Path) {
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
    }
}

fn best_of<T>(rounds: usize, mut f: impl FnMut() -> T) -> (f64, T) {
    let mut best = f64::MAX;
    let mut last = None;
    for _ in 0..rounds {
        let t = Instant::now();
        let value = f();
        best = best.min(t.elapsed().as_secs_f64());
        last = Some(value);
    }
    (best, last.expect("at least one round"))
}

fn main() {
    let path: PathBuf = std::env::args().nth(1).expect("usage: import_bench FILE").into();
    let db = path.with_extension("bench.db");
    let (t_parse, rows) = best_of(3, || parse_only(&path));
    let (t_metrics, (_, numbers)) = best_of(3, || parse_and_metrics(&path, 0));
    let (t_metrics_2, _) = best_of(3, || parse_and_metrics(&path, 1));
    let (t_metrics_3, _) = best_of(3, || parse_and_metrics(&path, 2));
    let (t_durable, accepted) = best_of(2, || durable(&path, &db));
    assert_eq!(accepted, rows, "every parsed row is stored once");
    let rate = |t: f64| rows as f64 / t;
    println!(
        "dialguard parse only:        {rows} rows, best of 3: {t_parse:.3} s = {:.0} rows/s",
        rate(t_parse)
    );
    println!(
        "dialguard parse + 24h metrics, 1 thread:  {numbers} caller ids, best of 3: {t_metrics:.3} s = {:.0} rows/s",
        rate(t_metrics)
    );
    println!(
        "dialguard parse + 24h metrics, 2 threads: best of 3: {t_metrics_2:.3} s = {:.0} rows/s",
        rate(t_metrics_2)
    );
    println!(
        "dialguard parse + 24h metrics, 2 workers beside the folding thread: best of 3: {t_metrics_3:.3} s = {:.0} rows/s",
        rate(t_metrics_3)
    );
    println!(
        "dialguard import (durable):  best of 2: {t_durable:.3} s = {:.0} rows/s",
        rate(t_durable)
    );
    remove_db(&db);
}
