//! `defaultsLayer`: the defaults are read through and never written. The
//! file, the journal and history hold the user's values only; reads show the
//! user's values deep-merged over the defaults, with the schema's defaults;
//! the schema checks that view; several writers (processes) each see it.

mod common;

use std::sync::Arc;

use common::*;
use tad_store_core::defaults::Defaults;
use tad_store_core::history::Target;
use tad_store_core::layer::Source;
use tad_store_core::schema::Schema;
use tad_store_core::value::{parse, to_json, Value};
use tad_store_core::{Call, Handle, StoreOptions};

fn layered(
    mut o: StoreOptions,
    top: Option<&str>,
    schema: Option<serde_json::Value>,
    root: Option<serde_json::Value>,
) -> StoreOptions {
    if schema.is_some() || root.is_some() {
        o.schema = Some(Arc::new(
            Schema::new(schema.as_ref(), root.as_ref()).unwrap(),
        ));
    }
    let top = top.map(|t| match parse(t.as_bytes()).unwrap() {
        Value::Object(m) => m,
        _ => panic!("defaults must be an object"),
    });
    o.defaults = Arc::new(Defaults::new(top, schema.as_ref(), root.as_ref()).unwrap());
    o.defaults_layer = true;
    o
}

const TOP: &str =
    r#"{"n":5,"ui":{"theme":"light","size":12,"panel":{"left":true,"right":false}},"list":[1,2]}"#;

fn schema() -> serde_json::Value {
    serde_json::json!({
        "n": { "type": "number" },
        "ui": { "type": "object", "properties": { "size": { "type": "number", "minimum": 6 } } },
        "s": { "type": "string", "default": "schema" },
        "c": { "type": "object", "properties": { "k": { "type": "boolean", "default": true } } }
    })
}

fn user_text(h: &Handle) -> String {
    String::from_utf8(to_json(&h.user_snapshot().unwrap(), false)).unwrap()
}

/// The document file as JSON (pretty or not), compacted.
fn file_json(dir: &std::path::Path) -> String {
    let bytes = std::fs::read(doc_path(dir)).unwrap_or_else(|_| b"{}".to_vec());
    let v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    v.to_string()
}

