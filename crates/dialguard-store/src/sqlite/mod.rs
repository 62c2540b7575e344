//! The default backend: one SQLite file, nothing to install.
//!
//! # Durability
//!
//! The file runs in WAL mode with `synchronous = NORMAL`. A committed
//! [`EventLog::append`] survives the dialguard process crashing or being
//! killed at any point; a power loss or an operating-system crash may drop
//! the last transactions committed before it (never part of one, and never
//! older data), because commits reach the disk at checkpoints rather than
//! one `fsync` per batch. Re-importing the same files puts back whatever was
//! dropped, since calls and complaints are deduplicated. `FULL` would fsync
//! every commit; for a log fed by re-importable files the trade is not worth
//! it.
//!
//! One process writes at a time (SQLite's write lock); a second writer waits
//! up to the busy timeout, then gets [`StoreError::Locked`]. Readers never
//! wait.
//!
//! # Speed
//!
//! `examples/ingest_bench.rs` on 1M Twilio-like calls (random sids) in
//! batches of 10,000, release build, 2 shared cores: append 380k–575k rows/s,
//! re-import of the same calls (all duplicates) 600k–1M rows/s, replay
//! 1.7M–3.1M rows/s; 98 bytes a call on disk. See `schema` for the layout
//! and `call_keys` for the deduplication that makes random ids as fast as
//! ordered ones.

mod call_keys;
mod schema;
pub mod wal;

use std::path::Path;
use std::time::Duration;

use dialguard_core::Event;
use rusqlite::{Connection, ErrorCode, OptionalExtension, Transaction, TransactionBehavior, params};

use crate::codec::{self, CallColumns};
use crate::error::{Classify, Doing};
use crate::storable::nanos;
use crate::{Appended, EventLog, StoreError};
use call_keys::{CallKeys, Slots};

/// Set, the log opens even with a damaged write-ahead log, without the
/// frames after the damage (SQLite's own behaviour).
pub const ACCEPT_WAL_DAMAGE: &str = "DIALGUARD_ACCEPT_WAL_DAMAGE";

/// How long a writer waits for another process's transaction by default.
const DEFAULT_BUSY_TIMEOUT: Duration = Duration::from_secs(5);

const INSERT_CALL: &str = "INSERT INTO calls (seq, tenant, source, source_id, from_number, \
     to_number, direction, started_ns, answered_ns, ended_ns, talk_seconds, outcome, cause) \
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)";

const INSERT_EVENT: &str = "INSERT INTO events (seq, tenant, kind, at_ns, source, source_id, \
     payload) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT DO NOTHING";

/// The event log in one SQLite file (or in memory, for tests and one-shot
/// runs).
///
/// A handle that appends keeps the ids of the calls of each tenant it has
/// appended to in memory (16–32 bytes a call, read from the file on the
/// tenant's first append); one that only replays and counts keeps nothing.
pub struct SqliteLog {
    conn: Connection,
    keys: CallKeys,
    /// Where the log lives, for error messages.
    db: String,
}

impl SqliteLog {
    /// Opens the log at `path`, creating the file and its schema if it does
    /// not exist and migrating it if an older dialguard wrote it.
    pub fn open(path: &Path) -> Result<SqliteLog, StoreError> {
        let db = path.display().to_string();
        // Before SQLite reads the WAL and drops what follows a damaged frame.
        if std::env::var_os(ACCEPT_WAL_DAMAGE).is_none()
            && let Some(damage) = wal::check(path).map_err(|e| StoreError::Open {
                db: db.clone(),
                source: Box::new(e),
            })?
        {
            return Err(StoreError::WalDamaged {
                wal: format!("{db}-wal"),
                frame: damage.frame,
                frames: damage.frames,
                later: damage.later,
            });
        }
        let conn = Connection::open(path).map_err(|e| opening_error(&db, e))?;
        SqliteLog::prepare(conn, db)
    }

    /// A log that lives in memory and is gone when dropped.
    pub fn open_in_memory() -> Result<SqliteLog, StoreError> {
        let db = ":memory:".to_owned();
        let conn = Connection::open_in_memory().map_err(|e| opening_error(&db, e))?;
        SqliteLog::prepare(conn, db)
    }

    fn prepare(conn: Connection, db: String) -> Result<SqliteLog, StoreError> {
        SqliteLog::prepare_with(conn, db, CallKeys::new())
    }

