//! In-app notifications, shared by the mechanisms: `notify` inside a writing transaction
//! (idempotent by a key, so a job that runs twice, or on two instances, notifies once), and the
//! user's own list.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use validator::Validate;

use crate::audit::{self, Actor, Event};
use crate::db::schema::notifications;
use crate::db::DbConn;
use crate::error::ApiError;
use crate::web::{Page, PageCursor};

mod handlers;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(handlers::my_notifications)
        .service(handlers::mark_read);
}

/// What to tell whom.
pub struct Notice<'a> {
    pub user_id: i64,
    /// e.g. `follow_up_overdue`, `contacts_below_plan`.
    pub kind: &'static str,
    pub title: String,
    pub entity: Option<&'static str>,
    pub entity_id: Option<i64>,
    /// The same key never notifies twice.
    pub dedupe_key: &'a str,
}

/// Creates the notification unless one with the same key exists; returns whether it did. Call
/// inside `db::write`, whose lock serialises writers, so that check and insert are one step.
pub fn notify(conn: &mut DbConn, notice: Notice, at: NaiveDateTime) -> Result<bool, ApiError> {
    let exists: bool = diesel::select(diesel::dsl::exists(
        notifications::table.filter(notifications::dedupe_key.eq(notice.dedupe_key)),
    ))
    .get_result(conn)?;
    if exists {
        return Ok(false);
    }
    diesel::insert_into(notifications::table)
        .values((
            notifications::user_id.eq(notice.user_id),
            notifications::kind.eq(notice.kind),
            notifications::title.eq(notice.title),
            notifications::entity.eq(notice.entity),
            notifications::entity_id.eq(notice.entity_id),
            notifications::dedupe_key.eq(notice.dedupe_key),
            notifications::created_at.eq(at),
        ))
        .execute(conn)?;
    Ok(true)
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = notifications)]
pub struct NotificationRow {
    pub id: i64,
    pub user_id: i64,
    pub kind: String,
    pub title: String,
    pub entity: Option<String>,
    pub entity_id: Option<i64>,
    pub dedupe_key: String,
    pub created_at: NaiveDateTime,
    pub read_at: Option<NaiveDateTime>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NotificationView {
    pub id: i64,
    pub kind: String,
    pub title: String,
    /// The record it is about, e.g. `follow_up` 12.
    pub entity: Option<String>,
    pub entity_id: Option<i64>,
    pub created_at: DateTime<Utc>,
    pub read_at: Option<DateTime<Utc>>,
}

impl From<NotificationRow> for NotificationView {
    fn from(row: NotificationRow) -> Self {
        NotificationView {
            id: row.id,
            kind: row.kind,
            title: row.title,
            entity: row.entity,
            entity_id: row.entity_id,
            created_at: row.created_at.and_utc(),
            read_at: row.read_at.map(|t| t.and_utc()),
        }
    }
}

#[derive(Debug, Deserialize, Validate, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct NotificationQuery {
    /// Only unread ones.
    pub unread: Option<bool>,
    /// Page size, 1 to 200 (default 50).
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

/// A user's notifications, newest first.
pub fn list(
    conn: &mut DbConn,
    user_id: i64,
    query: NotificationQuery,
) -> Result<Page<NotificationView>, ApiError> {
    let page = PageCursor::new(query.limit, query.cursor.as_deref())?;
    let mut select = notifications::table
        .filter(notifications::user_id.eq(user_id))
        .select(NotificationRow::as_select())
        .order(notifications::id.desc())
        .limit(page.fetch())
        .into_boxed();
    if let Some(after) = page.after {
        select = select.filter(notifications::id.lt(after));
    }
    if query.unread == Some(true) {
        select = select.filter(notifications::read_at.is_null());
    }
    let rows = select.load(conn)?;
    Ok(page.page(rows, |r| r.id, NotificationView::from))
}

/// Marks one of the user's own notifications read; another's answers 404.
pub fn mark_read(
    conn: &mut DbConn,
    actor: &Actor,
    id: i64,
    at: NaiveDateTime,
) -> Result<NotificationView, ApiError> {
    let user_id = actor.user_id.ok_or(ApiError::Unauthenticated)?;
    let row: NotificationRow = notifications::table
        .find(id)
        .filter(notifications::user_id.eq(user_id))
        .select(NotificationRow::as_select())
        .first(conn)
        .optional()?
        .ok_or(ApiError::NotFound)?;
    if row.read_at.is_none() {
        diesel::update(notifications::table.find(id))
            .set(notifications::read_at.eq(at))
            .execute(conn)?;
        audit::record(
            conn,
            actor,
            Event::new("notification.read", "notification", id),
        )?;
    }
    let row = notifications::table
        .find(id)
        .select(NotificationRow::as_select())
        .first(conn)?;
    Ok(row.into())
}
