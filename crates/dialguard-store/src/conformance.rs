//! The test suite every [`EventLog`] backend runs, so that SQLite and
//! PostgreSQL keep the same contract.
//!
//! A backend's tests call [`event_log_conformance!`](crate::event_log_conformance)
//! with an expression that makes a *fresh store* and returns an opener: a
//! closure whose every call opens a new handle on that same store (a
//! reconnect). The store is empty at the first call. Backends that do not
//! outlive their handle (SQLite in memory) leave out `durable` and get every
//! test that opens once.
//!
//! ```ignore
//! fn sqlite_file() -> impl FnMut() -> Box<dyn EventLog> {
//!     let dir = tempfile::tempdir().unwrap();
//!     move || -> Box<dyn EventLog> {
//!         Box::new(SqliteLog::open(&dir.path().join("log.db")).unwrap())
//!     }
//! }
//! dialguard_store::event_log_conformance!(durable, sqlite_file());
//! ```
//!
//! [`workload_batch`] and [`assert_same_log`] serve the crash test, which
//! needs a backend-specific way to run a writer in another process.

use dialguard_core::lifecycle::{DisputeStatus, DisputeStep};
use dialguard_core::{
    Call, Carrier, Cause, Complaint, Consent, ConsentKind, Direction, DisputeUpdated, E164, Event, LabelObserved,
    NumberRegistered, NumberState, OptOut, Outcome, Source, StateChanged,
};
use jiff::Timestamp;

use crate::{Appended, EventLog, StoreError, Unstorable};

/// Generates one `#[test]` per conformance check. `$fresh` is evaluated once
/// per test and must give an `impl FnMut() -> Box<dyn EventLog>` as
/// described in the [module docs](crate::conformance).
#[macro_export]
macro_rules! event_log_conformance {
    (durable, $fresh:expr) => {
        $crate::event_log_conformance!($fresh);
        $crate::event_log_conformance!(@tests $fresh;
            reopened_log_keeps_everything_and_continues,
            handles_on_one_store_deduplicate_against_each_other,
            a_cursor_outlives_a_reopen_and_only_moves_forward,
        );
    };
    (@tests $fresh:expr; $($check:ident),* $(,)?) => {
        $(
            #[test]
            fn $check() {
                $crate::conformance::$check($fresh);
            }
        )*
    };
    ($fresh:expr) => {
        $crate::event_log_conformance!(@tests $fresh;
            empty_log_has_nothing_to_replay,
            reappending_a_batch_adds_nothing,
            duplicates_within_a_batch_keep_the_first_copy,
            keys_differ_by_kind_source_and_id,
            unkeyed_events_are_always_appended,
            replay_returns_every_kind_unchanged_in_log_order,
            replay_resumes_after_a_sequence_number,
            tenants_see_only_their_own_events,
            unstorable_event_fails_the_whole_batch,
        );
    };
}

const TENANT: &str = "acme";

/// An instant from Unix seconds and nanoseconds.
pub fn at(second: i64, nanosecond: i32) -> Timestamp {
    Timestamp::new(second, nanosecond).expect("test instants are in range")
}

fn number(text: &str) -> E164 {
    E164::parse_valid(text).expect("test numbers are valid")
}

/// An answered outbound call from a Twilio export.
pub fn call(source_id: &str, ended: Timestamp) -> Call {
    Call {
        from: number("+14155550100"),
        to: number("+12125550199"),
        direction: Direction::Outbound,
        started_at: ended - jiff::SignedDuration::from_secs(45),
        answered_at: Some(ended - jiff::SignedDuration::from_secs(40)),
        ended_at: ended,
        talk_seconds: 40,
        outcome: Outcome::Answered,
        cause: Cause::Unspecified,
        source: Source::Twilio,
        source_id: source_id.to_owned(),
    }
}

/// An FTC complaint naming our number.
pub fn complaint(source: &str, source_id: &str, at: Timestamp) -> Complaint {
    Complaint {
        number: number("+14155550100"),
        at,
        source: source.to_owned(),
        source_id: source_id.to_owned(),
        consumer_area_code: None,
        consumer_state: None,
        subject: None,
        robocall: None,
    }
}

