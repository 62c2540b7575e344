//! The benchmark run: a 90-day campaign at about 20,000 calls a day, all
//! three strategies side by side, timed.
//!
//! ```text
//! cargo run --release -p dialguard-sim --example simulate_90d [-- DAYS CALLS_PER_MINUTE NUMBERS CONTACTS]
//! ```
//!
//! Defaults: 90 days, 28 calls a minute over the center's 12 hours (20,160
//! offered a day), 160 numbers (what `dialguard plan --calls-per-day 20000`
//! asks for), 600,000 contacts.

use std::time::Instant;

use dialguard_core::engine::EngineConfig;
use dialguard_sim::{Scenario, Simulator, StrategyKind};

fn main() {
    let args: Vec<f64> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let arg = |i: usize, default: f64| args.get(i).copied().unwrap_or(default);
    let mut scenario = Scenario {
        days: arg(0, 90.0) as u32,
        calls_per_minute: arg(1, 28.0),
        ..Scenario::default()
    };
    scenario.population.numbers = arg(2, 160.0) as u32;
    scenario.population.contacts = arg(3, 600_000.0) as u32;
    let started = Instant::now();
    let sim = Simulator::new(scenario, EngineConfig::default()).expect("the scenario is valid");
    let drawn = started.elapsed();
    let reports = sim
        .run_all(&StrategyKind::ALL, &|_, _| {})
        .expect("the engine configuration is valid");
    let total = started.elapsed();
    for r in &reports {
        println!(
            "{:<12} calls {:>9} answered {:>8} conversations {:>7} label-days {:>8.1} ever-labeled {:>4} violations {:>6} quarantines {:>4} denied {:>8}",
            r.strategy.as_str(),
            r.calls,
            r.answered,
            r.conversations,
            r.label_days,
            r.numbers_ever_labeled,
            r.violating_calls,
            r.quarantines,
            r.denied()
        );
    }
    let calls: u64 = reports.iter().map(|r| r.calls).sum();
    println!(
        "population drawn in {:.2} s; {} calls over {} strategies in {:.2} s total",
        drawn.as_secs_f64(),
        calls,
        reports.len(),
        total.as_secs_f64()
    );
}
