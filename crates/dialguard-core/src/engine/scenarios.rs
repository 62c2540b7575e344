//! A number's life, day by day: label, quarantine, rest, limited, moderate,
//! back to active; and the ways a plan goes wrong.

use jiff::{SignedDuration, Timestamp};

use super::tests::{A, B, answered, label, person, register, request, t};
use super::*;
use crate::event::{Carrier, Complaint};
use crate::lifecycle::{Phase, PlanOutcome, SetbackKind};

fn day(n: i64) -> SignedDuration {
    SignedDuration::from_hours(24 * n)
}

/// Drives one number (the pool's only one) a day at a time from the
/// quarantine at `start`, placing the day's calls at 15:00 UTC (10:00 or
/// 11:00 in New York, where the people called live).
struct Life {
    engine: Engine,
    start: Timestamp,
    next_person: u64,
    /// Every event, derived ones included, as the log would hold them.
    log: Vec<Event>,
}

/// What one day allowed.
#[derive(Debug, PartialEq, Eq)]
struct DayResult {
    state: NumberState,
    /// Calls to people the dialer does not vouch for.
    new_contacts: u32,
    /// Calls to known contacts, after the new ones were tried.
    known_contacts: u32,
}

impl Life {
    fn new(mut engine: Engine, quarantine_label_at: Timestamp) -> Life {
        let mut log = vec![
            register(A, NumberState::Active, quarantine_label_at - day(200)),
            label(A, Carrier::Att, Some("Spam Likely"), quarantine_label_at),
        ];
        for e in &log {
            engine.apply(e);
        }
        let derived = engine.tick(quarantine_label_at);
        log.extend(derived);
        Life {
            engine,
            start: quarantine_label_at,
            next_person: 0,
            log,
        }
    }

    fn apply(&mut self, event: Event) {
        self.engine.apply(&event);
        self.log.push(event);
    }

    fn tick(&mut self, now: Timestamp) {
        let derived = self.engine.tick(now);
        self.log.extend(derived);
    }

    /// Ticks to day `d` at 15:00, then places as many calls as the guard
    /// allows in the next hour: first to people never called before (not
    /// vouched for), then to known contacts. Every call is answered and
    /// lasts 2.5 minutes.
    fn live_day(&mut self, d: i64) -> DayResult {
        let now = self.start + day(d);
        self.tick(now);
        let state = self.engine.lifecycle().state(A).unwrap();
        let mut counts = [0u32; 2];
        for (slot, known) in [(0, false), (1, true)] {
            for minute in 0..30 {
                let at = now + SignedDuration::from_mins(minute + 30 * slot as i64);
                self.next_person += 1;
                let to = person(self.next_person);
                if let Decision::Allow { caller_id } = self.engine.decide(&request(to, known), at) {
                    assert_eq!(caller_id, A);
                    counts[slot] += 1;
                    self.apply(answered(A, to, at, 150));
                }
            }
        }
        DayResult {
            state,
            new_contacts: counts[0],
            known_contacts: counts[1],
        }
    }

    fn plan(&self) -> PlanView {
        let now = self.log.last().map_or(self.start, Event::at);
        self.engine
            .number(A, now)
            .unwrap()
            .plans
            .last()
            .cloned()
            .expect("a plan")
    }
}

fn quiet_engine() -> Engine {
    Engine::new(EngineConfig::default()).unwrap()
}

