//! Schema defaults as conf 10.2 applies them, through the store: re-applied by
//! the change that removes them, in the same journal entry; re-planned on the
//! latest state when another process changed the store in between; undone
//! with the change (a refused change, a failed sync write, a rollback);
//! replayed exactly after a reopen; sanitize refilling `defaults`.

mod common;

use std::sync::Arc;

use common::*;
use tad_store_core::defaults::Defaults;
use tad_store_core::fs::{FaultFs, FaultKind, FaultPlan};
use tad_store_core::history::Target;
use tad_store_core::schema::Schema;
use tad_store_core::value::{parse, Value};
use tad_store_core::{Call, StoreOptions};

const ENOSPC: i32 = 28;

fn with_schema(mut o: StoreOptions, schema: serde_json::Value, top: Option<&str>) -> StoreOptions {
    o.schema = Some(Arc::new(Schema::new(Some(&schema), None).unwrap()));
    let top = top.map(|t| match parse(t.as_bytes()).unwrap() {
        Value::Object(m) => m,
        _ => panic!("defaults must be an object"),
    });
    o.defaults = Arc::new(Defaults::new(top, Some(&schema), None).unwrap());
    o
}

fn schema() -> serde_json::Value {
    serde_json::json!({
        "a": { "type": "boolean", "default": true },
        "o": { "type": "object", "default": {}, "properties": { "t": { "type": "string", "default": "" } } },
        "c": { "type": "object", "properties": { "k": { "type": "boolean", "default": true } } }
    })
}

/// The (op, patch paths) of every change entry in the journal.
fn entries(dir: &std::path::Path) -> Vec<(String, Vec<String>)> {
    let bytes = std::fs::read(journal_path(dir)).unwrap_or_default();
    String::from_utf8(bytes)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|e| e.get("op").is_some())
        .map(|e| {
            let paths = e["patch"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| {
                    format!(
                        "{} {}",
                        p["op"].as_str().unwrap(),
                        p["path"].as_str().unwrap()
                    )
                })
                .collect();
            (e["op"].as_str().unwrap().to_string(), paths)
        })
        .collect()
}

