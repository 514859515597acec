//! The journal's format: one append-only log of JSON lines that every process
//! writing the store shares. It makes changes durable and carries the change
//! history (forward and inverse RFC 6902 patches). File handling (the lock,
//! appends, catching up with other processes) is in `log.rs`.
//!
//! Two kinds of line:
//! - a change: `{"seq":N,"ts":MS,"op":"set","keys":["a.b"],"patch":[…],"inverse":[…],
//!   "hashBefore":H,"hashAfter":H,"prev":L}` — `seq` is global across processes,
//!   `hashBefore`/`hashAfter` are the document's Merkle hashes, `prev` the SHA-256
//!   of the previous change line (a hash chain);
//! - a checkpoint: `{"checkpoint":N,"ts":MS,"hash":F,"size":BYTES,"doc":H}`, written
//!   once the document file holding the state after change N is durably in
//!   place (`hash` = SHA-256 of the file's bytes, `doc` = its Merkle hash).
//!
//! Each line passes through the codec (`codec.rs`) on its way to and from disk.

use crate::codec::{Codec, Kind};
use crate::doc::{Change, PatchOp};
use crate::error::{Error, Result};
use crate::value::{parse_limited, write_list, write_string, Value, LINE_OVERHEAD, MAX_DEPTH};

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
    /// SHA-256 (hex) of this line as stored (without its newline).
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

/// A checkpoint line's content.
#[derive(Clone, Debug, PartialEq)]
pub struct Checkpoint {
    pub seq: u64,
    pub ts: f64,
    /// SHA-256 (hex) of the document file's stored bytes.
    pub hash: String,
    pub size: u64,
    /// Merkle hash of the document (absent in journals written before it was
    /// recorded).
    pub doc: Option<String>,
}

/// One journal line.
#[derive(Clone, Debug)]
pub enum Entry {
    Change(ChangeRecord),
    Checkpoint(Checkpoint),
}

/// Encodes a change line's plain text (without the newline).
pub fn encode_change(e: &Encoded<'_>) -> Vec<u8> {
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
    out.push(b'}');
    out
}

/// Encodes a checkpoint line's plain text (without the newline).
pub fn encode_checkpoint(c: &Checkpoint) -> Vec<u8> {
    let mut out = format!("{{\"checkpoint\":{},\"ts\":", c.seq).into_bytes();
    crate::value::write_number(&mut out, c.ts);
    out.extend_from_slice(format!(",\"hash\":\"{}\",\"size\":{}", c.hash, c.size).as_bytes());
    if let Some(d) = &c.doc {
        out.extend_from_slice(format!(",\"doc\":\"{d}\"").as_bytes());
    }
    out.push(b'}');
    out
}

/// A line as stored: the codec's encoding of `plain`, plus the newline.
pub fn seal_line(codec: &dyn Codec, plain: Vec<u8>) -> Result<Vec<u8>> {
    let mut stored = codec.encode(Kind::JournalLine, plain.into())?.into_owned();
    if stored.contains(&b'\n') {
        return Err(Error::Internal(
            "the codec produced a journal line containing a newline".into(),
        ));
    }
    stored.push(b'\n');
    Ok(stored)
}

/// SHA-256 (hex) of a stored line's bytes, without the trailing newline.
pub fn line_hash(line: &[u8]) -> String {
    crate::value::sha256_hex(line.strip_suffix(b"\n").unwrap_or(line))
}

