//! The engine: the one place every event is folded into every component,
//! and every question about a number is answered.
//!
//! ```text
//!            apply(event)                      tick(now)
//! Event ──► Ledger, Guard, Labels, Lifecycle ──► assess, plans ──► Vec<StateChanged>
//!                                                     │                 │
//!                       decide(request, now) ◄── Guard ◄── risk, caps   └─► caller appends to the log
//! ```
//!
//! [`Engine::apply`] never derives anything: replaying a log, which already
//! holds the derived events, gives the same state. Decisions that move time
//! (a quarantine, a plan phase, a plan's end) happen only in
//! [`Engine::tick`], which applies them to itself and hands them back for
//! the log. That split is what lets the server, the simulator and the
//! command line share one code path.

use crate::{FastMap, FastSet};

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use crate::control::{ControlConfig, Controller, Steer};
use crate::event::{DisputeUpdated, Event, LabelObserved, StateChanged};
use crate::guard::{ConfigError, DecideRequest, Decision, Guard, GuardConfig, NumberUsage};
use crate::lifecycle::{
    BusinessProfile, Calendar, DailyRow, DisputeError, DisputeStatus, DisputeStep, Due, Entry, FcrRow, Lifecycle,
    LifecycleConfig, LifecycleConfigError, MoveError, NumberRecord, NumberState, Package, Plan, PlanView, UsageSummary,
    daily_figures, plan_view, timeline,
};
use crate::metrics::{Ledger, MetricsConfig, NumberMetrics, Window};
use crate::number::E164;
use allowance::{Aimd, PoolBudgets};

use crate::risk::{self, Assessment, CarrierLabel, Health, Labels, Level, RiskConfig, RiskTracker, TopFactor};

/// How often [`Engine::tick`] looks again.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TickConfig {
    /// A number whose evidence changed is assessed again at most this often,
    /// in seconds of event time. Default 60: a label or a burst of short
    /// calls stops a number within a minute, and a tick after every batch of
    /// a busy import costs one assessment per number per minute.
    pub reassess_secs: u32,
    /// Every number is assessed at least this often even without new
    /// evidence, because scores decay and windows slide with time alone.
    /// Default 900 (15 minutes).
    pub sweep_secs: u32,
    /// Push each number's volume allowance (the lowest over the risk
    /// profiles, for its maturity, shrunk by its risk and by its pool's
    /// learned budget; see `engine::allowance`) into the guard as its caps.
    /// Default true.
    pub allowance_caps: bool,
    /// The share of the allowance, in percent, a number keeps once its score
    /// on a profile reaches that profile's `quarantine_above`; the share
    /// falls smoothly from 100 at the profile's `watch` level. Default 35:
    /// a badly received number keeps calling at about a third of its
    /// allowance (its score can recover on fresh evidence, and a campaign
    /// whose whole list receives calls badly still runs), while the pool's
    /// healthier numbers carry the rest and the pool budget learns the
    /// volume the engines actually tolerate.
    pub risk_floor_percent: u32,
    /// On a new label or a quarantine (a burn), the pool's daily budget per
    /// number moves to this percentage of the smaller of the burned number's
    /// daily volume and the budget then (the multiplicative decrease; the
    /// whole step in a pool of up to ten numbers, a proportional part in a
    /// larger one). Default 70.
    pub pool_decrease_percent: u32,
    /// Calls a day the pool's budget per number regains for every day
    /// without a new label (the additive increase). Default 3: a budget
    /// halved from 150 is back within a month.
    pub pool_increase_per_day: u32,
    /// The pool's budget per number never drops below this. Default 10.
    pub pool_min_daily: u32,
}

impl Default for TickConfig {
    fn default() -> Self {
        TickConfig {
            reassess_secs: 60,
            sweep_secs: 900,
            allowance_caps: true,
            risk_floor_percent: 35,
            pool_decrease_percent: 70,
            pool_increase_per_day: 3,
            pool_min_daily: 10,
        }
    }
}

/// Everything the engine is configured with.
#[derive(Clone, Debug, PartialEq)]
pub struct EngineConfig {
    pub metrics: MetricsConfig,
    pub guard: GuardConfig,
    pub risk: RiskConfig,
    pub lifecycle: LifecycleConfig,
    pub tick: TickConfig,
    pub control: ControlConfig,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            metrics: MetricsConfig::default(),
            guard: GuardConfig::default(),
            risk: RiskConfig::defaults(),
            lifecycle: LifecycleConfig::default(),
            tick: TickConfig::default(),
            control: ControlConfig::default(),
        }
    }
}

