//! Watching the store's files (`watch: true`).
//!
//! The directories that hold the document and the journal are watched with
//! `notify` (inotify, FSEvents, ReadDirectoryChangesW) — the directories, not
//! the file's inode, so every way of replacing the file is seen: a rename-over
//! save, `mv`, truncate-and-write, delete and recreate. Raw events are
//! debounced per source ([`Debouncer`], with an injectable [`Clock`] for
//! tests) and handed to the store on this module's own thread:
//!
//! - the journal changed: another process appended (or trimmed) — the shared
//!   log's catch-up ([`Core::catch_up_now`]);
//! - the document changed: [`Core::check_external`] decides by content whether
//!   it is our own write (the hash of what we last wrote, checkpointed or
//!   took), another process's checkpoint, or an edit by another program.
//!
//! The watcher holds only a weak reference to the store: it never keeps it
//! (or the process) alive, and it stops when the store closes.

use std::path::{Path, PathBuf};
use std::sync::mpsc::{channel, RecvTimeoutError, Sender};
use std::sync::{Arc, Weak};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use notify::{EventKind, RecursiveMode, Watcher as _};

use crate::error::{Error, Result};
use crate::store::{Core, ExternalOutcome};

/// Where time comes from (a fake one in tests).
pub trait Clock: Send + Sync {
    fn now(&self) -> Instant;
}

/// The real clock.
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Instant {
        Instant::now()
    }
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

enum Msg {
    Fs(Source),
    Stop,
}

/// A running watcher (one per open store file).
pub struct Watcher {
    tx: Sender<Msg>,
    thread: Option<JoinHandle<()>>,
    // dropped on stop: removes the OS watches
    _os: Option<notify::RecommendedWatcher>,
}

/// Which of the watched names an event path is.
fn classify(path: &Path, doc: &Path, journal: &Path) -> Option<Source> {
    let name = path.file_name()?;
    if Some(name) == doc.file_name() && path.parent() == doc.parent() {
        Some(Source::Document)
    } else if Some(name) == journal.file_name() && path.parent() == journal.parent() {
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

impl Watcher {
    /// Starts watching the directories of `doc` and `journal` for `core`.
    pub fn start(
        core: Weak<Core>,
        doc: PathBuf,
        journal: PathBuf,
        timing: WatchTiming,
        clock: Arc<dyn Clock>,
    ) -> Result<Watcher> {
        let (tx, rx) = channel::<Msg>();
        let fs_tx = tx.clone();
        let (d, j) = (doc.clone(), journal.clone());
        let mut os = notify::recommended_watcher(move |res: notify::Result<notify::Event>| {
            let ev = match res {
                // an error or dropped events (queue overflow): look at both
                Ok(ev) if !ev.need_rescan() => ev,
                _ => {
                    for s in Source::ALL {
                        let _ = fs_tx.send(Msg::Fs(s));
                    }
                    return;
                }
            };
            if !relevant(&ev.kind) {
                return;
            }
            for p in &ev.paths {
                if let Some(s) = classify(p, &d, &j) {
                    let _ = fs_tx.send(Msg::Fs(s));
                }
            }
        })
        .map_err(|e| watch_error(&doc, e))?;
        let mut dirs: Vec<PathBuf> = Vec::new();
        for p in [&doc, &journal] {
            let dir = p.parent().unwrap_or(Path::new(".")).to_path_buf();
            if !dirs.contains(&dir) {
                os.watch(&dir, RecursiveMode::NonRecursive)
                    .map_err(|e| watch_error(&dir, e))?;
                dirs.push(dir);
            }
        }
        let thread = std::thread::Builder::new()
            .name("tad-store-watch".into())
            .spawn(move || {
                let mut deb = Debouncer::new(&timing);
                let mut attempts = 0u32;
                loop {
                    let msg = match deb.next_deadline() {
                        None => rx.recv().map_err(|_| RecvTimeoutError::Disconnected),
                        Some(at) => rx.recv_timeout(at.saturating_duration_since(clock.now())),
                    };
                    match msg {
                        Ok(Msg::Stop) | Err(RecvTimeoutError::Disconnected) => return,
                        Ok(Msg::Fs(s)) => {
                            // the file changed again: whatever did not parse
                            // was a save in progress, not a damaged file (the
                            // retries count looks at a file left alone)
                            if s == Source::Document {
                                attempts = 0;
                            }
                            deb.push(s, clock.now());
                            continue;
                        }
                        Err(RecvTimeoutError::Timeout) => {}
                    }
                    let now = clock.now();
                    for s in deb.take_due(now) {
                        let Some(core) = core.upgrade() else { return };
                        if core.is_closed() {
                            return;
                        }
                        let retry = attempts < timing.retries;
                        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                            core.on_watch(s, retry)
                        }));
                        match r {
                            Ok(Some(ExternalOutcome::Retry)) => {
                                attempts += 1;
                                deb.retry(s, clock.now() + timing.retry_after);
                            }
                            Ok(_) => {
                                if s == Source::Document {
                                    attempts = 0;
                                }
                            }
                            // a bug: reported by on_watch's caller; keep watching
                            Err(p) => core.report_watch_error(Error::from_panic(&*p, "watching")),
                        }
                    }
                }
            })
            .map_err(|e| Error::io("start the watcher thread", &doc)(e))?;
        Ok(Watcher {
            tx,
            thread: Some(thread),
            _os: Some(os),
        })
    }

    /// Asks the watcher to look at `s` (the writer found an external edit
    /// just before overwriting it).
    pub fn poke(&self, s: Source) {
        let _ = self.tx.send(Msg::Fs(s));
    }

    /// Stops the thread and removes the OS watches. Not from the watcher's own
    /// thread (it would wait for itself): then it only detaches.
    pub fn stop(mut self) {
        self._os = None;
        let _ = self.tx.send(Msg::Stop);
        if let Some(t) = self.thread.take() {
            if t.thread().id() != std::thread::current().id() {
                let _ = t.join();
            }
        }
    }
}

fn watch_error(path: &Path, e: notify::Error) -> Error {
    match e.kind {
        notify::ErrorKind::Io(io) => Error::io("watch", path)(io),
        other => Error::Io {
            op: "watch",
            path: path.to_path_buf(),
            source: std::io::Error::other(format!("{other:?}")),
        },
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
        let doc = Path::new("/s/config.json");
        let j = Path::new("/s/storeHistory/config.json.journal");
        assert_eq!(
            classify(Path::new("/s/config.json"), doc, j),
            Some(Source::Document)
        );
        assert_eq!(classify(j, doc, j), Some(Source::Journal));
        assert_eq!(classify(Path::new("/s/.config.json.1.2.tmp"), doc, j), None);
        assert_eq!(
            classify(Path::new("/s/storeHistory/config.json"), doc, j),
            None
        );
        assert_eq!(
            classify(Path::new("/s/storeHistory/config.json.lock"), doc, j),
            None
        );
    }
}
