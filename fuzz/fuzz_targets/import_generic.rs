//! Any bytes as a generic CSV read through the documented column map.
#![no_main]

use dialguard_formats::{ColumnMap, Format, Options, read_all};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let map =
        "id=Call ID,from=Caller,to=Dialed,started_at=Start,answered_at=Answer,ended_at=End,outcome=Result,sip_code=SIP"
            .parse::<ColumnMap>()
            .unwrap();
    let options = Options {
        map: Some(map),
        ..Options::default()
    };
    let _ = read_all(Format::Generic, data, &options);
});
