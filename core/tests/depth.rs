//! The one nesting limit (`MAX_DEPTH`) through every way a document is written
//! and read: JSON text in and out, hashing, diffing, patches, schema
//! validation, the journal, the store file, external edits, backups and
//! rollbacks — at the limit, and one level past it (`E_TOO_DEEP`, nothing
//! written; a file is never wiped).
//!
//! Calls are made from threads with a small stack (`SMALL_STACK`, less than
//! any Node thread has left when JS calls in: a Node worker's native stack is
//! 4 MB by default, less with `resourceLimits.stackSizeMb`), so nothing on the
//! calling thread may recurse per level. The writer thread writes and hashes
//! these documents, and the watcher thread reads, diffs and validates them.

mod common;

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;
use tad_store_core::defaults::Defaults;
use tad_store_core::doc::Document;
use tad_store_core::events::{Event, Origin};
use tad_store_core::history::Target;
use tad_store_core::registry;
use tad_store_core::schema::{parse_json, Schema};
use tad_store_core::value::{depth, merkle, parse, to_json, MAX_DEPTH};

/// Less stack than any thread JS can call in from.
const SMALL_STACK: usize = 256 << 10;

fn on_small_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new()
        .stack_size(SMALL_STACK)
        .spawn(f)
        .unwrap()
        .join()
        .unwrap_or_else(|p| std::panic::resume_unwind(p))
}

/// `n` nested containers (objects and arrays in turn) around `leaf`.
fn nest(n: usize, leaf: &str) -> String {
    let mut open = String::with_capacity(n * 5);
    let mut close = Vec::with_capacity(n);
    for i in 0..n {
        if i % 2 == 0 {
            open.push_str("{\"k\":");
            close.push(b'}');
        } else {
            open.push('[');
            close.push(b']');
        }
    }
    close.reverse();
    format!("{open}{leaf}{}", String::from_utf8(close).unwrap())
}

/// A document (`{"k": ...}`) nested `n` levels deep in all.
fn deep_doc(n: usize, leaf: &str) -> String {
    format!("{{\"k\":{}}}", nest(n - 1, leaf))
}

fn code(r: tad_store_core::Result<impl std::fmt::Debug>) -> &'static str {
    r.map(|_| ()).unwrap_err().code()
}

#[test]
fn parse_serialize_hash_compare_diff_and_patch_at_the_limit_on_a_small_stack() {
    on_small_stack(|| {
        let text = nest(MAX_DEPTH, "1");
        let v = parse(text.as_bytes()).unwrap();
        assert_eq!(depth(&v), MAX_DEPTH);
        assert_eq!(String::from_utf8(to_json(&v, false)).unwrap(), text);
        let past = parse(nest(MAX_DEPTH + 1, "1").as_bytes()).unwrap_err();
        assert!(past.too_deep, "{past}");
        assert!(past.to_string().contains(&MAX_DEPTH.to_string()), "{past}");
        // an empty innermost container counts; a scalar does not
        assert!(
            parse(nest(MAX_DEPTH, "[]").as_bytes())
                .unwrap_err()
                .too_deep
        );
        assert!(parse(nest(MAX_DEPTH - 1, "[]").as_bytes()).is_ok());
        // pretty: JSON.stringify(v, null, '\t') has a line per level
        let pretty = to_json(&v, true);
        assert_eq!(
            pretty.iter().filter(|&&b| b == b'\n').count(),
            2 * MAX_DEPTH,
            "one line per opening and per closing"
        );
        let back = parse(&pretty).unwrap();
        assert!(back.eq_exact(&v));
        // hashes: cached (computed once, then kept) and fresh agree
        assert_eq!(merkle(&v), merkle(&back));
        assert_eq!(merkle(&v), merkle(&v));
        let other = parse(nest(MAX_DEPTH, "2").as_bytes()).unwrap();
        assert!(!other.eq_exact(&v));
        assert_ne!(merkle(&other), merkle(&v));
        // the diff of two documents that differ at the bottom is one operation there
        let old = Document::new(parse(deep_doc(MAX_DEPTH, "1").as_bytes()).unwrap()).unwrap();
        let new_root = parse(deep_doc(MAX_DEPTH, "2").as_bytes()).unwrap();
        let change = old.plan_replace(new_root.clone());
        assert_eq!(change.patch.len(), 1);
        assert_eq!(change.patch[0].path().len(), MAX_DEPTH, "at the leaf");
        let mut d = old.clone();
        d.apply(&change.patch).unwrap();
        assert!(d.root().eq_exact(&new_root));
        d.apply(&change.inverse).unwrap();
        assert!(d.root().eq_exact(old.root()));
        // a patch that sets a value at the limit reads back from its journal
        // form (a line adds a few levels of its own: `LINE_OVERHEAD`)
        let set = old.plan_set(
            &["k".to_string()],
            parse(nest(MAX_DEPTH - 1, "4").as_bytes()).unwrap(),
        );
        let mut line = Vec::new();
        set.patch[0].write_json(&mut line);
        let read = tad_store_core::value::parse_limited(
            &line,
            0,
            MAX_DEPTH + tad_store_core::value::LINE_OVERHEAD,
        )
        .unwrap();
        let op = tad_store_core::doc::PatchOp::from_value(&read).unwrap();
        let mut d = old.clone();
        d.apply(&[op]).unwrap();
        assert_eq!(depth(d.root()), MAX_DEPTH);
        // everything above is dropped here, on this small stack
    });
}

