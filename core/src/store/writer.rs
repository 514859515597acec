//! The background writer: its loop, a round (catch up, write the batch,
//! checkpoint), failures and their retry.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use super::schedule::{Look, Next, Schedule};
use super::state::{lock, Pending};
use super::Core;
use crate::doc::Change;
use crate::error::{Error, Result};
use crate::events::{Event, Origin};
use crate::log::{Log, NewEntry};
use crate::ops::{touched_keys, KeyChange};
use crate::value::{hex, merkle};
use crate::watch::Source;

/// Queues the event for other processes' changes, if there were any.
fn push_remote(events: &mut Vec<Event>, remote: Vec<KeyChange>) {
    if !remote.is_empty() {
        events.push(Event::Changed {
            origin: Origin::Remote,
            changes: remote,
        });
    }
}

impl Core {
    pub(super) fn start_writer(&self) -> Result<()> {
        if self.writer_started.load(Ordering::Acquire) {
            return Ok(());
        }
        let mut slot = lock(&self.writer);
        if slot.is_none() && !lock(&self.queue).writer_done {
            let Some(me) = self.me.upgrade() else {
                return Err(Error::Closed);
            };
            let handle = std::thread::Builder::new()
                .name("tad-store-writer".into())
                .stack_size(32 << 20)
                .spawn(move || me.run_writer())
                .map_err(Error::io("spawn writer thread", "."))?;
            *slot = Some(handle);
            self.writer_started.store(true, Ordering::Release);
        }
        Ok(())
    }

    // -- the writer ----------------------------------------------------------

