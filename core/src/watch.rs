//! Watching the store's files (`watch: true`).
//!
//! The directories that hold the document and the journal are watched — the
//! directories, not the file's inode, so every way of replacing the file is
//! seen: a rename-over save, `mv`, truncate-and-write, delete and recreate. The
//! OS side is a [`Backend`]: `notify` 9 ([`NotifyBackend`]: inotify, FSEvents,
//! ReadDirectoryChangesW) in the product, doubles in tests. Raw events are
//! debounced per source ([`Debouncer`], with an injectable [`Clock`] for tests)
//! and handed to the store ([`Watched::on_watch`]; the watcher knows the store
//! only through that small trait) on this module's own thread:
//!
//! - the journal changed: another process appended (or trimmed) — the shared
//!   log's catch-up (`store::Core::catch_up_now`);
//! - the document changed: `store::Core::check_external` decides by content whether
//!   it is our own write (the hash of what we last wrote, checkpointed or
//!   took), another process's checkpoint, or an edit by another program.
//!
//! Backends lose events (an overflowing inotify queue or ReadDirectoryChangesW
//! buffer, FSEvents' dropped-events flags), stop (a failed read, the watched
//! directory deleted, a panic in their thread) or never worked (network
//! shares). So besides the events:
//!
//! - a backend's "rescan" (events were dropped) makes the watcher look at both
//!   files;
//! - every [`WatchTiming::rescan`] the watcher compares a cheap stat (length,
//!   mtime, inode) of the document and the journal with what it last handled,
//!   and looks at a file whose stat changed: whatever a backend dropped
//!   silently is caught within that interval, whatever the backend;
//! - a backend that fails, whose thread ends, or whose directory is removed or
//!   replaced, is dead: the store reports it once (an `E_WATCH` watch error,
//!   `is_watching()` false), the stat check goes on, and the backend is started
//!   again at each interval until it works (then both files are looked at);
//! - a panic on the watcher's own thread is reported the same way (that
//!   watcher ends; the next `watch()` starts a new one).
//!
//! The watcher holds only a weak reference to the store: it never keeps it
//! (or the process) alive, and it stops when the store closes.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{channel, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Weak};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime};

use notify::{EventKind, RecursiveMode, Watcher as _};

pub use crate::clock::{Clock, ManualClock, SystemClock};
use crate::error::{Error, Result};
use crate::fs::{canonical_or_absolute, FileSystem};
use crate::ops::KeyChange;

/// What looking at the document file found.
#[derive(Debug)]
pub enum ExternalOutcome {
    /// It holds what the store wrote, checkpointed or already took.
    Unchanged,
    /// Another program's edit, applied: the top-level keys whose values changed
    /// (empty when the edit changed nothing the store holds).
    Applied(Vec<KeyChange>),
    /// Another program's edit, refused (and the file written again from the
    /// store). `kept`: where a copy of it was kept.
    Invalid {
        code: &'static str,
        reason: String,
        kept: Option<PathBuf>,
    },
    /// It does not parse yet: maybe a save in progress; look again later.
    Retry,
    /// The file was deleted (it is written again from the store).
    Deleted,
}

/// What the watcher needs of the store it watches. The store implements it;
/// the watcher never names the store's type (`store` imports `watch`, not the
/// other way round).
pub trait Watched: Send + Sync {
    /// The store is closed: the watcher stops.
    fn is_closed(&self) -> bool;
    /// `s` changed on disk (called on the watcher's thread, debounced): the
    /// store catches up with the journal or looks at the document. `retry`:
    /// a document that does not parse yet may be looked at again later
    /// (`Some(ExternalOutcome::Retry)`); otherwise it is reported.
    fn on_watch(&self, s: Source, retry: bool) -> Option<ExternalOutcome>;
    /// The watcher stopped working (its backend failed or its thread ended).
    fn report_watch_stopped(&self, e: Error);
    /// A failure while handling a watch event.
    fn report_watch_error(&self, e: Error);
}

/// What changed on disk.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// The shared journal (another process's changes).
    Journal,
    /// The document file (an external edit, or a checkpoint).
    Document,
}

impl Source {
    fn index(self) -> usize {
        match self {
            Source::Journal => 0,
            Source::Document => 1,
        }
    }
    const ALL: [Source; 2] = [Source::Journal, Source::Document];
}

