//! dialguard's durable, append-only event log.
//!
//! Everything dialguard knows is a fold of [`Event`]s; this crate keeps them.
//! A log is one SQLite file by default ([`open`]), or a PostgreSQL schema
//! that several processes and machines share ([`open_url`]), and is shared
//! by tenants: every entry belongs to one tenant, and a tenant's
//! [`EventLog::replay`] and [`EventLog::count`] see its own entries only.
//!
//! The contract every backend keeps, checked by the shared [`conformance`]
//! suite:
//!
//! - **Append-only, one sequence.** Each accepted event gets the next sequence
//!   number of the whole log (all tenants share it, so numbers seen by one
//!   tenant have gaps). Replay walks a tenant's events in that order.
//! - **Idempotent for keyed events.** An event with an [`Event::dedup_key`]
//!   (calls and complaints) is stored once per tenant, kind, source and
//!   source id; later copies, in the same batch or another, are counted as
//!   duplicates and skipped. Events without a key are always appended, so
//!   re-sending an opt-out records it twice.
//! - **All or nothing per batch.** [`EventLog::append`] writes a batch in one
//!   transaction; an error leaves the log as it was.
//! - **What cannot be stored is refused up front.** [`check_storable`] says
//!   which events a backend refuses (instants outside the nanosecond range,
//!   empty source ids), so importers can turn them into row errors before
//!   they reach a batch.

mod codec;
pub mod conformance;
mod error;
mod postgres;
mod sqlite;
mod storable;

use std::path::Path;

pub use dialguard_core::Event;
pub use error::StoreError;
pub use postgres::{Doorbell, PgLog};
pub use sqlite::SqliteLog;
pub use storable::{EARLIEST, LATEST, Unstorable, check_storable};

/// A durable, append-only log of events, partitioned by tenant.
pub trait EventLog {
    /// Appends in one transaction. Events whose (tenant, kind, source,
    /// source_id) is already in the log are skipped and counted as
    /// duplicates (also duplicates within the same batch: the first copy
    /// wins). An event [`check_storable`] refuses fails the whole batch with
    /// [`StoreError::Unstorable`] and nothing is written.
    fn append(&mut self, tenant: &str, events: &[Event]) -> Result<Appended, StoreError>;

    /// Calls `sink` with every event of the tenant in log order (sequence
    /// number ascending), from `after_seq` exclusive. Returns the sequence
    /// number of the last event handed to `sink`, or `after_seq` when there
    /// was none, so the result can be passed back to resume.
    fn replay(&self, tenant: &str, after_seq: u64, sink: &mut dyn FnMut(u64, Event)) -> Result<u64, StoreError>;

    /// How many events the tenant has in the log.
    fn count(&self, tenant: &str) -> Result<u64, StoreError>;

    /// How far the reader `name` of the tenant's log has got: the sequence
    /// number it last finished with, `None` when it never saved one.
    fn cursor(&self, tenant: &str, name: &str) -> Result<Option<u64>, StoreError>;

    /// Saves the reader `name`'s place. A cursor only moves forward: an
    /// older `seq` than the saved one leaves it where it is.
    fn set_cursor(&mut self, tenant: &str, name: &str, seq: u64) -> Result<(), StoreError>;
}

/// A boxed log is a log, so code can hold whichever backend was opened.
impl<L: EventLog + ?Sized> EventLog for Box<L> {
    fn append(&mut self, tenant: &str, events: &[Event]) -> Result<Appended, StoreError> {
        (**self).append(tenant, events)
    }

    fn replay(&self, tenant: &str, after_seq: u64, sink: &mut dyn FnMut(u64, Event)) -> Result<u64, StoreError> {
        (**self).replay(tenant, after_seq, sink)
    }

    fn count(&self, tenant: &str) -> Result<u64, StoreError> {
        (**self).count(tenant)
    }

    fn cursor(&self, tenant: &str, name: &str) -> Result<Option<u64>, StoreError> {
        (**self).cursor(tenant, name)
    }

    fn set_cursor(&mut self, tenant: &str, name: &str, seq: u64) -> Result<(), StoreError> {
        (**self).set_cursor(tenant, name, seq)
    }
}

/// What one [`EventLog::append`] did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Appended {
    /// Events written.
    pub accepted: usize,
    /// Events skipped because their key was already in the log (or earlier
    /// in the batch).
    pub duplicates: usize,
    /// The log's highest sequence number after the append (all tenants).
    pub last_seq: u64,
}

/// Where a log lives: an SQLite file (the default), or a database a URL
/// names. Shown as a person would recognise it, a URL without its password.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Location {
    File(std::path::PathBuf),
    Url(String),
}

impl Location {
    /// Opens the log there, creating and migrating it if needed.
    pub fn open(&self) -> Result<Box<dyn EventLog + Send>, StoreError> {
        match self {
            Location::File(path) => open(path),
            Location::Url(url) => open_url(url),
        }
    }

    /// A log several servers share (PostgreSQL) has a [`Doorbell`] that
    /// says when others appended; an SQLite file has one writer and none.
    /// `advertise`: where this server answers, for the others (see
    /// [`Doorbell::connect_advertising`]).
    pub fn doorbell(&self, advertise: Option<&str>) -> Result<Option<Doorbell>, StoreError> {
        match self {
            Location::File(_) => Ok(None),
            Location::Url(url) => {
                open_url(url)?;
                Doorbell::connect_advertising(url, advertise).map(Some)
            }
        }
    }
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Location::File(path) => write!(f, "{}", path.display()),
            Location::Url(url) => f.write_str(&postgres::url::without_password(url)),
        }
    }
}

/// Opens (creating and migrating if needed) the default backend: the SQLite
/// log at `db`.
pub fn open(db: &Path) -> Result<Box<dyn EventLog + Send>, StoreError> {
    Ok(Box::new(SqliteLog::open(db)?))
}

/// Opens (creating and migrating if needed) the log a database URL names:
/// `postgres://…` or `postgresql://…` is a [`PgLog`] in the connection's
/// current schema. Anything else is [`StoreError::BadUrl`], naming the
/// schemes accepted.
pub fn open_url(url: &str) -> Result<Box<dyn EventLog + Send>, StoreError> {
    let scheme = url.split_once("://").map(|(scheme, _)| scheme);
    match scheme {
        Some("postgres" | "postgresql") => Ok(Box::new(PgLog::connect(url)?)),
        _ => Err(StoreError::BadUrl {
            url: postgres::url::without_password(url),
            detail: match scheme {
                Some(scheme) => {
                    format!("its scheme is {scheme}://, and dialguard accepts postgres:// and postgresql://")
                }
                None => "it does not start with postgres:// or postgresql://, the schemes dialguard accepts".to_owned(),
            },
        }),
    }
}
