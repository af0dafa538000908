//! Thin handlers of the cadre API.

use std::fs::File;
use std::io::Read;

use actix_web::body::{MessageBody, SizedStream};
use actix_web::http::header;
use actix_web::{delete, get, patch, post, web, HttpRequest, HttpResponse};
use futures_util::StreamExt;

use super::corrections::{
    self, CorrectionQuery, CorrectionRequest, CorrectionView, DecisionRequest,
};
use super::dto::{
    ArchiveRequest, CadreFilter, CadrePageParams, CadreView, CreateCadreRequest, LookupRequest,
    RevealRequest, RevealView, UpdateCadreRequest,
};
use super::profile::Profile;
use super::records::{self, RecordBody, RecordInput, RecordKind, RecordView};
use super::service;
use super::stats::{self, CadreStats};
use super::transfer::{
    self, ExportParams, FileFormat, ImportLimits, ImportParams, ImportReport, TemplateParams,
};
use super::vocab::Status;
use crate::audit::{self, Actor};
use crate::auth::{can, AuthUser, Authorized, Permission};
use crate::crypto::DataKey;
use crate::db::{self, DbPool};
use crate::error::{ApiError, Problem};
use crate::web::{
    if_match, with_etag, within_body_timeout, BodyTimeout, Page, SplitQuery, ValidatedJson,
    ValidatedQuery,
};

/// Staff read every cadre; a representative only their own (others answer 404).
fn check_scope(user: &AuthUser, cadre_id: i64) -> Result<(), ApiError> {
    if user.has(Permission::CadresRead) || user.cadre_id == Some(cadre_id) {
        Ok(())
    } else {
        Err(ApiError::NotFound)
    }
}

fn file_response(body: impl MessageBody + 'static, format: FileFormat, name: &str) -> HttpResponse {
    let (content_type, extension) = match format {
        FileFormat::Csv => ("text/csv; charset=utf-8", "csv"),
        FileFormat::Xlsx => (
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "xlsx",
        ),
    };
    HttpResponse::Ok()
        .content_type(content_type)
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{name}.{extension}\""),
        ))
        .body(body)
}

/// A file as a response body of known length, read in chunks on the blocking pool.
fn file_body(file: File, length: u64) -> impl MessageBody {
    const CHUNK: usize = 64 * 1024;
    let chunks = futures_util::stream::try_unfold(file, |mut file| async move {
        let (file, chunk) = web::block(move || {
            let mut chunk = vec![0; CHUNK];
            let read = file.read(&mut chunk)?;
            chunk.truncate(read);
            Ok::<_, std::io::Error>((file, chunk))
        })
        .await
        .map_err(std::io::Error::other)??;
        Ok::<_, std::io::Error>((!chunk.is_empty()).then(|| (web::Bytes::from(chunk), file)))
    });
    SizedStream::new(length, chunks)
}

/// List cadres matching a filter, in pages.
#[utoipa::path(
    tag = "cadres",
    params(CadreFilter, CadrePageParams),
    responses(
        (status = 200, body = inline(Page<CadreView>)),
        (status = 400, body = Problem, content_type = "application/problem+json"), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["CadresRead"]))
)]
#[get("/cadres")]
pub async fn list_cadres(
    _auth: Authorized<can::CadresRead>,
    pool: web::Data<DbPool>,
    query: SplitQuery<CadreFilter, CadrePageParams>,
) -> Result<web::Json<Page<CadreView>>, ApiError> {
    let SplitQuery(filter, params) = query;
    Ok(web::Json(
        db::run(&pool, move |conn| service::list(conn, &filter, &params)).await?,
    ))
}

/// Create a cadre profile.
#[utoipa::path(
    tag = "cadres",
    request_body = CreateCadreRequest,
    responses(
        (status = 201, body = CadreView),
        (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 409, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["CadresWrite"]))
)]
#[post("/cadres")]
pub async fn create_cadre(
    auth: Authorized<can::CadresWrite>,
    pool: web::Data<DbPool>,
    key: web::Data<DataKey>,
    body: ValidatedJson<CreateCadreRequest>,
) -> Result<HttpResponse, ApiError> {
    let actor = Actor::user(&auth);
    let profile = Profile::from_request(body.into_inner());
    let cadre = db::write(&pool, move |conn| {
        service::create(conn, &key, &actor, profile)
    })
    .await?;
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/api/v1/cadres/{}", cadre.id)))
        .insert_header((header::ETAG, format!("\"{}\"", cadre.version)))
        .json(cadre))
}