/// One event of every kind, optional fields both filled and empty, instants
/// with nanoseconds: what a backend must give back exactly.
pub fn every_kind() -> Vec<Event> {
    let t = |n: i64| at(1_700_000_000 + n * 60, 123_456_789);
    let unanswered = Call {
        from: number("+12125550123"),
        to: number("+14155550100"),
        direction: Direction::Inbound,
        started_at: t(1),
        answered_at: None,
        ended_at: t(1) + jiff::SignedDuration::from_nanos(1),
        talk_seconds: 0,
        outcome: Outcome::InvalidDestination,
        cause: Cause::Unallocated,
        source: Source::Asterisk,
        source_id: "1700000060.42".to_owned(),
    };
    vec![
        Event::NumberRegistered(NumberRegistered {
            number: number("+14155550100"),
            pool: "sales".to_owned(),
            at: t(0),
            state: NumberState::Aging,
            cnam: Some("ACME SALES".to_owned()),
        }),
        Event::Call(call("CA0123456789abcdef0123456789abcdef", t(1))),
        Event::Call(unanswered),
        Event::Complaint(Complaint {
            consumer_area_code: Some(212),
            consumer_state: Some("New York".to_owned()),
            subject: Some("Dropped call or no message".to_owned()),
            robocall: Some(true),
            ..complaint("ftc", "FTC-2023-0001", t(2))
        }),
        Event::Complaint(complaint("api", "r-17", t(2))),
        Event::Label(LabelObserved {
            number: number("+14155550100"),
            carrier: Carrier::Tmobile,
            label: Some("Scam Likely".to_owned()),
            at: t(3),
            source: "test_call".to_owned(),
            source_id: None,
        }),
        Event::Label(LabelObserved {
            number: number("+14155550100"),
            carrier: Carrier::Att,
            label: None,
            at: t(3),
            source: "monitoring".to_owned(),
            source_id: None,
        }),
        Event::OptOut(OptOut {
            to: number("+12125550199"),
            at: t(4),
        }),
        Event::Consent(Consent {
            to: number("+12125550199"),
            at: t(5),
            pool: Some("sales".to_owned()),
            kind: ConsentKind::Written,
        }),
        Event::Consent(Consent {
            to: number("+442079460958"),
            at: t(5),
            pool: None,
            kind: ConsentKind::EbrPurchase,
        }),
        Event::StateChanged(StateChanged {
            number: number("+14155550100"),
            state: NumberState::Quarantined,
            at: t(6),
            reason: "complaints over 3 in 7 days".to_owned(),
        }),
        Event::NumberRegistered(NumberRegistered {
            number: number("+14155550101"),
            pool: "support".to_owned(),
            at: t(7),
            state: NumberState::Active,
            cnam: None,
        }),
        Event::DisputeUpdated(DisputeUpdated {
            number: number("+14155550100"),
            step: DisputeStep::FirstOrion,
            status: DisputeStatus::Submitted,
            at: t(8),
            note: Some("ticket FO-1234".to_owned()),
        }),
    ]
}

/// Every `(seq, event)` of the tenant, in replay order.
pub fn replay_all(log: &dyn EventLog, tenant: &str) -> Vec<(u64, Event)> {
    let mut seen = Vec::new();
    let last = log
        .replay(tenant, 0, &mut |seq, event| seen.push((seq, event)))
        .expect("replay");
    assert_eq!(
        last,
        seen.last().map_or(0, |(seq, _)| *seq),
        "replay's returned last seq"
    );
    seen
}

fn events_of(log: &dyn EventLog, tenant: &str) -> Vec<Event> {
    replay_all(log, tenant).into_iter().map(|(_, e)| e).collect()
}

fn append(log: &mut dyn EventLog, tenant: &str, events: &[Event]) -> Appended {
    log.append(tenant, events).expect("append")
}

