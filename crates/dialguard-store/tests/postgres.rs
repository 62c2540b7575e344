//! The PostgreSQL backend: the shared conformance suite, each test in a
//! schema of its own, then what only PostgreSQL shows: URLs, newer and
//! foreign schemas, damaged rows, a failed batch, and several connections
//! migrating and appending at once.
//!
//! The tests need a PostgreSQL server where they may create and drop
//! schemas: `postgres://postgres@127.0.0.1:5432/test` unless the
//! environment variable `DIALGUARD_TEST_PG` names another. Without one they
//! fail, saying so.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};
use std::thread;

use dialguard_store::{Doorbell, Event, EventLog, PgLog, StoreError, conformance, open_url};
use postgres::{Client, NoTls};

const TENANT: &str = "acme";
const URL_ENV: &str = "DIALGUARD_TEST_PG";
const DEFAULT_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

fn url() -> String {
    std::env::var(URL_ENV).unwrap_or_else(|_| DEFAULT_URL.to_owned())
}

/// A plain connection to the test database, or the reason the tests cannot
/// run.
fn admin() -> Client {
    let url = url();
    Client::connect(&url, NoTls).unwrap_or_else(|e| {
        let cause = std::error::Error::source(&e).map_or(String::new(), |cause| format!(": {cause}"));
        panic!(
            "the PostgreSQL store tests need a PostgreSQL server at {url} ({e}{cause}); \
             start one there, or set {URL_ENV} to the postgres:// URL of a database \
             where the tests may create and drop schemas"
        )
    })
}

/// A schema of the test's own, dropped with everything in it when the test
/// ends, passed or not.
struct Scratch {
    url: String,
    schema: String,
}

impl Scratch {
    fn new() -> Scratch {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        drop(admin());
        let started = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_micros());
        Scratch {
            url: url(),
            schema: format!(
                "dialguard_test_{}_{}_{}",
                std::process::id(),
                NEXT.fetch_add(1, Ordering::Relaxed),
                started % 1_000_000_000
            ),
        }
    }

    fn open(&self) -> PgLog {
        PgLog::connect_with_schema(&self.url, &self.schema).unwrap()
    }

    /// The URL of the scratch schema (its `search_path` in `options`).
    fn schema_url(&self) -> String {
        let separator = if self.url.contains('?') { '&' } else { '?' };
        format!("{}{separator}options=-csearch_path%3D{}", self.url, self.schema)
    }

    /// Runs SQL in the scratch schema behind the log's back.
    fn sql(&self, sql: &str) {
        let mut client = admin();
        client
            .batch_execute(&format!("SET search_path TO {}; {sql}", self.schema))
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if let Ok(mut client) = Client::connect(&self.url, NoTls) {
            let _ = client.batch_execute(&format!("DROP SCHEMA IF EXISTS {} CASCADE", self.schema));
        }
    }
}

fn pg_store() -> impl FnMut() -> Box<dyn EventLog> {
    let scratch = Scratch::new();
    move || -> Box<dyn EventLog> { Box::new(scratch.open()) }
}

dialguard_store::event_log_conformance!(durable, pg_store());

#[test]
fn a_newer_schema_is_refused_and_left_as_it_was() {
    let scratch = Scratch::new();
    let mut log = scratch.open();
    log.append(TENANT, &conformance::every_kind()).unwrap();
    drop(log);
    let newer = PgLog::SCHEMA_VERSION + 1;
    scratch.sql(&format!("UPDATE dialguard_schema SET version = {newer}"));

    let error = PgLog::connect_with_schema(&scratch.url, &scratch.schema)
        .err()
        .expect("a newer schema was opened");
    match &error {
        StoreError::TooNew { found, supported, .. } => {
            assert_eq!((*found, *supported), (newer, PgLog::SCHEMA_VERSION));
        }
        other => panic!("{other:?}"),
    }
    let message = error.to_string();
    assert!(message.contains("newer dialguard"), "{message}");
    assert!(message.contains(&scratch.schema), "{message}");

    scratch.sql(&format!(
        "UPDATE dialguard_schema SET version = {}",
        PgLog::SCHEMA_VERSION
    ));
    let log = scratch.open();
    assert_eq!(log.count(TENANT).unwrap(), conformance::every_kind().len() as u64);
}

#[test]
fn a_schema_with_someone_elses_tables_is_refused_and_left_untouched() {
    let scratch = Scratch::new();
    drop(scratch.open());
    scratch.sql("DROP TABLE dialguard_schema, tenants, log_head, calls, events, cursors");
    scratch.sql("CREATE TABLE calls (agent text); INSERT INTO calls VALUES ('alice')");

    let error = PgLog::connect_with_schema(&scratch.url, &scratch.schema)
        .err()
        .expect("a foreign schema was opened");
    match &error {
        StoreError::NotDialguard { detail, .. } => {
            assert!(
                detail.contains("has a table calls that dialguard did not make"),
                "{detail}"
            );
        }
        other => panic!("{other:?}"),
    }
    let mut client = admin();
    let tables: i64 = client
        .query_one(
            "SELECT count(*) FROM pg_tables WHERE schemaname = $1",
            &[&scratch.schema],
        )
        .unwrap()
        .get(0);
    assert_eq!(tables, 1, "nothing was created beside the foreign table");
}

