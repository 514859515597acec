//! Checkpoints written off the writer's path (issue 19, items 2 and 3): a
//! durable change is acknowledged when its journal record is durable, never
//! after a document rewrite; a checkpoint prepared while changes go on is put
//! in place only if nothing newer was checkpointed meanwhile; a failure or a
//! panic at each step of the new path is reported, retried and loses nothing.
//!
//! The tests stop a checkpoint half way with a test hold
//! (`testing::arm_hold`), which is process-wide: they take `SERIAL` so they
//! never stop each other's checkpoints. No test looks at a clock.

mod common;

use std::path::Path;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use common::*;
use tad_store_core::testing::{arm_hold, arm_panic, release_hold, wait_held};
use tad_store_core::{registry, Handle};

static SERIAL: Mutex<()> = Mutex::new(());

/// Generous: a loaded machine is slow, a hang still fails loudly.
const DEADLINE: Duration = Duration::from_secs(120);

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

/// The files a `kill -9` would leave right now (the document and the
/// journal; every acknowledged change was fsynced), copied to `to`.
fn crash_copy(from: &Path, to: &Path) {
    std::fs::create_dir_all(to.join("storeHistory")).unwrap();
    if doc_path(from).exists() {
        std::fs::copy(doc_path(from), doc_path(to)).unwrap();
    }
    std::fs::copy(journal_path(from), journal_path(to)).unwrap();
}

/// Runs `f` on another thread; panics if it does not finish by `DEADLINE`.
fn within<T: Send + 'static>(what: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(DEADLINE)
        .unwrap_or_else(|_| panic!("{what}: not done after {DEADLINE:?}"))
}

fn temps(dir: &Path) -> Vec<std::path::PathBuf> {
    files_with(dir, ".tmp")
}

