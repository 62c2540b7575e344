//! Any bytes as a label scan: every outcome is an event, a named row error
//! or a file error; never a panic.
#![no_main]

use dialguard_formats::{Format, Options, read_all};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = read_all(Format::Labels, data, &Options::default());
});
