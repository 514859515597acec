//! Opening a `Store` instance: one crossing from JS does every native step of
//! the constructor before its migrations — open (or join) the file's core,
//! install this environment's event sink when it is the first instance on the
//! file here, report what opening found, begin the constructor's transaction,
//! read the schema's defaults, and fill the `defaults` in.

use std::path::Path;
use std::sync::Arc;

use napi::bindgen_prelude::*;
use napi_derive::napi;

use tad_store_core::{registry, Call, Handle};

use crate::convert::{changes_json, json_of};
use crate::env::env_state;
use crate::errors::{run, throw};
use crate::events::{listen, StoreEvent};
use crate::handles::{forget, insert, STORES};
use crate::options::{store_options, BindingOptions};
use crate::stats::{open_report, OpenReport};

/// What the constructor's steps before migrations did.
#[napi(object, object_from_js = false, use_nullable = true)]
pub struct Opened {
    /// The handle the other functions take.
    pub handle: u32,
    /// Equal for every instance on one file.
    pub core_id: u32,
    /// This instance's id (slow-operation events name it).
    pub handle_id: f64,
    /// Whether `listener` now receives the file's events in this environment
    /// (false: an earlier instance's listener does).
    pub listening: bool,
    pub report: OpenReport,
    /// The store file exists, or the document has keys (another instance or
    /// process may hold changes the file does not show yet).
    pub existed: bool,
    /// Whether the constructor's transaction was begun (not when read-only).
    pub began: bool,
    /// The schema's top-level defaults as a JSON object (a schema was given).
    pub schema_defaults: Option<String>,
    /// The keys filling the defaults changed, as a JSON change list with
    /// values (`fillDefaults` asked for, something changed).
    pub changes: Option<String>,
    /// Top-level keys once the defaults are filled in.
    pub size: u32,
    /// The value at `readKey` as JSON (`null`: absent or not asked for).
    pub read_value: Option<String>,
}

/// Whether no other open instance of environment `env` shares `h`'s core.
fn first_here(h: &Handle) -> bool {
    let stores = STORES.lock().unwrap_or_else(|p| p.into_inner());
    !stores
        .iter()
        .flatten()
        .any(|o| !std::ptr::eq(&**o, h) && o.env() == h.env() && Arc::ptr_eq(o.core(), h.core()))
}

/// Opens a `Store` instance on a file (the file's core is shared with the
/// instances already open on it in this process) and runs the constructor's
/// native steps (see the module). On a failure after the open, the
/// transaction is undone and the instance closed before the error is thrown.
#[napi]
pub fn store_open(
    env: Env,
    opts: BindingOptions,
    listener: Option<Function<'_, StoreEvent, ()>>,
) -> Result<Opened> {
    let id = env_state(&env)?.id;
    let file = opts.file.clone();
    let doc = opts.path.clone();
    let begin = opts.begin.unwrap_or(false);
    let fill_defaults = opts.fill_defaults.unwrap_or(false);
    let read_key = opts.read_key.clone();
    let h = Arc::new(run(&env, "open", || {
        let mut o = store_options(opts)?;
        o.env = id;
        registry::open(o)
    })?);
    if let Some(f) = file.as_deref().filter(|f| *f != doc) {
        // a custom-serialized file: the temps of its exports a crashed
        // process left beside it
        tad_store_core::export::remove_stale_temps(&*h.core().config().fs, Path::new(f));
    }
    let slot = insert(h.clone());
    let listening = match listener {
        Some(callback) if first_here(&h) => match listen(&env, &h, callback) {
            Ok(()) => true,
            Err(e) => {
                forget(slot, &h, true);
                return Err(e);
            }
        },
        _ => false,
    };
    let report = open_report(&h);
    let mut began = false;
    let steps = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let existed = file.as_deref().is_some_and(|f| Path::new(f).exists()) || h.user_size()? > 0;
        if begin && !report.read_only {
            h.begin()?;
            began = true;
        }
        let schema_defaults = h.has_schema().then(|| json_of(&h.schema_defaults()));
        let changes = if fill_defaults {
            let call = Call {
                validate: false,
                values: true,
            };
            h.fill_defaults(existed, call)?.map(|c| changes_json(&c))
        } else {
            None
        };
        let read_value = match &read_key {
            Some(key) => h.get_user_with(key, |v| v.map(json_of))?,
            None => None,
        };
        Ok((
            existed,
            schema_defaults,
            changes,
            h.size()? as u32,
            read_value,
        ))
    }))
    .unwrap_or_else(|p| Err(tad_store_core::Error::from_panic(&*p, "open")));
    match steps {
        Ok((existed, schema_defaults, changes, size, read_value)) => Ok(Opened {
            handle: slot,
            core_id: h.core().id() as u32,
            handle_id: h.id() as f64,
            listening,
            report,
            existed,
            began,
            schema_defaults,
            changes,
            size,
            read_value,
        }),
        Err(e) => {
            if began {
                let _ = h.abort_txn();
            }
            forget(slot, &h, true);
            Err(throw(&env, e))
        }
    }
}
