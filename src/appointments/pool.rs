//! The talent pool: stages from discovery to appointment, joint approval by the two
//! departments (never by the proposer) for inspection and decision, cultivation records and
//! recommendations.

use std::collections::HashMap;

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::dto::*;
use super::records;
use crate::audit::{self, Actor, Event};
use crate::auth::Role;
use crate::db::schema::{
    cadres, cultivations, pool_approvals, pool_entries, pool_moves, recommendations,
};
use crate::db::DbConn;
use crate::error::ApiError;
use crate::text::normalise;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = pool_entries)]
pub struct EntryRow {
    pub id: i64,
    pub cadre_id: i64,
    pub source: String,
    pub recommended_by: Option<String>,
    pub stage: String,
    pub stage_since: NaiveDate,
    pub withdrawn_reason: Option<String>,
    pub proposed_stage: Option<String>,
    pub proposed_by: Option<i64>,
    pub proposed_at: Option<NaiveDateTime>,
    pub proposal_note: Option<String>,
    pub version: i32,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

fn stage_of(text: &str) -> Result<Stage, ApiError> {
    Stage::parse(text).ok_or_else(|| ApiError::internal("stored stage is not a known value"))
}

pub fn find_entry(conn: &mut DbConn, id: i64) -> Result<EntryRow, ApiError> {
    pool_entries::table
        .find(id)
        .select(EntryRow::as_select())
        .first(conn)
        .optional()?
        .ok_or(ApiError::NotFound)
}

fn approvals_of(
    conn: &mut DbConn,
    entry_id: i64,
) -> Result<Vec<(ApprovalView, NaiveDateTime)>, ApiError> {
    Ok(pool_approvals::table
        .filter(pool_approvals::entry_id.eq(entry_id))
        .order(pool_approvals::id)
        .select((
            pool_approvals::to_stage,
            pool_approvals::approver_id,
            pool_approvals::department,
            pool_approvals::approve,
            pool_approvals::comment,
            pool_approvals::created_at,
            pool_approvals::proposed_at,
        ))
        .load::<(
            String,
            i64,
            String,
            bool,
            String,
            NaiveDateTime,
            NaiveDateTime,
        )>(conn)?
        .into_iter()
        .filter_map(
            |(to, approver_id, department, approve, comment, at, proposed_at)| {
                Some((
                    ApprovalView {
                        to_stage: Stage::parse(&to)?,
                        approver_id,
                        department,
                        approve,
                        comment,
                        created_at: at.and_utc(),
                    },
                    proposed_at,
                ))
            },
        )
        .collect())
}

pub fn entry_view(
    conn: &mut DbConn,
    row: EntryRow,
    today: NaiveDate,
) -> Result<EntryView, ApiError> {
    let stage = stage_of(&row.stage)?;
    let cadre_name: String = cadres::table
        .find(row.cadre_id)
        .select(cadres::name)
        .first(conn)?;
    let moves_rows = pool_moves::table
        .filter(pool_moves::entry_id.eq(row.id))
        .order(pool_moves::id)
        .select((
            pool_moves::from_stage,
            pool_moves::to_stage,
            pool_moves::moved_on,
            pool_moves::actor_id,
            pool_moves::note,
        ))
        .load::<(
            Option<String>,
            String,
            NaiveDate,
            Option<i64>,
            Option<String>,
        )>(conn)?;
    let mut moves = Vec::new();
    let mut previous_on: Option<NaiveDate> = None;
    for (from, to, on, actor_id, note) in moves_rows {
        moves.push(MoveView {
            from: from.as_deref().and_then(Stage::parse),
            to: stage_of(&to)?,
            on,
            actor_id,
            note,
            days_in_previous_stage: previous_on.map(|p| (on - p).num_days()),
        });
        previous_on = Some(on);
    }
    let approvals = approvals_of(conn, row.id)?;
    let proposal = match (
        row.proposed_stage.as_deref().and_then(Stage::parse),
        row.proposed_by,
        row.proposed_at,
    ) {
        (Some(to), Some(by), Some(at)) => Some(ProposalView {
            to,
            proposed_by: by,
            proposed_on: at.date(),
            note: row.proposal_note.clone(),
            approvals: approvals
                .iter()
                .filter(|(_, p)| *p == at)
                .map(|(a, _)| a.clone())
                .collect(),
        }),
        _ => None,
    };
    Ok(EntryView {
        id: row.id,
        cadre_id: row.cadre_id,
        cadre_name,
        source: row.source,
        recommended_by: row.recommended_by,
        stage,
        stage_label: stage.label(),
        stage_since: row.stage_since,
        days_in_stage: (today - row.stage_since).num_days(),
        withdrawn_reason: row.withdrawn_reason,
        proposal,
        moves,
        approvals: approvals.into_iter().map(|(a, _)| a).collect(),
        version: row.version,
    })
}

pub fn get_entry(conn: &mut DbConn, id: i64, today: NaiveDate) -> Result<EntryView, ApiError> {
    let row = find_entry(conn, id)?;
    entry_view(conn, row, today)
}

pub fn list_entries(
    conn: &mut DbConn,
    query: EntryQuery,
    today: NaiveDate,
) -> Result<Vec<EntryView>, ApiError> {
    let mut select = pool_entries::table
        .order(pool_entries::id)
        .select(EntryRow::as_select())
        .into_boxed();
    if let Some(stage) = query.stage {
        select = select.filter(pool_entries::stage.eq(stage.as_str()));
    }
    if let Some(cadre) = query.cadre_id {
        select = select.filter(pool_entries::cadre_id.eq(cadre));
    }
    let rows = select.load(conn)?;
    rows.into_iter()
        .map(|r| entry_view(conn, r, today))
        .collect()
}

/// Records a move `(from, to)` of an entry on a day.
fn insert_move(
    conn: &mut DbConn,
    entry: i64,
    (from, to): (Option<Stage>, Stage),
    on: NaiveDate,
    actor: &Actor,
    note: Option<&str>,
    now: NaiveDateTime,
) -> Result<(), ApiError> {
    diesel::insert_into(pool_moves::table)
        .values((
            pool_moves::entry_id.eq(entry),
            pool_moves::from_stage.eq(from.map(Stage::as_str)),
            pool_moves::to_stage.eq(to.as_str()),
            pool_moves::moved_on.eq(on),
            pool_moves::actor_id.eq(actor.user_id),
            pool_moves::note.eq(note),
            pool_moves::created_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}

pub fn create_entry(
    conn: &mut DbConn,
    actor: &Actor,
    input: CreateEntryRequest,
    now: NaiveDateTime,
) -> Result<EntryView, ApiError> {
    let status: Option<String> = cadres::table
        .find(input.cadre_id)
        .select(cadres::status)
        .first(conn)
        .optional()?;
    match status.as_deref() {
        None => return Err(ApiError::field("cadre_id", "unknown_cadre")),
        Some("active") => {}
        Some(_) => return Err(ApiError::field("cadre_id", "archived_cadre")),
    }
    let open: bool = diesel::select(diesel::dsl::exists(
        pool_entries::table
            .filter(pool_entries::cadre_id.eq(input.cadre_id))
            .filter(
                pool_entries::stage.ne_all([Stage::Appointed.as_str(), Stage::Withdrawn.as_str()]),
            ),
    ))
    .get_result(conn)?;
    if open {
        return Err(ApiError::conflict(
            "already_in_pool",
            "this cadre is already in the talent pool",
        ));
    }
    let on = input.discovered_on.unwrap_or(now.date());
    if on > now.date() {
        return Err(ApiError::field("discovered_on", "in_the_future"));
    }
    let id: i64 = diesel::insert_into(pool_entries::table)
        .values((
            pool_entries::cadre_id.eq(input.cadre_id),
            pool_entries::source.eq(normalise(&input.source)),
            pool_entries::recommended_by.eq(input.recommended_by.as_deref().map(normalise)),
            pool_entries::stage.eq(Stage::Discovered.as_str()),
            pool_entries::stage_since.eq(on),
            pool_entries::version.eq(1),
            pool_entries::created_at.eq(now),
            pool_entries::updated_at.eq(now),
        ))
        .returning(pool_entries::id)
        .get_result(conn)?;
    insert_move(conn, id, (None, Stage::Discovered), on, actor, None, now)?;
    let view = get_entry(conn, id, now.date())?;
    audit::record(
        conn,
        actor,
        Event::new("pool_entry.created", "pool_entry", id).after(&view),
    )?;
    Ok(view)
}

fn move_to(
    conn: &mut DbConn,
    actor: &Actor,
    row: &EntryRow,
    to: Stage,
    on: NaiveDate,
    note: Option<&str>,
    now: NaiveDateTime,
) -> Result<(), ApiError> {
    let from = stage_of(&row.stage)?;
    diesel::update(pool_entries::table.find(row.id))
        .set((
            pool_entries::stage.eq(to.as_str()),
            pool_entries::stage_since.eq(on),
            pool_entries::withdrawn_reason.eq(if to == Stage::Withdrawn {
                note.map(normalise)
            } else {
                None
            }),
            pool_entries::proposed_stage.eq(None::<String>),
            pool_entries::proposed_by.eq(None::<i64>),
            pool_entries::proposed_at.eq(None::<NaiveDateTime>),
            pool_entries::proposal_note.eq(None::<String>),
            pool_entries::version.eq(row.version + 1),
            pool_entries::updated_at.eq(now),
        ))
        .execute(conn)?;
    insert_move(conn, row.id, (Some(from), to), on, actor, note, now)
}

/// Moves an entry one stage on (or withdraws it). Moving to `inspected` or `decided` only
/// proposes the move; it happens when both departments approve.
pub fn transition(
    conn: &mut DbConn,
    actor: &Actor,
    id: i64,
    input: StageRequest,
    now: NaiveDateTime,
) -> Result<EntryView, ApiError> {
    let row = find_entry(conn, id)?;
    let from = stage_of(&row.stage)?;
    let on = input.date.unwrap_or(now.date());
    if on < row.stage_since || on > now.date() {
        return Err(ApiError::field("date", "outside_stage"));
    }
    if matches!(from, Stage::Appointed | Stage::Withdrawn) {
        return Err(ApiError::conflict(
            "illegal_transition",
            format!("the entry is {} and moves no more", from.as_str()),
        ));
    }
    let before = get_entry(conn, id, now.date())?;
    let action = if input.to == Stage::Withdrawn {
        let note = input
            .note
            .as_deref()
            .ok_or_else(|| ApiError::field("note", "required_to_withdraw"))?;
        move_to(conn, actor, &row, Stage::Withdrawn, on, Some(note), now)?;
        "pool_entry.withdrawn"
    } else {
        if from.next() != Some(input.to) {
            return Err(ApiError::conflict(
                "illegal_transition",
                format!(
                    "from {} the next stage is {}",
                    from.as_str(),
                    from.next().map_or("none", Stage::as_str)
                ),
            ));
        }
        if row.proposed_stage.is_some() {
            return Err(ApiError::conflict(
                "proposal_pending",
                "a proposed move awaits approval",
            ));
        }
        if input.to.needs_joint_approval() {
            diesel::update(pool_entries::table.find(id))
                .set((
                    pool_entries::proposed_stage.eq(input.to.as_str()),
                    pool_entries::proposed_by.eq(actor.user_id),
                    // The proposal's identity (approvals name it) and, by its date, when the
                    // move takes effect once approved.
                    pool_entries::proposed_at.eq(on.and_time(now.time())),
                    pool_entries::proposal_note.eq(input.note.as_deref().map(normalise)),
                    pool_entries::version.eq(row.version + 1),
                    pool_entries::updated_at.eq(now),
                ))
                .execute(conn)?;
            "pool_entry.move_proposed"
        } else {
            if input.to == Stage::Appointed
                && !records::has_current_appointment(conn, row.cadre_id, row.created_at)?
            {
                return Err(ApiError::conflict(
                    "appointment_record_required",
                    "record the appointment first (POST /cadres/{id}/appointments)",
                ));
            }
            move_to(conn, actor, &row, input.to, on, input.note.as_deref(), now)?;
            "pool_entry.moved"
        }
    };
    let after = get_entry(conn, id, now.date())?;
    audit::record(
        conn,
        actor,
        Event::new(action, "pool_entry", id)
            .before(&before)
            .after(&after),
    )?;
    Ok(after)
}

/// Approves or rejects the proposed move. One approval from each department (UFWD and
/// Organization Department), neither from the proposer, carries it out; a rejection returns
/// the entry to the previous stage.
pub fn approve(
    conn: &mut DbConn,
    actor: &Actor,
    roles: &[Role],
    id: i64,
    input: ApprovalRequest,
    now: NaiveDateTime,
) -> Result<EntryView, ApiError> {
    let row = find_entry(conn, id)?;
    let (Some(to), Some(proposer), Some(proposed_at)) = (
        row.proposed_stage.as_deref().and_then(Stage::parse),
        row.proposed_by,
        row.proposed_at,
    ) else {
        return Err(ApiError::conflict("no_proposal", "no move awaits approval"));
    };
    let approver = actor.user_id.ok_or(ApiError::Unauthenticated)?;
    if approver == proposer {
        return Err(ApiError::conflict(
            "proposer_cannot_approve",
            "the user who proposed the move cannot approve it",
        ));
    }
    let earlier: Vec<ApprovalView> = approvals_of(conn, id)?
        .into_iter()
        .filter(|(_, p)| *p == proposed_at)
        .map(|(a, _)| a)
        .collect();
    if earlier.iter().any(|a| a.approver_id == approver) {
        return Err(ApiError::conflict(
            "already_approved",
            "you have decided on this proposal",
        ));
    }
    let approved_sides: Vec<&str> = earlier
        .iter()
        .filter(|a| a.approve)
        .map(|a| a.department.as_str())
        .collect();
    let side = [Role::UfwdStaff, Role::OrgStaff]
        .into_iter()
        .filter(|r| roles.contains(r))
        .map(Role::as_str)
        .find(|side| !approved_sides.contains(side))
        .ok_or_else(|| {
            ApiError::conflict(
                "department_already_approved",
                "your department has approved already; the other must",
            )
        })?;
    let before = get_entry(conn, id, now.date())?;
    diesel::insert_into(pool_approvals::table)
        .values((
            pool_approvals::entry_id.eq(id),
            pool_approvals::to_stage.eq(to.as_str()),
            pool_approvals::proposed_at.eq(proposed_at),
            pool_approvals::approver_id.eq(approver),
            pool_approvals::department.eq(side),
            pool_approvals::approve.eq(input.decision == ApprovalDecision::Approve),
            pool_approvals::comment.eq(normalise(&input.comment)),
            pool_approvals::created_at.eq(now),
        ))
        .execute(conn)?;
    let action = match input.decision {
        ApprovalDecision::Reject => {
            let from = stage_of(&row.stage)?;
            let back = from.previous().unwrap_or(from);
            move_to(
                conn,
                actor,
                &row,
                back,
                now.date(),
                Some(&format!("rejected: {}", normalise(&input.comment))),
                now,
            )?;
            "pool_entry.move_rejected"
        }
        ApprovalDecision::Approve => {
            let both = ["ufwd_staff", "org_staff"]
                .iter()
                .all(|d| *d == side || approved_sides.contains(d));
            if both {
                let refreshed = find_entry(conn, id)?;
                move_to(
                    conn,
                    actor,
                    &refreshed,
                    to,
                    proposed_at.date().max(row.stage_since),
                    row.proposal_note.as_deref(),
                    now,
                )?;
                "pool_entry.moved"
            } else {
                "pool_entry.move_approved"
            }
        }
    };
    let after = get_entry(conn, id, now.date())?;
    audit::record(
        conn,
        actor,
        Event::new(action, "pool_entry", id)
            .before(&before)
            .after(&after),
    )?;
    Ok(after)
}

pub fn add_cultivation(
    conn: &mut DbConn,
    actor: &Actor,
    cadre_id: i64,
    input: CultivationRequest,
    now: NaiveDateTime,
) -> Result<CultivationView, ApiError> {
    crate::cadres::repo::find(conn, cadre_id)?.ok_or(ApiError::NotFound)?;
    if input.ends_on.is_some_and(|end| end < input.starts_on) {
        return Err(ApiError::field("ends_on", "before_starts_on"));
    }
    let id: i64 = diesel::insert_into(cultivations::table)
        .values((
            cultivations::cadre_id.eq(cadre_id),
            cultivations::kind.eq(input.kind.as_str()),
            cultivations::title.eq(normalise(&input.title)),
            cultivations::place.eq(input.place.as_deref().map(normalise)),
            cultivations::starts_on.eq(input.starts_on),
            cultivations::ends_on.eq(input.ends_on),
            cultivations::outcome.eq(input.outcome.as_deref().map(normalise)),
            cultivations::created_by.eq(actor.user_id.unwrap_or_default()),
            cultivations::created_at.eq(now),
        ))
        .returning(cultivations::id)
        .get_result(conn)?;
    let view = cultivations_of(conn, cadre_id)?
        .into_iter()
        .find(|c| c.id == id)
        .ok_or(ApiError::NotFound)?;
    audit::record(
        conn,
        actor,
        Event::new("cultivation.created", "cultivation", id).after(&view),
    )?;
    Ok(view)
}

pub fn cultivations_of(conn: &mut DbConn, cadre_id: i64) -> Result<Vec<CultivationView>, ApiError> {
    crate::cadres::repo::find(conn, cadre_id)?.ok_or(ApiError::NotFound)?;
    Ok(cultivations::table
        .filter(cultivations::cadre_id.eq(cadre_id))
        .order(cultivations::starts_on)
        .select((
            cultivations::id,
            cultivations::kind,
            cultivations::title,
            cultivations::place,
            cultivations::starts_on,
            cultivations::ends_on,
            cultivations::outcome,
        ))
        .load::<(
            i64,
            String,
            String,
            Option<String>,
            NaiveDate,
            Option<NaiveDate>,
            Option<String>,
        )>(conn)?
        .into_iter()
        .map(|(id, kind, title, place, starts_on, ends_on, outcome)| {
            let kind = CultivationKind::parse(&kind).unwrap_or(CultivationKind::Other);
            CultivationView {
                id,
                cadre_id,
                kind,
                kind_label: kind.label(),
                title,
                place,
                starts_on,
                ends_on,
                outcome,
            }
        })
        .collect())
}

pub fn add_recommendation(
    conn: &mut DbConn,
    actor: &Actor,
    input: RecommendationRequest,
    now: NaiveDateTime,
) -> Result<RecommendationView, ApiError> {
    crate::cadres::repo::find(conn, input.cadre_id)?
        .ok_or_else(|| ApiError::field("cadre_id", "unknown_cadre"))?;
    let id: i64 = diesel::insert_into(recommendations::table)
        .values((
            recommendations::cadre_id.eq(input.cadre_id),
            recommendations::recommender.eq(normalise(&input.recommender)),
            recommendations::post_kind.eq(normalise(&input.post_kind)),
            recommendations::reasons.eq(input.reasons.trim()),
            recommendations::created_by.eq(actor.user_id.unwrap_or_default()),
            recommendations::created_at.eq(now),
        ))
        .returning(recommendations::id)
        .get_result(conn)?;
    let view = recommendations_list(
        conn,
        RecommendationQuery {
            cadre_id: Some(input.cadre_id),
        },
    )?
    .into_iter()
    .find(|r| r.id == id)
    .ok_or(ApiError::NotFound)?;
    audit::record(
        conn,
        actor,
        Event::new("recommendation.created", "recommendation", id).after(&view),
    )?;
    Ok(view)
}

pub fn recommendations_list(
    conn: &mut DbConn,
    query: RecommendationQuery,
) -> Result<Vec<RecommendationView>, ApiError> {
    let mut select = recommendations::table
        .order(recommendations::id)
        .select((
            recommendations::id,
            recommendations::cadre_id,
            recommendations::recommender,
            recommendations::post_kind,
            recommendations::reasons,
            recommendations::created_at,
        ))
        .into_boxed();
    if let Some(cadre) = query.cadre_id {
        select = select.filter(recommendations::cadre_id.eq(cadre));
    }
    Ok(select
        .load::<(i64, i64, String, String, String, NaiveDateTime)>(conn)?
        .into_iter()
        .map(
            |(id, cadre_id, recommender, post_kind, reasons, at)| RecommendationView {
                id,
                cadre_id,
                recommender,
                post_kind,
                reasons,
                created_at: at.and_utc(),
            },
        )
        .collect())
}

/// Open entries per stage and the mean time from discovery to appointment.
pub fn pipeline(
    conn: &mut DbConn,
) -> Result<(std::collections::BTreeMap<String, i64>, Option<f64>), ApiError> {
    let mut counts = std::collections::BTreeMap::new();
    for stage in Stage::ALL {
        counts.insert(stage.as_str().to_owned(), 0);
    }
    for (stage, count) in pool_entries::table
        .group_by(pool_entries::stage)
        .select((pool_entries::stage, diesel::dsl::count_star()))
        .load::<(String, i64)>(conn)?
    {
        counts.insert(stage, count);
    }
    let moves: Vec<(i64, String, NaiveDate)> = pool_moves::table
        .filter(
            pool_moves::to_stage.eq_any([Stage::Discovered.as_str(), Stage::Appointed.as_str()]),
        )
        .select((
            pool_moves::entry_id,
            pool_moves::to_stage,
            pool_moves::moved_on,
        ))
        .load(conn)?;
    let mut spans: HashMap<i64, (Option<NaiveDate>, Option<NaiveDate>)> = HashMap::new();
    for (entry, stage, on) in moves {
        let span = spans.entry(entry).or_default();
        if stage == Stage::Discovered.as_str() {
            span.0 = Some(on);
        } else {
            span.1 = Some(on);
        }
    }
    let days: Vec<i64> = spans
        .values()
        .filter_map(|(start, end)| {
            Some((end.as_ref()?.signed_duration_since(*start.as_ref()?)).num_days())
        })
        .collect();
    #[allow(clippy::cast_precision_loss)]
    let average = (!days.is_empty())
        .then(|| ((days.iter().sum::<i64>() as f64 / days.len() as f64) * 10.0).round() / 10.0);
    Ok((counts, average))
}
