//! Which calls a tenant's log already holds, answered from memory.
//!
//! The obvious way to deduplicate calls is a `UNIQUE (tenant, source,
//! source_id)` index, and it is slow for the ids most sources use: Twilio
//! sids, FreeSWITCH and Telnyx UUIDs and content hashes are random, so the
//! rows of a 10,000-row batch land on thousands of different index pages,
//! and every one of those pages is written again, to the WAL and then to the
//! file, at every commit. On 1M calls (`examples/ingest_bench.rs`) that index
//! took 75k–120k rows/s where time-ordered ids took 430k rows/s, and it gets
//! slower as the index outgrows the batch.
//!
//! So the calls table has no dedup index. This table maps a hash of (source,
//! source id) to the sequence number of the call stored under it, per
//! tenant. It is filled on the tenant's first append in this process by
//! reading the tenant's calls, and brought up to date at the start of every
//! append (inside the write lock) with the calls other processes appended
//! since. Every hash match is checked against the stored row, so the answer
//! is exact; on a collision the key moves on to the next hash value (linear
//! probing, which stays correct because nothing is ever removed).
//!
//! With it, the same benchmark appends 380k–575k rows/s with random ids. The
//! price is memory, about 16–32 bytes per stored call of each tenant the
//! process appends to (the same order as the per-call history the core keeps
//! after a replay), and one read of the tenant's calls on its first append
//! in a process: about 0.4 s per million stored calls. The hash is keyed per
//! process and never written down, so it is not part of the file format.

use std::collections::HashMap;
use std::hash::{BuildHasher, BuildHasherDefault, Hasher, RandomState};

use rusqlite::{Connection, OptionalExtension};

/// Hash slots of one tenant's calls: slot → sequence number.
pub(super) type Slots = HashMap<u64, i64, BuildHasherDefault<Prehashed>>;

/// The key tables of the tenants this process has appended to.
pub(super) struct CallKeys {
    hasher: RandomState,
    /// The hash bits kept: all of them, except in tests that make ids
    /// collide on purpose.
    mask: u64,
    tenants: HashMap<i64, TenantKeys>,
}

#[derive(Default)]
struct TenantKeys {
    slots: Slots,
    /// Every call of the tenant with a sequence number up to this one is in
    /// `slots`.
    covered_to: i64,
}

/// One append's view of a tenant's keys: the stored ones, and those the
/// batch adds, kept apart until it commits so that a failed batch leaves the
/// table as it was.
pub(super) struct BatchKeys<'k> {
    hasher: &'k RandomState,
    mask: u64,
    tenant: i64,
    stored: &'k Slots,
    pub(super) added: Slots,
}

impl CallKeys {
    pub(super) fn new() -> CallKeys {
        CallKeys::with_hash_bits(64)
    }

    /// Keeps only the low `bits` bits of each hash; with few of them most
    /// ids collide, which tests use to exercise the probing.
    pub(super) fn with_hash_bits(bits: u32) -> CallKeys {
        CallKeys {
            hasher: RandomState::new(),
            mask: u64::MAX.checked_shr(64 - bits).unwrap_or(0),
            tenants: HashMap::new(),
        }
    }

    /// Brings the tenant's table up to `head`, the log's last sequence
    /// number, by reading the calls appended since it was last brought up
    /// to date (all of them the first time), and opens it for a batch. Call
    /// inside the write transaction, so nobody appends in between.
    pub(super) fn for_batch(&mut self, conn: &Connection, tenant: i64, head: i64) -> rusqlite::Result<BatchKeys<'_>> {
        let keys = self.tenants.entry(tenant).or_default();
        if keys.covered_to < head {
            let mut catching_up = BatchKeys {
                hasher: &self.hasher,
                mask: self.mask,
                tenant,
                stored: &keys.slots,
                added: Slots::default(),
            };
            let mut stmt =
                conn.prepare_cached("SELECT seq, source, source_id FROM calls WHERE tenant = ?1 AND seq > ?2")?;
            let mut rows = stmt.query([tenant, keys.covered_to])?;
            while let Some(row) = rows.next()? {
                let source: i64 = row.get(1)?;
                let source_id = row.get_ref(2)?.as_str()?;
                if let Some(slot) = catching_up.free_slot(conn, source, source_id)? {
                    catching_up.added.insert(slot, row.get(0)?);
                }
            }
            let added = catching_up.added;
            if keys.slots.is_empty() {
                keys.slots = added;
            } else {
                keys.slots.extend(added);
            }
            keys.covered_to = head;
        }
        Ok(BatchKeys {
            hasher: &self.hasher,
            mask: self.mask,
            tenant,
            stored: &keys.slots,
            added: Slots::default(),
        })
    }

    /// Makes a committed batch's keys part of the tenant's table.
    pub(super) fn commit(&mut self, tenant: i64, added: Slots, head: i64) {
        let keys = self.tenants.entry(tenant).or_default();
        keys.slots.extend(added);
        keys.covered_to = head;
    }
}

impl BatchKeys<'_> {
    /// The slot a call with this key goes in, or `None` when the tenant
    /// already has it (stored, or earlier in this batch).
    pub(super) fn free_slot(&self, conn: &Connection, source: i64, source_id: &str) -> rusqlite::Result<Option<u64>> {
        let mut slot = self.hasher.hash_one((source, source_id)) & self.mask;
        loop {
            let taken = self.added.get(&slot).or_else(|| self.stored.get(&slot));
            let Some(&seq) = taken else {
                return Ok(Some(slot));
            };
            if stored_key_is(conn, self.tenant, seq, source, source_id)? {
                return Ok(None);
            }
            slot = slot.wrapping_add(1);
        }
    }
}

fn stored_key_is(conn: &Connection, tenant: i64, seq: i64, source: i64, source_id: &str) -> rusqlite::Result<bool> {
    let mut stmt = conn.prepare_cached("SELECT source, source_id FROM calls WHERE tenant = ?1 AND seq = ?2")?;
    let same = stmt
        .query_row([tenant, seq], |row| {
            Ok(row.get::<_, i64>(0)? == source && row.get_ref(1)?.as_str()? == source_id)
        })
        .optional()?;
    Ok(same == Some(true))
}

/// The tables' keys are hashes already: use them as they are.
#[derive(Default)]
pub(super) struct Prehashed(u64);

impl Hasher for Prehashed {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(byte);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}
