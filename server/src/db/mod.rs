//! The database: SQLite by default, PostgreSQL when the URL says so, through sqlx's `Any`
//! driver so one set of queries (with `$1` placeholders, integer timestamps and text JSON) runs
//! on both. Each backend has its own migrations folder.

use futures::future::BoxFuture;
use secrecy::{ExposeSecret, SecretString};
use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{Any, AnyConnection, AnyPool, Executor, Transaction};
use std::any::Any as AnyValue;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot, Mutex, OwnedMutexGuard};

pub mod group_commit;
mod insert;
pub use insert::Insert;

/// Most pieces of work one group commit carries.
const MAX_GROUP: usize = 64;

/// sqlx pings a pooled connection before handing it out (`test_before_acquire`, on by default)
/// as well as when it comes back: two round trips to PostgreSQL (two hops to SQLite's worker
/// thread) around every query or transaction. The ping on return stays and catches a
/// connection that broke while in use. Before use, only a connection that sat idle long enough
/// to have been dropped meanwhile (a server restart, a firewall's idle timeout) is pinged:
/// sqlx's documented pattern for `PoolOptions::before_acquire`. Under load connections go back
/// out within milliseconds and are not pinged again.
const PING_IF_IDLE_FOR: Duration = Duration::from_secs(1);

fn ping_if_idle(
    conn: &mut AnyConnection,
    meta: sqlx::pool::PoolConnectionMetadata,
) -> BoxFuture<'_, Result<bool, sqlx::Error>> {
    Box::pin(async move {
        if meta.idle_for >= PING_IF_IDLE_FOR {
            sqlx::Connection::ping(conn).await?;
        }
        Ok(true)
    })
}

/// One request's work for the group writer: runs on the shared transaction, inside a
/// savepoint of its own.
type Work = Box<
    dyn for<'t> FnOnce(&'t mut Tx) -> BoxFuture<'t, Result<Box<dyn AnyValue + Send>, sqlx::Error>>
        + Send,
>;

struct Job {
    work: Work,
    done: oneshot::Sender<Result<Box<dyn AnyValue + Send>, sqlx::Error>>,
}

/// A write transaction ([`Db::begin_write`]): sqlx's transaction, and on SQLite this process's
/// turn at the write lock, held until it commits or is dropped. Use it as the connection
/// (`&mut *tx`, or `&mut **tx` through a `&mut Tx`).
pub struct Tx {
    inner: Transaction<'static, Any>,
    _turn: Option<OwnedMutexGuard<()>>,
}

impl Tx {
    pub async fn commit(self) -> Result<(), sqlx::Error> {
        self.inner.commit().await
    }

    pub async fn rollback(self) -> Result<(), sqlx::Error> {
        self.inner.rollback().await
    }
}

impl std::ops::Deref for Tx {
    type Target = AnyConnection;
    fn deref(&self) -> &AnyConnection {
        &self.inner
    }
}

impl std::ops::DerefMut for Tx {
    fn deref_mut(&mut self) -> &mut AnyConnection {
        &mut self.inner
    }
}

pub type Row = AnyRow;

