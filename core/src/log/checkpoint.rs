//! Checkpoints: the document file written from the replica, and the journal
//! trimmed.

use std::time::Instant;

use super::{prepare, CheckpointPlan, ExternalFile, FileState, Log, Prepared, Snapshot};
use crate::error::{Error, Result};
use crate::fs::{replace_with_temp, ReplaceStep};
use crate::journal::{encode_checkpoint, now_ms, seal_line, Checkpoint};

impl Log {
    /// Whether the document file holds the replica's state and a checkpoint
    /// line says so.
    pub fn document_current(&self) -> bool {
        self.file.seq == Some(self.seq) && self.file.sha.is_some() && self.file.recorded
    }

    /// Writes the document file from the replica (unless the file already
    /// holds that state), then records the checkpoint line. The lock must be
    /// held and the replica caught up.
    pub fn write_document(&mut self) -> Result<()> {
        if self.read_only() {
            return Err(self.read_only_error());
        }
        let started = Instant::now();
        match self.plan(false) {
            CheckpointPlan::Current => Ok(()),
            CheckpointPlan::RecordOnly => self.record_checkpoint(started),
            CheckpointPlan::Write(snap) => {
                let prepared = prepare(&self.cfg, snap)?;
                match self.install_prepared(prepared, started)? {
                    true => Ok(()),
                    // nothing changed the file since the snapshot just taken
                    false => Err(Error::Internal(
                        "the document file changed while it was being written; it was not replaced"
                            .into(),
                    )),
                }
            }
        }
    }

    /// What a checkpoint of the replica needs: nothing (the file holds it and
    /// a checkpoint line names it), only the line (the file holds the state),
    /// or the file written from this snapshot (which the caller may serialize
    /// and write to a temp file off the lock: [`prepare`]).
    pub fn checkpoint_plan(&mut self) -> CheckpointPlan {
        self.plan(true)
    }

    fn plan(&mut self, skip_current: bool) -> CheckpointPlan {
        if skip_current && self.document_current() {
            return CheckpointPlan::Current;
        }
        let doc_hash = self.replica_hash();
        if self.file.merkle.as_deref() == Some(doc_hash.as_str()) && self.file.sha.is_some() {
            // the file already holds exactly this state: keep its bytes
            return CheckpointPlan::RecordOnly;
        }
        CheckpointPlan::Write(Snapshot {
            seq: self.seq,
            doc: self.replica.clone(),
            merkle: doc_hash,
            base_sha: self.file.sha.clone(),
            base_seq: self.file.seq,
            hint: self.file.len + self.file.len / 16 + 64,
            compact: self.cfg.compact,
        })
    }

    /// Records a checkpoint line for the file that already holds the replica.
    fn record_checkpoint(&mut self, started: Instant) -> Result<()> {
        let sha = self.file.sha.clone().unwrap_or_default();
        let len = self.file.len;
        let doc_hash = self.replica_hash();
        self.finish_checkpoint(self.seq, sha, doc_hash, len, started)
    }

    /// Puts a document file prepared from a snapshot in place and records its
    /// checkpoint line, when it is still the newest file this log could write
    /// (the lock must be held and the log caught up). `Ok(false)`: obsolete (a
    /// newer file was written or checkpointed since the snapshot, by this
    /// process or another, or the file was forgotten): the temp file is
    /// removed and nothing changes.
    pub fn install_prepared(&mut self, p: Prepared, started: Instant) -> Result<bool> {
        let fs = self.cfg.fs.clone();
        let still_newest = self.file.sha == p.snap.base_sha
            && self.file.seq == p.snap.base_seq
            && p.snap.seq <= self.seq
            && (p.snap.seq == self.seq || self.lines.iter().rev().any(|l| l.1 == Some(p.snap.seq)));
        if self.read_only() || !still_newest {
            let _ = fs.remove_file(&p.tmp);
            return Ok(false);
        }
        crate::testing::point("checkpoint.install");
        let path = self.cfg.doc_path.clone();
        let mut ours = None;
        let mut replaced_at = std::time::SystemTime::now();
        replace_with_temp(&*fs, &p.tmp, &path, |step| match step {
            ReplaceStep::Before(tmp) => {
                // an edit another program made since we last looked is kept
                // for the watcher / reload before we overwrite it (where the
                // platform cannot swap atomically, only the microseconds from
                // here to the rename are left)
                if let Some(ExternalFile::Edited(b, base, _)) = self.peek_external() {
                    self.external = Some((b, base));
                }
                // nobody else's write can be older than this
                replaced_at = std::time::SystemTime::now();
                // the replace keeps inode, length and mtime: the stamp
                // of what we are about to put in place
                ours = fs
                    .stat(tmp, false)
                    .ok()
                    .map(|st| (st.len, st.modified, st.ino));
            }
            ReplaceStep::Displaced(old) => self.keep_displaced(old),
        })?;
        self.stamp = ours;
        self.verified_at = replaced_at;
        let Prepared { snap, sha, len, .. } = p;
        self.finish_checkpoint(snap.seq, sha, snap.merkle, len, started)?;
        Ok(true)
    }

