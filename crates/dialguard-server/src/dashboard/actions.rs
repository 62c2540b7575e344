//! What an operator does from the dashboard: rest, retire or return a
//! number, record what a handset showed, move a dispute step, register a
//! number. Each form is turned into the JSON body of the API's own call and
//! handed to that call's handler, so the rules, the errors and the record
//! are the API's; the operator's name and reason go into the record.
//!
//! Behind the dashboard's own authentication (the API token as the Basic
//! password), and CSRF-safe twice over: every form carries a token only a
//! page of this server can know (an HMAC of the tenant under a key drawn
//! at start), and a browser's `Sec-Fetch-Site` or `Origin` must say the
//! form came from this site.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

use super::{esc, page};
use crate::api;
use crate::app::{AppState, Authed, JsonBody, Viewer};
use crate::error::ApiError;
use crate::tenant::Tenant;

/// The form token of `tenant`'s pages.
pub fn csrf_token(key: &[u8; 32], tenant: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes a key of any length");
    mac.update(b"dashboard-form:");
    mac.update(tenant.as_bytes());
    hex::encode(&mac.finalize().into_bytes()[..16])
}

/// The hidden fields every form carries.
pub fn hidden(state: &AppState, tenant: &str, action: &str) -> String {
    format!(
        "<input type=\"hidden\" name=\"csrf\" value=\"{}\"><input type=\"hidden\" name=\"action\" value=\"{}\">",
        csrf_token(&state.csrf_key, tenant),
        esc(action)
    )
}

/// The forms of a number's page, as of now.
pub fn number_forms(state: &AppState, tenant: &str, number: dialguard_core::E164) -> String {
    use dialguard_core::lifecycle::{DisputeStatus, DisputeStep};
    let action = format!("/numbers/{number}/actions");
    let who = "<label>Your name <input name=\"who\" required autocomplete=\"name\"></label>";
    let options = |items: &[(&str, &str)]| {
        items
            .iter()
            .map(|(value, text)| format!("<option value=\"{value}\">{text}</option>"))
            .collect::<String>()
    };
    let steps: Vec<(&str, &str)> = DisputeStep::ALL.iter().map(|s| (s.as_str(), s.as_str())).collect();
    let statuses: Vec<(&str, &str)> = DisputeStatus::ALL.iter().map(|s| (s.as_str(), s.as_str())).collect();
    format!(
        "<h2>Act on this number</h2><p class=\"muted\">Each is the API's own call; your name and reason go in its history.</p><div class=\"panels\">\
         <form class=\"panel\" id=\"act-state\" method=\"post\" action=\"{action}\"><h3>Change its state</h3>{}\
         <label>To <select name=\"state\">{}</select></label><label>Why <input name=\"why\" required></label>{who}<button>Change state</button></form>\
         <form class=\"panel\" id=\"act-label\" method=\"post\" action=\"{action}\"><h3>Record what a handset showed</h3>{}\
         <label>Carrier <select name=\"carrier\">{}</select></label><label>Label shown (blank: clean) <input name=\"label\"></label>{who}<button>Record</button></form>\
         <form class=\"panel\" id=\"act-dispute\" method=\"post\" action=\"{action}\"><h3>Move a dispute step</h3>{}\
         <label>Step <select name=\"step\">{}</select></label><label>Status <select name=\"status\">{}</select></label>\
         <label>Note (ticket, answer) <input name=\"note\"></label>{who}<button>Update</button></form></div>",
        hidden(state, tenant, "state"),
        options(&[
            ("resting", "rest it (resting)"),
            ("retired", "retire it"),
            ("active", "return it to active")
        ]),
        hidden(state, tenant, "label"),
        options(&[
            ("att", "AT&amp;T (Hiya)"),
            ("verizon", "Verizon (TNS)"),
            ("tmobile", "T-Mobile (First Orion)")
        ]),
        hidden(state, tenant, "dispute"),
        options(&steps),
        options(&statuses),
    )
}

/// The wallboard's form that registers a number.
pub fn register_form(state: &AppState, tenant: &str) -> String {
    format!(
        "<form class=\"panel\" id=\"act-register\" method=\"post\" action=\"/numbers\"><h2>Register a number</h2>{}\
         <label>Number <input name=\"number\" required placeholder=\"+14155550100\"></label>\
         <label>Pool <input name=\"pool\" required placeholder=\"sales\"></label>\
         <label>Your name <input name=\"who\" required autocomplete=\"name\"></label><button>Register</button></form>",
        hidden(state, tenant, "register")
    )
}

/// A refused form, as a page.
fn refused(status: StatusCode, message: &str, back: &str) -> Response {
    let body = format!(
        "<h1>Not done</h1><p>{}</p><p><a href=\"{}\">Back</a></p>",
        esc(message),
        esc(back)
    );
    (status, page("Not done", &body)).into_response()
}

