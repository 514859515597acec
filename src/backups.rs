//! Backups, migration snapshots, history and rollback.

use std::sync::Arc;

use napi::bindgen_prelude::*;
use napi_derive::napi;

use tad_store_core::history::Target;
use tad_store_core::value::encode;
use tad_store_core::{Error as CoreError, Prepared};

use crate::convert::{backup_json, backups_json, changes_json, history_json, strings_json};
use crate::errors::run;
use crate::handles::{call, store};
use crate::tasks::Job;

/// Takes a backup (`onlyIfChanged`: skip when the newest backup holds this
/// state). Resolves to the backup's `{file, path, metadata}` JSON, or `"null"`.
#[napi(ts_return_type = "Promise<string>")]
pub fn store_create_backup(
    env: Env,
    h: u32,
    reason: String,
    only_if_changed: bool,
) -> Result<AsyncTask<Job>> {
    let s = store(&env, h)?;
    // the state now, written on a worker thread (or by close(), if sooner)
    let id = run(&env, "backup", || {
        s.queue_backup(&encode(&reason), only_if_changed)
    })?;
    Ok(Job::task(move || Ok(backup_json(s.run_queued_backup(id)?))))
}

/// `storeCreateBackup` on the calling thread (used when closing).
#[napi]
pub fn store_create_backup_sync(
    env: Env,
    h: u32,
    reason: String,
    only_if_changed: bool,
) -> Result<String> {
    let s = store(&env, h)?;
    run(&env, "backup", || {
        Ok(backup_json(
            s.create_backup(&encode(&reason), only_if_changed)?,
        ))
    })
}

/// Resolves to the backups as JSON, newest first.
#[napi(ts_return_type = "Promise<string>")]
pub fn store_list_backups(env: Env, h: u32) -> Result<AsyncTask<Job>> {
    let s = store(&env, h)?;
    Ok(Job::task(move || Ok(backups_json(&s.list_backups()?))))
}

/// The backups as JSON, newest first, read on the calling thread.
#[napi]
pub fn store_list_backups_sync(env: Env, h: u32) -> Result<String> {
    let s = store(&env, h)?;
    run(&env, "listBackups", || Ok(backups_json(&s.list_backups()?)))
}

/// Verifies a backup (name or listed path) and backs the current state up;
/// resolves to a token for `storeRestoreApply`.
#[napi(ts_return_type = "Promise<string>")]
pub fn store_restore_prepare(env: Env, h: u32, name: String) -> Result<AsyncTask<Job>> {
    let s = store(&env, h)?;
    Ok(Job::task(move || {
        let v = s.prepare_restore(&name)?;
        Ok(s.stash(Prepared::Restore(v)).to_string())
    }))
}

/// Commits a prepared restore: `null` or the changed top-level keys.
#[napi]
pub fn store_restore_apply(env: Env, h: u32, token: u32, flags: u32) -> Result<Option<String>> {
    let s = store(&env, h)?;
    run(&env, "restore", || {
        Ok(s.restore_prepared(token, call(flags))?
            .map(|c| changes_json(&c)))
    })
}

/// Resolves to `{"token": n, "entries": [...]}`: the history, kept for a
/// rollback by token.
#[napi(ts_return_type = "Promise<string>")]
pub fn store_history(env: Env, h: u32) -> Result<AsyncTask<Job>> {
    let s = store(&env, h)?;
    Ok(Job::task(move || {
        let entries = s.history()?;
        let json = history_json(&entries);
        let token = s.stash(Prepared::History(Arc::new(entries)));
        Ok(format!("{{\"token\":{token},\"entries\":{json}}}"))
    }))
}

/// Drops prepared work that will not be applied.
#[napi]
pub fn store_discard(env: Env, h: u32, token: u32) -> Result<()> {
    store(&env, h)?.take(token);
    Ok(())
}

/// Rolls back to the state after change `seq` (`kind` 0) or at time `value` ms
/// (`kind` 1), using the history prepared under `token` (or -1 to read it now).
/// Returns `{targetSeq, reverted, changes}`.
#[napi]
pub fn store_rollback_apply(
    env: Env,
    h: u32,
    token: i32,
    kind: u32,
    value: f64,
    _flags: u32,
) -> Result<String> {
    let s = store(&env, h)?;
    run(&env, "rollback", || {
        let target = if kind == 0 {
            if !(value >= 0.0 && value.fract() == 0.0) {
                return Err(CoreError::InvalidArgument(format!(
                    "Expected a change number (a non-negative integer), got {value}"
                )));
            }
            Target::Seq(value as u64)
        } else {
            Target::Time(value)
        };
        let (plan, changes) = s.rollback(target, u32::try_from(token).ok())?;
        Ok(format!(
            "{{\"targetSeq\":{},\"reverted\":{},\"changes\":{}}}",
            plan.target_seq,
            plan.reverted,
            changes_json(&changes)
        ))
    })
}

/// Writes a migration snapshot of the current state now; returns its
/// `{file, path, metadata}` JSON.
#[napi]
pub fn store_migration_snapshot_sync(env: Env, h: u32, reason: String) -> Result<String> {
    let s = store(&env, h)?;
    run(&env, "snapshot", || {
        Ok(backup_json(s.migration_snapshot(&reason)?))
    })
}

/// Resolves to the migration snapshots as JSON, newest first.
#[napi(ts_return_type = "Promise<string>")]
pub fn store_list_migration_backups(env: Env, h: u32) -> Result<AsyncTask<Job>> {
    let s = store(&env, h)?;
    Ok(Job::task(move || {
        Ok(backups_json(&s.list_migration_backups()?))
    }))
}

/// Verifies a migration snapshot (name only) and backs the current state up;
/// resolves to a token for `storeRestoreApply`.
#[napi(ts_return_type = "Promise<string>")]
pub fn store_restore_migration_prepare(env: Env, h: u32, name: String) -> Result<AsyncTask<Job>> {
    let s = store(&env, h)?;
    Ok(Job::task(move || {
        let v = s.prepare_migration_restore(&name)?;
        Ok(s.stash(Prepared::Restore(v)).to_string())
    }))
}

/// Checks a migration snapshot: hash, parse, schema. Resolves to
/// `{"valid": bool, "errors": [...]}` (a missing snapshot rejects).
#[napi(ts_return_type = "Promise<string>")]
pub fn store_validate_migration_backup(env: Env, h: u32, name: String) -> Result<AsyncTask<Job>> {
    let s = store(&env, h)?;
    Ok(Job::task(move || {
        let errors = s.validate_migration_backup(&name)?;
        Ok(format!(
            "{{\"valid\":{},\"errors\":{}}}",
            errors.is_empty(),
            strings_json(&errors)
        ))
    }))
}
