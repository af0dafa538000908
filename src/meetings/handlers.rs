//! Thin handlers of the decision-participation API.

use actix_web::http::header;
use actix_web::{get, patch, post, web, HttpRequest, HttpResponse};

use super::dto::*;
use super::reports::{self, Compliance, Participation};
use super::service::{self, Speaker};
use crate::audit::Actor;
use crate::auth::{can, Authorized, Permission};
use crate::clock::Clock;
use crate::db::{self, DbPool};
use crate::error::{ApiError, Problem};
use crate::figures;
use crate::web::{if_match, with_etag, Page, ValidatedJson, ValidatedQuery};

/// List meetings, filtered by period, kind, status and convening unit.
#[utoipa::path(tag = "meetings", params(MeetingQuery),
    responses((status = 200, body = inline(Page<MeetingView>)), (status = 400, body = Problem, content_type = "application/problem+json"), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = ["MeetingsRead"])))]
#[get("/meetings")]
pub async fn list_meetings(
    _auth: Authorized<can::MeetingsRead>,
    pool: web::Data<DbPool>,
    query: ValidatedQuery<MeetingQuery>,
) -> Result<web::Json<Page<MeetingView>>, ApiError> {
    let query = query.into_inner();
    Ok(web::Json(
        db::run(&pool, move |conn| service::list(conn, query)).await?,
    ))
}

/// Schedule a meeting (as a draft).
#[utoipa::path(tag = "meetings", request_body = CreateMeetingRequest,
    responses((status = 201, body = MeetingView), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = ["MeetingsManage"])))]
#[post("/meetings")]
pub async fn create_meeting(
    auth: Authorized<can::MeetingsManage>,
    pool: web::Data<DbPool>,
    body: ValidatedJson<CreateMeetingRequest>,
) -> Result<HttpResponse, ApiError> {
    let actor = Actor::user(&auth);
    let input = body.into_inner();
    let meeting = db::write(&pool, move |conn| service::create(conn, &actor, input)).await?;
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/api/v1/meetings/{}", meeting.id)))
        .json(meeting))
}

/// Compliance with 逢会必进 over a period: meetings by kind, those held without
/// representatives or with exemptions, acceptance and attendance rates.
#[utoipa::path(tag = "meetings", params(PeriodQuery),
    responses((status = 200, body = Compliance), (status = 400, body = Problem, content_type = "application/problem+json"), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = ["MeetingsRead"])))]
#[get("/meetings/compliance")]
pub async fn compliance(
    _auth: Authorized<can::MeetingsRead>,
    pool: web::Data<DbPool>,
    clock: web::Data<Clock>,
    query: ValidatedQuery<PeriodQuery>,
) -> Result<web::Json<Compliance>, ApiError> {
    let query = query.into_inner();
    let (from, to) = figures::period(query.from, query.to, clock.now())?;
    Ok(web::Json(
        db::run(&pool, move |conn| reports::compliance(conn, from, to)).await?,
    ))
}

/// Participation over a period: per representative, per party, per meeting kind.
#[utoipa::path(tag = "meetings", params(PeriodQuery),
    responses((status = 200, body = Participation), (status = 400, body = Problem, content_type = "application/problem+json"), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = ["MeetingsRead"])))]
#[get("/stats/participation")]
pub async fn participation(
    _auth: Authorized<can::MeetingsRead>,
    pool: web::Data<DbPool>,
    clock: web::Data<Clock>,
    query: ValidatedQuery<PeriodQuery>,
) -> Result<web::Json<Participation>, ApiError> {
    let query = query.into_inner();
    let (from, to) = figures::period(query.from, query.to, clock.now())?;
    Ok(web::Json(
        db::run(&pool, move |conn| reports::participation(conn, from, to)).await?,
    ))
}

/// One meeting with its agenda; the ETag is the record's version.
#[utoipa::path(tag = "meetings", params(("id" = i64, Path)),
    responses((status = 200, body = MeetingView), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = ["MeetingsRead"])))]
#[get("/meetings/{id:[0-9]+}")]
pub async fn get_meeting(
    _auth: Authorized<can::MeetingsRead>,
    pool: web::Data<DbPool>,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let meeting = db::run(&pool, move |conn| service::get(conn, id)).await?;
    Ok(with_etag(meeting.version, &meeting))
}

/// Change the title, time or place of a draft or prepared meeting (`If-Match` required).
#[utoipa::path(tag = "meetings", params(("id" = i64, Path), ("If-Match" = String, Header, description = "The ETag read")), request_body = UpdateMeetingRequest,
    responses((status = 200, body = MeetingView), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json"), (status = 409, body = Problem, content_type = "application/problem+json"), (status = 412, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json"), (status = 428, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = ["MeetingsManage"])))]
