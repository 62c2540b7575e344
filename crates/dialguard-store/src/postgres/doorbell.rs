//! Several dialguard servers on one PostgreSQL log: telling each other that
//! the log grew, and choosing which of them decides a tenant's state changes.
//!
//! Every append that adds something also sends `NOTIFY dialguard_log` in its
//! transaction, so the notice goes out when the rows are visible, and never
//! for a batch that rolled back. A [`Doorbell`] is a connection of its own
//! that `LISTEN`s and reports the tenants whose logs grew; the server then
//! reads them from where it stopped with [`crate::EventLog::replay`]. A
//! notice is only a doorbell: the rows are the truth, and a server polls as
//! well, so a notice lost while the connection was down costs a delay,
//! never an event.
//!
//! Leading a tenant (deciding its quarantines, plan phases and the rest of
//! its state changes, which every server then reads from the log) is a
//! session-level advisory lock held on this connection: PostgreSQL releases
//! it when the connection ends, so when a leader's process dies (at once)
//! or its machine or network goes (within about 11 s, by the TCP
//! keepalives this connection asks the server for), another server's next
//! [`Doorbell::lead`] takes it. The leader's connection carries its
//! advertised URL in `application_name`, where [`Doorbell::leader`] finds it. A
//! connection that fails is reconnected, and leads nothing until it takes
//! its locks again.

use std::collections::HashSet;
use std::time::Duration;

use ::postgres::Client;
use ::postgres::fallible_iterator::FallibleIterator;

use crate::StoreError;
use crate::error::Doing;

use super::PgLog;

/// The channel appends notify on.
pub(super) const CHANNEL: &str = "dialguard_log";

/// The advisory-lock class of tenant leadership (the key is the schema and
/// the tenant, hashed).
const LEAD_LOCK: i32 = 0x4447_4c44;

/// Server-side TCP keepalive of the doorbell's connection, in seconds and
/// probes: how soon PostgreSQL drops a vanished leader's locks.
const KEEPALIVE_IDLE: u32 = 5;
const KEEPALIVE_INTERVAL: u32 = 2;
const KEEPALIVE_COUNT: u32 = 3;

/// What a leader's connection's `application_name` starts with; its
/// advertised URL follows.
const APPLICATION: &str = "dialguard ";

/// `schema`, a newline, `tenant`: the payload of a notice.
pub(super) fn payload(schema: &str, tenant: &str) -> String {
    format!("{schema}\n{tenant}")
}

/// A listening connection to a PostgreSQL log.
pub struct Doorbell {
    url: String,
    /// The address this server answers on, as the others should reach it:
    /// shown in the connection's `application_name`, where
    /// [`Doorbell::leader`] reads it.
    advertise: Option<String>,
    client: Option<Client>,
    schema: String,
    db: String,
    leading: HashSet<String>,
}

impl Doorbell {
    /// Connects to the log at `url` (as [`PgLog::connect`] does, creating
    /// or migrating it if need be) and starts listening.
    pub fn connect(url: &str) -> Result<Doorbell, StoreError> {
        Doorbell::connect_advertising(url, None)
    }

    /// [`Doorbell::connect`] for a server that other servers send a
    /// tenant's decisions to while it leads the tenant: `advertise` is its
    /// base URL (`http://10.0.0.5:8080`).
    pub fn connect_advertising(url: &str, advertise: Option<&str>) -> Result<Doorbell, StoreError> {
        let mut bell = Doorbell {
            url: url.to_owned(),
            advertise: advertise.map(str::to_owned),
            client: None,
            schema: String::new(),
            db: super::url::without_password(url),
            leading: HashSet::new(),
        };
        bell.reconnect()?;
        Ok(bell)
    }

    fn reconnect(&mut self) -> Result<&mut Client, StoreError> {
        self.leading.clear();
        self.client = None;
        let log = PgLog::connect(&self.url)?;
        let (mut client, schema, db) = (log.client.into_inner(), log.schema, log.db);
        // The lead is held as long as PostgreSQL thinks this connection is
        // alive: a process that dies closes it at once, but a machine that
        // vanishes sends nothing, so the server probes it (after 5 s
        // silent, every 2 s, 3 times): the lease's TTL is about 11 s.
        client
            .batch_execute(&format!(
                "SET tcp_keepalives_idle = {KEEPALIVE_IDLE}; SET tcp_keepalives_interval = {KEEPALIVE_INTERVAL}; \
                 SET tcp_keepalives_count = {KEEPALIVE_COUNT}; LISTEN {CHANNEL}"
            ))
            .doing(&db, "listening for appends")?;
        if let Some(advertise) = &self.advertise {
            client
                .execute(
                    "SELECT set_config('application_name', $1, false)",
                    &[&format!("{APPLICATION}{advertise}")],
                )
                .doing(&db, "naming the connection")?;
        }
        (self.schema, self.db) = (schema, db);
        Ok(self.client.insert(client))
    }

