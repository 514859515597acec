//! Encryption at rest, as two [`Codec`]s:
//!
//! - [`SecretCodec`] (`secretKeys`): the document (and every copy of it:
//!   backups, migration snapshots) stays readable JSON, but the value at each
//!   secret path is replaced by an envelope string
//!   `"$tad-secret:v1:<key id>:<base64 nonce|ciphertext|tag>"` (AES-256-GCM, a
//!   fresh random nonce per write, the path as associated data so an envelope
//!   cannot be moved to another key). Journal lines, backup metadata and
//!   quarantined copies are sealed whole, so the patches, their inverses and
//!   the Merkle hashes the history records (which cover the secret) are only
//!   ever on disk as ciphertext: nobody can confirm a guessed secret from them.
//! - [`LegacyCodec`] (`encryptionKey`): the document and backups in
//!   electron-store 8 / conf 10's format (`iv` + `:` + AES-256-CBC, the key
//!   derived by PBKDF2-SHA512 from the password with the IV's UTF-8 decoding as
//!   salt, 10,000 rounds), read and written byte-compatibly, including conf
//!   4's IV-less format on read; journal lines, metadata and quarantined copies
//!   sealed with AES-256-GCM under a key derived from the same password.
//!
//! Sealed blobs are `~tad1:<key id>:<base64>`: ASCII, never a newline. The key
//! id (4 bytes of an HMAC of the key) tells a wrong key (`E_SECRET_KEY`) from
//! damaged bytes (an authentication failure under the right key). A codec holds
//! a *ring*: the key it writes with first, then keys it may still read with (a
//! key rotation interrupted by a crash, see [`RekeyRecord`]).
//!
//! Key material is wiped from memory when it is dropped: the app's raw keys and
//! every derived key are [`Zeroizing`] buffers; the AES key schedules (`aes`
//! and `cbc` with their `zeroize` features) and the AES-GCM state (its key
//! schedule and GHASH key `H`, which `polyval`'s auto-detected backend never
//! wipes) are [`Wiped`]; PBKDF2 and EVP_BytesToKey run here on wiped HMAC/MD5
//! states and wiped intermediate blocks. Out of reach: the copies the compiler
//! leaves on the stack when it moves a value, and the hash crates' internal
//! temporaries.

use std::any::Any;
use std::borrow::Cow;
use std::mem::ManuallyDrop;
use std::ops::{Deref, DerefMut};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use aes::cipher::{BlockDecryptMut, BlockEncryptMut, KeyIvInit};
use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::engine::general_purpose::STANDARD_NO_PAD as B64;
use base64::Engine;
use hmac::digest::generic_array::GenericArray;
use hmac::digest::FixedOutputReset;
use hmac::{Hmac, Mac};
use md5::Md5;
use sha2::{Sha256, Sha512};
use zeroize::Zeroizing;

use crate::codec::{Codec, Kind, SEALED};
use crate::error::{Error, Result};
use crate::value::{parse, to_json, Map, Value};

const ENVELOPE: &str = "$tad-secret:v1:";
/// The shortest key an app may supply for `secretKeys`.
pub const MIN_SECRET_KEY: usize = 16;
/// electron-store 8's PBKDF2 rounds.
const LEGACY_ROUNDS: u32 = 10_000;

/// Types [`Wiped`] may zero byte by byte once dropped.
///
/// # Safety
/// The type holds no pointer, reference or heap allocation (its bytes are all
/// of it) and all-zero bytes are a valid value of it.
pub(crate) unsafe trait Flat {}

// SAFETY: `AesGcm<Aes256, U12>` is the AES key schedule (arrays of round keys,
// or the union of the AES-NI and software ones plus a zero-sized CPU-feature
// token), `GHash` (the `Polyval` field elements, likewise) and `PhantomData`s.
unsafe impl Flat for Aes256Gcm {}
// SAFETY: HMAC's state is three hash cores (`[u32; 8]`/`[u64; 8]` and a block
// count) and a block buffer (a byte array and a `u8` position).
unsafe impl Flat for Hmac<Sha256> {}
// SAFETY: as above.
unsafe impl Flat for Hmac<Sha512> {}
// SAFETY: MD5's state is `[u32; 4]`, a block count and a block buffer.
unsafe impl Flat for Md5 {}
// SAFETY: a CBC mode is its block cipher (the AES key schedule, as above) and
// the chaining block.
unsafe impl Flat for CbcEnc {}
// SAFETY: as above.
unsafe impl Flat for CbcDec {}

/// A cipher or MAC state whose every byte is zeroed when it is dropped (after
/// its own `Drop` ran). `Zeroizing` cannot hold these: they do not implement
/// `Zeroize`, and `polyval` 0.6's auto-detected backend (the one x86 uses)
/// never wipes the GHASH key even with its `zeroize` feature.
pub(crate) struct Wiped<T: Flat>(ManuallyDrop<T>);

impl<T: Flat> Wiped<T> {
    pub(crate) fn new(t: T) -> Wiped<T> {
        Wiped(ManuallyDrop::new(t))
    }
}

impl<T: Flat> Deref for Wiped<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: Flat> DerefMut for Wiped<T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.0
    }
}

impl<T: Flat> Drop for Wiped<T> {
    fn drop(&mut self) {
        // SAFETY: dropped once, here, and never used again; `T: Flat` holds
        // nothing outside its own bytes, and zero bytes are a valid `T`.
        unsafe {
            ManuallyDrop::drop(&mut self.0);
            zeroize::zeroize_flat_type(&mut self.0 as *mut ManuallyDrop<T>);
        }
    }
}

impl<T: Flat> zeroize::ZeroizeOnDrop for Wiped<T> {}

