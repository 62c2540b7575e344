//! Whatever the bytes, a reader answers with events, row errors or a file
//! error: never a panic, and every record is accounted for.

use dialguard_formats::{ColumnMap, Format, Options, read_all};
use proptest::prelude::*;

use super::{fixture, read_file};

fn options() -> Options {
    Options {
        timezone: jiff::tz::TimeZone::get("America/New_York").unwrap(),
        map: Some(
            "from=Caller,to=Dialed,started_at=Start,answered_at=Answer,ended_at=End,outcome=Result,sip_code=SIP,id=Call ID"
                .parse::<ColumnMap>()
                .unwrap(),
        ),
        label_map: None,
        file_name: Some("2020-12-03.json".to_owned()),
        date: None,
    }
}

fn format() -> impl Strategy<Value = Format> {
    prop::sample::select(Format::ALL.to_vec())
}

/// Pieces real files are made of, so random files reach deep into parsers.
fn fragment() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![
        "\"",
        "\",\"",
        ",",
        "\n",
        "\r\n",
        "\r",
        "ééé",
        "١٤١٥",
        "sïp:",
        "{",
        "}",
        "[",
        "]",
        ":",
        "\"calls\"",
        "\"data\"",
        "\"number\"",
        "\"attributes\"",
        "null",
        "4155550100",
        "+14155550123",
        "14151550100",
        "s",
        "2026-03-02 09:15:01",
        "2026-11-01 01:30:00",
        "Mon, 02 Mar 2026 17:15:07 +0000",
        "ANSWERED",
        "NO ANSWER",
        "completed",
        "NORMAL_CLEARING",
        "public",
        "from-pstn",
        "PJSIP/+14155550100@trunk,30",
        "SIP/trunk/",
        "-5",
        "99999999999999999999",
        "\u{feff}",
        "é",
        "\0",
        "Caller,Dialed,Start,End",
        "Company_Phone_Number",
        "\"\"\"ACME\"\" <4155550100>\"",
        "<",
        ">",
        "@",
        ";",
        " ",
    ])
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic_a_reader(format in format(), bytes in prop::collection::vec(any::<u8>(), 0..2048)) {
        let _ = read_all(format, &bytes, &options());
    }

    #[test]
    fn files_made_of_real_pieces_never_panic_and_count_every_record(
        format in format(),
        pieces in prop::collection::vec(fragment(), 0..200),
    ) {
        let file: String = pieces.concat();
        if let Ok((results, summary)) = read_file(format, file.as_bytes(), &options()) {
            prop_assert_eq!(summary.rows as usize, results.len());
            prop_assert_eq!(summary.rows, summary.events + summary.errors);
        }
    }

    #[test]
    fn damaging_a_real_file_never_panics(
        (format, path) in prop::sample::select(vec![
            (Format::Asterisk, "asterisk/Master.csv"),
            (Format::Freeswitch, "freeswitch/Master.csv"),
            (Format::Twilio, "twilio/calls-page.json"),
            (Format::Twilio, "twilio/calls.csv"),
            (Format::Generic, "generic/calls.csv"),
            (Format::Ftc, "ftc/complaints.csv"),
            (Format::Ftc, "ftc/api-page.json"),
        ]),
        cut in any::<prop::sample::Index>(),
        flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..8),
    ) {
        let mut bytes = fixture(path);
        for (at, byte) in flips {
            let i = at.index(bytes.len());
            bytes[i] = byte;
        }
        bytes.truncate(cut.index(bytes.len() + 1));
        let _ = read_all(format, &bytes, &options());
    }
}
