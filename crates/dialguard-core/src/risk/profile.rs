//! Engine profiles as data: one TOML file per analytics engine.
//!
//! No engine publishes its thresholds. A profile writes down the best public
//! reading of one engine (what carriers, dialer vendors and the engines'
//! own documentation say) so that a user can see, cite and change every
//! number. The three shipped profiles (`hiya`, `tns`, `first-orion`) and the
//! quarantine rules are embedded from `profiles/*.toml`; each default there
//! carries a comment naming its source.
//!
//! The core does no I/O: [`RiskConfig::from_toml_strs`] takes file names and
//! texts, and whoever read them from disk passes them in. A bad value fails
//! the whole load with the file, line, key and what to do about it.

use std::fmt;
use std::sync::LazyLock;

use serde::{Deserialize, Serialize};

use super::quarantine::QuarantineRules;
use crate::event::Carrier;
use crate::metrics::DecayConfig;

/// The shipped files, as `(file name, text)`: the defaults, and what
/// `--profiles DIR` starts from when a user copies them out.
pub const SHIPPED: [(&str, &str); 4] = [
    ("hiya.toml", include_str!("../../profiles/hiya.toml")),
    ("tns.toml", include_str!("../../profiles/tns.toml")),
    ("first-orion.toml", include_str!("../../profiles/first-orion.toml")),
    ("quarantine.toml", include_str!("../../profiles/quarantine.toml")),
];

/// The file stem that holds quarantine rules rather than a profile.
pub const QUARANTINE_FILE: &str = "quarantine";

/// Every factor a profile scores, in the order reports list them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FactorName {
    /// Share of answered calls with at most the short-call talk time.
    ShortCalls,
    /// Share of answered calls under the engagement cut (15 s).
    Engagement,
    /// Share of calls answered.
    AnswerRate,
    /// Average talk seconds of answered calls.
    TalkTime,
    /// Busiest minute, hour and day against an allowance that grows with maturity.
    Volume,
    /// Share of calls that were a third (or later) call to one person in a day.
    RepeatCalls,
    /// Share of calls to invalid, unallocated or disconnected numbers.
    InvalidDestinations,
    /// Complaints in the recent window.
    Complaints,
    /// Calls refused as unwanted (SIP 603/607/608) in the recent window.
    BlockedCalls,
    /// Days with calls so far: little history is itself a risk.
    Maturity,
    /// Share of calls started outside calling hours in the callee's time zone.
    OffHours,
    /// Share of calls to the caller's own area code, from a pool of many numbers.
    NeighbourPattern,
}

/// Which way a factor's figure goes bad.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Worse {
    Higher,
    Lower,
}

impl FactorName {
    pub const ALL: [FactorName; 12] = [
        FactorName::ShortCalls,
        FactorName::Engagement,
        FactorName::AnswerRate,
        FactorName::TalkTime,
        FactorName::Volume,
        FactorName::RepeatCalls,
        FactorName::InvalidDestinations,
        FactorName::Complaints,
        FactorName::BlockedCalls,
        FactorName::Maturity,
        FactorName::OffHours,
        FactorName::NeighbourPattern,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            FactorName::ShortCalls => "short_calls",
            FactorName::Engagement => "engagement",
            FactorName::AnswerRate => "answer_rate",
            FactorName::TalkTime => "talk_time",
            FactorName::Volume => "volume",
            FactorName::RepeatCalls => "repeat_calls",
            FactorName::InvalidDestinations => "invalid_destinations",
            FactorName::Complaints => "complaints",
            FactorName::BlockedCalls => "blocked_calls",
            FactorName::Maturity => "maturity",
            FactorName::OffHours => "off_hours",
            FactorName::NeighbourPattern => "neighbour_pattern",
        }
    }

    /// A factor that reads the callees' reception of the calls or the
    /// number's age (short calls, engagement, answer rate, talk time,
    /// maturity) or its volume. Fewer calls answer these: the engine
    /// throttles the number's caps as they rise instead of quarantining, so
    /// their points never count towards the quarantine limit (see
    /// [`Score::evidence`](super::Score::evidence)). Every other factor is
    /// evidence that carriers or callees already push back.
    pub fn throttles(self) -> bool {
        matches!(
            self,
            FactorName::ShortCalls
                | FactorName::Engagement
                | FactorName::AnswerRate
                | FactorName::TalkTime
                | FactorName::Volume
                | FactorName::Maturity
        )
    }

    pub fn worse(self) -> Worse {
        match self {
            FactorName::AnswerRate | FactorName::TalkTime | FactorName::Maturity => Worse::Lower,
            _ => Worse::Higher,
        }
    }

    /// Shares (0..=1) rather than counts, seconds or multiples.
    pub fn is_share(self) -> bool {
        matches!(
            self,
            FactorName::ShortCalls
                | FactorName::Engagement
                | FactorName::AnswerRate
                | FactorName::RepeatCalls
                | FactorName::InvalidDestinations
                | FactorName::OffHours
                | FactorName::NeighbourPattern
        )
    }
}

