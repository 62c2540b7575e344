//! What can go wrong reading a file: the whole file ([`FileError`]) or one
//! row of it ([`RowError`]).
//!
//! The split is the promise the importers keep: a bad row never stops the
//! good rows around it, so a row's trouble is a [`RowError`] handed to the
//! sink next to the events; only a file that cannot be read at all is a
//! [`FileError`]. Every message says what to do next.

use std::fmt;

use crate::Format;

/// Where a [`RowError`]'s position counts from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RowUnit {
    /// A 1-based physical line of a CSV file (the line the record starts on).
    Line,
    /// A 1-based record index in a JSON array.
    Record,
}

/// One row that could not become an event, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RowError {
    /// The 1-based physical line (CSV) or record index (JSON); see `unit`.
    pub line: u64,
    pub reason: String,
    /// Whether `line` counts lines or JSON records.
    pub unit: RowUnit,
}

impl RowError {
    pub(crate) fn at_line(line: u64, reason: impl Into<String>) -> RowError {
        RowError {
            line,
            reason: reason.into(),
            unit: RowUnit::Line,
        }
    }

    pub(crate) fn at_record(index: u64, reason: impl Into<String>) -> RowError {
        RowError {
            line: index,
            reason: reason.into(),
            unit: RowUnit::Record,
        }
    }
}

impl fmt::Display for RowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let unit = match self.unit {
            RowUnit::Line => "line",
            RowUnit::Record => "record",
        };
        write!(f, "{unit} {}: {}", self.line, self.reason)
    }
}

impl std::error::Error for RowError {}

/// The whole file is unusable: nothing in it became an event.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    #[error("the file is empty: there is nothing to import")]
    Empty,
    #[error(
        "this is not a text file (a NUL byte or invalid UTF-8 at byte {offset}): \
         pass the call-record file itself, as UTF-8 text (convert a Latin-1 export first, e.g. with iconv)"
    )]
    Binary { offset: u64 },
    #[error("the file is UTF-16 text: save or convert it as UTF-8 (e.g. iconv -f UTF-16 -t UTF-8)")]
    Utf16,
    #[error("{0}")]
    NotJson(String),
    #[error("could not read the file: {0}")]
    Io(#[from] std::io::Error),
    #[error(
        "FTC complaint records in JSON carry no date: keep the day in the file name \
         (e.g. 2020-12-03.json) or pass it explicitly (--date 2020-12-03)"
    )]
    NeedDate,
    #[error(
        "a generic CSV needs a column map naming its columns: \
         --map from=COLUMN,to=COLUMN,started_at=COLUMN,ended_at=COLUMN (or duration=COLUMN instead of ended_at)"
    )]
    MissingColumnMap,
    #[error(
        "the {format} file's header has no column {missing}; it has: {found}. \
         {hint}"
    )]
    MissingColumn {
        format: Format,
        /// The column (or the choices for it) that was looked for.
        missing: String,
        /// The header as found, comma-separated.
        found: String,
        /// What to do about it.
        hint: &'static str,
    },
}
