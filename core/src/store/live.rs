//! The live document: reading it, and changing it (apply, queue, wait when
//! full, wait until durable).

use std::sync::Arc;
use std::time::Duration;

use super::state::{lock, Pending, MAX_QUEUED};
use super::{Author, Core};
use crate::doc::{Change, Document};
use crate::error::{Error, Result};
use crate::events::Origin;
use crate::journal::now_ms;
use crate::ops::{top_level_diff, touched_keys, KeyChange, Op};
use crate::schema::Schema;
use crate::value::Value;

impl Core {
    /// Runs `f` on the live document.
    pub fn read<R>(&self, f: impl FnOnce(&Document) -> R) -> Result<R> {
        let st = lock(&self.state);
        if st.closed {
            return Err(Error::Closed);
        }
        Ok(f(&st.doc))
    }

    /// The whole live document (O(1)).
    pub fn snapshot(&self) -> Result<Value> {
        self.read(|d| d.root().clone())
    }

    // -- changing ------------------------------------------------------------

    /// Applies `op` to the live document and queues it for the journal (or adds
    /// it to its author's open transaction; another instance's change made
    /// while a transaction is open is written before it). `schema`: checked on
    /// the result first when given. Returns the changed keys (`None`: nothing
    /// changed); the other environments with the file open are told of them.
    /// With `sync`, returns once the change is durable — or undoes it and
    /// returns the error.
    pub fn commit(
        &self,
        name: &str,
        op: Op,
        schema: Option<&Arc<Schema>>,
        sync: bool,
        with_values: bool,
        by: Author,
    ) -> Result<Option<Vec<KeyChange>>> {
        self.commit_inner(name, op, None, schema, sync, with_values, by)
            .map(|(changes, _)| changes)
    }

    /// Plans a whole-document operation (`Op::Replace`, alone or with the
    /// schema defaults) on `on`, a snapshot of the live document, for [`Core::commit_prepared`]:
    /// everything proportional to the document — the diff, the result, the
    /// schema check, the change list — done here, on the calling (worker)
    /// thread. `op` must be planned exactly as it will be committed.
    pub fn prepare_commit(
        &self,
        op: &Op,
        on: Value,
        schema: Option<&Arc<Schema>>,
        with_values: bool,
    ) -> Result<Prepared> {
        if !matches!(op.inner(), Op::Replace { base: None, .. }) {
            return Err(Error::Internal(
                "only a whole-document replace is planned ahead".into(),
            ));
        }
        let doc = Document::new(on.clone())?;
        let planned = (|| {
            let (change, extra) = op.plan_parts(&doc)?;
            if change.is_empty() && extra.is_empty() {
                return Ok(None);
            }
            finish_plan(&doc, op, change, extra, schema, with_values).map(Some)
        })();
        let told = match &planned {
            Ok(Some(p)) => top_level_diff(doc.root(), p.after.root(), true),
            _ => Vec::new(),
        };
        Ok(Prepared { on, planned, told })
    }

    /// `commit` of an operation planned by [`Core::prepare_commit`]: when the
    /// live document is still the state it was planned on, the planned
    /// result is swapped in (O(1) here); else it is planned again, as
    /// `commit` does. Also returns whether the prepared plan was used.
    #[allow(clippy::too_many_arguments)]
    pub fn commit_prepared(
        &self,
        name: &str,
        op: Op,
        prepared: Prepared,
        schema: Option<&Arc<Schema>>,
        sync: bool,
        with_values: bool,
        by: Author,
    ) -> Result<(Option<Vec<KeyChange>>, bool)> {
        self.commit_inner(name, op, Some(prepared), schema, sync, with_values, by)
    }

