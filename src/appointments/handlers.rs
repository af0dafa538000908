//! Thin handlers of appointment and evaluation.

use actix_web::{get, post, web, HttpResponse};

use super::dto::*;
use super::overview::{self, Overview};
use super::{evaluation, pool, records};
use crate::audit::Actor;
use crate::auth::{can, AuthUser, Authorized, Permission};
use crate::clock::Clock;
use crate::db::{self, DbPool};
use crate::error::{ApiError, Problem};
use crate::web::{ValidatedJson, ValidatedQuery};

/// Staff who read appointments, or a representative asking about itself; others 404.
fn check_own_or(user: &AuthUser, permission: Permission, cadre_id: i64) -> Result<(), ApiError> {
    if user.has(permission) || user.cadre_id == Some(cadre_id) {
        Ok(())
    } else {
        Err(ApiError::NotFound)
    }
}

/// The talent pool, optionally by stage or cadre.
#[utoipa::path(tag = "appointments", params(EntryQuery), responses((status = 200, body = Vec<EntryView>), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json")), security(("bearer" = ["PoolRead"])))]
#[get("/talent-pool")]
pub async fn list_entries(
    _auth: Authorized<can::PoolRead>,
    pool: web::Data<DbPool>,
    clock: web::Data<Clock>,
    query: ValidatedQuery<EntryQuery>,
) -> Result<web::Json<Vec<EntryView>>, ApiError> {
    let (query, today) = (query.into_inner(), clock.today());
    Ok(web::Json(
        db::run(&pool, move |conn| pool::list_entries(conn, query, today)).await?,
    ))
}

/// Enter a cadre into the talent pool, with how it was found.
#[utoipa::path(tag = "appointments", request_body = CreateEntryRequest, responses((status = 201, body = EntryView), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 409, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json")), security(("bearer" = ["PoolManage"])))]
#[post("/talent-pool")]
pub async fn create_entry(
    auth: Authorized<can::PoolManage>,
    db_pool: web::Data<DbPool>,
    clock: web::Data<Clock>,
    body: ValidatedJson<CreateEntryRequest>,
) -> Result<HttpResponse, ApiError> {
    let actor = Actor::user(&auth);
    let (input, now) = (body.into_inner(), clock.now_naive());
    let entry = db::write(&db_pool, move |conn| {
        pool::create_entry(conn, &actor, input, now)
    })
    .await?;
    Ok(HttpResponse::Created().json(entry))
}

/// One entry with its moves, time in stage, and approvals.
#[utoipa::path(tag = "appointments", params(("id" = i64, Path)), responses((status = 200, body = EntryView), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json")), security(("bearer" = ["PoolRead"])))]
#[get("/talent-pool/{id:[0-9]+}")]
pub async fn get_entry(
    _auth: Authorized<can::PoolRead>,
    db_pool: web::Data<DbPool>,
    clock: web::Data<Clock>,
    id: web::Path<i64>,
) -> Result<web::Json<EntryView>, ApiError> {
    let (id, today) = (id.into_inner(), clock.today());
    Ok(web::Json(
        db::run(&db_pool, move |conn| pool::get_entry(conn, id, today)).await?,
    ))
}

/// Move an entry to the next stage (to `inspected` or `decided`: propose, for joint approval),
/// or withdraw it with a reason. `appointed` needs an appointment record.
#[utoipa::path(tag = "appointments", params(("id" = i64, Path)), request_body = StageRequest, responses((status = 200, body = EntryView), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json"), (status = 409, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json")), security(("bearer" = ["PoolManage"])))]
#[post("/talent-pool/{id:[0-9]+}/transitions")]
pub async fn transition(
    auth: Authorized<can::PoolManage>,
    db_pool: web::Data<DbPool>,
    clock: web::Data<Clock>,
    id: web::Path<i64>,
    body: ValidatedJson<StageRequest>,
) -> Result<web::Json<EntryView>, ApiError> {
    let actor = Actor::user(&auth);
    let (id, input, now) = (id.into_inner(), body.into_inner(), clock.now_naive());
    Ok(web::Json(
        db::write(&db_pool, move |conn| {
            pool::transition(conn, &actor, id, input, now)
        })
        .await?,
    ))
}

