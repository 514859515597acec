//! Appending change entries.

use super::{Log, NewEntry};
use crate::doc::Document;
use crate::error::{Error, Result};
use crate::journal::{encode_change, seal_line, ChainTip, Encoded};

impl Log {
    /// Appends change entries whose changes the caller applied in order to
    /// the replica, producing `after` (each entry with the Merkle hash of the
    /// state after it), and fsyncs once. `hash_before` overrides the hash of
    /// the state before the first entry (an entry recording a state the history
    /// does not explain). The replica advances only when the entries are
    /// durable.
    pub fn append_prepared(
        &mut self,
        entries: &[(NewEntry<'_>, String)],
        hash_before: Option<&str>,
        after: Document,
    ) -> Result<()> {
        if entries.is_empty() {
            return Ok(());
        }
        let mut hash = match hash_before {
            Some(h) => h.to_string(),
            None => self.replica_hash(),
        };
        let mut buf = Vec::new();
        let mut lines = Vec::new();
        let mut seq = self.seq;
        let mut tip = self.tip.clone();
        for (e, hash_after) in entries {
            seq += 1;
            let plain = encode_change(&Encoded {
                seq,
                ts: e.ts,
                op: e.op,
                keys: e.keys,
                change: e.change,
                reversible: e.reversible,
                hash_before: &hash,
                hash_after,
                prev: tip.line.as_deref(),
            });
            tip = ChainTip {
                seq: Some(seq),
                line: Some(crate::journal::line_hash(&plain)),
            };
            let line = seal_line(&*self.cfg.codec, plain)?;
            lines.push((buf.len() as u64, Some(seq)));
            buf.extend_from_slice(&line);
            hash = hash_after.clone();
        }
        self.write_lines(&buf, lines)?;
        self.replica = after;
        self.replica_hash = Some(hash);
        self.seq = seq;
        self.tip = tip;
        Ok(())
    }

    /// Appends whole stored lines at the end of the valid journal and fsyncs.
    /// On any failure the journal is cut back to its previous length, so the
    /// retry never writes duplicates; if even that fails, the lock stays held
    /// until a later call manages it.
    pub fn write_lines(&mut self, buf: &[u8], lines: Vec<(u64, Option<u64>)>) -> Result<()> {
        if buf.is_empty() {
            return Ok(());
        }
        if self.read_only() {
            return Err(self.read_only_error());
        }
        crate::testing::point("journal.append");
        if self.stale {
            return Err(Error::Internal(
                "the journal was replaced since it was last read and must be caught up with before an append; nothing was written".into(),
            ));
        }
        let start = self.len;
        if self.must_cut {
            self.cut_to(start)?;
            self.must_cut = false;
        }
        let path = self.cfg.journal_path();
        let j = self.journal()?;
        let r = j
            .write_at(start, buf)
            .map_err(Error::io("append to journal", &path))
            .and_then(|_| j.sync_data().map_err(Error::io("fsync journal", &path)));
        if let Err(e) = r {
            if self.cut_to(start).is_err() {
                self.must_cut = true;
            }
            return Err(e);
        }
        self.len = start + buf.len() as u64;
        self.note_head(start, buf);
        self.lines
            .extend(lines.into_iter().map(|(o, s)| (start + o, s)));
        Ok(())
    }

    /// The error for a write to a read-only store.
    pub fn read_only_error(&self) -> Error {
        Error::ReadOnly(format!(
            "The store {} was opened read-only (its directory {} cannot be written); nothing was changed",
            self.cfg.doc_path.display(),
            self.cfg.history_dir.display()
        ))
    }
}