fn decode_line(codec: &dyn Codec, stored: &[u8]) -> Result<Entry> {
    let plain = codec.decode(Kind::JournalLine, stored)?;
    let opt_str = |m: &crate::value::Map, k: &str| match m.get(k) {
        Some(Value::String(s)) => Some(s.to_string()),
        _ => None,
    };
    let bad = |m: &str| Error::BadPatch(m.to_string());
    let v = parse_limited(&plain, 0, MAX_DEPTH + LINE_OVERHEAD)
        .map_err(|e| Error::BadPatch(e.to_string()))?;
    let m = v
        .as_object()
        .ok_or_else(|| bad("journal line is not an object"))?;
    let num = |k: &str| match m.get(k) {
        Some(Value::Number(n)) if *n >= 0.0 => Ok(*n),
        _ => Err(bad("journal line lacks a number")),
    };
    if m.contains_key("checkpoint") {
        let hash = opt_str(m, "hash").ok_or_else(|| bad("checkpoint without hash"))?;
        return Ok(Entry::Checkpoint(Checkpoint {
            seq: num("checkpoint")? as u64,
            ts: num("ts")?,
            hash,
            size: num("size")? as u64,
            doc: opt_str(m, "doc"),
        }));
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
        op: opt_str(m, "op").ok_or_else(|| bad("change without op"))?,
        keys,
        patch: ops("patch")?,
        inverse: match m.get("inverse") {
            Some(Value::Null) => None,
            _ => Some(ops("inverse")?),
        },
        hash_before: opt_str(m, "hashBefore"),
        hash_after: opt_str(m, "hashAfter"),
        prev: opt_str(m, "prev"),
        // the chain is over the plain text, so re-encrypting the journal
        // (a key rotation) keeps it
        line_hash: line_hash(&plain),
    }))
}

/// Where the chain of change lines stands (to check lines that continue it).
#[derive(Clone, Debug, Default)]
pub struct ChainTip {
    /// Seq of the last change line.
    pub seq: Option<u64>,
    /// Hash of the last change line.
    pub line: Option<String>,
}

/// What a span of journal bytes held.
#[derive(Debug, Default)]
pub struct Scan {
    /// Valid entries, in file order, with the byte offset each starts at
    /// (relative to the scanned bytes).
    pub entries: Vec<(u64, Entry)>,
    /// Length of the valid prefix.
    pub good_len: u64,
    /// A last line without its newline (a crash during an append).
    pub torn: bool,
    /// Set when something other than a torn last line was damaged.
    pub damaged: Option<String>,
    /// The chain after the valid prefix.
    pub tip: ChainTip,
    /// A line could not be read with the key given (`E_SECRET_KEY`): nothing
    /// is damaged, the scan stopped, and the caller must fail, not repair.
    pub fatal: Option<Error>,
}

/// Parses journal bytes up to the first torn or damaged line. `tip` is where
/// the chain stood before `bytes` (default for a whole file); `base` is the
/// byte offset of `bytes` in the file (for messages).
pub fn scan_from(codec: &dyn Codec, bytes: &[u8], tip: ChainTip, base: u64) -> Scan {
    let mut s = Scan {
        tip,
        ..Scan::default()
    };
    let mut off = 0usize;
    while off < bytes.len() {
        let Some(nl) = bytes[off..].iter().position(|&b| b == b'\n') else {
            s.torn = true;
            break;
        };
        let line = &bytes[off..off + nl];
        let at = base + off as u64;
        match decode_line(codec, line) {
            Ok(entry) => {
                if let Entry::Change(c) = &entry {
                    if let Some(prev) = s.tip.seq {
                        if c.seq != prev + 1 {
                            s.damaged = Some(format!(
                                "sequence jumps from {prev} to {} at byte {at}",
                                c.seq
                            ));
                            break;
                        }
                    }
                    if let (Some(expected), Some(got)) = (&s.tip.line, &c.prev) {
                        if expected != got {
                            s.damaged = Some(format!(
                                "the hash chain is broken at change {} (byte {at}): the line before it was altered or removed",
                                c.seq
                            ));
                            break;
                        }
                    }
                    s.tip = ChainTip {
                        seq: Some(c.seq),
                        line: Some(c.line_hash.clone()),
                    };
                }
                s.entries.push((off as u64, entry));
                off += nl + 1;
                s.good_len = off as u64;
            }
            Err(e @ Error::SecretKey(_)) => {
                s.fatal = Some(e);
                break;
            }
            Err(e) => {
                s.damaged = Some(format!("unreadable line at byte {at}: {e}"));
                break;
            }
        }
    }
    s
}

