//! The states a number moves through, and the remediation around them
//! (SPEC §2.4).
//!
//! [`Lifecycle`] is a pure fold of events: a number's state comes from its
//! `NumberRegistered` event and then each `StateChanged`, and its
//! rehabilitation plans ([`plan`]) and dispute calendars ([`dispute`]) are
//! read from the same events. Nothing here decides a change: the engine
//! (`crate::engine`) does, turns each decision into an event, and folds it
//! back in like any other, so replaying the log rebuilds every plan exactly.
//! Operators' moves are checked here first ([`Lifecycle::operator_move`]).

pub mod config;
pub mod dispute;
pub mod history;
pub mod package;
pub mod plan;
pub mod report;

use crate::FastMap;

use jiff::Timestamp;
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};

use crate::event::{DisputeUpdated, Event, LabelObserved, StateChanged};
use crate::number::E164;

pub use config::{DisputeConfig, LifecycleConfig, LifecycleConfigError, PhaseGoal, PlanConfig};
pub use dispute::{Calendar, DisputeError, DisputeStatus, DisputeStep, Step, StepUpdate};
pub use history::{Entry, EntryKind, timeline};
pub use package::{BusinessError, BusinessProfile, DailyRow, FcrRow, Package, UsageSummary};
pub use plan::{Due, Phase, PhaseSpan, Plan, PlanOutcome, Setback, SetbackKind};
pub use report::{DayFigures, NextStep, PhaseRecord, PlanView, daily_figures, plan_view};

/// Where a number stands in its life.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NumberState {
    /// New, ramping up.
    Aging,
    #[default]
    Active,
    /// Score rising: still callable, watched.
    Watch,
    /// Stopped automatically.
    Quarantined,
    Resting,
    RehabLimited,
    RehabModerate,
    Retired,
}

impl NumberState {
    pub const ALL: [NumberState; 8] = [
        NumberState::Aging,
        NumberState::Active,
        NumberState::Watch,
        NumberState::Quarantined,
        NumberState::Resting,
        NumberState::RehabLimited,
        NumberState::RehabModerate,
        NumberState::Retired,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            NumberState::Aging => "aging",
            NumberState::Active => "active",
            NumberState::Watch => "watch",
            NumberState::Quarantined => "quarantined",
            NumberState::Resting => "resting",
            NumberState::RehabLimited => "rehab_limited",
            NumberState::RehabModerate => "rehab_moderate",
            NumberState::Retired => "retired",
        }
    }

    pub fn from_name(name: &str) -> Option<NumberState> {
        NumberState::ALL
            .into_iter()
            .find(|s| s.as_str().eq_ignore_ascii_case(name.trim()))
    }

    /// A recovery plan's calling phase, whose own daily cap bounds the day.
    pub fn is_plan_phase(self) -> bool {
        matches!(self, NumberState::RehabLimited | NumberState::RehabModerate)
    }

    /// May the guard place calls from a number in this state at all?
    pub fn may_call(self) -> bool {
        !matches!(
            self,
            NumberState::Quarantined | NumberState::Resting | NumberState::Retired
        )
    }
}

/// One owned number's life so far.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NumberRecord {
    pub number: E164,
    pub pool: String,
    pub registered_at: Timestamp,
    /// The state the number was registered in.
    pub registered_state: NumberState,
    pub state: NumberState,
    /// When it entered its current state.
    pub since: Timestamp,
    /// Every state change since registration, in log order.
    pub changes: Vec<StateChanged>,
    /// Every rehabilitation plan, the open one last.
    pub plans: Vec<Plan>,
    /// Every dispute calendar, the latest last.
    pub disputes: Vec<Calendar>,
}

impl NumberRecord {
    /// The plan in progress, if any.
    pub fn open_plan(&self) -> Option<&Plan> {
        self.plans.last().filter(|p| p.is_open())
    }

    /// The latest dispute calendar, open or not.
    pub fn calendar(&self) -> Option<&Calendar> {
        self.disputes.last()
    }
}

/// Why an operator's move was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum MoveError {
    #[error("{0} is not a registered number; register it first with `dialguard numbers add`")]
    Unregistered(E164),
    #[error("{number} is already {state}; nothing to change")]
    AlreadyThere { number: E164, state: &'static str },
    #[error("a move needs a reason (who asked, and why): it goes in the number's history")]
    NoReason,
    #[error(
        "{number} changed state at {since}; a move at {at} would land before it. \
         Give an instant after {since}"
    )]
    BeforeLastChange {
        number: E164,
        since: Timestamp,
        at: Timestamp,
    },
    #[error("{number} cannot go from {from} to {to} by hand: {why}. From {from} an operator may move it to {allowed}")]
    Illegal {
        number: E164,
        from: &'static str,
        to: &'static str,
        why: &'static str,
        allowed: String,
    },
}

