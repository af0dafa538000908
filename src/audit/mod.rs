//! The append-only, hash-chained audit log.
//!
//! Every change writes one row, in the same transaction as the change, through `record`. Each
//! row's `hash` is SHA-256 over its canonical form, which includes the previous row's hash, so
//! editing, removing or reordering any committed row breaks the chain at that row; `verify`
//! finds the first such row. The database refuses UPDATE and DELETE on the table as well.

mod handlers;
pub mod repo;

pub use handlers::routes;
pub use repo::{record, verify, Actor, Event, VerifyReport};
