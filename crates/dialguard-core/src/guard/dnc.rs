//! The national Do-Not-Call registry, held compactly enough for all of it.
//!
//! The registry lists about 250 million NANP numbers. A `HashSet<u64>` of
//! them needs over 4 GB; this list never needs more than 1,250 bytes for
//! each of the 640,000 possible exchanges plus a 4 MB directory, 0.8 GB
//! whatever the list holds, and a sparse list 2 bytes a number
//! (`examples/dnc_bench.rs` measures both side by side).
//!
//! Layout: the directory, indexed by NPA-NXX (the first six digits), gives
//! each exchange a run of `u16` words in one array. An exchange with fewer
//! than [`BITMAP_FROM`] listed lines stores their 4-digit line numbers
//! sorted (at most 62 bytes, one or two cache lines); one with more stores a
//! 10,000-bit bitmap (1,250 bytes). A lookup is one directory read and
//! either one bit test or a search of one or two cache lines. The threshold
//! is low on purpose: a search over hundreds of sorted lines costs several
//! dependent reads and mispredicted branches, three times a bit test at
//! registry scale, while the bitmap's bound on memory holds whatever the
//! threshold. A run's length tells which form it is: exactly 625 words is a
//! bitmap. Lists saved with a higher threshold (longer sorted runs) read
//! back unchanged; their runs are searched from the line's interpolated
//! position (`search_run`).
//!
//! The core does no I/O: [`read_dnc_lines`] turns lines of text into numbers
//! with row errors, and [`DncList::to_bytes`] / [`DncList::from_bytes`] give
//! the CLI a binary form to keep next to its database.

use std::collections::HashSet;
use std::fmt;

use crate::number::E164;

const EXCHANGES: usize = 1_000_000;
const LINES_PER_EXCHANGE: usize = 10_000;
/// Words of a bitmap exchange: 10 000 bits.
const BITMAP_WORDS: usize = LINES_PER_EXCHANGE / 16;
/// An exchange with this many lines or more is stored as a bitmap.
const BITMAP_FROM: usize = 32;

const MAGIC: &[u8; 8] = b"DGDNC\0\x01\0";

/// A set of NANP numbers on the Do-Not-Call registry.
#[derive(Clone, Default)]
pub struct DncList {
    /// `starts[x]..starts[x + 1]` is exchange `x`'s run in `words`; empty for
    /// an empty list.
    starts: Vec<u32>,
    words: Vec<u16>,
    compact_len: u64,
    /// Numbers added one at a time since the last [`DncList::compact`]:
    /// inserting into the middle of a half-gigabyte array would move all of it.
    recent: HashSet<u64, foldhash::fast::FixedState>,
}

impl fmt::Debug for DncList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DncList")
            .field("len", &self.len())
            .field("heap_bytes", &self.heap_bytes())
            .finish()
    }
}

/// Why numbers cannot go on the list as given.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DncError {
    #[error("{number} is not a NANP number: the Do-Not-Call registry lists US numbers only")]
    NotNanp { number: E164 },
    #[error(
        "numbers are not sorted: {number} (number {position}) comes after a larger one; use DncBuilder for unsorted input"
    )]
    NotSorted { position: u64, number: E164 },
}

