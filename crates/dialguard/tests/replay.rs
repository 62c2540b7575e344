//! Restart is replay: the metrics a process computed while importing equal
//! the metrics a fresh process computes from the stored log.

use dialguard_core::Event;
use dialguard_core::metrics::{Ledger, MetricsConfig};
use dialguard_formats::{Format, Options};
use dialguard_store::{EventLog, SqliteLog};

#[test]
fn metrics_after_a_restart_equal_metrics_before_it() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("d.db");
    let mut csv = Vec::new();
    dialguard_formats::generate::asterisk_master_csv(20_000, 15, 11, &mut csv).unwrap();

    let mut live = Ledger::new(MetricsConfig::default());
    let mut events = Vec::new();
    dialguard_formats::read(Format::Asterisk, csv.as_slice(), &Options::default(), &mut |item| {
        let event = item.expect("the generated file is clean");
        live.apply(&event);
        events.push(event);
    })
    .unwrap();
    {
        let mut log = SqliteLog::open(&db).unwrap();
        for batch in events.chunks(3_000) {
            log.append("default", batch).unwrap();
        }
    }

    let log = SqliteLog::open(&db).unwrap();
    let mut replayed = Ledger::new(MetricsConfig::default());
    let mut count = 0;
    log.replay("default", 0, &mut |_, event: Event| {
        replayed.apply(&event);
        count += 1;
    })
    .unwrap();
    assert_eq!(count, events.len());

    let now = live.latest().unwrap();
    assert_eq!(replayed.owned_numbers(), live.owned_numbers());
    assert!(!live.owned_numbers().is_empty());
    for number in live.owned_numbers() {
        assert_eq!(replayed.metrics(number, now), live.metrics(number, now), "{number}");
    }
}
