//! CSV headers: finding columns by name, and the user's map from a generic
//! CSV's columns to a call's fields.

use std::fmt;
use std::str::FromStr;

use crate::split::Row;

/// Which column of a generic CSV holds which field of a call, as given on
/// the command line: `from=Caller,to=Dialed,started_at=Start,ended_at=End`.
///
/// Keys (values are header names, matched exactly, then ignoring case and
/// punctuation):
///
/// | key | required | holds |
/// |---|---|---|
/// | `from` | yes | the caller id |
/// | `to` | yes | the dialled number |
/// | `started_at` | yes | when the call started |
/// | `ended_at` | one of these two | when it ended |
/// | `duration` | one of these two | seconds from start to end |
/// | `answered_at` | no | when it was answered (empty: not answered) |
/// | `talk_seconds` | no | seconds of conversation |
/// | `outcome` | no | `answered`, `no_answer`, `busy`, `rejected`, `invalid_destination`, `network_failure`, `voicemail` |
/// | `sip_code` | no | the final SIP response code |
/// | `q850` | no | the Q.850 cause value |
/// | `disposition` | no | an Asterisk disposition, Twilio status or FreeSWITCH hangup cause |
/// | `direction` | no | `outbound` (default) or `inbound` |
/// | `id` | no | the record's own id (else a content id) |
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ColumnMap {
    pub from: String,
    pub to: String,
    pub started_at: String,
    pub answered_at: Option<String>,
    pub ended_at: Option<String>,
    pub duration: Option<String>,
    pub talk_seconds: Option<String>,
    pub outcome: Option<String>,
    pub sip_code: Option<String>,
    pub q850: Option<String>,
    pub disposition: Option<String>,
    pub direction: Option<String>,
    pub id: Option<String>,
}

/// Every key a [`ColumnMap`] knows, in the order help texts list them.
pub const COLUMN_MAP_KEYS: [&str; 13] = [
    "from",
    "to",
    "started_at",
    "answered_at",
    "ended_at",
    "duration",
    "talk_seconds",
    "outcome",
    "sip_code",
    "q850",
    "disposition",
    "direction",
    "id",
];

/// Why a column map does not parse.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ColumnMapError {
    #[error("column map entry {0:?} is not KEY=COLUMN (e.g. from=Caller)")]
    Malformed(String),
    #[error(
        "unknown column-map key {0:?}: the keys are from, to, started_at, answered_at, ended_at, \
         duration, talk_seconds, outcome, sip_code, q850, disposition, direction, id"
    )]
    UnknownKey(String),
    #[error("column-map key {0} is given twice")]
    DuplicateKey(String),
    #[error("column-map key {0} names no column (write {0}=ColumnName)")]
    EmptyColumn(String),
    #[error("the column map has no {0}= entry, which is required (e.g. {0}=ColumnName)")]
    MissingKey(&'static str),
    #[error("the column map needs ended_at= or duration= to know when each call ended")]
    MissingEnd,
}

impl FromStr for ColumnMap {
    type Err = ColumnMapError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut slots: [Option<String>; 13] = Default::default();
        for entry in s.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let (key, column) = entry
                .split_once('=')
                .ok_or_else(|| ColumnMapError::Malformed(entry.to_owned()))?;
            let (key, column) = (key.trim(), column.trim());
            let slot = COLUMN_MAP_KEYS
                .iter()
                .position(|k| k.eq_ignore_ascii_case(key))
                .ok_or_else(|| ColumnMapError::UnknownKey(key.to_owned()))?;
            if column.is_empty() {
                return Err(ColumnMapError::EmptyColumn(COLUMN_MAP_KEYS[slot].to_owned()));
            }
            if slots[slot].replace(column.to_owned()).is_some() {
                return Err(ColumnMapError::DuplicateKey(COLUMN_MAP_KEYS[slot].to_owned()));
            }
        }
        let [
            from,
            to,
            started_at,
            answered_at,
            ended_at,
            duration,
            talk_seconds,
            outcome,
            sip_code,
            q850,
            disposition,
            direction,
            id,
        ] = slots;
        let required = |value: Option<String>, key| value.ok_or(ColumnMapError::MissingKey(key));
        let map = ColumnMap {
            from: required(from, "from")?,
            to: required(to, "to")?,
            started_at: required(started_at, "started_at")?,
            answered_at,
            ended_at,
            duration,
            talk_seconds,
            outcome,
            sip_code,
            q850,
            disposition,
            direction,
            id,
        };
        if map.ended_at.is_none() && map.duration.is_none() {
            return Err(ColumnMapError::MissingEnd);
        }
        Ok(map)
    }
}