/// Why a saved list cannot be read back.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("the saved Do-Not-Call list is unreadable ({0}); import the registry file again with `dialguard dnc import`")]
pub struct DncFormatError(&'static str);

fn split(number: E164) -> Option<(usize, u16)> {
    let exchange = number.npa_nxx()? as usize;
    Some((exchange, (number.digits() % LINES_PER_EXCHANGE as u64) as u16))
}

fn join(exchange: usize, line: u16) -> E164 {
    E164::from_digits_unchecked(10_000_000_000 + exchange as u64 * LINES_PER_EXCHANGE as u64 + u64::from(line))
}

impl DncList {
    pub fn new() -> DncList {
        DncList::default()
    }

    /// Builds the list from numbers in ascending order (duplicates allowed),
    /// in one pass and without holding them twice: the form for the
    /// registry's own files, which come sorted.
    pub fn from_sorted(numbers: impl IntoIterator<Item = E164>) -> Result<DncList, DncError> {
        let mut writer = Writer::new();
        let mut previous: Option<E164> = None;
        for (position, number) in numbers.into_iter().enumerate() {
            let (exchange, line) = split(number).ok_or(DncError::NotNanp { number })?;
            if previous.is_some_and(|p| p > number) {
                return Err(DncError::NotSorted {
                    position: position as u64,
                    number,
                });
            }
            previous = Some(number);
            writer.push(exchange, line);
        }
        Ok(writer.finish())
    }

    /// Whether `number` is on the list.
    #[inline]
    pub fn contains(&self, number: E164) -> bool {
        self.compact_contains(number) || (!self.recent.is_empty() && self.recent.contains(&number.digits()))
    }

    #[inline]
    fn compact_contains(&self, number: E164) -> bool {
        let Some((exchange, line)) = split(number) else {
            return false;
        };
        let (Some(&start), Some(&end)) = (self.starts.get(exchange), self.starts.get(exchange + 1)) else {
            return false;
        };
        let run = &self.words[start as usize..end as usize];
        if run.len() == BITMAP_WORDS {
            run[usize::from(line / 16)] & (1 << (line % 16)) != 0
        } else {
            search_run(run, line)
        }
    }

    /// Adds one number (an opt-in to the registry seen after the import).
    /// Returns false when it was already listed.
    pub fn insert(&mut self, number: E164) -> Result<bool, DncError> {
        if !number.is_nanp() {
            return Err(DncError::NotNanp { number });
        }
        if self.compact_contains(number) {
            return Ok(false);
        }
        Ok(self.recent.insert(number.digits()))
    }

    /// Folds numbers added with [`DncList::insert`] into the compact form.
    pub fn compact(&mut self) {
        if self.recent.is_empty() {
            return;
        }
        let mut builder = DncBuilder::new();
        builder.add_list(self);
        *self = builder.finish();
    }

    pub fn len(&self) -> u64 {
        self.compact_len + self.recent.len() as u64
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Bytes held on the heap: the figure the memory benchmark reports.
    pub fn heap_bytes(&self) -> usize {
        self.starts.capacity() * 4 + self.words.capacity() * 2 + self.recent.capacity() * 9
    }

    /// Every listed number, ascending (recent insertions last, unordered).
    pub fn iter(&self) -> impl Iterator<Item = E164> + '_ {
        let compact = (0..self.starts.len().saturating_sub(1)).flat_map(move |exchange| {
            let run = &self.words[self.starts[exchange] as usize..self.starts[exchange + 1] as usize];
            let lines: Box<dyn Iterator<Item = u16>> = if run.len() == BITMAP_WORDS {
                Box::new(
                    (0..LINES_PER_EXCHANGE as u16).filter(move |l| run[usize::from(l / 16)] & (1 << (l % 16)) != 0),
                )
            } else {
                Box::new(run.iter().copied())
            };
            lines.map(move |line| join(exchange, line))
        });
        compact.chain(self.recent.iter().map(|d| E164::from_digits_unchecked(*d)))
    }

    /// The binary form: a magic tag, the count, then the directory and the
    /// words, little-endian. Numbers added since the last compaction are
    /// folded in first.
    pub fn to_bytes(&self) -> Vec<u8> {
        if !self.recent.is_empty() {
            let mut compacted = self.clone();
            compacted.compact();
            return compacted.to_bytes();
        }
        let mut out = Vec::with_capacity(32 + self.starts.len() * 4 + self.words.len() * 2);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&self.compact_len.to_le_bytes());
        out.extend_from_slice(&(self.starts.len() as u64).to_le_bytes());
        out.extend_from_slice(&(self.words.len() as u64).to_le_bytes());
        for start in &self.starts {
            out.extend_from_slice(&start.to_le_bytes());
        }
        for word in &self.words {
            out.extend_from_slice(&word.to_le_bytes());
        }
        out
    }

    /// Reads [`DncList::to_bytes`]'s form back, checking it whole: a
    /// truncated or foreign file is an error, never a shorter list.
    pub fn from_bytes(bytes: &[u8]) -> Result<DncList, DncFormatError> {
        let bad = DncFormatError;
        let header = bytes.get(..32).ok_or(bad("shorter than its header"))?;
        if &header[..8] != MAGIC {
            return Err(bad("not a dialguard Do-Not-Call file, or a newer version"));
        }
        let read_u64 = |at: usize| u64::from_le_bytes(header[at..at + 8].try_into().expect("8 bytes"));
        let (len, starts_len, words_len) = (read_u64(8), read_u64(16), read_u64(24));
        if starts_len != 0 && starts_len != EXCHANGES as u64 + 1 {
            return Err(bad("its directory has the wrong size"));
        }
        let body = &bytes[32..];
        let expected = starts_len
            .checked_mul(4)
            .and_then(|s| s.checked_add(words_len.checked_mul(2)?));
        if expected != Some(body.len() as u64) {
            return Err(bad("its length does not match its header (truncated?)"));
        }
        let (start_bytes, word_bytes) = body.split_at(starts_len as usize * 4);
        let starts: Vec<u32> = start_bytes
            .chunks_exact(4)
            .map(|c| u32::from_le_bytes(c.try_into().expect("4 bytes")))
            .collect();
        let words: Vec<u16> = word_bytes
            .chunks_exact(2)
            .map(|c| u16::from_le_bytes(c.try_into().expect("2 bytes")))
            .collect();
        let list = DncList {
            starts,
            words,
            compact_len: len,
            recent: HashSet::default(),
        };
        list.check_shape()?;
        Ok(list)
    }

    /// The invariants a lookup relies on: runs in bounds and ascending, lines
    /// below 10 000, and the stated count.
    fn check_shape(&self) -> Result<(), DncFormatError> {
        let bad = DncFormatError;
        if self.starts.is_empty() {
            return if self.words.is_empty() && self.compact_len == 0 {
                Ok(())
            } else {
                Err(bad("numbers without a directory"))
            };
        }
        if self.starts[0] != 0 || *self.starts.last().expect("non-empty") as usize != self.words.len() {
            return Err(bad("its directory does not cover its numbers"));
        }
        let mut count = 0u64;
        for pair in self.starts.windows(2) {
            let (start, end) = (pair[0] as usize, pair[1] as usize);
            if start > end {
                return Err(bad("its directory is out of order"));
            }
            let run = &self.words[start..end];
            if run.len() == BITMAP_WORDS {
                count += run.iter().map(|w| u64::from(w.count_ones())).sum::<u64>();
            } else {
                let ascending = run.windows(2).all(|w| w[0] < w[1]);
                if !ascending || run.last().is_some_and(|l| usize::from(*l) >= LINES_PER_EXCHANGE) {
                    return Err(bad("an exchange's lines are out of order or out of range"));
                }
                count += run.len() as u64;
            }
        }
        if count != self.compact_len {
            return Err(bad("its count does not match its numbers"));
        }
        Ok(())
    }
}

