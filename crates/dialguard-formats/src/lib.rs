//! Call-record and complaint-feed importers: bytes in, [`Event`]s or row
//! errors out.
//!
//! [`read`] streams one file: each record becomes an [`Event`] or a
//! [`RowError`] (its line, or its record index for JSON, and the reason),
//! handed to a sink in file order, so a million-row file is never held in
//! memory and a bad row never stops the good ones. Only a file that cannot be
//! read at all is a [`FileError`]: empty, binary or UTF-16, JSON that is not
//! JSON, a header without a needed column, a generic CSV without a column
//! map, FTC JSON without a day. [`read_all`] collects everything, for tests
//! and fuzzing; [`read_parallel`] converts a large Asterisk file's rows on
//! worker threads, results still in file order. [`generate`] writes
//! realistic Asterisk files for benchmarks.
//!
//! # Every format
//!
//! - A UTF-8 byte-order mark and CRLF line ends are accepted anywhere.
//! - The first kilobyte decides whether the input is text: a NUL byte or
//!   invalid UTF-8 there is [`FileError::Binary`].
//! - Times without an offset are wall-clock times in [`Options::timezone`]
//!   (UTC by default). A call's start, answer and end are resolved together
//!   across a daylight-saving change, using the record's duration: a call
//!   through the fall fold ends after it starts and lasts as long as the
//!   record says.
//! - Outcomes come from `dialguard_core::classify`, the one table of what a
//!   call's ending means; this crate never decides an outcome of its own,
//!   except for this rule: a dialled number that is all digits but invalid
//!   under libphonenumber is a call the carrier saw, and calls to invalid
//!   numbers are what analytics engines punish, so it is kept (digits as
//!   dialled, 7 to 15 of them) with outcome `invalid_destination` and cause
//!   `unallocated`. Text that is not a number, an extension-length number
//!   and an invalid caller id are row errors.
//! - A call that was not answered has no talk time and no answer time,
//!   whatever the record's billable seconds say.
//! - `source_id` is the source's own id where it has one; otherwise a
//!   content id (128-bit XXH3 of the identifying fields, the same on every
//!   machine and run), so importing a file twice counts its calls once (the
//!   store deduplicates on source and source id).
//!
//! # The formats
//!
//! **`asterisk`**: `cdr_csv`'s `Master.csv`, headerless, columns
//! `accountcode, src, dst, dcontext, clid, channel, dstchannel, lastapp,
//! lastdata, start, answer, end, duration, billsec, disposition, amaflags`,
//! then optional ones told apart by count: 17 adds `uniqueid`; 18
//! `uniqueid, userfield`; 19 `peeraccount, linkedid, sequence` (the
//! `newcdrcolumns` option); 20 `uniqueid` and those three; 21 all five.
//! - The answer comes from `disposition`, not `billsec` (a `NO ANSWER` row
//!   can carry billsec > 0); talk time is `billsec`.
//! - Direction: inbound when `dcontext` names an inbound context
//!   (`from-trunk`, `from-pstn`, `from-did`, `ext-did`, `from-external`,
//!   `from-sip-external`, or anything containing `inbound` or `incoming`),
//!   outbound otherwise. FreePBX's `from-internal` is where its phones place
//!   outbound calls, so "any `from-` context" would be wrong.
//! - The caller id is `src`, or the number in `clid` (`"ACME" <4155550100>`)
//!   when `src` is not one. The dialled number is `dst`, or, when `dst` is
//!   not a valid number (`s`, a dial prefix), the target of `lastdata`
//!   (`PJSIP/+14155550100@trunk,30`, `SIP/trunk/14155550100`) or of a
//!   `Local/…` `dstchannel`. A call between two extensions is a row error.
//! - `source_id`: `uniqueid`, with `:sequence` appended when the row has the
//!   sequence column (the CDRs of one channel's several dial attempts share
//!   a `uniqueid`); without `uniqueid`, a content id of `src, dst, start,
//!   channel`.
//! - A first row reading `accountcode,src,dst,…` (a header some tools add)
//!   is skipped.
//!
//! **`freeswitch`**: `mod_cdr_csv`'s default template, every value in double
//! quotes and none escaped: `caller_id_name, caller_id_number,
//! destination_number, context, start_stamp, answer_stamp, end_stamp,
//! duration, billsec, hangup_cause, uuid, bleg_uuid, accountcode,
//! read_codec, write_codec`. Fields are split on `","`, so a quote inside a
//! caller name does not break the line; extra splits are taken to be inside
//! `caller_id_name`, the only free text before the numbers.
//! - Outcome from `hangup_cause`, answered when `answer_stamp` is set.
//! - Direction: context `public` (FreeSWITCH's inbound context) is inbound,
//!   any other outbound. `source_id` is `uuid`.
//!
//! **`twilio`**: the Calls API's JSON page (`{"calls": [...], "page": …}`),
//! a bare JSON array of call objects, or a CSV whose header uses the same
//! field names (`sid, from, to, direction, status, start_time, end_time,
//! duration, answered_by, …`; `Call Sid`-style headers are accepted too).
//! JSON or CSV is told from the first non-space byte.
//! - Stamps: RFC 2822 (the API's), RFC 3339, or `YYYY-MM-DD HH:MM:SS` with an
//!   optional offset or `UTC`.
//! - Outcome from `status` and `answered_by` (a machine makes it
//!   voicemail); a failed, busy or unanswered call with a
//!   `sip_response_code` takes the SIP code's finer outcome. A status that is
//!   not final (`queued`, `ringing`) is a row error.
//! - Direction: `inbound` and `trunking-terminating` are inbound;
//!   `outbound-api`, `outbound-dial` and `trunking-originating` outbound.
//!   `source_id` is `sid`.
//!
//! **`generic`**: a CSV with a header, read through a [`ColumnMap`]
//! (`from=Caller,to=Dialed,started_at=Start,ended_at=End`, …; see its
//! docs). Outcome from the `outcome` column, else `sip_code`, else `q850`,
//! else `disposition`, else whether `answered_at` is set.
//!
//! **`ftc`**: FTC Do-Not-Call complaints, as [`Event::Complaint`]s with
//! source `ftc`:
//! - the published CSV (`Company_Phone_Number, Created_Date, Violation_Date,
//!   Consumer_City, Consumer_State, Consumer_Area_Code, Subject,
//!   Recorded_Message_Or_Robocall`), stamps read in [`Options::timezone`];
//! - the API's JSON (`{"data": [{"id", "attributes": {…}}]}`, the same
//!   fields in kebab case);
//! - the daily JSON records `[{"id", "number", "area-code"}]`, which carry
//!   no time: the day comes from [`Options::date`] or a `YYYY-MM-DD` in
//!   [`Options::file_name`], and the complaint is at 00:00 UTC that day.
//!
//! A complaint's `source_id` is a content key, not the feed's id:
//! `ftc:{day}:{number}:{consumer area code}` for the daily records and
//! `ftc:{violation stamp, else created stamp}:{number}:{consumer area code}`
//! otherwise (number in E.164, stamp as written). The feed publishes some
//! complaints twice under two ids (2020-12-03 holds nearly every complaint
//! twice); keyed by content, each counts once, and re-importing a day is
//! idempotent. The price: two consumers in one area code reporting one
//! number on the same day count once (about 6% of a normal day's records).
//! A number that is not a valid telephone number (`503area missing`,
//! `800Service`) is a row error naming the record.
//!
//! **`labels`**: label scans, as reputation-monitoring services and dialers
//! export them, as [`Event::Label`]s with source `scan`. A CSV with a
//! header, columns found by name (ignoring case and punctuation):
//! - the number: `Number`, `Phone Number`, `Phone`, `Caller ID`, `TN`,
//!   `ANI` or `DID`, in any usual form;
//! - either a `Carrier` column (`AT&T`, `Verizon`, `T-Mobile`, or the
//!   engines `Hiya`, `TNS`, `First Orion`) beside a `Label` (or `Status`,
//!   `Display`, `Result`) column, one row per number and carrier; or one
//!   column per carrier (`AT&T`, `Verizon Status`, `T-Mobile Label`), one
//!   row per number, an empty cell meaning that carrier was not checked;
//! - when: `Checked At`, `Scanned At`, `Scan Date`, `Last Checked`, `Date`,
//!   `Timestamp` (any stamp the other formats read, or US `12/05/2026
//!   14:30`; a date alone is 00:00, in [`Options::timezone`] when it has no
//!   offset). Without such a column the file is one day's scan: the day
//!   comes from [`Options::date`] or a `YYYY-MM-DD` in the file's name.
//!
//! A label cell of `clean`, `none`, `no label`, `ok`, `no`, `false` or `0`
//! is a clean observation; `yes`, `true`, `1`, `flagged` or `labeled` is a
//! label recorded as `flagged`; anything else is the label's text as shown.
//! `source_id` is a content id of the number, carrier and instant, so a
//! scan imported twice counts once.

