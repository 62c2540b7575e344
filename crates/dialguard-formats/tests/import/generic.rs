use dialguard_formats::{ColumnMap, FileError, Format, Options};

use super::{check, fixture, read_file, rendered};

fn mapped(map: &str) -> Options {
    Options {
        map: Some(map.parse::<ColumnMap>().unwrap()),
        ..Options::default()
    }
}

#[test]
fn mapped_columns_become_calls_or_named_errors() {
    let options = mapped(
        "id=Call ID,from=Caller,to=Dialed,started_at=Start,answered_at=Answer,ended_at=End,outcome=Result,sip_code=SIP",
    );
    check(
        &rendered(Format::Generic, "generic/calls.csv", &options),
        &[
            "+14155550100 > +14155550123 outbound answered/unspecified talk=124 2026-03-02T09:15:01Z..2026-03-02T09:17:11Z answered=2026-03-02T09:15:07Z id=g-1",
            "+14155550100 > +14155550124 outbound busy/unspecified talk=0 2026-03-02T09:16:00Z..2026-03-02T09:16:30Z id=g-2",
            "+14155550100 > +14155550125 outbound invalid_destination/unallocated talk=0 2026-03-02T09:17:00Z..2026-03-02T09:17:05Z id=g-3",
            // A named outcome takes the cause of a SIP code that agrees.
            "+14155550100 > +14155550126 outbound rejected/blocked_caller talk=0 2026-03-02T09:18:00Z..2026-03-02T09:18:05Z id=g-4",
            // No outcome, no code: the answer time decides; no id: a content id.
            "+14155550100 > +14155550127 outbound answered/unspecified talk=3 2026-03-02T09:19:00Z..2026-03-02T09:19:05Z answered=2026-03-02T09:19:02Z id=<content>",
            "line 7: outcome \"picked_up\" is not one of answered, no_answer, busy, rejected, invalid_destination, network_failure, voicemail",
            "line 8: sip_code \"abc\" is not a SIP response code (100 to 699)",
            "line 9: to is empty: no number was dialled",
            "line 10: ended_at and duration are both empty: the call has no end",
        ],
    );
}

#[test]
fn durations_q850_dispositions_and_direction() {
    let options = mapped(
        "id=id,from=caller,to=callee,direction=dir,started_at=begin,duration=secs,talk_seconds=talk,q850=q850,disposition=disposition",
    );
    check(
        &rendered(Format::Generic, "generic/duration.csv", &options),
        &[
            "+14155550100 > +14155550123 outbound answered/unspecified talk=124 2026-03-02T17:15:01Z..2026-03-02T17:17:11Z id=d-1",
            "+14155550100 > +14155550124 outbound no_answer/unspecified talk=0 2026-03-02T17:16:00Z..2026-03-02T17:16:30Z id=d-2",
            "+14155550100 > +14155550125 outbound busy/unspecified talk=0 2026-03-02T17:17:00Z..2026-03-02T17:17:03Z id=d-3",
            "+12125550187 > +14155550100 inbound answered/unspecified talk=60 2026-03-02T17:18:00Z..2026-03-02T17:19:04Z id=d-4",
            "line 6: duration \"-4\" is negative",
            "line 7: direction \"upward\" is neither outbound nor inbound",
            "line 8: disposition \"HUNG_UP_ANGRILY?\" is not an Asterisk disposition, Twilio status or FreeSWITCH hangup cause",
        ],
    );
}

#[test]
fn a_generic_csv_needs_a_map_that_fits_its_header() {
    let file = fixture("generic/calls.csv");
    let error = read_file(Format::Generic, &file, &Options::default()).unwrap_err();
    assert!(matches!(error, FileError::MissingColumnMap));
    assert!(error.to_string().contains("--map from=COLUMN,to=COLUMN"), "{error}");

    let error = read_file(
        Format::Generic,
        &file,
        &mapped("from=Caller,to=Callee,started_at=Start,ended_at=End"),
    )
    .unwrap_err();
    assert_eq!(
        error.to_string(),
        "the generic file's header has no column \"Callee\" (mapped to to); it has: \
         Call ID,Caller,Dialed,Start,Answer,End,Result,SIP. \
         Fix the --map entry to name a column of the header (names match ignoring case)."
    );
}