pub fn empty_log_has_nothing_to_replay(mut open: impl FnMut() -> Box<dyn EventLog>) {
    let mut log = open();
    assert_eq!(log.count(TENANT).unwrap(), 0);
    assert_eq!(replay_all(&*log, TENANT), vec![]);
    assert_eq!(log.replay(TENANT, 7, &mut |_, _| {}).unwrap(), 7, "nothing after 7");
    let appended = append(&mut *log, TENANT, &[]);
    assert_eq!((appended.accepted, appended.duplicates), (0, 0));
    assert_eq!(log.count(TENANT).unwrap(), 0);
}

pub fn reappending_a_batch_adds_nothing(mut open: impl FnMut() -> Box<dyn EventLog>) {
    let mut log = open();
    let batch: Vec<Event> = every_kind().into_iter().filter(|e| e.dedup_key().is_some()).collect();
    let first = append(&mut *log, TENANT, &batch);
    assert_eq!((first.accepted, first.duplicates), (batch.len(), 0));
    let before = replay_all(&*log, TENANT);

    let second = append(&mut *log, TENANT, &batch);
    assert_eq!((second.accepted, second.duplicates), (0, batch.len()));
    assert_eq!(second.last_seq, first.last_seq, "duplicates use up no sequence numbers");
    assert_eq!(log.count(TENANT).unwrap(), batch.len() as u64);
    assert_eq!(replay_all(&*log, TENANT), before);
}

pub fn duplicates_within_a_batch_keep_the_first_copy(mut open: impl FnMut() -> Box<dyn EventLog>) {
    let mut log = open();
    let first = call("CA1", at(1_700_000_000, 0));
    let later_copy = Call {
        talk_seconds: 3,
        ..call("CA1", at(1_700_000_100, 0))
    };
    let ftc = complaint("ftc", "F1", at(1_700_000_000, 0));
    let ftc_again = Complaint {
        robocall: Some(false),
        ..ftc.clone()
    };
    let batch = [
        Event::Call(first.clone()),
        Event::Complaint(ftc.clone()),
        Event::Call(later_copy),
        Event::Complaint(ftc_again),
        Event::Call(call("CA2", at(1_700_000_200, 0))),
    ];
    let appended = append(&mut *log, TENANT, &batch);
    assert_eq!((appended.accepted, appended.duplicates), (3, 2));
    assert_eq!(
        events_of(&*log, TENANT),
        vec![
            Event::Call(first),
            Event::Complaint(ftc),
            Event::Call(call("CA2", at(1_700_000_200, 0))),
        ]
    );
}

pub fn keys_differ_by_kind_source_and_id(mut open: impl FnMut() -> Box<dyn EventLog>) {
    let mut log = open();
    let t = at(1_700_000_000, 0);
    let from_asterisk = Call {
        source: Source::Asterisk,
        ..call("X-1", t)
    };
    let batch = [
        Event::Call(call("X-1", t)),
        Event::Call(from_asterisk),
        Event::Call(call("X-2", t)),
        Event::Complaint(complaint("twilio", "X-1", t)),
        Event::Complaint(complaint("ftc", "X-1", t)),
        Event::Complaint(complaint("ftc", "x-1", t)),
    ];
    let appended = append(&mut *log, TENANT, &batch);
    assert_eq!((appended.accepted, appended.duplicates), (6, 0));
    assert_eq!(events_of(&*log, TENANT), batch);
}

pub fn unkeyed_events_are_always_appended(mut open: impl FnMut() -> Box<dyn EventLog>) {
    let mut log = open();
    let opt_out = Event::OptOut(OptOut {
        to: number("+12125550199"),
        at: at(1_700_000_000, 0),
    });
    let twice = [opt_out.clone(), opt_out.clone()];
    assert_eq!(append(&mut *log, TENANT, &twice).accepted, 2);
    assert_eq!(append(&mut *log, TENANT, &twice[..1]).accepted, 1);
    assert_eq!(events_of(&*log, TENANT), vec![opt_out; 3]);
}