impl fmt::Display for ColumnMap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "from={},to={},started_at={}", self.from, self.to, self.started_at)?;
        let optional = [
            ("answered_at", &self.answered_at),
            ("ended_at", &self.ended_at),
            ("duration", &self.duration),
            ("talk_seconds", &self.talk_seconds),
            ("outcome", &self.outcome),
            ("sip_code", &self.sip_code),
            ("q850", &self.q850),
            ("disposition", &self.disposition),
            ("direction", &self.direction),
            ("id", &self.id),
        ];
        for (key, column) in optional {
            if let Some(column) = column {
                write!(f, ",{key}={column}")?;
            }
        }
        Ok(())
    }
}

/// A CSV header row, for finding columns by name.
pub(crate) struct Header {
    names: Vec<String>,
    squashed: Vec<String>,
}

impl Header {
    pub fn new(record: &Row) -> Header {
        let names: Vec<String> = record
            .iter()
            .map(|n| String::from_utf8_lossy(n).trim().to_owned())
            .collect();
        let squashed = names.iter().map(|n| squash(n)).collect();
        Header { names, squashed }
    }

    /// The first of `candidates` (snake_case names) the header has, matched
    /// ignoring case and punctuation (`Call Sid` is `call_sid`).
    pub fn find(&self, candidates: &[&str]) -> Option<usize> {
        candidates
            .iter()
            .find_map(|c| self.squashed.iter().position(|s| s == c))
    }

    /// A column the user named: exactly, else ignoring case and punctuation.
    pub fn find_named(&self, name: &str) -> Option<usize> {
        self.names
            .iter()
            .position(|n| n == name)
            .or_else(|| self.find(&[&squash(name)]))
    }

    /// The header as found, for error messages: at most 40 names, each cut
    /// to 40 characters, so a wrong file's first line (a data row, or
    /// megabytes of something else) does not fill the screen.
    pub fn listing(&self) -> String {
        const NAMES: usize = 40;
        const CHARS: usize = 40;
        let mut out: Vec<String> = self
            .names
            .iter()
            .take(NAMES)
            .map(|name| match name.char_indices().nth(CHARS) {
                Some((cut, _)) => format!("{}… ({} characters)", &name[..cut], name.chars().count()),
                None => name.clone(),
            })
            .collect();
        if self.names.len() > NAMES {
            out.push(format!("… and {} more", self.names.len() - NAMES));
        }
        out.join(",")
    }
}

/// `Call Sid` → `call_sid`, `Duration (seconds)` → `duration_seconds`.
fn squash(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.chars() {
        if c.is_alphanumeric() {
            out.extend(c.to_lowercase());
        } else if !out.is_empty() && !out.ends_with('_') {
            out.push('_');
        }
    }
    while out.ends_with('_') {
        out.pop();
    }
    out
}

/// A field of a record as text, trimmed; `name` names it in the error.
#[inline]
pub(crate) fn text<'r>(record: &'r Row, index: usize, name: &str) -> Result<&'r str, String> {
    let bytes = record.get(index).unwrap_or_default().trim_ascii();
    match std::str::from_utf8(bytes) {
        Ok(text) => Ok(text),
        Err(_) => Err(not_utf8(name)),
    }
}

/// A record's fields as text, with the record checked for UTF-8 once: a
/// Latin-1 byte in one field (a caller name) costs only that field.
pub(crate) struct RecordText<'r> {
    record: &'r Row,
    /// Every field side by side, when they are UTF-8 together.
    whole: Option<&'r str>,
}

impl<'r> RecordText<'r> {
    pub fn new(record: &'r Row) -> RecordText<'r> {
        RecordText {
            record,
            whole: std::str::from_utf8(record.bytes()).ok(),
        }
    }

    pub fn record(&self) -> &'r Row {
        self.record
    }

