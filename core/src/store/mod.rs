//! The store core of one file in one process: the live document (what `get`
//! returns), the queue of operations not yet durable, the background writer,
//! transactions, flush and close.
//!
//! Invariant: the live document is the log's replica with the queued
//! operations (and an open transaction's) applied in order. Callers (the JS
//! thread) apply an operation to the live document and queue it; the writer
//! takes the queue, and with the OS lock held catches up with other processes,
//! plans each operation again on the latest state (the *operation*, not the old
//! patch), appends, and fsyncs (group commit). When another process's changes
//! arrive, or a queued operation cannot be written, the live document is
//! rebuilt from the replica and the queue (a rebase) and the keys whose values
//! changed are reported.
//!
//! Failures are honest: a sync write that cannot be made durable is undone in
//! memory and its caller gets the OS error; deferred writes stay queued and are
//! retried with backoff, the failure is reported at once (an event, `flush()`,
//! `status().writer_error`), and the store heals when the disk does. A panic in
//! the writer becomes an error, never a hang.
//!
//! Lock order: `log` → `state` → `queue` (and `atomic` before `queue`).
//!
//! Rooms: `options` (what opening takes), `state` (the shared state and the
//! queue), `live` (reading and changing), `txn` (transactions, rebase),
//! `writer` (the background writer; `checkpointing` — its checkpoint rounds,
//! prepared on a helper thread; `schedule` — when it works, on the
//! store's clock), `close` (flush, close, status),
//! `external` (other processes, other programs' edits), `watching`,
//! `rollback`, `backups`, `rekey`.

mod atomic;
mod backups;
mod checkpointing;
mod close;
mod durable;
mod external;
mod live;
pub use self::live::Prepared;
mod options;
mod rekey;
mod rollback;
mod schedule;
mod state;
mod txn;
mod watching;
mod writer;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, RwLock};
use std::thread::JoinHandle;

use crate::clock::{Clock, SystemClock};
use crate::codec::{Codec, Swap};
use crate::crypto::{self, RekeyRecord};
use crate::error::Result;
use crate::events::{Event, Origin, Sink};
use crate::fs::read_if_exists;
use crate::log::{Log, LogConfig, OpenReport};
use crate::ops::KeyChange;

use self::state::{Queue, QueuedBackups, State};
use self::watching::WatchSet;

pub use self::options::{Author, Durability, Status, StoreOptions};
pub use self::state::{BUSY_PATIENCE, MAX_QUEUED};
pub use crate::watch::ExternalOutcome;

/// One store file, open in this process (shared by every `Store` instance on
/// it).
pub struct Core {
    cfg: LogConfig,
    read_only: bool,
    log: Mutex<Log>,
    state: Mutex<State>,
    queue: Mutex<Queue>,
    /// Wakes the writer.
    wake: Condvar,
    /// Wakes callers waiting for the writer.
    done: Condvar,
    writer: Mutex<Option<JoinHandle<()>>>,
    writer_started: AtomicBool,
    /// Where background events go: one sink per JS environment with the file
    /// open (keyed by environment).
    sinks: RwLock<Vec<(u64, Arc<dyn Sink>)>>,
    /// Held (shared) by backup work in flight; `close` takes it exclusively, so
    /// nothing is written after `close` returns.
    busy: RwLock<()>,
    /// Serializes backups.
    backup_lock: Mutex<()>,
    queued_backups: Mutex<QueuedBackups>,
    report: OpenReport,
    me: std::sync::Weak<Core>,
    id: u64,
    /// `watch: true` instances (their schemas check external edits) and the
    /// watcher they share; `None` until the first one asks.
    watching: Mutex<WatchSet>,
    /// The journal length the log knows (for the watcher's lock-free look).
    journal_len: std::sync::atomic::AtomicU64,
    /// The codec every file goes through (`cfg.codec` is this cell).
    cell: Arc<Swap>,
    /// The open atomic section (`update`, `transaction`): see `atomic`.
    atomic: Mutex<atomic::Section>,
    /// Wakes callers waiting for the atomic section.
    atomic_free: Condvar,
    /// Where the writer's timing (checkpoint pacing, backoff, how long a
    /// hold on a file is waited out) reads the time.
    clock: Arc<dyn Clock>,
}

static NEXT_CORE_ID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

impl Core {
    /// Opens the store file: the log (lock, recovery, replay) and the live
    /// document. The writer starts on the first change.
    pub fn open(cfg: LogConfig) -> Result<Arc<Core>> {
        Core::open_with_clock(cfg, Arc::new(SystemClock))
    }

