//! Auditor endpoints: read the log, verify the chain.

use actix_web::{get, web};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use validator::Validate;

use super::repo::{verify, AuditRow, VerifyReport};
use crate::auth::{can, Authorized};
use crate::db::{self, schema::audit_events, DbPool};
use crate::error::{ApiError, Problem};
use crate::web::{Page, PageCursor, ValidatedQuery};

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(list_events).service(verify_chain);
}

/// Filters for the audit log; all optional and combined with AND.
#[derive(Debug, Deserialize, Validate, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Entity kind, e.g. `user`, `unit`, `session`.
    #[validate(length(max = 64))]
    pub entity: Option<String>,
    #[validate(length(max = 64))]
    pub entity_id: Option<String>,
    /// The acting user's id.
    pub actor_id: Option<i64>,
    /// e.g. `user.created`, `auth.login_failed`.
    #[validate(length(max = 64))]
    pub action: Option<String>,
    /// Events at or after this time (RFC 3339).
    pub from: Option<DateTime<Utc>>,
    /// Events before this time (RFC 3339).
    pub to: Option<DateTime<Utc>>,
    /// Page size, 1 to 200 (default 50).
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

/// One audit event, newest first in lists.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEventView {
    pub seq: i64,
    pub occurred_at: DateTime<Utc>,
    pub actor_id: Option<i64>,
    pub actor_label: String,
    pub actor_roles: Vec<String>,
    pub action: String,
    pub entity: String,
    pub entity_id: Option<String>,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
    pub request_id: Option<String>,
    pub prev_hash: String,
    pub hash: String,
}

impl From<AuditRow> for AuditEventView {
    fn from(row: AuditRow) -> Self {
        let parse = |s: Option<String>| s.and_then(|s| serde_json::from_str(&s).ok());
        AuditEventView {
            seq: row.seq,
            occurred_at: row.occurred_at.and_utc(),
            actor_id: row.actor_id,
            actor_label: row.actor_label,
            actor_roles: row
                .actor_roles
                .split(',')
                .filter(|r| !r.is_empty())
                .map(str::to_owned)
                .collect(),
            action: row.action,
            entity: row.entity,
            entity_id: row.entity_id,
            before: parse(row.before_json),
            after: parse(row.after_json),
            request_id: row.request_id,
            prev_hash: row.prev_hash,
            hash: row.hash,
        }
    }
}

/// List audit events, newest first.
#[utoipa::path(
    tag = "audit",
    params(AuditQuery),
    responses(
        (status = 200, body = inline(Page<AuditEventView>)),
        (status = 400, body = Problem, content_type = "application/problem+json"), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["AuditRead"]))
)]
#[get("/audit/events")]
pub async fn list_events(
    _auth: Authorized<can::AuditRead>,
    pool: web::Data<DbPool>,
    query: ValidatedQuery<AuditQuery>,
) -> Result<web::Json<Page<AuditEventView>>, ApiError> {
    let q = query.into_inner();
    let page = PageCursor::new(q.limit, q.cursor.as_deref())?;
    let rows = db::run(&pool, move |conn| {
        let mut select = audit_events::table
            .select(AuditRow::as_select())
            .order(audit_events::seq.desc())
            .limit(page.fetch())
            .into_boxed();
        if let Some(after) = page.after {
            select = select.filter(audit_events::seq.lt(after));
        }
        if let Some(entity) = q.entity {
            select = select.filter(audit_events::entity.eq(entity));
        }
        if let Some(entity_id) = q.entity_id {
            select = select.filter(audit_events::entity_id.eq(entity_id));
        }
        if let Some(actor_id) = q.actor_id {
            select = select.filter(audit_events::actor_id.eq(actor_id));
        }
        if let Some(action) = q.action {
            select = select.filter(audit_events::action.eq(action));
        }
        if let Some(from) = q.from {
            select = select.filter(audit_events::occurred_at.ge(from.naive_utc()));
        }
        if let Some(to) = q.to {
            select = select.filter(audit_events::occurred_at.lt(to.naive_utc()));
        }
        Ok(select.load(conn)?)
    })
    .await?;
    Ok(web::Json(page.page(rows, |r| r.seq, AuditEventView::from)))
}

/// Re-compute the hash chain and report the first broken row.
#[utoipa::path(
    tag = "audit",
    responses(
        (status = 200, body = VerifyReport),
        (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["AuditRead"]))
)]
#[get("/audit/verify")]
pub async fn verify_chain(
    _auth: Authorized<can::AuditRead>,
    pool: web::Data<DbPool>,
) -> Result<web::Json<VerifyReport>, ApiError> {
    Ok(web::Json(db::run(&pool, verify).await?))
}
