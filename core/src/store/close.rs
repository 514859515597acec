//! Flush, close and status.

use std::time::Duration;

use super::state::{lock, Queue};
use super::{Core, Status};
use crate::error::{Error, Result};

impl Core {
    /// Blocks until every change so far is durable and in the document file,
    /// or the next write attempt fails (its error).
    pub fn flush(&self) -> Result<()> {
        if lock(&self.state).closed {
            return Ok(());
        }
        {
            let q = lock(&self.queue);
            if q.records.is_empty()
                && q.inflight == 0
                && q.error.is_none()
                && !q.needs_checkpoint
                && q.file_seq >= q.head_seq
            {
                return Ok(());
            }
        }
        self.start_writer()?;
        self.wait(true, true)
    }

    /// Blocks until every change so far is durable in the journal (not
    /// necessarily in the document file).
    pub fn wait_durable(&self) -> Result<()> {
        {
            let q = lock(&self.queue);
            if q.records.is_empty() && q.inflight == 0 {
                return Ok(());
            }
        }
        self.start_writer()?;
        self.wait(false, true)
    }

    pub(super) fn wait(&self, file_too: bool, kick: bool) -> Result<()> {
        let mut q = lock(&self.queue);
        let failures = q.failures;
        // the changes made so far: what another thread queues meanwhile is
        // not waited for (a thread that never stops writing cannot hold a
        // flush, or the process's exit, forever)
        let target = q.next_id;
        let mut upto = None;
        loop {
            let durable = (q.records.is_empty() && q.inflight == 0) || q.durable_id >= target;
            if durable && upto.is_none() {
                // the log's seq once they are written: the file must hold it
                upto = Some(q.head_seq);
            }
            if upto.is_some_and(|s| q.head_seq < s) {
                // the log was numbered anew meanwhile (another program put an
                // older store in place, taken as an external edit): the file
                // must hold the state now, there is no later seq to wait for
                upto = Some(q.head_seq);
            }
            let current = !q.needs_checkpoint && upto.is_some_and(|s| q.file_seq >= s);
            if durable && (!file_too || current) && q.error.is_none() {
                return Ok(());
            }
            if let Some(e) = self.wait_failed(&q, failures) {
                return Err(e);
            }
            if kick {
                if file_too {
                    q.flush_wanted = true;
                } else {
                    q.kick = true;
                }
                self.wake.notify_one();
            }
            q = self
                .done
                .wait_timeout(q, Duration::from_millis(200))
                .map(|r| r.0)
                .unwrap_or_else(|p| p.into_inner().0);
        }
    }

    /// While waiting for the writer: the error to give up with — a failure
    /// since the wait began (`failures` then) that is reportable now, or the
    /// writer gone.
    pub(super) fn wait_failed(&self, q: &Queue, failures: u64) -> Option<Error> {
        if q.failures > failures {
            if let Some(e) = q.reportable(self.cfg.busy_patience, self.clock.now()) {
                return Some(e.duplicate());
            }
        }
        if q.writer_done {
            return Some(match &q.error {
                Some(e) => e.duplicate(),
                None => Error::Closed,
            });
        }
        None
    }

    /// Flushes, stops the writer and closes the files. When changes cannot be
    /// written, returns the error and stays open (nothing is lost) unless
    /// `force`, which closes anyway and drops them.
    pub fn close(&self, force: bool) -> Result<()> {
        let _busy = self.busy.write().unwrap_or_else(|p| p.into_inner());
        if lock(&self.state).closed {
            return Ok(());
        }
        self.stop_watcher();
        // backups asked for before close are written now, not dropped
        let jobs = std::mem::take(&mut lock(&self.queued_backups).waiting);
        for (id, dir, reason, only, keep, snap) in jobs {
            let r = self.write_backup(&dir, &reason, only, keep, Some(snap));
            lock(&self.queued_backups).done.insert(id, r);
        }
        self.abort_all_txns();
        if !self.read_only {
            if let Err(e) = self.flush() {
                if !force {
                    return Err(e);
                }
            }
        }
        lock(&self.state).closed = true;
        lock(&self.queue).stop = true;
        self.wake.notify_one();
        let handle = lock(&self.writer).take();
        if let Some(h) = handle {
            let _ = h.join();
        }
        {
            let mut q = lock(&self.queue);
            q.writer_done = true;
            // anyone still waiting learns the store is gone
            q.records.clear();
        }
        self.done.notify_all();
        let sinks = std::mem::take(&mut *self.sinks.write().unwrap_or_else(|p| p.into_inner()));
        drop(sinks);
        lock(&self.log).close_files();
        Ok(())
    }

    pub fn is_closed(&self) -> bool {
        lock(&self.state).closed
    }

    /// Drops every open transaction (the file is closing).
    pub(super) fn abort_all_txns(&self) {
        let log = lock(&self.log);
        let mut st = lock(&self.state);
        if st.txns.is_empty() {
            return;
        }
        st.txns.clear();
        st.interleaved = false;
        let q = lock(&self.queue);
        self.rebuild_live(&log, &mut st, &q, &[]);
    }

    /// Writer and journal counters, once the changes made so far are numbered
    /// (durable in the journal: a change gets its global seq when written), or
    /// as they are when writing fails.
    pub fn status_settled(&self) -> Status {
        if !self.is_closed() {
            let _ = self.wait_durable();
        }
        self.status()
    }

    /// Writer and journal counters.
    pub fn status(&self) -> Status {
        let txn = lock(&self.state)
            .txns
            .iter()
            .map(|t| t.ops.len())
            .sum::<usize>();
        let q = lock(&self.queue);
        Status {
            seq: q.head_seq,
            durable_seq: if q.records.is_empty() && q.inflight == 0 {
                q.head_seq
            } else {
                q.written_seq
            },
            checkpointed_seq: q.file_seq,
            pending: q.records.len() + q.inflight + txn,
            journal_bytes: q.journal_bytes,
            replay_bytes: q.journal_since,
            writer_error: q.error.as_ref().map(|e| (e.code(), e.to_string())),
            checkpoints: q.checkpoints,
            last_checkpoint_ms: q.last_checkpoint_ms,
            history_entries: q.history_entries,
            read_only: self.read_only,
            journal_damage: q.damage.clone(),
            journal_trim_error: q.trim_error.clone(),
        }
    }
}
