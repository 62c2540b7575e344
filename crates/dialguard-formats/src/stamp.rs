//! Times as call records write them, turned into instants.
//!
//! PBXes write wall-clock time without an offset (`2026-03-02 09:15:01`);
//! those are read in the time zone the user names (UTC by default). Around a
//! daylight-saving change a wall-clock time can name two instants (the fall
//! fold) or none (the spring gap, where a clock that missed the jump, or a
//! PBX set to another zone, can still write it). Such a time is read both
//! ways, with the offset before and after the change, and a call's times are
//! resolved together: the readings where the call ends after it starts and
//! lasts as long as the record's own duration says win. Without a duration
//! to go by, RFC 5545's rule decides: the earlier instant in a fold, the
//! offset from before the change in a gap.

use jiff::civil::DateTime;
use jiff::fmt::rfc2822;
use jiff::tz::{AmbiguousOffset, TimeZone};
use jiff::{SignedDuration, Timestamp};

/// A time as a record wrote it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Stamp {
    /// The record said which instant (an offset, `Z`, `UTC`, epoch seconds).
    Instant(Timestamp),
    /// Wall-clock time without an offset: read in the user's time zone.
    Local(DateTime),
}

/// What the examples in error messages look like.
pub(crate) const LOCAL_EXAMPLE: &str = "2026-03-02 09:15:01";
const ANY_EXAMPLE: &str = "2026-03-02 09:15:01, 2026-03-02T09:15:01Z or Mon, 02 Mar 2026 09:15:01 +0000";

/// Reads exactly `YYYY-MM-DD HH:MM:SS` (or with a `T`): the shape of nearly
/// every PBX stamp, read without going through a general parser.
pub(crate) fn local_fast(text: &[u8]) -> Option<DateTime> {
    let &[
        y1,
        y2,
        y3,
        y4,
        b'-',
        m1,
        m2,
        b'-',
        d1,
        d2,
        sep,
        h1,
        h2,
        b':',
        i1,
        i2,
        b':',
        s1,
        s2,
    ] = text
    else {
        return None;
    };
    if sep != b' ' && sep != b'T' {
        return None;
    }
    let num = |digits: &[u8]| -> Option<i32> {
        digits
            .iter()
            .try_fold(0i32, |n, &d| d.is_ascii_digit().then(|| n * 10 + i32::from(d - b'0')))
    };
    let year = num(&[y1, y2, y3, y4])? as i16;
    let month = num(&[m1, m2])? as i8;
    let day = num(&[d1, d2])? as i8;
    let hour = num(&[h1, h2])? as i8;
    let minute = num(&[i1, i2])? as i8;
    let second = num(&[s1, s2])? as i8;
    DateTime::new(year, month, day, hour, minute, second, 0).ok()
}

/// Reads one file's wall-clock stamps in the user's time zone.
///
/// In a zone with a fixed offset (UTC, the default, or one like `+05:30`)
/// every wall-clock time names one instant, so a `YYYY-MM-DD HH:MM:SS`
/// stamp is read as that instant at once: the date's midnight (jiff reads
/// and checks the date, and the last date read is remembered, as a file's
/// rows share a handful of dates) plus the time of day, less the offset. In
/// any other zone, and for any other shape, a stamp stays a wall-clock time
/// for [`resolve`] to read in the zone, as [`parse_local`] reads it.
pub(crate) struct WallClock {
    /// The zone's offset in seconds, when it has only one.
    fixed: Option<i64>,
    /// The last date read and its midnight, as seconds of civil time.
    day: Option<([u8; 10], i64)>,
}

impl WallClock {
    pub fn new(tz: &TimeZone) -> WallClock {
        WallClock {
            fixed: tz.to_fixed_offset().ok().map(|o| i64::from(o.seconds())),
            day: None,
        }
    }

    /// The stamp `text` writes, or why it is not one.
    #[inline]
    pub fn read(&mut self, text: &str) -> Result<Stamp, String> {
        if let Some(instant) = self.fixed.and_then(|offset| self.instant(text.as_bytes(), offset)) {
            return Ok(Stamp::Instant(instant));
        }
        parse_local(text).map(Stamp::Local)
    }

