//! A call as one row of integer columns, and back.
//!
//! Calls are nearly every event in the log, so they get a typed row rather
//! than a JSON payload: numbers as their digits, instants as nanoseconds,
//! enums as small integers. The integer codes below are part of the file
//! format: a code, once written, keeps its meaning forever, and a new
//! variant in the core gets a new code here (the `match`es are exhaustive, so
//! forgetting is a compile error).

use dialguard_core::{Call, Cause, Direction, E164, Outcome, Source};
use jiff::Timestamp;
use rusqlite::Row;

use crate::Unstorable;
use crate::storable::{digits, nanos};

/// Defines an enum's stored codes once, for both directions.
macro_rules! codes {
    ($ty:ident, $encode:ident, $decode:ident { $($variant:ident = $code:literal,)* }) => {
        pub(super) fn $encode(value: $ty) -> i64 {
            match value {
                $($ty::$variant => $code,)*
            }
        }

        pub(super) fn $decode(code: i64) -> Option<$ty> {
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

/// The columns of a stored call after `seq` and `tenant`, in table order.
pub(super) struct CallColumns<'a> {
    pub source: i64,
    pub source_id: &'a str,
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

pub(super) fn encode(call: &Call) -> Result<CallColumns<'_>, Unstorable> {
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

/// The `SELECT` list [`decode`] reads, `seq` first.
pub(super) const SELECT_COLUMNS: &str = "seq, source, source_id, from_number, to_number, \
     direction, started_ns, answered_ns, ended_ns, talk_seconds, outcome, cause";

/// Reads a row selected with [`SELECT_COLUMNS`] (after `seq`). The error
/// names the column that holds something no dialguard wrote.
pub(super) fn decode(row: &Row<'_>) -> Result<Call, String> {
    let columns = Columns(row);
    Ok(Call {
        source: columns.code(1, "source", source_from_code)?,
        source_id: columns.text(2, "source_id")?,
        from: columns.number(3, "from_number")?,
        to: columns.number(4, "to_number")?,
        direction: columns.code(5, "direction", direction_from_code)?,
        started_at: columns.instant(6, "started_ns")?,
        answered_at: match columns.optional_int(7, "answered_ns")? {
            Some(ns) => Some(instant(ns, "answered_ns")?),
            None => None,
        },
        ended_at: columns.instant(8, "ended_ns")?,
        talk_seconds: u32::try_from(columns.int(9, "talk_seconds")?)
            .map_err(|_| "column talk_seconds is out of range".to_owned())?,
        outcome: columns.code(10, "outcome", outcome_from_code)?,
        cause: columns.code(11, "cause", cause_from_code)?,
    })
}

struct Columns<'r, 's>(&'r Row<'s>);

impl Columns<'_, '_> {
    fn int(&self, index: usize, name: &str) -> Result<i64, String> {
        self.0.get(index).map_err(|e| format!("column {name}: {e}"))
    }

    fn optional_int(&self, index: usize, name: &str) -> Result<Option<i64>, String> {
        self.0.get(index).map_err(|e| format!("column {name}: {e}"))
    }

    fn text(&self, index: usize, name: &str) -> Result<String, String> {
        self.0.get(index).map_err(|e| format!("column {name}: {e}"))
    }

    fn code<T>(&self, index: usize, name: &str, from: fn(i64) -> Option<T>) -> Result<T, String> {
        let raw = self.int(index, name)?;
        from(raw).ok_or_else(|| format!("column {name} holds unknown code {raw}"))
    }

    fn number(&self, index: usize, name: &str) -> Result<E164, String> {
        let raw = self.int(index, name)?;
        u64::try_from(raw)
            .map(E164::from_digits_unchecked)
            .map_err(|_| format!("column {name} holds {raw}, not a number's digits"))
    }

    fn instant(&self, index: usize, name: &str) -> Result<Timestamp, String> {
        instant(self.int(index, name)?, name)
    }
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
