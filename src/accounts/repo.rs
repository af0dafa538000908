//! Queries on units, users, roles, sessions and refresh tokens. No HTTP types here.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::model::{NewRefreshToken, NewSession, RefreshTokenRow, SessionRow, UnitRow, UserRow};
use crate::auth::Role;
use crate::db::kept_sql::id_in;
use crate::db::schema::{login_throttle, refresh_tokens, sessions, units, user_roles, users};
use crate::db::DbConn;

/// `get_result`, not `first`, for a key: see `cadres::repo::find`.
pub fn find_unit(conn: &mut DbConn, id: i64) -> QueryResult<Option<UnitRow>> {
    units::table
        .find(id)
        .select(UnitRow::as_select())
        .get_result(conn)
        .optional()
}

/// `get_result`, not `first`, for a key: see `cadres::repo::find`.
pub fn find_user(conn: &mut DbConn, id: i64) -> QueryResult<Option<UserRow>> {
    users::table
        .find(id)
        .select(UserRow::as_select())
        .get_result(conn)
        .optional()
}

pub fn find_user_by_username(conn: &mut DbConn, username: &str) -> QueryResult<Option<UserRow>> {
    users::table
        .filter(users::username.eq(username))
        .select(UserRow::as_select())
        .get_result(conn)
        .optional()
}

pub fn count_users(conn: &mut DbConn) -> QueryResult<i64> {
    users::table.count().get_result(conn)
}

/// A user's roles, in the canonical order of `Role::ALL`.
pub fn roles_of(conn: &mut DbConn, user_id: i64) -> QueryResult<Vec<Role>> {
    let mut roles: Vec<Role> = user_roles::table
        .filter(user_roles::user_id.eq(user_id))
        .select(user_roles::role)
        .load::<String>(conn)?
        .iter()
        .filter_map(|r| Role::parse(r))
        .collect();
    roles.sort();
    Ok(roles)
}

/// Roles of many users at once (for list pages).
pub fn roles_of_many(conn: &mut DbConn, user_ids: &[i64]) -> QueryResult<Vec<(i64, Role)>> {
    Ok(user_roles::table
        .filter(id_in(user_roles::user_id, user_ids))
        .select((user_roles::user_id, user_roles::role))
        .load::<(i64, String)>(conn)?
        .into_iter()
        .filter_map(|(id, r)| Role::parse(&r).map(|r| (id, r)))
        .collect())
}

/// The display names of the users `ids` names, by id, in one kept statement: what pages show
/// for the leader of a pairing or a talk and for whoever recorded an appointment.
pub fn display_names_of(conn: &mut DbConn, ids: &[i64]) -> QueryResult<HashMap<i64, String>> {
    Ok(users::table
        .filter(id_in(users::id, ids))
        .select((users::id, users::display_name))
        .load::<(i64, String)>(conn)?
        .into_iter()
        .collect())
}

pub fn set_roles(conn: &mut DbConn, user_id: i64, roles: &[Role]) -> QueryResult<()> {
    diesel::delete(user_roles::table.filter(user_roles::user_id.eq(user_id))).execute(conn)?;
    for role in roles {
        diesel::insert_into(user_roles::table)
            .values((
                user_roles::user_id.eq(user_id),
                user_roles::role.eq(role.as_str()),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// Active users holding `admin`, other than `except`.
pub fn count_other_active_admins(conn: &mut DbConn, except: i64) -> QueryResult<i64> {
    users::table
        .inner_join(user_roles::table)
        .filter(user_roles::role.eq(Role::Admin.as_str()))
        .filter(users::active.eq(true))
        .filter(users::id.ne(except))
        .count()
        .get_result(conn)
}

pub fn create_session(conn: &mut DbConn, session: &NewSession) -> QueryResult<i64> {
    diesel::insert_into(sessions::table)
        .values(session)
        .returning(sessions::id)
        .get_result(conn)
}

pub fn find_session(conn: &mut DbConn, id: i64) -> QueryResult<Option<SessionRow>> {
    sessions::table
        .find(id)
        .select(SessionRow::as_select())
        .first(conn)
        .optional()
}

pub fn insert_refresh_token(conn: &mut DbConn, token: &NewRefreshToken) -> QueryResult<()> {
    diesel::insert_into(refresh_tokens::table)
        .values(token)
        .execute(conn)
        .map(|_| ())
}

pub fn find_refresh_token(conn: &mut DbConn, hash: &str) -> QueryResult<Option<RefreshTokenRow>> {
    refresh_tokens::table
        .filter(refresh_tokens::token_hash.eq(hash))
        .select(RefreshTokenRow::as_select())
        .first(conn)
        .optional()
}

pub fn mark_refresh_token_used(
    conn: &mut DbConn,
    id: i64,
    at: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(
        refresh_tokens::table
            .find(id)
            .filter(refresh_tokens::used_at.is_null()),
    )
    .set(refresh_tokens::used_at.eq(at))
    .execute(conn)
}

pub fn revoke_session(
    conn: &mut DbConn,
    id: i64,
    reason: &str,
    at: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(
        sessions::table
            .find(id)
            .filter(sessions::revoked_at.is_null()),
    )
    .set((
        sessions::revoked_at.eq(at),
        sessions::revoked_reason.eq(reason),
    ))
    .execute(conn)
}

/// Revokes every live session of a user; returns how many.
pub fn revoke_user_sessions(
    conn: &mut DbConn,
    user_id: i64,
    reason: &str,
    at: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(
        sessions::table
            .filter(sessions::user_id.eq(user_id))
            .filter(sessions::revoked_at.is_null()),
    )
    .set((
        sessions::revoked_at.eq(at),
        sessions::revoked_reason.eq(reason),
    ))
    .execute(conn)
}

/// The login throttle of one user name: failures in the window, lock, and lockouts so far.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = login_throttle)]
#[diesel(treat_none_as_null = true)]
pub struct ThrottleRow {
    pub username: String,
    pub failures: i32,
    pub window_started_at: NaiveDateTime,
    pub locked_until: Option<NaiveDateTime>,
    pub lockouts: i32,
}

pub fn find_throttle(conn: &mut DbConn, username: &str) -> QueryResult<Option<ThrottleRow>> {
    login_throttle::table
        .find(username)
        .select(ThrottleRow::as_select())
        .first(conn)
        .optional()
}

pub fn save_throttle(conn: &mut DbConn, row: &ThrottleRow) -> QueryResult<()> {
    let updated = diesel::update(login_throttle::table.find(&row.username))
        .set(row)
        .execute(conn)?;
    if updated == 0 {
        diesel::insert_into(login_throttle::table)
            .values(row)
            .execute(conn)?;
    }
    Ok(())
}

pub fn clear_throttle(conn: &mut DbConn, username: &str) -> QueryResult<()> {
    diesel::delete(login_throttle::table.find(username))
        .execute(conn)
        .map(|_| ())
}

/// Forgets throttle rows whose window and lock are long over, so that attempts with random
/// user names cannot grow the table without bound.
pub fn prune_throttle(conn: &mut DbConn, older_than: NaiveDateTime) -> QueryResult<usize> {
    diesel::delete(
        login_throttle::table
            .filter(login_throttle::window_started_at.lt(older_than))
            .filter(
                login_throttle::locked_until
                    .is_null()
                    .or(login_throttle::locked_until.lt(older_than)),
            ),
    )
    .execute(conn)
}
