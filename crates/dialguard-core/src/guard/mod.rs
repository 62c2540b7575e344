//! The dial-path guard: may this destination be called now, and from which
//! of the pool's numbers?
//!
//! [`Guard::decide`] answers from memory, in a fixed order: first whether the
//! destination may be called at all (a valid number, not opted out, not on the
//! Do-Not-Call registry without an exemption, consent where the pool requires
//! it, not known to be invalid, inside its calling hours, not called too often
//! already), and only then which number to use. A "not now" carries the next
//! instant it could be yes.
//!
//! State is the fold of events ([`Guard::apply`]) plus the reservations
//! decisions make: an allowed decision counts against the number's pacing and
//! caps and the destination's frequency at once, so two decisions a
//! microsecond apart never share a slot. The call record that follows a
//! decision takes its reservation's place instead of counting twice.
//!
//! Where each rule lives: the law's windows and limits in [`law`], local time
//! in [`hours`], the registry in [`dnc`], number choice in `pool`, defaults in
//! [`config`], list hygiene in [`mod@lint`].

pub mod config;
mod destination;
pub mod dnc;
pub mod hours;
pub mod law;
pub mod lint;
mod pool;

#[cfg(test)]
mod tests;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::call::{Call, Direction};
use crate::classify::Outcome;
use crate::event::Event;
use crate::lifecycle::NumberState;
use crate::nanp;
use crate::number::E164;

pub use config::{AgingCaps, ConfigError, GuardConfig, PhaseCaps, PoolSettings};
pub use dnc::{DncBuilder, DncError, DncFormatError, DncList, DncReadReport, DncReader, DncRowError, read_dnc_lines};
pub use hours::CallingHours;
pub use law::CallingWindow;
pub use lint::{CleanRow, LintIssue, LintReason, LintReport, lint};

use destination::{DAY_MS, Destinations, HOUR_MS};
use pool::{Class, EarliestTwo, Exhausted, Pool, Slot};

type PoolId = u32;
type SlotId = u32;
use crate::FastMap;

/// A dialer's question.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DecideRequest {
    pub pool: String,
    pub to: E164,
    /// The dialer says this person knows the business (a customer, a
    /// patient): it picks the caller id and lets the call through a
    /// recovery phase that calls known contacts only. It exempts nothing
    /// from the Do-Not-Call registry; only a dated `Consent` record does.
    #[serde(default)]
    pub known_contact: bool,
}

/// Why a call may not be placed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DenyReason {
    OptedOut,
    Dnc,
    NoConsent,
    OutsideCallingHours,
    DestinationInvalid,
    DestinationFrequency,
    PoolExhausted,
    UnknownPool,
}

impl DenyReason {
    pub const ALL: [DenyReason; 8] = [
        DenyReason::OptedOut,
        DenyReason::Dnc,
        DenyReason::NoConsent,
        DenyReason::OutsideCallingHours,
        DenyReason::DestinationInvalid,
        DenyReason::DestinationFrequency,
        DenyReason::PoolExhausted,
        DenyReason::UnknownPool,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DenyReason::OptedOut => "opted_out",
            DenyReason::Dnc => "dnc",
            DenyReason::NoConsent => "no_consent",
            DenyReason::OutsideCallingHours => "outside_calling_hours",
            DenyReason::DestinationInvalid => "destination_invalid",
            DenyReason::DestinationFrequency => "destination_frequency",
            DenyReason::PoolExhausted => "pool_exhausted",
            DenyReason::UnknownPool => "unknown_pool",
        }
    }
}

/// The guard's answer: `{"decision":"allow","caller_id":"+1…"}` or
/// `{"decision":"deny","reason":"…","retry_at":"…"}` (HTTP contract v1).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "decision", rename_all = "snake_case")]
pub enum Decision {
    Allow {
        caller_id: E164,
    },
    Deny {
        reason: DenyReason,
        /// The earliest instant the same request could be allowed, when
        /// waiting helps.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        retry_at: Option<Timestamp>,
    },
}

impl Decision {
    fn deny(reason: DenyReason) -> Decision {
        Decision::Deny { reason, retry_at: None }
    }

    fn not_yet(reason: DenyReason, retry_at: Option<i64>) -> Decision {
        Decision::Deny {
            reason,
            retry_at: retry_at.and_then(|ms| Timestamp::from_millisecond(ms).ok()),
        }
    }

