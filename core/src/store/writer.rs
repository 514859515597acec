//! The background writer: its loop, its rounds (catch up and write the
//! batch; clear a standing error; the checkpoint rounds are in
//! `checkpointing`), failures and their retry.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use super::checkpointing::Helper;
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
pub(super) fn push_remote(events: &mut Vec<Event>, remote: Vec<KeyChange>) {
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

    /// The writer thread. Each round, in this order: writes what is queued
    /// (one append, one fsync) and wakes its waiters at once; puts a
    /// checkpoint prepared off this thread in place; starts a checkpoint when
    /// one is due (`schedule`: wanted now, the journal past its bound, or the
    /// writer idle). A checkpoint is serialized and written to a temp file by
    /// a helper thread while this one goes on appending, so a change never
    /// waits for a document rewrite (`checkpointing`).
    pub(super) fn run_writer(self: Arc<Self>) {
        // the writer waits out another program's brief hold on a file (the
        // thread that queued the change never does)
        let _patient = crate::fs::platform::patient();
        let mut schedule = Schedule::new(self.clock.now());
        let mut helper: Option<Helper> = None;
        loop {
            let round = {
                let mut q = lock(&self.queue);
                loop {
                    let dirty = q.needs_checkpoint
                        || q.file_seq < q.written_seq
                        || (q.flush_wanted && q.file_seq < q.head_seq);
                    let look = Look {
                        dirty,
                        queued: !q.records.is_empty(),
                        failing: q.error.is_some(),
                        urgent: q.flush_wanted || q.stop,
                        kicked: q.kick && !q.records.is_empty(),
                        settle: q.settle,
                        stop: q.stop,
                        preparing: helper.is_some(),
                        ready: q.ckpt_ready.is_some(),
                        journal_since: q.journal_since,
                        file_len: q.file_len,
                    };
                    let timeout = match schedule.next(look, self.clock.now()) {
                        Next::Work(round) => {
                            if round.start || !dirty {
                                // requests arriving from here on get another round
                                q.flush_wanted = false;
                            }
                            q.kick = false;
                            q.settle = false;
                            break round;
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
            let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                let mut ok = true;
                if round.write {
                    ok &= self.write_round().is_ok();
                    schedule.wrote(self.clock.now());
                } else if round.retry {
                    ok &= self.retry_round().is_ok();
                } else if round.settle && !round.ready {
                    // every log round settles the pin (`with_log_then_wake`)
                    self.with_log_then_wake(|_, _| ());
                }
                if round.ready {
                    let (h, started, needed) = helper.take().expect("a checkpoint was started");
                    let _ = h.join();
                    match self.install_round(started, needed) {
                        Ok(Some(t)) => schedule.checkpoint_took(t),
                        Ok(None) => {}
                        Err(()) => ok = false,
                    }
                }
                if round.start && helper.is_none() && ok {
                    match self.start_checkpoint() {
                        Ok(Some(h)) => helper = Some(h),
                        Ok(None) => {}
                        Err(()) => ok = false,
                    }
                }
                ok
            }));
            let ok = match outcome {
                Ok(ok) => ok,
                Err(p) => {
                    let e = Error::from_panic(&*p, "the background write");
                    self.fail_inflight(e);
                    false
                }
            };
            schedule.round_done(ok, self.clock.now());
            let q = lock(&self.queue);
            let idle = q.records.is_empty()
                && !(q.needs_checkpoint || q.file_seq < q.written_seq)
                && helper.is_none();
            if round.stop && (idle || !ok) {
                drop(q);
                // a checkpoint still being prepared is finished and dropped
                if let Some((h, _, _)) = helper.take() {
                    let _ = h.join();
                }
                let mut q = lock(&self.queue);
                if let Some(Ok(p)) = q.ckpt_ready.take() {
                    let _ = self.cfg.fs.remove_file(&p.tmp);
                }
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

    /// Runs `f` with the log, then (log released) tells the watcher about a
    /// stashed external edit, sends the events, and wakes every waiter: a
    /// caller that sees the outcome has had its events.
    pub(super) fn with_log_then_wake<R>(
        &self,
        f: impl FnOnce(&mut Log, &mut Vec<Event>) -> R,
    ) -> R {
        let mut log = lock(&self.log);
        let mut events: Vec<Event> = Vec::new();
        let r = f(&mut log, &mut events);
        // an atomic section that ended while the writer held the log
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

    /// Writes what is queued (one append, one fsync) and wakes its waiters:
    /// a change is acknowledged when its journal record is durable, never
    /// after a checkpoint.
    fn write_round(&self) -> Result<(), ()> {
        self.with_log_then_wake(|log, events| {
            let batch: Vec<Pending> = {
                let mut q = lock(&self.queue);
                let b: Vec<Pending> = q.records.drain(..).collect();
                q.inflight = b.len();
                b
            };
            if batch.is_empty() {
                return Ok(());
            }
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
                    Ok(())
                }
                Err(e) => {
                    self.requeue_failed(log, batch, e, events);
                    Err(())
                }
            }
        })
    }

    /// A standing error with nothing left to retry (the changes that failed
    /// were sync ones, dropped): looks at the journal again — this cuts back
    /// what a failed append left — and clears the error when that works.
    fn retry_round(&self) -> Result<(), ()> {
        self.with_log_then_wake(|log, events| {
            match log.with_lock(|log| self.catch_up_rebased(log)) {
                Ok(remote) => {
                    push_remote(events, remote);
                    let mut q = lock(&self.queue);
                    let dirty = q.needs_checkpoint || q.file_seq < q.written_seq;
                    if !dirty && q.recover() {
                        events.push(Event::WriteRecovered);
                    }
                    Ok(())
                }
                Err(e) => {
                    let mut q = lock(&self.queue);
                    q.failures += 1;
                    q.fail(&e, self.clock.now());
                    Err(())
                }
            }
        })
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
        // a reload (the journal replaced under us) can number the state
        // anew: what was written is in what the log holds now
        q.written_seq = q.written_seq.min(log.seq);
        q.journal_since = log.bytes_since_checkpoint();
        q.file_len = log.file.len;
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
        let entries: Vec<(NewEntry<'_>, String)> = planned
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
