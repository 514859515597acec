//! Looking at a store from outside, without changing it: the support command
//! (`tad-store inspect|history|verify|export|doctor`) reads the document, the
//! journal and the backups through here.
//!
//! Nothing in this module writes, creates, renames, locks or removes a file:
//! an app that has the store open is not disturbed (no lock is taken, so a
//! running writer never waits for us), and a damaged store is reported as it
//! is, never repaired. Reads are made consistent with a writer that keeps
//! going: the document is read before the journal (the journal can only be
//! ahead of it), and the pair is read again when the document changed in
//! between.
//!
//! Verification (`Verifier`) proves three things step by step, so a caller
//! can show progress on a long history:
//! - the journal's hash chain and sequence (checked while scanning it);
//! - the document against the journal: from the entry the document holds,
//!   every later entry replays onto it with matching `hashBefore`/`hashAfter`,
//!   and every earlier reversible entry undoes exactly (its inverse leads to
//!   its recorded `hashBefore`) — what a rollback relies on;
//! - each backup and migration snapshot against its `.meta.json` (bytes hash,
//!   decoding, parse, and its Merkle `documentHash` when it can be decoded).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::UNIX_EPOCH;

use crate::backup;
use crate::codec::{Codec, Kind};
use crate::doc::Document;
use crate::error::{Error, Result};
use crate::fs::FileSystem;
use crate::journal::{scan, ChangeRecord, Checkpoint, Entry};
use crate::value::{hex, merkle, parse, parse_document, sha256_hex, Value};

/// The prefix of an encrypted value in a document (`secretKeys`).
pub const ENVELOPE: &str = "$tad-secret:v1:";

/// The prefix of a file or line sealed whole (journal lines, backup metadata).
const SEALED: &str = "~tad1:";

/// Where a store's files are.
#[derive(Clone, Debug)]
pub struct Paths {
    /// The document file.
    pub doc: PathBuf,
    /// `storeHistory/` (journal, lock, migration snapshots, quarantined lines).
    pub history_dir: PathBuf,
    /// `backups/`.
    pub backup_dir: PathBuf,
}

impl Paths {
    /// The document's file name (what backups record as `originalFile`).
    pub fn file_name(&self) -> String {
        self.doc
            .file_name()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default()
    }

    pub fn journal(&self) -> PathBuf {
        self.history_dir
            .join(format!("{}.journal", self.file_name()))
    }

    pub fn lock(&self) -> PathBuf {
        self.history_dir.join(format!("{}.lock", self.file_name()))
    }

    pub fn migration_dir(&self) -> PathBuf {
        self.history_dir.join("migrations")
    }
}

/// A file as read.
#[derive(Clone, Debug, Default)]
pub struct FileInfo {
    pub exists: bool,
    pub len: u64,
    pub mtime_ms: Option<f64>,
    /// SHA-256 (hex) of the stored bytes.
    pub sha256: Option<String>,
}

/// The document file.
#[derive(Debug, Default)]
pub struct DocState {
    pub file: FileInfo,
    /// The document (decoded with the key given; without one, encrypted
    /// values stay sealed envelopes).
    pub value: Option<Value>,
    /// Why it could not be read (not JSON, not an object, wrong key…).
    pub error: Option<Error>,
    /// Merkle hash of `value` (comparable with the journal's hashes only when
    /// nothing in it is still sealed).
    pub merkle: Option<String>,
    /// Bytes that are not UTF-8 were read as U+FFFD (as electron-store does).
    pub invalid_utf8: bool,
    /// Paths (segments) holding encrypted values in the file as stored.
    pub sealed: Vec<Vec<String>>,
    /// `value` still holds encrypted values (no key, or not this key's).
    pub still_sealed: bool,
}

/// The journal.
#[derive(Debug, Default)]
pub struct JournalState {
    pub file: FileInfo,
    pub changes: Vec<ChangeRecord>,
    pub checkpoints: Vec<Checkpoint>,
    /// Length of the part that reads and chains correctly.
    pub good_len: u64,
    /// The last line has no newline yet: an append in progress (another
    /// process is writing) or a crash during one (the next writer cuts it).
    pub torn: bool,
    /// Damage in the chain or a line that does not read.
    pub damaged: Option<String>,
    /// The lines cannot be read with the key given (`E_SECRET_KEY`).
    pub fatal: Option<Error>,
}

