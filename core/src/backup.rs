//! Verified backups: `backups/backup-<ISO time>-<hash8>.json` plus a
//! `.meta.json` beside it (the seed's layout and fields), both written through
//! the atomic-replace function and the codec; the backup is read back and
//! compared with what was written before older backups are pruned. A backup is
//! listed only when it is complete: its metadata (written after it) parses.

use std::borrow::Cow;
use std::path::{Component, Path, PathBuf};
use std::time::Duration;

use crate::codec::{Codec, Kind};
use crate::error::{Error, Result};
use crate::fs::{atomic_write, FileSystem};
use crate::history::iso;
use crate::value::{parse, sha256_hex, write_string, Value};

/// A backup file without metadata younger than this may still be being
/// written (by another process); older ones are removed when pruning.
const ORPHAN_AGE: Duration = Duration::from_secs(60);

/// A backup's `.meta.json`.
#[derive(Clone, Debug, PartialEq)]
pub struct Meta {
    /// File name of the store the backup was taken from.
    pub original_file: String,
    /// ISO 8601 time the backup was taken.
    pub backup_time: String,
    pub reason: String,
    /// SHA-256 (hex) of the backup file's bytes.
    pub hash: String,
    /// Size of the backup file in bytes.
    pub size: u64,
    /// The last change (journal seq) the backup holds.
    pub seq: u64,
    /// Merkle hash of the document (as in the history entries).
    pub document_hash: String,
}

impl Meta {
    /// `JSON.stringify(meta, null, 2)`, as the seed writes it.
    pub fn to_json(&self) -> Vec<u8> {
        let mut out = Vec::new();
        let field = |out: &mut Vec<u8>, k: &str, v: &str, last: bool| {
            out.extend_from_slice(b"  ");
            write_string(out, k);
            out.extend_from_slice(b": ");
            out.extend_from_slice(v.as_bytes());
            out.extend_from_slice(if last { b"\n" } else { b",\n" });
        };
        let q = |s: &str| {
            let mut b = Vec::new();
            write_string(&mut b, s);
            String::from_utf8(b).unwrap_or_default()
        };
        out.extend_from_slice(b"{\n");
        field(&mut out, "originalFile", &q(&self.original_file), false);
        field(&mut out, "backupTime", &q(&self.backup_time), false);
        field(&mut out, "reason", &q(&self.reason), false);
        field(&mut out, "hash", &q(&self.hash), false);
        field(&mut out, "size", &self.size.to_string(), false);
        field(&mut out, "seq", &self.seq.to_string(), false);
        field(&mut out, "documentHash", &q(&self.document_hash), true);
        out.push(b'}');
        out
    }

    pub fn from_json(bytes: &[u8]) -> Option<Meta> {
        let v = parse(bytes).ok()?;
        let m = v.as_object()?;
        let s = |k: &str| match m.get(k) {
            Some(Value::String(s)) => Some(s.to_string()),
            _ => None,
        };
        let n = |k: &str| match m.get(k) {
            Some(Value::Number(n)) if *n >= 0.0 => Some(*n as u64),
            _ => None,
        };
        Some(Meta {
            original_file: s("originalFile").unwrap_or_default(),
            backup_time: s("backupTime")?,
            reason: s("reason").unwrap_or_default(),
            hash: s("hash")?,
            size: n("size").unwrap_or(0),
            seq: n("seq").unwrap_or(0),
            document_hash: s("documentHash").unwrap_or_default(),
        })
    }
}

/// One backup in the directory.
#[derive(Clone, Debug)]
pub struct Info {
    pub file: String,
    pub path: PathBuf,
    /// `None` when the `.meta.json` is missing or unreadable.
    pub meta: Option<Meta>,
}

fn is_backup_name(name: &str) -> bool {
    name.starts_with("backup-")
        && name.ends_with(".json")
        && !name.ends_with(".meta.json")
        && !name.contains('/')
        && !name.contains('\\')
}

/// `backup-<ISO time with ':' and '.' as '-'>-<first 8 hex of sha256>.json`
pub fn file_name(time_ms: f64, hash: &str) -> String {
    let t = iso(time_ms).replace([':', '.'], "-");
    format!("backup-{t}-{}.json", &hash[..8.min(hash.len())])
}

