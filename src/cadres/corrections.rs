//! Correction requests: a representative asks for changes to their own profile; UFWD staff
//! approve (the changes are applied through the same rules as any edit) or reject. The request,
//! the decision and the profile before and after all stay in the audit trail. The requested
//! changes are encrypted at rest, since they may hold an ID number or phone.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use super::dto::UpdateCadreRequest;
use super::identity::{mask_id_number, mask_phone};
use super::model::CorrectionRow;
use super::{repo, service};
use crate::audit::{self, Actor, Event};
use crate::crypto::DataKey;
use crate::db::schema::profile_corrections;
use crate::db::{self, DbConn};
use crate::error::ApiError;
use crate::web::{Page, PageCursor};

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CorrectionRequest {
    /// The fields to change, as in `PATCH /cadres/{id}`.
    #[validate(nested)]
    pub changes: UpdateCadreRequest,
    #[validate(length(min = 1, max = 1000))]
    pub reason: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    Approve,
    Reject,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionRequest {
    pub decision: Decision,
    #[validate(length(min = 1, max = 1000))]
    pub note: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CorrectionStatus {
    Pending,
    Approved,
    Rejected,
}

impl CorrectionStatus {
    fn as_str(self) -> &'static str {
        match self {
            CorrectionStatus::Pending => "pending",
            CorrectionStatus::Approved => "approved",
            CorrectionStatus::Rejected => "rejected",
        }
    }

    fn parse(value: &str) -> CorrectionStatus {
        match value {
            "approved" => CorrectionStatus::Approved,
            "rejected" => CorrectionStatus::Rejected,
            _ => CorrectionStatus::Pending,
        }
    }
}

#[derive(Debug, Deserialize, Validate, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CorrectionQuery {
    /// Default: pending.
    pub status: Option<CorrectionStatus>,
    /// Page size, 1 to 200 (default 50).
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CorrectionView {
    pub id: i64,
    pub cadre_id: i64,
    pub requested_by: i64,
    /// The requested changes, ID number and phone masked.
    #[schema(value_type = UpdateCadreRequest)]
    pub changes: serde_json::Value,
    pub reason: String,
    pub status: CorrectionStatus,
    pub decided_by: Option<i64>,
    pub decision_note: Option<String>,
    pub decided_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

fn context(id: i64) -> String {
    format!("profile_correction:{id}:changes")
}

fn masked(changes: &UpdateCadreRequest) -> serde_json::Value {
    let mut shown = changes.clone();
    if let Some(Some(id_number)) = &shown.id_number {
        shown.id_number = Some(Some(mask_id_number(id_number)));
    }
    if let Some(Some(phone)) = &shown.phone {
        shown.phone = Some(Some(mask_phone(phone)));
    }
    serde_json::to_value(shown).unwrap_or_default()
}

fn changes_of(key: &DataKey, row: &CorrectionRow) -> Result<UpdateCadreRequest, ApiError> {
    let plain = key.decrypt(&context(row.id), &row.changes)?;
    serde_json::from_str(&plain)
        .map_err(|e| ApiError::internal(format!("stored correction does not parse: {e}")))
}

fn view(key: &DataKey, row: CorrectionRow) -> Result<CorrectionView, ApiError> {
    let changes = masked(&changes_of(key, &row)?);
    Ok(CorrectionView {
        id: row.id,
        cadre_id: row.cadre_id,
        requested_by: row.requested_by,
        changes,
        reason: row.reason,
        status: CorrectionStatus::parse(&row.status),
        decided_by: row.decided_by,
        decision_note: row.decision_note,
        decided_at: row.decided_at.map(|t| t.and_utc()),
        created_at: row.created_at.and_utc(),
    })
}

fn find(conn: &mut DbConn, id: i64) -> Result<CorrectionRow, ApiError> {
    profile_corrections::table
        .find(id)
        .select(CorrectionRow::as_select())
        .first(conn)
        .optional()?
        .ok_or(ApiError::NotFound)
}

/// Files a request; the changes must already make a valid profile.
pub fn request(
    conn: &mut DbConn,
    key: &DataKey,
    actor: &Actor,
    cadre_id: i64,
    input: CorrectionRequest,
) -> Result<CorrectionView, ApiError> {
    let requested_by = actor.user_id.ok_or(ApiError::Unauthenticated)?;
    let row = repo::find(conn, cadre_id)?.ok_or(ApiError::NotFound)?;
    let mut preview = service::profile_of(key, &row)?.with_changes(input.changes.clone());
    service::check_profile(conn, &mut preview)?;
    let id: i64 = diesel::insert_into(profile_corrections::table)
        .values((
            profile_corrections::cadre_id.eq(cadre_id),
            profile_corrections::requested_by.eq(requested_by),
            profile_corrections::changes.eq(""),
            profile_corrections::reason.eq(input.reason.trim()),
            profile_corrections::status.eq(CorrectionStatus::Pending.as_str()),
            profile_corrections::created_at.eq(db::now()),
        ))
        .returning(profile_corrections::id)
        .get_result(conn)?;
    let sealed = key.encrypt(
        &context(id),
        &serde_json::to_string(&input.changes).map_err(|e| ApiError::internal(e.to_string()))?,
    )?;
    diesel::update(profile_corrections::table.find(id))
        .set(profile_corrections::changes.eq(sealed))
        .execute(conn)?;
    let created = view(key, find(conn, id)?)?;
    audit::record(
        conn,
        actor,
        Event::new("profile_correction.requested", "profile_correction", id).after(&created),
    )?;
    Ok(created)
}

pub fn decide(
    conn: &mut DbConn,
    key: &DataKey,
    actor: &Actor,
    id: i64,
    input: DecisionRequest,
) -> Result<CorrectionView, ApiError> {
    let row = find(conn, id)?;
    if row.status != CorrectionStatus::Pending.as_str() {
        return Err(ApiError::conflict(
            "already_decided",
            "this correction request has been decided",
        ));
    }
    let before = view(key, row.clone())?;
    let status = match input.decision {
        Decision::Approve => {
            let cadre = repo::find(conn, row.cadre_id)?.ok_or(ApiError::NotFound)?;
            service::update(
                conn,
                key,
                actor,
                row.cadre_id,
                cadre.version,
                changes_of(key, &row)?,
            )?;
            CorrectionStatus::Approved
        }
        Decision::Reject => CorrectionStatus::Rejected,
    };
    diesel::update(profile_corrections::table.find(id))
        .set((
            profile_corrections::status.eq(status.as_str()),
            profile_corrections::decided_by.eq(actor.user_id),
            profile_corrections::decision_note.eq(input.note),
            profile_corrections::decided_at.eq(db::now()),
        ))
        .execute(conn)?;
    let after = view(key, find(conn, id)?)?;
    let action = if status == CorrectionStatus::Approved {
        "profile_correction.approved"
    } else {
        "profile_correction.rejected"
    };
    audit::record(
        conn,
        actor,
        Event::new(action, "profile_correction", id)
            .before(&before)
            .after(json!(after)),
    )?;
    Ok(after)
}

/// Correction requests, oldest first; of one cadre when `cadre_id` is given.
pub fn list(
    conn: &mut DbConn,
    key: &DataKey,
    cadre_id: Option<i64>,
    query: CorrectionQuery,
) -> Result<Page<CorrectionView>, ApiError> {
    let page = PageCursor::new(query.limit, query.cursor.as_deref())?;
    let mut select = profile_corrections::table
        .select(CorrectionRow::as_select())
        .order(profile_corrections::id.asc())
        .limit(page.fetch())
        .into_boxed();
    if let Some(after) = page.after {
        select = select.filter(profile_corrections::id.gt(after));
    }
    if let Some(cadre_id) = cadre_id {
        select = select.filter(profile_corrections::cadre_id.eq(cadre_id));
        if let Some(status) = query.status {
            select = select.filter(profile_corrections::status.eq(status.as_str()));
        }
    } else {
        let status = query.status.unwrap_or(CorrectionStatus::Pending);
        select = select.filter(profile_corrections::status.eq(status.as_str()));
    }
    let rows = select.load(conn)?;
    let page = page.page(rows, |r| r.id, |row| view(key, row));
    Ok(Page {
        items: page.items.into_iter().collect::<Result<_, _>>()?,
        next_cursor: page.next_cursor,
    })
}
