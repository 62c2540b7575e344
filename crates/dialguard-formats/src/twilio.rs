//! Twilio Calls: the API's JSON page, a bare JSON array, or a CSV with the
//! same field names (rules in the crate docs).

use std::borrow::Cow;
use std::io::Read;

use dialguard_core::{Classified, Direction, Event, Outcome, Source, classify};
use serde_json::Value;

use crate::columns::{Header, optional};
use crate::content_id::content_id;
use crate::dial::Numbers;
use crate::draft::{Draft, parties, seconds};
use crate::input::Opened;
use crate::json::{self, Next};
use crate::split::{CsvRows, Row};
use crate::stamp::{self, Stamp};
use crate::{Emitter, FileError, Format, Options, RowError};

const EXPECTED_JSON: &str = "a Twilio Calls page ({\"calls\": [...], \"page\": 0, …}) or a JSON array of call objects";

/// The fields a call needs, by their API names, with the other names CSV
/// exports give them.
const KEYS: [(&str, &[&str]); 12] = [
    ("sid", &["sid", "call_sid", "callsid"]),
    ("from", &["from"]),
    ("to", &["to"]),
    ("direction", &["direction"]),
    ("status", &["status", "call_status"]),
    ("start_time", &["start_time"]),
    ("end_time", &["end_time"]),
    ("date_created", &["date_created"]),
    ("date_updated", &["date_updated"]),
    ("duration", &["duration", "duration_seconds", "duration_sec"]),
    ("answered_by", &["answered_by"]),
    ("sip_response_code", &["sip_response_code", "sipresponsecode"]),
];
const SID: usize = 0;
const FROM: usize = 1;
const TO: usize = 2;
const DIRECTION: usize = 3;
const STATUS: usize = 4;
const START_TIME: usize = 5;
const END_TIME: usize = 6;
const DATE_CREATED: usize = 7;
const DURATION: usize = 9;
const ANSWERED_BY: usize = 10;
const SIP_RESPONSE_CODE: usize = 11;

/// One call's fields, from JSON or CSV, trimmed, empty ones absent.
struct Fields<'a>([Option<Cow<'a, str>>; 12]);

impl Fields<'_> {
    fn get(&self, key: usize) -> Option<&str> {
        self.0[key].as_deref()
    }

    fn require(&self, key: usize) -> Result<&str, String> {
        self.get(key).ok_or_else(|| format!("{} is empty", KEYS[key].0))
    }
}

pub(crate) fn read<R: Read>(opened: Opened<R>, options: &Options, out: &mut Emitter) -> Result<(), FileError> {
    let mut numbers = Numbers::default();
    if opened.looks_like_json() {
        return json::for_each_record(
            opened.reader,
            &["calls"],
            EXPECTED_JSON,
            out,
            &mut |index, record, out| {
                let result = from_json(&record)
                    .and_then(|fields| call(&fields, options, &mut numbers))
                    .map_err(|why| RowError::at_record(index, why));
                out.emit(result);
                Next::Continue
            },
        );
    }
    read_csv(opened.reader, options, &mut numbers, out)
}

fn from_json(record: &Value) -> Result<Fields<'_>, String> {
    if !record.is_object() {
        return Err("the record is not a JSON object".to_owned());
    }
    Ok(Fields(KEYS.map(|(key, _)| {
        json::field(record, key).and_then(|text| match text {
            Cow::Borrowed(t) => Some(Cow::Borrowed(t.trim())).filter(|t| !t.is_empty()),
            Cow::Owned(t) => Some(Cow::<str>::Owned(t.trim().to_owned())).filter(|t| !t.is_empty()),
        })
    })))
}

