//! Request and response types of the cadre API.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use super::vocab::{Category, Degree, Education, Gender, Level, Party, Status};

/// Lets a PATCH body tell "leave as is" (field absent) from "clear" (`null`).
pub(crate) fn nullable<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

/// A new cadre profile.
#[derive(Debug, Clone, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateCadreRequest {
    /// 1 to 50 characters: any script, with the middle dot `·` of minority names; stored in NFC.
    #[validate(length(min = 1, max = 50))]
    pub name: String,
    #[validate(length(min = 1, max = 50))]
    pub former_name: Option<String>,
    pub gender: Gender,
    /// GB/T 3304 code (`01` 汉族 … `56` 基诺族).
    #[validate(length(equal = 2))]
    pub ethnicity: String,
    pub birth_date: NaiveDate,
    #[validate(length(min = 1, max = 100))]
    pub native_place: Option<String>,
    /// 18 characters, GB 11643 checksum; birth date and gender must agree with it.
    #[validate(length(min = 1, max = 32))]
    pub id_number: Option<String>,
    #[validate(length(min = 1, max = 32))]
    pub phone: Option<String>,
    #[validate(email, length(max = 100))]
    pub email: Option<String>,
    pub party: Party,
    pub party_joined_on: Option<NaiveDate>,
    #[serde(default)]
    #[validate(length(max = 12))]
    pub categories: Vec<Category>,
    pub level: Level,
    pub unit_id: Option<i64>,
    #[validate(length(min = 1, max = 100))]
    pub workplace: Option<String>,
    #[validate(length(min = 1, max = 100))]
    pub position: Option<String>,
    pub education: Option<Education>,
    pub degree: Option<Degree>,
    #[validate(length(min = 1, max = 50))]
    pub professional_title: Option<String>,
    /// Sectors (行业), 1 to 40 characters each, at most 20; matched against agenda subjects.
    #[serde(default)]
    #[validate(length(max = 20))]
    pub sectors: Vec<String>,
    /// Fields of expertise (专长), like sectors.
    #[serde(default)]
    #[validate(length(max = 20))]
    pub expertise: Vec<String>,
    #[validate(length(max = 2000))]
    pub notes: Option<String>,
}

/// Changes to a profile: absent fields stay, `null` clears an optional one.
#[derive(Debug, Clone, Default, Deserialize, Serialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateCadreRequest {
    #[serde(skip_serializing_if = "Option::is_none")]
    #[validate(length(min = 1, max = 50))]
    pub name: Option<String>,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<String>)]
    #[validate(length(min = 1, max = 50))]
    pub former_name: Option<Option<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gender: Option<Gender>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[validate(length(equal = 2))]
    pub ethnicity: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub birth_date: Option<NaiveDate>,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<String>)]
    #[validate(length(min = 1, max = 100))]
    pub native_place: Option<Option<String>>,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<String>)]
    #[validate(length(min = 1, max = 32))]
    pub id_number: Option<Option<String>>,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<String>)]
    #[validate(length(min = 1, max = 32))]
    pub phone: Option<Option<String>>,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<String>)]
    #[validate(email, length(max = 100))]
    pub email: Option<Option<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub party: Option<Party>,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<NaiveDate>)]
    pub party_joined_on: Option<Option<NaiveDate>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[validate(length(max = 12))]
    pub categories: Option<Vec<Category>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub level: Option<Level>,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<i64>)]
    pub unit_id: Option<Option<i64>>,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<String>)]
    #[validate(length(min = 1, max = 100))]
    pub workplace: Option<Option<String>>,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<String>)]
    #[validate(length(min = 1, max = 100))]
    pub position: Option<Option<String>>,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<Education>)]
    pub education: Option<Option<Education>>,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<Degree>)]
    pub degree: Option<Option<Degree>>,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<String>)]
    #[validate(length(min = 1, max = 50))]
    pub professional_title: Option<Option<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[validate(length(max = 20))]
    pub sectors: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[validate(length(max = 20))]
    pub expertise: Option<Vec<String>>,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<String>)]
    #[validate(length(max = 2000))]
    pub notes: Option<Option<String>>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ArchiveRequest {
    /// Why the cadre leaves the working pool (retired, moved away, joined the CPC, …).
    #[validate(length(min = 1, max = 500))]
    pub reason: String,
}

