//! The shared backend: the log in a PostgreSQL schema, for several dialguard
//! processes on several machines.
//!
//! # One writer at a time, so that sequence numbers are seen in order
//!
//! The sequence is a counter row (`log_head`), not a PostgreSQL sequence.
//! `nextval` is not transactional: two concurrent appends could take 10 and
//! 11 and commit 11 first, and a reader resuming a replay after 11 would
//! never see 10. So every append locks the counter row first (`SELECT …
//! FOR UPDATE`), which makes appends to one log take turns and commit in
//! the order of their numbers: what any reader sees is always a prefix of
//! the log, and [`EventLog::replay`] from a sequence number cannot miss
//! anything. The turn is short (one statement), and while holding it an
//! append sees every earlier append, so deduplication is exact and
//! duplicates use up no numbers, as in SQLite.
//!
//! # A batch in one statement
//!
//! A batch travels as column arrays in one statement that unnests them,
//! drops keys the tenant already has or that came earlier in the batch,
//! numbers what is left in batch order, inserts it into `calls` and
//! `events`, and moves the counter. With `BEGIN`, the lock and `COMMIT` that
//! is four round trips per batch whatever its size. Replay reads pages of
//! [`REPLAY_PAGE`] entries, so memory stays bounded and `sink` runs with no
//! query in flight.
//!
//! `examples/ingest_bench.rs --pg URL` on 1M calls in batches of 10,000,
//! release build, PostgreSQL 15 on the same 2 shared cores as the client,
//! default settings: append 66k rows/s with random (Twilio-like) ids and
//! 147k rows/s with time-ordered ones, where SQLite took 700k–860k in the
//! same run; re-import (all duplicates) 170k–270k rows/s; replay
//! 350k–400k rows/s; 210–260 bytes a call with its two indexes.
//!
//! # Connections
//!
//! One connection per [`PgLog`], without TLS; a `connect_timeout` of 10 s
//! unless the URL sets one. The schema is the one given to
//! [`PgLog::connect_with_schema`] (created if missing) or the connection's
//! current schema (`public` unless the URL's `options` set a
//! `search_path`). See `schema` for the layout and its migrations.

mod doorbell;
mod schema;
pub(crate) mod url;

pub use doorbell::Doorbell;

use std::cell::RefCell;
use std::collections::HashMap;
use std::time::Duration;

use ::postgres::error::SqlState;
use ::postgres::types::ToSql;
use ::postgres::{Client, Config, NoTls, Row, Statement};
use dialguard_core::{Call, Event};

use crate::codec::{self, CallColumns};
use crate::error::{Classify, Doing};
use crate::storable::nanos;
use crate::{Appended, EventLog, StoreError};

/// How many entries a replay reads per query.
const REPLAY_PAGE: i64 = 10_000;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

const LOCK_HEAD: &str = "SELECT last_seq FROM log_head FOR UPDATE";

