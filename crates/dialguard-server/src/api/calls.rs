//! `POST /v1/calls`: call results from a dialer, one call or thousands.
//!
//! The body is one call object, or `{"calls": [...]}` (a bare array is read
//! the same way). In a batch a call that does not parse is rejected by its
//! index and the others land, all in one transaction: 200 with
//! `{"accepted", "duplicates", "rejected": [{"index", "error", "field"}]}`.
//! A single call that does not parse, and a body that is not JSON at all,
//! are 400s. Calls are idempotent by `id` (source `api`).
//!
//! How a call becomes a [`Call`], in the order the rules apply:
//! - `outcome` when given; otherwise `sip_code` through the SIP table,
//!   otherwise `q850` through the Q.850 table, otherwise answered when
//!   `answered_at` is set and `no_answer` when not (all in
//!   `dialguard_core::classify`). A code that agrees with the given
//!   outcome still supplies its cause (`rejected` + 608 is a blocked caller).
//! - A destination of digits that libphonenumber rejects is kept and the
//!   call counts as `invalid_destination` (the importers' rule).
//! - Talk time runs from `answered_at` to `ended_at`; an answered call
//!   without `answered_at` is counted from `started_at`. A call that was not
//!   answered has no talk time.

use axum::Json;
use axum::extract::State;
use dialguard_core::classify::{self, Cause, Classified, Outcome};
use dialguard_core::{Call, Direction, Event, Source};
use dialguard_formats::{Dialled, judge_caller, judge_dialled};
use jiff::Timestamp;
use serde::Serialize;
use serde_json::Value;

use crate::app::{AppState, Authed, JsonBody};
use crate::body::{self, Fields, describe};
use crate::error::ApiError;

/// One call as the API takes it (documentation; the handler reads fields one by one).
#[derive(Serialize, utoipa::ToSchema)]
pub struct CallBody {
    /// The dialer's id for the call: the same id twice counts once.
    pub id: String,
    /// The caller id presented.
    #[schema(example = "+14155550100")]
    pub from: String,
    #[schema(example = "+12125550123")]
    pub to: String,
    /// `outbound` (default) or `inbound`.
    pub direction: Option<String>,
    #[schema(example = "2026-03-02T15:04:05Z")]
    pub started_at: String,
    pub answered_at: Option<String>,
    #[schema(example = "2026-03-02T15:05:40Z")]
    pub ended_at: String,
    /// answered, no_answer, busy, rejected, invalid_destination, network_failure, voicemail.
    pub outcome: Option<String>,
    /// The final SIP response code (100-699).
    pub sip_code: Option<u16>,
    /// The Q.850 cause value (0-127).
    pub q850: Option<u16>,
}

/// `{"calls": [...]}`.
#[derive(Serialize, utoipa::ToSchema)]
pub struct CallBatch {
    pub calls: Vec<CallBody>,
}

/// What an ingest did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct IngestBody {
    /// Records written to the log.
    pub accepted: usize,
    /// Records the log already held (same id), skipped.
    pub duplicates: usize,
    /// Records that did not parse, by their index in the batch.
    pub rejected: Vec<Rejected>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Rejected {
    pub index: usize,
    pub error: String,
    /// The field at fault (`calls[3].ended_at`).
    pub field: Option<String>,
}

#[utoipa::path(post, path = "/v1/calls", tag = "ingest",
    request_body(content = CallBatch, description = "One call object, or {\"calls\": [...]}"),
    responses(
        (status = 200, description = "Written (bad calls of a batch are listed by index)", body = IngestBody),
        (status = 400, description = "Not JSON, or a single call that does not parse", body = crate::error::ErrorBody),
        (status = 413, description = "Larger than the body limit", body = crate::error::ErrorBody)))]
