//! The one writer of the event log.
//!
//! The log is a synchronous SQLite handle; it lives on a thread of its own so
//! the async runtime never waits on the disk. Handlers send it jobs over a
//! bounded channel (a full channel makes them wait: back-pressure instead of
//! an unbounded queue) and get the answer once the batch is committed, so a
//! 200 means the events are in the log.
//!
//! Each pass takes every job already queued and writes the consecutive ones
//! of one tenant in a single transaction (group commit: under load, many
//! small requests cost one commit). Only events the log accepted are folded
//! into the engine, so a duplicate sent twice never counts twice: when a
//! batch had duplicates, the writer reads back what it wrote to know which
//! (the log's sequence numbers say where its writes begin). Then the engine
//! ticks, and the state changes it decided are appended too.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Instant;

use dialguard_core::Event;
use dialguard_store::EventLog;
use tokio::sync::{mpsc, oneshot};

use crate::error::ApiError;
use crate::metrics::Metrics;
use crate::tenant::Tenant;

/// Jobs waiting for the writer before senders wait.
const QUEUE: usize = 1024;
/// The most events one transaction takes from several jobs.
const GROUP_EVENTS: usize = 100_000;

/// What one append did for the request that asked for it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Written {
    pub accepted: usize,
    pub duplicates: usize,
}

type Reply = oneshot::Sender<Result<Written, String>>;

/// Consecutive append requests of one tenant, written in one transaction.
type Group = Option<(Arc<Tenant>, Vec<(Vec<Event>, Reply)>)>;

enum Job {
    /// New events from a request: write, fold, tick.
    Append {
        tenant: Arc<Tenant>,
        events: Vec<Event>,
        reply: Reply,
    },
    /// Events the engine already applied (a tick's state changes): write only.
    Derived { tenant: Arc<Tenant>, events: Vec<Event> },
    /// Move the tenant's engine to its clock's now.
    Tick { tenant: Arc<Tenant> },
    /// Read what other servers appended to the tenant's log (a shared log).
    CatchUp {
        tenant: Arc<Tenant>,
        done: Option<std::sync::mpsc::Sender<()>>,
    },
    /// Write everything queued before this, then stop.
    Shutdown { done: oneshot::Sender<()> },
}

/// Sends work to the writer thread. Cheap to clone.
#[derive(Clone)]
pub struct WriterHandle {
    tx: mpsc::Sender<Job>,
}

impl WriterHandle {
    /// Writes `events` for `tenant` and folds what the log accepted into its
    /// engine. Returns once the transaction is committed.
    pub async fn append(&self, tenant: Arc<Tenant>, events: Vec<Event>) -> Result<Written, ApiError> {
        let (reply, answer) = oneshot::channel();
        self.tx
            .send(Job::Append { tenant, events, reply })
            .await
            .map_err(|_| stopping())?;
        answer.await.map_err(|_| stopping())?.map_err(|why| {
            ApiError::unavailable(format!(
                "the event log could not be written ({why}); nothing from this request was kept: retry"
            ))
        })
    }

    /// Queues state changes the engine already applied; does not wait.
    pub fn derived(&self, tenant: Arc<Tenant>, events: Vec<Event>) {
        if events.is_empty() {
            return;
        }
        // The channel only refuses when full or closed; a full one is waited
        // out on a blocking task rather than dropping decided events.
        if let Err(mpsc::error::TrySendError::Full(job)) = self.tx.try_send(Job::Derived { tenant, events }) {
            let tx = self.tx.clone();
            tokio::spawn(async move {
                let _ = tx.send(job).await;
            });
        }
    }

    /// Asks for a tick; skipped when the writer is busy (the next one comes).
    pub fn tick(&self, tenant: Arc<Tenant>) {
        let _ = self.tx.try_send(Job::Tick { tenant });
    }

    /// Asks the writer to read what other servers appended to `tenant`'s
    /// log; skipped when the writer is busy (the next poll comes). Called
    /// from a plain thread.
    pub fn catch_up(&self, tenant: Arc<Tenant>) {
        let _ = self.tx.try_send(Job::CatchUp { tenant, done: None });
    }

    /// [`WriterHandle::catch_up`], waiting until it is done. Called from a
    /// plain thread, never from the runtime.
    pub fn catch_up_now(&self, tenant: Arc<Tenant>) {
        let (done, finished) = std::sync::mpsc::channel();
        if self
            .tx
            .blocking_send(Job::CatchUp {
                tenant,
                done: Some(done),
            })
            .is_ok()
        {
            let _ = finished.recv();
        }
    }

