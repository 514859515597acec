//! The store core: owns the document, opens and recovers it, commits changes to
//! the journal, and runs the background writer that makes them durable and
//! checkpoints the document file.
//!
//! Threads: the caller (the JS thread) mutates the document under `state` and
//! queues the change's journal line; the writer thread appends queued lines
//! (group commit: everything queued while an fsync runs goes in the next one),
//! then, when idle, writes the whole document from an O(1) snapshot. Lock order
//! is always `state` then `queue`; the writer never holds both.

use std::collections::VecDeque;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::backup;
use crate::doc::{Change, Document};
use crate::error::{Error, Result};
use crate::fsutil::{
    atomic_write, ensure_dir, read_if_exists, remove_stale_temps, sync_dir, tighten_mode,
};
use crate::history::{self, Target};
use crate::journal::{
    encode_change, encode_checkpoint, line_hash, now_ms, ChangeRecord, Encoded, Entry, Journal,
};
#[cfg(test)]
use crate::value::to_json;
use crate::value::{hex, merkle, parse, sha256_hex, to_json_sized, Value};

/// When `set` returns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Durability {
    /// `set` returns at once; the background writer makes it durable right away.
    Deferred,
    /// `set` returns once the change is durable (fsync'd in the journal).
    Sync,
}

/// How to open a store.
#[derive(Clone)]
pub struct Options {
    /// The document file (`<cwd>/<name>.<ext>`).
    pub path: PathBuf,
    /// Directory for the journal (`<cwd>/storeHistory`).
    pub history_dir: PathBuf,
    /// Mode for every file the store creates.
    pub mode: u32,
    pub durability: Durability,
    /// Start from an empty document when the file is damaged (it is kept aside).
    pub clear_invalid_config: bool,
    /// Change records kept in the journal once checkpointed.
    pub history_max: usize,
    /// Directory of backups (`<cwd>/backups`).
    pub backup_dir: PathBuf,
    /// Backups kept.
    pub max_backups: usize,
    /// Every change is checked against it before anything is written.
    pub schema: Option<Arc<crate::schema::Schema>>,
}

impl Options {
    pub fn new(path: impl Into<PathBuf>) -> Options {
        let path = path.into();
        let history_dir = path.parent().unwrap_or(Path::new(".")).join("storeHistory");
        let backup_dir = path.parent().unwrap_or(Path::new(".")).join("backups");
        Options {
            path,
            history_dir,
            backup_dir,
            max_backups: 10,
            schema: None,
            mode: 0o600,
            durability: Durability::Deferred,
            clear_invalid_config: false,
            history_max: 100,
        }
    }

    /// `storeHistory/<file name>.journal`
    pub fn journal_path(&self) -> PathBuf {
        let name = self
            .path
            .file_name()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "config".into());
        self.history_dir.join(format!("{name}.journal"))
    }
}

/// What happened while opening.
#[derive(Clone, Debug, Default)]
pub struct OpenReport {
    /// The damaged store file was moved here.
    pub quarantined: Option<PathBuf>,
    /// Journal changes re-applied because the document file did not hold them yet.
    pub replayed: usize,
    /// Journal changes that could not be re-applied.
    pub skipped: usize,
    /// The document file was changed by something else since our last write.
    pub external_edit: bool,
    /// Damage found in the journal (the damaged copy is kept aside).
    pub journal_damage: Option<String>,
    /// How a damaged store file was rebuilt (history or a backup), if it was.
    pub recovered: Option<String>,
}

/// Counters for the info/health surface.
#[derive(Clone, Debug, Default)]
pub struct Status {
    pub seq: u64,
    pub durable_seq: u64,
    pub checkpointed_seq: u64,
    pub journal_bytes: u64,
    pub writer_error: Option<String>,
    pub checkpoints: u64,
    pub last_checkpoint_ms: f64,
    pub history_entries: u64,
}

struct State {
    doc: Document,
    seq: u64,
    closed: bool,
}

/// A committed change waiting for the writer. It is encoded into its journal
/// line on the writer thread, so the caller pays nothing proportional to the
/// change's size for serialization.
struct Pending {
    seq: u64,
    ts: f64,
    op: String,
    keys: Vec<String>,
    change: Change,
    /// False for an edit whose previous state is unknown (no inverse).
    reversible: bool,
}

/// What the writer thread starts from.
struct WriterStart {
    journal: Journal,
    lines: Vec<(u64, bool)>,
    replica: Document,
    replica_seq: u64,
    replica_hash: Option<String>,
    prev_line: Option<String>,
    /// The store file's bytes are exactly `replica` (nothing replayed or rebuilt).
    file_is_replica: bool,
}

#[derive(Default)]
struct Queue {
    records: VecDeque<Pending>,
    durable_seq: u64,
    checkpointed_seq: u64,
    /// A caller waits for a checkpoint covering this seq.
    flush_target: u64,
    needs_checkpoint: bool,
    stop: bool,
    writer_done: bool,
    /// The writer is waiting on `wake` (so a notify is needed).
    writer_sleeping: bool,
    error: Option<String>,
    journal_bytes: u64,
    checkpoints: u64,
    last_checkpoint_ms: f64,
    /// (seq, sha256 of the file's bytes, Merkle hash) of the last document written.
    last_checkpoint: Option<(u64, String, String)>,
    /// Change lines in the journal.
    history_entries: u64,
}

struct Inner {
    opts: Options,
    state: Mutex<State>,
    queue: Mutex<Queue>,
    /// Wakes the writer.
    wake: Condvar,
    /// Wakes callers waiting for durability or checkpoints.
    done: Condvar,
}

/// The writer thread, started on the first change (a store that is only read
/// never starts a thread, and opening stays cheap).
enum WriterSlot {
    NotStarted(Box<WriterStart>),
    Running(JoinHandle<()>),
    Stopped,
}

type QueuedBackup = (u64, PathBuf, String, bool, (Value, u64));

/// Backups asked for but not written yet, and what `close()` wrote for them.
#[derive(Default)]
struct QueuedBackups {
    next: u64,
    waiting: Vec<QueuedBackup>,
    done: std::collections::HashMap<u64, Result<Option<backup::Info>>>,
}

/// An open store.
pub struct Store {
    inner: Arc<Inner>,
    /// Held (shared) by backup work in flight; `close` takes it exclusively, so
    /// nothing is written after `close` returns.
    busy: std::sync::RwLock<()>,
    /// Serializes backups.
    backup_lock: Mutex<()>,
    queued_backups: Mutex<QueuedBackups>,
    writer: Mutex<WriterSlot>,
    writer_started: AtomicBool,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// `<file>.corrupt-<ms>`: where a damaged store file is kept.
fn quarantine_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!("{name}.corrupt-{}", now_ms() as u64))
}

