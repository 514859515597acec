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

mod atomic;

use std::collections::{HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, RwLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::backup;
use crate::checkpoint;
use crate::codec::{Codec, Kind, Plain, Swap};
use crate::crypto::{self, RekeyRecord};
use crate::defaults::Defaults;
use crate::doc::{Change, Document};
use crate::error::{Error, Result};
use crate::events::{Event, Origin, Sink};
use crate::fs::{read_if_exists, FileSystem, RealFs};
use crate::history::{self, Target};
use crate::journal::{now_ms, ChangeRecord};
use crate::log::{CheckpointPlan, Log, LogConfig, NewEntry, OpenReport, Resealed};
use crate::ops::{top_level_diff, touched_keys, KeyChange, Op};
use crate::schema::Schema;
use crate::value::{hex, merkle, sha256_hex, Value};
use crate::watch::{Source, WatchSetup, Watcher};

/// Queues the event for other processes' changes, if there were any.
fn push_remote(events: &mut Vec<Event>, remote: Vec<KeyChange>) {
    if !remote.is_empty() {
        events.push(Event::Changed {
            origin: Origin::Remote,
            changes: remote,
        });
    }
}

/// Who makes a change: the `Store` instance (its open transaction collects
/// its operations) and the JS environment it belongs to (the main thread or a
/// worker thread; the other environments with the file open hear of the
/// change as an event, as of another process's). `Author::CORE` is the core
/// itself (the watcher applying another program's edit), whose caller reports
/// the change.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Author {
    /// The instance (`Handle::id`); 0 for none.
    pub handle: u64,
    /// The JS environment; 0 outside JS (tests, the core itself).
    pub env: u64,
}

impl Author {
    pub const CORE: Author = Author { handle: 0, env: 0 };
}

/// When a change returns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Durability {
    /// At once; the background writer makes it durable right away.
    Deferred,
    /// Once it is durable (fsync'd in the journal).
    Sync,
}

/// Everything needed to open a store (per file, and per `Store` instance).
#[derive(Clone)]
pub struct StoreOptions {
    /// The document file (`<cwd>/<name>.<ext>`).
    pub path: PathBuf,
    /// Directory of the journal (`<cwd>/storeHistory`). Shared by every
    /// instance on the file.
    pub history_dir: PathBuf,
    /// Change entries kept once checkpointed. Shared.
    pub history_max: usize,
    /// Mode of every file the store creates. Shared.
    pub mode: u32,
    /// Start from an empty document when the file is damaged (it is kept aside).
    pub clear_invalid_config: bool,
    /// Per instance: when `set` returns.
    pub durability: Durability,
    /// Per instance: keys are dot paths.
    pub dot_notation: bool,
    /// Per instance: every change is checked against it before anything is
    /// written.
    pub schema: Option<Arc<Schema>>,
    /// Per instance: the `defaults` option and the schema's defaults, which
    /// every change re-applies as conf does (see `defaults`).
    pub defaults: Arc<Defaults>,
    /// Per instance: backups.
    pub backup_dir: PathBuf,
    pub max_backups: usize,
    /// Per instance: the JS environment that opens it (see [`Author`]); 0
    /// outside JS.
    pub env: u64,
    /// The file system (tests inject faults here).
    pub fs: Arc<dyn FileSystem>,
    /// How bytes are stored (shared).
    pub codec: Arc<dyn Codec>,
    /// The document as compact JSON (`serialize: JSON.stringify`). Shared.
    pub compact: bool,
    /// How long `flush()`, `close()` and sync changes wait out another
    /// program's hold on a file before failing with its error. Shared.
    pub busy_patience: Duration,
}

impl StoreOptions {
    pub fn new(path: impl Into<PathBuf>) -> StoreOptions {
        let path = path.into();
        let dir = crate::fs::parent_of(&path).to_path_buf();
        StoreOptions {
            history_dir: dir.join("storeHistory"),
            backup_dir: dir.join("backups"),
            path,
            history_max: 100,
            mode: 0o600,
            clear_invalid_config: false,
            compact: false,
            durability: Durability::Deferred,
            dot_notation: true,
            schema: None,
            defaults: Arc::default(),
            max_backups: 10,
            env: 0,
            fs: Arc::new(RealFs),
            codec: Arc::new(Plain),
            busy_patience: BUSY_PATIENCE,
        }
    }
}

