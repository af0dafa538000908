//! Authentication and authorisation mechanisms: password hashing and policy, tokens, roles and
//! permissions, and the extractors that guard every handler. No routes and no tables of its
//! own: accounts builds login on these, and every domain guards its handlers with them.

pub mod password;
pub mod roles;
mod session_cache;
pub mod tokens;
mod user;

pub use roles::{can, Permission, Role};
pub use session_cache::SessionCache;
pub use user::{AuthUser, Authorized, RequiredPermission};
