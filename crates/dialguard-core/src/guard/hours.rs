//! Calling hours in the called party's local time.
//!
//! The zone comes from the destination's prefix, using libphonenumber's NANP
//! prefix → IANA zone map (`data/nanp_timezones.csv`, from the `phonenumbers`
//! 9.0.43 package, Apache-2.0): the longest matching prefix wins, and a prefix
//! may list several zones (`America/Boise&America/Los_Angeles`). Where it
//! does, only the hours legal in *all* of them count, so a call never lands
//! early or late for anyone the number could belong to.
//!
//! Area codes newer than the map (NANPA assigns overlays months before the
//! library learns them) take the zones of the area codes they overlay, per
//! NANPA's report; anything else falls back to the map's `1` row, every NANP
//! zone, which leaves only a narrow evening window in UTC: strict on purpose.
//!
//! Local time is computed with the time-zone database (jiff), never a fixed
//! offset, so the window moves with daylight saving time.

use std::collections::HashMap;
use std::sync::LazyLock;

use jiff::Timestamp;
use jiff::tz::TimeZone;

use crate::guard::law::{self, CallingWindow};
use crate::number::E164;

const TIMEZONES_CSV: &str = include_str!("../../data/nanp_timezones.csv");
const NPA_REPORT: &str = include_str!("../../data/npa_report.csv");

const SECONDS_PER_DAY: i64 = 86_400;

/// The zones a prefix may be in.
#[derive(Debug)]
pub struct ZoneSet {
    names: Vec<&'static str>,
    zones: Vec<TimeZone>,
}

impl ZoneSet {
    /// IANA names, sorted.
    pub fn names(&self) -> &[&'static str] {
        &self.names
    }

    pub fn zones(&self) -> &[TimeZone] {
        &self.zones
    }
}

struct ZoneTable {
    sets: Vec<ZoneSet>,
    /// Zone-set index per NPA-NXX (0..1 000 000): 2 MB, so the decide path
    /// pays one array read instead of a prefix search.
    by_exchange: Vec<u16>,
}

static TABLE: LazyLock<ZoneTable> = LazyLock::new(build_table);

/// The zones a NANP number may ring in; `None` outside the NANP.
pub fn zones_of(number: E164) -> Option<&'static ZoneSet> {
    let exchange = number.npa_nxx()?;
    let table = &*TABLE;
    Some(&table.sets[usize::from(table.by_exchange[exchange as usize])])
}

struct SetInterner {
    sets: Vec<ZoneSet>,
    index: HashMap<Vec<&'static str>, u16>,
}

impl SetInterner {
    fn intern(&mut self, mut names: Vec<&'static str>) -> u16 {
        names.sort_unstable();
        names.dedup();
        if let Some(&id) = self.index.get(&names) {
            return id;
        }
        let id = u16::try_from(self.sets.len()).expect("fewer than 65 536 zone sets");
        // The embedded table is checked by `every_zone_in_the_table_is_known`;
        // a name the database lacks would only make its prefix stricter.
        let zones = names.iter().filter_map(|n| TimeZone::get(n).ok()).collect();
        self.sets.push(ZoneSet {
            names: names.clone(),
            zones,
        });
        self.index.insert(names, id);
        id
    }
}

fn build_table() -> ZoneTable {
    let mut interner = SetInterner {
        sets: Vec::new(),
        index: HashMap::new(),
    };
    let mut rows: Vec<(u32, u32, u16)> = Vec::new(); // (national prefix, its digit count, set)
    let mut root = None;
    for line in TIMEZONES_CSV.lines().skip(1) {
        let Some((prefix, zones)) = line.split_once(',') else {
            continue;
        };
        let set = interner.intern(zones.split('&').map(str::trim).collect());
        match prefix.strip_prefix('1') {
            Some("") => root = Some(set),
            Some(national) if (3..=6).contains(&national.len()) => {
                if let Ok(p) = national.parse::<u32>() {
                    rows.push((p, national.len() as u32, set));
                }
            }
            _ => {}
        }
    }
    let root = root.unwrap_or_else(|| interner.intern(vec!["America/New_York"]));
    let mut by_exchange = vec![root; 1_000_000];
    // Shorter prefixes first, so the longest one is written last and wins.
    rows.sort_by_key(|&(_, digits, _)| digits);
    let mut covered = [false; 1000];
    for &(prefix, digits, set) in &rows {
        let width = 10u32.pow(6 - digits);
        let start = (prefix * width) as usize;
        by_exchange[start..start + width as usize].fill(set);
        covered[(prefix * width / 1000) as usize] = true;
    }
    fill_overlays(&mut by_exchange, &covered, &mut interner);
    ZoneTable {
        sets: interner.sets,
        by_exchange,
    }
}