impl NumberState {
    /// Where an operator may move a number in this state, and why the other
    /// moves are refused. Stopping a number (quarantine, rest, retirement)
    /// is always allowed, and so is ending a remediation early (back to
    /// `active`: the operator's reason goes in the history). The
    /// rehabilitation phases belong to a plan: they are reached from a
    /// rest, in order, never from calling. `aging` and `watch` describe a
    /// number in service, and a retired number comes back only as a new
    /// one (`aging`).
    pub fn operator_moves(self) -> (&'static [NumberState], &'static str) {
        use NumberState::*;
        match self {
            Aging | Active | Watch => (
                &[Aging, Active, Watch, Quarantined, Resting, Retired],
                "the rehabilitation phases follow a rest; rest the number first",
            ),
            Quarantined => (
                &[Resting, RehabLimited, Active, Retired],
                "a quarantined number rests, or calls again through the limited phase",
            ),
            Resting => (
                &[RehabLimited, Active, Retired],
                "after a rest a number calls again through the limited phase, or goes back to active",
            ),
            RehabLimited => (
                &[RehabModerate, Resting, Quarantined, Active, Retired],
                "aging and watch are states of a number in service; end the plan with active first",
            ),
            RehabModerate => (
                &[Active, RehabLimited, Resting, Quarantined, Retired],
                "aging and watch are states of a number in service; end the plan with active first",
            ),
            Retired => (
                &[Aging],
                "a retired number comes back only as a new one, ramped up again",
            ),
        }
    }
}

/// Every owned number's state, plans and history.
#[derive(Clone, Debug)]
pub struct Lifecycle {
    config: LifecycleConfig,
    /// The dispute calendar's zone (`config.disputes.time_zone`).
    zone: TimeZone,
    records: FastMap<E164, NumberRecord>,
}

impl Default for Lifecycle {
    fn default() -> Self {
        Lifecycle::new(LifecycleConfig::default())
    }
}

impl Lifecycle {
    /// A lifecycle with no numbers. A time zone the configuration does not
    /// name correctly falls back to UTC; [`LifecycleConfig::validate`]
    /// refuses it first.
    pub fn new(config: LifecycleConfig) -> Lifecycle {
        Lifecycle {
            zone: config.disputes.zone().unwrap_or(TimeZone::UTC),
            config,
            records: FastMap::default(),
        }
    }

    pub fn config(&self) -> &LifecycleConfig {
        &self.config
    }

    /// The zone of the dispute calendar and the package's days.
    pub fn zone(&self) -> &TimeZone {
        &self.zone
    }

    pub fn record(&self, number: E164) -> Option<&NumberRecord> {
        self.records.get(&number)
    }

    /// Every record, by number.
    pub fn records(&self) -> impl Iterator<Item = &NumberRecord> {
        self.records.values()
    }

    /// The registered numbers, sorted.
    pub fn numbers(&self) -> Vec<E164> {
        let mut numbers: Vec<E164> = self.records.keys().copied().collect();
        numbers.sort();
        numbers
    }

    pub fn state(&self, number: E164) -> Option<NumberState> {
        self.records.get(&number).map(|r| r.state)
    }

    /// Folds one event. State changes of numbers never registered are
    /// dropped: there is nothing to move.
    pub fn apply(&mut self, event: &Event) {
        match event {
            Event::NumberRegistered(n) => match self.records.get_mut(&n.number) {
                Some(record) => {
                    record.pool.clone_from(&n.pool);
                    if record.state != n.state {
                        let change = StateChanged {
                            number: n.number,
                            state: n.state,
                            at: n.at,
                            reason: format!("registered again in pool {} as {}", n.pool, n.state.as_str()),
                        };
                        self.change(&change);
                    }
                }
                None => {
                    self.records.insert(
                        n.number,
                        NumberRecord {
                            number: n.number,
                            pool: n.pool.clone(),
                            registered_at: n.at,
                            registered_state: n.state,
                            state: n.state,
                            since: n.at,
                            changes: Vec::new(),
                            plans: Vec::new(),
                            disputes: Vec::new(),
                        },
                    );
                }
            },
            Event::StateChanged(change) => self.change(change),
            Event::Label(obs) => self.label(obs),
            Event::DisputeUpdated(update) => {
                let (config, zone) = (&self.config.disputes, &self.zone);
                if let Some(calendar) = self.records.get_mut(&update.number).and_then(|r| r.disputes.last_mut()) {
                    calendar.apply(update, config, zone);
                }
            }
            _ => {}
        }
    }

