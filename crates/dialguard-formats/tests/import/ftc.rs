use std::collections::HashSet;
use std::path::PathBuf;

use dialguard_core::Event;
use dialguard_formats::{FileError, Format, Options, read_all};

use super::{check, fixture, options_in, read_file, rendered};

#[test]
fn published_csv_rows_become_complaints_or_named_errors() {
    check(
        &rendered(Format::Ftc, "ftc/complaints.csv", &Options::default()),
        &[
            "complaint +18778201390 at 2020-12-01T08:10:00Z id=ftc:2020-12-01 08:10:00:+18778201390:323 area=323 state=California robocall=true",
            // The same report filed twice: the same key, so it counts once.
            "complaint +18778201390 at 2020-12-01T08:10:00Z id=ftc:2020-12-01 08:10:00:+18778201390:323 area=323 state=California robocall=true",
            // No violation date: the created date stands in.
            "complaint +14404930018 at 2020-12-01T09:02:11Z id=ftc:2020-12-01 09:02:11:+14404930018:440 area=440 state=Ohio robocall=false",
            "line 5: Company_Phone_Number \"503area missing\" is not a valid telephone number, so the complaint cannot be about a number we own",
            "line 6: Company_Phone_Number \"800Service\" is not a valid telephone number, so the complaint cannot be about a number we own",
            "line 7: Violation_Date and Created_Date are both empty",
            "line 8: Violation_Date \"2020-12-01 25:00:00\" is not a time (expected e.g. 2026-03-02 09:15:01, 2026-03-02T09:15:01Z or Mon, 02 Mar 2026 09:15:01 +0000)",
            "complaint +18333041447 at 2020-12-01T10:04:00Z id=ftc:2020-12-01 10:04:00:+18333041447:413 area=413 state=Massachusetts robocall=true",
        ],
    );
}

#[test]
fn the_zone_moves_the_instant_but_not_the_key() {
    let got = rendered(Format::Ftc, "ftc/complaints.csv", &options_in("America/New_York"));
    assert_eq!(
        got[0],
        "complaint +18778201390 at 2020-12-01T13:10:00Z id=ftc:2020-12-01 08:10:00:+18778201390:323 area=323 state=California robocall=true"
    );
}

#[test]
fn the_api_json_carries_its_own_dates() {
    check(
        &rendered(Format::Ftc, "ftc/api-page.json", &Options::default()),
        &[
            "complaint +18778201390 at 2020-12-01T08:10:00Z id=ftc:2020-12-01 08:10:00:+18778201390:323 area=323 state=California robocall=true",
            "record 2: company-phone-number \"01200#1110\" is not a valid telephone number, so the complaint cannot be about a number we own (id 5623a3e3d5bbd7593ce767aabf028d38)",
        ],
    );
}

fn named(name: &str) -> Options {
    Options {
        file_name: Some(name.to_owned()),
        ..Options::default()
    }
}

#[test]
fn daily_records_take_their_day_from_the_file_name_and_key_by_content() {
    let got = rendered(
        Format::Ftc,
        "ftc/2020-12-03.json",
        &named("tests/fixtures/ftc/2020-12-03.json"),
    );
    assert_eq!(got.len(), 10);
    // The feed's adjacent doubles: two ids, one complaint.
    for pair in got[..8].chunks(2) {
        assert_eq!(pair[0], pair[1]);
        assert!(
            pair[0].contains(" at 2020-12-03T00:00:00Z id=ftc:2020-12-03:+1"),
            "{}",
            pair[0]
        );
    }
    assert_eq!(
        got[0],
        "complaint +12627103266 at 2020-12-03T00:00:00Z id=ftc:2020-12-03:+12627103266:608 area=608 state=- robocall=-"
    );
    assert_eq!(
        got[8],
        "record 9: number \"603area missing\" is not a valid telephone number, so the complaint cannot be about a number we own (id ce0bed593d13f29a31a909cc933c7326)"
    );
    assert!(
        got[9].starts_with("record 10: number \"603area missing\""),
        "{}",
        got[9]
    );
}

#[test]
fn daily_records_without_a_day_are_a_file_error() {
    let file = fixture("ftc/undated.json");
    let error = read_file(Format::Ftc, &file, &named("complaints.json")).unwrap_err();
    assert!(matches!(error, FileError::NeedDate));
    assert!(error.to_string().contains("--date 2020-12-03"), "{error}");

    let dated = Options {
        date: Some(jiff::civil::date(2020, 12, 1)),
        ..named("2020-12-03.json")
    };
    let got = rendered(Format::Ftc, "ftc/undated.json", &dated);
    assert!(
        got[0].contains(" at 2020-12-01T00:00:00Z id=ftc:2020-12-01:"),
        "an explicit date wins: {}",
        got[0]
    );
}

/// The FTC's real files, kept with the test fixtures.
fn real_day(day: &str) -> (Vec<Event>, Vec<dialguard_formats::RowError>, u64) {
    let dir = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/ftc/real"));
    let path = dir.join(format!("{day}.json"));
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("reading {} ({e})", path.display()));
    let options = named(&path.to_string_lossy());
    let (results, summary) = read_file(Format::Ftc, &bytes, &options).unwrap();
    let (mut events, mut errors) = (Vec::new(), Vec::new());
    for result in results {
        match result {
            Ok(e) => events.push(e),
            Err(e) => errors.push(e),
        }
    }
    (events, errors, summary.rows)
}

fn keys(events: &[Event]) -> HashSet<String> {
    events
        .iter()
        .map(|e| match e {
            Event::Complaint(c) => c.source_id.clone(),
            other => panic!("not a complaint: {other:?}"),
        })
        .collect()
}

#[test]
fn the_real_doubled_day_counts_each_complaint_once() {
    let (events, errors, records) = real_day("2020-12-03");
    assert!(records > 28_000, "{records} records");
    let distinct = keys(&events).len() as f64;
    let share = distinct / records as f64;
    assert!(
        (0.45..0.55).contains(&share),
        "{distinct} distinct complaints of {records} records"
    );
    // Garbled numbers are named with their record and the feed's id.
    assert!(!errors.is_empty());
    for error in &errors {
        let text = error.to_string();
        assert!(text.starts_with("record ") && text.contains("(id "), "{text}");
    }
    assert!(
        errors
            .iter()
            .any(|e| e.reason.starts_with("number \"603area missing\""))
    );
}

#[test]
fn real_ordinary_days_keep_nearly_every_complaint() {
    for day in ["2020-12-01", "2020-12-02"] {
        let (events, errors, records) = real_day(day);
        assert_eq!(events.len() + errors.len(), records as usize);
        let share = keys(&events).len() as f64 / records as f64;
        assert!(share > 0.9, "{day}: {share}");
        // Garbled and spoofed (invalid) numbers: a few in a hundred.
        assert!(
            errors.len() * 100 < records as usize * 3,
            "{day}: {} errors",
            errors.len()
        );
    }
}

#[test]
fn reimporting_a_day_gives_the_same_keys() {
    let bytes = fixture("ftc/2020-12-03.json");
    let options = named("2020-12-03.json");
    assert_eq!(
        read_all(Format::Ftc, &bytes, &options).unwrap(),
        read_all(Format::Ftc, &bytes, &options).unwrap()
    );
}
