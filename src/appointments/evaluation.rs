//! Annual assessments (考核, one per cadre per year) and evaluation cycles (评价): raters from
//! both departments and the cadre's unit score named, weighted criteria; each rater sees only its
//! own ratings until the cycle closes, then the aggregate per cadre.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::dto::*;
use super::records;
use crate::audit::{self, Actor, Event};
use crate::auth::Role;
use crate::db::schema::{
    appointment_targets, assessments, cadres, evaluation_cycles, evaluation_ratings, units,
};
use crate::db::DbConn;
use crate::error::ApiError;
use crate::text::normalise;

pub fn record_assessment(
    conn: &mut DbConn,
    actor: &Actor,
    input: AssessmentRequest,
    now: NaiveDateTime,
) -> Result<AssessmentView, ApiError> {
    crate::cadres::repo::find(conn, input.cadre_id)?
        .ok_or_else(|| ApiError::field("cadre_id", "unknown_cadre"))?;
    let id: i64 = diesel::insert_into(assessments::table)
        .values((
            assessments::cadre_id.eq(input.cadre_id),
            assessments::year.eq(input.year),
            assessments::grade.eq(input.grade.as_str()),
            assessments::comment.eq(input.comment.as_deref().map(normalise)),
            assessments::recorded_by.eq(actor.user_id.unwrap_or_default()),
            assessments::created_at.eq(now),
        ))
        .returning(assessments::id)
        .get_result(conn)
        .map_err(|e| match ApiError::from(e) {
            ApiError::Conflict {
                code: "already_exists",
                ..
            } => ApiError::conflict(
                "assessment_exists",
                "this cadre has an assessment for that year",
            ),
            other => other,
        })?;
    let view = list_assessments(
        conn,
        AssessmentQuery {
            cadre_id: Some(input.cadre_id),
            year: Some(input.year),
        },
    )?
    .pop()
    .ok_or(ApiError::NotFound)?;
    audit::record(
        conn,
        actor,
        Event::new("assessment.recorded", "assessment", id).after(&view),
    )?;
    Ok(view)
}

pub fn list_assessments(
    conn: &mut DbConn,
    query: AssessmentQuery,
) -> Result<Vec<AssessmentView>, ApiError> {
    let mut select = assessments::table
        .order((assessments::cadre_id, assessments::year))
        .select((
            assessments::id,
            assessments::cadre_id,
            assessments::year,
            assessments::grade,
            assessments::comment,
            assessments::recorded_by,
        ))
        .into_boxed();
    if let Some(cadre) = query.cadre_id {
        select = select.filter(assessments::cadre_id.eq(cadre));
    }
    if let Some(year) = query.year {
        select = select.filter(assessments::year.eq(year));
    }
    Ok(select
        .load::<(i64, i64, i32, String, Option<String>, i64)>(conn)?
        .into_iter()
        .filter_map(|(id, cadre_id, year, grade, comment, recorded_by)| {
            let grade = Grade::parse(&grade)?;
            Some(AssessmentView {
                id,
                cadre_id,
                year,
                grade,
                grade_label: grade.label(),
                comment,
                recorded_by,
            })
        })
        .collect())
}

type CycleRow = (
    i64,
    String,
    String,
    String,
    NaiveDateTime,
    Option<NaiveDateTime>,
);

fn cycle_view(row: CycleRow) -> Result<CycleView, ApiError> {
    let (id, name, criteria, status, created_at, closed_at) = row;
    Ok(CycleView {
        id,
        name,
        criteria: serde_json::from_str(&criteria)
            .map_err(|e| ApiError::internal(format!("stored criteria do not parse: {e}")))?,
        status,
        created_at: created_at.and_utc(),
        closed_at: closed_at.map(|t| t.and_utc()),
    })
}

fn find_cycle(conn: &mut DbConn, id: i64) -> Result<CycleView, ApiError> {
    let row: CycleRow = evaluation_cycles::table
        .find(id)
        .select((
            evaluation_cycles::id,
            evaluation_cycles::name,
            evaluation_cycles::criteria,
            evaluation_cycles::status,
            evaluation_cycles::created_at,
            evaluation_cycles::closed_at,
        ))
        .first(conn)
        .optional()?
        .ok_or(ApiError::NotFound)?;
    cycle_view(row)
}

