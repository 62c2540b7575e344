//! dialguard's HTTP server: the v1 API of `DESIGN.md`, the Twilio and
//! Telnyx webhooks, bearer-token tenancy, Prometheus metrics, the OpenAPI
//! document and the dashboard.
//!
//! The shape, shell around the pure core:
//!
//! ```text
//! request ─► auth (token → tenant) ─► body read field by field ─► 400 {"error","field"}
//!    decide ──► tenant's Engine (mutex, memory only) ──► answer
//!    ingest ──► writer thread: one transaction ─► fold into Engine ─► tick ─► append state changes ─► answer
//! ```
//!
//! Startup replays each tenant's log into a fresh engine; shutdown (a
//! signal, or the future given to [`Server::run`]) stops accepting, lets
//! requests in flight finish (each answers only once its events are
//! committed), then writes whatever the engines decided since and closes
//! the log. Nothing answered 200 is lost.
//!
//! Beyond the contract (additions, nothing changed): `POST
//! /v1/numbers/{number}/state` (an operator's move, with a reason; 409 when
//! illegal), `POST /v1/numbers/{number}/disputes` (a dispute step's
//! progress), `POST /v1/webhooks/telnyx`, and `rejected[].field` on ingest.
//!
//! The event clock (`--clock event`): "now" is the latest instant a request
//! carried. A registration without `acquired_at` before any request carried
//! an instant is recorded at the machine's time; pass `acquired_at` when a
//! harness's simulated days lie elsewhere and aging matters.
//!
//! Where things live: `app` (router, auth, body limits), `api/*` (one module
//! per noun), `webhooks/*`, `writer` (the log's single writer), `follow`
//! (several servers on one PostgreSQL log), `tenant`
//! (engine and clock), `dashboard/*` (HTML and SVG, no script), `metrics`,
//! `openapi`, `config`.

pub mod alerts;
mod api;
mod app;
mod body;
pub mod config;
mod dashboard;
mod error;
mod follow;
#[doc(hidden)]
pub mod fuzz;
mod metrics;
mod openapi;
mod tenant;
mod webhooks;
mod writer;

use std::collections::HashMap;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::thread::JoinHandle;

use axum::serve::ListenerExt;
use dialguard_core::Event;
use dialguard_core::engine::Engine;
use dialguard_core::guard::DncList;
use dialguard_store::{EventLog, Location};

pub use config::{ClockMode, ConfigError, ServerConfig};
pub use error::ApiError;
pub use webhooks::twilio::signature as twilio_signature;

use app::{AppState, Shared};
use metrics::Metrics;
use tenant::Tenant;
use writer::{Writer, WriterHandle};

/// Where and how to serve.
pub struct ServeOptions {
    pub listen: SocketAddr,
    /// The event log: an SQLite file (created on first start) or a
    /// PostgreSQL database.
    pub log: Location,
    pub clock: ClockMode,
    pub config: ServerConfig,
    /// The national Do-Not-Call list, applied to every tenant.
    pub dnc: Option<DncList>,
    /// On a shared log: the base URL other servers redirect this one's
    /// tenants' decisions to while it leads them (default: `http://` and
    /// the address bound).
    pub advertise: Option<String>,
}

/// Why the server could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("{0}")]
    Refused(String),
    #[error("cannot listen on {addr}: {source}; pick another --listen address or stop what holds the port")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Store(#[from] dialguard_store::StoreError),
    #[error("the engine's configuration cannot be used: {0}")]
    Engine(#[from] dialguard_core::engine::EngineError),
    #[error("{what}: {source}")]
    Io {
        what: &'static str,
        #[source]
        source: std::io::Error,
    },
}

/// What a start found in the log.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Replayed {
    pub tenants: usize,
    pub events: u64,
    /// On a log other servers share: the tenants this one leads at start
    /// (decides their state changes), and those another server leads.
    pub shared: Option<Leads>,
}

/// Which tenants a server on a shared log leads and which it follows.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Leads {
    pub leads: Vec<String>,
    pub follows: Vec<String>,
}

