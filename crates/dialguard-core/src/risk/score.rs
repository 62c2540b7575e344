//! One number's risk score on one engine profile, with its reasons.
//!
//! Each factor turns one figure into points (see [`FactorSpec`]); the score
//! is their sum, capped at 100, so every point in a score can be traced to
//! a factor and a sentence. The sentences are rendered from the figures
//! when asked for ([`Factor`]'s `Display`, and the `text` field of its JSON),
//! so scoring a thousand numbers allocates no text at all.

use std::fmt;

use serde::ser::SerializeStruct;
use serde::{Deserialize, Serialize, Serializer};

use super::inputs::RiskInputs;
use super::profile::{FactorName, FactorSpec, Levels, Profile, Worse};

/// The share of a factor's weight given at its concern level; the rest
/// comes in a straight line up to the strong level.
pub const CONCERN_SHARE: f64 = 0.4;

/// Where a score stands on its profile's levels.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    Healthy,
    Watch,
    AtRisk,
}

impl Level {
    /// The level a score reaches on its own, without history: at or above
    /// `enter` of `at_risk`, then of `watch`. [`Level::next`] adds the
    /// hysteresis.
    pub fn of(score: f64, levels: &Levels) -> Level {
        if score >= levels.at_risk.enter {
            Level::AtRisk
        } else if score >= levels.watch.enter {
            Level::Watch
        } else {
            Level::Healthy
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Level::Healthy => "healthy",
            Level::Watch => "watch",
            Level::AtRisk => "at_risk",
        }
    }
}

/// The span of the busiest stretch the volume factor found.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Span {
    Minute,
    Hour,
    Day,
}

/// What a factor's figure was measured over, for its sentence.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Basis {
    /// A recency-weighted share or average of calls; `secs` is the talk
    /// threshold, `per_day` the repeat count, `hours` the calling hours,
    /// where the factor has one.
    Recent {
        half_life_days: f64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        secs: Option<u32>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        per_day: Option<u32>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        hours: Option<(u8, u8)>,
    },
    /// A count over the last `days`.
    Window { days: u32 },
    /// The busiest `span` of the last 24 hours against its allowance.
    Volume {
        span: Span,
        allowance: f64,
        active_days: u32,
    },
    /// Days with calls so far.
    Maturity,
    /// Calls to the caller's own area code, from a pool of `pool_numbers`.
    Neighbour {
        half_life_days: f64,
        pool_numbers: u32,
        min_pool_numbers: u32,
    },
}

/// One reason, with the figure behind it and the points it gave.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct Factor {
    pub name: FactorName,
    /// The figure: a share (0..=1), seconds, calls, complaints or days;
    /// `None` when there was nothing to measure (no answered calls, …).
    pub value: Option<f64>,
    /// The profile's concern level, in the figure's units.
    pub limit: f64,
    /// The profile's strong level, in the figure's units.
    pub strong: f64,
    /// Points given (0 up to `weight`).
    pub points: f64,
    pub weight: f64,
    /// Recency-weighted calls behind a share; `None` for counts.
    pub sample: Option<f64>,
    /// Calls a share needs before it counts.
    pub min_sample: f64,
    pub basis: Basis,
}

impl Factor {
    /// Enough calls behind the figure for it to count.
    pub fn counts(&self) -> bool {
        self.sample.is_none_or(|n| n >= self.min_sample)
    }

    /// The plain-words sentence (same as `to_string()`).
    pub fn text(&self) -> String {
        self.to_string()
    }
}

impl Serialize for Factor {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("Factor", 10)?;
        st.serialize_field("name", &self.name)?;
        st.serialize_field("value", &self.value)?;
        st.serialize_field("limit", &self.limit)?;
        st.serialize_field("strong", &self.strong)?;
        st.serialize_field("points", &self.points)?;
        st.serialize_field("weight", &self.weight)?;
        st.serialize_field("sample", &self.sample)?;
        st.serialize_field("min_sample", &self.min_sample)?;
        st.serialize_field("basis", &self.basis)?;
        st.serialize_field("text", &self.to_string())?;
        st.end()
    }
}

