//! A checkpoint prepared off the log: the replica's snapshot written to a
//! durable temp file beside the document by any thread, without the lock
//! (see `crate::checkpoint` for when, and `Log::install_prepared` for
//! putting it in place).

use std::borrow::Cow;
use std::path::PathBuf;

use crate::codec::Kind;
use crate::doc::Document;
use crate::error::Result;
use crate::fs::write_temp;
use crate::value::{sha256_hex, to_json_sized};

use super::LogConfig;

/// The replica at one seq, to be written as the document file.
pub struct Snapshot {
    pub seq: u64,
    pub doc: Document,
    /// Its Merkle hash.
    pub merkle: String,
    /// The document file as the log knew it when the snapshot was taken: the
    /// prepared file is put in place only if that is still so.
    pub base_sha: Option<String>,
    pub base_seq: Option<u64>,
    /// Expected serialized size.
    pub hint: usize,
    pub compact: bool,
}

/// A snapshot written, durably, to a temp file beside the document.
pub struct Prepared {
    pub snap: Snapshot,
    pub tmp: PathBuf,
    /// SHA-256 and length of the stored bytes.
    pub sha: String,
    pub len: usize,
}

/// Serializes `snap`, encodes it with the store's codec and writes it to a
/// durable temp file beside the document (removed again on an error). Needs
/// no lock: it may run on any thread while the log goes on.
pub fn prepare(cfg: &LogConfig, snap: Snapshot) -> Result<Prepared> {
    crate::testing::point("checkpoint.write");
    let plain = to_json_sized(snap.doc.root(), !snap.compact, snap.hint);
    let stored = cfg.codec.encode(Kind::Document, Cow::Owned(plain))?;
    crate::testing::point("checkpoint.temp");
    let tmp = write_temp(&*cfg.fs, &cfg.doc_path, &stored, cfg.mode)?;
    Ok(Prepared {
        snap,
        tmp,
        sha: sha256_hex(&stored),
        len: stored.len(),
    })
}

/// What a checkpoint of the replica needs (`Log::checkpoint_plan`).
pub enum CheckpointPlan {
    /// The file holds the replica's state and a checkpoint line names it.
    Current,
    /// The file holds the replica's state; only the line is missing.
    RecordOnly,
    /// The file must be written from this snapshot.
    Write(Snapshot),
}