/// How long a source must be quiet before it is handled, and the longest a
/// steady stream of events may delay it.
#[derive(Clone, Copy, Debug)]
pub struct Timing {
    pub quiet: Duration,
    pub max_wait: Duration,
}

/// Debounce settings per source.
#[derive(Clone, Copy, Debug)]
pub struct WatchTiming {
    pub journal: Timing,
    pub document: Timing,
    /// A document that does not parse may be a save in progress: it is looked
    /// at again this much later, this many times, before it is reported (a
    /// new change to the file starts the count over: only a file left alone
    /// that long is reported).
    pub retry_after: Duration,
    pub retries: u32,
    /// How often the watcher compares the files' stats with what it last
    /// handled (and restarts a dead backend): the bound on how late a change
    /// a backend dropped is seen.
    pub rescan: Duration,
}

impl Default for WatchTiming {
    fn default() -> WatchTiming {
        WatchTiming {
            journal: Timing {
                quiet: Duration::from_millis(2),
                max_wait: Duration::from_millis(20),
            },
            document: Timing {
                quiet: Duration::from_millis(15),
                max_wait: Duration::from_millis(60),
            },
            retry_after: Duration::from_millis(60),
            retries: 3,
            // two stats a second per watched store: nothing, next to what
            // an Electron main process does anyway
            rescan: Duration::from_secs(2),
        }
    }
}

/// Trailing-edge debouncer with a maximum wait, one slot per [`Source`].
#[derive(Debug)]
pub struct Debouncer {
    timing: [Timing; 2],
    /// First and last event of the pending burst.
    pending: [Option<(Instant, Instant)>; 2],
    /// A retry scheduled at this instant.
    retry: [Option<Instant>; 2],
}

impl Debouncer {
    pub fn new(t: &WatchTiming) -> Debouncer {
        Debouncer {
            timing: [t.journal, t.document],
            pending: [None, None],
            retry: [None, None],
        }
    }

    /// An event for `s` arrived at `now`.
    pub fn push(&mut self, s: Source, now: Instant) {
        let slot = &mut self.pending[s.index()];
        *slot = Some(match *slot {
            Some((first, _)) => (first, now),
            None => (now, now),
        });
    }

    /// Looks at `s` again at `at` (a half-written file).
    pub fn retry(&mut self, s: Source, at: Instant) {
        self.retry[s.index()] = Some(at);
    }

    fn due_at(&self, i: usize) -> Option<Instant> {
        let burst = self.pending[i].map(|(first, last)| {
            (last + self.timing[i].quiet).min(first + self.timing[i].max_wait)
        });
        match (burst, self.retry[i]) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// When the next source becomes due (`None`: nothing pending).
    pub fn next_deadline(&self) -> Option<Instant> {
        (0..2).filter_map(|i| self.due_at(i)).min()
    }

    /// The sources due at `now` (cleared), journal first.
    pub fn take_due(&mut self, now: Instant) -> Vec<Source> {
        let mut out = Vec::new();
        for s in Source::ALL {
            let i = s.index();
            if self.due_at(i).is_some_and(|d| d <= now) {
                self.pending[i] = None;
                self.retry[i] = None;
                out.push(s);
            }
        }
        out
    }
}

/// What a [`Backend`] reports.
#[derive(Debug)]
pub enum Signal {
    /// Something happened to these paths (reads already left out).
    Changed(Vec<PathBuf>),
    /// Events were dropped (a queue overflow): look at everything.
    Rescan,
    /// The backend failed; it may have stopped watching.
    Failed(String),
}

enum Msg {
    /// Look at a source (the writer found an external edit).
    Poke(Source),
    /// From the backend of this generation.
    Backend(u64, Signal),
    /// The backend of this generation dropped its sender (its thread ended).
    BackendGone(u64),
    Stop,
}

/// Where a backend sends what it sees. Cloneable; when the last clone is
/// dropped (the backend stopped, or its thread died and dropped it) the
/// watcher learns it.
#[derive(Clone)]
pub struct SignalTx {
    tx: Sender<Msg>,
    gen: u64,
    _gone: Arc<GoneGuard>,
}

struct GoneGuard {
    tx: Sender<Msg>,
    gen: u64,
}

impl Drop for GoneGuard {
    fn drop(&mut self) {
        let _ = self.tx.send(Msg::BackendGone(self.gen));
    }
}

impl SignalTx {
    fn new(tx: &Sender<Msg>, gen: u64) -> SignalTx {
        SignalTx {
            tx: tx.clone(),
            gen,
            _gone: Arc::new(GoneGuard {
                tx: tx.clone(),
                gen,
            }),
        }
    }

