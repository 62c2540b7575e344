//! Staying power: resident memory and per-call ingest time as history grows,
//! and the log a restart replays.
//!
//! A month of a contact center's outbound calls (by default 1,000,000 a day
//! from 1,000 numbers to a list of 10,000,000 people, 08:00-20:00 UTC) is
//! folded into one engine the way the server folds it: every call applied
//! at its own instant, a tick every simulated minute. At each checkpoint it
//! prints the calls so far, resident memory, and the median and p99 time
//! to fold one call over the calls since the last checkpoint. With `--db`
//! every event also goes to a SQLite log, for a restart to replay
//! (`bench/staying_power.sh` times `dialguard serve` on it).
//!
//! Run: `cargo run --release -p dialguard --example staying_power --
//! [--calls N] [--per-day N] [--numbers N] [--contacts N]
//! [--checkpoints A,B,C] [--db PATH]`. One JSON object per line.

use std::time::Instant;

use dialguard_core::call::{Call, Direction, Source};
use dialguard_core::classify::{Cause, Outcome};
use dialguard_core::engine::{Engine, EngineConfig};
use dialguard_core::event::NumberRegistered;
use dialguard_core::lifecycle::NumberState;
use dialguard_core::{E164, Event};
use jiff::Timestamp;

/// As the binary runs: see `dialguard_core::huge_pages`.
#[global_allocator]

static ALLOCATOR: dialguard_core::huge_pages::HugePages<mimalloc::MiMalloc> =
    dialguard_core::huge_pages::HugePages::new(mimalloc::MiMalloc);

struct Args {
    calls: u64,
    per_day: u64,
    numbers: u64,
    contacts: u64,
    checkpoints: Vec<u64>,
    db: Option<std::path::PathBuf>,
}

fn args() -> Args {
    let mut a = Args {
        calls: 30_000_000,
        per_day: 1_000_000,
        numbers: 1_000,
        contacts: 10_000_000,
        checkpoints: vec![1_000_000, 10_000_000, 30_000_000],
        db: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().unwrap_or_else(|| panic!("{flag} needs a value"));
        let number = || {
            value
                .parse::<u64>()
                .unwrap_or_else(|_| panic!("{flag}: {value} is not a count"))
        };
        match flag.as_str() {
            "--calls" => a.calls = number(),
            "--per-day" => a.per_day = number().max(1),
            "--numbers" => a.numbers = number().max(1),
            "--contacts" => a.contacts = number().max(1),
            "--checkpoints" => {
                a.checkpoints = value
                    .split(',')
                    .map(|c| {
                        c.parse()
                            .unwrap_or_else(|_| panic!("--checkpoints: {c} is not a count"))
                    })
                    .collect();
            }
            "--db" => a.db = Some(value.into()),
            other => panic!("unknown flag {other}; see the file's header"),
        }
    }
    a
}

/// SplitMix64: the same calls on every machine.
struct Dice(u64);