#[test]
fn a_labeled_number_rests_recovers_in_phases_and_returns_to_active() {
    let start = t("2025-01-06T15:00:00Z");
    let mut life = Life::new(quiet_engine(), start);
    assert_eq!(life.engine.lifecycle().state(A), Some(NumberState::Resting));
    // A clean test call on day 20: the dispute worked, the label is gone.
    life.apply(label(A, Carrier::Att, None, start + day(20)));
    for d in 1..=120 {
        let got = life.live_day(d);
        let total = got.new_contacts + got.known_contacts;
        // The caps are over any 24 hours, so yesterday's calls can push some
        // of today's to known contacts later in the day: the day's total is
        // what the phase caps.
        match d {
            1..30 => assert_eq!((got.state, total), (NumberState::Resting, 0), "day {d}"),
            30..60 => assert_eq!(
                (got.state, got.new_contacts, got.known_contacts),
                (NumberState::RehabLimited, 0, 10),
                "day {d}: known contacts only"
            ),
            60..90 => {
                assert_eq!((got.state, total), (NumberState::RehabModerate, 20), "day {d}");
                assert!(got.new_contacts >= 10, "day {d}: new contacts allowed: {got:?}");
            }
            // Back to active: the allowance, not a phase, caps the day.
            _ => {
                assert_eq!(got.state, NumberState::Active, "day {d}");
                assert!(got.new_contacts > 20, "day {d}: {got:?}");
            }
        }
    }
    let view = life.plan();
    let plan = &view.plan;
    assert_eq!(plan.outcome, Some(PlanOutcome::Completed));
    assert_eq!(plan.ended_at, Some(start + day(90)));
    assert!(plan.setbacks.is_empty(), "{:?}", plan.setbacks);
    let phases: Vec<(Phase, u32, u32, bool)> = view
        .phases
        .iter()
        .map(|p| (p.phase, p.days, p.max_calls_in_a_day, p.met))
        .collect();
    assert_eq!(
        phases,
        vec![
            (Phase::Rest, 30, 0, true),
            (Phase::Limited, 30, 10, true),
            (Phase::Moderate, 30, 20, true)
        ]
    );
    let limited = &view.phases[1];
    assert_eq!((limited.calls, limited.answered, limited.long_calls), (300, 300, 300));
    assert_eq!(limited.long_call_share, Some(1.0));
    // The reasons tell the story in order.
    let reasons: Vec<(NumberState, String)> = life
        .engine
        .number(A, start + day(121))
        .unwrap()
        .history
        .into_iter()
        .map(|c| (c.state, c.reason))
        .collect();
    let states: Vec<NumberState> = reasons.iter().map(|(s, _)| *s).collect();
    assert_eq!(
        states,
        vec![
            NumberState::Quarantined,
            NumberState::Resting,
            NumberState::RehabLimited,
            NumberState::RehabModerate,
            NumberState::Active
        ]
    );
    assert!(reasons[0].1.contains("Spam Likely"), "{}", reasons[0].1);
    assert!(reasons[4].1.contains("plan #1 completed"), "{}", reasons[4].1);
    // Restart is replay: the log, derived events included, rebuilds the
    // same plan, and moving time again decides nothing new.
    let mut replayed = quiet_engine();
    for e in &life.log {
        replayed.apply(e);
    }
    let end = start + day(120) + SignedDuration::from_hours(2);
    assert!(replayed.tick(end).iter().all(|e| !matches!(e, Event::StateChanged(_))));
    assert_eq!(replayed.lifecycle().record(A), life.engine.lifecycle().record(A));
}

#[test]
fn a_recovering_number_keeps_its_phase_caps_when_labels_elsewhere_squeeze_the_pool() {
    let start = t("2025-01-06T15:00:00Z");
    let mut life = Life::new(quiet_engine(), start);
    for d in 1..30 {
        life.live_day(d);
    }
    // Day 30, before A's calls: five other numbers call a little, and each
    // is labeled. Every cap in the pool is squeezed and the lines learn
    // that a few calls can draw a label.
    let at = start + day(30) - SignedDuration::from_hours(3);
    for i in 0..5u64 {
        let other = E164::from_digits_unchecked(14_155_550_201 + i);
        life.apply(register(other, NumberState::Active, start - day(200)));
        for k in 0..10 {
            let to = person(90_000 + 100 * i + k);
            life.apply(answered(other, to, at + SignedDuration::from_mins(k as i64), 20));
        }
        life.apply(label(
            other,
            Carrier::Verizon,
            Some("Spam Potential"),
            at + SignedDuration::from_mins(30),
        ));
    }
    let day30 = start + day(30);
    assert!(
        life.engine.controller().squeeze(day30) < 0.5,
        "the labels squeezed the pool"
    );
    let got = life.live_day(30);
    assert_eq!(
        (got.state, got.new_contacts, got.known_contacts),
        (NumberState::RehabLimited, 0, 10),
        "the limited phase keeps its 10 a day"
    );
    let why = life.engine.number(A, day30).unwrap().steer.unwrap().why;
    assert!(why.contains("rehab_limited phase"), "{why}");
}

