//! The documentation package for a dispute, and the Free Caller Registry
//! export (SPEC §2.4).
//!
//! A reviewer at an analytics engine or a carrier decides in minutes whether
//! a number belongs to a real business that calls responsibly. The package
//! gives them, on one page: who the business is ([`BusinessProfile`], read
//! from a TOML file the business keeps), how the number has been used over
//! the last 30 and 90 days, day by day, and what happened to it: labels,
//! plans, disputes. It renders as Markdown for people, JSON for systems and
//! a CSV of the daily figures for whoever wants to check the sums.

use std::fmt::Write as _;

use jiff::Timestamp;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use super::dispute::Calendar;
use super::history::Entry;
use super::report::{DayFigures, PlanView};
use super::{NumberState, PlanOutcome};
use crate::event::LabelObserved;
use crate::number::E164;
use crate::risk::CarrierLabel;

/// Who the business is, as the dispute forms ask.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BusinessProfile {
    pub legal_name: String,
    /// The name people know, when it differs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dba: Option<String>,
    pub website: String,
    /// Street address, city, state and ZIP, as registered.
    pub address: String,
    pub years_in_operation: u32,
    /// Why the business calls people: "appointment reminders for patients".
    pub use_case: String,
    /// How the people called agreed to it.
    pub opt_in_process: String,
    /// Licences and registrations: "NMLS #123456", "FCC 499 filer ID …".
    #[serde(default)]
    pub licences: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact_email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact_phone: Option<String>,
    /// Federal employer identification number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ein: Option<String>,
}

/// A business file that cannot be used.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BusinessError {
    #[error("{file}: {reason}")]
    Syntax { file: String, reason: String },
    #[error("{file}: `{key}` {reason}")]
    Invalid {
        file: String,
        key: &'static str,
        reason: String,
    },
}

impl BusinessProfile {
    /// Reads the TOML form; every required field must say something.
    pub fn from_toml(file: &str, text: &str) -> Result<BusinessProfile, BusinessError> {
        let profile: BusinessProfile = toml::from_str(text).map_err(|e| BusinessError::Syntax {
            file: file.to_owned(),
            reason: e.to_string().trim_end().to_owned(),
        })?;
        for (key, value) in [
            ("legal_name", &profile.legal_name),
            ("website", &profile.website),
            ("address", &profile.address),
            ("use_case", &profile.use_case),
            ("opt_in_process", &profile.opt_in_process),
        ] {
            if value.trim().is_empty() {
                return Err(BusinessError::Invalid {
                    file: file.to_owned(),
                    key,
                    reason: "is empty; reviewers read it first, so say it plainly".to_owned(),
                });
            }
        }
        Ok(profile)
    }
}

/// A span's figures summed: what "responsible use" looks like in numbers.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UsageSummary {
    pub days: u32,
    pub calls: u32,
    pub calls_per_day: f64,
    pub max_calls_in_a_day: u32,
    pub answered: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answer_rate: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub avg_talk_seconds: Option<f64>,
    /// Answered calls of at most the short-call threshold, over answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub short_call_share: Option<f64>,
    /// Answered calls of 2 minutes or more, over answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub long_call_share: Option<f64>,
    pub complaints: u32,
}

impl UsageSummary {
    pub fn of(days: &[DayFigures]) -> UsageSummary {
        let sum = |f: fn(&DayFigures) -> u32| days.iter().map(f).sum::<u32>();
        let calls = sum(|d| d.calls);
        let answered = sum(|d| d.answered);
        let talk: u64 = days.iter().map(|d| d.talk_seconds).sum();
        let share = |part: u32, whole: u32| (whole > 0).then(|| f64::from(part) / f64::from(whole));
        UsageSummary {
            days: days.len() as u32,
            calls,
            calls_per_day: if days.is_empty() {
                0.0
            } else {
                f64::from(calls) / days.len() as f64
            },
            max_calls_in_a_day: days.iter().map(|d| d.calls).max().unwrap_or(0),
            answered,
            answer_rate: share(answered, calls),
            avg_talk_seconds: (answered > 0).then(|| talk as f64 / f64::from(answered)),
            short_call_share: share(sum(|d| d.short_calls), answered),
            long_call_share: share(sum(|d| d.long_calls), answered),
            complaints: sum(|d| d.complaints),
        }
    }
}

/// One calendar day of the package's CSV.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DailyRow {
    pub date: Date,
    #[serde(flatten)]
    pub figures: DayFigures,
}

/// Everything a dispute reviewer needs about one number.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Package {
    pub number: E164,
    pub generated_at: Timestamp,
    /// The zone whose calendar days the daily figures follow.
    pub time_zone: String,
    pub business: BusinessProfile,
    pub pool: String,
    pub state: NumberState,
    pub registered_at: Timestamp,
    pub last_30_days: UsageSummary,
    pub last_90_days: UsageSummary,
    /// The last 90 calendar days, oldest first.
    pub daily: Vec<DailyRow>,
    /// What each carrier shows now.
    pub labels_now: Vec<CarrierLabel>,
    pub label_history: Vec<LabelObserved>,
    pub plans: Vec<PlanView>,
    pub disputes: Vec<Calendar>,
    pub history: Vec<Entry>,
}

