//! `flush()`: every change so far durable in the journal. The journal is the
//! durability; the document file is rewritten later by the checkpoint
//! schedule (journal size, idleness), on `close()`, at the process's end, or
//! when asked for (`Core::flush`).

use std::time::Duration;

use super::state::lock;
use super::Core;
use crate::error::Result;

impl Core {
    /// Blocks until every change made so far is durable in the journal, or
    /// the next attempt to write them fails (its error). Never waits for a
    /// checkpoint: a checkpoint that fails while the changes are durable is
    /// reported as a `write-failed` event, not here.
    pub fn flush_durable(&self) -> Result<()> {
        if lock(&self.state).closed {
            return Ok(());
        }
        {
            let q = lock(&self.queue);
            if q.records.is_empty() && q.inflight == 0 && q.abandoned_upto <= q.durable_id {
                return Ok(());
            }
        }
        self.start_writer()?;
        let mut q = lock(&self.queue);
        let failures = q.failures;
        // the changes made so far: what another thread queues meanwhile is
        // not waited for
        let target = q.next_id;
        loop {
            let durable = (q.records.is_empty() && q.inflight == 0) || q.durable_id >= target;
            // changes the writer was writing when it panicked have no known
            // outcome: those are settled only by the writer's next success
            let known = q.abandoned_upto <= q.durable_id || q.error.is_none();
            if durable && known {
                return Ok(());
            }
            if let Some(e) = self.wait_failed(&q, failures) {
                return Err(e);
            }
            q.kick = true;
            self.wake.notify_one();
            q = self
                .done
                .wait_timeout(q, Duration::from_millis(200))
                .map(|r| r.0)
                .unwrap_or_else(|p| p.into_inner().0);
        }
    }
}
