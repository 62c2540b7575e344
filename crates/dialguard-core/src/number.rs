//! Telephone numbers: parsed once at the border, carried as a compact integer.
//!
//! Every number in dialguard is an [`E164`]: the country code and national
//! number as one `u64` (`+14155550100` is `14_155_550_100`). Hashing, comparing
//! and storing a `u64` is what makes the decide path and the metrics cheap; the
//! string form is produced only for people.
//!
//! Validity follows libphonenumber's rules (the `rlibphonenumber` crate, whose
//! metadata is newer than the `phonenumber` crate's; see BENCHMARKS.md for the
//! comparison). One exception, required by how the NANP grows: a NANP number in
//! an area code that NANPA has assigned but that the library's metadata does not
//! know yet is accepted as [`Validity::UnknownArea`] rather than rejected.

use std::fmt;
use std::str::FromStr;

use rlibphonenumber::PHONE_NUMBER_UTIL;
use rlibphonenumber::enums::Region;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::nanp;

/// A telephone number in E.164 form, stored as its digits in one integer.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct E164(u64);

/// How sure we are that a parsed number is dialable.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Validity {
    /// libphonenumber's metadata accepts it.
    Valid,
    /// A NANP number in an area code NANPA has assigned but the library's
    /// metadata predates.
    UnknownArea,
}

/// Why a string is not a usable telephone number.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum NumberError {
    #[error("empty number")]
    Empty,
    #[error("{0:?} is not a telephone number")]
    NotANumber(String),
    #[error("{0:?} is not a valid number under libphonenumber's rules")]
    Invalid(String),
}

impl NumberError {
    /// A short machine-readable code for reports (`empty`, `not_a_number`, `invalid`).
    pub fn code(&self) -> &'static str {
        match self {
            NumberError::Empty => "empty",
            NumberError::NotANumber(_) => "not_a_number",
            NumberError::Invalid(_) => "invalid",
        }
    }
}

/// A number as it came out of parsing, with how it was judged.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Parsed {
    pub number: E164,
    pub validity: Validity,
}

impl E164 {
    /// The largest E.164 number: 15 digits.
    const MAX: u64 = 999_999_999_999_999;

    /// Builds a number from its digits (country code first) without checking
    /// libphonenumber's rules. For trusted sources only: the store, tests,
    /// generators.
    pub const fn from_digits_unchecked(digits: u64) -> E164 {
        E164(digits)
    }

    /// The digits, country code first.
    pub const fn digits(self) -> u64 {
        self.0
    }

    /// True for +1 numbers of the North American Numbering Plan.
    pub const fn is_nanp(self) -> bool {
        self.0 >= 10_000_000_000 && self.0 < 20_000_000_000
    }

    /// The NANP area code (NPA), e.g. 415 for +14155550100.
    pub const fn area_code(self) -> Option<u16> {
        if self.is_nanp() {
            Some(((self.0 / 10_000_000) % 1000) as u16)
        } else {
            None
        }
    }

    /// The NANP area code and exchange (NPA-NXX), e.g. 415555 for +14155550100.
    pub const fn npa_nxx(self) -> Option<u32> {
        if self.is_nanp() {
            Some(((self.0 / 10_000) % 1_000_000) as u32)
        } else {
            None
        }
    }

    /// Parses a number the way call records and contact lists write them:
    /// E.164 (`+14155550100`), national NANP (`(415) 555-0100`, `4155550100`),
    /// `1`-prefixed NANP (`14155550100`), or a `tel:`/`sip:` URI user part.
    /// Numbers without a `+` are read as US/NANP numbers.
    pub fn parse(input: &str) -> Result<Parsed, NumberError> {
        let text = strip_uri(input.trim());
        if text.is_empty() {
            return Err(NumberError::Empty);
        }
        if let Some(parsed) = parse_plain_nanp(text) {
            return parsed;
        }
        parse_with_library(text)
    }

    /// [`E164::parse`] for the plain NANP shapes alone (`+1` and 10 digits,
    /// `1` and 10 digits, 10 digits), which it reads without the library's
    /// string parser: `None` for any other text. Cheap enough that a caller
    /// caching verdicts for other texts need not cache these.
    pub fn parse_plain(text: &str) -> Option<Result<Parsed, NumberError>> {
        parse_plain_nanp(text)
    }

    /// Parses and insists on a number libphonenumber (or NANPA) accepts.
    pub fn parse_valid(input: &str) -> Result<E164, NumberError> {
        Self::parse(input).map(|p| p.number)
    }
}

/// Strips `tel:` / `sip:` schemes, the `@host` part and `;params`.
fn strip_uri(text: &str) -> &str {
    // Bytes, not `str` slices: the text may start with a multi-byte
    // character, and the schemes are ASCII.
    let lower_starts = |p: &str| {
        text.as_bytes()
            .get(..p.len())
            .is_some_and(|head| head.eq_ignore_ascii_case(p.as_bytes()))
    };
    let rest = if lower_starts("tel:") {
        &text[4..]
    } else if lower_starts("sips:") {
        &text[5..]
    } else if lower_starts("sip:") {
        &text[4..]
    } else {
        return text;
    };
    let end = rest.find(['@', ';']).unwrap_or(rest.len());
    &rest[..end]
}

