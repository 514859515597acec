//! tad-store: a native, crash-safe, electron-store compatible settings store.
//!
//! The core modules are plain Rust (no napi) and tested with `cargo test`;
//! `binding` is the thin Node-API layer.

pub mod doc;
pub mod error;
pub mod fsutil;
pub mod journal;
pub mod path;
pub mod store;
pub mod value;

mod binding;
