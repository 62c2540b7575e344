//! The calling rules the law sets, in one table.
//!
//! Looking for "why may this person not be called at 20:30?" or "why only
//! three calls a day to Florida?": the answer is here, one row per rule with
//! the statute it comes from. The federal window applies everywhere; a state
//! row only ever narrows it. The state is read from the destination's area
//! code ([`crate::nanp::state_of`]): with number portability a person can live
//! elsewhere, which is why the guard also keeps its own, configurable limits.
//!
//! Configuration may narrow these rules further but never widen them
//! ([`crate::guard::GuardConfig::validate`] refuses a wider window).

use std::fmt;
use std::str::FromStr;
use std::sync::LazyLock;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::nanp;
use crate::number::E164;

/// Local clock hours in which calls may be placed: from `start` (included) to
/// `end` (excluded), in minutes after local midnight.
///
/// The end is excluded on purpose: a call started at 21:00:00 rings after
/// nine, so the last legal minute under the federal rule is 20:59.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct CallingWindow {
    pub start_minute: u16,
    pub end_minute: u16,
}

impl CallingWindow {
    pub const fn hours(start: u16, end: u16) -> CallingWindow {
        CallingWindow {
            start_minute: start * 60,
            end_minute: end * 60,
        }
    }

    /// The hours legal under both windows.
    pub fn intersect(self, other: CallingWindow) -> CallingWindow {
        CallingWindow {
            start_minute: self.start_minute.max(other.start_minute),
            end_minute: self.end_minute.min(other.end_minute),
        }
    }

    /// True when every minute of `self` is also in `outer`.
    pub fn within(self, outer: CallingWindow) -> bool {
        self.start_minute >= outer.start_minute && self.end_minute <= outer.end_minute
    }

    /// Whether a second of the local day (0..86 400) falls inside.
    pub fn contains_second(self, second_of_day: i64) -> bool {
        let start = i64::from(self.start_minute) * 60;
        let end = i64::from(self.end_minute) * 60;
        (start..end).contains(&second_of_day)
    }

    pub fn is_empty(self) -> bool {
        self.start_minute >= self.end_minute
    }
}

impl fmt::Display for CallingWindow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let hm = |m: u16| format!("{:02}:{:02}", m / 60, m % 60);
        write!(f, "{}-{}", hm(self.start_minute), hm(self.end_minute))
    }
}

/// Why a written window such as `08:00-21:00` is unusable.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a calling window: write it as HH:MM-HH:MM, e.g. 08:00-21:00")]
pub struct WindowSyntaxError(String);

impl FromStr for CallingWindow {
    type Err = WindowSyntaxError;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let bad = || WindowSyntaxError(text.to_owned());
        let minute = |hm: &str| -> Option<u16> {
            let (h, m) = hm.trim().split_once(':')?;
            let (h, m) = (h.parse::<u16>().ok()?, m.parse::<u16>().ok()?);
            (h <= 24 && m < 60 && h * 60 + m <= 24 * 60).then_some(h * 60 + m)
        };
        let (start, end) = text.split_once('-').ok_or_else(bad)?;
        let window = CallingWindow {
            start_minute: minute(start).ok_or_else(bad)?,
            end_minute: minute(end).ok_or_else(bad)?,
        };
        if window.is_empty() {
            return Err(bad());
        }
        Ok(window)
    }
}

