//! The store's shared state: the live document and its transactions, the
//! queue of operations waiting for the writer (and the writer's mirrors of the
//! log), queued backups; the limits that bound them.

use std::collections::{HashMap, VecDeque};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::backup;
use crate::doc::Document;
use crate::error::{Error, Result};
use crate::ops::Op;
use crate::schema::Schema;
use crate::value::Value;

pub(super) struct State {
    pub(super) doc: Document,
    pub(super) closed: bool,
    /// Bumped by every rebase: operations queued before it are re-checked
    /// against the schema when written.
    pub(super) epoch: u64,
    /// Open transactions, in the order they began (their operations are
    /// applied to `doc`, not queued).
    pub(super) txns: Vec<Txn>,
    /// Operations were applied to `doc` out of the order they will be written
    /// in (another instance's change while a transaction is open): the next
    /// commit or abort of a transaction rebuilds `doc` in the written order.
    pub(super) interleaved: bool,
}

/// One instance's open transaction (a constructor: defaults, migrations,
/// the check of the loaded data).
pub(super) struct Txn {
    pub(super) owner: u64,
    pub(super) ops: Vec<Op>,
}

/// An operation applied to the live document, waiting for the writer.
pub(super) struct Pending {
    pub(super) id: u64,
    pub(super) ts: f64,
    pub(super) name: String,
    pub(super) op: Op,
    pub(super) epoch: u64,
    /// Re-checked against this schema if the state changed under it.
    pub(super) schema: Option<Arc<Schema>>,
    /// A caller waits for it (sync durability).
    pub(super) sync: bool,
    /// The author's environment (see [`Author`]).
    pub(super) env: u64,
}

#[derive(Default)]
pub(super) struct Queue {
    pub(super) records: VecDeque<Pending>,
    /// Operations taken by the writer and not yet resolved.
    pub(super) inflight: usize,
    pub(super) next_id: u64,
    /// Every operation up to this id was written (or resolved as failed).
    pub(super) durable_id: u64,
    /// Operations that could not be written, for their waiting callers.
    pub(super) failed: HashMap<u64, Error>,
    /// Operations up to this id were being written when the writer panicked:
    /// their outcome is not known, and their callers are told so.
    pub(super) abandoned_upto: u64,
    /// Write now, even while backing off after a failure (a caller waits).
    pub(super) kick: bool,
    /// Mirrors of the log (read without its lock).
    pub(super) head_seq: u64,
    pub(super) written_seq: u64,
    pub(super) file_seq: u64,
    pub(super) needs_checkpoint: bool,
    /// Journal bytes since the last checkpoint, and the document file's
    /// length (the bound for them: `checkpoint::journal_bound`).
    pub(super) journal_since: u64,
    pub(super) file_len: usize,
    /// A checkpoint prepared off the writer thread, to be put in place.
    pub(super) ckpt_ready: Option<Result<crate::checkpoint::Prepared>>,
    pub(super) flush_wanted: bool,
    /// An atomic section ended while the writer held the log: a round of
    /// the writer settles the pinned lock (`atomic::settle_pin`).
    pub(super) settle: bool,
    pub(super) stop: bool,
    pub(super) writer_done: bool,
    pub(super) writer_sleeping: bool,
    /// The current write failure.
    pub(super) error: Option<Error>,
    /// Write attempts that failed (flush waits for a new attempt's outcome).
    pub(super) failures: u64,
    /// Since when every failure has been another program holding a file
    /// (`Error::is_transient`): waiting callers are not told until it has
    /// lasted `busy_patience`.
    pub(super) busy_since: Option<Instant>,
    pub(super) trim_error: Option<(&'static str, String)>,
    pub(super) journal_bytes: u64,
    pub(super) history_entries: u64,
    pub(super) checkpoints: u64,
    pub(super) last_checkpoint_ms: f64,
    pub(super) damage: Option<String>,
}

/// A backup asked for: `(id, directory, reason, only if changed, backups kept,
/// the state then and its seq)`.
pub(super) type QueuedBackup = (u64, PathBuf, String, bool, usize, (Value, u64));

/// Backups asked for but not written yet, and what `close()` wrote for them.
#[derive(Default)]
pub(super) struct QueuedBackups {
    pub(super) next: u64,
    pub(super) waiting: Vec<QueuedBackup>,
    pub(super) done: HashMap<u64, Result<Option<backup::Info>>>,
}

/// Changes queued for the writer beyond which a change waits for it (or fails
/// at once while the writer cannot write): bounds memory.
pub const MAX_QUEUED: usize = 20_000;

/// How long a file may stay held by another program (Windows: antivirus,
/// backup or indexing software; see `fs::platform::is_transient`) before
/// `flush()`, `close()` and a sync `set` give up with its error (`E_IO`, cause
/// `EBUSY`/`EPERM`). The writer keeps trying after that; nothing is dropped.
pub const BUSY_PATIENCE: Duration = Duration::from_secs(20);

impl Queue {
    /// Records a write failure; whether it starts a run of failures.
    pub(super) fn fail(&mut self, e: &Error, now: Instant) -> bool {
        if e.is_transient() {
            self.busy_since.get_or_insert(now);
        } else {
            self.busy_since = None;
        }
        self.error.replace(e.duplicate()).is_none()
    }

    /// Writing works again; whether there was a failure to clear.
    pub(super) fn recover(&mut self) -> bool {
        self.busy_since = None;
        self.error.take().is_some()
    }

    /// Whether a transient hold is still young enough to wait for.
    pub(super) fn still_busy(&self, patience: Duration, now: Instant) -> bool {
        self.error.as_ref().is_some_and(Error::is_transient)
            && self
                .busy_since
                .is_none_or(|t| now.saturating_duration_since(t) < patience)
    }

    /// The failure waiting callers get now (none while a hold is young).
    pub(super) fn reportable(&self, patience: Duration, now: Instant) -> Option<&Error> {
        if self.still_busy(patience, now) {
            return None;
        }
        self.error.as_ref()
    }
}

pub(super) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Plans `op` on `doc` and applies it; an operation that does not apply is
/// skipped (it is rejected when written).
pub(super) fn replay(doc: &mut Document, op: &Op) {
    if let Ok(c) = op.plan(doc) {
        let _ = doc.apply(&c.patch);
    }
}
