//! Helpers shared by the core's integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use tad_store_core::events::{Event, Sink};
use tad_store_core::fs::sim::{Profile, SimFs};
use tad_store_core::fs::{FaultFs, FaultPlan, FileSystem, RealFs};
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

/// Whether this test binary runs over the simulated Windows file system: the
/// `*_on_windows` binaries include the test files as they are, and every
/// store they open (as one process or several) gets that file system.
pub fn on_windows() -> bool {
    env!("CARGO_CRATE_NAME").ends_with("_on_windows")
}

static SIM: std::sync::OnceLock<SimFs> = std::sync::OnceLock::new();

/// The simulated Windows (a FAT/exFAT or SMB volume: the strictest), one per
/// test binary — one machine.
pub fn windows_sim() -> Option<SimFs> {
    on_windows().then(|| {
        SIM.get_or_init(|| SimFs::new(Profile::windows_fat()))
            .clone()
    })
}

/// The file system the tests run on.
pub fn base_fs() -> Arc<dyn FileSystem> {
    match windows_sim() {
        Some(s) => Arc::new(s),
        None => Arc::new(RealFs),
    }
}

/// Faults injected over the file system the tests run on.
pub fn fault_fs(plan: Option<FaultPlan>) -> FaultFs {
    FaultFs::over(base_fs(), plan)
}

pub fn opts(dir: &Path) -> StoreOptions {
    let mut o = StoreOptions::new(dir.join("config.json"));
    o.fs = base_fs();
    o
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

// -- a case-insensitive volume --------------------------------------------------

use tad_store_core::fs::{FileHandle, Stat};

/// A file system whose names under `root` are case-insensitive (as on
/// Windows and macOS volumes): every name below `root` is stored in lower
/// case, so `Config.json` and `config.json` are one file.
pub struct CaseFoldFs {
    pub root: PathBuf,
}

impl CaseFoldFs {
    fn map(&self, p: &Path) -> PathBuf {
        match p.strip_prefix(&self.root) {
            Ok(rest) => self.root.join(rest.to_string_lossy().to_lowercase()),
            Err(_) => p.to_path_buf(),
        }
    }
}

struct FoldFile {
    inner: Box<dyn FileHandle>,
    root: PathBuf,
}

impl FileHandle for FoldFile {
    fn write_at(&mut self, offset: u64, data: &[u8]) -> std::io::Result<()> {
        self.inner.write_at(offset, data)
    }
    fn write_all(&mut self, data: &[u8]) -> std::io::Result<()> {
        self.inner.write_all(data)
    }
    fn read_at(&mut self, offset: u64, len: usize) -> std::io::Result<Vec<u8>> {
        self.inner.read_at(offset, len)
    }
    fn sync_data(&mut self) -> std::io::Result<()> {
        self.inner.sync_data()
    }
    fn sync_all(&mut self) -> std::io::Result<()> {
        self.inner.sync_all()
    }
    fn set_len(&mut self, len: u64) -> std::io::Result<()> {
        self.inner.set_len(len)
    }
    fn len(&self) -> std::io::Result<u64> {
        self.inner.len()
    }
    fn set_mode(&mut self, mode: u32) -> std::io::Result<()> {
        self.inner.set_mode(mode)
    }
    fn try_lock(&self) -> std::io::Result<bool> {
        self.inner.try_lock()
    }
    fn unlock(&self) -> std::io::Result<()> {
        self.inner.unlock()
    }
    fn is_at(&self, path: &Path) -> std::io::Result<bool> {
        let fs = CaseFoldFs {
            root: self.root.clone(),
        };
        self.inner.is_at(&fs.map(path))
    }
}

impl CaseFoldFs {
    fn wrap(&self, f: Box<dyn FileHandle>) -> Box<dyn FileHandle> {
        Box::new(FoldFile {
            inner: f,
            root: self.root.clone(),
        })
    }
}

impl FileSystem for CaseFoldFs {
    fn read(&self, path: &Path) -> std::io::Result<Vec<u8>> {
        RealFs.read(&self.map(path))
    }
    fn create_new(&self, path: &Path) -> std::io::Result<Box<dyn FileHandle>> {
        Ok(self.wrap(RealFs.create_new(&self.map(path))?))
    }
    fn open_rw(&self, path: &Path, mode: u32) -> std::io::Result<Box<dyn FileHandle>> {
        Ok(self.wrap(RealFs.open_rw(&self.map(path), mode)?))
    }
    fn rename(&self, from: &Path, to: &Path) -> std::io::Result<()> {
        RealFs.rename(&self.map(from), &self.map(to))
    }
    fn exchange(&self, a: &Path, b: &Path) -> std::io::Result<()> {
        RealFs.exchange(&self.map(a), &self.map(b))
    }
    fn remove_file(&self, path: &Path) -> std::io::Result<()> {
        RealFs.remove_file(&self.map(path))
    }
    fn create_dir(&self, path: &Path, mode: u32) -> std::io::Result<()> {
        RealFs.create_dir(&self.map(path), mode)
    }
    fn sync_dir(&self, path: &Path) -> std::io::Result<()> {
        RealFs.sync_dir(&self.map(path))
    }
    fn stat(&self, path: &Path, follow: bool) -> std::io::Result<Stat> {
        RealFs.stat(&self.map(path), follow)
    }
    fn read_dir(&self, path: &Path) -> std::io::Result<Vec<String>> {
        RealFs.read_dir(&self.map(path))
    }
    fn set_mode(&self, path: &Path, mode: u32) -> std::io::Result<()> {
        RealFs.set_mode(&self.map(path), mode)
    }
    fn read_link(&self, path: &Path) -> std::io::Result<PathBuf> {
        RealFs.read_link(&self.map(path))
    }
    fn canonicalize(&self, path: &Path) -> std::io::Result<PathBuf> {
        RealFs.canonicalize(&self.map(path))
    }
}