    pub fn send(&self, s: Signal) {
        let _ = self.tx.send(Msg::Backend(self.gen, s));
    }
}

/// The OS side of watching.
pub trait Backend: Send + Sync {
    /// Starts watching `dirs` (not recursively), reporting to `tx`. Dropping
    /// what it returns stops it.
    fn start(&self, dirs: &[PathBuf], tx: SignalTx) -> std::io::Result<Box<dyn Send>>;
}

/// `notify`'s recommended watcher: inotify (Linux), FSEvents (macOS),
/// ReadDirectoryChangesW (Windows).
pub struct NotifyBackend;

impl Backend for NotifyBackend {
    fn start(&self, dirs: &[PathBuf], tx: SignalTx) -> std::io::Result<Box<dyn Send>> {
        let mut os =
            notify::recommended_watcher(move |res: notify::Result<notify::Event>| match res {
                Ok(ev) if ev.need_rescan() => tx.send(Signal::Rescan),
                Ok(ev) if relevant(&ev.kind) => tx.send(Signal::Changed(ev.paths)),
                Ok(_) => {}
                Err(e) => tx.send(Signal::Failed(notify_error(e).to_string())),
            })
            .map_err(notify_error)?;
        for d in dirs {
            os.watch(d, RecursiveMode::NonRecursive)
                .map_err(notify_error)?;
        }
        Ok(Box::new(os))
    }
}

fn notify_error(e: notify::Error) -> std::io::Error {
    let paths = e.paths.clone();
    let io = match e.kind {
        notify::ErrorKind::Io(io) => io,
        other => std::io::Error::other(format!("{other:?}")),
    };
    if paths.is_empty() {
        io
    } else {
        let shown: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
        std::io::Error::new(io.kind(), format!("{io} ({})", shown.join(", ")))
    }
}

/// How a watcher is set up: timing, clock and backend (tests pass doubles).
#[derive(Clone)]
pub struct WatchSetup {
    pub timing: WatchTiming,
    pub clock: Arc<dyn Clock>,
    pub backend: Arc<dyn Backend>,
}

impl Default for WatchSetup {
    fn default() -> WatchSetup {
        WatchSetup {
            timing: WatchTiming::default(),
            clock: Arc::new(SystemClock),
            backend: Arc::new(NotifyBackend),
        }
    }
}

/// A running watcher (one per open store file).
pub struct Watcher {
    tx: Sender<Msg>,
    thread: Option<JoinHandle<()>>,
    shared: Arc<Shared>,
}

struct Shared {
    /// The backend runs.
    alive: AtomicBool,
    /// The watcher's thread runs.
    running: AtomicBool,
}

/// Whether two file names are the same name, letter case aside: on macOS and
/// Windows volumes (case-insensitive) an event names the file as the disk
/// spells it, which may not be the case the store was opened with. Elsewhere a
/// needless match costs one look at an unchanged file.
fn same_name(a: &std::ffi::OsStr, b: &std::ffi::OsStr) -> bool {
    match (a.to_str(), b.to_str()) {
        (Some(a), Some(b)) => a == b || a.to_lowercase() == b.to_lowercase(),
        _ => a == b,
    }
}

/// A watched file: its path as given and its directory as given and made
/// canonical (FSEvents reports real paths: `/private/var/...` for `/var/...`,
/// the target of a linked directory).
#[derive(Debug)]
struct Target {
    name: std::ffi::OsString,
    dirs: Vec<PathBuf>,
    /// Directory names compare without case (Windows and macOS volumes).
    case_insensitive: bool,
}

impl Target {
    fn new(fs: &dyn FileSystem, path: &Path) -> Target {
        let dir = path.parent().unwrap_or(Path::new(".")).to_path_buf();
        let mut dirs = vec![dir.clone()];
        if let Ok(real) = canonical_or_absolute(fs, &dir) {
            if real != dir {
                dirs.push(real);
            }
        }
        Target {
            name: path.file_name().unwrap_or_default().to_os_string(),
            dirs,
            case_insensitive: fs.semantics().case_insensitive,
        }
    }