    pub fn caller_id(&self) -> Option<E164> {
        match self {
            Decision::Allow { caller_id } => Some(*caller_id),
            Decision::Deny { .. } => None,
        }
    }

    pub fn reason(&self) -> Option<DenyReason> {
        match self {
            Decision::Allow { .. } => None,
            Decision::Deny { reason, .. } => Some(*reason),
        }
    }
}

/// One number's use against its limits, for reports (`calls_today`,
/// `cap_today`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct NumberUsage {
    pub number: E164,
    pub pool: String,
    pub state: NumberState,
    pub risk: u8,
    pub calls_last_hour: u32,
    pub calls_last_24h: u32,
    pub hourly_cap: u32,
    pub daily_cap: u32,
    pub known_contacts_only: bool,
    /// When it next has room; `None` when its state does not allow calls.
    pub next_free: Option<Timestamp>,
}

/// The in-memory dial-path guard. Pure: every instant is an argument.
pub struct Guard {
    config: GuardConfig,
    hours: CallingHours,
    pacing_ms: i64,
    slots: Vec<Slot>,
    slot_of: FastMap<E164, SlotId>,
    pools: Vec<Pool>,
    pool_of: FastMap<String, PoolId>,
    destinations: Destinations,
    dnc: DncList,
    /// The latest instant seen in an event or a decision.
    clock: i64,
    /// Call records folded since a table of `destinations` was last swept
    /// of idle records, and the table the next sweep takes.
    since_sweep: u32,
    next_sweep: usize,
}

/// A table of [`Destinations`] is swept of idle records once per this many
/// call records (at a million calls a day, each of the 64 tables about
/// four times a day), so a record outlives its last call by at most
/// [`destination::KEPT_MS`] and a few hours.
const SWEEP_EVERY: u32 = 4_096;

impl Guard {
    /// A guard with no numbers and an empty Do-Not-Call list.
    pub fn new(config: GuardConfig) -> Result<Guard, ConfigError> {
        config.validate()?;
        let mut guard = Guard {
            hours: CallingHours::new(config.calling_hours),
            pacing_ms: i64::from(config.pacing_seconds) * 1000,
            config,
            slots: Vec::new(),
            slot_of: FastMap::default(),
            pools: Vec::new(),
            pool_of: FastMap::default(),
            destinations: Destinations::default(),
            dnc: DncList::new(),
            clock: i64::MIN,
            since_sweep: 0,
            next_sweep: 0,
        };
        let configured: Vec<String> = guard.config.pools.keys().cloned().collect();
        for name in configured {
            guard.pool_id(&name);
        }
        Ok(guard)
    }

    pub fn config(&self) -> &GuardConfig {
        &self.config
    }

    pub fn calling_hours(&self) -> &CallingHours {
        &self.hours
    }

    pub fn dnc(&self) -> &DncList {
        &self.dnc
    }

    pub fn dnc_mut(&mut self) -> &mut DncList {
        &mut self.dnc
    }

    pub fn set_dnc(&mut self, list: DncList) {
        self.dnc = list;
    }

    /// Destinations the guard holds a record for.
    pub fn known_destinations(&self) -> usize {
        self.destinations.len()
    }

    /// Pools with at least one number or a configuration entry.
    pub fn pools(&self) -> impl Iterator<Item = &str> {
        self.pools.iter().filter(|p| p.known).map(|p| p.name.as_str())
    }

    /// Was `to` opted out at or before `at`?
    pub fn is_opted_out(&self, to: E164, at: Timestamp) -> bool {
        self.destinations
            .get(&to)
            .is_some_and(|d| d.opted_out(at.as_millisecond()))
    }

    /// Did a call to `to` come back `invalid_destination` at or before `at`?
    pub fn is_suppressed(&self, to: E164, at: Timestamp) -> bool {
        self.destinations
            .get(&to)
            .is_some_and(|d| d.suppressed(at.as_millisecond()))
    }

    /// Orders a number among its pool by the risk engine's score (0-100,
    /// lower is preferred).
    pub fn set_risk(&mut self, number: E164, score: u8) {
        if let Some(&id) = self.slot_of.get(&number) {
            self.slots[id as usize].risk = score.min(100);
            self.reindex(id, self.clock);
        }
    }