fn hmac256(key: &[u8], msg: &[u8]) -> Zeroizing<[u8; 32]> {
    let mut m =
        Wiped::new(<Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes any key length"));
    m.update(msg);
    let mut out = Zeroizing::new([0u8; 32]);
    m.finalize_into_reset(GenericArray::from_mut_slice(&mut out[..]));
    out
}

/// PBKDF2-HMAC-SHA512 with a 32-byte output (one block, RFC 8018 5.2), on a
/// wiped HMAC state and wiped blocks (the `pbkdf2` crate leaves both in memory).
fn pbkdf2_sha512(password: &[u8], salt: &[u8], rounds: u32) -> Zeroizing<[u8; 32]> {
    let mut prf = Wiped::new(
        <Hmac<Sha512> as Mac>::new_from_slice(password).expect("HMAC takes any key length"),
    );
    let mut u = Zeroizing::new([0u8; 64]);
    prf.update(salt);
    prf.update(&1u32.to_be_bytes());
    // (finalize_into_reset leaves the state keyed for the next round)
    prf.finalize_into_reset(GenericArray::from_mut_slice(&mut u[..]));
    let mut t = Zeroizing::new(*u);
    for _ in 1..rounds {
        prf.update(&u[..]);
        prf.finalize_into_reset(GenericArray::from_mut_slice(&mut u[..]));
        for (a, b) in t.iter_mut().zip(u.iter()) {
            *a ^= b;
        }
    }
    let mut out = Zeroizing::new([0u8; 32]);
    out.copy_from_slice(&t[..32]);
    out
}

fn random<const N: usize>() -> Result<[u8; N]> {
    let mut b = [0u8; N];
    getrandom::fill(&mut b)
        .map_err(|e| Error::Internal(format!("the OS random generator failed: {e}")))?;
    Ok(b)
}

fn hex4(b: &[u8]) -> String {
    b.iter().take(4).map(|x| format!("{x:02x}")).collect()
}

/// One AES-256-GCM key and its public id.
pub struct Sealer {
    aead: Wiped<Aes256Gcm>,
    pub id: String,
}

impl Sealer {
    /// From 32 bytes of key material.
    fn new(key: &[u8; 32]) -> Sealer {
        Sealer {
            aead: Wiped::new(Aes256Gcm::new_from_slice(key).expect("32-byte key")),
            id: hex4(&*hmac256(key, b"tad-store key id v1")),
        }
    }

    /// `nonce | ciphertext | tag`, base64.
    fn seal_b64(&self, aad: &[u8], plain: &[u8]) -> Result<String> {
        let nonce: [u8; 12] = random()?;
        let ct = self
            .aead
            .encrypt(Nonce::from_slice(&nonce), Payload { msg: plain, aad })
            .map_err(|_| Error::Internal("AES-GCM encryption failed".into()))?;
        let mut all = Vec::with_capacity(12 + ct.len());
        all.extend_from_slice(&nonce);
        all.extend_from_slice(&ct);
        Ok(B64.encode(all))
    }

    fn open_b64(&self, aad: &[u8], b64: &str, what: &str) -> Result<Vec<u8>> {
        let all = B64
            .decode(b64.trim_end_matches('='))
            .map_err(|_| damaged(what, "not base64"))?;
        if all.len() < 12 + 16 {
            return Err(damaged(what, "too short"));
        }
        let (nonce, ct) = all.split_at(12);
        self.aead
            .decrypt(Nonce::from_slice(nonce), Payload { msg: ct, aad })
            .map_err(|_| damaged(what, "it fails authentication under the right key"))
    }
}

fn damaged(what: &str, why: &str) -> Error {
    Error::BadPatch(format!("encrypted {what} is damaged: {why}"))
}

fn wrong_key(what: &str, id: &str, ring: &[Arc<Sealer>]) -> Error {
    let have: Vec<&str> = ring.iter().map(|s| s.id.as_str()).collect();
    Error::SecretKey(format!(
        "the {what} was encrypted with another key (key id {id}; the key given has id {}): pass the key this store was written with",
        have.join(", ")
    ))
}

/// A ring of sealers: the first writes, all read.
#[derive(Clone)]
struct Ring(Vec<Arc<Sealer>>);

impl Ring {
    fn writer(&self) -> &Sealer {
        &self.0[0]
    }

    fn find(&self, id: &str) -> Option<&Sealer> {
        self.0.iter().map(|s| &**s).find(|s| s.id == id)
    }

    fn seal(&self, kind: Kind, plain: &[u8]) -> Result<Vec<u8>> {
        let w = self.writer();
        let b = w.seal_b64(aad_of(kind), plain)?;
        Ok(format!("{SEALED}{}:{b}", w.id).into_bytes())
    }

    /// `None`: not a sealed blob (stored in clear).
    fn open(&self, kind: Kind, stored: &[u8]) -> Option<Result<Vec<u8>>> {
        let rest = stored.strip_prefix(SEALED.as_bytes())?;
        let what = what_of(kind);
        let text = match std::str::from_utf8(rest) {
            Ok(t) => t,
            Err(_) => return Some(Err(damaged(what, "not ASCII"))),
        };
        let Some((id, b64)) = text.split_once(':') else {
            return Some(Err(damaged(what, "no key id")));
        };
        Some(match self.find(id) {
            Some(s) => s.open_b64(aad_of(kind), b64, what),
            None => Err(wrong_key(what, id, &self.0)),
        })
    }
}

fn aad_of(kind: Kind) -> &'static [u8] {
    match kind {
        Kind::JournalLine => b"tad-store journal line",
        Kind::BackupMeta => b"tad-store backup metadata",
        Kind::Quarantine => b"tad-store quarantined copy",
        Kind::Document | Kind::Backup => b"tad-store document",
        Kind::KeyRecord => b"tad-store key record",
    }
}

fn what_of(kind: Kind) -> &'static str {
    match kind {
        Kind::JournalLine => "journal line",
        Kind::BackupMeta => "backup metadata",
        Kind::Quarantine => "quarantined copy",
        Kind::Document => "document",
        Kind::Backup => "backup",
        Kind::KeyRecord => "key record",
    }
}

/// The app's raw key, kept to seal it into a rekey record.
type RawKey = Arc<Zeroizing<Vec<u8>>>;