/// A number's score on one profile.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Score {
    pub profile: String,
    /// 0..=100: the sum of the factors' points, capped.
    pub value: f64,
    /// The level the score reaches on its own (see [`Level::of`]).
    pub level: Level,
    /// The profile's quarantine limit.
    pub quarantine_above: f64,
    /// Every factor, in [`FactorName::ALL`] order.
    pub factors: Vec<Factor>,
}

impl Score {
    /// Factors that gave points, most points first.
    pub fn ranked(&self) -> Vec<&Factor> {
        let mut ranked: Vec<&Factor> = self.factors.iter().filter(|f| f.points > 0.0).collect();
        ranked.sort_by(|a, b| b.points.total_cmp(&a.points));
        ranked
    }

    /// The factor that gave the most points, if any did.
    pub fn top_factor(&self) -> Option<&Factor> {
        self.ranked().into_iter().next()
    }

    /// The points of the evidence factors alone (those that do not merely
    /// [throttle](FactorName::throttles)), capped at 100: what the
    /// quarantine limit is compared with. A cold-calling mix that scores high
    /// on engagement and answer rate slows down; it does not stop.
    pub fn evidence(&self) -> f64 {
        self.factors
            .iter()
            .filter(|f| !f.name.throttles())
            .map(|f| f.points)
            .sum::<f64>()
            .min(100.0)
    }

    /// The evidence factor that gave the most points, if any did.
    pub fn top_evidence(&self) -> Option<&Factor> {
        self.ranked().into_iter().find(|f| !f.name.throttles())
    }

    pub fn factor(&self, name: FactorName) -> &Factor {
        self.factors
            .iter()
            .find(|f| f.name == name)
            .expect("every factor is scored")
    }
}

/// Scores one number's inputs on one profile. The inputs carry their own
/// instant and were measured with their own [`InputSpec`](super::profile::InputSpec);
/// [`super::assess`] builds them from the profile's, which is what a caller
/// scoring by hand should do too.
pub fn score(profile: &Profile, inputs: &RiskInputs) -> Score {
    let factors: Vec<Factor> = FactorName::ALL
        .iter()
        .map(|name| factor(profile, inputs, *name))
        .collect();
    let total: f64 = factors.iter().map(|f| f.points).sum();
    let value = round1(total.clamp(0.0, 100.0));
    Score {
        profile: profile.name.clone(),
        value,
        level: Level::of(value, &profile.levels),
        quarantine_above: profile.levels.quarantine_above,
        factors,
    }
}

fn ratio(part: f64, whole: f64) -> Option<f64> {
    (whole > 0.0).then(|| part / whole)
}

fn round1(v: f64) -> f64 {
    (v * 10.0).round() / 10.0
}

/// 0 on the safe side of `concern`; [`CONCERN_SHARE`] at it, rising to 1
/// at `strong` and staying there.
fn severity(worse: Worse, value: f64, concern: f64, strong: f64) -> f64 {
    let (past, span) = match worse {
        Worse::Higher => (value - concern, strong - concern),
        Worse::Lower => (concern - value, concern - strong),
    };
    if past < 0.0 {
        return 0.0;
    }
    let along = if span > 0.0 { (past / span).min(1.0) } else { 1.0 };
    CONCERN_SHARE + (1.0 - CONCERN_SHARE) * along
}

/// 0 below the minimum sample, one half at it, all from twice it.
fn confidence(sample: Option<f64>, min_sample: f64) -> f64 {
    match sample {
        None => 1.0,
        Some(n) if n < min_sample => 0.0,
        Some(_) if min_sample <= 0.0 => 1.0,
        Some(n) => (n / (2.0 * min_sample)).min(1.0),
    }
}

