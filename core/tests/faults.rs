//! Fault injection: a fixed workload run on a file system that fails the k-th
//! write, fsync, rename or truncation — for every k — with ENOSPC or EIO,
//! once (the disk comes back) or from then on (a crash: nothing after it
//! reaches the disk). After each run the store is reopened on the real file
//! system, and its state must be a prefix of the workload that holds every
//! acknowledged change; a failure must never be reported as success, and the
//! journal must never be left in a state the next open distrusts.

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;
use tad_store_core::events::Event;
use tad_store_core::fs::{FaultKind, FaultPlan};
use tad_store_core::value::Value;
use tad_store_core::{registry, Durability, Handle};

// the platform's own numbers (errno, or Windows' system error codes)
const ENOSPC: i32 = tad_store_core::error::raw::NO_SPACE;
const EIO: i32 = tad_store_core::error::raw::IO;

#[derive(Clone, Debug)]
enum Step {
    Set(String, i64),
    Delete(String),
    /// setMultiple of two keys
    Many(String, i64, String, i64),
    Flush,
    Backup,
}

/// ~40 operations over a few keys, with flushes (document writes), a backup
/// and, with `history_max` 4, several trims of the journal.
fn workload() -> Vec<Step> {
    let mut w = Vec::new();
    for i in 0..36i64 {
        let k = format!("k{}", i % 5);
        w.push(match i % 9 {
            4 => Step::Delete(k),
            7 => Step::Many(k, i, format!("m{}", i % 3), -i),
            _ => Step::Set(k, i),
        });
        if i % 10 == 9 {
            w.push(Step::Flush);
        }
        if i == 20 {
            w.push(Step::Backup);
        }
    }
    w
}

type Model = BTreeMap<String, i64>;

thread_local! {
    /// The workload runs with `secretKeys` (k1, m0) on this test's thread.
    static SECRET: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// `o` with the secret-keys codec when this test asks for it.
fn encrypted(mut o: tad_store_core::StoreOptions) -> tad_store_core::StoreOptions {
    if SECRET.with(|c| c.get()) {
        o.codec = Arc::new(
            tad_store_core::crypto::SecretCodec::new(
                vec![vec!["k1".into()], vec!["m0".into()]],
                vec!["k1".into(), "m0".into()],
                &[7u8; 32],
                true,
            )
            .unwrap(),
        );
    }
    o
}

fn apply(m: &mut Model, s: &Step) {
    match s {
        Step::Set(k, v) => {
            m.insert(k.clone(), *v);
        }
        Step::Delete(k) => {
            m.remove(k);
        }
        Step::Many(a, x, b, y) => {
            m.insert(a.clone(), *x);
            m.insert(b.clone(), *y);
        }
        _ => {}
    }
}

fn state(h: &Handle) -> Model {
    let v = h.snapshot().unwrap();
    to_model(&v)
}

fn to_model(v: &Value) -> Model {
    v.as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| match v {
            Value::Number(n) => (k.to_string(), *n as i64),
            other => panic!("unexpected value {other:?}"),
        })
        .collect()
}

fn run_step(h: &Handle, s: &Step) -> Result<bool, tad_store_core::Error> {
    match s {
        Step::Set(k, v) => h.set(k, v.to_string().as_bytes(), C).map(|_| true),
        Step::Delete(k) => h.delete(k, C).map(|_| true),
        Step::Many(a, x, b, y) => h
            .set_many(
                format!("{{\"{a}\":{x},\"{b}\":{y}}}").as_bytes(),
                "setMultiple",
                C,
            )
            .map(|_| true),
        Step::Flush => h.flush().map(|_| false),
        Step::Backup => h.create_backup("test", false).map(|_| false),
    }
}

fn io_code(e: &tad_store_core::Error) -> bool {
    matches!(e.code(), "E_IO" | "E_NOSPC")
}

/// Opens on the real file system and checks the journal is trusted.
fn reopen(dir: &std::path::Path) -> Handle {
    let h = registry::open_unshared(encrypted(opts(dir))).unwrap_or_else(|e| panic!("reopen: {e}"));
    assert!(
        h.report().journal_damage.is_none(),
        "the journal is distrusted after a fault: {:?}",
        h.report()
    );
    h
}

fn temps_left(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for d in [
        dir.to_path_buf(),
        dir.join("storeHistory"),
        dir.join("backups"),
    ] {
        out.extend(files_with(&d, ".tmp"));
    }
    out
}

