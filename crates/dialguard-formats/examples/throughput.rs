//! Parse-only throughput of the Asterisk importer on a generated Master.csv.
//!
//! `cargo run --release -p dialguard-formats --example throughput -- [ROWS] [CALLER_IDS] [RUNS]`
//! (defaults: 200000 rows, 50 caller ids, 3 runs per zone). Prints rows per
//! second of wall time; on a shared machine, `perf stat` of a run with and
//! without `RUNS=0` gives the CPU cost of reading alone.

use std::time::Instant;

use dialguard_formats::generate::asterisk_master_csv;
use dialguard_formats::{Format, Options, read, read_parallel};

fn main() {
    let mut args = std::env::args().skip(1);
    let rows: usize = args.next().map_or(200_000, |a| a.parse().expect("ROWS is a number"));
    let callers: usize = args.next().map_or(50, |a| a.parse().expect("CALLER_IDS is a number"));
    let runs: usize = args.next().map_or(3, |a| a.parse().expect("RUNS is a number"));
    let mut file = Vec::new();
    asterisk_master_csv(rows, callers, 1, &mut file).expect("writing to memory");
    println!("generated {rows} rows, {} MB", file.len() / 1_000_000);

    // The reading thread cuts blocks and folds the results: one worker per
    // other core.
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get().saturating_sub(1).max(1));
    for (zone, options) in [
        ("UTC", Options::default()),
        (
            "America/New_York",
            Options {
                timezone: jiff::tz::TimeZone::get("America/New_York").expect("a known zone"),
                ..Options::default()
            },
        ),
    ] {
        for workers in [0, workers] {
            for run in 1..=runs {
                let mut talk = 0u64;
                let started = Instant::now();
                let mut sink = |r: Result<dialguard_core::Event, _>| {
                    if let Ok(dialguard_core::Event::Call(c)) = r {
                        talk += u64::from(c.talk_seconds);
                    }
                };
                let summary = if workers == 0 {
                    read(Format::Asterisk, file.as_slice(), &options, &mut sink)
                } else {
                    read_parallel(Format::Asterisk, file.as_slice(), &options, workers, &mut sink)
                }
                .expect("the generated file reads");
                let seconds = started.elapsed().as_secs_f64();
                println!(
                    "{zone}, {workers} workers, run {run}: {} rows ({} events, {} errors) in {:.3} s = {:.2} M rows/s (talk {talk} s)",
                    summary.rows,
                    summary.events,
                    summary.errors,
                    seconds,
                    summary.rows as f64 / seconds / 1e6
                );
            }
        }
    }
}
