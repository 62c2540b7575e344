//! What the guard remembers about each person it may call: opt-out, consents,
//! whether the number came back invalid, and our recent calls to it.
//!
//! One record per destination, so the decide path pays one hash lookup for
//! all the person-level rules. Instants are milliseconds since the Unix epoch
//! ([`NEVER`] for "not recorded"): half the size of a `Timestamp`, which
//! matters at ten million destinations.

use std::hash::BuildHasher;

use foldhash::fast::FixedState;
use hashbrown::HashTable;
use smallvec::SmallVec;

use crate::E164;
use crate::guard::PoolId;

/// The instant of something that has not happened.
pub(crate) const NEVER: i64 = i64::MAX;

pub(crate) const HOUR_MS: i64 = 3_600_000;
pub(crate) const DAY_MS: i64 = 24 * HOUR_MS;

/// How long a call stays in a history: the 24 hours every limit looks back
/// over, plus an hour so that a decision arriving up to an hour out of time
/// order (dialers send their own `at`) still sees every call it should.
pub(crate) const KEPT_MS: i64 = DAY_MS + HOUR_MS;

/// Counts calls "after" a moment: of ascending instants, those later than
/// `after`. Instants later than the moment being judged count too, so a call
/// record from a dialer whose clock runs ahead is never ignored.
pub(crate) fn count_after(ascending: &[i64], after: i64) -> usize {
    ascending.len() - ascending.partition_point(|&c| c <= after)
}

/// A consent for one pool, or a dated relationship, and the span it counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Grant {
    /// `None`: every pool.
    pub pool: Option<PoolId>,
    /// Written consent (otherwise an established business relationship,
    /// which exempts from the registry but is not consent).
    pub written: bool,
    pub from: i64,
    pub until: i64,
}

#[derive(Clone, Debug)]
pub(crate) struct Destination {
    pub opted_out_at: i64,
    /// A call to it ended `invalid_destination` (unallocated, disconnected).
    pub suppressed_at: i64,
    /// Written consent for every pool.
    pub consent_all_at: i64,
    /// Consents for single pools and established relationships: rare, so
    /// kept out of line.
    pub grants: Option<Box<[Grant]>>,
    /// Our outbound calls and reservations to it, ascending, kept for
    /// [`KEPT_MS`] after the newest.
    pub calls: SmallVec<[i64; 3]>,
}

impl Default for Destination {
    fn default() -> Self {
        Destination {
            opted_out_at: NEVER,
            suppressed_at: NEVER,
            consent_all_at: NEVER,
            grants: None,
            calls: SmallVec::new(),
        }
    }
}

impl Destination {
    pub fn opted_out(&self, at: i64) -> bool {
        self.opted_out_at <= at
    }

    pub fn suppressed(&self, at: i64) -> bool {
        self.suppressed_at <= at
    }

    /// Says nothing a rule could read at or after `after`: no opt-out, no
    /// suppression, no consent or relationship, and no call a day's count
    /// from then could reach. Such a record answers every question as a
    /// missing one does, so it can be forgotten.
    pub fn idle_since(&self, after: i64) -> bool {
        self.opted_out_at == NEVER
            && self.suppressed_at == NEVER
            && self.consent_all_at == NEVER
            && self.grants.is_none()
            && self.calls.last().is_none_or(|&newest| newest <= after)
    }

    /// Written consent recorded at or before `at`, for every pool or for
    /// this one: what a pool that requires consent asks for.
    pub fn consented(&self, pool: PoolId, at: i64) -> bool {
        self.consent_all_at <= at || self.granted(pool, at, |g| g.written)
    }

    /// Written consent, or an established relationship still in its months
    /// at `at`: the exemptions from the national registry.
    pub fn exempt_from_registry(&self, pool: PoolId, at: i64) -> bool {
        self.consent_all_at <= at || self.granted(pool, at, |_| true)
    }

    fn granted(&self, pool: PoolId, at: i64, kind: impl Fn(&Grant) -> bool) -> bool {
        self.grants.as_ref().is_some_and(|list| {
            list.iter()
                .any(|g| kind(g) && g.pool.is_none_or(|p| p == pool) && g.from <= at && at < g.until)
        })
    }

