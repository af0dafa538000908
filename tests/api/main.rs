//! API tests: the real application over HTTP, on SQLite, and on PostgreSQL when
//! `TEST_DATABASE_URL` is set (each test gets its own fresh database).

mod helpers;

mod access;
mod appointments;
mod audit;
mod auth;
mod cadres;
mod contacts;
mod errors;
mod meetings;
mod platform;
mod query_plans;
mod suggestions;
mod transfer;
mod units;
mod users;