    /// `text` as an instant at `offset`, when it has the fast shape and is
    /// in range; `None` leaves it (and any error) to the general reading.
    fn instant(&mut self, text: &[u8], offset: i64) -> Option<Timestamp> {
        let (date, time) = text.split_first_chunk::<10>()?;
        let &[sep, h1, h2, b':', m1, m2, b':', s1, s2] = time else {
            return None;
        };
        if sep != b' ' && sep != b'T' {
            return None;
        }
        let two =
            |a: u8, b: u8| (a.is_ascii_digit() && b.is_ascii_digit()).then(|| i64::from((a - b'0') * 10 + (b - b'0')));
        let (hour, minute, second) = (two(h1, h2)?, two(m1, m2)?, two(s1, s2)?);
        if hour > 23 || minute > 59 || second > 59 {
            return None;
        }
        let midnight = match self.day {
            Some((day, midnight)) if day == *date => midnight,
            _ => {
                let mut stamp = *b"0000-00-00 00:00:00";
                stamp[..10].copy_from_slice(date);
                let midnight = jiff::tz::Offset::UTC
                    .to_timestamp(local_fast(&stamp)?)
                    .ok()?
                    .as_second();
                self.day = Some((*date, midnight));
                midnight
            }
        };
        Timestamp::from_second(midnight + hour * 3600 + minute * 60 + second - offset).ok()
    }
}

/// Reads a wall-clock time: the fast shape, or anything jiff reads as a
/// civil datetime (fractional seconds, a date alone).
pub(crate) fn parse_local(text: &str) -> Result<DateTime, String> {
    let text = text.trim();
    if let Some(dt) = local_fast(text.as_bytes()) {
        return Ok(dt);
    }
    text.parse::<DateTime>()
        .map_err(|_| format!("{text:?} is not a time like {LOCAL_EXAMPLE}"))
}

/// Reads the stamps exports use: `YYYY-MM-DD HH:MM:SS` with or without an
/// offset, `UTC` or `Z`; RFC 3339; RFC 2822 (Twilio's API); Unix epoch
/// seconds or milliseconds.
pub(crate) fn parse_any(text: &str) -> Result<Stamp, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err("is empty".to_owned());
    }
    if let Some(dt) = local_fast(text.as_bytes()) {
        return Ok(Stamp::Local(dt));
    }
    let not_a_time = || format!("{text:?} is not a time (expected e.g. {ANY_EXAMPLE})");
    if text.bytes().all(|b| b.is_ascii_digit()) {
        return epoch(text).map(Stamp::Instant).ok_or_else(not_a_time);
    }
    if text.as_bytes()[0].is_ascii_alphabetic() {
        static RFC2822: rfc2822::DateTimeParser = rfc2822::DateTimeParser::new();
        return RFC2822
            .parse_timestamp(text)
            .map(Stamp::Instant)
            .map_err(|_| not_a_time());
    }
    if let Some(wall) = strip_utc_suffix(text) {
        return parse_local(wall)
            .ok()
            .and_then(|dt| TimeZone::UTC.to_timestamp(dt).ok())
            .map(Stamp::Instant)
            .ok_or_else(not_a_time);
    }
    if let Ok(ts) = join_spaced_offset(text).parse::<Timestamp>() {
        return Ok(Stamp::Instant(ts));
    }
    text.parse::<DateTime>().map(Stamp::Local).map_err(|_| not_a_time())
}

/// 9 to 11 digits are epoch seconds (1973 to 5138), 12 to 14 milliseconds.
fn epoch(digits: &str) -> Option<Timestamp> {
    let n: i64 = digits.parse().ok()?;
    match digits.len() {
        9..=11 => Timestamp::from_second(n).ok(),
        12..=14 => Timestamp::from_millisecond(n).ok(),
        _ => None,
    }
}

fn strip_utc_suffix(text: &str) -> Option<&str> {
    ["UTC", "GMT"].iter().find_map(|zone| {
        let cut = text.len().checked_sub(zone.len())?;
        let (wall, suffix) = text.split_at_checked(cut)?;
        suffix.eq_ignore_ascii_case(zone).then_some(wall.trim_end())
    })
}

/// `2026-03-02 09:15:01 +0000` → `2026-03-02 09:15:01+0000`: exports put a
/// space before the offset that RFC 3339 does not allow.
fn join_spaced_offset(text: &str) -> std::borrow::Cow<'_, str> {
    match text.rfind(' ') {
        Some(i) if text[i + 1..].starts_with(['+', '-']) => format!("{}{}", &text[..i], &text[i + 1..]).into(),
        _ => text.into(),
    }
}