/// Whether the request came from a page of this server.
fn same_site(headers: &HeaderMap) -> Result<(), &'static str> {
    if let Some(site) = headers.get("sec-fetch-site") {
        return match site.as_bytes() {
            b"same-origin" | b"none" => Ok(()),
            _ => Err("the form was sent from another site"),
        };
    }
    if let (Some(origin), Some(host)) = (headers.get(header::ORIGIN), headers.get(header::HOST)) {
        let origin = origin.to_str().unwrap_or_default();
        let host = host.to_str().unwrap_or_default();
        let bare = origin.split_once("://").map_or(origin, |(_, rest)| rest);
        if bare != host {
            return Err("the form was sent from another site");
        }
    }
    Ok(())
}

/// The form's fields; the checks every action shares.
fn fields(
    state: &AppState,
    tenant: &Tenant,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<HashMap<String, String>, &'static str> {
    same_site(headers)?;
    let form: HashMap<String, String> = form_urlencoded::parse(body).into_owned().collect();
    let expected = csrf_token(&state.csrf_key, &tenant.name);
    if form.get("csrf").map(String::as_str) != Some(expected.as_str()) {
        return Err("the form is stale or did not come from this dashboard: reload the page and try again");
    }
    Ok(form)
}

fn field<'a>(form: &'a HashMap<String, String>, name: &str) -> &'a str {
    form.get(name).map_or("", |v| v.trim())
}

/// The API's error in words: the field, and what is wrong with it.
fn said(e: &ApiError) -> String {
    match &e.field {
        Some(field) => format!("{field}: {}", e.message),
        None => e.message.clone(),
    }
}

/// Who did it, for the record: the name the operator gave.
fn who(form: &HashMap<String, String>) -> Result<&str, ApiError> {
    match field(form, "who") {
        "" => Err(ApiError::field(
            "who",
            "is empty: give your name, it goes in the number's history",
        )),
        name => Ok(name),
    }
}

/// `POST /numbers/{number}/actions`: `action` is `state`, `label` or
/// `dispute`.
pub async fn act(
    State(state): State<AppState>,
    Viewer(tenant): Viewer,
    Path(number): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let back = format!("/numbers/{}", number.trim());
    let form = match fields(&state, &tenant, &headers, &body) {
        Ok(form) => form,
        Err(why) => return refused(StatusCode::FORBIDDEN, why, &back),
    };
    let done = run(&state, &tenant, &number, &form).await;
    match done {
        Ok(()) => (StatusCode::SEE_OTHER, [(header::LOCATION, back)]).into_response(),
        Err(e) => refused(e.status, &said(&e), &back),
    }
}

async fn run(
    state: &AppState,
    tenant: &std::sync::Arc<Tenant>,
    number: &str,
    form: &HashMap<String, String>,
) -> Result<(), ApiError> {
    let who = who(form)?;
    let json_body = |value: Value| JsonBody(Bytes::from(value.to_string()));
    let path = || Path(number.to_owned());
    match field(form, "action") {
        "state" => {
            let why = field(form, "why");
            let reason = if why.is_empty() {
                String::new()
            } else {
                format!("{why} ({who}, from the dashboard)")
            };
            let body = json!({"state": field(form, "state"), "reason": reason});
            let _ = api::numbers::change_state(State(state.clone()), Authed(tenant.clone()), path(), json_body(body))
                .await?;
        }
        "label" => {
            let body = json!({
                "number": number,
                "carrier": field(form, "carrier"),
                "label": field(form, "label"),
                "at": tenant.clock.now().to_string(),
                "source": format!("dashboard ({who})"),
            });
            let _ = api::events::labels(State(state.clone()), Authed(tenant.clone()), json_body(body)).await?;
        }
        "dispute" => {
            let note = field(form, "note");
            let note = if note.is_empty() {
                format!("by {who}, from the dashboard")
            } else {
                format!("{note} ({who}, from the dashboard)")
            };
            let body = json!({"step": field(form, "step"), "status": field(form, "status"), "note": note});
            let _ = api::numbers::update_dispute(State(state.clone()), Authed(tenant.clone()), path(), json_body(body))
                .await?;
        }
        other => {
            return Err(ApiError::field(
                "action",
                format!("{other:?} is not an action: state, label or dispute"),
            ));
        }
    }
    Ok(())
}

/// `POST /numbers`: register a number into a pool from the wallboard.
pub async fn register(
    State(state): State<AppState>,
    Viewer(tenant): Viewer,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form = match fields(&state, &tenant, &headers, &body) {
        Ok(form) => form,
        Err(why) => return refused(StatusCode::FORBIDDEN, why, "/"),
    };
    let number = field(&form, "number").to_owned();
    let done = async {
        who(&form)?;
        let body = json!({"pool": field(&form, "pool")});
        api::numbers::register(
            State(state.clone()),
            Authed(tenant.clone()),
            Path(number.clone()),
            JsonBody(Bytes::from(body.to_string())),
        )
        .await
    };
    match done.await {
        Ok(view) => (
            StatusCode::SEE_OTHER,
            [(header::LOCATION, format!("/numbers/{}", view.0.number))],
        )
            .into_response(),
        Err(e) => refused(e.status, &said(&e), "/"),
    }
}
