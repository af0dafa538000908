//! Decision participation (mechanism 1, 逢会必进): meetings and their agendas, matching
//! representatives to agenda subjects, invitations and attendance, opinions and their adoption,
//! and the compliance and participation reports.

pub mod dto;
mod handlers;
pub mod model;
pub mod reports;
pub mod service;

use utoipa_actix_web::service_config::ServiceConfig;

pub fn routes(cfg: &mut ServiceConfig) {
    // Fixed paths before `/meetings/{id}`, which would also match them.
    cfg.service(handlers::list_meetings)
        .service(handlers::create_meeting)
        .service(handlers::compliance)
        .service(handlers::participation)
        .service(handlers::get_meeting)
        .service(handlers::update_meeting)
        .service(handlers::transition)
        .service(handlers::exempt)
        .service(handlers::list_items)
        .service(handlers::add_item)
        .service(handlers::update_item)
        .service(handlers::candidates)
        .service(handlers::list_invitations)
        .service(handlers::invite)
        .service(handlers::record_attendance)
        .service(handlers::my_invitations)
        .service(handlers::respond)
        .service(handlers::list_opinions)
        .service(handlers::record_opinion)
        .service(handlers::record_adoption)
        .service(handlers::my_opinions);
}
