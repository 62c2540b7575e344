//! A number's whole story, oldest first: registration, every state change
//! with its reason, every label seen, every plan and how it ended, every
//! dispute step (SPEC §2.4, history). `dialguard history` prints it; the
//! documentation package includes it.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::report::PlanView;
use super::{NumberRecord, PlanOutcome};
use crate::event::LabelObserved;

/// What an entry is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryKind {
    Registered,
    State,
    Label,
    Plan,
    Dispute,
}

impl EntryKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EntryKind::Registered => "registered",
            EntryKind::State => "state",
            EntryKind::Label => "label",
            EntryKind::Plan => "plan",
            EntryKind::Dispute => "dispute",
        }
    }
}

/// One line of the story.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub at: Timestamp,
    pub kind: EntryKind,
    pub text: String,
}

/// The story of one number from its record, its label observations and
/// its plans' records, sorted by instant (ties keep the order above).
pub fn timeline(record: &NumberRecord, labels: &[LabelObserved], plans: &[PlanView]) -> Vec<Entry> {
    let mut entries = vec![Entry {
        at: record.registered_at,
        kind: EntryKind::Registered,
        text: format!(
            "registered in pool {} as {}",
            record.pool,
            record.registered_state.as_str()
        ),
    }];
    for obs in labels {
        let text = match obs.label.as_deref().map(str::trim).filter(|l| !l.is_empty()) {
            Some(label) => format!(
                "{} ({}) showed {label:?}; seen via {}",
                obs.carrier.as_str(),
                obs.carrier.engine(),
                obs.source
            ),
            None => format!(
                "{} ({}) showed it clean; seen via {}",
                obs.carrier.as_str(),
                obs.carrier.engine(),
                obs.source
            ),
        };
        entries.push(Entry {
            at: obs.at,
            kind: EntryKind::Label,
            text,
        });
    }
    for change in &record.changes {
        entries.push(Entry {
            at: change.at,
            kind: EntryKind::State,
            text: format!("→ {}: {}", change.state.as_str(), change.reason),
        });
    }
    for view in plans {
        entries.extend(plan_entries(view));
    }
    for calendar in &record.disputes {
        entries.push(Entry {
            at: calendar.opened_at,
            kind: EntryKind::Dispute,
            text: format!("dispute calendar opened by {}", calendar.opened_by),
        });
        for step in &calendar.steps {
            for update in &step.updates {
                let note = update.note.as_deref().map(|n| format!(": {n}")).unwrap_or_default();
                entries.push(Entry {
                    at: update.at,
                    kind: EntryKind::Dispute,
                    text: format!("{} → {}{note}", step.step.title(), update.status.as_str()),
                });
            }
        }
    }
    entries.sort_by_key(|e| e.at);
    entries
}

/// A plan's end, with its record: the entries a reader learns from.
fn plan_entries(view: &PlanView) -> Vec<Entry> {
    let plan = &view.plan;
    let mut entries = Vec::new();
    let (Some(at), Some(outcome)) = (plan.ended_at, plan.outcome.as_ref()) else {
        if view.retirement_recommended {
            entries.push(Entry {
                at: plan.setbacks.last().map_or(plan.started_at, |s| s.at),
                kind: EntryKind::Plan,
                text: format!(
                    "plan #{} has failed {} times: retire the number and replace it",
                    plan.ordinal,
                    plan.failures()
                ),
            });
        }
        return entries;
    };
    let days = at.duration_since(plan.started_at).as_hours() / 24;
    let how = match outcome {
        PlanOutcome::Completed => "completed".to_owned(),
        PlanOutcome::Ended { state } => format!("ended unfinished (moved to {})", state.as_str()),
    };
    let phases: Vec<String> = view
        .phases
        .iter()
        .filter(|p| p.phase != super::Phase::Rest)
        .map(|p| {
            format!(
                "{} {} days, {} calls ({:.1} a day, busiest {}), {} long: {}",
                p.phase.as_str(),
                p.days,
                p.calls,
                p.avg_calls_per_day,
                p.max_calls_in_a_day,
                p.long_call_share
                    .map_or("no answered calls".to_owned(), |s| format!("{:.0} %", s * 100.0)),
                if p.met {
                    "goals met".to_owned()
                } else {
                    p.missed.join("; ")
                }
            )
        })
        .collect();
    entries.push(Entry {
        at,
        kind: EntryKind::Plan,
        text: format!(
            "plan #{} {how} after {days} days, {} setback(s){}{}",
            plan.ordinal,
            plan.failures(),
            if phases.is_empty() { "" } else { "; " },
            phases.join("; ")
        ),
    });
    entries
}
