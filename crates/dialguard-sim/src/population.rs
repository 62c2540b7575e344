//! The people a campaign calls, and the business's own caller ids.
//!
//! Generated once per seed and shared, read-only, by every strategy: each
//! callee gets a real NANP number (a state drawn by census population, an
//! area code in service there per NANPA, an exchange libphonenumber accepts),
//! the time zones that number may ring in (the guard's prefix table, which is
//! data from libphonenumber), the carrier whose analytics engine screens
//! their calls, whether they already know the business, whether the number
//! is dead (list churn), and how willing they are to pick up an unknown
//! caller. Everything is flat and `Copy`: a strategy's hot loop reads a
//! `Contact` by index and never allocates.

use std::collections::{HashMap, HashSet};

use dialguard_core::guard::hours;
use dialguard_core::{Carrier, E164, nanp};
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};

use crate::calibration::{self, CARRIER_SHARES, STATE_POPULATION};
use crate::law;

/// How the population is drawn. Defaults are the calibrated figures of
/// [`calibration`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PopulationConfig {
    pub contacts: u32,
    /// `[sim]` Share of the list who are existing customers (the dialer
    /// marks them `known_contact`, and they have the number saved).
    pub known_share: f64,
    /// Months since the list was bought: its dead share follows the monthly
    /// churn (`[unlimcall-hygiene]`: 2–3 % a month). Default 3 months, about
    /// 7 % dead.
    pub list_age_months: f64,
    /// The business's caller ids.
    pub numbers: u32,
    /// States whose area codes the caller ids are drawn from (the team's
    /// own region). Default Texas: a call center on Central time.
    pub number_states: Vec<String>,
}

impl Default for PopulationConfig {
    fn default() -> Self {
        PopulationConfig {
            contacts: 40_000,
            known_share: 0.10,
            list_age_months: 3.0,
            numbers: 20,
            number_states: vec!["TX".to_owned()],
        }
    }
}

/// A population that cannot be drawn.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PopulationError {
    #[error("population: `{field}` {reason}")]
    Invalid { field: &'static str, reason: String },
}

/// One person on the list.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Contact {
    pub number: E164,
    /// How willing they are to pick up, as a multiple of the average
    /// (0.25 to 1.75, mean 1): some never answer a stranger, some always do.
    pub mood: f32,
    /// Index into [`Population::zone_sets`].
    pub zone_set: u16,
    /// Legal local hours, minutes after midnight: the federal window narrowed
    /// by the state's law ([`law::law_for`]).
    pub legal_hours: (u16, u16),
    /// The state's limit of calls per 24 hours; 0 when it has none.
    pub max_calls_per_24h: u8,
    pub carrier: Carrier,
    /// An existing customer: the dialer says `known_contact`.
    pub known: bool,
    /// A dead number: every call comes back as an invalid destination.
    pub dead: bool,
}

/// The zones one prefix may ring in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ZoneSet {
    pub names: Vec<&'static str>,
    /// Indexes into [`Population::zones`].
    pub zones: Vec<u16>,
}

/// The callees and the business's numbers, for one seed.
#[derive(Debug)]
pub struct Population {
    pub contacts: Vec<Contact>,
    pub zone_sets: Vec<ZoneSet>,
    /// Every distinct zone a contact may be in.
    pub zones: Vec<TimeZone>,
    /// The business's caller ids, in pool order.
    pub numbers: Vec<E164>,
    pub config: PopulationConfig,
}

