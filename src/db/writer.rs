//! The one connection a pool's writers take turns on, and the thread that runs them there.
//!
//! Writes queue for the pool's `db-writer` thread, first come first served. It runs the writes
//! queued by the time it is free in one transaction on the connection, each in a savepoint of
//! its own, commits once, and sends each answer back to its request (group commit: on
//! PostgreSQL every commit waits for its log to reach the disk). Every write transaction is
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

use diesel::connection::{Connection, SimpleConnection, TransactionManager};
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
        if conn.is_broken() {
            // A transaction left open (a write panicked) would hold its locks until the next
            // write; closing the connection ends it now.
            self.conn = None;
        }
        self.last_good = LastGood::after(&result);
        result
    }
}

/// The most queued writes that share one transaction. A busy pool queues at most about one
/// write per connection, so this is rarely reached; it bounds how much one failed commit undoes.
const MOST_WRITES_PER_COMMIT: usize = 64;

/// A write waiting its turn, type-erased so that writes of any result share the queue.
trait QueuedWrite: Send {
    /// Runs the write in the batch's transaction and keeps its result: in a savepoint of its
    /// own, unless it is `alone` in the batch. `Err` means the batch must not commit: the write
    /// panicked (the transaction is in an unknown state), its savepoint could not be opened,
    /// released or undone, or it failed alone.
    fn run(&mut self, conn: &mut DbConn, alone: bool) -> Result<(), ApiError>;
    /// Whether what it changes could change who may do what (see `db::write`).
    fn retires_sessions(&self) -> bool;
    /// Sends the answer once the batch has ended: its own error, or its result if the batch
    /// committed. A write whose change was undone with a failed batch answers 503, as one
    /// whose own transaction failed did before writes were batched.
    fn answer(self: Box<Self>, batch_committed: bool);
}

struct Write<T, F> {
    work: Option<F>,
    result: Option<Result<T, ApiError>>,
    answer: oneshot::Sender<Result<T, ApiError>>,
    span: tracing::Span,
    retires_sessions: bool,
}

impl<T, F> QueuedWrite for Write<T, F>
where
    F: FnOnce(&mut DbConn) -> Result<T, ApiError> + Send,
    T: Send,
{
    fn run(&mut self, conn: &mut DbConn, alone: bool) -> Result<(), ApiError> {
        let Some(work) = self.work.take() else {
            return Ok(());
        };
        let span = &self.span;
        let ran = panic::catch_unwind(AssertUnwindSafe(|| {
            span.in_scope(|| {
                if alone {
                    // A savepoint would cost a write alone (SQLite copies every page it first
                    // changes in one aside, a fifth of an import's time) and save nothing. If
                    // it fails, the whole transaction is rolled back instead.
                    let result = work(conn);
                    let batch_may_commit = match result {
                        Ok(_) => Ok(()),
                        Err(_) => Err(ApiError::Unavailable),
                    };
                    (result, batch_may_commit)
                } else {
                    in_savepoint(conn, work)
                }
            })
        }));
        match ran {
            Ok((result, batch_may_commit)) => {
                self.result = Some(result);
                batch_may_commit
            }
            Err(_) => Err(ApiError::internal("a write panicked")),
        }
    }

    fn retires_sessions(&self) -> bool {
        self.retires_sessions
    }

    fn answer(self: Box<Self>, batch_committed: bool) {
        let answer = match self.result {
            Some(Ok(_)) if !batch_committed => Err(ApiError::Unavailable),
            Some(result) => result,
            // A write before it in the batch failed the batch.
            None if self.work.is_some() => Err(ApiError::Unavailable),
            // It panicked: dropping the sender answers its request 500.
            None => return,
        };
        // The request may have gone away; the write stands.
        let _ = self.answer.send(answer);
    }
}

/// Runs `work` in a savepoint: kept if it succeeds, undone if it fails. Returns the write's own
/// result, and `Err` when the savepoint could not be opened, released or undone: the database
/// failed and the batch must not commit. (Diesel's nested `transaction` would answer a failed
/// undo's error instead of the write's own, such as SQLite's disk-full error, which is a 503.)
fn in_savepoint<T>(
    conn: &mut DbConn,
    work: impl FnOnce(&mut DbConn) -> Result<T, ApiError>,
) -> (Result<T, ApiError>, Result<(), ApiError>) {
    type Savepoints = <DbConn as Connection>::TransactionManager;
    if let Err(error) = Savepoints::begin_transaction(conn) {
        let error = ApiError::from(error);
        return (Err(ApiError::Unavailable), Err(error));
    }
    match work(conn) {
        Ok(value) => match Savepoints::commit_transaction(conn) {
            Ok(()) => (Ok(value), Ok(())),
            Err(error) => (Err(ApiError::Unavailable), Err(error.into())),
        },
        Err(own) => match Savepoints::rollback_transaction(conn) {
            Ok(()) => (Err(own), Ok(())),
            Err(error) => (Err(own), Err(error.into())),
        },
    }
}

