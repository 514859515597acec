//! When the writer works: what one round does (write the queued changes, put
//! a prepared checkpoint in place, start a checkpoint, clear a standing
//! error), when a checkpoint starts (`checkpoint::Schedule`: wanted now, the
//! journal past its bound, or the writer idle long enough), and how long it
//! waits before trying again after a failed write (backoff). Pure: it is
//! given the time (from the store's [`Clock`](crate::clock::Clock)) and the
//! queue's look, and decides; the writer sleeps on its condition variable for
//! what it returns. Tests drive it with a hand-moved clock.

use std::time::{Duration, Instant};

use crate::checkpoint;

/// Longest pause between two attempts after a write failure.
pub(super) const MAX_BACKOFF: Duration = Duration::from_secs(2);

/// Shortest pause after a write failure (doubled per failure up to
/// [`MAX_BACKOFF`]).
const MIN_BACKOFF: Duration = Duration::from_millis(50);

/// What the queue looks like to the writer (read under its lock).
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct Look {
    /// The document file is behind (or must be written again).
    pub(super) dirty: bool,
    /// Operations wait to be written.
    pub(super) queued: bool,
    /// The last write failed.
    pub(super) failing: bool,
    /// A flush or close waits: work now.
    pub(super) urgent: bool,
    /// A caller waits for queued operations: write them now, even while
    /// backing off.
    pub(super) kicked: bool,
    /// An atomic section ended while the writer held the log: a round
    /// settles the pinned lock (`atomic::settle_pin`).
    pub(super) settle: bool,
    /// The store closes.
    pub(super) stop: bool,
    /// A helper thread prepares a checkpoint.
    pub(super) preparing: bool,
    /// A checkpoint prepared off the writer waits to be put in place.
    pub(super) ready: bool,
    /// Journal bytes since the last checkpoint, and the document file's
    /// length (the bound for them: `checkpoint::journal_bound`).
    pub(super) journal_since: u64,
    pub(super) file_len: usize,
}

/// What one round of the writer does (`Core::run_writer`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct Round {
    /// An atomic section ended: settle the pinned lock (`settle_pin`).
    pub(super) settle: bool,
    pub(super) stop: bool,
    /// Write the queued changes.
    pub(super) write: bool,
    /// Put the prepared checkpoint in place.
    pub(super) ready: bool,
    /// Start a checkpoint.
    pub(super) start: bool,
    /// Look at the journal again to clear a standing error.
    pub(super) retry: bool,
}

/// What the writer does next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Next {
    Work(Round),
    /// Nothing to do before this much time has passed (or a wake-up).
    Sleep(Duration),
}

/// The writer's timing state.
#[derive(Debug)]
pub(super) struct Schedule {
    /// When the writer last wrote changes.
    last_write: Instant,
    /// How long the last checkpoint took.
    took: Duration,
    backoff: Duration,
    failed_at: Instant,
}

impl Schedule {
    pub(super) fn new(now: Instant) -> Schedule {
        Schedule {
            last_write: now,
            took: Duration::from_millis(1),
            backoff: Duration::ZERO,
            failed_at: now,
        }
    }

    /// What to do at `now`, the queue looking like `q`.
    pub(super) fn next(&self, q: Look, now: Instant) -> Next {
        let since_failure = now.saturating_duration_since(self.failed_at);
        let waiting_out = q.failing && since_failure < self.backoff;
        let write = q.queued && (q.urgent || q.kicked || !waiting_out);
        let sched = checkpoint::Schedule {
            dirty: q.dirty,
            urgent: q.urgent,
            queued: q.queued,
            idle_for: now.saturating_duration_since(self.last_write),
            took: self.took,
            journal_since: q.journal_since,
            bound: checkpoint::journal_bound(q.file_len),
        };
        let start = !q.preparing && (q.urgent || !waiting_out) && sched.due();
        let stale_error = q.failing && !waiting_out && !q.dirty;
        let done_stopping = q.stop && !q.preparing && !q.queued && !q.dirty;
        if write || q.ready || start || stale_error || done_stopping || q.settle {
            return Next::Work(Round {
                settle: q.settle,
                stop: q.stop,
                write,
                ready: q.ready,
                start,
                retry: stale_error && !write,
            });
        }
        let timeout = if waiting_out {
            self.backoff.saturating_sub(since_failure)
        } else {
            match (!q.preparing).then(|| sched.wait()).flatten() {
                Some(w) => w,
                None => Duration::from_secs(3600),
            }
        };
        Next::Sleep(timeout.max(Duration::from_millis(1)))
    }

    /// The round wrote changes at `now` (an idle checkpoint waits from here).
    pub(super) fn wrote(&mut self, now: Instant) {
        self.last_write = now;
    }

    /// A checkpoint was put in place; it took `took` in all.
    pub(super) fn checkpoint_took(&mut self, took: Duration) {
        self.took = took;
    }