/// The top-level keys a change touches (for history entries of bulk changes).
fn touched_keys(doc: &Document, change: &Change) -> Vec<String> {
    let mut keys: Vec<String> = Vec::new();
    let mut add = |k: &str| {
        if !keys.iter().any(|x| x == k) {
            keys.push(k.to_string());
        }
    };
    for op in &change.patch {
        match op.path().first() {
            Some(k) => add(k),
            None => {
                // the whole document: the top-level keys that differ
                let new = match op {
                    crate::doc::PatchOp::Add { value, .. }
                    | crate::doc::PatchOp::Replace { value, .. } => value,
                    crate::doc::PatchOp::Remove { .. } => continue,
                };
                let (Some(o), Some(n)) = (doc.root().as_object(), new.as_object()) else {
                    continue;
                };
                for (k, v) in o.iter() {
                    if n.get(k).is_none_or(|nv| !nv.eq_exact(v)) {
                        add(k);
                    }
                }
                for (k, _) in n.iter() {
                    if !o.contains_key(k) {
                        add(k);
                    }
                }
            }
        }
    }
    keys
}

/// A document rebuilt after the store file was found damaged.
struct Rebuilt {
    doc: Document,
    how: String,
    /// The state is exactly the journal's latest.
    exact: bool,
}

/// Rebuilds the newest state that can be proven: the whole history replayed from
/// an empty store (when it reaches back to the first change), else the newest
/// backup that verifies, plus the journal's changes after it when they continue
/// it exactly. Every result is checked against the recorded Merkle hashes.
fn recover(opts: &Options) -> Option<Rebuilt> {
    let journal = read_if_exists(&opts.journal_path())
        .ok()
        .flatten()
        .unwrap_or_default();
    let entries = history::entries(&journal);
    let replay = |mut doc: Document, from: &[ChangeRecord]| -> Option<Document> {
        for e in from {
            doc.apply(&e.patch).ok()?;
        }
        let last = from.last()?;
        (last.hash_after.as_deref() == Some(hex(&merkle(doc.root())).as_str())).then_some(doc)
    };
    if let Some(first) = entries.first() {
        let empty = Document::default();
        if first.seq == 1
            && first.hash_before.as_deref() == Some(hex(&merkle(empty.root())).as_str())
        {
            if let Some(doc) = replay(empty, &entries) {
                return Some(Rebuilt {
                    doc,
                    how: format!(
                        "rebuilt from the change history ({} changes)",
                        entries.len()
                    ),
                    exact: true,
                });
            }
        }
    }
    let own = opts
        .path
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_default();
    for b in backup::list_of(&opts.backup_dir, &own).ok()? {
        let Ok((value, meta)) = backup::read_verified(&b.path) else {
            continue;
        };
        let Ok(doc) = Document::new(value) else {
            continue;
        };
        let after: Vec<ChangeRecord> = entries
            .iter()
            .filter(|e| e.seq > meta.seq)
            .cloned()
            .collect();
        let continues = after.first().is_some_and(|e| {
            e.seq == meta.seq + 1 && e.hash_before.as_deref() == Some(meta.document_hash.as_str())
        });
        if continues {
            if let Some(full) = replay(doc.clone(), &after) {
                return Some(Rebuilt {
                    doc: full,
                    how: format!(
                        "rebuilt from the backup {} and the {} changes after it",
                        b.file,
                        after.len()
                    ),
                    exact: true,
                });
            }
        }
        let exact = after.is_empty() && entries.last().map(|e| e.seq) == Some(meta.seq);
        return Some(Rebuilt {
            doc,
            how: if exact {
                format!("restored from the backup {}", b.file)
            } else {
                format!(
                    "restored from the backup {} ({}); later changes could not be replayed",
                    b.file, meta.backup_time
                )
            },
            exact,
        });
    }
    None
}

impl Store {
    /// Opens (or creates) a store: reads the document, replays the journal past the
    /// last checkpoint, and starts the writer.
    pub fn open(opts: Options) -> Result<(Store, OpenReport)> {
        let dir = opts.path.parent().unwrap_or(Path::new(".")).to_path_buf();
        ensure_dir(&dir)?;
        ensure_dir(&opts.history_dir)?;
        let mut report = OpenReport::default();

        let bytes = read_if_exists(&opts.path)?;
        let mut recovered_exact = false;
        let mut doc = match &bytes {
            None => Document::default(),
            Some(b) => match parse(b) {
                Ok(v) if v.as_object().is_some() => Document::new(v)?,
                other => {
                    let detail = match other {
                        Err(e) if b.is_empty() => format!("empty file: {e}"),
                        Err(e) if b.iter().all(|&c| c == 0) => format!("zero-filled: {e}"),
                        Err(e) => e.to_string(),
                        Ok(_) => "the top level is not an object".into(),
                    };
                    let q = quarantine_path(&opts.path);
                    let rebuilt = recover(&opts);
                    if rebuilt.is_none() && !opts.clear_invalid_config {
                        return Err(Error::Corrupt {
                            path: opts.path.clone(),
                            detail,
                            quarantine: q.display().to_string(),
                        });
                    }
                    fs::rename(&opts.path, &q).map_err(Error::io("quarantine", &opts.path))?;
                    sync_dir(&dir)?;
                    report.quarantined = Some(q);
                    match rebuilt {
                        Some(r) => {
                            report.recovered = Some(r.how);
                            recovered_exact = r.exact;
                            r.doc
                        }
                        None => Document::default(),
                    }
                }
            },
        };
        let doc_readable = bytes.is_some() && report.quarantined.is_none();

        remove_stale_temps(&opts.path);
        remove_stale_temps(&opts.journal_path());
        tighten_mode(&opts.journal_path(), opts.mode)?;
        let (journal, scan) = Journal::open(&opts.journal_path(), opts.mode)?;
        report.journal_damage = scan.damaged.clone();
        let last_seq = scan
            .entries
            .iter()
            .filter_map(|(_, e)| match e {
                Entry::Change(c) => Some(c.seq),
                _ => None,
            })
            .max()
            .unwrap_or(0);
        let checkpoints: Vec<(u64, &str)> = scan
            .entries
            .iter()
            .filter_map(|(_, e)| match e {
                Entry::Checkpoint { seq, hash, .. } => Some((*seq, hash.as_str())),
                _ => None,
            })
            .collect();
        // Which changes does the document file already hold?
        let base_seq = if checkpoints.is_empty() {
            // Nothing was ever checkpointed: the journal's changes were made on top of
            // the file as it is (or on an empty store).
            scan.entries
                .iter()
                .find_map(|(_, e)| match e {
                    Entry::Change(c) => Some(c.seq.saturating_sub(1)),
                    _ => None,
                })
                .unwrap_or(0)
        } else {
            let hash = if doc_readable {
                Some(sha256_hex(bytes.as_deref().unwrap_or_default()))
            } else {
                None
            };
            match checkpoints
                .iter()
                .rev()
                .find(|(_, h)| Some(*h) == hash.as_deref())
            {
                Some((seq, _)) => *seq,
                None => {
                    report.external_edit = doc_readable;
                    checkpoints.last().map(|c| c.0).unwrap_or(0)
                }
            }
        };
        if report.quarantined.is_none() {
            for (_, e) in &scan.entries {
                if let Entry::Change(c) = e {
                    if c.seq > base_seq {
                        match doc.apply(&c.patch) {
                            Ok(()) => report.replayed += 1,
                            Err(_) => report.skipped += 1,
                        }
                    }
                }
            }
        }
        if doc_readable {
            tighten_mode(&opts.path, opts.mode)?;
        }

        let needs_checkpoint =
            report.replayed > 0 || report.skipped > 0 || report.quarantined.is_some();
        let queue = Queue {
            durable_seq: last_seq,
            checkpointed_seq: if needs_checkpoint {
                base_seq.min(last_seq)
            } else {
                last_seq
            },
            needs_checkpoint,
            journal_bytes: journal.len(),
            history_entries: scan
                .entries
                .iter()
                .filter(|(_, e)| matches!(e, Entry::Change(_)))
                .count() as u64,
            ..Queue::default()
        };
        let last_change = scan.entries.iter().rev().find_map(|(_, e)| match e {
            Entry::Change(c) => Some(c),
            _ => None,
        });
        let mut start = WriterStart {
            journal,
            lines: scan
                .entries
                .iter()
                .map(|(off, e)| (*off, matches!(e, Entry::Change(_))))
                .collect(),
            replica: doc.clone(),
            replica_seq: last_seq,
            // the journal's last hash describes `doc` unless the file was edited
            // (or replaced) behind our back; otherwise the writer computes it
            replica_hash: last_change
                .filter(|_| {
                    !report.external_edit && report.quarantined.is_none() && report.skipped == 0
                })
                .and_then(|c| c.hash_after.clone()),
            prev_line: last_change.map(|c| c.line_hash.clone()),
            file_is_replica: report.replayed == 0
                && report.skipped == 0
                && report.quarantined.is_none(),
        };
        let mut queue = queue;
        let mut seq = last_seq;
        let unexplained = if report.external_edit && report.replayed == 0 {
            Some("external-edit")
        } else if report.quarantined.is_some() && !recovered_exact && last_change.is_some() {
            Some(if report.recovered.is_some() {
                "recover"
            } else {
                "clear-invalid"
            })
        } else {
            None
        };
        if let Some(op) = unexplained {
            // Record the edit as a history entry. The state before it is not
            // known (only its hash is), so it cannot be rolled back past.
            start.replica_hash = last_change.and_then(|c| c.hash_after.clone());
            seq += 1;
            queue.records.push_back(Pending {
                seq,
                ts: now_ms(),
                op: op.into(),
                keys: doc.map().keys().map(|k| k.to_string()).collect(),
                change: Change {
                    patch: vec![crate::doc::PatchOp::Replace {
                        path: vec![],
                        value: doc.root().clone(),
                    }],
                    inverse: vec![],
                },
                reversible: false,
            });
        }
        let has_pending = !queue.records.is_empty();
        let inner = Arc::new(Inner {
            opts,
            state: Mutex::new(State {
                doc,
                seq,
                closed: false,
            }),
            queue: Mutex::new(queue),
            wake: Condvar::new(),
            done: Condvar::new(),
        });
        let store = Store {
            inner,
            busy: std::sync::RwLock::new(()),
            backup_lock: Mutex::new(()),
            queued_backups: Mutex::new(QueuedBackups::default()),
            writer: Mutex::new(WriterSlot::NotStarted(Box::new(start))),
            writer_started: AtomicBool::new(false),
        };
        if needs_checkpoint || has_pending {
            store.start_writer()?;
        }
        Ok((store, report))
    }

