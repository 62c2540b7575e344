//! `POST /v1/acc/kamailio`: a finished call, as a Kamailio proxy in the dial
//! path accounts it (`integrations/kamailio/kamailio.cfg` posts it when the
//! call ends).
//!
//! The fields are Kamailio's own notation, so the proxy's configuration
//! sends what it holds without converting anything:
//! - `callid`: the SIP Call-ID; the same Call-ID twice counts once (source
//!   `kamailio`), so a resend after a lost answer is safe.
//! - `src_user`: the caller id presented (the From user after the proxy put
//!   dialguard's choice there); `dst_user`: the Request-URI user.
//! - `invite_time`, `answer_time` (only when answered), `end_time`: Unix
//!   seconds with an optional fraction, as `$TV(Sn)` prints them
//!   (`"1765123456.123456"`), as a string or a number.
//! - `sip_code`: the final response (200 for an answered call); `sip_reason`:
//!   its reason phrase; `reason`: the final response's `Reason` header
//!   (RFC 3326), e.g. `SIP;cause=603;text="Network Blocked"` or
//!   `Q.850;cause=21`.
//!
//! The outcome: a 2xx is answered, talk time from `answer_time` (or the
//! INVITE) to `end_time`. Any other code goes through the SIP table with its
//! phrase and the Reason header's text, so 603 "Network Blocked" (ATIS
//! 603+), 607 and 608 are blocked-as-unwanted, and 404/410/484/604 an
//! invalid destination. A code the table can only call a network failure
//! takes the Reason header's Q.850 cause when there is one.

use axum::Json;
use axum::extract::State;
use dialguard_core::classify::{self, Cause, Classified, Outcome};
use dialguard_core::{Call, Direction, Source};
use dialguard_formats::{Dialled, judge_caller, judge_dialled};
use jiff::Timestamp;
use serde::Serialize;
use serde_json::Value;

use crate::api::calls::whole_seconds;
use crate::api::events::Recorded;
use crate::app::{AppState, Authed, JsonBody};
use crate::body::{self, Fields, describe};
use crate::error::ApiError;

/// One call as Kamailio's configuration posts it (documentation; the handler
/// reads fields one by one).
#[derive(Serialize, utoipa::ToSchema)]
pub struct KamailioAcc {
    /// The SIP Call-ID.
    #[schema(example = "8f2c41@10.0.0.7")]
    pub callid: String,
    /// The caller id presented (the From user).
    #[schema(example = "+14155550100")]
    pub src_user: String,
    /// The number dialled (the Request-URI user).
    #[schema(example = "+12125550123")]
    pub dst_user: String,
    /// Unix seconds with an optional fraction (`$TV(Sn)`).
    #[schema(example = "1765123456.123456")]
    pub invite_time: String,
    /// When the call was answered, in the same notation; absent otherwise.
    pub answer_time: Option<String>,
    #[schema(example = "1765123516.5")]
    pub end_time: String,
    /// The final SIP response code.
    #[schema(example = 200)]
    pub sip_code: u16,
    /// The final response's reason phrase.
    pub sip_reason: Option<String>,
    /// The final response's `Reason` header (RFC 3326).
    #[schema(example = "SIP;cause=603;text=\"Network Blocked\"")]
    pub reason: Option<String>,
}

#[utoipa::path(post, path = "/v1/acc/kamailio", tag = "ingest",
    request_body = KamailioAcc,
    responses(
        (status = 200, description = "Written, or a duplicate of a Call-ID already held", body = Recorded),
        (status = 400, description = "A field is missing or malformed (named in `field`)", body = crate::error::ErrorBody),
        (status = 401, description = "Missing or unknown token", body = crate::error::ErrorBody),
        (status = 415, description = "A Content-Type that is not JSON", body = crate::error::ErrorBody)))]
pub async fn acc(
    State(state): State<AppState>,
    Authed(tenant): Authed,
    JsonBody(bytes): JsonBody,
) -> Result<Json<Recorded>, ApiError> {
    let value = body::parse(&bytes)?;
    let call = parse_acc(&Fields::of_body(&value)?)?;
    crate::webhooks::record_call(&state, tenant, call).await
}