    /// Replaces a number's default caps (the risk engine's allowance). A
    /// lifecycle phase's lower caps still apply on top.
    pub fn set_caps(&mut self, number: E164, hourly: u32, daily: u32) {
        if let Some(&id) = self.slot_of.get(&number) {
            self.slots[id as usize].caps = Some((hourly, daily));
            self.reindex(id, self.clock);
        }
    }

    /// Back to the configured default caps.
    pub fn clear_caps(&mut self, number: E164) {
        if let Some(&id) = self.slot_of.get(&number) {
            self.slots[id as usize].caps = None;
            self.reindex(id, self.clock);
        }
    }

    /// Changes a pool's settings (as the configuration file would).
    pub fn set_pool_settings(&mut self, name: &str, settings: PoolSettings) {
        self.config.pools.insert(name.to_owned(), settings);
        let id = self.pool_id(name);
        let pool = &mut self.pools[id as usize];
        pool.known = true;
        pool.requires_consent = settings.requires_consent;
        if pool.local_presence != settings.local_presence {
            // The per-area-code and per-state sets exist only with local
            // presence: rebuild the index in the new shape.
            pool.clear_ready(&mut self.slots);
            pool.local_presence = settings.local_presence;
            for id in pool.members.clone() {
                self.reindex(id, self.clock);
            }
        }
    }

    /// A number's use against its limits at `now`.
    pub fn usage(&self, number: E164, now: Timestamp) -> Option<NumberUsage> {
        let slot = &self.slots[*self.slot_of.get(&number)? as usize];
        let at = now.as_millisecond();
        let limits = slot.limits(&self.config, at);
        let next_free = slot
            .state
            .may_call()
            .then(|| slot.free_at(at, limits, self.pacing_ms))
            .flatten()
            .and_then(|ms| Timestamp::from_millisecond(ms).ok());
        Some(NumberUsage {
            number,
            pool: self.pools[slot.pool as usize].name.clone(),
            state: slot.state,
            risk: slot.risk,
            calls_last_hour: slot.calls_since(at - HOUR_MS) as u32,
            calls_last_24h: slot.calls_since(at - DAY_MS) as u32,
            hourly_cap: limits.hourly,
            daily_cap: limits.daily,
            known_contacts_only: limits.known_contacts_only,
            next_free,
        })
    }

    /// Folds one event into the guard's state. Events the guard has no use
    /// for (complaints, labels) are ignored.
    pub fn apply(&mut self, event: &Event) {
        let at = event.at().as_millisecond();
        self.clock = self.clock.max(at);
        match event {
            Event::NumberRegistered(r) => self.register(r.number, &r.pool, r.state, at),
            Event::StateChanged(s) => {
                if let Some(&id) = self.slot_of.get(&s.number) {
                    let slot = &mut self.slots[id as usize];
                    if slot.state != s.state {
                        slot.state = s.state;
                        slot.state_since = at;
                    }
                    self.reindex(id, at);
                }
            }
            Event::OptOut(o) => {
                let d = self.destinations.record(o.to);
                d.opted_out_at = d.opted_out_at.min(at);
            }
            Event::Consent(c) => {
                let pool = c.pool.as_deref().map(|name| self.pool_id(name));
                let written = c.kind == crate::event::ConsentKind::Written;
                let until = c.kind.until(c.at).map_or(destination::NEVER, |t| t.as_millisecond());
                self.destinations.record(c.to).record_consent(pool, written, at, until);
            }
            Event::Call(call) => self.record_call(call),
            Event::Complaint(_) | Event::Label(_) | Event::DisputeUpdated(_) => {}
        }
    }

    fn register(&mut self, number: E164, pool_name: &str, state: NumberState, at: i64) {
        let pool = self.pool_id(pool_name);
        self.pools[pool as usize].known = true;
        let id = match self.slot_of.get(&number) {
            Some(&id) => {
                let old_pool = self.slots[id as usize].pool;
                if old_pool != pool {
                    let slot = &mut self.slots[id as usize];
                    let old = &mut self.pools[old_pool as usize];
                    old.unindex(slot);
                    old.version += 1;
                    old.members.retain(|&m| m != id);
                    slot.pool = pool;
                    self.pools[pool as usize].members.push(id);
                }
                let slot = &mut self.slots[id as usize];
                if slot.state != state {
                    slot.state = state;
                    slot.state_since = at;
                }
                id
            }
            None => {
                let id = self.slots.len() as SlotId;
                self.slots.push(Slot::new(number, pool, state, at));
                self.slot_of.insert(number, id);
                self.pools[pool as usize].members.push(id);
                id
            }
        };
        self.reindex(id, at);
    }