#[patch("/meetings/{id:[0-9]+}")]
pub async fn update_meeting(
    auth: Authorized<can::MeetingsManage>,
    pool: web::Data<DbPool>,
    req: HttpRequest,
    id: web::Path<i64>,
    body: ValidatedJson<UpdateMeetingRequest>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let version = if_match(&req)?;
    let actor = Actor::user(&auth);
    let input = body.into_inner();
    let meeting = db::write(&pool, move |conn| {
        service::update(conn, &actor, id, version, input)
    })
    .await?;
    Ok(with_etag(meeting.version, &meeting))
}

/// Move a meeting: `draft -> prepared -> held -> closed`, or `cancelled` (with a reason) from
/// draft or prepared. 409 with the reason for an illegal move, or for preparing a mandatory
/// meeting whose major decisions have no invited representative and no exemption.
#[utoipa::path(tag = "meetings", params(("id" = i64, Path)), request_body = TransitionRequest,
    responses((status = 200, body = MeetingView), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json"), (status = 409, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = ["MeetingsManage"])))]
#[post("/meetings/{id:[0-9]+}/transitions")]
pub async fn transition(
    auth: Authorized<can::MeetingsManage>,
    pool: web::Data<DbPool>,
    id: web::Path<i64>,
    body: ValidatedJson<TransitionRequest>,
) -> Result<web::Json<MeetingView>, ApiError> {
    let id = id.into_inner();
    let actor = Actor::user(&auth);
    let input = body.into_inner();
    Ok(web::Json(
        db::write(&pool, move |conn| {
            service::transition(conn, &actor, id, input)
        })
        .await?,
    ))
}

/// Record why a draft meeting may be prepared without representatives for its major decisions.
#[utoipa::path(tag = "meetings", params(("id" = i64, Path)), request_body = ExemptionRequest,
    responses((status = 200, body = MeetingView), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json"), (status = 409, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = ["MeetingsManage"])))]
#[post("/meetings/{id:[0-9]+}/exemption")]
pub async fn exempt(
    auth: Authorized<can::MeetingsManage>,
    pool: web::Data<DbPool>,
    id: web::Path<i64>,
    body: ValidatedJson<ExemptionRequest>,
) -> Result<web::Json<MeetingView>, ApiError> {
    let id = id.into_inner();
    let actor = Actor::user(&auth);
    let reason = body.into_inner().reason;
    Ok(web::Json(
        db::write(&pool, move |conn| {
            service::exempt(conn, &actor, id, &reason)
        })
        .await?,
    ))
}

/// The agenda of a meeting, in order.
#[utoipa::path(tag = "meetings", params(("id" = i64, Path)),
    responses((status = 200, body = Vec<AgendaItemView>), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = ["MeetingsRead"])))]
#[get("/meetings/{id:[0-9]+}/agenda-items")]
pub async fn list_items(
    _auth: Authorized<can::MeetingsRead>,
    pool: web::Data<DbPool>,
    id: web::Path<i64>,
) -> Result<web::Json<Vec<AgendaItemView>>, ApiError> {
    let id = id.into_inner();
    Ok(web::Json(
        db::run(&pool, move |conn| service::items(conn, id)).await?,
    ))
}

/// Add an agenda item with its subjects.
#[utoipa::path(tag = "meetings", params(("id" = i64, Path)), request_body = AgendaItemRequest,
    responses((status = 201, body = AgendaItemView), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json"), (status = 409, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = ["MeetingsManage"])))]
#[post("/meetings/{id:[0-9]+}/agenda-items")]
pub async fn add_item(
    auth: Authorized<can::MeetingsManage>,
    pool: web::Data<DbPool>,
    id: web::Path<i64>,
    body: ValidatedJson<AgendaItemRequest>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let actor = Actor::user(&auth);
    let input = body.into_inner();
    let item = db::write(&pool, move |conn| {
        service::add_item(conn, &actor, id, input)
    })
    .await?;
    Ok(HttpResponse::Created().json(item))
}

/// Change an agenda item.
#[utoipa::path(tag = "meetings", params(("id" = i64, Path)), request_body = UpdateAgendaItemRequest,
    responses((status = 200, body = AgendaItemView), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json"), (status = 409, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = ["MeetingsManage"])))]
#[patch("/agenda-items/{id:[0-9]+}")]
pub async fn update_item(
    auth: Authorized<can::MeetingsManage>,
    pool: web::Data<DbPool>,
    id: web::Path<i64>,
    body: ValidatedJson<UpdateAgendaItemRequest>,
) -> Result<web::Json<AgendaItemView>, ApiError> {
    let id = id.into_inner();
    let actor = Actor::user(&auth);
    let input = body.into_inner();
    Ok(web::Json(
        db::write(&pool, move |conn| {
            service::update_item(conn, &actor, id, input)
        })
        .await?,
    ))
}

/// Ranked candidates for each agenda item, with the subjects matched and the level rule.
#[utoipa::path(tag = "meetings", params(("id" = i64, Path), CandidateQuery),
    responses((status = 200, body = Vec<ItemCandidates>), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = ["MeetingsRead"])))]