    /// A consent or relationship for `pool` (every pool when `None`) from
    /// `from` until `until` ([`NEVER`] when it does not expire).
    pub fn record_consent(&mut self, pool: Option<PoolId>, written: bool, from: i64, until: i64) {
        if written && pool.is_none() {
            self.consent_all_at = self.consent_all_at.min(from);
            return;
        }
        let mut list = self.grants.take().map(Vec::from).unwrap_or_default();
        let same = |g: &&mut Grant| g.pool == pool && g.written == written && g.until == until;
        match list.iter_mut().find(same) {
            Some(g) => g.from = g.from.min(from),
            None => list.push(Grant {
                pool,
                written,
                from,
                until,
            }),
        }
        self.grants = Some(list.into_boxed_slice());
    }

    /// Calls in the 24 hours before `at` (and any recorded after it).
    pub fn calls_in_day(&self, at: i64) -> usize {
        count_after(&self.calls, at - DAY_MS)
    }

    /// When the calls counted at `at` fall to `limit - 1`, so one more fits.
    pub fn frequency_frees_at(&self, limit: usize) -> i64 {
        match self.calls.len().checked_sub(limit) {
            Some(i) => self.calls[i] + DAY_MS,
            None => i64::MIN,
        }
    }

    pub fn record_call(&mut self, at: i64) {
        let position = self.calls.partition_point(|&c| c <= at);
        self.calls.insert(position, at);
        let newest = *self.calls.last().expect("just inserted");
        let stale = self.calls.partition_point(|&c| c <= newest - KEPT_MS);
        if stale > 0 {
            self.calls.drain(..stale);
        }
    }

    /// A call record took the place of the reservation made for it: keep the
    /// later instant, so the record never shortens a wait.
    pub fn replace_call(&mut self, reserved: i64, placed: i64) {
        if let Some(i) = self.calls.iter().position(|&c| c == reserved) {
            self.calls.remove(i);
        }
        self.record_call(reserved.max(placed));
    }
}

/// How many tables [`Destinations`] splits its records over, as a power of two.
const SHARD_BITS: u32 = 6;

/// Every destination's record, split over `2^SHARD_BITS` hash tables by
/// number.
///
/// A hash table grows by doubling, moving every record at once while the
/// decision that triggered it waits: at half a million destinations that
/// was a 100 ms stall of the whole dial path under the engine's lock, at ten
/// million it would be seconds. Split, a table that grows holds 1/64 of the
/// records, so the worst insert costs that fraction. At ten million
/// destinations each table is still about 20 MB, large enough to sit on
/// 2 MB pages whole ([`crate::huge_pages`]).
pub(crate) struct Destinations {
    shards: Box<[HashTable<(E164, Destination)>]>,
}

impl Default for Destinations {
    fn default() -> Self {
        Destinations {
            shards: (0..1 << SHARD_BITS).map(|_| HashTable::new()).collect(),
        }
    }
}

impl Destinations {
    /// One hash picks both the table and the place in it. The table takes
    /// bits from the middle: the tables index with the low bits and tag
    /// entries with the top seven.
    fn hash(to: E164) -> u64 {
        FixedState::default().hash_one(to)
    }

    fn shard(hash: u64) -> usize {
        (hash >> 40) as usize & ((1 << SHARD_BITS) - 1)
    }

    pub fn get(&self, to: &E164) -> Option<&Destination> {
        let hash = Self::hash(*to);
        self.shards[Self::shard(hash)]
            .find(hash, |(number, _)| number == to)
            .map(|(_, record)| record)
    }

    /// The record of `to`, created empty if there is none.
    pub fn record(&mut self, to: E164) -> &mut Destination {
        let hash = Self::hash(to);
        let (_, record) = self.shards[Self::shard(hash)]
            .entry(hash, |(number, _)| *number == to, |(number, _)| Self::hash(*number))
            .or_insert_with(|| (to, Destination::default()))
            .into_mut();
        record
    }

    pub fn len(&self) -> usize {
        self.shards.iter().map(HashTable::len).sum()
    }

    /// How many tables there are, for a sweep that visits one at a time.
    pub fn tables(&self) -> usize {
        self.shards.len()
    }

