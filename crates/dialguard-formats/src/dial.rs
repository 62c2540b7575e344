//! Caller ids and dialled numbers as call records write them.
//!
//! A caller id must be a valid number: it is the business's number (or, on
//! an inbound call, a real caller), and an invalid one cannot be owned.
//!
//! A destination is judged differently. One that is all digits but invalid
//! under libphonenumber's rules is still a call the carrier saw, and calls to
//! invalid numbers are exactly what analytics engines count against a caller
//! id. So such a call is kept, with the digits as dialled
//! ([`E164::from_digits_unchecked`], 7 to 15 digits; ten digits without a
//! `+` are read as a NANP number) and the outcome `invalid_destination` /
//! cause `unallocated`, whatever the record's own disposition says. Text
//! that is not digits, and digit strings too short to leave the PBX
//! (extensions, service codes), are row errors.
//!
//! libphonenumber judges a valid number in tens of nanoseconds but takes
//! microseconds to reject an invalid one (it tries every NANP region), and
//! call records repeat their invalid destinations, so each reader remembers
//! the digit strings it has rejected. The plain NANP shapes (`+1` or `1` and
//! ten digits, ten digits) are judged by a table lookup without the library
//! and are not remembered, nor are valid verdicts: a table of every
//! destination of a large file costs more in cache misses than judging
//! again.

use dialguard_core::{E164, NumberError};
use rustc_hash::FxHashMap;

use crate::columns::trimmed;

/// A dialled number, as the carrier saw it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Destination {
    Valid(E164),
    /// All digits, but not a number libphonenumber accepts.
    Invalid(E164),
}

impl Destination {
    pub fn number(self) -> E164 {
        match self {
            Destination::Valid(n) | Destination::Invalid(n) => n,
        }
    }
}

/// Digit strings shorter than this are extensions or service codes: they
/// never reach a carrier.
const SHORTEST_DIALLED: usize = 7;
const LONGEST_E164: usize = 15;
/// Past this many remembered texts a table starts over, bounding memory.
const CACHE_LIMIT: usize = 1 << 20;

type Judged = Result<E164, NumberError>;

/// Judges numbers, remembering the verdicts that are costly to repeat.
#[derive(Default)]
pub(crate) struct Numbers {
    /// Digit strings libphonenumber rejected, by [`digit_key`].
    rejected: FxHashMap<u64, NumberError>,
    /// Every other text (formatted numbers, `s`, `anonymous`): few and
    /// slow to parse.
    by_text: FxHashMap<Box<str>, Judged>,
}

impl Numbers {
    fn judge(&mut self, text: &str) -> Judged {
        if let Some(judged) = E164::parse_plain(text) {
            return judged.map(|p| p.number);
        }
        if let Some(key) = digit_key(text) {
            if let Some(error) = self.rejected.get(&key) {
                return Err(error.clone());
            }
            let judged = E164::parse(text).map(|p| p.number);
            if let Err(error) = &judged {
                remember(&mut self.rejected, key, error.clone());
            }
            return judged;
        }
        if let Some(judged) = self.by_text.get(text) {
            return judged.clone();
        }
        let judged = if spelled_out(text) {
            Err(NumberError::NotANumber(text.to_owned()))
        } else {
            E164::parse(text).map(|p| p.number)
        };
        remember(&mut self.by_text, text.into(), judged.clone());
        judged
    }

    /// A valid number, or `None`.
    pub fn valid(&mut self, text: &str) -> Option<E164> {
        self.judge(trimmed(text)).ok()
    }

    /// A caller id: it must be a valid number. `field` names it in errors.
    pub fn caller(&mut self, text: &str, field: &str) -> Result<E164, String> {
        let text = trimmed(text);
        self.judge(text).map_err(|e| match e {
            NumberError::Empty => format!("{field} is empty: the call has no caller id"),
            _ if is_withheld(text) => {
                format!("{field} is withheld ({text:?}): the call has no caller id to record")
            }
            _ => format!("{field} {text:?} is not a valid telephone number"),
        })
    }