impl fmt::Display for FactorName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How one factor turns its figure into points.
///
/// Below `concern` (or above it, for figures where lower is worse) the factor
/// gives nothing; at `concern` it gives 40 % of `weight`, rising in a
/// straight line to all of `weight` at `strong`. A share counts only from
/// `min_sample` recency-weighted calls, at half weight, and at full weight
/// from twice that: a ratio over a handful of calls says little.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FactorSpec {
    /// Points at the strong level (0 turns the factor off).
    pub weight: f64,
    pub concern: f64,
    pub strong: f64,
    #[serde(default)]
    pub min_sample: f64,
}

/// A profile's factors; every one must be present (weight 0 turns one off),
/// so a misspelt name is an error rather than a silently missing factor.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FactorSpecs {
    pub short_calls: FactorSpec,
    pub engagement: FactorSpec,
    pub answer_rate: FactorSpec,
    pub talk_time: FactorSpec,
    pub volume: FactorSpec,
    pub repeat_calls: FactorSpec,
    pub invalid_destinations: FactorSpec,
    pub complaints: FactorSpec,
    pub blocked_calls: FactorSpec,
    pub maturity: FactorSpec,
    pub off_hours: FactorSpec,
    pub neighbour_pattern: FactorSpec,
}

impl FactorSpecs {
    pub fn get(&self, name: FactorName) -> &FactorSpec {
        match name {
            FactorName::ShortCalls => &self.short_calls,
            FactorName::Engagement => &self.engagement,
            FactorName::AnswerRate => &self.answer_rate,
            FactorName::TalkTime => &self.talk_time,
            FactorName::Volume => &self.volume,
            FactorName::RepeatCalls => &self.repeat_calls,
            FactorName::InvalidDestinations => &self.invalid_destinations,
            FactorName::Complaints => &self.complaints,
            FactorName::BlockedCalls => &self.blocked_calls,
            FactorName::Maturity => &self.maturity,
            FactorName::OffHours => &self.off_hours,
            FactorName::NeighbourPattern => &self.neighbour_pattern,
        }
    }

    pub fn get_mut(&mut self, name: FactorName) -> &mut FactorSpec {
        match name {
            FactorName::ShortCalls => &mut self.short_calls,
            FactorName::Engagement => &mut self.engagement,
            FactorName::AnswerRate => &mut self.answer_rate,
            FactorName::TalkTime => &mut self.talk_time,
            FactorName::Volume => &mut self.volume,
            FactorName::RepeatCalls => &mut self.repeat_calls,
            FactorName::InvalidDestinations => &mut self.invalid_destinations,
            FactorName::Complaints => &mut self.complaints,
            FactorName::BlockedCalls => &mut self.blocked_calls,
            FactorName::Maturity => &mut self.maturity,
            FactorName::OffHours => &mut self.off_hours,
            FactorName::NeighbourPattern => &mut self.neighbour_pattern,
        }
    }
}

