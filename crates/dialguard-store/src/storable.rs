//! Which events a log can store, decided the same way for every backend.
//!
//! Backends store instants as signed 64-bit nanoseconds since the Unix epoch
//! (SQLite `INTEGER`, PostgreSQL `bigint`): exact to the nanosecond, and
//! roughly the years 1678 to 2262. Call records outside that are garbage, not
//! history, and refusing them here keeps every backend in agreement about
//! what round-trips. An empty source id is refused because deduplication
//! would fold every such record of a source into one.

use dialguard_core::{Call, E164, Event};
use jiff::Timestamp;

/// The earliest instant a log stores (`i64::MIN` nanoseconds, 1677-09-21).
pub const EARLIEST: Timestamp = Timestamp::constant(-9_223_372_036, -854_775_808);
/// The latest instant a log stores (`i64::MAX` nanoseconds, 2262-04-11).
pub const LATEST: Timestamp = Timestamp::constant(9_223_372_036, 854_775_807);

/// Why an event cannot go into the log.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Unstorable {
    #[error("{field} {at} is outside the instants the log stores ({EARLIEST} to {LATEST})")]
    InstantOutOfRange { field: &'static str, at: Timestamp },
    #[error(
        "{field} is empty; the importer must give every record its source's id \
         (or a content hash) so that a re-import is recognised"
    )]
    EmptyKey { field: &'static str },
    #[error("{field} contains a NUL character")]
    NulInKey { field: &'static str },
    #[error("{field} {number} has more digits than an E.164 number can")]
    NumberOutOfRange { field: &'static str, number: E164 },
}

/// The whole batch checked before a backend writes any of it: the first
/// event [`check_storable`] refuses fails the batch, naming its index.
pub(crate) fn check_batch(events: &[Event]) -> Result<(), crate::StoreError> {
    for (index, event) in events.iter().enumerate() {
        check_storable(event).map_err(|reason| crate::StoreError::Unstorable {
            index,
            kind: event.kind(),
            reason,
        })?;
    }
    Ok(())
}

/// Says whether every backend can store `event`, and if not, why.
pub fn check_storable(event: &Event) -> Result<(), Unstorable> {
    if let Event::Call(call) = event {
        check_call(call)?;
    } else {
        nanos(event.at(), "at")?;
    }
    if let Some((source, source_id)) = event.dedup_key() {
        check_key(source, "source")?;
        check_key(source_id, "source_id")?;
    }
    Ok(())
}

fn check_call(call: &Call) -> Result<(), Unstorable> {
    nanos(call.started_at, "started_at")?;
    if let Some(answered_at) = call.answered_at {
        nanos(answered_at, "answered_at")?;
    }
    nanos(call.ended_at, "ended_at")?;
    digits(call.from, "from")?;
    digits(call.to, "to")?;
    Ok(())
}

fn check_key(text: &str, field: &'static str) -> Result<(), Unstorable> {
    if text.is_empty() {
        Err(Unstorable::EmptyKey { field })
    } else if text.contains('\0') {
        Err(Unstorable::NulInKey { field })
    } else {
        Ok(())
    }
}

/// The instant as stored: nanoseconds since the Unix epoch.
pub(crate) fn nanos(at: Timestamp, field: &'static str) -> Result<i64, Unstorable> {
    i64::try_from(at.as_nanosecond()).map_err(|_| Unstorable::InstantOutOfRange { field, at })
}

/// The number as stored: its digits as a signed 64-bit integer.
pub(crate) fn digits(number: E164, field: &'static str) -> Result<i64, Unstorable> {
    i64::try_from(number.digits()).map_err(|_| Unstorable::NumberOutOfRange { field, number })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_range_ends_are_exactly_the_i64_nanosecond_limits() {
        assert_eq!(EARLIEST.as_nanosecond(), i128::from(i64::MIN));
        assert_eq!(LATEST.as_nanosecond(), i128::from(i64::MAX));
        let past_the_end = LATEST + jiff::SignedDuration::from_nanos(1);
        assert_eq!(
            nanos(past_the_end, "ended_at"),
            Err(Unstorable::InstantOutOfRange {
                field: "ended_at",
                at: past_the_end
            })
        );
        assert_eq!(nanos(LATEST, "ended_at"), Ok(i64::MAX));
    }
}