#[test]
fn a_label_on_a_recovering_number_teaches_the_lines_nothing() {
    let start = t("2025-01-06T15:00:00Z");
    let mut life = Life::new(quiet_engine(), start);
    for d in 1..=35 {
        life.live_day(d);
    }
    assert_eq!(life.engine.lifecycle().state(A), Some(NumberState::RehabLimited));
    // Its ten calls a day are no line: the engine remembers what came before.
    let at = start + day(36) - SignedDuration::from_hours(2);
    life.apply(label(A, Carrier::Tmobile, Some("Scam Likely"), at));
    life.tick(at + SignedDuration::from_mins(1));
    let control = life.engine.controller();
    for metric in crate::control::Metric::ALL {
        assert_eq!(control.line(Carrier::Tmobile, metric).labels, 0, "{metric:?}");
    }
    assert_eq!(control.squeeze(at), 1.0);
    assert_eq!(life.engine.lifecycle().state(A), Some(NumberState::Resting));
}

#[test]
fn a_label_during_the_limited_phase_restarts_the_rest() {
    let start = t("2025-01-06T15:00:00Z");
    let mut life = Life::new(quiet_engine(), start);
    life.apply(label(A, Carrier::Att, None, start + day(20)));
    for d in 1..=35 {
        life.live_day(d);
    }
    assert_eq!(life.engine.lifecycle().state(A), Some(NumberState::RehabLimited));
    // Day 36: T-Mobile's handsets show a label again.
    life.apply(label(
        A,
        Carrier::Tmobile,
        Some("Scam Likely"),
        start + day(36) - SignedDuration::from_hours(2),
    ));
    let got = life.live_day(36);
    assert_eq!(
        (got.state, got.new_contacts, got.known_contacts),
        (NumberState::Resting, 0, 0)
    );
    life.apply(label(A, Carrier::Tmobile, None, start + day(50)));
    for d in 37..66 {
        let got = life.live_day(d);
        assert_eq!((got.state, got.known_contacts), (NumberState::Resting, 0), "day {d}");
    }
    // Thirty days after the restart, calls resume at the limited caps.
    let got = life.live_day(66);
    assert_eq!(
        (got.state, got.new_contacts, got.known_contacts),
        (NumberState::RehabLimited, 0, 10)
    );
    let view = life.plan();
    assert!(view.plan.is_open());
    assert_eq!(view.plan.setbacks.len(), 1);
    assert_eq!(view.plan.setbacks[0].kind, SetbackKind::RestRestarted);
    assert!(view.plan.setbacks[0].reason.contains("Scam Likely"));
    let phases: Vec<Phase> = view.phases.iter().map(|p| p.phase).collect();
    assert_eq!(phases, vec![Phase::Rest, Phase::Limited, Phase::Rest, Phase::Limited]);
    // Day 1 of the new attempt was day 36 of the plan.
    assert_eq!(view.day, Some(31));
    assert_eq!(view.plan.ordinal, 1, "a restart is the same plan, not a new one");
}

#[test]
fn a_rest_ends_by_the_calendar_when_nobody_checks_the_label() {
    let start = t("2025-01-06T15:00:00Z");
    let mut life = Life::new(quiet_engine(), start);
    for d in 1..=35 {
        let got = life.live_day(d);
        let want = if d < 30 {
            NumberState::Resting
        } else {
            NumberState::RehabLimited
        };
        assert_eq!(
            got.state,
            want,
            "day {d}: no observation since the label that started the rest; {:?}",
            life.plan().plan.setbacks
        );
    }
    assert!(life.plan().plan.setbacks.is_empty(), "{:?}", life.plan().plan.setbacks);
}