#[test]
fn schema_validation_at_the_limit_on_a_small_stack() {
    on_small_stack(|| {
        // a recursive schema: the validator descends every level
        let schema = parse_json(
            r##"{"type":"object","properties":{"k":{"$ref":"#/definitions/n"}},
                "definitions":{"n":{"type":["object","array","number"],
                "properties":{"k":{"$ref":"#/definitions/n"}},"items":{"$ref":"#/definitions/n"}}}}"##,
        )
        .unwrap();
        let s = Schema::new(None, Some(&schema)).unwrap();
        let good = Document::new(parse(deep_doc(MAX_DEPTH, "1").as_bytes()).unwrap()).unwrap();
        assert_eq!(s.errors(&good, None), Vec::<String>::new());
        let bad = Document::new(parse(deep_doc(MAX_DEPTH, "\"x\"").as_bytes()).unwrap()).unwrap();
        let errors = s.errors(&bad, None);
        assert!(!errors.is_empty());
        assert!(errors.iter().any(|e| e.contains("must be")), "{errors:?}");
        // electron-store's `schema` (one validator per top-level key) too
        let props = parse_json(r#"{"k":{"type":"object"}}"#).unwrap();
        let s = Schema::new(Some(&props), None).unwrap();
        assert!(s.errors(&good, None).is_empty());
        let not_object = Document::new(
            parse(format!("{{\"k\":[{}]}}", nest(MAX_DEPTH - 2, "1")).as_bytes()).unwrap(),
        )
        .unwrap();
        assert_eq!(s.errors(&not_object, None), ["`k` must be object"]);
    });
}

