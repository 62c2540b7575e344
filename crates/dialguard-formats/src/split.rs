//! Splitting CSV into records, each with the line it starts on.
//!
//! Call-record files are plain: one record per line, each field either
//! quoted with its quotes doubled (`"""Sales"" <4155550100>"`) or free of
//! quotes. Such a line splits at its delimiters found from bit masks of its
//! quotes and commas, 64 bytes at a time (SSE2 on x86-64), several times
//! faster than csv's byte-at-a-time state machine. Any other line (a stray
//! quote, text after a closing quote, a quoted field running over lines) is
//! read by that state machine itself, `csv_core`, set up as `csv` sets it
//! up, so every record is the one csv reads whichever way its line is split.
//! One exception, for formats that know their records' widths
//! ([`Splitter::spans_checked`]): a line cut short with a quote left open
//! is read alone, where csv would join it with the lines after it.
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
    /// The line being split, as bit masks.
    marks: Marks,
    /// Whether a record with this many fields is one the format writes; a
    /// record running over lines that is not is a line cut short (see
    /// [`Splitter::spans_checked`]).
    fits: fn(usize) -> bool,
    /// Whether `fits` is the format's own (see [`Splitter::spans_checked`]).
    checked: bool,
}

/// The most bytes a checked record may run over lines for: far past any
/// call record, and a bound on the bytes read ahead for a quote that never
/// closes.
const MAX_SPAN: usize = 1 << 20;

impl Default for Splitter {
    fn default() -> Splitter {
        Splitter {
            core: csv_core::ReaderBuilder::new()
                .terminator(csv_core::Terminator::Any(b'\n'))
                .build(),
            ends: vec![0; 64],
            marks: Marks::default(),
            fits: |_| true,
            checked: false,
        }
    }
}

