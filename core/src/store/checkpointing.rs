//! The writer's checkpoint rounds: a snapshot of the replica handed to a
//! helper thread that writes it to a durable temp file
//! (`checkpoint::prepare`, off the log), then put in place by the writer with
//! the OS lock (`Log::install_prepared`), unless something newer was
//! checkpointed meanwhile.

use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::state::lock;
use super::writer::push_remote;
use super::Core;
use crate::checkpoint;
use crate::error::{Error, Result};
use crate::events::Event;
use crate::log::{CheckpointPlan, Log};
use crate::ops::KeyChange;

/// A checkpoint being prepared: the helper thread, when it started, and
/// whether it satisfies a rewrite asked for (`needs_checkpoint`).
pub(super) type Helper = (JoinHandle<()>, Instant, bool);

impl Core {
    /// Starts a checkpoint: a snapshot of the replica handed to a helper
    /// thread that writes it to a durable temp file (`checkpoint::prepare`).
    /// When the file already holds the state, only the checkpoint line is
    /// written, here. Returns the helper, when one was started.
    pub(super) fn start_checkpoint(&self) -> Result<Option<Helper>, ()> {
        let started = Instant::now();
        // a rewrite asked for (file deleted, refused edit) is satisfied by a
        // file written from a snapshot taken from now on
        let needed = std::mem::take(&mut lock(&self.queue).needs_checkpoint);
        let plan = lock(&self.log).checkpoint_plan();
        let snap = match plan {
            CheckpointPlan::Current => {
                // the mirrors were behind: nothing to write
                self.with_log_then_wake(|_, _| ());
                return Ok(None);
            }
            CheckpointPlan::RecordOnly => {
                return self
                    .with_log_then_wake(|log, events| {
                        let r = log.with_lock(|log| {
                            let remote = self.catch_up_rebased(log)?;
                            if !log.document_current() {
                                log.write_document()?;
                            }
                            Ok(remote)
                        });
                        self.checkpoint_outcome(log, r, needed, events)
                    })
                    .map(|_| None);
            }
            CheckpointPlan::Write(snap) => snap,
        };
        let cfg = self.cfg.clone();
        let Some(me) = self.me.upgrade() else {
            return Err(());
        };
        let job = move || {
            let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                checkpoint::prepare(&cfg, snap)
            }))
            .unwrap_or_else(|p| Err(Error::from_panic(&*p, "a checkpoint")));
            lock(&me.queue).ckpt_ready = Some(r);
            me.wake.notify_one();
        };
        match std::thread::Builder::new()
            .name("tad-store-checkpoint".into())
            .stack_size(32 << 20)
            .spawn(job)
        {
            Ok(h) => Ok(Some((h, started, needed))),
            Err(e) => {
                let e = Error::io("spawn checkpoint thread", ".")(e);
                self.with_log_then_wake(|log, events| {
                    self.checkpoint_outcome(log, Err(e), needed, events)
                })
                .map(|_| None)
            }
        }
    }

    /// Puts the checkpoint the helper prepared in place (with the OS lock,
    /// caught up), unless something newer was checkpointed since its
    /// snapshot. Returns how long the whole checkpoint took when it was.
    pub(super) fn install_round(
        &self,
        started: Instant,
        needed: bool,
    ) -> Result<Option<Duration>, ()> {
        let prepared = lock(&self.queue).ckpt_ready.take();
        self.with_log_then_wake(|log, events| {
            let r = match prepared {
                Some(Ok(p)) => {
                    let tmp = p.tmp.clone();
                    let r = log.with_lock(|log| {
                        let remote = self.catch_up_rebased(log)?;
                        let installed = log.install_prepared(p, started)?;
                        Ok((remote, installed))
                    });
                    if r.is_err() {
                        let _ = self.cfg.fs.remove_file(&tmp);
                    }
                    r
                }
                Some(Err(e)) => Err(e),
                None => Ok((Vec::new(), false)),
            };
            let installed = matches!(r, Ok((_, true)));
            let r = r.map(|(remote, _)| remote);
            self.checkpoint_outcome(log, r, needed && !installed, events)?;
            Ok(installed.then_some(log.last_checkpoint_took))
        })
    }

    /// Records a checkpoint's outcome in the queue (`still_needed`: a rewrite
    /// asked for is still owed).
    fn checkpoint_outcome(
        &self,
        log: &Log,
        r: Result<Vec<KeyChange>>,
        still_needed: bool,
        events: &mut Vec<Event>,
    ) -> Result<(), ()> {
        match r {
            Ok(remote) => {
                push_remote(events, remote);
                self.sync_counters(log);
                let mut q = lock(&self.queue);
                q.needs_checkpoint |= still_needed;
                if q.recover() {
                    events.push(Event::WriteRecovered);
                }
                Ok(())
            }
            Err(e) => {
                let first = {
                    let mut q = lock(&self.queue);
                    q.failures += 1;
                    // retried: the file (or the line naming it) is still due
                    q.needs_checkpoint = true;
                    q.fail(&e, self.clock.now())
                };
                if first {
                    events.push(self.failure_event(&e));
                }
                Err(())
            }
        }
    }
}
