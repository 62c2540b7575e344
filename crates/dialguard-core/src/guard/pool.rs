//! Pools of caller ids, and the index that finds a number with room at once.
//!
//! Scanning a thousand numbers' call histories on every decision would cost
//! tens of microseconds. Instead each pool keeps its numbers in two places:
//! *ready* ones in ordered sets keyed by preference (lowest risk, then least
//! used in the last 24 h, then longest idle), and *waiting* ones in a heap by
//! the instant they next have room. A decision moves the numbers whose
//! instant has come from the heap to the sets, takes the first ready number
//! that suits the destination, and, once it is reserved, puts it back in the
//! heap. The index only speeds the search up: the chosen number's pacing and
//! caps are always checked exactly against its history before it is used.
//!
//! Ready numbers are kept per class (open to anyone / known contacts only)
//! and, for local presence, also per area code and per state.

use std::cmp::Reverse;
use std::collections::{BTreeSet, BinaryHeap, VecDeque};

use crate::guard::config::GuardConfig;
use crate::guard::destination::{DAY_MS, HOUR_MS, KEPT_MS};
use crate::guard::{FastMap, PoolId, SlotId};
use crate::lifecycle::NumberState;
use crate::number::E164;

const WEEK_MS: i64 = 7 * DAY_MS;

/// A number's limits at one instant, from its state, its phase and any caps
/// the risk engine set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Limits {
    pub hourly: u32,
    pub daily: u32,
    pub known_contacts_only: bool,
    /// When these limits next change by themselves (an aging week ends).
    pub changes_at: Option<i64>,
}

/// One of our numbers, as the guard sees it.
#[derive(Clone, Debug)]
pub(crate) struct Slot {
    pub number: E164,
    pub pool: PoolId,
    pub state: NumberState,
    pub state_since: i64,
    /// 0 (clean) to 100, from the risk engine.
    pub risk: u8,
    /// Hourly and daily caps set for this number, replacing the defaults.
    pub caps: Option<(u32, u32)>,
    /// Outbound calls and reservations, ascending, kept for [`KEPT_MS`]
    /// after the newest.
    pub calls: VecDeque<i64>,
    /// `calls`' newest instant (`i64::MIN` when there is none), kept beside
    /// the rest of the slot: a decision reads it for every candidate, and
    /// the deque's tail is a likely cache miss.
    pub newest_call: i64,
    /// Reservations not yet matched by their call record: (destination,
    /// instant), oldest first.
    pub pending: VecDeque<(E164, i64)>,
    /// Bumped on every re-index; heap entries with an older one are stale.
    pub generation: u32,
    pub indexed: Option<(Class, ReadyKey)>,
    /// The instant it was found free and put in the ready sets.
    pub ready_at: i64,
    pub exchange: u32,
    pub area_code: u16,
    pub us_state: Option<&'static str>,
}

impl Slot {
    pub fn new(number: E164, pool: PoolId, state: NumberState, since: i64) -> Slot {
        Slot {
            number,
            pool,
            state,
            state_since: since,
            risk: 0,
            caps: None,
            calls: VecDeque::new(),
            newest_call: i64::MIN,
            pending: VecDeque::new(),
            generation: 0,
            indexed: None,
            ready_at: i64::MAX,
            exchange: number.npa_nxx().unwrap_or(u32::MAX),
            area_code: number.area_code().unwrap_or(0),
            us_state: crate::nanp::state_of(number),
        }
    }

    pub fn limits(&self, config: &GuardConfig, at: i64) -> Limits {
        let (hourly, daily) = self.caps.unwrap_or((config.hourly_cap, config.daily_cap));
        let (phase_daily, known_contacts_only, changes_at) = match self.state {
            NumberState::Aging => {
                let week = ((at - self.state_since).max(0) / WEEK_MS) as usize;
                let caps = &config.aging.daily_caps_by_week;
                let known_weeks = config.aging.known_contacts_only_weeks as usize;
                let cap = caps.get(week).or(caps.last()).copied().unwrap_or(daily);
                let later_change = week + 1 < caps.len().max(known_weeks);
                let changes_at = later_change.then(|| self.state_since + (week as i64 + 1) * WEEK_MS);
                (cap, week < known_weeks, changes_at)
            }
            NumberState::RehabLimited => (
                config.rehab_limited.daily_cap,
                config.rehab_limited.known_contacts_only,
                None,
            ),
            NumberState::RehabModerate => (
                config.rehab_moderate.daily_cap,
                config.rehab_moderate.known_contacts_only,
                None,
            ),
            _ => (daily, false, None),
        };
        let daily = daily.min(phase_daily);
        Limits {
            hourly: hourly.min(daily),
            daily,
            known_contacts_only,
            changes_at,
        }
    }

