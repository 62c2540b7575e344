//! `POST /v1/webhooks/telnyx`: Telnyx Call Control's `call.hangup` event.
//!
//! Authenticity: Telnyx signs `"{telnyx-timestamp}|{body}"` with ed25519
//! and sends the base64 signature in `telnyx-signature-ed25519`; the
//! account's public key (config `telnyx.public_key`) verifies it. A
//! timestamp more than five minutes from the machine's clock is refused, so
//! a captured request cannot be replayed later.
//!
//! The call (source `telnyx`, id `call_leg_id`): `from`, `to`, `direction`
//! (`outgoing`/`incoming`), `start_time`, `end_time`. The outcome comes from
//! `sip_hangup_cause` when it is a failure code (through the SIP table),
//! otherwise from `hangup_cause`, whose names are FreeSWITCH's hangup causes
//! in lower case (through the same table as FreeSWITCH CDRs), with Telnyx's
//! own `timeout`, `time_limit`, `not_found` and `busy`. The event does not
//! say when the call was answered, so an answered call's talk time is taken
//! from start to end (ringing included). Other event types are acknowledged
//! and ignored.

use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use base64::Engine as _;
use dialguard_core::classify::{self, Cause, Classified, Outcome};
use dialguard_core::{Call, Direction, Source};
use dialguard_formats::{Dialled, judge_caller, judge_dialled};
use ed25519_dalek::{Signature, VerifyingKey};

use super::{ignored, record_call};
use crate::api::events::Recorded;
use crate::app::{AppState, Body};
use crate::body::{self, Fields};
use crate::config::DEFAULT_TENANT;
use crate::error::ApiError;

/// How far a signed timestamp may be from the machine's clock.
const TOLERANCE_SECS: i64 = 300;

/// Checks a Telnyx signature over `timestamp|body`.
pub fn verify(key: &VerifyingKey, timestamp: &str, body: &[u8], signature_b64: &str) -> Result<(), String> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(signature_b64.trim())
        .map_err(|_| "telnyx-signature-ed25519 is not base64".to_owned())?;
    let signature =
        Signature::from_slice(&bytes).map_err(|_| "telnyx-signature-ed25519 is not an ed25519 signature".to_owned())?;
    let mut message = Vec::with_capacity(timestamp.len() + 1 + body.len());
    message.extend_from_slice(timestamp.as_bytes());
    message.push(b'|');
    message.extend_from_slice(body);
    key.verify_strict(&message, &signature)
        .map_err(|_| "telnyx-signature-ed25519 does not match the body: check telnyx.public_key".to_owned())
}

fn authenticate(state: &AppState, headers: &HeaderMap, body: &[u8]) -> Result<String, ApiError> {
    let key = match &state.config.telnyx {
        Some(config) => match &config.public_key {
            Some(key) => Some((key, config.tenant.clone())),
            None if state.open() => return Ok(config.tenant.clone()),
            None => None,
        },
        None if state.open() => return Ok(DEFAULT_TENANT.to_owned()),
        None => None,
    };
    let Some((key, tenant)) = key else {
        return Err(ApiError::forbidden(
            "Telnyx webhooks need telnyx.public_key in the server's config when API tokens are in use",
        ));
    };
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let (Some(signature), Some(timestamp)) = (header("telnyx-signature-ed25519"), header("telnyx-timestamp")) else {
        return Err(ApiError::forbidden(
            "telnyx-signature-ed25519 and telnyx-timestamp are required: only Telnyx may post here",
        ));
    };
    let sent: i64 = timestamp
        .trim()
        .parse()
        .map_err(|_| ApiError::forbidden("telnyx-timestamp is not a Unix time in seconds"))?;
    if (jiff::Timestamp::now().as_second() - sent).abs() > TOLERANCE_SECS {
        return Err(ApiError::forbidden(
            "telnyx-timestamp is more than 5 minutes from this machine's clock: a replayed request, or a clock to fix",
        ));
    }
    verify(key, timestamp.trim(), body, signature).map_err(ApiError::forbidden)?;
    Ok(tenant)
}

