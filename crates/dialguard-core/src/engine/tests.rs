//! The engine as a user meets it: register, call, observe, tick, decide.

use jiff::{SignedDuration, Timestamp};

use super::*;
use crate::call::{Call, Direction, Source};
use crate::classify::{Cause, Outcome};
use crate::event::{Carrier, LabelObserved, NumberRegistered};
use crate::guard::DenyReason;

pub(crate) const A: E164 = E164::from_digits_unchecked(14_155_550_100);
pub(crate) const B: E164 = E164::from_digits_unchecked(14_155_550_101);

pub(crate) fn t(s: &str) -> Timestamp {
    s.parse().expect("test instant")
}

pub(crate) fn register(number: E164, state: NumberState, at: Timestamp) -> Event {
    Event::NumberRegistered(NumberRegistered {
        number,
        pool: "sales".into(),
        at,
        state,
        cnam: None,
    })
}

pub(crate) fn label(number: E164, carrier: Carrier, text: Option<&str>, at: Timestamp) -> Event {
    Event::Label(LabelObserved {
        number,
        carrier,
        label: text.map(str::to_owned),
        at,
        source: "test_call".into(),
        source_id: None,
    })
}

/// A person in a different exchange from every test number, in a time zone
/// where 15:00 UTC is inside calling hours.
pub(crate) fn person(i: u64) -> E164 {
    E164::from_digits_unchecked(12_125_550_000 + i)
}

pub(crate) fn request(to: E164, known: bool) -> DecideRequest {
    DecideRequest {
        pool: "sales".into(),
        to,
        known_contact: known,
    }
}

/// The call record that follows an allowed decision.
pub(crate) fn answered(from: E164, to: E164, at: Timestamp, talk: u32) -> Event {
    Event::Call(Call {
        from,
        to,
        direction: Direction::Outbound,
        started_at: at,
        answered_at: Some(at + SignedDuration::from_secs(5)),
        ended_at: at + SignedDuration::from_secs(5 + i64::from(talk)),
        talk_seconds: talk,
        outcome: Outcome::Answered,
        cause: Cause::default(),
        source: Source::Simulator,
        source_id: format!("{from}-{to}-{}", at.as_second()),
    })
}

pub(crate) fn engine(events: &[Event]) -> Engine {
    let mut engine = Engine::new(EngineConfig::default()).expect("default config");
    for e in events {
        engine.apply(e);
    }
    engine
}

fn states(events: &[Event]) -> Vec<(E164, NumberState)> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::StateChanged(s) => Some((s.number, s.state)),
            _ => None,
        })
        .collect()
}

#[test]
fn a_registered_number_is_allowed() {
    let now = t("2025-03-04T15:00:00Z");
    let mut engine = engine(&[register(A, NumberState::Active, now - SignedDuration::from_hours(1))]);
    assert!(engine.tick(now).is_empty());
    assert_eq!(
        engine.decide(&request(person(1), false), now),
        Decision::Allow { caller_id: A }
    );
    assert!(engine.is_registered(A));
    assert!(!engine.is_registered(B));
}

#[test]
fn an_observed_label_quarantines_the_number_and_decide_never_picks_it() {
    let start = t("2025-03-04T14:00:00Z");
    let now = t("2025-03-04T15:00:00Z");
    let mut engine = engine(&[
        register(A, NumberState::Active, start),
        register(B, NumberState::Active, start),
        label(A, Carrier::Att, Some("Spam Likely"), now - SignedDuration::from_mins(5)),
    ]);
    let derived = engine.tick(now);
    assert_eq!(
        states(&derived),
        vec![(A, NumberState::Quarantined), (A, NumberState::Resting)]
    );
    let Event::StateChanged(first) = &derived[0] else {
        unreachable!()
    };
    assert!(first.reason.contains("Spam Likely"), "{}", first.reason);
    // Stamped with its trigger's instant, not the tick's.
    assert_eq!(first.at, now - SignedDuration::from_mins(5));
    // Already applied: the engine says resting, and a second tick adds nothing.
    assert_eq!(engine.lifecycle().state(A), Some(NumberState::Resting));
    assert!(engine.tick(now + SignedDuration::from_mins(1)).is_empty());
    for i in 0..20 {
        let at = now + SignedDuration::from_mins(2 * i);
        match engine.decide(&request(person(i as u64), false), at) {
            Decision::Allow { caller_id } => assert_eq!(caller_id, B, "call {i}"),
            other => panic!("call {i}: {other:?}"),
        }
    }
}

