//! The lifecycle's settings, with the default for each and where it comes from.
//!
//! The guard owns the caps of each phase (`GuardConfig::aging`,
//! `rehab_limited`, `rehab_moderate`); this file owns the calendar: how long
//! each phase lasts, when a plan is judged, what it aims for, and how the
//! dispute steps are spaced. The file form is TOML; unknown keys are refused
//! so a misspelt setting cannot silently fall back to its default.

use jiff::civil::Date;
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};

/// How numbers age, rest, recover and are disputed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LifecycleConfig {
    /// Days a new number spends in `aging` before it becomes `active`.
    /// Default 21: the three-week ramp of the issue (10 / 20 / 40 calls a
    /// day, `GuardConfig::aging`).
    pub aging_days: u32,
    /// A number registered while named in a complaint within this many days
    /// is burned on arrival. Default 90 (SPEC §2.4, registration check).
    pub arrival_complaint_days: u32,
    pub plan: PlanConfig,
    pub disputes: DisputeConfig,
}

impl Default for LifecycleConfig {
    fn default() -> Self {
        LifecycleConfig {
            aging_days: 21,
            arrival_complaint_days: 90,
            plan: PlanConfig::default(),
            disputes: DisputeConfig::default(),
        }
    }
}

/// The 90-day rehabilitation plan (SPEC §2.4).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PlanConfig {
    /// Days 1-30: no calls. Analytics engines let a label fade when the
    /// number goes quiet; 30 days is the common practice the SPEC cites.
    pub rest_days: u32,
    /// Days 31-60: `rehab_limited`.
    pub limited_days: u32,
    /// Days 61-90: `rehab_moderate`.
    pub moderate_days: u32,
    /// A plan whose review fails stays in `rehab_moderate` this many days
    /// more before the next review. Default 30.
    pub extension_days: u32,
    /// After this many failures of one plan (rest restarted by a new label,
    /// or a review failed) the plan recommends retiring and replacing the
    /// number. Default 2.
    pub recommend_retirement_after: u32,
    /// What the limited phase aims for: few calls, mostly to people who talk.
    pub limited_goal: PhaseGoal,
    /// What the moderate phase aims for.
    pub moderate_goal: PhaseGoal,
}

impl Default for PlanConfig {
    fn default() -> Self {
        PlanConfig {
            rest_days: 30,
            limited_days: 30,
            moderate_days: 30,
            extension_days: 30,
            recommend_retirement_after: 2,
            // SPEC §2.4: 5-10 calls a day, conversations of 2 minutes or more.
            limited_goal: PhaseGoal {
                min_calls_per_day: 5,
                max_calls_per_day: 10,
                min_long_call_share: 0.3,
            },
            // SPEC §2.4: 10-20 calls a day.
            moderate_goal: PhaseGoal {
                min_calls_per_day: 10,
                max_calls_per_day: 20,
                min_long_call_share: 0.25,
            },
        }
    }
}

impl PlanConfig {
    /// The plan's nominal length: rest, limited and moderate together.
    pub fn total_days(&self) -> u32 {
        self.rest_days + self.limited_days + self.moderate_days
    }
}

/// What one phase of the plan aims for.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PhaseGoal {
    /// Average outbound calls a day over the phase, at least.
    pub min_calls_per_day: u32,
    /// Outbound calls on any one day, at most.
    pub max_calls_per_day: u32,
    /// Share of answered calls lasting the conversation threshold
    /// (`MetricsConfig::long_call_secs`, 2 minutes) or more, at least.
    pub min_long_call_share: f64,
}

/// How the dispute calendar is spaced (SPEC §2.4, disputes).
///
/// Dates count business days (Monday to Friday, less `holidays`) in
/// `time_zone`: the forms are read by people who do not work weekends, and a
/// reminder due on a Saturday is a reminder nobody can act on.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DisputeConfig {
    /// The zone whose calendar the business keeps. Default `America/New_York`.
    pub time_zone: String,
    /// Business days after the label was first seen by which each analytics
    /// engine's dispute (Hiya, TNS, First Orion) should be filed. Default 2.
    pub engines_due_business_days: u32,
    /// … the Free Caller Registry form. Default 5.
    pub registry_due_business_days: u32,
    /// … each carrier's form (AT&T, Verizon, T-Mobile). Default 10: after
    /// the engines have had a week to answer.
    pub carriers_due_business_days: u32,
    /// … the FCC complaint, if the number is still labeled. Default 25.
    pub fcc_due_business_days: u32,
    /// Business days after a submission without an answer before a follow-up
    /// is due. Default 7 (the 7-10 days; 7 business days are 9 to 11
    /// calendar days).
    pub follow_up_business_days: u32,
    /// Days that are not business days although they fall Monday to Friday.
    pub holidays: Vec<Date>,
}

