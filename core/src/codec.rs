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

/// How a sealed journal line starts (`crypto` writes it; `Plain` refuses to
/// read a journal that has them: the store is encrypted).
pub(crate) const SEALED: &str = "~tad1:";

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
    /// A copy of damaged or refused bytes kept aside (`.corrupt-`, `.invalid-`,
    /// `.damaged-`): encrypting codecs seal it whole, since what it holds
    /// cannot be parsed to find the secrets in it.
    Quarantine,
    /// A key sealed for a key rotation (`crypto::RekeyRecord`).
    KeyRecord,
}

/// Turns plain bytes into stored bytes and back.
pub trait Codec: Send + Sync + 'static {
    fn encode<'a>(&self, kind: Kind, plain: Cow<'a, [u8]>) -> Result<Cow<'a, [u8]>>;
    fn decode<'a>(&self, kind: Kind, stored: &'a [u8]) -> Result<Cow<'a, [u8]>>;
    /// A name for conflict messages (two `Store`s on one file must agree).
    fn name(&self) -> String;
    /// The public id of the key it writes with (encrypting codecs).
    fn key_id(&self) -> Option<String> {
        None
    }
    /// Something this codec would have encrypted was read in clear (a store
    /// written before its key was given): everything should be re-encoded.
    fn plain_seen(&self) -> bool {
        false
    }
    fn clear_plain_seen(&self) {}
    /// For downcasting (key rotation needs the concrete codec).
    fn as_any(&self) -> &dyn std::any::Any;
}

/// Bytes are stored as they are.
#[derive(Debug, Default, Clone, Copy)]
pub struct Plain;

impl Codec for Plain {
    fn encode<'a>(&self, _kind: Kind, plain: Cow<'a, [u8]>) -> Result<Cow<'a, [u8]>> {
        Ok(plain)
    }

    fn decode<'a>(&self, kind: Kind, stored: &'a [u8]) -> Result<Cow<'a, [u8]>> {
        // an encrypted store opened without its key: refuse, never "repair"
        if kind == Kind::JournalLine && stored.starts_with(SEALED.as_bytes()) {
            return Err(crate::error::Error::SecretKey(
                "this store is encrypted (its journal is sealed): open it with `secretKeys` and `secretKey`, or with `encryptionKey`, as it was written".into(),
            ));
        }
        Ok(Cow::Borrowed(stored))
    }

    fn name(&self) -> String {
        "plain".into()
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

/// A codec that can be replaced while the store is open (a key rotation):
/// every holder of the `Arc` sees the new one at once.
pub struct Swap {
    inner: std::sync::RwLock<std::sync::Arc<dyn Codec>>,
}

impl Swap {
    pub fn new(codec: std::sync::Arc<dyn Codec>) -> Swap {
        Swap {
            inner: std::sync::RwLock::new(codec),
        }
    }

    pub fn get(&self) -> std::sync::Arc<dyn Codec> {
        self.inner
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    pub fn set(&self, codec: std::sync::Arc<dyn Codec>) {
        *self
            .inner
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = codec;
    }
}

impl Codec for Swap {
    fn encode<'a>(&self, kind: Kind, plain: Cow<'a, [u8]>) -> Result<Cow<'a, [u8]>> {
        self.get().encode(kind, plain)
    }

    fn decode<'a>(&self, kind: Kind, stored: &'a [u8]) -> Result<Cow<'a, [u8]>> {
        self.get().decode(kind, stored)
    }

    fn name(&self) -> String {
        self.get().name()
    }

    fn key_id(&self) -> Option<String> {
        self.get().key_id()
    }

    fn plain_seen(&self) -> bool {
        self.get().plain_seen()
    }

    fn clear_plain_seen(&self) {
        self.get().clear_plain_seen()
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}
