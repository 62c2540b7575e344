//! Contact-list hygiene: which rows of a list may be dialled, and why the
//! others may not.
//!
//! Input is CSV text, one row a line. A header is recognised when it names a
//! phone column (`phone`, `number`, `to`, `mobile`, …); without one the first
//! column is read. Each number is parsed with libphonenumber's rules and
//! checked, in this order, for: a bad format, an invalid number, a number
//! outside the NANP, a duplicate of an earlier row (after normalisation, so
//! `(415) 555-0100` and `+14155550100` are the same person), an opt-out, the
//! Do-Not-Call registry, and an earlier call that came back invalid. A row
//! gets the first reason that applies.

use std::collections::{BTreeMap, HashMap};

use jiff::Timestamp;
use serde::Serialize;

use crate::guard::Guard;
use crate::number::{E164, NumberError};

/// Why a row is not in the clean list.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LintReason {
    /// Empty, or not a telephone number at all.
    BadFormat,
    /// Shaped like a number, but libphonenumber (or NANPA) says no such
    /// number exists.
    InvalidNumber,
    /// A valid number outside the +1 plan: the guard only calls the NANP.
    NotNanp,
    Duplicate,
    OptedOut,
    Dnc,
    /// A call to it came back `invalid_destination`.
    PreviouslyInvalid,
}

impl LintReason {
    pub fn as_str(self) -> &'static str {
        match self {
            LintReason::BadFormat => "bad_format",
            LintReason::InvalidNumber => "invalid_number",
            LintReason::NotNanp => "not_nanp",
            LintReason::Duplicate => "duplicate",
            LintReason::OptedOut => "opted_out",
            LintReason::Dnc => "dnc",
            LintReason::PreviouslyInvalid => "previously_invalid",
        }
    }
}

/// A row left out, with what to look at.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LintIssue {
    /// 1-based line of the input.
    pub line: u64,
    /// The phone column's value as written.
    pub value: String,
    pub reason: LintReason,
    pub detail: String,
}

/// A row that may be dialled.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CleanRow {
    pub line: u64,
    pub number: E164,
    /// The row as written, for writing the clean list back out.
    #[serde(skip)]
    pub record: String,
}

/// The outcome of linting a list.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct LintReport {
    /// Rows read, header and blank lines not counted.
    pub rows: u64,
    pub clean_count: u64,
    pub flagged: u64,
    pub by_reason: BTreeMap<LintReason, u64>,
    /// The phone column used: its header name, or `column 1`.
    pub column: String,
    /// The header line as written, when there was one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub header: Option<String>,
    pub issues: Vec<LintIssue>,
    pub clean: Vec<CleanRow>,
}

/// Header names taken for the phone column, compared without case, spaces,
/// `_` or `-`.
const PHONE_COLUMNS: &[&str] = &[
    "phone",
    "phonenumber",
    "number",
    "to",
    "mobile",
    "mobilenumber",
    "mobilephone",
    "cell",
    "cellphone",
    "telephone",
    "tel",
    "msisdn",
    "e164",
    "destination",
    "contactnumber",
];

fn squash(name: &str) -> String {
    name.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

fn fields(line: &str) -> Vec<String> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(line.as_bytes());
    match reader.records().next() {
        Some(Ok(record)) => record.iter().map(str::to_owned).collect(),
        // An unbalanced quote: read the line as one field rather than drop it.
        _ => vec![line.to_owned()],
    }
}

/// Is this first line a header, and which column holds the phone?
fn find_column(first: &[String]) -> Option<(usize, String)> {
    if let Some(i) = first.iter().position(|f| PHONE_COLUMNS.contains(&squash(f).as_str())) {
        return Some((i, first[i].trim().to_owned()));
    }
    let looks_like_data = first
        .first()
        .is_some_and(|f| f.chars().filter(char::is_ascii_digit).count() >= 7);
    (!looks_like_data).then(|| (0, first.first().map_or(String::new(), |f| f.trim().to_owned())))
}

/// Checks every row of a contact list against the guard's lists as of `now`.
pub fn lint<'a>(lines: impl IntoIterator<Item = &'a str>, guard: &Guard, now: Timestamp) -> LintReport {
    let mut report = LintReport {
        column: "column 1".to_owned(),
        ..LintReport::default()
    };
    let mut column = 0;
    let mut first_seen: HashMap<E164, u64> = HashMap::new();
    let mut started = false;
    for (index, text) in lines.into_iter().enumerate() {
        let line = index as u64 + 1;
        if text.trim().is_empty() {
            continue;
        }
        let row = fields(text);
        if !started {
            started = true;
            if let Some((i, name)) = find_column(&row) {
                column = i;
                report.column = if name.is_empty() {
                    format!("column {}", i + 1)
                } else {
                    name
                };
                report.header = Some(text.to_owned());
                continue;
            }
        }
        report.rows += 1;
        let value = row.get(column).map_or("", |v| v.trim());
        match judge(value, line, guard, now, &mut first_seen) {
            Ok(number) => {
                report.clean_count += 1;
                report.clean.push(CleanRow {
                    line,
                    number,
                    record: text.to_owned(),
                });
            }
            Err((reason, detail)) => {
                report.flagged += 1;
                *report.by_reason.entry(reason).or_default() += 1;
                report.issues.push(LintIssue {
                    line,
                    value: value.to_owned(),
                    reason,
                    detail,
                });
            }
        }
    }
    report
}

fn judge(
    value: &str,
    line: u64,
    guard: &Guard,
    now: Timestamp,
    first_seen: &mut HashMap<E164, u64>,
) -> Result<E164, (LintReason, String)> {
    let parsed = E164::parse(value).map_err(|e| match e {
        NumberError::Invalid(_) => (LintReason::InvalidNumber, e.to_string()),
        NumberError::Empty => (LintReason::BadFormat, "no number in the phone column".to_owned()),
        NumberError::NotANumber(_) => (LintReason::BadFormat, e.to_string()),
    })?;
    let number = parsed.number;
    if !number.is_nanp() {
        return Err((LintReason::NotNanp, format!("{number} is outside the NANP (+1)")));
    }
    if let Some(first) = first_seen.get(&number) {
        return Err((LintReason::Duplicate, format!("{number} is already on line {first}")));
    }
    first_seen.insert(number, line);
    if guard.is_opted_out(number, now) {
        return Err((LintReason::OptedOut, format!("{number} asked not to be called")));
    }
    if guard.dnc().contains(number) {
        return Err((LintReason::Dnc, format!("{number} is on the Do-Not-Call registry")));
    }
    if guard.is_suppressed(number, now) {
        return Err((
            LintReason::PreviouslyInvalid,
            format!("a call to {number} came back invalid_destination"),
        ));
    }
    Ok(number)
}
