//! The rules of the cadre database: writing a checked profile with its protected fields
//! encrypted, reading it masked, lists with keyset pages, archive and restore, reveal.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use serde_json::json;

use super::dto::{
    CadreFilter, CadrePageParams, CadreSort, CadreView, ProtectedField, RevealRequest, RevealView,
    StatusFilter, UpdateCadreRequest,
};
use super::identity::{mask_id_number, mask_phone, parse_id_number};
use super::model::{CadreColumns, CadreRow, CadreViewRow};
use super::profile::{age_on, Profile};
use super::repo::{self, Search, SearchWith, Tags};
use super::vocab::{ethnicity_label, Category, Degree, Education, Gender, Level, Party, Status};
use crate::accounts;
use crate::audit::{self, Actor, Event};
use crate::crypto::DataKey;
use crate::db::schema::cadres;
use crate::db::{self, kept_sql, written_in, DbConn};
use crate::error::ApiError;
use crate::text::{fold, initials_of, pinyin_of, search_text};
use crate::web::Page;

pub fn today() -> NaiveDate {
    chrono::Utc::now().date_naive()
}

fn id_context(id: i64) -> String {
    format!("cadre:{id}:id_number")
}

fn phone_context(id: i64) -> String {
    format!("cadre:{id}:phone")
}

pub const ID_NUMBER_LOOKUP: &str = "cadre id_number";

fn corrupt(field: &str) -> ApiError {
    ApiError::internal(format!("stored cadre {field} is not a known value"))
}

fn tags_of(category_mask: i32, tag_lists: &str) -> Result<Tags, ApiError> {
    Tags::of_columns(category_mask, tag_lists).ok_or_else(|| corrupt("tag_lists"))
}

/// Reads a stored row back into a profile, decrypting the protected fields.
pub fn profile_of(key: &DataKey, row: &CadreRow) -> Result<Profile, ApiError> {
    let tags = tags_of(row.category_mask, &row.tag_lists)?;
    Ok(Profile {
        name: row.name.clone(),
        former_name: row.former_name.clone(),
        gender: Gender::parse(&row.gender).ok_or_else(|| corrupt("gender"))?,
        ethnicity: row.ethnicity.clone(),
        birth_date: row.birth_date,
        native_place: row.native_place.clone(),
        id_number: row
            .id_number_cipher
            .as_deref()
            .map(|c| key.decrypt(&id_context(row.id), c))
            .transpose()?,
        phone: row
            .phone_cipher
            .as_deref()
            .map(|c| key.decrypt(&phone_context(row.id), c))
            .transpose()?,
        email: row.email.clone(),
        party: Party::parse(&row.party).ok_or_else(|| corrupt("party"))?,
        party_joined_on: row.party_joined_on,
        categories: tags.categories,
        level: Level::parse(&row.level).ok_or_else(|| corrupt("level"))?,
        unit_id: row.unit_id,
        workplace: row.workplace.clone(),
        position: row.position.clone(),
        education: row.education.as_deref().and_then(Education::parse),
        degree: row.degree.as_deref().and_then(Degree::parse),
        professional_title: row.professional_title.clone(),
        sectors: tags.sectors,
        expertise: tags.expertise,
        notes: row.notes.clone(),
    })
}

/// Checks a profile against the rules that need the database; answers its unit's name, which
/// the search text holds.
pub fn check_profile(conn: &mut DbConn, profile: &mut Profile) -> Result<Option<String>, ApiError> {
    check_profile_with(profile, |unit_id| {
        Ok(accounts::repo::find_unit(conn, unit_id)?.map(|unit| unit.name))
    })
}

/// [`check_profile`] with units named by `unit_name` (an import reads every unit once).
pub fn check_profile_with(
    profile: &mut Profile,
    unit_name: impl FnOnce(i64) -> Result<Option<String>, ApiError>,
) -> Result<Option<String>, ApiError> {
    let mut name = None;
    profile.check(today(), |unit_id| {
        name = unit_name(unit_id)?;
        Ok(name.is_some())
    })?;
    Ok(name)
}

fn columns(key: &DataKey, profile: &Profile, unit_name: Option<&str>) -> CadreColumns {
    let searchable = [
        Some(profile.name.as_str()),
        profile.former_name.as_deref(),
        unit_name,
        profile.workplace.as_deref(),
        profile.position.as_deref(),
    ];
    let mut searched: Vec<String> = searchable.iter().flatten().map(|t| fold(t)).collect();
    for name in [Some(profile.name.as_str()), profile.former_name.as_deref()]
        .into_iter()
        .flatten()
    {
        searched.push(pinyin_of(name));
        searched.push(initials_of(name));
    }
    CadreColumns {
        name: profile.name.clone(),
        former_name: profile.former_name.clone(),
        gender: profile.gender.as_str().into(),
        ethnicity: profile.ethnicity.clone(),
        birth_date: profile.birth_date,
        native_place: profile.native_place.clone(),
        id_number_lookup: profile
            .id_number
            .as_deref()
            .map(|v| key.lookup_hash(ID_NUMBER_LOOKUP, v)),
        id_number_masked: profile.id_number.as_deref().map(mask_id_number),
        phone_masked: profile.phone.as_deref().map(mask_phone),
        email: profile.email.clone(),
        party: profile.party.as_str().into(),
        party_joined_on: profile.party_joined_on,
        level: profile.level.as_str().into(),
        unit_id: profile.unit_id,
        workplace: profile.workplace.clone(),
        position: profile.position.clone(),
        education: profile.education.map(|e| e.as_str().into()),
        degree: profile.degree.map(|d| d.as_str().into()),
        professional_title: profile.professional_title.clone(),
        notes: profile.notes.clone(),
        search_text: search_text(&searched.join(" ")),
        sort_key: pinyin_of(&profile.name),
        category_mask: Category::mask_of(&profile.categories),
        tag_lists: repo::tag_lists_json(&profile.sectors, &profile.expertise),
    }
}

fn duplicate_id_number(error: diesel::result::Error) -> ApiError {
    match ApiError::from(error) {
        ApiError::Conflict {
            code: "already_exists",
            ..
        } => ApiError::conflict("id_number_taken", "another cadre has this ID number"),
        other => other,
    }
}

