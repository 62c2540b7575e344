//! Alerts: what an operations lead must hear about without opening the
//! dashboard (a number newly labeled, a quarantine, a plan's phase moving,
//! a number retired), sent to the endpoints `[[alerts]]` names.
//!
//! ```text
//! the tenant's log ──► Watch (labeled set) ──► Alert ──► outbox per endpoint ──► POST
//!   (replayed from          pure: seq + event      kinds it asked for     signed, retried
//!    its own connection)    → at most one alert                           with backoff
//! ```
//!
//! - **The log is the outbox.** Alerts are derived from the events the
//!   engine already keeps, so nothing is written twice and nothing is lost:
//!   each endpoint's place in the log (its *cursor*, saved in the store) only
//!   moves past an alert once the endpoint answered 2xx. A restart, or a
//!   receiver that was down for a day, resumes at the first alert not
//!   delivered. Delivery is at least once: each alert carries an id
//!   (`X-Dialguard-Alert-Id`, the tenant and the event's sequence number) a
//!   receiver can deduplicate on.
//! - **A new endpoint starts at the end of the log**: adding one to a
//!   running deployment does not replay a year of history at it.
//! - **Signed** (when the endpoint has a `secret`): `X-Dialguard-Signature:
//!   v1=<hex HMAC-SHA256 of "<X-Dialguard-Timestamp>.<body>">`, the scheme
//!   Stripe and Slack use, so a receiver can refuse forgeries and replays.
//! - **Retried** with a doubling pause (1 s up to 5 minutes) while the
//!   endpoint fails or cannot be reached; the alerts behind it wait, in order.
//! - With several servers on one PostgreSQL log, only the server leading a
//!   tenant sends its alerts.
//!
//! - **Dispute deadlines** are not events: they pass with time. The dispute
//!   steps due (to file or to follow up) are looked for whenever the log
//!   moves and every minute; each step, action and due date is sent once,
//!   and its sending is saved in the store beside the cursors.
//!
//! Pool headroom is not alerted on yet.

use std::collections::{HashSet, VecDeque};
use std::fmt::Write as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use dialguard_core::lifecycle::NumberState;
use dialguard_core::number::E164;
use dialguard_core::{Carrier, Event};
use dialguard_store::{EventLog, Location};
use hmac::{Hmac, Mac};
use lettre::message::Mailbox;
use lettre::message::header::ContentType;
use lettre::{Message, SmtpTransport, Transport};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::tenant::Tenant;

/// How often each tenant's log is read for new events.
const POLL: Duration = Duration::from_millis(250);
/// The first pause after a failed delivery; it doubles up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_secs(1);
const MAX_BACKOFF: Duration = Duration::from_secs(300);
/// How often dispute deadlines are looked for when no event came.
const DUE_EVERY: Duration = Duration::from_secs(60);
/// How often new calls alone have pools' use looked at (`pool_headroom`).
const CALLS_EVERY: Duration = Duration::from_secs(2);
/// How long one delivery may take before it counts as failed.
const TIMEOUT: Duration = Duration::from_secs(10);

/// What an alert is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertKind {
    /// A carrier shows a number labeled that it did not show labeled before.
    Label,
    /// A carrier shows a labeled number clean again.
    LabelCleared,
    /// A number was stopped at once (a label, a complaint, its figures).
    Quarantine,
    /// Any other change of a number's state: a plan's phases, a return to
    /// `active`, `watch`, a retirement.
    State,
    /// A step of a dispute calendar is due (to file, or to follow up) or
    /// overdue; once per step, action and due date.
    DisputeDue,
    /// A pool's numbers have placed most of what their caps allow in the
    /// last 24 hours (at least [`HEADROOM_USED`] of it): the dialer is about
    /// to be told `pool_exhausted`. Once per pool and business day.
    PoolHeadroom,
    /// A number's own answer rate is so far under its pool's that it is
    /// probably labeled, and it is held for the day (no monitoring feed
    /// needed). Once per number and business day.
    SuspectedLabel,
}

/// The share of a pool's caps whose use raises a `pool_headroom` alert.
pub const HEADROOM_USED: f64 = 0.9;

impl AlertKind {
    pub const ALL: [AlertKind; 7] = [
        AlertKind::Label,
        AlertKind::LabelCleared,
        AlertKind::Quarantine,
        AlertKind::State,
        AlertKind::DisputeDue,
        AlertKind::PoolHeadroom,
        AlertKind::SuspectedLabel,
    ];
}

/// How an endpoint wants its alerts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertFormat {
    /// The alert as JSON (see [`Alert`]).
    #[default]
    Json,
    /// `{"text": "…"}`: a Slack (or Mattermost, Rocket.Chat, Teams
    /// workflow) incoming webhook.
    Slack,
}

