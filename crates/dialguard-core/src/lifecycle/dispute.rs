//! Disputing a label: who to ask, in which order, by when (SPEC §2.4).
//!
//! A label observed on a number with no open calendar opens one. Its steps
//! come in a fixed order: the analytics engines that decide the labels
//! (Hiya, TNS, First Orion), then the Free Caller Registry that feeds all
//! three, then each carrier's own form, and the FCC last, only if the number
//! is still labeled. Each step has a due date counted in business days from
//! the day the label was first seen, and once submitted, a follow-up date if
//! nobody answers.
//!
//! Progress is recorded as `DisputeUpdated` events; [`check_update`] is the
//! one place the status rules live, so an illegal move is refused with a
//! reason before it reaches the log. The fold ignores an illegal update it
//! finds in a log rather than fail a replay.

use jiff::Timestamp;
use jiff::civil::{Date, Weekday};
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};

use super::config::DisputeConfig;
use crate::event::{Carrier, DisputeUpdated};
use crate::number::E164;

/// Where a dispute is filed, in calendar order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DisputeStep {
    Hiya,
    Tns,
    FirstOrion,
    FreeCallerRegistry,
    Att,
    Verizon,
    Tmobile,
    Fcc,
}

impl DisputeStep {
    pub const ALL: [DisputeStep; 8] = [
        DisputeStep::Hiya,
        DisputeStep::Tns,
        DisputeStep::FirstOrion,
        DisputeStep::FreeCallerRegistry,
        DisputeStep::Att,
        DisputeStep::Verizon,
        DisputeStep::Tmobile,
        DisputeStep::Fcc,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DisputeStep::Hiya => "hiya",
            DisputeStep::Tns => "tns",
            DisputeStep::FirstOrion => "first_orion",
            DisputeStep::FreeCallerRegistry => "free_caller_registry",
            DisputeStep::Att => "att",
            DisputeStep::Verizon => "verizon",
            DisputeStep::Tmobile => "tmobile",
            DisputeStep::Fcc => "fcc",
        }
    }

    /// Reads the names people write: `hiya`, `First Orion`, `fcr`, `AT&T`, …
    pub fn from_name(name: &str) -> Option<DisputeStep> {
        let squashed: String = name
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .collect::<String>()
            .to_ascii_lowercase();
        Some(match squashed.as_str() {
            "hiya" => DisputeStep::Hiya,
            "tns" => DisputeStep::Tns,
            "firstorion" => DisputeStep::FirstOrion,
            "freecallerregistry" | "fcr" => DisputeStep::FreeCallerRegistry,
            "fcc" => DisputeStep::Fcc,
            _ => match Carrier::from_name(name)? {
                Carrier::Att => DisputeStep::Att,
                Carrier::Verizon => DisputeStep::Verizon,
                Carrier::Tmobile => DisputeStep::Tmobile,
            },
        })
    }

    /// Who reads the dispute, for people.
    pub fn title(self) -> &'static str {
        match self {
            DisputeStep::Hiya => "Hiya (AT&T's analytics engine)",
            DisputeStep::Tns => "TNS (Verizon's analytics engine)",
            DisputeStep::FirstOrion => "First Orion (T-Mobile's analytics engine)",
            DisputeStep::FreeCallerRegistry => "Free Caller Registry",
            DisputeStep::Att => "AT&T carrier form",
            DisputeStep::Verizon => "Verizon carrier form",
            DisputeStep::Tmobile => "T-Mobile carrier form",
            DisputeStep::Fcc => "FCC complaint (only if still labeled)",
        }
    }

    /// Business days after the label was first seen by which to file.
    pub fn due_offset(self, config: &DisputeConfig) -> u32 {
        match self {
            DisputeStep::Hiya | DisputeStep::Tns | DisputeStep::FirstOrion => config.engines_due_business_days,
            DisputeStep::FreeCallerRegistry => config.registry_due_business_days,
            DisputeStep::Att | DisputeStep::Verizon | DisputeStep::Tmobile => config.carriers_due_business_days,
            DisputeStep::Fcc => config.fcc_due_business_days,
        }
    }
}

