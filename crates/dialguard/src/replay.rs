//! Restart is replay: every command that answers questions rebuilds the
//! core's state by folding the tenant's log.

use std::path::PathBuf;

use anyhow::{Context, Result};
use dialguard_core::Event;
use dialguard_core::engine::{Engine, EngineConfig};
use dialguard_core::metrics::Ledger;
use dialguard_store::{EventLog, Location};

/// The tenant the command line works in unless `--tenant` names another;
/// the server's tenant for requests without a token.
pub const TENANT: &str = "default";

/// Where the command line's log is: the database `--database-url` names
/// when given, else the SQLite file `--db`. The file's path also places the
/// files kept beside the log (the Do-Not-Call list), whichever holds it.
/// With it, the tenant a command works in and the configuration every
/// command and the server read.
pub struct Store {
    pub db: PathBuf,
    pub url: Option<String>,
    /// `--tenant`: `default`, a token's tenant, or `sim-dialguard` for what
    /// `simulate --record` wrote.
    pub tenant: String,
    /// The configuration file (`--config`, else `dialguard.toml` beside the
    /// database when there is one): engine, guard, lifecycle and loop
    /// settings, the same the server runs with.
    pub config: Option<PathBuf>,
    /// The configuration once read: a command asks for it more than once.
    pub loaded: std::sync::OnceLock<dialguard_server::ServerConfig>,
}

impl Store {
    /// The SQLite file at `db`, the default tenant and no configuration file.
    pub fn file(db: PathBuf) -> Store {
        Store {
            db,
            url: None,
            tenant: TENANT.to_owned(),
            config: None,
            loaded: std::sync::OnceLock::new(),
        }
    }

    /// The configuration file in force: `--config`, else `dialguard.toml`
    /// beside the database when it exists.
    pub fn config_path(&self) -> Option<PathBuf> {
        self.config.clone().or_else(|| {
            let beside = self.db.with_file_name("dialguard.toml");
            beside.exists().then_some(beside)
        })
    }

    /// The server's configuration as the file in force gives it (defaults
    /// without one).
    pub fn server_config(&self) -> Result<dialguard_server::ServerConfig> {
        if let Some(config) = self.loaded.get() {
            return Ok(config.clone());
        }
        let config = match self.config_path() {
            Some(path) => dialguard_server::ServerConfig::load(&path)?,
            None => dialguard_server::ServerConfig::default(),
        };
        Ok(self.loaded.get_or_init(|| config).clone())
    }

    /// The engine's settings from the configuration in force.
    pub fn engine_config(&self) -> Result<EngineConfig> {
        Ok(self.server_config()?.engine)
    }

    pub fn location(&self) -> Location {
        match &self.url {
            Some(url) => Location::Url(url.clone()),
            None => Location::File(self.db.clone()),
        }
    }

    /// A file kept beside the log: `dialguard.dnc` beside `dialguard.db`.
    pub fn beside(&self, extension: &str) -> PathBuf {
        self.db.with_extension(extension)
    }
}

impl std::fmt::Display for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.location().fmt(f)
    }
}

pub fn open_log(store: &Store) -> Result<Box<dyn EventLog + Send>> {
    store
        .location()
        .open()
        .with_context(|| format!("opening the event log {store}"))
}

/// The log for a command that reads it (or changes what is already in it):
/// a SQLite file that does not exist is an error, not a new empty log, so a
/// mistyped `--db` is not answered with "no numbers".
pub fn open_existing(store: &Store) -> Result<Box<dyn EventLog + Send>> {
    if store.url.is_none() && !store.db.exists() {
        anyhow::bail!(
            "there is no database at {}: pass --db with the path of yours (or set DIALGUARD_DB), \
             or start one with `dialguard numbers add` or `dialguard import`",
            store.db.display()
        );
    }
    open_log(store)
}

/// The wall clock to the second: the instant a command without `--at`
/// answers as of, written as the reader expects (`2026-03-02T15:04:05Z`).
pub fn now() -> jiff::Timestamp {
    let now = jiff::Timestamp::now();
    now.round(jiff::Unit::Second).unwrap_or(now)
}

/// The instant a command answers as of: `--at`, else the wall clock, the
/// same rule for every command and the server's default clock. When the log
/// ends more than a day before it (a file of last month's records), a note
/// on stderr says so and how to look as of then.
pub fn as_of(at: Option<jiff::Timestamp>, newest: Option<jiff::Timestamp>) -> jiff::Timestamp {
    if let Some(at) = at {
        return at;
    }
    let now = now();
    if let Some(newest) = newest.filter(|n| now.duration_since(*n) > jiff::SignedDuration::from_hours(24)) {
        eprintln!(
            "note: answering as of now ({}); the newest record in the log is {} ({} days earlier): \
             pass --at {} to answer as of then",
            now,
            newest,
            now.duration_since(newest).as_hours() / 24,
            newest
        );
    }
    now
}

/// Folds every event of the store's tenant, in log order.
pub fn replay(store: &Store, log: &dyn EventLog, fold: impl FnMut(&Event)) -> Result<u64> {
    replay_as_of(store, log, None, fold)
}

/// Folds the tenant's events in log order, only those of `at` or before
/// when it is given: a question as of an instant is answered from what
/// had happened by then, not from what the log learned later.
pub fn replay_as_of(
    store: &Store,
    log: &dyn EventLog,
    at: Option<jiff::Timestamp>,
    mut fold: impl FnMut(&Event),
) -> Result<u64> {
    let mut count = 0;
    log.replay(&store.tenant, 0, &mut |_, event| {
        if at.is_none_or(|at| event.at() <= at) {
            fold(&event);
            count += 1;
        }
    })
    .context("replaying the event log")?;
    Ok(count)
}

/// The metrics ledger rebuilt from the log as of `at` (all of it without).
pub fn ledger(store: &Store, log: &dyn EventLog, at: Option<jiff::Timestamp>) -> Result<Ledger> {
    let mut ledger = Ledger::new(store.engine_config()?.metrics);
    replay_as_of(store, log, at, |event| ledger.apply(event))?;
    Ok(ledger)
}

/// Every component (ledger, guard, labels, lifecycle) rebuilt from the log,
/// with the configuration in force. Time has not moved: call
/// [`Engine::tick`] to bring it to now.
pub fn engine(store: &Store, log: &dyn EventLog) -> Result<Engine> {
    engine_as_of(store, log, None)
}

/// [`engine`] from the events of `at` or before only, when it is given.
pub fn engine_as_of(store: &Store, log: &dyn EventLog, at: Option<jiff::Timestamp>) -> Result<Engine> {
    let mut engine = Engine::new(store.engine_config()?).context("the engine's configuration")?;
    replay_as_of(store, log, at, |event| engine.apply(event))?;
    Ok(engine)
}
