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

/// The stable `code` of every error tad-store reports, the one list of them:
/// the core's errors map to one each ([`Error::kind`]); the JS side mints the
/// others (origin other than `"core"`) from this same list — the addon
/// exports it as `errorCodes()`, `lib/errors.js` refuses a code not in it,
/// and a test checks the typings' unions and every code literal in the JS
/// sources against it. Adding a code: a variant here, its arms below, then
/// `npm run gen:error-codes` (after a build) regenerates the typings' union
/// (`scripts/error-codes.js`; its `--check` fails CI on drift).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Code {
    /// `E_INVALID_ARGUMENT`: An argument or option of the wrong shape (a TypeError; a RangeError for an array `length` path).
    InvalidArgument,
    /// `E_FORBIDDEN_KEY`: A key with a `__proto__`, `prototype` or `constructor` segment, or one a renderer may not use.
    ForbiddenKey,
    /// `E_TOO_DEEP`: A value or file nested deeper than the store's limit.
    TooDeep,
    /// `E_CORRUPT`: The store file exists but is not a valid JSON object.
    Corrupt,
    /// `E_IO`: A file operation failed (the OS error is `cause`, the file `path`).
    Io,
    /// `E_NOSPC`: The disk (or quota) is full.
    NoSpace,
    /// `E_READONLY`: The store was opened read-only: it cannot be changed.
    ReadOnly,
    /// `E_LOCKED`: Another process held the store's lock for too long.
    Locked,
    /// `E_CLOSED`: The store is closed.
    Closed,
    /// `E_JOURNAL`: A journal record or patch could not be applied.
    Journal,
    /// `E_UNSUPPORTED`: An option or feature this build (or this process) does not support.
    Unsupported,
    /// `E_OPTION_CONFLICT`: A second Store on an open file asked for a different value of a shared option.
    OptionConflict,
    /// `E_HISTORY_TRUNCATED`: A rollback target is older than the kept history.
    HistoryTruncated,
    /// `E_HISTORY_MISMATCH`: A rollback did not reach the recorded state; nothing was changed.
    HistoryMismatch,
    /// `E_BACKUP_NOT_FOUND`: No such backup.
    BackupNotFound,
    /// `E_BACKUP_CORRUPT`: A backup does not match its recorded hash, or does not parse.
    BackupCorrupt,
    /// `E_SCHEMA`: A value or document does not satisfy the schema.
    Schema,
    /// `E_TRANSACTION`: A transaction was misused.
    Transaction,
    /// `E_NESTED`: `update()` or `transaction()` inside another one on the same store file and thread.
    Nested,
    /// `E_NEWER_VERSION`: The store was last migrated by a newer app version (`onNewerVersion: 'throw'`); nothing was changed.
    NewerVersion,
    /// `E_READ_ONLY`: A write to a store last migrated by a newer app version (`onNewerVersion: 'read-only'`); nothing was changed.
    VersionReadOnly,
    /// `E_SECRET_KEY`: The key for `secretKeys` / `encryptionKey` is missing, wrong, or cannot decrypt the store.
    SecretKey,
    /// `E_WATCH`: Watching the store's files stopped (an 'error' event).
    Watch,
    /// `E_INTERNAL`: A bug: a panic was caught, or an invariant did not hold.
    Internal,
    /// `E_OPTION`: An option cannot be resolved here (e.g. no `cwd` in an Electron worker).
    Option,
    /// `E_MIGRATION`: A migration step threw; the store was left as it was (`cause`, `migration`).
    Migration,
    /// `E_SERIALIZE`: Writing the file through a custom `serialize` failed (an 'error' event; the change is kept).
    Serialize,
    /// `E_FORBIDDEN_SENDER`: An IPC call from a sender the main process refuses.
    ForbiddenSender,
    /// `E_TOO_LARGE`: A renderer's value is larger than the IPC limit.
    TooLarge,
    /// `E_SAFE_STORAGE`: Electron's safeStorage cannot protect or open the store's key.
    SafeStorage,
    /// `E_NOT_READY`: A renderer store read before its cache was loaded.
    NotReady,
    /// `E_NO_STORE_API`: The renderer has no store API (the preload did not expose it).
    NoStoreApi,
    /// `E_PROTOCOL`: A renderer and main process that do not speak the same protocol.
    Protocol,
    /// `E_NATIVE_LOAD`: The native addon exists but could not be loaded.
    NativeLoad,
    /// `E_USAGE`: The support command was given an unknown command or option, or a missing or malformed argument.
    Usage,
    /// `E_STORE_NOT_FOUND`: The support command found no store file and no journal at the path it was given.
    StoreNotFound,
    /// `E_FILE_MISSING`: A verification found the store file missing while its journal is there (the next open rebuilds it).
    FileMissing,
    /// `E_VERIFY_FAILED`: The support command's `verify` found something that does not verify and is not damage.
    VerifyFailed,
    /// `E_NATIVE_MISSING`: The native addon for this platform is not installed.
    NativeMissing,
    /// `E_UNSUPPORTED_PLATFORM`: No prebuilt native addon for this platform.
    UnsupportedPlatform,
}