impl Population {
    /// Draws the population for `seed`.
    pub fn generate(config: &PopulationConfig, seed: u64) -> Result<Population, PopulationError> {
        check(config)?;
        let mut rng = fastrand::Rng::with_seed(seed);
        let area_codes = area_codes_by_state();
        let states: Vec<(&str, &[u16], u32)> = STATE_POPULATION
            .iter()
            .filter_map(|(s, people)| area_codes.get(*s).map(|codes| (*s, codes.as_slice(), *people)))
            .collect();
        let total_people: u64 = states.iter().map(|(_, _, p)| u64::from(*p)).sum();
        let dead_share = calibration::dead_share(config.list_age_months);

        let mut taken = HashSet::with_capacity(config.contacts as usize + config.numbers as usize);
        let mut zone_index: HashMap<Vec<&'static str>, u16> = HashMap::new();
        let mut zone_names: Vec<&'static str> = Vec::new();
        let mut zone_sets: Vec<ZoneSet> = Vec::new();
        let mut contacts = Vec::with_capacity(config.contacts as usize);
        for _ in 0..config.contacts {
            let mut ticket = rng.u64(0..total_people);
            let (state, codes, _) = states
                .iter()
                .find(|(_, _, people)| {
                    let inside = ticket < u64::from(*people);
                    if !inside {
                        ticket -= u64::from(*people);
                    }
                    inside
                })
                .copied()
                .unwrap_or(states[0]);
            let number = fresh_number(&mut rng, codes, &mut taken);
            let names: Vec<&'static str> = hours::zones_of(number).map(|s| s.names().to_vec()).unwrap_or_default();
            let zone_set = match zone_index.get(&names) {
                Some(&id) => id,
                None => {
                    let zones = names
                        .iter()
                        .map(|n| match zone_names.iter().position(|z| z == n) {
                            Some(i) => i as u16,
                            None => {
                                zone_names.push(n);
                                (zone_names.len() - 1) as u16
                            }
                        })
                        .collect();
                    zone_sets.push(ZoneSet {
                        names: names.clone(),
                        zones,
                    });
                    let id = (zone_sets.len() - 1) as u16;
                    zone_index.insert(names, id);
                    id
                }
            };
            let (open, close, max_calls) = law::law_for(state);
            let known = rng.f64() < config.known_share;
            contacts.push(Contact {
                number,
                mood: (0.25 + 1.5 * rng.f64()) as f32,
                zone_set,
                legal_hours: (open, close),
                max_calls_per_24h: max_calls,
                carrier: draw_carrier(rng.f64()),
                known,
                dead: rng.f64() < dead_share,
            });
        }
        let numbers = caller_ids(config, &area_codes, &mut rng, &mut taken)?;
        let zones = zone_names
            .iter()
            .map(|n| TimeZone::get(n).expect("the guard's zone table names only known zones (tested there)"))
            .collect();
        Ok(Population {
            contacts,
            zone_sets,
            zones,
            numbers,
            config: config.clone(),
        })
    }

    /// The zones (as indexes into [`Population::zones`]) a contact may be in.
    pub fn zones_of(&self, contact: &Contact) -> &[u16] {
        &self.zone_sets[usize::from(contact.zone_set)].zones
    }

    /// The share of contacts on each carrier.
    pub fn carrier_share(&self, carrier: Carrier) -> f64 {
        let on = self.contacts.iter().filter(|c| c.carrier == carrier).count();
        on as f64 / self.contacts.len().max(1) as f64
    }
}

fn check(config: &PopulationConfig) -> Result<(), PopulationError> {
    let invalid = |field, reason: &str| {
        Err(PopulationError::Invalid {
            field,
            reason: reason.to_owned(),
        })
    };
    let share = |x: f64| x.is_finite() && (0.0..=1.0).contains(&x);
    if config.contacts == 0 {
        return invalid("contacts", "must be at least 1");
    }
    if config.contacts > 50_000_000 {
        return invalid("contacts", "must be at most 50,000,000");
    }
    if config.numbers == 0 || config.numbers > 100_000 {
        return invalid("numbers", "must be from 1 to 100,000");
    }
    if !share(config.known_share) {
        return invalid("known_share", "is a share: write it from 0 to 1, 0.1 for 10 %");
    }
    if !(config.list_age_months.is_finite() && (0.0..=600.0).contains(&config.list_age_months)) {
        return invalid("list_age_months", "must be from 0 to 600 months");
    }
    if config.number_states.is_empty() {
        return invalid("number_states", "needs at least one state, e.g. [\"TX\"]");
    }
    Ok(())
}

fn draw_carrier(u: f64) -> Carrier {
    let mut left = u;
    for (carrier, share) in CARRIER_SHARES {
        if left < share {
            return carrier;
        }
        left -= share;
    }
    CARRIER_SHARES[CARRIER_SHARES.len() - 1].0
}

/// The in-service area codes of each US state and DC, per NANPA's report.
fn area_codes_by_state() -> HashMap<&'static str, Vec<u16>> {
    let mut by_state: HashMap<&'static str, Vec<u16>> = HashMap::new();
    for npa in 200..1000u16 {
        let Some(area) = nanp::area(npa) else { continue };
        if !(area.in_service && area.country == "US") {
            continue;
        }
        if let Some((state, _)) = STATE_POPULATION.iter().find(|(s, _)| *s == area.location) {
            by_state.entry(state).or_default().push(npa);
        }
    }
    by_state
}

/// A number in one of `codes` that libphonenumber accepts, not drawn before,
/// and not in the fictional 555 exchange.
fn fresh_number(rng: &mut fastrand::Rng, codes: &[u16], taken: &mut HashSet<u64>) -> E164 {
    loop {
        let npa = u64::from(codes[rng.usize(0..codes.len())]);
        let nxx = rng.u64(200..1000);
        if nxx == 555 || nxx % 100 == 11 {
            continue;
        }
        let digits = 10_000_000_000 + npa * 10_000_000 + nxx * 10_000 + rng.u64(0..10_000);
        let number = E164::from_digits_unchecked(digits);
        if nanp::judge(number).is_some() && taken.insert(digits) {
            return number;
        }
    }
}