    /// A dialled number, kept even when invalid (see the module comment).
    pub fn destination(&mut self, text: &str, field: &str) -> Result<Destination, String> {
        let text = trimmed(text);
        match self.judge(text) {
            Ok(number) => Ok(Destination::Valid(number)),
            Err(NumberError::Empty) => Err(format!("{field} is empty: no number was dialled")),
            Err(_) => dialled_digits(text)
                .map(Destination::Invalid)
                .map_err(|why| format!("{field} {text:?} {why}")),
        }
    }
}

/// A dialled number judged by the importers' rule (see the module docs),
/// for other borders that receive calls (the HTTP API, webhooks).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialled {
    Valid(E164),
    /// All digits a carrier would see, but not a valid number: the call
    /// counts as `invalid_destination` / `unallocated`.
    Invalid(E164),
}

/// Judges a dialled number as the importers do; `field` names it in errors.
pub fn judge_dialled(text: &str, field: &str) -> Result<Dialled, String> {
    Numbers::default().destination(text, field).map(|d| match d {
        Destination::Valid(n) => Dialled::Valid(n),
        Destination::Invalid(n) => Dialled::Invalid(n),
    })
}

/// Judges a caller id as the importers do (it must be valid); `field` names
/// it in errors.
pub fn judge_caller(text: &str, field: &str) -> Result<E164, String> {
    Numbers::default().caller(text, field)
}

/// Letters in the number itself (`800Service`): libphonenumber would read
/// them as a vanity number's keypad digits, but a call record or complaint
/// feed that has letters where digits belong is garbled, not spelled out.
/// Letters in a URI's scheme or host (`sip:+1…@carrier`) do not count.
fn spelled_out(text: &str) -> bool {
    let lower = |p: &str| text.get(..p.len()).is_some_and(|h| h.eq_ignore_ascii_case(p));
    let scheme = ["sips:", "sip:", "tel:"].into_iter().find(|p| lower(p));
    let rest = &text[scheme.map_or(0, str::len)..];
    let user = rest.split(['@', ';']).next().unwrap_or_default();
    user.bytes().any(|b| b.is_ascii_alphabetic())
}

fn remember<K: std::hash::Hash + Eq, V>(seen: &mut FxHashMap<K, V>, key: K, verdict: V) {
    if seen.len() >= CACHE_LIMIT {
        seen.clear();
    }
    seen.insert(key, verdict);
}

/// A text of 1 to 16 digits, with or without a leading `+`, as one integer
/// that tells every such text apart: the digits' value, their count (so
/// leading zeros count) and the `+`.
fn digit_key(text: &str) -> Option<u64> {
    let (plus, digits) = match text.as_bytes() {
        [b'+', rest @ ..] => (1u64, rest),
        all => (0, all),
    };
    if digits.is_empty() || digits.len() > 16 {
        return None;
    }
    let mut value = 0u64;
    for &d in digits {
        if !d.is_ascii_digit() {
            return None;
        }
        value = value * 10 + u64::from(d - b'0');
    }
    // 16 digits stay below 2^54; the count takes 5 bits above, the `+` one.
    Some(value | (digits.len() as u64) << 54 | plus << 59)
}

fn is_withheld(text: &str) -> bool {
    [
        "anonymous",
        "restricted",
        "private",
        "unknown",
        "unavailable",
        "withheld",
    ]
    .iter()
    .any(|w| text.eq_ignore_ascii_case(w))
}

