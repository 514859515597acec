//! Tracking the document file: what it holds now, and whether another program
//! replaced it.

use std::path::Path;

use super::{ExternalFile, Log, Stamp, Verify};
use crate::doc::Document;
use crate::fs::platform::{mtime_granularity, stamp_needs_content_check};
use crate::fs::read_if_exists;
use crate::value::{hex, merkle, sha256_hex};

impl Log {
    /// The document file's stamp now (length, mtime, inode), for
    /// [`Log::confirm_file`] too.
    pub fn stamp_now(&self) -> Option<Stamp> {
        let st = self.cfg.fs.stat(&self.cfg.doc_path, true).ok()?;
        Some((st.len, st.modified, st.ino))
    }

    /// Whether the file bytes with this sha are ones the store wrote,
    /// checkpointed or already took from another program.
    pub(super) fn is_known(&self, sha: &str) -> bool {
        self.file.sha.as_deref() == Some(sha) || self.seen.as_ref().is_some_and(|(h, _)| h == sha)
    }

    /// Whether the document file is, by its stamp alone (one `stat`), still
    /// the file whose bytes the log knows (`file.sha`): false while the stamp
    /// cannot tell (see `peek_external_with`) — then only its content can.
    pub fn file_untouched(&self) -> bool {
        let Some(stamp) = self.stamp_now() else {
            return false;
        };
        self.file.sha.is_some()
            && self.stamp == Some(stamp)
            && !stamp_needs_content_check(stamp.1, self.verified_at)
    }

    /// The document file's bytes, read between `looked` (when its stamp was
    /// `before`) and now, hash to `sha`: when that is the file the log knows
    /// and the stamp did not move, the stamp is trusted from now on (as
    /// `peek_external` does after hashing). Returns whether it was.
    pub fn confirm_file(
        &mut self,
        before: Option<Stamp>,
        looked: std::time::SystemTime,
        sha: &str,
    ) -> bool {
        let now = self.stamp_now();
        if now.is_some() && now == before && self.file.sha.as_deref() == Some(sha) {
            self.verified_at = looked;
            self.stamp = now;
            return true;
        }
        false
    }

    /// What the document file holds if that is not what this store wrote,
    /// checkpointed or already took: cheap (one `stat`) while the file is
    /// untouched — and where timestamps are coarse (FAT 2 s, HFS+ 1 s), the
    /// content is checked while the stamp cannot tell (the writer calls this
    /// right before it replaces the file; an edit saved in the same tick must
    /// not be overwritten unseen). Does not consume a stashed edit.
    pub(super) fn peek_external(&mut self) -> Option<ExternalFile> {
        self.peek_external_with(Verify::IfCoarse)
    }

    /// `peek_external`; with `verify` a file whose stamp matches is read and
    /// hashed anyway while its content was last confirmed within the stamp's
    /// timestamp tick — an in-place rewrite of the same length in that tick
    /// keeps the stamp (FAT's 2 s and HFS+'s 1 s ticks, no inode on Windows:
    /// `platform::stamp_needs_content_check`).
    pub(super) fn peek_external_with(&mut self, verify: Verify) -> Option<ExternalFile> {
        let looked = std::time::SystemTime::now();
        let stamp = self.stamp_now();
        let Some(stamp) = stamp else {
            // gone: only news if a file was there
            return self.file.sha.is_some().then_some(ExternalFile::Deleted);
        };
        if self.stamp == Some(stamp) {
            let blind = stamp_needs_content_check(stamp.1, self.verified_at);
            let coarse = stamp.1.is_some_and(|m| !mtime_granularity(m).is_zero());
            let check = match verify {
                Verify::IfCoarse => blind && coarse,
                Verify::IfBlind => blind,
            };
            if !check {
                return None;
            }
        }
        let bytes = read_if_exists(&*self.cfg.fs, &self.cfg.doc_path).ok()??;
        let sha = sha256_hex(&bytes);
        let known = self.is_known(&sha);
        if known {
            self.verified_at = looked;
            self.stamp = Some(stamp);
            return None;
        }
        // replaced again while we read it: no stamp, so the next look reads
        // the newer file instead of taking it for this one
        let stamp = (self.stamp_now() == Some(stamp)).then_some(stamp);
        Some(ExternalFile::Edited(bytes, self.file_doc(), stamp))
    }

