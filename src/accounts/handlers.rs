//! Thin handlers: extract, authorise, call the service, shape the response.

use actix_web::http::header;
use actix_web::{get, patch, post, put, web, HttpRequest, HttpResponse};

use super::dto::{
    ChangePasswordRequest, CreateUnitRequest, CreateUserRequest, LoginRequest, MeView,
    RefreshRequest, ResetPasswordRequest, RoleView, TokenResponse, UnitQuery, UnitView,
    UpdateUnitRequest, UpdateUserRequest, UserQuery, UserView,
};
use super::{repo, service};
use crate::audit::Actor;
use crate::auth::password::PasswordWork;
use crate::auth::tokens::TokenKeys;
use crate::auth::{can, AuthUser, Authorized};
use crate::db::{self, DbPool};
use crate::error::{ApiError, Problem};
use crate::web::{if_match, with_etag, Page, ValidatedJson, ValidatedQuery};

fn created<T: serde::Serialize>(location: String, body: &T) -> HttpResponse {
    HttpResponse::Created()
        .insert_header((header::LOCATION, location))
        .json(body)
}

// ---------------------------------------------------------------- sessions

/// Log in with user name and password.
///
/// The same answer (401 `invalid_credentials`) for an unknown user, a wrong password and an
/// inactive account. Five failures for one user name within 15 minutes lock it (429 with
/// `Retry-After`) for 15 minutes, doubling with each further lock up to a day.
#[utoipa::path(
    tag = "auth",
    request_body = LoginRequest,
    responses(
        (status = 200, body = TokenResponse),
        (status = 401, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json"), (status = 429, body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/auth/login")]
pub async fn login(
    pool: web::Data<DbPool>,
    keys: web::Data<TokenKeys>,
    passwords: web::Data<PasswordWork>,
    body: ValidatedJson<LoginRequest>,
) -> Result<web::Json<TokenResponse>, ApiError> {
    let body = body.into_inner();
    let username = body.username.trim().to_ascii_lowercase();
    let lookup = username.clone();
    let subject = db::run(&pool, move |conn| service::begin_login(conn, &lookup)).await?;
    let matched = passwords
        .verify(body.password, subject.password_hash)
        .await?;
    match subject.user {
        Some(user) if matched && user.active => {
            // A login changes no one's access, so the remembered sessions stay.
            let tokens = db::write_keeping_sessions(&pool, move |conn| {
                service::complete_login(conn, &keys, &user)
            })
            .await?;
            Ok(web::Json(tokens))
        }
        user => {
            let reason = if matched {
                "inactive"
            } else {
                "wrong_password"
            };
            db::write_keeping_sessions(&pool, move |conn| {
                service::record_failed_login(conn, &username, user.as_ref(), reason)
            })
            .await?;
            Err(ApiError::InvalidCredentials)
        }
    }
}

/// Exchange a refresh token for a new access and refresh token.
///
/// Each refresh token works once. Presenting one that was already used revokes its whole
/// session (every token descended from the same login) and answers 401.
#[utoipa::path(
    tag = "auth",
    request_body = RefreshRequest,
    responses((status = 200, body = TokenResponse), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json"))
)]
#[post("/auth/refresh")]
pub async fn refresh(
    pool: web::Data<DbPool>,
    keys: web::Data<TokenKeys>,
    body: ValidatedJson<RefreshRequest>,
) -> Result<web::Json<TokenResponse>, ApiError> {
    let token = body.into_inner().refresh_token;
    match db::write(&pool, move |conn| service::refresh(conn, &keys, &token)).await? {
        service::RefreshOutcome::Rotated(tokens) => Ok(web::Json(tokens)),
        service::RefreshOutcome::Refused | service::RefreshOutcome::ReuseDetected => {
            Err(ApiError::InvalidToken)
        }
    }
}

/// End the current session: its access and refresh tokens stop working.
#[utoipa::path(
    tag = "auth",
    responses((status = 204, description = "Logged out"), (status = 401, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = []))
)]
#[post("/auth/logout")]
pub async fn logout(auth: AuthUser, pool: web::Data<DbPool>) -> Result<HttpResponse, ApiError> {
    db::write(&pool, move |conn| service::logout(conn, &auth)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The signed-in user.
#[utoipa::path(
    tag = "auth",
    responses((status = 200, body = MeView), (status = 401, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = []))
)]
#[get("/me")]
pub async fn me(auth: AuthUser, pool: web::Data<DbPool>) -> Result<web::Json<MeView>, ApiError> {
    let row = db::run(&pool, move |conn| {
        repo::find_user(conn, auth.id)?.ok_or(ApiError::NotFound)
    })
    .await?;
    Ok(web::Json(MeView {
        id: row.id,
        username: row.username,
        display_name: row.display_name,
        roles: auth.roles.iter().copied().map(RoleView::from).collect(),
        unit_id: row.unit_id,
        cadre_id: row.cadre_id,
        password_changed_at: row.password_changed_at.and_utc(),
    }))
}

