//! Figures of the direct channel over a period (by submission time): counts by status and
//! category, the rates (acceptance, instruction, on-time reply, adoption, satisfaction), and per
//! department and per month.

use std::collections::{BTreeMap, HashSet};

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

use super::dto::{Category, Rating, ReplyResult, SuggestionStatus};
use super::service::AssignmentRow;
use crate::db::kept_sql::id_in;
use crate::db::schema::{
    assignments, instructions, suggestion_presentations, suggestion_ratings, suggestions, units,
};
use crate::db::DbConn;
use crate::error::ApiError;
use crate::figures::rate;

#[derive(Debug, Serialize, ToSchema)]
pub struct Count {
    pub key: String,
    pub label: String,
    pub count: usize,
}

#[derive(Debug, Default, Serialize, ToSchema)]
pub struct DepartmentFigures {
    pub unit_id: i64,
    pub unit_name: String,
    pub assignments: usize,
    pub replied: usize,
    /// Replied on or before the due date.
    pub on_time: usize,
    /// Open and past due today.
    pub overdue: usize,
    /// Replies adopted, being implemented or included in a plan.
    pub adopted: usize,
    pub on_time_rate: Option<f64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MonthFigures {
    /// `YYYY-MM`.
    pub month: String,
    pub submitted: usize,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SuggestionStats {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub total: usize,
    pub by_status: Vec<Count>,
    pub by_category: Vec<Count>,
    /// Accepted (whatever happened next) / intake decided.
    pub acceptance_rate: Option<f64>,
    /// With at least one leader's instruction / accepted.
    pub instruction_rate: Option<f64>,
    /// Replies on or before the due date / replies.
    pub on_time_reply_rate: Option<f64>,
    /// Lead replies adopted, being implemented or included in a plan / lead replies.
    pub adoption_rate: Option<f64>,
    /// Satisfied or basically satisfied / ratings.
    pub satisfaction_rate: Option<f64>,
    pub by_department: Vec<DepartmentFigures>,
    pub by_month: Vec<MonthFigures>,
}

pub fn compute(
    conn: &mut DbConn,
    from: NaiveDateTime,
    to: NaiveDateTime,
    today: NaiveDate,
) -> Result<SuggestionStats, ApiError> {
    let rows: Vec<(i64, String, String, NaiveDateTime)> = suggestions::table
        .filter(suggestions::created_at.ge(from))
        .filter(suggestions::created_at.lt(to))
        .select((
            suggestions::id,
            suggestions::status,
            suggestions::category,
            suggestions::created_at,
        ))
        .load(conn)?;
    let ids: Vec<i64> = rows.iter().map(|r| r.0).collect();
    let presented: HashSet<i64> = suggestion_presentations::table
        .filter(id_in(suggestion_presentations::suggestion_id, &ids))
        .select(suggestion_presentations::suggestion_id)
        .load::<i64>(conn)?
        .into_iter()
        .collect();
    let instructed: HashSet<i64> = instructions::table
        .filter(id_in(instructions::suggestion_id, &ids))
        .select(instructions::suggestion_id)
        .load::<i64>(conn)?
        .into_iter()
        .collect();
    let handled: Vec<AssignmentRow> = assignments::table
        .filter(id_in(assignments::suggestion_id, &ids))
        .select(AssignmentRow::as_select())
        .load(conn)?;
    let ratings: Vec<String> = suggestion_ratings::table
        .filter(id_in(suggestion_ratings::suggestion_id, &ids))
        .select(suggestion_ratings::rating)
        .load(conn)?;

    let mut by_status: BTreeMap<&str, usize> = BTreeMap::new();
    let mut by_category: BTreeMap<&str, usize> = BTreeMap::new();
    let mut by_month: BTreeMap<String, usize> = BTreeMap::new();
    let (mut decided, mut accepted, mut with_instruction) = (0, 0, 0);
    for (id, status, category, created_at) in &rows {
        *by_status.entry(status.as_str()).or_default() += 1;
        *by_category.entry(category.as_str()).or_default() += 1;
        *by_month
            .entry(created_at.format("%Y-%m").to_string())
            .or_default() += 1;
        let status = SuggestionStatus::parse(status).unwrap_or(SuggestionStatus::Submitted);
        if status != SuggestionStatus::Submitted {
            decided += 1;
        }
        let was_accepted = matches!(
            status,
            SuggestionStatus::Accepted
                | SuggestionStatus::Presented
                | SuggestionStatus::Instructed
                | SuggestionStatus::Replied
        ) || (status == SuggestionStatus::Closed && presented.contains(id));
        if was_accepted {
            accepted += 1;
            if instructed.contains(id) {
                with_instruction += 1;
            }
        }
    }

    let replied: Vec<&AssignmentRow> = handled.iter().filter(|a| a.replied_at.is_some()).collect();
    let on_time = |a: &AssignmentRow| a.replied_at.is_some_and(|at| at.date() <= a.due_on);
    let adopted = |a: &AssignmentRow| {
        a.result
            .as_deref()
            .and_then(ReplyResult::parse)
            .is_some_and(ReplyResult::is_adoption)
    };
    let lead_replies: Vec<&&AssignmentRow> = replied.iter().filter(|a| a.lead).collect();
    let satisfied = ratings
        .iter()
        .filter(|r| {
            matches!(
                Rating::parse(r),
                Some(Rating::Satisfied | Rating::BasicallySatisfied)
            )
        })
        .count();

    let unit_ids: Vec<i64> = handled.iter().map(|a| a.unit_id).collect();
    let unit_names: BTreeMap<i64, String> = units::table
        .filter(id_in(units::id, &unit_ids))
        .select((units::id, units::name))
        .load::<(i64, String)>(conn)?
        .into_iter()
        .collect();
    let mut departments: BTreeMap<i64, DepartmentFigures> = BTreeMap::new();
    for a in &handled {
        let d = departments
            .entry(a.unit_id)
            .or_insert_with(|| DepartmentFigures {
                unit_id: a.unit_id,
                unit_name: unit_names.get(&a.unit_id).cloned().unwrap_or_default(),
                ..DepartmentFigures::default()
            });
        d.assignments += 1;
        if a.replied_at.is_some() {
            d.replied += 1;
            d.on_time += usize::from(on_time(a));
            d.adopted += usize::from(adopted(a));
        } else if a.status != "returned" && a.due_on < today {
            d.overdue += 1;
        }
    }

    Ok(SuggestionStats {
        from: from.and_utc(),
        to: to.and_utc(),
        total: rows.len(),
        by_status: by_status
            .into_iter()
            .map(|(k, count)| Count {
                key: k.into(),
                label: SuggestionStatus::parse(k)
                    .map_or_else(|| k.to_owned(), |s| s.label().to_owned()),
                count,
            })
            .collect(),
        by_category: by_category
            .into_iter()
            .map(|(k, count)| Count {
                key: k.into(),
                label: Category::parse(k).map_or_else(|| k.to_owned(), |c| c.label().to_owned()),
                count,
            })
            .collect(),
        acceptance_rate: rate(accepted, decided),
        instruction_rate: rate(with_instruction, accepted),
        on_time_reply_rate: rate(replied.iter().filter(|a| on_time(a)).count(), replied.len()),
        adoption_rate: rate(
            lead_replies.iter().filter(|a| adopted(a)).count(),
            lead_replies.len(),
        ),
        satisfaction_rate: rate(satisfied, ratings.len()),
        by_department: departments
            .into_values()
            .map(|mut d| {
                d.on_time_rate = rate(d.on_time, d.replied);
                d
            })
            .collect(),
        by_month: by_month
            .into_iter()
            .map(|(month, submitted)| MonthFigures { month, submitted })
            .collect(),
    })
}
