//! Helpers shared by the core's integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use tad_store_core::events::{Event, Sink};
use tad_store_core::fs::FileSystem;
use tad_store_core::journal::{scan, Entry};
use tad_store_core::value::to_json;
use tad_store_core::{registry, Call, Durability, Handle, StoreOptions};

pub const C: Call = Call {
    validate: true,
    values: true,
};

/// A temp dir, on tmpfs when there is one (fsync is then cheap, so the
/// fault-injection loops stay fast).
pub fn tmp() -> tempfile::TempDir {
    let shm = Path::new("/dev/shm");
    if shm.is_dir() {
        if let Ok(d) = tempfile::tempdir_in(shm) {
            return d;
        }
    }
    tempfile::tempdir().unwrap()
}

pub fn opts(dir: &Path) -> StoreOptions {
    StoreOptions::new(dir.join("config.json"))
}

pub fn opts_fs(dir: &Path, fs: Arc<dyn FileSystem>) -> StoreOptions {
    let mut o = opts(dir);
    o.fs = fs;
    o
}

pub fn sync(mut o: StoreOptions) -> StoreOptions {
    o.durability = Durability::Sync;
    o
}

/// Opens a core of its own (as another process would).
pub fn open(o: StoreOptions) -> Handle {
    registry::open_unshared(o).unwrap()
}

pub fn set(h: &Handle, k: &str, json: &str) {
    h.set(k, json.as_bytes(), C).unwrap();
}

pub fn get(h: &Handle, k: &str) -> Option<String> {
    h.get_with(k, |v| {
        v.map(|v| String::from_utf8(to_json(v, false)).unwrap())
    })
    .unwrap()
}

/// The whole document as compact JSON.
pub fn text(h: &Handle) -> String {
    String::from_utf8(to_json(&h.snapshot().unwrap(), false)).unwrap()
}

pub fn doc_path(dir: &Path) -> PathBuf {
    dir.join("config.json")
}

pub fn journal_path(dir: &Path) -> PathBuf {
    dir.join("storeHistory/config.json.journal")
}

/// (change seqs, checkpoint seqs) in the journal file.
pub fn journal_seqs(dir: &Path) -> (Vec<u64>, Vec<u64>) {
    let bytes = std::fs::read(journal_path(dir)).unwrap_or_default();
    let s = scan(&tad_store_core::codec::Plain, &bytes);
    assert!(s.damaged.is_none(), "journal damaged: {:?}", s.damaged);
    let mut changes = Vec::new();
    let mut cps = Vec::new();
    for (_, e) in s.entries {
        match e {
            Entry::Change(c) => changes.push(c.seq),
            Entry::Checkpoint(c) => cps.push(c.seq),
        }
    }
    (changes, cps)
}

/// A sink that keeps every event.
#[derive(Default)]
pub struct Recorder(pub Mutex<Vec<Event>>);

impl Sink for Recorder {
    fn emit(&self, event: Event) {
        self.0.lock().unwrap().push(event);
    }
}

impl Recorder {
    pub fn take(&self) -> Vec<Event> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }
}

pub fn install(h: &Handle) -> Arc<Recorder> {
    let r = Arc::new(Recorder::default());
    h.core().add_sink(0, r.clone());
    r
}

/// Files in a directory whose names contain `part`.
pub fn files_with(dir: &Path, part: &str) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|r| {
            r.filter_map(|e| e.ok())
                .map(|e| e.path())
                .filter(|p| p.file_name().unwrap().to_string_lossy().contains(part))
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}
