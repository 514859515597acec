//! The OS lock and the journal file handle: taking and giving back the lock,
//! noticing a replaced journal, cutting back and keeping damage aside.

use std::borrow::Cow;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use super::{Log, HEAD_BYTES, LOCK_TIMEOUT};
use crate::codec::Kind;
use crate::error::{Error, Result};
use crate::fs::{atomic_write, sync_dir, write_new, FileHandle};
use crate::journal::now_ms;
use crate::lockwait::Wait;

impl Log {
    /// Runs `f` with the OS lock held (released afterwards, also when `f` fails
    /// or panics; a panic becomes `E_INTERNAL`). Read-only logs have no lock.
    pub fn with_lock<R>(&mut self, f: impl FnOnce(&mut Log) -> Result<R>) -> Result<R> {
        self.acquire()?;
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(self)))
            .unwrap_or_else(|p| Err(Error::from_panic(&*p, "a journal operation")));
        self.release();
        r
    }

    pub(super) fn acquire(&mut self) -> Result<()> {
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

    pub(super) fn release(&mut self) {
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
    pub(super) fn note_head(&mut self, offset: u64, bytes: &[u8]) {
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
    pub(super) fn check_reopened(&mut self) -> Result<()> {
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

    pub(super) fn journal(&mut self) -> Result<&mut Box<dyn FileHandle>> {
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
    pub(super) fn replace_journal(&mut self, bytes: &[u8]) -> Result<()> {
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

    /// Keeps `bytes` (a damaged part of the journal) aside as
    /// `<journal>.damaged-<ms>`.
    pub(super) fn keep_aside(&self, bytes: &[u8]) -> Option<PathBuf> {
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
    pub(super) fn cut_to(&mut self, len: u64) -> Result<()> {
        let path = self.cfg.journal_path();
        let j = self.journal()?;
        j.set_len(len)
            .map_err(Error::io("truncate journal", &path))?;
        j.sync_data().map_err(Error::io("fsync journal", &path))?;
        self.head.truncate(len as usize);
        Ok(())
    }
}