/// Approve or reject a proposed move: one approval from each department, not the proposer.
#[utoipa::path(tag = "appointments", params(("id" = i64, Path)), request_body = ApprovalRequest, responses((status = 200, body = EntryView), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json"), (status = 409, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json")), security(("bearer" = ["PoolApprove"])))]
#[post("/talent-pool/{id:[0-9]+}/approvals")]
pub async fn approve(
    auth: Authorized<can::PoolApprove>,
    db_pool: web::Data<DbPool>,
    clock: web::Data<Clock>,
    id: web::Path<i64>,
    body: ValidatedJson<ApprovalRequest>,
) -> Result<web::Json<EntryView>, ApiError> {
    let actor = Actor::user(&auth);
    let roles = auth.roles.clone();
    let (id, input, now) = (id.into_inner(), body.into_inner(), clock.now_naive());
    Ok(web::Json(
        db::write(&db_pool, move |conn| {
            pool::approve(conn, &actor, &roles, id, input, now)
        })
        .await?,
    ))
}

/// A cadre's cultivation records.
#[utoipa::path(tag = "appointments", params(("id" = i64, Path)), responses((status = 200, body = Vec<CultivationView>), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json")), security(("bearer" = ["PoolRead"])))]
#[get("/cadres/{id:[0-9]+}/cultivation")]
pub async fn list_cultivation(
    _auth: Authorized<can::PoolRead>,
    db_pool: web::Data<DbPool>,
    id: web::Path<i64>,
) -> Result<web::Json<Vec<CultivationView>>, ApiError> {
    let id = id.into_inner();
    Ok(web::Json(
        db::run(&db_pool, move |conn| pool::cultivations_of(conn, id)).await?,
    ))
}

/// Record training, a secondment (挂职) or a practice post.
#[utoipa::path(tag = "appointments", params(("id" = i64, Path)), request_body = CultivationRequest, responses((status = 201, body = CultivationView), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json")), security(("bearer" = ["CultivationWrite"])))]
#[post("/cadres/{id:[0-9]+}/cultivation")]
pub async fn add_cultivation(
    auth: Authorized<can::CultivationWrite>,
    db_pool: web::Data<DbPool>,
    clock: web::Data<Clock>,
    id: web::Path<i64>,
    body: ValidatedJson<CultivationRequest>,
) -> Result<HttpResponse, ApiError> {
    let actor = Actor::user(&auth);
    let (id, input, now) = (id.into_inner(), body.into_inner(), clock.now_naive());
    let view = db::write(&db_pool, move |conn| {
        pool::add_cultivation(conn, &actor, id, input, now)
    })
    .await?;
    Ok(HttpResponse::Created().json(view))
}

/// Recommendations, optionally of one cadre.
#[utoipa::path(tag = "appointments", params(RecommendationQuery), responses((status = 200, body = Vec<RecommendationView>), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json")), security(("bearer" = ["PoolRead"])))]
#[get("/recommendations")]
pub async fn list_recommendations(
    _auth: Authorized<can::PoolRead>,
    db_pool: web::Data<DbPool>,
    query: ValidatedQuery<RecommendationQuery>,
) -> Result<web::Json<Vec<RecommendationView>>, ApiError> {
    let query = query.into_inner();
    Ok(web::Json(
        db::run(&db_pool, move |conn| {
            pool::recommendations_list(conn, query)
        })
        .await?,
    ))
}

/// Record a recommendation: by whom, for which kind of post, why.
#[utoipa::path(tag = "appointments", request_body = RecommendationRequest, responses((status = 201, body = RecommendationView), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json")), security(("bearer" = ["CultivationWrite"])))]
#[post("/recommendations")]
pub async fn add_recommendation(
    auth: Authorized<can::CultivationWrite>,
    db_pool: web::Data<DbPool>,
    clock: web::Data<Clock>,
    body: ValidatedJson<RecommendationRequest>,
) -> Result<HttpResponse, ApiError> {
    let actor = Actor::user(&auth);
    let (input, now) = (body.into_inner(), clock.now_naive());
    let view = db::write(&db_pool, move |conn| {
        pool::add_recommendation(conn, &actor, input, now)
    })
    .await?;
    Ok(HttpResponse::Created().json(view))
}