/// What to record about the document being backed up.
pub struct Source<'a> {
    /// The document's JSON text (plain; the codec encodes it).
    pub bytes: &'a [u8],
    /// The SHA-256 (hex) `bytes` should have, when known (the store file's
    /// bytes, whose hash the log keeps): when the codec stores them as they
    /// are, it is the backup's hash, checked on the bytes read back (one pass:
    /// that read proves the backup holds exactly the known file).
    pub sha: Option<&'a str>,
    /// `bytes` are known to have `sha` (read from the store file while its
    /// stamp showed it untouched): the read-back is compared, not hashed.
    pub sha_checked: bool,
    pub original_file: &'a str,
    pub reason: &'a str,
    pub seq: u64,
    pub document_hash: &'a str,
}

/// Writes a backup and its metadata atomically, reads it back to check it,
/// then prunes the oldest backups beyond `keep`. Returns the new backup. On any
/// failure nothing half-written is left to be listed.
pub fn create(
    fs: &dyn FileSystem,
    codec: &dyn Codec,
    dir: &Path,
    src: &Source<'_>,
    mode: u32,
    keep: usize,
) -> Result<Info> {
    crate::fs::ensure_private_dir(fs, dir)?;
    // strictly after the newest backup, so "newest first" is never a tie
    let newest = list(fs, codec, dir, Some(src.original_file))?
        .first()
        .and_then(|b| b.meta.as_ref())
        .and_then(|m| parse_iso(&m.backup_time));
    let now = match newest {
        Some(t) => crate::journal::now_ms().max(t + 1.0),
        None => crate::journal::now_ms(),
    };
    let stored = codec.encode(Kind::Backup, Cow::Borrowed(src.bytes))?;
    let expected = match (&stored, src.sha) {
        (Cow::Borrowed(b), Some(sha))
            if b.as_ptr() == src.bytes.as_ptr() && b.len() == src.bytes.len() =>
        {
            Some(sha)
        }
        _ => None,
    };
    let hash = match expected {
        Some(sha) => sha.to_string(),
        None => sha256_hex(&stored),
    };
    let file = file_name(now, &hash);
    let path = dir.join(&file);
    atomic_write(fs, &path, &stored, mode)?;
    let written = fs
        .read(&path)
        .map_err(Error::io("read back backup", &path))?;
    let intact = match expected {
        // (the bytes were not hashed before: this also proves they were the
        // ones expected)
        Some(_) if src.sha_checked => written == *stored,
        Some(sha) => written.len() == stored.len() && sha256_hex(&written) == sha,
        None => written == *stored,
    };
    if !intact {
        let _ = fs.remove_file(&path);
        return Err(Error::BackupCorrupt(format!(
            "The backup {} did not read back with the content written; it was removed and no older backup was pruned",
            path.display()
        )));
    }
    let meta = Meta {
        original_file: src.original_file.to_string(),
        backup_time: iso(now),
        reason: src.reason.to_string(),
        hash,
        size: stored.len() as u64,
        seq: src.seq,
        document_hash: src.document_hash.to_string(),
    };
    let meta_bytes = codec.encode(Kind::BackupMeta, Cow::Owned(meta.to_json()))?;
    if let Err(e) = atomic_write(fs, &meta_path(&path), &meta_bytes, mode) {
        // without its metadata the backup cannot be verified: do not keep it
        let _ = fs.remove_file(&path);
        return Err(e);
    }
    prune(fs, codec, dir, keep, &meta.original_file)?;
    Ok(Info {
        file,
        path,
        meta: Some(meta),
    })
}