/// A configuration the engine cannot run with.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Guard(#[from] ConfigError),
    #[error(transparent)]
    Lifecycle(#[from] LifecycleConfigError),
}

/// Every component, folded from one stream of events.
pub struct Engine {
    config: EngineConfig,
    ledger: Ledger,
    guard: Guard,
    labels: Labels,
    lifecycle: Lifecycle,
    tracker: RiskTracker,
    /// The latest assessment of each number.
    assessments: FastMap<E164, Assessment>,
    /// Numbers with new evidence since their latest assessment.
    dirty: FastSet<E164>,
    /// Dirty numbers whose new evidence is a label or a complaint, with the
    /// instant of the earliest such evidence: they are assessed at the next
    /// tick whatever the throttle, because a label stops a number at once
    /// (SPEC §2.4), and as of that instant, so the state change it causes
    /// carries its trigger's time, not the time someone next looked.
    urgent: FastMap<E164, Timestamp>,
    /// Numbers whose arrival was checked for a label or complaints.
    arrival_checked: FastSet<E164>,
    last_sweep: Option<Timestamp>,
    /// Each pool's daily budget per number, learned from its labels (when
    /// the closed loop is off).
    pools: PoolBudgets,
    /// The lines learned from every label and clean observation.
    control: Controller,
    /// Each number's latest caps from the closed loop, with why.
    steers: FastMap<E164, Steer>,
    /// Each pool's calls and answered calls in the 24 hours before an
    /// instant, for the suspected-label test (read once per pool and tick).
    pool_day: FastMap<String, (Timestamp, crate::control::Answered)>,
    /// During [`Engine::follow_tick`]: state changes are decided by another
    /// instance and arrive through the log, so none are made here.
    following: bool,
}

impl Engine {
    pub fn new(config: EngineConfig) -> Result<Engine, EngineError> {
        config.lifecycle.validate()?;
        let guard = Guard::new(config.guard.clone())?;
        Ok(Engine {
            ledger: Ledger::new(config.metrics),
            guard,
            labels: Labels::new(),
            lifecycle: Lifecycle::new(config.lifecycle.clone()),
            tracker: RiskTracker::new(),
            assessments: FastMap::default(),
            dirty: FastSet::default(),
            urgent: FastMap::default(),
            arrival_checked: FastSet::default(),
            last_sweep: None,
            pools: PoolBudgets::default(),
            control: Controller::new(config.control.clone(), &config.risk),
            steers: FastMap::default(),
            pool_day: FastMap::default(),
            following: false,
            config,
        })
    }

    pub fn config(&self) -> &EngineConfig {
        &self.config
    }

    pub fn ledger(&self) -> &Ledger {
        &self.ledger
    }

    pub fn guard(&self) -> &Guard {
        &self.guard
    }

    /// The guard, for settings the engine does not fold from events (the
    /// Do-Not-Call list, pool settings).
    pub fn guard_mut(&mut self) -> &mut Guard {
        &mut self.guard
    }

    pub fn labels(&self) -> &Labels {
        &self.labels
    }

    /// The lines learned from what the engines did.
    pub fn controller(&self) -> &Controller {
        &self.control
    }

    pub fn lifecycle(&self) -> &Lifecycle {
        &self.lifecycle
    }

    pub fn is_registered(&self, number: E164) -> bool {
        self.lifecycle.record(number).is_some()
    }