    /// Calls later than `after`. The windows asked about are the latest
    /// hour or day of a history that can run longer, so the search starts
    /// from the newest call and widens backwards.
    pub fn calls_since(&self, after: i64) -> usize {
        let (older, newer) = self.calls.as_slices();
        let in_newer = count_after_from_end(newer, after);
        if in_newer < newer.len() {
            in_newer
        } else {
            in_newer + count_after_from_end(older, after)
        }
    }

    /// The first instant at or after `at` when a call fits the pacing gap and
    /// both caps; `None` when no call ever fits (a cap of zero).
    pub fn free_at(&self, at: i64, limits: Limits, pacing_ms: i64) -> Option<i64> {
        if limits.hourly == 0 || limits.daily == 0 {
            return None;
        }
        let n = self.calls.len();
        let mut t = at;
        // Each rule either holds at `t` or names the first instant it could;
        // moving to it never skips a legal instant, so stop when all hold.
        for _ in 0..16 {
            let mut moved = false;
            if let Some(clash) = self.pacing_clash(t, pacing_ms) {
                t = clash + pacing_ms;
                moved = true;
            }
            for (window, cap) in [(HOUR_MS, limits.hourly), (DAY_MS, limits.daily)] {
                let cap = cap as usize;
                if self.calls_since(t - window) >= cap {
                    t = t.max(self.calls[n - cap] + window);
                    moved = true;
                }
            }
            if !moved {
                return Some(t);
            }
        }
        Some(t)
    }

    /// The latest call closer than the pacing gap to `t`, either side.
    fn pacing_clash(&self, t: i64, pacing_ms: i64) -> Option<i64> {
        if pacing_ms <= 0 {
            return None;
        }
        let after = self.calls.len() - self.calls_since(t - pacing_ms);
        let clashes = self.calls.range(after..).take_while(|&&c| c < t + pacing_ms);
        clashes.last().copied()
    }

    pub fn record_call(&mut self, at: i64) {
        if at >= self.newest_call {
            // The usual case, and no search: calls come in time order.
            self.calls.push_back(at);
        } else {
            let position = self.calls.partition_point(|&c| c <= at);
            self.calls.insert(position, at);
        }
        let newest = *self.calls.back().expect("just inserted");
        self.newest_call = newest;
        while self.calls.front().is_some_and(|&c| c <= newest - KEPT_MS) {
            self.calls.pop_front();
        }
        // Reservations whose record never came stop mattering with the calls
        // they stood for.
        while self
            .pending
            .front()
            .is_some_and(|&(_, reserved)| reserved <= newest - KEPT_MS)
        {
            self.pending.pop_front();
        }
    }

    /// Matches a call record to the reservation made for it, if any: the
    /// pending one to the same destination nearest in time. Returns the
    /// reserved instant.
    pub fn take_reservation(&mut self, to: E164, started: i64) -> Option<i64> {
        let (index, _) = self
            .pending
            .iter()
            .enumerate()
            .filter(|(_, (dest, _))| *dest == to)
            .min_by_key(|(_, (_, reserved))| (reserved - started).abs())?;
        self.pending.remove(index).map(|(_, reserved)| reserved)
    }

    /// Found free at `ready_at` with no call after it, a number is still
    /// free at any later instant: gaps only grow and windows only empty.
    /// Otherwise (time went backwards, or a call lies ahead) it must be
    /// checked against its history.
    pub fn surely_free_at(&self, at: i64) -> bool {
        at >= self.ready_at && self.newest_call <= self.ready_at
    }

    pub fn replace_call(&mut self, reserved: i64, placed: i64) {
        if let Some(i) = self.calls.iter().position(|&c| c == reserved) {
            self.calls.remove(i);
        }
        self.record_call(reserved.max(placed));
    }
}

/// Of ascending instants, how many are later than `after` (as
/// `destination::count_after`), found by doubling a step back from the end
/// and then searching only the last step: O(log k) for k counted, touching
/// the newest entries first.
fn count_after_from_end(ascending: &[i64], after: i64) -> usize {
    let n = ascending.len();
    // Every entry at or past `later` is known to be later than `after`.
    let mut later = n;
    let mut step = 1;
    while step <= n && ascending[n - step] > after {
        later = n - step;
        step *= 2;
    }
    let from = (n + 1).saturating_sub(step);
    n - (from + ascending[from..later].partition_point(|&c| c <= after))
}

/// Which requests a ready number may serve.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Class {
    Open = 0,
    KnownContactsOnly = 1,
}

/// Preference order among ready numbers: lowest risk, fewest calls in the
/// last 24 h, longest idle, then the slot for a total order.
pub(crate) type ReadyKey = (u8, u32, i64, SlotId);

