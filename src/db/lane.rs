//! The SQLite write lane: one thread with a connection of its own runs short write jobs in
//! batches, one transaction per batch (group commit). SQLite has a single writer anyway; running
//! the hot writes (code exchanges) one after the other on one connection spares each of them a
//! thread hop, the contention for the write lock, a connection whose page cache another writer
//! just invalidated, and a commit of its own. Each job runs in a savepoint, so a job that fails
//! leaves no trace, and learns its result only once the batch is committed.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc;

use diesel::Connection;
use diesel::connection::AnsiTransactionManager;

use super::{DbConn, DbError, writer_lock};

/// What a job hands back: called once the batch is committed (`Ok`) or rolled back (`Err`).
type Reply = Box<dyn FnOnce(Result<(), String>) + Send>;
type Job = Box<dyn FnOnce(&mut DbConn) -> Reply + Send>;

/// The most jobs committed together.
const MAX_BATCH: usize = 256;

/// A handle on the lane's thread; the thread ends when the last handle is dropped.
pub struct Lane {
    jobs: mpsc::Sender<Job>,
}

impl Lane {
    /// Starts the thread; `connect` opens (and reopens, after a failed batch) its connection.
    pub fn start<C>(connect: C) -> Result<Lane, DbError>
    where
        C: Fn() -> Result<DbConn, DbError> + Send + 'static,
    {
        let mut conn = connect()?;
        let (jobs, queue) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("sqlite-write-lane".into())
            .spawn(move || {
                while let Ok(first) = queue.recv() {
                    let mut batch = vec![first];
                    batch.extend(queue.try_iter().take(MAX_BATCH - 1));
                    if !run_batch(&mut conn, batch) {
                        // The connection may be left inside a transaction: start afresh.
                        match connect() {
                            Ok(fresh) => conn = fresh,
                            Err(e) => {
                                tracing::error!(error = %e, "the write lane cannot reconnect")
                            }
                        }
                    }
                }
            })
            .map_err(|e| DbError::Connect(format!("cannot start the write lane: {e}")))?;
        Ok(Lane { jobs })
    }

    /// Runs `f` in the lane and returns its result once it is committed. Whatever `f` wrote is
    /// undone when it returns an error.
    pub async fn run<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut DbConn) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<DbError> + From<diesel::result::Error> + Send + 'static,
    {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move |conn: &mut DbConn| {
            let result = conn.transaction(f);
            Box::new(move |committed: Result<(), String>| {
                let _ = tx.send(match committed {
                    Ok(()) => result,
                    Err(why) => Err(E::from(DbError::Commit(why))),
                });
            })
        });
        self.jobs
            .send(job)
            .map_err(|_| E::from(DbError::Blocking))?;
        rx.await.map_err(|_| E::from(DbError::Blocking))?
    }
}

/// Runs one batch in one transaction; false when the connection should be replaced.
fn run_batch(conn: &mut DbConn, batch: Vec<Job>) -> bool {
    let DbConn::Sqlite(sqlite) = conn else {
        unreachable!("the write lane runs on SQLite only");
    };
    let _writer = writer_lock();
    if let Err(e) = AnsiTransactionManager::begin_transaction_sql(sqlite, "BEGIN IMMEDIATE") {
        tracing::warn!(error = %e, jobs = batch.len(), "the write lane could not begin");
        // Dropping the jobs answers each caller with an error.
        return false;
    }
    let mut replies = Vec::with_capacity(batch.len());
    for job in batch {
        match catch_unwind(AssertUnwindSafe(|| job(conn))) {
            Ok(reply) => replies.push(reply),
            Err(_) => {
                // The savepoint was left open; the whole batch goes with the connection.
                fail(replies, "a job of its batch panicked");
                return false;
            }
        }
    }
    let DbConn::Sqlite(sqlite) = conn else {
        unreachable!("the write lane runs on SQLite only");
    };
    match <AnsiTransactionManager as diesel::connection::TransactionManager<_>>::commit_transaction(
        sqlite,
    ) {
        Ok(()) => {
            for reply in replies {
                reply(Ok(()));
            }
            true
        }
        Err(e) => {
            tracing::warn!(error = %e, "the write lane could not commit");
            fail(replies, &e.to_string());
            false
        }
    }
}

fn fail(replies: Vec<Reply>, why: &str) {
    for reply in replies {
        reply(Err(why.to_owned()));
    }
}

#[cfg(test)]
mod tests {
    use diesel::connection::SimpleConnection;
    use diesel::prelude::*;
    use diesel::sql_types::BigInt;

    use super::*;

    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }

    fn open(path: &std::path::Path) -> Result<DbConn, DbError> {
        let mut conn = diesel::SqliteConnection::establish(&path.display().to_string())
            .map_err(|e| DbError::Connect(e.to_string()))?;
        conn.batch_execute("PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 5000;")?;
        Ok(DbConn::Sqlite(conn))
    }

    fn rows(path: &std::path::Path, filter: &str) -> i64 {
        let mut conn = open(path).unwrap();
        diesel::sql_query(format!("SELECT COUNT(*) AS n FROM t {filter}"))
            .get_result::<Count>(&mut conn)
            .unwrap()
            .n
    }

    fn insert(conn: &mut DbConn, n: i64) -> Result<(), DbError> {
        diesel::sql_query(format!("INSERT INTO t (n) VALUES ({n})")).execute(conn)?;
        Ok(())
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn batched_jobs_commit_together_and_a_failed_job_leaves_no_trace() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("lane.db");
        open(&path)
            .unwrap()
            .batch_execute("CREATE TABLE t (n INTEGER NOT NULL)")
            .unwrap();
        let lane = std::sync::Arc::new({
            let path = path.clone();
            Lane::start(move || open(&path)).unwrap()
        });

        // Many jobs at once, so batches hold several: odd ones write, then fail.
        let tasks: Vec<_> = (0..200i64)
            .map(|n| {
                let lane = lane.clone();
                tokio::spawn(async move {
                    lane.run(move |conn| {
                        insert(conn, n)?;
                        if n % 2 == 1 {
                            return Err(DbError::Blocking);
                        }
                        Ok(n)
                    })
                    .await
                })
            })
            .collect();
        for (n, task) in tasks.into_iter().enumerate() {
            let result = task.await.unwrap();
            assert_eq!(result.is_ok(), n % 2 == 0, "job {n}: {result:?}");
        }
        assert_eq!(rows(&path, ""), 100);
        assert_eq!(rows(&path, "WHERE n % 2 = 1"), 0);

        // A job that panics takes its batch's uncommitted work with it, answers with an
        // error, and the lane goes on with a fresh connection.
        let panicked = lane
            .run(|conn| -> Result<(), DbError> {
                insert(conn, 1000)?;
                panic!("a bug in a job");
            })
            .await;
        assert!(panicked.is_err());
        assert_eq!(rows(&path, "WHERE n = 1000"), 0);
        lane.run(|conn| insert(conn, 1001)).await.unwrap();
        assert_eq!(rows(&path, "WHERE n = 1001"), 1);
    }
}