    /// A round ended at `now`: `ok`, or it failed (the next attempt waits,
    /// twice as long as the last up to [`MAX_BACKOFF`]).
    pub(super) fn round_done(&mut self, ok: bool, now: Instant) {
        if ok {
            self.backoff = Duration::ZERO;
        } else {
            self.failed_at = now;
            self.backoff = (self.backoff * 2).clamp(MIN_BACKOFF, MAX_BACKOFF);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::{Clock, ManualClock};

    const MS: Duration = Duration::from_millis(1);

    fn failing() -> Look {
        Look {
            queued: true,
            failing: true,
            ..Look::default()
        }
    }

    fn write() -> Next {
        Next::Work(Round {
            write: true,
            ..Round::default()
        })
    }

    #[test]
    fn failed_writes_back_off_doubling_up_to_the_cap() {
        let clock = ManualClock::new();
        let mut s = Schedule::new(clock.now());
        let mut waits = Vec::new();
        for _ in 0..8 {
            s.round_done(false, clock.now());
            let Next::Sleep(wait) = s.next(failing(), clock.now()) else {
                panic!("retried at once after a failure");
            };
            waits.push(wait.as_millis());
            // nothing happens before the backoff is over ...
            clock.advance(wait - MS);
            assert!(matches!(s.next(failing(), clock.now()), Next::Sleep(d) if d == MS));
            // ... and the next attempt starts when it is
            clock.advance(MS);
            assert_eq!(s.next(failing(), clock.now()), write());
        }
        assert_eq!(waits, [50, 100, 200, 400, 800, 1600, 2000, 2000]);
        // a success ends the backoff: the next failure waits the least again
        s.round_done(true, clock.now());
        s.round_done(false, clock.now());
        assert_eq!(s.next(failing(), clock.now()), Next::Sleep(50 * MS));
    }

    #[test]
    fn a_waiting_caller_or_a_flush_does_not_wait_out_the_backoff() {
        let clock = ManualClock::new();
        let mut s = Schedule::new(clock.now());
        s.round_done(false, clock.now());
        s.round_done(false, clock.now());
        let kicked = Look {
            kicked: true,
            ..failing()
        };
        assert_eq!(s.next(kicked, clock.now()), write());
        let flush = Look {
            urgent: true,
            dirty: true,
            ..failing()
        };
        assert_eq!(
            s.next(flush, clock.now()),
            Next::Work(Round {
                write: true,
                start: true,
                ..Round::default()
            })
        );
        // a failure with nothing left to write is cleared by a round once
        // its backoff is over (a stale error)
        let stale = Look {
            failing: true,
            ..Look::default()
        };
        assert!(matches!(s.next(stale, clock.now()), Next::Sleep(_)));
        clock.advance(100 * MS);
        assert_eq!(
            s.next(stale, clock.now()),
            Next::Work(Round {
                retry: true,
                ..Round::default()
            })
        );
    }

    #[test]
    fn a_checkpoint_starts_once_the_writer_is_idle_paced_by_the_last_one() {
        let clock = ManualClock::new();
        let mut s = Schedule::new(clock.now());
        let start = Next::Work(Round {
            start: true,
            ..Round::default()
        });
        let dirty = Look {
            dirty: true,
            ..Look::default()
        };
        // a small document (written in 1 ms): 10 ms idle first
        assert_eq!(s.next(dirty, clock.now()), Next::Sleep(10 * MS));
        clock.advance(4 * MS);
        assert_eq!(s.next(dirty, clock.now()), Next::Sleep(6 * MS));
        clock.advance(6 * MS);
        assert_eq!(s.next(dirty, clock.now()), start);
        // a write starts the idle wait again
        s.wrote(clock.now());
        assert_eq!(s.next(dirty, clock.now()), Next::Sleep(10 * MS));
        // a checkpoint that took 80 ms: four times that idle; a big one: 500 ms
        s.checkpoint_took(80 * MS);
        assert_eq!(s.next(dirty, clock.now()), Next::Sleep(320 * MS));
        s.checkpoint_took(Duration::from_secs(3));
        assert_eq!(s.next(dirty, clock.now()), Next::Sleep(500 * MS));
        // nothing to do: a long sleep (a change wakes the writer)
        assert_eq!(
            s.next(Look::default(), clock.now()),
            Next::Sleep(Duration::from_secs(3600))
        );
    }

    #[test]
    fn changes_arriving_hold_a_checkpoint_off_until_the_journal_bound() {
        let clock = ManualClock::new();
        let s = Schedule::new(clock.now());
        let busy = Look {
            dirty: true,
            queued: true,
            ..Look::default()
        };
        // however long since the last checkpoint, changes are only written
        clock.advance(Duration::from_secs(60));
        assert_eq!(s.next(busy, clock.now()), write());
        let past = Look {
            journal_since: checkpoint::JOURNAL_BOUND,
            ..busy
        };
        let both = Next::Work(Round {
            write: true,
            start: true,
            ..Round::default()
        });
        assert_eq!(s.next(past, clock.now()), both);
        // one checkpoint at a time: while a helper prepares one, none starts,
        // and the writer sleeps until it is ready
        let preparing = Look {
            preparing: true,
            queued: false,
            ..past
        };
        assert_eq!(
            s.next(preparing, clock.now()),
            Next::Sleep(Duration::from_secs(3600))
        );
        let ready = Look {
            ready: true,
            ..preparing
        };
        assert_eq!(
            s.next(ready, clock.now()),
            Next::Work(Round {
                ready: true,
                ..Round::default()
            })
        );
        // a big document raises the bound to half its size
        let big = Look {
            file_len: 10 << 20,
            ..past
        };
        assert_eq!(s.next(big, clock.now()), write());
    }
}