/// Milliseconds since the epoch of an ISO time as `iso` writes it.
fn parse_iso(t: &str) -> Option<f64> {
    // YYYY-MM-DDTHH:MM:SS.mmmZ
    let b = t.as_bytes();
    if b.len() != 24 || b[10] != b'T' || b[23] != b'Z' {
        return None;
    }
    let n = |r: std::ops::Range<usize>| t.get(r)?.parse::<i64>().ok();
    let (y, mo, d) = (n(0..4)?, n(5..7)?, n(8..10)?);
    let (h, mi, s, ms) = (n(11..13)?, n(14..16)?, n(17..19)?, n(20..23)?);
    // days from civil (Howard Hinnant)
    let y2 = if mo <= 2 { y - 1 } else { y };
    let era = y2.div_euclid(400);
    let yoe = y2 - era * 400;
    let mp = (mo + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some((((days * 24 + h) * 60 + mi) * 60 + s) as f64 * 1000.0 + ms as f64)
}

fn meta_path(backup: &Path) -> PathBuf {
    let mut s = backup.as_os_str().to_owned();
    s.push(".meta.json");
    PathBuf::from(s)
}

fn read_meta(fs: &dyn FileSystem, codec: &dyn Codec, backup: &Path) -> Option<Meta> {
    let bytes = fs.read(&meta_path(backup)).ok()?;
    let plain = codec.decode(Kind::BackupMeta, &bytes).ok()?;
    Meta::from_json(&plain)
}

/// The complete backups in `dir` (metadata readable), newest first. With `original`, only those of that store file
/// (several stores may share a directory).
pub fn list(
    fs: &dyn FileSystem,
    codec: &dyn Codec,
    dir: &Path,
    original: Option<&str>,
) -> Result<Vec<Info>> {
    let names = match fs.read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Error::io("list backups in", dir)(e)),
    };
    let mut out = Vec::new();
    for name in names {
        if !is_backup_name(&name) {
            continue;
        }
        let path = dir.join(&name);
        let Some(meta) = read_meta(fs, codec, &path) else {
            continue;
        };
        if original.is_some_and(|o| meta.original_file != o) {
            continue;
        }
        // the metadata is written once the backup is durably in place, so a
        // readable one means the backup was complete (its content is checked
        // against the recorded hash when it is read)
        if fs.stat(&path, false).is_ok_and(|s| s.is_file) {
            out.push(Info {
                file: name,
                path,
                meta: Some(meta),
            });
        }
    }
    out.sort_by(|a, b| {
        let t = |i: &Info| {
            i.meta
                .as_ref()
                .map(|m| m.backup_time.clone())
                .unwrap_or_default()
        };
        t(b).cmp(&t(a)).then_with(|| b.file.cmp(&a.file))
    });
    Ok(out)
}

/// The backups of the store file `original`, newest first.
pub fn list_of(
    fs: &dyn FileSystem,
    codec: &dyn Codec,
    dir: &Path,
    original: &str,
) -> Result<Vec<Info>> {
    list(fs, codec, dir, Some(original))
}

/// `resolve`, and the backup must belong to the store file `original`.
pub fn resolve_of(
    fs: &dyn FileSystem,
    codec: &dyn Codec,
    dir: &Path,
    name_or_path: &str,
    original: &str,
) -> Result<PathBuf> {
    let path = resolve(fs, dir, name_or_path)?;
    let belongs = read_meta(fs, codec, &path).is_none_or(|m| m.original_file == original);
    if !belongs {
        return Err(Error::BackupNotFound(format!(
            "The backup {name_or_path:?} belongs to another store in {} (not {original})",
            dir.display()
        )));
    }
    Ok(path)
}

/// Deletes the backups of `original` (and their metadata) beyond the `keep`
/// newest, metadata whose backup is gone, and backups of any store that have
/// had no metadata for a minute (a crash between the two writes).
pub fn prune(
    fs: &dyn FileSystem,
    codec: &dyn Codec,
    dir: &Path,
    keep: usize,
    original: &str,
) -> Result<usize> {
    let all = list_of(fs, codec, dir, original)?;
    let mut removed = 0;
    if let Ok(names) = fs.read_dir(dir) {
        for name in names {
            if let Some(b) = name.strip_suffix(".meta.json") {
                if is_backup_name(b) && fs.stat(&dir.join(b), false).is_err() {
                    let _ = fs.remove_file(&dir.join(&name));
                }
            } else if is_backup_name(&name) {
                let path = dir.join(&name);
                let orphan = fs.stat(&meta_path(&path), false).is_err();
                let old = fs
                    .stat(&path, false)
                    .ok()
                    .and_then(|s| s.modified)
                    .and_then(|m| m.elapsed().ok())
                    .is_some_and(|age| age > ORPHAN_AGE);
                if orphan && old && fs.remove_file(&path).is_ok() {
                    removed += 1;
                }
            }
        }
    }
    for info in all.iter().skip(keep) {
        // metadata first: a backup without it is no longer listed
        let _ = fs.remove_file(&meta_path(&info.path));
        if fs.remove_file(&info.path).is_ok() {
            removed += 1;
        }
    }
    Ok(removed)
}

