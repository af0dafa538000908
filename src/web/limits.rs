//! Per-address rate limits: one budget per minute for every API request and a smaller one for
//! logins, answering 429 with `Retry-After` when spent. Kept in memory per process (a limit
//! that must hold across instances belongs in the proxy in front); per-account login throttling,
//! which must survive restarts, is in the database (accounts).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use actix_web::body::BoxBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::middleware::Next;
use actix_web::{web, ResponseError};

use crate::error::ApiError;

const WINDOW: Duration = Duration::from_secs(60);
/// Past this many tracked addresses, windows that have ended are forgotten.
const PRUNE_ABOVE: usize = 10_000;

/// Requests per minute per address; `None` switches a limit off.
#[derive(Debug, Clone, Copy)]
pub struct RateLimits {
    pub api_per_minute: Option<u32>,
    pub login_per_minute: Option<u32>,
}

#[derive(Default)]
struct Window {
    started: Option<Instant>,
    api: u32,
    login: u32,
}

pub struct RateLimiter {
    limits: RateLimits,
    windows: Mutex<HashMap<IpAddr, Window>>,
}

impl RateLimiter {
    pub fn new(limits: RateLimits) -> RateLimiter {
        RateLimiter {
            limits,
            windows: Mutex::new(HashMap::new()),
        }
    }

    /// Counts a request; returns the seconds to wait when a budget is spent.
    fn check(&self, address: IpAddr, login: bool, now: Instant) -> Option<u64> {
        let mut windows = self
            .windows
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if windows.len() > PRUNE_ABOVE {
            windows.retain(|_, w| w.started.is_some_and(|s| now.duration_since(s) < WINDOW));
        }
        let window = windows.entry(address).or_default();
        let started = match window.started {
            Some(started) if now.duration_since(started) < WINDOW => started,
            _ => {
                *window = Window {
                    started: Some(now),
                    api: 0,
                    login: 0,
                };
                now
            }
        };
        let retry_after = (WINDOW.saturating_sub(now.duration_since(started)))
            .as_secs()
            .max(1);
        window.api += 1;
        if self
            .limits
            .api_per_minute
            .is_some_and(|limit| window.api > limit)
        {
            return Some(retry_after);
        }
        if login {
            window.login += 1;
            if self
                .limits
                .login_per_minute
                .is_some_and(|limit| window.login > limit)
            {
                return Some(retry_after);
            }
        }
        None
    }
}

/// Middleware: applies the limits to `/api/` requests.
pub async fn rate_limit(
    req: ServiceRequest,
    next: Next<BoxBody>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let limiter = req.app_data::<web::Data<RateLimiter>>().cloned();
    let path = req.path();
    if let (Some(limiter), true) = (limiter, path.starts_with("/api/")) {
        let login = req.method() == Method::POST && path == "/api/v1/auth/login";
        if let Some(address) = req.peer_addr().map(|a| a.ip()) {
            if let Some(retry_after_secs) = limiter.check(address, login, Instant::now()) {
                let response = ApiError::TooManyRequests { retry_after_secs }.error_response();
                return Ok(req.into_response(response));
            }
        }
    }
    next.call(req).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budgets_are_per_address_and_per_window() {
        let limiter = RateLimiter::new(RateLimits {
            api_per_minute: Some(3),
            login_per_minute: Some(1),
        });
        let (a, b) = ("127.0.0.1".parse().unwrap(), "127.0.0.2".parse().unwrap());
        let now = Instant::now();
        assert_eq!(limiter.check(a, true, now), None);
        assert!(
            limiter.check(a, true, now).is_some(),
            "second login in the minute"
        );
        assert_eq!(
            limiter.check(b, true, now),
            None,
            "another address has its own budget"
        );
        assert_eq!(limiter.check(a, false, now), None);
        assert!(
            limiter.check(a, false, now).is_some(),
            "fourth request in the minute"
        );
        assert_eq!(limiter.check(a, false, now + WINDOW), None, "a new window");
    }
}