/// One `[[alerts]]` entry.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertEndpoint {
    /// Names the endpoint in logs and its place in the log; keep it when
    /// the URL changes, or the new name starts at the end of the log.
    pub name: String,
    /// Where alerts are POSTed (`http://` or `https://`), or the mail
    /// server that sends them as email: `smtp://[user:password@]host[:port]`
    /// (`?tls=required` for STARTTLS) or `smtps://…` (TLS from the start).
    pub url: String,
    /// Email: who gets the alerts.
    #[serde(default)]
    pub to: Vec<String>,
    /// Email: who they come from.
    #[serde(default)]
    pub from: Option<String>,
    #[serde(default)]
    pub format: AlertFormat,
    /// Signs every alert (see the module's documentation).
    #[serde(default)]
    pub secret: Option<String>,
    /// The tenant whose alerts go here. Default: `default`.
    #[serde(default = "default_tenant")]
    pub tenant: String,
    /// The kinds sent. Default: every kind.
    #[serde(default = "every_kind")]
    pub on: Vec<AlertKind>,
}

fn default_tenant() -> String {
    crate::config::DEFAULT_TENANT.to_owned()
}

fn every_kind() -> Vec<AlertKind> {
    AlertKind::ALL.to_vec()
}

impl AlertEndpoint {
    /// What is wrong with the entry, if anything, for the configuration's
    /// error (`index` is its place among `[[alerts]]`).
    pub fn check(&self, index: usize) -> Result<(), String> {
        if self.name.trim().is_empty() {
            return Err(format!("alerts[{index}].name is empty: name the endpoint"));
        }
        let scheme = |schemes: &[&str]| {
            schemes.iter().any(|s| {
                self.url.len() > s.len()
                    && self.url.is_char_boundary(s.len())
                    && self.url[..s.len()].eq_ignore_ascii_case(s)
            })
        };
        if scheme(&["smtp://", "smtps://"]) {
            self.mailer().map_err(|e| format!("alerts[{index}].url: {e}"))?;
            if self.to.is_empty() {
                return Err(format!(
                    "alerts[{index}].to is empty: an email endpoint needs the addresses to send to"
                ));
            }
            self.message("test", "test")
                .map_err(|e| format!("alerts[{index}]: {e}"))?;
        } else if !scheme(&["http://", "https://"]) {
            return Err(format!(
                "alerts[{index}].url {:?} is neither an http(s):// URL nor an smtp(s):// mail server",
                self.url
            ));
        } else if !self.to.is_empty() || self.from.is_some() {
            return Err(format!(
                "alerts[{index}]: to and from are for an smtp:// url; a web hook takes neither"
            ));
        }
        if self.secret.as_deref().is_some_and(|s| s.trim().is_empty()) {
            return Err(format!(
                "alerts[{index}].secret is empty: leave it out to send unsigned"
            ));
        }
        if self.on.is_empty() {
            return Err(format!(
                "alerts[{index}].on is empty: list the kinds to send (label, label_cleared, quarantine, state, dispute_due) or leave it out for all"
            ));
        }
        Ok(())
    }

    fn cursor_name(&self) -> String {
        format!("alerts:{}", self.name)
    }

    /// Marks, in the store, that the alert `id` (one not in the log's order)
    /// was sent here.
    fn sent_name(&self, id: &str) -> String {
        format!("alerts:{}:sent:{id}", self.name)
    }

    fn is_email(&self) -> bool {
        self.url.get(..4).is_some_and(|s| s.eq_ignore_ascii_case("smtp"))
    }

    /// The mail server an email endpoint names.
    fn mailer(&self) -> Result<SmtpTransport, String> {
        SmtpTransport::from_url(&self.url)
            .map(|builder| builder.timeout(Some(TIMEOUT)).build())
            .map_err(|e| format!("{e}; write it as smtp://[user:password@]host[:port] or smtps://…"))
    }

    /// One email to every `to`.
    fn message(&self, subject: &str, body: &str) -> Result<Message, String> {
        let from = self
            .from
            .as_deref()
            .ok_or("from is missing: an email endpoint needs the address alerts come from")?;
        let mut builder = Message::builder()
            .from(from.parse::<Mailbox>().map_err(|e| format!("from {from:?}: {e}"))?)
            .subject(subject)
            .header(ContentType::TEXT_PLAIN);
        for to in &self.to {
            builder = builder.to(to.parse::<Mailbox>().map_err(|e| format!("to {to:?}: {e}"))?);
        }
        builder.body(body.to_owned()).map_err(|e| e.to_string())
    }
}

/// One alert, as the JSON format sends it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Alert {
    /// `<tenant>-<sequence number of the event>`: the same alert sent twice
    /// has the same id.
    pub id: String,
    pub tenant: String,
    pub kind: AlertKind,
    /// When it happened (the event's instant), RFC 3339, UTC.
    pub at: String,
    /// The number it is about (every kind but `pool_headroom`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub number: Option<E164>,
    /// For `pool_headroom`: the pool, its calls in the last 24 hours and what
    /// its numbers' caps allow in 24 hours.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pool: Option<PoolUse>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub carrier: Option<Carrier>,
    /// The label text, for `label`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// The new state, for `quarantine` and `state`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<NumberState>,
    /// For `dispute_due`: the step, what to do (`file` or `follow up`), the
    /// date it is due and the days it is late (0: due today).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dispute: Option<DueStep>,
    /// In plain words.
    pub text: String,
    #[serde(skip)]
    seq: u64,
}

