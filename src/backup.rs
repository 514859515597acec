//! Verified backups: `backups/backup-<ISO time>-<hash8>.json` plus a
//! `.meta.json` beside it (the seed's layout and fields), both written through
//! the atomic-replace function, the backup re-read and checked against its hash
//! before older backups are pruned.

use std::fs;
use std::path::{Component, Path, PathBuf};

use crate::error::{Error, Result};
use crate::fsutil::{atomic_write, ensure_dir};
use crate::history::iso;
use crate::value::{parse, sha256_hex, write_string, Value};

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
    pub bytes: &'a [u8],
    pub original_file: &'a str,
    pub reason: &'a str,
    pub seq: u64,
    pub document_hash: &'a str,
    /// SHA-256 (hex) of `bytes` when the caller already has it.
    pub hash: Option<&'a str>,
}

/// Writes a backup and its metadata atomically, re-reads it to check its hash,
/// then prunes the oldest backups beyond `keep`. Returns the new backup.
pub fn create(dir: &Path, src: &Source, mode: u32, keep: usize) -> Result<Info> {
    ensure_dir(dir)?;
    let now = crate::journal::now_ms();
    let hash = src
        .hash
        .map(str::to_string)
        .unwrap_or_else(|| sha256_hex(src.bytes));
    let file = file_name(now, &hash);
    let path = dir.join(&file);
    atomic_write(&path, src.bytes, mode)?;
    let written = fs::read(&path).map_err(Error::io("read back backup", &path))?;
    if sha256_hex(&written) != hash {
        let _ = fs::remove_file(&path);
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
        size: src.bytes.len() as u64,
        seq: src.seq,
        document_hash: src.document_hash.to_string(),
    };
    atomic_write(&meta_path(&path), &meta.to_json(), mode)?;
    prune(dir, keep, &meta.original_file)?;
    Ok(Info {
        file,
        path,
        meta: Some(meta),
    })
}

fn meta_path(backup: &Path) -> PathBuf {
    let mut s = backup.as_os_str().to_owned();
    s.push(".meta.json");
    PathBuf::from(s)
}

/// The backups in `dir`, newest first (by recorded time, else by name).
pub fn list(dir: &Path) -> Result<Vec<Info>> {
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Error::io("list backups in", dir)(e)),
    };
    let mut out = Vec::new();
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if !is_backup_name(&name) {
            continue;
        }
        let path = dir.join(&name);
        let meta = fs::read(meta_path(&path))
            .ok()
            .and_then(|b| Meta::from_json(&b));
        out.push(Info {
            file: name,
            path,
            meta,
        });
    }
    out.sort_by(|a, b| {
        let ka = a
            .meta
            .as_ref()
            .map(|m| m.backup_time.as_str())
            .unwrap_or("");
        let kb = b
            .meta
            .as_ref()
            .map(|m| m.backup_time.as_str())
            .unwrap_or("");
        kb.cmp(ka).then_with(|| b.file.cmp(&a.file))
    });
    Ok(out)
}

/// The backups of the store file `original` (several stores may share a
/// directory). A backup without readable metadata is listed too (with
/// `meta: None`): it cannot be restored, and pruning removes it first.
pub fn list_of(dir: &Path, original: &str) -> Result<Vec<Info>> {
    Ok(list(dir)?
        .into_iter()
        .filter(|b| b.meta.as_ref().is_none_or(|m| m.original_file == original))
        .collect())
}

/// `resolve`, and the backup must belong to the store file `original`.
pub fn resolve_of(dir: &Path, name_or_path: &str, original: &str) -> Result<PathBuf> {
    let path = resolve(dir, name_or_path)?;
    let belongs = fs::read(meta_path(&path))
        .ok()
        .and_then(|b| Meta::from_json(&b))
        .is_none_or(|m| m.original_file == original);
    if !belongs {
        return Err(Error::BackupNotFound(format!(
            "The backup {name_or_path:?} belongs to another store in {} (not {original})",
            dir.display()
        )));
    }
    Ok(path)
}

