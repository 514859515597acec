//! Waiting for another process's lock without polling it.
//!
//! When the lock is taken, a thread of its own blocks in the OS
//! (`flock(LOCK_EX)`; Windows `LockFileEx` without
//! `LOCKFILE_FAIL_IMMEDIATELY`) on a second handle of the same open file, so
//! the lock is ours the moment the holder lets it go. The thread that wants
//! it (the writer, or an opening store) waits for that thread in slices, to
//! notice a holder that keeps the lock without writing (`E_LOCKED`); one that
//! gives up leaves the blocked thread behind, marked unwanted: if it gets the
//! lock later, it lets it go at once, and the next wait adopts it instead of
//! starting another.
//!
//! While such a thread is blocked, the lock is taken only through it: taking
//! it on the first handle would let the thread's wait succeed too (it is the
//! same lock), and its release would then drop a lock in use.

use std::io;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Duration;

use crate::fs::BlockingLock;

#[derive(Default)]
struct St {
    /// Somebody waits for the thread's outcome.
    wanted: bool,
    /// A thread is blocked in the OS wait.
    running: bool,
    /// Its outcome, for the one who waits.
    result: Option<io::Result<()>>,
}

#[derive(Default)]
struct Shared {
    st: Mutex<St>,
    cv: Condvar,
}

/// A log's waiter for its lock (see the module docs).
#[derive(Default)]
pub struct LockWaiter {
    shared: Arc<Shared>,
}

/// What one slice of waiting gave.
pub enum Wait {
    /// The lock is ours.
    Got,
    /// Still held by another.
    Pending,
    /// The file system cannot wait (the caller tries again after a pause).
    Unsupported,
    Failed(io::Error),
}

fn lock(m: &Mutex<St>) -> MutexGuard<'_, St> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl LockWaiter {
    /// Whether a thread is blocked waiting (the lock must then be taken
    /// through [`LockWaiter::wait`], never tried directly).
    pub fn busy(&self) -> bool {
        lock(&self.shared.st).running
    }

    /// Waits up to `slice` for the lock, starting the blocked thread (on the
    /// handle `make` gives) unless one is already waiting.
    pub fn wait(
        &self,
        slice: Duration,
        make: impl FnOnce() -> io::Result<Option<Box<dyn BlockingLock>>>,
    ) -> Wait {
        let mut st = lock(&self.shared.st);
        st.wanted = true;
        if !st.running && st.result.is_none() {
            let handle = match make() {
                Ok(Some(h)) => h,
                Ok(None) => {
                    st.wanted = false;
                    return Wait::Unsupported;
                }
                Err(e) => {
                    st.wanted = false;
                    return Wait::Failed(e);
                }
            };
            let shared = self.shared.clone();
            let spawned = std::thread::Builder::new()
                .name("tad-store-lock".into())
                .stack_size(64 << 10)
                .spawn(move || {
                    let r = handle.lock();
                    let mut st = lock(&shared.st);
                    st.running = false;
                    if st.wanted {
                        st.result = Some(r);
                        shared.cv.notify_all();
                    } else if r.is_ok() {
                        // nobody wants it any more
                        let _ = handle.unlock();
                    }
                });
            if let Err(e) = spawned {
                st.wanted = false;
                return Wait::Failed(e);
            }
            st.running = true;
        }
        if st.result.is_none() {
            st = self
                .shared
                .cv
                .wait_timeout(st, slice)
                .map(|r| r.0)
                .unwrap_or_else(|p| p.into_inner().0);
        }
        match st.result.take() {
            Some(Ok(())) => {
                st.wanted = false;
                Wait::Got
            }
            Some(Err(e)) => {
                st.wanted = false;
                Wait::Failed(e)
            }
            None => Wait::Pending,
        }
    }

    /// The caller stops waiting: a thread still blocked lets the lock go as
    /// soon as it gets it. `true`: it got it just now, and the caller must
    /// let it go (unlock).
    pub fn give_up(&self) -> bool {
        let mut st = lock(&self.shared.st);
        st.wanted = false;
        matches!(st.result.take(), Some(Ok(())))
    }
}

impl Drop for LockWaiter {
    fn drop(&mut self) {
        // the files close with the log: a lock got meanwhile goes with them
        let _ = self.give_up();
    }
}