pub async fn ingest(
    State(state): State<AppState>,
    Authed(tenant): Authed,
    JsonBody(bytes): JsonBody,
) -> Result<Json<IngestBody>, ApiError> {
    let value = body::parse(&bytes)?;
    let (calls, rejected) = parse_body(&value)?;
    state.metrics.rejected("call", rejected.len() as u64);
    if let Some(latest) = calls.iter().map(|c| c.ended_at).max() {
        tenant.clock.observe(latest);
    }
    let events: Vec<Event> = calls.into_iter().map(Event::Call).collect();
    let written = if events.is_empty() {
        Default::default()
    } else {
        state.writer.append(tenant, events).await?
    };
    Ok(Json(IngestBody {
        accepted: written.accepted,
        duplicates: written.duplicates,
        rejected,
    }))
}

/// The calls of a body, and the batch entries that did not parse. A single
/// call object that does not parse is an error for the whole body.
pub fn parse_body(value: &Value) -> Result<(Vec<Call>, Vec<Rejected>), ApiError> {
    let items = match value {
        Value::Object(map) if map.contains_key("calls") => match &map["calls"] {
            Value::Array(items) => items,
            other => {
                return Err(ApiError::field(
                    "calls",
                    format!("calls must be an array of call objects, not {}", describe(other)),
                ));
            }
        },
        Value::Array(items) => items,
        Value::Object(_) => {
            let call = parse_call(&Fields::of_body(value)?)?;
            return Ok((vec![call], Vec::new()));
        }
        other => {
            return Err(ApiError::body(format!(
                "the body is {}: send one call object or {{\"calls\": [...]}}",
                describe(other)
            )));
        }
    };
    let mut calls = Vec::with_capacity(items.len());
    let mut rejected = Vec::new();
    for (index, item) in items.iter().enumerate() {
        match Fields::at(item, format!("calls[{index}]")).and_then(|f| parse_call(&f)) {
            Ok(call) => calls.push(call),
            Err(e) => rejected.push(Rejected {
                index,
                error: e.message,
                field: e.field,
            }),
        }
    }
    Ok((calls, rejected))
}

/// One call object.
pub fn parse_call(f: &Fields) -> Result<Call, ApiError> {
    let id = match f.value("id") {
        Some(Value::String(s)) if !s.trim().is_empty() && !s.contains('\0') => s.trim().to_owned(),
        Some(Value::Number(n)) if n.is_u64() || n.is_i64() => n.to_string(),
        Some(Value::String(_)) => {
            return Err(f.invalid("id", "is empty (or holds a NUL): give each call the dialer's own id"));
        }
        Some(other) => return Err(f.invalid("id", format!("must be a string, not {}", describe(other)))),
        None => {
            return Err(f.invalid(
                "id",
                "is missing: give each call the dialer's own id, so a resend counts once",
            ));
        }
    };
    let direction = match f.optional_str("direction")? {
        None => Direction::Outbound,
        Some(d) if d.trim().eq_ignore_ascii_case("outbound") => Direction::Outbound,
        Some(d) if d.trim().eq_ignore_ascii_case("inbound") => Direction::Inbound,
        Some(d) => return Err(f.invalid("direction", format!("{d:?} is neither outbound nor inbound"))),
    };
    let from_text = f.required_str("from")?;
    let from = judge_caller(from_text, &f.name("from")).map_err(|why| ApiError::field(f.name("from"), why))?;
    let to_text = f.required_str("to")?;
    let to = match direction {
        Direction::Outbound => {
            judge_dialled(to_text, &f.name("to")).map_err(|why| ApiError::field(f.name("to"), why))?
        }
        Direction::Inbound => {
            Dialled::Valid(judge_caller(to_text, &f.name("to")).map_err(|why| ApiError::field(f.name("to"), why))?)
        }
    };
    let started_at = f.required_instant("started_at")?;
    let answered_at = f.optional_instant("answered_at")?;
    let ended_at = f.required_instant("ended_at")?;
    f.call_span(
        ("started_at", started_at),
        answered_at.map(|a| ("answered_at", a)),
        ("ended_at", ended_at),
    )?;
    let sip_code = f.optional_code("sip_code", 100..=699)?;
    let q850 = f.optional_code("q850", 0..=127)?;
    let outcome = match f.optional_str("outcome")? {
        None => None,
        Some(name) => Some(Outcome::from_name(name).ok_or_else(|| {
            let all: Vec<&str> = Outcome::ALL.iter().map(|o| o.as_str()).collect();
            f.invalid(
                "outcome",
                format!("{name:?} is not an outcome: use one of {}", all.join(", ")),
            )
        })?),
    };
    let classified = classify_call(outcome, sip_code, q850, answered_at.is_some());
    let (to, classified) = match to {
        Dialled::Valid(n) => (n, classified),
        Dialled::Invalid(n) => (
            n,
            Classified {
                outcome: Outcome::InvalidDestination,
                cause: Cause::Unallocated,
            },
        ),
    };
    let answered = matches!(classified.outcome, Outcome::Answered | Outcome::Voicemail);
    let talk_from = answered_at.unwrap_or(started_at);
    f.refuse_misspelled()?;
    Ok(Call {
        from,
        to,
        direction,
        started_at,
        answered_at: answered_at.filter(|_| answered),
        ended_at,
        talk_seconds: if answered {
            whole_seconds(talk_from, ended_at)
        } else {
            0
        },
        outcome: classified.outcome,
        cause: classified.cause,
        source: Source::Api,
        source_id: id,
    })
}