impl Serialize for CallingWindow {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for CallingWindow {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// TCPA, 47 CFR § 64.1200(c)(1): no telephone solicitation "before the hour of
/// 8 a.m. or after 9 p.m. (local time at the called party's location)".
pub const FEDERAL_WINDOW: CallingWindow = CallingWindow::hours(8, 21);

/// A state's stricter rules for calls to its residents.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StateRule {
    /// Two-letter code, as NANPA's report writes a US area code's location.
    pub state: &'static str,
    pub window: CallingWindow,
    /// At most this many calls to one person in any 24 hours, from any of our
    /// numbers.
    pub max_calls_per_24h: Option<u32>,
    /// The statute, for reports and for the reader.
    pub law: &'static str,
}

/// The states whose rules are clear enough to encode. Each row narrows the
/// federal window and caps calls per person.
pub const STATE_RULES: &[StateRule] = &[
    // Florida Telephone Solicitation Act, Fla. Stat. § 501.059(8): no calls
    // between 8 p.m. and 8 a.m.; no more than 3 calls from any number to a
    // person over a 24-hour period on the same subject.
    StateRule {
        state: "FL",
        window: CallingWindow::hours(8, 20),
        max_calls_per_24h: Some(3),
        law: "Florida Telephone Solicitation Act, Fla. Stat. § 501.059(8)",
    },
    // Oklahoma Telephone Solicitation Act of 2022, 15 O.S. § 775C.1 et seq.: the same
    // 8 a.m.–8 p.m. window and 3 calls per 24 hours.
    StateRule {
        state: "OK",
        window: CallingWindow::hours(8, 20),
        max_calls_per_24h: Some(3),
        law: "Oklahoma Telephone Solicitation Act of 2022, 15 O.S. § 775C.1 et seq.",
    },
    // Maryland Stop the Spam Calls Act of 2023, Md. Code, Com. Law § 14-4501 et seq.:
    // the same 8 a.m.–8 p.m. window and 3 calls per 24 hours.
    StateRule {
        state: "MD",
        window: CallingWindow::hours(8, 20),
        max_calls_per_24h: Some(3),
        law: "Maryland Stop the Spam Calls Act of 2023, Md. Code, Com. Law § 14-4501 et seq.",
    },
];

/// The stricter rule of a state, if it has one.
pub fn state_rule(state: &str) -> Option<&'static StateRule> {
    STATE_RULES.iter().find(|rule| rule.state == state)
}

/// The stricter rule for a NANP number, from its area code's state: one
/// array read, since the decide path asks on every call.
pub fn rule_for(number: E164) -> Option<&'static StateRule> {
    static BY_AREA_CODE: LazyLock<Vec<Option<&'static StateRule>>> = LazyLock::new(|| {
        (0..1000u64)
            .map(|npa| {
                let sample = E164::from_digits_unchecked(10_000_000_000 + npa * 10_000_000 + 2_000_000);
                nanp::state_of(sample).and_then(state_rule)
            })
            .collect()
    });
    BY_AREA_CODE[usize::from(number.area_code()?)]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_read_and_print_as_clock_times() {
        let cases: &[(&str, Option<(u16, u16)>)] = &[
            ("08:00-21:00", Some((480, 1260))),
            ("8:30-20:00", Some((510, 1200))),
            (" 09:00 - 17:45 ", Some((540, 1065))),
            ("21:00-08:00", None),
            ("08:00-08:00", None),
            ("08:00", None),
            ("08:60-21:00", None),
            ("25:00-26:00", None),
            ("eight-nine", None),
            ("", None),
        ];
        for (text, want) in cases {
            let got = text
                .parse::<CallingWindow>()
                .ok()
                .map(|w| (w.start_minute, w.end_minute));
            assert_eq!(got, *want, "{text:?}");
        }
        assert_eq!(FEDERAL_WINDOW.to_string(), "08:00-21:00");
    }

    #[test]
    fn the_last_legal_minute_is_the_one_before_the_end() {
        let w = FEDERAL_WINDOW;
        assert!(!w.contains_second(7 * 3600 + 59 * 60 + 59));
        assert!(w.contains_second(8 * 3600));
        assert!(w.contains_second(20 * 3600 + 59 * 60 + 59));
        assert!(!w.contains_second(21 * 3600));
    }

    #[test]
    fn state_rules_only_narrow_the_federal_window() {
        for rule in STATE_RULES {
            assert!(rule.window.within(FEDERAL_WINDOW), "{}", rule.state);
            assert_eq!(rule.window.to_string(), "08:00-20:00", "{}", rule.state);
            assert_eq!(rule.max_calls_per_24h, Some(3), "{}", rule.state);
        }
        assert_eq!(state_rule("FL").map(|r| r.state), Some("FL"));
        assert_eq!(state_rule("CA"), None);
        let rule_of = |digits: u64| rule_for(E164::from_digits_unchecked(digits)).map(|r| r.state);
        assert_eq!(rule_of(13_055_550_100), Some("FL"));
        assert_eq!(rule_of(14_055_550_100), Some("OK"));
        assert_eq!(rule_of(14_105_550_100), Some("MD"));
        assert_eq!(rule_of(14_155_550_100), None);
        assert_eq!(rule_for(E164::from_digits_unchecked(442_079_460_958)), None);
    }
}
