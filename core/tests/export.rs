//! The custom-serialize export (`tad_store_core::export`): the core's atomic
//! write on the JS thread, which never sleeps — a file another program holds
//! (a simulated Windows) waits in its temp file and is tried again a bounded
//! number of times; a fault (EIO, ENOSPC) fails at once; in every case the
//! target holds either its old bytes or the new ones, no temp file is left
//! once the export ends, and the mark is written only after the file is in
//! place.

use std::path::Path;
use std::sync::Arc;

use tad_store_core::error::raw;
use tad_store_core::export::{mark_path, ExportSlot, Exported, Exporter, EXPORT_TRIES};
use tad_store_core::fs::sim::{HoldKind, Profile, SimFs};
use tad_store_core::fs::{FaultFs, FaultKind, FaultPlan, FileSystem, RealFs};

fn temps(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp"))
        .collect()
}

fn exporter<'a>(fs: &'a dyn FileSystem, history: &'a Path, slot: &'a ExportSlot) -> Exporter<'a> {
    Exporter {
        fs,
        history_dir: history,
        mode: 0o600,
        slot,
    }
}

struct Dirs {
    _tmp: tempfile::TempDir,
    app: std::path::PathBuf,
    history: std::path::PathBuf,
}

fn dirs() -> Dirs {
    let tmp = tempfile::tempdir().unwrap();
    let app = tmp.path().join("app");
    let history = app.join("storeHistory");
    std::fs::create_dir_all(&history).unwrap();
    Dirs {
        app,
        history,
        _tmp: tmp,
    }
}

#[test]
fn an_export_lands_then_its_mark() {
    let d = dirs();
    let target = d.app.join("config.txt");
    let slot = ExportSlot::default();
    let x = exporter(&RealFs, &d.history, &slot);
    assert_eq!(
        x.write(&target, b"a=1\n", b"{\"seq\":1}").unwrap(),
        Exported::Written
    );
    assert_eq!(std::fs::read(&target).unwrap(), b"a=1\n");
    assert_eq!(x.mark(&target).unwrap().unwrap(), b"{\"seq\":1}");
    assert_eq!(
        mark_path(&d.history, &target),
        d.history.join("config.txt.serialized.json")
    );
    assert!(temps(&d.app).is_empty());
    // nothing waiting: a retry is a no-op
    assert_eq!(x.retry(true).unwrap(), Exported::Written);
}

#[test]
fn a_held_file_waits_in_its_temp_and_lands_when_the_hold_ends() {
    let d = dirs();
    let target = d.app.join("config.txt");
    let sim = SimFs::new(Profile::windows_ntfs());
    let slot = ExportSlot::default();
    let x = exporter(&sim, &d.history, &slot);
    x.write(&target, b"old", b"m0").unwrap();
    let hold = sim.hold(&target, HoldKind::Scan, None);
    let r = x.write(&target, b"new", b"m1").unwrap();
    assert!(matches!(r, Exported::Held { .. }), "{r:?}");
    assert_eq!(
        std::fs::read(&target).unwrap(),
        b"old",
        "the old file is untouched"
    );
    assert_eq!(temps(&d.app).len(), 1, "the export waits in its temp file");
    assert_eq!(
        x.mark(&target).unwrap().unwrap(),
        b"m0",
        "no mark before the file is in place"
    );
    assert!(matches!(x.retry(false).unwrap(), Exported::Held { .. }));
    sim.release(hold);
    assert_eq!(x.retry(false).unwrap(), Exported::Written);
    assert_eq!(std::fs::read(&target).unwrap(), b"new");
    assert_eq!(x.mark(&target).unwrap().unwrap(), b"m1");
    assert!(temps(&d.app).is_empty());
}

#[test]
fn a_hold_that_outlasts_the_tries_fails_with_its_os_error_and_leaves_nothing() {
    let d = dirs();
    let target = d.app.join("config.txt");
    let sim = SimFs::new(Profile::windows_ntfs());
    let slot = ExportSlot::default();
    let x = exporter(&sim, &d.history, &slot);
    x.write(&target, b"old", b"m0").unwrap();
    let _hold = sim.hold(&target, HoldKind::Scan, None);
    let mut tries = 1;
    let mut r = x.write(&target, b"new", b"m1");
    while let Ok(Exported::Held { .. }) = r {
        tries += 1;
        r = x.retry(false);
    }
    let e = r.unwrap_err();
    assert_eq!(tries, EXPORT_TRIES);
    assert_eq!(e.code(), "E_IO");
    assert_eq!(e.os_cause().unwrap().0, Some("EBUSY"));
    assert_eq!(e.path().unwrap(), target);
    assert_eq!(std::fs::read(&target).unwrap(), b"old");
    assert_eq!(x.mark(&target).unwrap().unwrap(), b"m0");
    assert!(temps(&d.app).is_empty(), "the temp file is removed");
}

