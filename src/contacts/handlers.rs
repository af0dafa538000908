//! Thin handlers of the normalised-contact API.

use actix_web::{get, patch, post, web, HttpRequest, HttpResponse};
use chrono::Datelike;

use super::coverage::{self, Coverage};
use super::dto::*;
use super::service::{self, Viewer};
use crate::audit::Actor;
use crate::auth::{can, AuthUser, Authorized, Permission};
use crate::clock::Clock;
use crate::db::{self, DbPool};
use crate::error::{ApiError, Problem};
use crate::web::{if_match, with_etag, ValidatedJson, ValidatedQuery};

/// Staff who read all contact records, or a leader limited to its own pairings.
fn viewer(user: &AuthUser) -> Viewer {
    if user.has(Permission::ContactsReadAll) {
        Viewer::Staff(user.id)
    } else {
        Viewer::Leader(user.id)
    }
}

/// All terms, oldest first.
#[utoipa::path(tag = "contacts", responses((status = 200, body = Vec<TermView>), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json")), security(("bearer" = ["ContactsRead"])))]
#[get("/terms")]
pub async fn list_terms(
    _auth: Authorized<can::ContactsRead>,
    pool: web::Data<DbPool>,
    clock: web::Data<Clock>,
) -> Result<web::Json<Vec<TermView>>, ApiError> {
    let today = clock.today();
    Ok(web::Json(
        db::run(&pool, move |conn| service::terms(conn, today)).await?,
    ))
}

/// Open a term (届) with its contact plan; terms may not overlap.
#[utoipa::path(tag = "contacts", request_body = CreateTermRequest, responses((status = 201, body = TermView), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 409, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json")), security(("bearer" = ["ContactsManage"])))]
#[post("/terms")]
pub async fn create_term(
    auth: Authorized<can::ContactsManage>,
    pool: web::Data<DbPool>,
    clock: web::Data<Clock>,
    body: ValidatedJson<CreateTermRequest>,
) -> Result<HttpResponse, ApiError> {
    let actor = Actor::user(&auth);
    let (input, now) = (body.into_inner(), clock.now_naive());
    let term = db::write(&pool, move |conn| {
        service::create_term(conn, &actor, input, now)
    })
    .await?;
    Ok(HttpResponse::Created().json(term))
}

/// The pairings of a term (a leader sees its own).
#[utoipa::path(tag = "contacts", params(("id" = i64, Path), PairingQuery), responses((status = 200, body = Vec<PairingView>), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json")), security(("bearer" = ["ContactsRead"])))]
#[get("/terms/{id:[0-9]+}/pairings")]
pub async fn list_pairings(
    auth: Authorized<can::ContactsRead>,
    pool: web::Data<DbPool>,
    clock: web::Data<Clock>,
    id: web::Path<i64>,
    query: ValidatedQuery<PairingQuery>,
) -> Result<web::Json<Vec<PairingView>>, ApiError> {
    let (id, viewer, query, today) = (
        id.into_inner(),
        viewer(&auth),
        query.into_inner(),
        clock.today(),
    );
    Ok(web::Json(
        db::run(&pool, move |conn| {
            service::pairings_of_term(conn, viewer, id, query, today)
        })
        .await?,
    ))
}

/// Pair a leader with an active cadre for the term.
#[utoipa::path(tag = "contacts", params(("id" = i64, Path)), request_body = CreatePairingRequest, responses((status = 201, body = PairingView), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json"), (status = 409, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json")), security(("bearer" = ["ContactsManage"])))]
#[post("/terms/{id:[0-9]+}/pairings")]
pub async fn create_pairing(
    auth: Authorized<can::ContactsManage>,
    pool: web::Data<DbPool>,
    clock: web::Data<Clock>,
    id: web::Path<i64>,
    body: ValidatedJson<CreatePairingRequest>,
) -> Result<HttpResponse, ApiError> {
    let actor = Actor::user(&auth);
    let (id, input, now) = (id.into_inner(), body.into_inner(), clock.now_naive());
    let pairing = db::write(&pool, move |conn| {
        service::create_pairing(conn, &actor, id, input, now)
    })
    .await?;
    Ok(HttpResponse::Created().json(pairing))
}

