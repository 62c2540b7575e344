//! Off-hours calling, judged from the destination's area code.
//!
//! The risk engine only needs to know whether a call *looked* like it was
//! placed at an odd hour for the person called, so each NANPA time-zone
//! letter maps to one representative IANA zone. The table is deliberately
//! small; the guard's calling-hours rule uses the exact per-prefix zone
//! table instead. Where an area code spans several zones, a call is
//! off-hours when it is outside the hours in any of them (the same reading
//! as SPEC §2.3: only hours fine in all of them count).

use std::sync::LazyLock;

use jiff::Timestamp;
use jiff::tz::TimeZone;

use crate::nanp;
use crate::number::E164;

/// NANPA `TIME_ZONE` letters and the zone that stands for each.
const LETTER_ZONES: &[(char, &str)] = &[
    ('E', "America/New_York"),
    ('C', "America/Chicago"),
    ('M', "America/Denver"),
    ('P', "America/Los_Angeles"),
    ('A', "America/Halifax"),
    ('N', "America/St_Johns"),
];

/// Entries of NANPA's report that are not plain letters (file date
/// 2025-11-26): Alaska, Hawaii, Guam and the Northern Marianas, American
/// Samoa, and 775 (Nevada, with West Wendover on Mountain time).
const SPECIAL_ZONES: &[(&str, &[&str])] = &[
    ("AK", &["America/Anchorage"]),
    ("(UTC-10)", &["Pacific/Honolulu"]),
    ("(UTC+10)", &["Pacific/Guam"]),
    ("UTC-11", &["Pacific/Pago_Pago"]),
    ("PT/MT only for W Wendover", &["America/Los_Angeles", "America/Denver"]),
];

/// Every zone the table uses, once, and the zones of each NPA as indexes
/// into it (index 0..1000); an NPA's list is empty when NANPA gives no zone
/// or the code is not geographic (toll-free, 5XX, unassigned): such calls
/// are never counted off-hours.
struct ZoneTable {
    zones: Vec<TimeZone>,
    by_npa: Vec<Vec<u8>>,
}

static TABLE: LazyLock<ZoneTable> = LazyLock::new(|| {
    let mut zones: Vec<TimeZone> = Vec::new();
    let by_npa = (0..1000u16)
        .map(|npa| {
            let found = nanp::area(npa).map(zones_of).unwrap_or_default();
            found
                .into_iter()
                .map(|tz| {
                    let at = zones.iter().position(|z| *z == tz).unwrap_or_else(|| {
                        zones.push(tz);
                        zones.len() - 1
                    });
                    at as u8
                })
                .collect()
        })
        .collect();
    ZoneTable { zones, by_npa }
});

fn zone(name: &str) -> Option<TimeZone> {
    // The names are constants above and the tz database is bundled, so a
    // miss means a typo, caught by `every_mapped_zone_exists`.
    TimeZone::get(name).ok()
}

fn zones_of(area: &nanp::AreaCode) -> Vec<TimeZone> {
    // Non-geographic codes (toll-free, 5XX, 900) carry NANPA's own "E":
    // an administrative zone, not where the callee is.
    if area.location.is_empty() || area.location == "NANP AREA" {
        return Vec::new();
    }
    let letters = area.time_zones.trim();
    if let Some((_, names)) = SPECIAL_ZONES.iter().find(|(key, _)| *key == letters) {
        return names.iter().filter_map(|n| zone(n)).collect();
    }
    letters
        .chars()
        .filter_map(|letter| {
            // Two representative zones would be wrong by an hour for half
            // the year: Arizona keeps standard time, and the Caribbean's
            // Atlantic-time codes do not shift either.
            let name = match letter {
                'M' if area.location == "AZ" => "America/Phoenix",
                'A' if area.country != "CANADA" => "America/Puerto_Rico",
                _ => LETTER_ZONES.iter().find(|(l, _)| *l == letter)?.1,
            };
            zone(name)
        })
        .collect()
}

fn zone_ids(number: E164) -> &'static [u8] {
    number
        .area_code()
        .map(|npa| TABLE.by_npa[npa as usize].as_slice())
        .unwrap_or(&[])
}

fn outside(local_second: i64, (start, end): (u8, u8)) -> bool {
    let hour = local_second.rem_euclid(86_400) / 3_600;
    hour < i64::from(start) || hour >= i64::from(end)
}

/// Whether a call to `destination` started at `started` (Unix seconds) falls
/// outside the local hours `[start, end)` in any of the destination's zones:
/// the direct reading [`OffHours`] must agree with.
#[cfg(test)]
fn outside_calling_hours(destination: E164, started: i64, hours: (u8, u8)) -> bool {
    let Ok(at) = Timestamp::from_second(started) else {
        return false;
    };
    zone_ids(destination).iter().any(|id| {
        let offset = TABLE.zones[*id as usize].to_offset(at).seconds();
        outside(started + i64::from(offset), hours)
    })
}

/// Judges many calls in a row: whether each started outside the local hours
/// `[start, end)` in any of its destination's zones. Remembers each zone's
/// offset for the half hour it was asked about. Every transition in the
/// zones above falls on a whole or half hour of UTC (St. John's shifts at
/// 05:30 UTC), so the cache gives the same answers, several times faster.
pub struct OffHours {
    hours: (u8, u8),
    /// Per zone: the half-hour (Unix seconds / 1800) and its UTC offset.
    cache: Vec<(i64, i32)>,
}