/// How many operations of each kind the clean workload makes.
fn counts(durability: Durability) -> Vec<(FaultKind, u64)> {
    let dir = tmp();
    let fs = fault_fs(None);
    let mut o = encrypted(opts_fs(dir.path(), Arc::new(fs.clone())));
    o.durability = durability;
    o.history_max = 4;
    let h = registry::open_unshared(o).unwrap();
    for s in workload() {
        run_step(&h, &s).unwrap();
    }
    h.close(false).unwrap();
    [
        FaultKind::Write,
        FaultKind::Sync,
        FaultKind::Rename,
        FaultKind::Truncate,
    ]
    .into_iter()
    .map(|k| (k, fs.count(k)))
    .collect()
}

/// One run of the sync workload with one fault plan; checks everything.
fn sync_run(plan: FaultPlan) -> (bool, usize) {
    let dir = tmp();
    let fs = fault_fs(Some(plan.clone()));
    let mut o = encrypted(opts_fs(dir.path(), Arc::new(fs.clone())));
    o.durability = Durability::Sync;
    o.history_max = 4;
    let label = format!("{plan:?}");
    let h = match registry::open_unshared(o) {
        Ok(h) => h,
        Err(e) => {
            assert!(io_code(&e), "{label}: open failed with {e}");
            let r = reopen(dir.path());
            assert!(state(&r).is_empty(), "{label}");
            return (true, 0);
        }
    };
    let mut model = Model::new();
    // with a sticky fault, the change in flight may or may not have landed
    let mut in_flight: Option<Model> = None;
    let mut failures = 0;
    for s in workload() {
        match run_step(&h, &s) {
            Ok(true) => apply(&mut model, &s),
            Ok(false) => {}
            Err(e) => {
                assert!(io_code(&e), "{label}: {s:?} failed with {e} ({})", e.code());
                failures += 1;
                if in_flight.is_none() && !matches!(s, Step::Flush | Step::Backup) {
                    let mut m = model.clone();
                    apply(&mut m, &s);
                    in_flight = Some(m);
                }
            }
        }
        // what get returns is what is durable (a failed change was undone)
        assert_eq!(state(&h), model, "{label}: after {s:?}");
    }
    let injected = fs.injected() > 0;
    // closing writes what is left; with the disk back it must succeed
    let mut closed = h.close(false);
    if closed.is_err() && !plan.sticky {
        closed = h.close(false);
    }
    if plan.sticky {
        let _ = closed;
        h.close(true).unwrap();
    } else {
        closed.unwrap_or_else(|e| panic!("{label}: close with the disk back: {e}"));
    }
    let r = reopen(dir.path());
    let got = state(&r);
    if plan.sticky {
        assert!(
            got == model || in_flight.as_ref() == Some(&got),
            "{label}: reopened {got:?}, acknowledged {model:?}"
        );
    } else {
        assert_eq!(
            got, model,
            "{label}: every acknowledged change, nothing else"
        );
        assert!(
            temps_left(dir.path()).is_empty(),
            "{label}: temp files left"
        );
    }
    // the reopened store goes on
    r.set("after", b"1", C).unwrap();
    r.close(false).unwrap();
    (injected, failures)
}

#[test]
fn sync_workload_with_a_fault_at_every_k() {
    let started = Instant::now();
    let mut runs = 0;
    let mut reported = 0;
    for (kind, n) in counts(Durability::Sync) {
        for at in 1..=n + 1 {
            for errno in [ENOSPC, EIO] {
                for sticky in [false, true] {
                    let (injected, failures) = sync_run(FaultPlan {
                        kind,
                        at,
                        errno,
                        sticky,
                    });
                    runs += 1;
                    if injected {
                        reported += usize::from(failures > 0);
                    }
                }
            }
        }
    }
    eprintln!(
        "sync fault runs: {runs}, with a failure reported to a caller: {reported}, {:?}",
        started.elapsed()
    );
    assert!(runs > 200, "{runs}");
}

