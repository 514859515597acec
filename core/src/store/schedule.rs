//! When the writer works: how long changes gather before the document file
//! is rewritten (checkpoint pacing), and how long it waits before trying
//! again after a failed write (backoff). Pure: it is given the time (from the
//! store's [`Clock`](crate::clock::Clock)) and the queue's look, and decides;
//! the writer sleeps on its condition variable for what it returns. Tests
//! drive it with a hand-moved clock.

use std::time::{Duration, Instant};

/// Longest time the document file lags behind under a steady stream of changes.
pub(super) const MAX_CHECKPOINT_GAP: Duration = Duration::from_secs(1);

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
}

/// What the writer does next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Next {
    /// A round; `checkpoint`: rewrite the document file in it.
    Work { checkpoint: bool },
    /// Nothing to do before this much time has passed (or a wake-up).
    Sleep(Duration),
}

/// The writer's timing state.
#[derive(Debug)]
pub(super) struct Schedule {
    last_checkpoint: Instant,
    /// How long the last document write took.
    took: Duration,
    backoff: Duration,
    failed_at: Instant,
}

impl Schedule {
    pub(super) fn new(now: Instant) -> Schedule {
        Schedule {
            last_checkpoint: now,
            took: Duration::from_millis(1),
            backoff: Duration::ZERO,
            failed_at: now,
        }
    }

    /// How long to let changes gather before rewriting the document: long
    /// enough that rewriting a big document takes at most about a fifth of the
    /// time, and at least 10 ms, so a burst of sync sets is not slowed by a
    /// document rewrite between every two of them.
    pub(super) fn checkpoint_delay(took: Duration) -> Duration {
        (took * 4).clamp(Duration::from_millis(10), Duration::from_millis(500))
    }

    /// What to do at `now`, the queue looking like `q`.
    pub(super) fn next(&self, q: Look, now: Instant) -> Next {
        let since_checkpoint = now.saturating_duration_since(self.last_checkpoint);
        let since_failure = now.saturating_duration_since(self.failed_at);
        let delay = Self::checkpoint_delay(self.took);
        let due = q.dirty && since_checkpoint >= delay;
        let waiting_out = q.failing && since_failure < self.backoff;
        let stale_error = q.failing && !waiting_out && !q.dirty;
        if q.urgent || q.kicked || q.settle || (!waiting_out && (q.queued || due)) || stale_error {
            return Next::Work {
                checkpoint: q.dirty && (due || q.urgent),
            };
        }
        let timeout = if waiting_out {
            self.backoff.saturating_sub(since_failure)
        } else if q.dirty {
            delay.saturating_sub(since_checkpoint)
        } else {
            Duration::from_secs(3600)
        };
        Next::Sleep(timeout.max(Duration::from_millis(1)))
    }

    /// The document file has waited too long under a steady stream of
    /// changes: the round writes it even while more changes queue.
    pub(super) fn overdue(&self, now: Instant) -> bool {
        now.saturating_duration_since(self.last_checkpoint) >= MAX_CHECKPOINT_GAP
    }

