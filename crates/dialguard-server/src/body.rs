//! Reading JSON bodies field by field, so every mistake names its field.
//!
//! Bodies are parsed into a [`serde_json::Value`] first and then read with
//! the typed getters of [`Fields`]. A derived `Deserialize` would be a little
//! faster but reports "invalid type at line 1 column 40" instead of which
//! field was wrong; the contract promises `{"error", "field"}`. Unknown
//! fields are ignored, so clients can send more than this version reads,
//! except a near miss of a field the request reads (`stat` for `state`),
//! which is refused by name ([`Fields::refuse_misspelled`]).

use std::borrow::Cow;
use std::cell::RefCell;

use dialguard_core::{E164, NumberError};
use jiff::Timestamp;
use serde_json::{Map, Value};

use crate::error::ApiError;

/// The example every instant error shows.
pub const INSTANT_EXAMPLE: &str = "2026-03-02T09:15:01Z";

/// Parses a request body as JSON; a body that is not JSON is a 400 for the
/// body as a whole.
pub fn parse(bytes: &[u8]) -> Result<Value, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::body("the body is empty: send a JSON object"));
    }
    serde_json::from_slice(bytes).map_err(|e| ApiError::body(format!("the body is not valid JSON: {e}")))
}

/// The fields of one JSON object, with the path that leads to it (`""` for
/// the body itself, `calls[3]` for a call in a batch) to name fields in
/// errors.
pub struct Fields<'a> {
    map: &'a Map<String, Value>,
    path: Cow<'a, str>,
    /// The keys read so far: the fields this request knows.
    asked: RefCell<Vec<&'static str>>,
}

