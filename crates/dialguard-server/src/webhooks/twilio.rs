//! `POST /v1/webhooks/twilio`: Twilio's call status callback.
//!
//! Authenticity: Twilio signs each request with the account's auth token:
//! `X-Twilio-Signature` is base64(HMAC-SHA1(token, URL + each POST
//! parameter's name and value, sorted by name)), where URL is exactly the
//! one Twilio requested, query string included. Behind a proxy the server
//! does not see that URL, so the config may name it (`webhook_url`);
//! otherwise it is rebuilt from `X-Forwarded-Proto`/`X-Forwarded-Host` or
//! `Host`, trying https and http.
//!
//! The callback's fields (`CallSid`, `From`, `To`, `Direction`,
//! `CallStatus`, `CallDuration`, `Timestamp`, `AnsweredBy`,
//! `SipResponseCode`) go through the Twilio importer of
//! `dialguard-formats`, so a callback and a Calls export of the same call
//! become the same event (source `twilio`, id `CallSid`). The callback has
//! no start time: the call is taken to start `CallDuration` seconds before
//! `Timestamp` (its end), which is exact for talk time and drops the ringing.
//! Statuses that are not final (`initiated`, `ringing`, `in-progress`) are
//! acknowledged and ignored.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, Uri};
use base64::Engine as _;
use dialguard_core::{Call, Event};
use dialguard_formats::{Format, Options, read_all};
use hmac::{Hmac, Mac};
use jiff::{SignedDuration, Timestamp};
use sha1::Sha1;

use super::{ignored, record_call};
use crate::api::events::Recorded;
use crate::app::{AppState, Body};
use crate::config::{DEFAULT_TENANT, TwilioAccount};
use crate::error::ApiError;

type HmacSha1 = Hmac<Sha1>;

/// The signature Twilio sends for `url` and `params` under `auth_token`.
pub fn signature(auth_token: &str, url: &str, params: &[(String, String)]) -> String {
    let mac = signed(auth_token, url, params);
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

fn signed(auth_token: &str, url: &str, params: &[(String, String)]) -> HmacSha1 {
    let mut sorted: Vec<&(String, String)> = params.iter().collect();
    sorted.sort();
    let mut mac = HmacSha1::new_from_slice(auth_token.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(url.as_bytes());
    for (name, value) in sorted {
        mac.update(name.as_bytes());
        mac.update(value.as_bytes());
    }
    mac
}

/// Whether `header` is the signature of `url` and `params` (compared in
/// constant time).
pub fn verify(auth_token: &str, url: &str, params: &[(String, String)], header: &str) -> bool {
    let Ok(given) = base64::engine::general_purpose::STANDARD.decode(header.trim()) else {
        return false;
    };
    signed(auth_token, url, params).verify_slice(&given).is_ok()
}

/// The URLs Twilio may have signed for this request.
fn candidate_urls(account: &TwilioAccount, headers: &HeaderMap, uri: &Uri) -> Vec<String> {
    if let Some(url) = &account.webhook_url {
        return vec![url.clone()];
    }
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.split(',').next().unwrap_or_default().trim().to_owned())
    };
    let Some(host) = header("x-forwarded-host").or_else(|| header("host")) else {
        return Vec::new();
    };
    let path = uri.path_and_query().map_or("/", |p| p.as_str());
    let mut schemes = vec!["https", "http"];
    if let Some(proto) = header("x-forwarded-proto") {
        schemes.retain(|s| s.eq_ignore_ascii_case(&proto));
    }
    schemes.into_iter().map(|s| format!("{s}://{host}{path}")).collect()
}

#[utoipa::path(post, path = "/v1/webhooks/twilio", tag = "webhooks",
    request_body(content = String, content_type = "application/x-www-form-urlencoded",
        description = "Twilio's status callback parameters (CallSid, From, To, CallStatus, CallDuration, Timestamp, …)"),
    params(("X-Twilio-Signature" = String, Header, description = "Twilio's signature of the URL and parameters")),
    responses(
        (status = 200, description = "Recorded (or ignored: a status that is not final)", body = Recorded),
        (status = 400, description = "Not a call Twilio could have sent", body = crate::error::ErrorBody),
        (status = 403, description = "Signature missing or wrong, or Twilio not configured", body = crate::error::ErrorBody)))]
pub async fn status_callback(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
    Body(bytes): Body,
) -> Result<Json<Recorded>, ApiError> {
    let params: Vec<(String, String)> = form_urlencoded::parse(&bytes).into_owned().collect();
    let tenant_name = authenticate(&state, &headers, &uri, &params)?;
    let tenant = state
        .tenant(&tenant_name)
        .ok_or_else(|| ApiError::unavailable(format!("tenant {tenant_name} is not loaded")))?;
    match parse_callback(&params, tenant.clock.now())? {
        Some(call) => record_call(&state, tenant, call).await,
        None => Ok(ignored()),
    }
}