    /// Starts the writer thread if it is not running yet.
    fn start_writer(&self) -> Result<()> {
        if self.writer_started.load(Ordering::Acquire) {
            return Ok(());
        }
        let mut slot = lock(&self.writer);
        if let WriterSlot::NotStarted(_) = &*slot {
            let WriterSlot::NotStarted(parts) = std::mem::replace(&mut *slot, WriterSlot::Stopped)
            else {
                unreachable!()
            };
            let w_inner = self.inner.clone();
            let handle = std::thread::Builder::new()
                .name("tad-store-writer".into())
                .stack_size(32 << 20)
                .spawn(move || Writer::new(w_inner, *parts).run())
                .map_err(Error::io("spawn writer thread", "."))?;
            *slot = WriterSlot::Running(handle);
            self.writer_started.store(true, Ordering::Release);
        }
        Ok(())
    }

    pub fn options(&self) -> &Options {
        &self.inner.opts
    }

    /// Runs `f` on the current document.
    pub fn read<R>(&self, f: impl FnOnce(&Document) -> R) -> Result<R> {
        let st = lock(&self.inner.state);
        if st.closed {
            return Err(Error::Closed);
        }
        Ok(f(&st.doc))
    }

    /// A snapshot of the whole document (O(1)).
    pub fn snapshot(&self) -> Result<Value> {
        self.read(|d| d.root().clone())
    }

    /// Computes a change with `plan`, applies it, and queues it for the journal.
    /// Returns `(seq, extra)` when something changed, `None` when nothing did.
    /// In sync durability, returns only once the change is durable.
    pub fn commit<T>(
        &self,
        op: &str,
        keys: &[String],
        plan: impl FnOnce(&Document) -> Result<(Change, T)>,
    ) -> Result<Option<(u64, T)>> {
        self.commit_as(self.inner.opts.durability, true, op, keys, |d, _| plan(d))
    }

    /// `commit` with an explicit durability (several handles with different
    /// options can share one store).
    /// `plan` also gets the number of the latest change.
    pub fn commit_as<T>(
        &self,
        durability: Durability,
        validate: bool,
        op: &str,
        keys: &[String],
        plan: impl FnOnce(&Document, u64) -> Result<(Change, T)>,
    ) -> Result<Option<(u64, T)>> {
        let (seq, extra, wake, backlog) = {
            let mut st = lock(&self.inner.state);
            if st.closed {
                return Err(Error::Closed);
            }
            let (change, extra) = plan(&st.doc, st.seq)?;
            if change.is_empty() {
                return Ok(None);
            }
            let touched = touched_keys(&st.doc, &change);
            let keys = if keys.is_empty() {
                touched.clone()
            } else {
                keys.to_vec()
            };
            match (&self.inner.opts.schema, validate) {
                (Some(schema), true) => {
                    // check the result before anything is written
                    let mut work = st.doc.clone();
                    work.apply(&change.patch)?;
                    let whole = change.patch.iter().any(|op| op.path().is_empty());
                    schema.check(&work, if whole { None } else { Some(&touched) })?;
                    st.doc = work;
                }
                _ => st.doc.apply(&change.patch)?,
            }
            st.seq += 1;
            let seq = st.seq;
            let mut q = lock(&self.inner.queue);
            q.records.push_back(Pending {
                seq,
                ts: now_ms(),
                op: op.to_string(),
                keys,
                change,
                reversible: true,
            });
            // waking a sleeping thread is a syscall: only when the writer sleeps
            let wake = q.writer_sleeping;
            let backlog = q.records.len() >= MAX_QUEUED;
            drop(q);
            (seq, extra, wake, backlog)
        };
        self.start_writer()?;
        if wake {
            self.inner.wake.notify_one();
        }
        if backlog {
            self.wait(|q| q.records.len() < MAX_QUEUED / 2, false)?;
        }
        if durability == Durability::Sync {
            self.wait(|q| q.durable_seq >= seq, false)?;
        }
        Ok(Some((seq, extra)))
    }