impl Alert {
    /// An alert about `number` (or, with `None`, about a pool), with no
    /// carrier, label, state, dispute or pool said yet, and not from the
    /// log (`seq` 0).
    fn new(id: String, tenant: &str, kind: AlertKind, at: &str, number: Option<E164>, text: String) -> Alert {
        Alert {
            id,
            tenant: tenant.to_owned(),
            kind,
            at: at.to_owned(),
            number,
            pool: None,
            carrier: None,
            label: None,
            state: None,
            dispute: None,
            text,
            seq: 0,
        }
    }
}

/// How much of its caps a pool has used.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PoolUse {
    pub name: String,
    pub calls: u64,
    pub caps: u64,
}

/// Each pool's calls in the last 24 hours and what its numbers' caps allow,
/// by pool name: the wallboard's "calls today against caps" and the
/// `pool_headroom` alert read the same sums.
pub(crate) fn pool_use(numbers: &[dialguard_core::engine::NumberSummary]) -> Vec<PoolUse> {
    let mut pools: Vec<PoolUse> = Vec::new();
    for n in numbers {
        let i = match pools.binary_search_by(|p| p.name.as_str().cmp(&n.pool)) {
            Ok(i) => i,
            Err(i) => {
                let name = n.pool.clone();
                pools.insert(
                    i,
                    PoolUse {
                        name,
                        calls: 0,
                        caps: 0,
                    },
                );
                i
            }
        };
        pools[i].calls += u64::from(n.calls_today);
        pools[i].caps += u64::from(n.cap_today);
    }
    pools
}

/// The pools that have used at least [`HEADROOM_USED`] of their caps, as
/// alerts (their ids name the pool and the business day, so each pool is
/// named at most once a day however often it is looked at).
pub fn headroom_alerts(tenant: &str, engine: &dialguard_core::engine::Engine, now: jiff::Timestamp) -> Vec<Alert> {
    let today = engine.today(now);
    let at = now.strftime("%Y-%m-%dT%H:%M:%SZ").to_string();
    let pools = pool_use(&engine.numbers(now));
    pools
        .into_iter()
        .filter(|p| p.caps > 0 && p.calls as f64 >= HEADROOM_USED * p.caps as f64)
        .map(|p| {
            let text = format!(
                "pool {} has placed {} calls in 24 hours of the {} its numbers' caps allow ({:.0} %): {} left",
                p.name,
                p.calls,
                p.caps,
                100.0 * p.calls as f64 / p.caps as f64,
                p.caps.saturating_sub(p.calls)
            );
            let id = format!("{tenant}-headroom-{}-{today}", p.name);
            Alert {
                pool: Some(p),
                ..Alert::new(id, tenant, AlertKind::PoolHeadroom, &at, None, text)
            }
        })
        .collect()
}

/// The numbers held today as suspected labeled, as alerts (their ids name
/// the number and the business day: each is named at most once a day).
pub fn suspected_alerts(tenant: &str, engine: &dialguard_core::engine::Engine, now: jiff::Timestamp) -> Vec<Alert> {
    let today = engine.today(now);
    let at = now.strftime("%Y-%m-%dT%H:%M:%SZ").to_string();
    engine
        .suspected()
        .into_iter()
        .map(|(number, why)| {
            Alert::new(
                format!("{tenant}-suspected-{number}-{today}"),
                tenant,
                AlertKind::SuspectedLabel,
                &at,
                Some(number),
                format!("{number} is probably labeled: {why}"),
            )
        })
        .collect()
}

/// A dispute step that is due.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DueStep {
    pub step: &'static str,
    pub action: &'static str,
    pub due: String,
    pub days_late: i32,
}

/// The dispute steps due on `now`'s date in the business's zone, as alerts
/// (their ids name the step, the action and the due date, so each is sent
/// once however often it is looked for).
pub fn due_alerts(tenant: &str, engine: &dialguard_core::engine::Engine, now: jiff::Timestamp) -> Vec<Alert> {
    let today = engine.today(now);
    let at = now.strftime("%Y-%m-%dT%H:%M:%SZ").to_string();
    engine
        .disputes(now)
        .into_iter()
        .filter_map(|row| {
            let action = row.action?;
            let (due, days_late) = row.overdue(today)?;
            let step = row.step.as_str();
            let when = crate::dashboard::lateness(days_late);
            Some(Alert {
                dispute: Some(DueStep {
                    step,
                    action,
                    due: due.to_string(),
                    days_late,
                }),
                ..Alert::new(
                    format!("{tenant}-due-{}-{step}-{}-{due}", row.number, action.replace(' ', "_")),
                    tenant,
                    AlertKind::DisputeDue,
                    &at,
                    Some(row.number),
                    format!("{}: dispute step {step}, {action}, {when} (due {due})", row.number),
                )
            })
        })
        .collect()
}