/// Counters for the info/health surface.
#[derive(Clone, Debug, Default)]
pub struct Status {
    /// The latest change this process knows (global seq).
    pub seq: u64,
    /// Every change this process made so far up to here is durable.
    pub durable_seq: u64,
    /// The document file holds the state after this change.
    pub checkpointed_seq: u64,
    /// Changes made here and not yet durable (queued, being written, or in an
    /// open transaction).
    pub pending: usize,
    pub journal_bytes: u64,
    /// The current write failure, if any (`(code, message)`).
    pub writer_error: Option<(&'static str, String)>,
    pub checkpoints: u64,
    pub last_checkpoint_ms: f64,
    pub history_entries: u64,
    pub read_only: bool,
    /// Damage found while catching up with other processes.
    pub journal_damage: Option<String>,
    /// Why the journal could not be trimmed at the last checkpoint (retried at
    /// the next; the journal grows meanwhile).
    pub journal_trim_error: Option<(&'static str, String)>,
}

struct State {
    doc: Document,
    closed: bool,
    /// Bumped by every rebase: operations queued before it are re-checked
    /// against the schema when written.
    epoch: u64,
    /// Open transactions, in the order they began (their operations are
    /// applied to `doc`, not queued).
    txns: Vec<Txn>,
    /// Operations were applied to `doc` out of the order they will be written
    /// in (another instance's change while a transaction is open): the next
    /// commit or abort of a transaction rebuilds `doc` in the written order.
    interleaved: bool,
}

/// One instance's open transaction (a constructor: defaults, migrations,
/// the check of the loaded data).
struct Txn {
    owner: u64,
    ops: Vec<Op>,
}

/// An operation applied to the live document, waiting for the writer.
struct Pending {
    id: u64,
    ts: f64,
    name: String,
    op: Op,
    epoch: u64,
    /// Re-checked against this schema if the state changed under it.
    schema: Option<Arc<Schema>>,
    /// A caller waits for it (sync durability).
    sync: bool,
    /// The author's environment (see [`Author`]).
    env: u64,
}

#[derive(Default)]
struct Queue {
    records: VecDeque<Pending>,
    /// Operations taken by the writer and not yet resolved.
    inflight: usize,
    next_id: u64,
    /// Every operation up to this id was written (or resolved as failed).
    durable_id: u64,
    /// Operations that could not be written, for their waiting callers.
    failed: HashMap<u64, Error>,
    /// Operations up to this id were being written when the writer panicked:
    /// their outcome is not known, and their callers are told so.
    abandoned_upto: u64,
    /// Write now, even while backing off after a failure (a caller waits).
    kick: bool,
    /// Mirrors of the log (read without its lock).
    head_seq: u64,
    written_seq: u64,
    file_seq: u64,
    needs_checkpoint: bool,
    /// Journal bytes since the last checkpoint, and the document file's
    /// length (the bound for them: `checkpoint::journal_bound`).
    journal_since: u64,
    file_len: usize,
    /// A checkpoint prepared off the writer thread, to be put in place.
    ckpt_ready: Option<Result<checkpoint::Prepared>>,
    flush_wanted: bool,
    /// An atomic section ended while the writer held the log: a round of
    /// the writer settles the pinned lock (`atomic::settle_pin`).
    settle: bool,
    stop: bool,
    writer_done: bool,
    writer_sleeping: bool,
    /// The current write failure.
    error: Option<Error>,
    /// Write attempts that failed (flush waits for a new attempt's outcome).
    failures: u64,
    /// Since when every failure has been another program holding a file
    /// (`Error::is_transient`): waiting callers are not told until it has
    /// lasted `busy_patience`.
    busy_since: Option<Instant>,
    trim_error: Option<(&'static str, String)>,
    journal_bytes: u64,
    history_entries: u64,
    checkpoints: u64,
    last_checkpoint_ms: f64,
    damage: Option<String>,
}

/// A backup asked for: `(id, directory, reason, only if changed, backups kept,
/// the state then and its seq)`.
type QueuedBackup = (u64, PathBuf, String, bool, usize, (Value, u64));

/// What one round of the writer does (`Core::run_writer`).
struct Round {
    /// An atomic section ended: settle the pinned lock (`settle_pin`).
    settle: bool,
    stop: bool,
    /// Write the queued changes.
    write: bool,
    /// Put the prepared checkpoint in place.
    ready: bool,
    /// Start a checkpoint.
    start: bool,
    /// Look at the journal again to clear a standing error.
    retry: bool,
}

/// Backups asked for but not written yet, and what `close()` wrote for them.
#[derive(Default)]
struct QueuedBackups {
    next: u64,
    waiting: Vec<QueuedBackup>,
    done: HashMap<u64, Result<Option<backup::Info>>>,
}

/// Changes queued for the writer beyond which a change waits for it (or fails
/// at once while the writer cannot write): bounds memory.
pub const MAX_QUEUED: usize = 20_000;

/// Longest pause between two attempts after a write failure.
const MAX_BACKOFF: Duration = Duration::from_secs(2);

/// How long a file may stay held by another program (Windows: antivirus,
/// backup or indexing software; see `fs::platform::is_transient`) before
/// `flush()`, `close()` and a sync `set` give up with its error (`E_IO`, cause
/// `EBUSY`/`EPERM`). The writer keeps trying after that; nothing is dropped.
pub const BUSY_PATIENCE: Duration = Duration::from_secs(20);

impl Queue {
    /// Records a write failure; whether it starts a run of failures.
    fn fail(&mut self, e: &Error) -> bool {
        if e.is_transient() {
            self.busy_since.get_or_insert_with(Instant::now);
        } else {
            self.busy_since = None;
        }
        self.error.replace(e.duplicate()).is_none()
    }

    /// Writing works again; whether there was a failure to clear.
    fn recover(&mut self) -> bool {
        self.busy_since = None;
        self.error.take().is_some()
    }

    /// Whether a transient hold is still young enough to wait for.
    fn still_busy(&self, patience: Duration) -> bool {
        self.error.as_ref().is_some_and(Error::is_transient)
            && self.busy_since.is_none_or(|t| t.elapsed() < patience)
    }

    /// The failure waiting callers get now (none while a hold is young).
    fn reportable(&self, patience: Duration) -> Option<&Error> {
        if self.still_busy(patience) {
            return None;
        }
        self.error.as_ref()
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Plans `op` on `doc` and applies it; an operation that does not apply is
/// skipped (it is rejected when written).
fn replay(doc: &mut Document, op: &Op) {
    if let Ok(c) = op.plan(doc) {
        let _ = doc.apply(&c.patch);
    }
}

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
}

#[derive(Default)]
struct WatchSet {
    handles: Vec<(u64, Option<Arc<Schema>>)>,
    watcher: Option<Watcher>,
    /// The last watch error reported (reported once, not on every event).
    last_error: Option<String>,
}

/// What looking at the document file found.
#[derive(Debug)]
pub enum ExternalOutcome {
    /// It holds what the store wrote, checkpointed or already took.
    Unchanged,
    /// Another program's edit, applied: the top-level keys whose values changed
    /// (empty when the edit changed nothing the store holds).
    Applied(Vec<KeyChange>),
    /// Another program's edit, refused (and the file written again from the
    /// store). `kept`: where a copy of it was kept.
    Invalid {
        code: &'static str,
        reason: String,
        kept: Option<PathBuf>,
    },
    /// It does not parse yet: maybe a save in progress; look again later.
    Retry,
    /// The file was deleted (it is written again from the store).
    Deleted,
}

static NEXT_CORE_ID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

impl Core {
    /// Opens the store file: the log (lock, recovery, replay) and the live
    /// document. The writer starts on the first change.
    pub fn open(mut cfg: LogConfig) -> Result<Arc<Core>> {
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

    /// Re-encrypts every file of the store under `key` (`rotateSecretKey`):
    /// see `Log::reseal`. Atomic across a crash: a record holding each key
    /// sealed under the other is written first and removed last, so the
    /// store opens with either key and the next open finishes the rotation
    /// (new key) or undoes it (old key).
    pub fn rotate_key(&self, key: &[u8]) -> Result<Resealed> {
        if self.read_only {
            return Err(Error::ReadOnly(format!(
                "{} is open read-only: its key cannot be rotated",
                self.cfg.doc_path.display()
            )));
        }
        if self.in_txn() {
            return Err(Error::Transaction(
                "rotateSecretKey cannot run inside a transaction".into(),
            ));
        }
        let to = crypto::rekeyed(&*self.cell.get(), key)?;
        self.reseal(to, true)
    }

    /// Encrypts a store open in clear with `codec` (a second instance in this
    /// process gave a key): see `Log::reseal`.
    pub fn encrypt_with(&self, codec: Arc<dyn Codec>) -> Result<Resealed> {
        if self.cell.key_id().is_some() {
            return Err(Error::Internal("the store is encrypted already".into()));
        }
        if self.read_only {
            return Err(Error::ReadOnly(format!(
                "{} is open read-only: it cannot be encrypted",
                self.cfg.doc_path.display()
            )));
        }
        self.reseal(codec, false)
    }

    fn reseal(&self, to: Arc<dyn Codec>, write_record: bool) -> Result<Resealed> {
        let _backups = lock(&self.backup_lock);
        self.flush()?;
        self.catch_up_now(true)?;
        let rekey = crypto::rekey_path(&self.cfg.history_dir, &self.cfg.file_name());
        let fs = self.cfg.fs.clone();
        let mut log = lock(&self.log);
        let r = log.with_lock(|log| {
            let remote = self.catch_up_rebased(log)?;
            if write_record {
                let rec = RekeyRecord::new(&*self.cell.get(), &*to)?;
                crate::fs::atomic_write(&*fs, &rekey, &rec.to_json(), self.cfg.mode)?;
            }
            crate::testing::point("reseal.start");
            let done = log.reseal(&self.cell, to.clone())?;
            crate::testing::point("reseal.end");
            match fs.remove_file(&rekey) {
                Ok(()) => crate::fs::sync_dir(&*fs, &self.cfg.history_dir)?,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(Error::io("remove", &rekey)(e)),
            }
            self.cell.clear_plain_seen();
            Ok((done, remote))
        });
        self.sync_counters(&log);
        drop(log);
        let (done, remote) = r?;
        if !remote.is_empty() {
            self.emit(Event::Changed {
                origin: Origin::Remote,
                changes: remote,
            });
        }
        Ok(done)
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

    fn start_writer(&self) -> Result<()> {
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

    // -- reading -------------------------------------------------------------

    /// Runs `f` on the live document.
    pub fn read<R>(&self, f: impl FnOnce(&Document) -> R) -> Result<R> {
        let st = lock(&self.state);
        if st.closed {
            return Err(Error::Closed);
        }
        Ok(f(&st.doc))
    }

    /// The whole live document (O(1)).
    pub fn snapshot(&self) -> Result<Value> {
        self.read(|d| d.root().clone())
    }

    // -- changing ------------------------------------------------------------

    /// Applies `op` to the live document and queues it for the journal (or adds
    /// it to its author's open transaction; another instance's change made
    /// while a transaction is open is written before it). `schema`: checked on
    /// the result first when given. Returns the changed keys (`None`: nothing
    /// changed); the other environments with the file open are told of them.
    /// With `sync`, returns once the change is durable — or undoes it and
    /// returns the error.
    pub fn commit(
        &self,
        name: &str,
        op: Op,
        schema: Option<&Arc<Schema>>,
        sync: bool,
        with_values: bool,
        by: Author,
    ) -> Result<Option<Vec<KeyChange>>> {
        crate::testing::point("commit");
        self.backpressure()?;
        // top-level keys with values, for the other environments (only when
        // there are some: keeping the old value makes the change copy its path)
        let others = self.others_listen(by.env);
        let mut told = Vec::new();
        let (id, changes, wake) = {
            let mut st = lock(&self.state);
            if st.closed {
                return Err(Error::Closed);
            }
            let mut op = op;
            if let Op::Replace { base, .. } = op.inner_mut() {
                // what the caller replaces (a later re-plan merges against it)
                base.get_or_insert_with(|| st.doc.root().clone());
            }
            let single = matches!(op.inner(), Op::Set { .. } | Op::Delete { .. });
            // (a single key's own change first: its defaults are filled in place below)
            let (change, extra) = if single {
                (op.inner().plan(&st.doc)?, Change::default())
            } else {
                op.plan_parts(&st.doc)?
            };
            // (a single key with schema defaults: a write that changes nothing
            // may still fill some, as conf's validation does — decided below)
            let may_fill = single && op.defaults().is_some();
            if change.is_empty() && extra.is_empty() && !may_fill {
                return Ok(None);
            }
            if self.read_only && !may_fill {
                drop(st);
                return Err(lock(&self.log).read_only_error());
            }
            let changes = if let Op::Set { key, segs, .. } | Op::Delete { key, segs } = op.inner() {
                // one key: applied in place (a copy of the document would make
                // the change copy every container on its path, however wide),
                // undone by its inverse if the schema refuses it
                let old = if with_values {
                    st.doc.get(segs).cloned()
                } else {
                    None
                };
                let holes = match op.defaults() {
                    Some(_) => op.inner().holes(&st.doc),
                    None => Vec::new(),
                };
                let unchanged = match op.defaults() {
                    Some(_) if change.is_empty() => Some(op.inner().unchanged_marks(&st.doc)),
                    _ => None,
                };
                let mut touched = touched_keys(&st.doc, &change);
                let top = |d: &Document| d.map().get(&segs[0]).cloned();
                let old_top = if others { top(&st.doc) } else { None };
                st.doc.apply(&change.patch)?;
                // the schema defaults the change makes apply, in the same change
                let filled = match (op.defaults(), &unchanged) {
                    (Some(d), Some(marks)) => d.fill_marked(
                        &mut st.doc,
                        marks.iter().map(|(p, m)| (p.as_slice(), *m)),
                        holes,
                    ),
                    (Some(d), None) => d.fill_changed(&mut st.doc, &change.patch, holes),
                    (None, _) => Ok(Change::default()),
                };
                let extra = match filled {
                    Ok(extra) => extra,
                    Err(e) => {
                        st.doc.apply(&change.inverse)?;
                        return Err(e);
                    }
                };
                if change.is_empty() && extra.is_empty() {
                    return Ok(None);
                }
                if self.read_only {
                    st.doc.apply(&extra.inverse)?;
                    st.doc.apply(&change.inverse)?;
                    drop(st);
                    return Err(lock(&self.log).read_only_error());
                }
                for k in touched_keys(&st.doc, &extra) {
                    if !touched.contains(&k) {
                        touched.push(k);
                    }
                }
                if let Some(schema) = schema {
                    let whole = change.patch.iter().any(|p| p.path().is_empty());
                    if let Err(e) = schema.check(&st.doc, if whole { None } else { Some(&touched) })
                    {
                        st.doc.apply(&extra.inverse)?;
                        st.doc.apply(&change.inverse)?;
                        return Err(e);
                    }
                }
                let new = if with_values {
                    st.doc.get(segs).cloned()
                } else {
                    None
                };
                if others {
                    told.push(KeyChange {
                        key: segs[0].clone(),
                        old: old_top,
                        new: top(&st.doc),
                    });
                }
                let mut changes = vec![KeyChange {
                    key: key.clone(),
                    old,
                    new,
                }];
                changes.extend(op.container_changes(&change, &st.doc, with_values));
                if !extra.is_empty() {
                    let doc = &st.doc;
                    changes.extend(op.extra_changes(
                        &extra,
                        || {
                            // (only when the defaults changed more than the key)
                            let mut before = doc.clone();
                            before.apply(&extra.inverse).ok()?;
                            before.apply(&change.inverse).ok()?;
                            Some(before)
                        },
                        doc,
                        with_values,
                    ));
                }
                changes
            } else {
                let mut after = st.doc.clone();
                after.apply(&change.patch)?;
                after.apply(&extra.patch)?;
                if let Some(schema) = schema {
                    let whole = op.is_bulk()
                        || change
                            .patch
                            .iter()
                            .chain(&extra.patch)
                            .any(|p| p.path().is_empty());
                    let mut touched = touched_keys(&st.doc, &change);
                    for k in touched_keys(&st.doc, &extra) {
                        if !touched.contains(&k) {
                            touched.push(k);
                        }
                    }
                    schema.check(&after, if whole { None } else { Some(&touched) })?;
                }
                let mut changes = op.key_changes(&st.doc, &after, with_values);
                changes.extend(op.container_changes(&change, &after, with_values));
                let before = &st.doc;
                changes.extend(op.extra_changes(
                    &extra,
                    || Some(before.clone()),
                    &after,
                    with_values,
                ));
                if others {
                    told = top_level_diff(st.doc.root(), after.root(), true);
                }
                st.doc = after;
                changes
            };
            let last = st.txns.len().checked_sub(1);
            if let Some(i) = st
                .txns
                .iter()
                .position(|t| t.owner == by.handle && by.handle != 0)
            {
                st.txns[i].ops.push(op);
                st.interleaved |= Some(i) != last;
                drop(st);
                self.tell_others(by, Origin::Thread, told);
                return Ok(Some(changes));
            }
            // written before the open transactions (if any), though applied
            // after them; re-checked against the schema when written
            let epoch = if last.is_some() {
                st.interleaved = true;
                u64::MAX
            } else {
                st.epoch
            };
            let mut q = lock(&self.queue);
            q.next_id += 1;
            let id = q.next_id;
            q.records.push_back(Pending {
                id,
                ts: now_ms(),
                name: name.to_string(),
                op,
                epoch,
                schema: schema.cloned(),
                sync,
                env: by.env,
            });
            if sync {
                q.kick = true;
            }
            // waking a sleeping thread is a syscall: only when the writer sleeps
            (id, changes, q.writer_sleeping)
        };
        self.tell_others(by, Origin::Thread, told);
        self.start_writer()?;
        if wake {
            self.wake.notify_one();
        }
        if sync {
            self.wait_for(id)?;
        }
        Ok(Some(changes))
    }

    /// Waits while the queue is full; fails at once while the writer cannot
    /// write (the change is refused, nothing is applied).
    fn backpressure(&self) -> Result<()> {
        let mut q = lock(&self.queue);
        if q.records.len() < MAX_QUEUED {
            return Ok(());
        }
        loop {
            if let Some(e) = &q.error {
                return Err(Error::Internal(format!(
                    "{} changes are waiting to be written and writing fails ({}: {e}); this change was refused and nothing was changed",
                    q.records.len(),
                    e.code()
                )));
            }
            if q.records.len() < MAX_QUEUED / 2 || q.writer_done {
                return Ok(());
            }
            self.wake.notify_one();
            q = self
                .done
                .wait_timeout(q, Duration::from_millis(100))
                .map(|r| r.0)
                .unwrap_or_else(|p| p.into_inner().0);
        }
    }

    /// Waits until operation `id` is durable, or returns why it could not be
    /// written (it was undone in memory).
    fn wait_for(&self, id: u64) -> Result<()> {
        let mut q = lock(&self.queue);
        loop {
            if let Some(e) = q.failed.remove(&id) {
                return Err(e);
            }
            if q.durable_id >= id {
                return Ok(());
            }
            if q.abandoned_upto >= id {
                return Err(Error::Internal(format!(
                    "the background writer failed while writing this change ({}); it may or may not be durable",
                    q.error.as_ref().map(|e| e.to_string()).unwrap_or_default()
                )));
            }
            if q.writer_done {
                return Err(Error::Closed);
            }
            q = self
                .done
                .wait_timeout(q, Duration::from_millis(200))
                .map(|r| r.0)
                .unwrap_or_else(|p| p.into_inner().0);
        }
    }

    /// Opens instance `owner`'s transaction: its later operations change the
    /// live document but are written only by `commit_txn`, as one journal
    /// entry (`abort_txn` undoes them). Other instances' changes meanwhile are
    /// written before it, as another process's would be.
    pub fn begin_txn(&self, owner: u64) -> Result<()> {
        if self.read_only {
            return Err(lock(&self.log).read_only_error());
        }
        let mut st = lock(&self.state);
        if st.closed {
            return Err(Error::Closed);
        }
        if st.txns.iter().any(|t| t.owner == owner) {
            return Err(Error::Transaction(
                "A transaction is already open for this Store instance".into(),
            ));
        }
        st.txns.push(Txn {
            owner,
            ops: Vec::new(),
        });
        Ok(())
    }

    /// Writes `by`'s open transaction as one entry named `name`.
    pub fn commit_txn(&self, by: Author, name: &str, sync: bool) -> Result<()> {
        // when other changes were applied among the transaction's, the live
        // document is rebuilt in the order they are written (log lock first)
        let mut log = None;
        let (id, wake, reordered) = loop {
            let mut st = lock(&self.state);
            if st.interleaved && log.is_none() {
                drop(st);
                log = Some(lock(&self.log));
                continue;
            }
            let Some(i) = st.txns.iter().position(|t| t.owner == by.handle) else {
                return Err(Error::Transaction("No transaction is open".into()));
            };
            let txn = st.txns.remove(i);
            let mut q = lock(&self.queue);
            let id = (!txn.ops.is_empty()).then(|| {
                q.next_id += 1;
                let id = q.next_id;
                q.records.push_back(Pending {
                    id,
                    ts: now_ms(),
                    name: name.to_string(),
                    op: Op::Txn(txn.ops),
                    epoch: st.epoch,
                    schema: None,
                    sync,
                    env: by.env,
                });
                if sync {
                    q.kick = true;
                }
                id
            });
            let reordered = match &log {
                Some(log) if st.interleaved => {
                    st.interleaved = false;
                    self.rebuild_live(log, &mut st, &q, &[])
                }
                _ => Vec::new(),
            };
            break (id, q.writer_sleeping, reordered);
        };
        drop(log);
        if !reordered.is_empty() {
            self.emit(Event::Changed {
                origin: Origin::Thread,
                changes: reordered,
            });
        }
        let Some(id) = id else {
            return Ok(());
        };
        self.start_writer()?;
        if wake {
            self.wake.notify_one();
        }
        if sync {
            self.wait_for(id)?;
        }
        Ok(())
    }

    /// Drops `by`'s open transaction: the live document goes back to what it
    /// would be without it. Returns the keys that changed back (the other
    /// environments are told).
    pub fn abort_txn(&self, by: Author) -> Result<Vec<KeyChange>> {
        let changes = {
            let log = lock(&self.log);
            let mut st = lock(&self.state);
            let Some(i) = st.txns.iter().position(|t| t.owner == by.handle) else {
                return Ok(Vec::new());
            };
            st.txns.remove(i);
            st.interleaved = false;
            let q = lock(&self.queue);
            self.rebuild_live(&log, &mut st, &q, &[])
        };
        self.tell_others(by, Origin::Thread, changes.clone());
        Ok(changes)
    }

    /// Whether a transaction is open (any instance's).
    pub fn in_txn(&self) -> bool {
        !lock(&self.state).txns.is_empty()
    }

    /// Whether instance `owner` has a transaction open.
    pub fn has_txn(&self, owner: u64) -> bool {
        lock(&self.state).txns.iter().any(|t| t.owner == owner)
    }

    /// Makes the live document the replica plus `inflight` plus the queue plus
    /// the open transactions; returns the top-level keys whose values changed.
    fn rebuild_live(
        &self,
        log: &Log,
        st: &mut State,
        q: &Queue,
        inflight: &[Pending],
    ) -> Vec<KeyChange> {
        let mut d = log.replica.clone();
        for p in inflight.iter().chain(q.records.iter()) {
            replay(&mut d, &p.op);
        }
        for op in st.txns.iter().flat_map(|t| &t.ops) {
            replay(&mut d, op);
        }
        let old = std::mem::replace(&mut st.doc, d);
        st.epoch += 1;
        top_level_diff(old.root(), st.doc.root(), true)
    }

    /// A rebase after the log changed under us (lock order: log held).
    fn rebase(&self, log: &Log, inflight: &[Pending]) -> Vec<KeyChange> {
        let mut st = lock(&self.state);
        let q = lock(&self.queue);
        self.rebuild_live(log, &mut st, &q, inflight)
    }

    // -- the writer ----------------------------------------------------------

    /// The writer thread. Each round, in this order: writes what is queued
    /// (one append, one fsync) and wakes its waiters at once; puts a
    /// checkpoint prepared off this thread in place; starts a checkpoint when
    /// one is due (`checkpoint::Schedule`: wanted now, the journal past its
    /// bound, or the writer idle). A checkpoint is serialized and written to
    /// a temp file by a helper thread while this one goes on appending, so a
    /// change never waits for a document rewrite.
    fn run_writer(self: Arc<Self>) {
        // the writer waits out another program's brief hold on a file (the
        // thread that queued the change never does)
        let _patient = crate::fs::platform::patient();
        let mut took = Duration::from_millis(1);
        let mut last_write = Instant::now();
        let mut backoff = Duration::ZERO;
        let mut failed_at = Instant::now();
        let mut helper: Option<(JoinHandle<()>, Instant, bool)> = None;
        loop {
            let round = {
                let mut q = lock(&self.queue);
                loop {
                    let dirty = q.needs_checkpoint
                        || q.file_seq < q.written_seq
                        || (q.flush_wanted && q.file_seq < q.head_seq);
                    let waiting_out = q.error.is_some() && failed_at.elapsed() < backoff;
                    let urgent = q.flush_wanted || q.stop;
                    let kicked = q.kick && !q.records.is_empty();
                    let write = !q.records.is_empty() && (urgent || kicked || !waiting_out);
                    let ready = q.ckpt_ready.is_some();
                    let sched = checkpoint::Schedule {
                        dirty,
                        urgent,
                        queued: !q.records.is_empty(),
                        idle_for: last_write.elapsed(),
                        took,
                        journal_since: q.journal_since,
                        bound: checkpoint::journal_bound(q.file_len),
                    };
                    let start = helper.is_none() && (urgent || !waiting_out) && sched.due();
                    let stale_error = q.error.is_some() && !waiting_out && !dirty;
                    let done_stopping =
                        q.stop && helper.is_none() && q.records.is_empty() && !dirty;
                    if write || ready || start || stale_error || done_stopping || q.settle {
                        if start || !dirty {
                            // requests arriving from here on get another round
                            q.flush_wanted = false;
                        }
                        q.kick = false;
                        let settle = std::mem::take(&mut q.settle);
                        break Round {
                            settle,
                            stop: q.stop,
                            write,
                            ready,
                            start,
                            retry: stale_error && !write,
                        };
                    }
                    let timeout = if waiting_out {
                        backoff.saturating_sub(failed_at.elapsed())
                    } else {
                        match (helper.is_none()).then(|| sched.wait()).flatten() {
                            Some(w) => w,
                            None => Duration::from_secs(3600),
                        }
                    }
                    .max(Duration::from_millis(1));
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
                    last_write = Instant::now();
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
                        Ok(Some(t)) => took = t,
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
            if ok {
                backoff = Duration::ZERO;
            } else {
                failed_at = Instant::now();
                backoff = (backoff * 2).clamp(Duration::from_millis(50), MAX_BACKOFF);
            }
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
    fn fail_inflight(&self, e: Error) {
        let mut q = lock(&self.queue);
        q.inflight = 0;
        q.failures += 1;
        q.abandoned_upto = q.next_id;
        q.fail(&e);
        drop(q);
        self.done.notify_all();
    }

    /// Runs `f` with the log, then (log released) tells the watcher about a
    /// stashed external edit, sends the events, and wakes every waiter: a
    /// caller that sees the outcome has had its events.
    fn with_log_then_wake<R>(&self, f: impl FnOnce(&mut Log, &mut Vec<Event>) -> R) -> R {
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
                    q.fail(&e);
                    Err(())
                }
            }
        })
    }

    /// Starts a checkpoint: a snapshot of the replica handed to a helper
    /// thread that writes it to a durable temp file (`checkpoint::prepare`).
    /// When the file already holds the state, only the checkpoint line is
    /// written, here. Returns the helper, when one was started.
    #[allow(clippy::type_complexity)]
    fn start_checkpoint(&self) -> Result<Option<(JoinHandle<()>, Instant, bool)>, ()> {
        let started = Instant::now();
        // a rewrite asked for (file deleted, refused edit) is satisfied by a
        // file written from a snapshot taken from now on
        let needed = std::mem::take(&mut lock(&self.queue).needs_checkpoint);
        let plan = lock(&self.log).checkpoint_plan();
        let snap = match plan {
            CheckpointPlan::Current => {
                // the mirrors were behind: nothing to write
                self.with_log_then_wake(|_, _| ());
                return Ok(None);
            }
            CheckpointPlan::RecordOnly => {
                return self
                    .with_log_then_wake(|log, events| {
                        let r = log.with_lock(|log| {
                            let remote = self.catch_up_rebased(log)?;
                            if !log.document_current() {
                                log.write_document()?;
                            }
                            Ok(remote)
                        });
                        self.checkpoint_outcome(log, r, needed, events)
                    })
                    .map(|_| None);
            }
            CheckpointPlan::Write(snap) => snap,
        };
        let cfg = self.cfg.clone();
        let Some(me) = self.me.upgrade() else {
            return Err(());
        };
        let job = move || {
            let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                checkpoint::prepare(&cfg, snap)
            }))
            .unwrap_or_else(|p| Err(Error::from_panic(&*p, "a checkpoint")));
            lock(&me.queue).ckpt_ready = Some(r);
            me.wake.notify_one();
        };
        match std::thread::Builder::new()
            .name("tad-store-checkpoint".into())
            .stack_size(32 << 20)
            .spawn(job)
        {
            Ok(h) => Ok(Some((h, started, needed))),
            Err(e) => {
                let e = Error::io("spawn checkpoint thread", ".")(e);
                self.with_log_then_wake(|log, events| {
                    self.checkpoint_outcome(log, Err(e), needed, events)
                })
                .map(|_| None)
            }
        }
    }

    /// Puts the checkpoint the helper prepared in place (with the OS lock,
    /// caught up), unless something newer was checkpointed since its
    /// snapshot. Returns how long the whole checkpoint took when it was.
    fn install_round(&self, started: Instant, needed: bool) -> Result<Option<Duration>, ()> {
        let prepared = lock(&self.queue).ckpt_ready.take();
        self.with_log_then_wake(|log, events| {
            let r = match prepared {
                Some(Ok(p)) => {
                    let tmp = p.tmp.clone();
                    let r = log.with_lock(|log| {
                        let remote = self.catch_up_rebased(log)?;
                        let installed = log.install_prepared(p, started)?;
                        Ok((remote, installed))
                    });
                    if r.is_err() {
                        let _ = self.cfg.fs.remove_file(&tmp);
                    }
                    r
                }
                Some(Err(e)) => Err(e),
                None => Ok((Vec::new(), false)),
            };
            let installed = matches!(r, Ok((_, true)));
            let r = r.map(|(remote, _)| remote);
            self.checkpoint_outcome(log, r, needed && !installed, events)?;
            Ok(installed.then_some(log.last_checkpoint_took))
        })
    }

    /// Records a checkpoint's outcome in the queue (`still_needed`: a rewrite
    /// asked for is still owed).
    fn checkpoint_outcome(
        &self,
        log: &Log,
        r: Result<Vec<KeyChange>>,
        still_needed: bool,
        events: &mut Vec<Event>,
    ) -> Result<(), ()> {
        match r {
            Ok(remote) => {
                push_remote(events, remote);
                self.sync_counters(log);
                let mut q = lock(&self.queue);
                q.needs_checkpoint |= still_needed;
                if q.recover() {
                    events.push(Event::WriteRecovered);
                }
                Ok(())
            }
            Err(e) => {
                let first = {
                    let mut q = lock(&self.queue);
                    q.failures += 1;
                    // retried: the file (or the line naming it) is still due
                    q.needs_checkpoint = true;
                    q.fail(&e)
                };
                if first {
                    events.push(self.failure_event(&e));
                }
                Err(())
            }
        }
    }

    fn failure_event(&self, e: &Error) -> Event {
        let q = lock(&self.queue);
        Event::WriteFailed {
            error: Arc::new(e.duplicate()),
            pending: q.records.len() + q.inflight,
        }
    }

    /// Copies the log's counters to the queue (readable without the log lock).
    fn sync_counters(&self, log: &Log) {
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
    fn write_batch(&self, log: &mut Log, batch: &[Pending]) -> Result<Vec<(u64, Error)>> {
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
    fn resolve_batch(
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
    fn requeue_failed(&self, log: &Log, batch: Vec<Pending>, e: Error, events: &mut Vec<Event>) {
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
                && q.busy_since
                    .is_none_or(|t| t.elapsed() < self.cfg.busy_patience);
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
            first = q.fail(&e);
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

    // -- flush, close, status --------------------------------------------------

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

    fn wait(&self, file_too: bool, kick: bool) -> Result<()> {
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
            let current = !q.needs_checkpoint && upto.is_some_and(|s| q.file_seq >= s);
            if durable && (!file_too || current) && q.error.is_none() {
                return Ok(());
            }
            if q.failures > failures {
                if let Some(e) = q.reportable(self.cfg.busy_patience) {
                    return Err(e.duplicate());
                }
            }
            if q.writer_done {
                return match &q.error {
                    Some(e) => Err(e.duplicate()),
                    None => Err(Error::Closed),
                };
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
    fn abort_all_txns(&self) {
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
            writer_error: q.error.as_ref().map(|e| (e.code(), e.to_string())),
            checkpoints: q.checkpoints,
            last_checkpoint_ms: q.last_checkpoint_ms,
            history_entries: q.history_entries,
            read_only: self.read_only,
            journal_damage: q.damage.clone(),
            journal_trim_error: q.trim_error.clone(),
        }
    }

    // -- other processes, external edits, history -----------------------------

    /// Catches up with other processes now (with the lock). Returns the keys
    /// that changed. `emit`: report them to the sink too.
    fn catch_up_now(&self, emit: bool) -> Result<Vec<KeyChange>> {
        if self.read_only {
            return Ok(Vec::new());
        }
        let mut log = lock(&self.log);
        let changes = log.with_lock(|log| self.catch_up_rebased(log))?;
        self.sync_counters(&log);
        drop(log);
        if emit && !changes.is_empty() {
            self.emit(Event::Changed {
                origin: Origin::Remote,
                changes: changes.clone(),
            });
        }
        Ok(changes)
    }

    /// Re-reads the shared log and the document file now: other processes'
    /// changes are applied, and an edit another program made to the file is
    /// taken the way the watcher takes it (diffed against what the file held,
    /// applied on top of the current state as one `external-change`). An edit
    /// that does not parse, is not an object or fails `schema` is refused with
    /// an error (a copy is kept; the file is written again from the store).
    /// Returns the top-level keys whose values changed.
    pub fn reload(
        &self,
        schema: Option<&Arc<Schema>>,
        sync: bool,
        by: Author,
    ) -> Result<Vec<KeyChange>> {
        let before = self.snapshot()?;
        self.flush()?;
        let remote = self.catch_up_now(false)?;
        self.tell_others(by, Origin::Remote, remote);
        let schemas: Vec<Arc<Schema>> = schema.into_iter().cloned().collect();
        if let ExternalOutcome::Invalid { code, reason, kept } =
            self.check_external_by(&schemas, false, sync, by)?
        {
            {
                let kept = match kept {
                    Some(p) => format!("a copy of it is kept as {}", p.display()),
                    None => "no copy could be kept".into(),
                };
                return Err(if code == "E_SCHEMA" {
                    // conf's message as it is; the kept copy is named by the
                    // watcher's event (and in the E_CORRUPT case below)
                    let _ = kept;
                    Error::Schema(reason)
                } else if code == "E_TOO_DEEP" {
                    Error::TooDeep(format!(
                        "The edit of {} was not applied: {reason}; {kept}",
                        self.cfg.doc_path.display()
                    ))
                } else {
                    Error::Corrupt {
                        path: self.cfg.doc_path.clone(),
                        detail: reason,
                        quarantine: format!("(not applied; {kept})"),
                    }
                });
            }
        }
        if sync {
            self.flush()?;
        }
        let after = self.snapshot()?;
        Ok(top_level_diff(&before, &after, true))
    }

    /// Looks at the document file: when another program edited it, the edit
    /// is diffed against the state the file held before and applied on top of
    /// the current one (a local change made since is kept) as one
    /// `external-change` history entry. A file that does not parse, is not an
    /// object, or fails one of `schemas` is refused: kept aside, reported, and
    /// the file written again from the store. `retry`: a file that does not
    /// parse may be a save in progress — say so instead of refusing it. As
    /// the watcher looks: the caller reports what was applied.
    pub fn check_external(
        &self,
        schemas: &[Arc<Schema>],
        retry: bool,
        sync: bool,
    ) -> Result<ExternalOutcome> {
        self.check_external_by(schemas, retry, sync, Author::CORE)
    }

    /// `check_external` for `by` (an edit it applies is told to the other
    /// environments).
    fn check_external_by(
        &self,
        schemas: &[Arc<Schema>],
        retry: bool,
        sync: bool,
        by: Author,
    ) -> Result<ExternalOutcome> {
        if self.read_only || self.is_closed() {
            return Ok(ExternalOutcome::Unchanged);
        }
        enum Found {
            Edit(Value, Option<Value>),
            Bad(&'static str, String, Option<PathBuf>),
        }
        let (remote, found) = {
            let mut log = lock(&self.log);
            let r = log.with_lock(|log| {
                let remote = self.catch_up_rebased(log)?;
                let found = match log.take_external() {
                    None => None,
                    Some(crate::log::ExternalFile::Deleted) => {
                        log.forget_file();
                        Some(None)
                    }
                    Some(crate::log::ExternalFile::Edited(bytes, base, stamp)) => {
                        let mut too_deep = false;
                        let parsed = self
                            .cfg
                            .codec
                            .decode(Kind::Document, &bytes)
                            .map_err(|e| e.to_string())
                            .and_then(|plain| {
                                // invalid UTF-8 reads as U+FFFD, as electron-store reads it
                                crate::value::parse_document(&plain)
                                    .map(|(v, _)| v)
                                    .map_err(|e| {
                                        too_deep = e.too_deep;
                                        e.to_string()
                                    })
                            })
                            .and_then(|v| {
                                if v.as_object().is_some() {
                                    Ok(v)
                                } else {
                                    Err("the top level is not an object".to_string())
                                }
                            });
                        match parsed {
                            Err(_) if retry && !too_deep => {
                                // maybe half-written: looked at again later
                                return Ok((remote, Some(Some(Err(())))));
                            }
                            Err(why) => {
                                let kept = self.keep_external(&bytes);
                                log.mark_taken(&bytes, None, stamp);
                                log.forget_file();
                                Some(Some(Ok(Found::Bad(
                                    if too_deep { "E_TOO_DEEP" } else { "E_CORRUPT" },
                                    if too_deep {
                                        format!("the file is {why}")
                                    } else {
                                        format!("the file is not a JSON object: {why}")
                                    },
                                    kept,
                                ))))
                            }
                            Ok(v) => {
                                let doc = Document::new(v.clone())?;
                                let errors: Vec<String> =
                                    schemas.iter().flat_map(|s| s.errors(&doc, None)).collect();
                                if errors.is_empty() {
                                    let base = base.map(|d| d.root().clone());
                                    log.mark_taken(&bytes, Some(doc), stamp);
                                    Some(Some(Ok(Found::Edit(v, base))))
                                } else {
                                    let kept = self.keep_external(&bytes);
                                    log.mark_taken(&bytes, None, stamp);
                                    log.forget_file();
                                    Some(Some(Ok(Found::Bad(
                                        "E_SCHEMA",
                                        format!("Config schema violation: {}", errors.join("; ")),
                                        kept,
                                    ))))
                                }
                            }
                        }
                    }
                };
                Ok((remote, found))
            });
            self.sync_counters(&log);
            r?
        };
        if !remote.is_empty() {
            self.emit(Event::Changed {
                origin: Origin::Remote,
                changes: remote,
            });
        }
        let outcome = match found {
            None => ExternalOutcome::Unchanged,
            Some(None) => {
                self.request_rewrite()?;
                ExternalOutcome::Deleted
            }
            Some(Some(Err(()))) => ExternalOutcome::Retry,
            Some(Some(Ok(Found::Bad(code, reason, kept)))) => {
                self.request_rewrite()?;
                ExternalOutcome::Invalid { code, reason, kept }
            }
            Some(Some(Ok(Found::Edit(value, base)))) => {
                let changes = self
                    .commit(
                        "external-change",
                        Op::Replace {
                            value,
                            keep_internal: true,
                            base,
                        },
                        None,
                        sync,
                        true,
                        by,
                    )?
                    .unwrap_or_default();
                ExternalOutcome::Applied(changes)
            }
        };
        Ok(outcome)
    }

    /// Keeps a copy of a refused external edit beside the journal.
    fn keep_external(&self, bytes: &[u8]) -> Option<PathBuf> {
        let dir = self.cfg.journal_path().parent()?.to_path_buf();
        let path = dir.join(format!(
            "{}.invalid-{}",
            self.cfg.file_name(),
            now_ms() as u64
        ));
        let sealed = self
            .cfg
            .codec
            .encode(Kind::Quarantine, std::borrow::Cow::Borrowed(bytes))
            .ok()?;
        crate::fs::write_new(&*self.cfg.fs, &path, &sealed, self.cfg.mode)
            .ok()
            .map(|_| path)
    }

    /// The document file must be written again (deleted, or holding a refused
    /// edit).
    fn request_rewrite(&self) -> Result<()> {
        lock(&self.queue).needs_checkpoint = true;
        self.start_writer()?;
        self.wake.notify_one();
        Ok(())
    }

    // -- watching --------------------------------------------------------------

    /// Whether `lock` (a store's `<history>/<file>.lock`) is this store's lock
    /// file, whatever its spelling.
    pub fn locks_at(&self, lock_file: &Path) -> bool {
        lock(&self.log).locks_at(lock_file)
    }

    /// Starts watching for instance `handle` (its `schema` checks external
    /// edits). The watcher is shared by every watching instance of the file.
    pub fn watch(&self, handle: u64, schema: Option<Arc<Schema>>) -> Result<()> {
        self.watch_with(handle, schema, WatchSetup::default())
    }

    /// `watch` with explicit debounce timing, clock and backend (tests).
    pub fn watch_with(
        &self,
        handle: u64,
        schema: Option<Arc<Schema>>,
        setup: WatchSetup,
    ) -> Result<()> {
        if self.is_closed() {
            return Err(Error::Closed);
        }
        let mut w = lock(&self.watching);
        w.handles.retain(|(h, _)| *h != handle);
        w.handles.push((handle, schema));
        // a watcher whose thread ended (a bug, reported) is replaced
        let ended = w.watcher.as_ref().is_some_and(|x| !x.is_running());
        if w.watcher.is_none() || ended {
            let started = Watcher::start(
                self.me.clone(),
                self.cfg.fs.clone(),
                self.cfg.doc_path.clone(),
                self.cfg.journal_path(),
                setup,
            );
            let started = match started {
                Ok(x) => x,
                Err(e) => {
                    w.handles.retain(|(h, _)| *h != handle);
                    return Err(e);
                }
            };
            if let Some(old) = w.watcher.replace(started) {
                old.stop();
            }
        }
        Ok(())
    }

    /// Instance `handle` stops watching; the watcher stops with the last one.
    pub fn unwatch(&self, handle: u64) {
        let stopped = {
            let mut w = lock(&self.watching);
            w.handles.retain(|(h, _)| *h != handle);
            if w.handles.is_empty() {
                w.watcher.take()
            } else {
                None
            }
        };
        if let Some(w) = stopped {
            w.stop();
        }
    }

    /// Whether the file is being watched: a watcher runs and its OS watch
    /// works (`false` while a failed one waits to restart).
    pub fn is_watching(&self) -> bool {
        lock(&self.watching)
            .watcher
            .as_ref()
            .is_some_and(|w| w.is_alive())
    }

    fn stop_watcher(&self) {
        let w = {
            let mut w = lock(&self.watching);
            w.handles.clear();
            w.watcher.take()
        };
        if let Some(w) = w {
            w.stop();
        }
    }

    /// The watcher saw `s` change (on its thread).
    pub(crate) fn on_watch(&self, s: Source, retry: bool) -> Option<ExternalOutcome> {
        let r = match s {
            Source::Journal => {
                // our own appends are the common case: a stat, no lock (the
                // writer holds the log's mutex through its fsync)
                let known = self.journal_len.load(Ordering::Acquire);
                let on_disk = self
                    .cfg
                    .fs
                    .stat(&self.cfg.journal_path(), true)
                    .ok()
                    .map(|s| s.len);
                if on_disk == Some(known) && known > 0 {
                    return None;
                }
                if lock(&self.log).journal_unchanged() {
                    return None;
                }
                self.catch_up_now(true).map(|_| None)
            }
            Source::Document => {
                let schemas: Vec<Arc<Schema>> = lock(&self.watching)
                    .handles
                    .iter()
                    .filter_map(|(_, s)| s.clone())
                    .collect();
                self.check_external(&schemas, retry, false).map(Some)
            }
        };
        match r {
            Ok(Some(ExternalOutcome::Applied(changes))) => {
                if !changes.is_empty() {
                    self.emit(Event::Changed {
                        origin: Origin::External,
                        changes,
                    });
                }
                lock(&self.watching).last_error = None;
                None
            }
            Ok(Some(ExternalOutcome::Invalid { code, reason, kept })) => {
                self.emit(Event::InvalidExternalChange {
                    code,
                    reason,
                    kept: kept.map(|p| p.display().to_string()),
                });
                None
            }
            Ok(Some(ExternalOutcome::Retry)) => Some(ExternalOutcome::Retry),
            Ok(_) => {
                lock(&self.watching).last_error = None;
                None
            }
            Err(Error::Closed) => None,
            Err(e) => {
                self.report_watch_error(e);
                None
            }
        }
    }

    /// The watcher stopped working (its backend failed or its thread ended):
    /// reported every time it happens (the watcher reports each stop once).
    pub(crate) fn report_watch_stopped(&self, e: Error) {
        self.emit(Event::WatchError { error: Arc::new(e) });
    }

    /// A failure while handling a watch event: reported once per distinct
    /// error (the next event tries again).
    pub(crate) fn report_watch_error(&self, e: Error) {
        let msg = e.to_string();
        {
            let mut w = lock(&self.watching);
            if w.last_error.as_deref() == Some(msg.as_str()) {
                return;
            }
            w.last_error = Some(msg.clone());
        }
        self.emit(Event::WatchError { error: Arc::new(e) });
    }

    /// Every change entry the journal keeps, oldest first, once every change
    /// made here so far is durable in it.
    pub fn history(&self) -> Result<Vec<ChangeRecord>> {
        self.wait_durable()?;
        lock(&self.log).read_history()
    }

    /// Makes the store exactly what it was at `target`: the state is computed
    /// by undoing every later change, newest first, and checked against the
    /// recorded hash before anything changes; the rollback is itself one change
    /// (so it can be undone). `entries` may be a history read earlier.
    pub fn rollback(
        &self,
        target: Target,
        entries: Option<Arc<Vec<ChangeRecord>>>,
        sync: bool,
        with_values: bool,
        by: Author,
    ) -> Result<(history::Plan, Option<Vec<KeyChange>>)> {
        if self.in_txn() {
            return Err(Error::Transaction(
                "A rollback cannot run while a transaction is open (during migrations: a Store on this file is being constructed)".into(),
            ));
        }
        self.wait_durable()?;
        self.catch_up_now(true)?;
        let plan = {
            let log = lock(&self.log);
            let entries = match entries {
                Some(e) if e.last().map(|x| x.seq) == Some(log.seq) => e,
                _ => Arc::new(log.read_history()?),
            };
            // the journal read may already hold another process's later
            // entries: plan against those up to the state caught up to
            let upto = entries.partition_point(|e| e.seq <= log.seq);
            history::plan(&log.replica, log.seq, &entries[..upto], target)?
        };
        let changes = self.commit(
            "rollback",
            Op::Replace {
                value: plan.state.clone(),
                keep_internal: false,
                base: None,
            },
            None,
            sync,
            with_values,
            by,
        )?;
        Ok((plan, changes))
    }

    // -- backups ---------------------------------------------------------------

    /// The state now (O(1)) and the latest change it includes.
    fn snapshot_with_seq(&self) -> Result<(Value, u64)> {
        let st = lock(&self.state);
        if st.closed {
            return Err(Error::Closed);
        }
        Ok((st.doc.root().clone(), lock(&self.queue).head_seq))
    }

    /// Takes a verified backup of the current state into `dir`, keeping `keep`.
    /// With `only_if_changed`, nothing is written when the newest backup already
    /// holds this state. Safe to call off the JS thread.
    pub fn create_backup_in(
        &self,
        dir: &Path,
        reason: &str,
        only_if_changed: bool,
        keep: usize,
    ) -> Result<Option<backup::Info>> {
        let _busy = self.busy.read().unwrap_or_else(|p| p.into_inner());
        if self.is_closed() {
            return Err(Error::Closed);
        }
        self.write_backup(dir, reason, only_if_changed, keep, None)
    }

    /// Takes the state now and registers a backup of it, to be written by
    /// `run_queued_backup` (off the JS thread) — or by `close()`, if that comes
    /// first, so a backup asked for is never lost.
    pub fn queue_backup(
        &self,
        dir: PathBuf,
        reason: &str,
        only_if_changed: bool,
        keep: usize,
    ) -> Result<u64> {
        let snapshot = self.snapshot_with_seq()?;
        let mut q = lock(&self.queued_backups);
        q.next += 1;
        let id = q.next;
        q.waiting
            .push((id, dir, reason.to_string(), only_if_changed, keep, snapshot));
        Ok(id)
    }

    /// Writes a backup registered by `queue_backup` (or returns what `close()`
    /// wrote for it).
    pub fn run_queued_backup(&self, id: u64) -> Result<Option<backup::Info>> {
        // off the JS thread: a brief hold on a file is waited out
        let _patient = crate::fs::platform::patient();
        // hold `busy` before taking the job, so `close()` either waits for this
        // backup or has already written it
        let _busy = self.busy.read().unwrap_or_else(|p| p.into_inner());
        let job = {
            let mut q = lock(&self.queued_backups);
            if let Some(r) = q.done.remove(&id) {
                return r;
            }
            let i = q.waiting.iter().position(|j| j.0 == id);
            i.map(|i| q.waiting.remove(i))
        };
        match job {
            Some((_, dir, reason, only, keep, snap)) if !self.is_closed() => {
                self.write_backup(&dir, &reason, only, keep, Some(snap))
            }
            _ => Err(Error::Closed),
        }
    }

    fn write_backup(
        &self,
        dir: &Path,
        reason: &str,
        only_if_changed: bool,
        keep: usize,
        snapshot: Option<(Value, u64)>,
    ) -> Result<Option<backup::Info>> {
        if self.read_only {
            return Err(lock(&self.log).read_only_error());
        }
        crate::testing::point("backup");
        // one backup at a time, so pruning never sees a half-written one
        let _one = lock(&self.backup_lock);
        let (snap, want_seq) = match snapshot {
            Some(s) => s,
            None => self.snapshot_with_seq()?,
        };
        let doc_hash = hex(&merkle(&snap));
        let fs = &*self.cfg.fs;
        let codec = &*self.cfg.codec;
        let original = self.cfg.file_name();
        if only_if_changed {
            if let Some(newest) = backup::list_of(fs, codec, dir, &original)?
                .into_iter()
                .next()
            {
                if newest.meta.as_ref().map(|m| m.document_hash.as_str()) == Some(doc_hash.as_str())
                {
                    return Ok(None);
                }
            }
        }
        // When the store file holds exactly that state, its bytes are the backup.
        self.flush()?;
        let known = lock(&self.log).file.clone();
        let from_file = (|| {
            if known.merkle.as_deref() != Some(doc_hash.as_str()) {
                return None;
            }
            let bytes = read_if_exists(fs, &self.cfg.doc_path).ok()??;
            if known.sha.as_deref() != Some(sha256_hex(&bytes).as_str()) {
                return None;
            }
            codec
                .decode(Kind::Document, &bytes)
                .ok()
                .map(|p| p.into_owned())
                // a backup is read strictly: a file with invalid UTF-8 (read as
                // U+FFFD) is backed up as the state it was read as
                .filter(|p| std::str::from_utf8(p).is_ok())
        })();
        let plain = match from_file {
            Some(p) => p,
            None => crate::value::to_json(&snap, true),
        };
        // the change that produced this state (the snapshot may predate changes
        // that were still being written when it was taken)
        let seq = match known
            .seq
            .filter(|_| known.merkle.as_deref() == Some(doc_hash.as_str()))
        {
            Some(s) => s,
            None => lock(&self.log)
                .read_history()?
                .iter()
                .rev()
                .find(|e| e.hash_after.as_deref() == Some(doc_hash.as_str()))
                .map(|e| e.seq)
                .unwrap_or(want_seq),
        };
        let info = backup::create(
            fs,
            codec,
            dir,
            &backup::Source {
                bytes: &plain,
                original_file: &original,
                reason,
                seq,
                document_hash: &doc_hash,
            },
            self.cfg.mode,
            keep,
        )?;
        Ok(Some(info))
    }

    /// The backups in `dir`, newest first.
    pub fn list_backups_in(&self, dir: &Path) -> Result<Vec<backup::Info>> {
        // not while a backup is half-written
        let _one = lock(&self.backup_lock);
        backup::list_of(&*self.cfg.fs, &*self.cfg.codec, dir, &self.cfg.file_name())
    }

    /// Finds and verifies a backup in `dir` (its name, or the path it was listed
    /// with) and reads it.
    pub fn read_backup_in(&self, dir: &Path, name_or_path: &str) -> Result<(Value, backup::Meta)> {
        let path = backup::resolve_of(
            &*self.cfg.fs,
            &*self.cfg.codec,
            dir,
            name_or_path,
            &self.cfg.file_name(),
        )?;
        backup::read_verified(&*self.cfg.fs, &*self.cfg.codec, &path)
    }
}

impl Drop for Core {
    fn drop(&mut self) {
        let _ = self.close(true);
    }
}
