//! The table of open `Store` instances by handle: insertion (see `open`),
//! closing, and the lookup every other function starts with.

use std::sync::{Arc, Mutex};

use napi::bindgen_prelude::*;
use napi_derive::napi;

use tad_store_core::{Call, Error as CoreError, Handle};

use crate::errors::{run, throw};

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

/// A read of the user's own values (`defaultsLayer`: migrations read them).
pub(crate) const FLAG_USER: u32 = 16;

pub(crate) fn call(flags: u32) -> Call {
    Call {
        validate: flags & FLAG_NO_SCHEMA == 0,
        values: flags & FLAG_VALUES != 0,
    }
}

/// Puts an opened instance in the table: its handle.
pub(crate) fn insert(h: Arc<Handle>) -> u32 {
    let mut stores = STORES.lock().unwrap_or_else(|p| p.into_inner());
    let slot = stores
        .iter()
        .position(Option::is_none)
        .unwrap_or(stores.len());
    if slot == stores.len() {
        stores.push(None);
    }
    stores[slot] = Some(h);
    slot as u32
}

/// Takes a closed instance out of the table; the environment's last instance
/// on the file stops its events.
fn remove(slot: u32, s: &Arc<Handle>) {
    let mut stores = STORES.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(entry) = stores.get_mut(slot as usize) {
        *entry = None;
    }
    let last = !stores
        .iter()
        .flatten()
        .any(|o| o.env() == s.env() && Arc::ptr_eq(o.core(), s.core()));
    drop(stores);
    if last {
        s.core().remove_sink(s.env());
    }
}

/// Closes an instance whose opening failed (`force`: dropping what cannot be
/// written) and takes it out of the table.
pub(crate) fn forget(slot: u32, s: &Arc<Handle>, force: bool) {
    if s.close(force).is_err() {
        let _ = s.close(true);
    }
    remove(slot, s);
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
    remove(h, &s);
    Ok(())
}
