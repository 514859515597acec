//! The custom-serialize export (`serialize` / `deserialize` options): JS
//! serializes the store, the core writes the app's file with its atomic
//! write and records the mark (see `tad_store_core::export`).

use std::path::Path;

use napi::bindgen_prelude::*;
use napi_derive::napi;

use tad_store_core::export::Exported;

use crate::errors::run;
use crate::handles::store;

/// `null` once written; while another program holds the file, the
/// milliseconds after which `storeExportRetry` should try again.
fn retry_ms(e: Exported) -> Option<u32> {
    match e {
        Exported::Written => None,
        Exported::Held { retry_in } => Some(retry_in.as_millis() as u32),
    }
}

/// Writes `data` (what `serialize` returned) to `path` atomically, then the
/// mark `mark` (see `storeExportMark`); replaces an export still waiting.
/// Returns `null`, or when to try again (the file is held).
#[napi]
pub fn store_export(
    env: Env,
    h: u32,
    path: String,
    data: Either<String, Buffer>,
    mark: String,
) -> Result<Option<u32>> {
    let s = store(&env, h)?;
    let bytes: &[u8] = match &data {
        Either::A(text) => text.as_bytes(),
        Either::B(buf) => buf,
    };
    run(&env, "export", || {
        s.exporter()
            .write(Path::new(&path), bytes, mark.as_bytes())
            .map(retry_ms)
    })
}

/// Tries the waiting export's rename again (`last`: the instance closes, no
/// more tries). Returns `null` (written, or nothing waiting), or when to try
/// again; throws once the tries are spent (the temp file removed).
#[napi]
pub fn store_export_retry(env: Env, h: u32, last: bool) -> Result<Option<u32>> {
    let s = store(&env, h)?;
    run(&env, "export", || s.exporter().retry(last).map(retry_ms))
}

/// What the last export of `path` recorded (`null`: none).
#[napi]
pub fn store_export_mark(env: Env, h: u32, path: String) -> Result<Option<String>> {
    let s = store(&env, h)?;
    run(&env, "export", || {
        Ok(s.exporter()
            .mark(Path::new(&path))?
            .map(|b| String::from_utf8_lossy(&b).into_owned()))
    })
}