impl Dice {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

/// A valid NANP number for an index: area codes 201-989 with a 2-9 exchange.
fn nanp(index: u64) -> E164 {
    let npa = [
        212, 213, 305, 312, 404, 415, 503, 512, 617, 646, 702, 713, 818, 917, 206, 303,
    ][(index % 16) as usize];
    let rest = index / 16;
    let nxx = 200 + (rest % 700);
    let nxx = if nxx % 100 == 11 { nxx + 1 } else { nxx };
    let line = (rest / 700) % 10_000;
    E164::from_digits_unchecked(1_00000_00000 + npa * 10_000_000 + nxx * 10_000 + line)
}

/// Resident and peak resident memory, in MB, from `/proc/self/status`.
fn memory_mb() -> (f64, f64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kb| kb.parse::<f64>().ok())
            .map_or(0.0, |kb| kb / 1024.0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// Per-call fold times in 1/8-octave buckets of nanoseconds.
#[derive(Default)]
struct Histogram(Vec<u64>);

impl Histogram {
    fn bucket(ns: u64) -> usize {
        let ns = ns.max(1) as f64;
        (ns.log2() * 8.0) as usize
    }

    fn record(&mut self, ns: u64) {
        let b = Self::bucket(ns);
        if self.0.len() <= b {
            self.0.resize(b + 1, 0);
        }
        self.0[b] += 1;
    }

    fn quantile(&self, q: f64) -> f64 {
        let total: u64 = self.0.iter().sum();
        let want = (total as f64 * q).ceil() as u64;
        let mut seen = 0;
        for (b, count) in self.0.iter().enumerate() {
            seen += count;
            if seen >= want.max(1) {
                return 2f64.powf((b + 1) as f64 / 8.0);
            }
        }
        0.0
    }
}

fn main() {
    let a = args();
    // DIALGUARD_HUGE_PAGES=0: 4 KB pages throughout (see `huge_pages`).
    if std::env::var("DIALGUARD_HUGE_PAGES").is_ok_and(|v| v == "0") {
        dialguard_core::huge_pages::set_enabled(false);
    }
    let mut engine = Engine::new(EngineConfig::default()).expect("the default configuration runs");
    let mut log = a.db.as_ref().map(|path| {
        let _ = std::fs::remove_file(path);
        dialguard_store::open(path).expect("the bench log opens")
    });
    let mut pending: Vec<Event> = Vec::with_capacity(65_536);
    let flush = |log: &mut Option<Box<dyn dialguard_store::EventLog + Send>>, pending: &mut Vec<Event>| {
        if let Some(log) = log.as_mut()
            && !pending.is_empty()
        {
            log.append("default", pending).expect("the bench log takes the events");
        }
        pending.clear();
    };

    // 2026-03-02 00:00:00 UTC; the month's numbers registered 40 days before.
    let day0: i64 = 1_772_409_600;
    let numbers: Vec<E164> = (0..a.numbers).map(|i| nanp(i * 7_919 + 3)).collect();
    for n in &numbers {
        let event = Event::NumberRegistered(NumberRegistered {
            number: *n,
            pool: "main".to_owned(),
            at: Timestamp::from_second(day0 - 40 * 86_400).expect("in range"),
            state: NumberState::Active,
            cnam: None,
        });
        engine.apply(&event);
        pending.push(event);
    }

    let mut dice = Dice(7);
    let open = 8 * 3_600;
    let span = 12 * 3_600;
    let mut histogram = Histogram::default();
    let mut segment_started = Instant::now();
    let mut segment_calls = 0u64;
    let started = Instant::now();
    let mut last_tick = i64::MIN;
    let mut checkpoints = a.checkpoints.iter().copied().peekable();
    for i in 0..a.calls {
        let day = (i / a.per_day) as i64;
        let in_day = ((i % a.per_day) * span / a.per_day) as i64;
        let start = day0 + day * 86_400 + open + in_day;
        let caller = numbers[(dice.next() % a.numbers) as usize];
        let callee = nanp(dice.next() % a.contacts + 1_000_000);
        let (outcome, cause, talk) = match dice.next() % 100 {
            0..13 => (Outcome::Answered, Cause::Unspecified, 1 + dice.next() % 6),
            13..38 => (Outcome::Answered, Cause::Unspecified, 7 + dice.next() % 600),
            38..80 => (Outcome::NoAnswer, Cause::Unspecified, 0),
            80..88 => (Outcome::Busy, Cause::Unspecified, 0),
            88..91 => (Outcome::InvalidDestination, Cause::Unallocated, 0),
            91..96 => (Outcome::Voicemail, Cause::Unspecified, 20),
            _ => (Outcome::NetworkFailure, Cause::Unspecified, 0),
        };
        let at = |s: i64| Timestamp::from_second(s).expect("in range");
        let ring = 3 + (dice.next() % 20) as i64;
        let event = Event::Call(Call {
            from: caller,
            to: callee,
            direction: Direction::Outbound,
            started_at: at(start),
            answered_at: (outcome == Outcome::Answered).then(|| at(start + ring)),
            ended_at: at(start + ring + talk as i64),
            talk_seconds: talk as u32,
            outcome,
            cause,
            source: Source::Api,
            source_id: format!("sp-{i}"),
        });

        let t = Instant::now();
        engine.apply(&event);
        if start / 60 != last_tick {
            last_tick = start / 60;
            pending.extend(engine.tick(at(start)));
        }
        histogram.record(t.elapsed().as_nanos() as u64);
        segment_calls += 1;
        pending.push(event);
        if pending.len() >= 50_000 {
            flush(&mut log, &mut pending);
        }

        if checkpoints.peek() == Some(&(i + 1)) {
            checkpoints.next();
            let (rss, peak) = memory_mb();
            let secs = segment_started.elapsed().as_secs_f64();
            println!(
                "{{\"calls\":{},\"days\":{:.1},\"rss_mb\":{rss:.0},\"peak_rss_mb\":{peak:.0},\
                 \"fold_ns_median\":{:.0},\"fold_ns_p99\":{:.0},\"calls_per_sec\":{:.0},\"elapsed_s\":{:.1}}}",
                i + 1,
                (i + 1) as f64 / a.per_day as f64,
                histogram.quantile(0.5),
                histogram.quantile(0.99),
                segment_calls as f64 / secs,
                started.elapsed().as_secs_f64(),
            );
            histogram = Histogram::default();
            segment_started = Instant::now();
            segment_calls = 0;
        }
    }
    flush(&mut log, &mut pending);
}