    /// Counts calls a number placed before it was registered (call records
    /// imported first, as a go-live does): the starts, in milliseconds, of
    /// its outbound calls in the day before its newest. A number the guard
    /// already holds, or one not registered, is left alone.
    pub fn seed_calls(&mut self, number: E164, starts_ms: &[i64]) {
        let Some(&id) = self.slot_of.get(&number) else {
            return;
        };
        let slot = &mut self.slots[id as usize];
        if !slot.calls.is_empty() {
            return;
        }
        for &at in starts_ms {
            slot.record_call(at);
        }
        self.reindex(id, self.clock);
    }

    fn record_call(&mut self, call: &Call) {
        if call.direction != Direction::Outbound {
            return;
        }
        let started = call.started_at.as_millisecond();
        let destination = self.destinations.record(call.to);
        if call.outcome == Outcome::InvalidDestination {
            destination.suppressed_at = destination.suppressed_at.min(call.ended_at.as_millisecond());
        }
        let reserved = match self.slot_of.get(&call.from) {
            Some(&id) => {
                let slot = &mut self.slots[id as usize];
                let reserved = slot.take_reservation(call.to, started);
                match reserved {
                    Some(r) => slot.replace_call(r, started),
                    None => slot.record_call(started),
                }
                self.reindex(id, started.max(self.clock));
                reserved
            }
            None => None,
        };
        let destination = self.destinations.record(call.to);
        match reserved {
            Some(r) => destination.replace_call(r, started),
            None => destination.record_call(started),
        }
        self.since_sweep += 1;
        if self.since_sweep >= SWEEP_EVERY {
            self.since_sweep = 0;
            self.sweep_destinations();
        }
    }

    /// Forgets one table's destination records that no rule reads any more.
    /// Decisions may arrive up to an hour behind the newest instant seen
    /// (dialers send their own `at`), which [`destination::KEPT_MS`] already
    /// allows for: a call older than that before the newest instant counts
    /// toward no day a decision can still be asked about.
    fn sweep_destinations(&mut self) {
        let table = self.next_sweep;
        self.next_sweep = (table + 1) % self.destinations.tables();
        if self.clock > i64::MIN {
            self.destinations
                .forget_idle(table, self.clock.saturating_sub(destination::KEPT_MS));
        }
    }

    /// May `request.to` be called at `now`, and from which number? An allowed
    /// call is reserved at once.
    pub fn decide(&mut self, request: &DecideRequest, now: Timestamp) -> Decision {
        let at = now.as_millisecond();
        self.clock = self.clock.max(at);
        let to = request.to;
        // A pool nobody configured or registered a number into is a mistake
        // in the request (a typo in the dialer's settings): said first, so
        // it is not mistaken for a rule about the person that a retry
        // later would pass. Nothing is allowed either way.
        let Some(pool) = self
            .pool_of
            .get(&request.pool)
            .copied()
            .filter(|&p| self.pools[p as usize].known)
        else {
            return Decision::deny(DenyReason::UnknownPool);
        };
        if let Err(denial) = self.destination_may_be_called(request, pool, now) {
            return denial;
        }
        match self.choose(pool, to, request.known_contact, at) {
            Ok(id) => {
                self.reserve(id, to, at);
                Decision::Allow {
                    caller_id: self.slots[id as usize].number,
                }
            }
            Err(frees_at) => {
                let retry = frees_at.and_then(|ms| self.next_legal(to, ms));
                Decision::not_yet(DenyReason::PoolExhausted, retry)
            }
        }
    }

