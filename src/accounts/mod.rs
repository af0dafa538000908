//! Accounts: units, users and their roles, and sessions (login, refresh, logout, `/me`), built
//! on the mechanisms of `auth`.

pub mod dto;
mod handlers;
pub mod model;
pub mod repo;
pub mod service;

use utoipa_actix_web::service_config::ServiceConfig;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(handlers::login)
        .service(handlers::refresh)
        .service(handlers::logout)
        .service(handlers::me)
        .service(handlers::change_password)
        .service(handlers::list_users)
        .service(handlers::create_user)
        .service(handlers::get_user)
        .service(handlers::update_user)
        .service(handlers::reset_password)
        .service(handlers::list_units)
        .service(handlers::create_unit)
        .service(handlers::get_unit)
        .service(handlers::update_unit);
}