/// A cadre's current appointment records (a representative: its own).
#[utoipa::path(tag = "appointments", params(("id" = i64, Path)), responses((status = 200, body = Vec<AppointmentView>), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json")), security(("bearer" = ["AppointmentsView"])))]
#[get("/cadres/{id:[0-9]+}/appointments")]
pub async fn list_appointments(
    auth: Authorized<can::AppointmentsView>,
    db_pool: web::Data<DbPool>,
    clock: web::Data<Clock>,
    id: web::Path<i64>,
) -> Result<web::Json<Vec<AppointmentView>>, ApiError> {
    let (id, now) = (id.into_inner(), clock.now_naive());
    check_own_or(&auth, Permission::AppointmentsRead, id)?;
    Ok(web::Json(
        db::run(&db_pool, move |conn| records::current(conn, id, now)).await?,
    ))
}

/// Record an appointment, removal or transfer.
#[utoipa::path(tag = "appointments", params(("id" = i64, Path)), request_body = AppointmentRequest, responses((status = 201, body = AppointmentView), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json")), security(("bearer" = ["AppointmentsWrite"])))]
#[post("/cadres/{id:[0-9]+}/appointments")]
pub async fn create_appointment(
    auth: Authorized<can::AppointmentsWrite>,
    db_pool: web::Data<DbPool>,
    clock: web::Data<Clock>,
    id: web::Path<i64>,
    body: ValidatedJson<AppointmentRequest>,
) -> Result<HttpResponse, ApiError> {
    let actor = Actor::user(&auth);
    let (id, input, now) = (id.into_inner(), body.into_inner(), clock.now_naive());
    let view = db::write(&db_pool, move |conn| {
        records::create(conn, &actor, id, input, now)
    })
    .await?;
    Ok(HttpResponse::Created().json(view))
}

/// Correct a record: a new record supersedes it, with the reason; both stay visible.
#[utoipa::path(tag = "appointments", params(("id" = i64, Path)), request_body = CorrectionRequest, responses((status = 201, body = AppointmentView), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json"), (status = 409, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json")), security(("bearer" = ["AppointmentsWrite"])))]
#[post("/appointments/{id:[0-9]+}/corrections")]
pub async fn correct_appointment(
    auth: Authorized<can::AppointmentsWrite>,
    db_pool: web::Data<DbPool>,
    clock: web::Data<Clock>,
    id: web::Path<i64>,
    body: ValidatedJson<CorrectionRequest>,
) -> Result<HttpResponse, ApiError> {
    let actor = Actor::user(&auth);
    let (id, input, now) = (id.into_inner(), body.into_inner(), clock.now_naive());
    let view = db::write(&db_pool, move |conn| {
        records::correct(conn, &actor, id, input, now)
    })
    .await?;
    Ok(HttpResponse::Created().json(view))
}

/// What the system recorded as current at the end of `as_of` (default today), who recorded
/// each record and when, and every correction.
#[utoipa::path(tag = "appointments", params(("id" = i64, Path), HistoryQuery), responses((status = 200, body = History), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json")), security(("bearer" = ["AppointmentsView"])))]
#[get("/cadres/{id:[0-9]+}/appointments/history")]
pub async fn history(
    auth: Authorized<can::AppointmentsView>,
    db_pool: web::Data<DbPool>,
    clock: web::Data<Clock>,
    id: web::Path<i64>,
    query: ValidatedQuery<HistoryQuery>,
) -> Result<web::Json<History>, ApiError> {
    let id = id.into_inner();
    check_own_or(&auth, Permission::AppointmentsRead, id)?;
    let as_of = query.into_inner().as_of.unwrap_or(clock.today());
    Ok(web::Json(
        db::run(&db_pool, move |conn| records::history(conn, id, as_of)).await?,
    ))
}

/// Annual assessments, by cadre or year.
#[utoipa::path(tag = "appointments", params(AssessmentQuery), responses((status = 200, body = Vec<AssessmentView>), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json")), security(("bearer" = ["AssessmentsRead"])))]
#[get("/assessments")]
pub async fn list_assessments(
    _auth: Authorized<can::AssessmentsRead>,
    db_pool: web::Data<DbPool>,
    query: ValidatedQuery<AssessmentQuery>,
) -> Result<web::Json<Vec<AssessmentView>>, ApiError> {
    let query = query.into_inner();
    Ok(web::Json(
        db::run(&db_pool, move |conn| {
            evaluation::list_assessments(conn, query)
        })
        .await?,
    ))
}