#[utoipa::path(post, path = "/v1/webhooks/telnyx", tag = "webhooks",
    request_body(content = Object, description = "A Telnyx Call Control webhook: {\"data\": {\"event_type\": \"call.hangup\", \"payload\": {…}}}"),
    responses(
        (status = 200, description = "Recorded (or ignored: another event type)", body = Recorded),
        (status = 400, description = "Malformed event", body = crate::error::ErrorBody),
        (status = 403, description = "Signature missing or wrong", body = crate::error::ErrorBody)))]
pub async fn hangup(
    State(state): State<AppState>,
    headers: HeaderMap,
    Body(bytes): Body,
) -> Result<Json<Recorded>, ApiError> {
    let tenant_name = authenticate(&state, &headers, &bytes)?;
    let tenant = state
        .tenant(&tenant_name)
        .ok_or_else(|| ApiError::unavailable(format!("tenant {tenant_name} is not loaded")))?;
    let value = body::parse(&bytes)?;
    let envelope = Fields::of_body(&value)?;
    let data_value = envelope
        .value("data")
        .ok_or_else(|| envelope.invalid("data", "is missing"))?;
    let data = Fields::at(data_value, "data".into())?;
    if data.required_str("event_type")? != "call.hangup" {
        return Ok(ignored());
    }
    let payload_value = data
        .value("payload")
        .ok_or_else(|| data.invalid("payload", "is missing"))?;
    let payload = Fields::at(payload_value, "data.payload".into())?;
    let call = parse_hangup(&payload, data.optional_str("id")?)?;
    record_call(&state, tenant, call).await
}

/// The call a `call.hangup` payload describes.
pub fn parse_hangup(p: &Fields, event_id: Option<&str>) -> Result<Call, ApiError> {
    let source_id = ["call_leg_id", "call_session_id", "call_control_id"]
        .into_iter()
        .find_map(|key| p.optional_str(key).ok().flatten().filter(|s| !s.trim().is_empty()))
        .or(event_id)
        .ok_or_else(|| p.invalid("call_leg_id", "is missing: the event does not identify its call"))?
        .trim()
        .to_owned();
    let direction = match p.optional_str("direction")?.map(str::trim) {
        None | Some("outgoing") | Some("outbound") => Direction::Outbound,
        Some("incoming") | Some("inbound") => Direction::Inbound,
        Some(other) => return Err(p.invalid("direction", format!("{other:?} is neither outgoing nor incoming"))),
    };
    let from =
        judge_caller(p.required_str("from")?, &p.name("from")).map_err(|why| ApiError::field(p.name("from"), why))?;
    let to_text = p.required_str("to")?;
    let to = match direction {
        Direction::Outbound => {
            judge_dialled(to_text, &p.name("to")).map_err(|why| ApiError::field(p.name("to"), why))?
        }
        Direction::Inbound => {
            Dialled::Valid(judge_caller(to_text, &p.name("to")).map_err(|why| ApiError::field(p.name("to"), why))?)
        }
    };
    let started_at = p.required_instant("start_time")?;
    let ended_at = p.required_instant("end_time")?;
    p.call_span(("start_time", started_at), None, ("end_time", ended_at))?;
    let sip_code = p
        .optional_str("sip_hangup_cause")?
        .and_then(|s| s.trim().parse::<u16>().ok())
        .filter(|c| (100..=699).contains(c));
    let cause = p.optional_str("hangup_cause")?.unwrap_or_default();
    let classified = match (to, classify_hangup(cause, sip_code)) {
        (Dialled::Invalid(_), _) => Classified {
            outcome: Outcome::InvalidDestination,
            cause: Cause::Unallocated,
        },
        (Dialled::Valid(_), c) => c,
    };
    let to = match to {
        Dialled::Valid(n) | Dialled::Invalid(n) => n,
    };
    let answered = matches!(classified.outcome, Outcome::Answered | Outcome::Voicemail);
    let talk = crate::api::calls::whole_seconds(started_at, ended_at);
    Ok(Call {
        from,
        to,
        direction,
        started_at,
        answered_at: None,
        ended_at,
        talk_seconds: if answered { talk } else { 0 },
        outcome: classified.outcome,
        cause: classified.cause,
        source: Source::Telnyx,
        source_id,
    })
}

