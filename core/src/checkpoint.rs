//! Checkpoints written off the writer's path, and when to write them.
//!
//! A checkpoint rewrites the whole document file from the replica; at 10 MB
//! that is tens of milliseconds of serializing, writing and fsyncing. None of
//! it needs the log: the replica is an O(1) snapshot (the tree shares its
//! nodes), so the writer takes a [`Snapshot`], a helper thread turns it into
//! a durable temp file ([`prepare`]: serialize, encode, write, fsync), and the
//! writer thread keeps appending and acknowledging changes meanwhile. Only
//! putting the file in place needs the log and the OS lock
//! (`Log::install_prepared`: look for another program's edit, replace, fsync
//! the directory, append the checkpoint line), and only if nothing newer was
//! checkpointed since the snapshot — else the temp file is dropped.
//!
//! When ([`Schedule`]): a checkpoint never starts while changes keep arriving,
//! until the journal since the last checkpoint passes its size bound (what a
//! process opening the store replays); otherwise once the writer has been
//! idle for a while (a few times the last checkpoint's duration), and at once
//! for `flush()`, `close()` and a file that must be written again.

use std::time::Duration;

/// Where the snapshot, the prepared file and the preparing live (in the log's
/// room: `Log::checkpoint_plan` takes snapshots); reachable here too.
pub use crate::log::{prepare, CheckpointPlan, Prepared, Snapshot};

/// Journal bytes since the last checkpoint beyond which a checkpoint starts
/// even while changes keep arriving (at least this much, or half the
/// document: a big document is not rewritten for every few changes).
pub const JOURNAL_BOUND: u64 = 1 << 20;

/// The journal bound for a document file of `file_len` bytes.
pub fn journal_bound(file_len: usize) -> u64 {
    JOURNAL_BOUND.max(file_len as u64 / 2)
}

/// How long the writer must have been idle (no change written) before an
/// unrequested checkpoint starts: four times the last one's duration, at
/// least 10 ms and at most 500 ms, so a burst of changes is never
/// interleaved with document rewrites.
pub fn idle_delay(took: Duration) -> Duration {
    (took * 4).clamp(Duration::from_millis(10), Duration::from_millis(500))
}

/// Whether a checkpoint starts now.
#[derive(Clone, Copy, Debug)]
pub struct Schedule {
    /// The file does not hold the newest state (or must be written again).
    pub dirty: bool,
    /// `flush()`, `close()`: the file is wanted now.
    pub urgent: bool,
    /// Changes are queued for the writer.
    pub queued: bool,
    /// How long since the writer last wrote changes.
    pub idle_for: Duration,
    /// How long the last checkpoint took.
    pub took: Duration,
    /// Journal bytes since the last checkpoint, and the bound for them.
    pub journal_since: u64,
    pub bound: u64,
}

impl Schedule {
    /// A checkpoint starts: wanted now; or the journal passed its bound; or
    /// nothing is queued and the writer has been idle long enough.
    pub fn due(&self) -> bool {
        self.dirty
            && (self.urgent
                || self.journal_since >= self.bound
                || (!self.queued && self.idle_for >= idle_delay(self.took)))
    }

    /// How long until an idle checkpoint would be due (the writer sleeps that
    /// long at most), `None` if none is pending.
    pub fn wait(&self) -> Option<Duration> {
        (self.dirty && !self.queued).then(|| idle_delay(self.took).saturating_sub(self.idle_for))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s() -> Schedule {
        Schedule {
            dirty: true,
            urgent: false,
            queued: true,
            idle_for: Duration::ZERO,
            took: Duration::from_millis(60),
            journal_since: 0,
            bound: journal_bound(10 << 20),
        }
    }

    #[test]
    fn never_while_changes_arrive_until_the_journal_bound() {
        let mut sc = s();
        assert!(!sc.due());
        sc.idle_for = Duration::from_secs(10); // queued: still not idle
        assert!(!sc.due());
        sc.journal_since = sc.bound - 1;
        assert!(!sc.due());
        sc.journal_since = sc.bound;
        assert!(sc.due());
    }

    #[test]
    fn idle_flush_and_clean() {
        let mut sc = s();
        sc.queued = false;
        sc.idle_for = idle_delay(sc.took) - Duration::from_millis(1);
        assert!(!sc.due());
        assert_eq!(sc.wait(), Some(Duration::from_millis(1)));
        sc.idle_for = idle_delay(sc.took);
        assert!(sc.due());
        let mut f = s();
        f.urgent = true;
        assert!(f.due());
        f.dirty = false;
        assert!(!f.due());
        assert_eq!(f.wait(), None);
        assert_eq!(journal_bound(0), JOURNAL_BOUND);
        assert_eq!(journal_bound(10 << 20), 5 << 20);
    }
}