/// Turns a tenant's events into alerts; remembers which numbers each
/// carrier shows labeled, so only a change is news.
#[derive(Debug, Default)]
pub struct Watch {
    labeled: HashSet<(E164, Carrier)>,
}

impl Watch {
    /// The alert the event at `seq` raises, if any.
    pub fn see(&mut self, tenant: &str, seq: u64, event: &Event) -> Option<Alert> {
        let at = event.at().strftime("%Y-%m-%dT%H:%M:%SZ").to_string();
        let alert = |kind, number, text| Alert {
            seq,
            ..Alert::new(format!("{tenant}-{seq}"), tenant, kind, &at, Some(number), text)
        };
        match event {
            Event::Label(l) => {
                let key = (l.number, l.carrier);
                match &l.label {
                    Some(text) if self.labeled.insert(key) => Some(Alert {
                        carrier: Some(l.carrier),
                        label: Some(text.clone()),
                        ..alert(
                            AlertKind::Label,
                            l.number,
                            format!(
                                "{} ({}) shows {} as \"{}\" (seen by {} at {at})",
                                l.carrier.as_str(),
                                l.carrier.engine(),
                                l.number,
                                text,
                                l.source
                            ),
                        )
                    }),
                    None if self.labeled.remove(&key) => Some(Alert {
                        carrier: Some(l.carrier),
                        ..alert(
                            AlertKind::LabelCleared,
                            l.number,
                            format!(
                                "{} ({}) shows {} clean again (seen by {} at {at})",
                                l.carrier.as_str(),
                                l.carrier.engine(),
                                l.number,
                                l.source
                            ),
                        )
                    }),
                    _ => None,
                }
            }
            Event::StateChanged(s) => {
                let kind = if s.state == NumberState::Quarantined {
                    AlertKind::Quarantine
                } else {
                    AlertKind::State
                };
                Some(Alert {
                    state: Some(s.state),
                    ..alert(
                        kind,
                        s.number,
                        format!("{} is now {} at {at}: {}", s.number, s.state.as_str(), s.reason),
                    )
                })
            }
            _ => None,
        }
    }
}

/// The body and headers of one delivery.
#[derive(Debug, PartialEq)]
pub struct Delivery {
    pub body: String,
    pub headers: Vec<(&'static str, String)>,
}

/// What is sent to `endpoint` for `alert` at `sent_at` (Unix seconds).
pub fn delivery(endpoint: &AlertEndpoint, alert: &Alert, sent_at: i64) -> Delivery {
    let body = match endpoint.format {
        AlertFormat::Json => serde_json::to_string(alert).expect("an alert serializes"),
        AlertFormat::Slack => {
            serde_json::json!({ "text": format!("dialguard [{}]: {}", alert.tenant, alert.text) }).to_string()
        }
    };
    let mut headers = vec![
        ("content-type", "application/json".to_owned()),
        ("x-dialguard-alert-id", alert.id.clone()),
        ("x-dialguard-timestamp", sent_at.to_string()),
    ];
    if let Some(secret) = &endpoint.secret {
        headers.push(("x-dialguard-signature", signature(secret, sent_at, &body)));
    }
    Delivery { body, headers }
}

/// `v1=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>`: what a receiver
/// recomputes to check an alert came from this server.
pub fn signature(secret: &str, timestamp: i64, body: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes a key of any length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    let mut out = String::from("v1=");
    for byte in mac.finalize().into_bytes() {
        let _ = write!(out, "{byte:02x}");
    }
    out
}

/// One try at sending an alert to an endpoint, as the wallboard lists it.
#[derive(Clone, Debug, PartialEq)]
pub struct Attempt {
    /// When it was tried (the machine's clock).
    pub tried: jiff::Timestamp,
    pub endpoint: String,
    pub kind: AlertKind,
    pub number: Option<E164>,
    /// The pool, for `pool_headroom`.
    pub pool: Option<String>,
    pub text: String,
    /// What went wrong, with when it is tried again; `None`: delivered.
    pub failed: Option<String>,
}

/// The latest [`Attempt`]s, oldest first; past [`Deliveries::KEEP`] the
/// oldest are forgotten.
#[derive(Debug, Default)]
pub struct Deliveries(VecDeque<Attempt>);

impl Deliveries {
    pub const KEEP: usize = 50;

    pub fn record(&mut self, attempt: Attempt) {
        if self.0.len() == Self::KEEP {
            self.0.pop_front();
        }
        self.0.push_back(attempt);
    }

