//! Levels with memory: hysteresis over a number's successive scores.
//!
//! A score hovering around a threshold must not flip a number between
//! `watch` and `at_risk` on every call. Like the engines' own labels, a
//! level is entered at one score (`enter`) and left only below a lower one
//! (`exit`). [`Level::next`] is the rule; [`RiskTracker`] keeps the level of
//! every number on every profile.

use crate::FastMap;

use super::labels::Labels;
use super::profile::{Levels, RiskConfig};
use super::score::{Level, Score};
use super::{Assessment, Health};
use crate::number::E164;

impl Level {
    /// The level after a new score, given the current one: up as soon as a
    /// level's `enter` is reached, down only once the score is below the
    /// current level's `exit`, and then only as far as the score says.
    pub fn next(self, score: f64, levels: &Levels) -> Level {
        let reached = Level::of(score, levels);
        if reached >= self {
            return reached;
        }
        match self {
            Level::AtRisk if score >= levels.at_risk.exit => Level::AtRisk,
            Level::AtRisk | Level::Watch if score >= levels.watch.exit => Level::Watch,
            _ => Level::Healthy,
        }
    }
}

/// The current level of every number on every profile.
#[derive(Clone, Debug, Default)]
pub struct RiskTracker {
    /// Profile name → number → level.
    levels: FastMap<String, FastMap<E164, Level>>,
}

impl RiskTracker {
    pub fn new() -> RiskTracker {
        RiskTracker::default()
    }

    /// Folds one score into the number's level on the score's profile and
    /// returns the new level.
    pub fn observe(&mut self, number: E164, score: &Score, levels: &Levels) -> Level {
        let by_number = match self.levels.get_mut(score.profile.as_str()) {
            Some(m) => m,
            None => self.levels.entry(score.profile.clone()).or_default(),
        };
        let level = by_number.entry(number).or_insert(Level::Healthy);
        *level = level.next(score.value, levels);
        *level
    }

    /// Folds every score of an assessment and returns the number's health
    /// with hysteresis: the worst tracked level, or `labeled` when a label
    /// is showing.
    pub fn observe_assessment(&mut self, assessment: &Assessment, config: &RiskConfig) -> Health {
        let mut worst = Level::Healthy;
        for score in &assessment.scores {
            if let Some(profile) = config.profile(&score.profile) {
                worst = worst.max(self.observe(assessment.number, score, &profile.levels));
            }
        }
        if assessment.labels.iter().any(|l| l.is_labeled()) {
            Health::Labeled
        } else {
            Health::from(worst)
        }
    }

    /// The tracked level (healthy when never scored).
    pub fn level(&self, number: E164, profile: &str) -> Level {
        self.levels
            .get(profile)
            .and_then(|m| m.get(&number))
            .copied()
            .unwrap_or(Level::Healthy)
    }

    /// The worst tracked level over every profile, overridden by a label
    /// showing as of `now`.
    pub fn health(&self, number: E164, labels: &Labels, now: jiff::Timestamp) -> Health {
        if labels.is_labeled(number, now) {
            return Health::Labeled;
        }
        let worst = self
            .levels
            .values()
            .filter_map(|m| m.get(&number))
            .copied()
            .max()
            .unwrap_or(Level::Healthy);
        Health::from(worst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::risk::profile::Threshold;

    fn levels() -> Levels {
        Levels {
            watch: Threshold {
                enter: 25.0,
                exit: 15.0,
            },
            at_risk: Threshold {
                enter: 50.0,
                exit: 40.0,
            },
            quarantine_above: 80.0,
        }
    }

    fn walk(scores: &[f64]) -> Vec<Level> {
        let l = levels();
        let mut level = Level::Healthy;
        scores
            .iter()
            .map(|s| {
                level = level.next(*s, &l);
                level
            })
            .collect()
    }

    #[test]
    fn levels_are_entered_high_and_left_low() {
        use Level::*;
        assert_eq!(
            walk(&[10.0, 30.0, 20.0, 14.0, 49.0, 55.0, 45.0, 41.0, 39.0, 20.0, 10.0]),
            [
                Healthy, Watch, Watch, Healthy, Watch, AtRisk, AtRisk, AtRisk, Watch, Watch, Healthy
            ]
        );
        assert_eq!(
            walk(&[90.0, 5.0]),
            [AtRisk, Healthy],
            "a collapse goes all the way down"
        );
        assert_eq!(
            walk(&[60.0, 39.0, 45.0]),
            [AtRisk, Watch, Watch],
            "re-entry needs `enter` again"
        );
    }
}