/// Hands writes to the pool's writers' thread, which stops once the last clone is dropped.
#[derive(Clone)]
pub struct WriteQueue {
    queue: mpsc::Sender<Box<dyn QueuedWrite>>,
}

impl WriteQueue {
    /// Starts the thread that runs the queued writes with `writer`: every write queued by the
    /// time it is free, in one transaction (`db::write_transaction`), each in a savepoint of its
    /// own. Writes arriving together share a commit, so a commit's cost (PostgreSQL waits for
    /// the log to reach the disk) is paid once for all of them; a write arriving alone is not
    /// held back to wait for company.
    pub fn start(writer: Writer) -> WriteQueue {
        let (queue, queued) = mpsc::channel::<Box<dyn QueuedWrite>>();
        let started = std::thread::Builder::new()
            .name("db-writer".into())
            .spawn(move || {
                let mut writer = writer;
                while let Ok(first) = queued.recv() {
                    let mut batch = vec![first];
                    batch.extend(queued.try_iter().take(MOST_WRITES_PER_COMMIT - 1));
                    // A panic outside the writes themselves drops the batch's answers (their
                    // requests get 500s) but not the thread.
                    let _ = panic::catch_unwind(AssertUnwindSafe(|| writer.commit_together(batch)));
                }
            });
        if let Err(error) = started {
            // The queue's receiver went with the thread: every write answers 500.
            tracing::error!(%error, "cannot start the writers' thread");
        }
        WriteQueue { queue }
    }

    /// Runs `f` on the writers' thread in a transaction, after the writes queued before it,
    /// inside the caller's span (what it logs carries the request's id). Once queued it runs to
    /// the end even if the request goes away. `retires_sessions`: see `db::write`.
    pub async fn run<T, F>(&self, retires_sessions: bool, f: F) -> Result<T, ApiError>
    where
        F: FnOnce(&mut DbConn) -> Result<T, ApiError> + Send + 'static,
        T: Send + 'static,
    {
        let (answer, answered) = oneshot::channel();
        let write = Write {
            work: Some(f),
            result: None,
            answer,
            span: tracing::Span::current(),
            retires_sessions,
        };
        self.queue
            .send(Box::new(write))
            .map_err(|_| ApiError::internal("the writers' thread is not running"))?;
        answered
            .await
            .map_err(|_| ApiError::internal("a write ended without an answer"))?
    }
}