    fn prepare_with(mut conn: Connection, db: String, keys: CallKeys) -> Result<SqliteLog, StoreError> {
        conn.busy_timeout(DEFAULT_BUSY_TIMEOUT)
            .doing(&db, "setting the busy timeout")?;
        schema::prepare(&mut conn, &db)?;
        // Only now that the file is known to be ours: WAL is recorded in the
        // file itself.
        let _mode: String = conn
            .query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))
            .doing(&db, "switching to write-ahead logging")?;
        conn.pragma_update(None, "synchronous", "NORMAL")
            .doing(&db, "setting the sync mode")?;
        Ok(SqliteLog { conn, keys, db })
    }

    /// How long an append waits for another process's write before giving
    /// up with [`StoreError::Locked`] (5 s unless changed).
    pub fn set_busy_timeout(&mut self, timeout: Duration) -> Result<(), StoreError> {
        self.conn
            .busy_timeout(timeout)
            .doing(&self.db, "setting the busy timeout")
    }

    /// The schema version this build writes (`PRAGMA user_version`).
    pub const SCHEMA_VERSION: u32 = schema::LATEST_VERSION;
}

impl EventLog for SqliteLog {
    fn append(&mut self, tenant: &str, events: &[Event]) -> Result<Appended, StoreError> {
        crate::storable::check_batch(events)?;
        let db = &self.db;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .doing(db, "starting a write")?;
        let (appended, written) = write_batch(&tx, &mut self.keys, db, tenant, events)?;
        tx.commit().doing(db, "committing a batch")?;
        self.keys.commit(written.tenant, written.keys, written.head);
        Ok(appended)
    }

    fn replay(&self, tenant: &str, after_seq: u64, sink: &mut dyn FnMut(u64, Event)) -> Result<u64, StoreError> {
        let db = &self.db;
        // One read transaction, so both tables come from the same snapshot
        // even while another process appends.
        let tx = self.conn.unchecked_transaction().doing(db, "starting a read")?;
        let Some(tenant_id) = find_tenant(&tx, db, tenant)? else {
            return Ok(after_seq);
        };
        let after = i64::try_from(after_seq).unwrap_or(i64::MAX);
        let mut calls_stmt = tx
            .prepare_cached(&format!(
                "SELECT {CALL_COLUMNS} FROM calls WHERE tenant = ?1 AND seq > ?2 ORDER BY seq"
            ))
            .doing(db, "reading calls")?;
        let mut others_stmt = tx
            .prepare_cached("SELECT seq, payload FROM events WHERE tenant = ?1 AND seq > ?2 ORDER BY seq")
            .doing(db, "reading events")?;
        let mut calls = Merge::new(calls_stmt.query(params![tenant_id, after]), db, "reading calls")?;
        let mut others = Merge::new(others_stmt.query(params![tenant_id, after]), db, "reading events")?;

        let mut last = after_seq;
        let mut next_call = calls.next_call()?;
        let mut next_other = others.next_other()?;
        loop {
            match (next_call.take(), next_other.take()) {
                (Some((seq, call)), other) if other.as_ref().is_none_or(|(o, _)| seq < *o) => {
                    next_other = other;
                    sink(seq, Event::Call(call));
                    last = seq;
                    next_call = calls.next_call()?;
                }
                (call, Some((seq, event))) => {
                    next_call = call;
                    sink(seq, event);
                    last = seq;
                    next_other = others.next_other()?;
                }
                _ => break,
            }
        }
        Ok(last)
    }

    fn count(&self, tenant: &str) -> Result<u64, StoreError> {
        let db = &self.db;
        let tx = self.conn.unchecked_transaction().doing(db, "starting a read")?;
        let Some(tenant_id) = find_tenant(&tx, db, tenant)? else {
            return Ok(0);
        };
        let count: i64 = tx
            .prepare_cached(
                "SELECT (SELECT count(*) FROM calls WHERE tenant = ?1) \
                      + (SELECT count(*) FROM events WHERE tenant = ?1)",
            )
            .and_then(|mut stmt| stmt.query_row([tenant_id], |row| row.get(0)))
            .doing(db, "counting events")?;
        Ok(u64::try_from(count).unwrap_or_default())
    }

    fn cursor(&self, tenant: &str, name: &str) -> Result<Option<u64>, StoreError> {
        let db = &self.db;
        let Some(tenant_id) = find_tenant(&self.conn, db, tenant)? else {
            return Ok(None);
        };
        let seq: Option<i64> = self
            .conn
            .prepare_cached("SELECT seq FROM cursors WHERE tenant = ?1 AND name = ?2")
            .and_then(|mut stmt| stmt.query_row(params![tenant_id, name], |row| row.get(0)).optional())
            .doing(db, "reading a cursor")?;
        Ok(seq.map(|seq| u64::try_from(seq).unwrap_or_default()))
    }

    fn set_cursor(&mut self, tenant: &str, name: &str, seq: u64) -> Result<(), StoreError> {
        let db = &self.db;
        let tenant_id = tenant_id_creating(&self.conn, db, tenant)?;
        let seq = i64::try_from(seq).unwrap_or(i64::MAX);
        self.conn
            .prepare_cached(
                "INSERT INTO cursors (tenant, name, seq) VALUES (?1, ?2, ?3) \
                 ON CONFLICT (tenant, name) DO UPDATE SET seq = max(seq, excluded.seq)",
            )
            .and_then(|mut stmt| stmt.execute(params![tenant_id, name, seq]))
            .doing(db, "saving a cursor")?;
        Ok(())
    }
}

