//! A number's figures on every [`Metric`] as of an instant, read from the
//! ledger: what an observation is paired with, and what the caps steer.

use jiff::Timestamp;
use serde::Serialize;

use super::{ControlConfig, Metric};
use crate::metrics::{DecayConfig, Ledger, Window};
use crate::number::E164;

/// One figure per metric; `None` where there is too little behind it (a
/// share over a handful of calls) or it was not read.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct Figures {
    values: [Option<f64>; 8],
    /// Recency-weighted calls a day that were not engaged conversations
    /// (unanswered, dead, or answered for under `engaged_secs`): the calls
    /// an engine holds against a number. Not a line of its own; a clean
    /// observation proves this strain, whatever mix of calls carried it.
    pub strain: Option<f64>,
    /// The recency-weighted share of calls that strain the number.
    pub strain_share: Option<f64>,
}

impl Figures {
    pub fn get(&self, metric: Metric) -> Option<f64> {
        self.values[metric.index()]
    }

    pub fn set(&mut self, metric: Metric, value: Option<f64>) {
        self.values[metric.index()] = value.filter(|v| v.is_finite());
    }
}

/// The number's figures as of `at`. `detailed` also reads the distinct
/// destinations and the busiest hour (a pass over the day's calls with a
/// sort): observations want them, the per-minute caps do not.
pub fn figures(ledger: &Ledger, config: &ControlConfig, number: E164, at: Timestamp, detailed: bool) -> Figures {
    let mut f = Figures::default();
    let day = ledger.window_counts(number, at, Window::Day);
    let calls = f64::from(day.attempts);
    f.set(Metric::Calls24h, Some(calls));
    let memory = memory(ledger, config);
    let decayed = ledger.decayed(number, at, &memory);
    let per_day = std::f64::consts::LN_2 / config.memory_days.max(0.1);
    f.set(Metric::CallsPerDay, Some(decayed.attempts * per_day));
    let engaged = (decayed.answered - decayed.unengaged).clamp(0.0, decayed.attempts);
    f.strain = Some((decayed.attempts - engaged) * per_day);
    f.strain_share = (decayed.attempts > 0.0).then(|| 1.0 - engaged / decayed.attempts);
    let enough = day.attempts >= config.min_share_calls.max(1);
    let share = |part: u32, whole: u32| (whole > 0).then(|| f64::from(part) / f64::from(whole));
    if enough {
        f.set(Metric::InvalidShare, share(day.invalid_destinations, day.attempts));
        f.set(
            Metric::UnansweredShare,
            share(day.attempts - day.answered.min(day.attempts), day.attempts),
        );
    }
    if day.answered >= config.min_share_calls.div_ceil(2).max(1) {
        f.set(Metric::ShortShare, share(day.short_calls, day.answered));
    }
    f.set(
        Metric::Complaints7d,
        Some(f64::from(ledger.complaints_within(number, at, 7 * 86_400))),
    );
    if detailed && day.attempts > 0 {
        let m = ledger.window_metrics(number, at, Window::Day);
        f.set(Metric::Destinations24h, Some(f64::from(m.distinct_destinations)));
        f.set(Metric::PeakHour, Some(f64::from(m.peak_calls_per_hour)));
    }
    f
}

/// The recency weighting of the calls-per-day and strain figures.
fn memory(ledger: &Ledger, config: &ControlConfig) -> DecayConfig {
    let metrics = ledger.config();
    DecayConfig {
        half_life_secs: (config.memory_days.max(0.1) * 86_400.0) as i64,
        short_call_secs: metrics.short_call_secs,
        engagement_secs: config.engaged_secs,
        repeat_calls_per_day: 3,
        calling_hours: (8, 21),
    }
}
