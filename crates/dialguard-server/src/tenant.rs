//! One tenant's state: its engine and its clock.
//!
//! All data is scoped by tenant: each has its own [`Engine`], folded from its
//! own part of the log, and a token only ever reaches its tenant's. The
//! engine sits behind one mutex: decisions take it for microseconds and
//! never touch the disk, and the log writer takes it to fold what it wrote.

use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};

use dialguard_core::Event;
use dialguard_core::engine::Engine;
use dialguard_core::guard::{DecideRequest, Decision};
use jiff::Timestamp;
use parking_lot::{Mutex, RwLock};

use crate::config::ClockMode;

/// A tenant: a name, an engine, a clock.
pub struct Tenant {
    pub name: String,
    pub engine: Mutex<Engine>,
    pub clock: Clock,
    /// The instant of the engine's latest tick, in nanoseconds since the
    /// epoch (`i64::MIN` before the first).
    pub last_tick: AtomicI64,
    /// Whether this server decides the tenant's state changes. Always on a
    /// log of its own; on a shared log, while it holds the tenant's lead
    /// (the others follow: they tick without deciding, and read the
    /// leader's changes from the log).
    pub leads: AtomicBool,
    /// While another server leads: its advertised base URL, where this
    /// tenant's decisions are redirected (`None`: no leader known now).
    pub leader: RwLock<Option<String>>,
    /// Decisions answered under an `Idempotency-Key`, so a dialer's retry
    /// gets the first answer and reserves nothing twice. Locked only while
    /// the engine is.
    pub answered: Mutex<Answered>,
    /// The latest alert deliveries tried for this tenant, newest last
    /// (the wallboard's delivery log).
    pub deliveries: Mutex<crate::alerts::Deliveries>,
}

/// The latest decisions by `Idempotency-Key`, the oldest forgotten first
/// past [`Answered::KEEP`].
#[derive(Default)]
pub struct Answered {
    by_key: std::collections::HashMap<String, (DecideRequest, Decision)>,
    order: std::collections::VecDeque<String>,
}

impl Answered {
    /// Keys remembered: a dialer retries within seconds, not after a
    /// hundred thousand other decisions.
    pub const KEEP: usize = 100_000;

    /// The decision first given under `key`, and the request it answered.
    pub fn get(&self, key: &str) -> Option<&(DecideRequest, Decision)> {
        self.by_key.get(key)
    }

    pub fn insert(&mut self, key: String, request: DecideRequest, decision: Decision) {
        if self.by_key.insert(key.clone(), (request, decision)).is_none() {
            self.order.push_back(key);
        }
        while self.order.len() > Self::KEEP {
            if let Some(old) = self.order.pop_front() {
                self.by_key.remove(&old);
            }
        }
    }
}

impl Tenant {
    /// Moves `engine` (this tenant's, locked) to the clock's instant, when
    /// the clock has one, and notes when: the state changes it decided,
    /// already applied, for the log.
    pub fn tick(&self, engine: &mut Engine) -> Vec<Event> {
        let Some(now) = self.clock.tick_instant() else {
            return Vec::new();
        };
        self.tick_at(engine, now)
    }

    /// Moves `engine` to `now`; the state changes decided, if this server
    /// leads the tenant.
    pub fn tick_at(&self, engine: &mut Engine, now: Timestamp) -> Vec<Event> {
        self.last_tick.store(crate::writer::ns(now), Ordering::Release);
        if self.leads.load(Ordering::Acquire) {
            engine.tick(now)
        } else {
            engine.follow_tick(now);
            Vec::new()
        }
    }

    pub fn new(name: String, engine: Engine, mode: ClockMode) -> Tenant {
        Tenant {
            name,
            engine: Mutex::new(engine),
            clock: Clock::new(mode),
            last_tick: AtomicI64::new(i64::MIN),
            leads: AtomicBool::new(true),
            leader: RwLock::new(None),
            answered: Mutex::new(Answered::default()),
            deliveries: Mutex::new(crate::alerts::Deliveries::default()),
        }
    }
}