/// What a batch leaves for the key table once it has committed.
struct Written {
    tenant: i64,
    keys: Slots,
    head: i64,
}

/// Writes every event of a batch inside `tx`, numbering the accepted ones.
fn write_batch(
    tx: &Transaction<'_>,
    keys: &mut CallKeys,
    db: &str,
    tenant: &str,
    events: &[Event],
) -> Result<(Appended, Written), StoreError> {
    let tenant_id = tenant_id_creating(tx, db, tenant)?;
    let head: i64 = tx
        .query_row("SELECT last_seq FROM log_head", [], |row| row.get(0))
        .doing(db, "reading the sequence")?;
    let mut keys = keys
        .for_batch(tx, tenant_id, head)
        .doing(db, "reading the tenant's call ids")?;
    let mut insert_call = tx.prepare_cached(INSERT_CALL).doing(db, "writing calls")?;
    let mut insert_event = tx.prepare_cached(INSERT_EVENT).doing(db, "writing events")?;

    let mut seq = head;
    let mut appended = Appended::default();
    for (index, event) in events.iter().enumerate() {
        let unstorable = |reason| StoreError::Unstorable {
            index,
            kind: event.kind(),
            reason,
        };
        let next = seq + 1;
        let accepted = match event {
            Event::Call(call) => {
                let c = codec::encode(call).map_err(unstorable)?;
                let slot = keys
                    .free_slot(tx, c.source, c.source_id)
                    .doing(db, "looking up a call id")?;
                if let Some(slot) = slot {
                    insert_call
                        .execute(params![
                            next,
                            tenant_id,
                            c.source,
                            c.source_id,
                            c.from,
                            c.to,
                            c.direction,
                            c.started_ns,
                            c.answered_ns,
                            c.ended_ns,
                            c.talk_seconds,
                            c.outcome,
                            c.cause,
                        ])
                        .doing(db, "writing a call")?;
                    keys.added.insert(slot, next);
                }
                slot.is_some()
            }
            other => {
                let payload = codec::encode_payload(other, db)?;
                let (source, source_id) = other.dedup_key().unzip();
                let at = nanos(other.at(), "at").map_err(unstorable)?;
                let inserted = insert_event
                    .execute(params![next, tenant_id, other.kind(), at, source, source_id, payload])
                    .doing(db, "writing an event")?;
                // 0 when the unique index already holds the key.
                inserted == 1
            }
        };
        if accepted {
            seq = next;
            appended.accepted += 1;
        } else {
            appended.duplicates += 1;
        }
    }
    if seq != head {
        tx.execute("UPDATE log_head SET last_seq = ?1", [seq])
            .doing(db, "advancing the sequence")?;
    }
    appended.last_seq = u64::try_from(seq).unwrap_or_default();
    let written = Written {
        tenant: tenant_id,
        keys: keys.added,
        head: seq,
    };
    Ok((appended, written))
}

fn find_tenant(conn: &Connection, db: &str, tenant: &str) -> Result<Option<i64>, StoreError> {
    conn.prepare_cached("SELECT id FROM tenants WHERE name = ?1")
        .and_then(|mut stmt| stmt.query_row([tenant], |row| row.get(0)).optional())
        .doing(db, "looking up the tenant")
}

fn tenant_id_creating(conn: &Connection, db: &str, tenant: &str) -> Result<i64, StoreError> {
    if let Some(id) = find_tenant(conn, db, tenant)? {
        return Ok(id);
    }
    conn.execute("INSERT INTO tenants (name) VALUES (?1)", [tenant])
        .doing(db, "adding the tenant")?;
    Ok(conn.last_insert_rowid())
}

/// One side of a replay's merge: the rows of one table, in `seq` order.
struct Merge<'stmt, 'a> {
    rows: rusqlite::Rows<'stmt>,
    db: &'a str,
}

impl<'stmt, 'a> Merge<'stmt, 'a> {
    fn new(
        rows: rusqlite::Result<rusqlite::Rows<'stmt>>,
        db: &'a str,
        reading: &'static str,
    ) -> Result<Self, StoreError> {
        Ok(Merge {
            rows: rows.doing(db, reading)?,
            db,
        })
    }

    fn next_call(&mut self) -> Result<Option<(u64, dialguard_core::Call)>, StoreError> {
        let db = self.db;
        let Some(row) = self.rows.next().doing(db, "reading calls")? else {
            return Ok(None);
        };
        let seq = seq_of(row, db)?;
        let call = read_call(row).map_err(|reason| StoreError::unreadable(db, seq, reason))?;
        Ok(Some((seq, call)))
    }