/// Local calling hours `[start, end)` as whole hours.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CallingHours {
    pub start: u8,
    pub end: u8,
}

/// What a profile measures from the call history (see [`DecayConfig`]).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InputSpec {
    pub half_life_days: f64,
    pub short_call_secs: u32,
    pub engagement_secs: u32,
    pub repeat_calls_per_day: u32,
    pub calling_hours: CallingHours,
    /// The window complaints and blocked calls are counted in.
    pub recent_days: u32,
}

impl InputSpec {
    pub fn decay_config(&self) -> DecayConfig {
        DecayConfig {
            half_life_secs: (self.half_life_days * 86_400.0).round() as i64,
            short_call_secs: self.short_call_secs,
            engagement_secs: self.engagement_secs,
            repeat_calls_per_day: self.repeat_calls_per_day,
            calling_hours: (self.calling_hours.start, self.calling_hours.end),
        }
    }
}

/// A level entered at or above `enter` and left only below `exit`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Threshold {
    pub enter: f64,
    pub exit: f64,
}

/// Where a score becomes `watch` and `at_risk`, and where it quarantines.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Levels {
    pub watch: Threshold,
    pub at_risk: Threshold,
    /// An evidence score ([`Score::evidence`](super::Score::evidence)) over
    /// this trips the quarantine rule `on_score_over_limit`; the full score
    /// approaching it shrinks the number's caps to their floor.
    pub quarantine_above: f64,
}

/// Calls a number may place in one span, from new to mature.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rate {
    pub new: f64,
    pub mature: f64,
}

impl Rate {
    /// Straight-line growth from `new` at no history to `mature` at
    /// `mature_after_days` days with calls.
    pub fn at(&self, active_days: u32, mature_after_days: u32) -> f64 {
        let grown = (f64::from(active_days) / f64::from(mature_after_days.max(1))).min(1.0);
        self.new + (self.mature - self.new) * grown
    }
}

/// The volume a number of a given maturity may place before the volume
/// factor counts it against the number.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Allowance {
    pub mature_after_days: u32,
    pub per_minute: Rate,
    pub per_hour: Rate,
    pub per_day: Rate,
}

/// When calls to the caller's own area code read as a neighbour-spoofing pool.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Neighbour {
    /// The pattern counts only for numbers in a pool at least this large.
    pub min_pool_numbers: u32,
}

/// One analytics engine's profile.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Profile {
    /// The file stem: `hiya`, `tns`, `first-orion`, or a user's own.
    pub name: String,
    /// The carrier whose handsets show this engine's labels, if any.
    pub carrier: Option<Carrier>,
    pub description: String,
    pub inputs: InputSpec,
    pub levels: Levels,
    pub allowance: Allowance,
    pub neighbour: Neighbour,
    pub factors: FactorSpecs,
}

/// The file's shape; the name comes from the file name.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ProfileFile {
    description: String,
    #[serde(default)]
    carrier: Option<Carrier>,
    inputs: InputSpec,
    levels: Levels,
    allowance: Allowance,
    neighbour: Neighbour,
    factors: FactorSpecs,
}

/// Everything the risk engine is configured with.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RiskConfig {
    pub profiles: Vec<Profile>,
    pub quarantine: QuarantineRules,
}

static DEFAULTS: LazyLock<RiskConfig> =
    LazyLock::new(|| RiskConfig::from_toml_strs(&SHIPPED).expect("the shipped profiles parse (tested)"));

impl RiskConfig {
    /// The shipped profiles and quarantine rules.
    pub fn defaults() -> RiskConfig {
        DEFAULTS.clone()
    }

