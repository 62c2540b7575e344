//! The last step every call importer shares: from parsed parts to a
//! [`Call`], with the rules that do not depend on the format.

use dialguard_core::{Call, Cause, Classified, Direction, E164, Event, Outcome, Source};

use crate::dial::{Destination, Numbers};
use crate::stamp::Span;

/// A call whose fields are parsed but not yet reconciled.
pub(crate) struct Draft {
    pub from: E164,
    pub to: Destination,
    pub direction: Direction,
    pub span: Span,
    pub talk_seconds: u32,
    pub classified: Classified,
    pub source: Source,
    pub source_id: String,
}

impl Draft {
    /// Applies the shared rules:
    /// - a dialled number libphonenumber rejects makes the call
    ///   `invalid_destination` / `unallocated`, whatever the record says;
    /// - a call that was not answered (by a person or a machine) has no
    ///   answer time and no talk time, whatever `billsec` says.
    pub fn into_event(self) -> Event {
        let classified = match self.to {
            Destination::Invalid(_) => Classified {
                outcome: Outcome::InvalidDestination,
                cause: Cause::Unallocated,
            },
            Destination::Valid(_) => self.classified,
        };
        let answered = matches!(classified.outcome, Outcome::Answered | Outcome::Voicemail);
        Event::Call(Call {
            from: self.from,
            to: self.to.number(),
            direction: self.direction,
            started_at: self.span.started_at,
            answered_at: self.span.answered_at.filter(|_| answered),
            ended_at: self.span.ended_at,
            talk_seconds: if answered { self.talk_seconds } else { 0 },
            outcome: classified.outcome,
            cause: classified.cause,
            source: self.source,
            source_id: self.source_id,
        })
    }
}

/// The caller id and the dialled number of a call. On an inbound call the
/// dialled number is ours, so it must be valid like a caller id.
pub(crate) fn parties(
    numbers: &mut Numbers,
    direction: Direction,
    (from, from_field): (&str, &str),
    (to, to_field): (&str, &str),
) -> Result<(E164, Destination), String> {
    let caller = numbers.caller(from, from_field)?;
    let dialled = match direction {
        Direction::Outbound => numbers.destination(to, to_field)?,
        Direction::Inbound => Destination::Valid(numbers.caller(to, to_field)?),
    };
    Ok((caller, dialled))
}

/// Reads a whole number of seconds; `field` names it in the error.
pub(crate) fn seconds(text: &str, field: &str) -> Result<u32, String> {
    let text = crate::columns::trimmed(text);
    let fast = text.bytes().try_fold(0u32, |n, b| {
        b.is_ascii_digit()
            .then(|| n.checked_mul(10)?.checked_add(u32::from(b - b'0')))
            .flatten()
    });
    match fast {
        Some(n) if !text.is_empty() => Ok(n),
        _ if text.is_empty() => Err(format!("{field} is empty (expected whole seconds)")),
        _ if text.starts_with('-') => Err(format!("{field} {text:?} is negative")),
        _ => Err(format!("{field} {text:?} is not a whole number of seconds")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_are_whole_and_not_negative() {
        assert_eq!(seconds(" 42 ", "billsec"), Ok(42));
        assert_eq!(seconds("0", "billsec"), Ok(0));
        assert_eq!(seconds("-3", "billsec"), Err("billsec \"-3\" is negative".into()));
        assert_eq!(
            seconds("4.5", "billsec"),
            Err("billsec \"4.5\" is not a whole number of seconds".into())
        );
        assert_eq!(
            seconds("99999999999", "billsec"),
            Err("billsec \"99999999999\" is not a whole number of seconds".into())
        );
        assert_eq!(
            seconds("", "duration"),
            Err("duration is empty (expected whole seconds)".into())
        );
    }
}
