//! FTC Do-Not-Call complaints: the published CSV, the API's JSON and the
//! daily JSON records (rules, and why a complaint's id is its content, in
//! the crate docs).

use std::borrow::Cow;
use std::io::Read;

use dialguard_core::{Complaint, Event};
use jiff::civil::Date;
use jiff::tz::TimeZone;
use serde_json::Value;

use crate::columns::{Header, optional};
use crate::dial::Numbers;
use crate::input::Opened;
use crate::json::{self, Next};
use crate::split::{CsvRows, Row};
use crate::stamp;
use crate::{Emitter, FileError, Format, Options, RowError};

const SOURCE: &str = "ftc";
const EXPECTED_JSON: &str = "the FTC's records ([{\"id\", \"number\", \"area-code\"}, …]) \
     or its API's JSON ({\"data\": [{\"id\", \"attributes\": {…}}]})";

/// When a complaint was made, as the feed tells it.
enum When<'a> {
    /// A stamp as written, and the field it came from.
    Stamp(Cow<'a, str>, &'static str),
    /// The daily records carry no time: the day comes from outside.
    Undated,
}

/// One complaint's fields, whichever shape it came in.
struct Report<'a> {
    number: Option<Cow<'a, str>>,
    number_field: &'static str,
    when: When<'a>,
    area_code: Option<Cow<'a, str>>,
    state: Option<Cow<'a, str>>,
    subject: Option<Cow<'a, str>>,
    robocall: Option<Cow<'a, str>>,
}

enum Problem {
    Row(String),
    NeedDate,
}

impl From<String> for Problem {
    fn from(why: String) -> Self {
        Problem::Row(why)
    }
}

struct Complaints<'o> {
    numbers: Numbers,
    timezone: &'o TimeZone,
    day: Option<Date>,
}

pub(crate) fn read<R: Read>(opened: Opened<R>, options: &Options, out: &mut Emitter) -> Result<(), FileError> {
    let mut complaints = Complaints {
        numbers: Numbers::default(),
        timezone: &options.timezone,
        day: options
            .date
            .or_else(|| options.file_name.as_deref().and_then(day_in_name)),
    };
    if !opened.looks_like_json() {
        return read_csv(opened.reader, &mut complaints, out);
    }
    json::for_each_record(
        opened.reader,
        &["data"],
        EXPECTED_JSON,
        out,
        &mut |index, record, out| {
            let id = json::field(&record, "id");
            let result = from_json(&record).and_then(|report| complaints.complaint(report));
            let result = match result {
                Ok(event) => Ok(event),
                Err(Problem::NeedDate) => return Next::Abort(FileError::NeedDate),
                Err(Problem::Row(why)) => Err(RowError::at_record(
                    index,
                    match id {
                        Some(id) => format!("{why} (id {id})"),
                        None => why,
                    },
                )),
            };
            out.emit(result);
            Next::Continue
        },
    )
}

fn text<'v>(value: &'v Value, key: &str) -> Option<Cow<'v, str>> {
    json::field(value, key).filter(|t| !t.trim().is_empty())
}

fn from_json(record: &Value) -> Result<Report<'_>, Problem> {
    if let Some(attributes) = record.get("attributes").filter(|a| a.is_object()) {
        let when = ["violation-date", "created-date"]
            .into_iter()
            .find_map(|key| text(attributes, key).map(|t| When::Stamp(t, key)))
            .unwrap_or(When::Undated);
        return Ok(Report {
            number: text(attributes, "company-phone-number"),
            number_field: "company-phone-number",
            when,
            area_code: text(attributes, "consumer-area-code"),
            state: text(attributes, "consumer-state"),
            subject: text(attributes, "subject"),
            robocall: text(attributes, "recorded-message-or-robocall"),
        });
    }
    if !record.is_object() {
        return Err(Problem::Row("the record is not a JSON object".to_owned()));
    }
    Ok(Report {
        number: text(record, "number"),
        number_field: "number",
        when: When::Undated,
        area_code: text(record, "area-code"),
        state: None,
        subject: None,
        robocall: None,
    })
}

