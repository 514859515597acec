//! Several writers on one store file: each opens its own core (its own lock
//! file descriptor and replica, as another process would), and they share the
//! journal. No update is lost; sequence numbers and the hash chain stay
//! global; another writer's changes arrive with change events no later than
//! our next write; trimming by one never strands another.

mod common;

use std::sync::Arc;
use std::thread;

use common::*;
use tad_store_core::events::{Event, Origin};
use tad_store_core::history::Target;

#[test]
fn two_and_four_writers_on_distinct_keys_lose_nothing() {
    for writers in [2usize, 4] {
        let dir = tmp();
        let per = 1000;
        let handles: Vec<_> = (0..writers)
            .map(|w| {
                let o = opts(dir.path());
                thread::spawn(move || {
                    let h = open(o);
                    for i in 0..per {
                        set(&h, &format!("w{w}.k{i}"), &i.to_string());
                        if i % 250 == 0 {
                            h.flush().unwrap();
                        }
                    }
                    h.close(false).unwrap();
                })
            })
            .collect();
        for t in handles {
            t.join().unwrap();
        }
        let h = open(opts(dir.path()));
        for w in 0..writers {
            assert_eq!(
                h.get_with(&format!("w{w}"), |v| v
                    .and_then(|v| v.as_object().map(|m| m.len())))
                    .unwrap(),
                Some(per),
                "{writers} writers: writer {w}"
            );
        }
        assert!(h.report().journal_damage.is_none());
        // one global, gapless sequence
        let (changes, _) = journal_seqs(dir.path());
        assert!(changes.windows(2).all(|p| p[1] == p[0] + 1), "gapless");
        assert_eq!(*changes.last().unwrap() as usize, writers * per);
    }
}