/// A call's instants, once its stamps are resolved.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Span {
    pub started_at: Timestamp,
    pub answered_at: Option<Timestamp>,
    pub ended_at: Timestamp,
}

/// Why a call's stamps cannot be one call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SpanError {
    EndBeforeStart,
    AnswerOutsideCall,
    OutOfRange,
}

impl SpanError {
    /// The reason, in the names the format gives its fields.
    pub fn describe(self, start: &str, answer: &str, end: &str) -> String {
        match self {
            SpanError::EndBeforeStart => format!("{end} is before {start}"),
            SpanError::AnswerOutsideCall => {
                format!("{answer} is not between {start} and {end}")
            }
            SpanError::OutOfRange => format!("{start}, {answer} or {end} is out of range"),
        }
    }
}

/// Up to two readings of a stamp: two for a wall-clock time in a fold.
struct Readings {
    first: Timestamp,
    second: Option<Timestamp>,
}

impl Readings {
    fn iter(&self) -> impl Iterator<Item = Timestamp> + '_ {
        std::iter::once(self.first).chain(self.second)
    }
}

fn readings(tz: &TimeZone, stamp: Stamp) -> Result<Readings, SpanError> {
    let dt = match stamp {
        Stamp::Instant(ts) => {
            return Ok(Readings {
                first: ts,
                second: None,
            });
        }
        Stamp::Local(dt) => dt,
    };
    let ambiguous = tz.to_ambiguous_timestamp(dt);
    let range = |r: Result<Timestamp, jiff::Error>| r.map_err(|_| SpanError::OutOfRange);
    let first = range(ambiguous.compatible())?;
    let second = match ambiguous.offset() {
        AmbiguousOffset::Unambiguous { .. } => None,
        // The reading `compatible` did not pick.
        AmbiguousOffset::Fold { .. } => Some(range(ambiguous.later())?),
        AmbiguousOffset::Gap { .. } => Some(range(ambiguous.earlier())?),
    };
    Ok(Readings { first, second })
}

/// Resolves a call's stamps together (see the module comment).
/// `duration_hint` is the record's own start-to-end seconds, when it has one.
pub(crate) fn resolve(
    tz: &TimeZone,
    start: Stamp,
    answer: Option<Stamp>,
    end: Stamp,
    duration_hint: Option<u32>,
) -> Result<Span, SpanError> {
    let starts = readings(tz, start)?;
    let ends = readings(tz, end)?;
    let miss = |s: Timestamp, e: Timestamp| -> i64 {
        let hint = duration_hint.map_or(0, i64::from);
        duration_hint.map_or(0, |_| (e.duration_since(s).as_secs() - hint).abs())
    };
    let mut best: Option<(i64, Timestamp, Timestamp)> = None;
    for s in starts.iter() {
        for e in ends.iter().filter(|&e| e >= s) {
            let score = miss(s, e);
            if best.is_none_or(|(b, _, _)| score < b) {
                best = Some((score, s, e));
            }
        }
    }
    let (_, started_at, ended_at) = best.ok_or(SpanError::EndBeforeStart)?;
    let answered_at = match answer {
        None => None,
        Some(answer) => Some(
            readings(tz, answer)?
                .iter()
                .find(|a| (started_at..=ended_at).contains(a))
                .ok_or(SpanError::AnswerOutsideCall)?,
        ),
    };
    Ok(Span {
        started_at,
        answered_at,
        ended_at,
    })
}

/// One stamp alone as an instant (a complaint's, a label scan's): a wall
/// time in `tz`, the earlier reading in a fall fold.
pub(crate) fn instant(tz: &TimeZone, stamp: Stamp) -> Result<Timestamp, SpanError> {
    resolve(tz, stamp, None, stamp, None).map(|span| span.started_at)
}

