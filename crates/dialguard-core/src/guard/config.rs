//! The guard's settings, with the default for each and where it comes from.
//!
//! Every count "per day" here is over the trailing 24 hours, not a calendar
//! day: a number that placed its 150th call at 20:59 has room again at 20:59
//! the next day, whatever the time zones of the pool or the people called.
//! That is the reading carrier analytics apply to volume, it has no midnight
//! burst, and it needs no zone for a pool whose numbers span several.
//!
//! The file form is TOML (`[guard]` section of the project's config, or a file
//! of its own); unknown keys are refused so a misspelt limit cannot silently
//! fall back to its default.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::guard::law::{CallingWindow, FEDERAL_WINDOW};

/// How the guard paces numbers and protects people.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GuardConfig {
    /// Least gap between two calls from one number, in seconds. Default 20:
    /// machine-regular spacing under ~20 s is what analytics engines read as
    /// an autodialer, and 20 s still allows 180 calls an hour.
    pub pacing_seconds: u32,
    /// Calls per number in any hour. Default 30.
    pub hourly_cap: u32,
    /// Calls per number in any 24 hours. Default 150: operators' folklore
    /// puts the safe volume for one caller id between 75 and 200 a day; the
    /// risk engine lowers it per number through `Guard::set_caps`.
    pub daily_cap: u32,
    /// Calls to one person in any 24 hours, from all our numbers together.
    /// Default 2. A state's own limit ([`crate::guard::law::STATE_RULES`])
    /// applies on top and cannot be raised here.
    pub destination_calls_per_day: u32,
    /// Local hours in the called party's zone. Default and widest allowed:
    /// the federal 08:00-21:00; states narrow it further by law.
    pub calling_hours: CallingWindow,
    /// Let a dated record permit a call to a number on the national
    /// Do-Not-Call registry: written consent (47 CFR § 64.1200(c)(2)(ii)), or
    /// an established business relationship within its months (§
    /// 64.1200(f)(5): 18 after a purchase, 3 after an inquiry), each a
    /// `Consent` event of its kind. A dialer's `known_contact` never does:
    /// it is a claim, not a record. Default true. An internal opt-out
    /// always wins over both.
    pub dnc_exemptions: bool,
    /// Caps of a new number while it ramps up.
    pub aging: AgingCaps,
    /// Days 31-60 of the rehabilitation plan (SPEC §2.4).
    pub rehab_limited: PhaseCaps,
    /// Days 61-90 of the rehabilitation plan (SPEC §2.4).
    pub rehab_moderate: PhaseCaps,
    /// Settings per pool; a pool not named here uses [`PoolSettings::default`].
    pub pools: BTreeMap<String, PoolSettings>,
}

impl Default for GuardConfig {
    fn default() -> Self {
        GuardConfig {
            pacing_seconds: 20,
            hourly_cap: 30,
            daily_cap: 150,
            destination_calls_per_day: 2,
            calling_hours: FEDERAL_WINDOW,
            dnc_exemptions: true,
            aging: AgingCaps::default(),
            rehab_limited: PhaseCaps {
                daily_cap: 10,
                known_contacts_only: true,
            },
            rehab_moderate: PhaseCaps {
                daily_cap: 20,
                known_contacts_only: false,
            },
            pools: BTreeMap::new(),
        }
    }
}

/// The limits of one lifecycle phase.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PhaseCaps {
    /// Calls in any 24 hours (the number's own cap applies too, if lower).
    pub daily_cap: u32,
    /// Only destinations the dialer marks `known_contact`.
    pub known_contacts_only: bool,
}

/// A new number's ramp: its daily cap week by week since it entered `aging`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AgingCaps {
    /// The daily cap in week 1, 2, 3, …; the last one holds until the number
    /// leaves `aging`. Default 10, 20, 40.
    pub daily_caps_by_week: Vec<u32>,
    /// The first weeks in which only known contacts may be called. Default 1.
    pub known_contacts_only_weeks: u32,
}

impl Default for AgingCaps {
    fn default() -> Self {
        AgingCaps {
            daily_caps_by_week: vec![10, 20, 40],
            known_contacts_only_weeks: 1,
        }
    }
}