/// Which change the document file holds.
#[derive(Clone, Debug, PartialEq)]
pub enum Anchor {
    /// The state right after change `seq` (0: before the first one).
    Seq { seq: u64, by_checkpoint: bool },
    /// No journal entry yet (a store never changed through tad-store).
    NoHistory,
    /// The document matches no state the journal records: edited by another
    /// program, or damaged.
    Unmatched,
    /// The document could not be read.
    Unreadable,
}

/// A consistent look at a store.
#[derive(Debug)]
pub struct Snapshot {
    pub paths: Paths,
    pub doc: DocState,
    pub journal: JournalState,
    pub anchor: Anchor,
    /// Files kept aside (`.corrupt-`, `.invalid-`, `.damaged-`) and temp
    /// files left by writers (in progress, or left by a crash).
    pub quarantined: Vec<PathBuf>,
    pub temps: Vec<PathBuf>,
    /// Times the read was repeated because a writer changed the files meanwhile.
    pub retries: u32,
}

fn file_info(fs: &dyn FileSystem, path: &Path, bytes: Option<&[u8]>) -> FileInfo {
    match fs.stat(path, true) {
        Ok(s) => FileInfo {
            exists: true,
            len: s.len,
            mtime_ms: s
                .modified
                .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
                .map(|d| d.as_secs_f64() * 1000.0),
            sha256: bytes.map(sha256_hex),
        },
        Err(_) => FileInfo::default(),
    }
}

fn read_opt(fs: &dyn FileSystem, path: &Path) -> Result<Option<Vec<u8>>> {
    match fs.read(path) {
        Ok(b) => Ok(Some(b)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::io("read", path)(e)),
    }
}

/// Dot-path segments of every sealed envelope in `v` (a heap walk: any depth).
pub fn sealed_paths(v: &Value) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let mut todo: Vec<(&Value, Vec<String>)> = vec![(v, Vec::new())];
    while let Some((node, path)) = todo.pop() {
        match node {
            Value::String(s) if s.starts_with(ENVELOPE) => out.push(path),
            Value::Object(m) => {
                for (k, c) in m.iter() {
                    let mut p = path.clone();
                    p.push(k.to_string());
                    todo.push((c, p));
                }
            }
            Value::Array(a) => {
                for (i, c) in a.iter().enumerate() {
                    let mut p = path.clone();
                    p.push(i.to_string());
                    todo.push((c, p));
                }
            }
            _ => {}
        }
    }
    out.sort();
    out
}

fn read_doc(codec: &dyn Codec, path: &Path, bytes: &[u8]) -> (Option<Value>, Option<Error>, bool) {
    let corrupt = |detail: String| Error::Corrupt {
        path: path.to_path_buf(),
        detail,
        quarantine: format!("{}{}<ms>", path.display(), crate::names::CORRUPT_INFIX),
    };
    let plain = match codec.decode(Kind::Document, bytes) {
        Ok(p) => p,
        Err(e) => return (None, Some(e), false),
    };
    match parse_document(&plain) {
        Ok((v, bad_utf8)) if v.as_object().is_some() => (Some(v), None, bad_utf8),
        Ok(_) => (
            None,
            Some(corrupt("its top level is not an object".into())),
            false,
        ),
        Err(e) => (None, Some(corrupt(e.to_string())), false),
    }
}

fn read_journal(codec: &dyn Codec, bytes: &[u8]) -> JournalState {
    let s = scan(codec, bytes);
    let mut j = JournalState {
        good_len: s.good_len,
        torn: s.torn,
        damaged: s.damaged,
        fatal: s.fatal,
        ..JournalState::default()
    };
    for (_, e) in s.entries {
        match e {
            Entry::Change(c) => j.changes.push(c),
            Entry::Checkpoint(c) => j.checkpoints.push(c),
        }
    }
    j
}