pub fn cycles(conn: &mut DbConn) -> Result<Vec<CycleView>, ApiError> {
    let rows: Vec<CycleRow> = evaluation_cycles::table
        .order(evaluation_cycles::id)
        .select((
            evaluation_cycles::id,
            evaluation_cycles::name,
            evaluation_cycles::criteria,
            evaluation_cycles::status,
            evaluation_cycles::created_at,
            evaluation_cycles::closed_at,
        ))
        .load(conn)?;
    rows.into_iter().map(cycle_view).collect()
}

pub fn create_cycle(
    conn: &mut DbConn,
    actor: &Actor,
    input: CycleRequest,
    now: NaiveDateTime,
) -> Result<CycleView, ApiError> {
    let names: BTreeSet<String> = input.criteria.iter().map(|c| normalise(&c.name)).collect();
    if names.len() != input.criteria.len() {
        return Err(ApiError::field("criteria", "duplicate_name"));
    }
    let criteria: Vec<Criterion> = input
        .criteria
        .iter()
        .map(|c| Criterion {
            name: normalise(&c.name),
            weight: c.weight,
        })
        .collect();
    let id: i64 = diesel::insert_into(evaluation_cycles::table)
        .values((
            evaluation_cycles::name.eq(normalise(&input.name)),
            evaluation_cycles::criteria
                .eq(serde_json::to_string(&criteria)
                    .map_err(|e| ApiError::internal(e.to_string()))?),
            evaluation_cycles::status.eq("open"),
            evaluation_cycles::created_by.eq(actor.user_id.unwrap_or_default()),
            evaluation_cycles::created_at.eq(now),
        ))
        .returning(evaluation_cycles::id)
        .get_result(conn)?;
    let view = find_cycle(conn, id)?;
    audit::record(
        conn,
        actor,
        Event::new("evaluation_cycle.created", "evaluation_cycle", id).after(&view),
    )?;
    Ok(view)
}

pub fn close_cycle(
    conn: &mut DbConn,
    actor: &Actor,
    id: i64,
    now: NaiveDateTime,
) -> Result<CycleView, ApiError> {
    let before = find_cycle(conn, id)?;
    if before.status == "closed" {
        return Err(ApiError::conflict("cycle_closed", "the cycle is closed"));
    }
    diesel::update(evaluation_cycles::table.find(id))
        .set((
            evaluation_cycles::status.eq("closed"),
            evaluation_cycles::closed_at.eq(now),
        ))
        .execute(conn)?;
    let after = find_cycle(conn, id)?;
    audit::record(
        conn,
        actor,
        Event::new("evaluation_cycle.closed", "evaluation_cycle", id)
            .before(&before)
            .after(&after),
    )?;
    Ok(after)
}

/// Which side a rater stands on for a cadre: UFWD, Organization Department, or the cadre's unit.
fn side_of(
    conn: &mut DbConn,
    roles: &[Role],
    rater_unit: Option<i64>,
    cadre_id: i64,
) -> Result<&'static str, ApiError> {
    if roles.contains(&Role::UfwdStaff) {
        return Ok("ufwd");
    }
    if roles.contains(&Role::OrgStaff) {
        return Ok("org");
    }
    let cadre_unit: Option<i64> = cadres::table
        .find(cadre_id)
        .select(cadres::unit_id)
        .first(conn)?;
    if rater_unit.is_some() && cadre_unit == rater_unit {
        Ok("unit")
    } else {
        Err(ApiError::field("cadre_id", "not_in_your_unit"))
    }
}

