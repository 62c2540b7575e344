//! `POST /v1/complaints`, `/v1/optouts`, `/v1/consents`, `/v1/labels`: the
//! other facts the engine folds, one object per request.
//!
//! Each answers `{"accepted", "duplicates"}` once the event is in the log
//! and folded. A complaint is keyed by its `id` when it has one, else by
//! number and instant, so a resend counts once; opt-outs, consents and
//! labels are facts at an instant and may repeat harmlessly.

use axum::Json;
use axum::extract::State;
use dialguard_core::{Carrier, Complaint, Consent, ConsentKind, E164, Event, LabelObserved, OptOut};
use serde::Serialize;
use serde_json::Value;

use crate::app::{AppState, Authed, JsonBody};
use crate::body::{self, Fields, describe};
use crate::error::ApiError;
use crate::tenant::Tenant;

/// What a single-event ingest did.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Recorded {
    pub accepted: usize,
    pub duplicates: usize,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ComplaintBody {
    /// The caller id the person complained about.
    #[schema(example = "+14155550100")]
    pub number: String,
    pub at: String,
    /// Where it came from (`carrier`, `ftc`, …); default `api`.
    pub source: Option<String>,
    /// The source's id for it; default number and instant.
    pub id: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct OptOutBody {
    /// The person who asked not to be called again.
    #[schema(example = "+12125550123")]
    pub to: String,
    pub at: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ConsentBody {
    #[schema(example = "+12125550123")]
    pub to: String,
    pub at: String,
    /// The pool the consent is for; every pool when absent.
    pub pool: Option<String>,
    /// `written` (the default): signed consent, until an opt-out. `ebr_purchase`: a purchase or
    /// transaction on `at`, which exempts calls from the national Do-Not-Call registry for 18
    /// months. `ebr_inquiry`: an inquiry or application on `at`, for 3 months. Only written
    /// consent satisfies a pool that requires consent.
    #[schema(example = "written")]
    pub kind: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct LabelBody {
    #[schema(example = "+14155550100")]
    pub number: String,
    /// att, verizon or tmobile (AT&T, T-Mobile, Hiya, TNS, First Orion are read too).
    pub carrier: String,
    /// What the handset showed (`Spam Likely`), or null when it showed the number clean.
    pub label: Option<String>,
    pub at: String,
    /// test_call, monitoring, manual, …; default `api`.
    pub source: Option<String>,
}

async fn record(state: &AppState, tenant: std::sync::Arc<Tenant>, event: Event) -> Result<Json<Recorded>, ApiError> {
    // A label or a complaint is about one of the tenant's own numbers: one
    // that is not registered is most likely mistyped, and recorded as is it
    // would never reach the number it was meant for.
    if let Event::Label(LabelObserved { number, .. }) | Event::Complaint(Complaint { number, .. }) = &event {
        refuse_unregistered(&tenant, *number)?;
    }
    tenant.clock.observe(event.at());
    let written = state.writer.append(tenant, vec![event]).await?;
    Ok(Json(Recorded {
        accepted: written.accepted,
        duplicates: written.duplicates,
    }))
}

fn refuse_unregistered(tenant: &Tenant, number: E164) -> Result<(), ApiError> {
    let engine = tenant.engine.lock();
    if engine.is_registered(number) {
        return Ok(());
    }
    let hint = dialguard_core::number::did_you_mean(number, engine.lifecycle().numbers());
    Err(ApiError::field(
        "number",
        format!(
            "number {number} is not one of this tenant's registered numbers{hint} (PUT /v1/numbers/{number} registers it)"
        ),
    ))
}

fn source(f: &Fields, default: &str) -> Result<String, ApiError> {
    match f.optional_str("source")? {
        None => Ok(default.to_owned()),
        Some(s) if s.trim().is_empty() || s.contains('\0') => Err(f.invalid("source", "is empty (or holds a NUL)")),
        Some(s) => Ok(s.trim().to_owned()),
    }
}

pub fn parse_complaint(f: &Fields) -> Result<Complaint, ApiError> {
    let number = f.required_number("number")?;
    let at = f.required_instant("at")?;
    let source = source(f, "api")?;
    let source_id = match f.value("id") {
        None => format!("{number}@{at}"),
        Some(Value::String(s)) if !s.trim().is_empty() && !s.contains('\0') => s.trim().to_owned(),
        Some(Value::Number(n)) if n.is_u64() || n.is_i64() => n.to_string(),
        Some(Value::Number(n)) => {
            return Err(f.invalid("id", format!("{n} is not an id: a whole number or a string")));
        }
        Some(Value::String(_)) => return Err(f.invalid("id", "is empty (or holds a NUL)")),
        Some(other) => return Err(f.invalid("id", format!("must be a string, not {}", describe(other)))),
    };
    Ok(Complaint {
        number,
        at,
        source,
        source_id,
        consumer_area_code: None,
        consumer_state: None,
        subject: None,
        robocall: None,
    })
}

pub fn parse_label(f: &Fields) -> Result<LabelObserved, ApiError> {
    let number = f.required_number("number")?;
    let carrier_name = f.required_str("carrier")?;
    let carrier = Carrier::from_name(carrier_name).ok_or_else(|| {
        f.invalid(
            "carrier",
            format!("{carrier_name:?} is not a carrier dialguard follows: use att, verizon or tmobile"),
        )
    })?;
    // Absent, null and blank all mean the handset showed the number clean.
    let label = f
        .optional_str("label")?
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned);
    Ok(LabelObserved {
        number,
        carrier,
        label,
        at: f.required_instant("at")?,
        source: source(f, "api")?,
        source_id: None,
    })
}

pub fn parse_opt_out(f: &Fields) -> Result<OptOut, ApiError> {
    Ok(OptOut {
        to: f.required_number("to")?,
        at: f.required_instant("at")?,
    })
}

pub fn parse_consent(f: &Fields) -> Result<Consent, ApiError> {
    let pool = match f.optional_str("pool")? {
        Some(p) if p.trim().is_empty() => {
            return Err(f.invalid("pool", "is empty: name the pool, or leave it out for every pool"));
        }
        other => other.map(|p| p.trim().to_owned()),
    };
    let kind = match f.optional_str("kind")? {
        None => ConsentKind::Written,
        Some(name) => ConsentKind::from_name(name).ok_or_else(|| {
            f.invalid(
                "kind",
                format!(
                    "{name:?} is not a kind of consent: use written (signed consent), ebr_purchase \
                     (a purchase on `at`: 18 months) or ebr_inquiry (an inquiry on `at`: 3 months)"
                ),
            )
        })?,
    };
    Ok(Consent {
        to: f.required_number("to")?,
        at: f.required_instant("at")?,
        pool,
        kind,
    })
}

macro_rules! endpoint {
    ($name:ident, $path:literal, $body:ty, $parse:ident, $variant:ident, $what:literal) => {
        #[utoipa::path(post, path = $path, tag = "ingest", request_body = $body,
                            responses(
                                (status = 200, description = $what, body = Recorded),
                                (status = 400, description = "Malformed body", body = crate::error::ErrorBody)))]
        pub async fn $name(
            State(state): State<AppState>,
            Authed(tenant): Authed,
            JsonBody(bytes): JsonBody,
        ) -> Result<Json<Recorded>, ApiError> {
            let value = body::parse(&bytes)?;
            let fields = Fields::of_body(&value)?;
            let parsed = $parse(&fields)?;
            fields.refuse_misspelled()?;
            record(&state, tenant, Event::$variant(parsed)).await
        }
    };
}

