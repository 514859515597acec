//! One `Store` instance's view of a store file: its own options (durability,
//! dot notation, schema, backups) over the core it shares with every other
//! instance on the file in this process. These are the operations the addon
//! exposes to JS, each taking JSON text and giving back change lists.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use crate::backup;
use crate::defaults::Defaults;
use crate::doc::{share, Document};
use crate::error::{Error, Result};
use crate::history::{Plan, Target};
use crate::journal::ChangeRecord;
use crate::layer::{Inspection, Layer, Source};
use crate::log::OpenReport;
use crate::ops::{check_depth, KeyChange, Op, INTERNAL_KEY};
use crate::path::{segments, FORBIDDEN_SEGMENTS};
use crate::schema::Schema;
use crate::stats::Op as StatOp;
use crate::store::{Author, Core, Durability, Prepared, Status};
use crate::value::{
    parse, parse_limited, parse_nested, too_deep_message, Map, ParseError, Value, MAX_DEPTH,
};

/// What a `Store` instance chose for itself.
#[derive(Clone)]
pub struct HandleOptions {
    pub durability: Durability,
    pub dot_notation: bool,
    pub schema: Option<Arc<Schema>>,
    /// The `defaults` option and the schema's defaults.
    pub defaults: Arc<Defaults>,
    /// `defaultsLayer`: the defaults are read through this layer and never
    /// written (reads show its view; writes change the user's values only).
    pub layer: Option<Arc<Layer>>,
    pub backup_dir: PathBuf,
    pub max_backups: usize,
    /// The JS environment the instance lives in (0 outside JS).
    pub env: u64,
}

/// A restore made ready off the JS thread (the backup verified, the current
/// state backed up, the change planned): [`Handle::restore`] applies it.
pub struct RestorePlan {
    op: Op,
    prepared: Prepared,
}

impl std::fmt::Debug for RestorePlan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RestorePlan({} changes)", self.changes().len())
    }
}

impl RestorePlan {
    /// The change list it delivers if the state is still the one it was
    /// planned on.
    pub fn changes(&self) -> &[KeyChange] {
        self.prepared.changes()
    }
}

/// Options of one call.
#[derive(Clone, Copy, Debug)]
pub struct Call {
    /// Check the schema before anything changes (off while migrations run; the
    /// result is checked after them).
    pub validate: bool,
    /// Include old and new values in the change list (someone listens).
    pub values: bool,
}

/// A `Store` instance.
pub struct Handle {
    id: u64,
    stats: crate::stats::Stats,
    core: Arc<Core>,
    opts: HandleOptions,
    closed: AtomicBool,
    /// A custom-serialize export waiting for its rename (`crate::export`).
    export: crate::export::ExportSlot,
}

/// The error for JSON text from JS that `parse` refused: `what` names the
/// value (a key, `the store`, `defaults`).
fn not_json(what: &str) -> impl FnOnce(ParseError) -> Error + '_ {
    move |e| {
        if e.too_deep {
            Error::TooDeep(too_deep_message(what))
        } else {
            Error::InvalidArgument(format!("Value is not JSON-serializable: {e}"))
        }
    }
}

impl Handle {
    pub(crate) fn new(core: Arc<Core>, opts: HandleOptions) -> Handle {
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
        Handle {
            id: NEXT.fetch_add(1, Ordering::Relaxed),
            stats: crate::stats::Stats::default(),
            core,
            opts,
            closed: AtomicBool::new(false),
            export: crate::export::ExportSlot::default(),
        }
    }