/// A status callback's parameters as the call they report, or `None` for a
/// status that is not final (the call is still going). `now` stands in
/// for a callback without a `Timestamp`.
pub(crate) fn parse_callback(params: &[(String, String)], now: Timestamp) -> Result<Option<Call>, ApiError> {
    if let Some((name, _)) = params.iter().find(|(_, v)| v.contains('\0')) {
        return Err(ApiError::field(
            name.clone(),
            format!("{name} holds a NUL character: the callback is not one Twilio sends"),
        ));
    }
    let get = |name: &str| params.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    let status = get("CallStatus").unwrap_or_default().trim().to_ascii_lowercase();
    if matches!(
        status.as_str(),
        "queued" | "initiated" | "ringing" | "in-progress" | "answered"
    ) {
        return Ok(None);
    }
    let ended = match get("Timestamp") {
        Some(text) => parse_rfc2822(text).map_err(|why| ApiError::field("Timestamp", format!("Timestamp {why}")))?,
        None => now,
    };
    let duration = match get("CallDuration").map(str::trim).filter(|d| !d.is_empty()) {
        None => 0,
        Some(text) => text.parse::<u32>().map_err(|_| {
            ApiError::field(
                "CallDuration",
                format!("CallDuration {text:?} is not a whole number of seconds"),
            )
        })?,
    };
    let started = ended
        .checked_sub(SignedDuration::from_secs(i64::from(duration)))
        .map_err(|_| {
            ApiError::field(
                "CallDuration",
                format!("CallDuration {duration} reaches before any instant"),
            )
        })?;
    let record = serde_json::json!({
        "sid": get("CallSid"),
        "from": get("From"),
        "to": get("To"),
        "direction": get("Direction"),
        "status": get("CallStatus"),
        "start_time": started.to_string(),
        "end_time": ended.to_string(),
        "duration": get("CallDuration"),
        "answered_by": get("AnsweredBy"),
        "sip_response_code": get("SipResponseCode"),
    });
    let bytes = serde_json::to_vec(&[record]).expect("a JSON value encodes");
    let (events, errors) = read_all(Format::Twilio, &bytes, &Options::default())
        .map_err(|e| ApiError::body(format!("the callback could not be read: {e}")))?;
    if let Some(error) = errors.first() {
        return Err(ApiError::body(format!(
            "the callback is not a call dialguard can record: {}",
            error.reason
        )));
    }
    match events.into_iter().next() {
        Some(Event::Call(call)) => Ok(Some(call)),
        _ => Err(ApiError::body("the callback holds no call")),
    }
}

fn parse_rfc2822(text: &str) -> Result<Timestamp, String> {
    static PARSER: jiff::fmt::rfc2822::DateTimeParser = jiff::fmt::rfc2822::DateTimeParser::new();
    PARSER
        .parse_timestamp(text.trim())
        .or_else(|_| text.trim().parse::<Timestamp>())
        .map_err(|_| format!("{text:?} is not an RFC 2822 time (e.g. Mon, 02 Mar 2026 15:04:05 +0000)"))
}