/// A server with its log replayed and its port bound, not yet serving.
pub struct Server {
    listener: std::net::TcpListener,
    state: AppState,
    writer_thread: JoinHandle<()>,
    follower: Option<follow::Follower>,
    alerter: Option<alerts::Alerter>,
    replayed: Replayed,
}

impl Server {
    /// Opens the log, replays every tenant into its engine, lets each engine
    /// catch up to now (recording what that decides), and binds the port.
    pub fn open(options: ServeOptions) -> Result<Server, ServeError> {
        let ServeOptions {
            listen,
            log,
            clock,
            config,
            dnc,
            advertise,
        } = options;
        config.check_listen(listen).map_err(ServeError::Refused)?;
        let listener =
            std::net::TcpListener::bind(listen).map_err(|source| ServeError::Bind { addr: listen, source })?;
        listener.set_nonblocking(true).map_err(|source| ServeError::Io {
            what: "setting the listening socket non-blocking",
            source,
        })?;
        let advertise = match advertise {
            Some(url) => url.trim_end_matches('/').to_owned(),
            None => format!(
                "http://{}",
                listener.local_addr().map_err(|source| ServeError::Io {
                    what: "reading the address bound",
                    source,
                })?
            ),
        };
        let mut doorbell = log.doorbell(Some(&advertise))?;
        let location = log.clone();
        let mut log = log.open()?;
        let mut tenants = HashMap::new();
        let mut seqs = HashMap::new();
        let mut replayed = Replayed::default();
        for name in config.tenants() {
            let mut engine = Engine::new(config.engine.clone())?;
            if let Some(list) = &dnc {
                engine.guard_mut().set_dnc(list.clone());
            }
            let tenant = Tenant::new(name.clone(), engine, clock);
            if let Some(bell) = doorbell.as_mut() {
                let leads = bell.lead(&name)?;
                tenant.leads.store(leads, Ordering::Release);
                if !leads {
                    *tenant.leader.write() = bell.leader(&name)?;
                }
                let shared = replayed.shared.get_or_insert_with(Leads::default);
                if leads { &mut shared.leads } else { &mut shared.follows }.push(name.clone());
            }
            let seq = replay(log.as_ref(), &tenant, &mut replayed)?;
            let changes = tenant.tick(&mut tenant.engine.lock());
            let seq = if changes.is_empty() {
                seq
            } else {
                log.append(&name, &changes)?.last_seq
            };
            seqs.insert(name.clone(), seq);
            tenants.insert(name, Arc::new(tenant));
            replayed.tenants += 1;
        }
        // Where each tenant's log stood when the server started: a new alert
        // endpoint receives what comes after it.
        let started: Vec<(Arc<Tenant>, u64)> = tenants
            .values()
            .map(|t| (t.clone(), seqs.get(&t.name).copied().unwrap_or_default()))
            .collect();
        let metrics = Arc::new(Metrics::new());
        let shared = doorbell.is_some();
        let (writer, writer_thread) =
            Writer::start(log, seqs, metrics.clone(), shared).map_err(|source| ServeError::Io {
                what: "starting the log writer",
                source,
            })?;
        let follower = doorbell
            .map(|bell| follow::start(bell, tenants.values().cloned().collect(), writer.clone()))
            .transpose()
            .map_err(|source| ServeError::Io {
                what: "starting to follow the shared log",
                source,
            })?;
        let alerter = alerts::start(&location, &config.alerts, started)?;
        let state = AppState {
            inner: Arc::new(Shared {
                config,
                log: location,
                clock,
                tenants,
                writer,
                metrics,
                csrf_key: {
                    let mut key = [0u8; 32];
                    getrandom::fill(&mut key).map_err(|e| ServeError::Io {
                        what: "drawing the dashboard's form key",
                        source: std::io::Error::other(e.to_string()),
                    })?;
                    key
                },
            }),
        };
        Ok(Server {
            listener,
            state,
            writer_thread,
            follower,
            alerter,
            replayed,
        })
    }

