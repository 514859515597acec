//! Re-encryption of every file of the store under a new codec.

use std::borrow::Cow;
use std::sync::Arc;

use super::{Log, Resealed};
use crate::backup;
use crate::codec::{Codec, Kind, Swap};
use crate::error::{Error, Result};
use crate::fs::{atomic_write, parent_of};
use crate::journal::seal_line;

impl Log {
    /// Re-encodes every file of the store with `to` (a key rotation, or
    /// encrypting a store first opened with a key): the journal (replaced
    /// atomically; its hash chain is over the plain lines, so it holds), the
    /// document (written again, with a checkpoint), backups, migration
    /// snapshots and quarantined copies. `cell` is the store's codec: it reads
    /// with the old key(s) until the journal is replaced, then writes with
    /// `to`. The lock must be held and the log caught up. Backups and copies
    /// that cannot be re-encoded are left as they are and reported.
    pub fn reseal(&mut self, cell: &Swap, to: Arc<dyn Codec>) -> Result<Resealed> {
        if self.read_only() {
            return Err(self.read_only_error());
        }
        let old = cell.get();
        let fs = self.cfg.fs.clone();
        let mode = self.cfg.mode;
        let path = self.cfg.journal_path();
        let len = self.len;
        let bytes = self
            .journal()?
            .read_at(0, len as usize)
            .map_err(Error::io("read journal", &path))?;
        let stored: Vec<&[u8]> = bytes
            .split(|&b| b == b'\n')
            .take(bytes.iter().filter(|&&b| b == b'\n').count())
            .collect();
        if stored.len() != self.lines.len() {
            return Err(Error::Internal(format!(
                "the journal holds {} lines where {} were known; nothing was re-encrypted",
                stored.len(),
                self.lines.len()
            )));
        }
        let mut out = Vec::with_capacity(bytes.len() + bytes.len() / 8);
        let mut lines = Vec::with_capacity(self.lines.len());
        let mut report = Resealed::default();
        for (line, &(_, seq)) in stored.iter().zip(&self.lines) {
            let plain = old.decode(Kind::JournalLine, line)?;
            let again = seal_line(&*to, plain.into_owned())?;
            lines.push((out.len() as u64, seq));
            out.extend_from_slice(&again);
            report.journal_entries += usize::from(seq.is_some());
        }
        crate::testing::point("reseal.journal");
        self.replace_journal(&out)?;
        self.len = out.len() as u64;
        self.lines = lines;
        cell.set(to.clone());
        crate::testing::point("reseal.document");
        self.file.merkle = None;
        self.write_document()?;
        crate::testing::point("reseal.backups");
        let name = self.cfg.file_name();
        let b = backup::reencode_all(&*fs, &*old, &*to, &self.cfg.backup_dir, &name, mode);
        let m = backup::reencode_all(&*fs, &*old, &*to, &self.cfg.migration_dir(), &name, mode);
        report.backups = b.rotated;
        report.snapshots = m.rotated;
        report.failed.extend(b.failed);
        report.failed.extend(m.failed);
        // copies kept aside: `<file>.corrupt-*` beside the document,
        // `<file>.invalid-*` and `<file>.damaged-*` beside the journal
        let doc_dir = parent_of(&self.cfg.doc_path).to_path_buf();
        let spots = [
            (doc_dir, format!("{name}{}", crate::names::CORRUPT_INFIX)),
            (self.cfg.history_dir.clone(), format!("{name}.invalid-")),
            (self.cfg.history_dir.clone(), format!("{name}.damaged-")),
        ];
        for (dir, prefix) in spots {
            let Ok(names) = fs.read_dir(&dir) else {
                continue;
            };
            for n in names.into_iter().filter(|n| n.starts_with(&prefix)) {
                let p = dir.join(&n);
                let one = || -> Result<()> {
                    let stored = fs.read(&p).map_err(Error::io("read", &p))?;
                    let plain = old.decode(Kind::Quarantine, &stored)?;
                    let again = to.encode(Kind::Quarantine, Cow::Borrowed(&plain))?;
                    atomic_write(&*fs, &p, &again, mode)
                };
                match one() {
                    Ok(()) => report.quarantined += 1,
                    Err(e) => report.failed.push((p, e)),
                }
            }
        }
        Ok(report)
    }
}
