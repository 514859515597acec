//! The shared log: the journal file that every process writing a store
//! appends to, under an OS advisory lock, and this process's replica of the
//! state it describes.
//!
//! The journal is the source of truth; memory is a cache of it. Every append
//! happens with the lock held, after catching up with what other processes
//! appended since we last looked, so sequence numbers and the hash chain are
//! global. Every entry applied — at open, when catching up, when rebuilding a
//! damaged store — is checked against the state it is applied to (its
//! `hashBefore`) and the state it claims to produce (`hashAfter`); a line that
//! does not fit stops the replay there, and the lines from it on are kept aside
//! and reported, never applied.
//!
//! The document file is a checkpoint of the log: written from the replica with
//! the lock held, and only then recorded by a checkpoint line, so a checkpoint
//! line always names a file that is durably in place. A file the journal does
//! not explain (no checkpoint hash, no entry's state matches it) was edited by
//! another program: it is taken as it is, never overwritten by old changes.
//!
//! Trimming replaces the journal file (atomically, with the lock held); other
//! processes notice the new file on their next look and continue from the
//! entry they last saw, or reload from the document file. Where a file that is
//! open cannot be replaced (Windows: FAT/exFAT, SMB, ReFS; see
//! `Semantics::replace_open_files`) every process keeps the journal open only
//! while it holds the lock, recognizes a replaced journal by its first bytes,
//! and closes its own handle before it replaces the journal (close, replace,
//! reopen). A trim that fails (another program holds the journal) is retried
//! at the next checkpoint; it never fails the checkpoint.

use std::borrow::Cow;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::backup;
use crate::codec::{Codec, Kind, Swap};
use crate::doc::{Change, Document, PatchOp};
use crate::error::{Error, Result};
use crate::fs::platform::{mtime_granularity, stamp_needs_content_check};
use crate::fs::{
    atomic_write, ensure_dir, ensure_private_dir, is_read_only_error, parent_of, read_if_exists,
    remove_stale_temps, replace_with_temp, sync_dir, tighten_mode, write_new, FileHandle,
    FileSystem, ReplaceStep,
};
use crate::journal::{
    encode_change, encode_checkpoint, now_ms, scan, scan_from, seal_line, ChainTip, ChangeRecord,
    Checkpoint, Encoded, Entry,
};
use crate::lockwait::{LockWaiter, Wait};
use crate::value::{hex, merkle, parse_document, sha256_hex, Value};

/// How long a process waits for another one's lock, with no change to the
/// journal meanwhile, before giving up with `E_LOCKED` (a holder only keeps it
/// for one append or one document write: one that keeps it this long without
/// writing is hung). A lock that several writers keep busy never times out.
pub const LOCK_TIMEOUT: Duration = Duration::from_secs(10);

/// How many of the journal's first bytes identify it (where the journal is not
/// kept open between lock holds, a replaced journal is told from the one we
/// know by them: every trim or re-encryption changes them).
const HEAD_BYTES: usize = 512;

/// Where the log lives and how it writes.
#[derive(Clone)]
pub struct LogConfig {
    pub fs: Arc<dyn FileSystem>,
    pub codec: Arc<dyn Codec>,
    /// The document file (symlinks already resolved: writes go to the target).
    pub doc_path: PathBuf,
    /// `storeHistory/`: the journal, the lock file, migration snapshots.
    pub history_dir: PathBuf,
    /// Backups (used to rebuild a damaged or missing document).
    pub backup_dir: PathBuf,
    /// Mode of every file created.
    pub mode: u32,
    /// Change entries kept once they are in the document file.
    pub history_max: usize,
    /// Start from an empty document when the file is damaged and cannot be
    /// rebuilt (the damaged file is kept aside).
    pub clear_invalid_config: bool,
    /// Write the document as compact JSON (`serialize: JSON.stringify`)
    /// instead of electron-store's tab-indented JSON.
    pub compact: bool,
    /// How long waiting callers let another program hold a file before they
    /// get its error (`store::BUSY_PATIENCE`).
    pub busy_patience: Duration,
}

impl LogConfig {
    /// The document file's name (backups record it as `originalFile`).
    pub fn file_name(&self) -> String {
        self.doc_path
            .file_name()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "config".into())
    }

    /// `storeHistory/<file>.journal`
    pub fn journal_path(&self) -> PathBuf {
        self.history_dir
            .join(format!("{}.journal", self.file_name()))
    }

    /// `storeHistory/<file>.lock`: never replaced, so every process locks the
    /// same file even while the journal is trimmed.
    pub fn lock_path(&self) -> PathBuf {
        self.history_dir.join(format!("{}.lock", self.file_name()))
    }

    /// Migration snapshots: `storeHistory/migrations/`.
    pub fn migration_dir(&self) -> PathBuf {
        self.history_dir.join("migrations")
    }
}

/// What re-encrypting a store's files did (`Log::reseal`).
#[derive(Debug, Default)]
pub struct Resealed {
    /// Change entries in the journal, re-encrypted.
    pub journal_entries: usize,
    pub backups: usize,
    pub snapshots: usize,
    /// Quarantined copies (damaged or refused files kept aside).
    pub quarantined: usize,
    /// Files left as they were, and why.
    pub failed: Vec<(PathBuf, Error)>,
}

/// What opening found.
#[derive(Clone, Debug, Default)]
pub struct OpenReport {
    /// A copy of the damaged store file was kept here.
    pub quarantined: Option<PathBuf>,
    /// Journal changes re-applied because the document file did not hold them yet.
    pub replayed: usize,
    /// The document file was changed by something else since our last write.
    pub external_edit: bool,
    /// Damage found in the journal (the damaged part is kept aside).
    pub journal_damage: Option<String>,
    /// How a damaged or missing store file was rebuilt (history or a backup).
    pub recovered: Option<String>,
    /// The store file was missing although the journal has changes.
    pub missing_file: bool,
    /// The store's directory cannot be written: it is open for reading only.
    pub read_only: bool,
    /// Temp files left by crashed processes that were removed.
    pub temps_removed: usize,
    /// The store file held bytes that are not UTF-8 (say, saved by a Latin-1
    /// editor): they were read as U+FFFD, as electron-store reads them, and the
    /// file is left as it is until the next write.
    pub invalid_utf8: bool,
}

/// The document file as the log last knew it.
#[derive(Clone, Debug, Default)]
pub struct FileState {
    /// The file holds the state after this change (`None`: not known to
    /// correspond to any change, e.g. a brand-new store).
    pub seq: Option<u64>,
    /// SHA-256 of its stored bytes.
    pub sha: Option<String>,
    /// Merkle hash of its document.
    pub merkle: Option<String>,
    pub len: usize,
    /// A checkpoint line names this file (it may be missing when appending
    /// the line failed after the file was written).
    pub recorded: bool,
}

/// A change entry to append, planned by the caller.
pub struct NewEntry<'a> {
    pub ts: f64,
    pub op: &'a str,
    pub keys: &'a [String],
    pub change: &'a Change,
    pub reversible: bool,
}

/// What a checkpoint of the replica needs (`Log::checkpoint_plan`).
pub enum CheckpointPlan {
    /// The file holds the replica's state and a checkpoint line names it.
    Current,
    /// The file holds the replica's state; only the line is missing.
    RecordOnly,
    /// The file must be written from this snapshot.
    Write(crate::checkpoint::Snapshot),
}

/// Result of applying journal entries with checks.
struct Replayed {
    applied: usize,
    /// Index (in the given list) and reason of the first entry that did not fit.
    stopped: Option<(usize, String)>,
}

