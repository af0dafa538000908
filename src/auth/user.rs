//! The extractors that stand between a request and a handler.
//!
//! `AuthUser`: a valid access token whose session is live and whose token version is current,
//! else 401. `Authorized<P>`: the same, and one of the user's roles grants permission `P`, else
//! 403. The token and the permission are checked synchronously when the extractor is built, so
//! a refused request is refused before its body is read or validated.

use std::future::Future;
use std::marker::PhantomData;
use std::ops::Deref;
use std::pin::Pin;

use actix_web::{dev::Payload, http::header, web, FromRequest, HttpRequest};
use diesel::prelude::*;

use super::roles::{roles_allow, Permission, Role};
use super::session_cache::SessionCache;
use super::tokens::{AccessClaims, TokenKeys};
use crate::db::{self, schema, DbConn, DbPool};
use crate::error::ApiError;

/// The signed-in user of a request.
#[derive(Debug, Clone)]
pub struct AuthUser {
    pub id: i64,
    pub username: String,
    pub roles: Vec<Role>,
    pub unit_id: Option<i64>,
    pub cadre_id: Option<i64>,
    pub session_id: i64,
}

impl AuthUser {
    pub fn has(&self, permission: Permission) -> bool {
        roles_allow(&self.roles, permission)
    }

    pub fn require(&self, permission: Permission) -> Result<(), ApiError> {
        if self.has(permission) {
            Ok(())
        } else {
            Err(ApiError::Forbidden)
        }
    }
}

fn bearer_token(req: &HttpRequest) -> Result<&str, ApiError> {
    let value = req
        .headers()
        .get(header::AUTHORIZATION)
        .ok_or(ApiError::Unauthenticated)?
        .to_str()
        .map_err(|_| ApiError::InvalidToken)?;
    let (scheme, token) = value.split_once(' ').ok_or(ApiError::InvalidToken)?;
    if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
        return Err(ApiError::InvalidToken);
    }
    Ok(token.trim())
}

/// A token whose signature, times, issuer and audience are good, with what checking its session
/// needs.
struct VerifiedToken {
    claims: AccessClaims,
    pool: web::Data<DbPool>,
    sessions: web::Data<SessionCache>,
}

/// The synchronous part: the token's signature, times, issuer and audience.
fn verified_token(req: &HttpRequest) -> Result<VerifiedToken, ApiError> {
    let token = bearer_token(req)?;
    let keys = req
        .app_data::<web::Data<TokenKeys>>()
        .ok_or_else(|| ApiError::internal("token keys are not configured"))?;
    let claims = keys.verify(token).ok_or(ApiError::InvalidToken)?;
    let pool = req
        .app_data::<web::Data<DbPool>>()
        .cloned()
        .ok_or_else(|| ApiError::internal("database pool is not configured"))?;
    let sessions = req
        .app_data::<web::Data<SessionCache>>()
        .cloned()
        .ok_or_else(|| ApiError::internal("session cache is not configured"))?;
    Ok(VerifiedToken {
        claims,
        pool,
        sessions,
    })
}

/// The asynchronous part: the session is live and the token version current (remembered for
/// a moment, see `SessionCache`).
async fn load_user(token: VerifiedToken) -> Result<AuthUser, ApiError> {
    let VerifiedToken {
        claims,
        pool,
        sessions,
    } = token;
    let user_id: i64 = claims.sub.parse().map_err(|_| ApiError::InvalidToken)?;
    let key = (user_id, claims.sid, claims.ver);
    let epoch = db::write_epoch();
    let user = match sessions.get(key, epoch, db::now()) {
        Some(user) => user,
        None => {
            let (user, expires_at) = db::run(&pool, move |conn| {
                live_session_user(conn, user_id, claims.sid, claims.ver)
            })
            .await?
            .ok_or(ApiError::InvalidToken)?;
            sessions.put(key, epoch, user.clone(), expires_at);
            user
        }
    };
    tracing::Span::current().record("user_id", user.id);
    Ok(user)
}

/// The user behind a session and when the session expires, if the session is live, the user
/// active, and the token version the one given. One statement (a row per role; every user holds
/// at least one).
fn live_session_user(
    conn: &mut DbConn,
    user_id: i64,
    session_id: i64,
    token_version: i32,
) -> Result<Option<(AuthUser, chrono::NaiveDateTime)>, ApiError> {
    use schema::{sessions, user_roles, users};
    let now = db::now();
    let rows = users::table
        .inner_join(sessions::table)
        .inner_join(user_roles::table)
        .filter(users::id.eq(user_id))
        .filter(users::active.eq(true))
        .filter(users::token_version.eq(token_version))
        .filter(sessions::id.eq(session_id))
        .filter(sessions::revoked_at.is_null())
        .filter(sessions::expires_at.gt(now))
        .select((
            users::username,
            users::unit_id,
            users::cadre_id,
            sessions::expires_at,
            user_roles::role,
        ))
        .load::<(
            String,
            Option<i64>,
            Option<i64>,
            chrono::NaiveDateTime,
            String,
        )>(conn)?;
    let roles = rows.iter().filter_map(|row| Role::parse(&row.4)).collect();
    let Some((username, unit_id, cadre_id, expires_at, _)) = rows.into_iter().next() else {
        return Ok(None);
    };
    let user = AuthUser {
        id: user_id,
        username,
        roles,
        unit_id,
        cadre_id,
        session_id,
    };
    Ok(Some((user, expires_at)))
}

type AuthFuture<T> = Pin<Box<dyn Future<Output = Result<T, ApiError>>>>;

impl FromRequest for AuthUser {
    type Error = ApiError;
    type Future = AuthFuture<Self>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        match verified_token(req) {
            Ok(token) => Box::pin(load_user(token)),
            Err(error) => Box::pin(std::future::ready(Err(error))),
        }
    }
}

/// A permission, named as a type so that a handler's signature says what it requires.
pub trait RequiredPermission {
    const PERMISSION: Permission;
}

/// A signed-in user whose roles grant `P`.
#[derive(Debug)]
pub struct Authorized<P>(pub AuthUser, PhantomData<P>);

impl<P> Deref for Authorized<P> {
    type Target = AuthUser;
    fn deref(&self) -> &AuthUser {
        &self.0
    }
}

impl<P: RequiredPermission + 'static> FromRequest for Authorized<P> {
    type Error = ApiError;
    type Future = AuthFuture<Self>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let checked = verified_token(req).and_then(|token| {
            // Roles in the token are those of the token version it names; a role change bumps
            // the version, so a token whose version is current carries current roles.
            if roles_allow(&token.claims.roles, P::PERMISSION) {
                Ok(token)
            } else {
                Err(ApiError::Forbidden)
            }
        });
        match checked {
            Ok(token) => Box::pin(async move {
                let user = load_user(token).await?;
                // Defence in depth: the same rule against the roles in the database.
                user.require(P::PERMISSION)?;
                Ok(Authorized(user, PhantomData))
            }),
            Err(error) => Box::pin(std::future::ready(Err(error))),
        }
    }
}
