//! The table of open `Store` instances by handle: opening, closing, and the
//! lookup every other function starts with.

use std::sync::{Arc, Mutex};

use napi::bindgen_prelude::*;
use napi_derive::napi;

use tad_store_core::{registry, Call, Error as CoreError, Handle};

use crate::env::env_state;
use crate::errors::{run, throw};
use crate::options::{store_options, BindingOptions};

/// Open stores by handle. Free functions taking a handle are several times
/// cheaper to call from JS than `#[napi]` class methods (measured: ~0.25 µs vs
/// ~0.8 µs per call), and `get` is the hot path.
pub(crate) static STORES: Mutex<Vec<Option<Arc<Handle>>>> = Mutex::new(Vec::new());

pub(crate) fn store(env: &Env, h: u32) -> Result<Arc<Handle>> {
    let stores = STORES.lock().unwrap_or_else(|p| p.into_inner());
    match stores.get(h as usize).and_then(|s| s.clone()) {
        Some(s) => Ok(s),
        None => Err(throw(env, CoreError::Closed)),
    }
}

/// Per-call flags from JS.
pub(crate) const FLAG_NO_SCHEMA: u32 = 4;

pub(crate) const FLAG_VALUES: u32 = 8;

pub(crate) fn call(flags: u32) -> Call {
    Call {
        validate: flags & FLAG_NO_SCHEMA == 0,
        values: flags & FLAG_VALUES != 0,
    }
}

/// Opens a `Store` instance on a file (the file's core is shared with the
/// instances already open on it in this process). Returns the handle the other
/// functions take.
#[napi]
pub fn store_open(env: Env, opts: BindingOptions) -> Result<u32> {
    let id = env_state(&env)?.id;
    let h = run(&env, "open", || {
        let mut o = store_options(opts)?;
        o.env = id;
        registry::open(o)
    })?;
    let mut stores = STORES.lock().unwrap_or_else(|p| p.into_inner());
    let slot = stores
        .iter()
        .position(Option::is_none)
        .unwrap_or(stores.len());
    if slot == stores.len() {
        stores.push(None);
    }
    stores[slot] = Some(Arc::new(h));
    Ok(slot as u32)
}

/// A number identifying the open file (equal for every instance on one file).
#[napi]
pub fn store_core_id(env: Env, h: u32) -> Result<u32> {
    Ok(store(&env, h)?.core().id() as u32)
}

/// This instance's id (slow-operation events name it).
#[napi]
pub fn store_handle_id(env: Env, h: u32) -> Result<f64> {
    Ok(store(&env, h)?.id() as f64)
}

/// Closes the instance (flushing). When its changes cannot be written, throws
/// and stays open, unless `force`.
#[napi]
pub fn store_close(env: Env, h: u32, force: bool) -> Result<()> {
    let Some(s) = ({
        let stores = STORES.lock().unwrap_or_else(|p| p.into_inner());
        stores.get(h as usize).and_then(|s| s.clone())
    }) else {
        return Ok(());
    };
    run(&env, "close", || s.close(force))?;
    let mut stores = STORES.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(slot) = stores.get_mut(h as usize) {
        *slot = None;
    }
    // the environment's last instance on the file: its events stop
    let last = !stores
        .iter()
        .flatten()
        .any(|o| o.env() == s.env() && Arc::ptr_eq(o.core(), s.core()));
    drop(stores);
    if last {
        s.core().remove_sink(s.env());
    }
    Ok(())
}
