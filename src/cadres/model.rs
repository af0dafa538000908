//! Rows of the cadre tables.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use crate::db::schema::{cadre_records, cadres, profile_corrections};

#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = cadres)]
pub struct CadreRow {
    pub id: i64,
    pub name: String,
    pub former_name: Option<String>,
    pub gender: String,
    pub ethnicity: String,
    pub birth_date: NaiveDate,
    pub native_place: Option<String>,
    pub id_number_cipher: Option<String>,
    pub id_number_lookup: Option<String>,
    pub id_number_masked: Option<String>,
    pub phone_cipher: Option<String>,
    pub phone_masked: Option<String>,
    pub email: Option<String>,
    pub party: String,
    pub party_joined_on: Option<NaiveDate>,
    pub level: String,
    pub unit_id: Option<i64>,
    pub workplace: Option<String>,
    pub position: Option<String>,
    pub education: Option<String>,
    pub degree: Option<String>,
    pub professional_title: Option<String>,
    pub status: String,
    pub archived_reason: Option<String>,
    pub notes: Option<String>,
    pub search_text: String,
    pub sort_key: String,
    pub version: i32,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    /// With `tag_lists`, all of the cadre's tags (see `repo::Tags::of_row`).
    pub category_mask: i32,
    pub tag_lists: String,
}

/// Every stored column of a profile but the id, the ciphers and the timestamps; written on
/// create (an edit writes a whole `CadreRow`, see `service::store_update`).
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = cadres)]
pub struct CadreColumns {
    pub name: String,
    pub former_name: Option<String>,
    pub gender: String,
    pub ethnicity: String,
    pub birth_date: NaiveDate,
    pub native_place: Option<String>,
    pub id_number_lookup: Option<String>,
    pub id_number_masked: Option<String>,
    pub phone_masked: Option<String>,
    pub email: Option<String>,
    pub party: String,
    pub party_joined_on: Option<NaiveDate>,
    pub level: String,
    pub unit_id: Option<i64>,
    pub workplace: Option<String>,
    pub position: Option<String>,
    pub education: Option<String>,
    pub degree: Option<String>,
    pub professional_title: Option<String>,
    pub notes: Option<String>,
    pub search_text: String,
    pub sort_key: String,
    pub category_mask: i32,
    pub tag_lists: String,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = cadre_records)]
pub struct RecordRow {
    pub id: i64,
    pub cadre_id: i64,
    pub kind: String,
    pub data: String,
    pub version: i32,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = profile_corrections)]
pub struct CorrectionRow {
    pub id: i64,
    pub cadre_id: i64,
    pub requested_by: i64,
    pub changes: String,
    pub reason: String,
    pub status: String,
    pub decided_by: Option<i64>,
    pub decision_note: Option<String>,
    pub decided_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
}
