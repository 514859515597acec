//! Reading the document file, and rebuilding a damaged or missing one from
//! the history or a backup; what a missing or damaged file settles on.

use std::borrow::Cow;
use std::path::PathBuf;

use super::replay::replay_checked;
use super::{FileState, LogConfig, OpenReport};
use crate::backup;
use crate::codec::Kind;
use crate::doc::Document;
use crate::error::{Error, Result};
use crate::fs::{read_if_exists, write_new};
use crate::journal::{now_ms, ChangeRecord, Checkpoint, Entry};
use crate::value::{hex, merkle, parse_document, sha256_hex, Value};

/// What reading the document file gave.
pub(super) enum FileRead {
    Missing,
    Good {
        value: Value,
        sha: String,
        len: usize,
        /// The bytes held invalid UTF-8 (decoded as U+FFFD, as Node does).
        invalid_utf8: bool,
    },
    Bad {
        detail: String,
        raw: Vec<u8>,
        /// Valid JSON nested deeper than `MAX_DEPTH` (not damage, but refused alike).
        too_deep: bool,
    },
}

pub(super) fn read_document(cfg: &LogConfig) -> Result<FileRead> {
    let Some(raw) = read_if_exists(&*cfg.fs, &cfg.doc_path)? else {
        return Ok(FileRead::Missing);
    };
    // a big file is hashed on a second thread while this one parses it: the
    // bytes are read once, and the two passes overlap
    if raw.len() >= PARALLEL_HASH_FROM {
        let (sha, read) = std::thread::scope(|scope| {
            let hashing = std::thread::Builder::new()
                .name("tad-store-hash".into())
                .spawn_scoped(scope, || sha256_hex(&raw));
            let read = decode_and_parse(cfg, &raw);
            let sha = match hashing {
                Ok(h) => h.join().unwrap_or_else(|_| sha256_hex(&raw)),
                Err(_) => sha256_hex(&raw),
            };
            (sha, read)
        });
        return read.finish(sha, raw);
    }
    let sha = sha256_hex(&raw);
    decode_and_parse(cfg, &raw).finish(sha, raw)
}

/// From this size on, the document file is hashed in parallel with its
/// parse (below it a thread costs more than the hash).
const PARALLEL_HASH_FROM: usize = 256 * 1024;

/// The document file decoded and parsed, before its hash is known.
enum Parsed {
    Good { value: Value, invalid_utf8: bool },
    Bad { detail: String, too_deep: bool },
    KeyError(Error),
}

impl Parsed {
    fn finish(self, sha: String, raw: Vec<u8>) -> Result<FileRead> {
        match self {
            Parsed::Good {
                value,
                invalid_utf8,
            } => Ok(FileRead::Good {
                value,
                sha,
                len: raw.len(),
                invalid_utf8,
            }),
            Parsed::Bad { detail, too_deep } => Ok(FileRead::Bad {
                detail,
                raw,
                too_deep,
            }),
            Parsed::KeyError(e) => Err(e),
        }
    }
}

fn decode_and_parse(cfg: &LogConfig, raw: &[u8]) -> Parsed {
    let plain = match cfg.codec.decode(Kind::Document, raw) {
        Ok(p) => p,
        // a wrong key is not damage: nothing may be repaired or set aside
        Err(e @ Error::SecretKey(_)) => return Parsed::KeyError(e),
        Err(e) => {
            return Parsed::Bad {
                detail: format!("it cannot be decoded: {e}"),
                too_deep: false,
            }
        }
    };
    match parse_document(&plain) {
        Ok((v, invalid_utf8)) if v.as_object().is_some() => Parsed::Good {
            value: v,
            invalid_utf8,
        },
        other => {
            let too_deep = matches!(&other, Err(e) if e.too_deep);
            let detail = match other {
                Err(e) if raw.is_empty() => format!("empty file: {e}"),
                Err(e) if raw.iter().all(|&c| c == 0) => format!("zero-filled: {e}"),
                Err(e) => e.to_string(),
                Ok(_) => "the top level is not an object".into(),
            };
            Parsed::Bad { detail, too_deep }
        }
    }
}

