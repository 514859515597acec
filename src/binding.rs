//! The Node-API layer: thin `#[napi]` wrappers over the core `Store`.
//!
//! Values cross the boundary as JSON text (the JS side uses the engine's own
//! `JSON.stringify`/`JSON.parse`, which is faster than building objects through
//! Node-API one property at a time, and gives `"__proto__"` keys back as own
//! properties). Errors carry their stable code as a `[E_CODE] ` message prefix,
//! which `lib/errors.js` turns into `error.code` (and a `TypeError` for argument
//! errors).

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::doc::Change;
use crate::error::Error as CoreError;
use crate::path::{segments, FORBIDDEN_SEGMENTS};
use crate::store::{Durability, OpenReport, Options, Store};
use crate::value::{parse_nested, to_json, write_json, write_string, Str, Value};

fn js_err(e: CoreError) -> napi::Error {
    napi::Error::new(Status::GenericFailure, format!("[{}] {}", e.code(), e))
}

fn parse_value(json: &str) -> napi::Result<Value> {
    parse_value_at(json, 0)
}

/// Parses a value that will sit `depth` levels below the top of the document
/// (so nothing is accepted that could not be read back from the file).
fn parse_value_at(json: &str, depth: usize) -> napi::Result<Value> {
    parse_nested(json.as_bytes(), depth).map_err(|e| {
        js_err(CoreError::InvalidArgument(format!(
            "Value is not JSON-serializable: {e}"
        )))
    })
}

fn json_string(v: &Value) -> String {
    // the serializer only emits valid UTF-8
    String::from_utf8(to_json(v, false)).unwrap_or_default()
}

/// JSON text handed to JS without an intermediate copy; ASCII text (the usual
/// case) becomes a one-byte string by a plain copy instead of UTF-8 decoding.
/// Measured on a 7 MB document: ~2× faster than returning a `String`.
pub struct JsonText(Vec<u8>);

impl JsonText {
    fn of(v: &Value) -> JsonText {
        JsonText(to_json(v, false))
    }
}

impl TypeName for JsonText {
    fn type_name() -> &'static str {
        "String"
    }

    fn value_type() -> ValueType {
        ValueType::String
    }
}

impl ToNapiValue for JsonText {
    unsafe fn to_napi_value(env: sys::napi_env, val: Self) -> napi::Result<sys::napi_value> {
        let mut result = std::ptr::null_mut();
        let ptr = val.0.as_ptr() as *const std::ffi::c_char;
        let len = val.0.len() as isize;
        let status = if val.0.is_ascii() {
            sys::napi_create_string_latin1(env, ptr, len, &mut result)
        } else {
            sys::napi_create_string_utf8(env, ptr, len, &mut result)
        };
        if status != sys::Status::napi_ok {
            return Err(napi::Error::new(
                Status::GenericFailure,
                "could not create a JS string".to_string(),
            ));
        }
        Ok(result)
    }
}

/// Options for the native store (built by `index.js` from the public options).
#[napi(object)]
pub struct BindingOptions {
    /// The document file.
    pub path: String,
    /// The journal / history directory.
    pub history_dir: String,
    /// File mode for created files.
    pub mode: u32,
    /// `'deferred'` or `'sync'`.
    pub durability: String,
    pub clear_invalid_config: bool,
    /// Change records kept in the journal.
    pub history_max: u32,
    /// Keys are dot paths (`a.b`), as electron-store's `accessPropertiesByDotNotation`.
    pub dot_notation: bool,
}

/// An open store as the binding holds it.
pub struct BindingStore {
    core: Arc<Store>,
    report: OpenReport,
    /// Size of the last whole-document serialization (buffer size hint).
    last_json_len: std::sync::atomic::AtomicUsize,
}

/// Per-call flags (the options of the JS `Store` making the call: several
/// instances with different options may share one file).
const FLAG_DOT: u32 = 1;
const FLAG_SYNC: u32 = 2;

fn durability(flags: u32) -> Durability {
    if flags & FLAG_SYNC != 0 {
        Durability::Sync
    } else {
        Durability::Deferred
    }
}

/// Open stores by handle. Free functions taking a handle are several times
/// cheaper to call from JS than `#[napi]` class methods (measured: ~0.25 µs vs
/// ~0.8 µs per call), and `get` is the hot path.
static STORES: Mutex<Vec<Option<Arc<BindingStore>>>> = Mutex::new(Vec::new());

