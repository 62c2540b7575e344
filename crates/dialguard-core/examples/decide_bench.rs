//! `Guard::decide` latency with a 1,000-number pool and 10 million known
//! destinations (each with a call in its history), a 1-million-number
//! Do-Not-Call list and 1% of destinations opted out.
//!
//! Each decision is timed on its own (`Instant` around one call), so the
//! figures include the timer's own cost, printed alongside. Time advances
//! 250 ms per decision (14,400 an hour: inside the pool's 30,000/h capacity)
//! through the hours when Eastern and Central destinations may be called,
//! skipping nights, so nearly every decision goes all the way to choosing
//! and reserving a number.
//!
//! Run: cargo run --release -p dialguard-core --example decide_bench -- \
//!        [--numbers 1000] [--destinations 10000000] [--decisions 1000000] [--small-pages]
#![allow(clippy::disallowed_methods)] // a benchmark reads the clock: that is what it measures

use std::collections::BTreeMap;
use std::hint::black_box;
use std::time::Instant;

use dialguard_core::guard::{DecideRequest, Decision, DncList, Guard, GuardConfig};
use dialguard_core::{Call, Cause, Direction, E164, Event, NumberRegistered, NumberState, OptOut, Outcome, Source};
use jiff::{SignedDuration, Timestamp};

/// Area codes on Eastern and Central time only, so one daily window covers
/// them all.
const NPAS: [u64; 12] = [212, 312, 404, 617, 713, 214, 305, 615, 216, 313, 502, 718];

/// As the binaries run: large tables on 2 MB pages, unless `--small-pages`.
#[global_allocator]
static ALLOCATOR: dialguard_core::huge_pages::HugePages<mimalloc::MiMalloc> =
    dialguard_core::huge_pages::HugePages::new(mimalloc::MiMalloc);

fn arg(name: &str, default: usize) -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .map(|v| v.replace('_', "").parse().expect("a whole number"))
        .unwrap_or(default)
}

