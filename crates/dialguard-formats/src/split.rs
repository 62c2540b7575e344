//! Splitting CSV into records, each with the line it starts on.
//!
//! Call-record files are plain: one record per line, each field either
//! quoted with its quotes doubled (`"""Sales"" <4155550100>"`) or free of
//! quotes. Such a line splits at its delimiters with a search for the next
//! quote or comma, several times faster than csv's byte-at-a-time state
//! machine. Any other line (a stray quote, text after a closing quote, a
//! quoted field running over lines) is read by that state machine itself,
//! `csv_core`, set up as `csv` sets it up, so every record is the one csv
//! reads whichever way its line is split.
//!
//! Records end at `\n` only: a CRLF file's `\r` stays at the end of the
//! last field (every field is read trimmed, see
//! [`text`](crate::columns::text)). With csv's own CRLF handling a record
//! ends at the `\r` and its `\n` is counted with the next record, which
//! shifts every line number after the first by one. Blank records (every
//! field empty or whitespace) are skipped.

use std::io::Read;
use std::ops::Range;

use memchr::memchr;

use crate::FileError;

/// What [`Splitter::next`] found.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Next {
    /// A record that is not blank, starting on this 1-based line; `broken`
    /// when a quoted field of it holds a line break.
    Record { line: u64, broken: bool },
    /// The bytes are used up.
    End,
    /// The bytes end inside the next record: more are needed to read it.
    More,
}

/// Where a [`Splitter`] is in its bytes.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Place {
    /// Byte offset of the next line.
    pub at: usize,
    /// Its 1-based line number.
    pub line: u64,
}

impl Place {
    pub fn start() -> Place {
        Place { at: 0, line: 1 }
    }
}

/// One record's fields, each a span of the bytes they were read from.
///
/// A plain line is kept whole and its fields point into it, quotes and
/// commas left between them; a quoted field with doubled quotes is undone
/// after the line. A record csv_core read holds its fields side by side.
#[derive(Clone, Debug, Default)]
pub(crate) struct Row {
    bytes: Vec<u8>,
    spans: Vec<(usize, usize)>,
}

impl Row {
    /// How many fields the record has.
    pub fn len(&self) -> usize {
        self.spans.len()
    }

    /// Field `index`, or `None` past the last.
    #[inline]
    pub fn get(&self, index: usize) -> Option<&[u8]> {
        self.spans.get(index).map(|&(start, end)| &self.bytes[start..end])
    }

    /// Where field `index` lies in [`Row::bytes`].
    #[inline]
    pub fn range(&self, index: usize) -> Option<Range<usize>> {
        self.spans.get(index).map(|&(start, end)| start..end)
    }

    pub fn iter(&self) -> impl Iterator<Item = &[u8]> {
        self.spans.iter().map(|&(start, end)| &self.bytes[start..end])
    }

    /// The bytes every field lies in, with whatever lies between them.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    fn is_blank(&self) -> bool {
        self.iter().all(|field| field.trim_ascii().is_empty())
    }

    fn clear(&mut self) {
        self.bytes.clear();
        self.spans.clear();
    }
}

#[cfg(test)]
impl From<&[&str]> for Row {
    fn from(fields: &[&str]) -> Row {
        let mut row = Row::default();
        for field in fields {
            let start = row.bytes.len();
            row.bytes.extend_from_slice(field.as_bytes());
            row.spans.push((start, row.bytes.len()));
        }
        row
    }
}

/// Splits records out of bytes; its buffers serve call after call.
pub(crate) struct Splitter {
    core: csv_core::Reader,
    /// Where each field `csv_core` wrote ends.
    ends: Vec<usize>,
}

impl Default for Splitter {
    fn default() -> Splitter {
        Splitter {
            core: csv_core::ReaderBuilder::new()
                .terminator(csv_core::Terminator::Any(b'\n'))
                .build(),
            ends: vec![0; 64],
        }
    }
}