    /// Parses profile files and, when one is named `quarantine.toml`, the
    /// quarantine rules (the shipped rules otherwise). The files given
    /// replace the shipped profiles: a directory with only `hiya.toml`
    /// scores against Hiya alone.
    pub fn from_toml_strs(files: &[(&str, &str)]) -> Result<RiskConfig, ProfileError> {
        let mut profiles: Vec<Profile> = Vec::new();
        let mut quarantine = None;
        for (file, text) in files {
            let stem = file_stem(file);
            if stem == QUARANTINE_FILE {
                quarantine = Some(QuarantineRules::from_toml_str(file, text)?);
                continue;
            }
            let profile = Profile::from_toml_str(file, text)?;
            if profiles.iter().any(|p| p.name == profile.name) {
                return Err(ProfileError::new(
                    file,
                    None,
                    "",
                    format!("a second profile named {:?}: rename one of the files", profile.name),
                ));
            }
            profiles.push(profile);
        }
        if profiles.is_empty() {
            let names: Vec<&str> = files.iter().map(|(f, _)| *f).collect();
            return Err(ProfileError::new(
                &names.join(", "),
                None,
                "",
                "no engine profile among the files: add at least one (e.g. hiya.toml)".into(),
            ));
        }
        let quarantine = match quarantine {
            Some(rules) => rules,
            None => QuarantineRules::shipped(),
        };
        Ok(RiskConfig { profiles, quarantine })
    }

    pub fn profile(&self, name: &str) -> Option<&Profile> {
        self.profiles.iter().find(|p| p.name == name)
    }
}

/// `dir/hiya.toml` → `hiya`.
fn file_stem(file: &str) -> &str {
    let base = file.rsplit(['/', '\\']).next().unwrap_or(file);
    base.strip_suffix(".toml").unwrap_or(base)
}

impl Profile {
    /// Parses and checks one profile file; its name is the file's stem.
    pub fn from_toml_str(file: &str, text: &str) -> Result<Profile, ProfileError> {
        let name = file_stem(file);
        let name_ok = !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
        if !name_ok {
            return Err(ProfileError::new(
                file,
                None,
                "",
                format!(
                    "profile name {name:?} (from the file name) must be lower-case letters, digits, '-' or '_': rename the file"
                ),
            ));
        }
        let parsed: ProfileFile = parse_toml(file, text)?;
        let profile = Profile {
            name: name.to_owned(),
            carrier: parsed.carrier,
            description: parsed.description,
            inputs: parsed.inputs,
            levels: parsed.levels,
            allowance: parsed.allowance,
            neighbour: parsed.neighbour,
            factors: parsed.factors,
        };
        profile
            .check()
            .map_err(|(key, reason)| ProfileError::new(file, line_of_key(text, &key), &key, reason))?;
        Ok(profile)
    }

    /// The value rules serde cannot express, as `(key, reason)`.
    fn check(&self) -> Result<(), (String, String)> {
        let fail = |key: &str, reason: String| Err((key.to_owned(), reason));
        let i = &self.inputs;
        if !(i.half_life_days.is_finite() && i.half_life_days > 0.0 && i.half_life_days <= 365.0) {
            return fail(
                "inputs.half_life_days",
                format!("{} is not a number of days between 0 and 365", i.half_life_days),
            );
        }
        if i.engagement_secs == 0 {
            return fail("inputs.engagement_secs", "must be at least 1 second".into());
        }
        if i.repeat_calls_per_day < 2 {
            return fail(
                "inputs.repeat_calls_per_day",
                format!(
                    "{} would count a first call as a repeat: use 2 or more",
                    i.repeat_calls_per_day
                ),
            );
        }
        let hours = i.calling_hours;
        if hours.start >= hours.end || hours.end > 24 {
            return fail(
                "inputs.calling_hours",
                format!(
                    "start {} and end {} must be whole hours with start < end <= 24",
                    hours.start, hours.end
                ),
            );
        }
        if i.recent_days == 0 {
            return fail("inputs.recent_days", "must be at least 1 day".into());
        }
        self.check_levels()?;
        let a = &self.allowance;
        if a.mature_after_days == 0 {
            return fail("allowance.mature_after_days", "must be at least 1 day".into());
        }
        for (key, rate) in [
            ("allowance.per_minute", a.per_minute),
            ("allowance.per_hour", a.per_hour),
            ("allowance.per_day", a.per_day),
        ] {
            if !(rate.new.is_finite() && rate.new > 0.0) {
                return fail(&format!("{key}.new"), format!("{} must be above 0 calls", rate.new));
            }
            if !(rate.mature.is_finite() && rate.mature >= rate.new) {
                return fail(
                    &format!("{key}.mature"),
                    format!(
                        "{} must be at least `new` ({}): the allowance grows with maturity",
                        rate.mature, rate.new
                    ),
                );
            }
        }
        if self.neighbour.min_pool_numbers < 2 {
            return fail(
                "neighbour.min_pool_numbers",
                "a pool pattern needs at least 2 numbers".into(),
            );
        }
        for name in FactorName::ALL {
            check_factor(name, self.factors.get(name))
                .map_err(|(field, reason)| (format!("factors.{name}.{field}"), reason))?;
        }
        Ok(())
    }

