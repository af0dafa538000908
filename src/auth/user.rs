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

/// The synchronous part: the token's signature, times, issuer and audience.
fn verified_claims(req: &HttpRequest) -> Result<(AccessClaims, web::Data<DbPool>), ApiError> {
    let token = bearer_token(req)?;
    let keys = req
        .app_data::<web::Data<TokenKeys>>()
        .ok_or_else(|| ApiError::internal("token keys are not configured"))?;
    let claims = keys.verify(token).ok_or(ApiError::InvalidToken)?;
    let pool = req
        .app_data::<web::Data<DbPool>>()
        .cloned()
        .ok_or_else(|| ApiError::internal("database pool is not configured"))?;
    Ok((claims, pool))
}

/// The asynchronous part: the session is live and the token version current.
async fn load_user(claims: AccessClaims, pool: web::Data<DbPool>) -> Result<AuthUser, ApiError> {
    let user_id: i64 = claims.sub.parse().map_err(|_| ApiError::InvalidToken)?;
    let user = db::run(&pool, move |conn| {
        live_session_user(conn, user_id, claims.sid, claims.ver)
    })
    .await?
    .ok_or(ApiError::InvalidToken)?;
    tracing::Span::current().record("user_id", user.id);
    Ok(user)
}

/// The user behind a session, if the session is live, the user active, and the token version
/// the one given. One statement (a row per role; every user holds at least one), because every
/// authenticated request pays for it.
pub(crate) fn live_session_user(
    conn: &mut DbConn,
    user_id: i64,
    session_id: i64,
    token_version: i32,
) -> Result<Option<AuthUser>, ApiError> {
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
            user_roles::role,
        ))
        .load::<(String, Option<i64>, Option<i64>, String)>(conn)?;
    let Some((username, unit_id, cadre_id, _)) = rows.first().cloned() else {
        return Ok(None);
    };
    let roles = rows.iter().filter_map(|row| Role::parse(&row.3)).collect();
    Ok(Some(AuthUser {
        id: user_id,
        username,
        roles,
        unit_id,
        cadre_id,
        session_id,
    }))
}

type AuthFuture<T> = Pin<Box<dyn Future<Output = Result<T, ApiError>>>>;

impl FromRequest for AuthUser {
    type Error = ApiError;
    type Future = AuthFuture<Self>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        match verified_claims(req) {
            Ok((claims, pool)) => Box::pin(load_user(claims, pool)),
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
        let checked = verified_claims(req).and_then(|(claims, pool)| {
            // Roles in the token are those of the token version it names; a role change bumps
            // the version, so a token whose version is current carries current roles.
            if roles_allow(&claims.roles, P::PERMISSION) {
                Ok((claims, pool))
            } else {
                Err(ApiError::Forbidden)
            }
        });
        match checked {
            Ok((claims, pool)) => Box::pin(async move {
                let user = load_user(claims, pool).await?;
                // Defence in depth: the same rule against the roles in the database.
                user.require(P::PERMISSION)?;
                Ok(Authorized(user, PhantomData))
            }),
            Err(error) => Box::pin(std::future::ready(Err(error))),
        }
    }
}
