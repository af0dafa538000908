//! The rules of accounts: unit hierarchy, role sets, the last admin, login throttling, token
//! rotation with reuse detection, and what revokes sessions. Every function that changes
//! something runs inside the caller's `db::write` transaction and records its audit event there.

use std::collections::HashMap;

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use serde_json::json;

use super::dto::{
    CreateUnitRequest, CreateUserRequest, TokenResponse, UnitKind, UnitQuery, UnitView,
    UpdateUnitRequest, UpdateUserRequest, UserQuery, UserView,
};
use super::model::{NewRefreshToken, NewSession, NewUnit, NewUser, UnitRow, UserRow};
use super::repo::{self, ThrottleRow};
use crate::audit::{self, Actor, Event};
use crate::auth::roles::check_role_set;
use crate::auth::tokens::{
    self, TokenKeys, ACCESS_TOKEN_TTL_SECS, REFRESH_TOKEN_TTL_DAYS, SESSION_MAX_DAYS,
};
use crate::auth::{AuthUser, Role};
use crate::db::schema::{units, user_roles, users};
use crate::db::{self, DbConn};
use crate::error::ApiError;
use crate::web::{Page, PageCursor};

// ---------------------------------------------------------------- units

fn check_parent(conn: &mut DbConn, kind: UnitKind, parent_id: Option<i64>) -> Result<(), ApiError> {
    let parent_kind = match parent_id {
        None => None,
        Some(id) => {
            let parent = repo::find_unit(conn, id)?
                .ok_or_else(|| ApiError::field("parent_id", "unknown_unit"))?;
            Some(
                UnitKind::parse(&parent.kind)
                    .ok_or_else(|| ApiError::internal("unit with unknown kind"))?,
            )
        }
    };
    let allowed = match kind {
        UnitKind::District => parent_kind.is_none(),
        UnitKind::Township => parent_kind == Some(UnitKind::District),
        UnitKind::Department => {
            matches!(parent_kind, Some(UnitKind::District | UnitKind::Township))
        }
    };
    if allowed {
        Ok(())
    } else {
        Err(ApiError::field("parent_id", "parent_kind_not_allowed"))
    }
}

fn check_division_code(code: Option<&str>) -> Result<(), ApiError> {
    match code {
        Some(code) if !code.bytes().all(|b| b.is_ascii_digit()) => {
            Err(ApiError::field("division_code", "digits_only"))
        }
        _ => Ok(()),
    }
}

fn unit_name_taken(error: ApiError) -> ApiError {
    match error {
        ApiError::Conflict {
            code: "already_exists",
            ..
        } => ApiError::conflict(
            "unit_name_taken",
            "a unit with this name already exists under the same parent",
        ),
        other => other,
    }
}

pub fn create_unit(
    conn: &mut DbConn,
    actor: &Actor,
    input: CreateUnitRequest,
) -> Result<UnitView, ApiError> {
    check_parent(conn, input.kind, input.parent_id)?;
    check_division_code(input.division_code.as_deref())?;
    let now = db::now();
    let id: i64 = diesel::insert_into(units::table)
        .values(NewUnit {
            name: input.name.trim(),
            kind: input.kind.as_str(),
            parent_id: input.parent_id,
            division_code: input.division_code.as_deref(),
            active: true,
            version: 1,
            created_at: now,
            updated_at: now,
        })
        .returning(units::id)
        .get_result(conn)
        .map_err(|e| unit_name_taken(e.into()))?;
    let view = UnitView::from(repo::find_unit(conn, id)?.ok_or(ApiError::NotFound)?);
    audit::record(
        conn,
        actor,
        Event::new("unit.created", "unit", id).after(&view),
    )?;
    Ok(view)
}

