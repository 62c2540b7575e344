//! Property tests: what must hold for any call history, not just the
//! scenarios someone thought of.

use jiff::Timestamp;
use proptest::prelude::*;

use super::testkit::{OURS, days, secs};
use super::*;
use crate::call::{Call, Direction, Source};
use crate::classify::{Cause, Outcome};
use crate::event::{Complaint, Event, NumberRegistered};
use crate::lifecycle::NumberState;
use crate::metrics::{Activity, DecayedCounts, Ledger, MetricsConfig};

/// The instant the generated histories end at.
fn t0() -> Timestamp {
    "2026-03-20T21:30:00Z".parse().unwrap()
}

const OUTCOMES: [Outcome; 6] = [
    Outcome::Answered,
    Outcome::Answered,
    Outcome::NoAnswer,
    Outcome::Busy,
    Outcome::Rejected,
    Outcome::InvalidDestination,
];

/// Callees' area codes across every time zone the engine maps.
const AREAS: [u64; 8] = [212, 312, 415, 713, 617, 808, 907, 602];

#[derive(Clone, Debug)]
struct CallSpec {
    /// Seconds before [`t0`].
    ago: i64,
    callee: u64,
    outcome: usize,
    talk: u32,
    blocked: bool,
}

#[derive(Clone, Debug)]
struct History {
    calls: Vec<CallSpec>,
    /// Seconds before [`t0`].
    complaints: Vec<i64>,
    pool_size: u64,
}

fn call_spec(max_ago: i64) -> impl Strategy<Value = CallSpec> {
    (
        0..max_ago,
        0..40u64,
        0..OUTCOMES.len(),
        0..600u32,
        prop::bool::weighted(0.05),
    )
        .prop_map(|(ago, callee, outcome, talk, blocked)| CallSpec {
            ago,
            callee,
            outcome,
            talk,
            blocked,
        })
}

fn history() -> impl Strategy<Value = History> {
    (
        // Bursts need many calls close together: a dense day plus a sparse month.
        prop::collection::vec(call_spec(86_400), 0..200),
        prop::collection::vec(call_spec(40 * 86_400), 0..150),
        prop::collection::vec(0..10 * 86_400i64, 0..6),
        0..15u64,
    )
        .prop_map(|(mut dense, sparse, complaints, pool_size)| {
            dense.extend(sparse);
            History {
                calls: dense,
                complaints,
                pool_size,
            }
        })
}

fn callee(k: u64) -> E164 {
    let npa = AREAS[(k % AREAS.len() as u64) as usize];
    E164::from_digits_unchecked(10_000_000_000 + npa * 10_000_000 + 5_550_000 + k)
}

fn ledger(h: &History) -> Ledger {
    let mut ledger = Ledger::new(MetricsConfig::default());
    for (i, c) in h.calls.iter().enumerate() {
        let outcome = OUTCOMES[c.outcome];
        let started_at = t0() - secs(c.ago);
        let talk = if outcome == Outcome::Answered { c.talk } else { 0 };
        ledger.apply(&Event::Call(Call {
            from: OURS,
            to: callee(c.callee),
            direction: Direction::Outbound,
            started_at,
            answered_at: (outcome == Outcome::Answered).then_some(started_at),
            ended_at: started_at + secs(i64::from(talk)),
            talk_seconds: talk,
            outcome,
            cause: if c.blocked {
                Cause::BlockedCaller
            } else {
                Cause::Unspecified
            },
            source: Source::Simulator,
            source_id: i.to_string(),
        }));
    }
    for (i, ago) in h.complaints.iter().enumerate() {
        ledger.apply(&Event::Complaint(Complaint {
            number: OURS,
            at: t0() - secs(*ago),
            source: "ftc".into(),
            source_id: i.to_string(),
            consumer_area_code: None,
            consumer_state: None,
            subject: None,
            robocall: None,
        }));
    }
    for k in 0..h.pool_size {
        ledger.apply(&Event::NumberRegistered(NumberRegistered {
            number: E164::from_digits_unchecked(OURS.digits() + k),
            pool: "pool".into(),
            at: t0() - days(60),
            state: NumberState::Active,
            cnam: None,
        }));
    }
    ledger
}

fn scores(ledger: &Ledger, now: Timestamp) -> Vec<Score> {
    assess(ledger, &Labels::new(), &RiskConfig::defaults(), OURS, now).scores
}