/// Where one step stands.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DisputeStatus {
    /// Not filed yet.
    #[default]
    Planned,
    /// Filed; waiting for an answer.
    Submitted,
    /// They wrote back, without settling it (asked for documents, said they
    /// are looking into it).
    Answered,
    /// The label is gone as far as this step goes.
    Resolved,
    /// They refused to remove it.
    Rejected,
}

impl DisputeStatus {
    pub const ALL: [DisputeStatus; 5] = [
        DisputeStatus::Planned,
        DisputeStatus::Submitted,
        DisputeStatus::Answered,
        DisputeStatus::Resolved,
        DisputeStatus::Rejected,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DisputeStatus::Planned => "planned",
            DisputeStatus::Submitted => "submitted",
            DisputeStatus::Answered => "answered",
            DisputeStatus::Resolved => "resolved",
            DisputeStatus::Rejected => "rejected",
        }
    }

    pub fn from_name(name: &str) -> Option<DisputeStatus> {
        DisputeStatus::ALL
            .into_iter()
            .find(|s| s.as_str().eq_ignore_ascii_case(name.trim()))
    }

    /// Nothing more happens to a step in this status.
    pub fn is_final(self) -> bool {
        matches!(self, DisputeStatus::Resolved | DisputeStatus::Rejected)
    }

    /// The status rules: which moves a step may make. A step may stay
    /// `submitted` (a follow-up was sent, which restarts the follow-up
    /// clock) or `answered` (a note added).
    pub fn may_become(self, to: DisputeStatus) -> bool {
        use DisputeStatus::*;
        matches!(
            (self, to),
            (Planned, Submitted | Resolved)
                | (Submitted, Submitted | Answered | Resolved | Rejected)
                | (Answered, Answered | Submitted | Resolved | Rejected)
        )
    }
}

/// One update of one step, as folded.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepUpdate {
    pub at: Timestamp,
    pub status: DisputeStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// One step of a calendar.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Step {
    pub step: DisputeStep,
    pub status: DisputeStatus,
    /// The business day by which to file.
    pub due: Date,
    /// When a submitted step without an answer needs chasing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub follow_up: Option<Date>,
    pub updates: Vec<StepUpdate>,
}

impl Step {
    /// The latest submission (or follow-up), if the step is waiting on one.
    pub fn submitted_at(&self) -> Option<Timestamp> {
        (self.status == DisputeStatus::Submitted)
            .then(|| self.updates.iter().rev().find(|u| u.status == DisputeStatus::Submitted))
            .flatten()
            .map(|u| u.at)
    }

    pub fn notes(&self) -> impl Iterator<Item = &str> {
        self.updates.iter().filter_map(|u| u.note.as_deref())
    }
}

/// The dispute calendar opened by one label.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Calendar {
    pub number: E164,
    /// When the label that opened it was first seen.
    pub opened_at: Timestamp,
    pub opened_by: String,
    pub steps: Vec<Step>,
}

impl Calendar {
    pub fn open(number: E164, at: Timestamp, opened_by: String, config: &DisputeConfig, zone: &TimeZone) -> Calendar {
        let start = zone.to_datetime(at).date();
        let steps = DisputeStep::ALL
            .into_iter()
            .map(|step| Step {
                step,
                status: DisputeStatus::Planned,
                due: add_business_days(start, step.due_offset(config), &config.holidays),
                follow_up: None,
                updates: Vec::new(),
            })
            .collect();
        Calendar {
            number,
            opened_at: at,
            opened_by,
            steps,
        }
    }

    /// Open while any step can still move.
    pub fn is_open(&self) -> bool {
        self.steps.iter().any(|s| !s.status.is_final())
    }

    pub fn step(&self, step: DisputeStep) -> &Step {
        self.steps
            .iter()
            .find(|s| s.step == step)
            .expect("every step is planned")
    }

    /// Folds a checked update.
    pub(crate) fn apply(&mut self, update: &DisputeUpdated, config: &DisputeConfig, zone: &TimeZone) {
        let Some(step) = self.steps.iter_mut().find(|s| s.step == update.step) else {
            return;
        };
        if !step.status.may_become(update.status) {
            return;
        }
        step.status = update.status;
        step.follow_up = (update.status == DisputeStatus::Submitted).then(|| {
            add_business_days(
                zone.to_datetime(update.at).date(),
                config.follow_up_business_days,
                &config.holidays,
            )
        });
        step.updates.push(StepUpdate {
            at: update.at,
            status: update.status,
            note: update.note.clone(),
        });
    }
}

