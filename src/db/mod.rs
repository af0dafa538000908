//! Database access for both engines: one connection type over PostgreSQL and SQLite, a pool
//! that picks the engine by URL, the embedded migrations, and `run`/`write`, which move every
//! query off the async workers: reads onto the pool's reader threads (`readers`), writes onto
//! its writers' thread (`writer`).

pub mod kept_sql;
pub mod readers;
pub mod schema;
pub mod wal_checkpoint;
pub mod writer;
pub mod written_in;

use std::ops::Deref;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use diesel::backend::Backend;
use diesel::connection::SimpleConnection;
use diesel::connection::TransactionManager;
use diesel::pg::PgConnection;
use diesel::prelude::*;
use diesel::query_builder::{AsChangeset, AstPass, QueryFragment, QueryId};
use diesel::r2d2::{ManageConnection, Pool, PooledConnection, R2D2Connection};
use diesel::sqlite::SqliteConnection;
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use crate::error::ApiError;

/// A connection to whichever engine the configured URL names.
#[derive(diesel::MultiConnection)]
pub enum DbConn {
    Pg(PgConnection),
    Sqlite(SqliteConnection),
}

impl DbConn {
    pub fn engine(&self) -> Engine {
        match self {
            DbConn::Pg(_) => Engine::Postgres,
            DbConn::Sqlite(_) => Engine::Sqlite,
        }
    }
}

/// Runs `body` with `conn` rebound to the engine's own connection, for statements diesel builds
/// for each engine but not for `DbConn` (multi-row inserts, PostgreSQL's sequences), and for the
/// hottest statements: through `DbConn` diesel writes a statement's SQL text on every pass over
/// it (checking whether it may be cached, binding its values), not only when preparing it; on
/// the engine's own connection a statement known at compile time is found in the cache by its
/// type and bound without any text. The body is compiled once per engine.
#[macro_export]
macro_rules! on_engine {
    ($conn:expr, |$native:ident| $body:expr) => {
        match $conn {
            $crate::db::DbConn::Pg($native) => $body,
            $crate::db::DbConn::Sqlite($native) => $body,
        }
    };
}

/// The pooled connections for reads, and the queue of writes for the one more connection that
/// writes take turns on (`writer`). It derefs to the r2d2 pool for checkouts.
#[derive(Clone)]
pub struct DbPool {
    connections: Pool<ConnectionManager>,
    reads: readers::ReadQueue,
    writes: writer::WriteQueue,
    /// Set for a SQLite file; stops with the last clone of the pool.
    _checkpointer: Option<wal_checkpoint::Checkpointer>,
}

impl Deref for DbPool {
    type Target = Pool<ConnectionManager>;

    fn deref(&self) -> &Self::Target {
        &self.connections
    }
}

const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");
const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");

/// Which engine a database URL names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Engine {
    Postgres,
    Sqlite,
}

impl Engine {
    pub fn of_url(url: &str) -> Engine {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Engine::Postgres
        } else {
            Engine::Sqlite
        }
    }
}

/// The SQLite file path a URL names (`sqlite://path`, `sqlite:path` or a plain path).
pub fn sqlite_path(url: &str) -> &str {
    url.strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url)
}

