//! The database: SQLite by default, PostgreSQL when the URL says so, through sqlx's `Any`
//! driver so one set of queries (with `$1` placeholders, integer timestamps and text JSON) runs
//! on both. Each backend has its own migrations folder.

use secrecy::{ExposeSecret, SecretString};
use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{Any, AnyConnection, AnyPool, Executor, Transaction};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Mutex, OwnedMutexGuard};

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
            Ok(Db {
                pool,
                backend: Backend::Sqlite,
                write_turn: Some(Arc::new(Mutex::new(()))),
            })
        } else {
            let pool = AnyPoolOptions::new()
                .max_connections(16)
                .acquire_timeout(Duration::from_secs(30))
                .connect(url)
                .await?;
            Ok(Db {
                pool,
                backend: Backend::Postgres,
                write_turn: None,
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
}