#[get("/meetings/{id:[0-9]+}/candidates")]
pub async fn candidates(
    _auth: Authorized<can::MeetingsRead>,
    pool: web::Data<DbPool>,
    id: web::Path<i64>,
    query: ValidatedQuery<CandidateQuery>,
) -> Result<web::Json<Vec<ItemCandidates>>, ApiError> {
    let id = id.into_inner();
    let limit = usize::try_from(query.into_inner().limit.unwrap_or(20)).unwrap_or(20);
    Ok(web::Json(
        db::run(&pool, move |conn| service::candidates(conn, id, limit)).await?,
    ))
}

/// The invitations of a meeting.
#[utoipa::path(tag = "meetings", params(("id" = i64, Path)),
    responses((status = 200, body = Vec<InvitationView>), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = ["MeetingsRead"])))]
#[get("/meetings/{id:[0-9]+}/invitations")]
pub async fn list_invitations(
    _auth: Authorized<can::MeetingsRead>,
    pool: web::Data<DbPool>,
    id: web::Path<i64>,
) -> Result<web::Json<Vec<InvitationView>>, ApiError> {
    let id = id.into_inner();
    Ok(web::Json(
        db::run(&pool, move |conn| service::invitations_of_meeting(conn, id)).await?,
    ))
}

/// Invite a representative: a candidate, or anyone with a reason.
#[utoipa::path(tag = "meetings", params(("id" = i64, Path)), request_body = InviteRequest,
    responses((status = 201, body = InvitationView), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json"), (status = 409, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = ["MeetingsManage"])))]
#[post("/meetings/{id:[0-9]+}/invitations")]
pub async fn invite(
    auth: Authorized<can::MeetingsManage>,
    pool: web::Data<DbPool>,
    id: web::Path<i64>,
    body: ValidatedJson<InviteRequest>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let actor = Actor::user(&auth);
    let input = body.into_inner();
    let invitation = db::write(&pool, move |conn| service::invite(conn, &actor, id, input)).await?;
    Ok(HttpResponse::Created().json(invitation))
}

/// Record attendance after the meeting (held or closed).
#[utoipa::path(tag = "meetings", params(("id" = i64, Path)), request_body = AttendanceRequest,
    responses((status = 200, body = InvitationView), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json"), (status = 409, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = ["MeetingsManage"])))]
#[patch("/invitations/{id:[0-9]+}")]
pub async fn record_attendance(
    auth: Authorized<can::MeetingsManage>,
    pool: web::Data<DbPool>,
    id: web::Path<i64>,
    body: ValidatedJson<AttendanceRequest>,
) -> Result<web::Json<InvitationView>, ApiError> {
    let id = id.into_inner();
    let actor = Actor::user(&auth);
    let attendance = body.into_inner().attendance;
    Ok(web::Json(
        db::write(&pool, move |conn| {
            service::record_attendance(conn, &actor, id, attendance)
        })
        .await?,
    ))
}

/// The signed-in representative's invitations, newest first.
#[utoipa::path(tag = "meetings",
    responses((status = 200, body = Vec<InvitationView>), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = ["OwnParticipation"])))]
#[get("/me/invitations")]
pub async fn my_invitations(
    auth: Authorized<can::OwnParticipation>,
    pool: web::Data<DbPool>,
) -> Result<web::Json<Vec<InvitationView>>, ApiError> {
    let Some(cadre_id) = auth.cadre_id else {
        return Ok(web::Json(Vec::new()));
    };
    Ok(web::Json(
        db::run(&pool, move |conn| {
            service::invitations_of_cadre(conn, cadre_id)
        })
        .await?,
    ))
}

