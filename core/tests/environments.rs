//! Several JS environments (the main thread, worker threads) with one file
//! open in one process: they share its core, each hears the changes the
//! others make (and only those), and a transaction belongs to the instance
//! that opened it — another instance's changes meanwhile are written before
//! it, and an instance that closes with its transaction open (its thread was
//! terminated inside the constructor) undoes it.

mod common;

use std::fs;
use std::sync::Arc;

use common::*;
use tad_store_core::events::{Event, Origin};
use tad_store_core::ops::KeyChange;
use tad_store_core::value::to_json;
use tad_store_core::{registry, Handle, StoreOptions};

/// An instance on the shared core, in environment `env`.
fn open_in(o: &StoreOptions, env: u64) -> Handle {
    let mut o = o.clone();
    o.env = env;
    registry::open(o).unwrap()
}

/// `(key, old, new)` of a change, values as compact JSON.
type Seen = (String, Option<String>, Option<String>);

fn keys_of(changes: &[KeyChange]) -> Vec<Seen> {
    let json = |v: &Option<tad_store_core::value::Value>| {
        v.as_ref()
            .map(|v| String::from_utf8(to_json(v, false)).unwrap())
    };
    changes
        .iter()
        .map(|c| (c.key.clone(), json(&c.old), json(&c.new)))
        .collect()
}

/// The changes in the `Changed` events of `events`, in order.
fn changed(events: &[Event]) -> Vec<(Origin, Vec<Seen>)> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Changed { origin, changes } => Some((*origin, keys_of(changes))),
            _ => None,
        })
        .collect()
}

fn recorder(h: &Handle) -> Arc<Recorder> {
    let r = Arc::new(Recorder::default());
    h.core().add_sink(h.env(), r.clone());
    r
}

fn s(v: &str) -> Option<String> {
    Some(v.to_string())
}