/// Deletes the backups of `original` (and their metadata) beyond the `keep` newest.
pub fn prune(dir: &Path, keep: usize, original: &str) -> Result<usize> {
    // unreadable ones last, so they are the first to go
    let mut all = list_of(dir, original)?;
    all.sort_by_key(|b| b.meta.is_none());
    let mut removed = 0;
    // metadata whose backup is gone (a crash between the two writes)
    if let Ok(entries) = fs::read_dir(dir) {
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if let Some(b) = name.strip_suffix(".meta.json") {
                if is_backup_name(b) && !dir.join(b).exists() {
                    let _ = fs::remove_file(e.path());
                }
            }
        }
    }
    for info in all.iter().skip(keep) {
        if fs::remove_file(&info.path).is_ok() {
            removed += 1;
        }
        let _ = fs::remove_file(meta_path(&info.path));
    }
    Ok(removed)
}

/// Resolves a backup named by the caller: its file name, or a path that lies
/// directly in `dir` (compared without following links). Anything else — `..`,
/// another directory, a link, a non-backup file — is `E_BACKUP_NOT_FOUND`.
pub fn resolve(dir: &Path, name_or_path: &str) -> Result<PathBuf> {
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
    match fs::symlink_metadata(&path) {
        Ok(m) if m.file_type().is_file() => Ok(path),
        _ => Err(not_found()),
    }
}

/// Reads a backup, checking it against its metadata's hash; returns the
/// document and the metadata.
pub fn read_verified(path: &Path) -> Result<(Value, Meta)> {
    let corrupt =
        |why: String| Error::BackupCorrupt(format!("The backup {} {why}", path.display()));
    let meta = fs::read(meta_path(path))
        .ok()
        .and_then(|b| Meta::from_json(&b))
        .ok_or_else(|| {
            corrupt("has no readable .meta.json, so its content cannot be verified".into())
        })?;
    let bytes = fs::read(path).map_err(Error::io("read backup", path))?;
    let got = sha256_hex(&bytes);
    if got != meta.hash {
        return Err(corrupt(format!(
            "does not match its recorded hash (sha256 {got}, recorded {})",
            meta.hash
        )));
    }
    let v = parse(&bytes).map_err(|e| corrupt(format!("does not parse: {e}")))?;
    if v.as_object().is_none() {
        return Err(corrupt("is not a JSON object".into()));
    }
    Ok((v, meta))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn src(bytes: &[u8]) -> Source<'_> {
        Source {
            bytes,
            original_file: "config.json",
            reason: "test",
            seq: 3,
            document_hash: "ab",
            hash: None,
        }
    }

    #[test]
    fn create_list_verify_and_prune() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().join("backups");
        let mut made = Vec::new();
        for i in 0..5 {
            let body = format!("{{\"n\":{i}}}");
            made.push(create(&d, &src(body.as_bytes()), 0o600, 3).unwrap());
            std::thread::sleep(std::time::Duration::from_millis(3));
        }
        let all = list(&d).unwrap();
        assert_eq!(all.len(), 3, "pruned to 3");
        assert_eq!(all[0].file, made[4].file, "newest first");
        let (v, meta) = read_verified(&all[0].path).unwrap();
        assert_eq!(crate::value::to_json(&v, false), b"{\"n\":4}");
        assert_eq!(meta.seq, 3);
        assert!(all[0].file.starts_with("backup-") && all[0].file.contains('T'));
        // 3 backups + 3 metas
        assert_eq!(fs::read_dir(&d).unwrap().count(), 6);
        // tampering is detected
        fs::write(&all[1].path, b"{\"n\":999}").unwrap();
        assert_eq!(
            read_verified(&all[1].path).unwrap_err().code(),
            "E_BACKUP_CORRUPT"
        );
    }

    #[test]
    fn names_outside_the_directory_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().join("backups");
        let b = create(&d, &src(b"{}"), 0o600, 10).unwrap();
        assert_eq!(resolve(&d, &b.file).unwrap(), b.path);
        assert_eq!(resolve(&d, b.path.to_str().unwrap()).unwrap(), b.path);
        fs::write(dir.path().join("backup-evil.json"), b"{}").unwrap();
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
                resolve(&d, bad).unwrap_err().code(),
                "E_BACKUP_NOT_FOUND",
                "{bad}"
            );
        }
    }
}