    /// The writer swapped its new file in: `old` holds what was in place an
    /// instant before. When that is not what the store knows, another program
    /// saved it: kept for the watcher / `reload()` (the newest edit wins).
    pub(super) fn keep_displaced(&mut self, old: &Path) {
        let Ok(bytes) = self.cfg.fs.read(old) else {
            return;
        };
        let sha = sha256_hex(&bytes);
        let known = self.is_known(&sha);
        if !known {
            let base = self.file_doc();
            self.external = Some((bytes, base));
        }
    }

    /// Takes an edit another program made to the document file (a stashed one
    /// first), or `None` when the file is ours. The lock must be held and the
    /// log caught up (a checkpoint of another process names its file).
    pub fn take_external(&mut self) -> Option<ExternalFile> {
        let Some((b, base)) = self.external.take() else {
            return self.peek_external_with(Verify::IfBlind);
        };
        let sha = sha256_hex(&b);
        let taken = self.is_known(&sha);
        if taken {
            // read from the file and taken before the writer stashed it
            return self.peek_external_with(Verify::IfBlind);
        }
        // the file may have been edited again since: the newest wins
        Some(match self.peek_external_with(Verify::IfBlind) {
            Some(newer @ ExternalFile::Edited(..)) => newer,
            _ => ExternalFile::Edited(b, base, None),
        })
    }

    /// Records that the document file now holds `bytes` written by another
    /// program and taken by the store (`content`: its document when applied,
    /// `None` when refused): it is not taken again, and the next edit is
    /// diffed against it.
    pub fn mark_taken(&mut self, bytes: &[u8], content: Option<Document>, stamp: Option<Stamp>) {
        self.seen = Some((sha256_hex(bytes), content));
        if stamp.is_some() {
            self.stamp = stamp;
            // confirmed when it was read, which is not known here: the next
            // look checks the content again
            self.verified_at = std::time::UNIX_EPOCH;
        }
    }

    /// The file must be written again from the replica (it was deleted, or
    /// holds an edit that was refused).
    pub fn forget_file(&mut self) {
        self.file.sha = None;
        self.file.merkle = None;
        self.file.recorded = false;
    }

    /// The document the file held when the store last knew it (an external
    /// edit is diffed against it): the taken edit, the replica, or the replica
    /// with the later changes undone (checked against the file's hash).
    pub fn file_doc(&mut self) -> Option<Document> {
        if let Some((_, d)) = &self.seen {
            return d.clone();
        }
        let target = self.file.merkle.clone()?;
        if self.replica_hash() == target {
            return Some(self.replica.clone());
        }
        let fseq = self.file.seq?;
        let history = self.read_history().ok()?;
        let mut d = self.replica.clone();
        for e in history.iter().rev().filter(|e| e.seq > fseq) {
            d.apply(e.inverse.as_ref()?).ok()?;
        }
        (hex(&merkle(d.root())) == target).then_some(d)
    }

    /// The writer found an external edit before overwriting the file.
    pub fn has_external(&self) -> bool {
        self.external.is_some()
    }

    /// Cheap test (no OS lock) that the journal is still the one we read, as
    /// long as we read it: nothing to catch up with.
    pub fn journal_unchanged(&mut self) -> bool {
        if self.must_cut || self.read_only() {
            return !self.must_cut;
        }
        let path = self.cfg.journal_path();
        match &self.journal {
            Some(j) => j.is_at(&path).unwrap_or(false) && j.len().ok() == Some(self.len),
            None => false,
        }
    }
}