    /// Newest first.
    pub fn latest(&self) -> impl Iterator<Item = &Attempt> {
        self.0.iter().rev()
    }
}

/// One endpoint's queue.
struct Outbox {
    endpoint: AlertEndpoint,
    /// The mail server, for an email endpoint.
    mailer: Option<SmtpTransport>,
    /// Where the endpoint's place in the log stands.
    cursor: u64,
    pending: VecDeque<Alert>,
    /// Dispute steps due, waiting to be sent (after the log's alerts).
    due: VecDeque<Alert>,
    /// The due alerts queued or sent (their sending is also saved in the
    /// store, so a restart does not send them again).
    due_seen: HashSet<String>,
    retry_at: Instant,
    backoff: Duration,
}

/// One tenant's alerts.
struct Feed {
    tenant: Arc<Tenant>,
    /// Where the log stood when the server started: a new endpoint's place.
    started_at: u64,
    /// Whether the log was read once through (which numbers are labeled,
    /// each endpoint's place).
    loaded: bool,
    watch: Watch,
    /// The last event read from the log.
    seen: u64,
    outboxes: Vec<Outbox>,
    /// When dispute deadlines and pools' use were last looked at.
    due_checked: Option<Instant>,
    /// Whether events came since then.
    unlooked: bool,
}

/// The alerting thread; [`Alerter::stop`] ends it.
pub struct Alerter {
    stop: Arc<AtomicBool>,
    thread: JoinHandle<()>,
}

impl Alerter {
    /// Ends the thread (within a delivery's timeout) and waits for it.
    pub fn stop(self) {
        self.stop.store(true, Ordering::Release);
        self.thread.thread().unpark();
        let _ = self.thread.join();
    }
}

/// Starts sending the alerts `endpoints` ask for, reading the log at
/// `location` on a connection of its own, on a thread of its own: the read
/// through each tenant's log that it begins with is not the server's
/// start-up. `tenants`: each with the sequence number its log stood at when
/// the server started. `None` when there are no endpoints.
pub fn start(
    location: &Location,
    endpoints: &[AlertEndpoint],
    tenants: Vec<(Arc<Tenant>, u64)>,
) -> Result<Option<Alerter>, dialguard_store::StoreError> {
    if endpoints.is_empty() {
        return Ok(None);
    }
    let log = location.open()?;
    let mut feeds = Vec::new();
    for (tenant, started_at) in tenants {
        let mut outboxes = Vec::new();
        for endpoint in endpoints.iter().filter(|e| e.tenant == tenant.name) {
            let mailer = if endpoint.is_email() {
                Some(endpoint.mailer().map_err(|e| dialguard_store::StoreError::Backend {
                    db: "alerts".to_owned(),
                    doing: "reading an email endpoint's url",
                    source: e.into(),
                })?)
            } else {
                None
            };
            outboxes.push(Outbox {
                endpoint: endpoint.clone(),
                mailer,
                cursor: 0,
                pending: VecDeque::new(),
                due: VecDeque::new(),
                due_seen: HashSet::new(),
                retry_at: Instant::now(),
                backoff: FIRST_BACKOFF,
            });
        }
        if !outboxes.is_empty() {
            feeds.push(Feed {
                tenant,
                started_at,
                loaded: false,
                watch: Watch::default(),
                seen: 0,
                outboxes,
                due_checked: None,
                unlooked: false,
            });
        }
    }
    let stop = Arc::new(AtomicBool::new(false));
    let stopped = stop.clone();
    let thread = std::thread::Builder::new()
        .name("dialguard-alerts".into())
        .spawn(move || run(log, feeds, &stopped))
        .map_err(|e| dialguard_store::StoreError::Backend {
            db: "alerts".to_owned(),
            doing: "starting the alerting thread",
            source: e.into(),
        })?;
    Ok(Some(Alerter { stop, thread }))
}

impl Feed {
    /// Reads the tenant's log through once: which numbers are labeled now,
    /// each endpoint's saved place (a new one's is where the log stood when
    /// the server started), and the alerts after it.
    fn load(&mut self, log: &mut dyn EventLog) -> Result<(), dialguard_store::StoreError> {
        let name = &self.tenant.name;
        for outbox in &mut self.outboxes {
            let place = outbox.endpoint.cursor_name();
            outbox.cursor = match log.cursor(name, &place)? {
                Some(seq) => seq,
                None => {
                    log.set_cursor(name, &place, self.started_at)?;
                    self.started_at
                }
            };
        }
        let mut events = Vec::new();
        self.seen = log.replay(name, 0, &mut |seq, event| {
            if !matches!(event, Event::Call(_)) {
                events.push((seq, event));
            }
        })?;
        for (seq, event) in events {
            self.take(seq, &event);
        }
        self.loaded = true;
        Ok(())
    }