    /// Pure fold of one event into ledger, guard, labels and lifecycle.
    /// Never derives new events, so replaying a log (which already holds
    /// the derived events) gives the same state.
    pub fn apply(&mut self, event: &Event) {
        if let Event::Label(observed) = event {
            self.learn_from_observation(observed);
        }
        match event {
            Event::Label(observed) if shows_label(observed) => {
                self.learn_from_burn(observed.number, observed.at);
            }
            Event::StateChanged(change) if change.state == NumberState::Quarantined => {
                self.learn_from_burn(change.number, change.at);
            }
            _ => {}
        }
        let first_registration = match event {
            Event::NumberRegistered(n) if !self.is_registered(n.number) => Some(n.number),
            _ => None,
        };
        self.ledger.apply(event);
        self.guard.apply(event);
        self.labels.apply(event);
        self.lifecycle.apply(event);
        if let Some(number) = first_registration {
            // Calls imported before the number was registered count against
            // its caps from the first decision on.
            self.seed_guard(number);
        }
        let touched = match event {
            Event::Call(call) => Some(call.owned_number()),
            Event::Complaint(c) => Some(c.number),
            Event::Label(l) => Some(l.number),
            Event::NumberRegistered(n) => Some(n.number),
            _ => None,
        };
        if let Some(number) = touched
            && self.is_registered(number)
        {
            self.dirty.insert(number);
            if matches!(event, Event::Label(_) | Event::Complaint(_)) {
                let at = event.at();
                self.urgent
                    .entry(number)
                    .and_modify(|t| *t = (*t).min(at))
                    .or_insert(at);
            }
        }
    }

    fn seed_guard(&mut self, number: E164) {
        let Some(newest) = self.ledger.newest_start(number) else {
            return;
        };
        let starts: Vec<i64> = self
            .ledger
            .outbound_starts_since(number, newest - 25 * 3_600)
            .into_iter()
            .map(|s| s * 1_000)
            .collect();
        self.guard.seed_calls(number, &starts);
    }

    /// A label newly showing on a registered number, or a quarantine of an
    /// unlabeled one (complaints, blocked calls, ...: evidence it is about to
    /// burn), lowers its pool's budget below the volume the number carried:
    /// the day's calls, or the week's daily mean when that is higher.
    /// Observations of a label already showing, and the quarantine that a
    /// label itself causes, teach nothing new.
    fn learn_from_burn(&mut self, number: E164, at: Timestamp) {
        if self.labels.is_labeled(number, at) {
            return;
        }
        let Some(pool) = self.lifecycle.record(number).map(|r| r.pool.clone()) else {
            return;
        };
        let day = self.ledger.window_metrics(number, at, Window::Day).attempts;
        let week = self.ledger.window_metrics(number, at, Window::Week).attempts;
        let carried = f64::from(day).max(f64::from(week) / 7.0);
        if carried > 0.0 {
            let aimd = self.aimd();
            let size = self.ledger.pool_size(&pool);
            self.pools.on_burn(&pool, size, carried, at, aimd);
        }
    }

    /// Pairs an observation of a calling number with its figures just
    /// before it, for the closed loop. A label already showing on that
    /// carrier teaches nothing new (it is the old label, not today's
    /// traffic); nor does anything about a number that is not calling.
    fn learn_from_observation(&mut self, observed: &LabelObserved) {
        let number = observed.number;
        let state = self.lifecycle.state(number);
        let calling = state.is_some_and(NumberState::may_call);
        if !self.config.control.enabled || !calling {
            return;
        }
        let showing = self
            .labels
            .current(number, observed.at)
            .iter()
            .any(|l| l.carrier == observed.carrier && l.is_labeled());
        let labeled = shows_label(observed);
        if labeled && showing {
            return;
        }
        if labeled && !matches!(state, Some(NumberState::Active | NumberState::Watch)) {
            // A number warming up or in a plan's phase calls at small caps: a
            // label then is the engine remembering what came before, not a
            // line drawn at today's volume.
            return;
        }
        let figures = crate::control::figures(&self.ledger, self.control.config(), number, observed.at, true);
        if labeled {
            let calling = self
                .lifecycle
                .numbers()
                .into_iter()
                .filter(|n| self.lifecycle.state(*n).is_some_and(NumberState::may_call))
                .count();
            self.control
                .label(number, observed.carrier, observed.at, &figures, calling);
        } else {
            self.control.clean(observed.carrier, observed.at, &figures);
        }
    }

    fn aimd(&self) -> Aimd {
        let tick = &self.config.tick;
        Aimd {
            decrease: f64::from(tick.pool_decrease_percent.min(100)) / 100.0,
            increase_per_day: f64::from(tick.pool_increase_per_day),
            min_daily: f64::from(tick.pool_min_daily.max(1)),
        }
    }

    /// The pool's learned daily budget per number at `now`, if a label in
    /// the pool ever set one.
    pub fn pool_budget(&self, pool: &str, now: Timestamp) -> Option<f64> {
        self.pools.daily(pool, now, self.aimd())
    }

