//! Extractors that turn any malformed input into a clear 4xx in the one error shape.

use std::future::Future;
use std::ops::Deref;
use std::pin::Pin;

use actix_web::error::{JsonPayloadError, PathError, QueryPayloadError};
use actix_web::{dev::Payload, web, FromRequest, HttpRequest};
use serde::de::DeserializeOwned;
use validator::Validate;

use crate::error::ApiError;

/// The largest JSON body any route accepts.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// How long a client may take to send a request body (app data; a slow client cannot hold a
/// worker).
#[derive(Debug, Clone, Copy)]
pub struct BodyTimeout(pub std::time::Duration);

/// Waits for a body, at most the configured time (10 s without configuration): 408 after.
pub async fn within_body_timeout<T>(
    req_timeout: Option<BodyTimeout>,
    body: impl Future<Output = T>,
) -> Result<T, ApiError> {
    let limit = req_timeout.map_or(std::time::Duration::from_secs(10), |t| t.0);
    actix_web::rt::time::timeout(limit, body)
        .await
        .map_err(|_| ApiError::RequestTimeout)
}

/// A JSON body that is deserialised strictly (the types reject unknown fields), holds no NUL
/// character anywhere (PostgreSQL cannot store one), and passes its `validator` rules.
#[derive(Debug)]
pub struct ValidatedJson<T>(pub T);

impl<T> ValidatedJson<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> Deref for ValidatedJson<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: DeserializeOwned + Validate + 'static> FromRequest for ValidatedJson<T> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let body =
            web::JsonBody::<serde_json::Value>::new(req, payload, None, true).limit(MAX_BODY_BYTES);
        let timeout = req
            .app_data::<web::Data<BodyTimeout>>()
            .map(|t| *t.get_ref());
        Box::pin(async move {
            let value = within_body_timeout(timeout, body)
                .await?
                .map_err(|e| json_error(&e))?;
            if let Some(path) = find_nul(&value, String::new()) {
                return Err(ApiError::field(
                    if path.is_empty() { "body" } else { &path },
                    "nul_character",
                ));
            }
            let body: T = serde_json::from_value(value).map_err(|e| invalid_body(&e))?;
            body.validate()?;
            Ok(ValidatedJson(body))
        })
    }
}

/// The path of the first string (key or value) that holds a NUL character.
fn find_nul(value: &serde_json::Value, path: String) -> Option<String> {
    match value {
        serde_json::Value::String(s) if s.contains('\0') => Some(path),
        serde_json::Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, v)| find_nul(v, format!("{path}[{i}]"))),
        serde_json::Value::Object(map) => map.iter().find_map(|(k, v)| {
            let key_path = if path.is_empty() {
                k.clone()
            } else {
                format!("{path}.{k}")
            };
            if k.contains('\0') {
                Some(key_path)
            } else {
                find_nul(v, key_path)
            }
        }),
        _ => None,
    }
}

/// A body of the wrong shape, told in serde's words with long digit runs (which could be ID or
/// phone numbers sent in the wrong field) hidden: error answers never echo protected values.
pub fn invalid_body(error: &dyn std::fmt::Display) -> ApiError {
    ApiError::InvalidBody {
        detail: redact_digit_runs(&error.to_string()),
    }
}

fn redact_digit_runs(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut run = String::new();
    for c in text.chars().chain(std::iter::once('\0')) {
        if c.is_ascii_digit() || (c == 'X' && !run.is_empty()) {
            run.push(c);
            continue;
        }
        if run.len() >= 7 {
            out.push_str("***");
        } else {
            out.push_str(&run);
        }
        run.clear();
        if c != '\0' {
            out.push(c);
        }
    }
    out
}

fn json_error(error: &JsonPayloadError) -> ApiError {
    match error {
        JsonPayloadError::OverflowKnownLength { .. } | JsonPayloadError::Overflow { .. } => {
            ApiError::PayloadTooLarge
        }
        JsonPayloadError::ContentType => ApiError::UnsupportedMediaType,
        JsonPayloadError::Deserialize(e) if e.is_data() => invalid_body(e),
        JsonPayloadError::Deserialize(e) => {
            ApiError::bad_request("malformed_json", format!("the body is not valid JSON: {e}"))
        }
        JsonPayloadError::Payload(actix_web::error::PayloadError::Overflow) => {
            ApiError::PayloadTooLarge
        }
        _ => ApiError::bad_request("malformed_json", "the body could not be read as JSON"),
    }
}

