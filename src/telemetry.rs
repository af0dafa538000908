//! Logging: `tracing` to standard error, filtered by `TONGXIN_LOG`. Every line written while a
//! request is served carries that request's span (request id, method, route, user id).
//! Handlers never log bodies, names, tokens or passwords.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

pub fn init(filter: &str) {
    let filter = EnvFilter::try_new(filter).unwrap_or_else(|_| EnvFilter::new("info"));
    // Ignore the error of a second initialisation (tests build many applications).
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr)
        .try_init();
}