fn anchor_of(doc: &DocState, j: &JournalState) -> Anchor {
    let Some(merkle) = &doc.merkle else {
        return Anchor::Unreadable;
    };
    let sha = doc.file.sha256.as_deref();
    if let Some(c) = j
        .checkpoints
        .iter()
        .rev()
        .find(|c| Some(c.hash.as_str()) == sha)
    {
        return Anchor::Seq {
            seq: c.seq,
            by_checkpoint: true,
        };
    }
    if j.changes.is_empty() {
        return if j.checkpoints.is_empty() && j.fatal.is_none() {
            Anchor::NoHistory
        } else {
            Anchor::Unmatched
        };
    }
    if let Some(c) = j
        .changes
        .iter()
        .rev()
        .find(|c| c.hash_after.as_deref() == Some(merkle))
    {
        return Anchor::Seq {
            seq: c.seq,
            by_checkpoint: false,
        };
    }
    let first = &j.changes[0];
    if first.hash_before.as_deref() == Some(merkle) {
        return Anchor::Seq {
            seq: first.seq - 1,
            by_checkpoint: false,
        };
    }
    Anchor::Unmatched
}

/// Reads the store's files without changing anything. `Err` only for a
/// failure to read (permissions, I/O); a missing or damaged file is
/// reported in the snapshot.
pub fn snapshot(fs: &dyn FileSystem, codec: &dyn Codec, paths: &Paths) -> Result<Snapshot> {
    let journal_path = paths.journal();
    let mut retries = 0;
    let (doc_bytes, journal_bytes) = loop {
        let doc_bytes = read_opt(fs, &paths.doc)?;
        let journal_bytes = read_opt(fs, &journal_path)?;
        // the document may have been replaced (by a writer that went on after
        // the journal was read): read both again, in the same order
        let again = read_opt(fs, &paths.doc)?;
        if again == doc_bytes || retries >= 20 {
            break (doc_bytes, journal_bytes);
        }
        retries += 1;
    };
    let mut doc = DocState {
        file: file_info(fs, &paths.doc, doc_bytes.as_deref()),
        ..DocState::default()
    };
    if let Some(b) = &doc_bytes {
        let (v, e, bad) = read_doc(codec, &paths.doc, b);
        doc.error = e;
        doc.invalid_utf8 = bad;
        // where the file holds encrypted values (before any key opens them)
        doc.sealed = match parse_document(b) {
            Ok((raw, _)) => sealed_paths(&raw),
            Err(_) => Vec::new(),
        };
        if let Some(v) = v {
            doc.merkle = Some(hex(&merkle(&v)));
            doc.still_sealed = !sealed_paths(&v).is_empty();
            doc.value = Some(v);
        }
    }
    let journal = match &journal_bytes {
        Some(b) => JournalState {
            file: file_info(fs, &journal_path, Some(b)),
            ..read_journal(codec, b)
        },
        None => JournalState::default(),
    };
    let anchor = anchor_of(&doc, &journal);
    let name = paths.file_name();
    let mut quarantined = Vec::new();
    let mut temps = Vec::new();
    let doc_dir = paths
        .doc
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    for (dir, prefix) in [
        (
            doc_dir.clone(),
            format!("{name}{}", crate::names::CORRUPT_INFIX),
        ),
        (paths.history_dir.clone(), format!("{name}.invalid-")),
        (paths.history_dir.clone(), format!("{name}.damaged-")),
    ] {
        for f in fs.read_dir(&dir).unwrap_or_default() {
            if f.starts_with(&prefix) {
                quarantined.push(dir.join(f));
            }
        }
    }
    for dir in [doc_dir, paths.history_dir.clone()] {
        for f in fs.read_dir(&dir).unwrap_or_default() {
            if f.starts_with(&format!(".{name}")) && f.ends_with(".tmp") {
                temps.push(dir.join(f));
            }
        }
    }
    quarantined.sort();
    temps.sort();
    Ok(Snapshot {
        paths: paths.clone(),
        doc,
        journal,
        anchor,
        quarantined,
        temps,
        retries,
    })
}

/// The outcome of one verification check.
#[derive(Clone, Debug)]
pub struct Check {
    /// `chain`, `document`, `replay`, `undo`, `backup`, `snapshot`.
    pub kind: &'static str,
    /// What was checked (a seq, a file name).
    pub subject: String,
    pub ok: bool,
    /// A check that could not be made (a warning, not a failure).
    pub skipped: bool,
    pub detail: String,
    /// Error code for a failure.
    pub code: &'static str,
}