impl Splitter {
    /// Reads the record of `bytes` at `place` into `row` and moves
    /// `place` past it. `ended` says `bytes` run to the end of the input;
    /// without it a record must end in a line break to be read.
    pub fn next(&mut self, bytes: &[u8], place: &mut Place, row: &mut Row, ended: bool) -> Next {
        loop {
            let rest = &bytes[place.at..];
            if rest.is_empty() {
                return if ended { Next::End } else { Next::More };
            }
            let line = place.line;
            let text = match memchr(b'\n', rest) {
                Some(end) => &rest[..end],
                None if ended => rest,
                None => return Next::More,
            };
            if text.is_empty() {
                // csv skips an empty line without a record.
                place.at += 1;
                place.line += 1;
                continue;
            }
            let broken = if self.plain(text, row) {
                place.at += (text.len() + 1).min(rest.len());
                place.line += 1;
                false
            } else {
                let Some(read) = self.by_machine(rest, row, ended) else {
                    return Next::More;
                };
                place.at += read;
                place.line += memchr::memchr_iter(b'\n', &rest[..read]).count() as u64;
                row.iter().any(|field| field.contains(&b'\n'))
            };
            if !row.is_blank() {
                return Next::Record { line, broken };
            }
        }
    }

    /// Splits `line` (without its `\n`) into `row` when it is plain:
    /// every field either free of quotes or quoted whole, with any quote in
    /// it doubled. False, with `row` in any state, for any other line.
    fn plain(&mut self, line: &[u8], row: &mut Row) -> bool {
        row.clear();
        row.bytes.extend_from_slice(line);
        let mut at = 0;
        loop {
            if line.get(at) != Some(&b'"') {
                match find(line, at, |word| bytes_of(word, b',') | bytes_of(word, b'"')) {
                    None => {
                        row.spans.push((at, line.len()));
                        return true;
                    }
                    Some(end) if line[end] == b',' => {
                        row.spans.push((at, end));
                        at = end + 1;
                        continue;
                    }
                    // csv keeps a quote inside a field; leave such lines to it.
                    Some(_) => return false,
                }
            }
            let start = at + 1;
            // Where the field's text, its doubled quotes undone, begins
            // after the line; and how far into the line it has been copied.
            let mut undone = None;
            let mut from = start;
            let close = loop {
                let Some(quote) = find(line, from, |word| bytes_of(word, b'"')) else {
                    return false;
                };
                if line.get(quote + 1) != Some(&b'"') {
                    break quote;
                }
                undone.get_or_insert(row.bytes.len());
                row.bytes.extend_from_slice(&line[from..=quote]);
                from = quote + 2;
            };
            // A CRLF line's `\r` after the closing quote is text to csv.
            let (cr, next) = match &line[close + 1..] {
                [] => (false, None),
                [b',', ..] => (false, Some(close + 2)),
                b"\r" => (true, None),
                _ => return false,
            };
            match undone {
                None if !cr => row.spans.push((start, close)),
                _ => {
                    let undone = undone.unwrap_or(row.bytes.len());
                    row.bytes.extend_from_slice(&line[from..close]);
                    if cr {
                        row.bytes.push(b'\r');
                    }
                    row.spans.push((undone, row.bytes.len()));
                }
            }
            match next {
                Some(next) => at = next,
                None => return true,
            }
        }
    }

    /// Reads one record from the start of `bytes` with csv's own state
    /// machine; the bytes it took, its terminator included, or `None` when
    /// `bytes` end inside it and more may follow (`ended` false).
    fn by_machine(&mut self, bytes: &[u8], row: &mut Row, ended: bool) -> Option<usize> {
        use csv_core::ReadRecordResult::{End, InputEmpty, OutputEndsFull, OutputFull, Record};
        self.core.reset();
        row.clear();
        row.bytes.resize(bytes.len().clamp(64, 1024), 0);
        let (mut read, mut wrote, mut ends) = (0, 0, 0);
        loop {
            let (result, r, w, e) =
                self.core
                    .read_record(&bytes[read..], &mut row.bytes[wrote..], &mut self.ends[ends..]);
            (read, wrote, ends) = (read + r, wrote + w, ends + e);
            match result {
                // Called with nothing, the machine reads the end of the input.
                InputEmpty if !ended && read == bytes.len() => return None,
                InputEmpty => {}
                OutputFull => row.bytes.resize(row.bytes.len() * 2, 0),
                OutputEndsFull => self.ends.resize(self.ends.len() * 2, 0),
                Record => break,
                End => {
                    ends = 0;
                    break;
                }
            }
        }
        row.bytes.truncate(wrote);
        let mut start = 0;
        for &end in &self.ends[..ends] {
            row.spans.push((start, end));
            start = end;
        }
        Some(read)
    }
}