fn store(handle: u32) -> napi::Result<Arc<BindingStore>> {
    let stores = STORES.lock().unwrap_or_else(|p| p.into_inner());
    stores
        .get(handle as usize)
        .and_then(|s| s.clone())
        .ok_or_else(|| js_err(CoreError::Closed))
}

/// `[{k, o?, n?}]`: the top-level or given keys whose values changed, with old and
/// new values (absent = undefined).
fn changes_json(entries: &[(String, Option<Value>, Option<Value>)]) -> String {
    let mut out = Vec::with_capacity(64);
    out.push(b'[');
    for (i, (k, o, n)) in entries.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(b"{\"k\":");
        write_string(&mut out, k);
        if let Some(o) = o {
            out.extend_from_slice(b",\"o\":");
            write_json(&mut out, o, false);
        }
        if let Some(n) = n {
            out.extend_from_slice(b",\"n\":");
            write_json(&mut out, n, false);
        }
        out.push(b'}');
    }
    out.push(b']');
    String::from_utf8(out).unwrap_or_default()
}

/// Top-level keys whose values differ between two documents.
fn top_level_diff(old: &Value, new: &Value) -> Vec<(String, Option<Value>, Option<Value>)> {
    let (Some(o), Some(n)) = (old.as_object(), new.as_object()) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (k, ov) in o.iter() {
        match n.get(k) {
            Some(nv) if nv.eq_exact(ov) => {}
            nv => out.push((k.to_string(), Some(ov.clone()), nv.cloned())),
        }
    }
    for (k, nv) in n.iter() {
        if !o.contains_key(k) {
            out.push((k.to_string(), None, Some(nv.clone())));
        }
    }
    out
}

pub struct FlushTask(Arc<Store>);

impl Task for FlushTask {
    type Output = ();
    type JsValue = ();

    fn compute(&mut self) -> napi::Result<()> {
        self.0.flush().map_err(js_err)
    }

    fn resolve(&mut self, _env: Env, _output: ()) -> napi::Result<()> {
        Ok(())
    }
}

/// Opens the store file (creating directories), replaying the journal.
/// Returns the handle the other functions take.
#[napi]
pub fn store_open(opts: BindingOptions) -> napi::Result<u32> {
    let s = BindingStore::new(opts)?;
    let mut stores = STORES.lock().unwrap_or_else(|p| p.into_inner());
    let slot = stores
        .iter()
        .position(Option::is_none)
        .unwrap_or(stores.len());
    if slot == stores.len() {
        stores.push(None);
    }
    stores[slot] = Some(Arc::new(s));
    Ok(slot as u32)
}

impl BindingStore {
    fn new(opts: BindingOptions) -> napi::Result<Self> {
        let mut o = Options::new(PathBuf::from(&opts.path));
        o.history_dir = PathBuf::from(&opts.history_dir);
        o.mode = opts.mode & 0o777;
        o.durability = match opts.durability.as_str() {
            "deferred" => Durability::Deferred,
            "sync" => Durability::Sync,
            other => {
                return Err(js_err(CoreError::InvalidArgument(format!(
                    "Expected `durability` to be 'deferred' or 'sync', got {other:?}"
                ))))
            }
        };
        o.clear_invalid_config = opts.clear_invalid_config;
        o.history_max = opts.history_max as usize;
        let (core, report) = Store::open(o).map_err(js_err)?;
        Ok(BindingStore {
            last_json_len: Default::default(),
            core: Arc::new(core),
            report,
        })
    }

    /// What opening found: `{quarantined, replayed, skipped, externalEdit, journalDamage}`.
    pub fn open_report(&self) -> String {
        let r = &self.report;
        let mut out = Vec::new();
        out.extend_from_slice(b"{\"quarantined\":");
        match &r.quarantined {
            Some(p) => write_string(&mut out, &p.display().to_string()),
            None => out.extend_from_slice(b"null"),
        }
        out.extend_from_slice(
            format!(
                ",\"replayed\":{},\"skipped\":{},\"externalEdit\":{},\"journalDamage\":",
                r.replayed, r.skipped, r.external_edit
            )
            .as_bytes(),
        );
        match &r.journal_damage {
            Some(d) => write_string(&mut out, d),
            None => out.extend_from_slice(b"null"),
        }
        out.push(b'}');
        String::from_utf8(out).unwrap_or_default()
    }

    fn segs(&self, key: &str, flags: u32) -> napi::Result<Vec<String>> {
        segments(key, flags & FLAG_DOT != 0).map_err(js_err)
    }