fn caller_ids(
    config: &PopulationConfig,
    area_codes: &HashMap<&'static str, Vec<u16>>,
    rng: &mut fastrand::Rng,
    taken: &mut HashSet<u64>,
) -> Result<Vec<E164>, PopulationError> {
    let mut codes = Vec::new();
    for state in &config.number_states {
        match area_codes.get(state.to_ascii_uppercase().as_str()) {
            Some(c) => codes.extend_from_slice(c),
            None => {
                return Err(PopulationError::Invalid {
                    field: "number_states",
                    reason: format!("{state:?} is not a US state's two-letter code (e.g. TX, CA, NY)"),
                });
            }
        }
    }
    Ok((0..config.numbers).map(|_| fresh_number(rng, &codes, taken)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small(seed: u64) -> Population {
        let config = PopulationConfig {
            contacts: 20_000,
            ..PopulationConfig::default()
        };
        Population::generate(&config, seed).unwrap()
    }

    #[test]
    fn a_seed_draws_the_same_people() {
        let (a, b) = (small(11), small(11));
        assert_eq!(a.contacts, b.contacts);
        assert_eq!(a.numbers, b.numbers);
        assert_ne!(a.contacts, small(12).contacts);
    }

    #[test]
    fn people_live_where_the_census_says() {
        let p = small(1);
        let share_of = |state: &str| {
            p.contacts
                .iter()
                .filter(|c| nanp::state_of(c.number) == Some(state))
                .count() as f64
                / p.contacts.len() as f64
        };
        // 2020 census: California 11.9 %, Texas 8.8 %, Wyoming 0.17 %.
        assert!((share_of("CA") - 0.119).abs() < 0.01, "{}", share_of("CA"));
        assert!((share_of("TX") - 0.088).abs() < 0.01, "{}", share_of("TX"));
        assert!(share_of("WY") < 0.005);
        assert!(p.contacts.iter().all(|c| nanp::judge(c.number).is_some()));
        let distinct: HashSet<_> = p.contacts.iter().map(|c| c.number).collect();
        assert_eq!(distinct.len(), p.contacts.len(), "no one is listed twice");
    }

    #[test]
    fn time_zones_and_laws_come_from_the_number() {
        let p = small(2);
        for c in p.contacts.iter().take(2_000) {
            let names = &p.zone_sets[usize::from(c.zone_set)].names;
            assert!(!names.is_empty(), "{} has a zone", c.number);
            let state = nanp::state_of(c.number).unwrap();
            if state == "CA" {
                assert_eq!(names, &["America/Los_Angeles"]);
            }
            let florida = state == "FL";
            assert_eq!(c.max_calls_per_24h == 3, florida || state == "OK" || state == "MD");
            if florida {
                assert_eq!(c.legal_hours, (480, 1200));
            }
        }
    }

    #[test]
    fn list_churn_and_carriers_match_their_sources() {
        let p = small(3);
        let n = p.contacts.len() as f64;
        let dead = p.contacts.iter().filter(|c| c.dead).count() as f64 / n;
        assert!((dead - calibration::dead_share(3.0)).abs() < 0.01, "{dead}");
        assert!((p.carrier_share(Carrier::Verizon) - 0.37).abs() < 0.015);
        let old = Population::generate(
            &PopulationConfig {
                contacts: 20_000,
                list_age_months: 12.0,
                ..PopulationConfig::default()
            },
            3,
        )
        .unwrap();
        let old_dead = old.contacts.iter().filter(|c| c.dead).count() as f64 / n;
        assert!((0.10..=0.30).contains(&old_dead), "a year-old list: {old_dead}");
    }

    #[test]
    fn bad_settings_name_the_field() {
        let cases: &[(PopulationConfig, &str)] = &[
            (
                PopulationConfig {
                    contacts: 0,
                    ..PopulationConfig::default()
                },
                "contacts",
            ),
            (
                PopulationConfig {
                    known_share: 1.5,
                    ..PopulationConfig::default()
                },
                "known_share",
            ),
            (
                PopulationConfig {
                    number_states: vec!["Texas".into()],
                    ..PopulationConfig::default()
                },
                "number_states",
            ),
            (
                PopulationConfig {
                    list_age_months: f64::NAN,
                    ..PopulationConfig::default()
                },
                "list_age_months",
            ),
        ];
        for (config, field) in cases {
            let err = Population::generate(config, 1).unwrap_err().to_string();
            assert!(err.contains(field), "{err}");
        }
    }
}