/// `0x80` in each byte of `word` that is `byte`, zero elsewhere.
#[inline(always)]
fn bytes_of(word: u64, byte: u8) -> u64 {
    const LOW: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    let zeroed = word ^ (u64::from(byte) * 0x0101_0101_0101_0101);
    // A byte's high bit is set by the sum unless all its low bits are 0.
    !(((zeroed & LOW) + LOW) | zeroed | LOW)
}

/// The first byte of `bytes` from `from` on that `hits` marks, eight bytes
/// at a time: fields are too short for a vector search to pay its way in.
#[inline(always)]
fn find(bytes: &[u8], from: usize, hits: impl Fn(u64) -> u64) -> Option<usize> {
    let mut at = from;
    while let Some(word) = bytes.get(at..).and_then(<[u8]>::first_chunk::<8>) {
        let marked = hits(u64::from_le_bytes(*word));
        if marked != 0 {
            return Some(at + (marked.trailing_zeros() / 8) as usize);
        }
        at += 8;
    }
    let mut tail = [0; 8];
    let rest = bytes.get(at..).unwrap_or_default();
    tail[..rest.len()].copy_from_slice(rest);
    // Padding zeros are no byte anyone looks for; a hit past the end is none.
    let marked = hits(u64::from_le_bytes(tail));
    let found = at + (marked.trailing_zeros() / 8) as usize;
    (marked != 0 && found < bytes.len()).then_some(found)
}

/// CSV records read from a stream, with the line each starts on.
pub(crate) struct CsvRows<R> {
    input: R,
    bytes: Vec<u8>,
    place: Place,
    ended: bool,
    splitter: Splitter,
    /// Bytes read from the input at a time, at least.
    chunk: usize,
}

impl<R: Read> CsvRows<R> {
    pub fn new(input: R) -> CsvRows<R> {
        CsvRows::reading(input, 64 << 10)
    }

    /// Reads `chunk` bytes at a time (tests read a few).
    fn reading(input: R, chunk: usize) -> CsvRows<R> {
        CsvRows {
            input,
            bytes: Vec::new(),
            place: Place::start(),
            ended: false,
            splitter: Splitter::default(),
            chunk: chunk.max(1),
        }
    }

    /// Reads the next record that is not blank, returning the 1-based line
    /// it starts on, or `None` at the end of the input.
    pub fn next(&mut self, row: &mut Row) -> Result<Option<u64>, FileError> {
        loop {
            match self.splitter.next(&self.bytes, &mut self.place, row, self.ended) {
                Next::Record { line, .. } => return Ok(Some(line)),
                Next::End => return Ok(None),
                Next::More => self.fill()?,
            }
        }
    }

    /// Drops the bytes already read and reads on, at least doubling what is
    /// held when a record is longer than that.
    fn fill(&mut self) -> Result<(), FileError> {
        self.bytes.drain(..self.place.at);
        self.place.at = 0;
        let want = self.chunk.max(self.bytes.len()) as u64;
        let read = (&mut self.input)
            .take(want)
            .read_to_end(&mut self.bytes)
            .map_err(FileError::Io)?;
        self.ended = (read as u64) < want;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Every record with its line and fields.
    type Records = Vec<(u64, Vec<Vec<u8>>)>;

    fn fields<'r>(fields: impl Iterator<Item = &'r [u8]>) -> Vec<Vec<u8>> {
        fields.map(<[u8]>::to_vec).collect()
    }