    /// A round ended at `now`: `Ok(Some(took))` when it wrote the document
    /// file, `Ok(None)` when it wrote none, `Err(())` when it failed (the next
    /// attempt waits, twice as long as the last up to [`MAX_BACKOFF`]).
    pub(super) fn round_done(&mut self, outcome: Result<Option<Duration>, ()>, now: Instant) {
        match outcome {
            Ok(wrote) => {
                if let Some(took) = wrote {
                    self.took = took;
                    self.last_checkpoint = now;
                }
                self.backoff = Duration::ZERO;
            }
            Err(()) => {
                self.failed_at = now;
                self.backoff = (self.backoff * 2).clamp(MIN_BACKOFF, MAX_BACKOFF);
            }
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

    #[test]
    fn failed_writes_back_off_doubling_up_to_the_cap() {
        let clock = ManualClock::new();
        let mut s = Schedule::new(clock.now());
        let mut waits = Vec::new();
        for _ in 0..8 {
            s.round_done(Err(()), clock.now());
            let Next::Sleep(wait) = s.next(failing(), clock.now()) else {
                panic!("retried at once after a failure");
            };
            waits.push(wait.as_millis());
            // nothing happens before the backoff is over ...
            clock.advance(wait - MS);
            assert!(matches!(s.next(failing(), clock.now()), Next::Sleep(d) if d == MS));
            // ... and the next attempt starts when it is
            clock.advance(MS);
            assert_eq!(
                s.next(failing(), clock.now()),
                Next::Work { checkpoint: false }
            );
        }
        assert_eq!(waits, [50, 100, 200, 400, 800, 1600, 2000, 2000]);
        // a success ends the backoff: the next failure waits the least again
        s.round_done(Ok(None), clock.now());
        s.round_done(Err(()), clock.now());
        assert_eq!(s.next(failing(), clock.now()), Next::Sleep(50 * MS));
    }

    #[test]
    fn a_waiting_caller_or_a_flush_does_not_wait_out_the_backoff() {
        let clock = ManualClock::new();
        let mut s = Schedule::new(clock.now());
        s.round_done(Err(()), clock.now());
        s.round_done(Err(()), clock.now());
        let kicked = Look {
            kicked: true,
            ..failing()
        };
        assert_eq!(
            s.next(kicked, clock.now()),
            Next::Work { checkpoint: false }
        );
        let flush = Look {
            urgent: true,
            dirty: true,
            ..failing()
        };
        assert_eq!(s.next(flush, clock.now()), Next::Work { checkpoint: true });
        // a failure with nothing left to write is cleared by a round once
        // its backoff is over (a stale error)
        let stale = Look {
            failing: true,
            ..Look::default()
        };
        assert!(matches!(s.next(stale, clock.now()), Next::Sleep(_)));
        clock.advance(100 * MS);
        assert_eq!(s.next(stale, clock.now()), Next::Work { checkpoint: false });
    }

    #[test]
    fn checkpoints_wait_for_changes_to_gather_paced_by_the_last_write() {
        let clock = ManualClock::new();
        let mut s = Schedule::new(clock.now());
        let dirty = Look {
            dirty: true,
            ..Look::default()
        };
        // a small document (written in 1 ms): 10 ms gather
        assert_eq!(s.next(dirty, clock.now()), Next::Sleep(10 * MS));
        clock.advance(4 * MS);
        assert_eq!(s.next(dirty, clock.now()), Next::Sleep(6 * MS));
        clock.advance(6 * MS);
        assert_eq!(s.next(dirty, clock.now()), Next::Work { checkpoint: true });
        // queued changes are written at once, the document only when due
        let busy = Look {
            queued: true,
            ..dirty
        };
        s.round_done(Ok(Some(80 * MS)), clock.now());
        assert_eq!(s.next(busy, clock.now()), Next::Work { checkpoint: false });
        // a document that took 80 ms to write: four times that to gather
        assert_eq!(s.next(dirty, clock.now()), Next::Sleep(320 * MS));
        // a big one: at most 500 ms
        s.round_done(Ok(Some(Duration::from_secs(3))), clock.now());
        assert_eq!(s.next(dirty, clock.now()), Next::Sleep(500 * MS));
        // nothing to do: a long sleep (a change wakes the writer)
        assert_eq!(
            s.next(Look::default(), clock.now()),
            Next::Sleep(Duration::from_secs(3600))
        );
    }

    #[test]
    fn the_document_is_overdue_after_the_longest_gap() {
        let clock = ManualClock::new();
        let mut s = Schedule::new(clock.now());
        clock.advance(MAX_CHECKPOINT_GAP - MS);
        assert!(!s.overdue(clock.now()));
        clock.advance(MS);
        assert!(s.overdue(clock.now()));
        s.round_done(Ok(Some(MS)), clock.now());
        assert!(!s.overdue(clock.now()));
        // a round that wrote no document does not reset it
        clock.advance(MAX_CHECKPOINT_GAP);
        s.round_done(Ok(None), clock.now());
        assert!(s.overdue(clock.now()));
    }
}