fn pct(share: Option<f64>) -> String {
    share.map_or("–".to_owned(), |s| format!("{:.0} %", s * 100.0))
}

fn secs(value: Option<f64>) -> String {
    value.map_or("–".to_owned(), |s| format!("{s:.0} s"))
}

impl Package {
    /// The daily figures as CSV, one row per calendar day.
    pub fn daily_csv(&self) -> String {
        let mut out = csv::Writer::from_writer(Vec::new());
        out.write_record([
            "date",
            "calls",
            "answered",
            "answer_rate",
            "long_calls",
            "short_calls",
            "avg_talk_seconds",
            "invalid",
            "complaints",
        ])
        .expect("writing to memory");
        for row in &self.daily {
            let d = &row.figures;
            let avg = (d.answered > 0).then(|| d.talk_seconds as f64 / f64::from(d.answered));
            out.write_record([
                row.date.to_string(),
                d.calls.to_string(),
                d.answered.to_string(),
                d.answer_rate().map_or(String::new(), |r| format!("{r:.3}")),
                d.long_calls.to_string(),
                d.short_calls.to_string(),
                avg.map_or(String::new(), |a| format!("{a:.1}")),
                d.invalid.to_string(),
                d.complaints.to_string(),
            ])
            .expect("writing to memory");
        }
        String::from_utf8(out.into_inner().expect("writing to memory")).expect("CSV of ASCII and UTF-8 fields")
    }

    /// The package for people.
    pub fn to_markdown(&self) -> String {
        let mut md = String::new();
        let b = &self.business;
        let _ = writeln!(md, "# Caller-ID documentation: {}\n", self.number);
        let _ = writeln!(
            md,
            "Prepared {} for a review of the labels shown on this number. Daily figures follow the \
             calendar of {}; `daily.csv` beside this file holds them row by row.\n",
            self.generated_at, self.time_zone
        );
        let _ = writeln!(md, "## The business\n");
        let _ = writeln!(md, "| | |\n|---|---|");
        let _ = writeln!(md, "| Legal name | {} |", b.legal_name);
        if let Some(dba) = &b.dba {
            let _ = writeln!(md, "| Doing business as | {dba} |");
        }
        let _ = writeln!(md, "| Website | {} |", b.website);
        let _ = writeln!(md, "| Address | {} |", b.address);
        let _ = writeln!(md, "| Years in operation | {} |", b.years_in_operation);
        if let Some(ein) = &b.ein {
            let _ = writeln!(md, "| EIN | {ein} |");
        }
        let contact: Vec<&str> = [&b.contact_name, &b.contact_email, &b.contact_phone]
            .into_iter()
            .filter_map(|c| c.as_deref())
            .collect();
        if !contact.is_empty() {
            let _ = writeln!(md, "| Contact | {} |", contact.join(", "));
        }
        let _ = writeln!(md, "\n**Why we call.** {}\n", b.use_case.trim());
        let _ = writeln!(md, "**How people agree to our calls.** {}\n", b.opt_in_process.trim());
        if !b.licences.is_empty() {
            let _ = writeln!(md, "**Licences and registrations.**\n");
            for l in &b.licences {
                let _ = writeln!(md, "- {l}");
            }
            md.push('\n');
        }
        let _ = writeln!(md, "## The number\n");
        let _ = writeln!(
            md,
            "{} is in the business's `{}` pool since {}; it is now **{}**.\n",
            self.number,
            self.pool,
            self.registered_at,
            self.state.as_str()
        );
        if self.labels_now.is_empty() {
            let _ = writeln!(md, "No carrier display has been observed yet.\n");
        } else {
            let _ = writeln!(
                md,
                "| Carrier | Engine | Shows | Since | Last checked |\n|---|---|---|---|---|"
            );
            for l in &self.labels_now {
                let _ = writeln!(
                    md,
                    "| {} | {} | {} | {} | {} |",
                    l.carrier.as_str(),
                    l.engine,
                    l.label.as_deref().unwrap_or("clean"),
                    l.since,
                    l.observed_at
                );
            }
            md.push('\n');
        }
        let _ = writeln!(md, "## How the number is used\n");
        let _ = writeln!(md, "| | last 30 days | last 90 days |\n|---|---|---|");
        let (m, q) = (&self.last_30_days, &self.last_90_days);
        let rows: [(&str, String, String); 8] = [
            ("Outbound calls", m.calls.to_string(), q.calls.to_string()),
            (
                "Calls a day (average)",
                format!("{:.1}", m.calls_per_day),
                format!("{:.1}", q.calls_per_day),
            ),
            (
                "Calls on the busiest day",
                m.max_calls_in_a_day.to_string(),
                q.max_calls_in_a_day.to_string(),
            ),
            ("Answer rate", pct(m.answer_rate), pct(q.answer_rate)),
            ("Average talk time", secs(m.avg_talk_seconds), secs(q.avg_talk_seconds)),
            (
                "Conversations of 2 minutes or more",
                pct(m.long_call_share),
                pct(q.long_call_share),
            ),
            (
                "Hang-ups within 6 seconds",
                pct(m.short_call_share),
                pct(q.short_call_share),
            ),
            ("Complaints", m.complaints.to_string(), q.complaints.to_string()),
        ];
        for (name, month, quarter) in rows {
            let _ = writeln!(md, "| {name} | {month} | {quarter} |");
        }
        md.push('\n');
        self.write_remediation(&mut md);
        let _ = writeln!(md, "## History\n");
        for e in &self.history {
            let _ = writeln!(md, "- {} — {}: {}", e.at, e.kind.as_str(), e.text);
        }
        md
    }