/// The ready numbers of one class. The per-area-code and per-state sets
/// are kept only for a pool with local presence.
#[derive(Default, Debug)]
pub(crate) struct Ready {
    pub all: BTreeSet<ReadyKey>,
    pub by_area_code: FastMap<u16, BTreeSet<ReadyKey>>,
    pub by_state: FastMap<&'static str, BTreeSet<ReadyKey>>,
}

impl Ready {
    fn insert(&mut self, key: ReadyKey, slot: &Slot, local: bool) {
        self.all.insert(key);
        if local {
            self.by_area_code.entry(slot.area_code).or_default().insert(key);
            if let Some(state) = slot.us_state {
                self.by_state.entry(state).or_default().insert(key);
            }
        }
    }

    fn remove(&mut self, key: &ReadyKey, slot: &Slot, local: bool) {
        self.all.remove(key);
        if local {
            if let Some(set) = self.by_area_code.get_mut(&slot.area_code) {
                set.remove(key);
            }
            if let Some(set) = slot.us_state.and_then(|s| self.by_state.get_mut(s)) {
                set.remove(key);
            }
        }
    }
}

#[derive(Debug)]
pub(crate) struct Pool {
    pub name: String,
    /// A number was registered in it, or the configuration names it.
    pub known: bool,
    pub requires_consent: bool,
    pub local_presence: bool,
    pub members: Vec<SlotId>,
    pub ready: [Ready; 2],
    /// (instant it has room, slot, generation).
    pub waiting: BinaryHeap<Reverse<(i64, SlotId, u32)>>,
    /// Bumped whenever a member is re-indexed, joins or leaves: a
    /// [`Exhausted`] answer holds only while it is unchanged.
    pub version: u64,
    /// The latest full scan that found no member free, per `known_contact`
    /// (index 0: not known, 1: known).
    pub exhausted: [Option<Exhausted>; 2],
}

/// What a scan of an exhausted pool found, so that the requests that
/// follow it, until a member changes, are answered without scanning again.
/// The earliest instant any member has room, ignoring the neighbour rule,
/// and the earliest among members outside that one's exchange: a request
/// whose destination shares the first one's exchange gets the second.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Exhausted {
    pub version: u64,
    /// When the scan ran.
    pub at: i64,
    pub earliest: i64,
    pub earliest_exchange: u32,
    pub earliest_elsewhere: Option<i64>,
}

impl Exhausted {
    /// The answer for a request at `at` to a destination in `exchange`, if
    /// this scan still holds: nothing changed since, and time has not gone
    /// back before the scan nor reached the first member's room.
    pub fn answer(&self, version: u64, exchange: u32, at: i64) -> Option<Option<i64>> {
        if version != self.version || at < self.at || at >= self.earliest {
            return None;
        }
        Some(if exchange == self.earliest_exchange {
            self.earliest_elsewhere
        } else {
            Some(self.earliest)
        })
    }
}

/// The two earliest instants of room in distinct exchanges, as a scan
/// meets members one by one.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct EarliestTwo {
    first: Option<(i64, u32)>,
    second: Option<i64>,
}

impl EarliestTwo {
    pub fn offer(&mut self, free: i64, exchange: u32) {
        match self.first {
            Some((e, x)) if x == exchange => self.first = Some((e.min(free), x)),
            Some((e, _)) if free < e => {
                // The old first is the least of every other exchange.
                self.second = Some(e);
                self.first = Some((free, exchange));
            }
            Some(_) => self.second = Some(self.second.map_or(free, |s| s.min(free))),
            None => self.first = Some((free, exchange)),
        }
    }

    /// The scan's summary at `at`, when no member at all has room then.
    pub fn exhausted(&self, version: u64, at: i64) -> Option<Exhausted> {
        let (earliest, earliest_exchange) = self.first?;
        (earliest > at).then_some(Exhausted {
            version,
            at,
            earliest,
            earliest_exchange,
            earliest_elsewhere: self.second,
        })
    }
}

impl Pool {
    pub fn new(name: &str, config: &GuardConfig) -> Pool {
        let settings = config.pool(name);
        Pool {
            name: name.to_owned(),
            known: config.pools.contains_key(name),
            requires_consent: settings.requires_consent,
            local_presence: settings.local_presence,
            members: Vec::new(),
            ready: Default::default(),
            waiting: BinaryHeap::new(),
            version: 0,
            exhausted: [None, None],
        }
    }

    pub fn unindex(&mut self, slot: &mut Slot) {
        if let Some((class, key)) = slot.indexed.take() {
            self.ready[class as usize].remove(&key, slot, self.local_presence);
        }
    }

    pub fn index_ready(&mut self, slot: &mut Slot, class: Class, key: ReadyKey) {
        self.ready[class as usize].insert(key, slot, self.local_presence);
        slot.indexed = Some((class, key));
    }

    /// Empties the ready sets (every member must be re-indexed after).
    pub fn clear_ready(&mut self, slots: &mut [Slot]) {
        self.ready = Default::default();
        for &id in &self.members {
            slots[id as usize].indexed = None;
        }
    }

