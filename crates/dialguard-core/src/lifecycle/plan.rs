//! The rehabilitation plan: rest, limited, moderate, review (SPEC §2.4).
//!
//! A plan is not stored anywhere: it is what the number's `StateChanged`
//! events say, read in order. Entering `quarantined` (or being rested by
//! hand) opens one; `rehab_limited` and `rehab_moderate` start its phases; a
//! move from `rehab_moderate` to itself is a failed review that extends the
//! plan; `active` closes it. A new quarantine while a plan is open restarts
//! its rest. Because the plan is the fold of the log, replay rebuilds it and
//! the events the engine derives ([`Plan::next_due`]) are the only place its
//! calendar turns into decisions.

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use super::NumberState;
use super::config::{PhaseGoal, PlanConfig};

/// The plan's phases, in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// No calls.
    Rest,
    /// `rehab_limited`: a few calls a day, known contacts only.
    Limited,
    /// `rehab_moderate`: more calls, new contacts allowed.
    Moderate,
}

impl Phase {
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Rest => "rest",
            Phase::Limited => "limited",
            Phase::Moderate => "moderate",
        }
    }

    /// The state a number is in during this phase.
    pub fn state(self) -> NumberState {
        match self {
            Phase::Rest => NumberState::Resting,
            Phase::Limited => NumberState::RehabLimited,
            Phase::Moderate => NumberState::RehabModerate,
        }
    }

    /// What the phase aims for; rest aims for no calls at all.
    pub fn goal(self, config: &PlanConfig) -> PhaseGoal {
        match self {
            Phase::Rest => PhaseGoal {
                min_calls_per_day: 0,
                max_calls_per_day: 0,
                min_long_call_share: 0.0,
            },
            Phase::Limited => config.limited_goal,
            Phase::Moderate => config.moderate_goal,
        }
    }
}

/// One stretch of one phase. A restarted rest begins a new span, so the
/// spans are the plan's whole story, failed attempts included.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PhaseSpan {
    pub phase: Phase,
    pub from: Timestamp,
    /// `None` while the span is the current one.
    pub to: Option<Timestamp>,
}

/// Something that set the plan back, and when.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Setback {
    pub at: Timestamp,
    pub kind: SetbackKind,
    pub reason: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SetbackKind {
    /// A new label (or another quarantine trigger) sent the number back to rest.
    RestRestarted,
    /// The review found a label since the limited phase began, or a profile
    /// not healthy: the moderate phase was extended.
    ReviewFailed,
}

/// How a plan ended.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PlanOutcome {
    /// The review passed: back to `active`.
    Completed,
    /// A move the plan did not make ended it (an operator's, usually).
    Ended { state: NumberState },
}

/// One rehabilitation plan of one number.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    /// 1 for the number's first plan, 2 for the next, …
    pub ordinal: u32,
    pub started_at: Timestamp,
    /// Why the number was stopped.
    pub reason: String,
    pub spans: Vec<PhaseSpan>,
    pub setbacks: Vec<Setback>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<PlanOutcome>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended_reason: Option<String>,
}

/// What the plan's calendar asks for next.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Due {
    /// Rest is over: start the limited phase.
    Limited,
    /// Limited is over: start the moderate phase.
    Moderate,
    /// Moderate (or its extension) is over: judge the plan.
    Review,
}

fn days(n: u32) -> SignedDuration {
    SignedDuration::from_hours(24 * i64::from(n))
}

impl Plan {
    pub(crate) fn open(ordinal: u32, at: Timestamp, reason: &str) -> Plan {
        Plan {
            ordinal,
            started_at: at,
            reason: reason.to_owned(),
            spans: vec![PhaseSpan {
                phase: Phase::Rest,
                from: at,
                to: None,
            }],
            setbacks: Vec::new(),
            outcome: None,
            ended_at: None,
            ended_reason: None,
        }
    }

    pub fn is_open(&self) -> bool {
        self.outcome.is_none()
    }

    /// The current (or, once closed, the last) span.
    pub fn current(&self) -> &PhaseSpan {
        self.spans.last().expect("a plan opens with a span")
    }

    pub fn phase(&self) -> Phase {
        self.current().phase
    }

