//! Windows and macOS semantics, simulated (`tad_store_core::fs::sim`): what
//! antivirus, backup and indexing software do to a store's files on Windows
//! (holds of chosen length), volumes that cannot replace an open file
//! (FAT/exFAT, SMB, ReFS), coarse timestamps without inode numbers, ACLs
//! instead of modes, macOS network volumes without `F_FULLFSYNC`, volumes
//! that cannot canonicalize, names that differ in case. Waits are on events
//! or on the simulation's own state, each with a generous deadline.

mod common;

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use common::*;
use tad_store_core::events::Event;
use tad_store_core::fs::sim::{HoldKind, Profile, SimFs};
use tad_store_core::fs::{FileSystem, RealFs};
use tad_store_core::{registry, StoreOptions};

const DEADLINE: Duration = Duration::from_secs(120);

fn on(sim: &SimFs, dir: &Path) -> StoreOptions {
    let mut o = StoreOptions::new(dir.join("config.json"));
    o.fs = Arc::new(sim.clone());
    o
}

fn fat() -> SimFs {
    SimFs::new(Profile::windows_fat())
}

/// Waits until `cond` holds, failing loudly after the deadline.
fn until(what: &str, mut cond: impl FnMut() -> bool) {
    let end = Instant::now() + DEADLINE;
    while !cond() {
        assert!(Instant::now() < end, "timed out waiting for {what}");
        thread::sleep(Duration::from_millis(2));
    }
}

/// Runs `f` on a thread; its result, or a loud failure after the deadline.
fn within<T: Send + 'static>(what: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(DEADLINE)
        .unwrap_or_else(|_| panic!("{what} did not finish"))
}

fn io_cause(e: &tad_store_core::Error) -> (Option<&'static str>, Option<i32>) {
    let (code, errno, _) = e.os_cause().expect("an OS cause");
    (code, errno)
}

/// The acceptance run: a 5 s hold on the document file (an antivirus scan).
/// Deferred sets go on (they never wait for the writer), the writer waits the
/// hold out, `flush()` resolves once it has ended and not before, every
/// acknowledged change is there after reopening, and the failure the writer
/// met on the way was reported as one, then as recovered.
#[test]
fn a_five_second_hold_on_the_document_is_waited_out_by_the_writer_and_flush() {
    let dir = tmp();
    let sim = fat();
    let h = open(on(&sim, dir.path()));
    set(&h, "before", "1");
    h.flush().unwrap();
    let rec = install(&h);
    let doc = doc_path(dir.path());
    let hold = sim.hold(&doc, HoldKind::Scan, Some(Duration::from_secs(5)));
    for i in 0..200 {
        set(&h, &format!("k{}", i % 7), &i.to_string());
    }
    let flushed = h.flush();
    assert!(
        !sim.is_held(&hold),
        "flush() resolved while the document was still held"
    );
    flushed.unwrap();
    assert!(
        sim.counts().sharing_violations > 0,
        "the writer met the hold"
    );
    let events = rec.take();
    let failed: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            Event::WriteFailed { error, .. } => Some((error.code(), error.to_string())),
            _ => None,
        })
        .collect();
    if !failed.is_empty() {
        // a hold longer than the per-operation retries is a write failure,
        // reported with its code, then recovered
        assert!(failed.iter().all(|(c, _)| *c == "E_IO"), "{failed:?}");
        assert!(
            events.iter().any(|e| matches!(e, Event::WriteRecovered)),
            "{events:?}"
        );
    }
    assert!(h.status().writer_error.is_none());
    let expect = text(&h);
    // the file holds the state, and a reopen gives it back
    assert_eq!(
        tad_store_core::value::to_json(
            &tad_store_core::value::parse_document(&std::fs::read(&doc).unwrap())
                .unwrap()
                .0,
            false
        ),
        expect.as_bytes()
    );
    h.close(false).unwrap();
    let r = open(on(&sim, dir.path()));
    assert_eq!(text(&r), expect);
    assert_eq!(get(&r, "k6").as_deref(), Some("195"));
}

