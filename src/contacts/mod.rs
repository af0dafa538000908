//! Normalised contact (mechanism 3): terms, leader–cadre pairings, campaigns, talk records with
//! follow-ups, coverage of the contact plan, and the reminders the background job sends.

pub mod coverage;
pub mod dto;
mod handlers;
pub mod model;
pub mod service;

use utoipa_actix_web::service_config::ServiceConfig;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(handlers::list_terms)
        .service(handlers::create_term)
        .service(handlers::list_pairings)
        .service(handlers::create_pairing)
        .service(handlers::leader_departs)
        .service(handlers::end_pairing)
        .service(handlers::list_campaigns)
        .service(handlers::create_campaign)
        .service(handlers::list_talks)
        .service(handlers::create_talk)
        .service(handlers::get_talk)
        .service(handlers::update_talk)
        .service(handlers::add_note)
        .service(handlers::list_follow_ups)
        .service(handlers::add_follow_up)
        .service(handlers::update_follow_up)
        .service(handlers::contact_coverage)
        .service(handlers::my_talks);
}