    /// The latest start of rest: day 1 of the current attempt.
    pub fn rest_from(&self) -> Timestamp {
        self.spans
            .iter()
            .rev()
            .find(|s| s.phase == Phase::Rest)
            .map_or(self.started_at, |s| s.from)
    }

    /// When the current attempt's limited phase began, if it has.
    pub fn limited_from(&self) -> Option<Timestamp> {
        let rest = self.rest_from();
        self.spans
            .iter()
            .find(|s| s.phase == Phase::Limited && s.from >= rest)
            .map(|s| s.from)
    }

    /// Day of the current attempt, 1 on the day rest (re)started.
    pub fn day(&self, now: Timestamp) -> i64 {
        (now.duration_since(self.rest_from()).as_hours().max(0) / 24) + 1
    }

    /// Every setback (restarts and failed reviews) so far.
    pub fn failures(&self) -> usize {
        self.setbacks.len()
    }

    /// The plan has failed often enough that replacing the number is the
    /// better course.
    pub fn retirement_recommended(&self, config: &PlanConfig) -> bool {
        self.failures() >= config.recommend_retirement_after as usize
    }

    /// Failed reviews since the current moderate span began: each pushes the
    /// next review one extension further.
    fn extensions(&self) -> u32 {
        let from = self.current().from;
        self.setbacks
            .iter()
            .filter(|s| s.kind == SetbackKind::ReviewFailed && s.at >= from)
            .count() as u32
    }

    /// The next step of the calendar and when it is due; `None` once closed.
    pub fn next_due(&self, config: &PlanConfig) -> Option<(Timestamp, Due)> {
        if !self.is_open() {
            return None;
        }
        let span = self.current();
        Some(match span.phase {
            Phase::Rest => (span.from + days(config.rest_days), Due::Limited),
            Phase::Limited => (span.from + days(config.limited_days), Due::Moderate),
            Phase::Moderate => (
                span.from + days(config.moderate_days) + days(config.extension_days * self.extensions()),
                Due::Review,
            ),
        })
    }

    /// Folds one state change of the plan's number, `from` the state it was
    /// in. A move to `active` completes the plan only once its review is
    /// due; earlier, it ends the plan unfinished.
    pub(crate) fn apply(
        &mut self,
        from: NumberState,
        to: NumberState,
        at: Timestamp,
        reason: &str,
        config: &PlanConfig,
    ) {
        let phase = self.phase();
        match to {
            NumberState::Quarantined => self.restart(at, reason),
            NumberState::Resting if phase != Phase::Rest && from != NumberState::Quarantined => {
                self.restart(at, reason)
            }
            NumberState::Resting => {}
            NumberState::RehabLimited if phase != Phase::Limited => self.begin(Phase::Limited, at),
            NumberState::RehabModerate if phase == Phase::Moderate && from == NumberState::RehabModerate => {
                self.setbacks.push(Setback {
                    at,
                    kind: SetbackKind::ReviewFailed,
                    reason: reason.to_owned(),
                });
            }
            NumberState::RehabModerate if phase != Phase::Moderate => self.begin(Phase::Moderate, at),
            NumberState::RehabLimited | NumberState::RehabModerate => {}
            NumberState::Active
                if self
                    .next_due(config)
                    .is_some_and(|(due, what)| what == Due::Review && at >= due) =>
            {
                self.close(at, PlanOutcome::Completed, reason)
            }
            NumberState::Active | NumberState::Aging | NumberState::Watch | NumberState::Retired => {
                self.close(at, PlanOutcome::Ended { state: to }, reason)
            }
        }
    }

    fn restart(&mut self, at: Timestamp, reason: &str) {
        self.setbacks.push(Setback {
            at,
            kind: SetbackKind::RestRestarted,
            reason: reason.to_owned(),
        });
        self.begin(Phase::Rest, at);
    }

    fn begin(&mut self, phase: Phase, at: Timestamp) {
        if let Some(last) = self.spans.last_mut() {
            last.to = Some(at);
        }
        self.spans.push(PhaseSpan {
            phase,
            from: at,
            to: None,
        });
    }

    fn close(&mut self, at: Timestamp, outcome: PlanOutcome, reason: &str) {
        if let Some(last) = self.spans.last_mut() {
            last.to = Some(at);
        }
        self.outcome = Some(outcome);
        self.ended_at = Some(at);
        self.ended_reason = Some(reason.to_owned());
    }
}