/// A protected field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ProtectedField {
    IdNumber,
    Phone,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RevealRequest {
    #[validate(length(min = 1, max = 2))]
    pub fields: Vec<ProtectedField>,
    /// Why you need the values; recorded in the audit log.
    #[validate(length(min = 4, max = 500))]
    pub reason: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RevealView {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_number: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LookupRequest {
    /// The full ID number (sent in the body so that it never appears in a URL or access log).
    #[validate(length(min = 1, max = 32))]
    pub id_number: String,
}

/// A cadre profile as every role that may read it sees it: protected fields masked.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CadreView {
    pub id: i64,
    pub name: String,
    pub former_name: Option<String>,
    pub gender: Gender,
    pub gender_label: &'static str,
    pub ethnicity: String,
    pub ethnicity_label: &'static str,
    pub birth_date: NaiveDate,
    /// Age today.
    pub age: i32,
    pub native_place: Option<String>,
    /// Masked, e.g. `5101**********1234`; `POST /cadres/{id}/reveal` for the value.
    pub id_number: Option<String>,
    /// Masked, e.g. `138****5678`.
    pub phone: Option<String>,
    pub email: Option<String>,
    pub party: Party,
    pub party_label: &'static str,
    pub party_joined_on: Option<NaiveDate>,
    pub categories: Vec<Category>,
    pub category_labels: Vec<&'static str>,
    pub level: Level,
    pub level_label: &'static str,
    pub unit_id: Option<i64>,
    pub workplace: Option<String>,
    pub position: Option<String>,
    pub education: Option<Education>,
    pub education_label: Option<&'static str>,
    pub degree: Option<Degree>,
    pub degree_label: Option<&'static str>,
    pub professional_title: Option<String>,
    /// Without duplicates, in code point order.
    pub sectors: Vec<String>,
    /// Without duplicates, in code point order.
    pub expertise: Vec<String>,
    pub status: Status,
    pub status_label: &'static str,
    pub archived_reason: Option<String>,
    pub notes: Option<String>,
    /// The record's version; also its ETag.
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Which cadres: shared by the list, the export and the statistics.
#[derive(Debug, Clone, Default, Deserialize, Serialize, Validate, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CadreFilter {
    /// Text in the name, former name, unit, workplace or position; case-, width- and
    /// traditional/simplified-insensitive; also the name's pinyin (`luowei`) or initials (`lw`).
    #[validate(length(min = 1, max = 50))]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub q: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub party: Option<Party>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub category: Option<Category>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gender: Option<Gender>,
    /// GB/T 3304 code.
    #[validate(length(equal = 2))]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ethnicity: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub level: Option<Level>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unit_id: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub education: Option<Education>,
    /// A sector or field of expertise, exactly as entered.
    #[validate(length(min = 1, max = 40))]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
    /// Youngest age (inclusive) on `age_at`.
    #[validate(range(min = 0, max = 150))]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub age_min: Option<i32>,
    /// Oldest age (inclusive) on `age_at`.
    #[validate(range(min = 0, max = 150))]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub age_max: Option<i32>,
    /// The date ages are computed at (default: today).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub age_at: Option<NaiveDate>,
    /// `active` (default), `archived`, or `all`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[param(inline)]
    pub status: Option<StatusFilter>,
}

impl CadreFilter {
    /// Whether the filter asks for a whole status (or all of them) and nothing narrower: then
    /// the tallies kept with every write answer its statistics. Naming every field makes a new
    /// filter fail to compile here until it is decided.
    pub fn is_whole_status(&self) -> bool {
        let CadreFilter {
            q,
            party,
            category,
            gender,
            ethnicity,
            level,
            unit_id,
            education,
            tag,
            age_min,
            age_max,
            age_at: _,
            status: _,
        } = self;
        q.is_none()
            && party.is_none()
            && category.is_none()
            && gender.is_none()
            && ethnicity.is_none()
            && level.is_none()
            && unit_id.is_none()
            && education.is_none()
            && tag.is_none()
            && age_min.is_none()
            && age_max.is_none()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum StatusFilter {
    Active,
    Archived,
    All,
}

/// How a list is ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize, ToSchema)]
pub enum CadreSort {
    /// By the name's pinyin.
    #[default]
    #[serde(rename = "name")]
    Name,
    #[serde(rename = "-name")]
    NameDesc,
    #[serde(rename = "birth_date")]
    BirthDate,
    #[serde(rename = "-birth_date")]
    BirthDateDesc,
    #[serde(rename = "updated_at")]
    UpdatedAt,
    /// Most recently changed first.
    #[serde(rename = "-updated_at")]
    UpdatedAtDesc,
}

/// The order and page of a cadre list (the filter comes in the same query string).
#[derive(Debug, Clone, Deserialize, Validate, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CadrePageParams {
    /// `name` (default, by pinyin), `-name`, `birth_date`, `-birth_date`, `updated_at`, `-updated_at`.
    #[param(inline)]
    pub sort: Option<CadreSort>,
    /// Page size, 1 to 200 (default 50).
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

impl crate::web::QueryPart for CadrePageParams {
    const KEYS: &'static [&'static str] = &["sort", "limit", "cursor"];
}