impl Check {
    fn ok(kind: &'static str, subject: String, detail: String) -> Check {
        Check {
            kind,
            subject,
            ok: true,
            skipped: false,
            detail,
            code: "",
        }
    }

    fn fail(kind: &'static str, subject: String, detail: String, code: &'static str) -> Check {
        Check {
            kind,
            subject,
            ok: false,
            skipped: false,
            detail,
            code,
        }
    }

    fn skip(kind: &'static str, subject: String, detail: String) -> Check {
        Check {
            kind,
            subject,
            ok: true,
            skipped: true,
            detail,
            code: "",
        }
    }
}

/// Checks the whole store one step at a time (a step: one journal entry or
/// one backup), so a caller can draw progress.
pub struct Verifier {
    fs: Arc<dyn FileSystem>,
    codec: Arc<dyn Codec>,
    snap: Arc<Snapshot>,
    /// Entries after the document's (replayed), then before it (undone).
    forward: Vec<usize>,
    backward: Vec<usize>,
    fwd_doc: Option<Document>,
    back_doc: Option<Document>,
    /// The Merkle hash of each walk's document (each step's result is the
    /// next step's start: hashed once).
    fwd_hash: String,
    back_hash: String,
    /// The undo walk met an entry it cannot undo: the rest is skipped.
    back_stopped: bool,
    backups: Vec<(&'static str, backup::Info)>,
    /// Progress: steps done and in all.
    pub done: usize,
    pub total: usize,
    pub checks: Vec<Check>,
}

impl Verifier {
    pub fn new(fs: Arc<dyn FileSystem>, codec: Arc<dyn Codec>, snap: Arc<Snapshot>) -> Verifier {
        let mut checks = Vec::new();
        let j = &snap.journal;
        let mut forward = Vec::new();
        let mut backward = Vec::new();
        let mut doc = None;
        let subject = snap.paths.doc.display().to_string();
        match (&snap.doc.value, &snap.doc.error, snap.doc.file.exists) {
            (_, Some(e), _) => {
                checks.push(Check::fail("document", subject, e.to_string(), e.code()))
            }
            (None, None, false) => {
                if j.file.exists {
                    checks.push(Check::fail(
                        "document",
                        subject,
                        "the store file is missing (its journal is there: the next open rebuilds it)".into(),
                        "E_FILE_MISSING",
                    ))
                } else {
                    checks.push(Check::fail(
                        "document",
                        subject,
                        "no store file and no journal".into(),
                        "E_FILE_MISSING",
                    ))
                }
            }
            (Some(v), None, _) => {
                if !snap.doc.still_sealed {
                    doc = Document::new(v.clone()).ok();
                }
                checks.push(Check::ok(
                    "document",
                    subject,
                    "parses as a JSON object".into(),
                ));
            }
            _ => {}
        }
        let jsubject = snap.paths.journal().display().to_string();
        if let Some(e) = &j.fatal {
            checks.push(Check::fail(
                "chain",
                jsubject.clone(),
                e.to_string(),
                e.code(),
            ));
        } else if let Some(d) = &j.damaged {
            checks.push(Check::fail(
                "chain",
                jsubject.clone(),
                d.clone(),
                "E_JOURNAL",
            ));
        } else if j.file.exists {
            checks.push(Check::ok(
                "chain",
                jsubject.clone(),
                format!(
                    "{} change entries and {} checkpoints chain correctly",
                    j.changes.len(),
                    j.checkpoints.len()
                ),
            ));
        }
        if j.torn {
            checks.push(Check::skip(
                "chain",
                jsubject.clone(),
                "the last line is incomplete: an append in progress, or a crash during one (the next writer cuts it; it was never acknowledged)".into(),
            ));
        }
        // checkpoints name states the entries record
        for c in &j.checkpoints {
            if let (Some(d), Some(e)) = (&c.doc, j.changes.iter().find(|e| e.seq == c.seq)) {
                if e.hash_after.as_deref() != Some(d.as_str()) {
                    checks.push(Check::fail(
                        "chain",
                        format!("checkpoint {}", c.seq),
                        format!(
                            "the checkpoint's document hash {d} is not change {}'s recorded result",
                            c.seq
                        ),
                        "E_JOURNAL",
                    ));
                }
            }
        }
        match (&snap.anchor, &doc) {
            (Anchor::Seq { seq, by_checkpoint }, Some(_)) => {
                checks.push(Check::ok(
                    "document",
                    format!("change {seq}"),
                    format!(
                        "the store file holds the state after change {seq} ({})",
                        if *by_checkpoint {
                            "its bytes match a checkpoint"
                        } else {
                            "its hash matches the journal"
                        }
                    ),
                ));
                for (i, c) in j.changes.iter().enumerate() {
                    if c.seq > *seq {
                        forward.push(i);
                    }
                }
                for (i, c) in j.changes.iter().enumerate().rev() {
                    if c.seq <= *seq {
                        backward.push(i);
                    }
                }
            }
            (Anchor::Unmatched, Some(_)) if j.fatal.is_none() => {
                checks.push(Check::fail(
                    "document",
                    snap.paths.doc.display().to_string(),
                    "the store file matches no state the journal records: another program edited it while the store was closed (the next open records that as an external edit), or it was damaged".into(),
                    "E_HISTORY_MISMATCH",
                ));
            }
            (_, None) if snap.doc.value.is_some() && snap.doc.still_sealed && j.file.exists => {
                checks.push(Check::skip(
                    "document",
                    snap.paths.doc.display().to_string(),
                    "the store holds encrypted values: give the key (--key-file) to check the document against the journal".into(),
                ));
            }
            _ => {}
        }
        let mut backups = Vec::new();
        match list_backups(&*fs, &*codec, &snap.paths) {
            Ok(list) => backups = list,
            Err(e) => checks.push(Check::fail(
                "backup",
                snap.paths.backup_dir.display().to_string(),
                e.to_string(),
                e.code(),
            )),
        }
        let total = forward.len() + backward.len() + backups.len();
        forward.reverse();
        backward.reverse();
        backups.reverse();
        Verifier {
            fs,
            codec,
            fwd_hash: snap.doc.merkle.clone().unwrap_or_default(),
            back_hash: snap.doc.merkle.clone().unwrap_or_default(),
            fwd_doc: doc.clone(),
            back_doc: doc,
            snap,
            forward,
            backward,
            back_stopped: false,
            backups,
            done: 0,
            total,
            checks,
        }
    }

