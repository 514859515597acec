//! What a store reports about itself: what opening found, writer and journal
//! counters, operation timings — typed objects (see `binding.d.ts`).

use napi::bindgen_prelude::*;
use napi_derive::napi;

use tad_store_core::Handle;

use crate::handles::store;

/// What opening the file found (the same for every instance on it).
#[napi(object, object_from_js = false, use_nullable = true)]
pub struct OpenReport {
    /// A copy of the damaged store file was kept here.
    pub quarantined: Option<String>,
    /// Journal changes re-applied because the document file did not hold them.
    pub replayed: u32,
    /// The document file was changed by something else since the last write.
    pub external_edit: bool,
    /// The store file was missing although the journal has changes.
    pub missing_file: bool,
    /// The store's directory cannot be written: open for reading only.
    pub read_only: bool,
    /// Temp files left by crashed processes that were removed.
    pub temps_removed: u32,
    /// The file held bytes that are not UTF-8 (read as U+FFFD).
    pub invalid_utf8: bool,
    /// Damage found in the journal (the damaged part is kept aside).
    pub journal_damage: Option<String>,
    /// How a damaged or missing store file was rebuilt.
    pub recovered: Option<String>,
}

/// What opening found.
pub(crate) fn open_report(h: &Handle) -> OpenReport {
    let r = h.report();
    OpenReport {
        quarantined: r.quarantined.as_ref().map(|p| p.display().to_string()),
        replayed: r.replayed as u32,
        external_edit: r.external_edit,
        missing_file: r.missing_file,
        read_only: r.read_only,
        temps_removed: r.temps_removed as u32,
        invalid_utf8: r.invalid_utf8,
        journal_damage: r.journal_damage.clone(),
        recovered: r.recovered.clone(),
    }
}

/// Timings of one operation, in microseconds.
#[napi(object, object_from_js = false)]
pub struct OperationStats {
    /// `get`, `has`, `set`, `delete`, `setMultiple`, `replace`, `reload`, `flush`.
    pub op: String,
    pub count: f64,
    pub mean: f64,
    pub p50: f64,
    pub p95: f64,
    pub max: f64,
}

/// To the nanosecond, as the numbers were always reported.
fn micros(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// `getPerformanceStats()`: per operation, `{ op, count, mean, p50, p95, max }` (µs).
#[napi]
pub fn store_performance(env: Env, h: u32) -> Result<Vec<OperationStats>> {
    let s = store(&env, h)?;
    Ok(s.performance()
        .iter()
        .map(|x| OperationStats {
            op: x.op.into(),
            count: x.count as f64,
            mean: micros(x.mean),
            p50: micros(x.p50),
            p95: micros(x.p95),
            max: micros(x.max),
        })
        .collect())
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

/// A failure kept by the writer or the journal, by code.
#[napi(object, object_from_js = false)]
pub struct Failure {
    pub code: String,
    pub message: String,
}

fn failure(f: &Option<(&'static str, String)>) -> Option<Failure> {
    f.as_ref().map(|(code, message)| Failure {
        code: (*code).into(),
        message: message.clone(),
    })
}

/// Writer and journal counters.
#[napi(object, object_from_js = false, use_nullable = true)]
pub struct StoreStatus {
    /// The last change made.
    pub seq: f64,
    /// The last change durable in the journal.
    pub durable_seq: f64,
    /// The last change in the document file.
    pub checkpointed_seq: f64,
    /// Changes waiting to be written.
    pub pending: u32,
    pub journal_bytes: f64,
    pub checkpoints: f64,
    pub last_checkpoint_ms: f64,
    /// Size of the document file in bytes (0: none).
    pub file_size: f64,
    pub history_entries: f64,
    pub read_only: bool,
    /// Why writing fails now (changes are kept and retried).
    pub writer_error: Option<Failure>,
    pub journal_damage: Option<String>,
    pub journal_trim_error: Option<Failure>,
}

/// Writer/journal counters.
#[napi]
pub fn store_status(env: Env, h: u32) -> Result<StoreStatus> {
    let s = store(&env, h)?;
    let st = s.status();
    let file_size = std::fs::metadata(&s.core().config().doc_path)
        .map(|m| m.len() as f64)
        .unwrap_or(0.0);
    Ok(StoreStatus {
        seq: st.seq as f64,
        durable_seq: st.durable_seq as f64,
        checkpointed_seq: st.checkpointed_seq as f64,
        pending: st.pending as u32,
        journal_bytes: st.journal_bytes as f64,
        checkpoints: st.checkpoints as f64,
        last_checkpoint_ms: st.last_checkpoint_ms,
        file_size,
        history_entries: st.history_entries as f64,
        read_only: st.read_only,
        writer_error: failure(&st.writer_error),
        journal_damage: st.journal_damage.clone(),
        journal_trim_error: failure(&st.journal_trim_error),
    })
}

/// Whether the file's watcher runs.
#[napi]
pub fn store_is_watching(env: Env, h: u32) -> Result<bool> {
    Ok(store(&env, h)?.core().is_watching())
}
