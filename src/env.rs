//! JS environments (the main thread, worker threads): several share one core
//! per file; each gets the changes the others make as events, and a counter
//! its read caches check; when an environment ends, a cleanup hook closes the
//! stores it left open.

use std::panic::catch_unwind;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicI32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use napi::bindgen_prelude::*;
use napi_derive::napi;

use tad_store_core::{registry, Handle};

use crate::handles::STORES;

/// A counter in one JS environment's memory (an `Int32Array` over a
/// `SharedArrayBuffer` its JS made, kept alive by a reference): any thread adds
/// 1 when a document the environment has open changes without a call of its
/// own (another environment's change, another process's caught up), before the
/// event is queued, so the environment's reads see their caches are stale with
/// one `Atomics.load` instead of a native call. (Memory the addon allocated
/// cannot be handed to JS: Electron refuses external buffers.) Emptied when
/// the environment ends, before its memory goes.
#[derive(Default)]
pub(crate) struct ChangeCounter(Mutex<Option<NonNull<AtomicI32>>>);

// SAFETY: the pointer is to an `Int32Array`'s memory, kept alive by a
// reference for the environment's life and cleared (under the mutex) by its
// cleanup hook before that memory goes; it is only dereferenced under the
// mutex, as an atomic, so any thread may hold and use the counter.
unsafe impl Send for ChangeCounter {}

// SAFETY: see `Send` above: every access goes through the mutex.
unsafe impl Sync for ChangeCounter {}

impl ChangeCounter {
    pub(crate) fn bump(&self) {
        if let Some(p) = *self.0.lock().unwrap_or_else(|p| p.into_inner()) {
            // SAFETY: set only while the typed array lives (see `Send`), and
            // checked at registration to be aligned for an `AtomicI32`.
            unsafe { p.as_ref() }.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn clear(&self) {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }
}

/// One JS environment (Node-API instance data).
pub(crate) struct EnvState {
    /// Its number (handles and event sinks are tagged with it; never 0).
    pub(crate) id: u64,
    pub(crate) counter: Arc<ChangeCounter>,
}

/// The calling environment's state, made on first use together with the
/// cleanup hook that closes what it leaves open.
pub(crate) fn env_state(env: &Env) -> Result<&'static EnvState> {
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
        None => Err(Error::from_reason("could not keep the environment's state")),
    }
}

/// Environment `id` ends (a worker thread exits or is terminated, the process
/// ends): every store it left open is closed — its open transaction undone
/// (a constructor that never finished), its changes flushed when they can be
/// (else dropped), its watch and event sink released — so the file's writer
/// and watcher threads stop with the last handle, and the main thread's later
/// writes never land in a dead constructor's transaction.
pub(crate) fn close_env(id: u64) {
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
pub fn env_register(env: Env, counter: Unknown<'_>) -> Result<()> {
    let state = env_state(&env)?;
    let mut kind = sys::TypedarrayType::int8_array;
    let mut len = 0usize;
    let mut data = std::ptr::null_mut();
    let mut buffer = std::ptr::null_mut();
    let mut offset = 0usize;
    // SAFETY: `env` is this call's environment and `counter` a value of it;
    // every out-pointer is to a local of the type Node-API writes.
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
        return Err(Error::new(
            Status::InvalidArg,
            "Expected an Int32Array".to_string(),
        ));
    };
    // held for the environment's life (references go with it)
    let mut reference = std::ptr::null_mut();
    // SAFETY: as above; `reference` is a local Node-API writes the new
    // reference into.
    napi::check_status!(unsafe {
        sys::napi_create_reference(env.raw(), counter.raw(), 1, &mut reference)
    })?;
    *state.counter.0.lock().unwrap_or_else(|p| p.into_inner()) = Some(ptr);
    Ok(())
}

/// A file that could not be written, by path.
#[napi(object, object_from_js = false)]
pub struct FileFailure {
    pub path: String,
    pub code: String,
    pub message: String,
}

impl FileFailure {
    pub(crate) fn of(path: &std::path::Path, e: &tad_store_core::Error) -> FileFailure {
        FileFailure {
            path: path.display().to_string(),
            code: e.code().into(),
            message: e.to_string(),
        }
    }
}

/// Writes every file open in the process, whichever JS environment opened it
/// (the process ends by a signal: no environment's cleanup will run). Returns
/// the failures.
#[napi]
pub fn flush_process() -> Result<Vec<FileFailure>> {
    Ok(registry::flush_all()
        .iter()
        .map(|(path, e)| FileFailure::of(path, e))
        .collect())
}

/// Values the main thread shares with worker threads (JSON text): Electron's
/// `userData` directory and app version, which a worker cannot ask Electron
/// for.
pub(crate) static MAIN_THREAD_DEFAULTS: Mutex<Option<String>> = Mutex::new(None);

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
