//! The core's one error type. Each variant maps to a stable `code` string that
//! the addon sets natively on the thrown JS error (`error.code`); argument
//! errors become `TypeError`s.

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

    /// A value or document nested deeper than the store's limit
    /// (`value::MAX_DEPTH` levels): a `RangeError` in JS, the class of the
    /// error V8's `JSON.stringify` gives electron-store for such a value.
    #[error("{0}")]
    TooDeep(String),

    /// A path that sets an array's `length` (a `RangeError` in JS, as
    /// electron-store throws it).
    #[error("{0}")]
    InvalidLength(String),

    /// The store file exists but is not a valid JSON object.
    #[error("The store file {path} is damaged ({detail}). It was left untouched; fix or remove it, or open with `clearInvalidConfig: true` to start from defaults (the damaged file is then kept beside it as {quarantine})")]
    Corrupt {
        path: PathBuf,
        detail: String,
        quarantine: String,
    },

    /// A file operation failed (the OS error is the source; `E_NOSPC` when the
    /// disk is full).
    #[error("{op} {path}: {source}")]
    Io {
        op: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// The store was opened read-only (its directory cannot be written), so it
    /// cannot be changed.
    #[error("{0}")]
    ReadOnly(String),

    /// Another process held the store's lock for too long.
    #[error("{0}")]
    Locked(String),

    /// The store was closed.
    #[error("The store is closed; create a new Store to use it again")]
    Closed,

    /// A journal record or patch could not be applied.
    #[error("Invalid patch: {0}")]
    BadPatch(String),

    /// An option or feature that this build does not support.
    #[error("{0}")]
    Unsupported(String),

    /// A second `Store` on a file already open in this process asked for a
    /// different value of an option that the file's one journal shares.
    #[error("{0}")]
    OptionConflict(String),

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

    /// A transaction was misused (nested, or committed when none is open).
    #[error("{0}")]
    Transaction(String),

    /// `update()` or `transaction()` called inside another one on the same
    /// store file in the same thread (it could only deadlock or break the
    /// outer one's atomicity).
    #[error("{0}")]
    Nested(String),

    /// `onNewerVersion: 'throw'`: the store was last migrated by a newer
    /// version of the app than the one opening it (nothing was changed).
    /// (Raised by the JS constructor, which knows the versions.)
    #[error("{0}")]
    NewerVersion(String),

    /// `onNewerVersion: 'read-only'`: a write to a store last migrated by a
    /// newer version of the app (nothing was changed). Not `E_READONLY`,
    /// which is a directory that cannot be written.
    #[error("{0}")]
    VersionReadOnly(String),

    /// The key for `secretKeys` / `encryptionKey` is missing, wrong, or cannot
    /// decrypt what the store holds (never a silently wrong value).
    #[error("{0}")]
    SecretKey(String),

    /// Watching the store's files stopped (the OS watcher failed, its thread
    /// ended, or the watched directory was removed). Reported as an event.
    #[error("{0}")]
    Watch(String),

    /// A bug: a panic was caught, or an invariant did not hold. The store stays
    /// usable (or was closed cleanly); the message says what happened.
    #[error("tad-store internal error: {0}")]
    Internal(String),
}

/// Raw OS error numbers of the failures the store names, for tests that
/// inject them ([`crate::fs::FaultPlan::errno`]): errno on Linux and macOS,
/// system error codes on Windows.
pub mod raw {
    /// The disk is full.
    #[cfg(unix)]
    pub const NO_SPACE: i32 = libc::ENOSPC;
    /// An I/O error of the device.
    #[cfg(unix)]
    pub const IO: i32 = libc::EIO;
    /// `ERROR_DISK_FULL`.
    #[cfg(windows)]
    pub const NO_SPACE: i32 = 112;
    /// `ERROR_IO_DEVICE`.
    #[cfg(windows)]
    pub const IO: i32 = 1117;
}