/// The tenant of a callback whose signature checks out.
fn authenticate(
    state: &AppState,
    headers: &HeaderMap,
    uri: &Uri,
    params: &[(String, String)],
) -> Result<String, ApiError> {
    let accounts = &state.config.twilio;
    if accounts.is_empty() {
        if state.open() {
            return Ok(DEFAULT_TENANT.to_owned());
        }
        return Err(ApiError::forbidden(
            "Twilio webhooks are not configured: add [[twilio]] with the account's auth_token and tenant to the server's config",
        ));
    }
    let Some(header) = headers.get("x-twilio-signature").and_then(|v| v.to_str().ok()) else {
        return Err(ApiError::forbidden(
            "X-Twilio-Signature is missing: only Twilio may post here",
        ));
    };
    let account_sid = params.iter().find(|(k, _)| k == "AccountSid").map(|(_, v)| v.as_str());
    accounts
        .iter()
        .filter(|a| a.account_sid.as_deref().is_none_or(|sid| Some(sid) == account_sid))
        .find(|a| {
            candidate_urls(a, headers, uri)
                .iter()
                .any(|url| verify(&a.auth_token, url, params, header))
        })
        .map(|a| a.tenant.clone())
        .ok_or_else(|| {
            ApiError::forbidden(
                "X-Twilio-Signature does not match: check the account's auth_token, and set webhook_url to the exact URL \
                 configured in Twilio when a proxy sits in front of dialguard",
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    /// The example of Twilio's "Validating Signatures from Twilio" page:
    /// auth token 12345, that URL and those parameters sign to
    /// `GvWf1cFY/Q7PnoempGyD5oXAezc=`.
    #[test]
    fn signs_twilios_documented_example() {
        let url = "https://mycompany.com/myapp.php?foo=1&bar=2";
        let p = params(&[
            ("CallSid", "CA1234567890ABCDE"),
            ("Caller", "+14158675310"),
            ("Digits", "1234"),
            ("From", "+14158675310"),
            ("To", "+18005551212"),
        ]);
        assert_eq!(signature("12345", url, &p), "GvWf1cFY/Q7PnoempGyD5oXAezc=");
        assert!(verify("12345", url, &p, "GvWf1cFY/Q7PnoempGyD5oXAezc="));
        // Parameter order in the body does not matter; names are sorted.
        let mut reversed = p.clone();
        reversed.reverse();
        assert!(verify("12345", url, &reversed, "GvWf1cFY/Q7PnoempGyD5oXAezc="));
    }

    #[test]
    fn any_change_breaks_the_signature() {
        let url = "https://mycompany.com/myapp.php?foo=1&bar=2";
        let p = params(&[("CallSid", "CA1234567890ABCDE"), ("To", "+18005551212")]);
        let good = signature("12345", url, &p);
        assert!(verify("12345", url, &p, &good));
        assert!(!verify("54321", url, &p, &good), "another account's token");
        assert!(
            !verify("12345", "https://mycompany.com/myapp.php", &p, &good),
            "another URL"
        );
        let tampered = params(&[("CallSid", "CA1234567890ABCDE"), ("To", "+18005551213")]);
        assert!(!verify("12345", url, &tampered, &good), "a changed parameter");
        assert!(!verify("12345", url, &p, "not base64!"));
    }

    #[test]
    fn rebuilds_the_url_twilio_requested() {
        let account = TwilioAccount {
            auth_token: "t".into(),
            account_sid: None,
            tenant: "default".into(),
            webhook_url: None,
        };
        let uri: Uri = "/v1/webhooks/twilio?tenant=x".parse().unwrap();
        let mut headers = HeaderMap::new();
        headers.insert("host", "dg.example.com".parse().unwrap());
        assert_eq!(
            candidate_urls(&account, &headers, &uri),
            vec![
                "https://dg.example.com/v1/webhooks/twilio?tenant=x",
                "http://dg.example.com/v1/webhooks/twilio?tenant=x"
            ]
        );
        headers.insert("x-forwarded-proto", "https".parse().unwrap());
        headers.insert("x-forwarded-host", "public.example.com".parse().unwrap());
        assert_eq!(
            candidate_urls(&account, &headers, &uri),
            vec!["https://public.example.com/v1/webhooks/twilio?tenant=x"]
        );
        let fixed = TwilioAccount {
            webhook_url: Some("https://x.example/hook".into()),
            ..account
        };
        assert_eq!(candidate_urls(&fixed, &headers, &uri), vec!["https://x.example/hook"]);
    }

    #[test]
    fn reads_twilios_timestamp() {
        assert_eq!(
            parse_rfc2822("Mon, 02 Mar 2026 15:04:05 +0000").unwrap(),
            "2026-03-02T15:04:05Z".parse::<Timestamp>().unwrap()
        );
        assert!(parse_rfc2822("yesterday").is_err());
    }

    #[test]
    fn a_callback_is_read_into_its_call_or_refused_naming_the_field() {
        let now: Timestamp = "2026-03-02T15:00:00Z".parse().unwrap();
        let base = [
            ("CallSid", "CA1"),
            ("From", "+14155550100"),
            ("To", "+12125550123"),
            ("Direction", "outbound-api"),
            ("CallStatus", "completed"),
            ("CallDuration", "42"),
            ("Timestamp", "Mon, 02 Mar 2026 15:00:00 +0000"),
        ];
        let call = parse_callback(&params(&base), now)
            .unwrap()
            .expect("a final status is a call");
        assert_eq!(call.talk_seconds, 42);
        assert_eq!(call.started_at.to_string(), "2026-03-02T14:59:18Z");
        let mut ringing = base;
        ringing[4] = ("CallStatus", "ringing");
        assert!(
            parse_callback(&params(&ringing), now).unwrap().is_none(),
            "not final: ignored"
        );
        for (key, value) in [
            ("CallDuration", "99999999999999999999"),
            ("CallDuration", "-3"),
            ("Timestamp", "yesterday"),
            ("CallSid", "CA\u{0}1"),
        ] {
            let mut bad = params(&base);
            bad.iter_mut().find(|(k, _)| k == key).unwrap().1 = value.to_owned();
            let error = parse_callback(&bad, now).unwrap_err();
            assert_eq!(error.status, axum::http::StatusCode::BAD_REQUEST, "{key}={value:?}");
            assert_eq!(error.field.as_deref(), Some(key), "{key}={value:?}: {}", error.message);
        }
    }

    proptest::proptest! {
        /// Any values, any Unicode, in any of the fields Twilio sends: a call,
        /// "not final" or a 400, never a panic.
        #[test]
        fn any_form_is_a_call_or_a_400(values in proptest::collection::vec("\\PC{0,24}", 7)) {
            let keys = ["CallSid", "From", "To", "Direction", "CallStatus", "CallDuration", "Timestamp"];
            let pairs: Vec<(String, String)> = keys.iter().map(|k| (*k).to_owned()).zip(values).collect();
            if let Err(error) = parse_callback(&pairs, Timestamp::UNIX_EPOCH) {
                proptest::prop_assert_eq!(error.status, axum::http::StatusCode::BAD_REQUEST);
            }
        }
    }
}
