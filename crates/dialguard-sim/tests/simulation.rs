//! The simulator as a user of it would check it: same seed, same answer;
//! people who behave like the public figures say; a guard that never breaks
//! the law and gets labeled less than plain rotation.

use dialguard_core::engine::EngineConfig;
use dialguard_core::{Event, Outcome};
use dialguard_sim::callee::{CalleeModel, Circumstances};
use dialguard_sim::dice::Dice;
use dialguard_sim::{Population, PopulationConfig, Scenario, Simulator, StrategyKind};

fn small(seed: u64) -> Scenario {
    let mut s = Scenario {
        days: 6,
        seed,
        calls_per_minute: 2.0,
        history_days: 3,
        ..Scenario::default()
    };
    s.population.contacts = 4_000;
    s.population.numbers = 6;
    s
}

fn run_all(scenario: Scenario) -> Vec<dialguard_sim::StrategyReport> {
    let sim = Simulator::new(scenario, EngineConfig::default()).unwrap();
    sim.run_all(&StrategyKind::ALL, &|_, _| {}).unwrap()
}

#[test]
fn a_seed_gives_the_same_campaign_every_time() {
    let first = run_all(small(5));
    assert_eq!(first, run_all(small(5)));
    assert!(first.iter().filter(|r| r.calls > 0).count() >= 2, "{first:#?}");
    let other = run_all(small(6));
    assert_ne!(first, other, "another seed meets other people");
}

#[test]
fn recording_events_does_not_change_the_run() {
    let sim = Simulator::new(small(3), EngineConfig::default()).unwrap();
    let quiet = sim.run(StrategyKind::Dialguard, None, &|_| {}).unwrap();
    let mut events: Vec<Event> = Vec::new();
    let recorded = sim.run(StrategyKind::Dialguard, Some(&mut events), &|_| {}).unwrap();
    assert_eq!(quiet, recorded);
    let registered = events
        .iter()
        .take_while(|e| matches!(e, Event::NumberRegistered(_)))
        .count();
    assert_eq!(registered, 6, "the pool is registered first");
    let campaign_calls = events
        .iter()
        .filter(|e| matches!(e, Event::Call(c) if c.started_at >= sim.scenario().start))
        .count() as u64;
    assert_eq!(campaign_calls, recorded.calls, "every placed call reaches the log once");
    assert!(
        events.iter().any(|e| matches!(e, Event::Label(_))),
        "the monitoring feed reports"
    );
    let mut days = std::collections::BTreeSet::new();
    let mut progress_days = Vec::new();
    let cell = std::cell::RefCell::new(&mut progress_days);
    sim.run(StrategyKind::RoundRobin, None, &|d| cell.borrow_mut().push(d))
        .unwrap();
    days.extend(progress_days.iter().copied());
    assert_eq!(days.into_iter().collect::<Vec<_>>(), (1..=6).collect::<Vec<_>>());
}

/// Pick-up, talk time and hang-ups over a large sample land on the cited
/// figures (see `calibration.rs` for the sources).
#[test]
fn callees_behave_like_the_public_figures_say() {
    let population = Population::generate(
        &PopulationConfig {
            contacts: 60_000,
            ..PopulationConfig::default()
        },
        9,
    )
    .unwrap();
    let model = CalleeModel::default();
    let dice = Dice::new(9);
    let first_call = |labeled| Circumstances {
        attempt: 0,
        recent_calls: 0,
        labeled,
        blocked: false,
        off_hours: false,
    };
    let tally = |known: bool, labeled: bool| {
        let mut calls = 0u32;
        let mut answered = 0u32;
        let mut talk = Vec::new();
        let mut unwanted_talk = Vec::new();
        for (i, c) in population.contacts.iter().enumerate() {
            if c.dead || c.known != known {
                continue;
            }
            let r = model.react(&dice, i as u32, c, first_call(labeled));
            calls += 1;
            if r.outcome == Outcome::Answered {
                answered += 1;
                talk.push(f64::from(r.talk));
                if !r.engaged {
                    unwanted_talk.push(f64::from(r.talk));
                }
            }
        }
        let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
        let quick = unwanted_talk.iter().filter(|t| **t <= 6.0).count() as f64 / unwanted_talk.len() as f64;
        (
            f64::from(answered) / f64::from(calls),
            mean(&talk),
            mean(&unwanted_talk),
            quick,
        )
    };
    let (pickup, talk, unwanted, quick) = tally(false, false);
    // [hiya-2019]: 24 % of unidentified calls and 38 % of calls from numbers
    // not in contacts are picked up; answered unidentified calls last 35 s.
    assert!((0.24..=0.38).contains(&pickup), "unknown caller pick-up {pickup}");
    assert!((30.0..=40.0).contains(&talk), "answered unknown-caller talk {talk} s");
    // Spam calls last about 11 s; an exponential with that mean hangs up
    // within 6 s about 42 % of the time.
    assert!((10.0..=12.0).contains(&unwanted), "unwanted talk {unwanted} s");
    assert!((0.38..=0.46).contains(&quick), "hung up within 6 s: {quick}");
    let (labeled, _, _, _) = tally(false, true);
    assert!(
        (0.075..=0.105).contains(&labeled),
        "labeled pick-up {labeled}, cited 9 %"
    );
    let (known, known_talk, _, _) = tally(true, false);
    assert!(
        (0.65..=0.75).contains(&known),
        "known contact pick-up {known}, cited 70 %"
    );
    assert!(known_talk > 120.0, "known contacts talk for minutes: {known_talk}");
}

