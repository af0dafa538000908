//! The direct channel (mechanism 2, 直通车): suggestions from representatives to the principal
//! leaders, their instructions, the departments' handling with deadlines, the representative's
//! rating, and the figures.

pub mod dto;
mod handlers;
pub mod service;
pub mod stats;

use utoipa_actix_web::service_config::ServiceConfig;

pub fn routes(cfg: &mut ServiceConfig) {
    // Fixed paths before `/suggestions/{id}`, which would also match them.
    cfg.service(handlers::submit)
        .service(handlers::list)
        .service(handlers::overdue)
        .service(handlers::due_soon)
        .service(handlers::get_one)
        .service(handlers::add_supplement)
        .service(handlers::cosign)
        .service(handlers::intake)
        .service(handlers::present)
        .service(handlers::instruct)
        .service(handlers::evaluate)
        .service(handlers::close)
        .service(handlers::list_assignments)
        .service(handlers::acknowledge)
        .service(handlers::report_progress)
        .service(handlers::request_change)
        .service(handlers::reply)
        .service(handlers::decide_request)
        .service(handlers::suggestion_stats);
}