/// A leader leaves the committee: all its open pairings in the term end.
#[utoipa::path(tag = "contacts", params(("id" = i64, Path)), request_body = LeaderDepartureRequest, responses((status = 200, body = Vec<PairingView>), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json")), security(("bearer" = ["ContactsManage"])))]
#[post("/terms/{id:[0-9]+}/leader-departures")]
pub async fn leader_departs(
    auth: Authorized<can::ContactsManage>,
    pool: web::Data<DbPool>,
    clock: web::Data<Clock>,
    id: web::Path<i64>,
    body: ValidatedJson<LeaderDepartureRequest>,
) -> Result<web::Json<Vec<PairingView>>, ApiError> {
    let actor = Actor::user(&auth);
    let (id, input, now) = (id.into_inner(), body.into_inner(), clock.now_naive());
    Ok(web::Json(
        db::write(&pool, move |conn| {
            service::leader_departs(conn, &actor, id, input, now)
        })
        .await?,
    ))
}

/// End one pairing, with a reason.
#[utoipa::path(tag = "contacts", params(("id" = i64, Path)), request_body = EndPairingRequest, responses((status = 200, body = PairingView), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json"), (status = 409, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json")), security(("bearer" = ["ContactsManage"])))]
#[post("/pairings/{id:[0-9]+}/end")]
pub async fn end_pairing(
    auth: Authorized<can::ContactsManage>,
    pool: web::Data<DbPool>,
    clock: web::Data<Clock>,
    id: web::Path<i64>,
    body: ValidatedJson<EndPairingRequest>,
) -> Result<web::Json<PairingView>, ApiError> {
    let actor = Actor::user(&auth);
    let (id, input, now) = (id.into_inner(), body.into_inner(), clock.now_naive());
    Ok(web::Json(
        db::write(&pool, move |conn| {
            service::end_pairing(conn, &actor, id, input, now)
        })
        .await?,
    ))
}

/// Campaigns (e.g. the summer heart-to-heart talks), optionally of one term.
#[utoipa::path(tag = "contacts", params(CampaignQuery), responses((status = 200, body = Vec<CampaignView>), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json")), security(("bearer" = ["ContactsRead"])))]
#[get("/campaigns")]
pub async fn list_campaigns(
    _auth: Authorized<can::ContactsRead>,
    pool: web::Data<DbPool>,
    query: ValidatedQuery<CampaignQuery>,
) -> Result<web::Json<Vec<CampaignView>>, ApiError> {
    let term_id = query.into_inner().term_id;
    Ok(web::Json(
        db::run(&pool, move |conn| service::campaigns(conn, term_id)).await?,
    ))
}

/// Open a campaign with a date window inside a term.
#[utoipa::path(tag = "contacts", request_body = CreateCampaignRequest, responses((status = 201, body = CampaignView), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json")), security(("bearer" = ["ContactsManage"])))]
#[post("/campaigns")]
pub async fn create_campaign(
    auth: Authorized<can::ContactsManage>,
    pool: web::Data<DbPool>,
    clock: web::Data<Clock>,
    body: ValidatedJson<CreateCampaignRequest>,
) -> Result<HttpResponse, ApiError> {
    let actor = Actor::user(&auth);
    let (input, now) = (body.into_inner(), clock.now_naive());
    let campaign = db::write(&pool, move |conn| {
        service::create_campaign(conn, &actor, input, now)
    })
    .await?;
    Ok(HttpResponse::Created().json(campaign))
}

/// The talks of a pairing, newest first (a leader: only its own pairings).
#[utoipa::path(tag = "contacts", params(("id" = i64, Path)), responses((status = 200, body = Vec<TalkView>), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json")), security(("bearer" = ["ContactsRead"])))]
#[get("/pairings/{id:[0-9]+}/talks")]
pub async fn list_talks(
    auth: Authorized<can::ContactsRead>,
    pool: web::Data<DbPool>,
    clock: web::Data<Clock>,
    id: web::Path<i64>,
) -> Result<web::Json<Vec<TalkView>>, ApiError> {
    let (id, viewer, today) = (id.into_inner(), viewer(&auth), clock.today());
    Ok(web::Json(
        db::run(&pool, move |conn| {
            service::talks_of_pairing(conn, viewer, id, today)
        })
        .await?,
    ))
}

