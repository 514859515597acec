//! Watching the files (`watch: true`): the watcher the instances share.

use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use super::state::lock;
use super::{Core, ExternalOutcome};
use crate::error::{Error, Result};
use crate::events::{Event, Origin};
use crate::schema::Schema;
use crate::watch::{Source, WatchSetup, Watched, Watcher};

#[derive(Default)]
pub(super) struct WatchSet {
    pub(super) handles: Vec<(u64, Option<Arc<Schema>>)>,
    pub(super) watcher: Option<Watcher>,
    /// The last watch error reported (reported once, not on every event).
    pub(super) last_error: Option<String>,
}

impl Core {
    /// Whether `lock` (a store's `<history>/<file>.lock`) is this store's lock
    /// file, whatever its spelling.
    pub fn locks_at(&self, lock_file: &Path) -> bool {
        lock(&self.log).locks_at(lock_file)
    }

    /// Starts watching for instance `handle` (its `schema` checks external
    /// edits). The watcher is shared by every watching instance of the file.
    pub fn watch(&self, handle: u64, schema: Option<Arc<Schema>>) -> Result<()> {
        self.watch_with(handle, schema, WatchSetup::default())
    }

    /// `watch` with explicit debounce timing, clock and backend (tests).
    pub fn watch_with(
        &self,
        handle: u64,
        schema: Option<Arc<Schema>>,
        setup: WatchSetup,
    ) -> Result<()> {
        if self.is_closed() {
            return Err(Error::Closed);
        }
        let mut w = lock(&self.watching);
        w.handles.retain(|(h, _)| *h != handle);
        w.handles.push((handle, schema));
        // a watcher whose thread ended (a bug, reported) is replaced
        let ended = w.watcher.as_ref().is_some_and(|x| !x.is_running());
        if w.watcher.is_none() || ended {
            let started = Watcher::start(
                self.me.clone(),
                self.cfg.fs.clone(),
                self.cfg.doc_path.clone(),
                self.cfg.journal_path(),
                setup,
            );
            let started = match started {
                Ok(x) => x,
                Err(e) => {
                    w.handles.retain(|(h, _)| *h != handle);
                    return Err(e);
                }
            };
            if let Some(old) = w.watcher.replace(started) {
                old.stop();
            }
        }
        Ok(())
    }

    /// Instance `handle` stops watching; the watcher stops with the last one.
    pub fn unwatch(&self, handle: u64) {
        let stopped = {
            let mut w = lock(&self.watching);
            w.handles.retain(|(h, _)| *h != handle);
            if w.handles.is_empty() {
                w.watcher.take()
            } else {
                None
            }
        };
        if let Some(w) = stopped {
            w.stop();
        }
    }

    /// Whether the file is being watched: a watcher runs and its OS watch
    /// works (`false` while a failed one waits to restart).
    pub fn is_watching(&self) -> bool {
        lock(&self.watching)
            .watcher
            .as_ref()
            .is_some_and(|w| w.is_alive())
    }

    pub(super) fn stop_watcher(&self) {
        let w = {
            let mut w = lock(&self.watching);
            w.handles.clear();
            w.watcher.take()
        };
        if let Some(w) = w {
            w.stop();
        }
    }
}

/// The watcher sees the store only through this (no import of the store in
/// `watch`).
impl Watched for Core {
    fn is_closed(&self) -> bool {
        Core::is_closed(self)
    }

    /// The watcher saw `s` change (on its thread).
    fn on_watch(&self, s: Source, retry: bool) -> Option<ExternalOutcome> {
        let r = match s {
            Source::Journal => {
                // our own appends are the common case: a stat, no lock (the
                // writer holds the log's mutex through its fsync)
                let known = self.journal_len.load(Ordering::Acquire);
                let on_disk = self
                    .cfg
                    .fs
                    .stat(&self.cfg.journal_path(), true)
                    .ok()
                    .map(|s| s.len);
                if on_disk == Some(known) && known > 0 {
                    return None;
                }
                if lock(&self.log).journal_unchanged() {
                    return None;
                }
                self.catch_up_now(true).map(|_| None)
            }
            Source::Document => {
                let schemas: Vec<Arc<Schema>> = lock(&self.watching)
                    .handles
                    .iter()
                    .filter_map(|(_, s)| s.clone())
                    .collect();
                self.check_external(&schemas, retry, false).map(Some)
            }
        };
        match r {
            Ok(Some(ExternalOutcome::Applied(changes))) => {
                if !changes.is_empty() {
                    self.emit(Event::Changed {
                        origin: Origin::External,
                        changes,
                    });
                }
                lock(&self.watching).last_error = None;
                None
            }
            Ok(Some(ExternalOutcome::Invalid { code, reason, kept })) => {
                self.emit(Event::InvalidExternalChange {
                    code,
                    reason,
                    kept: kept.map(|p| p.display().to_string()),
                });
                None
            }
            Ok(Some(ExternalOutcome::Retry)) => Some(ExternalOutcome::Retry),
            Ok(_) => {
                lock(&self.watching).last_error = None;
                None
            }
            Err(Error::Closed) => None,
            Err(e) => {
                self.report_watch_error(e);
                None
            }
        }
    }

    /// The watcher stopped working (its backend failed or its thread ended):
    /// reported every time it happens (the watcher reports each stop once).
    fn report_watch_stopped(&self, e: Error) {
        self.emit(Event::WatchError { error: Arc::new(e) });
    }

    /// A failure while handling a watch event: reported once per distinct
    /// error (the next event tries again).
    fn report_watch_error(&self, e: Error) {
        let msg = e.to_string();
        {
            let mut w = lock(&self.watching);
            if w.last_error.as_deref() == Some(msg.as_str()) {
                return;
            }
            w.last_error = Some(msg.clone());
        }
        self.emit(Event::WatchError { error: Arc::new(e) });
    }
}
