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

use sha2::{Digest, Sha256};

use crate::doc::{Change, Document};
use crate::error::{Error, Result};
use crate::fsutil::{
    atomic_write, ensure_dir, read_if_exists, remove_stale_temps, sync_dir, tighten_mode,
};
use crate::journal::{encode_change, encode_checkpoint, now_ms, Entry, Journal};
#[cfg(test)]
use crate::value::to_json;
use crate::value::{parse, to_json_sized, Value};

/// When `set` returns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Durability {
    /// `set` returns at once; the background writer makes it durable right away.
    Deferred,
    /// `set` returns once the change is durable (fsync'd in the journal).
    Sync,
}

/// How to open a store.
#[derive(Clone, Debug)]
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
}

impl Options {
    pub fn new(path: impl Into<PathBuf>) -> Options {
        let path = path.into();
        let history_dir = path.parent().unwrap_or(Path::new(".")).join("storeHistory");
        Options {
            path,
            history_dir,
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
    NotStarted(Box<(Journal, Vec<(u64, bool)>)>),
    Running(JoinHandle<()>),
    Stopped,
}

/// An open store.
pub struct Store {
    inner: Arc<Inner>,
    writer: Mutex<WriterSlot>,
    writer_started: AtomicBool,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn sha256_hex(bytes: &[u8]) -> String {
    let d = Sha256::digest(bytes);
    let mut s = String::with_capacity(64);
    for b in d {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

/// `<file>.corrupt-<ms>`: where a damaged store file is kept.
fn quarantine_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!("{name}.corrupt-{}", now_ms() as u64))
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
                    if !opts.clear_invalid_config {
                        return Err(Error::Corrupt {
                            path: opts.path.clone(),
                            detail,
                            quarantine: q.display().to_string(),
                        });
                    }
                    fs::rename(&opts.path, &q).map_err(Error::io("quarantine", &opts.path))?;
                    sync_dir(&dir)?;
                    report.quarantined = Some(q);
                    Document::default()
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
            ..Queue::default()
        };
        let inner = Arc::new(Inner {
            opts,
            state: Mutex::new(State {
                doc,
                seq: last_seq,
                closed: false,
            }),
            queue: Mutex::new(queue),
            wake: Condvar::new(),
            done: Condvar::new(),
        });
        let offsets = scan
            .entries
            .iter()
            .map(|(off, e)| (*off, matches!(e, Entry::Change(_))))
            .collect();
        let store = Store {
            inner,
            writer: Mutex::new(WriterSlot::NotStarted(Box::new((journal, offsets)))),
            writer_started: AtomicBool::new(false),
        };
        if needs_checkpoint {
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
            let (journal, offsets) = *parts;
            let w_inner = self.inner.clone();
            let handle = std::thread::Builder::new()
                .name("tad-store-writer".into())
                .stack_size(32 << 20)
                .spawn(move || Writer::new(w_inner, journal, offsets).run())
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
        self.commit_as(self.inner.opts.durability, op, keys, plan)
    }

    /// `commit` with an explicit durability (several handles with different
    /// options can share one store).
    pub fn commit_as<T>(
        &self,
        durability: Durability,
        op: &str,
        keys: &[String],
        plan: impl FnOnce(&Document) -> Result<(Change, T)>,
    ) -> Result<Option<(u64, T)>> {
        let (seq, extra, wake, backlog) = {
            let mut st = lock(&self.inner.state);
            if st.closed {
                return Err(Error::Closed);
            }
            let (change, extra) = plan(&st.doc)?;
            if change.is_empty() {
                return Ok(None);
            }
            st.doc.apply(&change.patch)?;
            st.seq += 1;
            let seq = st.seq;
            let mut q = lock(&self.inner.queue);
            q.records.push_back(Pending {
                seq,
                ts: now_ms(),
                op: op.to_string(),
                keys: keys.to_vec(),
                change,
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
            q.error = None; // a flush retries after a writer error
            if q.flush_target < seq {
                q.flush_target = seq;
            }
        }
        self.inner.wake.notify_one();
        self.wait(|q| q.checkpointed_seq >= seq && !q.needs_checkpoint, true)
    }

    /// Flushes, stops the writer and closes the store. Later calls fail with `E_CLOSED`.
    pub fn close(&self) -> Result<()> {
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
        }
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
    /// (offset, is_change) of every line in the journal file.
    lines: Vec<(u64, bool)>,
    last_checkpoint_took: Duration,
    last_checkpoint_at: Instant,
    /// Size of the last document written (to size the next buffer).
    last_len: usize,
}

impl Writer {
    fn new(inner: Arc<Inner>, journal: Journal, lines: Vec<(u64, bool)>) -> Writer {
        let last_len = fs::metadata(&inner.opts.path)
            .map(|m| m.len() as usize)
            .unwrap_or(0);
        Writer {
            inner,
            journal,
            lines,
            last_checkpoint_took: Duration::from_millis(1),
            last_checkpoint_at: Instant::now(),
            last_len,
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

    /// Appends a batch of change lines and fsyncs once (group commit).
    fn append(&mut self, batch: &[Pending]) -> Result<()> {
        let start = self.journal.len();
        let mut buf = Vec::with_capacity(256 * batch.len());
        let mut offsets = Vec::with_capacity(batch.len());
        for p in batch {
            offsets.push((start + buf.len() as u64, true));
            buf.extend_from_slice(&encode_change(p.seq, p.ts, &p.op, &p.keys, &p.change));
        }
        self.journal.append(&buf)?;
        self.journal.sync()?;
        self.lines.extend(offsets);
        let last = batch.last().map(|r| r.seq).unwrap_or(0);
        let mut q = lock(&self.inner.queue);
        q.durable_seq = q.durable_seq.max(last);
        q.journal_bytes = self.journal.len();
        q.error = None;
        drop(q);
        self.inner.done.notify_all();
        Ok(())
    }

    /// Writes the whole document from a snapshot: checkpoint line first, then the
    /// atomic replace; then trims the journal to the retained history.
    fn checkpoint(&mut self) -> Result<()> {
        let started = Instant::now();
        let (snap, seq) = {
            let st = lock(&self.inner.state);
            (st.doc.root().clone(), st.seq)
        };
        // every change up to `seq` is queued or written: write the rest first
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
        self.last_checkpoint_took = started.elapsed();
        self.last_checkpoint_at = Instant::now();
        let mut q = lock(&self.inner.queue);
        q.checkpointed_seq = q.checkpointed_seq.max(seq);
        q.needs_checkpoint = false;
        q.journal_bytes = self.journal.len();
        q.checkpoints += 1;
        q.last_checkpoint_ms = self.last_checkpoint_took.as_secs_f64() * 1000.0;
        drop(q);
        self.inner.done.notify_all();
        Ok(())
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
}