/// The outcome rules of the module docs.
pub fn classify_hangup(cause: &str, sip_code: Option<u16>) -> Classified {
    if let Some(code) = sip_code.filter(|&c| c >= 300) {
        return classify::sip(code, None);
    }
    let cause = cause.trim().to_ascii_lowercase();
    let plain = |outcome| Classified {
        outcome,
        cause: Cause::Unspecified,
    };
    match cause.as_str() {
        "timeout" | "no_answer" => plain(Outcome::NoAnswer),
        "time_limit" => plain(Outcome::Answered),
        "busy" => plain(Outcome::Busy),
        "not_found" => classify::q850(1, false),
        "" | "unspecified" if sip_code == Some(200) => plain(Outcome::Answered),
        "" | "unspecified" => plain(Outcome::NetworkFailure),
        name => {
            let answered = sip_code == Some(200) || matches!(name, "normal_clearing");
            classify::freeswitch(&name.to_ascii_uppercase(), answered).unwrap_or_else(|| plain(Outcome::NetworkFailure))
        }
    }
}

#[cfg(test)]
mod tests {
    use ed25519_dalek::{Signer, SigningKey};
    use serde_json::json;

    use super::*;

    #[test]
    fn hangup_causes_map_through_the_shared_tables() {
        let cases: [(&str, Option<u16>, Outcome, Cause); 9] = [
            ("normal_clearing", None, Outcome::Answered, Cause::Unspecified),
            ("normal_clearing", Some(200), Outcome::Answered, Cause::Unspecified),
            ("originator_cancel", Some(487), Outcome::NoAnswer, Cause::Unspecified),
            ("user_busy", Some(486), Outcome::Busy, Cause::Unspecified),
            ("call_rejected", Some(608), Outcome::Rejected, Cause::BlockedCaller),
            ("call_rejected", None, Outcome::Rejected, Cause::Declined),
            (
                "unallocated_number",
                None,
                Outcome::InvalidDestination,
                Cause::Unallocated,
            ),
            ("timeout", None, Outcome::NoAnswer, Cause::Unspecified),
            ("not_found", None, Outcome::InvalidDestination, Cause::Unallocated),
        ];
        for (cause, sip, outcome, detail) in cases {
            assert_eq!(
                classify_hangup(cause, sip),
                Classified { outcome, cause: detail },
                "{cause} {sip:?}"
            );
        }
    }

    #[test]
    fn reads_a_hangup_payload() {
        let payload = json!({
            "call_leg_id": "428c31b6-7af4-4bcb-b7f5-5013ef9657c1",
            "from": "+14155550100", "to": "+12125550123", "direction": "outgoing",
            "hangup_cause": "normal_clearing", "sip_hangup_cause": "200",
            "start_time": "2026-03-02T22:20:27.521992Z", "end_time": "2026-03-02T22:22:27.521992Z"
        });
        let call = parse_hangup(&Fields::at(&payload, "data.payload".into()).unwrap(), None).unwrap();
        assert_eq!(
            (call.outcome, call.talk_seconds, call.source),
            (Outcome::Answered, 120, Source::Telnyx)
        );
        assert_eq!(call.source_id, "428c31b6-7af4-4bcb-b7f5-5013ef9657c1");
        let mut bad = payload.clone();
        bad["end_time"] = json!("later");
        let e = parse_hangup(&Fields::at(&bad, "data.payload".into()).unwrap(), None).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("data.payload.end_time"));
    }

    #[test]
    fn signatures_cover_timestamp_and_body() {
        let signing = SigningKey::from_bytes(&[7u8; 32]);
        let key = signing.verifying_key();
        let body = br#"{"data":{"event_type":"call.hangup"}}"#;
        let sign = |ts: &str, body: &[u8]| {
            let mut m = ts.as_bytes().to_vec();
            m.push(b'|');
            m.extend_from_slice(body);
            base64::engine::general_purpose::STANDARD.encode(signing.sign(&m).to_bytes())
        };
        let good = sign("1772489000", body);
        assert_eq!(verify(&key, "1772489000", body, &good), Ok(()));
        assert!(verify(&key, "1772489001", body, &good).is_err(), "another timestamp");
        assert!(verify(&key, "1772489000", b"{}", &good).is_err(), "another body");
        assert!(verify(&key, "1772489000", body, "AAAA").is_err(), "not a signature");
    }
}