    /// The rules about the person called, in the order the contract gives.
    fn destination_may_be_called(&self, request: &DecideRequest, pool: PoolId, now: Timestamp) -> Result<(), Decision> {
        let to = request.to;
        let at = now.as_millisecond();
        if nanp::judge(to).is_none() {
            return Err(Decision::deny(DenyReason::DestinationInvalid));
        }
        // Both lookups are likely cache misses at scale and neither needs the
        // other: asking the registry first lets the two overlap.
        let listed = self.dnc.contains(to);
        let record = self.destinations.get(&to);
        if record.is_some_and(|d| d.opted_out(at)) {
            return Err(Decision::deny(DenyReason::OptedOut));
        }
        // Only a dated record exempts a call from the registry: a dialer's
        // `known_contact` is a claim, not the purchase or inquiry the law
        // counts (it chooses the caller id and the recovery phases' calls).
        let exempt = self.config.dnc_exemptions && record.is_some_and(|d| d.exempt_from_registry(pool, at));
        if listed && !exempt {
            return Err(Decision::deny(DenyReason::Dnc));
        }
        let requires_consent = self.pools[pool as usize].requires_consent;
        if requires_consent && !record.is_some_and(|d| d.consented(pool, at)) {
            return Err(Decision::deny(DenyReason::NoConsent));
        }
        if record.is_some_and(|d| d.suppressed(at)) {
            return Err(Decision::deny(DenyReason::DestinationInvalid));
        }
        if !self.hours.is_open(to, now) {
            let retry = self.hours.next_open(to, now).map(|t| t.as_millisecond());
            return Err(Decision::not_yet(DenyReason::OutsideCallingHours, retry));
        }
        if let Some(d) = record {
            let limit = self.frequency_limit(to);
            if d.calls_in_day(at) >= limit {
                let retry = self.next_legal(to, d.frequency_frees_at(limit).max(at));
                return Err(Decision::not_yet(DenyReason::DestinationFrequency, retry));
            }
        }
        Ok(())
    }

    /// Calls to one person in 24 hours: our policy, or the state's law if
    /// that is stricter.
    fn frequency_limit(&self, to: E164) -> usize {
        let law = law::rule_for(to)
            .and_then(|rule| rule.max_calls_per_24h)
            .unwrap_or(u32::MAX);
        self.config.destination_calls_per_day.min(law) as usize
    }

    fn next_legal(&self, to: E164, from: i64) -> Option<i64> {
        let from = Timestamp::from_millisecond(from).ok()?;
        self.hours.next_open(to, from).map(|t| t.as_millisecond())
    }

    /// The best ready number for `to`, or when the first one frees up.
    fn choose(&mut self, pool_id: PoolId, to: E164, known: bool, at: i64) -> Result<SlotId, Option<i64>> {
        self.refresh(pool_id, at);
        let pool = &self.pools[pool_id as usize];
        let exchange = to.npa_nxx().unwrap_or(u32::MAX);
        // Numbers that may only call known contacts go first when the person
        // is one: such calls are what their ramp-up or rehabilitation needs.
        let classes: &[Class] = if known {
            &[Class::KnownContactsOnly, Class::Open]
        } else {
            &[Class::Open]
        };
        for &class in classes {
            let ready = &pool.ready[class as usize];
            let local = pool.local_presence.then(|| {
                let area = to.area_code().and_then(|a| ready.by_area_code.get(&a));
                let state = nanp::state_of(to).and_then(|s| ready.by_state.get(s));
                [area, state]
            });
            let tiers = local.into_iter().flatten().flatten().chain([&ready.all]);
            for set in tiers {
                for &(_, _, _, id) in set {
                    let slot = &self.slots[id as usize];
                    // Never a caller id in the destination's own exchange:
                    // that is neighbour spoofing.
                    if slot.exchange == exchange {
                        continue;
                    }
                    let limits = slot.limits(&self.config, at);
                    if limits.known_contacts_only && !known {
                        continue;
                    }
                    if slot.surely_free_at(at) || slot.free_at(at, limits, self.pacing_ms) == Some(at) {
                        return Ok(id);
                    }
                }
            }
        }
        let pool = &self.pools[pool_id as usize];
        if let Some(answer) = pool.exhausted[usize::from(known)].and_then(|e| e.answer(pool.version, exchange, at)) {
            return Err(answer);
        }
        let (result, exhausted) = self.scan_pool(pool_id, exchange, known, at);
        self.pools[pool_id as usize].exhausted[usize::from(known)] = exhausted;
        result
    }