mod columns;
mod content_id;
mod dial;
mod draft;
mod error;
pub mod generate;
mod input;
mod json;
mod parallel;
mod split;
mod stamp;

mod asterisk;
mod freeswitch;
mod ftc;
mod generic;
mod labels;
mod twilio;

use std::fmt;
use std::io::Read;
use std::str::FromStr;

use dialguard_core::Event;

pub use columns::{ColumnMap, ColumnMapError};
pub use dial::{Dialled, judge_caller, judge_dialled};
pub use error::{FileError, RowError, RowUnit};
pub use labels::LabelMap;

/// A kind of file `dialguard import` reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Format {
    /// Asterisk `cdr_csv` `Master.csv`.
    Asterisk,
    /// FreeSWITCH `mod_cdr_csv`, default template.
    Freeswitch,
    /// Twilio Calls: API JSON page, JSON array or CSV export.
    Twilio,
    /// Any CSV with a header, read through a [`ColumnMap`].
    Generic,
    /// FTC Do-Not-Call complaints: CSV or JSON.
    Ftc,
    /// Label scans: what each carrier showed for each number.
    Labels,
}

impl Format {
    pub const ALL: [Format; 6] = [
        Format::Asterisk,
        Format::Freeswitch,
        Format::Twilio,
        Format::Generic,
        Format::Ftc,
        Format::Labels,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Format::Asterisk => "asterisk",
            Format::Freeswitch => "freeswitch",
            Format::Twilio => "twilio",
            Format::Generic => "generic",
            Format::Ftc => "ftc",
            Format::Labels => "labels",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A format name that is not one of [`Format::ALL`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown format {0:?}: expected asterisk, freeswitch, twilio, generic, ftc or labels")]
pub struct UnknownFormat(pub String);

impl FromStr for Format {
    type Err = UnknownFormat;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let name = s.trim();
        Format::ALL
            .into_iter()
            .find(|f| f.as_str().eq_ignore_ascii_case(name))
            .ok_or_else(|| UnknownFormat(s.to_owned()))
    }
}

/// How to read a file.
#[derive(Clone, Debug)]
pub struct Options {
    /// The zone of stamps written without an offset (PBX wall-clock time).
    pub timezone: jiff::tz::TimeZone,
    /// The columns of a generic CSV (required there, ignored elsewhere).
    pub map: Option<ColumnMap>,
    /// The columns of a label scan whose headers are not recognised.
    pub label_map: Option<LabelMap>,
    /// The file's name: FTC daily JSON takes its day from a `YYYY-MM-DD` in it.
    pub file_name: Option<String>,
    /// The day of FTC daily JSON records; overrides `file_name`.
    pub date: Option<jiff::civil::Date>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            timezone: jiff::tz::TimeZone::UTC,
            map: None,
            label_map: None,
            file_name: None,
            date: None,
        }
    }
}

