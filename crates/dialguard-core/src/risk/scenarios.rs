//! Scenario tests: whole call histories, judged the way an operations lead
//! would judge them, and the factor each one should trip, by name.

use jiff::Timestamp;

use super::testkit::{Campaign, OURS, Reaction, days, secs, t};
use super::*;
use crate::classify::{Cause, Outcome};
use crate::event::{Carrier, Event, LabelObserved};
use crate::lifecycle::NumberState;

/// A Friday evening, after the day's calling.
fn now() -> Timestamp {
    t("2026-03-20T21:30:00Z")
}

/// Today's calling window, 16:00-21:00 UTC.
fn today() -> Timestamp {
    t("2026-03-20T16:00:00Z")
}

/// A number with six weeks of careful calling behind it.
fn established(seed: u64) -> Campaign {
    let mut c = Campaign::new(seed);
    c.careful_weeks(now(), 42, 40);
    c
}

fn assess_now(c: &Campaign, labels: &Labels) -> Assessment {
    assess(&c.ledger(), labels, &RiskConfig::defaults(), OURS, now())
}

fn levels(a: &Assessment) -> Vec<(&str, Level)> {
    a.scores.iter().map(|s| (s.profile.as_str(), s.level)).collect()
}

/// The factor gave its full weight on every profile.
fn tripped_everywhere(a: &Assessment, name: FactorName) {
    for s in &a.scores {
        let f = s.factor(name);
        assert!(
            f.points > 0.0 && f.points >= f.weight - 0.05,
            "{name} on {}: {} of {} points ({f})",
            s.profile,
            f.points,
            f.weight
        );
    }
}

#[test]
fn careful_caller_stays_healthy() {
    let mut c = established(1);
    c.spread(40, today(), 5 * 3_600, Reaction::CAREFUL);
    let a = assess_now(&c, &Labels::new());
    assert_eq!(a.health, Health::Healthy, "{:#?}", a.scores);
    for s in &a.scores {
        assert!(s.value < 10.0, "{} scored {}: {:?}", s.profile, s.value, s.ranked());
    }
    assert!(a.triggers.is_empty(), "{:?}", a.triggers);
    assert_eq!(a.quarantine(), None);
}

#[test]
fn burst_dialer_trips_volume_factor() {
    let mut c = established(2);
    // 400 calls in one hour from a number used to 40 a day.
    c.spread(400, t("2026-03-20T17:00:00Z"), 3_600, Reaction::CAREFUL);
    let a = assess_now(&c, &Labels::new());
    tripped_everywhere(&a, FactorName::Volume);
    for s in &a.scores {
        assert_eq!(
            s.top_factor().map(|f| f.name),
            Some(FactorName::Volume),
            "{}",
            s.profile
        );
    }
    let top = a.top_factor.as_ref().unwrap();
    assert_eq!((top.profile.as_str(), top.factor), ("tns", FactorName::Volume));
    assert!(top.text().starts_with("400 calls in one hour"), "{}", top.text());
    assert!(top.text().contains("allowance"), "{}", top.text());
    assert_ne!(a.health, Health::Healthy);
}

#[test]
fn disconnected_list_trips_invalid_destinations_factor() {
    let mut c = established(3);
    let dead_list = Reaction {
        invalid: 0.45,
        ..Reaction::CAREFUL
    };
    c.spread(150, today(), 5 * 3_600, dead_list);
    let a = assess_now(&c, &Labels::new());
    tripped_everywhere(&a, FactorName::InvalidDestinations);
    assert_eq!(
        a.top_factor.as_ref().map(|f| f.factor),
        Some(FactorName::InvalidDestinations)
    );
    let rules: Vec<TriggerRule> = a.triggers.iter().map(|t| t.rule).collect();
    assert_eq!(rules, [TriggerRule::InvalidDestinations]);
    assert!(
        a.triggers[0].reason.contains("went to invalid or disconnected numbers"),
        "{}",
        a.triggers[0].reason
    );
}

