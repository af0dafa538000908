//! Appointment records, kept bitemporally: valid time (from, to) and recording time. Nothing is
//! edited in place; a correction is a new record naming the one it supersedes, so the answer
//! for an earlier date never changes.

use std::collections::{HashMap, HashSet};

use chrono::{Duration, NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::dto::*;
use crate::audit::{self, Actor, Event};
use crate::cadres::vocab::Level;
use crate::db::schema::{appointments, units};
use crate::db::DbConn;
use crate::error::ApiError;
use crate::text::normalise;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = appointments)]
pub struct AppointmentRow {
    pub id: i64,
    pub cadre_id: i64,
    pub kind: String,
    pub position: String,
    pub unit_id: Option<i64>,
    pub unit_name: String,
    pub rank: Option<String>,
    pub level: String,
    pub leadership: bool,
    pub valid_from: NaiveDate,
    pub valid_to: Option<NaiveDate>,
    pub document_number: String,
    pub appointing_body: String,
    pub supersedes: Option<i64>,
    pub correction_reason: Option<String>,
    pub recorded_by: i64,
    pub recorded_at: NaiveDateTime,
}

impl AppointmentRow {
    pub fn in_effect_on(&self, day: NaiveDate) -> bool {
        self.valid_from <= day && self.valid_to.is_none_or(|to| to >= day)
    }
}

fn views(conn: &mut DbConn, rows: &[AppointmentRow]) -> Result<Vec<AppointmentView>, ApiError> {
    let recorders: Vec<i64> = rows.iter().map(|r| r.recorded_by).collect();
    let names = crate::accounts::repo::display_names_of(conn, &recorders)?;
    Ok(rows
        .iter()
        .map(|r| {
            let kind = AppointmentKind::parse(&r.kind).unwrap_or(AppointmentKind::Appointment);
            AppointmentView {
                id: r.id,
                cadre_id: r.cadre_id,
                kind,
                kind_label: kind.label(),
                position: r.position.clone(),
                unit_id: r.unit_id,
                unit_name: r.unit_name.clone(),
                rank: r.rank.clone(),
                level: Level::parse(&r.level).unwrap_or(Level::District),
                leadership: r.leadership,
                valid_from: r.valid_from,
                valid_to: r.valid_to,
                document_number: r.document_number.clone(),
                appointing_body: r.appointing_body.clone(),
                supersedes: r.supersedes,
                correction_reason: r.correction_reason.clone(),
                recorded_by: r.recorded_by,
                recorded_by_name: names.get(&r.recorded_by).cloned().unwrap_or_default(),
                recorded_at: r.recorded_at.and_utc(),
            }
        })
        .collect())
}

fn all_of(conn: &mut DbConn, cadre_id: i64) -> Result<Vec<AppointmentRow>, ApiError> {
    Ok(appointments::table
        .filter(appointments::cadre_id.eq(cadre_id))
        .order((appointments::recorded_at, appointments::id))
        .select(AppointmentRow::as_select())
        .load(conn)?)
}

/// The records current at the end of a recording instant: recorded before it and not
/// superseded by a record recorded before it.
fn known_at(rows: &[AppointmentRow], before: NaiveDateTime) -> Vec<&AppointmentRow> {
    let known: Vec<&AppointmentRow> = rows.iter().filter(|r| r.recorded_at < before).collect();
    let superseded: HashSet<i64> = known.iter().filter_map(|r| r.supersedes).collect();
    known
        .into_iter()
        .filter(|r| !superseded.contains(&r.id))
        .collect()
}

/// The current records (as the system knows them now).
pub fn current(
    conn: &mut DbConn,
    cadre_id: i64,
    now: NaiveDateTime,
) -> Result<Vec<AppointmentView>, ApiError> {
    crate::cadres::repo::find(conn, cadre_id)?.ok_or(ApiError::NotFound)?;
    let rows = all_of(conn, cadre_id)?;
    let current: Vec<AppointmentRow> = known_at(&rows, now + Duration::microseconds(1))
        .into_iter()
        .cloned()
        .collect();
    views(conn, &current)
}

/// Whether the cadre has a current appointment record made since `since` (for moving a talent
/// pool entry to `appointed`).
pub fn has_current_appointment(
    conn: &mut DbConn,
    cadre_id: i64,
    since: NaiveDateTime,
) -> Result<bool, ApiError> {
    let rows = all_of(conn, cadre_id)?;
    let far_future = NaiveDateTime::MAX;
    Ok(known_at(&rows, far_future)
        .iter()
        .any(|r| r.kind == AppointmentKind::Appointment.as_str() && r.recorded_at >= since))
}

fn check(conn: &mut DbConn, input: &AppointmentRequest) -> Result<String, ApiError> {
    if input.valid_to.is_some_and(|to| to < input.valid_from) {
        return Err(ApiError::field("valid_to", "before_valid_from"));
    }
    match (input.unit_id, &input.unit_name) {
        (Some(id), _) => units::table
            .find(id)
            .select(units::name)
            .first::<String>(conn)
            .optional()?
            .ok_or_else(|| ApiError::field("unit_id", "unknown_unit")),
        (None, Some(name)) => Ok(normalise(name)),
        (None, None) => Err(ApiError::field("unit_name", "required_without_unit_id")),
    }
}

