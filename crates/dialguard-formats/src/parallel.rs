//! Reading CSV on several threads, results still in file order.
//!
//! The caller's thread cuts the file into blocks of whole lines and hands
//! each to a worker, which splits it into records and converts them with
//! its own converter. Finished blocks come back tagged with their place in
//! the file and reach the sink in that order, on the caller's thread (the
//! sink need not be `Send`). At most a few blocks are in flight, so memory
//! stays flat however large the file. Cutting costs the reading thread a
//! search for the block's last line break and a count of its line breaks,
//! so nearly all the work, splitting fields included, is spread.
//!
//! A cut is only right where a record ends. A line break can also sit
//! inside a quoted field, and a block cut there ends in an unterminated
//! quoted field whose text holds that break. So a worker reports any field
//! holding a line break, and from the first block that has one the file is
//! read on the caller's thread alone, from that block's first byte, exactly
//! as [`crate::read`] reads it. Call records almost never carry line breaks
//! in a field, so in practice every block is spread.

use std::collections::BTreeMap;
use std::io::{Cursor, Read};
use std::sync::{Mutex, mpsc};

use dialguard_core::Event;

use crate::split::{CsvRows, Next, Place, Row, Splitter};
use crate::{Emitter, FileError, RowError};

/// Bytes per block: large enough that channel traffic is noise, small
/// enough that a block stays in cache.
const BLOCK: usize = 256 << 10;

/// Turns one record into an event; one per worker.
pub(crate) trait Convert: Send {
    fn convert(&mut self, record: &Row) -> Result<Event, String>;

    /// The splitter for the format's records (see
    /// [`Splitter::spans_checked`]); by default any record CSV reads.
    fn splitter(&self) -> Splitter {
        Splitter::default()
    }
}

type Results = Vec<Result<Event, RowError>>;

/// Whole lines of the file, from line `first_line` on, and once converted
/// their results. Both buffers are used again for later blocks.
#[derive(Default)]
struct Block {
    seq: u64,
    first_line: u64,
    bytes: Vec<u8>,
    results: Results,
}

/// A block converted; `whole` is false when a field in it holds a line
/// break (the block must be read again in one piece with the rest).
struct Done {
    block: Block,
    whole: bool,
}

/// Reads `input` to the end, converting on `threads` workers made by `make`;
/// `skip_first` drops a leading record (a header) before any conversion.
pub(crate) fn convert_rows<R: Read, C: Convert>(
    input: R,
    threads: usize,
    make: impl Fn() -> C + Sync,
    skip_first: impl Fn(&Row) -> bool + Sync,
    out: &mut Emitter,
) -> Result<(), FileError> {
    convert_rows_in(BLOCK, input, threads, make, skip_first, out)
}

/// [`convert_rows`] in blocks of about `block` bytes (tests cut small).
pub(crate) fn convert_rows_in<R: Read, C: Convert>(
    block: usize,
    mut input: R,
    threads: usize,
    make: impl Fn() -> C + Sync,
    skip_first: impl Fn(&Row) -> bool + Sync,
    out: &mut Emitter,
) -> Result<(), FileError> {
    let threads = threads.max(1);
    let (work_tx, work_rx) = mpsc::sync_channel::<Block>(threads * 2);
    let work_rx = Mutex::new(work_rx);
    let (done_tx, done_rx) = mpsc::channel::<Done>();
    std::thread::scope(|scope| {
        for _ in 0..threads {
            let (work_rx, done_tx, make, skip_first) = (&work_rx, done_tx.clone(), &make, &skip_first);
            scope.spawn(move || {
                let mut converter = make();
                let mut split = Split {
                    splitter: converter.splitter(),
                    record: Row::default(),
                };
                loop {
                    let job = work_rx.lock().map_err(drop).and_then(|rx| rx.recv().map_err(drop));
                    let Ok(mut block) = job else { return };
                    let whole = split.convert(&mut block, &mut converter, skip_first);
                    if done_tx.send(Done { block, whole }).is_err() {
                        return;
                    }
                }
            });
        }
        drop(done_tx);
        let mut order = InOrder::default();
        let mut cutter = Cutter::new(block);
        let result = (|| -> Result<(), FileError> {
            loop {
                let mut block = order.spare.pop().unwrap_or_default();
                let bytes = cutter.next(&mut input, std::mem::take(&mut block.bytes))?;
                let ended = bytes.is_none();
                if let Some(bytes) = bytes {
                    block.first_line = cutter.line;
                    cutter.line += memchr::memchr_iter(b'\n', &bytes).count() as u64;
                    block.bytes = bytes;
                    block.seq = order.sent;
                    order.sent += 1;
                    // Workers only stop when this sender is dropped.
                    work_tx.send(block).expect("workers outlive the reader");
                }
                while order.in_flight() > 2 * threads as u64 || (ended && order.in_flight() > 0) {
                    let done = done_rx.recv().expect("a worker died converting a block");
                    if let Some(from) = order.finish(done, out) {
                        // Everything from this block on is read here, in one
                        // piece: the blocks still out come back first.
                        while order.in_flight() > order.waiting.len() as u64 + 1 {
                            let done = done_rx.recv().expect("a worker died converting a block");
                            order.waiting.insert(done.block.seq, done);
                        }
                        let mut rest = from.block.bytes;
                        for (_, later) in std::mem::take(&mut order.waiting) {
                            rest.extend_from_slice(&later.block.bytes);
                        }
                        rest.extend_from_slice(&cutter.carry);
                        let reader = Cursor::new(rest).chain(&mut input);
                        return read_in_one(
                            reader,
                            from.block.seq == 0,
                            from.block.first_line,
                            make(),
                            &skip_first,
                            out,
                        );
                    }
                }
                if ended {
                    return Ok(());
                }
            }
        })();
        drop(work_tx);
        result
    })
}