fn main() {
    let small_pages = std::env::args().any(|a| a == "--small-pages");
    dialguard_core::huge_pages::set_enabled(!small_pages);
    let numbers = arg("--numbers", 1_000);
    let destinations = arg("--destinations", 10_000_000);
    let decisions = arg("--decisions", 1_000_000);
    let mut rng = fastrand::Rng::with_seed(2025);

    let exchanges: Vec<u64> = NPAS
        .iter()
        .flat_map(|npa| (200..1000).map(move |nxx| npa * 1000 + nxx))
        .filter(|x| {
            dialguard_core::nanp::judge(E164::from_digits_unchecked(10_000_000_000 + x * 10_000 + 1234)).is_some()
        })
        .collect();
    let random_destination = |rng: &mut fastrand::Rng| {
        E164::from_digits_unchecked(
            10_000_000_000 + exchanges[rng.usize(..exchanges.len())] * 10_000 + rng.u64(..10_000),
        )
    };

    let start: Timestamp = "2025-06-02T14:00:00Z".parse().unwrap(); // Monday 10:00 Eastern
    let built = Instant::now();
    let mut guard = Guard::new(GuardConfig::default()).unwrap();
    let pool: Vec<E164> = (0..numbers as u64)
        .map(|i| {
            E164::from_digits_unchecked(10_000_000_000 + NPAS[i as usize % NPAS.len()] * 10_000_000 + 9_000_000 + i)
        })
        .collect();
    for &number in &pool {
        guard.apply(&Event::NumberRegistered(NumberRegistered {
            number,
            pool: "bench".into(),
            at: start - SignedDuration::from_hours(24 * 30),
            state: NumberState::Active,
            cnam: None,
        }));
    }
    // History: one call to each known destination, 26-48 h before the start.
    // Destination i is line (i / E) of exchange (i mod E), the line scrambled
    // by a unit modulo 10,000: all distinct while there are under 10,000 per
    // exchange.
    assert!(
        destinations / exchanges.len() < 10_000,
        "too many destinations for the exchanges"
    );
    let mut known = Vec::with_capacity(destinations);
    // The slowest single call record while the destinations were learnt:
    // the dial path's worst stall as its tables grow.
    let mut slowest = 0u128;
    for i in 0..destinations {
        let line = (i / exchanges.len()) as u64 * 7_919 % 10_000;
        let to = E164::from_digits_unchecked(10_000_000_000 + exchanges[i % exchanges.len()] * 10_000 + line);
        known.push(to);
        let started = start - SignedDuration::from_secs(26 * 3600 + rng.i64(0..22 * 3600));
        let t = Instant::now();
        guard.apply(&Event::Call(Call {
            from: pool[i % pool.len()],
            to,
            direction: Direction::Outbound,
            started_at: started,
            answered_at: None,
            ended_at: started + SignedDuration::from_secs(20),
            talk_seconds: 0,
            outcome: Outcome::NoAnswer,
            cause: Cause::Unspecified,
            source: Source::Simulator,
            source_id: String::new(),
        }));
        slowest = slowest.max(t.elapsed().as_nanos());
        if i % 100 == 0 {
            guard.apply(&Event::OptOut(OptOut { to, at: started }));
        }
    }
    let mut dnc: Vec<E164> = (0..1_000_000).map(|_| random_destination(&mut rng)).collect();
    dnc.sort();
    guard.set_dnc(DncList::from_sorted(dnc).unwrap());
    println!(
        "state: {} numbers, {} known destinations, {} on the DNC list; built in {:.1} s",
        numbers,
        guard.known_destinations(),
        guard.dnc().len(),
        built.elapsed().as_secs_f64()
    );
    println!(
        "slowest call record while they were learnt: {:.2} ms",
        slowest as f64 / 1e6
    );

    // The requests, made up front so only decide() is timed.
    let requests: Vec<DecideRequest> = (0..decisions)
        .map(|_| DecideRequest {
            pool: "bench".into(),
            to: if rng.u8(..10) == 0 {
                random_destination(&mut rng)
            } else {
                known[rng.usize(..known.len())]
            },
            known_contact: rng.u8(..4) == 0,
        })
        .collect();

    let timer_cost = {
        let mut samples: Vec<u64> = (0..100_000)
            .map(|_| {
                let t = Instant::now();
                black_box(());
                t.elapsed().as_nanos() as u64
            })
            .collect();
        samples.sort_unstable();
        samples[samples.len() / 2]
    };

    let mut now = start;
    let mut latencies: Vec<u64> = Vec::with_capacity(decisions);
    let mut by_outcome: BTreeMap<&'static str, Vec<u64>> = BTreeMap::new();
    for request in &requests {
        let t = Instant::now();
        let decision = guard.decide(request, now);
        let ns = t.elapsed().as_nanos() as u64;
        latencies.push(ns);
        let label = match &decision {
            Decision::Allow { .. } => "allow",
            Decision::Deny { reason, .. } => reason.as_str(),
        };
        by_outcome.entry(label).or_default().push(ns);
        now += SignedDuration::from_millis(250);
        // 22:00Z is 17:00 Central: jump to 14:00Z the next day.
        if now.as_second().rem_euclid(86_400) >= 22 * 3600 {
            now += SignedDuration::from_hours(16);
        }
    }

    println!(
        "decide(): {decisions} decisions over {} simulated business hours (timer cost ~{timer_cost} ns, included)",
        decisions / 14_400
    );
    report("all", &mut latencies);
    for (label, samples) in &mut by_outcome {
        report(label, samples);
    }
}

fn report(label: &str, samples: &mut [u64]) {
    samples.sort_unstable();
    let at = |q: f64| samples[((samples.len() - 1) as f64 * q) as usize];
    let mean = samples.iter().sum::<u64>() as f64 / samples.len() as f64;
    println!(
        "  {label:<22} n={:<8} median {:>5} ns  p90 {:>5} ns  p99 {:>6} ns  p99.9 {:>6} ns  mean {:>7.0} ns",
        samples.len(),
        at(0.5),
        at(0.9),
        at(0.99),
        at(0.999),
        mean
    );
}