/// The whole append of a batch, for the tenant `$1`: calls in `$2`–`$13`,
/// other events in `$14`–`$19`, each with its index in the batch (`ord`).
/// Returns how many were written and the counter after.
const APPEND: &str = r#"
WITH head AS (SELECT last_seq FROM log_head),
call_rows AS (
    SELECT * FROM unnest($2::int4[], $3::int2[], $4::text[], $5::int8[], $6::int8[], $7::int2[],
                         $8::int8[], $9::int8[], $10::int8[], $11::int8[], $12::int2[], $13::int2[])
        AS c (ord, source, source_id, from_number, to_number, direction,
              started_ns, answered_ns, ended_ns, talk_seconds, outcome, cause)
),
new_calls AS (
    SELECT DISTINCT ON (c.source, c.source_id) c.* FROM call_rows c
    WHERE NOT EXISTS (
        SELECT FROM calls s
        WHERE s.tenant = $1::int8 AND s.source = c.source AND s.source_id = c.source_id)
    ORDER BY c.source, c.source_id, c.ord
),
event_rows AS (
    SELECT * FROM unnest($14::int4[], $15::text[], $16::int8[], $17::text[], $18::text[], $19::text[])
        AS e (ord, kind, at_ns, source, source_id, payload)
),
new_events AS (
    SELECT * FROM event_rows WHERE source IS NULL
    UNION ALL
    (SELECT DISTINCT ON (e.kind, e.source, e.source_id) e.* FROM event_rows e
     WHERE e.source IS NOT NULL AND NOT EXISTS (
         SELECT FROM events s
         WHERE s.tenant = $1::int8 AND s.kind = e.kind AND s.source = e.source
           AND s.source_id = e.source_id)
     ORDER BY e.kind, e.source, e.source_id, e.ord)
),
numbered AS (
    SELECT a.ord, (SELECT last_seq FROM head) + row_number() OVER (ORDER BY a.ord) AS seq
    FROM (SELECT ord FROM new_calls UNION ALL SELECT ord FROM new_events) a
),
inserted_calls AS (
    INSERT INTO calls (tenant, seq, from_number, to_number, started_ns, answered_ns, ended_ns,
                       talk_seconds, source, direction, outcome, cause, source_id)
    SELECT $1::int8, n.seq, c.from_number, c.to_number, c.started_ns, c.answered_ns, c.ended_ns,
           c.talk_seconds, c.source, c.direction, c.outcome, c.cause, c.source_id
    FROM new_calls c JOIN numbered n USING (ord)
    ORDER BY n.seq
    RETURNING 1
),
inserted_events AS (
    INSERT INTO events (seq, tenant, at_ns, kind, source, source_id, payload)
    SELECT n.seq, $1::int8, e.at_ns, e.kind, e.source, e.source_id, e.payload
    FROM new_events e JOIN numbered n USING (ord)
    ORDER BY n.seq
    RETURNING 1
),
moved AS (
    UPDATE log_head SET last_seq = (SELECT max(seq) FROM numbered)
    WHERE EXISTS (SELECT FROM numbered)
    RETURNING last_seq
)
SELECT (SELECT count(*) FROM inserted_calls) + (SELECT count(*) FROM inserted_events),
       coalesce((SELECT last_seq FROM moved), (SELECT last_seq FROM head))
"#;

/// The next page of a tenant's log after `$2`, at most `$3` entries: calls
/// with a NULL payload, other events with NULL call columns.
const REPLAY: &str = r#"
WITH t AS (SELECT id FROM tenants WHERE name = $1)
SELECT * FROM (
    (SELECT seq, source, source_id, from_number, to_number, direction, started_ns, answered_ns,
            ended_ns, talk_seconds, outcome, cause, NULL::text AS payload
     FROM calls WHERE tenant = (SELECT id FROM t) AND seq > $2 ORDER BY seq LIMIT $3)
    UNION ALL
    (SELECT seq, NULL::int2, NULL::text, NULL::int8, NULL::int8, NULL::int2, NULL::int8, NULL::int8,
            NULL::int8, NULL::int8, NULL::int2, NULL::int2, payload
     FROM events WHERE tenant = (SELECT id FROM t) AND seq > $2 ORDER BY seq LIMIT $3)
) page
ORDER BY seq LIMIT $3
"#;

const COUNT: &str = "SELECT (SELECT count(*) FROM calls WHERE tenant = t.id) \
                          + (SELECT count(*) FROM events WHERE tenant = t.id) \
                     FROM tenants t WHERE name = $1";

const FIND_TENANT: &str = "SELECT id FROM tenants WHERE name = $1";
const ADD_TENANT: &str = "INSERT INTO tenants (name) VALUES ($1) ON CONFLICT (name) DO NOTHING";

/// The event log in a PostgreSQL schema.
///
/// A handle is one connection. It remembers the ids of the tenants it has
/// appended to, nothing else: deduplication is the database's.
pub struct PgLog {
    client: RefCell<Client>,
    statements: Statements,
    tenants: HashMap<String, i64>,
    /// Where the log lives, for error messages: the URL without its
    /// password, and the schema.
    db: String,
    schema: String,
}

struct Statements {
    lock_head: Statement,
    append: Statement,
    replay: Statement,
    count: Statement,
    find_tenant: Statement,
    add_tenant: Statement,
    notify: Statement,
}

impl PgLog {
    /// Connects to the log at `url` (`postgres://user@host:port/dbname` or
    /// the `key=value` form), in the connection's current schema, creating
    /// the tables if there are none and migrating them if an older dialguard
    /// made them.
    pub fn connect(url: &str) -> Result<PgLog, StoreError> {
        PgLog::open(url, None)
    }

    /// Like [`PgLog::connect`], with the log in `schema`, which is created
    /// if it does not exist and made the session's `search_path`.
    pub fn connect_with_schema(url: &str, schema: &str) -> Result<PgLog, StoreError> {
        PgLog::open(url, Some(schema))
    }

