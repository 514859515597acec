//! The journal: one append-only JSON-lines log that makes changes durable and
//! carries the change history (forward and inverse RFC 6902 patches).
//!
//! Two kinds of line:
//! - a change: `{"seq":N,"ts":MS,"op":"set","keys":["a.b"],"patch":[…],"inverse":[…]}`
//! - a checkpoint: `{"checkpoint":N,"ts":MS,"hash":"<sha256 of the document file>","size":BYTES}`,
//!   written just before the document file is atomically replaced with the state
//!   after change N.
//!
//! On open, the newest checkpoint whose hash matches the document file tells which
//! changes the file already holds; later changes are replayed. A torn last line
//! (kill -9 during an append) is cut off; anything after a damaged line is kept
//! aside in a `.damaged-<ms>` copy and not trusted.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use crate::doc::{Change, PatchOp};
use crate::error::{Error, Result};
use crate::fsutil::{atomic_write, read_if_exists, sync_dir};
use crate::value::{parse, write_list, write_string, Value};

/// A change as recorded in the journal (one history entry).
#[derive(Clone, Debug)]
pub struct ChangeRecord {
    pub seq: u64,
    pub ts: f64,
    pub op: String,
    pub keys: Vec<String>,
    pub patch: Vec<PatchOp>,
    /// `None` when the change cannot be undone (an edit made by another program
    /// while the store was closed: the state before it is unknown).
    pub inverse: Option<Vec<PatchOp>>,
    /// Merkle hashes (hex) of the document before and after the change.
    pub hash_before: Option<String>,
    pub hash_after: Option<String>,
    /// SHA-256 (hex) of the previous change line: the hash chain.
    pub prev: Option<String>,
    /// SHA-256 (hex) of this line (without its newline).
    pub line_hash: String,
}

/// What the writer knows when it encodes a change line.
pub struct Encoded<'a> {
    pub seq: u64,
    pub ts: f64,
    pub op: &'a str,
    pub keys: &'a [String],
    pub change: &'a Change,
    pub reversible: bool,
    pub hash_before: &'a str,
    pub hash_after: &'a str,
    pub prev: Option<&'a str>,
}

/// One journal line.
#[derive(Clone, Debug)]
pub enum Entry {
    Change(ChangeRecord),
    Checkpoint {
        seq: u64,
        ts: f64,
        hash: String,
        size: u64,
    },
}

/// Encodes a change line (including the trailing newline).
pub fn encode_change(e: &Encoded) -> Vec<u8> {
    let mut out = Vec::with_capacity(256);
    out.extend_from_slice(b"{\"seq\":");
    out.extend_from_slice(e.seq.to_string().as_bytes());
    out.extend_from_slice(b",\"ts\":");
    crate::value::write_number(&mut out, e.ts);
    out.extend_from_slice(b",\"op\":");
    write_string(&mut out, e.op);
    out.extend_from_slice(b",\"keys\":");
    write_list(&mut out, e.keys, |o, k| write_string(o, k));
    out.extend_from_slice(b",\"patch\":");
    write_list(&mut out, &e.change.patch, |o, p| p.write_json(o));
    out.extend_from_slice(b",\"inverse\":");
    if e.reversible {
        write_list(&mut out, &e.change.inverse, |o, p| p.write_json(o));
    } else {
        out.extend_from_slice(b"null");
    }
    out.extend_from_slice(b",\"hashBefore\":\"");
    out.extend_from_slice(e.hash_before.as_bytes());
    out.extend_from_slice(b"\",\"hashAfter\":\"");
    out.extend_from_slice(e.hash_after.as_bytes());
    out.extend_from_slice(b"\",\"prev\":");
    match e.prev {
        Some(p) => {
            out.push(b'"');
            out.extend_from_slice(p.as_bytes());
            out.push(b'"');
        }
        None => out.extend_from_slice(b"null"),
    }
    out.extend_from_slice(b"}\n");
    out
}

/// SHA-256 (hex) of a line's bytes, without the trailing newline.
pub fn line_hash(line: &[u8]) -> String {
    crate::value::sha256_hex(line.strip_suffix(b"\n").unwrap_or(line))
}

/// Encodes a checkpoint line.
pub fn encode_checkpoint(seq: u64, ts: f64, hash: &str, size: u64) -> Vec<u8> {
    let mut out = format!("{{\"checkpoint\":{seq},\"ts\":").into_bytes();
    crate::value::write_number(&mut out, ts);
    out.extend_from_slice(format!(",\"hash\":\"{hash}\",\"size\":{size}}}\n").as_bytes());
    out
}