    /// Queues the dispute steps due now that an outbox has not had.
    fn look_for_due(&mut self, log: &dyn EventLog) {
        let wants = |kind| self.outboxes.iter().any(|o| o.endpoint.on.contains(&kind));
        let (disputes, headroom, suspected) = (
            wants(AlertKind::DisputeDue),
            wants(AlertKind::PoolHeadroom),
            wants(AlertKind::SuspectedLabel),
        );
        if !disputes && !headroom && !suspected {
            return;
        }
        let now = self.tenant.clock.now();
        let mut alerts = Vec::new();
        {
            let engine = self.tenant.engine.lock();
            if disputes {
                alerts.extend(due_alerts(&self.tenant.name, &engine, now));
            }
            if headroom {
                alerts.extend(headroom_alerts(&self.tenant.name, &engine, now));
            }
            if suspected {
                alerts.extend(suspected_alerts(&self.tenant.name, &engine, now));
            }
        }
        for outbox in &mut self.outboxes {
            for alert in &alerts {
                if !outbox.endpoint.on.contains(&alert.kind) || outbox.due_seen.contains(&alert.id) {
                    continue;
                }
                outbox.due_seen.insert(alert.id.clone());
                let sent = log
                    .cursor(&self.tenant.name, &outbox.endpoint.sent_name(&alert.id))
                    .ok()
                    .flatten()
                    .is_some();
                if !sent {
                    outbox.due.push_back(alert.clone());
                }
            }
        }
    }

    /// Reads the event at `seq` into every outbox that wants its alert.
    fn take(&mut self, seq: u64, event: &Event) {
        let Some(alert) = self.watch.see(&self.tenant.name, seq, event) else {
            return;
        };
        for outbox in &mut self.outboxes {
            if seq > outbox.cursor && outbox.endpoint.on.contains(&alert.kind) {
                outbox.pending.push_back(alert.clone());
            }
        }
    }
}

fn run(mut log: Box<dyn EventLog + Send>, mut feeds: Vec<Feed>, stop: &AtomicBool) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(TIMEOUT))
        .http_status_as_error(false)
        .build()
        .into();
    while !stop.load(Ordering::Acquire) {
        for feed in &mut feeds {
            if !feed.loaded {
                if let Err(e) = feed.load(log.as_mut()) {
                    eprintln!("alerts: reading {}'s log: {e}; trying again", feed.tenant.name);
                }
                continue;
            }
            let mut events = Vec::new();
            let before = feed.seen;
            match log.replay(&feed.tenant.name, feed.seen, &mut |seq, event| {
                if !matches!(event, Event::Call(_)) {
                    events.push((seq, event));
                }
            }) {
                Ok(seen) => feed.seen = seen,
                Err(e) => eprintln!("alerts: reading {}'s log: {e}; trying again", feed.tenant.name),
            }
            let moved = !events.is_empty();
            for (seq, event) in events {
                feed.take(seq, &event);
            }
            // With several servers on one log, the tenant's leader sends.
            if !feed.tenant.leads.load(Ordering::Acquire) {
                continue;
            }
            // Deadlines pass with time as well as with events.
            // New calls move a pool's use: looked at within seconds, not
            // on every poll of a busy log.
            feed.unlooked |= feed.seen > before;
            let called = feed.unlooked && feed.due_checked.is_none_or(|t| t.elapsed() >= CALLS_EVERY);
            if moved || called || feed.due_checked.is_none_or(|t| t.elapsed() >= DUE_EVERY) {
                feed.due_checked = Some(Instant::now());
                feed.unlooked = false;
                feed.look_for_due(log.as_ref());
            }
            for outbox in &mut feed.outboxes {
                deliver(&agent, log.as_mut(), &feed.tenant, outbox, feed.seen, stop);
            }
        }
        std::thread::park_timeout(POLL);
    }
}

/// Sends what `outbox` has waiting, in order, until one fails.
fn deliver(
    agent: &ureq::Agent,
    log: &mut dyn EventLog,
    owner: &Tenant,
    outbox: &mut Outbox,
    seen: u64,
    stop: &AtomicBool,
) {
    let tenant = owner.name.as_str();
    let name = outbox.endpoint.cursor_name();
    if outbox.pending.is_empty() && outbox.due.is_empty() && outbox.cursor >= seen {
        return;
    }
    // Another server that led the tenant before may have sent some.
    if let Ok(Some(saved)) = log.cursor(tenant, &name)
        && saved > outbox.cursor
    {
        outbox.cursor = saved;
        outbox.pending.retain(|a| a.seq > saved);
    }
    let sent_in_order = drain(
        agent,
        outbox,
        owner,
        stop,
        |o| &mut o.pending,
        |o, alert| {
            o.cursor = alert.seq;
            save(log, tenant, &name, alert.seq);
        },
    );
    if !sent_in_order {
        return;
    }
    // Nothing waits: the place moves to the end of what was read.
    if outbox.cursor < seen {
        outbox.cursor = seen;
        save(log, tenant, &name, seen);
    }
    drain(
        agent,
        outbox,
        owner,
        stop,
        |o| &mut o.due,
        |o, alert| {
            save(log, tenant, &o.endpoint.sent_name(&alert.id), 1);
        },
    );
}

