//! Liveness and readiness probes (outside `/api/v1`, no token).

use actix_web::{get, web};
use diesel::r2d2::R2D2Connection;
use serde::Serialize;
use utoipa::ToSchema;

use crate::db::{self, DbPool};
use crate::error::{ApiError, Problem};

#[derive(Debug, Serialize, ToSchema)]
pub struct HealthStatus {
    /// `ok`.
    pub status: &'static str,
}

/// The process is up.
#[utoipa::path(tag = "health", responses((status = 200, body = HealthStatus)))]
#[get("/health/live")]
pub async fn live() -> web::Json<HealthStatus> {
    web::Json(HealthStatus { status: "ok" })
}

/// The database answers; 503 with `Retry-After` while it does not.
#[utoipa::path(
    tag = "health",
    responses((status = 200, body = HealthStatus), (status = 503, body = Problem, content_type = "application/problem+json"))
)]
#[get("/health/ready")]
pub async fn ready(pool: web::Data<DbPool>) -> Result<web::Json<HealthStatus>, ApiError> {
    db::run(&pool, |conn| conn.ping().map_err(ApiError::from)).await?;
    Ok(web::Json(HealthStatus { status: "ok" }))
}
