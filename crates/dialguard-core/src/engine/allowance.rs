//! How many calls a number may place: the caps the engine pushes into the
//! guard on every assessment.
//!
//! Three limits, the lowest wins:
//!
//! ```text
//! profile allowance (by maturity) ──► × risk share (by score) ──┐
//!                                                               ├─► min ──► Guard::set_caps
//! pool budget (learned from labels, AIMD) ──────────────────────┘
//! ```
//!
//! - The *profile allowance* grows with maturity (`[allowance]` in each
//!   profile), as before.
//! - The *risk share* shrinks it as the number's score on that profile rises:
//!   all of it at or below the profile's `watch` level, falling smoothly to
//!   `TickConfig::risk_floor_percent` at `quarantine_above`. A number whose
//!   callees receive it badly calls less *before* an engine labels it, and
//!   the guard, which prefers low risk, moves the volume to healthier numbers.
//! - The *pool budget* is what the pool's own burns taught: an additive-
//!   increase, multiplicative-decrease controller per pool. Each new label
//!   on a number, and each quarantine of an unlabeled one (complaints,
//!   blocked calls: it was about to burn), is evidence that the volume it
//!   carried is more than the engines tolerate from this pool's traffic, so
//!   the pool's daily budget per number moves to `pool_decrease_percent` of
//!   the smaller of that volume and the budget then. Burns arrive per
//!   number-day, so a pool larger than ten numbers takes a proportional part
//!   of the step (ten burns in a pool of a hundred teach what one teaches in
//!   a pool of ten). Every day without a burn gives back
//!   `pool_increase_per_day` calls. The budget is folded from label and
//!   state-change events only, so replaying a log rebuilds it exactly.
//!
//! Why this split: the score says how the callees receive the calls, which
//! resting does not change, so a high score slows a number rather than
//! stopping it; a label or a quarantine is the only ground truth of what an
//! engine tolerates, so only they move the pool's budget.

use crate::FastMap;

use jiff::Timestamp;

/// One pool's learned daily budget per number: `daily` as of `at`, growing
/// by the configured increase per day since.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Budget {
    daily: f64,
    at: Timestamp,
}

/// The per-pool controller. A pool that never saw a label has no budget:
/// the profiles' allowance alone applies.
#[derive(Clone, Debug, Default)]
pub(crate) struct PoolBudgets {
    pools: FastMap<String, Budget>,
}

/// The controller's constants, from [`super::TickConfig`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Aimd {
    /// The share kept on a label, 0..1.
    pub decrease: f64,
    /// Calls per day given back per clean day.
    pub increase_per_day: f64,
    /// The budget never drops below this many calls a day.
    pub min_daily: f64,
}

impl Aimd {
    /// Pools up to this many numbers take a burn's whole decrease.
    pub const FULL_STEP_NUMBERS: f64 = 10.0;
}

impl PoolBudgets {
    /// The pool's budget per number at `now`, if a label ever set one.
    pub fn daily(&self, pool: &str, now: Timestamp, aimd: Aimd) -> Option<f64> {
        let budget = self.pools.get(pool)?;
        let days = (now.as_second() - budget.at.as_second()).max(0) as f64 / 86_400.0;
        Some(budget.daily + aimd.increase_per_day * days)
    }

    /// A number of a pool of `pool_size` burned at `at` after carrying
    /// `carried` calls a day: the pool's budget moves toward the decrease
    /// share of the smaller of the two. A pool of up to
    /// [`Aimd::FULL_STEP_NUMBERS`] numbers takes the whole step; a larger one
    /// a proportional part of it, because burns arrive per number-day: a
    /// pool ten times larger sees ten times the labels at the same risk, and
    /// would otherwise settle at a lower volume per number for no reason.
    pub fn on_burn(&mut self, pool: &str, pool_size: u32, carried: f64, at: Timestamp, aimd: Aimd) {
        let before = self.daily(pool, at, aimd);
        let target = before.unwrap_or(f64::INFINITY).min(carried) * aimd.decrease;
        let step = (Aimd::FULL_STEP_NUMBERS / f64::from(pool_size.max(1))).min(1.0);
        let daily = match before {
            Some(before) if before > target => before - (before - target) * step,
            Some(before) => before,
            // The first burn: no budget to move from, the carried volume is it.
            None => carried - (carried - target) * step,
        };
        let daily = daily.max(aimd.min_daily);
        self.pools.insert(pool.to_owned(), Budget { daily, at });
    }
}