    /// Blocks until `done(queue)` holds, or the writer reports an error.
    fn wait(&self, done: impl Fn(&Queue) -> bool, checkpoint: bool) -> Result<()> {
        let mut q = lock(&self.inner.queue);
        loop {
            if done(&q) {
                return Ok(());
            }
            if let Some(e) = &q.error {
                return Err(Error::Writer(e.clone()));
            }
            if q.writer_done {
                return Err(Error::Closed);
            }
            if checkpoint {
                self.inner.wake.notify_one();
            }
            q = self
                .inner
                .done
                .wait_timeout(q, Duration::from_millis(200))
                .map(|r| r.0)
                .unwrap_or_else(|p| p.into_inner().0);
        }
    }

    /// Blocks until every change made so far is durable and in the document file.
    pub fn flush(&self) -> Result<()> {
        let seq = {
            let st = lock(&self.inner.state);
            if st.closed {
                return Ok(());
            }
            st.seq
        };
        {
            let mut q = lock(&self.inner.queue);
            if q.checkpointed_seq >= seq && !q.needs_checkpoint {
                return Ok(());
            }
            q.error = None; // a flush retries after a writer error
            if q.flush_target < seq {
                q.flush_target = seq;
            }
        }
        self.start_writer()?;
        self.inner.wake.notify_one();
        self.wait(|q| q.checkpointed_seq >= seq && !q.needs_checkpoint, true)
    }

    /// Flushes, stops the writer and closes the store. Later calls fail with `E_CLOSED`.
    pub fn close(&self) -> Result<()> {
        let _busy = self.busy.write().unwrap_or_else(|p| p.into_inner());
        if !self.is_closed() {
            // backups asked for before close are written now, not dropped
            let jobs: Vec<QueuedBackup> = std::mem::take(&mut lock(&self.queued_backups).waiting);
            for (id, dir, reason, only, snap) in jobs {
                let r = self.write_backup(&dir, &reason, only, Some(snap));
                lock(&self.queued_backups).done.insert(id, r);
            }
        }
        {
            let mut st = lock(&self.inner.state);
            if st.closed {
                return Ok(());
            }
            st.closed = true;
        }
        {
            let mut q = lock(&self.inner.queue);
            q.stop = true;
        }
        self.inner.wake.notify_one();
        let slot = std::mem::replace(&mut *lock(&self.writer), WriterSlot::Stopped);
        if let WriterSlot::Running(h) = slot {
            let _ = h.join();
        }
        let q = lock(&self.inner.queue);
        match &q.error {
            Some(e) => Err(Error::Writer(e.clone())),
            None => Ok(()),
        }
    }

    pub fn is_closed(&self) -> bool {
        lock(&self.inner.state).closed
    }

    /// Writer and journal counters.
    pub fn status(&self) -> Status {
        let seq = lock(&self.inner.state).seq;
        let q = lock(&self.inner.queue);
        Status {
            seq,
            durable_seq: q.durable_seq,
            checkpointed_seq: q.checkpointed_seq,
            journal_bytes: q.journal_bytes,
            writer_error: q.error.clone(),
            checkpoints: q.checkpoints,
            last_checkpoint_ms: q.last_checkpoint_ms,
            history_entries: q.history_entries,
        }
    }

    /// Takes a verified backup of the current state. The store file is flushed and
    /// copied when it is current (its bytes are the backup); otherwise a snapshot
    /// is serialized. With `only_if_changed`, nothing is written when the newest
    /// backup already holds this content. Safe to call off the JS thread.
    pub fn create_backup(
        &self,
        reason: &str,
        only_if_changed: bool,
    ) -> Result<Option<backup::Info>> {
        self.create_backup_in(&self.inner.opts.backup_dir, reason, only_if_changed)
    }

    /// Migration snapshots: `storeHistory/migrations/`.
    pub fn migration_dir(&self) -> PathBuf {
        self.inner.opts.history_dir.join("migrations")
    }

    /// `create_backup` into another directory (migration snapshots).
    pub fn create_backup_in(
        &self,
        dir: &Path,
        reason: &str,
        only_if_changed: bool,
    ) -> Result<Option<backup::Info>> {
        self.backup_from(dir, reason, only_if_changed, None)
    }

    /// The current state (O(1)) to back up later with `backup_from`.
    pub fn snapshot_with_seq(&self) -> Result<(Value, u64)> {
        let st = lock(&self.inner.state);
        if st.closed {
            return Err(Error::Closed);
        }
        Ok((st.doc.root().clone(), st.seq))
    }

    /// Writes a backup of `snapshot` (a state taken earlier), or of the current
    /// state when `None`.
    pub fn backup_from(
        &self,
        dir: &Path,
        reason: &str,
        only_if_changed: bool,
        snapshot: Option<(Value, u64)>,
    ) -> Result<Option<backup::Info>> {
        let _busy = self.busy.read().unwrap_or_else(|p| p.into_inner());
        if self.is_closed() {
            return Err(Error::Closed);
        }
        self.write_backup(dir, reason, only_if_changed, snapshot)
    }

    /// Takes the state now and registers a backup of it, to be written by
    /// `run_queued_backup` (off the JS thread) — or by `close()`, if that comes
    /// first, so a backup asked for is never lost.
    pub fn queue_backup(&self, dir: PathBuf, reason: &str, only_if_changed: bool) -> Result<u64> {
        let snapshot = self.snapshot_with_seq()?;
        let mut q = lock(&self.queued_backups);
        q.next += 1;
        let id = q.next;
        q.waiting
            .push((id, dir, reason.to_string(), only_if_changed, snapshot));
        Ok(id)
    }

