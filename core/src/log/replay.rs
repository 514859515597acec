//! Checked replay: journal entries applied only where their recorded hashes fit.

use crate::doc::Document;
use crate::journal::ChangeRecord;
use crate::value::{hex, merkle};

/// Result of applying journal entries with checks.
pub(super) struct Replayed {
    pub(super) applied: usize,
    /// Index (in the given list) and reason of the first entry that did not fit.
    pub(super) stopped: Option<(usize, String)>,
}

/// Applies change entries (oldest first) to `doc`, whose Merkle hash is `hash`,
/// checking each one against the state it is applied to and the state it
/// should produce. Stops at the first that does not fit, leaving `doc` at the
/// state before it. Entries are applied in place (the tree is copied once per
/// changed path for the whole run, not once per entry).
pub(super) fn replay_checked(
    doc: &mut Document,
    hash: &mut String,
    entries: &[&ChangeRecord],
) -> Replayed {
    let start = (doc.clone(), hash.clone());
    // Fast path: the recorded hashes form an unbroken chain from this state;
    // apply everything and hash once. The final state matching the last
    // recorded hash vouches for every step (each entry's state before is the
    // previous one's recorded state after). Any doubt: the step-by-step check.
    let chained = entries.len() > 1
        && entries[0].hash_before.as_deref() == Some(hash.as_str())
        && entries
            .windows(2)
            .all(|w| w[0].hash_after.is_some() && w[0].hash_after == w[1].hash_before);
    if chained && entries.iter().all(|e| doc.apply(&e.patch).is_ok()) {
        let after = hex(&merkle(doc.root()));
        if entries.last().and_then(|e| e.hash_after.as_deref()) == Some(after.as_str()) {
            *hash = after;
            return Replayed {
                applied: entries.len(),
                stopped: None,
            };
        }
    }
    if chained {
        *doc = start.0.clone();
    }
    let stop = |doc: &mut Document, hash: &mut String, i: usize, why: String| {
        // back to the state after entry i - 1 (the entries before it fit)
        *doc = start.0.clone();
        *hash = start.1.clone();
        for e in &entries[..i] {
            let _ = doc.apply(&e.patch);
        }
        if i > 0 {
            if let Some(h) = &entries[i - 1].hash_after {
                *hash = h.clone();
            }
        }
        Replayed {
            applied: i,
            stopped: Some((i, why)),
        }
    };
    for (i, e) in entries.iter().enumerate() {
        if e.hash_before.as_deref() != Some(hash.as_str()) {
            let why = format!(
                "change {} was made on a different state than the one before it (hashBefore {} is not {})",
                e.seq,
                e.hash_before.as_deref().unwrap_or("missing"),
                hash
            );
            return stop(doc, hash, i, why);
        }
        if let Err(err) = doc.apply(&e.patch) {
            return stop(
                doc,
                hash,
                i,
                format!("change {} does not apply: {err}", e.seq),
            );
        }
        let after = hex(&merkle(doc.root()));
        if e.hash_after.as_deref() != Some(after.as_str()) {
            let why = format!("change {} does not produce the state it recorded", e.seq);
            return stop(doc, hash, i, why);
        }
        *hash = after;
    }
    Replayed {
        applied: entries.len(),
        stopped: None,
    }
}
