//! The watcher against real files: external edits arrive as one
//! `external-change` with the keys that changed, own writes never echo, an
//! edit saved at the instant the writer replaces the file is kept, bad edits
//! are refused, another writer's changes arrive. Then the backend's failures,
//! with a double that drops every event, overflows, fails, refuses to
//! restart and panics, and with the real backend on a deleted directory:
//! nothing a backend dropped is missed, and a watcher that stops is reported
//! (`E_WATCH`, `is_watching()` false), never silent. Waits poll the recorded
//! events with a deadline (they come from the watcher thread).

mod common;

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;
use tad_store_core::events::{Event, Origin};
use tad_store_core::store::ExternalOutcome;
use tad_store_core::watch::{Clock, Signal, WatchSetup, WatchTiming};

fn save(path: &Path, text: &str) {
    let tmp = path.with_extension("swp");
    std::fs::write(&tmp, text).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

fn wait_for(rec: &Recorder, mut pred: impl FnMut(&[Event]) -> bool) -> Vec<Event> {
    // generous: fails loudly on a stuck watcher, never on a slow machine
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        {
            let ev = rec.0.lock().unwrap();
            if pred(&ev) {
                return ev.clone();
            }
        }
        assert!(
            Instant::now() < deadline,
            "timed out; events: {:?}",
            rec.0.lock().unwrap()
        );
        std::thread::sleep(Duration::from_millis(2));
    }
}

fn external_keys(ev: &[Event]) -> Vec<Vec<String>> {
    ev.iter()
        .filter_map(|e| match e {
            Event::Changed {
                origin: Origin::External,
                changes,
            } => Some(changes.iter().map(|c| c.key.clone()).collect()),
            _ => None,
        })
        .collect()
}

