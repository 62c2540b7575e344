//! The simulator's own check of the law, independent of the guard's.
//!
//! A strategy is judged by this file, not by the code it runs: if the guard
//! misread a time zone or a state's rule, the guard's own check would agree
//! with itself and the table would say nothing. So the rules are written out
//! again here, and the local time is computed again here (from the
//! destination's IANA zones, per prefix, with daylight saving time), with
//! one test that the two tables still name the same statutes.
//!
//! A call is a violation when it starts outside 08:00–21:00 in *any* zone
//! the destination may be in (narrower where a state says so), when the
//! person opted out before it started, or when it is one call too many to
//! one person in 24 hours under a state's limit.

use jiff::Timestamp;
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};

/// TCPA, 47 CFR § 64.1200(c)(1): no telephone solicitation before 8 a.m. or
/// after 9 p.m. at the called party's location. Minutes after midnight,
/// start included, end excluded.
pub const FEDERAL_HOURS: (u16, u16) = (8 * 60, 21 * 60);

/// A state's stricter rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StateLaw {
    pub state: &'static str,
    pub hours: (u16, u16),
    /// At most this many calls to one person in any 24 hours.
    pub max_calls_per_24h: u8,
    pub statute: &'static str,
}

/// The states whose calling rules are checked.
pub const STATE_LAWS: [StateLaw; 3] = [
    // Fla. Stat. § 501.059(8)(a)-(b): 8 a.m.–8 p.m.; no more than 3 calls
    // from any number to a person in 24 hours on the same subject.
    StateLaw {
        state: "FL",
        hours: (8 * 60, 20 * 60),
        max_calls_per_24h: 3,
        statute: "Fla. Stat. § 501.059(8)",
    },
    // 15 O.S. § 775C.4: the same window and 3 calls in 24 hours.
    StateLaw {
        state: "OK",
        hours: (8 * 60, 20 * 60),
        max_calls_per_24h: 3,
        statute: "15 O.S. § 775C.1 et seq.",
    },
    // Md. Code, Com. Law § 14-4503: the same window and 3 calls in 24 hours.
    StateLaw {
        state: "MD",
        hours: (8 * 60, 20 * 60),
        max_calls_per_24h: 3,
        statute: "Md. Code, Com. Law § 14-4501 et seq.",
    },
];

/// The law's rule for a person in `state` (two-letter code).
pub fn law_for(state: &str) -> (u16, u16, u8) {
    match STATE_LAWS.iter().find(|l| l.state == state) {
        Some(l) => (
            l.hours.0.max(FEDERAL_HOURS.0),
            l.hours.1.min(FEDERAL_HOURS.1),
            l.max_calls_per_24h,
        ),
        None => (FEDERAL_HOURS.0, FEDERAL_HOURS.1, 0),
    }
}

/// Calls the law check found illegal, by rule. A call can break more than
/// one rule; it is counted under each.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Violations {
    pub outside_hours: u64,
    pub opted_out: u64,
    pub frequency: u64,
}

impl Violations {
    /// Calls with at least one violation are counted by the caller; this is
    /// the sum over rules.
    pub fn total(&self) -> u64 {
        self.outside_hours + self.opted_out + self.frequency
    }
}

/// UTC offsets of a set of zones, hour by hour over the simulated span:
/// every US daylight-saving transition falls on a whole UTC hour, so one
/// table read replaces a time-zone lookup per call.
#[derive(Debug)]
pub struct ZoneClock {
    start_hour: i64,
    hours: usize,
    /// `offsets[zone * hours + hour]`, seconds east of UTC.
    offsets: Vec<i32>,
}

impl ZoneClock {
    /// Offsets for `zones` from `start` for `hours` hours.
    pub fn new(zones: &[TimeZone], start: i64, hours: usize) -> ZoneClock {
        let start_hour = start.div_euclid(3600);
        let mut offsets = Vec::with_capacity(zones.len() * hours);
        for tz in zones {
            for h in 0..hours {
                let at = Timestamp::from_second((start_hour + h as i64) * 3600).unwrap_or(Timestamp::UNIX_EPOCH);
                offsets.push(tz.to_offset(at).seconds());
            }
        }
        ZoneClock {
            start_hour,
            hours,
            offsets,
        }
    }

    /// The local second of the day (0..86 400) in zone `zone` at `at`.
    pub fn second_of_day(&self, zone: u16, at: i64) -> i64 {
        let hour = (at.div_euclid(3600) - self.start_hour).clamp(0, self.hours as i64 - 1) as usize;
        let offset = self.offsets[usize::from(zone) * self.hours + hour];
        (at + i64::from(offset)).rem_euclid(86_400)
    }

    /// Whether `at` is inside `[start, end)` minutes in every one of `zones`.
    pub fn inside(&self, zones: &[u16], hours: (u16, u16), at: i64) -> bool {
        let (lo, hi) = (i64::from(hours.0) * 60, i64::from(hours.1) * 60);
        !zones.is_empty()
            && zones.iter().all(|z| {
                let s = self.second_of_day(*z, at);
                s >= lo && s < hi
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dialguard_core::guard::law as guard_law;

    #[test]
    fn our_table_names_the_same_states_and_limits_as_the_guards() {
        // Independent on purpose, but not allowed to drift apart silently.
        assert_eq!(STATE_LAWS.len(), guard_law::STATE_RULES.len());
        for ours in STATE_LAWS {
            let theirs = guard_law::state_rule(ours.state).expect("the guard knows the state");
            assert_eq!(
                theirs.max_calls_per_24h,
                Some(u32::from(ours.max_calls_per_24h)),
                "{}",
                ours.state
            );
            assert_eq!(
                (theirs.window.start_minute, theirs.window.end_minute),
                ours.hours,
                "{}",
                ours.state
            );
        }
        assert_eq!(law_for("CA"), (480, 1260, 0));
        assert_eq!(law_for("FL"), (480, 1200, 3));
    }

    #[test]
    fn local_time_follows_daylight_saving() {
        let ny = TimeZone::get("America/New_York").unwrap();
        let start: Timestamp = "2025-11-01T00:00:00Z".parse().unwrap();
        let clock = ZoneClock::new(&[ny], start.as_second(), 72);
        let at = |s: &str| s.parse::<Timestamp>().unwrap().as_second();
        // 12:30 UTC is 08:30 EDT on Nov 1 but 07:30 EST on Nov 3.
        assert!(clock.inside(&[0], FEDERAL_HOURS, at("2025-11-01T12:30:00Z")));
        assert!(!clock.inside(&[0], FEDERAL_HOURS, at("2025-11-03T12:30:00Z")));
        // 20:59 local is legal, 21:00 is not.
        assert!(clock.inside(&[0], FEDERAL_HOURS, at("2025-11-03T01:59:00Z")));
        assert!(!clock.inside(&[0], FEDERAL_HOURS, at("2025-11-03T02:00:00Z")));
        assert!(
            !clock.inside(&[], FEDERAL_HOURS, at("2025-11-03T15:00:00Z")),
            "no zone, no legal hour"
        );
    }
}