impl Splitter {
    /// A splitter for a format whose records have a field count `fits`
    /// accepts. A quoted field that opens on a line and does not close
    /// there runs on over the next lines, as CSV allows; when the record
    /// that makes does not fit, the line was cut short (a PBX that died
    /// mid-write leaves `"acct","garbage` with no closing quote): that
    /// line is read as a record alone, to be rejected by itself, and the
    /// next line as its own record, instead of both being lost together.
    pub fn spans_checked(fits: fn(usize) -> bool) -> Splitter {
        Splitter {
            fits,
            checked: true,
            ..Splitter::default()
        }
    }

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
                let capped = self.checked && rest.len() > MAX_SPAN;
                let window = if capped { &rest[..MAX_SPAN] } else { rest };
                let Some(mut read) = self.by_machine(window, row, ended || capped) else {
                    return Next::More;
                };
                let mut broken = row.iter().any(|field| field.contains(&b'\n'));
                let line_end = (text.len() + 1).min(rest.len());
                // Cut short when the next line is a record by itself, or
                // when the span closed before the bytes end and does not
                // fit. A span that runs to the end of the bytes is left
                // whole: the next line is not here to judge by (a block's
                // end: it is read again with what follows), or there is
                // none to lose.
                let misfit = read < window.len() && !(self.fits)(row.len());
                if broken && self.checked && (misfit || self.whole_record(&rest[line_end..])) {
                    read = self
                        .by_machine(&rest[..line_end], row, true)
                        .expect("a whole input is read to its end");
                    broken = false;
                }
                place.at += read;
                place.line += memchr::memchr_iter(b'\n', &rest[..read]).count() as u64;
                broken
            };
            if !row.is_blank() {
                return Next::Record { line, broken };
            }
        }
    }

    /// Whether the first line of `bytes` is a record of the format's by
    /// itself: then a quote left open on the line before it was a line cut
    /// short, not a field running over lines.
    fn whole_record(&mut self, bytes: &[u8]) -> bool {
        let line = memchr(b'\n', bytes).map_or(bytes, |end| &bytes[..end]);
        let mut scratch = Row::default();
        !line.is_empty() && self.plain(line, &mut scratch) && (self.fits)(scratch.len())
    }

    /// Splits `line` (without its `\n`) into `row` when it is plain:
    /// every field either free of quotes or quoted whole, with any quote in
    /// it doubled. False, with `row` in any state, for any other line.
    ///
    /// The line's quotes and commas are found 64 bytes at a time as bit
    /// masks. A comma after an odd number of quotes is inside quoted text;
    /// the others end fields. Each field is then checked to be plain, which
    /// also proves the odd-or-even reading right: a plain field holds an
    /// even number of quotes, so every field starts outside quoted text.
    fn plain(&mut self, line: &[u8], row: &mut Row) -> bool {
        row.clear();
        row.bytes.extend_from_slice(line);
        self.marks.read(line);
        let mut start = 0;
        for (word, &ends) in self.marks.ends.iter().enumerate() {
            let mut ends = ends;
            while ends != 0 {
                let end = word * 64 + ends.trailing_zeros() as usize;
                if !field(line, start, end, &self.marks.quotes, row) {
                    return false;
                }
                start = end + 1;
                ends &= ends - 1;
            }
        }
        field(line, start, line.len(), &self.marks.quotes, row)
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

/// Puts `line[start..end]` in `row` when it is a plain field (see
/// [`Splitter::plain`]); `quotes` marks the line's quotes.
#[inline(always)]
fn field(line: &[u8], start: usize, end: usize, quotes: &[u64], row: &mut Row) -> bool {
    // Nearly every field is at most 64 bytes, bare or quoted without a
    // quote inside: the two words of the masks it lies in say so at once.
    let len = end - start;
    if len <= 64 {
        let word = |i: usize| u128::from(quotes.get(i).copied().unwrap_or_default());
        let pair = word(start / 64) | word(start / 64 + 1) << 64;
        let bits = (pair >> (start % 64)) as u64 & (u64::MAX >> (64 - len.max(1)));
        if bits == 0 {
            row.spans.push((start, end));
            return true;
        }
        if len >= 2 && bits == 1 | 1 << (len - 1) {
            row.spans.push((start + 1, end - 1));
            return true;
        }
    }
    field_by_marks(line, start, end, quotes, row)
}

/// [`field`] for any field: quotes inside, a CRLF line's `\r`, masks
/// straddled.
#[inline(never)]
fn field_by_marks(line: &[u8], start: usize, end: usize, quotes: &[u64], row: &mut Row) -> bool {
    let Some(open) = next_mark(quotes, start, end) else {
        row.spans.push((start, end));
        return true;
    };
    if open != start {
        // csv keeps a quote inside a field; leave such lines to it.
        return false;
    }
    // The closing quote ends the field, or comes before a CRLF line's `\r`,
    // which csv keeps as text.
    let (close, cr) = match &line[start..end] {
        [_, .., b'"'] => (end - 1, false),
        [_, .., b'"', b'\r'] if end == line.len() => (end - 2, true),
        _ => return false,
    };
    // Quotes between are doubled: each pair stands for one.
    let (mut from, mut undone) = (start + 1, None);
    while let Some(quote) = next_mark(quotes, from, close) {
        if quote + 1 >= close || line[quote + 1] != b'"' {
            return false;
        }
        undone.get_or_insert(row.bytes.len());
        row.bytes.extend_from_slice(&line[from..=quote]);
        from = quote + 2;
    }
    match undone {
        None if !cr => row.spans.push((start + 1, close)),
        _ => {
            let undone = undone.unwrap_or(row.bytes.len());
            row.bytes.extend_from_slice(&line[from..close]);
            if cr {
                row.bytes.push(b'\r');
            }
            row.spans.push((undone, row.bytes.len()));
        }
    }
    true
}

/// The first marked position in `from..to`.
#[inline]
fn next_mark(marks: &[u64], from: usize, to: usize) -> Option<usize> {
    let mut word = from / 64;
    let mut bits = marks.get(word)? & (u64::MAX << (from % 64));
    loop {
        if bits != 0 {
            let at = word * 64 + bits.trailing_zeros() as usize;
            return (at < to).then_some(at);
        }
        word += 1;
        if word * 64 >= to {
            return None;
        }
        bits = *marks.get(word)?;
    }
}

/// A line's quotes, and the commas that end its fields, as bit masks: bit
/// `i % 64` of word `i / 64` stands for byte `i`.
#[derive(Default)]
struct Marks {
    quotes: Vec<u64>,
    ends: Vec<u64>,
}

impl Marks {
    fn read(&mut self, line: &[u8]) {
        self.quotes.clear();
        self.ends.clear();
        // All ones while the bytes read so far leave a quoted field open.
        let mut open = 0u64;
        for block in line.chunks(64) {
            let (quotes, commas) = match block.first_chunk::<64>() {
                Some(whole) => marks(whole),
                None => {
                    let mut padded = [0; 64];
                    padded[..block.len()].copy_from_slice(block);
                    marks(&padded)
                }
            };
            let quoted = odd_prefix(quotes) ^ open;
            open = 0u64.wrapping_sub(quoted >> 63);
            self.quotes.push(quotes);
            self.ends.push(commas & !quoted);
        }
    }
}

/// Bit `i` set where bits `0..=i` of `bits` hold an odd number of ones.
#[inline]
fn odd_prefix(mut bits: u64) -> u64 {
    for shift in [1, 2, 4, 8, 16, 32] {
        bits ^= bits << shift;
    }
    bits
}

/// Which bytes of `block` are quotes, and which commas, as bit masks.
#[inline]
#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
fn marks(block: &[u8; 64]) -> (u64, u64) {
    use std::arch::x86_64::{__m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_set1_epi8};
    let (mut quotes, mut commas) = (0u64, 0u64);
    // SAFETY: SSE2 is enabled for this build (the cfg above), so its
    // intrinsics can run; each load reads the 16 bytes of one chunk of
    // `block`, and an unaligned load has no alignment to keep.
    unsafe {
        let (quote, comma) = (_mm_set1_epi8(b'"' as i8), _mm_set1_epi8(b',' as i8));
        for (i, sixteen) in block.chunks_exact(16).enumerate() {
            let bytes = _mm_loadu_si128(sixteen.as_ptr().cast::<__m128i>());
            let mask = |byte| u64::from(_mm_movemask_epi8(_mm_cmpeq_epi8(bytes, byte)) as u16) << (16 * i);
            quotes |= mask(quote);
            commas |= mask(comma);
        }
    }
    (quotes, commas)
}

#[cfg(not(all(target_arch = "x86_64", target_feature = "sse2")))]
fn marks(block: &[u8; 64]) -> (u64, u64) {
    marks_bytewise(block)
}

/// [`marks`] a byte at a time: elsewhere than x86-64, and the tests' check.
#[cfg_attr(all(target_arch = "x86_64", target_feature = "sse2"), allow(dead_code))]
fn marks_bytewise(block: &[u8; 64]) -> (u64, u64) {
    block.iter().enumerate().fold((0, 0), |(quotes, commas), (i, &b)| {
        (quotes | u64::from(b == b'"') << i, commas | u64::from(b == b',') << i)
    })
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

    /// Reads with `splitter` (see [`Splitter::spans_checked`]).
    pub fn with(mut self, splitter: Splitter) -> CsvRows<R> {
        self.splitter = splitter;
        self
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
    fn marks_find_every_quote_and_comma() {
        let mut block = [0u8; 64];
        for round in 0..200u64 {
            for (i, byte) in block.iter_mut().enumerate() {
                let pick = (round * 7919 + i as u64 * 104_729) % 5;
                *byte = [b'"', b',', b'a', 0x80 | b',', b'\n'][pick as usize];
            }
            assert_eq!(marks(&block), marks_bytewise(&block));
        }
        // Quotes at bytes 1, 4 and 7: inside from 1 to 3, and from 7 on.
        assert_eq!(odd_prefix(0b1001_0010), u64::MAX << 7 | 0b1110);
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

        // A real row, its quoted commas past the first 64 bytes, is plain;
        // lines csv reads otherwise are left to csv.
        let (mut splitter, mut row) = (Splitter::default(), Row::default());
        let asterisk = b"\"\",\"4155550100\",\"14155550123\",\"from-internal\",\"\"\"Sales, West\"\" <4155550100>\",\
            \"PJSIP/100-00000001\",\"PJSIP/trunk-00000002\",\"Dial\",\"PJSIP/14155550123@trunk,30,tT\",130,124";
        assert!(splitter.plain(asterisk, &mut row));
        assert_eq!(row.len(), 11);
        assert_eq!(row.get(4), Some(&b"\"Sales, West\" <4155550100>"[..]));
        assert_eq!(row.get(8), Some(&b"PJSIP/14155550123@trunk,30,tT"[..]));
        for awkward in [
            &b"a\"b,c"[..],
            b"\"ab\"c,d",
            b"\"open,x",
            b"\"a\"\",b",
            b"\"",
            b"x,\"a\"\r,y",
        ] {
            assert!(
                !splitter.plain(awkward, &mut row),
                "{:?}",
                String::from_utf8_lossy(awkward)
            );
        }
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

        /// Lines as call-record systems write them, long enough that
        /// fields and quoted commas straddle the 64-byte masks.
        #[test]
        fn written_lines_read_as_csv_reads_them(
            lines in proptest::collection::vec(
                (
                    proptest::collection::vec(
                        (any::<bool>(), "[a-z0-9 ,\"<>.:-]{0,40}"),
                        1..24,
                    ),
                    any::<bool>(),
                ),
                1..6,
            )
        ) {
            let mut bytes = Vec::new();
            for (fields, crlf) in &lines {
                let written: Vec<String> = fields
                    .iter()
                    .map(|(quoted, text)| match quoted {
                        true => format!("\"{}\"", text.replace('"', "\"\"")),
                        false => text.replace(['"', ','], ""),
                    })
                    .collect();
                bytes.extend_from_slice(written.join(",").as_bytes());
                bytes.extend_from_slice(if *crlf { b"\r\n" } else { b"\n" });
            }
            prop_assert_eq!(split(&bytes), by_csv(&bytes));
        }
    }
}