    /// May `request.to` be called at `now`, and from which number? An
    /// allowed call is reserved at once. Call [`Engine::tick`] first when
    /// time has moved: decide answers from the state as it stands.
    pub fn decide(&mut self, request: &DecideRequest, now: Timestamp) -> Decision {
        self.guard.decide(request, now)
    }

    /// Moves time to `now`: re-assesses the numbers whose evidence changed
    /// (each at most every `tick.reassess_secs`) and every number every
    /// `tick.sweep_secs`, pushes risk scores and caps into the guard, and
    /// turns due decisions into `StateChanged` events: quarantines, the
    /// plan's phases and review, aging's end, `watch` and back. The events
    /// returned are already applied; the caller appends them to the log.
    pub fn tick(&mut self, now: Timestamp) -> Vec<Event> {
        let mut out = Vec::new();
        self.control.refresh();
        self.pool_day.clear();
        let sweep = self
            .last_sweep
            .is_none_or(|last| now.duration_since(last) >= secs(self.config.tick.sweep_secs));
        if sweep {
            self.last_sweep = Some(now);
        }
        for number in self.lifecycle.numbers() {
            self.check_arrival(number, now, &mut out);
            self.assess_at_trigger(number, now, &mut out);
            self.advance_calendar(number, now, &mut out);
            if sweep || self.reassess_due(number, now) {
                self.reassess(number, now, &mut out);
            }
        }
        out
    }

    /// [`Engine::tick`] for an instance that follows another's decisions
    /// (several servers on one shared log: one of them decides a tenant's
    /// state changes). Numbers are re-assessed and the guard's scores and
    /// caps move as in a tick, but no state change is made or returned: the
    /// deciding instance's arrive through the log and are applied then.
    /// A number's arrival check is left for the deciding instance too.
    pub fn follow_tick(&mut self, now: Timestamp) {
        self.following = true;
        let changes = self.tick(now);
        self.following = false;
        debug_assert!(changes.is_empty(), "a following tick decides nothing");
    }

    /// A label or complaint that arrived since the last tick is judged as
    /// of its own instant (never before the number's present state began):
    /// the quarantine it causes, and the rest's 30 days, start there, however
    /// late the tick that finds it. The number is assessed again as of
    /// `now` in the same tick.
    fn assess_at_trigger(&mut self, number: E164, now: Timestamp, out: &mut Vec<Event>) {
        let Some(&trigger) = self.urgent.get(&number) else {
            return;
        };
        let since = self.lifecycle.record(number).map(|r| r.since);
        let at = since.map_or(trigger, |s| trigger.max(s));
        if at >= now {
            return;
        }
        self.reassess(number, at, out);
        self.dirty.insert(number);
        self.urgent.insert(number, now);
    }

    fn reassess_due(&self, number: E164, now: Timestamp) -> bool {
        if !self.dirty.contains(&number) {
            return false;
        }
        if self.urgent.contains_key(&number) {
            return true;
        }
        self.assessments
            .get(&number)
            .is_none_or(|a| now.duration_since(a.at) >= secs(self.config.tick.reassess_secs) || a.at > now)
    }

    fn emit(&mut self, change: StateChanged, out: &mut Vec<Event>) {
        if self.following {
            return;
        }
        let event = Event::StateChanged(change);
        self.apply(&event);
        out.push(event);
    }