#[test]
fn every_write_entry_point_takes_the_limit_and_refuses_one_more_level_writing_nothing() {
    let dir = tmp();
    let path = dir.path().to_path_buf();
    on_small_stack(move || {
        let mut o = sync(opts(&path));
        o.compact = true; // (the pretty file at the limit is another test's)
        let s = open(o);
        set(&s, "keep", "true");
        s.flush().unwrap();
        let journal = std::fs::read(journal_path(&path)).unwrap();
        let unchanged = |what: &str| {
            assert_eq!(
                std::fs::read(journal_path(&path)).unwrap(),
                journal,
                "{what}: nothing written"
            );
            assert_eq!(text(&s), r#"{"keep":true}"#, "{what}");
        };
        // set: a value at `k` may nest MAX_DEPTH - 1 levels (the document is the first)
        let e = s.set("k", nest(MAX_DEPTH, "1").as_bytes(), C).unwrap_err();
        assert_eq!(e.code(), "E_TOO_DEEP");
        assert!(e.is_range_error());
        assert!(e.to_string().contains("`k`"), "{e}");
        unchanged("set");
        assert_eq!(
            code(s.set("a.b", nest(MAX_DEPTH - 1, "1").as_bytes(), C)),
            "E_TOO_DEEP",
            "the key's path counts"
        );
        unchanged("set at a path");
        // a scalar at a path MAX_DEPTH + 1 segments long
        let long = vec!["p"; MAX_DEPTH + 1].join(".");
        assert_eq!(code(s.set(&long, b"1", C)), "E_TOO_DEEP");
        unchanged("a scalar too deep");
        // set(object) / setMultiple
        let many = format!("{{\"ok\":1,\"m\":{}}}", nest(MAX_DEPTH, "1"));
        let e = s.set_many(many.as_bytes(), "setMultiple", C).unwrap_err();
        assert_eq!(e.code(), "E_TOO_DEEP");
        assert!(e.to_string().contains("`m`"), "{e}");
        let many = format!("{{\"ok\":1,\"x.y\":{}}}", nest(MAX_DEPTH - 1, "1"));
        assert_eq!(code(s.set_many(many.as_bytes(), "set", C)), "E_TOO_DEEP");
        let absurd = format!("{{\"m\":{}}}", nest(MAX_DEPTH + 5, "1"));
        assert_eq!(code(s.set_many(absurd.as_bytes(), "set", C)), "E_TOO_DEEP");
        unchanged("setMultiple");
        // store = / clear() / defaults
        let doc = format!("{{\"keep\":true,\"k\":{}}}", nest(MAX_DEPTH, "1"));
        assert_eq!(
            code(s.replace_all(doc.as_bytes(), "store", true, C)),
            "E_TOO_DEEP"
        );
        assert_eq!(
            code(Defaults::from_json(
                Some(deep_doc(MAX_DEPTH + 1, "1").as_bytes()),
                None,
                None
            )),
            "E_TOO_DEEP"
        );
        unchanged("store= and defaults");

        // at the limit, every entry point writes
        s.set("k", nest(MAX_DEPTH - 1, "1").as_bytes(), C).unwrap();
        s.set("a.b", nest(MAX_DEPTH - 2, "1").as_bytes(), C)
            .unwrap();
        let many = format!("{{\"m\":{}}}", nest(MAX_DEPTH - 1, "2"));
        s.set_many(many.as_bytes(), "setMultiple", C).unwrap();
        // defaults at the limit: a second instance on the file brings them
        let mut o = sync(opts(&path));
        o.compact = true;
        o.defaults = Arc::new(
            Defaults::from_json(
                Some(
                    deep_doc(MAX_DEPTH, "\"default\"")
                        .replace("\"k\"", "\"d\"")
                        .as_bytes(),
                ),
                None,
                None,
            )
            .unwrap(),
        );
        let with_defaults = open(o);
        with_defaults.fill_defaults(true, C).unwrap();
        with_defaults.close(false).unwrap();
        s.reload().unwrap();
        let after_sets = s.snapshot().unwrap();
        assert!(get(&s, "d").is_some(), "the defaults are in");
        assert_eq!(depth(&after_sets), MAX_DEPTH);
        let h = s.history().unwrap();
        let before_replace = h.last().unwrap().seq;
        let whole = format!("{{\"keep\":true,\"k\":{}}}", nest(MAX_DEPTH - 1, "3"));
        s.replace_all(whole.as_bytes(), "store", true, C).unwrap();
        assert_eq!(get(&s, "k").unwrap(), nest(MAX_DEPTH - 1, "3"));
        // rollback: the deep values come back exactly
        s.rollback(Target::Seq(before_replace), None).unwrap();
        assert!(s.snapshot().unwrap().eq_exact(&after_sets));
        // a backup of the deep document, restored
        let b = s.create_backup("deep", false).unwrap().unwrap();
        s.set("k", b"0", C).unwrap();
        let v = s.prepare_restore(&b.file, C).unwrap();
        s.restore(v, C).unwrap();
        assert!(s.snapshot().unwrap().eq_exact(&after_sets));
        s.close(false).unwrap();

        // the file and the journal hold them: reopen from the file, then from the journal alone
        let file = std::fs::read(doc_path(&path)).unwrap();
        assert!(parse(&file).unwrap().eq_exact(&after_sets));
        let compact = || {
            let mut o = opts(&path);
            o.compact = true;
            o
        };
        let s2 = open(compact());
        assert!(s2.snapshot().unwrap().eq_exact(&after_sets));
        s2.close(false).unwrap();
        std::fs::remove_file(doc_path(&path)).unwrap();
        let s3 = open(compact());
        assert!(s3.report().journal_damage.is_none());
        assert!(s3.snapshot().unwrap().eq_exact(&after_sets));
        s3.close(false).unwrap();
    });
}

#[test]
fn a_pretty_file_at_the_limit_is_written_by_the_writer_thread_and_reopens() {
    let dir = tmp();
    let path = dir.path().to_path_buf();
    on_small_stack(move || {
        let s = open(opts(&path)); // deferred: the writer thread writes the file
        s.set("k", nest(MAX_DEPTH - 1, "1").as_bytes(), C).unwrap();
        s.flush().unwrap();
        let file = std::fs::read(doc_path(&path)).unwrap();
        assert_eq!(
            file,
            to_json(&s.snapshot().unwrap(), true),
            "JSON.stringify(store, null, '\\t')"
        );
        s.close(false).unwrap();
        let s2 = open(opts(&path));
        assert_eq!(get(&s2, "k").unwrap(), nest(MAX_DEPTH - 1, "1"));
        s2.close(false).unwrap();
    });
}

#[test]
fn a_file_at_the_limit_opens_one_deeper_is_refused_untouched_or_kept_aside() {
    let dir = tmp();
    let path = dir.path().to_path_buf();
    on_small_stack(move || {
        // written by another program (electron-store in a worker thread can write deeper than any main thread)
        let at = deep_doc(MAX_DEPTH, "\"leaf\"");
        std::fs::write(doc_path(&path), &at).unwrap();
        let s = open(opts(&path));
        assert_eq!(get(&s, "k").unwrap(), nest(MAX_DEPTH - 1, "\"leaf\""));
        s.close(false).unwrap();
        for p in [doc_path(&path), journal_path(&path)] {
            let _ = std::fs::remove_file(p);
        }

        let past = deep_doc(MAX_DEPTH + 1, "\"leaf\"");
        std::fs::write(doc_path(&path), &past).unwrap();
        let e = registry::open_unshared(opts(&path))
            .map(|_| ())
            .unwrap_err();
        assert_eq!(e.code(), "E_TOO_DEEP");
        assert!(e.to_string().contains("clearInvalidConfig"), "{e}");
        assert_eq!(
            std::fs::read(doc_path(&path)).unwrap(),
            past.as_bytes(),
            "left untouched"
        );
        assert!(files_with(&path, "corrupt").is_empty());

        // clearInvalidConfig: defaults, and the file is kept aside (never a silent wipe)
        let mut o = opts(&path);
        o.clear_invalid_config = true;
        let s = open(o);
        assert_eq!(text(&s), "{}");
        let kept = s.report().quarantined.clone().expect("kept aside");
        assert_eq!(std::fs::read(&kept).unwrap(), past.as_bytes());
        s.close(false).unwrap();
    });
}

fn save(path: &Path, text: &str) {
    let tmp = path.with_extension("swp");
    std::fs::write(&tmp, text).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

fn wait_for(rec: &Recorder, what: &str, mut pred: impl FnMut(&[Event]) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if pred(&rec.0.lock().unwrap()) {
            return;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn the_watcher_applies_an_edit_at_the_limit_and_refuses_a_deeper_one() {
    let dir = tmp();
    let path = dir.path().to_path_buf();
    on_small_stack(move || {
        let schema = parse_json(r#"{"k":{"type":"object"}}"#).unwrap();
        let mut o = opts(&path);
        o.compact = true;
        o.schema = Some(Arc::new(Schema::new(Some(&schema), None).unwrap()));
        let s = open(o);
        set(&s, "k", "{}");
        s.flush().unwrap();
        let rec = install(&s);
        s.watch().unwrap();
        save(&doc_path(&path), &deep_doc(MAX_DEPTH, "1"));
        wait_for(&rec, "the edit at the limit", |ev| {
            ev.iter().any(|e| {
                matches!(
                    e,
                    Event::Changed {
                        origin: Origin::External,
                        ..
                    }
                )
            })
        });
        assert_eq!(get(&s, "k").unwrap(), nest(MAX_DEPTH - 1, "1"));
        save(&doc_path(&path), &deep_doc(MAX_DEPTH + 1, "1"));
        wait_for(&rec, "the deeper edit's refusal", |ev| {
            ev.iter().any(|e| {
                matches!(
                    e,
                    Event::InvalidExternalChange {
                        code: "E_TOO_DEEP",
                        ..
                    }
                )
            })
        });
        assert_eq!(
            get(&s, "k").unwrap(),
            nest(MAX_DEPTH - 1, "1"),
            "not applied"
        );
        s.close(false).unwrap();

        // without watching, reload() says so
        let s = open(opts(&path));
        save(&doc_path(&path), &deep_doc(MAX_DEPTH + 1, "2"));
        assert_eq!(code(s.reload()), "E_TOO_DEEP");
        assert_eq!(get(&s, "k").unwrap(), nest(MAX_DEPTH - 1, "1"));
        s.close(false).unwrap();
    });
}

#[test]
fn another_writers_journal_line_at_the_limit_is_replayed() {
    let dir = tmp();
    let path = dir.path().to_path_buf();
    on_small_stack(move || {
        let mut o = sync(opts(&path));
        o.compact = true;
        let a = open(o.clone());
        let b = open(o);
        a.set("k", nest(MAX_DEPTH - 1, "1").as_bytes(), C).unwrap();
        // b catches up at its next write (the line is parsed and replayed there)
        set(&b, "b", "1");
        assert_eq!(get(&b, "k").unwrap(), nest(MAX_DEPTH - 1, "1"));
        a.set("k", nest(MAX_DEPTH - 1, "2").as_bytes(), C).unwrap();
        b.reload().unwrap();
        assert_eq!(get(&b, "k").unwrap(), nest(MAX_DEPTH - 1, "2"));
        a.close(false).unwrap();
        b.close(false).unwrap();
    });
}