endpoint!(
    complaints,
    "/v1/complaints",
    ComplaintBody,
    parse_complaint,
    Complaint,
    "The complaint, recorded"
);
endpoint!(
    optouts,
    "/v1/optouts",
    OptOutBody,
    parse_opt_out,
    OptOut,
    "The opt-out, recorded: the guard denies this person from now on"
);
endpoint!(
    consents,
    "/v1/consents",
    ConsentBody,
    parse_consent,
    Consent,
    "The consent, recorded"
);
endpoint!(
    labels,
    "/v1/labels",
    LabelBody,
    parse_label,
    Label,
    "The observation, recorded; a label quarantines the number"
);

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn fields_error<T: std::fmt::Debug>(body: Value, parse: fn(&Fields) -> Result<T, ApiError>) -> (String, String) {
        let e = parse(&Fields::of_body(&body).unwrap()).unwrap_err();
        (e.field.unwrap_or_default(), e.message)
    }

    #[test]
    fn labels_read_carrier_names_and_null_means_clean() {
        let body =
            json!({"number": "+14155550100", "carrier": "T-Mobile", "label": null, "at": "2026-03-02T09:00:00Z"});
        let label = parse_label(&Fields::of_body(&body).unwrap()).unwrap();
        assert_eq!(
            (label.carrier, label.label, label.source.as_str()),
            (Carrier::Tmobile, None, "api")
        );
        let spam = json!({"number": "+14155550100", "carrier": "att", "label": "Spam Likely", "at": "2026-03-02T09:00:00Z", "source": "test_call"});
        let label = parse_label(&Fields::of_body(&spam).unwrap()).unwrap();
        assert_eq!(label.label.as_deref(), Some("Spam Likely"));
    }

    #[test]
    fn complaints_are_keyed_by_id_or_by_number_and_instant() {
        let body = json!({"number": "+14155550100", "at": "2026-03-02T09:00:00Z"});
        let c = parse_complaint(&Fields::of_body(&body).unwrap()).unwrap();
        assert_eq!(
            (c.source.as_str(), c.source_id.as_str()),
            ("api", "+14155550100@2026-03-02T09:00:00Z")
        );
        let body = json!({"number": "+14155550100", "at": "2026-03-02T09:00:00Z", "id": 77, "source": "carrier"});
        let c = parse_complaint(&Fields::of_body(&body).unwrap()).unwrap();
        assert_eq!((c.source.as_str(), c.source_id.as_str()), ("carrier", "77"));
    }

    #[test]
    fn malformed_bodies_name_their_field() {
        let at = "2026-03-02T09:00:00Z";
        let cases = [
            (
                fields_error(json!({"carrier": "att", "at": at}), parse_label),
                ("number", "number is missing (a string)"),
            ),
            (
                fields_error(
                    json!({"number": "+14155550100", "carrier": "sprint", "at": at}),
                    parse_label,
                ),
                (
                    "carrier",
                    "carrier \"sprint\" is not a carrier dialguard follows: use att, verizon or tmobile",
                ),
            ),
            (
                fields_error(
                    json!({"number": "+14155550100", "carrier": "att", "label": 1, "at": at}),
                    parse_label,
                ),
                ("label", "label must be a string, not a number"),
            ),
            (
                fields_error(json!({"to": "+12125550123"}), parse_opt_out),
                ("at", "at is missing (an RFC 3339 instant such as 2026-03-02T09:15:01Z)"),
            ),
            (
                fields_error(json!({"to": "+12125550123", "at": at, "pool": " "}), parse_consent),
                ("pool", "pool is empty: name the pool, or leave it out for every pool"),
            ),
            (
                fields_error(
                    json!({"number": "+14155550100", "at": at, "source": ""}),
                    parse_complaint,
                ),
                ("source", "source is empty (or holds a NUL)"),
            ),
        ];
        for (got, (field, message)) in cases {
            assert_eq!(got, (field.to_owned(), message.to_owned()));
        }
    }
}
