//! This instance's presence in the database: a row in `instances` with a heartbeat written
//! every [`HEARTBEAT`]. Work an instance holds only while it runs (an `Idempotency-Key` in
//! flight) names it, so another instance can tell a holder that is busy from one that died: an
//! instance whose heartbeat is older than [`STALE_AFTER_MS`] (or that has no row) is dead.
//! Instances compare their own clocks with each other's heartbeats, so their clocks must agree
//! to a few seconds (NTP), as a database-backed cluster needs anyway.

use crate::db::Db;
use crate::state::AppState;
use std::time::Duration;
use tokio::sync::watch;

/// How often an instance says it is alive.
pub const HEARTBEAT: Duration = Duration::from_secs(2);
/// Silence after which an instance counts as dead: several missed heartbeats, so a busy
/// database or a paused process is not mistaken for a crash.
pub const STALE_AFTER_MS: i64 = 15_000;
/// Rows of instances gone this long are removed ([`forget_gone`]).
const FORGET_AFTER_MS: i64 = 24 * 3600 * 1000;

/// Records this instance as alive (at start-up, before it serves).
pub async fn register(db: &Db, id: &str, now: i64) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO instances (id, started_at, heartbeat_at) VALUES ($1, $2, $3) \
         ON CONFLICT (id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at",
    )
    .bind(id)
    .bind(now)
    .bind(now)
    .execute(&db.pool)
    .await?;
    Ok(())
}

/// Whether the instance `id` has given no sign of life for [`STALE_AFTER_MS`] (or is gone).
pub async fn is_dead(db: &Db, id: &str, now: i64) -> Result<bool, sqlx::Error> {
    let heartbeat: Option<i64> =
        sqlx::query_scalar("SELECT heartbeat_at FROM instances WHERE id = $1")
            .bind(id)
            .fetch_optional(&db.pool)
            .await?;
    Ok(heartbeat.is_none_or(|at| at < now - STALE_AFTER_MS))
}

/// Removes the rows of instances silent for a day (housekeeping; a row is only a name and a
/// time, so this need not run often).
pub async fn forget_gone(db: &Db, now: i64) -> Result<u64, sqlx::Error> {
    let gone = sqlx::query("DELETE FROM instances WHERE heartbeat_at < $1")
        .bind(now - FORGET_AFTER_MS)
        .execute(&db.pool)
        .await?;
    Ok(gone.rows_affected())
}

/// Beats until `stopped` turns true, then removes this instance's row (its requests have been
/// answered by then: the server stops first).
pub async fn run(state: AppState, mut stopped: watch::Receiver<bool>) {
    let mut tick = tokio::time::interval(HEARTBEAT);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stopped.changed() => {}
        }
        if *stopped.borrow() {
            break;
        }
        let now = state.clock.now_ms();
        if let Err(e) = register(&state.db, &state.instance_id, now).await {
            tracing::warn!(error = %e, "could not write this instance's heartbeat");
        }
    }
    let _ = sqlx::query("DELETE FROM instances WHERE id = $1")
        .bind(&state.instance_id)
        .execute(&state.db.pool)
        .await;
}
