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

/// The methods each documented path serves (app data), for 405 answers and their `Allow`.
pub struct AllowedMethods(Vec<(Vec<String>, Vec<&'static str>)>);

impl AllowedMethods {
    pub fn from_document(doc: &utoipa::openapi::OpenApi) -> AllowedMethods {
        let routes = doc
            .paths
            .paths
            .iter()
            .map(|(path, item)| {
                let methods = [
                    ("GET", item.get.is_some()),
                    ("POST", item.post.is_some()),
                    ("PUT", item.put.is_some()),
                    ("PATCH", item.patch.is_some()),
                    ("DELETE", item.delete.is_some()),
                ];
                let segments = path.split('/').map(str::to_owned).collect();
                (
                    segments,
                    methods
                        .into_iter()
                        .filter(|(_, on)| *on)
                        .map(|(m, _)| m)
                        .collect(),
                )
            })
            .collect();
        AllowedMethods(routes)
    }

    /// The methods served at a concrete path. `{…}` segments match anything, and only the
    /// most specific matching templates count: `/cadres/{id}/archive` shadows
    /// `/cadres/{id}/{kind}`, so its `Allow` names only what the documented path serves.
    fn at(&self, path: &str) -> Vec<&'static str> {
        let parts: Vec<&str> = path.split('/').collect();
        let matching: Vec<(usize, &Vec<&'static str>)> = self
            .0
            .iter()
            .filter(|(segments, _)| {
                segments.len() == parts.len()
                    && segments
                        .iter()
                        .zip(&parts)
                        .all(|(s, p)| s.starts_with('{') || s == p)
            })
            .map(|(segments, methods)| {
                let literal = segments.iter().filter(|s| !s.starts_with('{')).count();
                (literal, methods)
            })
            .collect();
        let most_specific = matching.iter().map(|(literal, _)| *literal).max();
        let mut methods: Vec<&'static str> = matching
            .iter()
            .filter(|(literal, _)| Some(*literal) == most_specific)
            .flat_map(|(_, methods)| methods.iter().copied())
            .collect();
        methods.sort_unstable();
        methods.dedup();
        methods
    }
}

/// The answer for a request no route serves: 405 with `Allow` when the path exists for other
/// methods only, else 404.
pub async fn no_such_route(
    req: actix_web::HttpRequest,
) -> Result<actix_web::HttpResponse, crate::error::ApiError> {
    use actix_web::ResponseError;
    let allowed = req
        .app_data::<actix_web::web::Data<AllowedMethods>>()
        .map(|routes| routes.at(req.path()))
        .unwrap_or_default();
    // A documented method that still reached here failed a segment constraint
    // (`/cadres/1/hobbies`): the path does not exist.
    if allowed.is_empty() || allowed.contains(&req.method().as_str()) {
        return Err(crate::error::ApiError::NoSuchRoute);
    }
    let mut response = crate::error::ApiError::MethodNotAllowed.error_response();
    if let Ok(value) = actix_web::http::header::HeaderValue::from_str(&allowed.join(", ")) {
        response
            .headers_mut()
            .insert(actix_web::http::header::ALLOW, value);
    }
    Ok(response)
}
