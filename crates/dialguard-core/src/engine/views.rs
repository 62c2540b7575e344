//! The engine's read views: what the commands, the API and the dashboard
//! show about numbers, plans and disputes as of an instant. Nothing here
//! changes state.

use jiff::Timestamp;
use jiff::civil::Date;
use serde::Serialize;

use super::*;

/// One line of the numbers list.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct NumberSummary {
    pub number: E164,
    pub pool: String,
    pub state: NumberState,
    pub health: Health,
    /// The highest score over the profiles, 0-100.
    pub risk: u8,
    /// Outbound calls in the last 24 hours.
    pub calls_today: u32,
    /// The most the number may place in any 24 hours now (0 when its state
    /// allows no calls).
    pub cap_today: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub top_factor: Option<TopFactor>,
    /// Why `cap_today` is what it is, in plain words.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cap_reason: Option<String>,
}

/// Everything known about one number.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct NumberView {
    pub number: E164,
    pub pool: String,
    pub state: NumberState,
    pub state_since: Timestamp,
    pub health: Health,
    /// Every profile's score with its factors.
    pub risk: Assessment,
    pub metrics: NumberMetrics,
    pub labels: Vec<CarrierLabel>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub usage: Option<NumberUsage>,
    /// The caps the closed loop set and why (see `control`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub steer: Option<Steer>,
    /// The plan in progress, with its record so far.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plan: Option<PlanView>,
    /// Every plan, finished ones included.
    pub plans: Vec<PlanView>,
    /// Every dispute calendar, the latest last.
    pub disputes: Vec<Calendar>,
    /// Why the number should be replaced rather than used, when it arrived
    /// labeled or named in complaints.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub burned_on_arrival: Option<String>,
    /// Every state change since registration.
    pub history: Vec<StateChanged>,
}

/// One step of one number's dispute calendar, for lists.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DisputeRow {
    pub number: E164,
    pub step: DisputeStep,
    pub status: DisputeStatus,
    pub due: Date,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub follow_up: Option<Date>,
    /// What needs doing on `today`, if anything: `file` or `follow up`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub action: Option<&'static str>,
    /// A carrier still shows a label.
    pub still_labeled: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_note: Option<String>,
}

impl DisputeRow {
    /// When the step's `action` fell due (the step's due date to file it,
    /// its follow-up date to follow up) and how many days `today` is past
    /// it (0: due today); `None` when nothing is to be done.
    pub fn overdue(&self, today: Date) -> Option<(Date, i32)> {
        let due = match self.action? {
            "follow up" => self.follow_up?,
            _ => self.due,
        };
        Some((due, (today - due).get_days()))
    }
}

impl Engine {
    /// The latest assessment if nothing changed since, or a fresh one.
    fn assessment(&self, number: E164, now: Timestamp) -> Assessment {
        match self.assessments.get(&number) {
            Some(a) if a.at == now || (!self.dirty.contains(&number) && a.at <= now) => a.clone(),
            _ => risk::assess(&self.ledger, &self.labels, &self.config.risk, number, now),
        }
    }

    /// One line per registered number, sorted by number.
    pub fn numbers(&self, now: Timestamp) -> Vec<NumberSummary> {
        self.lifecycle
            .numbers()
            .into_iter()
            .filter_map(|number| {
                let record = self.lifecycle.record(number)?;
                let assessment = self.assessment(number, now);
                let usage = self.guard.usage(number, now);
                let may_call = record.state.may_call();
                Some(NumberSummary {
                    number,
                    pool: record.pool.clone(),
                    state: record.state,
                    health: assessment.health,
                    risk: max_score(&assessment),
                    calls_today: usage.as_ref().map_or(0, |u| u.calls_last_24h),
                    cap_today: usage.filter(|_| may_call).map_or(0, |u| u.daily_cap),
                    top_factor: assessment.top_factor,
                    cap_reason: self.cap_reason(number, record.state),
                })
            })
            .collect()
    }

    /// The numbers held for the day as suspected labeled (their own answer
    /// rate far under their pool's), with the test that says so; by number.
    /// As of the engine's latest re-assessment of each.
    pub fn suspected(&self) -> Vec<(E164, String)> {
        let mut held: Vec<(E164, String)> = self
            .steers
            .iter()
            .filter(|(_, s)| s.suspected)
            .map(|(n, s)| (*n, s.why.clone()))
            .collect();
        held.sort_by_key(|(n, _)| *n);
        held
    }

    /// Why the number's cap is what it is: its state when that allows no
    /// calls, else the closed loop's reason.
    fn cap_reason(&self, number: E164, state: NumberState) -> Option<String> {
        if !state.may_call() {
            return Some(format!("cap 0: {} numbers place no calls", state.as_str()));
        }
        self.steers.get(&number).map(|s| s.why.clone())
    }

    /// Everything known about one registered number.
    pub fn number(&self, number: E164, now: Timestamp) -> Option<NumberView> {
        let record = self.lifecycle.record(number)?;
        let assessment = self.assessment(number, now);
        let plans = self.plan_views(record, now);
        Some(NumberView {
            number,
            pool: record.pool.clone(),
            state: record.state,
            state_since: record.since,
            health: assessment.health,
            labels: assessment.labels.clone(),
            risk: assessment,
            metrics: self.ledger.metrics(number, now),
            usage: self.guard.usage(number, now),
            steer: self.steers.get(&number).cloned(),
            plan: plans.last().filter(|p| p.plan.is_open()).cloned(),
            plans,
            disputes: record.disputes.clone(),
            burned_on_arrival: self.burned_on_arrival(record),
            history: record.changes.clone(),
        })
    }