    /// Forgets the records of table `table` idle since `after` (see
    /// [`Destination::idle_since`]), and gives back the table's room when
    /// it is left under a quarter full. Returns how many were forgotten.
    ///
    /// Without it every person ever called keeps a record: a list of ten
    /// million people called over a month would hold about a gigabyte,
    /// where the rules only need the last day's calls and the flags.
    pub fn forget_idle(&mut self, table: usize, after: i64) -> usize {
        let shard = &mut self.shards[table];
        let before = shard.len();
        shard.retain(|(_, record)| !record.idle_since(after));
        let forgotten = before - shard.len();
        if shard.capacity() > 4 * shard.len() + 1024 {
            shard.shrink_to(2 * shard.len(), |(number, _)| Self::hash(*number));
        }
        forgotten
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn destinations_spread_consecutive_numbers_over_every_table() {
        let mut all = Destinations::default();
        let first = 12_125_550_000u64;
        let count = 1u64 << (SHARD_BITS + 6); // 64 a table on average
        for n in first..first + count {
            all.record(E164::from_digits_unchecked(n)).record_call(n as i64);
        }
        assert_eq!(all.len(), count as usize);
        let sizes: Vec<usize> = all.shards.iter().map(HashTable::len).collect();
        let (least, most) = (sizes.iter().min().unwrap(), sizes.iter().max().unwrap());
        assert!(*least >= 32 && *most <= 128, "tables hold {least} to {most} records");
        for n in first..first + count {
            let d = all.get(&E164::from_digits_unchecked(n)).expect("recorded");
            assert_eq!(d.calls.as_slice(), &[n as i64]);
        }
        assert!(all.get(&E164::from_digits_unchecked(first + count)).is_none());
        // A second record for a number adds to it, not beside it.
        all.record(E164::from_digits_unchecked(first))
            .record_call(first as i64 + 1);
        assert_eq!(all.len(), count as usize);
        assert_eq!(all.get(&E164::from_digits_unchecked(first)).unwrap().calls.len(), 2);
    }

    #[test]
    fn consent_counts_from_its_instant_and_for_its_pool() {
        let mut d = Destination::default();
        d.record_consent(Some(3), true, 1_000, NEVER);
        assert!(!d.consented(3, 999));
        assert!(d.consented(3, 1_000));
        assert!(!d.consented(4, 5_000));
        d.record_consent(None, true, 2_000, NEVER);
        assert!(d.consented(4, 2_000));
        d.record_consent(Some(3), true, 500, NEVER);
        assert!(d.consented(3, 500));
    }

    #[test]
    fn a_relationship_exempts_from_the_registry_for_its_span_and_is_not_consent() {
        let mut d = Destination::default();
        d.record_consent(None, false, 1_000, 9_000);
        assert!(!d.exempt_from_registry(1, 999));
        assert!(d.exempt_from_registry(1, 1_000));
        assert!(d.exempt_from_registry(1, 8_999));
        assert!(!d.exempt_from_registry(1, 9_000));
        assert!(!d.consented(1, 5_000), "a relationship is not consent");
        // A newer purchase starts a new span beside the old one.
        d.record_consent(None, false, 20_000, 29_000);
        assert!(!d.exempt_from_registry(1, 10_000));
        assert!(d.exempt_from_registry(1, 25_000));
        // Written consent exempts and does not expire.
        d.record_consent(Some(2), true, 30_000, NEVER);
        assert!(d.exempt_from_registry(2, i64::MAX - 1) && d.consented(2, 40_000));
        assert!(!d.exempt_from_registry(1, 40_000));
    }

    #[test]
    fn calls_older_than_a_day_stop_counting() {
        let mut d = Destination::default();
        for at in [0, HOUR_MS, 2 * HOUR_MS] {
            d.record_call(at);
        }
        assert_eq!(d.calls_in_day(2 * HOUR_MS), 3);
        assert_eq!(d.calls_in_day(DAY_MS), 2);
        assert_eq!(d.frequency_frees_at(2), HOUR_MS + DAY_MS);
        assert_eq!(d.frequency_frees_at(3), DAY_MS);
        assert_eq!(d.frequency_frees_at(4), i64::MIN);
        // Kept an hour past the day, for decisions that arrive late.
        let later = DAY_MS + HOUR_MS + HOUR_MS / 2;
        d.record_call(later);
        assert_eq!(d.calls.as_slice(), &[HOUR_MS, 2 * HOUR_MS, later]);
        assert_eq!(d.calls_in_day(later), 2);
        d.record_call(later + HOUR_MS);
        assert_eq!(d.calls.as_slice(), &[2 * HOUR_MS, later, later + HOUR_MS]);
        d.replace_call(later, later + 5_000);
        assert_eq!(d.calls.as_slice(), &[2 * HOUR_MS, later + 5_000, later + HOUR_MS]);
    }
}