fn decode_line(line: &[u8]) -> Result<Entry> {
    let opt_str = |m: &crate::value::Map, k: &str| match m.get(k) {
        Some(Value::String(s)) => Some(s.to_string()),
        _ => None,
    };
    let bad = |m: &str| Error::BadPatch(m.to_string());
    let v = parse(line).map_err(|e| Error::BadPatch(e.to_string()))?;
    let m = v
        .as_object()
        .ok_or_else(|| bad("journal line is not an object"))?;
    let num = |k: &str| match m.get(k) {
        Some(Value::Number(n)) if *n >= 0.0 => Ok(*n),
        _ => Err(bad("journal line lacks a number")),
    };
    if m.contains_key("checkpoint") {
        let hash = match m.get("hash") {
            Some(Value::String(s)) => s.to_string(),
            _ => return Err(bad("checkpoint without hash")),
        };
        return Ok(Entry::Checkpoint {
            seq: num("checkpoint")? as u64,
            ts: num("ts")?,
            hash,
            size: num("size")? as u64,
        });
    }
    let ops = |k: &str| -> Result<Vec<PatchOp>> {
        match m.get(k) {
            Some(Value::Array(a)) => a.iter().map(PatchOp::from_value).collect(),
            _ => Err(bad("change without patch")),
        }
    };
    let keys = match m.get("keys") {
        Some(Value::Array(a)) => a
            .iter()
            .map(|k| match k {
                Value::String(s) => Ok(s.to_string()),
                _ => Err(bad("non-string key")),
            })
            .collect::<Result<Vec<_>>>()?,
        _ => Vec::new(),
    };
    Ok(Entry::Change(ChangeRecord {
        seq: num("seq")? as u64,
        ts: num("ts")?,
        op: match m.get("op") {
            Some(Value::String(s)) => s.to_string(),
            _ => return Err(bad("change without op")),
        },
        keys,
        patch: ops("patch")?,
        inverse: match m.get("inverse") {
            Some(Value::Null) => None,
            _ => Some(ops("inverse")?),
        },
        hash_before: opt_str(m, "hashBefore"),
        hash_after: opt_str(m, "hashAfter"),
        prev: opt_str(m, "prev"),
        line_hash: line_hash(line),
    }))
}

/// What a journal file held when it was opened.
#[derive(Debug, Default)]
pub struct Scan {
    /// Valid entries, in file order, with the byte offset each starts at.
    pub entries: Vec<(u64, Entry)>,
    /// Length of the valid prefix.
    pub good_len: u64,
    /// Set when something other than a torn last line was damaged.
    pub damaged: Option<String>,
}

/// Parses a journal's bytes up to the first torn or damaged line.
pub fn scan(bytes: &[u8]) -> Scan {
    let mut s = Scan::default();
    let mut off = 0usize;
    let mut last_seq: Option<u64> = None;
    let mut last_line: Option<String> = None;
    while off < bytes.len() {
        let Some(nl) = bytes[off..].iter().position(|&b| b == b'\n') else {
            // torn last line: expected after a crash during an append
            break;
        };
        let line = &bytes[off..off + nl];
        match decode_line(line) {
            Ok(entry) => {
                if let Entry::Change(c) = &entry {
                    if let Some(prev) = last_seq {
                        if c.seq != prev + 1 {
                            s.damaged = Some(format!(
                                "sequence jumps from {prev} to {} at byte {off}",
                                c.seq
                            ));
                            break;
                        }
                    }
                    if let (Some(expected), Some(got)) = (&last_line, &c.prev) {
                        if expected != got {
                            s.damaged = Some(format!(
                                "the hash chain is broken at change {} (byte {off}): the line before it was altered or removed",
                                c.seq
                            ));
                            break;
                        }
                    }
                    last_seq = Some(c.seq);
                    last_line = Some(c.line_hash.clone());
                }
                s.entries.push((off as u64, entry));
                off += nl + 1;
                s.good_len = off as u64;
            }
            Err(e) => {
                s.damaged = Some(format!("unreadable line at byte {off}: {e}"));
                break;
            }
        }
    }
    s
}

/// The open journal file, positioned for appends.
pub struct Journal {
    path: PathBuf,
    file: File,
    len: u64,
    mode: u32,
}

impl Journal {
    /// Opens (creating if needed) and scans the journal. A torn tail is cut off;
    /// damage is copied aside before the valid prefix is kept.
    pub fn open(path: &Path, mode: u32) -> Result<(Journal, Scan)> {
        let bytes = read_if_exists(path)?.unwrap_or_default();
        let scan = scan(&bytes);
        if scan.good_len < bytes.len() as u64 {
            if scan.damaged.is_some() {
                let aside = path.with_extension(format!("damaged-{}", now_ms() as u64));
                atomic_write(&aside, &bytes, mode)?;
            }
            atomic_write(path, &bytes[..scan.good_len as usize], mode)?;
        }
        let file = Self::open_append(path, mode)?;
        Ok((
            Journal {
                path: path.to_path_buf(),
                file,
                len: scan.good_len,
                mode,
            },
            scan,
        ))
    }

