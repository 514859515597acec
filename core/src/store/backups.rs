//! Backups: made now, queued, listed, read.

use std::borrow::Cow;
use std::path::{Path, PathBuf};

use super::state::lock;
use super::Core;
use crate::backup;
use crate::codec::Kind;
use crate::error::{Error, Result};
use crate::fs::read_if_exists;
use crate::value::{hex, merkle, sha256_hex, Value};

impl Core {
    /// The state now (O(1)) and the latest change it includes.
    pub fn snapshot_with_seq(&self) -> Result<(Value, u64)> {
        let st = lock(&self.state);
        if st.closed {
            return Err(Error::Closed);
        }
        Ok((st.doc.root().clone(), lock(&self.queue).head_seq))
    }

    /// Takes a verified backup of the current state into `dir`, keeping `keep`.
    /// With `only_if_changed`, nothing is written when the newest backup already
    /// holds this state. Safe to call off the JS thread.
    pub fn create_backup_in(
        &self,
        dir: &Path,
        reason: &str,
        only_if_changed: bool,
        keep: usize,
    ) -> Result<Option<backup::Info>> {
        let _busy = self.busy.read().unwrap_or_else(|p| p.into_inner());
        if self.is_closed() {
            return Err(Error::Closed);
        }
        self.write_backup(dir, reason, only_if_changed, keep, None)
    }

    /// A verified backup of `state` (a snapshot and the latest change it
    /// includes, from [`Core::snapshot_with_seq`]) into `dir`, keeping `keep`.
    pub fn backup_state_in(
        &self,
        dir: &Path,
        reason: &str,
        only_if_changed: bool,
        keep: usize,
        state: (Value, u64),
    ) -> Result<Option<backup::Info>> {
        let _busy = self.busy.read().unwrap_or_else(|p| p.into_inner());
        if self.is_closed() {
            return Err(Error::Closed);
        }
        self.write_backup(dir, reason, only_if_changed, keep, Some(state))
    }

    /// Takes the state now and registers a backup of it, to be written by
    /// `run_queued_backup` (off the JS thread) — or by `close()`, if that comes
    /// first, so a backup asked for is never lost.
    pub fn queue_backup(
        &self,
        dir: PathBuf,
        reason: &str,
        only_if_changed: bool,
        keep: usize,
    ) -> Result<u64> {
        let snapshot = self.snapshot_with_seq()?;
        let mut q = lock(&self.queued_backups);
        q.next += 1;
        let id = q.next;
        q.waiting
            .push((id, dir, reason.to_string(), only_if_changed, keep, snapshot));
        Ok(id)
    }

    /// Writes a backup registered by `queue_backup` (or returns what `close()`
    /// wrote for it).
    pub fn run_queued_backup(&self, id: u64) -> Result<Option<backup::Info>> {
        // off the JS thread: a brief hold on a file is waited out
        let _patient = crate::fs::platform::patient();
        // hold `busy` before taking the job, so `close()` either waits for this
        // backup or has already written it
        let _busy = self.busy.read().unwrap_or_else(|p| p.into_inner());
        let job = {
            let mut q = lock(&self.queued_backups);
            if let Some(r) = q.done.remove(&id) {
                return r;
            }
            let i = q.waiting.iter().position(|j| j.0 == id);
            i.map(|i| q.waiting.remove(i))
        };
        match job {
            Some((_, dir, reason, only, keep, snap)) if !self.is_closed() => {
                self.write_backup(&dir, &reason, only, keep, Some(snap))
            }
            _ => Err(Error::Closed),
        }
    }

