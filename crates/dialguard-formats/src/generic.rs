//! Any CSV with a header, read through the user's [`ColumnMap`].

use std::io::Read;

use dialguard_core::{Cause, Classified, Direction, Event, Outcome, Source, classify};

use crate::columns::{ColumnMap, Header, optional, text};
use crate::content_id::content_id;
use crate::dial::Numbers;
use crate::draft::{Draft, parties, seconds};
use crate::split::{CsvRows, Row};
use crate::stamp::{self, Stamp};
use crate::{Emitter, FileError, Format, Options, RowError};

/// The header positions of the mapped columns.
struct Columns {
    from: usize,
    to: usize,
    started_at: usize,
    answered_at: Option<usize>,
    ended_at: Option<usize>,
    duration: Option<usize>,
    talk_seconds: Option<usize>,
    outcome: Option<usize>,
    sip_code: Option<usize>,
    q850: Option<usize>,
    disposition: Option<usize>,
    direction: Option<usize>,
    id: Option<usize>,
}

impl Columns {
    fn find(map: &ColumnMap, header: &Header) -> Result<Columns, FileError> {
        let find = |key: &str, column: &str| {
            header.find_named(column).ok_or_else(|| FileError::MissingColumn {
                format: Format::Generic,
                missing: format!("{column:?} (mapped to {key})"),
                found: header.listing(),
                hint: "Fix the --map entry to name a column of the header (names match ignoring case).",
            })
        };
        let optional = |key: &str, column: &Option<String>| column.as_deref().map(|c| find(key, c)).transpose();
        Ok(Columns {
            from: find("from", &map.from)?,
            to: find("to", &map.to)?,
            started_at: find("started_at", &map.started_at)?,
            answered_at: optional("answered_at", &map.answered_at)?,
            ended_at: optional("ended_at", &map.ended_at)?,
            duration: optional("duration", &map.duration)?,
            talk_seconds: optional("talk_seconds", &map.talk_seconds)?,
            outcome: optional("outcome", &map.outcome)?,
            sip_code: optional("sip_code", &map.sip_code)?,
            q850: optional("q850", &map.q850)?,
            disposition: optional("disposition", &map.disposition)?,
            direction: optional("direction", &map.direction)?,
            id: optional("id", &map.id)?,
        })
    }
}

pub(crate) fn read(input: impl Read, options: &Options, out: &mut Emitter) -> Result<(), FileError> {
    let map = options.map.as_ref().ok_or(FileError::MissingColumnMap)?;
    let mut rows = CsvRows::new(input);
    let mut record = Row::default();
    rows.next(&mut record)?;
    let columns = Columns::find(map, &Header::new(&record))?;
    let mut numbers = Numbers::default();
    while let Some(line) = rows.next(&mut record)? {
        let result = call(&record, &columns, options, &mut numbers).map_err(|why| RowError::at_line(line, why));
        out.emit(result);
    }
    Ok(())
}

fn call(record: &Row, c: &Columns, options: &Options, numbers: &mut Numbers) -> Result<Event, String> {
    let field = |index: Option<usize>, key: &str| optional(record, index, key);
    let direction = match field(c.direction, "direction")? {
        None => Direction::Outbound,
        Some(d) => direction(d)?,
    };
    let from_text = text(record, c.from, "from")?;
    let to_text = text(record, c.to, "to")?;
    let (from, to) = parties(numbers, direction, (from_text, "from"), (to_text, "to"))?;

    let time = |index: Option<usize>, key: &str| -> Result<Option<Stamp>, String> {
        field(index, key)?
            .map(|t| stamp::parse_any(t).map_err(|why| format!("{key} {why}")))
            .transpose()
    };
    let start = time(Some(c.started_at), "started_at")?.ok_or("started_at is empty")?;
    let answer = time(c.answered_at, "answered_at")?;
    let duration = field(c.duration, "duration")?
        .map(|d| seconds(d, "duration"))
        .transpose()?;
    let end = match (time(c.ended_at, "ended_at")?, duration) {
        (Some(end), _) => end,
        (None, Some(duration)) => stamp::after(start, duration),
        (None, None) => return Err("ended_at and duration are both empty: the call has no end".to_owned()),
    };
    let span = stamp::resolve(&options.timezone, start, answer, end, duration)
        .map_err(|e| e.describe("started_at", "answered_at", "ended_at"))?;

    let talk_column = field(c.talk_seconds, "talk_seconds")?
        .map(|t| seconds(t, "talk_seconds"))
        .transpose()?;
    // Talk time is as good a sign of an answer as an answer time.
    let has_answer = answer.is_some() || talk_column.is_some_and(|t| t > 0);
    let classified = outcome(record, c, has_answer)?;
    let answered = matches!(classified.outcome, Outcome::Answered | Outcome::Voicemail);
    let talk_seconds = match talk_column {
        Some(t) => t,
        None => match span.answered_at {
            Some(at) => u32::try_from(span.ended_at.duration_since(at).as_secs()).unwrap_or(0),
            // Without an answer time the whole call is the best measure.
            None if answered => duration
                .unwrap_or_else(|| u32::try_from(span.ended_at.duration_since(span.started_at).as_secs()).unwrap_or(0)),
            None => 0,
        },
    };
    let source_id = match field(c.id, "id")? {
        Some(id) => id.to_owned(),
        None => content_id(&[
            &from.digits().to_le_bytes(),
            &to.number().digits().to_le_bytes(),
            &span.started_at.as_second().to_le_bytes(),
        ]),
    };
    Ok(Draft {
        from,
        to,
        direction,
        span,
        talk_seconds,
        classified,
        source: Source::Generic,
        source_id,
    }
    .into_event())
}