    fn write_remediation(&self, md: &mut String) {
        if self.plans.is_empty() && self.disputes.is_empty() {
            return;
        }
        let _ = writeln!(md, "## Remediation\n");
        for view in &self.plans {
            let plan = &view.plan;
            let status = match (&plan.outcome, view.day) {
                (Some(PlanOutcome::Completed), _) => "completed".to_owned(),
                (Some(PlanOutcome::Ended { state }), _) => format!("ended unfinished (moved to {})", state.as_str()),
                (None, Some(day)) => format!("under way, day {day}"),
                (None, None) => "under way".to_owned(),
            };
            let _ = writeln!(
                md,
                "**Plan #{}**, started {} ({}): {status}.\n",
                plan.ordinal, plan.started_at, plan.reason
            );
            let _ = writeln!(
                md,
                "| Phase | From | Days | Calls | Busiest day (goal) | Calls a day (goal) | 2-min share (goal) | Labels | Met |\n\
                 |---|---|---|---|---|---|---|---|---|"
            );
            for p in &view.phases {
                let _ = writeln!(
                    md,
                    "| {} | {} | {} | {} | {} (≤ {}) | {:.1} (≥ {}) | {} (≥ {:.0} %) | {} | {} |",
                    p.phase.as_str(),
                    p.from,
                    p.days,
                    p.calls,
                    p.max_calls_in_a_day,
                    p.goal.max_calls_per_day,
                    p.avg_calls_per_day,
                    p.goal.min_calls_per_day,
                    pct(p.long_call_share),
                    p.goal.min_long_call_share * 100.0,
                    p.labels_observed,
                    if p.met { "yes" } else { "no" }
                );
            }
            md.push('\n');
        }
        for calendar in &self.disputes {
            let _ = writeln!(
                md,
                "**Disputes** opened {} by {}.\n\n| Step | Due | Status | Follow-up | Notes |\n|---|---|---|---|---|",
                calendar.opened_at, calendar.opened_by
            );
            for s in &calendar.steps {
                let notes: Vec<&str> = s.notes().collect();
                let _ = writeln!(
                    md,
                    "| {} | {} | {} | {} | {} |",
                    s.step.title(),
                    s.due,
                    s.status.as_str(),
                    s.follow_up.map_or(String::new(), |d| d.to_string()),
                    notes.join("; ")
                );
            }
            md.push('\n');
        }
    }
}

/// One line of the Free Caller Registry export.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FcrRow {
    pub phone_number: E164,
    pub company_name: String,
    pub dba: String,
    pub website: String,
    pub address: String,
    pub contact_name: String,
    pub contact_email: String,
    pub contact_phone: String,
    pub ein: String,
    pub years_in_operation: u32,
    /// Calls a day the number is expected to place: the last 30 days'
    /// average rounded up, or its cap when it has no history yet.
    pub expected_calls_per_day: u32,
    pub call_purpose: String,
    pub opt_in_process: String,
    pub licences: String,
}

impl FcrRow {
    pub fn new(number: E164, business: &BusinessProfile, expected_calls_per_day: u32) -> FcrRow {
        let text = |o: &Option<String>| o.clone().unwrap_or_default();
        FcrRow {
            phone_number: number,
            company_name: business.legal_name.clone(),
            dba: text(&business.dba),
            website: business.website.clone(),
            address: business.address.clone(),
            contact_name: text(&business.contact_name),
            contact_email: text(&business.contact_email),
            contact_phone: text(&business.contact_phone),
            ein: text(&business.ein),
            years_in_operation: business.years_in_operation,
            expected_calls_per_day,
            call_purpose: business.use_case.trim().to_owned(),
            opt_in_process: business.opt_in_process.trim().to_owned(),
            licences: business.licences.join("; "),
        }
    }
}