    fn open(url: &str, schema: Option<&str>) -> Result<PgLog, StoreError> {
        let shown = url::without_password(url);
        let mut config: Config = url.parse().map_err(|e: ::postgres::Error| StoreError::BadUrl {
            url: shown.clone(),
            detail: with_causes(&e),
        })?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(CONNECT_TIMEOUT);
        }
        if config.get_application_name().is_none() {
            config.application_name("dialguard");
        }
        let db = match schema {
            Some(schema) => format!("{shown} (schema {schema})"),
            None => shown.clone(),
        };
        let mut client = config.connect(NoTls).map_err(|e| StoreError::Unreachable {
            db: db.clone(),
            source: Driver(e).into(),
        })?;
        let schema = schema::prepare(&mut client, &db, schema)?;
        let db = format!("{shown} (schema {schema})");
        let statements = Statements::prepare(&mut client, &db)?;
        Ok(PgLog {
            client: RefCell::new(client),
            statements,
            tenants: HashMap::new(),
            db,
            schema,
        })
    }

    /// The schema version this build writes (the row of `dialguard_schema`).
    pub const SCHEMA_VERSION: u32 = schema::LATEST_VERSION;

    /// The schema that holds the log.
    pub fn schema(&self) -> &str {
        &self.schema
    }

    fn tenant_id_creating(&mut self, tenant: &str) -> Result<i64, StoreError> {
        if let Some(&id) = self.tenants.get(tenant) {
            return Ok(id);
        }
        let db = &self.db;
        let client = self.client.get_mut();
        let find = |client: &mut Client| {
            client
                .query_opt(&self.statements.find_tenant, &[&tenant])
                .doing(db, "looking up the tenant")
        };
        let row = match find(client)? {
            Some(row) => row,
            None => {
                // Outside the batch's transaction: a tenant with no events
                // changes nothing anyone sees, and the id can be remembered
                // whatever becomes of the batch.
                client
                    .execute(&self.statements.add_tenant, &[&tenant])
                    .doing(db, "adding the tenant")?;
                find(client)?.ok_or_else(|| StoreError::Backend {
                    db: db.clone(),
                    doing: "adding the tenant",
                    source: "the tenant was added but cannot be found".into(),
                })?
            }
        };
        let id: i64 = row.try_get(0).doing(db, "looking up the tenant")?;
        self.tenants.insert(tenant.to_owned(), id);
        Ok(id)
    }
}

impl Statements {
    fn prepare(client: &mut Client, db: &str) -> Result<Statements, StoreError> {
        let mut prepare = |sql: &str| client.prepare(sql).doing(db, "preparing statements");
        Ok(Statements {
            lock_head: prepare(LOCK_HEAD)?,
            append: prepare(APPEND)?,
            replay: prepare(REPLAY)?,
            count: prepare(COUNT)?,
            find_tenant: prepare(FIND_TENANT)?,
            add_tenant: prepare(ADD_TENANT)?,
            notify: prepare("SELECT pg_notify($1, $2)")?,
        })
    }
}

impl EventLog for PgLog {
    fn append(&mut self, tenant: &str, events: &[Event]) -> Result<Appended, StoreError> {
        crate::storable::check_batch(events)?;
        let batch = Columns::of(events, &self.db)?;
        let tenant_id = self.tenant_id_creating(tenant)?;
        let db = &self.db;
        let mut tx = self.client.get_mut().transaction().doing(db, "starting a write")?;
        tx.execute(&self.statements.lock_head, &[])
            .doing(db, "waiting for other writers")?;
        let row = tx
            .query_one(&self.statements.append, &batch.params(&tenant_id))
            .doing(db, "writing a batch")?;
        let accepted: i64 = row.try_get(0).doing(db, "writing a batch")?;
        if accepted > 0 {
            // Delivered at commit: other servers on this log read it then.
            tx.execute(
                &self.statements.notify,
                &[&doorbell::CHANNEL, &doorbell::payload(&self.schema, tenant)],
            )
            .doing(db, "writing a batch")?;
        }
        tx.commit().doing(db, "committing a batch")?;
        let last_seq: i64 = row.try_get(1).doing(db, "writing a batch")?;
        let accepted = usize::try_from(accepted).unwrap_or_default();
        Ok(Appended {
            accepted,
            duplicates: events.len().saturating_sub(accepted),
            last_seq: u64::try_from(last_seq).unwrap_or_default(),
        })
    }

