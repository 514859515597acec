//! tad-store: a native, crash-safe, electron-store compatible settings store.
//!
//! The core modules are plain Rust (no napi) and tested with `cargo test`;
//! `binding` is the thin Node-API layer.

pub mod backup;
pub mod doc;
pub mod error;
pub mod fsutil;
pub mod history;
pub mod journal;
pub mod path;
pub mod schema;
pub mod store;
pub mod value;

#[cfg_attr(test, allow(dead_code))]
mod binding;

/// mimalloc: the journal lines are allocated on the JS thread and freed on the
/// writer thread; glibc's malloc serializes that on an arena lock (seen in perf).
#[cfg(feature = "mimalloc")]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