/// The `Codec` methods both encrypting codecs share (fields `name`, `ring`,
/// `plain_seen`).
macro_rules! codec_common {
    () => {
        fn name(&self) -> String {
            self.name.clone()
        }

        fn key_id(&self) -> Option<String> {
            Some(self.ring.writer().id.clone())
        }

        fn plain_seen(&self) -> bool {
            self.plain_seen.load(Ordering::Relaxed)
        }

        fn clear_plain_seen(&self) {
            self.plain_seen.store(false, Ordering::Relaxed)
        }

        fn as_any(&self) -> &dyn Any {
            self
        }
    };
}

/// `secretKeys`: values at these paths are encrypted wherever they are written.
pub struct SecretCodec {
    paths: Vec<Vec<String>>,
    names: Vec<String>,
    /// JSON pointers of `paths`: the associated data of their envelopes.
    pointers: Vec<String>,
    ring: Ring,
    raw: Vec<RawKey>,
    pretty: bool,
    name: String,
    plain_seen: AtomicBool,
}

fn secret_sealer(raw: &[u8]) -> Sealer {
    Sealer::new(&hmac256(raw, b"tad-store secretKeys aes-256-gcm v1"))
}

impl SecretCodec {
    /// `paths`: the secret dot paths as segments (`names` as given, for
    /// messages); `key`: the app's key (at least 16 bytes); `pretty`: the
    /// document's layout (tabs, or compact for `serialize: JSON.stringify`).
    pub fn new(
        paths: Vec<Vec<String>>,
        names: Vec<String>,
        key: &[u8],
        pretty: bool,
    ) -> Result<SecretCodec> {
        if key.len() < MIN_SECRET_KEY {
            return Err(Error::SecretKey(format!(
                "the secret key must be at least {MIN_SECRET_KEY} bytes (got {}); use 32 random bytes, e.g. from Electron's safeStorage",
                key.len()
            )));
        }
        let mut sorted = names.clone();
        sorted.sort();
        Ok(SecretCodec {
            name: format!("secretKeys [{}]", sorted.join(", ")),
            pointers: paths.iter().map(|p| crate::path::to_pointer(p)).collect(),
            paths,
            names,
            ring: Ring(vec![Arc::new(secret_sealer(key))]),
            raw: vec![Arc::new(Zeroizing::new(key.to_vec()))],
            pretty,
            plain_seen: AtomicBool::new(false),
        })
    }

    /// The same paths and layout with another key (for a rotation).
    pub fn with_key(&self, key: &[u8]) -> Result<SecretCodec> {
        SecretCodec::new(self.paths.clone(), self.names.clone(), key, self.pretty)
    }

    /// Also reads what `extra` wrote.
    fn with_reader(&self, extra: &[u8]) -> SecretCodec {
        let mut ring = self.ring.clone();
        ring.0.push(Arc::new(secret_sealer(extra)));
        let mut raw = self.raw.clone();
        raw.push(Arc::new(Zeroizing::new(extra.to_vec())));
        SecretCodec {
            paths: self.paths.clone(),
            names: self.names.clone(),
            pointers: self.pointers.clone(),
            ring,
            raw,
            pretty: self.pretty,
            name: self.name.clone(),
            plain_seen: AtomicBool::new(false),
        }
    }

    fn seal_doc(&self, plain: &[u8]) -> Result<Vec<u8>> {
        let mut v = parse(plain)
            .map_err(|e| Error::Internal(format!("the document to encrypt does not parse: {e}")))?;
        for (segs, ptr) in self.paths.iter().zip(&self.pointers) {
            let w = self.ring.writer();
            transform(&mut v, segs, &mut |val| {
                let text = to_json(val, false);
                let b = w.seal_b64(ptr.as_bytes(), &text)?;
                Ok(Some(Value::String(
                    format!("{ENVELOPE}{}:{b}", w.id).into(),
                )))
            })?;
        }
        Ok(to_json(&v, self.pretty))
    }

    fn open_doc<'a>(&self, kind: Kind, stored: &'a [u8]) -> Result<Cow<'a, [u8]>> {
        // a file that does not parse is reported by the caller's own parse
        let Ok(mut v) = parse(stored) else {
            return Ok(Cow::Borrowed(stored));
        };
        let mut changed = false;
        for (segs, ptr) in self.paths.iter().zip(&self.pointers) {
            transform(&mut v, segs, &mut |val| {
                let Value::String(s) = val else {
                    self.plain_seen.store(true, Ordering::Relaxed);
                    return Ok(None);
                };
                let Some(rest) = s.strip_prefix(ENVELOPE) else {
                    self.plain_seen.store(true, Ordering::Relaxed);
                    return Ok(None);
                };
                let what = what_of(kind);
                let (id, b64) = rest
                    .split_once(':')
                    .ok_or_else(|| damaged(what, "an envelope without key id"))?;
                let sealer = self
                    .ring
                    .find(id)
                    .ok_or_else(|| wrong_key(what, id, &self.ring.0))?;
                let text = sealer.open_b64(ptr.as_bytes(), b64, what)?;
                let inner = parse(&text).map_err(|e| damaged(what, &e.to_string()))?;
                changed = true;
                Ok(Some(inner))
            })?;
        }
        // envelopes under a key no longer listed in `secretKeys` (the app
        // removed it) are opened too; a string that only looks like one is
        // left as it is
        self.open_stray(&mut v, &mut changed);
        if !changed {
            return Ok(Cow::Borrowed(stored));
        }
        Ok(Cow::Owned(to_json(&v, false)))
    }
}

