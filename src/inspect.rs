//! The support command's read-only view of a store (`tad-store inspect`,
//! `history`, `verify`, `export`, `doctor`, `rollback --dry-run`): wrappers
//! over `tad_store_core::inspect`, which reads the files without writing,
//! locking or repairing anything, so an app that has the store open is not
//! disturbed. Results cross to JS as JSON text.

use std::path::PathBuf;
use std::sync::Arc;

use napi::bindgen_prelude::*;
use napi_derive::napi;

use tad_store_core::codec::{Codec, Plain};
use tad_store_core::crypto::{LegacyCodec, SecretCodec};
use tad_store_core::doc::Document;
use tad_store_core::fs::{FileSystem, RealFs};
use tad_store_core::history::{self, iso, Target};
use tad_store_core::inspect::{self, Anchor, Check, Paths, Snapshot, Verifier};
use tad_store_core::journal::ChangeRecord;
use tad_store_core::value::{to_json, write_list, write_number, write_string, Value};
use tad_store_core::Error as CoreError;

use crate::convert::text;
use crate::errors::run;

fn opt_str(out: &mut Vec<u8>, s: Option<&str>) {
    match s {
        Some(s) => write_string(out, s),
        None => out.extend_from_slice(b"null"),
    }
}

/// `{file, path, metadata}` as `listBackups()` gives it (`metadata`: `null`
/// when it is sealed under a key not given).
fn write_backup(out: &mut Vec<u8>, b: &tad_store_core::backup::Info) {
    out.extend_from_slice(b"{\"file\":");
    write_string(out, &b.file);
    out.extend_from_slice(b",\"path\":");
    write_string(out, &b.path.display().to_string());
    out.extend_from_slice(b",\"metadata\":");
    match &b.meta {
        Some(m) => out.extend_from_slice(&m.to_json()),
        None => out.extend_from_slice(b"null"),
    }
    out.push(b'}');
}

/// Where the store to look at is, and the key to read it with.
#[napi(object)]
pub struct InspectOptions {
    /// The document file.
    pub path: String,
    /// `storeHistory/` (journal, migration snapshots).
    pub history_dir: String,
    /// `backups/`.
    pub backup_dir: String,
    /// The `secretKey` the store's secrets were written with.
    pub secret_key: Option<Buffer>,
    /// electron-store 8's `encryptionKey`, as bytes.
    pub encryption_key: Option<Buffer>,
}

/// A read-only look at a store's files, taken when it is constructed.
#[napi]
pub struct StoreInspector {
    fs: Arc<dyn FileSystem>,
    codec: Arc<dyn Codec>,
    snap: Arc<Snapshot>,
    verifier: Option<Verifier>,
}

fn codec_of(o: &InspectOptions) -> tad_store_core::Result<Arc<dyn Codec>> {
    match (&o.secret_key, &o.encryption_key) {
        (Some(_), Some(_)) => Err(CoreError::InvalidArgument(
            "give either a secret key or an encryption key, not both".into(),
        )),
        // every envelope in a document opens under the ring, wherever it is
        (Some(k), None) => Ok(Arc::new(SecretCodec::new(Vec::new(), Vec::new(), k, true)?)),
        (None, Some(k)) => Ok(Arc::new(LegacyCodec::new(k)?)),
        (None, None) => Ok(Arc::new(Plain)),
    }
}

fn write_change(out: &mut Vec<u8>, e: &ChangeRecord, patches: bool) {
    out.extend_from_slice(
        format!(
            "{{\"seq\":{},\"timestamp\":\"{}\",\"time\":",
            e.seq,
            iso(e.ts)
        )
        .as_bytes(),
    );
    write_number(out, e.ts);
    out.extend_from_slice(b",\"operation\":");
    write_string(out, &e.op);
    out.extend_from_slice(b",\"keys\":");
    write_list(out, &e.keys, |o, k| write_string(o, k));
    out.extend_from_slice(b",\"hashBefore\":");
    opt_str(out, e.hash_before.as_deref());
    out.extend_from_slice(b",\"hashAfter\":");
    opt_str(out, e.hash_after.as_deref());
    out.extend_from_slice(format!(",\"reversible\":{}", e.inverse.is_some()).as_bytes());
    if patches {
        out.extend_from_slice(b",\"patch\":");
        write_list(out, &e.patch, |o, p| p.write_json(o));
        out.extend_from_slice(b",\"inverse\":");
        match &e.inverse {
            Some(inv) => write_list(out, inv, |o, p| p.write_json(o)),
            None => out.extend_from_slice(b"null"),
        }
    }
    out.push(b'}');
}

