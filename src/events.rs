//! Background events (other processes' and environments' changes, write
//! failures and recoveries) delivered to JS as typed `StoreEvent`s through
//! one weak threadsafe function per open file and JS environment, released
//! on close. Error events carry the JS error made as thrown errors are (code,
//! class, the OS error as `cause`, the `path`).

use std::sync::Arc;

use napi::bindgen_prelude::*;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi_derive::napi;

use tad_store_core::events::{Event, Sink};
use tad_store_core::{Error as CoreError, Handle};

use crate::convert::changes_json;
use crate::env::{env_state, ChangeCounter};
use crate::errors::error_object;

/// A core error made into its JS error on the JS thread, as thrown errors
/// are: `Error`, `TypeError` or `RangeError` with the stable `code`, the OS
/// error as `cause` and the file as `path` for I/O failures.
pub struct NativeError(Arc<CoreError>);

impl ToNapiValue for NativeError {
    unsafe fn to_napi_value(env: sys::napi_env, val: Self) -> Result<sys::napi_value> {
        let env = Env::from_raw(env);
        Ok(error_object(&env, &val.0)?.raw())
    }
}

/// A background event of a file, as the JS listener gets it (`type` tells
/// which).
#[napi(
    discriminant = "type",
    discriminant_case = "kebab-case",
    object_from_js = false
)]
pub enum StoreEvent {
    /// The document changed without a call from this environment: `origin`
    /// `'remote'` (another process), `'external'` (another program edited the
    /// file) or `'thread'` (another JS environment); `changes` is the JSON
    /// text of `[{k, o?, n?}]` (values are document values, so JSON).
    Changes { origin: String, changes: String },
    /// Writing failed; `pending` changes are kept and retried.
    WriteFailed {
        #[napi(
            ts_type = "Error & { code: string; path?: string; cause?: Error & { code: string; errno?: number } }"
        )]
        error: NativeError,
        pending: u32,
    },
    /// Writing works again: everything pending is durable.
    WriteRecovered,
    /// A queued change was dropped (it conflicted with another process's).
    Rejected {
        #[napi(
            ts_type = "Error & { code: string; path?: string; cause?: Error & { code: string; errno?: number } }"
        )]
        error: NativeError,
        keys: Vec<String>,
    },
    /// Another program's edit of the file was refused; `kept` is a copy of it.
    InvalidExternalChange {
        code: String,
        message: String,
        kept: Option<String>,
    },
    /// An operation of instance `handle` took longer than its threshold.
    Slow {
        handle: f64,
        op: String,
        micros: f64,
    },
    /// Watching failed (the next file event tries again).
    WatchError {
        #[napi(
            ts_type = "Error & { code: string; path?: string; cause?: Error & { code: string; errno?: number } }"
        )]
        error: NativeError,
    },
}

impl StoreEvent {
    fn of(e: Event) -> StoreEvent {
        match e {
            Event::Changed { origin, changes } => StoreEvent::Changes {
                origin: origin.as_str().into(),
                changes: changes_json(&changes),
            },
            Event::WriteFailed { error, pending } => StoreEvent::WriteFailed {
                error: NativeError(error),
                pending: pending as u32,
            },
            Event::WriteRecovered => StoreEvent::WriteRecovered,
            Event::ChangeRejected { error, keys } => StoreEvent::Rejected {
                error: NativeError(error),
                keys,
            },
            Event::InvalidExternalChange { code, reason, kept } => {
                StoreEvent::InvalidExternalChange {
                    code: code.into(),
                    message: reason,
                    kept,
                }
            }
            Event::SlowOperation { handle, op, micros } => StoreEvent::Slow {
                handle: handle as f64,
                op: op.into(),
                micros,
            },
            Event::WatchError { error } => StoreEvent::WatchError {
                error: NativeError(error),
            },
        }
    }
}

/// One environment's events of one file.
pub(crate) struct JsSink {
    tsfn: ThreadsafeFunction<StoreEvent, (), StoreEvent, Status, false, true>,
    counter: Arc<ChangeCounter>,
}

impl Sink for JsSink {
    fn emit(&self, event: Event) {
        if matches!(event, Event::Changed { .. }) {
            // the document changed already: the caches learn it now
            self.counter.bump();
        }
        self.tsfn.call(
            StoreEvent::of(event),
            ThreadsafeFunctionCallMode::NonBlocking,
        );
    }
}

/// Sends the file's background events to `callback(event)` in the calling
/// environment: other processes' and other environments' changes, write
/// failures and recoveries. A weak threadsafe function: it does not keep the
/// process alive, and it is released when the environment's last instance on
/// the file closes.
pub(crate) fn listen(env: &Env, h: &Handle, callback: Function<'_, StoreEvent, ()>) -> Result<()> {
    let state = env_state(env)?;
    let tsfn = callback
        .build_threadsafe_function::<StoreEvent>()
        .callee_handled::<false>()
        .weak::<true>()
        .build()?;
    h.core().add_sink(
        state.id,
        Arc::new(JsSink {
            tsfn,
            counter: state.counter.clone(),
        }),
    );
    Ok(())
}