impl Writer {
    /// Runs `batch` in one writing transaction and answers each write. A write that fails is
    /// rolled back to its savepoint and the others go on; the batch commits unless a write
    /// panicked or the database failed (then none of it is kept). A panicked write leaves its
    /// savepoint open, so the connection shows as broken and `Writer::run` closes it at once.
    fn commit_together(&mut self, mut batch: Vec<Box<dyn QueuedWrite>>) {
        let outcome = self.run(|conn| {
            super::write_transaction(conn, |conn| {
                let alone = batch.len() == 1;
                batch
                    .iter_mut()
                    .try_for_each(|write| write.run(conn, alone))
            })
        });
        // An unavailable database was logged where it was met; a lone write's own failure is
        // its request's to report.
        if let Err(error @ ApiError::Internal(_)) = &outcome {
            tracing::error!(%error, writes = batch.len(), "a batch of writes was not committed");
        }
        if batch.iter().any(|write| write.retires_sessions()) {
            super::sessions_may_have_changed();
        }
        for write in batch {
            write.answer(outcome.is_ok());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A queue on a fresh, migrated SQLite file with a table `kept (x)`, and the file's path.
    fn queue_on_a_new_database(dir: &tempfile::TempDir) -> (WriteQueue, String) {
        let file = dir.path().join("writes.db").to_str().unwrap().to_owned();
        let manager = ConnectionManager {
            url: file.clone(),
            engine: Engine::Sqlite,
            sqlite_mmap_bytes: 0,
        };
        let mut conn = manager.connect().unwrap();
        super::super::migrate(&mut conn).unwrap();
        conn.batch_execute("CREATE TABLE kept (x INTEGER)").unwrap();
        (WriteQueue::start(Writer::new(manager)), file)
    }

    fn insert(x: i64) -> impl FnOnce(&mut DbConn) -> Result<(), ApiError> + Send {
        move |conn| Ok(conn.batch_execute(&format!("INSERT INTO kept VALUES ({x})"))?)
    }

    /// The rows of `kept` that another connection sees: what has been committed.
    fn committed(file: &str) -> Vec<i64> {
        use diesel::prelude::*;
        #[derive(QueryableByName)]
        struct Kept {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            x: i64,
        }
        let mut reader = diesel::SqliteConnection::establish(file).unwrap();
        diesel::sql_query("SELECT x FROM kept ORDER BY x")
            .load::<Kept>(&mut reader)
            .unwrap()
            .into_iter()
            .map(|row| row.x)
            .collect()
    }

    type TestWrite = Box<dyn FnOnce(&mut DbConn) -> Result<(), ApiError> + Send>;

    /// Runs a write that holds the writers' thread until the three `writes` are queued, so
    /// that they make one batch; returns the four answers in order.
    fn batched_after_a_held_write(
        queue: &WriteQueue,
        writes: [TestWrite; 3],
    ) -> [Result<(), ApiError>; 4] {
        let (started, has_started) = mpsc::channel::<()>();
        let (release, released) = mpsc::channel::<()>();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        runtime.block_on(async {
            let held = queue.run(false, move |_| {
                started.send(()).unwrap();
                released.recv().unwrap();
                Ok(())
            });
            let batch = async {
                // `join!` polls `held` first, so it is queued; once it runs, it is alone.
                has_started.recv().unwrap();
                let [a, b, c] = writes;
                tokio::join!(
                    queue.run(false, a),
                    queue.run(false, b),
                    queue.run(false, c),
                    async { release.send(()).unwrap() }
                )
            };
            let (held, (a, b, c, ())) = tokio::join!(held, batch);
            [held, a, b, c]
        })
    }

    #[test]
    fn writes_queued_together_share_a_commit_and_a_failed_one_is_undone_alone() {
        let dir = tempfile::tempdir().unwrap();
        let (queue, file) = queue_on_a_new_database(&dir);
        let reader_file = file.clone();
        let answers = batched_after_a_held_write(
            &queue,
            [
                Box::new(insert(1)),
                Box::new(|conn: &mut DbConn| {
                    insert(2)(conn)?;
                    Err(ApiError::conflict("refused", "a write that fails"))
                }),
                Box::new(move |conn: &mut DbConn| {
                    // Another connection does not see the first insert yet: one transaction.
                    assert_eq!(committed(&reader_file), Vec::<i64>::new());
                    insert(3)(conn)
                }),
            ],
        );
        assert!(
            answers[0].is_ok() && answers[1].is_ok() && answers[3].is_ok(),
            "{answers:?}"
        );
        assert!(
            matches!(
                answers[2],
                Err(ApiError::Conflict {
                    code: "refused",
                    ..
                })
            ),
            "{answers:?}"
        );
        assert_eq!(committed(&file), vec![1, 3]);
    }

    #[test]
    fn a_write_alone_that_fails_is_undone_and_answers_its_own_error() {
        let dir = tempfile::tempdir().unwrap();
        let (queue, file) = queue_on_a_new_database(&dir);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let answer = runtime.block_on(queue.run(false, |conn| {
            insert(1)(conn)?;
            Err::<(), _>(ApiError::conflict("refused", "a write that fails"))
        }));
        assert!(
            matches!(
                answer,
                Err(ApiError::Conflict {
                    code: "refused",
                    ..
                })
            ),
            "{answer:?}"
        );
        runtime.block_on(queue.run(false, insert(2))).unwrap();
        assert_eq!(committed(&file), vec![2]);
    }

    #[test]
    fn a_write_that_panics_undoes_its_batch_and_the_others_answer_503() {
        let dir = tempfile::tempdir().unwrap();
        let (queue, file) = queue_on_a_new_database(&dir);
        let answers = batched_after_a_held_write(
            &queue,
            [
                Box::new(insert(1)),
                Box::new(|_: &mut DbConn| panic!("a bug in a write")),
                Box::new(insert(3)),
            ],
        );
        assert!(answers[0].is_ok(), "{answers:?}");
        assert!(
            matches!(answers[1], Err(ApiError::Unavailable)),
            "{answers:?}"
        );
        assert!(
            matches!(answers[2], Err(ApiError::Internal(_))),
            "{answers:?}"
        );
        assert!(
            matches!(answers[3], Err(ApiError::Unavailable)),
            "{answers:?}"
        );
        assert_eq!(committed(&file), Vec::<i64>::new());

        // The open transaction went with its connection: the next write commits on a new one.
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        runtime.block_on(queue.run(false, insert(4))).unwrap();
        assert_eq!(committed(&file), vec![4]);
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