/// Changes made while the writer is stuck behind a hold return at once: the
/// calling thread never waits for the writer or sleeps in a retry.
#[test]
fn sets_return_while_the_writer_is_stuck_behind_a_hold() {
    let dir = tmp();
    let sim = fat();
    let h = Arc::new(open(on(&sim, dir.path())));
    set(&h, "a", "0");
    h.flush().unwrap();
    let doc = doc_path(dir.path());
    let hold = sim.hold(&doc, HoldKind::Scan, None);
    // make the writer meet the hold
    set(&h, "a", "1");
    let h2 = h.clone();
    let (done_tx, done_rx) = mpsc::channel();
    thread::spawn(move || {
        let _ = done_tx.send(h2.flush());
    });
    until("the writer to meet the hold", || {
        sim.counts().sharing_violations >= 3
    });
    // while it is stuck, sets return (a set that waited would never return
    // before the hold is released below)
    let h3 = h.clone();
    within("1000 sets during the hold", move || {
        for i in 0..1000 {
            set(&h3, "a", &i.to_string());
        }
    });
    assert!(sim.is_held(&hold));
    assert!(
        done_rx.try_recv().is_err(),
        "flush() resolved while the document was held"
    );
    assert_eq!(get(&h, "a").as_deref(), Some("999"));
    sim.release(hold);
    done_rx
        .recv_timeout(DEADLINE)
        .expect("flush resolves once the hold ends")
        .unwrap();
    // (a flush waits for the changes made before it: the file holds a = 1 or later)
    let after_first = std::fs::read_to_string(&doc).unwrap();
    assert!(after_first.starts_with("{\n\t\"a\": "), "{after_first}");
    h.flush().unwrap();
    assert_eq!(std::fs::read_to_string(&doc).unwrap(), "{\n\t\"a\": 999\n}");
}

