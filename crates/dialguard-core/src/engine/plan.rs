//! The lifecycle's clock in the engine: a number's arrival check, the
//! recovery plan's phases, its review and its end. `tick` calls these; a
//! change to the plan's course touches this file.

use jiff::Timestamp;

use super::*;

impl Engine {
    /// A number that arrives labeled, or named in recent complaints, was
    /// burned by its previous holder: it is retired at once and reported for
    /// replacement. Checked once, and only while the number has not moved
    /// since it was registered, so an operator's later decision stands.
    pub(super) fn check_arrival(&mut self, number: E164, now: Timestamp, out: &mut Vec<Event>) {
        if self.following || !self.arrival_checked.insert(number) {
            return;
        }
        let Some(record) = self.lifecycle.record(number) else {
            return;
        };
        if !record.changes.is_empty() || record.state == NumberState::Retired {
            return;
        }
        if let Some(evidence) = self.burned_on_arrival(record) {
            let at = now.max(record.registered_at);
            self.emit(
                StateChanged {
                    number,
                    state: NumberState::Retired,
                    at,
                    reason: format!("burned on arrival: {evidence}; replace it with a clean number"),
                },
                out,
            );
        }
    }

    /// What marks a number as recycled and burned when it was registered.
    pub fn burned_on_arrival(&self, record: &NumberRecord) -> Option<String> {
        let at = record.registered_at;
        let labeled = self
            .labels
            .history(record.number)
            .iter()
            .rfind(|o| o.at <= at && shows_label(o));
        if let Some(obs) = labeled {
            return Some(format!(
                "{:?} was already showing on {} ({}) at {}",
                obs.label.as_deref().unwrap_or_default(),
                obs.carrier.as_str(),
                obs.carrier.engine(),
                obs.at
            ));
        }
        let days = self.config.lifecycle.arrival_complaint_days;
        let complaints = self
            .ledger
            .activity(record.number, at, i64::from(days) * 86_400)
            .complaints;
        (complaints > 0).then(|| format!("named in {complaints} complaint(s) in the {days} days before registration"))
    }

    /// Turns the plan's and aging's calendars into events, each at the
    /// instant it fell due (a tick after a quiet month catches up in order).
    pub(super) fn advance_calendar(&mut self, number: E164, now: Timestamp, out: &mut Vec<Event>) {
        // A plan has at most three steps due per attempt; the bound only
        // guards against a calendar that never moves.
        for _ in 0..16 {
            let Some(record) = self.lifecycle.record(number) else {
                return;
            };
            if record.state == NumberState::Aging {
                let done = record.since + days(self.config.lifecycle.aging_days);
                if done <= now {
                    let reason = format!(
                        "aging complete: {} days of ramped-up calling",
                        self.config.lifecycle.aging_days
                    );
                    self.emit(
                        StateChanged {
                            number,
                            state: NumberState::Active,
                            at: done,
                            reason,
                        },
                        out,
                    );
                }
                return;
            }
            let Some(plan) = record.open_plan() else {
                return;
            };
            let plan_config = &self.config.lifecycle.plan;
            let Some((due, what)) = plan.next_due(plan_config) else {
                return;
            };
            if due > now {
                return;
            }
            let changes = match what {
                Due::Limited => self.end_rest(plan, number, due),
                Due::Moderate => vec![StateChanged {
                    number,
                    state: NumberState::RehabModerate,
                    at: due,
                    reason: format!(
                        "plan #{}: limited phase over; moderate phase (up to {} calls a day, new contacts allowed)",
                        plan.ordinal, self.config.guard.rehab_moderate.daily_cap
                    ),
                }],
                Due::Review => vec![self.review(plan, number, due)],
            };
            for change in changes {
                self.emit(change, out);
            }
        }
    }