/// Looks a line up in a sorted run. A binary search over a whole run of a
/// few hundred lines touches several cache lines, each a likely miss at
/// registry scale; lines are spread over 0..10 000, so the line's share of
/// that range is a good guess of its position, and a window of
/// [`GUESS_WINDOW`] entries either side (two cache lines) nearly always
/// brackets it. When it does not, the whole run is searched.
#[inline]
fn search_run(run: &[u16], line: u16) -> bool {
    let n = run.len();
    if n <= 2 * GUESS_WINDOW {
        return run.binary_search(&line).is_ok();
    }
    let guess = usize::from(line) * n / LINES_PER_EXCHANGE;
    let lo = guess.saturating_sub(GUESS_WINDOW);
    let hi = (guess + GUESS_WINDOW).min(n);
    let bracketed = run[lo] <= line && (hi == n || line <= run[hi - 1]);
    let window = if bracketed { &run[lo..hi] } else { run };
    window.binary_search(&line).is_ok()
}

/// Entries searched either side of the guessed position: the position of a
/// line among n uniform ones varies by about sqrt(n)/2, at most 13 here.
const GUESS_WINDOW: usize = 32;

/// Appends exchanges in ascending order, choosing each one's form.
///
/// While exchange `x` is open, `starts.len() == x + 1`: `starts[x]` is where
/// its run begins, and closing it pushes `starts[x + 1]`.
struct Writer {
    starts: Vec<u32>,
    words: Vec<u16>,
    len: u64,
    open: Option<usize>,
    lines: Vec<u16>,
}