/// `outcome`, else `sip_code`, else `q850`, else `disposition`, else whether
/// the call has an answer time. A named outcome borrows the cause of a SIP
/// code or Q.850 value that agrees with it.
fn outcome(record: &Row, c: &Columns, has_answer: bool) -> Result<Classified, String> {
    let field = |index: Option<usize>, key: &str| optional(record, index, key);
    let sip = match field(c.sip_code, "sip_code")? {
        None => None,
        Some(code) => Some(classify::sip(
            code.parse()
                .ok()
                .filter(|c| (100..700).contains(c))
                .ok_or_else(|| format!("sip_code {code:?} is not a SIP response code (100 to 699)"))?,
            None,
        )),
    };
    let q850 = match field(c.q850, "q850")? {
        None => None,
        Some(cause) => Some(classify::q850(
            cause
                .parse()
                .ok()
                .filter(|c| (1..128).contains(c))
                .ok_or_else(|| format!("q850 {cause:?} is not a Q.850 cause value (1 to 127)"))?,
            has_answer,
        )),
    };
    if let Some(name) = field(c.outcome, "outcome")? {
        let outcome = Outcome::from_name(name).ok_or_else(|| {
            format!(
                "outcome {name:?} is not one of answered, no_answer, busy, rejected, \
                 invalid_destination, network_failure, voicemail"
            )
        })?;
        let cause = [sip, q850]
            .into_iter()
            .flatten()
            .find(|c| c.outcome == outcome)
            .map_or(Cause::Unspecified, |c| c.cause);
        return Ok(Classified { outcome, cause });
    }
    if let Some(classified) = sip.or(q850) {
        return Ok(classified);
    }
    if let Some(d) = field(c.disposition, "disposition")? {
        return disposition(d, has_answer);
    }
    Ok(Classified {
        outcome: if has_answer {
            Outcome::Answered
        } else {
            Outcome::NoAnswer
        },
        cause: Cause::Unspecified,
    })
}

fn disposition(text: &str, has_answer: bool) -> Result<Classified, String> {
    let looks_like_hangup_cause = text.bytes().all(|b| b.is_ascii_uppercase() || b == b'_') && text.contains('_');
    classify::asterisk(text)
        .or_else(|| classify::twilio(text, None))
        .or_else(|| {
            looks_like_hangup_cause
                .then(|| classify::freeswitch(text, has_answer))
                .flatten()
        })
        .ok_or_else(|| {
            format!("disposition {text:?} is not an Asterisk disposition, Twilio status or FreeSWITCH hangup cause")
        })
}

fn direction(text: &str) -> Result<Direction, String> {
    match text.to_ascii_lowercase().as_str() {
        "outbound" | "out" | "o" | "outbound-api" | "outbound-dial" => Ok(Direction::Outbound),
        "inbound" | "in" | "i" => Ok(Direction::Inbound),
        _ => Err(format!("direction {text:?} is neither outbound nor inbound")),
    }
}
