//! The signed-in user's notifications.

use actix_web::{get, post, web};

use super::{NotificationQuery, NotificationView};
use crate::audit::Actor;
use crate::auth::AuthUser;
use crate::clock::Clock;
use crate::db::{self, DbPool};
use crate::error::{ApiError, Problem};
use crate::web::{Page, ValidatedQuery};

/// One's own notifications, newest first.
#[utoipa::path(tag = "notifications", params(NotificationQuery),
    responses((status = 200, body = inline(Page<NotificationView>)), (status = 400, body = Problem, content_type = "application/problem+json"), (status = 401, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
#[get("/me/notifications")]
pub async fn my_notifications(
    auth: AuthUser,
    pool: web::Data<DbPool>,
    query: ValidatedQuery<NotificationQuery>,
) -> Result<web::Json<Page<NotificationView>>, ApiError> {
    let query = query.into_inner();
    Ok(web::Json(
        db::run(&pool, move |conn| super::list(conn, auth.id, query)).await?,
    ))
}

/// Mark one of one's notifications read.
#[utoipa::path(tag = "notifications", params(("id" = i64, Path)),
    responses((status = 200, body = NotificationView), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
#[post("/notifications/{id:[0-9]+}/read")]
pub async fn mark_read(
    auth: AuthUser,
    pool: web::Data<DbPool>,
    clock: web::Data<Clock>,
    id: web::Path<i64>,
) -> Result<web::Json<NotificationView>, ApiError> {
    let id = id.into_inner();
    let at = clock.now_naive();
    let actor = Actor::user(&auth);
    Ok(web::Json(
        db::write(&pool, move |conn| super::mark_read(conn, &actor, id, at)).await?,
    ))
}
