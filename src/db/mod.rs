//! The database: one connection type over SQLite and PostgreSQL, a pool, and migrations.

pub mod backup;
pub mod lane;
pub mod notices;
pub mod revocations;
pub mod schema;

use std::cell::Cell;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use tokio::sync::Semaphore;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::r2d2::{self, ManageConnection, Pool, PooledConnection};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use crate::config::{DbBackend, backend_of, sqlite_path};

/// A connection to whichever database the URL names.
#[derive(diesel::MultiConnection)]
pub enum DbConn {
    Pg(diesel::PgConnection),
    Sqlite(diesel::SqliteConnection),
}

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// Any advisory-lock number works as long as every instance uses the same one.
const MIGRATION_LOCK: i64 = 0x50_6f_73_74_67_61_74_65;

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("{0}")]
    Url(String),
    #[error("cannot connect to the database: {0}")]
    Connect(String),
    #[error("no database connection available: {0}")]
    Pool(#[from] r2d2::PoolError),
    #[error("database query failed: {0}")]
    Query(#[from] diesel::result::Error),
    #[error("migrations failed: {0}")]
    Migration(String),
    #[error("the database task was cancelled")]
    Blocking,
    #[error("the write was not committed: {0}")]
    Commit(String),
}

/// Opens connections of the backend that the URL's scheme names, never guessing.
#[derive(Debug)]
pub struct Manager {
    backend: DbBackend,
    url: String,
    /// SQLite's revocation signal, moved by every connection that ends a token.
    signal: Option<Arc<revocations::Signal>>,
}

impl Manager {
    fn new(backend: DbBackend, url: &str) -> Result<Manager, DbError> {
        let url = url.trim().to_owned();
        let signal = match backend {
            DbBackend::Postgres => None,
            DbBackend::Sqlite => Some(Arc::new(
                revocations::Signal::open(sqlite_path(&url)).map_err(|e| {
                    DbError::Connect(format!("cannot open the revocation signal: {e}"))
                })?,
            )),
        };
        Ok(Manager {
            backend,
            url,
            signal,
        })
    }
}

impl ManageConnection for Manager {
    type Connection = DbConn;
    type Error = r2d2::Error;

    fn connect(&self) -> Result<DbConn, r2d2::Error> {
        match self.backend {
            DbBackend::Postgres => diesel::PgConnection::establish(&self.url)
                .map(DbConn::Pg)
                .map_err(r2d2::Error::ConnectionError),
            DbBackend::Sqlite => {
                let mut conn = diesel::SqliteConnection::establish(sqlite_path(&self.url))
                    .map_err(r2d2::Error::ConnectionError)?;
                conn.batch_execute(
                    "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
                     PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000;",
                )
                .map_err(r2d2::Error::QueryError)?;
                if let Some(signal) = &self.signal {
                    revocations::watch(&mut conn, signal.clone())
                        .map_err(r2d2::Error::QueryError)?;
                }
                Ok(DbConn::Sqlite(conn))
            }
        }
    }

    fn is_valid(&self, conn: &mut DbConn) -> Result<(), r2d2::Error> {
        conn.batch_execute("SELECT 1")
            .map_err(r2d2::Error::QueryError)
    }

    /// Whether the connection was found dead while it was out (`Db::run`): then the pool
    /// drops it instead of handing it out again.
    fn has_broken(&self, _conn: &mut DbConn) -> bool {
        DEAD.replace(false)
    }
}

thread_local! {
    /// Set on the thread whose connection failed a statement and then a ping; read (and
    /// cleared) when that connection goes back to the pool, on the same thread.
    static DEAD: Cell<bool> = const { Cell::new(false) };
}

/// After a failed statement: whether the connection still answers. A PostgreSQL connection
/// can die with its server or network; nothing is pinged before use, so this is where a dead
/// one is noticed (and marked, so the pool drops it). An SQLite connection cannot die.
fn still_alive(conn: &mut DbConn) -> bool {
    let alive = match conn {
        DbConn::Pg(c) => c.batch_execute("SELECT 1").is_ok(),
        DbConn::Sqlite(_) => true,
    };
    if !alive {
        DEAD.set(true);
    }
    alive
}

/// A PostgreSQL URL whose sessions do not wait for the disk at commit
/// (`synchronous_commit=off`), for counters that are not worth a flush per request.
fn relaxed_url(url: &str) -> String {
    with_parameter(url, "options=-c%20synchronous_commit%3Doff")
}

/// A PostgreSQL URL with one more query parameter.
fn with_parameter(url: &str, parameter: &str) -> String {
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}{parameter}")
}