/// Sends the alerts of one of `outbox`'s queues, in order, each taken off
/// once the endpoint took it and recorded by `sent`; false when one failed
/// (its next try is put off) or the thread is stopping.
fn drain(
    agent: &ureq::Agent,
    outbox: &mut Outbox,
    owner: &Tenant,
    stop: &AtomicBool,
    queue: fn(&mut Outbox) -> &mut VecDeque<Alert>,
    mut sent: impl FnMut(&mut Outbox, &Alert),
) -> bool {
    while let Some(alert) = queue(outbox).front().cloned() {
        if Instant::now() < outbox.retry_at || stop.load(Ordering::Acquire) {
            return false;
        }
        let failed = match &outbox.mailer {
            Some(mailer) => email(&outbox.endpoint, mailer, &alert),
            None => post(agent, &outbox.endpoint, &alert),
        };
        owner.deliveries.lock().record(Attempt {
            tried: jiff::Timestamp::now(),
            endpoint: outbox.endpoint.name.clone(),
            kind: alert.kind,
            number: alert.number,
            pool: alert.pool.as_ref().map(|p| p.name.clone()),
            text: alert.text.clone(),
            failed: failed
                .as_ref()
                .map(|why| format!("{why}; tried again in {} s", outbox.backoff.as_secs())),
        });
        if let Some(why) = failed {
            eprintln!(
                "alerts: {} ({}) {why}; alert {} retried in {} s",
                outbox.endpoint.name,
                outbox.endpoint.url,
                alert.id,
                outbox.backoff.as_secs()
            );
            outbox.retry_at = Instant::now() + outbox.backoff;
            outbox.backoff = (outbox.backoff * 2).min(MAX_BACKOFF);
            return false;
        }
        outbox.backoff = FIRST_BACKOFF;
        queue(outbox).pop_front();
        sent(outbox, &alert);
    }
    true
}

/// POSTs the alert; what went wrong, if anything.
fn post(agent: &ureq::Agent, endpoint: &AlertEndpoint, alert: &Alert) -> Option<String> {
    let d = delivery(endpoint, alert, jiff::Timestamp::now().as_second());
    let mut request = agent.post(&endpoint.url);
    for (header, value) in &d.headers {
        request = request.header(*header, value);
    }
    match request.send(d.body.as_str()) {
        Ok(response) if response.status().is_success() => None,
        Ok(response) => Some(format!("answered {}", response.status())),
        Err(e) => Some(e.to_string()),
    }
}

/// Mails the alert; what went wrong, if anything.
fn email(endpoint: &AlertEndpoint, mailer: &SmtpTransport, alert: &Alert) -> Option<String> {
    let (subject, body) = mail_text(alert);
    let message = match endpoint.message(&subject, &body) {
        Ok(message) => message,
        Err(e) => return Some(e),
    };
    mailer.send(&message).err().map(|e| e.to_string())
}

/// The subject and body of an alert's email.
pub fn mail_text(alert: &Alert) -> (String, String) {
    let what = match alert.kind {
        AlertKind::Label => "labeled",
        AlertKind::LabelCleared => "clean again",
        AlertKind::Quarantine => "quarantined",
        AlertKind::State => "state changed",
        AlertKind::DisputeDue => "dispute step due",
        AlertKind::PoolHeadroom => "nearly at its caps",
        AlertKind::SuspectedLabel => "probably labeled",
    };
    let about = match (&alert.number, &alert.pool) {
        (Some(number), _) => number.to_string(),
        (None, Some(pool)) => format!("pool {}", pool.name),
        (None, None) => String::new(),
    };
    let subject = format!("dialguard [{}]: {about} {what}", alert.tenant);
    let json = serde_json::to_string_pretty(alert).expect("an alert serializes");
    (subject, format!("{}\n\nAlert {}:\n{json}\n", alert.text, alert.id))
}

fn save(log: &mut dyn EventLog, tenant: &str, name: &str, seq: u64) {
    if let Err(e) = log.set_cursor(tenant, name, seq) {
        // Not fatal: the alerts after the last saved place are sent again
        // after a restart, with the same ids.
        eprintln!("alerts: saving {name}'s place in {tenant}'s log: {e}");
    }
}

#[cfg(test)]
mod tests {
    use dialguard_core::event::{LabelObserved, StateChanged};

    use super::*;

    fn number() -> E164 {
        "+16465550101".parse().unwrap()
    }

    fn label(text: Option<&str>, minute: i64) -> Event {
        Event::Label(LabelObserved {
            number: number(),
            carrier: Carrier::Verizon,
            label: text.map(str::to_owned),
            at: jiff::Timestamp::from_second(1_767_000_000 + minute * 60).unwrap(),
            source: "test_call".to_owned(),
            source_id: None,
        })
    }

    #[test]
    fn only_a_change_of_label_is_news() {
        let mut watch = Watch::default();
        assert_eq!(
            watch.see("acme", 1, &label(None, 0)),
            None,
            "clean, and was never labeled"
        );
        let first = watch.see("acme", 2, &label(Some("Spam Likely"), 1)).unwrap();
        assert_eq!(first.kind, AlertKind::Label);
        assert_eq!(first.id, "acme-2");
        assert!(first.text.contains("\"Spam Likely\""), "{}", first.text);
        assert_eq!(
            watch.see("acme", 3, &label(Some("Spam Likely"), 2)),
            None,
            "the daily check finding it again is not news"
        );
        let cleared = watch.see("acme", 4, &label(None, 3)).unwrap();
        assert_eq!(cleared.kind, AlertKind::LabelCleared);
        assert_eq!(watch.see("acme", 5, &label(None, 4)), None);
    }

