//! Checkpoints: the document file written from the replica, and the journal
//! trimmed.

use std::borrow::Cow;
use std::time::Instant;

use super::{ExternalFile, FileState, Log};
use crate::codec::Kind;
use crate::error::{Error, Result};
use crate::fs::{atomic_write_with, ReplaceStep};
use crate::journal::{encode_checkpoint, now_ms, seal_line, Checkpoint};
use crate::value::{sha256_hex, to_json_sized};

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
        let seq = self.seq;
        let doc_hash = self.replica_hash();
        let (sha, len) =
            if self.file.merkle.as_deref() == Some(doc_hash.as_str()) && self.file.sha.is_some() {
                // the file already holds exactly this state: keep its bytes
                (self.file.sha.clone().unwrap_or_default(), self.file.len)
            } else {
                crate::testing::point("checkpoint.write");
                let hint = self.file.len + self.file.len / 16 + 64;
                let plain = to_json_sized(self.replica.root(), !self.cfg.compact, hint);
                let stored = self.cfg.codec.encode(Kind::Document, Cow::Owned(plain))?;
                // an edit another program made since we last looked is kept
                // for the watcher / reload before we overwrite it
                let fs = self.cfg.fs.clone();
                let path = self.cfg.doc_path.clone();
                let mut ours = None;
                let mut replaced_at = std::time::SystemTime::now();
                atomic_write_with(&*fs, &path, &stored, self.cfg.mode, |step| match step {
                    ReplaceStep::Before(tmp) => {
                        // an edit saved since we last looked (where the
                        // platform cannot swap atomically, only the
                        // microseconds from here to the rename are left)
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
                (sha256_hex(&stored), stored.len())
            };
        // the file is durably in place: only now may a checkpoint name it
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
        let first = first.min(last_ckpt);
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