impl Writer {
    fn new() -> Writer {
        Writer {
            starts: Vec::new(),
            words: Vec::new(),
            len: 0,
            open: None,
            lines: Vec::new(),
        }
    }

    /// Lines must arrive in ascending (exchange, line) order.
    fn push(&mut self, exchange: usize, line: u16) {
        if self.open != Some(exchange) {
            self.close();
            if self.starts.capacity() == 0 {
                self.starts.reserve_exact(EXCHANGES + 1);
            }
            // The exchanges skipped over are empty: their runs start and end here.
            let here = self.end();
            self.starts.resize(exchange + 1, here);
            self.open = Some(exchange);
        }
        if self.lines.last() != Some(&line) {
            self.lines.push(line);
        }
    }

    fn end(&self) -> u32 {
        u32::try_from(self.words.len()).expect("at most 625 words for each of 10^6 exchanges fit in u32")
    }

    /// Writes the open exchange's run in its smaller form.
    fn close(&mut self) {
        if self.open.take().is_none() {
            return;
        }
        if self.lines.len() >= BITMAP_FROM {
            let mut bitmap = [0u16; BITMAP_WORDS];
            for line in &self.lines {
                bitmap[usize::from(line / 16)] |= 1 << (line % 16);
            }
            self.words.extend_from_slice(&bitmap);
        } else {
            self.words.extend_from_slice(&self.lines);
        }
        self.len += self.lines.len() as u64;
        self.lines.clear();
        let end = self.end();
        self.starts.push(end);
    }

    fn finish(mut self) -> DncList {
        self.close();
        if self.starts.is_empty() {
            return DncList::new();
        }
        let end = self.end();
        self.starts.resize(EXCHANGES + 1, end);
        // An exact copy in a block of its own: the grown buffer's pages were
        // touched before they could be offered huge pages (`huge_pages`).
        let words = self.words.to_vec();
        DncList {
            starts: self.starts,
            words,
            compact_len: self.len,
            recent: HashSet::default(),
        }
    }
}

/// Gathers numbers in any order, then builds a [`DncList`]: a bucket per
/// exchange of 2-byte line numbers, sorted once at the end.
#[derive(Default)]
pub struct DncBuilder {
    buckets: Vec<Vec<u16>>,
    added: u64,
}

impl DncBuilder {
    pub fn new() -> DncBuilder {
        DncBuilder::default()
    }

    /// Adds a NANP number; refuses others.
    pub fn add(&mut self, number: E164) -> Result<(), DncError> {
        let (exchange, line) = split(number).ok_or(DncError::NotNanp { number })?;
        if self.buckets.is_empty() {
            self.buckets.resize_with(EXCHANGES, Vec::new);
        }
        self.buckets[exchange].push(line);
        self.added += 1;
        Ok(())
    }