impl OffHours {
    pub fn new(hours: (u8, u8)) -> OffHours {
        OffHours {
            hours,
            cache: vec![(i64::MIN, 0); TABLE.zones.len()],
        }
    }

    pub fn outside(&mut self, destination: E164, started: i64) -> bool {
        let half_hour = started.div_euclid(1_800);
        let ids = zone_ids(destination);
        for id in ids {
            let (cached_at, offset) = &mut self.cache[*id as usize];
            if *cached_at != half_hour {
                let Ok(at) = Timestamp::from_second(half_hour * 1_800) else {
                    return false;
                };
                *offset = TABLE.zones[*id as usize].to_offset(at).seconds();
                *cached_at = half_hour;
            }
            if outside(started + i64::from(*offset), self.hours) {
                return true;
            }
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> i64 {
        s.parse::<Timestamp>().unwrap().as_second()
    }

    fn number(digits: u64) -> E164 {
        E164::from_digits_unchecked(digits)
    }

    #[test]
    fn every_mapped_zone_exists() {
        for (_, name) in LETTER_ZONES {
            assert!(TimeZone::get(name).is_ok(), "{name}");
        }
        for (_, names) in SPECIAL_ZONES {
            for name in *names {
                assert!(TimeZone::get(name).is_ok(), "{name}");
            }
        }
        for name in ["America/Phoenix", "America/Puerto_Rico"] {
            assert!(TimeZone::get(name).is_ok(), "{name}");
        }
    }

    #[test]
    fn every_assigned_geographic_area_code_has_a_zone() {
        let missing: Vec<u16> = (200..1000u16)
            .filter(|npa| {
                nanp::area(*npa).is_some_and(|a| {
                    let geographic = !a.location.is_empty() && a.location != "NANP AREA";
                    a.in_service && geographic && !a.time_zones.trim().is_empty()
                })
            })
            .filter(|npa| TABLE.by_npa[*npa as usize].is_empty())
            .collect();
        assert!(missing.is_empty(), "no zone for {missing:?}");
    }

    #[test]
    fn calling_hours_are_read_in_the_destination_zone() {
        let hours = (8, 21);
        let new_york = number(12_125_550_100);
        let los_angeles = number(12_135_550_100);
        let phoenix = number(16_025_550_100);
        let denver = number(13_035_550_100);
        // 22:30 in New York is 19:30 in Los Angeles (EDT, PDT).
        let t = at("2026-07-02T02:30:00Z");
        assert!(outside_calling_hours(new_york, t, hours));
        assert!(!outside_calling_hours(los_angeles, t, hours));
        // Arizona keeps MST in summer: 07:30 in Phoenix, 08:30 in Denver.
        let t = at("2026-07-02T14:30:00Z");
        assert!(outside_calling_hours(phoenix, t, hours));
        assert!(!outside_calling_hours(denver, t, hours));
        // 20:59 is inside the hours, 21:00 is not.
        assert!(!outside_calling_hours(phoenix, at("2026-07-03T03:59:00Z"), hours));
        assert!(outside_calling_hours(phoenix, at("2026-07-03T04:00:00Z"), hours));
    }

    #[test]
    fn a_split_area_code_counts_the_strictest_zone() {
        // 812 (Indiana) and others carry "EC": 08:30 Eastern is 07:30 Central.
        let npa = (200..1000u16)
            .find(|n| nanp::area(*n).is_some_and(|a| a.time_zones == "EC"))
            .unwrap();
        let n = number(10_000_000_000 + u64::from(npa) * 10_000_000 + 5_550_100);
        let t = at("2026-01-15T13:30:00Z");
        assert!(outside_calling_hours(n, t, (8, 21)));
        assert!(!outside_calling_hours(n, t + 3_600, (8, 21)));
    }

    #[test]
    fn the_cached_judge_agrees_with_the_direct_one_across_a_year() {
        // Every half hour of 2026 (both DST changes), to one number per zone.
        let mut seen: Vec<&[u8]> = Vec::new();
        let numbers: Vec<E164> = (200..1000u16)
            .filter(|npa| {
                let ids = TABLE.by_npa[*npa as usize].as_slice();
                let new = !ids.is_empty() && !seen.contains(&ids);
                if new {
                    seen.push(ids);
                }
                new
            })
            .map(|npa| number(10_000_000_000 + u64::from(npa) * 10_000_000 + 5_550_100))
            .collect();
        assert!(numbers.len() >= 10, "{numbers:?}");
        let mut judge = OffHours::new((8, 21));
        let start = at("2026-01-01T00:00:00Z");
        for step in 0..(365 * 48) {
            for t in [start + step * 1_800, start + step * 1_800 + 1_799] {
                for n in &numbers {
                    let direct = outside_calling_hours(*n, t, (8, 21));
                    assert_eq!(judge.outside(*n, t), direct, "{n} at {t}");
                }
            }
        }
    }

    #[test]
    fn unknown_destinations_are_never_off_hours() {
        let toll_free = number(18_005_550_100);
        let london = number(442_079_460_958);
        let t = at("2026-01-15T08:00:00Z");
        assert!(!outside_calling_hours(toll_free, t, (8, 21)));
        assert!(!outside_calling_hours(london, t, (8, 21)));
    }
}
