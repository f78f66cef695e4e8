//! The queue behind paygate's group commits on PostgreSQL: [`Db::insert_all`](super::Db)'s
//! writes and the inbox's provider events. Writes that arrive while statements are running wait
//! together and go in a next batch: one statement, one commit and one WAL flush for many
//! requests, each answered only after the commit that holds its rows.
//!
//! The batches are sent by tasks of their own (up to `max_senders` at once), started by writes
//! that find fewer running and ending when nothing is queued. A request dropped halfway (its
//! client gave up) therefore cannot leave a batch half-sent or the queue without a sender. One
//! sender would leave the machine idle while its commit waits for the disk; a few keep
//! PostgreSQL busy and still gather concurrent writes into each statement.

use std::future::Future;
use std::sync::{Arc, Mutex};
use tokio::sync::oneshot;

/// A write waiting for its batch, and where its answer goes.
pub struct Waiting<T, A> {
    pub item: T,
    pub done: oneshot::Sender<A>,
}

/// How one kind of write is sent: a whole batch at a time, answering each of its writes.
pub trait SendBatch: Send + Sync + 'static {
    type Item: Send + 'static;
    type Answer: Send + 'static;

    fn send(
        &self,
        batch: Vec<Waiting<Self::Item, Self::Answer>>,
    ) -> impl Future<Output = ()> + Send;
}

pub struct GroupCommit<S: SendBatch> {
    sender: S,
    /// Most writes one batch carries.
    max_batch: usize,
    /// Batches in flight at once.
    max_senders: usize,
    queue: Mutex<Queue<S::Item, S::Answer>>,
}

struct Queue<T, A> {
    pending: Vec<Waiting<T, A>>,
    /// Sender tasks running, at most `max_senders`.
    senders: usize,
}

impl<S: SendBatch> std::fmt::Debug for GroupCommit<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GroupCommit")
            .field("max_batch", &self.max_batch)
            .field("max_senders", &self.max_senders)
            .finish_non_exhaustive()
    }
}

impl<S: SendBatch> GroupCommit<S> {
    pub fn new(sender: S, max_batch: usize, max_senders: usize) -> GroupCommit<S> {
        assert!(
            max_batch > 0 && max_senders > 0,
            "a group commit sends something"
        );
        GroupCommit {
            sender,
            max_batch,
            max_senders,
            queue: Mutex::new(Queue {
                pending: Vec::new(),
                senders: 0,
            }),
        }
    }

    /// Queues `item` for the next batch and waits for its answer; `None` if the answer never
    /// came (its sender task panicked).
    pub async fn submit(self: &Arc<Self>, item: S::Item) -> Option<S::Answer> {
        let (done, answer) = oneshot::channel();
        let start_sender = {
            let mut queue = self.queue.lock().expect("group commit lock");
            queue.pending.push(Waiting { item, done });
            let start = queue.senders < self.max_senders;
            queue.senders += usize::from(start);
            start
        };
        if start_sender {
            tokio::spawn(send_batches(self.clone()));
        }
        answer.await.ok()
    }
}

/// Sends what is queued, batch after batch, until the queue is empty.
async fn send_batches<S: SendBatch>(group: Arc<GroupCommit<S>>) {
    let mut slot = SenderSlot {
        group,
        released: false,
    };
    loop {
        let batch = {
            let mut queue = slot.group.queue.lock().expect("group commit lock");
            if queue.pending.is_empty() {
                queue.senders -= 1;
                slot.released = true;
                return;
            }
            let n = queue.pending.len().min(slot.group.max_batch);
            queue.pending.drain(..n).collect()
        };
        slot.group.sender.send(batch).await;
    }
}

/// A sender's place in the count of running senders, given back if the task ends other than by
/// finding the queue empty (a panic), so that later writes still find a sender to start.
struct SenderSlot<S: SendBatch> {
    group: Arc<GroupCommit<S>>,
    released: bool,
}

impl<S: SendBatch> Drop for SenderSlot<S> {
    fn drop(&mut self) {
        if !self.released {
            if let Ok(mut queue) = self.group.queue.lock() {
                queue.senders -= 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    /// Answers each write with the size of its batch, after a pause in which more can queue;
    /// counts the batches running at once.
    #[derive(Default)]
    struct Recorder {
        running: AtomicUsize,
        most_running: AtomicUsize,
    }

    impl SendBatch for Arc<Recorder> {
        type Item = u32;
        type Answer = (u32, usize);

        async fn send(&self, batch: Vec<Waiting<u32, (u32, usize)>>) {
            let now = self.running.fetch_add(1, Ordering::SeqCst) + 1;
            self.most_running.fetch_max(now, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(20)).await;
            self.running.fetch_sub(1, Ordering::SeqCst);
            let size = batch.len();
            if batch.iter().any(|w| w.item == 666) {
                panic!("a sender that fails");
            }
            for waiting in batch {
                let _ = waiting.done.send((waiting.item, size));
            }
        }
    }

    #[tokio::test]
    async fn concurrent_writes_share_batches_within_the_limits_and_each_gets_its_own_answer() {
        let recorder = Arc::new(Recorder::default());
        let group = Arc::new(GroupCommit::new(recorder.clone(), 4, 2));
        let answers = futures::future::join_all((0..40).map(|i| {
            let group = group.clone();
            async move { group.submit(i).await }
        }))
        .await;
        for (i, answer) in answers.into_iter().enumerate() {
            let (item, size) = answer.expect("answered");
            assert_eq!(item, i as u32, "each write gets its own answer");
            assert!((1..=4).contains(&size), "batch of {size}");
        }
        assert_eq!(recorder.most_running.load(Ordering::SeqCst), 2);
        assert_eq!(
            group.queue.lock().unwrap().senders,
            0,
            "senders end when idle"
        );
    }

    #[tokio::test]
    async fn a_panicking_sender_gives_its_place_back() {
        let group = Arc::new(GroupCommit::new(Arc::new(Recorder::default()), 1, 1));
        assert_eq!(group.submit(666).await, None, "its answer never comes");
        // The only sender's place is free again: a later write is sent and answered.
        assert_eq!(group.submit(7).await, Some((7, 1)));
    }
}