pub fn update_unit(
    conn: &mut DbConn,
    actor: &Actor,
    id: i64,
    expected_version: i32,
    input: UpdateUnitRequest,
) -> Result<UnitView, ApiError> {
    let row = repo::find_unit(conn, id)?.ok_or(ApiError::NotFound)?;
    if row.version != expected_version {
        return Err(ApiError::PreconditionFailed);
    }
    let kind =
        UnitKind::parse(&row.kind).ok_or_else(|| ApiError::internal("unit with unknown kind"))?;
    let parent_id = input.parent_id.unwrap_or(row.parent_id);
    if parent_id == Some(id) {
        return Err(ApiError::field("parent_id", "parent_kind_not_allowed"));
    }
    check_parent(conn, kind, parent_id)?;
    let division_code = input
        .division_code
        .unwrap_or_else(|| row.division_code.clone());
    check_division_code(division_code.as_deref())?;
    let before = UnitView::from(row.clone());
    diesel::update(
        units::table
            .find(id)
            .filter(units::version.eq(expected_version)),
    )
    .set((
        units::name.eq(input.name.as_deref().map_or(row.name.as_str(), str::trim)),
        units::parent_id.eq(parent_id),
        units::division_code.eq(division_code),
        units::active.eq(input.active.unwrap_or(row.active)),
        units::version.eq(row.version + 1),
        units::updated_at.eq(db::now()),
    ))
    .execute(conn)
    .map_err(|e| unit_name_taken(e.into()))?;
    let after = UnitView::from(repo::find_unit(conn, id)?.ok_or(ApiError::NotFound)?);
    audit::record(
        conn,
        actor,
        Event::new("unit.updated", "unit", id)
            .before(&before)
            .after(&after),
    )?;
    Ok(after)
}

pub fn get_unit(conn: &mut DbConn, id: i64) -> Result<UnitView, ApiError> {
    Ok(repo::find_unit(conn, id)?.ok_or(ApiError::NotFound)?.into())
}

pub fn list_units(conn: &mut DbConn, query: UnitQuery) -> Result<Page<UnitView>, ApiError> {
    let page = PageCursor::new(query.limit, query.cursor.as_deref())?;
    let mut select = units::table
        .select(UnitRow::as_select())
        .order(units::id.asc())
        .limit(page.fetch())
        .into_boxed();
    if let Some(after) = page.after {
        select = select.filter(units::id.gt(after));
    }
    if let Some(kind) = query.kind {
        select = select.filter(units::kind.eq(kind.as_str()));
    }
    if let Some(parent_id) = query.parent_id {
        select = select.filter(units::parent_id.eq(parent_id));
    }
    if let Some(active) = query.active {
        select = select.filter(units::active.eq(active));
    }
    let rows = select.load(conn)?;
    Ok(page.page(rows, |r| r.id, UnitView::from))
}

// ---------------------------------------------------------------- users

/// Folds case and checks the allowed characters of a user name.
pub fn normalise_username(raw: &str) -> Result<String, ApiError> {
    let name = raw.trim().to_ascii_lowercase();
    let valid = (3..=64).contains(&name.len())
        && name
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_alphanumeric())
        && name.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-')
        });
    if valid {
        Ok(name)
    } else {
        Err(ApiError::field("username", "format"))
    }
}

/// Checks a password against the policy, naming the field in the error.
pub fn check_password(field: &str, password: &str, username: &str) -> Result<(), ApiError> {
    crate::auth::password::check_password_policy(password, username)
        .map_err(|rule| ApiError::field(field, rule))
}