    /// Writes a backup registered by `queue_backup` (or returns what `close()`
    /// wrote for it).
    pub fn run_queued_backup(&self, id: u64) -> Result<Option<backup::Info>> {
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
            Some((_, dir, reason, only, snap)) if !self.is_closed() => {
                self.write_backup(&dir, &reason, only, Some(snap))
            }
            _ => Err(Error::Closed),
        }
    }

    fn write_backup(
        &self,
        dir: &Path,
        reason: &str,
        only_if_changed: bool,
        snapshot: Option<(Value, u64)>,
    ) -> Result<Option<backup::Info>> {
        // one backup at a time, so pruning never sees a half-written one
        let _one = lock(&self.backup_lock);
        let opts = &self.inner.opts;
        let (snap, want_seq) = match snapshot {
            Some(s) => s,
            None => self.snapshot_with_seq()?,
        };
        // When the store file holds exactly that state, its bytes are the backup.
        self.flush()?;
        let from_file = (|| {
            let bytes = read_if_exists(&opts.path).ok()??;
            let hash = sha256_hex(&bytes);
            let q = lock(&self.inner.queue);
            match &q.last_checkpoint {
                Some((seq, h, doc_hash)) if *h == hash && *seq == want_seq => {
                    Some((bytes, *seq, doc_hash.clone(), hash))
                }
                _ => None,
            }
        })();
        let (bytes, seq, doc_hash, hash) = match from_file {
            Some(x) => x,
            None => {
                let bytes = crate::value::to_json(&snap, true);
                let hash = sha256_hex(&bytes);
                (bytes, want_seq, hex(&merkle(&snap)), hash)
            }
        };
        let original = self.file_name();
        if only_if_changed {
            if let Some(newest) = backup::list_of(dir, &original)?
                .into_iter()
                .find(|b| b.meta.is_some())
            {
                if newest.meta.as_ref().map(|m| m.hash.as_str()) == Some(hash.as_str()) {
                    return Ok(None);
                }
            }
        }
        let info = backup::create(
            dir,
            &backup::Source {
                bytes: &bytes,
                original_file: &original,
                reason,
                seq,
                document_hash: &doc_hash,
                hash: Some(&hash),
            },
            opts.mode,
            opts.max_backups,
        )?;
        Ok(Some(info))
    }

    /// The store file's name (backups record it as `originalFile`).
    pub fn file_name(&self) -> String {
        self.inner
            .opts
            .path
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_default()
    }

    /// The backups, newest first.
    pub fn list_backups(&self) -> Result<Vec<backup::Info>> {
        // not while a backup is half-written
        let _one = lock(&self.backup_lock);
        backup::list_of(&self.inner.opts.backup_dir, &self.file_name())
    }

    /// Finds and verifies a backup to restore (name or listed path only), after
    /// backing the current state up. The caller then commits the returned
    /// document with `restore`.
    pub fn prepare_restore(&self, name_or_path: &str) -> Result<(Value, backup::Meta)> {
        let dir = self.inner.opts.backup_dir.clone();
        self.prepare_restore_in(&dir, name_or_path)
    }

    /// The migration snapshots, newest first.
    pub fn list_migration_backups(&self) -> Result<Vec<backup::Info>> {
        let _one = lock(&self.backup_lock);
        backup::list_of(&self.migration_dir(), &self.file_name())
    }

    /// Reads and verifies a migration snapshot given by name only (hash, parse).
    pub fn read_migration_backup(&self, name: &str) -> Result<(Value, backup::Meta)> {
        if name.contains('/') || name.contains('\\') {
            return Err(Error::BackupNotFound(format!(
                "Give a migration backup's file name from listMigrationBackups(), not a path ({name:?})"
            )));
        }
        let path = backup::resolve_of(&self.migration_dir(), name, &self.file_name())?;
        backup::read_verified(&path)
    }

    /// `prepare_restore` for a migration snapshot (name only).
    pub fn prepare_migration_restore(&self, name: &str) -> Result<(Value, backup::Meta)> {
        let (v, meta) = self.read_migration_backup(name)?;
        self.create_backup("before-restore", true)?;
        Ok((v, meta))
    }

    /// `prepare_restore` from a given backup directory.
    pub fn prepare_restore_in(
        &self,
        dir: &Path,
        name_or_path: &str,
    ) -> Result<(Value, backup::Meta)> {
        if self.is_closed() {
            return Err(Error::Closed);
        }
        let path = backup::resolve_of(dir, name_or_path, &self.file_name())?;
        let (value, meta) = backup::read_verified(&path)?;
        self.create_backup("before-restore", true)?;
        Ok((value, meta))
    }

    /// Replaces the whole document with a verified backup's content (one change).
    pub fn restore(&self, value: Value) -> Result<Option<(u64, Value)>> {
        self.commit("restore", &[], |d| {
            let old = d.root().clone();
            Ok((d.plan_replace(value), old))
        })
    }

    /// Every change entry the journal keeps, oldest first, once every change made
    /// so far is durable in it.
    pub fn history(&self) -> Result<Vec<ChangeRecord>> {
        let seq = lock(&self.inner.state).seq;
        if lock(&self.inner.queue).durable_seq < seq {
            self.start_writer()?;
            self.wait(|q| q.durable_seq >= seq, false)?;
        }
        let bytes = read_if_exists(&self.inner.opts.journal_path())?.unwrap_or_default();
        Ok(history::entries(&bytes))
    }

    /// Makes the store exactly what it was at `target`: every later change is
    /// undone, newest first, and the result is checked against the recorded hash
    /// before anything is changed. The rollback is itself one change (so it can
    /// be undone). `entries` may be a history read earlier (off the JS thread);
    /// it is read again if changes were made since.
    /// Returns the plan and the document before the rollback, or `None` when the
    /// store already is in that state.
    pub fn rollback(
        &self,
        target: Target,
        entries: Option<Arc<Vec<ChangeRecord>>>,
    ) -> Result<(history::Plan, Option<(u64, Value)>)> {
        let seq = lock(&self.inner.state).seq;
        let entries = match entries {
            Some(e) if e.last().map(|x| x.seq).unwrap_or(0) == seq => e,
            _ => Arc::new(self.history()?),
        };
        let mut planned = None;
        let committed = self.commit_as(
            self.inner.opts.durability,
            false,
            "rollback",
            &[],
            |d, cur| {
                let plan = history::plan(d, cur, &entries, target)?;
                let change = plan.change.clone();
                let old = d.root().clone();
                planned = Some(plan);
                Ok((change, old))
            },
        )?;
        let plan =
            planned.ok_or_else(|| Error::HistoryMismatch("no rollback was planned".into()))?;
        Ok((plan, committed))
    }

    /// Re-reads the document file and makes it the current state (recorded as one
    /// change). Our own pending changes are flushed first so they are not lost.
    /// A damaged file is reported and not applied.
    pub fn reload_from_disk(&self) -> Result<Option<(u64, Value)>> {
        self.flush()?;
        let path = &self.inner.opts.path;
        let Some(bytes) = read_if_exists(path)? else {
            return Ok(None);
        };
        let v = match parse(&bytes) {
            Ok(v) if v.as_object().is_some() => v,
            Ok(_) => {
                return Err(Error::Corrupt {
                    path: path.clone(),
                    detail: "the top level is not an object".into(),
                    quarantine: "(not moved: reload leaves the file alone)".into(),
                })
            }
            Err(e) => {
                return Err(Error::Corrupt {
                    path: path.clone(),
                    detail: e.to_string(),
                    quarantine: "(not moved: reload leaves the file alone)".into(),
                })
            }
        };
        self.commit("reload", &[], |d| {
            let old = d.root().clone();
            Ok((d.plan_replace(v), old))
        })
    }
}

impl Drop for Store {
    fn drop(&mut self) {
        let _ = self.close();
    }
}

/// Longest time the document file lags behind under a steady stream of changes.
const MAX_CHECKPOINT_GAP: Duration = Duration::from_secs(1);

/// Changes queued for the writer beyond which `commit` waits for it to catch up
/// (bounds memory when a caller sets in a tight loop faster than the disk takes it).
const MAX_QUEUED: usize = 20_000;

