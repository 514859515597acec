//! `update()` and `transaction()`: the atomic sections of `tad_store_core`
//! (see `core/src/store/atomic.rs`), opened and ended from JS.

use napi::bindgen_prelude::*;
use napi_derive::napi;

use tad_store_core::Call;

use crate::convert::{changes_json, set_result, Key};
use crate::errors::run;
use crate::handles::{call, store};

/// Opens the instance's atomic section (waits for another thread's; takes the
/// journal's lock and catches up with other processes): `null`, or the
/// top-level keys other processes' changes changed, as `[{k, o?, n?}]`.
/// `storeAtomicEnd` (or `storeUpdateSet`) must follow.
#[napi]
pub fn store_atomic_begin(env: Env, h: u32) -> Result<Option<String>> {
    let s = store(&env, h)?;
    run(&env, "update", || {
        let remote = s.atomic_begin()?;
        Ok((!remote.is_empty()).then(|| changes_json(&remote)))
    })
}

/// Ends the instance's atomic section (nothing when none is open).
#[napi]
pub fn store_atomic_end(env: Env, h: u32) -> Result<()> {
    let s = store(&env, h)?;
    s.atomic_end();
    Ok(())
}

/// `update()`'s write: sets `key` to the JSON `json` as a change named
/// `update` and ends the atomic section (also when the set fails). Returns
/// what `storeSet` returns.
#[napi]
pub fn store_update_set(
    env: Env,
    h: u32,
    flags: u32,
    #[napi(ts_arg_type = "string")] key: Key,
    json: String,
    want_old: bool,
) -> Result<Option<String>> {
    let s = store(&env, h)?;
    let c = Call {
        values: want_old,
        ..call(flags)
    };
    let r = run(&env, "update", || {
        Ok(s.set_as("update", &key.0, json.as_bytes(), c)?
            .map(set_result))
    });
    s.atomic_end();
    r
}