/// The pool, shared by every request and job.
#[derive(Clone)]
pub struct Db {
    pool: Pool<Manager>,
    backend: DbBackend,
    /// One permit per pooled connection: callers wait here, asynchronously, rather than as
    /// blocked threads inside the pool.
    permits: Arc<Semaphore>,
    /// SQLite's write lane, started on first use, with what its connection needs.
    lane: Arc<OnceLock<lane::Lane>>,
    url: Arc<str>,
    signal: Option<Arc<revocations::Signal>>,
    /// SQLite: the shared lock that keeps a restore from replacing the file under us.
    _hold: Option<Arc<std::fs::File>>,
    /// PostgreSQL: a few connections for the rate-limit counters, whose commits do not wait
    /// for the disk (`count`).
    counters: Option<(Pool<Manager>, Arc<Semaphore>)>,
    /// PostgreSQL: the change notices this process has heard (`notices.rs`).
    heard: Option<Arc<notices::Heard>>,
}

/// A pooled connection.
pub type PooledConn = PooledConnection<Manager>;

impl Db {
    /// Builds the pool (creating the SQLite file's folder) and checks one connection.
    pub fn connect(url: &str) -> Result<Db, DbError> {
        Self::open(url, true)
    }

    /// One connection outside any pool, for short commands: no background threads that could
    /// still be connecting while the process exits.
    pub fn connect_one(url: &str) -> Result<DbConn, DbError> {
        let backend = backend_of(url).map_err(DbError::Url)?;
        Self::prepare_sqlite_dir(backend, url)?;
        Manager::new(backend, url)?
            .connect()
            .map_err(|e| DbError::Connect(e.to_string()))
    }

    fn prepare_sqlite_dir(backend: DbBackend, url: &str) -> Result<(), DbError> {
        if backend == DbBackend::Sqlite
            && let Some(dir) = std::path::Path::new(sqlite_path(url)).parent()
            && !dir.as_os_str().is_empty()
        {
            std::fs::create_dir_all(dir)
                .map_err(|e| DbError::Connect(format!("cannot create {}: {e}", dir.display())))?;
        }
        Ok(())
    }

    /// Builds the pool without connecting yet: connections are made, or fail, on demand.
    pub fn connect_lazy(url: &str) -> Result<Db, DbError> {
        Self::open(url, false)
    }

