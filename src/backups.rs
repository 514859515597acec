//! Backups, migration snapshots, history and rollback. Restore and rollback
//! are one async task each: the worker thread verifies (and backs the current
//! state up, or reads the history), the JS thread applies; JS holds no token.

use napi::bindgen_prelude::*;
use napi_derive::napi;

use tad_store_core::backup;
use tad_store_core::history::{iso, Target};
use tad_store_core::journal::ChangeRecord;
use tad_store_core::value::encode;
use tad_store_core::Error as CoreError;
use tad_store_core::RestorePlan;

use crate::convert::changes_json;
use crate::errors::run;
use crate::handles::{call, store};
use crate::tasks::Job;

/// A backup's `.meta.json`.
#[napi(object, object_from_js = false)]
pub struct BackupMetadata {
    /// File name of the store the backup was taken from.
    pub original_file: String,
    /// ISO 8601 time the backup was taken.
    pub backup_time: String,
    pub reason: String,
    /// SHA-256 (hex) of the backup file's bytes.
    pub hash: String,
    /// Size of the backup file in bytes.
    pub size: f64,
    /// The last change (journal seq) the backup holds.
    pub seq: f64,
    /// Merkle hash of the document (as in the history entries).
    pub document_hash: String,
}

/// One backup, as `listBackups()` returns it.
#[napi(object, object_from_js = false, use_nullable = true)]
pub struct BackupInfo {
    pub file: String,
    pub path: String,
    /// `null` when the `.meta.json` is missing or unreadable.
    pub metadata: Option<BackupMetadata>,
}

impl From<backup::Info> for BackupInfo {
    fn from(b: backup::Info) -> BackupInfo {
        BackupInfo {
            file: b.file,
            path: b.path.display().to_string(),
            metadata: b.meta.map(|m| BackupMetadata {
                original_file: m.original_file,
                backup_time: m.backup_time,
                reason: m.reason,
                hash: m.hash,
                size: m.size as f64,
                seq: m.seq as f64,
                document_hash: m.document_hash,
            }),
        }
    }
}

fn infos(list: Vec<backup::Info>) -> Vec<BackupInfo> {
    list.into_iter().map(BackupInfo::from).collect()
}

/// Takes a backup (`onlyIfChanged`: skip when the newest backup holds this
/// state). Resolves to the backup, or `null` when skipped.
#[napi(ts_return_type = "Promise<BackupInfo | null>")]
pub fn store_create_backup(
    env: Env,
    h: u32,
    reason: String,
    only_if_changed: bool,
) -> Result<AsyncTask<Job<Option<BackupInfo>, Option<BackupInfo>>>> {
    let s = store(&env, h)?;
    // the state now, written on a worker thread (or by close(), if sooner)
    let id = run(&env, "backup", || {
        s.queue_backup(&encode(&reason), only_if_changed)
    })?;
    Ok(Job::task(move || {
        Ok(s.run_queued_backup(id)?.map(BackupInfo::from))
    }))
}

/// `storeCreateBackup` on the calling thread (used when closing).
#[napi]
pub fn store_create_backup_sync(
    env: Env,
    h: u32,
    reason: String,
    only_if_changed: bool,
) -> Result<Option<BackupInfo>> {
    let s = store(&env, h)?;
    run(&env, "backup", || {
        Ok(s.create_backup(&encode(&reason), only_if_changed)?
            .map(BackupInfo::from))
    })
}

/// Resolves to the backups, newest first.
#[napi(ts_return_type = "Promise<Array<BackupInfo>>")]
pub fn store_list_backups(
    env: Env,
    h: u32,
) -> Result<AsyncTask<Job<Vec<BackupInfo>, Vec<BackupInfo>>>> {
    let s = store(&env, h)?;
    Ok(Job::task(move || Ok(infos(s.list_backups()?))))
}

/// The backups, newest first, read on the calling thread.
#[napi]
pub fn store_list_backups_sync(env: Env, h: u32) -> Result<Vec<BackupInfo>> {
    let s = store(&env, h)?;
    run(&env, "listBackups", || Ok(infos(s.list_backups()?)))
}

/// Restores a backup (`migration`: a migration snapshot, by name only; else a
/// backup by name or listed path). On a worker thread: the backup verified,
/// the current state backed up, the restore planned on it (the diff, the
/// result, the schema check, the change list and its JSON); on the JS thread
/// the prepared state is swapped in (planned again there only if the state
/// changed in between). Resolves to the JSON change list (`[]` when nothing
/// changed), `{k, o?, n?}`: the old and new values only when `flags` asks for
/// them (someone listens).
#[napi(ts_return_type = "Promise<string>")]
pub fn store_restore(
    env: Env,
    h: u32,
    name: String,
    migration: bool,
    flags: u32,
) -> Result<AsyncTask<Job<(RestorePlan, String), String>>> {
    let s = store(&env, h)?;
    let apply = s.clone();
    Ok(Job::then(
        move || {
            let plan = if migration {
                s.prepare_migration_restore(&name, call(flags))?
            } else {
                s.prepare_restore(&name, call(flags))?
            };
            let json = changes_json(plan.changes());
            Ok((plan, json))
        },
        move |(plan, json)| match apply.restore_prepared(plan, call(flags))? {
            (changes, false) => Ok(changes_json(&changes.unwrap_or_default())),
            (Some(_), true) => Ok(json),
            (None, true) => Ok("[]".into()),
        },
    ))
}