/// A document rebuilt from the history or a backup.
pub(super) struct Rebuilt {
    pub(super) doc: Document,
    pub(super) hash: String,
    pub(super) how: String,
    /// The state is the journal's latest (else the history has a gap before it).
    pub(super) exact: bool,
}

/// Rebuilds the newest state that can be proven: the whole history replayed
/// from an empty store (when it reaches back to the first change), else the
/// newest backup that verifies, plus the journal's changes after it when they
/// continue it. Every step is checked against the recorded hashes.
pub(super) fn rebuild(cfg: &LogConfig, changes: &[&ChangeRecord]) -> Option<Rebuilt> {
    let last_seq = changes.last().map(|e| e.seq);
    if let Some(first) = changes.first() {
        let mut doc = Document::default();
        let mut hash = hex(&merkle(doc.root()));
        if first.seq == 1 && first.hash_before.as_deref() == Some(hash.as_str()) {
            let r = replay_checked(&mut doc, &mut hash, changes);
            if r.applied > 0 {
                return Some(Rebuilt {
                    how: format!("rebuilt from the change history ({} changes)", r.applied),
                    exact: r.stopped.is_none(),
                    doc,
                    hash,
                });
            }
        }
    }
    let backups = backup::list_of(&*cfg.fs, &*cfg.codec, &cfg.backup_dir, &cfg.file_name()).ok()?;
    for b in backups {
        let Ok((value, meta)) = backup::read_verified(&*cfg.fs, &*cfg.codec, &b.path) else {
            continue;
        };
        let Ok(mut doc) = Document::new(value) else {
            continue;
        };
        let mut hash = hex(&merkle(doc.root()));
        let after: Vec<&ChangeRecord> = changes
            .iter()
            .copied()
            .filter(|e| e.seq > meta.seq)
            .collect();
        let continues = after.first().is_some_and(|e| {
            e.seq == meta.seq + 1 && e.hash_before.as_deref() == Some(hash.as_str())
        });
        if continues {
            let r = replay_checked(&mut doc, &mut hash, &after);
            return Some(Rebuilt {
                how: format!(
                    "rebuilt from the backup {} and the {} changes after it",
                    b.file, r.applied
                ),
                exact: r.stopped.is_none(),
                doc,
                hash,
            });
        }
        let exact = after.is_empty() && last_seq.is_none_or(|s| s == meta.seq);
        return Some(Rebuilt {
            how: if exact {
                format!("restored from the backup {}", b.file)
            } else {
                format!(
                    "restored from the backup {} ({}); later changes could not be replayed",
                    b.file, meta.backup_time
                )
            },
            exact,
            doc,
            hash,
        });
    }
    None
}

/// `<file>.corrupt-<ms>`: where a copy of a damaged store file is kept.
pub(super) fn quarantine_path(cfg: &LogConfig) -> PathBuf {
    cfg.doc_path.with_file_name(crate::names::quarantine_name(
        &cfg.file_name(),
        now_ms() as u64,
    ))
}

/// The journal's entries as found, seen as changes and checkpoints.
pub(super) struct History<'a> {
    pub(super) changes: Vec<&'a ChangeRecord>,
    pub(super) checkpoints: Vec<&'a Checkpoint>,
}

