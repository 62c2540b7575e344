//! Any bytes as the body of every JSON endpoint and webhook the server
//! reads (Twilio's form too), and any text as a number, an instant or a
//! query's `at`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    dialguard_server::fuzz::bodies(data);
    dialguard_server::fuzz::twilio_form(data);
    if let Ok(text) = std::str::from_utf8(data) {
        dialguard_server::fuzz::fields(text);
    }
});
