//! Thin handlers of the direct channel.

use actix_web::http::header;
use actix_web::{get, post, web, HttpRequest, HttpResponse};

use super::dto::*;
use super::service::{self, Due, Scope};
use super::stats::{self, SuggestionStats};
use crate::audit::Actor;
use crate::auth::{can, AuthUser, Authorized, Permission, Role};
use crate::clock::Clock;
use crate::db::{self, DbPool};
use crate::error::{ApiError, Problem};
use crate::web::{Page, ValidatedJson, ValidatedQuery};

/// What the caller may see: staff everything; a leader what was presented to it; a department
/// what was assigned to its unit; a representative what it submitted or was asked to co-sign.
fn scope(user: &AuthUser) -> Scope {
    if user.has(Permission::SuggestionsReadAll) {
        Scope::All
    } else if user.roles.contains(&Role::Leader) {
        Scope::Leader(user.id)
    } else if user.roles.contains(&Role::Department) {
        user.unit_id.map_or(Scope::Nothing, Scope::Department)
    } else if user.roles.contains(&Role::Representative) {
        user.cadre_id.map_or(Scope::Nothing, Scope::Representative)
    } else {
        Scope::Nothing
    }
}

fn own_cadre(user: &AuthUser) -> Result<i64, ApiError> {
    user.cadre_id.ok_or_else(|| {
        ApiError::conflict(
            "no_linked_cadre",
            "your account is not linked to a cadre record",
        )
    })
}

fn own_unit(user: &AuthUser) -> Result<i64, ApiError> {
    user.unit_id.ok_or(ApiError::NotFound)
}

/// Submit a suggestion. Send `Idempotency-Key` to make retries safe: the same key and body
/// answer the first result (200), the same key with another body 422.
#[utoipa::path(tag = "suggestions", request_body = SubmitRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retried submission safe (1 to 100 characters)")),
    responses((status = 201, body = SuggestionView), (status = 200, body = SuggestionView, description = "A retry: the first result"), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 409, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = ["SuggestionsSubmit"])))]
#[post("/suggestions")]
pub async fn submit(
    auth: Authorized<can::SuggestionsSubmit>,
    pool: web::Data<DbPool>,
    clock: web::Data<Clock>,
    req: HttpRequest,
    body: ValidatedJson<SubmitRequest>,
) -> Result<HttpResponse, ApiError> {
    let key = match req.headers().get("idempotency-key") {
        None => None,
        Some(value) => Some(
            value
                .to_str()
                .ok()
                .map(str::trim)
                .filter(|k| (1..=100).contains(&k.len()))
                .ok_or_else(|| {
                    ApiError::bad_request(
                        "invalid_idempotency_key",
                        "Idempotency-Key must be 1 to 100 visible characters",
                    )
                })?
                .to_owned(),
        ),
    };
    let cadre = own_cadre(&auth)?;
    let actor = Actor::user(&auth);
    let (input, now) = (body.into_inner(), clock.now_naive());
    let (view, created) = db::write(&pool, move |conn| {
        service::submit(conn, &actor, cadre, input, key, now)
    })
    .await?;
    let mut response = if created {
        HttpResponse::Created()
    } else {
        HttpResponse::Ok()
    };
    Ok(response
        .insert_header((header::LOCATION, format!("/api/v1/suggestions/{}", view.id)))
        .json(view))
}

/// Suggestions the caller may see, newest first.
#[utoipa::path(tag = "suggestions", params(SuggestionQuery),
    responses((status = 200, body = inline(Page<SuggestionSummary>)), (status = 400, body = Problem, content_type = "application/problem+json"), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = ["SuggestionsRead"])))]
#[get("/suggestions")]
pub async fn list(
    auth: Authorized<can::SuggestionsRead>,
    pool: web::Data<DbPool>,
    query: ValidatedQuery<SuggestionQuery>,
) -> Result<web::Json<Page<SuggestionSummary>>, ApiError> {
    let (scope, query) = (scope(&auth), query.into_inner());
    Ok(web::Json(
        db::run(&pool, move |conn| service::list(conn, scope, query)).await?,
    ))
}