    fn matches(&self, p: &Path) -> bool {
        match (p.file_name(), p.parent()) {
            (Some(name), Some(parent)) => {
                same_name(name, &self.name)
                    && self.dirs.iter().any(|d| {
                        d == parent
                            || (self.case_insensitive
                                && same_name(d.as_os_str(), parent.as_os_str()))
                    })
            }
            _ => false,
        }
    }

    /// The directory to watch: the canonical one.
    fn watch_dir(&self) -> &Path {
        self.dirs.last().expect("one directory at least")
    }
}

/// Which of the watched names an event path is.
fn classify(path: &Path, doc: &Target, journal: &Target) -> Option<Source> {
    if doc.matches(path) {
        Some(Source::Document)
    } else if journal.matches(path) {
        Some(Source::Journal)
    } else {
        None
    }
}

fn relevant(kind: &EventKind) -> bool {
    use notify::event::{AccessKind, AccessMode};
    match kind {
        // reads (our own included) change nothing
        EventKind::Access(AccessKind::Close(AccessMode::Write)) => true,
        EventKind::Access(_) => false,
        _ => true,
    }
}

/// A cheap look at a file: what the stat check compares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Fingerprint {
    len: u64,
    modified: Option<SystemTime>,
    ino: u64,
}

fn fingerprint(fs: &dyn FileSystem, p: &Path) -> Option<Fingerprint> {
    fs.stat(p, true).ok().map(|s| Fingerprint {
        len: s.len,
        modified: s.modified,
        ino: s.ino,
    })
}

/// The watcher thread's state.
struct Run {
    core: Weak<dyn Watched>,
    fs: Arc<dyn FileSystem>,
    setup: WatchSetup,
    rx: Receiver<Msg>,
    tx: Sender<Msg>,
    shared: Arc<Shared>,
    paths: [PathBuf; 2],
    targets: [Target; 2],
    /// The directories the backend watches, and their inodes when it started.
    dirs: Vec<(PathBuf, u64)>,
    os: Option<Box<dyn Send>>,
    gen: u64,
    /// Each source's stat when it was last handled.
    seen: [Option<Fingerprint>; 2],
    deb: Debouncer,
    next_scan: Instant,
    attempts: u32,
}

impl Watcher {
    /// Starts watching the directories of `doc` and `journal` for `core`. A
    /// backend that cannot start is an error here (later failures are
    /// reported as events).
    pub fn start(
        core: Weak<dyn Watched>,
        fs: Arc<dyn FileSystem>,
        doc: PathBuf,
        journal: PathBuf,
        setup: WatchSetup,
    ) -> Result<Watcher> {
        let (tx, rx) = channel::<Msg>();
        let targets = [Target::new(&*fs, &journal), Target::new(&*fs, &doc)];
        let mut dirs: Vec<(PathBuf, u64)> = Vec::new();
        for t in &targets {
            let d = t.watch_dir().to_path_buf();
            if !dirs.iter().any(|(x, _)| *x == d) {
                let ino = fs.stat(&d, true).map(|s| s.ino).unwrap_or(0);
                dirs.push((d, ino));
            }
        }
        let list: Vec<PathBuf> = dirs.iter().map(|(d, _)| d.clone()).collect();
        let os = setup
            .backend
            .start(&list, SignalTx::new(&tx, 1))
            .map_err(|e| Error::io("watch", &list[0])(e))?;
        let shared = Arc::new(Shared {
            alive: AtomicBool::new(true),
            running: AtomicBool::new(true),
        });
        let now = setup.clock.now();
        let mut run = Run {
            core,
            seen: [fingerprint(&*fs, &journal), fingerprint(&*fs, &doc)],
            fs,
            deb: Debouncer::new(&setup.timing),
            next_scan: now + setup.timing.rescan,
            setup,
            rx,
            tx: tx.clone(),
            shared: shared.clone(),
            paths: [journal, doc],
            targets,
            dirs,
            os: Some(os),
            gen: 1,
            attempts: 0,
        };
        let thread = std::thread::Builder::new()
            .name("tad-store-watch".into())
            .spawn(move || {
                // a background thread: it may wait out a brief hold on a file
                let _patient = crate::fs::platform::patient();
                let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run.run()));
                run.os = None;
                run.shared.alive.store(false, Ordering::Release);
                run.shared.running.store(false, Ordering::Release);
                if let Err(p) = r {
                    // a bug on this thread: this watcher ends, loudly
                    if let Some(core) = run.core.upgrade() {
                        let e = Error::from_panic(&*p, "watching");
                        core.report_watch_stopped(Error::Watch(format!(
                            "watching {} stopped: {e}; call watch() again (a new Store with `watch: true`) to restart it",
                            run.paths[Source::Document.index()].display()
                        )));
                    }
                }
            })
            .map_err(|e| Error::io("start the watcher thread", &run_path_hint(&list))(e))?;
        Ok(Watcher {
            tx,
            thread: Some(thread),
            shared,
        })
    }

    /// Asks the watcher to look at `s` (the writer found an external edit
    /// just before overwriting it).
    pub fn poke(&self, s: Source) {
        let _ = self.tx.send(Msg::Poke(s));
    }

    /// Whether the OS watch is working (a dead backend, or a watcher whose
    /// thread ended, is not).
    pub fn is_alive(&self) -> bool {
        self.shared.alive.load(Ordering::Acquire)
    }

    /// Whether the watcher's thread runs.
    pub fn is_running(&self) -> bool {
        self.shared.running.load(Ordering::Acquire)
    }

    /// Stops the thread and removes the OS watches. Not from the watcher's own
    /// thread (it would wait for itself): then it only detaches.
    pub fn stop(mut self) {
        let _ = self.tx.send(Msg::Stop);
        if let Some(t) = self.thread.take() {
            if t.thread().id() != std::thread::current().id() {
                let _ = t.join();
            }
        }
    }
}

