//! Any bytes as an Asterisk `Master.csv`: no panic, and the parallel reader
//! agrees with the sequential one on every event and row error.
#![no_main]

use dialguard_formats::{Format, Options, read, read_parallel};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let options = Options::default();
    let mut sequential = Vec::new();
    let one = read(Format::Asterisk, data, &options, &mut |r| {
        sequential.push(format!("{r:?}"))
    });
    let mut parallel = Vec::new();
    let two = read_parallel(Format::Asterisk, data, &options, 2, &mut |r| {
        parallel.push(format!("{r:?}"))
    });
    assert_eq!(format!("{one:?}"), format!("{two:?}"));
    assert_eq!(sequential, parallel);
});