/// Open assignments past their due date (a department: its own).
#[utoipa::path(tag = "suggestions", params(AssignmentQuery),
    responses((status = 200, body = Vec<AssignmentView>), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = ["AssignmentsRead"])))]
#[get("/suggestions/overdue")]
pub async fn overdue(
    auth: Authorized<can::AssignmentsRead>,
    pool: web::Data<DbPool>,
    clock: web::Data<Clock>,
    query: ValidatedQuery<AssignmentQuery>,
) -> Result<web::Json<Vec<AssignmentView>>, ApiError> {
    let (scope, query, today) = (scope(&auth), query.into_inner(), clock.today());
    Ok(web::Json(
        db::run(&pool, move |conn| {
            service::assignments(conn, scope, query, Some(Due::Overdue), today)
        })
        .await?,
    ))
}

/// Open assignments due within 7 days (a department: its own).
#[utoipa::path(tag = "suggestions", params(AssignmentQuery),
    responses((status = 200, body = Vec<AssignmentView>), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = ["AssignmentsRead"])))]
#[get("/suggestions/due-soon")]
pub async fn due_soon(
    auth: Authorized<can::AssignmentsRead>,
    pool: web::Data<DbPool>,
    clock: web::Data<Clock>,
    query: ValidatedQuery<AssignmentQuery>,
) -> Result<web::Json<Vec<AssignmentView>>, ApiError> {
    let (scope, query, today) = (scope(&auth), query.into_inner(), clock.today());
    Ok(web::Json(
        db::run(&pool, move |conn| {
            service::assignments(conn, scope, query, Some(Due::Soon), today)
        })
        .await?,
    ))
}

/// One suggestion with its whole history (another department's internal notes are left out).
#[utoipa::path(tag = "suggestions", params(("id" = i64, Path)),
    responses((status = 200, body = SuggestionView), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = ["SuggestionsRead"])))]
#[get("/suggestions/{id:[0-9]+}")]
pub async fn get_one(
    auth: Authorized<can::SuggestionsRead>,
    pool: web::Data<DbPool>,
    clock: web::Data<Clock>,
    id: web::Path<i64>,
) -> Result<web::Json<SuggestionView>, ApiError> {
    let (scope, id, today) = (scope(&auth), id.into_inner(), clock.today());
    Ok(web::Json(
        db::run(&pool, move |conn| service::get(conn, scope, id, today)).await?,
    ))
}

/// A write on one suggestion: its permission, request body and service call. The permission is
/// named twice, as a type and as the `$scope` literal, because utoipa reads an operation's
/// security scopes as string literals and a macro cannot `stringify!` inside that attribute.
macro_rules! suggestion_action {
    ($(#[$doc:meta])* $name:ident, $path:literal, $perm:ident, $scope:literal, $body:ty, |$conn:ident, $actor:ident, $auth:ident, $id:ident, $input:ident, $now:ident| $call:expr) => {
        $(#[$doc])*
        #[utoipa::path(tag = "suggestions", params(("id" = i64, Path)), request_body = $body,
            responses((status = 200, body = SuggestionView), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json"), (status = 409, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json")),
            security(("bearer" = [$scope])))]
        #[post($path)]
        pub async fn $name($auth: Authorized<can::$perm>, pool: web::Data<DbPool>, clock: web::Data<Clock>, id: web::Path<i64>, body: ValidatedJson<$body>) -> Result<web::Json<SuggestionView>, ApiError> {
            let $actor = Actor::user(&$auth);
            let ($id, $input, $now) = (id.into_inner(), body.into_inner(), clock.now_naive());
            Ok(web::Json(db::write(&pool, move |$conn| $call).await?))
        }
    };
}

suggestion_action!(
    /// Add a supplement (the original text never changes).
    add_supplement, "/suggestions/{id}/supplements", SuggestionsSubmit, "SuggestionsSubmit", SupplementRequest,
    |conn, actor, auth, id, input, now| service::add_supplement(conn, &actor, own_cadre(&auth)?, id, &input.text, now)
);