    /// Field `index` trimmed, as [`text`] reads it; `name` names it in the
    /// error. A field of a UTF-8 record is UTF-8 where it starts and ends on
    /// character boundaries, which `str::get` checks.
    #[inline]
    pub fn field(&self, index: usize, name: &str) -> Result<&'r str, String> {
        let piece = self
            .whole
            .zip(self.record.range(index))
            .and_then(|(whole, range)| whole.get(range));
        match piece {
            Some(piece) => Ok(piece.trim_ascii()),
            None => text(self.record, index, name),
        }
    }
}

/// `text` without surrounding whitespace, as `str::trim` has it, without
/// decoding a character when the ends are plain ASCII.
#[inline]
pub(crate) fn trimmed(text: &str) -> &str {
    match text.as_bytes() {
        [] => text,
        [first, .., last] if first.is_ascii_graphic() && last.is_ascii_graphic() => text,
        [only] if only.is_ascii_graphic() => text,
        _ => text.trim(),
    }
}

#[cold]
fn not_utf8(name: &str) -> String {
    format!("{name} is not valid UTF-8 text")
}

/// A field that may be absent from the header or empty in the row.
pub(crate) fn optional<'r>(record: &'r Row, index: Option<usize>, name: &str) -> Result<Option<&'r str>, String> {
    match index {
        None => Ok(None),
        Some(i) => text(record, i, name).map(|t| Some(t).filter(|t| !t.is_empty())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<ColumnMap, String> {
        text.parse::<ColumnMap>().map_err(|e| e.to_string())
    }

    #[test]
    fn a_header_is_listed_short_however_long_the_line() {
        let long = "x".repeat(4_000_000);
        let many: Vec<String> = (0..100).map(|i| format!("c{i}")).collect();
        let header = Header::new(&Row::from(&[long.as_str(), "From", "To"][..]));
        let listing = header.listing();
        assert_eq!(listing, format!("{}… (4000000 characters),From,To", "x".repeat(40)));
        let names: Vec<&str> = many.iter().map(String::as_str).collect();
        let listing = Header::new(&Row::from(&names[..])).listing();
        assert!(listing.ends_with(",c39,… and 60 more"), "{listing}");
    }

    #[test]
    fn a_column_map_names_each_key() {
        let map = parse("from=Caller, to=Dialed,started_at=Start,duration=Secs,id=Call ID").unwrap();
        assert_eq!(map.from, "Caller");
        assert_eq!(map.to, "Dialed");
        assert_eq!(map.duration.as_deref(), Some("Secs"));
        assert_eq!(map.id.as_deref(), Some("Call ID"));
        assert_eq!(map.ended_at, None);
        assert_eq!(parse(&map.to_string()), Ok(map));
    }

    #[test]
    fn column_map_mistakes_name_the_key() {
        let cases = [
            (
                "from=A,to=B,started_at=C,finished=D",
                "unknown column-map key \"finished\"",
            ),
            ("from=A,to=B,ended_at=D", "the column map has no started_at= entry"),
            ("to=B,started_at=C,ended_at=D", "the column map has no from= entry"),
            (
                "from=A,to=B,started_at=C",
                "the column map needs ended_at= or duration=",
            ),
            (
                "from=A,from=B,to=B,started_at=C,ended_at=D",
                "column-map key from is given twice",
            ),
            (
                "from=,to=B,started_at=C,ended_at=D",
                "column-map key from names no column",
            ),
            ("from:A,to=B", "column map entry \"from:A\" is not KEY=COLUMN"),
        ];
        for (text, want) in cases {
            let got = parse(text).unwrap_err();
            assert!(got.starts_with(want), "{text:?}: got {got:?}, want {want:?}");
        }
    }

    #[test]
    fn headers_match_ignoring_case_and_punctuation() {
        let header = Header::new(&Row::from(&["Call Sid", " From ", "Duration (seconds)"][..]));
        assert_eq!(header.find(&["sid", "call_sid"]), Some(0));
        assert_eq!(header.find(&["from"]), Some(1));
        assert_eq!(header.find(&["duration", "duration_seconds"]), Some(2));
        assert_eq!(header.find(&["to"]), None);
        assert_eq!(header.find_named("call sid"), Some(0));
        assert_eq!(header.find_named("From"), Some(1));
    }
}