/// Applies change entries (oldest first) to `doc`, whose Merkle hash is `hash`,
/// checking each one against the state it is applied to and the state it
/// should produce. Stops at the first that does not fit, leaving `doc` at the
/// state before it. Entries are applied in place (the tree is copied once per
/// changed path for the whole run, not once per entry).
fn replay_checked(doc: &mut Document, hash: &mut String, entries: &[&ChangeRecord]) -> Replayed {
    let start = (doc.clone(), hash.clone());
    // Fast path: the recorded hashes form an unbroken chain from this state;
    // apply everything and hash once. The final state matching the last
    // recorded hash vouches for every step (each entry's state before is the
    // previous one's recorded state after). Any doubt: the step-by-step check.
    let chained = entries.len() > 1
        && entries[0].hash_before.as_deref() == Some(hash.as_str())
        && entries
            .windows(2)
            .all(|w| w[0].hash_after.is_some() && w[0].hash_after == w[1].hash_before);
    if chained && entries.iter().all(|e| doc.apply(&e.patch).is_ok()) {
        let after = hex(&merkle(doc.root()));
        if entries.last().and_then(|e| e.hash_after.as_deref()) == Some(after.as_str()) {
            *hash = after;
            return Replayed {
                applied: entries.len(),
                stopped: None,
            };
        }
    }
    if chained {
        *doc = start.0.clone();
    }
    let stop = |doc: &mut Document, hash: &mut String, i: usize, why: String| {
        // back to the state after entry i - 1 (the entries before it fit)
        *doc = start.0.clone();
        *hash = start.1.clone();
        for e in &entries[..i] {
            let _ = doc.apply(&e.patch);
        }
        if i > 0 {
            if let Some(h) = &entries[i - 1].hash_after {
                *hash = h.clone();
            }
        }
        Replayed {
            applied: i,
            stopped: Some((i, why)),
        }
    };
    for (i, e) in entries.iter().enumerate() {
        if e.hash_before.as_deref() != Some(hash.as_str()) {
            let why = format!(
                "change {} was made on a different state than the one before it (hashBefore {} is not {})",
                e.seq,
                e.hash_before.as_deref().unwrap_or("missing"),
                hash
            );
            return stop(doc, hash, i, why);
        }
        if let Err(err) = doc.apply(&e.patch) {
            return stop(
                doc,
                hash,
                i,
                format!("change {} does not apply: {err}", e.seq),
            );
        }
        let after = hex(&merkle(doc.root()));
        if e.hash_after.as_deref() != Some(after.as_str()) {
            let why = format!("change {} does not produce the state it recorded", e.seq);
            return stop(doc, hash, i, why);
        }
        *hash = after;
    }
    Replayed {
        applied: entries.len(),
        stopped: None,
    }
}

/// What reading the document file gave.
enum FileRead {
    Missing,
    Good {
        value: Value,
        sha: String,
        len: usize,
        /// The bytes held invalid UTF-8 (decoded as U+FFFD, as Node does).
        invalid_utf8: bool,
    },
    Bad {
        detail: String,
        raw: Vec<u8>,
        /// Valid JSON nested deeper than `MAX_DEPTH` (not damage, but refused alike).
        too_deep: bool,
    },
}

fn read_document(cfg: &LogConfig) -> Result<FileRead> {
    let Some(raw) = read_if_exists(&*cfg.fs, &cfg.doc_path)? else {
        return Ok(FileRead::Missing);
    };
    let sha = sha256_hex(&raw);
    let plain = match cfg.codec.decode(Kind::Document, &raw) {
        Ok(p) => p,
        // a wrong key is not damage: nothing may be repaired or set aside
        Err(e @ Error::SecretKey(_)) => return Err(e),
        Err(e) => {
            return Ok(FileRead::Bad {
                detail: format!("it cannot be decoded: {e}"),
                raw,
                too_deep: false,
            })
        }
    };
    match parse_document(&plain) {
        Ok((v, invalid_utf8)) if v.as_object().is_some() => Ok(FileRead::Good {
            value: v,
            sha,
            len: raw.len(),
            invalid_utf8,
        }),
        other => {
            let too_deep = matches!(&other, Err(e) if e.too_deep);
            let detail = match other {
                Err(e) if raw.is_empty() => format!("empty file: {e}"),
                Err(e) if raw.iter().all(|&c| c == 0) => format!("zero-filled: {e}"),
                Err(e) => e.to_string(),
                Ok(_) => "the top level is not an object".into(),
            };
            Ok(FileRead::Bad {
                detail,
                raw,
                too_deep,
            })
        }
    }
}

/// A document rebuilt from the history or a backup.
struct Rebuilt {
    doc: Document,
    hash: String,
    how: String,
    /// The state is the journal's latest (else the history has a gap before it).
    exact: bool,
}

/// Rebuilds the newest state that can be proven: the whole history replayed
/// from an empty store (when it reaches back to the first change), else the
/// newest backup that verifies, plus the journal's changes after it when they
/// continue it. Every step is checked against the recorded hashes.
fn rebuild(cfg: &LogConfig, changes: &[&ChangeRecord]) -> Option<Rebuilt> {
    let last_seq = changes.last().map(|e| e.seq);
    if let Some(first) = changes.first() {
        let mut doc = Document::default();
        let mut hash = hex(&merkle(doc.root()));
        if first.seq == 1 && first.hash_before.as_deref() == Some(hash.as_str()) {
            let r = replay_checked(&mut doc, &mut hash, changes);
            if r.applied > 0 {
                return Some(Rebuilt {
                    how: format!("rebuilt from the change history ({} changes)", r.applied),
                    exact: r.stopped.is_none(),
                    doc,
                    hash,
                });
            }
        }
    }
    let backups = backup::list_of(&*cfg.fs, &*cfg.codec, &cfg.backup_dir, &cfg.file_name()).ok()?;
    for b in backups {
        let Ok((value, meta)) = backup::read_verified(&*cfg.fs, &*cfg.codec, &b.path) else {
            continue;
        };
        let Ok(mut doc) = Document::new(value) else {
            continue;
        };
        let mut hash = hex(&merkle(doc.root()));
        let after: Vec<&ChangeRecord> = changes
            .iter()
            .copied()
            .filter(|e| e.seq > meta.seq)
            .collect();
        let continues = after.first().is_some_and(|e| {
            e.seq == meta.seq + 1 && e.hash_before.as_deref() == Some(hash.as_str())
        });
        if continues {
            let r = replay_checked(&mut doc, &mut hash, &after);
            return Some(Rebuilt {
                how: format!(
                    "rebuilt from the backup {} and the {} changes after it",
                    b.file, r.applied
                ),
                exact: r.stopped.is_none(),
                doc,
                hash,
            });
        }
        let exact = after.is_empty() && last_seq.is_none_or(|s| s == meta.seq);
        return Some(Rebuilt {
            how: if exact {
                format!("restored from the backup {}", b.file)
            } else {
                format!(
                    "restored from the backup {} ({}); later changes could not be replayed",
                    b.file, meta.backup_time
                )
            },
            exact,
            doc,
            hash,
        });
    }
    None
}

/// `<file>.corrupt-<ms>`: where a copy of a damaged store file is kept.
fn quarantine_path(cfg: &LogConfig) -> PathBuf {
    cfg.doc_path
        .with_file_name(format!("{}.corrupt-{}", cfg.file_name(), now_ms() as u64))
}

/// The journal, the lock and the replica of one store in one process.
pub struct Log {
    pub cfg: LogConfig,
    journal: Option<Box<dyn FileHandle>>,
    /// The journal stays open between lock holds (where open files can be
    /// replaced); else it is opened per hold and closed at release.
    keep_journal_open: bool,
    /// The journal's first bytes as we know them (up to `HEAD_BYTES`).
    head: Vec<u8>,
    /// The journal opened for this hold is not the one we knew (replaced, or
    /// shorter): catch up must reload before anything is appended.
    stale: bool,
    /// Why the last trim failed (retried at the next checkpoint).
    pub trim_error: Option<Error>,
    lock_file: Option<Box<dyn FileHandle>>,
    /// Waits for the lock while another process holds it.
    lock_wait: LockWaiter,
    /// We hold the OS lock.
    held: bool,
    /// The lock stays held past the current hold (an atomic section's changes
    /// are not in the journal yet: see `store::atomic`).
    pinned: bool,
    /// A failed append could not be cut back yet: the lock stays held until it
    /// is, so no other process ever reads lines we did not acknowledge.
    must_cut: bool,
    /// Length of the valid journal.
    len: u64,
    /// `(offset, Some(seq))` of every change line, `(offset, None)` of every
    /// checkpoint line in the journal file.
    lines: Vec<(u64, Option<u64>)>,
    /// The state after the last entry of the journal that we know.
    pub replica: Document,
    replica_hash: Option<String>,
    /// The last change's (global) seq; 0 before the first.
    pub seq: u64,
    tip: ChainTip,
    /// The document file.
    pub file: FileState,
    /// How long the last document write took.
    pub last_checkpoint_took: Duration,
    pub checkpoints: u64,
    /// Damage found after opening (by catching up).
    pub damage: Option<String>,
    /// How the document file looked (length, mtime, inode) when we last knew
    /// its bytes: a cheap test for "someone else replaced it".
    stamp: Option<Stamp>,
    /// When the content behind `stamp` was last confirmed (written or hashed by
    /// us): while that falls in the stamp's timestamp tick, a same-length
    /// rewrite can hide behind an unchanged stamp.
    verified_at: std::time::SystemTime,
    /// An edit another program made to the document file that we have taken
    /// (applied, or reported as invalid) but not yet overwritten: its sha and,
    /// when applied, its content (the base for diffing the next edit).
    seen: Option<(String, Option<Document>)>,
    /// An external edit found just before the writer overwrote it, waiting
    /// to be taken (`take_external`), with the document the file held before
    /// that edit (its base).
    external: Option<(Vec<u8>, Option<Document>)>,
}

