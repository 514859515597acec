//! `flush_durable` (the JS `flush()`): it resolves when every change so far
//! is durable in the journal, without waiting for the document file. Faults
//! (ENOSPC, EIO; once, or from then on: a crash) at every k-th write and fsync
//! after the open — the journal's appends and fsyncs, and whatever checkpoint
//! the schedule starts meanwhile — must never lose a change a resolved
//! `flush_durable` acknowledged, nor report a failure as success.

mod common;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use common::*;
use tad_store_core::fs::{FaultKind, FaultPlan};
use tad_store_core::value::Value;
use tad_store_core::{registry, Handle};

const ENOSPC: i32 = tad_store_core::error::raw::NO_SPACE;
const EIO: i32 = tad_store_core::error::raw::IO;

type Model = BTreeMap<String, i64>;

/// 30 deferred sets over 4 keys; a `flush_durable` after every third.
fn workload() -> Vec<Option<(String, i64)>> {
    let mut w = Vec::new();
    for i in 0..30i64 {
        w.push(Some((format!("k{}", i % 4), i)));
        if i % 3 == 2 {
            w.push(None);
        }
    }
    w
}

fn state(h: &Handle) -> Model {
    match h.snapshot().unwrap() {
        Value::Object(o) => o
            .iter()
            .map(|(k, v)| match v {
                Value::Number(n) => (k.to_string(), *n as i64),
                other => panic!("unexpected value {other:?}"),
            })
            .collect(),
        other => panic!("not an object: {other:?}"),
    }
}

fn io_code(e: &tad_store_core::Error) -> bool {
    matches!(e.code(), "E_IO" | "E_NOSPC")
}

/// Writes and fsyncs the clean workload makes after the open.
fn counts() -> (u64, u64) {
    let dir = tmp();
    let fs = fault_fs(None);
    let mut o = opts_fs(dir.path(), std::sync::Arc::new(fs.clone()));
    o.history_max = 4;
    let h = registry::open_unshared(o).unwrap();
    let (w0, s0) = (fs.count(FaultKind::Write), fs.count(FaultKind::Sync));
    for s in workload() {
        match s {
            Some((k, v)) => h.set(&k, v.to_string().as_bytes(), C).map(|_| ()),
            None => h.flush_durable(),
        }
        .unwrap();
    }
    let n = (
        fs.count(FaultKind::Write) - w0,
        fs.count(FaultKind::Sync) - s0,
    );
    h.close(false).unwrap();
    n
}

/// One run; returns whether a fault was injected.
fn run(kind: FaultKind, at: u64, errno: i32, sticky: bool) -> bool {
    let label = format!("{kind:?} #{at} errno {errno} sticky {sticky}");
    let dir = tmp();
    let fs = fault_fs(None);
    let mut o = opts_fs(dir.path(), std::sync::Arc::new(fs.clone()));
    o.history_max = 4;
    let h = registry::open_unshared(o).unwrap();
    fs.arm(FaultPlan {
        kind,
        at,
        errno,
        sticky,
    });
    // models[i]: the state after the first i sets
    let mut models = vec![Model::new()];
    let mut acknowledged = 0;
    for s in workload() {
        match s {
            Some((k, v)) => {
                // deferred: accepted at once, whatever the disk does
                h.set(&k, v.to_string().as_bytes(), C)
                    .unwrap_or_else(|e| panic!("{label}: set {k}: {e}"));
                let mut m = models.last().unwrap().clone();
                m.insert(k, v);
                models.push(m);
            }
            None => match h.flush_durable() {
                Ok(()) => acknowledged = models.len() - 1,
                Err(e) => assert!(io_code(&e), "{label}: flush failed with {e}"),
            },
        }
        assert_eq!(
            &state(&h),
            models.last().unwrap(),
            "{label}: memory keeps every change"
        );
    }
    let injected = fs.injected() > 0;
    if sticky {
        // nothing reaches the disk after the fault: the crash
        let _ = h.close(false);
        h.close(true).unwrap();
    } else {
        // the disk is back: a flush now succeeds (the writer retries by itself)
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            match h.flush_durable() {
                Ok(()) => break,
                Err(e) => assert!(io_code(&e), "{label}: {e}"),
            }
            assert!(Instant::now() < deadline, "{label}: never healed");
            std::thread::sleep(Duration::from_millis(10));
        }
        acknowledged = models.len() - 1;
        // a crash right after that flush: the store is dropped without close
        // (no checkpoint owed to `close`); the files are what is on disk now
        h.close(true).unwrap();
    }
    let r = registry::open_unshared(opts(dir.path()))
        .unwrap_or_else(|e| panic!("{label}: reopen: {e}"));
    assert!(
        r.report().journal_damage.is_none(),
        "{label}: journal distrusted: {:?}",
        r.report()
    );
    let got = state(&r);
    let i = models
        .iter()
        .rposition(|m| *m == got)
        .unwrap_or_else(|| panic!("{label}: reopened {got:?} is no prefix of the workload"));
    assert!(
        i >= acknowledged,
        "{label}: a flushed change was lost (state after {i} sets, {acknowledged} acknowledged)"
    );
    r.set("after", b"1", C).unwrap();
    r.close(false).unwrap();
    injected
}

#[test]
fn nothing_a_durable_flush_acknowledged_is_lost_with_a_fault_at_every_k() {
    let (writes, syncs) = counts();
    assert!(
        writes >= 10 && syncs >= 10,
        "{writes} writes, {syncs} fsyncs"
    );
    let mut runs = 0;
    let mut injected = 0;
    for (kind, n) in [(FaultKind::Write, writes), (FaultKind::Sync, syncs)] {
        for at in 1..=n + 1 {
            for (errno, sticky) in [(ENOSPC, false), (EIO, false), (ENOSPC, true), (EIO, true)] {
                runs += 1;
                injected += usize::from(run(kind, at, errno, sticky));
            }
        }
    }
    eprintln!("durable flush fault runs: {runs}, with a fault injected: {injected}");
    assert!(injected * 2 > runs, "{injected} of {runs}");
}

/// A flush after sets on a store with no fault resolves, and the change is
/// in the journal (what a second process reads), whether or not the document
/// file has been rewritten yet.
#[test]
fn a_durable_flush_makes_changes_readable_by_another_process() {
    let dir = tmp();
    let h = open(opts(dir.path()));
    for i in 0..50 {
        set(&h, &format!("k{i}"), &i.to_string());
    }
    h.flush_durable().unwrap();
    let (changes, _) = journal_seqs(dir.path());
    assert!(changes.last().is_some_and(|s| *s >= 50), "{changes:?}");
    let other = open(opts(dir.path()));
    assert_eq!(get(&other, "k49").as_deref(), Some("49"));
    other.close(false).unwrap();
    // flush on a closed instance is E_CLOSED, not success
    h.close(false).unwrap();
    assert_eq!(h.flush_durable().unwrap_err().code(), "E_CLOSED");
}