/// One change of the history.
#[napi(object, object_from_js = false, use_nullable = true)]
pub struct HistoryEntry {
    pub seq: f64,
    /// ISO 8601.
    pub timestamp: String,
    /// Milliseconds since 1970.
    pub time: f64,
    pub operation: String,
    /// The top-level keys it changed.
    pub keys: Vec<String>,
    pub hash_before: Option<String>,
    pub hash_after: Option<String>,
    /// Whether it can be undone by a rollback.
    pub reversible: bool,
}

fn entry(e: &ChangeRecord) -> HistoryEntry {
    HistoryEntry {
        seq: e.seq as f64,
        timestamp: iso(e.ts),
        time: e.ts,
        operation: e.op.clone(),
        keys: e.keys.clone(),
        hash_before: e.hash_before.clone(),
        hash_after: e.hash_after.clone(),
        reversible: e.inverse.is_some(),
    }
}

/// Resolves to the history, oldest first.
#[napi(ts_return_type = "Promise<Array<HistoryEntry>>")]
pub fn store_history(
    env: Env,
    h: u32,
) -> Result<AsyncTask<Job<Vec<HistoryEntry>, Vec<HistoryEntry>>>> {
    let s = store(&env, h)?;
    Ok(Job::task(move || {
        Ok(s.history()?.iter().map(entry).collect())
    }))
}

/// What a rollback did.
#[napi(object, object_from_js = false)]
pub struct RollbackResult {
    /// The change the store is now at.
    pub target_seq: f64,
    /// Changes undone.
    pub reverted: u32,
    /// The JSON change list `[{k, o?, n?}]`.
    pub changes: String,
}

/// Rolls back to the state after change `value` (`byTime` false) or at time
/// `value` ms: the history is read on a worker thread, the rollback planned,
/// verified and applied on the JS thread (one change, with values).
#[napi(ts_return_type = "Promise<RollbackResult>")]
pub fn store_rollback(
    env: Env,
    h: u32,
    by_time: bool,
    value: f64,
    flags: u32,
) -> Result<AsyncTask<Job<Vec<ChangeRecord>, RollbackResult>>> {
    let s = store(&env, h)?;
    let target = run(&env, "rollback", || {
        if by_time {
            return Ok(Target::Time(value));
        }
        if !(value >= 0.0 && value.fract() == 0.0) {
            return Err(CoreError::InvalidArgument(format!(
                "Expected a change number (a non-negative integer), got {value}"
            )));
        }
        Ok(Target::Seq(value as u64))
    })?;
    let apply = s.clone();
    Ok(Job::then(
        move || s.history(),
        move |history| {
            // the change list carries values only when someone listens
            // (`flags`): at 10 MB the values of the keys a rollback touches
            // are megabytes of JSON to make and parse on the JS thread
            let (plan, changes) = apply.rollback_with(target, Some(history), call(flags).values)?;
            Ok(RollbackResult {
                target_seq: plan.target_seq as f64,
                reverted: plan.reverted as u32,
                changes: changes_json(&changes),
            })
        },
    ))
}

/// Writes a migration snapshot of the current state now.
#[napi]
pub fn store_migration_snapshot_sync(
    env: Env,
    h: u32,
    reason: String,
) -> Result<Option<BackupInfo>> {
    let s = store(&env, h)?;
    run(&env, "snapshot", || {
        Ok(s.migration_snapshot(&reason)?.map(BackupInfo::from))
    })
}

/// Resolves to the migration snapshots, newest first.
#[napi(ts_return_type = "Promise<Array<BackupInfo>>")]
pub fn store_list_migration_backups(
    env: Env,
    h: u32,
) -> Result<AsyncTask<Job<Vec<BackupInfo>, Vec<BackupInfo>>>> {
    let s = store(&env, h)?;
    Ok(Job::task(move || Ok(infos(s.list_migration_backups()?))))
}

/// A migration snapshot's check.
#[napi(object, object_from_js = false)]
pub struct BackupCheck {
    pub valid: bool,
    pub errors: Vec<String>,
}

/// Checks a migration snapshot: hash, parse, schema (a missing snapshot
/// rejects).
#[napi(ts_return_type = "Promise<BackupCheck>")]
pub fn store_validate_migration_backup(
    env: Env,
    h: u32,
    name: String,
) -> Result<AsyncTask<Job<BackupCheck, BackupCheck>>> {
    let s = store(&env, h)?;
    Ok(Job::task(move || {
        let errors = s.validate_migration_backup(&name)?;
        Ok(BackupCheck {
            valid: errors.is_empty(),
            errors,
        })
    }))
}