/// An area code the map does not know takes the union of the zones of the
/// area codes it overlays.
fn fill_overlays(by_exchange: &mut [u16], covered: &[bool; 1000], interner: &mut SetInterner) {
    for (npa, complex) in overlay_complexes() {
        if covered[npa as usize] {
            continue;
        }
        let mut names: Vec<&'static str> = Vec::new();
        for member in complex.into_iter().filter(|m| covered[*m as usize]) {
            let range = member as usize * 1000..member as usize * 1000 + 1000;
            for set in &by_exchange[range] {
                names.extend_from_slice(&interner.sets[usize::from(*set)].names);
            }
        }
        if names.is_empty() {
            continue;
        }
        let set = interner.intern(names);
        by_exchange[npa as usize * 1000..npa as usize * 1000 + 1000].fill(set);
    }
}

/// NANPA's `OVERLAY_COMPLEX` column: for each NPA, the NPAs serving the same
/// area (`415/628`).
fn overlay_complexes() -> Vec<(u16, Vec<u16>)> {
    // Line 1 is the file date; the header is line 2.
    let body = NPA_REPORT.split_once('\n').map_or("", |(_, rest)| rest);
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(body.as_bytes());
    let Ok(headers) = reader.headers().cloned() else {
        return Vec::new();
    };
    let column = |name: &str| headers.iter().position(|h| h == name);
    let (Some(npa_col), Some(complex_col)) = (column("NPA_ID"), column("OVERLAY_COMPLEX")) else {
        return Vec::new();
    };
    reader
        .records()
        .filter_map(Result::ok)
        .filter_map(|record| {
            let npa = record.get(npa_col)?.trim().parse::<u16>().ok().filter(|n| *n < 1000)?;
            let complex = record
                .get(complex_col)?
                .split('/')
                .filter_map(|m| m.trim().parse::<u16>().ok())
                .filter(|m| *m < 1000)
                .collect();
            Some((npa, complex))
        })
        .collect()
}

/// The calling-hours rule: the configured window, narrowed by the
/// destination state's law, in every zone the destination may be in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CallingHours {
    base: CallingWindow,
}

impl CallingHours {
    /// `base` is the configured window (the federal one by default).
    pub fn new(base: CallingWindow) -> CallingHours {
        CallingHours { base }
    }

    /// The local window for a destination: the base narrowed by its state.
    pub fn window_for(&self, to: E164) -> CallingWindow {
        match law::rule_for(to) {
            Some(rule) => self.base.intersect(rule.window),
            None => self.base,
        }
    }

    /// May `to` be called at `at`? False outside the NANP: there is no rule
    /// here to say when.
    pub fn is_open(&self, to: E164, at: Timestamp) -> bool {
        let Some(set) = zones_of(to) else {
            return false;
        };
        let window = self.window_for(to);
        !set.zones.is_empty() && set.zones.iter().all(|tz| open_in(tz, window, at))
    }

    /// The first instant at or after `from` when `to` may be called; `None`
    /// when its zones share no legal hour (or it is outside the NANP).
    pub fn next_open(&self, to: E164, from: Timestamp) -> Option<Timestamp> {
        let set = zones_of(to)?;
        let window = self.window_for(to);
        if window.is_empty() || set.zones.is_empty() {
            return None;
        }
        // Each step moves to the opening of a zone that is closed at `t`; no
        // legal instant can come before it, so the first `t` where no zone
        // moves is the earliest. Windows that never overlap end the loop.
        let mut t = from;
        for _ in 0..64 {
            let mut moved = false;
            for tz in &set.zones {
                if !open_in(tz, window, t) {
                    t = next_opening(tz, window, t)?;
                    moved = true;
                }
            }
            if !moved {
                return Some(t);
            }
        }
        None
    }
}

fn open_in(tz: &TimeZone, window: CallingWindow, at: Timestamp) -> bool {
    let local = at.as_second() + i64::from(tz.to_offset(at).seconds());
    window.contains_second(local.rem_euclid(SECONDS_PER_DAY))
}