fn factor(profile: &Profile, inputs: &RiskInputs, name: FactorName) -> Factor {
    let spec: &FactorSpec = profile.factors.get(name);
    let r = &inputs.recent;
    let a = &inputs.activity;
    let half_life_days = inputs.decay.half_life_secs as f64 / 86_400.0;
    let recent = Basis::Recent {
        half_life_days,
        secs: None,
        per_day: None,
        hours: None,
    };
    let (mut limit, mut strong) = (spec.concern, spec.strong);
    let mut gate = true;
    let (value, sample, basis) = match name {
        FactorName::ShortCalls => (
            ratio(r.short_calls, r.answered),
            Some(r.answered),
            Basis::Recent {
                half_life_days,
                secs: Some(inputs.decay.short_call_secs),
                per_day: None,
                hours: None,
            },
        ),
        FactorName::Engagement => (
            ratio(r.unengaged, r.answered),
            Some(r.answered),
            Basis::Recent {
                half_life_days,
                secs: Some(inputs.decay.engagement_secs),
                per_day: None,
                hours: None,
            },
        ),
        FactorName::AnswerRate => (ratio(r.answered, r.attempts), Some(r.attempts), recent),
        FactorName::TalkTime => (ratio(r.talk_seconds, r.answered), Some(r.answered), recent),
        FactorName::Volume => {
            let (span, count, allowance) = busiest_span(profile, inputs);
            limit = spec.concern * allowance;
            strong = spec.strong * allowance;
            (
                Some(count),
                None,
                Basis::Volume {
                    span,
                    allowance,
                    active_days: a.active_days,
                },
            )
        }
        FactorName::RepeatCalls => (
            ratio(r.repeat_calls, r.attempts),
            Some(r.attempts),
            Basis::Recent {
                half_life_days,
                secs: None,
                per_day: Some(inputs.decay.repeat_calls_per_day),
                hours: None,
            },
        ),
        FactorName::InvalidDestinations => (ratio(r.invalid, r.attempts), Some(r.attempts), recent),
        FactorName::Complaints => (
            Some(f64::from(a.complaints)),
            None,
            Basis::Window {
                days: inputs.recent_days,
            },
        ),
        FactorName::BlockedCalls => (
            Some(f64::from(a.blocked)),
            None,
            Basis::Window {
                days: inputs.recent_days,
            },
        ),
        // A number that is not calling is not judged on its maturity:
        // the recent calls are the sample.
        FactorName::Maturity => (Some(f64::from(a.active_days)), Some(r.attempts), Basis::Maturity),
        FactorName::OffHours => (
            ratio(r.off_hours, r.attempts),
            Some(r.attempts),
            Basis::Recent {
                half_life_days,
                secs: None,
                per_day: None,
                hours: Some(inputs.decay.calling_hours),
            },
        ),
        FactorName::NeighbourPattern => {
            gate = inputs.pool_size >= profile.neighbour.min_pool_numbers;
            (
                ratio(r.local_calls, r.attempts),
                Some(r.attempts),
                Basis::Neighbour {
                    half_life_days,
                    pool_numbers: inputs.pool_size,
                    min_pool_numbers: profile.neighbour.min_pool_numbers,
                },
            )
        }
    };
    let points = match value {
        Some(v) if gate => spec.weight * severity(name.worse(), v, limit, strong) * confidence(sample, spec.min_sample),
        _ => 0.0,
    };
    Factor {
        name,
        value,
        limit,
        strong,
        points: round1(points),
        weight: spec.weight,
        sample,
        min_sample: spec.min_sample,
        basis,
    }
}

/// The busiest minute, hour and day of the last 24 hours, each against the
/// allowance for this number's maturity; the one furthest over wins.
fn busiest_span(profile: &Profile, inputs: &RiskInputs) -> (Span, f64, f64) {
    let a = &inputs.activity;
    let allow = &profile.allowance;
    let days = allow.mature_after_days;
    [
        (
            Span::Minute,
            a.peak_per_minute_24h,
            allow.per_minute.at(a.active_days, days),
        ),
        (Span::Hour, a.peak_per_hour_24h, allow.per_hour.at(a.active_days, days)),
        (Span::Day, a.attempts_24h, allow.per_day.at(a.active_days, days)),
    ]
    .into_iter()
    .map(|(span, count, allowance)| (span, f64::from(count), allowance))
    .max_by(|x, y| (x.1 / x.2).total_cmp(&(y.1 / y.2)))
    .expect("three spans")
}