pub fn rate(
    conn: &mut DbConn,
    actor: &Actor,
    roles: &[Role],
    rater_unit: Option<i64>,
    cycle_id: i64,
    input: RatingRequest,
    now: NaiveDateTime,
) -> Result<RatingView, ApiError> {
    let cycle = find_cycle(conn, cycle_id)?;
    if cycle.status != "open" {
        return Err(ApiError::conflict("cycle_closed", "the cycle is closed"));
    }
    crate::cadres::repo::find(conn, input.cadre_id)?
        .ok_or_else(|| ApiError::field("cadre_id", "unknown_cadre"))?;
    let expected: BTreeSet<&str> = cycle.criteria.iter().map(|c| c.name.as_str()).collect();
    let given: BTreeSet<&str> = input.scores.keys().map(String::as_str).collect();
    if expected != given {
        return Err(ApiError::field("scores", "every_criterion_once"));
    }
    if input.scores.values().any(|s| !(0..=100).contains(s)) {
        return Err(ApiError::field("scores", "range"));
    }
    let side = side_of(conn, roles, rater_unit, input.cadre_id)?;
    let rater = actor.user_id.ok_or(ApiError::Unauthenticated)?;
    let id: i64 = diesel::insert_into(evaluation_ratings::table)
        .values((
            evaluation_ratings::cycle_id.eq(cycle_id),
            evaluation_ratings::cadre_id.eq(input.cadre_id),
            evaluation_ratings::rater_id.eq(rater),
            evaluation_ratings::side.eq(side),
            evaluation_ratings::scores.eq(serde_json::to_string(&input.scores)
                .map_err(|e| ApiError::internal(e.to_string()))?),
            evaluation_ratings::comment.eq(input.comment.as_deref().map(normalise)),
            evaluation_ratings::created_at.eq(now),
        ))
        .returning(evaluation_ratings::id)
        .get_result(conn)
        .map_err(|e| match ApiError::from(e) {
            ApiError::Conflict {
                code: "already_exists",
                ..
            } => ApiError::conflict("already_rated", "you have rated this cadre in this cycle"),
            other => other,
        })?;
    let view = RatingView {
        id,
        cycle_id,
        cadre_id: input.cadre_id,
        rater_id: rater,
        side: side.into(),
        scores: input.scores,
        comment: input.comment,
    };
    audit::record(
        conn,
        actor,
        Event::new("evaluation_rating.recorded", "evaluation_rating", id).after(&view),
    )?;
    Ok(view)
}

/// The ratings a caller may see: its own while the cycle is open; all (and the results) once it
/// is closed, for those who read evaluations.
pub fn ratings(
    conn: &mut DbConn,
    rater: i64,
    reads_all: bool,
    cycle_id: i64,
) -> Result<CycleRatings, ApiError> {
    let cycle = find_cycle(conn, cycle_id)?;
    let closed = cycle.status == "closed";
    let mut select = evaluation_ratings::table
        .filter(evaluation_ratings::cycle_id.eq(cycle_id))
        .order(evaluation_ratings::id)
        .select((
            evaluation_ratings::id,
            evaluation_ratings::cadre_id,
            evaluation_ratings::rater_id,
            evaluation_ratings::side,
            evaluation_ratings::scores,
            evaluation_ratings::comment,
        ))
        .into_boxed();
    if !(closed && reads_all) {
        select = select.filter(evaluation_ratings::rater_id.eq(rater));
    }
    let ratings: Vec<RatingView> = select
        .load::<(i64, i64, i64, String, String, Option<String>)>(conn)?
        .into_iter()
        .map(
            |(id, cadre_id, rater_id, side, scores, comment)| RatingView {
                id,
                cycle_id,
                cadre_id,
                rater_id,
                side,
                scores: serde_json::from_str(&scores).unwrap_or_default(),
                comment,
            },
        )
        .collect();
    let results = if closed && reads_all {
        Some(aggregate(conn, &cycle, &ratings)?)
    } else {
        None
    };
    Ok(CycleRatings {
        cycle,
        ratings,
        results,
    })
}

fn aggregate(
    conn: &mut DbConn,
    cycle: &CycleView,
    ratings: &[RatingView],
) -> Result<Vec<CadreResult>, ApiError> {
    let weights: HashMap<&str, i32> = cycle
        .criteria
        .iter()
        .map(|c| (c.name.as_str(), c.weight))
        .collect();
    let total_weight: i32 = weights.values().sum();
    let mut by_cadre: BTreeMap<i64, Vec<&RatingView>> = BTreeMap::new();
    for rating in ratings {
        by_cadre.entry(rating.cadre_id).or_default().push(rating);
    }
    let ids: Vec<i64> = by_cadre.keys().copied().collect();
    let names = crate::cadres::repo::names_of(conn, &ids)?;
    let round = |x: f64| (x * 10.0).round() / 10.0;
    #[allow(clippy::cast_precision_loss)]
    Ok(by_cadre
        .into_iter()
        .map(|(cadre_id, list)| {
            let raters = list.len();
            let weighted: f64 = list
                .iter()
                .map(|r| {
                    r.scores
                        .iter()
                        .map(|(name, score)| {
                            f64::from(*score) * f64::from(*weights.get(name.as_str()).unwrap_or(&0))
                        })
                        .sum::<f64>()
                        / f64::from(total_weight.max(1))
                })
                .sum::<f64>()
                / raters as f64;
            let by_criterion = cycle
                .criteria
                .iter()
                .map(|c| {
                    (
                        c.name.clone(),
                        round(
                            list.iter()
                                .map(|r| f64::from(*r.scores.get(&c.name).unwrap_or(&0)))
                                .sum::<f64>()
                                / raters as f64,
                        ),
                    )
                })
                .collect();
            CadreResult {
                cadre_id,
                cadre_name: names.get(&cadre_id).cloned().unwrap_or_default(),
                raters,
                weighted_score: round(weighted),
                by_criterion,
            }
        })
        .collect())
}

