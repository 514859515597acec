//! What a store reports about itself: what opening found, writer and journal
//! counters, operation timings.

use napi::bindgen_prelude::*;
use napi_derive::napi;

use tad_store_core::value::write_string;

use crate::convert::{opt_str, text};
use crate::handles::store;

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

/// Whether the file's watcher runs.
#[napi]
pub fn store_is_watching(env: Env, h: u32) -> Result<bool> {
    Ok(store(&env, h)?.core().is_watching())
}
