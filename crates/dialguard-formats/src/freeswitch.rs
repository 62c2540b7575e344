//! FreeSWITCH `mod_cdr_csv`, default template (rules in the crate docs).
//!
//! The default template wraps every value in double quotes and escapes
//! nothing, so a caller name with a quote in it is not valid CSV. Lines are
//! therefore split on the `","` between fields, never by a CSV parser.

use std::io::{BufRead, BufReader, Read};

use dialguard_core::{Direction, Event, Source, classify};

use crate::content_id::content_id;
use crate::dial::Numbers;
use crate::draft::{Draft, parties, seconds};
use crate::stamp::{self, Stamp};
use crate::{Emitter, FileError, Options, RowError};

/// The default template's fields, in order.
const FIELDS: [&str; 15] = [
    "caller_id_name",
    "caller_id_number",
    "destination_number",
    "context",
    "start_stamp",
    "answer_stamp",
    "end_stamp",
    "duration",
    "billsec",
    "hangup_cause",
    "uuid",
    "bleg_uuid",
    "accountcode",
    "read_codec",
    "write_codec",
];
const NAME: usize = 0;
const NUMBER: usize = 1;
const DESTINATION: usize = 2;
const CONTEXT: usize = 3;
const START: usize = 4;
const ANSWER: usize = 5;
const END: usize = 6;
const DURATION: usize = 7;
const BILLSEC: usize = 8;
const HANGUP_CAUSE: usize = 9;
const UUID: usize = 10;

/// FreeSWITCH's context for calls arriving from outside.
const INBOUND_CONTEXT: &str = "public";

pub(crate) fn read(input: impl Read, options: &Options, out: &mut Emitter) -> Result<(), FileError> {
    let mut reader = BufReader::with_capacity(1 << 16, input);
    let mut buffer = Vec::with_capacity(512);
    let mut numbers = Numbers::default();
    let mut line = 0u64;
    loop {
        buffer.clear();
        if reader.read_until(b'\n', &mut buffer)? == 0 {
            return Ok(());
        }
        line += 1;
        let text = buffer.trim_ascii();
        if text.is_empty() {
            continue;
        }
        let result = call(text, options, &mut numbers).map_err(|why| RowError::at_line(line, why));
        out.emit(result);
    }
}

/// Splits a line into the template's 15 values, as bytes: only the values
/// a call needs are decoded, so a caller name in Latin-1 costs nothing.
fn split(line: &[u8]) -> Result<Vec<&[u8]>, String> {
    let inner = line
        .strip_prefix(b"\"")
        .and_then(|l| l.strip_suffix(b"\""))
        .ok_or_else(|| {
            "the line is not in FreeSWITCH's default cdr_csv template \
         (every value in double quotes): is this file in another format?"
                .to_owned()
        })?;
    let mut values = Vec::with_capacity(FIELDS.len());
    let mut rest = inner;
    while let Some(at) = rest.windows(SEPARATOR.len()).position(|w| w == SEPARATOR) {
        values.push(&rest[..at]);
        rest = &rest[at + SEPARATOR.len()..];
    }
    values.push(rest);
    if values.len() < FIELDS.len() {
        return Err(format!(
            "the line has {} values; FreeSWITCH's default cdr_csv template writes {} \
             (caller_id_name … write_codec): is this another template or format?",
            values.len(),
            FIELDS.len()
        ));
    }
    // The extra splits fall in the caller name: glue them back.
    let extra = values.len() - FIELDS.len();
    if extra > 0 {
        let name_end = values[..=extra]
            .iter()
            .map(|v| v.len() + SEPARATOR.len())
            .sum::<usize>()
            - SEPARATOR.len();
        values.splice(NAME..=NAME + extra, [&inner[..name_end]]);
    }
    Ok(values)
}

/// What stands between two values of the default template.
const SEPARATOR: &[u8] = b"\",\"";

fn call(line: &[u8], options: &Options, numbers: &mut Numbers) -> Result<Event, String> {
    let raw = split(line)?;
    // Decoded up to uuid, the last value a call needs.
    let mut values = [""; FIELDS.len()];
    for (i, value) in raw.iter().enumerate().take(UUID + 1).skip(NAME + 1) {
        values[i] = std::str::from_utf8(value).map_err(|_| format!("{} is not valid UTF-8 text", FIELDS[i]))?;
    }
    let direction = if values[CONTEXT].trim().eq_ignore_ascii_case(INBOUND_CONTEXT) {
        Direction::Inbound
    } else {
        Direction::Outbound
    };
    let (from, to) = parties(
        numbers,
        direction,
        (values[NUMBER], FIELDS[NUMBER]),
        (values[DESTINATION], FIELDS[DESTINATION]),
    )?;
    let answer_text = values[ANSWER].trim();
    let answered = !answer_text.is_empty();
    let cause = values[HANGUP_CAUSE];
    let classified = classify::freeswitch(cause, answered)
        .ok_or_else(|| "hangup_cause is empty: the call's ending is unknown".to_owned())?;
    let duration = seconds(values[DURATION], FIELDS[DURATION])?;
    let billsec = seconds(values[BILLSEC], FIELDS[BILLSEC])?;
    let local = |i: usize| {
        stamp::parse_local(values[i])
            .map(Stamp::Local)
            .map_err(|why| format!("{} {why}", FIELDS[i]))
    };
    let answer = if answered { Some(local(ANSWER)?) } else { None };
    let span = stamp::resolve(&options.timezone, local(START)?, answer, local(END)?, Some(duration))
        .map_err(|e| e.describe(FIELDS[START], FIELDS[ANSWER], FIELDS[END]))?;
    let uuid = values[UUID].trim();
    let source_id = if uuid.is_empty() {
        content_id(&[
            values[NUMBER].as_bytes(),
            values[DESTINATION].as_bytes(),
            values[START].as_bytes(),
        ])
    } else {
        uuid.to_owned()
    };
    Ok(Draft {
        from,
        to,
        direction,
        span,
        talk_seconds: billsec,
        classified,
        source: Source::Freeswitch,
        source_id,
    }
    .into_event())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(name: &str) -> String {
        format!(
            "\"{name}\",\"4155550100\",\"4155550123\",\"default\",\"2026-03-02 09:15:01\",\"\",\
             \"2026-03-02 09:15:31\",\"30\",\"0\",\"NO_ANSWER\",\"a-uuid\",\"\",\"\",\"PCMU\",\"PCMU\""
        )
    }

    #[test]
    fn quotes_and_field_separators_in_the_name_stay_in_the_name() {
        for name in ["ACME", "Bob \"The Closer\"", "Smith\",\"Jo", "\"", ""] {
            let text = line(name);
            let values = split(text.as_bytes()).unwrap();
            assert_eq!(values.len(), 15, "{name:?}");
            assert_eq!(values[NAME], name.as_bytes());
            assert_eq!(values[NUMBER], b"4155550100");
            assert_eq!(values[14], b"PCMU");
        }
    }

    #[test]
    fn lines_in_another_shape_are_named() {
        let short = "\"a\",\"b\"";
        assert!(
            split(short.as_bytes())
                .unwrap_err()
                .starts_with("the line has 2 values")
        );
        let unquoted = "a,b,c";
        assert!(
            split(unquoted.as_bytes())
                .unwrap_err()
                .contains("default cdr_csv template")
        );
        assert!(split(b"\"").is_err());
    }
}