/// The number a carrier would see for an all-digit string libphonenumber
/// rejects, or why it is not one.
fn dialled_digits(text: &str) -> Result<E164, &'static str> {
    let (plus, body) = match text.strip_prefix('+') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let mut digits = String::with_capacity(body.len() + 1);
    for c in body.chars() {
        match c {
            '0'..='9' => digits.push(c),
            ' ' | '-' | '.' | '(' | ')' => {}
            _ => return Err("is not a telephone number"),
        }
    }
    if digits.is_empty() {
        return Err("is not a telephone number");
    }
    if !plus {
        if let Some(international) = digits.strip_prefix("011") {
            digits = international.to_owned();
        } else if digits.len() == 10 {
            digits.insert(0, '1');
        }
    }
    let significant = digits.trim_start_matches('0');
    if significant.len() < SHORTEST_DIALLED {
        return Err("is too short to be a telephone number (an extension or service code?)");
    }
    if significant.len() > LONGEST_E164 {
        return Err("is too long to be a telephone number (E.164 allows 15 digits)");
    }
    significant
        .parse()
        .map(E164::from_digits_unchecked)
        .map_err(|_| "is not a telephone number")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dest(text: &str) -> Result<String, String> {
        Numbers::default().destination(text, "dst").map(|d| match d {
            Destination::Valid(n) => format!("valid {n}"),
            Destination::Invalid(n) => format!("invalid {n}"),
        })
    }

    #[test]
    fn destinations_are_kept_when_a_carrier_would_see_them() {
        let cases: [(&str, Result<&str, &str>); 12] = [
            ("+14155550100", Ok("valid +14155550100")),
            ("4155550100", Ok("valid +14155550100")),
            // Exchange 155 does not exist: invalid, but dialled.
            ("4151550100", Ok("invalid +14151550100")),
            ("+1 415 155-0100", Ok("invalid +14151550100")),
            ("0114412345", Ok("invalid +4412345")),
            ("011442079460958", Ok("valid +442079460958")),
            (
                "1001",
                Err("dst \"1001\" is too short to be a telephone number (an extension or service code?)"),
            ),
            ("s", Err("dst \"s\" is not a telephone number")),
            ("800Service", Err("dst \"800Service\" is not a telephone number")),
            ("01200#1110", Err("dst \"01200#1110\" is not a telephone number")),
            (
                "+1234567890123456",
                Err("dst \"+1234567890123456\" is too long to be a telephone number (E.164 allows 15 digits)"),
            ),
            ("", Err("dst is empty: no number was dialled")),
        ];
        for (text, want) in cases {
            let want = want.map(str::to_owned).map_err(str::to_owned);
            assert_eq!(dest(text), want, "destination {text:?}");
        }
    }

    #[test]
    fn caller_ids_must_be_valid() {
        let mut numbers = Numbers::default();
        assert_eq!(
            numbers.caller("(415) 555-0100", "src"),
            Ok(E164::parse_valid("+14155550100").unwrap())
        );
        let err = |t: &str| Numbers::default().caller(t, "src").unwrap_err();
        assert_eq!(err(""), "src is empty: the call has no caller id");
        assert_eq!(
            err("Anonymous"),
            "src is withheld (\"Anonymous\"): the call has no caller id to record"
        );
        assert_eq!(err("4151550100"), "src \"4151550100\" is not a valid telephone number");
    }

    #[test]
    fn digit_keys_tell_every_text_apart() {
        let texts = [
            "4155550100",
            "04155550100",
            "+4155550100",
            "14155550100",
            "+14155550100",
            "0",
            "00",
            "+0",
            "9999999999999999",
        ];
        let keys: Vec<_> = texts.iter().map(|t| digit_key(t).unwrap()).collect();
        let mut unique = keys.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), texts.len());
        for not_digits in ["", "+", "415-555-0100", "99999999999999999", "s"] {
            assert_eq!(digit_key(not_digits), None, "{not_digits:?}");
        }
    }

    #[test]
    fn the_cache_gives_the_same_verdicts() {
        let mut numbers = Numbers::default();
        for _ in 0..3 {
            assert!(numbers.valid("4155550100").is_some());
            assert!(numbers.valid("4151550100").is_none());
        }
    }
}
