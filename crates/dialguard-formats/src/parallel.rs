//! Converting CSV rows on several threads, results still in file order.
//!
//! Splitting a row into fields is a fraction of the work; judging numbers
//! and times is the rest. So the caller's thread reads the file into
//! batches of records and hands them to workers, each with its own
//! converter; finished batches come back tagged with their place in the
//! file and reach the sink in that order, on the caller's thread (the sink
//! need not be `Send`). At most a few batches are in flight, so memory stays
//! flat however large the file.

use std::collections::BTreeMap;
use std::io::Read;
use std::sync::{Mutex, mpsc};

use csv::ByteRecord;
use dialguard_core::Event;

use crate::columns::CsvRows;
use crate::{Emitter, FileError, RowError};

/// Records per batch: large enough that channel traffic is noise, small
/// enough that a batch fits in cache.
const BATCH: usize = 1024;

/// Turns one record into an event; one per worker.
pub(crate) trait Convert: Send {
    fn convert(&mut self, record: &ByteRecord) -> Result<Event, String>;
}

#[derive(Default)]
struct Batch {
    records: Vec<(u64, ByteRecord)>,
    len: usize,
}

type Results = Vec<Result<Event, RowError>>;

/// Reads `rows` to the end, converting on `threads` workers made by `make`;
/// `skip_first` drops a leading record (a header) before any conversion.
pub(crate) fn convert_rows<R: Read, C: Convert>(
    mut rows: CsvRows<R>,
    threads: usize,
    make: impl Fn() -> C + Sync,
    skip_first: impl Fn(&ByteRecord) -> bool,
    out: &mut Emitter,
) -> Result<(), FileError> {
    let (work_tx, work_rx) = mpsc::sync_channel::<(u64, Batch)>(threads * 2);
    let work_rx = Mutex::new(work_rx);
    let (done_tx, done_rx) = mpsc::channel::<(u64, Batch, Results)>();
    std::thread::scope(|scope| {
        for _ in 0..threads {
            let (work_rx, done_tx, make) = (&work_rx, done_tx.clone(), &make);
            scope.spawn(move || {
                let mut converter = make();
                loop {
                    let job = work_rx.lock().map_err(drop).and_then(|rx| rx.recv().map_err(drop));
                    let Ok((seq, batch)) = job else { return };
                    let results = batch.records[..batch.len]
                        .iter()
                        .map(|(line, record)| converter.convert(record).map_err(|why| RowError::at_line(*line, why)))
                        .collect();
                    if done_tx.send((seq, batch, results)).is_err() {
                        return;
                    }
                }
            });
        }
        drop(done_tx);
        let mut order = InOrder::default();
        let mut first = true;
        let result = (|| -> Result<(), FileError> {
            loop {
                let mut batch = order.spare.pop().unwrap_or_default();
                batch.len = 0;
                let mut ended = false;
                while batch.len < BATCH {
                    if batch.len == batch.records.len() {
                        batch.records.push((0, ByteRecord::new()));
                    }
                    let (line, record) = &mut batch.records[batch.len];
                    match rows.next(record)? {
                        None => {
                            ended = true;
                            break;
                        }
                        Some(_) if std::mem::take(&mut first) && skip_first(record) => {}
                        Some(at) => {
                            *line = at;
                            batch.len += 1;
                        }
                    }
                }
                if batch.len > 0 {
                    // Workers only stop when this sender is dropped.
                    work_tx.send((order.sent, batch)).expect("workers outlive the reader");
                    order.sent += 1;
                }
                while order.in_flight() > threads * 2 || (ended && order.in_flight() > 0) {
                    let done = done_rx.recv().expect("a worker died converting a batch");
                    order.finish(done, out);
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

/// Finished batches waiting for their turn.
#[derive(Default)]
struct InOrder {
    sent: u64,
    emitted: u64,
    waiting: BTreeMap<u64, Results>,
    spare: Vec<Batch>,
}

impl InOrder {
    fn in_flight(&self) -> usize {
        (self.sent - self.emitted) as usize
    }

    fn finish(&mut self, (seq, batch, results): (u64, Batch, Results), out: &mut Emitter) {
        self.spare.push(batch);
        self.waiting.insert(seq, results);
        while let Some(results) = self.waiting.remove(&self.emitted) {
            results.into_iter().for_each(|r| out.emit(r));
            self.emitted += 1;
        }
    }
}
