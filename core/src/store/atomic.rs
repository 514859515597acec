//! Atomic sections: `update()` and `transaction()` read the latest state of
//! every process and write on it with no other process writing in between.
//!
//! A section takes the journal's OS lock and *pins* it (`Log::pin`): it stays
//! held past the section's end, until the writer has appended every operation
//! queued up to then — so no other process can read a state without them, nor
//! append before them. On taking the lock the section catches up with what
//! other processes appended, so the live document it reads is the latest
//! state. A section that starts while an earlier one's operations are still
//! being written finds the lock pinned: nothing can have been appended since,
//! so there is nothing to catch up with (a loop of updates costs no system
//! call until the writer catches up with it).
//!
//! Within the process, one section at a time per file (`Section`): another
//! thread's waits for it; a section opened inside one of the same JS
//! environment (the same thread) is refused with `E_NESTED` instead of
//! deadlocking.
//!
//! While the writer cannot write (disk full), the lock stays pinned until the
//! section's operations are written: other processes wait for it (and give up
//! with `E_LOCKED` after `LOCK_TIMEOUT`), which is what keeps the update
//! atomic. A sync section's operations that fail are dropped, which releases
//! the lock.

use super::*;

/// The open section of a file in this process.
#[derive(Default)]
pub(super) struct Section {
    /// Its author, while one is open.
    owner: Option<Author>,
    /// Queued operations up to this id come from ended sections: the lock
    /// stays pinned until they are written.
    pin_upto: u64,
    /// Mirrors `Log::is_pinned` (read without the log's lock).
    pinned: bool,
}

impl Core {
    /// Opens `by`'s atomic section: waits for another thread's to end, takes
    /// and pins the journal's lock, and catches up with other processes.
    /// Returns the top-level keys their changes changed (the other JS
    /// environments are told; the caller reports them). Every successful call
    /// must be followed by `atomic_end`.
    pub fn atomic_begin(&self, by: Author) -> Result<Vec<KeyChange>> {
        if self.read_only {
            return Err(lock(&self.log).read_only_error());
        }
        {
            let mut s = lock(&self.atomic);
            while let Some(o) = s.owner {
                if o.env == by.env && (by.env != 0 || o.handle == by.handle) {
                    return Err(Error::Nested(
                        "update() or transaction() was called inside another update() or transaction() on the same store file; make the inner changes through the outer one (its `tx`, or the value its function returns)".into(),
                    ));
                }
                s = self.atomic_free.wait(s).unwrap_or_else(|p| p.into_inner());
            }
            s.owner = Some(by);
        }
        let caught = (|| {
            if lock(&self.state).closed {
                return Err(Error::Closed);
            }
            // pinned already (by an earlier section whose changes are being
            // written): nothing can have been appended since its catch-up
            if lock(&self.atomic).pinned {
                return Ok(Vec::new());
            }
            let mut log = lock(&self.log);
            let was_pinned = log.pin()?;
            lock(&self.atomic).pinned = true;
            if was_pinned {
                return Ok(Vec::new());
            }
            let remote = self.catch_up_rebased(&mut log);
            self.sync_counters(&log);
            remote
        })();
        match caught {
            Ok(remote) => {
                self.tell_others(by, Origin::Remote, remote.clone());
                Ok(remote)
            }
            Err(e) => {
                self.atomic_end(by);
                Err(e)
            }
        }
    }

    /// Ends `by`'s section: the lock stays pinned until what it queued is
    /// written (then the writer gives it back), or is given back now. Never
    /// waits for the writer: while it holds the log (an fsync), it is asked
    /// to settle the pin when it is done.
    pub fn atomic_end(&self, by: Author) {
        {
            let mut s = lock(&self.atomic);
            if s.owner != Some(by) {
                return;
            }
            s.owner = None;
            s.pin_upto = s.pin_upto.max(lock(&self.queue).next_id);
            if !s.pinned {
                drop(s);
                self.atomic_free.notify_all();
                return;
            }
        }
        self.atomic_free.notify_all();
        let writer_runs = self.writer_started.load(Ordering::Acquire);
        let log = match self.log.try_lock() {
            Ok(log) => Some(log),
            Err(std::sync::TryLockError::Poisoned(p)) => Some(p.into_inner()),
            Err(std::sync::TryLockError::WouldBlock) if !writer_runs => Some(lock(&self.log)),
            Err(std::sync::TryLockError::WouldBlock) => None,
        };
        match log {
            Some(mut log) => self.settle_pin(&mut log),
            None => {
                // the writer holds the log: one more round of it settles the
                // pin (the flag is set under the queue's lock, so its wait
                // cannot miss it)
                let mut q = lock(&self.queue);
                q.settle = true;
                if q.writer_sleeping {
                    self.wake.notify_one();
                }
            }
        }
    }

    /// Whether an atomic section is open (any thread's).
    pub fn in_atomic(&self) -> bool {
        lock(&self.atomic).owner.is_some()
    }

    /// Gives the pinned lock back once no section is open and every
    /// operation of the ended ones is written or dropped (lock order: `log`
    /// held by the caller).
    pub(super) fn settle_pin(&self, log: &mut Log) {
        if !log.is_pinned() {
            return;
        }
        let mut s = lock(&self.atomic);
        if s.owner.is_some() {
            return;
        }
        let q = lock(&self.queue);
        let waiting = q.inflight > 0 || q.records.front().is_some_and(|p| p.id <= s.pin_upto);
        drop(q);
        if !waiting {
            s.pinned = false;
            log.unpin();
        }
    }
}
