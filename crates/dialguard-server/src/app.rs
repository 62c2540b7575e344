//! The router and what every handler shares: tenants, the writer, metrics,
//! authentication and body reading.
//!
//! Authentication: with tokens configured, every `/v1` route (and the
//! dashboard) needs `Authorization: Bearer <token>`; the dashboard also takes
//! HTTP Basic with the token as the password, so a browser can log in without
//! any script. The token picks the tenant; a handler never sees another.
//! Without tokens there is one tenant, `default`, and the server listens on
//! loopback only. `/healthz` and `/openapi.json` carry no tenant data and
//! are open; `/metrics` counts the token's tenant's numbers, so it needs a
//! token too (Prometheus sends one with `authorization: credentials:`).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, FromRequest, FromRequestParts, MatchedPath, Request, State};
use axum::http::header::{AUTHORIZATION, WWW_AUTHENTICATE};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine as _;

use crate::config::{ClockMode, DEFAULT_TENANT, ServerConfig};
use crate::error::ApiError;
use crate::metrics::Metrics;
use crate::tenant::Tenant;
use crate::writer::WriterHandle;
use crate::{api, dashboard, openapi, webhooks};

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub inner: Arc<Shared>,
}

pub struct Shared {
    pub config: ServerConfig,
    /// Where the log is, for reads as of an earlier instant (`?at=`), which
    /// replay it.
    pub log: dialguard_store::Location,
    pub clock: ClockMode,
    /// Every tenant, by name.
    pub tenants: HashMap<String, Arc<Tenant>>,
    pub writer: WriterHandle,
    pub metrics: Arc<Metrics>,
    /// Signs the dashboard's forms (see `dashboard::actions`); drawn at start.
    pub csrf_key: [u8; 32],
}

impl std::ops::Deref for AppState {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.inner
    }
}

impl Shared {
    pub fn tenant(&self, name: &str) -> Option<Arc<Tenant>> {
        self.tenants.get(name).cloned()
    }

    /// True when no tokens are configured: one open tenant, loopback only.
    pub fn open(&self) -> bool {
        self.config.tokens.is_empty()
    }

    fn tenant_for_token(&self, token: &str) -> Option<Arc<Tenant>> {
        self.config.tokens.get(token).and_then(|name| self.tenant(name))
    }
}

/// The routes of the contract, the webhooks, the dashboard and the
/// operational endpoints.
pub fn router(state: AppState) -> Router {
    let limit = state.config.body_limit;
    Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(api::metrics))
        .route("/openapi.json", get(openapi::serve))
        .route("/v1/decide", post(api::decide::decide))
        .route("/v1/numbers", get(api::numbers::list))
        .route(
            "/v1/numbers/{number}",
            get(api::numbers::show).put(api::numbers::register),
        )
        .route("/v1/numbers/{number}/state", post(api::numbers::change_state))
        .route("/v1/numbers/{number}/disputes", post(api::numbers::update_dispute))
        .route("/v1/calls", post(api::calls::ingest))
        .route("/v1/acc/kamailio", post(api::kamailio::acc))
        .route("/v1/complaints", post(api::events::complaints))
        .route("/v1/optouts", post(api::events::optouts))
        .route("/v1/consents", post(api::events::consents))
        .route("/v1/labels", post(api::events::labels))
        .route("/v1/webhooks/twilio", post(webhooks::twilio::status_callback))
        .route("/v1/webhooks/telnyx", post(webhooks::telnyx::hangup))
        .merge(
            Router::new()
                .route("/", get(dashboard::pool))
                .route("/numbers", post(dashboard::actions::register))
                .route("/numbers/{number}", get(dashboard::number))
                .route("/numbers/{number}/actions", post(dashboard::actions::act))
                .route("/numbers/{number}/chart.svg", get(dashboard::chart))
                .layer(middleware::map_response(page_headers)),
        )
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn_with_state(state.clone(), track))
        .layer(DefaultBodyLimit::max(limit))
        .with_state(state)
}

/// What every dashboard page is sent with: it loads nothing from anywhere
/// (its styles are inline, its charts inline SVG), may not be framed, and
/// leaks no address to the sites it links.
async fn page_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    for (name, value) in [
        (
            "content-security-policy",
            "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
        ),
        ("x-content-type-options", "nosniff"),
        ("x-frame-options", "DENY"),
        ("referrer-policy", "no-referrer"),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
    response
}

/// Liveness: the process answers. Deliberately does nothing else, so it is
/// also the baseline the decide benchmark is measured against.
#[utoipa::path(get, path = "/healthz", tag = "operations", responses((status = 200, description = "The server is up", body = String)))]
pub async fn healthz() -> &'static str {
    "ok\n"
}

async fn not_found() -> ApiError {
    ApiError {
        status: StatusCode::NOT_FOUND,
        message: "no such endpoint; GET /openapi.json lists them".into(),
        field: None,
    }
}

/// Counts every request by route template (never the concrete path: it
/// may hold a phone number) and status.
async fn track(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let id = request_id(request.headers().get(REQUEST_ID));
    let mut response = next.run(request).await;
    state
        .metrics
        .request(method.as_str(), &route, response.status().as_u16(), started.elapsed());
    response.headers_mut().insert(REQUEST_ID, id);
    response
}

/// Every answer carries a request id: the caller's own `X-Request-Id` when
/// it sent a usable one (1-128 visible ASCII characters), else one made
/// here, so a dialer's log line and the server's answer can be matched.
const REQUEST_ID: &str = "x-request-id";

