//! The North American Numbering Plan: which area codes exist, where they are,
//! and how a +1 number is judged.
//!
//! Source: NANPA's public NPA report (`data/npa_report.csv`, file date
//! 2025-11-26), embedded at build time. libphonenumber's metadata lags NANPA
//! by months; an area code that NANPA has assigned but the library does not
//! know yet makes a number [`Validity::UnknownArea`], not invalid.

use std::sync::LazyLock;
use std::sync::atomic::{AtomicU8, Ordering};

use crate::number::{E164, Parsed, Validity, library_says_valid};

const NPA_REPORT: &str = include_str!("../data/npa_report.csv");

/// What NANPA says of one area code.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AreaCode {
    pub npa: u16,
    /// Assigned by NANPA (in service or announced).
    pub assigned: bool,
    pub in_service: bool,
    /// Two-letter state / province code, or the territory's name.
    pub location: String,
    /// `US`, `CANADA`, or the country for Caribbean NPAs.
    pub country: String,
    /// NANPA's time-zone letters (`E`, `C`, `M`, `P`, `A`, `H`, …).
    pub time_zones: String,
}

struct Table {
    /// Indexed by NPA (0..1000).
    areas: Vec<Option<AreaCode>>,
    /// Whether libphonenumber's metadata knows numbers in this NPA at all.
    library_knows: Vec<bool>,
}

static TABLE: LazyLock<Table> = LazyLock::new(build_table);

fn build_table() -> Table {
    let mut areas: Vec<Option<AreaCode>> = vec![None; 1000];
    // Line 1 is the file date, line 2 the header. The embedded file is ours,
    // checked by `the_embedded_npa_report_parses`, so a bad row is skipped.
    for line in NPA_REPORT.lines().skip(2) {
        let fields = split_csv_line(line);
        let field = |i: usize| fields.get(i).map(String::as_str).unwrap_or("");
        let Ok(npa) = field(0).parse::<u16>() else {
            continue;
        };
        if npa >= 1000 {
            continue;
        }
        areas[npa as usize] = Some(AreaCode {
            npa,
            assigned: field(5) == "Yes",
            in_service: field(10) == "Y",
            location: field(8).to_owned(),
            country: field(9).to_owned(),
            time_zones: field(19).to_owned(),
        });
    }
    let library_knows = (0..1000u16).map(library_knows_npa).collect();
    Table { areas, library_knows }
}

/// libphonenumber knows an NPA when it accepts any ordinary line in it.
/// Probing a spread of exchanges is enough: the library's US patterns list
/// area codes first.
fn library_knows_npa(npa: u16) -> bool {
    if npa < 200 {
        return false;
    }
    [201u64, 234, 312, 456, 555, 678, 789, 823, 955].iter().any(|nxx| {
        library_says_valid(E164::from_digits_unchecked(
            10_000_000_000 + u64::from(npa) * 10_000_000 + nxx * 10_000 + 1234,
        ))
    })
}

/// A minimal CSV line splitter for the embedded report (quoted fields may
/// hold commas; the report has no embedded newlines).
fn split_csv_line(line: &str) -> Vec<String> {
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            ('"', _) => quoted = !quoted,
            (',', false) => fields.push(std::mem::take(&mut field)),
            (c, _) => field.push(c),
        }
    }
    fields.push(field);
    fields
}

/// NANPA's record of an area code.
pub fn area(npa: u16) -> Option<&'static AreaCode> {
    TABLE.areas.get(npa as usize).and_then(Option::as_ref)
}

/// The state or province of a NANP number's area code, e.g. `CA` for +1415….
pub fn state_of(number: E164) -> Option<&'static str> {
    let npa = number.area_code()?;
    area(npa).map(|a| a.location.as_str()).filter(|s| !s.is_empty())
}

/// The library's verdict per NPA-NXX, learned on first sight:
/// 0 not asked yet, 1 valid, 2 invalid.
///
/// Under libphonenumber's NANP metadata a number's validity depends on its
/// area code and exchange only, except in [`MIXED_EXCHANGES`]. The example
/// `exchange_uniformity` checks every exchange against the bundled metadata
/// (last run: 361,495 valid exchanges, 3 mixed), and the test
/// `exchange_cache_agrees_with_the_library` samples it on every test run. The
/// cache turns the library's ~200 ns into a memory read for all but the
/// first number of each exchange.
static EXCHANGES: [AtomicU8; 1_000_000] = [const { AtomicU8::new(0) }; 1_000_000];

