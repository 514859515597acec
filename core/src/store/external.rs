//! Other processes' changes and other programs' edits of the document file.

use std::path::PathBuf;
use std::sync::Arc;

use super::state::lock;
use super::{Author, Core, ExternalOutcome};
use crate::codec::Kind;
use crate::doc::Document;
use crate::error::{Error, Result};
use crate::events::{Event, Origin};
use crate::journal::now_ms;
use crate::ops::{top_level_diff, KeyChange, Op};
use crate::schema::Schema;
use crate::value::Value;

impl Core {
    /// Catches up with other processes now (with the lock). Returns the keys
    /// that changed. `emit`: report them to the sink too.
    pub(super) fn catch_up_now(&self, emit: bool) -> Result<Vec<KeyChange>> {
        if self.read_only {
            return Ok(Vec::new());
        }
        let mut log = lock(&self.log);
        let changes = log.with_lock(|log| self.catch_up_rebased(log))?;
        self.sync_counters(&log);
        drop(log);
        if emit && !changes.is_empty() {
            self.emit(Event::Changed {
                origin: Origin::Remote,
                changes: changes.clone(),
            });
        }
        Ok(changes)
    }

    /// Re-reads the shared log and the document file now: other processes'
    /// changes are applied, and an edit another program made to the file is
    /// taken the way the watcher takes it (diffed against what the file held,
    /// applied on top of the current state as one `external-change`). An edit
    /// that does not parse, is not an object or fails `schema` is refused with
    /// an error (a copy is kept; the file is written again from the store).
    /// Returns the top-level keys whose values changed.
    pub fn reload(
        &self,
        schema: Option<&Arc<Schema>>,
        sync: bool,
        by: Author,
    ) -> Result<Vec<KeyChange>> {
        let before = self.snapshot()?;
        self.flush()?;
        let remote = self.catch_up_now(false)?;
        self.tell_others(by, Origin::Remote, remote);
        let schemas: Vec<Arc<Schema>> = schema.into_iter().cloned().collect();
        if let ExternalOutcome::Invalid { code, reason, kept } =
            self.check_external_by(&schemas, false, sync, by)?
        {
            {
                let kept = match kept {
                    Some(p) => format!("a copy of it is kept as {}", p.display()),
                    None => "no copy could be kept".into(),
                };
                return Err(if code == "E_SCHEMA" {
                    // conf's message as it is; the kept copy is named by the
                    // watcher's event (and in the E_CORRUPT case below)
                    let _ = kept;
                    Error::Schema(reason)
                } else if code == "E_TOO_DEEP" {
                    Error::TooDeep(format!(
                        "The edit of {} was not applied: {reason}; {kept}",
                        self.cfg.doc_path.display()
                    ))
                } else {
                    Error::Corrupt {
                        path: self.cfg.doc_path.clone(),
                        detail: reason,
                        quarantine: format!("(not applied; {kept})"),
                    }
                });
            }
        }
        if sync {
            self.flush()?;
        }
        let after = self.snapshot()?;
        Ok(top_level_diff(&before, &after, true))
    }

    /// Looks at the document file: when another program edited it, the edit
    /// is diffed against the state the file held before and applied on top of
    /// the current one (a local change made since is kept) as one
    /// `external-change` history entry. A file that does not parse, is not an
    /// object, or fails one of `schemas` is refused: kept aside, reported, and
    /// the file written again from the store. `retry`: a file that does not
    /// parse may be a save in progress — say so instead of refusing it. As
    /// the watcher looks: the caller reports what was applied.
    pub fn check_external(
        &self,
        schemas: &[Arc<Schema>],
        retry: bool,
        sync: bool,
    ) -> Result<ExternalOutcome> {
        self.check_external_by(schemas, retry, sync, Author::CORE)
    }

