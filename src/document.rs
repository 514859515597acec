//! Operations on the document: reads, changes, transactions, schema checks,
//! flush, key rotation.

use napi::bindgen_prelude::*;
use napi_derive::napi;

use tad_store_core::value::to_json;
use tad_store_core::Call;

use crate::convert::{changes_json, json_of, set_result, strings_json, JsonText, Key};
use crate::env::FileFailure;
use crate::errors::run;
use crate::handles::{call, store, FLAG_USER};
use crate::tasks::Job;

/// The value at `key` as JSON text, or `null` when absent.
#[napi(ts_return_type = "string | null")]
pub fn store_get(
    env: Env,
    h: u32,
    flags: u32,
    #[napi(ts_arg_type = "string")] key: Key,
) -> Result<Option<JsonText>> {
    let s = store(&env, h)?;
    run(&env, "get", || {
        let json =
            |v: Option<&tad_store_core::value::Value>| v.map(|v| JsonText(to_json(v, false)));
        if flags & FLAG_USER != 0 {
            s.get_user_with(&key.0, json)
        } else {
            s.get_with(&key.0, json)
        }
    })
}

/// Whether `key` exists.
#[napi]
pub fn store_has(
    env: Env,
    h: u32,
    flags: u32,
    #[napi(ts_arg_type = "string")] key: Key,
) -> Result<bool> {
    let s = store(&env, h)?;
    if flags & FLAG_USER != 0 {
        return run(&env, "has", || s.has_user(&key.0));
    }
    run(&env, "has", || s.has(&key.0))
}

/// Sets `key` to the JSON `json`: `null` when nothing changed, else the old
/// value's JSON (`""` when absent or not wanted) — or, when the schema's
/// defaults changed the value or other keys, `"!"` and `[{k, o?, n?}]`.
#[napi]
pub fn store_set(
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
    run(&env, "set", || {
        Ok(s.set(&key.0, json.as_bytes(), c)?.map(set_result))
    })
}

/// Deletes `key`: `null` when nothing changed, else `[{k, o?, n?}]`.
#[napi]
pub fn store_delete(
    env: Env,
    h: u32,
    flags: u32,
    #[napi(ts_arg_type = "string")] key: Key,
    want_old: bool,
) -> Result<Option<String>> {
    let s = store(&env, h)?;
    let c = Call {
        values: want_old,
        ..call(flags)
    };
    run(&env, "delete", || {
        Ok(s.delete(&key.0, c)?.map(|ch| changes_json(&ch)))
    })
}

/// Sets every `key: value` of a JSON object as one change: `null` or `[{k, o?, n?}]`.
#[napi]
pub fn store_set_many(
    env: Env,
    h: u32,
    flags: u32,
    json: String,
    op: String,
) -> Result<Option<String>> {
    let s = store(&env, h)?;
    run(&env, "setMultiple", || {
        Ok(s.set_many(json.as_bytes(), &op, call(flags))?
            .map(|c| changes_json(&c)))
    })
}

/// Replaces the whole document: `null` or the changed top-level keys.
#[napi]
pub fn store_replace_all(
    env: Env,
    h: u32,
    flags: u32,
    json: String,
    op: String,
    keep_internal: bool,
) -> Result<Option<String>> {
    let s = store(&env, h)?;
    run(&env, "replace", || {
        Ok(
            s.replace_all(json.as_bytes(), &op, keep_internal, call(flags))?
                .map(|c| changes_json(&c)),
        )
    })
}

/// conf's constructor: the `defaults` the document lacks merged under its
/// keys, and the schema's defaults (`existed`: the store file was there).
/// `null` or the changed top-level keys.
#[napi]
pub fn store_fill_defaults(env: Env, h: u32, flags: u32, existed: bool) -> Result<Option<String>> {
    let s = store(&env, h)?;
    run(&env, "defaults", || {
        Ok(s.fill_defaults(existed, call(flags))?
            .map(|c| changes_json(&c)))
    })
}

/// conf's `clear()`: emptied (keeping `__internal__`), then each `key: value`
/// of the JSON object reset in order, with the schema's defaults, as one
/// change: `null` or the changed top-level keys.
#[napi]
pub fn store_clear(env: Env, h: u32, flags: u32, json: String) -> Result<Option<String>> {
    let s = store(&env, h)?;
    run(&env, "clear", || {
        Ok(s.clear(json.as_bytes(), call(flags))?
            .map(|c| changes_json(&c)))
    })
}

/// Repairs the document where it fails the schema (after backing it up):
/// `null` (already valid) or the changed top-level keys.
#[napi]
pub fn store_sanitize(env: Env, h: u32, flags: u32) -> Result<Option<String>> {
    let s = store(&env, h)?;
    run(&env, "sanitize", || {
        Ok(s.sanitize(call(flags))?.map(|c| changes_json(&c)))
    })
}

/// Opens a transaction: later changes are written only by `storeCommit`, as
/// one journal entry.
#[napi]
pub fn store_begin(env: Env, h: u32) -> Result<()> {
    let s = store(&env, h)?;
    run(&env, "begin", || s.begin())
}