#[test]
fn hang_up_heavy_campaign_trips_short_calls_factor() {
    let mut c = established(4);
    let hang_ups = Reaction {
        hang_up: 0.8,
        ..Reaction::CAREFUL
    };
    c.spread(120, today() - days(1), 5 * 3_600, hang_ups);
    c.spread(120, today(), 5 * 3_600, hang_ups);
    let a = assess_now(&c, &Labels::new());
    tripped_everywhere(&a, FactorName::ShortCalls);
    for s in &a.scores {
        assert_eq!(
            s.top_factor().map(|f| f.name),
            Some(FactorName::ShortCalls),
            "{}",
            s.profile
        );
    }
    let text = a.score("hiya").unwrap().factor(FactorName::ShortCalls).to_string();
    assert!(text.contains("of answered calls lasted 6 s or less"), "{text}");
    assert!(text.contains("profile concern from 15 %, strong from 20 %"), "{text}");
    let rules: Vec<TriggerRule> = a.triggers.iter().map(|t| t.rule).collect();
    assert_eq!(rules, [TriggerRule::ShortCalls], "{:?}", a.triggers);
}

#[test]
fn complained_about_number_trips_complaints_factor() {
    let mut c = established(5);
    c.spread(40, today(), 5 * 3_600, Reaction::CAREFUL);
    for h in [90, 70, 50, 30, 5] {
        c.complaint(now() - secs(h * 3_600));
    }
    let a = assess_now(&c, &Labels::new());
    tripped_everywhere(&a, FactorName::Complaints);
    let hiya = a.score("hiya").unwrap();
    assert_eq!(hiya.level, Level::AtRisk, "Hiya weighs complaints most: {}", hiya.value);
    assert_eq!(
        hiya.factor(FactorName::Complaints).to_string(),
        "5 complaints in the last 7 days; profile concern from 1, strong from 3"
    );
    assert_eq!(a.health, Health::AtRisk);
    let rules: Vec<TriggerRule> = a.triggers.iter().map(|t| t.rule).collect();
    assert_eq!(rules, [TriggerRule::Complaints]);
    let change = a.quarantine().unwrap();
    assert_eq!(change.state, NumberState::Quarantined);
    assert_eq!(
        change.reason,
        "complaints: 5 complaints in the last 7 days; limit: more than 4"
    );
}

#[test]
fn repeat_caller_is_at_risk_on_first_orion_and_healthy_on_hiya_and_tns() {
    // Collections-style: the same 40 people three times a day, brief calls.
    let mut c = established(6);
    let brief = Reaction {
        answered: 0.5,
        hang_up: 0.0,
        brief: 0.8,
        invalid: 0.0,
    };
    for day in (0..3).rev() {
        let people: Vec<_> = (0..40).map(|_| c.fresh_callee()).collect();
        for round in 0..3 {
            for (i, to) in people.iter().enumerate() {
                let at = today() - days(day) + secs(round * 6_000 + i as i64 * 120);
                c.react(*to, at, brief);
            }
        }
    }
    let a = assess_now(&c, &Labels::new());
    assert_eq!(
        levels(&a),
        [
            ("hiya", Level::Healthy),
            ("tns", Level::Healthy),
            ("first-orion", Level::AtRisk)
        ],
        "{:#?}",
        a.scores
            .iter()
            .map(|s| (s.profile.as_str(), s.value, s.ranked()))
            .collect::<Vec<_>>()
    );
    let fo = a.score("first-orion").unwrap();
    let named: Vec<FactorName> = fo.ranked().iter().map(|f| f.name).collect();
    assert_eq!(named[..2], [FactorName::RepeatCalls, FactorName::Engagement]);
    assert_eq!(a.health, Health::AtRisk, "health is the worst profile");
}