    /// `check_external` for `by` (an edit it applies is told to the other
    /// environments).
    pub(super) fn check_external_by(
        &self,
        schemas: &[Arc<Schema>],
        retry: bool,
        sync: bool,
        by: Author,
    ) -> Result<ExternalOutcome> {
        if self.read_only || self.is_closed() {
            return Ok(ExternalOutcome::Unchanged);
        }
        enum Found {
            Edit(Value, Option<Value>),
            Bad(&'static str, String, Option<PathBuf>),
        }
        let (remote, found) = {
            let mut log = lock(&self.log);
            let r = log.with_lock(|log| {
                let remote = self.catch_up_rebased(log)?;
                let found = match log.take_external() {
                    None => None,
                    Some(crate::log::ExternalFile::Deleted) => {
                        log.forget_file();
                        Some(None)
                    }
                    Some(crate::log::ExternalFile::Edited(bytes, base, stamp)) => {
                        let mut too_deep = false;
                        let parsed = self
                            .cfg
                            .codec
                            .decode(Kind::Document, &bytes)
                            .map_err(|e| e.to_string())
                            .and_then(|plain| {
                                // invalid UTF-8 reads as U+FFFD, as electron-store reads it
                                crate::value::parse_document(&plain)
                                    .map(|(v, _)| v)
                                    .map_err(|e| {
                                        too_deep = e.too_deep;
                                        e.to_string()
                                    })
                            })
                            .and_then(|v| {
                                if v.as_object().is_some() {
                                    Ok(v)
                                } else {
                                    Err("the top level is not an object".to_string())
                                }
                            });
                        match parsed {
                            Err(_) if retry && !too_deep => {
                                // maybe half-written: looked at again later
                                return Ok((remote, Some(Some(Err(())))));
                            }
                            Err(why) => {
                                let kept = self.keep_external(&bytes);
                                log.mark_taken(&bytes, None, stamp);
                                log.forget_file();
                                Some(Some(Ok(Found::Bad(
                                    if too_deep { "E_TOO_DEEP" } else { "E_CORRUPT" },
                                    if too_deep {
                                        format!("the file is {why}")
                                    } else {
                                        format!("the file is not a JSON object: {why}")
                                    },
                                    kept,
                                ))))
                            }
                            Ok(v) => {
                                let doc = Document::new(v.clone())?;
                                let errors: Vec<String> =
                                    schemas.iter().flat_map(|s| s.errors(&doc, None)).collect();
                                if errors.is_empty() {
                                    let base = base.map(|d| d.root().clone());
                                    log.mark_taken(&bytes, Some(doc), stamp);
                                    Some(Some(Ok(Found::Edit(v, base))))
                                } else {
                                    let kept = self.keep_external(&bytes);
                                    log.mark_taken(&bytes, None, stamp);
                                    log.forget_file();
                                    Some(Some(Ok(Found::Bad(
                                        "E_SCHEMA",
                                        format!("Config schema violation: {}", errors.join("; ")),
                                        kept,
                                    ))))
                                }
                            }
                        }
                    }
                };
                Ok((remote, found))
            });
            self.sync_counters(&log);
            r?
        };
        if !remote.is_empty() {
            self.emit(Event::Changed {
                origin: Origin::Remote,
                changes: remote,
            });
        }
        let outcome = match found {
            None => ExternalOutcome::Unchanged,
            Some(None) => {
                self.request_rewrite()?;
                ExternalOutcome::Deleted
            }
            Some(Some(Err(()))) => ExternalOutcome::Retry,
            Some(Some(Ok(Found::Bad(code, reason, kept)))) => {
                self.request_rewrite()?;
                ExternalOutcome::Invalid { code, reason, kept }
            }
            Some(Some(Ok(Found::Edit(value, base)))) => {
                let changes = self
                    .commit(
                        "external-change",
                        Op::Replace {
                            value,
                            keep_internal: true,
                            base,
                        },
                        None,
                        sync,
                        true,
                        by,
                    )?
                    .unwrap_or_default();
                ExternalOutcome::Applied(changes)
            }
        };
        Ok(outcome)
    }

    /// Keeps a copy of a refused external edit beside the journal.
    pub(super) fn keep_external(&self, bytes: &[u8]) -> Option<PathBuf> {
        let dir = self.cfg.journal_path().parent()?.to_path_buf();
        let path = dir.join(format!(
            "{}.invalid-{}",
            self.cfg.file_name(),
            now_ms() as u64
        ));
        let sealed = self
            .cfg
            .codec
            .encode(Kind::Quarantine, std::borrow::Cow::Borrowed(bytes))
            .ok()?;
        crate::fs::write_new(&*self.cfg.fs, &path, &sealed, self.cfg.mode)
            .ok()
            .map(|_| path)
    }

    /// The document file must be written again (deleted, or holding a refused
    /// edit).
    pub(super) fn request_rewrite(&self) -> Result<()> {
        lock(&self.queue).needs_checkpoint = true;
        self.start_writer()?;
        self.wake.notify_one();
        Ok(())
    }
}
