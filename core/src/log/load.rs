//! Loading the state at open (and on a full reload): the document file and
//! the journal, repaired and checked. `Log::load` reads as its steps:
//!
//! 1. clean the temp files a crash left (at open);
//! 2. read and scan the journal, keeping a damaged one aside;
//! 3. read the document file and settle on a state: the file plus the
//!    journal's changes after the checkpoint that names it (`settle_good`),
//!    or a state rebuilt from the history or a backup when the file is
//!    missing (`settle_missing`) or damaged (`settle_bad`);
//! 4. set aside the journal lines from where a replay stopped, and cut the
//!    journal back to its trusted prefix;
//! 5. adopt the state (replica, chain tip, line index);
//! 6. record what the history does not explain, and write the document file
//!    when it must be written now.

use super::recovery::{
    changes_of, read_document, settle_bad, settle_missing, FileRead, History, Settled,
};
use super::replay::replay_checked;
use super::{FileState, Log, LogConfig, NewEntry, OpenReport, HEAD_BYTES};
use crate::doc::{Change, Document, PatchOp};
use crate::error::{Error, Result};
use crate::fs::{parent_of, read_if_exists, remove_stale_temps, tighten_mode};
use crate::journal::{now_ms, scan, ChainTip, ChangeRecord, Entry};
use crate::value::{hex, merkle, Value};

/// Step 1: temp files a crash left beside the document, in the history,
/// backup and migration directories.
fn remove_temps(cfg: &LogConfig) -> usize {
    let fs = &*cfg.fs;
    let name = cfg.file_name();
    remove_stale_temps(fs, parent_of(&cfg.doc_path), Some(&name))
        + remove_stale_temps(fs, &cfg.history_dir, None)
        + remove_stale_temps(fs, &cfg.backup_dir, None)
        + remove_stale_temps(fs, &cfg.migration_dir(), None)
}

/// Step 3, the document file parses: it is the state after the checkpoint
/// that names it (by its bytes' hash), or after the change whose recorded
/// state it holds (a file written just before a crash, its checkpoint line
/// not yet appended); the journal's later changes are replayed on it. A file
/// the history does not explain was edited by another program: taken as it
/// is.
fn settle_good(
    value: Value,
    sha: String,
    len: usize,
    history: &History<'_>,
    report: &mut OpenReport,
) -> Result<Settled> {
    let History {
        changes,
        checkpoints,
    } = history;
    let mut s = Settled::new(Document::new(value)?);
    s.file = FileState {
        seq: None,
        sha: Some(sha.clone()),
        merkle: None,
        len,
        recorded: false,
    };
    let by_checkpoint = checkpoints.iter().rev().find(|c| c.hash == sha);
    let base: Option<u64> = match by_checkpoint {
        Some(c) => {
            s.file.merkle = c.doc.clone();
            s.file.recorded = true;
            Some(c.seq)
        }
        None if !changes.is_empty() => {
            // a file written just before a crash, its checkpoint line
            // not yet appended: recognise it by content
            let m = hex(&merkle(s.doc.root()));
            s.file.merkle = Some(m.clone());
            s.hash = Some(m.clone());
            changes
                .iter()
                .rev()
                .find(|c| c.hash_after.as_deref() == Some(m.as_str()))
                .map(|c| c.seq)
                .or_else(|| {
                    let first = changes[0];
                    (first.hash_before.as_deref() == Some(m.as_str())).then(|| first.seq - 1)
                })
        }
        None => None,
    };
    match base {
        Some(base) => {
            s.file.seq = Some(base);
            let todo: Vec<&ChangeRecord> =
                changes.iter().copied().filter(|c| c.seq > base).collect();
            if todo.is_empty() {
                s.hash = s.hash.take().or_else(|| s.file.merkle.clone());
            } else {
                let mut h = match s.hash.take().or_else(|| s.file.merkle.clone()) {
                    Some(h) => h,
                    None => hex(&merkle(s.doc.root())),
                };
                let r = replay_checked(&mut s.doc, &mut h, &todo);
                report.replayed = r.applied;
                if let Some((i, why)) = r.stopped {
                    s.stop = Some((todo[i].seq, why));
                }
                s.hash = Some(h);
            }
        }
        None if !history.is_empty() && s.file.sha.is_some() => {
            // edited by another program: taken as it is
            report.external_edit = true;
            s.record = Some("external-edit");
        }
        None => {}
    }
    Ok(s)
}

/// Adds `msg` to the journal damage the report tells of.
fn add_damage(report: &mut OpenReport, msg: String) {
    report.journal_damage = Some(match report.journal_damage.take() {
        Some(d) => format!("{d}; {msg}"),
        None => msg,
    });
}

