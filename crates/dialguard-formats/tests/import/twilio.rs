use dialguard_formats::{FileError, Format, Options};

use super::{check, read_file, render, rendered};

#[test]
fn an_api_page_becomes_calls_or_named_errors() {
    check(
        &rendered(Format::Twilio, "twilio/calls-page.json", &Options::default()),
        &[
            "+14155550100 > +14155550123 outbound answered/unspecified talk=124 2026-03-02T17:15:07Z..2026-03-02T17:17:11Z id=CA00000000000000000000000000000001",
            "+14155550100 > +14155550124 outbound no_answer/unspecified talk=0 2026-03-02T17:16:00Z..2026-03-02T17:16:30Z id=CA00000000000000000000000000000002",
            "+14155550100 > +14155550125 outbound busy/unspecified talk=0 2026-03-02T17:17:00Z..2026-03-02T17:17:02Z id=CA00000000000000000000000000000003",
            "+14155550100 > +14155550126 outbound voicemail/unspecified talk=40 2026-03-02T17:18:00Z..2026-03-02T17:18:40Z id=CA00000000000000000000000000000004",
            "+12125550187 > +14155550100 inbound answered/unspecified talk=60 2026-03-02T17:19:00Z..2026-03-02T17:20:00Z id=CA00000000000000000000000000000005",
            // Failed before it started: no start_time, no end_time.
            "+14155550100 > +14155550127 outbound network_failure/unspecified talk=0 2026-03-02T17:21:00Z..2026-03-02T17:21:00Z id=CA00000000000000000000000000000006",
            "record 7: status \"queued\" is not final: the call had not ended when this was exported; export it again later",
            "record 8: to \"client:alice\" is not a telephone number",
            // duration as a JSON number rather than Twilio's string.
            "+14155550100 > +14155550129 outbound answered/unspecified talk=31 2026-03-02T17:24:00Z..2026-03-02T17:24:31Z id=CA00000000000000000000000000000009",
        ],
    );
}

#[test]
fn a_bare_array_with_a_bom_is_read_too() {
    let got = rendered(Format::Twilio, "twilio/calls-array.json", &Options::default());
    assert_eq!(got.len(), 2);
    assert!(got[1].ends_with("id=CA00000000000000000000000000000002"), "{}", got[1]);
}

#[test]
fn a_truncated_page_keeps_the_calls_before_the_break() {
    check(
        &rendered(Format::Twilio, "twilio/calls-truncated.json", &Options::default()),
        &[
            "+14155550100 > +14155550123 outbound answered/unspecified talk=124 2026-03-02T17:15:07Z..2026-03-02T17:17:11Z id=CA00000000000000000000000000000001",
            "+14155550100 > +14155550124 outbound no_answer/unspecified talk=0 2026-03-02T17:16:00Z..2026-03-02T17:16:30Z id=CA00000000000000000000000000000002",
            "record 3: the JSON breaks off after 2 complete records: the file is truncated; the records before the break were read, fetch the file again for the rest",
        ],
    );
}

#[test]
fn a_csv_export_with_mixed_stamps_and_sip_codes() {
    check(
        &rendered(Format::Twilio, "twilio/calls.csv", &Options::default()),
        &[
            "+14155550100 > +14155550123 outbound answered/unspecified talk=124 2026-03-02T17:15:07Z..2026-03-02T17:17:11Z id=CA10000000000000000000000000000001",
            "+14155550100 > +14155550124 outbound no_answer/unspecified talk=0 2026-03-02T17:16:00Z..2026-03-02T17:16:30Z id=CA10000000000000000000000000000002",
            "+14155550100 > +14155550125 outbound invalid_destination/unallocated talk=0 2026-03-02T17:17:00Z..2026-03-02T17:17:01Z id=CA10000000000000000000000000000003",
            "+14155550100 > +14155550126 outbound rejected/declined talk=0 2026-03-02T17:18:00Z..2026-03-02T17:18:00Z id=CA10000000000000000000000000000004",
            "+14155550100 > +14155550127 outbound busy/unspecified talk=0 2026-03-02T17:19:00Z..2026-03-02T17:19:03Z id=CA10000000000000000000000000000005",
            "line 7: status \"ringing\" is not final: the call had not ended when this was exported; export it again later",
            "line 8: direction \"sideways\" is not a Twilio direction (inbound, outbound-api, outbound-dial)",
            "line 9: duration \"thirty\" is not a whole number of seconds",
            "line 10: sip_response_code \"9999\" is not a SIP response code (100 to 699)",
        ],
    );
}

#[test]
fn json_that_is_not_a_calls_list_is_a_file_error() {
    let cases: [(&str, &str); 4] = [
        ("{\"page\": 0, \"end\": 0}", "the JSON has no list of records"),
        ("{\"calls\": 5}", "the file is not the JSON expected"),
        ("{\"calls\": [", ""),
        ("{\"page\": ", "the file is not the JSON expected"),
    ];
    for (text, want) in cases {
        let result = read_file(Format::Twilio, text.as_bytes(), &Options::default());
        match result {
            Err(FileError::NotJson(message)) => {
                assert!(message.starts_with(want), "{text:?}: {message}");
                assert!(
                    message.contains("Twilio Calls page"),
                    "says what was expected: {message}"
                );
            }
            Ok((results, _)) if want.is_empty() => {
                // The list began, then broke off: a row error, not a file error.
                assert_eq!(results.len(), 1);
                assert!(render(&results[0]).starts_with("record 1: the JSON breaks off after 0 complete records"));
            }
            other => panic!("{text:?}: {other:?}"),
        }
    }
}

#[test]
fn a_csv_without_the_needed_columns_says_which() {
    let error = read_file(
        Format::Twilio,
        b"sid,from,to,start_time\nCA1,+14155550100,+14155550123,2026-03-02\n",
        &Options::default(),
    )
    .unwrap_err();
    assert_eq!(
        error.to_string(),
        "the twilio file's header has no column status; it has: sid,from,to,start_time. \
         Export the Calls log as CSV with its header row, or pass the API's JSON."
    );
}