impl<'a> Fields<'a> {
    /// The body itself, which must be an object.
    pub fn of_body(value: &'a Value) -> Result<Fields<'a>, ApiError> {
        match value {
            Value::Object(map) => Ok(Fields {
                map,
                path: Cow::Borrowed(""),
                asked: RefCell::default(),
            }),
            other => Err(ApiError::body(format!(
                "the body is {}, not a JSON object",
                describe(other)
            ))),
        }
    }

    /// An object inside the body, at `path`.
    pub fn at(value: &'a Value, path: String) -> Result<Fields<'a>, ApiError> {
        match value {
            Value::Object(map) => Ok(Fields {
                map,
                path: Cow::Owned(path),
                asked: RefCell::default(),
            }),
            other => Err(ApiError::field(
                path.clone(),
                format!("{path} is {}, not a JSON object", describe(other)),
            )),
        }
    }

    /// The full name of `key`, as errors show it.
    pub fn name(&self, key: &str) -> String {
        if self.path.is_empty() {
            key.to_owned()
        } else {
            format!("{}.{key}", self.path)
        }
    }

    fn error(&self, key: &str, message: impl std::fmt::Display) -> ApiError {
        let name = self.name(key);
        ApiError::field(name.clone(), format!("{name} {message}"))
    }

    /// The raw value; `null` counts as absent.
    pub fn value(&self, key: &'static str) -> Option<&'a Value> {
        let mut asked = self.asked.borrow_mut();
        if !asked.contains(&key) {
            asked.push(key);
        }
        self.map.get(key).filter(|v| !v.is_null())
    }

    /// Refuses a field this request does not read whose name is a near miss
    /// of one it does (`stat` for `state`, `knwon_contact`): a misspelled
    /// field would otherwise be ignored and its default used. Other unknown
    /// fields are ignored, so a client may send more than this version
    /// reads. Call it after reading every field.
    pub fn refuse_misspelled(&self) -> Result<(), ApiError> {
        let asked = self.asked.borrow();
        for key in self.map.keys().filter(|k| !asked.contains(&k.as_str())) {
            if let Some(meant) = asked.iter().find(|known| near_miss(key, known)) {
                let name = self.name(key);
                return Err(ApiError::field(
                    name.clone(),
                    format!(
                        "{name} is not a field of this request; did you mean {}? (it reads {})",
                        self.name(meant),
                        asked.join(", ")
                    ),
                ));
            }
        }
        Ok(())
    }

    pub fn optional_str(&self, key: &'static str) -> Result<Option<&'a str>, ApiError> {
        match self.value(key) {
            None => Ok(None),
            // A NUL is no character of any name, number or id, and some
            // stores refuse it: the request is wrong, not the server busy.
            Some(Value::String(s)) if s.contains('\0') => Err(self.error(key, "holds a NUL character (\\u0000)")),
            Some(Value::String(s)) => Ok(Some(s.as_str())),
            Some(other) => Err(self.error(key, format!("must be a string, not {}", describe(other)))),
        }
    }

    pub fn required_str(&self, key: &'static str) -> Result<&'a str, ApiError> {
        self.optional_str(key)?
            .ok_or_else(|| self.error(key, "is missing (a string)"))
    }

    /// A string that must not be blank.
    pub fn required_text(&self, key: &'static str) -> Result<&'a str, ApiError> {
        let text = self.required_str(key)?;
        if text.trim().is_empty() {
            return Err(self.error(key, "is empty"));
        }
        Ok(text)
    }

    pub fn optional_bool(&self, key: &'static str) -> Result<Option<bool>, ApiError> {
        match self.value(key) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(other) => Err(self.error(key, format!("must be true or false, not {}", describe(other)))),
        }
    }

    /// A whole number in `range`, written as a JSON number or a string of
    /// digits (`"486"`: some dialers send codes as text).
    pub fn optional_code(
        &self,
        key: &'static str,
        range: std::ops::RangeInclusive<u16>,
    ) -> Result<Option<u16>, ApiError> {
        let out_of_range = || {
            self.error(
                key,
                format!("must be a whole number from {} to {}", range.start(), range.end()),
            )
        };
        let code = match self.value(key) {
            None => return Ok(None),
            Some(Value::Number(n)) => n.as_u64(),
            Some(Value::String(s)) => s.trim().parse::<u64>().ok(),
            Some(other) => {
                return Err(self.error(key, format!("must be a number, not {}", describe(other))));
            }
        };
        code.and_then(|c| u16::try_from(c).ok())
            .filter(|c| range.contains(c))
            .map(Some)
            .ok_or_else(out_of_range)
    }

    /// An instant in RFC 3339 (with its offset).
    pub fn optional_instant(&self, key: &'static str) -> Result<Option<Timestamp>, ApiError> {
        let Some(text) = self.optional_str(key)? else {
            return Ok(None);
        };
        parse_instant(text).map(Some).map_err(|why| self.error(key, why))
    }

    pub fn required_instant(&self, key: &'static str) -> Result<Timestamp, ApiError> {
        self.optional_instant(key)?.ok_or_else(|| {
            self.error(
                key,
                format!("is missing (an RFC 3339 instant such as {INSTANT_EXAMPLE})"),
            )
        })
    }

    /// A telephone number libphonenumber accepts.
    pub fn required_number(&self, key: &'static str) -> Result<E164, ApiError> {
        let text = self.required_str(key)?;
        parse_number(text).map_err(|why| self.error(key, why))
    }

    /// Checks a call's instants, each given with its field: the end not
    /// before the start, the answer (when there is one) between them.
    pub fn call_span(
        &self,
        (start_key, start): (&'static str, Timestamp),
        answer: Option<(&'static str, Timestamp)>,
        (end_key, end): (&'static str, Timestamp),
    ) -> Result<(), ApiError> {
        if end < start {
            return Err(self.error(end_key, format!("{end} is before {start_key} {start}")));
        }
        match answer {
            Some((key, answered)) if !(start..=end).contains(&answered) => {
                Err(self.error(key, format!("{answered} is outside the call ({start} to {end})")))
            }
            _ => Ok(()),
        }
    }

    /// The error for a value that is present but wrong in a way only the
    /// caller can judge.
    pub fn invalid(&self, key: &'static str, message: impl std::fmt::Display) -> ApiError {
        self.error(key, message)
    }
}

/// An RFC 3339 instant, or why the text is not one (worded to follow the
/// field's name).
pub fn parse_instant(text: &str) -> Result<Timestamp, String> {
    let not_an_instant = || format!("{text:?} is not an RFC 3339 instant with an offset (e.g. {INSTANT_EXAMPLE})");
    let trimmed = text.trim();
    if !has_rfc3339_offset(trimmed) {
        return Err(not_an_instant());
    }
    let instant: Timestamp = trimmed.parse().map_err(|_| not_an_instant())?;
    if !(dialguard_store::EARLIEST..=dialguard_store::LATEST).contains(&instant) {
        return Err(format!(
            "{text:?} is outside the instants the log stores ({} to {})",
            dialguard_store::EARLIEST,
            dialguard_store::LATEST
        ));
    }
    Ok(instant)
}

/// Whether `text` ends in an offset RFC 3339 allows: `Z`, or `+hh:mm` /
/// `-hh:mm` with hours to 23 and minutes to 59. The instant parser alone
/// also takes `+25:00`, offsets without the colon and time-zone
/// annotations, which other systems read differently or not at all.
fn has_rfc3339_offset(text: &str) -> bool {
    let bytes = text.as_bytes();
    if bytes.last().is_some_and(|b| b.eq_ignore_ascii_case(&b'Z')) {
        return true;
    }
    let Some(&[sign, h1, h2, b':', m1, m2]) = bytes.len().checked_sub(6).map(|at| &bytes[at..]) else {
        return false;
    };
    let two = |a: u8, b: u8| (a.is_ascii_digit() && b.is_ascii_digit()).then(|| (a - b'0') * 10 + (b - b'0'));
    matches!(sign, b'+' | b'-') && two(h1, h2).is_some_and(|h| h <= 23) && two(m1, m2).is_some_and(|m| m <= 59)
}

/// A number in E.164 (or any shape [`E164::parse`] reads), or why not.
pub fn parse_number(text: &str) -> Result<E164, String> {
    E164::parse_valid(text).map_err(|e| match e {
        NumberError::Empty => "is empty: expected an E.164 number such as +14155550100".to_owned(),
        NumberError::NotANumber(_) => format!("{text:?} is not a telephone number (expected E.164, e.g. +14155550100)"),
        NumberError::Invalid(_) => format!("{text:?} is not a valid telephone number under libphonenumber's rules"),
    })
}

/// Whether `key` reads as a slip for `known`: the same letters but for
/// case, `-` or `_`, at most two edits away (one for short names), or the
/// name with a qualifier after an underscore (`to_number` for `to`).
fn near_miss(key: &str, known: &str) -> bool {
    if key.strip_prefix(known).is_some_and(|rest| rest.starts_with(['_', '-'])) {
        return true;
    }
    let fold = |s: &str| -> String {
        s.chars()
            .filter(|c| !matches!(c, '_' | '-' | ' '))
            .flat_map(char::to_lowercase)
            .collect()
    };
    let (a, b) = (fold(key), fold(known));
    if a == b {
        return true;
    }
    let allowed = if b.chars().count() <= 4 { 1 } else { 2 };
    !a.is_empty() && strsim::damerau_levenshtein(&a, &b) <= allowed
}

/// How a JSON value is named in errors.
pub fn describe(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn field_error(result: Result<impl std::fmt::Debug, ApiError>) -> (String, String) {
        let e = result.expect_err("expected an error");
        (e.field.unwrap_or_default(), e.message)
    }

    #[test]
    fn instants_take_only_the_offsets_rfc_3339_allows() {
        for good in [
            "2026-03-02T09:15:01Z",
            "2026-03-02T09:15:01z",
            "2026-03-02T09:15:01.250Z",
            "2026-03-02T04:15:01-05:00",
            "2026-03-02T23:15:01+23:59",
            " 2026-03-02T09:15:01+00:00 ",
        ] {
            assert!(parse_instant(good).is_ok(), "{good}");
        }
        assert_eq!(
            parse_instant("2026-03-02T04:15:01-05:00").unwrap(),
            parse_instant("2026-03-02T09:15:01Z").unwrap()
        );
        for bad in [
            "2026-03-02T09:15:01+25:00",
            "2026-03-02T09:15:01+24:00",
            "2026-03-02T09:15:01+05:60",
            "2026-03-02T09:15:01+0500",
            "2026-03-02T09:15:01",
            "2026-03-02T09:15:01-05:00[America/New_York]",
            "2026-03-02T09:15:01+5:00",
            "+05:00",
            "",
        ] {
            let why = parse_instant(bad).expect_err(bad);
            assert!(why.contains("not an RFC 3339 instant"), "{bad}: {why}");
        }
    }

    #[test]
    fn each_getter_names_the_field_and_what_it_expected() {
        let body = json!({"pool": 3, "at": "yesterday", "flag": "yes", "code": 999, "to": "+1415"});
        let f = Fields::of_body(&body).unwrap();
        type Case = ((String, String), (&'static str, &'static str));
        let cases: Vec<Case> = vec![
            (
                field_error(f.required_str("pool")),
                ("pool", "pool must be a string, not a number"),
            ),
            (
                field_error(f.required_str("missing")),
                ("missing", "missing is missing (a string)"),
            ),
            (
                field_error(f.required_instant("at")),
                (
                    "at",
                    "at \"yesterday\" is not an RFC 3339 instant with an offset (e.g. 2026-03-02T09:15:01Z)",
                ),
            ),
            (
                field_error(f.optional_bool("flag")),
                ("flag", "flag must be true or false, not a string"),
            ),
            (
                field_error(f.optional_code("code", 100..=699)),
                ("code", "code must be a whole number from 100 to 699"),
            ),
            (
                field_error(f.required_number("to")),
                (
                    "to",
                    "to \"+1415\" is not a valid telephone number under libphonenumber's rules",
                ),
            ),
        ];
        for (got, (field, message)) in cases {
            assert_eq!(got, (field.to_owned(), message.to_owned()));
        }
    }

    #[test]
    fn a_near_miss_of_a_read_field_is_refused_and_other_fields_are_not() {
        for (typo, meant) in [
            ("stat", "state"),
            ("State", "state"),
            ("knwon_contact", "known_contact"),
            ("knownContact", "known_contact"),
            ("known-contact", "known_contact"),
            ("started", "started_at"),
            ("sipcode", "sip_code"),
            ("a", "at"),
            ("from_number", "from"),
        ] {
            assert!(near_miss(typo, meant), "{typo} for {meant}");
        }
        for (other, known) in [
            ("campaign", "carrier"),
            ("duration", "direction"),
            ("agent", "at"),
            ("id", "to"),
            ("cnam", "name"),
        ] {
            assert!(!near_miss(other, known), "{other} is not a slip for {known}");
        }
        let body = json!({"pool": "sales", "stat": "aging", "campaign": "spring"});
        let f = Fields::of_body(&body).unwrap();
        f.required_str("pool").unwrap();
        f.optional_str("state").unwrap();
        let (field, message) = field_error(f.refuse_misspelled());
        assert_eq!(field, "stat");
        assert!(message.contains("did you mean state?"), "{message}");
        // Only the fields read count as known: before `state` is read, `stat`
        // is just a field this version does not read.
        let f = Fields::of_body(&body).unwrap();
        f.required_str("pool").unwrap();
        assert!(f.refuse_misspelled().is_ok());
        let call = json!({"calls": [{"id": "1", "to_number": "+1"}]});
        let f = Fields::at(&call["calls"][0], "calls[0]".into()).unwrap();
        f.optional_str("to").unwrap();
        assert_eq!(field_error(f.refuse_misspelled()).0, "calls[0].to_number");
    }

    #[test]
    fn nested_objects_prefix_their_path() {
        let body = json!({"calls": [{"from": 1}]});
        let call = Fields::at(&body["calls"][0], "calls[0]".into()).unwrap();
        let e = call.required_str("from").unwrap_err();
        assert_eq!(e.field.as_deref(), Some("calls[0].from"));
        let not_object = Fields::at(&json!(5), "calls[1]".into()).err().unwrap();
        assert_eq!(not_object.message, "calls[1] is a number, not a JSON object");
    }

    #[test]
    fn null_is_absent_and_codes_may_be_strings() {
        let body = json!({"at": null, "code": "486"});
        let f = Fields::of_body(&body).unwrap();
        assert_eq!(f.optional_instant("at").unwrap(), None);
        assert_eq!(f.optional_code("code", 100..=699).unwrap(), Some(486));
    }

    #[test]
    fn bodies_that_are_not_objects_are_refused_whole() {
        for (bytes, message) in [
            (&b""[..], "the body is empty: send a JSON object"),
            (b"[1]", "the body is an array, not a JSON object"),
        ] {
            let e = parse(bytes).and_then(|v| Fields::of_body(&v).map(|_| ())).unwrap_err();
            assert_eq!((e.field, e.message.as_str()), (None, message));
        }
        assert!(
            parse(b"{\"a\":")
                .unwrap_err()
                .message
                .starts_with("the body is not valid JSON")
        );
    }
}
