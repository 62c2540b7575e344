//! How fast the logs take in calls and give them back: SQLite, and
//! PostgreSQL beside it when `--pg` names a server.
//!
//! ```text
//! cargo run --release -p dialguard-store --example ingest_bench -- \
//!     [CALLS] [--batch N] [--ordered-ids] [--db PATH] [--pg URL]
//! ```
//!
//! Generates CALLS synthetic call records (1,000,000 unless given) shaped like
//! a Twilio export (random 34-character sids; `--ordered-ids` gives
//! time-ordered ids like Asterisk's `uniqueid` instead) and appends them in
//! batches of 10,000 as `dialguard import` does. Then it appends them all
//! again (a re-import: every row a duplicate), reopens the file and appends
//! one call (which reads every stored id), reopens it and replays it, and
//! last appends and replays complaints, which are stored as JSON rows, for
//! comparison. The file is in a temporary directory unless `--db` names one.
//!
//! With `--pg URL` the same batches then go through the same steps into
//! PostgreSQL, in a schema of their own (`dialguard_bench_<pid>`) that is
//! dropped at the end.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use dialguard_core::{Call, Cause, Complaint, Direction, E164, Event, Outcome, Source};
use dialguard_store::{EventLog, PgLog, SqliteLog};
use jiff::{SignedDuration, Timestamp};

const TENANT: &str = "bench";

struct Options {
    calls: usize,
    batch: usize,
    ordered_ids: bool,
    db: Option<PathBuf>,
    pg: Option<String>,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let options = options()?;
    let dir = tempfile::tempdir()?;
    let path = options.db.clone().unwrap_or_else(|| dir.path().join("ingest_bench.db"));
    let calls = options.calls;
    let events: Vec<Event> = (0..calls as u64)
        .map(|i| Event::Call(synthetic_call(i, options.ordered_ids)))
        .collect();
    let complaints: Vec<Event> = (0..(calls / 10) as u64).map(synthetic_complaint).collect();
    println!(
        "{calls} calls, {} ids, batches of {}",
        if options.ordered_ids { "time-ordered" } else { "random" },
        options.batch,
    );

    println!("== SQLite, {}", path.display());
    let mut log = SqliteLog::open(&path)?;
    let (accepted, took) = timed(|| append_all(&mut log, &events, options.batch, |a| a.accepted));
    report("append", accepted?, took);
    let (duplicates, took) = timed(|| append_all(&mut log, &events, options.batch, |a| a.duplicates));
    report("re-append (all duplicates)", duplicates?, took);
    drop(log);

    let mut log = SqliteLog::open(&path)?;
    let one_more = [Event::Call(synthetic_call(calls as u64, options.ordered_ids))];
    let (appended, took) = timed(|| log.append(TENANT, &one_more));
    assert_eq!(appended?.accepted, 1);
    println!(
        "{:>28}: {:.2} s to read {calls} stored ids",
        "first append after opening",
        took.as_secs_f64()
    );
    drop(log);

    let log = SqliteLog::open(&path)?;
    let mut talk_seconds = 0u64;
    let (replayed, took) = timed(|| count_replayed(&log, TENANT, &mut talk_seconds));
    report("replay", replayed?, took);
    drop(log);
    let bytes = std::fs::metadata(&path)?.len();
    println!(
        "{:>28}: {:.0} bytes/call ({bytes} bytes; {talk_seconds} s of talk)",
        "file",
        bytes as f64 / calls.max(1) as f64
    );

    let mut log = SqliteLog::open(&path)?;
    let (accepted, took) = timed(|| append_all(&mut log, &complaints, options.batch, |a| a.accepted));
    report("append complaints (JSON)", accepted?, took);
    let (replayed, took) = timed(|| count_replayed(&log, "bench-json", &mut 0));
    report("replay complaints (JSON)", replayed?, took);
    drop(log);

    if let Some(url) = &options.pg {
        let schema = format!("dialguard_bench_{}", std::process::id());
        println!("== PostgreSQL, {url} (schema {schema})");
        let result = bench_pg(url, &schema, &events, &complaints, options.batch);
        let mut admin = postgres::Client::connect(url, postgres::NoTls)?;
        admin.batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))?;
        result?;
    }
    Ok(())
}

/// The same steps as for SQLite, but for the first append after opening,
/// which reads nothing: PostgreSQL deduplicates with its index.
fn bench_pg(
    url: &str,
    schema: &str,
    events: &[Event],
    complaints: &[Event],
    batch: usize,
) -> Result<(), Box<dyn std::error::Error>> {
    let mut log = PgLog::connect_with_schema(url, schema)?;
    let (accepted, took) = timed(|| append_all(&mut log, events, batch, |a| a.accepted));
    report("append", accepted?, took);
    let (duplicates, took) = timed(|| append_all(&mut log, events, batch, |a| a.duplicates));
    report("re-append (all duplicates)", duplicates?, took);
    drop(log);

    let log = PgLog::connect_with_schema(url, schema)?;
    let mut talk_seconds = 0u64;
    let (replayed, took) = timed(|| count_replayed(&log, TENANT, &mut talk_seconds));
    report("replay", replayed?, took);
    let mut admin = postgres::Client::connect(url, postgres::NoTls)?;
    let bytes: i64 = admin
        .query_one(&format!("SELECT pg_total_relation_size('{schema}.calls')"), &[])?
        .get(0);
    println!(
        "{:>28}: {:.0} bytes/call with indexes ({bytes} bytes; {talk_seconds} s of talk)",
        "calls table",
        bytes as f64 / events.len().max(1) as f64
    );

    let mut log = log;
    let (accepted, took) = timed(|| append_all(&mut log, complaints, batch, |a| a.accepted));
    report("append complaints (JSON)", accepted?, took);
    let (replayed, took) = timed(|| count_replayed(&log, "bench-json", &mut 0));
    report("replay complaints (JSON)", replayed?, took);
    Ok(())
}