/// The protected fields' ciphers (ID number, phone), bound to the row id.
fn ciphers(
    key: &DataKey,
    id: i64,
    profile: &Profile,
) -> Result<(Option<String>, Option<String>), ApiError> {
    let id_cipher = profile
        .id_number
        .as_deref()
        .map(|v| key.encrypt(&id_context(id), v))
        .transpose()?;
    let phone_cipher = profile
        .phone
        .as_deref()
        .map(|v| key.encrypt(&phone_context(id), v))
        .transpose()?;
    Ok((id_cipher, phone_cipher))
}

/// A checked profile to insert, with its unit's name (from [`check_profile`]).
pub struct NewCadre {
    pub profile: Profile,
    pub unit_name: Option<String>,
}

/// Cadre rows written in one statement: 31 bound values each, under both engines'
/// limits (SQLite 32,766, PostgreSQL 65,535).
pub const NEW_CADRES_PER_STATEMENT: usize = 500;

/// Takes `count` fresh cadre ids. The ciphers are bound to the id, so it is known before the
/// row is written. Call inside [`db::write_transaction`]: on SQLite the ids follow the highest
/// ever given, which holds only while this transaction has the write lock.
fn next_ids(conn: &mut DbConn, count: usize) -> Result<Vec<i64>, ApiError> {
    use diesel::dsl::sql;
    use diesel::sql_types::{Array, BigInt};
    let count = i64::try_from(count).map_err(|_| ApiError::internal("too many new cadres"))?;
    Ok(match conn {
        DbConn::Pg(native) => diesel::select(
            sql::<Array<BigInt>>(
                "ARRAY(SELECT nextval(pg_get_serial_sequence('cadres', 'id')) \
                 FROM generate_series(1, ",
            )
            .bind::<BigInt, _>(count)
            .sql("))"),
        )
        .get_result(native)?,
        DbConn::Sqlite(native) => {
            let last: i64 = diesel::select(sql::<BigInt>(
                "(SELECT COALESCE(MAX(seq), 0) FROM sqlite_sequence WHERE name = 'cadres')",
            ))
            .get_result(native)?;
            (last + 1..=last + count).collect()
        }
    })
}

/// Inserts new cadres, active at version 1, with their protected fields encrypted and their
/// tags: a statement for ids, one per [`NEW_CADRES_PER_STATEMENT`] rows and one for the tags.
/// Returns their ids in the order of `new`. The rows go in by name, each with the next id: FTS5
/// writes out what it holds as a new b-tree whenever a rowid is not above the last one, so with
/// both of SQLite's trigram tables' rowids ascending (`cadre_search` by id, `cadre_search_by_name`
/// by name, then id) a call adds one b-tree to each (more only when FTS5's buffer fills), where
/// rows in the order given left `cadre_search_by_name` one for about every other row
/// (`db::merge_search_tables_after_load`).
pub fn insert_new(
    conn: &mut DbConn,
    key: &DataKey,
    new: &[NewCadre],
) -> Result<Vec<i64>, ApiError> {
    let mut ids_in_name_order = next_ids(conn, new.len())?;
    ids_in_name_order.sort_unstable();
    let stored: Vec<CadreColumns> = new
        .iter()
        .map(|new| columns(key, &new.profile, new.unit_name.as_deref()))
        .collect();
    let mut in_name_order: Vec<usize> = (0..new.len()).collect();
    in_name_order.sort_by(|&a, &b| stored[a].sort_key.cmp(&stored[b].sort_key));
    let mut ids = vec![0; new.len()];
    for (&row, &id) in in_name_order.iter().zip(&ids_in_name_order) {
        ids[row] = id;
    }
    let now = db::now();
    for rows in in_name_order.chunks(NEW_CADRES_PER_STATEMENT) {
        let rows = rows
            .iter()
            .map(|&row| {
                let (id, new) = (ids[row], &new[row]);
                let (id_cipher, phone_cipher) = ciphers(key, id, &new.profile)?;
                Ok((
                    cadres::id.eq(id),
                    &stored[row],
                    cadres::id_number_cipher.eq(id_cipher),
                    cadres::phone_cipher.eq(phone_cipher),
                    cadres::status.eq("active"),
                    cadres::version.eq(1),
                    cadres::created_at.eq(now),
                    cadres::updated_at.eq(now),
                ))
            })
            .collect::<Result<Vec<_>, ApiError>>()?;
        crate::on_engine!(&mut *conn, |native| diesel::insert_into(cadres::table)
            .values(rows)
            .execute(native))
        .map_err(duplicate_id_number)?;
    }
    let tags: Vec<Tags> = new.iter().map(|new| new.profile.tags()).collect();
    let tag_rows: Vec<_> = ids
        .iter()
        .zip(&tags)
        .flat_map(|(&id, tags)| repo::tag_rows(id, tags))
        .collect();
    repo::insert_tags(conn, &tag_rows)?;
    Ok(ids)
}

pub fn view(row: CadreViewRow, today: NaiveDate) -> Result<CadreView, ApiError> {
    let tags = tags_of(row.category_mask, &row.tag_lists)?;
    let gender = Gender::parse(&row.gender).ok_or_else(|| corrupt("gender"))?;
    let party = Party::parse(&row.party).ok_or_else(|| corrupt("party"))?;
    let level = Level::parse(&row.level).ok_or_else(|| corrupt("level"))?;
    let status = Status::parse(&row.status).ok_or_else(|| corrupt("status"))?;
    let education = row.education.as_deref().and_then(Education::parse);
    let degree = row.degree.as_deref().and_then(Degree::parse);
    Ok(CadreView {
        id: row.id,
        name: row.name,
        former_name: row.former_name,
        gender,
        gender_label: gender.label(),
        ethnicity_label: ethnicity_label(&row.ethnicity).unwrap_or(""),
        ethnicity: row.ethnicity,
        age: age_on(row.birth_date, today),
        birth_date: row.birth_date,
        native_place: row.native_place,
        id_number: row.id_number_masked,
        phone: row.phone_masked,
        email: row.email,
        party,
        party_label: party.label(),
        party_joined_on: row.party_joined_on,
        category_labels: tags.categories.iter().map(|c| c.label()).collect(),
        categories: tags.categories,
        level,
        level_label: level.label(),
        unit_id: row.unit_id,
        workplace: row.workplace,
        position: row.position,
        education,
        education_label: education.map(Education::label),
        degree,
        degree_label: degree.map(Degree::label),
        professional_title: row.professional_title,
        sectors: tags.sectors,
        expertise: tags.expertise,
        status,
        status_label: status.label(),
        archived_reason: row.archived_reason,
        notes: row.notes,
        version: row.version,
        created_at: row.created_at.and_utc(),
        updated_at: row.updated_at.and_utc(),
    })
}

