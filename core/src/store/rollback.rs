//! History and rollback.

use std::sync::Arc;

use super::state::lock;
use super::{Author, Core};
use crate::error::{Error, Result};
use crate::history::{self, Target};
use crate::journal::ChangeRecord;
use crate::ops::{KeyChange, Op};

impl Core {
    /// Every change entry the journal keeps, oldest first, once every change
    /// made here so far is durable in it.
    pub fn history(&self) -> Result<Vec<ChangeRecord>> {
        self.wait_durable()?;
        lock(&self.log).read_history()
    }

    /// Makes the store exactly what it was at `target`: the state is computed
    /// by undoing every later change, newest first, and checked against the
    /// recorded hash before anything changes; the rollback is itself one change
    /// (so it can be undone). `entries` may be a history read earlier.
    pub fn rollback(
        &self,
        target: Target,
        entries: Option<Arc<Vec<ChangeRecord>>>,
        sync: bool,
        with_values: bool,
        by: Author,
    ) -> Result<(history::Plan, Option<Vec<KeyChange>>)> {
        if self.in_txn() {
            return Err(Error::Transaction(
                "A rollback cannot run while a transaction is open (during migrations: a Store on this file is being constructed)".into(),
            ));
        }
        self.wait_durable()?;
        self.catch_up_now(true)?;
        let plan = {
            let log = lock(&self.log);
            let entries = match entries {
                Some(e) if e.last().map(|x| x.seq) == Some(log.seq) => e,
                _ => Arc::new(log.read_history()?),
            };
            // the journal read may already hold another process's later
            // entries: plan against those up to the state caught up to
            let upto = entries.partition_point(|e| e.seq <= log.seq);
            history::plan(&log.replica, log.seq, &entries[..upto], target)?
        };
        let changes = self.commit(
            "rollback",
            Op::Replace {
                value: plan.state.clone(),
                keep_internal: false,
                base: None,
            },
            None,
            sync,
            with_values,
            by,
        )?;
        Ok((plan, changes))
    }
}
