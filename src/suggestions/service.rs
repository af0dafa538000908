//! The rules of the direct channel: submission (idempotent, with co-signers), intake,
//! presentation to leaders, instructions that assign departments, handling (acknowledge,
//! progress, extension or return requests, reply), the representative's rating with new rounds,
//! and closing. Every illegal move is 409 with the reason; every change is audited.

use std::collections::{BTreeSet, HashMap};

use chrono::{Duration, NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use sha2::{Digest, Sha256};

use super::dto::*;
use crate::accounts::dto::UnitKind;
use crate::audit::{self, Actor, Event};
use crate::auth::Role;
use crate::db::kept_sql::id_in;
use crate::db::schema::{
    assignment_progress, assignment_requests, assignments, cadres, instructions,
    suggestion_cosigners, suggestion_presentations, suggestion_ratings, suggestion_supplements,
    suggestions, units, user_roles, users,
};
use crate::db::DbConn;
use crate::error::ApiError;
use crate::notifications::{notify, Notice};
use crate::text::normalise;
use crate::web::{Page, PageCursor};

/// Co-signers confirm within this many days of submission.
pub const COSIGN_DAYS: i64 = 7;
/// "Due soon" means within this many days.
pub const DUE_SOON_DAYS: i64 = 7;

/// Whose suggestions a caller may see. Anything outside answers 404.
#[derive(Debug, Clone, Copy)]
pub enum Scope {
    All,
    Leader(i64),
    Department(i64),
    Representative(i64),
    Nothing,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = suggestions)]
pub struct SuggestionRow {
    pub id: i64,
    pub author_cadre_id: i64,
    pub submitted_by: i64,
    pub title: String,
    pub body: String,
    pub category: String,
    pub status: String,
    pub round: i32,
    pub intake_reason_code: Option<String>,
    pub intake_explanation: Option<String>,
    pub merged_into: Option<i64>,
    pub closed_reason: Option<String>,
    pub idempotency_key: Option<String>,
    pub request_hash: Option<String>,
    pub version: i32,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = assignments)]