pub fn get(conn: &mut DbConn, id: i64) -> Result<CadreView, ApiError> {
    let row = repo::find_view(conn, id)?.ok_or(ApiError::NotFound)?;
    view(row, today())
}

pub fn create(
    conn: &mut DbConn,
    key: &DataKey,
    actor: &Actor,
    mut profile: Profile,
) -> Result<CadreView, ApiError> {
    let unit_name = check_profile(conn, &mut profile)?;
    let id = insert_new(conn, key, &[NewCadre { profile, unit_name }])?[0];
    let created = get(conn, id)?;
    audit::record(
        conn,
        actor,
        Event::new("cadre.created", "cadre", id).after(&created),
    )?;
    Ok(created)
}

/// A cadre edit worked out from the stored row, ready to write: everything but the write itself
/// is done before the edit takes its turn in the write queue (reading and merging the profile,
/// the checks, encryption, both views and the JSON of the record before), which was half of the
/// time an edit held the queue. It is written only over the version it was worked out from, so an
/// edit that raced it answers 412, as two edits with the same `If-Match` do.
pub struct PreparedEdit {
    /// The row as the edit leaves it, but for `updated_at`, which is taken in the queue.
    row: CadreRow,
    indexed: IndexedChanges,
    /// The cadre's tags, when the edit changes them.
    tags: Option<Tags>,
    /// The view after the edit, but for `updated_at`.
    after: CadreView,
    /// The audit event, with the record before.
    event: Event,
}

/// Which groups of indexed cadre columns an edit changes. SQLite updates every index that has a
/// column an UPDATE sets, changed or not, and runs the statistics' tally trigger whenever one
/// of its dimensions is set: an edit of a note that set every column rewrote all nine cadre
/// indexes. An edit sets the unindexed columns always and each group only when it changes, so
/// the cadre UPDATE has at most eight shapes, each kept prepared (`db::kept_update`).
#[derive(Clone, Copy, Debug)]
struct IndexedChanges {
    /// `sort_key`: the name order indexes.
    sort_key: bool,
    /// The dimensions of the statistics: their index, their tallies, the filter indexes.
    statistics: bool,
    /// `id_number_lookup`: its unique index.
    id_number_lookup: bool,
}

impl IndexedChanges {
    fn between(stored: &CadreRow, edited: &CadreRow) -> IndexedChanges {
        IndexedChanges {
            sort_key: stored.sort_key != edited.sort_key,
            statistics: stored.party != edited.party
                || stored.gender != edited.gender
                || stored.ethnicity != edited.ethnicity
                || stored.level != edited.level
                || stored.education != edited.education
                || stored.unit_id != edited.unit_id
                || stored.category_mask != edited.category_mask
                || stored.birth_date != edited.birth_date,
            id_number_lookup: stored.id_number_lookup != edited.id_number_lookup,
        }
    }
}

/// Works out an edit of cadre `id` from `expected_version` (the `If-Match`): 404 for no such
/// cadre, 412 for another version, 422 for a profile that breaks a rule. Writes nothing.
pub fn prepare_update(
    conn: &mut DbConn,
    key: &DataKey,
    id: i64,
    expected_version: i32,
    changes: UpdateCadreRequest,
) -> Result<PreparedEdit, ApiError> {
    let stored = repo::find(conn, id)?.ok_or(ApiError::NotFound)?;
    if stored.version != expected_version {
        return Err(ApiError::PreconditionFailed);
    }
    let stored_profile = profile_of(key, &stored)?;
    let stored_tags = stored_profile.tags();
    let mut profile = stored_profile.with_changes(changes);
    let unit_name = check_profile(conn, &mut profile)?;
    let (id_number_cipher, phone_cipher) = ciphers(key, id, &profile)?;
    let c = columns(key, &profile, unit_name.as_deref());
    let row = CadreRow {
        name: c.name,
        former_name: c.former_name,
        gender: c.gender,
        ethnicity: c.ethnicity,
        birth_date: c.birth_date,
        native_place: c.native_place,
        id_number_cipher,
        id_number_lookup: c.id_number_lookup,
        id_number_masked: c.id_number_masked,
        phone_cipher,
        phone_masked: c.phone_masked,
        email: c.email,
        party: c.party,
        party_joined_on: c.party_joined_on,
        level: c.level,
        unit_id: c.unit_id,
        workplace: c.workplace,
        position: c.position,
        education: c.education,
        degree: c.degree,
        professional_title: c.professional_title,
        notes: c.notes,
        search_text: c.search_text,
        sort_key: c.sort_key,
        category_mask: c.category_mask,
        tag_lists: c.tag_lists,
        version: expected_version + 1,
        ..stored.clone()
    };
    let indexed = IndexedChanges::between(&stored, &row);
    let tags = profile.tags();
    let today = today();
    let before = view(stored.into(), today)?;
    let after = view(row.clone().into(), today)?;
    Ok(PreparedEdit {
        row,
        indexed,
        tags: (tags != stored_tags).then_some(tags),
        event: Event::new("cadre.updated", "cadre", id).before(&before),
        after,
    })
}