/// `"$from, $from+1, ..."`: `count` numbered placeholders, for an `IN (...)` list or one row of
/// a multi-row `VALUES`, bound in order by the caller.
pub fn placeholders(from: usize, count: usize) -> String {
    (from..from + count)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `"($from, ...), ($from+columns, ...), ..."`: `rows` tuples of `columns` numbered
/// placeholders each, for a multi-row `VALUES`, bound row by row by the caller.
pub fn value_rows(from: usize, rows: usize, columns: usize) -> String {
    (0..rows)
        .map(|r| format!("({})", placeholders(from + r * columns, columns)))
        .collect::<Vec<_>>()
        .join(", ")
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

#[derive(Clone, Debug)]
pub struct Db {
    pub pool: AnyPool,
    pub backend: Backend,
    /// SQLite: writers of this process take turns here before `BEGIN IMMEDIATE`, in order of
    /// arrival, instead of in SQLite's busy handler, which sleeps and retries (up to 100 ms a
    /// sleep): under load that sleeping, not the work, made the slowest requests slow.
    write_turn: Option<Arc<Mutex<()>>>,
    /// SQLite: the group writer's queue ([`Db::write`]).
    group: Option<mpsc::Sender<Job>>,
    /// PostgreSQL: the group commit of [`Db::insert_all`].
    inserts: Option<Arc<group_commit::GroupCommit<insert::InsertBatches>>>,
}

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/postgres");

impl Db {
    pub async fn connect(url: &SecretString) -> Result<Db, sqlx::Error> {
        sqlx::any::install_default_drivers();
        let url = url.expose_secret();
        if url.starts_with("sqlite:") {
            // Create the file on first start; never silently use a different database.
            let url = if url.contains('?') {
                url.to_string()
            } else {
                format!("{url}?mode=rwc")
            };
            let pool = AnyPoolOptions::new()
                .max_connections(8)
                .acquire_timeout(Duration::from_secs(30))
                .test_before_acquire(false)
                .before_acquire(ping_if_idle)
                .after_connect(|conn, _meta| {
                    Box::pin(async move {
                        // WAL lets readers run beside the single writer; FULL syncs every commit
                        // (a payment record must survive a power cut); the busy timeout makes
                        // writers queue instead of failing.
                        conn.execute("PRAGMA journal_mode = WAL").await?;
                        conn.execute("PRAGMA synchronous = FULL").await?;
                        conn.execute("PRAGMA foreign_keys = ON").await?;
                        conn.execute("PRAGMA busy_timeout = 15000").await?;
                        Ok(())
                    })
                })
                .connect(&url)
                .await?;
            let write_turn = Arc::new(Mutex::new(()));
            let (group, jobs) = mpsc::channel(4 * MAX_GROUP);
            tokio::spawn(group_writer(pool.clone(), write_turn.clone(), jobs));
            Ok(Db {
                pool,
                backend: Backend::Sqlite,
                write_turn: Some(write_turn),
                group: Some(group),
                inserts: None,
            })
        } else {
            let pool = AnyPoolOptions::new()
                .max_connections(16)
                .acquire_timeout(Duration::from_secs(30))
                .test_before_acquire(false)
                .before_acquire(ping_if_idle)
                .connect(url)
                .await?;
            let inserts = group_commit::GroupCommit::new(
                insert::InsertBatches { pool: pool.clone() },
                insert::MAX_BATCH,
                insert::MAX_SENDERS,
            );
            Ok(Db {
                pool,
                backend: Backend::Postgres,
                write_turn: None,
                group: None,
                inserts: Some(Arc::new(inserts)),
            })
        }
    }

    pub async fn migrate(&self) -> Result<(), sqlx::migrate::MigrateError> {
        match self.backend {
            Backend::Sqlite => SQLITE_MIGRATIONS.run(&self.pool).await,
            Backend::Postgres => POSTGRES_MIGRATIONS.run(&self.pool).await,
        }
    }

    /// A write transaction. On SQLite it takes the write lock up front (`BEGIN IMMEDIATE`), so a
    /// transaction that reads before it writes cannot deadlock on the lock upgrade. Never hold
    /// one across a provider call.
    pub async fn begin_write(&self) -> Result<Tx, sqlx::Error> {
        let turn = match &self.write_turn {
            Some(turn) => Some(turn.clone().lock_owned().await),
            None => None,
        };
        let inner = match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.pool.begin().await?,
        };
        Ok(Tx { inner, _turn: turn })
    }

    /// Runs `work` in a write transaction and commits it; the answer only once it is durable.
    /// On SQLite, work from concurrent requests is committed together (group commit): one
    /// writer takes whatever is queued, runs each piece in a savepoint of its own (a piece that
    /// fails is rolled back alone and gets its own error) and commits them with one sync, so a
    /// burst of requests shares the WAL pages and the fsync instead of queueing for one each.
    /// Durability is unchanged: nobody is answered before the commit. `work` must only use the
    /// transaction (no provider calls, no waiting on other requests). On PostgreSQL, whose
    /// writers run in parallel, it is one transaction of its own.
    pub async fn write<T, F>(&self, work: F) -> Result<T, sqlx::Error>
    where
        T: Send + 'static,
        F: for<'t> FnOnce(&'t mut Tx) -> BoxFuture<'t, Result<T, sqlx::Error>> + Send + 'static,
    {
        let Some(group) = &self.group else {
            let mut tx = self.begin_write().await?;
            let value = work(&mut tx).await?;
            tx.commit().await?;
            return Ok(value);
        };
        let (done, answer) = oneshot::channel();
        let work: Work = Box::new(move |tx| {
            Box::pin(async move {
                work(tx)
                    .await
                    .map(|v| Box::new(v) as Box<dyn AnyValue + Send>)
            })
        });
        group
            .send(Job { work, done })
            .await
            .map_err(|_| sqlx::Error::PoolClosed)?;
        let value = answer.await.map_err(|_| sqlx::Error::PoolClosed)??;
        Ok(*value
            .downcast::<T>()
            .expect("the group writer answers with the job's own type"))
    }

    /// Whether [`Db::write`] commits concurrent work together (SQLite), rather than each piece
    /// in a transaction of its own (PostgreSQL).
    pub fn commits_in_groups(&self) -> bool {
        self.group.is_some()
    }

    /// Row lock suffix for `SELECT ... {for_update}` in a write transaction (SQLite's
    /// `BEGIN IMMEDIATE` already serialises writers).
    pub fn for_update(&self) -> &'static str {
        match self.backend {
            Backend::Sqlite => "",
            Backend::Postgres => " FOR UPDATE",
        }
    }

    pub async fn ping(&self) -> Result<(), sqlx::Error> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map(|_| ())
    }
}

