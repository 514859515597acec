//! Change history: reading the journal's entries and undoing changes exactly.
//!
//! Every entry carries its forward and inverse RFC 6902 patches and the
//! document's Merkle hash before and after it, so undoing the changes after a
//! moment and comparing the result with the recorded hash proves the store is
//! back to exactly what it was then.

use crate::doc::{Change, Document};
use crate::error::{Error, Result};
use crate::journal::ChangeRecord;
use crate::value::{hex, merkle, Value};

/// Where to roll back to.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Target {
    /// The state right after change `seq` (0: before the first change).
    Seq(u64),
    /// The state at this time (ms since the epoch): after every change made at
    /// or before it.
    Time(f64),
}

/// A computed rollback: the change to commit and what it reverts.
#[derive(Debug)]
pub struct Plan {
    /// The state reached is the state right after this change (0: before all).
    pub target_seq: u64,
    /// Entries undone (newest first order was used).
    pub reverted: usize,
    /// The net change from the current state to the target state, and its inverse.
    pub change: Change,
    /// The verified Merkle hash of the state reached.
    pub hash: String,
    /// The state reached.
    pub state: Value,
}

/// Plans a rollback of `doc` (whose latest change is `current_seq`) to `target`
/// using `entries` (oldest first). The result is verified against the recorded
/// hash; on any problem nothing is planned.
pub fn plan(
    doc: &Document,
    current_seq: u64,
    entries: &[ChangeRecord],
    target: Target,
) -> Result<Plan> {
    let oldest = entries.first();
    let target_seq = match target {
        Target::Seq(s) => s,
        Target::Time(t) => match entries.iter().rev().find(|e| e.ts <= t) {
            Some(e) => e.seq,
            None => match oldest {
                // before every kept change: only exact when nothing was trimmed
                Some(o) if o.seq == 1 => 0,
                Some(o) => {
                    return Err(Error::HistoryTruncated(format!(
                        "The history kept starts at change {} ({}); the state at that earlier time is no longer known. Keep more entries with the `history.maxEntries` option",
                        o.seq,
                        iso(o.ts)
                    )))
                }
                None => current_seq,
            },
        },
    };
    if target_seq > current_seq {
        return Err(Error::InvalidArgument(format!(
            "Change {target_seq} has not happened yet (the latest is {current_seq})"
        )));
    }
    if target_seq == current_seq {
        return Ok(Plan {
            target_seq,
            reverted: 0,
            change: Change::default(),
            hash: String::new(),
            state: doc.root().clone(),
        });
    }
    let needed: Vec<&ChangeRecord> = entries.iter().filter(|e| e.seq > target_seq).collect();
    let first_needed = needed.first().map(|e| e.seq);
    if first_needed != Some(target_seq + 1) || needed.last().map(|e| e.seq) != Some(current_seq) {
        return Err(Error::HistoryTruncated(format!(
            "Rolling back to change {target_seq} needs changes {}..={current_seq}, but the kept history starts at {}. Keep more entries with the `history.maxEntries` option",
            target_seq + 1,
            oldest.map(|o| o.seq.to_string()).unwrap_or_else(|| "nothing".into())
        )));
    }
    let mut work = doc.clone();
    for e in needed.iter().rev() {
        let Some(inverse) = &e.inverse else {
            return Err(Error::HistoryTruncated(format!(
                "Change {} ({}, {}) cannot be undone: the file was edited by another program while the store was closed, and the state before that is not known",
                e.seq,
                e.op,
                iso(e.ts)
            )));
        };
        work.apply(inverse).map_err(|err| {
            Error::HistoryMismatch(format!(
                "Undoing change {} failed ({err}); nothing was changed",
                e.seq
            ))
        })?;
    }
    // Record the net difference, not every inverse: a rollback entry then stays
    // as small as what actually differs (rollbacks of rollbacks do not compound).
    let change = doc.plan_replace(work.root().clone());
    let expected = needed[0].hash_before.clone().ok_or_else(|| {
        Error::HistoryTruncated(format!("Change {} has no recorded hash", needed[0].seq))
    })?;
    let got = hex(&merkle(work.root()));
    if got != expected {
        return Err(Error::HistoryMismatch(format!(
            "Rolling back to change {target_seq} gave a document whose hash {got} differs from the recorded {expected}; nothing was changed"
        )));
    }
    Ok(Plan {
        target_seq,
        reverted: needed.len(),
        change,
        hash: got,
        state: work.root().clone(),
    })
}