/// Writes a prepared edit with its audit event, in the write queue's transaction: 412 when the
/// cadre has changed since the edit was worked out. The update time is taken here, so that
/// `updated_at` follows the order in which edits commit; the view after it is serialised for
/// the audit event here too.
pub fn store_update(
    conn: &mut DbConn,
    actor: &Actor,
    edit: PreparedEdit,
) -> Result<CadreView, ApiError> {
    let PreparedEdit {
        row: r,
        indexed,
        tags,
        mut after,
        event,
    } = edit;
    let updated_at = db::now();
    let update = db::kept_update(
        cadres::table,
        (
            (
                cadres::name.eq(&r.name),
                cadres::former_name.eq(&r.former_name),
                cadres::native_place.eq(&r.native_place),
                cadres::id_number_cipher.eq(&r.id_number_cipher),
                cadres::id_number_masked.eq(&r.id_number_masked),
                cadres::phone_cipher.eq(&r.phone_cipher),
                cadres::phone_masked.eq(&r.phone_masked),
                cadres::email.eq(&r.email),
                cadres::party_joined_on.eq(r.party_joined_on),
                cadres::workplace.eq(&r.workplace),
                cadres::position.eq(&r.position),
                cadres::degree.eq(&r.degree),
                cadres::professional_title.eq(&r.professional_title),
                cadres::notes.eq(&r.notes),
                cadres::search_text.eq(&r.search_text),
                cadres::tag_lists.eq(&r.tag_lists),
                cadres::version.eq(r.version),
                cadres::updated_at.eq(updated_at),
            ),
            indexed.sort_key.then_some(cadres::sort_key.eq(&r.sort_key)),
            indexed.statistics.then_some((
                cadres::party.eq(&r.party),
                cadres::gender.eq(&r.gender),
                cadres::ethnicity.eq(&r.ethnicity),
                cadres::level.eq(&r.level),
                cadres::education.eq(&r.education),
                cadres::unit_id.eq(r.unit_id),
                cadres::category_mask.eq(r.category_mask),
                cadres::birth_date.eq(r.birth_date),
            )),
            indexed
                .id_number_lookup
                .then_some(cadres::id_number_lookup.eq(&r.id_number_lookup)),
        ),
        cadres::id.eq(r.id).and(cadres::version.eq(r.version - 1)),
    );
    let updated = crate::on_engine!(&mut *conn, |native| update.execute(native))
        .map_err(duplicate_id_number)?;
    if updated == 0 {
        return Err(ApiError::PreconditionFailed);
    }
    if let Some(tags) = &tags {
        repo::replace_tags(conn, r.id, tags)?;
    }
    after.updated_at = updated_at.and_utc();
    audit::record(conn, actor, event.after(&after))?;
    Ok(after)
}

/// An edit worked out and written on one connection, inside the caller's write transaction
/// (a decided correction); the PATCH handler runs the two halves apart.
pub fn update(
    conn: &mut DbConn,
    key: &DataKey,
    actor: &Actor,
    id: i64,
    expected_version: i32,
    changes: UpdateCadreRequest,
) -> Result<CadreView, ApiError> {
    let edit = prepare_update(conn, key, id, expected_version, changes)?;
    store_update(conn, actor, edit)
}

/// Moves a cadre out of (`archived`) or back into (`active`) the working pool.
pub fn set_status(
    conn: &mut DbConn,
    actor: &Actor,
    id: i64,
    status: Status,
    reason: Option<String>,
) -> Result<CadreView, ApiError> {
    let row = repo::find(conn, id)?.ok_or(ApiError::NotFound)?;
    if row.status == status.as_str() {
        return Err(ApiError::conflict(
            "status_unchanged",
            format!("the cadre is already {}", status.as_str()),
        ));
    }
    let before = get(conn, id)?;
    diesel::update(cadres::table.find(id))
        .set((
            cadres::status.eq(status.as_str()),
            cadres::archived_reason.eq(reason),
            cadres::version.eq(row.version + 1),
            cadres::updated_at.eq(db::now()),
        ))
        .execute(conn)?;
    let after = get(conn, id)?;
    let action = if status == Status::Archived {
        "cadre.archived"
    } else {
        "cadre.restored"
    };
    audit::record(
        conn,
        actor,
        Event::new(action, "cadre", id)
            .before(&before)
            .after(&after),
    )?;
    Ok(after)
}

/// The unmasked values of protected fields, with an audit row naming who, which and why
/// (never the values).
pub fn reveal(
    conn: &mut DbConn,
    key: &DataKey,
    actor: &Actor,
    id: i64,
    request: &RevealRequest,
) -> Result<RevealView, ApiError> {
    let row = repo::find(conn, id)?.ok_or(ApiError::NotFound)?;
    let wants = |field| request.fields.contains(&field);
    let revealed = RevealView {
        id_number: if wants(ProtectedField::IdNumber) {
            row.id_number_cipher
                .as_deref()
                .map(|c| key.decrypt(&id_context(id), c))
                .transpose()?
        } else {
            None
        },
        phone: if wants(ProtectedField::Phone) {
            row.phone_cipher
                .as_deref()
                .map(|c| key.decrypt(&phone_context(id), c))
                .transpose()?
        } else {
            None
        },
    };
    audit::record(
        conn,
        actor,
        Event::new("cadre.revealed", "cadre", id)
            .after(json!({"fields": request.fields, "reason": request.reason})),
    )?;
    Ok(revealed)
}

/// Finds the cadre holding an ID number, by its keyed hash; audited like a reveal.
pub fn lookup_by_id_number(
    conn: &mut DbConn,
    key: &DataKey,
    actor: &Actor,
    raw: &str,
) -> Result<CadreView, ApiError> {
    let id_number = parse_id_number(raw).map_err(|rule| ApiError::field("id_number", rule))?;
    let found =
        repo::find_by_id_number_lookup(conn, &key.lookup_hash(ID_NUMBER_LOOKUP, &id_number.value))?;
    audit::record(
        conn,
        actor,
        Event::about(
            "cadre.looked_up_by_id_number",
            "cadre",
            found.as_ref().map(|r| r.id.to_string()),
        )
        .after(json!({"found": found.is_some()})),
    )?;
    let row = found.ok_or(ApiError::NotFound)?;
    get(conn, row.id)
}

/// The position after which a page starts: the sort key of the last row and its id.
fn encode_cursor(key: &str, id: i64) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(&(key, id)).unwrap_or_default())
}