fn write_file(out: &mut Vec<u8>, f: &inspect::FileInfo) {
    out.extend_from_slice(
        format!("{{\"exists\":{},\"size\":{},\"mtime\":", f.exists, f.len).as_bytes(),
    );
    match f.mtime_ms {
        Some(t) => write_number(out, t.floor()),
        None => out.extend_from_slice(b"null"),
    }
    out.extend_from_slice(b",\"sha256\":");
    opt_str(out, f.sha256.as_deref());
    out.push(b'}');
}

fn write_error(out: &mut Vec<u8>, e: Option<&CoreError>) {
    match e {
        Some(e) => {
            out.extend_from_slice(b"{\"code\":");
            write_string(out, e.code());
            out.extend_from_slice(b",\"message\":");
            write_string(out, &e.to_string());
            out.push(b'}');
        }
        None => out.extend_from_slice(b"null"),
    }
}

fn write_paths(out: &mut Vec<u8>, list: &[PathBuf]) {
    write_list(out, list, |o, p| write_string(o, &p.display().to_string()));
}

fn write_check(out: &mut Vec<u8>, c: &Check) {
    out.extend_from_slice(b"{\"kind\":");
    write_string(out, c.kind);
    out.extend_from_slice(b",\"subject\":");
    write_string(out, &c.subject);
    out.extend_from_slice(
        format!(",\"ok\":{},\"skipped\":{},\"detail\":", c.ok, c.skipped).as_bytes(),
    );
    write_string(out, &c.detail);
    out.extend_from_slice(b",\"code\":");
    if c.code.is_empty() {
        out.extend_from_slice(b"null");
    } else {
        write_string(out, c.code);
    }
    out.push(b'}');
}

/// The latest state: the document with the journal's later entries replayed
/// (checked against their hashes), and the seq it is at.
fn latest(snap: &Snapshot) -> tad_store_core::Result<(Document, u64)> {
    let j = &snap.journal;
    if snap.doc.value.is_none()
        && snap.doc.error.is_none()
        && !snap.doc.file.exists
        && j.fatal.is_none()
        && j.damaged.is_none()
        && j.checkpoints.is_empty()
        && j.changes.first().is_some_and(|c| c.seq == 1)
    {
        // a new store whose file is not written yet: every change is in the
        // journal, from `{}`
        let mut doc = Document::default();
        let mut at = 0;
        for e in &j.changes {
            doc.apply(&e.patch)?;
            at = e.seq;
        }
        return Ok((doc, at));
    }
    let v = snap
        .doc
        .value
        .clone()
        .ok_or_else(|| match &snap.doc.error {
            Some(CoreError::SecretKey(m)) => CoreError::SecretKey(m.clone()),
            Some(e) => CoreError::Corrupt {
                path: snap.paths.doc.clone(),
                detail: e.to_string(),
                quarantine: String::new(),
            },
            None => CoreError::Io {
                op: "read",
                path: snap.paths.doc.clone(),
                source: std::io::Error::from(std::io::ErrorKind::NotFound),
            },
        })?;
    if let Some(e) = &snap.journal.fatal {
        return Err(CoreError::SecretKey(e.to_string()));
    }
    let mut doc = Document::new(v)?;
    let seq = match snap.anchor {
        Anchor::Seq { seq, .. } => seq,
        Anchor::NoHistory => return Ok((doc, 0)),
        _ => {
            return Err(CoreError::HistoryMismatch(
                "the store file matches no state its journal records (edited by another program while the store was closed, or damaged): open the store once so the edit is recorded, or restore a backup".into(),
            ))
        }
    };
    let mut at = seq;
    for e in snap.journal.changes.iter().filter(|e| e.seq > seq) {
        doc.apply(&e.patch)?;
        at = e.seq;
    }
    Ok((doc, at))
}

#[napi]
impl StoreInspector {
    /// Reads the store's files (document first, then the journal, again if a
    /// writer replaced the document meanwhile). Changes nothing on disk.
    #[napi(constructor)]
    pub fn new(env: Env, opts: InspectOptions) -> Result<Self> {
        run(&env, "inspect", || {
            let codec = codec_of(&opts)?;
            let fs: Arc<dyn FileSystem> = Arc::new(RealFs);
            let paths = Paths {
                doc: PathBuf::from(&opts.path),
                history_dir: PathBuf::from(&opts.history_dir),
                backup_dir: PathBuf::from(&opts.backup_dir),
            };
            let snap = Arc::new(inspect::snapshot(&*fs, &*codec, &paths)?);
            Ok(StoreInspector {
                fs,
                codec,
                snap,
                verifier: None,
            })
        })
    }

