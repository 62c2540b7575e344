//! Events as rows, the same for every backend.
//!
//! Calls are nearly every event in the log, so they get a typed row rather
//! than a JSON payload: numbers as their digits, instants as nanoseconds,
//! enums as small integers. Every other kind is its serde JSON form.
//!
//! The integer codes below are part of every backend's format (SQLite files
//! and PostgreSQL schemas alike): a code, once written, keeps its meaning
//! forever, and a new variant in the core gets a new code here (the
//! `match`es are exhaustive, so forgetting is a compile error). Backends read
//! a row's columns into [`CallColumns`] themselves, with their driver's
//! types, and leave the checking of what they read to [`decode`], so a
//! damaged row is reported in the same words by both.

use dialguard_core::{Call, Cause, Direction, E164, Event, Outcome, Source};
use jiff::Timestamp;

use crate::Unstorable;
use crate::storable::{digits, nanos};

/// Defines an enum's stored codes once, for both directions.
macro_rules! codes {
    ($ty:ident, $encode:ident, $decode:ident { $($variant:ident = $code:literal,)* }) => {
        pub(crate) fn $encode(value: $ty) -> i64 {
            match value {
                $($ty::$variant => $code,)*
            }
        }

        pub(crate) fn $decode(code: i64) -> Option<$ty> {
            match code {
                $($code => Some($ty::$variant),)*
                _ => None,
            }
        }
    };
}

codes!(Source, source_code, source_from_code {
    Asterisk = 1,
    Freeswitch = 2,
    Twilio = 3,
    Telnyx = 4,
    Generic = 5,
    Api = 6,
    Simulator = 7,
    Kamailio = 8,
});

codes!(Direction, direction_code, direction_from_code {
    Outbound = 0,
    Inbound = 1,
});

codes!(Outcome, outcome_code, outcome_from_code {
    Answered = 1,
    NoAnswer = 2,
    Busy = 3,
    Rejected = 4,
    InvalidDestination = 5,
    NetworkFailure = 6,
    Voicemail = 7,
});

codes!(Cause, cause_code, cause_from_code {
    Unspecified = 0,
    Unallocated = 1,
    Disconnected = 2,
    BlockedCaller = 3,
    Declined = 4,
    CallerIdRefused = 5,
    Ambiguous = 6,
});

/// The stored columns of a call (everything but its sequence number and
/// tenant), borrowing the source id when writing and owning it when read.
pub(crate) struct CallColumns<S> {
    pub source: i64,
    pub source_id: S,
    pub from: i64,
    pub to: i64,
    pub direction: i64,
    pub started_ns: i64,
    pub answered_ns: Option<i64>,
    pub ended_ns: i64,
    pub talk_seconds: i64,
    pub outcome: i64,
    pub cause: i64,
}

pub(crate) fn encode(call: &Call) -> Result<CallColumns<&str>, Unstorable> {
    Ok(CallColumns {
        source: source_code(call.source),
        source_id: &call.source_id,
        from: digits(call.from, "from")?,
        to: digits(call.to, "to")?,
        direction: direction_code(call.direction),
        started_ns: nanos(call.started_at, "started_at")?,
        answered_ns: call.answered_at.map(|at| nanos(at, "answered_at")).transpose()?,
        ended_ns: nanos(call.ended_at, "ended_at")?,
        talk_seconds: i64::from(call.talk_seconds),
        outcome: outcome_code(call.outcome),
        cause: cause_code(call.cause),
    })
}

/// The call a row holds. The error names the column (as both backends
/// call it) that holds something no dialguard wrote.
pub(crate) fn decode(columns: CallColumns<String>) -> Result<Call, String> {
    Ok(Call {
        source: code(columns.source, "source", source_from_code)?,
        source_id: columns.source_id,
        from: number(columns.from, "from_number")?,
        to: number(columns.to, "to_number")?,
        direction: code(columns.direction, "direction", direction_from_code)?,
        started_at: instant(columns.started_ns, "started_ns")?,
        answered_at: columns.answered_ns.map(|ns| instant(ns, "answered_ns")).transpose()?,
        ended_at: instant(columns.ended_ns, "ended_ns")?,
        talk_seconds: u32::try_from(columns.talk_seconds)
            .map_err(|_| "column talk_seconds is out of range".to_owned())?,
        outcome: code(columns.outcome, "outcome", outcome_from_code)?,
        cause: code(columns.cause, "cause", cause_from_code)?,
    })
}

/// The stored form of any event but a call: its JSON. `db` names the log
/// in the error.
pub(crate) fn encode_payload(event: &Event, db: &str) -> Result<String, crate::StoreError> {
    serde_json::to_string(event).map_err(|e| crate::StoreError::Backend {
        db: db.to_owned(),
        doing: "encoding an event as JSON",
        source: e.into(),
    })
}

/// The event a stored payload holds.
pub(crate) fn decode_payload(payload: &str) -> Result<Event, String> {
    serde_json::from_str(payload).map_err(|e| format!("payload: {e}"))
}

fn code<T>(raw: i64, name: &str, from: fn(i64) -> Option<T>) -> Result<T, String> {
    from(raw).ok_or_else(|| format!("column {name} holds unknown code {raw}"))
}

fn number(raw: i64, name: &str) -> Result<E164, String> {
    u64::try_from(raw)
        .map(E164::from_digits_unchecked)
        .map_err(|_| format!("column {name} holds {raw}, not a number's digits"))
}

fn instant(ns: i64, name: &str) -> Result<Timestamp, String> {
    Timestamp::from_nanosecond(i128::from(ns)).map_err(|e| format!("column {name}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every code decodes to the variant it was written for, and no two
    /// variants share a code.
    fn check_codes<T: Copy + PartialEq + std::fmt::Debug>(
        variants: &[T],
        encode: fn(T) -> i64,
        decode: fn(i64) -> Option<T>,
    ) {
        let mut seen = std::collections::HashSet::new();
        for &variant in variants {
            let code = encode(variant);
            assert!(seen.insert(code), "{variant:?} reuses code {code}");
            assert_eq!(decode(code), Some(variant), "code {code}");
        }
        assert_eq!(decode(99), None);
    }

    #[test]
    fn every_variant_has_its_own_code() {
        use Source::*;
        check_codes(
            &[Asterisk, Freeswitch, Twilio, Telnyx, Generic, Api, Simulator],
            source_code,
            source_from_code,
        );
        check_codes(
            &[Direction::Outbound, Direction::Inbound],
            direction_code,
            direction_from_code,
        );
        check_codes(&Outcome::ALL, outcome_code, outcome_from_code);
        use Cause::*;
        check_codes(
            &[
                Unspecified,
                Unallocated,
                Disconnected,
                BlockedCaller,
                Declined,
                CallerIdRefused,
                Ambiguous,
            ],
            cause_code,
            cause_from_code,
        );
    }
}