/// An r2d2 manager that opens the engine named by the URL, sets the SQLite pragmas on every new
/// connection, and reports the real connection error (diesel's derived `establish` hides it).
#[derive(Debug, Clone)]
pub struct ConnectionManager {
    url: String,
    engine: Engine,
    /// SQLite's `mmap_size` for each connection, in bytes (see [`PoolSettings`]).
    sqlite_mmap_bytes: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("cannot connect: {0}")]
    Connect(#[from] diesel::ConnectionError),
    #[error("connection check failed: {0}")]
    Query(#[from] diesel::result::Error),
}

/// Pragmas for every SQLite connection: enforce foreign keys; WAL so that readers never block the
/// writer; `synchronous = NORMAL`, which in WAL mode keeps every committed transaction through a
/// crash of the process (only a power loss can drop the last ones); wait for a busy lock rather
/// than fail at once.
const SQLITE_PRAGMAS: &str = "PRAGMA foreign_keys = ON; PRAGMA journal_mode = WAL; \
     PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000;";

impl ManageConnection for ConnectionManager {
    type Connection = DbConn;
    type Error = ConnectError;

    fn connect(&self) -> Result<DbConn, ConnectError> {
        match self.engine {
            Engine::Postgres => Ok(DbConn::Pg(PgConnection::establish(&self.url)?)),
            Engine::Sqlite => {
                let mut conn = SqliteConnection::establish(sqlite_path(&self.url))?;
                conn.batch_execute(SQLITE_PRAGMAS)?;
                if self.sqlite_mmap_bytes > 0 {
                    conn.batch_execute(&format!("PRAGMA mmap_size = {};", self.sqlite_mmap_bytes))?;
                }
                Ok(DbConn::Sqlite(conn))
            }
        }
    }

    fn is_valid(&self, conn: &mut DbConn) -> Result<(), ConnectError> {
        Ok(conn.ping()?)
    }

    fn has_broken(&self, conn: &mut DbConn) -> bool {
        conn.is_broken()
    }
}

/// How many connections the pool holds, how long a request waits for one, and how SQLite's
/// connections read the file.
#[derive(Debug, Clone, Copy)]
pub struct PoolSettings {
    /// Connections for reads, each with its reader thread (writes take turns on one more).
    pub max_size: u32,
    pub checkout_timeout: Duration,
    /// How much of the SQLite file each connection reads through a memory map rather than with
    /// `read` calls (`PRAGMA mmap_size`), in MiB; 0, the default, maps nothing. Mapped pages are
    /// the operating system's file cache, shared by every connection (each one's mapping counts
    /// in the process's resident memory all the same), and an I/O error on a mapped page stops
    /// the process instead of failing a statement, so this is the operator's choice. Ignored on
    /// PostgreSQL.
    pub sqlite_mmap_mib: u64,
}

impl PoolSettings {
    /// `max_size` connections, no memory map.
    pub fn sized(max_size: u32, checkout_timeout: Duration) -> PoolSettings {
        PoolSettings {
            max_size,
            checkout_timeout,
            sqlite_mmap_mib: 0,
        }
    }
}

/// The most SQLite maps of a file (its compiled `SQLITE_MAX_MMAP_SIZE`, 0x7fff0000 bytes); a
/// larger `mmap_size` is silently cut to it.
pub const SQLITE_MAX_MMAP_MIB: u64 = 2047;

/// Builds the pool without opening a connection, so that the caller decides what a database that
/// is down means (start-up fails in `migrate`; requests answer 503 and the pool recovers).
pub fn build_pool(url: &str, settings: PoolSettings) -> DbPool {
    let PoolSettings {
        max_size,
        checkout_timeout,
        sqlite_mmap_mib,
    } = settings;
    if Engine::of_url(url) == Engine::Sqlite {
        if let Some(dir) = std::path::Path::new(sqlite_path(url)).parent() {
            if !dir.as_os_str().is_empty() {
                // An error here surfaces as a clear connection error on first use.
                let _ = std::fs::create_dir_all(dir);
            }
        }
    }
    let engine = Engine::of_url(url);
    let checkpointer = match engine {
        Engine::Sqlite => wal_checkpoint::Checkpointer::start(sqlite_path(url))
            .map_err(|error| tracing::warn!(%error, "cannot start the checkpointing thread"))
            .ok(),
        Engine::Postgres => None,
    };
    let manager = ConnectionManager {
        url: url.to_owned(),
        engine,
        sqlite_mmap_bytes: sqlite_mmap_mib << 20,
    };
    DbPool {
        connections: Pool::builder()
            .max_size(max_size)
            .min_idle(Some(0))
            .connection_timeout(checkout_timeout)
            // `checked_out` checks a connection only when it may have gone stale.
            .test_on_check_out(false)
            .build_unchecked(manager.clone()),
        reads: readers::ReadQueue::start(max_size, checkout_timeout),
        writes: writer::WriteQueue::start(writer::Writer::new(ConnectionManager {
            url: writer::connect_url(url, engine, checkout_timeout),
            ..manager
        })),
        _checkpointer: checkpointer,
    }
}

/// Applies the embedded migrations of the connection's engine; returns the names applied.
pub fn migrate(conn: &mut DbConn) -> Result<Vec<String>, Box<dyn std::error::Error + Send + Sync>> {
    let applied = match conn {
        DbConn::Pg(c) => c.run_pending_migrations(POSTGRES_MIGRATIONS)?,
        DbConn::Sqlite(c) => c.run_pending_migrations(SQLITE_MIGRATIONS)?,
    };
    Ok(applied.iter().map(ToString::to_string).collect())
}

/// Runs `f` with a pooled connection on a reader thread, inside the caller's span (what it logs
/// carries the request's id).
pub async fn run<T, F>(pool: &DbPool, f: F) -> Result<T, ApiError>
where
    F: FnOnce(&mut DbConn) -> Result<T, ApiError> + Send + 'static,
    T: Send + 'static,
{
    let connections = pool.connections.clone();
    let span = tracing::Span::current();
    pool.reads
        .run(move |wait| span.in_scope(|| with_connection(&connections, wait, f)))
        .await
}

/// Runs `f` with a connection checked out within `wait`, and notes whether it left the
/// connection trusted.
fn with_connection<T>(
    pool: &Pool<ConnectionManager>,
    wait: Duration,
    f: impl FnOnce(&mut DbConn) -> Result<T, ApiError>,
) -> Result<T, ApiError> {
    let mut conn = checked_out(pool, wait)?;
    let result = f(&mut conn);
    PooledConnection::extensions_mut(&mut conn).insert(LastGood::after(&result));
    result
}

/// How long after its last good use a pooled connection is trusted without a check. Checking
/// every checkout (`SELECT 1`) cost a round trip per request; a connection in steady use has
/// just proved itself, and one that sat idle (the database may have restarted meanwhile) or
/// whose last use ended in an unavailable database or an internal error is checked first.
const TRUSTED_AFTER_USE: Duration = Duration::from_secs(1);

/// When a connection (pooled, or the writers') last finished work without an unavailable
/// database or an internal error, either of which may be the connection's fault.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct LastGood(Option<Instant>);

impl LastGood {
    /// What a use that ended in `result` leaves.
    pub(crate) fn after<T>(result: &Result<T, ApiError>) -> LastGood {
        match result {
            Err(ApiError::Unavailable | ApiError::Internal(_)) => LastGood(None),
            _ => LastGood(Some(Instant::now())),
        }
    }

    /// Whether the connection may be used without a check first.
    pub(crate) fn trusted(&self) -> bool {
        self.0
            .is_some_and(|last| last.elapsed() < TRUSTED_AFTER_USE)
    }
}

/// A pooled connection that is trusted or has just answered a check. One that fails the check
/// is retired (marked broken, so the pool drops it rather than taking it back) and the next
/// is tried: after an outage, a pool's worth of stale connections is cleared at once. An idle
/// connection is taken even when `wait` is over; a new one is waited for until then.
fn checked_out(
    pool: &Pool<ConnectionManager>,
    wait: Duration,
) -> Result<PooledConnection<ConnectionManager>, ApiError> {
    let deadline = Instant::now() + wait;
    for _ in 0..=pool.max_size() {
        let left = deadline.saturating_duration_since(Instant::now());
        let mut conn = pool.get_timeout(left).map_err(ApiError::from_pool)?;
        let trusted = PooledConnection::extensions(&conn)
            .get::<LastGood>()
            .is_some_and(LastGood::trusted);
        if trusted || conn.ping().is_ok() {
            return Ok(conn);
        }
        tracing::warn!("a pooled database connection failed its check; retiring it");
        <DbConn as Connection>::TransactionManager::transaction_manager_status_mut(&mut conn)
            .set_in_error();
    }
    Err(ApiError::Unavailable)
}

/// Runs `f` in a writing transaction, which it may share with the writes queued beside it (each
/// in a savepoint of its own; see `writer::WriteQueue`): its changes are kept when it returns
/// `Ok` and the transaction commits, and undone (audit rows included) when it returns `Err`.
/// Afterwards the sessions this process remembers are checked in the database again (see
/// `write_epoch`).
pub async fn write<T, F>(pool: &DbPool, f: F) -> Result<T, ApiError>
where
    F: FnOnce(&mut DbConn) -> Result<T, ApiError> + Send + 'static,
    T: Send + 'static,
{
    pool.writes.run(true, f).await
}

/// [`write`] for a change that touches no user, role, existing session or unit membership (a
/// cadre edit, a login): the sessions this process remembers stay trusted after it. Under a stream of edits,
/// every write retiring them made every request read its session again, about 7 % of the
/// server's CPU in the write benchmark. Anything that could change who may do what uses
/// [`write`].
pub async fn write_keeping_sessions<T, F>(pool: &DbPool, f: F) -> Result<T, ApiError>
where
    F: FnOnce(&mut DbConn) -> Result<T, ApiError> + Send + 'static,
    T: Send + 'static,
{
    pool.writes.run(false, f).await
}

/// Called by the writers' thread after a batch holding a `write` has ended.
fn sessions_may_have_changed() {
    WRITE_EPOCH.fetch_add(1, Ordering::SeqCst);
}

/// Advanced after every batch holding a `write` has committed or rolled back (on the writers'
/// thread, so also when the request has gone away): what was read from the database before it
/// (the remembered sessions of `auth::SessionCache`) may be out of date.
/// `write_keeping_sessions` leaves it.
static WRITE_EPOCH: AtomicU64 = AtomicU64::new(0);

pub fn write_epoch() -> u64 {
    WRITE_EPOCH.load(Ordering::SeqCst)
}

/// Runs `f` in a read-only transaction that sees one snapshot of the database throughout, for
/// reads of many statements (an export's batches) that must see one consistent register without
/// taking the write queue: PostgreSQL's `REPEATABLE READ`; on SQLite (WAL) a transaction keeps
/// the snapshot of its first read until it ends.
pub fn read_snapshot<T>(
    conn: &mut DbConn,
    f: impl FnOnce(&mut DbConn) -> Result<T, ApiError>,
) -> Result<T, ApiError> {
    conn.transaction(|conn| {
        if conn.engine() == Engine::Postgres {
            conn.batch_execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")?;
        }
        f(conn)
    })
}

/// Refreshes the statistics the query planner chooses indexes by, after a bulk load. SQLite
/// keeps none until asked, and without them it walks a whole sort index to check a search's few
/// matches; a bounded sample (`analysis_limit`) keeps this to milliseconds at any size.
/// PostgreSQL's autovacuum keeps its own statistics; this brings them up to date at once, and
/// merges the search index's pending entries (see [`MERGE_PENDING_SEARCH_ENTRIES`]).
pub fn refresh_statistics(conn: &mut DbConn) -> QueryResult<()> {
    match conn {
        DbConn::Sqlite(c) => c.batch_execute("PRAGMA analysis_limit = 1000; ANALYZE;"),
        DbConn::Pg(c) => c.batch_execute(&format!("ANALYZE; {MERGE_PENDING_SEARCH_ENTRIES}")),
    }
}

/// After a load of `loaded` cadres, merges each of SQLite's FTS5 trigram tables into one b-tree
/// when the load is at least a quarter of the register after it. FTS5 starts a new b-tree each
/// time it writes out what statements added (at a commit or a savepoint, when its buffer fills,
/// or before a rowid not above the last) and merges them only four at a time, and a search reads
/// each of its trigrams' lists in every one: after seeding 1,000,000 cadres ten of them made a
/// pinyin's first page in name order about six times as slow as one (docs/performance.md,
/// "SQLite's trigram tables merged"). Merging rewrites the tables at a cost their size sets
/// (18 us a cadre, 18 s at 1,000,000), so after a quarter it costs at most 72 us a loaded cadre,
/// under half of what importing one takes (about 170 us); smaller loads leave their b-trees to
/// FTS5. PostgreSQL's trigram index has no such parts: nothing to do, not even the count.
pub fn merge_search_tables_after_load(conn: &mut DbConn, loaded: u64) -> QueryResult<()> {
    let DbConn::Sqlite(c) = conn else {
        return Ok(());
    };
    let total: i64 = schema::cadres::table.count().get_result(c)?;
    if loaded > 0 && loaded.saturating_mul(4) >= u64::try_from(total).unwrap_or(0) {
        c.batch_execute(
            "INSERT INTO cadre_search (cadre_search) VALUES ('optimize'); \
             INSERT INTO cadre_search_by_name (cadre_search_by_name) VALUES ('optimize');",
        )?;
    }
    Ok(())
}

/// PostgreSQL keeps new entries of a GIN index in an unsorted pending list, up to
/// `gin_pending_list_limit` (4 MB), and every search reads the whole list: after the demo seed
/// of 50,000 cadres its 1,736 entries cost each search 2 to 3 ms, more than the search itself.
/// Entering them one by one instead (`fastupdate = off`) made the seed 2.3 times as slow.
/// Autovacuum merges the list too, but only when it next visits the table. Only the index's
/// owner (or a superuser) may merge, and not on a standby: a service connected as another role
/// skips it rather than fail the import or the job it is part of.
const MERGE_PENDING_SEARCH_ENTRIES: &str = "SELECT gin_clean_pending_list(oid) FROM pg_class \
     WHERE oid = to_regclass('cadres_search_text_trgm_idx') \
     AND pg_has_role(relowner, 'USAGE') AND NOT pg_is_in_recovery();";

/// The periodic job's upkeep of the indexes between bulk loads. SQLite: `PRAGMA optimize`
/// analyses only tables whose size changed a lot since they were last analysed, within the same
/// bounded sample. PostgreSQL, whose autovacuum keeps the statistics: the search index's pending
/// entries are merged.
pub fn maintain_indexes(conn: &mut DbConn) -> QueryResult<()> {
    match conn {
        DbConn::Sqlite(c) => c.batch_execute("PRAGMA analysis_limit = 1000; PRAGMA optimize;"),
        DbConn::Pg(c) => c.batch_execute(MERGE_PENDING_SEARCH_ENTRIES),
    }
}

/// A transaction that takes the write lock first. Updating the audit chain's head row before
/// anything else serialises writers on both engines: on PostgreSQL it is a row lock held to
/// commit; on SQLite a write as the first statement takes the database's write lock (waiting
/// out `busy_timeout`), so a transaction never reads a snapshot it then cannot write from.
pub fn write_transaction<T, F>(conn: &mut DbConn, f: F) -> Result<T, ApiError>
where
    F: FnOnce(&mut DbConn) -> Result<T, ApiError>,
{
    conn.transaction(|conn| {
        use schema::audit_chain::dsl::{audit_chain, id, last_seq};
        on_engine!(&mut *conn, |native| kept_update(
            audit_chain,
            last_seq.eq(last_seq),
            id.eq(1)
        )
        .execute(native))?;
        f(conn)
    })
}

/// `UPDATE table SET changes WHERE filter`, kept prepared on its connection. Diesel prepares
/// every UPDATE anew on each run, because a changeset's SQL can vary with its values (it leaves
/// out a `None`). This one is kept by its SQL text, so each shape is prepared once: use it for
/// changesets of few shapes (`treat_none_as_null`, or plain `column.eq(value)` tuples). On
/// SQLite, preparing the cadre update with its triggers was a sixth of the server's CPU in the
/// write benchmark, all of it under the write gate.
pub struct KeptUpdate<F, V, W> {
    from: F,
    changes: V,
    filter: W,
}

pub fn kept_update<T, C, W>(
    table: T,
    changes: C,
    filter: W,
) -> KeptUpdate<T::FromClause, C::Changeset, W>
where
    T: Table,
    C: AsChangeset<Target = T>,
{
    KeptUpdate {
        from: table.from_clause(),
        changes: changes.as_changeset(),
        filter,
    }
}

impl<F, V, W> QueryId for KeptUpdate<F, V, W> {
    /// No static id: the statement cache then keys the statement by its SQL text.
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<F, V, W, DB> QueryFragment<DB> for KeptUpdate<F, V, W>
where
    DB: Backend,
    F: QueryFragment<DB>,
    V: QueryFragment<DB>,
    W: QueryFragment<DB>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        out.push_sql("UPDATE ");
        self.from.walk_ast(out.reborrow())?;
        out.push_sql(" SET ");
        self.changes.walk_ast(out.reborrow())?;
        out.push_sql(" WHERE ");
        self.filter.walk_ast(out.reborrow())
    }
}