impl SecretCodec {
    /// Opens every envelope in `v` that a key of the ring opens, wherever it
    /// is. Found first (a walk with a heap stack: any nesting), then replaced
    /// along their paths.
    fn open_stray(&self, v: &mut Value, changed: &mut bool) {
        // the containers seen (segment, parent): paths are rebuilt from them
        // only for the envelopes found
        let mut seen: Vec<(String, usize)> = Vec::new();
        let path_of = |seen: &[(String, usize)], mut at: usize, last: String| {
            let mut path = vec![last];
            while at != usize::MAX {
                path.push(seen[at].0.clone());
                at = seen[at].1;
            }
            path.reverse();
            path
        };
        let mut opened: Vec<(Vec<String>, Value)> = Vec::new();
        // containers to look into, with their place in `seen` (MAX: the root)
        let mut todo: Vec<(&Value, usize)> = vec![(&*v, usize::MAX)];
        while let Some((node, at)) = todo.pop() {
            let mut look = |seg: &dyn Fn() -> String, child: &Value| match child {
                Value::String(s) => {
                    let rest = s.strip_prefix(ENVELOPE)?;
                    let path = path_of(&seen, at, seg());
                    let ptr = crate::path::to_pointer(&path);
                    let inner = rest.split_once(':').and_then(|(id, b64)| {
                        let text = self.ring.find(id)?.open_b64(ptr.as_bytes(), b64, "").ok()?;
                        parse(&text).ok()
                    });
                    if let Some(inner) = inner {
                        opened.push((path, inner));
                    }
                    None
                }
                c if c.is_container() => {
                    seen.push((seg(), at));
                    Some(seen.len() - 1)
                }
                _ => None,
            };
            let mut found: Vec<(&Value, usize)> = Vec::new();
            match node {
                Value::Object(m) => {
                    for (k, c) in m.iter() {
                        if let Some(i) = look(&|| k.to_string(), c) {
                            found.push((c, i));
                        }
                    }
                }
                Value::Array(a) => {
                    for (i, c) in a.iter().enumerate() {
                        if let Some(j) = look(&|| i.to_string(), c) {
                            found.push((c, j));
                        }
                    }
                }
                _ => {}
            }
            todo.append(&mut found);
        }
        for (path, inner) in opened {
            if let Some(slot) = value_at_mut(v, &path) {
                *slot = inner;
                *changed = true;
            }
        }
    }
}

/// The value at `path`, its containers made unique on the way (`make_mut`).
fn value_at_mut<'a>(mut node: &'a mut Value, path: &[String]) -> Option<&'a mut Value> {
    for seg in path {
        node = match node {
            Value::Object(m) => Arc::make_mut(m).get_mut(seg)?,
            Value::Array(a) => Arc::make_mut(a).get_mut(seg.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(node)
}

/// Calls `f` on the value at `segs` (if present) and replaces it with what `f`
/// returns (`None`: leave it).
fn transform(
    v: &mut Value,
    segs: &[String],
    f: &mut dyn FnMut(&Value) -> Result<Option<Value>>,
) -> Result<()> {
    let Some((first, rest)) = segs.split_first() else {
        if let Some(new) = f(v)? {
            *v = new;
        }
        return Ok(());
    };
    match v {
        Value::Object(m) => {
            if !m.contains_key(first) {
                return Ok(());
            }
            let m: &mut Map = Arc::make_mut(m);
            if let Some(child) = m.get_mut(first) {
                transform(child, rest, f)?;
            }
        }
        Value::Array(a) => {
            let Some(i) = crate::value::is_array_index(first) else {
                return Ok(());
            };
            let a = Arc::make_mut(a);
            if let Some(child) = a.get_mut(i as usize) {
                transform(child, rest, f)?;
            }
        }
        _ => {}
    }
    Ok(())
}

impl Codec for SecretCodec {
    fn encode<'a>(&self, kind: Kind, plain: Cow<'a, [u8]>) -> Result<Cow<'a, [u8]>> {
        match kind {
            Kind::Document | Kind::Backup => Ok(Cow::Owned(self.seal_doc(&plain)?)),
            _ => Ok(Cow::Owned(self.ring.seal(kind, &plain)?)),
        }
    }

    fn decode<'a>(&self, kind: Kind, stored: &'a [u8]) -> Result<Cow<'a, [u8]>> {
        match kind {
            Kind::Document | Kind::Backup => self.open_doc(kind, stored),
            _ => match self.ring.open(kind, stored) {
                Some(r) => r.map(Cow::Owned),
                None => {
                    self.plain_seen.store(true, Ordering::Relaxed);
                    Ok(Cow::Borrowed(stored))
                }
            },
        }
    }

    codec_common!();
}

/// electron-store 8's `encryptionKey`.
pub struct LegacyCodec {
    password: RawKey,
    ring: Ring,
    name: String,
    plain_seen: AtomicBool,
    /// A sealed blob opened under this key: the key is right, so a document
    /// that does not decrypt is damaged rather than written with another key.
    confirmed: AtomicBool,
}

fn legacy_sealer(password: &[u8]) -> Sealer {
    Sealer::new(&pbkdf2_sha512(
        password,
        b"tad-store encryptionKey journal v1",
        LEGACY_ROUNDS,
    ))
}

/// PBKDF2 key for one IV, as conf derives it: the salt is the IV's bytes
/// decoded as UTF-8 (invalid sequences become U+FFFD, as `Buffer#toString`
/// does) and encoded again.
fn legacy_key(password: &[u8], iv: &[u8]) -> Zeroizing<[u8; 32]> {
    let salt = String::from_utf8_lossy(iv);
    pbkdf2_sha512(password, salt.as_bytes(), LEGACY_ROUNDS)
}

/// OpenSSL's EVP_BytesToKey(MD5, no salt, 1 round): conf 4's `createDecipher`.
/// Key and IV, and every MD5 block and state on the way, are wiped.
fn bytes_to_key(password: &[u8]) -> (Zeroizing<[u8; 32]>, Zeroizing<[u8; 16]>) {
    use md5::Digest;
    let mut h = Wiped::new(Md5::new());
    let mut out = Zeroizing::new([0u8; 48]);
    for i in 0..3 {
        if i > 0 {
            Digest::update(&mut *h, &out[(i - 1) * 16..i * 16]);
        }
        Digest::update(&mut *h, password);
        FixedOutputReset::finalize_into_reset(
            &mut *h,
            GenericArray::from_mut_slice(&mut out[i * 16..(i + 1) * 16]),
        );
    }
    let mut key = Zeroizing::new([0u8; 32]);
    let mut iv = Zeroizing::new([0u8; 16]);
    key.copy_from_slice(&out[..32]);
    iv.copy_from_slice(&out[32..48]);
    (key, iv)
}

type CbcEnc = cbc::Encryptor<aes::Aes256>;
type CbcDec = cbc::Decryptor<aes::Aes256>;

