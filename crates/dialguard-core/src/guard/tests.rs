//! Scenario tests for `Guard::decide`, named after what a dialer would
//! notice, and the property test over random streams of decisions and call
//! results.

use jiff::civil::DateTime;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};

use super::*;
use crate::call::{Call, Direction, Source};
use crate::classify::{Cause, Outcome};
use crate::event::{Consent, ConsentKind, NumberRegistered, OptOut, StateChanged};

// A Tuesday: 16:00Z is 12:00 in New York, 09:00 in Los Angeles.
const NOON_NY: &str = "2025-06-03T16:00:00Z";

fn ts(text: &str) -> Timestamp {
    text.parse().unwrap()
}

/// A wall-clock time in a zone, e.g. `local("America/New_York", "2025-06-03T07:59")`.
fn local(zone: &str, civil: &str) -> Timestamp {
    let dt: DateTime = civil.parse().unwrap();
    TimeZone::get(zone).unwrap().to_timestamp(dt).unwrap()
}

fn num(text: &str) -> E164 {
    E164::parse_valid(text).unwrap()
}

fn after(t: Timestamp, seconds: i64) -> Timestamp {
    t + SignedDuration::from_secs(seconds)
}

fn register(guard: &mut Guard, number: &str, pool: &str, state: NumberState, at: Timestamp) {
    guard.apply(&Event::NumberRegistered(NumberRegistered {
        number: num(number),
        pool: pool.to_owned(),
        at,
        state,
        cnam: None,
    }));
}

/// A guard with one pool `sales` of the given numbers, registered a day
/// before [`NOON_NY`].
fn guard_with(config: GuardConfig, numbers: &[&str]) -> Guard {
    let mut guard = Guard::new(config).unwrap();
    for n in numbers {
        register(&mut guard, n, "sales", NumberState::Active, after(ts(NOON_NY), -86_400));
    }
    guard
}

fn ask(guard: &mut Guard, to: &str, at: Timestamp) -> Decision {
    guard.decide(&request(to, false), at)
}

fn request(to: &str, known_contact: bool) -> DecideRequest {
    DecideRequest {
        pool: "sales".to_owned(),
        to: num(to),
        known_contact,
    }
}

fn allow(caller_id: &str) -> Decision {
    Decision::Allow {
        caller_id: num(caller_id),
    }
}

fn deny(reason: DenyReason) -> Decision {
    Decision::Deny { reason, retry_at: None }
}

fn deny_until(reason: DenyReason, retry_at: Timestamp) -> Decision {
    Decision::Deny {
        reason,
        retry_at: Some(retry_at),
    }
}

fn call_event(from: &str, to: &str, started: Timestamp, outcome: Outcome) -> Event {
    Event::Call(Call {
        from: num(from),
        to: num(to),
        direction: Direction::Outbound,
        started_at: started,
        answered_at: None,
        ended_at: after(started, 30),
        talk_seconds: 0,
        outcome,
        cause: Cause::Unspecified,
        source: Source::Api,
        source_id: format!("{from}-{to}-{started}"),
    })
}

const CALLER: &str = "+16175550100";

// ----- the decision's wire form -----

