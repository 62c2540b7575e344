//! The controller against the rules a user would notice.

use jiff::Timestamp;

use super::*;

fn t(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn controller() -> Controller {
    let config = ControlConfig {
        enabled: true,
        ..ControlConfig::default()
    };
    Controller::new(config, &RiskConfig::defaults())
}

/// A controller in which every number is a scout every week.
fn every_number_scouts() -> Controller {
    let config = ControlConfig {
        enabled: true,
        scout_every: 1,
        ..ControlConfig::default()
    };
    Controller::new(config, &RiskConfig::defaults())
}

/// Figures with these values; every call strains the number (no engaged
/// conversations) unless the test says otherwise.
fn figures(pairs: &[(Metric, f64)]) -> Figures {
    let mut f = Figures::default();
    for (m, x) in pairs {
        f.set(*m, Some(*x));
    }
    f.strain = f.get(Metric::CallsPerDay);
    f.strain_share = f.strain.map(|_| 1.0);
    f
}

/// Figures of a number calling `per_day` a day of which `engaged` share
/// were engaged conversations.
fn mixed(per_day: f64, engaged: f64) -> Figures {
    let mut f = figures(&[(Metric::Calls24h, per_day), (Metric::CallsPerDay, per_day)]);
    f.strain = Some(per_day * (1.0 - engaged));
    f.strain_share = Some(1.0 - engaged);
    f
}

fn prove(c: &mut Controller, at: Timestamp, f: &Figures) {
    for carrier in Carrier::ALL {
        for _ in 0..20 {
            c.clean(carrier, at, f);
        }
    }
    c.refresh();
}

#[test]
fn a_volume_proven_on_friendlier_traffic_gives_a_colder_list_fewer_calls() {
    let mut c = controller();
    let day = t("2026-01-05T12:00:00Z");
    // 60 calls a day, half of them engaged conversations, were clean: a
    // strain of 30.
    prove(&mut c, day, &mixed(60.0, 0.5));
    let later = day + jiff::SignedDuration::from_hours(20);
    let non_scout = (0..200u64)
        .map(|i| E164::parse_valid(&format!("+1415555{:04}", 100 + i)).unwrap())
        .find(|n| !c.is_scout(*n, later))
        .unwrap();
    let same = c.steer(non_scout, &mixed(60.0, 0.5), later, 30, 400);
    let cold = c.steer(non_scout, &mixed(60.0, 0.1), later, 30, 400);
    assert_eq!(same.daily, 61, "the same mix keeps the proven volume: {}", same.why);
    assert!(
        cold.daily <= 35,
        "a list that engages a tenth as often carries 30 strain in about 33 calls: {}",
        cold.why
    );
    assert!(cold.why.contains("strain of 30"), "{}", cold.why);
}

#[test]
fn after_a_label_scouts_probe_halfway_between_proven_and_labeled() {
    let mut c = every_number_scouts();
    let day = t("2026-01-05T12:00:00Z");
    prove(&mut c, day, &mixed(40.0, 0.0));
    let next = day + jiff::SignedDuration::from_hours(20);
    let open = c.steer(number(), &mixed(40.0, 0.0), next, 30, 400).daily;
    assert_eq!(open, 57, "40 proven, a scout probes 40 % above it");
    // A label at a strain of 48 (its volume figures left out, so neither
    // the lines nor the squeeze move: only the probing is under test).
    let mut labeled = Figures::default();
    labeled.strain = Some(48.0);
    labeled.strain_share = Some(1.0);
    c.label(number(), Carrier::Verizon, next, &labeled, 20);
    c.refresh();
    let after = c.steer(number(), &mixed(40.0, 0.0), next, 30, 400);
    assert_eq!(after.daily, 45, "halfway from 40 to 48, and one call: {}", after.why);
    // Three proof periods later the label no longer bounds the probe.
    let month = next + jiff::SignedDuration::from_hours(24 * 22);
    prove(&mut c, month, &mixed(40.0, 0.0));
    assert_eq!(c.steer(number(), &mixed(40.0, 0.0), month, 30, 400).daily, 57);
}

fn number() -> E164 {
    E164::parse_valid("+14155550100").unwrap()
}

#[test]
fn clean_days_at_full_use_let_the_cap_probe_upward_in_steps() {
    // Every number scouts, so this one probes every week.
    let mut c = every_number_scouts();
    let step = c.config().probe_step;
    let day0 = t("2026-01-05T12:00:00Z");
    let mut cap = c
        .steer(number(), &figures(&[(Metric::Calls24h, 0.0)]), day0, 30, 400)
        .daily;
    let first = cap;
    for day in 1..=10i64 {
        let at = day0 + jiff::SignedDuration::from_hours(24 * day);
        let used = f64::from(cap);
        let f = figures(&[(Metric::Calls24h, used), (Metric::CallsPerDay, used)]);
        for carrier in Carrier::ALL {
            for _ in 0..20 {
                c.clean(carrier, at, &f);
            }
        }
        c.refresh();
        let next = c.steer(
            number(),
            &figures(&[(Metric::Calls24h, 0.0), (Metric::CallsPerDay, used)]),
            at,
            30,
            400,
        );
        assert!(
            f64::from(next.daily) <= used * (1.0 + step) + 2.0,
            "day {day}: {used} -> {} is a small step ({})",
            next.daily,
            next.why
        );
        cap = next.daily;
    }
    assert!(cap > first + 20, "ten clean days moved the cap from {first} to {cap}");
}

#[test]
fn a_label_cuts_every_numbers_cap_below_the_volume_it_happened_at() {
    let mut c = controller();
    let day = t("2026-01-05T12:00:00Z");
    let busy = figures(&[(Metric::Calls24h, 60.0), (Metric::CallsPerDay, 60.0)]);
    for carrier in Carrier::ALL {
        for _ in 0..30 {
            c.clean(carrier, day, &busy);
        }
    }
    c.refresh();
    let quiet = figures(&[(Metric::Calls24h, 0.0), (Metric::CallsPerDay, 60.0)]);
    let before = c.steer(number(), &quiet, day, 30, 400);
    let hot = figures(&[(Metric::Calls24h, 95.0), (Metric::CallsPerDay, 90.0)]);
    for _ in 0..3 {
        c.label(number(), Carrier::Verizon, day, &hot, 20);
    }
    c.refresh();
    let after = c.steer(number(), &quiet, day, 30, 400);
    assert!(after.daily < before.daily, "{} -> {}", before.why, after.why);
    assert!(after.daily < 90, "{}", after.why);
    assert_eq!(after.carrier, Some(Carrier::Verizon), "{}", after.why);
    assert!(after.why.contains("verizon labeled +14155550100"), "{}", after.why);
    assert!(
        after.why.contains("on 01-05 UTC at"),
        "a date in words says its zone: {}",
        after.why
    );
}

#[test]
fn a_number_is_stopped_within_the_day_when_its_dead_destinations_near_the_learned_line() {
    let mut c = controller();
    let day = t("2026-01-05T12:00:00Z");
    // Clean days at 5 % dead destinations, labels at 15 %.
    for i in 0..40 {
        let f = figures(&[
            (Metric::Calls24h, 40.0),
            (Metric::InvalidShare, 0.03 + 0.001 * f64::from(i % 5)),
        ]);
        c.clean(Carrier::Att, day, &f);
    }
    for _ in 0..4 {
        let f = figures(&[(Metric::Calls24h, 40.0), (Metric::InvalidShare, 0.15)]);
        c.label(number(), Carrier::Att, day, &f, 20);
    }
    c.refresh();
    let calm = figures(&[(Metric::Calls24h, 30.0), (Metric::InvalidShare, 0.033)]);
    assert!(!c.steer(number(), &calm, day, 30, 400).stopped);
    // Four dead destinations in thirty calls.
    let dead = figures(&[(Metric::Calls24h, 30.0), (Metric::InvalidShare, 4.0 / 30.0)]);
    let s = c.steer(number(), &dead, day, 30, 400);
    assert!(s.stopped, "{}", s.why);
    assert_eq!(s.daily, 30, "no call beyond the ones already placed");
    assert_eq!(s.metric, Some(Metric::InvalidShare));
    assert!(s.why.contains("dead destinations"), "{}", s.why);
}

#[test]
fn every_cap_explains_itself() {
    let mut c = controller();
    let day = t("2026-01-05T12:00:00Z");
    let cases = [
        figures(&[(Metric::Calls24h, 0.0)]),
        figures(&[(Metric::Calls24h, 80.0), (Metric::CallsPerDay, 200.0)]),
        figures(&[(Metric::Calls24h, 10.0), (Metric::Complaints7d, 9.0)]),
    ];
    c.label(
        number(),
        Carrier::Tmobile,
        day,
        &figures(&[(Metric::Complaints7d, 4.0)]),
        20,
    );
    c.refresh();
    for f in &cases {
        let s = c.steer(number(), f, day, 30, 150);
        assert!(s.why.contains(&s.daily.to_string()) || s.stopped, "{s:?}");
        assert!(!s.why.is_empty());
        assert!(s.hourly >= 1 && s.hourly <= s.daily.max(1), "{s:?}");
    }
}

#[test]
fn labels_squeeze_every_cap_in_proportion_to_the_pool_and_clean_days_give_it_back() {
    let day = t("2026-01-05T12:00:00Z");
    let quiet = figures(&[(Metric::Calls24h, 0.0)]);
    let busy = figures(&[(Metric::CallsPerDay, 40.0)]);
    let mut small = controller();
    let mut large = controller();
    let before = small.squeeze(day);
    assert_eq!(before, 1.0);
    small.label(number(), Carrier::Att, day, &quiet, 20);
    assert_eq!(
        small.squeeze(day),
        1.0,
        "a number that had not called was not labeled for the pool's traffic"
    );
    small.label(number(), Carrier::Att, day, &busy, 20);
    large.label(number(), Carrier::Att, day, &busy, 200);
    let (s, l) = (small.squeeze(day), large.squeeze(day));
    assert!((s - 0.75).abs() < 1e-9, "{s}");
    assert!((l - 0.975).abs() < 1e-9, "ten times the pool, a tenth of the step: {l}");
    small.label(number(), Carrier::Att, day, &busy, 20);
    assert!((small.squeeze(day) - 0.5625).abs() < 1e-9, "labels compound");
    // Clean days give it back, up to a little under the level the second
    // label came at (0.75 less the settling step of 10 %), and that level
    // comes back slowly.
    let days = |n: i64| day + jiff::SignedDuration::from_hours(24 * n);
    assert!((small.squeeze(days(3)) - (0.5625 + 0.09)).abs() < 1e-9);
    assert!((small.squeeze(days(7)) - (0.675 + 0.035)).abs() < 1e-9);
    assert!((small.squeeze(days(37)) - (0.675 + 0.185)).abs() < 1e-9);
    assert_eq!(small.squeeze(days(65)), 1.0);
    // The caps follow.
    let open = |c: &Controller, at| c.steer(number(), &quiet, at, 30, 150).daily;
    small.refresh();
    assert!(open(&small, day) < open(&controller(), day));
    let why = small.steer(number(), &quiet, day, 30, 150).why;
    assert!(why.contains("squeezed to 56 %"), "{why}");
}

#[test]
fn a_pool_labeled_again_and_again_settles_below_the_level_its_labels_came_at() {
    let day = t("2026-01-05T12:00:00Z");
    let busy = figures(&[(Metric::CallsPerDay, 40.0)]);
    let days = |n: i64| day + jiff::SignedDuration::from_hours(24 * n);
    let mut c = controller();
    c.label(number(), Carrier::Att, day, &busy, 20);
    // A squeeze recovers at 3 % a day, but only to 90 % of where the caps
    // stood at the label: the label said that level was too much.
    assert!((c.squeeze(days(5)) - 0.9).abs() < 0.03, "{}", c.squeeze(days(5)));
    assert!(c.squeeze(days(10)) < 0.96, "{}", c.squeeze(days(10)));
    // Labeled again at that level, the level drops again; every label
    // after a quiet recovery starts from where the caps were.
    let before = c.squeeze(days(10));
    c.label(number(), Carrier::Att, days(10), &busy, 20);
    assert!(c.squeeze(days(25)) <= before * 0.9 + 0.08, "{}", c.squeeze(days(25)));
    assert!(c.squeeze(days(25)) < before);
    // The cap says which holds it.
    c.refresh();
    let quiet = figures(&[(Metric::Calls24h, 0.0)]);
    let why = c.steer(number(), &quiet, days(25), 30, 150).why;
    assert!(why.contains("labels in the pool came at the caps it had"), "{why}");
    let why = c.steer(number(), &quiet, days(10), 30, 150).why;
    assert!(
        why.contains("squeezed to"),
        "just after the label the squeeze holds it: {why}"
    );
    // Quiet months give everything back.
    assert_eq!(c.squeeze(days(120)), 1.0);
    // Without settling, the squeeze alone climbs back to the full caps.
    let mut plain = Controller::new(
        ControlConfig {
            settle: 0.0,
            ..ControlConfig::default()
        },
        &RiskConfig::defaults(),
    );
    plain.label(number(), Carrier::Att, day, &busy, 20);
    assert_eq!(plain.squeeze(days(10)), 1.0);
}

#[test]
fn the_floor_that_keeps_evidence_coming_never_lifts_a_cap_past_the_configured_ceiling() {
    let c = controller();
    let now = t("2026-03-02T15:00:00Z");
    let idle = mixed(0.0, 0.0);
    // Unbounded, a number with nothing learned yet gets at least the floor.
    assert!(c.steer(number(), &idle, now, 30, 400).daily >= c.config().min_daily);
    // A ceiling under the floor wins: the operator's cap of 2 is 2.
    let steer = c.steer(number(), &idle, now, 1, 2);
    assert_eq!((steer.daily, steer.hourly), (2, 1));
}
