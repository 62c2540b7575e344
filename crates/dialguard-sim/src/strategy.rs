//! The ways a campaign can pick a caller id for each call.
//!
//! - `round_robin`: no guard. The next number in turn, whatever the hour at
//!   the destination; opt-outs reach the dialer's list at the nightly scrub.
//! - `capped`: what a careful team does by hand. A fixed daily cap per
//!   number (any 24 hours), calls only inside 08:00–21:00 in every zone the
//!   destination may be in, opt-outs honoured at once, and the same daily
//!   label checks and disputes as the guard gets. It knows nothing of the
//!   states' stricter rules.
//! - `dialguard`: the same naive dialer as round-robin, with every call
//!   asked of [`Engine::decide`] first, and everything the real system would
//!   receive fed back to [`Engine::apply`]: each call record when the call
//!   ends, opt-outs, complaints from the feeds a day late, and a monitoring
//!   feed's daily test call per number per carrier. [`Engine::tick`] runs
//!   after every simulated minute with activity; the state changes it
//!   returns are already applied to it and go to the event sink.
//!
//! The dialguard strategy can also be asked over a wire instead of in
//! process ([`RemoteGuard`]: the HTTP API of a running server, for one). It
//! gets the same questions and the same events, so a campaign measures what
//! a dialer talking to the server gets.

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::str::FromStr;

use dialguard_core::engine::{Engine, EngineConfig};
use dialguard_core::guard::{DecideRequest, Decision, DenyReason};
use dialguard_core::{E164, Event, NumberRegistered, NumberState};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::law::{FEDERAL_HOURS, ZoneClock};
use crate::population::{Contact, Population};

/// A strategy, by name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StrategyKind {
    RoundRobin,
    Capped,
    Dialguard,
}

impl StrategyKind {
    pub const ALL: [StrategyKind; 3] = [StrategyKind::RoundRobin, StrategyKind::Capped, StrategyKind::Dialguard];

    pub fn as_str(self) -> &'static str {
        match self {
            StrategyKind::RoundRobin => "round_robin",
            StrategyKind::Capped => "capped",
            StrategyKind::Dialguard => "dialguard",
        }
    }
}

impl fmt::Display for StrategyKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A strategy name that is not one.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a strategy: use round_robin, capped or dialguard")]
pub struct UnknownStrategy(String);

impl FromStr for StrategyKind {
    type Err = UnknownStrategy;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let squashed = text.trim().to_ascii_lowercase().replace(['-', ' '], "_");
        StrategyKind::ALL
            .into_iter()
            .find(|s| s.as_str() == squashed || (squashed == "rr" && *s == StrategyKind::RoundRobin))
            .ok_or_else(|| UnknownStrategy(text.to_owned()))
    }
}

/// A strategy's answer for one call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Choice {
    /// Place it with the pool's number at this index.
    Allow(u32),
    /// Not now, or not ever; `retry_at` in seconds when waiting helps.
    Deny(DenyReason, Option<i64>),
}

/// What a strategy sees of the world.
pub(crate) struct World<'a> {
    pub population: &'a Population,
    pub clock: &'a ZoneClock,
}

/// The pool's dialing policy. One variant per [`StrategyKind`].
pub(crate) enum Dialer {
    RoundRobin { next: u32 },
    Capped(Capped),
    Dialguard(Box<Guarded>),
    Remote(Box<Remoted>),
}

/// The dialguard strategy reached some other way than in process.
pub trait RemoteGuard: Send {
    /// Puts `numbers` into `pool` as of `at`, before any event.
    fn register(&mut self, pool: &str, numbers: &[E164], at: Timestamp) -> Result<(), String>;
    /// An event the real system would receive (a call record, complaint,
    /// opt-out or label check), in the order it would receive them.
    fn observe(&mut self, event: &Event) -> Result<(), String>;
    /// Asks; every event observed before reaches the guard first.
    fn decide(&mut self, request: &DecideRequest, at: Timestamp) -> Result<Decision, String>;
    /// Time moved to `now`: whatever is held back goes out.
    fn tick(&mut self, now: Timestamp) -> Result<(), String>;
}

pub(crate) struct Remoted {
    remote: Box<dyn RemoteGuard>,
    index_of: HashMap<E164, u32>,
    request: DecideRequest,
    /// The first error the wire gave: the campaign stops on it.
    failure: Option<String>,
}