/// Roles, unit and cadre must fit together: a department user belongs to a department unit,
/// and a linked cadre exists.
fn check_assignment(
    conn: &mut DbConn,
    roles: &[Role],
    unit_id: Option<i64>,
    cadre_id: Option<i64>,
) -> Result<(), ApiError> {
    check_role_set(roles).map_err(|rule| ApiError::field("roles", rule))?;
    if let Some(cadre_id) = cadre_id {
        if !crate::cadres::repo::exists(conn, cadre_id)? {
            return Err(ApiError::field("cadre_id", "unknown_cadre"));
        }
    }
    let unit = match unit_id {
        Some(id) => Some(
            repo::find_unit(conn, id)?.ok_or_else(|| ApiError::field("unit_id", "unknown_unit"))?,
        ),
        None => None,
    };
    if let Some(unit) = &unit {
        if !unit.active {
            return Err(ApiError::field("unit_id", "inactive_unit"));
        }
    }
    if roles.contains(&Role::Department)
        && unit
            .as_ref()
            .is_none_or(|u| u.kind != UnitKind::Department.as_str())
    {
        return Err(ApiError::field("unit_id", "department_unit_required"));
    }
    Ok(())
}

fn user_view(conn: &mut DbConn, row: UserRow) -> Result<UserView, ApiError> {
    let roles = repo::roles_of(conn, row.id)?;
    Ok(UserView::new(row, roles))
}

/// Creates a user whose password the caller has already checked and hashed.
pub fn create_user(
    conn: &mut DbConn,
    actor: &Actor,
    input: CreateUserRequest,
    password_hash: &str,
) -> Result<UserView, ApiError> {
    let username = normalise_username(&input.username)?;
    check_assignment(conn, &input.roles, input.unit_id, input.cadre_id)?;
    if repo::find_user_by_username(conn, &username)?.is_some() {
        return Err(ApiError::conflict(
            "username_taken",
            "this user name is taken",
        ));
    }
    let now = db::now();
    let id: i64 = diesel::insert_into(users::table)
        .values(NewUser {
            username: &username,
            display_name: input.display_name.trim(),
            password_hash,
            unit_id: input.unit_id,
            cadre_id: input.cadre_id,
            active: true,
            token_version: 1,
            version: 1,
            password_changed_at: now,
            created_at: now,
            updated_at: now,
        })
        .returning(users::id)
        .get_result(conn)?;
    repo::set_roles(conn, id, &input.roles)?;
    let view = get_user(conn, id)?;
    audit::record(
        conn,
        actor,
        Event::new("user.created", "user", id).after(&view),
    )?;
    Ok(view)
}

pub fn get_user(conn: &mut DbConn, id: i64) -> Result<UserView, ApiError> {
    let row = repo::find_user(conn, id)?.ok_or(ApiError::NotFound)?;
    user_view(conn, row)
}

pub fn list_users(conn: &mut DbConn, query: UserQuery) -> Result<Page<UserView>, ApiError> {
    let page = PageCursor::new(query.limit, query.cursor.as_deref())?;
    let mut select = users::table
        .select(UserRow::as_select())
        .order(users::id.asc())
        .limit(page.fetch())
        .into_boxed();
    if let Some(after) = page.after {
        select = select.filter(users::id.gt(after));
    }
    if let Some(role) = query.role {
        let holders = user_roles::table
            .filter(user_roles::role.eq(role.as_str()))
            .select(user_roles::user_id);
        select = select.filter(users::id.eq_any(holders));
    }
    if let Some(unit_id) = query.unit_id {
        select = select.filter(users::unit_id.eq(unit_id));
    }
    if let Some(active) = query.active {
        select = select.filter(users::active.eq(active));
    }
    if let Some(q) = query.q {
        let by_name = crate::text::like_contains(&q.to_ascii_lowercase());
        let by_display = crate::text::like_contains(&q);
        select = select.filter(
            users::username
                .like(by_name)
                .escape('\\')
                .or(users::display_name.like(by_display).escape('\\')),
        );
    }
    let rows = select.load(conn)?;
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let mut roles: HashMap<i64, Vec<Role>> = HashMap::new();
    for (id, role) in repo::roles_of_many(conn, &ids)? {
        roles.entry(id).or_default().push(role);
    }
    Ok(page.page(
        rows,
        |r| r.id,
        |row| {
            let mut user_roles = roles.remove(&row.id).unwrap_or_default();
            user_roles.sort();
            UserView::new(row, user_roles)
        },
    ))
}