    /// The value at `key` as JSON text, or `null` when absent.
    pub fn get(&self, flags: u32, key: String) -> napi::Result<Option<JsonText>> {
        if flags & FLAG_DOT != 0 && !key.contains('\\') {
            // fast path: split without allocating
            if key.split('.').any(|s| FORBIDDEN_SEGMENTS.contains(&s)) {
                self.segs(&key, flags)?; // reports the forbidden segment
            }
            return self
                .core
                .read(|d| d.get_iter(key.split('.')).map(JsonText::of))
                .map_err(js_err);
        }
        let segs = self.segs(&key, flags)?;
        self.core
            .read(|d| d.get(&segs).map(JsonText::of))
            .map_err(js_err)
    }

    pub fn has(&self, flags: u32, key: String) -> napi::Result<bool> {
        let segs = self.segs(&key, flags)?;
        self.core.read(|d| d.has(&segs)).map_err(js_err)
    }

    /// Sets `key` to the JSON `json`. Returns `null` when nothing changed, else
    /// the old value's JSON (`""` when it was absent or `wantOld` is false).
    pub fn set(
        &self,
        flags: u32,
        key: String,
        json: String,
        want_old: bool,
    ) -> napi::Result<Option<String>> {
        let segs = self.segs(&key, flags)?;
        let value = parse_value_at(&json, segs.len())?;
        let r = self
            .core
            .commit_as(
                durability(flags),
                "set",
                std::slice::from_ref(&key),
                |d, _| {
                    let old = if want_old {
                        d.get(&segs).cloned()
                    } else {
                        None
                    };
                    Ok((d.plan_set(&segs, value), old))
                },
            )
            .map_err(js_err)?;
        Ok(r.map(|(_, old)| old.as_ref().map(json_string).unwrap_or_default()))
    }

    /// Deletes `key`; same return convention as `set`.
    pub fn delete(&self, flags: u32, key: String, want_old: bool) -> napi::Result<Option<String>> {
        let segs = self.segs(&key, flags)?;
        let r = self
            .core
            .commit_as(
                durability(flags),
                "delete",
                std::slice::from_ref(&key),
                |d, _| {
                    let old = if want_old {
                        d.get(&segs).cloned()
                    } else {
                        None
                    };
                    Ok((d.plan_delete(&segs), old))
                },
            )
            .map_err(js_err)?;
        Ok(r.map(|(_, old)| old.as_ref().map(json_string).unwrap_or_default()))
    }

    /// Sets every `key: value` of a JSON object (keys are paths) as one change.
    /// Returns `null` when nothing changed, else `[{k, o?, n?}]` for each key whose
    /// value changed.
    pub fn set_many(&self, flags: u32, json: String, op: String) -> napi::Result<Option<String>> {
        let value = parse_value(&json)?;
        let Some(map) = value.as_object() else {
            return Err(js_err(CoreError::InvalidArgument(
                "Expected an object of key/value pairs".into(),
            )));
        };
        let mut entries = Vec::with_capacity(map.len());
        for (k, v) in map.iter() {
            let segs = self.segs(k, flags)?;
            if crate::value::depth(v) + segs.len() > crate::value::MAX_DEPTH {
                return Err(js_err(CoreError::InvalidArgument(format!(
                    "Value is not JSON-serializable: the value for `{k}` is nested too deeply"
                ))));
            }
            entries.push((k.to_string(), segs, v.clone()));
        }
        let keys: Vec<String> = entries.iter().map(|e| e.0.clone()).collect();
        let r = self
            .core
            .commit_as(durability(flags), &op, &keys, |d, _| {
                let mut work = d.clone();
                let mut total = Change::default();
                let mut changed = Vec::new();
                for (k, segs, v) in entries {
                    let old = work.get(&segs).cloned();
                    let c = work.plan_set(&segs, v);
                    if c.is_empty() {
                        continue;
                    }
                    work.apply(&c.patch)?;
                    total.extend(c);
                    changed.push((k, old, segs));
                }
                let changed: Vec<_> = changed
                    .into_iter()
                    .filter_map(|(k, old, segs)| {
                        let new = work.get(&segs).cloned();
                        match (&old, &new) {
                            (Some(a), Some(b)) if a.eq_exact(b) => None,
                            _ => Some((k, old, new)),
                        }
                    })
                    .collect();
                Ok((total, changed))
            })
            .map_err(js_err)?;
        Ok(r.map(|(_, c)| changes_json(&c)))
    }