    /// Adds every number of an existing list (to merge a new file into it).
    pub fn add_list(&mut self, list: &DncList) {
        for number in list.iter() {
            self.add(number).expect("a DncList holds NANP numbers only");
        }
    }

    /// Numbers added so far, duplicates included.
    pub fn added(&self) -> u64 {
        self.added
    }

    pub fn finish(self) -> DncList {
        let mut writer = Writer::new();
        for (exchange, mut lines) in self.buckets.into_iter().enumerate() {
            if lines.is_empty() {
                continue;
            }
            lines.sort_unstable();
            for line in lines {
                writer.push(exchange, line);
            }
        }
        writer.finish()
    }
}

/// One line of a registry file that is not a number.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DncRowError {
    /// 1-based.
    pub line: u64,
    /// The line as written (cut to 40 characters).
    pub text: String,
    pub reason: &'static str,
}

impl fmt::Display for DncRowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "line {}: {:?}: {}; fix or remove the line and import again",
            self.line, self.text, self.reason
        )
    }
}

/// What reading a registry file found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DncReadReport {
    pub numbers: u64,
    /// Blank lines, `#` comments and a header line.
    pub skipped: u64,
    pub errors_total: u64,
    /// The first [`DncReadReport::KEPT_ERRORS`] row errors.
    pub errors: Vec<DncRowError>,
}

impl DncReadReport {
    /// A whole file of bad rows should not take the memory of the file.
    pub const KEPT_ERRORS: usize = 1000;
}

/// Reads a registry file's lines into `builder`: one number a line, as 10
/// digits, 11 digits starting with 1, or E.164 (`+1…`); the separators people
/// write (`-`, `.`, spaces, parentheses, and the comma of the FTC's
/// `area code,number` form) are ignored. Blank lines and `#` comments are
/// skipped, and so is a first line without digits (a header).
///
/// Numbers are checked for NANP shape (area code and exchange not starting
/// with 0 or 1), not against libphonenumber: the registry is authoritative,
/// and the library's metadata lags new area codes by months.
pub fn read_dnc_lines<'a>(lines: impl IntoIterator<Item = &'a str>, builder: &mut DncBuilder) -> DncReadReport {
    let mut reader = DncReader::new(builder);
    for line in lines {
        reader.line(line);
    }
    reader.finish()
}

/// [`read_dnc_lines`] one line at a time, for a caller streaming a file too
/// large to hold as text (the full registry is about 3 GB of it).
pub struct DncReader<'b> {
    builder: &'b mut DncBuilder,
    report: DncReadReport,
    line: u64,
}

impl<'b> DncReader<'b> {
    pub fn new(builder: &'b mut DncBuilder) -> DncReader<'b> {
        DncReader {
            builder,
            report: DncReadReport::default(),
            line: 0,
        }
    }

    /// The next line of the file (with or without its line ending).
    pub fn line(&mut self, text: &str) {
        self.line += 1;
        let report = &mut self.report;
        let trimmed = text.trim();
        let header = self.line == 1 && !trimmed.bytes().any(|b| b.is_ascii_digit());
        if trimmed.is_empty() || trimmed.starts_with('#') || header {
            report.skipped += 1;
            return;
        }
        match parse_registry_number(trimmed) {
            Ok(number) => {
                self.builder
                    .add(number)
                    .expect("parse_registry_number returns NANP numbers");
                report.numbers += 1;
            }
            Err(reason) => {
                report.errors_total += 1;
                if report.errors.len() < DncReadReport::KEPT_ERRORS {
                    report.errors.push(DncRowError {
                        line: self.line,
                        text: trimmed.chars().take(40).collect(),
                        reason,
                    });
                }
            }
        }
    }

    pub fn finish(self) -> DncReadReport {
        self.report
    }
}

/// One registry line to a number, or why not.
pub fn parse_registry_number(text: &str) -> Result<E164, &'static str> {
    let text = text.strip_prefix('+').unwrap_or(text);
    let mut digits = 0u64;
    let mut count = 0;
    for c in text.chars() {
        match c {
            '0'..='9' => {
                count += 1;
                if count > 11 {
                    return Err("too many digits: expected 10, or 11 starting with 1");
                }
                digits = digits * 10 + u64::from(c as u8 - b'0');
            }
            '-' | '.' | ' ' | '(' | ')' | ',' | '\t' => {}
            _ => return Err("unexpected character: expected digits only"),
        }
    }
    let national = match count {
        10 => digits,
        11 if digits / 10_000_000_000 == 1 => digits - 10_000_000_000,
        11 => return Err("11 digits not starting with 1: not a NANP number"),
        _ => return Err("too few digits: expected 10, or 11 starting with 1"),
    };
    let (npa, nxx) = (national / 10_000_000, national / 10_000 % 1000);
    if npa < 200 || nxx < 200 {
        return Err("area code and exchange cannot start with 0 or 1");
    }
    Ok(E164::from_digits_unchecked(10_000_000_000 + national))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(digits: u64) -> E164 {
        E164::from_digits_unchecked(digits)
    }