#[test]
fn a_new_number_worries_hiya_about_maturity() {
    let mut c = Campaign::new(7);
    c.spread(40, today() - days(1), 5 * 3_600, Reaction::CAREFUL);
    c.spread(40, today(), 5 * 3_600, Reaction::CAREFUL);
    let a = assess_now(&c, &Labels::new());
    let hiya = a.score("hiya").unwrap();
    assert_eq!(hiya.top_factor().map(|f| f.name), Some(FactorName::Maturity));
    assert_eq!(hiya.level, Level::Watch, "{}", hiya.value);
    assert_eq!(a.score("tns").unwrap().level, Level::Healthy);
    let text = hiya.factor(FactorName::Maturity).to_string();
    assert!(text.starts_with("2 days of calls so far"), "{text}");
    // Idle, the same new number is judged on nothing.
    let idle = assess(
        &c.ledger(),
        &Labels::new(),
        &RiskConfig::defaults(),
        OURS,
        now() + days(40),
    );
    assert_eq!(idle.score("hiya").unwrap().factor(FactorName::Maturity).points, 0.0);
}

#[test]
fn late_evening_calls_trip_off_hours_factor() {
    let mut c = established(8);
    // 02:00 UTC is 22:00 in New York and 19:00 in San Francisco: the
    // Eastern callees (two in five) are called off-hours.
    for day in 0..3 {
        c.spread(60, t("2026-03-18T02:00:00Z") + days(day), 1_800, Reaction::CAREFUL);
    }
    let a = assess_now(&c, &Labels::new());
    let f = a.score("hiya").unwrap().factor(FactorName::OffHours);
    assert!(f.points > 0.0, "{f}");
    assert!(
        f.to_string().contains("outside 08:00–21:00 in the callee's time zone"),
        "{f}"
    );
}

#[test]
fn a_local_presence_pool_trips_neighbour_pattern_only_in_a_large_pool() {
    let mut c = Campaign::new(9);
    for day in 1..30 {
        for i in 0..30 {
            let to = crate::number::E164::from_digits_unchecked(14_157_000_000 + day * 100 + i);
            c.react(to, today() - days(day as i64) + secs(i as i64 * 500), Reaction::CAREFUL);
        }
    }
    let alone = assess_now(&c, &Labels::new());
    assert_eq!(
        alone.score("tns").unwrap().factor(FactorName::NeighbourPattern).points,
        0.0
    );
    for k in 0..12 {
        let n = crate::number::E164::from_digits_unchecked(14_155_550_100 + k);
        c.register(n, "local", t("2026-01-01T00:00:00Z"));
    }
    let pooled = assess_now(&c, &Labels::new());
    let f = pooled.score("tns").unwrap().factor(FactorName::NeighbourPattern);
    assert!(f.points >= f.weight - 0.05, "{f}");
    assert!(f.to_string().contains("from a pool of 12 numbers"), "{f}");
}

#[test]
fn an_observed_label_overrides_every_score() {
    let mut c = established(10);
    c.spread(40, today(), 5 * 3_600, Reaction::CAREFUL);
    let mut labels = Labels::new();
    labels.apply(&Event::Label(LabelObserved {
        number: OURS,
        carrier: Carrier::Tmobile,
        label: Some("Scam Likely".into()),
        at: now() - secs(600),
        source: "test_call".into(),
        source_id: None,
    }));
    let a = assess_now(&c, &labels);
    assert!(a.scores.iter().all(|s| s.level == Level::Healthy));
    assert_eq!(a.health, Health::Labeled);
    assert_eq!(a.labels.len(), 1);
    assert_eq!(a.labels[0].engine, "first-orion");
    let change = a.quarantine().unwrap();
    assert_eq!(change.state, NumberState::Quarantined);
    assert!(
        change
            .reason
            .starts_with("label observed: \"Scam Likely\" on tmobile (first-orion)"),
        "{}",
        change.reason
    );
    // A clean test call later ends it.
    labels.apply(&Event::Label(LabelObserved {
        number: OURS,
        carrier: Carrier::Tmobile,
        label: None,
        at: now() - secs(60),
        source: "test_call".into(),
        source_id: None,
    }));
    assert_eq!(assess_now(&c, &labels).health, Health::Healthy);
}