    /// Replaces the whole document with the JSON object `json` (`store = x`,
    /// `clear()`); `keepInternal` carries `__internal__` over. Returns `null` or
    /// the changed top-level keys `[{k, o?, n?}]`.
    pub fn replace_all(
        &self,
        flags: u32,
        json: String,
        op: String,
        keep_internal: bool,
    ) -> napi::Result<Option<String>> {
        let value = parse_value(&json)?;
        if value.as_object().is_none() {
            return Err(js_err(CoreError::InvalidArgument(
                "The store must be an object".into(),
            )));
        }
        let r = self
            .core
            .commit_as(durability(flags), &op, &[], |d, _| {
                let mut new = value;
                if keep_internal {
                    if let (Some(internal), Value::Object(m)) =
                        (d.map().get("__internal__"), &mut new)
                    {
                        if !m.contains_key("__internal__") {
                            Arc::make_mut(m).insert(Str::from("__internal__"), internal.clone());
                        }
                    }
                }
                let old = d.root().clone();
                let diff = top_level_diff(&old, &new);
                Ok((d.plan_replace(new), diff))
            })
            .map_err(js_err)?;
        Ok(r.map(|(_, c)| changes_json(&c)))
    }

    /// Adds each top-level key of `json` that the document lacks (electron-store's
    /// `defaults`). Returns `null` or the added keys.
    pub fn fill_defaults(&self, flags: u32, json: String) -> napi::Result<Option<String>> {
        let value = parse_value(&json)?;
        let Some(defaults) = value.as_object() else {
            return Err(js_err(CoreError::InvalidArgument(
                "Expected `defaults` to be an object".into(),
            )));
        };
        let r = self
            .core
            .commit_as(durability(flags), "defaults", &[], |d, _| {
                // conf: Object.assign({}, defaults, fileStore): the defaults' keys
                // first (with the file's values where it has them), then the rest
                let cur = d.map();
                let added: Vec<_> = defaults
                    .iter()
                    .filter(|(k, _)| !cur.contains_key(k))
                    .map(|(k, v)| (k.to_string(), None, Some(v.clone())))
                    .collect();
                let mut new = crate::value::Map::new();
                for (k, v) in defaults.iter() {
                    new.insert(k.clone(), cur.get(k).unwrap_or(v).clone());
                }
                for (k, v) in cur.iter() {
                    if !new.contains_key(k) {
                        new.insert(k.clone(), v.clone());
                    }
                }
                let change = if added.is_empty() {
                    Change::default()
                } else {
                    d.plan_replace(Value::Object(Arc::new(new)))
                };
                Ok((change, added))
            })
            .map_err(js_err)?;
        Ok(r.map(|(_, c)| changes_json(&c)))
    }

    /// Re-reads the file; returns `null` or the changed top-level keys.
    pub fn reload(&self) -> napi::Result<Option<String>> {
        let r = self.core.reload_from_disk().map_err(js_err)?;
        match r {
            None => Ok(None),
            Some((_, old)) => {
                let new = self.core.snapshot().map_err(js_err)?;
                Ok(Some(changes_json(&top_level_diff(&old, &new))))
            }
        }
    }

    /// The whole document as compact JSON.
    pub fn to_json(&self) -> napi::Result<JsonText> {
        use std::sync::atomic::Ordering::Relaxed;
        let snap = self.core.snapshot().map_err(js_err)?;
        let hint = self.last_json_len.load(Relaxed);
        let out = crate::value::to_json_sized(&snap, false, hint + hint / 16 + 64);
        self.last_json_len.store(out.len(), Relaxed);
        Ok(JsonText(out))
    }

    /// Number of top-level keys.
    pub fn size(&self) -> napi::Result<u32> {
        self.core.read(|d| d.map().len() as u32).map_err(js_err)
    }

    /// Top-level keys in insertion order.
    pub fn keys(&self) -> napi::Result<Vec<String>> {
        self.core
            .read(|d| d.map().keys().map(|k| k.to_string()).collect())
            .map_err(js_err)
    }

    /// Waits until every change so far is durable and in the document file.
    pub fn flush_sync(&self) -> napi::Result<()> {
        self.core.flush().map_err(js_err)
    }

    /// Promise form of `flushSync`, waiting on a worker thread.
    pub fn flush(&self) -> AsyncTask<FlushTask> {
        AsyncTask::new(FlushTask(self.core.clone()))
    }

    /// Flushes and stops the writer.
    pub fn close(&self) -> napi::Result<()> {
        self.core.close().map_err(js_err)
    }