/// Ends every session of a user and makes their access tokens stale at once.
fn revoke_all_tokens(
    conn: &mut DbConn,
    actor: &Actor,
    user: &UserRow,
    reason: &'static str,
) -> Result<(), ApiError> {
    let now = db::now();
    diesel::update(users::table.find(user.id))
        .set(users::token_version.eq(user.token_version + 1))
        .execute(conn)?;
    let revoked = repo::revoke_user_sessions(conn, user.id, reason, now)?;
    audit::record(
        conn,
        actor,
        Event::new("user.tokens_revoked", "user", user.id)
            .after(json!({"reason": reason, "sessions": revoked})),
    )?;
    Ok(())
}

pub fn update_user(
    conn: &mut DbConn,
    actor: &Actor,
    id: i64,
    expected_version: i32,
    input: UpdateUserRequest,
) -> Result<UserView, ApiError> {
    let row = repo::find_user(conn, id)?.ok_or(ApiError::NotFound)?;
    if row.version != expected_version {
        return Err(ApiError::PreconditionFailed);
    }
    let before = user_view(conn, row.clone())?;
    let roles = input.roles.clone().unwrap_or_else(|| before.roles.clone());
    let unit_id = input.unit_id.unwrap_or(row.unit_id);
    let active = input.active.unwrap_or(row.active);
    let cadre_id = input.cadre_id.unwrap_or(row.cadre_id);
    check_assignment(conn, &roles, unit_id, cadre_id)?;

    let mut sorted_roles = roles.clone();
    sorted_roles.sort();
    let roles_changed = sorted_roles != before.roles;
    let deactivated = row.active && !active;
    let loses_admin =
        before.roles.contains(&Role::Admin) && (!roles.contains(&Role::Admin) || !active);
    if loses_admin && repo::count_other_active_admins(conn, id)? == 0 {
        return Err(ApiError::conflict(
            "last_admin",
            "this is the last active administrator",
        ));
    }

    diesel::update(
        users::table
            .find(id)
            .filter(users::version.eq(expected_version)),
    )
    .set((
        users::display_name.eq(input
            .display_name
            .as_deref()
            .map_or(row.display_name.as_str(), str::trim)),
        users::unit_id.eq(unit_id),
        users::cadre_id.eq(input.cadre_id.unwrap_or(row.cadre_id)),
        users::active.eq(active),
        users::version.eq(row.version + 1),
        users::updated_at.eq(db::now()),
    ))
    .execute(conn)?;
    if roles_changed {
        repo::set_roles(conn, id, &sorted_roles)?;
    }
    let after = get_user(conn, id)?;
    audit::record(
        conn,
        actor,
        Event::new("user.updated", "user", id)
            .before(&before)
            .after(&after),
    )?;
    if roles_changed || deactivated {
        let reason = if deactivated {
            "deactivated"
        } else {
            "roles_changed"
        };
        revoke_all_tokens(conn, actor, &row, reason)?;
    }
    Ok(after)
}

/// Sets a new password (already checked and hashed) and revokes every session of the user.
pub fn set_password(
    conn: &mut DbConn,
    actor: &Actor,
    user_id: i64,
    password_hash: &str,
    action: &'static str,
) -> Result<(), ApiError> {
    let row = repo::find_user(conn, user_id)?.ok_or(ApiError::NotFound)?;
    diesel::update(users::table.find(user_id))
        .set((
            users::password_hash.eq(password_hash),
            users::password_changed_at.eq(db::now()),
            users::version.eq(row.version + 1),
            users::updated_at.eq(db::now()),
        ))
        .execute(conn)?;
    audit::record(conn, actor, Event::new(action, "user", user_id))?;
    revoke_all_tokens(conn, actor, &row, "password_changed")
}

// ---------------------------------------------------------------- sessions