/// Query parameters that are deserialised and then checked by their `validator` rules.
#[derive(Debug)]
pub struct ValidatedQuery<T>(pub T);

impl<T> ValidatedQuery<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T: DeserializeOwned + Validate> FromRequest for ValidatedQuery<T> {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let result = serde_urlencoded::from_str::<T>(req.query_string())
            .map_err(|e| ApiError::bad_request("invalid_query", e.to_string()))
            .and_then(|query| {
                query.validate()?;
                Ok(ValidatedQuery(query))
            });
        std::future::ready(result)
    }
}

/// One part of a query string that another part shares: its keys.
pub trait QueryPart: DeserializeOwned + Validate {
    const KEYS: &'static [&'static str];
}

/// A query string split in two: the keys of `P` (e.g. the page and order) and the rest `F`
/// (e.g. a filter that the list, the export and the statistics share). Each part is
/// deserialised strictly and validated; serde's `flatten` cannot do this for query strings.
#[derive(Debug)]
pub struct SplitQuery<F, P>(pub F, pub P);

impl<F: DeserializeOwned + Validate, P: QueryPart> FromRequest for SplitQuery<F, P> {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(split_query(req.query_string()))
    }
}

fn split_query<F: DeserializeOwned + Validate, P: QueryPart>(
    query: &str,
) -> Result<SplitQuery<F, P>, ApiError> {
    let invalid = |e: &dyn std::fmt::Display| ApiError::bad_request("invalid_query", e.to_string());
    let pairs: Vec<(String, String)> =
        serde_urlencoded::from_str(query).map_err(|e| invalid(&e))?;
    let (own, rest): (Vec<_>, Vec<_>) = pairs
        .into_iter()
        .partition(|(k, _)| P::KEYS.contains(&k.as_str()));
    let encode =
        |pairs: Vec<(String, String)>| serde_urlencoded::to_string(pairs).map_err(|e| invalid(&e));
    let filter: F = serde_urlencoded::from_str(&encode(rest)?).map_err(|e| invalid(&e))?;
    let part: P = serde_urlencoded::from_str(&encode(own)?).map_err(|e| invalid(&e))?;
    filter.validate()?;
    part.validate()?;
    Ok(SplitQuery(filter, part))
}

/// For plain `web::Json` (not used by the API's own routes, which take `ValidatedJson`).
pub fn json_config() -> web::JsonConfig {
    web::JsonConfig::default()
        .limit(MAX_BODY_BYTES)
        .error_handler(|e, _| json_error(&e).into())
}

pub fn query_config() -> web::QueryConfig {
    web::QueryConfig::default().error_handler(|e: QueryPayloadError, _| {
        ApiError::bad_request("invalid_query", e.to_string()).into()
    })
}

/// A path segment that does not parse (an id that is not a number) names no record: 404.
pub fn path_config() -> web::PathConfig {
    web::PathConfig::default().error_handler(|_: PathError, _| ApiError::NotFound.into())
}

#[cfg(test)]
mod tests {
    use super::find_nul;
    use serde_json::json;

    #[test]
    fn long_digit_runs_are_hidden_from_error_details() {
        assert_eq!(
            super::redact_digit_runs(
                "unknown variant `51010219900101123X`, expected `male` at line 1 column 12"
            ),
            "unknown variant `***`, expected `male` at line 1 column 12"
        );
        assert_eq!(
            super::redact_digit_runs("invalid type: integer `13812345678`"),
            "invalid type: integer `***`"
        );
    }

    #[test]
    fn finds_nul_in_nested_values_and_keys() {
        assert_eq!(
            find_nul(&json!({"a": "ok", "b": ["x", "y\u{0}"]}), String::new()).as_deref(),
            Some("b[1]")
        );
        assert_eq!(
            find_nul(&json!({"a\u{0}": 1}), String::new()).as_deref(),
            Some("a\u{0}")
        );
        assert_eq!(find_nul(&json!({"a": {"b": "fine"}}), String::new()), None);
    }
}