    /// The address actually bound (the port, when asked for port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.listener.local_addr().expect("a bound socket has an address")
    }

    pub fn replayed(&self) -> &Replayed {
        &self.replayed
    }

    /// Serves until `shutdown` completes, then drains and closes the log.
    pub async fn run(self, shutdown: impl Future<Output = ()> + Send + 'static) -> Result<(), ServeError> {
        let Server {
            listener,
            state,
            writer_thread,
            follower,
            alerter,
            ..
        } = self;
        let listener = tokio::net::TcpListener::from_std(listener).map_err(|source| ServeError::Io {
            what: "handing the socket to the runtime",
            source,
        })?;
        let (stop_ticks, ticks_stopped) = tokio::sync::watch::channel(false);
        let ticker = tokio::spawn(tick_periodically(state.clone(), ticks_stopped));
        let writer: WriterHandle = state.writer.clone();
        // Answers are small and a dialer waits on each: send them at once,
        // never held back for the previous segment's acknowledgement.
        let listener = listener.tap_io(|tcp| {
            let _ = tcp.set_nodelay(true);
        });
        let served = axum::serve(listener, app::router(state))
            .with_graceful_shutdown(shutdown)
            .await;
        let _ = stop_ticks.send(true);
        let _ = ticker.await;
        if let Some(follower) = follower {
            let _ = tokio::task::spawn_blocking(move || follower.stop()).await;
        }
        if let Some(alerter) = alerter {
            let _ = tokio::task::spawn_blocking(move || alerter.stop()).await;
        }
        writer.shutdown().await;
        drop(writer);
        tokio::task::spawn_blocking(move || writer_thread.join())
            .await
            .ok()
            .and_then(Result::ok)
            .ok_or(ServeError::Io {
                what: "stopping the log writer",
                source: std::io::Error::other("the writer thread panicked"),
            })?;
        served.map_err(|source| ServeError::Io {
            what: "serving HTTP",
            source,
        })
    }
}

/// Folds a tenant's log into its engine; returns its latest sequence number.
/// The event clock starts at the latest instant the log holds (not counting
/// registrations, whose instant may be the machine's clock).
fn replay(log: &dyn EventLog, tenant: &Tenant, replayed: &mut Replayed) -> Result<u64, ServeError> {
    let mut engine = tenant.engine.lock();
    let mut count = 0u64;
    let seq = log.replay(&tenant.name, 0, &mut |_, event| {
        engine.apply(&event);
        if !matches!(event, Event::NumberRegistered(_)) {
            tenant.clock.observe(event.at());
        }
        count += 1;
    })?;
    replayed.events += count;
    Ok(seq)
}

/// With the wall clock, time moves without requests too (rest periods end,
/// scores decay): each second every tenant's engine catches up. The event
/// clock moves only with requests, which tick the engine themselves (an
/// ingest always, a decision once a minute of event time has passed), so
/// the same requests always give the same state.
async fn tick_periodically(state: AppState, mut stop: tokio::sync::watch::Receiver<bool>) {
    if state.clock == ClockMode::Event {
        return;
    }
    let mut interval = tokio::time::interval(std::time::Duration::from_secs(1));
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        tokio::select! {
            _ = interval.tick() => {}
            _ = stop.changed() => return,
        }
        for tenant in state.tenants.values() {
            state.writer.tick(tenant.clone());
        }
    }
}

/// Completes on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = terminate => {}
    }
}

/// Opens the server and serves until Ctrl-C or SIGTERM on a runtime of its
/// own; `ready` is told the bound address (and what was replayed) before the
/// first request is taken. For the command line, which has no runtime.
pub fn serve_until_signal(options: ServeOptions, ready: impl FnOnce(SocketAddr, &Replayed)) -> Result<(), ServeError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|source| ServeError::Io {
            what: "starting the async runtime",
            source,
        })?;
    let server = Server::open(options)?;
    ready(server.local_addr(), server.replayed());
    runtime.block_on(server.run(shutdown_signal()))
}
