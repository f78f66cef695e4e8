//! What applying one provider event's effect did, as each owning module reports it to the
//! worker.

use crate::payments::lifecycle::FollowUp;

pub enum Applied {
    Done {
        changed: bool,
        /// The paygate payment the event was about, kept on the stored event.
        payment: Option<String>,
        /// Work that must wait for the event's transaction to commit.
        follow_up: Option<Box<FollowUp>>,
    },
    /// The state machine refused the move (a stale event): nothing changed.
    Refused { payment: String },
    /// The object the event is about is not (yet) known: retry later.
    Missing(&'static str),
}

impl Applied {
    pub fn done(changed: bool, payment: Option<String>) -> Applied {
        Applied::Done {
            changed,
            payment,
            follow_up: None,
        }
    }
}
