//! tad-store's core: every store rule, in plain Rust with no Node-API
//! dependency (the addon crate is only `#[napi]` wrappers and conversions).
//!
//! One module per concern:
//! - `names` — file names checked against the platform's rules,
//!   `value` — the JSON tree (Arc-shared, JS key order, `JSON.stringify`-exact
//!   serializer, Merkle hashes), `path` — dot paths and JSON Pointers,
//!   `doc` — the document and RFC 6902 patches, `ops` — operations (planned
//!   again on the latest state when written) and change lists;
//! - `journal` — the log's line format, `log` — the journal shared by every
//!   process (OS lock, catch-up, checked replay, checkpoints, trimming,
//!   recovery at open), `checkpoint` — when a checkpoint starts and its
//!   preparation off the writer, `lockwait` — waiting for another process's
//!   lock in the OS, `store` — the live document, the writer thread,
//!   transactions, flush and close, `handle` — one `Store` instance's
//!   options and operations, `registry` — opening: files open in this process
//!   are found or added (`open_files` — the table of them);
//! - `history` — rollback planning, `backup` — verified backups,
//!   `schema` — JSON Schema with conf's messages (`serde_conv` — our JSON
//!   to and from serde_json's, for it and for `defaults`), `defaults` — the
//!   `defaults` option and schema defaults, applied as conf applies them,
//!   `deep` — a stack for the validator's recursion on deeply nested values;
//! - `fs` — the file-system seam (with a fault-injecting one for tests),
//!   `codec` — the seam every stored byte passes through, `clock` — where
//!   the watcher's and the writer's timing reads the time, `events` — the one
//!   sink background work reports to, `error` — the one error enum,
//!   `testing` — panic points for tests.

pub mod atomic;
pub mod backup;
pub mod checkpoint;
pub mod clock;
pub mod codec;
pub mod crypto;
pub mod deep;
pub mod defaults;
pub mod doc;
pub mod error;
pub mod events;
pub mod export;
pub mod fs;
pub mod handle;
pub mod history;
pub mod inspect;
pub mod journal;
pub mod layer;
pub mod lockwait;
pub mod log;
pub mod names;
mod open_files;
pub mod ops;
pub mod path;
pub mod registry;
pub mod schema;
mod serde_conv;
pub mod stats;
pub mod store;
pub mod testing;
pub mod value;
pub mod watch;

pub use error::{Code as ErrorCode, Error, JsClass, Result};
pub use handle::{Call, Handle, HandleOptions, RestorePlan};
pub use store::{Durability, StoreOptions};