fn insert(
    conn: &mut DbConn,
    actor: &Actor,
    cadre_id: i64,
    input: &AppointmentRequest,
    unit_name: &str,
    supersedes: Option<(i64, &str)>,
    now: NaiveDateTime,
) -> Result<i64, ApiError> {
    Ok(diesel::insert_into(appointments::table)
        .values((
            appointments::cadre_id.eq(cadre_id),
            appointments::kind.eq(input.kind.as_str()),
            appointments::position.eq(normalise(&input.position)),
            appointments::unit_id.eq(input.unit_id),
            appointments::unit_name.eq(unit_name),
            appointments::rank.eq(input.rank.as_deref().map(normalise)),
            appointments::level.eq(input.level.as_str()),
            appointments::leadership.eq(input.leadership),
            appointments::valid_from.eq(input.valid_from),
            appointments::valid_to.eq(input.valid_to),
            appointments::document_number.eq(normalise(&input.document_number)),
            appointments::appointing_body.eq(normalise(&input.appointing_body)),
            appointments::supersedes.eq(supersedes.map(|(id, _)| id)),
            appointments::correction_reason.eq(supersedes.map(|(_, reason)| normalise(reason))),
            appointments::recorded_by.eq(actor.user_id.unwrap_or_default()),
            appointments::recorded_at.eq(now),
        ))
        .returning(appointments::id)
        .get_result(conn)?)
}

fn one(conn: &mut DbConn, id: i64) -> Result<AppointmentRow, ApiError> {
    appointments::table
        .find(id)
        .select(AppointmentRow::as_select())
        .first(conn)
        .optional()?
        .ok_or(ApiError::NotFound)
}

pub fn create(
    conn: &mut DbConn,
    actor: &Actor,
    cadre_id: i64,
    input: AppointmentRequest,
    now: NaiveDateTime,
) -> Result<AppointmentView, ApiError> {
    crate::cadres::repo::find(conn, cadre_id)?.ok_or(ApiError::NotFound)?;
    let unit_name = check(conn, &input)?;
    let id = insert(conn, actor, cadre_id, &input, &unit_name, None, now)?;
    let row = one(conn, id)?;
    let view = views(conn, &[row])?.pop().ok_or(ApiError::NotFound)?;
    audit::record(
        conn,
        actor,
        Event::new("appointment.recorded", "appointment", id).after(&view),
    )?;
    Ok(view)
}

/// A correction: a new record superseding the given one, with the reason; both stay.
pub fn correct(
    conn: &mut DbConn,
    actor: &Actor,
    id: i64,
    input: CorrectionRequest,
    now: NaiveDateTime,
) -> Result<AppointmentView, ApiError> {
    let old = one(conn, id)?;
    let already: bool = diesel::select(diesel::dsl::exists(
        appointments::table.filter(appointments::supersedes.eq(id)),
    ))
    .get_result(conn)?;
    if already {
        return Err(ApiError::conflict(
            "already_corrected",
            "this record has been corrected; correct the newer record",
        ));
    }
    let unit_name = check(conn, &input.record)?;
    let new_id = insert(
        conn,
        actor,
        old.cadre_id,
        &input.record,
        &unit_name,
        Some((id, &input.reason)),
        now,
    )?;
    let new = one(conn, new_id)?;
    let mut both = views(conn, &[old, new])?;
    let after = both.pop().ok_or(ApiError::NotFound)?;
    let before = both.pop().ok_or(ApiError::NotFound)?;
    audit::record(
        conn,
        actor,
        Event::new("appointment.corrected", "appointment", new_id)
            .before(&before)
            .after(&after),
    )?;
    Ok(after)
}

/// What the system recorded as current at the end of `as_of`, with every correction and every
/// record ever made.
pub fn history(conn: &mut DbConn, cadre_id: i64, as_of: NaiveDate) -> Result<History, ApiError> {
    crate::cadres::repo::find(conn, cadre_id)?.ok_or(ApiError::NotFound)?;
    let rows = all_of(conn, cadre_id)?;
    let end = (as_of + Duration::days(1))
        .and_hms_opt(0, 0, 0)
        .unwrap_or(NaiveDateTime::MAX);
    let known: Vec<AppointmentRow> = known_at(&rows, end).into_iter().cloned().collect();
    let later_corrections: HashMap<i64, i64> = rows
        .iter()
        .filter(|r| r.recorded_at >= end)
        .filter_map(|r| r.supersedes.map(|old| (old, r.id)))
        .collect();
    let known_views = views(conn, &known)?;
    let records = known
        .iter()
        .zip(known_views)
        .map(|(row, view)| HistoryRecord {
            in_effect: row.in_effect_on(as_of),
            later_corrected_by: later_corrections.get(&row.id).copied(),
            record: view,
        })
        .collect();
    let corrections = rows
        .iter()
        .filter_map(|r| {
            r.supersedes.map(|old| CorrectionLink {
                superseded: old,
                corrected_by: r.id,
                reason: r.correction_reason.clone(),
                recorded_by: r.recorded_by,
                recorded_at: r.recorded_at.and_utc(),
            })
        })
        .collect();
    Ok(History {
        cadre_id,
        as_of,
        records,
        corrections,
        all_records: views(conn, &rows)?,
    })
}

/// Current leadership appointments in effect on `day`, as (cadre, unit, level).
pub fn leadership_in_effect(
    conn: &mut DbConn,
    day: NaiveDate,
    now: NaiveDateTime,
) -> Result<Vec<(i64, Option<i64>, String)>, ApiError> {
    let rows: Vec<AppointmentRow> = appointments::table
        .select(AppointmentRow::as_select())
        .load(conn)?;
    let current = known_at(&rows, now + Duration::microseconds(1));
    Ok(current
        .into_iter()
        .filter(|r| {
            r.leadership && r.kind != AppointmentKind::Removal.as_str() && r.in_effect_on(day)
        })
        .map(|r| (r.cadre_id, r.unit_id, r.level.clone()))
        .collect())
}