fn decode_cursor(cursor: &str) -> Result<(String, i64), ApiError> {
    URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .ok_or_else(|| {
            ApiError::bad_request("invalid_cursor", "the cursor is not one this API gave out")
        })
}

fn timestamp_key(t: NaiveDateTime) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.6f").to_string()
}

/// Orders a cadre query by `column` then id and, after a cursor `(key, id)`, starts the page just
/// past it. The bound on `column` alone comes first so that both engines seek the sort index to
/// the cursor: with only `column > key OR (column = key AND id > id)` they read the index from
/// its start, and a late page would cost more than the first.
macro_rules! keyset_page {
    ($query:expr, $column:expr, $after:expr, $desc:expr) => {{
        let mut query = $query;
        if let Some((key, id)) = $after {
            query = if $desc {
                query
                    .filter($column.le(key.clone()))
                    .filter($column.lt(key).or(cadres::id.lt(id)))
            } else {
                query
                    .filter($column.ge(key.clone()))
                    .filter($column.gt(key).or(cadres::id.gt(id)))
            };
        }
        if $desc {
            query.order(($column.desc(), cadres::id.desc()))
        } else {
            query.order(($column.asc(), cadres::id.asc()))
        }
    }};
}

pub(crate) use keyset_page;

/// Ends a [`keyset_page!`] query at the row `(key, id)`, that row included: the mirror of its
/// cursor, with the bound on `column` alone first for the same reason.
macro_rules! keyset_until {
    ($query:expr, $column:expr, $until:expr, $desc:expr) => {{
        let query = $query;
        match $until {
            None => query,
            Some((key, id)) if $desc => query
                .filter($column.ge(key.clone()))
                .filter($column.gt(key).or(cadres::id.ge(id))),
            Some((key, id)) => query
                .filter($column.le(key.clone()))
                .filter($column.lt(key).or(cadres::id.le(id))),
        }
    }};
}

/// A cursor's key read as the sort column's type; a key that does not parse was made for another
/// order.
fn cursor_key<K>(
    after: Option<(String, i64)>,
    parse: impl Fn(&str) -> Option<K>,
) -> Result<Option<(K, i64)>, ApiError> {
    after
        .map(|(key, id)| {
            parse(&key).map(|key| (key, id)).ok_or_else(|| {
                ApiError::bad_request("invalid_cursor", "the cursor does not fit this order")
            })
        })
        .transpose()
}

/// The rows of a page of cadres matching the filter, before its order, cursor and limit (see
/// [`load_page`]).
fn page_rows<'a>(
    filter: &CadreFilter,
    today: NaiveDate,
    search_with: SearchWith,
) -> diesel::dsl::Select<
    cadres::BoxedQuery<'a, repo::Db>,
    diesel::dsl::AsSelect<CadreViewRow, repo::Db>,
> {
    repo::filtered(filter, today, search_with).select(CadreViewRow::as_select())
}

/// Loads `limit` rows of an ordered page and one more, which tells whether another page follows.
/// The limit is written into the SQL (`db::written_in`), so the page's statement keeps its plan.
fn load_page<C, Q>(conn: &mut C, page: Q, limit: i64) -> QueryResult<Vec<CadreViewRow>>
where
    C: diesel::Connection,
    for<'q> written_in::LimitWrittenIn<Q>: diesel::query_dsl::LoadQuery<'q, C, CadreViewRow>,
{
    written_in::limit(page, limit + 1).load(conn)
}

/// One page of cadres matching the filter, in the requested order.
pub fn list(
    conn: &mut DbConn,
    filter: &CadreFilter,
    params: &CadrePageParams,
) -> Result<Page<CadreView>, ApiError> {
    let limit = params.limit.unwrap_or(crate::web::DEFAULT_PAGE_SIZE);
    if !(1..=crate::web::MAX_PAGE_SIZE).contains(&limit) {
        return Err(ApiError::field("limit", "range"));
    }
    let after = params.cursor.as_deref().map(decode_cursor).transpose()?;
    let sort = params.sort.unwrap_or_default();
    let today = today();
    let search_with = SearchWith::index_of(conn.engine());
    let indexed_search = filter
        .q
        .as_deref()
        .is_some_and(|q| Search::of(q).indexable());
    let by_name = matches!(sort, CadreSort::Name | CadreSort::NameDesc);
    let mut rows: Vec<CadreViewRow> = if by_name && indexed_search {
        NamePage {
            filter,
            today,
            after,
            limit,
            desc: sort == CadreSort::NameDesc,
        }
        .rows(conn)?
    } else {
        // The page is built for the engine's own connection (`db::on_engine`), so diesel writes
        // its SQL text once, for the statement cache's key, rather than on every pass over it.
        crate::on_engine!(conn, |native| {
            let page = repo::filter_cadres!(cadres::table.into_boxed(), filter, today, search_with)
                .select(CadreViewRow::as_select());
            let page = match sort {
                CadreSort::Name | CadreSort::NameDesc => {
                    keyset_page!(page, cadres::sort_key, after, sort == CadreSort::NameDesc)
                }
                CadreSort::BirthDate | CadreSort::BirthDateDesc => {
                    let after =
                        cursor_key(after, |key| NaiveDate::parse_from_str(key, "%Y-%m-%d").ok())?;
                    keyset_page!(
                        page,
                        cadres::birth_date,
                        after,
                        sort == CadreSort::BirthDateDesc
                    )
                }
                CadreSort::UpdatedAt | CadreSort::UpdatedAtDesc => {
                    let after = cursor_key(after, |key| {
                        NaiveDateTime::parse_from_str(key, "%Y-%m-%dT%H:%M:%S%.f").ok()
                    })?;
                    keyset_page!(
                        page,
                        cadres::updated_at,
                        after,
                        sort == CadreSort::UpdatedAtDesc
                    )
                }
            };
            load_page(native, page, limit)?
        })
    };
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    let next_cursor = if rows.len() > limit {
        rows.truncate(limit);
        rows.last().map(|last| {
            let key = match sort {
                CadreSort::Name | CadreSort::NameDesc => last.sort_key.clone(),
                CadreSort::BirthDate | CadreSort::BirthDateDesc => last.birth_date.to_string(),
                CadreSort::UpdatedAt | CadreSort::UpdatedAtDesc => timestamp_key(last.updated_at),
            };
            encode_cursor(&key, last.id)
        })
    } else {
        None
    };
    let items = rows
        .into_iter()
        .map(|row| view(row, today))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Page { items, next_cursor })
}

