//! The one way background work reaches JS: the core emits [`Event`]s to the
//! [`Sink`]s the addon installs, one per JS environment with the file open (it
//! forwards them to that environment's thread). The core does not know where
//! they go; tests install a recording sink.

use std::sync::Arc;

use crate::error::Error;
use crate::ops::KeyChange;

/// Where a change seen by this process came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    /// Another process appended to the shared journal.
    Remote,
    /// Another program edited the document file.
    External,
    /// Another JS environment of this process (a worker thread, or the main
    /// thread for a worker) changed the document they share.
    Thread,
}

impl Origin {
    pub fn as_str(self) -> &'static str {
        match self {
            Origin::Remote => "remote",
            Origin::External => "external",
            Origin::Thread => "thread",
        }
    }
}

/// Something the JS side should hear about.
#[derive(Clone, Debug)]
pub enum Event {
    /// The document changed without a call from this process (values of the
    /// changed top-level keys included).
    Changed {
        origin: Origin,
        changes: Vec<KeyChange>,
    },
    /// Writing failed; the changes not yet durable are kept and retried.
    /// `error` is the failure itself (JS gets it as thrown errors are made:
    /// code, class, the OS error as `cause`, the `path`).
    WriteFailed {
        error: Arc<Error>,
        /// Changes waiting to be written.
        pending: usize,
    },
    /// Writing works again after a failure: everything pending is durable.
    WriteRecovered,
    /// A queued change could not be applied on top of another process's
    /// changes (it would break the schema) and was dropped.
    ChangeRejected {
        error: Arc<Error>,
        keys: Vec<String>,
    },
    /// Another program's edit of the document file was refused (it does not
    /// parse, is not an object, or fails the schema); `kept` is a copy of it.
    InvalidExternalChange {
        code: &'static str,
        reason: String,
        kept: Option<String>,
    },
    /// An operation of instance `handle` took longer than its threshold.
    SlowOperation {
        handle: u64,
        op: &'static str,
        micros: f64,
    },
    /// Watching failed (the next file event tries again).
    WatchError { error: Arc<Error> },
}

impl Event {
    /// The failure an error event reports (`WriteFailed`, `ChangeRejected`,
    /// `WatchError`).
    pub fn error(&self) -> Option<&Error> {
        match self {
            Event::WriteFailed { error, .. }
            | Event::ChangeRejected { error, .. }
            | Event::WatchError { error } => Some(error),
            _ => None,
        }
    }

    /// `error`'s stable code, for an error event.
    pub fn code(&self) -> Option<&'static str> {
        self.error().map(Error::code)
    }
}

/// Receives the core's events (on any thread).
pub trait Sink: Send + Sync {
    fn emit(&self, event: Event);
}