    fn check_levels(&self) -> Result<(), (String, String)> {
        let l = &self.levels;
        for (key, t) in [("levels.watch", l.watch), ("levels.at_risk", l.at_risk)] {
            let in_range = |v: f64| v.is_finite() && (0.0..=100.0).contains(&v);
            if !in_range(t.enter) || !in_range(t.exit) {
                return Err((key.to_owned(), "enter and exit must be scores between 0 and 100".into()));
            }
            if t.exit >= t.enter {
                return Err((
                    format!("{key}.exit"),
                    format!(
                        "{} must be below enter ({}): a level is left below a lower score than the one that entered it",
                        t.exit, t.enter
                    ),
                ));
            }
        }
        if l.watch.enter > l.at_risk.enter {
            return Err((
                "levels.watch.enter".into(),
                format!(
                    "{} must not be above at_risk.enter ({})",
                    l.watch.enter, l.at_risk.enter
                ),
            ));
        }
        if l.watch.exit > l.at_risk.exit {
            return Err((
                "levels.watch.exit".into(),
                format!("{} must not be above at_risk.exit ({})", l.watch.exit, l.at_risk.exit),
            ));
        }
        if !(l.quarantine_above.is_finite() && l.quarantine_above > 0.0 && l.quarantine_above <= 100.0) {
            return Err((
                "levels.quarantine_above".into(),
                format!("{} must be a score above 0 and at most 100", l.quarantine_above),
            ));
        }
        Ok(())
    }
}

fn check_factor(name: FactorName, spec: &FactorSpec) -> Result<(), (&'static str, String)> {
    if !(spec.weight.is_finite() && (0.0..=100.0).contains(&spec.weight)) {
        return Err(("weight", format!("{} must be points between 0 and 100", spec.weight)));
    }
    let needs_sample = name.is_share() || name == FactorName::Maturity;
    let least = if needs_sample { 1.0 } else { 0.0 };
    if !(spec.min_sample.is_finite() && spec.min_sample >= least) {
        let reason = if needs_sample {
            "must be at least 1 call: a share of next to no calls says nothing"
        } else {
            "must be 0 or more calls"
        };
        return Err(("min_sample", format!("{} {reason}", spec.min_sample)));
    }
    for (field, v) in [("concern", spec.concern), ("strong", spec.strong)] {
        if !v.is_finite() || v < 0.0 {
            return Err((field, format!("{v} must be a number of 0 or more")));
        }
        if name.is_share() && v > 1.0 {
            return Err((
                field,
                format!("{v} is a share: write it between 0 and 1 (0.15 for 15 %)"),
            ));
        }
    }
    match name.worse() {
        Worse::Higher if spec.concern <= 0.0 => Err((
            "concern",
            format!(
                "{} must be above 0: at 0 every number, however quiet, would be of concern",
                spec.concern
            ),
        )),
        Worse::Higher if spec.strong < spec.concern => Err((
            "strong",
            format!(
                "{} must be at or above concern ({}): for {name} a higher figure is worse",
                spec.strong, spec.concern
            ),
        )),
        Worse::Lower if spec.strong > spec.concern => Err((
            "strong",
            format!(
                "{} must be at or below concern ({}): for {name} a lower figure is worse",
                spec.strong, spec.concern
            ),
        )),
        _ => Ok(()),
    }
}