/// `0.31` → `31 %`, `0.045` → `4.5 %`.
fn pct(share: f64) -> String {
    let p = share * 100.0;
    if p != 0.0 && p.abs() < 10.0 && (p - p.round()).abs() > 0.05 {
        format!("{p:.1} %")
    } else {
        format!("{p:.0} %")
    }
}

/// A count or recency-weighted count: whole when it is, one decimal otherwise.
fn num(v: f64) -> String {
    if (v - v.round()).abs() < 0.05 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

/// `3` → `3rd`.
fn ordinal(n: u32) -> String {
    let suffix = match (n % 10, n % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

fn plural(n: f64, one: &str, many: &str) -> String {
    if (n - 1.0).abs() < f64::EPSILON {
        format!("1 {one}")
    } else {
        format!("{} {many}", num(n))
    }
}

impl fmt::Display for Factor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Some(value) = self.value else {
            return f.write_str(match self.name {
                FactorName::ShortCalls | FactorName::Engagement | FactorName::TalkTime => "no answered calls to judge",
                _ => "no calls to judge",
            });
        };
        let share = self.name.is_share();
        let show = |v: f64| if share { pct(v) } else { num(v) };
        let sample_note = match self.sample {
            Some(n) => {
                let what = match self.name {
                    FactorName::ShortCalls | FactorName::Engagement | FactorName::TalkTime => "answered",
                    _ => "calls",
                };
                format!("{n:.0} {what}, recency-weighted")
            }
            None => String::new(),
        };
        match (self.name, &self.basis) {
            (FactorName::ShortCalls, Basis::Recent { secs, .. }) => write!(
                f,
                "{} of answered calls lasted {} s or less ({sample_note})",
                pct(value),
                secs.unwrap_or_default()
            )?,
            (FactorName::Engagement, Basis::Recent { secs, .. }) => write!(
                f,
                "{} of answered calls lasted under {} s ({sample_note})",
                pct(value),
                secs.unwrap_or_default()
            )?,
            (FactorName::AnswerRate, _) => write!(f, "{} of calls were answered ({sample_note})", pct(value))?,
            (FactorName::TalkTime, _) => write!(f, "answered calls averaged {} s of talk ({sample_note})", num(value))?,
            (
                FactorName::Volume,
                Basis::Volume {
                    span,
                    allowance,
                    active_days,
                },
            ) => {
                match span {
                    Span::Minute => write!(
                        f,
                        "{} in one minute (busiest of the last 24 h)",
                        plural(value, "call", "calls")
                    )?,
                    Span::Hour => write!(
                        f,
                        "{} in one hour (busiest of the last 24 h)",
                        plural(value, "call", "calls")
                    )?,
                    Span::Day => write!(f, "{} in the last 24 h", plural(value, "call", "calls"))?,
                }
                write!(
                    f,
                    "; allowance {} a {} for a number with {}",
                    num(*allowance),
                    match span {
                        Span::Minute => "minute",
                        Span::Hour => "hour",
                        Span::Day => "day",
                    },
                    plural(f64::from(*active_days), "day of calls", "days of calls"),
                )?
            }
            (FactorName::RepeatCalls, Basis::Recent { per_day, .. }) => write!(
                f,
                "{} of calls were the {} or later call to one person within 24 h ({sample_note})",
                pct(value),
                ordinal(per_day.unwrap_or_default())
            )?,
            (FactorName::InvalidDestinations, _) => write!(
                f,
                "{} of calls went to invalid, unallocated or disconnected numbers ({sample_note})",
                pct(value)
            )?,
            (FactorName::Complaints, Basis::Window { days }) => write!(
                f,
                "{} in the last {days} days",
                plural(value, "complaint", "complaints")
            )?,
            (FactorName::BlockedCalls, Basis::Window { days }) => write!(
                f,
                "{} refused as unwanted by the network or the callee in the last {days} days",
                plural(value, "call", "calls")
            )?,
            (FactorName::Maturity, _) => write!(
                f,
                "{} so far ({sample_note}); little history reads as a disposable number",
                plural(value, "day of calls", "days of calls")
            )?,
            (FactorName::OffHours, Basis::Recent { hours, .. }) => {
                let (start, end) = hours.unwrap_or_default();
                write!(
                    f,
                    "{} of calls started outside {start:02}:00–{end:02}:00 in the callee's time zone ({sample_note})",
                    pct(value)
                )?
            }
            (
                FactorName::NeighbourPattern,
                Basis::Neighbour {
                    pool_numbers,
                    min_pool_numbers,
                    ..
                },
            ) => {
                write!(
                    f,
                    "{} of calls went to the caller's own area code, from a pool of {} ({sample_note})",
                    pct(value),
                    plural(f64::from(*pool_numbers), "number", "numbers"),
                )?;
                if pool_numbers < min_pool_numbers {
                    return write!(f, "; the pattern counts for pools of {min_pool_numbers} or more");
                }
            }
            (name, _) => write!(f, "{name} {}", show(value))?,
        }
        if !self.counts() {
            return write!(f, "; too few calls to count yet (needs {})", num(self.min_sample));
        }
        let from = match self.name.worse() {
            Worse::Higher => "from",
            Worse::Lower => "at or below",
        };
        let unit = match self.name {
            FactorName::TalkTime => " s",
            FactorName::Maturity => " days",
            _ => "",
        };
        write!(
            f,
            "; profile concern {from} {}{unit}, strong {from} {}{unit}",
            show(self.limit),
            show(self.strong)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn severity_has_a_floor_at_concern_and_a_ceiling_at_strong() {
        let h = Worse::Higher;
        assert_eq!(severity(h, 0.10, 0.15, 0.20), 0.0);
        assert_eq!(severity(h, 0.15, 0.15, 0.20), CONCERN_SHARE);
        assert!((severity(h, 0.175, 0.15, 0.20) - 0.7).abs() < 1e-9);
        assert_eq!(severity(h, 0.20, 0.15, 0.20), 1.0);
        assert_eq!(severity(h, 0.90, 0.15, 0.20), 1.0);
        let l = Worse::Lower;
        assert_eq!(severity(l, 0.50, 0.40, 0.20), 0.0);
        assert_eq!(severity(l, 0.40, 0.40, 0.20), CONCERN_SHARE);
        assert_eq!(severity(l, 0.10, 0.40, 0.20), 1.0);
        assert_eq!(severity(h, 3.0, 3.0, 3.0), 1.0, "concern == strong");
    }

    #[test]
    fn a_share_counts_from_its_minimum_sample() {
        assert_eq!(confidence(Some(19.9), 20.0), 0.0);
        assert_eq!(confidence(Some(20.0), 20.0), 0.5);
        assert_eq!(confidence(Some(40.0), 20.0), 1.0);
        assert_eq!(confidence(Some(400.0), 20.0), 1.0);
        assert_eq!(confidence(None, 20.0), 1.0);
        assert_eq!(confidence(Some(3.0), 0.0), 1.0);
    }

    #[test]
    fn figures_read_as_people_write_them() {
        assert_eq!(pct(0.31), "31 %");
        assert_eq!(pct(0.045), "4.5 %");
        assert_eq!(pct(0.0), "0 %");
        assert_eq!(pct(1.0), "100 %");
        assert_eq!(num(3.0), "3");
        assert_eq!(num(47.26), "47.3");
        assert_eq!(plural(1.0, "complaint", "complaints"), "1 complaint");
        assert_eq!(plural(4.0, "complaint", "complaints"), "4 complaints");
        assert_eq!(
            [1, 2, 3, 4, 11, 12, 13, 21, 22, 23].map(ordinal),
            [
                "1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd", "23rd"
            ]
        );
    }
}
