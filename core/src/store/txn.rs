//! Transactions (a constructor's defaults, migrations, checks) and the
//! rebuild of the live document from the replica and the queue (rebase).

use super::state::{lock, replay, Pending, Queue, State, Txn};
use super::{Author, Core};
use crate::error::{Error, Result};
use crate::events::{Event, Origin};
use crate::journal::now_ms;
use crate::log::Log;
use crate::ops::{top_level_diff, KeyChange, Op};

impl Core {
    /// Opens instance `owner`'s transaction: its later operations change the
    /// live document but are written only by `commit_txn`, as one journal
    /// entry (`abort_txn` undoes them). Other instances' changes meanwhile are
    /// written before it, as another process's would be.
    pub fn begin_txn(&self, owner: u64) -> Result<()> {
        if self.read_only {
            return Err(lock(&self.log).read_only_error());
        }
        let mut st = lock(&self.state);
        if st.closed {
            return Err(Error::Closed);
        }
        if st.txns.iter().any(|t| t.owner == owner) {
            return Err(Error::Transaction(
                "A transaction is already open for this Store instance".into(),
            ));
        }
        st.txns.push(Txn {
            owner,
            ops: Vec::new(),
        });
        Ok(())
    }

    /// Writes `by`'s open transaction as one entry named `name`.
    pub fn commit_txn(&self, by: Author, name: &str, sync: bool) -> Result<()> {
        // when other changes were applied among the transaction's, the live
        // document is rebuilt in the order they are written (log lock first)
        let mut log = None;
        let (id, wake, reordered) = loop {
            let mut st = lock(&self.state);
            if st.interleaved && log.is_none() {
                drop(st);
                log = Some(lock(&self.log));
                continue;
            }
            let Some(i) = st.txns.iter().position(|t| t.owner == by.handle) else {
                return Err(Error::Transaction("No transaction is open".into()));
            };
            let txn = st.txns.remove(i);
            let mut q = lock(&self.queue);
            let id = (!txn.ops.is_empty()).then(|| {
                q.next_id += 1;
                let id = q.next_id;
                q.records.push_back(Pending {
                    id,
                    ts: now_ms(),
                    name: name.to_string(),
                    op: Op::Txn(txn.ops),
                    epoch: st.epoch,
                    schema: None,
                    sync,
                    env: by.env,
                });
                if sync {
                    q.kick = true;
                }
                id
            });
            let reordered = match &log {
                Some(log) if st.interleaved => {
                    st.interleaved = false;
                    self.rebuild_live(log, &mut st, &q, &[])
                }
                _ => Vec::new(),
            };
            break (id, q.writer_sleeping, reordered);
        };
        drop(log);
        if !reordered.is_empty() {
            self.emit(Event::Changed {
                origin: Origin::Thread,
                changes: reordered,
            });
        }
        let Some(id) = id else {
            return Ok(());
        };
        self.start_writer()?;
        if wake {
            self.wake.notify_one();
        }
        if sync {
            self.wait_for(id)?;
        }
        Ok(())
    }

    /// Drops `by`'s open transaction: the live document goes back to what it
    /// would be without it. Returns the keys that changed back (the other
    /// environments are told).
    pub fn abort_txn(&self, by: Author) -> Result<Vec<KeyChange>> {
        let changes = {
            let log = lock(&self.log);
            let mut st = lock(&self.state);
            let Some(i) = st.txns.iter().position(|t| t.owner == by.handle) else {
                return Ok(Vec::new());
            };
            st.txns.remove(i);
            st.interleaved = false;
            let q = lock(&self.queue);
            self.rebuild_live(&log, &mut st, &q, &[])
        };
        self.tell_others(by, Origin::Thread, changes.clone());
        Ok(changes)
    }

    /// Whether a transaction is open (any instance's).
    pub fn in_txn(&self) -> bool {
        !lock(&self.state).txns.is_empty()
    }

    /// Whether instance `owner` has a transaction open.
    pub fn has_txn(&self, owner: u64) -> bool {
        lock(&self.state).txns.iter().any(|t| t.owner == owner)
    }

    /// Makes the live document the replica plus `inflight` plus the queue plus
    /// the open transactions; returns the top-level keys whose values changed.
    pub(super) fn rebuild_live(
        &self,
        log: &Log,
        st: &mut State,
        q: &Queue,
        inflight: &[Pending],
    ) -> Vec<KeyChange> {
        let mut d = log.replica.clone();
        for p in inflight.iter().chain(q.records.iter()) {
            replay(&mut d, &p.op);
        }
        for op in st.txns.iter().flat_map(|t| &t.ops) {
            replay(&mut d, op);
        }
        let old = std::mem::replace(&mut st.doc, d);
        st.epoch += 1;
        top_level_diff(old.root(), st.doc.root(), true)
    }

    /// A rebase after the log changed under us (lock order: log held).
    pub(super) fn rebase(&self, log: &Log, inflight: &[Pending]) -> Vec<KeyChange> {
        let mut st = lock(&self.state);
        let q = lock(&self.queue);
        self.rebuild_live(log, &mut st, &q, inflight)
    }
}