#[test]
fn a_deleted_default_comes_back_in_the_same_journal_entry_and_survives_a_reopen() {
    let dir = tmp();
    let o = with_schema(opts(dir.path()), schema(), None);
    let h = open(o);
    h.fill_defaults(false, C).unwrap();
    assert_eq!(
        text(&h),
        r#"{"a":true,"o":{"t":""}}"#,
        "nothing under the absent `c`"
    );
    set(&h, "a", "false");
    set(&h, "o.t", "\"X\"");
    let changes = h.delete("a", C).unwrap().unwrap();
    assert_eq!(changes.len(), 1);
    assert_eq!(changes[0].key, "a");
    assert!(changes[0]
        .new
        .as_ref()
        .is_some_and(|v| matches!(v, Value::Bool(true))));
    h.delete("o.t", C).unwrap();
    assert_eq!(text(&h), r#"{"o":{"t":""},"a":true}"#);
    h.flush().unwrap();
    let e = entries(dir.path());
    assert_eq!(
        e[e.len() - 2..],
        [
            (
                "delete".to_string(),
                vec!["remove /a".to_string(), "add /a".to_string()]
            ),
            (
                "delete".to_string(),
                vec!["remove /o/t".to_string(), "add /o/t".to_string()]
            ),
        ]
    );
    assert_eq!(
        std::fs::read_to_string(doc_path(dir.path())).unwrap(),
        "{\n\t\"o\": {\n\t\t\"t\": \"\"\n\t},\n\t\"a\": true\n}"
    );
    let after = text(&h);
    h.close(false).unwrap();
    // the journal alone rebuilds it
    std::fs::remove_file(doc_path(dir.path())).unwrap();
    let again = open(opts(dir.path()));
    assert_eq!(text(&again), after);
}

#[test]
fn a_set_fills_the_value_it_writes_and_reports_what_changed_beside_the_key() {
    let dir = tmp();
    let h = open(with_schema(opts(dir.path()), schema(), None));
    let (changes, exact) = h.set("o", b"{\"z\":1}", C).unwrap().unwrap();
    assert!(!exact, "the value stored is not the one given");
    assert_eq!(get(&h, "o").unwrap(), r#"{"z":1,"t":""}"#);
    assert_eq!(changes.len(), 1);
    // a parent created by a dot path gets its other defaults; reported beside the key
    let deep = serde_json::json!({
        "p": { "type": "object", "properties": { "d": { "default": 1 }, "q": { "type": "object", "properties": { "e": { "default": 2 } } } } }
    });
    let dir2 = tmp();
    let h2 = open(with_schema(opts(dir2.path()), deep, None));
    let (changes, exact) = h2.set("p.q.r", b"1", C).unwrap().unwrap();
    assert!(!exact);
    assert_eq!(text(&h2), r#"{"p":{"q":{"r":1,"e":2},"d":1}}"#);
    let keys: Vec<_> = changes.iter().map(|c| c.key.as_str()).collect();
    assert_eq!(keys, ["p.q.r", "p.d", "p.q.e"]);
    // a plain value: exact, one change, the fast path
    let (changes, exact) = h.set("a", b"false", C).unwrap().unwrap();
    assert!(exact && changes.len() == 1);
}

#[test]
fn a_change_the_schema_refuses_is_undone_with_the_defaults_it_brought() {
    let dir = tmp();
    let s = serde_json::json!({ "n": { "type": "number", "default": "not a number" }, "m": { "type": "number" } });
    let h = open(with_schema(opts(dir.path()), s, None));
    set(&h, "n", "1");
    set(&h, "m", "2");
    let before = text(&h);
    assert!(
        h.delete("n", C).is_err(),
        "the default refilled fails the schema"
    );
    assert_eq!(text(&h), before);
}

#[test]
fn a_failed_sync_write_undoes_the_change_and_its_defaults() {
    let dir = tmp();
    let fault = FaultFs::new(None);
    let o = with_schema(
        sync(opts_fs(dir.path(), Arc::new(fault.clone()))),
        schema(),
        None,
    );
    let h = open(o);
    set(&h, "a", "false");
    let before = text(&h);
    fault.arm(FaultPlan {
        kind: FaultKind::Sync,
        at: 1,
        errno: ENOSPC,
        sticky: false,
    });
    let e = h.delete("a", C).unwrap_err();
    assert_eq!(e.code(), "E_NOSPC");
    assert_eq!(
        text(&h),
        before,
        "undone in memory: neither the delete nor the refill stayed"
    );
    fault.heal();
    h.delete("a", C).unwrap();
    assert_eq!(get(&h, "a").unwrap(), "true");
    h.close(false).unwrap();
    let again = open(opts(dir.path()));
    assert_eq!(get(&again, "a").unwrap(), "true");
}

#[test]
fn a_queued_change_is_replanned_with_its_defaults_on_what_another_process_wrote() {
    let dir = tmp();
    let a = open(with_schema(opts(dir.path()), schema(), None));
    set(&a, "o", "{\"t\":\"mine\"}");
    a.flush().unwrap();
    // A's delete waits in an open transaction; B (another process, no schema) rewrites `o`
    a.begin().unwrap();
    a.delete("o.t", C).unwrap();
    assert_eq!(get(&a, "o").unwrap(), r#"{"t":""}"#);
    let b = open(sync(opts(dir.path())));
    set(&b, "o", "{\"t\":\"theirs\",\"z\":1}");
    a.commit_txn("delete").unwrap();
    a.flush().unwrap();
    // planned again on B's state: t removed there, and refilled
    assert_eq!(get(&a, "o").unwrap(), r#"{"z":1,"t":""}"#);
    b.reload().unwrap();
    assert_eq!(get(&b, "o").unwrap(), r#"{"z":1,"t":""}"#);
}

#[test]
fn rollback_to_before_a_refill_restores_exactly() {
    let dir = tmp();
    let h = open(with_schema(opts(dir.path()), schema(), None));
    set(&h, "a", "false");
    h.flush().unwrap();
    let seq = h.status().seq;
    let before = text(&h);
    h.delete("a", C).unwrap();
    set(&h, "o", "{}");
    h.flush().unwrap();
    h.rollback(Target::Seq(seq), None).unwrap();
    assert_eq!(
        text(&h),
        before,
        "a rollback is exact: no default is filled into it"
    );
}

#[test]
fn a_delete_that_deletes_nothing_still_fills_the_object_it_names() {
    let dir = tmp();
    // two instances on one file in one process (one core)
    let with =
        tad_store_core::registry::open(with_schema(opts(dir.path()), schema(), None)).unwrap();
    with.fill_defaults(false, C).unwrap();
    // the other instance, without the schema, removes it
    let plain = tad_store_core::registry::open(opts(dir.path())).unwrap();
    plain.delete("a", C).unwrap();
    assert_eq!(get(&with, "a"), None);
    set(&with, "unrelated", "1");
    assert_eq!(
        get(&with, "a"),
        None,
        "a change elsewhere does not walk the document"
    );
    assert!(
        with.delete("a", C).unwrap().is_some(),
        "conf's validation refills it"
    );
    assert_eq!(get(&with, "a").unwrap(), "true");
    // and one that changes nothing at all is no change
    assert!(with
        .delete(
            "missing",
            Call {
                validate: true,
                values: false
            }
        )
        .unwrap()
        .is_none());
}

#[test]
fn opening_merges_defaults_as_conf_and_sanitize_refills_them() {
    let dir = tmp();
    std::fs::write(doc_path(dir.path()), r#"{"keep":"x","other":2}"#).unwrap();
    let s = serde_json::json!({ "keep": { "type": "number" } });
    let h = open(with_schema(opts(dir.path()), s, Some(r#"{"keep":1}"#)));
    h.fill_defaults(true, C).unwrap();
    assert_eq!(
        text(&h),
        r#"{"keep":"x","other":2}"#,
        "the file has every `defaults` key"
    );
    h.sanitize(C).unwrap();
    assert_eq!(text(&h), r#"{"keep":1,"other":2}"#);
}

#[test]
fn several_sets_in_one_fill_the_holes_an_earlier_one_left_with_tuple_defaults() {
    let dir = tmp();
    let s = serde_json::json!({ "list": { "type": "array", "items": [{ "default": [] }, {}] } });
    let h = open(with_schema(opts(dir.path()), s, None));
    // `list.1` past the end of the `list` the first entry made: `list.0` is a hole for Ajv
    h.set_many(br#"{"list":[],"list.1.extra":1}"#, "set", C)
        .unwrap();
    assert_eq!(text(&h), r#"{"list":[[],{"extra":1}]}"#);
    // a later entry writing into an earlier entry's hole keeps its value
    h.set_many(br#"{"list":[],"list.2":"x","list.0":"mine"}"#, "set", C)
        .unwrap();
    assert_eq!(text(&h), r#"{"list":["mine",null,"x"]}"#);
    // deleting an element that is null already makes it a hole too
    h.delete("list.1", C).unwrap();
    assert_eq!(text(&h), r#"{"list":["mine",null,"x"]}"#, "no default at 1");
    set(&h, "list.0", "null");
    h.delete("list.0", C).unwrap();
    assert_eq!(text(&h), r#"{"list":[[],null,"x"]}"#);
}