    /// `bytes` read in memory, and whether a field held a line break.
    fn split(bytes: &[u8]) -> (Records, bool) {
        let (mut splitter, mut place, mut row) = (Splitter::default(), Place::start(), Row::default());
        let (mut records, mut broke) = (Vec::new(), false);
        while let Next::Record { line, broken } = splitter.next(bytes, &mut place, &mut row, true) {
            records.push((line, fields(row.iter())));
            broke |= broken;
        }
        (records, broke)
    }

    /// `bytes` read from a stream handing out a few bytes at a time, taken
    /// `step` bytes at a time.
    fn streamed(bytes: &[u8], step: usize) -> Records {
        struct Trickle<'b>(&'b [u8], usize);
        impl Read for Trickle<'_> {
            fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
                let n = self.1.min(buf.len()).min(self.0.len());
                buf[..n].copy_from_slice(&self.0[..n]);
                self.0 = &self.0[n..];
                Ok(n)
            }
        }
        let (mut rows, mut row) = (CsvRows::reading(Trickle(bytes, step), step), Row::default());
        let mut records = Vec::new();
        while let Some(line) = rows.next(&mut row).unwrap() {
            records.push((line, fields(row.iter())));
        }
        records
    }

    /// csv's own reading: its records, blank ones dropped, each with the
    /// line it starts on (past the empty lines csv skipped before it).
    fn by_csv(bytes: &[u8]) -> (Records, bool) {
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .terminator(csv::Terminator::Any(b'\n'))
            .from_reader(bytes);
        let (mut records, mut broke) = (Vec::new(), false);
        for record in reader.byte_records() {
            let record = record.unwrap();
            let mut start = record.position().unwrap().byte() as usize;
            while bytes.get(start) == Some(&b'\n') {
                start += 1;
            }
            if record.iter().all(|field| field.trim_ascii().is_empty()) {
                continue;
            }
            let line = 1 + memchr::memchr_iter(b'\n', &bytes[..start]).count() as u64;
            broke |= record.as_slice().contains(&b'\n');
            records.push((line, fields(record.iter())));
        }
        (records, broke)
    }

    #[test]
    fn plain_lines_split_at_their_delimiters() {
        let file = b"\"\",\"4155550100\",\"\"\"Sales\"\" <4155550100>\",130,\"ANSWERED\"\r\n\n,a,\n";
        let (records, broke) = split(file);
        assert!(!broke);
        let lines: Vec<u64> = records.iter().map(|r| r.0).collect();
        let fields: Vec<Vec<&[u8]>> = records
            .iter()
            .map(|(_, f)| f.iter().map(Vec::as_slice).collect())
            .collect();
        assert_eq!(
            fields,
            [
                vec![
                    &b""[..],
                    b"4155550100",
                    b"\"Sales\" <4155550100>",
                    b"130",
                    b"ANSWERED\r"
                ],
                vec![b"", b"a", b""],
            ]
        );
        assert_eq!(lines, [1, 3]);
    }

    #[test]
    fn awkward_lines_read_as_csv_reads_them() {
        for file in [
            &b"a\"b,c\nd,e\n"[..],
            b"\"ab\"c,d\n1,2",
            b"\"unterminated,x\n",
            b"x,\"two\nlines\"\ny\n",
            b"\n\n  , \n\"\",\"\"\n\"a\"\"\",b\r",
            b"\"a\" ,b\n",
            b",\n\na",
        ] {
            let text = String::from_utf8_lossy(file);
            assert_eq!(split(file), by_csv(file), "{text:?}");
            assert_eq!(streamed(file, 3), by_csv(file).0, "{text:?}");
        }
        assert!(
            split(b"x,\"two\nlines\"\ny\n").1,
            "the record over two lines is told apart"
        );
    }

    proptest! {
        #[test]
        fn any_bytes_read_as_csv_reads_them(
            bytes in proptest::collection::vec(
                prop_oneof![Just(b'"'), Just(b','), Just(b'\n'), Just(b'\r'), Just(b' '), Just(b'a'), any::<u8>()],
                0..200,
            ),
            step in 1usize..40,
        ) {
            let csv = by_csv(&bytes);
            prop_assert_eq!(&split(&bytes), &csv);
            prop_assert_eq!(streamed(&bytes, step), csv.0);
        }
    }
}