/// A worker's splitter and record, used again for every block it takes.
struct Split {
    splitter: Splitter,
    record: Row,
}

impl Split {
    /// Splits and converts one block into its results; false when a field
    /// holds a line break.
    fn convert<C: Convert>(
        &mut self,
        block: &mut Block,
        converter: &mut C,
        skip_first: &impl Fn(&Row) -> bool,
    ) -> bool {
        let Split { splitter, record } = self;
        let mut first = block.seq == 0;
        let mut place = Place::start();
        block.results.clear();
        loop {
            let line = match splitter.next(&block.bytes, &mut place, record, true) {
                Next::Record { broken: true, .. } => return false,
                Next::Record { line, .. } => line,
                // A block is all there is to read: it never asks for more.
                Next::End | Next::More => return true,
            };
            if std::mem::take(&mut first) && skip_first(record) {
                continue;
            }
            let line = block.first_line + line - 1;
            let result = converter.convert(record).map_err(|why| RowError::at_line(line, why));
            block.results.push(result);
        }
    }
}

/// Reads `input` on this thread alone, its lines counted from `first_line`;
/// `first` when it starts the file (a header may lead). The whole-file
/// reader, and where a spread read goes on after a block that must be read
/// again.
pub(crate) fn read_in_one<C: Convert>(
    input: impl Read,
    first: bool,
    first_line: u64,
    mut converter: C,
    skip_first: &impl Fn(&Row) -> bool,
    out: &mut Emitter,
) -> Result<(), FileError> {
    let mut rows = CsvRows::new(input).with(converter.splitter());
    let mut record = Row::default();
    let mut first = first;
    while let Some(line) = rows.next(&mut record)? {
        if std::mem::take(&mut first) && skip_first(&record) {
            continue;
        }
        let line = first_line + line - 1;
        out.emit(converter.convert(&record).map_err(|why| RowError::at_line(line, why)));
    }
    Ok(())
}

/// Cuts the input into blocks that end at a line break.
struct Cutter {
    block: usize,
    /// Read past the last cut, the start of the next block.
    carry: Vec<u8>,
    /// The line the next block starts on.
    line: u64,
    ended: bool,
}

impl Cutter {
    fn new(block: usize) -> Cutter {
        Cutter {
            block: block.max(1),
            carry: Vec::new(),
            line: 1,
            ended: false,
        }
    }

    /// The next block, in `bytes` (emptied first), or `None` at the end.
    fn next(&mut self, input: &mut impl Read, mut bytes: Vec<u8>) -> Result<Option<Vec<u8>>, FileError> {
        bytes.clear();
        bytes.append(&mut self.carry);
        let mut want = self.block;
        loop {
            if bytes.len() < want {
                self.fill(input, &mut bytes, want)?;
            }
            if self.ended {
                return Ok((!bytes.is_empty()).then_some(bytes));
            }
            if let Some(at) = memchr::memrchr(b'\n', &bytes) {
                self.carry.extend_from_slice(&bytes[at + 1..]);
                bytes.truncate(at + 1);
                return Ok(Some(bytes));
            }
            // A line longer than a block: read on until it ends.
            want = bytes.len() + self.block;
        }
    }

    /// Reads into `bytes` until it holds `want` bytes or the input ends.
    fn fill(&mut self, input: &mut impl Read, bytes: &mut Vec<u8>, want: usize) -> Result<(), FileError> {
        let missing = want.saturating_sub(bytes.len());
        let read = input.take(missing as u64).read_to_end(bytes).map_err(FileError::Io)?;
        self.ended = read < missing;
        Ok(())
    }
}

/// Finished blocks waiting for their turn.
#[derive(Default)]
struct InOrder {
    sent: u64,
    emitted: u64,
    waiting: BTreeMap<u64, Done>,
    spare: Vec<Block>,
}

impl InOrder {
    fn in_flight(&self) -> u64 {
        self.sent - self.emitted
    }

    /// Emits what is now in order; the first block that must be read again,
    /// if one came up (it and everything after it are not emitted).
    fn finish(&mut self, done: Done, out: &mut Emitter) -> Option<Done> {
        self.waiting.insert(done.block.seq, done);
        while let Some(mut done) = self.waiting.remove(&self.emitted) {
            if !done.whole {
                return Some(done);
            }
            done.block.results.drain(..).for_each(|r| out.emit(r));
            self.spare.push(done.block);
            self.emitted += 1;
        }
        None
    }
}