/// Why a dispute update was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DisputeError {
    #[error(
        "{0} has no dispute calendar: one opens when a label is observed \
         (`dialguard labels add`)"
    )]
    NoCalendar(E164),
    #[error("{step} of {number} is {from}; it cannot become {to}. From {from} it may become: {allowed}")]
    Illegal {
        number: E164,
        step: &'static str,
        from: &'static str,
        to: &'static str,
        allowed: String,
    },
    #[error("the update is dated {at}, before the step's last update at {last}; give a later instant")]
    BeforeLastUpdate { at: Timestamp, last: Timestamp },
    #[error(
        "the update is dated {at}, before the label that opened this dispute calendar was seen \
         ({opened}); give the instant the step happened, at or after it"
    )]
    BeforeCalendar { at: Timestamp, opened: Timestamp },
}

/// Checks an update against the number's latest calendar and returns the
/// event that records it.
pub fn check_update(calendar: Option<&Calendar>, update: DisputeUpdated) -> Result<DisputeUpdated, DisputeError> {
    let calendar = calendar.ok_or(DisputeError::NoCalendar(update.number))?;
    if update.at < calendar.opened_at {
        return Err(DisputeError::BeforeCalendar {
            at: update.at,
            opened: calendar.opened_at,
        });
    }
    let step = calendar.step(update.step);
    if !step.status.may_become(update.status) {
        let allowed: Vec<&str> = DisputeStatus::ALL
            .into_iter()
            .filter(|to| step.status.may_become(*to))
            .map(DisputeStatus::as_str)
            .collect();
        return Err(DisputeError::Illegal {
            number: update.number,
            step: update.step.as_str(),
            from: step.status.as_str(),
            to: update.status.as_str(),
            allowed: if allowed.is_empty() {
                "nothing, it is final".to_owned()
            } else {
                allowed.join(", ")
            },
        });
    }
    if let Some(last) = step.updates.last()
        && update.at < last.at
    {
        return Err(DisputeError::BeforeLastUpdate {
            at: update.at,
            last: last.at,
        });
    }
    Ok(update)
}

/// A business day: Monday to Friday and not a listed holiday.
pub fn is_business_day(date: Date, holidays: &[Date]) -> bool {
    !matches!(date.weekday(), Weekday::Saturday | Weekday::Sunday) && !holidays.contains(&date)
}

/// The `n`th business day after `from` (`from` itself never counts, so a
/// label seen on Friday with two days to file is due on Tuesday). With
/// `n = 0`, `from` or the next business day.
pub fn add_business_days(from: Date, n: u32, holidays: &[Date]) -> Date {
    let mut date = from;
    let mut left = n;
    if left == 0 {
        while !is_business_day(date, holidays) {
            date = date.tomorrow().expect("dates stay far from year 9999");
        }
        return date;
    }
    while left > 0 {
        date = date.tomorrow().expect("dates stay far from year 9999");
        if is_business_day(date, holidays) {
            left -= 1;
        }
    }
    date
}

#[cfg(test)]
mod tests {
    use jiff::civil::date;

    use super::*;

    const N: E164 = E164::from_digits_unchecked(14_155_550_100);

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn business_days_skip_weekends_and_holidays() {
        let july_4 = date(2025, 7, 4);
        // (from, business days, holidays, due)
        let cases: &[(Date, u32, &[Date], Date)] = &[
            // Monday + 2 = Wednesday.
            (date(2025, 6, 30), 2, &[], date(2025, 7, 2)),
            // Friday + 2 = Tuesday: the weekend does not count.
            (date(2025, 6, 27), 2, &[], date(2025, 7, 1)),
            // Saturday + 1 = Monday; Sunday + 1 = Monday.
            (date(2025, 6, 28), 1, &[], date(2025, 6, 30)),
            (date(2025, 6, 29), 1, &[], date(2025, 6, 30)),
            // Thursday July 3 + 1, with Independence Day off = Monday July 7.
            (date(2025, 7, 3), 1, &[july_4], date(2025, 7, 7)),
            // Wednesday + 7 = the Friday of the next week (9 calendar days).
            (date(2025, 7, 9), 7, &[], date(2025, 7, 18)),
            // Zero days from a Saturday: the next business day.
            (date(2025, 6, 28), 0, &[], date(2025, 6, 30)),
            (date(2025, 6, 30), 0, &[], date(2025, 6, 30)),
        ];
        for (from, n, holidays, want) in cases {
            assert_eq!(add_business_days(*from, *n, holidays), *want, "{from} + {n}");
        }
    }

