//! The one connection a pool's writers take turns on, and the thread that runs them there.
//!
//! Writes queue for the pool's `db-writer` thread, first come first served, and it runs each on
//! the connection and sends the answer back to the request. Every write transaction is
//! serialised by the database anyway (see `db::write_transaction`); waiting in the database
//! instead held a pooled connection per waiting writer, which starved readers, and on SQLite it
//! waited in the busy handler's sleeps of up to 100 ms. Under a stream of edits the thread never
//! sleeps, and a write costs its request one hand-off there and one back. Before, each write
//! took a thread of the blocking pool and then waited for a lock that the previous writer's
//! thread handed on: two more thread wake-ups per write, a tenth of the server's CPU in the
//! write benchmark (futex calls). Other processes (the command line, a second server on
//! PostgreSQL) still meet the database's own lock.
//!
//! The connection is the pool's one more, kept for writes alone. On SQLite a connection keeps
//! the pages it read until another connection commits; when every write took whichever pooled
//! connection came next, each began with an empty cache and read the cadre table's and its
//! indexes' pages again (a loop of writes taking strict turns on two connections, with no
//! checkpoint in the commit, ran at 0.6 × the rate of the same loop on one connection).
//! On PostgreSQL it keeps the write statements prepared on one connection.

use std::panic::{self, AssertUnwindSafe};
use std::sync::mpsc;
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::r2d2::{ManageConnection, R2D2Connection};
use tokio::sync::oneshot;

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

/// A write waiting its turn; it sends its answer to its request itself.
type Job = Box<dyn FnOnce(&mut Writer) + Send>;

/// Hands writes to the pool's writers' thread, which stops once the last clone is dropped.
#[derive(Clone)]
pub struct WriteQueue {
    jobs: mpsc::Sender<Job>,
}

impl WriteQueue {
    /// Starts the thread that runs the queued writes with `writer`.
    pub fn start(writer: Writer) -> WriteQueue {
        let (jobs, queued) = mpsc::channel::<Job>();
        let started = std::thread::Builder::new()
            .name("db-writer".into())
            .spawn(move || {
                let mut writer = writer;
                for job in queued {
                    // A write that panics drops its answer (its request gets a 500, as it did
                    // from the blocking pool) and the thread goes on with the next. A transaction
                    // it left open shows as a broken connection, which `Writer::run` replaces.
                    let _ = panic::catch_unwind(AssertUnwindSafe(|| job(&mut writer)));
                }
            });
        if let Err(error) = started {
            // The queue's receiver went with the thread: every write answers 500.
            tracing::error!(%error, "cannot start the writers' thread");
        }
        WriteQueue { jobs }
    }

    /// Runs `f` on the writers' thread after the writes queued before it, inside the caller's
    /// span (what it logs carries the request's id). Once queued it runs to the end even if the
    /// request goes away.
    pub async fn run<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        F: FnOnce(&mut Writer) -> Result<T, ApiError> + Send + 'static,
        T: Send + 'static,
    {
        let (answer, answered) = oneshot::channel();
        let span = tracing::Span::current();
        let job: Job = Box::new(move |writer| {
            // The request may have gone away; the write stands.
            let _ = answer.send(span.in_scope(|| f(writer)));
        });
        self.jobs
            .send(job)
            .map_err(|_| ApiError::internal("the writers' thread is not running"))?;
        answered
            .await
            .map_err(|_| ApiError::internal("a write ended without an answer"))?
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_write_that_panics_fails_alone_and_leaves_no_transaction_open() {
        use diesel::prelude::*;

        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("writes.db").to_str().unwrap().to_owned();
        let queue = WriteQueue::start(Writer::new(ConnectionManager {
            url: file.clone(),
            engine: Engine::Sqlite,
        }));
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();

        let panicked = runtime.block_on(queue.run(|writer| {
            writer.run(|conn| {
                conn.transaction(|_| -> Result<(), ApiError> { panic!("a bug in a write") })
            })
        }));
        assert!(
            matches!(panicked, Err(ApiError::Internal(_))),
            "{panicked:?}"
        );

        let written = runtime.block_on(queue.run(|writer| {
            writer.run(|conn| {
                conn.transaction(|conn| conn.batch_execute("CREATE TABLE kept (x INTEGER)"))
                    .map_err(ApiError::from)
            })
        }));
        written.unwrap();
        // Committed, not nested in the transaction the panic left behind.
        let mut reader = diesel::SqliteConnection::establish(&file).unwrap();
        reader.batch_execute("SELECT x FROM kept").unwrap();
    }

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
