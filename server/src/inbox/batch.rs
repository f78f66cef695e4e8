//! Group commit for provider webhooks on PostgreSQL: events that arrive while a batch is being
//! written are stored together by the next one, in one multi-row `INSERT ... ON CONFLICT DO
//! NOTHING RETURNING` (one statement, one commit, one WAL flush for the batch), instead of one
//! commit each. Each delivery is still acknowledged only after the commit that holds its row.
//!
//! The batches are written by a task of their own, started by the first event that finds none
//! running and ending when nothing is left to write: a delivery whose HTTP request is dropped
//! halfway (the provider gave up waiting) cannot leave a batch half-written or the batcher
//! stuck. SQLite does not need this: its writes already go through the group writer
//! (`Db::write`).

use super::store::Stored;
use crate::db::{value_rows, Db};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::oneshot;

/// The insert of `provider_events` rows, before its `VALUES` tuples, and what follows them: an
/// event already stored is skipped (its delivery is a duplicate).
pub const INSERT: &str = "INSERT INTO provider_events \
     (provider, event_id, event_type, payload, received_at, next_attempt_at) VALUES ";
pub const ON_CONFLICT: &str = " ON CONFLICT (provider, event_id) DO NOTHING";

/// Events per statement: 6 parameters each, far under PostgreSQL's 65,535.
const MAX_BATCH: usize = 256;

/// One verified event, its payload already encrypted.
pub struct Row {
    pub provider: &'static str,
    pub event_id: String,
    pub event_type: String,
    pub sealed_payload: String,
    pub now_ms: i64,
}

struct Pending {
    row: Row,
    done: oneshot::Sender<Result<Stored, String>>,
}

#[derive(Default)]
struct Queue {
    pending: Vec<Pending>,
    writing: bool,
}

#[derive(Default)]
pub struct Batcher {
    queue: Mutex<Queue>,
}

impl Batcher {
    /// Stores `row` with whatever else is waiting; `Duplicate` when the event was already stored
    /// (or is twice in one batch: the first delivery is the new one).
    pub async fn store(self: &Arc<Self>, db: &Db, row: Row) -> Result<Stored, sqlx::Error> {
        let (done, answer) = oneshot::channel();
        let start_writer = {
            let mut queue = self.queue.lock().expect("batcher lock");
            queue.pending.push(Pending { row, done });
            !std::mem::replace(&mut queue.writing, true)
        };
        if start_writer {
            tokio::spawn(write_batches(self.clone(), db.clone()));
        }
        match answer.await {
            Ok(Ok(stored)) => Ok(stored),
            Ok(Err(message)) => Err(sqlx::Error::Protocol(message)),
            Err(_) => Err(sqlx::Error::PoolClosed),
        }
    }
}

/// Writes what is queued, batch after batch, until the queue is empty.
async fn write_batches(batcher: Arc<Batcher>, db: Db) {
    loop {
        let batch: Vec<Pending> = {
            let mut queue = batcher.queue.lock().expect("batcher lock");
            if queue.pending.is_empty() {
                queue.writing = false;
                return;
            }
            let n = queue.pending.len().min(MAX_BATCH);
            queue.pending.drain(..n).collect()
        };
        match insert(&db, &batch).await {
            Ok(inserted) => answer_each(batch, inserted),
            Err(e) => {
                let message = e.to_string();
                for p in batch {
                    let _ = p.done.send(Err(message.clone()));
                }
            }
        }
    }
}

/// One statement for the whole batch; the (provider, event id) pairs it inserted.
async fn insert(
    db: &Db,
    batch: &[Pending],
) -> Result<HashMap<(String, String), usize>, sqlx::Error> {
    let sql = format!(
        "{INSERT}{}{ON_CONFLICT} RETURNING provider, event_id",
        value_rows(1, batch.len(), 6)
    );
    let mut query = sqlx::query_as::<_, (String, String)>(&sql);
    for p in batch {
        query = query
            .bind(p.row.provider)
            .bind(&p.row.event_id)
            .bind(&p.row.event_type)
            .bind(&p.row.sealed_payload)
            .bind(p.row.now_ms)
            .bind(p.row.now_ms);
    }
    let mut inserted = HashMap::new();
    for key in query.fetch_all(&db.pool).await? {
        *inserted.entry(key).or_insert(0) += 1;
    }
    Ok(inserted)
}

/// Tells each delivery whether its event was new: one per inserted row, in arrival order.
fn answer_each(batch: Vec<Pending>, mut inserted: HashMap<(String, String), usize>) {
    for p in batch {
        let key = (p.row.provider.to_string(), p.row.event_id.clone());
        let stored = match inserted.get_mut(&key) {
            Some(n) if *n > 0 => {
                *n -= 1;
                Stored::New
            }
            _ => Stored::Duplicate,
        };
        let _ = p.done.send(Ok(stored));
    }
}