/// Accept, or decline with a reason, before the meeting starts. Another's invitation is 404.
#[utoipa::path(tag = "meetings", params(("id" = i64, Path)), request_body = ResponseRequest,
    responses((status = 200, body = InvitationView), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json"), (status = 409, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = ["OwnParticipation"])))]
#[post("/invitations/{id:[0-9]+}/response")]
pub async fn respond(
    auth: Authorized<can::OwnParticipation>,
    pool: web::Data<DbPool>,
    id: web::Path<i64>,
    body: ValidatedJson<ResponseRequest>,
) -> Result<web::Json<InvitationView>, ApiError> {
    let id = id.into_inner();
    let cadre_id = auth.cadre_id.ok_or(ApiError::NotFound)?;
    let actor = Actor::user(&auth);
    let input = body.into_inner();
    Ok(web::Json(
        db::write(&pool, move |conn| {
            service::respond(conn, &actor, cadre_id, id, input)
        })
        .await?,
    ))
}

/// The opinions recorded on an agenda item, with their outcomes.
#[utoipa::path(tag = "meetings", params(("id" = i64, Path)),
    responses((status = 200, body = Vec<OpinionView>), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = ["MeetingsRead"])))]
#[get("/agenda-items/{id:[0-9]+}/opinions")]
pub async fn list_opinions(
    _auth: Authorized<can::MeetingsRead>,
    pool: web::Data<DbPool>,
    id: web::Path<i64>,
) -> Result<web::Json<Vec<OpinionView>>, ApiError> {
    let id = id.into_inner();
    Ok(web::Json(
        db::run(&pool, move |conn| service::opinions_of_item(conn, id)).await?,
    ))
}

/// Record an opinion on an agenda item during or after the meeting: a representative their
/// own, or UFWD staff on a representative's behalf (naming `cadre_id`; recorded as such).
#[utoipa::path(tag = "meetings", params(("id" = i64, Path)), request_body = OpinionRequest,
    responses((status = 201, body = OpinionView), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json"), (status = 409, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = ["OpinionsRecord"])))]
#[post("/agenda-items/{id:[0-9]+}/opinions")]
pub async fn record_opinion(
    auth: Authorized<can::OpinionsRecord>,
    pool: web::Data<DbPool>,
    id: web::Path<i64>,
    body: ValidatedJson<OpinionRequest>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let input = body.into_inner();
    let speaker = if auth.has(Permission::MeetingsManage) {
        Speaker::OnBehalfOf(
            input
                .cadre_id
                .ok_or_else(|| ApiError::field("cadre_id", "required_on_behalf"))?,
        )
    } else {
        if input.cadre_id.is_some_and(|id| Some(id) != auth.cadre_id) {
            return Err(ApiError::NotFound);
        }
        Speaker::Own(auth.cadre_id.ok_or(ApiError::NotFound)?)
    };
    let actor = Actor::user(&auth);
    let opinion = db::write(&pool, move |conn| {
        service::record_opinion(conn, &actor, id, speaker, &input.content)
    })
    .await?;
    Ok(HttpResponse::Created().json(opinion))
}

/// Record whether an opinion was adopted, with an explanation: the feedback to the UFWD and to
/// the representative.
#[utoipa::path(tag = "meetings", params(("id" = i64, Path)), request_body = AdoptionRequest,
    responses((status = 200, body = OpinionView), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = ["MeetingsManage"])))]
#[post("/opinions/{id:[0-9]+}/adoption")]
pub async fn record_adoption(
    auth: Authorized<can::MeetingsManage>,
    pool: web::Data<DbPool>,
    id: web::Path<i64>,
    body: ValidatedJson<AdoptionRequest>,
) -> Result<web::Json<OpinionView>, ApiError> {
    let id = id.into_inner();
    let actor = Actor::user(&auth);
    let input = body.into_inner();
    Ok(web::Json(
        db::write(&pool, move |conn| {
            service::record_adoption(conn, &actor, id, input)
        })
        .await?,
    ))
}

/// The signed-in representative's opinions and what became of them.
#[utoipa::path(tag = "meetings",
    responses((status = 200, body = Vec<OpinionView>), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = ["OwnParticipation"])))]
#[get("/me/opinions")]
pub async fn my_opinions(
    auth: Authorized<can::OwnParticipation>,
    pool: web::Data<DbPool>,
) -> Result<web::Json<Vec<OpinionView>>, ApiError> {
    let Some(cadre_id) = auth.cadre_id else {
        return Ok(web::Json(Vec::new()));
    };
    Ok(web::Json(
        db::run(&pool, move |conn| {
            service::opinions_of_cadre(conn, cadre_id)
        })
        .await?,
    ))
}
