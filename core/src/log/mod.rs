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
//!
//! Rooms: `config` (what a log opens with), `report` (what opening, catching
//! up, re-encrypting report), `lock` (the OS lock, the journal handle),
//! `load` (open and recovery, as named steps), `recovery` (reading and
//! rebuilding the document file), `replay` (checked replay), `append`,
//! `catch_up`, `checkpoint` (document writes: plan, install, record; trim),
//! `prepare` (a checkpoint's snapshot written to a temp file off the lock), `tracking` (the
//! document file as last seen), `reseal` (re-encryption).

mod append;
mod catch_up;
mod checkpoint;
mod config;
mod load;
mod lock;
mod prepare;
mod recovery;
mod replay;
mod report;
mod reseal;
mod tracking;

use std::path::Path;
use std::time::Duration;

use crate::doc::Document;
use crate::error::{Error, Result};
use crate::fs::{
    ensure_dir, ensure_private_dir, is_read_only_error, parent_of, read_if_exists, FileHandle,
};
use crate::journal::{scan, ChainTip, ChangeRecord, Entry};
use crate::lockwait::LockWaiter;
use crate::value::{hex, merkle};

pub use self::config::{FileState, LogConfig, NewEntry};
pub use self::prepare::{prepare, CheckpointPlan, Prepared, Snapshot};
pub use self::report::{CaughtUp, OpenReport, Resealed};

/// How long a process waits for another one's lock, with no change to the
/// journal meanwhile, before giving up with `E_LOCKED` (a holder only keeps it
/// for one append or one document write: one that keeps it this long without
/// writing is hung). A lock that several writers keep busy never times out.
pub const LOCK_TIMEOUT: Duration = Duration::from_secs(10);

/// How many of the journal's first bytes identify it (where the journal is not
/// kept open between lock holds, a replaced journal is told from the one we
/// know by them: every trim or re-encryption changes them).
const HEAD_BYTES: usize = 512;

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
