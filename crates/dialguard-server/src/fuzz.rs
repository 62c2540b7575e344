//! Entry points for the fuzz targets in `fuzz/` (`cargo fuzz run
//! api_bodies`): the parsers each endpoint runs on a body or a field,
//! without a server. Not part of the API.

use crate::body::{self, Fields};

/// `bytes` as the body of every JSON endpoint and webhook: each parser
/// answers a value or an error, never a panic.
pub fn bodies(bytes: &[u8]) {
    let Ok(value) = body::parse(bytes) else {
        return;
    };
    let _ = crate::api::calls::parse_body(&value);
    let Ok(f) = Fields::of_body(&value) else {
        return;
    };
    let _ = crate::api::kamailio::parse_acc(&f);
    let _ = crate::api::events::parse_complaint(&f);
    let _ = crate::api::events::parse_label(&f);
    let _ = crate::api::events::parse_opt_out(&f);
    let _ = crate::api::events::parse_consent(&f);
    let _ = crate::webhooks::telnyx::parse_hangup(&f, None);
    let _ = f.refuse_misspelled();
}

/// `bytes` as a Twilio status callback's form: answered a call, "not
/// final", or an error; never a panic.
pub fn twilio_form(bytes: &[u8]) {
    let params: Vec<(String, String)> = form_urlencoded::parse(bytes).into_owned().collect();
    let _ = crate::webhooks::twilio::parse_callback(&params, jiff::Timestamp::UNIX_EPOCH);
}

/// `text` as each kind of field: an instant, a number, a number in a path,
/// a query's `at`.
pub fn fields(text: &str) {
    let _ = body::parse_instant(text);
    let _ = body::parse_number(text);
    let _ = crate::api::numbers::path_number(text);
    let _ = crate::api::numbers::query_at(Some(text));
}
