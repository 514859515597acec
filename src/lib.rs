//! The Node-API addon: thin `#[napi]` wrappers over `tad_store_core` and the
//! conversions between JS and the core. No store rule lives here.
//!
//! - Values cross the boundary as JSON text (the JS side uses the engine's own
//!   `JSON.stringify`/`JSON.parse`, faster than building objects through
//!   Node-API one property at a time, and `"__proto__"` keys come back as own
//!   properties).
//! - A core error becomes a JS `Error` (a `TypeError` for argument errors)
//!   built here with its stable `code`, the OS error as `cause` (`code`
//!   `ENOSPC`, `errno`) and the `path` for I/O failures.
//! - Every function catches panics: a panic becomes an `E_INTERNAL` error,
//!   never an abort.
//! - Background events (other processes' changes, write failures) reach JS
//!   through one weak threadsafe function per open file and JS environment,
//!   released on close.
//! - Several JS environments (the main thread, worker threads) share one core
//!   per file: each gets the changes the others make as events, and a counter
//!   its read caches check; when an environment ends, a cleanup hook closes
//!   the stores it left open (see "JS environments" below).
//!
//! One module per concern: `handles` (the table of open instances, open and
//! close), `options`, `document` (reads and changes), `backups` (backups,
//! snapshots, history, rollback), `stats`, `events`, `env` (JS environments),
//! `errors`, `convert`, `tasks` (work on the thread pool), `inspect` (the
//! support command's read-only view of a store's files), `export` (the
//! custom-serialize export), `names` (file names and key splitting, the
//! core's rules JS calls).

pub mod atomic;
pub mod backups;
mod convert;
pub mod document;
pub mod env;
pub mod errors;
pub mod events;
pub mod export;
pub mod handles;
mod inspect;
pub mod layer;
pub mod names;
pub mod open;
pub mod options;
pub mod stats;
mod tasks;

use napi_derive::napi;

/// The store's one nesting limit: a document may nest at most this many
/// levels (its top-level object is the first); deeper values are refused with
/// `E_TOO_DEEP`. The JS side checks the same number.
#[napi]
pub const MAX_DEPTH: u32 = tad_store_core::value::MAX_DEPTH as u32;

/// Test hook: makes the core panic at the named point the next `times` times
/// (only when the process runs with `TAD_STORE_TEST_HOOKS=1`). Returns whether
/// it was armed.
#[napi]
pub fn test_arm_panic(name: Option<String>, times: u32) -> bool {
    if std::env::var("TAD_STORE_TEST_HOOKS").as_deref() != Ok("1") {
        return false;
    }
    tad_store_core::testing::arm_panic(name.as_deref(), times);
    true
}

fn test_hooks_on() -> bool {
    std::env::var("TAD_STORE_TEST_HOOKS").as_deref() == Ok("1")
}

/// Test hook: makes renames onto `path` fail as Windows fails them while
/// another program holds the file — `code` `'EBUSY'` (a sharing violation)
/// or `'EPERM'` (access denied) — the next `times` times (`null`: until
/// `testReleaseRenames`). Only with `TAD_STORE_TEST_HOOKS=1`; returns whether
/// it was armed.
#[napi]
pub fn test_hold_renames(path: String, code: String, times: Option<u32>) -> napi::Result<bool> {
    use tad_store_core::fs::platform::win;
    if !test_hooks_on() {
        return Ok(false);
    }
    let code = match code.as_str() {
        "EBUSY" => win::ERROR_SHARING_VIOLATION,
        "EPERM" => win::ERROR_ACCESS_DENIED,
        other => {
            return Err(napi::Error::new(
                napi::Status::InvalidArg,
                format!("Expected 'EBUSY' or 'EPERM', got {other:?}"),
            ))
        }
    };
    tad_store_core::testing::hold_renames_onto(std::path::Path::new(&path), code, times);
    Ok(true)
}

/// Test hook: how many renames the current hold refused (`release`: and
/// ends it).
#[napi]
pub fn test_renames_refused(release: bool) -> f64 {
    if release {
        tad_store_core::testing::release_renames() as f64
    } else {
        tad_store_core::testing::renames_refused() as f64
    }
}