#[test]
fn writers_on_one_shared_key_keep_every_write_in_order() {
    let dir = tmp();
    let mut o = opts(dir.path());
    o.history_max = 10_000;
    let per = 500;
    let threads: Vec<_> = (0..2)
        .map(|w| {
            let o = o.clone();
            thread::spawn(move || {
                let h = open(o);
                for i in 0..per {
                    set(&h, "shared", &format!("\"{w}:{i}\""));
                }
                h.close(false).unwrap();
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let h = open(o);
    let hist = h.history().unwrap();
    // every write is an entry; each writer's in its own order
    for w in 0..2 {
        let mine: Vec<String> = hist
            .iter()
            .filter_map(|e| match e.patch.first() {
                Some(tad_store_core::doc::PatchOp::Add { value, .. })
                | Some(tad_store_core::doc::PatchOp::Replace { value, .. }) => match value {
                    tad_store_core::value::Value::String(s) if s.starts_with(&format!("{w}:")) => {
                        Some(s.to_string())
                    }
                    _ => None,
                },
                _ => None,
            })
            .collect();
        let expected: Vec<String> = (0..per).map(|i| format!("{w}:{i}")).collect();
        assert_eq!(mine, expected, "writer {w}");
    }
    // the final value is the last entry's
    let last = get(&h, "shared").unwrap();
    assert!(last == "\"0:499\"" || last == "\"1:499\"", "{last}");
}

#[test]
fn another_writers_changes_arrive_with_events_at_our_next_write_and_on_reload() {
    let dir = tmp();
    let a = open(opts(dir.path()));
    let b = open(opts(dir.path()));
    let events = install(&a);
    set(&a, "mine", "1");
    a.flush().unwrap();
    set(&b, "theirs", "{\"x\":1}");
    set(&b, "mine", "2");
    b.flush().unwrap();
    // not yet seen by a (no watching, no write)
    assert_eq!(get(&a, "theirs"), None);
    // a's next write catches up first, then is planned on the latest state
    set(&a, "other", "true");
    a.flush().unwrap();
    assert_eq!(text(&a), r#"{"mine":2,"theirs":{"x":1},"other":true}"#);
    let got = events.take();
    let changed: Vec<String> = got
        .iter()
        .filter_map(|e| match e {
            Event::Changed {
                origin: Origin::Remote,
                changes,
            } => Some(changes.iter().map(|c| c.key.clone()).collect::<Vec<_>>()),
            _ => None,
        })
        .flatten()
        .collect();
    assert_eq!(changed, ["mine", "theirs"], "exactly the keys that changed");
    // reload() gets them at once, as a change list
    set(&b, "late", "5");
    b.flush().unwrap();
    let changes = a.reload().unwrap();
    assert_eq!(changes.len(), 1);
    assert_eq!(changes[0].key, "late");
    assert_eq!(get(&a, "late").as_deref(), Some("5"));
    // the history is one chain with both writers' entries, and rolls back across them
    let (plan, _) = a.rollback(Target::Seq(1), None).unwrap();
    assert_eq!(plan.reverted, 4);
    assert_eq!(text(&a), r#"{"mine":1}"#);
    // (deferred: the rollback reaches the journal, and so other writers, once
    // a's writer has written it — what flush() waits for)
    a.flush().unwrap();
    set(&b, "after", "1");
    b.flush().unwrap();
    assert_eq!(
        text(&b),
        r#"{"mine":1,"after":1}"#,
        "b caught up with a's rollback"
    );
}

#[test]
fn a_queued_change_is_re_planned_on_the_other_writers_latest_state() {
    let dir = tmp();
    let a = open(opts(dir.path()));
    let b = open(opts(dir.path()));
    set(&a, "obj", "{\"a\":1}");
    a.flush().unwrap();
    set(&b, "obj.b", "2");
    b.flush().unwrap();
    // a still sees {a:1}; its set of obj.c is an operation, not a patch over {a:1}
    set(&a, "obj.c", "3");
    a.flush().unwrap();
    assert_eq!(get(&a, "obj").as_deref(), Some("{\"a\":1,\"b\":2,\"c\":3}"));
    b.reload().unwrap();
    assert_eq!(get(&b, "obj").as_deref(), Some("{\"a\":1,\"b\":2,\"c\":3}"));
}

#[test]
fn trimming_and_checkpoints_by_one_writer_never_strand_another() {
    let dir = tmp();
    let mut o = opts(dir.path());
    o.history_max = 4;
    let a = open(o.clone());
    let b = open(o.clone());
    for round in 0..40 {
        for i in 0..5 {
            set(&a, &format!("a{i}"), &(round * 10 + i).to_string());
        }
        a.flush().unwrap(); // checkpoints and trims, replacing the journal
        set(&b, &format!("b{}", round % 3), &round.to_string());
        if round % 7 == 0 {
            b.flush().unwrap();
        }
    }
    a.flush().unwrap();
    b.flush().unwrap();
    let expect = {
        b.reload().unwrap();
        text(&b)
    };
    a.reload().unwrap();
    assert_eq!(text(&a), expect);
    a.close(false).unwrap();
    b.close(false).unwrap();
    let c = open(o);
    assert!(c.report().journal_damage.is_none());
    assert_eq!(text(&c), expect);
    assert_eq!(get(&c, "a4").as_deref(), Some("394"));
    assert_eq!(get(&c, "b0").as_deref(), Some("39"));
    let (changes, _) = journal_seqs(dir.path());
    assert!(changes.len() < 60, "trimmed: {}", changes.len());
}

#[test]
fn a_writer_that_fell_behind_a_trim_reloads_from_the_document() {
    let dir = tmp();
    let mut o = opts(dir.path());
    o.history_max = 2;
    let slow = open(o.clone());
    set(&slow, "s", "0");
    slow.flush().unwrap();
    let fast = open(o.clone());
    for i in 0..200 {
        set(&fast, "f", &i.to_string());
        if i % 20 == 0 {
            fast.flush().unwrap();
        }
    }
    fast.flush().unwrap();
    // slow's last known entry is long trimmed away
    let events = install(&slow);
    set(&slow, "s", "1");
    slow.flush().unwrap();
    assert_eq!(text(&slow), r#"{"s":1,"f":199}"#);
    assert!(events
        .take()
        .iter()
        .any(|e| matches!(e, Event::Changed { .. })));
    fast.reload().unwrap();
    assert_eq!(text(&fast), r#"{"s":1,"f":199}"#);
}

#[test]
fn a_writer_that_never_read_a_journal_line_catches_up_with_a_trimmed_journal() {
    // `late` opened the store while its journal was empty: it knows no line
    // and none of the journal's first bytes. Meanwhile another writer fills
    // the journal and trims it (replacing the file). Where the journal is not
    // kept open between lock holds (Windows), only the new journal's content
    // can tell `late` that it does not continue from nothing; taking its first
    // line for damage cut the whole journal away (every change after the
    // document file was lost, and the sequence went back to 1).
    let dir = tmp();
    let mut o = opts(dir.path());
    o.history_max = 2;
    let late = open(o.clone());
    let fast = open(o.clone());
    for i in 0..200 {
        set(&fast, &format!("f{i}"), &i.to_string());
        if i % 20 == 0 {
            fast.flush().unwrap();
        }
    }
    fast.flush().unwrap();
    set(&late, "late", "1");
    late.flush().unwrap();
    assert_eq!(get(&late, "f199").as_deref(), Some("199"));
    fast.close(false).unwrap();
    late.close(false).unwrap();
    let c = open(o);
    assert!(
        c.report().journal_damage.is_none(),
        "{:?}",
        c.report().journal_damage
    );
    for i in 0..200 {
        assert_eq!(get(&c, &format!("f{i}")), Some(i.to_string()), "f{i}");
    }
    assert_eq!(get(&c, "late").as_deref(), Some("1"));
    let (changes, _) = journal_seqs(dir.path());
    assert_eq!(*changes.last().unwrap(), 201);
}

#[test]
fn a_change_that_no_longer_fits_the_schema_after_another_writers_change_is_dropped_and_reported() {
    let dir = tmp();
    let schema = tad_store_core::schema::Schema::new(
        None,
        Some(&serde_json_like(
            r#"{"type":"object","properties":{"a":{"type":"number"},"b":{"type":"number"}},"not":{"required":["a","b"]}}"#,
        )),
    )
    .unwrap();
    let mut o = opts(dir.path());
    o.schema = Some(Arc::new(schema));
    let a = open(o.clone());
    let b = open(o);
    set(&b, "b", "1");
    b.flush().unwrap();
    let events = install(&a);
    // valid on what a sees ({}), not with b's change
    set(&a, "a", "1");
    a.flush().unwrap();
    assert_eq!(text(&a), r#"{"b":1}"#, "dropped, and the memory says so");
    let got = events.take();
    assert!(got.iter().any(|e| matches!(
        e,
        Event::ChangeRejected { error, .. } if error.code() == "E_SCHEMA"
    )));
}

fn serde_json_like(s: &str) -> tad_store_core::schema::Json {
    tad_store_core::schema::parse_json(s).unwrap()
}

/// The lock's timeout is for a holder that keeps it without writing (a hung
/// process), not for a busy lock: behind a holder that keeps the journal
/// changing a write waits however long it takes; behind one that writes
/// nothing for `LOCK_TIMEOUT` it fails with `E_LOCKED`, writing nothing.
#[test]
fn a_busy_lock_is_waited_for_and_only_a_silent_holder_times_out() {
    use std::time::{Duration, Instant, SystemTime};
    use tad_store_core::log::LOCK_TIMEOUT;

    let dir = tmp();
    let s = open(sync(opts(dir.path())));
    set(&s, "before", "1");
    let lock_path = dir.path().join("storeHistory").join("config.json.lock");
    let journal = journal_path(dir.path());
    let take_lock = || {
        // (OS file locks conflict between two open files, even in one process)
        let f = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(&lock_path)
            .unwrap();
        f.lock().unwrap();
        f
    };

    // longer than the timeout, but the journal changes meanwhile (as when
    // other writers take turns with the lock)
    let holder = take_lock();
    let busy = {
        let journal = journal.clone();
        thread::spawn(move || {
            let f = std::fs::OpenOptions::new()
                .write(true)
                .open(&journal)
                .unwrap();
            let start = Instant::now();
            while start.elapsed() < LOCK_TIMEOUT + Duration::from_secs(2) {
                f.set_modified(SystemTime::now()).unwrap();
                thread::sleep(Duration::from_millis(100));
            }
            drop(holder);
        })
    };
    set(&s, "during", "2"); // sync: returns once it could take the lock and append
    busy.join().unwrap();
    assert_eq!(get(&s, "during").as_deref(), Some("2"));

    // a silent holder: E_LOCKED once the timeout passed with no journal change
    let holder = take_lock();
    let before = std::fs::read(&journal).unwrap();
    let e = s.set("silent", b"3", C).unwrap_err();
    assert_eq!(e.code(), "E_LOCKED");
    assert_eq!(get(&s, "silent"), None, "nothing applied");
    assert_eq!(std::fs::read(&journal).unwrap(), before, "nothing written");
    drop(holder);
    set(&s, "after", "4");
    s.close(false).unwrap();
    assert_eq!(
        text(&open(opts(dir.path()))),
        r#"{"before":1,"during":2,"after":4}"#
    );
}
