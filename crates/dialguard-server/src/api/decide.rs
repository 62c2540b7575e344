//! `POST /v1/decide`: may this person be called now, and from which number?
//!
//! The hot path: parse, lock the tenant's engine, decide, answer. Nothing
//! here touches the disk; an allowed decision is reserved in memory and the
//! call record that follows is the durable fact. A destination that is a
//! string but not a valid number is an answer (`deny destination_invalid`),
//! not a malformed request: dialers pass their lists through as they are.
//!
//! With the event clock, a decision whose `at` moved time on by a minute or
//! more first lets the engine catch up (plan phases, aging, re-assessment):
//! the state changes that produces are already in effect and go to the log
//! in the background.

use std::borrow::Cow;
use std::sync::atomic::Ordering;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use dialguard_core::E164;
use dialguard_core::guard::{DecideRequest, Decision, DenyReason};
use serde::{Deserialize, Serialize};

use crate::app::{AppState, Authed, JsonBody};
use crate::body::{self, Fields};
use crate::config::ClockMode;
use crate::error::ApiError;
use crate::writer::ns;

/// Event time that passes before a decision ticks the engine (event clock).
const TICK_AFTER_NS: i64 = 60 * 1_000_000_000;

/// The request as the fast path reads it.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Question<'a> {
    #[serde(borrow)]
    pool: Cow<'a, str>,
    #[serde(borrow)]
    to: Cow<'a, str>,
    #[serde(borrow, default)]
    at: Option<Cow<'a, str>>,
    #[serde(default)]
    known_contact: Option<bool>,
}

/// The request, as documented.
#[derive(Serialize, utoipa::ToSchema)]
pub struct DecideBody {
    /// The campaign's pool of caller ids.
    #[schema(example = "sales")]
    pub pool: String,
    /// The destination; a string that is not a valid number is denied with `destination_invalid`.
    #[schema(example = "+14155550123")]
    pub to: String,
    /// The instant of the call (RFC 3339). Moves the event clock; ignored by the wall clock.
    #[schema(example = "2026-03-02T15:04:05Z")]
    pub at: Option<String>,
    /// The person knows the business (a customer): it picks the caller id and lets the call
    /// through a recovery phase that calls known contacts only. It exempts nothing from the
    /// Do-Not-Call registry: only a consent record does (`POST /v1/consents` with its `kind`).
    pub known_contact: Option<bool>,
}

/// `{"decision":"allow","caller_id"}` or `{"decision":"deny","reason","retry_at"?}`.
#[derive(Serialize, utoipa::ToSchema)]
pub struct DecisionBody {
    /// `allow` or `deny`.
    #[schema(example = "allow")]
    pub decision: String,
    /// With `allow`: the number to present.
    #[schema(example = "+14155550100")]
    pub caller_id: Option<String>,
    /// With `deny`: opted_out, dnc, no_consent, outside_calling_hours, destination_invalid,
    /// destination_frequency, pool_exhausted, unknown_pool.
    pub reason: Option<String>,
    /// With some denials: the earliest instant the same request could be allowed.
    pub retry_at: Option<String>,
    /// With `retry_at`: whole seconds from the decision to it, rounded up (a SIP
    /// proxy's `Retry-After`).
    pub retry_after: Option<u64>,
}

#[utoipa::path(post, path = "/v1/decide", tag = "guard", request_body = DecideBody,
    params(("Idempotency-Key" = Option<String>, Header,
        description = "1-255 visible ASCII characters: a retry under the same key gets the first answer \
            (with `Idempotent-Replayed: true`) and reserves nothing twice")),
    responses(
        (status = 200, description = "The decision", body = DecisionBody),
        (status = 400, description = "Malformed body or Idempotency-Key", body = crate::error::ErrorBody),
        (status = 409, description = "The Idempotency-Key already answered another question", body = crate::error::ErrorBody),
        (status = 415, description = "A Content-Type that is not JSON", body = crate::error::ErrorBody),
        (status = 401, description = "Missing or unknown token", body = crate::error::ErrorBody),
        (status = 307, description = "Several servers share the log and another leads this tenant: \
            send the same request to the `Location` given (HTTP clients that follow redirects do)"),
        (status = 503, description = "Several servers share the log and none leads this tenant at \
            the moment (its leader just went): retry after `Retry-After` seconds", body = crate::error::ErrorBody)))]
