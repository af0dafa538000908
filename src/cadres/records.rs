//! History sub-records of a cadre: positions, education, family and social relations, rewards
//! and punishments, memberships of people's congresses and CPPCC committees. Each is a record
//! with its own id, added, corrected or removed one at a time with an audit row, never by
//! overwriting the profile.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::{Validate, ValidationError};

use super::model::RecordRow;
use super::repo;
use super::vocab::{Degree, Party};
use crate::audit::{self, Actor, Event};
use crate::db::schema::cadre_records;
use crate::db::{self, DbConn};
use crate::error::ApiError;

/// Which history a record belongs to (the path segment under `/cadres/{id}/`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RecordKind {
    Positions,
    Education,
    Family,
    Rewards,
    Memberships,
}

impl RecordKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RecordKind::Positions => "positions",
            RecordKind::Education => "education",
            RecordKind::Family => "family",
            RecordKind::Rewards => "rewards",
            RecordKind::Memberships => "memberships",
        }
    }

    /// Deserialises (strictly) and validates a body of this kind, returning it as stored JSON.
    fn check(self, body: serde_json::Value) -> Result<serde_json::Value, ApiError> {
        fn typed<T: DeserializeOwned + Validate + Serialize>(
            body: serde_json::Value,
        ) -> Result<serde_json::Value, ApiError> {
            let value: T =
                serde_json::from_value(body).map_err(|e| crate::web::invalid_body(&e))?;
            value.validate()?;
            serde_json::to_value(value).map_err(|e| ApiError::internal(e.to_string()))
        }
        match self {
            RecordKind::Positions => typed::<PositionRecord>(body),
            RecordKind::Education => typed::<EducationRecord>(body),
            RecordKind::Family => typed::<FamilyRecord>(body),
            RecordKind::Rewards => typed::<RewardRecord>(body),
            RecordKind::Memberships => typed::<MembershipRecord>(body),
        }
    }
}

fn period(from: &NaiveDate, to: &Option<NaiveDate>) -> Result<(), ValidationError> {
    match to {
        Some(to) if to < from => Err(ValidationError::new("ends_before_it_starts")),
        _ => Ok(()),
    }
}

/// 任职经历: a post held.
#[derive(Debug, Clone, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[validate(schema(function = "position_period", skip_on_field_errors = false))]
pub struct PositionRecord {
    #[validate(length(min = 1, max = 100))]
    pub unit: String,
    #[validate(length(min = 1, max = 100))]
    pub title: String,
    /// 职级, e.g. 正科级.
    #[validate(length(min = 1, max = 50))]
    pub rank: Option<String>,
    pub from: NaiveDate,
    pub to: Option<NaiveDate>,
    /// The appointing document's number (任职文号).
    #[validate(length(min = 1, max = 100))]
    pub document: Option<String>,
}

fn position_period(r: &PositionRecord) -> Result<(), ValidationError> {
    period(&r.from, &r.to)
}

/// 学习经历.
#[derive(Debug, Clone, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[validate(schema(function = "education_period", skip_on_field_errors = false))]
pub struct EducationRecord {
    #[validate(length(min = 1, max = 100))]
    pub school: String,
    #[validate(length(min = 1, max = 100))]
    pub major: Option<String>,
    pub degree: Option<Degree>,
    pub from: NaiveDate,
    pub to: Option<NaiveDate>,
    /// 全日制 (true) or 在职 (false).
    pub full_time: bool,
}

fn education_period(r: &EducationRecord) -> Result<(), ValidationError> {
    period(&r.from, &r.to)
}

/// 家庭成员及社会关系.
#[derive(Debug, Clone, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FamilyRecord {
    /// 称谓, e.g. 配偶, 父亲.
    #[validate(length(min = 1, max = 20))]
    pub relation: String,
    #[validate(length(min = 1, max = 50))]
    pub name: String,
    #[validate(length(min = 1, max = 100))]
    pub workplace: Option<String>,
    pub political_affiliation: Option<Party>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RewardKind {
    Reward,
    Punishment,
}