#[test]
fn the_only_number_quarantined_leaves_the_pool_exhausted() {
    let now = t("2025-03-04T15:00:00Z");
    let mut engine = engine(&[
        register(A, NumberState::Active, now - SignedDuration::from_hours(1)),
        label(A, Carrier::Verizon, Some("Scam Likely"), now),
    ]);
    engine.tick(now);
    assert_eq!(
        engine.decide(&request(person(1), false), now).reason(),
        Some(DenyReason::PoolExhausted)
    );
}

#[test]
fn replaying_the_derived_events_gives_the_same_state_without_new_ones() {
    let now = t("2025-03-04T15:00:00Z");
    let log = vec![
        register(A, NumberState::Active, now - SignedDuration::from_hours(1)),
        label(A, Carrier::Tmobile, Some("Spam Risk"), now),
    ];
    let mut live = engine(&log);
    let derived = live.tick(now);
    let replayed_log: Vec<Event> = log.iter().chain(&derived).cloned().collect();
    let mut replayed = engine(&replayed_log);
    assert!(replayed.tick(now).is_empty(), "replay must not decide again");
    assert_eq!(replayed.lifecycle().record(A), live.lifecycle().record(A));
}

#[test]
fn a_following_engine_decides_nothing_and_takes_the_deciders_changes() {
    let now = t("2025-03-04T15:00:00Z");
    let log = vec![
        register(A, NumberState::Active, now - SignedDuration::from_hours(1)),
        register(B, NumberState::Active, now - SignedDuration::from_hours(1)),
        label(A, Carrier::Att, Some("Spam Likely"), now),
    ];
    let mut decider = engine(&log);
    let mut follower = engine(&log);
    follower.follow_tick(now);
    assert_eq!(
        follower.lifecycle().state(A),
        Some(NumberState::Active),
        "the follower waits for the decider's change"
    );
    let derived = decider.tick(now);
    assert!(!derived.is_empty());
    for event in &derived {
        follower.apply(event);
    }
    follower.follow_tick(now + SignedDuration::from_mins(1));
    assert_eq!(follower.lifecycle().record(A), decider.lifecycle().record(A));
    assert_eq!(
        follower.decide(&request(person(1), false), now),
        Decision::Allow { caller_id: B }
    );
    // Once it decides for itself (the decider went away), it adds nothing
    // the decider already did.
    assert!(follower.tick(now + SignedDuration::from_mins(2)).is_empty());
}

#[test]
fn a_clean_number_summarises_as_healthy_with_its_caps() {
    let now = t("2025-03-04T15:00:00Z");
    let mut engine = engine(&[register(A, NumberState::Active, now - SignedDuration::from_hours(1))]);
    engine.tick(now);
    let call_at = now + SignedDuration::from_mins(1);
    assert_eq!(engine.decide(&request(person(1), false), call_at).caller_id(), Some(A));
    engine.apply(&answered(A, person(1), call_at, 150));
    let list = engine.numbers(call_at + SignedDuration::from_mins(5));
    assert_eq!(list.len(), 1);
    let line = &list[0];
    assert_eq!(
        (line.number, line.state, line.health),
        (A, NumberState::Active, Health::Healthy)
    );
    assert_eq!(line.calls_today, 1);
    assert!(line.cap_today >= 1 && line.cap_today <= 150, "{}", line.cap_today);
    let json = serde_json::to_value(line).unwrap();
    for key in ["number", "pool", "state", "health", "risk", "calls_today", "cap_today"] {
        assert!(json.get(key).is_some(), "{key} missing from {json}");
    }
    let view = engine.number(A, call_at).unwrap();
    assert_eq!(view.state, NumberState::Active);
    assert!(view.plan.is_none());
    assert!(engine.number(B, call_at).is_none());
}

#[test]
fn calls_imported_before_registration_count_against_the_caps() {
    // A go-live: the day's call records are imported, then the number is
    // registered. The guard must count those calls as if it had seen them
    // after the registration.
    let now = t("2025-03-04T18:00:00Z");
    let first = t("2025-03-04T14:00:00Z");
    let calls: Vec<Event> = (0..40)
        .map(|i| answered(A, person(100 + i), first + SignedDuration::from_mins(3 * i as i64), 20))
        .collect();
    let registered = register(A, NumberState::Active, t("2025-03-01T00:00:00Z"));
    let mut config = EngineConfig::default();
    config.guard.daily_cap = 40;
    let build = |events: Vec<Event>| {
        let mut engine = Engine::new(config.clone()).expect("config");
        for e in &events {
            engine.apply(e);
        }
        engine
    };
    let mut registered_first = build([vec![registered.clone()], calls.clone()].concat());
    let mut imported_first = build([calls, vec![registered]].concat());
    for engine in [&mut registered_first, &mut imported_first] {
        assert_eq!(engine.numbers(now)[0].calls_today, 40);
        assert_eq!(
            engine.decide(&request(person(1), false), now),
            Decision::Deny {
                reason: DenyReason::PoolExhausted,
                retry_at: Some(first + SignedDuration::from_hours(24)),
            }
        );
    }
}

