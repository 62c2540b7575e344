//! How long scoring a pool takes: 1,000 numbers, each scored on every
//! shipped profile from inputs already measured (the target: under
//! 1 ms in total). Also shows what measuring the inputs from the ledger and
//! a whole `assess` cost, for context.
//!
//! Run: `cargo run --release -p dialguard-core --example score_bench`
//! Prints the median of many runs, per 1,000 numbers.

// Benchmarks read the wall clock; the library never does (clippy.toml).
#![allow(clippy::disallowed_methods)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use dialguard_core::metrics::{Ledger, MetricsConfig};
use dialguard_core::risk::{Labels, RiskConfig, RiskInputs, assess, score};
use dialguard_core::{Call, Cause, Direction, E164, Event, Outcome, Source};
use jiff::{SignedDuration, Timestamp};

const NUMBERS: u64 = 1_000;

/// xorshift64*: the same pool on every run.
struct Dice(u64);

impl Dice {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// A pool of 1,000 numbers with 20 days of calls each, 10 to 80 a day,
/// in mixed shapes: careful, hang-up heavy, dead lists, bursts.
fn pool(now: Timestamp) -> (Ledger, Vec<E164>) {
    let mut dice = Dice(0x5EED);
    let mut ledger = Ledger::new(MetricsConfig::default());
    let mut numbers = Vec::new();
    let mut id = 0u64;
    for n in 0..NUMBERS {
        let from = E164::from_digits_unchecked(14_155_550_000 + n);
        numbers.push(from);
        let per_day = 10 + dice.below(70);
        let shape = dice.below(4);
        for day in 0..20 {
            let midnight = now.as_second() - now.as_second().rem_euclid(86_400) - day * 86_400;
            for i in 0..per_day {
                let spread = if shape == 3 && day == 0 { 600 } else { 5 * 3_600 };
                let start = midnight + 16 * 3_600 + (spread * i as i64) / per_day as i64;
                let started_at = Timestamp::from_second(start).unwrap();
                let roll = dice.below(100);
                let (outcome, talk) = match (shape, roll) {
                    (2, 0..=29) => (Outcome::InvalidDestination, 0),
                    (_, 0..=39) => (Outcome::NoAnswer, 0),
                    (1, 40..=69) => (Outcome::Answered, 1 + dice.below(5) as u32),
                    _ => (Outcome::Answered, 20 + dice.below(300) as u32),
                };
                let npa = [212u64, 312, 415, 713, 617][dice.below(5) as usize];
                id += 1;
                ledger.apply(&Event::Call(Call {
                    from,
                    to: E164::from_digits_unchecked(
                        10_000_000_000 + npa * 10_000_000 + 2_000_000 + dice.below(8_000_000),
                    ),
                    direction: Direction::Outbound,
                    started_at,
                    answered_at: (outcome == Outcome::Answered).then_some(started_at),
                    ended_at: started_at + SignedDuration::from_secs(i64::from(talk) + 5),
                    talk_seconds: talk,
                    outcome,
                    cause: Cause::Unspecified,
                    source: Source::Simulator,
                    source_id: id.to_string(),
                }));
            }
        }
    }
    (ledger, numbers)
}

fn median(mut runs: Vec<Duration>) -> Duration {
    runs.sort();
    runs[runs.len() / 2]
}

fn time<F: FnMut()>(runs: usize, mut f: F) -> Duration {
    f(); // warm up
    median(
        (0..runs)
            .map(|_| {
                let start = Instant::now();
                f();
                start.elapsed()
            })
            .collect(),
    )
}

fn main() {
    let now: Timestamp = "2026-03-20T21:30:00Z".parse().unwrap();
    let (ledger, numbers) = pool(now);
    let config = RiskConfig::defaults();
    let labels = Labels::new();
    let spec = config.profiles[0].inputs;
    assert!(
        config.profiles.iter().all(|p| p.inputs == spec),
        "the shipped profiles measure alike"
    );
    let inputs: Vec<RiskInputs> = numbers
        .iter()
        .map(|n| RiskInputs::from_ledger(&ledger, *n, now, &spec))
        .collect();
    let calls = ledger.call_count();

    let all_profiles = time(201, || {
        for i in &inputs {
            for p in &config.profiles {
                black_box(score(p, black_box(i)));
            }
        }
    });
    let one_profile = time(201, || {
        for i in &inputs {
            black_box(score(&config.profiles[0], black_box(i)));
        }
    });
    let measuring = time(5, || {
        for n in &numbers {
            black_box(RiskInputs::from_ledger(&ledger, *n, now, &spec));
        }
    });
    let assessing = time(5, || {
        for n in &numbers {
            black_box(assess(&ledger, &labels, &config, *n, now));
        }
    });

    println!("score_bench: {NUMBERS} numbers, {calls} calls in the ledger, median of runs");
    println!(
        "  score, {} profiles:        {:>10.3?} per 1,000 numbers (target: under 1 ms)",
        config.profiles.len(),
        all_profiles
    );
    println!("  score, one profile:        {one_profile:>10.3?} per 1,000 numbers");
    println!("  measure inputs (ledger):   {measuring:>10.3?} per 1,000 numbers");
    println!("  assess (measure + score + labels + triggers): {assessing:>10.3?} per 1,000 numbers");
}