/// Change one's own password. Every session of the user ends, this one included: log in again.
#[utoipa::path(
    tag = "auth",
    request_body = ChangePasswordRequest,
    responses(
        (status = 204, description = "Changed; all sessions revoked"),
        (status = 401, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json"), (status = 429, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[put("/me/password")]
pub async fn change_password(
    auth: AuthUser,
    pool: web::Data<DbPool>,
    passwords: web::Data<PasswordWork>,
    body: ValidatedJson<ChangePasswordRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let username = auth.username.clone();
    let subject = db::run(&pool, move |conn| service::begin_login(conn, &username)).await?;
    if !passwords
        .verify(body.current_password, subject.password_hash)
        .await?
    {
        let username = auth.username.clone();
        db::write(&pool, move |conn| {
            service::record_failed_login(
                conn,
                &username,
                subject.user.as_ref(),
                "wrong_current_password",
            )
        })
        .await?;
        return Err(ApiError::field("current_password", "incorrect"));
    }
    service::check_password("new_password", &body.new_password, &auth.username)?;
    let hash = passwords.hash(body.new_password).await?;
    db::write(&pool, move |conn| {
        service::set_password(
            conn,
            &Actor::user(&auth),
            auth.id,
            &hash,
            "user.password_changed",
        )
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

// ---------------------------------------------------------------- users

/// List users (administrators only).
#[utoipa::path(
    tag = "users",
    params(UserQuery),
    responses(
        (status = 200, body = inline(Page<UserView>)),
        (status = 400, body = Problem, content_type = "application/problem+json"), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["UsersRead"]))
)]
#[get("/users")]
pub async fn list_users(
    _auth: Authorized<can::UsersRead>,
    pool: web::Data<DbPool>,
    query: ValidatedQuery<UserQuery>,
) -> Result<web::Json<Page<UserView>>, ApiError> {
    let query = query.into_inner();
    Ok(web::Json(
        db::run(&pool, move |conn| service::list_users(conn, query)).await?,
    ))
}

/// Create a user with roles, an optional unit and an optional linked cadre.
#[utoipa::path(
    tag = "users",
    request_body = CreateUserRequest,
    responses(
        (status = 201, body = UserView),
        (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["UsersManage"]))
)]
#[post("/users")]
pub async fn create_user(
    auth: Authorized<can::UsersManage>,
    pool: web::Data<DbPool>,
    passwords: web::Data<PasswordWork>,
    body: ValidatedJson<CreateUserRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let username = service::normalise_username(&body.username)?;
    service::check_password("password", &body.password, &username)?;
    let hash = passwords.hash(body.password.clone()).await?;
    let actor = Actor::user(&auth);
    let user = db::write(&pool, move |conn| {
        service::create_user(conn, &actor, body, &hash)
    })
    .await?;
    Ok(created(format!("/api/v1/users/{}", user.id), &user))
}

/// One user; the ETag is the record's version.
#[utoipa::path(
    tag = "users",
    params(("id" = i64, Path)),
    responses(
        (status = 200, body = UserView, headers(("ETag" = String))),
        (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["UsersRead"]))
)]
#[get("/users/{id:[0-9]+}")]
pub async fn get_user(
    _auth: Authorized<can::UsersRead>,
    pool: web::Data<DbPool>,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let user = db::run(&pool, move |conn| service::get_user(conn, id)).await?;
    Ok(with_etag(user.version, &user))
}

/// Change a user's display name, roles, unit, linked cadre or active flag (`If-Match` required).
/// A change of roles or a deactivation revokes the user's sessions at once.
#[utoipa::path(
    tag = "users",
    params(("id" = i64, Path), ("If-Match" = String, Header, description = "The ETag read")),
    request_body = UpdateUserRequest,
    responses(
        (status = 200, body = UserView, headers(("ETag" = String))),
        (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"), (status = 412, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json"),
        (status = 428, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["UsersManage"]))
)]
#[patch("/users/{id:[0-9]+}")]
pub async fn update_user(
    auth: Authorized<can::UsersManage>,
    pool: web::Data<DbPool>,
    req: HttpRequest,
    id: web::Path<i64>,
    body: ValidatedJson<UpdateUserRequest>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let version = if_match(&req)?;
    let actor = Actor::user(&auth);
    let body = body.into_inner();
    let user = db::write(&pool, move |conn| {
        service::update_user(conn, &actor, id, version, body)
    })
    .await?;
    Ok(with_etag(user.version, &user))
}

