//! A short-lived memory of live sessions, so that a burst of requests with one token checks the
//! session in the database once rather than on every request.
//!
//! Revocation stays immediate for everything this process changes: every `db::write` (logout,
//! password change or reset, role change, deactivation, a reused refresh token — all of them
//! run through it) advances `db::write_epoch`, and an entry remembered before that is not used.
//! Only writes that cannot change who may do what (`db::write_keeping_sessions`: a cadre edit, a
//! login or a failed one) leave the entries in place.
//! A change made elsewhere (another instance of the service on the same PostgreSQL database, or
//! an operator's SQL) takes effect within `SessionCache::TTL`. A session's expiry is checked on
//! every use.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use chrono::NaiveDateTime;

use super::user::AuthUser;

/// The token fields that name one session state: user, session and token version.
pub type SessionKey = (i64, i64, i32);

struct Remembered {
    user: AuthUser,
    expires_at: NaiveDateTime,
    at: Instant,
    epoch: u64,
}

#[derive(Default)]
pub struct SessionCache {
    entries: Mutex<HashMap<SessionKey, Remembered>>,
}

impl SessionCache {
    /// How long a remembered session is trusted without asking the database again.
    pub const TTL: Duration = Duration::from_secs(1);
    /// More live sessions than a district has users at once; past it the memory starts afresh.
    const CAPACITY: usize = 10_000;

    /// The remembered user, if remembered within the TTL, at the current write epoch, and the
    /// session not yet expired.
    pub fn get(&self, key: SessionKey, epoch: u64, now: NaiveDateTime) -> Option<AuthUser> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries
            .get(&key)
            .filter(|r| r.epoch == epoch && r.at.elapsed() < Self::TTL && now < r.expires_at)
            .map(|r| r.user.clone())
    }

    /// Remembers a user found live at `epoch`, the write epoch read before the database was
    /// asked: a write that committed in between has advanced the epoch, so the entry is never used.
    pub fn put(&self, key: SessionKey, epoch: u64, user: AuthUser, expires_at: NaiveDateTime) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= Self::CAPACITY {
            entries.clear();
        }
        entries.insert(
            key,
            Remembered {
                user,
                expires_at,
                at: Instant::now(),
                epoch,
            },
        );
    }
}