/// The background writer.
struct Writer {
    inner: Arc<Inner>,
    journal: Journal,
    /// The document as of the last change written to the journal (shares its
    /// unchanged nodes with the live one). Hashes and checkpoints come from it,
    /// so the JS thread never waits for them.
    replica: Document,
    replica_seq: u64,
    /// Merkle hash (hex) of `replica` (computed on first use).
    replica_hash: Option<String>,
    /// Hash of the last change line (the chain).
    prev_line: Option<String>,
    /// (offset, is_change) of every line in the journal file.
    lines: Vec<(u64, bool)>,
    last_checkpoint_took: Duration,
    last_checkpoint_at: Instant,
    /// Size of the last document written (to size the next buffer).
    last_len: usize,
    /// (sha256 of the file, Merkle hash of its document) as found at open,
    /// until the first document write: a state equal to it (say, after a failed
    /// migration was undone) leaves the file's own bytes alone.
    base: Option<(String, String)>,
}

impl Writer {
    fn new(inner: Arc<Inner>, start: WriterStart) -> Writer {
        let WriterStart {
            journal,
            lines,
            replica,
            replica_seq,
            replica_hash,
            prev_line,
            file_is_replica,
        } = start;
        let file = read_if_exists(&inner.opts.path).ok().flatten();
        let last_len = file.as_ref().map(Vec::len).unwrap_or(0);
        let base = file
            .as_deref()
            .filter(|_| file_is_replica)
            .map(|bytes| (sha256_hex(bytes), hex(&merkle(replica.root()))));
        Writer {
            inner,
            journal,
            replica,
            replica_seq,
            replica_hash,
            prev_line,
            lines,
            last_checkpoint_took: Duration::from_millis(1),
            last_checkpoint_at: Instant::now(),
            last_len,
            base,
        }
    }

    /// How long to let changes gather before rewriting the document: long enough
    /// that rewriting a big document takes at most about a fifth of the time, and
    /// at least 10 ms, so a burst of durable (sync) sets is not slowed by a
    /// document rewrite between every two of them.
    fn checkpoint_delay(&self) -> Duration {
        (self.last_checkpoint_took * 4).clamp(Duration::from_millis(10), Duration::from_millis(500))
    }

    fn run(mut self) {
        loop {
            // Wait for work.
            let (batch, stop, want_checkpoint) = {
                let mut q = lock(&self.inner.queue);
                loop {
                    let dirty = q.needs_checkpoint || q.durable_seq > q.checkpointed_seq;
                    let flush = q.flush_target > q.checkpointed_seq
                        || (q.needs_checkpoint && q.flush_target > 0);
                    let due = dirty && self.last_checkpoint_at.elapsed() >= self.checkpoint_delay();
                    if !q.records.is_empty() || q.stop || flush || (due && q.error.is_none()) {
                        let batch: Vec<Pending> = q.records.drain(..).collect();
                        break (batch, q.stop, dirty && (flush || due || q.stop));
                    }
                    let timeout = if dirty {
                        self.checkpoint_delay()
                            .saturating_sub(self.last_checkpoint_at.elapsed())
                            .max(Duration::from_millis(1))
                    } else {
                        Duration::from_secs(3600)
                    };
                    q.writer_sleeping = true;
                    q = self
                        .inner
                        .wake
                        .wait_timeout(q, timeout)
                        .map(|r| r.0)
                        .unwrap_or_else(|p| p.into_inner().0);
                    q.writer_sleeping = false;
                }
            };
            if !batch.is_empty() {
                if let Err(e) = self.append(&batch) {
                    let mut q = lock(&self.inner.queue);
                    // keep the records for a retry, in order
                    for r in batch.into_iter().rev() {
                        q.records.push_front(r);
                    }
                    q.error = Some(e.to_string());
                    drop(q);
                    self.inner.done.notify_all();
                    if stop {
                        break;
                    }
                    std::thread::sleep(Duration::from_millis(100));
                    continue;
                }
            }
            let more_queued = !lock(&self.inner.queue).records.is_empty();
            // Under a steady stream of changes the queue is never empty: checkpoint
            // anyway once in a while, so the file stays recent and the journal short.
            let overdue = self.last_checkpoint_at.elapsed() >= MAX_CHECKPOINT_GAP;
            let dirty = {
                let q = lock(&self.inner.queue);
                q.needs_checkpoint || q.durable_seq > q.checkpointed_seq
            };
            if dirty
                && (want_checkpoint && (!more_queued || stop || overdue) || (stop && !more_queued))
            {
                if let Err(e) = self.checkpoint() {
                    lock(&self.inner.queue).error = Some(e.to_string());
                    self.inner.done.notify_all();
                    if !stop {
                        std::thread::sleep(Duration::from_millis(100));
                    }
                }
            }
            if stop && lock(&self.inner.queue).records.is_empty() {
                break;
            }
        }
        let mut q = lock(&self.inner.queue);
        q.writer_done = true;
        drop(q);
        self.inner.done.notify_all();
    }

    /// Appends a batch of change lines and fsyncs once (group commit). Each line
    /// gets the document's Merkle hash before and after it and the hash of the
    /// line before it; the replica advances only once the batch is durable.
    fn append(&mut self, batch: &[Pending]) -> Result<()> {
        let start = self.journal.len();
        let mut buf = Vec::with_capacity(256 * batch.len());
        let mut offsets = Vec::with_capacity(batch.len());
        let mut replica = self.replica.clone();
        let mut hash = match &self.replica_hash {
            Some(h) => h.clone(),
            None => hex(&merkle(replica.root())),
        };
        let mut prev = self.prev_line.clone();
        for p in batch {
            replica.apply(&p.change.patch).map_err(|e| {
                Error::Writer(format!(
                    "change {} does not apply to the writer's copy: {e}",
                    p.seq
                ))
            })?;
            let after = hex(&merkle(replica.root()));
            let line = encode_change(&Encoded {
                seq: p.seq,
                ts: p.ts,
                op: &p.op,
                keys: &p.keys,
                change: &p.change,
                reversible: p.reversible,
                hash_before: &hash,
                hash_after: &after,
                prev: prev.as_deref(),
            });
            prev = Some(line_hash(&line));
            hash = after;
            offsets.push((start + buf.len() as u64, true));
            buf.extend_from_slice(&line);
        }
        self.journal.append(&buf)?;
        self.journal.sync()?;
        self.lines.extend(offsets);
        let last = batch.last().map(|r| r.seq).unwrap_or(0);
        self.replica = replica;
        self.replica_seq = last;
        self.replica_hash = Some(hash);
        self.prev_line = prev;
        let mut q = lock(&self.inner.queue);
        q.durable_seq = q.durable_seq.max(last);
        q.journal_bytes = self.journal.len();
        q.history_entries = self.lines.iter().filter(|l| l.1).count() as u64;
        q.error = None;
        drop(q);
        self.inner.done.notify_all();
        Ok(())
    }