/// Writes the open transaction as one entry named `name`.
#[napi]
pub fn store_commit(env: Env, h: u32, name: String) -> Result<()> {
    let s = store(&env, h)?;
    run(&env, "commit", || s.commit_txn(&name))
}

/// Undoes the open transaction: the keys that changed back.
#[napi]
pub fn store_abort(env: Env, h: u32) -> Result<String> {
    let s = store(&env, h)?;
    run(&env, "abort", || Ok(changes_json(&s.abort_txn()?)))
}

/// Re-reads the shared journal and the file: the changed top-level keys.
#[napi]
pub fn store_reload(env: Env, h: u32) -> Result<String> {
    let s = store(&env, h)?;
    run(&env, "reload", || Ok(changes_json(&s.reload()?)))
}

/// `watch: true`: starts (or joins) the file's watcher. It runs on its own
/// thread and reaches JS only through the file's weak event function, so it
/// never keeps the process alive; it stops on `close()`.
#[napi]
pub fn store_watch(env: Env, h: u32) -> Result<()> {
    let s = store(&env, h)?;
    run(&env, "watch", || s.watch())
}

/// The whole document as compact JSON.
#[napi(ts_return_type = "string")]
pub fn store_to_json(env: Env, h: u32) -> Result<JsonText> {
    let s = store(&env, h)?;
    run(&env, "read", || {
        Ok(JsonText(to_json(&s.snapshot()?, false)))
    })
}

/// Number of top-level keys.
#[napi]
pub fn store_size(env: Env, h: u32) -> Result<u32> {
    let s = store(&env, h)?;
    run(&env, "size", || Ok(s.size()? as u32))
}

/// Top-level keys in insertion order, as a JSON array (keys may hold
/// unpaired surrogates, which only JSON text carries exactly).
#[napi]
pub fn store_keys(env: Env, h: u32) -> Result<String> {
    let s = store(&env, h)?;
    run(&env, "keys", || Ok(strings_json(&s.keys()?)))
}

/// Blocks until every change so far is durable in the journal (`file`: and
/// in the document file too, a checkpoint written now if needed).
#[napi]
pub fn store_flush_sync(env: Env, h: u32, file: bool) -> Result<()> {
    let s = store(&env, h)?;
    run(&env, "flush", || {
        if file {
            s.flush()
        } else {
            s.flush_durable()
        }
    })
}

/// Promise form of `storeFlushSync`, waiting on a worker thread.
#[napi(ts_return_type = "Promise<void>")]
pub fn store_flush(env: Env, h: u32, file: bool) -> Result<AsyncTask<Job<(), ()>>> {
    let s = store(&env, h)?;
    Ok(Job::task(
        move || {
            if file {
                s.flush()
            } else {
                s.flush_durable()
            }
        },
    ))
}

/// Schema errors (conf's format) of the JSON document `json`, or of the store's
/// document when `json` is empty, as a JSON array of strings.
#[napi]
pub fn store_validate(env: Env, h: u32, json: String) -> Result<String> {
    let s = store(&env, h)?;
    run(&env, "validate", || {
        let errors = s.schema_errors((!json.is_empty()).then_some(json.as_bytes()))?;
        Ok(strings_json(&errors))
    })
}

/// Top-level `default`s of the `schema` option (conf merges them into the
/// defaults `reset()` and `clear()` use), as a JSON object.
#[napi]
pub fn store_schema_defaults(env: Env, h: u32) -> Result<String> {
    Ok(json_of(&store(&env, h)?.schema_defaults()))
}

/// Backups after a key rotation.
#[napi(object, object_from_js = false)]
pub struct RotatedBackups {
    /// Backups re-encrypted.
    pub rotated: u32,
    /// Backups left as they were (not re-encrypted).
    pub failed: Vec<FileFailure>,
}

/// What `rotateSecretKey(newKey)` re-encrypted.
#[napi(object, object_from_js = false)]
pub struct RotationReport {
    /// Always true: the document is re-encrypted, or the call throws.
    pub document: bool,
    pub journal_entries: u32,
    pub snapshots: u32,
    pub quarantined: u32,
    pub backups: RotatedBackups,
}

/// `rotateSecretKey(newKey)`: every file re-encrypted under `key`.
#[napi(catch_unwind)]
pub fn store_rotate_secret_key(env: Env, h: u32, key: Buffer) -> Result<RotationReport> {
    let s = store(&env, h)?;
    run(&env, "rotateSecretKey", || {
        let r = s.core().rotate_key(&key)?;
        Ok(RotationReport {
            document: true,
            journal_entries: r.journal_entries as u32,
            snapshots: r.snapshots as u32,
            quarantined: r.quarantined as u32,
            backups: RotatedBackups {
                rotated: r.backups as u32,
                failed: r
                    .failed
                    .iter()
                    .map(|(p, e)| FileFailure::of(p, e))
                    .collect(),
            },
        })
    })
}