/// The next local `window.start` strictly after a closed instant `at`.
fn next_opening(tz: &TimeZone, window: CallingWindow, at: Timestamp) -> Option<Timestamp> {
    let local = tz.to_datetime(at);
    let second_of_day = i64::from(local.hour()) * 3600 + i64::from(local.minute()) * 60 + i64::from(local.second());
    let day = if second_of_day < i64::from(window.start_minute) * 60 {
        local.date()
    } else {
        local.date().tomorrow().ok()?
    };
    let (hour, minute) = (window.start_minute / 60, window.start_minute % 60);
    let opening = day.at(hour as i8, minute as i8, 0, 0);
    tz.to_timestamp(opening).ok().filter(|t| *t > at)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::guard::law::FEDERAL_WINDOW;

    fn number(text: &str) -> E164 {
        E164::parse_valid(text).unwrap()
    }

    fn ts(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    #[test]
    fn every_zone_in_the_table_is_known() {
        let table = &*TABLE;
        for set in &table.sets {
            assert_eq!(set.names.len(), set.zones.len(), "{:?}", set.names);
        }
        assert!(table.sets.len() > 20);
    }

    #[test]
    fn the_longest_prefix_wins() {
        let cases: &[(&str, &[&str])] = &[
            ("+14155550100", &["America/Los_Angeles"]),
            ("+12125550100", &["America/New_York"]),
            ("+13125550100", &["America/Chicago"]),
            ("+16025550100", &["America/Phoenix"]),
            ("+18085550100", &["Pacific/Honolulu"]),
            // 208 is split; 208-320 has its own row.
            ("+12083205555", &["America/Boise", "America/Los_Angeles"]),
            // North Dakota and South Dakota span Central and Mountain time.
            ("+17015550100", &["America/Denver", "America/North_Dakota/Center"]),
        ];
        for (text, zones) in cases {
            assert_eq!(zones_of(number(text)).unwrap().names(), *zones, "{text}");
        }
        let prefixes_longer_than_npa = TIMEZONES_CSV
            .lines()
            .skip(1)
            .filter(|l| l.split(',').next().is_some_and(|p| p.len() > 4))
            .count();
        assert!(prefixes_longer_than_npa > 1000);
    }

    #[test]
    fn an_overlay_newer_than_the_map_takes_its_parent_zones() {
        // 357 overlays 559 (Fresno); 729 overlays 423 (east Tennessee, split
        // between Eastern and Central time). Neither is in the map.
        assert!(!TIMEZONES_CSV.contains("\n1357,"));
        assert_eq!(
            zones_of(E164::from_digits_unchecked(13_572_345_678)).unwrap().names(),
            &["America/Los_Angeles"]
        );
        assert!(!TIMEZONES_CSV.contains("\n1729,"));
        let tennessee = zones_of(E164::from_digits_unchecked(17_292_345_678)).unwrap().names();
        assert!(tennessee.contains(&"America/New_York") && tennessee.contains(&"America/Chicago"));
    }

    #[test]
    fn non_nanp_numbers_have_no_hours() {
        let uk = number("+442079460958");
        assert!(zones_of(uk).is_none());
        let hours = CallingHours::new(FEDERAL_WINDOW);
        assert!(!hours.is_open(uk, ts("2025-06-02T12:00:00Z")));
        assert_eq!(hours.next_open(uk, ts("2025-06-02T12:00:00Z")), None);
    }

    #[test]
    fn every_nanp_exchange_has_some_legal_hour() {
        // The strictest sets (the catch-all `1` row spans Guam to Samoa)
        // still leave a window, so no destination is refused for ever.
        let hours = CallingHours::new(FEDERAL_WINDOW);
        let table = &*TABLE;
        let mut seen = std::collections::HashSet::new();
        for (exchange, set) in table.by_exchange.iter().enumerate() {
            if exchange < 200_000 || !seen.insert(*set) {
                continue;
            }
            let to = E164::from_digits_unchecked(10_000_000_000 + exchange as u64 * 10_000 + 1234);
            for start in ["2025-01-15T00:00:00Z", "2025-07-15T00:00:00Z"] {
                let opens = hours.next_open(to, ts(start));
                assert!(opens.is_some(), "{to} {:?}", table.sets[usize::from(*set)].names);
                assert!(hours.is_open(to, opens.unwrap()));
            }
        }
    }
}
