//! `faults.rs` — the fault-injection tests — run as they are over the simulated Windows file
//! system (`tad_store_core::fs::sim`, a FAT/exFAT or SMB volume): an open file
//! cannot be renamed over or deleted, no directory fsync, no inode numbers,
//! 2 s timestamps, case-insensitive names, ACLs instead of modes. Every store
//! a test opens, as one process or several, shares that one machine
//! (`common::on_windows`).

#[path = "faults.rs"]
mod on_windows;
