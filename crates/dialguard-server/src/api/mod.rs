//! The v1 API handlers, one module per noun of the contract.

pub mod calls;
pub mod decide;
pub mod events;
pub mod kamailio;
pub mod numbers;

use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;

use crate::app::{AppState, Authed};

/// Prometheus text format. The number gauges (by health, by state, per
/// pool) count the numbers of the tenant the request is for: the token's
/// when tokens are configured (a scrape sends one, as Prometheus does with
/// `authorization: credentials:`), the only tenant when none are, so one
/// tenant's numbers are never shown to another or to anyone without a
/// token. Request and decision counters are the process's.
#[utoipa::path(get, path = "/metrics", tag = "operations",
    responses(
        (status = 200, description = "Prometheus text exposition format", body = String, content_type = "text/plain"),
        (status = 401, description = "Tokens are configured and none (or an unknown one) was sent", body = crate::error::ErrorBody)))]
pub async fn metrics(State(state): State<AppState>, Authed(tenant): Authed) -> impl IntoResponse {
    let now = tenant.clock.now();
    let numbers = tenant.engine.lock().numbers(now);
    (
        [(
            CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.metrics.render_with_numbers(&numbers),
    )
}