    /// What was read, as JSON: `{ document: { file, error, keys: [{key,
    /// bytes, type}], merkle, invalidUtf8, sealed }, journal: { file, changes,
    /// checkpoints, firstSeq, lastSeq, firstTime, lastTime, lastCheckpoint,
    /// torn, damaged, fatal, goodLength }, anchor, quarantined, temps,
    /// retries }`. No values.
    #[napi]
    pub fn summary(&self) -> Result<String> {
        let s = &self.snap;
        let mut out = Vec::with_capacity(1024);
        out.extend_from_slice(b"{\"document\":{\"path\":");
        write_string(&mut out, &s.paths.doc.display().to_string());
        out.extend_from_slice(b",\"file\":");
        write_file(&mut out, &s.doc.file);
        out.extend_from_slice(b",\"error\":");
        write_error(&mut out, s.doc.error.as_ref());
        out.extend_from_slice(b",\"keys\":");
        match s.doc.value.as_ref().and_then(Value::as_object) {
            Some(m) => {
                let items: Vec<_> = m.iter().collect();
                write_list(&mut out, &items, |o, (k, v)| {
                    o.extend_from_slice(b"{\"key\":");
                    write_string(o, k);
                    let ty = match v {
                        Value::Null => "null",
                        Value::Bool(_) => "boolean",
                        Value::Number(_) => "number",
                        Value::String(_) => "string",
                        Value::Array(_) => "array",
                        Value::Object(_) => "object",
                    };
                    o.extend_from_slice(
                        format!(",\"bytes\":{},\"type\":\"{ty}\"}}", to_json(v, false).len())
                            .as_bytes(),
                    );
                });
            }
            None => out.extend_from_slice(b"null"),
        }
        out.extend_from_slice(b",\"merkle\":");
        opt_str(&mut out, s.doc.merkle.as_deref());
        out.extend_from_slice(
            format!(",\"invalidUtf8\":{},\"sealed\":", s.doc.invalid_utf8).as_bytes(),
        );
        write_list(&mut out, &s.doc.sealed, |o, p| {
            write_list(o, p, |o, seg| write_string(o, seg))
        });
        out.extend_from_slice(b"},\"journal\":{\"path\":");
        let j = &s.journal;
        write_string(&mut out, &s.paths.journal().display().to_string());
        out.extend_from_slice(b",\"file\":");
        write_file(&mut out, &j.file);
        out.extend_from_slice(
            format!(
                ",\"changes\":{},\"checkpoints\":{},\"goodLength\":{},\"torn\":{}",
                j.changes.len(),
                j.checkpoints.len(),
                j.good_len,
                j.torn
            )
            .as_bytes(),
        );
        let num = |out: &mut Vec<u8>, k: &str, v: Option<f64>| {
            out.extend_from_slice(format!(",\"{k}\":").as_bytes());
            match v {
                Some(n) => write_number(out, n),
                None => out.extend_from_slice(b"null"),
            }
        };
        num(
            &mut out,
            "firstSeq",
            j.changes.first().map(|c| c.seq as f64),
        );
        num(&mut out, "lastSeq", j.changes.last().map(|c| c.seq as f64));
        num(&mut out, "firstTime", j.changes.first().map(|c| c.ts));
        num(&mut out, "lastTime", j.changes.last().map(|c| c.ts));
        num(
            &mut out,
            "lastCheckpoint",
            j.checkpoints.last().map(|c| c.seq as f64),
        );
        num(
            &mut out,
            "lastCheckpointTime",
            j.checkpoints.last().map(|c| c.ts),
        );
        out.extend_from_slice(b",\"damaged\":");
        opt_str(&mut out, j.damaged.as_deref());
        out.extend_from_slice(b",\"fatal\":");
        write_error(&mut out, j.fatal.as_ref());
        out.extend_from_slice(b"},\"anchor\":");
        match &s.anchor {
            Anchor::Seq { seq, by_checkpoint } => out.extend_from_slice(
                format!("{{\"state\":\"seq\",\"seq\":{seq},\"byCheckpoint\":{by_checkpoint}}}")
                    .as_bytes(),
            ),
            Anchor::NoHistory => out.extend_from_slice(b"{\"state\":\"no-history\"}"),
            Anchor::Unmatched => out.extend_from_slice(b"{\"state\":\"unmatched\"}"),
            Anchor::Unreadable => out.extend_from_slice(b"{\"state\":\"unreadable\"}"),
        }
        out.extend_from_slice(b",\"lockFile\":");
        write_string(&mut out, &s.paths.lock().display().to_string());
        out.extend_from_slice(b",\"quarantined\":");
        write_paths(&mut out, &s.quarantined);
        out.extend_from_slice(b",\"temps\":");
        write_paths(&mut out, &s.temps);
        out.extend_from_slice(format!(",\"retries\":{}}}", s.retries).as_bytes());
        Ok(text(out))
    }