    /// Writes everything queued so far and stops the writer.
    pub async fn shutdown(&self) {
        let (done, finished) = oneshot::channel();
        if self.tx.send(Job::Shutdown { done }).await.is_ok() {
            let _ = finished.await;
        }
    }
}

fn stopping() -> ApiError {
    ApiError::unavailable("the server is shutting down; nothing from this request was kept: retry")
}

/// The thread that owns the log.
pub struct Writer {
    log: Box<dyn EventLog + Send>,
    /// Each tenant's cursor: every event of its log up to here is applied.
    seqs: HashMap<String, u64>,
    metrics: Arc<Metrics>,
    /// On a log other servers write too: what is known beyond the cursors.
    following: Option<Following>,
}

/// What a writer on a shared log knows beyond each tenant's cursor.
///
/// Its own appends are contiguous runs of sequence numbers ending at the
/// `last_seq` the log returns. When one does not start right after the
/// previous one ended, another server appended in between, and every
/// tenant may hold events this server has not applied: it reads them (from
/// the tenant's cursor, in sequence order, skipping what it applied
/// already) before moving the cursor past its own.
#[derive(Default)]
struct Following {
    /// The log's last sequence number after this writer's latest append.
    head: u64,
    /// Tenants whose log may hold others' events after their cursor.
    behind: HashSet<String>,
    /// Per tenant, runs `(after, through]` beyond its cursor that this
    /// writer appended and had already applied (a tick's state changes).
    ahead: HashMap<String, Vec<(u64, u64)>>,
}

impl Following {
    /// Notes an append of `accepted` events that left the log at `last_seq`.
    fn appended<'t>(&mut self, accepted: usize, last_seq: u64, tenants: impl Iterator<Item = &'t String>) {
        if last_seq - accepted as u64 != self.head {
            self.behind.extend(tenants.cloned());
        }
        self.head = self.head.max(last_seq);
    }

    fn skips(&self, tenant: &str, seq: u64) -> bool {
        self.ahead
            .get(tenant)
            .is_some_and(|runs| runs.iter().any(|&(after, through)| after < seq && seq <= through))
    }
}

impl Writer {
    /// Starts the writer thread. `seqs` are the tenants' latest sequence
    /// numbers after replay.
    /// `shared`: other servers append to the same log.
    pub fn start(
        log: Box<dyn EventLog + Send>,
        seqs: HashMap<String, u64>,
        metrics: Arc<Metrics>,
        shared: bool,
    ) -> std::io::Result<(WriterHandle, JoinHandle<()>)> {
        let (tx, rx) = mpsc::channel(QUEUE);
        let writer = Writer {
            log,
            seqs,
            metrics,
            following: shared.then(Following::default),
        };
        let thread = std::thread::Builder::new()
            .name("dialguard-log-writer".into())
            .spawn(move || writer.run(rx))?;
        Ok((WriterHandle { tx }, thread))
    }

    fn run(mut self, mut rx: mpsc::Receiver<Job>) {
        let mut jobs = Vec::new();
        while let Some(first) = rx.blocking_recv() {
            let mut events = job_events(&first);
            jobs.push(first);
            while events < GROUP_EVENTS {
                match rx.try_recv() {
                    Ok(job) => {
                        events += job_events(&job);
                        jobs.push(job);
                    }
                    Err(_) => break,
                }
            }
            if self.process(&mut jobs) {
                return;
            }
        }
    }

    /// Handles a run of queued jobs in order; true when told to stop.
    fn process(&mut self, jobs: &mut Vec<Job>) -> bool {
        let mut group: Group = None;
        let mut stop = false;
        for job in jobs.drain(..) {
            match job {
                Job::Append { tenant, events, reply } => {
                    if group.as_ref().is_some_and(|(t, _)| !Arc::ptr_eq(t, &tenant)) {
                        self.flush(&mut group);
                    }
                    group
                        .get_or_insert_with(|| (tenant, Vec::new()))
                        .1
                        .push((events, reply));
                }
                Job::Derived { tenant, events } => {
                    self.flush(&mut group);
                    self.write_derived(&tenant, &events);
                }
                Job::Tick { tenant } => {
                    self.flush(&mut group);
                    self.tick(&tenant);
                }
                Job::CatchUp { tenant, done } => {
                    self.flush(&mut group);
                    match self.catch_up(&tenant, None) {
                        Ok(_) => self.tick(&tenant),
                        Err(why) => eprintln!("dialguard: could not read tenant {}'s log: {why}", tenant.name),
                    }
                    if let Some(done) = done {
                        let _ = done.send(());
                    }
                }
                Job::Shutdown { done } => {
                    self.flush(&mut group);
                    stop = true;
                    let _ = done.send(());
                }
            }
        }
        self.flush(&mut group);
        stop
    }