/// Failures within this window count towards a lock.
const THROTTLE_WINDOW_MINUTES: i64 = 15;
const THROTTLE_MAX_FAILURES: i32 = 5;
/// The first lock lasts this long; each further lock doubles it, up to a day.
const FIRST_LOCK_SECONDS: i64 = 15 * 60;
const LONGEST_LOCK_SECONDS: i64 = 24 * 60 * 60;

/// What the database knows before the password is checked.
pub struct LoginSubject {
    pub user: Option<UserRow>,
    pub password_hash: Option<String>,
}

/// Refuses a locked user name with 429 and the seconds left; otherwise loads the user.
pub fn begin_login(conn: &mut DbConn, username: &str) -> Result<LoginSubject, ApiError> {
    let now = db::now();
    if let Some(throttle) = repo::find_throttle(conn, username)? {
        if let Some(until) = throttle.locked_until.filter(|until| *until > now) {
            let seconds = (until - now).num_seconds().max(1);
            return Err(ApiError::TooManyRequests {
                retry_after_secs: u64::try_from(seconds).unwrap_or(1),
            });
        }
    }
    let user = repo::find_user_by_username(conn, username)?;
    let password_hash = user.as_ref().map(|u| u.password_hash.clone());
    Ok(LoginSubject {
        user,
        password_hash,
    })
}

/// Counts a failed login against the user name (existing or not) and audits it.
pub fn record_failed_login(
    conn: &mut DbConn,
    username: &str,
    user: Option<&UserRow>,
    reason: &'static str,
) -> Result<(), ApiError> {
    let now = db::now();
    let window = Duration::minutes(THROTTLE_WINDOW_MINUTES);
    let mut throttle = repo::find_throttle(conn, username)?.unwrap_or(ThrottleRow {
        username: username.to_owned(),
        failures: 0,
        window_started_at: now,
        locked_until: None,
        lockouts: 0,
    });
    if now - throttle.window_started_at > window {
        throttle.failures = 0;
        throttle.window_started_at = now;
    }
    throttle.failures += 1;
    let mut locked_for = None;
    if throttle.failures >= THROTTLE_MAX_FAILURES {
        let seconds = lock_seconds(throttle.lockouts);
        throttle.lockouts += 1;
        throttle.failures = 0;
        throttle.window_started_at = now;
        throttle.locked_until = Some(now + Duration::seconds(seconds));
        locked_for = Some(seconds);
    }
    repo::save_throttle(conn, &throttle)?;
    repo::prune_throttle(conn, now - Duration::seconds(LONGEST_LOCK_SECONDS))?;
    // The submitted name is recorded only when it is a real account: a mistyped name may be
    // someone's password.
    let event = Event::about("auth.login_failed", "user", user.map(|u| u.id.to_string())).after(
        json!({"reason": if user.is_some() { reason } else { "unknown_user" }, "locked_seconds": locked_for}),
    );
    audit::record(conn, &Actor::anonymous(), event)?;
    Ok(())
}

fn lock_seconds(previous_lockouts: i32) -> i64 {
    let doublings = u32::try_from(previous_lockouts.clamp(0, 16)).unwrap_or(16);
    FIRST_LOCK_SECONDS
        .saturating_mul(1_i64 << doublings)
        .min(LONGEST_LOCK_SECONDS)
}

fn issue_tokens(
    conn: &mut DbConn,
    keys: &TokenKeys,
    user: &UserRow,
    session_id: i64,
    now: NaiveDateTime,
) -> Result<TokenResponse, ApiError> {
    let roles = repo::roles_of(conn, user.id)?;
    let (refresh_token, hash) = tokens::new_refresh_token();
    let session = repo::find_session(conn, session_id)?.ok_or(ApiError::InvalidToken)?;
    // A refresh token never outlives its session.
    let expires_at = (now + Duration::days(REFRESH_TOKEN_TTL_DAYS)).min(session.expires_at);
    repo::insert_refresh_token(
        conn,
        &NewRefreshToken {
            session_id,
            token_hash: &hash,
            created_at: now,
            expires_at,
        },
    )?;
    let access_token = keys
        .issue(user.id, session_id, user.token_version, &roles)
        .map_err(|e| ApiError::internal(format!("token signing failed: {e}")))?;
    Ok(TokenResponse {
        access_token,
        token_type: "Bearer",
        expires_in: ACCESS_TOKEN_TTL_SECS,
        refresh_token,
        refresh_expires_in: (expires_at - now).num_seconds(),
    })
}