impl LegacyCodec {
    pub fn new(password: &[u8]) -> Result<LegacyCodec> {
        if password.is_empty() {
            return Err(Error::SecretKey("the encryptionKey is empty".into()));
        }
        let ring = Ring(vec![Arc::new(legacy_sealer(password))]);
        Ok(LegacyCodec {
            password: Arc::new(Zeroizing::new(password.to_vec())),
            name: "encryptionKey (aes-256-cbc, electron-store 8)".into(),
            ring,
            plain_seen: AtomicBool::new(false),
            confirmed: AtomicBool::new(false),
        })
    }

    fn with_reader(&self, extra: &[u8]) -> LegacyCodec {
        let mut ring = self.ring.clone();
        ring.0.push(Arc::new(legacy_sealer(extra)));
        LegacyCodec {
            password: self.password.clone(),
            ring,
            name: self.name.clone(),
            plain_seen: AtomicBool::new(false),
            confirmed: AtomicBool::new(self.confirmed.load(Ordering::Relaxed)),
        }
    }

    /// The whole file as electron-store 8 writes it.
    pub fn encrypt_file(&self, plain: &[u8]) -> Result<Vec<u8>> {
        let iv: [u8; 16] = random()?;
        let key = legacy_key(&self.password, &iv);
        let cbc = Wiped::new(CbcEnc::new((&*key).into(), (&iv).into()));
        let mut out = Vec::with_capacity(17 + plain.len() + 16);
        out.extend_from_slice(&iv);
        out.push(b':');
        out.extend_from_slice(&cbc_encrypt(cbc, plain));
        Ok(out)
    }

    /// The plain text of an electron-store 8 (or conf 4) file; `None` when it
    /// does not decrypt under this password.
    pub fn decrypt_file(&self, stored: &[u8]) -> Option<Vec<u8>> {
        if stored.len() > 17 && stored[16] == b':' {
            let key = legacy_key(&self.password, &stored[..16]);
            let cbc = Wiped::new(CbcDec::new((&*key).into(), stored[..16].into()));
            cbc_decrypt(cbc, &stored[17..])
        } else {
            let (key, iv) = bytes_to_key(&self.password);
            cbc_decrypt(
                Wiped::new(CbcDec::new((&*key).into(), (&*iv).into())),
                stored,
            )
        }
    }
}

/// AES-256-CBC with PKCS#7 padding, block by block on the cipher where it
/// lies (the `cipher` crate's padded helpers take the cipher by value and move
/// its key schedule through several frames).
fn cbc_encrypt(mut cbc: Wiped<CbcEnc>, plain: &[u8]) -> Vec<u8> {
    let pad = 16 - plain.len() % 16;
    let mut buf = Vec::with_capacity(plain.len() + pad);
    buf.extend_from_slice(plain);
    buf.resize(plain.len() + pad, pad as u8);
    for block in buf.chunks_exact_mut(16) {
        cbc.encrypt_block_mut(GenericArray::from_mut_slice(block));
    }
    buf
}

/// The inverse of [`cbc_encrypt`]; `None` for a length that is not whole
/// blocks or a padding that is not PKCS#7 (a wrong key, or damage).
fn cbc_decrypt(mut cbc: Wiped<CbcDec>, stored: &[u8]) -> Option<Vec<u8>> {
    if stored.is_empty() || !stored.len().is_multiple_of(16) {
        return None;
    }
    let mut buf = stored.to_vec();
    for block in buf.chunks_exact_mut(16) {
        cbc.decrypt_block_mut(GenericArray::from_mut_slice(block));
    }
    let pad = *buf.last()? as usize;
    if pad == 0 || pad > 16 || buf[buf.len() - pad..].iter().any(|b| *b as usize != pad) {
        return None;
    }
    buf.truncate(buf.len() - pad);
    Some(buf)
}

/// Whether decrypted bytes can be a JSON document: UTF-8 whose first
/// non-blank character opens an object (a file electron-store wrote). Random
/// bytes of any length fail this almost surely.
fn looks_like_json_text(p: &[u8]) -> bool {
    let Ok(text) = std::str::from_utf8(p) else {
        return false;
    };
    let t = text.trim_start_matches(['\u{feff}', ' ', '\t', '\n', '\r']);
    t.starts_with('{') || t.is_empty()
}

impl Codec for LegacyCodec {
    fn encode<'a>(&self, kind: Kind, plain: Cow<'a, [u8]>) -> Result<Cow<'a, [u8]>> {
        match kind {
            Kind::Document | Kind::Backup => Ok(Cow::Owned(self.encrypt_file(&plain)?)),
            _ => Ok(Cow::Owned(self.ring.seal(kind, &plain)?)),
        }
    }

    fn decode<'a>(&self, kind: Kind, stored: &'a [u8]) -> Result<Cow<'a, [u8]>> {
        match kind {
            Kind::Document | Kind::Backup => {
                match self.decrypt_file(stored) {
                    // (CBC has no MAC: a wrong key passes the padding check
                    // about once in 256 tries and yields random bytes, which
                    // are neither UTF-8 nor JSON — told apart from the
                    // document here, not left for the parser to call damage)
                    Some(p) if looks_like_json_text(&p) => return Ok(Cow::Owned(p)),
                    Some(p) if self.confirmed.load(Ordering::Relaxed) => {
                        // the key is right: damage, for the caller to handle
                        return Ok(Cow::Owned(p));
                    }
                    _ => {}
                }
                // conf's fallback: a file in clear (a store that had no key
                // yet) is read as it is and encrypted on the next write
                if parse(stored).is_ok() {
                    self.plain_seen.store(true, Ordering::Relaxed);
                    return Ok(Cow::Borrowed(stored));
                }
                if self.confirmed.load(Ordering::Relaxed) || stored.is_empty() {
                    // the key is right (the journal opened with it): damage
                    return Ok(Cow::Borrowed(stored));
                }
                Err(Error::SecretKey(format!(
                    "the {} does not decrypt with the encryptionKey given (a wrong key, or the file is damaged)",
                    what_of(kind)
                )))
            }
            _ => match self.ring.open(kind, stored) {
                Some(Ok(p)) => {
                    self.confirmed.store(true, Ordering::Relaxed);
                    Ok(Cow::Owned(p))
                }
                Some(Err(e)) => Err(e),
                None => {
                    self.plain_seen.store(true, Ordering::Relaxed);
                    Ok(Cow::Borrowed(stored))
                }
            },
        }
    }

    codec_common!();
}