    fn open_append(path: &Path, mode: u32) -> Result<File> {
        let existed = path.exists();
        let f = OpenOptions::new()
            .append(true)
            .create(true)
            .mode(mode)
            .open(path)
            .map_err(Error::io("open journal", path))?;
        if !existed {
            sync_dir(path.parent().unwrap_or(Path::new(".")))?;
        }
        Ok(f)
    }

    pub fn len(&self) -> u64 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Appends bytes (whole lines). On a failed write the file is cut back so no
    /// partial line stays behind.
    pub fn append(&mut self, data: &[u8]) -> Result<()> {
        if let Err(e) = self.file.write_all(data) {
            let _ = self.file.set_len(self.len);
            return Err(Error::io("append to journal", &self.path)(e));
        }
        self.len += data.len() as u64;
        Ok(())
    }

    /// Makes appended data durable.
    pub fn sync(&mut self) -> Result<()> {
        self.file
            .sync_data()
            .map_err(Error::io("fsync journal", &self.path))
    }

    /// Replaces the journal with its bytes from `from` on (atomically).
    pub fn keep_from(&mut self, from: u64) -> Result<()> {
        let mut tail = Vec::new();
        let mut f = File::open(&self.path).map_err(Error::io("read journal", &self.path))?;
        f.seek(SeekFrom::Start(from))
            .and_then(|_| f.read_to_end(&mut tail))
            .map_err(Error::io("read journal", &self.path))?;
        let tail = &tail[..];
        atomic_write(&self.path, tail, self.mode)?;
        self.file = Self::open_append(&self.path, self.mode)?;
        self.len = tail.len() as u64;
        Ok(())
    }
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as f64)
        .unwrap_or(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::doc::Document;
    use crate::path::segments;
    use std::fs;

    fn enc(seq: u64, ts: f64, op: &str, keys: &[String], c: &Change) -> Vec<u8> {
        encode_change(&Encoded {
            seq,
            ts,
            op,
            keys,
            change: c,
            reversible: true,
            hash_before: "00",
            hash_after: "11",
            prev: None,
        })
    }

    fn change(d: &mut Document, k: &str, v: &str) -> Change {
        let c = d.plan_set(&segments(k, true).unwrap(), parse(v.as_bytes()).unwrap());
        d.apply(&c.patch).unwrap();
        c
    }

    #[test]
    fn lines_round_trip_and_torn_tail_is_cut() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("j");
        let mut d = Document::default();
        {
            let (mut j, s) = Journal::open(&p, 0o600).unwrap();
            assert!(s.entries.is_empty());
            let c = change(&mut d, "a.b", "[1,\"x\"]");
            j.append(&enc(1, 1000.0, "set", &["a.b".into()], &c))
                .unwrap();
            j.append(&encode_checkpoint(1, 1001.0, "abc", 10)).unwrap();
            let c = change(&mut d, "z", "null");
            j.append(&enc(2, 1002.0, "set", &["z".into()], &c)).unwrap();
            j.sync().unwrap();
        }
        // simulate a torn append
        let mut f = OpenOptions::new().append(true).open(&p).unwrap();
        f.write_all(b"{\"seq\":3,\"ts\":1,\"op\":\"se").unwrap();
        drop(f);
        let (j, s) = Journal::open(&p, 0o600).unwrap();
        assert!(s.damaged.is_none());
        assert_eq!(s.entries.len(), 3);
        assert_eq!(j.len(), fs::metadata(&p).unwrap().len());
        match &s.entries[0].1 {
            Entry::Change(c) => {
                assert_eq!(c.seq, 1);
                assert_eq!(c.keys, ["a.b"]);
                assert_eq!(c.patch.len(), 1);
            }
            _ => panic!("expected a change"),
        }
        assert!(matches!(s.entries[1].1, Entry::Checkpoint { seq: 1, .. }));
    }

    #[test]
    fn damage_in_the_middle_is_kept_aside() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("j");
        let mut d = Document::default();
        let c = change(&mut d, "a", "1");
        let mut bytes = enc(1, 1.0, "set", &["a".into()], &c);
        bytes.extend_from_slice(b"garbage\n");
        bytes.extend_from_slice(&enc(2, 1.0, "set", &["a".into()], &c));
        fs::write(&p, &bytes).unwrap();
        let (_, s) = Journal::open(&p, 0o600).unwrap();
        assert_eq!(s.entries.len(), 1);
        assert!(s.damaged.is_some());
        let aside: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().contains("damaged"))
            .collect();
        assert_eq!(aside.len(), 1);
        assert_eq!(fs::read(aside[0].path()).unwrap(), bytes);
    }
}