    /// Writes the whole document from a snapshot: checkpoint line first, then the
    /// atomic replace; then trims the journal to the retained history.
    fn checkpoint(&mut self) -> Result<()> {
        let started = Instant::now();
        // changes queued so far go into the journal first, so the file is recent
        let pending: Vec<Pending> = lock(&self.inner.queue).records.drain(..).collect();
        if !pending.is_empty() {
            if let Err(e) = self.append(&pending) {
                let mut q = lock(&self.inner.queue);
                for r in pending.into_iter().rev() {
                    q.records.push_front(r);
                }
                return Err(e);
            }
        }
        let snap = self.replica.root().clone();
        let seq = self.replica_seq;
        let doc_hash = match &self.replica_hash {
            Some(h) => h.clone(),
            None => hex(&merkle(self.replica.root())),
        };
        if let Some((file_sha, base_doc)) = &self.base {
            if *base_doc == doc_hash {
                // the file already holds exactly this state: keep its bytes
                let line = encode_checkpoint(seq, now_ms(), file_sha, self.last_len as u64);
                let off = self.journal.len();
                self.journal.append(&line)?;
                self.journal.sync()?;
                self.lines.push((off, false));
                let file_sha = file_sha.clone();
                self.finish_checkpoint(started, seq, file_sha, doc_hash);
                return Ok(());
            }
        }
        self.base = None;
        let bytes = to_json_sized(&snap, true, self.last_len + self.last_len / 16 + 64);
        self.last_len = bytes.len();
        drop(snap);
        let hash = sha256_hex(&bytes);
        let line = encode_checkpoint(seq, now_ms(), &hash, bytes.len() as u64);
        let off = self.journal.len();
        self.journal.append(&line)?;
        self.journal.sync()?;
        self.lines.push((off, false));
        atomic_write(&self.inner.opts.path, &bytes, self.inner.opts.mode)?;
        self.trim()?;
        self.finish_checkpoint(started, seq, hash, doc_hash);
        Ok(())
    }

    /// Records a finished checkpoint and wakes whoever waits for it.
    fn finish_checkpoint(&mut self, started: Instant, seq: u64, hash: String, doc_hash: String) {
        self.last_checkpoint_took = started.elapsed();
        self.last_checkpoint_at = Instant::now();
        let mut q = lock(&self.inner.queue);
        q.checkpointed_seq = q.checkpointed_seq.max(seq);
        q.needs_checkpoint = false;
        q.journal_bytes = self.journal.len();
        q.history_entries = self.lines.iter().filter(|l| l.1).count() as u64;
        q.checkpoints += 1;
        q.last_checkpoint = Some((seq, hash, doc_hash));
        q.last_checkpoint_ms = self.last_checkpoint_took.as_secs_f64() * 1000.0;
        drop(q);
        self.inner.done.notify_all();
    }