    fn flush(&mut self, group: &mut Group) {
        if let Some((tenant, requests)) = group.take() {
            self.write_group(tenant, requests);
        }
    }

    /// One transaction for several requests of one tenant.
    fn write_group(&mut self, tenant: Arc<Tenant>, mut group: Vec<(Vec<Event>, Reply)>) {
        let lengths: Vec<usize> = group.iter().map(|(events, _)| events.len()).collect();
        let all: Vec<Event> = if group.len() == 1 {
            std::mem::take(&mut group[0].0)
        } else {
            group
                .iter_mut()
                .flat_map(|(events, _)| std::mem::take(events))
                .collect()
        };
        let before = self.seqs.get(&tenant.name).copied().unwrap_or(0);
        let started = Instant::now();
        let appended = match self.log.append(&tenant.name, &all) {
            Ok(appended) => appended,
            Err(_) if group.len() > 1 => {
                // Write each request alone, so one bad request fails alone.
                let mut rest = all.into_iter();
                for ((_, reply), len) in group.into_iter().zip(lengths) {
                    let events: Vec<Event> = rest.by_ref().take(len).collect();
                    self.write_group(tenant.clone(), vec![(events, reply)]);
                }
                return;
            }
            Err(error) => {
                fail(group, &error.to_string());
                return;
            }
        };
        self.metrics.log_batch(started.elapsed());
        if self.following.is_some() {
            return self.fold_shared(tenant, group, all, lengths, appended);
        }
        if appended.accepted > 0 {
            self.seqs.insert(tenant.name.clone(), appended.last_seq);
        }
        let (fresh, taken) = if appended.duplicates == 0 {
            let taken = vec![true; all.len()];
            (all, taken)
        } else if appended.accepted == 0 {
            let taken = vec![false; all.len()];
            self.count_duplicates(&all, &taken);
            (Vec::new(), taken)
        } else {
            match self.read_back(&tenant.name, before) {
                Ok(fresh) => {
                    let taken = taken_by_log(&all, &fresh);
                    self.count_duplicates(&all, &taken);
                    (fresh, taken)
                }
                Err(why) => {
                    fail(
                        group,
                        &format!("the batch was written but could not be read back: {why}"),
                    );
                    return;
                }
            }
        };
        let written = per_request(&taken, &lengths);
        self.count_ingested(&fresh);
        let changes = {
            let mut engine = tenant.engine.lock();
            for event in &fresh {
                engine.apply(event);
            }
            tenant.tick(&mut engine)
        };
        self.write_derived(&tenant, &changes);
        for ((_, reply), written) in group.into_iter().zip(written) {
            let _ = reply.send(Ok(written));
        }
    }

    /// [`Writer::write_group`]'s second half on a shared log: fold what
    /// was written, with whatever others wrote before it, in log order.
    fn fold_shared(
        &mut self,
        tenant: Arc<Tenant>,
        group: Vec<(Vec<Event>, Reply)>,
        mut all: Vec<Event>,
        lengths: Vec<usize>,
        appended: dialguard_store::Appended,
    ) {
        let following = self.following.as_mut().expect("a shared log");
        following.appended(appended.accepted, appended.last_seq, self.seqs.keys());
        let behind = following.behind.contains(&tenant.name);
        let (fresh, taken) = if appended.accepted == 0 {
            // Nothing of ours to fold; others' events wait for the doorbell.
            (Vec::new(), vec![false; all.len()])
        } else if !behind && appended.duplicates == 0 {
            self.seqs.insert(tenant.name.clone(), appended.last_seq);
            let mut engine = tenant.engine.lock();
            for event in &all {
                engine.apply(event);
            }
            let taken = vec![true; all.len()];
            // All taken: nothing is left to count as a duplicate.
            (std::mem::take(&mut all), taken)
        } else {
            let ours = (appended.last_seq - appended.accepted as u64, appended.last_seq);
            match self.catch_up(&tenant, Some(ours)) {
                Ok(fresh) => {
                    let taken = taken_by_log(&all, &fresh);
                    (fresh, taken)
                }
                Err(why) => {
                    fail(
                        group,
                        &format!("the batch was written but could not be read back: {why}"),
                    );
                    return;
                }
            }
        };
        self.count_duplicates(&all, &taken);
        self.count_ingested(&fresh);
        let changes = tenant.tick(&mut tenant.engine.lock());
        self.write_derived(&tenant, &changes);
        for ((_, reply), written) in group.into_iter().zip(per_request(&taken, &lengths)) {
            let _ = reply.send(Ok(written));
        }
    }