/// Record a cadre's annual assessment (one per year).
#[utoipa::path(tag = "appointments", request_body = AssessmentRequest, responses((status = 201, body = AssessmentView), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 409, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json")), security(("bearer" = ["AssessmentsWrite"])))]
#[post("/assessments")]
pub async fn record_assessment(
    auth: Authorized<can::AssessmentsWrite>,
    db_pool: web::Data<DbPool>,
    clock: web::Data<Clock>,
    body: ValidatedJson<AssessmentRequest>,
) -> Result<HttpResponse, ApiError> {
    let actor = Actor::user(&auth);
    let (input, now) = (body.into_inner(), clock.now_naive());
    let view = db::write(&db_pool, move |conn| {
        evaluation::record_assessment(conn, &actor, input, now)
    })
    .await?;
    Ok(HttpResponse::Created().json(view))
}

/// Evaluation cycles.
#[utoipa::path(tag = "appointments", responses((status = 200, body = Vec<CycleView>), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json")), security(("bearer" = ["EvaluationsView"])))]
#[get("/evaluation-cycles")]
pub async fn list_cycles(
    _auth: Authorized<can::EvaluationsView>,
    db_pool: web::Data<DbPool>,
) -> Result<web::Json<Vec<CycleView>>, ApiError> {
    Ok(web::Json(db::run(&db_pool, evaluation::cycles).await?))
}

/// Open an evaluation cycle with named, weighted criteria.
#[utoipa::path(tag = "appointments", request_body = CycleRequest, responses((status = 201, body = CycleView), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json")), security(("bearer" = ["EvaluationsManage"])))]
#[post("/evaluation-cycles")]
pub async fn create_cycle(
    auth: Authorized<can::EvaluationsManage>,
    db_pool: web::Data<DbPool>,
    clock: web::Data<Clock>,
    body: ValidatedJson<CycleRequest>,
) -> Result<HttpResponse, ApiError> {
    let actor = Actor::user(&auth);
    let (input, now) = (body.into_inner(), clock.now_naive());
    let view = db::write(&db_pool, move |conn| {
        evaluation::create_cycle(conn, &actor, input, now)
    })
    .await?;
    Ok(HttpResponse::Created().json(view))
}

/// Close a cycle: its ratings and results become visible to the readers.
#[utoipa::path(tag = "appointments", params(("id" = i64, Path)), responses((status = 200, body = CycleView), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json"), (status = 409, body = Problem, content_type = "application/problem+json")), security(("bearer" = ["EvaluationsManage"])))]
#[post("/evaluation-cycles/{id:[0-9]+}/close")]
pub async fn close_cycle(
    auth: Authorized<can::EvaluationsManage>,
    db_pool: web::Data<DbPool>,
    clock: web::Data<Clock>,
    id: web::Path<i64>,
) -> Result<web::Json<CycleView>, ApiError> {
    let actor = Actor::user(&auth);
    let (id, now) = (id.into_inner(), clock.now_naive());
    Ok(web::Json(
        db::write(&db_pool, move |conn| {
            evaluation::close_cycle(conn, &actor, id, now)
        })
        .await?,
    ))
}

/// The ratings one may see: one's own while the cycle is open; all, with the results, after.
#[utoipa::path(tag = "appointments", params(("id" = i64, Path)), responses((status = 200, body = CycleRatings), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json")), security(("bearer" = ["EvaluationsView"])))]
#[get("/evaluation-cycles/{id:[0-9]+}/ratings")]
pub async fn list_ratings(
    auth: Authorized<can::EvaluationsView>,
    db_pool: web::Data<DbPool>,
    id: web::Path<i64>,
) -> Result<web::Json<CycleRatings>, ApiError> {
    let (id, rater, reads_all) = (
        id.into_inner(),
        auth.id,
        auth.has(Permission::EvaluationsReadAll),
    );
    Ok(web::Json(
        db::run(&db_pool, move |conn| {
            evaluation::ratings(conn, rater, reads_all, id)
        })
        .await?,
    ))
}