    fn replay(&self, tenant: &str, after_seq: u64, sink: &mut dyn FnMut(u64, Event)) -> Result<u64, StoreError> {
        let db = &self.db;
        let mut last = after_seq;
        loop {
            let after = i64::try_from(last).unwrap_or(i64::MAX);
            let rows = self
                .client
                .borrow_mut()
                .query(&self.statements.replay, &[&tenant, &after, &REPLAY_PAGE])
                .doing(db, "reading events")?;
            let full_page = rows.len() as i64 == REPLAY_PAGE;
            for row in rows {
                let (seq, event) = read_entry(&row, db)?;
                sink(seq, event);
                last = seq;
            }
            if !full_page {
                return Ok(last);
            }
        }
    }

    fn count(&self, tenant: &str) -> Result<u64, StoreError> {
        let db = &self.db;
        let row = self
            .client
            .borrow_mut()
            .query_opt(&self.statements.count, &[&tenant])
            .doing(db, "counting events")?;
        let Some(row) = row else {
            return Ok(0);
        };
        let count: i64 = row.try_get(0).doing(db, "counting events")?;
        Ok(u64::try_from(count).unwrap_or_default())
    }

    fn cursor(&self, tenant: &str, name: &str) -> Result<Option<u64>, StoreError> {
        let db = &self.db;
        let row = self
            .client
            .borrow_mut()
            .query_opt(
                "SELECT c.seq FROM cursors c JOIN tenants t ON t.id = c.tenant WHERE t.name = $1 AND c.name = $2",
                &[&tenant, &name],
            )
            .doing(db, "reading a cursor")?;
        let Some(row) = row else {
            return Ok(None);
        };
        let seq: i64 = row.try_get(0).doing(db, "reading a cursor")?;
        Ok(Some(u64::try_from(seq).unwrap_or_default()))
    }

    fn set_cursor(&mut self, tenant: &str, name: &str, seq: u64) -> Result<(), StoreError> {
        let tenant_id = self.tenant_id_creating(tenant)?;
        let db = &self.db;
        let seq = i64::try_from(seq).unwrap_or(i64::MAX);
        self.client
            .get_mut()
            .execute(
                "INSERT INTO cursors (tenant, name, seq) VALUES ($1, $2, $3) \
                 ON CONFLICT (tenant, name) DO UPDATE SET seq = GREATEST(cursors.seq, excluded.seq)",
                &[&tenant_id, &name, &seq],
            )
            .doing(db, "saving a cursor")?;
        Ok(())
    }
}

/// A batch as the column arrays [`APPEND`] unnests.
#[derive(Default)]
struct Columns<'e> {
    call_ord: Vec<i32>,
    call_source: Vec<i16>,
    call_source_id: Vec<&'e str>,
    from: Vec<i64>,
    to: Vec<i64>,
    direction: Vec<i16>,
    started_ns: Vec<i64>,
    answered_ns: Vec<Option<i64>>,
    ended_ns: Vec<i64>,
    talk_seconds: Vec<i64>,
    outcome: Vec<i16>,
    cause: Vec<i16>,
    event_ord: Vec<i32>,
    kind: Vec<&'static str>,
    at_ns: Vec<i64>,
    source: Vec<Option<&'e str>>,
    source_id: Vec<Option<&'e str>>,
    payload: Vec<String>,
}

impl<'e> Columns<'e> {
    fn of(events: &'e [Event], db: &str) -> Result<Columns<'e>, StoreError> {
        let mut columns = Columns::default();
        for (index, event) in events.iter().enumerate() {
            let unstorable = |reason| StoreError::Unstorable {
                index,
                kind: event.kind(),
                reason,
            };
            let ord = i32::try_from(index).map_err(|_| StoreError::Backend {
                db: db.to_owned(),
                doing: "sending a batch",
                source: format!("a batch holds at most {} events", i32::MAX).into(),
            })?;
            match event {
                Event::Call(call) => columns.push_call(ord, codec::encode(call).map_err(unstorable)?),
                other => {
                    let payload = codec::encode_payload(other, db)?;
                    let (source, source_id) = other.dedup_key().unzip();
                    columns.event_ord.push(ord);
                    columns.kind.push(other.kind());
                    columns.at_ns.push(nanos(other.at(), "at").map_err(unstorable)?);
                    columns.source.push(source);
                    columns.source_id.push(source_id);
                    columns.payload.push(payload);
                }
            }
        }
        Ok(columns)
    }

    fn push_call(&mut self, ord: i32, c: CallColumns<&'e str>) {
        self.call_ord.push(ord);
        self.call_source.push(small(c.source));
        self.call_source_id.push(c.source_id);
        self.from.push(c.from);
        self.to.push(c.to);
        self.direction.push(small(c.direction));
        self.started_ns.push(c.started_ns);
        self.answered_ns.push(c.answered_ns);
        self.ended_ns.push(c.ended_ns);
        self.talk_seconds.push(c.talk_seconds);
        self.outcome.push(small(c.outcome));
        self.cause.push(small(c.cause));
    }

    fn params<'p>(&'p self, tenant: &'p i64) -> [&'p (dyn ToSql + Sync); 19] {
        [
            tenant,
            &self.call_ord,
            &self.call_source,
            &self.call_source_id,
            &self.from,
            &self.to,
            &self.direction,
            &self.started_ns,
            &self.answered_ns,
            &self.ended_ns,
            &self.talk_seconds,
            &self.outcome,
            &self.cause,
            &self.event_ord,
            &self.kind,
            &self.at_ns,
            &self.source,
            &self.source_id,
            &self.payload,
        ]
    }
}