suggestion_action!(
    /// Accept (`accept`), refuse with a reason code and explanation (`not_accept`), or merge
    /// into another suggestion (`merge`) — UFWD staff, from `submitted` only.
    intake, "/suggestions/{id}/intake", SuggestionsManage, "SuggestionsManage", IntakeRequest,
    |conn, actor, _auth, id, input, now| service::intake(conn, &actor, id, input, now)
);

suggestion_action!(
    /// Present an accepted suggestion to one or more leaders.
    present, "/suggestions/{id}/present", SuggestionsManage, "SuggestionsManage", PresentRequest,
    |conn, actor, _auth, id, input, now| service::present(conn, &actor, id, &input.leader_ids, now)
);

suggestion_action!(
    /// A leader's instruction (批示): the text, the lead department, co-handling departments
    /// and the deadline. Only a leader it was presented to, in the current round.
    instruct, "/suggestions/{id}/instructions", SuggestionsInstruct, "SuggestionsInstruct", InstructionRequest,
    |conn, actor, auth, id, input, now| service::instruct(conn, &actor, auth.id, id, input, now)
);

suggestion_action!(
    /// The author rates the reply: satisfied or basically satisfied close it; unsatisfied (with
    /// a comment) opens a new handling round and returns it to the leaders.
    evaluate, "/suggestions/{id}/evaluation", SuggestionsSubmit, "SuggestionsSubmit", EvaluationRequest,
    |conn, actor, auth, id, input, now| service::evaluate(conn, &actor, own_cadre(&auth)?, id, input, now)
);

suggestion_action!(
    /// Close a suggestion with a reason (UFWD staff).
    close, "/suggestions/{id}/close", SuggestionsManage, "SuggestionsManage", CloseRequest,
    |conn, actor, _auth, id, input, now| service::close(conn, &actor, id, &input.reason, now)
);

/// A co-signer confirms, within 7 days of submission.
#[utoipa::path(tag = "suggestions", params(("id" = i64, Path)),
    responses((status = 200, body = SuggestionView), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json"), (status = 409, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = ["SuggestionsSubmit"])))]
#[post("/suggestions/{id:[0-9]+}/cosign")]
pub async fn cosign(
    auth: Authorized<can::SuggestionsSubmit>,
    pool: web::Data<DbPool>,
    clock: web::Data<Clock>,
    id: web::Path<i64>,
) -> Result<web::Json<SuggestionView>, ApiError> {
    let cadre = own_cadre(&auth)?;
    let actor = Actor::user(&auth);
    let (id, now) = (id.into_inner(), clock.now_naive());
    Ok(web::Json(
        db::write(&pool, move |conn| {
            service::cosign(conn, &actor, cadre, id, now)
        })
        .await?,
    ))
}

/// Assignments (a department: its own unit's; staff: all, or one unit's).
#[utoipa::path(tag = "suggestions", params(AssignmentQuery),
    responses((status = 200, body = Vec<AssignmentView>), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = ["AssignmentsRead"])))]
#[get("/assignments")]
pub async fn list_assignments(
    auth: Authorized<can::AssignmentsRead>,
    pool: web::Data<DbPool>,
    clock: web::Data<Clock>,
    query: ValidatedQuery<AssignmentQuery>,
) -> Result<web::Json<Vec<AssignmentView>>, ApiError> {
    let (scope, query, today) = (scope(&auth), query.into_inner(), clock.today());
    Ok(web::Json(
        db::run(&pool, move |conn| {
            service::assignments(conn, scope, query, None, today)
        })
        .await?,
    ))
}

macro_rules! assignment_action {
    ($(#[$doc:meta])* $name:ident, $path:literal, $body:ty, $out:ty, |$conn:ident, $actor:ident, $unit:ident, $id:ident, $input:ident, $now:ident| $call:expr) => {
        $(#[$doc])*
        #[utoipa::path(tag = "suggestions", params(("id" = i64, Path)), request_body = $body,
            responses((status = 200, body = $out), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json"), (status = 409, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json")),
            security(("bearer" = ["AssignmentsHandle"])))]
        #[post($path)]
        pub async fn $name(auth: Authorized<can::AssignmentsHandle>, pool: web::Data<DbPool>, clock: web::Data<Clock>, id: web::Path<i64>, body: ValidatedJson<$body>) -> Result<web::Json<$out>, ApiError> {
            let $unit = own_unit(&auth)?;
            let $actor = Actor::user(&auth);
            let ($id, $input, $now) = (id.into_inner(), body.into_inner(), clock.now_naive());
            Ok(web::Json(db::write(&pool, move |$conn| $call).await?))
        }
    };
}

