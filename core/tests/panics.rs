//! A panic anywhere in the core becomes an `E_INTERNAL` error: the writer
//! thread keeps running (no hang for sync writers or `flush`), the store stays
//! usable, and nothing acknowledged is lost. (One test: the panic points are
//! process-wide.)

mod common;

use std::panic::{catch_unwind, AssertUnwindSafe};

use common::*;
use tad_store_core::testing::arm_panic;

#[test]
fn panics_become_errors_and_the_store_stays_usable() {
    let dir = tmp();
    // in the writer, while planning a batch: sync writes fail with E_INTERNAL
    let s = open(sync(opts(dir.path())));
    set(&s, "before", "1");
    arm_panic(Some("writer.batch"), 1);
    let err = s.set("a", b"1", C).unwrap_err();
    assert_eq!(err.code(), "E_INTERNAL");
    assert!(err.to_string().contains("panic"), "{err}");
    assert_eq!(get(&s, "a"), None, "undone");
    set(&s, "b", "2");
    s.close(false).unwrap();

    // deferred: flush reports it, the change is kept and written on the retry
    let d = open(opts(dir.path()));
    arm_panic(Some("journal.append"), 1);
    set(&d, "c", "3");
    let first = d.flush();
    assert!(
        first.is_ok() || first.as_ref().unwrap_err().code() == "E_INTERNAL",
        "{first:?}"
    );
    d.flush().unwrap();
    assert_eq!(get(&d, "c").as_deref(), Some("3"));

    // while writing the document
    arm_panic(Some("checkpoint.write"), 1);
    set(&d, "e", "5");
    let r = d.flush();
    assert!(r.is_ok() || r.unwrap_err().code() == "E_INTERNAL");
    d.flush().unwrap();

    // on the calling thread (a backup): the caller gets the panic (the addon
    // turns it into E_INTERNAL), and the store goes on
    arm_panic(Some("backup"), 1);
    assert!(catch_unwind(AssertUnwindSafe(|| d.create_backup("x", false))).is_err());
    d.create_backup("y", false).unwrap();
    set(&d, "f", "6");
    arm_panic(None, 0);
    d.close(false).unwrap();

    let r = open(opts(dir.path()));
    assert_eq!(text(&r), r#"{"before":1,"b":2,"c":3,"e":5,"f":6}"#);
    assert!(r.report().journal_damage.is_none());
}