pub fn replay_returns_every_kind_unchanged_in_log_order(mut open: impl FnMut() -> Box<dyn EventLog>) {
    let mut log = open();
    let events = every_kind();
    // Two batches, so that order across appends is checked too.
    let (head, tail) = events.split_at(5);
    append(&mut *log, TENANT, head);
    let appended = append(&mut *log, TENANT, tail);

    let replayed = replay_all(&*log, TENANT);
    let seqs: Vec<u64> = replayed.iter().map(|(seq, _)| *seq).collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "ascending: {seqs:?}");
    assert_eq!(seqs.last().copied(), Some(appended.last_seq));
    let replayed: Vec<Event> = replayed.into_iter().map(|(_, e)| e).collect();
    assert_eq!(replayed, events);
    assert_eq!(log.count(TENANT).unwrap(), events.len() as u64);
}

pub fn replay_resumes_after_a_sequence_number(mut open: impl FnMut() -> Box<dyn EventLog>) {
    let mut log = open();
    let events = every_kind();
    append(&mut *log, TENANT, &events);
    let all = replay_all(&*log, TENANT);
    let (third_seq, _) = all[2];

    let mut rest = Vec::new();
    let last = log
        .replay(TENANT, third_seq, &mut |seq, e| rest.push((seq, e)))
        .unwrap();
    assert_eq!(rest, all[3..]);
    assert_eq!(
        log.replay(TENANT, last, &mut |_, _| panic!("nothing after the end"))
            .unwrap(),
        last
    );

    // A resumed replay picks up what was appended since.
    let late = Event::Call(call("CA-late", at(1_700_100_000, 0)));
    append(&mut *log, TENANT, std::slice::from_ref(&late));
    let mut after = Vec::new();
    log.replay(TENANT, last, &mut |_, e| after.push(e)).unwrap();
    assert_eq!(after, vec![late]);
}

pub fn tenants_see_only_their_own_events(mut open: impl FnMut() -> Box<dyn EventLog>) {
    let mut log = open();
    let events = every_kind();
    let other_batch = [Event::Call(call("CA-only-globex", at(1_700_000_000, 0)))];
    // Interleaved appends: each tenant's replay still holds its own, in order.
    append(&mut *log, "acme", &events[..4]);
    append(&mut *log, "globex", &other_batch);
    append(&mut *log, "acme", &events[4..]);
    let same_ids_elsewhere = append(&mut *log, "initech", &events);
    assert_eq!(
        same_ids_elsewhere.accepted,
        events.len(),
        "the same source ids in another tenant are other events"
    );

    assert_eq!(events_of(&*log, "acme"), events);
    assert_eq!(events_of(&*log, "globex"), other_batch);
    assert_eq!(events_of(&*log, "initech"), events);
    assert_eq!(log.count("acme").unwrap(), events.len() as u64);
    assert_eq!(log.count("globex").unwrap(), 1);
    assert_eq!(log.count("nobody").unwrap(), 0);
    assert_eq!(events_of(&*log, "nobody"), vec![]);
    assert_eq!(events_of(&*log, "ACME"), vec![], "tenant names are exact");
}

pub fn unstorable_event_fails_the_whole_batch(mut open: impl FnMut() -> Box<dyn EventLog>) {
    let mut log = open();
    let t = at(1_700_000_000, 0);
    let year_2300 = at(10_413_792_000, 0);
    let cases: Vec<(Event, Unstorable)> = vec![
        (Event::Call(call("", t)), Unstorable::EmptyKey { field: "source_id" }),
        (
            Event::Complaint(complaint("", "F-1", t)),
            Unstorable::EmptyKey { field: "source" },
        ),
        (
            Event::Call(call("CA\0", t)),
            Unstorable::NulInKey { field: "source_id" },
        ),
        (
            Event::Call(Call {
                ended_at: year_2300,
                ..call("CA-future", t)
            }),
            Unstorable::InstantOutOfRange {
                field: "ended_at",
                at: year_2300,
            },
        ),
        (
            Event::OptOut(OptOut {
                to: number("+12125550199"),
                at: year_2300,
            }),
            Unstorable::InstantOutOfRange {
                field: "at",
                at: year_2300,
            },
        ),
    ];
    let good = [
        Event::Call(call("CA-a", t)),
        Event::Complaint(complaint("ftc", "F-a", t)),
        Event::Call(call("CA-b", t)),
    ];
    for (bad, why) in cases {
        let batch = [good[0].clone(), good[1].clone(), bad.clone(), good[2].clone()];
        match log.append(TENANT, &batch) {
            Err(StoreError::Unstorable { index, kind, reason }) => {
                assert_eq!((index, kind, &reason), (2, bad.kind(), &why), "{bad:?}");
            }
            other => panic!("{bad:?} was not refused: {other:?}"),
        }
        assert_eq!(log.count(TENANT).unwrap(), 0, "nothing of the batch is kept");
    }
    // Had any of them been half-written, these would come back as duplicates.
    let appended = append(&mut *log, TENANT, &good);
    assert_eq!((appended.accepted, appended.duplicates), (3, 0));
}