    /// Whether every check so far passed.
    pub fn ok(&self) -> bool {
        self.checks.iter().all(|c| c.ok)
    }

    pub fn finished(&self) -> bool {
        self.forward.is_empty() && self.backward.is_empty() && self.backups.is_empty()
    }

    /// Makes up to `budget` steps; returns whether everything is done.
    pub fn step(&mut self, budget: usize) -> bool {
        for _ in 0..budget {
            // each list is kept in reverse order of work: `pop` takes the next
            if let Some(i) = self.forward.pop() {
                self.replay(i);
            } else if let Some(i) = self.backward.pop() {
                self.undo(i);
            } else if let Some((kind, b)) = self.backups.pop() {
                self.backup(kind, &b);
            } else {
                return true;
            }
            self.done += 1;
        }
        self.finished()
    }

    fn replay(&mut self, i: usize) {
        let e = &self.snap.journal.changes[i];
        let subject = format!("change {}", e.seq);
        let Some(doc) = self.fwd_doc.as_mut() else {
            return;
        };
        let now = std::mem::take(&mut self.fwd_hash);
        if e.hash_before.as_deref() != Some(now.as_str()) {
            self.checks.push(Check::fail(
                "replay",
                subject,
                "its recorded hashBefore is not the state before it: the journal does not lead from the store file to its end".into(),
                "E_HISTORY_MISMATCH",
            ));
            self.fwd_doc = None;
            return;
        }
        if let Err(err) = doc.apply(&e.patch) {
            self.checks.push(Check::fail(
                "replay",
                subject,
                format!("its patch does not apply: {err}"),
                "E_HISTORY_MISMATCH",
            ));
            self.fwd_doc = None;
            return;
        }
        let after = hex(&merkle(doc.root()));
        self.fwd_hash = after.clone();
        if e.hash_after.as_deref() != Some(after.as_str()) {
            self.checks.push(Check::fail(
                "replay",
                subject,
                format!("replaying it gives hash {after}, not the recorded hashAfter"),
                "E_HISTORY_MISMATCH",
            ));
            self.fwd_doc = None;
            return;
        }
        self.checks.push(Check::ok("replay", subject, "replays onto the store file with the recorded hashes (not in the file yet: the next open or write applies it)".into()));
    }

