//! Store names across platforms: two spellings of one file on a
//! case-insensitive volume share one core (they do not fight over the lock),
//! two files on a case-sensitive one stay two stores, and a name the platform
//! refuses is a TypeError-class error before anything is created. (The
//! Windows rules themselves are unit tests in `names.rs`.)

mod common;

use std::path::Path;
use std::sync::Arc;

use common::*;
use tad_store_core::registry;
use tad_store_core::StoreOptions;

fn named(dir: &Path, name: &str, fs: Arc<dyn tad_store_core::fs::FileSystem>) -> StoreOptions {
    let mut o = StoreOptions::new(dir.join(name));
    o.fs = fs;
    o
}

#[test]
fn two_spellings_on_a_case_insensitive_volume_share_one_core() {
    let dir = tmp();
    let fs: Arc<dyn tad_store_core::fs::FileSystem> = Arc::new(CaseFoldFs {
        root: dir.path().to_path_buf(),
    });
    let upper = registry::open(named(dir.path(), "Config.json", fs.clone())).unwrap();
    let lower = registry::open(named(dir.path(), "config.json", fs.clone())).unwrap();
    assert_eq!(upper.core().id(), lower.core().id(), "one file, one core");
    set(&upper, "a", "1");
    assert_eq!(get(&lower, "a").as_deref(), Some("1"));
    set(&lower, "b", "2");
    upper.flush().unwrap();
    // one journal, one lock, one document on the disk (the volume keeps
    // every name in lower case)
    let text = std::fs::read_to_string(dir.path().join("config.json")).unwrap();
    assert!(text.contains("\"a\"") && text.contains("\"b\""), "{text}");
    let mut names: Vec<String> = std::fs::read_dir(dir.path().join("storehistory"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["config.json.journal", "config.json.lock"]);
    upper.close(false).unwrap();
    assert_eq!(
        get(&lower, "b").as_deref(),
        Some("2"),
        "the other stays open"
    );
    lower.close(false).unwrap();
}

/// Whether names in `dir` ignore letter case (Windows, macOS by default).
fn case_insensitive(dir: &Path) -> bool {
    std::fs::write(dir.join("Probe-Case"), b"x").unwrap();
    let yes = dir.join("probe-case").exists();
    std::fs::remove_file(dir.join("Probe-Case")).unwrap();
    yes
}

#[test]
fn two_spellings_on_this_volume_are_one_store_exactly_when_its_names_ignore_case() {
    // Linux: two stores; a default macOS or Windows volume: one
    let dir = tmp();
    let one_file = case_insensitive(dir.path());
    let fs: Arc<dyn tad_store_core::fs::FileSystem> = Arc::new(tad_store_core::fs::RealFs);
    let upper = registry::open(named(dir.path(), "Config.json", fs.clone())).unwrap();
    let lower = registry::open(named(dir.path(), "config.json", fs.clone())).unwrap();
    assert_eq!(upper.core().id() == lower.core().id(), one_file);
    set(&upper, "a", "1");
    assert_eq!(get(&lower, "a").is_some(), one_file);
    set(&lower, "b", "2");
    upper.close(false).unwrap();
    lower.close(false).unwrap();
    let reopened = registry::open(named(dir.path(), "CONFIG.json", fs)).unwrap();
    assert_eq!(get(&reopened, "a").is_some(), one_file);
    reopened.close(false).unwrap();
}

#[test]
fn a_name_the_platform_refuses_is_an_argument_error_and_creates_nothing() {
    let dir = tmp();
    let fs: Arc<dyn tad_store_core::fs::FileSystem> = Arc::new(tad_store_core::fs::RealFs);
    let cwd = dir.path().join("app");
    // too long once the store's suffixes are added (every platform)
    let long = format!("{}.json", "n".repeat(200));
    let e = registry::open(named(&cwd, &long, fs.clone()))
        .err()
        .expect("refused");
    assert!(e.is_type_error(), "{e}");
    assert_eq!(e.code(), "E_INVALID_ARGUMENT");
    assert!(e.to_string().contains("store file"), "{e}");
    // a NUL byte (every platform)
    let e = registry::open(named(&cwd, "a\0b.json", fs.clone()))
        .err()
        .expect("refused");
    assert!(e.to_string().contains("NUL"), "{e}");
    if cfg!(windows) {
        // (not "a:b.json": Windows reads that as drive A:)
        for name in ["CON.json", "nul", "config.", "ab:c.json", "x|y.json"] {
            let e = registry::open(named(&cwd, name, fs.clone()))
                .err()
                .expect("refused");
            assert!(e.is_type_error(), "{name}: {e}");
        }
    }
    assert!(!cwd.exists(), "nothing was created");
    // the longest name that leaves the room works
    let ok = format!("{}.json", "n".repeat(255 - 64 - 5));
    let h = registry::open(named(&cwd, &ok, fs)).unwrap();
    set(&h, "a", "1");
    h.close(false).unwrap();
}
