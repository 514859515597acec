//! The store's rules through the core's public API: durability and the file
//! format, recovery without guesses, transactions, history and backups,
//! read-only directories, links, temp files, instances sharing a file.

mod common;

use std::fs;
use std::sync::Arc;

use common::*;
use tad_store_core::fs::FaultFs;
use tad_store_core::history::Target;
use tad_store_core::{registry, Call};

#[test]
fn writes_survive_reopen_and_the_file_matches_json_stringify() {
    let dir = tmp();
    let s = open(opts(dir.path()));
    set(&s, "a.b", "1");
    set(&s, "list", "[1,2,{\"x\":\"y\"}]");
    s.flush().unwrap();
    let file = fs::read_to_string(doc_path(dir.path())).unwrap();
    assert_eq!(
        file,
        "{\n\t\"a\": {\n\t\t\"b\": 1\n\t},\n\t\"list\": [\n\t\t1,\n\t\t2,\n\t\t{\n\t\t\t\"x\": \"y\"\n\t\t}\n\t]\n}"
    );
    s.close(false).unwrap();
    assert_eq!(s.snapshot().unwrap_err().code(), "E_CLOSED");
    let s2 = open(opts(dir.path()));
    assert_eq!(s2.report().replayed, 0);
    assert_eq!(text(&s2), r#"{"a":{"b":1},"list":[1,2,{"x":"y"}]}"#);
    // checkpoint lines name the file only after it is in place, with its Merkle hash
    let (changes, cps) = journal_seqs(dir.path());
    assert_eq!(changes, [1, 2]);
    assert_eq!(cps.last(), Some(&2));
}

#[test]
fn the_journal_replays_changes_the_file_lacks() {
    let dir = tmp();
    let s = open(sync(opts(dir.path())));
    set(&s, "a", "1");
    s.flush().unwrap();
    let old = fs::read(doc_path(dir.path())).unwrap();
    set(&s, "b", "2");
    set(&s, "a", "3");
    s.close(false).unwrap();
    // a crash before the document was rewritten: the file is one checkpoint behind
    fs::write(doc_path(dir.path()), &old).unwrap();
    let s2 = open(opts(dir.path()));
    assert_eq!(s2.report().replayed, 2);
    assert!(!s2.report().external_edit);
    assert_eq!(text(&s2), r#"{"a":3,"b":2}"#);
}

#[test]
fn a_new_store_killed_before_its_first_document_write_keeps_every_acknowledged_set() {
    let dir = tmp();
    let s = open(sync(opts(dir.path())));
    for i in 0..8 {
        set(&s, &format!("k{i}"), &i.to_string());
    }
    // the process dies: no document file was ever written (nor any checkpoint)
    let journal = fs::read(journal_path(dir.path())).unwrap();
    s.close(true).unwrap();
    fs::remove_file(doc_path(dir.path())).unwrap();
    fs::write(journal_path(dir.path()), &journal).unwrap();
    let s2 = open(opts(dir.path()));
    assert!(s2.report().missing_file);
    assert!(s2
        .report()
        .recovered
        .as_deref()
        .unwrap()
        .contains("history"));
    assert_eq!(
        text(&s2),
        r#"{"k0":0,"k1":1,"k2":2,"k3":3,"k4":4,"k5":5,"k6":6,"k7":7}"#
    );
    // and the rebuilt file is durably in place
    assert!(doc_path(dir.path()).exists());
}

#[test]
fn a_document_written_just_before_a_crash_is_recognised_by_its_content() {
    let dir = tmp();
    let s = open(sync(opts(dir.path())));
    set(&s, "a", "1");
    set(&s, "b", "2");
    s.flush().unwrap();
    s.close(false).unwrap();
    // the crash came after the file was replaced but before its checkpoint line
    let j = fs::read_to_string(journal_path(dir.path())).unwrap();
    let kept: Vec<&str> = j
        .lines()
        .filter(|l| !l.starts_with("{\"checkpoint\""))
        .collect();
    fs::write(journal_path(dir.path()), format!("{}\n", kept.join("\n"))).unwrap();
    let s2 = open(opts(dir.path()));
    assert!(!s2.report().external_edit, "{:?}", s2.report());
    assert_eq!(s2.report().replayed, 0);
    assert_eq!(text(&s2), r#"{"a":1,"b":2}"#);
}

#[test]
fn an_edit_made_while_closed_is_taken_and_old_changes_are_never_applied_over_it() {
    let dir = tmp();
    let s = open(opts(dir.path()));
    set(&s, "a", "1");
    set(&s, "b", "2");
    s.close(false).unwrap();
    fs::write(doc_path(dir.path()), "{\"edited\":true}").unwrap();
    let s2 = open(opts(dir.path()));
    assert!(s2.report().external_edit);
    assert_eq!(text(&s2), r#"{"edited":true}"#);
    // recorded as a change the history cannot roll back past
    let h = s2.history().unwrap();
    assert_eq!(h.last().unwrap().op, "external-edit");
    assert!(h.last().unwrap().inverse.is_none());
    assert_eq!(
        s2.rollback(Target::Seq(1), None).unwrap_err().code(),
        "E_HISTORY_TRUNCATED"
    );
}

#[test]
fn a_journal_cut_before_the_checkpoint_of_a_newer_file_never_mixes_states() {
    let dir = tmp();
    let s = open(sync(opts(dir.path())));
    set(&s, "a", "1");
    s.flush().unwrap();
    let cut = fs::metadata(journal_path(dir.path())).unwrap().len();
    set(&s, "a", "2");
    set(&s, "b", "3");
    s.flush().unwrap();
    s.close(false).unwrap();
    // the journal loses its tail (the file holds a = 2, b = 3)
    let j = fs::read(journal_path(dir.path())).unwrap();
    fs::write(journal_path(dir.path()), &j[..cut as usize]).unwrap();
    let s2 = open(opts(dir.path()));
    assert_eq!(
        text(&s2),
        r#"{"a":2,"b":3}"#,
        "the newer file is kept as it is"
    );
    assert_eq!(s2.report().replayed, 0);
}

#[test]
fn replay_stops_at_an_entry_made_on_another_state_and_keeps_the_rest_aside() {
    let dir = tmp();
    let s = open(sync(opts(dir.path())));
    set(&s, "a", "1");
    s.flush().unwrap();
    let file = fs::read(doc_path(dir.path())).unwrap();
    set(&s, "a", "2");
    set(&s, "b", "3");
    s.close(false).unwrap();
    // entry 2's recorded state-before no longer matches (someone rewrote it)
    let j = fs::read_to_string(journal_path(dir.path())).unwrap();
    let lines: Vec<String> = j
        .lines()
        .filter(|l| !l.starts_with("{\"checkpoint\":2") && !l.starts_with("{\"checkpoint\":3"))
        .map(|l| {
            if l.starts_with("{\"seq\":3") {
                let at = l.find("\"hashBefore\":\"").unwrap() + 14;
                format!("{}{}{}", &l[..at], "0".repeat(64), &l[at + 64..])
            } else {
                l.to_string()
            }
        })
        .collect();
    fs::write(journal_path(dir.path()), format!("{}\n", lines.join("\n"))).unwrap();
    fs::write(doc_path(dir.path()), &file).unwrap();
    let s2 = open(opts(dir.path()));
    let damage = s2.report().journal_damage.clone().unwrap();
    assert!(damage.contains("replay stopped"), "{damage}");
    assert_eq!(text(&s2), r#"{"a":2}"#, "the last consistent state");
    assert_eq!(
        files_with(&dir.path().join("storeHistory"), "damaged").len(),
        1
    );
    // the store goes on from there
    set(&s2, "c", "4");
    s2.close(false).unwrap();
    let s3 = open(opts(dir.path()));
    assert_eq!(text(&s3), r#"{"a":2,"c":4}"#);
    assert!(s3.report().journal_damage.is_none());
}

#[test]
fn a_damaged_file_is_refused_or_kept_aside_never_wiped() {
    for bad in [
        &b""[..],
        b"{\"a\":1",
        b"\0\0\0\0\0",
        b"\xff garbage",
        b"[1,2]",
    ] {
        // (a fresh directory each time: with a history to rebuild from, a damaged
        // file is rebuilt instead)
        let dir = tmp();
        let p = doc_path(dir.path());
        fs::write(&p, bad).unwrap();
        let err = registry::open_unshared(opts(dir.path()))
            .err()
            .expect("refused");
        assert_eq!(err.code(), "E_CORRUPT");
        assert_eq!(fs::read(&p).unwrap(), bad, "file untouched");
        let mut o = opts(dir.path());
        o.clear_invalid_config = true;
        let s = open(o);
        let q = s.report().quarantined.clone().expect("kept aside");
        assert_eq!(fs::read(&q).unwrap(), bad, "the damaged bytes are kept");
        assert_eq!(text(&s), "{}");
        assert_eq!(
            fs::read_to_string(&p).unwrap(),
            "{}",
            "a valid file replaced it"
        );
        s.close(false).unwrap();
    }
}

#[test]
fn a_damaged_or_missing_file_is_rebuilt_from_history_or_a_backup() {
    let dir = tmp();
    let p = doc_path(dir.path());
    let s = open(opts(dir.path()));
    set(&s, "a", "1");
    set(&s, "b", "{\"c\":[true]}");
    s.close(false).unwrap();
    fs::write(&p, b"{\"a\": 1, \"b\": {\"c\": [tr").unwrap();
    let s2 = open(opts(dir.path()));
    assert!(s2
        .report()
        .recovered
        .as_deref()
        .unwrap()
        .contains("history"));
    let q = s2.report().quarantined.clone().unwrap();
    assert_eq!(fs::read(&q).unwrap(), b"{\"a\": 1, \"b\": {\"c\": [tr");
    assert_eq!(text(&s2), r#"{"a":1,"b":{"c":[true]}}"#);
    // with the oldest history trimmed away: the newest verified backup plus the
    // changes after it
    for i in 0..300 {
        set(&s2, "n", &i.to_string());
        if i % 40 == 0 {
            s2.flush().unwrap();
        }
    }
    let b = s2.create_backup("test", false).unwrap().unwrap();
    assert!(b.file.starts_with("backup-"));
    for i in 300..350 {
        set(&s2, "m", &i.to_string());
    }
    s2.close(false).unwrap();
    assert!(journal_seqs(dir.path()).0[0] > 1, "trimmed");
    fs::write(&p, b"\0\0\0\0").unwrap();
    let s3 = open(opts(dir.path()));
    assert!(s3.report().recovered.as_deref().unwrap().contains("backup"));
    assert_eq!(text(&s3), r#"{"a":1,"b":{"c":[true]},"n":299,"m":349}"#);
    s3.close(false).unwrap();
    // a missing file, same
    fs::remove_file(&p).unwrap();
    let s4 = open(opts(dir.path()));
    assert!(s4.report().missing_file);
    assert_eq!(text(&s4), r#"{"a":1,"b":{"c":[true]},"n":299,"m":349}"#);
    s4.close(false).unwrap();
    // without the journal: the backup alone, recorded as a change that cannot be
    // rolled back past
    fs::write(&p, b"garbage").unwrap();
    fs::remove_file(journal_path(dir.path())).unwrap();
    let s5 = open(opts(dir.path()));
    assert!(s5
        .report()
        .recovered
        .as_deref()
        .unwrap()
        .contains("restored from the backup"));
    assert_eq!(text(&s5), r#"{"a":1,"b":{"c":[true]},"n":299}"#);
}

#[test]
fn a_missing_file_that_nothing_can_rebuild_opens_empty_and_says_so() {
    let dir = tmp();
    let mut o = opts(dir.path());
    o.history_max = 0;
    let s = open(o.clone());
    for i in 0..40 {
        set(&s, "n", &i.to_string());
    }
    s.close(false).unwrap();
    fs::remove_file(doc_path(dir.path())).unwrap();
    let s2 = open(o);
    assert!(s2.report().missing_file && s2.report().external_edit);
    assert_eq!(text(&s2), "{}");
}

#[test]
fn the_journal_is_trimmed_to_the_retained_history() {
    let dir = tmp();
    let mut o = opts(dir.path());
    o.history_max = 20;
    let s = open(o.clone());
    for i in 0..500 {
        set(&s, "n", &i.to_string());
        if i % 50 == 0 {
            s.flush().unwrap();
        }
    }
    s.close(false).unwrap();
    let changes = journal_seqs(dir.path()).0.len();
    assert!((20..=80).contains(&changes), "{changes} change lines kept");
    let s2 = open(o.clone());
    assert_eq!(text(&s2), r#"{"n":499}"#);
    set(&s2, "n", "500");
    s2.close(false).unwrap();
    assert_eq!(text(&open(o)), r#"{"n":500}"#);
}

#[test]
fn rollback_restores_exact_states_and_can_itself_be_undone() {
    let dir = tmp();
    let s = open(opts(dir.path()));
    set(&s, "a", "1");
    set(&s, "b.c", "[1,2]");
    let at2 = text(&s);
    set(&s, "a", "\"x\"");
    set(&s, "b.c.0", "9");
    let latest = text(&s);
    let (plan, changes) = s.rollback(Target::Seq(2), None).unwrap();
    assert_eq!(plan.reverted, 2);
    assert_eq!(changes.len(), 2);
    assert_eq!(text(&s), at2);
    let (plan, _) = s.rollback(Target::Seq(4), None).unwrap();
    assert_eq!(plan.reverted, 1);
    assert_eq!(text(&s), latest);
    s.rollback(Target::Seq(0), None).unwrap();
    assert_eq!(text(&s), "{}");
    s.close(false).unwrap();
    let s2 = open(opts(dir.path()));
    assert_eq!(s2.report().replayed, 0);
    assert_eq!(text(&s2), "{}");
    assert_eq!(s2.history().unwrap().len(), 7);
}

#[test]
fn a_trimmed_history_refuses_older_targets_and_changes_nothing() {
    let dir = tmp();
    let mut o = opts(dir.path());
    o.history_max = 16;
    let s = open(o);
    for i in 0..100 {
        set(&s, "n", &i.to_string());
    }
    s.flush().unwrap();
    for i in 100..120 {
        set(&s, "n", &i.to_string());
    }
    let before = text(&s);
    let err = s.rollback(Target::Seq(1), None).unwrap_err();
    assert_eq!(err.code(), "E_HISTORY_TRUNCATED");
    assert_eq!(text(&s), before);
    s.rollback(Target::Seq(110), None).unwrap();
    assert_eq!(text(&s), r#"{"n":109}"#);
}

#[test]
fn a_transaction_larger_than_the_history_is_one_entry_and_an_aborted_one_leaves_no_trace() {
    let dir = tmp();
    let mut o = opts(dir.path());
    o.history_max = 5;
    let s = open(o.clone());
    set(&s, "keep", "1");
    s.flush().unwrap();
    let file = fs::read(doc_path(dir.path())).unwrap();
    let journal = fs::read(journal_path(dir.path())).unwrap();
    // 50 changes (10× maxEntries), then a failure: everything goes back
    s.begin().unwrap();
    for i in 0..50 {
        set(&s, &format!("m{i}"), &i.to_string());
    }
    assert_eq!(get(&s, "m49").as_deref(), Some("49"), "visible inside");
    let undone = s.abort_txn().unwrap();
    assert_eq!(undone.len(), 50);
    assert_eq!(text(&s), r#"{"keep":1}"#);
    s.flush().unwrap();
    assert_eq!(
        fs::read(doc_path(dir.path())).unwrap(),
        file,
        "byte-identical"
    );
    assert_eq!(fs::read(journal_path(dir.path())).unwrap(), journal);
    // committed: one entry, whatever maxEntries says
    s.begin().unwrap();
    for i in 0..50 {
        set(&s, &format!("m{i}"), &i.to_string());
    }
    s.delete("keep", C).unwrap();
    s.commit_txn("migration").unwrap();
    s.close(false).unwrap();
    let s2 = open(o.clone());
    assert_eq!(s2.size().unwrap(), 50);
    let h = s2.history().unwrap();
    let last = h.last().unwrap();
    assert_eq!(last.op, "migration");
    assert_eq!(last.keys.len(), 51);
    // and it rolls back as one
    s2.rollback(Target::Seq(last.seq - 1), None).unwrap();
    assert_eq!(text(&s2), r#"{"keep":1}"#);
    s2.close(false).unwrap();
    // a crash in the middle of one: nothing of it was written
    let s3 = open(o.clone());
    s3.begin().unwrap();
    set(&s3, "half", "true");
    let journal = fs::read(journal_path(dir.path())).unwrap();
    drop(s3);
    assert_eq!(fs::read(journal_path(dir.path())).unwrap(), journal);
    assert_eq!(text(&open(o)), r#"{"keep":1}"#);
}

#[test]
fn the_deepest_value_a_document_may_hold_survives_a_reopen() {
    let dir = tmp();
    let s = open(sync(opts(dir.path())));
    let max = tad_store_core::value::MAX_DEPTH;
    let deep = |n: usize| format!("{}1{}", "[".repeat(n), "]".repeat(n));
    // at the top level: MAX_DEPTH - 1 levels inside the key
    s.set("k", deep(max - 1).as_bytes(), C).unwrap();
    assert_eq!(
        s.set("k", deep(max).as_bytes(), C).unwrap_err().code(),
        "E_TOO_DEEP"
    );
    s.set("a.b", deep(max - 2).as_bytes(), C).unwrap();
    set(&s, "after", "true");
    s.close(true).unwrap();
    // the journal is what holds them (the file may not be written yet)
    let _ = fs::remove_file(doc_path(dir.path()));
    let s2 = open(opts(dir.path()));
    assert!(s2.report().journal_damage.is_none());
    assert_eq!(get(&s2, "after").as_deref(), Some("true"));
    assert!(get(&s2, "k").unwrap().starts_with("[[[["));
}

#[test]
fn backups_are_skipped_when_unchanged_verified_on_restore_and_listed_only_when_complete() {
    let dir = tmp();
    let mut o = opts(dir.path());
    o.max_backups = 3;
    let s = open(o);
    set(&s, "a", "1");
    let first = s.create_backup("start", true).unwrap().unwrap();
    assert!(
        s.create_backup("start", true).unwrap().is_none(),
        "same content"
    );
    set(&s, "a", "2");
    let v = s.prepare_restore(&first.file, C).unwrap();
    s.restore(v, C).unwrap();
    assert_eq!(text(&s), r#"{"a":1}"#);
    let reasons: Vec<String> = s
        .list_backups()
        .unwrap()
        .iter()
        .map(|b| b.meta.as_ref().unwrap().reason.clone())
        .collect();
    assert_eq!(reasons, ["before-restore", "start"]);
    assert_eq!(
        s.prepare_restore("../config.json", C).unwrap_err().code(),
        "E_BACKUP_NOT_FOUND"
    );
    // a backup whose metadata was never written (a crash between the two) is not listed
    let orphan = dir
        .path()
        .join("backups/backup-2020-01-01T00-00-00-000Z-deadbeef.json");
    fs::write(&orphan, "{}").unwrap();
    assert_eq!(s.list_backups().unwrap().len(), 2);
    assert_eq!(
        s.prepare_restore("backup-2020-01-01T00-00-00-000Z-deadbeef.json", C)
            .unwrap_err()
            .code(),
        "E_BACKUP_CORRUPT"
    );
}

/// A change list as `(key, old, new)` JSON texts, sorted by key.
fn listed(changes: &[tad_store_core::ops::KeyChange]) -> Vec<(String, String, String)> {
    let j = |v: &Option<tad_store_core::value::Value>| {
        v.as_ref()
            .map(|v| String::from_utf8(tad_store_core::value::to_json(v, false)).unwrap())
            .unwrap_or_else(|| "-".into())
    };
    let mut out: Vec<_> = changes
        .iter()
        .map(|c| (c.key.clone(), j(&c.old), j(&c.new)))
        .collect();
    out.sort();
    out
}

#[test]
fn a_restore_planned_off_the_js_thread_is_swapped_in_or_planned_again_when_the_state_moved() {
    let dir = tmp();
    let s = open(opts(dir.path()));
    set(&s, "a", r#"{"big":[1,2,3],"n":1}"#);
    set(&s, "b", "1");
    let backup = s.create_backup("x", false).unwrap().unwrap();
    set(&s, "a.n", "2");
    set(&s, "c", "true");

    // nothing moved: the plan is used as made, and its change list is the one delivered
    let plan = s.prepare_restore(&backup.file, C).unwrap();
    let planned = listed(plan.changes());
    let (changes, used) = s.restore_prepared(plan, C).unwrap();
    assert!(used, "the prepared plan was used");
    assert_eq!(listed(&changes.unwrap()), planned);
    assert_eq!(
        planned,
        [
            (
                "a".into(),
                r#"{"big":[1,2,3],"n":2}"#.into(),
                r#"{"big":[1,2,3],"n":1}"#.into()
            ),
            ("c".into(), "true".into(), "-".into()),
        ]
    );
    assert_eq!(text(&s), r#"{"a":{"big":[1,2,3],"n":1},"b":1}"#);

    // a set between the plan and the apply: planned again on the state it replaces
    set(&s, "c", "true");
    let plan = s.prepare_restore(&backup.file, C).unwrap();
    set(&s, "d", "4");
    set(&s, "b", "5");
    let (changes, used) = s.restore_prepared(plan, C).unwrap();
    assert!(!used, "the state moved: planned again");
    assert_eq!(
        listed(&changes.unwrap()),
        [
            ("b".to_string(), "5".to_string(), "1".to_string()),
            ("c".into(), "true".into(), "-".into()),
            ("d".into(), "4".into(), "-".into()),
        ]
    );
    assert_eq!(text(&s), r#"{"a":{"big":[1,2,3],"n":1},"b":1}"#);

    // restoring the current state changes nothing
    let plan = s.prepare_restore(&backup.file, C).unwrap();
    assert!(plan.changes().is_empty());
    let (changes, used) = s.restore_prepared(plan, C).unwrap();
    assert!(changes.is_none() && used);

    // each restore that changed something is one history entry, undoable exactly
    let h = s.history().unwrap();
    let restores: Vec<_> = h.iter().filter(|e| e.op == "restore").collect();
    assert_eq!(restores.len(), 2);
    s.rollback(Target::Seq(restores[1].seq - 1), None).unwrap();
    assert_eq!(
        text(&s),
        r#"{"a":{"big":[1,2,3],"n":1},"b":5,"c":true,"d":4}"#
    );
    s.close(false).unwrap();
    let again = open(opts(dir.path()));
    assert_eq!(
        text(&again),
        r#"{"a":{"big":[1,2,3],"n":1},"b":5,"c":true,"d":4}"#
    );
}

#[test]
fn temp_files_of_crashed_writers_are_removed_in_every_directory_at_open() {
    let dir = tmp();
    let s = open(opts(dir.path()));
    set(&s, "a", "1");
    s.create_backup("x", false).unwrap();
    s.migration_snapshot("m").unwrap();
    s.close(false).unwrap();
    let dead = 999_999_999u32;
    let places = [
        dir.path().join(format!(".config.json.{dead}.1.tmp")),
        dir.path()
            .join(format!("storeHistory/.config.json.journal.{dead}.2.tmp")),
        dir.path()
            .join(format!("backups/.backup-x.json.{dead}.3.tmp")),
        dir.path().join(format!(
            "storeHistory/migrations/.backup-y.json.{dead}.4.tmp"
        )),
    ];
    for p in &places {
        fs::write(p, vec![b'x'; 4096]).unwrap();
    }
    // another program's file in the user's directory is left alone
    let foreign = dir.path().join(format!(".other.json.{dead}.1.tmp"));
    fs::write(&foreign, "x").unwrap();
    let s2 = open(opts(dir.path()));
    assert_eq!(s2.report().temps_removed, 4);
    for p in &places {
        assert!(!p.exists(), "{}", p.display());
    }
    assert!(foreign.exists());
}

#[cfg(unix)]
#[test]
fn writes_go_through_a_symlinked_store_file_to_its_target() {
    let dir = tmp();
    let real = dir.path().join("elsewhere");
    fs::create_dir(&real).unwrap();
    fs::write(real.join("settings.json"), "{\"a\":1}").unwrap();
    std::os::unix::fs::symlink(real.join("settings.json"), doc_path(dir.path())).unwrap();
    let s = open(opts(dir.path()));
    set(&s, "b", "2");
    s.close(false).unwrap();
    let link = doc_path(dir.path());
    assert!(
        fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink(),
        "still a link"
    );
    assert_eq!(
        fs::read_to_string(real.join("settings.json")).unwrap(),
        "{\n\t\"a\": 1,\n\t\"b\": 2\n}"
    );
}

#[cfg(unix)]
#[test]
fn directories_the_store_creates_are_0700() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tmp();
    let cwd = dir.path().join("new/app");
    let s = open(opts(&cwd));
    set(&s, "a", "1");
    s.create_backup("x", false).unwrap();
    s.close(false).unwrap();
    for d in [
        cwd.clone(),
        dir.path().join("new"),
        cwd.join("storeHistory"),
        cwd.join("backups"),
    ] {
        assert_eq!(
            fs::metadata(&d).unwrap().permissions().mode() & 0o777,
            0o700,
            "{}",
            d.display()
        );
    }
}

#[test]
fn a_read_only_directory_opens_for_reading_and_refuses_writes_with_a_code() {
    let dir = tmp();
    let s = open(sync(opts(dir.path())));
    set(&s, "a", "1");
    s.flush().unwrap();
    set(&s, "b", "2");
    s.close(true).unwrap();
    // the file is one change behind the journal: reading replays it in memory
    let journal = fs::read(journal_path(dir.path())).unwrap();
    let s = open(sync(opts(dir.path())));
    s.close(false).unwrap();
    let file_before = fs::read(doc_path(dir.path())).unwrap();
    let _ = journal;
    let ro = open(opts_fs(dir.path(), Arc::new(FaultFs::read_only())));
    assert!(ro.report().read_only);
    assert_eq!(text(&ro), r#"{"a":1,"b":2}"#);
    let err = ro.set("c", b"3", C).unwrap_err();
    assert_eq!(err.code(), "E_READONLY");
    assert_eq!(text(&ro), r#"{"a":1,"b":2}"#, "nothing applied");
    // a no-op change is not an error
    assert!(ro.set("a", b"1", C).unwrap().is_none());
    assert_eq!(
        ro.create_backup("x", false).unwrap_err().code(),
        "E_READONLY"
    );
    ro.flush().unwrap();
    ro.close(false).unwrap();
    assert_eq!(fs::read(doc_path(dir.path())).unwrap(), file_before);
}

#[test]
fn a_second_instance_shares_the_file_with_its_own_options_or_is_refused_naming_the_option() {
    let dir = tmp();
    let a = registry::open(opts(dir.path())).unwrap();
    let mut o = opts(dir.path());
    o.dot_notation = false;
    let b = registry::open(o).unwrap();
    assert!(Arc::ptr_eq(a.core(), b.core()), "one core per file");
    set(&a, "x.y", "1");
    assert_eq!(get(&b, "x.y"), None, "b reads keys literally");
    set(&b, "x.y", "2");
    assert_eq!(get(&b, "x.y").as_deref(), Some("2"));
    assert_eq!(get(&a, "x").as_deref(), Some("{\"y\":1}"));
    for (name, f) in [
        (
            "history.maxEntries",
            Box::new(|o: &mut tad_store_core::StoreOptions| o.history_max = 7)
                as Box<dyn Fn(&mut _)>,
        ),
        (
            "configFileMode",
            Box::new(|o: &mut tad_store_core::StoreOptions| o.mode = 0o644),
        ),
        (
            "history.directory",
            Box::new(|o: &mut tad_store_core::StoreOptions| {
                o.history_dir = o.history_dir.join("other")
            }),
        ),
    ] {
        let mut o = opts(dir.path());
        f(&mut o);
        let err = registry::open(o).err().unwrap();
        assert_eq!(err.code(), "E_OPTION_CONFLICT");
        assert!(err.to_string().contains(name), "{err}");
    }
    // closing one instance leaves the file open for the other
    a.close(false).unwrap();
    set(&b, "z", "3");
    b.close(false).unwrap();
    let c = open(opts(dir.path()));
    assert_eq!(text(&c), r#"{"x":{"y":1},"x.y":2,"z":3}"#);
    let _ = Call {
        validate: false,
        values: false,
    };
}

#[test]
fn a_single_key_change_the_schema_refuses_is_undone_in_place_exactly() {
    use std::sync::Arc;
    use tad_store_core::schema::Schema;
    let dir = tmp();
    let mut o = opts(dir.path());
    o.schema = Some(Arc::new(
        Schema::new(
            Some(&serde_json::json!({ "n": { "type": "number" }, "w": { "type": "object", "properties": { "k5": { "type": "string" } } } })),
            None,
        )
        .unwrap(),
    ));
    let h = open(o);
    let mut wide = String::from("{");
    for i in 0..2000 {
        wide.push_str(&format!(
            "{}\"k{i}\":\"v{i}\"",
            if i > 0 { "," } else { "" }
        ));
    }
    wide.push('}');
    set(&h, "w", &wide);
    set(&h, "n", "1");
    let before = text(&h);
    // refused: a wrong type at the top, a wrong type deep in a wide object,
    // a new key inserted (its removal must restore the order), a delete
    assert!(h.set("n", b"\"x\"", C).is_err());
    assert!(h.set("w.k5", b"5", C).is_err());
    assert_eq!(text(&h), before, "byte-identical after refused changes");
    // accepted ones still apply in place and are durable
    set(&h, "w.k5", "\"new\"");
    set(&h, "w.added", "1");
    h.delete("w.k0", C).unwrap();
    h.flush().unwrap();
    let after = text(&h);
    h.close(false).unwrap();
    let again = open(opts(dir.path()));
    assert_eq!(text(&again), after);
    assert!(
        after.contains("\"k5\":\"new\"")
            && after.contains("\"added\":1")
            && !after.contains("\"k0\"")
    );
}