    /// The change entries (oldest first) at or after `sinceMs`, with their
    /// patches when `patches`.
    #[napi]
    pub fn entries(&self, since_ms: Option<f64>, patches: bool) -> Result<String> {
        let since = since_ms.unwrap_or(f64::NEG_INFINITY);
        let list: Vec<&ChangeRecord> = self
            .snap
            .journal
            .changes
            .iter()
            .filter(|e| e.ts >= since)
            .collect();
        let mut out = Vec::new();
        write_list(&mut out, &list, |o, e| write_change(o, e, patches));
        Ok(text(out))
    }

    /// The document as the file holds it, decoded (`pretty`: electron-store's
    /// tab-indented JSON), or `null` when it could not be read. Values the
    /// key given does not open stay sealed envelopes.
    #[napi]
    pub fn document(&self, pretty: bool) -> Result<Option<String>> {
        Ok(self
            .snap
            .doc
            .value
            .as_ref()
            .map(|v| text(to_json(v, pretty))))
    }

    /// The latest state (the file plus the journal's entries not in it yet),
    /// checked against the journal: `{ seq, document }` JSON.
    #[napi]
    pub fn latest(&self, env: Env) -> Result<String> {
        let snap = self.snap.clone();
        run(&env, "inspect", || {
            let (doc, seq) = latest(&snap)?;
            let mut out = format!("{{\"seq\":{seq},\"document\":").into_bytes();
            out.extend_from_slice(&to_json(doc.root(), false));
            out.push(b'}');
            Ok(text(out))
        })
    }

    /// The backups and migration snapshots, newest first: `[{ kind, file,
    /// path, metadata }]`.
    #[napi]
    pub fn backups(&self, env: Env) -> Result<String> {
        run(&env, "inspect", || {
            let list = inspect::list_backups(&*self.fs, &*self.codec, &self.snap.paths)?;
            let mut out = Vec::new();
            write_list(&mut out, &list, |o, (kind, b)| {
                o.extend_from_slice(b"{\"kind\":");
                write_string(o, kind);
                o.extend_from_slice(b",\"backup\":");
                write_backup(o, b);
                o.push(b'}');
            });
            Ok(text(out))
        })
    }

    /// What a rollback to change `value` (`kind` 0) or time `value` ms (`kind`
    /// 1) would do, computed from the files and checked against the recorded
    /// hash, without changing anything: `{ fromSeq, targetSeq, reverted,
    /// patch, inverse }`.
    #[napi]
    pub fn rollback_plan(&self, env: Env, kind: u32, value: f64) -> Result<String> {
        let snap = self.snap.clone();
        run(&env, "rollback", || {
            let (doc, seq) = latest(&snap)?;
            let target = if kind == 0 {
                if !(value >= 0.0 && value.fract() == 0.0) {
                    return Err(CoreError::InvalidArgument(format!(
                        "not a change number: {value}"
                    )));
                }
                Target::Seq(value as u64)
            } else {
                Target::Time(value)
            };
            let plan = history::plan(&doc, seq, &snap.journal.changes, target)?;
            let mut out = format!(
                "{{\"fromSeq\":{seq},\"targetSeq\":{},\"reverted\":{},\"patch\":",
                plan.target_seq, plan.reverted
            )
            .into_bytes();
            write_list(&mut out, &plan.change.patch, |o, p| p.write_json(o));
            out.extend_from_slice(b",\"inverse\":");
            write_list(&mut out, &plan.change.inverse, |o, p| p.write_json(o));
            out.push(b'}');
            Ok(text(out))
        })
    }

    /// Starts verifying (see `verifyStep`); returns the number of steps.
    #[napi]
    pub fn verify_begin(&mut self) -> Result<u32> {
        let v = Verifier::new(self.fs.clone(), self.codec.clone(), self.snap.clone());
        let total = v.total as u32;
        self.verifier = Some(v);
        Ok(total)
    }

    /// Makes up to `budget` verification steps (one journal entry or one
    /// backup each); returns the steps done so far (equal to the total once
    /// finished).
    #[napi]
    pub fn verify_step(&mut self, env: Env, budget: u32) -> Result<u32> {
        let v = self.verifier.as_mut();
        run(&env, "verify", || {
            let v =
                v.ok_or_else(|| CoreError::InvalidArgument("call verifyBegin() first".into()))?;
            v.step(budget.max(1) as usize);
            Ok(v.done as u32)
        })
    }

    /// The checks made so far: `{ ok, done, total, checks: [{ kind, subject,
    /// ok, skipped, detail, code }] }`.
    #[napi]
    pub fn verify_result(&self) -> Result<String> {
        let Some(v) = &self.verifier else {
            return Ok("null".into());
        };
        let mut out = format!(
            "{{\"ok\":{},\"finished\":{},\"done\":{},\"total\":{},\"checks\":",
            v.ok(),
            v.finished(),
            v.done,
            v.total
        )
        .into_bytes();
        write_list(&mut out, &v.checks, write_check);
        out.push(b'}');
        Ok(text(out))
    }
}