    /// A list with a sparse exchange, a dense (bitmap) one, the boundary
    /// sizes around the switch, and exchanges at the directory's ends.
    fn sample() -> Vec<E164> {
        let mut numbers = vec![
            n(12_002_000_000),
            n(14_155_550_100),
            n(14_155_559_999),
            n(19_999_999_999),
        ];
        numbers.extend((0..5000).map(|l| n(12_125_550_000 + l * 2)));
        numbers.extend((0..BITMAP_FROM as u64 - 1).map(|l| n(13_125_550_000 + l * 16)));
        numbers.extend((0..BITMAP_FROM as u64).map(|l| n(13_125_560_000 + l * 16)));
        numbers.extend((0..624).map(|l| n(13_125_570_000 + l * 16)));
        numbers.extend((0..625).map(|l| n(13_125_580_000 + l * 16)));
        numbers.sort();
        numbers
    }

    #[test]
    fn holds_exactly_what_was_put_in() {
        let numbers = sample();
        let list = DncList::from_sorted(numbers.iter().copied()).unwrap();
        assert_eq!(list.len(), numbers.len() as u64);
        for number in &numbers {
            assert!(list.contains(*number), "{number}");
        }
        for absent in [
            12_002_000_001u64,
            14_155_550_101,
            12_125_550_001,
            13_125_550_001,
            13_125_560_017,
            14_155_560_100,
        ] {
            assert!(!list.contains(n(absent)), "{absent}");
        }
        assert!(!list.contains(n(442_079_460_958)));
        assert_eq!(list.iter().collect::<Vec<_>>(), numbers);
    }

    #[test]
    fn the_guessed_window_finds_every_line_even_in_skewed_runs() {
        // Uniform, all at the start, all at the end, and a gap in the middle:
        // the guess misses in the skewed ones and the full search answers.
        let uniform: Vec<u16> = (0..600).map(|i| i * 16 + 3).collect();
        let low: Vec<u16> = (0..600).collect();
        let high: Vec<u16> = (9_400..10_000).collect();
        let split: Vec<u16> = (0..300).chain(9_700..10_000).collect();
        for run in [uniform, low, high, split] {
            for line in 0..10_000u16 {
                assert_eq!(search_run(&run, line), run.binary_search(&line).is_ok(), "{line}");
            }
        }
    }