fn run_path_hint(list: &[PathBuf]) -> PathBuf {
    list.first().cloned().unwrap_or_default()
}

impl Run {
    fn run(&mut self) {
        loop {
            let deadline = match self.deb.next_deadline() {
                Some(d) => d.min(self.next_scan),
                None => self.next_scan,
            };
            let wait = deadline.saturating_duration_since(self.setup.clock.now());
            match self.rx.recv_timeout(wait) {
                Ok(Msg::Stop) | Err(RecvTimeoutError::Disconnected) => return,
                Ok(Msg::Poke(s)) => self.deb.push(s, self.setup.clock.now()),
                Ok(Msg::Backend(gen, sig)) if gen == self.gen => self.on_signal(sig),
                Ok(Msg::BackendGone(gen)) if gen == self.gen => {
                    self.die("the file-system watcher's thread ended".into())
                }
                // from a backend stopped since
                Ok(Msg::Backend(..)) | Ok(Msg::BackendGone(_)) => {}
                Err(RecvTimeoutError::Timeout) => {}
            }
            let now = self.setup.clock.now();
            if now >= self.next_scan {
                self.scan();
                self.next_scan = self.setup.clock.now() + self.setup.timing.rescan;
            }
            if !self.handle_due(self.setup.clock.now()) {
                return;
            }
        }
    }

    fn on_signal(&mut self, sig: Signal) {
        let now = self.setup.clock.now();
        match sig {
            Signal::Changed(paths) => {
                let mut dir_event = false;
                for p in &paths {
                    if let Some(s) = classify(p, &self.targets[1], &self.targets[0]) {
                        // the file changed again: whatever did not parse was a
                        // save in progress, not a damaged file (the retries
                        // count looks at a file left alone)
                        if s == Source::Document {
                            self.attempts = 0;
                        }
                        self.deb.push(s, now);
                    }
                    // the watched directory itself (or a parent) removed,
                    // renamed or replaced: the OS watch may be gone with it
                    dir_event |= self.dirs.iter().any(|(d, _)| d.starts_with(p))
                        || self
                            .targets
                            .iter()
                            .any(|t| t.dirs.iter().any(|d| d.starts_with(p)));
                }
                if dir_event {
                    if let Some(why) = self.dirs_changed() {
                        self.die(why);
                    }
                }
            }
            Signal::Rescan => {
                for s in Source::ALL {
                    self.deb.push(s, now);
                }
            }
            Signal::Failed(msg) => self.die(format!("the file-system watcher failed: {msg}")),
        }
    }

    /// Why the watched directories no longer are what the backend watches.
    fn dirs_changed(&self) -> Option<String> {
        for (d, ino) in &self.dirs {
            match self.fs.stat(d, true) {
                Err(e) => return Some(format!("{} is gone ({e})", d.display())),
                Ok(st) if !st.is_dir => {
                    return Some(format!("{} is no longer a directory", d.display()))
                }
                Ok(st) if *ino != 0 && st.ino != 0 && st.ino != *ino => {
                    return Some(format!("{} was replaced by another directory", d.display()))
                }
                Ok(_) => {}
            }
        }
        None
    }

