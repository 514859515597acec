//! Test hooks: named points where a test can make the core panic (to check
//! that a panic anywhere becomes an `E_INTERNAL` error, never an abort or a
//! hang). Disarmed, a point costs one relaxed atomic load.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

static ARMED: AtomicBool = AtomicBool::new(false);
static POINT: Mutex<Option<(String, u32)>> = Mutex::new(None);

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
