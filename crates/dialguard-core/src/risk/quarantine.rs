//! When a number must stop at once (SPEC §2.4 quarantine triggers).
//!
//! The rules are data (`profiles/quarantine.toml`, shipped defaults with
//! their sources). A rule that fires is a [`Trigger`] with a reason a person
//! can act on; [`Trigger::state_change`] turns it into the `StateChanged`
//! event the lifecycle acts on. The plain-window rules (short calls, invalid
//! destinations) read the same [`WindowMetrics`] the reports show, so the
//! figure in the reason is one a user can check.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::labels::CarrierLabel;
use super::profile::{ProfileError, SHIPPED, parse_toml};
use super::score::Score;
use crate::event::{Event, StateChanged};
use crate::lifecycle::NumberState;
use crate::metrics::{Ledger, Window, WindowCounts};
use crate::number::E164;

/// Complaints over `more_than` within `days`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ComplaintRule {
    pub more_than: u32,
    pub days: u32,
}

/// A share over `above`, once the window holds at least `min_calls`
/// (answered calls for the short-call share, attempts for invalid ones).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShareRule {
    pub above: f64,
    pub min_calls: u32,
    pub window: Window,
}

/// The quarantine triggers. A section left out of the file turns its rule off.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuarantineRules {
    /// Any label observed on any carrier.
    pub on_label: bool,
    /// An evidence score ([`Score::evidence`]: complaints, blocked calls,
    /// repeat calls, invalid destinations, off-hours, neighbour pattern) over
    /// its profile's `levels.quarantine_above`. Reception and maturity
    /// factors never quarantine: the engine shrinks the caps as they rise.
    pub on_score_over_limit: bool,
    #[serde(default)]
    pub complaints: Option<ComplaintRule>,
    #[serde(default)]
    pub short_calls: Option<ShareRule>,
    #[serde(default)]
    pub invalid_destinations: Option<ShareRule>,
    /// Calls refused as unwanted (SIP 603 Network Blocked, 607, 608) over a
    /// share of attempts: a carrier already blocks the number.
    #[serde(default)]
    pub blocked_calls: Option<ShareRule>,
}

/// Which rule fired.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TriggerRule {
    Label,
    Score,
    Complaints,
    ShortCalls,
    InvalidDestinations,
    BlockedCalls,
}

/// A rule that fired, and why, in words.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Trigger {
    pub rule: TriggerRule,
    pub reason: String,
}

impl Trigger {
    /// The state change this trigger records.
    pub fn state_change(&self, number: E164, at: Timestamp) -> StateChanged {
        StateChanged {
            number,
            state: NumberState::Quarantined,
            at,
            reason: format!("{}: {}", rule_name(self.rule), self.reason),
        }
    }

    pub fn to_event(&self, number: E164, at: Timestamp) -> Event {
        Event::StateChanged(self.state_change(number, at))
    }
}

fn rule_name(rule: TriggerRule) -> &'static str {
    match rule {
        TriggerRule::Label => "label observed",
        TriggerRule::Score => "risk score over limit",
        TriggerRule::Complaints => "complaints",
        TriggerRule::ShortCalls => "short calls",
        TriggerRule::InvalidDestinations => "invalid destinations",
        TriggerRule::BlockedCalls => "blocked calls",
    }
}

impl QuarantineRules {
    /// The shipped rules (`profiles/quarantine.toml`).
    pub fn shipped() -> QuarantineRules {
        let (file, text) = SHIPPED[3];
        QuarantineRules::from_toml_str(file, text).expect("the shipped rules parse (tested)")
    }

    pub fn from_toml_str(file: &str, text: &str) -> Result<QuarantineRules, ProfileError> {
        let rules: QuarantineRules = parse_toml(file, text)?;
        rules
            .check()
            .map_err(|(key, reason)| ProfileError::new(file, super::profile::line_of_key(text, &key), &key, reason))?;
        Ok(rules)
    }

    fn check(&self) -> Result<(), (String, String)> {
        if let Some(c) = &self.complaints
            && c.days == 0
        {
            return Err(("complaints.days".into(), "must be at least 1 day".into()));
        }
        for (key, rule) in [
            ("short_calls", &self.short_calls),
            ("invalid_destinations", &self.invalid_destinations),
            ("blocked_calls", &self.blocked_calls),
        ] {
            if let Some(r) = rule
                && !(r.above.is_finite() && (0.0..1.0).contains(&r.above))
            {
                return Err((
                    format!("{key}.above"),
                    format!(
                        "{} is a share: write it from 0 up to (not including) 1, 0.3 for 30 %",
                        r.above
                    ),
                ));
            }
        }
        Ok(())
    }

