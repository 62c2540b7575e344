//! Call results pushed by carriers: Twilio status callbacks and Telnyx
//! `call.hangup` events.
//!
//! Neither can send a bearer token, so each is authenticated by its own
//! signature and bound to a tenant in the config. Without that config a
//! webhook is accepted unsigned only by a server without tokens (loopback
//! only, one tenant); a server with tokens refuses it, since anyone could
//! otherwise post calls into a tenant.

pub mod telnyx;
pub mod twilio;

use std::sync::Arc;

use axum::Json;
use dialguard_core::{Call, Event};

use crate::api::events::Recorded;
use crate::app::AppState;
use crate::error::ApiError;
use crate::tenant::Tenant;

/// Writes one call pushed by a carrier or a proxy, moving the event clock
/// to its end.
pub(crate) async fn record_call(state: &AppState, tenant: Arc<Tenant>, call: Call) -> Result<Json<Recorded>, ApiError> {
    tenant.clock.observe(call.ended_at);
    let written = state.writer.append(tenant, vec![Event::Call(call)]).await?;
    Ok(Json(Recorded {
        accepted: written.accepted,
        duplicates: written.duplicates,
    }))
}

/// The answer to an event that is not a finished call: 200, so the sender
/// does not retry, and nothing written.
fn ignored() -> Json<Recorded> {
    Json(Recorded {
        accepted: 0,
        duplicates: 0,
    })
}