#[test]
fn a_sync_set_is_acknowledged_while_a_checkpoint_is_being_written_and_survives_a_crash() {
    let _g = serial();
    let dir = tmp();
    let h = Arc::new(open(sync(opts(dir.path()))));
    set(&h, "a", "1");
    // a checkpoint stops after serializing, before its temp file is written
    arm_hold("checkpoint.temp");
    let flusher = {
        let h = h.clone();
        thread::spawn(move || h.flush())
    };
    assert!(wait_held(DEADLINE), "no checkpoint started for flush()");
    // durable sets return while that checkpoint is stopped
    let acked = {
        let h = h.clone();
        within("sync sets during a checkpoint", move || {
            for i in 0..5 {
                h.set(&format!("k{i}"), i.to_string().as_bytes(), C)
                    .unwrap();
            }
            h.status()
        })
    };
    assert_eq!(acked.pending, 0);
    let (changes, checkpoints) = journal_seqs(dir.path());
    assert_eq!(
        changes,
        vec![1, 2, 3, 4, 5, 6],
        "every acknowledged set is in the journal"
    );
    assert!(
        checkpoints.iter().all(|&s| s < 2),
        "no checkpoint holds the sets acknowledged during it: {checkpoints:?}"
    );
    // a crash now: the reopened store holds every acknowledged set
    let crashed = tmp();
    crash_copy(dir.path(), crashed.path());
    let r = open(opts(crashed.path()));
    assert_eq!(text(&r), r#"{"a":1,"k0":0,"k1":1,"k2":2,"k3":3,"k4":4}"#);
    assert!(r.report().journal_damage.is_none());
    r.close(false).unwrap();

    release_hold();
    flusher.join().unwrap().unwrap();
    // the checkpoint put in place was of its snapshot; a flush now writes all
    h.flush().unwrap();
    let file = std::fs::read_to_string(doc_path(dir.path())).unwrap();
    assert!(file.contains("\"k4\": 4"), "{file}");
    assert!(temps(dir.path()).is_empty(), "{:?}", temps(dir.path()));
    h.close(false).unwrap();
    let r = open(opts(dir.path()));
    assert_eq!(text(&r), r#"{"a":1,"k0":0,"k1":1,"k2":2,"k3":3,"k4":4}"#);
}

#[test]
fn a_checkpoint_made_obsolete_while_it_was_prepared_is_dropped() {
    let _g = serial();
    let dir = tmp();
    let h = Arc::new(open(opts(dir.path())));
    set(&h, "mine", "1");
    arm_hold("checkpoint.temp");
    let flusher = {
        let h = h.clone();
        thread::spawn(move || h.flush())
    };
    assert!(wait_held(DEADLINE), "no checkpoint started for flush()");
    // another process writes newer changes and checkpoints them meanwhile
    let other = within("another process's flush", {
        let o = opts(dir.path());
        move || {
            let other: Handle = registry::open_unshared(o).unwrap();
            other.set("theirs", b"2", C).unwrap();
            other.flush().unwrap();
            other
        }
    });
    let theirs = std::fs::read_to_string(doc_path(dir.path())).unwrap();
    assert!(theirs.contains("theirs"), "{theirs}");
    release_hold();
    flusher.join().unwrap().unwrap();
    // the older file was not put over the newer one, and its temp is gone
    let now = std::fs::read_to_string(doc_path(dir.path())).unwrap();
    assert!(now.contains("theirs") && now.contains("mine"), "{now}");
    assert!(temps(dir.path()).is_empty(), "{:?}", temps(dir.path()));
    other.close(false).unwrap();
    h.close(false).unwrap();
    let r = open(opts(dir.path()));
    assert_eq!(text(&r), r#"{"mine":1,"theirs":2}"#);
    assert!(r.report().journal_damage.is_none());
}

#[test]
fn a_panic_at_each_step_of_a_checkpoint_is_reported_and_retried() {
    let _g = serial();
    for point in ["checkpoint.write", "checkpoint.temp", "checkpoint.install"] {
        let dir = tmp();
        let h = open(opts(dir.path()));
        set(&h, "before", "1");
        h.flush().unwrap();
        arm_panic(Some(point), 1);
        set(&h, "x", "2");
        let first = h.flush();
        assert!(
            first.is_ok() || first.as_ref().unwrap_err().code() == "E_INTERNAL",
            "{point}: {first:?}"
        );
        // sync sets go on meanwhile
        let s = open(sync(opts(dir.path())));
        set(&s, "y", "3");
        h.flush().unwrap();
        s.flush().unwrap();
        arm_panic(None, 0);
        assert!(
            temps(dir.path()).is_empty(),
            "{point}: {:?}",
            temps(dir.path())
        );
        s.close(false).unwrap();
        h.close(false).unwrap();
        let r = open(opts(dir.path()));
        assert_eq!(text(&r), r#"{"before":1,"x":2,"y":3}"#, "{point}");
        let file = std::fs::read_to_string(doc_path(dir.path())).unwrap();
        assert!(file.contains("\"y\": 3"), "{point}: {file}");
    }
}

#[test]
fn the_file_follows_a_steady_stream_of_durable_changes_without_flush() {
    let _g = serial();
    let dir = tmp();
    let h = open(sync(opts(dir.path())));
    // ~3 MB of durable changes, one at a time, never a flush: the journal
    // passes its bound (1 MB) while they arrive, a checkpoint starts anyway
    // and trims keep the journal bounded (history 100 entries)
    let pad = "x".repeat(3000);
    for i in 0..1000 {
        set(&h, &format!("k{}", i % 50), &format!("\"{i}{pad}\""));
    }
    let mut st = h.status();
    let end = std::time::Instant::now() + DEADLINE;
    while st.checkpoints == 0 || st.checkpointed_seq < 300 {
        assert!(
            std::time::Instant::now() < end,
            "no checkpoint without flush: {st:?}"
        );
        thread::sleep(Duration::from_millis(20));
        st = h.status();
    }
    assert!(
        st.journal_bytes < 3 * 1000 * 3000,
        "the journal was never trimmed: {st:?}"
    );
    h.close(false).unwrap();
    let r = open(opts(dir.path()));
    assert_eq!(r.keys().unwrap().len(), 50);
}

#[test]
fn a_trim_after_an_older_checkpoint_keeps_the_changes_appended_while_it_was_written() {
    let _g = serial();
    let dir = tmp();
    let mut o = sync(opts(dir.path()));
    o.history_max = 4;
    let h = Arc::new(open(o.clone()));
    set(&h, "a", "0");
    arm_hold("checkpoint.temp");
    let flusher = {
        let h = h.clone();
        thread::spawn(move || h.flush())
    };
    assert!(wait_held(DEADLINE), "no checkpoint started for flush()");
    // far more changes than the history kept, while the checkpoint (of the
    // state after the first) is written
    let h2 = h.clone();
    within("sync sets during a checkpoint", move || {
        for i in 1..=60 {
            h2.set("a", i.to_string().as_bytes(), C).unwrap();
        }
    });
    release_hold();
    flusher.join().unwrap().unwrap();
    // a crash right after that checkpoint and its trim
    let crashed = tmp();
    crash_copy(dir.path(), crashed.path());
    let r = open(opts(crashed.path()));
    assert_eq!(text(&r), r#"{"a":60}"#);
    assert!(r.report().journal_damage.is_none());
    r.close(false).unwrap();
    h.close(false).unwrap();
    let r = open(o);
    assert_eq!(text(&r), r#"{"a":60}"#);
}

#[test]
fn a_flush_resolves_when_another_program_puts_an_older_store_in_place_meanwhile() {
    let _g = serial();
    let dir = tmp();
    let h = Arc::new(open(opts(dir.path())));
    for i in 0..20 {
        set(&h, &format!("k{i}"), &i.to_string());
    }
    // flush() has seen its changes durable (the log at seq 20) and waits for
    // the document file, whose checkpoint is stopped half way
    arm_hold("checkpoint.temp");
    let flusher = {
        let h = h.clone();
        thread::spawn(move || h.flush())
    };
    assert!(wait_held(DEADLINE), "no checkpoint started for flush()");
    // another program (a restore by a backup tool) puts an older store in
    // place: no journal, a document the history does not explain
    std::fs::remove_file(journal_path(dir.path())).unwrap();
    std::fs::write(doc_path(dir.path()), br#"{"restored":true}"#).unwrap();
    release_hold();
    // the log is numbered anew from the restored file (seq 1): the flush
    // waits for that state in the file, not for a seq 20 that no longer exists
    within("flush after the store was replaced", move || {
        flusher.join().unwrap()
    })
    .unwrap();
    assert_eq!(text(&h), r#"{"restored":true}"#);
    set(&h, "after", "1");
    h.flush().unwrap();
    h.close(false).unwrap();
    let r = open(opts(dir.path()));
    assert_eq!(text(&r), r#"{"restored":true,"after":1}"#);
    assert!(r.report().journal_damage.is_none());
}