#[test]
fn the_file_holds_only_the_users_values_and_reads_show_them_over_the_defaults() {
    let dir = tmp();
    let h = open(layered(opts(dir.path()), Some(TOP), Some(schema()), None));
    // a new store shows the defaults, `defaults` first, then the schema's
    assert_eq!(
        text(&h),
        r#"{"n":5,"ui":{"theme":"light","size":12,"panel":{"left":true,"right":false}},"list":[1,2],"s":"schema"}"#
    );
    assert_eq!(h.size().unwrap(), 4);
    assert_eq!(user_text(&h), "{}");
    assert!(h.has("ui.panel.left").unwrap());
    assert!(!h.has("c").unwrap());
    // a dot path writes only the user's value; the view merges it
    set(&h, "ui.theme", r#""dark""#);
    set(&h, "ui.panel.right", "true");
    set(&h, "c", "{}");
    set(&h, "extra", "1");
    assert_eq!(
        user_text(&h),
        r#"{"ui":{"theme":"dark","panel":{"right":true}},"c":{},"extra":1}"#
    );
    assert_eq!(
        get(&h, "ui").unwrap(),
        r#"{"theme":"dark","size":12,"panel":{"left":true,"right":true}}"#
    );
    // the schema default under a user's object (nothing written for it)
    assert_eq!(get(&h, "c").unwrap(), r#"{"k":true}"#);
    assert_eq!(get(&h, "c.k").unwrap(), "true");
    assert_eq!(h.size().unwrap(), 6);
    // an array replaces its default whole; a scalar too
    set(&h, "list", "[9]");
    assert_eq!(get(&h, "list").unwrap(), "[9]");
    assert_eq!(get(&h, "list.length").unwrap(), "1");
    h.flush().unwrap();
    assert_eq!(
        file_json(dir.path()),
        r#"{"ui":{"theme":"dark","panel":{"right":true}},"c":{},"extra":1,"list":[9]}"#
    );
    // reopened: the same
    drop(h);
    let h = open(layered(opts(dir.path()), Some(TOP), Some(schema()), None));
    assert_eq!(
        get(&h, "ui").unwrap(),
        r#"{"theme":"dark","size":12,"panel":{"left":true,"right":true}}"#
    );
    assert_eq!(get(&h, "n").unwrap(), "5");
}

#[test]
fn delete_shows_the_default_and_inspect_tells_where_a_value_comes_from() {
    let dir = tmp();
    let h = open(layered(opts(dir.path()), Some(TOP), Some(schema()), None));
    set(&h, "n", "7");
    set(&h, "ui.theme", r#""dark""#);
    let i = h.inspect("n").unwrap();
    assert_eq!(i.source, Source::User);
    assert_eq!(i.value.map(|v| json(&v)), Some("7".into()));
    assert_eq!(i.default_value.map(|v| json(&v)), Some("5".into()));
    assert_eq!(i.user_value.map(|v| json(&v)), Some("7".into()));
    // a partly overridden object: the merge, its default, the user's part
    let i = h.inspect("ui").unwrap();
    assert_eq!(i.source, Source::User);
    assert_eq!(
        i.value.map(|v| json(&v)).unwrap(),
        r#"{"theme":"dark","size":12,"panel":{"left":true,"right":false}}"#
    );
    assert_eq!(
        i.default_value.map(|v| json(&v)).unwrap(),
        r#"{"theme":"light","size":12,"panel":{"left":true,"right":false}}"#
    );
    assert_eq!(
        i.user_value.map(|v| json(&v)).unwrap(),
        r#"{"theme":"dark"}"#
    );
    let i = h.inspect("ui.size").unwrap();
    assert_eq!(i.source, Source::Default);
    assert!(i.user_value.is_none());
    assert_eq!(i.default_value.map(|v| json(&v)), Some("12".into()));
    let i = h.inspect("s").unwrap();
    assert_eq!(
        (i.source, i.value.map(|v| json(&v))),
        (Source::Default, Some(r#""schema""#.into()))
    );
    let i = h.inspect("nothing.here").unwrap();
    assert_eq!(
        (i.source, i.value.is_none(), i.default_value.is_none()),
        (Source::None, true, true)
    );
    // delete: the default shows again; the change is the user's
    let changes = h.delete("n", C).unwrap().unwrap();
    assert_eq!(changes[0].key, "n");
    assert_eq!(get(&h, "n").unwrap(), "5");
    h.delete("ui.theme", C).unwrap();
    assert_eq!(get(&h, "ui.theme").unwrap(), r#""light""#);
    // the emptied user object stays (it holds nothing over the default)
    assert_eq!(user_text(&h), r#"{"ui":{}}"#);
    // clear: only the defaults are left
    set(&h, "x", "1");
    h.clear(b"{}", C).unwrap();
    assert_eq!(user_text(&h), "{}");
    assert_eq!(
        text(&h),
        r#"{"n":5,"ui":{"theme":"light","size":12,"panel":{"left":true,"right":false}},"list":[1,2],"s":"schema"}"#
    );
}

fn json(v: &Value) -> String {
    String::from_utf8(to_json(v, false)).unwrap()
}

#[test]
fn a_changed_default_shows_to_users_who_never_set_the_key() {
    let dir = tmp();
    {
        let h = open(layered(
            opts(dir.path()),
            Some(r#"{"a":1,"b":1,"o":{"x":1,"y":1}}"#),
            None,
            None,
        ));
        set(&h, "a", "10");
        set(&h, "o.x", "10");
        h.flush().unwrap();
    }
    // version 2 of the app: new defaults
    let h = open(layered(
        opts(dir.path()),
        Some(r#"{"a":2,"b":2,"o":{"x":2,"y":2,"z":2},"new":true}"#),
        None,
        None,
    ));
    assert_eq!(
        text(&h),
        r#"{"a":10,"b":2,"o":{"x":10,"y":2,"z":2},"new":true}"#
    );
    assert_eq!(file_json(dir.path()), r#"{"a":10,"o":{"x":10}}"#);
}

#[test]
fn the_schema_checks_what_the_app_sees_and_refuses_an_invalid_value_as_without_the_layer() {
    let dir = tmp();
    // `required` is met by a default only: the view is valid, the user's
    // document alone would not be
    let root = serde_json::json!({ "type": "object", "required": ["n"] });
    let h = open(layered(
        opts(dir.path()),
        Some(TOP),
        Some(schema()),
        Some(root.clone()),
    ));
    set(&h, "other", "1");
    assert_eq!(h.schema_errors(None).unwrap(), Vec::<String>::new());
    // an invalid value: the same error as a store without the layer
    let plain_dir = tmp();
    let mut p = opts(plain_dir.path());
    p.schema = Some(Arc::new(Schema::new(Some(&schema()), Some(&root)).unwrap()));
    p.defaults = layered(
        opts(plain_dir.path()),
        Some(TOP),
        Some(schema()),
        Some(root.clone()),
    )
    .defaults;
    let plain = open(p);
    plain.fill_defaults(false, C).unwrap();
    for (k, v) in [("n", r#""x""#), ("ui.size", "1"), ("ui", "[]")] {
        let a = h.set(k, v.as_bytes(), C).unwrap_err();
        let b = plain.set(k, v.as_bytes(), C).unwrap_err();
        assert_eq!(a.to_string(), b.to_string(), "{k}");
        assert_eq!(a.code(), b.code());
    }
    assert_eq!(user_text(&h), r#"{"other":1}"#);
    // validateData(data): `data` as the user's values
    assert!(h.schema_errors(Some(b"{}")).unwrap().is_empty());
    assert_eq!(
        h.schema_errors(Some(br#"{"ui":{"size":1}}"#)).unwrap(),
        vec!["`ui/size` must be >= 6".to_string()]
    );
    // a default that makes the merged view invalid is refused with the write
    // that exposes it: deleting `n` is fine (its default is a number)
    h.delete("n", C).unwrap();
}

#[test]
fn sanitize_removes_the_users_invalid_values_and_the_defaults_show() {
    let dir = tmp();
    std::fs::write(
        doc_path(dir.path()),
        br#"{"n":"bad","ui":{"size":2,"theme":"dark"},"keep":1}"#,
    )
    .unwrap();
    let h = open(layered(opts(dir.path()), Some(TOP), Some(schema()), None));
    assert_eq!(h.schema_errors(None).unwrap().len(), 2);
    h.sanitize(C).unwrap().unwrap();
    assert_eq!(h.schema_errors(None).unwrap(), Vec::<String>::new());
    assert_eq!(user_text(&h), r#"{"ui":{"theme":"dark"},"keep":1}"#);
    assert_eq!(get(&h, "n").unwrap(), "5");
    assert_eq!(get(&h, "ui.size").unwrap(), "12");
}

#[test]
fn conditional_schema_defaults_follow_the_merged_view() {
    let dir = tmp();
    let schema = serde_json::json!({
        "mode": { "type": "string" },
        "opts": { "type": "object",
                  "if": { "properties": { "kind": { "const": "a" } }, "required": ["kind"] },
                  "then": { "properties": { "forA": { "default": 1 } } },
                  "else": { "properties": { "forOther": { "default": 2 } } } }
    });
    let h = open(layered(
        opts(dir.path()),
        Some(r#"{"opts":{"kind":"b"}}"#),
        Some(schema),
        None,
    ));
    assert_eq!(get(&h, "opts").unwrap(), r#"{"kind":"b","forOther":2}"#);
    set(&h, "opts.kind", r#""a""#);
    assert_eq!(get(&h, "opts").unwrap(), r#"{"kind":"a","forA":1}"#);
    assert_eq!(user_text(&h), r#"{"opts":{"kind":"a"}}"#);
    h.delete("opts.kind", C).unwrap();
    assert_eq!(get(&h, "opts").unwrap(), r#"{"kind":"b","forOther":2}"#);
}

#[test]
fn reads_follow_every_write_under_a_merged_key() {
    // the view of a merged key is remembered by the identity of the user's
    // value: every write under it must be seen (a model checks each read)
    let dir = tmp();
    let h = open(layered(
        opts(dir.path()),
        Some(r#"{"o":{"a":0,"in":{"b":0}}}"#),
        None,
        None,
    ));
    let mut model = serde_json::json!({ "o": { "a": 0, "in": { "b": 0 } } });
    for i in 0..200u32 {
        let (k, v) = match i % 5 {
            0 => ("o.a", serde_json::json!(i)),
            1 => ("o.in.b", serde_json::json!(i)),
            2 => ("o.in.c", serde_json::json!([i])),
            3 => ("o.z", serde_json::json!({ "i": i })),
            _ => ("top", serde_json::json!(i)),
        };
        // read first, so the view is remembered before the write
        let _ = get(&h, "o");
        set(&h, k, &v.to_string());
        let segs: Vec<&str> = k.split('.').collect();
        let mut node = &mut model;
        for s in &segs[..segs.len() - 1] {
            node = node
                .as_object_mut()
                .unwrap()
                .entry(s.to_string())
                .or_insert(serde_json::json!({}));
        }
        node[segs[segs.len() - 1]] = v;
        let seen: serde_json::Value = serde_json::from_str(&get(&h, "o").unwrap()).unwrap();
        assert_eq!(seen, model["o"], "after {k}");
        if i % 7 == 0 {
            h.delete("o.in", C).unwrap();
            model["o"]["in"] = serde_json::json!({ "b": 0 });
            let seen: serde_json::Value = serde_json::from_str(&text(&h)).unwrap();
            assert_eq!(seen["o"], model["o"]);
        }
    }
}

#[test]
fn several_writers_with_the_layer_on_one_file_see_each_others_values_over_their_defaults() {
    let dir = tmp();
    let a = open(layered(opts(dir.path()), Some(TOP), Some(schema()), None));
    let b = open(layered(opts(dir.path()), Some(TOP), Some(schema()), None));
    for i in 0..50 {
        set(&a, &format!("a{i}"), &i.to_string());
        set(&b, &format!("b{i}"), &i.to_string());
    }
    set(&a, "ui.theme", r#""dark""#);
    set(&b, "ui.size", "20");
    a.flush().unwrap();
    b.flush().unwrap();
    a.reload().unwrap();
    b.reload().unwrap();
    for h in [&a, &b] {
        assert_eq!(
            get(h, "ui").unwrap(),
            r#"{"theme":"dark","size":20,"panel":{"left":true,"right":false}}"#
        );
        assert_eq!(get(h, "a49").unwrap(), "49");
        assert_eq!(get(h, "b49").unwrap(), "49");
        assert_eq!(get(h, "n").unwrap(), "5");
    }
    // an invalid value another writer's view would refuse is refused by it
    // too when it writes (checked on the latest state)
    assert!(a.set("ui.size", b"1", C).is_err());
    drop(a);
    drop(b);
    let f: serde_json::Value = serde_json::from_str(&file_json(dir.path())).unwrap();
    assert!(f.get("n").is_none() && f.get("s").is_none() && f.get("list").is_none());
    assert_eq!(f["ui"], serde_json::json!({ "theme": "dark", "size": 20 }));
    assert_eq!(f.as_object().unwrap().len(), 101);
}

#[test]
fn history_records_the_users_changes_and_a_rollback_restores_the_users_layer() {
    let dir = tmp();
    let h = open(layered(opts(dir.path()), Some(TOP), None, None));
    set(&h, "n", "1");
    let after_first = h.history().unwrap().last().unwrap().seq;
    set(&h, "ui.theme", r#""dark""#);
    set(&h, "n", "2");
    h.flush().unwrap();
    for r in h.history().unwrap() {
        let mut patch = Vec::new();
        for p in &r.patch {
            p.write_json(&mut patch);
        }
        let patch = String::from_utf8(patch).unwrap();
        // nothing of the defaults is recorded
        assert!(!patch.contains("light") && !patch.contains("12"), "{patch}");
    }
    h.rollback(Target::Seq(after_first), None).unwrap();
    assert_eq!(user_text(&h), r#"{"n":1}"#);
    assert_eq!(get(&h, "ui.theme").unwrap(), r#""light""#);
    // the defaults in force apply over the restored values
    drop(h);
    let h = open(layered(
        opts(dir.path()),
        Some(r#"{"n":5,"ui":{"theme":"blue"}}"#),
        None,
        None,
    ));
    assert_eq!(text(&h), r#"{"n":1,"ui":{"theme":"blue"}}"#);
}

#[test]
fn without_the_layer_nothing_changes() {
    let dir = tmp();
    let mut o = opts(dir.path());
    o.defaults = Arc::new(
        Defaults::new(
            match parse(TOP.as_bytes()).unwrap() {
                Value::Object(m) => Some(m),
                _ => None,
            },
            None,
            None,
        )
        .unwrap(),
    );
    let h = open(o);
    h.fill_defaults(
        false,
        Call {
            validate: true,
            values: false,
        },
    )
    .unwrap();
    assert_eq!(user_text(&h), text(&h));
    let i = h.inspect("ui.theme").unwrap();
    assert_eq!(i.source, Source::User);
    assert_eq!(i.default_value.map(|v| json(&v)), Some(r#""light""#.into()));
}

#[test]
fn schema_defaults_under_patterns_and_additional_properties_fill_the_users_objects() {
    let dir = tmp();
    let root = serde_json::json!({
        "type": "object",
        "patternProperties": { "^p": { "type": "object", "properties": { "x": { "default": 1 } } } },
        "additionalProperties": { "type": ["object", "number"], "properties": { "y": { "default": 2 } } }
    });
    let h = open(layered(
        opts(dir.path()),
        Some(r#"{"p0":{"z":0}}"#),
        None,
        Some(root),
    ));
    assert_eq!(text(&h), r#"{"p0":{"z":0,"x":1}}"#);
    set(&h, "p1", "{}");
    set(&h, "q", "{}");
    set(&h, "n", "3");
    assert_eq!(get(&h, "p1").unwrap(), r#"{"x":1}"#);
    assert_eq!(get(&h, "p1.x").unwrap(), "1");
    assert_eq!(get(&h, "q.y").unwrap(), "2");
    assert!(h.has("q.y").unwrap());
    assert_eq!(get(&h, "n").unwrap(), "3");
    assert_eq!(user_text(&h), r#"{"p1":{},"q":{},"n":3}"#);
    // string and array members read as `get` reads them
    set(&h, "p2", r#"{"s":"héllo","a":[1,2]}"#);
    assert_eq!(get(&h, "p2.s.length").unwrap(), "5");
    assert_eq!(get(&h, "p2.a.length").unwrap(), "2");
    assert_eq!(get(&h, "p2.s.1").unwrap(), r#""é""#);
    assert!(get(&h, "p2.a.5").is_none());
}