    pub fn wait(&mut self, until: i64, slot: SlotId, generation: u32, slots: &[Slot]) {
        self.waiting.push(Reverse((until, slot, generation)));
        // Replaying a long history pushes an entry per call; drop the stale
        // ones before they outnumber the live ones by much.
        if self.waiting.len() > 4 * self.members.len() + 64 {
            self.waiting
                .retain(|Reverse((_, s, g))| slots[*s as usize].generation == *g);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slot(state: NumberState) -> Slot {
        Slot::new(E164::from_digits_unchecked(14_155_550_100), 0, state, 0)
    }

    #[test]
    fn free_at_waits_for_pacing_then_caps() {
        let config = GuardConfig::default();
        let mut s = slot(NumberState::Active);
        let limits = s.limits(&config, 0);
        assert_eq!((limits.hourly, limits.daily), (30, 150));
        let pacing = 20_000;
        assert_eq!(s.free_at(0, limits, pacing), Some(0));
        s.record_call(0);
        assert_eq!(s.free_at(1, limits, pacing), Some(20_000));
        // Thirty calls 20 s apart fill the hour; the 31st waits for the first
        // to be an hour old.
        for i in 1..30 {
            s.record_call(i * 20_000);
        }
        assert_eq!(s.free_at(30 * 20_000, limits, pacing), Some(HOUR_MS));
        // A call recorded ahead of `at` still holds the gap around it.
        let mut ahead = slot(NumberState::Active);
        ahead.record_call(100_000);
        assert_eq!(ahead.free_at(90_000, limits, pacing), Some(120_000));
    }

    #[test]
    fn phases_lower_the_caps() {
        let config = GuardConfig::default();
        let day = |d: i64| d * DAY_MS;
        let cases: &[(NumberState, i64, u32, bool, Option<i64>)] = &[
            (NumberState::Active, day(0), 150, false, None),
            (NumberState::Watch, day(0), 150, false, None),
            (NumberState::Aging, day(0), 10, true, Some(day(7))),
            (NumberState::Aging, day(6), 10, true, Some(day(7))),
            (NumberState::Aging, day(7), 20, false, Some(day(14))),
            (NumberState::Aging, day(14), 40, false, None),
            (NumberState::Aging, day(60), 40, false, None),
            (NumberState::RehabLimited, day(0), 10, true, None),
            (NumberState::RehabModerate, day(0), 20, false, None),
        ];
        for &(state, at, daily, known_only, changes_at) in cases {
            let limits = slot(state).limits(&config, at);
            assert_eq!(
                (limits.daily, limits.known_contacts_only, limits.changes_at),
                (daily, known_only, changes_at),
                "{state:?} at day {}",
                at / DAY_MS
            );
            assert!(limits.hourly <= limits.daily);
        }
        let mut capped = slot(NumberState::RehabModerate);
        capped.caps = Some((5, 12));
        let limits = capped.limits(&config, 0);
        assert_eq!((limits.hourly, limits.daily), (5, 12));
    }

    #[test]
    fn a_call_record_replaces_its_reservation() {
        let mut s = slot(NumberState::Active);
        let to = E164::from_digits_unchecked(12_125_550_100);
        s.record_call(1_000);
        s.pending.push_back((to, 1_000));
        assert_eq!(
            s.take_reservation(E164::from_digits_unchecked(12_125_550_101), 2_000),
            None
        );
        assert_eq!(s.take_reservation(to, 2_000), Some(1_000));
        s.replace_call(1_000, 2_000);
        assert_eq!(s.calls, VecDeque::from([2_000]));
        assert_eq!(s.take_reservation(to, 2_000), None);
    }

    #[test]
    fn counting_from_the_newest_call_agrees_with_a_search_of_the_whole_history() {
        let mut rng = fastrand::Rng::with_seed(7);
        for _ in 0..2_000 {
            let mut calls: Vec<i64> = (0..rng.usize(0..80)).map(|_| rng.i64(0..500)).collect();
            calls.sort_unstable();
            // A deque that wraps around its buffer, so both halves count.
            let mut s = slot(NumberState::Active);
            s.calls = VecDeque::with_capacity(calls.len());
            for _ in 0..rng.usize(0..=calls.len()) {
                s.calls.push_back(0);
                s.calls.pop_front();
            }
            s.calls.extend(&calls);
            for after in [-1, 0, 499, 500, rng.i64(0..500), rng.i64(0..500)] {
                let expected = crate::guard::destination::count_after(&calls, after);
                assert_eq!(count_after_from_end(&calls, after), expected, "{calls:?} after {after}");
                assert_eq!(s.calls_since(after), expected, "{calls:?} after {after} (deque)");
            }
        }
    }
}
