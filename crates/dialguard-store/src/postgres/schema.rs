//! The PostgreSQL layout: which schema holds the log, how it is recognised,
//! and its migrations.
//!
//! A log is the set of tables in one PostgreSQL schema (the one named to
//! [`PgLog::connect_with_schema`](super::PgLog::connect_with_schema), created
//! if missing, or else the connection's current schema). The table
//! `dialguard_schema` holds one row, the number of [`MIGRATIONS`] applied;
//! it is what marks the schema as a dialguard log. A schema that has tables
//! with the log's names but no such row is refused and left untouched, and
//! so is one whose version is newer than this build's. Later versions
//! append to [`MIGRATIONS`]; a released migration is never edited.
//!
//! Several processes may open the same log at once (instances starting
//! together): the check and the migration run in one transaction under an
//! advisory lock keyed by the schema's name, so one of them migrates and the
//! others find the work done.
//!
//! # Layout, and why
//!
//! The same meaning as the SQLite file: calls in a table of integer columns
//! (the shared codec's codes, as `smallint`), every other kind as JSON in
//! `events`, both drawing `seq` from the one counter in `log_head`.
//! Unlike SQLite, calls are deduplicated by a unique index on (tenant,
//! source, source_id) rather than a table of ids in each process's memory:
//! with several instances sharing a log, each would hold a copy of every
//! id and read all of a tenant's calls over the network on its first
//! append. Random ids cost the index about half its speed (see the
//! backend's docs for the numbers). Keys, kinds and tenant names use the `C`
//! collation, so comparing them is comparing bytes, whatever the database's
//! default collation. Payloads are `text`, not `jsonb`: `jsonb` would refuse
//! the `\u0000` escapes serde writes for NUL characters in free text.

use ::postgres::Client;

use crate::StoreError;
use crate::error::Doing;

/// Each entry moves the schema one version up; the index + 1 is the version.
const MIGRATIONS: &[&str] = &[
    // 1: the log.
    r#"CREATE TABLE tenants (
         id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
         name text COLLATE "C" NOT NULL UNIQUE
     );

     CREATE TABLE log_head (last_seq bigint NOT NULL);
     INSERT INTO log_head (last_seq) VALUES (0);

     CREATE TABLE calls (
         tenant bigint NOT NULL,
         seq bigint NOT NULL,
         from_number bigint NOT NULL,
         to_number bigint NOT NULL,
         started_ns bigint NOT NULL,
         answered_ns bigint,
         ended_ns bigint NOT NULL,
         talk_seconds bigint NOT NULL,
         source smallint NOT NULL,
         direction smallint NOT NULL,
         outcome smallint NOT NULL,
         cause smallint NOT NULL,
         source_id text COLLATE "C" NOT NULL,
         PRIMARY KEY (tenant, seq),
         CONSTRAINT calls_dedup UNIQUE (tenant, source, source_id)
     );

     CREATE TABLE events (
         seq bigint PRIMARY KEY,
         tenant bigint NOT NULL,
         at_ns bigint NOT NULL,
         kind text COLLATE "C" NOT NULL,
         source text COLLATE "C",
         source_id text COLLATE "C",
         payload text NOT NULL
     );
     CREATE UNIQUE INDEX events_dedup ON events (tenant, kind, source, source_id);
     CREATE INDEX events_by_tenant ON events (tenant, seq);"#,
    // 2: how far each reader of the log outside the engine (an alert
    // endpoint) has got, so a restart resumes where it stopped.
    r#"CREATE TABLE cursors (
         tenant bigint NOT NULL,
         name text COLLATE "C" NOT NULL,
         seq bigint NOT NULL,
         PRIMARY KEY (tenant, name)
     );"#,
];

/// The schema version this build writes.
pub(super) const LATEST_VERSION: u32 = MIGRATIONS.len() as u32;

/// The tables a log has (or had, in some version): finding any of them
/// without `dialguard_schema` means the schema belongs to someone else.
const LOG_TABLES: &[&str] = &["dialguard_schema", "tenants", "log_head", "calls", "events", "cursors"];

/// The first key of the advisory lock taken while migrating ("DGLG").
const MIGRATION_LOCK: i32 = 0x4447_4c47;