/// `start + seconds`, for records that give a duration instead of an end.
pub(crate) fn after(start: Stamp, seconds: u32) -> Stamp {
    let span = SignedDuration::from_secs(i64::from(seconds));
    match start {
        Stamp::Instant(ts) => ts.checked_add(span).map_or(Stamp::Instant(ts), Stamp::Instant),
        Stamp::Local(dt) => dt.checked_add(span).map_or(Stamp::Local(dt), Stamp::Local),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tz(name: &str) -> TimeZone {
        TimeZone::get(name).unwrap()
    }

    fn instant(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    fn read(text: &str, zone: &str) -> Result<String, String> {
        let stamp = parse_any(text)?;
        let span = resolve(&tz(zone), stamp, None, stamp, None).map_err(|e| format!("{e:?}"))?;
        Ok(span.started_at.to_string())
    }

    #[test]
    fn reads_the_stamps_exports_write() {
        let utc = "UTC";
        let ny = "America/New_York";
        let cases = [
            ("2026-03-02 09:15:01", utc, "2026-03-02T09:15:01Z"),
            ("2026-03-02 09:15:01", ny, "2026-03-02T14:15:01Z"),
            ("2026-03-02T09:15:01", ny, "2026-03-02T14:15:01Z"),
            ("2026-03-02 09:15:01.250", utc, "2026-03-02T09:15:01.25Z"),
            ("2026-03-02 09:15:01 UTC", ny, "2026-03-02T09:15:01Z"),
            ("2026-03-02 09:15:01 GMT", ny, "2026-03-02T09:15:01Z"),
            ("2026-03-02T09:15:01Z", ny, "2026-03-02T09:15:01Z"),
            ("2026-03-02T09:15:01-05:00", utc, "2026-03-02T14:15:01Z"),
            ("2026-03-02 09:15:01+0100", utc, "2026-03-02T08:15:01Z"),
            ("2026-03-02 09:15:01 -0500", utc, "2026-03-02T14:15:01Z"),
            ("Tue, 10 Aug 2010 08:02:17 +0000", ny, "2010-08-10T08:02:17Z"),
            ("Mon, 02 Mar 2026 09:15:01 -0800", utc, "2026-03-02T17:15:01Z"),
            ("1772442901", ny, "2026-03-02T09:15:01Z"),
            ("1772442901000", ny, "2026-03-02T09:15:01Z"),
        ];
        for (text, zone, want) in cases {
            assert_eq!(read(text, zone).as_deref(), Ok(want), "reading {text:?} in {zone}");
        }
    }

    /// The wall clock reads every stamp as the general reading does, in a
    /// fixed zone and a named one, valid or not.
    #[test]
    fn the_wall_clock_reads_as_the_general_reading() {
        let zones = ["UTC", "Asia/Kolkata", "America/New_York"].map(tz);
        let zones = [
            zones.to_vec(),
            vec![
                TimeZone::fixed(jiff::tz::offset(5)),
                TimeZone::fixed(jiff::tz::Offset::from_seconds(-19_800).unwrap()),
            ],
        ]
        .concat();
        let mut texts: Vec<String> = vec![
            "2026-03-02 09:15:01".into(),
            "2026-03-02T23:59:59".into(),
            "2026-03-02 24:00:00".into(),
            "2026-03-02 09:60:00".into(),
            "2026-03-02 09:15:60".into(),
            "2026-02-29 10:00:00".into(),
            "2024-02-29 10:00:00".into(),
            "2026-13-01 00:00:00".into(),
            "0000-01-01 00:00:00".into(),
            "9999-12-31 23:59:59".into(),
            "2026-03-02_09:15:01".into(),
            "2026-03-02 9:15:01".into(),
            "2026-03-02 09:15:01.5".into(),
            "2026-03-02".into(),
            "".into(),
        ];
        let mut rng = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..2_000 {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            let pick = |n: u64, shift: u32| (rng >> shift) % n;
            texts.push(format!(
                "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
                1990 + pick(60, 0),
                pick(14, 8),
                pick(33, 16),
                pick(26, 24),
                pick(62, 32),
                pick(62, 40)
            ));
        }
        // A fixed zone takes the fast reading.
        let utc = WallClock::new(&TimeZone::UTC).read("2026-03-02 09:15:01");
        assert_eq!(utc, Ok(Stamp::Instant(instant("2026-03-02T09:15:01Z"))));
        for zone in &zones {
            let mut clock = WallClock::new(zone);
            for text in &texts {
                let general = parse_local(text).map(Stamp::Local);
                let read = |stamp: Result<Stamp, String>| {
                    stamp.map(|s| {
                        readings(zone, s)
                            .map(|r| r.iter().collect::<Vec<_>>())
                            .map_err(|e| format!("{e:?}"))
                    })
                };
                assert_eq!(read(clock.read(text)), read(general), "{text:?} in {zone:?}");
            }
        }
    }

    #[test]
    fn rejects_what_is_not_a_time() {
        for text in [
            "",
            "soon",
            "2026-13-02 09:15:01",
            "2026-02-30 10:00:00",
            "12",
            "Tue, 99 Aug",
        ] {
            assert!(parse_any(text).is_err(), "{text:?} should not parse");
        }
        assert!(local_fast(b"2026-03-02 25:00:00").is_none());
        assert!(local_fast(b"2026-03-02_09:15:01").is_none());
    }

    #[test]
    fn a_call_across_the_spring_gap_lasts_its_real_length() {
        // 01:59:30 EST, then the clocks jump to 03:00: 60 s of real time.
        let start = Stamp::Local(parse_local("2026-03-08 01:59:30").unwrap());
        let end = Stamp::Local(parse_local("2026-03-08 03:00:30").unwrap());
        let span = resolve(&tz("America/New_York"), start, None, end, Some(60)).unwrap();
        assert_eq!(span.started_at, instant("2026-03-08T06:59:30Z"));
        assert_eq!(span.ended_at, instant("2026-03-08T07:00:30Z"));
    }

    #[test]
    fn a_call_stamped_inside_the_spring_gap_keeps_its_duration() {
        // 02:59:50 never showed on a New York clock that night; a PBX that
        // wrote it anyway meant 20 s before 03:00:10 EDT.
        let start = Stamp::Local(parse_local("2026-03-08 02:59:50").unwrap());
        let end = Stamp::Local(parse_local("2026-03-08 03:00:10").unwrap());
        let ny = tz("America/New_York");
        let span = resolve(&ny, start, None, end, Some(20)).unwrap();
        assert_eq!(span.started_at, instant("2026-03-08T06:59:50Z"));
        assert_eq!(span.ended_at, instant("2026-03-08T07:00:10Z"));
        // Alone, a time in the gap takes the offset from before the jump.
        let alone = resolve(&ny, start, None, start, None).unwrap();
        assert_eq!(alone.started_at, instant("2026-03-08T07:59:50Z"));
    }

    #[test]
    fn a_call_across_the_fall_fold_ends_after_it_starts() {
        // 01:59:50 EDT, then the clocks fall back to 01:00 EST: a 30 s call
        // whose end reads earlier on the wall than its start.
        let start = Stamp::Local(parse_local("2026-11-01 01:59:50").unwrap());
        let end = Stamp::Local(parse_local("2026-11-01 01:00:20").unwrap());
        let span = resolve(&tz("America/New_York"), start, None, end, Some(30)).unwrap();
        assert_eq!(span.started_at, instant("2026-11-01T05:59:50Z"));
        assert_eq!(span.ended_at, instant("2026-11-01T06:00:20Z"));
    }

    #[test]
    fn the_duration_picks_the_reading_inside_the_fold() {
        // Both stamps in the repeated hour: the record's 3600 s says the
        // call began in the first 01:30 and ended in the second.
        let start = Stamp::Local(parse_local("2026-11-01 01:30:00").unwrap());
        let end = Stamp::Local(parse_local("2026-11-01 01:30:00").unwrap());
        let ny = tz("America/New_York");
        let span = resolve(&ny, start, None, end, Some(3600)).unwrap();
        assert_eq!(span.started_at, instant("2026-11-01T05:30:00Z"));
        assert_eq!(span.ended_at, instant("2026-11-01T06:30:00Z"));
        let span = resolve(&ny, start, None, end, Some(0)).unwrap();
        assert_eq!(span.ended_at, span.started_at);
    }

    #[test]
    fn impossible_spans_are_named() {
        let utc = TimeZone::UTC;
        let at = |t: &str| Stamp::Local(parse_local(t).unwrap());
        let early = at("2026-03-02 09:00:00");
        let late = at("2026-03-02 10:00:00");
        assert_eq!(resolve(&utc, late, None, early, None), Err(SpanError::EndBeforeStart));
        assert_eq!(
            resolve(&utc, early, Some(at("2026-03-02 11:00:00")), late, None),
            Err(SpanError::AnswerOutsideCall)
        );
    }
}
