//! The non-party cadre database (mechanism 5): profiles with protected fields, history
//! records, search, correction requests, statistics, import and export.

pub mod corrections;
pub mod dto;
mod handlers;
pub mod identity;
pub mod model;
pub mod profile;
pub mod records;
pub mod repo;
pub mod seed;
pub mod service;
pub mod stats;
pub mod tallies;
pub mod transfer;
pub mod vocab;

use utoipa_actix_web::service_config::ServiceConfig;

pub fn routes(cfg: &mut ServiceConfig) {
    // Fixed paths before the `{id}/{kind}` patterns that would also match them.
    cfg.service(handlers::list_cadres)
        .service(handlers::create_cadre)
        .service(handlers::export_cadres)
        .service(handlers::import_template)
        .service(handlers::import_cadres)
        .service(handlers::lookup_cadre)
        .service(handlers::cadre_stats)
        .service(handlers::get_cadre)
        .service(handlers::update_cadre)
        .service(handlers::archive_cadre)
        .service(handlers::restore_cadre)
        .service(handlers::reveal_cadre)
        .service(handlers::list_records)
        .service(handlers::add_record)
        .service(handlers::update_record)
        .service(handlers::delete_record)
        .service(handlers::my_profile)
        .service(handlers::request_correction)
        .service(handlers::my_corrections)
        .service(handlers::list_corrections)
        .service(handlers::decide_correction);
}