    /// The backend stopped: reported once, and looked at again at each scan.
    fn die(&mut self, why: String) {
        self.os = None;
        self.gen += 1;
        let now = self.setup.clock.now();
        for s in Source::ALL {
            self.deb.push(s, now);
        }
        if self.shared.alive.swap(false, Ordering::AcqRel) {
            if let Some(core) = self.core.upgrade() {
                core.report_watch_stopped(Error::Watch(format!(
                    "watching {} stopped: {why}. Changes are still picked up by a check every {} ms, and watching restarts by itself when it can (getHealthReport().watching)",
                    self.paths[Source::Document.index()].display(),
                    self.setup.timing.rescan.as_millis()
                )));
            }
        }
    }

    /// The periodic look: the backend's health and each file's stat.
    fn scan(&mut self) {
        if self.os.is_some() {
            if let Some(why) = self.dirs_changed() {
                self.die(why);
            }
        }
        if self.os.is_none() {
            self.restart();
        }
        let now = self.setup.clock.now();
        for s in Source::ALL {
            if fingerprint(&*self.fs, &self.paths[s.index()]) != self.seen[s.index()] {
                self.deb.push(s, now);
            }
        }
    }

    fn restart(&mut self) {
        let mut dirs = Vec::with_capacity(self.dirs.len());
        for (d, _) in &self.dirs {
            match self.fs.stat(d, true) {
                Ok(st) if st.is_dir => dirs.push((d.clone(), st.ino)),
                _ => return,
            }
        }
        let list: Vec<PathBuf> = dirs.iter().map(|(d, _)| d.clone()).collect();
        self.gen += 1;
        if let Ok(os) = self
            .setup
            .backend
            .start(&list, SignalTx::new(&self.tx, self.gen))
        {
            self.os = Some(os);
            self.dirs = dirs;
            self.shared.alive.store(true, Ordering::Release);
            // whatever happened while it was down
            let now = self.setup.clock.now();
            for s in Source::ALL {
                self.deb.push(s, now);
            }
        }
    }

    /// Handles the sources due at `now`; `false` when the store is gone.
    fn handle_due(&mut self, now: Instant) -> bool {
        for s in self.deb.take_due(now) {
            let Some(core) = self.core.upgrade() else {
                return false;
            };
            if core.is_closed() {
                return false;
            }
            self.seen[s.index()] = fingerprint(&*self.fs, &self.paths[s.index()]);
            let retry = self.attempts < self.setup.timing.retries;
            let r =
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| core.on_watch(s, retry)));
            match r {
                Ok(Some(ExternalOutcome::Retry)) => {
                    self.attempts += 1;
                    self.deb
                        .retry(s, self.setup.clock.now() + self.setup.timing.retry_after);
                }
                Ok(_) => {
                    if s == Source::Document {
                        self.attempts = 0;
                    }
                }
                // a bug handling this event: reported; keep watching
                Err(p) => core.report_watch_error(Error::from_panic(&*p, "watching")),
            }
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn timing() -> WatchTiming {
        WatchTiming::default()
    }

    #[test]
    fn trailing_edge_after_quiet() {
        let t0 = Instant::now();
        let ms = |n| t0 + Duration::from_millis(n);
        let mut d = Debouncer::new(&timing());
        assert_eq!(d.next_deadline(), None);
        d.push(Source::Document, ms(0));
        d.push(Source::Document, ms(10));
        assert_eq!(d.next_deadline(), Some(ms(25)));
        assert!(d.take_due(ms(24)).is_empty());
        assert_eq!(d.take_due(ms(25)), vec![Source::Document]);
        assert_eq!(d.next_deadline(), None);
        assert!(d.take_due(ms(100)).is_empty(), "handled once");
    }

    #[test]
    fn a_steady_stream_is_handled_by_max_wait() {
        let t0 = Instant::now();
        let ms = |n| t0 + Duration::from_millis(n);
        let mut d = Debouncer::new(&timing());
        let mut handled = Vec::new();
        for n in (0..200).step_by(5) {
            handled.extend(d.take_due(ms(n)).into_iter().map(|s| (n, s)));
            d.push(Source::Document, ms(n));
        }
        // every 60 ms at least, though events never stop
        assert!(handled.len() >= 3, "{handled:?}");
        assert!(handled.iter().all(|(_, s)| *s == Source::Document));
    }