    fn next_other(&mut self) -> Result<Option<(u64, Event)>, StoreError> {
        let db = self.db;
        let Some(row) = self.rows.next().doing(db, "reading events")? else {
            return Ok(None);
        };
        let seq = seq_of(row, db)?;
        let payload = row
            .get_ref(1)
            .and_then(|value| Ok(value.as_str()?))
            .map_err(|e| StoreError::unreadable(db, seq, format!("column payload: {e}")))?;
        let event = codec::decode_payload(payload).map_err(|reason| StoreError::unreadable(db, seq, reason))?;
        Ok(Some((seq, event)))
    }
}

/// The `SELECT` list [`read_call`] reads, `seq` first.
const CALL_COLUMNS: &str = "seq, source, source_id, from_number, to_number, \
     direction, started_ns, answered_ns, ended_ns, talk_seconds, outcome, cause";

/// Reads a row selected with [`CALL_COLUMNS`] (after `seq`).
fn read_call(row: &rusqlite::Row<'_>) -> Result<dialguard_core::Call, String> {
    fn get<T: rusqlite::types::FromSql>(row: &rusqlite::Row<'_>, index: usize, name: &str) -> Result<T, String> {
        row.get(index).map_err(|e| format!("column {name}: {e}"))
    }
    codec::decode(CallColumns {
        source: get(row, 1, "source")?,
        source_id: get(row, 2, "source_id")?,
        from: get(row, 3, "from_number")?,
        to: get(row, 4, "to_number")?,
        direction: get(row, 5, "direction")?,
        started_ns: get(row, 6, "started_ns")?,
        answered_ns: get(row, 7, "answered_ns")?,
        ended_ns: get(row, 8, "ended_ns")?,
        talk_seconds: get(row, 9, "talk_seconds")?,
        outcome: get(row, 10, "outcome")?,
        cause: get(row, 11, "cause")?,
    })
}

fn seq_of(row: &rusqlite::Row<'_>, db: &str) -> Result<u64, StoreError> {
    let seq: i64 = row.get(0).doing(db, "reading a sequence number")?;
    u64::try_from(seq).map_err(|_| StoreError::unreadable(db, 0, format!("negative sequence number {seq}")))
}

impl Classify for rusqlite::Error {
    fn classify(self, db: &str, doing: &'static str) -> StoreError {
        classify(db, doing, self)
    }
}

fn classify(db: &str, doing: &'static str, error: rusqlite::Error) -> StoreError {
    let db = db.to_owned();
    match error.sqlite_error_code() {
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => StoreError::Locked { db },
        Some(ErrorCode::NotADatabase) => StoreError::NotDialguard {
            db,
            detail: "not an SQLite file".to_owned(),
        },
        Some(ErrorCode::DatabaseCorrupt) => StoreError::Damaged {
            db,
            source: error.into(),
        },
        Some(ErrorCode::DiskFull) => StoreError::DiskFull { db },
        Some(ErrorCode::ReadOnly) => StoreError::ReadOnly {
            db,
            source: error.into(),
        },
        Some(ErrorCode::CannotOpen | ErrorCode::PermissionDenied) => StoreError::Open {
            db,
            source: error.into(),
        },
        _ => StoreError::Backend {
            db,
            doing,
            source: error.into(),
        },
    }
}

fn opening_error(db: &str, error: rusqlite::Error) -> StoreError {
    match classify(db, "opening", error) {
        StoreError::Backend { db, source, .. } => StoreError::Open { db, source },
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Logs whose id hashes keep 2 bits, so nearly every call id collides
    /// with another and deduplication rests on the probing.
    mod colliding_ids {
        use super::*;

        fn colliding(path: &Path) -> Box<dyn EventLog> {
            let conn = Connection::open(path).unwrap();
            let db = path.display().to_string();
            Box::new(SqliteLog::prepare_with(conn, db, CallKeys::with_hash_bits(2)).unwrap())
        }

        fn fresh_store() -> impl FnMut() -> Box<dyn EventLog> {
            let dir = tempfile::tempdir().unwrap();
            move || colliding(&dir.path().join("log.db"))
        }

        crate::event_log_conformance!(durable, fresh_store());

        #[test]
        fn hundreds_of_ids_in_four_slots_are_told_apart() {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("log.db");
            let batch = crate::conformance::workload_batch(0, 300);
            let mut log = colliding(&path);
            assert_eq!(log.append("acme", &batch).unwrap().accepted, 300);
            assert_eq!(log.append("acme", &batch).unwrap().duplicates, 300);
            // A new handle rebuilds its table from the file.
            let mut reopened = colliding(&path);
            assert_eq!(reopened.append("acme", &batch).unwrap().duplicates, 300);
            assert_eq!(reopened.count("acme").unwrap(), 300);
        }
    }
}