/// The share of the allowance a number keeps at `score`: 1 up to `watch`,
/// then a smooth step down to `floor` at `limit` and beyond.
pub(crate) fn risk_share(score: f64, watch: f64, limit: f64, floor: f64) -> f64 {
    if score <= watch || limit <= watch {
        return if score > limit { floor } else { 1.0 };
    }
    let t = ((score - watch) / (limit - watch)).clamp(0.0, 1.0);
    let smooth = t * t * (3.0 - 2.0 * t);
    1.0 - (1.0 - floor) * smooth
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    const AIMD: Aimd = Aimd {
        decrease: 0.7,
        increase_per_day: 3.0,
        min_daily: 10.0,
    };

    #[test]
    fn the_risk_share_is_whole_below_watch_and_the_floor_past_the_limit() {
        let cases = [(0.0, 1.0), (25.0, 1.0), (52.5, 0.625), (80.0, 0.25), (99.0, 0.25)];
        for (score, share) in cases {
            let got = risk_share(score, 25.0, 80.0, 0.25);
            assert!((got - share).abs() < 1e-9, "score {score}: {got} != {share}");
        }
        let mut last = 1.0;
        for score in 25..=80 {
            let got = risk_share(f64::from(score), 25.0, 80.0, 0.25);
            assert!(got <= last, "the share never grows as the score rises ({score})");
            last = got;
        }
    }

    #[test]
    fn a_label_cuts_the_pool_budget_below_what_the_number_carried_and_clean_days_give_it_back() {
        let mut pools = PoolBudgets::default();
        let day0 = t("2026-03-01T12:00:00Z");
        assert_eq!(pools.daily("sales", day0, AIMD), None, "no label, no budget");
        pools.on_burn("sales", 10, 100.0, day0, AIMD);
        assert_eq!(pools.daily("sales", day0, AIMD), Some(70.0));
        assert_eq!(pools.daily("support", day0, AIMD), None, "other pools keep theirs");
        assert_eq!(pools.daily("sales", t("2026-03-11T12:00:00Z"), AIMD), Some(100.0));
        // A second label the next day cuts from the budget, not the volume.
        let day1 = t("2026-03-02T12:00:00Z");
        pools.on_burn("sales", 5, 120.0, day1, AIMD);
        assert!((pools.daily("sales", day1, AIMD).unwrap() - 51.1).abs() < 1e-9);
        for _ in 0..20 {
            pools.on_burn("sales", 5, 5.0, day1, AIMD);
        }
        assert_eq!(pools.daily("sales", day1, AIMD), Some(10.0), "never below the floor");
    }

    #[test]
    fn a_burn_in_a_large_pool_moves_the_budget_in_proportion() {
        let day0 = t("2026-03-01T12:00:00Z");
        let mut small = PoolBudgets::default();
        let mut large = PoolBudgets::default();
        small.on_burn("p", 10, 100.0, day0, AIMD);
        large.on_burn("p", 100, 100.0, day0, AIMD);
        assert_eq!(small.daily("p", day0, AIMD), Some(70.0));
        assert!((large.daily("p", day0, AIMD).unwrap() - 97.0).abs() < 1e-9);
        // Ten burns in the large pool teach about what one does in the small.
        for _ in 1..10 {
            large.on_burn("p", 100, 100.0, day0, AIMD);
        }
        let large_after = large.daily("p", day0, AIMD).unwrap();
        assert!((70.0..80.0).contains(&large_after), "{large_after}");
    }
}