    #[test]
    fn sources_are_independent_and_journal_first() {
        let t0 = Instant::now();
        let ms = |n| t0 + Duration::from_millis(n);
        let mut d = Debouncer::new(&timing());
        d.push(Source::Document, ms(0));
        d.push(Source::Journal, ms(0));
        assert_eq!(d.next_deadline(), Some(ms(2)));
        assert_eq!(d.take_due(ms(2)), vec![Source::Journal]);
        assert_eq!(d.take_due(ms(15)), vec![Source::Document]);
        d.push(Source::Journal, ms(20));
        d.push(Source::Document, ms(20));
        assert_eq!(d.take_due(ms(40)), vec![Source::Journal, Source::Document]);
    }

    #[test]
    fn retry_is_scheduled_and_cleared_by_handling() {
        let t0 = Instant::now();
        let ms = |n| t0 + Duration::from_millis(n);
        let mut d = Debouncer::new(&timing());
        d.retry(Source::Document, ms(60));
        assert_eq!(d.next_deadline(), Some(ms(60)));
        d.push(Source::Document, ms(10));
        // the new event comes first
        assert_eq!(d.take_due(ms(25)), vec![Source::Document]);
        assert_eq!(d.next_deadline(), None);
    }

    #[test]
    fn classify_names_in_their_directories() {
        let fs = crate::fs::RealFs;
        let doc = Target::new(&fs, Path::new("/s/config.json"));
        let j = Target::new(&fs, Path::new("/s/storeHistory/config.json.journal"));
        let c = |p: &str| classify(Path::new(p), &doc, &j);
        assert_eq!(c("/s/config.json"), Some(Source::Document));
        assert_eq!(
            c("/s/storeHistory/config.json.journal"),
            Some(Source::Journal)
        );
        assert_eq!(c("/s/.config.json.1.2.tmp"), None);
        assert_eq!(c("/s/storeHistory/config.json"), None);
        assert_eq!(c("/s/storeHistory/config.json.lock"), None);
        // a case-insensitive volume names the file as the disk spells it
        assert_eq!(c("/s/Config.JSON"), Some(Source::Document));
        assert_eq!(c("/s/storehistory-x/config.json.journal"), None);
    }

    #[test]
    fn a_linked_directory_is_watched_and_matched_by_its_real_path() {
        let real = tempfile::tempdir().unwrap();
        let links = tempfile::tempdir().unwrap();
        let link = links.path().join("through-a-link");
        if crate::testing::symlink_dir(real.path(), &link).is_err() {
            return; // no links here (Windows without the privilege)
        }
        let fs = crate::fs::RealFs;
        let doc = Target::new(&fs, &link.join("config.json"));
        let j = Target::new(&fs, &link.join("config.json.journal"));
        let real_dir = std::fs::canonicalize(real.path()).unwrap();
        assert_eq!(
            doc.watch_dir(),
            real_dir,
            "the backend watches the real directory"
        );
        // FSEvents reports the real path; others the path as watched
        for dir in [&real_dir, &link] {
            assert_eq!(
                classify(&dir.join("config.json"), &doc, &j),
                Some(Source::Document)
            );
            assert_eq!(
                classify(&dir.join("config.json.journal"), &doc, &j),
                Some(Source::Journal)
            );
        }
    }

    /// Windows and macOS report a name as the volume spells it, which may
    /// differ in case from the one the store was given.
    #[test]
    fn names_differing_in_case_match_where_names_are_case_insensitive() {
        let dir = tempfile::tempdir().unwrap();
        let fs = crate::fs::sim::SimFs::new(crate::fs::sim::Profile::windows_fat());
        let doc = Target::new(&fs, &dir.path().join("Config.json"));
        let j = Target::new(
            &fs,
            &dir.path().join("storeHistory").join("Config.json.journal"),
        );
        let upper = |p: &Path| PathBuf::from(p.to_string_lossy().to_uppercase());
        assert_eq!(
            classify(&dir.path().join("config.JSON"), &doc, &j),
            Some(Source::Document)
        );
        assert_eq!(
            classify(
                &upper(&dir.path().join("storeHistory")).join("config.json.journal"),
                &doc,
                &j
            ),
            Some(Source::Journal)
        );
    }
}