#[test]
fn evidence_over_the_profile_limit_quarantines_but_poor_reception_alone_does_not() {
    let mut c = established(11);
    let awful = Reaction {
        answered: 0.15,
        hang_up: 0.6,
        brief: 0.2,
        invalid: 0.3,
    };
    c.spread(400, t("2026-03-20T17:00:00Z"), 3_600, awful);
    let score_rule = |a: &Assessment| -> Vec<String> {
        a.triggers
            .iter()
            .filter(|t| t.rule == TriggerRule::Score)
            .map(|t| t.reason.clone())
            .collect()
    };
    let a = assess_now(&c, &Labels::new());
    let values: Vec<f64> = a.scores.iter().map(|s| s.value).collect();
    assert!(
        a.scores.iter().any(|s| s.value > s.quarantine_above),
        "reception alone scores over a limit: {values:?}"
    );
    assert_eq!(
        score_rule(&a),
        Vec::<String>::new(),
        "reception and answer rate throttle the caps; they do not quarantine"
    );
    for h in [70, 50, 30, 5] {
        c.complaint(now() - secs(h * 3_600));
    }
    let a = assess_now(&c, &Labels::new());
    let over = score_rule(&a);
    assert!(
        !over.is_empty(),
        "{:?}",
        a.scores.iter().map(Score::evidence).collect::<Vec<_>>()
    );
    assert!(
        over[0].contains("is over its limit 80; top factor complaints"),
        "{}",
        over[0]
    );
    assert_eq!(a.quarantine().unwrap().state, NumberState::Quarantined);
}

#[test]
fn a_rested_number_recovers() {
    let mut c = established(12);
    let hang_ups = Reaction {
        hang_up: 0.8,
        ..Reaction::CAREFUL
    };
    c.spread(200, today(), 5 * 3_600, hang_ups);
    c.complaint(now() - secs(3_600));
    let config = RiskConfig::defaults();
    let ledger = c.ledger();
    let labels = Labels::new();
    let mut tracker = RiskTracker::new();
    let mut healths = Vec::new();
    for d in [0, 3, 10, 30, 60] {
        let a = assess(&ledger, &labels, &config, OURS, now() + days(d));
        healths.push(tracker.observe_assessment(&a, &config));
    }
    assert_ne!(healths[0], Health::Healthy);
    assert_eq!(*healths.last().unwrap(), Health::Healthy, "{healths:?}");
    assert!(healths.windows(2).all(|w| w[1] <= w[0]), "{healths:?}");
}

#[test]
fn blocked_calls_trip_blocked_calls_factor() {
    let mut c = established(13);
    c.spread(40, today(), 5 * 3_600, Reaction::CAREFUL);
    for i in 0..12 {
        let to = c.fresh_callee();
        c.call_with_cause(to, today() + secs(i * 600), Outcome::Rejected, 0, Cause::BlockedCaller);
    }
    let a = assess_now(&c, &Labels::new());
    tripped_everywhere(&a, FactorName::BlockedCalls);
    let text = a.score("hiya").unwrap().factor(FactorName::BlockedCalls).to_string();
    assert!(text.starts_with("12 calls refused as unwanted"), "{text}");
}

#[test]
fn an_assessment_reads_as_json_with_every_factor_explained() {
    let mut c = established(14);
    c.spread(40, today(), 5 * 3_600, Reaction::CAREFUL);
    c.complaint(now() - secs(3_600));
    let a = assess_now(&c, &Labels::new());
    let json = serde_json::to_value(&a).unwrap();
    assert_eq!(json["health"], "healthy");
    assert_eq!(json["number"], "+14155550100");
    let factors = json["scores"][0]["factors"].as_array().unwrap();
    assert_eq!(factors.len(), FactorName::ALL.len());
    for f in factors {
        assert!(!f["text"].as_str().unwrap().is_empty(), "{f}");
    }
    assert_eq!(factors[7]["name"], "complaints");
    assert_eq!(
        factors[7]["text"],
        "1 complaint in the last 7 days; profile concern from 1, strong from 3"
    );
    let back: Assessment = serde_json::from_value(json.clone()).unwrap();
    assert_eq!(serde_json::to_value(&back).unwrap(), json, "reports read back");
}