/// A code as its `smallint` column holds it; the codec's codes are all
/// small.
fn small(code: i64) -> i16 {
    i16::try_from(code).expect("the codec's codes fit a smallint")
}

/// Reads one row of [`REPLAY`].
fn read_entry(row: &Row, db: &str) -> Result<(u64, Event), StoreError> {
    let seq: i64 = row.try_get(0).doing(db, "reading a sequence number")?;
    let seq =
        u64::try_from(seq).map_err(|_| StoreError::unreadable(db, 0, format!("negative sequence number {seq}")))?;
    let payload: Option<&str> = row
        .try_get(12)
        .map_err(|e| StoreError::unreadable(db, seq, format!("column payload: {e}")))?;
    let event = match payload {
        Some(payload) => codec::decode_payload(payload),
        None => read_call(row).map(Event::Call),
    };
    Ok((seq, event.map_err(|reason| StoreError::unreadable(db, seq, reason))?))
}

fn read_call(row: &Row) -> Result<Call, String> {
    fn get<'r, T: ::postgres::types::FromSql<'r>>(row: &'r Row, index: usize, name: &str) -> Result<T, String> {
        row.try_get(index).map_err(|e| format!("column {name}: {e}"))
    }
    let code = |index, name| get::<i16>(row, index, name).map(i64::from);
    codec::decode(CallColumns {
        source: code(1, "source")?,
        source_id: get(row, 2, "source_id")?,
        from: get(row, 3, "from_number")?,
        to: get(row, 4, "to_number")?,
        direction: code(5, "direction")?,
        started_ns: get(row, 6, "started_ns")?,
        answered_ns: get(row, 7, "answered_ns")?,
        ended_ns: get(row, 8, "ended_ns")?,
        talk_seconds: get(row, 9, "talk_seconds")?,
        outcome: code(10, "outcome")?,
        cause: code(11, "cause")?,
    })
}

/// An error's message followed by those of its sources: the driver says
/// "invalid connection string" and puts what is invalid in the source.
fn with_causes(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text = format!("{text}: {cause}");
        source = cause.source();
    }
    text
}

impl Classify for ::postgres::Error {
    fn classify(self, db: &str, doing: &'static str) -> StoreError {
        classify(db, doing, self)
    }
}

fn classify(db: &str, doing: &'static str, error: ::postgres::Error) -> StoreError {
    let db = db.to_owned();
    if error.is_closed() {
        return StoreError::Unreachable {
            db,
            source: Driver(error).into(),
        };
    }
    match error.code() {
        Some(&SqlState::DISK_FULL) => StoreError::DiskFull { db },
        Some(&SqlState::DATA_CORRUPTED | &SqlState::INDEX_CORRUPTED) => StoreError::Damaged {
            db,
            source: Driver(error).into(),
        },
        _ => StoreError::Backend {
            db,
            doing,
            source: Driver(error).into(),
        },
    }
}

/// A driver error that says what happened in its own message: the driver's
/// says only "db error" or "error connecting to server" and keeps the
/// server's words and the operating system's in its source.
#[derive(Debug)]
struct Driver(::postgres::Error);

impl std::fmt::Display for Driver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0.as_db_error() {
            Some(server) => {
                write!(f, "{} (SQLSTATE {})", server.message(), server.code().code())?;
                if let Some(detail) = server.detail() {
                    write!(f, "; {detail}")?;
                }
                if let Some(hint) = server.hint() {
                    write!(f, "; {hint}")?;
                }
                Ok(())
            }
            None => f.write_str(&with_causes(&self.0)),
        }
    }
}

impl std::error::Error for Driver {}