/// A key rotation in progress: `storeHistory/<file>.rekey`. Written (durably)
/// before the first file is re-encrypted and removed after the last, it holds
/// each key sealed under the other, so whichever of the two keys the app
/// presents after a crash, every file can be read and the rotation is
/// finished (new key) or undone (old key).
pub struct RekeyRecord {
    pub from: String,
    pub to: String,
    old_under_new: String,
    new_under_old: String,
}

pub fn rekey_path(history_dir: &Path, file_name: &str) -> PathBuf {
    history_dir.join(format!("{file_name}.rekey"))
}

fn raw_of(codec: &dyn Codec) -> Option<(RawKey, Ring)> {
    if let Some(c) = codec.as_any().downcast_ref::<crate::codec::Swap>() {
        return raw_of(&*c.get());
    }
    if let Some(c) = codec.as_any().downcast_ref::<SecretCodec>() {
        return Some((c.raw[0].clone(), c.ring.clone()));
    }
    if let Some(c) = codec.as_any().downcast_ref::<LegacyCodec>() {
        return Some((c.password.clone(), c.ring.clone()));
    }
    None
}

/// `current` (an encrypting codec) with `key` instead of its key: same
/// secret paths and layout.
pub fn rekeyed(current: &dyn Codec, key: &[u8]) -> Result<Arc<dyn Codec>> {
    if let Some(c) = current.as_any().downcast_ref::<crate::codec::Swap>() {
        return rekeyed(&*c.get(), key);
    }
    if let Some(c) = current.as_any().downcast_ref::<SecretCodec>() {
        return Ok(Arc::new(c.with_key(key)?));
    }
    if current.as_any().downcast_ref::<LegacyCodec>().is_some() {
        return Ok(Arc::new(LegacyCodec::new(key)?));
    }
    Err(Error::Unsupported(
        "rotateSecretKey needs a store opened with `secretKeys` (and `secretKey`) or `encryptionKey`".into(),
    ))
}

impl RekeyRecord {
    /// The record for rotating from `old` to `new` (both encrypting codecs).
    pub fn new(old: &dyn Codec, new: &dyn Codec) -> Result<RekeyRecord> {
        let (Some((old_raw, old_ring)), Some((new_raw, new_ring))) = (raw_of(old), raw_of(new))
        else {
            return Err(Error::Unsupported(
                "rotateSecretKey needs a store opened with secretKeys or encryptionKey".into(),
            ));
        };
        let seal = |ring: &Ring, raw: &[u8]| -> Result<String> {
            Ok(String::from_utf8(ring.seal(Kind::KeyRecord, raw)?).unwrap_or_default())
        };
        Ok(RekeyRecord {
            from: old_ring.writer().id.clone(),
            to: new_ring.writer().id.clone(),
            old_under_new: seal(&new_ring, &old_raw)?,
            new_under_old: seal(&old_ring, &new_raw)?,
        })
    }

    pub fn to_json(&self) -> Vec<u8> {
        let mut m = Map::new();
        for (k, v) in [
            ("from", &self.from),
            ("to", &self.to),
            ("oldUnderNew", &self.old_under_new),
            ("newUnderOld", &self.new_under_old),
        ] {
            m.insert(k.into(), Value::String(v.as_str().into()));
        }
        to_json(&Value::Object(Arc::new(m)), false)
    }

    pub fn from_json(bytes: &[u8]) -> Result<RekeyRecord> {
        let v = parse(bytes).map_err(|e| damaged("key record", &e.to_string()))?;
        let m = v
            .as_object()
            .ok_or_else(|| damaged("key record", "not an object"))?;
        let get = |k: &str| match m.get(k) {
            Some(Value::String(s)) => Ok(s.to_string()),
            _ => Err(damaged("key record", k)),
        };
        Ok(RekeyRecord {
            from: get("from")?,
            to: get("to")?,
            old_under_new: get("oldUnderNew")?,
            new_under_old: get("newUnderOld")?,
        })
    }

