//! The core's one error type. Each variant maps to a stable `code` string that
//! the JS layer puts on the thrown error; argument errors become `TypeError`s.

use std::path::PathBuf;

/// Result alias for the core.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in the store core.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A key contains `__proto__`, `prototype` or `constructor` as a segment.
    #[error("Key `{key}` contains the forbidden segment `{segment}` (prototype pollution guard); rename the key")]
    ForbiddenKey { key: String, segment: String },

    /// A caller passed an argument of the wrong shape.
    #[error("{0}")]
    InvalidArgument(String),

    /// The store file exists but is not a valid JSON object.
    #[error("The store file {path} is damaged ({detail}). It was left untouched; fix or remove it, or open with `clearInvalidConfig: true` to start from defaults (the damaged file is then kept beside it as {quarantine})")]
    Corrupt {
        path: PathBuf,
        detail: String,
        quarantine: String,
    },

    /// A file operation failed.
    #[error("{op} {path}: {source}")]
    Io {
        op: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// The store was closed.
    #[error("The store is closed; create a new Store to use it again")]
    Closed,

    /// A journal record or patch could not be applied.
    #[error("Invalid patch: {0}")]
    BadPatch(String),

    /// An option or feature that this build does not support.
    #[error("{0}")]
    Unsupported(String),

    /// A rollback target is older than the kept history (or behind a change that
    /// cannot be undone).
    #[error("{0}")]
    HistoryTruncated(String),

    /// A rollback did not reach the recorded state; nothing was changed.
    #[error("{0}")]
    HistoryMismatch(String),

    /// No such backup in the backup directory (or the name points elsewhere).
    #[error("{0}")]
    BackupNotFound(String),

    /// A backup's content does not match its recorded hash, or does not parse.
    #[error("{0}")]
    BackupCorrupt(String),

    /// A value or document does not satisfy the schema.
    #[error("{0}")]
    Schema(String),

    /// The background writer failed; the message says why.
    #[error("The background writer failed: {0}. Changes after the failure are kept in memory only; call flush() to retry")]
    Writer(String),
}

impl Error {
    /// The stable code exposed to JS as `error.code`.
    pub fn code(&self) -> &'static str {
        match self {
            Error::ForbiddenKey { .. } => "E_FORBIDDEN_KEY",
            Error::InvalidArgument(_) => "E_INVALID_ARGUMENT",
            Error::Corrupt { .. } => "E_CORRUPT",
            Error::Io { .. } => "E_IO",
            Error::Closed => "E_CLOSED",
            Error::BadPatch(_) => "E_JOURNAL",
            Error::Unsupported(_) => "E_UNSUPPORTED",
            Error::Writer(_) => "E_IO",
            Error::HistoryTruncated(_) => "E_HISTORY_TRUNCATED",
            Error::HistoryMismatch(_) => "E_HISTORY_MISMATCH",
            Error::BackupNotFound(_) => "E_BACKUP_NOT_FOUND",
            Error::BackupCorrupt(_) => "E_BACKUP_CORRUPT",
            Error::Schema(_) => "E_SCHEMA",
        }
    }

    /// Whether JS should see this as a `TypeError` (a bad argument).
    pub fn is_type_error(&self) -> bool {
        matches!(self, Error::ForbiddenKey { .. } | Error::InvalidArgument(_))
    }

    /// Helper to wrap an `io::Error` with what was being done and to which path.
    pub fn io(op: &'static str, path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Error {
        let path = path.into();
        move |source| Error::Io { op, path, source }
    }
}
