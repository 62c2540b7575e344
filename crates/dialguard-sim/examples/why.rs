//! Prints the dialguard strategy's state changes for a run, with reasons.
//!
//! ```text
//! cargo run --release -p dialguard-sim --example why -- [DAYS] [PROFILES_DIR]
//! ```

use dialguard_core::Event;
use dialguard_core::engine::EngineConfig;
use dialguard_core::risk::RiskConfig;
use dialguard_sim::{Scenario, Simulator, StrategyKind};

fn main() {
    let days: u32 = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(45);
    let mut engine = EngineConfig::default();
    if let Some(dir) = std::env::args().nth(2) {
        let files: Vec<(String, String)> = std::fs::read_dir(&dir)
            .expect("a profiles directory")
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .map(|p| (p.display().to_string(), std::fs::read_to_string(&p).expect("readable")))
            .collect();
        let borrowed: Vec<(&str, &str)> = files.iter().map(|(f, t)| (f.as_str(), t.as_str())).collect();
        engine.risk = RiskConfig::from_toml_strs(&borrowed).expect("valid profiles");
    }
    let sim = Simulator::new(
        Scenario {
            days,
            ..Scenario::default()
        },
        engine,
    )
    .expect("a valid scenario");
    let mut events: Vec<Event> = Vec::new();
    let report = sim
        .run(StrategyKind::Dialguard, Some(&mut events), &|_| {})
        .expect("a valid engine");
    for event in &events {
        if let Event::StateChanged(s) = event {
            println!("{} {} {:?} {}", s.at, s.number, s.state, s.reason);
        }
    }
    println!("{report:#?}");
}