#[test]
fn urls_dialguard_cannot_use_are_refused_with_what_it_accepts() {
    let cases = [
        ("mysql://app:hunter2@db/log", "its scheme is mysql://"),
        ("sqlite:///var/lib/dialguard.db", "its scheme is sqlite://"),
        ("dialguard.db", "does not start with postgres://"),
        (
            "postgres://app:hunter2@db:notaport/log",
            "invalid value for option `port`",
        ),
    ];
    for (url, detail_has) in cases {
        let error = open_url(url).err().unwrap_or_else(|| panic!("{url} was opened"));
        match &error {
            StoreError::BadUrl { detail, .. } => assert!(detail.contains(detail_has), "{url}: {detail}"),
            other => panic!("{url}: {other:?}"),
        }
        let message = error.to_string();
        assert!(!message.contains("hunter2"), "the password is shown: {message}");
        assert!(message.contains("postgres://"), "{message}");
    }
}

#[test]
fn a_server_that_does_not_answer_is_named_without_its_password() {
    let error = open_url("postgres://postgres:hunter2@127.0.0.1:1/test")
        .err()
        .expect("nothing listens on port 1");
    assert!(matches!(error, StoreError::Unreachable { .. }), "{error:?}");
    let message = error.to_string();
    assert!(
        message.starts_with("cannot connect to postgres://postgres@127.0.0.1:1/test"),
        "{message}"
    );
    assert!(!message.contains("hunter2"), "{message}");
}

#[test]
fn open_url_uses_the_schema_the_url_names() {
    let scratch = Scratch::new();
    drop(scratch.open());
    let separator = if scratch.url.contains('?') { '&' } else { '?' };
    let url = format!("{}{separator}options=-csearch_path%3D{}", scratch.url, scratch.schema);
    let mut log = open_url(&url).unwrap();
    let appended = log.append(TENANT, &conformance::workload_batch(0, 10)).unwrap();
    assert_eq!(appended.accepted, 10);
    assert_eq!(scratch.open().count(TENANT).unwrap(), 10);
}

#[test]
fn a_batch_that_fails_midway_leaves_nothing_behind() {
    let scratch = Scratch::new();
    let mut log = scratch.open();
    scratch.sql(
        "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS \
             $$ BEGIN RAISE EXCEPTION 'disk trouble'; END $$;
         CREATE TRIGGER refuse_opt_outs BEFORE INSERT ON events FOR EACH ROW \
             WHEN (NEW.kind = 'opt_out') EXECUTE FUNCTION refuse();",
    );
    let (calls, batch) = conformance::calls_then_an_opt_out();

    let error = log.append(TENANT, &batch).unwrap_err();
    assert!(error.to_string().contains("disk trouble"), "{error}");
    assert_eq!(log.count(TENANT).unwrap(), 0);

    scratch.sql("DROP TRIGGER refuse_opt_outs ON events");
    let appended = log.append(TENANT, &calls).unwrap();
    assert_eq!((appended.accepted, appended.duplicates), (2, 0));
    assert_eq!(appended.last_seq, 2, "the failed batch used up no numbers");
}

#[test]
fn damaged_rows_are_reported_with_their_sequence_number() {
    for damage in conformance::DAMAGED_ROWS {
        let scratch = Scratch::new();
        let mut log = scratch.open();
        log.append(TENANT, &conformance::every_kind()).unwrap();
        scratch.sql(damage.0);
        let error = log.replay(TENANT, 0, &mut |_, _| {}).unwrap_err();
        conformance::assert_damage_reported(damage, error);
    }
}

#[test]
fn replay_reads_a_long_log_page_by_page() {
    let scratch = Scratch::new();
    let mut log = scratch.open();
    let mut want = Vec::new();
    for index in 0..5 {
        let batch = conformance::workload_batch(index, 5_000);
        log.append(TENANT, &batch).unwrap();
        want.extend(batch);
    }
    let mut seqs = Vec::new();
    let mut events = Vec::new();
    let last = log
        .replay(TENANT, 0, &mut |seq, event| {
            seqs.push(seq);
            events.push(event);
        })
        .unwrap();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]));
    assert_eq!(Some(last), seqs.last().copied());
    assert_eq!(events, want);

    // A sink may use the log while the replay runs.
    let mut counted = 0;
    log.replay(TENANT, seqs[24_990], &mut |_, _| counted = log.count(TENANT).unwrap())
        .unwrap();
    assert_eq!(counted, 25_000);
}