#[test]
fn editor_save_is_applied_as_one_external_change() {
    let dir = tmp();
    let h = open(opts(dir.path()));
    set(&h, "a", "1");
    set(&h, "b", "1");
    h.flush().unwrap();
    let rec = install(&h);
    h.watch().unwrap();
    save(&doc_path(dir.path()), r#"{"a": 2, "b": 1, "c": [1]}"#);
    let ev = wait_for(&rec, |e| !external_keys(e).is_empty());
    let mut keys = external_keys(&ev).remove(0);
    keys.sort();
    assert_eq!(keys, ["a", "c"]);
    assert_eq!(text(&h), r#"{"a":2,"b":1,"c":[1]}"#);
    let hist = h.history().unwrap();
    assert_eq!(hist.last().unwrap().op, "external-change");
    assert!(hist.last().unwrap().inverse.is_some(), "reversible");
    h.close(false).unwrap();
}

#[test]
fn own_writes_do_not_echo_and_an_edit_racing_the_writer_is_kept() {
    let dir = tmp();
    let h = open(opts(dir.path()));
    set(&h, "n", "0");
    h.flush().unwrap();
    let rec = install(&h);
    h.watch().unwrap();
    for i in 0..2000 {
        set(&h, "k", &i.to_string());
    }
    h.flush().unwrap();
    // edits right after each own write: none lost, none doubled
    for i in 1..=50 {
        set(&h, "own", &i.to_string());
        if on_windows() {
            // Windows has no atomic exchange: an edit saved in the
            // microseconds between the writer's last look and its rename is
            // overwritten (README, "Platforms"); there the writer finishes
            // first. Linux swaps the files and keeps what it displaced.
            h.flush().unwrap();
        }
        save(
            &doc_path(dir.path()),
            &format!(r#"{{"n": {i}, "k": 1999, "own": {i}}}"#),
        );
        // the live document changes before the event is sent: wait for the
        // event itself
        wait_for(&rec, |e| {
            external_keys(e)
                .iter()
                .filter(|k| k.contains(&"n".to_string()))
                .count()
                == i
        });
        assert_eq!(get(&h, "n").as_deref(), Some(i.to_string().as_str()));
    }
    let ev = rec.take();
    assert!(
        ev.iter().all(|e| matches!(
            e,
            Event::Changed {
                origin: Origin::External,
                ..
            }
        )),
        "{ev:?}"
    );
    let n_changes = external_keys(&ev)
        .iter()
        .filter(|k| k.contains(&"n".to_string()))
        .count();
    assert_eq!(n_changes, 50, "one event per edit");
    h.close(false).unwrap();
}

#[test]
fn bad_edits_are_refused_kept_and_the_file_rewritten() {
    let dir = tmp();
    let h = open(opts(dir.path()));
    set(&h, "a", "1");
    h.flush().unwrap();
    let good = std::fs::read(doc_path(dir.path())).unwrap();
    std::fs::write(doc_path(dir.path()), b"{nope").unwrap();
    // the same path the watcher takes, without retries
    match h.core().check_external(&[], false, false).unwrap() {
        ExternalOutcome::Invalid { code, kept, .. } => {
            assert_eq!(code, "E_CORRUPT");
            assert_eq!(std::fs::read(kept.unwrap()).unwrap(), b"{nope");
        }
        other => panic!("{other:?}"),
    }
    h.flush().unwrap();
    assert_eq!(std::fs::read(doc_path(dir.path())).unwrap(), good);
    assert_eq!(text(&h), r#"{"a":1}"#);
    // a retryable look says so instead of refusing
    std::fs::write(doc_path(dir.path()), b"{\"a\": ").unwrap();
    assert!(matches!(
        h.core().check_external(&[], true, false).unwrap(),
        ExternalOutcome::Retry
    ));
    std::fs::write(doc_path(dir.path()), b"{\"a\": 5}").unwrap();
    assert!(matches!(
        h.core().check_external(&[], true, false).unwrap(),
        ExternalOutcome::Applied(_)
    ));
    assert_eq!(text(&h), r#"{"a":5}"#);
    // nothing more to take
    assert!(matches!(
        h.core().check_external(&[], true, false).unwrap(),
        ExternalOutcome::Unchanged
    ));
    h.close(false).unwrap();
}

#[test]
fn another_writer_arrives_without_a_call() {
    let dir = tmp();
    let me = open(opts(dir.path()));
    set(&me, "mine", "1");
    me.flush().unwrap();
    let rec = install(&me);
    me.watch().unwrap();
    let other = Arc::new(open(opts(dir.path())));
    for i in 0..20 {
        set(&other, &format!("o.k{i}"), &i.to_string());
        other.flush().unwrap();
        wait_for(&rec, |_| get(&me, &format!("o.k{i}")).is_some());
    }
    let ev = rec.take();
    assert!(
        ev.iter().all(|e| matches!(
            e,
            Event::Changed {
                origin: Origin::Remote,
                ..
            }
        )),
        "another writer's document writes are not external edits: {ev:?}"
    );
    other.close(false).unwrap();
    me.close(false).unwrap();
    assert!(!me.core().is_watching());
}

// -- backends that drop events, fail and die -----------------------------------

fn with_backend(backend: Arc<DoubleBackend>, rescan: Duration) -> WatchSetup {
    WatchSetup {
        timing: WatchTiming {
            rescan,
            ..WatchTiming::default()
        },
        backend,
        ..WatchSetup::default()
    }
}

const NEVER: Duration = Duration::from_secs(3600);

fn watch_errors(ev: &[Event]) -> Vec<(String, String)> {
    ev.iter()
        .filter_map(|e| match e {
            Event::WatchError { error } => Some((error.code().to_string(), error.to_string())),
            _ => None,
        })
        .collect()
}

fn stopped(ev: &[Event]) -> Vec<String> {
    watch_errors(ev)
        .into_iter()
        .filter(|(c, _)| c == "E_WATCH")
        .map(|(_, m)| m)
        .collect()
}

fn until(what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(2));
    }
}

#[test]
fn a_backend_that_drops_every_event_is_caught_up_by_the_stat_check() {
    let dir = tmp();
    let h = open(opts(dir.path()));
    set(&h, "a", "1");
    h.flush().unwrap();
    let rec = install(&h);
    let backend = Arc::new(DoubleBackend::default());
    h.watch_with(with_backend(backend.clone(), Duration::from_millis(20)))
        .unwrap();
    // an editor's save, never reported by the backend
    save(&doc_path(dir.path()), r#"{"a": 2, "b": 3}"#);
    let ev = wait_for(&rec, |e| !external_keys(e).is_empty());
    let mut keys = external_keys(&ev).remove(0);
    keys.sort();
    assert_eq!(keys, ["a", "b"]);
    // another process's appends, never reported either
    let other = open(opts(dir.path()));
    for i in 0..5 {
        set(&other, "o", &i.to_string());
        other.flush().unwrap();
        until("the other process's change", || {
            get(&h, "o").as_deref() == Some(i.to_string().as_str())
        });
    }
    // own writes the check sees are recognised as ours: after 200 of them,
    // a second edit is the only other external change
    for i in 0..200 {
        set(&h, "mine", &i.to_string());
    }
    h.flush().unwrap();
    let mut doc: serde_json::Value =
        serde_json::from_slice(&std::fs::read(doc_path(dir.path())).unwrap()).unwrap();
    doc["sentinel"] = serde_json::json!(true);
    save(&doc_path(dir.path()), &doc.to_string());
    let ev = wait_for(&rec, |e| external_keys(e).len() == 2);
    assert_eq!(external_keys(&ev)[1], ["sentinel"], "{ev:?}");
    assert!(watch_errors(&ev).is_empty(), "{ev:?}");
    assert!(h.core().is_watching());
    assert_eq!(backend.starts(), 1);
    other.close(false).unwrap();
    h.close(false).unwrap();
}

#[test]
fn an_overflow_makes_the_watcher_look_at_both_files() {
    let dir = tmp();
    let h = open(opts(dir.path()));
    set(&h, "a", "1");
    h.flush().unwrap();
    let rec = install(&h);
    let backend = Arc::new(DoubleBackend::default());
    // no stat check within the test: only the rescan can find these
    h.watch_with(with_backend(backend.clone(), NEVER)).unwrap();
    let other = open(opts(dir.path()));
    set(&other, "o", "1");
    other.close(false).unwrap();
    save(&doc_path(dir.path()), r#"{"a": 5, "o": 1}"#);
    backend.send(Signal::Rescan);
    let ev = wait_for(&rec, |e| !external_keys(e).is_empty());
    assert_eq!(external_keys(&ev)[0], ["a"]);
    until("the other process's change", || get(&h, "o").is_some());
    assert!(watch_errors(&rec.take()).is_empty());
    h.close(false).unwrap();
}

#[test]
fn a_failing_backend_is_reported_once_changes_still_arrive_and_it_restarts() {
    let dir = tmp();
    let h = open(opts(dir.path()));
    set(&h, "a", "1");
    h.flush().unwrap();
    let rec = install(&h);
    let backend = Arc::new(DoubleBackend::default());
    h.watch_with(with_backend(backend.clone(), Duration::from_millis(20)))
        .unwrap();
    assert!(h.core().is_watching());
    backend.refuse_starts(true);
    backend.send(Signal::Failed(
        "ReadDirectoryChangesW: ERROR_INVALID_FUNCTION (a test)".into(),
    ));
    let ev = wait_for(&rec, |e| !stopped(e).is_empty());
    let msg = &stopped(&ev)[0];
    assert!(msg.contains("ERROR_INVALID_FUNCTION"), "{msg}");
    assert!(msg.contains("config.json"), "names the store: {msg}");
    assert!(!h.core().is_watching(), "health says so");
    // while it is down, the stat check still brings edits in
    save(&doc_path(dir.path()), r#"{"a": 2}"#);
    wait_for(&rec, |e| !external_keys(e).is_empty());
    assert!(!h.core().is_watching());
    // restarts work again: watching resumes, and the failure was reported once
    // although every scan tried
    backend.refuse_starts(false);
    until("a restart", || h.core().is_watching());
    assert_eq!(backend.starts(), 2);
    save(&doc_path(dir.path()), r#"{"a": 3}"#);
    let ev = wait_for(&rec, |e| external_keys(e).len() == 2);
    assert_eq!(stopped(&ev).len(), 1, "{ev:?}");
    // a second failure is a second report
    backend.send(Signal::Failed("again".into()));
    wait_for(&rec, |e| stopped(e).len() == 2);
    h.close(false).unwrap();
}

#[test]
fn a_backend_thread_that_dies_is_reported() {
    let dir = tmp();
    let h = open(opts(dir.path()));
    let rec = install(&h);
    let backend = Arc::new(DoubleBackend::default());
    h.watch_with(with_backend(backend.clone(), NEVER)).unwrap();
    backend.refuse_starts(true);
    backend.panic_thread();
    let ev = wait_for(&rec, |e| !stopped(e).is_empty());
    assert!(stopped(&ev)[0].contains("thread ended"), "{ev:?}");
    assert!(!h.core().is_watching());
    h.close(false).unwrap();
}

/// A store whose document and journal live in directories of their own; the
/// test removes one of them.
fn removed_dir(setup: WatchSetup, remove_history: bool) {
    let doc_root = tmp();
    let hist_root = tmp();
    let mut o = opts(&doc_root.path().join("doc"));
    o.history_dir = hist_root.path().join("history");
    let h = open(o);
    set(&h, "a", "1");
    h.flush().unwrap();
    let rec = install(&h);
    h.watch_with(setup).unwrap();
    let gone = if remove_history {
        hist_root.path().join("history")
    } else {
        doc_root.path().join("doc")
    };
    // (the watcher names the directory by its real path: /private/var/... on
    // macOS for /var/...)
    let real = std::fs::canonicalize(&gone).unwrap();
    std::fs::remove_dir_all(&gone).unwrap();
    // a file where the directory was: the watcher cannot restart (nor the
    // writer make the directory again), so "not watching" stays true
    std::fs::write(&gone, b"not a directory").unwrap();
    let ev = wait_for(&rec, |e| !stopped(e).is_empty());
    let msg = &stopped(&ev)[0];
    assert!(
        (msg.contains(&*gone.to_string_lossy()) || msg.contains(&*real.to_string_lossy()))
            // (or, seen after the file took its place, no longer one)
            && (msg.contains("gone") || msg.contains("no longer a directory")),
        "{msg}"
    );
    assert!(!h.core().is_watching());
    let _ = h.close(true);
}

#[cfg(target_os = "linux")]
#[test]
fn a_removed_directory_is_reported_by_the_os_event() {
    // the real backend (inotify) and its event for the directory itself.
    // (Linux sends it when the directory's last reference goes: the document's
    // directory holds no open file; the journal's does, so its removal is for
    // the stat check below.)
    removed_dir(
        WatchSetup {
            timing: WatchTiming {
                rescan: NEVER,
                ..WatchTiming::default()
            },
            ..WatchSetup::default()
        },
        false,
    );
}

fn stat_check_only(backend: Arc<dyn tad_store_core::watch::Backend>) -> WatchSetup {
    WatchSetup {
        timing: WatchTiming {
            rescan: Duration::from_millis(20),
            ..WatchTiming::default()
        },
        backend,
        ..WatchSetup::default()
    }
}

#[test]
fn a_removed_directory_is_reported_by_the_stat_check() {
    // a backend that says nothing at all
    removed_dir(stat_check_only(Arc::new(DoubleBackend::default())), false);
}

#[cfg(target_os = "linux")]
#[test]
fn a_removed_journal_directory_is_reported_by_the_stat_check() {
    // inotify says nothing while the journal and lock are open in the
    // directory (Windows would not let it be removed at all)
    removed_dir(
        stat_check_only(Arc::new(tad_store_core::watch::NotifyBackend)),
        true,
    );
}

/// A clock that panics once armed (a bug on the watcher's own thread).
struct PanicClock(AtomicBool);

impl Clock for PanicClock {
    fn now(&self) -> Instant {
        if self.0.load(Ordering::Relaxed) {
            panic!("a bug on the watcher thread (a test)");
        }
        Instant::now()
    }
}

#[test]
fn a_panic_on_the_watcher_thread_is_reported_and_watch_starts_a_new_one() {
    let dir = tmp();
    let h = open(opts(dir.path()));
    set(&h, "a", "1");
    h.flush().unwrap();
    let rec = install(&h);
    let clock = Arc::new(PanicClock(AtomicBool::new(false)));
    h.watch_with(WatchSetup {
        timing: WatchTiming {
            rescan: Duration::from_millis(20),
            ..WatchTiming::default()
        },
        clock: clock.clone(),
        ..WatchSetup::default()
    })
    .unwrap();
    clock.0.store(true, Ordering::Relaxed);
    let ev = wait_for(&rec, |e| !stopped(e).is_empty());
    assert!(stopped(&ev)[0].contains("panic"), "{ev:?}");
    assert!(!h.core().is_watching());
    // watch() again: a new watcher, and edits arrive
    h.watch().unwrap();
    assert!(h.core().is_watching());
    save(&doc_path(dir.path()), r#"{"a": 9}"#);
    wait_for(&rec, |e| !external_keys(e).is_empty());
    h.close(false).unwrap();
}

/// A save in progress for a long time (a slow program writing the file in
/// place, bit by bit) is not damage: while the file keeps changing, however
/// long it stays unparseable, nothing is reported, and the finished file is
/// applied. (The watcher used to count its looks at an unparseable file across
/// different writes, and reported a burst of in-place rewrites as damaged.)
#[test]
fn a_file_that_keeps_changing_while_unparseable_is_a_save_in_progress() {
    use std::io::Write;
    let dir = tmp();
    let h = open(opts(dir.path()));
    set(&h, "a", "1");
    h.flush().unwrap();
    let rec = install(&h);
    h.watch().unwrap();
    let path = doc_path(dir.path());
    let mut f = std::fs::File::create(&path).unwrap(); // truncated in place
    f.write_all(b"{\"a\": ").unwrap();
    // more than the watcher's retries (3 looks, 60 ms apart) of an
    // unparseable file, with a change every 5 ms
    let until = Instant::now() + Duration::from_millis(600);
    while Instant::now() < until {
        f.write_all(b" ").unwrap();
        f.flush().unwrap();
        std::thread::sleep(Duration::from_millis(5));
    }
    f.write_all(b"2}").unwrap();
    drop(f);
    wait_for(&rec, |_| get(&h, "a").as_deref() == Some("2"));
    let events = rec.take();
    assert!(
        !events
            .iter()
            .any(|e| matches!(e, Event::InvalidExternalChange { .. })),
        "reported as damaged: {events:?}"
    );
    h.close(false).unwrap();
}