#[test]
fn decisions_serialize_as_the_http_contract_says() {
    let allowed = serde_json::to_string(&allow("+14155550100")).unwrap();
    assert_eq!(allowed, r#"{"decision":"allow","caller_id":"+14155550100"}"#);
    let later = deny_until(DenyReason::OutsideCallingHours, ts("2025-06-04T12:00:00Z"));
    assert_eq!(
        serde_json::to_string(&later).unwrap(),
        r#"{"decision":"deny","reason":"outside_calling_hours","retry_at":"2025-06-04T12:00:00Z"}"#
    );
    assert_eq!(
        serde_json::to_string(&deny(DenyReason::Dnc)).unwrap(),
        r#"{"decision":"deny","reason":"dnc"}"#
    );
    for reason in DenyReason::ALL {
        let json = serde_json::to_string(&reason).unwrap();
        assert_eq!(json, format!("\"{}\"", reason.as_str()));
    }
    let back: Decision = serde_json::from_str(r#"{"decision":"deny","reason":"pool_exhausted"}"#).unwrap();
    assert_eq!(back, deny(DenyReason::PoolExhausted));
    let req: DecideRequest = serde_json::from_str(r#"{"pool":"sales","to":"(212) 555-0123"}"#).unwrap();
    assert_eq!(req, request("+12125550123", false));
    assert!(serde_json::from_str::<DecideRequest>(r#"{"pool":"sales","to":"555"}"#).is_err());
    assert!(serde_json::from_str::<DecideRequest>(r#"{"to":"+12125550123"}"#).is_err());
}

// ----- one test per deny reason -----

#[test]
fn an_opt_out_recorded_at_t_denies_at_t_plus_one_millisecond() {
    let t = ts(NOON_NY);
    let mut guard = guard_with(GuardConfig::default(), &[CALLER]);
    guard.apply(&Event::OptOut(OptOut {
        to: num("+12125550123"),
        at: t,
    }));
    let just_after = t + SignedDuration::from_millis(1);
    assert_eq!(ask(&mut guard, "+12125550123", just_after), deny(DenyReason::OptedOut));
    assert_eq!(ask(&mut guard, "+12125550123", t), deny(DenyReason::OptedOut));
    // The instant before it was recorded, the person could still be called.
    let before = t - SignedDuration::from_millis(1);
    assert_eq!(ask(&mut guard, "+12125550123", before), allow(CALLER));
    // An opt-out outranks a claimed relationship and a consent.
    guard.apply(&Event::Consent(Consent {
        to: num("+12125550123"),
        at: before,
        pool: None,
        kind: ConsentKind::Written,
    }));
    assert_eq!(
        guard.decide(&request("+12125550123", true), after(t, 60)),
        deny(DenyReason::OptedOut)
    );
}

#[test]
fn a_number_on_the_registry_is_denied_unless_an_exemption_applies() {
    let t = ts(NOON_NY);
    let listed = "+12125550123";
    let dnc = DncList::from_sorted([num(listed)]).unwrap();
    let mut guard = guard_with(GuardConfig::default(), &[CALLER, "+16175550101"]);
    guard.set_dnc(dnc.clone());
    assert_eq!(ask(&mut guard, listed, t), deny(DenyReason::Dnc));
    assert_eq!(ask(&mut guard, "+12125550124", t), allow(CALLER));
    // A relationship the dialer only claims is not the dated record the
    // law counts (47 CFR 64.1200(f)(5)).
    assert_eq!(guard.decide(&request(listed, true), t), deny(DenyReason::Dnc));
    // A purchase on record exempts for 18 months from its date; an inquiry
    // for 3.
    let purchased = "2024-01-10T15:00:00Z";
    guard.apply(&Event::Consent(Consent {
        to: num(listed),
        at: ts(purchased),
        pool: None,
        kind: ConsentKind::EbrPurchase,
    }));
    assert!(
        ask(&mut guard, listed, ts("2025-07-10T14:59:00Z"))
            .caller_id()
            .is_some()
    );
    assert_eq!(
        ask(&mut guard, listed, ts("2025-07-10T15:00:00Z")),
        deny(DenyReason::Dnc)
    );
    let asked = "+12125550126";
    guard.dnc_mut().insert(num(asked)).unwrap();
    guard.apply(&Event::Consent(Consent {
        to: num(asked),
        at: ts("2025-03-03T16:00:00Z"),
        pool: None,
        kind: ConsentKind::EbrInquiry,
    }));
    assert!(ask(&mut guard, asked, ts("2025-06-03T15:00:00Z")).caller_id().is_some());
    assert_eq!(
        ask(&mut guard, asked, ts("2025-06-03T16:00:00Z")),
        deny(DenyReason::Dnc)
    );
    // A consent on record (47 CFR 64.1200(c)(2)(ii)).
    let mut consented = guard_with(GuardConfig::default(), &[CALLER]);
    consented.set_dnc(dnc.clone());
    consented.apply(&Event::Consent(Consent {
        to: num(listed),
        at: t,
        pool: Some("sales".into()),
        kind: ConsentKind::Written,
    }));
    assert_eq!(ask(&mut consented, listed, t), allow(CALLER));
    // With exemptions switched off, the registry always wins.
    let strict = GuardConfig {
        dnc_exemptions: false,
        ..GuardConfig::default()
    };
    let mut strict = guard_with(strict, &[CALLER]);
    strict.set_dnc(dnc);
    assert_eq!(strict.decide(&request(listed, true), t), deny(DenyReason::Dnc));
    // A number added after the import counts at once.
    strict.dnc_mut().insert(num("+12125550125")).unwrap();
    assert_eq!(ask(&mut strict, "+12125550125", t), deny(DenyReason::Dnc));
}

#[test]
fn a_pool_that_requires_consent_calls_only_people_who_gave_it() {
    let t = ts(NOON_NY);
    let mut config = GuardConfig::default();
    config.pools.insert(
        "sales".into(),
        PoolSettings {
            requires_consent: true,
            local_presence: false,
        },
    );
    let mut guard = guard_with(config, &[CALLER, "+16175550101", "+16175550102"]);
    let to = "+12125550123";
    assert_eq!(ask(&mut guard, to, t), deny(DenyReason::NoConsent));
    // A relationship is not consent, claimed or on record.
    assert_eq!(guard.decide(&request(to, true), t), deny(DenyReason::NoConsent));
    guard.apply(&Event::Consent(Consent {
        to: num(to),
        at: t,
        pool: None,
        kind: ConsentKind::EbrPurchase,
    }));
    assert_eq!(ask(&mut guard, to, after(t, 60)), deny(DenyReason::NoConsent));
    // Consent for another pool does not count; a consent dated later does not yet.
    guard.apply(&Event::Consent(Consent {
        to: num(to),
        at: t,
        pool: Some("collections".into()),
        kind: ConsentKind::Written,
    }));
    guard.apply(&Event::Consent(Consent {
        to: num(to),
        at: after(t, 600),
        pool: Some("sales".into()),
        kind: ConsentKind::Written,
    }));
    assert_eq!(ask(&mut guard, to, after(t, 60)), deny(DenyReason::NoConsent));
    assert_eq!(ask(&mut guard, to, after(t, 600)), allow(CALLER));
    // A consent for every pool counts for this one.
    guard.apply(&Event::Consent(Consent {
        to: num("+12125550124"),
        at: t,
        pool: None,
        kind: ConsentKind::Written,
    }));
    assert_eq!(ask(&mut guard, "+12125550124", after(t, 600)), allow("+16175550101"));
    // A consent naming another pool does not make that pool exist.
    assert!(!guard.pools().any(|p| p == "collections"));
}

#[test]
fn invalid_destinations_are_denied() {
    let t = ts(NOON_NY);
    let mut guard = guard_with(GuardConfig::default(), &[CALLER]);
    let unassigned = DecideRequest {
        pool: "sales".into(),
        to: E164::from_digits_unchecked(19_995_550_100),
        known_contact: false,
    };
    assert_eq!(guard.decide(&unassigned, t), deny(DenyReason::DestinationInvalid));
    let bad_exchange = DecideRequest {
        to: E164::from_digits_unchecked(12_121_550_100),
        ..unassigned.clone()
    };
    assert_eq!(guard.decide(&bad_exchange, t), deny(DenyReason::DestinationInvalid));
    // Outside the NANP there is no calling-hours rule to apply.
    assert_eq!(
        ask(&mut guard, "+442079460958", t),
        deny(DenyReason::DestinationInvalid)
    );
}

#[test]
fn a_destination_that_came_back_invalid_is_suppressed_from_then_on() {
    let t = ts(NOON_NY);
    let mut guard = guard_with(GuardConfig::default(), &[CALLER, "+16175550101"]);
    let to = "+12125550123";
    guard.apply(&call_event("+16175550101", to, t, Outcome::InvalidDestination));
    // The record exists from the call's end, 30 s after its start.
    assert_eq!(ask(&mut guard, to, after(t, 10)), allow(CALLER));
    assert_eq!(
        ask(&mut guard, to, after(t, 3600)),
        deny(DenyReason::DestinationInvalid)
    );
    assert!(guard.is_suppressed(num(to), after(t, 30)));
    // Other outcomes do not suppress.
    guard.apply(&call_event(CALLER, "+12125550124", t, Outcome::Busy));
    assert!(!guard.is_suppressed(num("+12125550124"), after(t, 3600)));
}

#[test]
fn calling_hours_hold_at_the_boundary_minutes_in_every_zone() {
    // (zone, destination, last closed minute, first open minute, last open minute, first closed minute)
    let cases = [
        ("America/New_York", "+12125550123", "07:59", "08:00", "20:59", "21:00"),
        ("America/Chicago", "+13125550123", "07:59", "08:00", "20:59", "21:00"),
        ("America/Denver", "+13035550123", "07:59", "08:00", "20:59", "21:00"),
        ("America/Phoenix", "+16025550123", "07:59", "08:00", "20:59", "21:00"),
        (
            "America/Los_Angeles",
            "+14155550123",
            "07:59",
            "08:00",
            "20:59",
            "21:00",
        ),
        ("Pacific/Honolulu", "+18085550123", "07:59", "08:00", "20:59", "21:00"),
        (
            "America/Puerto_Rico",
            "+17875550123",
            "07:59",
            "08:00",
            "20:59",
            "21:00",
        ),
        // The states with an 8 p.m. close.
        ("America/New_York", "+13055550123", "07:59", "08:00", "19:59", "20:00"),
        ("America/Chicago", "+14055550123", "07:59", "08:00", "19:59", "20:00"),
        ("America/New_York", "+14105550123", "07:59", "08:00", "19:59", "20:00"),
    ];
    for day in ["2025-01-14", "2025-06-03"] {
        for (zone, to, closed_am, open_am, open_pm, closed_pm) in cases {
            let at = |hm: &str| local(zone, &format!("{day}T{hm}"));
            let next_morning = {
                let d: jiff::civil::Date = day.parse().unwrap();
                local(zone, &format!("{}T08:00", d.tomorrow().unwrap()))
            };
            let mut guard = guard_with(GuardConfig::default(), &[CALLER]);
            let label = format!("{zone} {to} {day}");
            assert_eq!(
                ask(&mut guard, to, at(closed_am)),
                deny_until(DenyReason::OutsideCallingHours, at(open_am)),
                "{label} {closed_am}"
            );
            assert_eq!(ask(&mut guard, to, at(open_am)), allow(CALLER), "{label} {open_am}");
            let mut guard = guard_with(GuardConfig::default(), &[CALLER]);
            assert_eq!(ask(&mut guard, to, at(open_pm)), allow(CALLER), "{label} {open_pm}");
            assert_eq!(
                ask(&mut guard, to, at(closed_pm)),
                deny_until(DenyReason::OutsideCallingHours, next_morning),
                "{label} {closed_pm}"
            );
        }
    }
}

#[test]
fn calling_hours_follow_daylight_saving_time() {
    let ny = "+12125550123";
    let mut guard = guard_with(GuardConfig::default(), &[CALLER]);
    // Spring forward (2025-03-09): the evening before closes at 21:00 EST
    // (02:00Z) and the morning opens at 08:00 EDT, 12:00Z, not 13:00Z.
    assert_eq!(
        ask(&mut guard, ny, ts("2025-03-09T02:00:00Z")),
        deny_until(DenyReason::OutsideCallingHours, ts("2025-03-09T12:00:00Z"))
    );
    assert_eq!(ask(&mut guard, ny, ts("2025-03-09T12:00:00Z")), allow(CALLER));
    // Fall back (2025-11-02): 08:00 EST is 13:00Z; 12:30Z is 07:30 local.
    assert_eq!(
        ask(&mut guard, ny, ts("2025-11-02T12:30:00Z")),
        deny_until(DenyReason::OutsideCallingHours, ts("2025-11-02T13:00:00Z"))
    );
    assert_eq!(ask(&mut guard, ny, ts("2025-11-02T13:00:00Z")), allow(CALLER));
    // The week before, the same UTC instant was already 08:30 EDT.
    assert_eq!(ask(&mut guard, ny, ts("2025-10-26T12:30:00Z")), allow(CALLER));
    // Arizona keeps standard time all year: 08:00 MST is 15:00Z both days.
    let az = "+16025550123";
    for day in ["2025-03-09", "2025-11-02"] {
        assert_eq!(
            ask(&mut guard, az, ts(&format!("{day}T14:59:00Z"))),
            deny_until(DenyReason::OutsideCallingHours, ts(&format!("{day}T15:00:00Z")))
        );
    }
}

#[test]
fn a_prefix_in_two_zones_is_called_only_when_both_are_open() {
    // 208-320 (Idaho) is in both Boise (Mountain) and Los Angeles (Pacific).
    let to = "+12083205555";
    let boise = |hm: &str| local("America/Boise", &format!("2025-06-03T{hm}"));
    let mut guard = guard_with(GuardConfig::default(), &[CALLER]);
    // 08:30 in Boise is 07:30 in Los Angeles: wait for Los Angeles' 08:00.
    assert_eq!(
        ask(&mut guard, to, boise("08:30")),
        deny_until(DenyReason::OutsideCallingHours, boise("09:00"))
    );
    assert_eq!(ask(&mut guard, to, boise("09:00")), allow(CALLER));
    // 21:00 in Boise closes it, though Los Angeles is at 20:00.
    assert_eq!(
        ask(&mut guard, to, boise("21:00")),
        deny_until(
            DenyReason::OutsideCallingHours,
            local("America/Boise", "2025-06-04T09:00")
        )
    );
    assert_eq!(ask(&mut guard, to, boise("20:59")), allow(CALLER));
}

#[test]
fn a_person_is_called_at_most_twice_a_day_and_three_times_in_the_strict_states() {
    let t = ts(NOON_NY);
    let numbers = [CALLER, "+16175550101", "+16175550102", "+16175550103", "+16175550104"];
    let mut guard = guard_with(GuardConfig::default(), &numbers);
    let ny = "+12125550123";
    assert!(ask(&mut guard, ny, t).caller_id().is_some());
    assert!(ask(&mut guard, ny, after(t, 3600)).caller_id().is_some());
    // The third call waits for the first to be a day old.
    assert_eq!(
        ask(&mut guard, ny, after(t, 7200)),
        deny_until(DenyReason::DestinationFrequency, after(t, 86_400))
    );
    // With a looser policy, the states' law still stops the fourth call.
    let loose = GuardConfig {
        destination_calls_per_day: 5,
        ..GuardConfig::default()
    };
    for (to, law_applies) in [
        ("+13055550123", true),
        ("+14055550123", true),
        ("+14105550123", true),
        ("+14155550123", false),
    ] {
        let mut guard = guard_with(loose.clone(), &numbers);
        // 09:00-11:00 Pacific is inside every window involved.
        let start = local("America/Los_Angeles", "2025-06-03T09:00");
        for i in 0..3 {
            assert!(
                ask(&mut guard, to, after(start, i * 1800)).caller_id().is_some(),
                "{to} call {i}"
            );
        }
        let fourth = ask(&mut guard, to, after(start, 2 * 3600));
        if law_applies {
            assert_eq!(fourth.reason(), Some(DenyReason::DestinationFrequency), "{to}");
        } else {
            assert!(fourth.caller_id().is_some(), "{to}");
        }
    }
}

#[test]
fn a_person_called_long_ago_is_forgotten_but_an_opt_out_consent_or_dead_number_is_not() {
    let t = ts(NOON_NY);
    let mut guard = guard_with(GuardConfig::default(), &[CALLER, "+16175550101"]);
    let (opted, consented, dead, called, today) = (
        "+12125550123",
        "+12125550124",
        "+12125550125",
        "+12125550126",
        "+12125550127",
    );
    guard.apply(&Event::OptOut(OptOut { to: num(opted), at: t }));
    guard.apply(&Event::Consent(Consent {
        to: num(consented),
        at: t,
        pool: Some("sales".into()),
        kind: ConsentKind::Written,
    }));
    guard.apply(&call_event(CALLER, dead, t, Outcome::InvalidDestination));
    guard.apply(&call_event(CALLER, called, t, Outcome::Answered));
    assert_eq!(guard.known_destinations(), 4);

    // Three days of calls to other people, enough to sweep every table.
    let others = 64 * SWEEP_EVERY as u64 + 1;
    let mut record = |i: u64, at: Timestamp| {
        let to = E164::from_digits_unchecked(13_125_550_000 + i);
        guard.apply(&Event::Call(Call {
            from: num("+16175550101"),
            to,
            direction: Direction::Outbound,
            started_at: at,
            answered_at: None,
            ended_at: after(at, 20),
            talk_seconds: 0,
            outcome: Outcome::NoAnswer,
            cause: Cause::Unspecified,
            source: Source::Api,
            source_id: i.to_string(),
        }));
    };
    let later = after(t, 3 * 86_400);
    for i in 0..others {
        record(i, later);
    }
    guard.apply(&call_event(CALLER, today, later, Outcome::Answered));
    // The three flags stay; the call three days ago is forgotten; today's
    // calls are all remembered.
    assert_eq!(guard.known_destinations() as u64, 3 + others + 1);
    let now = after(later, 600);
    assert_eq!(ask(&mut guard, opted, now), deny(DenyReason::OptedOut));
    assert!(guard.is_suppressed(num(dead), now));
    assert_eq!(ask(&mut guard, dead, now), deny(DenyReason::DestinationInvalid));
    let sales = guard.pool_of["sales"];
    let kept = guard.destinations.get(&num(consented)).expect("a consent is kept");
    assert!(kept.consented(sales, now.as_millisecond()));
    assert!(guard.destinations.get(&num(called)).is_none());
    // The forgotten person may be called as anyone never called, and the
    // one called today still counts toward the day's limit.
    assert!(ask(&mut guard, called, now).caller_id().is_some());
    assert!(ask(&mut guard, today, after(now, 60)).caller_id().is_some());
    assert_eq!(
        ask(&mut guard, today, after(now, 120)).reason(),
        Some(DenyReason::DestinationFrequency)
    );
}

#[test]
fn a_frequency_retry_lands_inside_calling_hours() {
    let loose = GuardConfig {
        destination_calls_per_day: 5,
        ..GuardConfig::default()
    };
    let numbers = [CALLER, "+16175550101", "+16175550102", "+16175550103"];
    let fl = "+13055550123";
    let at = |day: &str, hm: &str| local("America/New_York", &format!("2025-06-{day}T{hm}"));
    // Two decisions and a record of a call the dialer placed on its own: the
    // third call in 24 hours under Florida law.
    let mut guard = guard_with(loose.clone(), &numbers);
    for hm in ["19:58", "19:59"] {
        assert!(ask(&mut guard, fl, at("03", hm)).caller_id().is_some(), "{hm}");
    }
    guard.apply(&call_event("+16175550103", fl, at("03", "19:59:30"), Outcome::NoAnswer));
    assert_eq!(
        ask(&mut guard, fl, at("03", "19:59:40")),
        deny_until(DenyReason::DestinationFrequency, at("04", "19:58"))
    );
    assert_eq!(
        ask(&mut guard, fl, at("04", "12:00")),
        deny_until(DenyReason::DestinationFrequency, at("04", "19:58"))
    );
    assert!(ask(&mut guard, fl, at("04", "19:58")).caller_id().is_some());
    // Calls placed after the state's 20:00 close (against the guard's
    // advice) free the count only after the next day's close: retry is the
    // morning after.
    let mut late = guard_with(loose, &numbers);
    for (from, hm) in [(CALLER, "20:10"), ("+16175550101", "20:20"), ("+16175550102", "20:30")] {
        late.apply(&call_event(from, fl, at("03", hm), Outcome::NoAnswer));
    }
    assert_eq!(
        ask(&mut late, fl, at("04", "12:00")),
        deny_until(DenyReason::DestinationFrequency, at("05", "08:00"))
    );
}

#[test]
fn an_unknown_pool_is_named_as_such() {
    let mut guard = guard_with(GuardConfig::default(), &[CALLER]);
    let req = DecideRequest {
        pool: "salse".into(),
        to: num("+12125550123"),
        known_contact: false,
    };
    assert_eq!(guard.decide(&req, ts(NOON_NY)), deny(DenyReason::UnknownPool));
    // A pool the configuration names exists before its first number.
    let mut config = GuardConfig::default();
    config.pools.insert("collections".into(), PoolSettings::default());
    let mut guard = Guard::new(config).unwrap();
    let req = DecideRequest {
        pool: "collections".into(),
        ..req
    };
    assert_eq!(guard.decide(&req, ts(NOON_NY)), deny(DenyReason::PoolExhausted));
    // A typo is named before any rule about the person: a dialer told
    // `outside_calling_hours` or `opted_out` would retry or drop the contact
    // and never learn its pool is misspelled.
    guard.apply(&Event::OptOut(OptOut {
        to: num("+12125550123"),
        at: ts(NOON_NY),
    }));
    let typo = DecideRequest {
        pool: "nope".into(),
        ..req.clone()
    };
    assert_eq!(guard.decide(&typo, ts(NOON_NY)), deny(DenyReason::UnknownPool));
    assert_eq!(guard.decide(&req, ts(NOON_NY)), deny(DenyReason::OptedOut));
    let night = DecideRequest {
        to: num("+12125550199"),
        ..typo
    };
    assert_eq!(
        guard.decide(&night, ts("2025-06-03T06:00:00Z")),
        deny(DenyReason::UnknownPool)
    );
}

#[test]
fn an_exhausted_pool_says_when_a_number_frees_up() {
    let t = ts(NOON_NY);
    let mut guard = guard_with(GuardConfig::default(), &[CALLER]);
    assert_eq!(ask(&mut guard, "+12125550123", t), allow(CALLER));
    // Pacing: 20 s after the last call.
    assert_eq!(
        ask(&mut guard, "+12125550124", after(t, 5)),
        deny_until(DenyReason::PoolExhausted, after(t, 20))
    );
    assert_eq!(ask(&mut guard, "+12125550124", after(t, 20)), allow(CALLER));
    // Caps: two an hour, three a day.
    guard.set_caps(num(CALLER), 2, 3);
    assert_eq!(
        ask(&mut guard, "+12125550125", after(t, 40)),
        deny_until(DenyReason::PoolExhausted, after(t, 3600))
    );
    assert_eq!(ask(&mut guard, "+12125550125", after(t, 3600)), allow(CALLER));
    assert_eq!(
        ask(&mut guard, "+12125550126", after(t, 7200)),
        deny_until(DenyReason::PoolExhausted, after(t, 86_400))
    );
    // A pool whose only number is quarantined has nothing to wait for.
    guard.apply(&Event::StateChanged(StateChanged {
        number: num(CALLER),
        state: NumberState::Quarantined,
        at: after(t, 7300),
        reason: "label observed".into(),
    }));
    assert_eq!(
        ask(&mut guard, "+12125550126", after(t, 7400)),
        deny(DenyReason::PoolExhausted)
    );
}

#[test]
fn pool_exhausted_retry_lands_inside_calling_hours() {
    let mut guard = guard_with(GuardConfig::default(), &[CALLER]);
    guard.set_caps(num(CALLER), 1, 1);
    let at = |d: &str, hm: &str| local("America/New_York", &format!("2025-06-{d}T{hm}"));
    assert_eq!(ask(&mut guard, "+12125550123", at("03", "08:30")), allow(CALLER));
    // Free again 08:30 tomorrow.
    assert_eq!(
        ask(&mut guard, "+12125550124", at("03", "20:00")),
        deny_until(DenyReason::PoolExhausted, at("04", "08:30"))
    );
    let mut late = guard_with(GuardConfig::default(), &[CALLER]);
    late.set_caps(num(CALLER), 1, 1);
    assert_eq!(ask(&mut late, "+12125550123", at("03", "20:50")), allow(CALLER));
    // Free at 20:50 tomorrow; Florida closes at 20:00, so 08:00 the day after.
    assert_eq!(
        ask(&mut late, "+13055550123", at("04", "10:00")),
        deny_until(DenyReason::PoolExhausted, at("05", "08:00"))
    );
}

// ----- which number is chosen -----

#[test]
fn the_healthiest_least_used_number_is_chosen() {
    let t = ts(NOON_NY);
    let numbers = [CALLER, "+16175550101", "+16175550102"];
    let mut guard = guard_with(GuardConfig::default(), &numbers);
    guard.set_risk(num(CALLER), 40);
    guard.set_risk(num("+16175550101"), 5);
    guard.set_risk(num("+16175550102"), 5);
    // Two numbers tie on risk: one call each before either gets a second.
    let chosen: Vec<E164> = (0..4)
        .map(|i| ask(&mut guard, &format!("+1212555{:04}", 200 + i), after(t, i * 30)))
        .map(|d| d.caller_id().unwrap())
        .collect();
    assert_eq!(chosen[0..2].iter().filter(|n| **n == num("+16175550101")).count(), 1);
    assert_eq!(chosen[0..2].iter().filter(|n| **n == num("+16175550102")).count(), 1);
    assert_eq!(
        chosen[0..2],
        chosen[2..4],
        "least used first: the same alternation again"
    );
    assert!(
        !chosen.contains(&num(CALLER)),
        "the riskier number waits while others have room"
    );
    // Once the healthy ones are both paced, the riskier one is used.
    assert_eq!(ask(&mut guard, "+12125550300", after(t, 90)), allow("+16175550101"));
    assert_eq!(ask(&mut guard, "+12125550301", after(t, 90)), allow(CALLER));
}

#[test]
fn two_decisions_at_the_same_instant_never_share_a_number() {
    let t = ts(NOON_NY);
    let numbers = [CALLER, "+16175550101", "+16175550102"];
    let mut guard = guard_with(GuardConfig::default(), &numbers);
    let mut ids: Vec<E164> = (0..3)
        .map(|i| {
            ask(&mut guard, &format!("+1212555{:04}", 200 + i), t)
                .caller_id()
                .unwrap()
        })
        .collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 3);
    assert_eq!(
        ask(&mut guard, "+12125550300", t),
        deny_until(DenyReason::PoolExhausted, after(t, 20))
    );
}

#[test]
fn local_presence_prefers_area_code_then_state_but_never_the_exchange() {
    let t = ts(NOON_NY);
    let mut config = GuardConfig::default();
    config.pools.insert(
        "sales".into(),
        PoolSettings {
            requires_consent: false,
            local_presence: true,
        },
    );
    let numbers = ["+16175550100", "+15185550100", "+12125550100", "+12127770100"];
    let mut guard = guard_with(config, &numbers);
    // A risky number in the same area code is still preferred when local
    // presence is on.
    guard.set_risk(num("+12127770100"), 30);
    // 212-555-xxxx: the 212-555 number would imitate the destination's
    // exchange; the other 212 number is chosen.
    assert_eq!(ask(&mut guard, "+12125550123", t), allow("+12127770100"));
    // 212 again while 212-777 is paced: 212-555 is fine for 212-888; none
    // in 315's area code, so the New York state number (518).
    assert_eq!(ask(&mut guard, "+12128880123", t), allow("+12125550100"));
    assert_eq!(ask(&mut guard, "+13155550123", t), allow("+15185550100"));
    // Nothing local left: any number, never the destination's exchange.
    assert_eq!(
        ask(&mut guard, "+16175550123", t),
        deny_until(DenyReason::PoolExhausted, after(t, 20))
    );
    assert!(ask(&mut guard, "+14155550123", after(t, 20)).caller_id().is_some());
    // Without local presence the order is risk, then use.
    let mut plain = guard_with(GuardConfig::default(), &numbers);
    plain.set_risk(num("+12127770100"), 30);
    assert_eq!(ask(&mut plain, "+12125550123", t), allow("+16175550100"));
    // Switched on later, it applies from the next decision.
    plain.set_pool_settings(
        "sales",
        PoolSettings {
            requires_consent: false,
            local_presence: true,
        },
    );
    assert_eq!(ask(&mut plain, "+12128880123", t), allow("+12125550100"));
    assert_eq!(ask(&mut plain, "+12129990123", t), allow("+12127770100"));
}

#[test]
fn numbers_whose_state_forbids_calling_are_never_chosen() {
    let t = ts(NOON_NY);
    let mut guard = guard_with(GuardConfig::default(), &[CALLER, "+16175550101"]);
    for (i, state) in [NumberState::Quarantined, NumberState::Resting, NumberState::Retired]
        .into_iter()
        .enumerate()
    {
        guard.apply(&Event::StateChanged(StateChanged {
            number: num(CALLER),
            state,
            at: t,
            reason: "test".into(),
        }));
        let at = after(t, 60 * i as i64);
        let to = format!("+1212555{:04}", 200 + i);
        assert_eq!(ask(&mut guard, &to, at), allow("+16175550101"), "{state:?}");
        let other = format!("+1212555{:04}", 300 + i);
        assert_eq!(
            ask(&mut guard, &other, after(at, 1)).reason(),
            Some(DenyReason::PoolExhausted)
        );
        guard.apply(&call_event(
            "+16175550101",
            "+12125550199",
            after(at, 2),
            Outcome::Answered,
        ));
    }
    guard.apply(&Event::StateChanged(StateChanged {
        number: num(CALLER),
        state: NumberState::Active,
        at: after(t, 600),
        reason: "rested".into(),
    }));
    assert_eq!(ask(&mut guard, "+12125550125", after(t, 600)), allow(CALLER));
}

#[test]
fn an_aging_number_calls_known_contacts_in_week_one_and_ramps_up() {
    let t = ts(NOON_NY);
    let mut guard = Guard::new(GuardConfig::default()).unwrap();
    register(&mut guard, CALLER, "sales", NumberState::Aging, t);
    // Week one: known contacts only, so a stranger waits for week two.
    assert_eq!(
        ask(&mut guard, "+12125550123", t),
        deny_until(DenyReason::PoolExhausted, after(t, 7 * 86_400))
    );
    assert_eq!(guard.decide(&request("+12125550123", true), t), allow(CALLER));
    let usage = guard.usage(num(CALLER), t).unwrap();
    assert_eq!((usage.daily_cap, usage.known_contacts_only), (10, true));
    // Ten a day in week one.
    for i in 1..10 {
        let to = format!("+1212555{:04}", 200 + i);
        assert_eq!(
            guard.decide(&request(&to, true), after(t, i * 60)),
            allow(CALLER),
            "{i}"
        );
    }
    assert_eq!(
        guard.decide(&request("+12125550300", true), after(t, 600)),
        deny_until(DenyReason::PoolExhausted, after(t, 86_400))
    );
    // Week two: strangers too, twenty a day.
    let week_two = after(t, 7 * 86_400 + 3600);
    assert_eq!(ask(&mut guard, "+12125550123", week_two), allow(CALLER));
    assert_eq!(guard.usage(num(CALLER), week_two).unwrap().daily_cap, 20);
}

#[test]
fn rehab_limited_numbers_serve_known_contacts_first() {
    let t = ts(NOON_NY);
    let mut guard = guard_with(GuardConfig::default(), &[CALLER, "+16175550101"]);
    guard.apply(&Event::StateChanged(StateChanged {
        number: num(CALLER),
        state: NumberState::RehabLimited,
        at: t,
        reason: "day 31".into(),
    }));
    // A known contact goes to the number that needs such calls.
    assert_eq!(guard.decide(&request("+12125550123", true), t), allow(CALLER));
    // A stranger never gets it.
    assert_eq!(ask(&mut guard, "+12125550124", after(t, 30)), allow("+16175550101"));
    assert_eq!(
        ask(&mut guard, "+12125550125", after(t, 31)).reason(),
        Some(DenyReason::PoolExhausted)
    );
    let usage = guard.usage(num(CALLER), t).unwrap();
    assert_eq!((usage.daily_cap, usage.known_contacts_only), (10, true));
}

// ----- reservations and call records -----

#[test]
fn a_call_record_takes_its_reservations_place_instead_of_counting_twice() {
    let t = ts(NOON_NY);
    let mut guard = guard_with(GuardConfig::default(), &[CALLER]);
    guard.set_caps(num(CALLER), 2, 10);
    assert_eq!(ask(&mut guard, "+12125550123", t), allow(CALLER));
    guard.apply(&call_event(CALLER, "+12125550123", after(t, 2), Outcome::Answered));
    assert_eq!(guard.usage(num(CALLER), after(t, 60)).unwrap().calls_last_hour, 1);
    // The record moved the slot to its start: pacing counts from there.
    assert_eq!(
        ask(&mut guard, "+12125550124", after(t, 21)),
        deny_until(DenyReason::PoolExhausted, after(t, 22))
    );
    assert_eq!(ask(&mut guard, "+12125550124", after(t, 60)), allow(CALLER));
    guard.apply(&call_event(CALLER, "+12125550124", after(t, 61), Outcome::NoAnswer));
    assert_eq!(guard.usage(num(CALLER), after(t, 120)).unwrap().calls_last_hour, 2);
    // A call the dialer placed without asking counts too.
    let mut other = guard_with(GuardConfig::default(), &[CALLER]);
    other.set_caps(num(CALLER), 2, 10);
    other.apply(&call_event(CALLER, "+12125550150", t, Outcome::Answered));
    other.apply(&call_event(CALLER, "+12125550151", after(t, 30), Outcome::Answered));
    assert_eq!(
        ask(&mut other, "+12125550123", after(t, 60)),
        deny_until(DenyReason::PoolExhausted, after(t, 3600))
    );
    // ...and toward the person's frequency.
    other.apply(&call_event("+17185550100", "+12125550160", t, Outcome::Answered));
    other.apply(&call_event(
        "+17185550101",
        "+12125550160",
        after(t, 10),
        Outcome::Answered,
    ));
    assert_eq!(
        ask(&mut other, "+12125550160", after(t, 60)).reason(),
        Some(DenyReason::DestinationFrequency)
    );
}

#[test]
fn replaying_the_same_history_gives_the_same_answers() {
    let t = ts(NOON_NY);
    let events = vec![
        call_event(CALLER, "+12125550123", t, Outcome::Answered),
        Event::OptOut(OptOut {
            to: num("+12125550124"),
            at: t,
        }),
        call_event("+16175550101", "+12125550125", after(t, 5), Outcome::InvalidDestination),
    ];
    let answers = |events: &[Event]| {
        let mut guard = guard_with(GuardConfig::default(), &[CALLER, "+16175550101"]);
        for e in events {
            guard.apply(e);
        }
        ["+12125550123", "+12125550124", "+12125550125", "+12125550126"]
            .iter()
            .map(|to| ask(&mut guard, to, after(t, 60)))
            .collect::<Vec<_>>()
    };
    let forward = answers(&events);
    let mut reversed = events.clone();
    reversed.reverse();
    assert_eq!(forward, answers(&reversed));
    assert_eq!(forward[1], deny(DenyReason::OptedOut));
    assert_eq!(forward[2], deny(DenyReason::DestinationInvalid));
}

// ----- lint -----

#[test]
fn lint_flags_each_problem_once_and_keeps_the_clean_rows() {
    let t = ts(NOON_NY);
    let mut guard = guard_with(GuardConfig::default(), &[CALLER]);
    guard.set_dnc(DncList::from_sorted([num("+12125550130")]).unwrap());
    guard.apply(&Event::OptOut(OptOut {
        to: num("+12125550131"),
        at: t,
    }));
    guard.apply(&call_event(
        CALLER,
        "+12125550132",
        after(t, -3600),
        Outcome::InvalidDestination,
    ));
    let list = "\
name,Phone Number,city
Ann,(212) 555-0123,NYC
Bob,+1 212 555 0123,NYC
Cy,212555012,NYC
Di,,NYC
Ed,+442079460958,London
Flo,2125550130,NYC
Gus,212-555-0131,NYC
Hal,2125550132,NYC
Ida,19995550100,Nowhere
Jo,not a phone,NYC

\"Kim, K.\",\"4155550199\",SF
";
    let report = lint(list.lines(), &guard, t);
    assert_eq!(report.column, "Phone Number");
    assert_eq!(report.rows, 11);
    assert_eq!((report.clean_count, report.flagged), (2, 9));
    let reasons: Vec<(u64, &str)> = report.issues.iter().map(|i| (i.line, i.reason.as_str())).collect();
    assert_eq!(
        reasons,
        vec![
            (3, "duplicate"),
            (4, "invalid_number"),
            (5, "bad_format"),
            (6, "not_nanp"),
            (7, "dnc"),
            (8, "opted_out"),
            (9, "previously_invalid"),
            (10, "invalid_number"),
            (11, "bad_format"),
        ]
    );
    assert!(report.issues[0].detail.contains("line 2"));
    let clean: Vec<(u64, String)> = report.clean.iter().map(|c| (c.line, c.number.to_string())).collect();
    assert_eq!(clean, vec![(2, "+12125550123".into()), (13, "+14155550199".into())]);
    assert_eq!(report.clean[1].record, "\"Kim, K.\",\"4155550199\",SF");
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["by_reason"]["duplicate"], 1);
    assert_eq!(json["by_reason"]["bad_format"], 2);
    assert_eq!(json["clean"][0]["number"], "+12125550123");
}

#[test]
fn lint_reads_lists_without_a_header_from_the_first_column() {
    let guard = guard_with(GuardConfig::default(), &[CALLER]);
    let report = lint(
        ["4155550100,Ann", "4155550101,Bob", "+1 415 555 0100,Ann again"],
        &guard,
        ts(NOON_NY),
    );
    assert_eq!(report.header, None);
    assert_eq!(report.column, "column 1");
    assert_eq!((report.rows, report.clean_count), (3, 2));
    assert_eq!(report.by_reason.get(&LintReason::Duplicate), Some(&1));
    // An unknown header still takes the first column.
    let report = lint(["contact", "4155550100"], &guard, ts(NOON_NY));
    assert_eq!(
        (report.header.as_deref(), report.rows, report.clean_count),
        (Some("contact"), 1, 1)
    );
    // Other spellings of the phone column.
    for header in ["id,to", "id,MOBILE", "id,phone_number", "id,Tel"] {
        let report = lint([header, "7,4155550100"], &guard, ts(NOON_NY));
        assert_eq!(report.clean_count, 1, "{header}");
    }
    assert_eq!(lint(std::iter::empty(), &guard, ts(NOON_NY)).rows, 0);
}

// ----- the property -----

mod property {
    use super::*;
    use proptest::prelude::*;

    const POOL_NUMBERS: [&str; 2] = ["+16175550100", "+13055550100"];
    /// New York, Florida, Oklahoma, Boise/Los Angeles, Honolulu, Chicago,
    /// one on the registry, and one in the same exchange as a pool number.
    const DESTINATIONS: [&str; 8] = [
        "+12125550123",
        "+13055550123",
        "+14055550123",
        "+12083205555",
        "+18085550123",
        "+13125550123",
        "+16465550123",
        "+16175550177",
    ];
    const ON_REGISTRY: usize = 6;
    /// The limits of one run, drawn with its operations: tight enough that
    /// random traffic meets every one of them, and a per-person limit on
    /// both sides of the stricter states' 3 in 24 hours.
    #[derive(Clone, Copy, Debug)]
    struct Limits {
        pacing_ms: i64,
        hourly: usize,
        daily: usize,
        per_person: usize,
    }

    fn limits() -> impl Strategy<Value = Limits> {
        (0i64..=60, 1usize..=4, 2usize..=8, 1usize..=5).prop_map(|(pacing_s, hourly, daily, per_person)| Limits {
            pacing_ms: pacing_s * 1000,
            hourly,
            daily,
            per_person,
        })
    }

    #[derive(Clone, Debug)]
    enum Op {
        Wait(i64),
        Decide {
            to: usize,
            known: bool,
        },
        /// The call record for the latest allowed decision.
        Result {
            delay_s: i64,
            outcome: usize,
        },
        OptOut(usize),
        Consent(usize),
        State {
            number: usize,
            state: usize,
        },
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            1 => (1i64..7_200).prop_map(Op::Wait),
            3 => (1i64..600).prop_map(Op::Wait),
            // Dialers send their own `at`: decisions may arrive out of order.
            1 => (-1_800i64..0).prop_map(Op::Wait),
            6 => (0..DESTINATIONS.len(), any::<bool>()).prop_map(|(to, known)| Op::Decide { to, known }),
            4 => (0i64..5, 0..Outcome::ALL.len()).prop_map(|(delay_s, outcome)| Op::Result { delay_s, outcome }),
            1 => (0..DESTINATIONS.len()).prop_map(Op::OptOut),
            1 => (0..DESTINATIONS.len()).prop_map(Op::Consent),
            1 => (0..POOL_NUMBERS.len(), 0..4usize).prop_map(|(number, state)| Op::State { number, state }),
        ]
    }

    const STATES: [NumberState; 4] = [
        NumberState::Active,
        NumberState::Quarantined,
        NumberState::RehabLimited,
        NumberState::Watch,
    ];

    /// What the law and the limits say, computed from the history alone.
    #[derive(Default)]
    struct Oracle {
        limits: Option<Limits>,
        calls_from: [Vec<i64>; POOL_NUMBERS.len()],
        calls_to: [Vec<i64>; 8],
        opted_out: [Option<i64>; 8],
        consent: [Option<i64>; 8],
        suppressed: [Option<i64>; 8],
        state: [(NumberState, i64); POOL_NUMBERS.len()],
    }

    fn in_window(ascending: &[i64], after: i64) -> usize {
        ascending.iter().filter(|&&c| c > after).count()
    }

    fn legal_hours(to: E164, at: Timestamp) -> bool {
        let zones = hours::zones_of(to).unwrap();
        let close = match nanp::state_of(to) {
            Some("FL" | "OK" | "MD") => 20,
            _ => 21,
        };
        zones.zones().iter().all(|tz| {
            let hour = tz.to_datetime(at).hour();
            (8..close).contains(&hour)
        })
    }

    impl Oracle {
        /// Panics if an allowed call breaks a law or a limit.
        fn check_allowed(&self, to: usize, known: bool, from: usize, at: Timestamp, dnc: &DncList) {
            let t = at.as_millisecond();
            let dest = num(DESTINATIONS[to]);
            assert!(
                self.opted_out[to].is_none_or(|o| o > t),
                "called {dest} after its opt-out"
            );
            let consent = self.consent[to].is_some_and(|c| c <= t);
            assert!(!dnc.contains(dest) || known || consent, "called {dest} on the registry");
            assert!(self.suppressed[to].is_none_or(|s| s > t), "called suppressed {dest}");
            assert!(legal_hours(dest, at), "called {dest} at {at}, outside its hours");
            let limits = self.limits.expect("the run's limits");
            let limit = if matches!(nanp::state_of(dest), Some("FL" | "OK" | "MD")) {
                limits.per_person.min(3)
            } else {
                limits.per_person
            };
            assert!(
                in_window(&self.calls_to[to], t - DAY_MS) < limit,
                "called {dest} too often"
            );
            let caller = num(POOL_NUMBERS[from]);
            assert_ne!(
                caller.npa_nxx(),
                dest.npa_nxx(),
                "neighbour spoofing {caller} -> {dest}"
            );
            let (state, _) = self.state[from];
            assert!(state.may_call(), "{caller} called while {state:?}");
            let calls = &self.calls_from[from];
            assert!(
                calls.iter().all(|&c| (c - t).abs() >= limits.pacing_ms),
                "{caller} broke pacing at {at}"
            );
            let daily = if state == NumberState::RehabLimited {
                limits.daily.min(10)
            } else {
                limits.daily
            };
            assert!(
                state != NumberState::RehabLimited || known,
                "{caller} called a stranger in rehab"
            );
            assert!(
                in_window(calls, t - HOUR_MS) < limits.hourly.min(daily),
                "{caller} broke its hourly cap"
            );
            assert!(in_window(calls, t - DAY_MS) < daily, "{caller} broke its daily cap");
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

        #[test]
        fn no_number_exceeds_its_limits_and_no_unlawful_call_is_allowed(
            limits in limits(),
            ops in proptest::collection::vec(op(), 1..160),
        ) {
            let config = GuardConfig {
                pacing_seconds: (limits.pacing_ms / 1000) as u32,
                hourly_cap: limits.hourly as u32,
                daily_cap: limits.daily as u32,
                destination_calls_per_day: limits.per_person as u32,
                ..GuardConfig::default()
            };
            let start = ts("2025-03-08T13:00:00Z"); // the day before DST begins
            let mut guard = Guard::new(config).unwrap();
            let dnc = DncList::from_sorted([num(DESTINATIONS[ON_REGISTRY])]).unwrap();
            guard.set_dnc(dnc.clone());
            let mut oracle = Oracle {
                limits: Some(limits),
                ..Oracle::default()
            };
            for (i, n) in POOL_NUMBERS.iter().enumerate() {
                register(&mut guard, n, "sales", NumberState::Active, start);
                oracle.state[i] = (NumberState::Active, start.as_millisecond());
            }
            let mut now = start;
            let mut last_allowed: Option<(usize, usize, Timestamp)> = None;
            for op in ops {
                match op {
                    Op::Wait(s) => now = after(now, s),
                    Op::Decide { to, known } => {
                        let req = DecideRequest { pool: "sales".into(), to: num(DESTINATIONS[to]), known_contact: known };
                        match guard.decide(&req, now) {
                            Decision::Allow { caller_id } => {
                                let from = POOL_NUMBERS.iter().position(|n| num(n) == caller_id).unwrap();
                                oracle.check_allowed(to, known, from, now, &dnc);
                                oracle.calls_from[from].push(now.as_millisecond());
                                oracle.calls_to[to].push(now.as_millisecond());
                                last_allowed = Some((from, to, now));
                            }
                            Decision::Deny { reason, retry_at } => {
                                if reason == DenyReason::PoolExhausted {
                                    // An answer from the remembered scan is the one a fresh
                                    // scan gives.
                                    guard.forget_exhausted_scans();
                                    prop_assert_eq!(
                                        guard.decide(&req, now),
                                        Decision::Deny { reason, retry_at },
                                        "remembered and fresh scans disagree"
                                    );
                                }
                                if let Some(retry) = retry_at {
                                    prop_assert!(retry > now, "{reason:?} retry {retry} not after {now}");
                                    prop_assert!(guard.calling_hours().is_open(req.to, retry), "{reason:?} retry {retry} outside hours");
                                }
                                if reason == DenyReason::OutsideCallingHours {
                                    let retry = retry_at.unwrap();
                                    prop_assert!(!legal_hours(req.to, now));
                                    // The instant before the retry is still closed: it is the next legal instant.
                                    prop_assert!(!guard.calling_hours().is_open(req.to, retry - SignedDuration::from_secs(1)));
                                }
                            }
                        }
                    }
                    Op::Result { delay_s, outcome } => {
                        if let Some((from, to, at)) = last_allowed.take() {
                            let outcome = Outcome::ALL[outcome];
                            let started = after(at, delay_s);
                            let event = call_event(POOL_NUMBERS[from], DESTINATIONS[to], started, outcome);
                            if outcome == Outcome::InvalidDestination {
                                let ended = event.at().as_millisecond();
                                oracle.suppressed[to] = Some(oracle.suppressed[to].map_or(ended, |s| s.min(ended)));
                            }
                            guard.apply(&event);
                            // The record takes its reservation's place: the call the
                            // carrier saw is the one placed, seconds after the decision.
                            let (reserved, placed) = (at.as_millisecond(), started.as_millisecond());
                            for calls in [&mut oracle.calls_from[from], &mut oracle.calls_to[to]] {
                                if let Some(i) = calls.iter().rposition(|&c| c == reserved) {
                                    calls[i] = placed;
                                }
                            }
                        }
                    }
                    Op::OptOut(to) => {
                        guard.apply(&Event::OptOut(OptOut { to: num(DESTINATIONS[to]), at: now }));
                        let t = now.as_millisecond();
                        oracle.opted_out[to] = Some(oracle.opted_out[to].map_or(t, |o| o.min(t)));
                    }
                    Op::Consent(to) => {
                        guard.apply(&Event::Consent(Consent { to: num(DESTINATIONS[to]), at: now, pool: None, kind: ConsentKind::Written }));
                        let t = now.as_millisecond();
                        oracle.consent[to] = Some(oracle.consent[to].map_or(t, |c| c.min(t)));
                    }
                    Op::State { number, state } => {
                        let state = STATES[state];
                        guard.apply(&Event::StateChanged(StateChanged {
                            number: num(POOL_NUMBERS[number]),
                            state,
                            at: now,
                            reason: "property".into(),
                        }));
                        oracle.state[number] = (state, now.as_millisecond());
                    }
                }
            }
        }
    }
}