/// Rate a cadre on every criterion of an open cycle (UFWD, Organization Department, or a user
/// of the cadre's own unit).
#[utoipa::path(tag = "appointments", params(("id" = i64, Path)), request_body = RatingRequest, responses((status = 201, body = RatingView), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json"), (status = 409, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json")), security(("bearer" = ["EvaluationsRate"])))]
#[post("/evaluation-cycles/{id:[0-9]+}/ratings")]
pub async fn rate(
    auth: Authorized<can::EvaluationsRate>,
    db_pool: web::Data<DbPool>,
    clock: web::Data<Clock>,
    id: web::Path<i64>,
    body: ValidatedJson<RatingRequest>,
) -> Result<HttpResponse, ApiError> {
    let actor = Actor::user(&auth);
    let (roles, unit) = (auth.roles.clone(), auth.unit_id);
    let (id, input, now) = (id.into_inner(), body.into_inner(), clock.now_naive());
    let view = db::write(&db_pool, move |conn| {
        evaluation::rate(conn, &actor, &roles, unit, id, input, now)
    })
    .await?;
    Ok(HttpResponse::Created().json(view))
}

/// Appointment targets.
#[utoipa::path(tag = "appointments", responses((status = 200, body = Vec<TargetView>), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json")), security(("bearer" = ["AppointmentsRead"])))]
#[get("/appointment-targets")]
pub async fn list_targets(
    _auth: Authorized<can::AppointmentsRead>,
    db_pool: web::Data<DbPool>,
) -> Result<web::Json<Vec<TargetView>>, ApiError> {
    Ok(web::Json(db::run(&db_pool, evaluation::targets).await?))
}

/// Set a target share of non-party cadres among a unit's or a level's leadership posts.
#[utoipa::path(tag = "appointments", request_body = TargetRequest, responses((status = 201, body = TargetView), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json")), security(("bearer" = ["AppointmentsWrite"])))]
#[post("/appointment-targets")]
pub async fn create_target(
    auth: Authorized<can::AppointmentsWrite>,
    db_pool: web::Data<DbPool>,
    clock: web::Data<Clock>,
    body: ValidatedJson<TargetRequest>,
) -> Result<HttpResponse, ApiError> {
    let actor = Actor::user(&auth);
    let (input, now) = (body.into_inner(), clock.now_naive());
    let view = db::write(&db_pool, move |conn| {
        evaluation::create_target(conn, &actor, input, now)
    })
    .await?;
    Ok(HttpResponse::Created().json(view))
}

/// Targets against today's appointments, the pipeline per stage, mean time to appointment.
#[utoipa::path(tag = "appointments", responses((status = 200, body = AppointmentStats), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json")), security(("bearer" = ["AppointmentsRead"])))]
#[get("/stats/appointments")]
pub async fn appointment_stats(
    _auth: Authorized<can::AppointmentsRead>,
    db_pool: web::Data<DbPool>,
    clock: web::Data<Clock>,
) -> Result<web::Json<AppointmentStats>, ApiError> {
    let now = clock.now_naive();
    Ok(web::Json(
        db::run(&db_pool, move |conn| evaluation::stats(conn, now)).await?,
    ))
}

/// Everything about one person, each part where the caller's role may see it.
#[utoipa::path(tag = "appointments", params(("id" = i64, Path)), responses((status = 200, body = Overview), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json")), security(("bearer" = ["CadreView"])))]
#[get("/cadres/{id:[0-9]+}/overview")]
pub async fn cadre_overview(
    auth: Authorized<can::CadreView>,
    db_pool: web::Data<DbPool>,
    clock: web::Data<Clock>,
    id: web::Path<i64>,
) -> Result<web::Json<Overview>, ApiError> {
    let id = id.into_inner();
    check_own_or(&auth, Permission::CadresRead, id)?;
    let (user, now) = (auth.0, clock.now_naive());
    Ok(web::Json(
        db::run(&db_pool, move |conn| {
            overview::overview(conn, &user, id, now)
        })
        .await?,
    ))
}
