//! A running dialguard server as the simulator's guard (`simulate --server`).
//!
//! The campaign talks to the server exactly as a dialer and its feeds would,
//! through the public API: the numbers registered with `PUT /v1/numbers`,
//! every call record `POST /v1/calls` when it ends (batched, as a dialer's
//! CDR push is), complaints, opt-outs and the monitoring feed's label checks
//! at their own instants, and every caller-id question `POST /v1/decide`
//! with its `at`. Served with `--clock event`, the server's "now" is the
//! campaign's, so days of traffic run in minutes.
//!
//! Nothing is held back across a question: the records that ended before a
//! decision reach the server first, as they would reach it from a dialer
//! that posts each record when its call ends.

use std::time::Duration;

use dialguard_core::guard::{DecideRequest, Decision, DenyReason};
use dialguard_core::{Call, Cause, E164, Event, Outcome};
use dialguard_sim::RemoteGuard;
use jiff::Timestamp;
use serde_json::{Value, json};

/// Records per `POST /v1/calls` at most.
const CALLS_PER_POST: usize = 1_000;

/// The server's API at `base` (`http://127.0.0.1:8080`), with a token when
/// the server has them.
pub struct HttpGuard {
    client: reqwest::blocking::Client,
    base: String,
    token: Option<String>,
    /// Call records not yet posted.
    calls: Vec<Value>,
}

impl HttpGuard {
    pub fn new(base: &str, token: Option<String>) -> Result<HttpGuard, String> {
        let base = base.trim_end_matches('/').to_owned();
        if !base.starts_with("http://") && !base.starts_with("https://") {
            return Err(format!(
                "--server {base:?} is not an address: give the server's base URL, such as http://127.0.0.1:8080"
            ));
        }
        let client = reqwest::blocking::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .map_err(|e| format!("starting the HTTP client: {e}"))?;
        Ok(HttpGuard {
            client,
            base,
            token,
            calls: Vec::new(),
        })
    }

    /// Sends `body` and reads the JSON answer; anything but a 2xx is an error
    /// that quotes the server.
    fn send(&self, method: reqwest::Method, path: &str, body: &Value) -> Result<Value, String> {
        let url = format!("{}{path}", self.base);
        let mut request = self.client.request(method.clone(), &url).json(body);
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        let response = request
            .send()
            .map_err(|e| format!("{method} {url}: {e} (is `dialguard serve --clock event` running there?)"))?;
        let status = response.status();
        let text = response
            .text()
            .map_err(|e| format!("{method} {url}: reading the answer: {e}"))?;
        if !status.is_success() {
            return Err(format!("{method} {url} answered {status}: {}", text.trim()));
        }
        serde_json::from_str(&text).map_err(|e| format!("{method} {url}: the answer is not JSON ({e}): {text}"))
    }

    fn post(&self, path: &str, body: &Value) -> Result<Value, String> {
        self.send(reqwest::Method::POST, path, body)
    }

    /// Posts the call records held back; a record the server refused is an
    /// error (the campaign would go on with the server blind to it).
    fn flush(&mut self) -> Result<(), String> {
        if self.calls.is_empty() {
            return Ok(());
        }
        let calls = std::mem::take(&mut self.calls);
        let answer = self.post("/v1/calls", &json!({ "calls": calls }))?;
        match answer.get("rejected").and_then(Value::as_array) {
            Some(rejected) if !rejected.is_empty() => Err(format!(
                "POST /v1/calls refused {} of {} records, the first: {}",
                rejected.len(),
                calls.len(),
                rejected[0]
            )),
            _ => Ok(()),
        }
    }
}

/// A call record as a dialer posts it: the SIP code that carries the cause.
fn call_body(call: &Call) -> Value {
    let sip_code = match call.cause {
        Cause::Unallocated => Some(404),
        Cause::Disconnected => Some(410),
        Cause::BlockedCaller => Some(608),
        Cause::Declined => Some(603),
        Cause::CallerIdRefused => Some(403),
        Cause::Unspecified | Cause::Ambiguous => None,
    };
    let mut body = json!({
        "id": call.source_id,
        "from": call.from.to_string(),
        "to": call.to.to_string(),
        "direction": "outbound",
        "started_at": call.started_at.to_string(),
        "ended_at": call.ended_at.to_string(),
        "outcome": call.outcome.as_str(),
    });
    if let Some(answered) = call.answered_at {
        body["answered_at"] = json!(answered.to_string());
    }
    if let Some(code) = sip_code.filter(|_| call.outcome != Outcome::Answered) {
        body["sip_code"] = json!(code);
    }
    body
}

