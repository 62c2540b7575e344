//! Files that are not call records at all: every reader refuses them the
//! same way, before reading a row.

use dialguard_formats::{ColumnMap, FileError, Format, Options};

use super::{fixture, read_file};

fn options() -> Options {
    Options {
        map: Some("from=a,to=b,started_at=c,ended_at=d".parse::<ColumnMap>().unwrap()),
        file_name: Some("2020-12-03.json".to_owned()),
        ..Options::default()
    }
}

fn refusal(format: Format, bytes: &[u8]) -> String {
    match read_file(format, bytes, &options()) {
        Err(e) => format!("{e:?}"),
        Ok((results, _)) => panic!("{format} accepted it: {results:?}"),
    }
}

#[test]
fn empty_binary_and_utf16_files_are_refused_by_every_reader() {
    for format in Format::ALL {
        assert_eq!(refusal(format, &fixture("files/empty.csv")), "Empty", "{format}");
        assert_eq!(refusal(format, &fixture("files/blank.csv")), "Empty", "{format}");
        assert_eq!(
            refusal(format, &fixture("files/Master.csv.gz")),
            "Binary { offset: 1 }",
            "{format}"
        );
        assert_eq!(refusal(format, &fixture("files/utf16.csv")), "Utf16", "{format}");
    }
}

#[test]
fn refusals_say_what_to_do() {
    let said = |e: FileError| e.to_string();
    assert_eq!(said(FileError::Empty), "the file is empty: there is nothing to import");
    assert!(said(FileError::Binary { offset: 1 }).contains("as UTF-8 text"));
    assert!(said(FileError::Utf16).contains("iconv -f UTF-16 -t UTF-8"));
}

#[test]
fn text_that_turns_binary_after_the_first_kilobyte_is_row_errors_not_a_panic() {
    let mut file = fixture("asterisk/Master.csv");
    file.truncate(1200);
    file.extend_from_slice(b"\n\xff\xfe\x00garbage,\x00\n");
    file.extend_from_slice(&fixture("asterisk/Master.csv"));
    let (results, summary) = read_file(Format::Asterisk, &file, &Options::default()).unwrap();
    assert_eq!(summary.rows as usize, results.len());
    assert!(summary.events >= 9);
}

#[test]
fn bare_carriage_return_line_ends_read_the_same_in_every_line_format() {
    let generic = Options {
        map: Some(
            "id=Call ID,from=Caller,to=Dialed,started_at=Start,answered_at=Answer,ended_at=End,outcome=Result,sip_code=SIP"
                .parse::<ColumnMap>()
                .unwrap(),
        ),
        ..Options::default()
    };
    for (format, path, options) in [
        (Format::Freeswitch, "freeswitch/Master.csv", Options::default()),
        (Format::Asterisk, "asterisk/Master.csv", Options::default()),
        (Format::Ftc, "ftc/complaints.csv", Options::default()),
        (Format::Twilio, "twilio/calls.csv", Options::default()),
        (Format::Generic, "generic/calls.csv", generic),
    ] {
        let lf = fixture(path);
        // Whatever the fixture's own line ends (some are CRLF), bare CRs.
        let cr: Vec<u8> = lf
            .iter()
            .filter(|&&b| b != b'\r')
            .map(|&b| if b == b'\n' { b'\r' } else { b })
            .collect();
        let lines = |bytes: &[u8]| -> Vec<String> {
            let (results, _) = read_file(format, bytes, &options).unwrap();
            results.iter().map(super::render).collect()
        };
        let want = lines(&lf);
        assert!(want.len() > 2, "{path}");
        assert_eq!(lines(&cr), want, "{path} with bare carriage returns");
    }
}