pub struct AssignmentRow {
    pub id: i64,
    pub suggestion_id: i64,
    pub instruction_id: i64,
    pub round: i32,
    pub unit_id: i64,
    pub lead: bool,
    pub due_on: NaiveDate,
    pub status: String,
    pub acknowledged_at: Option<NaiveDateTime>,
    pub result: Option<String>,
    pub reply_text: Option<String>,
    pub not_adopted_reason: Option<String>,
    pub replied_at: Option<NaiveDateTime>,
    pub internal_notes: Option<String>,
    pub version: i32,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

fn status_of(row: &SuggestionRow) -> Result<SuggestionStatus, ApiError> {
    SuggestionStatus::parse(&row.status)
        .ok_or_else(|| ApiError::internal("stored suggestion status is not a known value"))
}

fn illegal(what: &str, status: SuggestionStatus) -> ApiError {
    ApiError::conflict(
        "illegal_transition",
        format!(
            "{what} is not possible while the suggestion is {}",
            status.as_str()
        ),
    )
}

fn find(conn: &mut DbConn, id: i64) -> Result<SuggestionRow, ApiError> {
    suggestions::table
        .find(id)
        .select(SuggestionRow::as_select())
        .first(conn)
        .optional()?
        .ok_or(ApiError::NotFound)
}

/// The suggestion, if the scope may see it; otherwise 404.
pub fn find_visible(conn: &mut DbConn, scope: Scope, id: i64) -> Result<SuggestionRow, ApiError> {
    let row = find(conn, id)?;
    let visible = match scope {
        Scope::All => true,
        Scope::Nothing => false,
        Scope::Leader(leader) => diesel::select(diesel::dsl::exists(
            suggestion_presentations::table
                .filter(suggestion_presentations::suggestion_id.eq(id))
                .filter(suggestion_presentations::leader_id.eq(leader)),
        ))
        .get_result(conn)?,
        Scope::Department(unit) => diesel::select(diesel::dsl::exists(
            assignments::table
                .filter(assignments::suggestion_id.eq(id))
                .filter(assignments::unit_id.eq(unit)),
        ))
        .get_result(conn)?,
        Scope::Representative(cadre) => {
            row.author_cadre_id == cadre
                || diesel::select(diesel::dsl::exists(
                    suggestion_cosigners::table
                        .filter(suggestion_cosigners::suggestion_id.eq(id))
                        .filter(suggestion_cosigners::cadre_id.eq(cadre)),
                ))
                .get_result(conn)?
        }
    };
    if visible {
        Ok(row)
    } else {
        Err(ApiError::NotFound)
    }
}

fn assignment_views(
    conn: &mut DbConn,
    scope: Scope,
    rows: Vec<AssignmentRow>,
    today: NaiveDate,
) -> Result<Vec<AssignmentView>, ApiError> {
    let unit_ids: Vec<i64> = rows.iter().map(|r| r.unit_id).collect();
    let suggestion_ids: Vec<i64> = rows.iter().map(|r| r.suggestion_id).collect();
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let unit_names: HashMap<i64, String> = units::table
        .filter(id_in(units::id, &unit_ids))
        .select((units::id, units::name))
        .load::<(i64, String)>(conn)?
        .into_iter()
        .collect();
    let titles: HashMap<i64, String> = suggestions::table
        .filter(id_in(suggestions::id, &suggestion_ids))
        .select((suggestions::id, suggestions::title))
        .load::<(i64, String)>(conn)?
        .into_iter()
        .collect();
    let mut progress: HashMap<i64, Vec<ProgressView>> = HashMap::new();
    for (assignment, text, created_at) in assignment_progress::table
        .filter(id_in(assignment_progress::assignment_id, &ids))
        .order(assignment_progress::id)
        .select((
            assignment_progress::assignment_id,
            assignment_progress::text,
            assignment_progress::created_at,
        ))
        .load::<(i64, String, NaiveDateTime)>(conn)?
    {
        progress.entry(assignment).or_default().push(ProgressView {
            text,
            created_at: created_at.and_utc(),
        });
    }
    rows.into_iter()
        .map(|r| {
            let status = AssignmentStatus::parse(&r.status).ok_or_else(|| {
                ApiError::internal("stored assignment status is not a known value")
            })?;
            let result = r.result.as_deref().and_then(ReplyResult::parse);
            let sees_notes = match scope {
                Scope::All => true,
                Scope::Department(unit) => unit == r.unit_id,
                _ => false,
            };
            Ok(AssignmentView {
                overdue: matches!(
                    status,
                    AssignmentStatus::Assigned | AssignmentStatus::Acknowledged
                ) && r.due_on < today,
                suggestion_title: titles.get(&r.suggestion_id).cloned().unwrap_or_default(),
                unit_name: unit_names.get(&r.unit_id).cloned().unwrap_or_default(),
                progress: progress.remove(&r.id).unwrap_or_default(),
                status_label: status.label(),
                status,
                result_label: result.map(ReplyResult::label),
                result,
                internal_notes: if sees_notes { r.internal_notes } else { None },
                replied_at: r.replied_at.map(|t| t.and_utc()),
                id: r.id,
                suggestion_id: r.suggestion_id,
                instruction_id: r.instruction_id,
                round: r.round,
                unit_id: r.unit_id,
                lead: r.lead,
                due_on: r.due_on,
                reply_text: r.reply_text,
                not_adopted_reason: r.not_adopted_reason,
                version: r.version,
            })
        })
        .collect()
}

pub fn view(
    conn: &mut DbConn,
    scope: Scope,
    row: SuggestionRow,
    today: NaiveDate,
) -> Result<SuggestionView, ApiError> {
    let id = row.id;
    let status = status_of(&row)?;
    let category = Category::parse(&row.category).unwrap_or(Category::Other);
    let author_name: String = cadres::table
        .find(row.author_cadre_id)
        .select(cadres::name)
        .first(conn)?;
    let cosigners = suggestion_cosigners::table
        .inner_join(cadres::table)
        .filter(suggestion_cosigners::suggestion_id.eq(id))
        .order(suggestion_cosigners::cadre_id)
        .select((
            suggestion_cosigners::cadre_id,
            cadres::name,
            suggestion_cosigners::confirmed_at,
        ))
        .load::<(i64, String, Option<NaiveDateTime>)>(conn)?
        .into_iter()
        .map(|(cadre_id, name, confirmed)| CosignerView {
            cadre_id,
            name,
            confirmed: confirmed.is_some(),
        })
        .collect();
    let supplements = suggestion_supplements::table
        .filter(suggestion_supplements::suggestion_id.eq(id))
        .order(suggestion_supplements::id)
        .select((
            suggestion_supplements::id,
            suggestion_supplements::text,
            suggestion_supplements::created_at,
        ))
        .load::<(i64, String, NaiveDateTime)>(conn)?
        .into_iter()
        .map(|(id, text, at)| SupplementView {
            id,
            text,
            created_at: at.and_utc(),
        })
        .collect();
    let presented_to: BTreeSet<i64> = suggestion_presentations::table
        .filter(suggestion_presentations::suggestion_id.eq(id))
        .select(suggestion_presentations::leader_id)
        .load::<i64>(conn)?
        .into_iter()
        .collect();
    let instructions = instructions::table
        .inner_join(users::table.on(users::id.eq(instructions::leader_id)))
        .filter(instructions::suggestion_id.eq(id))
        .order(instructions::id)
        .select((
            instructions::id,
            instructions::round,
            instructions::leader_id,
            users::display_name,
            instructions::text,
            instructions::instructed_on,
        ))
        .load::<(i64, i32, i64, String, String, NaiveDate)>(conn)?
        .into_iter()
        .map(
            |(id, round, leader_id, leader_name, text, instructed_on)| InstructionView {
                id,
                round,
                leader_id,
                leader_name,
                text,
                instructed_on,
            },
        )
        .collect();
    let assignment_rows = assignments::table
        .filter(assignments::suggestion_id.eq(id))
        .order(assignments::id)
        .select(AssignmentRow::as_select())
        .load(conn)?;
    let assignments = assignment_views(conn, scope, assignment_rows, today)?;
    let ratings = suggestion_ratings::table
        .filter(suggestion_ratings::suggestion_id.eq(id))
        .order(suggestion_ratings::round)
        .select((
            suggestion_ratings::round,
            suggestion_ratings::rating,
            suggestion_ratings::comment,
            suggestion_ratings::created_at,
        ))
        .load::<(i32, String, Option<String>, NaiveDateTime)>(conn)?
        .into_iter()
        .filter_map(|(round, rating, comment, at)| {
            let rating = Rating::parse(&rating)?;
            Some(RatingView {
                round,
                rating,
                rating_label: rating.label(),
                comment,
                created_at: at.and_utc(),
            })
        })
        .collect();
    Ok(SuggestionView {
        id,
        author_cadre_id: row.author_cadre_id,
        author_name,
        title: row.title,
        body: row.body,
        category,
        category_label: category.label(),
        status,
        status_label: status.label(),
        round: row.round,
        intake_reason_code: row.intake_reason_code,
        intake_explanation: row.intake_explanation,
        merged_into: row.merged_into,
        closed_reason: row.closed_reason,
        cosigners,
        supplements,
        presented_to: presented_to.into_iter().collect(),
        instructions,
        assignments,
        ratings,
        version: row.version,
        created_at: row.created_at.and_utc(),
        updated_at: row.updated_at.and_utc(),
    })
}

pub fn get(
    conn: &mut DbConn,
    scope: Scope,
    id: i64,
    today: NaiveDate,
) -> Result<SuggestionView, ApiError> {
    let row = find_visible(conn, scope, id)?;
    view(conn, scope, row, today)
}

/// The audit log sees everything staff see.
fn snapshot(conn: &mut DbConn, id: i64, today: NaiveDate) -> Result<SuggestionView, ApiError> {
    let row = find(conn, id)?;
    view(conn, Scope::All, row, today)
}

fn set_status(
    conn: &mut DbConn,
    row: &SuggestionRow,
    status: SuggestionStatus,
    now: NaiveDateTime,
) -> Result<(), ApiError> {
    diesel::update(suggestions::table.find(row.id))
        .set((
            suggestions::status.eq(status.as_str()),
            suggestions::version.eq(row.version + 1),
            suggestions::updated_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}

/// Records a state change with the suggestion before and after.
fn record(
    conn: &mut DbConn,
    actor: &Actor,
    action: &'static str,
    before: &SuggestionView,
    today: NaiveDate,
) -> Result<SuggestionView, ApiError> {
    let after = snapshot(conn, before.id, today)?;
    audit::record(
        conn,
        actor,
        Event::new(action, "suggestion", before.id)
            .before(before)
            .after(&after),
    )?;
    Ok(after)
}

// ---------------------------------------------------------------- who to tell

fn users_of_cadre(conn: &mut DbConn, cadre_id: i64) -> QueryResult<Vec<i64>> {
    users::table
        .filter(users::cadre_id.eq(cadre_id))
        .filter(users::active.eq(true))
        .select(users::id)
        .load(conn)
}

pub fn department_users(conn: &mut DbConn, unit_id: i64) -> QueryResult<Vec<i64>> {
    users::table
        .inner_join(user_roles::table)
        .filter(users::unit_id.eq(unit_id))
        .filter(users::active.eq(true))
        .filter(user_roles::role.eq(Role::Department.as_str()))
        .select(users::id)
        .load(conn)
}

fn tell(
    conn: &mut DbConn,
    users: Vec<i64>,
    kind: &'static str,
    title: &str,
    entity: (&'static str, i64),
    key: &str,
    now: NaiveDateTime,
) -> Result<(), ApiError> {
    for user_id in users {
        let dedupe_key = format!("{key}:{user_id}");
        notify(
            conn,
            Notice {
                user_id,
                kind,
                title: title.to_owned(),
                entity: Some(entity.0),
                entity_id: Some(entity.1),
                dedupe_key: &dedupe_key,
            },
            now,
        )?;
    }
    Ok(())
}

// ---------------------------------------------------------------- submission

fn request_hash(input: &SubmitRequest) -> String {
    hex::encode(Sha256::digest(
        serde_json::to_vec(input).unwrap_or_default(),
    ))
}

/// Submits a suggestion. With an idempotency key, the same key and body return the first
/// result (`false` = not newly created); the same key with another body is refused.
pub fn submit(
    conn: &mut DbConn,
    actor: &Actor,
    author_cadre_id: i64,
    input: SubmitRequest,
    key: Option<String>,
    now: NaiveDateTime,
) -> Result<(SuggestionView, bool), ApiError> {
    let user_id = actor.user_id.ok_or(ApiError::Unauthenticated)?;
    let hash = request_hash(&input);
    if let Some(key) = &key {
        let earlier: Option<SuggestionRow> = suggestions::table
            .filter(suggestions::submitted_by.eq(user_id))
            .filter(suggestions::idempotency_key.eq(key))
            .select(SuggestionRow::as_select())
            .first(conn)
            .optional()?;
        if let Some(earlier) = earlier {
            if earlier.request_hash.as_deref() != Some(hash.as_str()) {
                return Err(ApiError::InvalidBody {
                    detail: "this Idempotency-Key was used with a different request".into(),
                });
            }
            return Ok((view(conn, Scope::All, earlier, now.date())?, false));
        }
    }
    let cosigners: BTreeSet<i64> = input
        .cosigner_cadre_ids
        .iter()
        .copied()
        .filter(|id| *id != author_cadre_id)
        .collect();
    for cadre in &cosigners {
        let active: Option<String> = cadres::table
            .find(cadre)
            .select(cadres::status)
            .first(conn)
            .optional()?;
        if active.as_deref() != Some("active") {
            return Err(ApiError::field("cosigner_cadre_ids", "unknown_cadre"));
        }
    }
    let id: i64 = diesel::insert_into(suggestions::table)
        .values((
            suggestions::author_cadre_id.eq(author_cadre_id),
            suggestions::submitted_by.eq(user_id),
            suggestions::title.eq(normalise(&input.title)),
            suggestions::body.eq(input.body.trim()),
            suggestions::category.eq(input.category.as_str()),
            suggestions::status.eq(SuggestionStatus::Submitted.as_str()),
            suggestions::round.eq(1),
            suggestions::idempotency_key.eq(&key),
            suggestions::request_hash.eq(&hash),
            suggestions::version.eq(1),
            suggestions::created_at.eq(now),
            suggestions::updated_at.eq(now),
        ))
        .returning(suggestions::id)
        .get_result(conn)?;
    for cadre in &cosigners {
        diesel::insert_into(suggestion_cosigners::table)
            .values((
                suggestion_cosigners::suggestion_id.eq(id),
                suggestion_cosigners::cadre_id.eq(cadre),
            ))
            .execute(conn)?;
        let users = users_of_cadre(conn, *cadre)?;
        tell(
            conn,
            users,
            "cosign_requested",
            &format!("请确认联名：{}", normalise(&input.title)),
            ("suggestion", id),
            &format!("cosign:{id}"),
            now,
        )?;
    }
    let created = snapshot(conn, id, now.date())?;
    audit::record(
        conn,
        actor,
        Event::new("suggestion.submitted", "suggestion", id).after(&created),
    )?;
    Ok((created, true))
}

pub fn add_supplement(
    conn: &mut DbConn,
    actor: &Actor,
    author_cadre_id: i64,
    id: i64,
    text: &str,
    now: NaiveDateTime,
) -> Result<SuggestionView, ApiError> {
    let row = find_visible(conn, Scope::Representative(author_cadre_id), id)?;
    if row.author_cadre_id != author_cadre_id {
        return Err(ApiError::Forbidden);
    }
    let status = status_of(&row)?;
    if matches!(
        status,
        SuggestionStatus::Closed | SuggestionStatus::Merged | SuggestionStatus::NotAccepted
    ) {
        return Err(illegal("adding a supplement", status));
    }
    let before = snapshot(conn, id, now.date())?;
    diesel::insert_into(suggestion_supplements::table)
        .values((
            suggestion_supplements::suggestion_id.eq(id),
            suggestion_supplements::text.eq(text.trim()),
            suggestion_supplements::created_by.eq(actor.user_id.unwrap_or_default()),
            suggestion_supplements::created_at.eq(now),
        ))
        .execute(conn)?;
    record(conn, actor, "suggestion.supplemented", &before, now.date())
}

/// A co-signer confirms within 7 days of submission.
pub fn cosign(
    conn: &mut DbConn,
    actor: &Actor,
    cadre_id: i64,
    id: i64,
    now: NaiveDateTime,
) -> Result<SuggestionView, ApiError> {
    let row = find_visible(conn, Scope::Representative(cadre_id), id)?;
    let invited: Option<Option<NaiveDateTime>> = suggestion_cosigners::table
        .find((id, cadre_id))
        .select(suggestion_cosigners::confirmed_at)
        .first(conn)
        .optional()?;
    match invited {
        None => {
            return Err(ApiError::conflict(
                "not_a_cosigner",
                "you were not asked to co-sign this suggestion",
            ))
        }
        Some(Some(_)) => {
            return Err(ApiError::conflict(
                "already_cosigned",
                "you have confirmed already",
            ))
        }
        Some(None) => {}
    }
    if now > row.created_at + Duration::days(COSIGN_DAYS) {
        return Err(ApiError::conflict(
            "cosign_window_closed",
            "co-signers confirm within 7 days of submission",
        ));
    }
    let before = snapshot(conn, id, now.date())?;
    diesel::update(suggestion_cosigners::table.find((id, cadre_id)))
        .set(suggestion_cosigners::confirmed_at.eq(now))
        .execute(conn)?;
    record(conn, actor, "suggestion.cosigned", &before, now.date())
}

// ---------------------------------------------------------------- intake and presentation

pub fn intake(
    conn: &mut DbConn,
    actor: &Actor,
    id: i64,
    input: IntakeRequest,
    now: NaiveDateTime,
) -> Result<SuggestionView, ApiError> {
    let row = find(conn, id)?;
    let status = status_of(&row)?;
    if status != SuggestionStatus::Submitted {
        return Err(illegal("intake", status));
    }
    let before = snapshot(conn, id, now.date())?;
    let (new_status, merged_into) = match input.decision {
        IntakeDecision::Accept => (SuggestionStatus::Accepted, None),
        IntakeDecision::NotAccept => {
            if input.reason_code.is_none() || input.explanation.is_none() {
                return Err(ApiError::field(
                    if input.reason_code.is_none() {
                        "reason_code"
                    } else {
                        "explanation"
                    },
                    "required_to_refuse",
                ));
            }
            (SuggestionStatus::NotAccepted, None)
        }
        IntakeDecision::Merge => {
            let target = input
                .merge_into
                .ok_or_else(|| ApiError::field("merge_into", "required_to_merge"))?;
            let target_row = find(conn, target)
                .map_err(|_| ApiError::field("merge_into", "unknown_suggestion"))?;
            if target == id
                || matches!(
                    status_of(&target_row)?,
                    SuggestionStatus::Merged | SuggestionStatus::NotAccepted
                )
            {
                return Err(ApiError::field("merge_into", "cannot_merge_into"));
            }
            (SuggestionStatus::Merged, Some(target))
        }
    };
    diesel::update(suggestions::table.find(id))
        .set((
            suggestions::status.eq(new_status.as_str()),
            suggestions::intake_reason_code.eq(input.reason_code),
            suggestions::intake_explanation.eq(input.explanation.map(|e| normalise(&e))),
            suggestions::merged_into.eq(merged_into),
            suggestions::version.eq(row.version + 1),
            suggestions::updated_at.eq(now),
        ))
        .execute(conn)?;
    let users = users_of_cadre(conn, row.author_cadre_id)?;
    tell(
        conn,
        users,
        "suggestion_intake",
        &format!("您的建议“{}”：{}", row.title, new_status.label()),
        ("suggestion", id),
        &format!("intake:{id}"),
        now,
    )?;
    record(conn, actor, "suggestion.intake", &before, now.date())
}

fn is_active_leader(conn: &mut DbConn, user_id: i64) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        users::table
            .inner_join(user_roles::table)
            .filter(users::id.eq(user_id))
            .filter(users::active.eq(true))
            .filter(user_roles::role.eq(Role::Leader.as_str())),
    ))
    .get_result(conn)
}

/// Presents an accepted suggestion to one or more leaders (more may be added later).
pub fn present(
    conn: &mut DbConn,
    actor: &Actor,
    id: i64,
    leader_ids: &[i64],
    now: NaiveDateTime,
) -> Result<SuggestionView, ApiError> {
    let row = find(conn, id)?;
    let status = status_of(&row)?;
    if !matches!(
        status,
        SuggestionStatus::Accepted | SuggestionStatus::Presented | SuggestionStatus::Instructed
    ) {
        return Err(illegal("presenting to leaders", status));
    }
    for leader in leader_ids {
        if !is_active_leader(conn, *leader)? {
            return Err(ApiError::field("leader_ids", "not_an_active_leader"));
        }
    }
    let before = snapshot(conn, id, now.date())?;
    for leader in leader_ids.iter().collect::<BTreeSet<_>>() {
        let exists: bool = diesel::select(diesel::dsl::exists(
            suggestion_presentations::table.find((id, leader, row.round)),
        ))
        .get_result(conn)?;
        if !exists {
            diesel::insert_into(suggestion_presentations::table)
                .values((
                    suggestion_presentations::suggestion_id.eq(id),
                    suggestion_presentations::leader_id.eq(leader),
                    suggestion_presentations::round.eq(row.round),
                    suggestion_presentations::presented_at.eq(now),
                ))
                .execute(conn)?;
            tell(
                conn,
                vec![*leader],
                "suggestion_presented",
                &format!("请阅示：{}", row.title),
                ("suggestion", id),
                &format!("presented:{id}:{}", row.round),
                now,
            )?;
        }
    }
    if status == SuggestionStatus::Accepted {
        set_status(conn, &row, SuggestionStatus::Presented, now)?;
    }
    record(conn, actor, "suggestion.presented", &before, now.date())
}

fn check_department(conn: &mut DbConn, field: &str, unit_id: i64) -> Result<(), ApiError> {
    let kind: Option<String> = units::table
        .find(unit_id)
        .select(units::kind)
        .first(conn)
        .optional()?;
    if kind.as_deref() == Some(UnitKind::Department.as_str()) {
        Ok(())
    } else {
        Err(ApiError::field(field, "not_a_department"))
    }
}

/// A leader the suggestion was presented to (in this round) writes an instruction assigning a
/// lead department and any co-handling ones, with a deadline.
pub fn instruct(
    conn: &mut DbConn,
    actor: &Actor,
    leader_id: i64,
    id: i64,
    input: InstructionRequest,
    now: NaiveDateTime,
) -> Result<SuggestionView, ApiError> {
    let row = find_visible(conn, Scope::Leader(leader_id), id)?;
    let status = status_of(&row)?;
    if !matches!(
        status,
        SuggestionStatus::Presented | SuggestionStatus::Instructed
    ) {
        return Err(illegal("an instruction", status));
    }
    let presented_now: bool = diesel::select(diesel::dsl::exists(
        suggestion_presentations::table.find((id, leader_id, row.round)),
    ))
    .get_result(conn)?;
    if !presented_now {
        return Err(ApiError::conflict(
            "not_presented_to_you",
            "the suggestion was not presented to you in this round",
        ));
    }
    if input.due_on <= now.date() {
        return Err(ApiError::field("due_on", "not_in_the_future"));
    }
    check_department(conn, "lead_unit_id", input.lead_unit_id)?;
    let co_units: BTreeSet<i64> = input
        .co_unit_ids
        .iter()
        .copied()
        .filter(|u| *u != input.lead_unit_id)
        .collect();
    for unit in &co_units {
        check_department(conn, "co_unit_ids", *unit)?;
    }
    let before = snapshot(conn, id, now.date())?;
    let instruction_id: i64 = diesel::insert_into(instructions::table)
        .values((
            instructions::suggestion_id.eq(id),
            instructions::round.eq(row.round),
            instructions::leader_id.eq(leader_id),
            instructions::text.eq(normalise(&input.text)),
            instructions::instructed_on.eq(input.date.unwrap_or(now.date())),
            instructions::created_at.eq(now),
        ))
        .returning(instructions::id)
        .get_result(conn)?;
    for (unit, lead) in
        std::iter::once((input.lead_unit_id, true)).chain(co_units.iter().map(|u| (*u, false)))
    {
        let assignment: i64 = diesel::insert_into(assignments::table)
            .values((
                assignments::suggestion_id.eq(id),
                assignments::instruction_id.eq(instruction_id),
                assignments::round.eq(row.round),
                assignments::unit_id.eq(unit),
                assignments::lead.eq(lead),
                assignments::due_on.eq(input.due_on),
                assignments::status.eq(AssignmentStatus::Assigned.as_str()),
                assignments::version.eq(1),
                assignments::created_at.eq(now),
                assignments::updated_at.eq(now),
            ))
            .returning(assignments::id)
            .get_result(conn)?;
        let users = department_users(conn, unit)?;
        let role = if lead { "承办" } else { "协办" };
        tell(
            conn,
            users,
            "assignment_new",
            &format!("新交办（{role}）：{}", row.title),
            ("assignment", assignment),
            &format!("assignment_new:{assignment}"),
            now,
        )?;
    }
    set_status(conn, &row, SuggestionStatus::Instructed, now)?;
    record(conn, actor, "suggestion.instructed", &before, now.date())
}

// ---------------------------------------------------------------- handling

fn find_assignment(conn: &mut DbConn, id: i64) -> Result<AssignmentRow, ApiError> {
    assignments::table
        .find(id)
        .select(AssignmentRow::as_select())
        .first(conn)
        .optional()?
        .ok_or(ApiError::NotFound)
}

/// The assignment, if the department may act on it (its own unit's); otherwise 404.
fn own_assignment(conn: &mut DbConn, unit_id: i64, id: i64) -> Result<AssignmentRow, ApiError> {
    let row = find_assignment(conn, id)?;
    if row.unit_id == unit_id {
        Ok(row)
    } else {
        Err(ApiError::NotFound)
    }
}

fn assignment_status(row: &AssignmentRow) -> Result<AssignmentStatus, ApiError> {
    AssignmentStatus::parse(&row.status)
        .ok_or_else(|| ApiError::internal("stored assignment status is not a known value"))
}

fn illegal_assignment(what: &str, status: AssignmentStatus) -> ApiError {
    ApiError::conflict(
        "illegal_transition",
        format!(
            "{what} is not possible while the assignment is {}",
            status.as_str()
        ),
    )
}

pub fn assignment(
    conn: &mut DbConn,
    scope: Scope,
    id: i64,
    today: NaiveDate,
) -> Result<AssignmentView, ApiError> {
    let row = find_assignment(conn, id)?;
    assignment_views(conn, scope, vec![row], today)?
        .pop()
        .ok_or(ApiError::NotFound)
}

fn touch_assignment(
    conn: &mut DbConn,
    actor: &Actor,
    row: &AssignmentRow,
    action: &'static str,
    change: impl FnOnce(&mut DbConn) -> Result<(), ApiError>,
    now: NaiveDateTime,
) -> Result<AssignmentView, ApiError> {
    let before = assignment(conn, Scope::All, row.id, now.date())?;
    change(conn)?;
    diesel::update(assignments::table.find(row.id))
        .set((
            assignments::version.eq(row.version + 1),
            assignments::updated_at.eq(now),
        ))
        .execute(conn)?;
    let after = assignment(conn, Scope::All, row.id, now.date())?;
    audit::record(
        conn,
        actor,
        Event::new(action, "assignment", row.id)
            .before(&before)
            .after(&after),
    )?;
    Ok(after)
}

pub fn acknowledge(
    conn: &mut DbConn,
    actor: &Actor,
    unit_id: i64,
    id: i64,
    now: NaiveDateTime,
) -> Result<AssignmentView, ApiError> {
    let row = own_assignment(conn, unit_id, id)?;
    let status = assignment_status(&row)?;
    if status != AssignmentStatus::Assigned {
        return Err(illegal_assignment("acknowledging", status));
    }
    touch_assignment(
        conn,
        actor,
        &row,
        "assignment.acknowledged",
        |conn| {
            diesel::update(assignments::table.find(id))
                .set((
                    assignments::status.eq(AssignmentStatus::Acknowledged.as_str()),
                    assignments::acknowledged_at.eq(now),
                ))
                .execute(conn)?;
            Ok(())
        },
        now,
    )
}

pub fn report_progress(
    conn: &mut DbConn,
    actor: &Actor,
    unit_id: i64,
    id: i64,
    input: ProgressRequest,
    now: NaiveDateTime,
) -> Result<AssignmentView, ApiError> {
    let row = own_assignment(conn, unit_id, id)?;
    let status = assignment_status(&row)?;
    if status != AssignmentStatus::Acknowledged {
        return Err(illegal_assignment("reporting progress", status));
    }
    touch_assignment(
        conn,
        actor,
        &row,
        "assignment.progress_reported",
        |conn| {
            diesel::insert_into(assignment_progress::table)
                .values((
                    assignment_progress::assignment_id.eq(id),
                    assignment_progress::text.eq(normalise(&input.text)),
                    assignment_progress::created_by.eq(actor.user_id.unwrap_or_default()),
                    assignment_progress::created_at.eq(now),
                ))
                .execute(conn)?;
            if let Some(notes) = &input.internal_notes {
                diesel::update(assignments::table.find(id))
                    .set(assignments::internal_notes.eq(normalise(notes)))
                    .execute(conn)?;
            }
            Ok(())
        },
        now,
    )
}

fn request_view(
    row: (
        i64,
        i64,
        String,
        Option<NaiveDate>,
        String,
        String,
        Option<String>,
    ),
) -> AssignmentRequestView {
    let (id, assignment_id, kind, requested_due_on, reason, status, decision_reason) = row;
    AssignmentRequestView {
        id,
        assignment_id,
        kind: if kind == "return" {
            RequestKind::Return
        } else {
            RequestKind::Extension
        },
        requested_due_on,
        reason,
        status,
        decision_reason,
    }
}

fn find_request(conn: &mut DbConn, id: i64) -> Result<AssignmentRequestView, ApiError> {
    assignment_requests::table
        .find(id)
        .select((
            assignment_requests::id,
            assignment_requests::assignment_id,
            assignment_requests::kind,
            assignment_requests::requested_due_on,
            assignment_requests::reason,
            assignment_requests::status,
            assignment_requests::decision_reason,
        ))
        .first(conn)
        .optional()?
        .map(request_view)
        .ok_or(ApiError::NotFound)
}

/// A department asks for more time, or to return an item assigned to it by mistake.
pub fn request_change(
    conn: &mut DbConn,
    actor: &Actor,
    unit_id: i64,
    id: i64,
    input: AssignmentRequestInput,
    now: NaiveDateTime,
) -> Result<AssignmentRequestView, ApiError> {
    let row = own_assignment(conn, unit_id, id)?;
    let status = assignment_status(&row)?;
    if !matches!(
        status,
        AssignmentStatus::Assigned | AssignmentStatus::Acknowledged
    ) {
        return Err(illegal_assignment("a request", status));
    }
    let pending: bool = diesel::select(diesel::dsl::exists(
        assignment_requests::table
            .filter(assignment_requests::assignment_id.eq(id))
            .filter(assignment_requests::status.eq("pending")),
    ))
    .get_result(conn)?;
    if pending {
        return Err(ApiError::conflict(
            "request_pending",
            "a request for this assignment awaits a decision",
        ));
    }
    if input.kind == RequestKind::Extension
        && input.requested_due_on.is_none_or(|d| d <= row.due_on)
    {
        return Err(ApiError::field(
            "requested_due_on",
            "must_be_after_the_due_date",
        ));
    }
    let request_id: i64 = diesel::insert_into(assignment_requests::table)
        .values((
            assignment_requests::assignment_id.eq(id),
            assignment_requests::kind.eq(if input.kind == RequestKind::Return {
                "return"
            } else {
                "extension"
            }),
            assignment_requests::requested_due_on.eq(input.requested_due_on),
            assignment_requests::reason.eq(normalise(&input.reason)),
            assignment_requests::status.eq("pending"),
            assignment_requests::requested_by.eq(actor.user_id.unwrap_or_default()),
            assignment_requests::created_at.eq(now),
        ))
        .returning(assignment_requests::id)
        .get_result(conn)?;
    let created = find_request(conn, request_id)?;
    audit::record(
        conn,
        actor,
        Event::new(
            "assignment_request.created",
            "assignment_request",
            request_id,
        )
        .after(&created),
    )?;
    Ok(created)
}

/// UFWD staff decide a request. An approved return takes the item from the department; when it
/// was the lead and no other lead remains in the round, the suggestion goes back to its leaders.
pub fn decide_request(
    conn: &mut DbConn,
    actor: &Actor,
    request_id: i64,
    input: RequestDecision,
    now: NaiveDateTime,
) -> Result<AssignmentRequestView, ApiError> {
    let request = find_request(conn, request_id)?;
    if request.status != "pending" {
        return Err(ApiError::conflict(
            "already_decided",
            "this request has been decided",
        ));
    }
    let row = find_assignment(conn, request.assignment_id)?;
    diesel::update(assignment_requests::table.find(request_id))
        .set((
            assignment_requests::status.eq(if input.approve {
                "approved"
            } else {
                "rejected"
            }),
            assignment_requests::decided_by.eq(actor.user_id),
            assignment_requests::decision_reason.eq(normalise(&input.reason)),
            assignment_requests::decided_at.eq(now),
        ))
        .execute(conn)?;
    if input.approve {
        match request.kind {
            RequestKind::Extension => {
                touch_assignment(
                    conn,
                    actor,
                    &row,
                    "assignment.extended",
                    |conn| {
                        diesel::update(assignments::table.find(row.id))
                            .set(
                                assignments::due_on
                                    .eq(request.requested_due_on.unwrap_or(row.due_on)),
                            )
                            .execute(conn)?;
                        Ok(())
                    },
                    now,
                )?;
            }
            RequestKind::Return => {
                touch_assignment(
                    conn,
                    actor,
                    &row,
                    "assignment.returned",
                    |conn| {
                        diesel::update(assignments::table.find(row.id))
                            .set(assignments::status.eq(AssignmentStatus::Returned.as_str()))
                            .execute(conn)?;
                        Ok(())
                    },
                    now,
                )?;
                if row.lead {
                    let suggestion = find(conn, row.suggestion_id)?;
                    let other_lead: bool = diesel::select(diesel::dsl::exists(
                        assignments::table
                            .filter(assignments::suggestion_id.eq(row.suggestion_id))
                            .filter(assignments::round.eq(row.round))
                            .filter(assignments::lead.eq(true))
                            .filter(assignments::status.ne(AssignmentStatus::Returned.as_str())),
                    ))
                    .get_result(conn)?;
                    if !other_lead && status_of(&suggestion)? == SuggestionStatus::Instructed {
                        let before = snapshot(conn, suggestion.id, now.date())?;
                        set_status(conn, &suggestion, SuggestionStatus::Presented, now)?;
                        record(
                            conn,
                            actor,
                            "suggestion.returned_to_leaders",
                            &before,
                            now.date(),
                        )?;
                    }
                }
            }
        }
    }
    let decided = find_request(conn, request_id)?;
    audit::record(
        conn,
        actor,
        Event::new(
            "assignment_request.decided",
            "assignment_request",
            request_id,
        )
        .before(&request)
        .after(&decided),
    )?;
    Ok(decided)
}

/// The department replies with a result; the lead department's reply makes the suggestion
/// `replied` and tells its author.
pub fn reply(
    conn: &mut DbConn,
    actor: &Actor,
    unit_id: i64,
    id: i64,
    input: ReplyRequest,
    now: NaiveDateTime,
) -> Result<AssignmentView, ApiError> {
    let row = own_assignment(conn, unit_id, id)?;
    let status = assignment_status(&row)?;
    if status != AssignmentStatus::Acknowledged {
        return Err(illegal_assignment(
            "a reply (acknowledge the assignment first)",
            status,
        ));
    }
    if input.result == ReplyResult::NotAdopted && input.not_adopted_reason.is_none() {
        return Err(ApiError::field(
            "not_adopted_reason",
            "required_when_not_adopted",
        ));
    }
    let view = touch_assignment(
        conn,
        actor,
        &row,
        "assignment.replied",
        |conn| {
            diesel::update(assignments::table.find(id))
                .set((
                    assignments::status.eq(AssignmentStatus::Replied.as_str()),
                    assignments::result.eq(input.result.as_str()),
                    assignments::reply_text.eq(input.explanation.trim()),
                    assignments::not_adopted_reason
                        .eq(input.not_adopted_reason.as_deref().map(normalise)),
                    assignments::replied_at.eq(now),
                ))
                .execute(conn)?;
            Ok(())
        },
        now,
    )?;
    let suggestion = find(conn, row.suggestion_id)?;
    if row.lead
        && row.round == suggestion.round
        && status_of(&suggestion)? == SuggestionStatus::Instructed
    {
        let before = snapshot(conn, suggestion.id, now.date())?;
        set_status(conn, &suggestion, SuggestionStatus::Replied, now)?;
        record(conn, actor, "suggestion.replied", &before, now.date())?;
        let users = users_of_cadre(conn, suggestion.author_cadre_id)?;
        tell(
            conn,
            users,
            "reply_received",
            &format!("您的建议“{}”已答复，请评价", suggestion.title),
            ("suggestion", suggestion.id),
            &format!("reply:{}:{}", suggestion.id, suggestion.round),
            now,
        )?;
    }
    Ok(view)
}

/// The author rates the reply. Satisfied (or basically) closes the suggestion; unsatisfied
/// opens a new round in the same transaction (earlier replies stay as they were) and returns
/// it to its leaders, who may instruct again.
pub fn evaluate(
    conn: &mut DbConn,
    actor: &Actor,
    author_cadre_id: i64,
    id: i64,
    input: EvaluationRequest,
    now: NaiveDateTime,
) -> Result<SuggestionView, ApiError> {
    let row = find_visible(conn, Scope::Representative(author_cadre_id), id)?;
    if row.author_cadre_id != author_cadre_id {
        return Err(ApiError::Forbidden);
    }
    let status = status_of(&row)?;
    if status != SuggestionStatus::Replied {
        return Err(illegal("a rating", status));
    }
    if input.rating == Rating::Unsatisfied && input.comment.is_none() {
        return Err(ApiError::field("comment", "required_when_unsatisfied"));
    }
    let before = snapshot(conn, id, now.date())?;
    diesel::insert_into(suggestion_ratings::table)
        .values((
            suggestion_ratings::suggestion_id.eq(id),
            suggestion_ratings::round.eq(row.round),
            suggestion_ratings::rating.eq(input.rating.as_str()),
            suggestion_ratings::comment.eq(input.comment.as_deref().map(normalise)),
            suggestion_ratings::rated_by.eq(actor.user_id.unwrap_or_default()),
            suggestion_ratings::created_at.eq(now),
        ))
        .execute(conn)?;
    let lead_units: Vec<i64> = assignments::table
        .filter(assignments::suggestion_id.eq(id))
        .filter(assignments::round.eq(row.round))
        .filter(assignments::lead.eq(true))
        .select(assignments::unit_id)
        .load(conn)?;
    for unit in lead_units {
        let users = department_users(conn, unit)?;
        tell(
            conn,
            users,
            "rating_received",
            &format!("建议“{}”的评价：{}", row.title, input.rating.label()),
            ("suggestion", id),
            &format!("rating:{id}:{}", row.round),
            now,
        )?;
    }
    if input.rating == Rating::Unsatisfied {
        let leaders: Vec<i64> = suggestion_presentations::table
            .filter(suggestion_presentations::suggestion_id.eq(id))
            .filter(suggestion_presentations::round.eq(row.round))
            .select(suggestion_presentations::leader_id)
            .load(conn)?;
        for leader in &leaders {
            diesel::insert_into(suggestion_presentations::table)
                .values((
                    suggestion_presentations::suggestion_id.eq(id),
                    suggestion_presentations::leader_id.eq(leader),
                    suggestion_presentations::round.eq(row.round + 1),
                    suggestion_presentations::presented_at.eq(now),
                ))
                .execute(conn)?;
        }
        diesel::update(suggestions::table.find(id))
            .set((
                suggestions::round.eq(row.round + 1),
                suggestions::status.eq(SuggestionStatus::Presented.as_str()),
                suggestions::version.eq(row.version + 1),
                suggestions::updated_at.eq(now),
            ))
            .execute(conn)?;
        tell(
            conn,
            leaders,
            "suggestion_reopened",
            &format!("代表对“{}”的办理不满意，请再阅示", row.title),
            ("suggestion", id),
            &format!("reopened:{id}:{}", row.round + 1),
            now,
        )?;
        record(
            conn,
            actor,
            "suggestion.rated_unsatisfied",
            &before,
            now.date(),
        )
    } else {
        diesel::update(suggestions::table.find(id))
            .set((
                suggestions::status.eq(SuggestionStatus::Closed.as_str()),
                suggestions::closed_reason.eq(format!("rated {}", input.rating.as_str())),
                suggestions::version.eq(row.version + 1),
                suggestions::updated_at.eq(now),
            ))
            .execute(conn)?;
        record(conn, actor, "suggestion.rated", &before, now.date())
    }
}

pub fn close(
    conn: &mut DbConn,
    actor: &Actor,
    id: i64,
    reason: &str,
    now: NaiveDateTime,
) -> Result<SuggestionView, ApiError> {
    let row = find(conn, id)?;
    let status = status_of(&row)?;
    if matches!(
        status,
        SuggestionStatus::Closed | SuggestionStatus::Merged | SuggestionStatus::NotAccepted
    ) {
        return Err(illegal("closing", status));
    }
    let before = snapshot(conn, id, now.date())?;
    diesel::update(suggestions::table.find(id))
        .set((
            suggestions::status.eq(SuggestionStatus::Closed.as_str()),
            suggestions::closed_reason.eq(normalise(reason)),
            suggestions::version.eq(row.version + 1),
            suggestions::updated_at.eq(now),
        ))
        .execute(conn)?;
    record(conn, actor, "suggestion.closed", &before, now.date())
}

// ---------------------------------------------------------------- lists

pub fn list(
    conn: &mut DbConn,
    scope: Scope,
    query: SuggestionQuery,
) -> Result<Page<SuggestionSummary>, ApiError> {
    let page = PageCursor::new(query.limit, query.cursor.as_deref())?;
    let mut select = suggestions::table
        .select(SuggestionRow::as_select())
        .order(suggestions::id.desc())
        .limit(page.fetch())
        .into_boxed();
    if let Some(after) = page.after {
        select = select.filter(suggestions::id.lt(after));
    }
    match scope {
        Scope::All => {}
        Scope::Nothing => {
            return Ok(Page {
                items: Vec::new(),
                next_cursor: None,
            })
        }
        Scope::Leader(leader) => {
            let mine = suggestion_presentations::table
                .filter(suggestion_presentations::leader_id.eq(leader))
                .select(suggestion_presentations::suggestion_id);
            select = select.filter(suggestions::id.eq_any(mine));
        }
        Scope::Department(unit) => {
            let mine = assignments::table
                .filter(assignments::unit_id.eq(unit))
                .select(assignments::suggestion_id);
            select = select.filter(suggestions::id.eq_any(mine));
        }
        Scope::Representative(cadre) => {
            let cosigned = suggestion_cosigners::table
                .filter(suggestion_cosigners::cadre_id.eq(cadre))
                .select(suggestion_cosigners::suggestion_id);
            select = select.filter(
                suggestions::author_cadre_id
                    .eq(cadre)
                    .or(suggestions::id.eq_any(cosigned)),
            );
        }
    }
    if let Some(status) = query.status {
        select = select.filter(suggestions::status.eq(status.as_str()));
    }
    if let Some(category) = query.category {
        select = select.filter(suggestions::category.eq(category.as_str()));
    }
    let rows = select.load(conn)?;
    let page = page.page(
        rows,
        |r| r.id,
        |r| {
            let category = Category::parse(&r.category).unwrap_or(Category::Other);
            let status = SuggestionStatus::parse(&r.status).unwrap_or(SuggestionStatus::Submitted);
            SuggestionSummary {
                id: r.id,
                author_cadre_id: r.author_cadre_id,
                title: r.title,
                category,
                status,
                status_label: status.label(),
                round: r.round,
                created_at: r.created_at.and_utc(),
            }
        },
    );
    Ok(page)
}

/// Which open assignments: past due, or due within 7 days.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Due {
    Overdue,
    Soon,
}