/// One cadre (protected fields masked); the ETag is the record's version.
#[utoipa::path(
    tag = "cadres",
    params(("id" = i64, Path)),
    responses(
        (status = 200, body = CadreView, headers(("ETag" = String))),
        (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["CadreView"]))
)]
#[get("/cadres/{id:[0-9]+}")]
pub async fn get_cadre(
    auth: Authorized<can::CadreView>,
    pool: web::Data<DbPool>,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    check_scope(&auth, id)?;
    let cadre = db::run(&pool, move |conn| service::get(conn, id)).await?;
    Ok(with_etag(cadre.version, &cadre))
}

/// Change a profile (`If-Match` required). Absent fields stay; `null` clears optional ones.
#[utoipa::path(
    tag = "cadres",
    params(("id" = i64, Path), ("If-Match" = String, Header, description = "The ETag read")),
    request_body = UpdateCadreRequest,
    responses(
        (status = 200, body = CadreView, headers(("ETag" = String))),
        (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"), (status = 412, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json"), (status = 428, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["CadresWrite"]))
)]
#[patch("/cadres/{id:[0-9]+}")]
pub async fn update_cadre(
    auth: Authorized<can::CadresWrite>,
    pool: web::Data<DbPool>,
    key: web::Data<DataKey>,
    req: HttpRequest,
    id: web::Path<i64>,
    body: ValidatedJson<UpdateCadreRequest>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let version = if_match(&req)?;
    let actor = Actor::user(&auth);
    let changes = body.into_inner();
    let edit = db::run(&pool, move |conn| {
        service::prepare_update(conn, &key, id, version, changes)
    })
    .await?;
    let cadre =
        db::write_keeping_sessions(&pool, move |conn| service::store_update(conn, &actor, edit))
            .await?;
    Ok(with_etag(cadre.version, &cadre))
}

/// Archive a cadre with a reason: hidden from lists unless asked for; nothing is deleted.
#[utoipa::path(
    tag = "cadres",
    params(("id" = i64, Path)),
    request_body = ArchiveRequest,
    responses(
        (status = 200, body = CadreView),
        (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json"), (status = 409, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["CadresWrite"]))
)]
#[post("/cadres/{id:[0-9]+}/archive")]
pub async fn archive_cadre(
    auth: Authorized<can::CadresWrite>,
    pool: web::Data<DbPool>,
    id: web::Path<i64>,
    body: ValidatedJson<ArchiveRequest>,
) -> Result<web::Json<CadreView>, ApiError> {
    let id = id.into_inner();
    let actor = Actor::user(&auth);
    let reason = body.into_inner().reason.trim().to_owned();
    Ok(web::Json(
        db::write(&pool, move |conn| {
            service::set_status(conn, &actor, id, Status::Archived, Some(reason))
        })
        .await?,
    ))
}

/// Bring an archived cadre back into the working pool.
#[utoipa::path(
    tag = "cadres",
    params(("id" = i64, Path)),
    responses(
        (status = 200, body = CadreView),
        (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json"), (status = 409, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["CadresWrite"]))
)]
#[post("/cadres/{id:[0-9]+}/restore")]
pub async fn restore_cadre(
    auth: Authorized<can::CadresWrite>,
    pool: web::Data<DbPool>,
    id: web::Path<i64>,
) -> Result<web::Json<CadreView>, ApiError> {
    let id = id.into_inner();
    let actor = Actor::user(&auth);
    Ok(web::Json(
        db::write(&pool, move |conn| {
            service::set_status(conn, &actor, id, Status::Active, None)
        })
        .await?,
    ))
}

/// The unmasked ID number and/or phone, for UFWD and Organization Department staff; the reason
/// is recorded in the audit log.
#[utoipa::path(
    tag = "cadres",
    params(("id" = i64, Path)),
    request_body = RevealRequest,
    responses(
        (status = 200, body = RevealView),
        (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["CadresReveal"]))
)]
#[post("/cadres/{id:[0-9]+}/reveal")]
pub async fn reveal_cadre(
    auth: Authorized<can::CadresReveal>,
    pool: web::Data<DbPool>,
    key: web::Data<DataKey>,
    id: web::Path<i64>,
    body: ValidatedJson<RevealRequest>,
) -> Result<web::Json<RevealView>, ApiError> {
    let id = id.into_inner();
    let actor = Actor::user(&auth);
    let request = body.into_inner();
    Ok(web::Json(
        db::write(&pool, move |conn| {
            service::reveal(conn, &key, &actor, id, &request)
        })
        .await?,
    ))
}

