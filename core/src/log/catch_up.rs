//! Catching up with what other processes appended.

use super::replay::replay_checked;
use super::{CaughtUp, FileState, Log, HEAD_BYTES};
use crate::error::{Error, Result};
use crate::journal::{scan, scan_from, ChainTip, ChangeRecord, Entry};

impl Log {
    /// Applies what other processes appended since we last looked (the lock
    /// must be held). Returns how many changes were applied (and whether the
    /// whole state was reloaded).
    pub fn catch_up(&mut self) -> Result<CaughtUp> {
        if self.read_only() {
            return Ok(CaughtUp::default());
        }
        // lines of ours that a failed append could not cut back are not
        // another process's: cut them first (or fail, keeping the lock)
        if self.must_cut {
            self.cut_to(self.len)?;
            self.must_cut = false;
        }
        let path = self.cfg.journal_path();
        // kept open: is the file at the path still ours? (opened per hold:
        // `journal()` compares its first bytes)
        let replaced = match &self.journal {
            Some(j) if self.keep_journal_open => {
                !j.is_at(&path).map_err(Error::io("stat journal", &path))?
            }
            _ => false,
        };
        if replaced {
            self.journal = None;
            self.stale = false;
            return self.resync();
        }
        self.journal()?;
        if self.stale {
            self.stale = false;
            return self.resync();
        }
        let len = self
            .journal()?
            .len()
            .map_err(Error::io("stat journal", &path))?;
        if len == self.len {
            return Ok(CaughtUp::default());
        }
        if len < self.len {
            return self.resync();
        }
        if self.head.is_empty() {
            // We know none of the journal's bytes (it was empty when we last
            // looked): nothing tells us whether it grew from nothing or was
            // replaced (trimmed) since — where the journal is reopened per
            // hold, its first bytes are all there is to tell. Its content
            // decides: a journal that does not continue from what we know is
            // a reload, never damage to cut away.
            return self.resync();
        }
        let start = self.len;
        let bytes = self
            .journal()?
            .read_at(start, (len - start) as usize)
            .map_err(Error::io("read journal", &path))?;
        self.note_head(start, &bytes);
        let mut sc = scan_from(&*self.cfg.codec, &bytes, self.tip.clone(), start);
        if let Some(e) = sc.fatal.take() {
            return Err(e);
        }
        // every change line first, checked in one run over the replica
        let changes: Vec<&ChangeRecord> = sc
            .entries
            .iter()
            .filter_map(|(_, e)| match e {
                Entry::Change(c) => Some(c),
                _ => None,
            })
            .collect();
        let mut h = self.replica_hash();
        let r = replay_checked(&mut self.replica, &mut h, &changes);
        self.replica_hash = Some(h);
        let applied = r.applied;
        let mut stopped: Option<(u64, String)> = None;
        let mut done = 0;
        for (i, (off, e)) in sc.entries.iter().enumerate() {
            let end = sc
                .entries
                .get(i + 1)
                .map(|(o, _)| *o)
                .unwrap_or(sc.good_len);
            match e {
                Entry::Change(c) => {
                    if done == applied {
                        if let Some((_, why)) = &r.stopped {
                            stopped = Some((start + off, why.clone()));
                        }
                        break;
                    }
                    done += 1;
                    self.seq = c.seq;
                    self.tip = ChainTip {
                        seq: Some(c.seq),
                        line: Some(c.line_hash.clone()),
                    };
                    self.lines.push((start + off, Some(c.seq)));
                }
                Entry::Checkpoint(cp) => {
                    if self.file.seq.is_none_or(|s| cp.seq >= s) {
                        self.file = FileState {
                            seq: Some(cp.seq),
                            sha: Some(cp.hash.clone()),
                            merkle: cp.doc.clone(),
                            len: cp.size as usize,
                            recorded: true,
                        };
                    }
                    self.seq = self.seq.max(cp.seq);
                    self.lines.push((start + off, None));
                }
            }
            self.len = start + end;
        }
        let damage = match (stopped, &sc.damaged) {
            (Some((at, why)), _) => Some((at, why)),
            (None, Some(d)) => Some((start + sc.good_len, d.clone())),
            (None, None) => None,
        };
        if let Some((at, why)) = damage {
            // nobody else is writing (we hold the lock): this is damage, not a
            // line in progress
            let tail = &bytes[(at - start) as usize..];
            let kept = self.keep_aside(tail);
            self.cut_to(at)?;
            self.len = at;
            self.lines.retain(|(o, _)| *o < at);
            self.damage = Some(match kept {
                Some(p) => format!(
                    "{why}; the lines from byte {at} on are kept as {}",
                    p.display()
                ),
                None => why,
            });
        } else if sc.torn {
            // a process died in the middle of an append
            let at = start + sc.good_len;
            self.cut_to(at)?;
            self.len = at;
        }
        Ok(CaughtUp {
            applied,
            reloaded: false,
        })
    }

    /// The journal was replaced (trimmed by another process) or shrank:
    /// continue from the entry we last saw if it is still there, else reload
    /// the whole state from the document file and the journal.
    pub(super) fn resync(&mut self) -> Result<CaughtUp> {
        let path = self.cfg.journal_path();
        let j = self.journal()?;
        let len = j.len().map_err(Error::io("stat journal", &path))?;
        let bytes = j
            .read_at(0, len as usize)
            .map_err(Error::io("read journal", &path))?;
        let mut sc = scan(&*self.cfg.codec, &bytes);
        if let Some(e) = sc.fatal.take() {
            return Err(e);
        }
        self.head = bytes[..bytes.len().min(HEAD_BYTES)].to_vec();
        let known = self.tip.clone();
        let pos = sc.entries.iter().position(|(_, e)| match e {
            Entry::Change(c) => {
                Some(c.seq) == known.seq && Some(&c.line_hash) == known.line.as_ref()
            }
            _ => false,
        });
        let continues = match pos {
            Some(_) => true,
            // we know no change yet; the new journal must not skip any
            None => {
                known.seq.is_none()
                    && sc.entries.iter().all(|(_, e)| match e {
                        Entry::Change(c) => c.seq > self.seq,
                        _ => true,
                    })
                    && sc
                        .entries
                        .iter()
                        .find_map(|(_, e)| match e {
                            Entry::Change(c) => Some(c.seq),
                            _ => None,
                        })
                        .is_none_or(|s| s == self.seq + 1)
            }
        };
        if continues {
            let from = match pos {
                Some(i) => sc
                    .entries
                    .get(i + 1)
                    .map(|(o, _)| *o)
                    .unwrap_or(sc.good_len),
                None => 0,
            };
            // everything before `from` is what we had: rebuild the line index
            self.lines = sc
                .entries
                .iter()
                .filter(|(o, _)| *o < from)
                .map(|(o, e)| {
                    (
                        *o,
                        match e {
                            Entry::Change(c) => Some(c.seq),
                            _ => None,
                        },
                    )
                })
                .collect();
            self.len = from;
            let mut r = self.catch_up()?;
            r.reloaded = false;
            return Ok(r);
        }
        let before = self.seq;
        self.load(false)?;
        Ok(CaughtUp {
            applied: self.seq.saturating_sub(before) as usize,
            reloaded: true,
        })
    }
}