/// The call one accounting record describes.
pub fn parse_acc(f: &Fields) -> Result<Call, ApiError> {
    let callid = f.required_text("callid")?.trim().to_owned();
    let from = judge_caller(f.required_str("src_user")?, &f.name("src_user"))
        .map_err(|why| ApiError::field(f.name("src_user"), why))?;
    let to = judge_dialled(f.required_str("dst_user")?, &f.name("dst_user"))
        .map_err(|why| ApiError::field(f.name("dst_user"), why))?;
    let invited = required_unix(f, "invite_time")?;
    let answered = unix(f, "answer_time")?;
    let ended = required_unix(f, "end_time")?;
    f.call_span(
        ("invite_time", invited),
        answered.map(|a| ("answer_time", a)),
        ("end_time", ended),
    )?;
    let sip_code = f.optional_code("sip_code", 100..=699)?.ok_or_else(|| {
        f.invalid(
            "sip_code",
            "is missing (the final SIP response code, 200 when answered)",
        )
    })?;
    let phrase = f.optional_str("sip_reason")?.unwrap_or_default();
    let header = f.optional_str("reason")?.map(ReasonHeader::parse).unwrap_or_default();
    f.refuse_misspelled()?;
    let classified = match to {
        Dialled::Invalid(_) => Classified {
            outcome: Outcome::InvalidDestination,
            cause: Cause::Unallocated,
        },
        Dialled::Valid(_) => classify_final(sip_code, phrase, &header),
    };
    let to = match to {
        Dialled::Valid(n) | Dialled::Invalid(n) => n,
    };
    let talking = classified.outcome == Outcome::Answered;
    let talk_from = answered.unwrap_or(invited);
    Ok(Call {
        from,
        to,
        direction: Direction::Outbound,
        started_at: invited,
        answered_at: answered.filter(|_| talking),
        ended_at: ended,
        talk_seconds: if talking { whole_seconds(talk_from, ended) } else { 0 },
        outcome: classified.outcome,
        cause: classified.cause,
        source: Source::Kamailio,
        source_id: callid,
    })
}

/// The outcome of a final response: its code and phrase through the SIP
/// table, the Reason header's Q.850 cause where the code alone says nothing.
fn classify_final(code: u16, phrase: &str, header: &ReasonHeader) -> Classified {
    let words = format!("{phrase} {}", header.text);
    let by_sip = classify::sip(code, Some(&words));
    match header.q850 {
        Some(cause)
            if by_sip
                == (Classified {
                    outcome: Outcome::NetworkFailure,
                    cause: Cause::Unspecified,
                }) =>
        {
            classify::q850(cause, false)
        }
        _ => by_sip,
    }
}

/// What a `Reason` header (RFC 3326) says: its texts, and a Q.850 cause.
#[derive(Debug, Default, PartialEq, Eq)]
struct ReasonHeader {
    text: String,
    q850: Option<u16>,
}

impl ReasonHeader {
    /// `SIP ;cause=603 ;text="Network Blocked", Q.850;cause=21`: values are
    /// split on commas outside quotes, parameters on semicolons.
    fn parse(header: &str) -> ReasonHeader {
        let mut out = ReasonHeader::default();
        for value in split_outside_quotes(header, ',') {
            let mut parts = split_outside_quotes(value, ';').into_iter();
            let protocol = parts.next().unwrap_or_default().trim().to_ascii_uppercase();
            for param in parts {
                let Some((name, val)) = param.split_once('=') else {
                    continue;
                };
                let val = val.trim().trim_matches('"');
                match name.trim().to_ascii_lowercase().as_str() {
                    "text" => {
                        out.text.push(' ');
                        out.text.push_str(val);
                    }
                    "cause" if protocol == "Q.850" => out.q850 = val.parse().ok().filter(|c| *c <= 127),
                    _ => {}
                }
            }
        }
        out
    }
}

fn split_outside_quotes(text: &str, separator: char) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut quoted = false;
    let mut start = 0;
    for (i, ch) in text.char_indices() {
        match ch {
            '"' => quoted = !quoted,
            c if c == separator && !quoted => {
                parts.push(&text[start..i]);
                start = i + c.len_utf8();
            }
            _ => {}
        }
    }
    parts.push(&text[start..]);
    parts
}

fn required_unix(f: &Fields, key: &'static str) -> Result<Timestamp, ApiError> {
    unix(f, key)?.ok_or_else(|| f.invalid(key, "is missing (Unix seconds, as $TV(Sn) prints them)"))
}

/// Unix seconds with an optional fraction of up to nine digits, from a
/// string or a JSON number.
fn unix(f: &Fields, key: &'static str) -> Result<Option<Timestamp>, ApiError> {
    let text = match f.value(key) {
        None => return Ok(None),
        Some(Value::String(s)) => s.trim().to_owned(),
        Some(Value::Number(n)) => n.to_string(),
        Some(other) => {
            return Err(f.invalid(key, format!("must be Unix seconds, not {}", describe(other))));
        }
    };
    parse_unix(&text).map(Some).map_err(|why| f.invalid(key, why))
}