    fn open(url: &str, check: bool) -> Result<Db, DbError> {
        let backend = backend_of(url).map_err(DbError::Url)?;
        Self::prepare_sqlite_dir(backend, url)?;
        let max = if backend == DbBackend::Sqlite { 8 } else { 10 };
        // Nothing is pinged before use (a query per checkout): a PostgreSQL connection found
        // dead after a failed statement is dropped by the pool (`still_alive`).
        let builder = Pool::builder()
            .max_size(max)
            .min_idle(Some(1))
            .test_on_check_out(false)
            .connection_timeout(Duration::from_secs(5));
        let counters = match backend {
            DbBackend::Postgres => {
                let pool = Pool::builder()
                    .max_size(COUNTER_CONNECTIONS)
                    .min_idle(Some(0))
                    .test_on_check_out(false)
                    .connection_timeout(Duration::from_secs(5))
                    .build_unchecked(Manager::new(backend, &relaxed_url(url.trim()))?);
                let permits = Arc::new(Semaphore::new(COUNTER_CONNECTIONS as usize));
                Some((pool, permits))
            }
            DbBackend::Sqlite => None,
        };
        let hold = match backend {
            DbBackend::Sqlite => Some(Arc::new(backup::hold(url)?)),
            DbBackend::Postgres => None,
        };
        let manager = Manager::new(backend, url)?;
        let signal = manager.signal.clone();
        let heard = (backend == DbBackend::Postgres).then(|| {
            notices::listen(&with_parameter(
                url.trim(),
                "application_name=socialgate-notices",
            ))
        });
        let pool = if check {
            builder
                .build(manager)
                .map_err(|e| DbError::Connect(e.to_string()))?
        } else {
            builder.build_unchecked(manager)
        };
        Ok(Db {
            pool,
            backend,
            permits: Arc::new(Semaphore::new(max as usize)),
            lane: Arc::default(),
            url: url.trim().into(),
            signal,
            _hold: hold,
            counters,
            heard,
        })
    }

    pub fn backend(&self) -> DbBackend {
        self.backend
    }

    /// A connection for synchronous callers (the command line, blocking tasks).
    pub fn get(&self) -> Result<PooledConn, DbError> {
        Ok(self.pool.get()?)
    }

    /// Where credentials stand, for caches of resolved tokens and keys: SQLite's revocation
    /// signal, or on PostgreSQL the credential notices heard. `None` means trust nothing.
    pub fn revocation_signal(&self) -> Option<u64> {
        match &self.heard {
            Some(heard) => heard.credentials(),
            None => self.signal.as_ref()?.read(),
        }
    }

    /// Where API keys stand, for the keys this process resolved lately: on PostgreSQL the
    /// credential notices heard; on SQLite a constant, since the process that revokes a key
    /// forgets it at once and is the database's one server (and reading the token signal would
    /// cost a system call per request).
    pub fn key_signal(&self) -> Option<u64> {
        match &self.heard {
            Some(heard) => heard.credentials(),
            None => Some(0),
        }
    }

    /// Where the organization's channel list stands, for caches of it: `None` means trust
    /// nothing (PostgreSQL while its change notices are not heard).
    pub fn channels_generation(&self, org_id: &str) -> Option<(u64, u64)> {
        let epoch = match &self.heard {
            Some(heard) => heard.epoch()?,
            None => 0,
        };
        Some((epoch, notices::channels_generation(org_id)))
    }