    pub(super) fn run_writer(self: Arc<Self>) {
        // the writer waits out another program's brief hold on a file (the
        // thread that queued the change never does)
        let _patient = crate::fs::platform::patient();
        let mut schedule = Schedule::new(self.clock.now());
        loop {
            let (stop, want_checkpoint, flushing) = {
                let mut q = lock(&self.queue);
                loop {
                    let look = Look {
                        dirty: q.needs_checkpoint
                            || q.file_seq < q.written_seq
                            || (q.flush_wanted && q.file_seq < q.head_seq),
                        queued: !q.records.is_empty(),
                        failing: q.error.is_some(),
                        urgent: q.flush_wanted || q.stop,
                        kicked: q.kick && !q.records.is_empty(),
                        settle: q.settle,
                    };
                    let timeout = match schedule.next(look, self.clock.now()) {
                        Next::Work { checkpoint } => {
                            // requests arriving during this round get another round
                            let flushing = q.flush_wanted;
                            q.kick = false;
                            q.flush_wanted = false;
                            q.settle = false;
                            break (q.stop, checkpoint, flushing);
                        }
                        Next::Sleep(timeout) => timeout,
                    };
                    q.writer_sleeping = true;
                    q = self
                        .wake
                        .wait_timeout(q, timeout)
                        .map(|r| r.0)
                        .unwrap_or_else(|p| p.into_inner().0);
                    q.writer_sleeping = false;
                }
            };
            let overdue = schedule.overdue(self.clock.now());
            let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                // a flush waits: the file is written even while more changes
                // queue (another thread writing on and on)
                self.cycle(want_checkpoint, stop, flushing || overdue)
            }));
            let outcome = match outcome {
                Ok(r) => r,
                Err(p) => {
                    let e = Error::from_panic(&*p, "the background write");
                    self.fail_inflight(e);
                    Err(())
                }
            };
            let ok = outcome.is_ok();
            schedule.round_done(outcome, self.clock.now());
            let mut q = lock(&self.queue);
            let idle = q.records.is_empty() && !(q.needs_checkpoint || q.file_seq < q.written_seq);
            if stop && (idle || !ok) {
                q.writer_done = true;
                drop(q);
                self.done.notify_all();
                return;
            }
        }
    }

    /// A panic in the middle of a write: the operations taken are resolved as
    /// failed (sync) or put back (deferred).
    pub(super) fn fail_inflight(&self, e: Error) {
        let mut q = lock(&self.queue);
        q.inflight = 0;
        q.failures += 1;
        q.abandoned_upto = q.next_id;
        q.fail(&e, self.clock.now());
        drop(q);
        self.done.notify_all();
    }

    /// One round of the writer: write what is queued, then the document when
    /// due. Returns how long a document write took (if one ran), or `Err` after
    /// a failure (recorded in the queue). Events go out before waiters wake, so
    /// a caller that sees the outcome has had its events.
    pub(super) fn cycle(
        &self,
        want_checkpoint: bool,
        stop: bool,
        overdue: bool,
    ) -> Result<Option<Duration>, ()> {
        let mut log = lock(&self.log);
        let mut events: Vec<Event> = Vec::new();
        let r = self.cycle_with(&mut log, &mut events, want_checkpoint, stop, overdue);
        self.settle_pin(&mut log);
        self.sync_counters(&log);
        let stashed = log.has_external();
        drop(log);
        if stashed {
            if let Some(w) = &lock(&self.watching).watcher {
                w.poke(Source::Document);
            }
        }
        for ev in events {
            self.emit(ev);
        }
        self.done.notify_all();
        r
    }

    pub(super) fn cycle_with(
        &self,
        log: &mut Log,
        events: &mut Vec<Event>,
        want_checkpoint: bool,
        stop: bool,
        overdue: bool,
    ) -> Result<Option<Duration>, ()> {
        let batch: Vec<Pending> = {
            let mut q = lock(&self.queue);
            let b: Vec<Pending> = q.records.drain(..).collect();
            q.inflight = b.len();
            b
        };
        if !batch.is_empty() {
            let r = log.with_lock(|log| {
                let caught = log.catch_up()?;
                let remote = if caught.changed() {
                    self.rebase(log, &batch)
                } else {
                    Vec::new()
                };
                let rejected = self.write_batch(log, &batch)?;
                Ok((remote, rejected))
            });
            match r {
                Ok((remote, rejected)) => {
                    push_remote(events, remote);
                    self.resolve_batch(log, &batch, rejected, events);
                }
                Err(e) => {
                    self.requeue_failed(log, batch, e, events);
                    return Err(());
                }
            }
        } else if !want_checkpoint && lock(&self.queue).error.is_some() {
            // A standing error with nothing left to retry (the changes that
            // failed were sync ones, dropped): look at the journal again — this
            // cuts back what a failed append left — and clear it when that works.
            match log.with_lock(|log| self.catch_up_rebased(log)) {
                Ok(remote) => {
                    push_remote(events, remote);
                    let mut q = lock(&self.queue);
                    let dirty = q.needs_checkpoint || q.file_seq < q.written_seq;
                    if !dirty && q.recover() {
                        events.push(Event::WriteRecovered);
                    }
                }
                Err(e) => {
                    let mut q = lock(&self.queue);
                    q.failures += 1;
                    q.fail(&e, self.clock.now());
                    return Err(());
                }
            }
        }
        let more_queued = !lock(&self.queue).records.is_empty();
        if !(want_checkpoint && (!more_queued || stop || overdue)) {
            return Ok(None);
        }
        let r = log.with_lock(|log| {
            let remote = self.catch_up_rebased(log)?;
            if !log.document_current() {
                log.write_document()?;
            }
            Ok(remote)
        });
        match r {
            Ok(remote) => {
                push_remote(events, remote);
                let mut q = lock(&self.queue);
                q.needs_checkpoint = false;
                if q.recover() {
                    events.push(Event::WriteRecovered);
                }
                Ok(Some(log.last_checkpoint_took))
            }
            Err(e) => {
                let first = {
                    let mut q = lock(&self.queue);
                    q.failures += 1;
                    // retried: the file (or the line naming it) is still due
                    q.needs_checkpoint = true;
                    q.fail(&e, self.clock.now())
                };
                if first {
                    events.push(self.failure_event(&e));
                }
                Err(())
            }
        }
    }

    pub(super) fn failure_event(&self, e: &Error) -> Event {
        let q = lock(&self.queue);
        Event::WriteFailed {
            error: Arc::new(e.duplicate()),
            pending: q.records.len() + q.inflight,
        }
    }

    /// Copies the log's counters to the queue (readable without the log lock).
    pub(super) fn sync_counters(&self, log: &Log) {
        let mut q = lock(&self.queue);
        q.head_seq = log.seq;
        q.file_seq = log.file.seq.unwrap_or(0);
        q.journal_bytes = log.journal_bytes();
        self.journal_len
            .store(log.journal_bytes(), Ordering::Release);
        q.history_entries = log.history_entries();
        q.checkpoints = log.checkpoints;
        q.last_checkpoint_ms = log.last_checkpoint_took.as_secs_f64() * 1000.0;
        q.damage = log.damage.clone();
        q.trim_error = log.trim_error.as_ref().map(|e| (e.code(), e.to_string()));
    }

    /// Plans every operation of the batch again on the replica, re-checks the
    /// ones whose state changed under them, and appends them (one fsync).
    /// Returns the operations rejected (with why).
    pub(super) fn write_batch(
        &self,
        log: &mut Log,
        batch: &[Pending],
    ) -> Result<Vec<(u64, Error)>> {
        crate::testing::point("writer.batch");
        let epoch = lock(&self.state).epoch;
        let mut work = log.replica.clone();
        let mut rejected = Vec::new();
        let mut planned: Vec<(usize, Vec<String>, Change, String)> = Vec::new();
        for (i, p) in batch.iter().enumerate() {
            let change = match p.op.plan(&work) {
                Ok(c) => c,
                Err(e) => {
                    rejected.push((p.id, e));
                    continue;
                }
            };
            if change.is_empty() {
                continue;
            }
            let mut next = work.clone();
            if let Err(e) = next.apply(&change.patch) {
                rejected.push((p.id, e));
                continue;
            }
            if p.epoch != epoch {
                if let Some(schema) = &p.schema {
                    let whole = p.op.is_bulk() || change.patch.iter().any(|x| x.path().is_empty());
                    let touched = touched_keys(&work, &change);
                    if let Err(e) = schema.check(&next, if whole { None } else { Some(&touched) }) {
                        rejected.push((
                            p.id,
                            Error::Schema(format!(
                                "{e} (another process changed the store after this change was made, and the two do not fit together; this change was dropped)"
                            )),
                        ));
                        continue;
                    }
                }
            }
            let keys = if p.op.is_bulk() {
                touched_keys(&work, &change)
            } else {
                p.op.history_keys()
            };
            work = next;
            let h = hex(&merkle(work.root()));
            planned.push((i, keys, change, h));
        }
        let entries: Vec<(NewEntry, String)> = planned
            .iter()
            .map(|(i, keys, change, h)| {
                let p = &batch[*i];
                (
                    NewEntry {
                        ts: p.ts,
                        op: &p.name,
                        keys,
                        change,
                        reversible: true,
                    },
                    h.clone(),
                )
            })
            .collect();
        log.append_prepared(&entries, None, work)?;
        Ok(rejected)
    }

    /// After a durable batch: wakes its waiters, reports rejected operations,
    /// and rebuilds the live document if any was rejected.
    pub(super) fn resolve_batch(
        &self,
        log: &Log,
        batch: &[Pending],
        rejected: Vec<(u64, Error)>,
        events: &mut Vec<Event>,
    ) {
        let recovered;
        {
            let mut st = lock(&self.state);
            let mut q = lock(&self.queue);
            q.inflight = 0;
            if let Some(last) = batch.last() {
                q.durable_id = q.durable_id.max(last.id);
            }
            q.written_seq = log.seq;
            q.head_seq = log.seq;
            recovered = q.recover();
            if !rejected.is_empty() {
                for (id, e) in rejected {
                    let p = batch.iter().find(|p| p.id == id);
                    if p.is_some_and(|p| p.sync) {
                        q.failed.insert(id, e);
                    } else {
                        events.push(Event::ChangeRejected {
                            error: Arc::new(e),
                            keys: p.map(|p| p.op.history_keys()).unwrap_or_default(),
                        });
                    }
                }
                let undone = self.rebuild_live(log, &mut st, &q, &[]);
                if !undone.is_empty() {
                    events.push(Event::Changed {
                        origin: Origin::Remote,
                        changes: undone,
                    });
                }
            }
        }
        if recovered {
            events.push(Event::WriteRecovered);
        }
    }

    /// After a failed batch: sync operations fail (and are undone in memory),
    /// deferred ones go back to the front of the queue.
    pub(super) fn requeue_failed(
        &self,
        log: &Log,
        batch: Vec<Pending>,
        e: Error,
        events: &mut Vec<Event>,
    ) {
        let first;
        let mut undone = Vec::new();
        // the callers of the failed sync changes get the error; the other
        // environments hear of the undo
        // (`None`: callers in several environments)
        let mut callers = batch.iter().filter(|p| p.sync).map(|p| p.env);
        let first_caller = callers.next().unwrap_or(0);
        let caller = callers.all(|e| e == first_caller).then_some(first_caller);
        {
            let mut st = lock(&self.state);
            let mut q = lock(&self.queue);
            q.inflight = 0;
            q.failures += 1;
            // another program's hold: sync callers wait for it (up to
            // `busy_patience`) instead of failing at once
            let wait_out = e.is_transient()
                && q.busy_since.is_none_or(|t| {
                    self.clock.now().saturating_duration_since(t) < self.cfg.busy_patience
                });
            let mut undo = false;
            let mut back = Vec::new();
            for p in batch {
                if p.sync && !wait_out {
                    q.failed.insert(p.id, e.duplicate());
                    undo = true;
                } else {
                    back.push(p);
                }
            }
            for p in back.into_iter().rev() {
                q.records.push_front(p);
            }
            if undo {
                // the live document must not show what will not be durable
                undone = self.rebuild_live(log, &mut st, &q, &[]);
            }
            first = q.fail(&e, self.clock.now());
        }
        if first {
            events.push(self.failure_event(&e));
        }
        if !undone.is_empty() && caller != Some(0) {
            self.emit_except(
                caller.unwrap_or(0),
                Event::Changed {
                    origin: Origin::Thread,
                    changes: undone,
                },
            );
        }
    }
}