impl Remoted {
    fn check<T>(&mut self, result: Result<T, String>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(why) => {
                self.failure.get_or_insert(why);
                None
            }
        }
    }

    fn choose(&mut self, contact: &Contact, at: i64) -> Choice {
        if self.failure.is_some() {
            return Choice::Deny(DenyReason::PoolExhausted, None);
        }
        self.request.to = contact.number;
        self.request.known_contact = contact.known;
        match self.remote.decide(&self.request, timestamp(at)) {
            Ok(Decision::Allow { caller_id }) => match self.index_of.get(&caller_id) {
                Some(&n) => Choice::Allow(n),
                None => {
                    self.failure.get_or_insert(format!(
                        "the guard answered with {caller_id}, a number it was not given"
                    ));
                    Choice::Deny(DenyReason::UnknownPool, None)
                }
            },
            Ok(Decision::Deny { reason, retry_at }) => Choice::Deny(reason, retry_at.map(|t| t.as_second())),
            Err(why) => {
                self.failure.get_or_insert(why);
                Choice::Deny(DenyReason::PoolExhausted, None)
            }
        }
    }
}

pub(crate) struct Capped {
    daily_cap: usize,
    next: u32,
    /// Per number, the start of each call in the last 24 hours.
    recent: Vec<VecDeque<i64>>,
}

pub(crate) struct Guarded {
    engine: Engine,
    pool: String,
    index_of: HashMap<E164, u32>,
    request: DecideRequest,
}

/// The pool name the simulator registers its numbers in.
pub const POOL: &str = "campaign";

impl Dialer {
    /// The strategy `kind`, and the events that registered its numbers;
    /// `remote` stands in for the in-process engine of `dialguard`.
    pub fn new(
        kind: StrategyKind,
        population: &Population,
        capped_daily_cap: u32,
        engine: &EngineConfig,
        start: i64,
        remote: Option<Box<dyn RemoteGuard>>,
    ) -> Result<(Dialer, Vec<Event>), crate::run::SimError> {
        let numbers = population.numbers.len();
        let index_of = || -> HashMap<E164, u32> {
            population
                .numbers
                .iter()
                .enumerate()
                .map(|(i, n)| (*n, i as u32))
                .collect()
        };
        let request = DecideRequest {
            pool: POOL.to_owned(),
            to: population.numbers[0],
            known_contact: false,
        };
        if let Some(mut remote) = remote.filter(|_| kind == StrategyKind::Dialguard) {
            remote
                .register(POOL, &population.numbers, timestamp(start - 86_400))
                .map_err(crate::run::SimError::Remote)?;
            let remoted = Remoted {
                remote,
                index_of: index_of(),
                request,
                failure: None,
            };
            return Ok((Dialer::Remote(Box::new(remoted)), Vec::new()));
        }
        Ok(match kind {
            StrategyKind::RoundRobin => (Dialer::RoundRobin { next: 0 }, Vec::new()),
            StrategyKind::Capped => (
                Dialer::Capped(Capped {
                    daily_cap: capped_daily_cap as usize,
                    next: 0,
                    recent: vec![VecDeque::new(); numbers],
                }),
                Vec::new(),
            ),
            StrategyKind::Dialguard => {
                let mut engine = Engine::new(engine.clone())?;
                let at = timestamp(start - 86_400);
                let registrations: Vec<Event> = population
                    .numbers
                    .iter()
                    .map(|number| {
                        Event::NumberRegistered(NumberRegistered {
                            number: *number,
                            pool: POOL.to_owned(),
                            at,
                            state: NumberState::Active,
                            cnam: None,
                        })
                    })
                    .collect();
                for event in &registrations {
                    engine.apply(event);
                }
                let guarded = Guarded {
                    engine,
                    pool: POOL.to_owned(),
                    index_of: index_of(),
                    request,
                };
                (Dialer::Dialguard(Box::new(guarded)), registrations)
            }
        })
    }

    /// Whether the strategy is fed events (so they must be built).
    pub fn wants_events(&self) -> bool {
        matches!(self, Dialer::Dialguard(_) | Dialer::Remote(_))
    }

    /// What stopped a remote guard from answering, if anything did.
    pub fn failure(&mut self) -> Option<String> {
        match self {
            Dialer::Remote(remoted) => remoted.failure.take(),
            _ => None,
        }
    }

    /// Whether the team watches for labels (a daily test call per number per
    /// carrier) and disputes the ones it finds.
    pub fn monitors_labels(&self) -> bool {
        !matches!(self, Dialer::RoundRobin { .. })
    }

