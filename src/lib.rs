//! The Node-API addon: thin `#[napi]` wrappers over `tad_store_core` and the
//! conversions between JS and the core. No store rule lives here.
//!
//! - Values cross the boundary as JSON text (the JS side uses the engine's own
//!   `JSON.stringify`/`JSON.parse`, faster than building objects through
//!   Node-API one property at a time, and `"__proto__"` keys come back as own
//!   properties).
//! - A core error becomes a JS `Error` (a `TypeError` for argument errors)
//!   built here with its stable `code`, the OS error as `cause` (`code`
//!   `ENOSPC`, `errno`) and the `path` for I/O failures.
//! - Every function catches panics: a panic becomes an `E_INTERNAL` error,
//!   never an abort.
//! - Background events (other processes' changes, write failures) reach JS
//!   through one weak threadsafe function per open file and JS environment,
//!   released on close.
//! - Several JS environments (the main thread, worker threads) share one core
//!   per file: each gets the changes the others make as events, and a counter
//!   its read caches check; when an environment ends, a cleanup hook closes
//!   the stores it left open (see "JS environments" below).

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicI32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

mod inspect;

use napi::bindgen_prelude::*;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi_derive::napi;

use tad_store_core::backup;
use tad_store_core::defaults::Defaults;
use tad_store_core::events::{Event, Sink};
use tad_store_core::history::{iso, Target};
use tad_store_core::journal::ChangeRecord;
use tad_store_core::ops::KeyChange;
use tad_store_core::schema::{self, Schema};
use tad_store_core::value::{
    display, encode, to_json, write_json, write_list, write_number, write_string, Value,
};
use tad_store_core::{
    registry, Call, Durability, Error as CoreError, Handle, Prepared, StoreOptions,
};

// ---------------------------------------------------------------------------
// Errors and panics
// ---------------------------------------------------------------------------

/// Builds the JS error for a core error: `Error` or `TypeError` with `code`,
/// plus `cause` (the OS error) and `path` for I/O failures.
fn error_object<'e>(env: &'e Env, e: &CoreError) -> Result<Object<'e>> {
    // keys in messages are in the JS-string encoding: shown as text
    let message = display(&e.to_string()).into_owned();
    let raw = if e.is_type_error() {
        unsafe { JsTypeError::from(napi::Error::new(e.code(), message)).into_value(env.raw()) }
    } else if e.is_range_error() {
        unsafe { JsRangeError::from(napi::Error::new(e.code(), message)).into_value(env.raw()) }
    } else {
        unsafe { JsError::from(napi::Error::new(e.code(), message)).into_value(env.raw()) }
    };
    let mut obj = Object::from_raw(env.raw(), raw);
    if let Some((code, errno, msg)) = e.os_cause() {
        let craw = unsafe {
            JsError::from(napi::Error::new(code.unwrap_or("EUNKNOWN"), msg)).into_value(env.raw())
        };
        let mut cause = Object::from_raw(env.raw(), craw);
        if let Some(n) = errno {
            cause.set("errno", n)?;
        }
        obj.set("cause", cause)?;
    }
    if let Some(p) = e.path() {
        obj.set("path", p.display().to_string())?;
    }
    Ok(obj)
}

/// Throws the JS error for `e` and returns the "already thrown" marker.
fn throw(env: &Env, e: CoreError) -> napi::Error {
    match error_object(env, &e).and_then(|o| env.throw(o)) {
        Ok(()) => napi::Error::from_status(Status::PendingException),
        Err(_) => napi::Error::new(Status::GenericFailure, format!("[{}] {e}", e.code())),
    }
}

/// Runs a core call on the JS thread: errors become JS errors with their code,
/// panics become `E_INTERNAL`.
fn run<T>(env: &Env, what: &str, f: impl FnOnce() -> tad_store_core::Result<T>) -> Result<T> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(throw(env, e)),
        Err(p) => Err(throw(env, CoreError::from_panic(&*p, what))),
    }
}

// ---------------------------------------------------------------------------
// Conversions
// ---------------------------------------------------------------------------

/// JSON text handed to JS without an intermediate copy; ASCII text (the usual
/// case) becomes a one-byte string by a plain copy instead of UTF-8 decoding.
/// Measured on a 7 MB document: ~2× faster than returning a `String`.
pub struct JsonText(Vec<u8>);

impl TypeName for JsonText {
    fn type_name() -> &'static str {
        "String"
    }

    fn value_type() -> ValueType {
        ValueType::String
    }
}

