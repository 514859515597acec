//! What opening, catching up and re-encrypting report.

use std::path::PathBuf;

use crate::error::Error;

/// What re-encrypting a store's files did (`Log::reseal`).
#[derive(Debug, Default)]
pub struct Resealed {
    /// Change entries in the journal, re-encrypted.
    pub journal_entries: usize,
    pub backups: usize,
    pub snapshots: usize,
    /// Quarantined copies (damaged or refused files kept aside).
    pub quarantined: usize,
    /// Files left as they were, and why.
    pub failed: Vec<(PathBuf, Error)>,
}

/// What opening found.
#[derive(Clone, Debug, Default)]
pub struct OpenReport {
    /// A copy of the damaged store file was kept here.
    pub quarantined: Option<PathBuf>,
    /// Journal changes re-applied because the document file did not hold them yet.
    pub replayed: usize,
    /// The document file was changed by something else since our last write.
    pub external_edit: bool,
    /// Damage found in the journal (the damaged part is kept aside).
    pub journal_damage: Option<String>,
    /// How a damaged or missing store file was rebuilt (history or a backup).
    pub recovered: Option<String>,
    /// The store file was missing although the journal has changes.
    pub missing_file: bool,
    /// The store's directory cannot be written: it is open for reading only.
    pub read_only: bool,
    /// Temp files left by crashed processes that were removed.
    pub temps_removed: usize,
    /// The store file held bytes that are not UTF-8 (say, saved by a Latin-1
    /// editor): they were read as U+FFFD, as electron-store reads them, and the
    /// file is left as it is until the next write.
    pub invalid_utf8: bool,
}

/// What catching up did.
#[derive(Clone, Copy, Debug, Default)]
pub struct CaughtUp {
    /// Changes of other processes applied.
    pub applied: usize,
    /// The whole state was reloaded from the document file.
    pub reloaded: bool,
}

impl CaughtUp {
    pub fn changed(&self) -> bool {
        self.applied > 0 || self.reloaded
    }
}
