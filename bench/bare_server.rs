//! A bare actix-web + diesel server over the same `cadres` rows, as a peer would write one:
//! the reads of `GET /cadres/{id}` and of the benchmark's filtered list page, through
//! `web::block` and an r2d2 pool of 10, with no authentication, scope check, masking, audit or
//! error body. `bench/peer.py` serves both it and tongxin on one database and drives them
//! alternately, so that the service's cost over the bare floor is measured, not guessed.
//!
//! `DATABASE_URL=<postgres URL or SQLite file> PORT=<port> bare_server`

use actix_web::{get, web, App, HttpResponse, HttpServer};
use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use diesel::r2d2::{ConnectionManager, Pool};
use serde::{Deserialize, Serialize};
use tongxin::db::schema::cadres;
use tongxin::db::DbConn;

type DbPool = Pool<ConnectionManager<DbConn>>;

/// The columns tongxin's view reads (`cadres::model::CadreViewRow`), serialised as they are.
#[derive(Queryable, Selectable, Serialize)]
#[diesel(table_name = cadres)]
struct Cadre {
    id: i64,
    name: String,
    former_name: Option<String>,
    gender: String,
    ethnicity: String,
    birth_date: NaiveDate,
    native_place: Option<String>,
    id_number_masked: Option<String>,
    phone_masked: Option<String>,
    email: Option<String>,
    party: String,
    party_joined_on: Option<NaiveDate>,
    level: String,
    unit_id: Option<i64>,
    workplace: Option<String>,
    position: Option<String>,
    education: Option<String>,
    degree: Option<String>,
    professional_title: Option<String>,
    status: String,
    archived_reason: Option<String>,
    notes: Option<String>,
    sort_key: String,
    version: i32,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
    category_mask: i32,
    tag_lists: String,
}

#[get("/api/v1/cadres/{id}")]
async fn one(pool: web::Data<DbPool>, id: web::Path<i64>) -> actix_web::Result<HttpResponse> {
    let id = id.into_inner();
    let row = web::block(move || {
        let mut conn = pool.get().map_err(|e| e.to_string())?;
        cadres::table
            .find(id)
            .select(Cadre::as_select())
            .get_result(&mut conn)
            .optional()
            .map_err(|e| e.to_string())
    })
    .await?
    .map_err(actix_web::error::ErrorInternalServerError)?;
    Ok(match row {
        Some(cadre) => HttpResponse::Ok().json(cadre),
        None => HttpResponse::NotFound().finish(),
    })
}

#[derive(Deserialize)]
struct ListQuery {
    party: String,
    limit: i64,
}

/// `GET /cadres?party=…&sort=-birth_date&limit=…`, the benchmark's list page, without a cursor.
#[get("/api/v1/cadres")]
async fn list(
    pool: web::Data<DbPool>,
    query: web::Query<ListQuery>,
) -> actix_web::Result<HttpResponse> {
    let ListQuery { party, limit } = query.into_inner();
    let rows = web::block(move || {
        let mut conn = pool.get().map_err(|e| e.to_string())?;
        cadres::table
            .filter(cadres::status.eq("active"))
            .filter(cadres::party.eq(party))
            .order((cadres::birth_date.desc(), cadres::id.desc()))
            .limit(limit + 1)
            .select(Cadre::as_select())
            .load(&mut conn)
            .map_err(|e| e.to_string())
    })
    .await?
    .map_err(actix_web::error::ErrorInternalServerError)?;
    Ok(HttpResponse::Ok().json(rows))
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let url = std::env::var("DATABASE_URL").expect("DATABASE_URL");
    let port: u16 = std::env::var("PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .expect("PORT");
    let pool = Pool::builder()
        .max_size(10)
        .build(ConnectionManager::<DbConn>::new(url))
        .expect("database pool");
    HttpServer::new(move || {
        App::new()
            .app_data(web::Data::new(pool.clone()))
            .service(one)
            .service(list)
    })
    .workers(2)
    .bind(("127.0.0.1", port))?
    .run()
    .await
}
