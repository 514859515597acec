//! Core errors as JS errors: `Error`, `TypeError` or `RangeError` with the
//! core's stable `code`, the OS error as `cause` (`code` `ENOSPC`, `errno`)
//! and the `path` for I/O failures; panics caught as `E_INTERNAL`.

use std::panic::{catch_unwind, AssertUnwindSafe};

use napi::bindgen_prelude::*;
use napi_derive::napi;

use tad_store_core::value::display;
use tad_store_core::{Error as CoreError, ErrorCode};

/// Builds the JS error for a core error: `Error` or `TypeError` with `code`,
/// plus `cause` (the OS error) and `path` for I/O failures.
pub(crate) fn error_object<'e>(env: &'e Env, e: &CoreError) -> Result<Object<'e>> {
    // keys in messages are in the JS-string encoding: shown as text
    let message = display(&e.to_string()).into_owned();
    // SAFETY (the three `into_value` calls): `env` is the live environment of
    // this call on its JS thread, which is all `into_value` needs.
    let raw = if e.is_type_error() {
        // SAFETY: see above.
        unsafe { JsTypeError::from(Error::new(e.code(), message)).into_value(env.raw()) }
    } else if e.is_range_error() {
        // SAFETY: see above.
        unsafe { JsRangeError::from(Error::new(e.code(), message)).into_value(env.raw()) }
    } else {
        // SAFETY: see above.
        unsafe { JsError::from(Error::new(e.code(), message)).into_value(env.raw()) }
    };
    let mut obj = Object::from_raw(env.raw(), raw);
    if let Some((code, errno, msg)) = e.os_cause() {
        // SAFETY: see above.
        let craw = unsafe {
            JsError::from(Error::new(code.unwrap_or("EUNKNOWN"), msg)).into_value(env.raw())
        };
        let mut cause = Object::from_raw(env.raw(), craw);
        if let Some(n) = errno {
            cause.set("errno", n)?;
        }
        obj.set("cause", cause)?;
    }
    if let Some(p) = e.path() {
        obj.set("path", p.display().to_string())?;
    }
    Ok(obj)
}

/// Throws the JS error for `e` and returns the "already thrown" marker.
pub(crate) fn throw(env: &Env, e: CoreError) -> Error {
    match error_object(env, &e).and_then(|o| env.throw(o)) {
        Ok(()) => Error::from_status(Status::PendingException),
        Err(_) => Error::new(Status::GenericFailure, format!("[{}] {e}", e.code())),
    }
}

/// Runs a core call on the JS thread: errors become JS errors with their code,
/// panics become `E_INTERNAL`.
pub(crate) fn run<T>(
    env: &Env,
    what: &str,
    f: impl FnOnce() -> tad_store_core::Result<T>,
) -> Result<T> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(throw(env, e)),
        Err(p) => Err(throw(env, CoreError::from_panic(&*p, what))),
    }
}

/// One entry of the list of error codes.
#[napi(object)]
pub struct ErrorCodeInfo {
    /// `error.code`, e.g. `'E_NOSPC'`.
    pub code: String,
    /// The class of the JS error made for it.
    #[napi(ts_type = "'Error' | 'TypeError' | 'RangeError'")]
    pub class: String,
    /// Which part reports it: `'core'`, `'store'`, `'ipc'`, `'safe-storage'`,
    /// `'renderer'` or `'loader'`.
    #[napi(ts_type = "'core' | 'store' | 'ipc' | 'safe-storage' | 'renderer' | 'loader'")]
    pub origin: String,
    /// What it means.
    pub summary: String,
}

/// Every error code tad-store reports, from the core's one list
/// (`tad_store_core::ErrorCode`): the JS side mints its own codes from it.
#[napi]
pub fn error_codes() -> Result<Vec<ErrorCodeInfo>> {
    Ok(ErrorCode::ALL
        .iter()
        .map(|c| ErrorCodeInfo {
            code: c.as_str().into(),
            class: c.class().as_str().into(),
            origin: c.origin().into(),
            summary: c.summary().into(),
        })
        .collect())
}