/// Find the cadre holding an ID number (sent in the body, never in the URL); audited.
#[utoipa::path(
    tag = "cadres",
    request_body = LookupRequest,
    responses(
        (status = 200, body = CadreView),
        (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["CadresRead"]))
)]
#[post("/cadres/lookup")]
pub async fn lookup_cadre(
    auth: Authorized<can::CadresRead>,
    pool: web::Data<DbPool>,
    key: web::Data<DataKey>,
    body: ValidatedJson<LookupRequest>,
) -> Result<web::Json<CadreView>, ApiError> {
    let actor = Actor::user(&auth);
    let id_number = body.into_inner().id_number;
    Ok(web::Json(
        db::write(&pool, move |conn| {
            service::lookup_by_id_number(conn, &key, &actor, &id_number)
        })
        .await?,
    ))
}

/// A cadre's history records of one kind, oldest first.
///
/// The `{kind}` segment of these four routes is limited to `RecordKind`'s names so that
/// `/cadres/{id}/appointments/history` and the like never fall into them (a wrong method there
/// is a 405, not a 404 for an unknown kind).
#[utoipa::path(
    tag = "cadres",
    params(("id" = i64, Path), ("kind" = RecordKind, Path)),
    responses(
        (status = 200, body = Vec<RecordView>),
        (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["CadreView"]))
)]
#[get("/cadres/{id:[0-9]+}/{kind:positions|education|family|rewards|memberships}")]
pub async fn list_records(
    auth: Authorized<can::CadreView>,
    pool: web::Data<DbPool>,
    path: web::Path<(i64, RecordKind)>,
) -> Result<web::Json<Vec<RecordView>>, ApiError> {
    let (id, kind) = path.into_inner();
    check_scope(&auth, id)?;
    Ok(web::Json(
        db::run(&pool, move |conn| records::list(conn, id, kind)).await?,
    ))
}

/// Add a history record; the body's shape depends on the kind.
#[utoipa::path(
    tag = "cadres",
    params(("id" = i64, Path), ("kind" = RecordKind, Path)),
    request_body = RecordBody,
    responses(
        (status = 201, body = RecordView),
        (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["CadresWrite"]))
)]
#[post("/cadres/{id:[0-9]+}/{kind:positions|education|family|rewards|memberships}")]
pub async fn add_record(
    auth: Authorized<can::CadresWrite>,
    pool: web::Data<DbPool>,
    path: web::Path<(i64, RecordKind)>,
    body: ValidatedJson<RecordInput>,
) -> Result<HttpResponse, ApiError> {
    let (id, kind) = path.into_inner();
    let actor = Actor::user(&auth);
    let body = body.into_inner().0;
    let record = db::write(&pool, move |conn| {
        records::add(conn, &actor, id, kind, body)
    })
    .await?;
    Ok(HttpResponse::Created()
        .insert_header((
            header::LOCATION,
            format!("/api/v1/cadres/{id}/{}/{}", kind.as_str(), record.id),
        ))
        .insert_header((header::ETAG, format!("\"{}\"", record.version)))
        .json(record))
}

/// Correct a history record (`If-Match` required): the fields given change, the rest stay.
#[utoipa::path(
    tag = "cadres",
    params(("id" = i64, Path), ("kind" = RecordKind, Path), ("record_id" = i64, Path), ("If-Match" = String, Header, description = "The record's version")),
    request_body = RecordBody,
    responses(
        (status = 200, body = RecordView),
        (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 412, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json"), (status = 428, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["CadresWrite"]))
)]
#[patch(
    "/cadres/{id:[0-9]+}/{kind:positions|education|family|rewards|memberships}/{record_id:[0-9]+}"
)]
pub async fn update_record(
    auth: Authorized<can::CadresWrite>,
    pool: web::Data<DbPool>,
    req: HttpRequest,
    path: web::Path<(i64, RecordKind, i64)>,
    body: ValidatedJson<RecordInput>,
) -> Result<HttpResponse, ApiError> {
    let (id, kind, record_id) = path.into_inner();
    let version = if_match(&req)?;
    let actor = Actor::user(&auth);
    let body = body.into_inner().0;
    let record = db::write(&pool, move |conn| {
        records::update(conn, &actor, id, kind, record_id, version, body)
    })
    .await?;
    Ok(with_etag(record.version, &record))
}