    fn calendar(opened: &str) -> Calendar {
        let config = DisputeConfig::default();
        let zone = config.zone().unwrap();
        Calendar::open(N, ts(opened), "\"Spam Likely\" on att (hiya)".into(), &config, &zone)
    }

    #[test]
    fn a_calendar_counts_each_step_from_the_day_the_label_was_seen() {
        // Friday 22:30 in New York is already Saturday in UTC: the business's
        // day is what counts.
        let cal = calendar("2025-06-28T02:30:00Z");
        let dues: Vec<(DisputeStep, Date)> = cal.steps.iter().map(|s| (s.step, s.due)).collect();
        assert_eq!(
            dues,
            vec![
                (DisputeStep::Hiya, date(2025, 7, 1)),
                (DisputeStep::Tns, date(2025, 7, 1)),
                (DisputeStep::FirstOrion, date(2025, 7, 1)),
                (DisputeStep::FreeCallerRegistry, date(2025, 7, 4)),
                (DisputeStep::Att, date(2025, 7, 11)),
                (DisputeStep::Verizon, date(2025, 7, 11)),
                (DisputeStep::Tmobile, date(2025, 7, 11)),
                (DisputeStep::Fcc, date(2025, 8, 1)),
            ]
        );
        assert!(cal.steps.iter().all(|s| s.status == DisputeStatus::Planned));
    }

    fn update(step: DisputeStep, status: DisputeStatus, at: &str) -> DisputeUpdated {
        DisputeUpdated {
            number: N,
            step,
            status,
            at: ts(at),
            note: Some(format!("{} {}", step.as_str(), status.as_str())),
        }
    }

    /// Puts the Hiya step in `status` by legal moves.
    fn step_in(status: DisputeStatus) -> Calendar {
        use DisputeStatus::*;
        let config = DisputeConfig::default();
        let zone = config.zone().unwrap();
        let mut cal = calendar("2025-06-30T14:00:00Z");
        let path: &[DisputeStatus] = match status {
            Planned => &[],
            Submitted => &[Submitted],
            Answered => &[Submitted, Answered],
            Resolved => &[Submitted, Resolved],
            Rejected => &[Submitted, Rejected],
        };
        for (i, s) in path.iter().enumerate() {
            let u = update(DisputeStep::Hiya, *s, &format!("2025-07-0{}T14:00:00Z", i + 1));
            let u = check_update(Some(&cal), u).unwrap();
            cal.apply(&u, &config, &zone);
        }
        assert_eq!(cal.step(DisputeStep::Hiya).status, status);
        cal
    }

    #[test]
    fn every_status_move_is_allowed_or_refused_with_what_is_allowed() {
        use DisputeStatus::*;
        // (from, to, allowed)
        let table: &[(DisputeStatus, DisputeStatus, bool)] = &[
            (Planned, Planned, false),
            (Planned, Submitted, true),
            (Planned, Answered, false),
            (Planned, Resolved, true),
            (Planned, Rejected, false),
            (Submitted, Planned, false),
            (Submitted, Submitted, true),
            (Submitted, Answered, true),
            (Submitted, Resolved, true),
            (Submitted, Rejected, true),
            (Answered, Planned, false),
            (Answered, Submitted, true),
            (Answered, Answered, true),
            (Answered, Resolved, true),
            (Answered, Rejected, true),
            (Resolved, Planned, false),
            (Resolved, Submitted, false),
            (Resolved, Answered, false),
            (Resolved, Resolved, false),
            (Resolved, Rejected, false),
            (Rejected, Planned, false),
            (Rejected, Submitted, false),
            (Rejected, Answered, false),
            (Rejected, Resolved, false),
            (Rejected, Rejected, false),
        ];
        assert_eq!(table.len(), 25, "every pair of statuses");
        for &(from, to, allowed) in table {
            let cal = step_in(from);
            let got = check_update(Some(&cal), update(DisputeStep::Hiya, to, "2025-07-10T14:00:00Z"));
            match (allowed, got) {
                (true, Ok(u)) => assert_eq!(u.status, to),
                (false, Err(e)) => {
                    let text = e.to_string();
                    assert!(
                        text.contains(&format!("hiya of +14155550100 is {}", from.as_str()))
                            && text.contains(&format!("cannot become {}", to.as_str())),
                        "{from:?} → {to:?}: {text}"
                    );
                    if from.is_final() {
                        assert!(text.contains("nothing, it is final"), "{text}");
                    }
                }
                (allowed, got) => panic!("{from:?} → {to:?}: expected allowed={allowed}, got {got:?}"),
            }
        }
    }