fn read_csv(input: impl Read, options: &Options, numbers: &mut Numbers, out: &mut Emitter) -> Result<(), FileError> {
    let mut rows = CsvRows::new(input);
    let mut record = Row::default();
    rows.next(&mut record)?;
    let header = Header::new(&record);
    let columns: [Option<usize>; 12] = KEYS.map(|(_, names)| header.find(names));
    let missing = |what: &str| FileError::MissingColumn {
        format: Format::Twilio,
        missing: what.to_owned(),
        found: header.listing(),
        hint: "Export the Calls log as CSV with its header row, or pass the API's JSON.",
    };
    for key in [FROM, TO, STATUS] {
        if columns[key].is_none() {
            return Err(missing(KEYS[key].0));
        }
    }
    if columns[START_TIME].is_none() && columns[DATE_CREATED].is_none() {
        return Err(missing("start_time (or date_created)"));
    }
    while let Some(line) = rows.next(&mut record)? {
        let fields = KEYS
            .iter()
            .zip(columns)
            .map(|((name, _), column)| optional(&record, column, name).map(|t| t.map(Cow::Borrowed)))
            .collect::<Result<Vec<_>, String>>()
            .map(|v| Fields(v.try_into().expect("one value per key")));
        let result = fields
            .and_then(|fields| call(&fields, options, numbers))
            .map_err(|why| RowError::at_line(line, why));
        out.emit(result);
    }
    Ok(())
}

fn call(fields: &Fields, options: &Options, numbers: &mut Numbers) -> Result<Event, String> {
    let classified = outcome(fields)?;
    let direction = direction(fields.get(DIRECTION))?;
    let (from, to) = parties(
        numbers,
        direction,
        (fields.require(FROM)?, "from"),
        (fields.require(TO)?, "to"),
    )?;
    let time = |key: usize| -> Result<Option<Stamp>, String> {
        fields
            .get(key)
            .map(|t| stamp::parse_any(t).map_err(|why| format!("{} {why}", KEYS[key].0)))
            .transpose()
    };
    let start = match time(START_TIME)? {
        Some(start) => start,
        None => time(DATE_CREATED)?.ok_or("start_time and date_created are both empty")?,
    };
    let answered = matches!(classified.outcome, Outcome::Answered | Outcome::Voicemail);
    let end = match time(END_TIME)? {
        Some(end) => end,
        // A call that never connected may have no end: it ended as it began.
        None if !answered => start,
        None => return Err("end_time is empty: an answered call needs its end".to_owned()),
    };
    let duration = fields.get(DURATION).map(|d| seconds(d, "duration")).transpose()?;
    let span = stamp::resolve(&options.timezone, start, None, end, duration)
        .map_err(|e| e.describe("start_time", "answer", "end_time"))?;
    let source_id = match fields.get(SID) {
        Some(sid) => sid.to_owned(),
        None => content_id(&[
            from.to_string().as_bytes(),
            to.number().to_string().as_bytes(),
            span.started_at.to_string().as_bytes(),
        ]),
    };
    Ok(Draft {
        from,
        to,
        direction,
        span,
        talk_seconds: duration.unwrap_or(0),
        classified,
        source: Source::Twilio,
        source_id,
    }
    .into_event())
}

/// `status` and `answered_by` through the core's table; a call that did not
/// connect takes its SIP response code's finer outcome when it has one.
fn outcome(fields: &Fields) -> Result<Classified, String> {
    let status = fields.require(STATUS)?;
    let classified = classify::twilio(status, fields.get(ANSWERED_BY)).ok_or_else(|| {
        match status.to_ascii_lowercase().as_str() {
            "queued" | "initiated" | "ringing" => format!(
                "status {status:?} is not final: the call had not ended when this was exported; export it again later"
            ),
            _ => format!(
                "status {status:?} is not a Twilio call status \
                 (completed, busy, no-answer, canceled, failed)"
            ),
        }
    })?;
    let Some(code) = fields.get(SIP_RESPONSE_CODE) else {
        return Ok(classified);
    };
    let code: u16 = code
        .parse()
        .ok()
        .filter(|c| (100..700).contains(c))
        .ok_or_else(|| format!("sip_response_code {code:?} is not a SIP response code (100 to 699)"))?;
    let connected = matches!(classified.outcome, Outcome::Answered | Outcome::Voicemail);
    Ok(if connected || code < 300 {
        classified
    } else {
        classify::sip(code, None)
    })
}

fn direction(text: Option<&str>) -> Result<Direction, String> {
    let Some(text) = text else {
        return Ok(Direction::Outbound);
    };
    match text.to_ascii_lowercase().as_str() {
        "inbound" | "trunking-terminating" => Ok(Direction::Inbound),
        "outbound-api" | "outbound-dial" | "outbound" | "trunking-originating" => Ok(Direction::Outbound),
        _ => Err(format!(
            "direction {text:?} is not a Twilio direction (inbound, outbound-api, outbound-dial)"
        )),
    }
}