/// The OS error codes the JS error names: `ENOSPC`, `EIO`, ...
pub fn os_code(e: &std::io::Error) -> Option<&'static str> {
    use std::io::ErrorKind as K;
    #[cfg(unix)]
    if let Some(n) = e.raw_os_error() {
        let name = match n {
            libc::ENOSPC => "ENOSPC",
            libc::EIO => "EIO",
            libc::EDQUOT => "EDQUOT",
            libc::EROFS => "EROFS",
            libc::EACCES => "EACCES",
            libc::EPERM => "EPERM",
            libc::ENOENT => "ENOENT",
            libc::EEXIST => "EEXIST",
            libc::ENOTDIR => "ENOTDIR",
            libc::EISDIR => "EISDIR",
            libc::EMFILE => "EMFILE",
            libc::EBUSY => "EBUSY",
            libc::ENAMETOOLONG => "ENAMETOOLONG",
            libc::ELOOP => "ELOOP",
            libc::EXDEV => "EXDEV",
            libc::ENOTEMPTY => "ENOTEMPTY",
            _ => "",
        };
        if !name.is_empty() {
            return Some(name);
        }
    }
    // Windows codes (real, or from the simulated file system), named as
    // libuv names them for Node
    if let Some(code) = crate::fs::platform::windows_code(e) {
        use crate::fs::platform::win;
        let name = match code {
            win::ERROR_SHARING_VIOLATION
            | win::ERROR_LOCK_VIOLATION
            | win::ERROR_USER_MAPPED_FILE => Some("EBUSY"),
            win::ERROR_ACCESS_DENIED => Some("EPERM"),
            // ERROR_CRC, ERROR_IO_DEVICE, ERROR_DEVICE_HARDWARE_ERROR
            23 | 1117 | 483 => Some("EIO"),
            _ => None,
        };
        if name.is_some() {
            return name;
        }
    }
    Some(match e.kind() {
        K::StorageFull => "ENOSPC",
        K::QuotaExceeded => "EDQUOT",
        K::ReadOnlyFilesystem => "EROFS",
        K::PermissionDenied => "EACCES",
        K::NotFound => "ENOENT",
        K::AlreadyExists => "EEXIST",
        _ => return None,
    })
}