/// Rows in name order a search walks before it reads every match instead (see
/// [`NamePage::rows`]).
const SEARCH_WALK_ROWS: i64 = 200;

/// Matches of a search few enough to read every one without walking first (see
/// [`NamePage::rows`]). At 1,000,000 cadres, finding the 265 matches of a name in the trigram
/// table took 1.3 ms and sorting them by name 0.2 ms, where a walk that found no page took
/// 4.6 ms; sorting 1,000 costs about what that walk costs.
const FEW_MATCHES: i64 = 1_000;

/// Matches of a search SQLite reads into memory at most, to look for among the next names or to
/// sort (see [`NamePage::held_matches_sqlite`]). Reading an id costs about a tenth of sorting
/// it, and more matches are dense enough for the walk that checks each row to find a page.
const HELD_MATCHES: i64 = 10_000;

/// Rowids [`NamePage::in_name_order_sqlite`] reads at a time: the first batch above the page's
/// size, then each next one. A few sizes, since each is a statement of its own (`written_in`).
const NAME_ORDER_BATCHES: [i64; 3] = [64, 256, 1_024];

/// Names after the cursor in which [`NamePage::among_next_names`] looks for a page of matches.
const NEXT_NAMES: i64 = 1_000;

/// A page of a search in name order, at a cost bounded either way. Left to itself PostgreSQL's
/// planner either walks the name index until the page is full, which is quick when matches are
/// dense among the next names but reads most of the table when they cluster late (initials `yq`
/// match 4,357 of 1,000,000 cadres, all under `y`: 162 ms), or reads every match through the
/// trigram index and sorts them, which costs what the match count costs (12 ms there); SQLite
/// always does the latter (60 ms for the 29,000 cadres named 阿依古丽…, who sort first). So
/// [`NamePage::rows`] first reads a bounded number of matches through the engine's search index
/// and, when that is all of them, pages them without a walk (which would mostly have found no
/// page) or a second pass over the index. PostgreSQL reads the ids and names of up to
/// [`FEW_MATCHES`] cadres that meet the whole filter and sorts them
/// ([`NamePage::few_matches_postgres`]). SQLite reads up to [`HELD_MATCHES`] ids from its trigram
/// table, sorts them when they are few and else first looks for the page among the next names
/// of its name index, which reads no row ([`NamePage::held_matches_sqlite`]). With more matches
/// than that: the walk, bounded to the next [`SEARCH_WALK_ROWS`] rows in order, each row checked
/// with `LIKE`; if they hold a full page it is the right page (every other match sorts after
/// them). Else every match through the search index, ordered by an expression the name index
/// cannot give, so that no plan walks.
struct NamePage<'a> {
    filter: &'a CadreFilter,
    today: NaiveDate,
    /// The name (sort key) and id of the row the page starts after.
    after: Option<(String, i64)>,
    limit: i64,
    desc: bool,
}

