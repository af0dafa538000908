//! Rows of the contact tables.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use crate::db::schema::{campaigns, follow_ups, pairings, talks, terms};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = terms)]
pub struct TermRow {
    pub id: i64,
    pub number: i32,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    pub min_contacts_per_year: i32,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = pairings)]
pub struct PairingRow {
    pub id: i64,
    pub term_id: i64,
    pub leader_id: i64,
    pub cadre_id: i64,
    pub starts_on: NaiveDate,
    pub ends_on: Option<NaiveDate>,
    pub end_reason: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl PairingRow {
    /// The last day the pairing covers: its end, or its term's.
    pub fn last_day(&self, term: &TermRow) -> NaiveDate {
        self.ends_on.unwrap_or(term.ends_on).min(term.ends_on)
    }

    pub fn active_on(&self, day: NaiveDate) -> bool {
        self.starts_on <= day && self.ends_on.is_none_or(|end| end >= day)
    }
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = campaigns)]
pub struct CampaignRow {
    pub id: i64,
    pub term_id: i64,
    pub name: String,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = talks)]
pub struct TalkRow {
    pub id: i64,
    pub author_id: i64,
    pub held_on: NaiveDate,
    pub form: String,
    pub campaign_id: Option<i64>,
    pub work: Option<String>,
    pub study: Option<String>,
    pub life: Option<String>,
    pub concerns: Option<String>,
    pub response: Option<String>,
    pub private_notes: Option<String>,
    pub version: i32,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = follow_ups)]
pub struct FollowUpRow {
    pub id: i64,
    pub talk_id: i64,
    pub what: String,
    pub responsible: String,
    pub due_on: NaiveDate,
    pub done: bool,
    pub outcome: Option<String>,
    pub done_on: Option<NaiveDate>,
    pub version: i32,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}