/// The deferred workload: every change is accepted at once; a write failure
/// is reported (an event, flush rejects, status) and retried, and nothing is
/// lost once the disk is back.
fn deferred_run(plan: FaultPlan) {
    let dir = tmp();
    let fs = fault_fs(Some(plan.clone()));
    let mut o = encrypted(opts_fs(dir.path(), Arc::new(fs.clone())));
    o.history_max = 4;
    let label = format!("deferred {plan:?}");
    let h = match registry::open_unshared(o) {
        Ok(h) => h,
        Err(e) => {
            assert!(io_code(&e), "{label}: {e}");
            return;
        }
    };
    let rec = install(&h);
    let mut models = vec![Model::new()];
    let mut durable_upto = 0;
    for s in workload() {
        match run_step(&h, &s) {
            Ok(true) => {
                let mut m = models.last().unwrap().clone();
                apply(&mut m, &s);
                models.push(m);
            }
            Ok(false) => {
                if matches!(s, Step::Flush) {
                    durable_upto = models.len() - 1;
                }
            }
            Err(e) => {
                assert!(
                    matches!(s, Step::Flush | Step::Backup),
                    "{label}: {s:?}: {e}"
                );
                assert!(io_code(&e), "{label}: {e}");
            }
        }
        assert_eq!(
            &state(&h),
            models.last().unwrap(),
            "{label}: memory keeps every change"
        );
    }
    let last = models.last().unwrap().clone();
    if plan.sticky {
        let _ = h.close(false);
        h.close(true).unwrap();
        let r = reopen(dir.path());
        let got = state(&r);
        let i = models
            .iter()
            .position(|m| *m == got)
            .unwrap_or_else(|| panic!("{label}: reopened {got:?} is no prefix"));
        assert!(
            i >= durable_upto,
            "{label}: lost flushed changes ({i} < {durable_upto})"
        );
        return;
    }
    // the disk is back (single fault): everything gets written, by itself
    let deadline = Instant::now() + Duration::from_secs(10);
    while h.flush().is_err() {
        assert!(Instant::now() < deadline, "{label}: never healed");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(h.status().writer_error.is_none(), "{label}");
    let events = rec.take();
    if fs.injected() > 0 {
        let failed = events
            .iter()
            .any(|e| matches!(e, Event::WriteFailed { .. }));
        let recovered = events.iter().any(|e| matches!(e, Event::WriteRecovered));
        // a failed backup is reported to its caller, not as a writer event
        if failed {
            assert!(recovered, "{label}: {events:?}");
        }
    }
    h.close(false).unwrap();
    let r = reopen(dir.path());
    assert_eq!(state(&r), last, "{label}: nothing lost");
    assert!(
        temps_left(dir.path()).is_empty(),
        "{label}: temp files left"
    );
}

#[test]
fn deferred_workload_with_a_fault_at_every_k() {
    let started = Instant::now();
    let mut runs = 0;
    for (kind, n) in counts(Durability::Deferred) {
        for at in 1..=n + 1 {
            for (errno, sticky) in [(ENOSPC, false), (EIO, false), (EIO, true)] {
                deferred_run(FaultPlan {
                    kind,
                    at,
                    errno,
                    sticky,
                });
                runs += 1;
            }
        }
    }
    eprintln!("deferred fault runs: {runs}, {:?}", started.elapsed());
    assert!(runs > 50, "{runs}");
}

/// The same fault runs with `secretKeys`: sealed journal lines, envelopes in
/// the document and backups, the same guarantees.
#[test]
fn sync_and_deferred_workloads_with_secret_keys_and_a_fault_at_every_k() {
    SECRET.with(|c| c.set(true));
    let started = Instant::now();
    let mut runs = 0;
    for (kind, n) in counts(Durability::Sync) {
        for at in 1..=n + 1 {
            for (errno, sticky) in [(ENOSPC, false), (EIO, true)] {
                sync_run(FaultPlan {
                    kind,
                    at,
                    errno,
                    sticky,
                });
                runs += 1;
            }
        }
    }
    for (kind, n) in counts(Durability::Deferred) {
        for at in 1..=n + 1 {
            deferred_run(FaultPlan {
                kind,
                at,
                errno: EIO,
                sticky: false,
            });
            runs += 1;
        }
    }
    eprintln!("secret-keys fault runs: {runs}, {:?}", started.elapsed());
    assert!(runs > 100, "{runs}");
}

#[test]
fn a_failed_fsync_never_duplicates_journal_lines() {
    // the old bug: the length advanced before the fsync, and the retry wrote the
    // lines again
    for at in 1..=6 {
        let dir = tmp();
        let fs = fault_fs(None);
        let h = open(encrypted(opts_fs(dir.path(), Arc::new(fs.clone()))));
        fs.arm(FaultPlan {
            kind: FaultKind::Sync,
            at,
            errno: EIO,
            sticky: false,
        });
        for i in 0..5 {
            set(&h, &format!("k{i}"), &i.to_string());
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        while h.flush().is_err() {
            assert!(Instant::now() < deadline);
            std::thread::sleep(Duration::from_millis(10));
        }
        h.close(false).unwrap();
        let (changes, _) = journal_seqs(dir.path());
        let mut sorted = changes.clone();
        sorted.dedup();
        assert_eq!(changes, sorted, "no duplicates (fault at fsync {at})");
        assert_eq!(changes.len(), 5);
        let r = reopen(dir.path());
        assert_eq!(r.size().unwrap(), 5);
    }
}

#[test]
fn a_sync_set_that_cannot_be_made_durable_is_undone_and_says_why() {
    let dir = tmp();
    let fs = fault_fs(None);
    let h = open(sync(encrypted(opts_fs(dir.path(), Arc::new(fs.clone())))));
    fs.arm(FaultPlan {
        kind: FaultKind::Sync,
        at: 1,
        errno: ENOSPC,
        sticky: true,
    });
    let err = h.set("a", b"1", C).unwrap_err();
    assert_eq!(err.code(), "E_NOSPC");
    let (os, errno, _) = err.os_cause().unwrap();
    assert_eq!(os, Some("ENOSPC"));
    assert_eq!(errno, Some(ENOSPC));
    assert_eq!(get(&h, "a"), None, "undone in memory");
    // every later set fails too, and is not applied either
    assert_eq!(h.set("b", b"2", C).unwrap_err().code(), "E_NOSPC");
    assert_eq!(text(&h), "{}");
    // close says so and keeps the store open
    fs.heal();
    h.set("c", b"3", C).unwrap();
    assert_eq!(text(&h), r#"{"c":3}"#, "heals when the disk has room");
    h.close(false).unwrap();
    assert_eq!(text(&reopen(dir.path())), r#"{"c":3}"#);
}

#[test]
fn close_with_changes_it_cannot_write_throws_and_keeps_them() {
    let dir = tmp();
    let fs = fault_fs(None);
    let h = open(encrypted(opts_fs(dir.path(), Arc::new(fs.clone()))));
    fs.arm(FaultPlan {
        kind: FaultKind::Write,
        at: 1,
        errno: ENOSPC,
        sticky: true,
    });
    let rec = install(&h);
    set(&h, "a", "1");
    set(&h, "b", "2");
    let err = h.close(false).unwrap_err();
    assert_eq!(err.code(), "E_NOSPC");
    assert!(!h.is_closed(), "still open");
    assert_eq!(text(&h), r#"{"a":1,"b":2}"#, "the changes are retrievable");
    assert_eq!(h.status().pending, 2);
    assert_eq!(h.status().writer_error.unwrap().0, "E_NOSPC");
    assert!(rec.take().iter().any(|e| matches!(
        e,
        Event::WriteFailed { error, .. } if error.code() == "E_NOSPC"
    )));
    assert_eq!(h.flush().unwrap_err().code(), "E_NOSPC");
    fs.heal();
    h.close(false).unwrap();
    assert_eq!(text(&reopen(dir.path())), r#"{"a":1,"b":2}"#);
}

#[test]
fn a_full_queue_refuses_new_changes_while_writing_fails() {
    let dir = tmp();
    let fs = fault_fs(None);
    let h = open(encrypted(opts_fs(dir.path(), Arc::new(fs.clone()))));
    fs.arm(FaultPlan {
        kind: FaultKind::Write,
        at: 1,
        errno: ENOSPC,
        sticky: true,
    });
    let mut refused = None;
    for i in 0..(tad_store_core::store::MAX_QUEUED + 10) {
        if let Err(e) = h.set(&format!("k{}", i % 100), i.to_string().as_bytes(), C) {
            refused = Some((i, e));
            break;
        }
        if i == 0 {
            // let the first write fail, so the writer is known to be failing
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    let (i, e) = refused.expect("backpressure");
    assert!(i >= tad_store_core::store::MAX_QUEUED - 1, "{i}");
    assert!(e.to_string().contains("refused"), "{e}");
    let before = text(&h);
    assert!(h.set("x", b"1", C).is_err());
    assert_eq!(text(&h), before, "a refused change is not applied");
    fs.heal();
    h.close(false).unwrap();
    assert_eq!(text(&reopen(dir.path())), before);
}