/// Why a profile or rules file was refused: which file, where, and what to do.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct ProfileError {
    pub file: String,
    /// 1-based, when the key could be found in the text.
    pub line: Option<usize>,
    /// Dotted path (`factors.short_calls.strong`); empty for whole-file problems.
    pub key: String,
    pub reason: String,
}

impl ProfileError {
    pub(crate) fn new(file: &str, line: Option<usize>, key: &str, reason: String) -> ProfileError {
        ProfileError {
            file: file.to_owned(),
            line,
            key: key.to_owned(),
            reason,
        }
    }
}

impl fmt::Display for ProfileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        if !self.key.is_empty() {
            write!(f, ": {}", self.key)?;
        }
        write!(f, ": {}", self.reason)
    }
}

/// Deserialises a TOML file, turning the parser's error into one that
/// names the line and the key it sits on.
pub(crate) fn parse_toml<T: serde::de::DeserializeOwned>(file: &str, text: &str) -> Result<T, ProfileError> {
    toml::from_str(text).map_err(|e| {
        let (line, key) = match e.span() {
            Some(span) => {
                let line = text[..span.start.min(text.len())].matches('\n').count() + 1;
                (Some(line), key_on_line(text, line))
            }
            None => (None, String::new()),
        };
        let reason = e.message().trim().to_owned();
        let reason = if reason.starts_with("missing field") {
            format!("{reason}: every key of the shipped file must be present (weight = 0 turns a factor off)")
        } else {
            reason
        };
        ProfileError::new(file, line, &key, reason)
    })
}

/// The current `[table]` header before `line` (1-based), and the key on it.
fn key_on_line(text: &str, line: usize) -> String {
    let mut table = String::new();
    for (i, raw) in text.lines().enumerate() {
        let l = strip_comment(raw);
        if let Some(header) = table_header(l) {
            table = header;
            if i + 1 == line {
                return table;
            }
            continue;
        }
        if i + 1 == line {
            return match l.split_once('=') {
                Some((key, _)) => join_key(&table, key.trim()),
                None => table,
            };
        }
    }
    table
}

/// The 1-based line on which a dotted key (or its nearest parent written as
/// an inline table) is set.
pub(crate) fn line_of_key(text: &str, key: &str) -> Option<usize> {
    let mut table = String::new();
    let mut best: Option<(usize, usize)> = None;
    for (i, raw) in text.lines().enumerate() {
        let l = strip_comment(raw);
        if let Some(header) = table_header(l) {
            table = header;
            if key == table || key.starts_with(&format!("{table}.")) {
                let candidate = (table.len(), i + 1);
                if best.is_none_or(|b| candidate.0 > b.0) {
                    best = Some(candidate);
                }
            }
            continue;
        }
        if let Some((k, _)) = l.split_once('=') {
            let full = join_key(&table, k.trim());
            if key == full || key.starts_with(&format!("{full}.")) {
                let candidate = (full.len(), i + 1);
                if best.is_none_or(|b| candidate.0 > b.0) {
                    best = Some(candidate);
                }
            }
        }
    }
    best.map(|(_, line)| line)
}

fn strip_comment(line: &str) -> &str {
    // Profile files keep `#` out of strings, so the first `#` starts a comment.
    line.split('#').next().unwrap_or("").trim()
}