impl ToNapiValue for JsonText {
    unsafe fn to_napi_value(env: sys::napi_env, val: Self) -> Result<sys::napi_value> {
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

fn text(out: Vec<u8>) -> String {
    // every writer below emits valid UTF-8
    String::from_utf8(out).unwrap_or_default()
}

fn json_of(v: &Value) -> String {
    text(to_json(v, false))
}

/// `[{k, o?, n?}]` (absent = undefined).
fn write_changes(out: &mut Vec<u8>, changes: &[KeyChange]) {
    write_list(out, changes, |out, c| {
        out.extend_from_slice(b"{\"k\":");
        write_string(out, &c.key);
        if let Some(o) = &c.old {
            out.extend_from_slice(b",\"o\":");
            write_json(out, o, false);
        }
        if let Some(n) = &c.new {
            out.extend_from_slice(b",\"n\":");
            write_json(out, n, false);
        }
        out.push(b'}');
    });
}

fn changes_json(changes: &[KeyChange]) -> String {
    let mut out = Vec::with_capacity(64);
    write_changes(&mut out, changes);
    text(out)
}

fn opt_str(out: &mut Vec<u8>, s: Option<&str>) {
    match s {
        Some(s) => write_string(out, s),
        None => out.extend_from_slice(b"null"),
    }
}

/// `{file, path, metadata}` as `listBackups()` returns it.
fn write_backup(out: &mut Vec<u8>, b: &backup::Info) {
    out.extend_from_slice(b"{\"file\":");
    write_string(out, &b.file);
    out.extend_from_slice(b",\"path\":");
    write_string(out, &b.path.display().to_string());
    out.extend_from_slice(b",\"metadata\":");
    match &b.meta {
        Some(m) => out.extend_from_slice(&m.to_json()),
        None => out.extend_from_slice(b"null"),
    }
    out.push(b'}');
}

fn backups_json(list: &[backup::Info]) -> String {
    let mut out = Vec::new();
    write_list(&mut out, list, write_backup);
    text(out)
}

fn backup_json(b: Option<backup::Info>) -> String {
    match b {
        Some(b) => {
            let mut out = Vec::new();
            write_backup(&mut out, &b);
            text(out)
        }
        None => "null".into(),
    }
}

/// History entries: `[{seq, timestamp, time, operation, keys, hashBefore, hashAfter, reversible}]`.
fn history_json(entries: &[ChangeRecord]) -> String {
    let mut out = Vec::new();
    write_list(&mut out, entries, |out, e| {
        out.extend_from_slice(
            format!(
                "{{\"seq\":{},\"timestamp\":\"{}\",\"time\":",
                e.seq,
                iso(e.ts)
            )
            .as_bytes(),
        );
        write_number(out, e.ts);
        out.extend_from_slice(b",\"operation\":");
        write_string(out, &e.op);
        out.extend_from_slice(b",\"keys\":");
        write_list(out, &e.keys, |o, k| write_string(o, k));
        out.extend_from_slice(b",\"hashBefore\":");
        opt_str(out, e.hash_before.as_deref());
        out.extend_from_slice(b",\"hashAfter\":");
        opt_str(out, e.hash_after.as_deref());
        out.extend_from_slice(format!(",\"reversible\":{}}}", e.inverse.is_some()).as_bytes());
    });
    text(out)
}

fn strings_json(list: &[String]) -> String {
    let mut out = Vec::new();
    write_list(&mut out, list, |o, e| write_string(o, e));
    text(out)
}

/// An event as the JSON the JS listener gets.
fn event_json(e: &Event) -> String {
    let mut out = Vec::new();
    match e {
        Event::Changed { origin, changes } => {
            out.extend_from_slice(b"{\"type\":\"changes\",\"origin\":");
            write_string(&mut out, origin.as_str());
            out.extend_from_slice(b",\"changes\":");
            write_changes(&mut out, changes);
        }
        Event::WriteFailed {
            code,
            message,
            pending,
        } => {
            out.extend_from_slice(b"{\"type\":\"error\",\"code\":");
            write_string(&mut out, code);
            out.extend_from_slice(b",\"message\":");
            write_string(&mut out, message);
            out.extend_from_slice(format!(",\"pending\":{pending}").as_bytes());
        }
        Event::WriteRecovered => out.extend_from_slice(b"{\"type\":\"recovered\""),
        Event::ChangeRejected {
            code,
            message,
            keys,
        } => {
            out.extend_from_slice(b"{\"type\":\"rejected\",\"code\":");
            write_string(&mut out, code);
            out.extend_from_slice(b",\"message\":");
            write_string(&mut out, message);
            out.extend_from_slice(b",\"keys\":");
            write_list(&mut out, keys, |o, k| write_string(o, k));
        }
        Event::InvalidExternalChange { code, reason, kept } => {
            out.extend_from_slice(b"{\"type\":\"invalid-external-change\",\"code\":");
            write_string(&mut out, code);
            out.extend_from_slice(b",\"message\":");
            write_string(&mut out, reason);
            out.extend_from_slice(b",\"kept\":");
            opt_str(&mut out, kept.as_deref());
        }
        Event::SlowOperation { handle, op, micros } => {
            out.extend_from_slice(b"{\"type\":\"slow\",\"handle\":");
            out.extend_from_slice(handle.to_string().as_bytes());
            out.extend_from_slice(b",\"op\":");
            write_string(&mut out, op);
            out.extend_from_slice(format!(",\"micros\":{micros:.1}").as_bytes());
        }
        Event::WatchError { code, message } => {
            out.extend_from_slice(b"{\"type\":\"watch-error\",\"code\":");
            write_string(&mut out, code);
            out.extend_from_slice(b",\"message\":");
            write_string(&mut out, message);
        }
    }
    out.push(b'}');
    text(out)
}

// ---------------------------------------------------------------------------
// JS environments
// ---------------------------------------------------------------------------

/// A counter in one JS environment's memory (an `Int32Array` over a
/// `SharedArrayBuffer` its JS made, kept alive by a reference): any thread adds
/// 1 when a document the environment has open changes without a call of its
/// own (another environment's change, another process's caught up), before the
/// event is queued, so the environment's reads see their caches are stale with
/// one `Atomics.load` instead of a native call. (Memory the addon allocated
/// cannot be handed to JS: Electron refuses external buffers.) Emptied when
/// the environment ends, before its memory goes.
#[derive(Default)]
struct ChangeCounter(Mutex<Option<NonNull<AtomicI32>>>);

// the pointer is only dereferenced under the mutex, while the environment lives
unsafe impl Send for ChangeCounter {}
unsafe impl Sync for ChangeCounter {}

impl ChangeCounter {
    fn bump(&self) {
        if let Some(p) = *self.0.lock().unwrap_or_else(|p| p.into_inner()) {
            unsafe { p.as_ref() }.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn clear(&self) {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }
}

/// One JS environment (Node-API instance data).
struct EnvState {
    /// Its number (handles and event sinks are tagged with it; never 0).
    id: u64,
    counter: Arc<ChangeCounter>,
}

/// The calling environment's state, made on first use together with the
/// cleanup hook that closes what it leaves open.
fn env_state(env: &Env) -> Result<&'static EnvState> {
    if let Some(s) = env.get_instance_data::<EnvState>()? {
        return Ok(&*s);
    }
    static NEXT_ENV: AtomicU64 = AtomicU64::new(1);
    let state = EnvState {
        id: NEXT_ENV.fetch_add(1, Ordering::Relaxed),
        counter: Arc::new(ChangeCounter::default()),
    };
    let (id, counter) = (state.id, state.counter.clone());
    env.set_instance_data(state, (), |_| {})?;
    env.add_env_cleanup_hook((id, counter), |(id, counter)| {
        let _ = catch_unwind(|| close_env(id));
        counter.clear();
    })?;
    match env.get_instance_data::<EnvState>()? {
        Some(s) => Ok(s),
        None => Err(napi::Error::from_reason(
            "could not keep the environment's state",
        )),
    }
}

/// Environment `id` ends (a worker thread exits or is terminated, the process
/// ends): every store it left open is closed — its open transaction undone
/// (a constructor that never finished), its changes flushed when they can be
/// (else dropped), its watch and event sink released — so the file's writer
/// and watcher threads stop with the last handle, and the main thread's later
/// writes never land in a dead constructor's transaction.
fn close_env(id: u64) {
    let mine: Vec<Arc<Handle>> = {
        let mut stores = STORES.lock().unwrap_or_else(|p| p.into_inner());
        stores
            .iter_mut()
            .filter(|slot| slot.as_ref().is_some_and(|h| h.env() == id))
            .filter_map(Option::take)
            .collect()
    };
    for h in &mine {
        if h.close(false).is_err() {
            let _ = h.close(true);
        }
        h.core().remove_sink(id);
    }
}

/// Registers the calling environment's change counter (`Int32Array` over a
/// `SharedArrayBuffer`, element 0); see `ChangeCounter`.
#[napi(ts_args_type = "counter: Int32Array")]
pub fn env_register(env: Env, counter: Unknown) -> Result<()> {
    let state = env_state(&env)?;
    let mut kind = sys::TypedarrayType::int8_array;
    let mut len = 0usize;
    let mut data = std::ptr::null_mut();
    let mut buffer = std::ptr::null_mut();
    let mut offset = 0usize;
    let status = unsafe {
        sys::napi_get_typedarray_info(
            env.raw(),
            counter.raw(),
            &mut kind,
            &mut len,
            &mut data,
            &mut buffer,
            &mut offset,
        )
    };
    let ptr = NonNull::new(data.cast::<AtomicI32>());
    let (true, Some(ptr), true, true) = (
        status == sys::Status::napi_ok,
        ptr,
        kind == sys::TypedarrayType::int32_array && len >= 1,
        data.cast::<AtomicI32>().is_aligned(),
    ) else {
        return Err(napi::Error::new(
            Status::InvalidArg,
            "Expected an Int32Array".to_string(),
        ));
    };
    // held for the environment's life (references go with it)
    let mut reference = std::ptr::null_mut();
    napi::check_status!(unsafe {
        sys::napi_create_reference(env.raw(), counter.raw(), 1, &mut reference)
    })?;
    *state.counter.0.lock().unwrap_or_else(|p| p.into_inner()) = Some(ptr);
    Ok(())
}

/// Writes every file open in the process, whichever JS environment opened it
/// (the process ends by a signal: no environment's cleanup will run). Returns
/// the failures as `[{path, code, message}]` JSON.
#[napi]
pub fn flush_process() -> String {
    let failed = registry::flush_all();
    let mut out = Vec::new();
    write_list(&mut out, &failed, |out, (path, e)| {
        out.extend_from_slice(b"{\"path\":");
        write_string(out, &path.display().to_string());
        out.extend_from_slice(b",\"code\":");
        write_string(out, e.code());
        out.extend_from_slice(b",\"message\":");
        write_string(out, &e.to_string());
        out.push(b'}');
    });
    text(out)
}

/// Values the main thread shares with worker threads (JSON text): Electron's
/// `userData` directory and app version, which a worker cannot ask Electron
/// for.
static MAIN_THREAD_DEFAULTS: Mutex<Option<String>> = Mutex::new(None);

/// The main thread shares its Electron defaults (`{"userData", "appVersion"}`).
#[napi]
pub fn set_main_thread_defaults(json: String) {
    *MAIN_THREAD_DEFAULTS
        .lock()
        .unwrap_or_else(|p| p.into_inner()) = Some(json);
}

/// What the main thread shared, or `null` (it has not loaded tad-store, or
/// has no Electron `app`).
#[napi]
pub fn main_thread_defaults() -> Option<String> {
    MAIN_THREAD_DEFAULTS
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .clone()
}

// ---------------------------------------------------------------------------
// Open stores by handle
// ---------------------------------------------------------------------------

/// Open stores by handle. Free functions taking a handle are several times
/// cheaper to call from JS than `#[napi]` class methods (measured: ~0.25 µs vs
/// ~0.8 µs per call), and `get` is the hot path.
static STORES: Mutex<Vec<Option<Arc<Handle>>>> = Mutex::new(Vec::new());

fn store(env: &Env, h: u32) -> Result<Arc<Handle>> {
    let stores = STORES.lock().unwrap_or_else(|p| p.into_inner());
    match stores.get(h as usize).and_then(|s| s.clone()) {
        Some(s) => Ok(s),
        None => Err(throw(env, CoreError::Closed)),
    }
}

/// Per-call flags from JS.
const FLAG_NO_SCHEMA: u32 = 4;
const FLAG_VALUES: u32 = 8;

fn call(flags: u32) -> Call {
    Call {
        validate: flags & FLAG_NO_SCHEMA == 0,
        values: flags & FLAG_VALUES != 0,
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
    /// Directory of backups.
    pub backup_dir: String,
    /// Backups kept.
    pub max_backups: u32,
    /// electron-store's `schema` (a properties map), as JSON.
    pub schema: Option<String>,
    /// A JSON Schema for the whole document, as JSON.
    pub root_schema: Option<String>,
    /// electron-store's `defaults` (an object), as JSON.
    pub defaults: Option<String>,
    /// Write the document as compact JSON (`serialize: JSON.stringify`).
    pub compact: Option<bool>,
    /// `secretKeys`: dot paths whose values are encrypted at rest.
    pub secret_keys: Option<Vec<String>>,
    /// The key for `secretKeys` (at least 16 bytes).
    pub secret_key: Option<Buffer>,
    /// electron-store 8's `encryptionKey`, as bytes (a string as UTF-8).
    pub encryption_key: Option<Buffer>,
}

fn store_options(o: BindingOptions) -> tad_store_core::Result<StoreOptions> {
    let mut s = StoreOptions::new(PathBuf::from(&o.path));
    s.history_dir = PathBuf::from(&o.history_dir);
    s.mode = o.mode & 0o777;
    s.durability = match o.durability.as_str() {
        "deferred" => Durability::Deferred,
        "sync" => Durability::Sync,
        other => {
            return Err(CoreError::InvalidArgument(format!(
                "Expected `durability` to be 'deferred' or 'sync', got {other:?}"
            )))
        }
    };
    s.clear_invalid_config = o.clear_invalid_config;
    s.compact = o.compact.unwrap_or(false);
    s.codec = codec_of(&o, s.compact)?;
    s.history_max = o.history_max as usize;
    s.dot_notation = o.dot_notation;
    s.backup_dir = PathBuf::from(&o.backup_dir);
    s.max_backups = o.max_backups as usize;
    let json = |t: &Option<String>, what: &str| -> tad_store_core::Result<Option<schema::Json>> {
        t.as_deref()
            .map(|t| {
                schema::parse_json(t).map_err(|e| {
                    CoreError::InvalidArgument(format!("The `{what}` option is not JSON: {e}"))
                })
            })
            .transpose()
    };
    let (props, root) = (
        json(&o.schema, "schema")?,
        json(&o.root_schema, "rootSchema")?,
    );
    if props.is_some() || root.is_some() {
        s.schema = Some(Arc::new(Schema::new(props.as_ref(), root.as_ref())?));
    }
    s.defaults = Arc::new(Defaults::from_json(
        o.defaults.as_deref().map(str::as_bytes),
        props.as_ref(),
        root.as_ref(),
    )?);
    Ok(s)
}

/// The codec for `secretKeys` + `secretKey`, or `encryptionKey`, or none.
fn codec_of(
    o: &BindingOptions,
    compact: bool,
) -> tad_store_core::Result<Arc<dyn tad_store_core::codec::Codec>> {
    use tad_store_core::crypto::{LegacyCodec, SecretCodec};
    let secrets = o.secret_keys.as_deref().unwrap_or_default();
    match (&o.encryption_key, secrets.is_empty(), &o.secret_key) {
        (Some(_), false, _) => Err(CoreError::Unsupported(
            "`encryptionKey` encrypts the whole file already: leave `secretKeys` out, or use `secretKeys` with `secretKey` instead".into(),
        )),
        (Some(k), true, _) => Ok(Arc::new(LegacyCodec::new(k)?)),
        (None, false, None) => Err(CoreError::SecretKey(format!(
            "`secretKeys` ({}) needs `secretKey`: a Buffer of at least 16 bytes, or a function returning one (e.g. from Electron's safeStorage)",
            secrets.join(", ")
        ))),
        (None, false, Some(k)) => {
            let mut paths = Vec::with_capacity(secrets.len());
            for name in secrets {
                if name.is_empty() {
                    return Err(CoreError::InvalidArgument(
                        "`secretKeys` holds an empty key".into(),
                    ));
                }
                paths.push(tad_store_core::path::segments(name, o.dot_notation)?);
            }
            Ok(Arc::new(SecretCodec::new(
                paths,
                secrets.to_vec(),
                k,
                !compact,
            )?))
        }
        (None, true, _) => Ok(Arc::new(tad_store_core::codec::Plain)),
    }
}

/// `rotateSecretKey(newKey)`: every file re-encrypted under `key`; a JSON
/// report `{ document, journalEntries, snapshots, quarantined, backups:
/// { rotated, failed: [{ path, code, message }] } }`.
#[napi(catch_unwind)]
pub fn store_rotate_secret_key(env: Env, h: u32, key: Buffer) -> Result<String> {
    let s = store(&env, h)?;
    run(&env, "rotateSecretKey", || {
        let r = s.core().rotate_key(&key)?;
        let failed: Vec<String> = r
            .failed
            .iter()
            .map(|(p, e)| {
                let mut o = String::from("{\"path\":");
                o.push_str(&json_str(&p.display().to_string()));
                o.push_str(",\"code\":");
                o.push_str(&json_str(e.code()));
                o.push_str(",\"message\":");
                o.push_str(&json_str(&e.to_string()));
                o.push('}');
                o
            })
            .collect();
        Ok(format!(
            "{{\"document\":true,\"journalEntries\":{},\"snapshots\":{},\"quarantined\":{},\"backups\":{{\"rotated\":{},\"failed\":[{}]}}}}",
            r.journal_entries,
            r.snapshots,
            r.quarantined,
            r.backups,
            failed.join(",")
        ))
    })
}

fn json_str(s: &str) -> String {
    let mut out = Vec::new();
    tad_store_core::value::write_string(&mut out, s);
    String::from_utf8(out).unwrap_or_default()
}

/// The store's one nesting limit: a document may nest at most this many
/// levels (its top-level object is the first); deeper values are refused with
/// `E_TOO_DEEP`. The JS side checks the same number.
#[napi]
pub const MAX_DEPTH: u32 = tad_store_core::value::MAX_DEPTH as u32;

/// Opens a `Store` instance on a file (the file's core is shared with the
/// instances already open on it in this process). Returns the handle the other
/// functions take.
#[napi]
pub fn store_open(env: Env, opts: BindingOptions) -> Result<u32> {
    let id = env_state(&env)?.id;
    let h = run(&env, "open", || {
        let mut o = store_options(opts)?;
        o.env = id;
        registry::open(o)
    })?;
    let mut stores = STORES.lock().unwrap_or_else(|p| p.into_inner());
    let slot = stores
        .iter()
        .position(Option::is_none)
        .unwrap_or(stores.len());
    if slot == stores.len() {
        stores.push(None);
    }
    stores[slot] = Some(Arc::new(h));
    Ok(slot as u32)
}

/// A number identifying the open file (equal for every instance on one file).
#[napi]
pub fn store_core_id(env: Env, h: u32) -> Result<u32> {
    Ok(store(&env, h)?.core().id() as u32)
}

/// One environment's events of one file.
struct JsSink {
    tsfn: ThreadsafeFunction<String, (), String, Status, false, true>,
    counter: Arc<ChangeCounter>,
}

impl Sink for JsSink {
    fn emit(&self, event: Event) {
        if matches!(event, Event::Changed { .. }) {
            // the document changed already: the caches learn it now
            self.counter.bump();
        }
        self.tsfn
            .call(event_json(&event), ThreadsafeFunctionCallMode::NonBlocking);
    }
}

/// Sends the file's background events to `callback(json)` in the calling
/// environment: other processes' and other environments' changes, write
/// failures and recoveries. A weak threadsafe function: it does not keep the
/// process alive, and it is released when the environment's last instance on
/// the file closes.
#[napi]
pub fn store_listen(env: Env, h: u32, callback: Function<String, ()>) -> Result<()> {
    let s = store(&env, h)?;
    let state = env_state(&env)?;
    let tsfn = callback
        .build_threadsafe_function::<String>()
        .callee_handled::<false>()
        .weak::<true>()
        .build()?;
    s.core().add_sink(
        state.id,
        Arc::new(JsSink {
            tsfn,
            counter: state.counter.clone(),
        }),
    );
    Ok(())
}

/// What opening found, as JSON.
#[napi]
pub fn store_open_report(env: Env, h: u32) -> Result<String> {
    let s = store(&env, h)?;
    let r = s.report();
    let mut out = Vec::new();
    out.extend_from_slice(b"{\"quarantined\":");
    opt_str(
        &mut out,
        r.quarantined
            .as_ref()
            .map(|p| p.display().to_string())
            .as_deref(),
    );
    out.extend_from_slice(
        format!(
            ",\"replayed\":{},\"externalEdit\":{},\"missingFile\":{},\"readOnly\":{},\"tempsRemoved\":{},\"invalidUtf8\":{},\"journalDamage\":",
            r.replayed, r.external_edit, r.missing_file, r.read_only, r.temps_removed, r.invalid_utf8
        )
        .as_bytes(),
    );
    opt_str(&mut out, r.journal_damage.as_deref());
    out.extend_from_slice(b",\"recovered\":");
    opt_str(&mut out, r.recovered.as_deref());
    out.push(b'}');
    Ok(text(out))
}

/// The value at `key` as JSON text, or `null` when absent.
#[napi(ts_return_type = "string | null")]
pub fn store_get(env: Env, h: u32, _flags: u32, key: String) -> Result<Option<JsonText>> {
    let s = store(&env, h)?;
    run(&env, "get", || {
        s.get_with(&key, |v| v.map(|v| JsonText(to_json(v, false))))
    })
}

/// Whether `key` exists.
#[napi]
pub fn store_has(env: Env, h: u32, _flags: u32, key: String) -> Result<bool> {
    let s = store(&env, h)?;
    run(&env, "has", || s.has(&key))
}

/// Sets `key` to the JSON `json`: `null` when nothing changed, else the old
/// value's JSON (`""` when absent or not wanted) — or, when the schema's
/// defaults changed the value or other keys, `"!"` and `[{k, o?, n?}]`.
#[napi]
pub fn store_set(
    env: Env,
    h: u32,
    flags: u32,
    key: String,
    json: String,
    want_old: bool,
) -> Result<Option<String>> {
    let s = store(&env, h)?;
    let c = Call {
        values: want_old,
        ..call(flags)
    };
    run(&env, "set", || {
        Ok(s.set(&key, json.as_bytes(), c)?.map(|(changes, exact)| {
            if exact {
                changes[0].old.as_ref().map(json_of).unwrap_or_default()
            } else {
                format!("!{}", changes_json(&changes))
            }
        }))
    })
}

/// Deletes `key`: `null` when nothing changed, else `[{k, o?, n?}]`.
#[napi]
pub fn store_delete(
    env: Env,
    h: u32,
    flags: u32,
    key: String,
    want_old: bool,
) -> Result<Option<String>> {
    let s = store(&env, h)?;
    let c = Call {
        values: want_old,
        ..call(flags)
    };
    run(&env, "delete", || {
        Ok(s.delete(&key, c)?.map(|ch| changes_json(&ch)))
    })
}

/// Sets every `key: value` of a JSON object as one change: `null` or `[{k, o?, n?}]`.
#[napi]
pub fn store_set_many(
    env: Env,
    h: u32,
    flags: u32,
    json: String,
    op: String,
) -> Result<Option<String>> {
    let s = store(&env, h)?;
    run(&env, "setMultiple", || {
        Ok(s.set_many(json.as_bytes(), &op, call(flags))?
            .map(|c| changes_json(&c)))
    })
}

/// Replaces the whole document: `null` or the changed top-level keys.
#[napi]
pub fn store_replace_all(
    env: Env,
    h: u32,
    flags: u32,
    json: String,
    op: String,
    keep_internal: bool,
) -> Result<Option<String>> {
    let s = store(&env, h)?;
    run(&env, "replace", || {
        Ok(
            s.replace_all(json.as_bytes(), &op, keep_internal, call(flags))?
                .map(|c| changes_json(&c)),
        )
    })
}

/// conf's constructor: the `defaults` the document lacks merged under its
/// keys, and the schema's defaults (`existed`: the store file was there).
/// `null` or the changed top-level keys.
#[napi]
pub fn store_fill_defaults(env: Env, h: u32, flags: u32, existed: bool) -> Result<Option<String>> {
    let s = store(&env, h)?;
    run(&env, "defaults", || {
        Ok(s.fill_defaults(existed, call(flags))?
            .map(|c| changes_json(&c)))
    })
}

/// conf's `clear()`: emptied (keeping `__internal__`), then each `key: value`
/// of the JSON object reset in order, with the schema's defaults, as one
/// change: `null` or the changed top-level keys.
#[napi]
pub fn store_clear(env: Env, h: u32, flags: u32, json: String) -> Result<Option<String>> {
    let s = store(&env, h)?;
    run(&env, "clear", || {
        Ok(s.clear(json.as_bytes(), call(flags))?
            .map(|c| changes_json(&c)))
    })
}

/// Repairs the document where it fails the schema (after backing it up):
/// `null` (already valid) or the changed top-level keys.
#[napi]
pub fn store_sanitize(env: Env, h: u32, flags: u32) -> Result<Option<String>> {
    let s = store(&env, h)?;
    run(&env, "sanitize", || {
        Ok(s.sanitize(call(flags))?.map(|c| changes_json(&c)))
    })
}

/// Opens a transaction: later changes are written only by `storeCommit`, as
/// one journal entry.
#[napi]
pub fn store_begin(env: Env, h: u32) -> Result<()> {
    let s = store(&env, h)?;
    run(&env, "begin", || s.begin())
}

/// Writes the open transaction as one entry named `name`.
#[napi]
pub fn store_commit(env: Env, h: u32, name: String) -> Result<()> {
    let s = store(&env, h)?;
    run(&env, "commit", || s.commit_txn(&name))
}

/// Undoes the open transaction: the keys that changed back.
#[napi]
pub fn store_abort(env: Env, h: u32) -> Result<String> {
    let s = store(&env, h)?;
    run(&env, "abort", || Ok(changes_json(&s.abort_txn()?)))
}

/// Re-reads the shared journal and the file: the changed top-level keys.
#[napi]
pub fn store_reload(env: Env, h: u32) -> Result<String> {
    let s = store(&env, h)?;
    run(&env, "reload", || Ok(changes_json(&s.reload()?)))
}

/// `watch: true`: starts (or joins) the file's watcher. It runs on its own
/// thread and reaches JS only through the file's weak event function, so it
/// never keeps the process alive; it stops on `close()`.
#[napi]
pub fn store_watch(env: Env, h: u32) -> Result<()> {
    let s = store(&env, h)?;
    run(&env, "watch", || s.watch())
}

/// This instance's id (slow-operation events name it).
#[napi]
pub fn store_handle_id(env: Env, h: u32) -> Result<f64> {
    Ok(store(&env, h)?.id() as f64)
}

/// `getPerformanceStats()` as JSON: `{ op: { count, mean, p50, p95, max } }` (µs).
#[napi]
pub fn store_performance(env: Env, h: u32) -> Result<String> {
    let s = store(&env, h)?;
    let mut out = Vec::new();
    out.push(b'{');
    for (i, x) in s.performance().iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_string(&mut out, x.op);
        out.extend_from_slice(
            format!(
                ":{{\"count\":{},\"mean\":{:.3},\"p50\":{:.3},\"p95\":{:.3},\"max\":{:.3}}}",
                x.count, x.mean, x.p50, x.p95, x.max
            )
            .as_bytes(),
        );
    }
    out.push(b'}');
    Ok(text(out))
}

#[napi]
pub fn store_reset_performance(env: Env, h: u32) -> Result<()> {
    store(&env, h)?.reset_performance();
    Ok(())
}

/// Operations slower than `ms` are reported (`slow` events); a negative value
/// turns it off.
#[napi]
pub fn store_set_slow_threshold(env: Env, h: u32, ms: f64) -> Result<()> {
    let s = store(&env, h)?;
    s.set_slow_threshold(
        (ms.is_finite() && ms >= 0.0).then(|| std::time::Duration::from_secs_f64(ms / 1000.0)),
    );
    Ok(())
}

/// Whether the file's watcher runs.
#[napi]
pub fn store_is_watching(env: Env, h: u32) -> Result<bool> {
    Ok(store(&env, h)?.core().is_watching())
}

/// The whole document as compact JSON.
#[napi(ts_return_type = "string")]
pub fn store_to_json(env: Env, h: u32) -> Result<JsonText> {
    let s = store(&env, h)?;
    run(&env, "read", || {
        Ok(JsonText(to_json(&s.snapshot()?, false)))
    })
}

/// Number of top-level keys.
#[napi]
pub fn store_size(env: Env, h: u32) -> Result<u32> {
    let s = store(&env, h)?;
    run(&env, "size", || Ok(s.size()? as u32))
}

/// Top-level keys in insertion order, as a JSON array (keys may hold
/// unpaired surrogates, which only JSON text carries exactly).
#[napi]
pub fn store_keys(env: Env, h: u32) -> Result<String> {
    let s = store(&env, h)?;
    run(&env, "keys", || Ok(strings_json(&s.keys()?)))
}

/// Blocks until every change so far is durable and in the document file.
#[napi]
pub fn store_flush_sync(env: Env, h: u32) -> Result<()> {
    let s = store(&env, h)?;
    run(&env, "flush", || s.flush())
}

/// A job run on the libuv thread pool, resolving to a string (JSON). Panics
/// are caught there too; errors reject with the same JS errors as sync calls.
pub struct Job {
    work: Option<Box<dyn FnOnce() -> tad_store_core::Result<String> + Send>>,
    failure: Option<CoreError>,
}

impl Job {
    fn task(f: impl FnOnce() -> tad_store_core::Result<String> + Send + 'static) -> AsyncTask<Job> {
        AsyncTask::new(Job {
            work: Some(Box::new(f)),
            failure: None,
        })
    }
}

impl Task for Job {
    type Output = String;
    type JsValue = String;

    fn compute(&mut self) -> Result<String> {
        let r = match self.work.take() {
            Some(f) => catch_unwind(AssertUnwindSafe(f))
                .unwrap_or_else(|p| Err(CoreError::from_panic(&*p, "a background task"))),
            None => Err(CoreError::Internal("a task ran twice".into())),
        };
        r.map_err(|e| {
            let m = napi::Error::new(Status::GenericFailure, e.to_string());
            self.failure = Some(e);
            m
        })
    }

    fn resolve(&mut self, _env: Env, output: String) -> Result<String> {
        Ok(output)
    }

    fn reject(&mut self, env: Env, err: napi::Error) -> Result<String> {
        match self.failure.take() {
            Some(e) => {
                let obj = error_object(&env, &e)?;
                Err(napi::Error::from(obj.to_unknown()))
            }
            None => Err(err),
        }
    }
}

/// Promise form of `storeFlushSync`, waiting on a worker thread.
#[napi(ts_return_type = "Promise<string>")]
pub fn store_flush(env: Env, h: u32) -> Result<AsyncTask<Job>> {
    let s = store(&env, h)?;
    Ok(Job::task(move || s.flush().map(|_| String::new())))
}

/// Writer/journal counters as JSON.
#[napi]
pub fn store_status(env: Env, h: u32) -> Result<String> {
    let s = store(&env, h)?;
    let st = s.status();
    let file_size = std::fs::metadata(&s.core().config().doc_path)
        .map(|m| m.len() as f64)
        .unwrap_or(0.0);
    let mut out = format!(
        "{{\"seq\":{},\"durableSeq\":{},\"checkpointedSeq\":{},\"pending\":{},\"journalBytes\":{},\"checkpoints\":{},\"lastCheckpointMs\":{},\"fileSize\":{},\"historyEntries\":{},\"readOnly\":{},\"writerError\":",
        st.seq, st.durable_seq, st.checkpointed_seq, st.pending, st.journal_bytes, st.checkpoints, st.last_checkpoint_ms, file_size, st.history_entries, st.read_only
    )
    .into_bytes();
    match &st.writer_error {
        Some((code, message)) => {
            out.extend_from_slice(b"{\"code\":");
            write_string(&mut out, code);
            out.extend_from_slice(b",\"message\":");
            write_string(&mut out, message);
            out.push(b'}');
        }
        None => out.extend_from_slice(b"null"),
    }
    out.extend_from_slice(b",\"journalDamage\":");
    opt_str(&mut out, st.journal_damage.as_deref());
    out.extend_from_slice(b",\"journalTrimError\":");
    match &st.journal_trim_error {
        Some((code, message)) => {
            out.extend_from_slice(b"{\"code\":");
            write_string(&mut out, code);
            out.extend_from_slice(b",\"message\":");
            write_string(&mut out, message);
            out.push(b'}');
        }
        None => out.extend_from_slice(b"null"),
    }
    out.push(b'}');
    Ok(text(out))
}

/// Closes the instance (flushing). When its changes cannot be written, throws
/// and stays open, unless `force`.
#[napi]
pub fn store_close(env: Env, h: u32, force: bool) -> Result<()> {
    let Some(s) = ({
        let stores = STORES.lock().unwrap_or_else(|p| p.into_inner());
        stores.get(h as usize).and_then(|s| s.clone())
    }) else {
        return Ok(());
    };
    run(&env, "close", || s.close(force))?;
    let mut stores = STORES.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(slot) = stores.get_mut(h as usize) {
        *slot = None;
    }
    // the environment's last instance on the file: its events stop
    let last = !stores
        .iter()
        .flatten()
        .any(|o| o.env() == s.env() && Arc::ptr_eq(o.core(), s.core()));
    drop(stores);
    if last {
        s.core().remove_sink(s.env());
    }
    Ok(())
}

/// Takes a backup (`onlyIfChanged`: skip when the newest backup holds this
/// state). Resolves to the backup's `{file, path, metadata}` JSON, or `"null"`.
#[napi(ts_return_type = "Promise<string>")]
pub fn store_create_backup(
    env: Env,
    h: u32,
    reason: String,
    only_if_changed: bool,
) -> Result<AsyncTask<Job>> {
    let s = store(&env, h)?;
    // the state now, written on a worker thread (or by close(), if sooner)
    let id = run(&env, "backup", || {
        s.queue_backup(&encode(&reason), only_if_changed)
    })?;
    Ok(Job::task(move || Ok(backup_json(s.run_queued_backup(id)?))))
}

/// `storeCreateBackup` on the calling thread (used when closing).
#[napi]
pub fn store_create_backup_sync(
    env: Env,
    h: u32,
    reason: String,
    only_if_changed: bool,
) -> Result<String> {
    let s = store(&env, h)?;
    run(&env, "backup", || {
        Ok(backup_json(
            s.create_backup(&encode(&reason), only_if_changed)?,
        ))
    })
}

/// Resolves to the backups as JSON, newest first.
#[napi(ts_return_type = "Promise<string>")]
pub fn store_list_backups(env: Env, h: u32) -> Result<AsyncTask<Job>> {
    let s = store(&env, h)?;
    Ok(Job::task(move || Ok(backups_json(&s.list_backups()?))))
}

/// The backups as JSON, newest first, read on the calling thread.
#[napi]
pub fn store_list_backups_sync(env: Env, h: u32) -> Result<String> {
    let s = store(&env, h)?;
    run(&env, "listBackups", || Ok(backups_json(&s.list_backups()?)))
}

/// Verifies a backup (name or listed path) and backs the current state up;
/// resolves to a token for `storeRestoreApply`.
#[napi(ts_return_type = "Promise<string>")]
pub fn store_restore_prepare(env: Env, h: u32, name: String) -> Result<AsyncTask<Job>> {
    let s = store(&env, h)?;
    Ok(Job::task(move || {
        let v = s.prepare_restore(&name)?;
        Ok(s.stash(Prepared::Restore(v)).to_string())
    }))
}

/// Commits a prepared restore: `null` or the changed top-level keys.
#[napi]
pub fn store_restore_apply(env: Env, h: u32, token: u32, flags: u32) -> Result<Option<String>> {
    let s = store(&env, h)?;
    run(&env, "restore", || {
        Ok(s.restore_prepared(token, call(flags))?
            .map(|c| changes_json(&c)))
    })
}

/// Resolves to `{"token": n, "entries": [...]}`: the history, kept for a
/// rollback by token.
#[napi(ts_return_type = "Promise<string>")]
pub fn store_history(env: Env, h: u32) -> Result<AsyncTask<Job>> {
    let s = store(&env, h)?;
    Ok(Job::task(move || {
        let entries = s.history()?;
        let json = history_json(&entries);
        let token = s.stash(Prepared::History(Arc::new(entries)));
        Ok(format!("{{\"token\":{token},\"entries\":{json}}}"))
    }))
}

/// Drops prepared work that will not be applied.
#[napi]
pub fn store_discard(env: Env, h: u32, token: u32) -> Result<()> {
    store(&env, h)?.take(token);
    Ok(())
}

/// Rolls back to the state after change `seq` (`kind` 0) or at time `value` ms
/// (`kind` 1), using the history prepared under `token` (or -1 to read it now).
/// Returns `{targetSeq, reverted, changes}`.
#[napi]
pub fn store_rollback_apply(
    env: Env,
    h: u32,
    token: i32,
    kind: u32,
    value: f64,
    _flags: u32,
) -> Result<String> {
    let s = store(&env, h)?;
    run(&env, "rollback", || {
        let target = if kind == 0 {
            if !(value >= 0.0 && value.fract() == 0.0) {
                return Err(CoreError::InvalidArgument(format!(
                    "Expected a change number (a non-negative integer), got {value}"
                )));
            }
            Target::Seq(value as u64)
        } else {
            Target::Time(value)
        };
        let (plan, changes) = s.rollback(target, u32::try_from(token).ok())?;
        Ok(format!(
            "{{\"targetSeq\":{},\"reverted\":{},\"changes\":{}}}",
            plan.target_seq,
            plan.reverted,
            changes_json(&changes)
        ))
    })
}

/// Schema errors (conf's format) of the JSON document `json`, or of the store's
/// document when `json` is empty, as a JSON array of strings.
#[napi]
pub fn store_validate(env: Env, h: u32, json: String) -> Result<String> {
    let s = store(&env, h)?;
    run(&env, "validate", || {
        let errors = s.schema_errors((!json.is_empty()).then_some(json.as_bytes()))?;
        Ok(strings_json(&errors))
    })
}

/// Top-level `default`s of the `schema` option (conf merges them into the
/// defaults `reset()` and `clear()` use), as a JSON object.
#[napi]
pub fn store_schema_defaults(env: Env, h: u32) -> Result<String> {
    Ok(json_of(&store(&env, h)?.schema_defaults()))
}

/// Writes a migration snapshot of the current state now; returns its
/// `{file, path, metadata}` JSON.
#[napi]
pub fn store_migration_snapshot_sync(env: Env, h: u32, reason: String) -> Result<String> {
    let s = store(&env, h)?;
    run(&env, "snapshot", || {
        Ok(backup_json(s.migration_snapshot(&reason)?))
    })
}

/// Resolves to the migration snapshots as JSON, newest first.
#[napi(ts_return_type = "Promise<string>")]
pub fn store_list_migration_backups(env: Env, h: u32) -> Result<AsyncTask<Job>> {
    let s = store(&env, h)?;
    Ok(Job::task(move || {
        Ok(backups_json(&s.list_migration_backups()?))
    }))
}

/// Verifies a migration snapshot (name only) and backs the current state up;
/// resolves to a token for `storeRestoreApply`.
#[napi(ts_return_type = "Promise<string>")]
pub fn store_restore_migration_prepare(env: Env, h: u32, name: String) -> Result<AsyncTask<Job>> {
    let s = store(&env, h)?;
    Ok(Job::task(move || {
        let v = s.prepare_migration_restore(&name)?;
        Ok(s.stash(Prepared::Restore(v)).to_string())
    }))
}

/// Checks a migration snapshot: hash, parse, schema. Resolves to
/// `{"valid": bool, "errors": [...]}` (a missing snapshot rejects).
#[napi(ts_return_type = "Promise<string>")]
pub fn store_validate_migration_backup(env: Env, h: u32, name: String) -> Result<AsyncTask<Job>> {
    let s = store(&env, h)?;
    Ok(Job::task(move || {
        let errors = s.validate_migration_backup(&name)?;
        Ok(format!(
            "{{\"valid\":{},\"errors\":{}}}",
            errors.is_empty(),
            strings_json(&errors)
        ))
    }))
}

/// Test hook: makes the core panic at the named point the next `times` times
/// (only when the process runs with `TAD_STORE_TEST_HOOKS=1`). Returns whether
/// it was armed.
#[napi]
pub fn test_arm_panic(name: Option<String>, times: u32) -> bool {
    if std::env::var("TAD_STORE_TEST_HOOKS").as_deref() != Ok("1") {
        return false;
    }
    tad_store_core::testing::arm_panic(name.as_deref(), times);
    true
}