#[test]
fn complaints_and_opt_outs_grow_with_insistence_and_odd_hours() {
    let population = Population::generate(
        &PopulationConfig {
            contacts: 60_000,
            ..PopulationConfig::default()
        },
        4,
    )
    .unwrap();
    let model = CalleeModel::default();
    let dice = Dice::new(4);
    let rates = |recent_calls: u32, off_hours: bool| {
        let (mut complaints, mut opt_outs) = (0u32, 0u32);
        for (i, c) in population.contacts.iter().enumerate() {
            let now = Circumstances {
                attempt: recent_calls,
                recent_calls,
                labeled: false,
                blocked: false,
                off_hours,
            };
            let r = model.react(&dice, i as u32, c, now);
            complaints += u32::from(r.complaint);
            opt_outs += u32::from(r.opt_out);
        }
        (complaints, opt_outs)
    };
    let first = rates(0, false);
    let fourth = rates(3, false);
    let late = rates(0, true);
    assert!(
        fourth.0 > 2 * first.0 && fourth.1 > 2 * first.1,
        "{first:?} vs {fourth:?}"
    );
    assert!(late.0 > 2 * first.0 && late.1 > first.1, "{first:?} vs {late:?}");
}

#[test]
fn dialguard_breaks_no_law_and_is_labeled_less_than_round_robin() {
    let reports = run_all(small(2));
    let of = |kind| reports.iter().find(|r| r.strategy == kind).unwrap();
    let (rr, guard) = (of(StrategyKind::RoundRobin), of(StrategyKind::Dialguard));
    assert!(
        rr.violating_calls > 0,
        "a dialer without a guard calls the West Coast at 06:00: {rr:#?}"
    );
    assert_eq!(guard.violating_calls, 0, "{guard:#?}");
    assert_eq!(guard.violations.total(), 0);
    assert!(
        guard.label_days < rr.label_days,
        "{} vs {}",
        guard.label_days,
        rr.label_days
    );
    let capped = of(StrategyKind::Capped);
    assert_eq!(
        capped.violations.outside_hours, 0,
        "capped checks the federal hours: {capped:#?}"
    );
}

/// A guard over a wire that has no number for anyone who does not know the
/// business, and counts what it is asked and told; or, `down`, one whose
/// every question fails.
#[derive(Default)]
struct Exhausted {
    down: bool,
    asked: std::sync::Arc<std::sync::Mutex<(u64, u64, u64)>>,
}

impl dialguard_sim::RemoteGuard for Exhausted {
    fn register(&mut self, _: &str, numbers: &[dialguard_core::E164], _: jiff::Timestamp) -> Result<(), String> {
        assert_eq!(numbers.len(), 6);
        Ok(())
    }

    fn observe(&mut self, _: &Event) -> Result<(), String> {
        self.asked.lock().unwrap().2 += 1;
        Ok(())
    }

    fn decide(
        &mut self,
        request: &dialguard_core::guard::DecideRequest,
        _: jiff::Timestamp,
    ) -> Result<dialguard_core::guard::Decision, String> {
        if self.down {
            return Err("connection refused".into());
        }
        let mut asked = self.asked.lock().unwrap();
        if request.known_contact {
            asked.1 += 1;
        } else {
            asked.0 += 1;
        }
        Ok(dialguard_core::guard::Decision::Deny {
            reason: dialguard_core::guard::DenyReason::PoolExhausted,
            retry_at: None,
        })
    }

    fn tick(&mut self, _: jiff::Timestamp) -> Result<(), String> {
        Ok(())
    }
}

#[test]
fn a_dialer_told_the_pool_is_exhausted_asks_only_for_known_contacts_until_the_next_minute() {
    let sim = Simulator::new(small(2), EngineConfig::default()).unwrap();
    let guard = Exhausted::default();
    let asked = guard.asked.clone();
    let report = sim.run_remote(Box::new(guard), &|_| {}).unwrap();
    assert_eq!(report.calls, 0);
    let (unknown, known, observed) = *asked.lock().unwrap();
    // One unknown contact a minute while the center is open (12 hours), at
    // most: the others wait for the pool rather than being asked for.
    let open_minutes = 6 * 12 * 60;
    assert!(
        unknown > 0 && unknown <= open_minutes,
        "{unknown} asks for unknown contacts"
    );
    assert!(known > 0, "known contacts are still asked for");
    assert!(
        observed > 0,
        "the numbers' earlier calls and the label checks reach the guard"
    );

    // A wire that fails stops the run with its words.
    let down = Exhausted {
        down: true,
        ..Exhausted::default()
    };
    let err = sim.run_remote(Box::new(down), &|_| {}).unwrap_err();
    assert!(err.to_string().contains("connection refused"), "{err}");
}

#[test]
fn without_a_monitoring_feed_no_handset_check_reaches_the_guard() {
    let unmonitored = Scenario {
        monitoring: false,
        ..small(3)
    };
    let sim = Simulator::new(unmonitored, EngineConfig::default()).unwrap();
    let mut events: Vec<Event> = Vec::new();
    let report = sim.run(StrategyKind::Dialguard, Some(&mut events), &|_| {}).unwrap();
    assert!(report.calls > 0, "the campaign ran: {report:?}");
    assert!(
        !events.iter().any(|e| matches!(e, Event::Label(_))),
        "no label observation without the feed"
    );
}