fn within_bounds(s: &Score, profile: &Profile) -> Result<(), TestCaseError> {
    prop_assert!((0.0..=100.0).contains(&s.value), "{} scored {}", s.profile, s.value);
    prop_assert_eq!(s.level, Level::of(s.value, &profile.levels));
    for f in &s.factors {
        prop_assert!(
            f.points >= 0.0 && f.points <= f.weight + 0.05,
            "{}: {} points of {}",
            f.name,
            f.points,
            f.weight
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// Shortening answered calls (the same calls, more of them short) never
    /// lowers any factor, so never the score, on any profile.
    #[test]
    fn more_short_calls_never_lower_a_score(
        h in history(),
        shorten in prop::collection::vec((any::<bool>(), 0..=6u32), 350),
    ) {
        let before = scores(&ledger(&h), t0());
        let mut shorter = h.clone();
        for (c, (cut, to)) in shorter.calls.iter_mut().zip(&shorten) {
            if *cut {
                c.talk = c.talk.min(*to);
            }
        }
        let after = scores(&ledger(&shorter), t0());
        for (b, a) in before.iter().zip(&after) {
            prop_assert!(a.value >= b.value, "{}: {} -> {}", b.profile, b.value, a.value);
            for (fb, fa) in b.factors.iter().zip(&a.factors) {
                prop_assert!(fa.points >= fb.points, "{} on {}: {} -> {} ({fa})", fb.name, b.profile, fb.points, fa.points);
            }
        }
    }

    /// With no calls after `t0`, every score only falls as time passes, and
    /// a rested number ends at zero.
    #[test]
    fn with_no_calls_scores_decay_over_time(
        h in history(),
        mut later in prop::collection::vec(0..120 * 86_400i64, 1..6),
    ) {
        let ledger = ledger(&h);
        later.sort_unstable();
        let mut previous = scores(&ledger, t0());
        for offset in later {
            let now = scores(&ledger, t0() + secs(offset));
            for (p, n) in previous.iter().zip(&now) {
                prop_assert!(n.value <= p.value, "{} rose from {} to {} at +{offset}s", p.profile, p.value, n.value);
            }
            previous = now;
        }
        for s in scores(&ledger, t0() + days(180)) {
            prop_assert_eq!(s.value, 0.0, "{} after 180 idle days: {:?}", &s.profile, s.ranked());
        }
    }

    /// Whatever the history and the instant, a score stays within 0..=100
    /// and a factor within its weight.
    #[test]
    fn a_score_never_leaves_0_to_100(h in history(), offset in -86_400..30 * 86_400i64) {
        let config = RiskConfig::defaults();
        for s in scores(&ledger(&h), t0() + secs(offset)) {
            within_bounds(&s, config.profile(&s.profile).unwrap())?;
        }
    }

    /// The same from any figures at all, on a profile whose weights add to
    /// far more than 100.
    #[test]
    fn a_score_never_leaves_0_to_100_whatever_the_figures(
        sums in prop::collection::vec(0.0..1e6f64, 10),
        counts in prop::collection::vec(0..100_000u32, 6),
        pool_size in 1..100u32,
        weights in prop::collection::vec(0.0..=100.0f64, 12),
    ) {
        let mut profile = RiskConfig::defaults().profiles[2].clone();
        for (name, w) in FactorName::ALL.iter().zip(&weights) {
            profile.factors.get_mut(*name).weight = *w;
        }
        let inputs = RiskInputs {
            number: OURS,
            at: t0(),
            decay: profile.inputs.decay_config(),
            recent_days: 7,
            recent: DecayedCounts {
                attempts: sums[0],
                answered: sums[1],
                short_calls: sums[2],
                unengaged: sums[3],
                talk_seconds: sums[4],
                invalid: sums[5],
                blocked: sums[6],
                off_hours: sums[7],
                repeat_calls: sums[8],
                local_calls: sums[9],
            },
            activity: Activity {
                active_days: counts[0] % 400,
                attempts_24h: counts[1],
                peak_per_minute_24h: counts[2],
                peak_per_hour_24h: counts[3],
                complaints: counts[4],
                blocked: counts[5],
            },
            pool_size,
        };
        within_bounds(&score(&profile, &inputs), &profile)?;
    }

    /// A level is entered only at its `enter` score and left only below its
    /// `exit` score; between the two, it holds.
    #[test]
    fn hysteresis_holds(
        scores in prop::collection::vec(0.0..=100.0f64, 1..80),
        watch_enter in 10.0..60.0f64,
        gap in 1.0..10.0f64,
        rise in 0.0..30.0f64,
    ) {
        let levels = Levels {
            watch: Threshold { enter: watch_enter, exit: watch_enter - gap },
            at_risk: Threshold { enter: watch_enter + rise + gap, exit: watch_enter + rise },
            quarantine_above: 100.0,
        };
        let enter = |l: Level| match l {
            Level::Healthy => 0.0,
            Level::Watch => levels.watch.enter,
            Level::AtRisk => levels.at_risk.enter,
        };
        let exit = |l: Level| match l {
            Level::Healthy => 0.0,
            Level::Watch => levels.watch.exit,
            Level::AtRisk => levels.at_risk.exit,
        };
        let mut level = Level::Healthy;
        for s in scores {
            let next = level.next(s, &levels);
            if next > level {
                prop_assert!(s >= enter(next), "{level:?} -> {next:?} at {s}");
            }
            if next < level {
                prop_assert!(s < exit(level), "{level:?} -> {next:?} at {s}");
            }
            if s >= levels.at_risk.enter || s < levels.watch.exit {
                prop_assert_eq!(next, Level::of(s, &levels), "unambiguous at {}", s);
            }
            let holds = match level {
                Level::Healthy => s < levels.watch.enter,
                Level::Watch => s >= levels.watch.exit && s < levels.at_risk.enter,
                Level::AtRisk => s >= levels.at_risk.exit,
            };
            if holds {
                prop_assert_eq!(next, level, "between exit and enter at {}", s);
            }
            level = next;
        }
    }
}

#[test]
fn the_tracker_holds_a_level_per_number_and_profile() {
    let config = RiskConfig::defaults();
    let hiya = config.profile("hiya").unwrap();
    let mut tracker = RiskTracker::new();
    let at = |value: f64| Score {
        profile: "hiya".into(),
        value,
        level: Level::of(value, &hiya.levels),
        quarantine_above: 80.0,
        factors: Vec::new(),
    };
    let other = E164::from_digits_unchecked(12_125_550_100);
    assert_eq!(tracker.observe(OURS, &at(60.0), &hiya.levels), Level::AtRisk);
    assert_eq!(tracker.observe(OURS, &at(45.0), &hiya.levels), Level::AtRisk);
    assert_eq!(tracker.observe(other, &at(45.0), &hiya.levels), Level::Watch);
    assert_eq!(tracker.level(OURS, "hiya"), Level::AtRisk);
    assert_eq!(tracker.level(OURS, "tns"), Level::Healthy);
    assert_eq!(tracker.health(OURS, &Labels::new(), t0()), Health::AtRisk);
}
