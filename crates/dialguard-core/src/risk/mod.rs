//! Risk engine: how each analytics engine is likely to see a number, and why.
//!
//! The engines (Hiya for AT&T, TNS for Verizon, First Orion for T-Mobile)
//! publish no thresholds, so each is modelled by a [`Profile`], a TOML file
//! of cited starting points (`profiles/*.toml`). The flow, all pure:
//!
//! ```text
//! Ledger ──RiskInputs::from_ledger──► RiskInputs ──score(profile)──► Score {value, level, factors}
//! Label events ──► Labels ─┐                                              │
//!                          └──────────── assess() ◄───────────────────────┘
//!                                          │
//!                  Assessment {health, scores, labels, top_factor, triggers}
//!                                          │
//!                         Trigger::state_change ──► StateChanged(quarantined)
//! ```
//!
//! Health is the worst profile's level, overridden by a label actually
//! observed. [`assess`] is stateless (levels straight from each score);
//! [`RiskTracker`] adds the hysteresis for callers that fold scores over time.
//!
//! Where things live: `profile` (the TOML schema and its checks), `inputs`
//! (what is measured), `score` (how figures become points and sentences),
//! `labels`, `tracker`, `quarantine`, and `zones` (area code → time zones
//! for off-hours calls).

mod inputs;
mod labels;
mod profile;
mod quarantine;
mod score;
mod tracker;
pub(crate) mod zones;

#[cfg(test)]
mod properties;
#[cfg(test)]
mod scenarios;
#[cfg(test)]
mod testkit;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

pub use inputs::RiskInputs;
pub use labels::{CarrierLabel, Labels};
pub use profile::{
    Allowance, CallingHours, FactorName, FactorSpec, FactorSpecs, InputSpec, Levels, Neighbour, Profile, ProfileError,
    QUARANTINE_FILE, Rate, RiskConfig, SHIPPED, Threshold, Worse,
};
pub use quarantine::{ComplaintRule, QuarantineRules, ShareRule, Trigger, TriggerRule};
pub use score::{Basis, CONCERN_SHARE, Factor, Level, Score, Span, score};
pub use tracker::RiskTracker;

use crate::event::StateChanged;
use crate::metrics::Ledger;
use crate::number::E164;

/// A number's health, worst last.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Health {
    Healthy,
    Watch,
    AtRisk,
    /// A carrier showed a label: no score overrides what a handset displayed.
    Labeled,
}

impl Health {
    pub fn as_str(self) -> &'static str {
        match self {
            Health::Healthy => "healthy",
            Health::Watch => "watch",
            Health::AtRisk => "at_risk",
            Health::Labeled => "labeled",
        }
    }
}

impl From<Level> for Health {
    fn from(level: Level) -> Health {
        match level {
            Level::Healthy => Health::Healthy,
            Level::Watch => Health::Watch,
            Level::AtRisk => Health::AtRisk,
        }
    }
}

/// The factor that gave the most points on any profile.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct TopFactor {
    pub profile: String,
    pub factor: FactorName,
    pub points: f64,
    /// The factor whole, which [`TopFactor::text`] puts in words. Every
    /// tick assesses the numbers that called; the sentence is written only
    /// when someone reads it.
    pub detail: Factor,
}

impl TopFactor {
    /// The plain-words sentence.
    pub fn text(&self) -> String {
        self.detail.to_string()
    }
}

impl Serialize for TopFactor {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("TopFactor", 5)?;
        st.serialize_field("profile", &self.profile)?;
        st.serialize_field("factor", &self.factor)?;
        st.serialize_field("points", &self.points)?;
        st.serialize_field("text", &self.text())?;
        st.serialize_field("detail", &self.detail)?;
        st.end()
    }
}

/// Everything the risk engine says about one number at one instant.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Assessment {
    pub number: E164,
    pub at: Timestamp,
    pub health: Health,
    /// One per profile, in the configuration's order.
    pub scores: Vec<Score>,
    /// Each observed carrier's current display.
    pub labels: Vec<CarrierLabel>,
    pub top_factor: Option<TopFactor>,
    /// Quarantine rules that fired (empty when none did).
    pub triggers: Vec<Trigger>,
}

impl Assessment {
    /// The one `StateChanged` event recording every trigger's reason, or
    /// `None` when no rule fired.
    pub fn quarantine(&self) -> Option<StateChanged> {
        let first = self.triggers.first()?;
        let mut change = first.state_change(self.number, self.at);
        for t in &self.triggers[1..] {
            change.reason.push_str("; ");
            change.reason.push_str(&t.state_change(self.number, self.at).reason);
        }
        Some(change)
    }

    pub fn score(&self, profile: &str) -> Option<&Score> {
        self.scores.iter().find(|s| s.profile == profile)
    }
}

/// Scores `number` on every profile as of `now`, reads its labels, and
/// checks the quarantine rules.
pub fn assess(ledger: &Ledger, labels: &Labels, config: &RiskConfig, number: E164, now: Timestamp) -> Assessment {
    // Profiles that measure the same way share one walk of the history.
    let mut measured: Vec<(InputSpec, RiskInputs)> = Vec::new();
    let mut scores = Vec::with_capacity(config.profiles.len());
    for profile in &config.profiles {
        let inputs = match measured.iter().find(|(spec, _)| *spec == profile.inputs) {
            Some((_, inputs)) => inputs,
            None => {
                let inputs = RiskInputs::from_ledger(ledger, number, now, &profile.inputs);
                measured.push((profile.inputs, inputs));
                &measured.last().expect("just pushed").1
            }
        };
        scores.push(score(profile, inputs));
    }
    let current = labels.current(number, now);
    let worst = scores.iter().map(|s| s.level).max().unwrap_or(Level::Healthy);
    let health = if current.iter().any(CarrierLabel::is_labeled) {
        Health::Labeled
    } else {
        Health::from(worst)
    };
    let top_factor = scores
        .iter()
        .filter_map(|s| s.top_factor().map(|f| (s, f)))
        .fold(None::<(&Score, &Factor)>, |best, (s, f)| match best {
            Some((_, b)) if b.points >= f.points => best,
            _ => Some((s, f)),
        })
        .map(|(s, f)| TopFactor {
            profile: s.profile.clone(),
            factor: f.name,
            points: f.points,
            detail: f.clone(),
        });
    let triggers = config.quarantine.check_number(ledger, number, now, &current, &scores);
    Assessment {
        number,
        at: now,
        health,
        scores,
        labels: current,
        top_factor,
        triggers,
    }
}