    #[allow(clippy::too_many_arguments)]
    fn commit_inner(
        &self,
        name: &str,
        op: Op,
        prepared: Option<Prepared>,
        schema: Option<&Arc<Schema>>,
        sync: bool,
        with_values: bool,
        by: Author,
    ) -> Result<(Option<Vec<KeyChange>>, bool)> {
        crate::testing::point("commit");
        let used;
        self.backpressure()?;
        // top-level keys with values, for the other environments (only when
        // there are some: keeping the old value makes the change copy its path)
        let others = self.others_listen(by.env);
        let mut told = Vec::new();
        let (id, changes, wake) = {
            let mut st = lock(&self.state);
            if st.closed {
                return Err(Error::Closed);
            }
            let mut op = op;
            if let Op::Replace { base, .. } = op.inner_mut() {
                // what the caller replaces (a later re-plan merges against it)
                base.get_or_insert_with(|| st.doc.root().clone());
            }
            // planned off the JS thread on the state that is still current:
            // only swapped in here (else planned again below)
            let prepared = prepared.filter(|p| same_root(&p.on, st.doc.root()));
            used = prepared.is_some();
            let changes = if let Some(p) = prepared {
                let Some(planned) = p.planned? else {
                    return Ok((None, true));
                };
                if self.read_only {
                    drop(st);
                    return Err(lock(&self.log).read_only_error());
                }
                if others {
                    told = p.told;
                }
                st.doc = planned.after;
                planned.changes
            } else {
                let single = matches!(op.inner(), Op::Set { .. } | Op::Delete { .. });
                // (a single key's own change first: its defaults are filled in place below)
                let (change, extra) = if single {
                    (op.inner().plan(&st.doc)?, Change::default())
                } else {
                    op.plan_parts(&st.doc)?
                };
                // (a single key with schema defaults: a write that changes nothing
                // may still fill some, as conf's validation does — decided below)
                let may_fill = single && op.defaults().is_some();
                if change.is_empty() && extra.is_empty() && !may_fill {
                    return Ok((None, used));
                }
                if self.read_only && !may_fill {
                    drop(st);
                    return Err(lock(&self.log).read_only_error());
                }
                let changes = if let Op::Set { key, segs, .. } | Op::Delete { key, segs } =
                    op.inner()
                {
                    // one key: applied in place (a copy of the document would make
                    // the change copy every container on its path, however wide),
                    // undone by its inverse if the schema refuses it
                    let old = if with_values {
                        st.doc.get(segs).cloned()
                    } else {
                        None
                    };
                    let holes = match op.defaults() {
                        Some(_) => op.inner().holes(&st.doc),
                        None => Vec::new(),
                    };
                    let unchanged = match op.defaults() {
                        Some(_) if change.is_empty() => Some(op.inner().unchanged_marks(&st.doc)),
                        _ => None,
                    };
                    let mut touched = touched_keys(&st.doc, &change);
                    let top = |d: &Document| d.map().get(&segs[0]).cloned();
                    let old_top = if others { top(&st.doc) } else { None };
                    st.doc.apply(&change.patch)?;
                    // the schema defaults the change makes apply, in the same change
                    let filled = match (op.defaults(), &unchanged) {
                        (Some(d), Some(marks)) => d.fill_marked(
                            &mut st.doc,
                            marks.iter().map(|(p, m)| (p.as_slice(), *m)),
                            holes,
                        ),
                        (Some(d), None) => d.fill_changed(&mut st.doc, &change.patch, holes),
                        (None, _) => Ok(Change::default()),
                    };
                    let extra = match filled {
                        Ok(extra) => extra,
                        Err(e) => {
                            st.doc.apply(&change.inverse)?;
                            return Err(e);
                        }
                    };
                    if change.is_empty() && extra.is_empty() {
                        return Ok((None, used));
                    }
                    if self.read_only {
                        st.doc.apply(&extra.inverse)?;
                        st.doc.apply(&change.inverse)?;
                        drop(st);
                        return Err(lock(&self.log).read_only_error());
                    }
                    for k in touched_keys(&st.doc, &extra) {
                        if !touched.contains(&k) {
                            touched.push(k);
                        }
                    }
                    if let Some(schema) = schema {
                        let whole = change.patch.iter().any(|p| p.path().is_empty());
                        if let Err(e) =
                            schema.check(&st.doc, if whole { None } else { Some(&touched) })
                        {
                            st.doc.apply(&extra.inverse)?;
                            st.doc.apply(&change.inverse)?;
                            return Err(e);
                        }
                    }
                    let new = if with_values {
                        st.doc.get(segs).cloned()
                    } else {
                        None
                    };
                    if others {
                        told.push(KeyChange {
                            key: segs[0].clone(),
                            old: old_top,
                            new: top(&st.doc),
                        });
                    }
                    let mut changes = vec![KeyChange {
                        key: key.clone(),
                        old,
                        new,
                    }];
                    changes.extend(op.container_changes(&change, &st.doc, with_values));
                    if !extra.is_empty() {
                        let doc = &st.doc;
                        changes.extend(op.extra_changes(
                            &extra,
                            || {
                                // (only when the defaults changed more than the key)
                                let mut before = doc.clone();
                                before.apply(&extra.inverse).ok()?;
                                before.apply(&change.inverse).ok()?;
                                Some(before)
                            },
                            doc,
                            with_values,
                        ));
                    }
                    changes
                } else {
                    let planned = finish_plan(&st.doc, &op, change, extra, schema, with_values)?;
                    if others {
                        told = top_level_diff(st.doc.root(), planned.after.root(), true);
                    }
                    st.doc = planned.after;
                    planned.changes
                };
                changes
            };
            let last = st.txns.len().checked_sub(1);
            if let Some(i) = st
                .txns
                .iter()
                .position(|t| t.owner == by.handle && by.handle != 0)
            {
                st.txns[i].ops.push(op);
                st.interleaved |= Some(i) != last;
                drop(st);
                self.tell_others(by, Origin::Thread, told);
                return Ok((Some(changes), used));
            }
            // written before the open transactions (if any), though applied
            // after them; re-checked against the schema when written
            let epoch = if last.is_some() {
                st.interleaved = true;
                u64::MAX
            } else {
                st.epoch
            };
            let mut q = lock(&self.queue);
            q.next_id += 1;
            let id = q.next_id;
            q.records.push_back(Pending {
                id,
                ts: now_ms(),
                name: name.to_string(),
                op,
                epoch,
                schema: schema.cloned(),
                sync,
                env: by.env,
            });
            if sync {
                q.kick = true;
            }
            // waking a sleeping thread is a syscall: only when the writer sleeps
            (id, changes, q.writer_sleeping)
        };
        self.tell_others(by, Origin::Thread, told);
        self.start_writer()?;
        if wake {
            self.wake.notify_one();
        }
        if sync {
            self.wait_for(id)?;
        }
        Ok((Some(changes), used))
    }