/// ISO 8601 UTC time of `ms` since the epoch (`2026-11-26T07:05:03.123Z`).
pub fn iso(ms: f64) -> String {
    let ms = ms.max(0.0) as u64;
    let (secs, millis) = (ms / 1000, ms % 1000);
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // civil from days (Howard Hinnant)
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{millis:03}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::Plain;
    use crate::doc::proptests::{op, Op};
    use crate::journal::{changes, encode_change, line_hash, seal_line, Encoded};
    use crate::value::to_json;
    use proptest::prelude::*;

    /// Runs ops on a document the way the store does, writing real journal lines;
    /// returns the journal bytes, the document, and the bytes after each change.
    fn run(ops: Vec<Op>) -> (Vec<u8>, Document, Vec<Vec<u8>>) {
        let mut d = Document::default();
        let mut states = vec![to_json(d.root(), true)];
        let mut journal = Vec::new();
        let mut prev: Option<String> = None;
        let mut seq = 0;
        for (i, o) in ops.into_iter().enumerate() {
            let c = match o {
                Op::Set(p, v) => d.plan_set(&p, v),
                Op::Delete(p) => d.plan_delete(&p),
                Op::Replace(v) => d.plan_replace(v),
            };
            if c.is_empty() {
                continue;
            }
            let before = hex(&merkle(d.root()));
            d.apply(&c.patch).unwrap();
            let after = hex(&merkle(d.root()));
            seq += 1;
            let line = seal_line(
                &Plain,
                encode_change(&Encoded {
                    seq,
                    ts: 1000.0 + 10.0 * i as f64,
                    op: "set",
                    keys: &[],
                    change: &c,
                    reversible: true,
                    hash_before: &before,
                    hash_after: &after,
                    prev: prev.as_deref(),
                }),
            )
            .unwrap();
            prev = Some(line_hash(&line));
            journal.extend_from_slice(&line);
            states.push(to_json(d.root(), true));
        }
        (journal, d, states)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        /// Rolling back to every recorded change gives exactly the state then,
        /// and rolling the rollback back restores the latest state.
        #[test]
        fn rollback_to_every_change_is_exact(ops in prop::collection::vec(op(), 1..20)) {
            let (journal, doc, states) = run(ops);
            let es = changes(&Plain, &journal);
            let current = es.last().map(|e| e.seq).unwrap_or(0);
            prop_assert_eq!(es.len() as u64, current);
            for target in 0..=current {
                let p = plan(&doc, current, &es, Target::Seq(target)).unwrap();
                let mut d = doc.clone();
                d.apply(&p.change.patch).unwrap();
                prop_assert_eq!(&to_json(d.root(), true), &states[target as usize]);
                prop_assert_eq!(p.reverted as u64, current - target);
                // the rollback's own inverse brings the latest state back
                d.apply(&p.change.inverse).unwrap();
                prop_assert_eq!(&to_json(d.root(), true), &states[current as usize]);
            }
            // by time: just after change k's timestamp → state k
            for e in &es {
                let p = plan(&doc, current, &es, Target::Time(e.ts + 1.0)).unwrap();
                prop_assert_eq!(p.target_seq, e.seq);
            }
        }

        /// With the oldest changes trimmed, older targets are refused, newer ones work.
        #[test]
        fn trimmed_history_refuses_older_targets(ops in prop::collection::vec(op(), 4..16)) {
            let (journal, doc, states) = run(ops);
            let es = changes(&Plain, &journal);
            let current = es.len() as u64;
            prop_assume!(current >= 3);
            let kept = &es[2..];
            let err = plan(&doc, current, kept, Target::Seq(1)).unwrap_err();
            prop_assert_eq!(err.code(), "E_HISTORY_TRUNCATED");
            let err = plan(&doc, current, kept, Target::Time(0.0)).unwrap_err();
            prop_assert_eq!(err.code(), "E_HISTORY_TRUNCATED");
            let p = plan(&doc, current, kept, Target::Seq(2)).unwrap();
            let mut d = doc.clone();
            d.apply(&p.change.patch).unwrap();
            prop_assert_eq!(&to_json(d.root(), true), &states[2]);
        }
    }

    #[test]
    fn a_document_that_does_not_match_the_history_is_refused() {
        let (journal, doc, _) = run(vec![
            Op::Set(vec!["a".into()], Value::Number(1.0)),
            Op::Set(vec!["b".into()], Value::Number(2.0)),
        ]);
        let es = changes(&Plain, &journal);
        // a document edited behind the history's back
        let mut other = doc.clone();
        let c = other.plan_set(&["c".into()], Value::Null);
        other.apply(&c.patch).unwrap();
        let err = plan(&other, 2, &es, Target::Seq(0)).unwrap_err();
        assert_eq!(err.code(), "E_HISTORY_MISMATCH");
    }

    #[test]
    fn iso_times_match_javascript() {
        assert_eq!(iso(0.0), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso(1_795_678_408_748.0), "2026-11-26T07:33:28.748Z");
        assert_eq!(iso(951_782_400_000.0), "2000-02-29T00:00:00.000Z");
        assert_eq!(iso(4_102_444_799_999.0), "2099-12-31T23:59:59.999Z");
    }
}