#[test]
fn a_label_still_showing_when_rest_ends_starts_the_rest_again() {
    let start = t("2025-01-06T15:00:00Z");
    let mut life = Life::new(quiet_engine(), start);
    // A test call during the rest still finds the label.
    life.apply(label(A, Carrier::Att, Some("Spam Likely"), start + day(25)));
    for d in 1..=31 {
        let got = life.live_day(d);
        assert_eq!(got.state, NumberState::Resting, "day {d}");
    }
    let view = life.plan();
    assert_eq!(view.plan.setbacks.len(), 1);
    assert!(
        view.plan.setbacks[0].reason.contains("still labeled on att"),
        "{}",
        view.plan.setbacks[0].reason
    );
    assert_eq!(view.next.unwrap().at, start + day(60));
}

#[test]
fn a_failed_review_extends_the_plan_and_a_second_recommends_replacement() {
    // With labels not quarantining on their own, a label seen during the
    // moderate phase is left to the review.
    let mut config = EngineConfig::default();
    config.risk.quarantine.on_label = false;
    let start = t("2025-01-06T15:00:00Z");
    let mut engine = Engine::new(config).unwrap();
    let log = [
        register(A, NumberState::Active, start - day(200)),
        Event::StateChanged(StateChanged {
            number: A,
            state: NumberState::Quarantined,
            at: start,
            reason: "operator: labeled on a customer's phone".into(),
        }),
    ];
    for e in &log {
        engine.apply(e);
    }
    let mut life = Life {
        engine,
        start,
        next_person: 0,
        log: log.to_vec(),
    };
    for d in 1..=70 {
        life.live_day(d);
    }
    life.apply(label(
        A,
        Carrier::Verizon,
        Some("Spam Likely"),
        start + day(70) + SignedDuration::from_hours(2),
    ));
    for d in 71..=90 {
        life.live_day(d);
    }
    let view = life.plan();
    assert_eq!(life.engine.lifecycle().state(A), Some(NumberState::RehabModerate));
    assert_eq!(view.plan.setbacks.len(), 1);
    assert_eq!(view.plan.setbacks[0].kind, SetbackKind::ReviewFailed);
    assert!(
        view.plan.setbacks[0].reason.contains("verizon"),
        "{}",
        view.plan.setbacks[0].reason
    );
    assert_eq!(view.next.unwrap().at, start + day(120));
    assert!(!view.retirement_recommended);
    // Still moderate caps during the extension.
    let got = life.live_day(100);
    assert_eq!(
        (got.state, got.new_contacts + got.known_contacts),
        (NumberState::RehabModerate, 20)
    );
    let got = life.live_day(120);
    assert_eq!(got.state, NumberState::RehabModerate);
    let view = life.plan();
    assert_eq!(view.plan.setbacks.len(), 2);
    assert!(view.retirement_recommended);
    assert!(
        view.plan.setbacks[1].reason.contains("retire the number"),
        "{}",
        view.plan.setbacks[1].reason
    );
    assert_eq!(view.next.unwrap().at, start + day(150));
}