/// `(len, mtime, inode)` of a file.
pub type Stamp = (u64, Option<std::time::SystemTime>, u64);

/// When a matching stamp is not trusted and the content is hashed.
#[derive(Clone, Copy)]
enum Verify {
    /// While the stamp cannot tell and timestamps are coarse (the writer's
    /// look right before a replace: on fine-grained volumes a stat).
    IfCoarse,
    /// While the stamp cannot tell (the watcher, `reload`).
    IfBlind,
}

/// What the document file holds now, when it is not what this store knows.
pub enum ExternalFile {
    /// Bytes another program wrote, and the document the file held before
    /// (what the edit is diffed against), and how the file looked before it
    /// was read (so an edit landing right after the read is not mistaken for
    /// this one).
    Edited(Vec<u8>, Option<Document>, Option<Stamp>),
    /// The file is gone.
    Deleted,
}

impl Log {
    /// Opens the log of a store: creates its directories (0700) and lock file,
    /// takes the lock, reads the document and the journal, repairs what a crash
    /// left (torn last line, temp files), sets damage aside, and computes the
    /// state. A directory that cannot be written opens read-only.
    pub fn open(cfg: LogConfig) -> Result<(Log, OpenReport)> {
        let fs = cfg.fs.clone();
        let doc_dir = parent_of(&cfg.doc_path).to_path_buf();
        if let Err(e) = ensure_dir(&*fs, &doc_dir) {
            if fs.stat(&doc_dir, true).is_err() {
                return Err(e);
            }
        }
        let mut read_only = false;
        match ensure_private_dir(&*fs, &cfg.history_dir) {
            Ok(()) => {}
            Err(Error::Io { source, .. }) if is_read_only_error(&source) => read_only = true,
            Err(e) => return Err(e),
        }
        let lock_file = if read_only {
            None
        } else {
            match fs.open_rw(&cfg.lock_path(), cfg.mode) {
                Ok(f) => Some(f),
                // a read-only directory: opened for reading
                Err(e) if is_read_only_error(&e) => None,
                Err(e) => return Err(Error::io("open lock file", cfg.lock_path())(e)),
            }
        };
        let keep_journal_open = fs.semantics().replace_open_files;
        let mut log = Log {
            cfg,
            journal: None,
            keep_journal_open,
            head: Vec::new(),
            stale: false,
            trim_error: None,
            lock_file,
            lock_wait: LockWaiter::default(),
            held: false,
            pinned: false,
            must_cut: false,
            len: 0,
            lines: Vec::new(),
            replica: Document::default(),
            replica_hash: None,
            seq: 0,
            tip: ChainTip::default(),
            file: FileState::default(),
            last_checkpoint_took: Duration::from_millis(1),
            checkpoints: 0,
            damage: None,
            stamp: None,
            verified_at: std::time::UNIX_EPOCH,
            seen: None,
            external: None,
        };
        let report = log.with_lock(|log| log.load(true))?;
        Ok((log, report))
    }

    /// Closes the files and gives the lock back (also when a failed append
    /// could not be cut back: the next process to open decides about those
    /// lines, as after a crash).
    pub fn close_files(&mut self) {
        if self.held {
            if let Some(lock) = &self.lock_file {
                let _ = lock.unlock();
            }
            self.held = false;
        }
        self.pinned = false;
        self.must_cut = false;
        self.journal = None;
        self.lock_file = None;
    }

    pub fn read_only(&self) -> bool {
        self.lock_file.is_none()
    }

    /// Whether `lock` names this log's lock file (under any spelling: another
    /// letter case on a case-insensitive volume, a hard link).
    pub fn locks_at(&self, lock: &Path) -> bool {
        self.lock_file
            .as_ref()
            .is_some_and(|f| f.is_at(lock).unwrap_or(false))
    }

