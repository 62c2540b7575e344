//! The SQLite file format: how a file is recognised, and its migrations.
//!
//! A dialguard database carries `PRAGMA application_id` = [`APPLICATION_ID`]
//! and `PRAGMA user_version` = the number of [`MIGRATIONS`] applied. Opening
//! checks both before changing anything, so pointing `--db` at someone
//! else's SQLite file (or at a text file) is an error and leaves the file
//! untouched. Later versions append to [`MIGRATIONS`]; a released migration
//! is never edited.
//!
//! # Layout, and why
//!
//! Calls are nearly every event and imports bring millions of them, so they
//! get their own table of integer columns (see the crate's `codec`):
//! numbers as digits, instants as nanoseconds, enums as small codes, about
//! 100 bytes a call on disk. The table is `WITHOUT ROWID` with the key
//! `(tenant, seq)`, so a tenant's calls sit together in log order: an
//! append writes at the end of the tenant's range, and a replay or a count
//! reads one range, with no second index to keep up or to look rows up
//! through.
//!
//! There is no unique index on a call's source id: deduplication is done
//! against an in-memory table of ids (see `call_keys` for why and what it
//! costs). Other kinds are rare and varied, so they are JSON in a generic
//! `events` table, with a `UNIQUE (tenant, kind, source, source_id)` index
//! (NULL keys never conflict) doing complaints' deduplication. Both tables
//! draw `seq` from one counter, `log_head`, and a replay merges them by
//! `seq`. JSON costs on replay: numbers in it are parsed again (`E164`'s
//! serde form is text), so complaints replay at a quarter of the speed of
//! calls.
//!
//! Tenants are named in a small `tenants` table and rows carry its integer
//! id.

use rusqlite::{Connection, OptionalExtension, TransactionBehavior};

use crate::StoreError;
use crate::error::Doing;

/// "DGLG": marks a file as a dialguard log.
const APPLICATION_ID: i32 = 0x4447_4c47;

/// Each entry moves the schema one version up; the index + 1 is the version.
const MIGRATIONS: &[&str] = &[
    // 1: the log.
    "CREATE TABLE tenants (
         id INTEGER PRIMARY KEY,
         name TEXT NOT NULL UNIQUE
     ) STRICT;

     CREATE TABLE log_head (last_seq INTEGER NOT NULL) STRICT;
     INSERT INTO log_head (last_seq) VALUES (0);

     CREATE TABLE calls (
         seq INTEGER NOT NULL,
         tenant INTEGER NOT NULL,
         source INTEGER NOT NULL,
         source_id TEXT NOT NULL,
         from_number INTEGER NOT NULL,
         to_number INTEGER NOT NULL,
         direction INTEGER NOT NULL,
         started_ns INTEGER NOT NULL,
         answered_ns INTEGER,
         ended_ns INTEGER NOT NULL,
         talk_seconds INTEGER NOT NULL,
         outcome INTEGER NOT NULL,
         cause INTEGER NOT NULL,
         PRIMARY KEY (tenant, seq)
     ) STRICT, WITHOUT ROWID;

     CREATE TABLE events (
         seq INTEGER PRIMARY KEY,
         tenant INTEGER NOT NULL,
         kind TEXT NOT NULL,
         at_ns INTEGER NOT NULL,
         source TEXT,
         source_id TEXT,
         payload TEXT NOT NULL
     ) STRICT;
     CREATE UNIQUE INDEX events_dedup ON events (tenant, kind, source, source_id);
     CREATE INDEX events_by_tenant ON events (tenant, seq);",
    // 2: how far each reader of the log outside the engine (an alert
    // endpoint) has got, so a restart resumes where it stopped.
    "CREATE TABLE cursors (
         tenant INTEGER NOT NULL,
         name TEXT NOT NULL,
         seq INTEGER NOT NULL,
         PRIMARY KEY (tenant, name)
     ) STRICT, WITHOUT ROWID;",
];

/// The schema version this build writes.
pub(super) const LATEST_VERSION: u32 = MIGRATIONS.len() as u32;

/// Makes sure `conn` holds a dialguard log at [`LATEST_VERSION`]: refuses
/// foreign and newer files, creates the schema in an empty one, migrates an
/// older one.
pub(super) fn prepare(conn: &mut Connection, db: &str) -> Result<(), StoreError> {
    let application_id: i32 = conn
        .pragma_query_value(None, "application_id", |row| row.get(0))
        .doing(db, "reading the file header")?;
    match application_id {
        APPLICATION_ID => {
            check_not_newer(user_version(conn, db)?, db)?;
        }
        0 if is_empty(conn, db)? => {}
        0 => {
            return Err(StoreError::NotDialguard {
                db: db.to_owned(),
                detail: "an SQLite database of another application".to_owned(),
            });
        }
        other => {
            return Err(StoreError::NotDialguard {
                db: db.to_owned(),
                detail: format!("an SQLite database of another application, id {other:#010x}"),
            });
        }
    }
    migrate(conn, db)
}

fn migrate(conn: &mut Connection, db: &str) -> Result<(), StoreError> {
    // Immediate: a second process opening the same new file waits here and
    // then finds the work done.
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .doing(db, "starting the schema migration")?;
    let from = user_version(&tx, db)?;
    check_not_newer(from, db)?;
    if from == LATEST_VERSION {
        return Ok(());
    }
    if from == 0 {
        tx.pragma_update(None, "application_id", APPLICATION_ID)
            .doing(db, "marking the file as a dialguard database")?;
    }
    for migration in &MIGRATIONS[from as usize..] {
        tx.execute_batch(migration).doing(db, "migrating the schema")?;
    }
    tx.pragma_update(None, "user_version", LATEST_VERSION)
        .doing(db, "recording the schema version")?;
    tx.commit().doing(db, "committing the schema migration")
}

fn check_not_newer(found: u32, db: &str) -> Result<(), StoreError> {
    if found > LATEST_VERSION {
        return Err(StoreError::TooNew {
            db: db.to_owned(),
            found,
            supported: LATEST_VERSION,
        });
    }
    Ok(())
}

fn user_version(conn: &Connection, db: &str) -> Result<u32, StoreError> {
    let version: i64 = conn
        .pragma_query_value(None, "user_version", |row| row.get(0))
        .doing(db, "reading the schema version")?;
    u32::try_from(version).map_err(|_| StoreError::NotDialguard {
        db: db.to_owned(),
        detail: format!("its schema version {version} is not one dialguard writes"),
    })
}

fn is_empty(conn: &Connection, db: &str) -> Result<bool, StoreError> {
    let any: Option<i64> = conn
        .query_row("SELECT 1 FROM sqlite_schema LIMIT 1", [], |row| row.get(0))
        .optional()
        .doing(db, "reading the schema")?;
    Ok(any.is_none())
}
