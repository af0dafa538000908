//! Personnel appointment and evaluation (mechanisms 4 and 5): the talent pool with joint
//! approvals, cultivation and recommendations, bitemporal appointment records for auditors,
//! assessments, evaluation cycles, targets, and the person overview.

pub mod dto;
pub mod evaluation;
mod handlers;
pub mod overview;
pub mod pool;
pub mod records;

use utoipa_actix_web::service_config::ServiceConfig;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(handlers::list_entries)
        .service(handlers::create_entry)
        .service(handlers::get_entry)
        .service(handlers::transition)
        .service(handlers::approve)
        .service(handlers::list_cultivation)
        .service(handlers::add_cultivation)
        .service(handlers::list_recommendations)
        .service(handlers::add_recommendation)
        .service(handlers::history)
        .service(handlers::list_appointments)
        .service(handlers::create_appointment)
        .service(handlers::correct_appointment)
        .service(handlers::list_assessments)
        .service(handlers::record_assessment)
        .service(handlers::list_cycles)
        .service(handlers::create_cycle)
        .service(handlers::close_cycle)
        .service(handlers::list_ratings)
        .service(handlers::rate)
        .service(handlers::list_targets)
        .service(handlers::create_target)
        .service(handlers::appointment_stats)
        .service(handlers::cadre_overview);
}