impl Log {
    /// Reads the document and the whole journal and makes the replica the state
    /// they describe (see the module docs). `at_open`: also clean temp files.
    pub(super) fn load(&mut self, at_open: bool) -> Result<OpenReport> {
        let writable = !self.read_only();
        let cfg = self.cfg.clone();
        let mut report = OpenReport {
            read_only: !writable,
            ..OpenReport::default()
        };
        if writable && at_open {
            report.temps_removed = remove_temps(&cfg);
        }
        let bytes = self.read_journal_bytes(writable)?;
        let mut sc = scan(&*cfg.codec, &bytes);
        if let Some(e) = sc.fatal.take() {
            return Err(e);
        }
        if let Some(d) = &sc.damaged {
            report.journal_damage = Some(self.damage_note(d, &bytes, writable));
        }
        let mut good = sc.good_len;
        let mut entries = sc.entries;
        let found = read_document(&cfg)?;
        let (mut settled, reached) = {
            let history = History::of(&entries);
            let settled = match found {
                FileRead::Good {
                    value,
                    sha,
                    len,
                    invalid_utf8,
                } => {
                    report.invalid_utf8 = invalid_utf8;
                    settle_good(value, sha, len, &history, &mut report)?
                }
                FileRead::Missing => settle_missing(&cfg, &history, &mut report),
                FileRead::Bad {
                    detail,
                    raw,
                    too_deep,
                } => settle_bad(
                    &cfg,
                    (detail, raw, too_deep),
                    &history,
                    writable,
                    &mut report,
                )?,
            };
            (settled, history.reached())
        };
        if let Some((seq, why)) = settled.stop.take() {
            good =
                self.set_aside_from(seq, &why, &bytes, good, &mut entries, writable, &mut report);
        }
        if writable && good < bytes.len() as u64 {
            self.cut_to(good)?;
        }
        let (record, write_now) = (settled.record, settled.write_now);
        self.adopt(&bytes, good, &entries, settled);
        if writable {
            if let Some(op) = record {
                self.record_unexplained(op, reached.unwrap_or_default())?;
            }
            if write_now {
                self.write_document()?;
            }
            if self.file.sha.is_some() {
                tighten_mode(&*cfg.fs, &cfg.doc_path, cfg.mode)?;
            }
        }
        Ok(report)
    }

    /// Step 2: the journal's bytes (through the handle held with the lock,
    /// its mode tightened; read-only logs read the file).
    fn read_journal_bytes(&mut self, writable: bool) -> Result<Vec<u8>> {
        let cfg = self.cfg.clone();
        if !writable {
            return Ok(read_if_exists(&*cfg.fs, &cfg.journal_path())?.unwrap_or_default());
        }
        let path = cfg.journal_path();
        let j = self.journal()?;
        let len = j.len().map_err(Error::io("stat journal", &path))?;
        let b = j
            .read_at(0, len as usize)
            .map_err(Error::io("read journal", &path))?;
        tighten_mode(&*cfg.fs, &path, cfg.mode)?;
        Ok(b)
    }

    /// Step 2, a damaged journal: kept aside as found (when writable); the
    /// damage as the report tells it.
    fn damage_note(&self, damage: &str, bytes: &[u8], writable: bool) -> String {
        let kept = if writable {
            self.keep_aside(bytes)
        } else {
            None
        };
        match kept {
            Some(p) => format!("{damage}; the journal as found is kept as {}", p.display()),
            None => damage.to_string(),
        }
    }

    /// Step 4: a replay stopped at change `seq`: the journal as found is kept
    /// aside, and its lines from that change on are dropped. Returns the
    /// length of the trusted prefix.
    #[allow(clippy::too_many_arguments)]
    fn set_aside_from(
        &self,
        seq: u64,
        why: &str,
        bytes: &[u8],
        good: u64,
        entries: &mut Vec<(u64, Entry)>,
        writable: bool,
        report: &mut OpenReport,
    ) -> u64 {
        let off = entries
            .iter()
            .find(|(_, e)| matches!(e, Entry::Change(c) if c.seq == seq))
            .map(|(o, _)| *o)
            .unwrap_or(good);
        let kept = if writable {
            self.keep_aside(bytes)
        } else {
            None
        };
        let msg = match kept {
            Some(p) => format!(
                "replay stopped at the last consistent state: {why}; the journal as found is kept as {}",
                p.display()
            ),
            None => format!("replay stopped at the last consistent state: {why}"),
        };
        add_damage(report, msg);
        entries.retain(|(o, _)| *o < off);
        off
    }

    /// Step 5: the settled state becomes the replica; the journal's trusted
    /// prefix (`good` bytes, `entries`) what the log knows.
    fn adopt(&mut self, bytes: &[u8], good: u64, entries: &[(u64, Entry)], s: Settled) {
        self.len = good;
        self.head = bytes[..(good as usize).min(HEAD_BYTES)].to_vec();
        self.stale = false;
        self.lines = entries
            .iter()
            .map(|(o, e)| {
                (
                    *o,
                    match e {
                        Entry::Change(c) => Some(c.seq),
                        Entry::Checkpoint(_) => None,
                    },
                )
            })
            .collect();
        let kept_changes = changes_of(entries);
        self.tip = match kept_changes.last() {
            Some(c) => ChainTip {
                seq: Some(c.seq),
                line: Some(c.line_hash.clone()),
            },
            None => ChainTip::default(),
        };
        self.seq = kept_changes
            .last()
            .map(|c| c.seq)
            .into_iter()
            .chain(entries.iter().filter_map(|(_, e)| match e {
                Entry::Checkpoint(c) => Some(c.seq),
                _ => None,
            }))
            .max()
            .unwrap_or(0);
        self.replica = s.doc;
        self.replica_hash = s.hash;
        self.file = s.file;
    }

    /// Step 6: records a state the history does not explain (`op`: an
    /// external edit, a recovery, a cleared invalid file) as one whole-document
    /// entry from `before` (the state the history reached). The state before
    /// it is not known (only its hash is), so it cannot be rolled back past.
    fn record_unexplained(&mut self, op: &'static str, before: String) -> Result<()> {
        let change = Change {
            patch: vec![PatchOp::Replace {
                path: vec![],
                value: self.replica.root().clone(),
            }],
            inverse: vec![],
        };
        let keys: Vec<String> = self.replica.map().keys().map(|k| k.to_string()).collect();
        let after = self.replica_hash();
        let doc = self.replica.clone();
        self.append_prepared(
            &[(
                NewEntry {
                    ts: now_ms(),
                    op,
                    keys: &keys,
                    change: &change,
                    reversible: false,
                },
                after,
            )],
            Some(&before),
            doc,
        )?;
        Ok(())
    }
}