    /// The file holding the state after `seq` is durably in place: only now
    /// may a checkpoint line name it.
    fn finish_checkpoint(
        &mut self,
        seq: u64,
        sha: String,
        doc_hash: String,
        len: usize,
        started: Instant,
    ) -> Result<()> {
        if self.seen.as_ref().is_some_and(|(h, _)| *h != sha) {
            self.seen = None;
        }
        self.file = FileState {
            seq: Some(seq),
            sha: Some(sha.clone()),
            merkle: Some(doc_hash.clone()),
            len,
            recorded: false,
        };
        let line = seal_line(
            &*self.cfg.codec,
            encode_checkpoint(&Checkpoint {
                seq,
                ts: now_ms(),
                hash: sha,
                size: len as u64,
                doc: Some(doc_hash),
            }),
        )?;
        self.write_lines(&line, vec![(0, None)])?;
        self.file.recorded = true;
        self.checkpoints += 1;
        self.last_checkpoint_took = started.elapsed();
        // the checkpoint is durable whatever happens to the trim: a trim that
        // fails (the journal held by another program) is tried again next time
        self.trim_error = self.trim().err();
        Ok(())
    }

    /// Journal bytes from the first change the document file does not hold
    /// (all of them when no checkpoint line names the file): what a process
    /// opening the store replays. A checkpoint prepared off the writer names
    /// an older state than the changes appended while it was written, so its
    /// line comes after changes it does not hold: those count too.
    pub fn bytes_since_checkpoint(&self) -> u64 {
        let after_line = match self.lines.iter().rposition(|l| l.1.is_none()) {
            Some(i) => self.lines.get(i + 1).map_or(self.len, |l| l.0),
            None => 0,
        };
        let unfiled = self
            .file
            .seq
            .and_then(|f| self.lines.iter().find(|l| l.1.is_some_and(|s| s > f)))
            .map_or(after_line, |l| l.0);
        self.len.saturating_sub(after_line.min(unfiled))
    }

    /// Keeps the last `history_max` change lines (and everything from the last
    /// checkpoint on) once the journal holds twice that many. The journal is
    /// replaced atomically; other processes notice on their next look.
    pub(super) fn trim(&mut self) -> Result<()> {
        let keep = self.cfg.history_max;
        let changes = self.lines.iter().filter(|l| l.1.is_some()).count();
        if changes <= keep.max(16) * 2 {
            return Ok(());
        }
        let last_ckpt = self.lines.iter().rposition(|l| l.1.is_none()).unwrap_or(0);
        let mut seen = 0;
        let mut first = self.lines.len();
        for (i, l) in self.lines.iter().enumerate().rev() {
            if seen == keep {
                break;
            }
            first = i;
            if l.1.is_some() {
                seen += 1;
            }
        }
        // a checkpoint prepared off the writer names an older state than the
        // changes appended while it was written: those stay (they are not in
        // the file)
        let unfiled = self.file.seq.map_or(0, |f| {
            self.lines
                .iter()
                .position(|l| l.1.is_some_and(|s| s > f))
                .unwrap_or(self.lines.len())
        });
        let first = first.min(last_ckpt).min(unfiled);
        if first == 0 {
            return Ok(());
        }
        let from = self.lines[first].0;
        let path = self.cfg.journal_path();
        let len = self.len;
        let tail = self
            .journal()?
            .read_at(from, (len - from) as usize)
            .map_err(Error::io("read journal", &path))?;
        self.replace_journal(&tail)?;
        self.len = tail.len() as u64;
        self.lines = self.lines[first..]
            .iter()
            .map(|(off, c)| (off - from, *c))
            .collect();
        Ok(())
    }
}
