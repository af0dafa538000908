//! Rows of the meeting tables.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use crate::db::schema::{agenda_items, invitations, meetings, opinions};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = meetings)]
pub struct MeetingRow {
    pub id: i64,
    pub kind: String,
    pub unit_id: i64,
    pub title: String,
    pub starts_at: NaiveDateTime,
    pub place: Option<String>,
    pub status: String,
    pub cancel_reason: Option<String>,
    pub exemption_reason: Option<String>,
    pub exempted_by: Option<i64>,
    pub created_by: Option<i64>,
    pub version: i32,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = agenda_items)]
pub struct AgendaItemRow {
    pub id: i64,
    pub meeting_id: i64,
    pub position: i32,
    pub title: String,
    pub summary: Option<String>,
    pub major_decision: bool,
    pub version: i32,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = invitations)]
pub struct InvitationRow {
    pub id: i64,
    pub meeting_id: i64,
    pub cadre_id: i64,
    pub agenda_item_id: Option<i64>,
    pub reason: Option<String>,
    pub status: String,
    pub answer_reason: Option<String>,
    pub answered_at: Option<NaiveDateTime>,
    pub attendance: Option<String>,
    pub invited_by: Option<i64>,
    pub version: i32,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = opinions)]
pub struct OpinionRow {
    pub id: i64,
    pub agenda_item_id: i64,
    pub cadre_id: i64,
    pub content: String,
    pub recorded_by: i64,
    pub on_behalf: bool,
    pub outcome: Option<String>,
    pub outcome_explanation: Option<String>,
    pub outcome_on: Option<NaiveDate>,
    pub outcome_by: Option<i64>,
    pub version: i32,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}
