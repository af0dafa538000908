//! HTTP plumbing shared by every domain: the request context (request id, log span, security
//! headers, one error shape), JSON/query extractors that validate, pagination, and the
//! optimistic-concurrency headers.

mod context;
mod extract;
mod limits;
mod pagination;
mod version;

pub use context::{current_request_id, request_context};
pub use extract::{
    invalid_body, json_config, path_config, query_config, within_body_timeout, BodyTimeout,
    QueryPart, SplitQuery, ValidatedJson, ValidatedQuery,
};
pub use limits::{rate_limit, RateLimiter, RateLimits};
pub use pagination::{Page, PageCursor, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE};
pub use version::{if_match, with_etag};

/// The answer for a path that no route serves.
pub async fn no_such_route() -> Result<actix_web::HttpResponse, crate::error::ApiError> {
    Err(crate::error::ApiError::NoSuchRoute)
}