    /// Runs `f` with a pooled connection on the blocking thread pool.
    pub async fn run<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut DbConn) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
    {
        let heard = self.heard.clone();
        on_pool(&self.pool, &self.permits, move |pool| {
            let out = checked(pool, f);
            // Committed (or undone, which costs a lookup): this process trusts nothing it
            // resolved before; other instances hear the trigger's notice.
            if notices::take_ended()
                && let Some(heard) = heard
            {
                heard.credentials_moved();
            }
            out
        })
        .await
    }

    /// `run` for work that may run twice (reads, and writes that are the same when repeated):
    /// when the connection turns out dead, `f` runs once more on a fresh one, so a database
    /// restart costs no request an error.
    pub async fn read<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: Fn(&mut DbConn) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
    {
        on_pool(&self.pool, &self.permits, move |pool| retried(pool, f)).await
    }

    /// Runs `f` on a connection for counters: on PostgreSQL one whose commits do not wait for
    /// the disk (a crash may lose the last counts, nothing else); on SQLite as `read`.
    pub async fn count<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: Fn(&mut DbConn) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
    {
        match &self.counters {
            Some((pool, permits)) => on_pool(pool, permits, move |pool| retried(pool, f)).await,
            None => self.read(f).await,
        }
    }

    /// Runs `f` as a write transaction and returns its result once committed; `f`'s writes are
    /// undone when it returns an error. On SQLite it joins the write lane (`lane.rs`), whose
    /// batches commit together; on PostgreSQL it is `write_transaction` on a pooled connection.
    pub async fn write<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut DbConn) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<DbError> + From<diesel::result::Error> + Send + 'static,
    {
        if self.backend == DbBackend::Postgres {
            return self.run(|conn| write_transaction(conn, f)).await;
        }
        let lane = match self.lane.get() {
            Some(lane) => lane,
            None => {
                let manager = Manager {
                    backend: self.backend,
                    url: self.url.to_string(),
                    signal: self.signal.clone(),
                };
                let started = lane::Lane::start(move || {
                    manager
                        .connect()
                        .map_err(|e| DbError::Connect(e.to_string()))
                })
                .map_err(E::from)?;
                // Two callers may race to start it: the loser's lane ends with its handle.
                let _ = self.lane.set(started);
                self.lane.get().expect("the lane was just set")
            }
        };
        lane.run(f).await
    }

    /// `write` for work that commits on its own, one statement or a transaction it opens
    /// itself: on PostgreSQL it runs without an enclosing `BEGIN` and `COMMIT` (for one
    /// statement, one round trip instead of three; for a transaction, no savepoint inside it);
    /// on SQLite it joins the write lane like any write.
    pub async fn write_autocommit<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut DbConn) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<DbError> + From<diesel::result::Error> + Send + 'static,
    {
        match self.backend {
            DbBackend::Postgres => self.run(f).await,
            DbBackend::Sqlite => self.write(f).await,
        }
    }

    /// Applies pending migrations; on PostgreSQL under an advisory lock so instances can start together.
    pub fn migrate(&self) -> Result<usize, DbError> {
        let mut conn = self.get()?;
        migrate(&mut conn)
    }
}

/// How many connections the rate-limit counters have on PostgreSQL.
const COUNTER_CONNECTIONS: u32 = 4;

/// Waits for a permit, then runs `f` with `pool` on the blocking thread pool.
async fn on_pool<T, E, F>(pool: &Pool<Manager>, permits: &Arc<Semaphore>, f: F) -> Result<T, E>
where
    F: FnOnce(&Pool<Manager>) -> Result<T, E> + Send + 'static,
    T: Send + 'static,
    E: From<DbError> + Send + 'static,
{
    let permit = permits
        .clone()
        .acquire_owned()
        .await
        .map_err(|_| E::from(DbError::Blocking))?;
    let pool = pool.clone();
    actix_web::rt::task::spawn_blocking(move || {
        let _permit = permit;
        f(&pool)
    })
    .await
    .map_err(|_| E::from(DbError::Blocking))?
}

/// `checked`, and once more on a fresh connection when the first one turned out dead.
fn retried<T, E, F>(pool: &Pool<Manager>, f: F) -> Result<T, E>
where
    F: Fn(&mut DbConn) -> Result<T, E>,
    E: From<DbError>,
{
    let mut conn = pool.get().map_err(|e| E::from(DbError::Pool(e)))?;
    let out = f(&mut conn);
    if out.is_ok() || still_alive(&mut conn) {
        return out;
    }
    // Back to the pool first, which drops it (`has_broken`). When the server went away, the
    // other idle connections are dead too: each is checked before the one retry, and dropped.
    drop(conn);
    for _ in 0..=pool.max_size() {
        let mut fresh = pool.get().map_err(|e| E::from(DbError::Pool(e)))?;
        if still_alive(&mut fresh) {
            return checked_on(&mut fresh, f);
        }
    }
    checked(pool, f)
}

/// Runs `f` with a connection of `pool`; after a failure, checks the connection is alive.
fn checked<T, E, F>(pool: &Pool<Manager>, f: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConn) -> Result<T, E>,
    E: From<DbError>,
{
    let mut conn = pool.get().map_err(|e| E::from(DbError::Pool(e)))?;
    checked_on(&mut conn, f)
}

