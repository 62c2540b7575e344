//! The v1 API handlers, one module per noun of the contract.

pub mod calls;
pub mod decide;
pub mod events;
pub mod numbers;

use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;
use dialguard_core::NumberState;
use dialguard_core::risk::Health;

use crate::app::AppState;

/// Prometheus text format. The per-health and per-state number gauges are
/// counted at scrape time over every tenant.
#[utoipa::path(get, path = "/metrics", tag = "operations",
    responses((status = 200, description = "Prometheus text exposition format", body = String, content_type = "text/plain")))]
pub async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    let mut by_health: Vec<(Health, i64)> = Vec::new();
    let mut by_state: Vec<(NumberState, i64)> = Vec::new();
    for tenant in state.tenants.values() {
        let now = tenant.clock.now();
        let numbers = tenant.engine.lock().numbers(now);
        for n in numbers {
            bump(&mut by_health, n.health);
            bump(&mut by_state, n.state);
        }
    }
    state.metrics.set_numbers(&by_health, &by_state);
    (
        [(
            CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.metrics.render(),
    )
}

fn bump<K: PartialEq>(counts: &mut Vec<(K, i64)>, key: K) {
    match counts.iter_mut().find(|(k, _)| *k == key) {
        Some((_, n)) => *n += 1,
        None => counts.push((key, 1)),
    }
}
