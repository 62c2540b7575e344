use dialguard_core::{Event, Outcome};
use dialguard_formats::generate::asterisk_master_csv;
use dialguard_formats::{Format, Options, read_all, read_parallel};

use super::{check, fixture, options_in, read_file, rendered};

const MASTER: &[&str] = &[
    "+14155550100 > +14155550123 outbound answered/unspecified talk=124 2026-03-02T09:15:01Z..2026-03-02T09:17:11Z answered=2026-03-02T09:15:07Z id=<content>",
    "+14155550100 > +14155550124 outbound no_answer/unspecified talk=0 2026-03-02T09:16:00Z..2026-03-02T09:16:30Z id=1772442960.3",
    "+14155550100 > +14155550124 outbound no_answer/unspecified talk=0 2026-03-02T09:17:00Z..2026-03-02T09:17:22Z id=1772443020.5",
    "+14155550100 > +14155550125 outbound busy/unspecified talk=0 2026-03-02T09:18:00Z..2026-03-02T09:18:02Z id=1772443080.7",
    "+14155550100 > +14155550126 outbound answered/unspecified talk=4 2026-03-02T09:19:00Z..2026-03-02T09:19:14Z answered=2026-03-02T09:19:10Z id=1772443140.9",
    "+14155550100 > +14151550100 outbound invalid_destination/unallocated talk=0 2026-03-02T09:20:00Z..2026-03-02T09:20:00Z id=1772443200.11:42",
    "+14155550101 > +442079460958 outbound network_failure/unspecified talk=0 2026-03-02T09:21:00Z..2026-03-02T09:21:01Z id=<content>",
    "+12125550187 > +14155550100 inbound answered/unspecified talk=60 2026-03-02T09:22:00Z..2026-03-02T09:23:05Z answered=2026-03-02T09:22:05Z id=1772443320.14:44",
    "+14155550102 > +14155550127 outbound answered/unspecified talk=45 2026-03-02T09:24:00Z..2026-03-02T09:24:51Z answered=2026-03-02T09:24:06Z id=1772443440.16",
    "line 11: an internal call from extension 1001 to 1002: it never reached a carrier",
    "line 12: disposition \"RINGING\" is not an Asterisk disposition (ANSWERED, NO ANSWER, BUSY, FAILED, CONGESTION)",
    "line 13: duration \"-5\" is negative",
    "line 14: end is before start",
    "line 15: dst \"s\" is not a telephone number, and neither lastdata \"tt-monkeys\" nor dstchannel \"\" names the number dialled",
    "line 16: src is withheld (\"anonymous\"): the call has no caller id to record, and clid \"\" holds none either",
    "line 17: the row has 12 columns; an Asterisk Master.csv row has 16 to 21 (accountcode … amaflags, then uniqueid, userfield, peeraccount, linkedid, sequence): is this file in another format?",
    "line 18: start \"yesterday\" is not a time like 2026-03-02 09:15:01",
    "+14155550100 > +14155550129 outbound answered/unspecified talk=120 2026-03-02T09:33:00Z..2026-03-02T09:35:08Z answered=2026-03-02T09:33:08Z id=1772443980.32",
];

#[test]
fn master_csv_rows_become_calls_or_named_errors() {
    check(
        &rendered(Format::Asterisk, "asterisk/Master.csv", &Options::default()),
        MASTER,
    );
}

#[test]
fn crlf_line_ends_and_a_bom_read_the_same() {
    check(
        &rendered(Format::Asterisk, "asterisk/Master-crlf-bom.csv", &Options::default()),
        MASTER,
    );
    let lf = read_all(Format::Asterisk, &fixture("asterisk/Master.csv"), &Options::default()).unwrap();
    let crlf = read_all(
        Format::Asterisk,
        &fixture("asterisk/Master-crlf-bom.csv"),
        &Options::default(),
    )
    .unwrap();
    assert_eq!(lf, crlf, "content ids must not depend on line ends");
}