/// A hold that outlasts the patience: `flush()`, `close()` and sync sets fail
/// with its code (`E_IO`, cause `EBUSY`, errno 32) — never success — and keep
/// every change; once it ends, everything is written.
#[test]
fn a_hold_longer_than_the_patience_is_reported_with_its_code_and_nothing_is_lost() {
    let dir = tmp();
    let sim = fat();
    let mut o = on(&sim, dir.path());
    o.busy_patience = Duration::from_millis(300);
    let h = open(o.clone());
    set(&h, "a", "1");
    h.flush().unwrap();
    let doc = doc_path(dir.path());
    let hold = sim.hold(&doc, HoldKind::Scan, None);
    set(&h, "a", "2");
    let e = h.flush().unwrap_err();
    assert_eq!(e.code(), "E_IO");
    assert_eq!(io_cause(&e), (Some("EBUSY"), Some(32)));
    assert!(e.to_string().contains("config.json"), "{e}");
    let e = h.close(false).unwrap_err();
    assert_eq!(io_cause(&e), (Some("EBUSY"), Some(32)));
    assert!(
        !h.is_closed(),
        "close() with unwritten changes keeps the store open"
    );
    assert_eq!(get(&h, "a").as_deref(), Some("2"));
    assert_eq!(h.status().writer_error.unwrap().0, "E_IO");
    // a sync set on a held journal (opened per lock hold on Windows)
    let sync_h = open(sync(o.clone()));
    let journal = journal_path(dir.path());
    let jhold = sim.hold(&journal, HoldKind::Exclusive, None);
    let e = sync_h.set("b", b"1", C).unwrap_err();
    assert_eq!(io_cause(&e), (Some("EBUSY"), Some(32)));
    assert_eq!(get(&sync_h, "b"), None, "a sync set that failed is undone");
    sim.release(jhold);
    sim.release(hold);
    sync_h.set("b", b"2", C).unwrap();
    h.flush().unwrap();
    h.close(false).unwrap();
    sync_h.close(false).unwrap();
    let r = open(on(&sim, dir.path()));
    assert_eq!(text(&r), r#"{"a":2,"b":2}"#);
}

/// On the calling thread a hold is not waited out: opening a store whose
/// journal another program holds exclusively fails at once with the hold's
/// code, and opens once it ends.
#[test]
fn opening_during_an_exclusive_hold_fails_with_its_code_and_does_not_wait() {
    let dir = tmp();
    let sim = fat();
    let h = open(on(&sim, dir.path()));
    set(&h, "a", "1");
    h.close(false).unwrap();
    let hold = sim.hold(&journal_path(dir.path()), HoldKind::Exclusive, None);
    let Err(e) = registry::open_unshared(on(&sim, dir.path())) else {
        panic!("opened while the journal was held exclusively");
    };
    assert_eq!(e.code(), "E_IO");
    assert_eq!(io_cause(&e), (Some("EBUSY"), Some(32)));
    sim.release(hold);
    assert_eq!(text(&open(on(&sim, dir.path()))), r#"{"a":1}"#);
}

/// A journal held at trim time (rename refused): the checkpoint is made and
/// flush() succeeds; the trim error is shown, and the next checkpoint after
/// the hold trims.
#[test]
fn a_held_journal_delays_the_trim_never_the_checkpoint() {
    let dir = tmp();
    let sim = fat();
    let mut o = on(&sim, dir.path());
    o.history_max = 4;
    let h = open(o.clone());
    let journal = journal_path(dir.path());
    let hold = sim.hold(&journal, HoldKind::Scan, None);
    for i in 0..40 {
        set(&h, &format!("k{}", i % 3), &i.to_string());
    }
    h.flush().unwrap();
    let st = h.status();
    assert_eq!(st.checkpointed_seq, st.seq, "the checkpoint is made");
    let (code, msg) = st.journal_trim_error.expect("the trim failed");
    assert_eq!(code, "E_IO");
    assert!(msg.contains("journal"), "{msg}");
    let grown = journal_seqs(dir.path()).0.len();
    assert!(grown >= 40, "{grown}");
    sim.release(hold);
    set(&h, "k0", "100");
    h.flush().unwrap();
    assert!(h.status().journal_trim_error.is_none());
    let trimmed = journal_seqs(dir.path()).0.len();
    assert!(trimmed < grown, "{trimmed} < {grown}");
    h.close(false).unwrap();
    let r = open(o);
    assert!(r.report().journal_damage.is_none());
    assert_eq!(get(&r, "k0").as_deref(), Some("100"));
}

/// FAT/exFAT, SMB, ReFS: a file that is open cannot be replaced. The journal
/// is held open only while a process holds the lock, so another process
/// replaces it (trims) while this one is open, and this one notices.
#[test]
fn the_journal_is_trimmed_on_volumes_that_cannot_replace_open_files() {
    let dir = tmp();
    let sim = fat();
    let mut o = on(&sim, dir.path());
    o.history_max = 4;
    let a = open(o.clone());
    let b = open(o.clone());
    set(&b, "b", "0");
    b.flush().unwrap();
    let journal = journal_path(dir.path());
    // neither process keeps the journal open between writes
    assert_eq!(sim.open_handles(&journal), 0);
    let before = sim.counts();
    for i in 0..200 {
        set(&a, "a", &i.to_string());
        if i % 20 == 0 {
            a.flush().unwrap();
        }
    }
    a.flush().unwrap();
    let after = sim.counts();
    assert_eq!(
        after.access_denied, before.access_denied,
        "never an open file"
    );
    assert!(a.status().journal_trim_error.is_none());
    assert!(journal_seqs(dir.path()).0.len() < 40, "bounded");
    // b was open throughout: it sees the replaced journal and goes on
    set(&b, "b", "1");
    b.flush().unwrap();
    assert_eq!(text(&b), r#"{"b":1,"a":199}"#);
    a.reload().unwrap();
    assert_eq!(text(&a), text(&b));
    assert!(b.status().journal_damage.is_none());
}

/// A key rotation replaces the journal too (close, replace, reopen), with
/// another process open on the store.
#[test]
fn a_key_rotation_replaces_the_journal_on_a_volume_that_cannot_replace_open_files() {
    let dir = tmp();
    let sim = fat();
    let keyed = |key: u8| {
        let mut o = on(&sim, dir.path());
        o.codec = Arc::new(
            tad_store_core::crypto::SecretCodec::new(
                vec![vec!["token".into()]],
                vec!["token".into()],
                &[key; 32],
                true,
            )
            .unwrap(),
        );
        o
    };
    let a = open(keyed(1));
    set(&a, "token", "\"s3cret\"");
    set(&a, "plain", "1");
    a.flush().unwrap();
    let before = sim.counts().replaces;
    a.core().rotate_key(&[2u8; 32]).unwrap();
    assert!(sim.counts().replaces > before);
    set(&a, "plain", "2");
    a.close(false).unwrap();
    let r = open(keyed(2));
    assert_eq!(text(&r), r#"{"token":"s3cret","plain":2}"#);
    assert!(r.report().journal_damage.is_none());
    let journal = std::fs::read(journal_path(dir.path())).unwrap();
    assert!(
        !String::from_utf8_lossy(&journal).contains("s3cret"),
        "sealed in the journal"
    );
}

/// FAT's 2 s timestamps and no inode numbers: an edit of the same length saved
/// in the same timestamp tick as the store's own write keeps every part of
/// the file's stamp; it is still seen (the content is checked while the stamp
/// cannot tell), and the store's own write is not taken for an edit. (A round
/// whose two writes straddle a tick boundary is seen by its stamp; rounds go on
/// until one fell within a tick, which is nearly always the first.)
#[test]
fn a_same_length_edit_in_the_same_timestamp_tick_is_seen() {
    let dir = tmp();
    let sim = fat();
    let h = open(on(&sim, dir.path()));
    let doc = doc_path(dir.path());
    let end = Instant::now() + DEADLINE;
    let mut same_tick = 0;
    let mut n = 0;
    while same_tick == 0 {
        assert!(Instant::now() < end, "no round fell within one tick");
        n = (n + 1) % 10;
        set(&h, "theme", &format!("\"dark{n}\""));
        h.flush().unwrap();
        assert!(
            h.reload().unwrap().is_empty(),
            "our own write is not an edit"
        );
        let before = sim.stat(&doc, true).unwrap();
        std::fs::write(&doc, format!("{{\n\t\"theme\": \"pink{n}\"\n}}")).unwrap();
        let after = sim.stat(&doc, true).unwrap();
        assert_eq!((before.len, before.ino), (after.len, after.ino));
        if before.modified == after.modified {
            same_tick += 1;
        }
        let changes = h.reload().unwrap();
        assert_eq!(changes.len(), 1, "round {n}");
        assert_eq!(get(&h, "theme"), Some(format!("\"pink{n}\"")));
        // and once taken, it is not taken again
        assert!(h.reload().unwrap().is_empty());
    }
}

/// Everything the store creates on Windows gets an owner-only ACL (the mode's
/// stand-in) — document, temp files, journal, lock, backups and their
/// metadata, migration snapshots, directories — whatever the `cwd` allows;
/// `configFileMode` 0o644 leaves the document with its directory's ACL, as it
/// leaves Unix modes loose; a `storeHistory/` found loose is tightened.
#[test]
fn windows_acls_keep_what_the_store_creates_private() {
    let root = tmp();
    let sim = fat();
    let cwd = root.path().join("app");
    let h = open(on(&sim, &cwd));
    set(&h, "apiKey", "\"sk-1\"");
    h.flush().unwrap();
    h.create_backup("test", false).unwrap();
    h.migration_snapshot("before 2.0").unwrap();
    set(&h, "apiKey", "\"sk-2\"");
    h.close(false).unwrap();
    let mut files = Vec::new();
    walk(&cwd, &mut files);
    assert!(files.len() >= 8, "{files:?}");
    for f in &files {
        assert!(sim.is_private(f), "{} is not private", f.display());
    }
    // a cwd the store did not create, and a loose configFileMode
    let shared = root.path().join("shared");
    std::fs::create_dir(&shared).unwrap();
    std::fs::create_dir(shared.join("storeHistory")).unwrap();
    let mut o = on(&sim, &shared);
    o.mode = 0o644;
    let h = open(o);
    set(&h, "a", "1");
    h.close(false).unwrap();
    assert!(
        !sim.is_private(&shared.join("config.json")),
        "0o644: inherited"
    );
    assert!(sim.is_private(&shared.join("storeHistory")), "tightened");
    assert!(
        sim.is_private(&journal_path(&shared)),
        "inside a private directory"
    );
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            walk(&p, out);
        }
        out.push(p);
    }
}

/// A macOS SMB/NFS/FUSE volume: `F_FULLFSYNC` is not supported and
/// directory fsync fails with `EINVAL`. The store opens (it used to throw),
/// writes, flushes sync and deferred changes and reopens; every flush went
/// through the fallback to `fsync`.
#[test]
fn a_macos_network_volume_without_full_fsync_works() {
    let dir = tmp();
    let sim = SimFs::new(Profile::macos_network());
    let h = open(sync(on(&sim, dir.path())));
    set(&h, "a", "1");
    h.create_backup("smb", false).unwrap();
    let d = open(on(&sim, dir.path()));
    set(&d, "b", "2");
    d.flush().unwrap();
    h.close(false).unwrap();
    d.close(false).unwrap();
    let c = sim.counts();
    assert!(c.full_fsync_fallbacks > 0, "{c:?}");
    assert!(c.dir_syncs_refused > 0, "{c:?}");
    let r = open(on(&sim, dir.path()));
    assert_eq!(text(&r), r#"{"a":1,"b":2}"#);
}

/// Identity uses the canonical path; the store keeps the path it was given.
#[cfg(unix)]
#[test]
fn a_store_keeps_its_given_path_and_shares_by_canonical_identity() {
    let root = tmp();
    let real = root.path().join("private-var");
    std::fs::create_dir(&real).unwrap();
    let link = root.path().join("var");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    let through_link = registry::open(StoreOptions::new(link.join("config.json"))).unwrap();
    assert_eq!(
        through_link.core().config().doc_path,
        link.join("config.json"),
        "the path asked for, not /private/var/…"
    );
    let direct = registry::open(StoreOptions::new(real.join("config.json"))).unwrap();
    assert!(
        Arc::ptr_eq(through_link.core(), direct.core()),
        "one store file, one core"
    );
    through_link.set("a", b"1", C).unwrap();
    assert_eq!(get(&direct, "a").as_deref(), Some("1"));
    through_link.close(false).unwrap();
    direct.close(false).unwrap();
}

/// A volume that cannot canonicalize (a RAM disk bypassing the mount
/// manager, rust-lang/rust#79449) and names that differ in case: the store
/// opens, and both spellings reach one core.
#[test]
fn stores_open_where_canonicalize_fails_and_share_across_case() {
    let root = tmp();
    let ram = SimFs::new(Profile {
        canonicalize_fails: true,
        ..Profile::windows_ntfs()
    });
    let dir = root.path().join("ramdisk");
    let a = registry::open(on(&ram, &dir)).unwrap();
    a.set("a", b"1", C).unwrap();
    assert!(ram.counts().canonicalize_failures > 0);
    let b = registry::open(on(&ram, &dir)).unwrap();
    assert!(Arc::ptr_eq(a.core(), b.core()));
    a.close(false).unwrap();
    b.close(false).unwrap();

    let sim = fat();
    let dir = root.path().join("case");
    let lower = registry::open(on(&sim, &dir)).unwrap();
    lower.set("x", b"1", C).unwrap();
    lower.flush().unwrap();
    let mut o = on(&sim, &dir);
    o.path = dir.join("CONFIG.JSON");
    o.history_dir = dir.join("StoreHistory");
    let upper = registry::open(o).unwrap();
    assert!(
        Arc::ptr_eq(lower.core(), upper.core()),
        "config.json and CONFIG.JSON are one file here"
    );
    assert_eq!(get(&upper, "x").as_deref(), Some("1"));
    lower.close(false).unwrap();
    upper.close(false).unwrap();
}

/// The watcher classifies events on a case-insensitive volume whatever the
/// spelling, and another process's journal appends arrive.
#[test]
fn the_watcher_sees_another_process_on_the_simulated_windows() {
    let dir = tmp();
    let sim = fat();
    let a = open(on(&sim, dir.path()));
    let b = open(on(&sim, dir.path()));
    set(&a, "a", "1");
    a.flush().unwrap();
    let rec = install(&a);
    a.watch().unwrap();
    set(&b, "from_b", "2");
    b.flush().unwrap();
    until("b's change to reach a", || {
        get(&a, "from_b").as_deref() == Some("2")
    });
    assert!(rec
        .take()
        .iter()
        .any(|e| matches!(e, Event::Changed { .. })));
    a.close(false).unwrap();
    b.close(false).unwrap();
}

/// The real file system reports this platform's semantics (what the store
/// adapts to on Linux, macOS and Windows).
#[test]
fn the_real_file_system_reports_this_platforms_semantics() {
    let native = tad_store_core::fs::Semantics::native();
    assert_eq!(RealFs.semantics(), native);
    assert_eq!(native.replace_open_files, !cfg!(windows));
    assert_eq!(
        native.case_insensitive,
        cfg!(any(windows, target_os = "macos"))
    );
}