/// Resolves a backup named by the caller: its file name, or a path that lies
/// directly in `dir` (compared without following links). Anything else — `..`,
/// another directory, a link, a non-backup file — is `E_BACKUP_NOT_FOUND`.
pub fn resolve(fs: &dyn FileSystem, dir: &Path, name_or_path: &str) -> Result<PathBuf> {
    let not_found = || {
        Error::BackupNotFound(format!(
            "No backup {name_or_path:?} in {}: give a file name from listBackups() (or its path)",
            dir.display()
        ))
    };
    let candidate = Path::new(name_or_path);
    let file = if candidate.components().count() == 1
        && matches!(candidate.components().next(), Some(Component::Normal(_)))
    {
        name_or_path.to_string()
    } else {
        if !candidate.is_absolute()
            || candidate
                .components()
                .any(|c| matches!(c, Component::ParentDir | Component::CurDir))
        {
            return Err(not_found());
        }
        let parent = candidate.parent().ok_or_else(not_found)?;
        if parent != dir {
            return Err(not_found());
        }
        candidate
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .ok_or_else(not_found)?
    };
    if !is_backup_name(&file) {
        return Err(not_found());
    }
    let path = dir.join(&file);
    match fs.stat(&path, false) {
        Ok(m) if m.is_file && !m.is_symlink => Ok(path),
        _ => Err(not_found()),
    }
}

/// Reads a backup, checking it against its metadata's hash; returns the
/// document and the metadata.
pub fn read_verified(fs: &dyn FileSystem, codec: &dyn Codec, path: &Path) -> Result<(Value, Meta)> {
    let corrupt =
        |why: String| Error::BackupCorrupt(format!("The backup {} {why}", path.display()));
    let meta = read_meta(fs, codec, path).ok_or_else(|| {
        corrupt("has no readable .meta.json, so its content cannot be verified".into())
    })?;
    let stored = fs.read(path).map_err(Error::io("read backup", path))?;
    let got = sha256_hex(&stored);
    if got != meta.hash {
        return Err(corrupt(format!(
            "does not match its recorded hash (sha256 {got}, recorded {})",
            meta.hash
        )));
    }
    let plain = codec
        .decode(Kind::Backup, &stored)
        .map_err(|e| corrupt(format!("cannot be decoded: {e}")))?;
    let v = parse(&plain).map_err(|e| corrupt(format!("does not parse: {e}")))?;
    if v.as_object().is_none() {
        return Err(corrupt("is not a JSON object".into()));
    }
    Ok((v, meta))
}

/// What re-encrypting a directory of backups did.
#[derive(Debug, Default)]
pub struct Reencoded {
    pub rotated: usize,
    /// Backups that could not be re-encrypted (left as they were), and why.
    pub failed: Vec<(PathBuf, Error)>,
}

