//! What a log is opened with, and the document file and entries it tracks.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::codec::Codec;
use crate::doc::Change;
use crate::fs::FileSystem;

/// Where the log lives and how it writes.
#[derive(Clone)]
pub struct LogConfig {
    pub fs: Arc<dyn FileSystem>,
    pub codec: Arc<dyn Codec>,
    /// The document file (symlinks already resolved: writes go to the target).
    pub doc_path: PathBuf,
    /// `storeHistory/`: the journal, the lock file, migration snapshots.
    pub history_dir: PathBuf,
    /// Backups (used to rebuild a damaged or missing document).
    pub backup_dir: PathBuf,
    /// Mode of every file created.
    pub mode: u32,
    /// Change entries kept once they are in the document file.
    pub history_max: usize,
    /// Start from an empty document when the file is damaged and cannot be
    /// rebuilt (the damaged file is kept aside).
    pub clear_invalid_config: bool,
    /// Write the document as compact JSON (`serialize: JSON.stringify`)
    /// instead of electron-store's tab-indented JSON.
    pub compact: bool,
    /// How long waiting callers let another program hold a file before they
    /// get its error (`store::BUSY_PATIENCE`).
    pub busy_patience: Duration,
}

impl LogConfig {
    /// The document file's name (backups record it as `originalFile`).
    pub fn file_name(&self) -> String {
        self.doc_path
            .file_name()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "config".into())
    }

    /// `storeHistory/<file>.journal`
    pub fn journal_path(&self) -> PathBuf {
        self.history_dir
            .join(format!("{}.journal", self.file_name()))
    }

    /// `storeHistory/<file>.lock`: never replaced, so every process locks the
    /// same file even while the journal is trimmed.
    pub fn lock_path(&self) -> PathBuf {
        self.history_dir.join(format!("{}.lock", self.file_name()))
    }

    /// Migration snapshots: `storeHistory/migrations/`.
    pub fn migration_dir(&self) -> PathBuf {
        self.history_dir.join("migrations")
    }
}

/// The document file as the log last knew it.
#[derive(Clone, Debug, Default)]
pub struct FileState {
    /// The file holds the state after this change (`None`: not known to
    /// correspond to any change, e.g. a brand-new store).
    pub seq: Option<u64>,
    /// SHA-256 of its stored bytes.
    pub sha: Option<String>,
    /// Merkle hash of its document.
    pub merkle: Option<String>,
    pub len: usize,
    /// A checkpoint line names this file (it may be missing when appending
    /// the line failed after the file was written).
    pub recorded: bool,
}

/// A change entry to append, planned by the caller.
pub struct NewEntry<'a> {
    pub ts: f64,
    pub op: &'a str,
    pub keys: &'a [String],
    pub change: &'a Change,
    pub reversible: bool,
}