/// What one file gave.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    /// Records read (a header is not a record).
    pub rows: u64,
    pub events: u64,
    pub errors: u64,
}

/// Streams `input` as `format`, handing each record's event or row error to
/// `sink` in file order. Returns what was read, or why the file as a whole
/// could not be.
pub fn read(
    format: Format,
    input: impl Read,
    options: &Options,
    sink: &mut dyn FnMut(Result<Event, RowError>),
) -> Result<Summary, FileError> {
    let opened = input::open(input)?;
    let mut out = Emitter {
        sink,
        summary: Summary::default(),
    };
    match format {
        Format::Asterisk => asterisk::read(opened.reader, options, &mut out)?,
        Format::Freeswitch => freeswitch::read(opened.reader, options, &mut out)?,
        Format::Twilio => twilio::read(opened, options, &mut out)?,
        Format::Generic => generic::read(opened.reader, options, &mut out)?,
        Format::Ftc => ftc::read(opened, options, &mut out)?,
        Format::Labels => labels::read(opened.reader, options, &mut out)?,
    }
    Ok(out.summary)
}

/// [`read`], with rows converted on `threads` worker threads while the
/// caller's thread reads the file and calls `sink`, still in file order.
/// Worth it for large Asterisk files: converting a row (numbers, times)
/// costs about twice splitting it. The caller's thread is busy too, so on
/// `n` cores pass `n - 1` (on 2 cores, one worker reads a generated
/// `Master.csv` about a third faster than [`read`] when the second core is
/// free, and two are slower than one). Other formats, and `threads` 0, read
/// as [`read`] does.
pub fn read_parallel(
    format: Format,
    input: impl Read,
    options: &Options,
    threads: usize,
    sink: &mut dyn FnMut(Result<Event, RowError>),
) -> Result<Summary, FileError> {
    if format != Format::Asterisk || threads == 0 {
        return read(format, input, options, sink);
    }
    let opened = input::open(input)?;
    let mut out = Emitter {
        sink,
        summary: Summary::default(),
    };
    asterisk::read_parallel(opened.reader, options, threads, &mut out)?;
    Ok(out.summary)
}

