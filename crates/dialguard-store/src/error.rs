//! What can go wrong with the log, worded for the person who has to act.
//!
//! The enum is shared by every backend, so it names situations (locked, full,
//! from a newer version) rather than a driver's error codes; the driver's own
//! error rides along as the source where there is one. `db` is where the log
//! lives as a person would recognise it: a file path, `:memory:`, a URL
//! without its password.

use std::error::Error as StdError;

use crate::Unstorable;

type Source = Box<dyn StdError + Send + Sync + 'static>;

/// An error from an [`EventLog`](crate::EventLog).
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database {db} is locked by another dialguard process; stop it or use --db to pick another file")]
    Locked { db: String },

    #[error(
        "{db} is not a dialguard database ({detail}); pass --db (or --database-url) with a dialguard database or one that does not exist yet"
    )]
    NotDialguard { db: String, detail: String },

    #[error(
        "{db} was written by a newer dialguard (schema version {found}; this build reads up to {supported}); upgrade dialguard to open it"
    )]
    TooNew { db: String, found: u32, supported: u32 },

    #[error(
        "event {index} of the batch ({kind}) cannot be stored: {reason}; nothing from the batch was written, fix or drop that event and append again"
    )]
    Unstorable {
        index: usize,
        kind: &'static str,
        #[source]
        reason: Unstorable,
    },

    #[error(
        "entry {seq} of {db} cannot be read back: {reason}; the database is damaged or was written by an incompatible dialguard"
    )]
    Unreadable { db: String, seq: u64, reason: String },

    #[error(
        "the write-ahead log {wal} is damaged at frame {frame} of {frames}: SQLite would drop the {later} \
         frame(s) of committed data after it without a word. Keep a copy of it and the database; restore \
         from a backup, or set DIALGUARD_ACCEPT_WAL_DAMAGE=1 to open the database without them (re-import \
         the files they came from: calls and complaints are never counted twice)"
    )]
    WalDamaged {
        wal: String,
        frame: u64,
        frames: u64,
        later: u64,
    },

    #[error("{db} is damaged ({source}); restore it from a backup")]
    Damaged {
        db: String,
        #[source]
        source: Source,
    },

    #[error("no space left for {db}; free some disk space and retry (the batch was not written)")]
    DiskFull { db: String },

    #[error("{db} cannot be written ({source}); check its permissions and those of its directory")]
    ReadOnly {
        db: String,
        #[source]
        source: Source,
    },

    #[error(
        "cannot connect to {db} ({source}); check that PostgreSQL is running there and that the URL's host, port, user and database are right"
    )]
    Unreachable {
        db: String,
        #[source]
        source: Source,
    },

    #[error(
        "{url} is not a database dialguard can open: {detail}; give a PostgreSQL URL such as postgres://user@host:5432/dbname"
    )]
    BadUrl { url: String, detail: String },

    #[error("cannot open {db} ({source}); check that its directory exists and is writable")]
    Open {
        db: String,
        #[source]
        source: Source,
    },

    #[error("{db}: {doing} failed: {source}")]
    Backend {
        db: String,
        doing: &'static str,
        #[source]
        source: Source,
    },
}

impl StoreError {
    /// A stored row that does not decode: which log, which entry, and why.
    pub(crate) fn unreadable(db: &str, seq: u64, reason: String) -> StoreError {
        StoreError::Unreadable {
            db: db.to_owned(),
            seq,
            reason,
        }
    }
}

/// A driver's error turned into the [`StoreError`] a person can act on;
/// each backend says how for its own driver.
pub(crate) trait Classify {
    fn classify(self, db: &str, doing: &'static str) -> StoreError;
}

/// `result.doing(db, "appending")`: a driver result with its error
/// classified, naming what was being done.
pub(crate) trait Doing<T> {
    fn doing(self, db: &str, doing: &'static str) -> Result<T, StoreError>;
}

impl<T, E: Classify> Doing<T> for Result<T, E> {
    fn doing(self, db: &str, doing: &'static str) -> Result<T, StoreError> {
        self.map_err(|e| e.classify(db, doing))
    }
}
