//! The custom-serialize export: with custom `serialize` / `deserialize`
//! functions the store keeps its own JSON document beside its journal, and
//! after every change JS serializes the store and the core writes the app's
//! file — the same atomic write as every other file of the store (a temp
//! file beside the target, written and fsynced, renamed over it, the
//! directory fsynced), then the mark (`storeHistory/<file>.serialized.json`:
//! what the last export wrote, so the next open knows the file as its own).
//! The mark is written only once the export is durable in place.
//!
//! The export is written on the JS thread, which never sleeps: a rename that
//! another program holds up for a moment (Windows: antivirus, backup and
//! indexing software; see `fs::platform::is_transient`) keeps the written
//! temp file and answers [`Exported::Held`] with when to try again; JS tries
//! again then ([`Exporter::retry`]), [`EXPORT_TRIES`] times in all
//! (Chromium's ImportantFileWriter: 5 × 100 ms), and then — or at once, for
//! an error that is not a hold — the error is returned with its OS cause and
//! the temp file removed. A newer export replaces one still waiting.
//! Temp files a crashed process left beside the target are removed when the
//! store opens ([`remove_stale_temps`]).

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use crate::error::{Error, Result};
use crate::fs::{self, parent_of, platform, FileSystem};

/// Tries of a held rename in all.
pub const EXPORT_TRIES: u32 = 5;
/// The pause before the next try of a held rename.
pub const EXPORT_RETRY: Duration = Duration::from_millis(100);

/// `storeHistory/<file>.serialized.json`: what the last export of `target` wrote.
pub fn mark_path(history_dir: &Path, target: &Path) -> PathBuf {
    let name = target
        .file_name()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    history_dir.join(format!("{name}{}", crate::names::MARK_SUFFIX))
}

/// What an export did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exported {
    /// The file and its mark are in place (or nothing was waiting).
    Written,
    /// Another program holds the file: the export waits in its temp file;
    /// call [`Exporter::retry`] after `retry_in`.
    Held { retry_in: Duration },
}

/// An export written but not yet renamed into place.
#[derive(Debug)]
struct Pending {
    tmp: PathBuf,
    target: PathBuf,
    mark: Vec<u8>,
    tries: u32,
}

/// One instance's export waiting for its rename (none most of the time).
#[derive(Debug, Default)]
pub struct ExportSlot(Mutex<Option<Pending>>);

impl ExportSlot {
    fn take(&self) -> Option<Pending> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).take()
    }

    fn put(&self, p: Pending) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = Some(p);
    }
}

/// Removes the temp files crashed processes left beside the export `target`.
pub fn remove_stale_temps(fs: &dyn FileSystem, target: &Path) -> usize {
    let name = target
        .file_name()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    fs::remove_stale_temps(fs, parent_of(target), Some(&name))
}

/// Where an export goes and how it is written: the store's file system,
/// history directory (the mark's) and file mode.
pub struct Exporter<'a> {
    pub fs: &'a dyn FileSystem,
    pub history_dir: &'a Path,
    pub mode: u32,
    pub slot: &'a ExportSlot,
}

impl Exporter<'_> {
    /// What the last export of `target` recorded in its mark (`None`: no mark).
    pub fn mark(&self, target: &Path) -> Result<Option<Vec<u8>>> {
        fs::read_if_exists(self.fs, &mark_path(self.history_dir, target))
    }

    /// Writes `data` (what `serialize` made) to `target` atomically, then
    /// `mark` to the mark file. An export still waiting is dropped first.
    pub fn write(&self, target: &Path, data: &[u8], mark: &[u8]) -> Result<Exported> {
        self.drop_pending();
        let tmp = fs::write_temp(self.fs, target, data, self.mode)?;
        let p = Pending {
            tmp,
            target: target.to_path_buf(),
            mark: mark.to_vec(),
            tries: 1,
        };
        self.place(p, false)
    }

    /// Tries the waiting export's rename again (`last`: the last time, the
    /// instance closes). Nothing waiting: `Written`.
    pub fn retry(&self, last: bool) -> Result<Exported> {
        match self.slot.take() {
            Some(mut p) => {
                p.tries += 1;
                self.place(p, last)
            }
            None => Ok(Exported::Written),
        }
    }

    /// Drops the waiting export (its temp file removed), if any.
    pub fn drop_pending(&self) {
        if let Some(p) = self.slot.take() {
            let _ = self.fs.remove_file(&p.tmp);
        }
    }

    /// Renames the export's temp file over its target; on success fsyncs the
    /// directory (the mark must never be durable without the export) and
    /// writes the mark. A hold keeps the temp file for the next try while
    /// tries are left; any other end removes it.
    fn place(&self, p: Pending, last: bool) -> Result<Exported> {
        match self.fs.rename(&p.tmp, &p.target) {
            Ok(()) => {
                fs::sync_dir(self.fs, parent_of(&p.target))?;
                let mark = mark_path(self.history_dir, &p.target);
                fs::atomic_write(self.fs, &mark, &p.mark, self.mode)?;
                Ok(Exported::Written)
            }
            Err(e) if platform::is_transient(&e) && !last && p.tries < EXPORT_TRIES => {
                self.slot.put(p);
                Ok(Exported::Held {
                    retry_in: EXPORT_RETRY,
                })
            }
            Err(e) => {
                let _ = self.fs.remove_file(&p.tmp);
                Err(Error::io("rename over", &p.target)(e))
            }
        }
    }
}