impl NamePage<'_> {
    /// The page's rows and, when another page follows, one more.
    fn rows(&self, conn: &mut DbConn) -> Result<Vec<CadreViewRow>, ApiError> {
        if conn.engine() == db::Engine::Sqlite {
            if let Some(rows) = self.in_name_order_sqlite(conn)? {
                return Ok(rows);
            }
        }
        let few_matches = match conn.engine() {
            db::Engine::Sqlite => self.held_matches_sqlite(conn)?,
            db::Engine::Postgres => self.few_matches_postgres(conn)?,
        };
        if let Some(rows) = few_matches {
            return Ok(rows);
        }
        let (filter, today, desc) = (self.filter, self.today, self.desc);
        let page = |search_with| page_rows(filter, today, search_with);
        let end = walk_end(conn, self.names_from_cursor())?;
        let walk = keyset_page!(
            page(SearchWith::Like),
            cadres::sort_key,
            self.after.clone(),
            desc
        );
        let walked = load_page(
            conn,
            keyset_until!(walk, cadres::sort_key, end.clone(), desc),
            self.limit,
        )?;
        if walked.len() as i64 > self.limit || end.is_none() {
            return Ok(walked);
        }
        let every_match = page(SearchWith::index_of(conn.engine()));
        let every_match = keyset_page!(
            every_match,
            cadres::sort_key.concat(""),
            self.after.clone(),
            desc
        );
        if conn.engine() == db::Engine::Postgres {
            // PostgreSQL reads each match's row to check the pattern whatever is selected, so a
            // second statement for the page's rows would only add a round trip.
            return Ok(load_page(conn, every_match, self.limit)?);
        }
        // On SQLite the trigram table gives the matches' ids and `cadres_id_status_sort_idx`
        // each one's status and name without its row, so the matches are sorted by name and id
        // alone and only the page's rows are read: reading and sorting every match's whole row
        // cost about three times as much (2,923 matches of 100,000 cadres: 12 ms against 4 ms).
        let ids: Vec<i64> =
            written_in::limit(every_match.select(cadres::id), self.limit + 1).load(conn)?;
        Ok(rows_in_order(conn, &ids)?)
    }

    /// SQLite's page read from `cadre_search_by_name`, whose rowids follow name order, when the
    /// filter holds nothing but the text and the status: the matches come in name order from the
    /// cursor's name on, so reading stops at the page, whatever their number (at 1,000,000
    /// cadres an initials query's page 42 x as fast as sorting its matches, a pinyin's 6 x:
    /// docs/performance.md, "SQLite's searches in name order"). Rowids order names by their
    /// first eight characters only (up to the first that is not a letter), so after the page's
    /// last match it reads on through the matches that share them, then sorts what it found by
    /// name and id. Once a batch ends past [`FEW_MATCHES`] rowids (at most 1,344) it stops: a
    /// page that ends in a long run of names alike in eight letters, such as 29,736
    /// 阿依古丽·买买提 among 1,000,000 seeded cadres (reading on to 10,000 made those searches
    /// ten times slower), is walked ([`NamePage::page_ending_in_run`]); else None, as when the
    /// table cannot serve the search, and the ways below bound it (mostly matches of another
    /// status).
    fn in_name_order_sqlite(&self, conn: &mut DbConn) -> QueryResult<Option<Vec<CadreViewRow>>> {
        let Some(q) = self.filter.q.as_deref() else {
            return Ok(None);
        };
        let Some(fts_query) = Search::of(q).fts_query(SearchWith::TrigramTable) else {
            return Ok(None);
        };
        let without_text = CadreFilter {
            q: None,
            ..self.filter.clone()
        };
        // Other conditions would need each match's row.
        if !without_text.is_whole_status() || !repo::name_order_holds_every_cadre(conn)? {
            return Ok(None);
        }
        let status = match self.filter.status.unwrap_or(StatusFilter::Active) {
            StatusFilter::Active => Some("active"),
            StatusFilter::Archived => Some("archived"),
            StatusFilter::All => None,
        };
        let wanted = usize::try_from(self.limit + 1).unwrap_or(usize::MAX);
        // From the first (or, descending, the last) rowid the cursor's name prefix can have.
        let mut from = match (&self.after, self.desc) {
            (Some((name, _)), false) => repo::name_order_range(name).start,
            (Some((name, _)), true) => repo::name_order_range(name).end - 1,
            (None, false) => 0,
            (None, true) => i64::MAX,
        };
        let mut found: Vec<(String, i64)> = Vec::new();
        // The name prefix of the page's last match in rowid order, once found.
        let mut last_prefix: Option<i64> = None;
        let mut read = 0;
        let mut batches = NAME_ORDER_BATCHES
            .into_iter()
            .skip_while(|&rows| rows as usize <= wanted);
        let mut batch = batches
            .next()
            .unwrap_or(NAME_ORDER_BATCHES[NAME_ORDER_BATCHES.len() - 1]);
        'reading: loop {
            let rowids =
                repo::matches_in_name_order(conn, fts_query.clone(), from, self.desc, batch)?;
            let ids: Vec<i64> = rowids.iter().map(|&r| repo::id_of_name_order(r)).collect();
            let cadres = repo::statuses_and_sort_keys(conn, &ids)?;
            for (&rowid, id) in rowids.iter().zip(ids) {
                let prefix = repo::prefix_of_name_order(rowid);
                if last_prefix.is_some_and(|last| prefix != last) {
                    break 'reading;
                }
                let Some((cadre_status, sort_key)) = cadres.get(&id) else {
                    continue;
                };
                if status.is_some_and(|wanted_status| wanted_status != cadre_status) {
                    continue;
                }
                let key = (sort_key.clone(), id);
                if !self.is_after_cursor(&key) {
                    continue;
                }
                found.push(key);
                if found.len() == wanted {
                    if repo::name_run(prefix) == repo::NameRun::OneKey {
                        break 'reading;
                    }
                    last_prefix = Some(prefix);
                }
            }
            read += rowids.len();
            let Some(&last) = rowids.last() else { break };
            if (rowids.len() as i64) < batch {
                break;
            }
            if read as i64 >= FEW_MATCHES {
                return match last_prefix.map(repo::name_run) {
                    Some(repo::NameRun::Keys(run)) => self.page_ending_in_run(conn, found, &run),
                    _ => Ok(None),
                };
            }
            from = if self.desc { last - 1 } else { last + 1 };
            batch = batches.next().unwrap_or(batch);
        }
        let mut ids = self.in_page_order(found);
        ids.truncate(wanted);
        rows_in_order(conn, &ids).map(Some)
    }

    /// The page of [`NamePage::in_name_order_sqlite`] when it ends in a long run of names alike
    /// in their first eight letters (`run`, a range of `sort_key`), whose matches come in id
    /// order: `found` holds every match before the run, and the rest of the page is walked
    /// through the run's names in order, each row checked with `LIKE`, at most
    /// [`SEARCH_WALK_ROWS`] of them (the run's matches are mostly dense: a prefix shared by over
    /// a thousand matches is mostly a name's or a pinyin's own). None when the walk finds no
    /// page.
    fn page_ending_in_run(
        &self,
        conn: &mut DbConn,
        mut found: Vec<(String, i64)>,
        run: &std::ops::Range<String>,
    ) -> QueryResult<Option<Vec<CadreViewRow>>> {
        found.retain(|(sort_key, _)| !run.contains(sort_key));
        let wanted = self.limit + 1;
        let before_run = found.len() as i64;
        let (first, past) = (run.start.clone(), run.end.clone());
        let in_run = |query: cadres::BoxedQuery<'static, repo::Db>| {
            query
                .filter(cadres::sort_key.ge(first.clone()))
                .filter(cadres::sort_key.lt(past.clone()))
        };
        let end = walk_end(conn, in_run(self.names_from_cursor()))?;
        let walk = keyset_page!(
            in_run(repo::filtered(self.filter, self.today, SearchWith::Like)),
            cadres::sort_key,
            self.after.clone(),
            self.desc
        );
        let walk = keyset_until!(walk, cadres::sort_key, end.clone(), self.desc);
        let walked: Vec<i64> =
            written_in::limit(walk.select(cadres::id), wanted - before_run).load(conn)?;
        if before_run + (walked.len() as i64) < wanted && end.is_some() {
            return Ok(None);
        }
        let mut ids = self.in_page_order(found);
        ids.extend(walked);
        rows_in_order(conn, &ids).map(Some)
    }

    /// Whether a match's name and id come after the cursor in the page's order (`keyset_page!`'s
    /// order: before the cursor when descending).
    fn is_after_cursor(&self, key: &(String, i64)) -> bool {
        self.after
            .as_ref()
            .is_none_or(|after| if self.desc { key < after } else { key > after })
    }

    /// The ids of matches, by name and id, in the page's order.
    fn in_page_order(&self, mut keys: Vec<(String, i64)>) -> Vec<i64> {
        keys.sort_unstable();
        if self.desc {
            keys.reverse();
        }
        keys.into_iter().map(|(_, id)| id).collect()
    }

    /// Every cadre of the filter's status, in the page's order from its cursor on: the name
    /// index alone, whatever else the filter holds.
    fn names_from_cursor(&self) -> cadres::BoxedQuery<'static, repo::Db> {
        let status_only = CadreFilter {
            status: self.filter.status,
            ..CadreFilter::default()
        };
        keyset_page!(
            repo::filtered(&status_only, self.today, SearchWith::Like),
            cadres::sort_key,
            self.after.clone(),
            self.desc
        )
    }

    /// SQLite's page when its trigram table finds [`HELD_MATCHES`] or fewer cadres. Their ids
    /// are read once. When they are many and the filter holds nothing but the text and the
    /// status, the page is looked for among the next names ([`NamePage::among_next_names`]);
    /// else, or when those hold no page, they are sorted by name from
    /// `cadres_id_status_sort_idx` under the filter's other conditions. Only the page's rows are
    /// read. None when there are more.
    fn held_matches_sqlite(&self, conn: &mut DbConn) -> QueryResult<Option<Vec<CadreViewRow>>> {
        let Some(q) = self.filter.q.as_deref() else {
            return Ok(None);
        };
        let Some(ids) = repo::text_matches_if_few(conn, &Search::of(q), HELD_MATCHES)? else {
            return Ok(None);
        };
        let without_text = CadreFilter {
            q: None,
            ..self.filter.clone()
        };
        // Only a search box's filter (text and status): other conditions would need each row.
        if ids.len() as i64 > FEW_MATCHES && without_text.is_whole_status() {
            if let Some(page) = self.among_next_names(conn, &ids)? {
                return rows_in_order(conn, &page).map(Some);
            }
        }
        let matches = page_rows(&without_text, self.today, SearchWith::Like)
            .filter(kept_sql::id_in(cadres::id, &ids));
        let page = keyset_page!(
            matches,
            cadres::sort_key.concat(""),
            self.after.clone(),
            self.desc
        );
        let ids: Vec<i64> =
            written_in::limit(page.select(cadres::id), self.limit + 1).load(conn)?;
        rows_in_order(conn, &ids).map(Some)
    }

    /// The ids of the page among the cadres `matches` names (in no order) when the next
    /// [`NEXT_NAMES`] names of the filter's status, from the cursor on, hold it: read from the
    /// name index alone, never a row, at about a tenth of what sorting a match costs (0.2 µs a
    /// name against 2 µs a match at 1,000,000 cadres). Matches of pinyin and initials cluster in
    /// name order (every `hj` under `h`…), so a page after a cursor inside them, or a first page
    /// where they sort first, is found here; else None, and the matches are sorted.
    fn among_next_names(
        &self,
        conn: &mut DbConn,
        matches: &[i64],
    ) -> QueryResult<Option<Vec<i64>>> {
        let names = self.names_from_cursor().select(cadres::id);
        let names: Vec<i64> = written_in::limit(names, NEXT_NAMES).load(conn)?;
        let matches: std::collections::HashSet<i64> = matches.iter().copied().collect();
        let wanted = usize::try_from(self.limit + 1).unwrap_or(usize::MAX);
        let page: Vec<i64> = names
            .iter()
            .copied()
            .filter(|id| matches.contains(id))
            .take(wanted)
            .collect();
        let index_ends = (names.len() as i64) < NEXT_NAMES;
        Ok((page.len() == wanted || index_ends).then_some(page))
    }

    /// PostgreSQL's page when the search, with every other condition of the filter, matches
    /// [`FEW_MATCHES`] or fewer cadres: their ids and names are read through the trigram index
    /// and sorted here, and only the page's rows are read. None when there are more. A name's or
    /// a pinyin's matches mostly are that few, and for them the walk mostly found no page: at
    /// 100,000 cadres this ran a search 1.72-1.80 x as fast as the walk and then every match
    /// (pgbench, 200 sampled names).
    fn few_matches_postgres(&self, conn: &mut DbConn) -> QueryResult<Option<Vec<CadreViewRow>>> {
        let matches = repo::filtered(self.filter, self.today, SearchWith::Like)
            .select((cadres::sort_key, cadres::id));
        let matches: Vec<(String, i64)> = written_in::limit(matches, FEW_MATCHES + 1).load(conn)?;
        if matches.len() as i64 > FEW_MATCHES {
            return Ok(None);
        }
        let page: Vec<(String, i64)> = matches
            .into_iter()
            .filter(|key| self.is_after_cursor(key))
            .collect();
        let mut ids = self.in_page_order(page);
        ids.truncate(usize::try_from(self.limit + 1).unwrap_or(usize::MAX));
        rows_in_order(conn, &ids).map(Some)
    }
}

/// Where a walk along `names` (in order from a cursor) ends: the name and id
/// [`SEARCH_WALK_ROWS`] further on, if there is one.
fn walk_end(
    conn: &mut DbConn,
    names: cadres::BoxedQuery<'static, repo::Db>,
) -> QueryResult<Option<(String, i64)>> {
    names
        .select((cadres::sort_key, cadres::id))
        .offset(SEARCH_WALK_ROWS)
        .limit(1)
        .first(conn)
        .optional()
}

/// The view rows of `ids`, in the order given, read by one statement whatever their number
/// (`kept_sql::id_in`).
fn rows_in_order(conn: &mut DbConn, ids: &[i64]) -> QueryResult<Vec<CadreViewRow>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut rows: Vec<CadreViewRow> = cadres::table
        .select(CadreViewRow::as_select())
        .filter(kept_sql::id_in(cadres::id, ids))
        .load(conn)?;
    rows.sort_by_key(|row| ids.iter().position(|&id| id == row.id));
    Ok(rows)
}

/// Categories of a profile as labels, for exports.
pub fn category_labels(categories: &[Category]) -> String {
    categories
        .iter()
        .map(|c| c.label())
        .collect::<Vec<_>>()
        .join("；")
}
