//! Re-keying: rotating the secret key, encrypting a store opened in clear.

use std::sync::Arc;

use super::state::lock;
use super::Core;
use crate::codec::Codec;
use crate::crypto::{self, RekeyRecord};
use crate::error::{Error, Result};
use crate::events::{Event, Origin};
use crate::log::Resealed;

impl Core {
    /// Re-encrypts every file of the store under `key` (`rotateSecretKey`):
    /// see `Log::reseal`. Atomic across a crash: a record holding each key
    /// sealed under the other is written first and removed last, so the
    /// store opens with either key and the next open finishes the rotation
    /// (new key) or undoes it (old key).
    pub fn rotate_key(&self, key: &[u8]) -> Result<Resealed> {
        if self.read_only {
            return Err(Error::ReadOnly(format!(
                "{} is open read-only: its key cannot be rotated",
                self.cfg.doc_path.display()
            )));
        }
        if self.in_txn() {
            return Err(Error::Transaction(
                "rotateSecretKey cannot run inside a transaction".into(),
            ));
        }
        let to = crypto::rekeyed(&*self.cell.get(), key)?;
        self.reseal(to, true)
    }

    /// Encrypts a store open in clear with `codec` (a second instance in this
    /// process gave a key): see `Log::reseal`.
    pub fn encrypt_with(&self, codec: Arc<dyn Codec>) -> Result<Resealed> {
        if self.cell.key_id().is_some() {
            return Err(Error::Internal("the store is encrypted already".into()));
        }
        if self.read_only {
            return Err(Error::ReadOnly(format!(
                "{} is open read-only: it cannot be encrypted",
                self.cfg.doc_path.display()
            )));
        }
        self.reseal(codec, false)
    }

    pub(super) fn reseal(&self, to: Arc<dyn Codec>, write_record: bool) -> Result<Resealed> {
        let _backups = lock(&self.backup_lock);
        self.flush()?;
        self.catch_up_now(true)?;
        let rekey = crypto::rekey_path(&self.cfg.history_dir, &self.cfg.file_name());
        let fs = self.cfg.fs.clone();
        let mut log = lock(&self.log);
        let r = log.with_lock(|log| {
            let remote = self.catch_up_rebased(log)?;
            if write_record {
                let rec = RekeyRecord::new(&*self.cell.get(), &*to)?;
                crate::fs::atomic_write(&*fs, &rekey, &rec.to_json(), self.cfg.mode)?;
            }
            crate::testing::point("reseal.start");
            let done = log.reseal(&self.cell, to.clone())?;
            crate::testing::point("reseal.end");
            match fs.remove_file(&rekey) {
                Ok(()) => crate::fs::sync_dir(&*fs, &self.cfg.history_dir)?,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(Error::io("remove", &rekey)(e)),
            }
            self.cell.clear_plain_seen();
            Ok((done, remote))
        });
        self.sync_counters(&log);
        drop(log);
        let (done, remote) = r?;
        if !remote.is_empty() {
            self.emit(Event::Changed {
                origin: Origin::Remote,
                changes: remote,
            });
        }
        Ok(done)
    }
}