pub fn create_target(
    conn: &mut DbConn,
    actor: &Actor,
    input: TargetRequest,
    now: NaiveDateTime,
) -> Result<TargetView, ApiError> {
    match (input.unit_id, input.level) {
        (Some(_), Some(_)) | (None, None) => {
            return Err(ApiError::field("unit_id", "unit_or_level"))
        }
        (Some(unit), None) => {
            units::table
                .find(unit)
                .select(units::id)
                .first::<i64>(conn)
                .optional()?
                .ok_or_else(|| ApiError::field("unit_id", "unknown_unit"))?;
        }
        (None, Some(_)) => {}
    }
    let id: i64 = diesel::insert_into(appointment_targets::table)
        .values((
            appointment_targets::unit_id.eq(input.unit_id),
            appointment_targets::level.eq(input.level.map(|l| l.as_str())),
            appointment_targets::leadership_posts.eq(input.leadership_posts),
            appointment_targets::target_percent.eq(input.target_percent),
            appointment_targets::created_by.eq(actor.user_id.unwrap_or_default()),
            appointment_targets::created_at.eq(now),
        ))
        .returning(appointment_targets::id)
        .get_result(conn)?;
    let view = TargetView {
        id,
        unit_id: input.unit_id,
        level: input.level.map(|l| l.as_str().to_owned()),
        leadership_posts: input.leadership_posts,
        target_percent: input.target_percent,
    };
    audit::record(
        conn,
        actor,
        Event::new("appointment_target.created", "appointment_target", id).after(&view),
    )?;
    Ok(view)
}

pub fn targets(conn: &mut DbConn) -> Result<Vec<TargetView>, ApiError> {
    Ok(appointment_targets::table
        .order(appointment_targets::id)
        .select((
            appointment_targets::id,
            appointment_targets::unit_id,
            appointment_targets::level,
            appointment_targets::leadership_posts,
            appointment_targets::target_percent,
        ))
        .load::<(i64, Option<i64>, Option<String>, i32, i32)>(conn)?
        .into_iter()
        .map(
            |(id, unit_id, level, leadership_posts, target_percent)| TargetView {
                id,
                unit_id,
                level,
                leadership_posts,
                target_percent,
            },
        )
        .collect())
}

/// Targets against today's non-party leadership appointments, the pipeline, and the mean time
/// to appointment.
pub fn stats(conn: &mut DbConn, now: NaiveDateTime) -> Result<AppointmentStats, ApiError> {
    let held = records::leadership_in_effect(conn, now.date(), now)?;
    let statuses = targets(conn)?
        .into_iter()
        .map(|target| {
            let holders: HashSet<i64> = held
                .iter()
                .filter(|(_, unit, level)| match (&target.unit_id, &target.level) {
                    (Some(t), _) => *unit == Some(*t),
                    (None, Some(l)) => level == l,
                    (None, None) => false,
                })
                .map(|(cadre, _, _)| *cadre)
                .collect();
            let held = i64::try_from(holders.len()).unwrap_or(0);
            let posts = i64::from(target.leadership_posts);
            let needed = (posts * i64::from(target.target_percent) + 99) / 100;
            #[allow(clippy::cast_precision_loss)]
            let current_percent = ((held as f64 / posts as f64) * 1000.0).round() / 10.0;
            TargetStatus {
                held,
                current_percent,
                gap_posts: (needed - held).max(0),
                target,
            }
        })
        .collect();
    let (pipeline, average_days_to_appointment) = super::pool::pipeline(conn)?;
    Ok(AppointmentStats {
        targets: statuses,
        pipeline,
        average_days_to_appointment,
    })
}