/// The outcome rules of the module docs.
fn classify_call(outcome: Option<Outcome>, sip_code: Option<u16>, q850: Option<u16>, answered: bool) -> Classified {
    let by_sip = sip_code.map(|code| classify::sip(code, None));
    let by_q850 = q850.map(|cause| classify::q850(cause, answered));
    match outcome {
        Some(outcome) => {
            let cause = [by_sip, by_q850]
                .into_iter()
                .flatten()
                .find(|c| c.outcome == outcome)
                .map_or(Cause::Unspecified, |c| c.cause);
            Classified { outcome, cause }
        }
        None => by_sip.or(by_q850).unwrap_or(Classified {
            outcome: if answered { Outcome::Answered } else { Outcome::NoAnswer },
            cause: Cause::Unspecified,
        }),
    }
}

/// Whole seconds from `from` to `to`, none when `to` comes first.
pub(crate) fn whole_seconds(from: Timestamp, to: Timestamp) -> u32 {
    u32::try_from(to.duration_since(from).as_secs().max(0)).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn call(body: Value) -> Result<Call, (Option<String>, String)> {
        parse_call(&Fields::of_body(&body).unwrap()).map_err(|e| (e.field, e.message))
    }

    fn base() -> Value {
        json!({"id": "c1", "from": "+14155550100", "to": "+12125550123",
               "started_at": "2026-03-02T15:00:00Z", "ended_at": "2026-03-02T15:01:40Z"})
    }

    fn with(extra: Value) -> Value {
        let mut b = base();
        for (k, v) in extra.as_object().unwrap() {
            b[k] = v.clone();
        }
        b
    }

    #[test]
    fn outcome_comes_from_the_first_field_that_says_it() {
        let cases: [(Value, Outcome, Cause, u32); 8] = [
            (json!({}), Outcome::NoAnswer, Cause::Unspecified, 0),
            (
                json!({"answered_at": "2026-03-02T15:00:10Z"}),
                Outcome::Answered,
                Cause::Unspecified,
                90,
            ),
            (json!({"sip_code": 486}), Outcome::Busy, Cause::Unspecified, 0),
            (
                json!({"sip_code": 404}),
                Outcome::InvalidDestination,
                Cause::Unallocated,
                0,
            ),
            (json!({"q850": 21}), Outcome::Rejected, Cause::Declined, 0),
            (
                json!({"outcome": "rejected", "sip_code": 608}),
                Outcome::Rejected,
                Cause::BlockedCaller,
                0,
            ),
            // An answered call without answered_at counts its talk from the start.
            (
                json!({"outcome": "answered"}),
                Outcome::Answered,
                Cause::Unspecified,
                100,
            ),
            // The outcome wins over a code that disagrees.
            (
                json!({"outcome": "busy", "sip_code": 200}),
                Outcome::Busy,
                Cause::Unspecified,
                0,
            ),
        ];
        for (extra, outcome, cause, talk) in cases {
            let got = call(with(extra.clone())).unwrap();
            assert_eq!(
                (got.outcome, got.cause, got.talk_seconds),
                (outcome, cause, talk),
                "{extra}"
            );
        }
    }

    #[test]
    fn a_dialled_number_that_is_digits_but_invalid_is_kept_as_invalid_destination() {
        let got = call(with(json!({"to": "+14151550100", "outcome": "answered"}))).unwrap();
        assert_eq!(got.outcome, Outcome::InvalidDestination);
        assert_eq!(got.to.to_string(), "+14151550100");
        assert_eq!(got.talk_seconds, 0);
    }

    #[test]
    fn every_malformed_field_is_named() {
        let cases: [(Value, &str, &str); 10] = [
            (
                json!({"id": null}),
                "id",
                "id is missing: give each call the dialer's own id, so a resend counts once",
            ),
            (
                json!({"id": ""}),
                "id",
                "id is empty (or holds a NUL): give each call the dialer's own id",
            ),
            (
                json!({"from": "anonymous"}),
                "from",
                "from is withheld (\"anonymous\"): the call has no caller id to record",
            ),
            (
                json!({"to": "12"}),
                "to",
                "to \"12\" is too short to be a telephone number (an extension or service code?)",
            ),
            (
                json!({"direction": "sideways"}),
                "direction",
                "direction \"sideways\" is neither outbound nor inbound",
            ),
            (
                json!({"started_at": "soon"}),
                "started_at",
                "started_at \"soon\" is not an RFC 3339 instant with an offset (e.g. 2026-03-02T09:15:01Z)",
            ),
            (
                json!({"ended_at": "2026-03-02T14:00:00Z"}),
                "ended_at",
                "ended_at 2026-03-02T14:00:00Z is before started_at 2026-03-02T15:00:00Z",
            ),
            (
                json!({"answered_at": "2026-03-02T16:00:00Z"}),
                "answered_at",
                "answered_at 2026-03-02T16:00:00Z is outside the call (2026-03-02T15:00:00Z to 2026-03-02T15:01:40Z)",
            ),
            (
                json!({"outcome": "great"}),
                "outcome",
                "outcome \"great\" is not an outcome: use one of answered, no_answer, busy, rejected, invalid_destination, network_failure, voicemail",
            ),
            (
                json!({"sip_code": 99}),
                "sip_code",
                "sip_code must be a whole number from 100 to 699",
            ),
        ];
        for (extra, field, message) in cases {
            assert_eq!(
                call(with(extra.clone())),
                Err((Some(field.to_owned()), message.to_owned())),
                "{extra}"
            );
        }
    }

    #[test]
    fn a_batch_rejects_bad_calls_by_index_and_keeps_the_rest() {
        let body = json!({"calls": [base(), with(json!({"from": 5})), "nope", with(json!({"id": "c2"}))]});
        let (calls, rejected) = parse_body(&body).unwrap();
        assert_eq!(calls.len(), 2);
        let got: Vec<(usize, Option<&str>)> = rejected.iter().map(|r| (r.index, r.field.as_deref())).collect();
        assert_eq!(got, vec![(1, Some("calls[1].from")), (2, Some("calls[2]"))]);
        assert_eq!(rejected[0].error, "calls[1].from must be a string, not a number");
    }

    #[test]
    fn a_single_bad_call_or_a_bad_batch_shape_is_a_400() {
        let single = parse_body(&with(json!({"ended_at": null}))).unwrap_err();
        assert_eq!(single.field.as_deref(), Some("ended_at"));
        let shape = parse_body(&json!({"calls": {"id": 1}})).unwrap_err();
        assert_eq!(
            (shape.field.as_deref(), shape.message.as_str()),
            (Some("calls"), "calls must be an array of call objects, not an object")
        );
        assert!(parse_body(&json!("x")).unwrap_err().field.is_none());
    }
}
