//! The codec seam: every byte the store writes or reads — the document, each
//! journal line, backups, migration snapshots and their metadata — passes
//! through one [`Codec`]. Today's codec is the identity ([`Plain`]); encryption
//! at rest plugs in here without touching the commit path.
//!
//! Hashes the store records (a checkpoint's file hash, a backup's hash, the
//! journal's line chain) are taken over the *stored* bytes, so they can be
//! checked without decoding.

use std::borrow::Cow;

use crate::error::Result;

/// What a piece of bytes is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// The store file.
    Document,
    /// One journal line, without its newline. The encoded form must not
    /// contain a newline either.
    JournalLine,
    /// A backup or migration snapshot (a copy of the document).
    Backup,
    /// A backup's `.meta.json`.
    BackupMeta,
}

/// Turns plain bytes into stored bytes and back.
pub trait Codec: Send + Sync + 'static {
    fn encode<'a>(&self, kind: Kind, plain: Cow<'a, [u8]>) -> Result<Cow<'a, [u8]>>;
    fn decode<'a>(&self, kind: Kind, stored: &'a [u8]) -> Result<Cow<'a, [u8]>>;
    /// A name for conflict messages (two `Store`s on one file must agree).
    fn name(&self) -> &str;
}

/// Bytes are stored as they are.
#[derive(Debug, Default, Clone, Copy)]
pub struct Plain;

impl Codec for Plain {
    fn encode<'a>(&self, _kind: Kind, plain: Cow<'a, [u8]>) -> Result<Cow<'a, [u8]>> {
        Ok(plain)
    }

    fn decode<'a>(&self, _kind: Kind, stored: &'a [u8]) -> Result<Cow<'a, [u8]>> {
        Ok(Cow::Borrowed(stored))
    }

    fn name(&self) -> &str {
        "plain"
    }
}