    fn undo(&mut self, i: usize) {
        let e = &self.snap.journal.changes[i];
        let subject = format!("change {}", e.seq);
        if self.back_stopped {
            self.checks.push(Check::skip(
                "undo",
                subject,
                "older than a change that cannot be undone: not reachable by a rollback".into(),
            ));
            return;
        }
        let Some(doc) = self.back_doc.as_mut() else {
            return;
        };
        let now = std::mem::take(&mut self.back_hash);
        if e.hash_after.as_deref() != Some(now.as_str()) {
            self.checks.push(Check::fail(
                "undo",
                subject,
                "its recorded hashAfter is not the state after it".into(),
                "E_HISTORY_MISMATCH",
            ));
            self.back_doc = None;
            return;
        }
        let Some(inverse) = &e.inverse else {
            self.back_stopped = true;
            self.checks.push(Check::skip(
                "undo",
                subject,
                format!("a `{}` entry without an inverse (an edit made while the store was closed): rollbacks stop here", e.op),
            ));
            return;
        };
        if let Err(err) = doc.apply(inverse) {
            self.checks.push(Check::fail(
                "undo",
                subject,
                format!("its inverse does not apply: {err}"),
                "E_HISTORY_MISMATCH",
            ));
            self.back_doc = None;
            return;
        }
        let before = hex(&merkle(doc.root()));
        self.back_hash = before.clone();
        if e.hash_before.as_deref() != Some(before.as_str()) {
            self.checks.push(Check::fail(
                "undo",
                subject,
                format!("undoing it gives hash {before}, not the recorded hashBefore"),
                "E_HISTORY_MISMATCH",
            ));
            self.back_doc = None;
            return;
        }
        self.checks.push(Check::ok(
            "undo",
            subject,
            "undoes exactly to the recorded state before it".into(),
        ));
    }