/// Set a new password for a user (administrators); revokes the user's sessions.
#[utoipa::path(
    tag = "users",
    params(("id" = i64, Path)),
    request_body = ResetPasswordRequest,
    responses(
        (status = 204, description = "Password set; sessions revoked"),
        (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["UsersManage"]))
)]
#[post("/users/{id:[0-9]+}/reset-password")]
pub async fn reset_password(
    auth: Authorized<can::UsersManage>,
    pool: web::Data<DbPool>,
    passwords: web::Data<PasswordWork>,
    id: web::Path<i64>,
    body: ValidatedJson<ResetPasswordRequest>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let user = db::run(&pool, move |conn| service::get_user(conn, id)).await?;
    let new_password = body.into_inner().new_password;
    service::check_password("new_password", &new_password, &user.username)?;
    let hash = passwords.hash(new_password).await?;
    let actor = Actor::user(&auth);
    db::write(&pool, move |conn| {
        service::set_password(conn, &actor, id, &hash, "user.password_reset")
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

// ---------------------------------------------------------------- units

/// List units (district, townships, departments).
#[utoipa::path(
    tag = "units",
    params(UnitQuery),
    responses(
        (status = 200, body = inline(Page<UnitView>)),
        (status = 400, body = Problem, content_type = "application/problem+json"), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["UnitsRead"]))
)]
#[get("/units")]
pub async fn list_units(
    _auth: Authorized<can::UnitsRead>,
    pool: web::Data<DbPool>,
    query: ValidatedQuery<UnitQuery>,
) -> Result<web::Json<Page<UnitView>>, ApiError> {
    let query = query.into_inner();
    Ok(web::Json(
        db::run(&pool, move |conn| service::list_units(conn, query)).await?,
    ))
}

/// Create a unit.
#[utoipa::path(
    tag = "units",
    request_body = CreateUnitRequest,
    responses(
        (status = 201, body = UnitView),
        (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["UnitsManage"]))
)]
#[post("/units")]
pub async fn create_unit(
    auth: Authorized<can::UnitsManage>,
    pool: web::Data<DbPool>,
    body: ValidatedJson<CreateUnitRequest>,
) -> Result<HttpResponse, ApiError> {
    let actor = Actor::user(&auth);
    let body = body.into_inner();
    let unit = db::write(&pool, move |conn| service::create_unit(conn, &actor, body)).await?;
    Ok(created(format!("/api/v1/units/{}", unit.id), &unit))
}

/// One unit; the ETag is the record's version.
#[utoipa::path(
    tag = "units",
    params(("id" = i64, Path)),
    responses(
        (status = 200, body = UnitView, headers(("ETag" = String))),
        (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["UnitsRead"]))
)]
#[get("/units/{id:[0-9]+}")]
pub async fn get_unit(
    _auth: Authorized<can::UnitsRead>,
    pool: web::Data<DbPool>,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let unit = db::run(&pool, move |conn| service::get_unit(conn, id)).await?;
    Ok(with_etag(unit.version, &unit))
}

/// Rename, re-parent, set the division code of, or (de)activate a unit (`If-Match` required).
#[utoipa::path(
    tag = "units",
    params(("id" = i64, Path), ("If-Match" = String, Header, description = "The ETag read")),
    request_body = UpdateUnitRequest,
    responses(
        (status = 200, body = UnitView, headers(("ETag" = String))),
        (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"), (status = 412, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json"),
        (status = 428, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["UnitsManage"]))
)]
#[patch("/units/{id:[0-9]+}")]
pub async fn update_unit(
    auth: Authorized<can::UnitsManage>,
    pool: web::Data<DbPool>,
    req: HttpRequest,
    id: web::Path<i64>,
    body: ValidatedJson<UpdateUnitRequest>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let version = if_match(&req)?;
    let actor = Actor::user(&auth);
    let body = body.into_inner();
    let unit = db::write(&pool, move |conn| {
        service::update_unit(conn, &actor, id, version, body)
    })
    .await?;
    Ok(with_etag(unit.version, &unit))
}