/// Runs `f` on `conn`; after a failure, checks the connection is alive.
fn checked_on<T, E, F>(conn: &mut DbConn, f: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConn) -> Result<T, E>,
{
    let out = f(conn);
    if out.is_err() {
        still_alive(conn);
    }
    out
}

/// Applies the embedded migrations of the connection's backend and returns how many ran.
pub fn migrate(conn: &mut DbConn) -> Result<usize, DbError> {
    let mig = |e: Box<dyn std::error::Error + Send + Sync>| DbError::Migration(e.to_string());
    match conn {
        DbConn::Sqlite(c) => Ok(c
            .run_pending_migrations(SQLITE_MIGRATIONS)
            .map_err(mig)?
            .len()),
        DbConn::Pg(c) => {
            diesel::sql_query(format!("SELECT pg_advisory_lock({MIGRATION_LOCK})")).execute(c)?;
            let ran = c
                .run_pending_migrations(POSTGRES_MIGRATIONS)
                .map(|v| v.len())
                .map_err(mig);
            diesel::sql_query(format!("SELECT pg_advisory_unlock({MIGRATION_LOCK})")).execute(c)?;
            ran
        }
    }
}

/// Runs the same expression against the concrete connection, for the few statements
/// (upserts, row locks) that the multi-backend query builder cannot express.
#[macro_export]
macro_rules! per_backend {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn {
            $crate::db::DbConn::Pg($c) => $body,
            $crate::db::DbConn::Sqlite($c) => $body,
        }
    };
}

/// Serializes this process's SQLite write transactions. SQLite has one writer at a time; a
/// second connection that finds the lock taken sleeps in its busy handler (a millisecond or
/// more), so letting our own writers queue here instead keeps a busy server from sleeping.
static SQLITE_WRITER: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Holds this process's SQLite write lock.
fn writer_lock() -> std::sync::MutexGuard<'static, ()> {
    // A panic elsewhere while holding the lock leaves no state to protect.
    SQLITE_WRITER
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Runs `f` in a write transaction: on SQLite one writer of this process at a time, with the
/// write lock taken at `BEGIN` (so no read inside can be invalidated by another writer); on
/// PostgreSQL an ordinary transaction. Inside a transaction already (the write lane's batch) it
/// is a savepoint.
pub fn write_transaction<T, E, F>(conn: &mut DbConn, f: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConn) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    use diesel::connection::{AnsiTransactionManager, TransactionManager};
    let DbConn::Sqlite(sqlite) = conn else {
        return conn.transaction(f);
    };
    let open = AnsiTransactionManager::transaction_manager_status_mut(sqlite)
        .transaction_depth()?
        .is_some();
    if open {
        return conn.transaction(f);
    }
    let _writer = writer_lock();
    AnsiTransactionManager::begin_transaction_sql(sqlite, "BEGIN IMMEDIATE")?;
    let result = f(conn);
    let DbConn::Sqlite(sqlite) = conn else {
        unreachable!("still the same connection");
    };
    match result {
        Ok(value) => {
            <AnsiTransactionManager as TransactionManager<_>>::commit_transaction(sqlite)?;
            Ok(value)
        }
        Err(e) => {
            let _ = <AnsiTransactionManager as TransactionManager<_>>::rollback_transaction(sqlite);
            Err(e)
        }
    }
}

/// Now, in UTC, as stored in every `Timestamp` column.
pub fn now() -> chrono::NaiveDateTime {
    chrono::Utc::now().naive_utc()
}

/// A JSON text column read as `T`. A value that does not parse is logged (table and column
/// named) and read as `T::default()`, so one corrupt row cannot take a page down unnoticed.
pub fn json_column<T: serde::de::DeserializeOwned + Default>(text: &str, column: &str) -> T {
    serde_json::from_str(text).unwrap_or_else(|e| {
        tracing::error!(%column, error = %e, "a JSON column does not parse; read as empty");
        T::default()
    })
}