#[test]
fn a_change_is_told_to_the_other_environments_with_top_level_values_and_not_to_its_own() {
    let dir = tmp();
    let o = opts(dir.path());
    let main = open_in(&o, 1);
    let worker = open_in(&o, 2);
    assert!(Arc::ptr_eq(main.core(), worker.core()), "one core per file");
    let (heard_main, heard_worker) = (recorder(&main), recorder(&worker));
    set(&main, "a.b", "1");
    set(&worker, "c", "true");
    worker
        .set_many(br#"{"a.b":2,"d":"x"}"#, "setMultiple", C)
        .unwrap();
    worker.delete("c", C).unwrap();
    assert_eq!(
        changed(&heard_worker.take()),
        [(Origin::Thread, vec![("a".into(), None, s(r#"{"b":1}"#))])]
    );
    assert_eq!(
        changed(&heard_main.take()),
        [
            (Origin::Thread, vec![("c".into(), None, s("true"))]),
            (
                Origin::Thread,
                vec![
                    ("a".into(), s(r#"{"b":1}"#), s(r#"{"b":2}"#)),
                    ("d".into(), None, s(r#""x""#))
                ]
            ),
            (Origin::Thread, vec![("c".into(), s("true"), None)]),
        ]
    );
    // a change that changes nothing is not told
    set(&main, "d", r#""x""#);
    assert!(changed(&heard_worker.take()).is_empty());
    // an environment that stopped listening hears nothing more
    worker.core().remove_sink(2);
    set(&main, "e", "1");
    assert!(heard_worker.take().is_empty());
    main.close(false).unwrap();
    worker.close(false).unwrap();
}

#[test]
fn an_instance_closed_with_its_transaction_open_undoes_it_and_the_others_keep_writing() {
    let dir = tmp();
    let o = opts(dir.path());
    let main = open_in(&o, 1);
    let heard = recorder(&main);
    set(&main, "before", "1");
    // a worker's constructor: its transaction, then its thread is terminated
    let worker = open_in(&o, 2);
    worker.begin().unwrap();
    set(&worker, "migrated", "true");
    set(&main, "during", "1");
    assert_eq!(
        get(&main, "migrated").as_deref(),
        Some("true"),
        "visible while it runs"
    );
    worker.close(false).unwrap();
    assert_eq!(text(&main), r#"{"before":1,"during":1}"#);
    assert_eq!(
        changed(&heard.take()),
        [
            (Origin::Thread, vec![("migrated".into(), None, s("true"))]),
            (Origin::Thread, vec![("migrated".into(), s("true"), None)]),
        ]
    );
    // later changes are not swallowed by a dead transaction
    set(&main, "after", "2");
    main.flush().unwrap();
    assert_eq!(main.status().pending, 0);
    assert_eq!(
        fs::read_to_string(doc_path(dir.path())).unwrap(),
        "{\n\t\"before\": 1,\n\t\"during\": 1,\n\t\"after\": 2\n}"
    );
    main.close(false).unwrap();
    let again = open(o);
    assert_eq!(text(&again), r#"{"before":1,"during":1,"after":2}"#);
}

#[test]
fn another_instances_change_during_a_transaction_is_written_before_it() {
    let dir = tmp();
    let o = opts(dir.path());
    let a = open_in(&o, 1);
    let b = open_in(&o, 2);
    let heard_b = recorder(&b);
    a.begin().unwrap();
    set(&a, "k", "\"txn\"");
    set(&a, "t", "1");
    // b's change to the same key is made after, but written first
    set(&b, "k", "\"b\"");
    set(&b, "other", "1");
    assert_eq!(
        get(&a, "k").as_deref(),
        Some("\"b\""),
        "applied in the order made"
    );
    a.commit_txn("migration").unwrap();
    // the live document now shows the written order: the transaction last
    assert_eq!(text(&b), r#"{"k":"txn","other":1,"t":1}"#);
    let heard = changed(&heard_b.take());
    assert_eq!(
        heard.last().unwrap(),
        &(Origin::Thread, vec![("k".into(), s("\"b\""), s("\"txn\""))]),
        "the reordering is told"
    );
    b.flush().unwrap();
    let ops: Vec<String> = b.history().unwrap().iter().map(|e| e.op.clone()).collect();
    assert_eq!(ops, ["set", "set", "migration"]);
    a.close(false).unwrap();
    b.close(false).unwrap();
    assert_eq!(text(&open(o)), r#"{"k":"txn","other":1,"t":1}"#);
}

#[test]
fn two_instances_transactions_at_once_each_commit_or_abort_on_its_own() {
    let dir = tmp();
    let o = opts(dir.path());
    let a = open_in(&o, 1);
    let b = open_in(&o, 2);
    a.begin().unwrap();
    b.begin().unwrap();
    assert_eq!(
        a.begin().unwrap_err().code(),
        "E_TRANSACTION",
        "one per instance"
    );
    set(&a, "a", "1");
    set(&b, "b", "1");
    set(&a, "shared", "\"a\"");
    set(&b, "shared", "\"b\"");
    b.commit_txn("b").unwrap();
    // b is written first, a (still open) applies after it
    assert_eq!(get(&a, "shared").as_deref(), Some("\"a\""));
    let undone = a.abort_txn().unwrap();
    let mut undone: Vec<String> = keys_of(&undone).into_iter().map(|c| c.0).collect();
    undone.sort();
    assert_eq!(undone, ["a", "shared"]);
    assert_eq!(text(&a), r#"{"b":1,"shared":"b"}"#);
    a.flush().unwrap();
    let ops: Vec<String> = a.history().unwrap().iter().map(|e| e.op.clone()).collect();
    assert_eq!(ops, ["b"]);
    a.close(false).unwrap();
    b.close(false).unwrap();
    assert_eq!(text(&open(o)), r#"{"b":1,"shared":"b"}"#);
}

#[test]
fn a_flush_waits_for_the_changes_made_so_far_not_for_a_thread_that_keeps_writing() {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::time::Duration;
    let dir = tmp();
    let o = opts(dir.path());
    let main = open_in(&o, 1);
    let worker = Arc::new(open_in(&o, 2));
    let stop = Arc::new(AtomicBool::new(false));
    let writing = {
        let (worker, stop) = (worker.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut i = 0u64;
            while !stop.load(Ordering::Relaxed) {
                i += 1;
                set(&worker, "n", &i.to_string());
            }
        })
    };
    set(&main, "x", "1");
    // flush (and close, which flushes) return while the other thread writes on
    let (tx, rx) = std::sync::mpsc::channel();
    let flusher = {
        let main = Arc::new(main);
        let m = main.clone();
        std::thread::spawn(move || {
            let r = m.flush().and_then(|_| m.close(false));
            tx.send(r.map_err(|e| e.to_string())).unwrap();
        })
    };
    // generous: each writer round takes a full queue (20,000 changes) in a debug build
    let r = rx.recv_timeout(Duration::from_secs(300));
    stop.store(true, Ordering::Relaxed);
    writing.join().unwrap();
    flusher.join().unwrap();
    assert_eq!(
        r.expect("flush returned while another thread kept writing"),
        Ok(())
    );
    let file = fs::read_to_string(doc_path(dir.path())).unwrap();
    assert!(file.contains("\"x\": 1"), "{file}");
    worker.close(false).unwrap();
}
