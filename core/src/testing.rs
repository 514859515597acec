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