pub fn assignments(
    conn: &mut DbConn,
    scope: Scope,
    query: AssignmentQuery,
    due: Option<Due>,
    today: NaiveDate,
) -> Result<Vec<AssignmentView>, ApiError> {
    let mut select = assignments::table
        .select(AssignmentRow::as_select())
        .order((assignments::due_on, assignments::id))
        .into_boxed();
    match scope {
        Scope::All => {
            if let Some(unit) = query.unit_id {
                select = select.filter(assignments::unit_id.eq(unit));
            }
        }
        Scope::Department(unit) => select = select.filter(assignments::unit_id.eq(unit)),
        Scope::Leader(_) | Scope::Representative(_) | Scope::Nothing => return Ok(Vec::new()),
    }
    if let Some(status) = query.status {
        select = select.filter(assignments::status.eq(status.as_str()));
    }
    if let Some(due) = due {
        select = select.filter(assignments::status.eq_any([
            AssignmentStatus::Assigned.as_str(),
            AssignmentStatus::Acknowledged.as_str(),
        ]));
        select = match due {
            Due::Overdue => select.filter(assignments::due_on.lt(today)),
            Due::Soon => select
                .filter(assignments::due_on.ge(today))
                .filter(assignments::due_on.le(today + Duration::days(DUE_SOON_DAYS))),
        };
    }
    let rows = select.load(conn)?;
    assignment_views(conn, scope, rows, today)
}