    /// Applies every event of `tenant`'s log after its cursor that this
    /// server has not applied yet, in log order, and moves the cursor to
    /// the end. Returns the events within `ours` (an append of this writer
    /// read back, to tell its fresh events from its duplicates).
    fn catch_up(&mut self, tenant: &Tenant, ours: Option<(u64, u64)>) -> Result<Vec<Event>, String> {
        let cursor = self.seqs.get(&tenant.name).copied().unwrap_or(0);
        let mut read = Vec::new();
        let last = self
            .log
            .replay(&tenant.name, cursor, &mut |seq, event| read.push((seq, event)))
            .map_err(|e| e.to_string())?;
        let mut own = Vec::new();
        {
            let following = self.following.as_ref();
            let mut engine = tenant.engine.lock();
            for (seq, event) in read {
                if following.is_some_and(|f| f.skips(&tenant.name, seq)) {
                    continue;
                }
                engine.apply(&event);
                if ours.is_some_and(|(after, through)| after < seq && seq <= through) {
                    own.push(event);
                } else if !matches!(event, Event::NumberRegistered(_)) {
                    tenant.clock.observe(event.at());
                }
            }
        }
        let last = last.max(cursor);
        self.seqs.insert(tenant.name.clone(), last);
        if let Some(following) = self.following.as_mut() {
            following.behind.remove(&tenant.name);
            if let Some(runs) = following.ahead.get_mut(&tenant.name) {
                runs.retain(|&(_, through)| through > last);
            }
        }
        Ok(own)
    }

    /// Every event of the tenant after `seq`: what the last append wrote.
    fn read_back(&self, tenant: &str, seq: u64) -> Result<Vec<Event>, String> {
        let mut fresh = Vec::new();
        self.log
            .replay(tenant, seq, &mut |_, event| fresh.push(event))
            .map_err(|e| e.to_string())?;
        Ok(fresh)
    }

    fn write_derived(&mut self, tenant: &Tenant, events: &[Event]) {
        if events.is_empty() {
            return;
        }
        let started = Instant::now();
        match self.log.append(&tenant.name, events) {
            Ok(appended) => {
                self.metrics.log_batch(started.elapsed());
                match self.following.as_mut() {
                    Some(following) => {
                        following.appended(appended.accepted, appended.last_seq, self.seqs.keys());
                        let after = appended.last_seq - appended.accepted as u64;
                        if following.behind.contains(&tenant.name) {
                            // Applied already, but others' events come first.
                            following
                                .ahead
                                .entry(tenant.name.clone())
                                .or_default()
                                .push((after, appended.last_seq));
                        } else if appended.accepted > 0 {
                            self.seqs.insert(tenant.name.clone(), appended.last_seq);
                        }
                    }
                    None if appended.accepted > 0 => {
                        self.seqs.insert(tenant.name.clone(), appended.last_seq);
                    }
                    None => {}
                }
                for event in events {
                    if let Event::StateChanged(change) = event {
                        self.metrics.state_changed(change.state);
                    }
                }
            }
            // The engine already acts on these changes; the next tick after
            // a restart decides them again from the same evidence.
            Err(error) => eprintln!(
                "dialguard: could not record {} state change(s) of tenant {}: {error}",
                events.len(),
                tenant.name
            ),
        }
    }

    fn tick(&mut self, tenant: &Tenant) {
        let changes = tenant.tick(&mut tenant.engine.lock());
        self.write_derived(tenant, &changes);
    }