/// The fast path for the shapes that make up nearly every call record:
/// `+1` and 10 digits, `1` and 10 digits, or 10 digits: read the digits
/// directly and skip the library's string parser (validation is still the
/// library's, see [`nanp::judge`]).
fn parse_plain_nanp(text: &str) -> Option<Result<Parsed, NumberError>> {
    let bytes = text.as_bytes();
    let digits = match bytes {
        [b'+', b'1', rest @ ..] if rest.len() == 10 => rest,
        [b'1', rest @ ..] if rest.len() == 10 => rest,
        rest if rest.len() == 10 => rest,
        _ => return None,
    };
    if !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let national = digits.iter().fold(0u64, |n, d| n * 10 + u64::from(d - b'0'));
    let number = E164(10_000_000_000 + national);
    Some(nanp::judge(number).ok_or_else(|| NumberError::Invalid(text.to_owned())))
}

fn parse_with_library(text: &str) -> Result<Parsed, NumberError> {
    let phone = PHONE_NUMBER_UTIL
        .parse(text, Some(Region::US))
        .map_err(|_| NumberError::NotANumber(text.to_owned()))?;
    // The national significant number as written, with the leading zeros
    // some plans keep (Italy's 06 for Rome): the bare `national_number`
    // drops them and would name another number.
    let digits = format!("{}{}", phone.country_code, phone.get_national_significant_number());
    let digits = Some(digits)
        .filter(|d| d.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|d| d.parse::<u64>().ok())
        .filter(|d| *d <= E164::MAX)
        .ok_or_else(|| NumberError::Invalid(text.to_owned()))?;
    let number = E164(digits);
    if number.is_nanp() && phone.country_code == 1 {
        return nanp::judge(number).ok_or_else(|| NumberError::Invalid(text.to_owned()));
    }
    // Judged as the number it is read as: a text the library accepts for
    // what it carries besides the digits (an extension, a trunk prefix
    // kept) must not yield an E.164 number that is invalid written alone.
    let alone_valid = || {
        PHONE_NUMBER_UTIL
            .parse(number.to_string(), None)
            .is_ok_and(|alone| PHONE_NUMBER_UTIL.is_valid_number(&alone))
    };
    if PHONE_NUMBER_UTIL.is_valid_number(&phone) && alone_valid() {
        Ok(Parsed {
            number,
            validity: Validity::Valid,
        })
    } else {
        Err(NumberError::Invalid(text.to_owned()))
    }
}

/// Asks libphonenumber whether a NANP number is valid, skipping the string
/// parse: the number is already digits.
pub(crate) fn library_says_valid(number: E164) -> bool {
    let phone = rlibphonenumber::PhoneNumber {
        country_code: 1,
        national_number: number.0 - 10_000_000_000,
        ..Default::default()
    };
    PHONE_NUMBER_UTIL.is_valid_number(&phone)
}

/// Up to `k` of `among` that `number` is most likely a slip of the keyboard
/// for: fewest digits changed, swapped, added or dropped first (at most
/// two), then the numerically closest. For "did you mean" in errors about
/// numbers that are not registered.
pub fn nearest(number: E164, among: impl IntoIterator<Item = E164>, k: usize) -> Vec<E164> {
    let digits = number.0.to_string();
    let mut ranked: Vec<(usize, u64, E164)> = among
        .into_iter()
        .filter(|n| *n != number)
        .map(|n| {
            let edits = strsim::damerau_levenshtein(&digits, &n.0.to_string());
            (edits, n.0.abs_diff(number.0), n)
        })
        .filter(|(edits, _, _)| *edits <= 2)
        .collect();
    ranked.sort_unstable();
    ranked.into_iter().take(k).map(|(_, _, n)| n).collect()
}

/// `"; did you mean +1… or +1…?"` for the [`nearest`] three of `among`, or
/// nothing when none is near: the tail of an error about a number that is
/// not registered.
pub fn did_you_mean(number: E164, among: impl IntoIterator<Item = E164>) -> String {
    let near = nearest(number, among, 3);
    if near.is_empty() {
        return String::new();
    }
    let near: Vec<String> = near.iter().map(E164::to_string).collect();
    format!("; did you mean {}?", near.join(" or "))
}

impl fmt::Display for E164 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "+{}", self.0)
    }
}

impl fmt::Debug for E164 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "+{}", self.0)
    }
}

impl FromStr for E164 {
    type Err = NumberError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        E164::parse_valid(s)
    }
}