#[test]
fn the_summary_counts_records_not_lines() {
    let (_, summary) = read_file(Format::Asterisk, &fixture("asterisk/Master.csv"), &Options::default()).unwrap();
    // 19 lines; one record spans two of them.
    assert_eq!((summary.rows, summary.events, summary.errors), (18, 10, 8));
}

#[test]
fn content_ids_are_stable_and_distinct() {
    let ids = |options: &Options| -> Vec<String> {
        let (events, _) = read_all(Format::Asterisk, &fixture("asterisk/Master.csv"), options).unwrap();
        events
            .into_iter()
            .map(|e| match e {
                Event::Call(c) => c.source_id,
                _ => unreachable!(),
            })
            .collect()
    };
    let utc = ids(&Options::default());
    // The zone changes the instants, not what identifies a record.
    assert_eq!(utc, ids(&options_in("America/Los_Angeles")));
    let mut unique = utc.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), utc.len());
}

#[test]
fn pbx_local_time_is_read_in_the_given_zone_across_dst() {
    check(
        &rendered(
            Format::Asterisk,
            "asterisk/dst-new-york.csv",
            &options_in("America/New_York"),
        ),
        &[
            // Spring: 01:59:30 EST to 03:00:30 EDT is one minute.
            "+14155550100 > +14155550123 outbound answered/unspecified talk=50 2026-03-08T06:59:30Z..2026-03-08T07:00:30Z answered=2026-03-08T06:59:40Z id=1772953170.1",
            // Fall: ends at 01:00:20 EST, 30 s after 01:59:50 EDT.
            "+14155550100 > +14155550124 outbound answered/unspecified talk=25 2026-11-01T05:59:50Z..2026-11-01T06:00:20Z answered=2026-11-01T05:59:55Z id=1793512790.3",
            // Fall: both stamps read 01:30; the 3600 s duration places them.
            "+14155550100 > +14155550125 outbound answered/unspecified talk=3590 2026-11-01T05:30:00Z..2026-11-01T06:30:00Z answered=2026-11-01T05:30:10Z id=1793511000.5",
            "+14155550100 > +14155550126 outbound no_answer/unspecified talk=0 2026-07-01T16:00:00Z..2026-07-01T16:00:30Z id=1782921600.7",
            "+14155550100 > +14155550127 outbound no_answer/unspecified talk=0 2026-01-15T17:00:00Z..2026-01-15T17:00:30Z id=1768496400.9",
        ],
    );
}

#[test]
fn the_same_file_read_in_utc_shows_the_fall_call_ending_before_it_starts() {
    let got = rendered(Format::Asterisk, "asterisk/dst-new-york.csv", &Options::default());
    assert_eq!(got[1], "line 2: end is before start");
    assert!(
        got[0].contains("2026-03-08T01:59:30Z..2026-03-08T03:00:30Z"),
        "{}",
        got[0]
    );
}

#[test]
fn a_header_row_some_tools_add_is_skipped() {
    let mut file = b"accountcode,src,dst,dcontext,clid,channel,dstchannel,lastapp,lastdata,start,answer,end,duration,billsec,disposition,amaflags\n".to_vec();
    file.extend_from_slice(&fixture("asterisk/Master.csv"));
    let (results, summary) = read_file(Format::Asterisk, &file, &Options::default()).unwrap();
    assert_eq!(summary.rows, 18);
    assert_eq!(
        super::render(&results[9]),
        "line 12: an internal call from extension 1001 to 1002: it never reached a carrier"
    );
}