    fn backup(&mut self, kind: &'static str, b: &backup::Info) {
        let subject = b.file.clone();
        if b.meta.is_none() {
            self.checks.push(Check::skip(
                kind,
                subject,
                "its metadata is encrypted: give the key (--key-file) to check it".into(),
            ));
            return;
        }
        match backup::read_verified(&*self.fs, &*self.codec, &b.path) {
            Err(e) => self
                .checks
                .push(Check::fail(kind, subject, e.to_string(), e.code())),
            Ok((v, meta)) => {
                if !sealed_paths(&v).is_empty() {
                    self.checks.push(Check::ok(kind, subject, "bytes match the recorded hash (holds encrypted values: give the key to check its document hash)".into()));
                } else if !meta.document_hash.is_empty() && hex(&merkle(&v)) != meta.document_hash {
                    self.checks.push(Check::fail(
                        kind,
                        subject,
                        "its content is not the document its metadata records (documentHash differs)".into(),
                        "E_BACKUP_CORRUPT",
                    ));
                } else {
                    self.checks.push(Check::ok(
                        kind,
                        subject,
                        format!("verified (change {}, {} bytes)", meta.seq, meta.size),
                    ));
                }
            }
        }
    }
}

/// The backups and migration snapshots of a store, newest first (each
/// kind). Those whose metadata is sealed under a key not given are listed
/// after them with `meta: None`, so they are counted and named without the
/// key.
pub fn list_backups(
    fs: &dyn FileSystem,
    codec: &dyn Codec,
    paths: &Paths,
) -> Result<Vec<(&'static str, backup::Info)>> {
    let name = paths.file_name();
    let mut out = Vec::new();
    for (kind, dir) in [
        ("backup", paths.backup_dir.clone()),
        ("snapshot", paths.migration_dir()),
    ] {
        let listed = backup::list_of(fs, codec, &dir, &name)?;
        let known: std::collections::HashSet<String> =
            listed.iter().map(|b| b.file.clone()).collect();
        out.extend(listed.into_iter().map(|b| (kind, b)));
        let mut sealed: Vec<String> = fs
            .read_dir(&dir)
            .unwrap_or_default()
            .into_iter()
            .filter(|f| {
                f.starts_with("backup-")
                    && f.ends_with(".json")
                    && !f.ends_with(".meta.json")
                    && !known.contains(f)
                    && fs
                        .read(&dir.join(format!("{f}.meta.json")))
                        .is_ok_and(|m| m.starts_with(SEALED.as_bytes()))
            })
            .collect();
        sealed.sort_by(|a, b| b.cmp(a));
        out.extend(sealed.into_iter().map(|f| {
            (
                kind,
                backup::Info {
                    path: dir.join(&f),
                    file: f,
                    meta: None,
                },
            )
        }));
    }
    Ok(out)
}

/// Parses a JSON value (for callers holding text).
pub fn parse_value(bytes: &[u8]) -> Result<Value> {
    parse(bytes).map_err(|e| Error::InvalidArgument(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::Plain;
    use crate::fs::RealFs;
    use crate::{Durability, StoreOptions};

    fn tmp() -> PathBuf {
        let d = std::env::temp_dir().join(format!(
            "tad-inspect-{}-{}",
            std::process::id(),
            crate::journal::now_ms() as u64 + rand_suffix()
        ));
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    fn rand_suffix() -> u64 {
        use std::sync::atomic::{AtomicU64, Ordering};
        static N: AtomicU64 = AtomicU64::new(0);
        N.fetch_add(1, Ordering::Relaxed)
    }

    fn listing(dir: &Path) -> Vec<(PathBuf, u64, Option<std::time::SystemTime>)> {
        let mut out = Vec::new();
        let mut todo = vec![dir.to_path_buf()];
        while let Some(d) = todo.pop() {
            for e in std::fs::read_dir(&d).unwrap() {
                let e = e.unwrap();
                let m = e.metadata().unwrap();
                if m.is_dir() {
                    todo.push(e.path());
                }
                out.push((e.path(), m.len(), m.modified().ok()));
            }
        }
        out.sort();
        out
    }

    fn paths(dir: &Path) -> Paths {
        Paths {
            doc: dir.join("config.json"),
            history_dir: dir.join("storeHistory"),
            backup_dir: dir.join("backups"),
        }
    }

    fn make_store(dir: &Path, n: usize) {
        let mut o = StoreOptions::new(dir.join("config.json"));
        o.history_dir = dir.join("storeHistory");
        o.backup_dir = dir.join("backups");
        o.durability = Durability::Sync;
        let h = crate::registry::open(o).unwrap();
        for i in 0..n {
            let call = crate::Call {
                validate: true,
                values: false,
            };
            h.set(
                &format!("k{}", i % 3),
                format!("{{\"n\":{i}}}").as_bytes(),
                call,
            )
            .unwrap();
        }
        h.create_backup("test", false).unwrap();
        h.close(false).unwrap();
    }

    #[test]
    fn a_healthy_store_verifies_and_nothing_on_disk_changes() {
        let dir = tmp();
        make_store(&dir, 12);
        let before = listing(&dir);
        let fs: Arc<dyn FileSystem> = Arc::new(RealFs);
        let codec: Arc<dyn Codec> = Arc::new(Plain);
        let snap = Arc::new(snapshot(&*fs, &*codec, &paths(&dir)).unwrap());
        assert_eq!(snap.journal.changes.len(), 12);
        assert!(
            matches!(snap.anchor, Anchor::Seq { seq: 12, .. }),
            "{:?}",
            snap.anchor
        );
        let mut v = Verifier::new(fs, codec, snap);
        while !v.step(3) {}
        assert!(v.ok(), "{:#?}", v.checks);
        assert_eq!(v.done, v.total);
        assert_eq!(v.checks.iter().filter(|c| c.kind == "undo").count(), 12);
        assert_eq!(v.checks.iter().filter(|c| c.kind == "backup").count(), 1);
        assert_eq!(listing(&dir), before);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_damaged_journal_line_and_a_damaged_backup_fail() {
        let dir = tmp();
        make_store(&dir, 6);
        let p = paths(&dir);
        let mut j = std::fs::read(p.journal()).unwrap();
        let at = j.len() / 2;
        j[at] = b'#';
        std::fs::write(p.journal(), &j).unwrap();
        let b = backup::list_of(&RealFs, &Plain, &p.backup_dir, "config.json").unwrap();
        std::fs::write(&b[0].path, b"{\"x\":1}").unwrap();
        let fs: Arc<dyn FileSystem> = Arc::new(RealFs);
        let codec: Arc<dyn Codec> = Arc::new(Plain);
        let snap = Arc::new(snapshot(&*fs, &*codec, &p).unwrap());
        assert!(snap.journal.damaged.is_some());
        let mut v = Verifier::new(fs, codec, snap);
        while !v.step(100) {}
        assert!(!v.ok());
        assert!(v.checks.iter().any(|c| c.kind == "chain" && !c.ok));
        assert!(v
            .checks
            .iter()
            .any(|c| c.kind == "backup" && c.code == "E_BACKUP_CORRUPT"));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_store_with_secrets_reads_sealed_without_the_key_and_verifies_with_it() {
        use crate::crypto::SecretCodec;
        let dir = tmp();
        let key = [7u8; 32];
        let secret = |k: &[u8]| -> Arc<dyn Codec> {
            Arc::new(
                SecretCodec::new(
                    vec![vec!["ai".into(), "apiKey".into()]],
                    vec!["ai.apiKey".into()],
                    k,
                    true,
                )
                .unwrap(),
            )
        };
        let mut o = StoreOptions::new(dir.join("config.json"));
        o.durability = Durability::Sync;
        o.codec = secret(&key);
        let h = crate::registry::open(o).unwrap();
        let call = crate::Call {
            validate: true,
            values: false,
        };
        h.set("ai.apiKey", b"\"sk-canary-123\"", call).unwrap();
        h.set("theme", b"\"dark\"", call).unwrap();
        h.create_backup("test", false).unwrap();
        h.close(false).unwrap();
        let p = paths(&dir);
        let before = listing(&dir);
        let fs: Arc<dyn FileSystem> = Arc::new(RealFs);
        // without the key: the document reads with the value sealed, the
        // journal and the backup's metadata do not
        let plain: Arc<dyn Codec> = Arc::new(Plain);
        let snap = Arc::new(snapshot(&*fs, &*plain, &p).unwrap());
        assert_eq!(
            snap.doc.sealed,
            vec![vec!["ai".to_string(), "apiKey".to_string()]]
        );
        assert!(snap.doc.still_sealed);
        assert_eq!(
            snap.journal.fatal.as_ref().map(|e| e.code()),
            Some("E_SECRET_KEY")
        );
        let list = list_backups(&*fs, &*plain, &p).unwrap();
        assert_eq!(list.len(), 1);
        assert!(list[0].1.meta.is_none());
        // with it: everything opens and verifies
        let codec = secret(&key);
        let snap = Arc::new(snapshot(&*fs, &*codec, &p).unwrap());
        assert!(!snap.doc.still_sealed);
        assert_eq!(
            snap.doc.sealed.len(),
            1,
            "where the file holds sealed values"
        );
        assert!(matches!(snap.anchor, Anchor::Seq { seq: 2, .. }));
        let mut v = Verifier::new(fs.clone(), codec, snap);
        while !v.step(10) {}
        assert!(v.ok(), "{:#?}", v.checks);
        assert!(v
            .checks
            .iter()
            .any(|c| c.kind == "backup" && c.ok && !c.skipped));
        // a wrong key is told apart from damage
        let snap = snapshot(&*fs, &*secret(&[9u8; 32]), &p).unwrap();
        assert_eq!(
            snap.journal.fatal.as_ref().map(|e| e.code()),
            Some("E_SECRET_KEY")
        );
        assert!(snap.journal.damaged.is_none());
        assert_eq!(listing(&dir), before);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn an_edit_made_while_closed_is_unmatched() {
        let dir = tmp();
        make_store(&dir, 3);
        let p = paths(&dir);
        std::fs::write(&p.doc, b"{\"edited\":true}").unwrap();
        let snap = snapshot(&RealFs, &Plain, &p).unwrap();
        assert_eq!(snap.anchor, Anchor::Unmatched);
        std::fs::write(&p.doc, b"{\"edited\":").unwrap();
        let snap = snapshot(&RealFs, &Plain, &p).unwrap();
        assert_eq!(snap.anchor, Anchor::Unreadable);
        assert_eq!(snap.doc.error.as_ref().map(|e| e.code()), Some("E_CORRUPT"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
