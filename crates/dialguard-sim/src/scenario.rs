//! One simulated campaign: how long, how many people and numbers, how fast
//! the dialer goes, and the models of the callees and the engines.

use jiff::Timestamp;
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};

use crate::callee::CalleeModel;
use crate::emulator::EmulatorConfig;
use crate::population::PopulationConfig;

/// How the team's dialer works the list, whatever picks the caller id.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DialerRules {
    /// The call center's time zone (IANA name).
    pub center_zone: String,
    /// The center's dialing hours, local, `[start, end)`. Default 08:00 to
    /// 20:00: a day shift that starts before the West Coast wakes up.
    pub dial_hours: (u8, u8),
    /// A person not reached is dialed again after this many hours `[sim]`.
    pub retry_after_hours: f64,
    /// At most this many calls to one person over the campaign `[sim]`.
    pub max_attempts: u8,
}

impl Default for DialerRules {
    fn default() -> Self {
        DialerRules {
            center_zone: "America/Chicago".to_owned(),
            dial_hours: (8, 20),
            retry_after_hours: 3.0,
            max_attempts: 6,
        }
    }
}

/// Everything a run depends on, with its seed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Scenario {
    pub days: u32,
    pub seed: u64,
    /// The first simulated instant. Default midnight in the call center's zone
    /// (Central time), 2025-09-01: 90 days from there cross the end of
    /// daylight saving time.
    pub start: Timestamp,
    /// Calls the dialer places per minute while the center is open.
    pub calls_per_minute: f64,
    pub population: PopulationConfig,
    pub dialer: DialerRules,
    pub callees: CalleeModel,
    pub engines: EmulatorConfig,
    /// The `capped` strategy's daily cap per number. Default 150: the middle
    /// of the dialer vendors' 75–200 a day, and the guard's own default cap.
    pub capped_daily_cap: u32,
    /// The monitoring feed's daily test calls run at this UTC hour.
    pub monitor_hour_utc: u8,
    /// Whether the team has a monitoring feed at all (daily test calls per
    /// number and carrier, and disputes of the labels found). Default true;
    /// many tenants have none, and learn of a label only from their calls.
    pub monitoring: bool,
    /// Complaints reach the business through feeds this many hours late.
    pub complaint_delay_hours: u32,
    /// Days the numbers were already in service before the campaign, at
    /// `history_calls_per_day` each, to people outside this list. The
    /// engines (emulated, and dialguard's when it is the strategy) see those
    /// calls, as they would have. 0 makes every number brand new.
    pub history_days: u32,
    /// `[sim]` A moderate pace for the numbers' earlier use.
    pub history_calls_per_day: u32,
}

impl Default for Scenario {
    fn default() -> Self {
        Scenario {
            days: 45,
            seed: 1,
            start: "2025-09-01T05:00:00Z".parse().expect("a valid instant"),
            calls_per_minute: 6.0,
            population: PopulationConfig::default(),
            dialer: DialerRules::default(),
            callees: CalleeModel::default(),
            engines: EmulatorConfig::default(),
            capped_daily_cap: 150,
            monitor_hour_utc: 13,
            monitoring: true,
            complaint_delay_hours: 24,
            history_days: 30,
            history_calls_per_day: 60,
        }
    }
}

/// A scenario that cannot run.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("scenario: `{field}` {reason}")]
pub struct ScenarioError {
    pub field: &'static str,
    pub reason: String,
}

impl Scenario {
    /// Refuses what would make the run meaningless or endless.
    pub fn validate(&self) -> Result<(), ScenarioError> {
        let invalid = |field, reason: String| Err(ScenarioError { field, reason });
        if self.days == 0 || self.days > 3_650 {
            return invalid("days", format!("is {}: simulate from 1 to 3650 days", self.days));
        }
        if !(self.calls_per_minute.is_finite() && self.calls_per_minute > 0.0 && self.calls_per_minute <= 10_000.0) {
            return invalid(
                "calls_per_minute",
                format!("is {}: use a rate above 0 and at most 10000", self.calls_per_minute),
            );
        }
        if TimeZone::get(&self.dialer.center_zone).is_err() {
            return invalid(
                "dialer.center_zone",
                format!(
                    "{:?} is not an IANA time zone (e.g. America/Chicago)",
                    self.dialer.center_zone
                ),
            );
        }
        let (open, close) = self.dialer.dial_hours;
        if open >= close || close > 24 {
            return invalid(
                "dialer.dial_hours",
                format!("({open}, {close}) must be [start, end) with start < end <= 24"),
            );
        }
        if !(self.dialer.retry_after_hours.is_finite() && self.dialer.retry_after_hours > 0.0) {
            return invalid("dialer.retry_after_hours", "must be more than 0".into());
        }
        if self.dialer.max_attempts == 0 {
            return invalid("dialer.max_attempts", "must be at least 1".into());
        }
        if self.capped_daily_cap == 0 {
            return invalid("capped_daily_cap", "must be at least 1".into());
        }
        if self.history_days > 3_650 || self.history_calls_per_day > 10_000 {
            return invalid(
                "history_days",
                "at most 3650 days of history at most 10000 calls a day".into(),
            );
        }
        if self.monitor_hour_utc > 23 {
            return invalid("monitor_hour_utc", "is an hour of the day, 0 to 23".into());
        }
        Ok(())
    }

    /// The calls a day the dialer offers (before any strategy holds back).
    pub fn offered_calls_per_day(&self) -> f64 {
        let (open, close) = self.dialer.dial_hours;
        self.calls_per_minute * 60.0 * f64::from(close - open)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_scenarios_name_the_field() {
        let cases: Vec<(Scenario, &str)> = vec![
            (
                Scenario {
                    days: 0,
                    ..Scenario::default()
                },
                "days",
            ),
            (
                Scenario {
                    calls_per_minute: -1.0,
                    ..Scenario::default()
                },
                "calls_per_minute",
            ),
            (
                Scenario {
                    calls_per_minute: f64::NAN,
                    ..Scenario::default()
                },
                "calls_per_minute",
            ),
            (
                Scenario {
                    dialer: DialerRules {
                        center_zone: "Mars/Olympus".into(),
                        ..DialerRules::default()
                    },
                    ..Scenario::default()
                },
                "center_zone",
            ),
            (
                Scenario {
                    dialer: DialerRules {
                        dial_hours: (20, 8),
                        ..DialerRules::default()
                    },
                    ..Scenario::default()
                },
                "dial_hours",
            ),
            (
                Scenario {
                    capped_daily_cap: 0,
                    ..Scenario::default()
                },
                "capped_daily_cap",
            ),
        ];
        for (scenario, field) in cases {
            let err = scenario.validate().unwrap_err();
            assert_eq!(err.field.split('.').next_back(), field.split('.').next_back(), "{err}");
        }
        assert!(Scenario::default().validate().is_ok());
        assert_eq!(Scenario::default().offered_calls_per_day(), 4_320.0);
    }
}
