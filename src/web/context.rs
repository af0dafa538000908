//! The request context: a request id on every request (taken from `X-Request-Id` when the
//! client sends a sane one), a tracing span that carries it on every log line, security headers,
//! and the guarantee that every error answer is a problem+json body.

use std::time::Instant;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{HttpResponse, ResponseError};
use rand::Rng;
use tracing::Instrument;

use crate::error::ApiError;

tokio::task_local! {
    static REQUEST_ID: String;
}

pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// The id of the request being served on this task, or `-` outside a request.
pub fn current_request_id() -> String {
    REQUEST_ID
        .try_with(Clone::clone)
        .unwrap_or_else(|_| "-".to_owned())
}

fn is_acceptable_request_id(value: &str) -> bool {
    (1..=64).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

fn new_request_id() -> String {
    let bytes: [u8; 12] = rand::rng().random();
    hex::encode(bytes)
}

/// Middleware: wraps every request in its context.
pub async fn request_context(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let request_id = req
        .headers()
        .get(REQUEST_ID_HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| is_acceptable_request_id(v))
        .map_or_else(new_request_id, str::to_owned);
    let span = tracing::info_span!(
        "request",
        request_id = %request_id,
        method = %req.method(),
        route = tracing::field::Empty,
        user_id = tracing::field::Empty,
    );
    let started = Instant::now();

    let response = REQUEST_ID
        .scope(request_id.clone(), async move {
            // Handlers and extractors turn their errors into responses inside `call`; an `Err`
            // here could only come from an inner middleware, and there is none.
            let response = next.call(req).await?.map_into_boxed_body();
            Ok::<_, actix_web::Error>(as_problem(response))
        })
        .instrument(span.clone())
        .await?;

    let mut response = response;
    let is_api = {
        let path = response.request().path();
        path.starts_with("/api/") || path.starts_with("/health/")
    };
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        headers.insert(HeaderName::from_static(REQUEST_ID_HEADER), value);
    }
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    if is_api {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }

    let status = response.status().as_u16();
    span.record(
        "route",
        response.request().match_pattern().as_deref().unwrap_or("-"),
    );
    // Whole microseconds: no long digit runs in the log that a scan could take for a number.
    let elapsed_ms = (started.elapsed().as_secs_f64() * 1_000_000.0).round() / 1000.0;
    span.in_scope(|| {
        if status >= 500 {
            tracing::error!(status, elapsed_ms, "request failed");
        } else {
            tracing::info!(status, elapsed_ms, "request served");
        }
    });
    Ok(response)
}

/// Replaces an error answer that is not already problem+json (actix's own 404/405/413 and the
/// like) with one in the documented shape.
fn as_problem(response: ServiceResponse<BoxBody>) -> ServiceResponse<BoxBody> {
    let status = response.status();
    if status.as_u16() < 400 {
        return response;
    }
    let is_problem = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/problem+json"));
    if is_problem {
        return response;
    }
    let error = match status.as_u16() {
        401 => ApiError::Unauthenticated,
        403 => ApiError::Forbidden,
        404 => ApiError::NoSuchRoute,
        405 => ApiError::MethodNotAllowed,
        413 => ApiError::PayloadTooLarge,
        415 => ApiError::UnsupportedMediaType,
        503 => ApiError::Unavailable,
        400..=499 => ApiError::bad_request("bad_request", "the request could not be understood"),
        _ => ApiError::internal(format!("unmapped error response with status {status}")),
    };
    let replacement: HttpResponse = error.error_response();
    response.into_response(replacement)
}