#[test]
fn connections_opening_a_new_schema_at_once_migrate_it_once() {
    let scratch = Arc::new(Scratch::new());
    let start = Arc::new(Barrier::new(6));
    let openers: Vec<_> = (0..6)
        .map(|_| {
            let (scratch, start) = (Arc::clone(&scratch), Arc::clone(&start));
            thread::spawn(move || {
                start.wait();
                PgLog::connect_with_schema(&scratch.url, &scratch.schema).map(drop)
            })
        })
        .collect();
    for opener in openers {
        opener.join().unwrap().unwrap();
    }
    let mut client = admin();
    let version: i32 = client
        .query_one(&format!("SELECT version FROM {}.dialguard_schema", scratch.schema), &[])
        .unwrap()
        .get(0);
    assert_eq!(version as u32, PgLog::SCHEMA_VERSION);
}

/// Two processes importing the same files at once while a third tails the
/// log: every call is stored once, and the tail, resuming after the last
/// sequence number it saw, sees each exactly once.
#[test]
fn concurrent_writers_store_each_call_once_and_a_tail_misses_none() {
    const BATCHES: u64 = 20;
    const LEN: usize = 200;
    let scratch = Arc::new(Scratch::new());
    drop(scratch.open());
    let writers: Vec<_> = (0..2)
        .map(|writer| {
            let scratch = Arc::clone(&scratch);
            thread::spawn(move || {
                let mut log = scratch.open();
                let (mut accepted, mut duplicates) = (0, 0);
                for i in 0..BATCHES {
                    // The two writers go through the batches in opposite
                    // orders, so they overlap in the middle.
                    let index = if writer == 0 { i } else { BATCHES - 1 - i };
                    let appended = log.append(TENANT, &conformance::workload_batch(index, LEN)).unwrap();
                    accepted += appended.accepted;
                    duplicates += appended.duplicates;
                }
                (accepted, duplicates)
            })
        })
        .collect();

    let tail = scratch.open();
    let total = BATCHES as usize * LEN;
    let mut seen: Vec<(u64, Event)> = Vec::new();
    let mut last = 0;
    let started = std::time::Instant::now();
    while seen.len() < total {
        assert!(
            started.elapsed().as_secs() < 60,
            "the tail saw {} of {total}",
            seen.len()
        );
        last = tail
            .replay(TENANT, last, &mut |seq, event| seen.push((seq, event)))
            .unwrap();
    }
    let (mut accepted, mut duplicates) = (0, 0);
    for writer in writers {
        let (a, d) = writer.join().unwrap();
        accepted += a;
        duplicates += d;
    }
    assert_eq!((accepted, duplicates), (total, total));
    assert!(
        seen.windows(2).all(|w| w[0].0 < w[1].0),
        "the tail saw numbers out of order"
    );
    let mut keys: Vec<_> = seen.iter().map(|(_, e)| e.dedup_key().unwrap()).collect();
    keys.sort();
    keys.dedup();
    assert_eq!(keys.len(), total, "every call seen exactly once");
    assert_eq!(conformance::replay_all(&tail, TENANT), seen);
}

#[test]
fn a_doorbell_rings_for_the_tenant_an_append_grew_and_not_for_another_schema() {
    let scratch = Scratch::new();
    let other = Scratch::new();
    drop(scratch.open());
    let mut bell = Doorbell::connect(&scratch.schema_url()).unwrap();
    assert_eq!(bell.schema(), scratch.schema);
    let quiet = std::time::Duration::from_millis(50);
    assert!(bell.wait(quiet).unwrap().is_empty(), "nothing appended yet");

    let mut log = scratch.open();
    log.append(TENANT, &conformance::workload_batch(0, 5)).unwrap();
    log.append("globex", &conformance::workload_batch(0, 5)).unwrap();
    let mut rung = bell.wait(std::time::Duration::from_secs(5)).unwrap();
    rung.extend(bell.wait(quiet).unwrap());
    rung.sort();
    assert_eq!(rung, ["acme", "globex"]);

    // A batch of nothing but duplicates adds nothing and rings nothing.
    log.append(TENANT, &conformance::workload_batch(0, 5)).unwrap();
    other.open().append(TENANT, &conformance::workload_batch(0, 5)).unwrap();
    assert!(bell.wait(std::time::Duration::from_millis(300)).unwrap().is_empty());
}

#[test]
fn one_connection_leads_a_tenant_until_it_goes() {
    let scratch = Scratch::new();
    drop(scratch.open());
    let url = scratch.schema_url();
    let mut first = Doorbell::connect_advertising(&url, Some("http://10.0.0.5:8080")).unwrap();
    let mut second = Doorbell::connect_advertising(&url, Some("http://10.0.0.6:8080")).unwrap();
    assert_eq!(second.leader(TENANT).unwrap(), None, "nobody leads yet");
    assert!(first.lead(TENANT).unwrap());
    assert_eq!(second.leader(TENANT).unwrap().as_deref(), Some("http://10.0.0.5:8080"));
    assert!(first.lead(TENANT).unwrap(), "a leader stays the leader");
    assert!(!second.lead(TENANT).unwrap(), "one leader at a time");
    assert!(second.lead("globex").unwrap(), "tenants are led apart");
    drop(first);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !second.lead(TENANT).unwrap() {
        assert!(std::time::Instant::now() < deadline, "the lead was never released");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert_eq!(second.leader(TENANT).unwrap().as_deref(), Some("http://10.0.0.6:8080"));
}
