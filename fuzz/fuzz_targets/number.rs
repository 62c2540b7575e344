//! Any text as a phone number: never a panic, and a valid number written
//! back in E.164 parses to itself.
#![no_main]

use dialguard_core::E164;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    let _ = E164::parse(text);
    if let Ok(number) = E164::parse_valid(text) {
        assert_eq!(E164::parse_valid(&number.to_string()).ok(), Some(number), "{text:?}");
    }
});