    /// This instance's custom-serialize export (see `crate::export`).
    pub fn exporter(&self) -> crate::export::Exporter<'_> {
        let cfg = self.core.config();
        crate::export::Exporter {
            fs: &*cfg.fs,
            history_dir: &cfg.history_dir,
            mode: cfg.mode,
            slot: &self.export,
        }
    }

    pub fn core(&self) -> &Arc<Core> {
        &self.core
    }

    pub fn options(&self) -> &HandleOptions {
        &self.opts
    }

    /// What opening the file found.
    pub fn report(&self) -> &OpenReport {
        self.core.report()
    }

    fn live(&self) -> Result<&Core> {
        if self.closed.load(Ordering::Acquire) {
            return Err(Error::Closed);
        }
        Ok(&self.core)
    }

    pub fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    pub(crate) fn mark_closed(&self) {
        self.closed.store(true, Ordering::Release);
    }

    fn segs(&self, key: &str) -> Result<Vec<String>> {
        segments(key, self.opts.dot_notation)
    }

    fn sync(&self) -> bool {
        self.opts.durability == Durability::Sync
    }

    /// Records a timed call; a slow one is reported as an event.
    #[inline]
    fn finish(&self, op: StatOp, started: Option<std::time::Instant>) {
        if let Some(d) = self.stats.finish(op, started) {
            self.core.emit_event(crate::events::Event::SlowOperation {
                handle: self.id,
                op: op.name(),
                micros: d.as_secs_f64() * 1e6,
            });
        }
    }

    /// This instance's id (slow-operation events name it).
    pub fn id(&self) -> u64 {
        self.id
    }

    /// The JS environment this instance lives in (0 outside JS).
    pub fn env(&self) -> u64 {
        self.opts.env
    }

    /// This instance as the author of a change.
    fn author(&self) -> Author {
        Author {
            handle: self.id,
            env: self.opts.env,
        }
    }

    /// `getPerformanceStats()`: per operation, in microseconds.
    pub fn performance(&self) -> Vec<crate::stats::Summary> {
        self.stats.summaries()
    }

    pub fn reset_performance(&self) {
        self.stats.reset()
    }

    /// Operations slower than this are reported (`SlowOperation` events).
    pub fn set_slow_threshold(&self, threshold: Option<std::time::Duration>) {
        self.stats.set_slow_threshold(threshold)
    }

    fn schema(&self, call: Call) -> Option<&Arc<Schema>> {
        self.opts.schema.as_ref().filter(|_| call.validate)
    }

    /// `op` with the schema defaults its change makes apply (conf's Ajv fills
    /// them on every write, checked or not — migrations included).
    fn with_defaults(&self, op: Op) -> Op {
        if self.opts.defaults.has_schema_defaults() && self.opts.layer.is_none() {
            Op::Defaulted {
                op: Box::new(op),
                defaults: self.opts.defaults.clone(),
                dot_notation: self.opts.dot_notation,
            }
        } else {
            op
        }
    }

    /// This instance's defaults (the `defaults` option and the schema's).
    pub fn defaults(&self) -> &Arc<Defaults> {
        &self.opts.defaults
    }

    /// Runs `f` on the value at `key` (`None` when absent).
    pub fn get_with<R>(&self, key: &str, f: impl FnOnce(Option<&Value>) -> R) -> Result<R> {
        let t = self.stats.start(StatOp::Get);
        let r = self.get_with_inner(key, f);
        self.finish(StatOp::Get, t);
        r
    }

    fn get_with_inner<R>(&self, key: &str, f: impl FnOnce(Option<&Value>) -> R) -> Result<R> {
        let core = self.live()?;
        if let Some(layer) = &self.opts.layer {
            if self.opts.dot_notation && !key.contains('\\') {
                // fast path: split without allocating
                if key.split('.').any(|s| FORBIDDEN_SEGMENTS.contains(&s)) {
                    self.segs(key)?; // reports the forbidden segment
                }
                return core.read(|d| layer.read_path(d, key.split('.'), f));
            }
            let segs = self.segs(key)?;
            return core.read(|d| layer.read_path(d, segs.iter().map(String::as_str), f));
        }
        if self.opts.dot_notation && !key.contains('\\') {
            // fast path: split without allocating
            if key.split('.').any(|s| FORBIDDEN_SEGMENTS.contains(&s)) {
                self.segs(key)?; // reports the forbidden segment
            }
            return core.read(|d| f(d.lookup(key.split('.')).as_deref()));
        }
        let segs = self.segs(key)?;
        core.read(|d| f(d.lookup(segs.iter().map(String::as_str)).as_deref()))
    }

    pub fn has(&self, key: &str) -> Result<bool> {
        let t = self.stats.start(StatOp::Has);
        let r = self.has_inner(key);
        self.finish(StatOp::Has, t);
        r
    }

    fn has_inner(&self, key: &str) -> Result<bool> {
        let segs = self.segs(key)?;
        match &self.opts.layer {
            Some(layer) => self.live()?.read(|d| layer.has(d, &segs)),
            None => self.live()?.read(|d| d.has(&segs)),
        }
    }

    /// Number of top-level keys (of the view, with `defaultsLayer`).
    pub fn size(&self) -> Result<usize> {
        match &self.opts.layer {
            Some(layer) => self.live()?.read(|d| layer.size(d)),
            None => self.user_size(),
        }
    }

    /// Top-level keys in insertion order (of the view, with `defaultsLayer`).
    pub fn keys(&self) -> Result<Vec<String>> {
        match &self.opts.layer {
            Some(_) => Ok(self
                .snapshot()?
                .as_object()
                .map(|m| m.keys().map(|k| k.to_string()).collect())
                .unwrap_or_default()),
            None => self
                .live()?
                .read(|d| d.map().keys().map(|k| k.to_string()).collect()),
        }
    }

    /// The whole document as the app sees it (O(1) without `defaultsLayer`;
    /// with it, the view, remembered until the next change).
    pub fn snapshot(&self) -> Result<Value> {
        match &self.opts.layer {
            Some(layer) => {
                let user = self.live()?.snapshot()?;
                Ok(layer.view(&user))
            }
            None => self.live()?.snapshot(),
        }
    }

    // -- the user's layer ------------------------------------------------------
    // (the document itself: with `defaultsLayer`, the user's values only;
    // migrations read it; without the layer, the same as the reads above)

    /// The layer, with `defaultsLayer`.
    pub fn layer(&self) -> Option<&Arc<Layer>> {
        self.opts.layer.as_ref()
    }

    /// The user's document (O(1)).
    pub fn user_snapshot(&self) -> Result<Value> {
        self.live()?.snapshot()
    }

    /// Number of top-level keys of the user's document.
    pub fn user_size(&self) -> Result<usize> {
        self.live()?.read(|d| d.map().len())
    }

    /// `get_with` on the user's document.
    pub fn get_user_with<R>(&self, key: &str, f: impl FnOnce(Option<&Value>) -> R) -> Result<R> {
        let segs = self.segs(key)?;
        self.live()?
            .read(|d| f(d.lookup(segs.iter().map(String::as_str)).as_deref()))
    }

    /// `has` on the user's document.
    pub fn has_user(&self, key: &str) -> Result<bool> {
        let segs = self.segs(key)?;
        self.live()?.read(|d| d.has(&segs))
    }

    /// `inspect(key)`: what `key` shows, its default, the user's own value and
    /// where the value comes from. Without `defaultsLayer` the file holds the
    /// defaults as the user's values (electron-store's way): `userValue` is
    /// the value, `defaultValue` what the defaults would put there.
    pub fn inspect(&self, key: &str) -> Result<Inspection> {
        let segs = self.segs(key)?;
        let core = self.live()?;
        match &self.opts.layer {
            Some(layer) => core.read(|d| layer.inspect(d, &segs)),
            None => core.read(|d| {
                let value = d
                    .lookup(segs.iter().map(String::as_str))
                    .map(|v| v.into_owned());
                let default_value = self.opts.defaults.default_at(d.root(), &segs);
                Inspection {
                    source: if value.is_some() {
                        Source::User
                    } else {
                        Source::None
                    },
                    user_value: d.get(&segs).cloned(),
                    value,
                    default_value,
                }
            }),
        }
    }

    /// Sets `key` to the JSON `json` (which must fit the depth limit at that
    /// path). Returns the changes (`None`: nothing changed) — the key's first,
    /// then the containers it replaced above the key and what the schema
    /// defaults changed elsewhere — and whether the key holds exactly the
    /// value given and nothing else changed.
    pub fn set(
        &self,
        key: &str,
        json: &[u8],
        call: Call,
    ) -> Result<Option<(Vec<KeyChange>, bool)>> {
        self.set_as("set", key, json, call)
    }

    /// `set`, recorded in history as operation `name` (`update`).
    pub fn set_as(
        &self,
        name: &str,
        key: &str,
        json: &[u8],
        call: Call,
    ) -> Result<Option<(Vec<KeyChange>, bool)>> {
        let t = self.stats.start(StatOp::Set);
        let r = self.set_inner(name, key, json, call);
        self.finish(StatOp::Set, t);
        r
    }

    fn set_inner(
        &self,
        name: &str,
        key: &str,
        json: &[u8],
        call: Call,
    ) -> Result<Option<(Vec<KeyChange>, bool)>> {
        let segs = self.segs(key)?;
        let value = parse_nested(json, segs.len()).map_err(not_json(key))?;
        // (the parser counts the value's containers; a scalar nests as deep as its path)
        check_depth(key, segs.len(), &Value::Null)?;
        let core = self.live()?;
        let given = (self.opts.defaults.has_schema_defaults() && self.opts.layer.is_none())
            .then(|| value.clone());
        let op = self.with_defaults(Op::Set {
            key: key.to_string(),
            segs,
            value,
        });
        Ok(core
            .commit(
                name,
                op,
                self.schema(call),
                self.sync(),
                call.values,
                self.author(),
            )?
            .map(|c| {
                // (O(1) unless a default changed the value: it is the one given)
                let exact = c.len() == 1
                    && match &given {
                        None => true,
                        Some(g) => !call.values || c[0].new.as_ref().is_some_and(|n| n.eq_exact(g)),
                    };
                (c, exact)
            }))
    }

    /// Deletes `key`. Returns the changes (`None`: nothing changed): the key's
    /// (a default the schema gives it comes back), then what the schema
    /// defaults changed elsewhere.
    pub fn delete(&self, key: &str, call: Call) -> Result<Option<Vec<KeyChange>>> {
        let t = self.stats.start(StatOp::Delete);
        let r = self.delete_inner(key, call);
        self.finish(StatOp::Delete, t);
        r
    }

    fn delete_inner(&self, key: &str, call: Call) -> Result<Option<Vec<KeyChange>>> {
        let segs = self.segs(key)?;
        let core = self.live()?;
        let op = self.with_defaults(Op::Delete {
            key: key.to_string(),
            segs,
        });
        core.commit(
            "delete",
            op,
            self.schema(call),
            self.sync(),
            call.values,
            self.author(),
        )
    }

    /// Sets every `key: value` of the JSON object `json` (keys are paths) as one
    /// change named `name`; returns each key whose value changed.
    pub fn set_many(&self, json: &[u8], name: &str, call: Call) -> Result<Option<Vec<KeyChange>>> {
        let t = self.stats.start(StatOp::SetMultiple);
        let r = self.set_many_inner(json, name, call);
        self.finish(StatOp::SetMultiple, t);
        r
    }

    fn set_many_inner(
        &self,
        json: &[u8],
        name: &str,
        call: Call,
    ) -> Result<Option<Vec<KeyChange>>> {
        // one level more than a document: a value too deep for any key is
        // then refused by `check_depth`, which names its key
        let value =
            parse_limited(json, 0, MAX_DEPTH + 1).map_err(not_json("the object's values"))?;
        let Some(map) = value.as_object() else {
            return Err(Error::InvalidArgument(
                "Expected an object of key/value pairs".into(),
            ));
        };
        let mut entries = Vec::with_capacity(map.len());
        for (k, v) in map.iter() {
            let segs = self.segs(k)?;
            check_depth(k, segs.len(), v)?;
            entries.push((k.to_string(), segs, v.clone()));
        }
        let core = self.live()?;
        core.commit(
            name,
            self.with_defaults(Op::SetMany { entries }),
            self.schema(call),
            self.sync(),
            call.values,
            self.author(),
        )
    }

    /// Replaces the whole document with the JSON object `json` (`store = x`,
    /// `clear()`); `keep_internal` carries `__internal__` over.
    pub fn replace_all(
        &self,
        json: &[u8],
        name: &str,
        keep_internal: bool,
        call: Call,
    ) -> Result<Option<Vec<KeyChange>>> {
        let t = self.stats.start(StatOp::Replace);
        let r = self.replace_all_inner(json, name, keep_internal, call);
        self.finish(StatOp::Replace, t);
        r
    }

    fn replace_all_inner(
        &self,
        json: &[u8],
        name: &str,
        keep_internal: bool,
        call: Call,
    ) -> Result<Option<Vec<KeyChange>>> {
        let value = parse(json).map_err(not_json("store"))?;
        if value.as_object().is_none() {
            return Err(Error::InvalidArgument("The store must be an object".into()));
        }
        self.replace_with(value, name, keep_internal, call)
    }

    fn replace_with(
        &self,
        value: Value,
        name: &str,
        keep_internal: bool,
        call: Call,
    ) -> Result<Option<Vec<KeyChange>>> {
        self.live()?.commit(
            name,
            self.with_defaults(Op::Replace {
                value,
                keep_internal,
                base: None,
            }),
            self.schema(call),
            self.sync(),
            call.values,
            self.author(),
        )
    }

    /// conf's `clear()`: the store emptied (`__internal__` kept) — through the
    /// schema, so its defaults — then each of `resets` (a JSON object: key or
    /// dot path → value, in order) set as conf's `reset()` sets it, each with
    /// the schema defaults it makes apply; one change. Keys with a forbidden
    /// segment are skipped (conf's dot-prop ignores them).
    pub fn clear(&self, resets: &[u8], call: Call) -> Result<Option<Vec<KeyChange>>> {
        let value = parse(resets).map_err(not_json("clear"))?;
        let Some(map) = value.as_object() else {
            return Err(Error::InvalidArgument(
                "Expected an object of key/value pairs".into(),
            ));
        };
        let mut ops = Vec::with_capacity(map.len() + 1);
        ops.push(self.with_defaults(Op::Replace {
            value: Value::object(),
            keep_internal: true,
            base: None,
        }));
        for (k, v) in map.iter() {
            let segs = match self.segs(k) {
                Ok(segs) => segs,
                Err(Error::ForbiddenKey { .. }) => continue,
                Err(e) => return Err(e),
            };
            check_depth(k, segs.len(), v)?;
            ops.push(self.with_defaults(Op::Set {
                key: k.to_string(),
                segs,
                value: v.clone(),
            }));
        }
        let t = self.stats.start(StatOp::Replace);
        let r = self.live()?.commit(
            "clear",
            Op::Txn(ops),
            self.schema(call),
            self.sync(),
            call.values,
            self.author(),
        );
        self.finish(StatOp::Replace, t);
        r
    }

    /// conf's constructor: adds the top-level `defaults` the document lacks
    /// (merged under its keys) and the schema's defaults (see
    /// `Defaults::open_merge`; `existed`: the store file was there).
    pub fn fill_defaults(&self, existed: bool, call: Call) -> Result<Option<Vec<KeyChange>>> {
        // (with `defaultsLayer` the defaults are read through, never written)
        if self.opts.defaults.is_empty() || self.opts.layer.is_some() {
            return Ok(None);
        }
        self.live()?.commit(
            "defaults",
            Op::FillDefaults {
                defaults: self.opts.defaults.clone(),
                existed,
            },
            self.schema(call),
            self.sync(),
            call.values,
            self.author(),
        )
    }

    /// Repairs the document where it fails the schema (drops the invalid
    /// parts, refills defaults) as one `sanitize` change, after backing the
    /// original up. `None`: already valid; `E_SCHEMA` when it cannot be repaired.
    pub fn sanitize(&self, call: Call) -> Result<Option<Vec<KeyChange>>> {
        let core = self.live()?;
        let Some(schema) = self.opts.schema.clone() else {
            return Ok(None);
        };
        let doc = Document::new(core.snapshot()?)?;
        if schema.errors(&doc, None).is_empty() {
            return Ok(None);
        }
        if let Some(layer) = &self.opts.layer {
            return self.sanitize_layered(&schema, layer, &doc, call);
        }
        if schema.sanitize(&doc, &self.opts.defaults).is_none() {
            return Err(unrepairable(&schema, &doc));
        }
        self.backup_before_sanitize(core)?;
        core.commit(
            "sanitize",
            Op::Sanitize {
                schema,
                defaults: self.opts.defaults.clone(),
            },
            None,
            self.sync(),
            call.values,
            self.author(),
        )
    }

    /// The backup taken before `sanitize` changes anything (none when the
    /// newest backup already holds this state).
    fn backup_before_sanitize(&self, core: &Core) -> Result<()> {
        core.create_backup_in(
            &self.opts.backup_dir,
            "before-sanitize",
            true,
            self.opts.max_backups,
        )
        .map(drop)
    }

    /// `sanitize` with `defaultsLayer`: the user's values that make the view
    /// fail the schema are removed (a default that fails it cannot be
    /// repaired this way: `E_SCHEMA`); one `sanitize` change.
    fn sanitize_layered(
        &self,
        schema: &Arc<Schema>,
        layer: &Layer,
        doc: &Document,
        call: Call,
    ) -> Result<Option<Vec<KeyChange>>> {
        let mut cur = doc.clone();
        let mut repaired = false;
        for _ in 0..16 {
            let view = Document::new(layer.view_of(cur.root()))?;
            let mut paths = schema.violation_paths(&view);
            if paths.is_empty() {
                repaired = true;
                break;
            }
            crate::schema::order_for_removal(&mut paths);
            let mut progressed = false;
            for p in paths {
                if !p.is_empty() && p[0] != INTERNAL_KEY && cur.get(&p).is_some() {
                    let op = crate::doc::PatchOp::Remove { path: p };
                    if cur.apply(std::slice::from_ref(&op)).is_ok() {
                        progressed = true;
                    }
                }
            }
            if !progressed {
                break;
            }
        }
        if !repaired {
            let view = layer.view_document(doc)?;
            return Err(unrepairable(schema, &view));
        }
        let core = self.live()?;
        self.backup_before_sanitize(core)?;
        core.commit(
            "sanitize",
            Op::Replace {
                value: cur.root().clone(),
                keep_internal: false,
                base: None,
            },
            None,
            self.sync(),
            call.values,
            self.author(),
        )
    }

    /// Opens this instance's transaction (see `Core::begin_txn`).
    pub fn begin(&self) -> Result<()> {
        self.live()?.begin_txn(self.id)
    }

    /// Writes this instance's open transaction as one change named `name`.
    pub fn commit_txn(&self, name: &str) -> Result<()> {
        self.live()?.commit_txn(self.author(), name, self.sync())
    }

    /// Undoes this instance's open transaction; returns the keys that changed
    /// back.
    pub fn abort_txn(&self) -> Result<Vec<KeyChange>> {
        self.core.abort_txn(self.author())
    }

    /// Re-reads the shared log and the file now (see `Core::reload`).
    pub fn reload(&self) -> Result<Vec<KeyChange>> {
        let t = self.stats.start(StatOp::Reload);
        let r = self.reload_inner();
        self.finish(StatOp::Reload, t);
        r
    }

    fn reload_inner(&self) -> Result<Vec<KeyChange>> {
        self.live()?
            .reload(self.opts.schema.as_ref(), self.sync(), self.author())
    }

    /// Applies a restore prepared by [`Handle::prepare_restore`]: the whole
    /// document replaced by the backup's content, one change (`restore`).
    pub fn restore(&self, plan: RestorePlan, call: Call) -> Result<Option<Vec<KeyChange>>> {
        self.restore_prepared(plan, call)
            .map(|(changes, _)| changes)
    }

    /// `restore`, and whether the plan made off the JS thread was used as it
    /// was (false: the state changed in between, and it was planned again).
    pub fn restore_prepared(
        &self,
        plan: RestorePlan,
        call: Call,
    ) -> Result<(Option<Vec<KeyChange>>, bool)> {
        self.live()?.commit_prepared(
            "restore",
            plan.op,
            plan.prepared,
            self.schema(call),
            self.sync(),
            call.values,
            self.author(),
        )
    }

    /// Rolls back to `target`, with `history` read earlier (off the JS
    /// thread) when given: it is used when still current, else read again.
    pub fn rollback(
        &self,
        target: Target,
        history: Option<Vec<ChangeRecord>>,
    ) -> Result<(Plan, Vec<KeyChange>)> {
        self.rollback_with(target, history, true)
    }

    /// `rollback`, its change list with the old and new values or not.
    pub fn rollback_with(
        &self,
        target: Target,
        history: Option<Vec<ChangeRecord>>,
        values: bool,
    ) -> Result<(Plan, Vec<KeyChange>)> {
        let core = self.live()?;
        let (plan, changes) = core.rollback(
            target,
            history.map(Arc::new),
            self.sync(),
            values,
            self.author(),
        )?;
        Ok((plan, changes.unwrap_or_default()))
    }

    /// The history entries, oldest first.
    pub fn history(&self) -> Result<Vec<ChangeRecord>> {
        self.live()?.history()
    }

    pub fn flush(&self) -> Result<()> {
        let t = self.stats.start(StatOp::Flush);
        let r = self.flush_inner();
        self.finish(StatOp::Flush, t);
        r
    }

    fn flush_inner(&self) -> Result<()> {
        self.live()?.flush()
    }

    /// Blocks until every change so far is durable in the journal (the
    /// document file follows by the checkpoint schedule, `close` or
    /// [`Handle::flush`]); the JS `flush()`.
    pub fn flush_durable(&self) -> Result<()> {
        let t = self.stats.start(StatOp::Flush);
        let r = self.live().and_then(|c| c.flush_durable());
        self.finish(StatOp::Flush, t);
        r
    }

    /// Counters, once the changes made so far have their seq (see
    /// `Core::status_settled`).
    pub fn status(&self) -> Status {
        self.core.status_settled()
    }

    // -- schema ----------------------------------------------------------------

    /// Schema errors (conf's format) of the JSON document `json`, or of the
    /// store's document when `None`.
    pub fn schema_errors(&self, json: Option<&[u8]>) -> Result<Vec<String>> {
        let Some(schema) = &self.opts.schema else {
            return Ok(Vec::new());
        };
        if let (Some(j), Some(_)) = (json, &self.opts.layer) {
            // `data` as the user's values: checked as the app would see them
            let data = parse(j).map_err(not_json("data"))?;
            if data.as_object().is_none() {
                return Ok(vec!["`` must be object".into()]);
            }
            return Ok(schema.layered_errors_of(&data).unwrap_or_default());
        }
        let doc = match json {
            None => Document::new(self.user_snapshot()?)?,
            Some(j) => match Document::new(parse(j).map_err(not_json("data"))?) {
                Ok(d) => d,
                Err(_) => return Ok(vec!["`` must be object".into()]),
            },
        };
        Ok(schema.errors(&doc, None))
    }

    /// Whether the instance has a schema (`schema` or `rootSchema`).
    pub fn has_schema(&self) -> bool {
        self.opts.schema.is_some()
    }

    /// Top-level `default`s of the `schema` option (conf merges them into the
    /// defaults `reset()` and `clear()` use), as an object.
    pub fn schema_defaults(&self) -> Value {
        let mut m = Map::new();
        if let Some(schema) = &self.opts.schema {
            for (k, v) in schema.top_level_defaults() {
                m.insert(k.as_str().into(), v);
            }
        }
        Value::Object(Arc::new(m))
    }

    // -- backups ---------------------------------------------------------------

    pub fn backup_dir(&self) -> &Path {
        &self.opts.backup_dir
    }

    /// Migration snapshots: `storeHistory/migrations/`.
    pub fn migration_dir(&self) -> PathBuf {
        self.core.config().migration_dir()
    }

    /// Takes the state now; the backup is written by `run_queued_backup`.
    pub fn queue_backup(&self, reason: &str, only_if_changed: bool) -> Result<u64> {
        self.live()?.queue_backup(
            self.opts.backup_dir.clone(),
            reason,
            only_if_changed,
            self.opts.max_backups,
        )
    }

    pub fn run_queued_backup(&self, id: u64) -> Result<Option<backup::Info>> {
        self.core.run_queued_backup(id)
    }

    /// A backup of the state now, on the calling thread.
    pub fn create_backup(
        &self,
        reason: &str,
        only_if_changed: bool,
    ) -> Result<Option<backup::Info>> {
        self.live()?.create_backup_in(
            &self.opts.backup_dir,
            reason,
            only_if_changed,
            self.opts.max_backups,
        )
    }

    /// A migration snapshot of the state now.
    pub fn migration_snapshot(&self, reason: &str) -> Result<Option<backup::Info>> {
        self.live()?
            .create_backup_in(&self.migration_dir(), reason, false, self.opts.max_backups)
    }

    pub fn list_backups(&self) -> Result<Vec<backup::Info>> {
        self.live()?.list_backups_in(&self.opts.backup_dir)
    }

    pub fn list_migration_backups(&self) -> Result<Vec<backup::Info>> {
        self.live()?.list_backups_in(&self.migration_dir())
    }

    /// Verifies a backup (its name or listed path), backs the current state
    /// up and plans the restore on that state: everything proportional to the
    /// document, for a worker thread. [`Handle::restore`] applies it.
    pub fn prepare_restore(&self, name_or_path: &str, call: Call) -> Result<RestorePlan> {
        let core = self.live()?;
        let (v, _) = core.read_backup_in(&self.opts.backup_dir, name_or_path)?;
        self.plan_restore(v, call)
    }

    /// The current state backed up ("before-restore", skipped when the newest
    /// backup holds it), then `value` planned to replace that state.
    fn plan_restore(&self, mut value: Value, call: Call) -> Result<RestorePlan> {
        let core = self.live()?;
        let (now, seq) = core.snapshot_with_seq()?;
        core.backup_state_in(
            &self.opts.backup_dir,
            "before-restore",
            true,
            self.opts.max_backups,
            (now.clone(), seq),
        )?;
        // what the restored state holds equal to the current one becomes the
        // current one's nodes: the diff, the writer's hashing and memory skip it
        share(&mut value, &now);
        let op = self.with_defaults(Op::Replace {
            value,
            keep_internal: false,
            base: None,
        });
        let prepared = core.prepare_commit(&op, now, self.schema(call), call.values)?;
        Ok(RestorePlan { op, prepared })
    }

    /// Reads and verifies a migration snapshot given by name only.
    pub fn read_migration_backup(&self, name: &str) -> Result<(Value, backup::Meta)> {
        if name.contains('/') || name.contains('\\') {
            return Err(Error::BackupNotFound(format!(
                "Give a migration backup's file name from listMigrationBackups(), not a path ({name:?})"
            )));
        }
        self.live()?.read_backup_in(&self.migration_dir(), name)
    }

    /// `prepare_restore` for a migration snapshot (name only).
    pub fn prepare_migration_restore(&self, name: &str, call: Call) -> Result<RestorePlan> {
        let (v, _) = self.read_migration_backup(name)?;
        self.plan_restore(v, call)
    }

    /// Checks a migration snapshot: hash, parse, schema. A missing one is an
    /// error; a damaged one gives its problem as the error list.
    pub fn validate_migration_backup(&self, name: &str) -> Result<Vec<String>> {
        match self.read_migration_backup(name) {
            Ok((v, _)) => match (&self.opts.schema, Document::new(v)) {
                (Some(schema), Ok(doc)) => Ok(schema.errors(&doc, None)),
                _ => Ok(Vec::new()),
            },
            Err(e @ Error::BackupCorrupt(_)) => Ok(vec![e.to_string()]),
            Err(e) => Err(e),
        }
    }

    /// The key `__internal__` is reserved for migration state.
    pub fn is_internal_key(&self, key: &str) -> bool {
        if self.opts.dot_notation {
            key == INTERNAL_KEY || key.starts_with("__internal__.")
        } else {
            key == INTERNAL_KEY
        }
    }

    /// Closes this instance: a transaction it left open (a constructor that
    /// never finished: its thread was terminated) is undone, its changes are
    /// flushed; the file stays open for the other instances on it. When
    /// changes cannot be written, returns the error and stays open (unless
    /// `force`).
    pub fn close(&self, force: bool) -> Result<()> {
        if !self.is_closed() && self.core.has_txn(self.id) {
            self.core.abort_txn(self.author())?;
        }
        // an update()/transaction() whose environment ended inside it (a
        // terminated worker): its section ends, so nobody waits for it
        self.core.atomic_end(self.author());
        self.exporter().drop_pending();
        if !self.is_closed() {
            crate::open_files::release(&self.core, force)?;
            self.mark_closed();
        }
        self.core.unwatch(self.id);
        Ok(())
    }

    /// `watch: true`: external edits of the file and other processes' changes
    /// arrive as events (checked against this instance's schema) without a
    /// call. Idempotent; stops on `close()`.
    pub fn watch(&self) -> Result<()> {
        self.live()?.watch(self.id, self.opts.schema.clone())
    }

    /// `watch` with explicit debounce timing, clock and backend (tests).
    pub fn watch_with(&self, setup: crate::watch::WatchSetup) -> Result<()> {
        self.live()?
            .watch_with(self.id, self.opts.schema.clone(), setup)
    }
}

impl Drop for Handle {
    fn drop(&mut self) {
        if !self.is_closed() {
            let _ = self.close(false);
        }
    }
}

/// The error of a sanitize that cannot make `doc` fit `schema`.
fn unrepairable(schema: &Schema, doc: &Document) -> Error {
    Error::Schema(format!(
        "Config schema violation: {}. The data could not be repaired automatically (nothing was changed)",
        schema.errors(doc, None).join("; ")
    ))
}