#[test]
fn an_operator_moves_a_number_by_hand_and_the_move_is_checked() {
    let now = t("2025-03-04T15:00:00Z");
    let mut engine = super::tests::engine(&[register(A, NumberState::Active, now - day(1))]);
    let event = engine
        .set_state(A, NumberState::Resting, now, "carrier complaint by phone")
        .unwrap();
    let Event::StateChanged(change) = &event else {
        panic!("{event:?}")
    };
    assert_eq!(change.reason, "operator: carrier complaint by phone");
    assert_eq!(engine.lifecycle().state(A), Some(NumberState::Resting));
    assert!(
        engine.lifecycle().record(A).unwrap().open_plan().is_some(),
        "resting by hand opens a plan"
    );
    assert_eq!(engine.decide(&request(person(1), true), now).caller_id(), None);
    let cases: [(E164, NumberState, Timestamp, &str, &str); 6] = [
        (B, NumberState::Active, now, "why", "not a registered number"),
        (A, NumberState::Resting, now, "why", "already resting"),
        (A, NumberState::Active, now, "  ", "needs a reason"),
        (A, NumberState::Active, now - day(1), "why", "before it"),
        (
            A,
            NumberState::RehabModerate,
            now,
            "why",
            "cannot go from resting to rehab_moderate by hand",
        ),
        (
            A,
            NumberState::Watch,
            now,
            "why",
            "may move it to rehab_limited, active, retired",
        ),
    ];
    for (number, state, at, reason, says) in cases {
        let err = engine.set_state(number, state, at, reason).unwrap_err().to_string();
        assert!(err.contains(says), "{number} → {state:?}: {err}");
    }
    // Back to active by hand ends the plan unfinished.
    engine
        .set_state(A, NumberState::Active, now + day(3), "label confirmed gone")
        .unwrap();
    let plan = &engine.lifecycle().record(A).unwrap().plans[0];
    assert_eq!(
        plan.outcome,
        Some(PlanOutcome::Ended {
            state: NumberState::Active
        })
    );
    assert_eq!(
        engine.decide(&request(person(1), false), now + day(3)).caller_id(),
        Some(A)
    );
}