/// Reads a whole in-memory file: every event and every row error.
pub fn read_all(format: Format, bytes: &[u8], options: &Options) -> Result<(Vec<Event>, Vec<RowError>), FileError> {
    let mut events = Vec::new();
    let mut errors = Vec::new();
    read(format, bytes, options, &mut |result| match result {
        Ok(event) => events.push(event),
        Err(error) => errors.push(error),
    })?;
    Ok((events, errors))
}

/// Hands results to the caller's sink, counting them.
pub(crate) struct Emitter<'a> {
    sink: &'a mut dyn FnMut(Result<Event, RowError>),
    summary: Summary,
}

impl Emitter<'_> {
    /// One record that gave several events (a label scan's row, a column
    /// per carrier): counted as one row.
    pub fn emit_row(&mut self, events: Vec<Event>) {
        self.summary.rows += 1;
        for event in events {
            self.summary.events += 1;
            (self.sink)(Ok(event));
        }
    }

    pub fn emit(&mut self, result: Result<Event, RowError>) {
        self.summary.rows += 1;
        match &result {
            Ok(_) => self.summary.events += 1,
            Err(_) => self.summary.errors += 1,
        }
        (self.sink)(result);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_names_round_trip() {
        for format in Format::ALL {
            assert_eq!(format.to_string().parse::<Format>(), Ok(format));
        }
        assert_eq!("Asterisk".parse::<Format>(), Ok(Format::Asterisk));
        assert_eq!(
            "telnyx".parse::<Format>().unwrap_err().to_string(),
            "unknown format \"telnyx\": expected asterisk, freeswitch, twilio, generic, ftc or labels"
        );
    }
}