    #[test]
    fn a_submission_sets_a_follow_up_and_a_follow_up_restarts_the_clock() {
        let config = DisputeConfig::default();
        let zone = config.zone().unwrap();
        let mut cal = calendar("2025-06-30T14:00:00Z");
        // Submitted on Thursday July 3 (New York): 7 business days later is
        // Monday July 14 (the July 4 holiday is not configured).
        let u = update(DisputeStep::Tns, DisputeStatus::Submitted, "2025-07-03T18:00:00Z");
        cal.apply(&check_update(Some(&cal), u).unwrap(), &config, &zone);
        assert_eq!(cal.step(DisputeStep::Tns).follow_up, Some(date(2025, 7, 14)));
        let u = update(DisputeStep::Tns, DisputeStatus::Submitted, "2025-07-14T15:00:00Z");
        cal.apply(&check_update(Some(&cal), u).unwrap(), &config, &zone);
        assert_eq!(cal.step(DisputeStep::Tns).follow_up, Some(date(2025, 7, 23)));
        let u = update(DisputeStep::Tns, DisputeStatus::Answered, "2025-07-15T15:00:00Z");
        cal.apply(&check_update(Some(&cal), u).unwrap(), &config, &zone);
        assert_eq!(cal.step(DisputeStep::Tns).follow_up, None, "an answer ends the wait");
        let notes: Vec<&str> = cal.step(DisputeStep::Tns).notes().collect();
        assert_eq!(notes, vec!["tns submitted", "tns submitted", "tns answered"]);
    }

    #[test]
    fn updates_need_a_calendar_and_must_not_go_back_in_time() {
        let err = check_update(
            None,
            update(DisputeStep::Fcc, DisputeStatus::Submitted, "2025-07-01T00:00:00Z"),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("has no dispute calendar"), "{err}");
        let cal = step_in(DisputeStatus::Submitted);
        let err = check_update(
            Some(&cal),
            update(DisputeStep::Hiya, DisputeStatus::Answered, "2025-06-30T20:00:00Z"),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("before the step's last update"), "{err}");
        // Another step, dated before the label that opened the calendar.
        let err = check_update(
            Some(&cal),
            update(DisputeStep::Tns, DisputeStatus::Submitted, "2025-06-30T13:59:00Z"),
        )
        .unwrap_err();
        assert!(matches!(err, DisputeError::BeforeCalendar { .. }), "{err}");
        assert!(
            check_update(
                Some(&cal),
                update(DisputeStep::Tns, DisputeStatus::Submitted, "2025-06-30T14:00:00Z")
            )
            .is_ok()
        );
    }

    #[test]
    fn step_names_read_the_way_people_write_them() {
        let cases = [
            ("hiya", Some(DisputeStep::Hiya)),
            ("First Orion", Some(DisputeStep::FirstOrion)),
            ("first_orion", Some(DisputeStep::FirstOrion)),
            ("FCR", Some(DisputeStep::FreeCallerRegistry)),
            ("free-caller-registry", Some(DisputeStep::FreeCallerRegistry)),
            ("AT&T", Some(DisputeStep::Att)),
            ("T-Mobile", Some(DisputeStep::Tmobile)),
            ("fcc", Some(DisputeStep::Fcc)),
            ("nomorobo", None),
        ];
        for (name, want) in cases {
            assert_eq!(DisputeStep::from_name(name), want, "{name}");
        }
        assert_eq!(DisputeStatus::from_name(" Submitted "), Some(DisputeStatus::Submitted));
        assert_eq!(DisputeStatus::from_name("done"), None);
    }
}