    #[test]
    fn a_dense_exchange_costs_no_more_than_its_bitmap() {
        let full = DncList::from_sorted((0..10_000).map(|l| n(12_125_550_000 + l))).unwrap();
        assert_eq!(full.len(), 10_000);
        assert_eq!(full.words.len(), BITMAP_WORDS);
        let sparse = DncList::from_sorted((0..BITMAP_FROM as u64 - 1).map(|l| n(12_125_550_000 + l * 7))).unwrap();
        assert_eq!(sparse.words.len(), BITMAP_FROM - 1);
        let bitmap = DncList::from_sorted((0..BITMAP_FROM as u64).map(|l| n(12_125_550_000 + l * 7))).unwrap();
        assert_eq!(bitmap.words.len(), BITMAP_WORDS);
    }

    #[test]
    fn a_list_saved_with_long_sorted_runs_reads_back() {
        // 300 lines of 212-555 stored sorted, as a list saved with a higher
        // bitmap threshold holds them.
        let lines: Vec<u16> = (0..300).map(|i| i * 33 + 1).collect();
        let exchange = 212_555usize;
        let mut bytes = MAGIC.to_vec();
        for v in [lines.len() as u64, EXCHANGES as u64 + 1, lines.len() as u64] {
            bytes.extend_from_slice(&v.to_le_bytes());
        }
        for x in 0..=EXCHANGES {
            let start: u32 = if x <= exchange { 0 } else { lines.len() as u32 };
            bytes.extend_from_slice(&start.to_le_bytes());
        }
        for line in &lines {
            bytes.extend_from_slice(&line.to_le_bytes());
        }
        let list = DncList::from_bytes(&bytes).unwrap();
        assert_eq!(list.len(), 300);
        for line in 0..10_000u64 {
            let listed = lines.contains(&(line as u16));
            assert_eq!(list.contains(n(12_125_550_000 + line)), listed, "line {line}");
        }
    }

    #[test]
    fn from_sorted_refuses_disorder_and_foreign_numbers() {
        let err = DncList::from_sorted([n(14_155_550_101), n(14_155_550_100)]).unwrap_err();
        assert_eq!(
            err,
            DncError::NotSorted {
                position: 1,
                number: n(14_155_550_100)
            }
        );
        assert!(err.to_string().contains("DncBuilder"));
        let err = DncList::from_sorted([n(442_079_460_958)]).unwrap_err();
        assert!(matches!(err, DncError::NotNanp { .. }));
        // Duplicates are fine and counted once.
        let list = DncList::from_sorted([n(14_155_550_100), n(14_155_550_100)]).unwrap();
        assert_eq!(list.len(), 1);
    }

    #[test]
    fn the_builder_takes_any_order_and_merges_lists() {
        let mut numbers = sample();
        numbers.reverse();
        let mut builder = DncBuilder::new();
        for number in &numbers {
            builder.add(*number).unwrap();
        }
        builder.add(numbers[0]).unwrap();
        let list = builder.finish();
        assert_eq!(list.len(), numbers.len() as u64);

        let mut merge = DncBuilder::new();
        merge.add_list(&list);
        merge.add(n(16_175_550_100)).unwrap();
        let merged = merge.finish();
        assert_eq!(merged.len(), list.len() + 1);
        assert!(merged.contains(n(16_175_550_100)) && merged.contains(numbers[3]));
    }

    #[test]
    fn insertions_count_at_once_and_survive_compaction_and_saving() {
        let mut list = DncList::from_sorted(sample()).unwrap();
        let before = list.len();
        assert_eq!(list.insert(n(16_175_550_100)), Ok(true));
        assert_eq!(list.insert(n(16_175_550_100)), Ok(false));
        assert_eq!(list.insert(n(14_155_550_100)), Ok(false));
        assert!(list.insert(n(442_079_460_958)).is_err());
        assert!(list.contains(n(16_175_550_100)));
        assert_eq!(list.len(), before + 1);
        let saved = DncList::from_bytes(&list.to_bytes()).unwrap();
        assert!(saved.contains(n(16_175_550_100)));
        assert_eq!(saved.len(), before + 1);
        list.compact();
        assert!(list.recent.is_empty() && list.contains(n(16_175_550_100)));
    }