    /// The exact answer when the index has no ready number: every member is
    /// checked against its history. A number free at `at` is used (the index
    /// misses one only when decisions arrive out of time order); otherwise
    /// the first instant any number that could serve this request has room.
    ///
    /// Also returns what the scan found when no member at all had room at
    /// `at`, whatever the neighbour rule, for [`Exhausted::answer`].
    fn scan_pool(
        &self,
        pool_id: PoolId,
        exchange: u32,
        known: bool,
        at: i64,
    ) -> (Result<SlotId, Option<i64>>, Option<Exhausted>) {
        let pool = &self.pools[pool_id as usize];
        let mut best_now: Option<(u8, usize, SlotId)> = None;
        let mut earliest: Option<i64> = None;
        let mut two = EarliestTwo::default();
        for &id in &pool.members {
            let slot = &self.slots[id as usize];
            if !slot.state.may_call() {
                continue;
            }
            let limits = slot.limits(&self.config, at);
            let Some(mut free) = slot.free_at(at, limits, self.pacing_ms) else {
                continue;
            };
            if limits.known_contacts_only && !known {
                // Only a phase change opens it to this person.
                let Some(opens) = limits.changes_at else {
                    continue;
                };
                let later = slot.limits(&self.config, opens);
                if later.known_contacts_only {
                    continue;
                }
                let Some(then) = slot.free_at(free.max(opens), later, self.pacing_ms) else {
                    continue;
                };
                free = then;
            }
            two.offer(free, slot.exchange);
            if slot.exchange == exchange {
                // Never a caller id in the destination's own exchange:
                // that is neighbour spoofing.
                continue;
            }
            if free == at {
                let key = (slot.risk, slot.calls_since(at - DAY_MS), id);
                if best_now.is_none_or(|best| key < best) {
                    best_now = Some(key);
                }
            }
            earliest = Some(earliest.map_or(free, |e| e.min(free)));
        }
        let result = match best_now {
            Some((_, _, id)) => Ok(id),
            None => Err(earliest),
        };
        (result, two.exhausted(pool.version, at))
    }

    /// Moves the numbers whose waiting time has come back to the ready sets.
    fn refresh(&mut self, pool_id: PoolId, at: i64) {
        loop {
            let pool = &mut self.pools[pool_id as usize];
            let Some(&std::cmp::Reverse((until, id, generation))) = pool.waiting.peek() else {
                return;
            };
            if until > at {
                return;
            }
            pool.waiting.pop();
            let slot = &self.slots[id as usize];
            if slot.generation == generation && slot.pool == pool_id {
                self.reindex(id, at);
            }
        }
    }

    fn reserve(&mut self, id: SlotId, to: E164, at: i64) {
        let slot = &mut self.slots[id as usize];
        slot.record_call(at);
        slot.pending.push_back((to, at));
        self.destinations.record(to).record_call(at);
        self.reindex(id, at);
    }

    /// Puts a number where it belongs in its pool's index as of `at`.
    fn reindex(&mut self, id: SlotId, at: i64) {
        let pool_id = self.slots[id as usize].pool as usize;
        let slot = &mut self.slots[id as usize];
        let pool = &mut self.pools[pool_id];
        pool.unindex(slot);
        pool.version += 1;
        slot.generation = slot.generation.wrapping_add(1);
        if !slot.state.may_call() || at == i64::MIN {
            return;
        }
        let limits = slot.limits(&self.config, at);
        let Some(free) = slot.free_at(at, limits, self.pacing_ms) else {
            return;
        };
        let wait_until = if free <= at {
            let class = if limits.known_contacts_only {
                Class::KnownContactsOnly
            } else {
                Class::Open
            };
            let used = slot.calls_since(at - DAY_MS) as u32;
            let last = slot.calls.back().copied().unwrap_or(i64::MIN);
            pool.index_ready(slot, class, (slot.risk, used, last, id));
            slot.ready_at = at;
            // Come back when the phase changes, to move it between classes.
            limits.changes_at
        } else {
            Some(limits.changes_at.map_or(free, |c| c.min(free)))
        };
        let generation = slot.generation;
        if let Some(until) = wait_until {
            self.pools[pool_id].wait(until, id, generation, &self.slots);
        }
    }

    /// Drops every remembered scan of an exhausted pool, so the next
    /// decision scans afresh (tests compare the two).
    #[cfg(test)]
    pub(crate) fn forget_exhausted_scans(&mut self) {
        for pool in &mut self.pools {
            pool.exhausted = [None, None];
        }
    }

    fn pool_id(&mut self, name: &str) -> PoolId {
        if let Some(&id) = self.pool_of.get(name) {
            return id;
        }
        let id = self.pools.len() as PoolId;
        self.pools.push(Pool::new(name, &self.config));
        self.pool_of.insert(name.to_owned(), id);
        id
    }
}

impl std::fmt::Debug for Guard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Guard")
            .field("numbers", &self.slots.len())
            .field("pools", &self.pools.len())
            .field("destinations", &self.destinations.len())
            .field("dnc", &self.dnc)
            .finish()
    }
}