/// Reads `{"decision": "allow", "caller_id"}` or `{"decision": "deny", "reason", "retry_at"?}`.
fn decision(answer: &Value) -> Result<Decision, String> {
    let field = |name: &str| answer.get(name).and_then(Value::as_str);
    match field("decision") {
        Some("allow") => {
            let caller_id = field("caller_id").ok_or_else(|| format!("an allow without a caller_id: {answer}"))?;
            let caller_id = caller_id
                .parse::<E164>()
                .map_err(|e| format!("caller_id {caller_id:?}: {e}"))?;
            Ok(Decision::Allow { caller_id })
        }
        Some("deny") => {
            let reason = field("reason").unwrap_or_default();
            let reason = DenyReason::ALL
                .into_iter()
                .find(|r| r.as_str() == reason)
                .ok_or_else(|| format!("a deny with an unknown reason: {answer}"))?;
            let retry_at = match field("retry_at") {
                Some(text) => Some(
                    text.parse::<Timestamp>()
                        .map_err(|e| format!("retry_at {text:?}: {e}"))?,
                ),
                None => None,
            };
            Ok(Decision::Deny { reason, retry_at })
        }
        _ => Err(format!("not a decision: {answer}")),
    }
}

impl RemoteGuard for HttpGuard {
    fn register(&mut self, pool: &str, numbers: &[E164], at: Timestamp) -> Result<(), String> {
        for number in numbers {
            let body = json!({ "pool": pool, "acquired_at": at.to_string() });
            self.send(reqwest::Method::PUT, &format!("/v1/numbers/{number}"), &body)?;
        }
        Ok(())
    }

    fn observe(&mut self, event: &Event) -> Result<(), String> {
        let (path, body) = match event {
            Event::Call(call) => {
                self.calls.push(call_body(call));
                if self.calls.len() >= CALLS_PER_POST {
                    self.flush()?;
                }
                return Ok(());
            }
            Event::Complaint(complaint) => (
                "/v1/complaints",
                json!({
                    "number": complaint.number.to_string(),
                    "at": complaint.at.to_string(),
                    "source": complaint.source,
                    "id": complaint.source_id,
                }),
            ),
            Event::OptOut(opt_out) => (
                "/v1/optouts",
                json!({ "to": opt_out.to.to_string(), "at": opt_out.at.to_string() }),
            ),
            Event::Label(label) => (
                "/v1/labels",
                json!({
                    "number": label.number.to_string(),
                    "carrier": label.carrier.as_str(),
                    "label": label.label,
                    "at": label.at.to_string(),
                    "source": label.source,
                }),
            ),
            // The server derives its own state changes; the rest is not
            // something a dialer or a feed sends.
            _ => return Ok(()),
        };
        // The call records that ended before it reach the server first.
        self.flush()?;
        self.post(path, &body).map(drop)
    }

    fn decide(&mut self, request: &DecideRequest, at: Timestamp) -> Result<Decision, String> {
        self.flush()?;
        let body = json!({
            "pool": request.pool,
            "to": request.to.to_string(),
            "at": at.to_string(),
            "known_contact": request.known_contact,
        });
        decision(&self.post("/v1/decide", &body)?)
    }

    fn tick(&mut self, _now: Timestamp) -> Result<(), String> {
        self.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decisions_read_as_the_server_writes_them() {
        let allow = decision(&json!({"decision": "allow", "caller_id": "+14155550100"})).unwrap();
        assert_eq!(
            allow,
            Decision::Allow {
                caller_id: "+14155550100".parse().unwrap()
            }
        );
        let deny =
            decision(&json!({"decision": "deny", "reason": "pool_exhausted", "retry_at": "2026-03-02T15:00:00Z"}))
                .unwrap();
        assert_eq!(
            deny,
            Decision::Deny {
                reason: DenyReason::PoolExhausted,
                retry_at: Some("2026-03-02T15:00:00Z".parse().unwrap())
            }
        );
        for bad in [
            json!({"decision": "maybe"}),
            json!({"decision": "allow"}),
            json!({"decision": "allow", "caller_id": "nobody"}),
            json!({"decision": "deny", "reason": "tired"}),
            json!({"decision": "deny", "reason": "dnc", "retry_at": "soon"}),
        ] {
            assert!(decision(&bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_server_address_must_be_a_url() {
        assert!(
            HttpGuard::new("127.0.0.1:8080", None)
                .err()
                .unwrap()
                .contains("base URL")
        );
        assert!(HttpGuard::new("http://127.0.0.1:8080/", None).is_ok());
    }
}