pub fn reopened_log_keeps_everything_and_continues(mut open: impl FnMut() -> Box<dyn EventLog>) {
    let events = every_kind();
    let (before, last_seq) = {
        let mut log = open();
        let appended = append(&mut *log, TENANT, &events);
        append(&mut *log, "globex", &events[..2]);
        (replay_all(&*log, TENANT), appended.last_seq)
    };

    let mut log = open();
    assert_eq!(replay_all(&*log, TENANT), before);
    assert_eq!(log.count("globex").unwrap(), 2);
    let again = append(&mut *log, TENANT, &events);
    let keyed = events.iter().filter(|e| e.dedup_key().is_some()).count();
    assert_eq!(again.duplicates, keyed, "dedup holds across a reopen");

    let fresh = append(
        &mut *log,
        TENANT,
        &[Event::Call(call("CA-after-reopen", at(1_700_500_000, 0)))],
    );
    assert_eq!(fresh.accepted, 1);
    assert!(fresh.last_seq > last_seq, "sequence numbers are never reused");
}

pub fn a_cursor_outlives_a_reopen_and_only_moves_forward(mut open: impl FnMut() -> Box<dyn EventLog>) {
    {
        let mut log = open();
        let never = log.cursor(TENANT, "alerts:ops").unwrap();
        assert_eq!(never, None, "a reader that never saved has no place");
        append(&mut *log, TENANT, &every_kind());
        log.set_cursor(TENANT, "alerts:none-yet", 0).unwrap();
        log.set_cursor(TENANT, "alerts:ops", 5).unwrap();
        log.set_cursor(TENANT, "alerts:pager", 2).unwrap();
        log.set_cursor("globex", "alerts:ops", 9).unwrap();
        log.set_cursor(TENANT, "alerts:ops", 3).unwrap();
    }
    let log = open();
    let cursor = |tenant: &str, name: &str| log.cursor(tenant, name).unwrap();
    assert_eq!(cursor(TENANT, "alerts:ops"), Some(5), "kept, and never moved back");
    assert_eq!(cursor(TENANT, "alerts:pager"), Some(2));
    assert_eq!(
        cursor(TENANT, "alerts:none-yet"),
        Some(0),
        "a place at the start is a place"
    );
    assert_eq!(cursor("globex", "alerts:ops"), Some(9), "each tenant its own");
    assert_eq!(cursor("initech", "alerts:ops"), None);
}

pub fn handles_on_one_store_deduplicate_against_each_other(mut open: impl FnMut() -> Box<dyn EventLog>) {
    // Two processes, say `dialguard serve` and a `dialguard import`, both
    // appending: each must see what the other stored.
    let mut server = open();
    let mut import = open();
    let first = workload_batch(0, 50);
    let second = workload_batch(1, 50);
    assert_eq!(append(&mut *server, TENANT, &first).accepted, 50);
    assert_eq!(append(&mut *import, TENANT, &first).duplicates, 50);
    let mixed: Vec<Event> = second.iter().chain(&first[..10]).cloned().collect();
    let appended = append(&mut *import, TENANT, &mixed);
    assert_eq!((appended.accepted, appended.duplicates), (50, 10));
    assert_eq!(append(&mut *server, TENANT, &second).duplicates, 50);
    assert_eq!(append(&mut *server, "globex", &second).accepted, 50);
    assert_eq!(append(&mut *import, "globex", &second).duplicates, 50);

    let want: Vec<Event> = first.into_iter().chain(second).collect();
    assert_eq!(events_of(&*server, TENANT), want);
    assert_eq!(events_of(&*import, TENANT), want);
}

