//! Group commit for provider webhooks on PostgreSQL: events that arrive while batches are being
//! written are stored together by a next one, in one multi-row `INSERT ... ON CONFLICT DO
//! NOTHING RETURNING` (one statement, one commit, one WAL flush for the batch), instead of one
//! commit each. Each delivery is still acknowledged only after the commit that holds its row.
//! The queue and its sender tasks are [`GroupCommit`]'s. SQLite does not need this: its writes
//! already go through the group writer (`Db::write`).

use super::store::Stored;
use crate::db::group_commit::{GroupCommit, SendBatch, Waiting};
use crate::db::value_rows;
use sqlx::AnyPool;
use std::collections::HashMap;

/// The insert of `provider_events` rows, before its `VALUES` tuples, and what follows them: an
/// event already stored is skipped (its delivery is a duplicate).
pub const INSERT: &str = "INSERT INTO provider_events \
     (provider, event_id, event_type, payload, received_at, next_attempt_at) VALUES ";
pub const ON_CONFLICT: &str = " ON CONFLICT (provider, event_id) DO NOTHING";

/// Events per statement: 6 parameters each, far under PostgreSQL's 65,535.
const MAX_BATCH: usize = 256;

/// Statements in flight at once: while one waits for its commit to reach the disk, the next
/// batch is already being written. On the 2-core benchmark machine one sender and four ingested
/// alike (95-104% of the ceiling, docs/BENCHMARKS.md); more than one keeps a slow disk from
/// holding every batch behind one sync.
const MAX_SENDERS: usize = 4;

/// One verified event, its payload already encrypted.
pub struct Row {
    pub provider: &'static str,
    pub event_id: String,
    pub event_type: String,
    pub sealed_payload: String,
    pub now_ms: i64,
}

/// The provider events' group commit.
pub type Batcher = GroupCommit<EventBatches>;

pub fn batcher(pool: AnyPool) -> Batcher {
    GroupCommit::new(EventBatches { pool }, MAX_BATCH, MAX_SENDERS)
}

/// Stores `row` with whatever else is waiting; `Duplicate` when the event was already stored
/// (or is twice in one batch: the first delivery is the new one).
pub async fn store(batcher: &std::sync::Arc<Batcher>, row: Row) -> Result<Stored, sqlx::Error> {
    match batcher.submit(row).await {
        Some(Ok(stored)) => Ok(stored),
        Some(Err(message)) => Err(sqlx::Error::Protocol(message)),
        None => Err(sqlx::Error::PoolClosed),
    }
}

pub struct EventBatches {
    pool: AnyPool,
}

impl SendBatch for EventBatches {
    type Item = Row;
    type Answer = Result<Stored, String>;

    async fn send(&self, batch: Vec<Waiting<Row, Result<Stored, String>>>) {
        match insert(&self.pool, &batch).await {
            Ok(inserted) => answer_each(batch, inserted),
            Err(e) => {
                let message = e.to_string();
                for w in batch {
                    let _ = w.done.send(Err(message.clone()));
                }
            }
        }
    }
}

/// One statement for the whole batch; the (provider, event id) pairs it inserted. The rows go
/// in key order: two batches in flight that hold the same events (a provider's retries) then
/// take their locks in the same order and wait for each other instead of deadlocking.
async fn insert(
    pool: &AnyPool,
    batch: &[Waiting<Row, Result<Stored, String>>],
) -> Result<HashMap<(String, String), usize>, sqlx::Error> {
    let mut rows: Vec<&Row> = batch.iter().map(|w| &w.item).collect();
    rows.sort_by(|a, b| (a.provider, &a.event_id).cmp(&(b.provider, &b.event_id)));
    let sql = format!(
        "{INSERT}{}{ON_CONFLICT} RETURNING provider, event_id",
        value_rows(1, rows.len(), 6)
    );
    let mut query = sqlx::query_as::<_, (String, String)>(&sql);
    for row in rows {
        query = query
            .bind(row.provider)
            .bind(&row.event_id)
            .bind(&row.event_type)
            .bind(&row.sealed_payload)
            .bind(row.now_ms)
            .bind(row.now_ms);
    }
    let mut inserted = HashMap::new();
    for key in query.fetch_all(pool).await? {
        *inserted.entry(key).or_insert(0) += 1;
    }
    Ok(inserted)
}

/// Tells each delivery whether its event was new: one per inserted row, in arrival order.
fn answer_each(
    batch: Vec<Waiting<Row, Result<Stored, String>>>,
    mut inserted: HashMap<(String, String), usize>,
) {
    for w in batch {
        let key = (w.item.provider.to_string(), w.item.event_id.clone());
        let stored = match inserted.get_mut(&key) {
            Some(n) if *n > 0 => {
                *n -= 1;
                Stored::New
            }
            _ => Stored::Duplicate,
        };
        let _ = w.done.send(Ok(stored));
    }
}