/// `scan_from` over a whole journal file.
pub fn scan(codec: &dyn Codec, bytes: &[u8]) -> Scan {
    scan_from(codec, bytes, ChainTip::default(), 0)
}

/// The change entries of a journal's bytes, oldest first.
pub fn changes(codec: &dyn Codec, bytes: &[u8]) -> Vec<ChangeRecord> {
    scan(codec, bytes)
        .entries
        .into_iter()
        .filter_map(|(_, e)| match e {
            Entry::Change(c) => Some(c),
            _ => None,
        })
        .collect()
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
    use crate::codec::Plain;
    use crate::doc::Document;
    use crate::path::segments;
    use crate::value::parse;

    fn enc(seq: u64, prev: Option<&str>, c: &Change) -> Vec<u8> {
        let plain = encode_change(&Encoded {
            seq,
            ts: 1000.0 + seq as f64,
            op: "set",
            keys: &["k".into()],
            change: c,
            reversible: true,
            hash_before: "00",
            hash_after: "11",
            prev,
        });
        seal_line(&Plain, plain).unwrap()
    }

    fn change(d: &mut Document, k: &str, v: &str) -> Change {
        let c = d.plan_set(&segments(k, true).unwrap(), parse(v.as_bytes()).unwrap());
        d.apply(&c.patch).unwrap();
        c
    }

    #[test]
    fn lines_round_trip_torn_tail_and_damage_are_told_apart() {
        let mut d = Document::default();
        let c1 = change(&mut d, "a.b", "[1,\"x\"]");
        let l1 = enc(1, None, &c1);
        let ck = seal_line(
            &Plain,
            encode_checkpoint(&Checkpoint {
                seq: 1,
                ts: 5.0,
                hash: "ab".into(),
                size: 3,
                doc: Some("cd".into()),
            }),
        )
        .unwrap();
        let c2 = change(&mut d, "z", "null");
        let l2 = enc(2, Some(&line_hash(&l1)), &c2);
        let mut bytes = [l1.clone(), ck, l2.clone()].concat();
        let s = scan(&Plain, &bytes);
        assert_eq!(s.entries.len(), 3);
        assert!(!s.torn && s.damaged.is_none());
        assert_eq!(s.tip.seq, Some(2));
        match &s.entries[1].1 {
            Entry::Checkpoint(c) => assert_eq!(c.doc.as_deref(), Some("cd")),
            _ => panic!("expected a checkpoint"),
        }
        bytes.extend_from_slice(b"{\"seq\":3,\"ts\":1,\"op\":\"se");
        let s = scan(&Plain, &bytes);
        assert!(s.torn && s.damaged.is_none());
        assert_eq!(s.entries.len(), 3);
        // a duplicated line breaks the sequence: damage, not a torn tail
        let dup = [l1.clone(), l2.clone(), l2.clone()].concat();
        let s = scan(&Plain, &dup);
        assert!(s.damaged.is_some());
        assert_eq!(s.entries.len(), 2);
        // a continuation scan checks the chain against the given tip
        let s = scan_from(
            &Plain,
            &l2,
            ChainTip {
                seq: Some(1),
                line: Some("not-the-hash".into()),
            },
            100,
        );
        assert!(s.damaged.unwrap().contains("byte 100"));
    }

    #[test]
    fn the_deepest_value_a_document_may_hold_reads_back_from_a_line() {
        let deep = format!(
            "{}1{}",
            "[".repeat(MAX_DEPTH - 1),
            "]".repeat(MAX_DEPTH - 1)
        );
        let mut d = Document::default();
        let c = change(&mut d, "k", &deep);
        let s = scan(&Plain, &enc(1, None, &c));
        assert!(s.damaged.is_none(), "{:?}", s.damaged);
        assert_eq!(s.entries.len(), 1);
    }
}
