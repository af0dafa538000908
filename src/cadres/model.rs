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
    /// With `tag_lists`, all of the cadre's tags (see `repo::Tags::of_columns`).
    pub category_mask: i32,
    pub tag_lists: String,
}

/// The columns a cadre's view shows (`service::view`), which reads by id and list pages
/// select: a cadre's row without its ciphertexts, its identity-number lookup and its search
/// text, which only edits, reveals and searches need. They are about half of a row's bytes, and
/// a list page that left them out ran 1.2-1.3 x as fast in pgbench (docs/performance.md, "A
/// view reads only the columns it shows").
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = cadres)]
pub struct CadreViewRow {
    pub id: i64,
    pub name: String,
    pub former_name: Option<String>,
    pub gender: String,
    pub ethnicity: String,
    pub birth_date: NaiveDate,
    pub native_place: Option<String>,
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
    pub status: String,
    pub archived_reason: Option<String>,
    pub notes: Option<String>,
    /// The key of a page's cursor in name order.
    pub sort_key: String,
    pub version: i32,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub category_mask: i32,
    pub tag_lists: String,
}

impl From<CadreRow> for CadreViewRow {
    fn from(row: CadreRow) -> CadreViewRow {
        CadreViewRow {
            id: row.id,
            name: row.name,
            former_name: row.former_name,
            gender: row.gender,
            ethnicity: row.ethnicity,
            birth_date: row.birth_date,
            native_place: row.native_place,
            id_number_masked: row.id_number_masked,
            phone_masked: row.phone_masked,
            email: row.email,
            party: row.party,
            party_joined_on: row.party_joined_on,
            level: row.level,
            unit_id: row.unit_id,
            workplace: row.workplace,
            position: row.position,
            education: row.education,
            degree: row.degree,
            professional_title: row.professional_title,
            status: row.status,
            archived_reason: row.archived_reason,
            notes: row.notes,
            sort_key: row.sort_key,
            version: row.version,
            created_at: row.created_at,
            updated_at: row.updated_at,
            category_mask: row.category_mask,
            tag_lists: row.tag_lists,
        }
    }
}

/// Every stored column of a profile but the id, the ciphers and the timestamps; written on
/// create (an edit writes a whole `CadreRow`, see `service::store_update`). `None` is written as
/// NULL, not as the column's default: SQLite has no `DEFAULT` in a row of values, so with
/// defaults diesel wrote each row of a batch as a statement of its own, inside a savepoint, and
/// each such statement left FTS5 a b-tree of its own (`db::merge_search_tables_after_load`).
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = cadres, treat_none_as_default_value = false)]
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