    /// Runs `f` with the OS lock held (released afterwards, also when `f` fails
    /// or panics; a panic becomes `E_INTERNAL`). Read-only logs have no lock.
    pub fn with_lock<R>(&mut self, f: impl FnOnce(&mut Log) -> Result<R>) -> Result<R> {
        self.acquire()?;
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(self)))
            .unwrap_or_else(|p| Err(Error::from_panic(&*p, "a journal operation")));
        self.release();
        r
    }

    fn acquire(&mut self) -> Result<()> {
        if self.held {
            return Ok(());
        }
        let Some(lock) = &self.lock_file else {
            return Ok(());
        };
        // The timeout is for a holder that keeps the lock (a hung process),
        // not for a busy lock: while other processes take turns with it, the
        // journal changes (appends, trims) and the wait starts over. Waiting
        // long behind many busy writers on a loaded machine is not an error.
        let journal = self.cfg.journal_path();
        let journal_state = |fs: &dyn crate::fs::FileSystem| {
            fs.stat(&journal, false)
                .ok()
                .map(|s| (s.len, s.modified, s.ino))
        };
        let mut seen = journal_state(&*self.cfg.fs);
        let mut start = Instant::now();
        let mut pause = Duration::from_micros(100);
        // a thread blocked in the OS wait (`lockwait`) takes the lock the
        // moment the holder lets it go; this one only looks at the journal
        // between slices of waiting for it
        let mut try_first = !self.lock_wait.busy();
        loop {
            if try_first {
                match lock.try_lock() {
                    Ok(true) => {
                        self.held = true;
                        return Ok(());
                    }
                    Ok(false) => {}
                    Err(e) => return Err(Error::io("lock", self.cfg.lock_path())(e)),
                }
            }
            let now = journal_state(&*self.cfg.fs);
            if now != seen {
                seen = now;
                start = Instant::now();
            }
            if start.elapsed() >= LOCK_TIMEOUT {
                if self.lock_wait.give_up() {
                    let _ = lock.unlock();
                }
                return Err(Error::Locked(format!(
                    "Another process has held the lock of {} for more than {} s without writing to the journal; nothing was written",
                    self.cfg.doc_path.display(),
                    LOCK_TIMEOUT.as_secs()
                )));
            }
            match self
                .lock_wait
                .wait(Duration::from_millis(250), || lock.blocking_lock())
            {
                Wait::Got => {
                    self.held = true;
                    return Ok(());
                }
                Wait::Pending => try_first = false,
                Wait::Failed(e) => return Err(Error::io("lock", self.cfg.lock_path())(e)),
                Wait::Unsupported => {
                    // no OS wait here (a simulated file system): try again
                    try_first = true;
                    std::thread::sleep(pause);
                    pause = (pause * 2).min(Duration::from_millis(5));
                }
            }
        }
    }

    /// Takes the OS lock and keeps it past every hold until `unpin`. Returns
    /// whether it was already pinned (then no other process can have appended
    /// since the last catch-up).
    pub fn pin(&mut self) -> Result<bool> {
        if self.pinned {
            return Ok(true);
        }
        self.acquire()?;
        self.pinned = true;
        Ok(false)
    }

    /// Whether the lock is pinned (see `pin`).
    pub fn is_pinned(&self) -> bool {
        self.pinned
    }

    /// Gives a pinned lock back.
    pub fn unpin(&mut self) {
        if self.pinned {
            self.pinned = false;
            self.release();
        }
    }

    fn release(&mut self) {
        if !self.held || self.must_cut || self.pinned {
            return;
        }
        if !self.keep_journal_open {
            // nobody may hold the journal open while another process could be
            // replacing it (Windows cannot replace an open file everywhere)
            self.journal = None;
        }
        if let Some(lock) = &self.lock_file {
            let _ = lock.unlock();
        }
        self.held = false;
    }

    /// Records journal bytes read or written at `offset` into `head`.
    fn note_head(&mut self, offset: u64, bytes: &[u8]) {
        let have = self.head.len() as u64;
        if offset > have || have as usize >= HEAD_BYTES {
            return;
        }
        let skip = (have - offset) as usize;
        if skip >= bytes.len() {
            return;
        }
        let take = (HEAD_BYTES - self.head.len()).min(bytes.len() - skip);
        self.head.extend_from_slice(&bytes[skip..skip + take]);
    }

    /// A journal opened anew for this hold: is it the one we knew? (Its first
    /// bytes, and at least our length.)
    fn check_reopened(&mut self) -> Result<()> {
        let path = self.cfg.journal_path();
        let want = self.head.len();
        let known = self.len;
        let j = self.journal.as_mut().expect("just opened");
        let len = j.len().map_err(Error::io("stat journal", &path))?;
        let head = j
            .read_at(0, want)
            .map_err(Error::io("read journal", &path))?;
        self.stale = len < known || head != self.head;
        Ok(())
    }

    fn journal(&mut self) -> Result<&mut Box<dyn FileHandle>> {
        if self.journal.is_none() {
            let path = self.cfg.journal_path();
            let existed = self.cfg.fs.stat(&path, false).is_ok();
            let f = self
                .cfg
                .fs
                .open_rw(&path, self.cfg.mode)
                .map_err(Error::io("open journal", &path))?;
            self.journal = Some(f);
            if !existed {
                sync_dir(&*self.cfg.fs, &self.cfg.history_dir)?;
            }
            if !self.keep_journal_open && self.len > 0 {
                self.check_reopened()?;
            }
        }
        Ok(self.journal.as_mut().expect("just opened"))
    }

    /// Replaces the journal file with `bytes` (a trim, a re-encryption). Where
    /// an open file cannot be replaced, our handle is closed first (and the
    /// journal reopened after: the new one, or the old one if the replace
    /// failed).
    fn replace_journal(&mut self, bytes: &[u8]) -> Result<()> {
        let path = self.cfg.journal_path();
        if !self.keep_journal_open {
            self.journal = None;
        }
        let r = atomic_write(&*self.cfg.fs, &path, bytes, self.cfg.mode);
        self.journal = None;
        if r.is_ok() {
            self.head.clear();
            self.note_head(0, bytes);
            // the new journal is the one we know (the caller sets its length)
            let known = std::mem::take(&mut self.len);
            let opened = self.journal().map(|_| ());
            self.len = known;
            return opened;
        }
        // The old journal is in place — or the new one, if only the directory
        // fsync after the rename failed: the next catch-up reads it again
        // before anything is appended.
        self.stale = true;
        r
    }

    /// The replica's Merkle hash (computed on first use).
    pub fn replica_hash(&mut self) -> String {
        if self.replica_hash.is_none() {
            self.replica_hash = Some(hex(&merkle(self.replica.root())));
        }
        self.replica_hash.clone().unwrap_or_default()
    }

    /// Journal size in bytes.
    pub fn journal_bytes(&self) -> u64 {
        self.len
    }

    /// Change lines in the journal.
    pub fn history_entries(&self) -> u64 {
        self.lines.iter().filter(|l| l.1.is_some()).count() as u64
    }

    /// Keeps `bytes` (a damaged part of the journal) aside as
    /// `<journal>.damaged-<ms>`.
    fn keep_aside(&self, bytes: &[u8]) -> Option<PathBuf> {
        let path = self
            .cfg
            .journal_path()
            .with_extension(format!("damaged-{}", now_ms() as u64));
        let sealed = self
            .cfg
            .codec
            .encode(Kind::Quarantine, Cow::Borrowed(bytes))
            .ok()?;
        write_new(&*self.cfg.fs, &path, &sealed, self.cfg.mode)
            .ok()
            .map(|_| path)
    }

    /// Cuts the journal back to `len` bytes, durably.
    fn cut_to(&mut self, len: u64) -> Result<()> {
        let path = self.cfg.journal_path();
        let j = self.journal()?;
        j.set_len(len)
            .map_err(Error::io("truncate journal", &path))?;
        j.sync_data().map_err(Error::io("fsync journal", &path))?;
        self.head.truncate(len as usize);
        Ok(())
    }

    /// Reads the document and the whole journal and makes the replica the state
    /// they describe (see the module docs). `at_open`: also clean temp files.
    fn load(&mut self, at_open: bool) -> Result<OpenReport> {
        let writable = !self.read_only();
        let cfg = self.cfg.clone();
        let fs = &*cfg.fs;
        let mut report = OpenReport {
            read_only: !writable,
            ..OpenReport::default()
        };
        if writable && at_open {
            let name = cfg.file_name();
            report.temps_removed = remove_stale_temps(fs, parent_of(&cfg.doc_path), Some(&name))
                + remove_stale_temps(fs, &cfg.history_dir, None)
                + remove_stale_temps(fs, &cfg.backup_dir, None)
                + remove_stale_temps(fs, &cfg.migration_dir(), None);
        }
        // the journal
        let bytes = if writable {
            let path = cfg.journal_path();
            let j = self.journal()?;
            let len = j.len().map_err(Error::io("stat journal", &path))?;
            let b = j
                .read_at(0, len as usize)
                .map_err(Error::io("read journal", &path))?;
            tighten_mode(fs, &path, cfg.mode)?;
            b
        } else {
            read_if_exists(fs, &cfg.journal_path())?.unwrap_or_default()
        };
        let mut sc = scan(&*cfg.codec, &bytes);
        if let Some(e) = sc.fatal.take() {
            return Err(e);
        }
        if let Some(d) = &sc.damaged {
            let kept = if writable {
                self.keep_aside(&bytes)
            } else {
                None
            };
            report.journal_damage = Some(match kept {
                Some(p) => format!("{d}; the journal as found is kept as {}", p.display()),
                None => d.clone(),
            });
        }
        let mut good = sc.good_len;
        let mut entries = sc.entries;
        // the document file
        let found = read_document(&cfg)?;
        let changes: Vec<&ChangeRecord> = entries
            .iter()
            .filter_map(|(_, e)| match e {
                Entry::Change(c) => Some(c),
                _ => None,
            })
            .collect();
        let checkpoints: Vec<&Checkpoint> = entries
            .iter()
            .filter_map(|(_, e)| match e {
                Entry::Checkpoint(c) => Some(c),
                _ => None,
            })
            .collect();
        let last_seq = changes
            .last()
            .map(|c| c.seq)
            .into_iter()
            .chain(checkpoints.iter().map(|c| c.seq))
            .max()
            .unwrap_or(0);
        // the state the history says it reached (for an entry that records an
        // unexplained new state)
        let history_hash = changes
            .last()
            .and_then(|c| c.hash_after.clone())
            .or_else(|| checkpoints.last().and_then(|c| c.doc.clone()));
        let has_history = !changes.is_empty() || !checkpoints.is_empty();

        let mut doc;
        let mut hash: Option<String> = None;
        let mut file = FileState::default();
        // an irreversible entry to record: the state changed in a way the
        // history does not explain
        let mut record: Option<&'static str> = None;
        let mut write_now = false;
        let mut stop: Option<(u64, String)> = None;
        match found {
            FileRead::Good {
                value,
                sha,
                len,
                invalid_utf8,
            } => {
                report.invalid_utf8 = invalid_utf8;
                doc = Document::new(value)?;
                file = FileState {
                    seq: None,
                    sha: Some(sha.clone()),
                    merkle: None,
                    len,
                    recorded: false,
                };
                let by_checkpoint = checkpoints.iter().rev().find(|c| c.hash == sha);
                let base: Option<u64> = match by_checkpoint {
                    Some(c) => {
                        file.merkle = c.doc.clone();
                        file.recorded = true;
                        Some(c.seq)
                    }
                    None if !changes.is_empty() => {
                        // a file written just before a crash, its checkpoint line
                        // not yet appended: recognise it by content
                        let m = hex(&merkle(doc.root()));
                        file.merkle = Some(m.clone());
                        hash = Some(m.clone());
                        changes
                            .iter()
                            .rev()
                            .find(|c| c.hash_after.as_deref() == Some(m.as_str()))
                            .map(|c| c.seq)
                            .or_else(|| {
                                let first = changes[0];
                                (first.hash_before.as_deref() == Some(m.as_str()))
                                    .then(|| first.seq - 1)
                            })
                    }
                    None => None,
                };
                match base {
                    Some(base) => {
                        file.seq = Some(base);
                        let todo: Vec<&ChangeRecord> =
                            changes.iter().copied().filter(|c| c.seq > base).collect();
                        if todo.is_empty() {
                            hash = hash.or_else(|| file.merkle.clone());
                        } else {
                            let mut h = match hash.take().or_else(|| file.merkle.clone()) {
                                Some(h) => h,
                                None => hex(&merkle(doc.root())),
                            };
                            let r = replay_checked(&mut doc, &mut h, &todo);
                            report.replayed = r.applied;
                            if let Some((i, why)) = r.stopped {
                                stop = Some((todo[i].seq, why));
                            }
                            hash = Some(h);
                        }
                    }
                    None if has_history && file.sha.is_some() => {
                        // edited by another program: taken as it is
                        report.external_edit = true;
                        record = Some("external-edit");
                    }
                    None => {}
                }
            }
            FileRead::Missing => {
                if changes.is_empty() {
                    doc = Document::default();
                    if has_history {
                        // deleted by someone while the history only holds checkpoints
                        report.missing_file = true;
                        report.external_edit = true;
                        record = Some("external-edit");
                        write_now = true;
                    }
                } else {
                    report.missing_file = true;
                    match rebuild(&cfg, &changes) {
                        Some(r) => {
                            report.recovered = Some(r.how);
                            if !r.exact {
                                record = Some("recover");
                            }
                            hash = Some(r.hash);
                            doc = r.doc;
                        }
                        None => {
                            doc = Document::default();
                            report.external_edit = true;
                            record = Some("external-edit");
                        }
                    }
                    write_now = true;
                }
            }
            FileRead::Bad {
                detail,
                raw,
                too_deep,
            } => {
                let rebuilt = rebuild(&cfg, &changes);
                let q = quarantine_path(&cfg);
                if rebuilt.is_none() && !cfg.clear_invalid_config && too_deep {
                    return Err(Error::TooDeep(format!(
                        "The store file {} is {detail}. It was left untouched; open it with `clearInvalidConfig: true` to start from defaults (the file is then kept beside it as {})",
                        cfg.doc_path.display(),
                        q.display()
                    )));
                }
                if rebuilt.is_none() && !cfg.clear_invalid_config {
                    return Err(Error::Corrupt {
                        path: cfg.doc_path.clone(),
                        detail,
                        quarantine: q.display().to_string(),
                    });
                }
                if writable {
                    // keep the damaged bytes before anything replaces them
                    let sealed = cfg.codec.encode(Kind::Quarantine, Cow::Borrowed(&raw))?;
                    write_new(fs, &q, &sealed, cfg.mode)?;
                    report.quarantined = Some(q);
                }
                match rebuilt {
                    Some(r) => {
                        report.recovered = Some(r.how);
                        if !r.exact {
                            record = Some("recover");
                        }
                        hash = Some(r.hash);
                        doc = r.doc;
                    }
                    None => {
                        doc = Document::default();
                        if has_history {
                            record = Some("clear-invalid");
                        }
                    }
                }
                write_now = true;
            }
        }

        // lines from a replay stop on are not trusted: set aside, cut off
        if let Some((seq, why)) = stop {
            let off = entries
                .iter()
                .find(|(_, e)| matches!(e, Entry::Change(c) if c.seq == seq))
                .map(|(o, _)| *o)
                .unwrap_or(good);
            let kept = if writable {
                self.keep_aside(&bytes)
            } else {
                None
            };
            let msg = match kept {
                Some(p) => format!(
                    "replay stopped at the last consistent state: {why}; the journal as found is kept as {}",
                    p.display()
                ),
                None => format!("replay stopped at the last consistent state: {why}"),
            };
            report.journal_damage = Some(match report.journal_damage.take() {
                Some(d) => format!("{d}; {msg}"),
                None => msg,
            });
            good = off;
            entries.retain(|(o, _)| *o < off);
        }
        if writable && good < bytes.len() as u64 {
            self.cut_to(good)?;
        }
        self.len = good;
        self.head = bytes[..(good as usize).min(HEAD_BYTES)].to_vec();
        self.stale = false;
        self.lines = entries
            .iter()
            .map(|(o, e)| {
                (
                    *o,
                    match e {
                        Entry::Change(c) => Some(c.seq),
                        Entry::Checkpoint(_) => None,
                    },
                )
            })
            .collect();
        let kept_changes: Vec<&ChangeRecord> = entries
            .iter()
            .filter_map(|(_, e)| match e {
                Entry::Change(c) => Some(c),
                _ => None,
            })
            .collect();
        self.tip = match kept_changes.last() {
            Some(c) => ChainTip {
                seq: Some(c.seq),
                line: Some(c.line_hash.clone()),
            },
            None => ChainTip::default(),
        };
        self.seq = kept_changes
            .last()
            .map(|c| c.seq)
            .into_iter()
            .chain(entries.iter().filter_map(|(_, e)| match e {
                Entry::Checkpoint(c) => Some(c.seq),
                _ => None,
            }))
            .max()
            .unwrap_or(0);
        self.replica = doc;
        self.replica_hash = hash;
        self.file = file;
        let _ = last_seq;

        if writable {
            if let Some(op) = record {
                // The state before it is not known (only its hash is), so it
                // cannot be rolled back past.
                let change = Change {
                    patch: vec![PatchOp::Replace {
                        path: vec![],
                        value: self.replica.root().clone(),
                    }],
                    inverse: vec![],
                };
                let keys: Vec<String> = self.replica.map().keys().map(|k| k.to_string()).collect();
                let before = history_hash.unwrap_or_default();
                let after = self.replica_hash();
                let doc = self.replica.clone();
                self.append_prepared(
                    &[(
                        NewEntry {
                            ts: now_ms(),
                            op,
                            keys: &keys,
                            change: &change,
                            reversible: false,
                        },
                        after,
                    )],
                    Some(&before),
                    doc,
                )?;
            }
            if write_now {
                self.write_document()?;
            }
            if self.file.sha.is_some() {
                tighten_mode(fs, &cfg.doc_path, cfg.mode)?;
            }
        }
        Ok(report)
    }

    /// Appends change entries whose changes the caller applied in order to
    /// the replica, producing `after` (each entry with the Merkle hash of the
    /// state after it), and fsyncs once. `hash_before` overrides the hash of
    /// the state before the first entry (an entry recording a state the history
    /// does not explain). The replica advances only when the entries are
    /// durable.
    pub fn append_prepared(
        &mut self,
        entries: &[(NewEntry, String)],
        hash_before: Option<&str>,
        after: Document,
    ) -> Result<()> {
        if entries.is_empty() {
            return Ok(());
        }
        let mut hash = match hash_before {
            Some(h) => h.to_string(),
            None => self.replica_hash(),
        };
        let mut buf = Vec::new();
        let mut lines = Vec::new();
        let mut seq = self.seq;
        let mut tip = self.tip.clone();
        for (e, hash_after) in entries {
            seq += 1;
            let plain = encode_change(&Encoded {
                seq,
                ts: e.ts,
                op: e.op,
                keys: e.keys,
                change: e.change,
                reversible: e.reversible,
                hash_before: &hash,
                hash_after,
                prev: tip.line.as_deref(),
            });
            tip = ChainTip {
                seq: Some(seq),
                line: Some(crate::journal::line_hash(&plain)),
            };
            let line = seal_line(&*self.cfg.codec, plain)?;
            lines.push((buf.len() as u64, Some(seq)));
            buf.extend_from_slice(&line);
            hash = hash_after.clone();
        }
        self.write_lines(&buf, lines)?;
        self.replica = after;
        self.replica_hash = Some(hash);
        self.seq = seq;
        self.tip = tip;
        Ok(())
    }

    /// Appends whole stored lines at the end of the valid journal and fsyncs.
    /// On any failure the journal is cut back to its previous length, so the
    /// retry never writes duplicates; if even that fails, the lock stays held
    /// until a later call manages it.
    pub fn write_lines(&mut self, buf: &[u8], lines: Vec<(u64, Option<u64>)>) -> Result<()> {
        if buf.is_empty() {
            return Ok(());
        }
        if self.read_only() {
            return Err(self.read_only_error());
        }
        crate::testing::point("journal.append");
        if self.stale {
            return Err(Error::Internal(
                "the journal was replaced since it was last read and must be caught up with before an append; nothing was written".into(),
            ));
        }
        let start = self.len;
        if self.must_cut {
            self.cut_to(start)?;
            self.must_cut = false;
        }
        let path = self.cfg.journal_path();
        let j = self.journal()?;
        let r = j
            .write_at(start, buf)
            .map_err(Error::io("append to journal", &path))
            .and_then(|_| j.sync_data().map_err(Error::io("fsync journal", &path)));
        if let Err(e) = r {
            if self.cut_to(start).is_err() {
                self.must_cut = true;
            }
            return Err(e);
        }
        self.len = start + buf.len() as u64;
        self.note_head(start, buf);
        self.lines
            .extend(lines.into_iter().map(|(o, s)| (start + o, s)));
        Ok(())
    }

    /// The error for a write to a read-only store.
    pub fn read_only_error(&self) -> Error {
        Error::ReadOnly(format!(
            "The store {} was opened read-only (its directory {} cannot be written); nothing was changed",
            self.cfg.doc_path.display(),
            self.cfg.history_dir.display()
        ))
    }

    /// Applies what other processes appended since we last looked (the lock
    /// must be held). Returns how many changes were applied (and whether the
    /// whole state was reloaded).
    pub fn catch_up(&mut self) -> Result<CaughtUp> {
        if self.read_only() {
            return Ok(CaughtUp::default());
        }
        // lines of ours that a failed append could not cut back are not
        // another process's: cut them first (or fail, keeping the lock)
        if self.must_cut {
            self.cut_to(self.len)?;
            self.must_cut = false;
        }
        let path = self.cfg.journal_path();
        // kept open: is the file at the path still ours? (opened per hold:
        // `journal()` compares its first bytes)
        let replaced = match &self.journal {
            Some(j) if self.keep_journal_open => {
                !j.is_at(&path).map_err(Error::io("stat journal", &path))?
            }
            _ => false,
        };
        if replaced {
            self.journal = None;
            self.stale = false;
            return self.resync();
        }
        self.journal()?;
        if self.stale {
            self.stale = false;
            return self.resync();
        }
        let len = self
            .journal()?
            .len()
            .map_err(Error::io("stat journal", &path))?;
        if len == self.len {
            return Ok(CaughtUp::default());
        }
        if len < self.len {
            return self.resync();
        }
        let start = self.len;
        let bytes = self
            .journal()?
            .read_at(start, (len - start) as usize)
            .map_err(Error::io("read journal", &path))?;
        self.note_head(start, &bytes);
        let mut sc = scan_from(&*self.cfg.codec, &bytes, self.tip.clone(), start);
        if let Some(e) = sc.fatal.take() {
            return Err(e);
        }
        // every change line first, checked in one run over the replica
        let changes: Vec<&ChangeRecord> = sc
            .entries
            .iter()
            .filter_map(|(_, e)| match e {
                Entry::Change(c) => Some(c),
                _ => None,
            })
            .collect();
        let mut h = self.replica_hash();
        let r = replay_checked(&mut self.replica, &mut h, &changes);
        self.replica_hash = Some(h);
        let applied = r.applied;
        let mut stopped: Option<(u64, String)> = None;
        let mut done = 0;
        for (i, (off, e)) in sc.entries.iter().enumerate() {
            let end = sc
                .entries
                .get(i + 1)
                .map(|(o, _)| *o)
                .unwrap_or(sc.good_len);
            match e {
                Entry::Change(c) => {
                    if done == applied {
                        if let Some((_, why)) = &r.stopped {
                            stopped = Some((start + off, why.clone()));
                        }
                        break;
                    }
                    done += 1;
                    self.seq = c.seq;
                    self.tip = ChainTip {
                        seq: Some(c.seq),
                        line: Some(c.line_hash.clone()),
                    };
                    self.lines.push((start + off, Some(c.seq)));
                }
                Entry::Checkpoint(cp) => {
                    if self.file.seq.is_none_or(|s| cp.seq >= s) {
                        self.file = FileState {
                            seq: Some(cp.seq),
                            sha: Some(cp.hash.clone()),
                            merkle: cp.doc.clone(),
                            len: cp.size as usize,
                            recorded: true,
                        };
                    }
                    self.seq = self.seq.max(cp.seq);
                    self.lines.push((start + off, None));
                }
            }
            self.len = start + end;
        }
        let damage = match (stopped, &sc.damaged) {
            (Some((at, why)), _) => Some((at, why)),
            (None, Some(d)) => Some((start + sc.good_len, d.clone())),
            (None, None) => None,
        };
        if let Some((at, why)) = damage {
            // nobody else is writing (we hold the lock): this is damage, not a
            // line in progress
            let tail = &bytes[(at - start) as usize..];
            let kept = self.keep_aside(tail);
            self.cut_to(at)?;
            self.len = at;
            self.lines.retain(|(o, _)| *o < at);
            self.damage = Some(match kept {
                Some(p) => format!(
                    "{why}; the lines from byte {at} on are kept as {}",
                    p.display()
                ),
                None => why,
            });
        } else if sc.torn {
            // a process died in the middle of an append
            let at = start + sc.good_len;
            self.cut_to(at)?;
            self.len = at;
        }
        Ok(CaughtUp {
            applied,
            reloaded: false,
        })
    }

    /// The journal was replaced (trimmed by another process) or shrank:
    /// continue from the entry we last saw if it is still there, else reload
    /// the whole state from the document file and the journal.
    fn resync(&mut self) -> Result<CaughtUp> {
        let path = self.cfg.journal_path();
        let j = self.journal()?;
        let len = j.len().map_err(Error::io("stat journal", &path))?;
        let bytes = j
            .read_at(0, len as usize)
            .map_err(Error::io("read journal", &path))?;
        let mut sc = scan(&*self.cfg.codec, &bytes);
        if let Some(e) = sc.fatal.take() {
            return Err(e);
        }
        self.head = bytes[..bytes.len().min(HEAD_BYTES)].to_vec();
        let known = self.tip.clone();
        let pos = sc.entries.iter().position(|(_, e)| match e {
            Entry::Change(c) => {
                Some(c.seq) == known.seq && Some(&c.line_hash) == known.line.as_ref()
            }
            _ => false,
        });
        let continues = match pos {
            Some(_) => true,
            // we know no change yet; the new journal must not skip any
            None => {
                known.seq.is_none()
                    && sc.entries.iter().all(|(_, e)| match e {
                        Entry::Change(c) => c.seq > self.seq,
                        _ => true,
                    })
                    && sc
                        .entries
                        .iter()
                        .find_map(|(_, e)| match e {
                            Entry::Change(c) => Some(c.seq),
                            _ => None,
                        })
                        .is_none_or(|s| s == self.seq + 1)
            }
        };
        if continues {
            let from = match pos {
                Some(i) => sc
                    .entries
                    .get(i + 1)
                    .map(|(o, _)| *o)
                    .unwrap_or(sc.good_len),
                None => 0,
            };
            // everything before `from` is what we had: rebuild the line index
            self.lines = sc
                .entries
                .iter()
                .filter(|(o, _)| *o < from)
                .map(|(o, e)| {
                    (
                        *o,
                        match e {
                            Entry::Change(c) => Some(c.seq),
                            _ => None,
                        },
                    )
                })
                .collect();
            self.len = from;
            let mut r = self.catch_up()?;
            r.reloaded = false;
            return Ok(r);
        }
        let before = self.seq;
        self.load(false)?;
        Ok(CaughtUp {
            applied: self.seq.saturating_sub(before) as usize,
            reloaded: true,
        })
    }

    /// Whether the document file holds the replica's state and a checkpoint
    /// line says so.
    pub fn document_current(&self) -> bool {
        self.file.seq == Some(self.seq) && self.file.sha.is_some() && self.file.recorded
    }

    /// Writes the document file from the replica (unless the file already
    /// holds that state), then records the checkpoint line. The lock must be
    /// held and the replica caught up.
    pub fn write_document(&mut self) -> Result<()> {
        if self.read_only() {
            return Err(self.read_only_error());
        }
        let started = Instant::now();
        match self.plan(false) {
            CheckpointPlan::Current => Ok(()),
            CheckpointPlan::RecordOnly => self.record_checkpoint(started),
            CheckpointPlan::Write(snap) => {
                let prepared = crate::checkpoint::prepare(&self.cfg, snap)?;
                match self.install_prepared(prepared, started)? {
                    true => Ok(()),
                    // nothing changed the file since the snapshot just taken
                    false => Err(Error::Internal(
                        "the document file changed while it was being written; it was not replaced"
                            .into(),
                    )),
                }
            }
        }
    }

    /// What a checkpoint of the replica needs: nothing (the file holds it and
    /// a checkpoint line names it), only the line (the file holds the state),
    /// or the file written from this snapshot (which the caller may serialize
    /// and write to a temp file off the lock: [`crate::checkpoint::prepare`]).
    pub fn checkpoint_plan(&mut self) -> CheckpointPlan {
        self.plan(true)
    }

    fn plan(&mut self, skip_current: bool) -> CheckpointPlan {
        if skip_current && self.document_current() {
            return CheckpointPlan::Current;
        }
        let doc_hash = self.replica_hash();
        if self.file.merkle.as_deref() == Some(doc_hash.as_str()) && self.file.sha.is_some() {
            // the file already holds exactly this state: keep its bytes
            return CheckpointPlan::RecordOnly;
        }
        CheckpointPlan::Write(crate::checkpoint::Snapshot {
            seq: self.seq,
            doc: self.replica.clone(),
            merkle: doc_hash,
            base_sha: self.file.sha.clone(),
            base_seq: self.file.seq,
            hint: self.file.len + self.file.len / 16 + 64,
            compact: self.cfg.compact,
        })
    }

    /// Records a checkpoint line for the file that already holds the replica.
    fn record_checkpoint(&mut self, started: Instant) -> Result<()> {
        let sha = self.file.sha.clone().unwrap_or_default();
        let len = self.file.len;
        let doc_hash = self.replica_hash();
        self.finish_checkpoint(self.seq, sha, doc_hash, len, started)
    }

    /// Puts a document file prepared from a snapshot in place and records its
    /// checkpoint line, when it is still the newest file this log could write
    /// (the lock must be held and the log caught up). `Ok(false)`: obsolete (a
    /// newer file was written or checkpointed since the snapshot, by this
    /// process or another, or the file was forgotten): the temp file is
    /// removed and nothing changes.
    pub fn install_prepared(
        &mut self,
        p: crate::checkpoint::Prepared,
        started: Instant,
    ) -> Result<bool> {
        let fs = self.cfg.fs.clone();
        let still_newest = self.file.sha == p.snap.base_sha
            && self.file.seq == p.snap.base_seq
            && p.snap.seq <= self.seq
            && (p.snap.seq == self.seq || self.lines.iter().rev().any(|l| l.1 == Some(p.snap.seq)));
        if self.read_only() || !still_newest {
            let _ = fs.remove_file(&p.tmp);
            return Ok(false);
        }
        crate::testing::point("checkpoint.install");
        let path = self.cfg.doc_path.clone();
        let mut ours = None;
        let mut replaced_at = std::time::SystemTime::now();
        replace_with_temp(&*fs, &p.tmp, &path, |step| match step {
            ReplaceStep::Before(tmp) => {
                // an edit another program made since we last looked is kept
                // for the watcher / reload before we overwrite it (where the
                // platform cannot swap atomically, only the microseconds from
                // here to the rename are left)
                if let Some(ExternalFile::Edited(b, base, _)) = self.peek_external() {
                    self.external = Some((b, base));
                }
                // nobody else's write can be older than this
                replaced_at = std::time::SystemTime::now();
                // the replace keeps inode, length and mtime: the stamp
                // of what we are about to put in place
                ours = fs
                    .stat(tmp, false)
                    .ok()
                    .map(|st| (st.len, st.modified, st.ino));
            }
            ReplaceStep::Displaced(old) => self.keep_displaced(old),
        })?;
        self.stamp = ours;
        self.verified_at = replaced_at;
        let crate::checkpoint::Prepared { snap, sha, len, .. } = p;
        self.finish_checkpoint(snap.seq, sha, snap.merkle, len, started)?;
        Ok(true)
    }

    /// The file holding the state after `seq` is durably in place: only now
    /// may a checkpoint line name it.
    fn finish_checkpoint(
        &mut self,
        seq: u64,
        sha: String,
        doc_hash: String,
        len: usize,
        started: Instant,
    ) -> Result<()> {
        if self.seen.as_ref().is_some_and(|(h, _)| *h != sha) {
            self.seen = None;
        }
        self.file = FileState {
            seq: Some(seq),
            sha: Some(sha.clone()),
            merkle: Some(doc_hash.clone()),
            len,
            recorded: false,
        };
        let line = seal_line(
            &*self.cfg.codec,
            encode_checkpoint(&Checkpoint {
                seq,
                ts: now_ms(),
                hash: sha,
                size: len as u64,
                doc: Some(doc_hash),
            }),
        )?;
        self.write_lines(&line, vec![(0, None)])?;
        self.file.recorded = true;
        self.checkpoints += 1;
        self.last_checkpoint_took = started.elapsed();
        // the checkpoint is durable whatever happens to the trim: a trim that
        // fails (the journal held by another program) is tried again next time
        self.trim_error = self.trim().err();
        Ok(())
    }

    /// Journal bytes appended since the last checkpoint line (all of them
    /// when there is none): what a process opening the store replays.
    pub fn bytes_since_checkpoint(&self) -> u64 {
        match self.lines.iter().rposition(|l| l.1.is_none()) {
            Some(i) => self
                .lines
                .get(i + 1)
                .map_or(0, |l| self.len.saturating_sub(l.0)),
            None => self.len,
        }
    }

    /// Keeps the last `history_max` change lines (and everything from the last
    /// checkpoint on) once the journal holds twice that many. The journal is
    /// replaced atomically; other processes notice on their next look.
    fn trim(&mut self) -> Result<()> {
        let keep = self.cfg.history_max;
        let changes = self.lines.iter().filter(|l| l.1.is_some()).count();
        if changes <= keep.max(16) * 2 {
            return Ok(());
        }
        let last_ckpt = self.lines.iter().rposition(|l| l.1.is_none()).unwrap_or(0);
        let mut seen = 0;
        let mut first = self.lines.len();
        for (i, l) in self.lines.iter().enumerate().rev() {
            if seen == keep {
                break;
            }
            first = i;
            if l.1.is_some() {
                seen += 1;
            }
        }
        // a checkpoint prepared off the writer names an older state than the
        // changes appended while it was written: those stay (they are not in
        // the file)
        let unfiled = self.file.seq.map_or(0, |f| {
            self.lines
                .iter()
                .position(|l| l.1.is_some_and(|s| s > f))
                .unwrap_or(self.lines.len())
        });
        let first = first.min(last_ckpt).min(unfiled);
        if first == 0 {
            return Ok(());
        }
        let from = self.lines[first].0;
        let path = self.cfg.journal_path();
        let len = self.len;
        let tail = self
            .journal()?
            .read_at(from, (len - from) as usize)
            .map_err(Error::io("read journal", &path))?;
        self.replace_journal(&tail)?;
        self.len = tail.len() as u64;
        self.lines = self.lines[first..]
            .iter()
            .map(|(off, c)| (off - from, *c))
            .collect();
        Ok(())
    }

    fn stamp_now(&self) -> Option<Stamp> {
        let st = self.cfg.fs.stat(&self.cfg.doc_path, true).ok()?;
        Some((st.len, st.modified, st.ino))
    }

    /// Whether the file bytes with this sha are ones the store wrote,
    /// checkpointed or already took from another program.
    fn is_known(&self, sha: &str) -> bool {
        self.file.sha.as_deref() == Some(sha) || self.seen.as_ref().is_some_and(|(h, _)| h == sha)
    }

    /// What the document file holds if that is not what this store wrote,
    /// checkpointed or already took: cheap (one `stat`) while the file is
    /// untouched — and where timestamps are coarse (FAT 2 s, HFS+ 1 s), the
    /// content is checked while the stamp cannot tell (the writer calls this
    /// right before it replaces the file; an edit saved in the same tick must
    /// not be overwritten unseen). Does not consume a stashed edit.
    fn peek_external(&mut self) -> Option<ExternalFile> {
        self.peek_external_with(Verify::IfCoarse)
    }

    /// `peek_external`; with `verify` a file whose stamp matches is read and
    /// hashed anyway while its content was last confirmed within the stamp's
    /// timestamp tick — an in-place rewrite of the same length in that tick
    /// keeps the stamp (FAT's 2 s and HFS+'s 1 s ticks, no inode on Windows:
    /// `platform::stamp_needs_content_check`).
    fn peek_external_with(&mut self, verify: Verify) -> Option<ExternalFile> {
        let looked = std::time::SystemTime::now();
        let stamp = self.stamp_now();
        let Some(stamp) = stamp else {
            // gone: only news if a file was there
            return self.file.sha.is_some().then_some(ExternalFile::Deleted);
        };
        if self.stamp == Some(stamp) {
            let blind = stamp_needs_content_check(stamp.1, self.verified_at);
            let coarse = stamp.1.is_some_and(|m| !mtime_granularity(m).is_zero());
            let check = match verify {
                Verify::IfCoarse => blind && coarse,
                Verify::IfBlind => blind,
            };
            if !check {
                return None;
            }
        }
        let bytes = read_if_exists(&*self.cfg.fs, &self.cfg.doc_path).ok()??;
        let sha = sha256_hex(&bytes);
        let known = self.is_known(&sha);
        if known {
            self.verified_at = looked;
            self.stamp = Some(stamp);
            return None;
        }
        // replaced again while we read it: no stamp, so the next look reads
        // the newer file instead of taking it for this one
        let stamp = (self.stamp_now() == Some(stamp)).then_some(stamp);
        Some(ExternalFile::Edited(bytes, self.file_doc(), stamp))
    }

    /// The writer swapped its new file in: `old` holds what was in place an
    /// instant before. When that is not what the store knows, another program
    /// saved it: kept for the watcher / `reload()` (the newest edit wins).
    fn keep_displaced(&mut self, old: &Path) {
        let Ok(bytes) = self.cfg.fs.read(old) else {
            return;
        };
        let sha = sha256_hex(&bytes);
        let known = self.is_known(&sha);
        if !known {
            let base = self.file_doc();
            self.external = Some((bytes, base));
        }
    }

    /// Takes an edit another program made to the document file (a stashed one
    /// first), or `None` when the file is ours. The lock must be held and the
    /// log caught up (a checkpoint of another process names its file).
    pub fn take_external(&mut self) -> Option<ExternalFile> {
        let Some((b, base)) = self.external.take() else {
            return self.peek_external_with(Verify::IfBlind);
        };
        let sha = sha256_hex(&b);
        let taken = self.is_known(&sha);
        if taken {
            // read from the file and taken before the writer stashed it
            return self.peek_external_with(Verify::IfBlind);
        }
        // the file may have been edited again since: the newest wins
        Some(match self.peek_external_with(Verify::IfBlind) {
            Some(newer @ ExternalFile::Edited(..)) => newer,
            _ => ExternalFile::Edited(b, base, None),
        })
    }

    /// Records that the document file now holds `bytes` written by another
    /// program and taken by the store (`content`: its document when applied,
    /// `None` when refused): it is not taken again, and the next edit is
    /// diffed against it.
    pub fn mark_taken(&mut self, bytes: &[u8], content: Option<Document>, stamp: Option<Stamp>) {
        self.seen = Some((sha256_hex(bytes), content));
        if stamp.is_some() {
            self.stamp = stamp;
            // confirmed when it was read, which is not known here: the next
            // look checks the content again
            self.verified_at = std::time::UNIX_EPOCH;
        }
    }

    /// The file must be written again from the replica (it was deleted, or
    /// holds an edit that was refused).
    pub fn forget_file(&mut self) {
        self.file.sha = None;
        self.file.merkle = None;
        self.file.recorded = false;
    }

    /// The document the file held when the store last knew it (an external
    /// edit is diffed against it): the taken edit, the replica, or the replica
    /// with the later changes undone (checked against the file's hash).
    pub fn file_doc(&mut self) -> Option<Document> {
        if let Some((_, d)) = &self.seen {
            return d.clone();
        }
        let target = self.file.merkle.clone()?;
        if self.replica_hash() == target {
            return Some(self.replica.clone());
        }
        let fseq = self.file.seq?;
        let history = self.read_history().ok()?;
        let mut d = self.replica.clone();
        for e in history.iter().rev().filter(|e| e.seq > fseq) {
            d.apply(e.inverse.as_ref()?).ok()?;
        }
        (hex(&merkle(d.root())) == target).then_some(d)
    }

    /// The writer found an external edit before overwriting the file.
    pub fn has_external(&self) -> bool {
        self.external.is_some()
    }

    /// Cheap test (no OS lock) that the journal is still the one we read, as
    /// long as we read it: nothing to catch up with.
    pub fn journal_unchanged(&mut self) -> bool {
        if self.must_cut || self.read_only() {
            return !self.must_cut;
        }
        let path = self.cfg.journal_path();
        match &self.journal {
            Some(j) => j.is_at(&path).unwrap_or(false) && j.len().ok() == Some(self.len),
            None => false,
        }
    }

    /// Re-encodes every file of the store with `to` (a key rotation, or
    /// encrypting a store first opened with a key): the journal (replaced
    /// atomically; its hash chain is over the plain lines, so it holds), the
    /// document (written again, with a checkpoint), backups, migration
    /// snapshots and quarantined copies. `cell` is the store's codec: it reads
    /// with the old key(s) until the journal is replaced, then writes with
    /// `to`. The lock must be held and the log caught up. Backups and copies
    /// that cannot be re-encoded are left as they are and reported.
    pub fn reseal(&mut self, cell: &Swap, to: Arc<dyn Codec>) -> Result<Resealed> {
        if self.read_only() {
            return Err(self.read_only_error());
        }
        let old = cell.get();
        let fs = self.cfg.fs.clone();
        let mode = self.cfg.mode;
        let path = self.cfg.journal_path();
        let len = self.len;
        let bytes = self
            .journal()?
            .read_at(0, len as usize)
            .map_err(Error::io("read journal", &path))?;
        let stored: Vec<&[u8]> = bytes
            .split(|&b| b == b'\n')
            .take(bytes.iter().filter(|&&b| b == b'\n').count())
            .collect();
        if stored.len() != self.lines.len() {
            return Err(Error::Internal(format!(
                "the journal holds {} lines where {} were known; nothing was re-encrypted",
                stored.len(),
                self.lines.len()
            )));
        }
        let mut out = Vec::with_capacity(bytes.len() + bytes.len() / 8);
        let mut lines = Vec::with_capacity(self.lines.len());
        let mut report = Resealed::default();
        for (line, &(_, seq)) in stored.iter().zip(&self.lines) {
            let plain = old.decode(Kind::JournalLine, line)?;
            let again = seal_line(&*to, plain.into_owned())?;
            lines.push((out.len() as u64, seq));
            out.extend_from_slice(&again);
            report.journal_entries += usize::from(seq.is_some());
        }
        crate::testing::point("reseal.journal");
        self.replace_journal(&out)?;
        self.len = out.len() as u64;
        self.lines = lines;
        cell.set(to.clone());
        crate::testing::point("reseal.document");
        self.file.merkle = None;
        self.write_document()?;
        crate::testing::point("reseal.backups");
        let name = self.cfg.file_name();
        let b = backup::reencode_all(&*fs, &*old, &*to, &self.cfg.backup_dir, &name, mode);
        let m = backup::reencode_all(&*fs, &*old, &*to, &self.cfg.migration_dir(), &name, mode);
        report.backups = b.rotated;
        report.snapshots = m.rotated;
        report.failed.extend(b.failed);
        report.failed.extend(m.failed);
        // copies kept aside: `<file>.corrupt-*` beside the document,
        // `<file>.invalid-*` and `<file>.damaged-*` beside the journal
        let doc_dir = parent_of(&self.cfg.doc_path).to_path_buf();
        let spots = [
            (doc_dir, format!("{name}.corrupt-")),
            (self.cfg.history_dir.clone(), format!("{name}.invalid-")),
            (self.cfg.history_dir.clone(), format!("{name}.damaged-")),
        ];
        for (dir, prefix) in spots {
            let Ok(names) = fs.read_dir(&dir) else {
                continue;
            };
            for n in names.into_iter().filter(|n| n.starts_with(&prefix)) {
                let p = dir.join(&n);
                let one = || -> Result<()> {
                    let stored = fs.read(&p).map_err(Error::io("read", &p))?;
                    let plain = old.decode(Kind::Quarantine, &stored)?;
                    let again = to.encode(Kind::Quarantine, Cow::Borrowed(&plain))?;
                    atomic_write(&*fs, &p, &again, mode)
                };
                match one() {
                    Ok(()) => report.quarantined += 1,
                    Err(e) => report.failed.push((p, e)),
                }
            }
        }
        Ok(report)
    }

    /// The journal's change entries as stored now (history reads).
    pub fn read_history(&self) -> Result<Vec<ChangeRecord>> {
        let bytes = read_if_exists(&*self.cfg.fs, &self.cfg.journal_path())?.unwrap_or_default();
        let mut sc = scan(&*self.cfg.codec, &bytes);
        if let Some(e) = sc.fatal.take() {
            return Err(e);
        }
        Ok(sc
            .entries
            .into_iter()
            .filter_map(|(_, e)| match e {
                Entry::Change(c) => Some(c),
                _ => None,
            })
            .collect())
    }

    /// Reloads the whole state from disk (lock held): the document file and
    /// the journal, exactly as at open.
    pub fn reload_all(&mut self) -> Result<OpenReport> {
        self.load(false)
    }
}

/// What catching up did.
#[derive(Clone, Copy, Debug, Default)]
pub struct CaughtUp {
    /// Changes of other processes applied.
    pub applied: usize,
    /// The whole state was reloaded from the document file.
    pub reloaded: bool,
}

impl CaughtUp {
    pub fn changed(&self) -> bool {
        self.applied > 0 || self.reloaded
    }
}