    /// `open` with the clock the writer's timing reads (tests).
    pub fn open_with_clock(mut cfg: LogConfig, clock: Arc<dyn Clock>) -> Result<Arc<Core>> {
        // the codec can be swapped (a key rotation); while a rotation a crash
        // interrupted is unfinished it reads with both keys
        let given = cfg.codec.clone();
        let cell = Arc::new(Swap::new(given.clone()));
        let rekey = crypto::rekey_path(&cfg.history_dir, &cfg.file_name());
        let record = match read_if_exists(&*cfg.fs, &rekey)? {
            Some(b) => Some(RekeyRecord::from_json(&b)?),
            None => None,
        };
        if let Some(r) = &record {
            cell.set(r.reader(&*given)?);
        }
        cfg.codec = cell.clone();
        let (log, report) = Log::open(cfg.clone())?;
        let read_only = log.read_only();
        let queue = Queue {
            head_seq: log.seq,
            written_seq: 0,
            file_seq: log.file.seq.unwrap_or(0),
            needs_checkpoint: report.replayed > 0,
            journal_bytes: log.journal_bytes(),
            journal_since: log.bytes_since_checkpoint(),
            file_len: log.file.len,
            history_entries: log.history_entries(),
            checkpoints: log.checkpoints,
            ..Queue::default()
        };
        let needs_writer = queue.needs_checkpoint;
        let doc = log.replica.clone();
        let core = Arc::new_cyclic(|me| Core {
            cfg,
            read_only,
            log: Mutex::new(log),
            state: Mutex::new(State {
                doc,
                closed: false,
                epoch: 0,
                txns: Vec::new(),
                interleaved: false,
            }),
            queue: Mutex::new(queue),
            wake: Condvar::new(),
            done: Condvar::new(),
            writer: Mutex::new(None),
            writer_started: AtomicBool::new(false),
            sinks: RwLock::new(Vec::new()),
            busy: RwLock::new(()),
            backup_lock: Mutex::new(()),
            queued_backups: Mutex::new(QueuedBackups::default()),
            report,
            me: me.clone(),
            id: NEXT_CORE_ID.fetch_add(1, Ordering::Relaxed),
            watching: Mutex::new(WatchSet::default()),
            journal_len: std::sync::atomic::AtomicU64::new(0),
            cell,
            atomic: Mutex::new(atomic::Section::default()),
            atomic_free: Condvar::new(),
            clock,
        });
        // finish (or undo) an interrupted key rotation, or encrypt what a
        // store opened with a key for the first time holds in clear
        if !core.read_only
            && (record.is_some() || (given.key_id().is_some() && core.cell.plain_seen()))
        {
            core.reseal(given, false)?;
        }
        if needs_writer {
            core.start_writer()?;
        }
        Ok(core)
    }

    /// A number unique to this open file in this process.
    pub fn id(&self) -> u64 {
        self.id
    }

    pub fn config(&self) -> &LogConfig {
        &self.cfg
    }

    pub fn report(&self) -> &OpenReport {
        &self.report
    }

    pub fn is_read_only(&self) -> bool {
        self.read_only
    }

    /// Installs environment `env`'s sink (replacing the one it had): it gets
    /// the background events, and the changes other environments make.
    pub fn add_sink(&self, env: u64, sink: Arc<dyn Sink>) {
        let mut sinks = self.sinks.write().unwrap_or_else(|p| p.into_inner());
        sinks.retain(|(e, _)| *e != env);
        sinks.push((env, sink));
    }

    /// Environment `env` stops listening (its last instance on the file closed,
    /// or the environment ends). Returns once no event is being delivered to it.
    pub fn remove_sink(&self, env: u64) {
        // dropped outside the lock: a sink's drop may call into Node-API
        let gone: Vec<_> = {
            let mut sinks = self.sinks.write().unwrap_or_else(|p| p.into_inner());
            let (gone, kept) = std::mem::take(&mut *sinks)
                .into_iter()
                .partition(|(e, _)| *e == env);
            *sinks = kept;
            gone
        };
        drop(gone);
    }

    /// Whether an environment other than `env` listens (then a change made in
    /// `env` is reported to it).
    fn others_listen(&self, env: u64) -> bool {
        env != 0
            && self
                .sinks
                .read()
                .unwrap_or_else(|p| p.into_inner())
                .iter()
                .any(|(e, _)| *e != env)
    }

    /// Catches up with other processes (lock held) and, when they changed
    /// something, rebases the live document: the keys that changed.
    fn catch_up_rebased(&self, log: &mut Log) -> Result<Vec<KeyChange>> {
        let caught = log.catch_up()?;
        Ok(if caught.changed() {
            self.rebase(log, &[])
        } else {
            Vec::new()
        })
    }

    /// Sends an event to the sink (for the instances' own events).
    pub(crate) fn emit_event(&self, event: Event) {
        self.emit(event)
    }

    fn emit(&self, event: Event) {
        self.emit_except(0, event)
    }

    /// Sends `event` to every environment but `env` (0: to every one).
    fn emit_except(&self, env: u64, event: Event) {
        let sinks = self.sinks.read().unwrap_or_else(|p| p.into_inner());
        let mut to = sinks
            .iter()
            .filter(|(e, _)| env == 0 || *e != env)
            .peekable();
        while let Some((_, s)) = to.next() {
            if to.peek().is_some() {
                s.emit(event.clone());
            } else {
                s.emit(event);
                break;
            }
        }
    }

    /// Tells the environments other than the author's about changes its call
    /// made or brought in (the author gets them as the call's result).
    fn tell_others(&self, by: Author, origin: Origin, changes: Vec<KeyChange>) {
        if by.env != 0 && !changes.is_empty() {
            self.emit_except(by.env, Event::Changed { origin, changes });
        }
    }
}

impl Drop for Core {
    fn drop(&mut self) {
        let _ = self.close(true);
    }
}