/// The group writer of a SQLite database (see [`Db::write`]): until every `Db` is gone.
async fn group_writer(pool: AnyPool, turn: Arc<Mutex<()>>, mut jobs: mpsc::Receiver<Job>) {
    while let Some(first) = jobs.recv().await {
        let mut batch = vec![first];
        while batch.len() < MAX_GROUP {
            match jobs.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let held = turn.clone().lock_owned().await;
        let mut tx = match pool.begin_with("BEGIN IMMEDIATE").await {
            Ok(inner) => Tx {
                inner,
                _turn: Some(held),
            },
            Err(e) => {
                for job in batch {
                    let _ = job.done.send(Err(grouped_failure(&e)));
                }
                continue;
            }
        };
        let mut finished = Vec::with_capacity(batch.len());
        let mut broken = None;
        for job in batch {
            if broken.is_some() {
                finished.push((job.done, Err(sqlx::Error::PoolClosed)));
                continue;
            }
            match run_in_savepoint(&mut tx, job.work).await {
                Ok(result) => finished.push((job.done, result)),
                // A savepoint that could not be taken or undone: nothing of the group is kept.
                Err(e) => {
                    finished.push((job.done, Err(grouped_failure(&e))));
                    broken = Some(e);
                }
            }
        }
        let committed = match broken {
            Some(e) => {
                drop(tx);
                Err(e)
            }
            None => tx.commit().await,
        };
        match committed {
            Ok(()) => {
                for (done, result) in finished {
                    let _ = done.send(result);
                }
            }
            Err(e) => {
                for (done, result) in finished {
                    let _ = done.send(result.and(Err(grouped_failure(&e))));
                }
            }
        }
    }
}

/// One piece of a group: its changes kept if it succeeds, undone alone if it fails (the
/// inner result, the piece's own). The outer error: the savepoint itself failed, and the
/// group must not be committed.
async fn run_in_savepoint(
    tx: &mut Tx,
    work: Work,
) -> Result<Result<Box<dyn AnyValue + Send>, sqlx::Error>, sqlx::Error> {
    sqlx::query("SAVEPOINT grouped").execute(&mut **tx).await?;
    let result = work(tx).await;
    if result.is_err() {
        sqlx::query("ROLLBACK TO grouped")
            .execute(&mut **tx)
            .await?;
    }
    sqlx::query("RELEASE grouped").execute(&mut **tx).await?;
    Ok(result)
}

/// The error every piece of a group gets when the group itself could not begin or commit.
fn grouped_failure(e: &sqlx::Error) -> sqlx::Error {
    sqlx::Error::Protocol(format!("the grouped write transaction failed: {e}"))
}

pub fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(db) if db.is_unique_violation())
}

#[cfg(test)]
mod placeholder_tests {
    #[test]
    fn placeholders_are_numbered_from_the_given_one() {
        assert_eq!(super::placeholders(1, 3), "$1, $2, $3");
        assert_eq!(super::placeholders(7, 2), "$7, $8");
        assert_eq!(super::placeholders(1, 0), "");
    }

    #[test]
    fn value_rows_number_each_row_after_the_last() {
        assert_eq!(super::value_rows(1, 2, 3), "($1, $2, $3), ($4, $5, $6)");
        assert_eq!(super::value_rows(3, 1, 2), "($3, $4)");
    }
}