    /// A label on a number with no open calendar opens one. A label that
    /// turns out to have been seen earlier than the one that opened the
    /// calendar moves its dates, as long as nothing was filed yet.
    fn label(&mut self, obs: &LabelObserved) {
        let labeled = obs.label.as_deref().is_some_and(|l| !l.trim().is_empty());
        let Some(record) = self.records.get_mut(&obs.number).filter(|_| labeled) else {
            return;
        };
        let opened_by = format!(
            "{:?} on {} ({})",
            obs.label.as_deref().unwrap_or_default().trim(),
            obs.carrier.as_str(),
            obs.carrier.engine()
        );
        let open = Calendar::open(obs.number, obs.at, opened_by, &self.config.disputes, &self.zone);
        match record.disputes.last_mut() {
            Some(current) if current.is_open() => {
                let untouched = current.steps.iter().all(|s| s.updates.is_empty());
                if untouched && obs.at < current.opened_at {
                    *current = open;
                }
            }
            _ => record.disputes.push(open),
        }
    }

    /// Checks a dispute update against the number's latest calendar and
    /// returns the event that records it.
    pub fn dispute_update(&self, update: DisputeUpdated) -> Result<DisputeUpdated, DisputeError> {
        let calendar = self.records.get(&update.number).and_then(NumberRecord::calendar);
        dispute::check_update(calendar, update)
    }

    fn change(&mut self, change: &StateChanged) {
        let plan_config = &self.config.plan;
        let Some(record) = self.records.get_mut(&change.number) else {
            return;
        };
        let from = record.state;
        let to = change.state;
        match record.plans.last_mut().filter(|p| p.is_open()) {
            Some(plan) => plan.apply(from, to, change.at, &change.reason, plan_config),
            None if matches!(to, NumberState::Quarantined | NumberState::Resting) => {
                let ordinal = record.plans.len() as u32 + 1;
                record.plans.push(Plan::open(ordinal, change.at, &change.reason));
            }
            None => {}
        }
        if from != to {
            record.state = to;
            record.since = change.at;
        }
        record.changes.push(change.clone());
    }

    /// Checks an operator's move and returns the event that records it.
    pub fn operator_move(
        &self,
        number: E164,
        to: NumberState,
        at: Timestamp,
        reason: &str,
    ) -> Result<StateChanged, MoveError> {
        let record = self.records.get(&number).ok_or(MoveError::Unregistered(number))?;
        if record.state == to {
            return Err(MoveError::AlreadyThere {
                number,
                state: to.as_str(),
            });
        }
        let (allowed, why) = record.state.operator_moves();
        if !allowed.contains(&to) {
            return Err(MoveError::Illegal {
                number,
                from: record.state.as_str(),
                to: to.as_str(),
                why,
                allowed: allowed.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", "),
            });
        }
        let reason = reason.trim();
        if reason.is_empty() {
            return Err(MoveError::NoReason);
        }
        if at < record.since {
            return Err(MoveError::BeforeLastChange {
                number,
                since: record.since,
                at,
            });
        }
        Ok(StateChanged {
            number,
            state: to,
            at,
            reason: format!("operator: {reason}"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::NumberState;

    /// Every operator move, written out as a matrix (row: from, column:
    /// to; `y` allowed, `.` refused, `=` the same state) in the column
    /// order of [`NumberState::ALL`]: aging, active, watch, quarantined,
    /// resting, rehab_limited, rehab_moderate, retired.
    const MOVES: [(&str, &str); 8] = [
        ("aging", "=yyyy..y"),
        ("active", "y=yyy..y"),
        ("watch", "yy=yy..y"),
        ("quarantined", ".y.=yy.y"),
        ("resting", ".y..=y.y"),
        ("rehab_limited", ".y.yy=yy"),
        ("rehab_moderate", ".y.yyy=y"),
        ("retired", "y......="),
    ];

    #[test]
    fn operator_moves_follow_the_matrix() {
        for (from, row) in MOVES {
            let from_state = NumberState::from_name(from).unwrap();
            let (allowed, why) = from_state.operator_moves();
            assert!(!why.is_empty());
            let cells: Vec<char> = row.chars().collect();
            assert_eq!(cells.len(), 8, "row {from}");
            for (to, cell) in NumberState::ALL.iter().zip(cells) {
                let legal = allowed.contains(to);
                match cell {
                    'y' => assert!(legal, "{from} → {} should be allowed", to.as_str()),
                    '.' => assert!(!legal, "{from} → {} should be refused", to.as_str()),
                    '=' => assert_eq!(*to, from_state, "the diagonal of {from}"),
                    _ => unreachable!(),
                }
            }
        }
    }
}