    /// The codec to open the store with while this record exists: `codec`
    /// (the key the app gave) also reading with the other key of the
    /// rotation. Fails with `E_SECRET_KEY` when the key is neither.
    pub fn reader(&self, codec: &dyn Codec) -> Result<Arc<dyn Codec>> {
        let Some((_, ring)) = raw_of(codec) else {
            return Err(Error::SecretKey(
                "a key rotation of this store is unfinished: open it with its secret key".into(),
            ));
        };
        let id = &ring.writer().id;
        let sealed = if *id == self.to {
            &self.old_under_new
        } else if *id == self.from {
            &self.new_under_old
        } else {
            return Err(Error::SecretKey(format!(
                "a key rotation of this store from key id {} to {} is unfinished, and the key given (id {id}) is neither",
                self.from, self.to
            )));
        };
        let other = ring
            .open(Kind::KeyRecord, sealed.as_bytes())
            .unwrap_or_else(|| Err(damaged("key record", "not sealed")))?;
        let other = Zeroizing::new(other);
        if let Some(c) = codec.as_any().downcast_ref::<SecretCodec>() {
            return Ok(Arc::new(c.with_reader(&other)));
        }
        if let Some(c) = codec.as_any().downcast_ref::<LegacyCodec>() {
            return Ok(Arc::new(c.with_reader(&other)));
        }
        unreachable!("raw_of only accepts the two encrypting codecs")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codec(key: &[u8]) -> SecretCodec {
        SecretCodec::new(
            vec![vec!["ai".into(), "apiKey".into()], vec!["token".into()]],
            vec!["ai.apiKey".into(), "token".into()],
            key,
            true,
        )
        .unwrap()
    }

    const K1: &[u8] = b"0123456789abcdef0123456789abcdef";
    const K2: &[u8] = b"fedcba9876543210fedcba9876543210";

    #[test]
    fn secret_values_are_envelopes_in_the_document_and_round_trip() {
        let c = codec(K1);
        let plain =
            br#"{"ai":{"apiKey":"sk-CANARY","model":"x"},"token":{"a":[1,2]},"theme":"dark"}"#;
        let stored = c.encode(Kind::Document, Cow::Borrowed(plain)).unwrap();
        let text = std::str::from_utf8(&stored).unwrap();
        assert!(!text.contains("CANARY"), "{text}");
        assert!(text.contains("\"model\": \"x\"") && text.contains("\"theme\": \"dark\""));
        assert_eq!(text.matches(ENVELOPE).count(), 2);
        let back = c.decode(Kind::Document, &stored).unwrap();
        assert!(parse(&back).unwrap().eq_exact(&parse(plain).unwrap()));
        assert!(!c.plain_seen());
        // a fresh nonce per write
        let again = c.encode(Kind::Document, Cow::Borrowed(plain)).unwrap();
        assert_ne!(stored, again);
    }

    #[test]
    fn a_wrong_key_is_e_secret_key_and_damage_is_not() {
        let stored = codec(K1)
            .encode(Kind::Document, Cow::Borrowed(br#"{"token":"s"}"#))
            .unwrap()
            .into_owned();
        let e = codec(K2).decode(Kind::Document, &stored).unwrap_err();
        assert_eq!(e.code(), "E_SECRET_KEY");
        let line = codec(K1)
            .encode(Kind::JournalLine, Cow::Borrowed(b"{\"seq\":1}"))
            .unwrap()
            .into_owned();
        assert!(!line.contains(&b'\n'));
        assert_eq!(
            codec(K2)
                .decode(Kind::JournalLine, &line)
                .unwrap_err()
                .code(),
            "E_SECRET_KEY"
        );
        let mut bad = line.clone();
        let n = bad.len();
        bad[n - 3] = if bad[n - 3] == b'A' { b'B' } else { b'A' };
        assert_eq!(
            codec(K1)
                .decode(Kind::JournalLine, &bad)
                .unwrap_err()
                .code(),
            "E_JOURNAL"
        );
        // an envelope moved to another secret path does not open
        let text = String::from_utf8(stored).unwrap();
        let env = parse(text.as_bytes()).unwrap();
        let token = env.as_object().unwrap().get("token").unwrap().clone();
        let mut m = Map::new();
        let mut ai = Map::new();
        ai.insert("apiKey".into(), token);
        m.insert("ai".into(), Value::Object(Arc::new(ai)));
        let swapped = to_json(&Value::Object(Arc::new(m)), true);
        assert_eq!(
            codec(K1)
                .decode(Kind::Document, &swapped)
                .unwrap_err()
                .code(),
            "E_JOURNAL"
        );
        assert_eq!(
            SecretCodec::new(vec![], vec![], b"short", true)
                .err()
                .map(|e| e.code()),
            Some("E_SECRET_KEY")
        );
    }

    #[test]
    fn plain_values_at_secret_paths_are_read_and_flagged() {
        let c = codec(K1);
        let got = c
            .decode(Kind::Document, br#"{"ai":{"apiKey":"plain"}}"#)
            .unwrap();
        assert_eq!(&*got, br#"{"ai":{"apiKey":"plain"}}"#);
        assert!(c.plain_seen());
        c.clear_plain_seen();
        c.decode(Kind::JournalLine, b"{\"seq\":1}").unwrap();
        assert!(c.plain_seen());
    }

    #[test]
    fn a_rekey_record_opens_with_either_key() {
        let old = codec(K1);
        let new = old.with_key(K2).unwrap();
        let rec = RekeyRecord::new(&old, &new).unwrap();
        let rec = RekeyRecord::from_json(&rec.to_json()).unwrap();
        let line_old = old
            .encode(Kind::JournalLine, Cow::Borrowed(b"old"))
            .unwrap()
            .into_owned();
        let line_new = new
            .encode(Kind::JournalLine, Cow::Borrowed(b"new"))
            .unwrap()
            .into_owned();
        for k in [K1, K2] {
            let r = rec.reader(&codec(k)).unwrap();
            assert_eq!(&*r.decode(Kind::JournalLine, &line_old).unwrap(), b"old");
            assert_eq!(&*r.decode(Kind::JournalLine, &line_new).unwrap(), b"new");
            // it writes with the key given
            let w = r
                .encode(Kind::JournalLine, Cow::Borrowed(b"x"))
                .unwrap()
                .into_owned();
            assert_eq!(&*codec(k).decode(Kind::JournalLine, &w).unwrap(), b"x");
        }
        let third = codec(b"another key of sixteen bytes or more");
        assert_eq!(
            rec.reader(&third).err().map(|e| e.code()),
            Some("E_SECRET_KEY")
        );
    }

    /// Drops a `T` in place and returns its bytes afterwards. (A value that
    /// holds a key schedule of a non-zero key has non-zero bytes before: only
    /// a wipe makes them all zero.)
    fn bytes_after_drop<T>(val: T) -> Vec<u8> {
        let mut val = ManuallyDrop::new(val);
        let ptr = &*val as *const T as *const u8;
        // SAFETY: `val` lives on this frame and is dropped once; its bytes are
        // read after the drop (a wipe wrote every one of them).
        unsafe {
            ManuallyDrop::drop(&mut val);
            std::slice::from_raw_parts(ptr, size_of::<T>()).to_vec()
        }
    }

    #[test]
    fn key_schedules_and_mac_states_are_wiped_on_drop() {
        let zero = |b: Vec<u8>| !b.is_empty() && b.iter().all(|x| *x == 0);
        // the whole AES-GCM state: key schedule and GHASH key
        let gcm = Wiped::new(Aes256Gcm::new_from_slice(&[0x42; 32]).unwrap());
        let nonce = Nonce::from_slice(&[1; 12]);
        assert!(gcm.encrypt(nonce, &b"works"[..]).is_ok());
        assert!(zero(bytes_after_drop(gcm)));
        // keyed HMAC and MD5 states
        let mut m = <Hmac<Sha512> as Mac>::new_from_slice(b"password").unwrap();
        m.update(b"salt");
        assert!(zero(bytes_after_drop(Wiped::new(m))));
        let mut h = <Md5 as md5::Digest>::new();
        md5::Digest::update(&mut h, b"password");
        assert!(zero(bytes_after_drop(Wiped::new(h))));
        // the CBC ciphers the legacy format builds per file: key schedule and
        // chaining block (the `aes` and `cbc` zeroize features wipe only the
        // active half of `aes`'s AES-NI/software union; `Wiped` all of it)
        let enc = Wiped::new(CbcEnc::new(&[7; 32].into(), &[9; 16].into()));
        assert!(zero(bytes_after_drop(enc)));
        let dec = Wiped::new(CbcDec::new(&[7; 32].into(), &[9; 16].into()));
        assert!(zero(bytes_after_drop(dec)));
        // and every type that holds key material says so
        fn zeroize_on_drop<T: zeroize::ZeroizeOnDrop>() {}
        zeroize_on_drop::<Wiped<Aes256Gcm>>();
        zeroize_on_drop::<Wiped<CbcEnc>>();
        zeroize_on_drop::<CbcEnc>();
        zeroize_on_drop::<CbcDec>();
        zeroize_on_drop::<aes::Aes256>();
        zeroize_on_drop::<Zeroizing<Vec<u8>>>(); // RawKey: Arc<Zeroizing<Vec<u8>>>
        zeroize_on_drop::<Zeroizing<[u8; 32]>>();
        // (the derived keys: the functions return wiped buffers)
        let _: Zeroizing<[u8; 32]> = hmac256(b"k", b"m");
        let _: Zeroizing<[u8; 32]> = legacy_key(b"k", &[0; 16]);
        let _: (Zeroizing<[u8; 32]>, Zeroizing<[u8; 16]>) = bytes_to_key(b"k");
    }

    #[test]
    fn pbkdf2_and_bytes_to_key_match_the_references() {
        for (pw, salt, rounds) in [
            (&b"abc123"[..], &b"0123456789abcdef"[..], 10_000u32),
            (b"", b"", 1),
            (b"p", b"s", 2),
            (&[0xff; 200][..], &[0x80; 16][..], 3),
        ] {
            let mut want = [0u8; 32];
            pbkdf2::pbkdf2_hmac::<Sha512>(pw, salt, rounds, &mut want);
            assert_eq!(
                *pbkdf2_sha512(pw, salt, rounds),
                want,
                "{pw:?} {salt:?} {rounds}"
            );
        }
        // EVP_BytesToKey(md5, no salt, count 1) of "abcd1234" as OpenSSL gives it
        // (`openssl enc -aes-256-cbc -md md5 -nosalt -k abcd1234 -P`)
        let (key, iv) = bytes_to_key(b"abcd1234");
        let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02X}")).collect::<String>();
        use md5::Digest;
        let d1 = Md5::digest(b"abcd1234");
        let d2 = Md5::digest([&d1[..], b"abcd1234"].concat());
        let d3 = Md5::digest([&d2[..], b"abcd1234"].concat());
        assert_eq!(hex(&key[..]), hex(&[&d1[..], &d2[..]].concat()));
        assert_eq!(hex(&iv[..]), hex(&d3[..]));
    }

    #[test]
    fn legacy_files_round_trip_and_conf_4_files_open() {
        let c = LegacyCodec::new(b"abc123").unwrap();
        let stored = c
            .encode(Kind::Document, Cow::Borrowed(b"{\"foo\":\"bar\"}"))
            .unwrap()
            .into_owned();
        assert_eq!(stored[16], b':');
        assert_eq!(c.decrypt_file(&stored).unwrap(), b"{\"foo\":\"bar\"}");
        // conf 4.1.0's file (conf's own test fixture): {"unicorn": "🦄"}, password abcd1234
        let conf4: [u8; 32] = [
            0xa9, 0x1e, 0xf7, 0x2f, 0xc0, 0xb1, 0xad, 0xe3, 0xb5, 0xaa, 0x94, 0x4d, 0xa5, 0x7a,
            0x5e, 0xbd, 0x83, 0x5e, 0x6d, 0xb4, 0xb9, 0x0f, 0xab, 0x1b, 0xef, 0x39, 0x21, 0x97,
            0x57, 0x3f, 0x17, 0xb3,
        ];
        let c4 = LegacyCodec::new(b"abcd1234").unwrap();
        let got = c4.decrypt_file(&conf4).unwrap();
        assert_eq!(parse(&got).unwrap().as_object().unwrap().len(), 1);
        // a wrong password: E_SECRET_KEY, not a silently wrong value
        let wrong = LegacyCodec::new(b"nope").unwrap();
        assert_eq!(
            wrong
                .decode(Kind::Document, &stored)
                .err()
                .map(|e| e.code()),
            Some("E_SECRET_KEY")
        );
        // a file in clear is read as conf reads it
        assert_eq!(&*wrong.decode(Kind::Document, b"{}").unwrap(), b"{}");
        // a wrong password whose decryption happens to end in valid padding
        // (about 1 in 256): still E_SECRET_KEY, never random bytes passed on
        // as a damaged document (E_CORRUPT)
        let lucky = (0u32..100_000)
            .map(|i| format!("wrong-{i}"))
            .find(|p| {
                let (key, iv) = bytes_to_key(p.as_bytes());
                cbc_decrypt(
                    Wiped::new(CbcDec::new((&*key).into(), (&*iv).into())),
                    &conf4,
                )
                .is_some()
            })
            .expect("a password whose padding checks out");
        let lucky = LegacyCodec::new(lucky.as_bytes()).unwrap();
        assert!(lucky.decrypt_file(&conf4).is_some(), "the padding passes");
        assert_eq!(
            lucky.decode(Kind::Document, &conf4).err().map(|e| e.code()),
            Some("E_SECRET_KEY")
        );
        assert!(wrong.plain_seen());
    }
}
