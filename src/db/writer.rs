//! The one connection a pool's writers take turns on.
//!
//! Writers queue on it, first come first served. Every write transaction is serialised by the
//! database anyway (see `db::write_transaction`); waiting in the database instead held a pooled
//! connection per waiting writer, which starved readers, and on SQLite it waited in the busy
//! handler's sleeps of up to 100 ms. The turn is taken and released on the blocking thread that
//! runs the transaction, and handed straight to the next writer's thread (`unlock_fair`), so the
//! time between two writers is a thread wake-up, not a trip through the async workers. Other
//! processes (the command line, a second server on PostgreSQL) still meet the database's own
//! lock.
//!
//! The connection is the pool's one more, kept for writes alone. On SQLite a connection keeps
//! the pages it read until another connection commits; when every write took whichever pooled
//! connection came next, each began with an empty cache and read the cadre table's and its
//! indexes' pages again (a loop of writes taking strict turns on two connections, with no
//! checkpoint in the commit, ran at 0.6 × the rate of the same loop on one connection).
//! On PostgreSQL it keeps the write statements prepared on one connection.

use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::r2d2::{ManageConnection, R2D2Connection};

use super::{ConnectError, ConnectionManager, DbConn, Engine, LastGood};
use crate::error::ApiError;

/// The URL the writers' connection opens. On PostgreSQL it carries a `connect_timeout` of the
/// pool's checkout timeout (unless it sets one): a pooled connection is waited for that long, and
/// a write must not wait longer for an unreachable database while holding the writers' turn.
pub fn connect_url(url: &str, engine: Engine, timeout: Duration) -> String {
    if engine == Engine::Sqlite || url.contains("connect_timeout=") {
        return url.to_owned();
    }
    let separator = if url.contains('?') { '&' } else { '?' };
    let seconds = timeout.as_millis().div_ceil(1000).max(1);
    format!("{url}{separator}connect_timeout={seconds}")
}

/// How the writers' connection shows in PostgreSQL's `pg_stat_activity`.
pub const APPLICATION_NAME: &str = "tongxin writer";

pub struct Writer {
    opener: ConnectionManager,
    conn: Option<DbConn>,
    /// As for pooled connections, the connection is checked first when this is not recent.
    last_good: LastGood,
}

impl Writer {
    pub fn new(opener: ConnectionManager) -> Writer {
        Writer {
            opener,
            conn: None,
            last_good: LastGood::default(),
        }
    }

    /// Opens the connection; on PostgreSQL it is named [`APPLICATION_NAME`] for operators.
    fn open(&self) -> Result<DbConn, ConnectError> {
        let mut conn = self.opener.connect()?;
        if let DbConn::Pg(pg) = &mut conn {
            pg.batch_execute(&format!("SET application_name = '{APPLICATION_NAME}'"))?;
        }
        Ok(conn)
    }

    /// Runs `f` on the writers' connection, opened (again) if it is missing, broken, or fails its
    /// check.
    pub fn run<T>(
        &mut self,
        f: impl FnOnce(&mut DbConn) -> Result<T, ApiError>,
    ) -> Result<T, ApiError> {
        if let Some(conn) = &mut self.conn {
            if conn.is_broken() || (!self.last_good.trusted() && conn.ping().is_err()) {
                tracing::warn!("the writers' database connection failed its check; reopening it");
                self.conn = None;
            }
        }
        let conn = match self.conn.take() {
            Some(conn) => conn,
            None => self.open().map_err(|error| {
                tracing::warn!(%error, "cannot open the writers' database connection");
                ApiError::Unavailable
            })?,
        };
        let conn = self.conn.insert(conn);
        let result = f(conn);
        self.last_good = LastGood::after(&result);
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_writers_postgres_url_gets_a_connect_timeout_unless_it_has_one() {
        let three = Duration::from_millis(2_500);
        assert_eq!(
            connect_url("postgres://db/tongxin", Engine::Postgres, three),
            "postgres://db/tongxin?connect_timeout=3"
        );
        assert_eq!(
            connect_url(
                "postgres://db/tongxin?sslmode=require",
                Engine::Postgres,
                three
            ),
            "postgres://db/tongxin?sslmode=require&connect_timeout=3"
        );
        assert_eq!(
            connect_url("postgres://db/t?connect_timeout=9", Engine::Postgres, three),
            "postgres://db/t?connect_timeout=9"
        );
        assert_eq!(
            connect_url("data/tongxin.db", Engine::Sqlite, three),
            "data/tongxin.db"
        );
    }
}