/// Opens a session for a user whose password has been verified.
pub fn complete_login(
    conn: &mut DbConn,
    keys: &TokenKeys,
    user: &UserRow,
) -> Result<TokenResponse, ApiError> {
    let now = db::now();
    repo::clear_throttle(conn, &user.username)?;
    let session_id = repo::create_session(
        conn,
        &NewSession {
            user_id: user.id,
            created_at: now,
            expires_at: now + Duration::days(SESSION_MAX_DAYS),
        },
    )?;
    diesel::update(users::table.find(user.id))
        .set(users::last_login_at.eq(now))
        .execute(conn)?;
    let tokens = issue_tokens(conn, keys, user, session_id, now)?;
    let actor = Actor {
        user_id: Some(user.id),
        label: user.username.clone(),
        roles: Vec::new(),
        request_id: Some(crate::web::current_request_id()),
    };
    audit::record(
        conn,
        &actor,
        Event::new("auth.login_succeeded", "session", session_id)
            .after(json!({"user_id": user.id})),
    )?;
    Ok(tokens)
}

/// How a refresh attempt ended. A reused token is not an error for the transaction: the
/// revocation of its session must commit, and only then is the client refused.
pub enum RefreshOutcome {
    Rotated(TokenResponse),
    Refused,
    ReuseDetected,
}

pub fn refresh(
    conn: &mut DbConn,
    keys: &TokenKeys,
    refresh_token: &str,
) -> Result<RefreshOutcome, ApiError> {
    let now = db::now();
    let Some(token) = repo::find_refresh_token(conn, &tokens::hash_refresh_token(refresh_token))?
    else {
        return Ok(RefreshOutcome::Refused);
    };
    let session = repo::find_session(conn, token.session_id)?.ok_or(ApiError::InvalidToken)?;
    let actor = Actor {
        user_id: Some(session.user_id),
        label: format!("user:{}", session.user_id),
        roles: Vec::new(),
        request_id: Some(crate::web::current_request_id()),
    };
    if token.used_at.is_some() {
        // A spent token came back: whoever holds the family may be an attacker. End it.
        if repo::revoke_session(conn, session.id, "refresh_token_reuse", now)? > 0 {
            audit::record(
                conn,
                &actor,
                Event::new("session.reuse_detected", "session", session.id),
            )?;
        }
        return Ok(RefreshOutcome::ReuseDetected);
    }
    if session.revoked_at.is_some() || session.expires_at <= now || token.expires_at <= now {
        return Ok(RefreshOutcome::Refused);
    }
    let Some(user) = repo::find_user(conn, session.user_id)?.filter(|u| u.active) else {
        return Ok(RefreshOutcome::Refused);
    };
    if repo::mark_refresh_token_used(conn, token.id, now)? == 0 {
        return Ok(RefreshOutcome::ReuseDetected);
    }
    let tokens = issue_tokens(conn, keys, &user, session.id, now)?;
    audit::record(
        conn,
        &actor,
        Event::new("session.refreshed", "session", session.id),
    )?;
    Ok(RefreshOutcome::Rotated(tokens))
}

pub fn logout(conn: &mut DbConn, user: &AuthUser) -> Result<(), ApiError> {
    repo::revoke_session(conn, user.session_id, "logout", db::now())?;
    audit::record(
        conn,
        &Actor::user(user),
        Event::new("session.revoked", "session", user.session_id)
            .after(json!({"reason": "logout"})),
    )?;
    Ok(())
}