/// Batch `index` of a deterministic import of keyed events (calls, and a
/// complaint every 100 rows), `len` events long. Re-sending any batch is a
/// no-op, which is what lets an import that died be simply run again.
pub fn workload_batch(index: u64, len: usize) -> Vec<Event> {
    let start = 1_700_000_000 + i64::try_from(index).unwrap_or(0) * 100_000;
    (0..len)
        .map(|row| {
            let ended = at(start + row as i64, 500_000_000);
            let id = format!("B{index:06}-R{row:06}");
            if row % 100 == 99 {
                Event::Complaint(complaint("ftc", &id, ended))
            } else {
                Event::Call(Call {
                    outcome: Outcome::ALL[row % Outcome::ALL.len()],
                    talk_seconds: (row % 300) as u32,
                    ..call(&id, ended)
                })
            }
        })
        .collect()
}

/// The two logs hold the same events under the same sequence numbers for
/// `tenant`.
pub fn assert_same_log(got: &dyn EventLog, want: &dyn EventLog, tenant: &str) {
    let got = replay_all(got, tenant);
    let want = replay_all(want, tenant);
    assert_eq!(got.len(), want.len(), "event count");
    if let Some(i) = got.iter().zip(&want).position(|(g, w)| g != w) {
        panic!("logs differ at entry {i}: {:?} vs {:?}", got[i], want[i]);
    }
}

/// Damage done by hand to a log holding [`every_kind`], in SQL both
/// backends' schemas take: the statement, the sequence number replay must
/// name, and words its reason must contain.
pub const DAMAGED_ROWS: [(&str, u64, &str); 6] = [
    (
        "UPDATE calls SET outcome = 99 WHERE seq = 2",
        2,
        "column outcome holds unknown code 99",
    ),
    (
        "UPDATE calls SET source = 0 WHERE seq = 3",
        3,
        "column source holds unknown code 0",
    ),
    (
        "UPDATE calls SET from_number = -5 WHERE seq = 2",
        2,
        "column from_number holds -5",
    ),
    (
        "UPDATE calls SET talk_seconds = -1 WHERE seq = 2",
        2,
        "talk_seconds is out of range",
    ),
    (
        r#"UPDATE events SET payload = '{"kind":"opt_out"}' WHERE seq = 8"#,
        8,
        "payload: missing field",
    ),
    (
        "UPDATE events SET payload = 'not json' WHERE seq = 1",
        1,
        "payload: expected",
    ),
];

/// Checks that replay after one of [`DAMAGED_ROWS`] failed as it says.
pub fn assert_damage_reported(damage: (&str, u64, &str), error: StoreError) {
    let (sql, want_seq, reason_has) = damage;
    match error {
        StoreError::Unreadable { seq, reason, .. } => {
            assert_eq!(seq, want_seq, "{sql}");
            assert!(reason.contains(reason_has), "{sql}: {reason}");
        }
        other => panic!("{sql}: {other:?}"),
    }
}

/// A batch of two calls and an opt-out, for the tests that make a
/// backend refuse opt-outs midway (a trigger): the calls of the batch, and
/// the batch itself.
pub fn calls_then_an_opt_out() -> (Vec<Event>, Vec<Event>) {
    let every = every_kind();
    let calls: Vec<Event> = every.iter().filter(|e| e.kind() == "call").cloned().collect();
    let opt_out = every.iter().find(|e| e.kind() == "opt_out").unwrap().clone();
    let batch = vec![calls[0].clone(), calls[1].clone(), opt_out];
    (calls, batch)
}
