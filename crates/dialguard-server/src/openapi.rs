//! `GET /openapi.json`: the API described from the handlers themselves.
//!
//! Each handler carries a `#[utoipa::path]` with its body and answers; the
//! body types it names document the contract's field names. The handlers
//! read bodies field by field (see `body`), so these types describe and do
//! not parse; a test checks every route of the router is described here.

use axum::Json;
use utoipa::OpenApi;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};

use crate::{api, app, error, webhooks};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "dialguard",
        description = "Keeps outbound caller-ID numbers from being labeled spam. Every malformed request gets 400 \
                       {\"error\", \"field\"}; with tokens configured, send Authorization: Bearer <token>.",
    ),
    paths(
        app::healthz,
        api::metrics,
        serve,
        api::decide::decide,
        api::numbers::list,
        api::numbers::show,
        api::numbers::register,
        api::numbers::change_state,
        api::numbers::update_dispute,
        api::calls::ingest,
        api::kamailio::acc,
        api::events::complaints,
        api::events::optouts,
        api::events::consents,
        api::events::labels,
        webhooks::twilio::status_callback,
        webhooks::telnyx::hangup,
    ),
    components(schemas(error::ErrorBody)),
    modifiers(&Bearer),
    security(("bearer" = [])),
)]
pub struct ApiDoc;

struct Bearer;

impl utoipa::Modify for Bearer {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// This document.
#[utoipa::path(get, path = "/openapi.json", tag = "operations",
    responses((status = 200, description = "The OpenAPI 3.1 description of this API")))]
pub async fn serve() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