    #[test]
    fn a_quarantine_is_its_own_kind_and_says_why() {
        let event = Event::StateChanged(StateChanged {
            number: number(),
            state: NumberState::Quarantined,
            at: jiff::Timestamp::from_second(1_767_000_000).unwrap(),
            reason: "verizon labeled it".to_owned(),
        });
        let alert = Watch::default().see("acme", 9, &event).unwrap();
        assert_eq!(alert.kind, AlertKind::Quarantine);
        assert_eq!(alert.at, "2025-12-29T09:20:00Z");
        assert!(alert.text.ends_with("verizon labeled it"), "{}", alert.text);
    }

    fn endpoint(format: AlertFormat, secret: Option<&str>) -> AlertEndpoint {
        AlertEndpoint {
            name: "ops".to_owned(),
            url: "http://127.0.0.1:9/alerts".to_owned(),
            format,
            secret: secret.map(str::to_owned),
            to: Vec::new(),
            from: None,
            tenant: "acme".to_owned(),
            on: every_kind(),
        }
    }

    #[test]
    fn a_signed_delivery_verifies_with_the_secret_and_not_without_it() {
        let alert = Watch::default().see("acme", 2, &label(Some("Spam Likely"), 1)).unwrap();
        let d = delivery(&endpoint(AlertFormat::Json, Some("whsec-1")), &alert, 1_767_000_100);
        let header = |name: &str| d.headers.iter().find(|(h, _)| *h == name).map(|(_, v)| v.clone());
        let sig = header("x-dialguard-signature").expect("signed");
        assert_eq!(sig, signature("whsec-1", 1_767_000_100, &d.body));
        assert_ne!(sig, signature("whsec-2", 1_767_000_100, &d.body));
        assert_ne!(
            sig,
            signature("whsec-1", 1_767_000_101, &d.body),
            "the timestamp is signed too"
        );
        assert_eq!(header("x-dialguard-alert-id").as_deref(), Some("acme-2"));
        let body: serde_json::Value = serde_json::from_str(&d.body).unwrap();
        assert_eq!(body["kind"], "label");
        assert_eq!(body["carrier"], "verizon");
        assert_eq!(body["number"], "+16465550101");

        let unsigned = delivery(&endpoint(AlertFormat::Json, None), &alert, 1_767_000_100);
        assert!(unsigned.headers.iter().all(|(h, _)| *h != "x-dialguard-signature"));
    }

    #[test]
    fn slack_gets_one_line_of_text() {
        let alert = Watch::default().see("acme", 2, &label(Some("Spam Likely"), 1)).unwrap();
        let d = delivery(&endpoint(AlertFormat::Slack, None), &alert, 0);
        let body: serde_json::Value = serde_json::from_str(&d.body).unwrap();
        let text = body["text"].as_str().unwrap();
        assert!(text.starts_with("dialguard [acme]: verizon"), "{text}");
        assert_eq!(body.as_object().unwrap().len(), 1);
    }

    #[test]
    fn bad_entries_are_refused_by_name() {
        let mut e = endpoint(AlertFormat::Json, None);
        e.url = "ftp://example.com".to_owned();
        assert!(e.check(2).unwrap_err().contains("alerts[2].url"));
        let mut e = endpoint(AlertFormat::Json, None);
        e.on.clear();
        assert!(e.check(0).unwrap_err().contains("alerts[0].on is empty"));
        let mut e = endpoint(AlertFormat::Json, Some(" "));
        assert!(e.check(0).unwrap_err().contains("secret is empty"));
        e.secret = None;
        e.name = String::new();
        assert!(e.check(0).unwrap_err().contains("name"));
        assert_eq!(endpoint(AlertFormat::Slack, Some("s")).check(0), Ok(()));

        let mut mail = endpoint(AlertFormat::Json, None);
        mail.url = "smtp://127.0.0.1:2525".to_owned();
        assert!(mail.check(1).unwrap_err().contains("alerts[1].to is empty"));
        mail.to = vec!["ops@example.com".to_owned()];
        assert!(mail.check(1).unwrap_err().contains("from is missing"));
        mail.from = Some("not an address".to_owned());
        assert!(mail.check(1).unwrap_err().contains("from \"not an address\""));
        mail.from = Some("dialguard <alerts@example.com>".to_owned());
        assert_eq!(mail.check(1), Ok(()));
        let mut hook = endpoint(AlertFormat::Json, None);
        hook.to = vec!["ops@example.com".to_owned()];
        assert!(hook.check(0).unwrap_err().contains("a web hook takes neither"));
    }
}