    /// Every rule that fires for `number` as of `now`, given its current
    /// labels and its scores.
    pub fn check_number(
        &self,
        ledger: &Ledger,
        number: E164,
        now: Timestamp,
        labels: &[CarrierLabel],
        scores: &[Score],
    ) -> Vec<Trigger> {
        let mut fired = Vec::new();
        if self.on_label {
            for l in labels.iter().filter(|l| l.is_labeled()) {
                fired.push(Trigger {
                    rule: TriggerRule::Label,
                    reason: format!(
                        "{:?} on {} ({}), observed {} via {}",
                        l.label.as_deref().unwrap_or_default(),
                        l.carrier.as_str(),
                        l.engine,
                        l.observed_at,
                        l.source
                    ),
                });
            }
        }
        if self.on_score_over_limit {
            // Only evidence counts: engagement, answer rate and maturity
            // throttle the caps in the engine instead (FactorName::throttles).
            for s in scores.iter().filter(|s| s.evidence() > s.quarantine_above) {
                let top = s
                    .top_evidence()
                    .map(|f| format!("; top factor {}: {f}", f.name))
                    .unwrap_or_default();
                fired.push(Trigger {
                    rule: TriggerRule::Score,
                    reason: format!(
                        "evidence score {} on profile {} is over its limit {}{top}",
                        s.evidence(),
                        s.profile,
                        s.quarantine_above
                    ),
                });
            }
        }
        if let Some(rule) = &self.complaints {
            let recent = ledger.complaints_within(number, now, i64::from(rule.days) * 86_400);
            if recent > rule.more_than {
                fired.push(Trigger {
                    rule: TriggerRule::Complaints,
                    reason: format!(
                        "{recent} complaints in the last {} days; limit: more than {}",
                        rule.days, rule.more_than
                    ),
                });
            }
        }
        // Rules on the same window share one walk of it.
        let mut walked: smallvec::SmallVec<[(Window, WindowCounts); 3]> = smallvec::SmallVec::new();
        let mut window = |w: Window| match walked.iter().find(|(seen, _)| *seen == w) {
            Some(&(_, counts)) => counts,
            None => {
                let counts = ledger.window_counts(number, now, w);
                walked.push((w, counts));
                counts
            }
        };
        if let Some(rule) = &self.short_calls {
            let m = window(rule.window);
            if let Some(share) = over(rule, m.short_call_ratio(), m.answered) {
                fired.push(Trigger {
                    rule: TriggerRule::ShortCalls,
                    reason: format!(
                        "{} of {} answered calls in the last {} lasted {} s or less; limit: above {} with at least {} answered",
                        pct(share),
                        m.answered,
                        rule.window.label(),
                        ledger.config().short_call_secs,
                        pct(rule.above),
                        rule.min_calls
                    ),
                });
            }
        }
        if let Some(rule) = &self.invalid_destinations {
            let m = window(rule.window);
            if let Some(share) = over(rule, m.invalid_ratio(), m.attempts) {
                fired.push(Trigger {
                    rule: TriggerRule::InvalidDestinations,
                    reason: format!(
                        "{} of {} calls in the last {} went to invalid or disconnected numbers; limit: above {} with at least {} calls",
                        pct(share),
                        m.attempts,
                        rule.window.label(),
                        pct(rule.above),
                        rule.min_calls
                    ),
                });
            }
        }
        if let Some(rule) = &self.blocked_calls {
            let m = window(rule.window);
            if let Some(share) = over(rule, m.blocked_ratio(), m.attempts) {
                fired.push(Trigger {
                    rule: TriggerRule::BlockedCalls,
                    reason: format!(
                        "{} of {} calls in the last {} were refused as unwanted (SIP 603 Network Blocked, 607, 608); limit: above {} with at least {} calls",
                        pct(share),
                        m.attempts,
                        rule.window.label(),
                        pct(rule.above),
                        rule.min_calls
                    ),
                });
            }
        }
        fired
    }
}

fn over(rule: &ShareRule, share: Option<f64>, calls: u32) -> Option<f64> {
    share.filter(|s| calls >= rule.min_calls && *s > rule.above)
}

fn pct(share: f64) -> String {
    format!("{:.0} %", share * 100.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_rules_turn_every_trigger_on() {
        let rules = QuarantineRules::shipped();
        assert!(rules.on_label && rules.on_score_over_limit);
        assert!(rules.complaints.is_some());
        assert!(rules.short_calls.is_some());
        assert!(rules.invalid_destinations.is_some());
        assert!(rules.blocked_calls.is_some());
    }

    #[test]
    fn a_left_out_section_turns_its_rule_off() {
        let rules = QuarantineRules::from_toml_str("q.toml", "on_label = true\non_score_over_limit = false\n").unwrap();
        assert_eq!(
            (
                rules.complaints,
                rules.short_calls,
                rules.invalid_destinations,
                rules.blocked_calls
            ),
            (None, None, None, None)
        );
    }

    #[test]
    fn bad_rules_name_the_file_line_and_key() {
        let text = "on_label = true\non_score_over_limit = true\n[short_calls]\nabove = 30\nmin_calls = 30\nwindow = \"24h\"\n";
        let err = QuarantineRules::from_toml_str("q.toml", text).unwrap_err();
        assert_eq!((err.key.as_str(), err.line), ("short_calls.above", Some(4)), "{err}");
        let text = "on_label = true\non_score_over_limit = true\n[short_calls]\nabove = 0.3\nmin_calls = 30\nwindow = \"2d\"\n";
        let err = QuarantineRules::from_toml_str("q.toml", text).unwrap_err();
        assert_eq!((err.key.as_str(), err.line), ("short_calls.window", Some(6)), "{err}");
        assert!(err.reason.contains("unknown variant"), "{err}");
        let err = QuarantineRules::from_toml_str("q.toml", "on_label = true\n").unwrap_err();
        assert!(err.reason.contains("on_score_over_limit"), "{err}");
        let err = QuarantineRules::from_toml_str(
            "q.toml",
            "on_label = true\non_score_over_limit = true\n[complaints]\nmore_than = 2\ndays = 0\n",
        )
        .unwrap_err();
        assert_eq!((err.key.as_str(), err.line), ("complaints.days", Some(5)), "{err}");
    }
}
