//! Request and response types of the accounts API.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use super::model::{UnitRow, UserRow};
use crate::auth::Role;

/// Lets a PATCH body tell "leave as is" (field absent) from "clear" (`null`).
fn nullable<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

// ---------------------------------------------------------------- sessions

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    #[validate(length(min = 1, max = 64))]
    pub username: String,
    #[validate(length(min = 1, max = 256))]
    pub password: String,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    #[validate(length(min = 1, max = 128))]
    pub refresh_token: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TokenResponse {
    /// A JWT to send as `Authorization: Bearer <access_token>`.
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    pub expires_in: i64,
    /// Exchange at `POST /auth/refresh` for a new pair; each refresh token works once.
    pub refresh_token: String,
    /// Seconds until the refresh token expires.
    pub refresh_expires_in: i64,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangePasswordRequest {
    #[validate(length(min = 1, max = 256))]
    pub current_password: String,
    /// At least 12 characters, at most 256; not a common password.
    #[validate(length(min = 1, max = 1024))]
    pub new_password: String,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResetPasswordRequest {
    /// At least 12 characters, at most 256; not a common password.
    #[validate(length(min = 1, max = 1024))]
    pub new_password: String,
}

/// A role with the label a client shows.
#[derive(Debug, Serialize, ToSchema)]
pub struct RoleView {
    pub role: Role,
    pub label: &'static str,
}

impl From<Role> for RoleView {
    fn from(role: Role) -> Self {
        RoleView {
            role,
            label: role.label(),
        }
    }
}

/// The signed-in user.
#[derive(Debug, Serialize, ToSchema)]
pub struct MeView {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub roles: Vec<RoleView>,
    pub unit_id: Option<i64>,
    pub cadre_id: Option<i64>,
    pub password_changed_at: DateTime<Utc>,
}

// ---------------------------------------------------------------- users

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUserRequest {
    /// 3 to 64 of `a-z 0-9 . _ -`, starting with a letter or digit; case is folded.
    #[validate(length(min = 3, max = 64))]
    pub username: String,
    #[validate(length(min = 1, max = 100))]
    pub display_name: String,
    /// At least 12 characters, at most 256; not a common password.
    #[validate(length(min = 1, max = 1024))]
    pub password: String,
    /// One or more roles; `admin` and `auditor` only alone.
    #[validate(length(min = 1, max = 7))]
    pub roles: Vec<Role>,
    /// Required for the `department` role (a unit of kind `department`).
    pub unit_id: Option<i64>,
    /// The cadre record a `representative` user is.
    pub cadre_id: Option<i64>,
}

#[derive(Debug, Default, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateUserRequest {
    #[validate(length(min = 1, max = 100))]
    pub display_name: Option<String>,
    /// Replaces the user's roles; revokes the user's sessions.
    #[validate(length(min = 1, max = 7))]
    pub roles: Option<Vec<Role>>,
    /// `null` clears it.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<i64>)]
    pub unit_id: Option<Option<i64>>,
    /// `null` clears it.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<i64>)]
    pub cadre_id: Option<Option<i64>>,
    /// `false` deactivates the account and revokes its sessions.
    pub active: Option<bool>,
}

#[derive(Debug, Deserialize, Validate, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct UserQuery {
    pub role: Option<Role>,
    pub unit_id: Option<i64>,
    pub active: Option<bool>,
    /// Part of the user name or display name.
    #[validate(length(min = 1, max = 64))]
    pub q: Option<String>,
    /// Page size, 1 to 200 (default 50).
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UserView {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub roles: Vec<Role>,
    pub unit_id: Option<i64>,
    pub cadre_id: Option<i64>,
    pub active: bool,
    /// The record's version; also its ETag.
    pub version: i32,
    pub last_login_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl UserView {
    pub fn new(row: UserRow, roles: Vec<Role>) -> Self {
        UserView {
            id: row.id,
            username: row.username,
            display_name: row.display_name,
            roles,
            unit_id: row.unit_id,
            cadre_id: row.cadre_id,
            active: row.active,
            version: row.version,
            last_login_at: row.last_login_at.map(|t| t.and_utc()),
            created_at: row.created_at.and_utc(),
            updated_at: row.updated_at.and_utc(),
        }
    }
}

// ---------------------------------------------------------------- units

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum UnitKind {
    /// 区: the district itself (no parent).
    District,
    /// 乡镇/街道: a township under the district.
    Township,
    /// 部门: a department under the district or a township.
    Department,
}

impl UnitKind {
    pub fn as_str(self) -> &'static str {
        match self {
            UnitKind::District => "district",
            UnitKind::Township => "township",
            UnitKind::Department => "department",
        }
    }

    pub fn parse(value: &str) -> Option<UnitKind> {
        [UnitKind::District, UnitKind::Township, UnitKind::Department]
            .into_iter()
            .find(|k| k.as_str() == value)
    }

    pub fn label(self) -> &'static str {
        match self {
            UnitKind::District => "区",
            UnitKind::Township => "乡镇（街道）",
            UnitKind::Department => "部门",
        }
    }
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUnitRequest {
    #[validate(length(min = 1, max = 100))]
    pub name: String,
    pub kind: UnitKind,
    /// None for a district; a district for a township; a district or township for a department.
    pub parent_id: Option<i64>,
    /// Administrative division code (6 to 12 digits), e.g. 500156 for Wulong District.
    #[validate(length(min = 6, max = 12))]
    pub division_code: Option<String>,
}

#[derive(Debug, Default, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateUnitRequest {
    #[validate(length(min = 1, max = 100))]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<i64>)]
    pub parent_id: Option<Option<i64>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    #[validate(length(min = 6, max = 12))]
    pub division_code: Option<Option<String>>,
    pub active: Option<bool>,
}

#[derive(Debug, Deserialize, Validate, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct UnitQuery {
    pub kind: Option<UnitKind>,
    pub parent_id: Option<i64>,
    pub active: Option<bool>,
    /// Page size, 1 to 200 (default 50).
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UnitView {
    pub id: i64,
    pub name: String,
    pub kind: UnitKind,
    pub kind_label: &'static str,
    pub parent_id: Option<i64>,
    pub division_code: Option<String>,
    pub active: bool,
    /// The record's version; also its ETag.
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<UnitRow> for UnitView {
    fn from(row: UnitRow) -> Self {
        let kind = UnitKind::parse(&row.kind).unwrap_or(UnitKind::Department);
        UnitView {
            id: row.id,
            name: row.name,
            kind,
            kind_label: kind.label(),
            parent_id: row.parent_id,
            division_code: row.division_code,
            active: row.active,
            version: row.version,
            created_at: row.created_at.and_utc(),
            updated_at: row.updated_at.and_utc(),
        }
    }
}