assignment_action!(
    /// Report progress (after acknowledging), optionally replacing the department's own notes.
    report_progress, "/assignments/{id}/progress", ProgressRequest, AssignmentView,
    |conn, actor, unit, id, input, now| service::report_progress(conn, &actor, unit, id, input, now)
);

assignment_action!(
    /// Ask for an extension (`requested_due_on`) or to return a wrongly assigned item; UFWD
    /// staff decide.
    request_change, "/assignments/{id}/extension-requests", AssignmentRequestInput, AssignmentRequestView,
    |conn, actor, unit, id, input, now| service::request_change(conn, &actor, unit, id, input, now)
);

assignment_action!(
    /// Reply with the result and an explanation (after acknowledging).
    reply, "/assignments/{id}/reply", ReplyRequest, AssignmentView,
    |conn, actor, unit, id, input, now| service::reply(conn, &actor, unit, id, input, now)
);

/// Acknowledge receipt of an assignment (签收).
#[utoipa::path(tag = "suggestions", params(("id" = i64, Path)),
    responses((status = 200, body = AssignmentView), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json"), (status = 409, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = ["AssignmentsHandle"])))]
#[post("/assignments/{id:[0-9]+}/acknowledge")]
pub async fn acknowledge(
    auth: Authorized<can::AssignmentsHandle>,
    pool: web::Data<DbPool>,
    clock: web::Data<Clock>,
    id: web::Path<i64>,
) -> Result<web::Json<AssignmentView>, ApiError> {
    let unit = own_unit(&auth)?;
    let actor = Actor::user(&auth);
    let (id, now) = (id.into_inner(), clock.now_naive());
    Ok(web::Json(
        db::write(&pool, move |conn| {
            service::acknowledge(conn, &actor, unit, id, now)
        })
        .await?,
    ))
}

/// Decide an extension or return request (UFWD staff), with a reason.
#[utoipa::path(tag = "suggestions", params(("id" = i64, Path)), request_body = RequestDecision,
    responses((status = 200, body = AssignmentRequestView), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json"), (status = 409, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = ["SuggestionsManage"])))]
#[post("/extension-requests/{id:[0-9]+}/decision")]
pub async fn decide_request(
    auth: Authorized<can::SuggestionsManage>,
    pool: web::Data<DbPool>,
    clock: web::Data<Clock>,
    id: web::Path<i64>,
    body: ValidatedJson<RequestDecision>,
) -> Result<web::Json<AssignmentRequestView>, ApiError> {
    let actor = Actor::user(&auth);
    let (id, input, now) = (id.into_inner(), body.into_inner(), clock.now_naive());
    Ok(web::Json(
        db::write(&pool, move |conn| {
            service::decide_request(conn, &actor, id, input, now)
        })
        .await?,
    ))
}

/// Figures over a period of submission: by status, category, department and month, and the
/// acceptance, instruction, on-time, adoption and satisfaction rates.
#[utoipa::path(tag = "suggestions", params(StatsQuery),
    responses((status = 200, body = SuggestionStats), (status = 400, body = Problem, content_type = "application/problem+json"), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = ["SuggestionsStats"])))]
#[get("/stats/suggestions")]
pub async fn suggestion_stats(
    _auth: Authorized<can::SuggestionsStats>,
    pool: web::Data<DbPool>,
    clock: web::Data<Clock>,
    query: ValidatedQuery<StatsQuery>,
) -> Result<web::Json<SuggestionStats>, ApiError> {
    let query = query.into_inner();
    let now = clock.now();
    let (from, to) = crate::figures::period(query.from, query.to, now)?;
    let today = now.date_naive();
    Ok(web::Json(
        db::run(&pool, move |conn| stats::compute(conn, from, to, today)).await?,
    ))
}