    /// Rest is over: calls resume, unless a carrier still shows a label, in
    /// which case calling would only confirm it and the rest starts again.
    ///
    /// Only a label observed during the rest counts: the one that started
    /// it is why the number rested, not news that it still shows, so with
    /// no one checking, the plan moves by the calendar.
    fn end_rest(&self, plan: &Plan, number: E164, due: Timestamp) -> Vec<StateChanged> {
        let rest_from = plan.rest_from();
        let showing: Vec<String> = self
            .labels
            .current(number, due)
            .into_iter()
            .filter(|l| l.is_labeled() && l.observed_at > rest_from)
            .map(|l| format!("{} ({})", l.carrier.as_str(), l.label.unwrap_or_default()))
            .collect();
        if showing.is_empty() {
            let caps = &self.config.guard.rehab_limited;
            return vec![StateChanged {
                number,
                state: NumberState::RehabLimited,
                at: due,
                reason: format!(
                    "plan #{}: rest over; limited phase (up to {} calls a day{})",
                    plan.ordinal,
                    caps.daily_cap,
                    if caps.known_contacts_only {
                        ", known contacts only"
                    } else {
                        ""
                    }
                ),
            }];
        }
        let reason = format!(
            "plan #{}: rest over but still labeled on {}; rest starts again",
            plan.ordinal,
            showing.join(", ")
        );
        vec![
            StateChanged {
                number,
                state: NumberState::Quarantined,
                at: due,
                reason: reason.clone(),
            },
            StateChanged {
                number,
                state: NumberState::Resting,
                at: due,
                reason: self.rest_reason(plan.ordinal, due),
            },
        ]
    }

    pub(super) fn rest_reason(&self, ordinal: u32, from: Timestamp) -> String {
        let plan = &self.config.lifecycle.plan;
        format!(
            "plan #{ordinal}: rest, no calls for {} days (until {})",
            plan.rest_days,
            from + days(plan.rest_days)
        )
    }

    /// Day 90: back to `active` if no label was observed since the limited
    /// phase began and every profile is healthy; otherwise extended.
    fn review(&self, plan: &Plan, number: E164, due: Timestamp) -> StateChanged {
        let plan_config = &self.config.lifecycle.plan;
        let since = plan.limited_from().unwrap_or(plan.rest_from());
        let mut failures = Vec::new();
        if let Some(obs) = self
            .labels
            .history(number)
            .iter()
            .rfind(|o| o.at >= since && o.at <= due && shows_label(o))
        {
            failures.push(format!(
                "label {:?} observed on {} at {}",
                obs.label.as_deref().unwrap_or_default(),
                obs.carrier.as_str(),
                obs.at
            ));
        }
        let assessment = risk::assess(&self.ledger, &self.labels, &self.config.risk, number, due);
        for score in assessment.scores.iter().filter(|s| s.level != Level::Healthy) {
            failures.push(format!(
                "profile {} is {} (score {:.0})",
                score.profile,
                score.level.as_str(),
                score.value
            ));
        }
        if failures.is_empty() {
            return StateChanged {
                number,
                state: NumberState::Active,
                at: due,
                reason: format!(
                    "plan #{} completed: no label since {} and every profile healthy",
                    plan.ordinal, since
                ),
            };
        }
        let failures_after = plan.failures() + 1;
        let recommend = if failures_after >= plan_config.recommend_retirement_after as usize {
            format!("; {failures_after} failures: retire the number and replace it")
        } else {
            String::new()
        };
        StateChanged {
            number,
            state: NumberState::RehabModerate,
            at: due,
            reason: format!(
                "plan #{} review failed ({}); moderate phase extended by {} days{recommend}",
                plan.ordinal,
                failures.join("; "),
                plan_config.extension_days
            ),
        }
    }

    pub(super) fn next_plan_ordinal(&self, number: E164) -> u32 {
        self.lifecycle.record(number).map_or(1, |r| match r.open_plan() {
            Some(open) => open.ordinal,
            None => r.plans.len() as u32 + 1,
        })
    }
}