/// Exchanges whose validity varies with the line number (Barbados, Jamaica).
const MIXED_EXCHANGES: [u32; 3] = [246_521, 246_522, 876_606];

fn library_says_valid_cached(number: E164, npa_nxx: u32) -> bool {
    if MIXED_EXCHANGES.contains(&npa_nxx) {
        return library_says_valid(number);
    }
    let slot = &EXCHANGES[npa_nxx as usize];
    match slot.load(Ordering::Relaxed) {
        1 => true,
        2 => false,
        _ => {
            let valid = library_says_valid(number);
            slot.store(if valid { 1 } else { 2 }, Ordering::Relaxed);
            valid
        }
    }
}

/// Judges a +1 number: valid by libphonenumber, or a plausible line in an
/// area code NANPA assigned after the library's metadata was cut.
pub fn judge(number: E164) -> Option<Parsed> {
    let npa_nxx = number.npa_nxx()?;
    let (npa, nxx) = (npa_nxx / 1000, npa_nxx % 1000);
    if npa < 200 || nxx < 200 {
        return None;
    }
    if library_says_valid_cached(number, npa_nxx) {
        return Some(Parsed {
            number,
            validity: Validity::Valid,
        });
    }
    let table = &*TABLE;
    let newer_than_library = !table.library_knows[npa as usize] && area(npa as u16).is_some_and(|a| a.assigned);
    newer_than_library.then_some(Parsed {
        number,
        validity: Validity::UnknownArea,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_npa_report_parses() {
        let assigned = (200..1000).filter_map(area).filter(|a| a.assigned).count();
        assert_eq!(assigned, 488, "NANPA's 2025-11-26 report lists 488 assigned NPAs");
        let sf = area(415).unwrap();
        assert_eq!(
            (sf.location.as_str(), sf.country.as_str(), sf.time_zones.as_str()),
            ("CA", "US", "P")
        );
        assert_eq!(state_of(E164::parse_valid("+12125550199").unwrap()), Some("NY"));
    }

    #[test]
    fn an_assigned_area_code_newer_than_the_library_is_unknown_area() {
        let table = &*TABLE;
        assert!(table.library_knows[415] && table.library_knows[212]);
        let newer: Vec<u16> = (200..1000u16)
            .filter(|npa| area(*npa).is_some_and(|a| a.assigned) && !table.library_knows[*npa as usize])
            .collect();
        // NANPA assigns area codes months before they reach the library.
        assert!(!newer.is_empty(), "the report names area codes the library lacks");
        for npa in newer {
            let n = E164::from_digits_unchecked(10_000_000_000 + u64::from(npa) * 10_000_000 + 2_345_678);
            assert_eq!(judge(n).map(|p| p.validity), Some(Validity::UnknownArea), "{n}");
            let text = n.to_string();
            assert_eq!(
                E164::parse(&text).map(|p| p.validity),
                Ok(Validity::UnknownArea),
                "{text}"
            );
        }
    }

    #[test]
    fn exchange_cache_agrees_with_the_library() {
        // Every exchange of a spread of area codes (the Caribbean ones hold
        // the known exceptions), several line numbers each, asked in an order
        // that fills the cache from a different line than it is checked with.
        for npa in [201u64, 246, 340, 415, 649, 787, 809, 876, 907, 989] {
            for nxx in 200u64..1000 {
                for line in [4_321u64, 0, 1, 999, 5_000, 9_999] {
                    let n = E164::from_digits_unchecked(10_000_000_000 + npa * 10_000_000 + nxx * 10_000 + line);
                    let cached = library_says_valid_cached(n, n.npa_nxx().unwrap());
                    assert_eq!(cached, library_says_valid(n), "{n}");
                }
            }
        }
    }

    #[test]
    fn an_unassigned_area_code_is_invalid() {
        assert_eq!(judge(E164::from_digits_unchecked(19_995_550_100)), None);
        assert_eq!(judge(E164::from_digits_unchecked(13_735_550_100)), None);
    }
}