/// Remove a history record entered in error (its content stays in the audit log).
#[utoipa::path(
    tag = "cadres",
    params(("id" = i64, Path), ("kind" = RecordKind, Path), ("record_id" = i64, Path)),
    responses(
        (status = 204, description = "Removed"),
        (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["CadresWrite"]))
)]
#[delete(
    "/cadres/{id:[0-9]+}/{kind:positions|education|family|rewards|memberships}/{record_id:[0-9]+}"
)]
pub async fn delete_record(
    auth: Authorized<can::CadresWrite>,
    pool: web::Data<DbPool>,
    path: web::Path<(i64, RecordKind, i64)>,
) -> Result<HttpResponse, ApiError> {
    let (id, kind, record_id) = path.into_inner();
    let actor = Actor::user(&auth);
    db::write(&pool, move |conn| {
        records::remove(conn, &actor, id, kind, record_id)
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The signed-in representative's own profile.
#[utoipa::path(
    tag = "cadres",
    responses(
        (status = 200, body = CadreView),
        (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["OwnProfile"]))
)]
#[get("/me/profile")]
pub async fn my_profile(
    auth: Authorized<can::OwnProfile>,
    pool: web::Data<DbPool>,
) -> Result<HttpResponse, ApiError> {
    let id = auth.cadre_id.ok_or(ApiError::NotFound)?;
    let cadre = db::run(&pool, move |conn| service::get(conn, id)).await?;
    Ok(with_etag(cadre.version, &cadre))
}

/// Ask for a correction of one's own profile; UFWD staff decide.
#[utoipa::path(
    tag = "cadres",
    request_body = CorrectionRequest,
    responses(
        (status = 201, body = CorrectionView),
        (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["OwnProfile"]))
)]
#[post("/me/profile/corrections")]
pub async fn request_correction(
    auth: Authorized<can::OwnProfile>,
    pool: web::Data<DbPool>,
    key: web::Data<DataKey>,
    body: ValidatedJson<CorrectionRequest>,
) -> Result<HttpResponse, ApiError> {
    let id = auth.cadre_id.ok_or(ApiError::NotFound)?;
    let actor = Actor::user(&auth);
    let input = body.into_inner();
    let correction = db::write(&pool, move |conn| {
        corrections::request(conn, &key, &actor, id, input)
    })
    .await?;
    Ok(HttpResponse::Created().json(correction))
}

/// One's own correction requests and their outcome.
#[utoipa::path(
    tag = "cadres",
    params(CorrectionQuery),
    responses((status = 200, body = inline(Page<CorrectionView>)), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = ["OwnProfile"]))
)]
#[get("/me/profile/corrections")]
pub async fn my_corrections(
    auth: Authorized<can::OwnProfile>,
    pool: web::Data<DbPool>,
    key: web::Data<DataKey>,
    query: ValidatedQuery<CorrectionQuery>,
) -> Result<web::Json<Page<CorrectionView>>, ApiError> {
    let id = auth.cadre_id.ok_or(ApiError::NotFound)?;
    let query = query.into_inner();
    Ok(web::Json(
        db::run(&pool, move |conn| {
            corrections::list(conn, &key, Some(id), query)
        })
        .await?,
    ))
}

/// Correction requests to decide (default: pending), oldest first.
#[utoipa::path(
    tag = "cadres",
    params(CorrectionQuery),
    responses((status = 200, body = inline(Page<CorrectionView>)), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = ["CorrectionsReview"]))
)]
#[get("/profile-corrections")]
pub async fn list_corrections(
    _auth: Authorized<can::CorrectionsReview>,
    pool: web::Data<DbPool>,
    key: web::Data<DataKey>,
    query: ValidatedQuery<CorrectionQuery>,
) -> Result<web::Json<Page<CorrectionView>>, ApiError> {
    let query = query.into_inner();
    Ok(web::Json(
        db::run(&pool, move |conn| {
            corrections::list(conn, &key, None, query)
        })
        .await?,
    ))
}

/// Approve (apply the changes) or reject a correction request.
#[utoipa::path(
    tag = "cadres",
    params(("id" = i64, Path)),
    request_body = DecisionRequest,
    responses(
        (status = 200, body = CorrectionView),
        (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json"), (status = 409, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["CorrectionsReview"]))
)]
#[post("/profile-corrections/{id:[0-9]+}/decision")]
pub async fn decide_correction(
    auth: Authorized<can::CorrectionsReview>,
    pool: web::Data<DbPool>,
    key: web::Data<DataKey>,
    id: web::Path<i64>,
    body: ValidatedJson<DecisionRequest>,
) -> Result<web::Json<CorrectionView>, ApiError> {
    let id = id.into_inner();
    let actor = Actor::user(&auth);
    let input = body.into_inner();
    Ok(web::Json(
        db::write(&pool, move |conn| {
            corrections::decide(conn, &key, &actor, id, input)
        })
        .await?,
    ))
}