    pub(super) fn write_backup(
        &self,
        dir: &Path,
        reason: &str,
        only_if_changed: bool,
        keep: usize,
        snapshot: Option<(Value, u64)>,
    ) -> Result<Option<backup::Info>> {
        if self.read_only {
            return Err(lock(&self.log).read_only_error());
        }
        crate::testing::point("backup");
        // one backup at a time, so pruning never sees a half-written one
        let _one = lock(&self.backup_lock);
        let (snap, want_seq) = match snapshot {
            Some(s) => s,
            None => self.snapshot_with_seq()?,
        };
        let doc_hash = hex(&merkle(&snap));
        let fs = &*self.cfg.fs;
        let codec = &*self.cfg.codec;
        let original = self.cfg.file_name();
        if only_if_changed {
            if let Some(newest) = backup::list_of(fs, codec, dir, &original)?
                .into_iter()
                .next()
            {
                if newest.meta.as_ref().map(|m| m.document_hash.as_str()) == Some(doc_hash.as_str())
                {
                    return Ok(None);
                }
            }
        }
        // When the store file holds exactly that state, its bytes are the
        // backup: read once, hashed once (that hash says it is the file the
        // log knows, and is the backup's own hash when the bytes are stored
        // as they are), never serialized again.
        self.flush()?;
        let known = lock(&self.log).file.clone();
        let from_file = (|| {
            if known
                .merkle
                .as_deref()
                .is_some_and(|m| m != doc_hash.as_str())
            {
                return None;
            }
            let known_sha = known.sha.as_deref()?;
            // the file the log knows, by its stamp before and after the read
            // (then its bytes need no hashing: their hash is known)
            let looked = std::time::SystemTime::now();
            let (untouched, before) = {
                let log = lock(&self.log);
                (log.file_untouched(), log.stamp_now())
            };
            let bytes = read_if_exists(fs, &self.cfg.doc_path).ok()??;
            if bytes.len() != known.len {
                return None;
            }
            // the bytes' SHA-256 is compared with the known one at most once
            let mut sha_checked = false;
            let untouched = if untouched {
                lock(&self.log).file_untouched()
            } else {
                // the stamp cannot tell (not confirmed since the store
                // opened): the bytes are hashed once, and the stamp trusted
                // for the next backups
                if sha256_hex(&bytes) != known_sha {
                    return None;
                }
                sha_checked = true;
                lock(&self.log).confirm_file(before, looked, known_sha)
            };
            let (plain, same_bytes) = match codec.decode(Kind::Document, &bytes).ok()? {
                // stored as they are: their hash is checked on the backup's
                // bytes as they read back (`backup::create`)
                Cow::Borrowed(_) => (bytes, true),
                Cow::Owned(p) => {
                    if !sha_checked && sha256_hex(&bytes) != known_sha {
                        return None;
                    }
                    (p, false)
                }
            };
            // a backup is read strictly: a file with invalid UTF-8 (read as
            // U+FFFD) is backed up as the state it was read as
            std::str::from_utf8(&plain).ok()?;
            let file_merkle = match &known.merkle {
                Some(m) => m.clone(),
                None => {
                    // a file no checkpoint line names (opened as it was):
                    // its state's hash, computed once and kept by the log
                    if same_bytes && !sha_checked && sha256_hex(&plain) != known_sha {
                        return None;
                    }
                    let m = hex(&merkle(&crate::value::parse(&plain).ok()?));
                    let mut log = lock(&self.log);
                    if log.file.sha.as_deref() == Some(known_sha) && log.file.merkle.is_none() {
                        log.file.merkle = Some(m.clone());
                    }
                    m
                }
            };
            if file_merkle != doc_hash {
                return None;
            }
            Some((
                plain,
                same_bytes.then(|| (known_sha.to_string(), untouched)),
            ))
        })();
        let file_is_state =
            from_file.is_some() || known.merkle.as_deref() == Some(doc_hash.as_str());
        let (plain, sha) = match from_file {
            Some((p, sha)) => (p, sha),
            None => (crate::value::to_json(&snap, true), None),
        };
        // the change that produced this state (the snapshot may predate changes
        // that were still being written when it was taken)
        let seq = match known.seq.filter(|_| file_is_state) {
            Some(s) => s,
            None => lock(&self.log)
                .read_history()?
                .iter()
                .rev()
                .find(|e| e.hash_after.as_deref() == Some(doc_hash.as_str()))
                .map(|e| e.seq)
                .unwrap_or(want_seq),
        };
        let create = |bytes: &[u8], sha: Option<&(String, bool)>| {
            backup::create(
                fs,
                codec,
                dir,
                &backup::Source {
                    bytes,
                    sha: sha.map(|s| s.0.as_str()),
                    sha_checked: sha.is_some_and(|s| s.1),
                    original_file: &original,
                    reason,
                    seq,
                    document_hash: &doc_hash,
                },
                self.cfg.mode,
                keep,
            )
        };
        let info = match create(&plain, sha.as_ref()) {
            // the store file changed between its check and its read (another
            // program wrote it): the snapshot is serialized instead
            Err(Error::BackupCorrupt(_)) if sha.is_some() => {
                create(&crate::value::to_json(&snap, true), None)?
            }
            r => r?,
        };
        Ok(Some(info))
    }

    /// The backups in `dir`, newest first.
    pub fn list_backups_in(&self, dir: &Path) -> Result<Vec<backup::Info>> {
        // not while a backup is half-written
        let _one = lock(&self.backup_lock);
        backup::list_of(&*self.cfg.fs, &*self.cfg.codec, dir, &self.cfg.file_name())
    }

    /// Finds and verifies a backup in `dir` (its name, or the path it was listed
    /// with) and reads it.
    pub fn read_backup_in(&self, dir: &Path, name_or_path: &str) -> Result<(Value, backup::Meta)> {
        let path = backup::resolve_of(
            &*self.cfg.fs,
            &*self.cfg.codec,
            dir,
            name_or_path,
            &self.cfg.file_name(),
        )?;
        backup::read_verified(&*self.cfg.fs, &*self.cfg.codec, &path)
    }
}