    /// Writer/journal counters as JSON.
    pub fn status(&self) -> String {
        let s = self.core.status();
        let file_size = std::fs::metadata(&self.core.options().path)
            .map(|m| m.len() as f64)
            .unwrap_or(0.0);
        let mut out = format!(
            "{{\"seq\":{},\"durableSeq\":{},\"checkpointedSeq\":{},\"journalBytes\":{},\"checkpoints\":{},\"lastCheckpointMs\":{},\"fileSize\":{},\"writerError\":",
            s.seq, s.durable_seq, s.checkpointed_seq, s.journal_bytes, s.checkpoints, s.last_checkpoint_ms, file_size
        )
        .into_bytes();
        match &s.writer_error {
            Some(e) => write_string(&mut out, e),
            None => out.extend_from_slice(b"null"),
        }
        out.push(b'}');
        String::from_utf8(out).unwrap_or_default()
    }
}

// The exported functions: each looks the store up by handle and calls the method.

/// What opening found, as JSON: `{quarantined, replayed, skipped, externalEdit, journalDamage}`.
#[napi]
pub fn store_open_report(h: u32) -> napi::Result<String> {
    Ok(store(h)?.open_report())
}

/// The value at `key` as JSON text, or `null` when absent.
#[napi(ts_return_type = "string | null")]
pub fn store_get(h: u32, flags: u32, key: String) -> napi::Result<Option<JsonText>> {
    store(h)?.get(flags, key)
}

/// Whether `key` exists.
#[napi]
pub fn store_has(h: u32, flags: u32, key: String) -> napi::Result<bool> {
    store(h)?.has(flags, key)
}

/// Sets `key` to the JSON `json`: `null` when nothing changed, else the old
/// value's JSON (`""` when absent or not wanted).
#[napi]
pub fn store_set(
    h: u32,
    flags: u32,
    key: String,
    json: String,
    want_old: bool,
) -> napi::Result<Option<String>> {
    store(h)?.set(flags, key, json, want_old)
}

/// Deletes `key`; same return convention as `storeSet`.
#[napi]
pub fn store_delete(
    h: u32,
    flags: u32,
    key: String,
    want_old: bool,
) -> napi::Result<Option<String>> {
    store(h)?.delete(flags, key, want_old)
}

/// Sets every `key: value` of a JSON object as one change: `null` or `[{k, o?, n?}]`.
#[napi]
pub fn store_set_many(
    h: u32,
    flags: u32,
    json: String,
    op: String,
) -> napi::Result<Option<String>> {
    store(h)?.set_many(flags, json, op)
}

/// Replaces the whole document: `null` or the changed top-level keys.
#[napi]
pub fn store_replace_all(
    h: u32,
    flags: u32,
    json: String,
    op: String,
    keep_internal: bool,
) -> napi::Result<Option<String>> {
    store(h)?.replace_all(flags, json, op, keep_internal)
}

/// Adds the top-level defaults the document lacks: `null` or the added keys.
#[napi]
pub fn store_fill_defaults(h: u32, flags: u32, json: String) -> napi::Result<Option<String>> {
    store(h)?.fill_defaults(flags, json)
}

/// Re-reads the file: `null` or the changed top-level keys.
#[napi]
pub fn store_reload(h: u32) -> napi::Result<Option<String>> {
    store(h)?.reload()
}

/// The whole document as compact JSON.
#[napi(ts_return_type = "string")]
pub fn store_to_json(h: u32) -> napi::Result<JsonText> {
    store(h)?.to_json()
}

/// Number of top-level keys.
#[napi]
pub fn store_size(h: u32) -> napi::Result<u32> {
    store(h)?.size()
}

/// Top-level keys in insertion order.
#[napi]
pub fn store_keys(h: u32) -> napi::Result<Vec<String>> {
    store(h)?.keys()
}

/// Blocks until every change so far is durable and in the document file.
#[napi]
pub fn store_flush_sync(h: u32) -> napi::Result<()> {
    store(h)?.flush_sync()
}

/// Promise form of `storeFlushSync`, waiting on a worker thread.
#[napi(ts_return_type = "Promise<void>")]
pub fn store_flush(h: u32) -> napi::Result<AsyncTask<FlushTask>> {
    Ok(store(h)?.flush())
}

/// Writer/journal counters as JSON.
#[napi]
pub fn store_status(h: u32) -> napi::Result<String> {
    Ok(store(h)?.status())
}

/// Flushes, stops the writer and releases the handle.
#[napi]
pub fn store_close(h: u32) -> napi::Result<()> {
    let s = {
        let mut stores = STORES.lock().unwrap_or_else(|p| p.into_inner());
        stores.get_mut(h as usize).and_then(Option::take)
    };
    match s {
        Some(s) => s.close(),
        None => Ok(()),
    }
}
