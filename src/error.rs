//! One error type for the whole API and its one JSON shape (`application/problem+json`).
//!
//! Every handler returns `Result<_, ApiError>`; actix's own rejections (bad JSON, bad path or
//! query, unknown route) are mapped into it in `web`, so a client sees one shape everywhere.

use std::collections::BTreeMap;

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use serde::Serialize;
use utoipa::ToSchema;

/// Seconds a client should wait before retrying when the database is unreachable or busy.
pub const UNAVAILABLE_RETRY_AFTER_SECS: u64 = 5;

/// The error body of every 4xx and 5xx answer (RFC 9457 problem details, with a stable `code`).
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// Always `about:blank`: `code` says which problem it is.
    #[serde(rename = "type")]
    pub problem_type: &'static str,
    /// A short, human-readable summary of the problem kind.
    pub title: &'static str,
    /// The HTTP status code.
    pub status: u16,
    /// A stable, machine-readable identifier of the problem (see docs/api.md).
    pub code: &'static str,
    /// What went wrong in this case; never internal details.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// The request id, also in the `X-Request-Id` header; quote it when reporting a problem.
    pub request_id: String,
    /// For `validation_failed`: field name -> the rules it broke.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fields: Option<BTreeMap<String, Vec<String>>>,
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("bad request: {detail}")]
    BadRequest { code: &'static str, detail: String },
    #[error("authentication required")]
    Unauthenticated,
    #[error("invalid or expired token")]
    InvalidToken,
    #[error("invalid credentials")]
    InvalidCredentials,
    #[error("forbidden")]
    Forbidden,
    #[error("not found")]
    NotFound,
    #[error("no such route")]
    NoSuchRoute,
    #[error("method not allowed")]
    MethodNotAllowed,
    #[error("conflict: {detail}")]
    Conflict { code: &'static str, detail: String },
    #[error("version mismatch")]
    PreconditionFailed,
    #[error("If-Match required")]
    PreconditionRequired,
    #[error("payload too large")]
    PayloadTooLarge,
    #[error("unsupported media type")]
    UnsupportedMediaType,
    #[error("validation failed")]
    Validation {
        fields: BTreeMap<String, Vec<String>>,
    },
    #[error("invalid body: {detail}")]
    InvalidBody { detail: String },
    #[error("request timeout")]
    RequestTimeout,
    #[error("too many requests")]
    TooManyRequests { retry_after_secs: u64 },
    #[error("service unavailable")]
    Unavailable,
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    pub fn bad_request(code: &'static str, detail: impl Into<String>) -> Self {
        ApiError::BadRequest {
            code,
            detail: detail.into(),
        }
    }

    pub fn conflict(code: &'static str, detail: impl Into<String>) -> Self {
        ApiError::Conflict {
            code,
            detail: detail.into(),
        }
    }

    pub fn internal(detail: impl Into<String>) -> Self {
        ApiError::Internal(detail.into())
    }

    /// A validation failure of one field.
    pub fn field(field: &str, rule: &str) -> Self {
        let mut fields = BTreeMap::new();
        fields.insert(field.to_owned(), vec![rule.to_owned()]);
        ApiError::Validation { fields }
    }

    pub fn from_pool(error: diesel::r2d2::PoolError) -> Self {
        tracing::warn!(error = %error, "database connection unavailable");
        ApiError::Unavailable
    }

    /// The stable code, title and detail a client sees.
    fn parts(&self) -> (&'static str, &'static str, Option<String>) {
        match self {
            ApiError::BadRequest { code, detail } => (code, "Bad request", Some(detail.clone())),
            ApiError::Unauthenticated => (
                "unauthenticated",
                "Authentication required",
                Some("send an access token as `Authorization: Bearer <token>`".into()),
            ),
            ApiError::InvalidToken => (
                "invalid_token",
                "Invalid token",
                Some("the token is invalid, expired or revoked; log in again".into()),
            ),
            ApiError::InvalidCredentials => (
                "invalid_credentials",
                "Invalid credentials",
                Some("the user name or password is wrong, or the account is inactive".into()),
            ),
            ApiError::Forbidden => (
                "forbidden",
                "Forbidden",
                Some("your role does not allow this".into()),
            ),
            ApiError::NotFound => ("not_found", "Not found", None),
            ApiError::NoSuchRoute => (
                "no_such_route",
                "Not found",
                Some("no such route; see /api-docs/openapi.json".into()),
            ),
            ApiError::MethodNotAllowed => ("method_not_allowed", "Method not allowed", None),
            ApiError::Conflict { code, detail } => (code, "Conflict", Some(detail.clone())),
            ApiError::PreconditionFailed => (
                "version_mismatch",
                "Precondition failed",
                Some("the record has changed since you read it; read it again".into()),
            ),
            ApiError::PreconditionRequired => (
                "if_match_required",
                "Precondition required",
                Some("send the record's ETag in an If-Match header".into()),
            ),
            ApiError::PayloadTooLarge => (
                "payload_too_large",
                "Payload too large",
                Some("the request body is larger than this route accepts".into()),
            ),
            ApiError::UnsupportedMediaType => (
                "unsupported_media_type",
                "Unsupported media type",
                Some("send the body as application/json".into()),
            ),
            ApiError::Validation { .. } => (
                "validation_failed",
                "Validation failed",
                Some("one or more fields are invalid; see `fields`".into()),
            ),
            ApiError::InvalidBody { detail } => {
                ("invalid_body", "Invalid request body", Some(detail.clone()))
            }
            ApiError::RequestTimeout => (
                "request_timeout",
                "Request timeout",
                Some("the request body did not arrive in time".into()),
            ),
            ApiError::TooManyRequests { .. } => (
                "too_many_requests",
                "Too many requests",
                Some("wait for the time in Retry-After, then try again".into()),
            ),
            ApiError::Unavailable => (
                "service_unavailable",
                "Service unavailable",
                Some("the database is unreachable or busy; try again later".into()),
            ),
            ApiError::Internal(_) => ("internal_error", "Internal server error", None),
        }
    }

    pub fn code(&self) -> &'static str {
        self.parts().0
    }

    pub fn problem(&self) -> Problem {
        let (code, title, detail) = self.parts();
        Problem {
            problem_type: "about:blank",
            title,
            status: self.status_code().as_u16(),
            code,
            detail,
            request_id: crate::web::current_request_id(),
            fields: match self {
                ApiError::Validation { fields } => Some(fields.clone()),
                _ => None,
            },
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            ApiError::Unauthenticated | ApiError::InvalidToken | ApiError::InvalidCredentials => {
                StatusCode::UNAUTHORIZED
            }
            ApiError::Forbidden => StatusCode::FORBIDDEN,
            ApiError::NotFound | ApiError::NoSuchRoute => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Conflict { .. } => StatusCode::CONFLICT,
            ApiError::PreconditionFailed => StatusCode::PRECONDITION_FAILED,
            ApiError::PreconditionRequired => StatusCode::PRECONDITION_REQUIRED,
            ApiError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::Validation { .. } | ApiError::InvalidBody { .. } => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            ApiError::RequestTimeout => StatusCode::REQUEST_TIMEOUT,
            ApiError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let ApiError::Internal(detail) = self {
            // The detail goes to the log (with the request id of the span), never to the client.
            tracing::error!(error = %detail, "internal error");
        }
        let mut response = HttpResponse::build(self.status_code());
        response.content_type("application/problem+json");
        match self {
            ApiError::Unauthenticated => {
                response.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
            }
            ApiError::InvalidToken => {
                response
                    .insert_header((header::WWW_AUTHENTICATE, "Bearer error=\"invalid_token\""));
            }
            ApiError::TooManyRequests { retry_after_secs } => {
                response.insert_header((header::RETRY_AFTER, retry_after_secs.to_string()));
            }
            ApiError::Unavailable => {
                response.insert_header((
                    header::RETRY_AFTER,
                    UNAVAILABLE_RETRY_AFTER_SECS.to_string(),
                ));
            }
            _ => {}
        }
        response.json(self.problem())
    }
}

impl From<DieselError> for ApiError {
    fn from(error: DieselError) -> Self {
        match error {
            DieselError::NotFound => ApiError::NotFound,
            DieselError::DatabaseError(kind, info) => match kind {
                DatabaseErrorKind::UniqueViolation => ApiError::conflict(
                    "already_exists",
                    "a record with the same unique value already exists",
                ),
                DatabaseErrorKind::ForeignKeyViolation => ApiError::conflict(
                    "referenced_record",
                    "the record refers to, or is referred to by, another record",
                ),
                DatabaseErrorKind::ClosedConnection
                | DatabaseErrorKind::UnableToSendCommand
                | DatabaseErrorKind::SerializationFailure => {
                    tracing::warn!(error = %info.message(), "database unavailable");
                    ApiError::Unavailable
                }
                _ if is_sqlite_unavailable(info.message()) => {
                    tracing::warn!(error = %info.message(), "database unavailable");
                    ApiError::Unavailable
                }
                _ => ApiError::internal(format!("database error: {}", info.message())),
            },
            other => ApiError::internal(format!("database error: {other}")),
        }
    }
}

/// SQLite reports a locked, read-only or full database only through its message.
fn is_sqlite_unavailable(message: &str) -> bool {
    const TRANSIENT: [&str; 5] = [
        "database is locked",
        "database table is locked",
        "database or disk is full",
        "disk I/O error",
        "attempt to write a readonly database",
    ];
    TRANSIENT.iter().any(|m| message.contains(m))
}

impl From<validator::ValidationErrors> for ApiError {
    fn from(errors: validator::ValidationErrors) -> Self {
        let mut fields = BTreeMap::new();
        collect_validation_errors(&errors, "", &mut fields);
        ApiError::Validation { fields }
    }
}

fn collect_validation_errors(
    errors: &validator::ValidationErrors,
    prefix: &str,
    out: &mut BTreeMap<String, Vec<String>>,
) {
    use validator::ValidationErrorsKind;
    for (field, kind) in errors.errors() {
        let name = if prefix.is_empty() {
            field.to_string()
        } else {
            format!("{prefix}.{field}")
        };
        match kind {
            ValidationErrorsKind::Field(list) => {
                out.entry(name)
                    .or_default()
                    .extend(list.iter().map(|e| e.code.to_string()));
            }
            ValidationErrorsKind::Struct(inner) => collect_validation_errors(inner, &name, out),
            ValidationErrorsKind::List(items) => {
                for (index, inner) in items {
                    collect_validation_errors(inner, &format!("{name}[{index}]"), out);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::body::MessageBody;

    #[test]
    fn internal_errors_show_nothing_but_the_request_id() {
        let error =
            ApiError::internal("connection to 10.0.0.5 refused: password authentication failed");
        let response = error.error_response();
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let body = response.into_body().try_into_bytes().unwrap();
        let text = String::from_utf8(body.to_vec()).unwrap();
        assert!(!text.contains("10.0.0.5"), "{text}");
        assert!(!text.contains("password"), "{text}");
        let json: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(json["code"], "internal_error");
        assert!(json.get("detail").is_none());
    }

    #[test]
    fn database_errors_map_to_stable_answers() {
        assert!(matches!(
            ApiError::from(DieselError::NotFound),
            ApiError::NotFound
        ));
        assert!(is_sqlite_unavailable("database is locked"));
        assert!(!is_sqlite_unavailable("no such table: units"));
    }
}
