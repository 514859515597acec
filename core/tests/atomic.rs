//! Atomic read-modify-writes across writers: `Handle::update` and
//! `Handle::transaction` run on the latest state of every writer (each with a
//! core of its own, as another process has) and nothing is written between
//! their read and their write.

mod common;

use std::sync::{Arc, Barrier};
use std::thread;

use common::*;
use tad_store_core::atomic::json_text;
use tad_store_core::value::Value;
use tad_store_core::StoreOptions;

fn num(v: Option<&Value>) -> Option<f64> {
    match v {
        Some(Value::Number(n)) => Some(*n),
        _ => None,
    }
}

fn increment(v: Option<&Value>) -> Option<Vec<u8>> {
    let n = num(v).unwrap_or(0.0);
    Some(format!("{}", n + 1.0).into_bytes())
}

fn counter_run(o: StoreOptions, writers: usize, per: usize) {
    let dir_opts = o.clone();
    let start = Arc::new(Barrier::new(writers));
    let threads: Vec<_> = (0..writers)
        .map(|_| {
            let o = o.clone();
            let start = start.clone();
            thread::spawn(move || {
                let h = open(o);
                start.wait();
                for _ in 0..per {
                    h.update("n", C, increment).unwrap();
                }
                h.close(false).unwrap();
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let h = open(dir_opts);
    assert_eq!(get(&h, "n").as_deref(), Some(&*(writers * per).to_string()));
    // one history entry per update, named so
    let hist = h.history().unwrap();
    assert!(hist.iter().all(|c| c.op == "update"));
}

#[test]
fn four_writers_times_a_thousand_increments_give_four_thousand_deferred() {
    let dir = tmp();
    let mut o = opts(dir.path());
    o.history_max = 10;
    counter_run(o, 4, 1000);
}

#[test]
fn four_writers_times_a_thousand_increments_give_four_thousand_sync() {
    let dir = tmp();
    let mut o = sync(opts(dir.path()));
    o.history_max = 10;
    counter_run(o, 4, 250);
}

#[test]
fn plain_sets_lose_increments_that_updates_keep() {
    // the race update() closes: get + set from two writers (only a sanity
    // check that the counter test above would catch a non-atomic update)
    let dir = tmp();
    let o = opts(dir.path());
    let a = open(o.clone());
    let b = open(o);
    set(&a, "n", "0");
    a.flush().unwrap();
    // b reads 0 before a's increment is visible to it, then both write 1
    let seen_b = get(&b, "n");
    set(&a, "n", "1");
    a.flush().unwrap();
    let seen_b: i64 = seen_b.map_or(0, |t| t.parse().unwrap());
    set(&b, "n", &format!("{}", seen_b + 1));
    b.flush().unwrap();
    assert_eq!(get(&b, "n").as_deref(), Some("1"));
    // update reads the latest state instead
    b.update("n", C, increment).unwrap();
    a.update("n", C, increment).unwrap();
    a.flush().unwrap();
    assert_eq!(get(&a, "n").as_deref(), Some("3"));
}

#[test]
fn update_returning_none_changes_nothing_and_releases_the_lock() {
    let dir = tmp();
    let o = opts(dir.path());
    let a = open(o.clone());
    let b = open(o);
    set(&a, "k", "1");
    let (_, change) = a.update("k", C, |_| None).unwrap();
    assert!(change.is_none());
    // another writer can take the lock at once
    b.update("k", C, increment).unwrap();
    b.flush().unwrap();
    a.update("k", C, increment).unwrap();
    assert_eq!(get(&a, "k").as_deref(), Some("3"));
}

#[test]
fn update_sees_other_writers_changes_and_reports_them() {
    let dir = tmp();
    let o = opts(dir.path());
    let a = open(o.clone());
    let b = open(o);
    set(&b, "other", "\"x\"");
    set(&b, "n", "41");
    b.flush().unwrap();
    let (remote, change) = a.update("n", C, increment).unwrap();
    let mut keys: Vec<_> = remote.iter().map(|c| c.key.clone()).collect();
    keys.sort();
    assert_eq!(keys, ["n", "other"]);
    let change = change.unwrap();
    assert_eq!(num(change[0].old.as_ref()), Some(41.0));
    assert_eq!(get(&a, "n").as_deref(), Some("42"));
}

#[test]
fn nested_sections_on_one_handle_are_refused_with_e_nested() {
    let dir = tmp();
    let h = open(opts(dir.path()));
    let r = h.transaction(|h| {
        let e = h.update("n", C, increment).unwrap_err();
        assert_eq!(e.code(), "E_NESTED");
        let e = h.transaction(|_| Ok(())).unwrap_err();
        assert_eq!(e.code(), "E_NESTED");
        Ok(7)
    });
    assert_eq!(r.unwrap().1, 7);
    // the section was ended: a new one works
    h.update("n", C, increment).unwrap();
    assert_eq!(get(&h, "n").as_deref(), Some("1"));
}

#[test]
fn a_failing_transaction_changes_nothing_and_writes_nothing() {
    let dir = tmp();
    let h = open(opts(dir.path()));
    set(&h, "a", "1");
    h.flush().unwrap();
    let before = h.history().unwrap().len();
    let r: tad_store_core::Result<((), ())> = h
        .transaction(|h| {
            set(h, "a", "2");
            set(h, "b", "3");
            Err(tad_store_core::Error::InvalidArgument("midway".into()))
        })
        .map(|(_, v)| ((), v));
    assert_eq!(r.unwrap_err().code(), "E_INVALID_ARGUMENT");
    assert_eq!(text(&h), r#"{"a":1}"#);
    h.flush().unwrap();
    assert_eq!(h.history().unwrap().len(), before);
    drop(h);
    let h = open(opts(dir.path()));
    assert_eq!(text(&h), r#"{"a":1}"#);
}

#[test]
fn concurrent_transactions_moving_values_keep_the_total() {
    for o in [
        opts as fn(&std::path::Path) -> StoreOptions,
        |d: &std::path::Path| sync(opts(d)),
    ] {
        let dir = tmp();
        let o = o(dir.path());
        let keys = ["a", "b", "c", "d"];
        {
            let h = open(o.clone());
            for k in keys {
                set(&h, k, "100");
            }
            h.close(false).unwrap();
        }
        let writers = 4;
        let per = 150;
        let start = Arc::new(Barrier::new(writers));
        let threads: Vec<_> = (0..writers)
            .map(|w| {
                let o = o.clone();
                let start = start.clone();
                thread::spawn(move || {
                    let h = open(o);
                    start.wait();
                    for i in 0..per {
                        let from = keys[(w + i) % 4];
                        let to = keys[(w + i + 1 + i % 3) % 4];
                        if from == to {
                            continue;
                        }
                        let amount = (i % 7 + 1) as f64;
                        h.transaction(|h| {
                            let f = h.get_with(from, num).unwrap().unwrap();
                            let t = h.get_with(to, num).unwrap().unwrap();
                            set(h, from, &format!("{}", f - amount));
                            set(h, to, &format!("{}", t + amount));
                            Ok(())
                        })
                        .unwrap();
                    }
                    h.close(false).unwrap();
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let h = open(o);
        let total: f64 = keys
            .iter()
            .map(|k| h.get_with(k, num).unwrap().unwrap())
            .sum();
        assert_eq!(total, 400.0);
        // every transaction is one history entry
        assert!(h
            .history()
            .unwrap()
            .iter()
            .all(|c| c.op == "transaction" || c.op == "set"));
    }
}

#[test]
fn json_text_round_trips_a_value() {
    let dir = tmp();
    let h = open(opts(dir.path()));
    set(&h, "v", r#"{"x":[1,"two",null]}"#);
    h.update("v", C, |v| v.map(json_text)).unwrap();
    assert_eq!(get(&h, "v").as_deref(), Some(r#"{"x":[1,"two",null]}"#));
}

#[test]
fn closing_a_handle_inside_its_section_ends_it() {
    // (a worker thread terminated inside update(): its environment's cleanup
    // closes the handle) another thread's section, and another writer, go on
    let dir = tmp();
    let o = opts(dir.path());
    let shared = tad_store_core::registry::open(o.clone()).unwrap();
    let other = tad_store_core::registry::open(o.clone()).unwrap();
    shared.atomic_begin().unwrap();
    shared.begin().unwrap();
    set(&shared, "half", "1");
    shared.close(false).unwrap();
    // the open transaction was undone, the section ended: no wait (a
    // deadline fails loudly instead of hanging)
    let (tx, rx) = std::sync::mpsc::channel();
    let other = thread::spawn(move || {
        other.update("n", C, increment).unwrap();
        tx.send(()).unwrap();
        other
    });
    rx.recv_timeout(std::time::Duration::from_secs(60))
        .expect("update() waited for a section whose handle was closed");
    let other = other.join().unwrap();
    assert_eq!(get(&other, "half"), None);
    other.flush().unwrap();
    let elsewhere = open(o);
    elsewhere.update("n", C, increment).unwrap();
    assert_eq!(get(&elsewhere, "n").as_deref(), Some("2"));
}
