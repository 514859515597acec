//! Test hooks: named points where a test can make the core panic (to check
//! that a panic anywhere becomes an `E_INTERNAL` error, never an abort or a
//! hang), or stop a thread there until the test lets it go (to check what
//! happens while, say, a checkpoint is half done). Disarmed, a point costs
//! two relaxed atomic loads.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

static ARMED: AtomicBool = AtomicBool::new(false);
static POINT: Mutex<Option<(String, u32)>> = Mutex::new(None);

/// A hold: `(point, a thread is stopped there, released)`.
static HOLD_ARMED: AtomicBool = AtomicBool::new(false);
static HOLD: Mutex<Option<(String, bool, bool)>> = Mutex::new(None);
static HOLD_CHANGED: Condvar = Condvar::new();

/// The next thread to reach the point `name` stops there until
/// [`release_hold`].
pub fn arm_hold(name: &str) {
    let mut h = HOLD.lock().unwrap_or_else(|e| e.into_inner());
    *h = Some((name.to_string(), false, false));
    HOLD_ARMED.store(true, Ordering::Release);
}

/// Waits until a thread is stopped at the armed hold; `false` after
/// `deadline` (the caller fails loudly).
pub fn wait_held(deadline: Duration) -> bool {
    let end = Instant::now() + deadline;
    let mut h = HOLD.lock().unwrap_or_else(|e| e.into_inner());
    loop {
        if h.as_ref().is_some_and(|x| x.1) {
            return true;
        }
        let left = end.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return false;
        }
        h = HOLD_CHANGED
            .wait_timeout(h, left)
            .map(|r| r.0)
            .unwrap_or_else(|e| e.into_inner().0);
    }
}

/// Lets the stopped thread go on and disarms the hold.
pub fn release_hold() {
    let mut h = HOLD.lock().unwrap_or_else(|e| e.into_inner());
    match h.as_mut() {
        Some(x) if x.1 => x.2 = true,
        _ => *h = None,
    }
    HOLD_ARMED.store(false, Ordering::Release);
    HOLD_CHANGED.notify_all();
}

/// How long a thread stays stopped at a hold nobody releases (a test that
/// failed before its `release_hold`): then the hold is dropped and the thread
/// panics, loudly, instead of hanging the store and the test run.
static HOLD_DEADLINE: Mutex<Duration> = Mutex::new(Duration::from_secs(300));

/// Sets how long a thread may stay stopped at a hold (see `HOLD_DEADLINE`).
pub fn set_hold_deadline(d: Duration) {
    *HOLD_DEADLINE.lock().unwrap_or_else(|e| e.into_inner()) = d;
}

fn hold_at(name: &str) {
    let deadline = *HOLD_DEADLINE.lock().unwrap_or_else(|e| e.into_inner());
    let mut h = HOLD.lock().unwrap_or_else(|e| e.into_inner());
    match h.as_mut() {
        Some(x) if x.0 == name && !x.1 => x.1 = true,
        _ => return,
    }
    HOLD_CHANGED.notify_all();
    let end = Instant::now() + deadline;
    while !h.as_ref().is_some_and(|x| x.2) {
        let left = end.saturating_duration_since(Instant::now());
        if left.is_zero() {
            *h = None;
            HOLD_ARMED.store(false, Ordering::Release);
            HOLD_CHANGED.notify_all();
            drop(h);
            panic!("test hold at {name}: not released within {deadline:?}");
        }
        h = HOLD_CHANGED
            .wait_timeout(h, left)
            .map(|r| r.0)
            .unwrap_or_else(|e| e.into_inner().0);
    }
    *h = None;
}

/// Makes the point `name` panic the next `times` times it is reached
/// (`None` disarms).
pub fn arm_panic(name: Option<&str>, times: u32) {
    let mut p = POINT.lock().unwrap_or_else(|e| e.into_inner());
    *p = name.map(|n| (n.to_string(), times));
    ARMED.store(p.is_some(), Ordering::Release);
}

/// A point a test can make panic.
#[inline]
pub fn point(name: &str) {
    if HOLD_ARMED.load(Ordering::Relaxed) {
        hold_at(name);
    }
    if !ARMED.load(Ordering::Relaxed) {
        return;
    }
    let fire = {
        let mut p = POINT.lock().unwrap_or_else(|e| e.into_inner());
        match p.as_mut() {
            Some((n, left)) if n == name && *left > 0 => {
                *left -= 1;
                if *left == 0 {
                    *p = None;
                    ARMED.store(false, Ordering::Release);
                }
                true
            }
            _ => false,
        }
    };
    if fire {
        panic!("test panic at {name}");
    }
}

/// A symbolic link to a directory (Windows: needs the privilege or developer
/// mode; callers skip when this fails).
pub fn symlink_dir(target: &std::path::Path, link: &std::path::Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(target, link)
    }
    #[cfg(windows)]
    {
        std::os::windows::fs::symlink_dir(target, link)
    }
}

// ---------------------------------------------------------------------------
// Another program holding a file (the real file system)
// ---------------------------------------------------------------------------

/// A hold on renames onto one path: `(target, Windows error code, refusals
/// left (None: until released), refusals made)`.
type RenameHold = (std::path::PathBuf, u32, Option<u32>, u64);

static RENAME_ARMED: AtomicBool = AtomicBool::new(false);
static RENAME_HOLD: Mutex<Option<RenameHold>> = Mutex::new(None);

/// Makes the real file system refuse renames onto `target` as Windows does
/// while antivirus, backup or indexing software holds a file: with the
/// Windows error `code` (`ERROR_SHARING_VIOLATION` reads as `EBUSY`,
/// `ERROR_ACCESS_DENIED` as `EPERM`; both transient, see
/// `fs::platform::is_transient`), the next `times` renames (`None`: until
/// [`release_renames`]). Replaces any hold armed before.
pub fn hold_renames_onto(target: &std::path::Path, code: u32, times: Option<u32>) {
    let mut h = RENAME_HOLD.lock().unwrap_or_else(|e| e.into_inner());
    *h = Some((target.to_path_buf(), code, times, 0));
    RENAME_ARMED.store(true, Ordering::Release);
}

/// Ends the rename hold; returns how many renames it refused.
pub fn release_renames() -> u64 {
    let mut h = RENAME_HOLD.lock().unwrap_or_else(|e| e.into_inner());
    RENAME_ARMED.store(false, Ordering::Release);
    h.take().map_or(0, |x| x.3)
}

/// How many renames the current hold refused so far.
pub fn renames_refused() -> u64 {
    let h = RENAME_HOLD.lock().unwrap_or_else(|e| e.into_inner());
    h.as_ref().map_or(0, |x| x.3)
}

/// The error a rename onto `to` meets while a hold is armed on it (called by
/// the real file system's `rename` and `exchange`). Disarmed, one relaxed
/// atomic load.
#[inline]
pub fn rename_refusal(to: &std::path::Path) -> Option<std::io::Error> {
    if !RENAME_ARMED.load(Ordering::Relaxed) {
        return None;
    }
    let mut h = RENAME_HOLD.lock().unwrap_or_else(|e| e.into_inner());
    let x = h.as_mut()?;
    if x.0 != to || x.2 == Some(0) {
        return None;
    }
    if let Some(left) = x.2.as_mut() {
        *left -= 1;
    }
    x.3 += 1;
    Some(crate::fs::platform::win_error(x.1))
}
