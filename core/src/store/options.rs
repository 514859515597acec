//! What opening a store takes, who makes a change, and what status reports.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use super::state::BUSY_PATIENCE;
use crate::codec::{Codec, Plain};
use crate::defaults::Defaults;
use crate::fs::{FileSystem, RealFs};
use crate::schema::Schema;

/// Who makes a change: the `Store` instance (its open transaction collects
/// its operations) and the JS environment it belongs to (the main thread or a
/// worker thread; the other environments with the file open hear of the
/// change as an event, as of another process's). `Author::CORE` is the core
/// itself (the watcher applying another program's edit), whose caller reports
/// the change.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Author {
    /// The instance (`Handle::id`); 0 for none.
    pub handle: u64,
    /// The JS environment; 0 outside JS (tests, the core itself).
    pub env: u64,
}

impl Author {
    pub const CORE: Author = Author { handle: 0, env: 0 };
}

/// When a change returns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Durability {
    /// At once; the background writer makes it durable right away.
    Deferred,
    /// Once it is durable (fsync'd in the journal).
    Sync,
}

/// Everything needed to open a store (per file, and per `Store` instance).
#[derive(Clone)]
pub struct StoreOptions {
    /// The document file (`<cwd>/<name>.<ext>`).
    pub path: PathBuf,
    /// Directory of the journal (`<cwd>/storeHistory`). Shared by every
    /// instance on the file.
    pub history_dir: PathBuf,
    /// Change entries kept once checkpointed. Shared.
    pub history_max: usize,
    /// Mode of every file the store creates. Shared.
    pub mode: u32,
    /// Start from an empty document when the file is damaged (it is kept aside).
    pub clear_invalid_config: bool,
    /// Per instance: when `set` returns.
    pub durability: Durability,
    /// Per instance: keys are dot paths.
    pub dot_notation: bool,
    /// Per instance: every change is checked against it before anything is
    /// written.
    pub schema: Option<Arc<Schema>>,
    /// Per instance: the `defaults` option and the schema's defaults, which
    /// every change re-applies as conf does (see `defaults`).
    pub defaults: Arc<Defaults>,
    /// Per instance: `defaultsLayer` — `defaults` and schema defaults are
    /// read through, never written (see `layer`).
    pub defaults_layer: bool,
    /// Per instance: backups.
    pub backup_dir: PathBuf,
    pub max_backups: usize,
    /// Per instance: the JS environment that opens it (see [`Author`]); 0
    /// outside JS.
    pub env: u64,
    /// The file system (tests inject faults here).
    pub fs: Arc<dyn FileSystem>,
    /// How bytes are stored (shared).
    pub codec: Arc<dyn Codec>,
    /// The document as compact JSON (`serialize: JSON.stringify`). Shared.
    pub compact: bool,
    /// How long `flush()`, `close()` and sync changes wait out another
    /// program's hold on a file before failing with its error. Shared.
    pub busy_patience: Duration,
}

impl StoreOptions {
    pub fn new(path: impl Into<PathBuf>) -> StoreOptions {
        let path = path.into();
        let dir = crate::fs::parent_of(&path).to_path_buf();
        StoreOptions {
            history_dir: dir.join(crate::names::HISTORY_DIR),
            backup_dir: dir.join(crate::names::BACKUP_DIR),
            path,
            history_max: 100,
            mode: 0o600,
            clear_invalid_config: false,
            compact: false,
            durability: Durability::Deferred,
            dot_notation: true,
            schema: None,
            defaults: Arc::default(),
            defaults_layer: false,
            max_backups: 10,
            env: 0,
            fs: Arc::new(RealFs),
            codec: Arc::new(Plain),
            busy_patience: BUSY_PATIENCE,
        }
    }
}

/// Counters for the info/health surface.
#[derive(Clone, Debug, Default)]
pub struct Status {
    /// The latest change this process knows (global seq).
    pub seq: u64,
    /// Every change this process made so far up to here is durable.
    pub durable_seq: u64,
    /// The document file holds the state after this change.
    pub checkpointed_seq: u64,
    /// Changes made here and not yet durable (queued, being written, or in an
    /// open transaction).
    pub pending: usize,
    pub journal_bytes: u64,
    /// Journal bytes a process opening the store now would replay: from the
    /// first change the document file does not hold (what schedules a
    /// checkpoint by journal size).
    pub replay_bytes: u64,
    /// The current write failure, if any (`(code, message)`).
    pub writer_error: Option<(&'static str, String)>,
    pub checkpoints: u64,
    pub last_checkpoint_ms: f64,
    pub history_entries: u64,
    pub read_only: bool,
    /// Damage found while catching up with other processes.
    pub journal_damage: Option<String>,
    /// Why the journal could not be trimmed at the last checkpoint (retried at
    /// the next; the journal grows meanwhile).
    pub journal_trim_error: Option<(&'static str, String)>,
}