pub async fn decide(
    State(state): State<AppState>,
    Authed(tenant): Authed,
    IdempotencyKey(key): IdempotencyKey,
    JsonBody(bytes): JsonBody,
) -> Result<Response, ApiError> {
    // A tenant's slots are reserved in one server's memory, the leader's:
    // the others send its decisions there.
    if !tenant.leads.load(Ordering::Acquire) {
        return match tenant.leader.read().as_deref() {
            Some(leader) => Ok(redirect(leader)),
            None => Err(ApiError::unavailable(
                "another dialguard server on this log leads this tenant's decisions and none \
                 does at the moment (the last one just stopped); retry in a second",
            )),
        };
    }
    // The common case parses straight into borrowed fields; only a body
    // that does not fit goes the field-by-field way, to say what is wrong.
    let fallback;
    let (pool, to, at, known_contact) = match serde_json::from_slice::<Question>(&bytes) {
        Ok(q) => {
            let at =
                q.at.as_deref()
                    .map(body::parse_instant)
                    .transpose()
                    .map_err(|why| ApiError::field("at", format!("at {why}")))?;
            (q.pool, q.to, at, q.known_contact.unwrap_or(false))
        }
        Err(_) => {
            fallback = body::parse(&bytes)?;
            let f = Fields::of_body(&fallback)?;
            let question = (
                Cow::Borrowed(f.required_str("pool")?),
                Cow::Borrowed(f.required_str("to")?),
                f.optional_instant("at")?,
                f.optional_bool("known_contact")?.unwrap_or(false),
            );
            f.refuse_misspelled()?;
            question
        }
    };
    let now = tenant.clock.observe_opt(at);
    let decision = match E164::parse_valid(&to) {
        Err(_) => Decision::Deny {
            reason: DenyReason::DestinationInvalid,
            retry_at: None,
        },
        Ok(to) => {
            let request = DecideRequest {
                pool: pool.into_owned(),
                to,
                known_contact,
            };
            let mut engine = tenant.engine.lock();
            // A retry under the same key gets the first answer; the same key
            // on another question is the caller's mistake, said as such.
            if let Some(key) = &key {
                let answered = tenant.answered.lock();
                if let Some((first, decision)) = answered.get(key) {
                    if *first != request {
                        return Err(ApiError::conflict(
                            "Idempotency-Key",
                            format!(
                                "Idempotency-Key {key:?} already answered another decision (pool, to or \
                                 known_contact differ): use a new key for a new question"
                            ),
                        ));
                    }
                    let mut response = answer(decision, now);
                    response
                        .headers_mut()
                        .insert("idempotent-replayed", axum::http::HeaderValue::from_static("true"));
                    return Ok(response);
                }
            }
            let catch_up = state.clock == ClockMode::Event
                && ns(now).saturating_sub(tenant.last_tick.load(Ordering::Acquire)) >= TICK_AFTER_NS;
            let changes = if catch_up {
                tenant.tick_at(&mut engine, now)
            } else {
                Vec::new()
            };
            let decision = engine.decide(&request, now);
            if let Some(key) = key {
                tenant.answered.lock().insert(key, request, decision.clone());
            }
            drop(engine);
            if !changes.is_empty() {
                state.writer.derived(tenant.clone(), changes);
            }
            decision
        }
    };
    state.metrics.decision(&decision);
    Ok(answer(&decision, now))
}

/// The decision as the contract writes it, with `retry_after` beside a
/// `retry_at`.
fn answer(decision: &Decision, now: jiff::Timestamp) -> Response {
    let Decision::Deny {
        retry_at: Some(retry_at),
        ..
    } = decision
    else {
        return Json(decision).into_response();
    };
    let mut value = serde_json::to_value(decision).unwrap_or_default();
    let millis = retry_at.as_millisecond().saturating_sub(now.as_millisecond()).max(0) as u64;
    value["retry_after"] = serde_json::json!(millis.div_ceil(1000));
    Json(value).into_response()
}

/// The `Idempotency-Key` header, when sent: 1-255 visible ASCII characters.
/// Read alone, without copying the other headers.
pub struct IdempotencyKey(pub Option<String>);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for IdempotencyKey {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, _: &S) -> Result<Self, Self::Rejection> {
        let Some(value) = parts.headers.get("idempotency-key") else {
            return Ok(IdempotencyKey(None));
        };
        match value.to_str() {
            Ok(key) if (1..=255).contains(&key.len()) && key.bytes().all(|b| b.is_ascii_graphic()) => {
                Ok(IdempotencyKey(Some(key.to_owned())))
            }
            _ => Err(ApiError::field(
                "Idempotency-Key",
                "Idempotency-Key must be 1 to 255 visible ASCII characters (a UUID will do)",
            )),
        }
    }
}

/// 307 to the leader's `/v1/decide`: the client sends the same body there.
fn redirect(leader: &str) -> Response {
    let location = format!("{leader}/v1/decide");
    match axum::http::HeaderValue::from_str(&location) {
        Ok(value) => (StatusCode::TEMPORARY_REDIRECT, [(axum::http::header::LOCATION, value)]).into_response(),
        Err(_) => {
            ApiError::unavailable(format!("the leading server advertises an unusable URL {leader:?}")).into_response()
        }
    }
}