impl Error {
    /// The stable code exposed to JS as `error.code`.
    pub fn code(&self) -> &'static str {
        match self {
            Error::ForbiddenKey { .. } => "E_FORBIDDEN_KEY",
            Error::InvalidArgument(_) | Error::InvalidLength(_) => "E_INVALID_ARGUMENT",
            Error::TooDeep(_) => "E_TOO_DEEP",
            Error::Corrupt { .. } => "E_CORRUPT",
            Error::Io { source, .. } => match os_code(source) {
                Some("ENOSPC") | Some("EDQUOT") => "E_NOSPC",
                _ => "E_IO",
            },
            Error::ReadOnly(_) => "E_READONLY",
            Error::Locked(_) => "E_LOCKED",
            Error::Closed => "E_CLOSED",
            Error::BadPatch(_) => "E_JOURNAL",
            Error::Unsupported(_) => "E_UNSUPPORTED",
            Error::OptionConflict(_) => "E_OPTION_CONFLICT",
            Error::HistoryTruncated(_) => "E_HISTORY_TRUNCATED",
            Error::HistoryMismatch(_) => "E_HISTORY_MISMATCH",
            Error::BackupNotFound(_) => "E_BACKUP_NOT_FOUND",
            Error::BackupCorrupt(_) => "E_BACKUP_CORRUPT",
            Error::Schema(_) => "E_SCHEMA",
            Error::Transaction(_) => "E_TRANSACTION",
            Error::Nested(_) => "E_NESTED",
            Error::NewerVersion(_) => "E_NEWER_VERSION",
            Error::VersionReadOnly(_) => "E_READ_ONLY",
            Error::SecretKey(_) => "E_SECRET_KEY",
            Error::Watch(_) => "E_WATCH",
            Error::Internal(_) => "E_INTERNAL",
        }
    }

    /// Whether this is another program holding a file for a moment (Windows:
    /// a sharing violation from antivirus, backup or indexing software): worth
    /// waiting out, see `fs::platform::is_transient`.
    pub fn is_transient(&self) -> bool {
        matches!(self, Error::Io { source, .. } if crate::fs::platform::is_transient(source))
    }

    /// Whether JS should see this as a `TypeError` (a bad argument).
    pub fn is_type_error(&self) -> bool {
        matches!(self, Error::ForbiddenKey { .. } | Error::InvalidArgument(_))
    }

    /// Whether JS should see this as a `RangeError`.
    pub fn is_range_error(&self) -> bool {
        matches!(self, Error::InvalidLength(_) | Error::TooDeep(_))
    }

    /// The OS error behind an I/O failure: `(code such as "ENOSPC", errno, message)`.
    pub fn os_cause(&self) -> Option<(Option<&'static str>, Option<i32>, String)> {
        match self {
            Error::Io { source, .. } => Some((
                os_code(source),
                source
                    .raw_os_error()
                    .or_else(|| crate::fs::platform::windows_code(source).map(|c| c as i32)),
                source.to_string(),
            )),
            _ => None,
        }
    }

    /// The path an I/O failure was about.
    pub fn path(&self) -> Option<&std::path::Path> {
        match self {
            Error::Io { path, .. } | Error::Corrupt { path, .. } => Some(path),
            _ => None,
        }
    }

    /// Helper to wrap an `io::Error` with what was being done and to which path.
    pub fn io(op: &'static str, path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Error {
        let path = path.into();
        move |source| Error::Io { op, path, source }
    }

    /// A copy of this error for a second recipient (errors travel from the
    /// writer thread to every caller waiting on the same write).
    pub fn duplicate(&self) -> Error {
        match self {
            Error::ForbiddenKey { key, segment } => Error::ForbiddenKey {
                key: key.clone(),
                segment: segment.clone(),
            },
            Error::InvalidArgument(m) => Error::InvalidArgument(m.clone()),
            Error::InvalidLength(m) => Error::InvalidLength(m.clone()),
            Error::TooDeep(m) => Error::TooDeep(m.clone()),
            Error::Corrupt {
                path,
                detail,
                quarantine,
            } => Error::Corrupt {
                path: path.clone(),
                detail: detail.clone(),
                quarantine: quarantine.clone(),
            },
            Error::Io { op, path, source } => Error::Io {
                op,
                path: path.clone(),
                source: match source.raw_os_error() {
                    Some(n) => std::io::Error::from_raw_os_error(n),
                    // a simulated Windows error stays one (it is classified)
                    None => match crate::fs::platform::windows_code(source) {
                        Some(code) => crate::fs::platform::win_error(code),
                        None => std::io::Error::new(source.kind(), source.to_string()),
                    },
                },
            },
            Error::ReadOnly(m) => Error::ReadOnly(m.clone()),
            Error::Locked(m) => Error::Locked(m.clone()),
            Error::Closed => Error::Closed,
            Error::BadPatch(m) => Error::BadPatch(m.clone()),
            Error::Unsupported(m) => Error::Unsupported(m.clone()),
            Error::OptionConflict(m) => Error::OptionConflict(m.clone()),
            Error::HistoryTruncated(m) => Error::HistoryTruncated(m.clone()),
            Error::HistoryMismatch(m) => Error::HistoryMismatch(m.clone()),
            Error::BackupNotFound(m) => Error::BackupNotFound(m.clone()),
            Error::BackupCorrupt(m) => Error::BackupCorrupt(m.clone()),
            Error::Schema(m) => Error::Schema(m.clone()),
            Error::Transaction(m) => Error::Transaction(m.clone()),
            Error::SecretKey(m) => Error::SecretKey(m.clone()),
            Error::Watch(m) => Error::Watch(m.clone()),
            Error::Nested(m) => Error::Nested(m.clone()),
            Error::NewerVersion(m) => Error::NewerVersion(m.clone()),
            Error::VersionReadOnly(m) => Error::VersionReadOnly(m.clone()),
            Error::Internal(m) => Error::Internal(m.clone()),
        }
    }

    /// An error for a caught panic.
    pub fn from_panic(payload: &(dyn std::any::Any + Send), during: &str) -> Error {
        let what = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".into());
        Error::Internal(format!("a panic during {during} was caught ({what})"))
    }
}