    /// Scores the number again, moves it to `watch`/`active` or quarantine
    /// as the scores say, and pushes its risk and caps into the guard.
    fn reassess(&mut self, number: E164, now: Timestamp, out: &mut Vec<Event>) {
        self.dirty.remove(&number);
        self.urgent.remove(&number);
        let mut assessment = risk::assess(&self.ledger, &self.labels, &self.config.risk, number, now);
        if !self.label_since_state_began(number, now) {
            // The label showing was observed before the number's present
            // state began: that state (a rest ended by the calendar, an
            // operator's return to service) already answered it.
            assessment.triggers.retain(|t| t.rule != risk::TriggerRule::Label);
        }
        let mut held = Vec::new();
        if self.config.control.enabled {
            // With the closed loop on, only evidence that an engine acted (a
            // label observed, calls blocked) starts the 90-day plan. A score
            // or a share past a published threshold is hearsay: it holds the
            // number for the rest of its 24 hours instead, and the lines
            // learned from what the engines did steer it.
            let (stop, hold): (Vec<_>, Vec<_>) = std::mem::take(&mut assessment.triggers)
                .into_iter()
                .partition(|t| matches!(t.rule, risk::TriggerRule::Label | risk::TriggerRule::BlockedCalls));
            assessment.triggers = stop;
            held = hold;
        }
        let health = self.tracker.observe_assessment(&assessment, &self.config.risk);
        self.guard.set_risk(number, max_score(&assessment));
        if self.config.control.enabled {
            let mut steer = self.steer(number, now);
            if let Some(rule) = held.iter().find(|t| t.rule != risk::TriggerRule::Score) {
                let calls = self.ledger.window_counts(number, now, Window::Day).attempts;
                steer.hold(calls, &rule.state_change(number, now).reason);
            } else if !steer.stopped
                && let Some(suspicion) = self.suspicion(number, now)
            {
                let calls = self.ledger.window_counts(number, now, Window::Day).attempts;
                steer.hold_suspected(calls, &suspicion);
            } else if !steer.stopped
                && let Some(state) = self.lifecycle.state(number).filter(|s| s.is_plan_phase())
            {
                // The plan's phase caps a recovering number's day (the guard
                // applies them under these caps); the learned lines only stop
                // it early.
                steer.defer_to_phase(state, self.config.guard.hourly_cap, self.config.guard.daily_cap);
            }
            self.guard.set_caps(number, steer.hourly, steer.daily);
            self.steers.insert(number, steer);
        } else if self.config.tick.allowance_caps {
            let (hourly, daily) = self.allowance(number, now, &assessment);
            self.guard.set_caps(number, hourly, daily);
        }
        let state = self.lifecycle.state(number).unwrap_or_default();
        let quarantine = assessment.quarantine().filter(|_| state.may_call());
        self.assessments.insert(number, assessment);
        if let Some(change) = quarantine {
            let ordinal = self.next_plan_ordinal(number);
            self.emit(change, out);
            let reason = self.rest_reason(ordinal, now);
            self.emit(
                StateChanged {
                    number,
                    state: NumberState::Resting,
                    at: now,
                    reason,
                },
                out,
            );
            return;
        }
        let watch = match (state, health) {
            (NumberState::Active, Health::Watch | Health::AtRisk | Health::Labeled) => {
                Some((NumberState::Watch, "score rising"))
            }
            (NumberState::Watch, Health::Healthy) => Some((NumberState::Active, "score back to healthy")),
            _ => None,
        };
        if let Some((to, why)) = watch {
            let top = self.assessments[&number]
                .top_factor
                .as_ref()
                .map(|f| format!("; top factor on {}: {}", f.profile, f.text()))
                .unwrap_or_default();
            let reason = format!("{why} ({}){top}", health.as_str());
            self.emit(
                StateChanged {
                    number,
                    state: to,
                    at: now,
                    reason,
                },
                out,
            );
        }
    }

    /// Whether the number's own calls say it is probably labeled (see
    /// `control::suspect`): only a number in service, whose pool has others
    /// calling, and that no handset check in the last 24 hours showed clean.
    fn suspicion(&mut self, number: E164, now: Timestamp) -> Option<crate::control::Suspicion> {
        use crate::control::Answered;
        let record = self.lifecycle.record(number)?;
        if !matches!(record.state, NumberState::Active | NumberState::Watch) {
            return None;
        }
        let checked_clean = self
            .labels
            .current(number, now)
            .iter()
            .any(|l| !l.is_labeled() && now.duration_since(l.observed_at) <= jiff::SignedDuration::from_hours(24));
        if checked_clean {
            return None;
        }
        let pool = record.pool.clone();
        let day = |engine: &Engine, n: E164| {
            let c = engine.ledger.window_counts(n, now, Window::Day);
            Answered {
                calls: c.attempts,
                answered: c.answered,
            }
        };
        let own = day(self, number);
        if own.calls < self.config.control.suspect_min_calls {
            return None;
        }
        let total = match self.pool_day.get(&pool) {
            Some((at, total)) if *at == now => *total,
            _ => {
                let mut total = Answered::default();
                for n in self.lifecycle.numbers() {
                    if self.lifecycle.record(n).is_some_and(|r| r.pool == pool) {
                        let d = day(self, n);
                        total.calls += d.calls;
                        total.answered += d.answered;
                    }
                }
                self.pool_day.insert(pool, (now, total));
                total
            }
        };
        let peers = Answered {
            calls: total.calls.saturating_sub(own.calls),
            answered: total.answered.saturating_sub(own.answered),
        };
        crate::control::suspect(own, peers, &self.config.control)
    }

