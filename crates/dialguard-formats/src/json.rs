//! Streaming a JSON list of records, one record at a time.
//!
//! The list is either the whole document (`[{…}, {…}]`) or the value of one
//! key of the top-level object (`{"calls": [{…}], "page": 0}`). Each element
//! is parsed on its own into a [`Value`], so a record with a field of the
//! wrong type is that record's row error, not the file's; a document that
//! breaks off part-way (a truncated download) keeps the records before the
//! break and reports the break as the next record's error.

use std::io::{BufReader, Read};

use serde::de::{self, DeserializeSeed, Deserializer as _, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

use crate::{Emitter, FileError, RowError};

/// What to do after a record.
pub(crate) enum Next {
    Continue,
    /// Stop reading: the file as a whole cannot be used.
    Abort(FileError),
}

/// Streams the records of `input` to `each` (1-based index, record).
/// `list_keys`: the top-level object keys that may hold the list.
/// `expected`: what the file should look like, for error messages.
pub(crate) fn for_each_record(
    input: impl Read,
    list_keys: &[&str],
    expected: &str,
    out: &mut Emitter,
    each: &mut dyn FnMut(u64, Value, &mut Emitter) -> Next,
) -> Result<(), FileError> {
    let mut de = serde_json::Deserializer::from_reader(BufReader::with_capacity(1 << 16, input));
    let mut state = State {
        list_keys,
        count: 0,
        found_list: false,
        abort: None,
        each,
        out,
    };
    let result = (&mut de).deserialize_any(Top(&mut state));
    let result = result.and_then(|()| de.end());
    if let Some(abort) = state.abort.take() {
        return Err(abort);
    }
    match result {
        Ok(()) if state.found_list => Ok(()),
        Ok(()) => Err(FileError::NotJson(format!(
            "the JSON has no list of records: expected {expected}"
        ))),
        Err(e) if e.is_io() => Err(FileError::Io(e.into())),
        Err(e) if !state.found_list => Err(FileError::NotJson(format!(
            "the file is not the JSON expected ({e}): expected {expected}"
        ))),
        Err(e) => {
            let next = state.count + 1;
            let done = state.count;
            let why = if e.is_eof() {
                format!(
                    "the JSON breaks off after {done} complete records: the file is truncated; \
                     the records before the break were read, fetch the file again for the rest"
                )
            } else {
                format!(
                    "the JSON is damaged after {done} complete records ({e}); \
                     the records before the damage were read"
                )
            };
            state.out.emit(Err(RowError::at_record(next, why)));
            Ok(())
        }
    }
}

struct State<'a, 'o> {
    list_keys: &'a [&'a str],
    count: u64,
    found_list: bool,
    abort: Option<FileError>,
    each: &'a mut dyn FnMut(u64, Value, &mut Emitter) -> Next,
    out: &'a mut Emitter<'o>,
}

struct Top<'s, 'a, 'o>(&'s mut State<'a, 'o>);

impl<'de> Visitor<'de> for Top<'_, '_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON array of records or an object holding one")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<(), A::Error> {
        stream(self.0, seq)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<String>()? {
            if !self.0.found_list && self.0.list_keys.contains(&key.as_str()) {
                map.next_value_seed(List(self.0))?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(())
    }
}

struct List<'s, 'a, 'o>(&'s mut State<'a, 'o>);

impl<'de> DeserializeSeed<'de> for List<'_, '_, '_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for List<'_, '_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON array of records")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<(), A::Error> {
        stream(self.0, seq)
    }

    /// `"calls": null` on an empty page.
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        self.0.found_list = true;
        Ok(())
    }
}

fn stream<'de, A: SeqAccess<'de>>(state: &mut State, mut seq: A) -> Result<(), A::Error> {
    state.found_list = true;
    while let Some(record) = seq.next_element::<Value>()? {
        state.count += 1;
        if let Next::Abort(error) = (state.each)(state.count, record, state.out) {
            state.abort = Some(error);
            return Err(de::Error::custom("stopped"));
        }
    }
    Ok(())
}

/// A record's field as text: strings as they are, numbers and booleans
/// written out, `null` and absence as `None`.
pub(crate) fn field<'v>(record: &'v Value, key: &str) -> Option<std::borrow::Cow<'v, str>> {
    match record.get(key)? {
        Value::Null => None,
        Value::String(s) => Some(s.as_str().into()),
        other => Some(other.to_string().into()),
    }
}