    /// Waits while the queue is full; fails at once while the writer cannot
    /// write (the change is refused, nothing is applied).
    pub(super) fn backpressure(&self) -> Result<()> {
        let mut q = lock(&self.queue);
        if q.records.len() < MAX_QUEUED {
            return Ok(());
        }
        loop {
            if let Some(e) = &q.error {
                return Err(Error::Internal(format!(
                    "{} changes are waiting to be written and writing fails ({}: {e}); this change was refused and nothing was changed",
                    q.records.len(),
                    e.code()
                )));
            }
            if q.records.len() < MAX_QUEUED / 2 || q.writer_done {
                return Ok(());
            }
            self.wake.notify_one();
            q = self
                .done
                .wait_timeout(q, Duration::from_millis(100))
                .map(|r| r.0)
                .unwrap_or_else(|p| p.into_inner().0);
        }
    }

    /// Waits until operation `id` is durable, or returns why it could not be
    /// written (it was undone in memory).
    pub(super) fn wait_for(&self, id: u64) -> Result<()> {
        let mut q = lock(&self.queue);
        loop {
            if let Some(e) = q.failed.remove(&id) {
                return Err(e);
            }
            if q.durable_id >= id {
                return Ok(());
            }
            if q.abandoned_upto >= id {
                return Err(Error::Internal(format!(
                    "the background writer failed while writing this change ({}); it may or may not be durable",
                    q.error.as_ref().map(|e| e.to_string()).unwrap_or_default()
                )));
            }
            if q.writer_done {
                return Err(Error::Closed);
            }
            q = self
                .done
                .wait_timeout(q, Duration::from_millis(200))
                .map(|r| r.0)
                .unwrap_or_else(|p| p.into_inner().0);
        }
    }
}

/// A whole-document operation planned off the JS thread (see
/// [`Core::prepare_commit`]).
pub struct Prepared {
    /// The live document's root it was planned on.
    on: Value,
    /// The result (`None`: the operation changes nothing), or why it cannot
    /// be made (reported if the state is still `on` when committed).
    planned: Result<Option<Planned>>,
    /// The top-level changes with values, for the other environments.
    told: Vec<KeyChange>,
}

impl Prepared {
    /// The change list it would deliver (empty: nothing changes, or it fails).
    pub fn changes(&self) -> &[KeyChange] {
        match &self.planned {
            Ok(Some(p)) => &p.changes,
            _ => &[],
        }
    }
}

/// The document after a bulk operation and its change list.
struct Planned {
    after: Document,
    changes: Vec<KeyChange>,
}

/// Whether two roots are the same node (not only equal).
fn same_root(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => Arc::ptr_eq(x, y),
        _ => false,
    }
}

/// The rest of planning a bulk operation on `doc` whose change (and the
/// schema defaults' `extra`) is known: the result, checked against `schema`,
/// and its change list.
fn finish_plan(
    doc: &Document,
    op: &Op,
    change: Change,
    extra: Change,
    schema: Option<&Arc<Schema>>,
    with_values: bool,
) -> Result<Planned> {
    let mut after = doc.clone();
    after.apply(&change.patch)?;
    after.apply(&extra.patch)?;
    if let Some(schema) = schema {
        let whole = op.is_bulk()
            || change
                .patch
                .iter()
                .chain(&extra.patch)
                .any(|p| p.path().is_empty());
        let mut touched = touched_keys(doc, &change);
        for k in touched_keys(doc, &extra) {
            if !touched.contains(&k) {
                touched.push(k);
            }
        }
        schema.check(&after, if whole { None } else { Some(&touched) })?;
    }
    let mut changes = op.key_changes(doc, &after, with_values);
    changes.extend(op.container_changes(&change, &after, with_values));
    changes.extend(op.extra_changes(&extra, || Some(doc.clone()), &after, with_values));
    Ok(Planned { after, changes })
}