fn parse_unix(text: &str) -> Result<Timestamp, String> {
    let wrong = || format!("{text:?} is not Unix seconds (digits, optionally a fraction: \"1765123456.123456\")");
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    if whole.is_empty() || !whole.bytes().all(|b| b.is_ascii_digit()) || fraction.len() > 9 {
        return Err(wrong());
    }
    if !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return Err(wrong());
    }
    let seconds: i64 = whole.parse().map_err(|_| wrong())?;
    let nanos: i32 = if fraction.is_empty() {
        0
    } else {
        format!("{fraction:0<9}").parse().map_err(|_| wrong())?
    };
    Timestamp::new(seconds, nanos).map_err(|_| format!("{text:?} is out of range for an instant"))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn acc(body: Value) -> Result<Call, (Option<String>, String)> {
        parse_acc(&Fields::of_body(&body).unwrap()).map_err(|e| (e.field, e.message))
    }

    fn record(extra: Value) -> Value {
        let mut b = json!({"callid": "a84b4c76e66710@pc33", "src_user": "+14155550100",
            "dst_user": "+12125550123", "invite_time": "1765123456.250000",
            "end_time": "1765123460.75", "sip_code": 486, "sip_reason": "Busy Here"});
        for (k, v) in extra.as_object().unwrap() {
            b[k] = v.clone();
        }
        b
    }

    #[test]
    fn an_answered_call_talks_from_its_answer_to_its_end() {
        let call = acc(record(json!({"sip_code": 200, "sip_reason": "OK",
            "answer_time": 1765123458.25, "end_time": "1765123500.25"})))
        .unwrap();
        assert_eq!(call.outcome, Outcome::Answered);
        assert_eq!(call.talk_seconds, 42);
        assert_eq!(call.started_at, Timestamp::new(1_765_123_456, 250_000_000).unwrap());
        assert_eq!(
            call.answered_at,
            Some(Timestamp::new(1_765_123_458, 250_000_000).unwrap())
        );
        assert_eq!(
            (call.source, call.source_id.as_str()),
            (Source::Kamailio, "a84b4c76e66710@pc33")
        );
        assert_eq!(call.from.to_string(), "+14155550100");
    }

    #[test]
    fn final_responses_map_as_the_carrier_meant_them() {
        let cases: [(u16, &str, Option<&str>, Outcome, Cause); 9] = [
            (486, "Busy Here", None, Outcome::Busy, Cause::Unspecified),
            (404, "Not Found", None, Outcome::InvalidDestination, Cause::Unallocated),
            (410, "Gone", None, Outcome::InvalidDestination, Cause::Disconnected),
            (
                604,
                "Does Not Exist Anywhere",
                None,
                Outcome::InvalidDestination,
                Cause::Unallocated,
            ),
            (603, "Network Blocked", None, Outcome::Rejected, Cause::BlockedCaller),
            // 603+ with a generic phrase: the Reason header says it.
            (
                603,
                "Decline",
                Some("SIP;cause=603;text=\"Network Blocked\""),
                Outcome::Rejected,
                Cause::BlockedCaller,
            ),
            (603, "Decline", None, Outcome::Rejected, Cause::Declined),
            (608, "Rejected", None, Outcome::Rejected, Cause::BlockedCaller),
            // A 500 whose Reason names an unallocated number.
            (
                500,
                "Server Internal Error",
                Some("Q.850;cause=1;text=\"Unallocated\""),
                Outcome::InvalidDestination,
                Cause::Unallocated,
            ),
        ];
        for (code, phrase, reason, outcome, cause) in cases {
            let mut body = record(json!({"sip_code": code, "sip_reason": phrase}));
            if let Some(reason) = reason {
                body["reason"] = json!(reason);
            }
            let call = acc(body).unwrap();
            assert_eq!(
                (call.outcome, call.cause),
                (outcome, cause),
                "{code} {phrase} {reason:?}"
            );
            assert_eq!(call.talk_seconds, 0);
        }
    }

    #[test]
    fn the_sip_code_may_come_as_text_as_a_proxy_prints_it() {
        let call = acc(record(json!({"sip_code": "487", "sip_reason": "Request Terminated"}))).unwrap();
        assert_eq!(call.outcome, Outcome::NoAnswer);
    }

    #[test]
    fn malformed_records_name_their_field() {
        let cases: [(Value, &str); 10] = [
            (json!({"callid": ""}), "callid"),
            (json!({"callid": null}), "callid"),
            (json!({"src_user": "nobody"}), "src_user"),
            (json!({"invite_time": "yesterday"}), "invite_time"),
            (json!({"invite_time": "-5"}), "invite_time"),
            (json!({"end_time": "1765123456.1234567891"}), "end_time"),
            (json!({"end_time": "1765123400"}), "end_time"),
            (json!({"answer_time": "1765123999"}), "answer_time"),
            (json!({"sip_code": 99}), "sip_code"),
            (json!({"sip_code": null}), "sip_code"),
        ];
        for (extra, field) in cases {
            let (named, message) = acc(record(extra.clone())).unwrap_err();
            assert_eq!(named.as_deref(), Some(field), "{extra}: {message}");
        }
        let (named, message) = acc(record(json!({"sip_reson": "Busy"}))).unwrap_err();
        assert_eq!(named.as_deref(), Some("sip_reson"), "{message}");
    }

    #[test]
    fn a_dead_number_that_libphonenumber_refuses_counts_as_an_invalid_destination() {
        let call = acc(record(
            json!({"dst_user": "+1212555", "sip_code": 200, "answer_time": "1765123457"}),
        ))
        .unwrap();
        assert_eq!(call.outcome, Outcome::InvalidDestination);
    }

    #[test]
    fn reason_headers_split_on_commas_outside_quotes() {
        let h = ReasonHeader::parse("SIP ;cause=603 ;text=\"Network, Blocked\", Q.850;cause=21");
        assert_eq!(h.q850, Some(21));
        assert_eq!(h.text.trim(), "Network, Blocked");
        assert_eq!(ReasonHeader::parse("garbage"), ReasonHeader::default());
    }
}
