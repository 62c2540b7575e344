//! The v1 API handlers, one module per noun of the contract.

pub mod calls;
pub mod decide;
pub mod events;
pub mod numbers;

use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;

use crate::app::AppState;

/// Prometheus text format. The number gauges (by health, by state, per
/// pool) are counted at scrape time over every tenant.
#[utoipa::path(get, path = "/metrics", tag = "operations",
    responses((status = 200, description = "Prometheus text exposition format", body = String, content_type = "text/plain")))]
pub async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    let mut numbers = Vec::new();
    for tenant in state.tenants.values() {
        let now = tenant.clock.now();
        numbers.extend(tenant.engine.lock().numbers(now));
    }
    state.metrics.set_numbers(&numbers);
    (
        [(
            CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.metrics.render(),
    )
}
