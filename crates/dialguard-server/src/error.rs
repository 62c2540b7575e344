//! Every error the API answers with, as one JSON shape.
//!
//! The contract: a malformed request gets `400 {"error": "...", "field":
//! "..."}`, where `field` names the offending field (a JSON path such as
//! `calls[3].ended_at`, or `null` when the body as a whole is wrong). The
//! other statuses use the same shape so a client needs one error decoder,
//! with a stable `code` beside the message for programs. Messages say what
//! was wrong and what to send instead.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// An answer that is not a success.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{status}: {message}")]
pub struct ApiError {
    pub status: StatusCode,
    pub message: String,
    pub field: Option<String>,
}

/// The body of every error response.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// What was wrong and what to do about it.
    pub error: String,
    /// The field at fault (`calls[3].ended_at`), or null for the whole body.
    pub field: Option<String>,
    /// Stable, for programs: `invalid_field`, `invalid_body`,
    /// `unauthorized`, `forbidden`, `not_found`, `method_not_allowed`,
    /// `conflict`, `too_large`, `unsupported_media_type` or `unavailable`.
    #[schema(example = "invalid_field")]
    pub code: &'static str,
}

impl ApiError {
    /// The stable code for this error (see [`ErrorBody::code`]).
    pub fn code(&self) -> &'static str {
        match self.status {
            StatusCode::BAD_REQUEST if self.field.is_some() => "invalid_field",
            StatusCode::BAD_REQUEST => "invalid_body",
            StatusCode::UNAUTHORIZED => "unauthorized",
            StatusCode::FORBIDDEN => "forbidden",
            StatusCode::NOT_FOUND => "not_found",
            StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
            StatusCode::CONFLICT => "conflict",
            StatusCode::PAYLOAD_TOO_LARGE => "too_large",
            StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
            StatusCode::SERVICE_UNAVAILABLE => "unavailable",
            _ => "error",
        }
    }
}

impl ApiError {
    /// A malformed request: 400, naming the field.
    pub fn field(field: impl Into<String>, message: impl Into<String>) -> ApiError {
        ApiError {
            status: StatusCode::BAD_REQUEST,
            message: message.into(),
            field: Some(field.into()),
        }
    }

    /// A body that is malformed as a whole (not JSON, not an object): 400.
    pub fn body(message: impl Into<String>) -> ApiError {
        ApiError {
            status: StatusCode::BAD_REQUEST,
            message: message.into(),
            field: None,
        }
    }

    pub fn not_found(field: &str, message: impl Into<String>) -> ApiError {
        ApiError {
            status: StatusCode::NOT_FOUND,
            message: message.into(),
            field: Some(field.to_owned()),
        }
    }

    pub fn conflict(field: &str, message: impl Into<String>) -> ApiError {
        ApiError {
            status: StatusCode::CONFLICT,
            message: message.into(),
            field: Some(field.to_owned()),
        }
    }

    pub fn unauthorized(message: impl Into<String>) -> ApiError {
        ApiError {
            status: StatusCode::UNAUTHORIZED,
            message: message.into(),
            field: None,
        }
    }

    pub fn forbidden(message: impl Into<String>) -> ApiError {
        ApiError {
            status: StatusCode::FORBIDDEN,
            message: message.into(),
            field: None,
        }
    }

    pub fn too_large(limit: usize) -> ApiError {
        ApiError {
            status: StatusCode::PAYLOAD_TOO_LARGE,
            message: format!(
                "the body is larger than the limit of {limit} bytes; send fewer records per request or raise body_limit_bytes in the server's config"
            ),
            field: None,
        }
    }

    /// Something on our side failed (the log could not be written): 503, so
    /// a client retries; nothing from the request was kept.
    pub fn unavailable(message: impl Into<String>) -> ApiError {
        ApiError {
            status: StatusCode::SERVICE_UNAVAILABLE,
            message: message.into(),
            field: None,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let code = self.code();
        let body = ErrorBody {
            error: self.message,
            field: self.field,
            code,
        };
        let mut response = (self.status, Json(body)).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert("www-authenticate", axum::http::HeaderValue::from_static("Bearer"));
        }
        if self.status == StatusCode::SERVICE_UNAVAILABLE {
            response
                .headers_mut()
                .insert("retry-after", axum::http::HeaderValue::from_static("1"));
        }
        response
    }
}