#[test]
fn a_quarantine_carries_its_labels_instant_however_late_the_tick_that_finds_it() {
    let start = t("2025-03-04T14:00:00Z");
    let seen = t("2025-03-05T12:00:00Z");
    let events = [
        register(A, NumberState::Active, start),
        register(B, NumberState::Active, start),
        label(A, Carrier::Verizon, Some("Spam Likely"), seen),
    ];
    // One process ticks a minute after the label, another first looks three
    // days later: both write the same history.
    let soon = engine(&events).tick(seen + SignedDuration::from_mins(1));
    let late = engine(&events).tick(seen + SignedDuration::from_hours(72));
    let stamps = |derived: &[Event]| -> Vec<(NumberState, Timestamp, String)> {
        derived
            .iter()
            .filter_map(|e| match e {
                Event::StateChanged(c) if c.number == A => Some((c.state, c.at, c.reason.clone())),
                _ => None,
            })
            .collect()
    };
    assert_eq!(stamps(&soon), stamps(&late));
    let late = stamps(&late);
    assert_eq!(
        late.iter().map(|(s, at, _)| (*s, *at)).collect::<Vec<_>>(),
        vec![(NumberState::Quarantined, seen), (NumberState::Resting, seen)]
    );
    assert!(late[1].2.contains("until 2025-04-04T12:00:00Z"), "{}", late[1].2);
}

/// A call from `from` that rang out unanswered.
fn unanswered(from: E164, to: E164, at: Timestamp) -> Event {
    Event::Call(Call {
        from,
        to,
        direction: Direction::Outbound,
        started_at: at,
        answered_at: None,
        ended_at: at + SignedDuration::from_secs(30),
        talk_seconds: 0,
        outcome: Outcome::NoAnswer,
        cause: Cause::default(),
        source: Source::Simulator,
        source_id: format!("{from}-{to}-{}-x", at.as_second()),
    })
}

#[test]
fn a_number_answered_far_less_than_its_pool_is_suspected_until_a_check_shows_it_clean() {
    let start = t("2025-03-04T13:00:00Z");
    let numbers: Vec<E164> = (0..5)
        .map(|i| E164::from_digits_unchecked(14_155_550_200 + i))
        .collect();
    let mut events: Vec<Event> = numbers
        .iter()
        .map(|n| register(*n, NumberState::Active, start - SignedDuration::from_hours(24 * 60)))
        .collect();
    // Sixty calls each in the afternoon: a third answered, except the last
    // number's, which nearly nobody picks up.
    for (k, n) in numbers.iter().enumerate() {
        for i in 0..60u64 {
            let at = start + SignedDuration::from_secs(i as i64 * 120 + k as i64);
            let to = person(k as u64 * 100 + i);
            let picked_up = if k == 4 { i % 20 == 0 } else { i % 3 == 0 };
            events.push(if picked_up {
                answered(*n, to, at, 90)
            } else {
                unanswered(*n, to, at)
            });
        }
    }
    let mut engine = engine(&events);
    let now = start + SignedDuration::from_hours(3);
    engine.tick(now);
    let steer = |engine: &Engine, n: E164| engine.number(n, now).unwrap().steer.unwrap();
    let odd = steer(&engine, numbers[4]);
    assert!(odd.stopped, "{odd:?}");
    assert!(
        odd.why
            .contains("suspected labeled: answered 5 % of 60 calls in 24 h against 33 % of 240"),
        "the test is stated: {}",
        odd.why
    );
    for n in &numbers[..4] {
        assert!(
            !steer(&engine, *n).why.contains("suspected"),
            "its peers are not suspected"
        );
    }
    assert!(
        engine
            .numbers(now)
            .iter()
            .any(|s| s.number == numbers[4] && s.cap_reason.as_deref().is_some_and(|r| r.contains("suspected"))),
        "the list says why it stopped"
    );

    // A handset check shows it clean: the suspicion is lifted.
    let checked = now + SignedDuration::from_mins(5);
    engine.apply(&label(numbers[4], Carrier::Verizon, None, checked));
    engine.tick(checked + SignedDuration::from_mins(30));
    let after = engine.number(numbers[4], checked).unwrap().steer.unwrap();
    assert!(!after.why.contains("suspected"), "{}", after.why);
}
