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
//! support command's read-only view of a store's files).

pub mod atomic;
pub mod backups;
mod convert;
pub mod document;
pub mod env;
pub mod errors;
pub mod events;
pub mod handles;
mod inspect;
pub mod layer;
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