/// The class of the JS error made for a code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JsClass {
    Error,
    TypeError,
    RangeError,
}

impl JsClass {
    pub fn as_str(self) -> &'static str {
        match self {
            JsClass::Error => "Error",
            JsClass::TypeError => "TypeError",
            JsClass::RangeError => "RangeError",
        }
    }
}

impl Code {
    /// Every code, in a stable order.
    pub const ALL: &'static [Code] = &[
        Code::InvalidArgument,
        Code::ForbiddenKey,
        Code::TooDeep,
        Code::Corrupt,
        Code::Io,
        Code::NoSpace,
        Code::ReadOnly,
        Code::Locked,
        Code::Closed,
        Code::Journal,
        Code::Unsupported,
        Code::OptionConflict,
        Code::HistoryTruncated,
        Code::HistoryMismatch,
        Code::BackupNotFound,
        Code::BackupCorrupt,
        Code::Schema,
        Code::Transaction,
        Code::Nested,
        Code::NewerVersion,
        Code::VersionReadOnly,
        Code::SecretKey,
        Code::Watch,
        Code::Internal,
        Code::Option,
        Code::Migration,
        Code::Serialize,
        Code::ForbiddenSender,
        Code::TooLarge,
        Code::SafeStorage,
        Code::NotReady,
        Code::NoStoreApi,
        Code::Protocol,
        Code::NativeLoad,
        Code::NativeMissing,
        Code::UnsupportedPlatform,
        Code::Usage,
        Code::StoreNotFound,
        Code::FileMissing,
        Code::VerifyFailed,
    ];

    /// The string JS sees as `error.code`.
    pub fn as_str(self) -> &'static str {
        match self {
            Code::InvalidArgument => "E_INVALID_ARGUMENT",
            Code::ForbiddenKey => "E_FORBIDDEN_KEY",
            Code::Usage => "E_USAGE",
            Code::StoreNotFound => "E_STORE_NOT_FOUND",
            Code::FileMissing => "E_FILE_MISSING",
            Code::VerifyFailed => "E_VERIFY_FAILED",
            Code::TooDeep => "E_TOO_DEEP",
            Code::Corrupt => "E_CORRUPT",
            Code::Io => "E_IO",
            Code::NoSpace => "E_NOSPC",
            Code::ReadOnly => "E_READONLY",
            Code::Locked => "E_LOCKED",
            Code::Closed => "E_CLOSED",
            Code::Journal => "E_JOURNAL",
            Code::Unsupported => "E_UNSUPPORTED",
            Code::OptionConflict => "E_OPTION_CONFLICT",
            Code::HistoryTruncated => "E_HISTORY_TRUNCATED",
            Code::HistoryMismatch => "E_HISTORY_MISMATCH",
            Code::BackupNotFound => "E_BACKUP_NOT_FOUND",
            Code::BackupCorrupt => "E_BACKUP_CORRUPT",
            Code::Schema => "E_SCHEMA",
            Code::Transaction => "E_TRANSACTION",
            Code::Nested => "E_NESTED",
            Code::NewerVersion => "E_NEWER_VERSION",
            Code::VersionReadOnly => "E_READ_ONLY",
            Code::SecretKey => "E_SECRET_KEY",
            Code::Watch => "E_WATCH",
            Code::Internal => "E_INTERNAL",
            Code::Option => "E_OPTION",
            Code::Migration => "E_MIGRATION",
            Code::Serialize => "E_SERIALIZE",
            Code::ForbiddenSender => "E_FORBIDDEN_SENDER",
            Code::TooLarge => "E_TOO_LARGE",
            Code::SafeStorage => "E_SAFE_STORAGE",
            Code::NotReady => "E_NOT_READY",
            Code::NoStoreApi => "E_NO_STORE_API",
            Code::Protocol => "E_PROTOCOL",
            Code::NativeLoad => "E_NATIVE_LOAD",
            Code::NativeMissing => "E_NATIVE_MISSING",
            Code::UnsupportedPlatform => "E_UNSUPPORTED_PLATFORM",
        }
    }

    /// The class of the JS error for this code (an [`Error`] may differ:
    /// `InvalidLength` is `E_INVALID_ARGUMENT` as a `RangeError`).
    pub fn class(self) -> JsClass {
        match self {
            Code::InvalidArgument | Code::ForbiddenKey => JsClass::TypeError,
            Code::TooDeep => JsClass::RangeError,
            _ => JsClass::Error,
        }
    }

    /// Which part of tad-store reports it: `"core"` (an [`Error`]), `"store"`
    /// (the JS `Store`), `"ipc"`, `"safe-storage"`, `"renderer"`, `"loader"`
    /// (the addon could not be loaded: minted before this list is reachable),
    /// `"cli"` (the support command, `bin/tad-store.js`).
    pub fn origin(self) -> &'static str {
        match self {
            Code::InvalidArgument
            | Code::ForbiddenKey
            | Code::TooDeep
            | Code::Corrupt
            | Code::Io
            | Code::NoSpace
            | Code::ReadOnly
            | Code::Locked
            | Code::Closed
            | Code::Journal
            | Code::Unsupported
            | Code::OptionConflict
            | Code::HistoryTruncated
            | Code::HistoryMismatch
            | Code::BackupNotFound
            | Code::BackupCorrupt
            | Code::Schema
            | Code::Transaction
            | Code::Nested
            | Code::SecretKey
            | Code::Watch
            | Code::Internal => "core",
            Code::Option
            | Code::Migration
            | Code::Serialize
            | Code::NewerVersion
            | Code::VersionReadOnly => "store",
            Code::ForbiddenSender | Code::TooLarge => "ipc",
            Code::SafeStorage => "safe-storage",
            Code::NotReady | Code::NoStoreApi | Code::Protocol => "renderer",
            Code::NativeLoad | Code::NativeMissing | Code::UnsupportedPlatform => "loader",
            Code::Usage | Code::StoreNotFound | Code::FileMissing | Code::VerifyFailed => "cli",
        }
    }

    /// One line on what it means.
    pub fn summary(self) -> &'static str {
        match self {
            Code::InvalidArgument => {
                r#"An argument or option of the wrong shape (a TypeError; a RangeError for an array `length` path)."#
            }
            Code::ForbiddenKey => {
                r#"A key with a `__proto__`, `prototype` or `constructor` segment, or one a renderer may not use."#
            }
            Code::TooDeep => r#"A value or file nested deeper than the store's limit."#,
            Code::Corrupt => r#"The store file exists but is not a valid JSON object."#,
            Code::Io => r#"A file operation failed (the OS error is `cause`, the file `path`)."#,
            Code::NoSpace => r#"The disk (or quota) is full."#,
            Code::ReadOnly => r#"The store was opened read-only: it cannot be changed."#,
            Code::Locked => r#"Another process held the store's lock for too long."#,
            Code::Closed => r#"The store is closed."#,
            Code::Journal => r#"A journal record or patch could not be applied."#,
            Code::Unsupported => {
                r#"An option or feature this build (or this process) does not support."#
            }
            Code::OptionConflict => {
                r#"A second Store on an open file asked for a different value of a shared option."#
            }
            Code::HistoryTruncated => r#"A rollback target is older than the kept history."#,
            Code::HistoryMismatch => {
                r#"A rollback did not reach the recorded state; nothing was changed."#
            }
            Code::BackupNotFound => r#"No such backup."#,
            Code::BackupCorrupt => {
                r#"A backup does not match its recorded hash, or does not parse."#
            }
            Code::Schema => r#"A value or document does not satisfy the schema."#,
            Code::Transaction => r#"A transaction was misused."#,
            Code::Nested => {
                r#"`update()` or `transaction()` inside another one on the same store file and thread."#
            }
            Code::NewerVersion => {
                r#"The store was last migrated by a newer app version (`onNewerVersion: 'throw'`); nothing was changed."#
            }
            Code::VersionReadOnly => {
                r#"A write to a store last migrated by a newer app version (`onNewerVersion: 'read-only'`); nothing was changed."#
            }
            Code::SecretKey => {
                r#"The key for `secretKeys` / `encryptionKey` is missing, wrong, or cannot decrypt the store."#
            }
            Code::Watch => r#"Watching the store's files stopped (an 'error' event)."#,
            Code::Internal => r#"A bug: a panic was caught, or an invariant did not hold."#,
            Code::Option => {
                r#"An option cannot be resolved here (e.g. no `cwd` in an Electron worker)."#
            }
            Code::Migration => {
                r#"A migration step threw; the store was left as it was (`cause`, `migration`)."#
            }
            Code::Serialize => {
                r#"Writing the file through a custom `serialize` failed (an 'error' event; the change is kept)."#
            }
            Code::ForbiddenSender => r#"An IPC call from a sender the main process refuses."#,
            Code::TooLarge => r#"A renderer's value is larger than the IPC limit."#,
            Code::SafeStorage => {
                r#"Electron's safeStorage cannot protect or open the store's key."#
            }
            Code::NotReady => r#"A renderer store read before its cache was loaded."#,
            Code::NoStoreApi => r#"The renderer has no store API (the preload did not expose it)."#,
            Code::Protocol => r#"A renderer and main process that do not speak the same protocol."#,
            Code::NativeLoad => r#"The native addon exists but could not be loaded."#,
            Code::NativeMissing => r#"The native addon for this platform is not installed."#,
            Code::UnsupportedPlatform => r#"No prebuilt native addon for this platform."#,
            Code::Usage => {
                r#"The support command was given an unknown command or option, or a missing or malformed argument."#
            }
            Code::StoreNotFound => {
                r#"The support command found no store file and no journal at the path it was given."#
            }
            Code::FileMissing => {
                r#"A verification found the store file missing while its journal is there (the next open rebuilds it)."#
            }
            Code::VerifyFailed => {
                r#"The support command's `verify` found something that does not verify and is not damage."#
            }
        }
    }
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
        self.kind().as_str()
    }

    /// This error's entry in the one list of codes.
    pub fn kind(&self) -> Code {
        match self {
            Error::ForbiddenKey { .. } => Code::ForbiddenKey,
            Error::InvalidArgument(_) | Error::InvalidLength(_) => Code::InvalidArgument,
            Error::TooDeep(_) => Code::TooDeep,
            Error::Corrupt { .. } => Code::Corrupt,
            Error::Io { source, .. } => match os_code(source) {
                Some("ENOSPC") | Some("EDQUOT") => Code::NoSpace,
                _ => Code::Io,
            },
            Error::ReadOnly(_) => Code::ReadOnly,
            Error::Locked(_) => Code::Locked,
            Error::Closed => Code::Closed,
            Error::BadPatch(_) => Code::Journal,
            Error::Unsupported(_) => Code::Unsupported,
            Error::OptionConflict(_) => Code::OptionConflict,
            Error::HistoryTruncated(_) => Code::HistoryTruncated,
            Error::HistoryMismatch(_) => Code::HistoryMismatch,
            Error::BackupNotFound(_) => Code::BackupNotFound,
            Error::BackupCorrupt(_) => Code::BackupCorrupt,
            Error::Schema(_) => Code::Schema,
            Error::Transaction(_) => Code::Transaction,
            Error::Nested(_) => Code::Nested,
            Error::SecretKey(_) => Code::SecretKey,
            Error::Watch(_) => Code::Watch,
            Error::Internal(_) => Code::Internal,
        }
    }

    /// The class of the JS error for this error.
    pub fn class(&self) -> JsClass {
        match self {
            Error::InvalidLength(_) => JsClass::RangeError,
            _ => self.kind().class(),
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
        self.class() == JsClass::TypeError
    }

    /// Whether JS should see this as a `RangeError`.
    pub fn is_range_error(&self) -> bool {
        self.class() == JsClass::RangeError
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    /// One of each variant (a new variant that is not listed here fails to
    /// compile in `duplicate` first, then is missed here by review).
    fn samples() -> Vec<Error> {
        let io = |n| Error::Io {
            op: "write",
            path: "f".into(),
            source: std::io::Error::from_raw_os_error(n),
        };
        vec![
            Error::ForbiddenKey {
                key: "a".into(),
                segment: "__proto__".into(),
            },
            Error::InvalidArgument("x".into()),
            Error::TooDeep("x".into()),
            Error::InvalidLength("x".into()),
            Error::Corrupt {
                path: "f".into(),
                detail: "d".into(),
                quarantine: "q".into(),
            },
            io(raw::IO),
            io(raw::NO_SPACE),
            Error::ReadOnly("x".into()),
            Error::Locked("x".into()),
            Error::Closed,
            Error::BadPatch("x".into()),
            Error::Unsupported("x".into()),
            Error::OptionConflict("x".into()),
            Error::HistoryTruncated("x".into()),
            Error::HistoryMismatch("x".into()),
            Error::BackupNotFound("x".into()),
            Error::BackupCorrupt("x".into()),
            Error::Schema("x".into()),
            Error::Transaction("x".into()),
            Error::Nested("x".into()),
            Error::SecretKey("x".into()),
            Error::Watch("x".into()),
            Error::Internal("x".into()),
        ]
    }

    #[test]
    fn every_core_error_has_a_listed_core_code() {
        let mut seen = HashSet::new();
        for e in samples() {
            let k = e.kind();
            assert!(Code::ALL.contains(&k), "{k:?} is not in Code::ALL");
            assert_eq!(k.origin(), "core", "{k:?}");
            assert_eq!(e.code(), k.as_str());
            seen.insert(k);
        }
        // every core code is reachable from some error
        for c in Code::ALL.iter().filter(|c| c.origin() == "core") {
            assert!(seen.contains(c), "no core error has {c:?}");
        }
        assert_eq!(io_nospc().code(), "E_NOSPC");
    }

    fn io_nospc() -> Error {
        Error::Io {
            op: "write",
            path: "f".into(),
            source: std::io::Error::from_raw_os_error(raw::NO_SPACE),
        }
    }

    #[test]
    fn codes_are_unique_and_well_formed() {
        let mut strings = HashSet::new();
        for c in Code::ALL {
            let s = c.as_str();
            assert!(
                s.starts_with("E_") && s[2..].bytes().all(|b| b.is_ascii_uppercase() || b == b'_'),
                "{s}"
            );
            assert!(strings.insert(s), "{s} listed twice");
            assert!(!c.summary().is_empty());
        }
    }

    #[test]
    fn classes_follow_the_code_except_an_array_length() {
        assert!(Error::InvalidArgument("x".into()).is_type_error());
        assert!(Error::ForbiddenKey {
            key: "a".into(),
            segment: "b".into()
        }
        .is_type_error());
        assert!(Error::TooDeep("x".into()).is_range_error());
        let len = Error::InvalidLength("x".into());
        assert!(len.is_range_error() && !len.is_type_error());
        assert_eq!(len.code(), "E_INVALID_ARGUMENT");
        assert!(!Error::Closed.is_type_error() && !Error::Closed.is_range_error());
    }
}