#[test]
fn a_number_registered_labeled_or_complained_about_is_burned_on_arrival() {
    let now = t("2025-03-04T15:00:00Z");
    let complaint = Event::Complaint(Complaint {
        number: B,
        at: now - day(40),
        source: "ftc".into(),
        source_id: "dnc-1".into(),
        consumer_area_code: None,
        consumer_state: None,
        subject: None,
        robocall: None,
    });
    let clean = E164::from_digits_unchecked(14_155_550_102);
    let old_complaint = Event::Complaint(Complaint {
        number: clean,
        at: now - day(120),
        source: "ftc".into(),
        source_id: "dnc-2".into(),
        consumer_area_code: None,
        consumer_state: None,
        subject: None,
        robocall: None,
    });
    let mut engine = super::tests::engine(&[
        label(A, Carrier::Verizon, Some("Spam Likely"), now - day(3)),
        complaint,
        old_complaint,
        register(A, NumberState::Aging, now),
        register(B, NumberState::Aging, now),
        register(clean, NumberState::Aging, now),
    ]);
    let derived = engine.tick(now);
    let retired: Vec<(E164, String)> = derived
        .iter()
        .filter_map(|e| match e {
            Event::StateChanged(s) if s.state == NumberState::Retired => Some((s.number, s.reason.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(retired.len(), 2, "{derived:?}");
    assert!(
        retired[0].0 == A && retired[0].1.contains("already showing on verizon"),
        "{retired:?}"
    );
    assert!(
        retired[1].0 == B && retired[1].1.contains("1 complaint(s)"),
        "{retired:?}"
    );
    assert_eq!(engine.lifecycle().state(clean), Some(NumberState::Aging));
    assert!(engine.number(A, now).unwrap().burned_on_arrival.is_some());
    assert!(engine.number(clean, now).unwrap().burned_on_arrival.is_none());
    assert_eq!(engine.decide(&request(person(1), true), now).caller_id(), Some(clean));
    // An operator who decides to use it anyway is not overruled.
    engine.apply(&label(A, Carrier::Verizon, None, now + day(1)));
    engine
        .set_state(A, NumberState::Aging, now + day(1), "label disputed and gone")
        .unwrap();
    assert!(
        engine
            .tick(now + day(1))
            .iter()
            .all(|e| !matches!(e, Event::StateChanged(s) if s.number == A))
    );
}

#[test]
fn a_new_number_ramps_up_through_aging_and_becomes_active() {
    let start = t("2025-03-03T15:00:00Z");
    let mut engine = super::tests::engine(&[register(A, NumberState::Aging, start)]);
    let mut next = 0u64;
    let mut per_week = Vec::new();
    for d in 0..22 {
        let now = start + day(d);
        engine.tick(now);
        let mut allowed = (0, 0);
        // Every 2 minutes for 3 hours; the last half hour to known contacts.
        for (slot, known) in (0..90).map(|i| (i, i >= 75)) {
            next += 1;
            let at = now + SignedDuration::from_mins(2 * slot);
            if let Decision::Allow { .. } = engine.decide(&request(person(next), known), at) {
                engine.apply(&answered(A, person(next), at, 150));
                if known {
                    allowed.1 += 1;
                } else {
                    allowed.0 += 1;
                }
            }
        }
        if d % 7 == 1 {
            // Week 1: known contacts only. Then new contacts, to the week's
            // cap over the day (the rest of yesterday's 24 hours pushes some
            // to the known contacts at the end of the day).
            let state = engine.lifecycle().state(A).unwrap();
            per_week.push((state, allowed.0 > 0, allowed.0 + allowed.1));
        }
    }
    assert_eq!(
        per_week,
        vec![
            (NumberState::Aging, false, 10),
            (NumberState::Aging, true, 20),
            (NumberState::Aging, true, 40),
        ]
    );
    let state = engine.lifecycle().state(A).unwrap();
    assert_eq!(state, NumberState::Active);
    let change = engine.lifecycle().record(A).unwrap().changes.last().cloned().unwrap();
    assert_eq!(change.at, start + day(21));
    assert!(change.reason.contains("aging complete"));
}

#[test]
fn a_label_that_does_not_quarantine_puts_the_number_on_watch_until_it_clears() {
    let mut config = EngineConfig::default();
    config.risk.quarantine.on_label = false;
    let now = t("2025-03-04T15:00:00Z");
    let mut engine = Engine::new(config).unwrap();
    for e in [
        register(A, NumberState::Active, now - day(1)),
        label(A, Carrier::Att, Some("Spam Likely"), now),
    ] {
        engine.apply(&e);
    }
    let derived = engine.tick(now);
    let Some(Event::StateChanged(watch)) = derived.first() else {
        panic!("{derived:?}")
    };
    assert_eq!(watch.state, NumberState::Watch);
    assert!(watch.reason.contains("labeled"), "{}", watch.reason);
    // Still callable while watched.
    assert_eq!(engine.decide(&request(person(1), false), now).caller_id(), Some(A));
    engine.apply(&label(A, Carrier::Att, None, now + day(2)));
    let derived = engine.tick(now + day(2));
    let Some(Event::StateChanged(back)) = derived.first() else {
        panic!("{derived:?}")
    };
    assert_eq!(
        (back.state, back.reason.as_str()),
        (NumberState::Active, "score back to healthy (healthy)")
    );
}

#[test]
fn a_label_stops_the_number_at_the_next_tick_even_when_time_has_not_moved() {
    let now = t("2025-03-04T15:00:00Z");
    let mut engine = super::tests::engine(&[register(A, NumberState::Active, now - day(1))]);
    assert!(engine.tick(now).is_empty(), "a quiet number stays as it is");
    // Observed a moment later in event time: well inside the re-assessment
    // throttle, but a label is not evidence to sit on.
    engine.apply(&label(A, Carrier::Verizon, Some("Spam Likely"), now));
    let changes = engine.tick(now);
    assert!(
        changes
            .iter()
            .any(|e| matches!(e, Event::StateChanged(s) if s.number == A && s.state == NumberState::Quarantined)),
        "{changes:?}"
    );
    assert_eq!(engine.lifecycle().state(A), Some(NumberState::Resting));
    assert_eq!(engine.decide(&request(person(1), true), now).caller_id(), None);
}