#[test]
fn a_generated_master_csv_is_read_whole() {
    let mut file = Vec::new();
    asterisk_master_csv(5_000, 20, 42, &mut file).unwrap();
    let (events, errors) = read_all(Format::Asterisk, &file, &Options::default()).unwrap();
    assert_eq!(errors, vec![], "the generator writes only rows the reader accepts");
    assert_eq!(events.len(), 5_000);
    let count = |outcome| {
        events
            .iter()
            .filter(|e| matches!(e, Event::Call(c) if c.outcome == outcome))
            .count()
    };
    let share = |outcome| count(outcome) as f64 / events.len() as f64;
    assert!(
        (0.33..0.43).contains(&share(Outcome::Answered)),
        "answered {}",
        share(Outcome::Answered)
    );
    assert!((0.01..0.06).contains(&share(Outcome::InvalidDestination)));
    for outcome in [Outcome::NoAnswer, Outcome::Busy, Outcome::NetworkFailure] {
        assert!(count(outcome) > 100, "{outcome:?}");
    }
    let callers: std::collections::HashSet<_> = events
        .iter()
        .map(|e| match e {
            Event::Call(c) => c.from,
            _ => unreachable!(),
        })
        .collect();
    assert_eq!(callers.len(), 20);
}

#[test]
fn reading_on_worker_threads_gives_the_same_results_in_the_same_order() {
    let mut file = fixture("asterisk/Master-crlf-bom.csv");
    asterisk_master_csv(3_000, 7, 9, &mut file).unwrap();
    file.extend_from_slice(&fixture("asterisk/Master.csv"));
    let options = options_in("America/New_York");
    let (sequential, summary) = read_file(Format::Asterisk, &file, &options).unwrap();
    for threads in [1, 2, 3] {
        let mut parallel = Vec::new();
        let parallel_summary = read_parallel(Format::Asterisk, file.as_slice(), &options, threads, &mut |r| {
            parallel.push(r)
        })
        .unwrap();
        assert_eq!(parallel_summary, summary, "{threads} threads");
        assert!(parallel == sequential, "{threads} threads: results differ");
    }
}

#[test]
fn blank_lines_are_skipped_without_shifting_line_numbers() {
    let master = String::from_utf8(fixture("asterisk/Master.csv")).unwrap();
    for ending in ["\n", "\r\n"] {
        let mut lines: Vec<&str> = master.lines().collect();
        // A blank line after line 3 and a blank-looking one after line 12.
        lines.insert(3, "");
        lines.insert(12, "   ");
        let file = lines.join(ending) + ending;
        let got = rendered_bytes(file.as_bytes());
        assert_eq!(got.len(), 18);
        assert_eq!(
            got[9], "line 12: an internal call from extension 1001 to 1002: it never reached a carrier",
            "{ending:?}"
        );
        assert_eq!(
            got[10],
            "line 14: disposition \"RINGING\" is not an Asterisk disposition (ANSWERED, NO ANSWER, BUSY, FAILED, CONGESTION)",
            "{ending:?}"
        );
    }
}

fn rendered_bytes(bytes: &[u8]) -> Vec<String> {
    let (results, _) = read_file(Format::Asterisk, bytes, &Options::default()).unwrap();
    results.iter().map(super::render).collect()
}

#[test]
fn a_caller_name_in_latin_1_does_not_cost_the_row() {
    let mut file = b"\"\",\"4155550100\",\"14155550123\",\"from-internal\",\"\"\"Jos\xe9\"\" <4155550100>\",".to_vec();
    file.extend_from_slice(
        b"\"PJSIP/1001-00000001\",\"PJSIP/trunk-00000002\",\"Dial\",\"PJSIP/+14155550123@trunk,30\",",
    );
    file.extend_from_slice(
        b"\"2026-03-02 09:15:01\",\"\",\"2026-03-02 09:15:31\",30,0,\"NO ANSWER\",\"DOCUMENTATION\",\"1772442901.1\"\n",
    );
    // The first kilobyte decides text or binary: pad it with a good file.
    let mut padded = fixture("asterisk/Master.csv");
    padded.extend_from_slice(&file);
    let got = rendered_bytes(&padded);
    assert_eq!(
        got.last().unwrap(),
        "+14155550100 > +14155550123 outbound no_answer/unspecified talk=0 2026-03-02T09:15:01Z..2026-03-02T09:15:31Z id=1772442901.1"
    );
}