/// Record a talk held under one's own pairing (and any other pairings it covered).
#[utoipa::path(tag = "contacts", params(("id" = i64, Path)), request_body = CreateTalkRequest, responses((status = 201, body = TalkView), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json")), security(("bearer" = ["TalksWrite"])))]
#[post("/pairings/{id:[0-9]+}/talks")]
pub async fn create_talk(
    auth: Authorized<can::TalksWrite>,
    pool: web::Data<DbPool>,
    clock: web::Data<Clock>,
    id: web::Path<i64>,
    body: ValidatedJson<CreateTalkRequest>,
) -> Result<HttpResponse, ApiError> {
    let actor = Actor::user(&auth);
    let (id, leader, input, now) = (
        id.into_inner(),
        auth.id,
        body.into_inner(),
        clock.now_naive(),
    );
    let talk = db::write(&pool, move |conn| {
        service::create_talk(conn, &actor, leader, id, input, now)
    })
    .await?;
    Ok(HttpResponse::Created().json(talk))
}

/// One talk; its private notes only for its author.
#[utoipa::path(tag = "contacts", params(("id" = i64, Path)), responses((status = 200, body = TalkView), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json")), security(("bearer" = ["ContactsRead"])))]
#[get("/talks/{id:[0-9]+}")]
pub async fn get_talk(
    auth: Authorized<can::ContactsRead>,
    pool: web::Data<DbPool>,
    clock: web::Data<Clock>,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let (id, viewer, today) = (id.into_inner(), viewer(&auth), clock.today());
    let talk = db::run(&pool, move |conn| {
        service::get_talk(conn, viewer, id, today)
    })
    .await?;
    Ok(with_etag(talk.version, &talk))
}

/// Correct one's talk record within 7 days of recording it (`If-Match` required); after that,
/// `409 correction_window_closed`: add a note instead.
#[utoipa::path(tag = "contacts", params(("id" = i64, Path), ("If-Match" = String, Header, description = "The ETag read")), request_body = UpdateTalkRequest, responses((status = 200, body = TalkView), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json"), (status = 409, body = Problem, content_type = "application/problem+json"), (status = 412, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json"), (status = 428, body = Problem, content_type = "application/problem+json")), security(("bearer" = ["TalksWrite"])))]
#[patch("/talks/{id:[0-9]+}")]
pub async fn update_talk(
    auth: Authorized<can::TalksWrite>,
    pool: web::Data<DbPool>,
    clock: web::Data<Clock>,
    req: HttpRequest,
    id: web::Path<i64>,
    body: ValidatedJson<UpdateTalkRequest>,
) -> Result<HttpResponse, ApiError> {
    let version = if_match(&req)?;
    let actor = Actor::user(&auth);
    let (id, leader, input, now) = (
        id.into_inner(),
        auth.id,
        body.into_inner(),
        clock.now_naive(),
    );
    let talk = db::write(&pool, move |conn| {
        service::update_talk(conn, &actor, leader, id, version, input, now)
    })
    .await?;
    Ok(with_etag(talk.version, &talk))
}

/// Add a note to one's talk record (the way to amend it after 7 days).
#[utoipa::path(tag = "contacts", params(("id" = i64, Path)), request_body = NoteRequest, responses((status = 201, body = TalkView), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json")), security(("bearer" = ["TalksWrite"])))]
#[post("/talks/{id:[0-9]+}/notes")]
pub async fn add_note(
    auth: Authorized<can::TalksWrite>,
    pool: web::Data<DbPool>,
    clock: web::Data<Clock>,
    id: web::Path<i64>,
    body: ValidatedJson<NoteRequest>,
) -> Result<HttpResponse, ApiError> {
    let actor = Actor::user(&auth);
    let (id, leader, input, now) = (
        id.into_inner(),
        auth.id,
        body.into_inner(),
        clock.now_naive(),
    );
    let talk = db::write(&pool, move |conn| {
        service::add_note(conn, &actor, leader, id, input, now)
    })
    .await?;
    Ok(HttpResponse::Created().json(talk))
}

/// The follow-up items of a talk.
#[utoipa::path(tag = "contacts", params(("id" = i64, Path)), responses((status = 200, body = Vec<FollowUpView>), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json")), security(("bearer" = ["ContactsRead"])))]
#[get("/talks/{id:[0-9]+}/follow-ups")]
pub async fn list_follow_ups(
    auth: Authorized<can::ContactsRead>,
    pool: web::Data<DbPool>,
    clock: web::Data<Clock>,
    id: web::Path<i64>,
) -> Result<web::Json<Vec<FollowUpView>>, ApiError> {
    let (id, viewer, today) = (id.into_inner(), viewer(&auth), clock.today());
    Ok(web::Json(
        db::run(&pool, move |conn| {
            service::follow_ups(conn, viewer, id, today)
        })
        .await?,
    ))
}