    /// Whether a carrier shows the number labeled on an observation made
    /// since its present state began.
    fn label_since_state_began(&self, number: E164, now: Timestamp) -> bool {
        let since = self.lifecycle.record(number).map(|r| r.since);
        self.labels
            .current(number, now)
            .iter()
            .any(|l| l.is_labeled() && since.is_none_or(|s| l.observed_at >= s))
    }

    /// The closed loop's caps for the number now, under the guard's
    /// configured ceilings.
    fn steer(&self, number: E164, now: Timestamp) -> Steer {
        let figures = crate::control::figures(&self.ledger, self.control.config(), number, now, false);
        let guard = &self.config.guard;
        self.control
            .steer(number, &figures, now, guard.hourly_cap, guard.daily_cap)
    }

    /// The number's caps: the lowest over the profiles of the allowance for
    /// its maturity times its risk share on that profile, then no more than
    /// its pool's learned budget, never above the guard's own defaults (see
    /// `engine::allowance`).
    fn allowance(&self, number: E164, now: Timestamp, assessment: &Assessment) -> (u32, u32) {
        let guard = &self.config.guard;
        let floor = f64::from(self.config.tick.risk_floor_percent.min(100)) / 100.0;
        let active_days = self.ledger.active_days(number, now);
        let mut hourly = f64::from(guard.hourly_cap);
        let mut daily = f64::from(guard.daily_cap);
        for profile in &self.config.risk.profiles {
            let allow = &profile.allowance;
            let levels = &profile.levels;
            let share = assessment.score(&profile.name).map_or(1.0, |s| {
                allowance::risk_share(s.value, levels.watch.enter, levels.quarantine_above, floor)
            });
            let at = |rate: &risk::Rate| rate.at(active_days, allow.mature_after_days) * share;
            hourly = hourly.min(at(&allow.per_hour));
            daily = daily.min(at(&allow.per_day));
        }
        let pool = self.lifecycle.record(number).map(|r| r.pool.as_str());
        if let Some(budget) = pool.and_then(|p| self.pool_budget(p, now))
            && budget < daily
        {
            // The hour keeps its proportion to the day: a smaller day must
            // not be spent in one burst.
            hourly *= budget / daily;
            daily = budget;
        }
        ((hourly.floor() as u32).max(1), (daily.floor() as u32).max(1))
    }

    /// An operator moves a number by hand. The move is checked, applied, and
    /// returned for the log.
    pub fn set_state(
        &mut self,
        number: E164,
        state: NumberState,
        at: Timestamp,
        reason: &str,
    ) -> Result<Event, MoveError> {
        let change = self.lifecycle.operator_move(number, state, at, reason)?;
        let event = Event::StateChanged(change);
        self.apply(&event);
        Ok(event)
    }

    /// A dispute step moves. The update is checked against the status rules,
    /// applied, and returned for the log.
    pub fn update_dispute(&mut self, update: DisputeUpdated) -> Result<Event, DisputeError> {
        let update = self.lifecycle.dispute_update(update)?;
        let event = Event::DisputeUpdated(update);
        self.apply(&event);
        Ok(event)
    }
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("numbers", &self.lifecycle.numbers().len())
            .field("guard", &self.guard)
            .finish()
    }
}

/// A label observation that is a label, not a clean display.
fn shows_label(obs: &LabelObserved) -> bool {
    obs.label.as_deref().is_some_and(|l| !l.trim().is_empty())
}

fn max_score(assessment: &Assessment) -> u8 {
    assessment
        .scores
        .iter()
        .map(|s| s.value)
        .fold(0.0, f64::max)
        .round()
        .clamp(0.0, 100.0) as u8
}

fn secs(n: u32) -> SignedDuration {
    SignedDuration::from_secs(i64::from(n))
}

fn days(n: u32) -> SignedDuration {
    SignedDuration::from_hours(24 * i64::from(n))
}

mod allowance;
mod plan;
mod views;

pub use views::{DisputeRow, NumberSummary, NumberView};
#[cfg(test)]
mod scenarios;
#[cfg(test)]
mod tests;