fn table_header(line: &str) -> Option<String> {
    let inner = line.strip_prefix('[')?.strip_suffix(']')?;
    Some(inner.trim_matches(['[', ']']).trim().to_owned())
}

fn join_key(table: &str, key: &str) -> String {
    let key = key.trim_matches('"');
    if table.is_empty() {
        key.to_owned()
    } else {
        format!("{table}.{key}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HIYA: &str = SHIPPED[0].1;

    fn load(text: &str) -> Result<Profile, ProfileError> {
        Profile::from_toml_str("custom.toml", text)
    }

    /// The shipped Hiya file with one line replaced (the first line starting
    /// with `from` inside `table`).
    fn edited(table: &str, from: &str, to: &str) -> String {
        let mut current = String::new();
        let mut done = false;
        let lines: Vec<String> = HIYA
            .lines()
            .map(|l| {
                if let Some(h) = table_header(strip_comment(l)) {
                    current = h;
                }
                if !done && current == table && l.trim_start().starts_with(from) {
                    done = true;
                    to.to_owned()
                } else {
                    l.to_owned()
                }
            })
            .collect();
        assert!(done, "no line {from:?} in [{table}]");
        lines.join("\n")
    }

    fn check_error(text: &str, key: &str, reason_part: &str) {
        let err = load(text).expect_err("the edit must be refused");
        assert_eq!(err.file, "custom.toml");
        assert_eq!(err.key, key, "{err}");
        assert!(err.reason.contains(reason_part), "{err}");
        let line = err.line.expect("the line is found");
        let shown = text.lines().nth(line - 1).unwrap();
        assert!(
            shown.contains(key.rsplit('.').next().unwrap()) || shown.starts_with('['),
            "line {line} ({shown:?}) should hold {key}"
        );
    }

    #[test]
    fn the_shipped_profiles_load_and_differ() {
        let config = RiskConfig::defaults();
        let names: Vec<&str> = config.profiles.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["hiya", "tns", "first-orion"]);
        let [hiya, tns, fo] = [&config.profiles[0], &config.profiles[1], &config.profiles[2]];
        assert_eq!(
            (hiya.carrier, tns.carrier, fo.carrier),
            (Some(Carrier::Att), Some(Carrier::Verizon), Some(Carrier::Tmobile))
        );
        for p in [hiya, tns, fo] {
            assert_eq!(p.carrier.map(Carrier::engine), Some(p.name.as_str()));
        }
        let w = |p: &Profile, f: FactorName| p.factors.get(f).weight;
        // Each engine's emphasis, as the files document it.
        assert!(w(fo, FactorName::Engagement) > w(hiya, FactorName::Engagement));
        assert!(w(fo, FactorName::RepeatCalls) > w(tns, FactorName::RepeatCalls));
        assert!(w(hiya, FactorName::Maturity) > w(tns, FactorName::Maturity));
        assert!(w(hiya, FactorName::Complaints) > w(fo, FactorName::Complaints));
        assert!(w(tns, FactorName::Volume) > w(hiya, FactorName::Volume));
        assert!(w(tns, FactorName::AnswerRate) > w(fo, FactorName::AnswerRate));
    }

    #[test]
    fn every_shipped_default_names_its_source() {
        for (file, text) in SHIPPED {
            for (i, line) in text.lines().enumerate() {
                let code = strip_comment(line);
                if code.contains('=') {
                    assert!(
                        line.contains('#'),
                        "{file}:{}: {line:?} carries no comment naming its source",
                        i + 1
                    );
                }
            }
        }
    }

    #[test]
    fn bad_values_name_the_file_line_and_key() {
        check_error(
            &edited("factors.short_calls", "strong", "strong = 0.10"),
            "factors.short_calls.strong",
            "at or above concern",
        );
        check_error(
            &edited("factors.answer_rate", "strong", "strong = 0.6"),
            "factors.answer_rate.strong",
            "at or below concern",
        );
        check_error(
            &edited("factors.invalid_destinations", "concern", "concern = 15"),
            "factors.invalid_destinations.concern",
            "between 0 and 1",
        );
        check_error(
            &edited("factors.complaints", "concern", "concern = 0"),
            "factors.complaints.concern",
            "must be above 0",
        );
        check_error(
            &edited("factors.off_hours", "min_sample", "min_sample = 0"),
            "factors.off_hours.min_sample",
            "at least 1 call",
        );
        check_error(
            &edited("factors.volume", "weight", "weight = 150"),
            "factors.volume.weight",
            "between 0 and 100",
        );
        check_error(
            &edited("inputs", "half_life_days", "half_life_days = 0"),
            "inputs.half_life_days",
            "between 0 and 365",
        );
        check_error(
            &edited("inputs", "calling_hours", "calling_hours = { start = 21, end = 8 }"),
            "inputs.calling_hours",
            "start < end",
        );
        check_error(
            &edited("levels", "at_risk", "at_risk = { enter = 50, exit = 60 }"),
            "levels.at_risk.exit",
            "below enter",
        );
        check_error(
            &edited("allowance", "per_day", "per_day = { new = 200, mature = 100 }"),
            "allowance.per_day.mature",
            "grows with maturity",
        );
    }

    #[test]
    fn malformed_files_name_the_line_and_key() {
        check_error(
            &edited("factors.short_calls", "weight", "weight = \"high\""),
            "factors.short_calls.weight",
            "invalid type",
        );
        check_error(
            &edited("factors.short_calls", "weight", "wieght = 30"),
            "factors.short_calls.wieght",
            "unknown field",
        );
        check_error(
            &edited("inputs", "short_call_secs", "short_call_secs = -6"),
            "inputs.short_call_secs",
            "",
        );
        let err = load("description = \"x\"\n[inputs\n").unwrap_err();
        assert_eq!(err.line, Some(2), "{err}");
        let err = load(&HIYA.replace("[factors.off_hours]", "[factors.after_hours]")).unwrap_err();
        assert!(err.reason.contains("after_hours"), "{err}");
        let missing: String = HIYA
            .lines()
            .filter(|l| !l.starts_with("carrier") && !l.starts_with("description"))
            .collect::<Vec<_>>()
            .join("\n");
        let err = load(&missing).unwrap_err();
        assert!(err.reason.contains("missing field `description`"), "{err}");
        let err = load("").unwrap_err();
        assert!(err.reason.contains("missing field"), "{err}");
    }

    #[test]
    fn file_names_become_profile_names() {
        let p = Profile::from_toml_str("/etc/dialguard/profiles/strict.toml", HIYA).unwrap();
        assert_eq!(p.name, "strict");
        let err = Profile::from_toml_str("Strict Profile.toml", HIYA).unwrap_err();
        assert!(err.reason.contains("rename the file"), "{err}");
        let twice = RiskConfig::from_toml_strs(&[("a/hiya.toml", HIYA), ("b/hiya.toml", HIYA)]);
        assert!(twice.unwrap_err().reason.contains("second profile"));
        let none = RiskConfig::from_toml_strs(&[SHIPPED[3]]);
        assert!(none.unwrap_err().reason.contains("no engine profile"));
    }

    #[test]
    fn a_directory_of_files_replaces_the_shipped_set() {
        let config = RiskConfig::from_toml_strs(&[("mine.toml", HIYA)]).unwrap();
        assert_eq!(config.profiles.len(), 1);
        assert_eq!(config.profiles[0].name, "mine");
        assert_eq!(config.quarantine, QuarantineRules::shipped());
    }

    #[test]
    fn errors_read_like_compiler_messages() {
        let err = ProfileError::new("hiya.toml", Some(12), "factors.volume.weight", "too big".into());
        assert_eq!(err.to_string(), "hiya.toml:12: factors.volume.weight: too big");
    }
}