#[test]
fn the_last_try_does_not_wait_and_a_newer_export_replaces_a_waiting_one() {
    let d = dirs();
    let target = d.app.join("config.txt");
    let sim = SimFs::new(Profile::windows_ntfs());
    let slot = ExportSlot::default();
    let x = exporter(&sim, &d.history, &slot);
    let hold = sim.hold(&target, HoldKind::Scan, None);
    assert!(matches!(
        x.write(&target, b"one", b"m1").unwrap(),
        Exported::Held { .. }
    ));
    assert!(matches!(
        x.write(&target, b"two", b"m2").unwrap(),
        Exported::Held { .. }
    ));
    assert_eq!(temps(&d.app).len(), 1, "one export waiting: the newest");
    assert_eq!(
        x.retry(true).unwrap_err().os_cause().unwrap().0,
        Some("EBUSY")
    );
    assert!(temps(&d.app).is_empty());
    assert!(!target.exists());
    sim.release(hold);
    x.write(&target, b"three", b"m3").unwrap();
    assert_eq!(std::fs::read(&target).unwrap(), b"three");
}

#[test]
fn faults_fail_at_once_and_never_half_write() {
    let cases = [
        (FaultKind::Write, raw::NO_SPACE, "E_NOSPC"),
        (FaultKind::Sync, raw::IO, "E_IO"),
        (FaultKind::Rename, raw::IO, "E_IO"),
    ];
    for (kind, errno, code) in cases {
        let d = dirs();
        let target = d.app.join("config.txt");
        let fs = FaultFs::over(Arc::new(RealFs), None);
        let slot = ExportSlot::default();
        let x = exporter(&fs, &d.history, &slot);
        x.write(&target, b"old", b"m0").unwrap();
        fs.arm(FaultPlan {
            kind,
            at: 1,
            errno,
            sticky: false,
        });
        let e = x.write(&target, b"new", b"m1").unwrap_err();
        assert_eq!(e.code(), code, "{kind:?}");
        assert_eq!(fs.injected(), 1);
        assert_eq!(std::fs::read(&target).unwrap(), b"old", "{kind:?}");
        assert_eq!(x.mark(&target).unwrap().unwrap(), b"m0", "{kind:?}");
        assert!(temps(&d.app).is_empty(), "{kind:?}");
        // nothing waits after a fault that is not a hold
        assert_eq!(x.retry(false).unwrap(), Exported::Written);
        assert_eq!(std::fs::read(&target).unwrap(), b"old");
    }
}

#[test]
fn a_failed_directory_fsync_after_the_rename_is_an_error_and_no_mark() {
    let d = dirs();
    let target = d.app.join("config.txt");
    let fs = FaultFs::over(Arc::new(RealFs), None);
    let slot = ExportSlot::default();
    let x = exporter(&fs, &d.history, &slot);
    x.write(&target, b"old", b"m0").unwrap();
    // the temp file's fsync is the 1st, the directory's the 2nd
    fs.arm(FaultPlan {
        kind: FaultKind::Sync,
        at: 2,
        errno: raw::IO,
        sticky: false,
    });
    let e = x.write(&target, b"new", b"m1").unwrap_err();
    assert_eq!(e.code(), "E_IO");
    assert_eq!(
        x.mark(&target).unwrap().unwrap(),
        b"m0",
        "the mark is never ahead of a durable export"
    );
}

#[test]
fn stale_temps_of_dead_processes_are_removed() {
    let d = dirs();
    let target = d.app.join("config.txt");
    let stale = d.app.join(".config.txt.999999999.0.tmp");
    std::fs::write(&stale, b"x").unwrap();
    let other = d.app.join(".other.999999999.0.tmp");
    std::fs::write(&other, b"x").unwrap();
    assert_eq!(
        tad_store_core::export::remove_stale_temps(&RealFs, &target),
        1
    );
    assert!(!stale.exists());
    assert!(other.exists(), "only the export's own temps");
}
