//! Background events (other processes' and environments' changes, write
//! failures and recoveries) delivered to JS through one weak threadsafe
//! function per open file and JS environment, released on close.

use std::sync::Arc;

use napi::bindgen_prelude::*;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi_derive::napi;

use tad_store_core::events::{Event, Sink};
use tad_store_core::value::{write_list, write_string};

use crate::convert::{opt_str, text, write_changes};
use crate::env::{env_state, ChangeCounter};
use crate::handles::store;

/// An event as the JSON the JS listener gets.
pub(crate) fn event_json(e: &Event) -> String {
    let mut out = Vec::new();
    match e {
        Event::Changed { origin, changes } => {
            out.extend_from_slice(b"{\"type\":\"changes\",\"origin\":");
            write_string(&mut out, origin.as_str());
            out.extend_from_slice(b",\"changes\":");
            write_changes(&mut out, changes);
        }
        Event::WriteFailed {
            code,
            message,
            pending,
        } => {
            out.extend_from_slice(b"{\"type\":\"error\",\"code\":");
            write_string(&mut out, code);
            out.extend_from_slice(b",\"message\":");
            write_string(&mut out, message);
            out.extend_from_slice(format!(",\"pending\":{pending}").as_bytes());
        }
        Event::WriteRecovered => out.extend_from_slice(b"{\"type\":\"recovered\""),
        Event::ChangeRejected {
            code,
            message,
            keys,
        } => {
            out.extend_from_slice(b"{\"type\":\"rejected\",\"code\":");
            write_string(&mut out, code);
            out.extend_from_slice(b",\"message\":");
            write_string(&mut out, message);
            out.extend_from_slice(b",\"keys\":");
            write_list(&mut out, keys, |o, k| write_string(o, k));
        }
        Event::InvalidExternalChange { code, reason, kept } => {
            out.extend_from_slice(b"{\"type\":\"invalid-external-change\",\"code\":");
            write_string(&mut out, code);
            out.extend_from_slice(b",\"message\":");
            write_string(&mut out, reason);
            out.extend_from_slice(b",\"kept\":");
            opt_str(&mut out, kept.as_deref());
        }
        Event::SlowOperation { handle, op, micros } => {
            out.extend_from_slice(b"{\"type\":\"slow\",\"handle\":");
            out.extend_from_slice(handle.to_string().as_bytes());
            out.extend_from_slice(b",\"op\":");
            write_string(&mut out, op);
            out.extend_from_slice(format!(",\"micros\":{micros:.1}").as_bytes());
        }
        Event::WatchError { code, message } => {
            out.extend_from_slice(b"{\"type\":\"watch-error\",\"code\":");
            write_string(&mut out, code);
            out.extend_from_slice(b",\"message\":");
            write_string(&mut out, message);
        }
    }
    out.push(b'}');
    text(out)
}

/// One environment's events of one file.
pub(crate) struct JsSink {
    tsfn: ThreadsafeFunction<String, (), String, Status, false, true>,
    counter: Arc<ChangeCounter>,
}

impl Sink for JsSink {
    fn emit(&self, event: Event) {
        if matches!(event, Event::Changed { .. }) {
            // the document changed already: the caches learn it now
            self.counter.bump();
        }
        self.tsfn
            .call(event_json(&event), ThreadsafeFunctionCallMode::NonBlocking);
    }
}

/// Sends the file's background events to `callback(json)` in the calling
/// environment: other processes' and other environments' changes, write
/// failures and recoveries. A weak threadsafe function: it does not keep the
/// process alive, and it is released when the environment's last instance on
/// the file closes.
#[napi]
pub fn store_listen(env: Env, h: u32, callback: Function<String, ()>) -> Result<()> {
    let s = store(&env, h)?;
    let state = env_state(&env)?;
    let tsfn = callback
        .build_threadsafe_function::<String>()
        .callee_handled::<false>()
        .weak::<true>()
        .build()?;
    s.core().add_sink(
        state.id,
        Arc::new(JsSink {
            tsfn,
            counter: state.counter.clone(),
        }),
    );
    Ok(())
}
