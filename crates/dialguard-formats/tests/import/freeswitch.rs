use dialguard_formats::{Format, Options};

use super::{check, fixture, read_file, render, rendered};

const MASTER: &[&str] = &[
    "+14155550100 > +14155550123 outbound answered/unspecified talk=124 2026-03-02T09:15:01Z..2026-03-02T09:17:11Z answered=2026-03-02T09:15:07Z id=5b1e7d7c-0001-4d2a-9d7e-1a2b3c4d5e01",
    // The caller name holds unescaped quotes.
    "+14155550100 > +14155550124 outbound no_answer/unspecified talk=0 2026-03-02T09:16:00Z..2026-03-02T09:16:30Z id=5b1e7d7c-0001-4d2a-9d7e-1a2b3c4d5e02",
    // The caller name holds the "," separator itself.
    "+14155550100 > +14155550125 outbound busy/unspecified talk=0 2026-03-02T09:17:00Z..2026-03-02T09:17:03Z id=5b1e7d7c-0001-4d2a-9d7e-1a2b3c4d5e03",
    "+12125550187 > +14155550100 inbound answered/unspecified talk=60 2026-03-02T09:18:00Z..2026-03-02T09:19:04Z answered=2026-03-02T09:18:04Z id=5b1e7d7c-0001-4d2a-9d7e-1a2b3c4d5e04",
    "+14155550100 > +14155550126 outbound invalid_destination/unallocated talk=0 2026-03-02T09:20:00Z..2026-03-02T09:20:02Z id=5b1e7d7c-0001-4d2a-9d7e-1a2b3c4d5e05",
    "+14155550100 > +14155550127 outbound no_answer/unspecified talk=0 2026-03-02T09:21:00Z..2026-03-02T09:21:12Z id=5b1e7d7c-0001-4d2a-9d7e-1a2b3c4d5e06",
    // A dialled number no carrier can reach, whatever the hangup cause.
    "+14155550100 > +14151550100 outbound invalid_destination/unallocated talk=0 2026-03-02T09:22:00Z..2026-03-02T09:22:01Z id=5b1e7d7c-0001-4d2a-9d7e-1a2b3c4d5e07",
    "line 8: hangup_cause is empty: the call's ending is unknown",
    "line 9: billsec \"abc\" is not a whole number of seconds",
    "line 10: the line has 14 values; FreeSWITCH's default cdr_csv template writes 15 (caller_id_name … write_codec): is this another template or format?",
    "line 11: caller_id_number is withheld (\"anonymous\"): the call has no caller id to record",
    "+14155550100 > +14155550129 outbound answered/unspecified talk=3 2026-03-02T09:27:00Z..2026-03-02T09:27:08Z answered=2026-03-02T09:27:05Z id=<content>",
];

#[test]
fn default_template_rows_become_calls_or_named_errors() {
    check(
        &rendered(Format::Freeswitch, "freeswitch/Master.csv", &Options::default()),
        MASTER,
    );
}

#[test]
fn crlf_line_ends_and_a_bom_read_the_same() {
    check(
        &rendered(
            Format::Freeswitch,
            "freeswitch/Master-crlf-bom.csv",
            &Options::default(),
        ),
        MASTER,
    );
}

#[test]
fn switch_local_time_follows_the_zone() {
    let got = rendered(
        Format::Freeswitch,
        "freeswitch/Master.csv",
        &super::options_in("America/Los_Angeles"),
    );
    assert!(
        got[0].contains("2026-03-02T17:15:01Z..2026-03-02T17:17:11Z answered=2026-03-02T17:15:07Z"),
        "{}",
        got[0]
    );
}

#[test]
fn a_caller_name_in_latin_1_does_not_cost_the_row() {
    let mut file = fixture("freeswitch/Master.csv");
    let line = b"\"Jos\xe9 Pe\xf1a\",\"4155550100\",\"14155550123\",\"default\",\"2026-03-02 09:15:01\",\"\",\"2026-03-02 09:15:31\",\"30\",\"0\",\"NO_ANSWER\",\"latin-1\",\"\",\"\",\"PCMU\",\"PCMU\"\n";
    file.extend_from_slice(line);
    file.extend_from_slice(b"\"ACME\",\"4155550100\",\"1415555\xff0123\",\"default\",\"2026-03-02 09:15:01\",\"\",\"2026-03-02 09:15:31\",\"30\",\"0\",\"NO_ANSWER\",\"bad\",\"\",\"\",\"PCMU\",\"PCMU\"\n");
    let (results, _) = read_file(Format::Freeswitch, &file, &Options::default()).unwrap();
    let got: Vec<String> = results.iter().map(render).collect();
    assert_eq!(
        got[12],
        "+14155550100 > +14155550123 outbound no_answer/unspecified talk=0 2026-03-02T09:15:01Z..2026-03-02T09:15:31Z id=latin-1"
    );
    assert_eq!(got[13], "line 14: destination_number is not valid UTF-8 text");
}