fn read_csv(input: impl Read, complaints: &mut Complaints, out: &mut Emitter) -> Result<(), FileError> {
    let mut rows = CsvRows::new(input);
    let mut record = Row::default();
    rows.next(&mut record)?;
    let header = Header::new(&record);
    let missing = |what: &str| FileError::MissingColumn {
        format: Format::Ftc,
        missing: what.to_owned(),
        found: header.listing(),
        hint: "The FTC's CSV starts with Company_Phone_Number,Created_Date,Violation_Date,…",
    };
    let number = header
        .find(&["company_phone_number"])
        .ok_or_else(|| missing("Company_Phone_Number"))?;
    let violation = header.find(&["violation_date"]);
    let created = header.find(&["created_date"]);
    if violation.is_none() && created.is_none() {
        return Err(missing("Violation_Date (or Created_Date)"));
    }
    let area_code = header.find(&["consumer_area_code"]);
    let state = header.find(&["consumer_state"]);
    let subject = header.find(&["subject"]);
    let robocall = header.find(&["recorded_message_or_robocall"]);

    while let Some(line) = rows.next(&mut record)? {
        let report = || -> Result<Report, String> {
            let field = |index, name| optional(&record, index, name).map(|t| t.map(Cow::Borrowed));
            let when = match (field(violation, "Violation_Date")?, field(created, "Created_Date")?) {
                (Some(v), _) => When::Stamp(v, "Violation_Date"),
                (None, Some(c)) => When::Stamp(c, "Created_Date"),
                (None, None) => return Err("Violation_Date and Created_Date are both empty".to_owned()),
            };
            Ok(Report {
                number: field(Some(number), "Company_Phone_Number")?,
                number_field: "Company_Phone_Number",
                when,
                area_code: field(area_code, "Consumer_Area_Code")?,
                state: field(state, "Consumer_State")?,
                subject: field(subject, "Subject")?,
                robocall: field(robocall, "Recorded_Message_Or_Robocall")?,
            })
        };
        let result = match report().map_err(Problem::Row).and_then(|r| complaints.complaint(r)) {
            Ok(event) => Ok(event),
            Err(Problem::Row(why)) => Err(RowError::at_line(line, why)),
            // Every CSV report carries a stamp; kept total all the same.
            Err(Problem::NeedDate) => Err(RowError::at_line(line, "the row has no date")),
        };
        out.emit(result);
    }
    Ok(())
}

impl Complaints<'_> {
    fn complaint(&mut self, report: Report) -> Result<Event, Problem> {
        let field = report.number_field;
        let text = report.number.as_deref().unwrap_or("");
        let number = self
            .numbers
            .caller(text, field)
            .map_err(|why| format!("{why}, so the complaint cannot be about a number we own"))?;
        let (at, key_time) = match &report.when {
            When::Stamp(raw, field) => {
                let stamp = stamp::parse_any(raw).map_err(|why| format!("{field} {why}"))?;
                let at =
                    stamp::instant(self.timezone, stamp).map_err(|_| format!("{field} {raw:?} is out of range"))?;
                (at, raw.trim().to_owned())
            }
            When::Undated => {
                let day = self.day.ok_or(Problem::NeedDate)?;
                let midnight = TimeZone::UTC
                    .to_timestamp(day.to_datetime(jiff::civil::Time::midnight()))
                    .map_err(|_| format!("the day {day} is out of range"))?;
                (midnight, day.to_string())
            }
        };
        let area_text = report.area_code.as_deref().map_or("", str::trim);
        let source_id = format!("{SOURCE}:{key_time}:{number}:{area_text}");
        let consumer_area_code = area_text
            .parse::<u16>()
            .ok()
            .filter(|npa| area_text.len() == 3 && *npa >= 200);
        Ok(Event::Complaint(Complaint {
            number,
            at,
            source: SOURCE.to_owned(),
            source_id,
            consumer_area_code,
            consumer_state: report.state.map(|s| s.trim().to_owned()),
            subject: report.subject.map(|s| s.trim().to_owned()),
            robocall: report.robocall.as_deref().and_then(yes_or_no),
        }))
    }
}

fn yes_or_no(text: &str) -> Option<bool> {
    match text.trim().to_ascii_lowercase().as_str() {
        "y" | "yes" | "true" => Some(true),
        "n" | "no" | "false" => Some(false),
        _ => None,
    }
}

/// The last `YYYY-MM-DD` that is a real date in a file name or path.
pub(crate) fn day_in_name(name: &str) -> Option<Date> {
    let bytes = name.as_bytes();
    (0..bytes.len().saturating_sub(9)).rev().find_map(|i| {
        let candidate = name.get(i..i + 10)?;
        let shape = candidate.bytes().enumerate().all(|(j, b)| {
            if j == 4 || j == 7 {
                b == b'-'
            } else {
                b.is_ascii_digit()
            }
        });
        if !shape {
            return None;
        }
        candidate.parse::<Date>().ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_day_comes_from_the_file_name() {
        let day = |name| day_in_name(name).map(|d| d.to_string());
        assert_eq!(day("2020-12-03.json").as_deref(), Some("2020-12-03"));
        assert_eq!(
            day("/data/2021-01-01/ftc-2020-12-03.json").as_deref(),
            Some("2020-12-03")
        );
        assert_eq!(day("2020-13-03.json"), None);
        assert_eq!(day("complaints.json"), None);
        assert_eq!(day("é2020-12-03"), Some("2020-12-03".to_owned()));
    }

    #[test]
    fn robocall_answers() {
        assert_eq!(yes_or_no("Y"), Some(true));
        assert_eq!(yes_or_no("n"), Some(false));
        assert_eq!(yes_or_no("maybe"), None);
    }
}