    fn count_ingested(&self, fresh: &[Event]) {
        let mut by_kind: Vec<(&'static str, u64)> = Vec::new();
        for event in fresh {
            let kind = event.kind();
            match by_kind.iter_mut().find(|(k, _)| *k == kind) {
                Some((_, n)) => *n += 1,
                None => by_kind.push((kind, 1)),
            }
        }
        for (kind, n) in by_kind {
            self.metrics.ingested(kind, n, 0);
        }
    }

    fn count_duplicates(&self, all: &[Event], taken: &[bool]) {
        let (mut calls, mut others) = (0, 0);
        for (event, _) in all.iter().zip(taken).filter(|(_, taken)| !**taken) {
            match event {
                Event::Call(_) => calls += 1,
                _ => others += 1,
            }
        }
        self.metrics.ingested("call", 0, calls);
        self.metrics.ingested("complaint", 0, others);
    }
}

/// Answers every request of a group with the same failure.
fn fail(group: Vec<(Vec<Event>, Reply)>, message: &str) {
    for (_, reply) in group {
        let _ = reply.send(Err(message.to_owned()));
    }
}

fn job_events(job: &Job) -> usize {
    match job {
        Job::Append { events, .. } | Job::Derived { events, .. } => events.len(),
        Job::Tick { .. } | Job::CatchUp { .. } | Job::Shutdown { .. } => 0,
    }
}

/// Nanoseconds since the epoch, as the tenant's tick marker keeps them.
pub fn ns(at: jiff::Timestamp) -> i64 {
    i64::try_from(at.as_nanosecond()).unwrap_or(i64::MAX)
}

/// Which events of a batch the log took: a keyed event when its key is
/// among those written (the first copy in the batch claims it), an unkeyed
/// one always.
fn taken_by_log(all: &[Event], fresh: &[Event]) -> Vec<bool> {
    let mut written: HashSet<(&str, &str, &str)> = fresh
        .iter()
        .filter_map(|e| e.dedup_key().map(|(source, id)| (e.kind(), source, id)))
        .collect();
    all.iter()
        .map(|event| match event.dedup_key() {
            Some((source, id)) => written.remove(&(event.kind(), source, id)),
            None => true,
        })
        .collect()
}

/// The counts of each request, whose events follow each other in `taken`.
fn per_request(taken: &[bool], lengths: &[usize]) -> Vec<Written> {
    let mut flags = taken.iter();
    lengths
        .iter()
        .map(|&len| {
            let accepted = flags.by_ref().take(len).filter(|t| **t).count();
            Written {
                accepted,
                duplicates: len - accepted,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use dialguard_core::{Complaint, E164, OptOut};

    use super::*;

    fn complaint(id: &str) -> Event {
        Event::Complaint(Complaint {
            number: E164::from_digits_unchecked(14_155_550_100),
            at: "2026-03-02T09:00:00Z".parse().unwrap(),
            source: "api".into(),
            source_id: id.into(),
            consumer_area_code: None,
            consumer_state: None,
            subject: None,
            robocall: None,
        })
    }

    fn opt_out() -> Event {
        Event::OptOut(OptOut {
            to: E164::from_digits_unchecked(14_155_550_101),
            at: "2026-03-02T09:00:00Z".parse().unwrap(),
        })
    }

    #[test]
    fn the_first_copy_of_a_key_claims_it_and_unkeyed_events_always_land() {
        // Two requests in one transaction: [a, b, opt-out] and [a, c];
        // the log wrote a, b, the opt-out and c (the second a was a duplicate).
        let all = vec![
            complaint("a"),
            complaint("b"),
            opt_out(),
            complaint("a"),
            complaint("c"),
        ];
        let fresh = vec![complaint("a"), complaint("b"), opt_out(), complaint("c")];
        let counts = per_request(&taken_by_log(&all, &fresh), &[3, 2]);
        assert_eq!(
            counts,
            vec![
                Written {
                    accepted: 3,
                    duplicates: 0
                },
                Written {
                    accepted: 1,
                    duplicates: 1
                }
            ]
        );
    }

    #[test]
    fn keys_already_in_the_log_are_duplicates_everywhere() {
        let all = vec![complaint("old"), complaint("new")];
        let counts = per_request(&taken_by_log(&all, &[complaint("new")]), &[2]);
        assert_eq!(
            counts,
            vec![Written {
                accepted: 1,
                duplicates: 1
            }]
        );
    }
}