    fn client(&mut self) -> Result<&mut Client, StoreError> {
        match self.client {
            Some(ref mut client) => Ok(client),
            None => self.reconnect(),
        }
    }

    /// Waits up to `timeout` for appends by anyone (this process too) and
    /// returns the tenants whose logs grew, each once. After a connection
    /// error the next call reconnects, and the tenants led before are led
    /// no more: the error says so, and the caller stops acting as leader.
    pub fn wait(&mut self, timeout: Duration) -> Result<Vec<String>, StoreError> {
        let result = self.collect(timeout);
        if result.is_err() {
            self.client = None;
            self.leading.clear();
        }
        result
    }

    fn collect(&mut self, timeout: Duration) -> Result<Vec<String>, StoreError> {
        let prefix = format!("{}\n", self.schema);
        let db = self.db.clone();
        let client = self.client()?;
        let mut tenants: Vec<String> = Vec::new();
        let mut take = |payload: &str| {
            if let Some(tenant) = payload.strip_prefix(&prefix)
                && !tenants.iter().any(|t| t == tenant)
            {
                tenants.push(tenant.to_owned());
            }
        };
        {
            let mut notices = client.notifications();
            let first = notices.timeout_iter(timeout).next().doing(&db, "waiting for appends")?;
            if let Some(notice) = first {
                take(notice.payload());
                // Whatever else already arrived, without waiting again.
                let mut rest = notices.iter();
                while let Some(notice) = rest.next().doing(&db, "waiting for appends")? {
                    take(notice.payload());
                }
            }
        }
        // A notice is delivered between queries: make sure the connection
        // is alive even when none came, so a dead one is found here.
        if tenants.is_empty() {
            client.batch_execute("").doing(&db, "waiting for appends")?;
        }
        Ok(tenants)
    }

    /// Takes the lead of `tenant` if no other connection holds it; true
    /// while this one does.
    pub fn lead(&mut self, tenant: &str) -> Result<bool, StoreError> {
        if self.leading.contains(tenant) {
            return Ok(true);
        }
        let key = payload(&self.schema, tenant);
        let db = self.db.clone();
        let taken: Result<bool, StoreError> = self
            .client()?
            .query_one("SELECT pg_try_advisory_lock($1, hashtext($2))", &[&LEAD_LOCK, &key])
            .and_then(|row| row.try_get(0))
            .doing(&db, "taking the lead of a tenant");
        let taken = match taken {
            Ok(taken) => taken,
            Err(e) => {
                self.client = None;
                self.leading.clear();
                return Err(e);
            }
        };
        if taken {
            self.leading.insert(tenant.to_owned());
        }
        Ok(taken)
    }

    /// The advertised URL of the server that leads `tenant`, if one does
    /// and said where it answers.
    pub fn leader(&mut self, tenant: &str) -> Result<Option<String>, StoreError> {
        let key = payload(&self.schema, tenant);
        let db = self.db.clone();
        let found: Result<Option<String>, StoreError> = self
            .client()?
            .query_opt(
                "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid \
                 WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2 \
                   AND l.classid = $1::int4::oid AND l.objid = hashtext($2)::oid \
                   AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) \
                 LIMIT 1",
                &[&LEAD_LOCK, &key],
            )
            .and_then(|row| row.map(|row| row.try_get::<_, String>(0)).transpose())
            .doing(&db, "finding a tenant's leader");
        match found {
            Ok(name) => Ok(name.and_then(|n| n.strip_prefix(APPLICATION).map(str::to_owned))),
            Err(e) => {
                self.client = None;
                self.leading.clear();
                Err(e)
            }
        }
    }

    /// The schema that holds the log.
    pub fn schema(&self) -> &str {
        &self.schema
    }
}