/// A campaign's caller-id group and how it may call.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PoolSettings {
    /// Call only people with a consent on record for this pool (or for all).
    pub requires_consent: bool,
    /// Prefer a caller id in the destination's area code, then its state.
    /// Never one in the destination's own exchange (neighbour spoofing).
    pub local_presence: bool,
}

/// A guard configuration that cannot be used.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("guard configuration: {0}")]
    Syntax(String),
    #[error("guard configuration: `{key}` {reason}")]
    Invalid { key: &'static str, reason: String },
}

impl GuardConfig {
    /// Reads the TOML form and checks it.
    pub fn from_toml(text: &str) -> Result<GuardConfig, ConfigError> {
        let config: GuardConfig = toml::from_str(text).map_err(|e| ConfigError::Syntax(e.to_string()))?;
        config.validate()?;
        Ok(config)
    }

    /// Refuses settings that would let the guard allow what the law forbids,
    /// or that would stop every call without saying so.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |key, reason: &str| {
            Err(ConfigError::Invalid {
                key,
                reason: reason.to_owned(),
            })
        };
        if !self.calling_hours.within(FEDERAL_WINDOW) {
            return invalid(
                "calling_hours",
                &format!(
                    "is {}: it may narrow but not widen the federal {FEDERAL_WINDOW}",
                    self.calling_hours
                ),
            );
        }
        if self.hourly_cap == 0 || self.daily_cap == 0 {
            return invalid(
                "hourly_cap/daily_cap",
                "must be at least 1; to stop a number, change its state",
            );
        }
        if self.destination_calls_per_day == 0 {
            return invalid("destination_calls_per_day", "must be at least 1");
        }
        if self.aging.daily_caps_by_week.is_empty() {
            return invalid(
                "aging.daily_caps_by_week",
                "needs at least one week's cap, e.g. [10, 20, 40]",
            );
        }
        Ok(())
    }

    /// The settings of a pool.
    pub fn pool(&self, name: &str) -> PoolSettings {
        self.pools.get(name).copied().unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_file_gives_the_documented_defaults() {
        let config = GuardConfig::from_toml("").unwrap();
        assert_eq!(config, GuardConfig::default());
        assert_eq!(
            (config.pacing_seconds, config.hourly_cap, config.daily_cap),
            (20, 30, 150)
        );
        assert_eq!(config.destination_calls_per_day, 2);
        assert_eq!(config.calling_hours.to_string(), "08:00-21:00");
        assert_eq!(config.aging.daily_caps_by_week, vec![10, 20, 40]);
        assert_eq!(config.rehab_limited.daily_cap, 10);
        assert!(config.rehab_limited.known_contacts_only);
        assert_eq!(config.rehab_moderate.daily_cap, 20);
    }

    #[test]
    fn a_file_sets_pools_and_limits() {
        let config = GuardConfig::from_toml(
            r#"
            pacing_seconds = 45
            calling_hours = "09:00-20:00"
            [pools.collections]
            requires_consent = true
            local_presence = true
            "#,
        )
        .unwrap();
        assert_eq!(config.pacing_seconds, 45);
        assert_eq!(config.calling_hours.to_string(), "09:00-20:00");
        assert_eq!(
            config.pool("collections"),
            PoolSettings {
                requires_consent: true,
                local_presence: true
            }
        );
        assert_eq!(config.pool("sales"), PoolSettings::default());
    }

    #[test]
    fn bad_files_name_the_key_and_the_fix() {
        let cases: &[(&str, &str)] = &[
            ("calling_hours = \"07:00-21:00\"", "calling_hours"),
            ("calling_hours = \"08:00-22:00\"", "calling_hours"),
            ("calling_hours = \"late\"", "HH:MM-HH:MM"),
            ("daily_cap = 0", "daily_cap"),
            ("destination_calls_per_day = 0", "destination_calls_per_day"),
            ("pacing_second = 20", "pacing_second"),
            ("pacing_seconds = -1", "pacing_seconds"),
            ("[aging]\ndaily_caps_by_week = []", "aging.daily_caps_by_week"),
            ("[pools.sales]\nconsent = true", "consent"),
        ];
        for (text, mentions) in cases {
            let err = GuardConfig::from_toml(text).unwrap_err().to_string();
            assert!(err.contains(mentions), "{text:?} gave {err:?}");
        }
    }
}