/// Re-encodes every backup of `original` in `dir` (and its metadata) from
/// `old` to `new` in place, each file replaced atomically: the content first,
/// then the metadata with the content's new hash. (A crash between the two
/// leaves a backup whose recorded hash is stale; the key rotation that called
/// this is then unfinished and does it again at the next open.) Backups whose
/// metadata is sealed under a key `old` does not hold are reported.
pub fn reencode_all(
    fs: &dyn FileSystem,
    old: &dyn Codec,
    new: &dyn Codec,
    dir: &Path,
    original: &str,
    mode: u32,
) -> Reencoded {
    let mut out = Reencoded::default();
    let names = match fs.read_dir(dir) {
        Ok(n) => n,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return out,
        Err(e) => {
            out.failed
                .push((dir.to_path_buf(), Error::io("list backups in", dir)(e)));
            return out;
        }
    };
    for name in names {
        if !is_backup_name(&name) {
            continue;
        }
        let path = dir.join(&name);
        let mpath = meta_path(&path);
        let one = || -> Result<bool> {
            let Ok(meta_stored) = fs.read(&mpath) else {
                return Ok(false);
            };
            let meta_plain = old.decode(Kind::BackupMeta, &meta_stored)?;
            let Some(mut meta) = Meta::from_json(&meta_plain) else {
                return Ok(false);
            };
            if meta.original_file != original {
                return Ok(false);
            }
            let stored = fs.read(&path).map_err(Error::io("read backup", &path))?;
            let plain = old.decode(Kind::Backup, &stored)?;
            let again = new.encode(Kind::Backup, Cow::Borrowed(&plain))?;
            atomic_write(fs, &path, &again, mode)?;
            meta.hash = sha256_hex(&again);
            meta.size = again.len() as u64;
            let meta_again = new.encode(Kind::BackupMeta, Cow::Owned(meta.to_json()))?;
            atomic_write(fs, &mpath, &meta_again, mode)?;
            Ok(true)
        };
        match one() {
            Ok(true) => out.rotated += 1,
            Ok(false) => {}
            Err(e) => out.failed.push((path, e)),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::Plain;
    use crate::fs::RealFs;

    fn src(bytes: &[u8]) -> Source<'_> {
        Source {
            bytes,
            sha: None,
            sha_checked: false,
            original_file: "config.json",
            reason: "test",
            seq: 3,
            document_hash: "ab",
        }
    }

    fn create(d: &Path, s: &Source<'_>, keep: usize) -> Result<Info> {
        super::create(&RealFs, &Plain, d, s, 0o600, keep)
    }

    #[test]
    fn create_list_verify_and_prune() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().join("backups");
        let mut made = Vec::new();
        for i in 0..5 {
            let body = format!("{{\"n\":{i}}}");
            made.push(create(&d, &src(body.as_bytes()), 3).unwrap());
            std::thread::sleep(Duration::from_millis(3));
        }
        let all = list(&RealFs, &Plain, &d, None).unwrap();
        assert_eq!(all.len(), 3, "pruned to 3");
        assert_eq!(all[0].file, made[4].file, "newest first");
        let (v, meta) = read_verified(&RealFs, &Plain, &all[0].path).unwrap();
        assert_eq!(crate::value::to_json(&v, false), b"{\"n\":4}");
        assert_eq!(meta.seq, 3);
        assert!(all[0].file.starts_with("backup-") && all[0].file.contains('T'));
        // 3 backups + 3 metas
        assert_eq!(std::fs::read_dir(&d).unwrap().count(), 6);
        // tampering is detected
        std::fs::write(&all[1].path, b"{\"n\":99}").unwrap();
        assert_eq!(
            read_verified(&RealFs, &Plain, &all[1].path)
                .unwrap_err()
                .code(),
            "E_BACKUP_CORRUPT"
        );
    }

    #[test]
    fn iso_times_parse_back() {
        for ms in [
            0.0,
            951_782_400_000.0,
            1_795_678_408_748.0,
            4_102_444_799_999.0,
        ] {
            assert_eq!(parse_iso(&iso(ms)), Some(ms));
        }
    }

    #[test]
    fn names_outside_the_directory_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().join("backups");
        let b = create(&d, &src(b"{}"), 10).unwrap();
        assert_eq!(resolve(&RealFs, &d, &b.file).unwrap(), b.path);
        assert_eq!(
            resolve(&RealFs, &d, b.path.to_str().unwrap()).unwrap(),
            b.path
        );
        std::fs::write(dir.path().join("backup-evil.json"), b"{}").unwrap();
        #[cfg(unix)]
        std::os::unix::fs::symlink(
            dir.path().join("backup-evil.json"),
            d.join("backup-link.json"),
        )
        .unwrap();
        let outside = dir.path().join("backup-evil.json");
        for bad in [
            "../backup-evil.json",
            outside.to_str().unwrap(),
            "backup-link.json",
            "backup-missing.json",
            "config.json",
            &format!("{}.meta.json", b.file),
            &format!("{}/../backups/{}", d.display(), b.file),
            "",
            ".",
        ] {
            assert_eq!(
                resolve(&RealFs, &d, bad).unwrap_err().code(),
                "E_BACKUP_NOT_FOUND",
                "{bad}"
            );
        }
    }
}