/// "Now" for one tenant.
///
/// With [`ClockMode::Wall`] it is the machine's clock. With
/// [`ClockMode::Event`] it is the latest instant any request carried (a
/// decision's `at`, a call's end, a label's instant, …), so a harness moves
/// time by sending later instants. Before any request has carried one, the
/// event clock falls back to the machine's clock without being moved by it.
pub struct Clock {
    mode: ClockMode,
    /// The latest instant seen, in nanoseconds since the epoch
    /// (`i64::MIN` before the first): the log stores nanoseconds as `i64`
    /// too, so every storable instant fits.
    latest_ns: AtomicI64,
}

impl Clock {
    pub fn new(mode: ClockMode) -> Clock {
        Clock {
            mode,
            latest_ns: AtomicI64::new(i64::MIN),
        }
    }

    /// The current instant.
    pub fn now(&self) -> Timestamp {
        match self.mode {
            ClockMode::Wall => Timestamp::now(),
            ClockMode::Event => self.latest().unwrap_or_else(Timestamp::now),
        }
    }

    /// The instant to move the engine's calendar to, if there is one: the
    /// machine's time, or the latest instant a request carried. An event
    /// clock that has seen none has no "now" to tick to: ticking at the
    /// machine's time would put the engine's calendar wherever the machine
    /// is, not where the harness's days are, and the next sweep would wait
    /// for that instant to come round.
    pub fn tick_instant(&self) -> Option<Timestamp> {
        match self.mode {
            ClockMode::Wall => Some(Timestamp::now()),
            ClockMode::Event => self.latest(),
        }
    }

    /// The latest instant seen (event clock), if any.
    pub fn latest(&self) -> Option<Timestamp> {
        let ns = self.latest_ns.load(Ordering::Acquire);
        (ns != i64::MIN)
            .then(|| Timestamp::from_nanosecond(i128::from(ns)).ok())
            .flatten()
    }

    /// Records an instant a request carried and returns "now" after it.
    pub fn observe(&self, at: Timestamp) -> Timestamp {
        match self.mode {
            ClockMode::Wall => Timestamp::now(),
            ClockMode::Event => {
                let ns = i64::try_from(at.as_nanosecond()).unwrap_or(i64::MAX);
                let before = self.latest_ns.fetch_max(ns, Ordering::AcqRel);
                let latest = before.max(ns);
                Timestamp::from_nanosecond(i128::from(latest)).unwrap_or(at)
            }
        }
    }

    /// "Now" for a request that may carry its own instant.
    pub fn observe_opt(&self, at: Option<Timestamp>) -> Timestamp {
        match at {
            Some(at) => self.observe(at),
            None => self.now(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    #[test]
    fn event_clock_is_the_latest_instant_any_request_carried() {
        let clock = Clock::new(ClockMode::Event);
        assert_eq!(clock.latest(), None);
        assert_eq!(clock.observe(at("2026-03-02T09:00:00Z")), at("2026-03-02T09:00:00Z"));
        assert_eq!(clock.observe(at("2026-03-05T10:00:00Z")), at("2026-03-05T10:00:00Z"));
        // An earlier instant does not move time back.
        assert_eq!(clock.observe(at("2026-03-03T00:00:00Z")), at("2026-03-05T10:00:00Z"));
        assert_eq!(clock.now(), at("2026-03-05T10:00:00Z"));
        assert_eq!(clock.observe_opt(None), at("2026-03-05T10:00:00Z"));
    }

    #[test]
    fn wall_clock_ignores_the_instants_requests_carry() {
        let clock = Clock::new(ClockMode::Wall);
        let now = clock.observe(at("2001-01-01T00:00:00Z"));
        assert!(now > at("2020-01-01T00:00:00Z"));
        assert_eq!(clock.latest(), None);
    }
}