impl<'a> History<'a> {
    pub(super) fn of(entries: &'a [(u64, Entry)]) -> History<'a> {
        History {
            changes: changes_of(entries),
            checkpoints: entries
                .iter()
                .filter_map(|(_, e)| match e {
                    Entry::Checkpoint(c) => Some(c),
                    _ => None,
                })
                .collect(),
        }
    }

    /// The state the history says it reached (for an entry that records an
    /// unexplained new state).
    pub(super) fn reached(&self) -> Option<String> {
        self.changes
            .last()
            .and_then(|c| c.hash_after.clone())
            .or_else(|| self.checkpoints.last().and_then(|c| c.doc.clone()))
    }

    pub(super) fn is_empty(&self) -> bool {
        self.changes.is_empty() && self.checkpoints.is_empty()
    }
}

pub(super) fn changes_of(entries: &[(u64, Entry)]) -> Vec<&ChangeRecord> {
    entries
        .iter()
        .filter_map(|(_, e)| match e {
            Entry::Change(c) => Some(c),
            _ => None,
        })
        .collect()
}

/// The state the document file and the journal settle on, before the log
/// adopts it.
pub(super) struct Settled {
    pub(super) doc: Document,
    /// Its Merkle hash, when already known.
    pub(super) hash: Option<String>,
    pub(super) file: FileState,
    /// An irreversible entry to record: the state changed in a way the
    /// history does not explain.
    pub(super) record: Option<&'static str>,
    /// The document file must be written now (it is missing or damaged).
    pub(super) write_now: bool,
    /// A replay stopped at this change (`(seq, why)`): the journal's lines
    /// from it on are not trusted.
    pub(super) stop: Option<(u64, String)>,
}

impl Settled {
    pub(super) fn new(doc: Document) -> Settled {
        Settled {
            doc,
            hash: None,
            file: FileState::default(),
            record: None,
            write_now: false,
            stop: None,
        }
    }

    /// A state rebuilt from the history or a backup (`record`: when it is not
    /// the journal's latest).
    pub(super) fn rebuilt(r: Rebuilt, report: &mut OpenReport) -> Settled {
        report.recovered = Some(r.how);
        let mut s = Settled::new(r.doc);
        if !r.exact {
            s.record = Some("recover");
        }
        s.hash = Some(r.hash);
        s
    }
}

/// Step 3, no document file: an empty store, or (when the journal has
/// changes) the state rebuilt from the history or a backup; written now.
pub(super) fn settle_missing(
    cfg: &LogConfig,
    history: &History<'_>,
    report: &mut OpenReport,
) -> Settled {
    if history.changes.is_empty() {
        let mut s = Settled::new(Document::default());
        if !history.is_empty() {
            // deleted by someone while the history only holds checkpoints
            report.missing_file = true;
            report.external_edit = true;
            s.record = Some("external-edit");
            s.write_now = true;
        }
        return s;
    }
    report.missing_file = true;
    let mut s = match rebuild(cfg, &history.changes) {
        Some(r) => Settled::rebuilt(r, report),
        None => {
            let mut s = Settled::new(Document::default());
            report.external_edit = true;
            s.record = Some("external-edit");
            s
        }
    };
    s.write_now = true;
    s
}

/// Step 3, a damaged document file: refused (left untouched) unless it can
/// be rebuilt or `clear_invalid_config` allows starting empty; its bytes are
/// kept aside (`<file>.corrupt-<ms>`) before anything replaces them.
pub(super) fn settle_bad(
    cfg: &LogConfig,
    (detail, raw, too_deep): (String, Vec<u8>, bool),
    history: &History<'_>,
    writable: bool,
    report: &mut OpenReport,
) -> Result<Settled> {
    let rebuilt = rebuild(cfg, &history.changes);
    let q = quarantine_path(cfg);
    if rebuilt.is_none() && !cfg.clear_invalid_config && too_deep {
        return Err(Error::TooDeep(format!(
            "The store file {} is {detail}. It was left untouched; open it with `clearInvalidConfig: true` to start from defaults (the file is then kept beside it as {})",
            cfg.doc_path.display(),
            q.display()
        )));
    }
    if rebuilt.is_none() && !cfg.clear_invalid_config {
        return Err(Error::Corrupt {
            path: cfg.doc_path.clone(),
            detail,
            quarantine: q.display().to_string(),
        });
    }
    if writable {
        // keep the damaged bytes before anything replaces them
        let sealed = cfg.codec.encode(Kind::Quarantine, Cow::Borrowed(&raw))?;
        write_new(&*cfg.fs, &q, &sealed, cfg.mode)?;
        report.quarantined = Some(q);
    }
    let mut s = match rebuilt {
        Some(r) => Settled::rebuilt(r, report),
        None => {
            let mut s = Settled::new(Document::default());
            if !history.is_empty() {
                s.record = Some("clear-invalid");
            }
            s
        }
    };
    s.write_now = true;
    Ok(s)
}
