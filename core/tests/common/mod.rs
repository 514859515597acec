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
    h.core().set_sink(Some(r.clone()));
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

// -- a watch backend double --------------------------------------------------

use std::sync::mpsc::{channel, Sender};
use tad_store_core::watch::{Backend, Signal, SignalTx};

enum Cmd {
    Signal(Signal),
    Panic,
}

#[derive(Default)]
struct DoubleState {
    starts: u32,
    refuse: bool,
    ctl: Option<Sender<Cmd>>,
}

/// A watch backend that reports only what the test tells it to: every real
/// change is dropped (as a backend that overflowed or stopped silently would),
/// it can refuse to start, and its thread (which owns what the watcher gave
/// it) can panic.
#[derive(Default)]
pub struct DoubleBackend(Mutex<DoubleState>);

impl Backend for DoubleBackend {
    fn start(&self, _dirs: &[PathBuf], tx: SignalTx) -> std::io::Result<Box<dyn Send>> {
        let mut st = self.0.lock().unwrap();
        if st.refuse {
            return Err(std::io::Error::other("the test refuses to start a backend"));
        }
        st.starts += 1;
        let (ctl, rx) = channel::<Cmd>();
        std::thread::spawn(move || {
            // `tx` lives on this thread: dropped when it ends or panics
            let tx = tx;
            while let Ok(cmd) = rx.recv() {
                match cmd {
                    Cmd::Signal(s) => tx.send(s),
                    Cmd::Panic => panic!("the watch backend's thread panicked (a test)"),
                }
            }
        });
        st.ctl = Some(ctl.clone());
        Ok(Box::new(ctl))
    }
}

impl DoubleBackend {
    /// Makes the running backend report `s`.
    pub fn send(&self, s: Signal) {
        let st = self.0.lock().unwrap();
        st.ctl
            .as_ref()
            .expect("started")
            .send(Cmd::Signal(s))
            .unwrap();
    }

    /// Makes the running backend's thread panic.
    pub fn panic_thread(&self) {
        let st = self.0.lock().unwrap();
        st.ctl.as_ref().expect("started").send(Cmd::Panic).unwrap();
    }

    /// How many times a backend was started.
    pub fn starts(&self) -> u32 {
        self.0.lock().unwrap().starts
    }

    /// Starts fail while `refuse` holds.
    pub fn refuse_starts(&self, refuse: bool) {
        self.0.lock().unwrap().refuse = refuse;
    }
}
