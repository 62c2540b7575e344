//! How a number did: day-by-day figures, and each plan phase against its
//! goals.
//!
//! Days here are 24-hour spans counted from an instant (a plan's phase
//! start, or midnight in the business's zone for the documentation
//! package), each read from the ledger with the same rules as the rolling
//! windows `dialguard report` shows, so a reader can check one against the
//! other.

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use super::config::{PhaseGoal, PlanConfig};
use super::plan::{Due, Phase, Plan};
use crate::metrics::{Ledger, WindowMetrics};
use crate::number::E164;
use crate::risk::Labels;

/// One day's figures of one number.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DayFigures {
    /// The day's first instant.
    pub from: Timestamp,
    /// Outbound calls started.
    pub calls: u32,
    pub answered: u32,
    /// Answered calls of at least the conversation threshold (2 minutes).
    pub long_calls: u32,
    /// Answered calls of at most the short-call threshold (6 s).
    pub short_calls: u32,
    pub talk_seconds: u64,
    pub invalid: u32,
    pub complaints: u32,
}

impl DayFigures {
    fn from_window(from: Timestamp, m: &WindowMetrics) -> DayFigures {
        let answered = m.answered;
        DayFigures {
            from,
            calls: m.attempts,
            answered,
            long_calls: (m.long_call_share.unwrap_or(0.0) * f64::from(answered)).round() as u32,
            short_calls: m.short_calls,
            talk_seconds: (m.avg_talk_seconds.unwrap_or(0.0) * f64::from(answered)).round() as u64,
            invalid: m.invalid_destinations,
            complaints: m.complaints,
        }
    }

    pub fn answer_rate(&self) -> Option<f64> {
        share(self.answered, self.calls)
    }
}

fn share(part: u32, whole: u32) -> Option<f64> {
    (whole > 0).then(|| f64::from(part) / f64::from(whole))
}

/// The figures of each 24-hour day from `from` while the day has begun
/// before `to`. The last day may be cut short by `to`.
pub fn daily_figures(ledger: &Ledger, number: E164, from: Timestamp, to: Timestamp) -> Vec<DayFigures> {
    let day = SignedDuration::from_hours(24);
    let mut days = Vec::new();
    let mut start = from;
    while start < to {
        let end = (start + day).min(to);
        days.push(DayFigures::from_window(start, &ledger.span_metrics(number, start, end)));
        start += day;
    }
    days
}

/// How one phase went against its goal.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PhaseRecord {
    pub phase: Phase,
    pub from: Timestamp,
    /// `None` while the phase is under way.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<Timestamp>,
    pub goal: PhaseGoal,
    /// Days begun in the phase so far.
    pub days: u32,
    pub calls: u32,
    pub answered: u32,
    pub long_calls: u32,
    pub max_calls_in_a_day: u32,
    pub avg_calls_per_day: f64,
    /// Long calls over answered calls.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub long_call_share: Option<f64>,
    /// Labels observed (not clean displays) during the phase.
    pub labels_observed: u32,
    /// Every goal met (for a phase under way: met so far).
    pub met: bool,
    /// The goals missed, in words.
    pub missed: Vec<String>,
}

/// A plan with its calendar and its record, as reports show it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PlanView {
    #[serde(flatten)]
    pub plan: Plan,
    /// Day of the current attempt (1 on the day rest began), while open.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub day: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<NextStep>,
    pub retirement_recommended: bool,
    pub phases: Vec<PhaseRecord>,
}

/// What the plan's calendar does next, and when.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NextStep {
    pub at: Timestamp,
    pub step: Due,
}

/// Reads a plan's record from the ledger and the labels, as of `now`.
pub fn plan_view(
    plan: &Plan,
    ledger: &Ledger,
    labels: &Labels,
    config: &PlanConfig,
    number: E164,
    now: Timestamp,
) -> PlanView {
    let phases = plan
        .spans
        .iter()
        .map(|span| {
            let to = span.to.unwrap_or(now).max(span.from);
            let days = daily_figures(ledger, number, span.from, to);
            let goal = span.phase.goal(config);
            let calls: u32 = days.iter().map(|d| d.calls).sum();
            let answered: u32 = days.iter().map(|d| d.answered).sum();
            let long_calls: u32 = days.iter().map(|d| d.long_calls).sum();
            let max_calls_in_a_day = days.iter().map(|d| d.calls).max().unwrap_or(0);
            let avg_calls_per_day = if days.is_empty() {
                0.0
            } else {
                f64::from(calls) / days.len() as f64
            };
            let long_call_share = share(long_calls, answered);
            let labels_observed = labels
                .history(number)
                .iter()
                .filter(|o| o.at >= span.from && o.at < to && o.label.as_deref().is_some_and(|l| !l.trim().is_empty()))
                .count() as u32;
            let mut missed = Vec::new();
            if max_calls_in_a_day > goal.max_calls_per_day {
                missed.push(format!(
                    "{max_calls_in_a_day} calls on its busiest day; the goal is at most {}",
                    goal.max_calls_per_day
                ));
            }
            // A phase under way is not yet behind on its average.
            let finished = span.to.is_some();
            if finished && avg_calls_per_day < f64::from(goal.min_calls_per_day) {
                missed.push(format!(
                    "{avg_calls_per_day:.1} calls a day on average; the goal is at least {}",
                    goal.min_calls_per_day
                ));
            }
            if let Some(s) = long_call_share
                && s < goal.min_long_call_share
            {
                missed.push(format!(
                    "{:.0} % of answered calls lasted 2 minutes or more; the goal is at least {:.0} %",
                    s * 100.0,
                    goal.min_long_call_share * 100.0
                ));
            }
            PhaseRecord {
                phase: span.phase,
                from: span.from,
                to: span.to,
                goal,
                days: days.len() as u32,
                calls,
                answered,
                long_calls,
                max_calls_in_a_day,
                avg_calls_per_day,
                long_call_share,
                labels_observed,
                met: missed.is_empty(),
                missed,
            }
        })
        .collect();
    PlanView {
        day: plan.is_open().then(|| plan.day(now)),
        next: plan.next_due(config).map(|(at, step)| NextStep { at, step }),
        retirement_recommended: plan.retirement_recommended(config),
        plan: plan.clone(),
        phases,
    }
}