impl<F, V, W, Conn> RunQueryDsl<Conn> for KeptUpdate<F, V, W> {}

/// The current UTC time, truncated to microseconds (what both engines store).
pub fn now() -> chrono::NaiveDateTime {
    truncate_to_micros(chrono::Utc::now().naive_utc())
}

pub fn truncate_to_micros(t: chrono::NaiveDateTime) -> chrono::NaiveDateTime {
    chrono::Timelike::with_nanosecond(&t, t.and_utc().timestamp_subsec_micros() * 1000).unwrap_or(t)
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use tracing::Instrument;

    use super::*;

    /// Log output kept in memory, for the one test of this binary that sets the global subscriber.
    #[derive(Clone, Default)]
    struct CapturedLog(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for CapturedLog {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for CapturedLog {
        type Writer = CapturedLog;

        fn make_writer(&'a self) -> CapturedLog {
            self.clone()
        }
    }

    /// The bundled SQLite is built as `.cargo/config.toml` asks: a page cache per connection
    /// (without `ENABLE_MEMORY_MANAGEMENT`, whose one shared cache the reader threads queued on)
    /// and no global memory statistics (another lock on every allocation).
    #[test]
    fn sqlite_is_built_with_a_page_cache_per_connection() {
        #[derive(QueryableByName)]
        struct CompileOption {
            #[diesel(sql_type = diesel::sql_types::Text)]
            compile_options: String,
        }
        let mut conn = SqliteConnection::establish(":memory:").unwrap();
        let options: Vec<String> = diesel::sql_query("PRAGMA compile_options")
            .load::<CompileOption>(&mut conn)
            .unwrap()
            .into_iter()
            .map(|option| option.compile_options)
            .collect();
        let has = |option: &str| options.iter().any(|o| o == option);
        assert!(
            has("THREADSAFE=1") && !has("ENABLE_MEMORY_MANAGEMENT") && has("DEFAULT_MEMSTATUS=0"),
            "{options:?}"
        );
    }

    /// The limit `TONGXIN_SQLITE_MMAP_MIB` is checked against is the bundled SQLite's own: a
    /// larger map is cut to it, and the largest accepted setting is within it.
    #[test]
    fn sqlite_maps_at_most_its_compiled_limit() {
        #[derive(QueryableByName)]
        struct MmapSize {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            mmap_size: i64,
        }
        let dir = tempfile::tempdir().unwrap();
        let mut conn =
            SqliteConnection::establish(dir.path().join("map.db").to_str().unwrap()).unwrap();
        let mut mapped = |bytes: u64| {
            diesel::sql_query(format!("PRAGMA mmap_size = {bytes}"))
                .get_result::<MmapSize>(&mut conn)
                .unwrap()
                .mmap_size
        };
        assert_eq!(mapped(4 << 30), 0x7fff_0000);
        assert_eq!(
            mapped(SQLITE_MAX_MMAP_MIB << 20),
            (SQLITE_MAX_MMAP_MIB << 20) as i64
        );
    }

    #[test]
    fn a_read_waits_for_a_connection_only_as_long_as_it_is_given() {
        let dir = tempfile::tempdir().unwrap();
        let pool = build_pool(
            dir.path().join("wait.db").to_str().unwrap(),
            PoolSettings::sized(1, Duration::from_secs(30)),
        );
        let held = pool.connections.get().unwrap();
        let started = Instant::now();
        let answer = with_connection(&pool.connections, Duration::from_millis(50), |_| Ok(()));
        assert!(matches!(answer, Err(ApiError::Unavailable)), "{answer:?}");
        // Not the pool's own 30 s.
        assert!(started.elapsed() < Duration::from_secs(5));
        drop(held);
        // A free connection is taken even when no time is left.
        with_connection(&pool.connections, Duration::ZERO, |_| Ok(())).unwrap();
    }

    #[test]
    fn what_reads_and_writes_log_on_other_threads_carries_the_requests_span() {
        let log = CapturedLog::default();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(log.clone())
            .with_ansi(false)
            .finish();
        tracing::subscriber::set_global_default(subscriber)
            .expect("no other test of this binary sets the global subscriber");
        let dir = tempfile::tempdir().unwrap();
        let pool = build_pool(
            dir.path().join("spans.db").to_str().unwrap(),
            PoolSettings::sized(1, Duration::from_secs(2)),
        );
        // A write's transaction takes the audit chain's lock first.
        migrate(&mut pool.connections.get().unwrap()).unwrap();
        actix_web::rt::System::new().block_on(async {
            run(&pool, |_| {
                tracing::warn!("a line from a read");
                Ok(())
            })
            .instrument(tracing::info_span!("request", request_id = "req-read-1"))
            .await
            .unwrap();
            pool.writes
                .run(false, |_| {
                    tracing::warn!("a line from a write");
                    Ok(())
                })
                .instrument(tracing::info_span!("request", request_id = "req-write-1"))
                .await
                .unwrap();
        });
        let text = String::from_utf8(log.0.lock().unwrap().clone()).unwrap();
        for (line, id) in [
            ("a line from a read", "req-read-1"),
            ("a line from a write", "req-write-1"),
        ] {
            assert!(
                text.lines().any(|l| l.contains(line) && l.contains(id)),
                "{line} with {id} in:\n{text}"
            );
        }
    }
}