/// Points the session at the log's schema and makes sure it holds a
/// dialguard log at [`LATEST_VERSION`]: creates the schema if `schema` names
/// one that does not exist, refuses foreign and newer ones, creates the
/// tables in an empty one, migrates an older one. Returns the schema's name.
pub(super) fn prepare(client: &mut Client, db: &str, schema: Option<&str>) -> Result<String, StoreError> {
    if let Some(schema) = schema {
        client
            .execute("SELECT set_config('search_path', $1, false)", &[&quote_ident(schema)])
            .doing(db, "setting the search path")?;
    }
    let mut tx = client.transaction().doing(db, "starting the schema migration")?;
    let name = match schema {
        Some(schema) => schema.to_owned(),
        None => {
            let current: Option<String> = tx
                .query_one("SELECT current_schema()", &[])
                .and_then(|row| row.try_get(0))
                .doing(db, "finding the current schema")?;
            current.ok_or_else(|| StoreError::Backend {
                db: db.to_owned(),
                doing: "finding the schema to keep the log in",
                source: "the connection's search_path names no schema that exists; \
                         create one or name one in the URL's options"
                    .into(),
            })?
        }
    };
    tx.execute(
        "SELECT pg_advisory_xact_lock($1, hashtext($2))",
        &[&MIGRATION_LOCK, &name],
    )
    .doing(db, "waiting for another process's migration")?;
    if schema.is_some() {
        let exists = tx
            .query_opt("SELECT 1 FROM pg_namespace WHERE nspname = $1", &[&name])
            .doing(db, "looking for the schema")?
            .is_some();
        if !exists {
            tx.batch_execute(&format!("CREATE SCHEMA {}", quote_ident(&name)))
                .doing(db, "creating the schema")?;
        }
    }

    let from = version(&mut tx, db, &name)?;
    if from > LATEST_VERSION {
        return Err(StoreError::TooNew {
            db: db.to_owned(),
            found: from,
            supported: LATEST_VERSION,
        });
    }
    if from == LATEST_VERSION {
        return Ok(name);
    }
    if from == 0 {
        tx.batch_execute(
            "CREATE TABLE dialguard_schema (version integer NOT NULL);
             INSERT INTO dialguard_schema (version) VALUES (0);",
        )
        .doing(db, "marking the schema as a dialguard log")?;
    }
    for migration in &MIGRATIONS[from as usize..] {
        tx.batch_execute(migration).doing(db, "migrating the schema")?;
    }
    tx.execute(
        "UPDATE dialguard_schema SET version = $1",
        &[&i32::try_from(LATEST_VERSION).unwrap_or(i32::MAX)],
    )
    .doing(db, "recording the schema version")?;
    tx.commit().doing(db, "committing the schema migration")?;
    Ok(name)
}

/// The schema version of the log in `schema`: 0 when it holds none of the
/// log's tables yet.
fn version(tx: &mut ::postgres::Transaction<'_>, db: &str, schema: &str) -> Result<u32, StoreError> {
    let tables: Vec<String> = tx
        .query(
            "SELECT c.relname::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE n.nspname = $1 AND c.relname = ANY($2)",
            &[&schema, &LOG_TABLES],
        )
        .doing(db, "reading the schema")?
        .iter()
        .map(|row| row.get(0))
        .collect();
    let foreign = |detail: String| StoreError::NotDialguard {
        db: db.to_owned(),
        detail,
    };
    if !tables.iter().any(|t| t == "dialguard_schema") {
        return match tables.first() {
            None => Ok(0),
            Some(table) => Err(foreign(format!(
                "schema {schema} has a table {table} that dialguard did not make; \
                 give dialguard a schema of its own"
            ))),
        };
    }
    let rows = tx
        .query("SELECT version FROM dialguard_schema", &[])
        .doing(db, "reading the schema version")?;
    let [row] = rows.as_slice() else {
        return Err(foreign(format!(
            "its dialguard_schema table holds {} rows, not one",
            rows.len()
        )));
    };
    let found: i32 = row.try_get(0).doing(db, "reading the schema version")?;
    u32::try_from(found).map_err(|_| foreign(format!("its schema version {found} is not one dialguard writes")))
}

/// `name` as an SQL identifier, quoted so that any name is taken literally.
pub(super) fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}