    /// Whether the dialer drops a person the moment they opt out (otherwise
    /// at the nightly scrub of its list).
    pub fn drops_opt_outs_at_once(&self) -> bool {
        matches!(self, Dialer::Capped(_))
    }

    pub fn choose(&mut self, world: &World, contact: &Contact, at: i64) -> Choice {
        match self {
            Dialer::RoundRobin { next } => {
                let n = *next;
                *next = (n + 1) % world.population.numbers.len() as u32;
                Choice::Allow(n)
            }
            Dialer::Capped(capped) => capped.choose(world, contact, at),
            Dialer::Dialguard(guarded) => guarded.choose(contact, at),
            Dialer::Remote(remoted) => remoted.choose(contact, at),
        }
    }

    /// Folds an event the real system would receive.
    pub fn observe(&mut self, event: &Event) {
        match self {
            Dialer::Dialguard(guarded) => guarded.engine.apply(event),
            Dialer::Remote(remoted) if remoted.failure.is_none() => {
                let sent = remoted.remote.observe(event);
                remoted.check(sent);
            }
            _ => {}
        }
    }

    /// Sends what a remote guard still holds back.
    pub fn flush(&mut self, now: i64) {
        if let Dialer::Remote(remoted) = self
            && remoted.failure.is_none()
        {
            let sent = remoted.remote.tick(timestamp(now));
            remoted.check(sent);
        }
    }

    /// Moves the strategy's time to `now`; returns the events it derived
    /// (already applied to itself).
    pub fn tick(&mut self, now: i64) -> Vec<Event> {
        match self {
            Dialer::Dialguard(guarded) => guarded.engine.tick(timestamp(now)),
            // The remote guard derives and keeps its own state changes.
            Dialer::Remote(_) => {
                self.flush(now);
                Vec::new()
            }
            _ => Vec::new(),
        }
    }
}

impl Capped {
    fn choose(&mut self, world: &World, contact: &Contact, at: i64) -> Choice {
        let zones = world.population.zones_of(contact);
        if !world.clock.inside(zones, FEDERAL_HOURS, at) {
            // By hand, a team checks again in a while rather than computing
            // the opening instant.
            return Choice::Deny(DenyReason::OutsideCallingHours, Some(at + 1_800));
        }
        let count = self.recent.len() as u32;
        let mut earliest_free = i64::MAX;
        for step in 0..count {
            let n = (self.next + step) % count;
            let calls = &mut self.recent[n as usize];
            while calls.front().is_some_and(|t| *t <= at - 86_400) {
                calls.pop_front();
            }
            if calls.len() < self.daily_cap {
                calls.push_back(at);
                self.next = (n + 1) % count;
                return Choice::Allow(n);
            }
            if let Some(first) = calls.front() {
                earliest_free = earliest_free.min(first + 86_400);
            }
        }
        Choice::Deny(
            DenyReason::PoolExhausted,
            (earliest_free != i64::MAX).then_some(earliest_free),
        )
    }
}

impl Guarded {
    fn choose(&mut self, contact: &Contact, at: i64) -> Choice {
        self.request.to = contact.number;
        self.request.known_contact = contact.known;
        debug_assert_eq!(self.request.pool, self.pool);
        match self.engine.decide(&self.request, timestamp(at)) {
            Decision::Allow { caller_id } => match self.index_of.get(&caller_id) {
                Some(&n) => Choice::Allow(n),
                // The guard only answers with numbers it was given.
                None => Choice::Deny(DenyReason::UnknownPool, None),
            },
            Decision::Deny { reason, retry_at } => Choice::Deny(reason, retry_at.map(|t| t.as_second())),
        }
    }
}

pub(crate) fn timestamp(second: i64) -> Timestamp {
    Timestamp::from_second(second).unwrap_or(Timestamp::UNIX_EPOCH)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strategy_names_read_as_people_write_them() {
        let cases: &[(&str, Option<StrategyKind>)] = &[
            ("round_robin", Some(StrategyKind::RoundRobin)),
            ("round-robin", Some(StrategyKind::RoundRobin)),
            ("RR", Some(StrategyKind::RoundRobin)),
            ("Capped", Some(StrategyKind::Capped)),
            (" dialguard ", Some(StrategyKind::Dialguard)),
            ("guard", None),
            ("", None),
        ];
        for (text, want) in cases {
            assert_eq!(text.parse::<StrategyKind>().ok(), *want, "{text:?}");
        }
        let err = "rotate".parse::<StrategyKind>().unwrap_err().to_string();
        assert!(err.contains("round_robin, capped or dialguard"), "{err}");
    }
}