    #[test]
    fn the_binary_form_round_trips() {
        for list in [DncList::new(), DncList::from_sorted(sample()).unwrap()] {
            let back = DncList::from_bytes(&list.to_bytes()).unwrap();
            assert_eq!(back.len(), list.len());
            assert!(back.iter().eq(list.iter()));
        }
    }

    #[test]
    fn a_damaged_binary_form_is_refused() {
        let good = DncList::from_sorted(sample()).unwrap().to_bytes();
        let mut foreign = good.clone();
        foreign[0] = b'X';
        let mut miscounted = good.clone();
        miscounted[8] ^= 1;
        let mut disordered = good.clone();
        let words_at = 32 + (EXCHANGES + 1) * 4;
        disordered.swap(words_at, words_at + 2);
        disordered.swap(words_at + 1, words_at + 3);
        let cases: Vec<(&str, &[u8], &str)> = vec![
            ("empty", &[], "header"),
            ("foreign", &foreign, "not a dialguard"),
            ("truncated", &good[..good.len() - 2], "truncated"),
            ("miscounted", &miscounted, "count"),
            ("disordered", &disordered, "out of order"),
        ];
        for (name, bytes, mentions) in cases {
            let err = DncList::from_bytes(bytes).unwrap_err().to_string();
            assert!(err.contains(mentions), "{name}: {err}");
            assert!(err.contains("dialguard dnc import"), "{name}: {err}");
        }
    }

    #[test]
    fn registry_lines_read_in_the_shapes_files_use() {
        let cases: &[(&str, Result<u64, &str>)] = &[
            ("4155550100", Ok(14_155_550_100)),
            ("14155550100", Ok(14_155_550_100)),
            ("+14155550100", Ok(14_155_550_100)),
            ("415-555-0100", Ok(14_155_550_100)),
            ("(415) 555.0100", Ok(14_155_550_100)),
            ("415,5550100", Ok(14_155_550_100)),
            ("415555010", Err("too few")),
            ("24155550100", Err("not starting with 1")),
            ("141555501000", Err("too many")),
            ("415555010x", Err("unexpected character")),
            ("1155550100", Err("cannot start with 0 or 1")),
            ("4151550100", Err("cannot start with 0 or 1")),
        ];
        for (text, want) in cases {
            let got = parse_registry_number(text).map(E164::digits);
            match (got, want) {
                (Ok(g), Ok(w)) => assert_eq!(g, *w, "{text}"),
                (Err(g), Err(w)) => assert!(g.contains(w), "{text}: {g}"),
                (g, w) => panic!("{text}: got {g:?}, want {w:?}"),
            }
        }
    }

    #[test]
    fn a_file_with_bad_rows_reports_them_by_line_and_keeps_the_rest() {
        let file = "phone_number\n4155550100\n\n# added 2025-11-01\nnot a number\n212-555-0199\n4155550100\n";
        let mut builder = DncBuilder::new();
        let report = read_dnc_lines(file.lines(), &mut builder);
        assert_eq!((report.numbers, report.skipped, report.errors_total), (3, 3, 1));
        assert_eq!(report.errors[0].line, 5);
        assert!(report.errors[0].to_string().starts_with("line 5: \"not a number\""));
        let list = builder.finish();
        assert_eq!(list.len(), 2);
        assert!(list.contains(n(12_125_550_199)));
    }

    #[test]
    fn a_file_of_garbage_keeps_only_the_first_errors() {
        let file: Vec<String> = (0..1500).map(|i| format!("bad{i}")).collect();
        let mut builder = DncBuilder::new();
        let report = read_dnc_lines(file.iter().map(String::as_str), &mut builder);
        assert_eq!(report.errors_total, 1500);
        assert_eq!(report.errors.len(), DncReadReport::KEPT_ERRORS);
        assert_eq!(builder.finish().len(), 0);
    }
}