/// Add a follow-up item to one's talk.
#[utoipa::path(tag = "contacts", params(("id" = i64, Path)), request_body = FollowUpRequest, responses((status = 201, body = FollowUpView), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json")), security(("bearer" = ["TalksWrite"])))]
#[post("/talks/{id:[0-9]+}/follow-ups")]
pub async fn add_follow_up(
    auth: Authorized<can::TalksWrite>,
    pool: web::Data<DbPool>,
    clock: web::Data<Clock>,
    id: web::Path<i64>,
    body: ValidatedJson<FollowUpRequest>,
) -> Result<HttpResponse, ApiError> {
    let actor = Actor::user(&auth);
    let (id, leader, input, now) = (
        id.into_inner(),
        auth.id,
        body.into_inner(),
        clock.now_naive(),
    );
    let follow_up = db::write(&pool, move |conn| {
        service::add_follow_up(conn, &actor, leader, id, input, now)
    })
    .await?;
    Ok(HttpResponse::Created().json(follow_up))
}

/// Mark a follow-up done with its outcome, or move its due date.
#[utoipa::path(tag = "contacts", params(("id" = i64, Path)), request_body = UpdateFollowUpRequest, responses((status = 200, body = FollowUpView), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json")), security(("bearer" = ["TalksWrite"])))]
#[patch("/follow-ups/{id:[0-9]+}")]
pub async fn update_follow_up(
    auth: Authorized<can::TalksWrite>,
    pool: web::Data<DbPool>,
    clock: web::Data<Clock>,
    id: web::Path<i64>,
    body: ValidatedJson<UpdateFollowUpRequest>,
) -> Result<web::Json<FollowUpView>, ApiError> {
    let actor = Actor::user(&auth);
    let (id, leader, input, now) = (
        id.into_inner(),
        auth.id,
        body.into_inner(),
        clock.now_naive(),
    );
    Ok(web::Json(
        db::write(&pool, move |conn| {
            service::update_follow_up(conn, &actor, leader, id, input, now)
        })
        .await?,
    ))
}

/// Coverage of the contact plan for a term and year.
#[utoipa::path(tag = "contacts", params(CoverageQuery), responses((status = 200, body = Coverage), (status = 400, body = Problem, content_type = "application/problem+json"), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json")), security(("bearer" = ["ContactsReadAll"])))]
#[get("/contacts/coverage")]
pub async fn contact_coverage(
    _auth: Authorized<can::ContactsReadAll>,
    pool: web::Data<DbPool>,
    clock: web::Data<Clock>,
    query: ValidatedQuery<CoverageQuery>,
) -> Result<web::Json<Coverage>, ApiError> {
    let query = query.into_inner();
    let today = clock.today();
    let year = query.year.unwrap_or(today.year());
    Ok(web::Json(
        db::run(&pool, move |conn| {
            let term_id = match query.term_id {
                Some(id) => id,
                None => {
                    service::current_term(conn, today)?
                        .ok_or(ApiError::NotFound)?
                        .id
                }
            };
            coverage::coverage(conn, term_id, year, today)
        })
        .await?,
    ))
}

/// The talks held with the signed-in representative: dates, forms, leaders and follow-ups.
#[utoipa::path(tag = "contacts", responses((status = 200, body = Vec<MyTalkView>), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json")), security(("bearer" = ["OwnTalks"])))]
#[get("/me/talks")]
pub async fn my_talks(
    auth: Authorized<can::OwnTalks>,
    pool: web::Data<DbPool>,
    clock: web::Data<Clock>,
) -> Result<web::Json<Vec<MyTalkView>>, ApiError> {
    let Some(cadre_id) = auth.cadre_id else {
        return Ok(web::Json(Vec::new()));
    };
    let today = clock.today();
    Ok(web::Json(
        db::run(&pool, move |conn| {
            service::talks_with_cadre(conn, cadre_id, today)
        })
        .await?,
    ))
}