    fn plan_views(&self, record: &NumberRecord, now: Timestamp) -> Vec<PlanView> {
        let config = &self.config.lifecycle.plan;
        record
            .plans
            .iter()
            .map(|p| plan_view(p, &self.ledger, &self.labels, config, record.number, now))
            .collect()
    }

    /// The calendar date of `now` in the business's zone.
    pub fn today(&self, now: Timestamp) -> Date {
        self.lifecycle.zone().to_datetime(now).date()
    }

    /// Every step of every open dispute calendar, by number then calendar
    /// order, with what is due on `now`'s date. The FCC step is due only if a
    /// carrier still shows a label.
    pub fn disputes(&self, now: Timestamp) -> Vec<DisputeRow> {
        let today = self.today(now);
        let mut rows = Vec::new();
        for number in self.lifecycle.numbers() {
            let Some(calendar) = self.lifecycle.record(number).and_then(NumberRecord::calendar) else {
                continue;
            };
            if !calendar.is_open() {
                continue;
            }
            let still_labeled = self.labels.is_labeled(number, now);
            for step in &calendar.steps {
                let action = match step.status {
                    DisputeStatus::Planned if step.due <= today && (step.step != DisputeStep::Fcc || still_labeled) => {
                        Some("file")
                    }
                    DisputeStatus::Submitted if step.follow_up.is_some_and(|f| f <= today) => Some("follow up"),
                    _ => None,
                };
                rows.push(DisputeRow {
                    number,
                    step: step.step,
                    status: step.status,
                    due: step.due,
                    follow_up: step.follow_up,
                    action,
                    still_labeled,
                    last_note: step.notes().last().map(str::to_owned),
                });
            }
        }
        rows
    }

    /// A number's whole story, oldest first.
    pub fn history(&self, number: E164, now: Timestamp) -> Option<Vec<Entry>> {
        let record = self.lifecycle.record(number)?;
        let plans = self.plan_views(record, now);
        let mut entries = timeline(record, self.labels.history(number), &plans);
        if let Some(evidence) = self.burned_on_arrival(record) {
            entries.insert(
                1.min(entries.len()),
                Entry {
                    at: record.registered_at,
                    kind: crate::lifecycle::EntryKind::Registered,
                    text: format!("burned on arrival: {evidence}"),
                },
            );
        }
        Some(entries)
    }

    /// The documentation package of one number as of `now`: the last 90
    /// calendar days in the business's zone, today excluded (it is not over).
    pub fn package(&self, number: E164, business: &BusinessProfile, now: Timestamp) -> Option<Package> {
        let record = self.lifecycle.record(number)?;
        let zone = self.lifecycle.zone();
        let today = self.today(now);
        let mut daily = Vec::with_capacity(90);
        for back in (1..=90).rev() {
            let date = today - jiff::Span::new().days(back);
            let (Ok(from), Ok(to)) = (
                date.to_zoned_datetime(zone.clone()).map(|z| z.timestamp()),
                date.tomorrow()
                    .and_then(|d| d.to_zoned_datetime(zone.clone()))
                    .map(|z| z.timestamp()),
            ) else {
                continue;
            };
            let figures = daily_figures(&self.ledger, number, from, to).into_iter().next();
            if let Some(figures) = figures {
                daily.push(DailyRow { date, figures });
            }
        }
        let figures: Vec<_> = daily.iter().map(|d| d.figures.clone()).collect();
        let last_30 = &figures[figures.len().saturating_sub(30)..];
        Some(Package {
            number,
            generated_at: now,
            time_zone: self.config.lifecycle.disputes.time_zone.clone(),
            business: business.clone(),
            pool: record.pool.clone(),
            state: record.state,
            registered_at: record.registered_at,
            last_30_days: UsageSummary::of(last_30),
            last_90_days: UsageSummary::of(&figures),
            daily,
            labels_now: self.labels.current(number, now),
            label_history: self.labels.history(number).to_vec(),
            plans: self.plan_views(record, now),
            disputes: record.disputes.clone(),
            history: self.history(number, now).unwrap_or_default(),
        })
    }

    /// The numbers in service (`aging`, `active`, `watch`), sorted: what the
    /// business registers with the Free Caller Registry.
    pub fn in_service(&self) -> Vec<E164> {
        self.lifecycle
            .numbers()
            .into_iter()
            .filter(|n| {
                matches!(
                    self.lifecycle.state(*n),
                    Some(NumberState::Aging | NumberState::Active | NumberState::Watch)
                )
            })
            .collect()
    }

    /// The Free Caller Registry rows of the numbers in service.
    pub fn fcr_rows(&self, business: &BusinessProfile, now: Timestamp) -> Vec<FcrRow> {
        self.in_service()
            .into_iter()
            .map(|number| {
                let month = self.ledger.window_metrics(number, now, crate::metrics::Window::Month);
                let expected = if month.attempts > 0 {
                    month.attempts.div_ceil(30)
                } else {
                    self.guard.usage(number, now).map_or(0, |u| u.daily_cap)
                };
                FcrRow::new(number, business, expected)
            })
            .collect()
    }
}