/// Composition of the pool over the list's filter; each bucket links to its people.
#[utoipa::path(
    tag = "cadres",
    params(CadreFilter),
    responses((status = 200, body = CadreStats), (status = 400, body = Problem, content_type = "application/problem+json"), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = ["CadresRead"]))
)]
#[get("/stats/cadres")]
pub async fn cadre_stats(
    _auth: Authorized<can::CadresRead>,
    pool: web::Data<DbPool>,
    filter: ValidatedQuery<CadreFilter>,
) -> Result<web::Json<CadreStats>, ApiError> {
    let filter = filter.into_inner();
    Ok(web::Json(
        db::run(&pool, move |conn| {
            stats::compute(conn, &filter, service::today())
        })
        .await?,
    ))
}

/// Export the cadres matching the filter as XLSX or CSV (ID number and phone masked); audited.
#[utoipa::path(
    tag = "cadres",
    params(CadreFilter, ExportParams),
    responses(
        (status = 200, description = "The file", content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        (status = 400, body = Problem, content_type = "application/problem+json"), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["CadresTransfer"]))
)]
#[get("/cadres/export")]
pub async fn export_cadres(
    auth: Authorized<can::CadresTransfer>,
    pool: web::Data<DbPool>,
    query: SplitQuery<CadreFilter, ExportParams>,
) -> Result<HttpResponse, ApiError> {
    let SplitQuery(filter, params) = query;
    let actor = Actor::user(&auth);
    let export = db::run(&pool, move |conn| {
        db::read_snapshot(conn, |conn| transfer::export(conn, &filter, &params))
    })
    .await?;
    let event = export.event;
    db::write(&pool, move |conn| audit::record(conn, &actor, event)).await?;
    Ok(file_response(
        file_body(export.file, export.length),
        export.format,
        "cadres",
    ))
}

/// The import template (Chinese headers; the XLSX explains each column on a second sheet).
#[utoipa::path(
    tag = "cadres",
    params(TemplateParams),
    responses((status = 200, description = "The template file"), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = ["CadresTransfer"]))
)]
#[get("/cadres/import-template")]
pub async fn import_template(
    _auth: Authorized<can::CadresTransfer>,
    query: ValidatedQuery<TemplateParams>,
) -> Result<HttpResponse, ApiError> {
    let format = query.into_inner().format.unwrap_or_default();
    Ok(file_response(
        transfer::template(format)?,
        format,
        "cadre-import-template",
    ))
}

/// Import cadres from an XLSX or CSV file (the body; by default up to 32 MiB and 100,000 rows,
/// else 413 or 400 `too_many_rows` before any row is checked). Every row is checked;
/// `dry_run=true` reports and writes nothing; otherwise all rows are written in one
/// transaction, or none (422 naming each row's errors as `rows[N].field`).
#[utoipa::path(
    tag = "cadres",
    params(ImportParams),
    request_body(content = Vec<u8>, content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", description = "XLSX, or CSV (UTF-8 or GB 18030)"),
    responses(
        (status = 200, body = ImportReport),
        (status = 400, body = Problem, content_type = "application/problem+json"), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 413, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["CadresTransfer"]))
)]
#[post("/cadres/import")]
pub async fn import_cadres(
    auth: Authorized<can::CadresTransfer>,
    pool: web::Data<DbPool>,
    key: web::Data<DataKey>,
    req: HttpRequest,
    query: ValidatedQuery<ImportParams>,
    limits: web::Data<ImportLimits>,
    mut payload: web::Payload,
) -> Result<web::Json<ImportReport>, ApiError> {
    let limits = *limits.get_ref();
    let dry_run = query.into_inner().dry_run;
    let timeout = req
        .app_data::<web::Data<BodyTimeout>>()
        .map(|t| *t.get_ref());
    let read = async move {
        let mut bytes = web::BytesMut::new();
        while let Some(chunk) = payload.next().await {
            let chunk = chunk.map_err(|_| {
                ApiError::bad_request("unreadable_file", "the upload was interrupted")
            })?;
            if bytes.len() + chunk.len() > limits.max_bytes {
                return Err(ApiError::PayloadTooLarge);
            }
            bytes.extend_from_slice(&chunk);
        }
        Ok(bytes)
    };
    let bytes = within_body_timeout(timeout, read).await??;
    let actor = Actor::user(&auth);
    let report = if dry_run {
        db::run(&pool, move |conn| {
            transfer::import(conn, &key, &actor, &bytes, true, limits)
        })
        .await?
    } else {
        db::write(&pool, move |conn| {
            transfer::import(conn, &key, &actor, &bytes, false, limits)
        })
        .await?
    };
    Ok(web::Json(report))
}
