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
//! it when the connection ends, so when a leader's process dies or its
//! network goes, another server's next [`Doorbell::lead`] takes it. A
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

/// `schema`, a newline, `tenant`: the payload of a notice.
pub(super) fn payload(schema: &str, tenant: &str) -> String {
    format!("{schema}\n{tenant}")
}

/// A listening connection to a PostgreSQL log.
pub struct Doorbell {
    url: String,
    client: Option<Client>,
    schema: String,
    db: String,
    leading: HashSet<String>,
}

impl Doorbell {
    /// Connects to the log at `url` (as [`PgLog::connect`] does, creating
    /// or migrating it if need be) and starts listening.
    pub fn connect(url: &str) -> Result<Doorbell, StoreError> {
        let mut bell = Doorbell {
            url: url.to_owned(),
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
        client
            .batch_execute(&format!("LISTEN {CHANNEL}"))
            .doing(&db, "listening for appends")?;
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

    /// The schema that holds the log.
    pub fn schema(&self) -> &str {
        &self.schema
    }
}