fn options() -> Result<Options, String> {
    let mut options = Options {
        calls: 1_000_000,
        batch: 10_000,
        ordered_ids: false,
        db: None,
        pg: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().ok_or(format!("{name} needs a value"));
        match arg.as_str() {
            "--batch" => {
                options.batch = value("--batch")?.parse().map_err(|e| format!("--batch: {e}"))?;
            }
            "--ordered-ids" => options.ordered_ids = true,
            "--db" => options.db = Some(value("--db")?.into()),
            "--pg" => options.pg = Some(value("--pg")?),
            calls => options.calls = calls.parse().map_err(|e| format!("CALLS {calls:?}: {e}"))?,
        }
    }
    Ok(options)
}

fn append_all(
    log: &mut dyn EventLog,
    events: &[Event],
    batch: usize,
    counted: fn(dialguard_store::Appended) -> usize,
) -> Result<usize, dialguard_store::StoreError> {
    let tenant = if matches!(events.first(), Some(Event::Complaint(_))) {
        "bench-json"
    } else {
        TENANT
    };
    let mut total = 0;
    for chunk in events.chunks(batch) {
        total += counted(log.append(tenant, chunk)?);
    }
    Ok(total)
}

fn count_replayed(
    log: &dyn EventLog,
    tenant: &str,
    talk_seconds: &mut u64,
) -> Result<usize, dialguard_store::StoreError> {
    let mut replayed = 0;
    log.replay(tenant, 0, &mut |_, event| {
        replayed += 1;
        if let Event::Call(call) = event {
            *talk_seconds += u64::from(call.talk_seconds);
        }
    })?;
    Ok(replayed)
}

fn timed<T>(work: impl FnOnce() -> T) -> (T, Duration) {
    let started = Instant::now();
    let result = work();
    (result, started.elapsed())
}

fn report(what: &str, rows: usize, took: Duration) {
    println!(
        "{what:>28}: {rows} rows in {:.2} s = {:.0} rows/s",
        took.as_secs_f64(),
        rows as f64 / took.as_secs_f64()
    );
}

/// Call `i` of a campaign: 200 caller ids, random NANP destinations, mostly
/// unanswered.
fn synthetic_call(i: u64, ordered_ids: bool) -> Call {
    let r = splitmix64(i);
    let ended = Timestamp::from_millisecond(1_700_000_000_000 + i as i64 * 37).unwrap();
    let outcome = match r % 10 {
        0..=2 => Outcome::Answered,
        3..=6 => Outcome::NoAnswer,
        7 => Outcome::Busy,
        8 => Outcome::Voicemail,
        _ => Outcome::InvalidDestination,
    };
    let talk_seconds = if outcome == Outcome::Answered {
        (r >> 8) as u32 % 600
    } else {
        0
    };
    let ring = SignedDuration::from_secs(5 + (r >> 20) as i64 % 25);
    let talk = SignedDuration::from_secs(i64::from(talk_seconds));
    let source_id = if ordered_ids {
        format!("{}.{}", ended.as_second(), i)
    } else {
        format!("CA{:016x}{:016x}", r, splitmix64(r))
    };
    Call {
        from: E164::from_digits_unchecked(14_155_550_000 + i % 200),
        to: E164::from_digits_unchecked(12_000_000_000 + (r >> 24) % 8_000_000_000),
        direction: Direction::Outbound,
        started_at: ended - talk - ring,
        answered_at: (outcome == Outcome::Answered).then(|| ended - talk),
        ended_at: ended,
        talk_seconds,
        outcome,
        cause: if outcome == Outcome::InvalidDestination {
            Cause::Unallocated
        } else {
            Cause::Unspecified
        },
        source: if ordered_ids { Source::Asterisk } else { Source::Twilio },
        source_id,
    }
}

/// An FTC complaint against one of the 200 caller ids.
fn synthetic_complaint(i: u64) -> Event {
    Event::Complaint(Complaint {
        number: E164::parse_valid(&format!("+1415555{:04}", i % 200)).unwrap(),
        at: Timestamp::from_second(1_700_000_000 + i as i64 * 60).unwrap(),
        source: "ftc".to_owned(),
        source_id: format!("ftc-{i}"),
        consumer_area_code: Some(212),
        consumer_state: Some("New York".to_owned()),
        subject: Some("Dropped call or no message".to_owned()),
        robocall: Some(i.is_multiple_of(2)),
    })
}

fn splitmix64(seed: u64) -> u64 {
    let mut z = seed.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49eb_133c_e111);
    z ^ (z >> 31)
}