/// For the reminder job: due-soon and overdue notifications to the departments' users, once
/// per assignment, kind and due date (an extension earns a fresh reminder).
pub fn remind(conn: &mut DbConn, today: NaiveDate, now: NaiveDateTime) -> Result<usize, ApiError> {
    let open: Vec<AssignmentRow> = assignments::table
        .filter(assignments::status.eq_any([
            AssignmentStatus::Assigned.as_str(),
            AssignmentStatus::Acknowledged.as_str(),
        ]))
        .filter(assignments::due_on.le(today + Duration::days(DUE_SOON_DAYS)))
        .select(AssignmentRow::as_select())
        .load(conn)?;
    let mut created = 0;
    for row in open {
        let (kind, title) = if row.due_on < today {
            ("assignment_overdue", "交办事项已逾期")
        } else {
            ("assignment_due_soon", "交办事项即将到期")
        };
        let title_of: String = suggestions::table
            .find(row.suggestion_id)
            .select(suggestions::title)
            .first(conn)?;
        for user_id in department_users(conn, row.unit_id)? {
            let key = format!("{kind}:{}:{}:{user_id}", row.id, row.due_on);
            let notice = Notice {
                user_id,
                kind,
                title: format!("{title}：{title_of}（{}）", row.due_on),
                entity: Some("assignment"),
                entity_id: Some(row.id),
                dedupe_key: &key,
            };
            created += usize::from(notify(conn, notice, now)?);
        }
    }
    Ok(created)
}