impl Default for DisputeConfig {
    fn default() -> Self {
        DisputeConfig {
            time_zone: "America/New_York".to_owned(),
            engines_due_business_days: 2,
            registry_due_business_days: 5,
            carriers_due_business_days: 10,
            fcc_due_business_days: 25,
            follow_up_business_days: 7,
            holidays: Vec::new(),
        }
    }
}

/// A lifecycle configuration that cannot be used.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LifecycleConfigError {
    #[error("lifecycle configuration: {0}")]
    Syntax(String),
    #[error("lifecycle configuration: `{key}` {reason}")]
    Invalid { key: &'static str, reason: String },
}

impl LifecycleConfig {
    /// Reads the TOML form and checks it.
    pub fn from_toml(text: &str) -> Result<LifecycleConfig, LifecycleConfigError> {
        let config: LifecycleConfig = toml::from_str(text).map_err(|e| LifecycleConfigError::Syntax(e.to_string()))?;
        config.validate()?;
        Ok(config)
    }

    /// Refuses settings that would make a plan or a calendar meaningless.
    pub fn validate(&self) -> Result<(), LifecycleConfigError> {
        let invalid = |key, reason: String| Err(LifecycleConfigError::Invalid { key, reason });
        let plan = &self.plan;
        if plan.rest_days == 0 {
            return invalid("plan.rest_days", "must be at least 1: a plan starts with rest".into());
        }
        if plan.extension_days == 0 {
            return invalid(
                "plan.extension_days",
                "must be at least 1, or a failed review would be judged again at once".into(),
            );
        }
        if plan.recommend_retirement_after == 0 {
            return invalid("plan.recommend_retirement_after", "must be at least 1".into());
        }
        for (key, goal) in [
            ("plan.limited_goal", &plan.limited_goal),
            ("plan.moderate_goal", &plan.moderate_goal),
        ] {
            if goal.min_calls_per_day > goal.max_calls_per_day {
                return invalid(
                    key,
                    format!(
                        "asks for at least {} calls a day but allows at most {}",
                        goal.min_calls_per_day, goal.max_calls_per_day
                    ),
                );
            }
            if !(0.0..=1.0).contains(&goal.min_long_call_share) {
                return invalid(
                    key,
                    format!(
                        "min_long_call_share {} is a share: write it from 0 to 1, 0.3 for 30 %",
                        goal.min_long_call_share
                    ),
                );
            }
        }
        if let Err(e) = self.disputes.zone() {
            return invalid("disputes.time_zone", e);
        }
        Ok(())
    }
}

impl DisputeConfig {
    /// The configured zone, or why it is not one.
    pub fn zone(&self) -> Result<TimeZone, String> {
        TimeZone::get(&self.time_zone).map_err(|e| {
            format!(
                "{:?} is not a time zone name ({e}); write e.g. \"America/New_York\"",
                self.time_zone
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_file_gives_the_documented_defaults() {
        let config = LifecycleConfig::from_toml("").unwrap();
        assert_eq!(config, LifecycleConfig::default());
        assert_eq!(config.aging_days, 21);
        assert_eq!(config.plan.total_days(), 90);
        assert_eq!(config.disputes.follow_up_business_days, 7);
    }

    #[test]
    fn bad_files_name_the_key_and_the_fix() {
        let cases: &[(&str, &str)] = &[
            ("[plan]\nrest_days = 0", "plan.rest_days"),
            ("[plan]\nextension_days = 0", "plan.extension_days"),
            ("[plan]\nrecommend_retirement_after = 0", "recommend_retirement_after"),
            (
                "[plan.limited_goal]\nmin_calls_per_day = 12\nmax_calls_per_day = 10\nmin_long_call_share = 0.3",
                "plan.limited_goal",
            ),
            (
                "[plan.moderate_goal]\nmin_calls_per_day = 1\nmax_calls_per_day = 10\nmin_long_call_share = 30",
                "0.3 for 30 %",
            ),
            ("[disputes]\ntime_zone = \"Mars/Olympus\"", "disputes.time_zone"),
            ("[disputes]\nholidays = [\"2025-13-01\"]", "holidays"),
            ("aging_day = 21", "aging_day"),
        ];
        for (text, mentions) in cases {
            let err = LifecycleConfig::from_toml(text).unwrap_err().to_string();
            assert!(err.contains(mentions), "{text:?} gave {err:?}");
        }
    }
}