    /// Keeps the last `history_max` change lines (plus everything from the last
    /// checkpoint on) once the journal holds twice that many.
    fn trim(&mut self) -> Result<()> {
        let keep = self.inner.opts.history_max;
        let changes = self.lines.iter().filter(|l| l.1).count();
        if changes <= keep.max(16) * 2 {
            return Ok(());
        }
        let last_ckpt = self.lines.iter().rposition(|l| !l.1).unwrap_or(0);
        // index of the first line to keep: the keep-th change from the end
        let mut seen = 0;
        let mut first = self.lines.len();
        for (i, l) in self.lines.iter().enumerate().rev() {
            if seen == keep {
                break;
            }
            first = i;
            if l.1 {
                seen += 1;
            }
        }
        let first = first.min(last_ckpt);
        let from = self.lines[first].0;
        self.journal.keep_from(from)?;
        self.lines = self.lines[first..]
            .iter()
            .map(|(off, c)| (off - from, *c))
            .collect();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::path::segments;

    fn open(dir: &Path, f: impl FnOnce(&mut Options)) -> (Store, OpenReport) {
        let mut o = Options::new(dir.join("config.json"));
        f(&mut o);
        Store::open(o).unwrap()
    }

    fn set(s: &Store, k: &str, v: &str) {
        let segs = segments(k, true).unwrap();
        let val = parse(v.as_bytes()).unwrap();
        s.commit("set", &[k.to_string()], |d| {
            Ok((d.plan_set(&segs, val), ()))
        })
        .unwrap();
    }

    fn text(s: &Store) -> String {
        String::from_utf8(to_json(&s.snapshot().unwrap(), false)).unwrap()
    }

    #[test]
    fn writes_survive_reopen_and_file_matches_json_stringify() {
        let dir = tempfile::tempdir().unwrap();
        let (s, _) = open(dir.path(), |_| {});
        set(&s, "a.b", "1");
        set(&s, "list", "[1,2,{\"x\":\"y\"}]");
        s.flush().unwrap();
        let file = fs::read_to_string(dir.path().join("config.json")).unwrap();
        assert_eq!(
            file,
            "{\n\t\"a\": {\n\t\t\"b\": 1\n\t},\n\t\"list\": [\n\t\t1,\n\t\t2,\n\t\t{\n\t\t\t\"x\": \"y\"\n\t\t}\n\t]\n}"
        );
        s.close().unwrap();
        assert!(matches!(s.snapshot(), Err(Error::Closed)));
        let (s2, r) = open(dir.path(), |_| {});
        assert_eq!(r.replayed, 0);
        assert_eq!(text(&s2), r#"{"a":{"b":1},"list":[1,2,{"x":"y"}]}"#);
    }

    #[test]
    fn journal_replays_changes_the_file_lacks() {
        let dir = tempfile::tempdir().unwrap();
        let (s, _) = open(dir.path(), |o| o.durability = Durability::Sync);
        set(&s, "a", "1");
        s.flush().unwrap();
        // simulate a crash after the journal append but before the checkpoint:
        // put the document file back to its old bytes after more changes
        let old = fs::read(dir.path().join("config.json")).unwrap();
        set(&s, "b", "2");
        set(&s, "a", "3");
        s.close().unwrap();
        fs::write(dir.path().join("config.json"), &old).unwrap();
        let (s2, r) = open(dir.path(), |_| {});
        assert_eq!(r.replayed, 2);
        assert!(!r.external_edit);
        assert_eq!(text(&s2), r#"{"a":3,"b":2}"#);
    }

    #[test]
    fn damaged_file_is_refused_or_quarantined_never_wiped() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("config.json");
        for bad in [
            &b""[..],
            b"{\"a\":1",
            b"\0\0\0\0\0",
            b"\xff garbage",
            b"[1,2]",
        ] {
            fs::write(&p, bad).unwrap();
            let err = Store::open(Options::new(&p)).err().expect("must refuse");
            assert_eq!(err.code(), "E_CORRUPT");
            assert_eq!(fs::read(&p).unwrap(), bad, "file untouched");
            let (s, r) = open(dir.path(), |o| o.clear_invalid_config = true);
            let q = r.quarantined.expect("quarantined");
            assert_eq!(fs::read(&q).unwrap(), bad, "bad file kept aside");
            assert_eq!(text(&s), "{}");
            s.close().unwrap();
            fs::remove_file(&q).unwrap();
        }
    }

    #[test]
    fn external_edit_while_closed_is_taken() {
        let dir = tempfile::tempdir().unwrap();
        let (s, _) = open(dir.path(), |_| {});
        set(&s, "a", "1");
        s.close().unwrap();
        fs::write(dir.path().join("config.json"), "{\"edited\":true}").unwrap();
        let (s2, r) = open(dir.path(), |_| {});
        assert!(r.external_edit);
        assert_eq!(text(&s2), r#"{"edited":true}"#);
    }

    #[test]
    fn journal_is_trimmed_to_the_retained_history() {
        let dir = tempfile::tempdir().unwrap();
        let (s, _) = open(dir.path(), |o| o.history_max = 20);
        for i in 0..500 {
            set(&s, "n", &i.to_string());
            if i % 50 == 0 {
                s.flush().unwrap();
            }
        }
        s.close().unwrap();
        let j = fs::read(dir.path().join("storeHistory/config.json.journal")).unwrap();
        let sc = crate::journal::scan(&j);
        let changes = sc
            .entries
            .iter()
            .filter(|e| matches!(e.1, Entry::Change(_)))
            .count();
        assert!((20..=80).contains(&changes), "{changes} change lines kept");
        let (s2, _) = open(dir.path(), |_| {});
        assert_eq!(text(&s2), r#"{"n":499}"#);
        set(&s2, "n", "500");
        s2.close().unwrap();
        let (s3, _) = open(dir.path(), |_| {});
        assert_eq!(text(&s3), r#"{"n":500}"#);
    }

    #[test]
    fn rollback_restores_exact_states_and_can_itself_be_undone() {
        let dir = tempfile::tempdir().unwrap();
        let (s, _) = open(dir.path(), |_| {});
        set(&s, "a", "1");
        set(&s, "b.c", "[1,2]");
        let at2 = text(&s);
        set(&s, "a", "\"x\"");
        set(&s, "b.c.0", "9");
        let latest = text(&s);
        let (plan, done) = s.rollback(Target::Seq(2), None).unwrap();
        assert_eq!(plan.reverted, 2);
        assert!(done.is_some());
        assert_eq!(text(&s), at2);
        // the rollback is change 5; undoing it gives the latest state back
        let (plan, _) = s.rollback(Target::Seq(4), None).unwrap();
        assert_eq!(plan.reverted, 1);
        assert_eq!(text(&s), latest);
        let (_, _) = s.rollback(Target::Seq(0), None).unwrap();
        assert_eq!(text(&s), "{}");
        s.close().unwrap();
        let (s2, r) = open(dir.path(), |_| {});
        assert_eq!(r.replayed, 0);
        assert_eq!(text(&s2), "{}");
        assert_eq!(s2.history().unwrap().len(), 7);
    }

    #[test]
    fn trimmed_history_refuses_old_targets_and_changes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let (s, _) = open(dir.path(), |o| o.history_max = 16);
        for i in 0..100 {
            set(&s, "n", &i.to_string());
        }
        s.flush().unwrap();
        for i in 100..120 {
            set(&s, "n", &i.to_string());
        }
        let before = text(&s);
        let err = s.rollback(Target::Seq(1), None).unwrap_err();
        assert_eq!(err.code(), "E_HISTORY_TRUNCATED");
        assert_eq!(text(&s), before);
        s.rollback(Target::Seq(110), None).unwrap();
        assert_eq!(text(&s), r#"{"n":109}"#);
    }

    #[test]
    fn a_damaged_file_is_rebuilt_from_history_or_a_backup() {
        let dir = tempfile::tempdir().unwrap();
        let (s, _) = open(dir.path(), |_| {});
        set(&s, "a", "1");
        set(&s, "b", "{\"c\":[true]}");
        s.close().unwrap();
        let p = dir.path().join("config.json");
        fs::write(&p, b"{\"a\": 1, \"b\": {\"c\": [tr").unwrap();
        let (s2, r) = open(dir.path(), |_| {});
        assert!(r.recovered.as_deref().unwrap().contains("history"), "{r:?}");
        assert!(r.quarantined.is_some());
        assert_eq!(text(&s2), r#"{"a":1,"b":{"c":[true]}}"#);
        // with the oldest history gone, a verified backup plus the later changes
        for i in 0..300 {
            set(&s2, "n", &i.to_string());
            if i % 40 == 0 {
                s2.flush().unwrap();
            }
        }
        let b = s2.create_backup("test", false).unwrap().unwrap();
        assert!(b.file.starts_with("backup-"));
        for i in 300..350 {
            set(&s2, "m", &i.to_string());
        }
        s2.close().unwrap();
        fs::write(&p, b"\0\0\0\0").unwrap();
        let (s3, r) = open(dir.path(), |o| o.history_max = 100);
        assert!(r.recovered.as_deref().unwrap().contains("backup"), "{r:?}");
        assert_eq!(text(&s3), r#"{"a":1,"b":{"c":[true]},"n":299,"m":349}"#);
        s3.close().unwrap();
        // without the journal, the backup alone (older) — recorded as a change that
        // cannot be rolled back past
        fs::write(&p, b"garbage").unwrap();
        fs::remove_file(dir.path().join("storeHistory/config.json.journal")).unwrap();
        let (s4, r) = open(dir.path(), |_| {});
        assert!(
            r.recovered
                .as_deref()
                .unwrap()
                .contains("restored from the backup"),
            "{r:?}"
        );
        assert_eq!(text(&s4), r#"{"a":1,"b":{"c":[true]},"n":299}"#);
    }

    #[test]
    fn backups_are_skipped_when_unchanged_and_restore_is_verified() {
        let dir = tempfile::tempdir().unwrap();
        let (s, _) = open(dir.path(), |o| o.max_backups = 3);
        set(&s, "a", "1");
        let first = s.create_backup("start", true).unwrap().unwrap();
        assert!(
            s.create_backup("start", true).unwrap().is_none(),
            "same content"
        );
        set(&s, "a", "2");
        let (v, meta) = s.prepare_restore(&first.file).unwrap();
        assert_eq!(meta.reason, "start");
        s.restore(v).unwrap();
        assert_eq!(text(&s), r#"{"a":1}"#);
        let reasons: Vec<String> = s
            .list_backups()
            .unwrap()
            .iter()
            .map(|b| b.meta.as_ref().unwrap().reason.clone())
            .collect();
        assert_eq!(reasons, ["before-restore", "start"]);
        assert_eq!(
            s.prepare_restore("../config.json").unwrap_err().code(),
            "E_BACKUP_NOT_FOUND"
        );
    }

    #[test]
    fn undoing_back_to_the_opened_state_keeps_the_file_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("config.json");
        fs::write(&p, br#"{"a":1,  "b":[1,2]}"#).unwrap();
        let (s, _) = open(dir.path(), |_| {});
        set(&s, "a", "2");
        s.rollback(Target::Seq(0), None).unwrap();
        s.close().unwrap();
        assert_eq!(fs::read(&p).unwrap(), br#"{"a":1,  "b":[1,2]}"#.to_vec());
        // and the journal agrees with the file: nothing to replay, no external edit
        let (s2, r) = open(dir.path(), |_| {});
        assert_eq!((r.replayed, r.external_edit), (0, false));
        assert_eq!(text(&s2), r#"{"a":1,"b":[1,2]}"#);
        set(&s2, "a", "3");
        s2.close().unwrap();
        assert!(fs::read_to_string(&p).unwrap().contains("\t\"a\": 3"));
    }
}