/// 奖惩情况.
#[derive(Debug, Clone, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RewardRecord {
    pub kind: RewardKind,
    pub date: NaiveDate,
    #[validate(length(min = 1, max = 100))]
    pub issuer: String,
    #[validate(length(min = 1, max = 500))]
    pub reason: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Body {
    /// 人大代表.
    PeoplesCongress,
    /// 政协委员.
    Cppcc,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum BodyLevel {
    National,
    Provincial,
    Municipal,
    District,
    Township,
}

/// 人大代表、政协委员 seats.
#[derive(Debug, Clone, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[validate(schema(function = "membership_period", skip_on_field_errors = false))]
pub struct MembershipRecord {
    pub body: Body,
    pub level: BodyLevel,
    /// e.g. 第十八届.
    #[validate(length(min = 1, max = 50))]
    pub term: Option<String>,
    pub from: NaiveDate,
    pub to: Option<NaiveDate>,
}

fn membership_period(r: &MembershipRecord) -> Result<(), ValidationError> {
    period(&r.from, &r.to)
}

/// A sub-record body: the shape depends on the kind in the path.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(untagged)]
pub enum RecordBody {
    Position(PositionRecord),
    Education(EducationRecord),
    Family(FamilyRecord),
    Reward(RewardRecord),
    Membership(MembershipRecord),
}

/// Any JSON object; checked against the record kind by the service.
#[derive(Debug, Deserialize)]
#[serde(transparent)]
pub struct RecordInput(pub serde_json::Value);

impl Validate for RecordInput {
    fn validate(&self) -> Result<(), validator::ValidationErrors> {
        Ok(())
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RecordView {
    pub id: i64,
    pub cadre_id: i64,
    pub kind: RecordKind,
    #[schema(value_type = RecordBody)]
    pub data: serde_json::Value,
    /// The record's version; also its ETag.
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

fn view(row: RecordRow, kind: RecordKind) -> RecordView {
    RecordView {
        id: row.id,
        cadre_id: row.cadre_id,
        kind,
        data: serde_json::from_str(&row.data).unwrap_or(serde_json::Value::Null),
        version: row.version,
        created_at: row.created_at.and_utc(),
        updated_at: row.updated_at.and_utc(),
    }
}

fn find(
    conn: &mut DbConn,
    cadre_id: i64,
    kind: RecordKind,
    id: i64,
) -> Result<RecordRow, ApiError> {
    cadre_records::table
        .find(id)
        .filter(cadre_records::cadre_id.eq(cadre_id))
        .filter(cadre_records::kind.eq(kind.as_str()))
        .select(RecordRow::as_select())
        .first(conn)
        .optional()?
        .ok_or(ApiError::NotFound)
}

pub fn list(
    conn: &mut DbConn,
    cadre_id: i64,
    kind: RecordKind,
) -> Result<Vec<RecordView>, ApiError> {
    if !repo::exists(conn, cadre_id)? {
        return Err(ApiError::NotFound);
    }
    Ok(cadre_records::table
        .filter(cadre_records::cadre_id.eq(cadre_id))
        .filter(cadre_records::kind.eq(kind.as_str()))
        .order(cadre_records::id.asc())
        .select(RecordRow::as_select())
        .load(conn)?
        .into_iter()
        .map(|row| view(row, kind))
        .collect())
}

pub fn add(
    conn: &mut DbConn,
    actor: &Actor,
    cadre_id: i64,
    kind: RecordKind,
    body: serde_json::Value,
) -> Result<RecordView, ApiError> {
    if !repo::exists(conn, cadre_id)? {
        return Err(ApiError::NotFound);
    }
    let data = kind.check(body)?;
    let now = db::now();
    let id: i64 = diesel::insert_into(cadre_records::table)
        .values((
            cadre_records::cadre_id.eq(cadre_id),
            cadre_records::kind.eq(kind.as_str()),
            cadre_records::data.eq(data.to_string()),
            cadre_records::version.eq(1),
            cadre_records::created_at.eq(now),
            cadre_records::updated_at.eq(now),
        ))
        .returning(cadre_records::id)
        .get_result(conn)?;
    let created = view(find(conn, cadre_id, kind, id)?, kind);
    audit::record(
        conn,
        actor,
        Event::new("cadre_record.created", "cadre_record", id).after(&created),
    )?;
    Ok(created)
}

/// Changes the fields given (the others stay); the result must be a valid record of its kind.
pub fn update(
    conn: &mut DbConn,
    actor: &Actor,
    cadre_id: i64,
    kind: RecordKind,
    id: i64,
    expected_version: i32,
    changes: serde_json::Value,
) -> Result<RecordView, ApiError> {
    let row = find(conn, cadre_id, kind, id)?;
    if row.version != expected_version {
        return Err(ApiError::PreconditionFailed);
    }
    let serde_json::Value::Object(changes) = changes else {
        return Err(ApiError::InvalidBody {
            detail: "expected a JSON object".into(),
        });
    };
    let before = view(row.clone(), kind);
    let mut merged = before.data.clone();
    if let serde_json::Value::Object(fields) = &mut merged {
        fields.extend(changes);
    }
    let data = kind.check(merged)?;
    diesel::update(cadre_records::table.find(id))
        .set((
            cadre_records::data.eq(data.to_string()),
            cadre_records::version.eq(row.version + 1),
            cadre_records::updated_at.eq(db::now()),
        ))
        .execute(conn)?;
    let after = view(find(conn, cadre_id, kind, id)?, kind);
    audit::record(
        conn,
        actor,
        Event::new("cadre_record.updated", "cadre_record", id)
            .before(&before)
            .after(&after),
    )?;
    Ok(after)
}

pub fn remove(
    conn: &mut DbConn,
    actor: &Actor,
    cadre_id: i64,
    kind: RecordKind,
    id: i64,
) -> Result<(), ApiError> {
    let before = view(find(conn, cadre_id, kind, id)?, kind);
    diesel::delete(cadre_records::table.find(id)).execute(conn)?;
    audit::record(
        conn,
        actor,
        Event::new("cadre_record.deleted", "cadre_record", id).before(&before),
    )?;
    Ok(())
}