fn request_id(sent: Option<&HeaderValue>) -> HeaderValue {
    if let Some(value) = sent
        && (1..=128).contains(&value.len())
        && value.as_bytes().iter().all(|b| b.is_ascii_graphic())
    {
        return value.clone();
    }
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    static EPOCH: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    let epoch = *EPOCH.get_or_init(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_micros() as u64)
    });
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    HeaderValue::from_str(&format!("{epoch:x}-{n:x}")).expect("hex digits and a dash are a header value")
}

/// The tenant a request may act for, from its token.
pub struct Authed(pub Arc<Tenant>);

impl FromRequestParts<AppState> for Authed {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        authenticate(parts, state).map(Authed)
    }
}

/// The tenant a dashboard page shows; asks the browser for the token (as
/// the Basic password) when there is none.
pub struct Viewer(pub Arc<Tenant>);

impl FromRequestParts<AppState> for Viewer {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        authenticate(parts, state).map(Viewer).map_err(|e| {
            let mut response = e.into_response();
            if response.status() == StatusCode::UNAUTHORIZED {
                response.headers_mut().insert(
                    WWW_AUTHENTICATE,
                    HeaderValue::from_static("Basic realm=\"dialguard (any user name; the API token as password)\""),
                );
            }
            response
        })
    }
}

fn authenticate(parts: &Parts, state: &AppState) -> Result<Arc<Tenant>, ApiError> {
    if state.open() {
        return state
            .tenant(DEFAULT_TENANT)
            .ok_or_else(|| ApiError::unavailable("the default tenant is missing"));
    }
    let Some(header) = parts.headers.get(AUTHORIZATION) else {
        return Err(ApiError::unauthorized(
            "missing Authorization header: send Authorization: Bearer <token> with a token from the server's config",
        ));
    };
    let header = header.to_str().unwrap_or_default().trim();
    let token = match header.split_once(' ') {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => token.trim().to_owned(),
        Some((scheme, encoded)) if scheme.eq_ignore_ascii_case("basic") => basic_password(encoded.trim())
            .ok_or_else(|| ApiError::unauthorized("the Basic credentials are not base64 of user:token"))?,
        _ => {
            return Err(ApiError::unauthorized(
                "the Authorization header must be Bearer <token> (or Basic with the token as password)",
            ));
        }
    };
    state
        .tenant_for_token(&token)
        .ok_or_else(|| ApiError::unauthorized("unknown token: use one listed under tokens in the server's config"))
}

/// The password of Basic credentials (or the user name when the password is
/// empty: some clients put a token there).
fn basic_password(encoded: &str) -> Option<String> {
    let decoded = base64::engine::general_purpose::STANDARD.decode(encoded).ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (user, password) = text.split_once(':')?;
    Some(if password.is_empty() { user } else { password }.to_owned())
}

/// A request body within the configured limit; a larger one is a JSON 413.
pub struct Body(pub Bytes);

impl FromRequest<AppState> for Body {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        match Bytes::from_request(request, state).await {
            Ok(bytes) => Ok(Body(bytes)),
            Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                Err(ApiError::too_large(state.config.body_limit))
            }
            Err(rejection) => Err(ApiError::body(format!(
                "the body could not be read: {}",
                rejection.body_text()
            ))),
        }
    }
}

/// A JSON request body ([`Body`]) whose `Content-Type`, when one is sent,
/// says JSON (`application/json`, `text/json` or any `+json`); another type
/// is a 415 that says what to send. A request without one is read as JSON.
pub struct JsonBody(pub Bytes);

impl FromRequest<AppState> for JsonBody {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        if let Some(value) = request.headers().get(axum::http::header::CONTENT_TYPE) {
            let text = value.to_str().unwrap_or_default();
            if !is_json_type(text) {
                return Err(ApiError {
                    status: StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    message: format!(
                        "Content-Type {:?} is not JSON: send the body as JSON with Content-Type: application/json",
                        String::from_utf8_lossy(value.as_bytes())
                    ),
                    field: None,
                });
            }
        }
        let Body(bytes) = Body::from_request(request, state).await?;
        Ok(JsonBody(bytes))
    }
}

/// `application/json`, `text/json` or a `+json` type, with any parameters.
fn is_json_type(content_type: &str) -> bool {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    essence == "application/json" || essence == "text/json" || essence.ends_with("+json")
}

/// A known path asked with a method it does not have: a JSON 405.
async fn method_not_allowed() -> ApiError {
    ApiError {
        status: StatusCode::METHOD_NOT_ALLOWED,
        message: "method not allowed on this endpoint; GET /openapi.json lists them".into(),
        field: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_types_are_the_json_ones_with_any_parameters() {
        for json in [
            "application/json",
            "Application/JSON; charset=utf-8",
            "text/json",
            "application/vnd.api+json",
        ] {
            assert!(is_json_type(json), "{json}");
        }
        for other in [
            "application/x-www-form-urlencoded",
            "text/plain",
            "multipart/form-data; boundary=x",
            "",
        ] {
            assert!(!is_json_type(other), "{other}");
        }
    }

    #[test]
    fn basic_credentials_carry_the_token() {
        let encode = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
        assert_eq!(basic_password(&encode("ops:tok-123")).as_deref(), Some("tok-123"));
        assert_eq!(basic_password(&encode("tok-123:")).as_deref(), Some("tok-123"));
        assert_eq!(basic_password(&encode("no-colon")), None);
        assert_eq!(basic_password("%%%"), None);
    }
}
