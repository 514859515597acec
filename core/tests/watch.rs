//! The watcher against real files: external edits arrive as one
//! `external-change` with the keys that changed, own writes never echo, an
//! edit saved at the instant the writer replaces the file is kept, bad edits
//! are refused, another writer's changes arrive. Waits poll the recorded
//! events with a deadline (they come from the watcher thread).

mod common;

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;
use tad_store_core::events::{Event, Origin};
use tad_store_core::store::ExternalOutcome;

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