impl Serialize for E164 {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for E164 {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        E164::parse_valid(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(input: &str, expected: Result<(&str, Validity), &str>) {
        let got = E164::parse(input)
            .map(|p| (p.number.to_string(), p.validity))
            .map_err(|e| e.code());
        let want = expected.map(|(n, v)| (n.to_owned(), v));
        assert_eq!(got, want, "parsing {input:?}");
    }

    #[test]
    fn the_nearest_numbers_are_the_likeliest_slips() {
        let n = |s: &str| E164::parse_valid(s).unwrap();
        let pool = [
            n("+14155550100"),
            n("+14155550101"),
            n("+14155550110"),
            n("+12125550100"),
            n("+16175550123"),
        ];
        // Two digits swapped is one slip; a digit changed, one; a number
        // from another city is no slip at all.
        assert_eq!(
            nearest(n("+14155551000"), pool, 2),
            vec![n("+14155550100"), n("+14155550110")]
        );
        assert_eq!(
            nearest(n("+14155550109"), pool, 3),
            vec![n("+14155550101"), n("+14155550100"), n("+14155550110")]
        );
        assert_eq!(nearest(n("+13105559876"), pool, 3), Vec::<E164>::new());
        assert_eq!(nearest(n("+14155550100"), pool, 1), vec![n("+14155550101")]);
    }

    #[test]
    fn parses_the_shapes_call_records_use() {
        use Validity::*;
        check("+14155550100", Ok(("+14155550100", Valid)));
        check("14155550100", Ok(("+14155550100", Valid)));
        check("4155550100", Ok(("+14155550100", Valid)));
        check("(415) 555-0100", Ok(("+14155550100", Valid)));
        check("+1 415-555-0100", Ok(("+14155550100", Valid)));
        check("tel:+14155550100", Ok(("+14155550100", Valid)));
        check(
            "sip:+14155550100@carrier.example;user=phone",
            Ok(("+14155550100", Valid)),
        );
        check("+442079460958", Ok(("+442079460958", Valid)));
    }

    #[test]
    fn a_leading_zero_of_the_national_number_is_kept() {
        // Rome's 06: dropping the zero would name another number, one that
        // does not parse back (found by the `number` fuzz target).
        check("+39 06 6988 1022", Ok(("+390669881022", Validity::Valid)));
        let rome = E164::parse_valid("+390669881022").unwrap();
        assert_eq!(E164::parse_valid(&rome.to_string()).unwrap(), rome);
        if let Ok(n) = E164::parse_valid("+8000p0000(002") {
            assert_eq!(E164::parse_valid(&n.to_string()).ok(), Some(n));
        }
    }

    #[test]
    fn rejects_what_is_not_a_dialable_number() {
        check("", Err("empty"));
        check("   ", Err("empty"));
        check("anonymous", Err("not_a_number"));
        check("s", Err("not_a_number"));
        // NANP exchanges and area codes cannot start with 0 or 1.
        check("+14151550100", Err("invalid"));
        check("+10155550100", Err("invalid"));
        // An unassigned area code.
        check("+19995550100", Err("invalid"));
        check("+1415555010", Err("invalid"));
    }

    #[test]
    fn text_in_any_script_is_an_error_not_a_crash() {
        // Each of these once panicked inside the URI scheme check.
        for text in ["ééé", "١٤١٥", "é", "日本語の番号", "sïp:1"] {
            assert!(E164::parse(text).is_err(), "{text:?}");
        }
        // Not a scheme we know: the library reads the digits out of it.
        assert!(E164::parse("tél:+14155550100").is_ok());
        // A scheme followed by any text is still read as a URI.
        assert!(E164::parse("sip:éé@host").is_err());
        check("TEL:+14155550100", Ok(("+14155550100", Validity::Valid)));
    }

    proptest::proptest! {
        #[test]
        fn parsing_arbitrary_unicode_never_panics(text in "\\PC{0,24}") {
            let _ = E164::parse(&text);
            let _ = E164::parse(&format!("sip:{text}"));
            let _ = E164::parse(&format!("+1{text}"));
        }
    }

    #[test]
    fn keeps_nanp_parts_reachable() {
        let n = E164::parse_valid("+14155550100").unwrap();
        assert_eq!(n.area_code(), Some(415));
        assert_eq!(n.npa_nxx(), Some(415_555));
        assert!(n.is_nanp());
        let uk = E164::parse_valid("+442079460958").unwrap();
        assert_eq!(uk.area_code(), None);
    }

    #[test]
    fn a_valid_number_read_from_messy_text_is_valid_written_alone() {
        // Found by the `number` fuzz target: the library accepted the text
        // (for what it carries beside the digits), not the digits alone.
        let messy = "+3( [75-8*.8* 10*7 6988*.10";
        match E164::parse_valid(messy) {
            Ok(number) => assert_eq!(E164::parse_valid(&number.to_string()), Ok(number)),
            Err(e) => assert!(matches!(e, NumberError::Invalid(_)), "{e:?}"),
        }
    }

    #[test]
    fn serde_round_trips_as_e164_text() {
        let n = E164::parse_valid("4155550100").unwrap();
        let json = serde_json::to_string(&n).unwrap();
        assert_eq!(json, "\"+14155550100\"");
        assert_eq!(serde_json::from_str::<E164>(&json).unwrap(), n);
        assert!(serde_json::from_str::<E164>("\"12\"").is_err());
    }
}
